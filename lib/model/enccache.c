#include "enccache.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"

int ws_enccache_init(ws_enccache *c, int width, size_t bytes)
{
    memset(c, 0, sizeof *c);
    if (width < 1)
        return -1;
    c->width = width;
    c->budget_rows = bytes / ((size_t)width * sizeof(ws_real));
    return 0;
}

int ws_enccache_key(ws_enccache *c, const int32_t *ids, const int32_t *types, int len)
{
    if ((size_t)len > c->cap_key) {
        int32_t *key = realloc(c->key, (size_t)len * sizeof *key);
        if (!key)
            return -1;
        c->key = key;
        c->cap_key = (size_t)len;
    }
    for (int k = 0; k < len; k++)
        c->key[k] = ids[k] * 2 + (types[k] != 0);
    return 0;
}

const ws_real *ws_enccache_find(const ws_enccache *c, int len)
{
    long e = ws_strmap_find(&c->keys, c->key, (size_t)len * sizeof *c->key);
    return e < 0 ? NULL : c->rows + c->first_row[e] * (size_t)c->width;
}

void ws_enccache_clear(ws_enccache *c)
{
    ws_strmap_free(&c->keys);
    c->n_rows = 0;
}

/* Room for `rows` more rows and one more entry. */
static int reserve(ws_enccache *c, size_t rows)
{
    if (c->n_rows + rows > c->cap_rows) {
        size_t cap = ws_grow_cap(c->cap_rows, c->n_rows + rows, 4096);
        cap = cap < c->budget_rows ? cap : c->budget_rows;
        ws_real *grown = ws_realloc_array(c->rows, cap, (size_t)c->width * sizeof *grown);
        if (!grown)
            return -1;
        c->rows = grown;
        c->cap_rows = cap;
    }
    size_t *first_row = ws_grow(c->first_row, &c->cap_entries, ws_strmap_count(&c->keys) + 1, sizeof *first_row, 1024);
    if (!first_row)
        return -1;
    c->first_row = first_row;
    return 0;
}

int ws_enccache_add(ws_enccache *c, int len, const ws_real *rows)
{
    if (len < 1 || (size_t)len > c->budget_rows)
        return 0;
    if (c->n_rows + (size_t)len > c->budget_rows)
        ws_enccache_clear(c);
    if (reserve(c, (size_t)len)) {
        ws_enccache_clear(c);
        return -1;
    }
    int added;
    long e = ws_strmap_add(&c->keys, c->key, (size_t)len * sizeof *c->key, &added);
    if (e < 0) {
        ws_enccache_clear(c);
        return -1;
    }
    if (!added) /* kept already: the same rows */
        return 0;
    c->first_row[e] = c->n_rows;
    memcpy(c->rows + c->n_rows * (size_t)c->width, rows, (size_t)len * (size_t)c->width * sizeof *rows);
    c->n_rows += (size_t)len;
    return 0;
}

void ws_enccache_free(ws_enccache *c)
{
    ws_strmap_free(&c->keys);
    free(c->first_row);
    free(c->rows);
    free(c->key);
    memset(c, 0, sizeof *c);
}
