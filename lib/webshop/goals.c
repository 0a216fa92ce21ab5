#include "goals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "pyrandom.h"
#include "rng.h"
#include "strmap.h"

const char *ws_goal_split(long goal_id)
{
    if (goal_id < WS_TEST_GOALS)
        return "test";
    if (goal_id < WS_TEST_GOALS + WS_EVAL_GOALS)
        return "eval";
    return "train";
}

int ws_split_valid(const char *split)
{
    return !strcmp(split, "test") || !strcmp(split, "eval") || !strcmp(split, "train") ||
           !strcmp(split, "all");
}

int ws_split_matches(const char *split, long goal_id)
{
    return !strcmp(split, "all") || !strcmp(split, ws_goal_split(goal_id));
}

/* WebShop's price limit: the larger of two distinct draws from the first four multiples of 10
 * (10..990) above the price. Returns 0 when fewer than two exist (no limit). */
static int draw_price_upper(double price, ws_rng *rng, double *upper)
{
    double range[4];
    int k = 0;
    for (int i = 1; i < 100 && k < 4; i++)
        if (10.0 * i > price)
            range[k++] = 10.0 * i;
    if (k < 2)
        return 0;
    uint64_t a = ws_rng_below(rng, (uint64_t)k), b = ws_rng_below(rng, (uint64_t)k - 1);
    if (b >= a)
        b++; /* two distinct indices */
    *upper = range[a > b ? a : b];
    return 1;
}

/* Python's str.strip("."): leading and trailing dots removed. */
static void strip_dots(const char *s, const char **start, int *len)
{
    size_t b = 0, e = strlen(s);
    while (b < e && s[b] == '.')
        b++;
    while (e > b && s[e - 1] == '.')
        e--;
    *start = s + b;
    *len = (int)(e - b);
}

static json_t *goal_base(const ws_product *p, const char *source, const char *instruction,
                         json_t *attributes, json_t *options, int has_upper, double upper)
{
    json_t *g = json_object();
    json_object_set_new(g, "type", json_string("goal"));
    json_object_set_new(g, "v", json_integer(WS_GOAL_VERSION));
    json_object_set_new(g, "goal_id", json_integer(-1));
    json_object_set_new(g, "split", json_string(""));
    json_object_set_new(g, "source", json_string(source));
    json_object_set_new(g, "asin", json_string(p->asin));
    json_object_set_new(g, "instruction", json_string(instruction));
    json_object_set_new(g, "attributes", attributes);
    json_object_set_new(g, "goal_options", options);
    json_object_set_new(g, "price_upper", has_upper ? json_real(upper) : json_null());
    json_object_set_new(g, "query", json_string(p->query));
    json_object_set_new(g, "category", json_string(p->category));
    json_object_set_new(g, "product_category", json_string(p->product_category));
    json_object_set_new(g, "name", json_string(p->title));
    return g;
}

static json_t *string_array(const char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
}

/* One source of goals in WebShop's order (products in catalog order): a product's synthetic goals,
 * one per combination of its option values, or one of its human goals. */
struct ws_goal_origin {
    uint64_t first;  /* WebShop's index (before the shuffle) of its first goal */
    uint64_t n;      /* its goals */
    uint32_t product;
    uint32_t human;  /* a human goal: its index in the product's instructions */
    int has_upper;   /* its goals' price limit */
    double upper;
    double weight;   /* its goals' weight */
};

/* The options of a product sorted by name, as WebShop's get_synthetic_goals takes them, and how
 * many combinations of their values there are. */
static int cmp_option_name(const void *a, const void *b)
{
    return strcmp((*(const ws_option *const *)a)->name, (*(const ws_option *const *)b)->name);
}

static uint64_t combinations(const ws_product *p)
{
    uint64_t combos = 1;
    for (size_t i = 0; i < p->n_options; i++)
        combos *= p->options[i].n_values; /* an option without values yields no goal, as in WebShop */
    return combos;
}

/* The synthetic goal of product p for combination c (a mixed-radix number over its options sorted
 * by name, the last varying fastest: itertools.product's order). */
static json_t *synthetic_goal(const ws_product *p, const struct ws_goal_origin *o, uint64_t c, ws_err *err)
{
    char price_text[96] = "";
    if (o->has_upper)
        snprintf(price_text, sizeof price_text, ", and price lower than %.2f dollars", o->upper);
    size_t k = p->n_options;
    const ws_option **sorted = calloc(k ? k : 1, sizeof *sorted);
    size_t *digit = calloc(k ? k : 1, sizeof *digit);
    char *text = NULL;
    json_t *g = NULL;
    if (!sorted || !digit)
        goto out;
    for (size_t i = 0; i < k; i++)
        sorted[i] = &p->options[i];
    qsort(sorted, k, sizeof *sorted, cmp_option_name);
    for (size_t i = k; i-- > 0;) {
        digit[i] = (size_t)(c % sorted[i]->n_values);
        c /= sorted[i]->n_values;
    }
    const char *base;
    int base_len;
    strip_dots(p->instruction, &base, &base_len);
    size_t len = (size_t)base_len + strlen(price_text) + 16;
    for (size_t i = 0; i < k; i++)
        len += strlen(sorted[i]->name) + strlen(sorted[i]->values[digit[i]]) + 8;
    if (!(text = malloc(len)))
        goto out;
    int n = snprintf(text, len, "%.*s", base_len, base);
    json_t *options = json_object();
    for (size_t i = 0; i < k; i++) {
        const char *name = sorted[i]->name, *value = sorted[i]->values[digit[i]];
        n += snprintf(text + n, len - (size_t)n, "%s%s: %s", i ? ", and " : " with ", name, value);
        json_object_set_new(options, name, json_string(value));
    }
    snprintf(text + n, len - (size_t)n, "%s", price_text);
    g = goal_base(p, "synthetic", text, string_array(p->instruction_attributes, p->n_instruction_attributes),
                  options, o->has_upper, o->upper);
out:
    free(sorted);
    free(digit);
    free(text);
    if (!g)
        ws_fail(err, "out of memory");
    return g;
}

/* A human goal's fields, checked; 1 when WebShop skips it (no attributes). */
static int human_fields(const ws_product *p, size_t i, const char **instruction, json_t **attributes,
                        json_t **options, ws_err *err)
{
    json_t *h = json_array_get(p->human_goals, i);
    *instruction = json_string_value(json_object_get(h, "instruction"));
    *attributes = json_object_get(h, "instruction_attributes");
    *options = json_object_get(h, "instruction_options");
    if (!*instruction || !json_is_array(*attributes))
        return ws_fail(err, "%s: instructions[%zu]: needs \"instruction\" and \"instruction_attributes\"", p->asin, i);
    return json_array_size(*attributes) == 0; /* WebShop skips human goals without attributes */
}

static json_t *human_goal(const ws_product *p, const struct ws_goal_origin *o, ws_err *err)
{
    const char *instruction;
    json_t *attributes, *options;
    if (human_fields(p, o->human, &instruction, &attributes, &options, err) < 0)
        return NULL;
    const char *base;
    int base_len;
    strip_dots(instruction, &base, &base_len);
    char *text;
    int n = o->has_upper ? asprintf(&text, "%.*s, and price lower than %.2f dollars", base_len, base, o->upper)
                         : asprintf(&text, "%.*s", base_len, base);
    if (n < 0)
        return ws_fail(err, "out of memory"), NULL;
    json_t *g = goal_base(p, "human", text, json_deep_copy(attributes),
                          json_is_array(options) ? json_deep_copy(options) : json_array(), o->has_upper, o->upper);
    free(text);
    if (!g)
        ws_fail(err, "out of memory");
    return g;
}

static int add_origin(ws_goal_set *set, size_t *cap, struct ws_goal_origin o, ws_err *err)
{
    struct ws_goal_origin *p = ws_grow(set->origins, cap, set->n_origins + 1, sizeof *p, 1024);
    if (!p)
        return ws_fail(err, "out of memory");
    set->origins = p;
    o.first = set->n;
    set->origins[set->n_origins++] = o;
    set->n += o.n;
    return 0;
}

/* WebShop's weight of a synthetic goal: the mean over its attributes of 1 / (goals sharing that
 * attribute); every goal of a product has the product's attributes. Human goals weigh 1. */
static int set_weights(ws_goal_set *set, ws_err *err)
{
    for (size_t o = 0; o < set->n_origins; o++)
        set->origins[o].weight = 1.0;
    if (set->source != WS_GOALS_SYNTHETIC)
        return 0;
    ws_strmap names = {0}; /* attribute -> its index in counts */
    uint64_t *counts = NULL;
    size_t counts_cap = 0;
    int rc = 0;
    for (size_t o = 0; o < set->n_origins && rc == 0; o++) {
        const ws_product *p = &set->cat->products[set->origins[o].product];
        for (size_t i = 0; i < p->n_instruction_attributes && rc == 0; i++) {
            const char *a = p->instruction_attributes[i];
            long id = ws_strmap_add(&names, a, strlen(a), NULL);
            if (id >= 0 && (size_t)id >= counts_cap) {
                size_t before = counts_cap;
                uint64_t *c = ws_grow(counts, &counts_cap, (size_t)id + 1, sizeof *c, 256);
                if (c) {
                    memset(c + before, 0, (counts_cap - before) * sizeof *c);
                    counts = c;
                }
            }
            if (id < 0 || (size_t)id >= counts_cap)
                rc = ws_fail(err, "out of memory");
            else
                counts[id] += set->origins[o].n;
        }
    }
    for (size_t o = 0; o < set->n_origins && rc == 0; o++) {
        const ws_product *p = &set->cat->products[set->origins[o].product];
        if (p->n_instruction_attributes == 0)
            continue;
        double sum = 0;
        for (size_t i = 0; i < p->n_instruction_attributes; i++) {
            const char *a = p->instruction_attributes[i];
            sum += 1.0 / (double)counts[ws_strmap_find(&names, a, strlen(a))];
        }
        set->origins[o].weight = sum / (double)p->n_instruction_attributes;
    }
    ws_strmap_free(&names);
    free(counts);
    return rc;
}

int ws_goals_build(ws_catalog *cat, ws_goal_source source, uint64_t seed, ws_goal_set *set,
                   ws_err *err)
{
    *set = (ws_goal_set){.cat = cat, .source = source, .seed = seed};
    if (!(set->catalog_sha256 = ws_catalog_sha256(cat, err)))
        return -1;
    ws_rng price_rng;
    ws_rng_seed(&price_rng, seed, "goal-prices");
    size_t cap = 0;
    int rc = 0;
    for (size_t i = 0; i < cat->n && rc == 0; i++) {
        const ws_product *p = &cat->products[i];
        struct ws_goal_origin o = {.product = (uint32_t)i};
        if (source == WS_GOALS_SYNTHETIC && p->instruction) {
            /* one price limit per product, drawn even when it has no goal, as WebShop does */
            o.has_upper = draw_price_upper(p->price, &price_rng, &o.upper);
            o.n = combinations(p);
            if (o.n)
                rc = add_origin(set, &cap, o, err);
        } else if (source == WS_GOALS_HUMAN && p->human_goals) {
            for (size_t h = 0; h < json_array_size(p->human_goals) && rc == 0; h++) {
                const char *instruction;
                json_t *attributes, *options;
                int skip = human_fields(p, h, &instruction, &attributes, &options, err);
                if (skip < 0)
                    rc = -1;
                if (skip)
                    continue;
                o.human = (uint32_t)h;
                o.n = 1;
                o.has_upper = draw_price_upper(p->price, &price_rng, &o.upper);
                rc = add_origin(set, &cap, o, err);
            }
        }
    }
    if (rc == 0)
        rc = set_weights(set, err);
    if (rc == 0 && !(set->order = malloc((set->n ? set->n : 1) * sizeof *set->order)))
        rc = ws_fail(err, "out of memory");
    if (rc) {
        ws_goals_free(set);
        return -1;
    }
    for (size_t i = 0; i < set->n; i++)
        set->order[i] = i;
    /* WebShop's order: random.seed(seed); random.shuffle(goals), so that the splits hold its goals */
    ws_pyrandom shuffle_rng;
    ws_pyrandom_seed(&shuffle_rng, seed);
    ws_pyrandom_shuffle(&shuffle_rng, set->order, set->n);
    return 0;
}

json_t *ws_goals_get(const ws_goal_set *set, size_t goal_id, ws_err *err)
{
    if (goal_id >= set->n)
        return ws_fail(err, "goal %zu: there are %zu goals", goal_id, set->n), NULL;
    uint64_t w = set->order[goal_id];
    size_t lo = 0, hi = set->n_origins; /* the last origin whose first goal is at or before w */
    while (hi - lo > 1) {
        size_t mid = lo + (hi - lo) / 2;
        if (set->origins[mid].first <= w)
            lo = mid;
        else
            hi = mid;
    }
    const struct ws_goal_origin *o = &set->origins[lo];
    const ws_product *p = &set->cat->products[o->product];
    json_t *g = set->source == WS_GOALS_SYNTHETIC ? synthetic_goal(p, o, w - o->first, err) : human_goal(p, o, err);
    if (!g)
        return NULL;
    json_object_set_new(g, "goal_id", json_integer((json_int_t)goal_id));
    json_object_set_new(g, "split", json_string(ws_goal_split((long)goal_id)));
    json_object_set_new(g, "weight", json_real(o->weight));
    json_object_set_new(g, "catalog_sha256", json_string(set->catalog_sha256));
    json_object_set_new(g, "seed", json_integer((json_int_t)set->seed));
    return g;
}

void ws_goals_free(ws_goal_set *set)
{
    free(set->origins);
    free(set->order);
    memset(set, 0, sizeof *set);
}

int ws_goal_check_origin(const json_t *goal, void *catalog, ws_err *err)
{
    ws_catalog *cat = catalog;
    json_t *sha = json_object_get(goal, "catalog_sha256"), *seed = json_object_get(goal, "seed");
    json_t *id = json_object_get(goal, "goal_id");
    long goal_id = json_is_integer(id) ? (long)json_integer_value(id) : -1;
    if (sha) {
        const char *mine = ws_catalog_sha256(cat, err);
        if (!mine)
            return -1;
        if (!json_is_string(sha) || strcmp(json_string_value(sha), mine) != 0)
            return ws_fail(err, "goal %ld was made from another catalog (catalog_sha256 %.12s..., %s is %.12s...): "
                                "play it with the --data it was made from",
                           goal_id, json_is_string(sha) ? json_string_value(sha) : "?", cat->products_path, mine);
    }
    if (seed && (!json_is_integer(seed) || json_integer_value(seed) != (json_int_t)cat->seed))
        return ws_fail(err, "goal %ld was made with --seed %" JSON_INTEGER_FORMAT " but the catalog is priced with "
                            "seed %llu: play it with --catalog-seed %" JSON_INTEGER_FORMAT " (webshop-env: --seed)",
                       goal_id, json_integer_value(seed), (unsigned long long)cat->seed, json_integer_value(seed));
    return 0;
}

static const char *opt_str(json_t *obj, const char *key)
{
    const char *s = json_string_value(json_object_get(obj, key));
    return s ? s : "";
}

int ws_goal_parse(json_t *record, ws_goal *g, ws_err *err)
{
    memset(g, 0, sizeof *g);
    if (!json_is_object(record))
        return ws_fail(err, "goal: not a JSON object");
    json_t *id = json_object_get(record, "goal_id");
    g->goal_id = json_is_integer(id) ? (long)json_integer_value(id) : -1;
    g->asin = opt_str(record, "asin");
    g->instruction = opt_str(record, "instruction");
    g->query = opt_str(record, "query");
    g->product_category = opt_str(record, "product_category");
    g->name = opt_str(record, "name");

    json_t *attrs = json_object_get(record, "attributes");
    if (attrs && !json_is_array(attrs))
        return ws_fail(err, "goal %ld: \"attributes\" is not a list", g->goal_id);
    json_t *opts = json_object_get(record, "goal_options");
    if (opts && !json_is_array(opts) && !json_is_object(opts) && !json_is_null(opts))
        return ws_fail(err, "goal %ld: \"goal_options\" is neither an object nor a list", g->goal_id);
    size_t na = json_array_size(attrs), no = json_is_object(opts) ? json_object_size(opts) : json_array_size(opts);
    g->attributes = calloc(na + 1, sizeof *g->attributes);
    g->option_names = calloc(no + 1, sizeof *g->option_names);
    g->option_values = calloc(no + 1, sizeof *g->option_values);
    if (!g->attributes || !g->option_names || !g->option_values) {
        ws_goal_clear(g);
        return ws_fail(err, "out of memory");
    }
    for (size_t i = 0; i < na; i++) {
        g->attributes[i] = json_string_value(json_array_get(attrs, i));
        if (!g->attributes[i]) {
            ws_goal_clear(g);
            return ws_fail(err, "goal %ld: attributes[%zu] is not a string", g->goal_id, i);
        }
    }
    g->n_attributes = na;
    if (json_is_object(opts)) {
        const char *name;
        json_t *value;
        json_object_foreach(opts, name, value) {
            if (!json_is_string(value)) {
                ws_goal_clear(g);
                return ws_fail(err, "goal %ld: goal_options.%s is not a string", g->goal_id, name);
            }
            g->option_names[g->n_options] = name;
            g->option_values[g->n_options++] = json_string_value(value);
        }
    } else {
        for (size_t i = 0; i < no; i++) {
            g->option_values[i] = json_string_value(json_array_get(opts, i));
            if (!g->option_values[i]) {
                ws_goal_clear(g);
                return ws_fail(err, "goal %ld: goal_options[%zu] is not a string", g->goal_id, i);
            }
        }
        g->n_options = no;
    }
    json_t *upper = json_object_get(record, "price_upper");
    if (upper && !json_is_null(upper) && !json_is_number(upper)) {
        ws_goal_clear(g);
        return ws_fail(err, "goal %ld: \"price_upper\" is not a number", g->goal_id);
    }
    g->has_price_upper = json_is_number(upper);
    g->price_upper = json_number_value(upper);
    g->record = json_incref(record);
    return 0;
}

void ws_goal_clear(ws_goal *g)
{
    free(g->attributes);
    free(g->option_names);
    free(g->option_values);
    json_decref(g->record);
    memset(g, 0, sizeof *g);
}
