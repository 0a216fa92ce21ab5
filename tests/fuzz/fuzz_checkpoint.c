/* libFuzzer harness for the checkpoint reader (lib/io/checkpoint over lib/io/safetensors): any bytes
 * as a checkpoint and its .optim must load or give a clean error, never a crash, and a load
 * that succeeds must have filled only finite values.
 *
 * Input: a 4-byte little-endian length L, L bytes of checkpoint, the rest the .optim (none when
 * empty). The model is two parameters, "a" [2, 3] and "b" [3], as in the seeds
 * (tests/fuzz/seeds-checkpoint: a checkpoint of them with and without its .optim). The reader
 * takes paths, so the bytes go to files in a private directory (tmpfs where there is one). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "checkpoint.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static char ckpt[4096], optim[4112];

static void put(const char *path, const uint8_t *data, size_t size)
{
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(data, 1, size, f) != size || fclose(f) != 0)
        abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (!*ckpt) {
        char dir[64];
        snprintf(dir, sizeof dir, "%s/ws-fuzz-ckpt-XXXXXX", access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp");
        if (!mkdtemp(dir))
            abort();
        snprintf(ckpt, sizeof ckpt, "%s/f.ckpt", dir);
        snprintf(optim, sizeof optim, "%s.optim", ckpt);
    }
    if (size < 4)
        return 0;
    size_t len = (size_t)data[0] | (size_t)data[1] << 8 | (size_t)data[2] << 16 | (size_t)data[3] << 24;
    data += 4;
    size -= 4;
    if (len > size)
        len = size;
    put(ckpt, data, len);
    int with_optim = size > len;
    if (with_optim)
        put(optim, data + len, size - len);
    else
        unlink(optim);

    float a[6], b[3], ma[6], mb[3], va[6], vb[3];
    ws_param params[2] = {{"a", a, 2, {2, 3}}, {"b", b, 1, {3}}};
    float *m[2] = {ma, mb}, *v[2] = {va, vb};
    ws_ckpt_meta meta;
    ws_err err;
    if (ws_checkpoint_read_meta(ckpt, &meta, &err) == 0)
        ws_ckpt_meta_free(&meta);
    if (ws_checkpoint_load(ckpt, params, 2, &meta, with_optim ? m : NULL, with_optim ? v : NULL, &err) == 0) {
        for (int i = 0; i < 6; i++)
            if (!isfinite(a[i]) || (with_optim && (!isfinite(ma[i]) || !isfinite(va[i]))))
                abort();
        for (int i = 0; i < 3; i++)
            if (!isfinite(b[i]) || (with_optim && (!isfinite(mb[i]) || !isfinite(vb[i]))))
                abort();
        ws_ckpt_meta_free(&meta);
    }
    return 0;
}
