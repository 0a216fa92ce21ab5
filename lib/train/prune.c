#include "prune.h"

#include <stdlib.h>
#include <string.h>

#include "strbuf.h"
#include "trajectory.h"

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
    const char *obs = ws_traj_step_str(step, "obs"), *page = ws_traj_step_str(step, "page");
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
    int text_rich;              /* keys name the opened products the pages mark */
    char **keys_out;            /* n full keys taken, or NULL */
    char *const *expect_keys;   /* the full key each state must have, or NULL */
    json_t *const *expect_obs;  /* steps whose "obs" each state must show, or NULL */
    json_t *const *scores;      /* steps whose logp/value the new record carries, or NULL */
    ws_traj_builder *b;         /* records the replay, or NULL */
} replay_req;

/* 0: replayed (reward in *reward); 1: it did not (why in err); -1: hard error. */
static int replay(ws_episode *ep, json_t *goal, const replay_req *q, double *reward, ws_err *err)
{
    int rc = 0;
    if (ws_episode_reset(ep, goal, err))
        return -1;
    for (size_t i = 0; i < q->n && rc == 0; i++) {
        if (ws_episode_done(ep)) {
            rc = 1, ws_fail(err, "the episode ended after %zu of %zu actions", i, q->n);
            break;
        }
        if (q->keys_out || q->expect_keys) {
            char *key = ws_episode_state_key(ep, q->text_rich);
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
            const char *want = ws_traj_step_str(q->expect_obs[i], "obs"), *got = ws_episode_observation(ep);
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
    }
    if (rc == 0 && !ws_episode_done(ep))
        rc = 1, ws_fail(err, "the episode is not over after its %zu actions", q->n);
    if (rc == 0) {
        const ws_reward *r = ws_episode_reward(ep);
        *reward = r ? r->reward : 0.0;
    }
    return rc;
}

static int collect_actions(const json_t *steps, const char **actions, ws_err *err)
{
    for (size_t i = 0; i < json_array_size(steps); i++)
        if (!(actions[i] = ws_traj_step_str(json_array_get(steps, i), "action")))
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
    out = ws_traj_finish(&b, ep, ws_traj_step_str(traj, "policy") ? ws_traj_step_str(traj, "policy") : "unknown",
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

