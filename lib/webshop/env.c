#include "env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "analyzer.h"
#include "nouns.h"
#include "pystr.h"
#include "search.h"
#include "strbuf.h"

struct ws_env {
    const ws_catalog *cat;
    ws_search_index *index;
    ws_analyzer *analyzer;
    ws_nouns *nouns;
};

ws_env *ws_env_new(const ws_catalog *cat, const ws_env_opts *opts, ws_err *err)
{
    ws_env *env = calloc(1, sizeof *env);
    if (!env) {
        ws_fail(err, "out of memory");
        return NULL;
    }
    env->cat = cat;
    if (!(env->analyzer = ws_analyzer_new(err)) || !(env->index = ws_search_build_catalog(cat, err)) ||
        !(env->nouns = ws_nouns_load(opts ? opts->wordnet_dir : NULL, err))) {
        ws_env_free(env);
        return NULL;
    }
    return env;
}

void ws_env_free(ws_env *env)
{
    if (!env)
        return;
    ws_search_free(env->index);
    ws_analyzer_free(env->analyzer);
    ws_nouns_free(env->nouns);
    free(env);
}

const ws_catalog *ws_env_catalog(const ws_env *env) { return env->cat; }
const ws_nouns *ws_env_nouns(const ws_env *env) { return env->nouns; }

int ws_env_search(ws_env *env, const char *query, size_t *products, size_t *n, ws_err *err)
{
    ws_search_hit hits[WS_SEARCH_TOP];
    size_t k = 0;
    if (ws_search(env->index, env->analyzer, query, WS_SEARCH_TOP, hits, &k, err))
        return -1;
    for (size_t i = 0; i < k; i++)
        products[i] = hits[i].doc;
    *n = k;
    return 0;
}

/* ------------------------------------------------------------------ pages */

typedef enum { PIECE_TEXT, PIECE_BUTTON, PIECE_OPTION, PIECE_ASIN } piece_kind;

typedef enum {
    CLICK_BACK_TO_SEARCH,
    CLICK_PREV,
    CLICK_NEXT,
    CLICK_PRODUCT, /* arg: position in the results */
    CLICK_OPTION,  /* arg: option index, arg2: value index */
    CLICK_SUBPAGE, /* arg: the ws_page */
    CLICK_BUY
} click_kind;

typedef struct clickable {
    char *text; /* lower-cased, as the action names it */
    click_kind kind;
    size_t arg, arg2;
} clickable;

struct ws_episode {
    ws_env *env;
    ws_episode_opts opts;
    ws_goal goal;
    int has_goal;

    ws_page page;
    size_t results[WS_SEARCH_TOP];
    size_t n_results;
    char *query;      /* the last search's text, lower-cased (what the results answer); NULL before */
    int results_page; /* 1-based */
    int max_results_page; /* the furthest results page seen since the search */
    const ws_product *item;
    size_t item_index;    /* catalog index of the item */
    int *chosen;          /* per option of the item: value index, or -1 */
    size_t chosen_cap;
    unsigned char *visited; /* per catalog product: opened in this episode */
    int steps, done;
    ws_reward reward;
    const ws_product *purchased;

    clickable *clicks;
    size_t n_clicks, clicks_cap;
    char *obs;
    size_t obs_len, obs_cap;
    int obs_fresh;
};

static const char *const obs_mode_names[] = {"text", "text_rich"};

const char *ws_obs_mode_name(ws_obs_mode mode) { return obs_mode_names[mode]; }

int ws_obs_mode_parse(const char *name, ws_obs_mode *mode)
{
    for (int k = 0; k < (int)(sizeof obs_mode_names / sizeof *obs_mode_names); k++)
        if (strcmp(name, obs_mode_names[k]) == 0) {
            *mode = (ws_obs_mode)k;
            return 0;
        }
    return -1;
}

const char *ws_page_name(ws_page page)
{
    static const char *const names[] = {"search", "results", "item", "description",
                                        "features", "reviews", "attributes", "done"};
    return names[page];
}

ws_episode *ws_episode_new(ws_env *env, const ws_episode_opts *opts, ws_err *err)
{
    ws_episode *ep = calloc(1, sizeof *ep);
    if (!ep || !(ep->visited = calloc(env->cat->n ? env->cat->n : 1, 1))) {
        free(ep);
        ws_fail(err, "out of memory");
        return NULL;
    }
    ep->env = env;
    if (opts)
        ep->opts = *opts;
    if (ep->opts.max_steps <= 0)
        ep->opts.max_steps = 100;
    return ep;
}

static void clear_clicks(ws_episode *ep)
{
    for (size_t i = 0; i < ep->n_clicks; i++)
        free(ep->clicks[i].text);
    ep->n_clicks = 0;
}

void ws_episode_free(ws_episode *ep)
{
    if (!ep)
        return;
    clear_clicks(ep);
    free(ep->clicks);
    free(ep->chosen);
    free(ep->visited);
    free(ep->obs);
    free(ep->query);
    if (ep->has_goal)
        ws_goal_clear(&ep->goal);
    free(ep);
}

/* Clickables keep their page order, as WebShop's text -> element dict does: a text seen before
 * keeps its place; an option value met again is the later option's (the dict keeps the last
 * element), while a button's text keeps its meaning (WebShop routes those by name). "search" is
 * never a click action (WebShop refuses click[search]). */
static int add_click(ws_episode *ep, const char *text, click_kind kind, size_t arg, size_t arg2)
{
    char *low = ws_py_lower(text, strlen(text), NULL);
    if (!low)
        return -1;
    if (strcmp(low, "search") == 0) {
        free(low);
        return 0;
    }
    for (size_t i = 0; i < ep->n_clicks; i++)
        if (strcmp(ep->clicks[i].text, low) == 0) {
            if (kind == CLICK_OPTION && ep->clicks[i].kind == CLICK_OPTION) {
                ep->clicks[i].arg = arg;
                ep->clicks[i].arg2 = arg2;
            }
            free(low);
            return 0;
        }
    if (ep->n_clicks == ep->clicks_cap) {
        size_t cap = ep->clicks_cap ? ep->clicks_cap * 2 : 32;
        clickable *c = realloc(ep->clicks, cap * sizeof *c);
        if (!c) {
            free(low);
            return -1;
        }
        ep->clicks = c;
        ep->clicks_cap = cap;
    }
    ep->clicks[ep->n_clicks++] = (clickable){low, kind, arg, arg2};
    return 0;
}

static int build_clicks(ws_episode *ep)
{
    clear_clicks(ep);
    int rc = 0;
    switch (ep->page) {
    case WS_PAGE_SEARCH:
    case WS_PAGE_DONE:
        break;
    case WS_PAGE_RESULTS: {
        rc |= add_click(ep, "Back to Search", CLICK_BACK_TO_SEARCH, 0, 0);
        if (ep->results_page > 1)
            rc |= add_click(ep, "< Prev", CLICK_PREV, 0, 0);
        rc |= add_click(ep, "Next >", CLICK_NEXT, 0, 0);
        size_t first = (size_t)(ep->results_page - 1) * WS_RESULTS_PER_PAGE;
        for (size_t i = first; i < ep->n_results && i < first + WS_RESULTS_PER_PAGE; i++)
            rc |= add_click(ep, ep->env->cat->products[ep->results[i]].asin, CLICK_PRODUCT, i, 0);
        break;
    }
    case WS_PAGE_ITEM: {
        /* WebShop collects the page's buttons first, then its option values */
        rc |= add_click(ep, "Back to Search", CLICK_BACK_TO_SEARCH, 0, 0);
        rc |= add_click(ep, "< Prev", CLICK_PREV, 0, 0);
        rc |= add_click(ep, "Description", CLICK_SUBPAGE, WS_PAGE_DESCRIPTION, 0);
        rc |= add_click(ep, "Features", CLICK_SUBPAGE, WS_PAGE_FEATURES, 0);
        rc |= add_click(ep, "Reviews", CLICK_SUBPAGE, WS_PAGE_REVIEWS, 0);
        if (ep->opts.show_attributes)
            rc |= add_click(ep, "Attributes", CLICK_SUBPAGE, WS_PAGE_ATTRIBUTES, 0);
        rc |= add_click(ep, "Buy Now", CLICK_BUY, 0, 0);
        for (size_t o = 0; o < ep->item->n_options; o++)
            for (size_t v = 0; v < ep->item->options[o].n_values; v++)
                rc |= add_click(ep, ep->item->options[o].values[v], CLICK_OPTION, o, v);
        break;
    }
    default: /* sub-pages */
        rc |= add_click(ep, "Back to Search", CLICK_BACK_TO_SEARCH, 0, 0);
        rc |= add_click(ep, "< Prev", CLICK_PREV, 0, 0);
        break;
    }
    ep->obs_fresh = 0;
    return rc ? -1 : 0;
}

/* ------------------------------------------------------------------ observations */

typedef struct renderer {
    ws_episode *ep;
    int first;
    int failed;
    char *clicked_prefix; /* text_rich: "You have clicked x.\n" lines, put before the page */
    size_t prefix_len, prefix_cap;
} renderer;

static void grow_append(char **buf, size_t *len, size_t *cap, const char *s, size_t n, int *failed)
{
    if (*len + n + 1 > *cap) {
        size_t c = *cap ? *cap : 4096;
        while (c < *len + n + 1)
            c *= 2;
        char *p = realloc(*buf, c);
        if (!p) {
            *failed = 1;
            return;
        }
        *buf = p;
        *cap = c;
    }
    memcpy(*buf + *len, s, n);
    *len += n;
    (*buf)[*len] = 0;
}

static void out_str(renderer *r, const char *s)
{
    grow_append(&r->ep->obs, &r->ep->obs_len, &r->ep->obs_cap, s, strlen(s), &r->failed);
}

/* One visible piece of the page. WebShop's text mode joins stripped pieces with " [SEP] ";
 * text_rich puts each on its own line with its button markers. */
static void piece(renderer *r, piece_kind kind, const char *text, int clicked)
{
    /* strip, as WebShop does with each visible text */
    while (*text == ' ' || *text == '\n' || *text == '\t' || *text == '\r')
        text++;
    size_t n = strlen(text);
    while (n && (text[n - 1] == ' ' || text[n - 1] == '\n' || text[n - 1] == '\t' || text[n - 1] == '\r'))
        n--;
    if (n == 0)
        return;
    char *t = strndup(text, n);
    if (!t) {
        r->failed = 1;
        return;
    }
    if (r->ep->opts.obs_mode == WS_OBS_TEXT) {
        if (!r->first)
            out_str(r, " [SEP] ");
        out_str(r, t);
    } else {
        if (!r->first)
            out_str(r, "\n");
        switch (kind) {
        case PIECE_TEXT: out_str(r, t); break;
        case PIECE_BUTTON:
        case PIECE_ASIN:
            out_str(r, clicked ? "[clicked button] " : "[button] ");
            out_str(r, t);
            out_str(r, clicked ? " [clicked button_]" : " [button_]");
            break;
        case PIECE_OPTION:
            out_str(r, clicked ? "  [clicked button] " : "  [button] ");
            out_str(r, t);
            out_str(r, clicked ? " [clicked button_]" : " [button_]");
            if (clicked) {
                const char *a = "You have clicked ", *b = ".\n";
                grow_append(&r->clicked_prefix, &r->prefix_len, &r->prefix_cap, a, strlen(a), &r->failed);
                grow_append(&r->clicked_prefix, &r->prefix_len, &r->prefix_cap, t, n, &r->failed);
                grow_append(&r->clicked_prefix, &r->prefix_len, &r->prefix_cap, b, strlen(b), &r->failed);
            }
            break;
        }
    }
    free(t);
    r->first = 0;
}

static void instruction_header(renderer *r)
{
    piece(r, PIECE_TEXT, "Instruction:", 0);
    piece(r, PIECE_TEXT, r->ep->goal.instruction, 0);
    piece(r, PIECE_BUTTON, "Back to Search", 0);
}

static int render(ws_episode *ep)
{
    renderer r = {.ep = ep, .first = 1};
    ep->obs_len = 0;
    out_str(&r, "");
    const ws_product *p = ep->item;
    char line[256];
    switch (ep->page) {
    case WS_PAGE_SEARCH:
        piece(&r, PIECE_TEXT, "WebShop", 0);
        piece(&r, PIECE_TEXT, "Instruction:", 0);
        piece(&r, PIECE_TEXT, ep->goal.instruction, 0);
        piece(&r, PIECE_BUTTON, "Search", 0);
        break;
    case WS_PAGE_RESULTS: {
        instruction_header(&r);
        snprintf(line, sizeof line, "Page %d (Total results: %zu)", ep->results_page, ep->n_results);
        piece(&r, PIECE_TEXT, line, 0);
        if (ep->results_page > 1)
            piece(&r, PIECE_BUTTON, "< Prev", 0);
        piece(&r, PIECE_BUTTON, "Next >", 0);
        size_t first = (size_t)(ep->results_page - 1) * WS_RESULTS_PER_PAGE;
        for (size_t i = first; i < ep->n_results && i < first + WS_RESULTS_PER_PAGE; i++) {
            const ws_product *q = &ep->env->cat->products[ep->results[i]];
            piece(&r, PIECE_ASIN, q->asin, ep->visited[ep->results[i]]);
            piece(&r, PIECE_TEXT, q->title, 0);
            piece(&r, PIECE_TEXT, q->price_text, 0);
        }
        break;
    }
    case WS_PAGE_ITEM:
        instruction_header(&r);
        piece(&r, PIECE_BUTTON, "< Prev", 0);
        for (size_t o = 0; o < p->n_options; o++) {
            piece(&r, PIECE_TEXT, p->options[o].name, 0);
            for (size_t v = 0; v < p->options[o].n_values; v++)
                piece(&r, PIECE_OPTION, p->options[o].values[v], ep->chosen[o] == (int)v);
        }
        piece(&r, PIECE_TEXT, p->title, 0);
        snprintf(line, sizeof line, "Price: %s", p->price_text);
        piece(&r, PIECE_TEXT, line, 0);
        snprintf(line, sizeof line, "Rating: %s", p->rating);
        piece(&r, PIECE_TEXT, line, 0);
        piece(&r, PIECE_BUTTON, "Description", 0);
        piece(&r, PIECE_BUTTON, "Features", 0);
        piece(&r, PIECE_BUTTON, "Reviews", 0);
        if (ep->opts.show_attributes)
            piece(&r, PIECE_BUTTON, "Attributes", 0);
        piece(&r, PIECE_BUTTON, "Buy Now", 0);
        break;
    case WS_PAGE_DESCRIPTION:
    case WS_PAGE_FEATURES:
    case WS_PAGE_REVIEWS:
    case WS_PAGE_ATTRIBUTES:
        instruction_header(&r);
        piece(&r, PIECE_BUTTON, "< Prev", 0);
        if (ep->page == WS_PAGE_DESCRIPTION) {
            piece(&r, PIECE_TEXT, p->description, 0);
        } else if (ep->page == WS_PAGE_FEATURES) {
            for (size_t i = 0; i < p->n_bullets; i++)
                piece(&r, PIECE_TEXT, p->bullets[i], 0);
        } else if (ep->page == WS_PAGE_ATTRIBUTES) {
            for (size_t i = 0; i < p->n_attributes; i++)
                piece(&r, PIECE_TEXT, p->attributes[i], 0);
        } else {
            size_t i;
            json_t *review;
            json_array_foreach(json_object_get(p->record, "Reviews"), i, review) {
                static const char *const fields[] = {"title", "score", "body"};
                for (int f = 0; f < 3; f++) {
                    json_t *v = json_object_get(review, fields[f]);
                    if (json_is_string(v))
                        piece(&r, PIECE_TEXT, json_string_value(v), 0);
                    else if (json_is_number(v)) {
                        snprintf(line, sizeof line, "%g", json_number_value(v));
                        piece(&r, PIECE_TEXT, line, 0);
                    }
                }
            }
        }
        break;
    case WS_PAGE_DONE:
        piece(&r, PIECE_TEXT, "Thank you for shopping with us!", 0);
        piece(&r, PIECE_TEXT, "Your score (min 0.0, max 1.0)", 0);
        snprintf(line, sizeof line, "%.4f", ep->reward.reward);
        piece(&r, PIECE_TEXT, line, 0);
        break;
    }
    if (r.prefix_len && !r.failed) {
        /* text_rich announces the chosen options first */
        size_t n = r.prefix_len + ep->obs_len;
        char *full = malloc(n + 1);
        if (!full) {
            r.failed = 1;
        } else {
            memcpy(full, r.clicked_prefix, r.prefix_len);
            memcpy(full + r.prefix_len, ep->obs, ep->obs_len + 1);
            free(ep->obs);
            ep->obs = full;
            ep->obs_len = n;
            ep->obs_cap = n + 1;
        }
    }
    free(r.clicked_prefix);
    ep->obs_fresh = !r.failed;
    return r.failed ? -1 : 0;
}

const char *ws_episode_observation(ws_episode *ep)
{
    if (!ep->obs_fresh && render(ep))
        return NULL;
    return ep->obs;
}

/* ------------------------------------------------------------------ transitions */

static int open_page(ws_episode *ep, ws_page page)
{
    ep->page = page;
    if (page == WS_PAGE_RESULTS && ep->results_page > ep->max_results_page)
        ep->max_results_page = ep->results_page;
    return build_clicks(ep);
}

int ws_episode_reset(ws_episode *ep, json_t *goal, ws_err *err)
{
    if (ep->has_goal)
        ws_goal_clear(&ep->goal);
    ep->has_goal = 0;
    if (ws_goal_parse(goal, &ep->goal, err))
        return -1;
    ep->has_goal = 1;
    ep->steps = ep->done = 0;
    ep->n_results = 0;
    free(ep->query);
    ep->query = NULL;
    ep->results_page = 1;
    ep->item = ep->purchased = NULL;
    memset(&ep->reward, 0, sizeof ep->reward);
    memset(ep->visited, 0, ep->env->cat->n);
    if (open_page(ep, WS_PAGE_SEARCH))
        return ws_fail(err, "out of memory");
    return 0;
}

ws_action_kind ws_action_parse(const char *action, const char **arg, size_t *arg_len)
{
    /* "name[arg]" with a non-empty arg, as WebShop's parse_action reads it */
    const char *open = strchr(action, '[');
    size_t n = strlen(action);
    if (!open || n < 3 || action[n - 1] != ']' || open == action || open + 1 == action + n - 1)
        return WS_ACTION_INVALID;
    size_t k = (size_t)(open - action);
    ws_action_kind kind = k == 6 && memcmp(action, "search", 6) == 0  ? WS_ACTION_SEARCH
                          : k == 5 && memcmp(action, "click", 5) == 0 ? WS_ACTION_CLICK
                                                                      : WS_ACTION_INVALID;
    if (kind != WS_ACTION_INVALID && arg) {
        *arg = open + 1;
        *arg_len = (size_t)(action + n - 1 - (open + 1));
    }
    return kind;
}

static char *make_action(const char *name, const char *text)
{
    char *s;
    return asprintf(&s, "%s[%s]", name, text) < 0 ? NULL : s;
}

char *ws_action_search(const char *query) { return make_action("search", query); }
char *ws_action_click(const char *text) { return make_action("click", text); }

static int open_item(ws_episode *ep, size_t result_pos)
{
    size_t idx = ep->results[result_pos];
    const ws_product *p = &ep->env->cat->products[idx];
    if (p->n_options > ep->chosen_cap) {
        int *c = realloc(ep->chosen, p->n_options * sizeof *c);
        if (!c)
            return -1;
        ep->chosen = c;
        ep->chosen_cap = p->n_options;
    }
    for (size_t o = 0; o < p->n_options; o++)
        ep->chosen[o] = -1; /* a product opened from the results starts with no option chosen */
    ep->item = p;
    ep->item_index = idx;
    ep->visited[idx] = 1;
    return open_page(ep, WS_PAGE_ITEM);
}

static int buy(ws_episode *ep)
{
    const ws_product *p = ep->item;
    const char *values[64];
    size_t n = 0;
    for (size_t o = 0; o < p->n_options && n < 64; o++)
        if (ep->chosen[o] >= 0)
            values[n++] = p->options[o].values[ep->chosen[o]];
    if (ws_reward_compute(ep->env->nouns, &ep->goal, p, values, n, p->price, &ep->reward))
        return -1;
    ep->purchased = p;
    ep->done = 1;
    return open_page(ep, WS_PAGE_DONE);
}

static int apply_click(ws_episode *ep, const clickable *c)
{
    /* copy: the clickables are rebuilt by the transition */
    click_kind kind = c->kind;
    size_t arg = c->arg, arg2 = c->arg2;
    switch (kind) {
    case CLICK_BACK_TO_SEARCH:
        ep->n_results = 0;
        return open_page(ep, WS_PAGE_SEARCH);
    case CLICK_NEXT:
        ep->results_page++;
        return open_page(ep, WS_PAGE_RESULTS);
    case CLICK_PREV:
        if (ep->page == WS_PAGE_RESULTS) {
            ep->results_page--;
            return open_page(ep, WS_PAGE_RESULTS);
        }
        return open_page(ep, ep->page == WS_PAGE_ITEM ? WS_PAGE_RESULTS : WS_PAGE_ITEM);
    case CLICK_PRODUCT:
        return open_item(ep, arg);
    case CLICK_OPTION:
        ep->chosen[arg] = (int)arg2;
        ep->obs_fresh = 0;
        return 0;
    case CLICK_SUBPAGE:
        return open_page(ep, (ws_page)arg);
    case CLICK_BUY:
        return buy(ep);
    }
    return 0;
}

int ws_episode_step(ws_episode *ep, const char *action, ws_step *out, ws_err *err)
{
    *out = (ws_step){0};
    if (!ep->has_goal)
        return ws_fail(err, "no episode: reset first");
    if (ep->done) {
        out->done = 1;
        out->reward = ep->reward.reward;
        return 0; /* a finished episode ignores further actions */
    }
    ep->steps++;
    const char *arg;
    size_t arg_len;
    int rc = 0;
    ws_action_kind kind = ws_action_parse(action, &arg, &arg_len);
    if (kind != WS_ACTION_INVALID) {
        char *low = ws_py_lower(arg, arg_len, NULL);
        if (!low)
            return ws_fail(err, u8_check((const uint8_t *)arg, arg_len) ? "action is not UTF-8" : "out of memory");
        if (kind == WS_ACTION_SEARCH && ep->page == WS_PAGE_SEARCH) {
            out->valid = 1;
            if (ws_env_search(ep->env, low, ep->results, &ep->n_results, err)) {
                free(low);
                return -1;
            }
            free(ep->query);
            ep->query = low;
            low = NULL;
            ep->results_page = 1;
            ep->max_results_page = 0;
            rc = open_page(ep, WS_PAGE_RESULTS);
        } else if (kind == WS_ACTION_CLICK) {
            for (size_t i = 0; i < ep->n_clicks; i++)
                if (strcmp(ep->clicks[i].text, low) == 0) {
                    out->valid = 1;
                    rc = apply_click(ep, &ep->clicks[i]);
                    break;
                }
        }
        free(low);
    }
    if (rc)
        return ws_fail(err, "out of memory");
    if (ep->done) {
        out->reward = ep->reward.reward;
    } else if (ep->steps >= ep->opts.max_steps) {
        ep->done = 1; /* the step limit: the episode ends without a purchase */
    }
    out->done = ep->done;
    return 0;
}

ws_page ws_episode_page(const ws_episode *ep) { return ep->page; }
int ws_episode_has_search_bar(const ws_episode *ep) { return !ep->done && ep->page == WS_PAGE_SEARCH; }
size_t ws_episode_n_clickables(const ws_episode *ep) { return ep->done ? 0 : ep->n_clicks; }
const char *ws_episode_clickable(const ws_episode *ep, size_t i) { return ep->clicks[i].text; }
int ws_episode_steps(const ws_episode *ep) { return ep->steps; }
int ws_episode_done(const ws_episode *ep) { return ep->done; }
const ws_goal *ws_episode_goal(const ws_episode *ep) { return &ep->goal; }
const ws_product *ws_episode_purchased(const ws_episode *ep) { return ep->purchased; }
const ws_reward *ws_episode_reward(const ws_episode *ep) { return ep->purchased ? &ep->reward : NULL; }
int ws_episode_results_page(const ws_episode *ep) { return ep->results_page; }
const ws_product *ws_episode_item(const ws_episode *ep) { return ep->item; }

size_t ws_episode_results(const ws_episode *ep, const size_t **products)
{
    *products = ep->results;
    return ep->n_results;
}

json_t *ws_episode_options_json(const ws_episode *ep)
{
    json_t *o = json_object();
    const ws_product *p = ep->item;
    for (size_t i = 0; p && i < p->n_options; i++)
        if (ep->chosen[i] >= 0)
            json_object_set_new(o, p->options[i].name, json_string(p->options[i].values[ep->chosen[i]]));
    return o;
}

const ws_product *ws_episode_result_product(const ws_episode *ep, size_t rank)
{
    return &ep->env->cat->products[ep->results[rank]];
}

int ws_episode_max_results_page(const ws_episode *ep) { return ep->max_results_page; }

int ws_episode_chosen(const ws_episode *ep, size_t o)
{
    return ep->item && o < ep->item->n_options ? ep->chosen[o] : -1;
}

const char *ws_episode_query(const ws_episode *ep) { return ep->query; }

int ws_episode_target_rank(const ws_episode *ep)
{
    for (size_t i = 0; i < ep->n_results; i++)
        if (strcmp(ep->env->cat->products[ep->results[i]].asin, ep->goal.asin) == 0)
            return (int)i;
    return -1;
}

char *ws_episode_state_key(ws_episode *ep, const char *const *visited)
{
    const char *obs = ws_episode_observation(ep);
    if (!obs)
        return NULL;
    ws_page page = ws_episode_page(ep);
    ws_strbuf b = {0};
    ws_strbuf_str(&b, ws_page_name(page));
    ws_strbuf_add(&b, "\x1f", 1);
    ws_strbuf_str(&b, obs);
    /* What the page's transitions depend on beyond its text. The search page forgets everything
     * (a search starts afresh); a results page needs the whole result list (the text shows one
     * page of it); item pages and their sub-pages also the results page `< prev` returns to, the
     * item and its chosen options. */
    if (page != WS_PAGE_SEARCH && page != WS_PAGE_DONE) {
        const size_t *results;
        size_t n = ws_episode_results(ep, &results);
        ws_strbuf_add(&b, "\x1fresults:", 9);
        for (size_t i = 0; i < n; i++) {
            ws_strbuf_add(&b, i ? "," : "", i ? 1 : 0);
            ws_strbuf_printf(&b, "%zu", results[i]);
        }
        ws_strbuf_add(&b, "\x1fpage:", 6);
        ws_strbuf_printf(&b, "%d", ws_episode_results_page(ep));
    }
    if (page != WS_PAGE_SEARCH && page != WS_PAGE_RESULTS && page != WS_PAGE_DONE) {
        const ws_product *item = ws_episode_item(ep);
        ws_strbuf_add(&b, "\x1fitem:", 6);
        if (item) {
            ws_strbuf_str(&b, item->asin);
            for (size_t o = 0; o < item->n_options; o++) {
                ws_strbuf_add(&b, o ? "," : ":", 1);
                ws_strbuf_printf(&b, "%d", ws_episode_chosen(ep, o));
            }
        }
    }
    if (visited) {
        ws_strbuf_add(&b, "\x1fvisited:", 9);
        for (size_t i = 0; visited[i]; i++) {
            ws_strbuf_add(&b, i ? "," : "", i ? 1 : 0);
            ws_strbuf_str(&b, visited[i]);
        }
    }
    return ws_strbuf_finish(&b);
}

static const char *const decision_kind_names[WS_N_DECISION_KINDS] = {"search", "results", "option", "buy",
                                                                     "navigation"};

ws_decision_kind ws_decision_kind_of(const char *action, const char *obs)
{
    static const char *const navigation[] = {"click[< prev]",   "click[next >]", "click[back to search]",
                                             "click[description]", "click[features]", "click[reviews]",
                                             "click[attributes]"};
    if (ws_action_parse(action, NULL, NULL) == WS_ACTION_SEARCH)
        return WS_DECISION_SEARCH;
    if (strcmp(action, "click[buy now]") == 0)
        return WS_DECISION_BUY;
    for (size_t i = 0; i < sizeof navigation / sizeof *navigation; i++)
        if (strcmp(action, navigation[i]) == 0)
            return WS_DECISION_NAVIGATION;
    return strstr(obs, "Total results") ? WS_DECISION_RESULTS : WS_DECISION_OPTION;
}

const char *ws_decision_kind_name(ws_decision_kind kind)
{
    return kind >= 0 && kind < WS_N_DECISION_KINDS ? decision_kind_names[kind] : "unknown";
}

int ws_decision_kind_parse(const char *name, ws_decision_kind *kind)
{
    for (int k = 0; k < WS_N_DECISION_KINDS; k++)
        if (strcmp(name, decision_kind_names[k]) == 0) {
            *kind = (ws_decision_kind)k;
            return 0;
        }
    return -1;
}
