#include "goals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pyrandom.h"
#include "rng.h"

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

typedef struct goal_list {
    json_t **items;
    size_t n, cap;
} goal_list;

static int push(goal_list *l, json_t *g)
{
    if (!g)
        return -1;
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 1024;
        json_t **p = realloc(l->items, cap * sizeof *p);
        if (!p) {
            json_decref(g);
            return -1;
        }
        l->items = p;
        l->cap = cap;
    }
    l->items[l->n++] = g;
    return 0;
}

static json_t *string_array(const char **v, size_t n)
{
    json_t *a = json_array();
    for (size_t i = 0; i < n; i++)
        json_array_append_new(a, json_string(v[i]));
    return a;
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

static int cmp_option_name(const void *a, const void *b)
{
    return strcmp((*(const ws_option *const *)a)->name, (*(const ws_option *const *)b)->name);
}

static int synthetic_goals(const ws_product *p, ws_rng *price_rng, goal_list *out, ws_err *err)
{
    double upper = 0;
    int has_upper = draw_price_upper(p->price, price_rng, &upper);
    char price_text[96] = "";
    if (has_upper)
        snprintf(price_text, sizeof price_text, ", and price lower than %.2f dollars", upper);

    size_t k = p->n_options;
    const ws_option **sorted = calloc(k ? k : 1, sizeof *sorted);
    size_t *digit = calloc(k ? k : 1, sizeof *digit);
    if (!sorted || !digit) {
        free(sorted);
        free(digit);
        return ws_fail(err, "out of memory");
    }
    for (size_t i = 0; i < k; i++)
        sorted[i] = &p->options[i];
    qsort(sorted, k, sizeof *sorted, cmp_option_name);
    size_t combos = 1;
    for (size_t i = 0; i < k; i++)
        combos *= sorted[i]->n_values; /* an option without values yields no goal, as in WebShop */

    const char *base;
    int base_len;
    strip_dots(p->instruction, &base, &base_len);
    int rc = 0;
    for (size_t c = 0; c < combos && rc == 0; c++) {
        /* The combination as a mixed-radix number, last option varying fastest (itertools.product). */
        size_t rest = c;
        for (size_t i = k; i-- > 0;) {
            digit[i] = rest % sorted[i]->n_values;
            rest /= sorted[i]->n_values;
        }
        size_t len = (size_t)base_len + strlen(price_text) + 16;
        for (size_t i = 0; i < k; i++)
            len += strlen(sorted[i]->name) + strlen(sorted[i]->values[digit[i]]) + 8;
        char *text = malloc(len);
        if (!text) {
            rc = ws_fail(err, "out of memory");
            break;
        }
        int n = snprintf(text, len, "%.*s", base_len, base);
        json_t *options = json_object();
        for (size_t i = 0; i < k; i++) {
            const char *name = sorted[i]->name, *value = sorted[i]->values[digit[i]];
            n += snprintf(text + n, len - (size_t)n, "%s%s: %s", i ? ", and " : " with ", name, value);
            json_object_set_new(options, name, json_string(value));
        }
        snprintf(text + n, len - (size_t)n, "%s", price_text);
        json_t *g = goal_base(p, "synthetic", text,
                              string_array(p->instruction_attributes, p->n_instruction_attributes),
                              options, has_upper, upper);
        free(text);
        if (push(out, g))
            rc = ws_fail(err, "out of memory");
    }
    free(sorted);
    free(digit);
    return rc;
}

static int human_goals(const ws_product *p, ws_rng *price_rng, goal_list *out, ws_err *err)
{
    size_t i;
    json_t *h;
    json_array_foreach(p->human_goals, i, h) {
        const char *instruction = json_string_value(json_object_get(h, "instruction"));
        json_t *attributes = json_object_get(h, "instruction_attributes");
        json_t *options = json_object_get(h, "instruction_options");
        if (!instruction || !json_is_array(attributes))
            return ws_fail(err, "%s: instructions[%zu]: needs \"instruction\" and \"instruction_attributes\"",
                           p->asin, i);
        if (json_array_size(attributes) == 0)
            continue; /* WebShop skips human goals without attributes */
        double upper = 0;
        int has_upper = draw_price_upper(p->price, price_rng, &upper);
        const char *base;
        int base_len;
        strip_dots(instruction, &base, &base_len);
        char *text;
        int n = has_upper ? asprintf(&text, "%.*s, and price lower than %.2f dollars", base_len, base, upper)
                          : asprintf(&text, "%.*s", base_len, base);
        if (n < 0)
            return ws_fail(err, "out of memory");
        json_t *g = goal_base(p, "human", text, json_deep_copy(attributes),
                              json_is_array(options) ? json_deep_copy(options) : json_array(),
                              has_upper, upper);
        free(text);
        if (push(out, g))
            return ws_fail(err, "out of memory");
    }
    return 0;
}

/* WebShop's weight: the mean over the goal's attributes of 1 / (goals sharing that attribute). */
static int set_weights(goal_list *l, ws_goal_source source)
{
    json_t *counts = json_object();
    if (!counts)
        return -1;
    for (size_t g = 0; g < l->n; g++) {
        size_t i;
        json_t *a;
        json_array_foreach(json_object_get(l->items[g], "attributes"), i, a) {
            const char *key = json_string_value(a);
            json_int_t c = json_integer_value(json_object_get(counts, key));
            json_object_set_new(counts, key, json_integer(c + 1));
        }
    }
    for (size_t g = 0; g < l->n; g++) {
        json_t *attrs = json_object_get(l->items[g], "attributes");
        double w = 1.0;
        if (source == WS_GOALS_SYNTHETIC && json_array_size(attrs)) {
            double sum = 0;
            size_t i;
            json_t *a;
            json_array_foreach(attrs, i, a)
                sum += 1.0 / (double)json_integer_value(json_object_get(counts, json_string_value(a)));
            w = sum / (double)json_array_size(attrs);
        }
        json_object_set_new(l->items[g], "weight", json_real(w));
    }
    json_decref(counts);
    return 0;
}

int ws_goals_build(ws_catalog *cat, ws_goal_source source, uint64_t seed, ws_goal_set *set,
                   ws_err *err)
{
    memset(set, 0, sizeof *set);
    const char *catalog_sha256 = ws_catalog_sha256(cat, err);
    if (!catalog_sha256)
        return -1;
    goal_list l = {0};
    ws_rng price_rng;
    ws_rng_seed(&price_rng, seed, "goal-prices");
    int rc = 0;
    for (size_t i = 0; i < cat->n && rc == 0; i++) {
        const ws_product *p = &cat->products[i];
        if (source == WS_GOALS_SYNTHETIC && p->instruction)
            rc = synthetic_goals(p, &price_rng, &l, err);
        else if (source == WS_GOALS_HUMAN && p->human_goals)
            rc = human_goals(p, &price_rng, &l, err);
    }
    if (rc == 0 && set_weights(&l, source))
        rc = ws_fail(err, "out of memory");
    size_t *order = rc == 0 ? malloc((l.n ? l.n : 1) * sizeof *order) : NULL;
    json_t **shuffled = order ? malloc((l.n ? l.n : 1) * sizeof *shuffled) : NULL;
    if (rc == 0 && !shuffled)
        rc = ws_fail(err, "out of memory");
    if (rc) {
        for (size_t i = 0; i < l.n; i++)
            json_decref(l.items[i]);
        free(l.items);
        free(order);
        return -1;
    }
    for (size_t i = 0; i < l.n; i++)
        order[i] = i;
    /* WebShop's order: random.seed(seed); random.shuffle(goals), so that the splits hold its goals */
    ws_pyrandom shuffle_rng;
    ws_pyrandom_seed(&shuffle_rng, seed);
    ws_pyrandom_shuffle(&shuffle_rng, order, l.n);
    for (size_t id = 0; id < l.n; id++) {
        json_t *g = l.items[order[id]];
        json_object_set_new(g, "goal_id", json_integer((json_int_t)id));
        json_object_set_new(g, "split", json_string(ws_goal_split((long)id)));
        json_object_set_new(g, "catalog_sha256", json_string(catalog_sha256));
        json_object_set_new(g, "seed", json_integer((json_int_t)seed));
        shuffled[id] = g;
    }
    free(order);
    free(l.items);
    set->goals = shuffled;
    set->n = l.n;
    return 0;
}

void ws_goals_free(ws_goal_set *set)
{
    for (size_t i = 0; i < set->n; i++)
        json_decref(set->goals[i]);
    free(set->goals);
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
