/* search_parity: the C side of the search parity check (tests/oracle/search.mk); mirrors the
 * modes of SearchOracle.java so the two outputs compare line by line.
 *
 *   search_parity search DATA K      query lines on stdin -> "docid:scorebits ..." per query
 *                                    (build time and mean latency on stderr)
 *   search_parity search-exhaustive DATA K   the same from ws_search_exhaustive (every posting
 *                                    scored), to check ws_search's pruning at any size
 *   search_parity analyze-docs DATA  {"id":..,"tokens":[..]} per product
 *   search_parity analyze-lines      one JSON array of terms per input line
 *   search_parity tokenize-lines     the same with the bare tokenizer
 *   search_parity tables N           SmallFloat tables and idf for n = 1..N */
#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "analyzer.h"
#include "catalog.h"
#include "search.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

static void die(const char *what, const ws_err *err)
{
    fprintf(stderr, "search_parity: %s: %s\n", what, err ? err->msg : "");
    exit(1);
}

static void print_tokens(const ws_tokens *t)
{
    json_t *a = json_array();
    for (size_t i = 0; i < t->n; i++)
        json_array_append_new(a, json_stringn(ws_token(t, i), ws_token_len(t, i)));
    char *s = json_dumps(a, JSON_COMPACT);
    puts(s);
    free(s);
    json_decref(a);
}

/* One line without its end (\n, \r\n or \r as Java's readLine; a NUL inside is kept). */
static char *read_line(char **buf, size_t *cap, size_t *len)
{
    ssize_t n = getline(buf, cap, stdin);
    if (n < 0)
        return NULL;
    while (n > 0 && ((*buf)[n - 1] == '\n' || (*buf)[n - 1] == '\r'))
        (*buf)[--n] = '\0';
    *len = (size_t)n;
    return *buf;
}

int main(int argc, char **argv)
{
    ws_err err = {{0}};
    if (argc < 2) {
        fprintf(stderr, "usage: search_parity search|search-exhaustive DATA K | analyze-docs DATA | analyze-lines |"
                        " tokenize-lines | tables N\n");
        return 2;
    }
    const char *mode = argv[1];
    char *line = NULL;
    size_t cap = 0;
    ws_tokens toks;
    ws_tokens_init(&toks);
    ws_analyzer *an = ws_analyzer_new(&err);
    if (!an)
        die("analyzer", &err);

    if (!strcmp(mode, "analyze-lines") || !strcmp(mode, "tokenize-lines")) {
        int raw = !strcmp(mode, "tokenize-lines");
        size_t len;
        while (read_line(&line, &cap, &len)) {
            int rc = raw ? ws_tokenize(an, line, len, &toks, &err)
                         : ws_analyze_n(an, line, len, &toks, &err);
            if (rc)
                die("analyze", &err);
            print_tokens(&toks);
        }
    } else if (!strcmp(mode, "analyze-docs") && argc > 2) {
        ws_catalog cat;
        if (ws_catalog_load(&cat, argv[2], 233, &err))
            die("catalog", &err);
        for (size_t i = 0; i < cat.n; i++) {
            if (ws_analyze(an, cat.products[i].contents, &toks, &err))
                die("analyze", &err);
            json_t *a = json_array();
            for (size_t j = 0; j < toks.n; j++)
                json_array_append_new(a, json_stringn(ws_token(&toks, j), ws_token_len(&toks, j)));
            json_t *o = json_pack("{s:s,s:o}", "id", cat.products[i].asin, "tokens", a);
            char *s = json_dumps(o, JSON_COMPACT);
            puts(s);
            free(s);
            json_decref(o);
        }
        ws_catalog_free(&cat);
    } else if ((!strcmp(mode, "search") || !strcmp(mode, "search-exhaustive")) && argc > 3) {
        int (*search)(const ws_search_index *, ws_analyzer *, const char *, size_t, ws_search_hit *, size_t *,
                      ws_err *) = strcmp(mode, "search") ? ws_search_exhaustive : ws_search;
        ws_catalog cat;
        if (ws_catalog_load(&cat, argv[2], 233, &err))
            die("catalog", &err);
        size_t k = (size_t)atol(argv[3]);
        double t0 = now_s();
        ws_search_index *idx = ws_search_build_catalog(&cat, &err);
        double t_build = now_s() - t0;
        if (!idx)
            die("build", &err);
        ws_search_hit *hits = malloc((k ? k : 1) * sizeof *hits);
        double t_search = 0;
        long n_queries = 0;
        size_t len;
        while (read_line(&line, &cap, &len)) {
            size_t nh;
            double t1 = now_s();
            if (search(idx, an, line, k, hits, &nh, &err))
                die("search", &err);
            t_search += now_s() - t1;
            n_queries++;
            for (size_t i = 0; i < nh; i++) {
                uint32_t bits;
                memcpy(&bits, &hits[i].score, sizeof bits);
                printf("%s%s:%08x", i ? " " : "", ws_search_doc_id(idx, hits[i].doc), bits);
            }
            putchar('\n');
        }
        fprintf(stderr, "C index build: %.1f ms for %zu documents; search: %ld queries, mean %.1f us per query\n",
                t_build * 1e3, cat.n, n_queries, n_queries ? t_search * 1e6 / (double)n_queries : 0.0);
        free(hits);
        ws_search_free(idx);
        ws_catalog_free(&cat);
    } else if (!strcmp(mode, "tables") && argc > 2) {
        long n = atol(argv[2]);
        for (int i = 0; i < 256; i++)
            printf("byte4ToInt %d %d\n", i, ws_smallfloat_byte4_to_int((uint8_t)i));
        for (int i = 0; i <= 5000; i++)
            printf("intToByte4 %d %d\n", i, ws_smallfloat_int_to_byte4(i));
        for (long df = 1; df <= n; df++) {
            float idf = (float)log(1.0 + ((double)(n - df) + 0.5) / ((double)df + 0.5));
            uint32_t bits;
            memcpy(&bits, &idf, sizeof bits);
            printf("idf %ld %08x\n", df, bits);
        }
    } else {
        fprintf(stderr, "search_parity: unknown mode or missing argument\n");
        return 2;
    }
    free(line);
    ws_tokens_free(&toks);
    ws_analyzer_free(an);
    return 0;
}
