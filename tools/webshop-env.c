/* webshop-env: the WebShop environment as a JSON-lines service on stdin/stdout. */
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "cli.h"
#include "env.h"
#include "goals.h"
#include "interrupt.h"
#include "nouns.h"
#include "stream.h"
#include "textmatch.h"
#include "trajectory.h"

/* The longest string the fuzz op scores: token_set_ratio's work grows with the product of the
 * two lengths (an LCS, |a| |b| / 64 word operations), so two strings at this bound take tens of
 * milliseconds, where two of 6 million characters took minutes. WebShop's texts are far shorter. */
#define FUZZ_MAX_BYTES ((size_t)64 << 10)
/* The longest request line; a longer one is answered with an error and skipped. */
#define MAX_REQUEST ((size_t)16 << 20)

static void usage(void)
{
    printf("Usage: webshop-env [OPTION]...\n"
           "Serve the WebShop environment: one JSON request per line on stdin, one JSON response\n"
           "per line on stdout (flushed after each). Requests (\"session\" defaults to \"0\"; an\n"
           "\"id\" is echoed back):\n"
           "  {\"op\":\"reset\",\"goal_id\":N}   or {\"op\":\"reset\",\"goal\":{...goal record...}}\n"
           "      options: \"human\":true (goal_id among human goals), \"max_steps\", \"obs\":\"text_rich\",\n"
           "      \"show_attributes\":true, \"mark_chosen\":true (text_rich marks exactly the chosen\n"
           "      values, not WebShop's way: docs/webshop.md, section 2)\n"
           "  {\"op\":\"step\",\"action\":\"search[...]\" or \"click[...]\"}\n"
           "  {\"op\":\"observe\"}  {\"op\":\"close\"}\n"
           "  {\"op\":\"reward\",\"goal\":{...},\"product\":{...} or \"asin\":A,\"options\":{..},\"price\":P}\n"
           "  {\"op\":\"search\",\"query\":Q}  {\"op\":\"fuzz\",\"a\":A,\"b\":B} (A, B: at most 65536 bytes)\n"
           "  {\"op\":\"normalize_color\",\"text\":T} (WebShop's: the first colour found, else T;\n"
           "      \"matched\" tells which)  {\"op\":\"nouns\",\"text\":T}\n"
           "The reward's product takes WebShop's keys (its title from \"name\", else \"Title\").\n"
           "Every response has \"ok\"; failures carry \"error\" and never stop the service; a request\n"
           "line over 16 MiB is answered with an error and skipped. SIGINT/SIGTERM end the service at\n"
           "once, during a request too (it gets no answer): exit 130/143.\n\n"
           "      --seed N         seed of prices and goals, as given to goals [" WS_DEFAULT_CATALOG_SEED_TEXT "]\n"
           "      --max-sessions N sessions open at once [1024]\n"
           "  -d, --data DIR       catalog directory [$WEBSHOP_DATA or ../shared/webshop-1k]\n"
           "  -q, --quiet          no start-up line on stderr\n"
           "      --help, --version\n\n"
           WS_CLI_EXIT_STATUS_HELP "Interrupted, the service ends at once, a request in progress unanswered.\n");
}

typedef struct session {
    char *name;
    ws_episode *ep;
} session;

typedef struct server {
    ws_cli *cli;
    ws_catalog cat;
    ws_env *env;
    ws_goal_set sets[2]; /* synthetic, human: built at the first reset by goal_id that needs one
                          * (a large catalog's goals take longer than the rest of the start) */
    int built[2];
    uint64_t seed;
    session *sessions;
    size_t n_sessions, max_sessions;
} server;

static json_t *error_response(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

static json_t *error_response(const char *fmt, ...)
{
    char msg[1200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    return json_pack("{s:b, s:s}", "ok", 0, "error", msg);
}

static const char *session_name(json_t *req, char *buf, size_t cap)
{
    json_t *s = json_object_get(req, "session");
    if (json_is_string(s))
        return json_string_value(s);
    if (json_is_integer(s)) {
        snprintf(buf, cap, "%" JSON_INTEGER_FORMAT, json_integer_value(s));
        return buf;
    }
    return s ? NULL : "0";
}

static session *find_session(server *sv, const char *name)
{
    for (size_t i = 0; i < sv->n_sessions; i++)
        if (strcmp(sv->sessions[i].name, name) == 0)
            return &sv->sessions[i];
    return NULL;
}

static json_t *state_response(ws_episode *ep)
{
    const char *obs = ws_episode_observation(ep);
    json_t *actions = ws_state_actions(ep);
    if (!obs || !actions) {
        json_decref(actions);
        return NULL;
    }
    json_t *r = json_pack("{s:b, s:s, s:s, s:o, s:b, s:b, s:i}", "ok", 1, "observation", obs, "page",
                          ws_page_name(ws_episode_page(ep)), "actions", actions, "has_search_bar",
                          ws_episode_has_search_bar(ep), "done", ws_episode_done(ep), "steps",
                          ws_episode_steps(ep));
    const ws_reward *rw = ws_episode_reward(ep);
    if (r && ws_episode_done(ep)) {
        json_object_set_new(r, "reward", json_real(rw ? rw->reward : 0.0));
        if (rw) {
            json_object_set_new(r, "reward_info", ws_reward_json(rw));
            json_object_set_new(r, "asin", json_string(ws_episode_purchased(ep)->asin));
            json_object_set_new(r, "options", ws_episode_options_json(ep));
        }
    }
    return r;
}

static const ws_goal_set *goal_set(server *sv, int human, ws_err *err)
{
    if (!sv->built[human]) {
        if (ws_goals_build(&sv->cat, human ? WS_GOALS_HUMAN : WS_GOALS_SYNTHETIC, sv->seed, &sv->sets[human], err))
            return NULL;
        sv->built[human] = 1;
    }
    return &sv->sets[human];
}

static json_t *reset_session(server *sv, json_t *req, const char *name, json_t *goal);

static json_t *op_reset(server *sv, json_t *req, const char *name)
{
    ws_err err;
    json_t *goal = json_object_get(req, "goal");
    json_t *goal_id = json_object_get(req, "goal_id");
    if (!goal) {
        const ws_goal_set *set = goal_set(sv, json_is_true(json_object_get(req, "human")), &err);
        if (!set)
            return error_response("%s", err.msg);
        if (!json_is_integer(goal_id) || json_integer_value(goal_id) < 0 ||
            (size_t)json_integer_value(goal_id) >= set->n)
            return error_response("reset: needs \"goal\" or a \"goal_id\" in [0, %zu)", set->n);
        json_t *made = ws_goals_get(set, (size_t)json_integer_value(goal_id), &err);
        if (!made)
            return error_response("reset: %s", err.msg);
        json_t *r = reset_session(sv, req, name, made);
        json_decref(made);
        return r;
    }
    if (!json_is_object(goal))
        return error_response("reset: \"goal\" must be an object");
    if (ws_goal_check_origin(goal, &sv->cat, &err))
        return error_response("reset: %s", err.msg);
    return reset_session(sv, req, name, goal);
}

/* A session (new, or the named one restarted) on goal. */
static json_t *reset_session(server *sv, json_t *req, const char *name, json_t *goal)
{
    ws_err err;
    ws_episode_opts eo = {.max_steps = 100, .obs_mode = WS_OBS_TEXT};
    json_t *v;
    if ((v = json_object_get(req, "max_steps"))) {
        if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 1000000)
            return error_response("reset: \"max_steps\" must be an integer in [1, 1000000]");
        eo.max_steps = (int)json_integer_value(v);
    }
    if ((v = json_object_get(req, "obs"))) {
        if (!json_is_string(v) || ws_obs_mode_parse(json_string_value(v), &eo.obs_mode))
            return error_response("reset: \"obs\" must be \"text\" or \"text_rich\"");
    }
    eo.show_attributes = json_is_true(json_object_get(req, "show_attributes"));
    eo.mark_chosen = json_is_true(json_object_get(req, "mark_chosen"));

    session *s = find_session(sv, name);
    if (s) {
        ws_episode_free(s->ep);
        s->ep = NULL;
    } else {
        if (sv->n_sessions == sv->max_sessions)
            return error_response("reset: too many open sessions (%s); close some", "--max-sessions");
        char *copy = strdup(name);
        if (!copy)
            return error_response("%s", "out of memory");
        s = &sv->sessions[sv->n_sessions++];
        *s = (session){copy, NULL};
    }
    s->ep = ws_episode_new(sv->env, &eo, &err);
    if (!s->ep || ws_episode_reset(s->ep, goal, &err)) {
        ws_episode_free(s->ep);
        free(s->name);
        *s = sv->sessions[--sv->n_sessions];
        return error_response("reset: %s", err.msg);
    }
    json_t *r = state_response(s->ep);
    return r ? r : error_response("%s", "out of memory");
}

static json_t *op_step(server *sv, json_t *req, const char *name)
{
    session *s = find_session(sv, name);
    if (!s)
        return error_response("step: no session '%s': reset first", name);
    const char *action = json_string_value(json_object_get(req, "action"));
    if (!action)
        return error_response("step: needs a string \"action\"");
    ws_step out;
    ws_err err;
    if (ws_episode_step(s->ep, action, &out, &err))
        return error_response("step: %s", err.msg);
    json_t *r = state_response(s->ep);
    if (!r)
        return error_response("%s", "out of memory");
    json_object_set_new(r, "valid", json_boolean(out.valid));
    json_object_set_new(r, "reward", json_real(out.reward));
    return r;
}

static json_t *op_reward(server *sv, json_t *req)
{
    json_t *goal_json = json_object_get(req, "goal"), *product_json = json_object_get(req, "product");
    const char *asin = json_string_value(json_object_get(req, "asin"));
    if (!json_is_object(goal_json))
        return error_response("reward: needs a \"goal\" object");
    ws_err err;
    ws_product partial;
    const ws_product *p;
    int own_product = 0;
    if (asin) {
        if (!(p = ws_catalog_find(&sv->cat, asin)))
            return error_response("reward: unknown asin '%s'", asin);
    } else if (json_is_object(product_json)) {
        if (ws_product_parse(product_json, &partial, "reward: product", &err))
            return error_response("%s", err.msg);
        /* WebShop's get_reward reads the product's "name" (its products carry "name" and "Title",
         * the same text in the 1,000-product catalog): accepted, and preferred where both differ */
        const char *name = json_string_value(json_object_get(product_json, "name"));
        if (name)
            partial.title = name;
        p = &partial;
        own_product = 1;
    } else {
        return error_response("reward: needs \"asin\" or a \"product\" object");
    }
    json_t *options = json_object_get(req, "options"), *price_json = json_object_get(req, "price");
    const char *values[256];
    size_t n = 0;
    const char *bad = NULL;
    if (json_is_object(options)) {
        const char *k;
        json_t *v;
        json_object_foreach(options, k, v) {
            if (!json_is_string(v))
                bad = "reward: option values must be strings";
            else if (n < 256)
                values[n++] = json_string_value(v);
        }
    } else if (json_is_array(options)) {
        size_t i;
        json_t *v;
        json_array_foreach(options, i, v) {
            if (!json_is_string(v))
                bad = "reward: option values must be strings";
            else if (n < 256)
                values[n++] = json_string_value(v);
        }
    } else if (options && !json_is_null(options)) {
        bad = "reward: \"options\" must be an object or a list";
    }
    if (price_json && !json_is_number(price_json))
        bad = "reward: \"price\" must be a number";
    double price = price_json ? json_number_value(price_json) : (asin ? p->price : p->pricing[0]);
    ws_goal goal;
    json_t *r = NULL;
    if (!bad && ws_goal_parse(goal_json, &goal, &err) == 0) {
        ws_reward rw;
        if (ws_reward_compute(ws_env_nouns(sv->env), &goal, p, values, n, price, &rw) == 0) {
            r = ws_reward_json(&rw);
            json_object_set_new(r, "ok", json_true());
        } else {
            r = error_response("%s", "out of memory");
        }
        ws_goal_clear(&goal);
    } else {
        r = bad ? error_response("%s", bad) : error_response("reward: %s", err.msg);
    }
    if (own_product)
        ws_product_clear(&partial);
    return r;
}

static json_t *op_search(server *sv, json_t *req)
{
    const char *query = json_string_value(json_object_get(req, "query"));
    if (!query)
        return error_response("search: needs a string \"query\"");
    size_t hits[WS_SEARCH_TOP], n;
    ws_err err;
    if (ws_env_search(sv->env, query, hits, &n, &err))
        return error_response("search: %s", err.msg);
    json_t *asins = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(asins, json_string(sv->cat.products[hits[i]].asin));
    return json_pack("{s:b, s:o}", "ok", 1, "asins", asins);
}

static json_t *op_text(server *sv, json_t *req, const char *op)
{
    if (strcmp(op, "fuzz") == 0) {
        json_t *a = json_object_get(req, "a"), *b = json_object_get(req, "b");
        if (!json_is_string(a) || !json_is_string(b))
            return error_response("fuzz: needs strings \"a\" and \"b\"");
        if (json_string_length(a) > FUZZ_MAX_BYTES || json_string_length(b) > FUZZ_MAX_BYTES)
            return error_response("fuzz: \"a\" and \"b\" must be at most %zu bytes each", FUZZ_MAX_BYTES);
        int ratio = ws_token_set_ratio(json_string_value(a), json_string_value(b));
        return ratio < 0 ? error_response("%s", "out of memory") : json_pack("{s:b, s:i}", "ok", 1, "ratio", ratio);
    }
    const char *text = json_string_value(json_object_get(req, "text"));
    if (!text)
        return error_response("%s: needs a string \"text\"", op);
    if (strcmp(op, "normalize_color") == 0) {
        /* as WebShop's normalize_color: the first colour of its list found in the text, else the
         * text itself ("matched" tells which) */
        const char *color = ws_normalize_color(text);
        return json_pack("{s:b, s:s, s:b}", "ok", 1, "color", color ? color : text, "matched", color != NULL);
    }
    char **tokens;
    size_t n;
    if (ws_noun_tokens(ws_env_nouns(sv->env), text, &tokens, &n))
        return error_response("%s", "out of memory");
    json_t *list = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(list, json_string(tokens[i]));
    ws_noun_tokens_free(tokens, n);
    return json_pack("{s:b, s:o}", "ok", 1, "nouns", list);
}

static json_t *handle(server *sv, json_t *req)
{
    char buf[32];
    const char *op = json_string_value(json_object_get(req, "op"));
    const char *name = session_name(req, buf, sizeof buf);
    if (!op)
        return error_response("request needs a string \"op\"");
    if (!name)
        return error_response("\"session\" must be a string or an integer");
    if (strcmp(op, "reset") == 0)
        return op_reset(sv, req, name);
    if (strcmp(op, "step") == 0)
        return op_step(sv, req, name);
    if (strcmp(op, "observe") == 0) {
        session *s = find_session(sv, name);
        json_t *r = s ? state_response(s->ep) : NULL;
        return r ? r : error_response("observe: no session '%s'", name);
    }
    if (strcmp(op, "close") == 0) {
        session *s = find_session(sv, name);
        if (!s)
            return error_response("close: no session '%s'", name);
        ws_episode_free(s->ep);
        free(s->name);
        *s = sv->sessions[--sv->n_sessions];
        return json_pack("{s:b}", "ok", 1);
    }
    if (strcmp(op, "reward") == 0)
        return op_reward(sv, req);
    if (strcmp(op, "search") == 0)
        return op_search(sv, req);
    if (strcmp(op, "fuzz") == 0 || strcmp(op, "normalize_color") == 0 || strcmp(op, "nouns") == 0)
        return op_text(sv, req, op);
    return error_response("unknown op '%s'", op);
}

/* A request runs to its answer without polling for signals (a reward over long texts can take
 * minutes), so while one runs, SIGINT/SIGTERM end the service at once: every earlier answer is
 * flushed already, and the cut request gets none, as if it had come after the signal. Between
 * requests the flag of lib/base/interrupt ends the loop. */
static void exit_at_once(int signo)
{
    _exit(128 + signo);
}

static void while_busy(int busy)
{
    static struct sigaction saved_int, saved_term;
    if (busy) {
        struct sigaction sa;
        memset(&sa, 0, sizeof sa);
        sa.sa_handler = exit_at_once;
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, &saved_int);
        sigaction(SIGTERM, &sa, &saved_term);
    } else {
        sigaction(SIGINT, &saved_int, NULL);
        sigaction(SIGTERM, &saved_term, NULL);
    }
}

int main(int argc, char **argv)
{
    ws_cli_omp_wait(argv, "0"); /* a search is one parallel region of a millisecond or more: no spin */
    ws_cli cli = {.tool = "webshop-env"};
    const char *data = NULL;
    long seed = WS_DEFAULT_CATALOG_SEED, max_sessions = 1024;
    enum { OPT_SEED = 256, OPT_MAX_SESSIONS, OPT_HELP, OPT_VERSION };
    static const struct option longopts[] = {
        {"seed", required_argument, 0, OPT_SEED}, {"max-sessions", required_argument, 0, OPT_MAX_SESSIONS},
        {"data", required_argument, 0, 'd'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, OPT_HELP}, {"version", no_argument, 0, OPT_VERSION}, {0, 0, 0, 0}};
    int c;
    while ((c = ws_cli_getopt(&cli, argc, argv, "d:q", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_SEED: seed = ws_cli_long(&cli, "--seed", optarg, 0, 0x7fffffffL); break;
        case OPT_MAX_SESSIONS: max_sessions = ws_cli_long(&cli, "--max-sessions", optarg, 1, 1000000); break;
        case 'd': data = optarg; break;
        case 'q': cli.quiet = 1; break;
        case OPT_HELP: usage(); return 0;
        case OPT_VERSION: ws_cli_version(&cli); return 0;
        default: ws_cli_usage_error(&cli, "unknown option");
        }
    }
    if (optind < argc)
        ws_cli_usage_error(&cli, "unexpected argument '%s'", argv[optind]);
    char dirbuf[4096];
    const char *dir = ws_cli_data_dir(&cli, data, dirbuf, sizeof dirbuf);
    ws_interrupt_install();

    server sv = {.cli = &cli, .seed = (uint64_t)seed, .max_sessions = (size_t)max_sessions};
    ws_err err;
    if (ws_catalog_load(&sv.cat, dir, sv.seed, &err) || !(sv.env = ws_env_new(&sv.cat, NULL, &err)))
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    if (!(sv.sessions = calloc(sv.max_sessions, sizeof *sv.sessions)))
        ws_cli_die(&cli, WS_EXIT_FAIL, "out of memory");
    if (!cli.quiet)
        fprintf(stderr, "webshop-env: %zu products; reading requests\n", sv.cat.n);

    ws_reader_opts ro = {.allow_empty = 1, .max_line = MAX_REQUEST};
    ws_reader *r = ws_reader_open("-", &ro, &err);
    ws_writer *w = r ? ws_writer_open("-", NULL, &err) : NULL;
    if (!w)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    int status = WS_EXIT_OK;
    for (;;) {
        json_t *req, *resp;
        int rc = ws_reader_next(r, &req, &err);
        if (rc == WS_EOF || rc == WS_INTERRUPTED)
            break;
        if (rc == WS_ERROR && !ws_reader_recoverable(r)) {
            ws_cli_warn(&cli, "%s", err.msg);
            status = WS_EXIT_FAIL;
            break;
        }
        if (rc == WS_ERROR) {
            resp = error_response("%s", err.msg);
        } else {
            while_busy(1);
            if (ws_interrupted()) { /* the signal came just before: as between requests */
                while_busy(0);
                json_decref(req);
                break;
            }
            resp = handle(&sv, req);
            while_busy(0);
            json_t *id = json_object_get(req, "id");
            if (id && resp)
                json_object_set(resp, "id", id);
            json_decref(req);
        }
        if (!resp)
            resp = error_response("%s", "out of memory");
        rc = ws_writer_put(w, resp, &err) || ws_writer_flush(w, &err);
        json_decref(resp);
        if (rc) {
            ws_cli_warn(&cli, "%s", err.msg);
            status = WS_EXIT_FAIL;
            break;
        }
    }
    ws_reader_close(r);
    if (ws_writer_close(w, &err) && status == WS_EXIT_OK) {
        ws_cli_warn(&cli, "%s", err.msg);
        status = WS_EXIT_FAIL;
    }
    for (size_t i = 0; i < sv.n_sessions; i++) {
        ws_episode_free(sv.sessions[i].ep);
        free(sv.sessions[i].name);
    }
    free(sv.sessions);
    ws_env_free(sv.env);
    for (int h = 0; h < 2; h++)
        if (sv.built[h])
            ws_goals_free(&sv.sets[h]);
    ws_catalog_free(&sv.cat);
    return ws_interrupted() ? ws_interrupt_status() : status;
}
