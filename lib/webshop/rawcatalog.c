#include "rawcatalog.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unictype.h>
#include <unistr.h>

#include "grow.h"
#include "interrupt.h"
#include "jsonarray.h"
#include "strmap.h"
#include "stream.h"
#include "strbuf.h"

/* ------------------------------------------------------------------ Python's semantics */

size_t ws_py_float_repr(double d, char out[32])
{
    if (isnan(d))
        return (size_t)snprintf(out, 32, "nan");
    if (isinf(d))
        return (size_t)snprintf(out, 32, d < 0 ? "-inf" : "inf");
    /* The shortest digit string that reads back as d: the correctly rounded one of the fewest
     * digits, which is what Python's repr (David Gay's shortest mode) produces. */
    char tmp[48];
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof tmp, "%.*e", prec - 1, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    const char *p = tmp;
    int neg = *p == '-';
    if (neg)
        p++;
    char digits[24];
    int nd = 0;
    for (; *p && *p != 'e'; p++)
        if (*p >= '0' && *p <= '9' && nd < 20)
            digits[nd++] = *p;
    int exp10 = *p == 'e' ? atoi(p + 1) : 0;
    while (nd > 1 && digits[nd - 1] == '0')
        nd--;
    int decpt = exp10 + 1; /* digits[0] sits just before the decimal point when decpt == 1 */
    char *o = out;
    if (neg)
        *o++ = '-';
    if (decpt <= -4 || decpt > 16) {
        *o++ = digits[0];
        if (nd > 1) {
            *o++ = '.';
            memcpy(o, digits + 1, (size_t)nd - 1);
            o += nd - 1;
        }
        o += snprintf(o, 8, "e%c%02d", exp10 < 0 ? '-' : '+', exp10 < 0 ? -exp10 : exp10);
    } else if (decpt <= 0) {
        *o++ = '0';
        *o++ = '.';
        for (int i = 0; i < -decpt; i++)
            *o++ = '0';
        memcpy(o, digits, (size_t)nd);
        o += nd;
    } else if (decpt >= nd) {
        memcpy(o, digits, (size_t)nd);
        o += nd;
        for (int i = nd; i < decpt; i++)
            *o++ = '0';
        *o++ = '.';
        *o++ = '0';
    } else {
        memcpy(o, digits, (size_t)decpt);
        o += decpt;
        *o++ = '.';
        memcpy(o, digits + decpt, (size_t)(nd - decpt));
        o += nd - decpt;
    }
    *o = 0;
    return (size_t)(o - out);
}

/* Python's str.isspace(): bidirectional class WS, B or S, or category Zs. */
static int py_space(ucs4_t c)
{
    return (c >= 0x09 && c <= 0x0d) || (c >= 0x1c && c <= 0x20) || c == 0x85 || c == 0xa0 || c == 0x1680 ||
           (c >= 0x2000 && c <= 0x200a) || c == 0x2028 || c == 0x2029 || c == 0x202f || c == 0x205f ||
           c == 0x3000;
}

void ws_py_strip(const char **sp, size_t *np)
{
    const uint8_t *s = (const uint8_t *)*sp;
    size_t n = *np;
    while (n > 0) {
        ucs4_t uc;
        int k = u8_mbtouc(&uc, s, n);
        if (!py_space(uc))
            break;
        s += k;
        n -= (size_t)k;
    }
    while (n > 0) {
        size_t start = n - 1; /* back to the first byte of the last character */
        while (start > 0 && n - start < 4 && (s[start] & 0xc0) == 0x80)
            start--;
        ucs4_t uc;
        int k = u8_mbtouc(&uc, s + start, n - start);
        if ((size_t)k != n - start || !py_space(uc))
            break;
        n = start;
    }
    *sp = (const char *)s;
    *np = n;
}

int ws_py_pricing(const char *text, size_t n, double *out, size_t cap, size_t *count, ws_err *err)
{
    *count = 0;
    char small[256];
    char *clean = n < sizeof small ? small : malloc(n + 1);
    if (!clean)
        return ws_fail(err, "out of memory");
    const char *end = text + n;
    const char *dollar = memchr(text, '$', n);
    int rc = 0;
    while (dollar) {
        const char *piece = dollar + 1;
        const char *next = memchr(piece, '$', (size_t)(end - piece));
        const char *pend = next ? next : end;
        size_t len = 0;
        int digits = 0, dots = 0;
        for (const char *q = piece; q < pend;) {
            unsigned char c = (unsigned char)*q;
            if (c < 0x80) {
                if (c >= '0' && c <= '9') {
                    clean[len++] = (char)c;
                    digits++;
                } else if (c == '.') {
                    clean[len++] = '.';
                    dots++;
                }
                q++;
                continue;
            }
            ucs4_t uc; /* re's \d matches every Unicode decimal digit (Nd); Decimal reads them */
            int k = u8_mbtouc(&uc, (const uint8_t *)q, (size_t)(pend - q));
            if (uc_is_general_category(uc, UC_DECIMAL_DIGIT_NUMBER)) {
                int v = uc_decimal_value(uc);
                if (v >= 0 && v <= 9) {
                    clean[len++] = (char)('0' + v);
                    digits++;
                }
            }
            q += k;
        }
        clean[len] = 0;
        int shown = n > 60 ? 60 : (int)n;
        if (digits == 0 || dots > 1) {
            rc = ws_fail(err, "price text \"%.*s\"%s: the piece \"$%.*s\" is not a number", shown, text,
                         n > 60 ? "..." : "", (int)(pend - piece > 40 ? 40 : pend - piece), piece);
            break;
        }
        double v = strtod(clean, NULL);
        if (isinf(v)) {
            rc = ws_fail(err, "price text \"%.*s\"%s: a price overflows a double", shown, text, n > 60 ? "..." : "");
            break;
        }
        if (*count < cap)
            out[*count] = v;
        (*count)++;
        dollar = next;
    }
    if (clean != small)
        free(clean);
    return rc;
}

/* ------------------------------------------------------------------ side files */

/* A side file: ASIN -> the entry kept (serialised JSON, back to back in `values`). */
typedef struct table_value {
    uint64_t off;
    uint32_t len; /* 0: no value */
} table_value;

struct ws_rawcat_table {
    int kind;
    ws_strmap asins;
    table_value *val; /* by the ASIN's index in `asins` */
    size_t val_cap;
    char *values;
    size_t values_len, values_cap;
};

static ws_rawcat_table *table_fill(ws_jsonarray *ja, int kind, ws_err *err)
{
    ws_rawcat_table *t = ja ? calloc(1, sizeof *t) : NULL;
    if (!t) {
        if (ja)
            ws_fail(err, "%s: out of memory", ws_jsonarray_name(ja));
        ws_jsonarray_close(ja);
        return NULL;
    }
    t->kind = kind;
    json_t *v;
    int rc;
    while ((rc = ws_jsonarray_next(ja, &v, err)) == WS_RECORD) {
        size_t klen;
        const char *key = ws_jsonarray_key(ja, &klen);
        const json_t *keep = kind == WS_RAWCAT_HUMAN ? v
                           : json_is_object(v) ? json_object_get(v, "attributes") : NULL;
        long i = ws_strmap_add(&t->asins, key, klen, NULL);
        if (i >= 0) {
            table_value *grown = ws_grow(t->val, &t->val_cap, (size_t)i + 1, sizeof *grown, 1024);
            if (grown)
                t->val = grown;
        }
        if (i < 0 || (size_t)i >= t->val_cap) {
            json_decref(v);
            rc = ws_fail(err, "%s: out of memory for %zu entries", ws_jsonarray_name(ja),
                         ws_strmap_count(&t->asins));
            break;
        }
        size_t before = t->values_len; /* a duplicate's new value replaces the old (last one wins) */
        if (keep && ws_json_append(keep, &t->values, &t->values_len, &t->values_cap)) {
            json_decref(v);
            rc = ws_fail(err, "%s: out of memory", ws_jsonarray_name(ja));
            break;
        }
        json_decref(v);
        if (keep && t->values_len - before > UINT32_MAX) {
            rc = ws_fail(err, "%s: the entry of %.*s is too large", ws_jsonarray_name(ja), (int)klen, key);
            break;
        }
        t->val[i] = (table_value){before, keep ? (uint32_t)(t->values_len - before) : 0};
    }
    if (rc == WS_INTERRUPTED)
        ws_fail(err, "%s: interrupted while reading", ws_jsonarray_name(ja));
    ws_jsonarray_close(ja);
    if (rc != WS_EOF) {
        ws_rawcat_table_free(t);
        return NULL;
    }
    return t;
}

ws_rawcat_table *ws_rawcat_table_load(const char *path, int kind, ws_err *err)
{
    ws_jsonarray_opts o = {.container = WS_JSON_OBJECT};
    return table_fill(ws_jsonarray_open(path, &o, err), kind, err);
}

ws_rawcat_table *ws_rawcat_table_load_mem(const void *data, size_t size, const char *name, int kind,
                                          ws_err *err)
{
    ws_jsonarray_opts o = {.container = WS_JSON_OBJECT};
    return table_fill(ws_jsonarray_open_mem(data, size, name, &o, err), kind, err);
}

int ws_rawcat_table_get(const ws_rawcat_table *t, const char *asin, size_t len, json_t **value, ws_err *err)
{
    *value = NULL;
    long i = t ? ws_strmap_find(&t->asins, asin, len) : -1;
    if (i < 0 || t->val[i].len == 0)
        return 0;
    json_error_t jerr;
    *value = json_loadb(t->values + t->val[i].off, t->val[i].len, JSON_DECODE_ANY | JSON_ALLOW_NUL, &jerr);
    if (!*value)
        return ws_fail(err, "entry of %.*s: %s", (int)len, asin, jerr.text);
    return 1;
}

size_t ws_rawcat_table_size(const ws_rawcat_table *t) { return t ? ws_strmap_count(&t->asins) : 0; }
size_t ws_rawcat_table_bytes(const ws_rawcat_table *t)
{
    return t ? sizeof *t + ws_strmap_bytes(&t->asins) + t->val_cap * sizeof *t->val + t->values_cap : 0;
}

void ws_rawcat_table_free(ws_rawcat_table *t)
{
    if (!t)
        return;
    ws_strmap_free(&t->asins);
    free(t->val);
    free(t->values);
    free(t);
}

/* ------------------------------------------------------------------ one product */

/* The keys WebShop's clean_product_keys pops before loading. */
static const char *const CLEANED_KEYS[] = {
    "product_information", "brand", "brand_url", "list_price", "availability_quantity",
    "availability_status", "total_reviews", "total_answered_questions", "seller_id", "seller_name",
    "fulfilled_by_amazon", "fast_track_message", "aplus_present", "small_description_old"};

/* Python's truth value of a JSON value. */
static int truthy(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return json_object_size(v) > 0;
    case JSON_ARRAY: return json_array_size(v) > 0;
    case JSON_STRING: return json_string_length(v) > 0;
    case JSON_INTEGER: return json_integer_value(v) != 0;
    case JSON_REAL: return json_real_value(v) != 0.0;
    case JSON_TRUE: return 1;
    default: return 0;
    }
}

static const char *type_name(const json_t *v)
{
    switch (json_typeof(v)) {
    case JSON_OBJECT: return "an object";
    case JSON_ARRAY: return "a list";
    case JSON_STRING: return "a string";
    case JSON_INTEGER: return "an integer";
    case JSON_REAL: return "a number";
    case JSON_TRUE:
    case JSON_FALSE: return "a boolean";
    default: return "null";
    }
}

static json_t *field(json_t *p, const char *key, ws_err *err)
{
    json_t *v = json_object_get(p, key);
    if (!v)
        ws_fail(err, "no \"%s\" field", key);
    return v;
}

/* A string made from bytes known to be UTF-8 (built from Jansson strings). */
static json_t *str_new(const char *s, size_t n) { return json_stringn_nocheck(s, n); }

static int set_new(json_t *obj, const char *key, json_t *v, ws_err *err)
{
    if (!v || json_object_set_new(obj, key, v))
        return ws_fail(err, "out of memory");
    return 0;
}

/* Price and pricing, as the loader computes them. */
static int normalize_price(json_t *p, ws_err *err)
{
    json_t *raw = json_object_get(p, "pricing");
    json_t *pricing = json_array();
    char tag[96];
    if (!pricing)
        return ws_fail(err, "out of memory");
    if (!raw || !truthy(raw)) {
        json_array_append_new(pricing, json_real(100.0));
        snprintf(tag, sizeof tag, "$100.0");
    } else if (!json_is_string(raw)) {
        json_decref(pricing);
        return ws_fail(err, "\"pricing\" is %s, not a price text", type_name(raw));
    } else {
        double v[2];
        size_t count;
        if (ws_py_pricing(json_string_value(raw), json_string_length(raw), v, 2, &count, err)) {
            json_decref(pricing);
            return -1;
        }
        if (count == 0) {
            size_t n = json_string_length(raw);
            json_decref(pricing);
            return ws_fail(err, "price text \"%.*s\"%s has no '$'", n > 60 ? 60 : (int)n,
                           json_string_value(raw), n > 60 ? "..." : "");
        }
        char a[32], b[32];
        ws_py_float_repr(v[0], a);
        json_array_append_new(pricing, json_real(v[0]));
        if (count == 1) {
            snprintf(tag, sizeof tag, "$%s", a);
        } else {
            ws_py_float_repr(v[1], b);
            snprintf(tag, sizeof tag, "$%s to $%s", a, b);
            json_array_append_new(pricing, json_real(v[1]));
        }
    }
    if (set_new(p, "pricing", pricing, err))
        return -1;
    return set_new(p, "Price", json_string(tag), err);
}

/* One option value: value.strip().replace('/', ' | ').lower(). */
static json_t *option_value(const char *s, size_t n)
{
    ws_py_strip(&s, &n);
    size_t slashes = 0;
    for (size_t i = 0; i < n; i++)
        slashes += s[i] == '/';
    char *rep = malloc(n + 2 * slashes + 1), *o = rep;
    if (!rep)
        return NULL;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '/') {
            memcpy(o, " | ", 3);
            o += 3;
        } else {
            *o++ = s[i];
        }
    }
    size_t len;
    char *low = ws_py_lower(rep, (size_t)(o - rep), &len);
    free(rep);
    if (!low)
        return NULL;
    json_t *v = str_new(low, len);
    free(low);
    return v;
}

static int normalize_options(json_t *p, ws_err *err)
{
    json_t *co = field(p, "customization_options", err);
    if (!co)
        return -1;
    json_t *options = json_object(), *to_image = json_object();
    if (!options || !to_image)
        goto oom;
    if (truthy(co)) {
        if (!json_is_object(co)) {
            ws_fail(err, "\"customization_options\" is %s, not an object", type_name(co));
            goto fail;
        }
        const char *name;
        json_t *contents;
        json_object_foreach(co, name, contents) {
            if (json_is_null(contents))
                continue;
            size_t nlen;
            char *lname = ws_py_lower(name, strlen(name), &nlen);
            json_t *values = json_array();
            if (!lname || !values) {
                free(lname);
                json_decref(values);
                goto oom;
            }
            size_t k;
            json_t *item;
            if (json_is_array(contents)) {
                json_array_foreach(contents, k, item) {
                    json_t *value = json_is_object(item) ? json_object_get(item, "value") : NULL;
                    if (!value || !json_is_string(value)) {
                        ws_fail(err, "option \"%s\" item %zu: %s", name, k,
                                !json_is_object(item) ? "not an object"
                                : !value ? "no \"value\"" : "\"value\" is not a string");
                        free(lname);
                        json_decref(values);
                        goto fail;
                    }
                    json_t *v = option_value(json_string_value(value), json_string_length(value));
                    json_t *image = json_object_get(item, "image");
                    if (!v || json_array_append(values, v) ||
                        json_object_set_new(to_image, json_string_value(v), image ? json_incref(image) : json_null())) {
                        json_decref(v);
                        free(lname);
                        json_decref(values);
                        goto oom;
                    }
                    json_decref(v);
                }
            } else if (truthy(contents) || !(json_is_string(contents) || json_is_object(contents))) {
                /* iterating "" or {} yields nothing; anything else makes WebShop's loop raise */
                ws_fail(err, "option \"%s\" is %s, not a list", name, type_name(contents));
                free(lname);
                json_decref(values);
                goto fail;
            }
            int bad = json_object_set_new(options, lname, values);
            free(lname);
            if (bad)
                goto oom;
        }
    }
    if (set_new(p, "options", options, err) || set_new(p, "option_to_image", to_image, err))
        return -1;
    return 0;
oom:
    ws_fail(err, "out of memory");
fail:
    json_decref(options);
    json_decref(to_image);
    return -1;
}

int ws_rawcat_normalize(json_t *p, json_t *attributes, json_t *instructions, ws_err *err)
{
    if (!json_is_object(p))
        return ws_fail(err, "the product is %s, not an object", type_name(p));
    for (size_t i = 0; i < sizeof CLEANED_KEYS / sizeof *CLEANED_KEYS; i++)
        json_object_del(p, CLEANED_KEYS[i]);
    /* products[i]['category'] = p['category'] and the like: no change, but the key must exist */
    if (!field(p, "category", err) || !field(p, "query", err) || !field(p, "product_category", err))
        return -1;
    json_t *name = field(p, "name", err);
    if (!name || json_object_set(p, "Title", name))
        return name ? ws_fail(err, "out of memory") : -1;
    json_t *desc = field(p, "full_description", err);
    if (!desc || json_object_set(p, "Description", desc))
        return desc ? ws_fail(err, "out of memory") : -1;
    if (set_new(p, "Reviews", json_array(), err) || set_new(p, "Rating", json_string("N.A."), err))
        return -1;
    json_t *small = field(p, "small_description", err);
    if (!small)
        return -1;
    if (json_is_array(small)) {
        if (json_object_set(p, "BulletPoints", small))
            return ws_fail(err, "out of memory");
    } else {
        json_t *wrap = json_array();
        if (!wrap || json_array_append(wrap, small)) {
            json_decref(wrap);
            return ws_fail(err, "out of memory");
        }
        if (set_new(p, "BulletPoints", wrap, err))
            return -1;
    }
    if (normalize_price(p, err) || normalize_options(p, err))
        return -1;
    if (attributes) {
        if (json_object_set(p, "Attributes", attributes))
            return ws_fail(err, "out of memory");
    } else {
        json_t *dummy = json_array();
        if (!dummy || json_array_append_new(dummy, json_string("DUMMY_ATTR"))) {
            json_decref(dummy);
            return ws_fail(err, "out of memory");
        }
        if (set_new(p, "Attributes", dummy, err))
            return -1;
    }
    if (instructions && json_object_set(p, "instructions", instructions))
        return ws_fail(err, "out of memory");
    json_t *images = field(p, "images", err);
    if (!images)
        return -1;
    if (json_is_array(images)) {
        if (json_array_size(images) == 0)
            return ws_fail(err, "\"images\" is empty (MainImage is images[0])");
        if (json_object_set(p, "MainImage", json_array_get(images, 0)))
            return ws_fail(err, "out of memory");
    } else if (json_is_string(images) && json_string_length(images) > 0) {
        /* a string's [0] is its first character */
        const char *s = json_string_value(images);
        ucs4_t uc;
        int k = u8_mbtouc(&uc, (const uint8_t *)s, json_string_length(images));
        if (set_new(p, "MainImage", str_new(s, (size_t)k), err))
            return -1;
    } else {
        return ws_fail(err, "\"images\" is %s, not a non-empty list", type_name(images));
    }
    json_t *query = json_object_get(p, "query");
    if (!json_is_string(query))
        return ws_fail(err, "\"query\" is %s, not a string", type_name(query));
    size_t qlen;
    char *q = ws_py_lower(json_string_value(query), json_string_length(query), &qlen);
    if (!q)
        return ws_fail(err, "out of memory");
    const char *qs = q;
    ws_py_strip(&qs, &qlen);
    int bad = set_new(p, "query", str_new(qs, qlen), err);
    free(q);
    return bad;
}

static int text_of(const char *key, const json_t *v, ws_strbuf *b, ws_err *err)
{
    if (!json_is_string(v))
        return ws_fail(err, "%s is %s, not a string (the search text joins it)", key, v ? type_name(v) : "missing");
    ws_strbuf_add(b, json_string_value(v), json_string_length(v));
    return 0;
}

char *ws_rawcat_contents(const json_t *product, size_t *len, ws_err *err)
{
    ws_strbuf b = {0};
    const json_t *bullets = json_object_get(product, "BulletPoints");
    const json_t *options = json_object_get(product, "options");
    if (!json_is_array(bullets) || json_array_size(bullets) == 0) {
        ws_fail(err, "BulletPoints is %s (the search text needs BulletPoints[0])",
                !bullets ? "missing" : json_is_array(bullets) ? "empty" : type_name(bullets));
        return NULL;
    }
    if (text_of("Title", json_object_get(product, "Title"), &b, err))
        goto fail;
    ws_strbuf_add(&b, " ", 1);
    if (text_of("Description", json_object_get(product, "Description"), &b, err))
        goto fail;
    ws_strbuf_add(&b, " ", 1);
    if (text_of("BulletPoints[0]", json_array_get(bullets, 0), &b, err))
        goto fail;
    ws_strbuf_add(&b, " ", 1);
    const char *name;
    json_t *values;
    int first = 1;
    json_object_foreach((json_t *)options, name, values) {
        if (!first)
            ws_strbuf_add(&b, ", and ", 6);
        first = 0;
        ws_strbuf_add(&b, name, strlen(name));
        ws_strbuf_add(&b, ": ", 2);
        size_t i;
        json_t *v;
        json_array_foreach(values, i, v) {
            if (i)
                ws_strbuf_add(&b, ", ", 2);
            if (text_of("an option value", v, &b, err))
                goto fail;
        }
    }
    if (b.oom) {
        ws_fail(err, "out of memory");
        goto fail;
    }
    char *low = ws_py_lower(b.s ? b.s : "", b.len, len);
    free(b.s);
    if (!low)
        ws_fail(err, "out of memory");
    return low;
fail:
    free(b.s);
    return NULL;
}

json_t *ws_rawcat_document(json_t *product, ws_err *err)
{
    json_t *asin = json_object_get(product, "asin");
    if (!json_is_string(asin)) {
        ws_fail(err, "\"asin\" is %s, not a string", asin ? type_name(asin) : "missing");
        return NULL;
    }
    size_t len;
    char *contents = ws_rawcat_contents(product, &len, err);
    if (!contents)
        return NULL;
    json_t *doc = json_object();
    if (!doc || json_object_set(doc, "id", asin) || json_object_set_new(doc, "contents", str_new(contents, len)) ||
        json_object_set(doc, "product", product)) {
        free(contents);
        json_decref(doc);
        ws_fail(err, "out of memory");
        return NULL;
    }
    free(contents);
    return doc;
}

/* ------------------------------------------------------------------ the converter */

struct ws_rawcat {
    const ws_rawcat_table *attributes, *human;
    ws_strmap seen; /* the ASINs converted so far */
    ws_rawcat_counts counts;
};

ws_rawcat *ws_rawcat_new(const ws_rawcat_table *attributes, const ws_rawcat_table *human, ws_err *err)
{
    ws_rawcat *c = calloc(1, sizeof *c);
    if (!c) {
        ws_fail(err, "out of memory");
        return NULL;
    }
    c->attributes = attributes;
    c->human = human;
    return c;
}

int ws_rawcat_convert(ws_rawcat *c, json_t *raw, json_t **doc, ws_err *err)
{
    *doc = NULL;
    c->counts.read++;
    json_t *asin = json_is_object(raw) ? json_object_get(raw, "asin") : NULL;
    if (!json_is_string(asin)) {
        c->counts.malformed++;
        if (!json_is_object(raw))
            ws_fail(err, "the product is %s, not an object", type_name(raw));
        else
            ws_fail(err, "\"asin\" is %s, not a string", asin ? type_name(asin) : "missing");
        return WS_RAW_MALFORMED;
    }
    const char *a = json_string_value(asin);
    size_t alen = json_string_length(asin);
    if ((alen == 3 && memcmp(a, "nan", 3) == 0) || u8_mbsnlen((const uint8_t *)a, alen) > 10) {
        c->counts.bad_asin++;
        return WS_RAW_BAD_ASIN;
    }
    int added;
    if (ws_strmap_add(&c->seen, a, alen, &added) < 0) {
        ws_fail(err, "out of memory for %zu ASINs", ws_strmap_count(&c->seen));
        return WS_RAW_FAILED;
    }
    if (!added) {
        c->counts.duplicate++;
        return WS_RAW_DUPLICATE;
    }
    json_t *attrs = NULL, *human = NULL;
    if (ws_rawcat_table_get(c->attributes, a, alen, &attrs, err) < 0 ||
        ws_rawcat_table_get(c->human, a, alen, &human, err) < 0) {
        json_decref(attrs);
        return WS_RAW_FAILED;
    }
    /* the ASIN text must outlive the normalisation's rewrite of other keys: keep a reference */
    json_incref(asin);
    int rc = ws_rawcat_normalize(raw, attrs, human, err);
    json_decref(attrs);
    json_decref(human);
    if (rc == 0)
        *doc = ws_rawcat_document(raw, err);
    if (!*doc) {
        char why[sizeof err->msg];
        snprintf(why, sizeof why, "%s", err ? err->msg : "");
        ws_fail(err, "asin %s: %s", a, why);
        json_decref(asin);
        c->counts.malformed++;
        return WS_RAW_MALFORMED;
    }
    json_decref(asin);
    c->counts.written++;
    return WS_RAW_DOC;
}

const ws_rawcat_counts *ws_rawcat_get_counts(const ws_rawcat *c) { return &c->counts; }
size_t ws_rawcat_bytes(const ws_rawcat *c) { return sizeof *c + ws_strmap_bytes(&c->seen); }

void ws_rawcat_free(ws_rawcat *c)
{
    if (!c)
        return;
    ws_strmap_free(&c->seen);
    free(c);
}
