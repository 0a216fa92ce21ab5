/* nouns: the noun test behind WebShop's title_score, without spaCy.
 *
 * WebShop's type reward compares the goal's product name with the purchased product's title by
 * their nouns: the tokens spaCy's English pipeline tags NOUN or PROPN, lower-cased (t.text.lower()).
 *
 *     title_score = |distinct nouns of the goal name that are also nouns of the title|
 *                   / (number of noun tokens of the goal name, repeats counted)
 *                 = 0.2 when the goal name has no noun.
 *
 * This module reproduces spaCy's English tokenizer (whitespace split, special cases, prefix /
 * suffix / infix rules, URL match, the special-case re-matching pass) and decides NOUN/PROPN per
 * token with hand-written rules over real lexicons: WordNet 3.0 (Debian's wordnet-base: index.*
 * for the parts of speech a word has, cntlist.rev for how often SemCor tagged it as each, the
 * *.exc morphology exceptions) and, when installed, the Penn-Treebank word/tag counts of
 * Lingua::EN::Tagger (Debian's liblingua-en-tagger-perl, words.yml). The tagger cannot be spaCy's
 * neural model; tests/oracle/nouns_parity.py measures how often they agree.
 *
 * A loaded ws_nouns is read-only: one may serve any number of threads. */
#ifndef WS_NOUNS_H
#define WS_NOUNS_H

#include <stddef.h>

#include "err.h"

typedef struct ws_nouns ws_nouns;

/* Default data locations (Debian). */
#define WS_NOUNS_WORDNET_DIR "/usr/share/wordnet"
#define WS_NOUNS_LINGUA_DIR "/usr/share/perl5/Lingua/EN/Tagger"

/* Load the lexicons: WordNet from wordnet_dir (NULL = WS_NOUNS_WORDNET_DIR, required) and the
 * Lingua::EN::Tagger lexicon from WS_NOUNS_LINGUA_DIR when it is there. NULL on failure, with
 * err filled. */
ws_nouns *ws_nouns_load(const char *wordnet_dir, ws_err *err);
/* The same with an explicit Lingua::EN::Tagger directory: NULL = the default, "" = none (WordNet
 * only); a directory given explicitly must hold words.yml. */
ws_nouns *ws_nouns_load_dirs(const char *wordnet_dir, const char *lingua_dir, ws_err *err);
void ws_nouns_free(ws_nouns *nn);
/* Whether the Lingua::EN::Tagger lexicon was loaded. */
int ws_nouns_has_lingua(const ws_nouns *nn);

/* The lower-cased noun tokens of text (Python's str.lower(), full Unicode case mapping), in
 * order, repeats kept. *tokens is a malloc'd array of *n malloc'd strings (NULL when *n is 0);
 * free it with ws_noun_tokens_free. Returns 0, or -1 when memory runs out or nn is NULL (then
 * *tokens is NULL and *n is 0). */
int ws_noun_tokens(const ws_nouns *nn, const char *text, char ***tokens, size_t *n);
void ws_noun_tokens_free(char **tokens, size_t n);

/* WebShop's title_score (see above) of a purchase whose title is purchased_title for a goal
 * whose product name is goal_name; NULL strings count as empty. Returns -1.0 when memory runs
 * out or nn is NULL. */
double ws_title_score(const ws_nouns *nn, const char *goal_name, const char *purchased_title);

/* One token of text: bytes [off, off + len) of the input, and whether it is tagged a noun. */
typedef struct ws_ntok {
    size_t off, len;
    int noun;
} ws_ntok;

/* spaCy's English tokenization of text (UTF-8; an invalid byte counts as one character).
 * *toks is malloc'd (free()), NULL when *n is 0; every noun flag is 0. Returns 0 or -1 (memory). */
int ws_nouns_tokenize(const char *text, ws_ntok **toks, size_t *n);
/* Tokenize and tag: noun is 1 for the tokens this module takes for NOUN/PROPN. Returns 0, or -1
 * when memory runs out or nn is NULL. */
int ws_nouns_tag(const ws_nouns *nn, const char *text, ws_ntok **toks, size_t *n);

#endif
