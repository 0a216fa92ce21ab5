/* rawcatalog: WebShop's raw scraped products turned into the normalised product stream.
 *
 * Reproduces, byte for byte, what WebShop's loader (web_agent_site/engine/engine.py,
 * load_products, with its default human_goals=True) does to each raw product of
 * items_shuffle*.json, and the search document that search_engine/convert_product_file_format.py
 * builds from it ({"id": ASIN, "contents": ..., "product": {...}}, the lines of products.jsonl):
 *
 *   - skip an ASIN that is "nan" or longer than 10 characters, and any ASIN already seen;
 *   - drop the keys WebShop's clean_product_keys pops (brand, list_price, seller_id, ...);
 *   - Title = name, Description = full_description, Reviews = [], Rating = "N.A.",
 *     BulletPoints = small_description (wrapped in a list when it is not one);
 *   - pricing: missing or empty -> [100.0] and Price "$100.0"; else one float per '$'-piece of the
 *     text (every character but digits and '.' removed, read as Python's float(Decimal(...))),
 *     Price "$a" or "$a to $b" in Python's float repr (shortest round trip), pricing cut to 2;
 *   - options: customization_options name (lower-cased) -> values (strip(), '/' -> ' | ',
 *     lower()), None contents skipped; option_to_image value -> image (null when absent);
 *   - Attributes from the attributes file (items_ins_v2*.json) or ["DUMMY_ATTR"]; instructions
 *     from the human-goal file (items_human_ins.json) when it lists the ASIN;
 *   - MainImage = images[0]; query = query.lower().strip();
 *   - contents = ' '.join([Title, Description, BulletPoints[0], option_text]).lower(), option_text
 *     = ', and '.join('<name>: <v1>, <v2>, ...').
 * New keys land where Python's dict puts them (at the end, in that order; existing keys keep their
 * place). lower() and strip() follow Python's str methods (full Unicode case mapping, Final_Sigma,
 * Python's whitespace set); "\d" matches every Unicode decimal digit as Python's re does.
 *
 * A raw product on which WebShop's loader would raise (a missing field, a price text that is not
 * a number, an empty images list, ...) is "malformed": these functions say why instead, and the
 * converter skips it (the tool can make that fatal). */
#ifndef WS_RAWCATALOG_H
#define WS_RAWCATALOG_H

#include <jansson.h>
#include <stddef.h>

#include "err.h"
#include "pystr.h"

/* ------------------------------------------------------------------ Python's semantics */

/* repr(float): the shortest text that reads back as d, fixed notation when the decimal exponent
 * is in [-4, 16), else exponent notation ("1e+16", "1.5e-05"); "100.0", "877.8", "nan", "inf".
 * Writes at most 32 bytes (NUL included) into out; returns the length. */
size_t ws_py_float_repr(double d, char out[32]);
/* str.lower(): ws_py_lower, lib/text/pystr.h. */
/* str.strip(): narrows [*s, *s + *n) to exclude Python's leading and trailing whitespace. */
void ws_py_strip(const char **s, size_t *n);
/* WebShop's price parse: [float(Decimal(re.sub(r'[^\d.]', '', x))) for x in text.split('$')[1:]].
 * Stores the first `cap` values in out and the number of values in *count (0 when the text has no
 * '$'). Fails, saying why, when a piece is not a number (Decimal would raise) or overflows. */
int ws_py_pricing(const char *text, size_t n, double *out, size_t cap, size_t *count, ws_err *err);

/* ------------------------------------------------------------------ ASIN-keyed side files */

/* A side file (a top-level JSON object ASIN -> entry), streamed and kept compact: each entry is
 * stored as its serialised text and parsed again on lookup. A duplicated ASIN keeps its last
 * entry, as Python's json does. */
typedef struct ws_rawcat_table ws_rawcat_table;

enum {
    WS_RAWCAT_ATTRIBUTES, /* items_ins_v2*.json: keeps each entry's "attributes" value */
    WS_RAWCAT_HUMAN       /* items_human_ins.json: keeps each entry whole (a list of goals) */
};

ws_rawcat_table *ws_rawcat_table_load(const char *path, int kind, ws_err *err);
ws_rawcat_table *ws_rawcat_table_load_mem(const void *data, size_t size, const char *name, int kind,
                                          ws_err *err);
/* 1 and a new reference in *value when the ASIN has an entry (for WS_RAWCAT_ATTRIBUTES: an entry
 * with "attributes"), 0 when not, -1 on error. */
int ws_rawcat_table_get(const ws_rawcat_table *t, const char *asin, size_t len, json_t **value,
                        ws_err *err);
size_t ws_rawcat_table_size(const ws_rawcat_table *t); /* distinct ASINs */
size_t ws_rawcat_table_bytes(const ws_rawcat_table *t); /* memory it holds */
void ws_rawcat_table_free(ws_rawcat_table *t);

/* ------------------------------------------------------------------ one product */

/* Normalise raw product `p` in place (after the ASIN checks, which are the converter's).
 * `attributes` is the product's attributes value (borrowed; NULL: ["DUMMY_ATTR"]); `instructions`
 * its human goals (borrowed; NULL: no "instructions" key). Returns 0, or -1 when WebShop's loader
 * would fail on this product (err says why; p is then half-done and should be dropped). */
int ws_rawcat_normalize(json_t *p, json_t *attributes, json_t *instructions, ws_err *err);
/* The search text of a normalised product (new NUL-terminated string; its length in *len). */
char *ws_rawcat_contents(const json_t *product, size_t *len, ws_err *err);
/* {"id": asin, "contents": ..., "product": product} (product borrowed and referenced). */
json_t *ws_rawcat_document(json_t *product, ws_err *err);

/* ------------------------------------------------------------------ the converter */

enum {
    WS_RAW_DOC = 0,       /* a document was made */
    WS_RAW_BAD_ASIN = 1,  /* skipped: ASIN "nan" or longer than 10 characters */
    WS_RAW_DUPLICATE = 2, /* skipped: ASIN seen before (the first one is kept) */
    WS_RAW_MALFORMED = 3, /* skipped: WebShop's loader would fail on it (err says why) */
    WS_RAW_FAILED = -1    /* out of memory or a side-file error: stop */
};

typedef struct ws_rawcat_counts {
    long read, written, bad_asin, duplicate, malformed;
} ws_rawcat_counts;

typedef struct ws_rawcat ws_rawcat;

/* Either table may be NULL (no attributes: every product gets ["DUMMY_ATTR"]; no human goals).
 * The tables are borrowed and must outlive the converter. */
ws_rawcat *ws_rawcat_new(const ws_rawcat_table *attributes, const ws_rawcat_table *human, ws_err *err);
/* One raw product (borrowed; modified in place) in stream order: WS_RAW_DOC with a new document
 * in *doc, a WS_RAW_* skip reason, or WS_RAW_FAILED. An ASIN counts as seen from its first
 * occurrence on, even when that product is malformed (WebShop claims it before normalising). */
int ws_rawcat_convert(ws_rawcat *c, json_t *raw, json_t **doc, ws_err *err);
const ws_rawcat_counts *ws_rawcat_get_counts(const ws_rawcat *c);
size_t ws_rawcat_bytes(const ws_rawcat *c); /* memory of the seen-ASIN set */
void ws_rawcat_free(ws_rawcat *c);

#endif
