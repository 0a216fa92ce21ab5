# make pipeline-ppo: the same start, then train-ppo on its own rollouts (with the IL term on the
# oracle data); evaluated against IL and DPO, report in $(RUN)/report-ppo.md.
$(RUN)/ppo.ckpt: $(RUN)/il.ckpt $(RUN)/goals-train.jsonl $(RUN)/tok-oracle.jsonl.zst
	$(TIMED) train-ppo $(BIN)/train-ppo $(QUIET) $(MATH) $(call RESUME_OR,--init $(RUN)/il.ckpt) $(PPO_ARGS) $(EPISODE) --seed $(SEED) \
	    --il-data $(RUN)/tok-oracle.jsonl.zst --metrics $(RUN)/ppo-metrics.jsonl \
	    --rollout-log $(RUN)/ppo-rollouts.jsonl.zst -o $@ $(RUN)/goals-train.jsonl

$(RUN)/report-ppo.md: $(RUN)/eval-il.summary.jsonl $(RUN)/eval-dpo.summary.jsonl $(RUN)/eval-ppo.summary.jsonl
	bash pipelines/report.sh $(RUN) "IL, DPO and PPO ($(SIZE), seed $(SEED))" il dpo ppo > $@

.PHONY: pipeline-ppo
pipeline-ppo: $(RUN)/report-ppo.md
	@cat $<
	@echo "report: $<"
