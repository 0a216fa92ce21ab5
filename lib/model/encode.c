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
