# Parity of lib/webshop/env (observations text and text_rich, valid-action lists) with WebShop's own
# text environment, by replaying our episodes in it (tests/oracle/webshop_replay.py). Included by
# the top Makefile. Not run by CI (it needs PyPI and WebShop's code from GitHub).
#   make oracle-webshop   plays the test goals with the oracle and the random policy in both
#                         observation modes, replays each episode in WebShop's environment and
#                         prints, per run, the episodes with an observation or action-list mismatch;
#                         then again with a search typed at a random later step of each episode
#                         (--detour). About 10 minutes on 2 cores for the 500 goals.
# WEBSHOP_SRC: a checkout of princeton-nlp/WebShop (cloned into .cache/ when absent); the venv
# gets WebShop's pinned Flask and BeautifulSoup. WEBSHOP_REPLAY_GOALS limits the goals (-n).
WEBSHOP_SRC   ?= .cache/WebShop
WEBSHOP_VENV  ?= .cache/venv-webshop
WEBSHOP_REPLAY_GOALS ?= 500
WS_REPLAY_DATA = $(or $(WEBSHOP_DATA),../shared/webshop-1k)
WS_REPLAY_OUT := $(BUILD)/oracle-webshop

$(WEBSHOP_SRC)/web_agent_site/envs/web_agent_text_env.py:
	git clone --depth 1 https://github.com/princeton-nlp/WebShop $(WEBSHOP_SRC)

$(WEBSHOP_VENV)/bin/python:
	python3 -m venv $(WEBSHOP_VENV)
	$(WEBSHOP_VENV)/bin/pip install -q beautifulsoup4==4.11.1 Flask==2.1.2 Werkzeug==2.1.2 Jinja2==3.1.2

.PHONY: oracle-webshop
oracle-webshop: all $(WEBSHOP_SRC)/web_agent_site/envs/web_agent_text_env.py $(WEBSHOP_VENV)/bin/python
	@mkdir -p $(WS_REPLAY_OUT)
	@status=0; for policy in oracle random; do for obs in text text_rich; do \
	    $(BIN)/goals -q -d $(WS_REPLAY_DATA) -s test -n $(WEBSHOP_REPLAY_GOALS) | \
	        $(BIN)/rollout -q -d $(WS_REPLAY_DATA) -p $$policy --obs $$obs -o $(WS_REPLAY_OUT)/$$policy-$$obs.jsonl.zst && \
	    echo "== $$policy policy, $$obs" && \
	    for detour in "" --detour; do \
	        $(WEBSHOP_VENV)/bin/python tests/oracle/webshop_replay.py --webshop $(WEBSHOP_SRC) --env $(BIN)/webshop-env \
	            --data $(WS_REPLAY_DATA) --show 2 $$detour $(WS_REPLAY_OUT)/$$policy-$$obs.jsonl.zst || status=1; \
	    done; \
	done; done; exit $$status
