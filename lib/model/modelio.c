#include "modelio.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>


ws_param *ws_modelio_params(ws_model *m, size_t *n)
{
    *n = ws_model_n_tensors(m);
    ws_param *p = calloc(*n ? *n : 1, sizeof *p);
    if (!p)
        return NULL;
    for (size_t i = 0; i < *n; i++) {
        const ws_tensor *t = ws_model_tensor(m, i);
        p[i].name = t->name;
        p[i].data = ws_model_params(m) + t->offset;
        p[i].ndim = t->ndim;
        p[i].shape[0] = t->shape[0];
        p[i].shape[1] = t->shape[1];
    }
    return p;
}

float **ws_modelio_tensor_ptrs(ws_model *m, float *buffer)
{
    size_t n = ws_model_n_tensors(m);
    float **ptrs = calloc(n ? n : 1, sizeof *ptrs);
    for (size_t i = 0; ptrs && i < n; i++)
        ptrs[i] = buffer + ws_model_tensor(m, i)->offset;
    return ptrs;
}

int ws_modelio_load_into(ws_model *m, const char *path, float *adam_m, float *adam_v, ws_ckpt_meta *meta_out,
                         ws_err *err)
{
    size_t n;
    ws_param *params = ws_modelio_params(m, &n);
    float **mp = adam_m ? ws_modelio_tensor_ptrs(m, adam_m) : NULL, **vp = adam_v ? ws_modelio_tensor_ptrs(m, adam_v) : NULL;
    int rc;
    if (!params || (adam_m && !mp) || (adam_v && !vp))
        rc = ws_fail(err, "out of memory");
    else
        rc = ws_checkpoint_load(path, params, n, meta_out, mp, vp, err);
    free(params);
    free(mp);
    free(vp);
    return rc;
}

ws_model *ws_modelio_load(const char *path, ws_ckpt_meta *meta_out, ws_err *err)
{
    ws_ckpt_meta meta = {0};
    if (ws_checkpoint_read_meta(path, &meta, err))
        return NULL;
    json_error_t jerr;
    json_t *cfg_json = json_loads(meta.config ? meta.config : "", 0, &jerr);
    ws_model_config cfg;
    ws_model *m = NULL;
    if (!cfg_json)
        ws_fail(err, "%s: metadata \"config\" is not JSON: %s", path, jerr.text);
    else if (ws_model_config_from_json(cfg_json, &cfg, err) == 0)
        m = ws_model_new(&cfg, err);
    else
        ws_fail_prefix(err, path);
    json_decref(cfg_json);
    ws_ckpt_meta_free(&meta);
    if (m && ws_modelio_load_into(m, path, NULL, NULL, meta_out, err)) {
        ws_model_free(m);
        m = NULL;
    }
    return m;
}

int ws_modelio_check_vocab(const char *ckpt, const char *ckpt_sha256, const char *vocab_path, const ws_vocab *vocab,
                           ws_err *err)
{
    if (ckpt_sha256 && *ckpt_sha256 && strcmp(ckpt_sha256, ws_vocab_sha256(vocab)) != 0)
        return ws_fail(err, "%s: trained with another vocabulary than %s (sha256 %.12s..., not %.12s...)", ckpt,
                       vocab_path, ckpt_sha256, ws_vocab_sha256(vocab));
    return 0;
}

ws_model *ws_modelio_load_with_vocab(const char *ckpt, const char *vocab_path, ws_vocab **vocab, ws_err *err)
{
    ws_ckpt_meta meta = {0};
    ws_model *m = ws_modelio_load(ckpt, &meta, err);
    if (m && ((!*vocab && !(*vocab = ws_vocab_load(vocab_path, err))) ||
              ws_modelio_check_vocab(ckpt, meta.vocab_sha256, vocab_path, *vocab, err))) {
        ws_model_free(m);
        m = NULL;
    }
    ws_ckpt_meta_free(&meta);
    return m;
}

int ws_modelio_save(ws_model *m, const char *path, const ws_ckpt_meta *meta, const float *adam_m,
                    const float *adam_v, ws_err *err)
{
    size_t n;
    ws_param *params = ws_modelio_params(m, &n);
    float **mp = adam_m ? ws_modelio_tensor_ptrs(m, (float *)adam_m) : NULL;
    float **vp = adam_v ? ws_modelio_tensor_ptrs(m, (float *)adam_v) : NULL;
    int rc;
    if (!params || (adam_m && !mp) || (adam_v && !vp))
        rc = ws_fail(err, "out of memory");
    else
        rc = ws_checkpoint_save(path, params, n, meta, (const float *const *)mp, (const float *const *)vp, err);
    free(params);
    free(mp);
    free(vp);
    return rc;
}

ws_model *ws_modelio_from_bert(const char *dir, int vocab_size, int segments, int item_titles, uint64_t seed,
                               ws_err *err)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/config.json", dir);
    json_error_t jerr;
    json_t *j = json_load_file(path, 0, &jerr);
    if (!j) {
        ws_fail(err, "%s:%d: %s (run `make model` to fetch the pre-trained weights)", path, jerr.line, jerr.text);
        return NULL;
    }
    ws_model_config cfg;
    json_object_set_new(j, "vocab_size", json_integer(vocab_size));
    json_object_set_new(j, "segments", json_string(ws_segments_name(segments)));
    json_object_set_new(j, "item_titles", json_boolean(item_titles));
    int rc = ws_model_config_from_json(j, &cfg, err);
    json_decref(j);
    if (rc) {
        ws_fail_prefix(err, path);
        return NULL;
    }
    ws_model *m = ws_model_new(&cfg, err);
    if (!m)
        return NULL;
    ws_model_init_random(m, seed);
    size_t n, loaded = 0, encoder = 0;
    ws_param *params = ws_modelio_params(m, &n);
    for (size_t i = 0; params && i < n; i++)
        encoder += strncmp(params[i].name, "embeddings.", 11) == 0 || strncmp(params[i].name, "encoder.", 8) == 0;
    ws_hf_load_opts o = {.prefix = NULL, .allow_unused = 1, .allow_missing = 1, .allow_fewer_rows = 1};
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    if (!params)
        rc = ws_fail(err, "out of memory");
    else if ((rc = ws_checkpoint_load_hf(path, params, n, &o, &loaded, err)) == 0 && loaded != encoder)
        rc = ws_fail(err, "%s: %zu of the encoder's %zu tensors found: not a BERT of this configuration", path,
                     loaded, encoder);
    free(params);
    if (rc) {
        ws_model_free(m);
        return NULL;
    }
    return m;
}

int ws_model_config_preset(const char *name, int vocab_size, ws_model_config *cfg)
{
    ws_model_config c = {.vocab_size = vocab_size, .max_position = 512, .type_vocab = 2, .ln_eps = 1e-12,
                         .value_hidden = 128};
    if (strcmp(name, "tiny") == 0) {
        c.hidden = 32, c.layers = 2, c.heads = 2, c.intermediate = 64, c.value_hidden = 16;
    } else if (strcmp(name, "mini") == 0) {
        c.hidden = 128, c.layers = 2, c.heads = 2, c.intermediate = 512;
    } else {
        return -1;
    }
    *cfg = c;
    return 0;
}
