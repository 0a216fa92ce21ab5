#include "search.h"

#include <math.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
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

struct ws_search_index {
    size_t n_docs;
    char **ids;
    uint32_t *id_rank;    /* rank of each document's id in byte order (the tie-break) */
    uint8_t *norm;        /* SmallFloat.intToByte4(number of terms) per document */
    size_t doc_count;     /* documents with at least one term */
    uint64_t sum_ttf;     /* total number of terms */
    float avgdl;
    float norm_inverse[256]; /* 1 / (k1 * ((1 - b) + b * dl / avgdl)) per norm byte */
    ws_strmap term_ids;   /* term text -> its index in terms */
    term *terms;
    size_t terms_cap;
    uint32_t *post_doc, *post_freq;
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
 * Term dictionary. */

static long find_term(const ws_search_index *idx, const char *s, size_t len)
{
    return ws_strmap_find(&idx->term_ids, s, len);
}

/* The id of a term, added when new; -1 on error. */
static long intern(ws_search_index *idx, const char *s, size_t len, ws_err *err)
{
    int added;
    long id = ws_strmap_add(&idx->term_ids, s, len, &added);
    if (id < 0)
        return ws_fail(err, "search: out of memory");
    if (!added)
        return id;
    if ((size_t)id == idx->terms_cap) {
        size_t cap = idx->terms_cap ? idx->terms_cap * 2 : 1024;
        term *t = realloc(idx->terms, cap * sizeof *t);
        if (!t)
            return ws_fail(err, "search: out of memory");
        idx->terms = t;
        idx->terms_cap = cap;
    }
    idx->terms[id] = (term){0};
    return id;
}

/* ---------------------------------------------------------------------------------------------
 * Build. */

typedef struct posting {
    uint32_t term, doc, freq;
} posting;

static int cmp_id_index(const void *a, const void *b, void *arg)
{
    char *const *ids = arg;
    return strcmp(ids[*(const size_t *)a], ids[*(const size_t *)b]);
}

void ws_search_free(ws_search_index *idx)
{
    if (!idx)
        return;
    if (idx->ids)
        for (size_t i = 0; i < idx->n_docs; i++)
            free(idx->ids[i]);
    free(idx->ids);
    free(idx->id_rank);
    free(idx->norm);
    ws_strmap_free(&idx->term_ids);
    free(idx->terms);
    free(idx->post_doc);
    free(idx->post_freq);
    free(idx);
}

static int finish(ws_search_index *idx, posting *posts, size_t n_posts, ws_err *err)
{
    /* postings grouped by term, in document order within a term (counting sort, stable) */
    idx->post_doc = malloc((n_posts ? n_posts : 1) * sizeof *idx->post_doc);
    idx->post_freq = malloc((n_posts ? n_posts : 1) * sizeof *idx->post_freq);
    if (!idx->post_doc || !idx->post_freq)
        return ws_fail(err, "search: out of memory");
    for (size_t i = 0; i < n_posts; i++)
        idx->terms[posts[i].term].df++;
    uint32_t at = 0;
    for (size_t t = 0; t < ws_strmap_count(&idx->term_ids); t++) {
        idx->terms[t].post = at;
        at += idx->terms[t].df;
        idx->terms[t].df = 0;
    }
    for (size_t i = 0; i < n_posts; i++) {
        term *t = &idx->terms[posts[i].term];
        uint32_t p = t->post + t->df++;
        idx->post_doc[p] = posts[i].doc;
        idx->post_freq[p] = posts[i].freq;
    }

    /* BM25Similarity: avgFieldLength, idf and the norm cache, in Lucene's float operations. The
     * statements are kept separate so that no compiler fuses them into fused multiply-adds. */
    const float k1 = WS_SEARCH_K1, b = WS_SEARCH_B;
    long long n_with = (long long)idx->doc_count;
    idx->avgdl = n_with ? (float)((double)idx->sum_ttf / (double)n_with) : 1.0f;
    for (int i = 0; i < 256; i++) {
        float dl = (float)ws_smallfloat_byte4_to_int((uint8_t)i);
        float one_minus_b = 1.0f - b;
        float bdl = b * dl;
        float rel = bdl / idx->avgdl;
        float sum = one_minus_b + rel;
        float den = k1 * sum;
        idx->norm_inverse[i] = 1.0f / den;
    }
    for (size_t t = 0; t < ws_strmap_count(&idx->term_ids); t++) {
        long long df = idx->terms[t].df;
        double x = ((double)(n_with - df) + 0.5) / ((double)df + 0.5);
        idx->terms[t].idf = (float)log(1.0 + x);
    }

    /* tie-break ranks */
    size_t *order = malloc((idx->n_docs ? idx->n_docs : 1) * sizeof *order);
    idx->id_rank = malloc((idx->n_docs ? idx->n_docs : 1) * sizeof *idx->id_rank);
    if (!order || !idx->id_rank) {
        free(order);
        return ws_fail(err, "search: out of memory");
    }
    for (size_t i = 0; i < idx->n_docs; i++)
        order[i] = i;
    qsort_r(order, idx->n_docs, sizeof *order, cmp_id_index, idx->ids);
    for (size_t r = 0; r < idx->n_docs; r++)
        idx->id_rank[order[r]] = (uint32_t)r;
    free(order);
    return 0;
}

ws_search_index *ws_search_build(const char *const *doc_ids, const char *const *doc_texts, size_t n,
                                 ws_err *err)
{
    if (n >= UINT32_MAX)
        return ws_fail(err, "search: too many documents"), NULL;
    ws_search_index *idx = calloc(1, sizeof *idx);
    ws_analyzer *an = ws_analyzer_new(err);
    ws_tokens toks;
    ws_tokens_init(&toks);
    posting *posts = NULL;
    size_t n_posts = 0, posts_cap = 0;
    uint32_t *last_doc = NULL, *last_post = NULL; /* per term: last document seen, its posting */
    size_t last_cap = 0;
    if (!idx || !an)
        goto oom;
    idx->n_docs = n;
    idx->ids = calloc(n ? n : 1, sizeof *idx->ids);
    idx->norm = calloc(n ? n : 1, 1);
    if (!idx->ids || !idx->norm)
        goto oom;
    for (size_t d = 0; d < n; d++) {
        if (!doc_ids[d]) {
            ws_fail(err, "search: document %zu has no id", d);
            goto fail;
        }
        if (!(idx->ids[d] = strdup(doc_ids[d])))
            goto oom;
        const char *text = doc_texts[d] ? doc_texts[d] : "";
        if (ws_analyze(an, text, &toks, err)) {
            ws_fail_prefix(err, doc_ids[d]);
            goto fail;
        }
        if (toks.n > INT32_MAX) {
            ws_fail(err, "search: document %s is too long", doc_ids[d]);
            goto fail;
        }
        idx->norm[d] = ws_smallfloat_int_to_byte4((int32_t)toks.n);
        idx->sum_ttf += toks.n;
        if (toks.n)
            idx->doc_count++;
        for (size_t i = 0; i < toks.n; i++) {
            long t = intern(idx, ws_token(&toks, i), ws_token_len(&toks, i), err);
            if (t < 0)
                goto fail;
            if ((size_t)t >= last_cap) {
                size_t cap = last_cap ? last_cap * 2 : 4096;
                while (cap <= (size_t)t)
                    cap *= 2;
                uint32_t *a = realloc(last_doc, cap * sizeof *a);
                if (a)
                    last_doc = a;
                uint32_t *p = a ? realloc(last_post, cap * sizeof *p) : NULL;
                if (!p)
                    goto oom;
                last_post = p;
                for (size_t j = last_cap; j < cap; j++)
                    last_doc[j] = UINT32_MAX;
                last_cap = cap;
            }
            if (last_doc[t] == d) {
                posts[last_post[t]].freq++;
                continue;
            }
            if (n_posts == posts_cap) {
                size_t cap = posts_cap ? posts_cap * 2 : 65536;
                posting *p = realloc(posts, cap * sizeof *p);
                if (!p)
                    goto oom;
                posts = p;
                posts_cap = cap;
            }
            if (n_posts >= UINT32_MAX) {
                ws_fail(err, "search: too many postings");
                goto fail;
            }
            posts[n_posts] = (posting){(uint32_t)t, (uint32_t)d, 1};
            last_doc[t] = (uint32_t)d;
            last_post[t] = (uint32_t)n_posts++;
        }
    }
    if (finish(idx, posts, n_posts, err))
        goto fail;
    free(posts);
    free(last_doc);
    free(last_post);
    ws_tokens_free(&toks);
    ws_analyzer_free(an);
    return idx;
oom:
    ws_fail(err, "search: out of memory");
fail:
    free(posts);
    free(last_doc);
    free(last_post);
    ws_tokens_free(&toks);
    ws_analyzer_free(an);
    ws_search_free(idx);
    return NULL;
}

ws_search_index *ws_search_build_catalog(const ws_catalog *cat, ws_err *err)
{
    const char **ids = malloc((cat->n ? cat->n : 1) * sizeof *ids);
    const char **texts = malloc((cat->n ? cat->n : 1) * sizeof *texts);
    if (!ids || !texts) {
        free(ids);
        free(texts);
        return ws_fail(err, "search: out of memory"), NULL;
    }
    for (size_t i = 0; i < cat->n; i++) {
        ids[i] = cat->products[i].asin;
        texts[i] = cat->products[i].contents;
    }
    ws_search_index *idx = ws_search_build(ids, texts, cat->n, err);
    free(ids);
    free(texts);
    return idx;
}

/* ---------------------------------------------------------------------------------------------
 * Search. */

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

/* Keep the k best of c[0..n) in c[0..min(n, k)), best first. */
static size_t top_k(cand *c, size_t n, size_t k)
{
    if (n > k) {
        for (size_t i = k / 2; i-- > 0;)
            sift_down(c, k, i);
        for (size_t i = k; i < n && k > 0; i++)
            if (better(&c[i], &c[0])) {
                c[0] = c[i];
                sift_down(c, k, 0);
            }
        n = k;
    }
    qsort(c, n, sizeof *c, cmp_cand);
    return n;
}

static int cmp_u32(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    return (x > y) - (x < y);
}

int ws_search(const ws_search_index *idx, ws_analyzer *an, const char *query, size_t k,
              ws_search_hit *hits, size_t *n_hits, ws_err *err)
{
    *n_hits = 0;
    if (!query)
        return ws_fail(err, "search: no query");
    ws_tokens toks;
    ws_tokens_init(&toks);
    if (ws_analyze(an, query, &toks, err)) {
        ws_tokens_free(&toks);
        return -1;
    }
    /* Anserini's BagOfWordsQueryGenerator: one clause per distinct term, boost = its count */
    uint32_t *qt = malloc((toks.n ? toks.n : 1) * sizeof *qt);
    double *acc = calloc(idx->n_docs ? idx->n_docs : 1, sizeof *acc);
    uint8_t *seen = calloc(idx->n_docs ? idx->n_docs : 1, 1);
    cand *cands = malloc((idx->n_docs ? idx->n_docs : 1) * sizeof *cands);
    int rc = 0;
    if (!qt || !acc || !seen || !cands) {
        rc = ws_fail(err, "search: out of memory");
        goto out;
    }
    size_t nq = 0;
    for (size_t i = 0; i < toks.n; i++) {
        long t = find_term(idx, ws_token(&toks, i), ws_token_len(&toks, i));
        if (t >= 0)
            qt[nq++] = (uint32_t)t;
    }
    qsort(qt, nq, sizeof *qt, cmp_u32);
    size_t n_cands = 0;
    for (size_t i = 0; i < nq;) {
        size_t j = i;
        while (j < nq && qt[j] == qt[i])
            j++;
        const term *t = &idx->terms[qt[i]];
        float boost = (float)(j - i);
        float weight = boost * t->idf;
        for (uint32_t p = t->post; p < t->post + t->df; p++) {
            uint32_t d = idx->post_doc[p];
            float freq = (float)idx->post_freq[p];
            float x = freq * idx->norm_inverse[idx->norm[d]];
            float den = 1.0f + x;
            float q = weight / den;
            float s = weight - q;
            acc[d] += (double)s;
            if (!seen[d]) {
                seen[d] = 1;
                cands[n_cands++].doc = d;
            }
        }
        i = j;
    }
    for (size_t c = 0; c < n_cands; c++) {
        cands[c].score = (float)acc[cands[c].doc];
        cands[c].rank = idx->id_rank[cands[c].doc];
    }
    size_t m = top_k(cands, n_cands, k);
    for (size_t c = 0; c < m; c++) {
        hits[c].doc = cands[c].doc;
        hits[c].score = cands[c].score;
    }
    *n_hits = m;
out:
    free(qt);
    free(acc);
    free(seen);
    free(cands);
    ws_tokens_free(&toks);
    return rc;
}

size_t ws_search_n_docs(const ws_search_index *idx) { return idx->n_docs; }

const char *ws_search_doc_id(const ws_search_index *idx, size_t doc)
{
    return doc < idx->n_docs ? idx->ids[doc] : NULL;
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
