/* Unit tests of lib/text/textmatch: token_set_ratio, normalize_color and goal option text. Expected
 * values were produced by thefuzz 0.22.1 / rapidfuzz 3.14.6 (Python 3.11) and WebShop's
 * normalize.py; tests/oracle/fuzz_parity.py checks the same functions on many more inputs. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "textmatch.h"

typedef struct {
    const char *a, *b;
    int want;
} ratio_case;

static void check_ratios(const ratio_case *cases, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        int got = ws_token_set_ratio(cases[i].a, cases[i].b);
        if (got != cases[i].want)
            fail_msg("token_set_ratio('%s', '%s') = %d, thefuzz says %d", cases[i].a, cases[i].b,
                     got, cases[i].want);
        /* the ratio is symmetric */
        assert_int_equal(ws_token_set_ratio(cases[i].b, cases[i].a), got);
    }
}

static void test_identical_and_subset(void **state)
{
    (void)state;
    static const ratio_case cases[] = {
        {"x-large", "x-large", 100},
        {"natural ingredients", "natural ingredients", 100},
        {"fuzzy was a bear", "fuzzy fuzzy was a bear", 100},
        {"fuzzy was a bear but not a dog", "fuzzy was a bear", 100},
        {"3.4 ounce (pack of 1)", "3.4 ounce", 100},
        {"high quality", "quality", 100},
        {"easy clean", "easy to clean", 100},
        {"fuzzy was a bear but not a dog", "fuzzy was a bear but not a cat", 92},
        {"natural ingredients", "natural ingredient", 97},
    };
    check_ratios(cases, sizeof cases / sizeof cases[0]);
}

static void test_empty(void **state)
{
    (void)state;
    static const ratio_case cases[] = {
        {"", "", 0},       /* empty vs empty is 0, not 100 */
        {"a", "", 0},      /* so is any side without words */
        {"!!!", "a", 0},
        {"!!!", "!!!", 0},
        {"  ", "  ", 0},
        {"é", "é", 0},     /* U+00E9 is dropped: no words left */
    };
    check_ratios(cases, sizeof cases / sizeof cases[0]);
    assert_int_equal(ws_token_set_ratio(NULL, "a"), 0);
    assert_int_equal(ws_token_set_ratio("a", NULL), 0);
}

static void test_punctuation_and_case(void **state)
{
    (void)state;
    static const ratio_case cases[] = {
        {"X-Large", "x large", 100},
        {"long lasting", "long-lasting", 100},
        {"men's", "mens", 89},
        {"men's", "men s", 100},
        {"a", "ab", 67},
        {"a", "b", 0},
        {"aaa", "aa", 80},
        {"zz a", "zz b", 75},
        {"Hello, World!", "hello world", 100},
    };
    check_ratios(cases, sizeof cases / sizeof cases[0]);
}

static void test_non_ascii(void **state)
{
    (void)state;
    static const ratio_case cases[] = {
        {"caf\xc3\xa9", "caf", 100},             /* café: é (U+00E9) dropped, not split */
        {"caf\xc3\xa9", "cafe", 86},
        {"na\xc3\xafve", "nave", 100},           /* naïve */
        {"a\xc2\xa0" "b", "ab", 100},            /* a NBSP b: the NBSP is dropped */
        {"a\xc2\xa0" "b", "a b", 80},
        {"\xe4\xb8\xad\xe6\x96\x87", "\xe4\xb8\xad\xe6\x96\x87", 100},   /* 中文 kept */
        {"\xe4\xb8\xad\xe6\x96\x87 \xe5\xad\x97", "\xe4\xb8\xad\xe6\x96\x87", 100},
        {"\xe4\xb8\xad\xe6\x96\x87", "\xe5\xad\x97", 0},
        {"\xc4\xb0stanbul", "istanbul", 100},    /* İ lowers to plain i (simple mapping) */
        {"\xce\xa3\xce\x91\xce\xa3", "\xcf\x83\xce\xb1\xcf\x83", 100},   /* ΣΑΣ vs σασ */
        {"stra\xc3\x9f" "e", "strasse", 83},     /* ß (U+00DF) dropped */
    };
    check_ratios(cases, sizeof cases / sizeof cases[0]);
    /* invalid UTF-8 bytes are skipped */
    assert_int_equal(ws_token_set_ratio("ab\xff\xfe" "c", "abc"), 100);
}

static void test_rounding_half_to_even(void **state)
{
    (void)state;
    char a[64], b[64];
    /* single tokens a^n vs a^m: 100 - 100 |n - m| / (n + m), exactly .5 for these */
    static const int tie[][3] = {{7, 9, 88},   /* 87.5 */
                                 {5, 11, 62},  /* 62.5 */
                                 {1, 15, 12},  /* 12.5 */
                                 {3, 13, 38},  /* 37.5 */
                                 {6, 26, 38},  /* 37.5 */
                                 {10, 22, 62}}; /* 62.5 */
    for (size_t i = 0; i < sizeof tie / sizeof tie[0]; i++) {
        memset(a, 'a', (size_t)tie[i][0]);
        a[tie[i][0]] = '\0';
        memset(b, 'a', (size_t)tie[i][1]);
        b[tie[i][1]] = '\0';
        assert_int_equal(ws_token_set_ratio(a, b), tie[i][2]);
    }
}

/* ---- long words: the blocked LCS against a plain dynamic-programming reference ---- */

static uint64_t lcg(uint64_t *x)
{
    *x = *x * 6364136223846793005ULL + 1442695040888963407ULL;
    return *x >> 33;
}

static size_t put_utf8(char *o, uint32_t c)
{
    if (c < 0x80)
        return (size_t)(o[0] = (char)c, 1);
    if (c < 0x800)
        return o[0] = (char)(0xC0 | (c >> 6)), o[1] = (char)(0x80 | (c & 63)), 2;
    return o[0] = (char)(0xE0 | (c >> 12)), o[1] = (char)(0x80 | ((c >> 6) & 63)),
           o[2] = (char)(0x80 | (c & 63)), 3;
}

static size_t dp_lcs(const uint32_t *x, size_t n, const uint32_t *y, size_t m)
{
    size_t *row = calloc(m + 1, sizeof *row);
    assert_non_null(row);
    for (size_t i = 1; i <= n; i++) {
        size_t diag = 0;
        for (size_t j = 1; j <= m; j++) {
            size_t up = row[j];
            row[j] = x[i - 1] == y[j - 1] ? diag + 1 : (row[j - 1] > up ? row[j - 1] : up);
            diag = up;
        }
    }
    size_t r = row[m];
    free(row);
    return r;
}

static void test_long_words_exact(void **state)
{
    (void)state;
    /* word characters: a few letters, and non-ASCII ones (Cyrillic zhe, CJK) */
    static const uint32_t alpha[] = {'a', 'b', 'c', 0x436, 0x4E2D, 'd'};
    uint64_t seed = 42;
    static uint32_t x[1500], y[1500];
    static char sx[4600], sy[4600];
    for (int round = 0; round < 410; round++) {
        /* 400 rounds of up to 300 code points, then 10 long enough for the heap path */
        size_t k = 2 + lcg(&seed) % 5, span = round < 400 ? 300 : 800;
        size_t base = round < 400 ? 1 : 600;
        size_t n = base + lcg(&seed) % span, m = base + lcg(&seed) % span, lx = 0, ly = 0;
        for (size_t i = 0; i < n; i++)
            lx += put_utf8(sx + lx, x[i] = alpha[lcg(&seed) % k]);
        for (size_t i = 0; i < m; i++)
            ly += put_utf8(sy + ly, y[i] = alpha[lcg(&seed) % k]);
        sx[lx] = sy[ly] = '\0';
        if (n == m && memcmp(x, y, n * sizeof *x) == 0)
            continue;
        /* one distinct word each, no intersection: 100 * 2 LCS / (n + m), half to even */
        uint64_t num = 200 * (uint64_t)dp_lcs(x, n, y, m), den = n + m;
        uint64_t q = num / den, rem = num % den;
        int want = (int)(q + (2 * rem > den || (2 * rem == den && (q & 1))));
        int got = ws_token_set_ratio(sx, sy);
        if (got != want)
            fail_msg("round %d (lengths %zu, %zu): got %d, want %d", round, n, m, got, want);
    }
}

/* ---- thefuzz's full_process ---- */

static void expect_process(const char *in, const char *want)
{
    char *got = ws_fuzz_process(in);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static void test_full_process(void **state)
{
    (void)state;
    expect_process("  Hello, World!  ", "hello  world");
    expect_process("caf\xc3\xa9", "caf");
    expect_process("\xc4\xb0", "i");                          /* İ */
    expect_process("\xce\xa3\xce\x91\xce\xa3 x\xc2\xb2", "\xcf\x83\xce\xb1\xcf\x83 x");
    expect_process("a\xcc\x81" "b", "a b");                   /* combining acute: not alnum */
    expect_process("\xf0\x9f\x98\x80x", "x");                 /* emoji: not alnum */
    expect_process("", "");
    assert_null(ws_fuzz_process(NULL));
}

/* ---- WebShop's normalize_color ---- */

static void test_normalize_color(void **state)
{
    (void)state;
    /* WebShop's own test_normalize_color suite (NULL where WebShop returns the text itself) */
    assert_null(ws_normalize_color(""));
    assert_string_equal(ws_normalize_color("black forest"), "black");
    assert_string_equal(ws_normalize_color("violet lavender"), "lavender"); /* list order */
    assert_string_equal(ws_normalize_color("steelivy fuchsia"), "fuchsia");
    assert_string_equal(ws_normalize_color("123alabaster"), "alabaster");
    assert_null(ws_normalize_color("webshop"));
    /* substring quirks: the first listed color inside any word */
    assert_string_equal(ws_normalize_color("washed black"), "ash");
    assert_string_equal(ws_normalize_color("standard"), "tan");
    assert_string_equal(ws_normalize_color("embroidered"), "red");
    assert_string_equal(ws_normalize_color("a1-wine\xc2\xa0red"), "red");
    assert_string_equal(ws_normalize_color("yellow"), "yellow"); /* last of the list */
    assert_null(ws_normalize_color("Black")); /* case-sensitive: the catalog is lower-cased */
    assert_null(ws_normalize_color(NULL));
}

/* ---- the goal option quirk: (name, value) tuples ---- */

static void expect_goal(const char *name, const char *value, const char *want)
{
    char *got = ws_goal_option_text(name, value);
    assert_non_null(got);
    assert_string_equal(got, want);
    free(got);
}

static int goal_ratio(const char *purchased, const char *name, const char *value)
{
    char *g = ws_goal_option_text(name, value);
    assert_non_null(g);
    const char *p = ws_normalize_color(purchased);
    int r = ws_token_set_ratio(p ? p : purchased, g);
    free(g);
    return r;
}

static void test_goal_option_text(void **state)
{
    (void)state;
    /* normalize_color(('color', 'black')) is 'black': tuple membership is element equality */
    expect_goal("color", "black", "black");
    expect_goal("rose", "black", "black"); /* COLOR_SET order decides, not tuple order */
    expect_goal("light", "x", "light");    /* the name counts too */
    /* otherwise str(tuple), even when the value contains a color */
    expect_goal("color", "black forest", "('color', 'black forest')");
    expect_goal("color", "black ", "('color', 'black ')");
    expect_goal("size", "x large", "('size', 'x large')");
    /* repr: double quotes around an apostrophe, escapes of quotes, tab, backslash */
    expect_goal("size", "men's 8", "('size', \"men's 8\")");
    expect_goal("size", "it's \"q\"", "('size', 'it\\'s \"q\"')");
    expect_goal("size", "a\tb\\c", "('size', 'a\\tb\\\\c')");
    expect_goal("size", "16\" x 24\"", "('size', '16\" x 24\"')");
    /* non-printable characters are escaped: NBSP becomes the text \xa0 (a catalog value) */
    expect_goal("size", "160x100\xc2\xa0" "cm (65\"x39.5\")",
                "('size', '160x100\\xa0cm (65\"x39.5\")')");
    expect_goal("size", "\xc7\x85\xe2\x80\xa8\xf3\xa0\x80\x81x", /* Dž, U+2028, U+E0001 */
                "('size', '\xc7\x85\\u2028\\U000e0001x')");
    expect_goal("size", "caf\xc3\xa9", "('size', 'caf\xc3\xa9')"); /* printable: kept */
    expect_goal(NULL, NULL, "('', '')");

    /* what the reward then sees */
    assert_int_equal(goal_ratio("x-large", "size", "x large"), 100);
    assert_int_equal(goal_ratio("large", "size", "x large"), 100);   /* subset of the words */
    assert_int_equal(goal_ratio("x-small", "size", "x large"), 32);
    assert_int_equal(goal_ratio("medium", "size", "x large"), 22);
    assert_int_equal(goal_ratio("8", "size", "men's 8"), 100);
    assert_int_equal(goal_ratio("men's 8.5", "size", "men's 8"), 88);
    assert_int_equal(goal_ratio("black", "color", "black"), 100);
    /* the goal keeps "\xa0" as a word while the chosen value loses the NBSP */
    assert_int_equal(goal_ratio("160x100\xc2\xa0" "cm (65\"x39.5\")", "size",
                                "160x100\xc2\xa0" "cm (65\"x39.5\")"), 80);
    /* the chosen value is reduced to a color, the goal tuple is not: no match for itself */
    assert_int_equal(goal_ratio("a1-wine\xc2\xa0red", "color", "a1-wine\xc2\xa0red"), 26);
    assert_int_equal(goal_ratio("washed black", "color", "washed black"), 29);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_identical_and_subset),
        cmocka_unit_test(test_empty),
        cmocka_unit_test(test_punctuation_and_case),
        cmocka_unit_test(test_non_ascii),
        cmocka_unit_test(test_rounding_half_to_even),
        cmocka_unit_test(test_long_words_exact),
        cmocka_unit_test(test_full_process),
        cmocka_unit_test(test_normalize_color),
        cmocka_unit_test(test_goal_option_text),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
