#include "search.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#ifdef _OPENMP
#include <omp.h>
#endif

#include "catalog.h"
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
} term;

/* The arrays are the same whether built here or mapped from a file (ws_search_write lays them out
 * as they are), so that one search code serves both and their results cannot differ. */
struct ws_search_index {
    size_t n_docs;
    const char *ids;          /* the documents' ids, back to back, each NUL-terminated */
    size_t ids_len;
    const uint64_t *id_off;   /* per document: its id's offset in ids */
    const uint32_t *id_rank;  /* rank of each document's id in byte order (the tie-break) */
    const uint8_t *norm;      /* SmallFloat.intToByte4(number of terms) per document */
    size_t doc_count;         /* documents with at least one term */
    uint64_t sum_ttf;         /* total number of terms */
    float avgdl;
    float norm_inverse[256];  /* 1 / (k1 * ((1 - b) + b * dl / avgdl)) per norm byte */
    ws_strmap term_ids;       /* term text -> its index in terms */
    const term *terms;
    const float *term_max_tf; /* per term: the largest tf_norm of its postings (bounds its scores) */
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
    size_t docs_cap;
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
        free((void *)idx->id_rank);
        free((void *)idx->norm);
        ws_strmap_free(&idx->term_ids);
        free((void *)idx->terms);
        free((void *)idx->term_max_tf);
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

static int finish(ws_search_builder *bld, ws_err *err)
{
    ws_search_index *idx = bld->idx;
    size_t n_posts = bld->n_posts, n_terms = ws_strmap_count(&idx->term_ids);
    term *terms = (term *)idx->terms; /* still the builder's to fill */
    /* postings grouped by term, in document order within a term (counting sort, stable) */
    uint32_t *post_doc = malloc((n_posts ? n_posts : 1) * sizeof *post_doc);
    uint32_t *post_freq = malloc((n_posts ? n_posts : 1) * sizeof *post_freq);
    idx->post_doc = post_doc;
    idx->post_freq = post_freq;
    idx->n_posts = n_posts;
    if (!post_doc || !post_freq)
        return ws_fail(err, "search: out of memory");
    for (size_t i = 0; i < n_posts; i++)
        terms[bld->posts[i].term].df++;
    uint32_t at = 0;
    for (size_t t = 0; t < n_terms; t++) {
        terms[t].post = at;
        at += terms[t].df;
        terms[t].df = 0;
    }
    for (size_t i = 0; i < n_posts; i++) {
        term *t = &terms[bld->posts[i].term];
        uint32_t p = t->post + t->df++;
        post_doc[p] = bld->posts[i].doc;
        post_freq[p] = bld->posts[i].freq;
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
    float *max_tf = malloc((n_terms ? n_terms : 1) * sizeof *max_tf);
    float *post_score = malloc((n_posts ? n_posts : 1) * sizeof *post_score);
    idx->term_max_tf = max_tf;
    idx->post_score = post_score;
    if (!max_tf || !post_score)
        return ws_fail(err, "search: out of memory");
    for (size_t t = 0; t < n_terms; t++) {
        max_tf[t] = 0;
        for (uint32_t p = terms[t].post; p < terms[t].post + terms[t].df; p++) {
            float x = tf_norm(idx, p, post_doc[p]);
            if (x > max_tf[t])
                max_tf[t] = x;
            post_score[p] = clause_score(terms[t].idf, x);
        }
    }

    /* tie-break ranks */
    size_t *order = malloc((idx->n_docs ? idx->n_docs : 1) * sizeof *order);
    uint32_t *id_rank = malloc((idx->n_docs ? idx->n_docs : 1) * sizeof *id_rank);
    idx->id_rank = id_rank;
    if (!order || !id_rank) {
        free(order);
        return ws_fail(err, "search: out of memory");
    }
    for (size_t i = 0; i < idx->n_docs; i++)
        order[i] = i;
    qsort_r(order, idx->n_docs, sizeof *order, cmp_id_index, idx);
    for (size_t r = 0; r < idx->n_docs; r++)
        id_rank[order[r]] = (uint32_t)r;
    free(order);
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
    if ((size_t)id == b->terms_cap) {
        size_t cap = b->terms_cap ? b->terms_cap * 2 : 1024;
        term *t = realloc(b->terms, cap * sizeof *t);
        if (!t)
            return ws_fail(err, "search: out of memory");
        b->terms = t;
        b->terms_cap = cap;
    }
    b->terms[id] = (term){0};
    return id;
}

/* Room for term t in the per-term arrays of the last document seen. */
static int reserve_last(ws_search_builder *b, size_t t)
{
    if (t < b->last_cap)
        return 0;
    size_t cap = b->last_cap ? b->last_cap * 2 : 4096;
    while (cap <= t)
        cap *= 2;
    uint32_t *a = realloc(b->last_doc, cap * sizeof *a);
    if (!a)
        return -1;
    b->last_doc = a;
    uint32_t *p = realloc(b->last_post, cap * sizeof *p);
    if (!p)
        return -1;
    b->last_post = p;
    for (size_t j = b->last_cap; j < cap; j++)
        b->last_doc[j] = UINT32_MAX;
    b->last_cap = cap;
    return 0;
}

int ws_search_builder_add(ws_search_builder *b, const char *id, const char *text, ws_err *err)
{
    ws_search_index *idx = b->idx;
    size_t d = idx->n_docs;
    if (d >= UINT32_MAX - 1)
        return ws_fail(err, "search: too many documents");
    if (!id)
        return ws_fail(err, "search: document %zu has no id", d);
    if (d == b->docs_cap) {
        size_t cap = b->docs_cap ? b->docs_cap * 2 : 1024;
        uint64_t *o = realloc(b->id_off, cap * sizeof *o);
        if (!o)
            return ws_fail(err, "search: out of memory");
        b->id_off = o;
        uint8_t *nm = realloc(b->norm, cap);
        if (!nm)
            return ws_fail(err, "search: out of memory");
        b->norm = nm;
        b->docs_cap = cap;
    }
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
        if (b->n_posts == b->posts_cap) {
            size_t cap = b->posts_cap ? b->posts_cap * 2 : 65536;
            posting *p = realloc(b->posts, cap * sizeof *p);
            if (!p)
                return ws_fail(err, "search: out of memory");
            b->posts = p;
            b->posts_cap = cap;
        }
        if (b->n_posts >= UINT32_MAX)
            return ws_fail(err, "search: too many postings");
        b->posts[b->n_posts] = (posting){(uint32_t)t, (uint32_t)d, 1};
        b->last_doc[t] = (uint32_t)d;
        b->last_post[t] = (uint32_t)b->n_posts++;
    }
    return 0;
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
    free(b->terms);
    free(b->posts);
    free(b->last_doc);
    free(b->last_post);
    free(b);
}

ws_search_index *ws_search_build(const char *const *doc_ids, const char *const *doc_texts, size_t n,
                                 ws_err *err)
{
    ws_search_builder *b = ws_search_builder_new(err);
    if (!b)
        return NULL;
    for (size_t d = 0; d < n; d++)
        if (ws_search_builder_add(b, doc_ids[d], doc_texts[d], err)) {
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
        if (ws_search_builder_add(b, cat->products[i].asin, cat->products[i].contents, err)) {
            ws_search_builder_free(b);
            return NULL;
        }
    return ws_search_builder_finish(b, err);
}

/* ---------------------------------------------------------------------------------------------
 * The index in a mapped file: its arrays as they are in memory, one section each. */

enum {
    SEC_STATS = 0x100, /* stats: n_docs, doc_count, sum_ttf, n_terms, n_posts (uint64 each) */
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
    SEC_TERM_MAX_TF,
    SEC_POST_SCORE
};

_Static_assert(sizeof(size_t) == sizeof(uint64_t), "the term map's offsets are written as uint64");

int ws_search_write(const ws_search_index *idx, ws_mapfile_writer *w, ws_err *err)
{
    const ws_strmap *m = &idx->term_ids;
    uint64_t stats[5] = {idx->n_docs, idx->doc_count, idx->sum_ttf, m->n, idx->n_posts};
    return ws_mapfile_add(w, SEC_STATS, stats, sizeof stats, err) ||
                   ws_mapfile_add(w, SEC_IDS, idx->ids, idx->ids_len, err) ||
                   ws_mapfile_add(w, SEC_ID_OFF, idx->id_off, idx->n_docs * sizeof *idx->id_off, err) ||
                   ws_mapfile_add(w, SEC_ID_RANK, idx->id_rank, idx->n_docs * sizeof *idx->id_rank, err) ||
                   ws_mapfile_add(w, SEC_NORM, idx->norm, idx->n_docs, err) ||
                   ws_mapfile_add(w, SEC_TERM_ARENA, m->arena, m->arena_len, err) ||
                   ws_mapfile_add(w, SEC_TERM_OFF, m->key_off, m->n * sizeof *m->key_off, err) ||
                   ws_mapfile_add(w, SEC_TERM_LEN, m->key_len, m->n * sizeof *m->key_len, err) ||
                   ws_mapfile_add(w, SEC_TERM_SLOTS, m->slots, m->n_slots * sizeof *m->slots, err) ||
                   ws_mapfile_add(w, SEC_TERMS, idx->terms, m->n * sizeof *idx->terms, err) ||
                   ws_mapfile_add(w, SEC_POST_DOC, idx->post_doc, idx->n_posts * sizeof *idx->post_doc, err) ||
                   ws_mapfile_add(w, SEC_POST_FREQ, idx->post_freq, idx->n_posts * sizeof *idx->post_freq, err) ||
                   ws_mapfile_add(w, SEC_TERM_MAX_TF, idx->term_max_tf, m->n * sizeof *idx->term_max_tf, err) ||
                   ws_mapfile_add(w, SEC_POST_SCORE, idx->post_score, idx->n_posts * sizeof *idx->post_score, err)
               ? -1
               : 0;
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
    const uint64_t *stats = ws_mapfile_array(m, SEC_STATS, sizeof *stats, 5, NULL, err);
    if (!stats) {
        free(idx);
        return NULL;
    }
    size_t n = (size_t)stats[0], n_terms = (size_t)stats[3], n_slots, arena_len;
    idx->n_docs = n;
    idx->doc_count = (size_t)stats[1];
    idx->sum_ttf = stats[2];
    idx->n_posts = (size_t)stats[4];
    if (n >= UINT32_MAX || idx->doc_count > n || idx->n_posts >= UINT32_MAX)
        return corrupt(idx, m, "statistics out of range", err);
    const char *arena;
    const uint32_t *slots;
    if (!(idx->ids = ws_mapfile_array(m, SEC_IDS, 1, (size_t)-1, &idx->ids_len, err)) ||
        !(idx->id_off = ws_mapfile_array(m, SEC_ID_OFF, sizeof *idx->id_off, n, NULL, err)) ||
        !(idx->id_rank = ws_mapfile_array(m, SEC_ID_RANK, sizeof *idx->id_rank, n, NULL, err)) ||
        !(idx->norm = ws_mapfile_array(m, SEC_NORM, 1, n, NULL, err)) ||
        !(arena = ws_mapfile_array(m, SEC_TERM_ARENA, 1, (size_t)-1, &arena_len, err)) ||
        !(slots = ws_mapfile_array(m, SEC_TERM_SLOTS, sizeof *slots, (size_t)-1, &n_slots, err)) ||
        !(idx->terms = ws_mapfile_array(m, SEC_TERMS, sizeof *idx->terms, n_terms, NULL, err)) ||
        !(idx->post_doc = ws_mapfile_array(m, SEC_POST_DOC, sizeof *idx->post_doc, idx->n_posts, NULL, err)) ||
        !(idx->post_freq = ws_mapfile_array(m, SEC_POST_FREQ, sizeof *idx->post_freq, idx->n_posts, NULL, err)) ||
        !(idx->term_max_tf = ws_mapfile_array(m, SEC_TERM_MAX_TF, sizeof *idx->term_max_tf, n_terms, NULL, err)) ||
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
static size_t top_hits(top *t, ws_search_hit *hits)
{
    qsort(t->c, t->n, sizeof *t->c, cmp_cand);
    for (size_t i = 0; i < t->n; i++)
        hits[i] = (ws_search_hit){t->c[i].doc, t->c[i].score};
    return t->n;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

/* One clause of the query, with its cursor in the term's postings. */
typedef struct qterm {
    uint32_t term;
    uint32_t p, end;  /* next posting, end of the term's postings */
    uint32_t from;    /* while the clause's postings in a window are added term at a time: the
                       * first at or after the last candidate summed */
    uint32_t order;   /* its place in the clauses sorted by max */
    float weight;     /* boost * idf */
    float scale;      /* the boost where it is a power of two, else 0: clause_score(boost * idf, x)
                       * is then boost * clause_score(idf, x) to the bit (each of its rounded
                       * operations scales exactly by a power of two), the posting's stored score */
    float max;        /* the largest score any of its postings gives */
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
        const term *t = &idx->terms[qy->ids[i]];
        size_t count = j - i;
        float boost = (float)count;
        float weight = boost * t->idf;
        qy->q[qy->nq++] = (qterm){.term = qy->ids[i], .p = t->post, .end = t->post + t->df, .weight = weight,
                                  .scale = (count & (count - 1)) == 0 ? boost : 0,
                                  .max = clause_score(weight, idx->term_max_tf[qy->ids[i]])};
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
        for (uint32_t p = t->p; p < t->end; p++) {
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

/* MaxScore (Turtle and Flood; Lucene's MaxScoreBulkScorer), over windows of documents. The clauses
 * sorted by their largest score split into non-essential ones, whose largest scores together
 * cannot reach the k-th best score, and essential ones: only documents of essential clauses are
 * candidates. A window's candidates get their essential clauses' scores added term at a time,
 * then those of the non-essential clauses with few postings in the window for its candidates
 * (cheaper than looking each candidate up in them); then, in document order, each is
 * dropped as soon as what it has plus what the clauses left could give falls below the k-th
 * best, else its score is summed as score_all sums it, clause by clause in term order, so the
 * scores and ties are exactly score_all's (the few kept documents find the postings of the
 * clauses added term at a time again in the window).
 *
 * The bounds are conservative: a clause's score is at most its max (monotonic rounding); sums of
 * maxes are taken in double and widened by more than any reordering of a double sum of nq terms
 * can change it; a document is dropped only when that bound, rounded to float as scores are, is
 * strictly below the k-th best, since an equal score may still win its tie by id.
 *
 * This scores the documents of one part of the collection: q's cursors span the part's postings
 * (docs_end: where the part ends), best collects its k best. kth_shared holds each part's k-th
 * best score (slot: this one's): a document below another part's k-th best is below k documents
 * already, so it is dropped as well. */
static int score_pruned(const ws_search_index *idx, qterm *q, size_t nq, uint64_t docs_end, top *best,
                        float *kth_shared, int slot, int n_slots, ws_err *err)
{
    enum { WIN = 4096 }; /* documents a window: 1,024 to 8,192 measured at 100k and 1.18M, 4,096 best */
    size_t *by = malloc(nq * sizeof *by);           /* clauses by max ascending */
    double *upto = malloc((nq + 1) * sizeof *upto); /* upto[j]: bound on the sum of by[0..j)'s maxes */
    double ess[WIN] = {0};                          /* per window document: its essential clauses' sum
                                                     * (zero again once the window's candidates are read) */
    uint64_t touched[WIN / 64] = {0};
    int rc = 0;
    if (!by || !upto) {
        rc = ws_fail(err, "search: out of memory");
        goto out;
    }
    for (size_t i = 0; i < nq; i++) { /* insertion sort: queries have few terms */
        size_t j = i;
        for (; j > 0 && q[by[j - 1]].max > q[i].max; j--)
            by[j] = by[j - 1];
        by[j] = i;
    }
    for (size_t j = 0; j < nq; j++)
        q[by[j]].order = (uint32_t)j;
    const double widen = 1.0 + (double)(nq + 2) * 0x1p-50;
    upto[0] = 0;
    for (size_t j = 0; j < nq; j++)
        upto[j + 1] = upto[j] + (double)q[by[j]].max;
    float kth = -INFINITY; /* the k-th best score once there are k, here or in another part */
    size_t n_ness = 0;     /* by[0..n_ness) are non-essential */
    const uint32_t *pd = idx->post_doc;
    for (;;) {
        uint64_t lo = UINT64_MAX; /* the window starts at the next essential posting */
        for (size_t j = n_ness; j < nq; j++)
            if (q[by[j]].p < q[by[j]].end && pd[q[by[j]].p] < lo)
                lo = pd[q[by[j]].p];
        for (int other = 0; other < n_slots; other++) {
            float theirs;
            __atomic_load(&kth_shared[other], &theirs, __ATOMIC_RELAXED);
            kth = theirs > kth ? theirs : kth;
        }
        if (lo >= idx->n_docs) {
            if (lo != UINT64_MAX)
                rc = bad_posting(idx, (uint32_t)lo, err);
            break;
        }
        uint64_t hi = lo + WIN < idx->n_docs ? lo + WIN : idx->n_docs, n_cand = 0;
        for (size_t c = 0; c < nq; c++) { /* in term order: with every clause essential, the sums are exact */
            qterm *t = &q[c];
            if (t->order < n_ness)
                continue;
            uint32_t p = t->from = t->p; /* the cursor in a register, not stored at every posting */
            for (; p < t->end && pd[p] < hi; p++) {
                uint32_t d = pd[p];
                if (d < lo) { /* only a damaged file's postings go back */
                    rc = bad_posting(idx, d, err);
                    goto out;
                }
                size_t i = d - lo; /* no branch on whether the document is new: it would mispredict */
                touched[i / 64] |= 1ull << i % 64;
                ess[i] += (double)posting_score(idx, t, p, d);
            }
            t->p = p;
        }
        for (size_t w = 0; w < WIN / 64; w++)
            n_cand += (uint64_t)__builtin_popcountll(touched[w]);
        /* by[m..n_ness) are added term at a time, by[0..m) looked up: a clause whose postings in the
         * window (by its density in what is left) are under half the candidates, a lookup costing
         * several times a posting added (measured at 1.18M products) */
        size_t m = n_ness;
        for (; m > 0 && lo < docs_end && (uint64_t)(q[by[m - 1]].end - q[by[m - 1]].p) * WIN / (docs_end - lo) * 2 <= n_cand; m--) {
            qterm *t = &q[by[m - 1]];
            uint32_t p = t->from = seek(pd, t->p, t->end, (uint32_t)lo);
            for (; p < t->end && pd[p] < hi; p++) {
                uint32_t d = pd[p];
                if (d < lo) {
                    rc = bad_posting(idx, d, err);
                    goto out;
                }
                /* a document not a candidate adds 0 and stays 0; times its bit (1 or 0), as a
                 * choice compiles to a branch that mispredicts */
                size_t i = d - lo;
                ess[i] += (double)posting_score(idx, t, p, d) * (double)(touched[i / 64] >> i % 64 & 1);
            }
            t->p = p;
        }
        for (size_t w = 0; w < WIN / 64; w++)
            for (uint64_t bits = touched[w]; bits; bits &= bits - 1) {
                size_t i = w * 64 + (size_t)__builtin_ctzll(bits);
                uint32_t d = (uint32_t)(lo + i);
                double sum = ess[i];
                ess[i] = 0;
                bool kept = true;
                for (size_t j = m; j-- > 0;) {
                    if ((float)((sum + upto[j + 1]) * widen) < kth) {
                        kept = false;
                        break;
                    }
                    qterm *t = &q[by[j]];
                    t->p = seek(pd, t->p, t->end, d);
                    if (t->p < t->end && pd[t->p] == d)
                        sum += (double)posting_score(idx, t, t->p, d);
                }
                if (!kept || (float)(sum * widen) < kth)
                    continue;
                double exact = 0;
                for (size_t c = 0; n_ness > 0 && c < nq; c++) { /* candidates come in document order */
                    qterm *t = &q[c];
                    uint32_t p = t->order < m ? t->p : (t->from = seek(pd, t->from, t->p, d));
                    if (p < t->end && pd[p] == d)
                        exact += (double)posting_score(idx, t, p, d);
                }
                top_offer(best, (cand){(float)(n_ness ? exact : sum), idx->id_rank[d], d});
                if (best->n == best->k && best->c[0].score > kth) {
                    kth = best->c[0].score;
                    __atomic_store(&kth_shared[slot], &kth, __ATOMIC_RELAXED);
                }
            }
        memset(touched, 0, sizeof touched);
        while (n_ness < nq && (float)(upto[n_ness + 1] * widen) < kth)
            n_ness++;
    }
out:
    free(by);
    free(upto);
    return rc;
}

/* Parts of the pruned search: a collection this large is split (each part costs a seek per clause
 * and its own k best), into at most this many. */
enum { SPLIT_MIN_DOCS = 1 << 16, MAX_PARTS = 8 };

/* The pruned search, the collection split into parts scored by as many threads (a large collection,
 * outside any parallel region), their best merged: the same hits and scores whatever the parts. */
static int score_parts(const ws_search_index *idx, query_state *qy, ws_err *err)
{
    int n_parts = idx->parts < MAX_PARTS ? idx->parts : MAX_PARTS;
#ifdef _OPENMP
    if (n_parts == 0 && idx->n_docs >= SPLIT_MIN_DOCS && omp_get_active_level() == 0)
        n_parts = omp_get_max_threads() < MAX_PARTS ? omp_get_max_threads() : MAX_PARTS;
#endif
    if (n_parts <= 1) {
        float kth = -INFINITY;
        return score_pruned(idx, qy->q, qy->nq, idx->n_docs, &qy->best, &kth, 0, 1, err);
    }
    size_t nq = qy->nq, k = qy->best.k;
    qterm *parts_q = malloc((size_t)n_parts * nq * sizeof *parts_q);
    cand *parts_c = malloc((size_t)(n_parts - 1) * k * sizeof *parts_c);
    if (!parts_q || !parts_c) {
        free(parts_q);
        free(parts_c);
        return ws_fail(err, "search: out of memory");
    }
    top parts_best[MAX_PARTS];
    float kth[MAX_PARTS];
    int rc[MAX_PARTS] = {0};
    ws_err part_err[MAX_PARTS];
    const uint32_t *pd = idx->post_doc;
    for (int part = 0; part < n_parts; part++) {
        /* part's documents begin at begin; its cursors at its first posting, the last part's end
         * at the lists' ends (where a posting past the documents is found and refused) */
        uint32_t begin = (uint32_t)(idx->n_docs * part / n_parts), end = (uint32_t)(idx->n_docs * (part + 1) / n_parts);
        qterm *q = parts_q + (size_t)part * nq;
        for (size_t c = 0; c < nq; c++) {
            q[c] = qy->q[c];
            q[c].p = seek(pd, q[c].p, q[c].end, begin);
            if (part < n_parts - 1)
                q[c].end = seek(pd, q[c].p, q[c].end, end);
        }
        parts_best[part] = part == 0 ? qy->best : (top){parts_c + (size_t)(part - 1) * k, 0, k};
        kth[part] = -INFINITY;
    }
    int threads = 1;
#ifdef _OPENMP
    threads = omp_get_max_threads() < n_parts ? omp_get_max_threads() : n_parts;
#endif
#pragma omp parallel for num_threads(threads) schedule(static, 1)
    for (int part = 0; part < n_parts; part++)
        rc[part] = score_pruned(idx, parts_q + (size_t)part * nq, nq,
                                part < n_parts - 1 ? idx->n_docs * (part + 1) / n_parts : idx->n_docs,
                                &parts_best[part], kth, part, n_parts, &part_err[part]);
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
    free(parts_q);
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
        *n_hits = top_hits(&qy.best, hits);
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
