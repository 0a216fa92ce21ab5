/* trainloop: the run around a training objective, shared by train-il, train-dpo and train-ppo.
 *
 * Owns the options every trainer takes (model initialisation, optimiser, schedule, batch, steps,
 * seed, threads, checkpointing, evaluation, metrics), building or resuming the model and the
 * optimiser state, metrics records, periodic evaluation by playing goals with the model, saving
 * and the exit status. The checkpoint -o CKPT is written only when the run completes (every
 * update of --steps applied, not interrupted), so its existence means a finished stage; until
 * then saves (every --save-minutes and --save-every, at --stop-after, when interrupted) go to
 * CKPT.partial, which --resume continues and the completed run removes. A trainer tool adds its objective: for dataset trainers (IL, DPO) a loss function
 * called on each batch after the policy's forward pass, which fills the logits' gradient and its
 * own metrics; PPO drives the steps itself with ws_train_update. */
#ifndef WS_TRAINLOOP_H
#define WS_TRAINLOOP_H

#include <getopt.h>
#include <jansson.h>

#include "agent.h"
#include "catalog.h"
#include "cli.h"
#include "dist.h"
#include "env.h"
#include "model.h"
#include "runner.h"
#include "stream.h"
#include "train.h"

/* A setting of the run that --resume restores from the checkpoint (its "settings" metadata, a
 * JSON object by option name) unless the option is given again, which then overrides it with a
 * note on stderr. The shared options are the trainloop's; a tool lists its own (DPO's beta, PPO's
 * iterations...) in ws_train_opts.tool_settings. */
typedef struct ws_run_setting {
    const char *name; /* the long option, without "--" */
    char kind;        /* 'l': long, 'i': int, 'd': double, 's': ws_lr_kind, 'o': the --oversample counts */
    void *value;
    int given;        /* on the command line */
} ws_run_setting;

typedef struct ws_train_opts {
    const char *stage; /* "il", "dpo", "ppo": metrics and checkpoint metadata */
    const char *device, *gpu_math, *cpu_math; /* the backend (ws_backend_open) */
    const char *bert, *config, *init, *resume, *output, *metrics_path;
    long steps, epochs, batch, warmup, seed, threads, save_every, stop_after;
    double save_minutes; /* also save every so many minutes of wall time; 0: never */
    double clip;
    double head_lr; /* the head's peak learning rate; < 0: not given (below) */
    double new_head_scale; /* without --head-lr: the head's rate over --lr for a new model (--bert,
                            * --config), whose head is random; 1 after --init/--resume */
    int segments;   /* ws_segments of a new model (--bert, --config); --init/--resume keep theirs */
    int item_titles; /* item titles (model.h) of a new model, likewise */
    ws_episode_opts episode; /* --max-steps, --obs, --mark-chosen: episodes of --eval-goals and train-ppo's rollouts */
    long catalog_seed;       /* --catalog-seed: their catalog's prices */
    const char *new_model_option; /* the last of those given (refused with --init/--resume) */
    int repeat[WS_N_DECISION_KINDS]; /* dataset trainers: visits per epoch of each kind of decision */
    ws_adamw_opts adam;
    ws_lr_schedule schedule;
    const char *eval_goals, *vocab_path, *data; /* vocab_path NULL: the default (ws_vocab_path) */
    const char *valid;                          /* held-out tokens records (dataset trainers) */
    long eval_every, eval_n;
    int max_state_len, max_action_len;
    unsigned long long given; /* bit (code - WS_TOPT_BERT) per shared option on the command line */
    ws_run_setting *tool_settings;
    int n_tool_settings;
    /* train-dpo: the data_sha256 of the reference that pairs' ref_logp_* should come from, and the
     * option that named it ("--ref", "--init"); NULL: not checked. A dataset whose ref_sha256
     * differs gets a warning, not a refusal: training from one checkpoint against another's
     * log-probabilities can be meant. */
    const char *ref_sha256, *ref_option;
    /* train-dpo: files of tokens records with a "target" mixed into the pairs (its --anchors, one
     * file each time it is given) */
    const char **anchors;
    int n_anchors;
} ws_train_opts;

void ws_train_opts_default(ws_train_opts *o, const char *stage, double lr);

/* Long options shared by the trainers: append WS_TRAIN_LONGOPTS to a tool's table (before the
 * terminating zero entry) and pass unknown codes to ws_train_option. */
enum {
    WS_TOPT_BERT = 1000, WS_TOPT_CONFIG, WS_TOPT_INIT, WS_TOPT_RESUME, WS_TOPT_STEPS, WS_TOPT_EPOCHS, WS_TOPT_BATCH,
    WS_TOPT_LR, WS_TOPT_MIN_LR, WS_TOPT_WARMUP, WS_TOPT_SCHEDULE, WS_TOPT_WD, WS_TOPT_CLIP, WS_TOPT_SEED,
    WS_TOPT_THREADS, WS_TOPT_SAVE_EVERY, WS_TOPT_STOP_AFTER, WS_TOPT_EVAL_GOALS, WS_TOPT_EVAL_EVERY, WS_TOPT_EVAL_N,
    WS_TOPT_VOCAB, WS_TOPT_DATA, WS_TOPT_OUTPUT, WS_TOPT_METRICS, WS_TOPT_MSL, WS_TOPT_MAL, WS_TOPT_DEVICE,
    WS_TOPT_GPU_MATH, WS_TOPT_VALID, WS_TOPT_HEAD_LR, WS_TOPT_OVERSAMPLE, WS_TOPT_SAVE_MINUTES, WS_TOPT_SEGMENTS,
    WS_TOPT_ITEM_TITLES, WS_TOPT_MAX_STEPS, WS_TOPT_OBS, WS_TOPT_CATALOG_SEED, WS_TOPT_CPU_MATH, WS_TOPT_MARK_CHOSEN
};
#define WS_TRAIN_LONGOPTS                                                                                      \
    {"bert", required_argument, 0, WS_TOPT_BERT}, {"config", required_argument, 0, WS_TOPT_CONFIG},             \
    {"init", required_argument, 0, WS_TOPT_INIT}, {"resume", required_argument, 0, WS_TOPT_RESUME},             \
    {"steps", required_argument, 0, WS_TOPT_STEPS}, {"epochs", required_argument, 0, WS_TOPT_EPOCHS},           \
    {"batch", required_argument, 0, WS_TOPT_BATCH}, {"lr", required_argument, 0, WS_TOPT_LR},                   \
    {"min-lr", required_argument, 0, WS_TOPT_MIN_LR}, {"warmup", required_argument, 0, WS_TOPT_WARMUP},         \
    {"schedule", required_argument, 0, WS_TOPT_SCHEDULE}, {"weight-decay", required_argument, 0, WS_TOPT_WD},   \
    {"clip", required_argument, 0, WS_TOPT_CLIP}, {"seed", required_argument, 0, WS_TOPT_SEED},                 \
    {"threads", required_argument, 0, WS_TOPT_THREADS}, {"save-every", required_argument, 0, WS_TOPT_SAVE_EVERY}, \
    {"stop-after", required_argument, 0, WS_TOPT_STOP_AFTER},                                                  \
    {"eval-goals", required_argument, 0, WS_TOPT_EVAL_GOALS}, {"eval-every", required_argument, 0, WS_TOPT_EVAL_EVERY}, \
    {"eval-n", required_argument, 0, WS_TOPT_EVAL_N}, {"vocab", required_argument, 0, WS_TOPT_VOCAB},           \
    {"data", required_argument, 0, WS_TOPT_DATA}, {"output", required_argument, 0, WS_TOPT_OUTPUT},             \
    {"metrics", required_argument, 0, WS_TOPT_METRICS}, {"max-state-len", required_argument, 0, WS_TOPT_MSL},   \
    {"max-action-len", required_argument, 0, WS_TOPT_MAL}, {"device", required_argument, 0, WS_TOPT_DEVICE},   \
    {"gpu-math", required_argument, 0, WS_TOPT_GPU_MATH}, {"cpu-math", required_argument, 0, WS_TOPT_CPU_MATH}, \
    {"valid", required_argument, 0, WS_TOPT_VALID},      \
    {"head-lr", required_argument, 0, WS_TOPT_HEAD_LR}, {"oversample", required_argument, 0, WS_TOPT_OVERSAMPLE}, \
    {"save-minutes", required_argument, 0, WS_TOPT_SAVE_MINUTES}, {"segments", required_argument, 0, WS_TOPT_SEGMENTS},   \
    {"item-titles", required_argument, 0, WS_TOPT_ITEM_TITLES}, {"max-steps", required_argument, 0, WS_TOPT_MAX_STEPS}, \
    {"obs", required_argument, 0, WS_TOPT_OBS}, {"catalog-seed", required_argument, 0, WS_TOPT_CATALOG_SEED}, \
    {"mark-chosen", no_argument, 0, WS_TOPT_MARK_CHOSEN}

/* Handle a shared option (also the short -b, -o, -d); 1 when handled, 0 when not one of them. */
int ws_train_option(ws_train_opts *o, const ws_cli *cli, int code, const char *arg);
/* A tool's long option `name` was given: marks the tool setting of that name, if any. */
void ws_train_tool_option_given(ws_train_opts *o, const char *name);
/* The help text of the shared options, with the tool's defaults (`defaults`: its options as
 * ws_train_opts_default and the tool set them); train-ppo's omits what does not apply to it. */
const char *ws_train_usage(const ws_train_opts *defaults);

typedef struct ws_train_run {
    ws_train_opts opts;
    const ws_cli *cli;
    int quiet;            /* no progress: -q, or not rank 0 */
    ws_dist dist;         /* the ranks of a data-parallel run (one without mpirun) */
    const ws_backend *be;
    ws_model *model;
    ws_trainer trainer;
    ws_writer *metrics;
    char vocab_sha256[65];
    char *partial;        /* "<output>.partial": the checkpoint of a run not yet complete */
    int stopped;          /* ws_train_should_stop said so: the run is not complete */
    double started, last_save;
    /* Rounds of a trainer's own outer loop completed (train-ppo: iterations of rollouts and
     * updates): saved in the checkpoint as "rounds_done", restored by --resume so a resumed run
     * continues the count instead of starting it over. Dataset trainers leave it 0. */
    long rounds_done;
    /* evaluation */
    ws_catalog eval_cat;
    ws_env *eval_env;
    ws_runner *eval_runner;
    ws_agent eval_agent;
    ws_vocab *eval_vocab;
    json_t **eval_goals;
    int n_eval_goals;
} ws_train_run;

/* Join the ranks (lib/train/dist), build (or resume) the model on its backend, the optimiser and (on
 * rank 0) the metrics stream. A resumed run takes its settings (ws_run_setting) and seed from
 * the checkpoint, and its --metrics FILE keeps the records up to the checkpoint's step, the new
 * ones appended. total_steps is the run's
 * length for the schedule (the caller works it out, e.g. from the dataset and --epochs). vocab_sha:
 * the hash the training data carries ("" when unknown): it must match an --init/--resume
 * checkpoint's. Dies with a message on failure. */
void ws_train_setup(ws_train_run *run, const ws_cli *cli, const ws_train_opts *opts);
void ws_train_start(ws_train_run *run, int64_t total_steps, const char *vocab_sha);
/* The step the run stops at in this invocation (--steps, shortened by --stop-after). */
int64_t ws_train_last_step(const ws_train_run *run);
/* After the gradients are in the model: sum them over the ranks, clip, AdamW, metrics record
 * (extra fields from `fields`, stolen: its "states" is this rank's count of decisions and its real
 * numbers are means over them, which become means over every rank's), periodic save and
 * evaluation. Dies on failure. A rank whose share of a batch is empty zeroes its gradients and
 * passes fields with "states" 0. */
void ws_train_update(ws_train_run *run, json_t *fields, double step_seconds);
/* Scale of this rank's mean-over-its-decisions gradient so that the ranks' sum is the mean over
 * all: n_local / n_global (1 in a one-rank run). */
double ws_train_share(const ws_train_run *run, long n_local, long n_global);
/* The run should stop (interrupted on any rank): every rank agrees at the same step, and the
 * run then saves CKPT.partial, not CKPT. */
int ws_train_should_stop(ws_train_run *run);
/* Write a metrics record (stolen) on rank 0; dies on failure. */
void ws_train_metrics(ws_train_run *run, json_t *rec);
/* Save (rank 0: CKPT when the run is complete, removing CKPT.partial; CKPT.partial when it
 * was stopped or cut short by --stop-after), close the metrics, leave the ranks, free
 * everything; returns the exit status (129/130/143 when interrupted). */
int ws_train_finish(ws_train_run *run);

/* A dataset trainer's objective: given the batch's decisions (items[i] is decision i) after the
 * policy's forward pass, write d(loss)/d(logit) for every action into dlogits (already sized and
 * zeroed) and add its metrics to `fields` (at least "loss"). */
typedef int (*ws_loss_fn)(void *user, ws_model *policy, const ws_batch *b, const ws_decision_data *const *items,
                          ws_real *dlogits, json_t *fields, ws_err *err);

/* Loads tokens records for training (need: WS_NEED_TARGET or WS_NEED_PAIR, lib/train/train.h); warns
 * (unless quiet) how many single-action decisions it left out, and exits the tool on an error or
 * when nothing is left. `what` prefixes the messages ("--valid: "). */
void ws_train_load_dataset(ws_train_run *run, ws_dataset *d, const char *const *inputs, int n_inputs, int need,
                           const char *what);

/* The whole run of a dataset trainer: read the tokens records (`need`: WS_NEED_TARGET or
 * WS_NEED_PAIR), iterate seeded epochs in batches, call `loss` on each, update. With --valid,
 * the objective's metrics on the held-out records (forward passes only) before the first update
 * of the invocation, every --eval-every updates and after the last, as "valid" metrics records. */
int ws_train_dataset_main(const ws_cli *cli, const ws_train_opts *opts, int need, const char *const *inputs,
                          int n_inputs, ws_loss_fn loss, void *user);

#endif
