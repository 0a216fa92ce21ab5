# make pipeline-dpo: goals -> gen-traj (oracle) -> tokenize -> train-il -> pair-prefs -> train-dpo
# -> thompson-eval (IL vs DPO), report in $(RUN)/report-dpo.md.
# The pairs come from the first PAIR_TRAJ oracle trajectories: the reference scores every state
# they hold, and a large imitation set has far more states than DPO's updates use.
$(RUN)/traj-pairs.jsonl.zst: $(RUN)/traj-oracle.jsonl.zst
	$(BIN)/records $(QUIET) -n $(PAIR_TRAJ) -o $@ $<
$(RUN)/pairs.jsonl.zst: $(RUN)/traj-pairs.jsonl.zst $(RUN)/il.ckpt
	$(TIMED) pair-prefs $(BIN)/pair-prefs $(QUIET) $(MATH) --ref $(RUN)/il.ckpt --rejected sample --ref-logps --seed $(SEED) \
	    -o $@ $<
$(RUN)/tok-pairs.jsonl.zst: $(RUN)/pairs.jsonl.zst
	$(TIMED) tokenize-pairs $(BIN)/tokenize $(QUIET) -o $@ $<
$(RUN)/dpo.ckpt: $(RUN)/tok-pairs.jsonl.zst $(RUN)/il.ckpt
	$(TIMED) train-dpo $(BIN)/train-dpo $(QUIET) $(MATH) $(call RESUME_OR,--init $(RUN)/il.ckpt) $(TRAIN_ARGS) $(DPO_ARGS) --seed $(SEED) \
	    --metrics $(RUN)/dpo-metrics.jsonl -o $@ $<

$(RUN)/thompson-dpo.md: $(RUN)/il.ckpt $(RUN)/dpo.ckpt $(RUN)/goals-eval.jsonl
	$(TIMED) thompson-dpo $(BIN)/thompson-eval $(QUIET) $(MATH) --arm il=$(RUN)/il.ckpt --arm dpo=$(RUN)/dpo.ckpt $(TS_ARGS) \
	    $(EPISODE) --seed $(SEED) --summary $(RUN)/thompson-dpo.summary.jsonl --plots $(RUN)/plots-dpo \
	    --table $@.tmp -o $(RUN)/thompson-dpo.jsonl.zst $(RUN)/goals-eval.jsonl
	@mv $@.tmp $@

$(RUN)/report-dpo.md: $(RUN)/eval-il.summary.jsonl $(RUN)/eval-dpo.summary.jsonl $(RUN)/thompson-dpo.md
	bash pipelines/report.sh --thompson dpo $(RUN) "IL vs DPO ($(SIZE), seed $(SEED))" il dpo > $@

.PHONY: pipeline-dpo
pipeline-dpo: $(RUN)/report-dpo.md
	@cat $<
	@echo "report: $<"
