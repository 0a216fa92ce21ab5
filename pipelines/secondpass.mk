# make pipeline-second-pass: the relabelled stage as a size's second pass (sizes with IL_MORE_ARGS:
# SIZE=medium; or IL_MORE_ARGS=... on the command line). pipeline-relabel fine-tunes the finished
# IL agent with a small budget; here the stage takes the place of the recipe's second pass of
# imitation instead: from the first pass's agent (il-first.ckpt), with the second pass's budget and
# rate (IL_MORE_ARGS), so that the three agents below differ only in their loss and data.
# The first-pass agent plays SECOND_GOALS train goals (all of them by default) by its argmax,
# the oracle judging every state (rollout --oracle-labels); each episode is cut after its first
# divergence (relabel.mk), and each divergence gives a pair (chosen = the oracle's action,
# rejected = the agent's, the first-pass agent's log-probabilities) and a departure state (the
# oracle's action as an imitation target). Given SECOND_COPIES times each (a few hundred
# divergences beside 5,000 trajectories' decisions):
#   il            the recipe's second pass: imitation of the oracle's trajectories (common.mk)
#   second-dagger imitation of the trajectories and the departure states (DAgger)
#   second-rpo    train-dpo on the pairs (SECOND_DPO_ARGS) with the trajectories as anchors
# second-rpo's loss is second-dagger's plus the DPO term, but for train-il's oversampling of the
# option and results decisions (its default), which train-dpo does not do. Every agent is evaluated on the test goals and paired goal by goal with the first pass
# (its start) and with il (scripts/paired.sh). Report: $(RUN)/report-second.md.
# pipeline-second-pass-seeds: the same for each of SEEDS (independent: make -j runs them side by
# side), then the table over seeds: each agent's mean gain over its first pass and on how many
# seeds it beats it (pipelines/second-pass.sh): $(RUNS_ROOT)/second-pass-$(SIZE)/report.md.
ifneq ($(filter pipeline-second-pass pipeline-second-pass-seeds,$(MAKECMDGOALS)),)
  ifeq ($(IL_MORE_ARGS),)
    $(error pipeline-second-pass needs a size with a second pass of imitation (IL_MORE_ARGS: SIZE=medium))
  endif
endif
SECOND_AGENTS := il-first il second-dagger second-rpo
SECOND_COPIES ?= 16
# beta 1, as in the relabelled rounds (common.mk says why)
SECOND_DPO_ARGS ?= --beta 1 --nll-coef 1

$(RUN)/goals-second.jsonl: $(RUN)/goals-train.jsonl
	$(if $(SECOND_GOALS),head -n $(SECOND_GOALS),cat) $< > $@.tmp
	@mv $@.tmp $@
$(RUN)/second.traj.jsonl.zst: $(RUN)/il-first.ckpt $(RUN)/goals-second.jsonl
	$(TIMED) second-rollout $(BIN)/rollout $(QUIET) $(MATH) -m $< --oracle-labels --temperature 0 --seed $(SEED) $(EPISODE) \
	    -o $@ $(RUN)/goals-second.jsonl
$(RUN)/second.pairs.jsonl.zst: $(RUN)/second.first.jsonl $(RUN)/il-first.ckpt
	$(TIMED) second-pairs $(BIN)/pair-prefs $(QUIET) $(MATH) --rejected agent --ref $(word 2,$^) --ref-logps -o $@ $<

$(RUN)/second-dagger.ckpt: $(RUN)/tok-oracle.jsonl.zst $(RUN)/second.departures.tok.jsonl.zst $(RUN)/il-first.ckpt
	$(TIMED) second-train-il $(BIN)/train-il $(QUIET) $(MATH) $(call RESUME_OR,--init $(word 3,$^)) $(TRAIN_ARGS) $(IL_MORE_ARGS) \
	    --seed $(SEED) --metrics $(RUN)/second-dagger-metrics.jsonl -o $@ \
	    $< $(foreach c,$(shell seq $(SECOND_COPIES)),$(word 2,$^))
$(RUN)/second-rpo.ckpt: $(RUN)/second.tok.jsonl.zst $(RUN)/tok-oracle.jsonl.zst $(RUN)/il-first.ckpt
	$(TIMED) second-train-dpo $(BIN)/train-dpo $(QUIET) $(MATH) $(call RESUME_OR,--init $(word 3,$^)) $(TRAIN_ARGS) $(IL_MORE_ARGS) \
	    $(SECOND_DPO_ARGS) --anchors $(word 2,$^) --seed $(SEED) --metrics $(RUN)/second-rpo-metrics.jsonl -o $@ \
	    $(foreach c,$(shell seq $(SECOND_COPIES)),$<)

$(RUN)/report-second.md: $(foreach a,$(SECOND_AGENTS),$(RUN)/eval-$(a).summary.jsonl)
	{ bash pipelines/report.sh $(RUN) "The relabelled stage as the second pass ($(SIZE), seed $(SEED))" $(SECOND_AGENTS) && \
	  echo && echo "Each second pass against the first pass, its start, on the same test goals:" && echo && \
	  BIN=$(BIN) bash scripts/paired.sh $(RUN)/eval-il-first.jsonl.zst \
	    $(foreach a,il second-dagger second-rpo,$(RUN)/eval-$(a).jsonl.zst) && \
	  echo && echo "The relabelled stages against the recipe's second pass (il):" && echo && \
	  BIN=$(BIN) bash scripts/paired.sh $(RUN)/eval-il.jsonl.zst \
	    $(foreach a,second-dagger second-rpo,$(RUN)/eval-$(a).jsonl.zst); } > $@.tmp
	@mv $@.tmp $@

SECOND_SEEDS := $(addprefix second-pass-seed-,$(SEEDS))
SECOND_DIR ?= $(RUNS_ROOT)/second-pass-$(SIZE)
.PHONY: pipeline-second-pass pipeline-second-pass-seeds $(SECOND_SEEDS)
pipeline-second-pass: $(RUN)/report-second.md
	@cat $<
	@echo "report: $<"

$(SECOND_SEEDS): second-pass-seed-%: | $(PIPELINE_DEPS)
	@$(MAKE) --no-print-directory SIZE=$(SIZE) SEED=$* RUN=$(RUNS_ROOT)/$(SIZE)-s$* $(RUNS_ROOT)/$(SIZE)-s$*/report-second.md
pipeline-second-pass-seeds: $(SECOND_SEEDS)
	@mkdir -p $(SECOND_DIR)
	BIN=$(BIN) bash pipelines/second-pass.sh $(SIZE) $(foreach s,$(SEEDS),$(RUNS_ROOT)/$(SIZE)-s$(s)) > $(SECOND_DIR)/report.md.tmp
	@mv $(SECOND_DIR)/report.md.tmp $(SECOND_DIR)/report.md
	@cat $(SECOND_DIR)/report.md
	@echo "report: $(SECOND_DIR)/report.md"
