/* backend.c: what every backend shares: choosing one by name. The kernels themselves are in
 * backend_cpu.c and backend_cuda.cu. */
#include "backend.h"

#include <stdlib.h>
#include <string.h>

int ws_gpu_math_parse(const char *name, ws_gpu_math *out)
{
    static const char *const names[] = {"fp32", "tf32", "bf16"};
    for (int i = 0; i < 3; i++)
        if (strcmp(name, names[i]) == 0) {
            *out = (ws_gpu_math)i;
            return 0;
        }
    return -1;
}

int ws_cpu_math_parse(const char *name, ws_cpu_math *out)
{
    if (strcmp(name, "fp32") == 0)
        *out = WS_CPU_MATH_FP32;
    else if (strcmp(name, "bf16") == 0)
        *out = WS_CPU_MATH_BF16;
    else if (strcmp(name, "auto") == 0)
        *out = WS_CPU_MATH_AUTO;
    else
        return -1;
    return 0;
}

static const ws_backend *open_cpu(ws_cpu_math math, ws_err *err)
{
    if (math == WS_CPU_MATH_FP32)
        return ws_backend_cpu();
    const ws_backend *be = ws_backend_cpu_bf16();
    if (!be && math == WS_CPU_MATH_AUTO)
        return ws_backend_cpu();
    if (!be)
        ws_fail(err, "--cpu-math bf16: this CPU lacks AVX512_BF16 (avx512_bf16 in /proc/cpuinfo); use fp32");
    return be;
}

const ws_backend *ws_backend_open(const char *device, const char *gpu_math, const char *cpu_math, ws_err *err)
{
    ws_gpu_math gm = WS_MATH_TF32;
    ws_cpu_math cm = WS_CPU_MATH_FP32;
    if (gpu_math && ws_gpu_math_parse(gpu_math, &gm))
        return ws_fail(err, "--gpu-math %s: not fp32, tf32 or bf16", gpu_math), NULL;
    if (cpu_math && ws_cpu_math_parse(cpu_math, &cm))
        return ws_fail(err, "--cpu-math %s: not fp32, bf16 or auto", cpu_math), NULL;
    if (!device || strcmp(device, "auto") == 0)
        return ws_cuda_device_count() > 0 ? ws_backend_cuda_new(0, gm, err) : open_cpu(cm, err);
    if (strcmp(device, "cpu") == 0)
        return open_cpu(cm, err);
    if (strcmp(device, "cuda") == 0)
        return ws_backend_cuda_new(0, gm, err);
    if (strncmp(device, "cuda:", 5) == 0) {
        char *end;
        long n = strtol(device + 5, &end, 10);
        if (*end || end == device + 5 || n < 0 || n > 1024)
            return ws_fail(err, "--device %s: not cuda:N", device), NULL;
        return ws_backend_cuda_new((int)n, gm, err);
    }
    return ws_fail(err, "--device %s: not cpu, cuda, cuda:N or auto", device), NULL;
}

void ws_backend_close(const ws_backend *be)
{
    if (be && be->destroy)
        be->destroy((ws_backend *)be); /* only backends that were allocated have a destroy */
}
