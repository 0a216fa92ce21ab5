/* analyzer: the text analysis of WebShop's search engine (Anserini's DefaultEnglishAnalyzer on
 * Lucene 9), reproduced token for token.
 *
 * Owns the chain text -> index terms: Lucene's StandardTokenizer (the UAX #29 word-break grammar of
 * Lucene 9, with its rules for which segments become tokens: letters/numbers with their inner
 * `.` `,` `'` `:` joins, each CJK ideograph or hiragana, katakana and hangul runs, South-East Asian
 * runs, emoji sequences; tokens longer than 255 UTF-16 units are cut), EnglishPossessiveFilter
 * (trailing 's, ’s), LowerCaseFilter, Lucene's 33-word English stop set and Lucene's Porter
 * stemmer (the original algorithm with the reference implementation's departures: words of one or
 * two letters are left alone, -bli -> -ble, -logi -> -log; implemented here, as libstemmer's
 * "porter" lacks them). Character properties come from libunistring, brought back to the
 * Unicode 12.1 tables Lucene's scanner was generated from.
 *
 * An analyzer holds scratch memory and a character-property cache: one per thread. */
#ifndef WS_ANALYZER_H
#define WS_ANALYZER_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

/* A list of tokens: token i is the NUL-terminated UTF-8 string buf + off[i], of length
 * off[i + 1] - off[i] - 1 (off has n + 1 entries once n > 0). Start zeroed (or ws_tokens_init);
 * the functions that fill it replace its contents and reuse its memory. */
typedef struct ws_tokens {
    size_t n;
    char *buf;
    size_t *off;
    size_t buf_len, buf_cap, off_cap;
} ws_tokens;

void ws_tokens_init(ws_tokens *t);
void ws_tokens_free(ws_tokens *t);
static inline const char *ws_token(const ws_tokens *t, size_t i) { return t->buf + t->off[i]; }
static inline size_t ws_token_len(const ws_tokens *t, size_t i)
{
    return t->off[i + 1] - t->off[i] - 1;
}

typedef struct ws_analyzer ws_analyzer;

ws_analyzer *ws_analyzer_new(ws_err *err);
void ws_analyzer_free(ws_analyzer *an);

/* The index terms of a text, in order (stop words removed, so a term's position is not its
 * index). Invalid UTF-8 reads as U+FFFD, which is never part of a token. */
int ws_analyze(ws_analyzer *an, const char *text, ws_tokens *out, ws_err *err);
int ws_analyze_n(ws_analyzer *an, const char *text, size_t len, ws_tokens *out, ws_err *err);

/* The bare StandardTokenizer: the tokens as they appear in the text, before any filter. */
int ws_tokenize(ws_analyzer *an, const char *text, size_t len, ws_tokens *out, ws_err *err);

/* Lucene's Porter stemmer on a lower-cased word held as UTF-16 code units (as Lucene holds it):
 * stems w[0..n) in place and returns the new length (never more than n). */
size_t ws_porter_stem(uint16_t *w, size_t n);

#endif
