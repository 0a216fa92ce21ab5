# Search parity: lib/webshop/search.c + lib/text/analyzer.c against the real engine WebShop uses, Anserini on
# Lucene 9 (the fat jar bundled in pyserini's PyPI package), BM25 k1=0.9 b=0.4, top 50.
#
#   make oracle-search      builds the C driver, fetches the jar once (pip download into
#                           .cache/pyserini/), compiles tests/oracle/SearchOracle.java, indexes the
#                           catalog with Anserini's IndexCollection as WebShop's setup does (into
#                           .cache/search-oracle/index), then compares, on every synthetic goal
#                           instruction and on a second set (human goals, product queries, titles,
#                           attributes, edge cases): top-10 / top-50 agreement and score bits; the
#                           analyzers on every product's contents and on every query; the
#                           tokenizers on every code point; SmallFloat and idf. Also reports the C
#                           index build time and mean search latency.
#
# Needs a JDK >= 21 (SEARCH_ORACLE_JDK), python3, zstd, jq and the catalog (WEBSHOP_DATA).
# Not run by CI. SEARCH_ORACLE_SWEEP=--no-sweep skips the code-point sweep (about 30 s).
# A large synthetic catalog (catalog-synth, catalog-convert): SEARCH_ORACLE_QUERIES=N compares the
# first N goal instructions only, without the second set (a title and attributes per product), e.g.
#   make oracle-search SEARCH_ORACLE_DATA=runs/bench-scale-100000/data SEARCH_ORACLE_QUERIES=1000
# Each catalog directory gets its own Anserini index and query files.

SEARCH_ORACLE_DATA ?= $(or $(WEBSHOP_DATA),../shared/webshop-1k)
SEARCH_ORACLE_JDK ?= $(lastword $(sort $(wildcard /usr/lib/jvm/java-2[1-9]-openjdk-* \
                        /usr/lib/jvm/temurin-2[1-9]-jdk-* /usr/lib/jvm/temurin-[3-9][0-9]-jdk-*)))
SEARCH_ORACLE_PYSERINI := 1.6.0
SEARCH_ORACLE_JAR := .cache/pyserini/anserini-1.7.1-fatjar.jar
SEARCH_ORACLE_SWEEP ?=
SEARCH_ORACLE_QUERIES ?=
SO_KEY := $(subst /,_,$(abspath $(SEARCH_ORACLE_DATA)))
SO_CACHE := .cache/search-oracle/$(SO_KEY)
SO_OUT := $(BUILD)/oracle-search
SO_QUERIES := $(SO_OUT)/$(SO_KEY)

.PHONY: oracle-search

$(SEARCH_ORACLE_JAR):
	python3 tests/oracle/search_parity.py fetch-jar $(SEARCH_ORACLE_PYSERINI) $@

$(SO_CACHE)/classes/SearchOracle.class: tests/oracle/SearchOracle.java $(SEARCH_ORACLE_JAR)
	@test -x "$(SEARCH_ORACLE_JDK)/bin/javac" || \
	    { echo "oracle-search: needs a JDK >= 21; set SEARCH_ORACLE_JDK=/path/to/jdk" >&2; exit 1; }
	@mkdir -p $(@D)
	$(SEARCH_ORACLE_JDK)/bin/javac -nowarn -cp $(SEARCH_ORACLE_JAR) -d $(@D) $<

# The index as WebShop's search_engine/run_indexing.sh builds it (input in a temporary folder).
$(SO_CACHE)/index.built: $(SEARCH_ORACLE_JAR) $(SEARCH_ORACLE_DATA)/products.jsonl.zst
	@test -x "$(SEARCH_ORACLE_JDK)/bin/java" || \
	    { echo "oracle-search: needs a JDK >= 21; set SEARCH_ORACLE_JDK=/path/to/jdk" >&2; exit 1; }
	rm -rf $(SO_CACHE)/index
	tmp=$$(mktemp -d) && zstd -dcq < $(SEARCH_ORACLE_DATA)/products.jsonl.zst > $$tmp/documents.jsonl && \
	$(SEARCH_ORACLE_JDK)/bin/java -cp $(SEARCH_ORACLE_JAR) io.anserini.index.IndexCollection \
	    -collection JsonCollection -input $$tmp -index $(SO_CACHE)/index \
	    -generator DefaultLuceneDocumentGenerator -threads 1 \
	    -storePositions -storeDocvectors -storeRaw >$$tmp/log 2>&1; \
	rc=$$?; [ $$rc -eq 0 ] || cat $$tmp/log >&2; rm -rf $$tmp; exit $$rc
	touch $@

$(SO_OUT)/search_parity: tests/oracle/search_parity.c $(LIB_A)
	@mkdir -p $(@D)
	$(CC) $(CPPFLAGS) $(CFLAGS) $(OMP) $(WARN) $(LDFLAGS) $< $(LIB_A) $(LDLIBS) -o $@

$(SO_QUERIES)/queries-goals$(SEARCH_ORACLE_QUERIES).txt: $(BIN)/goals $(SEARCH_ORACLE_DATA)/products.jsonl.zst
	@mkdir -p $(@D)
	$(BIN)/goals --split all -q $(if $(SEARCH_ORACLE_QUERIES),-n $(SEARCH_ORACLE_QUERIES)) -d $(SEARCH_ORACLE_DATA) | \
	    jq -r .instruction > $@.tmp && mv $@.tmp $@

$(SO_QUERIES)/queries-extra.txt: $(BIN)/goals tests/oracle/search_parity.py $(SEARCH_ORACLE_DATA)/products.jsonl.zst
	@mkdir -p $(@D)
	$(BIN)/goals --split all -q --human -d $(SEARCH_ORACLE_DATA) | jq -r .instruction > $@.tmp
	python3 tests/oracle/search_parity.py extra-queries $(SEARCH_ORACLE_DATA) $@.more
	cat $@.more >> $@.tmp && rm -f $@.more && mv $@.tmp $@

SO_EXTRA := $(if $(SEARCH_ORACLE_QUERIES),,$(SO_QUERIES)/queries-extra.txt)
oracle-search: $(SO_OUT)/search_parity $(SO_CACHE)/classes/SearchOracle.class $(SO_CACHE)/index.built \
               $(SO_QUERIES)/queries-goals$(SEARCH_ORACLE_QUERIES).txt $(SO_EXTRA)
	python3 tests/oracle/search_parity.py run --java $(SEARCH_ORACLE_JDK)/bin/java \
	    --jar $(SEARCH_ORACLE_JAR) --classes $(SO_CACHE)/classes --index $(SO_CACHE)/index \
	    --c-driver $(SO_OUT)/search_parity --data $(SEARCH_ORACLE_DATA) \
	    --queries goals=$(SO_QUERIES)/queries-goals$(SEARCH_ORACLE_QUERIES).txt $(if $(SO_EXTRA),--queries extra=$(SO_EXTRA)) \
	    $(SEARCH_ORACLE_SWEEP)
