#include "trajectory.h"

#include <stdlib.h>
#include <string.h>

json_t *ws_state_actions(ws_episode *ep)
{
    json_t *actions = json_array();
    if (!actions)
        return NULL;
    if (ws_episode_has_search_bar(ep)) {
        char *a = ws_action_search(ws_episode_goal(ep)->instruction);
        if (!a || json_array_append_new(actions, json_string(a))) {
            free(a);
            json_decref(actions);
            return NULL;
        }
        free(a);
        return actions;
    }
    for (size_t i = 0; i < ws_episode_n_clickables(ep); i++) {
        char *a = ws_action_click(ws_episode_clickable(ep, i));
        if (!a) {
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

int ws_traj_begin(ws_traj_builder *b)
{
    b->steps = json_array();
    b->target_rank = -1;
    return b->steps ? 0 : -1;
}

static int index_of(json_t *actions, const char *action)
{
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a) if (strcmp(json_string_value(a), action) == 0) return (int)i;
    return -1;
}

int ws_step_check_index(const json_t *step, int oracle, ws_err *err)
{
    const char *ikey = oracle ? "oracle_index" : "action_index", *akey = oracle ? "oracle_action" : "action";
    const char *action = json_string_value(json_object_get(step, akey));
    json_t *actions = json_object_get(step, "actions");
    if (!action)
        return 0;
    json_int_t k = json_integer_value(json_object_get(step, ikey));
    if (k >= 0) {
        const char *named = json_string_value(json_array_get(actions, (size_t)k));
        if (named && strcmp(named, action) != 0)
            return ws_fail(err, "%s %" JSON_INTEGER_FORMAT " names \"%s\" but %s is \"%s\"", ikey, k, named, akey,
                           action);
        return 0;
    }
    size_t i;
    json_t *a;
    json_array_foreach(actions, i, a) {
        if (json_is_string(a) && strcmp(json_string_value(a), action) == 0)
            return ws_fail(err, "%s is -1 but %s \"%s\" is actions[%zu]", ikey, akey, action, i);
    }
    return 0;
}

int ws_traj_step(ws_traj_builder *b, ws_episode *ep, json_t *actions, const char *action, int index,
                 int has_scores, double logp, double value)
{
    const char *obs = ws_episode_observation(ep);
    json_t *acts = actions ? json_incref(actions) : ws_state_actions(ep);
    if (!obs || !acts) {
        json_decref(acts);
        return -1;
    }
    json_t *step = json_pack("{s:s, s:s, s:o, s:s, s:i}", "obs", obs, "page", ws_page_name(ws_episode_page(ep)),
                             "actions", acts, "action", action, "action_index", index >= 0 ? index : index_of(acts, action));
    if (step && has_scores) {
        json_object_set_new(step, "logp", json_real(logp));
        json_object_set_new(step, "value", json_real(value));
    }
    return step ? json_array_append_new(b->steps, step) : -1;
}

static json_t *outcome_json(const ws_outcome *o)
{
    return json_pack("{s:f, s:i}", "reward", o->reward, "steps", o->steps);
}

int ws_traj_label_oracle(ws_traj_builder *b, ws_episode *ep, ws_episode **scratch, ws_err *err)
{
    json_t *step = json_array_get(b->steps, json_array_size(b->steps) - 1);
    if (!step)
        return ws_fail(err, "no step to label");
    char *own = ws_policy_act(WS_POLICY_ORACLE, ep, NULL, err);
    if (!own)
        return -1;
    const char *taken = ws_traj_step_str(step, "action"), *label = own;
    int rc = 0;
    if (strcmp(own, taken) != 0) {
        /* a departure: the oracle plays on from both actions; the agent's stands when it does as well */
        ws_outcome mine, theirs;
        if (ws_oracle_outcome(ep, own, scratch, &mine, err) || ws_oracle_outcome(ep, taken, scratch, &theirs, err)) {
            free(own);
            return -1;
        }
        if (ws_outcome_at_least(&theirs, &mine)) {
            label = taken;
            rc |= json_object_set_new(step, "oracle_own_action", json_string(own));
        }
        rc |= json_object_set_new(step, "oracle_outcome", outcome_json(&mine)) ||
              json_object_set_new(step, "action_outcome", outcome_json(&theirs));
    }
    rc |= json_object_set_new(step, "oracle_index", json_integer(index_of(json_object_get(step, "actions"), label))) ||
          json_object_set_new(step, "oracle_action", json_string(label));
    free(own);
    return rc ? ws_fail(err, "out of memory") : 0;
}

void ws_traj_after_step(ws_traj_builder *b, ws_episode *ep)
{
    if (ws_episode_page(ep) != WS_PAGE_RESULTS)
        return;
    int rank = ws_episode_target_rank(ep);
    if (rank >= 0 && (b->target_rank < 0 || rank < b->target_rank))
        b->target_rank = rank;
}

json_t *ws_traj_finish(ws_traj_builder *b, ws_episode *ep, const char *policy, long seed)
{
    const ws_goal *g = ws_episode_goal(ep);
    const ws_reward *r = ws_episode_reward(ep);
    const ws_product *bought = ws_episode_purchased(ep);
    double reward = r ? r->reward : 0.0;
    json_t *traj = json_pack("{s:s, s:i, s:I, s:s, s:s, s:I, s:o, s:f, s:b, s:i, s:o, s:o, s:o, s:i}", "type",
                             "trajectory", "v", WS_TRAJECTORY_VERSION, "goal_id", (json_int_t)g->goal_id,
                             "instruction", g->instruction, "policy", policy, "seed", (json_int_t)seed, "steps",
                             b->steps, "reward", reward, "success", reward == 1.0, "n_steps", ws_episode_steps(ep),
                             "asin", bought ? json_string(bought->asin) : json_null(), "options",
                             bought ? ws_episode_options_json(ep) : json_object(), "reward_info",
                             r ? ws_reward_json(r) : json_object(), "target_rank", b->target_rank);
    b->steps = NULL;
    return traj;
}

void ws_traj_discard(ws_traj_builder *b)
{
    json_decref(b->steps);
    b->steps = NULL;
}

json_t *ws_run_episode(ws_episode *ep, ws_policy_kind policy, ws_rng *rng, long seed, ws_err *err)
{
    ws_traj_builder b;
    if (ws_traj_begin(&b))
        return ws_fail(err, "out of memory"), NULL;
    while (!ws_episode_done(ep)) {
        char *action = ws_policy_act(policy, ep, rng, err);
        if (!action) {
            ws_traj_discard(&b);
            return NULL;
        }
        ws_step out;
        int rc = ws_traj_step(&b, ep, NULL, action, -1, 0, 0, 0) ? ws_fail(err, "out of memory")
                                                               : ws_episode_step(ep, action, &out, err);
        free(action);
        if (rc) {
            ws_traj_discard(&b);
            return NULL;
        }
        ws_traj_after_step(&b, ep);
    }
    json_t *traj = ws_traj_finish(&b, ep, ws_policy_name(policy), seed);
    if (!traj)
        ws_fail(err, "out of memory");
    return traj;
}
