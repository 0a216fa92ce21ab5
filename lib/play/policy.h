/* policy: the built-in policies that drive an episode without a model.
 *
 * random: uniform over the valid actions (on the search page, the search for the instruction).
 * oracle: knows the goal; searches the instruction, pages on until the target product is listed
 * and opens it, picks the goal's options and buys; when the target is not among the results, it
 * buys the result whose title matches the goal's product name best (token_set_ratio, ties to the
 * higher rank). It acts from any state, so it can relabel the states an agent visits: on a
 * sub-page it returns to the item; on another product's page it returns to the results that list
 * the target, or to the search when the results in hand are another search's and do not list it;
 * on such results it goes back to search; a wrong option value it chooses again. Another product
 * that serves the goal as well as the target (its reward with the oracle's choice of options at
 * least the target's) it buys where it stands. Both act through the same actions an agent has. */
#ifndef WS_POLICY_H
#define WS_POLICY_H

#include "env.h"
#include "err.h"
#include "rng.h"

typedef enum { WS_POLICY_RANDOM, WS_POLICY_ORACLE } ws_policy_kind;

int ws_policy_parse(const char *name, ws_policy_kind *kind);
const char *ws_policy_name(ws_policy_kind kind);


/* The next action in the episode's current state (caller frees); NULL with err on failure. */
char *ws_policy_act(ws_policy_kind kind, ws_episode *ep, ws_rng *rng, ws_err *err);

/* What the oracle reaches from the episode's current state when `action` is taken first (NULL:
 * its own), played to the end on *scratch (a ws_episode_copy, made or reused; ep is unchanged):
 * the reward and the episode's steps by then. How relabelling tells a harmless departure from the
 * oracle's way (another product as good) from a mistake. 0, or -1 with err. */
typedef struct ws_outcome {
    double reward;
    int steps;
} ws_outcome;
int ws_oracle_outcome(const ws_episode *ep, const char *action, ws_episode **scratch, ws_outcome *out, ws_err *err);
/* Whether outcome a is at least as good as b: a higher reward, or the same in no more steps. */
int ws_outcome_at_least(const ws_outcome *a, const ws_outcome *b);

#endif
