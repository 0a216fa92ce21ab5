/* policy: the built-in policies that drive an episode without a model.
 *
 * random: uniform over the valid actions (on the search page, the search for the instruction).
 * oracle: knows the goal; searches the instruction, pages on until the target product is listed
 * and opens it, picks the goal's options and buys; when the target is not among the results, it
 * buys the result whose title matches the goal's product name best (token_set_ratio, ties to the
 * higher rank). It acts from any state, so it can relabel the states an agent visits: on a
 * sub-page it returns to the item; on another product's page it returns to the results that list
 * the target, or to the search when the results in hand are another search's and do not list it;
 * on such results it goes back to search; a wrong option value it chooses again. Both act through
 * the same actions an agent has. */
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

#endif
