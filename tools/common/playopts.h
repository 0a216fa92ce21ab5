/* playopts: the options of the tools that play episodes or run a model on them (rollout,
 * gen-traj, thompson-eval, pair-prefs).
 *
 * Owns the environment options (--max-steps, --obs, --catalog-seed, -d/--data) and the model
 * options (--vocab, --temperature, --parallel, --max-state-len, --max-action-len, --threads):
 * their defaults, parsing and help text, as tools/common/trainloop does for the trainers. A tool appends
 * the WS_PLAY_*_LONGOPTS groups it takes to its option table (before the terminating zero entry)
 * and passes the codes its own switch does not know to ws_play_option. */
#ifndef WS_PLAYOPTS_H
#define WS_PLAYOPTS_H

#include <getopt.h>

#include "agent.h"
#include "catalog.h"
#include "cli.h"
#include "env.h"
#include "wordpiece.h"

/* Megabytes of the actions' encodings a player keeps (ws_model_cache_encodings): a 500-goal
 * evaluation of a MiniLM agent keeps about 125. */
#define WS_DEFAULT_ENCODING_CACHE_MB 1024
#define WS_PLAY_TEXT_OF(x) #x
#define WS_PLAY_TEXT(x) WS_PLAY_TEXT_OF(x) /* a number macro's digits, for help text */

typedef struct ws_play_opts {
    ws_episode_opts episode;           /* --max-steps [15], --obs text|text_rich [text], --mark-chosen [off] */
    long catalog_seed;                 /* --catalog-seed [233] */
    const char *data;                  /* -d, --data [NULL: ws_data_dir's search] */
    const char *vocab_path;            /* --vocab [NULL: the model directory's, ws_vocab_path] */
    double temperature;                /* --temperature [0: argmax] */
    double min_temperature;            /* the least --temperature accepted [0] */
    long parallel;                     /* --parallel: episodes in flight [16] */
    long threads;                      /* --threads [0: all] */
    const char *device, *gpu_math;     /* --device [auto], --gpu-math [tf32]: ws_backend_open */
    const char *cpu_math;              /* --cpu-math [fp32]: ws_backend_open */
    int max_state_len, max_action_len; /* --max-state-len, --max-action-len [512, 128] */
    long encoding_cache_mb;            /* --encoding-cache MB: actions' encodings kept [WS_DEFAULT_ENCODING_CACHE_MB; 0 off] */
} ws_play_opts;

void ws_play_opts_default(ws_play_opts *o);

enum {
    WS_POPT_MAX_STEPS = 1100, WS_POPT_OBS, WS_POPT_CATALOG_SEED, WS_POPT_VOCAB, WS_POPT_TEMP, WS_POPT_PARALLEL,
    WS_POPT_MSL, WS_POPT_MAL, WS_POPT_THREADS, WS_POPT_DEVICE, WS_POPT_GPU_MATH,
    WS_POPT_CPU_MATH, WS_POPT_ENCODING_CACHE, WS_POPT_MARK_CHOSEN
};
/* The environment: --max-steps, --obs, --mark-chosen, --catalog-seed, -d/--data (give "d:" in the
 * short options). */
#define WS_PLAY_ENV_LONGOPTS                                                                                  \
    {"max-steps", required_argument, 0, WS_POPT_MAX_STEPS}, {"obs", required_argument, 0, WS_POPT_OBS},        \
    {"mark-chosen", no_argument, 0, WS_POPT_MARK_CHOSEN},                                                      \
    {"catalog-seed", required_argument, 0, WS_POPT_CATALOG_SEED}, {"data", required_argument, 0, 'd'}
/* A model: --vocab, --max-state-len, --max-action-len, --threads, --device, --gpu-math, --cpu-math,
 * --encoding-cache. */
#define WS_PLAY_MODEL_LONGOPTS                                                                                \
    {"vocab", required_argument, 0, WS_POPT_VOCAB}, {"max-state-len", required_argument, 0, WS_POPT_MSL},      \
    {"max-action-len", required_argument, 0, WS_POPT_MAL}, {"threads", required_argument, 0, WS_POPT_THREADS}, \
    {"device", required_argument, 0, WS_POPT_DEVICE}, {"gpu-math", required_argument, 0, WS_POPT_GPU_MATH}, \
    {"cpu-math", required_argument, 0, WS_POPT_CPU_MATH},                                                      \
    {"encoding-cache", required_argument, 0, WS_POPT_ENCODING_CACHE}
/* A model playing episodes: --temperature, --parallel. */
#define WS_PLAY_AGENT_LONGOPTS                                                                                \
    {"temperature", required_argument, 0, WS_POPT_TEMP}, {"parallel", required_argument, 0, WS_POPT_PARALLEL}

/* Handle one of these options (also the short -d); 1 when handled, 0 when not one of them.
 * Dies with a usage error on a bad value. */
int ws_play_option(ws_play_opts *o, const ws_cli *cli, int code, const char *arg);

/* --obs's value: text or text_rich; a usage error otherwise. */
ws_obs_mode ws_play_obs_mode(const ws_cli *cli, const char *arg);

/* Help text: the environment options (4 lines) and the model options --vocab, --max-state-len,
 * --max-action-len, --threads, --device, --gpu-math, --cpu-math, --encoding-cache; a tool words
 * --temperature and --parallel itself. */
const char *ws_play_env_usage(void);
const char *ws_play_model_usage(void);

/* An agent with the options' token limits and temperature (no model or vocabulary yet). */
ws_agent ws_play_agent(const ws_play_opts *o);

/* The model of checkpoint `ckpt` with --threads set and its --vocab loaded into *vocab (see
 * ws_modelio_load_with_vocab); dies with the reason on failure. */
ws_model *ws_play_load_model(const ws_play_opts *o, const ws_cli *cli, const char *ckpt, ws_vocab **vocab);
/* Make a loaded model a player: onto the backend --device names (the model then owns it), in
 * inference mode (ws_model_set_inference: it only plays or scores), keeping its actions'
 * encodings (--encoding-cache, ws_model_cache_encodings: its weights no longer change); dies on
 * failure. */
void ws_play_place_model(const ws_play_opts *o, const ws_cli *cli, ws_model *m);
/* Where --cpu-math was auto (the pipelines' default) and not -q: say on stderr, once a run, what
 * the CPU's products run as, since auto picks by the CPU and fp32 takes about twice bf16's time. */
void ws_play_say_cpu_math(const ws_cli *cli, const ws_backend *be, const char *cpu_math);

/* The catalog of `dir` priced with --catalog-seed, and an environment on it; dies with the reason
 * on failure. */
ws_env *ws_play_env_new(const ws_play_opts *o, const ws_cli *cli, const char *dir, ws_catalog *cat);

#endif
