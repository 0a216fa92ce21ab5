#include "agent.h"

#include <stdlib.h>
#include <string.h>

#include "encode.h"
#include "trajectory.h"

typedef struct pending {
    json_t *actions;
    int episode;
} pending;

static void free_ids(int32_t **ids, int n)
{
    for (int i = 0; i < n; i++)
        free(ids[i]);
}

int ws_agent_act(ws_agent *ag, ws_episode *const *eps, int n, ws_rng *rngs, ws_decision *out, ws_err *err)
{
    int rc = -1, n_dec = 0, n_act = 0;
    size_t total_actions = 0;
    json_t **actions = calloc((size_t)n, sizeof *actions);
    int *dec_episode = calloc((size_t)n, sizeof *dec_episode), *state_len = calloc((size_t)n, sizeof *state_len);
    int *n_actions = calloc((size_t)n, sizeof *n_actions);
    int32_t **state_ids = calloc((size_t)n, sizeof *state_ids);
    int32_t **action_ids = NULL;
    int *action_len = NULL;
    double *lp_double = NULL; /* one decision's log-probabilities, for the sampler */
    if (!actions || !dec_episode || !state_len || !n_actions || !state_ids) {
        ws_fail(err, "out of memory");
        goto done;
    }
    memset(out, 0, (size_t)n * sizeof *out);
    for (int i = 0; i < n; i++) {
        if (!(actions[i] = ws_state_actions(eps[i]))) {
            ws_fail(err, "out of memory");
            goto done;
        }
        total_actions += json_array_size(actions[i]);
        if (json_array_size(actions[i]) == 0) {
            ws_fail(err, "agent: episode %d has no valid action", i);
            goto done;
        }
    }
    action_ids = calloc(total_actions + 1, sizeof *action_ids);
    action_len = calloc(total_actions + 1, sizeof *action_len);
    if (!action_ids || !action_len) {
        ws_fail(err, "out of memory");
        goto done;
    }
    for (int i = 0; i < n; i++) {
        size_t k = json_array_size(actions[i]);
        if (k == 1 && !ag->score_single)
            continue;
        const char *obs = ws_episode_observation(eps[i]);
        if (!obs) {
            ws_fail(err, "out of memory");
            goto done;
        }
        if (ws_encode_decision(ag->vocab, obs, actions[i], ag->max_state_len, ag->max_action_len, &state_ids[n_dec],
                               &state_len[n_dec], &action_ids[n_act], &action_len[n_act], err))
            goto done;
        n_act += (int)k;
        dec_episode[n_dec] = i;
        n_actions[n_dec++] = (int)k;
    }
    if (n_dec) {
        ws_batch b = {n_dec, (const int32_t *const *)state_ids, state_len, n_actions,
                      (const int32_t *const *)action_ids, action_len};
        if (ws_model_forward(ag->model, &b, err))
            goto done;
    }
    const ws_real *logp = n_dec ? ws_model_logp(ag->model) : NULL, *values = n_dec ? ws_model_values(ag->model) : NULL;
    size_t max_k = 1;
    for (int i = 0; i < n; i++)
        max_k = json_array_size(actions[i]) > max_k ? json_array_size(actions[i]) : max_k;
    if (!(lp_double = malloc(max_k * sizeof *lp_double))) {
        ws_fail(err, "out of memory");
        goto done;
    }
    int d = 0, a = 0;
    for (int i = 0; i < n; i++) {
        size_t k = json_array_size(actions[i]);
        int pick = 0;
        if (d < n_dec && dec_episode[d] == i) {
            const ws_real *lp = logp + a;
            for (size_t j = 0; j < k; j++)
                lp_double[j] = lp[j];
            pick = ws_rng_softmax(&rngs[i], lp_double, (int)k, ag->temperature);
            out[i].logp = lp[pick];
            out[i].value = values[d];
            out[i].scored = 1;
            a += (int)k;
            d++;
        }
        out[i].index = pick;
        out[i].actions = json_incref(actions[i]);
        if (!(out[i].action = strdup(json_string_value(json_array_get(actions[i], (size_t)pick))))) {
            ws_fail(err, "out of memory");
            goto done;
        }
    }
    rc = 0;
done:
    if (rc)
        for (int i = 0; out && i < n; i++) {
            free(out[i].action);
            out[i].action = NULL;
            json_decref(out[i].actions);
            out[i].actions = NULL;
        }
    for (int i = 0; actions && i < n; i++)
        json_decref(actions[i]);
    if (state_ids)
        free_ids(state_ids, n); /* calloc'd: entries never filled are NULL */
    if (action_ids)
        free_ids(action_ids, (int)total_actions);
    free(actions);
    free(dec_episode);
    free(state_len);
    free(n_actions);
    free(state_ids);
    free(action_ids);
    free(action_len);
    free(lp_double);
    return rc;
}
