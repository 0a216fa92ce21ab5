/* wordpiece: BERT's uncased WordPiece tokenizer, as Hugging Face's BertTokenizerFast (the
 * `tokenizers` library, which AutoTokenizer and WebShop's baseline models use) computes it, with
 * WebShop's four added tokens.
 *
 * A vocabulary is a vocab.txt (one token per line, the id is the 0-based line number) plus the
 * tokens WebShop registers with add_tokens(..., special_tokens=True): `[button]`, `[button_]`,
 * `[clicked button]`, `[clicked button_]`, which get the ids right after the file's (30522..30525
 * for BERT's 30,522-token vocabulary; a token the file already has keeps its own id).
 *
 * Encoding a text, step by step (tokenizers 0.23, BertNormalizer + BertPreTokenizer + WordPiece):
 *  1. Added and special tokens are cut out of the raw text first, case-sensitively and before any
 *     normalisation: the nine strings [PAD] [UNK] [CLS] [SEP] [MASK] and the four WebShop tokens,
 *     matched leftmost-longest anywhere (also glued to other text: "a[button]b" gives a, [button],
 *     b). So a literal " [SEP] " in an observation is the separator id 102 (WebShop's observations
 *     use it between page pieces), while "[sep]" or "[Button]" are ordinary text ([, sep, ]).
 *  2. Each piece between them is normalised: NUL, U+FFFD and control/format/unassigned/private
 *     characters (general category C*, except tab, newline, carriage return) are dropped, white
 *     space becomes a space; every CJK ideograph gets a space on each side (BERT's CJK blocks as
 *     `tokenizers` writes them: its typo 0x2B920 for 0x2B820 leaves U+2B820..U+2B91F alone, where
 *     transformers' Python BertTokenizer splits them); the text is decomposed
 *     (Unicode NFD) and non-spacing marks (Mn) are dropped (accents: café -> cafe); then it is
 *     lower-cased character by character.
 *  3. It is split on white space, and every punctuation character (ASCII !../:..@/[..`/{..~, and
 *     Unicode categories P*) becomes a word of its own.
 *  4. Each word is split greedily, longest match first, into vocabulary pieces, continuation
 *     pieces carrying the `##` prefix; a word longer than 100 characters, or with a position where
 *     no piece matches, becomes the single [UNK].
 * Character properties come from utf8proc, corrected where the Unicode tables of `tokenizers`
 * differ (see wordpiece.c): HF knows no "unassigned" category, so characters newer than its tables
 * (recent emoji, scripts) are kept as they are, not dropped. tests/oracle/tokenizer_parity.py
 * checks every code point, the catalog, all goals and rollout observations against HF.
 *
 * [CLS]/[SEP] are not added around the text: callers frame states and actions themselves.
 * A vocabulary is read-only after loading and can be shared between threads. */
#ifndef WS_WORDPIECE_H
#define WS_WORDPIECE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define WS_WORDPIECE_MAX_WORD_CHARS 100 /* longer words become [UNK] */

typedef struct ws_vocab ws_vocab;

/* Load vocab.txt (UTF-8, one token per line; "\r\n" accepted; trailing white space of a line is
 * not part of the token). The file must hold [PAD] [UNK] [CLS] [SEP] [MASK]. NULL and err filled
 * ("FILE:LINE: what") on failure. */
ws_vocab *ws_vocab_load(const char *vocab_txt, ws_err *err);
/* The same from memory (tests); `name` appears in messages. */
ws_vocab *ws_vocab_load_mem(const void *data, size_t size, const char *name, ws_err *err);
void ws_vocab_free(ws_vocab *v);

/* Number of ids: the file's lines plus the added WebShop tokens (30526 for BERT's vocabulary). */
size_t ws_vocab_size(const ws_vocab *v);
/* Number of ids that came from the file (30522 for BERT's). */
size_t ws_vocab_file_size(const ws_vocab *v);
/* The id of an exact token (added tokens included), or -1. */
int32_t ws_vocab_id(const ws_vocab *v, const char *token);
/* The token of an id ("##" continuations included), or NULL when out of range. */
const char *ws_vocab_token(const ws_vocab *v, int32_t id);
/* SHA-256 of the vocab.txt bytes as 64 lower-case hex digits (what `sha256sum vocab.txt` prints):
 * checkpoints record it so a model is never paired with another vocabulary. The added tokens are
 * fixed by this code and not part of the hash. */
const char *ws_vocab_sha256(const ws_vocab *v);

int32_t ws_vocab_cls(const ws_vocab *v);
int32_t ws_vocab_sep(const ws_vocab *v);
int32_t ws_vocab_pad(const ws_vocab *v);
int32_t ws_vocab_unk(const ws_vocab *v);
int32_t ws_vocab_mask(const ws_vocab *v);

/* Encode UTF-8 text (no [CLS]/[SEP] added). *ids is malloc'd (caller frees; non-NULL even when
 * *n is 0). Invalid UTF-8 is an error naming its byte offset. Returns 0, or -1 with err filled. */
int ws_wordpiece_encode(const ws_vocab *v, const char *text, int32_t **ids, size_t *n, ws_err *err);
/* The same for a text of `len` bytes that may hold NUL characters (dropped, as HF drops them). */
int ws_wordpiece_encode_n(const ws_vocab *v, const char *text, size_t len, int32_t **ids, size_t *n,
                          ws_err *err);

/* Steps 1-3 alone (no vocabulary needed): fn gets each word, normalised (lower-cased, accents
 * stripped), in order, `added` = 1 for an added/special token (as written). For tests, the parity
 * oracle and debugging. Returns 0, or -1 with err filled (invalid UTF-8, out of memory). */
typedef void ws_word_fn(void *ctx, const char *word, size_t len, int added);
int ws_wordpiece_pretokenize(const char *text, size_t len, ws_word_fn *fn, void *ctx, ws_err *err);

#endif
