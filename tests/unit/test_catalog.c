/* Unit tests of lib/webshop/catalog's mapped form: built from the JSON lines and loaded back, it
 * gives the same products (every field, the lookup by ASIN, the catalog's SHA-256, the goals) and
 * its search index the same hits and score bits (and the pruned search those of the exhaustive
 * one), on the unit fixture (reviews, options), on the 1k catalog and on a synthetic one (every
 * goal instruction as a query); the same files build the same bytes; a file built from other
 * files is refused as stale; every truncation and every flipped byte is refused with the file's
 * name or harmless (the asan build checks the reads). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "catalog_fixture.h"
#include "goals.h"
#include "rawcatalog.h"
#include "search.h"
#include "synthcatalog.h"
#include "real_catalog.h"
#include "same_hits.h"

static void assert_same_list(const char *const *a, size_t na, const char *const *b, size_t nb)
{
    assert_int_equal(na, nb);
    for (size_t i = 0; i < na; i++)
        assert_string_equal(a[i], b[i]);
}

static void assert_same_json(const json_t *a, const json_t *b)
{
    assert_true((a == NULL) == (b == NULL));
    if (a)
        assert_true(json_equal(a, b));
}

/* Every field the rest of the code reads, and the catalog's identity. */
static void assert_same_catalog(ws_catalog *a, ws_catalog *b)
{
    ws_err err = {{0}};
    assert_int_equal(a->n, b->n);
    assert_string_equal(ws_catalog_sha256(a, &err), ws_catalog_sha256(b, &err));
    for (size_t i = 0; i < a->n; i++) {
        const ws_product *p = &a->products[i], *q = &b->products[i];
        assert_string_equal(p->asin, q->asin);
        assert_string_equal(p->title, q->title);
        assert_string_equal(p->description, q->description);
        assert_string_equal(p->price_text, q->price_text);
        assert_string_equal(p->rating, q->rating);
        assert_string_equal(p->category, q->category);
        assert_string_equal(p->query, q->query);
        assert_string_equal(p->product_category, q->product_category);
        assert_string_equal(p->contents, q->contents);
        assert_same_list(p->bullets, p->n_bullets, q->bullets, q->n_bullets);
        assert_same_list(p->attributes, p->n_attributes, q->attributes, q->n_attributes);
        assert_int_equal(p->n_options, q->n_options);
        for (size_t k = 0; k < p->n_options; k++) {
            assert_string_equal(p->options[k].name, q->options[k].name);
            assert_same_list(p->options[k].values, p->options[k].n_values, q->options[k].values, q->options[k].n_values);
        }
        assert_int_equal(p->n_pricing, q->n_pricing);
        assert_memory_equal(p->pricing, q->pricing, sizeof p->pricing);
        assert_memory_equal(&p->price, &q->price, sizeof p->price);
        assert_true((p->instruction == NULL) == (q->instruction == NULL));
        if (p->instruction)
            assert_string_equal(p->instruction, q->instruction);
        assert_same_list(p->instruction_attributes, p->n_instruction_attributes, q->instruction_attributes,
                         q->n_instruction_attributes);
        assert_same_json(p->reviews, q->reviews);
        assert_same_json(p->human_goals, q->human_goals);
        assert_ptr_equal(ws_catalog_find(b, p->asin), q);
    }
    assert_null(ws_catalog_find(b, "NOSUCHASIN"));
}

/* The built index of a and the mapped one of b: the same hits and score bits for each query. */
static void assert_same_search(const ws_catalog *a, const ws_catalog *b, const char *const *queries, size_t n)
{
    ws_err err = {{0}};
    ws_search_index *ia = ws_search_build_catalog(a, &err), *ib = ws_search_build_catalog(b, &err);
    ws_analyzer *an = ws_analyzer_new(&err);
    assert_non_null(ia);
    assert_non_null(ib);
    for (size_t q = 0; q < n; q++) {
        ws_search_hit ha[WS_SEARCH_TOP], hb[WS_SEARCH_TOP];
        size_t na, nb;
        assert_int_equal(ws_search(ia, an, queries[q], WS_SEARCH_TOP, ha, &na, &err), 0);
        assert_int_equal(ws_search(ib, an, queries[q], WS_SEARCH_TOP, hb, &nb, &err), 0);
        assert_same_hits(ha, na, hb, nb);
        /* and the pruned search gives what scoring every posting gives */
        assert_int_equal(ws_search_exhaustive(ib, an, queries[q], WS_SEARCH_TOP, hb, &nb, &err), 0);
        assert_same_hits(ha, na, hb, nb);
    }
    ws_analyzer_free(an);
    ws_search_free(ia);
    ws_search_free(ib);
}

/* Build dir's mapped catalog, load it and the JSON lines, compare them (products, goals of both
 * kinds, search on every synthetic goal's instruction and the extra queries); how many goals. */
static size_t check_dir(const char *dir, uint64_t seed, const char *const *extra, size_t n_extra)
{
    ws_err err = {{0}};
    ws_catalog_build_stats st;
    if (ws_catalog_build_mapped(dir, &st, &err))
        fail_msg("%s", err.msg);
    ws_catalog json, mapped;
    if (ws_catalog_load_json(&json, dir, seed, &err) || ws_catalog_load(&mapped, dir, seed, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(st.products, json.n);
    assert_non_null(mapped.map);
    assert_null(json.map);
    assert_same_catalog(&json, &mapped);
    size_t n_goals = 0;
    for (int source = 0; source < 2; source++) {
        ws_goal_set ga, gb;
        ws_goal_source src = source ? WS_GOALS_HUMAN : WS_GOALS_SYNTHETIC;
        assert_int_equal(ws_goals_build(&json, src, seed, &ga, &err), 0);
        assert_int_equal(ws_goals_build(&mapped, src, seed, &gb, &err), 0);
        assert_int_equal(ga.n, gb.n);
        json_t **goals = malloc((ga.n + 1) * sizeof *goals);
        for (size_t g = 0; g < ga.n; g++) {
            goals[g] = ws_goals_get(&ga, g, &err);
            json_t *other = ws_goals_get(&gb, g, &err);
            assert_non_null(goals[g]);
            assert_true(json_equal(goals[g], other));
            json_decref(other);
        }
        if (src == WS_GOALS_SYNTHETIC) {
            const char **queries = malloc((ga.n + n_extra + 1) * sizeof *queries);
            for (size_t g = 0; g < ga.n; g++)
                queries[g] = json_string_value(json_object_get(goals[g], "instruction"));
            if (n_extra)
                memcpy(queries + ga.n, extra, n_extra * sizeof *extra);
            assert_same_search(&json, &mapped, queries, ga.n + n_extra);
            free(queries);
            n_goals = ga.n;
        }
        for (size_t g = 0; g < ga.n; g++)
            json_decref(goals[g]);
        free(goals);
        assert_null(ws_goals_get(&ga, ga.n, &err)); /* past the last goal */
        assert_non_null(strstr(err.msg, "goals"));
        ws_goals_free(&ga);
        ws_goals_free(&gb);
    }
    ws_catalog_free(&json);
    ws_catalog_free(&mapped);
    return n_goals;
}

static void mapped_path(const char *dir, char *out, size_t cap)
{
    snprintf(out, cap, "%s/" WS_CATALOG_MAPPED_NAME, dir);
}

static const char *const fixture_queries[] = {"oak table", "widget", "widget number 13", "pillow cover red",
                                              "nothing here", ""};

static void test_fixture_mapped(void **state)
{
    fixture *f = *state;
    check_dir(f->dir, 1, fixture_queries, sizeof fixture_queries / sizeof *fixture_queries);
    /* a mapped catalog serves the environment: the reviews page of the table */
    ws_err err = {{0}};
    ws_catalog cat;
    assert_int_equal(ws_catalog_load(&cat, f->dir, 1, &err), 0);
    assert_non_null(cat.products[0].reviews);
    ws_env *env = ws_env_new(&cat, NULL, &err);
    assert_non_null(env);
    ws_env_free(env);
    ws_catalog_free(&cat);
    char path[256];
    mapped_path(f->dir, path, sizeof path);
    unlink(path);
}

static int read_file(const char *path, unsigned char **bytes, long *size)
{
    FILE *in = fopen(path, "rb");
    if (!in)
        return -1;
    fseek(in, 0, SEEK_END);
    *size = ftell(in);
    rewind(in);
    *bytes = malloc((size_t)*size + 1);
    size_t got = fread(*bytes, 1, (size_t)*size, in);
    fclose(in);
    return got == (size_t)*size ? 0 : -1;
}

static void test_deterministic_and_stale(void **state)
{
    fixture *f = *state;
    ws_err err = {{0}};
    char path[256];
    mapped_path(f->dir, path, sizeof path);
    unsigned char *first, *second;
    long n1, n2;
    assert_int_equal(ws_catalog_build_mapped(f->dir, NULL, &err), 0);
    assert_int_equal(read_file(path, &first, &n1), 0);
    assert_int_equal(ws_catalog_build_mapped(f->dir, NULL, &err), 0);
    assert_int_equal(read_file(path, &second, &n2), 0);
    assert_int_equal(n1, n2);
    assert_memory_equal(first, second, (size_t)n1);
    free(first);
    free(second);

    /* the products file touched: stale, named, until rebuilt */
    struct timespec times[2] = {{0, UTIME_OMIT}, {12345, 0}};
    assert_int_equal(utimensat(AT_FDCWD, f->path, times, 0), 0);
    ws_catalog cat;
    assert_int_equal(ws_catalog_load(&cat, f->dir, 1, &err), -1);
    assert_non_null(strstr(err.msg, path));
    assert_non_null(strstr(err.msg, "stale"));
    assert_int_equal(cat.n, 0);
    assert_int_equal(ws_catalog_build_mapped(f->dir, NULL, &err), 0);
    assert_int_equal(ws_catalog_load(&cat, f->dir, 1, &err), 0);
    ws_catalog_free(&cat);
    /* an instructions file appearing beside it: stale too */
    char items[256];
    snprintf(items, sizeof items, "%s/items_ins_v2_1000.json", f->dir);
    FILE *out = fopen(items, "w");
    fputs("{}", out);
    fclose(out);
    assert_int_equal(ws_catalog_load(&cat, f->dir, 1, &err), -1);
    assert_non_null(strstr(err.msg, "items_ins_v2_1000.json appeared"));
    unlink(items);
    unlink(path);
}

/* A damaged copy is refused naming it, or loads and serves: the strings readable, searches
 * answered (or refused) without reading outside the file. */
static void load_damaged(const char *dir, const char *path)
{
    ws_err err = {{0}};
    ws_catalog cat;
    if (ws_catalog_load(&cat, dir, 1, &err)) {
        assert_non_null(strstr(err.msg, path));
        return;
    }
    size_t total = 0;
    for (size_t i = 0; i < cat.n; i++) {
        const ws_product *p = &cat.products[i];
        total += strlen(p->asin) + strlen(p->title) + strlen(p->contents) + strlen(p->product_category);
        for (size_t k = 0; k < p->n_options; k++)
            for (size_t v = 0; v < p->options[k].n_values; v++)
                total += strlen(p->options[k].values[v]);
        for (size_t k = 0; k < p->n_bullets; k++)
            total += strlen(p->bullets[k]);
        (void)ws_catalog_find(&cat, p->asin);
    }
    ws_search_index *idx = ws_search_build_catalog(&cat, &err);
    if (idx) {
        ws_analyzer *an = ws_analyzer_new(&err);
        for (size_t q = 0; q < sizeof fixture_queries / sizeof *fixture_queries; q++) {
            ws_search_hit hits[WS_SEARCH_TOP];
            size_t n;
            if (ws_search(idx, an, fixture_queries[q], WS_SEARCH_TOP, hits, &n, &err) == 0)
                for (size_t i = 0; i < n; i++)
                    assert_true(hits[i].doc < cat.n);
        }
        ws_analyzer_free(an);
        ws_search_free(idx);
    }
    (void)total;
    ws_catalog_free(&cat);
}

static void test_damaged(void **state)
{
    fixture *f = *state;
    ws_err err = {{0}};
    char path[256];
    mapped_path(f->dir, path, sizeof path);
    assert_int_equal(ws_catalog_build_mapped(f->dir, NULL, &err), 0);
    unsigned char *bytes;
    long size;
    assert_int_equal(read_file(path, &bytes, &size), 0);
    /* written in place (same mtime rule as any file: the identity is the products file's) */
    for (long len = 0; len < size; len += len < 256 || len > size - 256 ? 1 : 61) {
        FILE *out = fopen(path, "wb");
        fwrite(bytes, 1, (size_t)len, out);
        fclose(out);
        ws_catalog cat;
        assert_int_equal(ws_catalog_load(&cat, f->dir, 1, &err), -1);
        assert_non_null(strstr(err.msg, path));
    }
    for (long at = 0; at < size; at++) {
        bytes[at] ^= 0xa5;
        FILE *out = fopen(path, "wb");
        fwrite(bytes, 1, (size_t)size, out);
        fclose(out);
        bytes[at] ^= 0xa5;
        load_damaged(f->dir, path);
    }
    free(bytes);
    unlink(path);
}

/* A directory of links to the 1k catalog's files, for the mapped file to be built beside them. */
static int link_dir(const char *from, char *dir)
{
    strcpy(dir, "/tmp/ws-catalog-1k-XXXXXX");
    if (!mkdtemp(dir))
        return -1;
    const char *names[] = {"products.jsonl.zst", "items_ins_v2_1000.json"};
    for (int i = 0; i < 2; i++) {
        char src[4096], dst[4096], abs[4096];
        snprintf(src, sizeof src, "%s/%s", from, names[i]);
        if (!realpath(src, abs))
            return -1;
        snprintf(dst, sizeof dst, "%s/%s", dir, names[i]);
        if (symlink(abs, dst))
            return -1;
    }
    return 0;
}

static void remove_dir(const char *dir)
{
    const char *names[] = {"products.jsonl.zst", "products.jsonl", "items_ins_v2_1000.json", WS_CATALOG_MAPPED_NAME};
    for (int i = 0; i < 4; i++) {
        char p[4096];
        snprintf(p, sizeof p, "%s/%s", dir, names[i]);
        unlink(p);
    }
    rmdir(dir);
}

static void test_1k(void **state)
{
    (void)state;
    char dir[64];
    real_catalog_or_skip();
    assert_int_equal(link_dir(real_catalog_dir(), dir), 0);
    assert_int_equal(check_dir(dir, 233, NULL, 0), 6910);
    remove_dir(dir);
}

/* 3,000 synthetic products from the 1k (as catalog-synth | catalog-convert makes them). */
static void test_synthetic(void **state)
{
    (void)state;
    real_catalog_or_skip();
    ws_err err = {{0}};
    ws_catalog source;
    assert_int_equal(ws_catalog_load_json(&source, real_catalog_dir(), 233, &err), 0);
    ws_synth *synth = ws_synth_new(&source, 7, &err);
    ws_rawcat *conv = ws_rawcat_new(NULL, NULL, &err);
    assert_non_null(synth);
    assert_non_null(conv);
    char dir[] = "/tmp/ws-catalog-syn-XXXXXX", path[128];
    assert_non_null(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/products.jsonl", dir);
    FILE *out = fopen(path, "w");
    json_t *items = json_object();
    for (int i = 0; i < 3000; i++) {
        json_t *raw, *entry, *doc;
        assert_int_equal(ws_synth_next(synth, &raw, &entry, &err), 0);
        if (entry)
            json_object_set_new(items, json_string_value(json_object_get(raw, "asin")), entry);
        assert_int_equal(ws_rawcat_convert(conv, raw, &doc, &err), WS_RAW_DOC);
        assert_int_equal(json_dumpf(doc, out, JSON_COMPACT), 0);
        fputc('\n', out);
        json_decref(doc);
        json_decref(raw);
    }
    fclose(out);
    snprintf(path, sizeof path, "%s/items_ins_v2_1000.json", dir);
    assert_int_equal(json_dump_file(items, path, JSON_COMPACT), 0);
    json_decref(items);
    ws_rawcat_free(conv);
    ws_synth_free(synth);
    ws_catalog_free(&source);
    assert_true(check_dir(dir, 233, NULL, 0) > 1000);
    remove_dir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_fixture_mapped, setup, teardown),
        cmocka_unit_test_setup_teardown(test_deterministic_and_stale, setup, teardown),
        cmocka_unit_test_setup_teardown(test_damaged, setup, teardown),
        cmocka_unit_test(test_1k),
        cmocka_unit_test(test_synthetic),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
