/* encode: the model's view of a text: [CLS] + WordPiece ids + [SEP], cut to a length.
 *
 * The truncation rule keeps the start and cuts the end: WebShop observations begin with the
 * instruction (the goal) and then the page from its top, so what goes is the bottom of long
 * result lists and descriptions, never the instruction. The tokenize tool and the agent
 * (rollouts) both encode through here, so training and acting see identical inputs. */
#ifndef WS_ENCODE_H
#define WS_ENCODE_H

#include <stdint.h>

#include "err.h"
#include "wordpiece.h"

#define WS_DEFAULT_MAX_STATE_LEN 512
#define WS_DEFAULT_MAX_ACTION_LEN 128

/* *ids is malloc'd (caller frees), *n in [2, max_len]; max_len >= 2. */
int ws_encode_text(const ws_vocab *v, const char *text, int max_len, int32_t **ids, int *n, ws_err *err);

#endif
