# Forward parity of the C model with an independent float64 numpy implementation on the
# pre-trained MiniLM weights (make model first). Included by the top Makefile.
#   make oracle-model
MODEL_ORACLE_DRIVER := $(BUILD)/tests/oracle/model_driver
MODEL_ORACLE_DIR := $(BUILD)/oracle-model

$(MODEL_ORACLE_DRIVER): tests/oracle/model_driver.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(OMP) $(WARN) $(LDFLAGS) $< $(LIB_A) $(LDLIBS) -o $@

.PHONY: oracle-model
oracle-model: $(MODEL_ORACLE_DRIVER) all
	@test -f models/minilm-l6/model.safetensors || { echo "run make model first"; exit 1; }
	@python3 -c 'import numpy, safetensors' 2>/dev/null || python3 -m pip install -q numpy safetensors
	@mkdir -p $(MODEL_ORACLE_DIR)
	$(BIN)/goals -q -s test -n 3 | $(BIN)/rollout -q -p oracle --obs text_rich | $(BIN)/tokenize -q > $(MODEL_ORACLE_DIR)/tokens.jsonl
	$(MODEL_ORACLE_DRIVER) models/minilm-l6 $(MODEL_ORACLE_DIR)/tokens.jsonl $(MODEL_ORACLE_DIR)/model.ckpt 6 \
	    > $(MODEL_ORACLE_DIR)/c.jsonl
	head -6 $(MODEL_ORACLE_DIR)/tokens.jsonl | python3 -c 'import json,sys; \
	    [print(json.dumps({"state": r["state"], "actions": r["actions"]})) for r in map(json.loads, sys.stdin)]' \
	    > $(MODEL_ORACLE_DIR)/decisions.jsonl
	python3 tests/oracle/model_reference.py $(MODEL_ORACLE_DIR)/model.ckpt $(MODEL_ORACLE_DIR)/decisions.jsonl \
	    $$(python3 -c 'import json; print(json.load(open("models/minilm-l6/config.json"))["num_attention_heads"])') \
	    > $(MODEL_ORACLE_DIR)/ref.jsonl
	python3 tests/oracle/model_parity.py $(MODEL_ORACLE_DIR)/c.jsonl $(MODEL_ORACLE_DIR)/ref.jsonl
