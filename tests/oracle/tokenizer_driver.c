/* Driver for tests/oracle/tokenizer_parity.py: lib/text/wordpiece on JSON-lines input.
 *
 *   tokenizer_driver ids VOCAB    each stdin line a JSON string -> a JSON array of ids
 *   tokenizer_driver words        each stdin line a JSON string -> a JSON array of the words of
 *                                 steps 1-3 (normalised, pre-tokenized; added tokens as written)
 *   tokenizer_driver bench VOCAB  encode every line, print tokens/s on stderr (no output)
 * Errors print {"error": "..."} for that line. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "wordpiece.h"

static void add_word(void *ctx, const char *w, size_t len, int added)
{
    (void)added;
    json_array_append_new((json_t *)ctx, json_stringn(w, len));
}

static double now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

int main(int argc, char **argv)
{
    if (argc < 2 || (strcmp(argv[1], "words") != 0 && argc < 3)) {
        fprintf(stderr, "usage: tokenizer_driver ids|bench VOCAB | words\n");
        return 2;
    }
    int words = strcmp(argv[1], "words") == 0, bench = strcmp(argv[1], "bench") == 0;
    ws_err err;
    ws_vocab *v = NULL;
    if (!words && !(v = ws_vocab_load(argv[2], &err))) {
        fprintf(stderr, "tokenizer_driver: %s\n", err.msg);
        return 1;
    }
    char *line = NULL;
    size_t cap = 0;
    ssize_t got;
    double busy = 0;
    long tokens = 0, texts = 0, bytes = 0;
    while ((got = getline(&line, &cap, stdin)) > 0) {
        json_error_t jerr;
        json_t *s = json_loadb(line, (size_t)got, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
        if (!json_is_string(s)) {
            fprintf(stderr, "tokenizer_driver: line %ld: not a JSON string\n", texts + 1);
            return 1;
        }
        const char *t = json_string_value(s);
        size_t n = json_string_length(s);
        json_t *out = json_array();
        int rc;
        if (words) {
            rc = ws_wordpiece_pretokenize(t, n, add_word, out, &err);
        } else {
            int32_t *ids;
            size_t k;
            double t0 = now();
            rc = ws_wordpiece_encode_n(v, t, n, &ids, &k, &err);
            busy += now() - t0;
            if (rc == 0) {
                tokens += (long)k;
                bytes += (long)n;
                if (!bench)
                    for (size_t i = 0; i < k; i++)
                        json_array_append_new(out, json_integer(ids[i]));
                free(ids);
            }
        }
        texts++;
        if (rc) {
            json_decref(out);
            out = json_pack("{s:s}", "error", err.msg);
        }
        if (!bench) {
            char *o = json_dumps(out, JSON_COMPACT | JSON_ENSURE_ASCII);
            puts(o);
            free(o);
        }
        json_decref(out);
        json_decref(s);
    }
    if (bench || !words)
        fprintf(stderr, "tokenizer_driver: %ld texts, %ld bytes, %ld tokens in %.3f s: %.0f tokens/s, %.1f MB/s\n",
                texts, bytes, tokens, busy, busy > 0 ? (double)tokens / busy : 0.0,
                busy > 0 ? (double)bytes / busy / 1e6 : 0.0);
    free(line);
    ws_vocab_free(v);
    return 0;
}
