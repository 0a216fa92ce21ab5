#include "inputs.h"

#include <stdio.h>
#include <stdlib.h>

#include "grow.h"

static const char *const stdin_path[] = {"-"};

struct ws_inputs {
    const char *const *paths;
    int n, next;       /* inputs, and the next one to open */
    ws_reader_opts opts;
    ws_reader *r;      /* the input being read, NULL between inputs */
    char name[512];    /* where the last record came from */
    long line;
};

ws_inputs *ws_inputs_open(const char *const *paths, int n, const ws_reader_opts *opts, ws_err *err)
{
    ws_inputs *in = calloc(1, sizeof *in);
    if (!in)
        return ws_fail(err, "out of memory"), NULL;
    in->paths = n > 0 ? paths : stdin_path;
    in->n = n > 0 ? n : 1;
    in->opts = *opts;
    return in;
}

int ws_inputs_next(ws_inputs *in, json_t **record, ws_err *err)
{
    for (;;) {
        if (!in->r) {
            if (in->next == in->n)
                return WS_EOF;
            if (!(in->r = ws_reader_open(in->paths[in->next++], &in->opts, err)))
                return WS_ERROR;
        }
        int rc = ws_reader_next(in->r, record, err);
        if (rc == WS_RECORD) {
            snprintf(in->name, sizeof in->name, "%s", ws_reader_name(in->r));
            in->line = ws_reader_line(in->r);
        }
        if (rc != WS_EOF)
            return rc;
        ws_reader_close(in->r);
        in->r = NULL;
    }
}

int ws_inputs_next_batch(ws_inputs *in, json_t **records, int max, int *n, ws_err *err)
{
    int rc = WS_RECORD;
    for (*n = 0; *n < max; ++*n)
        if ((rc = ws_inputs_next(in, &records[*n], err)) != WS_RECORD)
            return rc;
    return WS_RECORD;
}

int ws_inputs_read_all(ws_inputs *in, json_t ***records, size_t *n, ws_err *err)
{
    size_t cap = 0;
    *records = NULL;
    *n = 0;
    for (;;) {
        json_t *rec;
        int rc = ws_inputs_next(in, &rec, err);
        if (rc != WS_RECORD)
            return rc;
        json_t **grown = ws_grow(*records, &cap, *n + 1, sizeof *grown, 1024);
        if (!grown) {
            json_decref(rec);
            return ws_fail(err, "out of memory"), WS_ERROR;
        }
        *records = grown;
        (*records)[(*n)++] = rec;
    }
}

const char *ws_inputs_name(const ws_inputs *in) { return in->name; }
long ws_inputs_line(const ws_inputs *in) { return in->line; }

const char *ws_inputs_where(const ws_inputs *in, char *buf, size_t cap)
{
    snprintf(buf, cap, "%s:%ld", in->name, in->line);
    return buf;
}

void ws_inputs_fail_here(const ws_inputs *in, ws_err *err)
{
    char where[600];
    ws_fail_prefix(err, ws_inputs_where(in, where, sizeof where));
}

void ws_inputs_close(ws_inputs *in)
{
    if (!in)
        return;
    ws_reader_close(in->r);
    free(in);
}
