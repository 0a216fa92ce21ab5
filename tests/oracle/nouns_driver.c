/* nouns_driver: lib/text/nouns on lines of JSON strings, for tests/oracle/nouns_parity.py.
 *
 *   nouns_driver tok   < strings.jsonl   one line per input: [["token", 0], ...]   (tokenizer only)
 *   nouns_driver tag   < strings.jsonl   one line per input: [["token", 0|1], ...] (1 = noun)
 *   nouns_driver score GOALS < strings.jsonl
 *        GOALS: a file of input line numbers (0-based), one per line; prints, for each goal g,
 *        one line of ws_title_score(input[g], input[j]) for every input j, space-separated.
 *   nouns_driver load  prints the milliseconds ws_nouns_load took.
 *
 * Options before the mode: -w DIR (WordNet directory), -l DIR (Lingua::EN::Tagger directory,
 * "" for none). Exit 0 on success, 1 on usage or data errors, 2 on resource errors. */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "grow.h"
#include "nouns.h"

static int read_inputs(char ***out, size_t *n)
{
    char *line = NULL;
    size_t cap = 0, k = 0, vcap = 0;
    char **v = NULL;
    ssize_t got;
    while ((got = getline(&line, &cap, stdin)) >= 0) {
        json_error_t je;
        json_t *j = json_loads(line, JSON_DECODE_ANY, &je);
        if (!j || !json_is_string(j)) {
            fprintf(stderr, "nouns_driver: input line %zu: not a JSON string\n", k + 1);
            json_decref(j);
            free(line);
            return 1;
        }
        char **nv = ws_grow(v, &vcap, k + 1, sizeof *nv, 256);
        if (!nv)
            return 2;
        v = nv;
        v[k++] = strdup(json_string_value(j));
        json_decref(j);
    }
    free(line);
    *out = v;
    *n = k;
    return 0;
}

static int print_tokens(const char *text, const ws_ntok *t, size_t n)
{
    json_t *arr = json_array();
    for (size_t i = 0; i < n; i++) {
        json_t *pair = json_array();
        json_array_append_new(pair, json_stringn(text + t[i].off, t[i].len));
        json_array_append_new(pair, json_integer(t[i].noun));
        json_array_append_new(arr, pair);
    }
    char *s = json_dumps(arr, JSON_COMPACT | JSON_ENSURE_ASCII);
    json_decref(arr);
    if (!s)
        return 2;
    puts(s);
    free(s);
    return 0;
}

int main(int argc, char **argv)
{
    const char *wdir = NULL, *ldir = NULL;
    int a = 1;
    while (a + 1 < argc && argv[a][0] == '-') {
        if (strcmp(argv[a], "-w") == 0)
            wdir = argv[a + 1];
        else if (strcmp(argv[a], "-l") == 0)
            ldir = argv[a + 1];
        else
            break;
        a += 2;
    }
    if (a >= argc) {
        fprintf(stderr, "usage: nouns_driver [-w DIR] [-l DIR] tok|tag|score GOALS|load\n");
        return 1;
    }
    const char *mode = argv[a];
    ws_err err = {{0}};
    struct timespec t0, t1;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    ws_nouns *nn = NULL;
    if (strcmp(mode, "tok") != 0) {
        nn = ws_nouns_load_dirs(wdir, ldir, &err);
        if (!nn) {
            fprintf(stderr, "nouns_driver: %s\n", err.msg);
            return 1;
        }
    }
    clock_gettime(CLOCK_MONOTONIC, &t1);
    if (strcmp(mode, "load") == 0) {
        printf("%.1f ms (lingua: %s)\n",
               (double)(t1.tv_sec - t0.tv_sec) * 1e3 + (double)(t1.tv_nsec - t0.tv_nsec) / 1e6,
               ws_nouns_has_lingua(nn) ? "yes" : "no");
        ws_nouns_free(nn);
        return 0;
    }
    char **in = NULL;
    size_t n = 0;
    int rc = read_inputs(&in, &n);
    if (rc) {
        ws_nouns_free(nn);
        return rc;
    }
    if (strcmp(mode, "tok") == 0 || strcmp(mode, "tag") == 0) {
        for (size_t i = 0; i < n && !rc; i++) {
            ws_ntok *t;
            size_t nt;
            int r = nn ? ws_nouns_tag(nn, in[i], &t, &nt) : ws_nouns_tokenize(in[i], &t, &nt);
            if (r) {
                rc = 2;
                break;
            }
            rc = print_tokens(in[i], t, nt);
            free(t);
        }
    } else if (strcmp(mode, "score") == 0 && a + 1 < argc) {
        FILE *f = fopen(argv[a + 1], "r");
        if (!f) {
            perror(argv[a + 1]);
            rc = 1;
        } else {
            long g;
            while (!rc && fscanf(f, "%ld", &g) == 1) {
                if (g < 0 || (size_t)g >= n) {
                    fprintf(stderr, "nouns_driver: goal %ld out of range\n", g);
                    rc = 1;
                    break;
                }
                for (size_t j = 0; j < n; j++) {
                    double s = ws_title_score(nn, in[g], in[j]);
                    if (s < 0) {
                        rc = 2;
                        break;
                    }
                    printf(j ? " %.6f" : "%.6f", s);
                }
                putchar('\n');
            }
            fclose(f);
        }
    } else {
        fprintf(stderr, "nouns_driver: unknown mode %s\n", mode);
        rc = 1;
    }
    for (size_t i = 0; i < n; i++)
        free(in[i]);
    free(in);
    ws_nouns_free(nn);
    return rc;
}
