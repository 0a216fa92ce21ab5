/* Unit tests of lib/webshop/env and lib/webshop/reward on a small catalog the test writes itself: every page
 * type, every action kind (valid and not), option replacement, < prev from item and sub-pages,
 * paging past the last page, the step limit, text_rich, each reward component, the kinds of
 * decision; and the oracle policy (lib/play/policy) reaching reward 1 from off-track states.
 * test_webshop_pages: WebShop's own observations and action lists, quirks included, written by
 * hand from its templates and environment (docs/webshop.md, section 2), not copied from its output. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "catalog.h"
#include "catalog_fixture.h"
#include "env.h"
#include "goals.h"
#include "policy.h"
#include "reward.h"

static ws_episode *start(fixture *f, int max_steps, ws_obs_mode mode)
{
    ws_episode_opts o = {.max_steps = max_steps, .obs_mode = mode};
    ws_err err;
    ws_episode *ep = ws_episode_new(f->env, &o, &err);
    json_t *g = table_goal();
    assert_int_equal(ws_episode_reset(ep, g, &err), 0);
    json_decref(g);
    return ep;
}

static ws_step act(ws_episode *ep, const char *action)
{
    ws_step s;
    ws_err err;
    assert_int_equal(ws_episode_step(ep, action, &s, &err), 0);
    return s;
}

static int has_click(ws_episode *ep, const char *text)
{
    for (size_t i = 0; i < ws_episode_n_clickables(ep); i++)
        if (strcmp(ws_episode_clickable(ep, i), text) == 0)
            return 1;
    return 0;
}

static void test_search_page(void **state)
{
    ws_episode *ep = start(*state, 100, WS_OBS_TEXT);
    assert_int_equal(ws_episode_page(ep), WS_PAGE_SEARCH);
    assert_string_equal(ws_episode_observation(ep),
                        "WebShop [SEP] Instruction: [SEP] i want an oak console table [SEP] Search");
    assert_true(ws_episode_has_search_bar(ep));
    assert_int_equal(ws_episode_n_clickables(ep), 0); /* the Search button is not a click action */
    ws_step s = act(ep, "click[search]");
    assert_false(s.valid);
    assert_int_equal(ws_episode_page(ep), WS_PAGE_SEARCH);
    assert_int_equal(ws_episode_steps(ep), 1); /* an unavailable action still counts */
    assert_false(act(ep, "search[]").valid);
    assert_false(act(ep, "buy[oak]").valid);
    assert_false(act(ep, "search oak").valid);
    ws_episode_free(ep);
}

static void test_results_paging(void **state)
{
    ws_episode *ep = start(*state, 100, WS_OBS_TEXT);
    assert_true(act(ep, "search[Widget]").valid);
    assert_int_equal(ws_episode_page(ep), WS_PAGE_RESULTS);
    const char *obs = ws_episode_observation(ep);
    assert_non_null(strstr(obs, "Instruction: [SEP] i want an oak console table [SEP] Back to Search [SEP] "
                                "Page 1 (Total results: 14) [SEP] Next > [SEP] B00WIDGETN [SEP] Widget 13 [SEP] $5.0"));
    assert_null(strstr(obs, "< Prev"));
    assert_true(has_click(ep, "back to search") && has_click(ep, "next >") && !has_click(ep, "< prev"));
    assert_true(has_click(ep, "b00widgetn")); /* ASINs lower-cased */
    assert_int_equal(ws_episode_n_clickables(ep), 2 + 10);

    assert_true(act(ep, "click[next >]").valid);
    obs = ws_episode_observation(ep);
    assert_non_null(strstr(obs, "Page 2 (Total results: 14) [SEP] < Prev [SEP] Next > [SEP] "));
    assert_int_equal(ws_episode_n_clickables(ep), 3 + 4);
    assert_true(act(ep, "click[Next >]").valid); /* past the last page: no products, Next > still there */
    obs = ws_episode_observation(ep);
    assert_non_null(strstr(obs, "Page 3 (Total results: 14) [SEP] < Prev [SEP] Next >"));
    assert_null(strstr(obs, "Widget"));
    assert_int_equal(ws_episode_n_clickables(ep), 3);
    assert_true(act(ep, "click[< prev]").valid);
    assert_int_equal(ws_episode_results_page(ep), 2);
    assert_true(act(ep, "click[back to search]").valid);
    assert_int_equal(ws_episode_page(ep), WS_PAGE_SEARCH);
    ws_episode_free(ep);
}

static void test_item_options_and_subpages(void **state)
{
    ws_episode *ep = start(*state, 100, WS_OBS_TEXT);
    act(ep, "search[oak table]");
    assert_false(act(ep, "click[b00widgetz]").valid); /* not on the page */
    assert_true(act(ep, "click[b000table1]").valid);
    assert_int_equal(ws_episode_page(ep), WS_PAGE_ITEM);
    assert_string_equal(ws_episode_observation(ep),
                        "Instruction: [SEP] i want an oak console table [SEP] Back to Search [SEP] < Prev [SEP] "
                        "color [SEP] natural [SEP] black [SEP] size [SEP] small [SEP] large [SEP] Oak Console Table "
                        "[SEP] Price: $120.5 [SEP] Rating: N.A. [SEP] Description [SEP] Features [SEP] Reviews "
                        "[SEP] Buy Now");
    assert_true(has_click(ep, "natural") && has_click(ep, "large") && has_click(ep, "buy now") &&
                has_click(ep, "description") && !has_click(ep, "attributes"));
    assert_true(act(ep, "click[natural]").valid);
    assert_int_equal(ws_episode_chosen(ep, 0), 0);
    assert_true(act(ep, "click[black]").valid); /* replaces the choice for color */
    assert_int_equal(ws_episode_chosen(ep, 0), 1);
    assert_true(act(ep, "click[small]").valid);

    assert_true(act(ep, "click[description]").valid);
    assert_int_equal(ws_episode_page(ep), WS_PAGE_DESCRIPTION);
    assert_string_equal(ws_episode_observation(ep), "Instruction: [SEP] i want an oak console table [SEP] Back to "
                                                    "Search [SEP] < Prev [SEP] A solid oak table.");
    assert_false(act(ep, "click[buy now]").valid);
    assert_true(act(ep, "click[< prev]").valid); /* sub-page -> item, options kept */
    assert_int_equal(ws_episode_page(ep), WS_PAGE_ITEM);
    assert_int_equal(ws_episode_chosen(ep, 0), 1);
    act(ep, "click[features]");
    assert_non_null(strstr(ws_episode_observation(ep), "< Prev [SEP] Material: oak wood [SEP] Easy assembly"));
    act(ep, "click[< prev]");
    act(ep, "click[reviews]");
    assert_int_equal(ws_episode_page(ep), WS_PAGE_REVIEWS);
    assert_non_null(strstr(ws_episode_observation(ep), "< Prev [SEP] \"Great\" [SEP] 5 [SEP] Sturdy."));
    act(ep, "click[< prev]");
    assert_true(act(ep, "click[< prev]").valid); /* item -> its results page */
    assert_int_equal(ws_episode_page(ep), WS_PAGE_RESULTS);
    act(ep, "click[b000table1]"); /* reopened from the results: no option chosen */
    assert_int_equal(ws_episode_chosen(ep, 0), -1);
    ws_episode_free(ep);
}

static void test_buy_and_reward(void **state)
{
    ws_episode *ep = start(*state, 100, WS_OBS_TEXT);
    act(ep, "search[oak console table]");
    act(ep, "click[B000TABLE1]");
    act(ep, "click[black]");
    act(ep, "click[large]");
    ws_step s = act(ep, "click[Buy Now]");
    assert_true(s.valid && s.done);
    assert_true(s.reward == 1.0);
    const ws_reward *r = ws_episode_reward(ep);
    assert_int_equal(r->n_att_matched, 2);
    assert_int_equal(r->n_option_matched, 2);
    assert_true(r->query_match && r->category_match);
    assert_true(r->title_score == 1.0);
    ws_step again = act(ep, "click[back to search]"); /* the episode is over */
    assert_true(again.done);
    assert_int_equal(ws_episode_steps(ep), 5);
    ws_episode_free(ep);

    /* Unchosen options count as missed: (2 + 0 + 1) / (2 + 2 + 1). */
    ep = start(*state, 100, WS_OBS_TEXT);
    act(ep, "search[oak]");
    act(ep, "click[b000table1]");
    s = act(ep, "click[buy now]");
    assert_true(s.done);
    assert_float_equal(s.reward, 3.0 / 5.0, 1e-12);
    ws_episode_free(ep);
}

static void test_step_limit(void **state)
{
    ws_episode *ep = start(*state, 3, WS_OBS_TEXT);
    act(ep, "search[oak]");
    act(ep, "click[b000table1]");
    ws_step s = act(ep, "click[natural]");
    assert_true(s.done);
    assert_true(s.reward == 0.0);
    assert_null(ws_episode_reward(ep));
    assert_int_equal(ws_episode_n_clickables(ep), 0);
    ws_episode_free(ep);
}

static void test_decision_kinds(void **state)
{
    (void)state;
    const char *results = "Instruction: [SEP] x [SEP] Back to Search [SEP] Page 1 (Total results: 50) [SEP] Next >";
    const char *item = "Instruction: [SEP] x [SEP] Back to Search [SEP] < Prev [SEP] size [SEP] large [SEP] Buy Now";
    assert_int_equal(ws_decision_kind_of("search[red shoes]", "WebShop [SEP] Search"), WS_DECISION_SEARCH);
    assert_int_equal(ws_decision_kind_of("click[b01]", results), WS_DECISION_RESULTS);
    assert_int_equal(ws_decision_kind_of("click[next >]", results), WS_DECISION_NAVIGATION);
    assert_int_equal(ws_decision_kind_of("click[large]", item), WS_DECISION_OPTION);
    assert_int_equal(ws_decision_kind_of("click[buy now]", item), WS_DECISION_BUY);
    assert_int_equal(ws_decision_kind_of("click[< prev]", item), WS_DECISION_NAVIGATION);
    assert_int_equal(ws_decision_kind_of("click[reviews]", item), WS_DECISION_NAVIGATION);
    for (int k = 0; k < WS_N_DECISION_KINDS; k++) {
        ws_decision_kind back;
        assert_int_equal(ws_decision_kind_parse(ws_decision_kind_name((ws_decision_kind)k), &back), 0);
        assert_int_equal(back, k);
    }
    ws_decision_kind unused;
    assert_int_equal(ws_decision_kind_parse("options", &unused), -1);
}

/* Play `prefix` (an agent going astray), then the oracle until the episode ends. */
static double oracle_after(fixture *f, const char *const *prefix, int n_prefix, int *oracle_steps)
{
    ws_episode *ep = start(f, 100, WS_OBS_TEXT_RICH);
    for (int i = 0; i < n_prefix; i++)
        assert_true(act(ep, prefix[i]).valid);
    ws_step s = {0};
    ws_err err;
    for (*oracle_steps = 0; !s.done && *oracle_steps < 30; ++*oracle_steps) {
        char *a = ws_policy_act(WS_POLICY_ORACLE, ep, NULL, &err);
        assert_non_null(a);
        s = act(ep, a);
        assert_true(s.valid);
        free(a);
    }
    ws_episode_free(ep);
    return s.done ? s.reward : -1;
}

static void test_oracle_recovers(void **state)
{
    fixture *f = *state;
    int n;
    assert_true(oracle_after(f, NULL, 0, &n) == 1.0); /* from the start: search, open, 2 options, buy */
    assert_int_equal(n, 5);
    const char *wrong_options[] = {"search[i want an oak console table]", "click[b000table1]", "click[natural]",
                                   "click[small]"};
    assert_true(oracle_after(f, wrong_options, 4, &n) == 1.0);
    assert_int_equal(n, 3); /* black, large, buy */
    const char *sub_page[] = {"search[i want an oak console table]", "click[b000table1]", "click[large]",
                              "click[description]"};
    assert_true(oracle_after(f, sub_page, 4, &n) == 1.0);
    assert_int_equal(n, 3); /* < prev, black, buy */
    /* another search whose results do not list the target: its page, one of its products */
    const char *other_results[] = {"search[widget]", "click[next >]"};
    assert_true(oracle_after(f, other_results, 2, &n) == 1.0);
    assert_int_equal(n, 6); /* back to search, search, open, 2 options, buy */
    const char *other_product[] = {"search[widget]", "click[b00widgetn]"};
    assert_true(oracle_after(f, other_product, 2, &n) == 1.0);
    assert_int_equal(n, 6);
    /* a search that lists the target among others: a wrong product, then a later results page */
    const char *wrong_product[] = {"search[oak widget]", "click[b00widgeta]"};
    assert_true(oracle_after(f, wrong_product, 2, &n) == 1.0);
    const char *later_page[] = {"search[oak widget]", "click[next >]"};
    assert_true(oracle_after(f, later_page, 2, &n) == 1.0);
}

/* A copy is the same episode: same page, text, actions and state key; playing it leaves the source
 * as it was, and the source played the same way ends the same; a copy is reused for another. */
static void test_episode_copy(void **state)
{
    fixture *f = *state;
    ws_episode *ep = start(f, 100, WS_OBS_TEXT_RICH), *copy = NULL;
    ws_err err;
    const char *prefix[] = {"search[oak widget]", "click[b00widgeta]", "click[< prev]", "click[b000table1]",
                            "click[natural]"};
    for (int i = 0; i < 5; i++)
        assert_true(act(ep, prefix[i]).valid);
    assert_int_equal(ws_episode_copy(&copy, ep, &err), 0);
    char *key = ws_episode_state_key(ep, 1), *copy_key = ws_episode_state_key(copy, 1);
    assert_string_equal(key, copy_key);
    free(copy_key);
    char *obs = strdup(ws_episode_observation(ep));
    assert_string_equal(ws_episode_observation(copy), obs);
    assert_int_equal(ws_episode_n_clickables(copy), ws_episode_n_clickables(ep));
    assert_int_equal(ws_episode_steps(copy), 5);
    const char *rest[] = {"click[black]", "click[large]", "click[buy now]"};
    ws_step last = {0};
    for (int i = 0; i < 3; i++)
        last = act(copy, rest[i]);
    assert_true(last.done && last.reward == 1.0);
    char *key_after = ws_episode_state_key(ep, 1);
    assert_string_equal(key_after, key);
    assert_string_equal(ws_episode_observation(ep), obs);
    free(key_after);
    ws_step same = {0};
    for (int i = 0; i < 3; i++)
        same = act(ep, rest[i]);
    assert_true(same.done && same.reward == last.reward);
    assert_string_equal(ws_episode_observation(ep), ws_episode_observation(copy));
    /* reused: a copy of a fresh episode is on the search page again, nothing opened */
    ws_episode *fresh = start(f, 100, WS_OBS_TEXT_RICH);
    assert_int_equal(ws_episode_copy(&copy, fresh, &err), 0);
    assert_int_equal(ws_episode_page(copy), WS_PAGE_SEARCH);
    assert_false(ws_episode_done(copy));
    assert_true(act(copy, "search[oak widget]").valid);
    assert_true(act(fresh, "search[oak widget]").valid);
    assert_string_equal(ws_episode_observation(copy), ws_episode_observation(fresh)); /* none marked opened */
    free(key);
    free(obs);
    ws_episode_free(fresh);
    ws_episode_free(copy);
    ws_episode_free(ep);
}

/* What the oracle reaches after an action: the target's way is best; a wrong product costs the
 * steps back; another product that serves the goal as well is bought where it stands. */
static void test_oracle_outcome(void **state)
{
    fixture *f = *state;
    ws_err err;
    ws_episode *ep = start(f, 100, WS_OBS_TEXT_RICH), *scratch = NULL;
    assert_true(act(ep, "search[oak widget]").valid);
    ws_outcome own, wrong;
    assert_int_equal(ws_oracle_outcome(ep, NULL, &scratch, &own, &err), 0);
    assert_true(own.reward == 1.0);
    assert_int_equal(own.steps, 5); /* search, open, black, large, buy */
    assert_int_equal(ws_oracle_outcome(ep, "click[b00widgeta]", &scratch, &wrong, &err), 0);
    assert_true(wrong.reward == 1.0);
    assert_int_equal(wrong.steps, 7); /* the widget and < prev on the way */
    assert_true(ws_outcome_at_least(&own, &wrong));
    assert_false(ws_outcome_at_least(&wrong, &own));
    assert_int_equal(ws_episode_steps(ep), 1); /* ep itself untouched */
    /* a widget goal: widgets 2 and 3 differ only in their number, which the reward does not weigh */
    json_t *g = json_pack("{s:s, s:i, s:i, s:s, s:s, s:[], s:{}, s:f, s:s, s:s, s:s}", "type", "goal", "v", 1,
                          "goal_id", 8, "asin", "B00WIDGETC", "instruction", "i want a widget", "attributes",
                          "goal_options", "price_upper", 10.0, "query", "widgets", "product_category", "", "name",
                          "Widget");
    assert_int_equal(ws_episode_reset(ep, g, &err), 0);
    json_decref(g);
    ws_reward target, other;
    assert_int_equal(ws_episode_reward_of(ep, ws_episode_find_product(ep, "B00WIDGETC"), NULL, 0, &target, &err), 0);
    assert_int_equal(ws_episode_reward_of(ep, ws_episode_find_product(ep, "B00WIDGETD"), NULL, 0, &other, &err), 0);
    assert_true(target.reward == other.reward);
    assert_true(act(ep, "search[widget]").valid);
    assert_true(act(ep, "click[b00widgetd]").valid);
    char *a = ws_policy_act(WS_POLICY_ORACLE, ep, NULL, &err);
    assert_string_equal(a, "click[buy now]");
    free(a);
    ws_episode_free(scratch);
    ws_episode_free(ep);
}

static void test_text_rich(void **state)
{
    ws_episode *ep = start(*state, 100, WS_OBS_TEXT_RICH);
    act(ep, "search[oak console table]");
    act(ep, "click[b000table1]");
    act(ep, "click[black]");
    const char *obs = ws_episode_observation(ep);
    assert_non_null(strstr(obs, "You have clicked black.\n"));
    assert_non_null(strstr(obs, "\n[button] Back to Search [button_]\n[button] < Prev [button_]\ncolor\n"
                                "  [button] natural [button_]\n  [clicked button] black [clicked button_]\nsize\n"));
    act(ep, "click[< prev]");
    assert_non_null(strstr(ws_episode_observation(ep), "[clicked button] B000TABLE1 [clicked button_]"));
    ws_episode_free(ep);
}

static void assert_clicks(ws_episode *ep, const char *const *want, size_t n)
{
    assert_int_equal(ws_episode_n_clickables(ep), n);
    for (size_t i = 0; i < n; i++)
        assert_string_equal(ws_episode_clickable(ep, i), want[i]);
}

static void test_webshop_pages(void **state)
{
    ws_episode *ep = start(*state, 100, WS_OBS_TEXT_RICH);
    /* each text node on a line of its own, nothing stripped; the search page's "Instruction: " */
    assert_string_equal(ws_episode_observation(ep),
                        "WebShop\nInstruction: \ni want an oak console table\n[button] Search [button_]\n");
    act(ep, "search[oak console table]");
    assert_string_equal(ws_episode_observation(ep),
                        "Instruction:\ni want an oak console table\n[button] Back to Search [button_]\n"
                        "Page 1 (Total results: 1)\n[button] Next > [button_]\n"
                        "\n[button] B000TABLE1 [button_]\nOak Console Table\n$120.5\n");
    act(ep, "click[b000table1]");
    act(ep, "click[black]");
    act(ep, "click[large]");
    /* the chosen options announced last first; the buttons before the option values */
    assert_string_equal(ws_episode_observation(ep),
                        "You have clicked large.\nYou have clicked black.\n"
                        "Instruction:\ni want an oak console table\n[button] Back to Search [button_]\n"
                        "[button] < Prev [button_]\ncolor\n  [button] natural [button_]\n"
                        "  [clicked button] black [clicked button_]\nsize\n  [button] small [button_]\n"
                        "  [clicked button] large [clicked button_]\nOak Console Table\nPrice: $120.5\n"
                        "Rating: N.A.\n[button] Description [button_]\n[button] Features [button_]\n"
                        "[button] Reviews [button_]\n[button] Buy Now [button_]\n");
    const char *item_clicks[] = {"back to search", "< prev", "description", "features", "reviews",
                                 "buy now", "natural", "black", "small", "large"};
    assert_clicks(ep, item_clicks, 10);
    act(ep, "click[features]"); /* the template's space before each bullet stays */
    assert_string_equal(ws_episode_observation(ep), "Instruction:\ni want an oak console table\n"
                                                    "[button] Back to Search [button_]\n[button] < Prev [button_]\n"
                                                    " Material: oak wood\n Easy assembly\n");
    /* a search typed on any page runs */
    assert_true(act(ep, "search[pillow]").valid);
    assert_int_equal(ws_episode_page(ep), WS_PAGE_RESULTS);
    assert_non_null(strstr(ws_episode_observation(ep), "\n[button] B000PILLOW [button_]\n"));
    act(ep, "click[b000pillow]");
    act(ep, "click[< prev]");
    assert_non_null(strstr(ws_episode_observation(ep), "\n[clicked button] B000PILLOW [clicked button_]\n"));
    act(ep, "click[b000pillow]");
    act(ep, "click[16\" x 16\"]");
    act(ep, "click[caf\xc3\xa9]");
    act(ep, "click[red]");
    /* marked: what occurs in double quotes in json.dumps of the choices ({"size": "16\" x 16\"",
     * "color": "red"}): not the quoted or the non-ASCII value, both copies of red, and the value
     * "size" of another option */
    assert_string_equal(ws_episode_observation(ep),
                        "You have clicked size.\nYou have clicked red.\nYou have clicked red.\n"
                        "Instruction:\ni want an oak console table\n[button] Back to Search [button_]\n"
                        "[button] < Prev [button_]\nsize\n  [button] 16\" x 16\" [button_]\n"
                        "  [button] 20 x 20 [button_]\ncolor\n  [button] caf\xc3\xa9 [button_]\n"
                        "  [clicked button] red [clicked button_]\n  [clicked button] red [clicked button_]\n"
                        "style\n  [clicked button] size [clicked button_]\nPillow Cover\nPrice: $9.0\n"
                        "Rating: N.A.\n[button] Description [button_]\n[button] Features [button_]\n"
                        "[button] Reviews [button_]\n[button] Buy Now [button_]\n");
    const char *pillow_clicks[] = {"back to search", "< prev", "description", "features", "reviews", "buy now",
                                   "16\" x 16\"", "20 x 20", "caf\xc3\xa9", "red", "size"};
    assert_clicks(ep, pillow_clicks, 11);
    assert_int_equal(ws_episode_chosen(ep, 0), 0);
    assert_int_equal(ws_episode_chosen(ep, 1), 2); /* the later copy of red, as WebShop's dict keeps */
    assert_int_equal(ws_episode_chosen(ep, 2), -1);
    act(ep, "click[features]"); /* an empty bullet is a node of one space */
    assert_non_null(strstr(ws_episode_observation(ep), "[button] < Prev [button_]\n \n"));
    /* Back to Search forgets the products opened */
    act(ep, "click[back to search]");
    act(ep, "search[pillow]");
    assert_non_null(strstr(ws_episode_observation(ep), "\n[button] B000PILLOW [button_]\n"));
    ws_episode_free(ep);

    /* text: the same nodes stripped and joined, an empty bullet an empty piece */
    ep = start(*state, 100, WS_OBS_TEXT);
    act(ep, "search[pillow]");
    act(ep, "click[b000pillow]");
    act(ep, "click[features]");
    assert_string_equal(ws_episode_observation(ep), "Instruction: [SEP] i want an oak console table [SEP] Back to "
                                                    "Search [SEP] < Prev [SEP] ");
    act(ep, "click[< prev]");
    act(ep, "click[red]");
    act(ep, "click[buy now]");
    const char *done = ws_episode_observation(ep);
    assert_non_null(strstr(done, "Thank you for shopping with us! [SEP] Your code: [SEP] None [SEP] "
                                 "(Paste it in your MTurk interface.) [SEP] Purchased [SEP] asin [SEP] B000PILLOW "
                                 "[SEP] options [SEP] {\"color\": \"red\"} [SEP] attrs [SEP] None"));
    assert_non_null(strstr(done, " [SEP] Your score (min 0.0, max 1.0) [SEP] 0.0 [SEP] Reward Details [SEP] None"));
    ws_episode_free(ep);

    /* mark_chosen (off by default): exactly the values chosen are marked */
    ws_episode_opts o = {.obs_mode = WS_OBS_TEXT_RICH, .mark_chosen = 1};
    ws_err err;
    ep = ws_episode_new(((fixture *)*state)->env, &o, &err);
    json_t *g = table_goal();
    assert_int_equal(ws_episode_reset(ep, g, &err), 0);
    json_decref(g);
    act(ep, "search[pillow]");
    act(ep, "click[b000pillow]");
    act(ep, "click[16\" x 16\"]");
    act(ep, "click[red]");
    const char *obs = ws_episode_observation(ep);
    const char *top = "You have clicked red.\nYou have clicked 16\" x 16\".\nInstruction:\n";
    assert_true(strncmp(obs, top, strlen(top)) == 0);
    assert_non_null(strstr(obs, "  [clicked button] 16\" x 16\" [clicked button_]\n  [button] 20 x 20 [button_]\n"
                                "color\n  [button] caf\xc3\xa9 [button_]\n  [button] red [button_]\n"
                                "  [clicked button] red [clicked button_]\nstyle\n  [button] size [button_]\n"));
    ws_episode_free(ep);
}

/* ---- reward components on hand-made goals and products */

static ws_reward reward_of(fixture *f, json_t *goal, json_t *product, const char **values, size_t n, double price)
{
    ws_goal g;
    ws_product p;
    ws_err err;
    ws_reward r;
    assert_int_equal(ws_goal_parse(goal, &g, &err), 0);
    assert_int_equal(ws_product_parse(product, &p, "test", &err), 0);
    assert_int_equal(ws_reward_compute(ws_env_nouns(f->env), &g, &p, values, n, price, &r), 0);
    ws_goal_clear(&g);
    ws_product_clear(&p);
    json_decref(goal);
    json_decref(product);
    return r;
}

static void test_reward_attributes(void **state)
{
    /* one by fuzzy match with an attribute, one inside the title, one in a bullet point, one in the
     * description, one nowhere */
    json_t *goal = json_pack("{s:[s,s,s,s,s], s:s, s:s}", "attributes", "Machine Washable", "fleece", "zipper",
                             "pockets", "waterproof", "name", "hoodie", "query", "q");
    json_t *prod = json_pack("{s:[s], s:s, s:[s], s:s, s:s}", "Attributes", "machine washable!", "Title",
                             "Fleece Hoodie", "BulletPoints", "Full ZIPPER closure", "Description",
                             "two pockets", "query", "q");
    ws_reward r = reward_of(*state, goal, prod, NULL, 0, 10);
    assert_int_equal(r.n_att_matched, 4);
    assert_float_equal(r.r_att, 0.8, 1e-12);
    assert_false(r.has_r_option);
    assert_float_equal(r.reward, (4 + 0 + 1) / 6.0, 1e-12);
}

static void test_reward_options_and_price(void **state)
{
    json_t *goal = json_pack("{s:[], s:{s:s, s:s}, s:f, s:s, s:s}", "attributes", "goal_options", "size", "x-large",
                             "color", "navy blue", "price_upper", 20.0, "name", "shirt", "query", "q");
    json_t *prod = json_pack("{s:s, s:s}", "Title", "Shirt", "query", "q");
    const char *chosen[] = {"x-large", "navy"};
    ws_reward r = reward_of(*state, goal, prod, chosen, 2, 25.0);
    /* the goal pairs read "size x large" and "color navy blue": the chosen words are subsets */
    assert_int_equal(r.n_option_matched, 2);
    assert_true(r.r_price == 0.0);
    assert_float_equal(r.reward, 2.0 / 3.0, 1e-12);

    /* WebShop's normalize_color takes the first color of its list found as a substring: "dark navy"
     * becomes "dark", which no longer matches "color navy blue". */
    goal = json_pack("{s:[], s:{s:s}, s:s, s:s}", "attributes", "goal_options", "color", "navy blue", "name",
                     "shirt", "query", "q");
    prod = json_pack("{s:s, s:s}", "Title", "Shirt", "query", "q");
    const char *dark[] = {"dark navy"};
    r = reward_of(*state, goal, prod, dark, 1, 25.0);
    assert_int_equal(r.n_option_matched, 0);

    goal = json_pack("{s:[], s:[s], s:n, s:s, s:s}", "attributes", "goal_options", "16 ounce (pack of 2)",
                     "price_upper", "name", "shirt", "query", "q");
    prod = json_pack("{s:s, s:s}", "Title", "Shirt", "query", "q");
    const char *wrong[] = {"8 ounce"};
    r = reward_of(*state, goal, prod, wrong, 1, 1e6);
    assert_int_equal(r.n_option_matched, 0);
    assert_true(r.r_price == 1.0); /* no limit */
}

static void test_reward_type(void **state)
{
    /* query match: r_type 1 */
    json_t *goal = json_pack("{s:[], s:s, s:s, s:s}", "attributes", "name", "running shoes", "query", "shoes",
                             "product_category", "a");
    json_t *prod = json_pack("{s:s, s:s, s:s}", "Title", "Trail shoes", "query", "shoes", "product_category", "b");
    ws_reward r = reward_of(*state, goal, prod, NULL, 0, 0);
    assert_true(r.query_match && !r.category_match);
    assert_true(r.r_type == 1.0);
    /* two shared category levels */
    goal = json_pack("{s:[], s:s, s:s, s:s}", "attributes", "name", "running shoes", "query", "x",
                     "product_category", "Clothing \xe2\x80\xba Shoes \xe2\x80\xba Running");
    prod = json_pack("{s:s, s:s, s:s}", "Title", "Trail shoes", "query", "y", "product_category",
                     "Clothing \xe2\x80\xba  Shoes \xe2\x80\xba Trail");
    r = reward_of(*state, goal, prod, NULL, 0, 0);
    assert_true(r.category_match);
    assert_true(r.r_type == 1.0);
    /* no noun shared: title_score 0 gives r_type 0 whatever else matches */
    goal = json_pack("{s:[], s:s, s:s}", "attributes", "name", "running shoes", "query", "shoes");
    prod = json_pack("{s:s, s:s}", "Title", "Coffee table", "query", "shoes");
    r = reward_of(*state, goal, prod, NULL, 0, 0);
    assert_true(r.title_score == 0.0);
    assert_true(r.r_type == 0.0 && r.reward == 0.0);
    /* a share of the nouns at most 0.2 and nothing else matching: 0.5 */
    goal = json_pack("{s:[], s:s, s:s}", "attributes", "name", "table lamp desk chair sofa", "query", "a");
    prod = json_pack("{s:s, s:s}", "Title", "sofa", "query", "b");
    r = reward_of(*state, goal, prod, NULL, 0, 0);
    assert_true(r.title_score > 0.1 && r.title_score <= 0.2);
    assert_true(r.r_type == 0.5);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_search_page),
        cmocka_unit_test(test_results_paging),
        cmocka_unit_test(test_item_options_and_subpages),
        cmocka_unit_test(test_buy_and_reward),
        cmocka_unit_test(test_step_limit),
        cmocka_unit_test(test_decision_kinds),
        cmocka_unit_test(test_oracle_recovers),
        cmocka_unit_test(test_episode_copy),
        cmocka_unit_test(test_oracle_outcome),
        cmocka_unit_test(test_text_rich),
        cmocka_unit_test(test_webshop_pages),
        cmocka_unit_test(test_reward_attributes),
        cmocka_unit_test(test_reward_options_and_price),
        cmocka_unit_test(test_reward_type),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
