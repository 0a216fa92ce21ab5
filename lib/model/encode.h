/* encode: the model's view of a text: [CLS] + WordPiece ids + [SEP], cut to a length.
 *
 * The truncation rule keeps the start and cuts the end: WebShop observations begin with the
 * instruction (the goal) and then the page from its top, so what goes is the bottom of long
 * result lists and descriptions, never the instruction. The tokenize tool and the agent
 * (rollouts) both encode through here, so training and acting see identical inputs. */
#ifndef WS_ENCODE_H
#define WS_ENCODE_H

#include <jansson.h>
#include <stdint.h>

#include "err.h"
#include "wordpiece.h"

#define WS_DEFAULT_MAX_STATE_LEN 512
#define WS_DEFAULT_MAX_ACTION_LEN 128

/* *ids is malloc'd (caller frees), *n in [2, max_len]; max_len >= 2. */
int ws_encode_text(const ws_vocab *v, const char *text, int max_len, int32_t **ids, int *n, ws_err *err);

/* One decision as the model reads it, for every caller that scores states from text (the agent,
 * pair-prefs' reference, train-ppo): the observation into state_ids and state_len, each action
 * of `actions` (a JSON array of strings) into action_ids[j]/action_len[j], arrays the caller
 * sized to the number of actions. On failure (a non-string action, or out of memory) what was
 * filled stays for the caller to free. */
int ws_encode_decision(const ws_vocab *v, const char *obs, const json_t *actions, int max_state_len,
                       int max_action_len, int32_t **state_ids, int *state_len, int32_t **action_ids,
                       int *action_len, ws_err *err);

#endif
