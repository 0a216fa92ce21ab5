#include "synthcatalog.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "rng.h"
#include "strbuf.h"
#include "strmap.h"

/* Products grouped by a key: members of group g are members[start[g] .. start[g + 1]), each a
 * slot in the generator's `usable` list. */
typedef struct pool {
    ws_strmap keys;
    size_t *start, *members;
} pool;

/* Word spans of the two titles being mixed: [span[2i], span[2i + 1]) per word. */
typedef struct spans {
    size_t *v;
    size_t n, cap;
} spans;

struct ws_synth {
    const ws_catalog *src;
    ws_rng rng;
    size_t *usable; /* source product indices that catalog-convert can take back */
    size_t n_usable;
    uint32_t *group_of, *category_of; /* per usable slot */
    pool groups, categories;
    spans words;
    ws_synth_counts counts;
};

static const json_t *record(const ws_synth *s, size_t slot) { return s->src->products[s->usable[slot]].record; }

static const char *text_field(const json_t *rec, const char *key)
{
    return json_string_value(json_object_get(rec, key));
}

/* Whether catalog-convert would take back a product made of this one's fields and its search text
 * be built: the text fields are strings, the bullet points start with one, an image exists. */
static int usable_source(const json_t *rec)
{
    const json_t *bullets = json_object_get(rec, "small_description");
    const json_t *images = json_object_get(rec, "images");
    return text_field(rec, "name") && text_field(rec, "full_description") && text_field(rec, "category") &&
           text_field(rec, "query") && text_field(rec, "product_category") &&
           (json_is_string(bullets) || json_is_string(json_array_get(bullets, 0))) &&
           json_array_size(images) > 0;
}

/* Group every usable slot under its key (slot i's is key_of[i], an index into p->keys). */
static int pool_fill(pool *p, const uint32_t *key_of, size_t n)
{
    size_t k = ws_strmap_count(&p->keys);
    p->start = calloc(k + 1, sizeof *p->start);
    p->members = malloc((n ? n : 1) * sizeof *p->members);
    if (!p->start || !p->members)
        return -1;
    for (size_t i = 0; i < n; i++)
        p->start[key_of[i] + 1]++;
    for (size_t g = 0; g < k; g++)
        p->start[g + 1] += p->start[g];
    size_t *next = malloc((k ? k : 1) * sizeof *next);
    if (!next)
        return -1;
    memcpy(next, p->start, k * sizeof *next);
    for (size_t i = 0; i < n; i++)
        p->members[next[key_of[i]]++] = i;
    free(next);
    return 0;
}

static void pool_free(pool *p)
{
    ws_strmap_free(&p->keys);
    free(p->start);
    free(p->members);
}

static size_t pool_size(const pool *p, uint32_t g) { return p->start[g + 1] - p->start[g]; }

/* A member of group g, uniformly. */
static size_t pool_draw(ws_synth *s, const pool *p, uint32_t g)
{
    return p->members[p->start[g] + ws_rng_below(&s->rng, pool_size(p, g))];
}

/* A member of group g other than `slot` (a member), uniformly; `slot` when it is alone. */
static size_t pool_draw_other(ws_synth *s, const pool *p, uint32_t g, size_t slot)
{
    size_t n = pool_size(p, g);
    if (n < 2)
        return slot;
    const size_t *m = p->members + p->start[g];
    size_t at = ws_rng_below(&s->rng, n - 1);
    return m[at] == slot ? m[n - 1] : m[at];
}

ws_synth *ws_synth_new(const ws_catalog *source, uint64_t seed, ws_err *err)
{
    ws_synth *s = calloc(1, sizeof *s);
    if (!s)
        goto oom;
    s->src = source;
    ws_rng_seed(&s->rng, seed, "catalog-synth");
    size_t n = source->n;
    s->usable = malloc((n ? n : 1) * sizeof *s->usable);
    s->group_of = malloc((n ? n : 1) * sizeof *s->group_of);
    s->category_of = malloc((n ? n : 1) * sizeof *s->category_of);
    if (!s->usable || !s->group_of || !s->category_of)
        goto oom;
    ws_strbuf key = {0};
    for (size_t i = 0; i < n; i++) {
        const json_t *rec = source->products[i].record;
        if (!usable_source(rec))
            continue;
        const char *category = text_field(rec, "category"), *query = text_field(rec, "query");
        key.len = 0;
        ws_strbuf_str(&key, category);
        ws_strbuf_add(&key, "", 1); /* a NUL between them keeps the pairs apart */
        ws_strbuf_str(&key, query);
        long g = key.oom ? -1 : ws_strmap_add(&s->groups.keys, key.s, key.len, NULL);
        long c = ws_strmap_add(&s->categories.keys, category, strlen(category), NULL);
        if (g < 0 || c < 0) {
            free(key.s);
            goto oom;
        }
        s->group_of[s->n_usable] = (uint32_t)g;
        s->category_of[s->n_usable] = (uint32_t)c;
        s->usable[s->n_usable++] = i;
    }
    free(key.s);
    if (s->n_usable == 0) {
        ws_fail(err, "%s: no usable source product (each needs a name, a description, bullet points, an "
                "image, a category, a query and a product category)",
                source->products_path ? source->products_path : "the source catalog");
        ws_synth_free(s);
        return NULL;
    }
    if (pool_fill(&s->groups, s->group_of, s->n_usable) || pool_fill(&s->categories, s->category_of, s->n_usable))
        goto oom;
    return s;
oom:
    ws_synth_free(s);
    ws_fail(err, "out of memory for the source pools");
    return NULL;
}

/* The words of `text` (runs of bytes other than ASCII blanks), appended to w. */
static int split_words(spans *w, const char *text)
{
    for (size_t i = 0; text[i];) {
        while (text[i] == ' ' || text[i] == '\t' || text[i] == '\n' || text[i] == '\r')
            i++;
        if (!text[i])
            break;
        size_t b = i;
        while (text[i] && text[i] != ' ' && text[i] != '\t' && text[i] != '\n' && text[i] != '\r')
            i++;
        size_t *v = ws_grow(w->v, &w->cap, w->n + 2, sizeof *v, 256);
        if (!v)
            return -1;
        w->v = v;
        w->v[w->n++] = b;
        w->v[w->n++] = i;
    }
    return 0;
}

/* Words [from, to) of a title whose spans start at span index `first`, each after a space but the
 * output's first. */
static void add_words(ws_strbuf *out, const char *text, const size_t *span, size_t from, size_t to)
{
    for (size_t i = from; i < to; i++) {
        if (out->len)
            ws_strbuf_add(out, " ", 1);
        ws_strbuf_add(out, text + span[2 * i], span[2 * i + 1] - span[2 * i]);
    }
}

/* The anchor's title, half or more of its words, at its start or its end, joined to the other
 * end of `other`'s, about as long as the anchor's in all. */
static char *mix_title(ws_synth *s, const char *anchor, const char *other)
{
    ws_strbuf out = {0};
    s->words.n = 0;
    if (split_words(&s->words, anchor))
        return NULL;
    size_t na = s->words.n / 2;
    if (split_words(&s->words, other))
        return NULL;
    size_t nb = s->words.n / 2 - na;
    const size_t *a = s->words.v, *b = s->words.v + 2 * na;
    if (anchor == other || na == 0 || nb == 0) {
        ws_strbuf_str(&out, anchor);
        return ws_strbuf_finish(&out);
    }
    size_t half = (na + 1) / 2;
    size_t keep = na < 2 ? na : half + (size_t)ws_rng_below(&s->rng, na - half);
    size_t take = na - keep < 1 ? 1 : na - keep > nb ? nb : na - keep;
    if (ws_rng_below(&s->rng, 2)) {
        add_words(&out, anchor, a, 0, keep);
        add_words(&out, other, b, nb - take, nb);
    } else {
        add_words(&out, other, b, 0, take);
        add_words(&out, anchor, a, na - keep, na);
    }
    return ws_strbuf_finish(&out);
}

/* A source product's single price or range, scaled by one factor in [0.8, 1.2), as "$a" or
 * "$a - $b" with cents. */
static json_t *price_text(ws_synth *s, const ws_product *p)
{
    double factor = 0.8 + 0.4 * ws_rng_uniform(&s->rng);
    char text[96];
    int len = 0;
    for (int i = 0; i < p->n_pricing && i < 2; i++) {
        double cents = round(p->pricing[i] * factor * 100.0);
        len += snprintf(text + len, sizeof text - (size_t)len, "%s$%.2f", i ? " - " : "",
                        (cents < 1.0 ? 1.0 : cents) / 100.0);
    }
    return json_string(len ? text : "$100.00"); /* a source without prices had WebShop's default */
}

/* A source product's option groups, each whole (name; every value with its image), in WebShop's
 * raw layout; "" when it has none, as WebShop's files say it. */
static json_t *option_groups(const json_t *rec)
{
    json_t *groups = json_object();
    if (!groups)
        return NULL;
    const char *name;
    json_t *contents;
    json_object_foreach((json_t *)json_object_get(rec, "customization_options"), name, contents) {
        size_t i;
        json_t *item;
        json_t *values = json_array();
        if (!values)
            goto oom;
        json_array_foreach(contents, i, item) {
            json_t *value = json_object_get(item, "value");
            if (!json_is_string(value))
                continue; /* a value catalog-convert would refuse: the group keeps the others */
            json_t *entry = json_object(), *image = json_object_get(item, "image");
            if (!entry || json_object_set(entry, "value", value) || (image && json_object_set(entry, "image", image)) ||
                json_array_append_new(values, entry)) {
                json_decref(values);
                goto oom;
            }
        }
        if (json_array_size(values) == 0) {
            json_decref(values);
            continue;
        }
        if (json_object_set_new(groups, name, values))
            goto oom;
    }
    if (json_object_size(groups) > 0)
        return groups;
    json_decref(groups);
    return json_string("");
oom:
    json_decref(groups);
    return NULL;
}

void ws_synth_asin(long long index, char out[11])
{
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ";
    memcpy(out, WS_SYNTH_ASIN_PREFIX, 3);
    for (int i = 9; i >= 3; i--) {
        out[i] = digits[index % 36];
        index /= 36;
    }
    out[10] = 0;
}

int ws_synth_next(ws_synth *s, json_t **raw, json_t **attributes, ws_err *err)
{
    *raw = *attributes = NULL;
    if (s->counts.products >= WS_SYNTH_MAX_PRODUCTS)
        return ws_fail(err, "at most %lld synthetic products (the ASINs' 7 base-36 digits)", WS_SYNTH_MAX_PRODUCTS);
    size_t anchor = (size_t)ws_rng_below(&s->rng, s->n_usable);
    uint32_t g = s->group_of[anchor];
    size_t other = pool_size(&s->groups, g) > 1 ? pool_draw_other(s, &s->groups, g, anchor)
                                                 : pool_draw_other(s, &s->categories, s->category_of[anchor], anchor);
    size_t described = pool_draw(s, &s->groups, g), bulleted = pool_draw(s, &s->groups, g);
    size_t optioned = pool_draw(s, &s->groups, g), priced = pool_draw(s, &s->groups, g);

    const json_t *a = record(s, anchor);
    char *title = mix_title(s, text_field(a, "name"), text_field(record(s, other), "name"));
    json_t *price = price_text(s, &s->src->products[s->usable[priced]]);
    json_t *options = option_groups(record(s, optioned));
    char asin[11];
    ws_synth_asin(s->counts.products, asin);
    json_t *p = json_object();
    /* WebShop's raw key order (one statement each: the order of insertion is the file's); values
     * shared with the source are referenced, not copied. Every call runs: each *_set_new takes its
     * value, or frees it when it fails. */
    int bad = json_object_set_new(p, "name", title ? json_string(title) : NULL);
    bad |= json_object_set(p, "full_description", json_object_get(record(s, described), "full_description"));
    bad |= json_object_set_new(p, "pricing", price);
    bad |= json_object_set(p, "images", json_object_get(a, "images"));
    bad |= json_object_set(p, "product_category", json_object_get(a, "product_category"));
    bad |= json_object_set(p, "small_description", json_object_get(record(s, bulleted), "small_description"));
    bad |= json_object_set_new(p, "customization_options", options);
    bad |= json_object_set_new(p, "asin", json_string(asin));
    bad |= json_object_set(p, "category", json_object_get(a, "category"));
    bad |= json_object_set(p, "query", json_object_get(a, "query"));
    free(title);
    if (bad) {
        json_decref(p);
        return ws_fail(err, "out of memory building product %lld", s->counts.products);
    }
    json_t *entry = json_object_get(s->src->items_ins, text_field(a, "asin"));
    *raw = p;
    *attributes = json_incref(entry);
    s->counts.products++;
    s->counts.with_instruction += json_is_string(json_object_get(entry, "instruction"));
    s->counts.with_options += json_is_object(json_object_get(p, "customization_options"));
    return 0;
}

const ws_synth_counts *ws_synth_get_counts(const ws_synth *s) { return &s->counts; }
size_t ws_synth_sources(const ws_synth *s) { return s->n_usable; }
size_t ws_synth_groups(const ws_synth *s) { return ws_strmap_count(&s->groups.keys); }

void ws_synth_free(ws_synth *s)
{
    if (!s)
        return;
    free(s->usable);
    free(s->group_of);
    free(s->category_of);
    pool_free(&s->groups);
    pool_free(&s->categories);
    free(s->words.v);
    free(s);
}
