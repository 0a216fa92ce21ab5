#include "env.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistr.h>

#include "analyzer.h"
#include "grow.h"
#include "nouns.h"
#include "pystr.h"
#include "rawcatalog.h"
#include "search.h"
#include "strbuf.h"
#include "strmap.h"

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
    size_t *choice_order; /* the options chosen, in the order first chosen (WebShop's dict order) */
    size_t n_choices, chosen_cap;
    /* The products opened since the episode or Back to Search began: their catalog indices as
     * keys, in the order opened. A set that grows with them, not an array over the catalog: a
     * session then costs kilobytes whatever the catalog's size. */
    ws_strmap opened;
    int steps, done;
    ws_reward reward;
    const ws_product *purchased;

    clickable *clicks;
    size_t n_clicks, clicks_cap;
    char *obs;
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
    if (!ep) {
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

/* The i-th product opened, and whether a product is among them. */
static size_t opened_product(const ws_episode *ep, size_t i)
{
    size_t idx;
    memcpy(&idx, ws_strmap_key(&ep->opened, i, NULL), sizeof idx);
    return idx;
}

static int was_opened(const ws_episode *ep, size_t idx)
{
    return ws_strmap_find(&ep->opened, &idx, sizeof idx) >= 0;
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
    free(ep->choice_order);
    ws_strmap_free(&ep->opened);
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
    clickable *c = ws_grow(ep->clicks, &ep->clicks_cap, ep->n_clicks + 1, sizeof *c, 32);
    if (!c) {
        free(low);
        return -1;
    }
    ep->clicks = c;
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
    int first; /* text: no " [SEP] " before the first node */
    ws_strbuf out;
    const char **clicked; /* text_rich: the options marked chosen, in page order */
    size_t n_clicked, clicked_cap;
    int failed;
} renderer;

/* One text node of WebShop's page as BeautifulSoup finds it in the rendered template: the text as
 * the template writes it, nothing stripped; a node of ASCII white space only is collapsed to "\n"
 * (which WebShop then skips) or, without a newline, to " " (which it keeps); an empty text is no
 * node. text: the nodes' texts, each str.strip()ped, joined by " [SEP] ". text_rich: each node
 * and "\n", a button as "[button] x [button_]", a product link on a line of its own before it, an
 * option value indented and, when marked chosen, "[clicked button] x [clicked button_]". */
static void node(renderer *r, piece_kind kind, const char *text, int clicked)
{
    size_t n = strlen(text);
    if (n == 0)
        return;
    if (strspn(text, " \n\t\f\r") == n) {
        if (memchr(text, '\n', n))
            return;
        text = " ";
        n = 1;
    }
    ws_strbuf *b = &r->out;
    if (r->ep->opts.obs_mode == WS_OBS_TEXT) {
        const char *t = text;
        size_t len = n;
        ws_py_strip(&t, &len);
        if (!r->first)
            ws_strbuf_str(b, " [SEP] ");
        ws_strbuf_add(b, t, len);
    } else {
        switch (kind) {
        case PIECE_TEXT: ws_strbuf_add(b, text, n); break;
        case PIECE_BUTTON: ws_strbuf_printf(b, "[button] %s [button_]", text); break;
        case PIECE_ASIN:
            ws_strbuf_printf(b, clicked ? "\n[clicked button] %s [clicked button_]" : "\n[button] %s [button_]", text);
            break;
        case PIECE_OPTION:
            ws_strbuf_printf(b, clicked ? "  [clicked button] %s [clicked button_]" : "  [button] %s [button_]", text);
            if (clicked) {
                const char **c = ws_grow(r->clicked, &r->clicked_cap, r->n_clicked + 1, sizeof *c, 8);
                if (!c) {
                    r->failed = 1;
                    break;
                }
                r->clicked = c;
                r->clicked[r->n_clicked++] = text;
            }
            break;
        }
        ws_strbuf_add(b, "\n", 1);
    }
    r->first = 0;
}

/* A node of a literal and a text ("Price: " and the price). */
static void node2(renderer *r, const char *prefix, const char *text)
{
    char *t;
    if (asprintf(&t, "%s%s", prefix, text) < 0) {
        r->failed = 1;
        return;
    }
    node(r, PIECE_TEXT, t, 0);
    free(t);
}

/* Python's str() of a JSON value, as the template prints a review's score. */
static void node_value(renderer *r, json_t *v)
{
    ws_strbuf b = {0};
    if (json_is_string(v))
        ws_strbuf_str(&b, json_string_value(v));
    else if (json_is_integer(v))
        ws_strbuf_printf(&b, "%" JSON_INTEGER_FORMAT, json_integer_value(v));
    else if (json_is_real(v)) {
        char repr[32];
        ws_py_float_repr(json_real_value(v), repr);
        ws_strbuf_str(&b, repr);
    }
    char *t = ws_strbuf_finish(&b);
    if (!t) {
        r->failed = 1;
        return;
    }
    node(r, PIECE_TEXT, t, 0);
    free(t);
}

/* Whether WebShop marks an option value chosen: its item page tests whether the value in double
 * quotes occurs in the page's URL, which ends with the search words joined by "+", the results
 * page and json.dumps of the chosen options ({name: value} in the order first chosen). So a value
 * with a quote, a backslash or a non-ASCII character is never marked (json.dumps escapes it), a
 * value listed twice is marked twice, and a value equal to a chosen option's name is marked. */
static int option_marked(const char *url, const char *value)
{
    size_t n = strlen(value);
    for (const char *p = strchr(url, '"'); p; p = strchr(p + 1, '"'))
        if (strncmp(p + 1, value, n) == 0 && p[n + 1] == '"')
            return 1;
    return 0;
}

static char *item_url(const ws_episode *ep)
{
    ws_strbuf b = {0};
    for (const char *q = ep->query ? ep->query : ""; *q; q++)
        ws_strbuf_add(&b, *q == ' ' ? "+" : q, 1);
    ws_strbuf_printf(&b, "/%d/{", ep->results_page);
    for (size_t i = 0; i < ep->n_choices; i++) {
        const ws_option *o = &ep->item->options[ep->choice_order[i]];
        if (i)
            ws_strbuf_add(&b, ", ", 2);
        ws_py_json_string(&b, o->name);
        ws_strbuf_add(&b, ": ", 2);
        ws_py_json_string(&b, o->values[ep->chosen[ep->choice_order[i]]]);
    }
    ws_strbuf_add(&b, "}", 1);
    return ws_strbuf_finish(&b);
}

static void instruction_header(renderer *r)
{
    node(r, PIECE_TEXT, "Instruction:", 0);
    node(r, PIECE_TEXT, r->ep->goal.instruction, 0);
    node(r, PIECE_BUTTON, "Back to Search", 0);
}

/* Flask's tojson of the chosen options, as the done page prints them: json.dumps with the keys
 * sorted, then <, >, & and ' escaped as \u003c, \u003e, \u0026, \u0027. */
static char *options_tojson(const ws_episode *ep)
{
    const ws_product *p = ep->item;
    size_t *order = malloc((ep->n_choices ? ep->n_choices : 1) * sizeof *order), n = 0;
    if (!order)
        return NULL;
    for (size_t i = 0; i < ep->n_choices; i++) { /* the chosen options by name, as sort_keys */
        size_t o = ep->choice_order[i], k = n++;
        while (k > 0 && strcmp(p->options[order[k - 1]].name, p->options[o].name) > 0) {
            order[k] = order[k - 1];
            k--;
        }
        order[k] = o;
    }
    ws_strbuf j = {0};
    ws_strbuf_add(&j, "{", 1);
    for (size_t i = 0; i < n; i++) {
        if (i)
            ws_strbuf_add(&j, ", ", 2);
        ws_py_json_string(&j, p->options[order[i]].name);
        ws_strbuf_add(&j, ": ", 2);
        ws_py_json_string(&j, p->options[order[i]].values[ep->chosen[order[i]]]);
    }
    ws_strbuf_add(&j, "}", 1);
    free(order);
    char *s = ws_strbuf_finish(&j);
    if (!s)
        return NULL;
    ws_strbuf b = {0};
    for (const char *c = s; *c; c++) {
        const char *esc = *c == '<' ? "\\u003c" : *c == '>' ? "\\u003e" : *c == '&' ? "\\u0026" : *c == '\'' ? "\\u0027" : NULL;
        if (esc)
            ws_strbuf_str(&b, esc);
        else
            ws_strbuf_add(&b, c, 1);
    }
    free(s);
    return ws_strbuf_finish(&b);
}

/* WebShop's done page: its hidden details are text like any other (WebShop filters nodes by their
 * parent tag only), with None where the environment passes nothing. */
static void done_page(renderer *r)
{
    const ws_episode *ep = r->ep;
    static const char *const before[] = {"Thank you for shopping with us!", "Your code: ", "None",
                                         " (Paste it in your MTurk interface.)", "Purchased", "asin"};
    static const char *const after[] = {"attrs", "None", "category", "None", "query", "None", "product category",
                                        "None", "Target", "asin", "options", "attrs", "price upper",
                                        "instuction text", "category", "product category", "query", "Goal ",
                                        "None", "Reward", "Your score (min 0.0, max 1.0)"};
    for (size_t i = 0; i < sizeof before / sizeof *before; i++)
        node(r, PIECE_TEXT, before[i], 0);
    node(r, PIECE_TEXT, ep->purchased ? ep->purchased->asin : "", 0);
    node(r, PIECE_TEXT, "options", 0);
    char *json = options_tojson(ep);
    char reward[32];
    ws_py_float_repr(ep->reward.reward, reward);
    if (!json)
        r->failed = 1;
    else
        node(r, PIECE_TEXT, json, 0);
    for (size_t i = 0; i < sizeof after / sizeof *after; i++)
        node(r, PIECE_TEXT, after[i], 0);
    node(r, PIECE_TEXT, reward, 0);
    node(r, PIECE_TEXT, "Reward Details ", 0);
    node(r, PIECE_TEXT, "None", 0);
    free(json);
}

/* The page as WebShop's templates lay it out, node by node (docs/webshop.md, section 2). */
static int render(ws_episode *ep)
{
    renderer r = {.ep = ep, .first = 1};
    const ws_product *p = ep->item;
    char line[96];
    switch (ep->page) {
    case WS_PAGE_SEARCH:
        node(&r, PIECE_TEXT, "WebShop", 0);
        node(&r, PIECE_TEXT, "Instruction: ", 0); /* this page's template has a space there */
        node(&r, PIECE_TEXT, ep->goal.instruction, 0);
        node(&r, PIECE_BUTTON, "Search", 0);
        break;
    case WS_PAGE_RESULTS: {
        instruction_header(&r);
        snprintf(line, sizeof line, "Page %d (Total results: %zu)", ep->results_page, ep->n_results);
        node(&r, PIECE_TEXT, line, 0);
        if (ep->results_page > 1)
            node(&r, PIECE_BUTTON, "< Prev", 0);
        node(&r, PIECE_BUTTON, "Next >", 0);
        size_t first = (size_t)(ep->results_page - 1) * WS_RESULTS_PER_PAGE;
        for (size_t i = first; i < ep->n_results && i < first + WS_RESULTS_PER_PAGE; i++) {
            const ws_product *q = &ep->env->cat->products[ep->results[i]];
            node(&r, PIECE_ASIN, q->asin, was_opened(ep, ep->results[i]));
            node(&r, PIECE_TEXT, q->title, 0);
            node(&r, PIECE_TEXT, q->price_text, 0);
        }
        break;
    }
    case WS_PAGE_ITEM: {
        instruction_header(&r);
        node(&r, PIECE_BUTTON, "< Prev", 0);
        char *url = item_url(ep);
        if (!url) {
            r.failed = 1;
            break;
        }
        for (size_t o = 0; o < p->n_options; o++) {
            node(&r, PIECE_TEXT, p->options[o].name, 0);
            for (size_t v = 0; v < p->options[o].n_values; v++)
                node(&r, PIECE_OPTION, p->options[o].values[v],
                     ep->opts.mark_chosen ? ep->chosen[o] == (int)v : option_marked(url, p->options[o].values[v]));
        }
        free(url);
        node(&r, PIECE_TEXT, p->title, 0);
        node2(&r, "Price: ", p->price_text);
        node2(&r, "Rating: ", p->rating);
        node(&r, PIECE_BUTTON, "Description", 0);
        node(&r, PIECE_BUTTON, "Features", 0);
        node(&r, PIECE_BUTTON, "Reviews", 0);
        if (ep->opts.show_attributes)
            node(&r, PIECE_BUTTON, "Attributes", 0);
        node(&r, PIECE_BUTTON, "Buy Now", 0);
        break;
    }
    case WS_PAGE_DESCRIPTION:
    case WS_PAGE_FEATURES:
    case WS_PAGE_REVIEWS:
    case WS_PAGE_ATTRIBUTES:
        instruction_header(&r);
        node(&r, PIECE_BUTTON, "< Prev", 0);
        if (ep->page == WS_PAGE_DESCRIPTION) {
            node(&r, PIECE_TEXT, p->description, 0);
        } else if (ep->page == WS_PAGE_FEATURES) {
            for (size_t i = 0; i < p->n_bullets; i++)
                node2(&r, " ", p->bullets[i]); /* the template puts a space before each */
        } else if (ep->page == WS_PAGE_ATTRIBUTES) {
            for (size_t i = 0; i < p->n_attributes; i++)
                node2(&r, " ", p->attributes[i]);
            node(&r, PIECE_TEXT, p->category, 0);
            node(&r, PIECE_TEXT, p->query, 0);
            node(&r, PIECE_TEXT, p->product_category, 0);
        } else {
            size_t i;
            json_t *review;
            json_array_foreach(p->reviews, i, review) {
                const char *title = json_string_value(json_object_get(review, "title"));
                char *quoted;
                if (asprintf(&quoted, "\"%s\"", title ? title : "") < 0) {
                    r.failed = 1;
                    break;
                }
                node(&r, PIECE_TEXT, quoted, 0);
                free(quoted);
                node_value(&r, json_object_get(review, "score"));
                node_value(&r, json_object_get(review, "body"));
            }
        }
        break;
    case WS_PAGE_DONE:
        done_page(&r);
        break;
    }
    /* text_rich announces each marked option first, the last one on the page at the top */
    ws_strbuf full = {0};
    for (size_t i = r.n_clicked; i-- > 0;)
        ws_strbuf_printf(&full, "You have clicked %s.\n", r.clicked[i]);
    free(r.clicked);
    char *page = ws_strbuf_finish(&r.out);
    r.failed |= !page;
    ws_strbuf_str(&full, page);
    free(page);
    char *obs = ws_strbuf_finish(&full);
    if (!obs || r.failed) {
        free(obs);
        ep->obs_fresh = 0;
        return -1;
    }
    free(ep->obs);
    ep->obs = obs;
    ep->obs_fresh = 1;
    return 0;
}

const char *ws_episode_observation(ws_episode *ep)
{
    if (!ep->obs_fresh && render(ep))
        return NULL;
    return ep->obs;
}

/* ------------------------------------------------------------------ transitions */

static void forget_opened(ws_episode *ep) { ws_strmap_free(&ep->opened); }

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
    ep->n_choices = 0;
    memset(&ep->reward, 0, sizeof ep->reward);
    forget_opened(ep);
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

/* Room for the choices of a product with n options (chosen, choice_order). */
static int reserve_choices(ws_episode *ep, size_t n)
{
    if (n <= ep->chosen_cap)
        return 0;
    int *c = realloc(ep->chosen, n * sizeof *c);
    if (c)
        ep->chosen = c;
    size_t *order = realloc(ep->choice_order, n * sizeof *order);
    if (order)
        ep->choice_order = order;
    if (!c || !order)
        return -1;
    ep->chosen_cap = n;
    return 0;
}

static int open_item(ws_episode *ep, size_t result_pos)
{
    size_t idx = ep->results[result_pos];
    const ws_product *p = &ep->env->cat->products[idx];
    if (reserve_choices(ep, p->n_options))
        return -1;
    for (size_t o = 0; o < p->n_options; o++)
        ep->chosen[o] = -1; /* a product opened from the results starts with no option chosen */
    ep->n_choices = 0;
    ep->item = p;
    ep->item_index = idx;
    if (ws_strmap_add(&ep->opened, &idx, sizeof idx, NULL) < 0)
        return -1;
    return open_page(ep, WS_PAGE_ITEM);
}

int ws_episode_copy(ws_episode **dst, const ws_episode *src, ws_err *err)
{
    if (!src->has_goal)
        return ws_fail(err, "copy of an episode with no goal");
    if (!*dst && !(*dst = ws_episode_new(src->env, &src->opts, err)))
        return -1;
    ws_episode *d = *dst;
    if (d->env != src->env)
        return ws_fail(err, "copy of an episode on another environment");
    d->opts = src->opts;
    if (d->has_goal)
        ws_goal_clear(&d->goal);
    d->has_goal = 0;
    if (ws_goal_parse(src->goal.record, &d->goal, err))
        return -1;
    d->has_goal = 1;
    d->page = src->page;
    memcpy(d->results, src->results, sizeof d->results);
    d->n_results = src->n_results;
    free(d->query);
    d->query = NULL;
    if (src->query && !(d->query = strdup(src->query)))
        return ws_fail(err, "out of memory");
    d->results_page = src->results_page;
    d->max_results_page = src->max_results_page;
    d->item = src->item;
    d->item_index = src->item_index;
    if (reserve_choices(d, src->chosen_cap))
        return ws_fail(err, "out of memory");
    if (src->chosen_cap) {
        memcpy(d->chosen, src->chosen, src->chosen_cap * sizeof *d->chosen);
        memcpy(d->choice_order, src->choice_order, src->chosen_cap * sizeof *d->choice_order);
    }
    d->n_choices = src->n_choices;
    forget_opened(d);
    for (size_t i = 0; i < ws_strmap_count(&src->opened); i++) {
        size_t idx = opened_product(src, i);
        if (ws_strmap_add(&d->opened, &idx, sizeof idx, NULL) < 0)
            return ws_fail(err, "out of memory");
    }
    d->steps = src->steps;
    d->done = src->done;
    d->reward = src->reward;
    d->purchased = src->purchased;
    /* the clickables and the observation follow from the state */
    return build_clicks(d) ? ws_fail(err, "out of memory") : 0;
}

const ws_product *ws_episode_find_product(const ws_episode *ep, const char *asin)
{
    return ws_catalog_find(ep->env->cat, asin);
}

int ws_episode_reward_of(const ws_episode *ep, const ws_product *p, const char *const *values, size_t n,
                         ws_reward *out, ws_err *err)
{
    if (!ep->has_goal)
        return ws_fail(err, "reward of a purchase in an episode with no goal");
    return ws_reward_compute(ep->env->nouns, &ep->goal, p, values, n, p->price, out) ? ws_fail(err, "out of memory")
                                                                                     : 0;
}

static int buy(ws_episode *ep)
{
    const ws_product *p = ep->item;
    const char *values[WS_MAX_CHOSEN];
    size_t n = 0;
    for (size_t o = 0; o < p->n_options && n < WS_MAX_CHOSEN; o++)
        if (ep->chosen[o] >= 0)
            values[n++] = p->options[o].values[ep->chosen[o]];
    if (ws_episode_reward_of(ep, p, values, n, &ep->reward, NULL))
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
        /* WebShop starts the session afresh: the products opened are forgotten too */
        ep->n_results = 0;
        forget_opened(ep);
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
        if (ep->chosen[arg] < 0)
            ep->choice_order[ep->n_choices++] = arg;
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
        if (kind == WS_ACTION_SEARCH) { /* WebShop runs a search typed on any page */
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

char *ws_episode_state_key(ws_episode *ep, int with_opened)
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
    if (with_opened) {
        ws_strbuf_add(&b, "\x1fvisited:", 9);
        for (size_t i = 0; i < ws_strmap_count(&ep->opened); i++) {
            ws_strbuf_add(&b, i ? "," : "", i ? 1 : 0);
            ws_strbuf_str(&b, ep->env->cat->products[opened_product(ep, i)].asin);
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
