#include "runner.h"

#include <stdlib.h>
#include <string.h>

#include "trajectory.h"

struct ws_runner {
    ws_runner_opts opts;
    ws_episode **eps;
    ws_traj_builder *builders;
    ws_rng *rngs;
    ws_episode **active;
    ws_rng *active_rngs;
    int *active_index;
    ws_decision *decisions;
    ws_episode *what_if; /* the oracle's play-outs when it labels a step */
};

ws_runner *ws_runner_new(ws_env *env, const ws_runner_opts *opts, ws_err *err)
{
    int n = opts->parallel > 0 ? opts->parallel : 1;
    ws_runner *r = calloc(1, sizeof *r);
    if (!r || !(r->eps = calloc((size_t)n, sizeof *r->eps)) || !(r->builders = calloc((size_t)n, sizeof *r->builders)) ||
        !(r->rngs = calloc((size_t)n, sizeof *r->rngs)) || !(r->active = calloc((size_t)n, sizeof *r->active)) ||
        !(r->active_rngs = calloc((size_t)n, sizeof *r->active_rngs)) ||
        !(r->active_index = calloc((size_t)n, sizeof *r->active_index)) ||
        !(r->decisions = calloc((size_t)n, sizeof *r->decisions))) {
        ws_runner_free(r);
        ws_fail(err, "out of memory");
        return NULL;
    }
    r->opts = *opts;
    r->opts.parallel = n;
    for (int i = 0; i < n; i++)
        if (!(r->eps[i] = ws_episode_new(env, &opts->episode, err))) {
            ws_runner_free(r);
            return NULL;
        }
    return r;
}

void ws_runner_free(ws_runner *r)
{
    if (!r)
        return;
    for (int i = 0; r->eps && i < r->opts.parallel; i++)
        ws_episode_free(r->eps[i]);
    free(r->eps);
    free(r->builders);
    free(r->rngs);
    free(r->active);
    free(r->active_rngs);
    free(r->active_index);
    free(r->decisions);
    ws_episode_free(r->what_if);
    free(r);
}

int ws_runner_parallel(const ws_runner *r) { return r->opts.parallel; }
void ws_runner_set_seed(ws_runner *r, long seed) { r->opts.seed = seed; }

static const char *policy_name(const ws_runner *r)
{
    return r->opts.policy_name ? r->opts.policy_name : ws_policy_name(r->opts.builtin);
}

int ws_runner_play(ws_runner *r, json_t *const *goals, int n, json_t **out, ws_err *err)
{
    if (n > r->opts.parallel)
        return ws_fail(err, "runner: %d goals for %d slots", n, r->opts.parallel);
    for (int i = 0; i < n; i++) {
        out[i] = NULL;
        r->builders[i].steps = NULL;
    }
    int rc = 0;
    for (int i = 0; i < n && rc == 0; i++) {
        json_int_t id = json_integer_value(json_object_get(goals[i], "goal_id"));
        ws_rng_seed(&r->rngs[i], (uint64_t)r->opts.seed * 1000003u + (uint64_t)id, "rollout");
        if (!r->opts.agent) {
            if (ws_episode_reset(r->eps[0], goals[i], err) ||
                !(out[i] = ws_run_episode(r->eps[0], r->opts.builtin, &r->rngs[i], r->opts.seed, err)))
                rc = -1;
            continue;
        }
        if (ws_episode_reset(r->eps[i], goals[i], err) || ws_traj_begin(&r->builders[i]))
            rc = -1;
    }
    while (rc == 0 && r->opts.agent) {
        int k = 0;
        for (int i = 0; i < n; i++)
            if (!ws_episode_done(r->eps[i])) {
                r->active[k] = r->eps[i];
                r->active_rngs[k] = r->rngs[i];
                r->active_index[k++] = i;
            }
        if (k == 0)
            break;
        if (ws_agent_act(r->opts.agent, r->active, k, r->active_rngs, r->decisions, err)) {
            rc = -1;
            break;
        }
        for (int a = 0; a < k; a++) {
            int i = r->active_index[a];
            ws_decision *d = &r->decisions[a];
            ws_step st;
            r->rngs[i] = r->active_rngs[a]; /* keep the stream's position */
            if (rc == 0 && ws_traj_step(&r->builders[i], r->eps[i], d->actions, d->action, d->index, d->scored,
                                        d->logp, d->value))
                rc = ws_fail(err, "out of memory");
            if (rc == 0 && r->opts.oracle_labels && ws_traj_label_oracle(&r->builders[i], r->eps[i], &r->what_if, err))
                rc = -1;
            if (rc == 0 && ws_episode_step(r->eps[i], d->action, &st, err))
                rc = -1;
            if (rc == 0)
                ws_traj_after_step(&r->builders[i], r->eps[i]);
            free(d->action);
            d->action = NULL;
            json_decref(d->actions);
            d->actions = NULL;
        }
    }
    for (int i = 0; r->opts.agent && i < n; i++) {
        if (rc == 0 && !(out[i] = ws_traj_finish(&r->builders[i], r->eps[i], policy_name(r), r->opts.seed)))
            rc = ws_fail(err, "out of memory");
        ws_traj_discard(&r->builders[i]);
    }
    if (rc)
        for (int i = 0; i < n; i++) {
            json_decref(out[i]);
            out[i] = NULL;
        }
    return rc;
}
