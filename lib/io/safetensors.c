#include "safetensors.h"

#include "grow.h"
#include "outfile.h"
#include "strbuf.h"
#include "vecmath.h"

#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---------------------------------------------------------------- dtypes */

static const struct {
    const char *name;
    int bits;
} DTYPES[WS_ST_NDTYPES] = {
    [WS_ST_BOOL] = {"BOOL", 8},
    [WS_ST_F4] = {"F4", 4},
    [WS_ST_F6_E2M3] = {"F6_E2M3", 6},
    [WS_ST_F6_E3M2] = {"F6_E3M2", 6},
    [WS_ST_U8] = {"U8", 8},
    [WS_ST_I8] = {"I8", 8},
    [WS_ST_F8_E5M2] = {"F8_E5M2", 8},
    [WS_ST_F8_E4M3] = {"F8_E4M3", 8},
    [WS_ST_F8_E8M0] = {"F8_E8M0", 8},
    [WS_ST_F8_E4M3FNUZ] = {"F8_E4M3FNUZ", 8},
    [WS_ST_F8_E5M2FNUZ] = {"F8_E5M2FNUZ", 8},
    [WS_ST_I16] = {"I16", 16},
    [WS_ST_U16] = {"U16", 16},
    [WS_ST_F16] = {"F16", 16},
    [WS_ST_BF16] = {"BF16", 16},
    [WS_ST_I32] = {"I32", 32},
    [WS_ST_U32] = {"U32", 32},
    [WS_ST_F32] = {"F32", 32},
    [WS_ST_C64] = {"C64", 64},
    [WS_ST_F64] = {"F64", 64},
    [WS_ST_I64] = {"I64", 64},
    [WS_ST_U64] = {"U64", 64},
};

const char *ws_st_dtype_name(ws_st_dtype dtype)
{
    return (unsigned)dtype < WS_ST_NDTYPES ? DTYPES[dtype].name : "?";
}

int ws_st_dtype_bits(ws_st_dtype dtype)
{
    return (unsigned)dtype < WS_ST_NDTYPES ? DTYPES[dtype].bits : 0;
}

int ws_st_dtype_parse(const char *name, ws_st_dtype *out)
{
    for (int i = 0; i < WS_ST_NDTYPES; i++)
        if (strcmp(name, DTYPES[i].name) == 0) {
            *out = (ws_st_dtype)i;
            return 0;
        }
    return -1;
}

char *ws_st_shape_str(int ndim, const int64_t *shape, char *buf, size_t cap)
{
    size_t len = 0;
    if (cap == 0)
        return buf;
    buf[0] = 0;
    int k = snprintf(buf, cap, "[");
    len = k > 0 ? (size_t)k : 0;
    for (int i = 0; i < ndim && len < cap; i++) {
        k = snprintf(buf + len, cap - len, "%s%" PRId64, i ? ", " : "", shape[i]);
        if (k < 0)
            break;
        len += (size_t)k;
    }
    if (len < cap)
        snprintf(buf + len, cap - len, "]");
    return buf;
}

/* Little-endian loads and stores, independent of the host's byte order and alignment. */
static uint16_t ld16(const unsigned char *p)
{
    return (uint16_t)(p[0] | (p[1] << 8));
}

static uint32_t ld32(const unsigned char *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static uint64_t ld64(const unsigned char *p)
{
    return (uint64_t)ld32(p) | (uint64_t)ld32(p + 4) << 32;
}

static void st32(unsigned char *p, uint32_t v)
{
    p[0] = (unsigned char)v;
    p[1] = (unsigned char)(v >> 8);
    p[2] = (unsigned char)(v >> 16);
    p[3] = (unsigned char)(v >> 24);
}

static void st64(unsigned char *p, uint64_t v)
{
    st32(p, (uint32_t)v);
    st32(p + 4, (uint32_t)(v >> 32));
}

/* IEEE half to float, exact (subnormals, infinities and NaN payloads included). */
static float half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16;
    uint32_t exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    if (exp == 0) {
        if (man == 0)
            return ws_bits_float(sign);
        exp = 127 - 15 + 1; /* subnormal: normalise the mantissa */
        while (!(man & 0x400u)) {
            man <<= 1;
            exp--;
        }
        man &= 0x3ffu;
        return ws_bits_float(sign | exp << 23 | man << 13);
    }
    if (exp == 31)
        return ws_bits_float(sign | 0x7f800000u | man << 13);
    return ws_bits_float(sign | (exp + 127 - 15) << 23 | man << 13);
}

/* ---------------------------------------------------------------- reader */

typedef struct meta_entry {
    const char *key, *value;
} meta_entry;

struct ws_st_file {
    char *name;
    const unsigned char *base; /* whole file */
    size_t size;
    int mapped;
    json_t *header;            /* owns every name and metadata string */
    const unsigned char *data; /* data block */
    uint64_t data_size;
    ws_st_tensor *tensors; /* in offset order */
    size_t n;
    const ws_st_tensor **by_name; /* sorted by name */
    meta_entry *meta;
    size_t n_meta;
};

static int cmp_offset(const void *a, const void *b)
{
    const ws_st_tensor *x = a, *y = b;
    uint64_t xe = x->offset + x->nbytes, ye = y->offset + y->nbytes;
    if (x->offset != y->offset)
        return x->offset < y->offset ? -1 : 1;
    if (xe != ye)
        return xe < ye ? -1 : 1;
    return strcmp(x->name, y->name);
}

static int cmp_name_ptr(const void *a, const void *b)
{
    const ws_st_tensor *const *x = a, *const *y = b;
    return strcmp((*x)->name, (*y)->name);
}

static int cmp_meta(const void *a, const void *b)
{
    const meta_entry *x = a, *y = b;
    return strcmp(x->key, y->key);
}

/* A JSON integer that fits the range [0, 2^63). */
static int json_u64(const json_t *v, uint64_t *out)
{
    if (!json_is_integer(v) || json_integer_value(v) < 0)
        return -1;
    *out = (uint64_t)json_integer_value(v);
    return 0;
}

static int parse_tensor(ws_st_file *f, const char *name, json_t *info, ws_st_tensor *t, ws_err *err)
{
    const char *fn = f->name;
    char shp[256];
    if (!json_is_object(info))
        return ws_fail(err, "%s: tensor '%s': header entry is not a JSON object", fn, name);
    json_t *jd = json_object_get(info, "dtype"), *js = json_object_get(info, "shape"),
           *jo = json_object_get(info, "data_offsets");
    if (!jd || !js || !jo)
        return ws_fail(err, "%s: tensor '%s': header entry has no \"%s\"", fn, name,
                       !jd ? "dtype" : !js ? "shape" : "data_offsets");
    if (!json_is_string(jd))
        return ws_fail(err, "%s: tensor '%s': \"dtype\" is not a string", fn, name);
    t->name = name;
    if (ws_st_dtype_parse(json_string_value(jd), &t->dtype))
        return ws_fail(err, "%s: tensor '%s': unknown dtype \"%.64s\"", fn, name,
                       json_string_value(jd));
    if (!json_is_array(js))
        return ws_fail(err, "%s: tensor '%s': \"shape\" is not an array", fn, name);
    if (json_array_size(js) > WS_ST_MAX_DIMS)
        return ws_fail(err, "%s: tensor '%s': shape has %zu dimensions, more than the %d supported",
                       fn, name, json_array_size(js), WS_ST_MAX_DIMS);
    t->ndim = (int)json_array_size(js);
    uint64_t numel = 1;
    int overflow = 0;
    for (int i = 0; i < t->ndim; i++) {
        uint64_t d;
        if (json_u64(json_array_get(js, (size_t)i), &d))
            return ws_fail(err, "%s: tensor '%s': shape entry %d is not a non-negative integer",
                           fn, name, i);
        t->shape[i] = (int64_t)d;
        if (d && numel > UINT64_MAX / d)
            overflow = 1;
        else
            numel *= d;
    }
    if (overflow) /* as the reference: a running product past 64 bits is refused */
        return ws_fail(err, "%s: tensor '%s': element count of shape %s overflows", fn, name,
                       ws_st_shape_str(t->ndim, t->shape, shp, sizeof shp));
    int bits = DTYPES[t->dtype].bits;
    if (numel > UINT64_MAX / (uint64_t)bits)
        return ws_fail(err, "%s: tensor '%s': byte size of shape %s overflows", fn, name,
                       ws_st_shape_str(t->ndim, t->shape, shp, sizeof shp));
    uint64_t nbits = numel * (uint64_t)bits;
    if (nbits % 8)
        return ws_fail(err, "%s: tensor '%s': %" PRIu64 " elements of %s do not fill whole bytes",
                       fn, name, numel, DTYPES[t->dtype].name);
    t->numel = numel;
    uint64_t begin, end;
    if (!json_is_array(jo) || json_array_size(jo) != 2 || json_u64(json_array_get(jo, 0), &begin) ||
        json_u64(json_array_get(jo, 1), &end))
        return ws_fail(err, "%s: tensor '%s': \"data_offsets\" is not two non-negative integers",
                       fn, name);
    if (end < begin)
        return ws_fail(err, "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64 "] end before they begin",
                       fn, name, begin, end);
    if (end - begin != nbits / 8)
        return ws_fail(err,
                       "%s: tensor '%s': dtype %s and shape %s need %" PRIu64
                       " bytes but data_offsets [%" PRIu64 ", %" PRIu64 "] span %" PRIu64,
                       fn, name, DTYPES[t->dtype].name,
                       ws_st_shape_str(t->ndim, t->shape, shp, sizeof shp), nbits / 8, begin, end,
                       end - begin);
    if (end > f->data_size)
        return ws_fail(err,
                       "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64
                       "] run past the end of the data (%" PRIu64 " bytes)",
                       fn, name, begin, end, f->data_size);
    t->offset = begin;
    t->nbytes = (size_t)(end - begin);
    t->data = f->data + begin;
    return 0;
}

static int parse_metadata(ws_st_file *f, json_t *m, ws_err *err)
{
    if (json_is_null(m))
        return 0;
    if (!json_is_object(m))
        return ws_fail(err, "%s: \"__metadata__\" is not a JSON object", f->name);
    f->meta = calloc(json_object_size(m) + 1, sizeof *f->meta);
    if (!f->meta)
        return ws_fail(err, "%s: out of memory", f->name);
    const char *key;
    json_t *v;
    json_object_foreach(m, key, v) {
        if (!json_is_string(v))
            return ws_fail(err, "%s: metadata '%s' is not a string", f->name, key);
        f->meta[f->n_meta++] = (meta_entry){key, json_string_value(v)};
    }
    qsort(f->meta, f->n_meta, sizeof *f->meta, cmp_meta);
    return 0;
}

static int parse(ws_st_file *f, ws_err *err)
{
    const char *fn = f->name;
    if (f->size < 8)
        return ws_fail(err, "%s: %zu bytes, too short for a safetensors file (8-byte header length)",
                       fn, f->size);
    uint64_t n = ld64(f->base);
    /* an absurd length: another kind of file, unless its JSON header is there */
    if ((n > f->size - 8 || n > WS_ST_MAX_HEADER) && f->size > 8 && f->base[8] != '{')
        return ws_fail(err, "%s: not a safetensors file (no JSON header after the first 8 bytes)", fn);
    if (n > f->size - 8)
        return ws_fail(err, "%s: not a safetensors file, or a truncated one: its header length %" PRIu64
                       " runs past the end of the file (%zu bytes)", fn, n, f->size);
    if (n > WS_ST_MAX_HEADER)
        return ws_fail(err, "%s: header length %" PRIu64 " is over the %" PRIu64 "-byte limit", fn,
                       n, WS_ST_MAX_HEADER);
    json_error_t jerr;
    f->header = json_loadb((const char *)f->base + 8, (size_t)n, JSON_REJECT_DUPLICATES, &jerr);
    if (!f->header) {
        if (json_error_code(&jerr) == json_error_duplicate_key) {
            /* Jansson says: duplicate object key near '"<key>"' */
            const char *near = strstr(jerr.text, "near '");
            const char *key = near ? near + 6 : jerr.text;
            int len = (int)strlen(key);
            if (near && len > 0 && key[len - 1] == '\'')
                len--;
            return ws_fail(err, "%s: header: duplicate name %.*s (byte %d of the header)", fn, len,
                           key, jerr.position);
        }
        return ws_fail(err, "%s: malformed JSON header at byte %d: %s", fn, jerr.position, jerr.text);
    }
    if (!json_is_object(f->header))
        return ws_fail(err, "%s: header is not a JSON object", fn);
    f->data = f->base + 8 + n;
    f->data_size = f->size - 8 - n;

    size_t count = json_object_size(f->header);
    f->tensors = calloc(count + 1, sizeof *f->tensors);
    f->by_name = calloc(count + 1, sizeof *f->by_name);
    if (!f->tensors || !f->by_name)
        return ws_fail(err, "%s: out of memory", fn);
    const char *key;
    json_t *v;
    json_object_foreach(f->header, key, v) {
        if (strcmp(key, "__metadata__") == 0) {
            if (parse_metadata(f, v, err))
                return -1;
            continue;
        }
        if (parse_tensor(f, key, v, &f->tensors[f->n], err))
            return -1;
        f->n++;
    }
    /* The data block must be tiled exactly: sorted by offset, each tensor starts where the
     * previous one ended, the last one ends at the end of the file. */
    qsort(f->tensors, f->n, sizeof *f->tensors, cmp_offset);
    uint64_t at = 0;
    for (size_t i = 0; i < f->n; i++) {
        const ws_st_tensor *t = &f->tensors[i];
        if (t->offset < at)
            return ws_fail(err,
                           "%s: tensor '%s': data_offsets [%" PRIu64 ", %" PRIu64
                           "] overlap tensor '%s' (which ends at %" PRIu64 ")",
                           fn, t->name, t->offset, t->offset + t->nbytes, f->tensors[i - 1].name, at);
        if (t->offset > at)
            return ws_fail(err, "%s: tensor '%s': %" PRIu64 " unused bytes before its data (offset %" PRIu64 ")",
                           fn, t->name, t->offset - at, t->offset);
        at = t->offset + t->nbytes;
    }
    if (at != f->data_size)
        return ws_fail(err, "%s: %" PRIu64 " bytes after the last tensor's data (data block of %" PRIu64
                       " bytes, tensors cover %" PRIu64 ")",
                       fn, f->data_size - at, f->data_size, at);
    for (size_t i = 0; i < f->n; i++)
        f->by_name[i] = &f->tensors[i];
    qsort(f->by_name, f->n, sizeof *f->by_name, cmp_name_ptr);
    return 0;
}

static ws_st_file *file_new(const char *name, ws_err *err)
{
    ws_st_file *f = calloc(1, sizeof *f);
    if (!f || !(f->name = strdup(name ? name : "<memory>"))) {
        free(f);
        ws_fail(err, "out of memory");
        return NULL;
    }
    return f;
}

ws_st_file *ws_st_open_mem(const void *data, size_t size, const char *name, ws_err *err)
{
    ws_st_file *f = file_new(name, err);
    if (!f)
        return NULL;
    f->base = data;
    f->size = size;
    if (parse(f, err)) {
        ws_st_close(f);
        return NULL;
    }
    return f;
}

ws_st_file *ws_st_open(const char *path, ws_err *err)
{
    ws_st_file *f = file_new(path, err);
    if (!f)
        return NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0) {
        ws_fail(err, "%s: cannot open: %s", path, strerror(errno));
        goto fail;
    }
    if (fstat(fd, &st) != 0) {
        ws_fail(err, "%s: cannot stat: %s", path, strerror(errno));
        goto fail;
    }
    if (!S_ISREG(st.st_mode)) {
        ws_fail(err, "%s: not a regular file", path);
        goto fail;
    }
    if ((uint64_t)st.st_size > SIZE_MAX) {
        ws_fail(err, "%s: too large to map", path);
        goto fail;
    }
    f->size = (size_t)st.st_size;
    if (f->size > 0) {
        void *p = mmap(NULL, f->size, PROT_READ, MAP_PRIVATE, fd, 0);
        if (p == MAP_FAILED) {
            ws_fail(err, "%s: cannot map: %s", path, strerror(errno));
            goto fail;
        }
        f->base = p;
        f->mapped = 1;
    }
    close(fd);
    fd = -1;
    if (parse(f, err))
        goto fail;
    return f;
fail:
    if (fd >= 0)
        close(fd);
    ws_st_close(f);
    return NULL;
}

void ws_st_close(ws_st_file *f)
{
    if (!f)
        return;
    if (f->mapped)
        munmap((void *)f->base, f->size);
    json_decref(f->header);
    free(f->tensors);
    free(f->by_name);
    free(f->meta);
    free(f->name);
    free(f);
}

const char *ws_st_name(const ws_st_file *f)
{
    return f->name;
}

size_t ws_st_count(const ws_st_file *f)
{
    return f->n;
}

const ws_st_tensor *ws_st_tensor_at(const ws_st_file *f, size_t i)
{
    return i < f->n ? &f->tensors[i] : NULL;
}

const ws_st_tensor *ws_st_find(const ws_st_file *f, const char *name)
{
    size_t lo = 0, hi = f->n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        int c = strcmp(name, f->by_name[mid]->name);
        if (c == 0)
            return f->by_name[mid];
        if (c < 0)
            hi = mid;
        else
            lo = mid + 1;
    }
    return NULL;
}

size_t ws_st_meta_count(const ws_st_file *f)
{
    return f->n_meta;
}

int ws_st_meta_at(const ws_st_file *f, size_t i, const char **key, const char **value)
{
    if (i >= f->n_meta)
        return -1;
    if (key)
        *key = f->meta[i].key;
    if (value)
        *value = f->meta[i].value;
    return 0;
}

const char *ws_st_meta_get(const ws_st_file *f, const char *key)
{
    meta_entry probe = {key, NULL};
    const meta_entry *e = f->n_meta ? bsearch(&probe, f->meta, f->n_meta, sizeof *f->meta, cmp_meta) : NULL;
    return e ? e->value : NULL;
}

int ws_st_tensor_to_f32(const ws_st_file *f, const ws_st_tensor *t, float *out, ws_err *err)
{
    const unsigned char *p = t->data;
    uint64_t n = t->numel;
    switch (t->dtype) {
    case WS_ST_F32:
        for (uint64_t i = 0; i < n; i++)
            out[i] = ws_bits_float(ld32(p + 4 * i));
        return 0;
    case WS_ST_F16:
        for (uint64_t i = 0; i < n; i++)
            out[i] = half_to_float(ld16(p + 2 * i));
        return 0;
    case WS_ST_BF16:
        for (uint64_t i = 0; i < n; i++)
            out[i] = ws_bits_float((uint32_t)ld16(p + 2 * i) << 16);
        return 0;
    case WS_ST_F64:
        for (uint64_t i = 0; i < n; i++) {
            uint64_t b = ld64(p + 8 * i);
            double d;
            memcpy(&d, &b, sizeof d);
            out[i] = (float)d;
        }
        return 0;
    default:
        return ws_fail(err, "%s: tensor '%s': dtype %s cannot be read as float (F32, F16, BF16, F64 can)",
                       f->name, t->name, DTYPES[t->dtype].name);
    }
}

int ws_st_read_f32(const ws_st_file *f, const char *name, int ndim, const int64_t *shape,
                   float *out, ws_err *err)
{
    const ws_st_tensor *t = ws_st_find(f, name);
    if (!t)
        return ws_fail(err, "%s: tensor '%s' not found", f->name, name);
    int same = t->ndim == ndim;
    for (int i = 0; same && i < ndim; i++)
        same = t->shape[i] == shape[i];
    if (!same) {
        char a[256], b[256];
        return ws_fail(err, "%s: tensor '%s' has shape %s, expected %s", f->name, name,
                       ws_st_shape_str(t->ndim, t->shape, a, sizeof a),
                       ws_st_shape_str(ndim, shape, b, sizeof b));
    }
    return ws_st_tensor_to_f32(f, t, out, err);
}

/* ---------------------------------------------------------------- writer */

typedef struct wtensor {
    char *name;
    const float *data;
    int ndim;
    int64_t shape[WS_ST_MAX_DIMS];
    uint64_t numel;
} wtensor;

typedef struct wmeta {
    char *key, *value;
} wmeta;

struct ws_st_writer {
    wtensor *t;
    size_t n, cap;
    wmeta *m;
    size_t n_meta, cap_meta;
};

ws_st_writer *ws_st_writer_new(ws_err *err)
{
    ws_st_writer *w = calloc(1, sizeof *w);
    if (!w)
        ws_fail(err, "out of memory");
    return w;
}

void ws_st_writer_free(ws_st_writer *w)
{
    if (!w)
        return;
    for (size_t i = 0; i < w->n; i++)
        free(w->t[i].name);
    for (size_t i = 0; i < w->n_meta; i++) {
        free(w->m[i].key);
        free(w->m[i].value);
    }
    free(w->t);
    free(w->m);
    free(w);
}

/* Strict UTF-8 (no overlongs, no surrogates, at most U+10FFFF), as JSON text requires. */
static int valid_utf8(const char *s)
{
    const unsigned char *p = (const unsigned char *)s;
    while (*p) {
        unsigned c = *p;
        int len;
        uint32_t cp;
        if (c < 0x80) {
            p++;
            continue;
        } else if ((c & 0xe0) == 0xc0) {
            len = 2;
            cp = c & 0x1f;
        } else if ((c & 0xf0) == 0xe0) {
            len = 3;
            cp = c & 0x0f;
        } else if ((c & 0xf8) == 0xf0) {
            len = 4;
            cp = c & 0x07;
        } else {
            return 0;
        }
        for (int i = 1; i < len; i++) {
            if ((p[i] & 0xc0) != 0x80)
                return 0;
            cp = cp << 6 | (p[i] & 0x3f);
        }
        if ((len == 2 && cp < 0x80) || (len == 3 && cp < 0x800) || (len == 4 && cp < 0x10000) ||
            cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
            return 0;
        p += len;
    }
    return 1;
}

int ws_st_writer_add(ws_st_writer *w, const char *name, const float *data, int ndim,
                     const int64_t *shape, ws_err *err)
{
    if (!name || !valid_utf8(name))
        return ws_fail(err, "tensor name %s is not valid UTF-8", name ? "" : "(null)");
    if (strcmp(name, "__metadata__") == 0)
        return ws_fail(err, "tensor name '__metadata__' is reserved by the format");
    if (ndim < 0 || ndim > WS_ST_MAX_DIMS)
        return ws_fail(err, "tensor '%s': %d dimensions (0 to %d supported)", name, ndim, WS_ST_MAX_DIMS);
    uint64_t numel = 1;
    for (int i = 0; i < ndim; i++) {
        if (shape[i] < 0)
            return ws_fail(err, "tensor '%s': negative dimension %" PRId64, name, shape[i]);
        if (shape[i] && numel > (UINT64_MAX / 4) / (uint64_t)shape[i])
            return ws_fail(err, "tensor '%s': too many elements", name);
        numel *= (uint64_t)shape[i];
    }
    if (numel > SIZE_MAX / 4)
        return ws_fail(err, "tensor '%s': too many elements", name);
    if (numel && !data)
        return ws_fail(err, "tensor '%s': no data", name);
    wtensor *grown = ws_grow(w->t, &w->cap, w->n + 1, sizeof *grown, 16);
    if (!grown)
        return ws_fail(err, "out of memory");
    w->t = grown;
    wtensor *t = &w->t[w->n];
    memset(t, 0, sizeof *t);
    if (!(t->name = strdup(name)))
        return ws_fail(err, "out of memory");
    t->data = data;
    t->ndim = ndim;
    for (int i = 0; i < ndim; i++)
        t->shape[i] = shape[i];
    t->numel = numel;
    w->n++;
    return 0;
}

int ws_st_writer_meta(ws_st_writer *w, const char *key, const char *value, ws_err *err)
{
    if (!key || !value || !valid_utf8(key) || !valid_utf8(value))
        return ws_fail(err, "metadata '%s': key and value must be valid UTF-8 strings",
                       key && valid_utf8(key) ? key : "?");
    for (size_t i = 0; i < w->n_meta; i++)
        if (strcmp(w->m[i].key, key) == 0)
            return ws_fail(err, "metadata '%s' given twice", key);
    wmeta *grown = ws_grow(w->m, &w->cap_meta, w->n_meta + 1, sizeof *grown, 8);
    if (!grown)
        return ws_fail(err, "out of memory");
    w->m = grown;
    wmeta *m = &w->m[w->n_meta];
    m->key = strdup(key);
    m->value = strdup(value);
    if (!m->key || !m->value) {
        free(m->key);
        free(m->value);
        return ws_fail(err, "out of memory");
    }
    w->n_meta++;
    return 0;
}

/* A JSON string as serde_json writes it: '"' and '\\' escaped, control characters as \b \t \n
 * \f \r or \u00XX (lower-case hex), everything else (UTF-8 included) verbatim. */
static void sb_json_string(ws_strbuf *b, const char *s)
{
    ws_strbuf_add(b, "\"", 1);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        char esc[8];
        switch (*p) {
        case '"': ws_strbuf_add(b, "\\\"", 2); break;
        case '\\': ws_strbuf_add(b, "\\\\", 2); break;
        case '\b': ws_strbuf_add(b, "\\b", 2); break;
        case '\t': ws_strbuf_add(b, "\\t", 2); break;
        case '\n': ws_strbuf_add(b, "\\n", 2); break;
        case '\f': ws_strbuf_add(b, "\\f", 2); break;
        case '\r': ws_strbuf_add(b, "\\r", 2); break;
        default:
            if (*p < 0x20) {
                snprintf(esc, sizeof esc, "\\u%04x", *p);
                ws_strbuf_add(b, esc, 6);
            } else {
                ws_strbuf_add(b, (const char *)p, 1);
            }
        }
    }
    ws_strbuf_add(b, "\"", 1);
}

static void sb_u64(ws_strbuf *b, uint64_t v)
{
    char num[24];
    int k = snprintf(num, sizeof num, "%" PRIu64, v);
    ws_strbuf_add(b, num, (size_t)k);
}

static int cmp_wtensor(const void *a, const void *b)
{
    const wtensor *x = a, *y = b;
    return strcmp(x->name, y->name); /* one dtype (F32): the reference's order is by name */
}

static int cmp_wmeta(const void *a, const void *b)
{
    const wmeta *x = a, *y = b;
    return strcmp(x->key, y->key);
}

int ws_st_writer_write(ws_st_writer *w, const char *path, ws_err *err)
{
    if (w->n)
        qsort(w->t, w->n, sizeof *w->t, cmp_wtensor);
    if (w->n_meta)
        qsort(w->m, w->n_meta, sizeof *w->m, cmp_wmeta);
    for (size_t i = 1; i < w->n; i++)
        if (strcmp(w->t[i - 1].name, w->t[i].name) == 0)
            return ws_fail(err, "%s: tensor '%s' added twice", path, w->t[i].name);

    ws_strbuf h = {0};
    ws_strbuf_add(&h, "{", 1);
    if (w->n_meta) {
        ws_strbuf_str(&h, "\"__metadata__\":{");
        for (size_t i = 0; i < w->n_meta; i++) {
            if (i)
                ws_strbuf_add(&h, ",", 1);
            sb_json_string(&h, w->m[i].key);
            ws_strbuf_add(&h, ":", 1);
            sb_json_string(&h, w->m[i].value);
        }
        ws_strbuf_add(&h, "}", 1);
    }
    uint64_t offset = 0;
    for (size_t i = 0; i < w->n; i++) {
        const wtensor *t = &w->t[i];
        if (i || w->n_meta)
            ws_strbuf_add(&h, ",", 1);
        sb_json_string(&h, t->name);
        ws_strbuf_str(&h, ":{\"dtype\":\"F32\",\"shape\":[");
        for (int d = 0; d < t->ndim; d++) {
            if (d)
                ws_strbuf_add(&h, ",", 1);
            sb_u64(&h, (uint64_t)t->shape[d]);
        }
        ws_strbuf_str(&h, "],\"data_offsets\":[");
        sb_u64(&h, offset);
        ws_strbuf_add(&h, ",", 1);
        offset += 4 * t->numel;
        sb_u64(&h, offset);
        ws_strbuf_str(&h, "]}");
    }
    ws_strbuf_add(&h, "}", 1);
    while (!h.oom && h.len % 8)
        ws_strbuf_add(&h, " ", 1);
    if (h.oom) {
        free(h.s);
        return ws_fail(err, "%s: out of memory", path);
    }
    if (h.len > WS_ST_MAX_HEADER) {
        free(h.s);
        return ws_fail(err, "%s: header of %zu bytes is over the format's limit", path, h.len);
    }

    unsigned char *buf = malloc(1 << 16);
    ws_outfile *f = NULL;
    int rc = 0;
    if (!buf) {
        rc = ws_fail(err, "%s: out of memory", path);
        goto done;
    }
    if (!(f = ws_outfile_open(path, err))) {
        rc = -1;
        goto done;
    }
    unsigned char len8[8];
    st64(len8, (uint64_t)h.len);
    rc = ws_outfile_write(f, len8, 8, err);
    if (rc == 0)
        rc = ws_outfile_write(f, h.s, h.len, err);
    for (size_t i = 0; rc == 0 && i < w->n; i++) {
        const wtensor *t = &w->t[i];
        const size_t per = (1 << 16) / 4;
        for (uint64_t at = 0; rc == 0 && at < t->numel; at += per) {
            size_t k = t->numel - at < per ? (size_t)(t->numel - at) : per;
            for (size_t j = 0; j < k; j++) {
                uint32_t bits;
                memcpy(&bits, &t->data[at + j], 4);
                st32(buf + 4 * j, bits);
            }
            rc = ws_outfile_write(f, buf, 4 * k, err);
        }
    }
    if (rc == 0)
        rc = ws_outfile_commit(f, NULL, err);
    else
        ws_outfile_discard(f);
done:
    free(buf);
    free(h.s);
    return rc;
}
