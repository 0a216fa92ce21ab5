/* Environment speed on one core: episodes of the random and oracle policies over every
 * synthetic goal (search included, no record I/O), and the latency of one search.
 * Usage: build/bench/env_bench [DATA_DIR] */
#include <stdio.h>
#include <stdlib.h>

#include "catalog.h"
#include "cli.h"
#include "env.h"
#include "goals.h"
#include "policy.h"
#include "progress.h"
#include "rng.h"

static void run_policy(ws_env *env, const ws_goal_set *goals, ws_policy_kind kind, int rounds)
{
    ws_err err;
    ws_episode_opts eo = {.max_steps = 15};
    ws_episode *ep = ws_episode_new(env, &eo, &err);
    long steps = 0, searches = 0, episodes = 0;
    double reward = 0, t0 = ws_now();
    for (int round = 0; round < rounds; round++)
        for (size_t g = 0; g < goals->n; g++) {
            ws_rng rng;
            ws_rng_seed(&rng, (uint64_t)g, "bench");
            json_t *goal = ws_goals_get(goals, g, &err);
            int failed = !goal || ws_episode_reset(ep, goal, &err);
            json_decref(goal);
            if (failed) {
                fprintf(stderr, "env_bench: goal %zu: %s\n", g, err.msg);
                exit(1);
            }
            while (!ws_episode_done(ep)) {
                searches += ws_episode_has_search_bar(ep);
                char *a = ws_policy_act(kind, ep, &rng, &err);
                ws_step s;
                if (!a || ws_episode_step(ep, a, &s, &err))
                    exit(1);
                free(a);
                (void)ws_episode_observation(ep); /* an agent reads every observation */
            }
            steps += ws_episode_steps(ep);
            const ws_reward *r = ws_episode_reward(ep);
            reward += r ? r->reward : 0;
            episodes++;
        }
    double dt = ws_now() - t0;
    printf("%-7s %6ld episodes %7ld steps (%5ld searches) %6.2f s  %8.0f steps/s  %7.0f episodes/s  score %.1f\n",
           ws_policy_name(kind), episodes, steps, searches, dt, (double)steps / dt, (double)episodes / dt,
           100.0 * reward / (double)episodes);
    ws_episode_free(ep);
}

int main(int argc, char **argv)
{
    char buf[4096];
    const char *dir = ws_data_dir(argc > 1 ? argv[1] : NULL, buf, sizeof buf);
    ws_err err;
    ws_catalog cat;
    ws_goal_set goals;
    if (!dir || ws_catalog_load(&cat, dir, 233, &err) || ws_goals_build(&cat, WS_GOALS_SYNTHETIC, 233, &goals, &err)) {
        fprintf(stderr, "env_bench: %s\n", dir ? err.msg : "no data");
        return 1;
    }
    double t0 = ws_now();
    ws_env *env = ws_env_new(&cat, NULL, &err);
    if (!env) {
        fprintf(stderr, "env_bench: %s\n", err.msg);
        return 1;
    }
    printf("environment built (index + noun lexicon) in %.3f s; %zu products, %zu goals, 1 thread\n",
           ws_now() - t0, cat.n, goals.n);

    size_t hits[WS_SEARCH_TOP], n;
    t0 = ws_now();
    for (size_t g = 0; g < goals.n; g++) {
        json_t *goal = ws_goals_get(&goals, g, &err);
        int failed = !goal || ws_env_search(env, json_string_value(json_object_get(goal, "instruction")), hits, &n, &err);
        json_decref(goal);
        if (failed) {
            fprintf(stderr, "env_bench: goal %zu: %s\n", g, err.msg);
            return 1;
        }
    }
    double dt = ws_now() - t0;
    printf("search: %zu goal instructions, %.1f us per query (top %d)\n", goals.n, 1e6 * dt / (double)goals.n,
           WS_SEARCH_TOP);
    run_policy(env, &goals, WS_POLICY_ORACLE, 1);
    run_policy(env, &goals, WS_POLICY_RANDOM, 1);
    ws_env_free(env);
    ws_goals_free(&goals);
    ws_catalog_free(&cat);
    return 0;
}
