# make pipeline-relabel: expert-relabelled on-policy preferences (beyond the study). The study's
# self-learning keeps only episodes its agent already wins; here the agent's mistakes are the data.
# Round k: the current agent plays RELABEL_GOALS train goals by sampling and the oracle says at
# every state it reaches what it would do from there (rollout --oracle-labels) -> a pair wherever
# the two differ, chosen = the oracle's action, rejected = the agent's, with the current agent's
# log-probabilities (pair-prefs --rejected agent) -> train-dpo from the current agent
# (RELABEL_DPO_ARGS) on the pairs, with every state of the rollout as an anchor (the oracle's
# action as an imitation target, tokenize --oracle-target: train-dpo --anchors), without which the
# one-sided pairs (Buy Now rejected on wrong products, never chosen) teach the agent not to buy.
# Round 0's agent is the IL agent. Beside it, DAgger: imitation from the IL agent of the same
# round-1 anchors alone, the same number of updates, so the report says what the preference loss
# adds over relabelled imitation. Every agent is evaluated on the test goals and paired with the IL agent goal by goal
# (scripts/paired.sh: exact McNemar test, score difference). Report: $(RUN)/report-relabel.md.
RELABEL_AGENTS := $(foreach k,$(shell seq 0 $(RELABEL_ROUNDS)),relabel-$(k)) dagger

$(RUN)/relabel-0.ckpt: $(RUN)/il.ckpt
	cp $< $@
# The last RELABEL_GOALS train goals: the imitation data's trajectories come from the first ones.
$(RUN)/goals-relabel.jsonl: $(RUN)/goals-train.jsonl
	tail -n $(RELABEL_GOALS) $< > $@

.SECONDEXPANSION:
$(RUN)/relabel-%.traj.jsonl.zst: $$(RUN)/relabel-$$(shell echo $$$$(($$* - 1))).ckpt $(RUN)/goals-relabel.jsonl
	$(TIMED) relabel-rollout-$* $(BIN)/rollout $(QUIET) -m $< --oracle-labels --temperature 1 --seed $(SEED)$* $(EPISODE) \
	    -o $@ $(RUN)/goals-relabel.jsonl
$(RUN)/relabel-%.pairs.jsonl.zst: $(RUN)/relabel-%.traj.jsonl.zst $$(RUN)/relabel-$$(shell echo $$$$(($$* - 1))).ckpt
	$(TIMED) relabel-pairs-$* $(BIN)/pair-prefs $(QUIET) --rejected agent --ref $(word 2,$^) --ref-logps -o $@ $<
$(RUN)/relabel-%.tok.jsonl.zst: $(RUN)/relabel-%.pairs.jsonl.zst
	$(BIN)/tokenize $(QUIET) -o $@ $<
$(RUN)/relabel-%.anchors.jsonl.zst: $(RUN)/relabel-%.traj.jsonl.zst
	$(BIN)/tokenize $(QUIET) --oracle-target -o $@ $<
$(RUN)/relabel-%.ckpt: $(RUN)/relabel-%.tok.jsonl.zst $$(RUN)/relabel-$$(shell echo $$$$(($$* - 1))).ckpt $(RUN)/relabel-%.anchors.jsonl.zst
	$(TIMED) relabel-train-dpo-$* $(BIN)/train-dpo $(QUIET) $(call RESUME_OR,--init $(word 2,$^)) $(TRAIN_ARGS) $(RELABEL_DPO_ARGS) \
	    --anchors $(word 3,$^) --seed $(SEED) --metrics $(RUN)/relabel-$*.metrics.jsonl -o $@ $<

$(RUN)/dagger.ckpt: $(RUN)/relabel-1.anchors.jsonl.zst $(RUN)/il.ckpt
	$(TIMED) dagger-train-il $(BIN)/train-il $(QUIET) $(call RESUME_OR,--init $(RUN)/il.ckpt) $(TRAIN_ARGS) $(RELABEL_IL_ARGS) --seed $(SEED) \
	    --metrics $(RUN)/dagger-metrics.jsonl -o $@ $<

# Round 0 is the IL agent: its evaluation is eval-il's (same goals and seed), the arm renamed.
$(RUN)/eval-relabel-0.summary.jsonl: $(RUN)/eval-il.summary.jsonl
	jq -c 'if .scope == "il" then .scope = "relabel-0" else . end' $< > $@.tmp
	@mv $@.tmp $@

$(RUN)/report-relabel.md: $(foreach a,$(RELABEL_AGENTS),$(RUN)/eval-$(a).summary.jsonl)
	{ bash pipelines/report.sh $(RUN) "Expert-relabelled preferences, $(RELABEL_ROUNDS) rounds, and DAgger ($(SIZE), seed $(SEED))" \
	    $(RELABEL_AGENTS) && echo && echo "Each agent against the IL agent on the same test goals:" && echo && \
	  BIN=$(BIN) bash scripts/paired.sh $(RUN)/eval-il.jsonl.zst \
	    $(foreach a,$(filter-out relabel-0,$(RELABEL_AGENTS)),$(RUN)/eval-$(a).jsonl.zst); } > $@.tmp
	@mv $@.tmp $@

.PHONY: pipeline-relabel
pipeline-relabel: $(RUN)/report-relabel.md
	@cat $<
	@echo "report: $<"
