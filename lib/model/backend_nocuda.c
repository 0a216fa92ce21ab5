/* backend_nocuda: the CUDA entry points of lib/model/backend.h for a build without CUDA (the default;
 * cuda.mk swaps this file for backend_cuda.cu when make CUDA=1 finds nvcc). */
#include "backend.h"

int ws_cuda_built(void)
{
    return 0;
}

int ws_cuda_device_count(void)
{
    return 0;
}

ws_backend *ws_backend_cuda_new(int device, ws_gpu_math math, ws_err *err)
{
    (void)math;
    ws_fail(err, "cuda:%d: this build has no CUDA backend (rebuild with make CUDA=1, which needs nvcc)", device);
    return NULL;
}
