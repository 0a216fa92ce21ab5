/* Driver for tests/oracle/safetensors_check.py: exposes lib/io/safetensors and lib/io/checkpoint to
 * the reference implementation's comparison.
 *   safetensors_driver write OUT       write a sample file with the C writer; print its content
 *   safetensors_driver write1 OUT      the same with a single metadata key
 *   safetensors_driver read IN         read a file with the C reader; print its content
 *   safetensors_driver check IN        exit 0 when the C reader accepts IN, else 1 (message on stderr)
 *   safetensors_driver checkpoint OUT  write a checkpoint (+ OUT.optim) with ws_checkpoint_save
 * "Content" is JSON on stdout: {"metadata": {k: v}, "tensors": {name: {"dtype", "shape",
 * "f32": hex of the little-endian float32 bytes after conversion, or null}}}. */
#include <jansson.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "checkpoint.h"
#include "safetensors.h"

static char *hex_f32(const float *x, uint64_t n)
{
    static const char digits[] = "0123456789abcdef";
    char *s = malloc(8 * n + 1);
    if (!s)
        return NULL;
    for (uint64_t i = 0; i < n; i++) {
        uint32_t b;
        memcpy(&b, &x[i], 4);
        for (int k = 0; k < 4; k++) { /* little-endian byte order */
            unsigned byte = (b >> (8 * k)) & 0xff;
            s[8 * i + 2 * k] = digits[byte >> 4];
            s[8 * i + 2 * k + 1] = digits[byte & 15];
        }
    }
    s[8 * n] = 0;
    return s;
}

static int dump(const char *path)
{
    ws_err err;
    ws_st_file *f = ws_st_open(path, &err);
    if (!f) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    json_t *root = json_object(), *meta = json_object(), *tensors = json_object();
    for (size_t i = 0; i < ws_st_meta_count(f); i++) {
        const char *k, *v;
        ws_st_meta_at(f, i, &k, &v);
        json_object_set_new(meta, k, json_string(v));
    }
    for (size_t i = 0; i < ws_st_count(f); i++) {
        const ws_st_tensor *t = ws_st_tensor_at(f, i);
        json_t *shape = json_array();
        for (int d = 0; d < t->ndim; d++)
            json_array_append_new(shape, json_integer(t->shape[d]));
        float *x = malloc((t->numel ? t->numel : 1) * sizeof *x);
        json_t *f32 = json_null();
        if (x && ws_st_tensor_to_f32(f, t, x, &err) == 0) {
            char *h = hex_f32(x, t->numel);
            f32 = json_string(h);
            free(h);
        }
        free(x);
        json_object_set_new(tensors, t->name,
                            json_pack("{s:s, s:o, s:o}", "dtype", ws_st_dtype_name(t->dtype),
                                      "shape", shape, "f32", f32));
    }
    json_object_set_new(root, "metadata", meta);
    json_object_set_new(root, "tensors", tensors);
    json_dumpf(root, stdout, JSON_COMPACT | JSON_ENSURE_ASCII);
    putchar('\n');
    json_decref(root);
    ws_st_close(f);
    return 0;
}

/* Values that exercise the bit patterns: signed zeros, subnormals, extremes, inf, NaN. */
static float sample_value(size_t t, size_t i)
{
    static const float special[] = {0.0f, -0.0f, 1e-45f, -1e-40f, 3.4028235e38f, -1.1754944e-38f,
                                    INFINITY, -INFINITY, NAN, 1.0f / 3.0f};
    if (i < sizeof special / sizeof special[0] && t == 0)
        return special[i];
    return (float)sin((double)(i + 1) * (double)(t + 1) * 0.37) * (float)(t + 1);
}

static int write_sample(const char *path, int full_meta)
{
    struct {
        const char *name;
        int ndim;
        int64_t shape[4];
    } spec[] = {
        {"bert.embeddings.word_embeddings.weight", 2, {37, 16}},
        {"bert.encoder.layer.0.attention.self.query.bias", 1, {16}},
        {"scalar", 0, {0}},
        {"empty", 2, {0, 3}},
        {"four.d", 4, {2, 3, 1, 5}},
        {"we\"ird\\name\n\x01 caf\xc3\xa9 \xe2\x9d\xa4", 1, {3}},
        {"big", 2, {1000, 7}},
    };
    size_t n = sizeof spec / sizeof spec[0];
    float *data[sizeof spec / sizeof spec[0]];
    ws_err err;
    ws_st_writer *w = ws_st_writer_new(&err);
    int rc = w ? 0 : 1;
    for (size_t t = 0; t < n; t++) {
        size_t numel = 1;
        for (int d = 0; d < spec[t].ndim; d++)
            numel *= (size_t)spec[t].shape[d];
        data[t] = malloc((numel ? numel : 1) * sizeof(float));
        for (size_t i = 0; i < numel; i++)
            data[t][i] = sample_value(t, i);
        if (rc == 0 && ws_st_writer_add(w, spec[t].name, data[t], spec[t].ndim, spec[t].shape, &err))
            rc = 1;
    }
    if (rc == 0 && ws_st_writer_meta(w, "format", "pt", &err))
        rc = 1;
    if (rc == 0 && full_meta &&
        (ws_st_writer_meta(w, "note", "quote \" backslash \\ newline \n \xc3\xa9", &err) ||
         ws_st_writer_meta(w, "a_first", "1", &err)))
        rc = 1;
    if (rc == 0 && ws_st_writer_write(w, path, &err))
        rc = 1;
    if (rc)
        fprintf(stderr, "%s\n", err.msg);
    ws_st_writer_free(w);
    for (size_t t = 0; t < n; t++)
        free(data[t]);
    return rc ? rc : dump(path);
}

static int write_checkpoint(const char *path)
{
    float emb[6 * 4], ln[4], m[6 * 4 + 4], v[6 * 4 + 4];
    for (int i = 0; i < 24; i++)
        emb[i] = (float)i / 8;
    for (int i = 0; i < 4; i++)
        ln[i] = 1.0f + (float)i;
    for (int i = 0; i < 28; i++) {
        m[i] = -(float)i;
        v[i] = (float)i * 0.5f;
    }
    ws_param p[2] = {{"embeddings.word_embeddings.weight", emb, 2, {6, 4}},
                     {"embeddings.LayerNorm.weight", ln, 1, {4}}};
    const float *am[2] = {m, m + 24}, *av[2] = {v, v + 24};
    ws_kv extra[1] = {{"tool", "safetensors_driver"}};
    ws_ckpt_meta meta = {.config = "{\"hidden\":4,\"vocab\":6}", .vocab_sha256 = "00ff", .step = 42,
                         .seed = 7, .extra = extra, .n_extra = 1};
    ws_err err;
    if (ws_checkpoint_save(path, p, 2, &meta, am, av, &err)) {
        fprintf(stderr, "%s\n", err.msg);
        return 1;
    }
    return dump(path);
}

int main(int argc, char **argv)
{
    if (argc != 3) {
        fprintf(stderr, "usage: %s write|write1|read|check|checkpoint FILE\n", argv[0]);
        return 2;
    }
    if (strcmp(argv[1], "write") == 0)
        return write_sample(argv[2], 1);
    if (strcmp(argv[1], "write1") == 0) /* only "format" as metadata */
        return write_sample(argv[2], 0);
    if (strcmp(argv[1], "read") == 0)
        return dump(argv[2]);
    if (strcmp(argv[1], "checkpoint") == 0)
        return write_checkpoint(argv[2]);
    if (strcmp(argv[1], "check") == 0) {
        ws_err err;
        ws_st_file *f = ws_st_open(argv[2], &err);
        if (!f) {
            fprintf(stderr, "%s\n", err.msg);
            return 1;
        }
        ws_st_close(f);
        return 0;
    }
    fprintf(stderr, "unknown command %s\n", argv[1]);
    return 2;
}
