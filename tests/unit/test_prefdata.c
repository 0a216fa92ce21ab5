/* Unit tests of preference data (lib/train/prune, trajgen, human, pairs): loop removal on hand-made step lists (no loop, loops of length 1
 * and more, nested loops, loops through the search page) and on real episodes of a small catalog
 * with the replay check; the rules that pick the rejected action of a pair; the pairer; the
 * import of WebShop's human demonstrations. */
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
#include "env.h"
#include "goals.h"
#include "catalog_fixture.h"
#include "human.h"
#include "pairs.h"
#include "prune.h"
#include "trajgen.h"
#include "trajectory.h"

/* ------------------------------------------------------------------ loop removal, pure */

/* Prune states given as one letter per step ("ABCA D" style, spaces ignored) and compare the
 * kept step indices with `want` (-1 terminated). */
static void check_prune(const char *states, const int *want, long loops, long removed)
{
    const char *keys[64];
    char buf[64][2];
    size_t n = 0, keep[64];
    for (const char *s = states; *s; s++) {
        if (*s == ' ')
            continue;
        buf[n][0] = *s;
        buf[n][1] = 0;
        keys[n] = buf[n];
        n++;
    }
    ws_prune_stats st = {0};
    size_t m = ws_prune_loops(keys, n, keep, &st);
    size_t w = 0;
    while (want[w] >= 0)
        w++;
    assert_int_equal(m, w);
    for (size_t k = 0; k < m; k++)
        assert_int_equal(keep[k], want[k]);
    assert_int_equal(st.loops, loops);
    assert_int_equal(st.steps_removed, removed);
    /* the kept states are all different */
    for (size_t a = 0; a < m; a++)
        for (size_t b = a + 1; b < m; b++)
            assert_string_not_equal(keys[keep[a]], keys[keep[b]]);
}

static void test_prune_no_loop(void **state)
{
    (void)state;
    check_prune("SRIJB", (int[]){0, 1, 2, 3, 4, -1}, 0, 0);
    check_prune("A", (int[]){0, -1}, 0, 0);
    size_t keep[1];
    assert_int_equal(ws_prune_loops(NULL, 0, keep, NULL), 0);
}

static void test_prune_loop_of_one(void **state)
{
    (void)state;
    /* the same state twice in a row (an action that changed nothing): the first step goes */
    check_prune("SAAB", (int[]){0, 2, 3, -1}, 1, 1);
    /* three times: both earlier steps go, as one loop */
    check_prune("AAAB", (int[]){2, 3, -1}, 1, 2);
    /* at the very end */
    check_prune("SRII", (int[]){0, 1, 3, -1}, 1, 1);
}

static void test_prune_longer_loops(void **state)
{
    (void)state;
    /* S R I R I2: item, back to the results, another item */
    check_prune("SRIRJ", (int[]){0, 3, 4, -1}, 1, 2);
    /* a loop from the first step on */
    check_prune("ABCAD", (int[]){3, 4, -1}, 1, 3);
    /* two loops one after the other */
    check_prune("ABABCDCE", (int[]){2, 3, 6, 7, -1}, 2, 4);
}

static void test_prune_nested_loops(void **state)
{
    (void)state;
    /* A (B (C) B) A: the outer loop takes the inner one with it, counted once */
    check_prune("ABCBAD", (int[]){4, 5, -1}, 1, 4);
    /* a loop inside the kept part after an outer one: A B A C D C E */
    check_prune("ABACDCE", (int[]){2, 5, 6, -1}, 2, 4);
    /* overlapping revisits: A B A B C: jump to A's last visit, then B's */
    check_prune("ABABC", (int[]){2, 3, 4, -1}, 1, 2);
}

static void test_prune_through_search_page(void **state)
{
    (void)state;
    /* search, results, item, back to search, search again, results, another item, buy:
     * S R I S R J K: the detour from the first search page to the second goes */
    check_prune("SRISRJK", (int[]){3, 4, 5, 6, -1}, 1, 3);
    /* two rounds through the search page */
    check_prune("SRISRISRJ", (int[]){6, 7, 8, -1}, 1, 6);
}

static void test_step_key(void **state)
{
    (void)state;
    json_t *a = json_pack("{s:s, s:s}", "obs", "x", "page", "item");
    json_t *b = json_pack("{s:s, s:s}", "obs", "x", "page", "results");
    json_t *c = json_pack("{s:s}", "page", "item");
    char *ka = ws_step_key(a), *kb = ws_step_key(b);
    assert_string_not_equal(ka, kb);
    assert_null(ws_step_key(c));
    free(ka);
    free(kb);
    json_decref(a);
    json_decref(b);
    json_decref(c);
}

/* ------------------------------------------------------------------ loop removal on episodes */

/* Play the actions and record the episode as a trajectory record (with made-up log-probs on
 * steps after the first, to see them carried over). */
static json_t *play(ws_episode *ep, json_t *goal, const char *const *actions)
{
    ws_err err;
    ws_traj_builder b;
    assert_int_equal(ws_episode_reset(ep, goal, &err), 0);
    assert_int_equal(ws_traj_begin(&b), 0);
    for (int i = 0; actions[i]; i++) {
        ws_step st;
        assert_false(ws_episode_done(ep));
        assert_int_equal(ws_traj_step(&b, ep, NULL, actions[i], -1, i > 0, -0.01 * i, 0.5), 0);
        assert_int_equal(ws_episode_step(ep, actions[i], &st, &err), 0);
        assert_true(st.valid);
        ws_traj_after_step(&b, ep);
    }
    json_t *t = ws_traj_finish(&b, ep, "scripted", 3);
    json_object_set_new(t, "attempt", json_integer(2));
    return t;
}

static const char *action_of(const json_t *traj, size_t i)
{
    return json_string_value(json_object_get(json_array_get(json_object_get(traj, "steps"), i), "action"));
}

static ws_episode *episode(fixture *f, ws_obs_mode mode)
{
    ws_episode_opts o = {.max_steps = 100, .obs_mode = mode};
    ws_err err;
    ws_episode *ep = ws_episode_new(f->env, &o, &err);
    assert_non_null(ep);
    return ep;
}

static void test_prune_episode(void **state)
{
    fixture *f = *state;
    ws_episode *ep = episode(f, WS_OBS_TEXT), *check = episode(f, WS_OBS_TEXT);
    json_t *goal = table_goal();
    /* through the search page; results -> item -> results; a sub-page; an option changed and
     * changed back. In text mode the item page looks the same whatever is chosen: those states
     * differ, and cutting between them would lose the options. */
    const char *actions[] = {"search[oak table]", "click[back to search]", "search[oak table]", "click[b000table1]",
                             "click[< prev]", "click[b000table1]", "click[black]", "click[description]", "click[< prev]",
                             "click[large]", "click[natural]", "click[black]", "click[buy now]", NULL};
    json_t *traj = play(ep, goal, actions);
    assert_true(json_real_value(json_object_get(traj, "reward")) == 1.0);
    ws_err err;
    ws_prune_stats st = {0};
    json_t *pruned = ws_prune_trajectory(check, goal, traj, 0, &st, &err);
    assert_non_null(pruned);
    assert_ptr_not_equal(pruned, traj);
    const char *want[] = {"search[oak table]", "click[b000table1]", "click[black]", "click[large]", "click[buy now]"};
    json_t *steps = json_object_get(pruned, "steps");
    assert_int_equal(json_array_size(steps), 5);
    for (size_t i = 0; i < 5; i++)
        assert_string_equal(action_of(pruned, i), want[i]);
    assert_int_equal(json_integer_value(json_object_get(pruned, "n_steps")), 5);
    assert_true(json_real_value(json_object_get(pruned, "reward")) == 1.0);
    assert_true(json_is_true(json_object_get(pruned, "success")));
    assert_string_equal(json_string_value(json_object_get(pruned, "policy")), "scripted");
    assert_int_equal(json_integer_value(json_object_get(pruned, "seed")), 3);
    assert_int_equal(json_integer_value(json_object_get(pruned, "attempt")), 2);
    /* search page loop (2 steps), results loop (2), option loop via description (2) and the
     * natural/black one (2) */
    assert_int_equal(json_integer_value(json_object_get(pruned, "loops_removed")), 4);
    assert_int_equal(json_integer_value(json_object_get(pruned, "steps_removed")), 8);
    assert_int_equal(st.loops, 4);
    assert_int_equal(st.steps_removed, 8);
    assert_int_equal(st.replay_failed, 0);
    /* log-probs come from the step each action was taken at: "click[b000table1]" was step 5 */
    assert_float_equal(json_real_value(json_object_get(json_array_get(steps, 1), "logp")), -0.05, 1e-12);
    /* every action among its state's valid actions, but the search for "oak table", which is
     * not the instruction: the search page accepts it, it has no index */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(steps, 0), "action_index")), -1);
    for (size_t i = 1; i < 5; i++) {
        json_t *s = json_array_get(steps, i);
        size_t ix = (size_t)json_integer_value(json_object_get(s, "action_index"));
        assert_string_equal(json_string_value(json_array_get(json_object_get(s, "actions"), ix)), want[i]);
    }
    assert_int_equal(ws_traj_replay_check(check, goal, pruned, &err), 0);
    assert_int_equal(ws_traj_replay_check(check, goal, traj, &err), 0);

    /* a loop-free episode comes back as it was */
    json_t *again = ws_prune_trajectory(check, goal, pruned, 0, &st, &err);
    assert_ptr_equal(again, pruned);
    json_decref(again);

    /* a record whose replay shows other observations is kept whole, counted */
    json_t *bad = json_deep_copy(traj);
    json_t *s3 = json_array_get(json_object_get(bad, "steps"), 3);
    json_object_set_new(s3, "obs", json_string("something else"));
    json_t *same = ws_prune_trajectory(check, goal, bad, 0, &st, &err);
    assert_ptr_equal(same, bad);
    assert_int_equal(st.replay_failed, 1);
    assert_int_equal(ws_traj_replay_check(check, goal, bad, &err), 1);
    assert_non_null(strstr(err.msg, "step 4"));
    json_decref(same);
    json_decref(bad);

    json_decref(pruned);
    json_decref(traj);
    json_decref(goal);
    ws_episode_free(ep);
    ws_episode_free(check);
}

static void test_prune_episode_text_rich(void **state)
{
    fixture *f = *state;
    json_t *goal = table_goal();
    /* results page 1 -> page 2 -> a widget -> back to page 2 (the widget now marked) -> page 1
     * (looks as before: the widget is on page 2) -> page 2 -> the widget -> buy. */
    const char *actions[] = {"search[widget]", "click[next >]", "click[b00widgetk]", "click[< prev]", "click[< prev]",
                             "click[next >]", "click[b00widgetk]", "click[buy now]", NULL};
    for (int rich = 0; rich < 2; rich++) {
        ws_episode *ep = episode(f, rich ? WS_OBS_TEXT_RICH : WS_OBS_TEXT), *check = episode(f, rich ? WS_OBS_TEXT_RICH : WS_OBS_TEXT);
        json_t *traj = play(ep, goal, actions);
        ws_err err;
        ws_prune_stats st = {0};
        json_t *pruned = ws_prune_trajectory(check, goal, traj, rich, &st, &err);
        assert_non_null(pruned);
        assert_int_equal(st.replay_failed, 0);
        /* text_rich: the opened widget is part of the state, so page 1 after it is another
         * state; the item page is visited twice with the same state: cut between. text: the
         * first loop is page 1 -> page 1. Either way: search, next, the widget, buy. */
        json_t *steps = json_object_get(pruned, "steps");
        assert_int_equal(json_array_size(steps), 4);
        assert_string_equal(action_of(pruned, 1), "click[next >]");
        assert_string_equal(action_of(pruned, 2), "click[b00widgetk]");
        assert_string_equal(action_of(pruned, 3), "click[buy now]");
        assert_true(json_real_value(json_object_get(pruned, "reward")) == json_real_value(json_object_get(traj, "reward")));
        assert_int_equal(ws_traj_replay_check(check, goal, pruned, &err), 0);
        json_decref(pruned);
        json_decref(traj);
        ws_episode_free(ep);
        ws_episode_free(check);
    }
    json_decref(goal);
}

static void test_gen_oracle(void **state)
{
    fixture *f = *state;
    json_t *goals[2] = {table_goal(), table_goal()};
    json_object_set_new(goals[1], "goal_id", json_integer(8));
    json_object_set_new(goals[1], "asin", json_string("B000NOPE00")); /* not in the catalog */
    json_object_set_new(goals[1], "name", json_string("Gizmo"));
    ws_gen_opts o = {.episode = {.max_steps = 15}, .parallel = 4, .seed = 1, .attempts = 3, .min_reward = 1.0, .prune = 1};
    ws_err err;
    ws_gen *g = ws_gen_new(f->env, &o, &err);
    assert_non_null(g);
    json_t *out[2];
    int attempts[2];
    ws_prune_stats st[2];
    assert_int_equal(ws_gen_play(g, goals, 2, out, attempts, st, &err), 0);
    assert_non_null(out[0]);
    assert_true(json_real_value(json_object_get(out[0], "reward")) == 1.0);
    assert_string_equal(json_string_value(json_object_get(out[0], "policy")), "oracle");
    assert_int_equal(json_integer_value(json_object_get(out[0], "attempt")), 1);
    assert_int_equal(attempts[0], 1); /* the oracle has one attempt */
    assert_int_equal(attempts[1], 1);
    json_decref(out[0]);
    json_decref(out[1]);
    ws_gen_free(g);
    json_decref(goals[0]);
    json_decref(goals[1]);
    assert_int_equal(ws_gen_attempt_seed(5, 3, 1), 5003);
    assert_int_equal(ws_gen_attempt_seed(5, 0, 0), 5);
}

/* ------------------------------------------------------------------ pair rules */

static void test_next_best(void **state)
{
    (void)state;
    double lp[] = {-2.0, -0.5, -0.5, -3.0};
    assert_int_equal(ws_next_best(lp, 4, 1), 2);
    assert_int_equal(ws_next_best(lp, 4, 2), 1);
    assert_int_equal(ws_next_best(lp, 4, 0), 1); /* ties: the lowest index */
    assert_int_equal(ws_next_best(lp, 1, 0), -1);
}

static void test_reject_argmax(void **state)
{
    (void)state;
    double lp[] = {-2.0, -0.1, -3.0, -1.0};
    ws_rng rng;
    ws_rng_seed(&rng, 1, "t");
    ws_pair_source src;
    /* the reference's pick differs from the chosen action: it is the rejected one */
    assert_int_equal(ws_pick_rejected(WS_REJECT_ARGMAX, lp, 4, 0, &rng, &src), 1);
    assert_int_equal(src, WS_SRC_REFERENCE_ARGMAX);
    /* it equals the chosen one: the next best */
    assert_int_equal(ws_pick_rejected(WS_REJECT_ARGMAX, lp, 4, 1, &rng, &src), 3);
    assert_int_equal(src, WS_SRC_REFERENCE_NEXT_BEST);
    assert_string_equal(ws_pair_source_name(src), "reference-next-best");
    /* degenerate states */
    assert_int_equal(ws_pick_rejected(WS_REJECT_ARGMAX, lp, 1, 0, &rng, &src), -1);
    assert_int_equal(ws_pick_rejected(WS_REJECT_ARGMAX, lp, 4, 4, &rng, &src), -1);
    assert_int_equal(ws_pick_rejected(WS_REJECT_RANDOM, NULL, 4, -1, &rng, &src), -1);
}

static void test_reject_sample(void **state)
{
    (void)state;
    /* a reference almost sure of the chosen action: its samples are the chosen one and turn
     * into the next best; never the chosen action */
    double peaked[] = {-30.0, -1e-9, -25.0, -20.0};
    double flat[] = {-1.3862944, -1.3862944, -1.3862944, -1.3862944};
    ws_rng rng;
    ws_rng_seed(&rng, 7, "t");
    ws_pair_source src;
    for (int i = 0; i < 200; i++) {
        assert_int_equal(ws_pick_rejected(WS_REJECT_SAMPLE, peaked, 4, 1, &rng, &src), 3);
        assert_int_equal(src, WS_SRC_REFERENCE_NEXT_BEST);
    }
    int counts[4] = {0}, next = 0;
    for (int i = 0; i < 4000; i++) {
        int r = ws_pick_rejected(WS_REJECT_SAMPLE, flat, 4, 2, &rng, &src);
        assert_true(r >= 0 && r < 4 && r != 2);
        counts[r]++;
        next += src == WS_SRC_REFERENCE_NEXT_BEST;
    }
    /* a quarter of the draws hit the chosen action and go to the next best (index 0, the
     * lowest of the tied): 1/4 + 1/4 there, 1/4 each for 1 and 3 */
    assert_true(next > 850 && next < 1150);
    assert_true(counts[0] > 1800 && counts[0] < 2200);
    assert_true(counts[1] > 850 && counts[1] < 1150);
    assert_true(counts[3] > 850 && counts[3] < 1150);
}

static void test_reject_random(void **state)
{
    (void)state;
    ws_rng rng;
    ws_pair_source src;
    int counts[5] = {0};
    ws_rng_seed(&rng, 3, "t");
    for (int i = 0; i < 5000; i++) {
        int r = ws_pick_rejected(WS_REJECT_RANDOM, NULL, 5, 3, &rng, &src);
        assert_true(r >= 0 && r < 5 && r != 3);
        assert_int_equal(src, WS_SRC_RANDOM);
        counts[r]++;
    }
    for (int k = 0; k < 5; k++)
        if (k != 3)
            assert_true(counts[k] > 1100 && counts[k] < 1400); /* uniform over the 4 others */
    /* two actions: always the other one */
    for (int i = 0; i < 50; i++)
        assert_int_equal(ws_pick_rejected(WS_REJECT_RANDOM, NULL, 2, 0, &rng, &src), 1);
    ws_reject_rule rule;
    assert_int_equal(ws_reject_parse("argmax", &rule), 0);
    assert_int_equal(rule, WS_REJECT_ARGMAX);
    assert_int_equal(ws_reject_parse("best", &rule), -1);
}

typedef struct collected {
    json_t *pairs;
} collected;

static int collect(void *ctx, json_t *pair, ws_err *err)
{
    (void)err;
    return json_array_append_new(((collected *)ctx)->pairs, pair);
}

static json_t *hand_trajectory(void)
{
    /* search page (one action), results (3 actions), item (4), a step whose action was not
     * valid (-1), item again (2) */
    return json_pack("{s:s, s:i, s:i, s:s, s:s, s:i, s:["
                     "{s:s, s:[s], s:s, s:i},"
                     "{s:s, s:[s,s,s], s:s, s:i},"
                     "{s:s, s:[s,s,s,s], s:s, s:i},"
                     "{s:s, s:[s,s], s:s, s:i},"
                     "{s:s, s:[s,s], s:s, s:i}], s:f, s:b, s:i}",
                     "type", "trajectory", "v", 1, "goal_id", 42, "instruction", "i want a lamp", "policy", "oracle",
                     "seed", 0, "steps", "obs", "search page", "actions", "search[i want a lamp]", "action",
                     "search[i want a lamp]", "action_index", 0, "obs", "results", "actions", "click[back to search]",
                     "click[next >]", "click[b1]", "action", "click[b1]", "action_index", 2, "obs", "item", "actions",
                     "click[< prev]", "click[red]", "click[blue]", "click[buy now]", "action", "click[red]",
                     "action_index", 1, "obs", "item red", "actions", "click[red]", "click[buy now]", "action",
                     "click[green]", "action_index", -1, "obs", "item red", "actions", "click[red]", "click[buy now]",
                     "action", "click[buy now]", "action_index", 1, "reward", 1.0, "success", 1, "n_steps", 5);
}

static json_t *run_pairer(ws_reject_rule rule, long seed, int batch, const ws_pair_stats **stats_out, ws_pairer **keep)
{
    ws_pairer_opts o = {.rule = rule, .seed = seed, .batch = batch};
    ws_err err;
    ws_pairer *p = ws_pairer_new(&o, &err);
    assert_non_null(p);
    collected c = {json_array()};
    json_t *t = hand_trajectory();
    for (int i = 0; i < 3; i++)
        assert_int_equal(ws_pairer_add(p, t, "t:1", collect, &c, &err), 0);
    assert_int_equal(ws_pairer_finish(p, collect, &c, &err), 0);
    json_decref(t);
    if (stats_out) {
        *stats_out = ws_pairer_stats(p);
        *keep = p;
    } else
        ws_pairer_free(p);
    return c.pairs;
}

static void test_pairer_random(void **state)
{
    (void)state;
    const ws_pair_stats *st;
    ws_pairer *p;
    json_t *pairs = run_pairer(WS_REJECT_RANDOM, 5, 2, &st, &p);
    assert_int_equal(json_array_size(pairs), 9); /* 3 of each trajectory */
    assert_int_equal(st->trajectories, 3);
    assert_int_equal(st->states, 15);
    assert_int_equal(st->single, 3);
    assert_int_equal(st->unlabeled, 3);
    assert_int_equal(st->pairs, 9);
    size_t i;
    json_t *pair;
    const int steps[3] = {1, 2, 4};
    json_array_foreach(pairs, i, pair) {
        assert_string_equal(json_string_value(json_object_get(pair, "type")), "pair");
        assert_int_equal(json_integer_value(json_object_get(pair, "goal_id")), 42);
        assert_int_equal(json_integer_value(json_object_get(pair, "step")), steps[i % 3]);
        json_int_t ch = json_integer_value(json_object_get(pair, "chosen_index"));
        json_int_t rj = json_integer_value(json_object_get(pair, "rejected_index"));
        assert_true(ch != rj);
        assert_true(rj >= 0 && (size_t)rj < json_array_size(json_object_get(pair, "actions")));
        assert_string_equal(json_string_value(json_object_get(pair, "source")), "random");
        assert_null(json_object_get(pair, "ref_logp_chosen"));
    }
    /* a state's draw depends on (seed, goal_id, step) only: the same in all three copies, and
     * the same whatever the batch size */
    for (i = 0; i < 3; i++)
        assert_true(json_equal(json_array_get(pairs, i), json_array_get(pairs, i + 3)));
    json_t *other = run_pairer(WS_REJECT_RANDOM, 5, 16, NULL, NULL);
    assert_true(json_equal(pairs, other));
    json_decref(other);
    ws_pairer_free(p);
    json_decref(pairs);

    /* bad records add nothing and name the step */
    ws_pairer_opts o = {.rule = WS_REJECT_RANDOM};
    ws_err err;
    p = ws_pairer_new(&o, &err);
    collected c = {json_array()};
    json_t *t = hand_trajectory();
    json_object_set_new(json_array_get(json_object_get(t, "steps"), 2), "action_index", json_integer(4));
    assert_int_equal(ws_pairer_add(p, t, "f.jsonl:3", collect, &c, &err), -1);
    assert_non_null(strstr(err.msg, "f.jsonl:3: step 2: action_index 4 outside the 4 actions"));
    json_object_del(json_array_get(json_object_get(t, "steps"), 2), "obs");
    assert_int_equal(ws_pairer_add(p, t, "f.jsonl:3", collect, &c, &err), -1);
    assert_non_null(strstr(err.msg, "no \"obs\""));
    assert_int_equal(ws_pairer_finish(p, collect, &c, &err), 0);
    assert_int_equal(json_array_size(c.pairs), 0);
    json_decref(t);
    json_decref(c.pairs);
    ws_pairer_free(p);

    /* the reference rules need a model */
    o.rule = WS_REJECT_ARGMAX;
    assert_null(ws_pairer_new(&o, &err));
}

/* ------------------------------------------------------------------ human demonstrations */

static const char human_line[] =
    "{\"states\": [\"WebShop\\nInstruction:\\ni need a \\\"Red\\\" lamp, and price lower than 40.00 dollars\\n"
    "[button] Search [button_]\", \"Instruction:\\ni need a red lamp\\n[button] Back to Search [button_]\\n"
    "[button] B001 [button_]\\nRed Lamp\", \"item page\", \"item page red\", \"done\"],"
    " \"actions\": [\"search[red lamp]\", \"click[b001]\", \"click[red]\", \"click[buy now]\"],"
    " \"available_actions\": [[\"search\"], [\"click[back to search]\", \"click[next >]\", \"click[b001]\"],"
    " [\"back to search\", \"< prev\", \"red\", \"blue\", \"buy now\"], [\"click[back to search]\", \"click[buy now]\"]],"
    " \"action_idxs\": [-1, 2, 0, 5], \"images\": [0, 0, 0, 0]}";

static void test_human_import(void **state)
{
    (void)state;
    json_error_t je;
    json_t *line = json_loads(human_line, 0, &je);
    assert_non_null(line);
    ws_err err;
    json_t *t = ws_human_trajectory(line, 12, &err);
    assert_non_null(t);
    assert_string_equal(json_string_value(json_object_get(t, "type")), "trajectory");
    assert_string_equal(json_string_value(json_object_get(t, "policy")), "human");
    assert_int_equal(json_integer_value(json_object_get(t, "goal_id")), 12);
    assert_string_equal(json_string_value(json_object_get(t, "instruction")),
                        "i need a \"Red\" lamp, and price lower than 40.00 dollars");
    assert_true(json_real_value(json_object_get(t, "reward")) == 0.0);
    assert_true(json_is_false(json_object_get(t, "success")));
    assert_true(json_is_false(json_object_get(t, "reward_known")));
    assert_int_equal(json_integer_value(json_object_get(t, "n_steps")), 4);
    json_t *steps = json_object_get(t, "steps");
    assert_int_equal(json_array_size(steps), 4);
    /* the search step: the typed query is the one action */
    json_t *s0 = json_array_get(steps, 0);
    assert_int_equal(json_array_size(json_object_get(s0, "actions")), 1);
    assert_string_equal(json_string_value(json_array_get(json_object_get(s0, "actions"), 0)), "search[red lamp]");
    assert_int_equal(json_integer_value(json_object_get(s0, "action_index")), 0);
    assert_string_equal(json_string_value(json_object_get(s0, "obs")),
                        json_string_value(json_array_get(json_object_get(line, "states"), 0)));
    /* the index as given */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(steps, 1), "action_index")), 2);
    /* bare clickable texts become click[...]; an index that does not name the action is
     * replaced by the action's place */
    json_t *s2 = json_array_get(steps, 2);
    assert_string_equal(json_string_value(json_array_get(json_object_get(s2, "actions"), 2)), "click[red]");
    assert_int_equal(json_integer_value(json_object_get(s2, "action_index")), 2);
    /* out of range: found by text */
    assert_int_equal(json_integer_value(json_object_get(json_array_get(steps, 3), "action_index")), 1);
    json_decref(t);

    /* a known reward is kept */
    json_object_set_new(line, "reward", json_real(1.0));
    t = ws_human_trajectory(line, 0, &err);
    assert_true(json_is_true(json_object_get(t, "success")));
    assert_true(json_is_true(json_object_get(t, "reward_known")));
    json_decref(t);

    /* not the format */
    json_object_del(line, "states");
    assert_null(ws_human_trajectory(line, 0, &err));
    assert_non_null(strstr(err.msg, "states"));
    json_decref(line);
}

static void test_instruction_matching(void **state)
{
    (void)state;
    char *s = ws_obs_instruction("WebShop [SEP] Instruction: [SEP] i want a lamp [SEP] Search");
    assert_string_equal(s, "i want a lamp");
    free(s);
    s = ws_obs_instruction("WebShop\nInstruction: \ni want a lamp\n[button] Search [button_]");
    assert_string_equal(s, "i want a lamp");
    free(s);
    s = ws_obs_instruction("  just text ");
    assert_string_equal(s, "just text");
    free(s);
    s = ws_instruction_norm("I want a \"Red\"  Lamp's  base, and price lower than 30.00 dollars", 1);
    assert_string_equal(s, "i want a red lamps base");
    free(s);

    ws_goal_index ix = {0};
    ws_err err;
    json_t *g1 = json_pack("{s:i, s:s}", "goal_id", 9, "instruction", "i want a lamp, and price lower than 30.00 dollars");
    json_t *g2 = json_pack("{s:i, s:s}", "goal_id", 4, "instruction", "i want a lamp, and price lower than 20.00 dollars");
    json_t *g3 = json_pack("{s:i, s:s}", "goal_id", 5, "instruction", "i want a chair");
    assert_int_equal(ws_goal_index_add(&ix, g1, &err), 0);
    assert_int_equal(ws_goal_index_add(&ix, g2, &err), 0);
    assert_int_equal(ws_goal_index_add(&ix, g3, &err), 0);
    assert_int_equal(ws_goal_index_find(&ix, "I want a LAMP, and price lower than 30.00 dollars"), 9);
    assert_int_equal(ws_goal_index_find(&ix, "i want a lamp, and price lower than 50.00 dollars"), 4); /* lowest id */
    assert_int_equal(ws_goal_index_find(&ix, "i want a chair"), 5);
    assert_int_equal(ws_goal_index_find(&ix, "i want a sofa"), -1);
    json_t *bad = json_pack("{s:s}", "instruction", "x");
    assert_int_equal(ws_goal_index_add(&ix, bad, &err), -1);
    json_decref(bad);
    json_decref(g1);
    json_decref(g2);
    json_decref(g3);
    ws_goal_index_free(&ix);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_prune_no_loop),
        cmocka_unit_test(test_prune_loop_of_one),
        cmocka_unit_test(test_prune_longer_loops),
        cmocka_unit_test(test_prune_nested_loops),
        cmocka_unit_test(test_prune_through_search_page),
        cmocka_unit_test(test_step_key),
        cmocka_unit_test(test_prune_episode),
        cmocka_unit_test(test_prune_episode_text_rich),
        cmocka_unit_test(test_gen_oracle),
        cmocka_unit_test(test_next_best),
        cmocka_unit_test(test_reject_argmax),
        cmocka_unit_test(test_reject_sample),
        cmocka_unit_test(test_reject_random),
        cmocka_unit_test(test_pairer_random),
        cmocka_unit_test(test_human_import),
        cmocka_unit_test(test_instruction_matching),
    };
    return cmocka_run_group_tests(tests, setup, teardown);
}
