/* env: the WebShop environment: pages, observations, clickables, transitions and the reward.
 *
 * A ws_env holds what every episode shares and never changes once built: the catalog (borrowed),
 * the search index, the analyzer and the noun lexicon. It is not safe to search from two
 * threads at once (the analyzer is single-threaded); use one ws_env per thread.
 * A ws_episode is one shopper session: the goal, the current page and its state, the options
 * chosen, the products opened, the step count. Facts reproduced from WebShop (docs/webshop.md, sections 2-3):
 * observations and valid-action lists byte for byte as its environment makes them from its HTML
 * templates, quirks included (which option values it marks chosen, the order of its clickables);
 * a search runs from any page; `next >` on every results page, past the last one too; `< prev`
 * from an item page back to its results page and from a sub-page back to the item page; choosing
 * a value replaces the choice for its option (a value listed twice: the later copy); Back to
 * Search forgets the products opened; Buy Now ends the episode with the reward; an action that is
 * not available changes nothing, gives 0 and still counts as a step; the step limit ends the
 * episode with reward 0. */
#ifndef WS_ENV_H
#define WS_ENV_H

#include <jansson.h>
#include <stddef.h>

#include "catalog.h"
#include "err.h"
#include "goals.h"
#include "reward.h"
#include "search.h"

#define WS_RESULTS_PER_PAGE 10

typedef enum {
    WS_PAGE_SEARCH,
    WS_PAGE_RESULTS,
    WS_PAGE_ITEM,
    WS_PAGE_DESCRIPTION,
    WS_PAGE_FEATURES,
    WS_PAGE_REVIEWS,
    WS_PAGE_ATTRIBUTES,
    WS_PAGE_DONE
} ws_page;

typedef enum { WS_OBS_TEXT, WS_OBS_TEXT_RICH } ws_obs_mode;
/* "text", "text_rich"; parse: 0, or -1 for another name. */
const char *ws_obs_mode_name(ws_obs_mode mode);
int ws_obs_mode_parse(const char *name, ws_obs_mode *mode);

/* What a decision is about, told from the action taken and the observation it was taken on
 * (all a trajectory record keeps): the search; which product to open (a click on a results
 * page, whose observation says "Total results"); an option value of the item page; buy now; or
 * navigation (< prev, next >, back to search and the item's sub-pages). Imitation weighs them
 * apart (train-il --oversample) and scripts/decision_accuracy.sh scores them apart. */
typedef enum {
    WS_DECISION_SEARCH,
    WS_DECISION_RESULTS,
    WS_DECISION_OPTION,
    WS_DECISION_BUY,
    WS_DECISION_NAVIGATION,
    WS_N_DECISION_KINDS
} ws_decision_kind;

ws_decision_kind ws_decision_kind_of(const char *action, const char *obs);
/* "search", "results", "option", "buy", "navigation" <-> kind; parse returns -1 for others. */
const char *ws_decision_kind_name(ws_decision_kind kind);
int ws_decision_kind_parse(const char *name, ws_decision_kind *kind);

typedef struct ws_env ws_env;

typedef struct ws_env_opts {
    const char *wordnet_dir; /* NULL: the system's WordNet */
} ws_env_opts;

ws_env *ws_env_new(const ws_catalog *cat, const ws_env_opts *opts, ws_err *err);
void ws_env_free(ws_env *env);
const ws_catalog *ws_env_catalog(const ws_env *env);
const ws_nouns *ws_env_nouns(const ws_env *env);
/* The top WS_SEARCH_TOP products for a query (catalog indices), as the engine ranks them. */
int ws_env_search(ws_env *env, const char *query, size_t *products, size_t *n, ws_err *err);

typedef struct ws_episode ws_episode;

typedef struct ws_episode_opts {
    int max_steps;         /* the step limit; 0 means WebShop's 100 */
    int show_attributes;   /* the item page's Attributes button */
    /* text_rich: mark exactly the chosen option values, where WebShop's page misses a value with
     * a quote or a non-ASCII letter and marks a repeated value or an option's name
     * (docs/webshop.md, section 2). Off: WebShop's page. */
    int mark_chosen;
    ws_obs_mode obs_mode;
} ws_episode_opts;

typedef struct ws_step {
    double reward;
    int done;
    int valid; /* 0 when the action was not available (nothing changed) */
} ws_step;

ws_episode *ws_episode_new(ws_env *env, const ws_episode_opts *opts, ws_err *err);
void ws_episode_free(ws_episode *ep);
/* Start an episode on a goal record (the episode keeps a reference). */
int ws_episode_reset(ws_episode *ep, json_t *goal, ws_err *err);
/* The action grammar (docs/webshop.md section 2), owned here: every module builds and reads
 * action strings with these. "search[<query>]" and "click[<text>]" (caller frees; NULL when out
 * of memory); ws_action_parse says which kind a string is ("name[arg]" with a non-empty arg, as
 * WebShop reads it; another name or shape is WS_ACTION_INVALID) and, when arg is not NULL, where
 * its text is. */
typedef enum ws_action_kind { WS_ACTION_INVALID, WS_ACTION_SEARCH, WS_ACTION_CLICK } ws_action_kind;
char *ws_action_search(const char *query);
char *ws_action_click(const char *text);
ws_action_kind ws_action_parse(const char *action, const char **arg, size_t *arg_len);

/* "search[text]" or "click[text]" (text matched case-insensitively). Errors only on a broken
 * episode (no goal, out of memory); an unavailable action is a valid call with valid = 0. */
int ws_episode_step(ws_episode *ep, const char *action, ws_step *out, ws_err *err);

const char *ws_episode_observation(ws_episode *ep);
ws_page ws_episode_page(const ws_episode *ep);
const char *ws_page_name(ws_page page);
int ws_episode_has_search_bar(const ws_episode *ep);
size_t ws_episode_n_clickables(const ws_episode *ep);
const char *ws_episode_clickable(const ws_episode *ep, size_t i);
int ws_episode_steps(const ws_episode *ep);
int ws_episode_done(const ws_episode *ep);
const ws_goal *ws_episode_goal(const ws_episode *ep);
/* After Buy Now: the product bought, its chosen options and the reward with its parts. */
const ws_product *ws_episode_purchased(const ws_episode *ep);
const ws_reward *ws_episode_reward(const ws_episode *ep);
/* The chosen options of the current (or bought) product as {name: value}; new reference. */
json_t *ws_episode_options_json(const ws_episode *ep);
/* The results of the last search (catalog indices), and the results page shown. */
size_t ws_episode_results(const ws_episode *ep, const size_t **products);
int ws_episode_results_page(const ws_episode *ep);
int ws_episode_max_results_page(const ws_episode *ep); /* furthest page seen since the search */
const ws_product *ws_episode_result_product(const ws_episode *ep, size_t rank);
/* The goal product's rank among the last search's results, or -1 (evaluation metadata: the
 * ceiling of any agent that searches this way). */
int ws_episode_target_rank(const ws_episode *ep);
/* The text of the last search, lower-cased as the engine took it; NULL before the first. */
const char *ws_episode_query(const ws_episode *ep);
/* The value index chosen for option o of the current item, or -1. */
int ws_episode_chosen(const ws_episode *ep, size_t o);
/* The key of the episode's current state (loop removal and replay, lib/train/prune): the page,
 * the observation and what the observation need not show but later transitions depend on: the
 * search results and the results page (`< prev` from an item page goes back there), the item and
 * its chosen options, and with `with_opened` (text_rich mode, where results pages mark opened
 * products) the products the pages mark opened (those since the episode or its last Back to
 * Search began). Malloc'd; NULL when memory runs out. */
char *ws_episode_state_key(ws_episode *ep, int with_opened);
const ws_product *ws_episode_item(const ws_episode *ep);
/* Make *dst the same episode as src, state and all, for what-if play (the oracle's outcome of an
 * action, lib/play/policy): *dst NULL makes a new episode on src's environment and options; an
 * earlier copy (of an episode on the same environment) is reused. 0, or -1 with err. */
int ws_episode_copy(ws_episode **dst, const ws_episode *src, ws_err *err);
/* The catalog's product with this ASIN, or NULL. */
const ws_product *ws_episode_find_product(const ws_episode *ep, const char *asin);
/* The most option values a purchase counts (products have far fewer option groups). */
#define WS_MAX_CHOSEN 64
/* The reward buying product p with these option values would get on the episode's goal (the
 * rule Buy Now applies). 0, or -1 with err. */
int ws_episode_reward_of(const ws_episode *ep, const ws_product *p, const char *const *values, size_t n,
                         ws_reward *out, ws_err *err);

#endif
