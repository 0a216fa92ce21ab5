# make pipeline-paper: IL, PPO, DPO on oracle-generated data and DPO self-learning, each with
# SEEDS, side by side: docs-ready table with mean and spread over the seeds, and wall times.
PAPER_DIR ?= $(RUNS_ROOT)/paper-$(SIZE)

.PHONY: pipeline-paper
pipeline-paper:
	@for s in $(SEEDS); do \
	    $(MAKE) --no-print-directory SIZE=$(SIZE) SEED=$$s RUN=$(RUNS_ROOT)/$(SIZE)-s$$s \
	        $(RUNS_ROOT)/$(SIZE)-s$$s/report-dpo.md $(RUNS_ROOT)/$(SIZE)-s$$s/report-ppo.md \
	        $(RUNS_ROOT)/$(SIZE)-s$$s/report-selflearn.md || exit 1; \
	done
	@mkdir -p $(PAPER_DIR)
	bash pipelines/paper.sh $(PAPER_DIR) $(SIZE) "$(SELF_ROUNDS)" $(foreach s,$(SEEDS),$(RUNS_ROOT)/$(SIZE)-s$(s)) \
	    > $(PAPER_DIR)/report.md
	@cat $(PAPER_DIR)/report.md
