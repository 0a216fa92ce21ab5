/* agent: the choice model as a policy in the environment.
 *
 * Each state's observation and valid actions are encoded (lib/model/encode), the states of several
 * episodes are scored in one forward pass, and an action is taken per episode: the argmax, or a
 * sample from softmax(logits / temperature). States with a single valid action (the search page:
 * the agent searches with the instruction) are taken without the model unless values are
 * needed. */
#ifndef WS_AGENT_H
#define WS_AGENT_H

#include "env.h"
#include "model.h"
#include "rng.h"
#include "wordpiece.h"

typedef struct ws_agent {
    ws_model *model;
    const ws_vocab *vocab;
    int max_state_len, max_action_len;
    double temperature; /* 0: argmax */
    int score_single;   /* 1: run the model on single-action states too (values for RL) */
} ws_agent;

typedef struct ws_decision {
    char *action;  /* malloc'd action string */
    json_t *actions; /* the state's actions chosen among (a reference the caller releases) */
    int index;     /* among the state's actions */
    double logp;   /* log-probability of the action under the model (0 when not scored) */
    double value;  /* the value head's estimate (0 when not scored) */
    int scored;
} ws_decision;

/* One decision for each of n episodes (none of them done); rngs[i] drives episode i's sampling. */
int ws_agent_act(ws_agent *ag, ws_episode *const *eps, int n, ws_rng *rngs, ws_decision *out, ws_err *err);

#endif
