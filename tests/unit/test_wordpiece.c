/* Unit tests of lib/text/wordpiece on a small vocabulary the test writes itself (no model needed).
 * Every expected split was produced by Hugging Face's tokenizer (transformers 5.24 / tokenizers
 * 0.23.3: AutoTokenizer on this vocabulary + add_tokens of WebShop's 4 tokens, special_tokens=True;
 * the word lists by tokenizers' BertNormalizer + BertPreTokenizer). tests/oracle/tokenizer_parity.py
 * checks the real vocabulary on every Unicode code point and the whole catalog. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "model.h"
#include "wordpiece.h"

static const char *const vocab_lines[] = {
    "[PAD]", "[unused0]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", "!", "'", ",", ".", "[", "]", "«", "»", "—", "¿",
    "6", "76", "a", "b", "x", "y", "z", "q", "i", "hello", "world", "cafe", "naive", "un", "##aff", "##able",
    "run", "##ning", "l", "eau", "中", "文", "clicked", "button", "sep", "foo", "bar", "aaa", "##aa", "##a",
    "##b", "ab", "e", "##e", "istanbul", "ß", "σ", "ς", "ᄒ", "##ᅡ", "##ᆫ", "_", "#", "##q"};
enum { N_LINES = sizeof vocab_lines / sizeof vocab_lines[0] };
/* sha256sum of the file below (the lines joined by "\n", with a final "\n") */
static const char vocab_sha[] = "f4b12b068dd7c292bc9b21552dbec2f824c1820548f106fe995cea431879a424";

static char vocab_path[64];
static ws_vocab *V;

static int setup(void **state)
{
    (void)state;
    snprintf(vocab_path, sizeof vocab_path, "/tmp/test_wordpiece_%ld.txt", (long)getpid());
    FILE *f = fopen(vocab_path, "w");
    if (!f)
        return -1;
    for (int i = 0; i < N_LINES; i++)
        fprintf(f, "%s\n", vocab_lines[i]);
    fclose(f);
    ws_err err;
    V = ws_vocab_load(vocab_path, &err);
    if (!V)
        fprintf(stderr, "%s\n", err.msg);
    return V ? 0 : -1;
}

static int teardown(void **state)
{
    (void)state;
    ws_vocab_free(V);
    unlink(vocab_path);
    return 0;
}

/* Encode text (len bytes, or strlen when len is -1) and compare the tokens with the
 * space-separated want ("|" separates tokens that contain a space). */
static void expect_tokens_n(const char *text, long len, const char *want)
{
    int32_t *ids;
    size_t n;
    ws_err err;
    size_t l = len < 0 ? strlen(text) : (size_t)len;
    if (ws_wordpiece_encode_n(V, text, l, &ids, &n, &err))
        fail_msg("encode '%s': %s", text, err.msg);
    assert_non_null(ids);
    char got[8192] = "";
    size_t at = 0;
    const char sep = strchr(want, '|') ? '|' : ' ';
    for (size_t i = 0; i < n; i++) {
        const char *t = ws_vocab_token(V, ids[i]);
        assert_non_null(t);
        at += (size_t)snprintf(got + at, sizeof got - at, "%s%s", i ? (sep == '|' ? "|" : " ") : "", t);
    }
    free(ids);
    if (strcmp(got, want) != 0)
        fail_msg("encode '%s':\n  got  '%s'\n  want '%s'", text, got, want);
}

static void expect_tokens(const char *text, const char *want) { expect_tokens_n(text, -1, want); }

static void append_word(void *ctx, const char *w, size_t len, int added)
{
    char *buf = ctx;
    size_t at = strlen(buf);
    snprintf(buf + at, 4096 - at, "%s%s%.*s", at ? "|" : "", added ? "+" : "", (int)len, w);
}

/* The words of steps 1-3, '|'-separated, added tokens marked with '+'. */
static void expect_words(const char *text, const char *want)
{
    char buf[4096] = "";
    ws_err err;
    if (ws_wordpiece_pretokenize(text, strlen(text), append_word, buf, &err))
        fail_msg("pretokenize '%s': %s", text, err.msg);
    if (strcmp(buf, want) != 0)
        fail_msg("words of '%s':\n  got  '%s'\n  want '%s'", text, buf, want);
}

static void test_vocab(void **state)
{
    (void)state;
    assert_int_equal(ws_vocab_file_size(V), N_LINES);
    assert_int_equal(ws_vocab_size(V), N_LINES + 4);
    assert_int_equal(ws_vocab_pad(V), 0);
    assert_int_equal(ws_vocab_unk(V), 2);
    assert_int_equal(ws_vocab_cls(V), 3);
    assert_int_equal(ws_vocab_sep(V), 4);
    assert_int_equal(ws_vocab_mask(V), 5);
    /* WebShop's tokens come right after the file's, in add_tokens order */
    assert_int_equal(ws_vocab_id(V, "[button]"), N_LINES);
    assert_int_equal(ws_vocab_id(V, "[button_]"), N_LINES + 1);
    assert_int_equal(ws_vocab_id(V, "[clicked button]"), N_LINES + 2);
    assert_int_equal(ws_vocab_id(V, "[clicked button_]"), N_LINES + 3);
    assert_string_equal(ws_vocab_token(V, N_LINES + 3), "[clicked button_]");
    assert_int_equal(ws_vocab_id(V, "##aff"), 30);
    assert_string_equal(ws_vocab_token(V, 30), "##aff");
    assert_int_equal(ws_vocab_id(V, "中"), 36);
    assert_int_equal(ws_vocab_id(V, "aff"), -1);
    assert_int_equal(ws_vocab_id(V, ""), -1);
    assert_null(ws_vocab_token(V, -1));
    assert_null(ws_vocab_token(V, N_LINES + 4));
    assert_string_equal(ws_vocab_sha256(V), vocab_sha);
}

static void test_vocab_from_memory(void **state)
{
    (void)state;
    ws_err err;
    /* CRLF line ends and trailing blanks are not part of tokens; the last line may lack "\n" */
    const char text[] = "[PAD]\r\n[UNK] \n[CLS]\n[SEP]\n[MASK]\n[button]\nhello";
    ws_vocab *v = ws_vocab_load_mem(text, sizeof text - 1, "mem", &err);
    assert_non_null(v);
    assert_int_equal(ws_vocab_file_size(v), 7);
    assert_int_equal(ws_vocab_unk(v), 1);
    assert_int_equal(ws_vocab_id(v, "hello"), 6);
    /* a token the file has keeps its id; the other three follow the file */
    assert_int_equal(ws_vocab_id(v, "[button]"), 5);
    assert_int_equal(ws_vocab_id(v, "[button_]"), 7);
    assert_int_equal(ws_vocab_id(v, "[clicked button_]"), 9);
    assert_int_equal(ws_vocab_size(v), 10);
    ws_vocab_free(v);
}

static void test_vocab_errors(void **state)
{
    (void)state;
    ws_err err;
    assert_null(ws_vocab_load("/nonexistent/vocab.txt", &err));
    assert_non_null(strstr(err.msg, "/nonexistent/vocab.txt: No such file"));
    const char no_sep[] = "[PAD]\n[UNK]\n[CLS]\n[MASK]\n";
    assert_null(ws_vocab_load_mem(no_sep, sizeof no_sep - 1, "v.txt", &err));
    assert_string_equal(err.msg, "v.txt: the vocabulary has no [SEP] token");
    const char bad_utf8[] = "[PAD]\n[UNK]\n\xff\xfe\n";
    assert_null(ws_vocab_load_mem(bad_utf8, sizeof bad_utf8 - 1, "v.txt", &err));
    assert_string_equal(err.msg, "v.txt:3: invalid UTF-8");
    assert_null(ws_vocab_load_mem("", 0, "empty.txt", &err));
    assert_string_equal(err.msg, "empty.txt: empty vocabulary");
}

/* The vocabulary hash at the SHA-256 padding boundaries (55/56/63/64/119/120/128 bytes): the
 * five special tokens plus one line of x's; expected values from Python's hashlib. */
static void test_sha256_lengths(void **state)
{
    (void)state;
    static const struct {
        int len;
        const char *sha;
    } cases[] = {
        {31, "cc75ba7f9a1247b5c7b9e37ba840347b96122bc1d7257b5dcd7320b36585445a"},
        {55, "5b693c18853a703f38c0eb74cfbeb49a00dbb96fb630ed0706a5d5cf515d5548"},
        {56, "cc5b7039db0a52df0d63c2fcce897e5df76293e6e110015c8704ee36d68e50e0"},
        {63, "bd4a374df37b0e97d7a62879b5dd200ed21f2ab5397a6a8cf9688c59aa7badae"},
        {64, "6dc654af5530e184515e04f4f1e02bbf9f53611415d11f03bd61a42f217115ec"},
        {119, "ba338dbca67ccf269cf125fcbcb7285221c409217542906693690e152ffeb682"},
        {120, "a62635d8603eb26275148a4b745301695f765b3c6ebb5b311c57169d9cd5b2cc"},
        {128, "5ed4f5e1d8acf0bd0eaa840bd64545f42921b74b1186ac8fe49088c38c1ef424"},
    };
    const char base[] = "[PAD]\n[UNK]\n[CLS]\n[SEP]\n[MASK]\n";
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        char buf[256];
        size_t b = sizeof base - 1, len = (size_t)cases[i].len;
        memcpy(buf, base, b);
        if (len > b) {
            memset(buf + b, 'x', len - b - 1);
            buf[len - 1] = '\n';
        }
        ws_err err;
        ws_vocab *v = ws_vocab_load_mem(buf, len, "v", &err);
        assert_non_null(v);
        if (strcmp(ws_vocab_sha256(v), cases[i].sha) != 0)
            fail_msg("%zu bytes: sha256 %s, want %s", len, ws_vocab_sha256(v), cases[i].sha);
        ws_vocab_free(v);
    }
}

static void test_basic_and_accents(void **state)
{
    (void)state;
    expect_tokens("Hello world", "hello world");
    expect_tokens("Héllo CAFÉ Naïve", "hello cafe naive");
    expect_tokens("HELLO\xc2\xa0WORLD\xe3\x80\x80x", "hello world x"); /* U+00A0, U+3000 */
    expect_tokens("e\xcc\x81", "e");                                 /* e + combining acute */
    expect_tokens("İstanbul", "istanbul");
    expect_tokens("", "");
    expect_tokens("   ", "");
}

static void test_cjk(void **state)
{
    (void)state;
    expect_tokens("中文x中", "中 文 x 中");
    expect_tokens("中国", "中 [UNK]");                    /* each ideograph is a word */
    expect_tokens("한", "ᄒ ##ᅡ ##ᆫ");                   /* Hangul decomposes (NFD) into jamo */
    expect_words("x\xf0\xab\xa0\xa0y x\xf0\xab\xa4\xa0y", /* U+2B820 is not split by HF, U+2B920 is */
                 "x\xf0\xab\xa0\xa0y|x|\xf0\xab\xa4\xa0|y");
}

static void test_punctuation(void **state)
{
    (void)state;
    expect_tokens("l'eau, 6.76!", "l ' eau , 6 . 76 !");
    expect_tokens("«x»—y¿", "« x » — y ¿");
    expect_tokens("_#_", "_ # _");
    expect_tokens("a#q", "a # q");
    /* U+166D is punctuation in HF's (older) tables though Unicode 15 calls it a symbol */
    expect_words("x\xe1\x99\xady", "x|\xe1\x99\xad|y");
}

static void test_continuations(void **state)
{
    (void)state;
    expect_tokens("unaffable", "un ##aff ##able");
    expect_tokens("running", "run ##ning");
    expect_tokens("abq", "ab ##q");
    char ab[101];
    for (int i = 0; i < 100; i++)
        ab[i] = "ab"[i % 2];
    ab[100] = '\0';
    char want[1024] = "ab";
    for (int i = 0; i < 49; i++)
        strcat(want, " ##a ##b");
    expect_tokens(ab, want);
}

static void test_unknown(void **state)
{
    (void)state;
    expect_tokens("xyzw", "[UNK]"); /* no piece for "w": the whole word */
    expect_tokens("x xyzw y", "x [UNK] y");
    char a[102];
    memset(a, 'a', 101);
    a[101] = '\0';
    expect_tokens(a, "[UNK]"); /* 101 characters */
    a[100] = '\0';
    char want[1024] = "aaa";
    for (int i = 0; i < 48; i++)
        strcat(want, " ##aa");
    strcat(want, " ##a");
    expect_tokens(a, want); /* 100 characters still split */
    expect_tokens("ΣΑΣ σας", "[UNK] [UNK]");
    expect_words("ΣΑΣ σας", "σασ|σας"); /* lower-cased character by character: no final sigma */
}

static void test_added_tokens(void **state)
{
    (void)state;
    expect_tokens("a[button]b", "a|[button]|b");
    expect_tokens("x[button_]y[clicked button]z", "x|[button_]|y|[clicked button]|z");
    expect_tokens("[clicked button_][button_]", "[clicked button_]|[button_]");
    expect_tokens("[button] Back to [button_]", "[button]|[UNK]|[UNK]|[button_]");
    expect_tokens("[[button]]", "[ [button] ]");
    /* not the added tokens: two spaces, capital letter, cut short */
    expect_tokens("[clicked  button]", "[ clicked button ]");
    expect_tokens("[Button] x", "[ button ] x");
    expect_tokens("[button", "[ button");
    expect_words("a[clicked button]b", "a|+[clicked button]|b");
}

static void test_special_tokens(void **state)
{
    (void)state;
    expect_tokens("x [SEP] y", "x [SEP] y");
    expect_tokens("foo[SEP]bar", "foo [SEP] bar");
    expect_tokens("[CLS][PAD][UNK][MASK]", "[CLS] [PAD] [UNK] [MASK]");
    expect_tokens("[sep] [SEP", "[ sep ] [ sep"); /* only the exact, upper-case text */
    int32_t *ids;
    size_t n;
    ws_err err;
    assert_int_equal(ws_wordpiece_encode(V, "a [SEP] b", &ids, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_int_equal(ids[1], ws_vocab_sep(V));
    free(ids);
}

static void test_cleaning(void **state)
{
    (void)state;
    /* controls, format characters (U+200B, U+00AD), U+FFFD and private use are dropped */
    expect_words("\x01" "a\xe2\x80\x8b" "b\xef\xbf\xbd\xc2\xad" "x", "abx");
    expect_words("\xee\x80\x80" "a", "a");
    /* tab, newline, CR are white space; NEL and VT are controls; U+2028 is white space */
    expect_words("tab\tnew\nline\r\nend\xe2\x80\xa8x\xc2\x85y\x0bz", "tab|new|line|end|xyz");
    /* NUL characters (length-given text) are dropped */
    expect_tokens_n("a\0b", 3, "ab");
    /* characters unknown to HF's tables stay as they are (no category, not dropped) */
    expect_words("x\xcd\xb8y", "x\xcd\xb8y");                 /* U+0378, unassigned */
    expect_words("x\xf0\x9f\xa5\xb0y", "x\xf0\x9f\xa5\xb0y"); /* U+1F970, emoji of Unicode 11 */
    expect_words("x\xe1\x9c\xb4y", "xy");                     /* U+1734 was Mn, dropped */
    expect_words("x\xe1\xb2\x89y", "x\xe1\xb2\x8ay");         /* U+1C89 lower-cases (Unicode 16) */
    expect_words("Ｈｅｌｌｏ ǅ ﬁ Å Ω Ⅳ", "ｈｅｌｌｏ|ǆ|ﬁ|a|ω|ⅳ"); /* no compatibility folding */
}

static void test_invalid_utf8(void **state)
{
    (void)state;
    int32_t *ids = (int32_t *)1;
    size_t n = 7;
    ws_err err;
    assert_int_equal(ws_wordpiece_encode(V, "ok \xc3\x28", &ids, &n, &err), -1);
    assert_string_equal(err.msg, "byte 3: invalid UTF-8");
    assert_null(ids);
    assert_int_equal(n, 0);
    assert_int_equal(ws_wordpiece_encode(V, "\xed\xa0\x80", &ids, &n, &err), -1); /* a surrogate */
}

/* The ids the model's segment and item-title rules look for (model.h) are the project vocabulary's. */
static void test_segment_marker_ids(void **state)
{
    (void)state;
    ws_err err;
    ws_vocab *v = ws_vocab_load("models/minilm-l6/vocab.txt", &err);
    if (!v) {
        printf("# models/minilm-l6/vocab.txt missing (make model): %s\n", err.msg);
        skip();
    }
    assert_int_equal(ws_vocab_id(v, "instruction"), WS_TOKEN_INSTRUCTION);
    assert_int_equal(ws_vocab_id(v, ":"), WS_TOKEN_COLON);
    assert_int_equal(ws_vocab_sep(v), WS_TOKEN_SEP);
    assert_int_equal(ws_vocab_id(v, "[button]"), WS_TOKEN_FIRST_ADDED);
    assert_int_equal(ws_vocab_id(v, "[button_]"), WS_TOKEN_BUTTON_END);
    assert_int_equal(ws_vocab_id(v, "click"), WS_TOKEN_CLICK);
    assert_int_equal(ws_vocab_id(v, "["), WS_TOKEN_OPEN_BRACKET);
    assert_int_equal(ws_vocab_id(v, "]"), WS_TOKEN_CLOSE_BRACKET);
    assert_int_equal(ws_vocab_id(v, "b"), WS_TOKEN_B);
    assert_int_equal(ws_vocab_id(v, "##0"), WS_TOKEN_SUFFIX_0);
    ws_vocab_free(v);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_vocab),          cmocka_unit_test(test_vocab_from_memory),
        cmocka_unit_test(test_vocab_errors),   cmocka_unit_test(test_sha256_lengths),
        cmocka_unit_test(test_basic_and_accents), cmocka_unit_test(test_cjk),
        cmocka_unit_test(test_punctuation),    cmocka_unit_test(test_continuations),
        cmocka_unit_test(test_unknown),        cmocka_unit_test(test_added_tokens),
        cmocka_unit_test(test_special_tokens), cmocka_unit_test(test_cleaning),
        cmocka_unit_test(test_invalid_utf8),   cmocka_unit_test(test_segment_marker_ids),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
