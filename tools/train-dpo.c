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
           "One update (\"step\") is one optimiser update on --batch pairs. Metrics per update:\n"
           "loss, margin (mean beta log-ratio difference: the implicit reward margin), accuracy\n"
           "(share of pairs ranked right), reward_chosen/rejected, kl, lr, grad_norm, tokens/s,\n"
           "states/s.\n"
           "--nll-coef adds X times the chosen action's negative log-likelihood (RPO, Pang et al.\n"
           "2024): DPO alone may lower the chosen action's probability too, as long as the rejected\n"
           "one falls faster, handing the mass to a third action; 0 is the plain DPO of the study.\n\n"
           "      --ref CKPT        the frozen reference policy (usually the IL checkpoint)\n"
           "      --beta X          DPO's temperature [0.1]\n"
           "      --nll-coef X      weight of the chosen action's NLL [0]\n\n%s",
           ws_train_usage(defaults));
}

typedef struct dpo_ctx {
    ws_model *ref;
    double beta, nll_coef;
    ws_real *nll_grad; /* scratch for the NLL term's gradient */
    size_t nll_cap;
} dpo_ctx;

/* dlogits += coef * d(mean NLL of the chosen actions); the NLL goes to *nll. */
static int add_nll(dpo_ctx *ctx, const ws_real *logp, const int *n_actions, const int *chosen, int n, double coef,
                   ws_real *dlogits, double *nll, ws_err *err)
{
    size_t n_act = 0;
    for (int i = 0; i < n; i++)
        n_act += (size_t)n_actions[i];
    if (n_act > ctx->nll_cap) {
        ws_real *g = realloc(ctx->nll_grad, n_act * 2 * sizeof *g);
        if (!g)
            return ws_fail(err, "out of memory");
        ctx->nll_grad = g;
        ctx->nll_cap = n_act * 2;
    }
    ws_il_stats st;
    ws_il_objective(logp, n_actions, chosen, n, ctx->nll_grad, &st);
    for (size_t j = 0; j < n_act; j++)
        dlogits[j] += (ws_real)(coef * ctx->nll_grad[j]);
    *nll = st.loss;
    return 0;
}

static int dpo_loss(void *user, ws_model *policy, const ws_batch *b, const ws_decision_data *const *items,
                    ws_real *dlogits, json_t *fields, ws_err *err)
{
    dpo_ctx *ctx = user;
    int n = b->n_decisions, rc = 0;
    int *chosen = malloc((size_t)n * sizeof *chosen), *rejected = malloc((size_t)n * sizeof *rejected);
    double *ref_w = malloc((size_t)n * sizeof *ref_w), *ref_l = malloc((size_t)n * sizeof *ref_l);
    if (!chosen || !rejected || !ref_w || !ref_l) {
        rc = ws_fail(err, "out of memory");
        goto done;
    }
    int need_ref = 0;
    for (int i = 0; i < n; i++)
        need_ref |= !items[i]->has_ref;
    if (need_ref && !ctx->ref) {
        rc = ws_fail(err, "pairs without reference log-probabilities: give --ref CKPT");
        goto done;
    }
    const ws_real *ref_logp = NULL;
    if (ctx->ref) {
        if (ws_model_forward(ctx->ref, b, err)) {
            rc = -1;
            goto done;
        }
        ref_logp = ws_model_logp(ctx->ref);
    }
    double kl = 0;
    for (int i = 0, a = 0; i < n; a += b->n_actions[i], i++) {
        chosen[i] = items[i]->chosen;
        rejected[i] = items[i]->rejected;
        ref_w[i] = items[i]->has_ref ? items[i]->ref_logp_chosen : ref_logp[a + chosen[i]];
        ref_l[i] = items[i]->has_ref ? items[i]->ref_logp_rejected : ref_logp[a + rejected[i]];
        if (ref_logp)
            kl += ws_kl_actions(ws_model_logp(policy) + a, ref_logp + a, b->n_actions[i]);
    }
    ws_dpo_stats st;
    ws_dpo_objective(ws_model_logp(policy), b->n_actions, chosen, rejected, ref_w, ref_l, n, ctx->beta, dlogits, &st);
    double nll = 0;
    if (ctx->nll_coef > 0) {
        if ((rc = add_nll(ctx, ws_model_logp(policy), b->n_actions, chosen, n, ctx->nll_coef, dlogits, &nll, err)))
            goto done;
        st.loss += ctx->nll_coef * nll;
        json_object_set_new(fields, "nll", json_real(nll));
    }
    json_object_set_new(fields, "loss", json_real(st.loss));
    json_object_set_new(fields, "margin", json_real(st.margin));
    json_object_set_new(fields, "accuracy", json_real(st.accuracy));
    json_object_set_new(fields, "reward_chosen", json_real(st.reward_chosen));
    json_object_set_new(fields, "reward_rejected", json_real(st.reward_rejected));
    if (ref_logp)
        json_object_set_new(fields, "kl", json_real(kl / n));
done:
    free(chosen);
    free(rejected);
    free(ref_w);
    free(ref_l);
    return rc;
}

int main(int argc, char **argv)
{
    ws_cli_omp_passive(argv);
    ws_cli cli = {.tool = "train-dpo"};
    ws_train_opts opts;
    ws_train_opts_default(&opts, "dpo", 1e-5);
    const char *ref_path = NULL;
    dpo_ctx ctx = {.beta = 0.1};
    enum { OPT_REF = 256, OPT_BETA, OPT_NLL, OPT_HELP, OPT_VERSION };
    static const struct option longopts[] = {WS_TRAIN_LONGOPTS,
                                             {"ref", required_argument, 0, OPT_REF},
                                             {"beta", required_argument, 0, OPT_BETA},
                                             {"nll-coef", required_argument, 0, OPT_NLL},
                                             {"quiet", no_argument, 0, 'q'},
                                             {"help", no_argument, 0, OPT_HELP},
                                             {"version", no_argument, 0, OPT_VERSION},
                                             {0, 0, 0, 0}};
    /* what --resume restores (with the shared settings) unless given again */
    ws_run_setting settings[] = {{"beta", 'd', &ctx.beta, 0}, {"nll-coef", 'd', &ctx.nll_coef, 0}};
    opts.tool_settings = settings;
    opts.n_tool_settings = 2;
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
        case 'q': cli.quiet = 1; break;
        case OPT_HELP: usage(&opts); return 0;
        case OPT_VERSION: ws_cli_version(&cli); return 0;
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
            !(ref_be = ws_backend_open(opts.device, opts.gpu_math, &err)) || ws_model_to_backend(ctx.ref, ref_be, &err))
            ws_cli_die(&cli, WS_EXIT_FAIL, "--ref: %s", err.msg);
    }
    int status = ws_train_dataset_main(&cli, &opts, WS_NEED_PAIR, (const char *const *)argv + optind, argc - optind,
                                       dpo_loss, &ctx);
    ws_model_free(ctx.ref);
    ws_backend_close(ref_be);
    free(ctx.nll_grad);
    return status;
}
