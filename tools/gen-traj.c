/* gen-traj: preferred trajectories for imitation and preference training (docs/webshop.md, section 5): the
 * oracle expert's successful episodes, a model's rollouts kept by rejection sampling with their
 * loops removed, or WebShop's human demonstrations imported. The work is lib/train/trajgen's, prune's and human's. */
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "catalog.h"
#include "backend.h"
#include "cli.h"
#include "encode.h"
#include "env.h"
#include "goals.h"
#include "inputs.h"
#include "interrupt.h"
#include "modelio.h"
#include "playopts.h"
#include "human.h"
#include "prune.h"
#include "trajgen.h"
#include "progress.h"
#include "stream.h"
#include "trajectory.h"
#include "wordpiece.h"

static void usage(void)
{
    printf("Usage: gen-traj --oracle [OPTION]... [GOALS]...\n"
           "  or:  gen-traj --model CKPT [OPTION]... [GOALS]...\n"
           "  or:  gen-traj --import-human FILE [OPTION]... [GOALS]...\n"
           "Write preferred trajectories (trajectory records), one per goal at most, in the order of\n"
           "the goal records (stdin or GOALS files, e.g. `goals -s train`):\n\n"
           "  --oracle         the oracle expert plays each goal; its successful episodes are kept\n"
           "  --model CKPT     rejection sampling: the model plays each goal up to --attempts times,\n"
           "                   sampling at --temperature; the first successful episode is kept\n"
           "  --import-human FILE  WebShop's human demonstrations (il_trajs_finalized_images.jsonl:\n"
           "                   per line states, actions, available_actions, action_idxs), one\n"
           "                   record per line, policy \"human\"; the search step becomes the one\n"
           "                   action search[<query typed>]. Without a \"reward\" in the line the record\n"
           "                   says reward 0, success false, \"reward_known\": false. goal_id: the goal\n"
           "                   of GOALS (files only, '-' for stdin) with the same instruction (case,\n"
           "                   quotes and white space aside; else without the price clause), lines\n"
           "                   without one skipped; without GOALS, the line's 0-based index\n\n"
           "Successful = the episode ends with a purchase of reward exactly 1 (--min-reward lowers\n"
           "the bar). Loops are removed from every kept episode: where it comes back to a state it\n"
           "was in before (same page and observation text, and the same results, item and chosen\n"
           "options, which a text observation need not show), the detour between the first and the\n"
           "last visit is cut. The shortened action sequence is then replayed in a fresh episode:\n"
           "it is kept when every action is accepted, in the same state as when it was first taken,\n"
           "and the episode ends at its last action with the same reward; otherwise the episode is\n"
           "kept whole (a replay failure). Kept records carry \"attempt\" and, when shortened,\n"
           "\"loops_removed\" and \"steps_removed\". A summary (goals tried, trajectories kept, attempts,\n"
           "loops and steps removed) goes to stderr.\n\n"
           "  -n, --n N            stop after N trajectories [all goals]\n"
           "      --attempts K     episodes per goal at most, 1-%d [4]; attempt a (from 0) of --seed\n"
           "                       s plays with the seed s*%d+a (`rollout --model CKPT --seed\n"
           "                       s*%d+a` replays it)\n"
           "      --temperature T  sampling temperature of the model, > 0 [1]\n"
           "      --min-reward R   keep an episode ending with a purchase of reward >= R [1]\n"
           "      --no-prune       keep the episodes as played (no loop removal)\n"
           "      --parallel N     episodes in flight, scored in one batch [16]\n"
           "%s"
           "      --seed N         seed of the sampling, 0-%ld [0]\n"
           "%s"
           "  -o, --output FILE    write to FILE (zstd when it ends in .zst) instead of stdout\n"
           "  -z, --zstd           compress the output with zstd\n"
           "  -q, --quiet          no progress or summary on stderr\n"
           "      --help, --version\n\n"
           WS_CLI_EXIT_STATUS_HELP "Interrupted, it keeps the complete records, as FILE.partial for -o FILE.\n",
           WS_GEN_MAX_ATTEMPTS, WS_GEN_MAX_ATTEMPTS, WS_GEN_MAX_ATTEMPTS, ws_play_model_usage(),
           0x7fffffffL / WS_GEN_MAX_ATTEMPTS, ws_play_env_usage());
}

typedef struct totals {
    long goals, kept, attempts, loops, steps_removed, replay_failed;
} totals;

static noreturn void fail(const ws_cli *cli, ws_writer *w, const ws_err *err)
{
    ws_writer_discard(w);
    ws_cli_die(cli, WS_EXIT_FAIL, "%s", err->msg);
}

/* --import-human */
static int import_human(ws_cli *cli, const char *path, char **goal_files, int n_goal_files, long limit,
                        ws_writer *w)
{
    ws_err err;
    ws_goal_index ix = {0};
    ws_reader_opts go = {.type = "goal", .version = WS_GOAL_VERSION};
    ws_inputs *in = n_goal_files ? ws_inputs_open((const char *const *)goal_files, n_goal_files, &go, &err) : NULL;
    json_t *g;
    int rc = WS_EOF;
    if (n_goal_files && !in)
        fail(cli, w, &err);
    while (in && !ws_interrupted() && (rc = ws_inputs_next(in, &g, &err)) == WS_RECORD) {
        int bad = ws_goal_index_add(&ix, g, &err);
        json_decref(g);
        if (bad) {
            ws_inputs_fail_here(in, &err);
            ws_inputs_close(in);
            fail(cli, w, &err);
        }
    }
    ws_inputs_close(in);
    if (rc == WS_ERROR)
        fail(cli, w, &err);
    ws_reader_opts ho = {.type = NULL, .version = 0};
    ws_reader *r = ws_interrupted() ? NULL : ws_reader_open(path, &ho, &err);
    if (!r && !ws_interrupted())
        fail(cli, w, &err);
    long lines = 0, written = 0, unmatched = 0, steps = 0, unlabeled = 0, reward_known = 0;
    ws_progress progress;
    ws_progress_start(&progress, cli->tool, "lines", 0, cli->quiet);
    json_t *line;
    rc = WS_EOF;
    while (r && (limit <= 0 || written < limit) && (rc = ws_reader_next(r, &line, &err)) == WS_RECORD) {
        char where[512];
        snprintf(where, sizeof where, "%s:%ld", ws_reader_name(r), ws_reader_line(r));
        long goal_id = lines++;
        ws_progress_update(&progress, lines);
        if (n_goal_files) {
            json_t *ins = json_object_get(line, "instruction");
            const char *first = json_string_value(json_array_get(json_object_get(line, "states"), 0));
            char *text = json_is_string(ins) ? strdup(json_string_value(ins)) : first ? ws_obs_instruction(first) : NULL;
            goal_id = text ? ws_goal_index_find(&ix, text) : -1;
            free(text);
            if (goal_id < 0) {
                unmatched++;
                json_decref(line);
                continue;
            }
        }
        json_t *traj = ws_human_trajectory(line, goal_id, &err);
        json_decref(line);
        if (!traj) {
            ws_fail_prefix(&err, where);
            ws_reader_close(r);
            fail(cli, w, &err);
        }
        json_t *st = json_object_get(traj, "steps");
        for (size_t i = 0; i < json_array_size(st); i++)
            unlabeled += json_integer_value(json_object_get(json_array_get(st, i), "action_index")) < 0;
        steps += (long)json_array_size(st);
        reward_known += json_is_true(json_object_get(traj, "reward_known"));
        int bad = ws_writer_put(w, traj, &err);
        json_decref(traj);
        if (bad) {
            ws_reader_close(r);
            fail(cli, w, &err);
        }
        written++;
    }
    ws_reader_close(r);
    ws_goal_index_free(&ix);
    if (rc == WS_ERROR)
        fail(cli, w, &err);
    int status = ws_cli_close_output(cli, w);
    ws_progress_end(&progress);
    if (!cli->quiet)
        fprintf(stderr,
                "gen-traj: human: %ld lines, %ld trajectories, %ld steps (%ld with the action not among the "
                "available ones), %ld with a known reward, %ld not matched to a goal\n",
                lines, written, steps, unlabeled, reward_known, unmatched);
    return status;
}

int main(int argc, char **argv)
{
    ws_cli_omp_wait(argv, WS_OMP_SPINCOUNT);
    ws_cli cli = {.tool = "gen-traj"};
    const char *model_path = NULL, *human_path = NULL, *output = "-";
    int oracle = 0, prune = 1;
    long seed = 0, limit = 0, attempts = 4;
    double min_reward = 1.0;
    ws_play_opts po;
    ws_play_opts_default(&po);
    po.temperature = 1.0;
    po.min_temperature = 1e-6;
    ws_writer_opts wo = {WS_COMPRESS_AUTO, 0};
    enum { OPT_ORACLE = 256, OPT_HUMAN, OPT_ATTEMPTS, OPT_MIN_REWARD, OPT_NO_PRUNE, OPT_SEED, OPT_HELP,
           OPT_VERSION };
    static const struct option longopts[] = {
        {"oracle", no_argument, 0, OPT_ORACLE}, {"model", required_argument, 0, 'm'},
        {"import-human", required_argument, 0, OPT_HUMAN}, {"n", required_argument, 0, 'n'},
        {"attempts", required_argument, 0, OPT_ATTEMPTS}, {"min-reward", required_argument, 0, OPT_MIN_REWARD},
        {"no-prune", no_argument, 0, OPT_NO_PRUNE}, {"seed", required_argument, 0, OPT_SEED},
        {"output", required_argument, 0, 'o'}, {"zstd", no_argument, 0, 'z'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, OPT_HELP}, {"version", no_argument, 0, OPT_VERSION},
        WS_PLAY_AGENT_LONGOPTS, WS_PLAY_MODEL_LONGOPTS, WS_PLAY_ENV_LONGOPTS, {0, 0, 0, 0}};
    int c;
    while ((c = ws_cli_getopt(&cli, argc, argv, "m:n:d:o:zq", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_ORACLE: oracle = 1; break;
        case 'm': model_path = optarg; break;
        case OPT_HUMAN: human_path = optarg; break;
        case 'n': limit = ws_cli_long(&cli, "--n", optarg, 1, LONG_MAX); break;
        case OPT_ATTEMPTS: attempts = ws_cli_long(&cli, "--attempts", optarg, 1, WS_GEN_MAX_ATTEMPTS); break;
        case OPT_MIN_REWARD: min_reward = ws_cli_double(&cli, "--min-reward", optarg, 0, 1); break;
        case OPT_NO_PRUNE: prune = 0; break;
        case OPT_SEED: seed = ws_cli_long(&cli, "--seed", optarg, 0, 0x7fffffffL / WS_GEN_MAX_ATTEMPTS); break;
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
    if (oracle + !!model_path + !!human_path != 1)
        ws_cli_usage_error(&cli, "give one of --oracle, --model CKPT and --import-human FILE");
    ws_interrupt_install();
    ws_err err;
    if (human_path) {
        ws_writer *w = ws_writer_open(output, &wo, &err);
        if (!w)
            ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
        return import_human(&cli, human_path, argv + optind, argc - optind, limit, w);
    }

    char dirbuf[4096];
    const char *dir = ws_cli_data_dir(&cli, po.data, dirbuf, sizeof dirbuf);
    ws_vocab *vocab = NULL;
    ws_agent agent = ws_play_agent(&po);
    if (model_path) {
        agent.model = ws_play_load_model(&po, &cli, model_path, &vocab);
        agent.vocab = vocab;
    }
    ws_catalog cat;
    ws_env *env = ws_play_env_new(&po, &cli, dir, &cat);
    ws_gen_opts go = {.episode = po.episode, .parallel = (int)po.parallel, .seed = seed, .agent = model_path ? &agent : NULL,
                      .policy_name = model_path, .attempts = (int)attempts, .min_reward = min_reward, .prune = prune};
    ws_gen *gen = ws_gen_new(env, &go, &err);
    if (!gen)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    ws_writer *w = ws_writer_open(output, &wo, &err);
    if (!w)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);

    /* Goals are played in chunks: about as many as trajectories are still wanted, at least a
     * batch of the model's, at most 4 batches (64 goals for the oracle). */
    int max_chunk = model_path ? 4 * (int)po.parallel : 64;
    json_t **goals = calloc((size_t)max_chunk, sizeof *goals), **out = calloc((size_t)max_chunk, sizeof *out);
    int *att = calloc((size_t)max_chunk, sizeof *att);
    ws_prune_stats *pst = calloc((size_t)max_chunk, sizeof *pst);
    if (!goals || !out || !att || !pst)
        ws_cli_die(&cli, WS_EXIT_FAIL, "out of memory");
    totals t = {0};
    ws_progress progress;
    ws_progress_start(&progress, cli.tool, "goals", 0, cli.quiet);
    ws_reader_opts ro = {.type = "goal", .version = WS_GOAL_VERSION, .check = ws_goal_check_origin, .check_ctx = &cat};
    ws_inputs *in = ws_inputs_open((const char *const *)argv + optind, argc - optind, &ro, &err);
    if (!in)
        fail(&cli, w, &err);
    int pending = 0, rc = WS_RECORD, done = 0;
    while (rc == WS_RECORD && !done && !ws_interrupted()) {
        long want = limit > 0 ? limit - t.kept : max_chunk;
        int chunk = want < (model_path ? po.parallel : 1) ? (int)(model_path ? po.parallel : 1)
                    : want > max_chunk                  ? max_chunk
                                                        : (int)want;
        rc = ws_inputs_next_batch(in, goals, chunk, &pending, &err);
        if (rc == WS_ERROR || rc == WS_INTERRUPTED)
            break;
        int played = pending ? ws_gen_play(gen, goals, pending, out, att, pst, &err) : 0;
        if (played < 0) {
            ws_fail_prefix(&err, ws_inputs_name(in));
            ws_inputs_close(in);
            fail(&cli, w, &err);
        }
        int bad = 0;
        for (int k = 0; k < pending; k++) {
            if (played > 0 && !ws_gen_decided(gen, out[k], att[k]))
                done = 1; /* interrupted: the goals decided before this one are written */
            if (!done && !bad) { /* goals past the N-th kept trajectory do not count */
                t.goals++;
                t.attempts += att[k];
                if (out[k]) {
                    t.kept++;
                    t.loops += pst[k].loops;
                    t.steps_removed += pst[k].steps_removed;
                    t.replay_failed += pst[k].replay_failed;
                    bad = ws_writer_put(w, out[k], &err);
                    done = limit > 0 && t.kept >= limit;
                }
            }
            json_decref(out[k]);
            json_decref(goals[k]);
        }
        pending = 0;
        if (bad) {
            ws_inputs_close(in);
            fail(&cli, w, &err);
        }
        ws_progress_update(&progress, t.goals);
    }
    ws_inputs_close(in);
    if (rc == WS_ERROR)
        fail(&cli, w, &err);
    for (int k = 0; k < pending; k++)
        json_decref(goals[k]);
    int status = ws_cli_close_output(&cli, w);
    ws_progress_end(&progress);
    if (!cli.quiet) {
        double n = t.goals ? (double)t.goals : 1.0;
        fprintf(stderr,
                "gen-traj: %s: %ld goals tried, %ld trajectories kept (%.1f%%), %ld attempts, %ld loops removed "
                "(%ld steps), %ld replay failures (kept whole)\n",
                model_path ? model_path : "oracle", t.goals, t.kept, 100.0 * (double)t.kept / n, t.attempts, t.loops,
                t.steps_removed, t.replay_failed);
    }
    free(goals);
    free(out);
    free(att);
    free(pst);
    ws_gen_free(gen);
    ws_env_free(env);
    ws_catalog_free(&cat);
    ws_model_free(agent.model);
    ws_vocab_free(vocab);
    return status;
}
