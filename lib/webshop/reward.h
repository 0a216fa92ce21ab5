/* reward: WebShop's get_reward for a purchase, with every component.
 *
 *   r = (n_att_matched + n_option_matched + price_ok) / (n_goal_attrs + n_goal_options + 1) * r_type
 *
 * Attributes match by token_set_ratio > 85 with a product attribute, or as a substring of the
 * lower-cased title, bullet points or description; options by token_set_ratio > 85 after
 * normalize_color (synthetic goals compare the (name, value) pair as WebShop does); price_ok
 * when the price is at most price_upper (always without a limit); r_type from the query,
 * shared category levels and the title's noun score (lib/text/nouns). */
#ifndef WS_REWARD_H
#define WS_REWARD_H

#include <stddef.h>

#include "catalog.h"
#include "goals.h"
#include "nouns.h"

typedef struct ws_reward {
    double reward;
    double r_type, r_att, r_option, r_price, title_score;
    int has_r_option; /* 0 when the goal has no options (WebShop's None) */
    int query_match, category_match;
    size_t n_att_matched, n_attributes, n_option_matched, n_options;
} ws_reward;

/* Chosen options: parallel arrays of option names and values (names may be NULL). */
int ws_reward_compute(const ws_nouns *nouns, const ws_goal *goal, const ws_product *product,
                      const char *const *chosen_values, size_t n_chosen, double price,
                      ws_reward *out);

#endif
