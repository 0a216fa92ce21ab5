/* trajgen: preferred trajectories for imitation (tools/gen-traj; docs/webshop.md, section 5):
 * goals played by the oracle, or rejection sampling of a model's rollouts (each goal up to K
 * attempts, attempt a with its own seed, the first episode whose reward reaches the bar kept,
 * reward exactly 1 by default), loops removed (lib/train/prune). */
#ifndef WS_TRAJGEN_H
#define WS_TRAJGEN_H

#include <jansson.h>
#include <stddef.h>

#include "agent.h"
#include "env.h"
#include "err.h"
#include "prune.h"

#define WS_GEN_MAX_ATTEMPTS 1000

typedef struct ws_gen_opts {
    ws_episode_opts episode;
    int parallel;            /* episodes in flight */
    long seed;
    ws_agent *agent;         /* the model (rejection sampling), or NULL for the oracle */
    const char *policy_name; /* recorded (the checkpoint for a model) */
    int attempts;            /* per goal, 1..WS_GEN_MAX_ATTEMPTS (the oracle: 1) */
    double min_reward;       /* keep an episode that ends with a purchase and reward >= this [1] */
    int prune;               /* remove loops (ws_prune_trajectory) */
} ws_gen_opts;

typedef struct ws_gen ws_gen;

/* The seed attempt a (0-based) of a goal plays with: the runner's seed s * 1000 + a for a model
 * (so `rollout --model CKPT --temperature T --seed <that>` replays the attempt before loop
 * removal), s for the oracle. */
long ws_gen_attempt_seed(long seed, int attempt, int model);

ws_gen *ws_gen_new(ws_env *env, const ws_gen_opts *opts, ws_err *err);
void ws_gen_free(ws_gen *g);
/* Play n goals (any n): out[i] = goal i's kept trajectory (loops removed, "attempt" = the
 * 1-based attempt it came from) or NULL when no attempt qualified; attempts[i] = the attempts
 * played for goal i (up to the first kept one); st[i] (st may be NULL) = the loop removal
 * counts of goal i's kept trajectory. Attempt a of every pending goal is played before attempt
 * a + 1 of any, up to `parallel` episodes per batch. Returns 0; -1 on errors (err filled, out[]
 * all NULL); 1 when a signal arrived (lib/base/interrupt) and play stopped between two batches: out[]
 * and attempts[] then hold what was played, final for the goals ws_gen_decided says are. */
int ws_gen_play(ws_gen *g, json_t *const *goals, int n, json_t **out, int *attempts, ws_prune_stats *st,
                ws_err *err);
/* 1 when a goal's outcome is final: a trajectory kept, or every attempt played. */
int ws_gen_decided(const ws_gen *g, const json_t *out, int attempts);

#endif
