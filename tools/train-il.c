/* train-il: behaviour cloning of the choice model on tokenized preferred trajectories. */
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "agent.h"
#include "catalog.h"
#include "cli.h"
#include "encode.h"
#include "env.h"
#include "interrupt.h"
#include "modelio.h"
#include "progress.h"
#include "runner.h"
#include "stream.h"
#include "train.h"
#include "wordpiece.h"

static void usage(void)
{
    printf("Usage: train-il -o CKPT [OPTION]... [TOKENS]...\n"
           "Imitation learning: minimise -log pi(a* | s) over each state's valid actions, on tokens\n"
           "records with a \"target\" (tokenize's output for trajectories). Writes the checkpoint\n"
           "(and CKPT.optim, AdamW's state) atomically, and metrics records to stdout or --metrics.\n\n"
           "Model (one of; default --bert models/minilm-l6):\n"
           "      --bert DIR        start from a pre-trained BERT directory (make model)\n"
           "      --config NAME     random initialisation: tiny, mini, or a JSON file\n"
           "      --init CKPT       start from a checkpoint's weights (fresh optimiser)\n"
           "      --resume CKPT     continue a run: weights, optimiser state and step\n"
           "Training:\n"
           "      --steps N         optimiser updates in all (default: --epochs over the data)\n"
           "      --epochs N        passes over the data when --steps is not given [3]\n"
           "  -b, --batch N         states per update [8]\n"
           "      --lr X            peak learning rate [2e-5]\n"
           "      --min-lr X        floor of the decay [0]\n"
           "      --warmup N        warm-up updates [10%% of the steps]\n"
           "      --schedule NAME   linear, cosine or constant [linear]\n"
           "      --weight-decay X  AdamW's decoupled weight decay [0.01]\n"
           "      --clip X          clip the gradient norm at X; 0: never [1.0]\n"
           "      --seed N          data order and random initialisation [1]\n"
           "      --threads N       CPU threads [all]\n"
           "      --save-every N    also save every N updates [0: at the end only]\n"
           "      --stop-after N    stop (and save) after N updates in this run, keeping the schedule\n"
           "                        of --steps: a long run in slices, each continued with --resume\n"
           "Evaluation during training:\n"
           "      --eval-goals FILE goal records to play with the model (argmax) every --eval-every\n"
           "      --eval-every N    updates between evaluations [100]\n"
           "      --eval-n N        goals per evaluation [100]\n"
           "      --vocab FILE      vocabulary for encoding observations [models/minilm-l6/vocab.txt]\n"
           "  -d, --data DIR        catalog directory [$WEBSHOP_DATA or ../shared/webshop-1k]\n"
           "Output:\n"
           "  -o, --output CKPT     the checkpoint (required)\n"
           "      --metrics FILE    metrics records here instead of stdout\n"
           "  -q, --quiet           no progress on stderr\n"
           "      --help, --version\n\n"
           "Interrupted (SIGINT/SIGTERM), it finishes the update in progress and saves the checkpoint,\n"
           "so --resume continues the same run. Exit status: 0, 1 (error), 2 (usage), 130/143.\n");
}

typedef struct evaluator {
    ws_catalog cat;
    ws_env *env;
    ws_runner *runner;
    ws_agent agent;
    ws_vocab *vocab;
    json_t **goals;
    int n_goals;
} evaluator;

static int eval_setup(evaluator *ev, ws_model *m, const char *goals_path, int n, const char *data,
                      const char *vocab_path, ws_err *err)
{
    memset(ev, 0, sizeof *ev);
    char buf[4096];
    const char *dir = ws_data_dir(data, buf, sizeof buf);
    if (!dir)
        return ws_fail(err, "%s: no WebShop data directory for --eval-goals", buf);
    ws_reader_opts ro = {.type = "goal", .version = 1};
    ws_reader *r = ws_reader_open(goals_path, &ro, err);
    if (!r)
        return -1;
    ev->goals = calloc((size_t)n, sizeof *ev->goals);
    json_t *g;
    int rc = WS_EOF;
    while (ev->goals && ev->n_goals < n && (rc = ws_reader_next(r, &g, err)) == WS_RECORD)
        ev->goals[ev->n_goals++] = g;
    ws_reader_close(r);
    if (!ev->goals || rc == WS_ERROR || rc == WS_INTERRUPTED)
        return ev->goals ? -1 : ws_fail(err, "out of memory");
    if (ws_catalog_load(&ev->cat, dir, 233, err) || !(ev->env = ws_env_new(&ev->cat, NULL, err)) ||
        !(ev->vocab = ws_vocab_load(vocab_path, err)))
        return -1;
    ev->agent = (ws_agent){.model = m, .vocab = ev->vocab, .max_state_len = WS_DEFAULT_MAX_STATE_LEN,
                           .max_action_len = WS_DEFAULT_MAX_ACTION_LEN};
    ws_runner_opts o = {.episode = {.max_steps = 15}, .parallel = 16, .agent = &ev->agent, .policy_name = "train-il"};
    return (ev->runner = ws_runner_new(ev->env, &o, err)) ? 0 : -1;
}

static int eval_run(evaluator *ev, double *success, double *score, ws_err *err)
{
    int slots = ws_runner_parallel(ev->runner);
    json_t **out = calloc((size_t)slots, sizeof *out);
    double s = 0, r = 0;
    if (!out)
        return ws_fail(err, "out of memory");
    for (int i = 0; i < ev->n_goals; i += slots) {
        int k = ev->n_goals - i < slots ? ev->n_goals - i : slots;
        if (ws_runner_play(ev->runner, ev->goals + i, k, out, err)) {
            free(out);
            return -1;
        }
        for (int j = 0; j < k; j++) {
            double reward = json_real_value(json_object_get(out[j], "reward"));
            s += reward == 1.0;
            r += reward;
            json_decref(out[j]);
        }
    }
    free(out);
    *success = ev->n_goals ? s / ev->n_goals : 0;
    *score = ev->n_goals ? 100.0 * r / ev->n_goals : 0;
    return 0;
}

static void eval_free(evaluator *ev)
{
    ws_runner_free(ev->runner);
    ws_env_free(ev->env);
    if (ev->cat.products)
        ws_catalog_free(&ev->cat);
    ws_vocab_free(ev->vocab);
    for (int i = 0; i < ev->n_goals; i++)
        json_decref(ev->goals[i]);
    free(ev->goals);
}

static ws_model *build_model(const ws_cli *cli, const char *bert, const char *config, const char *init,
                             const char *resume, long seed, ws_ckpt_meta *meta, ws_err *err)
{
    int given = !!bert + !!config + !!init + !!resume;
    if (given > 1)
        ws_cli_usage_error(cli, "give at most one of --bert, --config, --init and --resume");
    if (resume || init)
        return ws_modelio_load(resume ? resume : init, meta, err);
    if (config) {
        ws_model_config cfg;
        if (ws_model_config_preset(config, 30526, &cfg)) {
            json_error_t jerr;
            json_t *j = json_load_file(config, 0, &jerr);
            if (!j)
                return ws_fail(err, "--config %s: neither tiny, mini nor a JSON file: %s", config, jerr.text), NULL;
            int rc = ws_model_config_from_json(j, &cfg, err);
            json_decref(j);
            if (rc)
                return NULL;
        }
        ws_model *m = ws_model_new(&cfg, err);
        if (m)
            ws_model_init_random(m, (uint64_t)seed);
        return m;
    }
    return ws_modelio_from_bert(bert ? bert : "models/minilm-l6", 30526, (uint64_t)seed, err);
}

static int save(ws_model *m, ws_trainer *t, const char *path, const char *vocab_sha, long seed, ws_err *err)
{
    json_t *cfg = ws_model_config_to_json(ws_model_get_config(m));
    char *cfg_text = cfg ? json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(cfg);
    if (!cfg_text)
        return ws_fail(err, "out of memory");
    ws_kv extra[] = {{"stage", "il"}};
    ws_ckpt_meta meta = {.config = cfg_text, .vocab_sha256 = vocab_sha, .step = t->step, .seed = (uint64_t)seed,
                         .extra = extra, .n_extra = 1};
    int rc = ws_modelio_save(m, path, &meta, t->adam_m, t->adam_v, err);
    free(cfg_text);
    return rc;
}

int main(int argc, char **argv)
{
    ws_cli cli = {.tool = "train-il"};
    const char *bert = NULL, *config = NULL, *init = NULL, *resume = NULL, *output = NULL, *metrics_path = "-";
    const char *eval_goals = NULL, *vocab_path = "models/minilm-l6/vocab.txt", *data = NULL;
    long steps = -1, epochs = 3, batch = 8, warmup = -1, seed = 1, threads = 0, save_every = 0;
    long eval_every = 100, eval_n = 100, stop_after = -1;
    double clip = 1.0;
    ws_adamw_opts adam = ws_adamw_defaults();
    ws_lr_schedule sched = {.kind = WS_LR_LINEAR, .lr = 2e-5};
    enum { OPT_BERT = 256, OPT_CONFIG, OPT_INIT, OPT_RESUME, OPT_STEPS, OPT_EPOCHS, OPT_LR, OPT_MIN_LR, OPT_WARMUP,
           OPT_SCHEDULE, OPT_WD, OPT_CLIP, OPT_SEED, OPT_THREADS, OPT_SAVE_EVERY, OPT_EVAL_GOALS, OPT_EVAL_EVERY,
           OPT_EVAL_N, OPT_VOCAB, OPT_METRICS, OPT_STOP_AFTER, OPT_HELP, OPT_VERSION };
    static const struct option longopts[] = {
        {"bert", required_argument, 0, OPT_BERT}, {"config", required_argument, 0, OPT_CONFIG},
        {"init", required_argument, 0, OPT_INIT}, {"resume", required_argument, 0, OPT_RESUME},
        {"steps", required_argument, 0, OPT_STEPS}, {"epochs", required_argument, 0, OPT_EPOCHS},
        {"batch", required_argument, 0, 'b'}, {"lr", required_argument, 0, OPT_LR},
        {"min-lr", required_argument, 0, OPT_MIN_LR}, {"warmup", required_argument, 0, OPT_WARMUP},
        {"schedule", required_argument, 0, OPT_SCHEDULE}, {"weight-decay", required_argument, 0, OPT_WD},
        {"clip", required_argument, 0, OPT_CLIP}, {"seed", required_argument, 0, OPT_SEED},
        {"threads", required_argument, 0, OPT_THREADS}, {"save-every", required_argument, 0, OPT_SAVE_EVERY},
        {"stop-after", required_argument, 0, OPT_STOP_AFTER},
        {"eval-goals", required_argument, 0, OPT_EVAL_GOALS}, {"eval-every", required_argument, 0, OPT_EVAL_EVERY},
        {"eval-n", required_argument, 0, OPT_EVAL_N}, {"vocab", required_argument, 0, OPT_VOCAB},
        {"data", required_argument, 0, 'd'}, {"output", required_argument, 0, 'o'},
        {"metrics", required_argument, 0, OPT_METRICS}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, OPT_HELP}, {"version", no_argument, 0, OPT_VERSION}, {0, 0, 0, 0}};
    int c;
    while ((c = getopt_long(argc, argv, "b:d:o:q", longopts, NULL)) != -1) {
        switch (c) {
        case OPT_BERT: bert = optarg; break;
        case OPT_CONFIG: config = optarg; break;
        case OPT_INIT: init = optarg; break;
        case OPT_RESUME: resume = optarg; break;
        case OPT_STEPS: steps = ws_cli_long(&cli, "--steps", optarg, 0, 100000000); break;
        case OPT_EPOCHS: epochs = ws_cli_long(&cli, "--epochs", optarg, 1, 100000); break;
        case 'b': batch = ws_cli_long(&cli, "--batch", optarg, 1, 100000); break;
        case OPT_LR: sched.lr = ws_cli_double(&cli, "--lr", optarg, 0, 10); break;
        case OPT_MIN_LR: sched.min_lr = ws_cli_double(&cli, "--min-lr", optarg, 0, 10); break;
        case OPT_WARMUP: warmup = ws_cli_long(&cli, "--warmup", optarg, 0, 100000000); break;
        case OPT_SCHEDULE:
            if (ws_lr_kind_parse(optarg, &sched.kind))
                ws_cli_usage_error(&cli, "--schedule: expected linear, cosine or constant, got '%s'", optarg);
            break;
        case OPT_WD: adam.weight_decay = ws_cli_double(&cli, "--weight-decay", optarg, 0, 10); break;
        case OPT_CLIP: clip = ws_cli_double(&cli, "--clip", optarg, 0, 1e9); break;
        case OPT_SEED: seed = ws_cli_long(&cli, "--seed", optarg, 0, 0x7fffffffL); break;
        case OPT_THREADS: threads = ws_cli_long(&cli, "--threads", optarg, 1, 1024); break;
        case OPT_SAVE_EVERY: save_every = ws_cli_long(&cli, "--save-every", optarg, 0, 100000000); break;
        case OPT_STOP_AFTER: stop_after = ws_cli_long(&cli, "--stop-after", optarg, 1, 100000000); break;
        case OPT_EVAL_GOALS: eval_goals = optarg; break;
        case OPT_EVAL_EVERY: eval_every = ws_cli_long(&cli, "--eval-every", optarg, 1, 100000000); break;
        case OPT_EVAL_N: eval_n = ws_cli_long(&cli, "--eval-n", optarg, 1, 1000000); break;
        case OPT_VOCAB: vocab_path = optarg; break;
        case 'd': data = optarg; break;
        case 'o': output = optarg; break;
        case OPT_METRICS: metrics_path = optarg; break;
        case 'q': cli.quiet = 1; break;
        case OPT_HELP: usage(); return 0;
        case OPT_VERSION: ws_cli_version(&cli); return 0;
        default: ws_cli_usage_error(&cli, "unknown option");
        }
    }
    if (!output)
        ws_cli_usage_error(&cli, "-o CKPT is required");
    ws_backend_set_threads((int)threads);
    ws_interrupt_install();
    ws_err err;
    ws_ckpt_meta meta = {0};
    ws_model *m = build_model(&cli, bert, config, init, resume, seed, &meta, &err);
    if (!m)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);

    ws_dataset data_set;
    if (ws_dataset_load(&data_set, (const char *const *)argv + optind, argc - optind, WS_NEED_TARGET,
                        ws_model_get_config(m)->vocab_size, &err))
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    if (data_set.n == 0)
        ws_cli_die(&cli, WS_EXIT_FAIL, "no training records");
    const char *vocab_sha = data_set.vocab_sha256;
    if (meta.vocab_sha256 && *meta.vocab_sha256 && *vocab_sha && strcmp(meta.vocab_sha256, vocab_sha) != 0)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s: the checkpoint's vocabulary differs from the records' (sha256 %.12s... vs %.12s...)",
                   resume ? resume : init, meta.vocab_sha256, vocab_sha);

    long per_epoch = (long)((data_set.n + (size_t)batch - 1) / (size_t)batch);
    if (steps < 0)
        steps = per_epoch * epochs;
    sched.total_steps = steps;
    sched.warmup_steps = warmup >= 0 ? (warmup < steps ? warmup : steps) : steps / 10;
    ws_trainer tr;
    if (ws_trainer_init(&tr, m, &adam, &sched, clip, &err))
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    if (resume) {
        ws_ckpt_meta rmeta = {0};
        if (ws_modelio_load_into(m, resume, tr.adam_m, tr.adam_v, &rmeta, &err))
            ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
        tr.step = rmeta.step;
        seed = (long)rmeta.seed; /* the resumed run keeps its data order */
        ws_ckpt_meta_free(&rmeta);
    }
    ws_ckpt_meta_free(&meta);

    evaluator ev = {0};
    if (eval_goals && eval_setup(&ev, m, eval_goals, (int)eval_n, data, vocab_path, &err))
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    ws_writer *mw = ws_writer_open(metrics_path, NULL, &err);
    if (!mw)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);

    size_t *order = malloc(data_set.n * sizeof *order);
    ws_real *dlogits = NULL;
    size_t dlogits_cap = 0;
    ws_batch_builder bb = {0};
    long current_epoch = -1;
    ws_progress progress;
    ws_progress_start(&progress, cli.tool, "steps", steps, cli.quiet);
    double started = ws_now();
    int status = WS_EXIT_OK;
    if (!order)
        ws_cli_die(&cli, WS_EXIT_FAIL, "out of memory");
    int64_t last_step = stop_after > 0 && tr.step + stop_after < steps ? tr.step + stop_after : steps;
    while (tr.step < last_step && !ws_interrupted()) {
        long epoch = (long)(tr.step / per_epoch), within = (long)(tr.step % per_epoch);
        if (epoch != current_epoch) {
            ws_dataset_epoch_order(&data_set, (uint64_t)seed, epoch, order);
            current_epoch = epoch;
        }
        size_t first = (size_t)within * (size_t)batch;
        int n = (int)(data_set.n - first < (size_t)batch ? data_set.n - first : (size_t)batch);
        double t0 = ws_now();
        const ws_batch *b = ws_batch_build(&bb, &data_set, order + first, n, &err);
        if (!b || ws_model_forward(m, b, &err))
            ws_cli_die(&cli, WS_EXIT_FAIL, "step %lld: %s", (long long)tr.step + 1, err.msg);
        size_t n_act = 0;
        for (int i = 0; i < n; i++)
            n_act += (size_t)b->n_actions[i];
        if (n_act > dlogits_cap) {
            dlogits_cap = n_act * 2;
            if (!(dlogits = realloc(dlogits, dlogits_cap * sizeof *dlogits)))
                ws_cli_die(&cli, WS_EXIT_FAIL, "out of memory");
        }
        /* cross-entropy over each state's actions, averaged over the batch */
        const ws_real *logp = ws_model_logp(m);
        double loss = 0;
        int correct = 0;
        for (int i = 0, a = 0; i < n; i++) {
            const ws_decision_data *it = &data_set.items[order[first + (size_t)i]];
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
        loss /= n;
        ws_model_zero_grad(m);
        double gnorm, lr;
        if (ws_model_backward(m, dlogits, NULL, &err) || ws_trainer_update(&tr, &gnorm, &lr, &err))
            ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
        double dt = ws_now() - t0;
        json_t *rec = json_pack("{s:s, s:i, s:s, s:I, s:f, s:f, s:f, s:f, s:f, s:f, s:f, s:I}", "type", "metrics", "v", 1,
                                "stage", "il", "step", (json_int_t)tr.step, "loss", loss, "accuracy", (double)correct / n,
                                "lr", lr, "grad_norm", gnorm, "tokens_per_s", (double)ws_model_batch_tokens(m) / dt,
                                "states_per_s", n / dt, "elapsed_s", ws_now() - started, "epoch", (json_int_t)epoch);
        if (!rec || ws_writer_put(mw, rec, &err))
            ws_cli_die(&cli, WS_EXIT_FAIL, "%s", rec ? err.msg : "out of memory");
        json_decref(rec);
        ws_progress_update(&progress, (long)tr.step);
        if (save_every && tr.step % save_every == 0 && tr.step < steps && save(m, &tr, output, vocab_sha, seed, &err))
            ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
        if (ev.runner && (tr.step % eval_every == 0 || tr.step == steps)) {
            double success = 0, score = 0;
            if (eval_run(&ev, &success, &score, &err))
                ws_cli_die(&cli, WS_EXIT_FAIL, "evaluation: %s", err.msg);
            rec = json_pack("{s:s, s:i, s:s, s:I, s:f, s:f, s:i, s:f}", "type", "metrics", "v", 1, "stage", "eval",
                            "step", (json_int_t)tr.step, "success_rate", success, "score", score, "episodes",
                            ev.n_goals, "elapsed_s", ws_now() - started);
            if (!rec || ws_writer_put(mw, rec, &err))
                ws_cli_die(&cli, WS_EXIT_FAIL, "%s", rec ? err.msg : "out of memory");
            json_decref(rec);
        }
    }
    ws_progress_end(&progress);
    /* the checkpoint is saved on interruption too: --resume continues from the last update */
    if (save(m, &tr, output, vocab_sha, seed, &err))
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    if (ws_interrupted()) {
        ws_cli_warn(&cli, "interrupted after update %lld: checkpoint saved to %s", (long long)tr.step, output);
        if (ws_writer_close(mw, &err))
            ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
        status = ws_interrupt_status();
    } else {
        status = ws_cli_close_output(&cli, mw);
    }
    eval_free(&ev);
    free(order);
    free(dlogits);
    ws_batch_builder_free(&bb);
    ws_trainer_free(&tr);
    ws_dataset_free(&data_set);
    ws_model_free(m);
    return status;
}
