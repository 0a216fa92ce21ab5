/* runner: goals played to the end by a policy, several episodes in flight, as trajectories.
 *
 * The policy is a built-in one (random, oracle) or the model (lib/play/agent), which scores the
 * current states of all running episodes in one forward pass. Each episode's random choices come
 * from its own stream, seeded by (seed, goal_id), so a trajectory does not depend on which other
 * goals share its batch; results come back in the order of the goals. */
#ifndef WS_RUNNER_H
#define WS_RUNNER_H

#include <jansson.h>

#include "agent.h"
#include "env.h"
#include "policy.h"

typedef struct ws_runner_opts {
    ws_episode_opts episode;
    int parallel;            /* episodes in flight (>= 1) */
    long seed;
    ws_policy_kind builtin;  /* used when agent is NULL */
    ws_agent *agent;         /* the model as the policy, or NULL */
    const char *policy_name; /* recorded in the trajectories (the checkpoint for a model) */
    int oracle_labels;       /* with agent: every step also says what the oracle would do there */
} ws_runner_opts;

typedef struct ws_runner ws_runner;

ws_runner *ws_runner_new(ws_env *env, const ws_runner_opts *opts, ws_err *err);
void ws_runner_free(ws_runner *r);
int ws_runner_parallel(const ws_runner *r);
/* The seed of the episodes played from now on (e.g. fresh sampling for each PPO iteration). */
void ws_runner_set_seed(ws_runner *r, long seed);
/* Play n <= parallel goals; out[i] receives goal i's trajectory record (new reference). */
int ws_runner_play(ws_runner *r, json_t *const *goals, int n, json_t **out, ws_err *err);

#endif
