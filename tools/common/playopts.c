#include "playopts.h"

#include <limits.h>

#include <string.h>

#include "backend.h"
#include "encode.h"
#include "modelio.h"

void ws_play_opts_default(ws_play_opts *o)
{
    *o = (ws_play_opts){.episode = {.max_steps = 15, .obs_mode = WS_OBS_TEXT}, .catalog_seed = WS_DEFAULT_CATALOG_SEED, .parallel = 16,
                        .max_state_len = WS_DEFAULT_MAX_STATE_LEN, .max_action_len = WS_DEFAULT_MAX_ACTION_LEN,
                        .encoding_cache_mb = WS_DEFAULT_ENCODING_CACHE_MB};
}

ws_obs_mode ws_play_obs_mode(const ws_cli *cli, const char *arg)
{
    ws_obs_mode mode;
    if (ws_obs_mode_parse(arg, &mode))
        ws_cli_usage_error(cli, "--obs: expected text or text_rich, got '%s'", arg);
    return mode;
}

int ws_play_option(ws_play_opts *o, const ws_cli *cli, int code, const char *arg)
{
    switch (code) {
    case WS_POPT_MAX_STEPS: o->episode.max_steps = (int)ws_cli_long(cli, "--max-steps", arg, 1, 100000); break;
    case WS_POPT_OBS: o->episode.obs_mode = ws_play_obs_mode(cli, arg); break;
    case WS_POPT_MARK_CHOSEN: o->episode.mark_chosen = 1; break;
    case WS_POPT_CATALOG_SEED: o->catalog_seed = ws_cli_long(cli, "--catalog-seed", arg, 0, 0x7fffffffL); break;
    case 'd': o->data = arg; break;
    case WS_POPT_VOCAB: o->vocab_path = arg; break;
    case WS_POPT_TEMP: o->temperature = ws_cli_double(cli, "--temperature", arg, o->min_temperature, 100); break;
    case WS_POPT_PARALLEL: o->parallel = ws_cli_long(cli, "--parallel", arg, 1, 4096); break;
    case WS_POPT_MSL: o->max_state_len = (int)ws_cli_long(cli, "--max-state-len", arg, 2, 100000); break;
    case WS_POPT_MAL: o->max_action_len = (int)ws_cli_long(cli, "--max-action-len", arg, 2, 100000); break;
    case WS_POPT_THREADS: o->threads = ws_cli_long(cli, "--threads", arg, 1, 1024); break;
    case WS_POPT_DEVICE: o->device = arg; break;
    case WS_POPT_GPU_MATH: o->gpu_math = arg; break;
    case WS_POPT_CPU_MATH: o->cpu_math = arg; break;
    case WS_POPT_ENCODING_CACHE: o->encoding_cache_mb = ws_cli_long(cli, "--encoding-cache", arg, 0, 1L << 30); break;
    default: return 0;
    }
    return 1;
}

const char *ws_play_env_usage(void)
{
    return "      --max-steps N    step limit of an episode [15]\n"
           "      --obs MODE       observation mode: text or text_rich [text]\n"
           "      --mark-chosen    text_rich marks exactly the chosen option values (WebShop never\n"
           "                       marks one with a double quote; docs/webshop.md, section 2)\n"
           "      --catalog-seed N seed of the product prices; use the goals' --seed [" WS_DEFAULT_CATALOG_SEED_TEXT "]\n"
           "  -d, --data DIR       catalog directory [$WEBSHOP_DATA or ../shared/webshop-1k]\n";
}

const char *ws_play_model_usage(void)
{
    return "      --vocab FILE     the model's vocabulary [$WEBSHOP_MODEL/vocab.txt, else " WS_DEFAULT_MODEL_DIR "/vocab.txt]\n"
           "      --max-state-len N, --max-action-len N   token limits [512, 128]\n"
           "      --threads N      CPU threads for the model [all]\n"
           "      --device NAME    cpu, cuda, cuda:N or auto (cuda when a GPU is present) [auto];\n"
           "      --gpu-math NAME  its matrix products: fp32, tf32 or bf16 [tf32]\n"
           "      --cpu-math NAME  matrix products on the CPU: fp32, or bf16 on AVX512_BF16 CPUs\n"
           "                       (on AMX tiles where the CPU has them), or auto: bf16 where\n"
           "                       the CPU has it, else fp32 [fp32]\n"
           "      --encoding-cache MB  keep up to MB of the actions' encodings and encode a repeated\n"
           "                       action once: the same results, faster (CPU products in bf16, or\n"
           "                       in fp32 on CPUs without AVX-512) [" WS_PLAY_TEXT(WS_DEFAULT_ENCODING_CACHE_MB) "]\n";
}

ws_agent ws_play_agent(const ws_play_opts *o)
{
    return (ws_agent){.max_state_len = o->max_state_len, .max_action_len = o->max_action_len,
                      .temperature = o->temperature};
}

ws_model *ws_play_load_model(const ws_play_opts *o, const ws_cli *cli, const char *ckpt, ws_vocab **vocab)
{
    ws_err err;
    char buf[PATH_MAX + 64];
    ws_backend_set_threads((int)o->threads);
    ws_model *m = ws_modelio_load_with_vocab(ckpt, ws_vocab_path(o->vocab_path, buf, sizeof buf), vocab, &err);
    if (!m)
        ws_cli_die(cli, WS_EXIT_FAIL, "%s", err.msg);
    ws_play_place_model(o, cli, m);
    return m;
}

void ws_play_place_model(const ws_play_opts *o, const ws_cli *cli, ws_model *m)
{
    ws_err err;
    const ws_backend *be = ws_backend_open(o->device, o->gpu_math, o->cpu_math, &err);
    if (!be)
        ws_cli_die(cli, WS_EXIT_FAIL, "%s", err.msg);
    ws_play_say_cpu_math(cli, be, o->cpu_math);
    if (ws_model_to_backend(m, be, &err)) {
        ws_backend_close(be);
        ws_cli_die(cli, WS_EXIT_FAIL, "%s", err.msg);
    }
    ws_model_own_backend(m);
    ws_model_set_inference(m, 1);
    if (ws_model_cache_encodings(m, (size_t)o->encoding_cache_mb << 20, &err))
        ws_cli_die(cli, WS_EXIT_FAIL, "%s", err.msg);
}

ws_env *ws_play_env_new(const ws_play_opts *o, const ws_cli *cli, const char *dir, ws_catalog *cat)
{
    ws_err err;
    if (ws_catalog_load(cat, dir, (uint64_t)o->catalog_seed, &err))
        ws_cli_die(cli, WS_EXIT_FAIL, "%s", err.msg);
    ws_env *env = ws_env_new(cat, NULL, &err);
    if (!env)
        ws_cli_die(cli, WS_EXIT_FAIL, "%s", err.msg);
    return env;
}

void ws_play_say_cpu_math(const ws_cli *cli, const ws_backend *be, const char *cpu_math)
{
    static int said; /* once a run: a tool with several models (thompson-eval's arms) takes one --cpu-math */
    const char *products = ws_backend_cpu_products(be);
    if (cli->quiet || !products || !cpu_math || strcmp(cpu_math, "auto") != 0 || said++)
        return;
    ws_cli_warn(cli, "--cpu-math auto: products in %s%s", products,
                ws_backend_cpu_bf16() ? "" : ": this CPU lacks AVX512_BF16 (avx512_bf16 in /proc/cpuinfo)");
}
