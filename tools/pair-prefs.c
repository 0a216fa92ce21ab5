/* pair-prefs: per-state preference pairs from preferred trajectories (docs/webshop.md, section 5): chosen = the
 * trajectory's action, rejected = what a reference policy would do instead, or a random other
 * action. The work is lib/train/pairs'. */
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "backend.h"
#include "checkpoint.h"
#include "cli.h"
#include "encode.h"
#include "inputs.h"
#include "interrupt.h"
#include "modelio.h"
#include "playopts.h"
#include "pairs.h"
#include "progress.h"
#include "stream.h"
#include "trajectory.h"
#include "wordpiece.h"

static void usage(void)
{
    printf("Usage: pair-prefs --rejected random [OPTION]... [TRAJECTORIES]...\n"
           "  or:  pair-prefs --ref CKPT [--rejected sample|argmax] [OPTION]... [TRAJECTORIES]...\n"
           "  or:  pair-prefs --rejected agent [--ref CKPT --ref-logps] [OPTION]... [TRAJECTORIES]...\n"
           "Write one pair record per state of the preferred trajectories (stdin or files, e.g. from\n"
           "gen-traj), in input order: chosen = the trajectory's action in that state, rejected =\n\n"
           "  sample   a draw from the reference model's policy (seeded per state), or\n"
           "  argmax   the reference's most likely action; where either is the chosen action,\n"
           "           the reference's next best action by its log-probabilities\n"
           "           (source \"reference-next-best\")\n"
           "  random   a uniformly random other valid action (no model needed)\n\n"
           "so rejected never equals chosen. Relabelled on-policy states instead, with\n"
           "  agent    trajectories of an agent that carry the oracle's action at every state\n"
           "           (rollout --oracle-labels): chosen = the oracle's action (oracle_index),\n"
           "           rejected = the agent's; a state where they agree gives no pair\n"
           "           (source \"agent\"; no model needed, --ref for --ref-logps).\n"
           "States with a single valid action (the search page)\n"
           "and steps whose action was not among the valid ones (action_index -1) give no pair.\n"
           "The reference encodes each observation and its actions as the agent does (lib/model/encode)\n"
           "and scores --batch states per forward pass. A summary (trajectories, states, pairs,\n"
           "states skipped, next-best picks) goes to stderr.\n\n"
           "      --ref CKPT       the reference model (a train-il/dpo/ppo checkpoint)\n"
           "      --rejected RULE  sample, argmax, random or agent [sample with --ref, else required]\n"
           "      --ref-logps      also record the reference's log-probabilities of both actions\n"
           "                       (ref_logp_chosen, ref_logp_rejected; needs --ref), so DPO\n"
           "                       need not run the reference again, and its checkpoint's\n"
           "                       checksum (ref_sha256), which train-dpo compares with its own\n"
           "      --batch N        states per forward pass [16]\n"
           "%s"
           "      --seed N         seed of the sample and random rules [0]; a state's draw depends\n"
           "                       only on (seed, goal_id, step)\n"
           "  -o, --output FILE    write to FILE (zstd when it ends in .zst) instead of stdout\n"
           "  -z, --zstd           compress the output with zstd\n"
           "  -q, --quiet          no progress or summary on stderr\n"
           "      --help, --version\n\n"
           WS_CLI_EXIT_STATUS_HELP "Interrupted, it keeps the complete records, as FILE.partial for -o FILE.\n",
           ws_play_model_usage());
}

static int put_pair(void *ctx, json_t *pair, ws_err *err)
{
    int rc = ws_writer_put(ctx, pair, err);
    json_decref(pair);
    return rc;
}

static noreturn void fail(const ws_cli *cli, ws_writer *w, const ws_err *err)
{
    ws_writer_discard(w);
    ws_cli_die(cli, WS_EXIT_FAIL, "%s", err->msg);
}

int main(int argc, char **argv)
{
    ws_cli_omp_wait(argv, WS_OMP_SPINCOUNT);
    ws_cli cli = {.tool = "pair-prefs"};
    const char *ref_path = NULL, *rule_name = NULL, *output = "-";
    ws_play_opts mo; /* the model options */
    ws_play_opts_default(&mo);
    ws_pairer_opts po = {.batch = 16};
    ws_writer_opts wo = {WS_COMPRESS_AUTO, 0};
    enum { OPT_REF = 256, OPT_REJECTED, OPT_REF_LOGPS, OPT_BATCH, OPT_SEED, OPT_HELP, OPT_VERSION };
    static const struct option longopts[] = {
        {"ref", required_argument, 0, OPT_REF}, {"rejected", required_argument, 0, OPT_REJECTED},
        {"ref-logps", no_argument, 0, OPT_REF_LOGPS}, {"batch", required_argument, 0, OPT_BATCH},
        {"seed", required_argument, 0, OPT_SEED}, {"output", required_argument, 0, 'o'},
        {"zstd", no_argument, 0, 'z'}, {"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, OPT_HELP},
        {"version", no_argument, 0, OPT_VERSION}, WS_PLAY_MODEL_LONGOPTS, {0, 0, 0, 0}};
    int c;
    while ((c = ws_cli_getopt(&cli, argc, argv, "o:zq", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_REF: ref_path = optarg; break;
        case OPT_REJECTED: rule_name = optarg; break;
        case OPT_REF_LOGPS: po.ref_logps = 1; break;
        case OPT_BATCH: po.batch = (int)ws_cli_long(&cli, "--batch", optarg, 1, 4096); break;
        case OPT_SEED: po.seed = ws_cli_long(&cli, "--seed", optarg, 0, 0x7fffffffL); break;
        case 'o': output = optarg; break;
        case 'z': wo.compress = WS_COMPRESS_YES; break;
        case 'q': cli.quiet = 1; break;
        case OPT_HELP: usage(); return 0;
        case OPT_VERSION: ws_cli_version(&cli); return 0;
        default:
            if (!ws_play_option(&mo, &cli, c, optarg))
                ws_cli_usage_error(&cli, "unknown option");
        }
    }
    if (!rule_name && !ref_path)
        ws_cli_usage_error(&cli, "give --ref CKPT (rejected = the reference's sample or argmax) or --rejected random");
    po.rule = WS_REJECT_SAMPLE;
    if (rule_name && ws_reject_parse(rule_name, &po.rule))
        ws_cli_usage_error(&cli, "--rejected: expected sample, argmax, random or agent, got '%s'", rule_name);
    if (po.rule != WS_REJECT_RANDOM && po.rule != WS_REJECT_AGENT && !ref_path)
        ws_cli_usage_error(&cli, "--rejected %s needs --ref CKPT", rule_name);
    if (po.ref_logps && !ref_path)
        ws_cli_usage_error(&cli, "--ref-logps needs --ref CKPT");

    ws_interrupt_install();
    ws_err err;
    ws_vocab *vocab = NULL;
    po.max_state_len = mo.max_state_len;
    po.max_action_len = mo.max_action_len;
    char ref_sha256[65] = "";
    if (ref_path) {
        po.ref = ws_play_load_model(&mo, &cli, ref_path, &vocab);
        po.vocab = vocab;
        ws_ckpt_meta meta;
        if (ws_checkpoint_read_meta(ref_path, &meta, &err))
            ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
        snprintf(ref_sha256, sizeof ref_sha256, "%s", meta.data_sha256);
        ws_ckpt_meta_free(&meta);
        po.ref_sha256 = ref_sha256;
    }
    ws_pairer *pairer = ws_pairer_new(&po, &err);
    if (!pairer)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    ws_writer *w = ws_writer_open(output, &wo, &err);
    if (!w)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);

    ws_progress progress;
    ws_progress_start(&progress, cli.tool, "trajectories", 0, cli.quiet);
    ws_reader_opts ro = {.type = "trajectory", .version = WS_TRAJECTORY_VERSION};
    ws_inputs *in = ws_inputs_open((const char *const *)argv + optind, argc - optind, &ro, &err);
    if (!in)
        fail(&cli, w, &err);
    json_t *traj;
    int rc = WS_EOF;
    while (!ws_interrupted() && (rc = ws_inputs_next(in, &traj, &err)) == WS_RECORD) {
        char where[600];
        ws_inputs_where(in, where, sizeof where);
        int bad = ws_pairer_add(pairer, traj, where, put_pair, w, &err);
        json_decref(traj);
        if (bad) {
            ws_inputs_close(in);
            fail(&cli, w, &err);
        }
        ws_progress_update(&progress, ws_pairer_stats(pairer)->trajectories);
    }
    ws_inputs_close(in);
    if (rc == WS_ERROR)
        fail(&cli, w, &err);
    if (!ws_interrupted() && ws_pairer_finish(pairer, put_pair, w, &err))
        fail(&cli, w, &err);
    int status = ws_cli_close_output(&cli, w);
    ws_progress_end(&progress);
    if (!cli.quiet) {
        const ws_pair_stats *s = ws_pairer_stats(pairer);
        fprintf(stderr,
                "pair-prefs: %s: %ld trajectories, %ld states, %ld pairs; skipped %ld single-action states and %ld "
                "steps without a valid action; %ld rejected by the next-best rule; %ld where agent and oracle "
                "agree\n",
                po.rule == WS_REJECT_RANDOM ? "random" : po.rule == WS_REJECT_SAMPLE ? "reference sample"
                                                    : po.rule == WS_REJECT_ARGMAX ? "reference argmax" : "agent vs oracle",
                s->trajectories, s->states, s->pairs, s->single, s->unlabeled, s->next_best, s->agree);
    }
    ws_pairer_free(pairer);
    ws_model_free(po.ref);
    ws_vocab_free(vocab);
    return status;
}
