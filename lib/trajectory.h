/* trajectory: an episode played out by a policy, recorded as a trajectory record.
 *
 * Each step keeps the observation, the valid actions of the state (the search for the
 * instruction on the search page, click[...] for every clickable otherwise), the action taken
 * and its index among them; the record ends with the reward and its components
 * (schemas/trajectory.schema.json). */
#ifndef WS_TRAJECTORY_H
#define WS_TRAJECTORY_H

#include <jansson.h>

#include "env.h"
#include "policy.h"
#include "reward.h"
#include "rng.h"

#define WS_TRAJECTORY_VERSION 1

/* The valid actions of the episode's current state, as action strings (new reference). */
json_t *ws_state_actions(ws_episode *ep);

/* Play the reset episode to its end. *target_rank: the goal product's best rank in any search
 * of the episode (-1 when never listed). New reference, or NULL with err. */
json_t *ws_run_episode(ws_episode *ep, ws_policy_kind policy, ws_rng *rng, long seed, int *target_rank,
                       ws_err *err);

/* The reward and its components as an object (new reference). */
json_t *ws_reward_json(const ws_reward *r);

#endif
