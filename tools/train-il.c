/* train-il: behaviour cloning of the choice model on tokenized preferred trajectories. */
#include <math.h>
#include <stdio.h>

#include "cli.h"
#include "trainloop.h"

static void usage(void)
{
    printf("Usage: train-il -o CKPT [OPTION]... [TOKENS]...\n"
           "Imitation learning: minimise -log pi(a* | s) over each state's valid actions, averaged\n"
           "over the batch, on tokens records with a \"target\" (tokenize's output for\n"
           "trajectories). Writes the checkpoint atomically and one metrics record per update\n"
           "(loss, accuracy, lr, grad_norm, tokens/s, states/s) to stdout or --metrics.\n\n%s",
           ws_train_usage());
}

/* Cross-entropy over each state's actions: d loss / d logit_j = (p_j - [j = target]) / n. */
static int il_loss(void *user, ws_model *policy, const ws_batch *b, const ws_decision_data *const *items,
                   ws_real *dlogits, json_t *fields, ws_err *err)
{
    (void)user;
    (void)err;
    const ws_real *logp = ws_model_logp(policy);
    int n = b->n_decisions, correct = 0;
    double loss = 0;
    for (int i = 0, a = 0; i < n; i++) {
        const ws_decision_data *it = items[i];
        int best = 0;
        for (int j = 0; j < it->n_actions; j++) {
            dlogits[a + j] = (ws_real)((exp(logp[a + j]) - (j == it->target)) / n);
            if (logp[a + j] > logp[a + best])
                best = j;
        }
        loss -= logp[a + it->target];
        correct += best == it->target;
        a += it->n_actions;
    }
    json_object_set_new(fields, "loss", json_real(loss / n));
    json_object_set_new(fields, "accuracy", json_real((double)correct / n));
    return 0;
}

int main(int argc, char **argv)
{
    ws_cli cli = {.tool = "train-il"};
    ws_train_opts opts;
    ws_train_opts_default(&opts, "il", 2e-5);
    enum { OPT_HELP = 256, OPT_VERSION };
    static const struct option longopts[] = {WS_TRAIN_LONGOPTS, {"quiet", no_argument, 0, 'q'},
                                             {"help", no_argument, 0, OPT_HELP},
                                             {"version", no_argument, 0, OPT_VERSION}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "b:d:o:q", longopts, NULL)) != -1) {
        if (ws_train_option(&opts, &cli, c, optarg))
            continue;
        switch (c) {
        case 'q': cli.quiet = 1; break;
        case OPT_HELP: usage(); return 0;
        case OPT_VERSION: ws_cli_version(&cli); return 0;
        default: ws_cli_usage_error(&cli, "unknown option");
        }
    }
    return ws_train_dataset_main(&cli, &opts, WS_NEED_TARGET, (const char *const *)argv + optind, argc - optind,
                                 il_loss, NULL);
}
