/* Unit tests of lib/webshop/search: SmallFloat length norms, BM25 scores on a tiny hand-made corpus
 * (computed by hand and with Lucene's float operations), query-term boosts, ties in ASIN order,
 * top-k, empty queries; the index written to a mapped file and read back (the same hits and
 * scores; every truncation and every flipped byte refused or harmless); the pruned search against
 * the exhaustive one on random corpora built to stress its bounds (ties across the k-th score,
 * a word in almost every document, very long documents, repeated query words); and, where the
 * catalog is present, one query against Lucene's answer and the mapped index's parity on every
 * goal's instruction. */
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
#include "goals.h"
#include "mapfile.h"
#include "rng.h"
#include "search.h"
#include "real_catalog.h"
#include "same_hits.h"

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
    f->idx = ws_search_build(tiny_ids, tiny_texts, NULL, 4, &err);
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
    ws_search_index *idx = ws_search_build(ids, texts, NULL, 5, &err);
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
    ws_search_index *idx = ws_search_build(ids, texts, NULL, 3, &err);
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
    const char *dir = real_catalog_or_skip();
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

/* The index through a mapped file: written, mapped, opened (NULL when refused, err says why). */
static ws_search_index *through_file(const ws_search_index *idx, const char *path, ws_mapfile **m)
{
    ws_err err = {{0}};
    ws_mapfile_writer *w = ws_mapfile_create(path, "test", 1, &err);
    assert_non_null(w);
    assert_int_equal(ws_search_write(idx, w, &err), 0);
    assert_int_equal(ws_mapfile_commit(w, &err), 0);
    assert_non_null(*m = ws_mapfile_open(path, "test", 1, &err));
    ws_search_index *mapped = ws_search_open(*m, &err);
    assert_non_null(mapped);
    return mapped;
}

/* Both indexes give the same hits, in the same order, with the same score bits. */
static void assert_same_search(const ws_search_index *a, const ws_search_index *b, ws_analyzer *an,
                               const char *query)
{
    ws_search_hit ha[WS_SEARCH_TOP], hb[WS_SEARCH_TOP];
    size_t na, nb;
    ws_err err = {{0}};
    assert_int_equal(ws_search(a, an, query, WS_SEARCH_TOP, ha, &na, &err), 0);
    assert_int_equal(ws_search(b, an, query, WS_SEARCH_TOP, hb, &nb, &err), 0);
    assert_same_hits(ha, na, hb, nb);
}

/* ws_search (pruned; the collection whole and split into 2 and 3 parts) and
 * ws_search_exhaustive: the same hits, order and score bits. */
/* idx's pruned search (1, 2 and 3 parts) and exhaustive one give what ref's exhaustive one gives
 * (ref: the same documents, another order in the index). */
static void assert_same_as_exhaustive(ws_search_index *idx, ws_search_index *ref, ws_analyzer *an, const char *query,
                                      size_t k)
{
    ws_search_hit *ha = malloc((k ? k : 1) * sizeof *ha), *hb = malloc((k ? k : 1) * sizeof *hb);
    size_t na, nb;
    ws_err err = {{0}};
    assert_int_equal(ws_search_exhaustive(idx, an, query, k, ha, &na, &err), 0);
    assert_int_equal(ws_search_exhaustive(ref, an, query, k, hb, &nb, &err), 0);
    assert_same_hits(ha, na, hb, nb);
    static const int parts[] = {1, 2, 3};
    for (size_t i = 0; i < sizeof parts / sizeof *parts; i++) {
        ws_search_set_parts(idx, parts[i]);
        assert_int_equal(ws_search(idx, an, query, k, ha, &na, &err), 0);
        assert_same_hits(ha, na, hb, nb);
    }
    ws_search_set_parts(idx, 0);
    free(ha);
    free(hb);
}

/* A word of a skewed vocabulary: low numbers common, high ones rare. */
static int random_word(ws_rng *r, int vocab)
{
    double u = ws_rng_uniform(r);
    return (int)(vocab * u * u * u);
}

/* Random corpora over several of the pruned search's windows: words drawn skewed, one word in
 * almost every document (an idf near 0), some documents very long (tiny scores), every fifth a
 * copy of an earlier one (equal scores, ordered by id across the k-th place), ids shuffled
 * against document order; queries of 1 to 30 words with repeats (boosts). Indexed in groups (of
 * documents drawing more of their words from the group's part of the vocabulary, so that windows
 * differ in their bounds and some are skipped) and as given: the same hits and scores. */
static void test_pruned_equals_exhaustive(void **state)
{
    (void)state;
    enum { N_DOCS = 13000, VOCAB = 300, N_GROUPS = 7, N_QUERIES = 150 };
    static const size_t ks[] = {1, 3, 10, 50, 700, N_DOCS + 1};
    ws_err err = {{0}};
    ws_analyzer *an = ws_analyzer_new(&err);
    assert_non_null(an);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        ws_rng r;
        ws_rng_seed(&r, seed, "test_search");
        char **texts = calloc(N_DOCS, sizeof *texts), **ids = calloc(N_DOCS, sizeof *ids),
             **groups = calloc(N_DOCS, sizeof *groups);
        size_t *perm = malloc(N_DOCS * sizeof *perm);
        for (size_t d = 0; d < N_DOCS; d++)
            perm[d] = d;
        ws_rng_shuffle(&r, perm, N_DOCS);
        for (size_t d = 0; d < N_DOCS; d++) {
            ids[d] = malloc(16);
            snprintf(ids[d], 16, "D%05zu", perm[d]);
            int g = (int)ws_rng_below(&r, N_GROUPS);
            groups[d] = malloc(16);
            snprintf(groups[d], 16, "g%d", g);
            if (d > 0 && d % 5 == 0) {
                texts[d] = strdup(texts[ws_rng_below(&r, d)]);
                continue;
            }
            size_t len = ws_rng_below(&r, 100) == 0 ? 3000 : 1 + ws_rng_below(&r, 40), at = 0;
            texts[d] = malloc(len * 8 + 8);
            if (ws_rng_below(&r, 50) != 0)
                at += (size_t)sprintf(texts[d] + at, "w0 ");
            for (size_t i = 0; i < len; i++)
                at += (size_t)sprintf(texts[d] + at, "w%d ",
                                      ws_rng_below(&r, 2) ? random_word(&r, VOCAB)
                                                          : g * (VOCAB / N_GROUPS) + random_word(&r, VOCAB / N_GROUPS));
        }
        ws_search_index *idx = ws_search_build((const char *const *)ids, (const char *const *)texts,
                                               (const char *const *)groups, N_DOCS, &err);
        ws_search_index *ref =
            ws_search_build((const char *const *)ids, (const char *const *)texts, NULL, N_DOCS, &err);
        assert_non_null(idx);
        assert_non_null(ref);
        for (int q = 0; q < N_QUERIES; q++) {
            char query[400];
            size_t at = 0, words = 1 + ws_rng_below(&r, 30);
            for (size_t i = 0; i < words; i++)
                at += (size_t)sprintf(query + at, "w%d ",
                                      ws_rng_below(&r, 4) ? random_word(&r, VOCAB) : (int)ws_rng_below(&r, VOCAB + 5));
            for (size_t i = 0; i < sizeof ks / sizeof *ks; i++)
                assert_same_as_exhaustive(idx, ref, an, query, ks[i]);
        }
        ws_search_free(idx);
        ws_search_free(ref);
        for (size_t d = 0; d < N_DOCS; d++) {
            free(texts[d]);
            free(ids[d]);
            free(groups[d]);
        }
        free(texts);
        free(ids);
        free(groups);
        free(perm);
    }
    ws_analyzer_free(an);
}

static const char *const tiny_queries[] = {"red shirt", "shirt", "red red shoes", "large blue", "the", "xyz",
                                           "shoes shirt large red blue"};

static void test_mapped_index(void **state)
{
    fixture *f = *state;
    char dir[] = "/tmp/ws-search-XXXXXX", path[64];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/index", dir);
    ws_mapfile *m;
    ws_search_index *mapped = through_file(f->idx, path, &m);
    assert_int_equal(ws_search_n_docs(mapped), 4);
    assert_string_equal(ws_search_doc_id(mapped, 2), "C2");
    assert_int_equal(ws_search_doc_freq(mapped, "shirt"), 2);
    for (size_t q = 0; q < sizeof tiny_queries / sizeof *tiny_queries; q++) {
        assert_same_search(f->idx, mapped, f->an, tiny_queries[q]);
        for (size_t k = 0; k <= 5; k++)
            assert_same_as_exhaustive(mapped, f->idx, f->an, tiny_queries[q], k);
    }
    ws_search_free(mapped);
    ws_mapfile_close(m);
    /* the same index written twice: the same bytes */
    char again[80];
    snprintf(again, sizeof again, "%s/again", dir);
    mapped = through_file(f->idx, again, &m);
    ws_search_free(mapped);
    ws_mapfile_close(m);
    FILE *x = fopen(path, "rb"), *y = fopen(again, "rb");
    int cx, cy;
    do {
        cx = fgetc(x);
        cy = fgetc(y);
        assert_int_equal(cx, cy);
    } while (cx != EOF);
    fclose(x);
    fclose(y);
    unlink(again);
    unlink(path);
    rmdir(dir);
}

/* A damaged file is refused with its name, or (a byte of a section's data changed) gives some
 * answer or an error, never a read outside the mapping (the asan build checks that). */
static void test_damaged_index(void **state)
{
    fixture *f = *state;
    char dir[] = "/tmp/ws-search-XXXXXX", path[64], bad[80];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/index", dir);
    snprintf(bad, sizeof bad, "%s/bad", dir);
    ws_mapfile *m;
    ws_search_free(through_file(f->idx, path, &m));
    ws_mapfile_close(m);
    FILE *in = fopen(path, "rb");
    fseek(in, 0, SEEK_END);
    long size = ftell(in);
    rewind(in);
    unsigned char *bytes = malloc((size_t)size);
    assert_int_equal(fread(bytes, 1, (size_t)size, in), (size_t)size);
    fclose(in);
    ws_err err = {{0}};
    for (long len = 0; len < size; len++) { /* every truncation */
        FILE *out = fopen(bad, "wb");
        fwrite(bytes, 1, (size_t)len, out);
        fclose(out);
        assert_null(ws_mapfile_open(bad, "test", 1, &err));
        assert_non_null(strstr(err.msg, bad));
    }
    long opened = 0;
    for (long at = 0; at < size; at++) { /* every byte flipped */
        bytes[at] ^= 0x5a;
        FILE *out = fopen(bad, "wb");
        fwrite(bytes, 1, (size_t)size, out);
        fclose(out);
        bytes[at] ^= 0x5a;
        ws_mapfile *bm = ws_mapfile_open(bad, "test", 1, &err);
        ws_search_index *idx = bm ? ws_search_open(bm, &err) : NULL;
        if (!idx) {
            assert_non_null(strstr(err.msg, bad));
            ws_mapfile_close(bm);
            continue;
        }
        opened++;
        for (int parts = 1; parts <= 3; parts += 2) { /* whole, and split as a large collection is */
            ws_search_set_parts(idx, parts);
            for (size_t q = 0; q < sizeof tiny_queries / sizeof *tiny_queries; q++) {
                ws_search_hit hits[WS_SEARCH_TOP];
                size_t n;
                if (ws_search(idx, f->an, tiny_queries[q], WS_SEARCH_TOP, hits, &n, &err) == 0)
                    for (size_t i = 0; i < n; i++)
                        assert_true(hits[i].doc < ws_search_n_docs(idx));
            }
        }
        ws_search_free(idx);
        ws_mapfile_close(bm);
    }
    /* the header, table and trailer are checksummed: only the sections' bytes can open */
    assert_true(opened > 0 && opened < size / 2);
    free(bytes);
    unlink(bad);
    unlink(path);
    rmdir(dir);
}

/* The catalog's index mapped gives what the built one gives on every goal's instruction. */
static void test_catalog_mapped_parity(void **state)
{
    (void)state;
    const char *dir = real_catalog_or_skip();
    ws_catalog cat;
    ws_err err = {{0}};
    char path[1024], items[1024];
    snprintf(path, sizeof path, "%s/products.jsonl.zst", dir);
    snprintf(items, sizeof items, "%s/items_ins_v2_1000.json", dir);
    assert_int_equal(ws_catalog_load_files(&cat, path, items, 233, &err), 0);
    ws_goal_set goals;
    assert_int_equal(ws_goals_build(&cat, WS_GOALS_SYNTHETIC, 233, &goals, &err), 0);
    ws_search_index *idx = ws_search_build_catalog(&cat, &err);
    ws_analyzer *an = ws_analyzer_new(&err);
    char tmp[] = "/tmp/ws-search-XXXXXX", file[64];
    assert_non_null(mkdtemp(tmp));
    snprintf(file, sizeof file, "%s/index", tmp);
    ws_mapfile *m;
    ws_search_index *mapped = through_file(idx, file, &m);
    for (size_t g = 0; g < goals.n; g++) {
        json_t *goal = ws_goals_get(&goals, g, &err);
        assert_non_null(goal);
        assert_same_search(idx, mapped, an, json_string_value(json_object_get(goal, "instruction")));
        json_decref(goal);
    }
    ws_search_free(mapped);
    ws_mapfile_close(m);
    unlink(file);
    rmdir(tmp);
    ws_analyzer_free(an);
    ws_search_free(idx);
    ws_goals_free(&goals);
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
        cmocka_unit_test(test_pruned_equals_exhaustive),
        cmocka_unit_test(test_catalog_query),
        cmocka_unit_test_setup_teardown(test_mapped_index, setup_tiny, teardown),
        cmocka_unit_test_setup_teardown(test_damaged_index, setup_tiny, teardown),
        cmocka_unit_test(test_catalog_mapped_parity),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
