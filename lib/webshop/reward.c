#include "reward.h"

#include <stdlib.h>
#include <string.h>

#include "pystr.h"
#include "textmatch.h"

static int contains_lower(const char *haystack, const char *needle)
{
    char *low = ws_py_lower(haystack, strlen(haystack), NULL);
    int found = low && strstr(low, needle) != NULL;
    free(low);
    return found;
}

static int attribute_matched(const ws_product *p, const char *attr, const char *bullets_joined)
{
    for (size_t i = 0; i < p->n_attributes; i++)
        if (ws_token_set_ratio(p->attributes[i], attr) > 85)
            return 1;
    return contains_lower(p->title, attr) || contains_lower(bullets_joined, attr) ||
           contains_lower(p->description, attr);
}

static char *join_bullets(const ws_product *p)
{
    size_t n = 1;
    for (size_t i = 0; i < p->n_bullets; i++)
        n += strlen(p->bullets[i]) + 1;
    char *s = malloc(n), *o = s;
    if (!s)
        return NULL;
    for (size_t i = 0; i < p->n_bullets; i++) {
        if (i)
            *o++ = ' ';
        size_t k = strlen(p->bullets[i]);
        memcpy(o, p->bullets[i], k);
        o += k;
    }
    *o = 0;
    return s;
}

/* The set of " › "-separated levels of a breadcrumb, stripped, shared with another. */
static size_t shared_levels(const char *a, const char *b)
{
    const char *sep = "\xe2\x80\xba"; /* › */
    size_t shared = 0;
    char *ca = strdup(a), *cb = strdup(b);
    if (!ca || !cb) {
        free(ca);
        free(cb);
        return 0;
    }
    /* Split both into trimmed levels; count distinct levels of a that occur in b. */
    char *levels_a[64], *levels_b[64];
    size_t na = 0, nb = 0;
    char *bufs[2] = {ca, cb};
    char **outs[2] = {levels_a, levels_b};
    size_t *counts[2] = {&na, &nb};
    for (int k = 0; k < 2; k++) {
        char *s = bufs[k];
        for (;;) {
            char *next = strstr(s, sep);
            if (next)
                *next = 0;
            while (*s == ' ' || *s == '\t' || *s == '\n' || *s == '\r')
                s++;
            char *e = s + strlen(s);
            while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
                *--e = 0;
            if (*counts[k] < 64)
                outs[k][(*counts[k])++] = s;
            if (!next)
                break;
            s = next + strlen(sep);
        }
    }
    for (size_t i = 0; i < na; i++) {
        int dup = 0;
        for (size_t j = 0; j < i && !dup; j++)
            dup = strcmp(levels_a[i], levels_a[j]) == 0;
        if (dup)
            continue;
        for (size_t j = 0; j < nb; j++)
            if (strcmp(levels_a[i], levels_b[j]) == 0) {
                shared++;
                break;
            }
    }
    free(ca);
    free(cb);
    return shared;
}

int ws_reward_compute(const ws_nouns *nouns, const ws_goal *g, const ws_product *p,
                      const char *const *chosen_values, size_t n_chosen, double price, ws_reward *r)
{
    memset(r, 0, sizeof *r);
    /* Type: same query, two shared category levels, or enough shared title nouns. */
    r->query_match = strcmp(p->query, g->query) == 0;
    r->category_match = shared_levels(p->product_category, g->product_category) >= 2;
    r->title_score = ws_title_score(nouns, g->name, p->title);
    r->r_type = (r->query_match || r->category_match || r->title_score > 0.2) ? 1.0 : 0.5;
    if (r->title_score < 0.1)
        r->r_type = 0.1;
    if (r->title_score == 0.0)
        r->r_type = 0.0;

    char *bullets = join_bullets(p);
    if (!bullets)
        return -1;
    r->n_attributes = g->n_attributes;
    for (size_t i = 0; i < g->n_attributes; i++)
        r->n_att_matched += (size_t)attribute_matched(p, g->attributes[i], bullets);
    free(bullets);
    r->r_att = g->n_attributes ? (double)r->n_att_matched / (double)g->n_attributes : 0.0;

    /* Options: each goal option matched by some chosen value, both reduced by normalize_color. */
    r->n_options = g->n_options;
    for (size_t i = 0; i < g->n_options; i++) {
        char *goal_text = g->option_names[i] ? ws_goal_option_text(g->option_names[i], g->option_values[i])
                                             : NULL;
        const char *gt = goal_text;
        if (!g->option_names[i]) {
            const char *c = ws_normalize_color(g->option_values[i]);
            gt = c ? c : g->option_values[i];
        } else if (!goal_text) {
            return -1;
        }
        for (size_t j = 0; j < n_chosen; j++) {
            const char *c = ws_normalize_color(chosen_values[j]);
            if (ws_token_set_ratio(c ? c : chosen_values[j], gt) > 85) {
                r->n_option_matched++;
                break;
            }
        }
        free(goal_text);
    }
    r->has_r_option = g->n_options > 0;
    r->r_option = g->n_options ? (double)r->n_option_matched / (double)g->n_options : 0.0;

    r->r_price = (!g->has_price_upper || price <= g->price_upper) ? 1.0 : 0.0;
    r->reward = ((double)r->n_att_matched + (double)r->n_option_matched + r->r_price) /
                (double)(g->n_attributes + g->n_options + 1) * r->r_type;
    return 0;
}
