#include "prefdata.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "strbuf.h"
#include "interrupt.h"
#include "trajectory.h"

/* ------------------------------------------------------------------ small helpers */

static const char *step_str(const json_t *step, const char *key)
{
    return json_string_value(json_object_get(step, key));
}

/* ------------------------------------------------------------------ loop removal */

size_t ws_prune_loops(const char *const *keys, size_t n, size_t *keep, ws_prune_stats *st)
{
    size_t m = 0;
    for (size_t i = 0; i < n;) {
        size_t j = n;
        while (--j > i && strcmp(keys[j], keys[i]) != 0)
            ;
        if (j > i && st) {
            st->loops++;
            st->steps_removed += (long)(j - i);
        }
        keep[m++] = j;
        i = j + 1;
    }
    return m;
}

char *ws_step_key(const json_t *step)
{
    const char *obs = step_str(step, "obs"), *page = step_str(step, "page");
    if (!obs)
        return NULL;
    ws_strbuf b = {0};
    ws_strbuf_str(&b, page);
    ws_strbuf_add(&b, "\x1f", 1);
    ws_strbuf_str(&b, obs);
    return ws_strbuf_finish(&b);
}

typedef struct replay_req {
    size_t n;
    const char **actions;       /* n actions to play */
    int text_rich;              /* track opened products for the keys */
    char **keys_out;            /* n full keys taken, or NULL */
    char *const *expect_keys;   /* the full key each state must have, or NULL */
    json_t *const *expect_obs;  /* steps whose "obs" each state must show, or NULL */
    json_t *const *scores;      /* steps whose logp/value the new record carries, or NULL */
    ws_traj_builder *b;         /* records the replay, or NULL */
} replay_req;

static int visited_add(const char ***list, size_t *n, size_t *cap, const char *asin)
{
    for (size_t i = 0; i < *n; i++)
        if (strcmp((*list)[i], asin) == 0)
            return 0;
    if (*n + 2 > *cap) {
        size_t c = *cap ? *cap * 2 : 8;
        const char **p = realloc(*list, c * sizeof *p);
        if (!p)
            return -1;
        *list = p;
        *cap = c;
    }
    (*list)[(*n)++] = asin;
    (*list)[*n] = NULL;
    return 0;
}

/* 0: replayed (reward in *reward); 1: it did not (why in err); -1: hard error. */
static int replay(ws_episode *ep, json_t *goal, const replay_req *q, double *reward, ws_err *err)
{
    const char **visited = NULL;
    size_t n_visited = 0, cap_visited = 0;
    int rc = 0;
    if (ws_episode_reset(ep, goal, err))
        return -1;
    if (q->text_rich) { /* an empty, NULL-terminated list */
        if (!(visited = calloc(cap_visited = 8, sizeof *visited)))
            return ws_fail(err, "out of memory");
    }
    for (size_t i = 0; i < q->n && rc == 0; i++) {
        if (ws_episode_done(ep)) {
            rc = 1, ws_fail(err, "the episode ended after %zu of %zu actions", i, q->n);
            break;
        }
        if (q->keys_out || q->expect_keys) {
            char *key = ws_episode_state_key(ep, q->text_rich ? visited : NULL);
            if (!key) {
                rc = ws_fail(err, "out of memory");
                break;
            }
            if (q->expect_keys && strcmp(key, q->expect_keys[i]) != 0)
                rc = 1, ws_fail(err, "the state before action %zu (%s) is not the one it was taken in", i + 1,
                                q->actions[i]);
            if (q->keys_out)
                q->keys_out[i] = key;
            else
                free(key);
            if (rc)
                break;
        }
        if (q->expect_obs) {
            const char *want = step_str(q->expect_obs[i], "obs"), *got = ws_episode_observation(ep);
            if (!got) {
                rc = ws_fail(err, "out of memory");
                break;
            }
            if (!want || strcmp(want, got) != 0) {
                rc = 1, ws_fail(err, "step %zu: the observation differs from the recorded one", i + 1);
                break;
            }
        }
        if (q->b) {
            const json_t *sc = q->scores ? q->scores[i] : NULL;
            json_t *lp = sc ? json_object_get(sc, "logp") : NULL;
            int has = json_is_number(lp);
            if (ws_traj_step(q->b, ep, NULL, q->actions[i], -1, has, has ? json_number_value(lp) : 0,
                             has ? json_number_value(json_object_get(sc, "value")) : 0)) {
                rc = ws_fail(err, "out of memory");
                break;
            }
            /* the same state has the same valid actions: the action keeps its index (a search
             * with a query other than the instruction has none, and the page accepts it) */
            json_t *last = json_array_get(q->b->steps, json_array_size(q->b->steps) - 1);
            json_int_t got = json_integer_value(json_object_get(last, "action_index"));
            json_t *was = sc ? json_object_get(sc, "action_index") : NULL;
            if (was ? got != json_integer_value(was) : got < 0) {
                rc = 1, ws_fail(err, "action %zu (%s) is not among the state's valid actions as before", i + 1,
                                q->actions[i]);
                break;
            }
        }
        ws_page before = ws_episode_page(ep);
        ws_step st;
        if (ws_episode_step(ep, q->actions[i], &st, err)) {
            rc = -1;
            break;
        }
        if (!st.valid) {
            rc = 1, ws_fail(err, "action %zu (%s) was not accepted", i + 1, q->actions[i]);
            break;
        }
        if (q->b)
            ws_traj_after_step(q->b, ep);
        if (q->text_rich && before == WS_PAGE_RESULTS && ws_episode_page(ep) == WS_PAGE_ITEM &&
            visited_add(&visited, &n_visited, &cap_visited, ws_episode_item(ep)->asin) < 0)
            rc = ws_fail(err, "out of memory");
    }
    if (rc == 0 && !ws_episode_done(ep))
        rc = 1, ws_fail(err, "the episode is not over after its %zu actions", q->n);
    if (rc == 0) {
        const ws_reward *r = ws_episode_reward(ep);
        *reward = r ? r->reward : 0.0;
    }
    free(visited);
    return rc;
}

static int collect_actions(const json_t *steps, const char **actions, ws_err *err)
{
    for (size_t i = 0; i < json_array_size(steps); i++)
        if (!(actions[i] = step_str(json_array_get(steps, i), "action")))
            return ws_fail(err, "step %zu has no action", i + 1);
    return 0;
}

int ws_traj_replay_check(ws_episode *ep, json_t *goal, const json_t *traj, ws_err *err)
{
    json_t *steps = json_object_get(traj, "steps");
    size_t n = json_array_size(steps);
    const char **actions = calloc(n + 1, sizeof *actions);
    json_t **recorded = calloc(n + 1, sizeof *recorded);
    int rc = -1;
    if (!actions || !recorded) {
        ws_fail(err, "out of memory");
        goto done;
    }
    if (collect_actions(steps, actions, err)) {
        rc = 1;
        goto done;
    }
    for (size_t i = 0; i < n; i++)
        recorded[i] = json_array_get(steps, i);
    replay_req q = {.n = n, .actions = actions, .expect_obs = recorded};
    double reward = 0;
    rc = replay(ep, goal, &q, &reward, err);
    if (rc == 0 && reward != json_number_value(json_object_get(traj, "reward")))
        rc = 1, ws_fail(err, "the replay ends with reward %.17g, the record says %.17g", reward,
                        json_number_value(json_object_get(traj, "reward")));
done:
    free(actions);
    free(recorded);
    return rc;
}

static void free_keys(char **keys, size_t n)
{
    for (size_t i = 0; keys && i < n; i++)
        free(keys[i]);
    free(keys);
}

json_t *ws_prune_trajectory(ws_episode *ep, json_t *goal, json_t *traj, int text_rich, ws_prune_stats *st,
                            ws_err *err)
{
    json_t *steps = json_object_get(traj, "steps"), *out = NULL;
    size_t n = json_array_size(steps), m;
    char **keys = calloc(n + 1, sizeof *keys), **kept_keys = calloc(n + 1, sizeof *kept_keys);
    size_t *keep = calloc(n + 1, sizeof *keep);
    const char **actions = calloc(n + 1, sizeof *actions), **kept_actions = calloc(n + 1, sizeof *kept_actions);
    json_t **recorded = calloc(n + 1, sizeof *recorded), **kept_steps = calloc(n + 1, sizeof *kept_steps);
    ws_prune_stats local = {0};
    ws_traj_builder b = {0};
    int rc;
    double reward = 0, want = json_number_value(json_object_get(traj, "reward"));
    if (!keys || !kept_keys || !keep || !actions || !kept_actions || !recorded || !kept_steps) {
        ws_fail(err, "out of memory");
        goto done;
    }
    /* 1. Without two steps alike in page and text there is no loop. */
    for (size_t i = 0; i < n; i++) {
        recorded[i] = json_array_get(steps, i);
        if (!(keys[i] = ws_step_key(recorded[i]))) {
            ws_fail(err, "step %zu has no observation", i + 1);
            goto done;
        }
    }
    if (ws_prune_loops((const char *const *)keys, n, keep, NULL) == n) {
        out = json_incref(traj);
        goto done;
    }
    for (size_t i = 0; i < n; i++) {
        free(keys[i]);
        keys[i] = NULL;
    }
    /* 2. The states in full, from a replay of the recording. */
    if (collect_actions(steps, actions, err))
        goto done;
    replay_req q = {.n = n, .actions = actions, .text_rich = text_rich, .keys_out = keys, .expect_obs = recorded};
    rc = replay(ep, goal, &q, &reward, err);
    if (rc < 0)
        goto done;
    if (rc > 0 || reward != want) {
        if (st)
            st->replay_failed++;
        out = json_incref(traj);
        goto done;
    }
    /* 3. Cut the loops and check the shortened episode by playing it again. */
    m = ws_prune_loops((const char *const *)keys, n, keep, &local);
    if (m == n) {
        out = json_incref(traj);
        goto done;
    }
    for (size_t k = 0; k < m; k++) {
        kept_actions[k] = actions[keep[k]];
        kept_keys[k] = keys[keep[k]];
        kept_steps[k] = recorded[keep[k]];
    }
    if (ws_traj_begin(&b)) {
        ws_fail(err, "out of memory");
        goto done;
    }
    replay_req q2 = {.n = m, .actions = kept_actions, .text_rich = text_rich, .expect_keys = kept_keys,
                     .scores = kept_steps, .b = &b};
    rc = replay(ep, goal, &q2, &reward, err);
    if (rc < 0)
        goto done;
    if (rc > 0 || reward != want || !ws_episode_purchased(ep)) {
        if (st)
            st->replay_failed++;
        out = json_incref(traj);
        goto done;
    }
    out = ws_traj_finish(&b, ep, step_str(traj, "policy") ? step_str(traj, "policy") : "unknown",
                         (long)json_integer_value(json_object_get(traj, "seed")));
    if (!out) {
        ws_fail(err, "out of memory");
        goto done;
    }
    json_t *attempt = json_object_get(traj, "attempt");
    if (attempt)
        json_object_set(out, "attempt", attempt);
    json_object_set_new(out, "loops_removed", json_integer(local.loops));
    json_object_set_new(out, "steps_removed", json_integer(local.steps_removed));
    if (st) {
        st->loops += local.loops;
        st->steps_removed += local.steps_removed;
    }
done:
    ws_traj_discard(&b);
    free_keys(keys, n);
    free(kept_keys); /* borrowed from keys */
    free(keep);
    free(actions);
    free(kept_actions);
    free(recorded);
    free(kept_steps);
    return out;
}

/* ------------------------------------------------------------------ generation */

struct ws_gen {
    ws_env *env;
    ws_gen_opts o;
    ws_episode *check; /* replays for loop removal */
    json_t **goals, **trajs;
    int *pending;
    int cap;
};

long ws_gen_attempt_seed(long seed, int attempt, int model)
{
    return model ? seed * WS_GEN_MAX_ATTEMPTS + attempt : seed;
}

ws_gen *ws_gen_new(ws_env *env, const ws_gen_opts *opts, ws_err *err)
{
    if (opts->agent && (opts->attempts < 1 || opts->attempts > WS_GEN_MAX_ATTEMPTS))
        return ws_fail(err, "attempts: expected 1..%d, got %d", WS_GEN_MAX_ATTEMPTS, opts->attempts), NULL;
    ws_gen *g = calloc(1, sizeof *g);
    if (!g)
        return ws_fail(err, "out of memory"), NULL;
    g->env = env;
    g->o = *opts;
    if (g->o.parallel < 1)
        g->o.parallel = 1;
    if (!g->o.agent)
        g->o.attempts = 1;
    if (!(g->check = ws_episode_new(env, &opts->episode, err))) {
        free(g);
        return NULL;
    }
    return g;
}

void ws_gen_free(ws_gen *g)
{
    if (!g)
        return;
    ws_episode_free(g->check);
    free(g->goals);
    free(g->trajs);
    free(g->pending);
    free(g);
}

static int qualifies(const ws_gen *g, const json_t *traj)
{
    double r = json_number_value(json_object_get(traj, "reward"));
    return json_is_string(json_object_get(traj, "asin")) && r >= g->o.min_reward;
}

int ws_gen_play(ws_gen *g, json_t *const *goals, int n, json_t **out, int *attempts, ws_prune_stats *st,
                ws_err *err)
{
    int model = g->o.agent != NULL, slots = model ? g->o.parallel : 1, rc = 0, interrupted = 0;
    for (int i = 0; i < n; i++) {
        out[i] = NULL;
        attempts[i] = 0;
        if (st)
            st[i] = (ws_prune_stats){0};
    }
    if (n > g->cap) {
        int *p = realloc(g->pending, (size_t)n * sizeof *p);
        if (p)
            g->pending = p;
        if (!p)
            return ws_fail(err, "out of memory");
        g->cap = n;
    }
    if (!g->goals && (!(g->goals = calloc((size_t)slots, sizeof *g->goals)) ||
                      !(g->trajs = calloc((size_t)slots, sizeof *g->trajs))))
        return ws_fail(err, "out of memory");
    for (int a = 0; a < g->o.attempts && rc == 0 && !interrupted; a++) {
        int np = 0;
        for (int i = 0; i < n; i++)
            if (!out[i])
                g->pending[np++] = i;
        if (np == 0)
            break;
        ws_runner_opts ro = {.episode = g->o.episode, .parallel = slots, .seed = ws_gen_attempt_seed(g->o.seed, a, model),
                             .builtin = WS_POLICY_ORACLE, .agent = g->o.agent, .policy_name = g->o.policy_name};
        ws_runner *r = ws_runner_new(g->env, &ro, err);
        if (!r)
            return -1;
        for (int at = 0; at < np && rc == 0; at += slots) {
            int m = np - at < slots ? np - at : slots;
            if (ws_interrupted()) {
                interrupted = 1;
                break;
            }
            for (int k = 0; k < m; k++)
                g->goals[k] = goals[g->pending[at + k]];
            if (ws_runner_play(r, g->goals, m, g->trajs, err)) {
                rc = -1;
                break;
            }
            for (int k = 0; k < m; k++) {
                int i = g->pending[at + k];
                attempts[i]++;
                if (rc == 0 && qualifies(g, g->trajs[k])) {
                    json_object_set_new(g->trajs[k], "attempt", json_integer(a + 1));
                    out[i] = g->o.prune ? ws_prune_trajectory(g->check, goals[i], g->trajs[k],
                                                              g->o.episode.obs_mode == WS_OBS_TEXT_RICH, st ? &st[i] : NULL, err)
                                        : json_incref(g->trajs[k]);
                    if (!out[i])
                        rc = -1;
                }
                json_decref(g->trajs[k]);
            }
        }
        ws_runner_free(r);
    }
    if (rc)
        for (int i = 0; i < n; i++) {
            json_decref(out[i]);
            out[i] = NULL;
        }
    return rc ? rc : interrupted;
}

int ws_gen_decided(const ws_gen *g, const json_t *out, int attempts)
{
    return out != NULL || attempts >= g->o.attempts;
}

/* ------------------------------------------------------------------ human demonstrations */

char *ws_obs_instruction(const char *obs)
{
    const char *s = strstr(obs, "Instruction:"), *end;
    if (s) {
        s += strlen("Instruction:");
        for (;;) { /* white space and [SEP] separators before the text */
            while (*s && isspace((unsigned char)*s))
                s++;
            if (strncmp(s, "[SEP]", 5) == 0)
                s += 5;
            else
                break;
        }
        end = s;
        while (*end && *end != '\n' && strncmp(end, "[SEP]", 5) != 0 && strncmp(end, "[button]", 8) != 0)
            end++;
    } else {
        s = obs;
        end = obs + strlen(obs);
    }
    while (*s && isspace((unsigned char)*s))
        s++;
    while (end > s && isspace((unsigned char)end[-1]))
        end--;
    return strndup(s, (size_t)(end - s));
}

char *ws_instruction_norm(const char *text, int drop_price)
{
    size_t n = strlen(text);
    char *out = malloc(n + 1), *o = out;
    if (!out)
        return NULL;
    int space = 0;
    for (const char *p = text; *p; p++) {
        unsigned char c = (unsigned char)*p;
        if (c == '"' || c == '\'')
            continue;
        if (isspace(c)) {
            space = 1;
            continue;
        }
        if (space && o > out)
            *o++ = ' ';
        space = 0;
        *o++ = (char)tolower(c);
    }
    *o = 0;
    if (drop_price) {
        char *cut = strstr(out, ", and price lower than");
        if (cut)
            *cut = 0;
    }
    return out;
}

static int ix_put(ws_goal_index *ix, char *key, long id)
{
    if (!key)
        return -1;
    if (ix->n == ix->cap) {
        size_t cap = ix->cap ? ix->cap * 2 : 64;
        char **k = realloc(ix->keys, cap * sizeof *k);
        if (k)
            ix->keys = k;
        long *d = k ? realloc(ix->ids, cap * sizeof *d) : NULL;
        if (d)
            ix->ids = d;
        if (!k || !d) {
            free(key);
            return -1;
        }
        ix->cap = cap;
    }
    ix->keys[ix->n] = key;
    ix->ids[ix->n++] = id;
    ix->sorted = 0;
    return 0;
}

int ws_goal_index_add(ws_goal_index *ix, const json_t *goal, ws_err *err)
{
    const char *ins = json_string_value(json_object_get(goal, "instruction"));
    json_t *id = json_object_get(goal, "goal_id");
    if (!ins || !json_is_integer(id))
        return ws_fail(err, "a goal record without instruction or goal_id");
    /* the full instruction, and with "\x01" in front the one without its price clause */
    char *full = ws_instruction_norm(ins, 0), *base = ws_instruction_norm(ins, 1), *tagged = NULL;
    if (base && asprintf(&tagged, "\x01%s", base) < 0)
        tagged = NULL;
    free(base);
    if (ix_put(ix, full, (long)json_integer_value(id)) || ix_put(ix, tagged, (long)json_integer_value(id)))
        return ws_fail(err, "out of memory");
    return 0;
}

typedef struct ix_pair {
    char *key;
    long id;
} ix_pair;

static int ix_cmp(const void *a, const void *b)
{
    const ix_pair *x = a, *y = b;
    int c = strcmp(x->key, y->key);
    return c ? c : (x->id > y->id) - (x->id < y->id);
}

static void ix_sort(ws_goal_index *ix)
{
    if (ix->sorted)
        return;
    ix_pair *p = malloc((ix->n + 1) * sizeof *p);
    if (!p)
        return; /* stays unsorted: lookups fall back to a scan */
    for (size_t i = 0; i < ix->n; i++)
        p[i] = (ix_pair){ix->keys[i], ix->ids[i]};
    qsort(p, ix->n, sizeof *p, ix_cmp);
    for (size_t i = 0; i < ix->n; i++) {
        ix->keys[i] = p[i].key;
        ix->ids[i] = p[i].id;
    }
    free(p);
    ix->sorted = 1;
}

static long ix_lookup(ws_goal_index *ix, const char *key)
{
    ix_sort(ix);
    if (!ix->sorted) {
        long best = -1;
        for (size_t i = 0; i < ix->n; i++)
            if (strcmp(ix->keys[i], key) == 0 && (best < 0 || ix->ids[i] < best))
                best = ix->ids[i];
        return best;
    }
    size_t lo = 0, hi = ix->n; /* the first key >= key: the lowest id among equal keys */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (strcmp(ix->keys[mid], key) < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < ix->n && strcmp(ix->keys[lo], key) == 0 ? ix->ids[lo] : -1;
}

long ws_goal_index_find(ws_goal_index *ix, const char *instruction)
{
    char *full = ws_instruction_norm(instruction, 0), *base = ws_instruction_norm(instruction, 1), *tagged = NULL;
    long id = -1;
    if (full)
        id = ix_lookup(ix, full);
    if (id < 0 && base && asprintf(&tagged, "\x01%s", base) >= 0)
        id = ix_lookup(ix, tagged);
    free(full);
    free(base);
    free(tagged);
    return id;
}

void ws_goal_index_free(ws_goal_index *ix)
{
    for (size_t i = 0; i < ix->n; i++)
        free(ix->keys[i]);
    free(ix->keys);
    free(ix->ids);
    memset(ix, 0, sizeof *ix);
}

static int same_text_ci(const char *a, const char *b)
{
    return strcasecmp(a, b) == 0;
}

/* An available action as an action string: "click[x]" for a bare clickable text x. */
static json_t *as_action(const char *a)
{
    if (ws_action_parse(a, NULL, NULL) != WS_ACTION_INVALID)
        return json_string(a);
    char *s = ws_action_click(a);
    if (!s)
        return NULL;
    json_t *j = json_string(s);
    free(s);
    return j;
}

json_t *ws_human_trajectory(const json_t *line, long goal_id, ws_err *err)
{
    json_t *states = json_object_get(line, "states"), *actions = json_object_get(line, "actions");
    json_t *avail = json_object_get(line, "available_actions"), *idxs = json_object_get(line, "action_idxs");
    json_t *reward = json_object_get(line, "reward");
    const char *instruction = json_string_value(json_object_get(line, "instruction"));
    if (!json_is_object(line))
        return ws_fail(err, "not a JSON object"), NULL;
    if (!json_is_array(states) || json_array_size(states) == 0)
        return ws_fail(err, "no \"states\" list"), NULL;
    if (!json_is_array(actions))
        return ws_fail(err, "no \"actions\" list"), NULL;
    if (avail && !json_is_array(avail))
        return ws_fail(err, "\"available_actions\" is not a list"), NULL;
    if (idxs && !json_is_array(idxs))
        return ws_fail(err, "\"action_idxs\" is not a list"), NULL;
    if (reward && !json_is_number(reward))
        return ws_fail(err, "\"reward\" is not a number"), NULL;
    size_t n = json_array_size(actions);
    if (json_array_size(states) < n)
        return ws_fail(err, "%zu actions but %zu states", n, json_array_size(states)), NULL;
    if (goal_id < 0)
        return ws_fail(err, "goal_id %ld < 0", goal_id), NULL;
    json_t *steps = json_array();
    char *ins = NULL;
    for (size_t i = 0; steps && i < n; i++) {
        const char *obs = json_string_value(json_array_get(states, i));
        const char *action = json_string_value(json_array_get(actions, i));
        if (!obs || !action) {
            ws_fail(err, "%s[%zu] is not a string", obs ? "actions" : "states", i);
            goto fail;
        }
        json_t *acts = json_array();
        int index = -1;
        if (!acts)
            goto oom;
        if (ws_action_parse(action, NULL, NULL) == WS_ACTION_SEARCH) {
            /* the search page: the query typed is its action */
            if (json_array_append_new(acts, json_string(action))) {
                json_decref(acts);
                goto oom;
            }
            index = 0;
        } else {
            json_t *av = json_array_get(avail, i);
            if (av && !json_is_array(av)) {
                json_decref(acts);
                ws_fail(err, "available_actions[%zu] is not a list", i);
                goto fail;
            }
            for (size_t k = 0; k < json_array_size(av); k++) {
                const char *a = json_string_value(json_array_get(av, k));
                json_t *s = a ? as_action(a) : NULL;
                if (!a) {
                    json_decref(acts);
                    ws_fail(err, "available_actions[%zu][%zu] is not a string", i, k);
                    goto fail;
                }
                if (!s || json_array_append_new(acts, s)) {
                    json_decref(acts);
                    goto oom;
                }
            }
            json_t *ji = json_array_get(idxs, i);
            long given = json_is_integer(ji) ? (long)json_integer_value(ji) : -1;
            if (given >= 0 && (size_t)given < json_array_size(acts) &&
                same_text_ci(json_string_value(json_array_get(acts, (size_t)given)), action))
                index = (int)given;
            for (size_t k = 0; index < 0 && k < json_array_size(acts); k++)
                if (same_text_ci(json_string_value(json_array_get(acts, k)), action))
                    index = (int)k;
        }
        json_t *step = json_pack("{s:s, s:o, s:s, s:i}", "obs", obs, "actions", acts, "action", action,
                                 "action_index", index);
        if (!step || json_array_append_new(steps, step))
            goto oom;
    }
    if (!steps)
        goto oom;
    if (!instruction) {
        if (!(ins = ws_obs_instruction(json_string_value(json_array_get(states, 0)) ? json_string_value(json_array_get(states, 0)) : "")))
            goto oom;
        instruction = ins;
    }
    double r = reward ? json_number_value(reward) : 0.0;
    if (r < 0 || r > 1) {
        ws_fail(err, "reward %g outside [0, 1]", r);
        goto fail;
    }
    json_t *traj = json_pack("{s:s, s:i, s:I, s:s, s:s, s:i, s:o, s:f, s:b, s:I, s:b}", "type", "trajectory", "v",
                             WS_TRAJECTORY_VERSION, "goal_id", (json_int_t)goal_id, "instruction", instruction,
                             "policy", "human", "seed", 0, "steps", steps, "reward", r, "success", r == 1.0,
                             "n_steps", (json_int_t)n, "reward_known", reward != NULL);
    steps = NULL;
    free(ins);
    if (!traj)
        ws_fail(err, "out of memory");
    return traj;
oom:
    ws_fail(err, "out of memory");
fail:
    json_decref(steps);
    free(ins);
    return NULL;
}

/* ------------------------------------------------------------------ preference pairs */

int ws_reject_parse(const char *name, ws_reject_rule *rule)
{
    static const char *const names[] = {"random", "sample", "argmax", "agent"};
    for (int i = 0; i < (int)(sizeof names / sizeof *names); i++)
        if (strcmp(name, names[i]) == 0) {
            *rule = (ws_reject_rule)i;
            return 0;
        }
    return -1;
}

const char *ws_pair_source_name(ws_pair_source s)
{
    static const char *const names[] = {"reference-sample", "reference-argmax", "reference-next-best", "random",
                                        "agent"};
    return (unsigned)s < sizeof names / sizeof *names ? names[s] : "unknown";
}

int ws_next_best(const double *logp, int n, int exclude)
{
    int best = -1;
    for (int j = 0; j < n; j++)
        if (j != exclude && (best < 0 || logp[j] > logp[best]))
            best = j;
    return n >= 2 ? best : -1;
}

int ws_pick_rejected(ws_reject_rule rule, const double *logp, int n, int chosen, ws_rng *rng,
                     ws_pair_source *source)
{
    if (n < 2 || chosen < 0 || chosen >= n)
        return -1;
    int pick;
    switch (rule) {
    case WS_REJECT_RANDOM:
        pick = (int)ws_rng_below(rng, (uint64_t)(n - 1));
        *source = WS_SRC_RANDOM;
        return pick < chosen ? pick : pick + 1;
    case WS_REJECT_SAMPLE:
        pick = ws_rng_softmax(rng, logp, n, 1.0); /* the reference's policy, as the agent samples it */
        *source = WS_SRC_REFERENCE_SAMPLE;
        break;
    default:
        pick = ws_rng_softmax(rng, logp, n, 0);
        *source = WS_SRC_REFERENCE_ARGMAX;
        break;
    }
    if (pick == chosen) {
        pick = ws_next_best(logp, n, chosen);
        *source = WS_SRC_REFERENCE_NEXT_BEST;
    }
    return pick;
}

void ws_pair_rng(ws_rng *r, long seed, long goal_id, long step)
{
    uint64_t x = ((uint64_t)seed * 1000003u + (uint64_t)goal_id) * 1000003u + (uint64_t)step;
    ws_rng_seed(r, x, "pair-prefs");
}

json_t *ws_pair_record(const json_t *traj, size_t step, int chosen, int rejected, ws_pair_source source,
                       const double *ref_logps, const char *ref_sha256)
{
    json_t *s = json_array_get(json_object_get(traj, "steps"), step);
    json_t *p = json_pack("{s:s, s:i, s:I, s:I, s:s, s:O, s:i, s:i, s:s}", "type", "pair", "v", 1, "goal_id",
                          json_integer_value(json_object_get(traj, "goal_id")), "step", (json_int_t)step, "obs",
                          step_str(s, "obs"), "actions", json_object_get(s, "actions"), "chosen_index", chosen,
                          "rejected_index", rejected, "source", ws_pair_source_name(source));
    if (p && ref_logps) {
        json_object_set_new(p, "ref_logp_chosen", json_real(ref_logps[0]));
        json_object_set_new(p, "ref_logp_rejected", json_real(ref_logps[1]));
        if (ref_sha256 && *ref_sha256)
            json_object_set_new(p, "ref_sha256", json_string(ref_sha256));
    }
    return p;
}

typedef struct pending_state {
    json_t *traj; /* a reference per state */
    size_t step;
    int chosen, n;
    int rejected; /* WS_REJECT_AGENT: the agent's action; else picked when scored */
} pending_state;

struct ws_pairer {
    ws_pairer_opts o;
    ws_pair_stats st;
    pending_state *q;
    size_t nq, cap;
    double *lp; /* one state's log-probabilities */
    size_t lp_cap;
};

ws_pairer *ws_pairer_new(const ws_pairer_opts *opts, ws_err *err)
{
    if (opts->rule != WS_REJECT_RANDOM && opts->rule != WS_REJECT_AGENT && (!opts->ref || !opts->vocab))
        return ws_fail(err, "the %s rule needs a reference model", opts->rule == WS_REJECT_SAMPLE ? "sample" : "argmax"),
               NULL;
    if (opts->ref_logps && !opts->ref)
        return ws_fail(err, "reference log-probabilities need a reference model"), NULL;
    ws_pairer *p = calloc(1, sizeof *p);
    if (!p)
        return ws_fail(err, "out of memory"), NULL;
    p->o = *opts;
    if (p->o.batch < 1)
        p->o.batch = 1;
    if (p->o.max_state_len < 2)
        p->o.max_state_len = WS_DEFAULT_MAX_STATE_LEN;
    if (p->o.max_action_len < 2)
        p->o.max_action_len = WS_DEFAULT_MAX_ACTION_LEN;
    return p;
}

static void drop_queue(ws_pairer *p)
{
    for (size_t i = 0; i < p->nq; i++)
        json_decref(p->q[i].traj);
    p->nq = 0;
}

void ws_pairer_free(ws_pairer *p)
{
    if (!p)
        return;
    drop_queue(p);
    free(p->q);
    free(p->lp);
    free(p);
}

const ws_pair_stats *ws_pairer_stats(const ws_pairer *p) { return &p->st; }

static void free_id_list(int32_t **ids, size_t n)
{
    for (size_t i = 0; ids && i < n; i++)
        free(ids[i]);
    free(ids);
}

/* Score the queued states with the reference (when there is one), pick and hand out the pairs. */
static int run_queue(ws_pairer *p, ws_pair_sink *sink, void *ctx, ws_err *err)
{
    int rc = -1, nd = (int)p->nq;
    size_t total = 0, a = 0;
    int32_t **state_ids = NULL, **action_ids = NULL;
    int *state_len = NULL, *n_actions = NULL, *action_len = NULL;
    const ws_real *logp = NULL;
    if (nd == 0)
        return 0;
    for (size_t i = 0; i < p->nq; i++) {
        total += (size_t)p->q[i].n;
        if ((size_t)p->q[i].n > p->lp_cap) {
            double *d = realloc(p->lp, (size_t)p->q[i].n * sizeof *d);
            if (!d)
                return ws_fail(err, "out of memory");
            p->lp = d;
            p->lp_cap = (size_t)p->q[i].n;
        }
    }
    if (p->o.ref) {
        state_ids = calloc((size_t)nd, sizeof *state_ids);
        action_ids = calloc(total, sizeof *action_ids);
        state_len = calloc((size_t)nd, sizeof *state_len);
        n_actions = calloc((size_t)nd, sizeof *n_actions);
        action_len = calloc(total, sizeof *action_len);
        if (!state_ids || !action_ids || !state_len || !n_actions || !action_len) {
            ws_fail(err, "out of memory");
            goto done;
        }
        for (int d = 0; d < nd; d++) {
            json_t *s = json_array_get(json_object_get(p->q[d].traj, "steps"), p->q[d].step);
            json_t *acts = json_object_get(s, "actions");
            if (ws_encode_decision(p->o.vocab, step_str(s, "obs"), acts, p->o.max_state_len, p->o.max_action_len,
                                   &state_ids[d], &state_len[d], &action_ids[a], &action_len[a], err))
                goto done;
            a += (size_t)p->q[d].n;
            n_actions[d] = p->q[d].n;
        }
        ws_batch b = {nd, (const int32_t *const *)state_ids, state_len, n_actions, (const int32_t *const *)action_ids,
                      action_len};
        if (ws_model_forward(p->o.ref, &b, err))
            goto done;
        logp = ws_model_logp(p->o.ref);
    }
    a = 0;
    for (int d = 0; d < nd; d++) {
        pending_state *ps = &p->q[d];
        ws_rng rng;
        ws_pair_source src;
        for (int j = 0; j < ps->n; j++)
            p->lp[j] = logp ? (double)logp[a + (size_t)j] : 0.0;
        a += (size_t)ps->n;
        ws_pair_rng(&rng, p->o.seed, (long)json_integer_value(json_object_get(ps->traj, "goal_id")), (long)ps->step);
        int rej = p->o.rule == WS_REJECT_AGENT ? ps->rejected
                                                : ws_pick_rejected(p->o.rule, p->lp, ps->n, ps->chosen, &rng, &src);
        if (p->o.rule == WS_REJECT_AGENT)
            src = WS_SRC_AGENT;
        double ref[2] = {p->lp[ps->chosen], rej >= 0 ? p->lp[rej] : 0.0};
        json_t *pair = rej >= 0 ? ws_pair_record(ps->traj, ps->step, ps->chosen, rej, src, p->o.ref_logps ? ref : NULL,
                                                p->o.ref_sha256)
                                : NULL;
        if (!pair) {
            ws_fail(err, "out of memory");
            goto done;
        }
        p->st.pairs++;
        p->st.next_best += src == WS_SRC_REFERENCE_NEXT_BEST;
        if (sink(ctx, pair, err))
            goto done;
    }
    rc = 0;
done:
    free_id_list(state_ids, (size_t)nd);
    free_id_list(action_ids, total);
    free(state_len);
    free(n_actions);
    free(action_len);
    drop_queue(p);
    return rc;
}

int ws_pairer_add(ws_pairer *p, json_t *traj, const char *where, ws_pair_sink *sink, void *ctx, ws_err *err)
{
    json_t *steps = json_object_get(traj, "steps");
    where = where ? where : "<input>";
    if (!json_is_integer(json_object_get(traj, "goal_id")))
        return ws_fail(err, "%s: no integer \"goal_id\"", where);
    if (!json_is_array(steps))
        return ws_fail(err, "%s: no \"steps\" list", where);
    /* check every step before queueing any, so a bad record adds nothing */
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *s = json_array_get(steps, i), *acts = json_object_get(s, "actions"),
               *ix = json_object_get(s, "action_index");
        if (!step_str(s, "obs"))
            return ws_fail(err, "%s: step %zu: no \"obs\" string", where, i);
        if (!json_is_array(acts))
            return ws_fail(err, "%s: step %zu: no \"actions\" list", where, i);
        for (size_t k = 0; k < json_array_size(acts); k++)
            if (!json_is_string(json_array_get(acts, k)))
                return ws_fail(err, "%s: step %zu: actions[%zu] is not a string", where, i, k);
        if (!json_is_integer(ix))
            return ws_fail(err, "%s: step %zu: no integer \"action_index\"", where, i);
        json_int_t v = json_integer_value(ix);
        if (v < -1 || v >= (json_int_t)json_array_size(acts))
            return ws_fail(err, "%s: step %zu: action_index %lld outside the %zu actions", where, i, (long long)v,
                           json_array_size(acts));
        if (json_array_size(acts) > 100000)
            return ws_fail(err, "%s: step %zu: %zu actions", where, i, json_array_size(acts));
        json_t *oi = json_object_get(s, "oracle_index");
        if (p->o.rule == WS_REJECT_AGENT &&
            (!json_is_integer(oi) || json_integer_value(oi) < -1 ||
             json_integer_value(oi) >= (json_int_t)json_array_size(acts)))
            return ws_fail(err, "%s: step %zu: no \"oracle_index\" among the actions (--rejected agent takes "
                                "rollout --oracle-labels trajectories)", where, i);
        if (ws_step_check_index(s, 0, err) || (p->o.rule == WS_REJECT_AGENT && ws_step_check_index(s, 1, err))) {
            char at[640];
            snprintf(at, sizeof at, "%s: step %zu", where, i);
            return ws_fail_prefix(err, at);
        }
    }
    p->st.trajectories++;
    for (size_t i = 0; i < json_array_size(steps); i++) {
        json_t *s = json_array_get(steps, i);
        int n = (int)json_array_size(json_object_get(s, "actions"));
        int chosen = (int)json_integer_value(json_object_get(s, "action_index")), rejected = -1;
        if (p->o.rule == WS_REJECT_AGENT) { /* the agent's action is the rejected one */
            rejected = chosen;
            chosen = (int)json_integer_value(json_object_get(s, "oracle_index"));
        }
        p->st.states++;
        if (chosen < 0) {
            p->st.unlabeled++;
            continue;
        }
        if (n < 2) {
            p->st.single++;
            continue;
        }
        if (p->o.rule == WS_REJECT_AGENT && rejected == chosen) {
            p->st.agree++;
            continue;
        }
        if (p->o.rule == WS_REJECT_AGENT && rejected < 0) { /* the agent's action was not a valid one */
            p->st.unlabeled++;
            continue;
        }
        if (p->nq == p->cap) {
            size_t cap = p->cap ? p->cap * 2 : 64;
            pending_state *q = realloc(p->q, cap * sizeof *q);
            if (!q)
                return ws_fail(err, "out of memory");
            p->q = q;
            p->cap = cap;
        }
        p->q[p->nq++] = (pending_state){json_incref(traj), i, chosen, n, rejected};
        if (p->nq >= (size_t)p->o.batch && run_queue(p, sink, ctx, err))
            return -1;
    }
    return 0;
}

int ws_pairer_finish(ws_pairer *p, ws_pair_sink *sink, void *ctx, ws_err *err)
{
    return run_queue(p, sink, ctx, err);
}
