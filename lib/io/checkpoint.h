/* checkpoint: a model's parameters (and optionally AdamW's state) on disk, as safetensors.
 *
 * A checkpoint is one safetensors file holding every parameter as an F32 tensor under the
 * model's own names (Hugging Face BERT names for the encoder), with the metadata
 *   "format"       "webshop-rl-checkpoint"
 *   "config"       the model configuration, a JSON object as text
 *   "vocab_sha256" the SHA-256 (hex) of the vocabulary the model was trained with ("" = unknown)
 *   "step"         optimiser updates applied so far (decimal)
 *   "seed"         the run's seed (decimal, 64-bit unsigned)
 *   "data_sha256"  the SHA-256 (hex) of the file's data block (every tensor's bytes, in file order)
 * plus any extra string key/values the caller adds (reserved keys excepted).
 *
 * The optimiser state, when saved, lives beside it in "<path>.optim": tensors "m.<name>" and
 * "v.<name>" (AdamW's first and second moments, the shape of their parameter) with metadata
 * "format" = "webshop-rl-optimizer", "step" and "seed" (the checkpoint's), "data_sha256" (its
 * own data block's) and "checkpoint_sha256" (the checkpoint's "data_sha256"). Loading checks
 * that the .optim has the checkpoint's step and was saved with its weights, so a .optim left
 * over from another save, or from another run that reached the same step with the same seed,
 * is refused.
 *
 * Loading verifies each file's data against its "data_sha256" (a flipped bit anywhere in the
 * tensors is refused as damage) and refuses NaN and infinite values, naming file and tensor.
 * Files written before checksums (no "data_sha256"; a .optim without "checkpoint_sha256",
 * paired by step and seed as it was then) still load, unverified.
 *
 * Both files are written atomically (temporary name, fsync, rename): the .optim first, then the
 * checkpoint, so a crash between the two leaves files whose steps disagree, never a silent mix;
 * and the .optim they replace is kept as "<path>.optim.prev" until the new checkpoint is in
 * place, so that a crash between the two still leaves a pair: loading takes .optim.prev where
 * the .optim does not belong with the checkpoint (and the error about the .optim where neither
 * does). Saving without optimiser state removes a .optim left by an earlier save. The bytes written are
 * a function of the inputs only (tensors sorted by name, metadata by key). */
#ifndef WS_CHECKPOINT_H
#define WS_CHECKPOINT_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define WS_CKPT_FORMAT "webshop-rl-checkpoint"
#define WS_OPTIM_FORMAT "webshop-rl-optimizer"
#define WS_PARAM_MAX_DIMS 4

/* One parameter tensor of the model: fp32, contiguous, row-major. Nothing here is owned by
 * the checkpoint code: names and data belong to the model. */
typedef struct ws_param {
    const char *name;
    float *data;
    int ndim; /* 0 (a scalar) to WS_PARAM_MAX_DIMS */
    int64_t shape[WS_PARAM_MAX_DIMS];
} ws_param;

size_t ws_param_numel(const ws_param *p); /* product of the shape (1 for a scalar) */

typedef struct ws_kv {
    const char *key, *value;
} ws_kv;

/* The checkpoint's metadata.
 * For ws_checkpoint_save the caller fills it; every string is only read during the call.
 * Filled by ws_checkpoint_load or ws_checkpoint_read_meta, every string (config,
 * vocab_sha256, extra[].key/value) and the extra array itself are owned by the struct,
 * through `owned`, and stay valid until ws_ckpt_meta_free(). */
typedef struct ws_ckpt_meta {
    const char *config;       /* JSON object text; required for save */
    const char *vocab_sha256; /* NULL on save is written as "" */
    int64_t step;             /* >= 0 */
    uint64_t seed;
    const ws_kv *extra;       /* other metadata, sorted by key on load */
    size_t n_extra;
    void *owned;              /* private: what ws_ckpt_meta_free releases; NULL on save */
    char data_sha256[65];     /* on load: the file's "data_sha256", "" when it has none; a save
                               * ignores it and writes its own */
} ws_ckpt_meta;

/* Release what a load filled in and zero the struct. Safe on a zeroed struct. */
void ws_ckpt_meta_free(ws_ckpt_meta *meta);

/* Write the checkpoint `path` (and "<path>.optim" when adam_m and adam_v are both non-NULL:
 * adam_m[i] and adam_v[i] hold ws_param_numel(&params[i]) floats each). Parameter names must
 * be unique and non-empty; extra metadata keys must not be one of the reserved six. */
int ws_checkpoint_save(const char *path, const ws_param *params, size_t n,
                       const ws_ckpt_meta *meta, const float *const *adam_m,
                       const float *const *adam_v, ws_err *err);

/* Remove the checkpoint `path` and every file of its optimiser state (.optim, .optim.prev);
 * files already absent are no error. */
int ws_checkpoint_remove(const char *path, ws_err *err);

/* Read a checkpoint into the model's parameter buffers. Refuses a file whose "format" is not
 * WS_CKPT_FORMAT or whose data does not match its checksum, and, naming the tensor, the first
 * of: a parameter the file lacks (in the order of `params`), one whose shape differs, a tensor
 * of the file that is no parameter (in file order, which is name order for files this module
 * writes), a dtype that cannot be read as float, a NaN or infinite value. Everything (the .optim included) is checked before any buffer is written,
 * so on failure the buffers are unchanged.
 * meta_out may be NULL; otherwise it is filled (free with ws_ckpt_meta_free) and is left
 * zeroed on failure. adam_m and adam_v: both NULL (the .optim file is not read) or both
 * arrays of n buffers, filled from "<path>.optim", which must then exist. */
int ws_checkpoint_load(const char *path, const ws_param *params, size_t n,
                       ws_ckpt_meta *meta_out, float **adam_m, float **adam_v, ws_err *err);

/* Only the metadata (to build the model from its config before loading). */
int ws_checkpoint_read_meta(const char *path, ws_ckpt_meta *meta_out, ws_err *err);

/* Loading a plain Hugging Face safetensors file (BERT's model.safetensors): no metadata needed,
 * F32, F16, BF16 or F64 tensors. */
typedef struct ws_hf_load_opts {
    /* Looked-up name = prefix + parameter name. NULL: automatic, "" or "bert." (a
     * BertFor... file), whichever matches more parameters. */
    const char *prefix;
    int allow_unused;  /* 1: tensors of the file matching no parameter are ignored (pooler.*,
                          cls.*, embeddings.position_ids); 0: the first is an error */
    int allow_missing; /* 1: parameters absent from the file keep their values (heads the
                          pre-trained encoder has not); 0: the first is an error */
    int allow_fewer_rows; /* 1: a file tensor whose first dimension is smaller than the
                             parameter's, the rest equal, fills the leading rows and leaves the
                             others (word embeddings before WebShop's 4 added tokens) */
} ws_hf_load_opts;

/* Parameter names ending in ".weight" / ".bias" also match the legacy ".gamma" / ".beta" names
 * of LayerNorm tensors in older BERT files. *n_loaded (may be NULL) receives the number of
 * parameters filled. Like ws_checkpoint_load, everything is checked before anything is
 * written. opts NULL: all flags 0, automatic prefix. */
int ws_checkpoint_load_hf(const char *path, const ws_param *params, size_t n,
                          const ws_hf_load_opts *opts, size_t *n_loaded, ws_err *err);

#endif
