#include "checkpoint.h"

#include <errno.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "safetensors.h"
#include "sha256.h"

static const char *const RESERVED[] = {"format", "config", "vocab_sha256", "step", "seed", "data_sha256"};
#define N_RESERVED (sizeof RESERVED / sizeof RESERVED[0])

static int is_reserved(const char *key)
{
    for (size_t i = 0; i < N_RESERVED; i++)
        if (strcmp(key, RESERVED[i]) == 0)
            return 1;
    return 0;
}

size_t ws_param_numel(const ws_param *p)
{
    size_t n = 1;
    for (int i = 0; i < p->ndim; i++)
        n *= (size_t)p->shape[i];
    return n;
}

static char *concat(const char *a, const char *b)
{
    size_t na = strlen(a), nb = strlen(b);
    char *s = malloc(na + nb + 1);
    if (s) {
        memcpy(s, a, na);
        memcpy(s + na, b, nb + 1);
    }
    return s;
}

static int cmp_str_ptr(const void *a, const void *b)
{
    return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* Names sorted into a new array (for duplicate and membership checks); NULL on OOM. */
static const char **sorted_names(const ws_param *params, size_t n)
{
    const char **names = malloc((n ? n : 1) * sizeof *names);
    if (!names)
        return NULL;
    for (size_t i = 0; i < n; i++)
        names[i] = params[i].name;
    qsort(names, n, sizeof *names, cmp_str_ptr);
    return names;
}

static int has_name(const char **sorted, size_t n, const char *name)
{
    return n && bsearch(&name, sorted, n, sizeof *sorted, cmp_str_ptr) != NULL;
}

/* The parameter list itself: names present, unique; shapes sane; data present. */
static int check_params(const char *path, const ws_param *params, size_t n, ws_err *err)
{
    for (size_t i = 0; i < n; i++) {
        const ws_param *p = &params[i];
        if (!p->name || !*p->name)
            return ws_fail(err, "%s: parameter %zu has no name", path, i);
        if (p->ndim < 0 || p->ndim > WS_PARAM_MAX_DIMS)
            return ws_fail(err, "%s: parameter '%s' has %d dimensions (0 to %d supported)", path,
                           p->name, p->ndim, WS_PARAM_MAX_DIMS);
        for (int d = 0; d < p->ndim; d++)
            if (p->shape[d] < 0)
                return ws_fail(err, "%s: parameter '%s' has a negative dimension", path, p->name);
        if (!p->data && ws_param_numel(p))
            return ws_fail(err, "%s: parameter '%s' has no data", path, p->name);
    }
    const char **names = sorted_names(params, n);
    if (!names)
        return ws_fail(err, "%s: out of memory", path);
    for (size_t i = 1; i < n; i++)
        if (strcmp(names[i - 1], names[i]) == 0) {
            ws_fail(err, "%s: parameter name '%s' appears twice", path, names[i]);
            free(names);
            return -1;
        }
    free(names);
    return 0;
}

static char *optim_path(const char *path)
{
    return concat(path, ".optim");
}

/* The .optim of the save before, kept until the checkpoint it belongs with is replaced. */
static char *previous_optim_path(const char *path)
{
    return concat(path, ".optim.prev");
}

/* ---------------------------------------------------------------- checksums */

static int cmp_param_name(const void *a, const void *b)
{
    return strcmp((*(const ws_param *const *)a)->name, (*(const ws_param *const *)b)->name);
}

/* Hash n floats as the file stores them (little-endian), whatever the host's byte order. */
static void hash_floats(ws_sha256 *c, const float *x, size_t n)
{
    unsigned char buf[4096];
    for (size_t at = 0; at < n;) {
        size_t k = n - at < sizeof buf / 4 ? n - at : sizeof buf / 4;
        for (size_t j = 0; j < k; j++) {
            uint32_t bits;
            memcpy(&bits, &x[at + j], 4);
            for (int b = 0; b < 4; b++)
                buf[4 * j + (size_t)b] = (unsigned char)(bits >> (8 * b));
        }
        ws_sha256_update(c, buf, 4 * k);
        at += k;
    }
}

/* The "data_sha256" a save writes: the SHA-256 of the file's data block, which holds the tensors
 * in name order (the safetensors writer's order for F32 tensors). `halves` prefixed copies of the
 * list (the .optim's "m." then "v.", both sorting as the names do) take their data from data[h]. */
static int data_sha256(const ws_param *params, size_t n, int halves, const float *const *const *data, char out[65])
{
    const ws_param **order = malloc((n ? n : 1) * sizeof *order);
    if (!order)
        return -1;
    for (size_t i = 0; i < n; i++)
        order[i] = &params[i];
    qsort(order, n, sizeof *order, cmp_param_name);
    ws_sha256 c;
    ws_sha256_init(&c);
    for (int h = 0; h < halves; h++)
        for (size_t i = 0; i < n; i++)
            hash_floats(&c, data ? data[h][order[i] - params] : order[i]->data, ws_param_numel(order[i]));
    ws_sha256_hex(&c, out);
    free(order);
    return 0;
}

/* The file's data block against its "data_sha256"; a file without one (written before
 * checksums) is taken as it is. */
static int verify_data(const ws_st_file *f, ws_err *err)
{
    const char *want = ws_st_meta_get(f, "data_sha256");
    if (!want)
        return 0;
    ws_sha256 c;
    char got[65];
    ws_sha256_init(&c);
    for (size_t i = 0; i < ws_st_count(f); i++)
        ws_sha256_update(&c, ws_st_tensor_at(f, i)->data, ws_st_tensor_at(f, i)->nbytes);
    ws_sha256_hex(&c, got);
    if (strcmp(got, want) != 0)
        return ws_fail(err, "%s: the tensor data does not match its checksum (sha256 %.12s..., recorded %.12s...): "
                       "the file is damaged", ws_st_name(f), got, want);
    return 0;
}

/* A NaN or infinite weight would load and then decide every choice (argmax of NaN logits is the
 * first action): refused, naming the tensor. The bits are read as the file stores them. */
static int check_finite(const ws_st_file *f, const ws_st_tensor *t, ws_err *err)
{
    const unsigned char *p = t->data;
    for (uint64_t i = 0; i < t->numel; i++) {
        int bad;
        switch (t->dtype) {
        case WS_ST_F64: bad = (p[8 * i + 7] & 0x7f) == 0x7f && (p[8 * i + 6] & 0xf0) == 0xf0; break;
        case WS_ST_F16: bad = (p[2 * i + 1] & 0x7c) == 0x7c; break;
        case WS_ST_BF16: bad = (p[2 * i + 1] & 0x7f) == 0x7f && (p[2 * i] & 0x80); break;
        default: bad = (p[4 * i + 3] & 0x7f) == 0x7f && (p[4 * i + 2] & 0x80); break; /* F32 */
        }
        if (bad)
            return ws_fail(err, "%s: tensor '%s' holds a NaN or infinite value (element %" PRIu64 "): refused",
                           ws_st_name(f), t->name, i);
    }
    return 0;
}

/* ---------------------------------------------------------------- save */

static int add_tensors(ws_st_writer *w, const char *prefix, const ws_param *params, size_t n,
                       const float *const *data, ws_err *err)
{
    for (size_t i = 0; i < n; i++) {
        const ws_param *p = &params[i];
        char *name = concat(prefix, p->name);
        if (!name)
            return ws_fail(err, "out of memory");
        int rc = ws_st_writer_add(w, name, data ? data[i] : p->data, p->ndim, p->shape, err);
        free(name);
        if (rc)
            return -1;
    }
    return 0;
}

int ws_checkpoint_save(const char *path, const ws_param *params, size_t n,
                       const ws_ckpt_meta *meta, const float *const *adam_m,
                       const float *const *adam_v, ws_err *err)
{
    if (check_params(path, params, n, err))
        return -1;
    if (!meta || !meta->config)
        return ws_fail(err, "%s: no model configuration to save", path);
    json_error_t jerr;
    json_t *cfg = json_loads(meta->config, JSON_REJECT_DUPLICATES, &jerr);
    int cfg_ok = json_is_object(cfg);
    json_decref(cfg);
    if (!cfg_ok)
        return ws_fail(err, "%s: the model configuration is not a JSON object", path);
    if (meta->step < 0)
        return ws_fail(err, "%s: negative step %" PRId64, path, meta->step);
    if ((adam_m == NULL) != (adam_v == NULL))
        return ws_fail(err, "%s: optimiser state needs both adam_m and adam_v", path);
    for (size_t i = 0; i < meta->n_extra; i++) {
        if (!meta->extra[i].key || !meta->extra[i].value)
            return ws_fail(err, "%s: extra metadata %zu has no key or value", path, i);
        if (is_reserved(meta->extra[i].key))
            return ws_fail(err, "%s: extra metadata '%s' is a reserved key", path, meta->extra[i].key);
    }
    for (size_t i = 0; adam_m && i < n; i++)
        if (ws_param_numel(&params[i]) && (!adam_m[i] || !adam_v[i]))
            return ws_fail(err, "%s: no optimiser state for parameter '%s'", path, params[i].name);

    char step[32], seed[32], sha[65], osha[65];
    snprintf(step, sizeof step, "%" PRId64, meta->step);
    snprintf(seed, sizeof seed, "%" PRIu64, meta->seed);
    const float *const *moments[] = {adam_m, adam_v};
    if (data_sha256(params, n, 1, NULL, sha) || (adam_m && data_sha256(params, n, 2, moments, osha)))
        return ws_fail(err, "%s: out of memory", path);
    char *opath = optim_path(path), *prev = previous_optim_path(path);
    ws_st_writer *w = NULL;
    int rc = -1;
    if (!opath || !prev) {
        ws_fail(err, "%s: out of memory", path);
        goto done;
    }
    /* The .optim in place belongs with the checkpoint in place: kept as .optim.prev until the
     * new checkpoint is in place too, so a crash between the two files leaves a pair to load. */
    if (adam_m && rename(opath, prev) != 0 && errno != ENOENT) {
        ws_fail(err, "%s: cannot keep the optimiser state of the save before: %s", opath, strerror(errno));
        goto done;
    }
    if (adam_m) {
        if (!(w = ws_st_writer_new(err)) || add_tensors(w, "m.", params, n, adam_m, err) ||
            add_tensors(w, "v.", params, n, adam_v, err) ||
            ws_st_writer_meta(w, "format", WS_OPTIM_FORMAT, err) ||
            ws_st_writer_meta(w, "step", step, err) || ws_st_writer_meta(w, "seed", seed, err) ||
            ws_st_writer_meta(w, "data_sha256", osha, err) || ws_st_writer_meta(w, "checkpoint_sha256", sha, err)) {
            ws_fail_prefix(err, opath);
            goto done;
        }
        if (ws_st_writer_write(w, opath, err))
            goto done;
        ws_st_writer_free(w);
        w = NULL;
    }
    if (!(w = ws_st_writer_new(err)) || add_tensors(w, "", params, n, NULL, err) ||
        ws_st_writer_meta(w, "format", WS_CKPT_FORMAT, err) ||
        ws_st_writer_meta(w, "config", meta->config, err) ||
        ws_st_writer_meta(w, "vocab_sha256", meta->vocab_sha256 ? meta->vocab_sha256 : "", err) ||
        ws_st_writer_meta(w, "step", step, err) || ws_st_writer_meta(w, "seed", seed, err) ||
        ws_st_writer_meta(w, "data_sha256", sha, err)) {
        ws_fail_prefix(err, path);
        goto done;
    }
    for (size_t i = 0; i < meta->n_extra; i++)
        if (ws_st_writer_meta(w, meta->extra[i].key, meta->extra[i].value, err)) {
            ws_fail_prefix(err, path);
            goto done;
        }
    if (ws_st_writer_write(w, path, err))
        goto done;
    if (!adam_m && unlink(opath) != 0 && errno != ENOENT) {
        ws_fail(err, "%s: cannot remove the stale optimiser state: %s", opath, strerror(errno));
        goto done;
    }
    if (unlink(prev) != 0 && errno != ENOENT) {
        ws_fail(err, "%s: cannot remove the optimiser state of the save before: %s", prev, strerror(errno));
        goto done;
    }
    rc = 0;
done:
    ws_st_writer_free(w);
    free(opath);
    free(prev);
    return rc;
}

int ws_checkpoint_remove(const char *path, ws_err *err)
{
    char *opath = optim_path(path), *prev = previous_optim_path(path);
    const char *files[] = {path, opath, prev};
    int rc = 0;
    if (!opath || !prev)
        rc = ws_fail(err, "%s: out of memory", path);
    for (size_t i = 0; !rc && i < sizeof files / sizeof *files; i++)
        if (unlink(files[i]) != 0 && errno != ENOENT)
            rc = ws_fail(err, "%s: cannot remove: %s", files[i], strerror(errno));
    free(opath);
    free(prev);
    return rc;
}

/* ---------------------------------------------------------------- metadata */

void ws_ckpt_meta_free(ws_ckpt_meta *meta)
{
    if (!meta)
        return;
    free(meta->owned);
    memset(meta, 0, sizeof *meta);
}

/* Strict decimal: digits only, no sign, no overflow past `max`. */
static int parse_u64(const char *s, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (!*s)
        return -1;
    for (; *s; s++) {
        if (*s < '0' || *s > '9')
            return -1;
        unsigned d = (unsigned)(*s - '0');
        if (v > (max - d) / 10)
            return -1;
        v = v * 10 + d;
    }
    *out = v;
    return 0;
}

static int meta_u64(const ws_st_file *f, const char *key, uint64_t max, uint64_t *out, ws_err *err)
{
    const char *s = ws_st_meta_get(f, key);
    if (!s)
        return ws_fail(err, "%s: no \"%s\" metadata", ws_st_name(f), key);
    if (parse_u64(s, max, out))
        return ws_fail(err, "%s: metadata \"%s\" is not a non-negative integer: '%.64s'",
                       ws_st_name(f), key, s);
    return 0;
}

static int check_format(const ws_st_file *f, const char *want, ws_err *err)
{
    const char *fmt = ws_st_meta_get(f, "format");
    if (!fmt)
        return ws_fail(err, "%s: no \"format\" metadata: not a %s file%s", ws_st_name(f), want,
                       strcmp(want, WS_CKPT_FORMAT) == 0
                           ? " (a plain Hugging Face file loads with ws_checkpoint_load_hf)"
                           : "");
    if (strcmp(fmt, want) != 0)
        return ws_fail(err, "%s: metadata \"format\" is '%.64s', expected '%s'", ws_st_name(f), fmt,
                       want);
    return 0;
}

/* Fill *out (owning one block with the extra array and every string) from the file. */
static int parse_meta(const ws_st_file *f, ws_ckpt_meta *out, ws_err *err)
{
    const char *fn = ws_st_name(f);
    memset(out, 0, sizeof *out);
    if (check_format(f, WS_CKPT_FORMAT, err))
        return -1;
    const char *config = ws_st_meta_get(f, "config"), *vocab = ws_st_meta_get(f, "vocab_sha256");
    if (!config)
        return ws_fail(err, "%s: no \"config\" metadata", fn);
    if (!vocab)
        return ws_fail(err, "%s: no \"vocab_sha256\" metadata", fn);
    json_error_t jerr;
    json_t *cfg = json_loads(config, JSON_REJECT_DUPLICATES, &jerr);
    int cfg_ok = json_is_object(cfg);
    json_decref(cfg);
    if (!cfg_ok)
        return ws_fail(err, "%s: metadata \"config\" is not a JSON object", fn);
    uint64_t step, seed;
    if (meta_u64(f, "step", INT64_MAX, &step, err) || meta_u64(f, "seed", UINT64_MAX, &seed, err))
        return -1;

    size_t m = ws_st_meta_count(f), n_extra = 0, bytes = strlen(config) + strlen(vocab) + 2;
    for (size_t i = 0; i < m; i++) {
        const char *k, *v;
        ws_st_meta_at(f, i, &k, &v);
        if (!is_reserved(k)) {
            n_extra++;
            bytes += strlen(k) + strlen(v) + 2;
        }
    }
    char *block = malloc(n_extra * sizeof(ws_kv) + bytes);
    if (!block)
        return ws_fail(err, "%s: out of memory", fn);
    ws_kv *extra = (ws_kv *)block;
    char *s = block + n_extra * sizeof(ws_kv);
#define PUT(dst, src)                                                                              \
    do {                                                                                           \
        size_t len_ = strlen(src) + 1;                                                             \
        memcpy(s, src, len_);                                                                      \
        (dst) = s;                                                                                 \
        s += len_;                                                                                 \
    } while (0)
    PUT(out->config, config);
    PUT(out->vocab_sha256, vocab);
    size_t j = 0;
    for (size_t i = 0; i < m; i++) {
        const char *k, *v;
        ws_st_meta_at(f, i, &k, &v);
        if (!is_reserved(k)) {
            PUT(extra[j].key, k);
            PUT(extra[j].value, v);
            j++;
        }
    }
#undef PUT
    out->step = (int64_t)step;
    out->seed = seed;
    const char *data = ws_st_meta_get(f, "data_sha256");
    snprintf(out->data_sha256, sizeof out->data_sha256, "%s", data ? data : "");
    out->extra = n_extra ? extra : NULL;
    out->n_extra = n_extra;
    out->owned = block;
    return 0;
}

int ws_checkpoint_read_meta(const char *path, ws_ckpt_meta *meta_out, ws_err *err)
{
    ws_st_file *f = ws_st_open(path, err);
    if (!f) {
        memset(meta_out, 0, sizeof *meta_out);
        return -1;
    }
    int rc = parse_meta(f, meta_out, err);
    ws_st_close(f);
    return rc;
}

/* ---------------------------------------------------------------- load */

static int same_shape(const ws_st_tensor *t, const ws_param *p)
{
    if (t->ndim != p->ndim)
        return 0;
    for (int d = 0; d < p->ndim; d++)
        if (t->shape[d] != p->shape[d])
            return 0;
    return 1;
}

static int convertible(ws_st_dtype d)
{
    return d == WS_ST_F32 || d == WS_ST_F16 || d == WS_ST_BF16 || d == WS_ST_F64;
}

static int shape_error(const ws_st_file *f, const ws_st_tensor *t, const ws_param *p, ws_err *err)
{
    char a[256], b[256];
    return ws_fail(err, "%s: tensor '%s' has shape %s, the model's parameter '%s' is %s",
                   ws_st_name(f), t->name, ws_st_shape_str(t->ndim, t->shape, a, sizeof a),
                   p->name, ws_st_shape_str(p->ndim, p->shape, b, sizeof b));
}

static int dtype_error(const ws_st_file *f, const ws_st_tensor *t, ws_err *err)
{
    return ws_fail(err, "%s: tensor '%s' has dtype %s, which cannot be read as float",
                   ws_st_name(f), t->name, ws_st_dtype_name(t->dtype));
}

/* Resolve every parameter "<prefix><name>" of an exact-match file into found[i], then refuse
 * tensors of the file that are no parameter. */
static int match_exact(const ws_st_file *f, const char *prefix, const ws_param *params, size_t n,
                       const ws_st_tensor **found, ws_err *err)
{
    size_t plen = strlen(prefix);
    for (size_t i = 0; i < n; i++) {
        char *name = concat(prefix, params[i].name);
        if (!name)
            return ws_fail(err, "out of memory");
        found[i] = ws_st_find(f, name);
        if (!found[i]) {
            ws_fail(err, "%s: tensor '%s' is missing (a parameter of the model)", ws_st_name(f), name);
            free(name);
            return -1;
        }
        free(name);
        if (!same_shape(found[i], &params[i]))
            return shape_error(f, found[i], &params[i], err);
        if (!convertible(found[i]->dtype))
            return dtype_error(f, found[i], err);
    }
    const char **names = sorted_names(params, n);
    if (!names)
        return ws_fail(err, "out of memory");
    int rc = 0;
    for (size_t i = 0; rc == 0 && i < ws_st_count(f); i++) {
        const char *tn = ws_st_tensor_at(f, i)->name;
        if (strncmp(tn, prefix, plen) != 0 || !has_name(names, n, tn + plen))
            rc = ws_fail(err, "%s: unexpected tensor '%s' (no parameter of the model has that name)",
                         ws_st_name(f), tn);
    }
    free(names);
    return rc;
}

static int read_step_seed(const ws_st_file *f, uint64_t *step, uint64_t *seed, ws_err *err)
{
    return meta_u64(f, "step", INT64_MAX, step, err) || meta_u64(f, "seed", UINT64_MAX, seed, err)
               ? -1
               : 0;
}

/* The optimiser state in opath, opened and checked to belong with the checkpoint f (path, meta);
 * NULL with err set otherwise. */
static ws_st_file *open_paired_optim(const char *opath, const char *path, const ws_st_file *f,
                                     const ws_ckpt_meta *meta, ws_err *err)
{
    uint64_t step, seed;
    ws_st_file *o = ws_st_open(opath, err);
    if (!o || check_format(o, WS_OPTIM_FORMAT, err) || read_step_seed(o, &step, &seed, err) || verify_data(o, err))
        goto fail;
    if ((int64_t)step != meta->step) {
        ws_fail(err, "%s: optimiser state of step %" PRIu64 " does not belong to the checkpoint of step %" PRId64,
                opath, step, meta->step);
        goto fail;
    }
    /* Paired by the checkpoint's tensor data, which tells runs apart where step and seed
     * coincide; files saved before checksums fall back to the seed. */
    const char *pair = ws_st_meta_get(o, "checkpoint_sha256"), *own = ws_st_meta_get(f, "data_sha256");
    if (pair ? !own || strcmp(pair, own) != 0 : seed != meta->seed) {
        ws_fail(err, "%s: optimiser state saved with other weights than %s (another run's, or a save "
                "interrupted between the two files)", opath, path);
        goto fail;
    }
    return o;
fail:
    ws_st_close(o);
    return NULL;
}

int ws_checkpoint_load(const char *path, const ws_param *params, size_t n,
                       ws_ckpt_meta *meta_out, float **adam_m, float **adam_v, ws_err *err)
{
    ws_ckpt_meta meta = {0};
    ws_st_file *f = NULL, *o = NULL;
    const ws_st_tensor **found = NULL;
    char *opath = NULL;
    int rc = -1;
    if (meta_out)
        memset(meta_out, 0, sizeof *meta_out);
    if ((adam_m == NULL) != (adam_v == NULL))
        return ws_fail(err, "%s: optimiser state needs both adam_m and adam_v", path);
    if (check_params(path, params, n, err))
        return -1;
    if (!(f = ws_st_open(path, err)) || parse_meta(f, &meta, err))
        goto done;
    found = calloc(3 * n + 1, sizeof *found);
    if (!found) {
        ws_fail(err, "%s: out of memory", path);
        goto done;
    }
    if (verify_data(f, err) || match_exact(f, "", params, n, found, err))
        goto done;
    for (size_t i = 0; i < n; i++)
        if (check_finite(f, found[i], err))
            goto done;
    if (adam_m) {
        if (!(opath = optim_path(path))) {
            ws_fail(err, "%s: out of memory", path);
            goto done;
        }
        if (!(o = open_paired_optim(opath, path, f, &meta, err))) {
            /* A save interrupted between its two files keeps the .optim of the save before,
             * which belongs with the checkpoint still in place. */
            char *prev = previous_optim_path(path);
            ws_err prev_err;
            if (!prev) {
                ws_fail(err, "%s: out of memory", path);
                goto done;
            }
            o = access(prev, F_OK) == 0 ? open_paired_optim(prev, path, f, &meta, &prev_err) : NULL;
            if (o) {
                free(opath);
                opath = prev;
            } else {
                free(prev);
                goto done;
            }
        }
        /* m.* then v.*: resolve each half, then refuse anything that is neither. */
        for (size_t i = 0; i < n; i++)
            for (int half = 0; half < 2; half++) {
                char *name = concat(half ? "v." : "m.", params[i].name);
                if (!name) {
                    ws_fail(err, "out of memory");
                    goto done;
                }
                const ws_st_tensor *t = ws_st_find(o, name);
                if (!t)
                    ws_fail(err, "%s: tensor '%s' is missing (optimiser state of parameter '%s')",
                            opath, name, params[i].name);
                free(name);
                if (!t)
                    goto done;
                if (!same_shape(t, &params[i])) {
                    shape_error(o, t, &params[i], err);
                    goto done;
                }
                if (!convertible(t->dtype)) {
                    dtype_error(o, t, err);
                    goto done;
                }
                if (check_finite(o, t, err))
                    goto done;
                found[n + 2 * i + (size_t)half] = t;
            }
        const char **names = sorted_names(params, n);
        if (!names) {
            ws_fail(err, "out of memory");
            goto done;
        }
        for (size_t i = 0; i < ws_st_count(o); i++) {
            const char *tn = ws_st_tensor_at(o, i)->name;
            if ((strncmp(tn, "m.", 2) != 0 && strncmp(tn, "v.", 2) != 0) || !has_name(names, n, tn + 2)) {
                ws_fail(err, "%s: unexpected tensor '%s' (not the state of a parameter of the model)",
                        opath, tn);
                free(names);
                goto done;
            }
        }
        free(names);
    }
    /* Everything checked: now write the buffers (conversion of a checked dtype cannot fail). */
    for (size_t i = 0; i < n; i++) {
        if (ws_st_tensor_to_f32(f, found[i], params[i].data, err))
            goto done;
        if (adam_m && (ws_st_tensor_to_f32(o, found[n + 2 * i], adam_m[i], err) ||
                       ws_st_tensor_to_f32(o, found[n + 2 * i + 1], adam_v[i], err)))
            goto done;
    }
    if (meta_out) {
        *meta_out = meta;
        memset(&meta, 0, sizeof meta);
    }
    rc = 0;
done:
    ws_ckpt_meta_free(&meta);
    ws_st_close(f);
    ws_st_close(o);
    free(found);
    free(opath);
    return rc;
}

/* ---------------------------------------------------------------- Hugging Face files */

/* "<prefix><name>", or for names ending ".weight" / ".bias" the legacy ".gamma" / ".beta". */
static const ws_st_tensor *find_hf(const ws_st_file *f, const char *prefix, const char *name, int *oom)
{
    char *full = concat(prefix, name);
    if (!full) {
        *oom = 1;
        return NULL;
    }
    const ws_st_tensor *t = ws_st_find(f, full);
    size_t len = strlen(full);
    static const struct {
        const char *now, *legacy;
    } RENAMES[] = {{".weight", ".gamma"}, {".bias", ".beta"}};
    for (size_t r = 0; !t && r < sizeof RENAMES / sizeof RENAMES[0]; r++) {
        size_t k = strlen(RENAMES[r].now);
        if (len <= k || strcmp(full + len - k, RENAMES[r].now) != 0)
            continue;
        char *legacy = malloc(len - k + strlen(RENAMES[r].legacy) + 1);
        if (!legacy) {
            *oom = 1;
            break;
        }
        memcpy(legacy, full, len - k);
        strcpy(legacy + len - k, RENAMES[r].legacy);
        t = ws_st_find(f, legacy);
        free(legacy);
    }
    free(full);
    return t;
}

static int fewer_rows_ok(const ws_st_tensor *t, const ws_param *p)
{
    if (t->ndim != p->ndim || p->ndim < 1 || t->shape[0] > p->shape[0])
        return 0;
    for (int d = 1; d < p->ndim; d++)
        if (t->shape[d] != p->shape[d])
            return 0;
    return 1;
}

int ws_checkpoint_load_hf(const char *path, const ws_param *params, size_t n,
                          const ws_hf_load_opts *opts, size_t *n_loaded, ws_err *err)
{
    ws_hf_load_opts o = opts ? *opts : (ws_hf_load_opts){0};
    if (n_loaded)
        *n_loaded = 0;
    if (check_params(path, params, n, err))
        return -1;
    ws_st_file *f = ws_st_open(path, err);
    if (!f)
        return -1;
    const ws_st_tensor **found = calloc(n + 1, sizeof *found);
    unsigned char *used = calloc(ws_st_count(f) + 1, 1);
    int rc = -1, oom = 0;
    if (!found || !used) {
        ws_fail(err, "%s: out of memory", path);
        goto done;
    }
    const char *prefix = o.prefix;
    if (!prefix) {
        size_t plain = 0, bert = 0;
        for (size_t i = 0; i < n; i++) {
            plain += find_hf(f, "", params[i].name, &oom) != NULL;
            bert += find_hf(f, "bert.", params[i].name, &oom) != NULL;
        }
        prefix = bert > plain ? "bert." : "";
    }
    size_t loaded = 0;
    for (size_t i = 0; i < n; i++) {
        const ws_param *p = &params[i];
        const ws_st_tensor *t = find_hf(f, prefix, p->name, &oom);
        if (oom) {
            ws_fail(err, "%s: out of memory", path);
            goto done;
        }
        if (!t) {
            if (o.allow_missing)
                continue;
            ws_fail(err, "%s: tensor '%s%s' is missing (a parameter of the model)", path, prefix,
                    p->name);
            goto done;
        }
        if (!same_shape(t, p) && !(o.allow_fewer_rows && fewer_rows_ok(t, p))) {
            shape_error(f, t, p, err);
            goto done;
        }
        if (!convertible(t->dtype)) {
            dtype_error(f, t, err);
            goto done;
        }
        found[i] = t;
        used[(size_t)(t - ws_st_tensor_at(f, 0))] = 1;
        loaded++;
    }
    if (!o.allow_unused)
        for (size_t i = 0; i < ws_st_count(f); i++)
            if (!used[i]) {
                ws_fail(err, "%s: unexpected tensor '%s' (no parameter of the model has that name%s)",
                        path, ws_st_tensor_at(f, i)->name, *prefix ? " after the prefix" : "");
                goto done;
            }
    for (size_t i = 0; i < n; i++)
        if (found[i] && ws_st_tensor_to_f32(f, found[i], params[i].data, err))
            goto done;
    if (n_loaded)
        *n_loaded = loaded;
    rc = 0;
done:
    free(found);
    free(used);
    ws_st_close(f);
    return rc;
}
