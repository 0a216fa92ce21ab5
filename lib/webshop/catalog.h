/* catalog: the WebShop products an environment serves, and their instructions.
 *
 * Loads the normalised product stream (products.jsonl.zst: {"id","contents","product"}) and
 * items_ins_v2_1000.json (ASIN -> mined attributes and, for some, the instruction synthetic goals
 * are built from), or the mapped catalog built from them (products.wscat beside them,
 * docs/catalog-format.md): the products' strings, lists and options, their instructions, the
 * catalog's SHA-256 and the search index, in a file every process maps read-only and shares,
 * so that a start reads no JSON and builds no index. Both loads give the same ws_product array
 * (a mapped one has no `record`, no `items_ins`). The catalog owns what the strings borrow from
 * (the parsed JSON, or the mapping); they live until ws_catalog_free. Each product's price is
 * drawn once, at load, from the seeded stream "prices": pricing[0] for a single price, uniform
 * within [pricing[0], pricing[1]) for a range, as WebShop does. */
#ifndef WS_CATALOG_H
#define WS_CATALOG_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"
#include "mapfile.h"

/* WebShop's seed (its random.seed(233)): the default of every tool's price seed (--seed of goals
 * and webshop-env, --catalog-seed of the players and trainers) and of catalog-synth's --seed.
 * WS_DEFAULT_CATALOG_SEED_TEXT is the same number for help texts. */
#define WS_DEFAULT_CATALOG_SEED 233
#define WS_DEFAULT_CATALOG_SEED_TEXT "233"

typedef struct ws_option {
    const char *name;     /* lower-cased option name, e.g. "size" */
    const char **values;  /* lower-cased values, "/" replaced by " | " */
    size_t n_values;
} ws_option;

typedef struct ws_product {
    const char *asin, *title, *description, *price_text, *rating, *category, *query,
        *product_category, *contents;
    const char **bullets;
    size_t n_bullets;
    const char **attributes; /* the product's mined attributes (Attributes) */
    size_t n_attributes;
    ws_option *options;      /* in the stream's order */
    size_t n_options;
    double pricing[2];
    int n_pricing;
    double price;            /* the sampled price the reward's price check uses */
    /* From items_ins: the instruction synthetic goals use (NULL when none) and its attributes. */
    const char *instruction;
    const char **instruction_attributes;
    size_t n_instruction_attributes;
    json_t *record;          /* the product object as loaded from JSON lines (borrowed), or NULL when mapped */
    json_t *human_goals;     /* the product's "instructions" array, or NULL */
    json_t *reviews;         /* the product's "Reviews" array when not empty, or NULL */
} ws_product;

typedef struct ws_catalog {
    ws_product *products; /* in stream order */
    size_t n;
    size_t *by_asin;      /* indices sorted by ASIN, for lookup */
    json_t *items_ins;
    json_t *human_ins;    /* a loaded items_human_ins file, or NULL */
    json_t **records;
    uint64_t seed;
    char *products_path;  /* the file the products came from, for messages */
    char sha256[65];      /* ws_catalog_sha256's result once computed, else "" */
    ws_mapfile *map;      /* the mapped file the products (and the search index) come from, or NULL */
    const char **map_lists;  /* a mapped catalog's string lists, which the products' point into */
    ws_option *map_options;  /* its options, likewise */
    json_t *map_json;        /* its reviews and human goals, parsed at load */
} ws_catalog;

/* The mapped catalog's name in a catalog directory. */
#define WS_CATALOG_MAPPED_NAME "products.wscat"

/* Load <dir>/products.wscat when it is there, else <dir>/products.jsonl.zst (or .jsonl) and
 * <dir>/items_ins_v2_1000.json. A mapped file built from other files than those now beside it
 * (size or modification time), of another format version, truncated or corrupt is an error
 * naming it and saying why. On failure the catalog is left empty (nothing to free). */
int ws_catalog_load(ws_catalog *cat, const char *dir, uint64_t seed, ws_err *err);
/* The JSON-lines files even when a mapped file is there (what needs the records: catalog-synth). */
int ws_catalog_load_json(ws_catalog *cat, const char *dir, uint64_t seed, ws_err *err);

/* Build <dir>/products.wscat from the JSON-lines files there, streaming the products: memory holds
 * the search index being built, a fixed record per product and items_ins, never the products'
 * JSON (docs/catalog-format.md). Written under a temporary name and renamed into place; the same
 * files give the same bytes. */
typedef struct ws_catalog_build_stats {
    size_t products;
} ws_catalog_build_stats;
int ws_catalog_build_mapped(const char *dir, ws_catalog_build_stats *stats, ws_err *err);
/* Load from explicit files; items_ins_path may be NULL (no instructions). */
int ws_catalog_load_files(ws_catalog *cat, const char *products_path, const char *items_ins_path,
                          uint64_t seed, ws_err *err);
/* Fill p from a product object (WebShop's normalised layout); missing fields read as empty.
 * Strings borrow from `prod`. Free with ws_product_clear. */
int ws_product_parse(json_t *prod, ws_product *p, const char *where, ws_err *err);
void ws_product_clear(ws_product *p);

/* Attach human goals from a file in WebShop's items_human_ins.json format (ASIN -> list of
 * {"instruction", "instruction_attributes", "instruction_options", ...}); they replace the
 * products' own "instructions". ASINs absent from the catalog are an error. */
int ws_catalog_load_human_goals(ws_catalog *cat, const char *path, ws_err *err);

/* The catalog's identity, for records made from it to name (goal records' catalog_sha256):
 * SHA-256 of what was loaded, not of the files' bytes, so a recompressed or reformatted copy
 * (catalog-convert's output beside WebShop's file) is the same catalog: each product record and
 * then the items_ins object, serialised compactly with sorted keys, one per line. Computed at
 * the first call (most tools never need it) and kept. NULL with err. */
const char *ws_catalog_sha256(ws_catalog *cat, ws_err *err);

const ws_product *ws_catalog_find(const ws_catalog *cat, const char *asin);
void ws_catalog_free(ws_catalog *cat);

#endif
