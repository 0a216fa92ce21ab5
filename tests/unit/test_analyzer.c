/* Unit tests of lib/text/analyzer: Lucene's StandardTokenizer rules (numbers, joins, splits, CJK,
 * emoji, the 255-unit cut), the possessive, lower-case and stop filters, and Lucene's Porter
 * stemmer. Expected values are what Anserini's DefaultEnglishAnalyzer gives (checked with
 * tests/oracle/search.mk). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "analyzer.h"

typedef struct fixture {
    ws_analyzer *an;
    ws_tokens toks;
} fixture;

static int setup(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    ws_err err = {{0}};
    f->an = ws_analyzer_new(&err);
    if (!f->an)
        return -1;
    ws_tokens_init(&f->toks);
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ws_tokens_free(&f->toks);
    ws_analyzer_free(f->an);
    free(f);
    return 0;
}

/* The tokens joined by '|' (a character no token contains here). */
static const char *joined(const ws_tokens *t)
{
    static char buf[4096];
    size_t n = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < t->n; i++)
        n += (size_t)snprintf(buf + n, sizeof buf - n, "%s%s", i ? "|" : "", ws_token(t, i));
    return buf;
}

static void expect_terms(fixture *f, const char *text, const char *want)
{
    ws_err err = {{0}};
    assert_int_equal(ws_analyze(f->an, text, &f->toks, &err), 0);
    const char *got = joined(&f->toks);
    if (strcmp(got, want))
        fail_msg("analyze(\"%s\") = \"%s\", want \"%s\"", text, got, want);
}

static void expect_tokens(fixture *f, const char *text, const char *want)
{
    ws_err err = {{0}};
    assert_int_equal(ws_tokenize(f->an, text, strlen(text), &f->toks, &err), 0);
    const char *got = joined(&f->toks);
    if (strcmp(got, want))
        fail_msg("tokenize(\"%s\") = \"%s\", want \"%s\"", text, got, want);
}

static void test_numbers(void **state)
{
    fixture *f = *state;
    expect_terms(f, "6.76", "6.76");
    expect_terms(f, "1,000", "1,000");
    expect_terms(f, "$19.99", "19.99");
    expect_terms(f, "100.00 dollars", "100.00|dollar");
    expect_terms(f, "100% 50/50 3x4", "100|50|50|3x4");
    expect_terms(f, "1.5. 2,", "1.5|2"); /* a trailing separator is not part of the number */
    expect_terms(f, "\xEF\xBC\x95\xEF\xBC\x90", "\xEF\xBC\x95\xEF\xBC\x90"); /* full-width 50 */
}

static void test_joins_and_splits(void **state)
{
    fixture *f = *state;
    expect_terms(f, "size:large", "size:larg");
    expect_terms(f, "l'eau d'issey", "l'eau|d'issei");
    expect_terms(f, "l\xE2\x80\x99" "eau", "l\xE2\x80\x99" "eau"); /* U+2019 joins too */
    expect_terms(f, "x-large", "x|larg");
    expect_terms(f, "wi-fi a_b don't U.S.A.", "wi|fi|a_b|don't|u.s.a");
    expect_terms(f, "black/white (pack of 2)", "black|white|pack|2");
    expect_tokens(f, "a1.5b ___ _x_", "a1.5b|_x_");
}

static void test_cjk_and_scripts(void **state)
{
    fixture *f = *state;
    /* one token per ideograph and per hiragana; katakana, hangul and Thai runs stay together */
    expect_tokens(f, "\xE6\x97\xA5\xE6\x9C\xAC\xE8\xAA\x9E", "\xE6\x97\xA5|\xE6\x9C\xAC|\xE8\xAA\x9E");
    expect_tokens(f, "\xE3\x81\xB2\xE3\x82\x89", "\xE3\x81\xB2|\xE3\x82\x89");
    expect_tokens(f, "\xE3\x82\xAB\xE3\x82\xBF\xE3\x82\xAB\xE3\x83\x8A",
                  "\xE3\x82\xAB\xE3\x82\xBF\xE3\x82\xAB\xE3\x83\x8A");
    expect_tokens(f, "\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4", "\xED\x95\x9C\xEA\xB5\xAD\xEC\x96\xB4");
    expect_tokens(f, "\xE0\xB8\x97\xE0\xB8\x94\xE0\xB8\xAA", "\xE0\xB8\x97\xE0\xB8\x94\xE0\xB8\xAA");
    /* Hebrew: H " H is one token, a letter after a quote */
    expect_tokens(f, "\xD7\x90\"\xD7\x90", "\xD7\x90\"\xD7\x90");
    /* the 【 】 brackets of the catalog split */
    expect_terms(f, "\xE3\x80\x90" "Soft" "\xE3\x80\x91" "cotton", "soft|cotton");
}

static void test_emoji(void **state)
{
    fixture *f = *state;
    /* ❤️ (with its presentation selector), 🌸, 👍🏻 (modifier), 🇺🇸 (flag), 👨‍👩‍👧 (ZWJ), ™, ® */
    expect_terms(f, "\xE2\x9D\xA4\xEF\xB8\x8F gift \xF0\x9F\x8C\xB8",
                 "\xE2\x9D\xA4\xEF\xB8\x8F|gift|\xF0\x9F\x8C\xB8");
    expect_tokens(f, "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBB", "\xF0\x9F\x91\x8D\xF0\x9F\x8F\xBB");
    expect_tokens(f, "\xF0\x9F\x87\xBA\xF0\x9F\x87\xB8", "\xF0\x9F\x87\xBA\xF0\x9F\x87\xB8");
    expect_tokens(f, "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7",
                  "\xF0\x9F\x91\xA8\xE2\x80\x8D\xF0\x9F\x91\xA9\xE2\x80\x8D\xF0\x9F\x91\xA7");
    expect_tokens(f, "Brand\xC2\xAE name\xE2\x84\xA2", "Brand|\xC2\xAE|name|\xE2\x84\xA2");
    /* a keycap; a ZWJ before a bare modifier is not part of the token */
    expect_tokens(f, "1\xE2\x83\xA3", "1\xE2\x83\xA3");
    expect_tokens(f, "\xE2\x80\x8D\xF0\x9F\x8F\xBB", "\xF0\x9F\x8F\xBB");
}

static void test_possessives_case_stop_words(void **state)
{
    fixture *f = *state;
    expect_terms(f, "Men's John\xE2\x80\x99s JOHN'S dogs'", "men|john|john|dog");
    expect_terms(f, "the And OF This is a shirt", "shirt");
    expect_terms(f, "a an and are as at be but by for if in into is it no not of on or such that "
                    "the their then there these they this to was will with", "");
    expect_terms(f, "Stra\xC3\x9F" "e \xC4\xB0stanbul \xCE\xA3\xCE\x91\xCE\xA3",
                 "stra\xC3\x9F" "e|istanbul|\xCF\x83\xCE\xB1\xCF\x83");
}

static void test_porter(void **state)
{
    fixture *f = *state;
    /* Lucene's Porter: one- and two-letter words stay (xs, us), -bli -> -ble, -logi -> -log */
    expect_terms(f, "xs us possibly analogy sensibly",
                 "xs|us|possibl|analog|sensibl");
    expect_terms(f, "caresses ponies hopping agreed relational generalization large larger",
                 "caress|poni|hop|agre|relat|gener|larg|larger");
    expect_terms(f, "running runs ran easily fitted filing controlling",
                 "run|run|ran|easili|fit|file|control");

    uint16_t w[16];
    const char *in = "conditional";
    size_t n = strlen(in);
    for (size_t i = 0; i < n; i++)
        w[i] = (uint8_t)in[i];
    size_t m = ws_porter_stem(w, n);
    char out[16];
    for (size_t i = 0; i < m; i++)
        out[i] = (char)w[i];
    out[m] = '\0';
    assert_string_equal(out, "condit");
}

static void test_long_tokens_are_cut(void **state)
{
    fixture *f = *state;
    char text[400];
    memset(text, 'a', 300);
    text[300] = '\0';
    ws_err err = {{0}};
    assert_int_equal(ws_tokenize(f->an, text, 300, &f->toks, &err), 0);
    assert_int_equal(f->toks.n, 2);
    assert_int_equal(ws_token_len(&f->toks, 0), 255);
    assert_int_equal(ws_token_len(&f->toks, 1), 45);
}

static void test_bytes_and_reuse(void **state)
{
    fixture *f = *state;
    ws_err err = {{0}};
    /* invalid UTF-8 reads as U+FFFD, which separates tokens; a NUL too */
    expect_tokens(f, "ab\xFF" "cd", "ab|cd");
    assert_int_equal(ws_analyze_n(f->an, "red\0blue", 8, &f->toks, &err), 0);
    assert_string_equal(joined(&f->toks), "red|blue");
    /* each call replaces the list */
    expect_terms(f, "one two three", "on|two|three");
    expect_terms(f, "", "");
    assert_int_equal(f->toks.n, 0);
    assert_int_equal(ws_analyze(f->an, NULL, &f->toks, &err), -1);
    assert_non_null(strstr(err.msg, "no text"));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_numbers, setup, teardown),
        cmocka_unit_test_setup_teardown(test_joins_and_splits, setup, teardown),
        cmocka_unit_test_setup_teardown(test_cjk_and_scripts, setup, teardown),
        cmocka_unit_test_setup_teardown(test_emoji, setup, teardown),
        cmocka_unit_test_setup_teardown(test_possessives_case_stop_words, setup, teardown),
        cmocka_unit_test_setup_teardown(test_porter, setup, teardown),
        cmocka_unit_test_setup_teardown(test_long_tokens_are_cut, setup, teardown),
        cmocka_unit_test_setup_teardown(test_bytes_and_reuse, setup, teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
