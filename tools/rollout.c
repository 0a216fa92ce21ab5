/* rollout: run a policy on a stream of goals, one trajectory record per episode. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "catalog.h"
#include "cli.h"
#include "env.h"
#include "goals.h"
#include "inputs.h"
#include "interrupt.h"
#include "policy.h"
#include "progress.h"
#include "rng.h"
#include "schemas.h"
#include "stream.h"
#include "trajectory.h"
#include "agent.h"
#include "encode.h"
#include "modelio.h"
#include "playopts.h"
#include "runner.h"
#include "wordpiece.h"

static void usage(void)
{
    printf("Usage: rollout (--policy NAME | --model CKPT) [OPTION]... [GOALS]...\n"
           "Run one episode per goal record (stdin or GOALS files) and write one trajectory record\n"
           "per episode, in the order of the goals. A summary (success rate, score, mean steps)\n"
           "goes to stderr.\n\n"
           "  -p, --policy NAME    random (uniform over valid actions) or oracle (knows the goal)\n"
           "  -m, --model CKPT     the trained model as the policy (a train-il/dpo/ppo checkpoint)\n"
           "      --temperature T  sample from softmax(logits / T); 0 takes the argmax [0]\n"
           "      --oracle-labels  with --model: every step also records the oracle's judgement of\n"
           "                       that state (oracle_action, oracle_index): its own action, or\n"
           "                       the model's where the oracle, playing on from each, reaches as\n"
           "                       much reward in no more steps (both outcomes recorded), for\n"
           "                       relabelled pairs (pair-prefs --rejected agent) and DAgger\n"
           "                       (tokenize --oracle-target)\n"
           "      --parallel N     episodes in flight, scored in one batch [16]\n"
           "%s"
           "      --seed N         seed of the policy's random choices [0]\n"
           "%s"
           "      --summary FILE   also write summary records (success_rate, score, ...) to FILE\n"
           "  -o, --output FILE    write to FILE (zstd when it ends in .zst) instead of stdout\n"
           "  -z, --zstd           compress the output with zstd\n"
           "  -q, --quiet          no progress or summary on stderr\n"
           "      --help, --version\n\n"
           WS_CLI_EXIT_STATUS_HELP "Interrupted, it keeps the complete trajectories and their summary, as FILE.partial\n"
           "(the summary records marked \"interrupted\").\n",
           ws_play_model_usage(), ws_play_env_usage());
}

typedef struct totals {
    long episodes, successes, target_found;
    double reward_sum, steps_sum;
} totals;

static json_t *summary_record(const char *scope, const char *measure, double value, long count)
{
    return json_pack("{s:s, s:i, s:s, s:s, s:f, s:I}", "type", "summary", "v", WS_SUMMARY_VERSION, "scope", scope,
                     "measure", measure, "value", value, "count", (json_int_t)count);
}

/* After a signal, the summary of the episodes written goes, as they do, under the .partial name,
 * each record marked "interrupted". */
static int write_summary(const char *path, const char *scope, const totals *t, int oracle, int interrupted,
                         ws_err *err)
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
        if (recs[i] && interrupted)
            json_object_set_new(recs[i], "interrupted", json_true());
        if (recs[i] && rc == 0)
            rc = ws_writer_put(w, recs[i], err);
        json_decref(recs[i]);
    }
    if (rc) {
        ws_writer_discard(w);
        return -1;
    }
    return (interrupted ? ws_writer_close_partial : ws_writer_close)(w, err);
}

static void count(totals *t, json_t *traj)
{
    double reward = json_real_value(json_object_get(traj, "reward"));
    t->episodes++;
    t->successes += reward == 1.0;
    t->reward_sum += reward;
    t->steps_sum += (double)json_integer_value(json_object_get(traj, "n_steps"));
    t->target_found += json_integer_value(json_object_get(traj, "target_rank")) >= 0;
}

int main(int argc, char **argv)
{
    ws_cli_omp_wait(argv, WS_OMP_SPINCOUNT);
    ws_cli cli = {.tool = "rollout"};
    const char *policy_name = NULL, *model_path = NULL, *output = "-", *summary_path = NULL;
    long seed = 0;
    ws_play_opts po;
    ws_play_opts_default(&po);
    ws_writer_opts wo = {WS_COMPRESS_AUTO, 0};
    enum { OPT_SEED = 256, OPT_SUMMARY, OPT_ORACLE_LABELS, OPT_HELP, OPT_VERSION };
    int oracle_labels = 0;
    static const struct option longopts[] = {
        {"policy", required_argument, 0, 'p'}, {"model", required_argument, 0, 'm'},
        {"seed", required_argument, 0, OPT_SEED}, {"summary", required_argument, 0, OPT_SUMMARY},
        {"oracle-labels", no_argument, 0, OPT_ORACLE_LABELS}, {"output", required_argument, 0, 'o'}, {"zstd", no_argument, 0, 'z'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, OPT_HELP}, {"version", no_argument, 0, OPT_VERSION},
        WS_PLAY_AGENT_LONGOPTS, WS_PLAY_MODEL_LONGOPTS, WS_PLAY_ENV_LONGOPTS, {0, 0, 0, 0}};
    int c;
    while ((c = ws_cli_getopt(&cli, argc, argv, "p:m:d:o:zq", longopts, NULL)) != -1) {
        switch (c) {
        case 'p': policy_name = optarg; break;
        case 'm': model_path = optarg; break;
        case OPT_SEED: seed = ws_cli_long(&cli, "--seed", optarg, 0, 0x7fffffffL); break;
        case OPT_SUMMARY: summary_path = optarg; break;
        case OPT_ORACLE_LABELS: oracle_labels = 1; break;
        case 'o': output = optarg; break;
        case 'z': wo.compress = WS_COMPRESS_YES; break;
        case 'q': cli.quiet = 1; break;
        case OPT_HELP: usage(); return 0;
        case OPT_VERSION: ws_cli_version(&cli); return 0;
        default:
            if (!ws_play_option(&po, &cli, c, optarg))
                ws_cli_usage_error(&cli, "unknown option");
        }
    }
    ws_policy_kind policy = WS_POLICY_RANDOM;
    if (!policy_name == !model_path)
        ws_cli_usage_error(&cli, "give one of --policy (random or oracle) and --model CKPT");
    if (policy_name && ws_policy_parse(policy_name, &policy))
        ws_cli_usage_error(&cli, "--policy: expected random or oracle, got '%s'", policy_name);
    if (oracle_labels && !model_path)
        ws_cli_usage_error(&cli, "--oracle-labels labels a model's episodes: give --model CKPT");

    char dirbuf[4096];
    const char *dir = ws_cli_data_dir(&cli, po.data, dirbuf, sizeof dirbuf);
    ws_interrupt_install();
    ws_err err;
    ws_vocab *vocab = NULL;
    ws_agent agent = ws_play_agent(&po);
    if (model_path) {
        agent.model = ws_play_load_model(&po, &cli, model_path, &vocab);
        agent.vocab = vocab;
    }
    ws_catalog cat;
    ws_env *env = ws_play_env_new(&po, &cli, dir, &cat);
    ws_runner_opts ropts = {.episode = po.episode, .parallel = model_path ? (int)po.parallel : 1, .seed = seed,
                            .builtin = policy, .agent = model_path ? &agent : NULL, .policy_name = model_path,
                            .oracle_labels = oracle_labels};
    ws_runner *runner = ws_runner_new(env, &ropts, &err);
    if (!runner)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    ws_writer *w = ws_writer_open(output, &wo, &err);
    if (!w)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);

    int slots = ws_runner_parallel(runner);
    json_t **goals = calloc((size_t)slots, sizeof *goals), **trajs = calloc((size_t)slots, sizeof *trajs);
    if (!goals || !trajs)
        ws_cli_die(&cli, WS_EXIT_FAIL, "out of memory");
    totals t = {0};
    ws_progress progress;
    ws_progress_start(&progress, cli.tool, "episodes", 0, cli.quiet);
    ws_reader_opts ro = {.type = "goal", .version = WS_GOAL_VERSION, .check = ws_goal_check_origin, .check_ctx = &cat};
    int pending = 0, rc = WS_RECORD;
    ws_inputs *in = ws_inputs_open((const char *const *)argv + optind, argc - optind, &ro, &err);
    if (!in)
        goto fail;
    while (rc == WS_RECORD && !ws_interrupted()) {
        rc = ws_inputs_next_batch(in, goals, slots, &pending, &err);
        if (rc == WS_ERROR || rc == WS_INTERRUPTED)
            break;
        if (pending && ws_runner_play(runner, goals, pending, trajs, &err)) {
            ws_fail_prefix(&err, ws_inputs_name(in));
            ws_inputs_close(in);
            goto fail;
        }
        int bad = 0;
        for (int k = 0; k < pending; k++) {
            count(&t, trajs[k]);
            bad = bad || ws_writer_put(w, trajs[k], &err);
            json_decref(trajs[k]);
            json_decref(goals[k]);
        }
        pending = 0;
        if (bad) {
            ws_inputs_close(in);
            goto fail;
        }
        ws_progress_update(&progress, t.episodes);
    }
    ws_inputs_close(in);
    if (rc == WS_ERROR)
        goto fail;
    for (int k = 0; k < pending; k++)
        json_decref(goals[k]);
    int status = ws_cli_close_output(&cli, w);
    w = NULL;
    const char *scope = model_path ? model_path : ws_policy_name(policy);
    if (summary_path && write_summary(summary_path, scope, &t, !model_path && policy == WS_POLICY_ORACLE,
                                      ws_interrupted() != 0, &err))
        goto fail;
    if (!cli.quiet) {
        double n = t.episodes ? (double)t.episodes : 1.0;
        fprintf(stderr, "rollout: %s: %ld episodes, success %.1f%%, score %.1f, mean steps %.2f, target in results %.1f%%\n",
                scope, t.episodes, 100.0 * (double)t.successes / n, 100.0 * t.reward_sum / n, t.steps_sum / n,
                100.0 * (double)t.target_found / n);
    }
    free(goals);
    free(trajs);
    ws_runner_free(runner);
    ws_env_free(env);
    ws_catalog_free(&cat);
    ws_model_free(agent.model);
    ws_vocab_free(vocab);
    return status;
fail:
    ws_writer_discard(w);
    for (int k = 0; k < pending; k++)
        json_decref(goals[k]);
    free(goals);
    free(trajs);
    ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
}
