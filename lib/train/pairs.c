#include "pairs.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "grow.h"
#include "schemas.h"
#include "trajectory.h"

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
    json_t *p = json_pack("{s:s, s:i, s:I, s:I, s:s, s:O, s:i, s:i, s:s}", "type", "pair", "v", WS_PAIR_VERSION, "goal_id",
                          json_integer_value(json_object_get(traj, "goal_id")), "step", (json_int_t)step, "obs",
                          ws_traj_step_str(s, "obs"), "actions", json_object_get(s, "actions"), "chosen_index", chosen,
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
            if (ws_encode_decision(p->o.vocab, ws_traj_step_str(s, "obs"), acts, p->o.max_state_len, p->o.max_action_len,
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
        if (!ws_traj_step_str(s, "obs"))
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
        pending_state *q = ws_grow(p->q, &p->cap, p->nq + 1, sizeof *q, 64);
        if (!q)
            return ws_fail(err, "out of memory");
        p->q = q;
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
