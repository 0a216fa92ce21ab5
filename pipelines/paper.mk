# make pipeline-paper: IL, PPO, DPO on oracle-generated data and DPO self-learning, each with
# SEEDS, side by side: docs-ready table with mean and spread over the seeds, and wall times.
PAPER_DIR ?= $(RUNS_ROOT)/paper-$(SIZE)

PAPER_SEEDS := $(addprefix paper-seed-,$(SEEDS))
.PHONY: pipeline-paper $(PAPER_SEEDS)

# One seed's pipelines. Seeds share nothing, so `make -j3 pipeline-paper` runs three side by side
# (on a GPU; give each a third of the cores with OMP_NUM_THREADS). The tools and the model are
# made first, here, so that the seeds' sub-makes do not build them at the same time.
$(PAPER_SEEDS): paper-seed-%: | $(PIPELINE_DEPS)
	@$(MAKE) --no-print-directory SIZE=$(SIZE) SEED=$* RUN=$(RUNS_ROOT)/$(SIZE)-s$* \
	    $(RUNS_ROOT)/$(SIZE)-s$*/report-dpo.md $(RUNS_ROOT)/$(SIZE)-s$*/report-ppo.md \
	    $(RUNS_ROOT)/$(SIZE)-s$*/report-selflearn.md

pipeline-paper: $(PAPER_SEEDS)
	@mkdir -p $(PAPER_DIR)
	bash pipelines/paper.sh $(PAPER_DIR) $(SIZE) "$(SELF_ROUNDS)" $(foreach s,$(SEEDS),$(RUNS_ROOT)/$(SIZE)-s$(s)) \
	    > $(PAPER_DIR)/report.md
	@cat $(PAPER_DIR)/report.md
	@echo "report: $(PAPER_DIR)/report.md"
