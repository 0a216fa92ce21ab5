/* train-dpo: Direct Preference Optimization of the choice model on tokenized preference pairs. */
#include <stdio.h>
#include <stdlib.h>

#include "checkpoint.h"
#include "cli.h"
#include "modelio.h"
#include "objectives.h"
#include "trainloop.h"

static void usage(const ws_train_opts *defaults)
{
    printf("Usage: train-dpo --init CKPT -o CKPT [--ref CKPT] [OPTION]... [TOKENS]...\n"
           "DPO per state on tokens records with \"chosen\" and \"rejected\" (tokenize's output for\n"
           "pairs): loss = -log sigmoid(beta ((log pi(w) - log ref(w)) - (log pi(l) - log ref(l))))\n"
           "with the reference frozen. The reference's log-probabilities come from the records\n"
           "(pair-prefs --ref-logps) or from running --ref on each batch; with --ref the exact\n"
           "KL(pi || ref) over each state's actions is reported too. Records that name their\n"
           "reference (ref_sha256) are compared with --ref's checkpoint, else --init's: another one\n"
           "is warned about on stderr (it can be meant), and records of two references refused.\n"
           "One update (\"step\") is one optimiser update on --batch records. Metrics per update:\n"
           "loss, margin (mean beta log-ratio difference: the implicit reward margin), accuracy\n"
           "(share of pairs ranked right), reward_chosen/rejected, kl, lr, grad_norm, tokens/s,\n"
           "states/s.\n"
           "--nll-coef adds X times the chosen action's negative log-likelihood (RPO, Pang et al.\n"
           "2024): DPO alone may lower the chosen action's probability too, as long as the rejected\n"
           "one falls faster, handing the mass to a third action; 0 is the plain DPO of the study.\n"
           "--anchors TOKENS: records with a \"target\" (tokenize --oracle-target of a rollout with\n"
           "--oracle-labels: every state the agent visited, labelled with the oracle's action;\n"
           "given again, another file of them) mixed with the pairs, each adding --anchor-coef\n"
           "times its target's NLL: the pairs' contrast is learnt while the agent keeps doing\n"
           "what the oracle does where they agree.\n"
           "Without them a few pairs that always reject one action (Buy Now on a wrong product)\n"
           "teach the agent never to take it. Loss: the mean over the batch's records.\n\n"
           "      --ref CKPT        the frozen reference policy (usually the IL checkpoint)\n"
           "      --beta X          DPO's temperature [0.1]\n"
           "      --nll-coef X      weight of the chosen action's NLL [0]\n"
           "      --anchors TOKENS  imitation records mixed with the pairs (above); repeatable [none]\n"
           "      --anchor-coef X   weight of an anchor's NLL [1]\n\n%s",
           ws_train_usage(defaults));
}

typedef struct dpo_ctx {
    ws_model *ref;
    double beta, nll_coef, anchor_coef;
    ws_real *nll_grad; /* scratch for one decision's NLL gradient */
    size_t nll_cap;
} dpo_ctx;

/* g += coef / n * d(NLL of action `target`) for one decision of k actions; returns its NLL. */
static double add_nll(dpo_ctx *ctx, const ws_real *logp, int k, int target, double coef, int n, ws_real *g)
{
    ws_il_stats st;
    ws_il_objective(logp, &k, &target, 1, ctx->nll_grad, &st);
    for (int j = 0; j < k; j++)
        g[j] += (ws_real)(coef / n * ctx->nll_grad[j]);
    return st.loss;
}

/* The loss is a mean over the batch's records: a pair's DPO term (and --nll-coef times its
 * chosen action's NLL), an anchor's --anchor-coef times its target's NLL. Each decision is
 * scored on its own slice of the logits, so pairs and anchors mix freely in a batch. */
static int dpo_loss(void *user, ws_model *policy, const ws_batch *b, const ws_decision_data *const *items,
                    ws_real *dlogits, json_t *fields, ws_err *err)
{
    dpo_ctx *ctx = user;
    int n = b->n_decisions, n_pairs = 0, n_anchors = 0, max_k = 0;
    int need_ref = 0;
    for (int i = 0; i < n; i++) {
        need_ref |= ws_decision_is_pair(items[i]) && !items[i]->has_ref;
        max_k = b->n_actions[i] > max_k ? b->n_actions[i] : max_k;
    }
    if (need_ref && !ctx->ref)
        return ws_fail(err, "pairs without reference log-probabilities: give --ref CKPT");
    if ((size_t)max_k > ctx->nll_cap) {
        ws_real *g = realloc(ctx->nll_grad, (size_t)max_k * sizeof *g);
        if (!g)
            return ws_fail(err, "out of memory");
        ctx->nll_grad = g;
        ctx->nll_cap = (size_t)max_k;
    }
    const ws_real *ref_logp = NULL;
    if (ctx->ref) {
        if (ws_model_forward(ctx->ref, b, err))
            return -1;
        ref_logp = ws_model_logp(ctx->ref);
    }
    const ws_real *logp = ws_model_logp(policy);
    ws_dpo_stats pairs = {0};
    double kl = 0, nll = 0, anchor_nll = 0;
    for (int i = 0, a = 0; i < n; a += b->n_actions[i], i++) {
        const ws_decision_data *it = items[i];
        int k = b->n_actions[i];
        ws_real *g = dlogits + a;
        if (ref_logp)
            kl += ws_kl_actions(logp + a, ref_logp + a, k);
        if (!ws_decision_is_pair(it)) {
            anchor_nll += add_nll(ctx, logp + a, k, it->target, ctx->anchor_coef, n, g);
            n_anchors++;
            continue;
        }
        double ref_w = it->has_ref ? it->ref_logp_chosen : ref_logp[a + it->chosen];
        double ref_l = it->has_ref ? it->ref_logp_rejected : ref_logp[a + it->rejected];
        ws_dpo_stats st;
        ws_dpo_objective(logp + a, &k, &it->chosen, &it->rejected, &ref_w, &ref_l, 1, ctx->beta, g, &st);
        for (int j = 0; j < k; j++)
            g[j] /= (ws_real)n;
        if (ctx->nll_coef > 0)
            nll += add_nll(ctx, logp + a, k, it->chosen, ctx->nll_coef, n, g);
        pairs.loss += st.loss;
        pairs.margin += st.margin;
        pairs.accuracy += st.accuracy;
        pairs.reward_chosen += st.reward_chosen;
        pairs.reward_rejected += st.reward_rejected;
        n_pairs++;
    }
    double loss = (pairs.loss + ctx->nll_coef * nll + ctx->anchor_coef * anchor_nll) / n;
    json_object_set_new(fields, "loss", json_real(loss));
    if (n_pairs) {
        json_object_set_new(fields, "margin", json_real(pairs.margin / n_pairs));
        json_object_set_new(fields, "accuracy", json_real(pairs.accuracy / n_pairs));
        json_object_set_new(fields, "reward_chosen", json_real(pairs.reward_chosen / n_pairs));
        json_object_set_new(fields, "reward_rejected", json_real(pairs.reward_rejected / n_pairs));
        if (ctx->nll_coef > 0)
            json_object_set_new(fields, "nll", json_real(nll / n_pairs));
    }
    if (n_anchors) {
        json_object_set_new(fields, "anchors", json_integer(n_anchors));
        json_object_set_new(fields, "anchor_nll", json_real(anchor_nll / n_anchors));
    }
    if (ref_logp)
        json_object_set_new(fields, "kl", json_real(kl / n));
    return 0;
}

int main(int argc, char **argv)
{
    ws_cli_omp_wait(argv, WS_OMP_SPINCOUNT);
    ws_cli cli = {.tool = "train-dpo"};
    ws_train_opts opts;
    ws_train_opts_default(&opts, "dpo", 1e-5);
    const char *ref_path = NULL;
    dpo_ctx ctx = {.beta = 0.1, .anchor_coef = 1};
    enum { OPT_REF = 256, OPT_BETA, OPT_NLL, OPT_ANCHORS, OPT_ANCHOR_COEF, OPT_HELP, OPT_VERSION };
    static const struct option longopts[] = {WS_TRAIN_LONGOPTS,
                                             {"ref", required_argument, 0, OPT_REF},
                                             {"beta", required_argument, 0, OPT_BETA},
                                             {"nll-coef", required_argument, 0, OPT_NLL},
                                             {"anchors", required_argument, 0, OPT_ANCHORS},
                                             {"anchor-coef", required_argument, 0, OPT_ANCHOR_COEF},
                                             {"quiet", no_argument, 0, 'q'},
                                             {"help", no_argument, 0, OPT_HELP},
                                             {"version", no_argument, 0, OPT_VERSION},
                                             {0, 0, 0, 0}};
    /* what --resume restores (with the shared settings) unless given again */
    ws_run_setting settings[] = {
        {"beta", 'd', &ctx.beta, 0}, {"nll-coef", 'd', &ctx.nll_coef, 0}, {"anchor-coef", 'd', &ctx.anchor_coef, 0}};
    opts.tool_settings = settings;
    opts.n_tool_settings = (int)(sizeof settings / sizeof *settings);
    /* each --anchors names one file: at most one per argument */
    const char **anchor_paths = malloc((size_t)argc * sizeof *anchor_paths);
    if (!anchor_paths)
        ws_cli_die(&cli, WS_EXIT_FAIL, "out of memory");
    opts.anchors = anchor_paths;
    int c, li = -1;
    while ((c = ws_cli_getopt(&cli, argc, argv, "b:d:o:q", longopts, &li)) != -1) {
        if (li >= 0)
            ws_train_tool_option_given(&opts, longopts[li].name);
        li = -1;
        if (ws_train_option(&opts, &cli, c, optarg))
            continue;
        switch (c) {
        case OPT_REF: ref_path = optarg; break;
        case OPT_BETA: ctx.beta = ws_cli_double(&cli, "--beta", optarg, 1e-6, 1e6); break;
        case OPT_NLL: ctx.nll_coef = ws_cli_double(&cli, "--nll-coef", optarg, 0, 1e6); break;
        case OPT_ANCHORS: anchor_paths[opts.n_anchors++] = optarg; break;
        case OPT_ANCHOR_COEF: ctx.anchor_coef = ws_cli_double(&cli, "--anchor-coef", optarg, 0, 1e6); break;
        case 'q': cli.quiet = 1; break;
        case OPT_HELP: usage(&opts); free(anchor_paths); return 0;
        case OPT_VERSION: ws_cli_version(&cli); free(anchor_paths); return 0;
        default: ws_cli_usage_error(&cli, "unknown option");
        }
    }
    /* the reference the pairs' log-probabilities should be from; a resumed run's --init is not known */
    const char *ref_ckpt = ref_path ? ref_path : opts.resume ? NULL : opts.init;
    char ref_sha256[65] = "";
    if (ref_ckpt) {
        ws_err err;
        ws_ckpt_meta meta;
        if (ws_checkpoint_read_meta(ref_ckpt, &meta, &err))
            ws_cli_die(&cli, WS_EXIT_FAIL, "%s: %s", ref_path ? "--ref" : "--init", err.msg);
        snprintf(ref_sha256, sizeof ref_sha256, "%s", meta.data_sha256);
        ws_ckpt_meta_free(&meta);
        opts.ref_sha256 = ref_sha256;
        opts.ref_option = ref_path ? "--ref" : "--init";
    }
    const ws_backend *ref_be = NULL;
    if (ref_path) {
        /* the reference runs where the policy does */
        ws_err err;
        if (!(ctx.ref = ws_modelio_load(ref_path, NULL, &err)) ||
            !(ref_be = ws_backend_open(opts.device, opts.gpu_math, opts.cpu_math, &err)) || ws_model_to_backend(ctx.ref, ref_be, &err))
            ws_cli_die(&cli, WS_EXIT_FAIL, "--ref: %s", err.msg);
        ws_model_set_inference(ctx.ref, 1); /* it only scores */
    }
    int status = ws_train_dataset_main(&cli, &opts, WS_NEED_PAIR, (const char *const *)argv + optind, argc - optind,
                                       dpo_loss, &ctx);
    ws_model_free(ctx.ref);
    ws_backend_close(ref_be);
    free(ctx.nll_grad);
    free(anchor_paths);
    return status;
}
