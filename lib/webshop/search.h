/* search: WebShop's search engine, BM25 over the products' `contents` as pyserini/Anserini on
 * Lucene 9 computes it, to the bit.
 *
 * Owns the in-memory inverted index (terms from lib/text/analyzer.h, postings with term frequencies
 * and the clause score each gives a query term of boost 1, one-byte length norms, per term and
 * window of documents the largest score it gives there; documents numbered in the index's own
 * order, alike ones side by side) and the ranking: Anserini's bag-of-words query (one SHOULD clause per
 * distinct query term, boosted by how often the term occurs in the query), Lucene's
 * BM25Similarity with k1 = 0.9, b = 0.4 in single precision (idf = (float) log(1 + (N - n + 0.5) /
 * (n + 0.5)) with N the documents that have a term; document length = its number of terms,
 * stored as SmallFloat.intToByte4 and decoded with byte4ToInt; avgdl = (float) (total terms /
 * N); per-norm cache 1 / (k1 * ((1 - b) + b * dl / avgdl)); clause score weight - weight /
 * (1 + freq * cache[norm]) with weight = boost * idf), clause scores summed in double and
 * rounded to float as Lucene's disjunction scorer does, ties broken by document id ascending
 * (byte order), as Anserini's searcher sorts.
 *
 * An index is built in memory (from a catalog or any documents, all at once or one document at a
 * time) or mapped read-only from the file a catalog is mapped from (ws_search_write lays its
 * arrays out there as they are in memory, so both give the same hits and scores to the bit;
 * docs/catalog-format.md). An index is immutable once built and may be searched from several
 * threads at once, each with its own analyzer. */
#ifndef WS_SEARCH_H
#define WS_SEARCH_H

#include <stddef.h>
#include <stdint.h>

#include "analyzer.h"
#include "err.h"
#include "mapfile.h"

struct ws_catalog;
struct ws_product;

#define WS_SEARCH_K1 0.9f
#define WS_SEARCH_B 0.4f
#define WS_SEARCH_TOP 50 /* WebShop shows the top 50 products, 10 per page */

typedef struct ws_search_hit {
    size_t doc; /* index of the document in the order it was given to the build */
    float score;
} ws_search_hit;

typedef struct ws_search_index ws_search_index;

/* Index n documents: doc_ids[i] (e.g. the ASIN; copied) and doc_texts[i] (analyzed, not kept);
 * doc_groups[i] (NULL: all in one group) puts documents that share it side by side in the index
 * (ws_search_builder_add). */
ws_search_index *ws_search_build(const char *const *doc_ids, const char *const *doc_texts,
                                 const char *const *doc_groups, size_t n, ws_err *err);
/* Index a catalog's products (ws_search_builder_add_product); doc i = cat->products[i]. A catalog
 * loaded from its mapped file gives the index mapped from that file (nothing is built). */
ws_search_index *ws_search_build_catalog(const struct ws_catalog *cat, ws_err *err);
void ws_search_free(ws_search_index *idx);

/* One document at a time, in document order (what ws_search_build does over its arrays); a
 * builder that failed can only be freed. finish frees the builder either way.
 * The group (NULL: "") changes no hit or score: the index numbers its documents group by group
 * (the groups' keys in byte order; in a group shortest first, then as given), so that documents alike
 * share the search's windows, whose score bounds are then tight (a query's windows of other
 * groups are skipped whole); hits still name documents by their place as given. */
typedef struct ws_search_builder ws_search_builder;
ws_search_builder *ws_search_builder_new(ws_err *err);
int ws_search_builder_add(ws_search_builder *b, const char *id, const char *text, const char *group, ws_err *err);
/* A product: id = asin, text = contents, group = its category and scraping query. */
int ws_search_builder_add_product(ws_search_builder *b, const struct ws_product *p, ws_err *err);
ws_search_index *ws_search_builder_finish(ws_search_builder *b, ws_err *err);
void ws_search_builder_free(ws_search_builder *b);

/* The index's sections into a mapped file being written, and an index over them once mapped
 * (borrowing the mapping, which must outlive it). Opening checks every offset the search
 * follows, except a posting's document, which ws_search checks as it reads it, so a garbled file
 * gives an error naming it, never a read outside the mapping. */
int ws_search_write(const ws_search_index *idx, ws_mapfile_writer *w, ws_err *err);
ws_search_index *ws_search_open(const ws_mapfile *m, ws_err *err);

/* The best min(k, matching) documents for a query, best first, into hits[0..*n_hits). A query
 * without any indexed term matches nothing (*n_hits = 0, not an error). Documents that cannot
 * reach the k best are skipped: the index keeps, per term and window of 1,024 documents, the
 * largest score the term gives there; windows are scored best bound first until a window's bound
 * falls below the k-th best score, and inside a window MaxScore skips documents by the same
 * bounds. Memory grows with the query, k and the number of windows. A large collection (65,536
 * documents and more) has its windows dealt to parts searched by OpenMP's threads at once, when
 * the call is not inside a parallel region: the same hits and scores, whatever the threads. */
int ws_search(const ws_search_index *idx, ws_analyzer *an, const char *query, size_t k,
              ws_search_hit *hits, size_t *n_hits, ws_err *err);
/* The parts ws_search splits this index's collection into: 0 (the default) by its size and the
 * threads, n: n parts (at most 8), for tests and benchmarks. Not while searches run. */
void ws_search_set_parts(ws_search_index *idx, int parts);
/* The same hits and scores, to the bit, from every posting of the query's terms (term at a time,
 * memory proportional to the documents): the reference ws_search's pruning is checked against. */
int ws_search_exhaustive(const ws_search_index *idx, ws_analyzer *an, const char *query, size_t k,
                         ws_search_hit *hits, size_t *n_hits, ws_err *err);

size_t ws_search_n_docs(const ws_search_index *idx);
const char *ws_search_doc_id(const ws_search_index *idx, size_t doc);
/* Collection statistics: documents with at least one term, total number of terms. */
void ws_search_stats(const ws_search_index *idx, size_t *doc_count, uint64_t *sum_term_freq);
/* Number of documents containing an (already analyzed) term; 0 when absent. */
size_t ws_search_doc_freq(const ws_search_index *idx, const char *term);

/* Lucene's SmallFloat.intToByte4 / byte4ToInt: the one-byte document length. */
uint8_t ws_smallfloat_int_to_byte4(int32_t i);
int32_t ws_smallfloat_byte4_to_int(uint8_t b);

#endif
