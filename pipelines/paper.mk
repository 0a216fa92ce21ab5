# make pipeline-paper: IL, PPO, DPO on oracle-generated data, DPO self-learning and (beyond the
# study) the expert-relabelled preferences with DAgger beside them, each with SEEDS, side by side:
# docs-ready table with mean and spread over the seeds on the test goals and the human
# instructions, wall times, and each fine-tuned agent paired with its own IL start, seed by seed.
PAPER_DIR ?= $(RUNS_ROOT)/paper-$(SIZE)

PAPER_SEEDS := $(addprefix paper-seed-,$(SEEDS))
PAPER_AGENTS := il ppo dpo self-$(SELF_ROUNDS) relabel-$(RELABEL_ROUNDS) dagger-$(RELABEL_ROUNDS)
.PHONY: pipeline-paper $(PAPER_SEEDS)

# One seed's pipelines. Seeds share nothing, so `make -j3 pipeline-paper` runs three side by side
# (on a GPU; give each a third of the cores with OMP_NUM_THREADS). The tools and the model are
# made first, here, so that the seeds' sub-makes do not build them at the same time.
$(PAPER_SEEDS): paper-seed-%: | $(PIPELINE_DEPS)
	@$(MAKE) --no-print-directory SIZE=$(SIZE) SEED=$* RUN=$(RUNS_ROOT)/$(SIZE)-s$* \
	    $(RUNS_ROOT)/$(SIZE)-s$*/report-dpo.md $(RUNS_ROOT)/$(SIZE)-s$*/report-ppo.md \
	    $(RUNS_ROOT)/$(SIZE)-s$*/report-selflearn.md $(RUNS_ROOT)/$(SIZE)-s$*/report-relabel.md \
	    $(foreach a,$(PAPER_AGENTS),$(RUNS_ROOT)/$(SIZE)-s$*/eval-human-$(a).summary.jsonl)

pipeline-paper: $(PAPER_SEEDS)
	@mkdir -p $(PAPER_DIR)
	BIN=$(BIN) bash pipelines/paper.sh $(PAPER_DIR) $(SIZE) $(SELF_ROUNDS) $(RELABEL_ROUNDS) \
	    $(foreach s,$(SEEDS),$(RUNS_ROOT)/$(SIZE)-s$(s)) \
	    > $(PAPER_DIR)/report.md
	@cat $(PAPER_DIR)/report.md
	@echo "report: $(PAPER_DIR)/report.md"
