#include "search.h"

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "catalog.h"
#include "grow.h"
#include "strbuf.h"
#include "strmap.h"

/* The scores must round exactly as Lucene's: no fused multiply-adds (GCC leaves them off in ISO C
 * mode; clang needs telling). */
#ifdef __clang__
#pragma STDC FP_CONTRACT OFF
#endif

typedef struct term {
    uint32_t post;  /* first posting */
    uint32_t df;    /* number of postings */
    float idf;
    uint32_t win;   /* first window entry */
    uint32_t n_win; /* number of window entries: the windows the term has postings in */
} term;

/* Documents in windows of WIN (the last one shorter): the search bounds its clauses' scores in
 * each window separately, and scores a window's documents at once. Part of the file's layout.
 * At 1,181,436 synthetic products 1,024 searched faster than 4,096 (1.3x) and 512. */
enum { WIN = 1024 };

/* One window a term has postings in: where they begin, and the largest tf_norm among them (which
 * bounds the clause scores they give, as clause_score grows with tf_norm). */
typedef struct win_entry {
    uint32_t window;
    uint32_t post;
    float max_tf;
} win_entry;

/* The arrays are the same whether built here or mapped from a file (ws_search_write lays them out
 * as they are), so that one search code serves both and their results cannot differ. */
struct ws_search_index {
    size_t n_docs;
    const char *ids;          /* the documents' ids, back to back, each NUL-terminated */
    size_t ids_len;
    const uint64_t *id_off;   /* per document: its id's offset in ids */
    /* Documents are numbered in the index's own order (ws_search_builder_add's groups together,
     * so that a window holds related documents and its score bounds are tight); the postings,
     * norms and ranks are in that order, ids and hits in the order given. */
    const uint32_t *doc_given; /* per document: its number in the order given */
    const uint32_t *id_rank;  /* rank of each document's id in byte order (the tie-break) */
    const uint8_t *norm;      /* SmallFloat.intToByte4(number of terms) per document */
    size_t doc_count;         /* documents with at least one term */
    uint64_t sum_ttf;         /* total number of terms */
    float avgdl;
    float norm_inverse[256];  /* 1 / (k1 * ((1 - b) + b * dl / avgdl)) per norm byte */
    ws_strmap term_ids;       /* term text -> its index in terms */
    const term *terms;
    const win_entry *wins;    /* every term's window entries, in term order, by window */
    size_t n_wins;
    size_t n_posts;
    const uint32_t *post_doc, *post_freq;
    const float *post_score;  /* per posting: the score it gives a clause of boost 1 (clause_score
                               * of its term's idf), so that the pruned search reads a float where
                               * it would look up a norm, multiply and divide */
    const char *mapped_from;  /* the file the arrays are mapped from (nothing to free), else NULL */
    int parts;                /* ws_search_set_parts's, 0: by size and threads */
};

/* ---------------------------------------------------------------------------------------------
 * SmallFloat (Lucene): 4 significant bits and a shift, the 24 smallest values exact. */

enum { SF_NUM_FREE = 24 }; /* 255 - longToInt4(Integer.MAX_VALUE) */

static uint32_t long_to_int4(uint64_t i)
{
    int bits = i ? 64 - __builtin_clzll(i) : 0;
    if (bits < 4)
        return (uint32_t)i;
    int shift = bits - 4;
    uint32_t enc = (uint32_t)(i >> shift) & 0x07;
    return enc | (uint32_t)(shift + 1) << 3;
}

static uint64_t int4_to_long(uint32_t i)
{
    uint64_t bits = i & 0x07;
    int shift = (int)(i >> 3) - 1;
    return shift == -1 ? bits : (bits | 0x08) << shift;
}

uint8_t ws_smallfloat_int_to_byte4(int32_t i)
{
    if (i < 0)
        i = 0;
    if (i < SF_NUM_FREE)
        return (uint8_t)i;
    return (uint8_t)(SF_NUM_FREE + long_to_int4((uint64_t)(i - SF_NUM_FREE)));
}

int32_t ws_smallfloat_byte4_to_int(uint8_t b)
{
    if (b < SF_NUM_FREE)
        return b;
    return (int32_t)(SF_NUM_FREE + int4_to_long((uint32_t)(b - SF_NUM_FREE)));
}

/* ---------------------------------------------------------------------------------------------
 * Build. */

typedef struct posting {
    uint32_t term, doc, freq;
} posting;

struct ws_search_builder {
    ws_search_index *idx; /* its term map and statistics fill as documents come */
    ws_analyzer *an;
    ws_tokens toks;
    ws_strbuf ids;
    uint64_t *id_off;
    uint8_t *norm;
    uint32_t *group;      /* per document: its group's index in groups */
    uint32_t *first_post; /* per document: its first posting in posts */
    size_t docs_cap;
    ws_strmap groups;
    term *terms;
    size_t terms_cap;
    posting *posts;
    size_t n_posts, posts_cap;
    uint32_t *last_doc, *last_post; /* per term: last document seen, its posting */
    size_t last_cap;
};

static int cmp_id_index(const void *a, const void *b, void *arg)
{
    const ws_search_index *idx = arg;
    return strcmp(idx->ids + idx->id_off[*(const size_t *)a], idx->ids + idx->id_off[*(const size_t *)b]);
}

void ws_search_free(ws_search_index *idx)
{
    if (!idx)
        return;
    if (!idx->mapped_from) {
        free((void *)idx->ids);
        free((void *)idx->id_off);
        free((void *)idx->doc_given);
        free((void *)idx->id_rank);
        free((void *)idx->norm);
        ws_strmap_free(&idx->term_ids);
        free((void *)idx->terms);
        free((void *)idx->wins);
        free((void *)idx->post_score);
        free((void *)idx->post_doc);
        free((void *)idx->post_freq);
    }
    free(idx);
}

/* BM25Similarity's avgFieldLength and norm cache, in Lucene's float operations, from the
 * collection statistics. The statements are kept separate so that no compiler fuses them into
 * fused multiply-adds. */
static void norm_cache(ws_search_index *idx)
{
    const float k1 = WS_SEARCH_K1, b = WS_SEARCH_B;
    idx->avgdl = idx->doc_count ? (float)((double)idx->sum_ttf / (double)idx->doc_count) : 1.0f;
    for (int i = 0; i < 256; i++) {
        float dl = (float)ws_smallfloat_byte4_to_int((uint8_t)i);
        float one_minus_b = 1.0f - b;
        float bdl = b * dl;
        float rel = bdl / idx->avgdl;
        float sum = one_minus_b + rel;
        float den = k1 * sum;
        idx->norm_inverse[i] = 1.0f / den;
    }
}

/* A posting's term frequency over its document's length norm, and the clause score it gives a term
 * of weight boost * idf: BM25Scorer's float operations, in its order. Both grow with tf_norm, as
 * each rounded operation is monotonic, so a term's largest tf_norm bounds its clause scores. */
static inline float tf_norm(const ws_search_index *idx, uint32_t p, uint32_t d)
{
    float freq = (float)idx->post_freq[p];
    return freq * idx->norm_inverse[idx->norm[d]];
}

static inline float clause_score(float weight, float tfn)
{
    float den = 1.0f + tfn;
    float q = weight / den;
    return weight - q;
}

static int cmp_group(const void *a, const void *b, void *arg)
{
    const ws_strmap *groups = arg;
    size_t la, lb;
    const char *x = ws_strmap_key(groups, *(const uint32_t *)a, &la);
    const char *y = ws_strmap_key(groups, *(const uint32_t *)b, &lb);
    int c = memcmp(x, y, la < lb ? la : lb);
    return c ? c : (la > lb) - (la < lb);
}

/* The index's document order: by group (the groups' keys in byte order), within a group by length
 * (shortest first: a term's score falls with the document's length, so windows of long documents
 * get low bounds), then as given; doc_given[i] = the given number of document i. Two stable
 * counting sorts, by length norm, then by group. */
static int document_order(ws_search_builder *bld, uint32_t *doc_given, ws_err *err)
{
    size_t n = bld->idx->n_docs, n_groups = ws_strmap_count(&bld->groups);
    const uint8_t *norm = bld->idx->norm;
    uint32_t *by_key = malloc((n_groups ? n_groups : 1) * sizeof *by_key);
    size_t *start = calloc(n_groups + 1, sizeof *start); /* per group (by index): its first place */
    uint32_t *by_norm = malloc((n ? n : 1) * sizeof *by_norm);
    if (!by_key || !start || !by_norm) {
        free(by_key);
        free(start);
        free(by_norm);
        return ws_fail(err, "search: out of memory");
    }
    size_t norm_start[257] = {0};
    for (size_t d = 0; d < n; d++)
        norm_start[norm[d] + 1]++;
    for (int v = 0; v < 256; v++)
        norm_start[v + 1] += norm_start[v];
    for (size_t d = 0; d < n; d++)
        by_norm[norm_start[norm[d]]++] = (uint32_t)d;
    for (size_t g = 0; g < n_groups; g++)
        by_key[g] = (uint32_t)g;
    qsort_r(by_key, n_groups, sizeof *by_key, cmp_group, &bld->groups);
    for (size_t d = 0; d < n; d++)
        start[bld->group[d]]++;
    size_t at = 0;
    for (size_t r = 0; r < n_groups; r++) {
        size_t count = start[by_key[r]];
        start[by_key[r]] = at;
        at += count;
    }
    for (size_t i = 0; i < n; i++)
        doc_given[start[bld->group[by_norm[i]]]++] = by_norm[i];
    free(by_key);
    free(start);
    free(by_norm);
    return 0;
}

/* Every term's window entries (wins == NULL: only counts them). */
static size_t window_entries(ws_search_index *idx, win_entry *wins)
{
    term *terms = (term *)idx->terms;
    size_t n_terms = ws_strmap_count(&idx->term_ids), n = 0;
    for (size_t t = 0; t < n_terms; t++) {
        terms[t].win = (uint32_t)n;
        for (uint32_t p = terms[t].post; p < terms[t].post + terms[t].df; p++) {
            uint32_t w = idx->post_doc[p] / WIN;
            if (p == terms[t].post || w != idx->post_doc[p - 1] / WIN) {
                if (wins)
                    wins[n] = (win_entry){w, p, 0};
                n++;
            }
            float x = wins ? tf_norm(idx, p, idx->post_doc[p]) : 0;
            if (wins && x > wins[n - 1].max_tf)
                wins[n - 1].max_tf = x;
        }
        terms[t].n_win = (uint32_t)(n - terms[t].win);
    }
    return n;
}

static int finish(ws_search_builder *bld, ws_err *err)
{
    ws_search_index *idx = bld->idx;
    size_t n_docs = idx->n_docs, n_posts = bld->n_posts, n_terms = ws_strmap_count(&idx->term_ids);
    term *terms = (term *)idx->terms; /* still the builder's to fill */
    uint32_t *doc_given = malloc((n_docs ? n_docs : 1) * sizeof *doc_given);
    uint8_t *norm = malloc(n_docs ? n_docs : 1);
    uint32_t *post_doc = malloc((n_posts ? n_posts : 1) * sizeof *post_doc);
    uint32_t *post_freq = malloc((n_posts ? n_posts : 1) * sizeof *post_freq);
    idx->doc_given = doc_given;
    idx->post_doc = post_doc;
    idx->post_freq = post_freq;
    idx->n_posts = n_posts;
    if (!doc_given || !norm || !post_doc || !post_freq) {
        free(norm);
        return ws_fail(err, "search: out of memory");
    }
    if (document_order(bld, doc_given, err)) {
        free(norm);
        return -1;
    }
    for (size_t i = 0; i < n_docs; i++)
        norm[i] = idx->norm[doc_given[i]];
    free((void *)idx->norm);
    idx->norm = norm;
    /* postings grouped by term, in the index's document order within a term (counting sort over
     * the documents in that order) */
    for (size_t i = 0; i < n_posts; i++)
        terms[bld->posts[i].term].df++;
    uint32_t at = 0;
    for (size_t t = 0; t < n_terms; t++) {
        terms[t].post = at;
        at += terms[t].df;
        terms[t].df = 0;
    }
    for (size_t i = 0; i < n_docs; i++) {
        uint32_t d = doc_given[i], end = d + 1 < n_docs ? bld->first_post[d + 1] : (uint32_t)n_posts;
        for (uint32_t q = bld->first_post[d]; q < end; q++) {
            term *t = &terms[bld->posts[q].term];
            uint32_t p = t->post + t->df++;
            post_doc[p] = (uint32_t)i;
            post_freq[p] = bld->posts[q].freq;
        }
    }
    free(bld->posts);
    bld->posts = NULL;

    norm_cache(idx);
    long long n_with = (long long)idx->doc_count;
    for (size_t t = 0; t < n_terms; t++) {
        long long df = terms[t].df;
        double x = ((double)(n_with - df) + 0.5) / ((double)df + 0.5);
        terms[t].idf = (float)log(1.0 + x);
    }
    float *post_score = malloc((n_posts ? n_posts : 1) * sizeof *post_score);
    idx->post_score = post_score;
    if (!post_score)
        return ws_fail(err, "search: out of memory");
    for (size_t t = 0; t < n_terms; t++)
        for (uint32_t p = terms[t].post; p < terms[t].post + terms[t].df; p++)
            post_score[p] = clause_score(terms[t].idf, tf_norm(idx, p, post_doc[p]));
    size_t n_wins = window_entries(idx, NULL);
    win_entry *wins = malloc((n_wins ? n_wins : 1) * sizeof *wins);
    idx->wins = wins;
    idx->n_wins = n_wins;
    if (!wins)
        return ws_fail(err, "search: out of memory");
    window_entries(idx, wins);

    /* tie-break ranks: the ids' order among the documents as given, then in the index's order */
    size_t *order = malloc((n_docs ? n_docs : 1) * sizeof *order);
    uint32_t *given_rank = malloc((n_docs ? n_docs : 1) * sizeof *given_rank);
    uint32_t *id_rank = malloc((n_docs ? n_docs : 1) * sizeof *id_rank);
    idx->id_rank = id_rank;
    if (!order || !given_rank || !id_rank) {
        free(order);
        free(given_rank);
        return ws_fail(err, "search: out of memory");
    }
    for (size_t i = 0; i < n_docs; i++)
        order[i] = i;
    qsort_r(order, n_docs, sizeof *order, cmp_id_index, idx);
    for (size_t r = 0; r < n_docs; r++)
        given_rank[order[r]] = (uint32_t)r;
    for (size_t i = 0; i < n_docs; i++)
        id_rank[i] = given_rank[doc_given[i]];
    free(order);
    free(given_rank);
    return 0;
}

ws_search_builder *ws_search_builder_new(ws_err *err)
{
    ws_search_builder *b = calloc(1, sizeof *b);
    if (!b || !(b->idx = calloc(1, sizeof *b->idx))) {
        free(b);
        return ws_fail(err, "search: out of memory"), NULL;
    }
    ws_tokens_init(&b->toks);
    if (!(b->an = ws_analyzer_new(err))) {
        ws_search_builder_free(b);
        return NULL;
    }
    return b;
}

/* The id of a term, added when new; -1 on error. */
static long intern(ws_search_builder *b, const char *s, size_t len, ws_err *err)
{
    int added;
    long id = ws_strmap_add(&b->idx->term_ids, s, len, &added);
    if (id < 0)
        return ws_fail(err, "search: out of memory");
    if (!added)
        return id;
    term *t = ws_grow(b->terms, &b->terms_cap, (size_t)id + 1, sizeof *t, 1024);
    if (!t)
        return ws_fail(err, "search: out of memory");
    b->terms = t;
    b->terms[id] = (term){0};
    return id;
}

/* Room for term t in the per-term arrays of the last document seen. */
static int reserve_last(ws_search_builder *b, size_t t)
{
    if (t < b->last_cap)
        return 0;
    size_t cap = ws_grow_cap(b->last_cap, t + 1, 4096);
    uint32_t *a = ws_realloc_array(b->last_doc, cap, sizeof *a);
    if (!a)
        return -1;
    b->last_doc = a;
    uint32_t *p = ws_realloc_array(b->last_post, cap, sizeof *p);
    if (!p)
        return -1;
    b->last_post = p;
    for (size_t j = b->last_cap; j < cap; j++)
        b->last_doc[j] = UINT32_MAX;
    b->last_cap = cap;
    return 0;
}

int ws_search_builder_add(ws_search_builder *b, const char *id, const char *text, const char *group, ws_err *err)
{
    ws_search_index *idx = b->idx;
    size_t d = idx->n_docs;
    if (d >= UINT32_MAX - 1)
        return ws_fail(err, "search: too many documents");
    if (!id)
        return ws_fail(err, "search: document %zu has no id", d);
    if (d == b->docs_cap) {
        size_t cap = ws_grow_cap(b->docs_cap, d + 1, 1024);
        uint64_t *o = ws_realloc_array(b->id_off, cap, sizeof *o);
        if (!o)
            return ws_fail(err, "search: out of memory");
        b->id_off = o;
        uint8_t *nm = ws_realloc_array(b->norm, cap, sizeof *nm);
        if (!nm)
            return ws_fail(err, "search: out of memory");
        b->norm = nm;
        uint32_t *g = ws_realloc_array(b->group, cap, sizeof *g);
        if (!g)
            return ws_fail(err, "search: out of memory");
        b->group = g;
        uint32_t *fp = ws_realloc_array(b->first_post, cap, sizeof *fp);
        if (!fp)
            return ws_fail(err, "search: out of memory");
        b->first_post = fp;
        b->docs_cap = cap;
    }
    long g = ws_strmap_add(&b->groups, group ? group : "", group ? strlen(group) : 0, NULL);
    if (g < 0)
        return ws_fail(err, "search: out of memory");
    b->group[d] = (uint32_t)g;
    b->first_post[d] = (uint32_t)b->n_posts;
    b->id_off[d] = b->ids.len;
    ws_strbuf_add(&b->ids, id, strlen(id) + 1);
    if (b->ids.oom)
        return ws_fail(err, "search: out of memory");
    if (ws_analyze(b->an, text ? text : "", &b->toks, err))
        return ws_fail_prefix(err, id);
    ws_tokens *toks = &b->toks;
    if (toks->n > INT32_MAX)
        return ws_fail(err, "search: document %s is too long", id);
    b->norm[d] = ws_smallfloat_int_to_byte4((int32_t)toks->n);
    idx->n_docs++;
    idx->sum_ttf += toks->n;
    if (toks->n)
        idx->doc_count++;
    for (size_t i = 0; i < toks->n; i++) {
        long t = intern(b, ws_token(toks, i), ws_token_len(toks, i), err);
        if (t < 0)
            return -1;
        if (reserve_last(b, (size_t)t))
            return ws_fail(err, "search: out of memory");
        if (b->last_doc[t] == d) {
            b->posts[b->last_post[t]].freq++;
            continue;
        }
        posting *p = ws_grow(b->posts, &b->posts_cap, b->n_posts + 1, sizeof *p, 65536);
        if (!p)
            return ws_fail(err, "search: out of memory");
        b->posts = p;
        if (b->n_posts >= UINT32_MAX)
            return ws_fail(err, "search: too many postings");
        b->posts[b->n_posts] = (posting){(uint32_t)t, (uint32_t)d, 1};
        b->last_doc[t] = (uint32_t)d;
        b->last_post[t] = (uint32_t)b->n_posts++;
    }
    return 0;
}

int ws_search_builder_add_product(ws_search_builder *b, const ws_product *p, ws_err *err)
{
    char group[512]; /* a longer key only orders its group among the others by its first bytes */
    snprintf(group, sizeof group, "%.250s\t%.250s", p->category ? p->category : "", p->query ? p->query : "");
    return ws_search_builder_add(b, p->asin, p->contents, group, err);
}

ws_search_index *ws_search_builder_finish(ws_search_builder *b, ws_err *err)
{
    ws_search_index *idx = b->idx;
    /* the arrays change hands first, so that freeing either side frees each once */
    idx->ids_len = b->ids.len;
    idx->ids = b->ids.s ? b->ids.s : calloc(1, 1);
    idx->id_off = b->id_off ? b->id_off : calloc(1, sizeof *idx->id_off);
    idx->norm = b->norm ? b->norm : calloc(1, 1);
    idx->terms = b->terms ? b->terms : calloc(1, sizeof *idx->terms);
    b->ids = (ws_strbuf){0};
    b->id_off = NULL;
    b->norm = NULL;
    b->terms = NULL;
    int rc = !idx->ids || !idx->id_off || !idx->norm || !idx->terms ? ws_fail(err, "search: out of memory")
                                                                   : finish(b, err);
    if (rc) {
        ws_search_builder_free(b);
        return NULL;
    }
    b->idx = NULL;
    ws_search_builder_free(b);
    return idx;
}

void ws_search_builder_free(ws_search_builder *b)
{
    if (!b)
        return;
    ws_search_free(b->idx);
    ws_analyzer_free(b->an);
    ws_tokens_free(&b->toks);
    free(b->ids.s);
    free(b->id_off);
    free(b->norm);
    free(b->group);
    free(b->first_post);
    ws_strmap_free(&b->groups);
    free(b->terms);
    free(b->posts);
    free(b->last_doc);
    free(b->last_post);
    free(b);
}

ws_search_index *ws_search_build(const char *const *doc_ids, const char *const *doc_texts,
                                 const char *const *doc_groups, size_t n, ws_err *err)
{
    ws_search_builder *b = ws_search_builder_new(err);
    if (!b)
        return NULL;
    for (size_t d = 0; d < n; d++)
        if (ws_search_builder_add(b, doc_ids[d], doc_texts[d], doc_groups ? doc_groups[d] : NULL, err)) {
            ws_search_builder_free(b);
            return NULL;
        }
    return ws_search_builder_finish(b, err);
}

ws_search_index *ws_search_build_catalog(const ws_catalog *cat, ws_err *err)
{
    if (cat->map) {
        ws_search_index *idx = ws_search_open(cat->map, err);
        if (idx && idx->n_docs != cat->n) {
            ws_fail(err, "%s: corrupt search index (%zu documents for %zu products)", idx->mapped_from, idx->n_docs,
                    cat->n);
            ws_search_free(idx);
            return NULL;
        }
        return idx;
    }
    ws_search_builder *b = ws_search_builder_new(err);
    if (!b)
        return NULL;
    for (size_t i = 0; i < cat->n; i++)
        if (ws_search_builder_add_product(b, &cat->products[i], err)) {
            ws_search_builder_free(b);
            return NULL;
        }
    return ws_search_builder_finish(b, err);
}

/* ---------------------------------------------------------------------------------------------
 * The index in a mapped file: its arrays as they are in memory, one section each. */

enum {
    SEC_STATS = 0x100, /* stats: n_docs, doc_count, sum_ttf, n_terms, n_posts, n_wins, WIN (uint64 each) */
    SEC_IDS,           /* ids */
    SEC_ID_OFF,
    SEC_ID_RANK,
    SEC_NORM,
    SEC_TERM_ARENA,    /* the term map: ws_strmap's arena, key_off, key_len, slots */
    SEC_TERM_OFF,
    SEC_TERM_LEN,
    SEC_TERM_SLOTS,
    SEC_TERMS,
    SEC_POST_DOC,
    SEC_POST_FREQ,
    SEC_WINS,
    SEC_POST_SCORE,
    SEC_DOC_GIVEN
};

enum { N_STATS = 7 };

_Static_assert(sizeof(size_t) == sizeof(uint64_t), "the term map's offsets are written as uint64");

int ws_search_write(const ws_search_index *idx, ws_mapfile_writer *w, ws_err *err)
{
    const ws_strmap *m = &idx->term_ids;
    uint64_t stats[N_STATS] = {idx->n_docs, idx->doc_count, idx->sum_ttf, m->n, idx->n_posts, idx->n_wins, WIN};
    return ws_mapfile_add(w, SEC_STATS, stats, sizeof stats, err) ||
                   ws_mapfile_add(w, SEC_IDS, idx->ids, idx->ids_len, err) ||
                   ws_mapfile_add(w, SEC_ID_OFF, idx->id_off, idx->n_docs * sizeof *idx->id_off, err) ||
                   ws_mapfile_add(w, SEC_DOC_GIVEN, idx->doc_given, idx->n_docs * sizeof *idx->doc_given, err) ||
                   ws_mapfile_add(w, SEC_ID_RANK, idx->id_rank, idx->n_docs * sizeof *idx->id_rank, err) ||
                   ws_mapfile_add(w, SEC_NORM, idx->norm, idx->n_docs, err) ||
                   ws_mapfile_add(w, SEC_TERM_ARENA, m->arena, m->arena_len, err) ||
                   ws_mapfile_add(w, SEC_TERM_OFF, m->key_off, m->n * sizeof *m->key_off, err) ||
                   ws_mapfile_add(w, SEC_TERM_LEN, m->key_len, m->n * sizeof *m->key_len, err) ||
                   ws_mapfile_add(w, SEC_TERM_SLOTS, m->slots, m->n_slots * sizeof *m->slots, err) ||
                   ws_mapfile_add(w, SEC_TERMS, idx->terms, m->n * sizeof *idx->terms, err) ||
                   ws_mapfile_add(w, SEC_POST_DOC, idx->post_doc, idx->n_posts * sizeof *idx->post_doc, err) ||
                   ws_mapfile_add(w, SEC_POST_FREQ, idx->post_freq, idx->n_posts * sizeof *idx->post_freq, err) ||
                   ws_mapfile_add(w, SEC_WINS, idx->wins, idx->n_wins * sizeof *idx->wins, err) ||
                   ws_mapfile_add(w, SEC_POST_SCORE, idx->post_score, idx->n_posts * sizeof *idx->post_score, err)
               ? -1
               : 0;
}

/* Every term's window entries in the file lie among its postings, begin its postings, and ascend
 * by window and posting (a posting's document is checked against its window as it is read). */
static bool windows_valid(const ws_search_index *idx)
{
    size_t n_terms = ws_strmap_count(&idx->term_ids), n_windows = (idx->n_docs + WIN - 1) / WIN;
    for (size_t t = 0; t < n_terms; t++) {
        const term *tm = &idx->terms[t];
        if (tm->win > idx->n_wins || tm->n_win > idx->n_wins - tm->win || (tm->df == 0) != (tm->n_win == 0) ||
            tm->n_win > tm->df)
            return false;
        const win_entry *e = idx->wins + tm->win;
        for (uint32_t j = 0; j < tm->n_win; j++)
            if (e[j].window >= n_windows || (j == 0 ? e[j].post != tm->post
                                                    : e[j].window <= e[j - 1].window || e[j].post <= e[j - 1].post) ||
                e[j].post >= tm->post + tm->df)
                return false;
    }
    return true;
}

static ws_search_index *corrupt(ws_search_index *idx, const ws_mapfile *m, const char *why, ws_err *err)
{
    free(idx);
    return ws_fail(err, "%s: corrupt search index (%s)", ws_mapfile_path(m), why), NULL;
}

ws_search_index *ws_search_open(const ws_mapfile *m, ws_err *err)
{
    ws_search_index *idx = calloc(1, sizeof *idx);
    if (!idx)
        return ws_fail(err, "search: out of memory"), NULL;
    idx->mapped_from = ws_mapfile_path(m);
    const uint64_t *stats = ws_mapfile_array(m, SEC_STATS, sizeof *stats, N_STATS, NULL, err);
    if (!stats) {
        free(idx);
        return NULL;
    }
    size_t n = (size_t)stats[0], n_terms = (size_t)stats[3], n_slots, arena_len;
    idx->n_docs = n;
    idx->doc_count = (size_t)stats[1];
    idx->sum_ttf = stats[2];
    idx->n_posts = (size_t)stats[4];
    idx->n_wins = (size_t)stats[5];
    if (n >= UINT32_MAX || idx->doc_count > n || idx->n_posts >= UINT32_MAX || idx->n_wins > idx->n_posts)
        return corrupt(idx, m, "statistics out of range", err);
    if (stats[6] != WIN)
        return corrupt(idx, m, "written with another window size", err);
    const char *arena;
    const uint32_t *slots;
    if (!(idx->ids = ws_mapfile_array(m, SEC_IDS, 1, (size_t)-1, &idx->ids_len, err)) ||
        !(idx->id_off = ws_mapfile_array(m, SEC_ID_OFF, sizeof *idx->id_off, n, NULL, err)) ||
        !(idx->doc_given = ws_mapfile_array(m, SEC_DOC_GIVEN, sizeof *idx->doc_given, n, NULL, err)) ||
        !(idx->id_rank = ws_mapfile_array(m, SEC_ID_RANK, sizeof *idx->id_rank, n, NULL, err)) ||
        !(idx->norm = ws_mapfile_array(m, SEC_NORM, 1, n, NULL, err)) ||
        !(arena = ws_mapfile_array(m, SEC_TERM_ARENA, 1, (size_t)-1, &arena_len, err)) ||
        !(slots = ws_mapfile_array(m, SEC_TERM_SLOTS, sizeof *slots, (size_t)-1, &n_slots, err)) ||
        !(idx->terms = ws_mapfile_array(m, SEC_TERMS, sizeof *idx->terms, n_terms, NULL, err)) ||
        !(idx->post_doc = ws_mapfile_array(m, SEC_POST_DOC, sizeof *idx->post_doc, idx->n_posts, NULL, err)) ||
        !(idx->post_freq = ws_mapfile_array(m, SEC_POST_FREQ, sizeof *idx->post_freq, idx->n_posts, NULL, err)) ||
        !(idx->wins = ws_mapfile_array(m, SEC_WINS, sizeof *idx->wins, idx->n_wins, NULL, err)) ||
        !(idx->post_score = ws_mapfile_array(m, SEC_POST_SCORE, sizeof *idx->post_score, idx->n_posts, NULL, err))) {
        free(idx);
        return NULL;
    }
    const size_t *key_off = ws_mapfile_array(m, SEC_TERM_OFF, sizeof *key_off, n_terms, NULL, err);
    const uint32_t *key_len = key_off ? ws_mapfile_array(m, SEC_TERM_LEN, sizeof *key_len, n_terms, NULL, err) : NULL;
    if (!key_len) {
        free(idx);
        return NULL;
    }
    if (ws_strmap_view(&idx->term_ids, arena, arena_len, key_off, key_len, n_terms, slots, n_slots))
        return corrupt(idx, m, "term dictionary", err);
    /* Every offset a search follows is checked here, once, except a posting's document, which
     * ws_search checks as it reads it: the postings are the bulk of the file. */
    if (n && (idx->ids_len == 0 || idx->ids[idx->ids_len - 1] != '\0'))
        return corrupt(idx, m, "document ids", err);
    for (size_t d = 0; d < n; d++)
        if (idx->id_off[d] >= idx->ids_len)
            return corrupt(idx, m, "document ids", err);
    for (size_t t = 0; t < n_terms; t++)
        if (idx->terms[t].post > idx->n_posts || idx->terms[t].df > idx->n_posts - idx->terms[t].post)
            return corrupt(idx, m, "postings", err);
    if (!windows_valid(idx))
        return corrupt(idx, m, "window entries", err);
    uint64_t *given = calloc(n / 64 + 1, sizeof *given); /* doc_given is a permutation */
    if (!given) {
        free(idx);
        return ws_fail(err, "search: out of memory"), NULL;
    }
    bool permutation = true;
    for (size_t i = 0; i < n && permutation; i++) {
        uint32_t d = idx->doc_given[i];
        permutation = d < n && !(given[d / 64] >> d % 64 & 1);
        if (permutation)
            given[d / 64] |= 1ull << d % 64;
    }
    free(given);
    if (!permutation)
        return corrupt(idx, m, "document order", err);
    norm_cache(idx);
    return idx;
}

/* ---------------------------------------------------------------------------------------------
 * Search. */

static long find_term(const ws_search_index *idx, const char *s, size_t len)
{
    return ws_strmap_find(&idx->term_ids, s, len);
}

typedef struct cand {
    float score;
    uint32_t rank;
    uint32_t doc;
} cand;

/* Anserini's order: score descending, then document id ascending. */
static inline bool better(const cand *x, const cand *y)
{
    return x->score > y->score || (x->score == y->score && x->rank < y->rank);
}

static int cmp_cand(const void *a, const void *b)
{
    const cand *x = a, *y = b;
    return better(x, y) ? -1 : better(y, x) ? 1 : 0;
}

/* Restore the heap c[0..k) (worst candidate at the root) below position j. */
static void sift_down(cand *c, size_t k, size_t j)
{
    for (;;) {
        size_t l = 2 * j + 1, w = j;
        if (l < k && better(&c[w], &c[l]))
            w = l;
        if (l + 1 < k && better(&c[w], &c[l + 1]))
            w = l + 1;
        if (w == j)
            return;
        cand t = c[j];
        c[j] = c[w];
        c[w] = t;
        j = w;
    }
}

/* The k best candidates offered so far (k >= 1): a plain array until k came, then a heap with the
 * worst at its root. */
typedef struct top {
    cand *c;
    size_t n, k;
} top;

static void top_offer(top *t, cand x)
{
    if (t->n < t->k) {
        t->c[t->n++] = x;
        if (t->n == t->k)
            for (size_t i = t->k / 2; i-- > 0;)
                sift_down(t->c, t->k, i);
    } else if (better(&x, &t->c[0])) {
        t->c[0] = x;
        sift_down(t->c, t->k, 0);
    }
}

/* The hits, best first. */
static size_t top_hits(const ws_search_index *idx, top *t, ws_search_hit *hits)
{
    qsort(t->c, t->n, sizeof *t->c, cmp_cand);
    for (size_t i = 0; i < t->n; i++)
        hits[i] = (ws_search_hit){idx->doc_given[t->c[i].doc], t->c[i].score};
    return t->n;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* One clause of the query. */
typedef struct qterm {
    uint32_t term;
    float weight; /* boost * idf */
    float scale;  /* the boost where it is a power of two, else 0: clause_score(boost * idf, x)
                   * is then boost * clause_score(idf, x) to the bit (each of its rounded
                   * operations scales exactly by a power of two), the posting's stored score */
} qterm;

/* A search's state: the query's clauses in term order (Anserini's BagOfWordsQueryGenerator: one
 * per distinct term, boost = its count) and the best documents so far. */
typedef struct query {
    ws_tokens toks;
    uint32_t *ids;
    qterm *q;
    size_t nq;
    top best;
} query_state;

static void query_free(query_state *qy)
{
    ws_tokens_free(&qy->toks);
    free(qy->ids);
    free(qy->q);
    free(qy->best.c);
}

/* 1 when nothing can match (no document, k = 0, no indexed term), 0 when qy is ready, -1 on error. */
static int query_init(query_state *qy, const ws_search_index *idx, ws_analyzer *an, const char *text, size_t k,
                      ws_err *err)
{
    *qy = (query_state){0};
    ws_tokens_init(&qy->toks);
    if (!text)
        return ws_fail(err, "search: no query");
    if (ws_analyze(an, text, &qy->toks, err))
        return -1;
    if (k > idx->n_docs)
        k = idx->n_docs;
    if (k == 0 || qy->toks.n == 0)
        return 1;
    qy->ids = malloc(qy->toks.n * sizeof *qy->ids);
    qy->q = malloc(qy->toks.n * sizeof *qy->q);
    qy->best = (top){malloc(k * sizeof *qy->best.c), 0, k};
    if (!qy->ids || !qy->q || !qy->best.c)
        return ws_fail(err, "search: out of memory");
    size_t n = 0;
    for (size_t i = 0; i < qy->toks.n; i++) {
        long t = find_term(idx, ws_token(&qy->toks, i), ws_token_len(&qy->toks, i));
        if (t >= 0)
            qy->ids[n++] = (uint32_t)t;
    }
    qsort(qy->ids, n, sizeof *qy->ids, cmp_u32);
    for (size_t i = 0; i < n;) {
        size_t j = i;
        while (j < n && qy->ids[j] == qy->ids[i])
            j++;
        size_t count = j - i;
        float boost = (float)count;
        qy->q[qy->nq++] = (qterm){.term = qy->ids[i], .weight = boost * idx->terms[qy->ids[i]].idf,
                                  .scale = (count & (count - 1)) == 0 ? boost : 0};
        i = j;
    }
    return qy->nq ? 0 : 1;
}

static int bad_posting(const ws_search_index *idx, uint32_t d, ws_err *err)
{
    return ws_fail(err, "%s: corrupt search index (a posting names document %u of %zu)",
                   idx->mapped_from ? idx->mapped_from : "search", d, idx->n_docs);
}

/* Every posting of every clause added into a per-document sum, in term order. */
static int score_all(const ws_search_index *idx, query_state *qy, ws_err *err)
{
    size_t n = idx->n_docs;
    double *acc = calloc(n, sizeof *acc);
    uint8_t *seen = calloc(n, 1);
    uint32_t *docs = malloc(n * sizeof *docs);
    size_t n_seen = 0;
    int rc = 0;
    if (!acc || !seen || !docs) {
        rc = ws_fail(err, "search: out of memory");
        goto out;
    }
    for (size_t i = 0; i < qy->nq; i++) {
        const qterm *t = &qy->q[i];
        const term *tm = &idx->terms[t->term];
        for (uint32_t p = tm->post; p < tm->post + tm->df; p++) {
            uint32_t d = idx->post_doc[p];
            if (d >= n) {
                rc = bad_posting(idx, d, err);
                goto out;
            }
            acc[d] += (double)clause_score(t->weight, tf_norm(idx, p, d));
            if (!seen[d]) {
                seen[d] = 1;
                docs[n_seen++] = d;
            }
        }
    }
    for (size_t i = 0; i < n_seen; i++)
        top_offer(&qy->best, (cand){(float)acc[docs[i]], idx->id_rank[docs[i]], docs[i]});
out:
    free(acc);
    free(seen);
    free(docs);
    return rc;
}

/* The score posting p (of document d) gives clause t: the stored one where t's boost allows. */
static inline float posting_score(const ws_search_index *idx, const qterm *t, uint32_t p, uint32_t d)
{
    return t->scale != 0 ? t->scale * idx->post_score[p] : clause_score(t->weight, tf_norm(idx, p, d));
}

/* The first posting at or after p whose document is at least d (postings ascend by document). */
static inline uint32_t seek(const uint32_t *doc, uint32_t p, uint32_t end, uint32_t d)
{
    if (p >= end || doc[p] >= d)
        return p;
    uint64_t lo = p, step = 1; /* doc[lo] < d: gallop, then bisect (lo, hi] */
    while (lo + step < end && doc[lo + step] < d) {
        lo += step;
        step *= 2;
    }
    uint64_t hi = lo + step < end ? lo + step : end;
    while (hi - lo > 1) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (doc[mid] < d)
            lo = mid;
        else
            hi = mid;
    }
    return (uint32_t)hi;
}

/* A query's bound on the score a document of each window can reach: the sum of its clauses' largest
 * scores there (0: none of the query's terms is in the window). */
typedef struct plan {
    size_t n_windows;
    double *bound;
} plan;

static int plan_init(plan *pl, const ws_search_index *idx, const query_state *qy, ws_err *err)
{
    pl->n_windows = (idx->n_docs + WIN - 1) / WIN;
    if (!(pl->bound = calloc(pl->n_windows, sizeof *pl->bound)))
        return ws_fail(err, "search: out of memory");
    for (size_t c = 0; c < qy->nq; c++) {
        const term *tm = &idx->terms[qy->q[c].term];
        for (uint32_t j = 0; j < tm->n_win; j++) {
            const win_entry *e = &idx->wins[tm->win + j];
            pl->bound[e->window] += (double)clause_score(qy->q[c].weight, e->max_tf);
        }
    }
    return 0;
}

/* Window x comes before y: a higher bound, or the same and x first. */
static inline bool window_before(const double *bound, uint32_t x, uint32_t y)
{
    return bound[x] > bound[y] || (bound[x] == bound[y] && x < y);
}

/* Restore the heap h[0..n) (the window to score first at its root) below position j. */
static void window_sift(const double *bound, uint32_t *h, size_t n, size_t j)
{
    for (;;) {
        size_t l = 2 * j + 1, b = j;
        if (l < n && window_before(bound, h[l], h[b]))
            b = l;
        if (l + 1 < n && window_before(bound, h[l + 1], h[b]))
            b = l + 1;
        if (b == j)
            return;
        uint32_t t = h[j];
        h[j] = h[b];
        h[b] = t;
        j = b;
    }
}

/* The entry of window w among a term's n entries e (by window), or n when the term has no
 * posting there. */
static uint32_t find_window(const win_entry *e, uint32_t n, uint32_t w)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (e[mid].window < w)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && e[lo].window == w ? lo : n;
}

/* A clause in the window being scored: its postings there, its largest score there. */
typedef struct wclause {
    uint32_t p, end;
    uint32_t look;  /* cursor of the lookups that bound a candidate */
    uint32_t exact; /* cursor of the exact sums */
    uint32_t order; /* its place in the window's clauses sorted by max */
    float max;
} wclause;

/* The windows of one part (w = part mod n_parts), best bound first, scored by MaxScore (Turtle
 * and Flood; Lucene's MaxScoreBulkScorer) with the window's own bounds, until a window's bound
 * falls below the k-th best: every later one is lower. In a window the
 * clauses sorted by their largest score there split into non-essential ones, whose largest scores
 * together cannot reach the k-th best score, and essential ones: only documents of essential
 * clauses are candidates. The candidates get their essential clauses' scores added term at a
 * time, then those of the non-essential clauses with few postings in the window for its
 * candidates (cheaper than looking each candidate up in them); then, in document order, each is
 * dropped as soon as what it has plus what the clauses left could give falls below the k-th
 * best, else its score is summed as score_all sums it, clause by clause in term order, so the
 * scores and ties are exactly score_all's.
 *
 * The bounds are conservative: a clause's score is at most its max (monotonic rounding); sums of
 * maxes are taken in double and widened by more than any reordering of a double sum of nq terms
 * can change it; a window or document is dropped only when that bound, rounded to float as
 * scores are, is strictly below the k-th best, since an equal score may still win its tie by id.
 * kth_shared holds each part's k-th best score (slot `part`: this one's): the parts' windows
 * are disjoint, so a document below another part's k-th best is below k documents already. */
static int score_part(const ws_search_index *idx, const query_state *qy, const plan *pl, int part, int n_parts,
                      top *best, float *kth_shared, ws_err *err)
{
    size_t nq = qy->nq;
    const qterm *q = qy->q;
    wclause *wc = malloc(nq * sizeof *wc);
    size_t *by = malloc(nq * sizeof *by);           /* the window's clauses by max ascending */
    double *upto = malloc((nq + 1) * sizeof *upto); /* upto[j]: bound on the sum of by[0..j)'s maxes */
    uint32_t *heap = malloc((pl->n_windows / (size_t)n_parts + 1) * sizeof *heap); /* the part's windows */
    double ess[WIN] = {0};                          /* per window document: its essential clauses' sum
                                                     * (zero again once the window's candidates are read) */
    uint64_t touched[WIN / 64] = {0};
    int rc = 0;
    if (!wc || !by || !upto || !heap) {
        rc = ws_fail(err, "search: out of memory");
        goto out;
    }
    size_t n_heap = 0;
    for (size_t w = (size_t)part; w < pl->n_windows; w += (size_t)n_parts)
        if (pl->bound[w] > 0)
            heap[n_heap++] = (uint32_t)w;
    for (size_t j = n_heap / 2; j-- > 0;)
        window_sift(pl->bound, heap, n_heap, j);
    const double widen = 1.0 + (double)(nq + 2) * 0x1p-50;
    const uint32_t *pd = idx->post_doc;
    float kth = -INFINITY; /* the k-th best score once there are k, here or in another part */
    while (n_heap > 0) {
        uint32_t w = heap[0];
        heap[0] = heap[--n_heap];
        window_sift(pl->bound, heap, n_heap, 0);
        for (int other = 0; other < n_parts; other++) {
            float theirs;
            __atomic_load(&kth_shared[other], &theirs, __ATOMIC_RELAXED);
            kth = theirs > kth ? theirs : kth;
        }
        if ((float)(pl->bound[w] * widen) < kth)
            break;
        uint64_t lo = (uint64_t)w * WIN, span = (lo + WIN < idx->n_docs ? lo + WIN : idx->n_docs) - lo;
        size_t n_by = 0;
        for (size_t c = 0; c < nq; c++) {
            const term *tm = &idx->terms[q[c].term];
            uint32_t j = find_window(idx->wins + tm->win, tm->n_win, w);
            if (j == tm->n_win) {
                wc[c] = (wclause){0};
                continue;
            }
            const win_entry *e = &idx->wins[tm->win + j];
            uint32_t end = j + 1 < tm->n_win ? e[1].post : tm->post + tm->df;
            wc[c] = (wclause){e->post, end, e->post, e->post, 0, clause_score(q[c].weight, e->max_tf)};
            size_t i = n_by++; /* insertion sort: queries have few terms */
            for (; i > 0 && wc[by[i - 1]].max > wc[c].max; i--)
                by[i] = by[i - 1];
            by[i] = c;
        }
        upto[0] = 0;
        for (size_t j = 0; j < n_by; j++) {
            wc[by[j]].order = (uint32_t)j;
            upto[j + 1] = upto[j] + (double)wc[by[j]].max;
        }
        size_t n_ness = 0; /* by[0..n_ness) are non-essential */
        while (n_ness < n_by && (float)(upto[n_ness + 1] * widen) < kth)
            n_ness++;
        uint64_t n_cand = 0;
        for (size_t c = 0; c < nq; c++) { /* in term order: with every clause essential, the sums are exact */
            if (wc[c].p == wc[c].end || wc[c].order < n_ness)
                continue;
            for (uint32_t p = wc[c].p; p < wc[c].end; p++) {
                uint32_t d = pd[p];
                size_t i = d - lo; /* no branch on whether the document is new: it would mispredict */
                if (i >= span) {
                    rc = bad_posting(idx, d, err);
                    goto out;
                }
                touched[i / 64] |= 1ull << i % 64;
                ess[i] += (double)posting_score(idx, &q[c], p, d);
            }
        }
        for (size_t i = 0; i < WIN / 64; i++)
            n_cand += (uint64_t)__builtin_popcountll(touched[i]);
        /* by[m..n_ness) are added term at a time, by[0..m) looked up: a clause whose postings in the
         * window are at most twice the candidates is added, a lookup costing more than two postings
         * added (at 1.18M products: at most 4, 2, 1, 1/2 and 1/4 times the candidates measured,
         * twice best) */
        size_t m = n_ness;
        for (; m > 0 && (uint64_t)(wc[by[m - 1]].end - wc[by[m - 1]].p) <= 2 * n_cand; m--) {
            size_t c = by[m - 1];
            for (uint32_t p = wc[c].p; p < wc[c].end; p++) {
                uint32_t d = pd[p];
                size_t i = d - lo;
                if (i >= span) {
                    rc = bad_posting(idx, d, err);
                    goto out;
                }
                /* a document not a candidate adds 0 and stays 0; times its bit (1 or 0), as a
                 * choice compiles to a branch that mispredicts */
                ess[i] += (double)posting_score(idx, &q[c], p, d) * (double)(touched[i / 64] >> i % 64 & 1);
            }
        }
        for (size_t bw = 0; bw < WIN / 64; bw++)
            for (uint64_t bits = touched[bw]; bits; bits &= bits - 1) {
                size_t i = bw * 64 + (size_t)__builtin_ctzll(bits);
                uint32_t d = (uint32_t)(lo + i);
                double sum = ess[i];
                ess[i] = 0;
                bool kept = true;
                for (size_t j = m; j-- > 0;) {
                    if ((float)((sum + upto[j + 1]) * widen) < kth) {
                        kept = false;
                        break;
                    }
                    wclause *t = &wc[by[j]];
                    t->look = seek(pd, t->look, t->end, d);
                    if (t->look < t->end && pd[t->look] == d)
                        sum += (double)posting_score(idx, &q[by[j]], t->look, d);
                }
                if (!kept || (float)(sum * widen) < kth)
                    continue;
                double exact = 0;
                for (size_t c = 0; n_ness > 0 && c < nq; c++) { /* candidates come in document order */
                    wclause *t = &wc[c];
                    t->exact = seek(pd, t->exact, t->end, d);
                    if (t->exact < t->end && pd[t->exact] == d)
                        exact += (double)posting_score(idx, &q[c], t->exact, d);
                }
                top_offer(best, (cand){(float)(n_ness ? exact : sum), idx->id_rank[d], d});
                if (best->n == best->k && best->c[0].score > kth) {
                    kth = best->c[0].score;
                    __atomic_store(&kth_shared[part], &kth, __ATOMIC_RELAXED);
                }
            }
        memset(touched, 0, sizeof touched);
    }
out:
    free(wc);
    free(by);
    free(upto);
    free(heap);
    return rc;
}

/* Parts of the pruned search: a collection this large is split (each part scores its own windows
 * and keeps its own k best), into at most this many. */
enum { SPLIT_MIN_DOCS = 1 << 16, MAX_PARTS = 8 };

/* The pruned search, the plan's windows dealt to parts scored by as many threads (a large
 * collection, outside any parallel region), their best merged: the same hits and scores whatever
 * the parts. */
static int score_parts(const ws_search_index *idx, query_state *qy, ws_err *err)
{
    int n_parts = idx->parts < MAX_PARTS ? idx->parts : MAX_PARTS;
#ifdef _OPENMP
    if (n_parts == 0 && idx->n_docs >= SPLIT_MIN_DOCS && omp_get_active_level() == 0)
        n_parts = omp_get_max_threads() < MAX_PARTS ? omp_get_max_threads() : MAX_PARTS;
#endif
    if (n_parts < 1)
        n_parts = 1;
    plan pl;
    size_t k = qy->best.k;
    if (plan_init(&pl, idx, qy, err))
        return -1;
    cand *parts_c = n_parts > 1 ? malloc((size_t)(n_parts - 1) * k * sizeof *parts_c) : NULL;
    if (n_parts > 1 && !parts_c) {
        free(pl.bound);
        return ws_fail(err, "search: out of memory");
    }
    top parts_best[MAX_PARTS];
    float kth[MAX_PARTS];
    int rc[MAX_PARTS] = {0};
    ws_err part_err[MAX_PARTS];
    for (int part = 0; part < n_parts; part++) { /* the first part collects into the query's best */
        parts_best[part] = part == 0 ? qy->best : (top){parts_c + (size_t)(part - 1) * k, 0, k};
        kth[part] = -INFINITY;
    }
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads() < n_parts ? omp_get_max_threads() : n_parts;
#endif
    if (n_parts == 1) /* not even a team of one: a small collection's search takes microseconds */
        rc[0] = score_part(idx, qy, &pl, 0, 1, &parts_best[0], kth, &part_err[0]);
    else {
#pragma omp parallel for num_threads(threads) schedule(static, 1)
        for (int part = 0; part < n_parts; part++)
            rc[part] = score_part(idx, qy, &pl, part, n_parts, &parts_best[part], kth, &part_err[part]);
    }
    int failed = 0;
    for (int part = 0; part < n_parts && !failed; part++)
        if (rc[part]) {
            failed = -1;
            if (err)
                *err = part_err[part];
        }
    qy->best = parts_best[0];
    for (int part = 1; part < n_parts && !failed; part++)
        for (size_t i = 0; i < parts_best[part].n; i++)
            top_offer(&qy->best, parts_best[part].c[i]);
    free(pl.bound);
    free(parts_c);
    return failed;
}

static int search(const ws_search_index *idx, ws_analyzer *an, const char *text, size_t k, bool exhaustive,
                  ws_search_hit *hits, size_t *n_hits, ws_err *err)
{
    *n_hits = 0;
    query_state qy;
    int rc = query_init(&qy, idx, an, text, k, err);
    if (rc == 0)
        rc = exhaustive ? score_all(idx, &qy, err) : score_parts(idx, &qy, err);
    if (rc == 0)
        *n_hits = top_hits(idx, &qy.best, hits);
    query_free(&qy);
    return rc < 0 ? -1 : 0;
}

int ws_search(const ws_search_index *idx, ws_analyzer *an, const char *query, size_t k,
              ws_search_hit *hits, size_t *n_hits, ws_err *err)
{
    return search(idx, an, query, k, false, hits, n_hits, err);
}

void ws_search_set_parts(ws_search_index *idx, int parts)
{
    idx->parts = parts > 0 ? parts : 0;
}

int ws_search_exhaustive(const ws_search_index *idx, ws_analyzer *an, const char *query, size_t k,
                         ws_search_hit *hits, size_t *n_hits, ws_err *err)
{
    return search(idx, an, query, k, true, hits, n_hits, err);
}

size_t ws_search_n_docs(const ws_search_index *idx) { return idx->n_docs; }

const char *ws_search_doc_id(const ws_search_index *idx, size_t doc)
{
    return doc < idx->n_docs ? idx->ids + idx->id_off[doc] : NULL;
}

void ws_search_stats(const ws_search_index *idx, size_t *doc_count, uint64_t *sum_term_freq)
{
    if (doc_count)
        *doc_count = idx->doc_count;
    if (sum_term_freq)
        *sum_term_freq = idx->sum_ttf;
}

size_t ws_search_doc_freq(const ws_search_index *idx, const char *text)
{
    long t = find_term(idx, text, strlen(text));
    return t < 0 ? 0 : idx->terms[t].df;
}
