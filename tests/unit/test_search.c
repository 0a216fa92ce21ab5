/* Unit tests of lib/webshop/search: SmallFloat length norms, BM25 scores on a tiny hand-made corpus
 * (computed by hand and with Lucene's float operations), query-term boosts, ties in ASIN order,
 * top-k, empty queries; and, where the catalog is present, one query against Lucene's answer. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "analyzer.h"
#include "catalog.h"
#include "search.h"

static void test_smallfloat(void **state)
{
    (void)state;
    for (int i = 0; i < 24; i++) { /* the 24 smallest lengths are exact */
        assert_int_equal(ws_smallfloat_int_to_byte4(i), i);
        assert_int_equal(ws_smallfloat_byte4_to_int((uint8_t)i), i);
    }
    assert_int_equal(ws_smallfloat_int_to_byte4(40), 40);
    assert_int_equal(ws_smallfloat_int_to_byte4(100), 57);
    assert_int_equal(ws_smallfloat_byte4_to_int(57), 96); /* 100 terms count as 96 */
    assert_int_equal(ws_smallfloat_int_to_byte4(1000), 87);
    assert_int_equal(ws_smallfloat_int_to_byte4(5000), 105);
    assert_int_equal(ws_smallfloat_byte4_to_int(60), 120);
    assert_int_equal(ws_smallfloat_byte4_to_int(100), 3096);
    assert_int_equal(ws_smallfloat_byte4_to_int(255), 2013265944);
    /* encoding rounds down and is monotonic */
    for (int i = 0; i < 100000; i += 7) {
        int32_t d = ws_smallfloat_byte4_to_int(ws_smallfloat_int_to_byte4(i));
        assert_true(d <= i);
        assert_true(ws_smallfloat_int_to_byte4(i) <= ws_smallfloat_int_to_byte4(i + 7));
    }
}

/* Lucene's BM25 clause score, operation by operation in float. */
static float lucene_clause(float boost, long n_docs, long df, float freq, int len, float avgdl)
{
    float idf = (float)log(1.0 + ((double)(n_docs - df) + 0.5) / ((double)df + 0.5));
    float weight = boost * idf;
    float dl = (float)ws_smallfloat_byte4_to_int(ws_smallfloat_int_to_byte4(len));
    float bdl = 0.4f * dl;
    float rel = bdl / avgdl;
    float sum = (1.0f - 0.4f) + rel;
    float den = 0.9f * sum;
    float ninv = 1.0f / den;
    float x = freq * ninv;
    float q = weight / (1.0f + x);
    return weight - q;
}

typedef struct fixture {
    ws_search_index *idx;
    ws_analyzer *an;
} fixture;

/* red shirt (2 terms) / red red shoes (3) / blue shirt large (3) / stop words only (0). */
static const char *const tiny_ids[] = {"B0", "A1", "C2", "A0"};
static const char *const tiny_texts[] = {"Red shirt", "red red shoes", "blue shirt, large",
                                         "the of and"};

static int setup_tiny(void **state)
{
    fixture *f = calloc(1, sizeof *f);
    ws_err err = {{0}};
    f->idx = ws_search_build(tiny_ids, tiny_texts, 4, &err);
    f->an = ws_analyzer_new(&err);
    if (!f->idx || !f->an)
        return -1;
    *state = f;
    return 0;
}

static int teardown(void **state)
{
    fixture *f = *state;
    ws_search_free(f->idx);
    ws_analyzer_free(f->an);
    free(f);
    return 0;
}

static size_t search(fixture *f, const char *q, size_t k, ws_search_hit *hits)
{
    ws_err err = {{0}};
    size_t n = 99;
    assert_int_equal(ws_search(f->idx, f->an, q, k, hits, &n, &err), 0);
    return n;
}

static void test_stats(void **state)
{
    fixture *f = *state;
    size_t docs;
    uint64_t terms;
    ws_search_stats(f->idx, &docs, &terms);
    assert_int_equal(docs, 3); /* the stop-words-only document has no term */
    assert_int_equal(terms, 8);
    assert_int_equal(ws_search_n_docs(f->idx), 4);
    assert_string_equal(ws_search_doc_id(f->idx, 2), "C2");
    assert_null(ws_search_doc_id(f->idx, 4));
    assert_int_equal(ws_search_doc_freq(f->idx, "red"), 2);
    assert_int_equal(ws_search_doc_freq(f->idx, "shirt"), 2);
    assert_int_equal(ws_search_doc_freq(f->idx, "larg"), 1);
    assert_int_equal(ws_search_doc_freq(f->idx, "the"), 0);
}

static void test_bm25_by_hand(void **state)
{
    fixture *f = *state;
    ws_search_hit hits[8];
    assert_int_equal(search(f, "red shirts", 10, hits), 3);
    /* N = 3, avgdl = 8/3; red and shirt: n = 2, idf = ln(1 + 1.5/2.5) = ln 1.6 = 0.4700036.
     * 1/norm for dl = 2: 1 / (0.9 (0.6 + 0.4 * 2 / (8/3))) = 1/0.81; for dl = 3: 1/0.945.
     * B0: 2 clauses of idf * (1 - 1/(1 + 1/0.81)) = 0.4700036 * 0.5524862 = 0.2596705 -> 0.519341
     * A1: red, freq 2: idf * (1 - 1/(1 + 2/0.945)) = 0.4700036 * 0.6791171 = 0.3191875
     * C2: shirt, freq 1: idf * (1 - 1/(1 + 1/0.945)) = 0.4700036 * 0.5141388 = 0.2416471 */
    assert_int_equal(hits[0].doc, 0);
    assert_int_equal(hits[1].doc, 1);
    assert_int_equal(hits[2].doc, 2);
    assert_float_equal(hits[0].score, 0.519341, 2e-6);
    assert_float_equal(hits[1].score, 0.3191875, 2e-6);
    assert_float_equal(hits[2].score, 0.2416471, 2e-6);
    /* and to the bit with Lucene's float operations (clauses summed in double) */
    float avgdl = (float)(8.0 / 3.0);
    float b0r = lucene_clause(1, 3, 2, 1, 2, avgdl), b0s = lucene_clause(1, 3, 2, 1, 2, avgdl);
    assert_true(hits[0].score == (float)((double)b0r + (double)b0s));
    assert_true(hits[1].score == lucene_clause(1, 3, 2, 2, 3, avgdl));
    assert_true(hits[2].score == lucene_clause(1, 3, 2, 1, 3, avgdl));
}

static void test_repeated_query_word_is_a_boost(void **state)
{
    fixture *f = *state;
    ws_search_hit one[8], two[8];
    assert_int_equal(search(f, "shoes", 10, one), 1);
    assert_int_equal(search(f, "shoe shoes SHOES", 10, two), 1);
    /* boost 3 on the one clause: weight 3 * idf, so the score triples up to float rounding */
    assert_true(two[0].score == lucene_clause(3, 3, 1, 1, 3, (float)(8.0 / 3.0)));
    assert_float_equal(two[0].score, 3 * one[0].score, 1e-6);
}

static void test_empty_and_unknown_queries(void **state)
{
    fixture *f = *state;
    ws_search_hit hits[8];
    assert_int_equal(search(f, "", 10, hits), 0);
    assert_int_equal(search(f, "the and of", 10, hits), 0);
    assert_int_equal(search(f, "purple", 10, hits), 0);
    assert_int_equal(search(f, "red", 0, hits), 0);
    assert_int_equal(search(f, "red shirt", 1, hits), 1);
    assert_int_equal(hits[0].doc, 0);
    ws_err err = {{0}};
    size_t n;
    assert_int_equal(ws_search(f->idx, f->an, NULL, 10, hits, &n, &err), -1);
}

static void test_ties_by_asin(void **state)
{
    (void)state;
    const char *ids[] = {"B2", "A9", "B10", "B1", "Z0"};
    const char *texts[] = {"blue hat", "blue hat", "blue hat", "blue hat", "red scarf"};
    ws_err err = {{0}};
    ws_search_index *idx = ws_search_build(ids, texts, 5, &err);
    ws_analyzer *an = ws_analyzer_new(&err);
    assert_non_null(idx);
    assert_non_null(an);
    ws_search_hit hits[8];
    size_t n;
    assert_int_equal(ws_search(idx, an, "hat", 8, hits, &n, &err), 0);
    assert_int_equal(n, 4);
    /* equal scores: ASIN ascending in byte order (A9 < B1 < B10 < B2) */
    const char *want[] = {"A9", "B1", "B10", "B2"};
    for (size_t i = 0; i < n; i++) {
        assert_string_equal(ws_search_doc_id(idx, hits[i].doc), want[i]);
        assert_true(hits[i].score == hits[0].score);
    }
    /* the tie also decides who makes a top k */
    assert_int_equal(ws_search(idx, an, "blue hat", 2, hits, &n, &err), 0);
    assert_int_equal(n, 2);
    assert_string_equal(ws_search_doc_id(idx, hits[0].doc), "A9");
    assert_string_equal(ws_search_doc_id(idx, hits[1].doc), "B1");
    ws_analyzer_free(an);
    ws_search_free(idx);
}

static void test_length_norm_is_lossy(void **state)
{
    (void)state;
    /* 100 and 98 terms both store as 96: same score for the same term frequency */
    static char a[2000], b[2000];
    size_t na = 0, nb = 0;
    na += (size_t)sprintf(a + na, "lamp");
    nb += (size_t)sprintf(b + nb, "lamp");
    for (int i = 1; i < 100; i++)
        na += (size_t)sprintf(a + na, " w%d", i);
    for (int i = 1; i < 98; i++)
        nb += (size_t)sprintf(b + nb, " v%d", i);
    const char *ids[] = {"X1", "X2", "X3"};
    const char *texts[] = {a, b, "lamp shade"};
    ws_err err = {{0}};
    ws_search_index *idx = ws_search_build(ids, texts, 3, &err);
    ws_analyzer *an = ws_analyzer_new(&err);
    ws_search_hit hits[4];
    size_t n;
    assert_int_equal(ws_search(idx, an, "lamp", 4, hits, &n, &err), 0);
    assert_int_equal(n, 3);
    assert_string_equal(ws_search_doc_id(idx, hits[0].doc), "X3");
    assert_true(hits[1].score == hits[2].score);
    assert_string_equal(ws_search_doc_id(idx, hits[1].doc), "X1");
    ws_analyzer_free(an);
    ws_search_free(idx);
}

/* The catalog, when present: the design notes' example query, against Lucene's answer. */
static void test_catalog_query(void **state)
{
    (void)state;
    const char *dir = getenv("WEBSHOP_DATA");
    if (!dir)
        dir = "../shared/webshop-1k";
    char path[1024];
    snprintf(path, sizeof path, "%s/products.jsonl.zst", dir);
    if (access(path, R_OK) != 0) {
        print_message("# skip: no catalog at %s (set WEBSHOP_DATA)\n", dir);
        skip();
    }
    ws_catalog cat;
    ws_err err = {{0}};
    assert_int_equal(ws_catalog_load(&cat, dir, 233, &err), 0);
    ws_search_index *idx = ws_search_build_catalog(&cat, &err);
    ws_analyzer *an = ws_analyzer_new(&err);
    assert_non_null(idx);
    ws_search_hit hits[WS_SEARCH_TOP];
    size_t n;
    assert_int_equal(ws_search(idx, an,
                               "i need a long lasting 6.76 fl oz bottle of l'eau d'issey, and price "
                               "lower than 100.00 dollars",
                               WS_SEARCH_TOP, hits, &n, &err),
                     0);
    assert_int_equal(n, WS_SEARCH_TOP);
    /* Anserini 1.7.1 / Lucene 9: B0874Y2KJR 6.776834 (0x40d8dbd2), B085LSKHM6 0x40d22472 */
    assert_string_equal(cat.products[hits[0].doc].asin, "B0874Y2KJR");
    assert_string_equal(cat.products[hits[1].doc].asin, "B085LSKHM6");
    uint32_t bits;
    memcpy(&bits, &hits[0].score, sizeof bits);
    assert_int_equal(bits, 0x40d8dbd2);
    ws_analyzer_free(an);
    ws_search_free(idx);
    ws_catalog_free(&cat);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_smallfloat),
        cmocka_unit_test_setup_teardown(test_stats, setup_tiny, teardown),
        cmocka_unit_test_setup_teardown(test_bm25_by_hand, setup_tiny, teardown),
        cmocka_unit_test_setup_teardown(test_repeated_query_word_is_a_boost, setup_tiny, teardown),
        cmocka_unit_test_setup_teardown(test_empty_and_unknown_queries, setup_tiny, teardown),
        cmocka_unit_test(test_ties_by_asin),
        cmocka_unit_test(test_length_norm_is_lossy),
        cmocka_unit_test(test_catalog_query),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
