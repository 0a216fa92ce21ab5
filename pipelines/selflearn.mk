# make pipeline-selflearn: the study's self-learning loop. Round k: the current agent's rollouts
# on train goals -> gen-traj rejection sampling (reward 1, loops removed) -> pair-prefs against the
# current agent -> train-dpo from it. Round 0's agent is the IL agent. Each round's agent is
# evaluated on the test goals; report in $(RUN)/report-selflearn.md.
SELF_LAST := $(RUN)/self-$(SELF_ROUNDS).ckpt

$(RUN)/self-0.ckpt: $(RUN)/il.ckpt
	cp $< $@
$(RUN)/goals-self.jsonl: $(RUN)/goals-train.jsonl
	tail -n $(SELF_GOALS) $< > $@

# One round: when the agent earned no successful episode, there is nothing to learn from and the
# round's agent is the previous one (said in selflearn.log and the report).
$(RUN)/self-%.ckpt: $$(call PREVIOUS_ROUND,self) $(RUN)/goals-self.jsonl
	$(TIMED) self-gen-traj-$* $(BIN)/gen-traj $(QUIET) $(MATH) --model $< $(SELF_ARGS) $(EPISODE) --seed $(SEED)$* \
	    -o $(RUN)/self-$*.traj.jsonl.zst $(RUN)/goals-self.jsonl
	@if [ "$$($(BIN)/records $(QUIET) -c -e $(RUN)/self-$*.traj.jsonl.zst)" = 0 ]; then \
	    echo "round $*: no successful episode: the agent stays as it was" | tee -a $(RUN)/selflearn.log; \
	    cp $< $@; \
	else \
	    $(TIMED) self-pair-prefs-$* $(BIN)/pair-prefs $(QUIET) $(MATH) --ref $< --rejected sample --ref-logps --seed $(SEED)$* \
	        -o $(RUN)/self-$*.pairs.jsonl.zst $(RUN)/self-$*.traj.jsonl.zst && \
	    $(BIN)/tokenize $(QUIET) -o $(RUN)/self-$*.tok.jsonl.zst $(RUN)/self-$*.pairs.jsonl.zst && \
	    $(TIMED) self-train-dpo-$* $(BIN)/train-dpo $(QUIET) $(MATH) $(call RESUME_OR,--init $<) $(TRAIN_ARGS) $(DPO_ARGS) --seed $(SEED) \
	        --metrics $(RUN)/self-$*.metrics.jsonl -o $@ $(RUN)/self-$*.tok.jsonl.zst; \
	fi

# Round 0's agent is the IL agent (self-0.ckpt is a copy of il.ckpt): its evaluation is eval-il's,
# the same goals and seed, so it is taken from there with the arm renamed instead of played again.
$(RUN)/eval-self-0.summary.jsonl: $(RUN)/eval-il.summary.jsonl
	jq -c 'if .scope == "il" then .scope = "self-0" else . end' $< > $@.tmp
	@mv $@.tmp $@

SELF_EVALS := $(foreach k,$(shell seq 0 $(SELF_ROUNDS)),$(RUN)/eval-self-$(k).summary.jsonl)
$(RUN)/report-selflearn.md: $(SELF_EVALS)
	bash pipelines/report.sh $(RUN) "DPO self-learning, $(SELF_ROUNDS) rounds ($(SIZE), seed $(SEED))" \
	    $(foreach k,$(shell seq 0 $(SELF_ROUNDS)),self-$(k)) > $@
	@[ ! -f $(RUN)/selflearn.log ] || { echo; echo "Notes:"; sed 's/^/- /' $(RUN)/selflearn.log; } >> $@

.PHONY: pipeline-selflearn
pipeline-selflearn: $(RUN)/report-selflearn.md
	@cat $<
	@echo "report: $<"
