#include "trainloop.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "encode.h"
#include "goals.h"
#include "inputs.h"
#include "interrupt.h"
#include "modelio.h"
#include "playopts.h"
#include "progress.h"
#include "schemas.h"
#include "wordpiece.h"

void ws_train_opts_default(ws_train_opts *o, const char *stage, double lr)
{
    *o = (ws_train_opts){.stage = stage, .metrics_path = "-", .steps = -1, .epochs = 3, .batch = 8, .warmup = -1,
                         .seed = 1, .save_minutes = 10, .clip = 1.0, .head_lr = -1, .new_head_scale = 1, .segments = WS_SEGMENTS_MATCH,
                         .item_titles = 1,
                         .eval_every = 100, .eval_n = 100,
                         .max_state_len = WS_DEFAULT_MAX_STATE_LEN,
                         .max_action_len = WS_DEFAULT_MAX_ACTION_LEN};
    o->adam = ws_adamw_defaults();
    ws_play_opts play; /* the environment's defaults are the players' */
    ws_play_opts_default(&play);
    o->episode = play.episode;
    o->catalog_seed = play.catalog_seed;
    o->schedule = (ws_lr_schedule){.kind = WS_LR_LINEAR, .lr = lr};
    for (int k = 0; k < WS_N_DECISION_KINDS; k++)
        o->repeat[k] = 1;
}

/* --oversample KIND=N[,KIND=N]...: the whole set (a kind it does not name is visited once), so that
 * a command says every weight it trains with whatever the trainer's defaults are. */
static void parse_oversample(ws_train_opts *o, const ws_cli *cli, const char *arg)
{
    char *copy = strdup(arg), *save = NULL;
    if (!copy)
        ws_cli_die(cli, WS_EXIT_FAIL, "out of memory");
    for (int k = 0; k < WS_N_DECISION_KINDS; k++)
        o->repeat[k] = 1;
    for (char *item = strtok_r(copy, ",", &save); item; item = strtok_r(NULL, ",", &save)) {
        char *eq = strchr(item, '=');
        ws_decision_kind kind;
        if (eq)
            *eq = 0;
        if (!eq || ws_decision_kind_parse(item, &kind))
            ws_cli_usage_error(cli, "--oversample: expected KIND=N with KIND one of search, results, option, buy, "
                                    "navigation, got '%s'", arg);
        o->repeat[kind] = (int)ws_cli_long(cli, "--oversample", eq + 1, 1, 1000);
    }
    free(copy);
}

const char *ws_train_usage(const ws_train_opts *d)
{
    /* the dataset trainers' length, batch and data options; train-ppo's come from its own */
    int dataset = strcmp(d->stage, "ppo") != 0;
    static char text[8192];
    char head_lr[80] = "--lr", oversample[160] = "none";
    if (d->head_lr >= 0)
        snprintf(head_lr, sizeof head_lr, "%g", d->head_lr);
    else if (d->new_head_scale != 1)
        snprintf(head_lr, sizeof head_lr, "%g x --lr for a new model, else --lr", d->new_head_scale);
    for (int k = 0, n = 0; k < WS_N_DECISION_KINDS; k++)
        if (d->repeat[k] > 1)
            n += snprintf(oversample + n, sizeof oversample - (size_t)n, "%s%s=%d", n ? "," : "",
                          ws_decision_kind_name((ws_decision_kind)k), d->repeat[k]);
    char oversample_help[400] = "";
    if (dataset)
        snprintf(oversample_help, sizeof oversample_help,
                 "      --oversample KIND=N[,KIND=N]  visit each decision of KIND (search, results,\n"
                 "                        option, buy, navigation: the records' \"kind\") N times an\n"
                 "                        epoch, a kind not named once [%s]\n", oversample);
    snprintf(text, sizeof text,
           "Model (one of; default --bert $WEBSHOP_MODEL, else the project's models/minilm-l6):\n"
           "      --bert DIR        start from a pre-trained BERT directory (make model)\n"
           "      --config NAME     random initialisation: tiny, mini, or a JSON file\n"
           "      --init CKPT       start from a checkpoint's weights (fresh optimiser)\n"
           "      --resume CKPT     continue a run: weights, optimiser state, step, seed and the\n"
           "                        training settings it records (--steps, --lr, -b..., the tool's\n"
           "                        own); an option given again overrides, with a note\n"
           "      --segments NAME   token types of a new model: none (WebShop's model), instruction\n"
           "                        (the state's instruction is segment B) or match (also each\n"
           "                        action token found in the instruction) [match]\n"
           "      --item-titles yes|no  a new model reads a product's listing (title, price) with\n"
           "                        its click[ASIN] action, as WebShop's click-item-name [yes]\n"
           "Training:\n"
           "%s"
           "      --lr X            peak learning rate [%g]\n"
           "      --head-lr X       peak learning rate of the head (the scorer and value head on top\n"
           "                        of the encoder, new and random at --bert), same schedule\n"
           "                        [%s]\n"
           "      --min-lr X        floor of the decay [0]\n"
           "      --warmup N        warm-up updates [10%% of the steps]\n"
           "      --schedule NAME   linear, cosine or constant [linear]\n"
           "%s"
           "      --weight-decay X  AdamW's decoupled weight decay [0.01]\n"
           "      --clip X          clip the gradient norm at X; 0: never [1.0]\n"
           "      --seed N          data order and random initialisation [1]\n"
           "      --threads N       CPU threads [all]; the same seed and threads give the same bits\n"
           "      --device NAME     cpu, cuda, cuda:N or auto (cuda when a GPU is present) [auto]\n"
           "      --gpu-math NAME   matrix products on a GPU: fp32, tf32 or bf16 (fp32 weights) [tf32]\n"
           "      --cpu-math NAME   matrix products on the CPU: fp32, or bf16 on AVX512_BF16 CPUs\n"
           "                        (bf16 inputs, fp32 sums and weights; on AMX tiles where the\n"
           "                        CPU has them), or auto: bf16 where the CPU has it, else\n"
           "                        fp32 [fp32]\n"
           "      --save-every N    also save CKPT.partial every N updates [0: never]\n"
           "      --save-minutes X  also save CKPT.partial every X minutes; 0: never [10]\n"
           "      --stop-after N    stop (and save CKPT.partial) after N updates of this invocation,\n"
           "                        keeping the run's schedule: a long run in slices, each\n"
           "                        continued with --resume CKPT.partial\n"
           "Evaluation during training:\n"
           "      --eval-goals FILE goal records played with the model (argmax) every --eval-every updates\n"
           "      --eval-every N    [100]\n"
           "      --eval-n N        goals per evaluation [100]\n"
           "      --max-steps N, --obs text|text_rich, --mark-chosen, --catalog-seed N   the\n"
           "                        environment of --eval-goals (and of train-ppo's rollouts), as\n"
           "                        for rollout [15, text, off, " WS_DEFAULT_CATALOG_SEED_TEXT "]\n"
           "%s"
           "      --vocab FILE      vocabulary for encoding observations [the model directory's vocab.txt]\n"
           "      --max-state-len N, --max-action-len N   token limits when playing [512, 128]\n"
           "  -d, --data DIR        catalog directory [$WEBSHOP_DATA or ../shared/webshop-1k]\n"
           "Output:\n"
           "  -o, --output CKPT     the checkpoint (required), with CKPT.optim (AdamW's state),\n"
           "                        written when the run completes\n"
           "      --metrics FILE    metrics records here instead of stdout (--resume: continued);\n"
           "                        on a terminal only with --metrics -\n"
           "  -q, --quiet           no progress on stderr\n"
           "      --help, --version\n\n"
           "Interrupted (SIGINT/SIGTERM/SIGHUP), the run finishes the update in progress and saves\n"
           "CKPT.partial, which --resume CKPT.partial continues; killed, it leaves the last periodic\n"
           "save there. CKPT itself exists only once the run is complete (CKPT.partial is then removed).\n"
           WS_CLI_EXIT_STATUS_HELP "Interrupted, it saves the run as CKPT.partial, which --resume continues.\n"
           "Data parallel: under mpirun every rank takes its share of each batch and the gradients are\n"
           "summed (MPI; NCCL on GPUs); rank 0 writes the checkpoint and the metrics. Give mpirun\n"
           "--mca odls_base_sigkill_timeout 60: by default it kills the ranks a second after Ctrl-C,\n"
           "before they can save.\n",
           dataset ? "      --steps N         optimiser updates in all\n"
                     "      --epochs N        passes over the data when --steps is not given [3]\n"
                     "  -b, --batch N         states (decisions) per update [8]\n"
                   : "",
           d->schedule.lr, head_lr,
           oversample_help,
           dataset ? "      --valid FILE      held-out tokens records: the loss and its metrics on them,\n"
                     "                        forward passes only, at the start, every --eval-every updates\n"
                     "                        and at the end (\"stage\": \"valid\"), also by kind of\n"
                     "                        decision (\"by_kind\")\n"
                   : "");
    return text;
}

int ws_train_option(ws_train_opts *o, const ws_cli *cli, int c, const char *arg)
{
    if (strcmp(o->stage, "ppo") == 0) { /* the dataset trainers' options (--valid: refused below) */
        const char *name = c == WS_TOPT_STEPS ? "--steps" : c == WS_TOPT_EPOCHS ? "--epochs"
                         : c == 'b' || c == WS_TOPT_BATCH ? "--batch" : c == WS_TOPT_OVERSAMPLE ? "--oversample"
                         : NULL;
        if (name)
            ws_cli_usage_error(cli, "%s does not apply to train-ppo: its updates are --iterations x --ppo-epochs x "
                               "--minibatches on its own rollouts", name);
    }
    switch (c) {
    case WS_TOPT_BERT: o->bert = arg; break;
    case WS_TOPT_CONFIG: o->config = arg; break;
    case WS_TOPT_INIT: o->init = arg; break;
    case WS_TOPT_RESUME: o->resume = arg; break;
    case WS_TOPT_STEPS: o->steps = ws_cli_long(cli, "--steps", arg, 0, 100000000); break;
    case WS_TOPT_EPOCHS: o->epochs = ws_cli_long(cli, "--epochs", arg, 1, 100000); break;
    case 'b':
    case WS_TOPT_BATCH: o->batch = ws_cli_long(cli, "--batch", arg, 1, 100000); break;
    case WS_TOPT_LR: o->schedule.lr = ws_cli_double(cli, "--lr", arg, 0, 10); break;
    case WS_TOPT_HEAD_LR: o->head_lr = ws_cli_double(cli, "--head-lr", arg, 0, 10); break;
    case WS_TOPT_SEGMENTS:
        if ((o->segments = ws_segments_from_name(arg)) < 0)
            ws_cli_usage_error(cli, "--segments: none, instruction or match, not \"%s\"", arg);
        o->new_model_option = "--segments";
        break;
    case WS_TOPT_ITEM_TITLES:
        if (strcmp(arg, "yes") && strcmp(arg, "no"))
            ws_cli_usage_error(cli, "--item-titles: yes or no, not \"%s\"", arg);
        o->item_titles = strcmp(arg, "yes") == 0;
        o->new_model_option = "--item-titles";
        break;
    case WS_TOPT_OVERSAMPLE: parse_oversample(o, cli, arg); break;
    case WS_TOPT_MAX_STEPS: o->episode.max_steps = (int)ws_cli_long(cli, "--max-steps", arg, 1, 100000); break;
    case WS_TOPT_OBS: o->episode.obs_mode = ws_play_obs_mode(cli, arg); break;
    case WS_TOPT_MARK_CHOSEN: o->episode.mark_chosen = 1; break;
    case WS_TOPT_CATALOG_SEED: o->catalog_seed = ws_cli_long(cli, "--catalog-seed", arg, 0, 0x7fffffffL); break;
    case WS_TOPT_MIN_LR: o->schedule.min_lr = ws_cli_double(cli, "--min-lr", arg, 0, 10); break;
    case WS_TOPT_WARMUP: o->warmup = ws_cli_long(cli, "--warmup", arg, 0, 100000000); break;
    case WS_TOPT_SCHEDULE:
        if (ws_lr_kind_parse(arg, &o->schedule.kind))
            ws_cli_usage_error(cli, "--schedule: expected linear, cosine or constant, got '%s'", arg);
        break;
    case WS_TOPT_WD: o->adam.weight_decay = ws_cli_double(cli, "--weight-decay", arg, 0, 10); break;
    case WS_TOPT_CLIP: o->clip = ws_cli_double(cli, "--clip", arg, 0, 1e9); break;
    case WS_TOPT_SEED: o->seed = ws_cli_long(cli, "--seed", arg, 0, 0x7fffffffL); break;
    case WS_TOPT_THREADS: o->threads = ws_cli_long(cli, "--threads", arg, 1, 1024); break;
    case WS_TOPT_SAVE_EVERY: o->save_every = ws_cli_long(cli, "--save-every", arg, 0, 100000000); break;
    case WS_TOPT_SAVE_MINUTES: o->save_minutes = ws_cli_double(cli, "--save-minutes", arg, 0, 1e6); break;
    case WS_TOPT_STOP_AFTER: o->stop_after = ws_cli_long(cli, "--stop-after", arg, 1, 100000000); break;
    case WS_TOPT_EVAL_GOALS: o->eval_goals = arg; break;
    case WS_TOPT_EVAL_EVERY: o->eval_every = ws_cli_long(cli, "--eval-every", arg, 1, 100000000); break;
    case WS_TOPT_VALID: o->valid = arg; break;
    case WS_TOPT_EVAL_N: o->eval_n = ws_cli_long(cli, "--eval-n", arg, 1, 1000000); break;
    case WS_TOPT_VOCAB: o->vocab_path = arg; break;
    case WS_TOPT_DEVICE: o->device = arg; break;
    case WS_TOPT_GPU_MATH: o->gpu_math = arg; break;
    case WS_TOPT_CPU_MATH: o->cpu_math = arg; break;
    case 'd':
    case WS_TOPT_DATA: o->data = arg; break;
    case 'o':
    case WS_TOPT_OUTPUT: o->output = arg; break;
    case WS_TOPT_METRICS: o->metrics_path = arg; break;
    case WS_TOPT_MSL: o->max_state_len = (int)ws_cli_long(cli, "--max-state-len", arg, 2, 100000); break;
    case WS_TOPT_MAL: o->max_action_len = (int)ws_cli_long(cli, "--max-action-len", arg, 2, 100000); break;
    default: return 0;
    }
    o->given |= 1ull << ((c == 'b' ? WS_TOPT_BATCH : c == 'd' ? WS_TOPT_DATA : c == 'o' ? WS_TOPT_OUTPUT : c) - WS_TOPT_BERT);
    return 1;
}

void ws_train_tool_option_given(ws_train_opts *o, const char *name)
{
    for (int i = 0; i < o->n_tool_settings; i++)
        if (strcmp(o->tool_settings[i].name, name) == 0)
            o->tool_settings[i].given = 1;
}

#define GIVEN(o, code) (int)(((o)->given >> ((code) - WS_TOPT_BERT)) & 1)
enum { N_SHARED = 16 };

/* The shared options that define the run (not where its files are or how it is watched). */
static void shared_settings(ws_train_opts *o, ws_run_setting t[N_SHARED])
{
    const ws_run_setting s[N_SHARED] = {
        {"steps", 'l', &o->steps, GIVEN(o, WS_TOPT_STEPS) || GIVEN(o, WS_TOPT_EPOCHS)},
        {"batch", 'l', &o->batch, GIVEN(o, WS_TOPT_BATCH)},
        {"lr", 'd', &o->schedule.lr, GIVEN(o, WS_TOPT_LR)},
        {"head-lr", 'd', &o->head_lr, GIVEN(o, WS_TOPT_HEAD_LR)},
        {"min-lr", 'd', &o->schedule.min_lr, GIVEN(o, WS_TOPT_MIN_LR)},
        {"warmup", 'l', &o->warmup, GIVEN(o, WS_TOPT_WARMUP)},
        {"schedule", 's', &o->schedule.kind, GIVEN(o, WS_TOPT_SCHEDULE)},
        {"weight-decay", 'd', &o->adam.weight_decay, GIVEN(o, WS_TOPT_WD)},
        {"clip", 'd', &o->clip, GIVEN(o, WS_TOPT_CLIP)},
        {"oversample", 'o', o->repeat, GIVEN(o, WS_TOPT_OVERSAMPLE)},
        {"max-state-len", 'i', &o->max_state_len, GIVEN(o, WS_TOPT_MSL)},
        {"max-action-len", 'i', &o->max_action_len, GIVEN(o, WS_TOPT_MAL)},
        {"max-steps", 'i', &o->episode.max_steps, GIVEN(o, WS_TOPT_MAX_STEPS)},
        {"obs", 'm', &o->episode.obs_mode, GIVEN(o, WS_TOPT_OBS)},
        {"catalog-seed", 'l', &o->catalog_seed, GIVEN(o, WS_TOPT_CATALOG_SEED)},
        {"mark-chosen", 'i', &o->episode.mark_chosen, GIVEN(o, WS_TOPT_MARK_CHOSEN)},
    };
    memcpy(t, s, sizeof s);
}

static json_t *setting_json(const ws_run_setting *s)
{
    switch (s->kind) {
    case 'l': return json_integer(*(const long *)s->value);
    case 'i': return json_integer(*(const int *)s->value);
    case 'd': return json_real(*(const double *)s->value);
    case 's': return json_string(ws_lr_kind_name(*(const ws_lr_kind *)s->value));
    case 'm': return json_string(ws_obs_mode_name(*(const ws_obs_mode *)s->value));
    default: {
        json_t *o = json_object();
        for (int k = 0; o && k < WS_N_DECISION_KINDS; k++)
            json_object_set_new(o, ws_decision_kind_name((ws_decision_kind)k), json_integer(((const int *)s->value)[k]));
        return o;
    }
    }
}

/* 0 when v is a value of the setting's kind (and then stored), -1 when not. */
static int setting_set(const ws_run_setting *s, const json_t *v)
{
    ws_lr_kind kind;
    ws_obs_mode obs;
    switch (s->kind) {
    case 'l': return json_is_integer(v) ? (*(long *)s->value = (long)json_integer_value(v), 0) : -1;
    case 'i': return json_is_integer(v) ? (*(int *)s->value = (int)json_integer_value(v), 0) : -1;
    case 'd': return json_is_number(v) ? (*(double *)s->value = json_number_value(v), 0) : -1;
    case 's':
        if (!json_is_string(v) || ws_lr_kind_parse(json_string_value(v), &kind))
            return -1;
        *(ws_lr_kind *)s->value = kind;
        return 0;
    case 'm':
        if (!json_is_string(v) || ws_obs_mode_parse(json_string_value(v), &obs))
            return -1;
        *(ws_obs_mode *)s->value = obs;
        return 0;
    default:
        for (int k = 0; k < WS_N_DECISION_KINDS; k++) {
            json_t *n = json_object_get(v, ws_decision_kind_name((ws_decision_kind)k));
            if (!json_is_integer(n) || json_integer_value(n) < 1)
                return -1;
        }
        for (int k = 0; k < WS_N_DECISION_KINDS; k++)
            ((int *)s->value)[k] = (int)json_integer_value(json_object_get(v, ws_decision_kind_name((ws_decision_kind)k)));
        return 0;
    }
}

/* The writer's serialisation (shortest round-trip doubles) as a string; NULL when out of memory. */
static char *json_text(const json_t *v)
{
    char *text = NULL, *done;
    size_t len = 0, cap = 0;
    if (ws_json_append(v, &text, &len, &cap) || !(done = realloc(text, len + 1))) {
        free(text);
        return NULL;
    }
    done[len] = 0;
    return done;
}

/* The run's settings as the checkpoint's "settings" text (NULL when out of memory). */
static char *settings_text(ws_train_run *run)
{
    ws_run_setting shared[N_SHARED];
    shared_settings(&run->opts, shared);
    json_t *o = json_object();
    for (int i = 0; o && i < N_SHARED + run->opts.n_tool_settings; i++) {
        const ws_run_setting *s = i < N_SHARED ? &shared[i] : &run->opts.tool_settings[i - N_SHARED];
        json_object_set_new(o, s->name, setting_json(s));
    }
    char *text = o ? json_text(o) : NULL;
    json_decref(o);
    return text;
}

/* --resume: every setting the command line does not give again is the checkpoint's, so the run
 * goes on as it started; one given again overrides it, said on stderr (rank 0). */
static int restore_settings(ws_train_run *run, const ws_ckpt_meta *meta, ws_err *err)
{
    const char *path = run->opts.resume, *text = NULL;
    for (size_t i = 0; i < meta->n_extra; i++)
        if (strcmp(meta->extra[i].key, "settings") == 0)
            text = meta->extra[i].value;
    int root = ws_dist_is_root(&run->dist);
    if (!text) {
        if (root)
            ws_cli_warn(run->cli, "%s records no settings (saved by an older version): the command line's apply", path);
        return 0;
    }
    json_error_t jerr;
    json_t *saved = json_loads(text, 0, &jerr);
    if (!json_is_object(saved)) {
        json_decref(saved);
        return ws_fail(err, "%s: metadata \"settings\" is not a JSON object", path);
    }
    ws_run_setting shared[N_SHARED];
    shared_settings(&run->opts, shared);
    int rc = 0;
    for (int i = 0; rc == 0 && i < N_SHARED + run->opts.n_tool_settings; i++) {
        const ws_run_setting *s = i < N_SHARED ? &shared[i] : &run->opts.tool_settings[i - N_SHARED];
        json_t *v = json_object_get(saved, s->name), *now = setting_json(s);
        if (!now)
            rc = ws_fail(err, "out of memory");
        else if (v && s->given && !json_equal(v, now) && root) {
            char *a = json_text(now), *b = json_text(v);
            ws_cli_warn(run->cli, "--%s %s overrides the checkpoint's %s", s->name, a ? a : "?", b ? b : "?");
            free(a);
            free(b);
        } else if (v && !s->given && setting_set(s, v)) {
            rc = ws_fail(err, "%s: metadata \"settings\": \"%s\" is not a value of --%s", path, s->name, s->name);
        }
        json_decref(now);
    }
    json_decref(saved);
    return rc;
}

static ws_model *build_model(const ws_cli *cli, const ws_train_opts *o, ws_ckpt_meta *meta, ws_err *err)
{
    if (!!o->bert + !!o->config + !!o->init + !!o->resume > 1)
        ws_cli_usage_error(cli, "give at most one of --bert, --config, --init and --resume");
    if ((o->resume || o->init) && o->new_model_option)
        ws_cli_usage_error(cli, "%s shapes a new model (--bert, --config); %s keeps the checkpoint's", o->new_model_option,
                           o->resume ? "--resume" : "--init");
    if (o->resume || o->init)
        return ws_modelio_load(o->resume ? o->resume : o->init, meta, err);
    if (o->config) {
        ws_model_config cfg;
        if (ws_model_config_preset(o->config, 30526, &cfg)) {
            json_error_t jerr;
            json_t *j = json_load_file(o->config, 0, &jerr);
            if (!j)
                return ws_fail(err, "--config %s: neither tiny, mini nor a JSON file: %s", o->config, jerr.text), NULL;
            int rc = ws_model_config_from_json(j, &cfg, err);
            json_decref(j);
            if (rc)
                return NULL;
        }
        cfg.segments = o->segments;
        cfg.item_titles = o->item_titles;
        ws_model *m = ws_model_new(&cfg, err);
        if (m)
            ws_model_init_random(m, (uint64_t)o->seed);
        return m;
    }
    char dirbuf[PATH_MAX];
    return ws_modelio_from_bert(ws_model_dir(o->bert, dirbuf, sizeof dirbuf), 30526, o->segments, o->item_titles,
                                (uint64_t)o->seed, err);
}

static void die(ws_train_run *run, const char *what, const ws_err *err)
{
    ws_writer_discard(run->metrics);
    run->metrics = NULL;
    ws_cli_die(run->cli, WS_EXIT_FAIL, "%s%s", what, err->msg);
}

#define ROUNDS_KEY "rounds_done"

/* The checkpoint's count of completed rounds (0 when it has none); -1 with err when the value
 * is not a count. */
static long rounds_done(const ws_ckpt_meta *meta, const char *path, ws_err *err)
{
    for (size_t i = 0; i < meta->n_extra; i++) {
        if (strcmp(meta->extra[i].key, ROUNDS_KEY) != 0)
            continue;
        const char *text = meta->extra[i].value;
        char *end;
        errno = 0;
        long n = strtol(text, &end, 10);
        if (errno || end == text || *end || n < 0) {
            ws_fail(err, "%s: metadata \"%s\" is \"%s\", not a count", path, ROUNDS_KEY, text);
            return -1;
        }
        return n;
    }
    return 0;
}

/* The checkpoint's directory must take new files now, not after the last update: a probe file
 * is created and removed there. */
static int check_output(const char *path, ws_err *err)
{
    struct stat st;
    if (stat(path, &st) == 0 && S_ISDIR(st.st_mode))
        return ws_fail(err, "%s: is a directory, not a checkpoint file", path);
    char probe[PATH_MAX];
    if (snprintf(probe, sizeof probe, "%s.probe-%ld", path, (long)getpid()) >= (int)sizeof probe)
        return ws_fail(err, "%s: path too long", path);
    int fd = open(probe, O_WRONLY | O_CREAT | O_EXCL, 0644);
    if (fd < 0)
        return ws_fail(err, "%s: cannot write the checkpoint there: %s", path, strerror(errno));
    close(fd);
    unlink(probe);
    return 0;
}

void ws_train_setup(ws_train_run *run, const ws_cli *cli, const ws_train_opts *opts)
{
    memset(run, 0, sizeof *run);
    run->opts = *opts;
    run->cli = cli;
    if (!opts->output)
        ws_cli_usage_error(cli, "-o CKPT is required");
    if (asprintf(&run->partial, "%s.partial", opts->output) < 0)
        ws_cli_die(cli, WS_EXIT_FAIL, "out of memory");
    ws_backend_set_threads((int)opts->threads);
    ws_interrupt_install();
    ws_err err;
    if (ws_dist_init(&run->dist, &err) || (ws_dist_is_root(&run->dist) && check_output(opts->output, &err)))
        die(run, "", &err);
    run->quiet = cli->quiet || !ws_dist_is_root(&run->dist);
    ws_ckpt_meta meta = {0};
    if (!(run->model = build_model(cli, opts, &meta, &err)) || !(run->be = ws_backend_open(opts->device, opts->gpu_math, opts->cpu_math, &err)) ||
        ws_model_to_backend(run->model, run->be, &err) || ws_dist_use_backend(&run->dist, run->be, &err))
        die(run, "", &err);
    if (ws_dist_is_root(&run->dist))
        ws_play_say_cpu_math(cli, run->be, opts->cpu_math);
    if (meta.vocab_sha256)
        snprintf(run->vocab_sha256, sizeof run->vocab_sha256, "%s", meta.vocab_sha256);
    if (opts->resume) {
        if (GIVEN(opts, WS_TOPT_SEED) && (uint64_t)opts->seed != meta.seed && ws_dist_is_root(&run->dist))
            ws_cli_warn(cli, "--seed %ld ignored: a resumed run keeps its seed (%llu), and with it its data order",
                        opts->seed, (unsigned long long)meta.seed);
        run->opts.seed = (long)meta.seed;
        if (restore_settings(run, &meta, &err)) {
            ws_ckpt_meta_free(&meta);
            die(run, "", &err);
        }
    }
    ws_ckpt_meta_free(&meta);
}

static int eval_setup(ws_train_run *run, ws_err *err)
{
    const ws_train_opts *o = &run->opts;
    char buf[4096], vbuf[PATH_MAX + 64];
    const char *dir = ws_data_dir(o->data, buf, sizeof buf);
    if (!dir)
        return ws_fail(err, "%s: no WebShop data directory for --eval-goals", buf);
    if (ws_catalog_load(&run->eval_cat, dir, (uint64_t)o->catalog_seed, err) || !(run->eval_env = ws_env_new(&run->eval_cat, NULL, err)) ||
        !(run->eval_vocab = ws_vocab_load(ws_vocab_path(o->vocab_path, vbuf, sizeof vbuf), err)))
        return -1;
    ws_reader_opts ro = {.type = "goal", .version = WS_GOAL_VERSION, .check = ws_goal_check_origin,
                         .check_ctx = &run->eval_cat};
    ws_inputs *in = ws_inputs_open(&o->eval_goals, 1, &ro, err);
    run->eval_goals = in ? calloc((size_t)o->eval_n, sizeof *run->eval_goals) : NULL;
    int n = 0, rc = run->eval_goals ? ws_inputs_next_batch(in, run->eval_goals, (int)o->eval_n, &n, err) : WS_ERROR;
    run->n_eval_goals = n;
    ws_inputs_close(in);
    if (in && !run->eval_goals)
        return ws_fail(err, "out of memory");
    if (rc == WS_ERROR || rc == WS_INTERRUPTED)
        return -1;
    run->eval_agent = (ws_agent){.model = run->model, .vocab = run->eval_vocab, .max_state_len = o->max_state_len,
                                 .max_action_len = o->max_action_len};
    ws_runner_opts ro2 = {.episode = o->episode, .parallel = 16, .agent = &run->eval_agent,
                          .policy_name = o->stage};
    return (run->eval_runner = ws_runner_new(run->eval_env, &ro2, err)) ? 0 : -1;
}

/* The weights of this step play as a player's would: in inference mode, each distinct action
 * encoded once while the evaluation lasts (ws_model_cache_encodings), then back to training. */
static int eval_run(ws_train_run *run, double *success, double *score, ws_err *err)
{
    int slots = ws_runner_parallel(run->eval_runner);
    json_t **out = calloc((size_t)slots, sizeof *out);
    double s = 0, r = 0;
    if (!out)
        return ws_fail(err, "out of memory");
    ws_model_set_inference(run->model, 1);
    if (ws_model_cache_encodings(run->model, (size_t)WS_DEFAULT_ENCODING_CACHE_MB << 20, err)) {
        ws_model_set_inference(run->model, 0);
        free(out);
        return -1;
    }
    for (int i = 0; i < run->n_eval_goals; i += slots) {
        int k = run->n_eval_goals - i < slots ? run->n_eval_goals - i : slots;
        if (ws_runner_play(run->eval_runner, run->eval_goals + i, k, out, err)) {
            ws_model_set_inference(run->model, 0);
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
    ws_model_set_inference(run->model, 0);
    free(out);
    *success = run->n_eval_goals ? s / run->n_eval_goals : 0;
    *score = run->n_eval_goals ? 100.0 * r / run->n_eval_goals : 0;
    return 0;
}

/* A resumed run's --metrics FILE continues the interrupted run's: its records up to the
 * checkpoint's step are copied ahead of the new ones (those after it, written before a crash,
 * are redone; the held-out scores at the step itself are written again at the start). */
static int keep_metrics(ws_train_run *run, ws_err *err)
{
    const ws_train_opts *o = &run->opts;
    if (!o->resume || strcmp(o->metrics_path, "-") == 0 || access(o->metrics_path, F_OK) != 0)
        return 0;
    ws_reader_opts ro = {.type = "metrics", .version = WS_METRICS_VERSION};
    ws_reader *r = ws_reader_open(o->metrics_path, &ro, err);
    json_t *rec;
    int rc = r ? WS_EOF : WS_ERROR;
    while (r && (rc = ws_reader_next(r, &rec, err)) == WS_RECORD) {
        json_int_t step = json_integer_value(json_object_get(rec, "step"));
        const char *stage = json_string_value(json_object_get(rec, "stage"));
        int keep = step < run->trainer.step || (step == run->trainer.step && !(stage && strcmp(stage, "valid") == 0));
        int bad = keep && ws_writer_put(run->metrics, rec, err);
        json_decref(rec);
        if (bad) {
            rc = WS_ERROR;
            break;
        }
    }
    ws_reader_close(r);
    if (rc == WS_INTERRUPTED)
        return ws_fail(err, "%s: interrupted", o->metrics_path);
    return rc == WS_EOF ? 0 : -1;
}

void ws_train_start(ws_train_run *run, int64_t total_steps, const char *vocab_sha)
{
    ws_train_opts *o = &run->opts;
    ws_err err;
    if (*run->vocab_sha256 && vocab_sha && *vocab_sha && strcmp(run->vocab_sha256, vocab_sha) != 0)
        ws_cli_die(run->cli, WS_EXIT_FAIL, "%s: the checkpoint's vocabulary differs from the data's (sha256 %.12s... vs %.12s...)",
                   o->resume ? o->resume : o->init, run->vocab_sha256, vocab_sha);
    if (vocab_sha && *vocab_sha)
        snprintf(run->vocab_sha256, sizeof run->vocab_sha256, "%s", vocab_sha);
    o->steps = total_steps;
    o->schedule.total_steps = total_steps;
    o->schedule.warmup_steps = o->warmup >= 0 ? (o->warmup < total_steps ? o->warmup : total_steps) : total_steps / 10;
    o->warmup = o->schedule.warmup_steps; /* what the checkpoint records: the run's, not "10%" */
    if (o->head_lr < 0) /* recorded as a rate, so a resumed run keeps it */
        o->head_lr = (o->bert || o->config ? o->new_head_scale : 1.0) * o->schedule.lr;
    double head_scale = o->schedule.lr > 0 ? o->head_lr / o->schedule.lr : 1.0;
    if (o->head_lr > 0 && o->schedule.lr == 0)
        ws_cli_usage_error(run->cli, "--head-lr needs a positive --lr (the head follows its schedule)");
    if (ws_trainer_init(&run->trainer, run->model, &o->adam, &o->schedule, o->clip, head_scale, &err))
        die(run, "", &err);
    if (o->resume) {
        ws_ckpt_meta meta = {0};
        if (ws_modelio_load_into(run->model, o->resume, run->trainer.adam_m, run->trainer.adam_v, &meta, &err) ||
            ws_model_params_to_device(run->model, &err) || ws_trainer_state_to_device(&run->trainer, &err))
            die(run, "", &err);
        run->trainer.step = meta.step;
        run->rounds_done = rounds_done(&meta, o->resume, &err);
        ws_ckpt_meta_free(&meta);
        if (run->rounds_done < 0)
            die(run, "", &err);
    }
    int root = ws_dist_is_root(&run->dist);
    if (root && o->eval_goals && eval_setup(run, &err))
        die(run, "evaluation: ", &err);
    /* records on a terminal would bury the progress line: kept only where asked for */
    int to_terminal = strcmp(o->metrics_path, "-") == 0 && !GIVEN(o, WS_TOPT_METRICS) && isatty(STDOUT_FILENO) &&
                      !ws_dist_launched();
    if (root && to_terminal && !run->quiet)
        ws_cli_warn(run->cli, "metrics records not written: stdout is a terminal (give --metrics FILE, or "
                              "--metrics - to see them)");
    if (root && !to_terminal &&
        (!(run->metrics = ws_writer_open(o->metrics_path, NULL, &err)) || keep_metrics(run, &err)))
        die(run, "", &err);
    run->started = run->last_save = ws_now();
}

int64_t ws_train_last_step(const ws_train_run *run)
{
    const ws_train_opts *o = &run->opts;
    int64_t start = run->trainer.step;
    return o->stop_after > 0 && start + o->stop_after < o->steps ? start + o->stop_after : o->steps;
}

static int save(ws_train_run *run, const char *path, ws_err *err)
{
    if (!ws_dist_is_root(&run->dist))
        return 0;
    /* the trainer first: it brings the embedding rows it updates late up to date */
    if (ws_trainer_state_to_host(&run->trainer, err) || ws_model_params_to_host(run->model, err))
        return -1;
    json_t *cfg = ws_model_config_to_json(ws_model_get_config(run->model));
    char *cfg_text = cfg ? json_dumps(cfg, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
    json_decref(cfg);
    if (!cfg_text)
        return ws_fail(err, "out of memory");
    char rounds[32], *settings = settings_text(run);
    if (!settings) {
        free(cfg_text);
        return ws_fail(err, "out of memory");
    }
    snprintf(rounds, sizeof rounds, "%ld", run->rounds_done);
    ws_kv extra[] = {{"stage", run->opts.stage}, {"settings", settings}, {ROUNDS_KEY, rounds}};
    ws_ckpt_meta meta = {.config = cfg_text, .vocab_sha256 = run->vocab_sha256, .step = run->trainer.step,
                         .seed = (uint64_t)run->opts.seed, .extra = extra, .n_extra = run->rounds_done > 0 ? 3 : 2};
    int rc = ws_modelio_save(run->model, path, &meta, run->trainer.adam_m, run->trainer.adam_v, err);
    free(cfg_text);
    free(settings);
    run->last_save = ws_now();
    return rc;
}

void ws_train_metrics(ws_train_run *run, json_t *rec)
{
    ws_err err;
    if (rec && !run->metrics) { /* not rank 0 */
        json_decref(rec);
        return;
    }
    if (!rec || ws_writer_put(run->metrics, rec, &err)) {
        json_decref(rec);
        if (!rec)
            ws_fail(&err, "out of memory");
        die(run, "", &err);
    }
    json_decref(rec);
}

double ws_train_share(const ws_train_run *run, long n_local, long n_global)
{
    return run->dist.size == 1 || n_global == 0 ? 1.0 : (double)n_local / (double)n_global;
}

int ws_train_should_stop(ws_train_run *run)
{
    if (ws_dist_any(&run->dist, ws_interrupted()))
        run->stopped = 1;
    return run->stopped;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* The ranks' metrics as one record: rank 0's real-valued keys (sorted, so every rank lists the
 * same), each weighted by its rank's decisions, summed and divided by all decisions; "states" and
 * the batch's tokens summed. */
static int reduce_fields(ws_train_run *run, json_t *fields, double *tokens, ws_err *err)
{
    char *keys = NULL;
    size_t len = 0, cap = 0;
    if (ws_dist_is_root(&run->dist)) {
        const char **names = malloc((json_object_size(fields) + 1) * sizeof *names);
        size_t n = 0;
        const char *k;
        json_t *v;
        if (!names)
            return ws_fail(err, "out of memory");
        json_object_foreach(fields, k, v) if (json_is_real(v)) names[n++] = k;
        qsort(names, n, sizeof *names, compare_names);
        for (size_t i = 0; i < n; i++) {
            size_t kl = strlen(names[i]);
            if (len + kl + 2 > cap) {
                cap = (len + kl + 2) * 2;
                char *nk = realloc(keys, cap);
                if (!nk) {
                    free(names);
                    free(keys);
                    return ws_fail(err, "out of memory");
                }
                keys = nk;
            }
            memcpy(keys + len, names[i], kl);
            len += kl;
            keys[len++] = '\n';
            keys[len] = 0;
        }
        free(names);
        if (!keys && !(keys = calloc(1, 1)))
            return ws_fail(err, "out of memory");
    }
    if (ws_dist_broadcast_text(&run->dist, &keys, err)) {
        free(keys);
        return -1;
    }
    int n_keys = 0;
    for (const char *c = keys; *c; c++)
        n_keys += *c == '\n';
    double *v = calloc((size_t)n_keys + 2, sizeof *v);
    if (!v) {
        free(keys);
        return ws_fail(err, "out of memory");
    }
    double n_local = (double)json_integer_value(json_object_get(fields, "states"));
    v[0] = n_local;
    v[1] = *tokens;
    char *name = keys;
    for (int i = 0; i < n_keys; i++) {
        char *end = strchr(name, '\n');
        *end = 0;
        json_t *x = json_object_get(fields, name);
        v[2 + i] = json_is_real(x) ? json_real_value(x) * n_local : 0;
        name = end + 1;
    }
    int rc = ws_dist_sum_doubles(&run->dist, v, n_keys + 2, err);
    name = keys;
    for (int i = 0; rc == 0 && i < n_keys; i++) {
        json_object_set_new(fields, name, json_real(v[0] > 0 ? v[2 + i] / v[0] : 0));
        name += strlen(name) + 1;
    }
    if (rc == 0) {
        json_object_set_new(fields, "states", json_integer((json_int_t)v[0]));
        *tokens = v[1];
    }
    free(v);
    free(keys);
    return rc;
}

void ws_train_update(ws_train_run *run, json_t *fields, double step_seconds)
{
    ws_err err;
    double gnorm, lr, tokens = (double)ws_model_batch_tokens(run->model);
    if (run->dist.size > 1) {
        long n_local = (long)json_integer_value(json_object_get(fields, "states"));
        if (n_local == 0) {
            ws_model_zero_grad(run->model);
            tokens = 0;
        }
        if (ws_dist_sum_floats(&run->dist, ws_model_device_grads(run->model), ws_model_n_params(run->model), &err) ||
            reduce_fields(run, fields, &tokens, &err)) {
            json_decref(fields);
            die(run, "", &err);
        }
        json_t *states = json_object_get(fields, "states");
        if (json_object_get(fields, "states_per_s"))
            json_object_set_new(fields, "states_per_s", json_real((double)json_integer_value(states) / step_seconds));
    }
    if (ws_trainer_update(&run->trainer, &gnorm, &lr, &err)) {
        json_decref(fields);
        die(run, "", &err);
    }
    int64_t step = run->trainer.step;
    json_t *rec = json_pack("{s:s, s:i, s:s, s:I}", "type", "metrics", "v", WS_METRICS_VERSION, "stage", run->opts.stage, "step",
                            (json_int_t)step);
    if (rec && fields)
        json_object_update(rec, fields);
    json_decref(fields);
    if (rec) {
        json_object_set_new(rec, "lr", json_real(lr));
        json_object_set_new(rec, "grad_norm", json_real(gnorm));
        json_object_set_new(rec, "tokens_per_s", json_real(tokens / step_seconds));
        if (run->dist.size > 1)
            json_object_set_new(rec, "ranks", json_integer(run->dist.size));
        json_object_set_new(rec, "elapsed_s", json_real(ws_now() - run->started));
    }
    ws_train_metrics(run, rec);
    const ws_train_opts *o = &run->opts;
    /* so that a run killed (SIGKILL, power, a crash) loses at most --save-minutes of work */
    int periodic = (o->save_every && step % o->save_every == 0) ||
                   (o->save_minutes > 0 && ws_now() - run->last_save >= 60 * o->save_minutes);
    if (periodic && step < o->steps && save(run, run->partial, &err))
        die(run, "", &err);
    if (run->eval_runner && (step % o->eval_every == 0 || step == o->steps)) {
        double success = 0, score = 0;
        if (eval_run(run, &success, &score, &err))
            die(run, "evaluation: ", &err);
        ws_train_metrics(run, json_pack("{s:s, s:i, s:s, s:I, s:s, s:f, s:f, s:i, s:f}", "type", "metrics", "v", WS_METRICS_VERSION, "stage",
                                   "eval", "step", (json_int_t)step, "of", o->stage, "success_rate", success, "score",
                                   score, "episodes", run->n_eval_goals, "elapsed_s", ws_now() - run->started));
    }
}

int ws_train_finish(ws_train_run *run)
{
    ws_err err;
    int status, root = ws_dist_is_root(&run->dist);
    int complete = !run->stopped && (run->opts.stop_after == 0 || run->trainer.step >= run->opts.steps);
    /* A completed run's checkpoint is written: what an interrupted one left is stale. */
    if (complete ? save(run, run->opts.output, &err) || (root && ws_checkpoint_remove(run->partial, &err))
                 : save(run, run->partial, &err))
        die(run, "", &err);
    if (!complete && !run->stopped && root && !run->quiet)
        ws_cli_warn(run->cli, "stopped after update %lld of %ld: checkpoint saved to %s (--resume continues the run)",
                    (long long)run->trainer.step, run->opts.steps, run->partial);
    if (ws_interrupted()) {
        if (root)
            ws_cli_warn(run->cli, "interrupted after update %lld: checkpoint saved to %s (--resume continues the run)",
                        (long long)run->trainer.step, run->partial);
        if (run->metrics && ws_writer_close(run->metrics, &err))
            ws_cli_die(run->cli, WS_EXIT_FAIL, "%s", err.msg);
        status = ws_interrupt_status();
    } else {
        status = run->metrics ? ws_cli_close_output(run->cli, run->metrics) : WS_EXIT_OK;
    }
    /* Every rank waits here for rank 0's checkpoint and messages: under mpirun a rank that exits
     * first with 128+signal makes mpirun end the job, rank 0's save with it. */
    ws_dist_any(&run->dist, 0);
    ws_runner_free(run->eval_runner);
    ws_env_free(run->eval_env);
    if (run->eval_cat.products)
        ws_catalog_free(&run->eval_cat);
    ws_vocab_free(run->eval_vocab);
    for (int i = 0; i < run->n_eval_goals; i++)
        json_decref(run->eval_goals[i]);
    free(run->eval_goals);
    ws_trainer_free(&run->trainer);
    ws_model_free(run->model);
    ws_backend_close(run->be);
    ws_dist_finish(&run->dist);
    free(run->partial);
    return status;
}

/* The reusable buffers of a dataset trainer's batches. */
typedef struct batch_work {
    ws_batch_builder bb;
    const ws_decision_data **items; /* the batch's decisions, --batch of them */
    ws_real *dlogits;
    size_t dlogits_cap;
} batch_work;

/* The policy's forward pass over decisions idx[0..n) of d and the objective on it: its metrics
 * into fields, d(loss)/d(logit) into w->dlogits (*n_act of them). */
static int batch_loss(ws_train_run *run, const ws_dataset *d, const size_t *idx, int n, batch_work *w,
                      ws_loss_fn loss, void *user, json_t *fields, size_t *n_act, ws_err *err)
{
    const ws_batch *b = ws_batch_build(&w->bb, d, idx, n, err);
    if (!b || ws_model_forward(run->model, b, err))
        return -1;
    *n_act = 0;
    for (int i = 0; i < n; i++) {
        *n_act += (size_t)b->n_actions[i];
        w->items[i] = &d->items[idx[i]];
    }
    if (*n_act > w->dlogits_cap) {
        ws_real *grown = realloc(w->dlogits, *n_act * 2 * sizeof *grown);
        if (!grown)
            return ws_fail(err, "out of memory");
        w->dlogits = grown;
        w->dlogits_cap = *n_act * 2;
    }
    memset(w->dlogits, 0, *n_act * sizeof *w->dlogits);
    return loss(user, run->model, b, w->items, w->dlogits, fields, err);
}

/* Sum one batch's mean fields, weighted by its n decisions, into sums. */
static void add_batch_fields(json_t *sums, json_t *fields, int n)
{
    const char *key;
    json_t *v;
    json_object_foreach(fields, key, v) if (json_is_real(v)) {
        json_t *sum = json_object_get(sums, key);
        double prev = sum ? json_real_value(sum) : 0;
        json_object_set_new(sums, key, json_real(prev + json_real_value(v) * n));
    }
}

/* Divide sums by n into rec. */
static void set_means(json_t *rec, json_t *sums, size_t n)
{
    const char *key;
    json_t *v;
    json_object_foreach(sums, key, v) json_object_set_new(rec, key, json_real(json_real_value(v) / (double)n));
}

/* The held-out decisions grouped by kind (lib/webshop/env.h's order, those without a kind last), in
 * file order within a kind, so that every batch of validate holds one kind. */
static void order_by_kind(const ws_dataset *valid, size_t *order)
{
    size_t k = 0;
    for (int kind = 0; kind <= WS_N_DECISION_KINDS; kind++)
        for (size_t i = 0; i < valid->n; i++) {
            int its = valid->items[i].kind;
            if ((its >= 0 && its < WS_N_DECISION_KINDS ? its : WS_N_DECISION_KINDS) == kind)
                order[k++] = i;
        }
}

/* The objective on every held-out decision, in batches of --batch, forward passes only: one
 * "valid" metrics record whose real-valued fields are means over the decisions, and the same
 * means for each kind of decision the records name ("by_kind": where an agent is still wrong,
 * e.g. the results page or the options, which the overall mean hides). order groups the decisions
 * by kind (order_by_kind). Rank 0 only. */
static void validate(ws_train_run *run, const ws_dataset *valid, const size_t *order, batch_work *w,
                     ws_loss_fn loss, void *user)
{
    if (!valid->n || !ws_dist_is_root(&run->dist))
        return;
    ws_err err;
    json_t *sums = json_object(), *by_kind = json_object();
    int failed = !sums || !by_kind;
    for (size_t group = 0, end; !failed && group < valid->n; group = end) {
        int kind = valid->items[order[group]].kind;
        for (end = group; end < valid->n && valid->items[order[end]].kind == kind;)
            end++;
        size_t n_kind = end - group;
        json_t *kind_sums = json_object();
        failed = !kind_sums;
        for (size_t first = group; !failed && first < end; first += (size_t)run->opts.batch) {
            int n = (int)(end - first < (size_t)run->opts.batch ? end - first : (size_t)run->opts.batch);
            json_t *fields = json_object();
            size_t n_act;
            if (!fields)
                ws_fail(&err, "out of memory");
            if (!fields || batch_loss(run, valid, order + first, n, w, loss, user, fields, &n_act, &err)) {
                json_decref(fields);
                json_decref(kind_sums);
                json_decref(sums);
                json_decref(by_kind);
                die(run, "--valid: ", &err);
            }
            add_batch_fields(sums, fields, n);
            add_batch_fields(kind_sums, fields, n);
            json_decref(fields);
        }
        if (!failed && kind >= 0 && kind < WS_N_DECISION_KINDS) {
            json_t *rec = json_pack("{s:I}", "states", (json_int_t)n_kind);
            failed = !rec;
            if (rec) {
                set_means(rec, kind_sums, n_kind);
                json_object_set_new(by_kind, ws_decision_kind_name((ws_decision_kind)kind), rec);
            }
        }
        json_decref(kind_sums);
    }
    json_t *rec = !failed ? json_pack("{s:s, s:i, s:s, s:I, s:s, s:I}", "type", "metrics", "v", WS_METRICS_VERSION,
                                      "stage", "valid", "step", (json_int_t)run->trainer.step, "of", run->opts.stage,
                                      "states", (json_int_t)valid->n)
                          : NULL;
    if (rec) {
        set_means(rec, sums, valid->n);
        if (json_object_size(by_kind))
            json_object_set(rec, "by_kind", by_kind);
        json_object_set_new(rec, "elapsed_s", json_real(ws_now() - run->started));
    }
    json_decref(sums);
    json_decref(by_kind);
    ws_train_metrics(run, rec);
}

void ws_train_load_dataset(ws_train_run *run, ws_dataset *d, const char *const *inputs, int n_inputs, int need,
                           const char *what)
{
    ws_err err;
    const ws_model_config *cfg = ws_model_get_config(run->model);
    if (ws_dataset_load(d, inputs, n_inputs, need, cfg->vocab_size, cfg->max_position, &err))
        die(run, what, &err);
    if (d->n_forced && !run->quiet)
        ws_cli_warn(run->cli, "%s%zu decision(s) with a single valid action left out: nothing to learn from them",
                    what, d->n_forced);
    const char *want = run->opts.ref_sha256;
    if (want && *want && d->ref_sha256[0] && strcmp(want, d->ref_sha256) != 0 && ws_dist_is_root(&run->dist))
        ws_cli_warn(run->cli, "%sthe pairs' reference log-probabilities come from another checkpoint (ref_sha256 "
                              "%.12s...) than %s (data_sha256 %.12s...): DPO measures the policy against the pairs' "
                              "reference", what, d->ref_sha256, run->opts.ref_option, want);
    if (d->n == 0)
        ws_cli_die(run->cli, WS_EXIT_FAIL, "%sno records to learn from", what);
}

int ws_train_dataset_main(const ws_cli *cli, const ws_train_opts *opts, int need, const char *const *inputs,
                          int n_inputs, ws_loss_fn loss, void *user)
{
    ws_train_run run;
    ws_train_setup(&run, cli, opts);
    ws_err err;
    ws_dataset data, valid = {0};
    ws_train_load_dataset(&run, &data, inputs, n_inputs, need, "");
    if (opts->n_anchors) {
        ws_dataset anchors;
        ws_train_load_dataset(&run, &anchors, opts->anchors, opts->n_anchors, WS_NEED_TARGET, "--anchors: ");
        if (ws_dataset_append(&data, &anchors, &err))
            die(&run, "--anchors: ", &err);
    }
    if (ws_dataset_oversample(&data, run.opts.repeat, &err))
        die(&run, "--oversample: ", &err);
    if (opts->valid)
        ws_train_load_dataset(&run, &valid, &opts->valid, 1, need, "--valid: ");
    long batch = run.opts.batch;
    long per_epoch = (long)((data.n_visits + (size_t)batch - 1) / (size_t)batch);
    ws_train_start(&run, run.opts.steps >= 0 ? run.opts.steps : per_epoch * run.opts.epochs, data.vocab_sha256);

    size_t *order = malloc(data.n_visits * sizeof *order), *valid_order = malloc((valid.n + 1) * sizeof *valid_order);
    batch_work work = {.items = malloc((size_t)batch * sizeof *work.items)};
    if (!order || !valid_order || !work.items)
        ws_cli_die(cli, WS_EXIT_FAIL, "out of memory");
    order_by_kind(&valid, valid_order);
    long current_epoch = -1;
    int64_t last = ws_train_last_step(&run);
    validate(&run, &valid, valid_order, &work, loss, user);
    ws_progress progress;
    ws_progress_start(&progress, cli->tool, "steps", (long)last, run.quiet);
    ws_progress_resume_at(&progress, (long)run.trainer.step);
    while (run.trainer.step < last && !ws_train_should_stop(&run)) {
        long epoch = (long)(run.trainer.step / per_epoch), within = (long)(run.trainer.step % per_epoch);
        if (epoch != current_epoch) {
            ws_dataset_epoch_order(&data, (uint64_t)run.opts.seed, epoch, order);
            current_epoch = epoch;
        }
        size_t first = (size_t)within * (size_t)batch;
        long n_global = (long)(data.n_visits - first < (size_t)batch ? data.n_visits - first : (size_t)batch), lo, hi;
        ws_dist_shard(&run.dist, n_global, &lo, &hi); /* this rank's part of the batch */
        int n = (int)(hi - lo);
        double t0 = ws_now();
        json_t *fields = json_pack("{s:I, s:i}", "epoch", (json_int_t)epoch, "states", n);
        if (!fields)
            ws_cli_die(cli, WS_EXIT_FAIL, "out of memory");
        if (n > 0) {
            size_t n_act;
            if (batch_loss(&run, &data, order + first + (size_t)lo, n, &work, loss, user, fields, &n_act, &err)) {
                json_decref(fields);
                die(&run, "", &err);
            }
            double share = ws_train_share(&run, n, n_global);
            for (size_t i = 0; share != 1.0 && i < n_act; i++)
                work.dlogits[i] *= (ws_real)share;
            ws_model_zero_grad(run.model);
            if (ws_model_backward(run.model, work.dlogits, NULL, &err))
                die(&run, "", &err);
        }
        double dt = ws_now() - t0;
        json_object_set_new(fields, "states_per_s", json_real(n / dt));
        ws_train_update(&run, fields, dt);
        ws_progress_update(&progress, (long)run.trainer.step);
        if (run.trainer.step % run.opts.eval_every == 0 || run.trainer.step == last)
            validate(&run, &valid, valid_order, &work, loss, user);
    }
    ws_progress_end(&progress);
    free(order);
    free(valid_order);
    free(work.items);
    free(work.dlogits);
    ws_batch_builder_free(&work.bb);
    ws_dataset_free(&data);
    ws_dataset_free(&valid);
    return ws_train_finish(&run);
}
