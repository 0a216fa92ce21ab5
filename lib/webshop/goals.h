/* goals: WebShop's goals built from a catalog, shuffled and split.
 *
 * Synthetic goals follow WebShop's get_synthetic_goals: for each product with an instruction, one
 * goal per combination of its option values (option names sorted), sharing one price_upper drawn
 * from the first four multiples of 10 above the product's price (the larger of two distinct
 * draws; no price limit when fewer than two exist). Human goals come from the products'
 * "instructions" lists (WebShop's items_human_ins format). The goal list, in WebShop's order
 * (products in catalog order, combinations in itertools.product order), is shuffled exactly as
 * WebShop's `random.seed(seed); random.shuffle(goals)` (lib/base/pyrandom), and goal_id is the
 * position after the shuffle: test = goal_id 0..499, eval = 500..1499, train = the rest; with the
 * default seed 233 these are WebShop's own splits. Prices and price limits come from the seeded
 * stream "goal-prices" instead: WebShop draws them from the unseeded global generator before it
 * seeds, so no two of its runs agree on them.
 * A goal set holds what its goals are made from, not the goals: per product (or human goal) its
 * first goal's place in WebShop's order, its price limit and weight, and the shuffled order
 * (about 40 bytes a product and 8 a goal: some 110 MB for the 7.5 million synthetic goals of
 * 1.18M products, where the goal records would take gigabytes). ws_goals_get makes one goal
 * record (schemas/goal.schema.json) when asked; each names where it comes from (catalog_sha256,
 * seed), which tools that play goals check. */
#ifndef WS_GOALS_H
#define WS_GOALS_H

#include <jansson.h>
#include <stdint.h>

#include "catalog.h"
#include "err.h"
#include "schemas.h"

#define WS_TEST_GOALS 500
#define WS_EVAL_GOALS 1000

typedef enum { WS_GOALS_SYNTHETIC, WS_GOALS_HUMAN } ws_goal_source;

typedef struct ws_goal_set {
    size_t n; /* goals: goal_id 0 .. n - 1 */
    /* what they are made from (the catalog must outlive the set) */
    ws_catalog *cat;
    ws_goal_source source;
    uint64_t seed;
    const char *catalog_sha256;
    struct ws_goal_origin *origins; /* in WebShop's order */
    size_t n_origins;
    size_t *order; /* goal_id -> the goal's place in WebShop's order */
} ws_goal_set;

int ws_goals_build(ws_catalog *cat, ws_goal_source source, uint64_t seed, ws_goal_set *set,
                   ws_err *err);
/* The record of goal goal_id, made now (a new reference); NULL with err when out of range or out
 * of memory. The same goal gives the same record every time. */
json_t *ws_goals_get(const ws_goal_set *set, size_t goal_id, ws_err *err);
void ws_goals_free(ws_goal_set *set);

/* A goal record read back for an episode and its reward. Strings borrow from the record, which
 * the goal holds a reference to. Missing fields count as empty (the reward of a partial goal
 * can then be checked one component at a time). */
typedef struct ws_goal {
    json_t *record;
    long goal_id;
    const char *asin, *instruction, *query, *product_category, *name;
    const char **attributes;
    size_t n_attributes;
    /* Synthetic goals: option names and values (pairs). Human goals: plain option strings in
     * option_values, option_names all NULL. */
    const char **option_names, **option_values;
    size_t n_options;
    int has_price_upper;
    double price_upper;
} ws_goal;

int ws_goal_parse(json_t *record, ws_goal *goal, ws_err *err);
void ws_goal_clear(ws_goal *goal);

/* Whether a goal record can be played on `catalog` (a ws_catalog *): refused (-1, err) when it
 * names another catalog (catalog_sha256) or another seed than the catalog's prices (seed, the
 * catalog's --catalog-seed), since its product, options and price limit would then mean
 * something else and the episode would score nonsense; records without the fields pass. Shaped
 * for ws_reader_opts.check, which adds the file and line. */
int ws_goal_check_origin(const json_t *goal, void *catalog, ws_err *err);

/* "test", "eval" or "train" for a goal id. */
const char *ws_goal_split(long goal_id);
/* Parse a split name; -1 when unknown. "all" selects every goal. */
int ws_split_matches(const char *split, long goal_id);
int ws_split_valid(const char *split);

#endif
