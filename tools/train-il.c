/* train-il: behaviour cloning of the choice model on tokenized preferred trajectories. */
#include <stdio.h>
#include <stdlib.h>

#include "cli.h"
#include "objectives.h"
#include "trainloop.h"

static void usage(const ws_train_opts *defaults)
{
    printf("Usage: train-il -o CKPT [OPTION]... [TOKENS]...\n"
           "Imitation learning: minimise -log pi(a* | s) over each state's valid actions, averaged\n"
           "over the batch, on tokens records with a \"target\" (tokenize's output for\n"
           "trajectories). Writes the checkpoint atomically and one metrics record per update\n"
           "(loss, accuracy, lr, grad_norm, tokens/s, states/s) to stdout or --metrics.\n\n%s",
           ws_train_usage(defaults));
}

static int il_loss(void *user, ws_model *policy, const ws_batch *b, const ws_decision_data *const *items,
                   ws_real *dlogits, json_t *fields, ws_err *err)
{
    (void)user;
    int n = b->n_decisions, *target = malloc((size_t)n * sizeof *target);
    if (!target)
        return ws_fail(err, "out of memory");
    for (int i = 0; i < n; i++)
        target[i] = items[i]->target;
    ws_il_stats st;
    ws_il_objective(ws_model_logp(policy), b->n_actions, target, n, dlogits, &st);
    free(target);
    json_object_set_new(fields, "loss", json_real(st.loss));
    json_object_set_new(fields, "accuracy", json_real(st.accuracy));
    return 0;
}

int main(int argc, char **argv)
{
    ws_cli_omp_wait(argv, WS_OMP_SPINCOUNT);
    ws_cli cli = {.tool = "train-il"};
    ws_train_opts opts;
    /* the imitation recipe (docs/results, "The imitation plateau" and "On WebShop's own split"): a
     * new model's head learns at ten times the encoder's rate; each option decision and each
     * results-page decision (the product choice, learnt last) counts twice an epoch */
    ws_train_opts_default(&opts, "il", 1e-4);
    opts.new_head_scale = 10;
    opts.repeat[WS_DECISION_OPTION] = 2;
    opts.repeat[WS_DECISION_RESULTS] = 2;
    enum { OPT_HELP = 256, OPT_VERSION };
    static const struct option longopts[] = {WS_TRAIN_LONGOPTS, {"quiet", no_argument, 0, 'q'},
                                             {"help", no_argument, 0, OPT_HELP},
                                             {"version", no_argument, 0, OPT_VERSION}, {0, 0, 0, 0}};
    int c;
    while ((c = ws_cli_getopt(&cli, argc, argv, "b:d:o:q", longopts, NULL)) != -1) {
        if (ws_train_option(&opts, &cli, c, optarg))
            continue;
        switch (c) {
        case 'q': cli.quiet = 1; break;
        case OPT_HELP: usage(&opts); return 0;
        case OPT_VERSION: ws_cli_version(&cli); return 0;
        default: ws_cli_usage_error(&cli, "unknown option");
        }
    }
    return ws_train_dataset_main(&cli, &opts, WS_NEED_TARGET, (const char *const *)argv + optind, argc - optind,
                                 il_loss, NULL);
}
