/* modelio: choice models to and from files.
 *
 * A checkpoint (lib/io/checkpoint) carries the model's configuration in its metadata, so a model is
 * rebuilt from the file alone. A pre-trained BERT directory (Hugging Face layout: config.json and
 * model.safetensors, see `make model`) seeds the encoder; the head, the value head and the rows
 * of WebShop's 4 added tokens keep their random initialisation. A checkpoint is paired with the
 * vocabulary it was trained with (its metadata's vocab_sha256), checked here. */
#ifndef WS_MODELIO_H
#define WS_MODELIO_H

#include "checkpoint.h"
#include "model.h"
#include "wordpiece.h"

/* Views of the model's tensors for lib/io/checkpoint (malloc'd array; the data stays the model's). */
ws_param *ws_modelio_params(ws_model *m, size_t *n);
/* The same views over another buffer laid out like the parameters (AdamW's m or v). */
float **ws_modelio_tensor_ptrs(ws_model *m, float *buffer);

/* Build the model a checkpoint describes and load its parameters. meta_out may be NULL. */
ws_model *ws_modelio_load(const char *path, ws_ckpt_meta *meta_out, ws_err *err);
/* A checkpoint and its vocabulary, for playing or scoring: the model ws_modelio_load builds, and
 * the vocabulary of `vocab_path` (the caller's choice: the tools' default is tools/common's
 * ws_vocab_path) loaded into *vocab
 * (left as it is when already loaded), which must be the one the checkpoint records (when it
 * records one). NULL on failure, saying why; a vocabulary loaded here stays in *vocab. */
ws_model *ws_modelio_load_with_vocab(const char *ckpt, const char *vocab_path, ws_vocab **vocab, ws_err *err);
/* The check of ws_modelio_load_with_vocab: fails unless `ckpt_sha256` (the checkpoint's
 * vocab_sha256; NULL or "" when it records none) is the hash of `vocab`. */
int ws_modelio_check_vocab(const char *ckpt, const char *ckpt_sha256, const char *vocab_path, const ws_vocab *vocab,
                           ws_err *err);
/* Load parameters (and, when adam_m/adam_v are given, the optimiser state laid out like the
 * parameters) of a checkpoint into an existing model of the same configuration. */
int ws_modelio_load_into(ws_model *m, const char *path, float *adam_m, float *adam_v, ws_ckpt_meta *meta_out,
                         ws_err *err);
/* Save parameters, metadata and (when given) the optimiser state, atomically. */
int ws_modelio_save(ws_model *m, const char *path, const ws_ckpt_meta *meta, const float *adam_m,
                    const float *adam_v, ws_err *err);

/* A model from a pre-trained BERT directory: its config.json with vocab_size replaced by
 * `vocab_size` (the WebShop vocabulary), the given ws_segments and item titles (model.h), random
 * initialisation from `seed`, then every encoder tensor from model.safetensors (the added tokens'
 * rows stay random). */
ws_model *ws_modelio_from_bert(const char *dir, int vocab_size, int segments, int item_titles, uint64_t seed,
                               ws_err *err);

/* Named configurations: "tiny" (tests: hidden 32, 2 layers) and "mini" (hidden 128, 2 layers). */
int ws_model_config_preset(const char *name, int vocab_size, ws_model_config *cfg);

#endif
