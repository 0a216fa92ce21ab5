#include "catalog.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "rng.h"
#include "sha256.h"
#include "stream.h"

static const char *str_field(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

/* A JSON array of strings as a borrowed C array; non-string items are an error. */
static int string_list(json_t *arr, const char ***out, size_t *n, const char *where, const char *key,
                       ws_err *err)
{
    *out = NULL;
    *n = 0;
    if (!arr || json_is_null(arr))
        return 0;
    if (!json_is_array(arr))
        return ws_fail(err, "%s: \"%s\" is not a list", where, key);
    size_t k = json_array_size(arr);
    if (k == 0)
        return 0;
    const char **v = calloc(k, sizeof *v);
    if (!v)
        return ws_fail(err, "%s: out of memory", where);
    for (size_t i = 0; i < k; i++) {
        v[i] = json_string_value(json_array_get(arr, i));
        if (!v[i]) {
            free(v);
            return ws_fail(err, "%s: \"%s\"[%zu] is not a string", where, key, i);
        }
    }
    *out = v;
    *n = k;
    return 0;
}

int ws_product_parse(json_t *prod, ws_product *p, const char *where, ws_err *err)
{
    memset(p, 0, sizeof *p);
    if (!json_is_object(prod))
        return ws_fail(err, "%s: a product must be a JSON object", where);
    p->record = prod;
    p->asin = str_field(prod, "asin");
    p->title = str_field(prod, "Title");
    p->description = str_field(prod, "Description");
    p->price_text = str_field(prod, "Price");
    p->rating = str_field(prod, "Rating");
    p->category = str_field(prod, "category");
    p->query = str_field(prod, "query");
    p->product_category = str_field(prod, "product_category");
    if (string_list(json_object_get(prod, "BulletPoints"), &p->bullets, &p->n_bullets, where,
                    "BulletPoints", err) ||
        string_list(json_object_get(prod, "Attributes"), &p->attributes, &p->n_attributes, where,
                    "Attributes", err))
        return -1;

    json_t *pricing = json_object_get(prod, "pricing");
    if (!json_is_array(pricing) || json_array_size(pricing) == 0) {
        p->pricing[0] = 100.0; /* WebShop's price for a product scraped without one */
        p->n_pricing = 1;
    } else {
        p->n_pricing = json_array_size(pricing) > 1 ? 2 : 1;
        for (int i = 0; i < p->n_pricing; i++) {
            json_t *v = json_array_get(pricing, (size_t)i);
            if (!json_is_number(v))
                return ws_fail(err, "%s: pricing[%d] is not a number", where, i);
            p->pricing[i] = json_number_value(v);
        }
    }

    json_t *options = json_object_get(prod, "options");
    if (options && !json_is_object(options))
        return ws_fail(err, "%s: \"options\" is not an object", where);
    size_t k = json_object_size(options);
    if (k) {
        p->options = calloc(k, sizeof *p->options);
        if (!p->options)
            return ws_fail(err, "%s: out of memory", where);
        const char *name;
        json_t *values;
        json_object_foreach(options, name, values) {
            ws_option *o = &p->options[p->n_options++];
            o->name = name;
            if (string_list(values, &o->values, &o->n_values, where, name, err))
                return -1;
        }
    }
    p->human_goals = json_object_get(prod, "instructions");
    if (!json_is_array(p->human_goals))
        p->human_goals = NULL;
    return 0;
}

void ws_product_clear(ws_product *p)
{
    free(p->bullets);
    free(p->attributes);
    free(p->instruction_attributes);
    for (size_t k = 0; k < p->n_options; k++)
        free(p->options[k].values);
    free(p->options);
    memset(p, 0, sizeof *p);
}

static int load_product(ws_product *p, json_t *line, const char *where, ws_err *err)
{
    memset(p, 0, sizeof *p);
    json_t *prod = json_object_get(line, "product");
    if (!json_is_object(prod))
        return ws_fail(err, "%s: no \"product\" object", where);
    if (ws_product_parse(prod, p, where, err))
        return -1;
    if (!*p->asin)
        p->asin = str_field(line, "id");
    if (!*p->asin)
        return ws_fail(err, "%s: product has no ASIN", where);
    p->contents = str_field(line, "contents");
    return 0;
}

static int cmp_asin(const void *a, const void *b, void *catalog)
{
    const ws_product *products = ((const ws_catalog *)catalog)->products;
    return strcmp(products[*(const size_t *)a].asin, products[*(const size_t *)b].asin);
}

static int attach_instructions(ws_catalog *cat, const char *path, ws_err *err)
{
    json_error_t jerr;
    cat->items_ins = json_load_file(path, 0, &jerr);
    if (!cat->items_ins)
        return ws_fail(err, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
    if (!json_is_object(cat->items_ins))
        return ws_fail(err, "%s: expected an object ASIN -> item", path);
    for (size_t i = 0; i < cat->n; i++) {
        ws_product *p = &cat->products[i];
        json_t *item = json_object_get(cat->items_ins, p->asin);
        if (!json_is_object(item))
            continue;
        char where[512];
        snprintf(where, sizeof where, "%s: %s", path, p->asin);
        p->instruction = json_string_value(json_object_get(item, "instruction"));
        if (string_list(json_object_get(item, "instruction_attributes"), &p->instruction_attributes,
                        &p->n_instruction_attributes, where, "instruction_attributes", err))
            return -1;
    }
    return 0;
}

static int load_files(ws_catalog *cat, const char *products_path, const char *items_ins_path,
                      uint64_t seed, ws_err *err)
{
    memset(cat, 0, sizeof *cat);
    cat->seed = seed;
    if (!(cat->products_path = strdup(products_path)))
        return ws_fail(err, "out of memory");
    ws_reader_opts ro = {0};
    ws_reader *r = ws_reader_open(products_path, &ro, err);
    if (!r)
        return -1;
    size_t cap = 0;
    json_t *rec;
    int rc;
    while ((rc = ws_reader_next(r, &rec, err)) == WS_RECORD) {
        if (cat->n == cap) {
            cap = cap ? cap * 2 : 1024;
            json_t **nr = realloc(cat->records, cap * sizeof *nr);
            ws_product *np = nr ? realloc(cat->products, cap * sizeof *np) : NULL;
            if (nr)
                cat->records = nr;
            if (!np) {
                json_decref(rec);
                ws_reader_close(r);
                return ws_fail(err, "%s: out of memory", products_path);
            }
            cat->products = np;
        }
        cat->records[cat->n] = rec;
        ws_product *p = &cat->products[cat->n];
        cat->n++;
        char where[512];
        snprintf(where, sizeof where, "%s:%ld", products_path, ws_reader_line(r));
        if (load_product(p, rec, where, err)) {
            ws_reader_close(r);
            return -1;
        }
    }
    ws_reader_close(r);
    if (rc != WS_EOF)
        return rc == WS_INTERRUPTED ? ws_fail(err, "%s: interrupted", products_path) : -1;

    cat->by_asin = malloc(cat->n * sizeof *cat->by_asin);
    if (!cat->by_asin)
        return ws_fail(err, "out of memory");
    for (size_t i = 0; i < cat->n; i++)
        cat->by_asin[i] = i;
    qsort_r(cat->by_asin, cat->n, sizeof *cat->by_asin, cmp_asin, cat);
    for (size_t i = 1; i < cat->n; i++)
        if (strcmp(cat->products[cat->by_asin[i - 1]].asin, cat->products[cat->by_asin[i]].asin) == 0)
            return ws_fail(err, "%s: ASIN %s appears twice", products_path,
                           cat->products[cat->by_asin[i]].asin);

    ws_rng rng;
    ws_rng_seed(&rng, seed, "prices");
    for (size_t i = 0; i < cat->n; i++) {
        ws_product *p = &cat->products[i];
        p->price = p->n_pricing == 1 ? p->pricing[0]
                                     : p->pricing[0] + (p->pricing[1] - p->pricing[0]) * ws_rng_uniform(&rng);
    }
    return items_ins_path ? attach_instructions(cat, items_ins_path, err) : 0;
}

int ws_catalog_load_files(ws_catalog *cat, const char *products_path, const char *items_ins_path,
                          uint64_t seed, ws_err *err)
{
    if (load_files(cat, products_path, items_ins_path, seed, err) == 0)
        return 0;
    ws_catalog_free(cat);
    return -1;
}

int ws_catalog_load(ws_catalog *cat, const char *dir, uint64_t seed, ws_err *err)
{
    char products[4096], items[4096];
    snprintf(products, sizeof products, "%s/products.jsonl.zst", dir);
    if (access(products, R_OK) != 0)
        snprintf(products, sizeof products, "%s/products.jsonl", dir);
    snprintf(items, sizeof items, "%s/items_ins_v2_1000.json", dir);
    return ws_catalog_load_files(cat, products, access(items, R_OK) == 0 ? items : NULL, seed, err);
}

int ws_catalog_load_human_goals(ws_catalog *cat, const char *path, ws_err *err)
{
    json_error_t jerr;
    json_t *human = json_load_file(path, 0, &jerr);
    if (!human)
        return ws_fail(err, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text);
    if (!json_is_object(human)) {
        json_decref(human);
        return ws_fail(err, "%s: expected an object ASIN -> list of goals", path);
    }
    const char *asin;
    json_t *list;
    json_object_foreach(human, asin, list) {
        ws_product *p = (ws_product *)ws_catalog_find(cat, asin);
        if (!p || !json_is_array(list)) {
            /* the message first: asin lives in `human` */
            if (p)
                ws_fail(err, "%s: %s: expected a list of goals", path, asin);
            else
                ws_fail(err, "%s: ASIN %s is not in the catalog", path, asin);
            json_decref(human);
            return -1;
        }
    }
    for (size_t i = 0; i < cat->n; i++) {
        json_t *goals = json_object_get(human, cat->products[i].asin);
        cat->products[i].human_goals = json_is_array(goals) ? goals : NULL;
    }
    json_decref(cat->human_ins);
    cat->human_ins = human;
    return 0;
}

static int hash_chunk(const char *buf, size_t size, void *ctx)
{
    ws_sha256_update(ctx, buf, size);
    return 0;
}

static int hash_json(ws_sha256 *c, const json_t *v)
{
    if (json_dump_callback(v, hash_chunk, c, JSON_COMPACT | JSON_SORT_KEYS | JSON_ENCODE_ANY))
        return -1;
    ws_sha256_update(c, "\n", 1);
    return 0;
}

const char *ws_catalog_sha256(ws_catalog *cat, ws_err *err)
{
    if (cat->sha256[0])
        return cat->sha256;
    ws_sha256 c;
    ws_sha256_init(&c);
    int bad = 0;
    for (size_t i = 0; i < cat->n && !bad; i++)
        bad = hash_json(&c, cat->records[i]);
    if (bad || (cat->items_ins && hash_json(&c, cat->items_ins)))
        return ws_fail(err, "out of memory"), NULL;
    ws_sha256_hex(&c, cat->sha256);
    return cat->sha256;
}

const ws_product *ws_catalog_find(const ws_catalog *cat, const char *asin)
{
    size_t lo = 0, hi = cat->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(cat->products[cat->by_asin[mid]].asin, asin);
        if (c == 0)
            return &cat->products[cat->by_asin[mid]];
        if (c < 0)
            lo = mid + 1;
        else
            hi = mid;
    }
    return NULL;
}

void ws_catalog_free(ws_catalog *cat)
{
    for (size_t i = 0; i < cat->n; i++) {
        ws_product_clear(&cat->products[i]);
        json_decref(cat->records[i]);
    }
    free(cat->products);
    free(cat->records);
    free(cat->by_asin);
    json_decref(cat->items_ins);
    json_decref(cat->human_ins);
    free(cat->products_path);
    memset(cat, 0, sizeof *cat);
}
