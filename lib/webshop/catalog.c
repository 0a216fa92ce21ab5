#include "catalog.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grow.h"
#include "rng.h"
#include "search.h"
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
    p->reviews = json_object_get(prod, "Reviews");
    if (!json_is_array(p->reviews) || json_array_size(p->reviews) == 0)
        p->reviews = NULL;
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

typedef const char *asin_fn(const void *ctx, size_t i);

typedef struct asin_source {
    asin_fn *asin;
    const void *ctx;
} asin_source;

static int cmp_asin(const void *a, const void *b, void *source)
{
    const asin_source *src = source;
    return strcmp(src->asin(src->ctx, *(const size_t *)a), src->asin(src->ctx, *(const size_t *)b));
}

/* The indices 0..n-1 sorted by ASIN (the lookup order); a repeated ASIN is an error. */
static size_t *asin_order(size_t n, asin_fn *asin, const void *ctx, const char *path, ws_err *err)
{
    size_t *order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return ws_fail(err, "out of memory"), NULL;
    for (size_t i = 0; i < n; i++)
        order[i] = i;
    asin_source src = {asin, ctx};
    qsort_r(order, n, sizeof *order, cmp_asin, &src);
    for (size_t i = 1; i < n; i++)
        if (strcmp(asin(ctx, order[i - 1]), asin(ctx, order[i])) == 0) {
            ws_fail(err, "%s: ASIN %s appears twice", path, asin(ctx, order[i]));
            free(order);
            return NULL;
        }
    return order;
}

static const char *product_asin(const void *catalog, size_t i)
{
    return ((const ws_catalog *)catalog)->products[i].asin;
}

static json_t *load_items_ins(const char *path, ws_err *err)
{
    json_error_t jerr;
    json_t *items = json_load_file(path, 0, &jerr);
    if (!items)
        return ws_fail(err, "%s:%d:%d: %s", path, jerr.line, jerr.column, jerr.text), NULL;
    if (!json_is_object(items)) {
        json_decref(items);
        return ws_fail(err, "%s: expected an object ASIN -> item", path), NULL;
    }
    return items;
}

/* A product's instruction and its attributes from items_ins (borrowed from it). */
static int product_instruction(json_t *items_ins, const char *path, ws_product *p, ws_err *err)
{
    json_t *item = json_object_get(items_ins, p->asin);
    if (!json_is_object(item))
        return 0;
    char where[512];
    snprintf(where, sizeof where, "%s: %s", path, p->asin);
    p->instruction = json_string_value(json_object_get(item, "instruction"));
    return string_list(json_object_get(item, "instruction_attributes"), &p->instruction_attributes,
                       &p->n_instruction_attributes, where, "instruction_attributes", err);
}

/* The prices, drawn in stream order from the seeded stream "prices" (catalog.h). */
static void draw_prices(ws_catalog *cat)
{
    ws_rng rng;
    ws_rng_seed(&rng, cat->seed, "prices");
    for (size_t i = 0; i < cat->n; i++) {
        ws_product *p = &cat->products[i];
        p->price = p->n_pricing == 1 ? p->pricing[0]
                                     : p->pricing[0] + (p->pricing[1] - p->pricing[0]) * ws_rng_uniform(&rng);
    }
}

static int attach_instructions(ws_catalog *cat, const char *path, ws_err *err)
{
    if (!(cat->items_ins = load_items_ins(path, err)))
        return -1;
    for (size_t i = 0; i < cat->n; i++)
        if (product_instruction(cat->items_ins, path, &cat->products[i], err))
            return -1;
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
            cap = ws_grow_cap(cap, cat->n + 1, 1024);
            json_t **nr = ws_realloc_array(cat->records, cap, sizeof *nr);
            ws_product *np = nr ? ws_realloc_array(cat->products, cap, sizeof *np) : NULL;
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

    if (!(cat->by_asin = asin_order(cat->n, product_asin, cat, products_path, err)))
        return -1;

    draw_prices(cat);
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

/* A catalog directory's files: the products (zstd preferred), items_ins ("" when absent), the
 * mapped file. */
typedef struct dir_files {
    char products[4096], items[4096], mapped[4096];
} dir_files;

static void dir_files_of(const char *dir, dir_files *f)
{
    snprintf(f->products, sizeof f->products, "%s/products.jsonl.zst", dir);
    if (access(f->products, R_OK) != 0)
        snprintf(f->products, sizeof f->products, "%s/products.jsonl", dir);
    snprintf(f->items, sizeof f->items, "%s/items_ins_v2_1000.json", dir);
    if (access(f->items, R_OK) != 0)
        f->items[0] = '\0';
    snprintf(f->mapped, sizeof f->mapped, "%s/" WS_CATALOG_MAPPED_NAME, dir);
}

static int load_mapped(ws_catalog *cat, const dir_files *f, uint64_t seed, ws_err *err);

int ws_catalog_load_json(ws_catalog *cat, const char *dir, uint64_t seed, ws_err *err)
{
    dir_files f;
    dir_files_of(dir, &f);
    return ws_catalog_load_files(cat, f.products, f.items[0] ? f.items : NULL, seed, err);
}

int ws_catalog_load(ws_catalog *cat, const char *dir, uint64_t seed, ws_err *err)
{
    dir_files f;
    dir_files_of(dir, &f);
    if (access(f.mapped, F_OK) != 0)
        return ws_catalog_load_files(cat, f.products, f.items[0] ? f.items : NULL, seed, err);
    if (load_mapped(cat, &f, seed, err) == 0)
        return 0;
    ws_catalog_free(cat);
    return -1;
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
    if (cat->map) { /* the products' lists point into two shared arrays, by_asin into the file */
        free(cat->map_lists);
        free(cat->map_options);
        json_decref(cat->map_json);
        ws_mapfile_close(cat->map);
    } else {
        for (size_t i = 0; i < cat->n; i++) {
            ws_product_clear(&cat->products[i]);
            json_decref(cat->records[i]);
        }
        free(cat->by_asin);
    }
    free(cat->products);
    free(cat->records);
    json_decref(cat->items_ins);
    json_decref(cat->human_ins);
    free(cat->products_path);
    memset(cat, 0, sizeof *cat);
}

/* ---------------------------------------------------------------------------------------------
 * The mapped catalog (docs/catalog-format.md): the products' strings in one blob, fixed-size
 * product records of offsets into it, the string lists and options those records index, the
 * ASIN order, the catalog's SHA-256 and what it was built from; the search index's sections
 * beside them. */

#define MAPPED_KIND "catalog"
#define MAPPED_VERSION 4u
#define NONE UINT64_MAX /* an absent string (instruction, reviews, human goals) */

enum {
    SEC_META = 0x200, /* one meta */
    SEC_STRINGS,      /* the blob: every string, NUL-terminated; offset 0 holds "" */
    SEC_PRODUCTS,     /* disk_product per product, in stream order */
    SEC_LISTS,        /* string offsets: every product's bullets, attributes, instruction attributes,
                         option values, each list contiguous */
    SEC_OPTIONS,      /* disk_option per option, each product's contiguous */
    SEC_BY_ASIN       /* product indices (uint64) in ASIN order */
};

/* What the file was built from: a load compares it with the files there now. */
typedef struct source_id {
    uint64_t size;
    int64_t mtime_sec, mtime_nsec;
    uint64_t present;
} source_id;

typedef struct meta {
    uint64_t n_products, n_lists, n_options;
    source_id products, items;
    char products_name[32]; /* products.jsonl.zst or products.jsonl */
    char sha256[64];        /* ws_catalog_sha256 */
} meta;

typedef struct disk_product {
    uint64_t asin, title, description, price_text, rating, category, query, product_category, contents;
    uint64_t instruction, reviews, human_goals; /* NONE when absent; the last two are JSON texts */
    uint64_t bullets, n_bullets, attributes, n_attributes, instruction_attributes, n_instruction_attributes;
    uint64_t options, n_options;
    double pricing[2];
    uint64_t n_pricing;
} disk_product;

typedef struct disk_option {
    uint64_t name, values, n_values;
} disk_option;

_Static_assert(sizeof(size_t) == sizeof(uint64_t), "the ASIN order is mapped as size_t");

static int source_of(const char *path, source_id *id, ws_err *err)
{
    struct stat st;
    memset(id, 0, sizeof *id);
    if (!*path)
        return 0;
    if (stat(path, &st) != 0)
        return ws_fail(err, "%s: %s", path, strerror(errno));
    *id = (source_id){(uint64_t)st.st_size, (int64_t)st.st_mtim.tv_sec, (int64_t)st.st_mtim.tv_nsec, 1};
    return 0;
}

static const char *base_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    return slash ? slash + 1 : path;
}

/* Why the mapped file no longer describes the files beside it, or NULL when it does. */
static const char *stale_reason(const meta *mt, const dir_files *f, ws_err *err)
{
    source_id products, items;
    if (source_of(f->products, &products, err) || source_of(f->items, &items, err))
        return "its products file cannot be read";
    if (strncmp(mt->products_name, base_name(f->products), sizeof mt->products_name) != 0)
        return "it was built from another products file";
    if (memcmp(&products, &mt->products, sizeof products) != 0)
        return "the products file changed since (size or modification time)";
    if (items.present != mt->items.present)
        return items.present ? "items_ins_v2_1000.json appeared since" : "items_ins_v2_1000.json is gone";
    if (memcmp(&items, &mt->items, sizeof items) != 0)
        return "items_ins_v2_1000.json changed since (size or modification time)";
    return NULL;
}

/* ---- writing */

typedef struct builder {
    ws_mapfile_writer *w;
    disk_product *products;
    size_t n, cap;
    uint64_t *lists;
    size_t n_lists, lists_cap;
    disk_option *options;
    size_t n_options, options_cap;
} builder;

/* A string into the blob; its offset. */
static int put_string(builder *b, const char *str, uint64_t *off, ws_err *err)
{
    *off = ws_mapfile_section_len(b->w);
    return ws_mapfile_put(b->w, str, strlen(str) + 1, err);
}

static int put_optional(builder *b, const char *str, uint64_t *off, ws_err *err)
{
    *off = NONE;
    return str ? put_string(b, str, off, err) : 0;
}

static int put_json(builder *b, const json_t *v, uint64_t *off, ws_err *err)
{
    *off = NONE;
    if (!v)
        return 0;
    char *text = json_dumps(v, JSON_COMPACT | JSON_ENCODE_ANY);
    if (!text)
        return ws_fail(err, "out of memory");
    int rc = put_string(b, text, off, err);
    free(text);
    return rc;
}

static int put_list(builder *b, const char *const *v, size_t n, uint64_t *first, ws_err *err)
{
    *first = b->n_lists;
    uint64_t *lists = ws_grow(b->lists, &b->lists_cap, b->n_lists + n, sizeof *lists, 1024);
    if (!lists)
        return ws_fail(err, "out of memory");
    b->lists = lists;
    for (size_t i = 0; i < n; i++)
        if (put_string(b, v[i], &b->lists[b->n_lists++], err))
            return -1;
    return 0;
}

static int put_product(builder *b, const ws_product *p, ws_err *err)
{
    disk_product *products = ws_grow(b->products, &b->cap, b->n + 1, sizeof *products, 1024);
    if (!products)
        return ws_fail(err, "out of memory");
    b->products = products;
    disk_option *options = ws_grow(b->options, &b->options_cap, b->n_options + p->n_options, sizeof *options, 1024);
    if (!options)
        return ws_fail(err, "out of memory");
    b->options = options;
    disk_product *d = &b->products[b->n++];
    memset(d, 0, sizeof *d);
    d->n_bullets = p->n_bullets;
    d->n_attributes = p->n_attributes;
    d->n_instruction_attributes = p->n_instruction_attributes;
    d->n_options = p->n_options;
    d->options = b->n_options;
    d->pricing[0] = p->pricing[0];
    d->pricing[1] = p->pricing[1];
    d->n_pricing = (uint64_t)p->n_pricing;
    if (put_string(b, p->asin, &d->asin, err) || put_string(b, p->title, &d->title, err) ||
        put_string(b, p->description, &d->description, err) || put_string(b, p->price_text, &d->price_text, err) ||
        put_string(b, p->rating, &d->rating, err) || put_string(b, p->category, &d->category, err) ||
        put_string(b, p->query, &d->query, err) || put_string(b, p->product_category, &d->product_category, err) ||
        put_string(b, p->contents, &d->contents, err) || put_optional(b, p->instruction, &d->instruction, err) ||
        put_json(b, p->reviews, &d->reviews, err) || put_json(b, p->human_goals, &d->human_goals, err) ||
        put_list(b, p->bullets, p->n_bullets, &d->bullets, err) ||
        put_list(b, p->attributes, p->n_attributes, &d->attributes, err) ||
        put_list(b, p->instruction_attributes, p->n_instruction_attributes, &d->instruction_attributes, err))
        return -1;
    for (size_t k = 0; k < p->n_options; k++) {
        disk_option *o = &b->options[b->n_options++];
        o->n_values = p->options[k].n_values;
        if (put_string(b, p->options[k].name, &o->name, err) ||
            put_list(b, p->options[k].values, p->options[k].n_values, &o->values, err))
            return -1;
    }
    return 0;
}

static const char *index_asin(const void *idx, size_t i) { return ws_search_doc_id(idx, i); }

static int build(builder *b, const dir_files *f, ws_catalog_build_stats *stats, ws_err *err)
{
    meta mt = {0};
    json_t *items = NULL;
    ws_reader *r = NULL;
    ws_search_builder *sb = NULL;
    ws_search_index *idx = NULL;
    size_t *order = NULL;
    int rc = -1;
    /* the sources' identity before reading them: a change while reading shows as stale */
    if (source_of(f->products, &mt.products, err) || source_of(f->items, &mt.items, err))
        return -1;
    snprintf(mt.products_name, sizeof mt.products_name, "%.31s", base_name(f->products));
    if (f->items[0] && !(items = load_items_ins(f->items, err)))
        return -1;
    ws_sha256 sha;
    ws_sha256_init(&sha);
    ws_reader_opts ro = {0};
    if (!(r = ws_reader_open(f->products, &ro, err)) || !(sb = ws_search_builder_new(err)) ||
        !(b->w = ws_mapfile_create(f->mapped, MAPPED_KIND, MAPPED_VERSION, err)) ||
        ws_mapfile_begin(b->w, SEC_STRINGS, err) || ws_mapfile_put(b->w, "", 1, err))
        goto out;
    json_t *rec;
    int got;
    while ((got = ws_reader_next(r, &rec, err)) == WS_RECORD) {
        char where[512];
        snprintf(where, sizeof where, "%.480s:%ld", f->products, ws_reader_line(r));
        ws_product p;
        int bad = load_product(&p, rec, where, err) || (items && product_instruction(items, f->items, &p, err)) ||
                  hash_json(&sha, rec) || put_product(b, &p, err) ||
                  ws_search_builder_add_product(sb, &p, err);
        ws_product_clear(&p);
        json_decref(rec);
        if (bad)
            goto out;
    }
    if (got != WS_EOF) {
        if (got == WS_INTERRUPTED)
            ws_fail(err, "%s: interrupted", f->products);
        goto out;
    }
    ws_mapfile_end(b->w);
    /* items_ins last in the hash, as ws_catalog_sha256 has it, and freed before the index's
     * postings are sorted, so the two never coexist (at 1.18M products: 1.2 GB parsed, 1.75 GB
     * of postings while sorting) */
    if (items && hash_json(&sha, items)) {
        ws_fail(err, "out of memory");
        goto out;
    }
    json_decref(items);
    items = NULL;
    idx = ws_search_builder_finish(sb, err);
    sb = NULL;
    if (!idx || !(order = asin_order(b->n, index_asin, idx, f->products, err)))
        goto out;
    char hex[65];
    ws_sha256_hex(&sha, hex);
    memcpy(mt.sha256, hex, sizeof mt.sha256);
    mt.n_products = b->n;
    mt.n_lists = b->n_lists;
    mt.n_options = b->n_options;
    if (ws_mapfile_add(b->w, SEC_META, &mt, sizeof mt, err) ||
        ws_mapfile_add(b->w, SEC_PRODUCTS, b->products, b->n * sizeof *b->products, err) ||
        ws_mapfile_add(b->w, SEC_LISTS, b->lists, b->n_lists * sizeof *b->lists, err) ||
        ws_mapfile_add(b->w, SEC_OPTIONS, b->options, b->n_options * sizeof *b->options, err) ||
        ws_mapfile_add(b->w, SEC_BY_ASIN, order, b->n * sizeof *order, err) || ws_search_write(idx, b->w, err))
        goto out;
    rc = ws_mapfile_commit(b->w, err);
    b->w = NULL;
    if (rc == 0 && stats)
        *stats = (ws_catalog_build_stats){.products = b->n};
out:
    ws_mapfile_discard(b->w);
    free(order);
    ws_search_free(idx);
    ws_search_builder_free(sb);
    ws_reader_close(r);
    json_decref(items);
    return rc;
}

int ws_catalog_build_mapped(const char *dir, ws_catalog_build_stats *stats, ws_err *err)
{
    dir_files f;
    dir_files_of(dir, &f);
    builder b = {0};
    int rc = build(&b, &f, stats, err);
    free(b.products);
    free(b.lists);
    free(b.options);
    return rc;
}

/* ---- reading */

static int corrupt(const ws_mapfile *m, const char *why, ws_err *err)
{
    return ws_fail(err, "%s: corrupt catalog (%s): rebuild it (catalog-convert --index DIR)", ws_mapfile_path(m),
                   why);
}

typedef struct view {
    const char *blob;
    size_t blob_len;
    const uint64_t *lists;
    size_t n_lists;
} view;

static int string_at(const view *v, uint64_t off, const char **out)
{
    if (off >= v->blob_len)
        return -1;
    *out = v->blob + off;
    return 0;
}

static int optional_at(const view *v, uint64_t off, const char **out)
{
    *out = NULL;
    return off == NONE ? 0 : string_at(v, off, out);
}

static int list_at(const view *v, const char **all, uint64_t first, uint64_t n, const char ***out, size_t *count)
{
    if (first > v->n_lists || n > v->n_lists - first)
        return -1;
    *out = n ? all + first : NULL;
    *count = (size_t)n;
    return 0;
}

/* A JSON text of the blob parsed, kept in holder and borrowed; NULL when absent. */
static int json_at(const view *v, uint64_t off, json_t *holder, json_t **out)
{
    const char *text;
    *out = NULL;
    if (off == NONE)
        return 0;
    if (string_at(v, off, &text) || !(*out = json_loads(text, 0, NULL)) || !json_is_array(*out)) {
        json_decref(*out);
        *out = NULL;
        return -1;
    }
    return json_array_append_new(holder, *out);
}

static int load_mapped(ws_catalog *cat, const dir_files *f, uint64_t seed, ws_err *err)
{
    memset(cat, 0, sizeof *cat);
    cat->seed = seed;
    if (!(cat->products_path = strdup(f->mapped)))
        return ws_fail(err, "out of memory");
    if (!(cat->map = ws_mapfile_open(f->mapped, MAPPED_KIND, MAPPED_VERSION, err)))
        return -1;
    const ws_mapfile *m = cat->map;
    const meta *mt = ws_mapfile_array(m, SEC_META, sizeof *mt, 1, NULL, err);
    if (!mt)
        return -1;
    const char *stale = stale_reason(mt, f, err);
    if (stale)
        return ws_fail(err, "%s: stale: %s; rebuild it (catalog-convert --index DIR) or remove it", f->mapped, stale);
    size_t n = (size_t)mt->n_products;
    view v;
    const disk_product *dp;
    const disk_option *dopt;
    if (!(v.blob = ws_mapfile_array(m, SEC_STRINGS, 1, (size_t)-1, &v.blob_len, err)) ||
        !(dp = ws_mapfile_array(m, SEC_PRODUCTS, sizeof *dp, n, NULL, err)) ||
        !(v.lists = ws_mapfile_array(m, SEC_LISTS, sizeof *v.lists, (size_t)mt->n_lists, &v.n_lists, err)) ||
        !(dopt = ws_mapfile_array(m, SEC_OPTIONS, sizeof *dopt, (size_t)mt->n_options, NULL, err)) ||
        !(cat->by_asin = (size_t *)ws_mapfile_array(m, SEC_BY_ASIN, sizeof *cat->by_asin, n, NULL, err)))
        return -1;
    if (v.blob_len == 0 || v.blob[v.blob_len - 1] != '\0')
        return corrupt(m, "string blob", err);
    cat->products = calloc(n ? n : 1, sizeof *cat->products);
    cat->map_lists = malloc((v.n_lists ? v.n_lists : 1) * sizeof *cat->map_lists);
    cat->map_options = calloc(mt->n_options ? (size_t)mt->n_options : 1, sizeof *cat->map_options);
    cat->map_json = json_array();
    if (!cat->products || !cat->map_lists || !cat->map_options || !cat->map_json)
        return ws_fail(err, "out of memory");
    for (size_t i = 0; i < v.n_lists; i++)
        if (string_at(&v, v.lists[i], &cat->map_lists[i]))
            return corrupt(m, "string list", err);
    for (size_t k = 0; k < mt->n_options; k++) {
        ws_option *o = &cat->map_options[k];
        if (string_at(&v, dopt[k].name, &o->name) ||
            list_at(&v, cat->map_lists, dopt[k].values, dopt[k].n_values, &o->values, &o->n_values))
            return corrupt(m, "options", err);
    }
    for (size_t i = 0; i < n; i++) {
        const disk_product *d = &dp[i];
        ws_product *p = &cat->products[i];
        if (string_at(&v, d->asin, &p->asin) || string_at(&v, d->title, &p->title) ||
            string_at(&v, d->description, &p->description) || string_at(&v, d->price_text, &p->price_text) ||
            string_at(&v, d->rating, &p->rating) || string_at(&v, d->category, &p->category) ||
            string_at(&v, d->query, &p->query) || string_at(&v, d->product_category, &p->product_category) ||
            string_at(&v, d->contents, &p->contents) || optional_at(&v, d->instruction, &p->instruction) ||
            list_at(&v, cat->map_lists, d->bullets, d->n_bullets, &p->bullets, &p->n_bullets) ||
            list_at(&v, cat->map_lists, d->attributes, d->n_attributes, &p->attributes, &p->n_attributes) ||
            list_at(&v, cat->map_lists, d->instruction_attributes, d->n_instruction_attributes,
                    &p->instruction_attributes, &p->n_instruction_attributes) ||
            d->options > mt->n_options || d->n_options > mt->n_options - d->options || d->n_pricing < 1 ||
            d->n_pricing > 2 || cat->by_asin[i] >= n)
            return corrupt(m, "product record", err);
        if (json_at(&v, d->reviews, cat->map_json, &p->reviews) ||
            json_at(&v, d->human_goals, cat->map_json, &p->human_goals))
            return corrupt(m, "reviews or human goals", err);
        p->options = d->n_options ? cat->map_options + d->options : NULL;
        p->n_options = (size_t)d->n_options;
        p->pricing[0] = d->pricing[0];
        p->pricing[1] = d->pricing[1];
        p->n_pricing = (int)d->n_pricing;
    }
    cat->n = n;
    memcpy(cat->sha256, mt->sha256, sizeof mt->sha256);
    cat->sha256[64] = '\0';
    draw_prices(cat);
    return 0;
}
