/* trajectory: episodes recorded as trajectory records (schemas/trajectory.schema.json).
 *
 * Each step keeps the observation, the valid actions of the state (the search for the
 * instruction on the search page, click[...] for every clickable otherwise), the action taken
 * and its index among them, and, for a model's actions, its log-probability and value; the
 * record ends with the reward and its components. A builder collects the steps of one episode
 * whatever drives it (a built-in policy, the model, an imported demonstration). */
#ifndef WS_TRAJECTORY_H
#define WS_TRAJECTORY_H

#include <jansson.h>

#include "env.h"
#include "err.h"
#include "policy.h"
#include "reward.h"
#include "rng.h"
#include "schemas.h"


/* The valid actions of the episode's current state, as action strings (new reference). */
json_t *ws_state_actions(ws_episode *ep);
/* The reward and its components as an object (new reference). */
json_t *ws_reward_json(const ws_reward *r);

typedef struct ws_traj_builder {
    json_t *steps;
    int target_rank; /* best rank of the goal product in the episode's searches, -1 if never listed */
} ws_traj_builder;

/* A string field of a step of a trajectory record ("obs", "action", "page"...), or NULL. */
static inline const char *ws_traj_step_str(const json_t *step, const char *key)
{
    return json_string_value(json_object_get(step, key));
}

int ws_traj_begin(ws_traj_builder *b);
/* Record the current state and the action about to be taken (before ws_episode_step). logp and
 * value are written when has_scores. actions: the state's actions when the caller has them (an
 * agent scored them), else NULL (built here); index: the action's position in them when known,
 * else -1 (looked up; -1 is recorded when it is not among them). */
int ws_traj_step(ws_traj_builder *b, ws_episode *ep, json_t *actions, const char *action, int index,
                 int has_scores, double logp, double value);
/* Label the last recorded step with the oracle's judgement in its state (oracle_action,
 * oracle_index): its own action, or the action taken when that does as well. Where the two
 * differ, the oracle plays on from each (ws_oracle_outcome, on *scratch) and the step also keeps
 * both outcomes (oracle_outcome, action_outcome: reward and steps); the action taken stands when
 * its outcome is at least the oracle's (ws_outcome_at_least), the oracle's own choice then kept as
 * oracle_own_action. Call after ws_traj_step, before ws_episode_step. 0, or -1 with err. */
int ws_traj_label_oracle(ws_traj_builder *b, ws_episode *ep, ws_episode **scratch, ws_err *err);
/* After ws_episode_step: note what the step revealed (the goal product's rank in a search). */
void ws_traj_after_step(ws_traj_builder *b, ws_episode *ep);
/* The finished record (new reference; the builder is reset). */
json_t *ws_traj_finish(ws_traj_builder *b, ws_episode *ep, const char *policy, long seed);
void ws_traj_discard(ws_traj_builder *b);

/* Whether a recorded step's index names its action: 0 when actions[index] is the action (or
 * index is -1 and the action is not among the actions), or when the step lacks the action
 * string; -1 with err when they disagree, so a reader never trains on the index alone. oracle:
 * oracle_index and oracle_action instead of action_index and action. The caller has checked
 * that actions are strings and the index an integer within -1..n-1. */
int ws_step_check_index(const json_t *step, int oracle, ws_err *err);

/* Play the reset episode to its end with a built-in policy. */
json_t *ws_run_episode(ws_episode *ep, ws_policy_kind policy, ws_rng *rng, long seed, ws_err *err);

#endif
