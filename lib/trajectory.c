#include "trajectory.h"

#include <stdlib.h>
#include <string.h>

json_t *ws_state_actions(ws_episode *ep)
{
    json_t *actions = json_array();
    if (ws_episode_has_search_bar(ep)) {
        char *a = ws_search_action(ws_episode_goal(ep)->instruction);
        json_array_append_new(actions, json_string(a));
        free(a);
        return actions;
    }
    for (size_t i = 0; i < ws_episode_n_clickables(ep); i++) {
        char *a;
        if (asprintf(&a, "click[%s]", ws_episode_clickable(ep, i)) < 0) {
            json_decref(actions);
            return NULL;
        }
        json_array_append_new(actions, json_string(a));
        free(a);
    }
    return actions;
}

json_t *ws_reward_json(const ws_reward *r)
{
    return json_pack("{s:f, s:f, s:f, s:o, s:f, s:f, s:b, s:b, s:I, s:I, s:I, s:I}", "reward", r->reward,
                     "r_type", r->r_type, "r_att", r->r_att, "r_option",
                     r->has_r_option ? json_real(r->r_option) : json_null(), "r_price", r->r_price,
                     "title_score", r->title_score, "query_match", r->query_match, "category_match",
                     r->category_match, "n_att_matched", (json_int_t)r->n_att_matched, "n_attributes",
                     (json_int_t)r->n_attributes, "n_option_matched", (json_int_t)r->n_option_matched,
                     "n_options", (json_int_t)r->n_options);
}

static int index_of(json_t *actions, const char *action)
{
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a) if (strcmp(json_string_value(a), action) == 0) return (int)i;
    return -1;
}

json_t *ws_run_episode(ws_episode *ep, ws_policy_kind policy, ws_rng *rng, long seed, int *target_rank,
                       ws_err *err)
{
    const ws_goal *g = ws_episode_goal(ep);
    json_t *steps = json_array();
    *target_rank = -1;
    while (!ws_episode_done(ep)) {
        const char *obs = ws_episode_observation(ep);
        json_t *actions = ws_state_actions(ep);
        char *action = ws_policy_act(policy, ep, rng, err);
        if (!obs || !actions || !action) {
            json_decref(actions);
            free(action);
            json_decref(steps);
            if (!action)
                return NULL;
            ws_fail(err, "out of memory");
            return NULL;
        }
        json_t *step = json_pack("{s:s, s:s, s:o, s:s, s:i}", "obs", obs, "page",
                                 ws_page_name(ws_episode_page(ep)), "actions", actions, "action", action,
                                 "action_index", index_of(actions, action));
        json_array_append_new(steps, step);
        ws_step out;
        int rc = ws_episode_step(ep, action, &out, err);
        free(action);
        if (rc) {
            json_decref(steps);
            return NULL;
        }
        if (ws_episode_page(ep) == WS_PAGE_RESULTS) {
            int rank = ws_episode_target_rank(ep);
            if (rank >= 0 && (*target_rank < 0 || rank < *target_rank))
                *target_rank = rank;
        }
    }
    const ws_reward *r = ws_episode_reward(ep);
    const ws_product *bought = ws_episode_purchased(ep);
    double reward = r ? r->reward : 0.0;
    json_t *traj = json_pack("{s:s, s:i, s:I, s:s, s:s, s:I, s:o, s:f, s:b, s:i, s:o, s:o, s:o, s:i}",
                             "type", "trajectory", "v", WS_TRAJECTORY_VERSION, "goal_id",
                             (json_int_t)g->goal_id, "instruction", g->instruction, "policy",
                             ws_policy_name(policy), "seed", (json_int_t)seed, "steps", steps, "reward",
                             reward, "success", reward == 1.0, "n_steps", ws_episode_steps(ep), "asin",
                             bought ? json_string(bought->asin) : json_null(), "options",
                             bought ? ws_episode_options_json(ep) : json_object(), "reward_info",
                             r ? ws_reward_json(r) : json_object(), "target_rank", *target_rank);
    if (!traj)
        ws_fail(err, "out of memory");
    return traj;
}
