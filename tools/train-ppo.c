/* train-ppo: on-policy PPO of the choice model with its own rollouts in the environment. */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cli.h"
#include "encode.h"
#include "goals.h"
#include "grow.h"
#include "inputs.h"
#include "interrupt.h"
#include "objectives.h"
#include "playopts.h"
#include "progress.h"
#include "rng.h"
#include "schemas.h"
#include "trainloop.h"
#include "wordpiece.h"

static void usage(const ws_train_opts *defaults)
{
    printf("Usage: train-ppo --init CKPT -o CKPT [OPTION]... [GOALS]...\n"
           "Proximal Policy Optimization with on-policy rollouts: each iteration plays --rollouts\n"
           "goals (a seeded order over the goal records of stdin or GOALS, cycled) with the current\n"
           "policy sampling at temperature 1, computes GAE(lambda) advantages from the value head\n"
           "(reward = the WebShop reward at the end of the episode), then runs --ppo-epochs passes of\n"
           "--minibatches minibatch updates: clipped surrogate, value loss, entropy bonus, and the\n"
           "imitation term on --il-data that WebShop's RL keeps. A pass stops early once the\n"
           "approximate KL to the collecting policy exceeds --target-kl. One metrics record per\n"
           "update (policy_loss, value_loss, entropy, approx_kl, clip_fraction, il_loss, ...) and one\n"
           "per iteration (stage \"rollout\": success_rate, score, episodes).\n"
           "Under mpirun every rank plays --rollouts episodes of its own (its own goal order and\n"
           "sampling) and normalises its own advantages; updates sum the ranks' gradients, and the\n"
           "KL early stop uses the mean over all ranks. --rollout-log writes rank 0's episodes.\n\n"
           "      --iterations N     rollout/update cycles in all (a resumed run counts its earlier ones) [10]\n"
           "      --rollouts N       episodes per iteration [32]\n"
           "      --parallel N       episodes in flight [16]\n"
           "      --ppo-epochs N     passes over each iteration's decisions [2]\n"
           "      --minibatches N    updates per pass [4]\n"
           "      --clip-eps X       PPO's ratio clip [0.2]\n"
           "      --gamma X, --lambda X   discount and GAE lambda [1.0, 0.95]\n"
           "      --vf-coef X        value loss weight [0.5]\n"
           "      --ent-coef X       entropy bonus weight [0.01]\n"
           "      --il-data TOKENS   tokenized demonstrations for the imitation term\n"
           "      --il-coef X        its weight [0.5]\n"
           "      --target-kl X      early stop of a pass [0.05]\n"
           "      --rollout-log FILE also write the collected trajectories\n"
           "The rollouts play in the environment of --max-steps, --obs and --catalog-seed (below).\n\n%s",
           ws_train_usage(defaults));
}

typedef struct ppo_opts {
    long iterations, rollouts, parallel, ppo_epochs, minibatches;
    double clip_eps, gamma, lambda, vf_coef, ent_coef, il_coef, target_kl;
    const char *il_data, *rollout_log;
} ppo_opts;

/* One collected decision, re-encoded for the update passes. */
typedef struct sample {
    int32_t *state;
    int state_len, n_actions, action;
    int32_t **actions;
    int *action_len;
    double old_logp, advantage, ret;
} sample;

static void sample_free(sample *s)
{
    free(s->state);
    for (int j = 0; j < s->n_actions; j++)
        free(s->actions[j]);
    free(s->actions);
    free(s->action_len);
}

/* Turn an iteration's trajectories into samples with GAE advantages (normalised over the batch). */
static int collect(json_t **trajs, int n, const ws_vocab *vocab, const ws_train_opts *to, const ppo_opts *po,
                   sample **out, int *n_out, double *success, double *score, ws_err *err)
{
    size_t cap = 0;
    int k = 0;
    sample *s = NULL;
    *success = *score = 0;
    for (int e = 0; e < n; e++) {
        json_t *steps = json_object_get(trajs[e], "steps");
        double reward = json_real_value(json_object_get(trajs[e], "reward"));
        *success += reward == 1.0;
        *score += reward;
        int T = (int)json_array_size(steps);
        double *r = calloc((size_t)T + 1, sizeof *r), *v = calloc((size_t)T + 1, sizeof *v);
        double *adv = calloc((size_t)T + 1, sizeof *adv), *ret = calloc((size_t)T + 1, sizeof *ret);
        if (!r || !v || !adv || !ret) {
            free(r), free(v), free(adv), free(ret);
            return ws_fail(err, "out of memory");
        }
        for (int t = 0; t < T; t++)
            v[t] = json_real_value(json_object_get(json_array_get(steps, (size_t)t), "value"));
        if (T)
            r[T - 1] = reward;
        ws_gae(r, v, T, po->gamma, po->lambda, adv, ret);
        for (int t = 0; t < T; t++) {
            json_t *st = json_array_get(steps, (size_t)t), *acts = json_object_get(st, "actions");
            if (json_array_size(acts) < 2)
                continue; /* a forced move (the search) teaches nothing */
            sample *ns = ws_grow(s, &cap, (size_t)k + 1, sizeof *ns, 256);
            if (!ns) {
                free(r), free(v), free(adv), free(ret);
                *out = s;
                *n_out = k;
                return ws_fail(err, "out of memory");
            }
            s = ns;
            sample *x = &s[k];
            memset(x, 0, sizeof *x);
            x->n_actions = (int)json_array_size(acts);
            x->action = (int)json_integer_value(json_object_get(st, "action_index"));
            x->old_logp = json_real_value(json_object_get(st, "logp"));
            x->advantage = adv[t];
            x->ret = ret[t];
            x->actions = calloc((size_t)x->n_actions, sizeof *x->actions);
            x->action_len = calloc((size_t)x->n_actions, sizeof *x->action_len);
            int bad = !x->actions || !x->action_len ||
                      ws_encode_decision(vocab, json_string_value(json_object_get(st, "obs")), acts, to->max_state_len,
                                         to->max_action_len, &x->state, &x->state_len, x->actions, x->action_len, err);
            k++;
            if (bad) {
                free(r), free(v), free(adv), free(ret);
                *out = s;
                *n_out = k;
                return -1;
            }
        }
        free(r), free(v), free(adv), free(ret);
    }
    double *a = malloc(((size_t)k + 1) * sizeof *a);
    if (!a)
        return ws_fail(err, "out of memory");
    for (int i = 0; i < k; i++)
        a[i] = s[i].advantage;
    ws_normalize(a, (size_t)k);
    for (int i = 0; i < k; i++)
        s[i].advantage = a[i];
    free(a);
    *out = s;
    *n_out = k;
    *success /= n ? n : 1;
    *score = 100.0 * *score / (n ? n : 1);
    return 0;
}

/* A minibatch's buffers, grown as needed and reused across updates. */
typedef struct minibatch {
    ws_decision_data *dd;
    int *action;
    double *old_logp, *advantage, *ret;
    size_t *seq;
    ws_real *dlogits, *dvalues;
    size_t cap, cap_actions;
} minibatch;

/* mb->field reallocated to c items and stored, or -1 leaving it as it was (each array is stored
 * as soon as it has grown, so that minibatch_free frees whichever block each one holds) */
#define GROW_FIELD(field, c) \
    ((grown = ws_realloc_array(mb->field, (c), sizeof *mb->field)) ? (mb->field = grown, 0) : -1)

static int minibatch_reserve(minibatch *mb, size_t n, size_t n_actions, ws_err *err)
{
    void *grown;
    if (n > mb->cap) {
        size_t c = n * 2;
        if (GROW_FIELD(dd, c) || GROW_FIELD(action, c) || GROW_FIELD(old_logp, c) || GROW_FIELD(advantage, c) ||
            GROW_FIELD(ret, c) || GROW_FIELD(seq, c) || GROW_FIELD(dvalues, c))
            return ws_fail(err, "out of memory");
        mb->cap = c;
    }
    if (n_actions > mb->cap_actions) {
        size_t c = n_actions * 2;
        if (GROW_FIELD(dlogits, c))
            return ws_fail(err, "out of memory");
        mb->cap_actions = c;
    }
    return 0;
}
#undef GROW_FIELD

static void minibatch_free(minibatch *mb)
{
    free(mb->dd), free(mb->action), free(mb->old_logp), free(mb->advantage), free(mb->ret), free(mb->seq);
    free(mb->dlogits), free(mb->dvalues);
}

/* The PPO objective's gradients for n samples (sel), scaled by this rank's share of the slice. */
static int ppo_minibatch(ws_train_run *run, minibatch *mb, ws_batch_builder *bb, const sample *samples,
                         const size_t *sel, int n, const ppo_opts *po, double share, ws_ppo_stats *st, ws_err *err)
{
    size_t n_act = 0;
    for (int i = 0; i < n; i++)
        n_act += (size_t)samples[sel[i]].n_actions;
    if (minibatch_reserve(mb, (size_t)n, n_act, err))
        return -1;
    for (int i = 0; i < n; i++) {
        const sample *x = &samples[sel[i]];
        /* present the samples as decisions for the batch builder */
        mb->dd[i] = (ws_decision_data){.state = x->state, .state_len = x->state_len, .n_actions = x->n_actions,
                                       .actions = x->actions, .action_len = x->action_len, .target = -1};
        mb->action[i] = x->action;
        mb->old_logp[i] = x->old_logp;
        mb->advantage[i] = x->advantage;
        mb->ret[i] = x->ret;
        mb->seq[i] = (size_t)i;
    }
    ws_dataset view = {.items = mb->dd, .n = (size_t)n};
    const ws_batch *b = ws_batch_build(bb, &view, mb->seq, n, err);
    if (!b || ws_model_forward(run->model, b, err))
        return -1;
    memset(mb->dlogits, 0, n_act * sizeof *mb->dlogits);
    memset(mb->dvalues, 0, (size_t)n * sizeof *mb->dvalues);
    ws_ppo_objective(ws_model_logp(run->model), ws_model_values(run->model), b->n_actions, mb->action, mb->old_logp,
                     mb->advantage, mb->ret, NULL, n, po->clip_eps, po->vf_coef, po->ent_coef, 0, mb->dlogits,
                     mb->dvalues, st);
    for (size_t i = 0; share != 1.0 && i < n_act; i++)
        mb->dlogits[i] *= (ws_real)share;
    for (int i = 0; share != 1.0 && i < n; i++)
        mb->dvalues[i] *= (ws_real)share;
    return ws_model_backward(run->model, mb->dlogits, mb->dvalues, err);
}

/* WebShop's imitation term, accumulated into the gradients: il_coef times the mean cross-entropy
 * of min(n, |il|) demonstrations drawn with rng; m_global: the ranks' draws together. */
static int il_term(ws_train_run *run, ws_batch_builder *ilb, const ws_dataset *il, int m_global, ws_rng *rng, int n,
                   double il_coef, double *loss, ws_err *err)
{
    int m = n < (int)il->n ? n : (int)il->n, ia = 0, rc = -1;
    size_t *ii = malloc((size_t)m * sizeof *ii);
    int *target = malloc((size_t)m * sizeof *target);
    ws_real *dl = NULL;
    if (!ii || !target) {
        ws_fail(err, "out of memory");
        goto out;
    }
    for (int i = 0; i < m; i++)
        ii[i] = (size_t)ws_rng_below(rng, il->n);
    const ws_batch *ib = ws_batch_build(ilb, il, ii, m, err);
    if (!ib || ws_model_forward(run->model, ib, err))
        goto out;
    for (int i = 0; i < m; i++) {
        ia += ib->n_actions[i];
        target[i] = il->items[ii[i]].target;
    }
    if (!(dl = calloc((size_t)ia, sizeof *dl))) {
        ws_fail(err, "out of memory");
        goto out;
    }
    ws_il_stats ist;
    ws_il_objective(ws_model_logp(run->model), ib->n_actions, target, m, dl, &ist);
    double scale = il_coef * ws_train_share(run, m, m_global);
    for (int i = 0; i < ia; i++)
        dl[i] *= (ws_real)scale;
    if (ws_model_backward(run->model, dl, NULL, err))
        goto out;
    *loss = ist.loss;
    rc = 0;
out:
    free(ii);
    free(target);
    free(dl);
    return rc;
}

int main(int argc, char **argv)
{
    ws_cli_omp_wait(argv, WS_OMP_SPINCOUNT);
    ws_cli cli = {.tool = "train-ppo"};
    ws_train_opts to;
    ws_train_opts_default(&to, "ppo", 1e-5);
    to.schedule.kind = WS_LR_CONSTANT;
    to.warmup = 0;
    ppo_opts po = {.iterations = 10, .rollouts = 32, .parallel = 16, .ppo_epochs = 2, .minibatches = 4, .clip_eps = 0.2, .gamma = 1.0, .lambda = 0.95, .vf_coef = 0.5,
                   .ent_coef = 0.01, .il_coef = 0.5, .target_kl = 0.05};
    enum { OPT_IT = 256, OPT_RO, OPT_PAR, OPT_PE, OPT_MB, OPT_CE, OPT_GAMMA, OPT_LAMBDA, OPT_VF, OPT_ENT, OPT_ILD, OPT_ILC,
           OPT_KL, OPT_LOG, OPT_HELP, OPT_VERSION };
    static const struct option longopts[] = {
        WS_TRAIN_LONGOPTS, {"iterations", required_argument, 0, OPT_IT}, {"rollouts", required_argument, 0, OPT_RO},
        {"parallel", required_argument, 0, OPT_PAR}, {"ppo-epochs", required_argument, 0, OPT_PE},
        {"minibatches", required_argument, 0, OPT_MB}, {"clip-eps", required_argument, 0, OPT_CE},
        {"gamma", required_argument, 0, OPT_GAMMA}, {"lambda", required_argument, 0, OPT_LAMBDA},
        {"vf-coef", required_argument, 0, OPT_VF}, {"ent-coef", required_argument, 0, OPT_ENT},
        {"il-data", required_argument, 0, OPT_ILD}, {"il-coef", required_argument, 0, OPT_ILC},
        {"target-kl", required_argument, 0, OPT_KL}, {"rollout-log", required_argument, 0, OPT_LOG},
        {"quiet", no_argument, 0, 'q'}, {"help", no_argument, 0, OPT_HELP}, {"version", no_argument, 0, OPT_VERSION},
        {0, 0, 0, 0}};
    /* what --resume restores (with the shared settings) unless given again */
    ws_run_setting settings[] = {
        {"iterations", 'l', &po.iterations, 0}, {"rollouts", 'l', &po.rollouts, 0}, {"parallel", 'l', &po.parallel, 0},
        {"ppo-epochs", 'l', &po.ppo_epochs, 0}, {"minibatches", 'l', &po.minibatches, 0},
        {"clip-eps", 'd', &po.clip_eps, 0}, {"gamma", 'd', &po.gamma, 0}, {"lambda", 'd', &po.lambda, 0},
        {"vf-coef", 'd', &po.vf_coef, 0}, {"ent-coef", 'd', &po.ent_coef, 0}, {"il-coef", 'd', &po.il_coef, 0},
        {"target-kl", 'd', &po.target_kl, 0}};
    to.tool_settings = settings;
    to.n_tool_settings = (int)(sizeof settings / sizeof settings[0]);
    int c, li = -1;
    while ((c = ws_cli_getopt(&cli, argc, argv, "b:d:o:q", longopts, &li)) != -1) {
        if (li >= 0)
            ws_train_tool_option_given(&to, longopts[li].name);
        li = -1;
        if (ws_train_option(&to, &cli, c, optarg))
            continue;
        switch (c) {
        case OPT_IT: po.iterations = ws_cli_long(&cli, "--iterations", optarg, 1, 10000000); break;
        case OPT_RO: po.rollouts = ws_cli_long(&cli, "--rollouts", optarg, 1, 1000000); break;
        case OPT_PAR: po.parallel = ws_cli_long(&cli, "--parallel", optarg, 1, 4096); break;
        case OPT_PE: po.ppo_epochs = ws_cli_long(&cli, "--ppo-epochs", optarg, 1, 1000); break;
        case OPT_MB: po.minibatches = ws_cli_long(&cli, "--minibatches", optarg, 1, 100000); break;
        case OPT_CE: po.clip_eps = ws_cli_double(&cli, "--clip-eps", optarg, 0, 10); break;
        case OPT_GAMMA: po.gamma = ws_cli_double(&cli, "--gamma", optarg, 0, 1); break;
        case OPT_LAMBDA: po.lambda = ws_cli_double(&cli, "--lambda", optarg, 0, 1); break;
        case OPT_VF: po.vf_coef = ws_cli_double(&cli, "--vf-coef", optarg, 0, 1e6); break;
        case OPT_ENT: po.ent_coef = ws_cli_double(&cli, "--ent-coef", optarg, 0, 1e6); break;
        case OPT_ILD: po.il_data = optarg; break;
        case OPT_ILC: po.il_coef = ws_cli_double(&cli, "--il-coef", optarg, 0, 1e6); break;
        case OPT_KL: po.target_kl = ws_cli_double(&cli, "--target-kl", optarg, 0, 1e6); break;
        case OPT_LOG: po.rollout_log = optarg; break;
        case 'q': cli.quiet = 1; break;
        case OPT_HELP: usage(&to); return 0;
        case OPT_VERSION: ws_cli_version(&cli); return 0;
        default: ws_cli_usage_error(&cli, "unknown option");
        }
    }
    if (to.valid) /* PPO's data are its own rollouts: no fixed records to hold out */
        ws_cli_usage_error(&cli, "--valid is for train-il and train-dpo; PPO plays --eval-goals instead");
    if (to.stop_after) /* its length is --iterations, and an iteration may end early (--target-kl) */
        ws_cli_usage_error(&cli, "--stop-after is for train-il and train-dpo; interrupt train-ppo instead");
    for (int k = 0; k < WS_N_DECISION_KINDS; k++)
        if (to.repeat[k] != 1) /* its --il-data term samples decisions uniformly */
            ws_cli_usage_error(&cli, "--oversample is for train-il");
    ws_train_run run;
    ws_train_setup(&run, &cli, &to);
    ws_err err;
    /* environment, vocabulary, goals (checked against the catalog), the agent that collects */
    char dirbuf[4096], vocabbuf[PATH_MAX + 64];
    const char *dir = ws_cli_data_dir(&cli, to.data, dirbuf, sizeof dirbuf);
    ws_catalog cat;
    ws_vocab *vocab = NULL;
    ws_env *env = NULL;
    if (ws_catalog_load(&cat, dir, (uint64_t)run.opts.catalog_seed, &err) || !(env = ws_env_new(&cat, NULL, &err)) ||
        !(vocab = ws_vocab_load(ws_vocab_path(to.vocab_path, vocabbuf, sizeof vocabbuf), &err)))
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    json_t **goals = NULL;
    size_t n_goals = 0;
    ws_reader_opts ro = {.type = "goal", .version = WS_GOAL_VERSION, .check = ws_goal_check_origin, .check_ctx = &cat};
    ws_inputs *in = ws_inputs_open((const char *const *)argv + optind, argc - optind, &ro, &err);
    int rc = in ? ws_inputs_read_all(in, &goals, &n_goals, &err) : WS_ERROR;
    ws_inputs_close(in);
    if (rc != WS_EOF)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", rc == WS_INTERRUPTED ? "interrupted" : err.msg);
    ws_agent agent = {.model = run.model, .vocab = vocab, .max_state_len = run.opts.max_state_len,
                      .max_action_len = run.opts.max_action_len, .temperature = 1.0, .score_single = 1};
    ws_runner_opts rop = {.episode = run.opts.episode, .parallel = (int)po.parallel,
                          .agent = &agent, .policy_name = "train-ppo"};
    ws_runner *runner = ws_runner_new(env, &rop, &err);
    ws_dataset il = {0};
    const char *il_paths[] = {po.il_data};
    if (!runner)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    if (po.il_data)
        ws_train_load_dataset(&run, &il, il_paths, 1, WS_NEED_TARGET, "--il-data: ");
    if (n_goals == 0)
        ws_cli_die(&cli, WS_EXIT_FAIL, "no goals to play");
    ws_train_start(&run, po.iterations * po.ppo_epochs * po.minibatches, ws_vocab_sha256(vocab));
    int logging = po.rollout_log && ws_dist_is_root(&run.dist);
    ws_writer *log = logging ? ws_writer_open(po.rollout_log, NULL, &err) : NULL;
    if (logging && !log)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);

    /* every rank its own goal order, sampling and imitation draws (rank 0: those of a lone run) */
    uint64_t rank_seed = (uint64_t)run.opts.seed + 1000003u * (uint64_t)run.dist.rank;
    size_t *order = malloc(n_goals * sizeof *order);
    json_t **batch_goals = calloc((size_t)po.parallel, sizeof *batch_goals), **trajs = calloc((size_t)po.rollouts, sizeof *trajs);
    if (!order || !batch_goals || !trajs)
        ws_cli_die(&cli, WS_EXIT_FAIL, "out of memory");
    ws_rng order_rng;
    ws_rng_seed(&order_rng, rank_seed, "ppo-goals");
    for (size_t i = 0; i < n_goals; i++)
        order[i] = i;
    ws_rng_shuffle(&order_rng, order, n_goals);
    size_t next_goal = (size_t)run.rounds_done * (size_t)po.rollouts; /* a resumed run goes on down the order */
    ws_batch_builder bb = {0}, ilb = {0};
    minibatch mb = {0};
    ws_progress progress;
    ws_progress_start(&progress, cli.tool, "iterations", po.iterations, run.quiet);
    ws_progress_resume_at(&progress, run.rounds_done);
    for (long it = run.rounds_done; it < po.iterations && !ws_train_should_stop(&run); it++) {
        /* collect */
        run.eval_agent.model = run.model;
        for (long e = 0; e < po.rollouts;) {
            int k = (int)(po.rollouts - e < po.parallel ? po.rollouts - e : po.parallel);
            for (int j = 0; j < k; j++)
                batch_goals[j] = goals[order[next_goal++ % n_goals]];
            ws_runner_set_seed(runner, rank_seed * 7919 + (uint64_t)it); /* fresh sampling each iteration */
            if (ws_runner_play(runner, batch_goals, k, trajs + e, &err))
                ws_cli_die(&cli, WS_EXIT_FAIL, "rollouts: %s", err.msg);
            e += k;
        }
        sample *samples = NULL;
        int n_samples = 0;
        double success, score;
        if (collect(trajs, (int)po.rollouts, vocab, &run.opts, &po, &samples, &n_samples, &success, &score, &err))
            ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
        for (long e = 0; e < po.rollouts; e++) {
            if (log && ws_writer_put(log, trajs[e], &err))
                ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
            json_decref(trajs[e]);
        }
        /* the iteration's record: every rank's episodes */
        double totals[3] = {success * (double)po.rollouts, score * (double)po.rollouts, n_samples};
        if (ws_dist_sum_doubles(&run.dist, totals, 3, &err))
            ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
        double episodes = (double)po.rollouts * run.dist.size;
        ws_train_metrics(&run, json_pack("{s:s, s:i, s:s, s:I, s:I, s:f, s:f, s:I, s:I}", "type", "metrics", "v", WS_METRICS_VERSION,
                                         "stage", "rollout", "step", (json_int_t)run.trainer.step, "iteration",
                                         (json_int_t)it + 1, "success_rate", totals[0] / episodes, "score",
                                         totals[1] / episodes, "episodes", (json_int_t)episodes, "decisions",
                                         (json_int_t)totals[2]));
        /* update passes: --minibatches slices of a shuffled order, the same count on every rank */
        int per = n_samples ? (int)((n_samples + po.minibatches - 1) / po.minibatches) : 0;
        size_t *idx = malloc(((size_t)n_samples + 1) * sizeof *idx);
        if (!idx)
            ws_cli_die(&cli, WS_EXIT_FAIL, "out of memory");
        int stop = 0, halted = 0; /* halted: interrupted before the iteration's updates were done */
        for (long ep = 0; ep < po.ppo_epochs && !stop && !(halted = ws_train_should_stop(&run)); ep++) {
            for (int i = 0; i < n_samples; i++)
                idx[i] = (size_t)i;
            ws_rng mrng;
            ws_rng_seed(&mrng, rank_seed * 1000003u + (uint64_t)(it * 1000 + ep), "ppo-minibatch");
            ws_rng_shuffle(&mrng, idx, (size_t)n_samples);
            double kl_pass = 0;
            int mbs = 0;
            for (long k = 0; k < po.minibatches && !(halted = ws_train_should_stop(&run)); k++) {
                int first = (int)(k * per < n_samples ? k * per : n_samples);
                int n = n_samples - first < per ? n_samples - first : per;
                double counts[2] = {n, n && il.n ? (n < (int)il.n ? n : (int)il.n) : 0};
                if (ws_dist_sum_doubles(&run.dist, counts, 2, &err))
                    ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
                if (counts[0] == 0)
                    continue; /* no rank has decisions left for this slice */
                double t0 = ws_now();
                json_t *fields = json_pack("{s:I, s:I, s:i}", "iteration", (json_int_t)it + 1, "ppo_epoch",
                                           (json_int_t)ep + 1, "states", n);
                if (!fields)
                    ws_cli_die(&cli, WS_EXIT_FAIL, "out of memory");
                double kl = 0;
                ws_model_zero_grad(run.model);
                if (n > 0) {
                    ws_ppo_stats st;
                    if (ppo_minibatch(&run, &mb, &bb, samples, idx + first, n, &po, ws_train_share(&run, n, (long)counts[0]),
                                      &st, &err))
                        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
                    json_object_set_new(fields, "loss", json_real(st.policy_loss + po.vf_coef * st.value_loss -
                                                                  po.ent_coef * st.entropy));
                    json_object_set_new(fields, "policy_loss", json_real(st.policy_loss));
                    json_object_set_new(fields, "value_loss", json_real(st.value_loss));
                    json_object_set_new(fields, "entropy", json_real(st.entropy));
                    json_object_set_new(fields, "approx_kl", json_real(st.approx_kl));
                    json_object_set_new(fields, "clip_fraction", json_real(st.clip_fraction));
                    kl = st.approx_kl;
                    if (il.n) {
                        double il_loss;
                        if (il_term(&run, &ilb, &il, (int)counts[1], &mrng, n, po.il_coef, &il_loss, &err))
                            ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
                        json_object_set_new(fields, "il_loss", json_real(il_loss));
                    }
                }
                /* the pass's early stop looks at every rank's decisions */
                double kl_sum[1] = {kl * n};
                if (ws_dist_sum_doubles(&run.dist, kl_sum, 1, &err))
                    ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
                ws_train_update(&run, fields, ws_now() - t0);
                kl_pass += kl_sum[0] / counts[0];
                mbs++;
                if (kl_pass / mbs > po.target_kl) {
                    stop = 1; /* the policy moved far enough from the collector: collect afresh */
                    break;
                }
            }
        }
        free(idx);
        for (int i = 0; i < n_samples; i++)
            sample_free(&samples[i]);
        free(samples);
        if (!halted)
            run.rounds_done = it + 1;
        ws_progress_update(&progress, it + 1);
    }
    minibatch_free(&mb);
    ws_progress_end(&progress);
    if (log && ws_cli_close_output(&cli, log) != WS_EXIT_OK && !ws_interrupted())
        ws_cli_die(&cli, WS_EXIT_FAIL, "rollout log not written");
    ws_batch_builder_free(&bb);
    ws_batch_builder_free(&ilb);
    ws_dataset_free(&il);
    ws_runner_free(runner);
    ws_env_free(env);
    ws_catalog_free(&cat);
    ws_vocab_free(vocab);
    for (size_t i = 0; i < n_goals; i++)
        json_decref(goals[i]);
    free(goals);
    free(order);
    free(batch_goals);
    free(trajs);
    return ws_train_finish(&run);
}
