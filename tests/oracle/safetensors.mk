# Parity of lib/io/safetensors and lib/io/checkpoint's files with the reference safetensors package.
#   make oracle-safetensors   builds the driver, installs safetensors + numpy from PyPI into a
#                             venv under .cache/, and checks both directions (C writes / the
#                             reference reads, and the reverse, F16 and BF16 included) plus the
#                             corrupt files both must refuse.
# Not run by CI (it needs PyPI). Other safetensors versions work too: ST_PIP='safetensors numpy'.
ST_VENV   ?= .cache/venv-safetensors
ST_PY     := $(ST_VENV)/bin/python
ST_PIP    ?= safetensors==0.8.0 numpy
ST_DRIVER := $(BUILD)/tests/oracle/safetensors_driver

$(ST_DRIVER): tests/oracle/safetensors_driver.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(OMP) $(WARN) $(LDFLAGS) $< $(LIB_A) $(LDLIBS) -o $@

$(ST_PY):
	python3 -m venv $(ST_VENV)
	$(ST_PY) -m pip install -q $(ST_PIP)

.PHONY: oracle-safetensors
oracle-safetensors: $(ST_DRIVER) $(ST_PY)
	$(ST_PY) tests/oracle/safetensors_check.py --driver $(ST_DRIVER)
