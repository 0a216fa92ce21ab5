#include "encode.h"

#include <stdlib.h>
#include <string.h>

int ws_encode_text(const ws_vocab *v, const char *text, int max_len, int32_t **ids, int *n, ws_err *err)
{
    if (max_len < 2)
        return ws_fail(err, "encode: a length limit below 2 leaves no room for [CLS] and [SEP]");
    int32_t *pieces;
    size_t k;
    if (ws_wordpiece_encode(v, text, &pieces, &k, err))
        return -1;
    size_t keep = k < (size_t)max_len - 2 ? k : (size_t)max_len - 2;
    int32_t *out = malloc((keep + 2) * sizeof *out);
    if (!out) {
        free(pieces);
        return ws_fail(err, "out of memory");
    }
    out[0] = ws_vocab_cls(v);
    memcpy(out + 1, pieces, keep * sizeof *out);
    out[keep + 1] = ws_vocab_sep(v);
    free(pieces);
    *ids = out;
    *n = (int)keep + 2;
    return 0;
}

int ws_encode_decision(const ws_vocab *v, const char *obs, const json_t *actions, int max_state_len,
                       int max_action_len, int32_t **state_ids, int *state_len, int32_t **action_ids,
                       int *action_len, ws_err *err)
{
    if (!obs)
        return ws_fail(err, "encode: a state without an observation");
    if (ws_encode_text(v, obs, max_state_len, state_ids, state_len, err))
        return -1;
    for (size_t j = 0; j < json_array_size(actions); j++) {
        const char *a = json_string_value(json_array_get(actions, j));
        if (!a)
            return ws_fail(err, "encode: action %zu is not a string", j);
        if (ws_encode_text(v, a, max_action_len, &action_ids[j], &action_len[j], err))
            return -1;
    }
    return 0;
}
