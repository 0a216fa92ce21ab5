# Parity of lib/text/wordpiece (BERT uncased WordPiece + WebShop's 4 added tokens) against Hugging
# Face's tokenizer (transformers' AutoTokenizer = BertTokenizerFast, from the `tokenizers` library).
#   make oracle-tokenizer         builds the driver, installs transformers/tokenizers from PyPI into
#                                 a venv under .cache/, fetches the model's vocabulary (make model)
#                                 and compares token ids on every Unicode code point, the catalog's
#                                 product texts, every goal instruction and the observations and
#                                 actions of random and oracle rollouts of all goals (text and
#                                 text_rich); prints the share of identical inputs and the C
#                                 tokenizer's tokens/s; fails unless every input agrees.
#   make oracle-tokenizer-tables  regenerates the table of Unicode differences in lib/text/wordpiece.c
#                                 (for another tokenizers version).
# Not run by CI (it needs PyPI). TOK_QUICK=1 limits the rollouts to 300 goals.
TOK_VENV    ?= .cache/venv-tok
TOK_PY      := $(TOK_VENV)/bin/python
TOK_PIP     ?= transformers==5.24.0 tokenizers==0.23.3 zstandard
TOK_VOCAB   ?= models/minilm-l6/vocab.txt
TOK_DATA    ?= $(or $(WEBSHOP_DATA),../shared/webshop-1k)
TOK_DRIVER  := $(BUILD)/tests/oracle/tokenizer_driver
TOK_RAW     := $(BUILD)/tests/oracle/tokenizer_driver_raw

$(TOK_DRIVER): tests/oracle/tokenizer_driver.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(OMP) $(WARN) $(LDFLAGS) $< $(LIB_A) $(LDLIBS) -o $@

# lib/text/wordpiece.c without its table of HF differences: what utf8proc alone gives.
$(TOK_RAW): tests/oracle/tokenizer_driver.c lib/text/wordpiece.c lib/base/err.c lib/text/wordpiece.h
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) -DWS_WORDPIECE_RAW $(CFLAGS) $(WARN) $(LDFLAGS) tests/oracle/tokenizer_driver.c \
	    lib/text/wordpiece.c lib/base/err.c $(LDLIBS) -o $@

$(TOK_PY):
	python3 -m venv $(TOK_VENV)
	$(TOK_PY) -m pip install -q $(TOK_PIP)

# The vocabulary comes with the model (models.mk); without models.mk, fetch it here.
ifeq ($(filter $(TOK_VOCAB),$(MODEL_FILES)),)
$(TOK_VOCAB):
	bash scripts/fetch_model.sh
endif

.PHONY: oracle-tokenizer oracle-tokenizer-tables
oracle-tokenizer: $(TOK_DRIVER) $(TOK_PY) $(TOK_VOCAB) $(BIN)/goals $(BIN)/rollout
	$(TOK_PY) tests/oracle/tokenizer_parity.py check --driver $(TOK_DRIVER) --vocab $(TOK_VOCAB) \
	    --bin $(BIN) --data $(TOK_DATA) --bench $(if $(TOK_QUICK),--quick)

oracle-tokenizer-tables: $(TOK_RAW) $(TOK_PY)
	$(TOK_PY) tests/oracle/tokenizer_parity.py tables --raw-driver $(TOK_RAW) --write lib/text/wordpiece.c
