/* Unit tests of lib/text/nouns: spaCy's English tokenization, the noun test and WebShop's
 * title_score formula. Expected tokenizations are what spaCy 3.8 (en_core_web_sm) gives; the
 * tagging cases are ones where this module and spaCy agree. Tests that need the lexicons skip
 * when WordNet is not installed (Debian: wordnet-base). */
#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "nouns.h"

/* ---- tokenizer ---- */

typedef struct tok_case {
    const char *text;
    const char *tokens[12];
} tok_case;

static const tok_case tok_cases[] = {
    {"Sofa-Tables", {"Sofa", "-", "Tables"}},
    {"Men's Shoes", {"Men", "'s", "Shoes"}},
    {"Men\342\200\231s", {"Men", "\342\200\231s"}},
    {"(Color: Black)", {"(", "Color", ":", "Black", ")"}},
    {"2-Pack", {"2", "-", "Pack"}},
    {"6.76 fl oz.", {"6.76", "fl", "oz", "."}},
    {"fl.oz", {"fl.oz"}}, /* spaCy's URL match keeps it whole */
    {"$10", {"$", "10"}},
    {"US$5", {"US$", "5"}},
    {"10cm.", {"10", "cm", "."}},
    {"don't", {"do", "n't"}},
    {"Ltd.", {"Ltd."}},
    {"U.S.A.", {"U.S.A."}},
    {"hello...", {"hello", "..."}},
    {"5\302\260C.", {"5", "\302\260", "C", "."}},
    {"  two  spaces", {"  ", "two", " ", "spaces"}},
    {"end ", {"end"}},
    {"a\tb", {"a", "\t", "b"}},
    {"Chandelier,1", {"Chandelier,1"}},
    {"red,White", {"red", ",", "White"}},
    {"Wine red,40", {"Wine", "red,40"}},
    {"x--y", {"x", "--", "y"}},
    {"20%", {"20", "%"}},
    {"http://x.com/a", {"http://x.com/a"}},
    {"www.google.com", {"www.google.com"}},
    {"12x16", {"12x16"}},
    {"ab.Cd", {"ab", ".", "Cd"}},
    {":)", {":)"}},
    /* special cases re-matched after affix splitting (spaCy's PhraseMatcher pass) */
    {"x:)", {"x", ":)"}},
    {"yes:)!", {"yes", ":)", "!"}},
    {"hi:-)", {"hi:-", ")"}},
    {"10a.m.", {"10", "a.m."}},
    {"1am", {"1", "am"}},
    {"C++", {"C++"}},
    {"(e.g.)", {"(", "e.g.", ")"}},
    {"Hair-Care:Shampoo/Conditioner", {"Hair", "-", "Care", ":", "Shampoo", "/", "Conditioner"}},
    {"e.l.f. Makeup", {"e.l.f", ".", "Makeup"}},
    {"L'Oreal", {"L'Oreal"}},
    {"3.4oz/100ml", {"3.4oz/100ml"}},
    {"\342\200\246and", {"\342\200\246", "and"}},
    {"A+", {"A+"}},
    {"#1", {"#", "1"}},
    {"'quoted'", {"'", "quoted", "'"}},
    {"\"12\" Inch\"", {"\"", "12", "\"", "Inch", "\""}},
};

static void test_tokenizer_cases(void **state)
{
    (void)state;
    for (size_t c = 0; c < sizeof tok_cases / sizeof tok_cases[0]; c++) {
        const tok_case *tc = &tok_cases[c];
        ws_ntok *t;
        size_t n;
        assert_int_equal(ws_nouns_tokenize(tc->text, &t, &n), 0);
        size_t want = 0;
        while (want < 12 && tc->tokens[want])
            want++;
        if (n != want)
            print_error("case \"%s\": %zu tokens, want %zu\n", tc->text, n, want);
        assert_int_equal(n, want);
        for (size_t i = 0; i < n; i++) {
            size_t l = strlen(tc->tokens[i]);
            if (t[i].len != l || memcmp(tc->text + t[i].off, tc->tokens[i], l) != 0)
                print_error("case \"%s\": token %zu is \"%.*s\", want \"%s\"\n", tc->text, i,
                            (int)t[i].len, tc->text + t[i].off, tc->tokens[i]);
            assert_int_equal(t[i].len, l);
            assert_memory_equal(tc->text + t[i].off, tc->tokens[i], l);
            assert_int_equal(t[i].noun, 0);
        }
        free(t);
    }
}

static void test_tokenizer_empty(void **state)
{
    (void)state;
    ws_ntok *t = (ws_ntok *)1;
    size_t n = 99;
    assert_int_equal(ws_nouns_tokenize("", &t, &n), 0);
    assert_null(t);
    assert_int_equal(n, 0);
    assert_int_equal(ws_nouns_tokenize(NULL, &t, &n), 0);
    assert_int_equal(n, 0);
    /* a text of one space is one (space) token, as in spaCy */
    assert_int_equal(ws_nouns_tokenize(" ", &t, &n), 0);
    assert_int_equal(n, 1);
    free(t);
}

/* Invalid UTF-8 must not crash; the tokens still tile the non-space bytes. */
static void test_tokenizer_invalid_utf8(void **state)
{
    (void)state;
    const char *text = "ab\xff\xfe cd\xc3 \xe2\x82";
    ws_ntok *t;
    size_t n;
    assert_int_equal(ws_nouns_tokenize(text, &t, &n), 0);
    assert_int_equal(n, 3);
    assert_int_equal(t[0].off, 0);
    assert_int_equal(t[0].len, 4);
    assert_int_equal(t[1].off, 5);
    assert_int_equal(t[1].len, 3);
    assert_int_equal(t[2].off, 9);
    assert_int_equal(t[2].len, 2);
    free(t);
}

/* Long runs stay linear enough and keep spaCy's shape: a run of dots is one suffix. */
static void test_tokenizer_long_input(void **state)
{
    (void)state;
    size_t len = 20000;
    char *s = malloc(len + 1);
    assert_non_null(s);
    memset(s, 'a', len);
    memset(s + len - 100, '.', 100);
    s[len] = 0;
    ws_ntok *t;
    size_t n;
    assert_int_equal(ws_nouns_tokenize(s, &t, &n), 0);
    assert_int_equal(n, 2);
    assert_int_equal(t[0].len, len - 100);
    assert_int_equal(t[1].len, 100);
    free(t);
    free(s);
}

/* ---- lexicons and tagging ---- */

typedef struct fixture {
    ws_nouns *nn;      /* default: WordNet + Lingua::EN::Tagger when installed */
    ws_nouns *wn_only; /* WordNet only */
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    if (!f)
        return -1;
    ws_err err = {{0}};
    f->nn = ws_nouns_load(NULL, &err);
    f->wn_only = ws_nouns_load_dirs(NULL, "", &err);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ws_nouns_free(f->nn);
    ws_nouns_free(f->wn_only);
    free(f);
    return 0;
}

#define NEED_LEXICON(f)                                                                          \
    do {                                                                                         \
        if (!(f)->nn || !(f)->wn_only) {                                                         \
            print_message("WordNet not installed under " WS_NOUNS_WORDNET_DIR ": skipped\n");  \
            skip();                                                                              \
        }                                                                                        \
    } while (0)

static void test_load_errors(void **state)
{
    (void)state;
    ws_err err = {{0}};
    assert_null(ws_nouns_load("/nonexistent/wordnet", &err));
    assert_non_null(strstr(err.msg, "/nonexistent/wordnet/index.noun"));
    memset(&err, 0, sizeof err);
    fixture *f = *state;
    if (f->nn) {
        assert_null(ws_nouns_load_dirs(NULL, "/nonexistent/lingua", &err));
        assert_non_null(strstr(err.msg, "words.yml"));
    }
    ws_nouns_free(NULL);
    assert_int_equal(ws_nouns_has_lingua(NULL), 0);
}

/* The nouns of text joined by spaces ("" when none). */
static char *nouns_joined(const ws_nouns *nn, const char *text)
{
    char **toks;
    size_t n;
    assert_int_equal(ws_noun_tokens(nn, text, &toks, &n), 0);
    size_t len = 1;
    for (size_t i = 0; i < n; i++)
        len += strlen(toks[i]) + 1;
    char *out = calloc(1, len);
    assert_non_null(out);
    for (size_t i = 0; i < n; i++) {
        if (i)
            strcat(out, " ");
        strcat(out, toks[i]);
    }
    ws_noun_tokens_free(toks, n);
    return out;
}

typedef struct tag_case {
    const char *text, *nouns;
} tag_case;

/* Cases where spaCy (en_core_web_sm 3.8) and this module agree, with or without the Treebank
 * lexicon. */
static const tag_case tag_cases[] = {
    /* hyphen and possessive split; "Color: Black" in parentheses is a noun */
    {"Sofa-Tables for Men's (Color: Black)", "sofa tables men color black"},
    /* a strongly adjectival word closing the title after a comma is an adjective */
    {"Office Chair, Black", "office chair"},
    /* "|" is a noun; a past participle before a preposition is a verb */
    {"Lipstick | Made in Italy", "lipstick | italy"},
    /* numbers are not nouns, model numbers are */
    {"2 Pack Pillow Covers for PS4", "pack pillow covers ps4"},
    /* a name particle inside a capitalised name */
    {"Eau de Toilette Spray", "eau de toilette spray"},
    /* the hyphen of a prefixed compound */
    {"Anti-Fog Mirror", "anti - fog mirror"},
    {"Wireless Earbuds, Bluetooth 5.0 Headphones with Charging Case",
     "wireless earbuds bluetooth headphones charging case"},
    /* "12 oz" before a capitalised word */
    {"Pasta Mix (12 oz Box)", "pasta mix box"},
    /* lower case: adjectives are not nouns, a verb-or-noun after a preposition is a noun */
    {"natural loofah sponge with handle", "loofah sponge handle"},
    {"easy to apply", ""},
    /* capitals: "LED" reads as the verb led */
    {"LED Floor Lamp", "floor lamp"},
    /* repeats are kept, case is folded (Python's str.lower) */
    {"HAIR Hair hair", "hair hair hair"},
    {"\303\211TOILE Dress", "\303\251toile dress"},
};

static void test_tagging_cases(void **state)
{
    fixture *f = *state;
    NEED_LEXICON(f);
    const ws_nouns *both[2] = {f->nn, f->wn_only};
    for (int k = 0; k < 2; k++) {
        for (size_t c = 0; c < sizeof tag_cases / sizeof tag_cases[0]; c++) {
            char *got = nouns_joined(both[k], tag_cases[c].text);
            if (strcmp(got, tag_cases[c].nouns) != 0)
                print_error("%s: \"%s\": nouns \"%s\", want \"%s\"\n",
                            k ? "WordNet only" : "default", tag_cases[c].text, got,
                            tag_cases[c].nouns);
            assert_string_equal(got, tag_cases[c].nouns);
            free(got);
        }
    }
}

static void test_tag_flags_match_noun_tokens(void **state)
{
    fixture *f = *state;
    NEED_LEXICON(f);
    const char *text = "Hair Dryer, 1875W Ionic Blow Dryer with Diffuser & Concentrator";
    ws_ntok *t;
    size_t n;
    assert_int_equal(ws_nouns_tag(f->nn, text, &t, &n), 0);
    char **toks;
    size_t k;
    assert_int_equal(ws_noun_tokens(f->nn, text, &toks, &k), 0);
    size_t j = 0;
    for (size_t i = 0; i < n; i++)
        if (t[i].noun)
            j++;
    assert_int_equal(j, k);
    assert_true(k >= 6);
    ws_noun_tokens_free(toks, k);
    free(t);
    assert_int_equal(ws_nouns_tag(NULL, text, &t, &n), -1);
    assert_null(t);
    assert_int_equal(n, 0);
}

/* ---- title_score ---- */

#define assert_score(got, want)                                                                  \
    do {                                                                                         \
        double got_ = (got), want_ = (want);                                                     \
        if (fabs(got_ - want_) > 1e-12)                                                          \
            print_error("%s = %.6f, want %.6f\n", #got, got_, want_);                           \
        assert_true(fabs(got_ - want_) <= 1e-12);                                                \
    } while (0)

static void test_title_score_formula(void **state)
{
    fixture *f = *state;
    NEED_LEXICON(f);
    const ws_nouns *nn = f->nn;
    /* the goal name has no noun: 0.2 whatever the title */
    assert_score(ws_title_score(nn, "for the with and", "Hair Dryer"), 0.2);
    assert_score(ws_title_score(nn, "", "Hair Dryer"), 0.2);
    assert_score(ws_title_score(nn, NULL, NULL), 0.2);
    /* repeats count in the denominator, distinct nouns in the numerator */
    assert_score(ws_title_score(nn, "Hair Hair Brush", "Hair Dryer"), 1.0 / 3);
    assert_score(ws_title_score(nn, "Brush Brush", "Brush"), 0.5);
    assert_score(ws_title_score(nn, "Brush Brush", "Brush Brush Brush"), 0.5);
    assert_score(ws_title_score(nn, "Hair Brush", "hair BRUSH set"), 1.0);
    /* the title's repeats do not matter */
    assert_score(ws_title_score(nn, "Hair Dryer", "Hair Hair Hair"), 0.5);
    /* nothing shared */
    assert_score(ws_title_score(nn, "Hair Dryer", "Office Chair"), 0.0);
    assert_score(ws_title_score(nn, "Hair Dryer", ""), 0.0);
    /* only nouns count: "black" closing the title is an adjective there */
    assert_score(ws_title_score(nn, "Office Chair, Black", "Black Chair"), 0.5);
    /* not symmetric */
    assert_score(ws_title_score(nn, "Chair", "Office Chair"), 1.0);
    assert_score(ws_title_score(nn, "Office Chair", "Chair"), 0.5);
    assert_score(ws_title_score(NULL, "Chair", "Chair"), -1.0);
}

/* A real WebShop pair: a goal product's name against its own title and a neighbour's. */
static void test_title_score_catalog_like(void **state)
{
    fixture *f = *state;
    NEED_LEXICON(f);
    const char *goal = "Pure Glossy Locks: Repair Shampoo (13.5 Fl Oz), Sulfate Free Shampoo";
    double own = ws_title_score(f->nn, goal, goal);
    /* "shampoo" repeats: 7 nouns, 6 distinct (pure glossy locks repair shampoo fl oz sulfate
     * free -- the exact count depends on the tagger, the property does not) */
    assert_true(own > 0.7 && own < 1.0);
    double other = ws_title_score(f->nn, goal, "Moisturizing Shampoo for Dry Hair");
    assert_true(other > 0.0 && other < own);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_tokenizer_cases),
        cmocka_unit_test(test_tokenizer_empty),
        cmocka_unit_test(test_tokenizer_invalid_utf8),
        cmocka_unit_test(test_tokenizer_long_input),
        cmocka_unit_test(test_load_errors),
        cmocka_unit_test(test_tagging_cases),
        cmocka_unit_test(test_tag_flags_match_noun_tokens),
        cmocka_unit_test(test_title_score_formula),
        cmocka_unit_test(test_title_score_catalog_like),
    };
    return cmocka_run_group_tests_name("nouns", tests, setup, teardown);
}
