#include "policy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "pystr.h"
#include "textmatch.h"

int ws_policy_parse(const char *name, ws_policy_kind *kind)
{
    if (strcmp(name, "random") == 0)
        *kind = WS_POLICY_RANDOM;
    else if (strcmp(name, "oracle") == 0)
        *kind = WS_POLICY_ORACLE;
    else
        return -1;
    return 0;
}

const char *ws_policy_name(ws_policy_kind kind)
{
    return kind == WS_POLICY_RANDOM ? "random" : "oracle";
}

static char *oom(ws_err *err)
{
    ws_fail(err, "out of memory");
    return NULL;
}

static char *act_random(ws_episode *ep, ws_rng *rng, ws_err *err)
{
    char *a;
    if (ws_episode_has_search_bar(ep))
        a = ws_action_search(ws_episode_goal(ep)->instruction);
    else if (ws_episode_n_clickables(ep) == 0)
        return ws_fail(err, "no action available"), NULL;
    else
        a = ws_action_click(ws_episode_clickable(ep, (size_t)ws_rng_below(rng, ws_episode_n_clickables(ep))));
    return a ? a : oom(err);
}

/* The result the oracle settles for when the target is not listed. */
static size_t best_lexical_match(const ws_episode *ep)
{
    const size_t *results;
    size_t n = ws_episode_results(ep, &results), best = 0;
    int best_score = -1;
    for (size_t i = 0; i < n; i++) {
        int s = ws_token_set_ratio(ws_episode_goal(ep)->name, ws_episode_result_product(ep, i)->title);
        if (s > best_score) {
            best_score = s;
            best = i;
        }
    }
    return best;
}

/* The value of `option` that the goal asks for: the exact value of the same-named goal option
 * when there is one, else the value that matches a goal option best (token_set_ratio > 85). */
static int wanted_value(const ws_goal *g, const ws_option *option)
{
    for (size_t k = 0; k < g->n_options; k++)
        if (g->option_names[k] && strcmp(g->option_names[k], option->name) == 0)
            for (size_t v = 0; v < option->n_values; v++)
                if (strcmp(option->values[v], g->option_values[k]) == 0)
                    return (int)v;
    int best = -1, best_score = 85;
    for (size_t k = 0; k < g->n_options; k++)
        for (size_t v = 0; v < option->n_values; v++) {
            int s = ws_token_set_ratio(option->values[v], g->option_values[k]);
            if (s > best_score) {
                best_score = s;
                best = (int)v;
            }
        }
    return best;
}

/* The reward of buying p with the values the oracle would choose on it. */
static int purchase_reward(const ws_episode *ep, const ws_product *p, double *reward, ws_err *err)
{
    const char *values[WS_MAX_CHOSEN];
    size_t n = 0;
    for (size_t o = 0; o < p->n_options && n < WS_MAX_CHOSEN; o++) {
        int v = wanted_value(ws_episode_goal(ep), &p->options[o]);
        if (v >= 0)
            values[n++] = p->options[o].values[v];
    }
    ws_reward r;
    if (ws_episode_reward_of(ep, p, values, n, &r, err))
        return -1;
    *reward = r.reward;
    return 0;
}

/* Whether the item in hand serves the goal as well as the target would (1, 0, -1 with err): the
 * oracle then buys it rather than going back for the target. */
static int serves_as_well(const ws_episode *ep, const ws_product *p, ws_err *err)
{
    const ws_product *target = ws_episode_find_product(ep, ws_episode_goal(ep)->asin);
    double here, there;
    if (!target)
        return 0;
    if (purchase_reward(ep, p, &here, err) || purchase_reward(ep, target, &there, err))
        return -1;
    return here >= there;
}

/* Whether the results in hand answer the oracle's own search (the instruction): 1, 0, -1 out of
 * memory. Other results (an agent's search) may not list the target where its own would. */
static int results_answer_instruction(const ws_episode *ep)
{
    const char *query = ws_episode_query(ep);
    if (!query)
        return 0;
    const char *instruction = ws_episode_goal(ep)->instruction;
    char *low = ws_py_lower(instruction, strlen(instruction), NULL);
    if (!low)
        return -1;
    int same = strcmp(low, query) == 0;
    free(low);
    return same;
}

static char *act_oracle(ws_episode *ep, ws_err *err)
{
    const ws_goal *g = ws_episode_goal(ep);
    char *a = NULL;
    int own_results = ws_episode_page(ep) == WS_PAGE_RESULTS || ws_episode_page(ep) == WS_PAGE_ITEM
                          ? results_answer_instruction(ep)
                          : 0;
    if (own_results < 0)
        return oom(err);
    switch (ws_episode_page(ep)) {
    case WS_PAGE_SEARCH:
        a = ws_action_search(g->instruction);
        break;
    case WS_PAGE_RESULTS: {
        const size_t *results;
        size_t n = ws_episode_results(ep, &results);
        int page = ws_episode_results_page(ep), rank = ws_episode_target_rank(ep);
        int last_page = n ? (int)((n - 1) / WS_RESULTS_PER_PAGE) + 1 : 1;
        if (rank < 0 && !own_results) {
            a = ws_action_click("back to search"); /* another search's results: search the instruction */
            break;
        }
        if (rank < 0 && ws_episode_max_results_page(ep) < last_page) {
            a = ws_action_click("next >"); /* pages on through all the results before settling */
            break;
        }
        if (n == 0) {
            a = ws_action_click("back to search"); /* nothing to buy: the step limit will end it */
            break;
        }
        size_t pick = rank >= 0 ? (size_t)rank : best_lexical_match(ep);
        int pick_page = (int)(pick / WS_RESULTS_PER_PAGE) + 1;
        if (pick_page > page)
            a = ws_action_click("next >");
        else if (pick_page < page)
            a = ws_action_click("< prev");
        else {
            char *low = strdup(ws_episode_result_product(ep, pick)->asin);
            if (!low)
                return oom(err);
            for (char *c = low; *c; c++)
                if (*c >= 'A' && *c <= 'Z')
                    *c = (char)(*c - 'A' + 'a');
            a = ws_action_click(low);
            free(low);
        }
        break;
    }
    case WS_PAGE_ITEM: {
        const ws_product *p = ws_episode_item(ep);
        int rank = ws_episode_target_rank(ep);
        int as_well = strcmp(p->asin, g->asin) != 0 ? serves_as_well(ep, p, err) : 1;
        if (as_well < 0)
            return NULL;
        if (!as_well) {
            /* neither the target nor as good: back to the results where the target is listed, to
             * the search when these results are not the instruction's, and where the
             * instruction's search does not list it, to the results unless this is the product
             * the oracle settles for */
            if (!own_results && rank < 0) {
                a = ws_action_click("back to search");
                break;
            }
            if (rank >= 0 || ws_episode_result_product(ep, best_lexical_match(ep)) != p) {
                a = ws_action_click("< prev");
                break;
            }
        }
        for (size_t o = 0; o < p->n_options && !a; o++) {
            /* by text: a value listed twice is chosen as its later copy (WebShop's click) */
            int v = wanted_value(g, &p->options[o]), c = ws_episode_chosen(ep, o);
            if (v >= 0 && (c < 0 || strcmp(p->options[o].values[c], p->options[o].values[v]) != 0))
                a = ws_action_click(p->options[o].values[v]);
        }
        if (!a)
            a = ws_action_click("buy now");
        break;
    }
    case WS_PAGE_DONE:
        return ws_fail(err, "the episode is over"), NULL;
    default:
        a = ws_action_click("< prev"); /* sub-pages: back to the item */
        break;
    }
    return a ? a : oom(err);
}

char *ws_policy_act(ws_policy_kind kind, ws_episode *ep, ws_rng *rng, ws_err *err)
{
    return kind == WS_POLICY_RANDOM ? act_random(ep, rng, err) : act_oracle(ep, err);
}

int ws_oracle_outcome(const ws_episode *ep, const char *action, ws_episode **scratch, ws_outcome *out, ws_err *err)
{
    if (ws_episode_copy(scratch, ep, err))
        return -1;
    ws_episode *w = *scratch;
    ws_step st;
    if (action && !ws_episode_done(w) && ws_episode_step(w, action, &st, err))
        return -1;
    while (!ws_episode_done(w)) {
        char *a = act_oracle(w, err);
        if (!a)
            return -1;
        int rc = ws_episode_step(w, a, &st, err);
        free(a);
        if (rc)
            return -1;
    }
    const ws_reward *r = ws_episode_reward(w); /* NULL: the step limit ended it, nothing bought */
    out->reward = r ? r->reward : 0;
    out->steps = ws_episode_steps(w);
    return 0;
}

int ws_outcome_at_least(const ws_outcome *a, const ws_outcome *b)
{
    return a->reward > b->reward || (a->reward == b->reward && a->steps <= b->steps);
}
