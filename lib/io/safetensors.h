/* safetensors: read and write the safetensors tensor file format (Hugging Face).
 *
 * Layout: an 8-byte little-endian header length N, N bytes of UTF-8 JSON
 *   {"__metadata__": {"key": "value", ...},
 *    "<name>": {"dtype": "F32", "shape": [d0, d1, ...], "data_offsets": [begin, end]}, ...}
 * then the data block: each tensor's elements, little-endian, C (row-major) order, at
 * [8 + N + begin, 8 + N + end) of the file.
 *
 * Reader. The file is mapped read-only (mmap) and checked as strictly as the reference
 * implementation does, so a corrupt or hostile file is refused with a message naming the file
 * and, where one is at fault, the tensor:
 *   - shorter than 8 bytes; header length past the end of the file or over 100 MB;
 *   - header not valid UTF-8 JSON, not an object, duplicate keys (tensor names or metadata keys);
 *   - "__metadata__" not an object (null is accepted as none) or a value in it not a string;
 *   - a tensor entry not an object, without "dtype" / "shape" / "data_offsets", an unknown dtype,
 *     a shape that is not an array of non-negative integers (at most WS_ST_MAX_DIMS of them), an
 *     element count or byte size that overflows, "data_offsets" not two non-negative integers
 *     with begin <= end, end - begin different from what the dtype and shape need;
 *   - offsets past the end of the data block, two tensors overlapping, a gap between tensors,
 *     or bytes after the last tensor (the data block must be tiled exactly, as the reference
 *     requires).
 * Unknown fields inside a tensor entry are ignored (the reference ignores them too). A file
 * truncated or rewritten while mapped can still fault (SIGBUS) when its data is read: keep
 * checkpoints immutable once renamed into place, which the writer guarantees for its own files.
 *
 * Writer. Collects named F32 tensors (borrowing their data until written) and metadata strings,
 * then writes the file through lib/io/outfile ("<path>.tmp-<pid>", fsynced and renamed into place),
 * so the final name only ever holds a complete file; on any failure the temporary file is removed
 * and a file already at the final name is left untouched. The bytes are a function of the inputs only, and match
 * what the reference writer produces for the same tensors: the JSON has no spaces, the
 * "__metadata__" entry first (its keys sorted by byte value; the reference uses a hash map
 * there, so its metadata order varies), then the tensors sorted by dtype alignment (largest
 * first, all F32 here) then by name (byte order), each as {"dtype","shape","data_offsets"};
 * the header is padded with spaces to a multiple of 8 bytes; the data follows in the same
 * order without gaps. */
#ifndef WS_SAFETENSORS_H
#define WS_SAFETENSORS_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define WS_ST_MAX_DIMS 8                           /* more dimensions are refused */
#define WS_ST_MAX_HEADER ((uint64_t)100000000)     /* the reference's limit on N */

/* Every dtype of the format (as of the reference's version 0.8), in the reference's order
 * (increasing alignment; the writer sorts by it). */
typedef enum ws_st_dtype {
    WS_ST_BOOL,
    WS_ST_F4,      /* 4-bit float, two per byte */
    WS_ST_F6_E2M3, /* 6-bit floats, packed */
    WS_ST_F6_E3M2,
    WS_ST_U8,
    WS_ST_I8,
    WS_ST_F8_E5M2,
    WS_ST_F8_E4M3,
    WS_ST_F8_E8M0,
    WS_ST_F8_E4M3FNUZ,
    WS_ST_F8_E5M2FNUZ,
    WS_ST_I16,
    WS_ST_U16,
    WS_ST_F16,
    WS_ST_BF16,
    WS_ST_I32,
    WS_ST_U32,
    WS_ST_F32,
    WS_ST_C64,
    WS_ST_F64,
    WS_ST_I64,
    WS_ST_U64,
    WS_ST_NDTYPES
} ws_st_dtype;

const char *ws_st_dtype_name(ws_st_dtype dtype); /* "F32", ...; "?" out of range */
int ws_st_dtype_bits(ws_st_dtype dtype);         /* bits per element: 4, 6, 8, ..., 64 */
/* 0 and *out set when `name` is a dtype of the format, -1 otherwise. */
int ws_st_dtype_parse(const char *name, ws_st_dtype *out);

/* One tensor of an open file. Everything points into the file handle and lives until
 * ws_st_close. `data` may be unaligned (the format does not promise alignment). */
typedef struct ws_st_tensor {
    const char *name;
    ws_st_dtype dtype;
    int ndim;
    int64_t shape[WS_ST_MAX_DIMS];
    uint64_t numel;     /* product of the shape (1 for a scalar, shape []) */
    const void *data;   /* nbytes bytes */
    size_t nbytes;
    uint64_t offset;    /* data_offsets[0], relative to the data block */
} ws_st_tensor;

typedef struct ws_st_file ws_st_file;

/* Map and validate a file. NULL with err filled ("<path>: ...") when it cannot be opened or is
 * not a well-formed safetensors file. */
ws_st_file *ws_st_open(const char *path, ws_err *err);
/* The same over caller-owned memory (tests, fuzzing), which must outlive the handle; `name`
 * stands for the path in messages. */
ws_st_file *ws_st_open_mem(const void *data, size_t size, const char *name, ws_err *err);
void ws_st_close(ws_st_file *f); /* NULL is allowed */

const char *ws_st_name(const ws_st_file *f); /* the path (or name) given to open */
size_t ws_st_count(const ws_st_file *f);
/* Tensors in file order (by data offset); NULL when i >= count. */
const ws_st_tensor *ws_st_tensor_at(const ws_st_file *f, size_t i);
/* By exact name; NULL when absent. */
const ws_st_tensor *ws_st_find(const ws_st_file *f, const char *name);

/* "__metadata__": entries sorted by key (byte order). Strings live until ws_st_close. */
size_t ws_st_meta_count(const ws_st_file *f);
int ws_st_meta_at(const ws_st_file *f, size_t i, const char **key, const char **value);
const char *ws_st_meta_get(const ws_st_file *f, const char *key); /* NULL when absent */

/* Convert a tensor of dtype F32, F16, BF16 or F64 to float (F16 and BF16 exactly, F64 rounded
 * to nearest) into out[0 .. t->numel). Any other dtype is refused, naming the tensor. */
int ws_st_tensor_to_f32(const ws_st_file *f, const ws_st_tensor *t, float *out, ws_err *err);
/* Look up `name`, check that its shape is exactly shape[0 .. ndim) and convert it into `out`
 * (numel floats). Errors name the file and tensor: absent, wrong shape (both shapes shown),
 * dtype not convertible. */
int ws_st_read_f32(const ws_st_file *f, const char *name, int ndim, const int64_t *shape,
                   float *out, ws_err *err);
/* "[2, 3]" into buf (truncated to cap); returns buf. For messages. */
char *ws_st_shape_str(int ndim, const int64_t *shape, char *buf, size_t cap);

typedef struct ws_st_writer ws_st_writer;

ws_st_writer *ws_st_writer_new(ws_err *err);
/* Add an F32 tensor: `name` (UTF-8, not "__metadata__", unique) and shape are copied; `data`
 * (numel floats, may be NULL only when numel is 0) is borrowed until ws_st_writer_write. */
int ws_st_writer_add(ws_st_writer *w, const char *name, const float *data, int ndim,
                     const int64_t *shape, ws_err *err);
/* Add a metadata entry; both strings are copied. A key given twice is an error. */
int ws_st_writer_meta(ws_st_writer *w, const char *key, const char *value, ws_err *err);
/* Write everything to `path` atomically (see above). The writer can be written again or freed. */
int ws_st_writer_write(ws_st_writer *w, const char *path, ws_err *err);
void ws_st_writer_free(ws_st_writer *w); /* NULL is allowed */

#endif
