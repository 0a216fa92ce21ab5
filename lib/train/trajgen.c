#include "trajgen.h"

#include <stdlib.h>
#include <string.h>

#include "interrupt.h"
#include "runner.h"
#include "trajectory.h"

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

