/* prune: loop removal from a finished trajectory, checked by replay (docs/webshop.md, section 5).
 *
 * A kept episode that revisits a state has the detour between the two visits cut out
 * (ws_prune_loops, a pure function over state keys, ws_episode_state_key), and the shortened
 * action sequence is replayed in a fresh episode to check it still reaches the same reward
 * (ws_prune_trajectory); ws_traj_replay_check replays a record as it is. */
#ifndef WS_PRUNE_H
#define WS_PRUNE_H

#include <jansson.h>
#include <stddef.h>

#include "env.h"
#include "err.h"

typedef struct ws_prune_stats {
    long loops;         /* detours cut (a detour holding nested loops counts once) */
    long steps_removed; /* steps they held */
    long replay_failed; /* pruned trajectories that did not replay and were kept whole */
} ws_prune_stats;

/* The loop-free subsequence of an episode's steps. keys[i] (not NULL) identifies the state in
 * which step i was taken (equal strings = the same state). Rule: from the state at step i, jump
 * to that state's LAST visit j >= i and keep step j (the action taken there); go on from step
 * j + 1. The detour from the first visit to the last (a loop, with any loops nested in it) is cut,
 * and since step j was taken in the same state as step i, it leads where it led before: the kept
 * steps are a valid path through the same states, each state visited once. Writes the kept step
 * indices (ascending) to keep (room for n) and returns how many; adds to st (may be NULL).
 * Pure: no environment, no allocation. */
size_t ws_prune_loops(const char *const *keys, size_t n, size_t *keep, ws_prune_stats *st);

/* The key of a recorded step (a trajectory's steps[i]): its page and observation text. Two
 * steps with different keys were taken in different states; equal keys are necessary, not
 * sufficient, for the same state (text observations do not show the chosen options, nor where
 * `< prev` leads). Malloc'd; NULL when the step has no "obs" string or memory runs out. */
char *ws_step_key(const json_t *step);


/* Loop removal of a finished trajectory record `traj` of `goal`, checked by replay in `ep` (an
 * episode of the environment that played it, with the same episode options; reset here):
 *  1. When no two recorded steps share (page, obs), there is no loop: traj itself (a new
 *     reference) is returned, unchanged.
 *  2. Else the recorded actions are replayed from the start, each state's full key taken
 *     (ws_episode_state_key); the replay must show the recorded observations, accept every
 *     action and end where the recording ended with the same reward.
 *  3. ws_prune_loops on those keys; when it cuts something, the kept actions are replayed in a
 *     fresh episode and recorded anew (log-probabilities and values carried over from the
 *     original steps: the states are the same). The check: every kept action is among its
 *     state's valid actions and accepted, each state reached equals (full key) the state the
 *     action was originally taken in, the episode does not end before the last action, and
 *     after it the episode is over with a purchase and exactly the original reward.
 *  4. When a replay fails the check, traj is returned unchanged and st->replay_failed counts it.
 * The shortened record carries the original's policy and seed, and "loops_removed" /
 * "steps_removed". text_rich: 1 when the episodes show text_rich observations (the opened
 * products are then part of the state). NULL with err only on hard errors (memory). */
json_t *ws_prune_trajectory(ws_episode *ep, json_t *goal, json_t *traj, int text_rich, ws_prune_stats *st,
                            ws_err *err);

/* Replay a trajectory record's actions on `goal` in `ep` (reset here) and check it: each step's
 * recorded observation is the one shown, each action is accepted, the episode ends at the last
 * step and its reward equals the record's "reward". 0 when it replays, 1 with the first
 * difference in err, -1 on hard errors. */
int ws_traj_replay_check(ws_episode *ep, json_t *goal, const json_t *traj, ws_err *err);

#endif
