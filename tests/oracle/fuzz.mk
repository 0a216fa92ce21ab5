# Parity of lib/text/textmatch (token_set_ratio, full_process, goal option text) against thefuzz and
# WebShop's normalize_color; included by the top Makefile. Needs python3 and, for the catalog
# pairs, the WebShop data (WEBSHOP_DATA, default ../shared/webshop-1k).
#   make oracle-fuzz        prints "N pairs, M mismatches"; fails on any mismatch
TM_ORACLE_DRIVER := $(BUILD)/tests/oracle/fuzz_driver
TM_ORACLE_DATA = $(or $(WEBSHOP_DATA),$(wildcard ../shared/webshop-1k))

$(TM_ORACLE_DRIVER): tests/oracle/fuzz_driver.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(OMP) $(WARN) $(LDFLAGS) $< $(LIB_A) $(LDLIBS) -o $@

.PHONY: oracle-fuzz
oracle-fuzz: $(TM_ORACLE_DRIVER)
	@python3 -c 'import thefuzz, rapidfuzz, zstandard' 2>/dev/null || \
	    python3 -m pip install -q thefuzz rapidfuzz zstandard
	python3 tests/oracle/fuzz_parity.py --driver $(TM_ORACLE_DRIVER) --data "$(TM_ORACLE_DATA)"
