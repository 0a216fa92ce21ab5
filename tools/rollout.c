/* rollout: run a policy on a stream of goals, one trajectory record per episode. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cli.h"
#include "env.h"
#include "goals.h"
#include "interrupt.h"
#include "policy.h"
#include "progress.h"
#include "rng.h"
#include "stream.h"
#include "trajectory.h"

static void usage(void)
{
    printf("Usage: rollout --policy NAME [OPTION]... [GOALS]...\n"
           "Run one episode per goal record (stdin or GOALS files) and write one trajectory record\n"
           "per episode. A summary (success rate, score, mean steps) goes to stderr.\n\n"
           "  -p, --policy NAME    random (uniform over valid actions) or oracle (knows the goal)\n"
           "      --seed N         seed of the policy's random choices [0]\n"
           "      --max-steps N    step limit of an episode [15]\n"
           "      --obs MODE       observation mode: text or text_rich [text]\n"
           "      --catalog-seed N seed of the product prices; use the goals' --seed [233]\n"
           "  -d, --data DIR       catalog directory [$WEBSHOP_DATA or ../shared/webshop-1k]\n"
           "      --summary FILE   also write summary records (success_rate, score, ...) to FILE\n"
           "  -o, --output FILE    write to FILE (zstd when it ends in .zst) instead of stdout\n"
           "  -z, --zstd           compress the output with zstd\n"
           "  -q, --quiet          no progress or summary on stderr\n"
           "      --help, --version\n\n"
           "Exit status: 0 on success, 1 on bad input or I/O error, 2 on a usage error.\n");
}

typedef struct totals {
    long episodes, successes, target_found;
    double reward_sum, steps_sum;
} totals;

static json_t *summary_record(const char *scope, const char *measure, double value, long count)
{
    return json_pack("{s:s, s:i, s:s, s:s, s:f, s:I}", "type", "summary", "v", 1, "scope", scope,
                     "measure", measure, "value", value, "count", (json_int_t)count);
}

static int write_summary(const char *path, const char *scope, const totals *t, int oracle, ws_err *err)
{
    ws_writer *w = ws_writer_open(path, NULL, err);
    if (!w)
        return -1;
    double n = t->episodes ? (double)t->episodes : 1.0;
    json_t *recs[4] = {summary_record(scope, "success_rate", (double)t->successes / n, t->episodes),
                       summary_record(scope, "score", 100.0 * t->reward_sum / n, t->episodes),
                       summary_record(scope, "mean_steps", t->steps_sum / n, t->episodes),
                       oracle ? summary_record(scope, "target_in_results", (double)t->target_found / n,
                                               t->episodes)
                              : NULL};
    int rc = 0;
    for (int i = 0; i < 4; i++) {
        if (recs[i] && rc == 0)
            rc = ws_writer_put(w, recs[i], err);
        json_decref(recs[i]);
    }
    if (rc) {
        ws_writer_discard(w);
        return -1;
    }
    return ws_writer_close(w, err);
}

int main(int argc, char **argv)
{
    ws_cli cli = {.tool = "rollout"};
    const char *policy_name = NULL, *data = NULL, *output = "-", *summary_path = NULL;
    long seed = 0, catalog_seed = 233;
    ws_episode_opts eo = {.max_steps = 15, .obs_mode = WS_OBS_TEXT};
    ws_writer_opts wo = {WS_COMPRESS_AUTO, 0};
    enum { OPT_SEED = 256, OPT_MAX_STEPS, OPT_OBS, OPT_CATALOG_SEED, OPT_SUMMARY, OPT_HELP, OPT_VERSION };
    static const struct option longopts[] = {
        {"policy", required_argument, 0, 'p'}, {"seed", required_argument, 0, OPT_SEED},
        {"max-steps", required_argument, 0, OPT_MAX_STEPS}, {"obs", required_argument, 0, OPT_OBS},
        {"catalog-seed", required_argument, 0, OPT_CATALOG_SEED}, {"data", required_argument, 0, 'd'},
        {"summary", required_argument, 0, OPT_SUMMARY}, {"output", required_argument, 0, 'o'},
        {"zstd", no_argument, 0, 'z'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, OPT_HELP}, {"version", no_argument, 0, OPT_VERSION}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "p:d:o:zq", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': policy_name = optarg; break;
        case OPT_SEED: seed = ws_cli_long(&cli, "--seed", optarg, 0, 0x7fffffffL); break;
        case OPT_MAX_STEPS: eo.max_steps = (int)ws_cli_long(&cli, "--max-steps", optarg, 1, 100000); break;
        case OPT_OBS:
            if (strcmp(optarg, "text") == 0)
                eo.obs_mode = WS_OBS_TEXT;
            else if (strcmp(optarg, "text_rich") == 0)
                eo.obs_mode = WS_OBS_TEXT_RICH;
            else
                ws_cli_usage_error(&cli, "--obs: expected text or text_rich, got '%s'", optarg);
            break;
        case OPT_CATALOG_SEED: catalog_seed = ws_cli_long(&cli, "--catalog-seed", optarg, 0, 0x7fffffffL); break;
        case 'd': data = optarg; break;
        case OPT_SUMMARY: summary_path = optarg; break;
        case 'o': output = optarg; break;
        case 'z': wo.compress = WS_COMPRESS_YES; break;
        case 'q': cli.quiet = 1; break;
        case OPT_HELP: usage(); return 0;
        case OPT_VERSION: ws_cli_version(&cli); return 0;
        default: ws_cli_usage_error(&cli, "unknown option");
        }
    }
    ws_policy_kind policy;
    if (!policy_name)
        ws_cli_usage_error(&cli, "--policy is required (random or oracle)");
    if (ws_policy_parse(policy_name, &policy))
        ws_cli_usage_error(&cli, "--policy: expected random or oracle, got '%s'", policy_name);

    char dirbuf[4096];
    const char *dir = ws_data_dir(data, dirbuf, sizeof dirbuf);
    if (!dir)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s: no WebShop data directory (set --data or WEBSHOP_DATA)", dirbuf);
    ws_interrupt_install();
    ws_err err;
    ws_catalog cat;
    if (ws_catalog_load(&cat, dir, (uint64_t)catalog_seed, &err))
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    ws_env *env = ws_env_new(&cat, NULL, &err);
    ws_episode *ep = env ? ws_episode_new(env, &eo, &err) : NULL;
    if (!ep)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    ws_writer *w = ws_writer_open(output, &wo, &err);
    if (!w)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);

    totals t = {0};
    ws_progress progress;
    ws_progress_start(&progress, cli.tool, "episodes", 0, cli.quiet);
    ws_reader_opts ro = {.type = "goal", .version = WS_GOAL_VERSION};
    int n_inputs = optind < argc ? argc - optind : 1;
    for (int i = 0; i < n_inputs && !ws_interrupted(); i++) {
        const char *path = optind < argc ? argv[optind + i] : "-";
        ws_reader *r = ws_reader_open(path, &ro, &err);
        if (!r)
            goto fail;
        json_t *goal;
        int rc;
        while ((rc = ws_reader_next(r, &goal, &err)) == WS_RECORD) {
            ws_rng rng;
            json_t *g_id = json_object_get(goal, "goal_id");
            ws_rng_seed(&rng, (uint64_t)seed * 1000003u + (uint64_t)json_integer_value(g_id), "rollout");
            json_t *traj = NULL;
            int rank = -1;
            int bad = ws_episode_reset(ep, goal, &err) ||
                      !(traj = ws_run_episode(ep, policy, &rng, seed, &rank, &err));
            json_decref(goal);
            if (bad) {
                ws_fail_prefix(&err, path);
                ws_reader_close(r);
                goto fail;
            }
            double reward = json_real_value(json_object_get(traj, "reward"));
            t.episodes++;
            t.successes += reward == 1.0;
            t.reward_sum += reward;
            t.steps_sum += (double)ws_episode_steps(ep);
            t.target_found += rank >= 0;
            rc = ws_writer_put(w, traj, &err);
            json_decref(traj);
            if (rc) {
                ws_reader_close(r);
                goto fail;
            }
            ws_progress_update(&progress, t.episodes);
            if (ws_interrupted())
                break;
        }
        ws_reader_close(r);
        if (rc == WS_ERROR)
            goto fail;
    }
    int status = ws_cli_close_output(&cli, w);
    w = NULL;
    if (summary_path && write_summary(summary_path, ws_policy_name(policy), &t, policy == WS_POLICY_ORACLE, &err))
        goto fail;
    if (!cli.quiet) {
        double n = t.episodes ? (double)t.episodes : 1.0;
        fprintf(stderr, "rollout: %s: %ld episodes, success %.1f%%, score %.1f, mean steps %.2f", policy_name,
                t.episodes, 100.0 * (double)t.successes / n, 100.0 * t.reward_sum / n, t.steps_sum / n);
        if (policy == WS_POLICY_ORACLE)
            fprintf(stderr, ", target in results %.1f%%", 100.0 * (double)t.target_found / n);
        fprintf(stderr, "\n");
    }
    ws_episode_free(ep);
    ws_env_free(env);
    ws_catalog_free(&cat);
    return status;
fail:
    ws_writer_discard(w);
    ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
}
