#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bigmem.h"
#include "enccache.h"
#include "rng.h"

/* ------------------------------------------------------------------ configuration */

static int get_int(const json_t *j, const char *own, const char *hf, int fallback)
{
    json_t *v = json_object_get(j, own);
    if (!v && hf)
        v = json_object_get(j, hf);
    return json_is_integer(v) ? (int)json_integer_value(v) : fallback;
}

int ws_model_config_from_json(const json_t *j, ws_model_config *cfg, ws_err *err)
{
    if (!json_is_object(j))
        return ws_fail(err, "model config: not a JSON object");
    cfg->hidden = get_int(j, "hidden", "hidden_size", -1);
    cfg->layers = get_int(j, "layers", "num_hidden_layers", -1);
    cfg->heads = get_int(j, "heads", "num_attention_heads", -1);
    cfg->intermediate = get_int(j, "intermediate", "intermediate_size", -1);
    cfg->max_position = get_int(j, "max_position", "max_position_embeddings", 512);
    cfg->type_vocab = get_int(j, "type_vocab", "type_vocab_size", 2);
    cfg->value_hidden = get_int(j, "value_hidden", NULL, 128);
    cfg->vocab_size = get_int(j, "vocab_size", NULL, -1);
    json_t *eps = json_object_get(j, "ln_eps");
    if (!eps)
        eps = json_object_get(j, "layer_norm_eps");
    cfg->ln_eps = json_is_number(eps) ? json_number_value(eps) : 1e-12;
    /* absent in checkpoints made before segments and in Hugging Face configs: none */
    json_t *seg = json_object_get(j, "segments");
    cfg->segments = WS_SEGMENTS_NONE;
    if (seg && (!json_is_string(seg) || (cfg->segments = ws_segments_from_name(json_string_value(seg))) < 0))
        return ws_fail(err, "model config: \"segments\" must be \"none\", \"instruction\" or \"match\"");
    /* absent before item titles: off */
    json_t *titles = json_object_get(j, "item_titles");
    if (titles && !json_is_boolean(titles))
        return ws_fail(err, "model config: \"item_titles\" must be true or false");
    cfg->item_titles = json_is_true(titles);
    return ws_model_config_check(cfg, err);
}

static const char *const segment_names[] = {"none", "instruction", "match"};

int ws_segments_from_name(const char *name)
{
    for (int i = 0; i < (int)(sizeof segment_names / sizeof *segment_names); i++)
        if (strcmp(name, segment_names[i]) == 0)
            return i;
    return -1;
}

const char *ws_segments_name(int segments)
{
    return segments >= 0 && segments < (int)(sizeof segment_names / sizeof *segment_names) ? segment_names[segments]
                                                                                            : "?";
}

json_t *ws_model_config_to_json(const ws_model_config *c)
{
    return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:i, s:s, s:b}", "vocab_size", c->vocab_size, "hidden",
                     c->hidden, "layers", c->layers, "heads", c->heads, "intermediate", c->intermediate,
                     "max_position", c->max_position, "type_vocab", c->type_vocab, "ln_eps", c->ln_eps,
                     "value_hidden", c->value_hidden, "segments", ws_segments_name(c->segments), "item_titles",
                     c->item_titles);
}

int ws_model_config_check(const ws_model_config *c, ws_err *err)
{
    if (c->vocab_size < 1 || c->hidden < 1 || c->layers < 0 || c->heads < 1 || c->intermediate < 1 ||
        c->max_position < 2 || c->type_vocab < 1 || c->value_hidden < 1 || !(c->ln_eps > 0))
        return ws_fail(err, "model config: every size must be positive (vocab %d, hidden %d, layers %d, heads %d, "
                       "intermediate %d, max_position %d)", c->vocab_size, c->hidden, c->layers, c->heads,
                       c->intermediate, c->max_position);
    if (c->hidden % c->heads)
        return ws_fail(err, "model config: hidden %d is not a multiple of heads %d", c->hidden, c->heads);
    if (c->segments < WS_SEGMENTS_NONE || c->segments > WS_SEGMENTS_MATCH)
        return ws_fail(err, "model config: unknown segments %d", c->segments);
    if (c->segments != WS_SEGMENTS_NONE && (c->type_vocab < 2 || c->vocab_size <= WS_TOKEN_FIRST_ADDED))
        return ws_fail(err, "model config: segments \"%s\" need 2 token types and WebShop's added tokens "
                       "(type_vocab %d, vocab %d)", ws_segments_name(c->segments), c->type_vocab, c->vocab_size);
    if (c->item_titles && c->vocab_size <= WS_TOKEN_BUTTON_END)
        return ws_fail(err, "model config: item titles need WebShop's added tokens (vocab %d)", c->vocab_size);
    return 0;
}

/* ------------------------------------------------------------------ parameters */

/* The tensors of one encoder layer, in the order they are laid out. */
enum { QW, QB, KW, KB, VW, VB, OW, OB, LN1W, LN1B, IW, IB, FW, FB, LN2W, LN2B, N_LAYER_TENSORS };
enum { WTE, WPE, WTT, ELNW, ELNB, N_EMB_TENSORS };
enum { H_IN, H_MEM, H_SCALE, H_W1, H_B1, H_W2, H_B2, H_V1W, H_V1B, H_V2W, H_V2B, N_HEAD_TENSORS };

typedef struct layer_acts {
    ws_real *inp, *q, *k, *v, *att, *ctx, *res1, *ln1, *ln1_mean, *ln1_rstd, *ff1, *gelu, *res2, *out, *ln2_mean,
        *ln2_rstd;
} layer_acts;

/* The batch dimensions the activation buffers scale with: tokens, action tokens, attention
 * probabilities, sequences, actions, decisions, bi-attention probabilities, bi-attention backward
 * scratch. */
enum { DIM_T, DIM_TA, DIM_ATT, DIM_SEQ, DIM_A, DIM_B, DIM_P1, DIM_SCRATCH, N_DIMS };

/* One allocation holding every buffer of a dimension, sized for `cap` units of it (lay_out). */
typedef struct act_block {
    void *dev;  /* backend memory */
    void *host; /* the host mirrors of its buffers off the host backend (else NULL) */
    size_t cap;
} act_block;

/* The packing arrays of a batch, on the host (filled by forward) and in the backend's memory. */
typedef struct pack_buffers {
    int *seq_start, *seq_len, *first_action, *n_actions, *action_decision, *act_tok;
    size_t *att_start, *p1_start;
    int32_t *ids, *pos, *types;
} pack_buffers;

struct ws_model {
    ws_model_config cfg;
    const ws_backend *be;
    int on_host;      /* the backend's memory is host memory (the CPU backend): no mirrors, no copies */
    int owns_backend; /* close it in ws_model_free */
    ws_model_read_hook read_hook; /* before a forward reads the embeddings (ws_model_set_read_hook) */
    void *read_hook_arg;
    ws_tensor *tensors;
    size_t n_tensors, n_params;
    ws_real *params, *grads; /* backend memory */
    ws_real *host_params;    /* the host copy: == params on the host, else synchronised on demand */
    /* tensor index of each piece */
    size_t emb[N_EMB_TENSORS], head[N_HEAD_TENSORS], *layer; /* layer[l * N_LAYER_TENSORS + k] */

    /* the last batch */
    ws_pack pack;
    pack_buffers hp, dp; /* host and backend copies (the same buffers on the host) */
    /* activations (backend memory) */
    ws_real *emb_out, *emb_mean, *emb_rstd, *enc_x0;
    layer_acts *acts;
    ws_real *feat, *hpre, *h, *pooled, *logits, *logp, *cls, *vpre, *vact, *values;
    ws_biattn_buffers bi;
    /* outputs and loss gradients on the host (aliases of the above on the host) */
    ws_real *h_logits, *h_logp, *h_values, *d_dlogits, *d_dvalues;
    /* backward scratch (training only) */
    ws_real *d_res, *d_spare, *d_tmp, *d_ctx, *d_q, *d_k, *d_v, *d_i1, *d_feat, *d_h, *d_pooled, *d_cls, *d_v1,
        *d_vact, *d_bi_scratch;
    act_block blocks[N_DIMS]; /* every buffer above, carved from one block per batch dimension */
    int *title_from, *title_len; /* each action's listing in its state (item titles), host */
    size_t cap_titles;
    /* The word embeddings' gradient rows the backward passes wrote since the gradients were last
     * zeroed, sorted (backends in host memory): the trainer's norm and late rows and the next
     * zeroing visit these, a batch's few hundred of the vocabulary's 30,522 (11.7M gradients read
     * or written three times a step otherwise). grad_rows_all: any row may be nonzero (before the first
     * zeroing; once the gradients' memory was handed out to be written, as the all-reduce does). */
    unsigned char *grad_row_seen; /* per vocabulary row: in grad_rows */
    int32_t *grad_rows;
    size_t n_grad_rows;
    int grad_rows_all;
    int inference; /* ws_model_set_inference: one layer's buffers, nothing for backward */
    int have_forward;
    /* ws_model_cache_encodings: the actions' encoder rows kept, and the batch the encoder runs on
     * when some are found there (its sequences, and where each of the batch's comes from) */
    ws_enccache cache;
    pack_buffers encoded;
    int *seq_source, *key_first;
    size_t cap_encoded_tokens, cap_encoded_seqs;
};

static size_t add_tensor(ws_model *m, const char *name, int ndim, int64_t d0, int64_t d1, int decay)
{
    ws_tensor *t = &m->tensors[m->n_tensors];
    snprintf(t->name, sizeof t->name, "%s", name);
    t->ndim = ndim;
    t->shape[0] = d0;
    t->shape[1] = ndim > 1 ? d1 : 0;
    t->numel = (size_t)d0 * (size_t)(ndim > 1 ? d1 : 1);
    t->offset = m->n_params;
    t->decay = decay;
    m->n_params += t->numel;
    return m->n_tensors++;
}

ws_model *ws_model_new(const ws_model_config *cfg, ws_err *err)
{
    if (ws_model_config_check(cfg, err))
        return NULL;
    ws_model *m = calloc(1, sizeof *m);
    size_t max_tensors = N_EMB_TENSORS + N_HEAD_TENSORS + (size_t)cfg->layers * N_LAYER_TENSORS;
    if (!m || !(m->tensors = calloc(max_tensors, sizeof *m->tensors)) ||
        !(m->layer = calloc((size_t)cfg->layers * N_LAYER_TENSORS + 1, sizeof *m->layer)) ||
        !(m->acts = calloc(cfg->layers ? (size_t)cfg->layers : 1, sizeof *m->acts))) {
        ws_model_free(m);
        ws_fail(err, "out of memory");
        return NULL;
    }
    m->cfg = *cfg;
    int C = cfg->hidden, FF = cfg->intermediate;
    m->emb[WTE] = add_tensor(m, "embeddings.word_embeddings.weight", 2, cfg->vocab_size, C, 1);
    m->emb[WPE] = add_tensor(m, "embeddings.position_embeddings.weight", 2, cfg->max_position, C, 1);
    m->emb[WTT] = add_tensor(m, "embeddings.token_type_embeddings.weight", 2, cfg->type_vocab, C, 1);
    m->emb[ELNW] = add_tensor(m, "embeddings.LayerNorm.weight", 1, C, 0, 0);
    m->emb[ELNB] = add_tensor(m, "embeddings.LayerNorm.bias", 1, C, 0, 0);
    static const char *const names[N_LAYER_TENSORS] = {
        "attention.self.query.weight", "attention.self.query.bias", "attention.self.key.weight",
        "attention.self.key.bias", "attention.self.value.weight", "attention.self.value.bias",
        "attention.output.dense.weight", "attention.output.dense.bias", "attention.output.LayerNorm.weight",
        "attention.output.LayerNorm.bias", "intermediate.dense.weight", "intermediate.dense.bias",
        "output.dense.weight", "output.dense.bias", "output.LayerNorm.weight", "output.LayerNorm.bias"};
    for (int l = 0; l < cfg->layers; l++)
        for (int k = 0; k < N_LAYER_TENSORS; k++) {
            char name[96];
            snprintf(name, sizeof name, "encoder.layer.%d.%s", l, names[k]);
            int64_t d0 = k == IW || k == IB ? FF : C, d1 = k == FW ? FF : C;
            int is_matrix = k == QW || k == KW || k == VW || k == OW || k == IW || k == FW;
            m->layer[(size_t)l * N_LAYER_TENSORS + k] = add_tensor(m, name, is_matrix ? 2 : 1, d0, d1, is_matrix);
        }
    m->head[H_IN] = add_tensor(m, "attn.input_linear.weight", 2, 1, C, 0);
    m->head[H_MEM] = add_tensor(m, "attn.memory_linear.weight", 2, 1, C, 0);
    m->head[H_SCALE] = add_tensor(m, "attn.dot_scale", 1, C, 0, 0);
    m->head[H_W1] = add_tensor(m, "linear_1.weight", 2, C, 4 * (int64_t)C, 1);
    m->head[H_B1] = add_tensor(m, "linear_1.bias", 1, C, 0, 0);
    m->head[H_W2] = add_tensor(m, "linear_2.weight", 2, 1, C, 1);
    m->head[H_B2] = add_tensor(m, "linear_2.bias", 1, 1, 0, 0);
    m->head[H_V1W] = add_tensor(m, "linear_3.0.weight", 2, cfg->value_hidden, C, 1);
    m->head[H_V1B] = add_tensor(m, "linear_3.0.bias", 1, cfg->value_hidden, 0, 0);
    m->head[H_V2W] = add_tensor(m, "linear_3.2.weight", 2, 1, cfg->value_hidden, 1);
    m->head[H_V2B] = add_tensor(m, "linear_3.2.bias", 1, 1, 0, 0);
    m->be = ws_backend_cpu();
    m->on_host = 1;
    m->host_params = m->params = ws_calloc_big(m->n_params, sizeof *m->params);
    m->grads = ws_calloc_big(m->n_params, sizeof *m->grads);
    m->grad_row_seen = calloc((size_t)cfg->vocab_size, 1);
    m->grad_rows = malloc((size_t)cfg->vocab_size * sizeof *m->grad_rows);
    m->grad_rows_all = 1;
    if (!m->params || !m->grads || !m->grad_row_seen || !m->grad_rows) {
        ws_fail(err, "out of memory for %zu parameters", m->n_params);
        ws_model_free(m);
        return NULL;
    }
    return m;
}

static void free_activations(ws_model *m)
{
    for (int d = 0; d < N_DIMS; d++) {
        act_block *blk = &m->blocks[d];
        if (blk->dev)
            m->be->free(m->be, blk->dev);
        free(blk->host);
        *blk = (act_block){0};
    }
    m->have_forward = 0;
}

static void free_parameters(ws_model *m)
{
    if (!m->on_host) {
        m->be->free(m->be, m->params);
        m->be->free(m->be, m->grads);
        m->params = m->host_params;
        m->grads = NULL;
    }
    ws_free_big(m->params);
    m->params = m->host_params = NULL;
}

void ws_model_free(ws_model *m)
{
    if (!m)
        return;
    free_activations(m);
    free(m->acts);
    free(m->tensors);
    free(m->layer);
    free(m->title_from);
    free(m->title_len);
    ws_enccache_free(&m->cache);
    free(m->encoded.ids);
    free(m->encoded.pos);
    free(m->encoded.types);
    free(m->encoded.seq_start);
    free(m->encoded.seq_len);
    free(m->encoded.att_start);
    free(m->seq_source);
    free(m->key_first);
    free(m->grad_row_seen);
    free(m->grad_rows);
    free_parameters(m);
    ws_free_big(m->grads);
    if (m->owns_backend)
        ws_backend_close(m->be);
    free(m);
}

void ws_model_own_backend(ws_model *m) { m->owns_backend = 1; }

int ws_model_to_backend(ws_model *m, const ws_backend *be, ws_err *err)
{
    if (be == m->be)
        return 0;
    if (!m->on_host)
        return ws_fail(err, "model: already on the %s backend", m->be->name);
    ws_enccache_clear(&m->cache); /* other arithmetic */
    free_activations(m);
    size_t bytes = m->n_params * sizeof(ws_real);
    ws_real *params = be->alloc(be, bytes), *grads = be->alloc(be, bytes);
    if (!params || !grads) {
        if (params)
            be->free(be, params);
        if (grads)
            be->free(be, grads);
        be->status(be, err);
        return ws_fail(err, "model: no room for %zu parameters on the %s backend", m->n_params, be->name);
    }
    be->upload(be, params, m->host_params, bytes);
    if (be->status(be, err)) {
        be->free(be, params);
        be->free(be, grads);
        return -1;
    }
    ws_free_big(m->grads);
    m->params = params;
    m->grads = grads;
    m->grad_rows_all = 1; /* not zeroed yet */
    m->be = be;
    m->on_host = 0;
    return 0;
}

const ws_backend *ws_model_backend(const ws_model *m) { return m->be; }

int ws_model_params_to_device(ws_model *m, ws_err *err)
{
    if (m->on_host)
        return 0;
    m->be->upload(m->be, m->params, m->host_params, m->n_params * sizeof(ws_real));
    return m->be->status(m->be, err);
}

int ws_model_params_to_host(ws_model *m, ws_err *err)
{
    if (m->on_host)
        return 0;
    m->be->download(m->be, m->host_params, m->params, m->n_params * sizeof(ws_real));
    return m->be->status(m->be, err);
}

const ws_model_config *ws_model_get_config(const ws_model *m) { return &m->cfg; }
size_t ws_model_n_tensors(const ws_model *m) { return m->n_tensors; }
const ws_tensor *ws_model_tensor(const ws_model *m, size_t i) { return &m->tensors[i]; }
/* Whoever takes the parameters for writing may change them: the kept encodings go. */
ws_real *ws_model_params(ws_model *m)
{
    ws_enccache_clear(&m->cache);
    return m->host_params;
}
ws_real *ws_model_device_params(ws_model *m)
{
    ws_enccache_clear(&m->cache);
    return m->params;
}
ws_real *ws_model_device_grads(ws_model *m)
{
    m->grad_rows_all = 1; /* the caller may write any of them */
    return m->grads;
}

const int32_t *ws_model_grad_rows(const ws_model *m, size_t *n)
{
    *n = m->n_grad_rows;
    return ws_backend_on_host(m->be) && !m->grad_rows_all ? m->grad_rows : NULL;
}

static int compare_rows(const void *a, const void *b)
{
    int32_t x = *(const int32_t *)a, y = *(const int32_t *)b;
    return (x > y) - (x < y);
}

/* The word embeddings' rows this backward wrote (the batch's token ids) added to grad_rows. */
static void note_grad_rows(ws_model *m)
{
    size_t before = m->n_grad_rows;
    for (int t = 0; t < m->pack.T; t++) {
        int32_t id = m->hp.ids[t];
        if (!m->grad_row_seen[id]) {
            m->grad_row_seen[id] = 1;
            m->grad_rows[m->n_grad_rows++] = id;
        }
    }
    if (m->n_grad_rows > before)
        qsort(m->grad_rows, m->n_grad_rows, sizeof *m->grad_rows, compare_rows);
}
size_t ws_model_n_params(const ws_model *m) { return m->n_params; }
const ws_real *ws_model_logits(const ws_model *m) { return m->h_logits; }
const ws_real *ws_model_logp(const ws_model *m) { return m->h_logp; }
const ws_real *ws_model_values(const ws_model *m) { return m->h_values; }
size_t ws_model_batch_tokens(const ws_model *m) { return (size_t)m->pack.T; }

const ws_tensor *ws_model_find_tensor(const ws_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0)
            return &m->tensors[i];
    return NULL;
}

void ws_model_zero_grad(ws_model *m)
{
    const ws_tensor *wte = &m->tensors[m->emb[WTE]];
    int on_host = ws_backend_on_host(m->be);
    if (!on_host || m->grad_rows_all) {
        m->be->zero(m->be, m->grads, m->n_params * sizeof *m->grads);
    } else { /* all but the word embeddings, then the rows of those written */
        size_t width = (size_t)wte->shape[1], after = wte->offset + wte->numel;
        m->be->zero(m->be, m->grads, wte->offset * sizeof *m->grads);
        m->be->zero(m->be, m->grads + after, (m->n_params - after) * sizeof *m->grads);
        for (size_t i = 0; i < m->n_grad_rows; i++)
            memset(m->grads + wte->offset + (size_t)m->grad_rows[i] * width, 0, width * sizeof *m->grads);
    }
    for (size_t i = 0; i < m->n_grad_rows; i++)
        m->grad_row_seen[m->grad_rows[i]] = 0;
    m->n_grad_rows = 0;
    m->grad_rows_all = !on_host;
}

static ws_real *P(ws_model *m, size_t tensor) { return m->params + m->tensors[tensor].offset; }
static ws_real *G(ws_model *m, size_t tensor) { return m->grads + m->tensors[tensor].offset; }
static size_t LT(const ws_model *m, int l, int k) { return m->layer[(size_t)l * N_LAYER_TENSORS + k]; }

static double normal(ws_rng *r)
{
    double u1 = ws_rng_uniform(r), u2 = ws_rng_uniform(r);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
}

int ws_tensor_is_head(const ws_tensor *t)
{
    return strncmp(t->name, "embeddings.", 11) != 0 && strncmp(t->name, "encoder.", 8) != 0;
}

void ws_model_init_random(ws_model *m, uint64_t seed)
{
    ws_rng rng;
    ws_rng_seed(&rng, seed, "model-init");
    ws_enccache_clear(&m->cache);
    for (size_t i = 0; i < m->n_tensors; i++) {
        const ws_tensor *t = &m->tensors[i];
        ws_real *p = m->host_params + t->offset;
        const char *n = t->name;
        int is_head = ws_tensor_is_head(t);
        if (strstr(n, "LayerNorm.weight")) {
            for (size_t k = 0; k < t->numel; k++)
                p[k] = 1;
        } else if (strstr(n, "LayerNorm.bias") || (!is_head && strstr(n, ".bias"))) {
            memset(p, 0, t->numel * sizeof *p);
        } else if (!is_head) {
            for (size_t k = 0; k < t->numel; k++)
                p[k] = (ws_real)(0.02 * normal(&rng));
        } else if (strcmp(n, "attn.dot_scale") == 0) {
            /* WebShop: uniform_(1 / sqrt(C)), i.e. uniform in [1 / sqrt(C), 1) */
            double lo = 1.0 / sqrt((double)m->cfg.hidden);
            for (size_t k = 0; k < t->numel; k++)
                p[k] = (ws_real)(lo + (1.0 - lo) * ws_rng_uniform(&rng));
        } else {
            /* PyTorch's nn.Linear default: U(-1/sqrt(fan_in), 1/sqrt(fan_in)) for weight and bias */
            const ws_tensor *w = t->ndim == 2 ? t : t - 1;
            double bound = 1.0 / sqrt((double)w->shape[1]);
            for (size_t k = 0; k < t->numel; k++)
                p[k] = (ws_real)(bound * (2.0 * ws_rng_uniform(&rng) - 1.0));
        }
    }
}

/* ------------------------------------------------------------------ activation memory */

void ws_model_set_inference(ws_model *m, int inference)
{
    if (m->inference == !!inference)
        return;
    /* the buffers are laid out for the other mode: the next forward sizes them anew */
    free_activations(m);
    m->inference = !!inference;
    if (!inference) /* training changes the weights: the kept encodings go, and keeping with them */
        ws_enccache_free(&m->cache);
}

int ws_model_cache_encodings(ws_model *m, size_t bytes, ws_err *err)
{
    ws_enccache_free(&m->cache);
    if (bytes && ws_enccache_init(&m->cache, m->cfg.hidden, bytes))
        return ws_fail(err, "model: no encoding cache for hidden size %d", m->cfg.hidden);
    return 0;
}

void ws_model_cache_stats(const ws_model *m, size_t *found_tokens, size_t *encoded_tokens)
{
    *found_tokens = m->cache.found_tokens;
    *encoded_tokens = m->cache.encoded_tokens;
}

/* Capacity policy: a dimension that is short grows to max(need + need / 4, 2 x its capacity) (plus
 * a little), and only that dimension's block is replaced; capacities never shrink. A model that
 * plays sees batches that vary with the episodes in flight, and reallocating every buffer
 * whenever any dimension crept past its capacity mapped and cleared gigabytes of fresh pages
 * again and again; doubling bounds the reallocations of a dimension by the log of its largest
 * batch, after which play and training allocate nothing. On the CPU the slack costs address
 * space, not memory: calloc's pages are mapped when first written. */
static size_t grown_capacity(size_t need, size_t cap)
{
    size_t slack = need + need / 4 + 64;
    return slack > 2 * cap ? slack : 2 * cap;
}

/* Where a block's buffers go: with base NULL only their sizes are summed. Every buffer starts on
 * a 256-byte boundary within the block (the GPU's aligned operands, as separate allocations were). */
typedef struct carver {
    char *dev, *host;
    size_t dev_used, host_used;
} carver;

static void *carve(char *base, size_t *used, size_t bytes)
{
    void *p = base ? base + *used : NULL;
    *used += (bytes + 255) & ~(size_t)255;
    return p;
}

/* The buffers of dimension `dim` for `cap` units of it, carved by c: in inference, one layer's
 * activations (shared by every layer, link_layers) and no backward buffer. */
static void lay_out(ws_model *m, int dim, size_t cap, carver *c)
{
    size_t C = (size_t)m->cfg.hidden, FF = (size_t)m->cfg.intermediate, VH = (size_t)m->cfg.value_hidden;
    size_t kept_layers = m->inference && m->cfg.layers ? 1 : (size_t)m->cfg.layers;
    int train = !m->inference;
#define TAKE(field, count) (m->field = carve(c->dev, &c->dev_used, (count) * sizeof *m->field))
#define TAKE_HOST(host_field, field, count)                                                                       \
    (m->host_field = m->on_host ? m->field : carve(c->host, &c->host_used, (count) * sizeof *m->field))
#define TAKE_PACK(field, count) (TAKE(dp.field, count), TAKE_HOST(hp.field, dp.field, count))
    switch (dim) {
    case DIM_T:
        TAKE_PACK(ids, cap);
        TAKE_PACK(pos, cap);
        TAKE_PACK(types, cap);
        TAKE(emb_out, cap * C);
        TAKE(emb_mean, cap);
        TAKE(emb_rstd, cap);
        TAKE(enc_x0, cap * C);
        TAKE(bi.mem_dot, cap);
        for (size_t l = 0; l < kept_layers; l++) {
            TAKE(acts[l].q, cap * C);
            TAKE(acts[l].k, cap * C);
            TAKE(acts[l].v, cap * C);
            TAKE(acts[l].ctx, cap * C);
            TAKE(acts[l].res1, cap * C);
            TAKE(acts[l].ln1, cap * C);
            TAKE(acts[l].ln1_mean, cap);
            TAKE(acts[l].ln1_rstd, cap);
            TAKE(acts[l].ff1, cap * FF);
            TAKE(acts[l].gelu, cap * FF);
            TAKE(acts[l].res2, cap * C);
            TAKE(acts[l].out, cap * C);
            TAKE(acts[l].ln2_mean, cap);
            TAKE(acts[l].ln2_rstd, cap);
        }
        if (train) {
            TAKE(d_res, cap * C);
            TAKE(d_spare, cap * C);
            TAKE(d_tmp, cap * C);
            TAKE(d_ctx, cap * C);
            TAKE(d_q, cap * C);
            TAKE(d_k, cap * C);
            TAKE(d_v, cap * C);
            TAKE(d_i1, cap * FF);
        }
        break;
    case DIM_TA:
        TAKE(feat, cap * 4 * C);
        TAKE(hpre, cap * C);
        TAKE(h, cap * C);
        TAKE(bi.w2, cap);
        TAKE(bi.argmax, cap);
        TAKE(bi.out1, cap * C);
        if (train) {
            TAKE(d_feat, cap * 4 * C);
            TAKE(d_h, cap * C);
        }
        break;
    case DIM_ATT:
        /* the CPU keeps each attention block in a buffer of its thread's (backend.h) */
        for (size_t l = 0; l < kept_layers; l++)
            if (!m->on_host)
                TAKE(acts[l].att, cap);
            else
                m->acts[l].att = NULL;
        break;
    case DIM_SEQ:
        TAKE_PACK(seq_start, cap);
        TAKE_PACK(seq_len, cap);
        TAKE_PACK(att_start, cap);
        break;
    case DIM_A:
        TAKE_PACK(action_decision, cap);
        TAKE_PACK(act_tok, cap);
        TAKE_PACK(p1_start, cap);
        TAKE(pooled, cap * C);
        TAKE(bi.out2, cap * C);
        TAKE(logits, cap);
        TAKE(logp, cap);
        TAKE_HOST(h_logits, logits, cap);
        TAKE_HOST(h_logp, logp, cap);
        if (train) {
            TAKE(d_pooled, cap * C);
            TAKE(d_dlogits, cap);
        }
        break;
    case DIM_B:
        TAKE_PACK(first_action, cap);
        TAKE_PACK(n_actions, cap);
        TAKE(cls, cap * C);
        TAKE(vpre, cap * VH);
        TAKE(vact, cap * VH);
        TAKE(values, cap);
        TAKE_HOST(h_values, values, cap);
        if (train) {
            TAKE(d_cls, cap * C);
            TAKE(d_v1, cap * VH);
            TAKE(d_vact, cap * VH);
            TAKE(d_dvalues, cap);
        }
        break;
    case DIM_P1:
        TAKE(bi.p1, cap);
        break;
    case DIM_SCRATCH:
        if (train)
            TAKE(d_bi_scratch, cap);
        break;
    }
#undef TAKE
#undef TAKE_HOST
#undef TAKE_PACK
}

/* Each layer's input and output. In training every layer has its own activations (backward reads
 * them all) and reads the previous layer's output. In inference every layer uses layer 0's
 * buffers, and the hidden states alternate between enc_x0 and layer 0's output: a layer reads
 * one and writes the other, so no layer's input is overwritten while it is read. */
static void link_layers(ws_model *m)
{
    int L = m->cfg.layers;
    for (int l = 0; l < L; l++) {
        if (m->inference && l > 0) {
            ws_real *other = m->acts[0].out;
            m->acts[l] = m->acts[0];
            m->acts[l].out = l % 2 ? m->enc_x0 : other;
        }
        m->acts[l].inp = l == 0 ? m->enc_x0 : m->acts[l - 1].out;
    }
}

/* Size the buffers for a batch of need[dim] units of each dimension (the policy: grown_capacity).
 * A block that cannot be had is left empty (capacity 0), to be tried again by the next batch. */
static int reserve(ws_model *m, const size_t need[N_DIMS])
{
    int grown = 0, rc = 0;
    for (int d = 0; d < N_DIMS; d++) {
        act_block *blk = &m->blocks[d];
        if (need[d] <= blk->cap)
            continue;
        size_t cap = grown_capacity(need[d], blk->cap);
        /* the old contents are not needed: free first, so the two never coexist */
        if (blk->dev)
            m->be->free(m->be, blk->dev);
        free(blk->host);
        *blk = (act_block){0};
        carver size = {0};
        lay_out(m, d, cap, &size);
        void *dev = size.dev_used ? m->be->alloc(m->be, size.dev_used) : NULL;
        void *host = size.host_used ? calloc(1, size.host_used) : NULL;
        if ((size.dev_used && !dev) || (size.host_used && !host)) {
            if (dev)
                m->be->free(m->be, dev);
            free(host);
            rc = -1;
            continue;
        }
        *blk = (act_block){.dev = dev, .host = host, .cap = cap};
        lay_out(m, d, cap, &(carver){.dev = dev, .host = host});
        grown = 1;
    }
    if (grown)
        link_layers(m);
    return rc;
}

/* ------------------------------------------------------------------ forward */

static void layer_forward(ws_model *m, int l)
{
    const ws_backend *be = m->be;
    layer_acts *a = &m->acts[l];
    int T = m->pack.T, C = m->cfg.hidden, FF = m->cfg.intermediate;
    be->matmul_forward(be, a->q, a->inp, P(m, LT(m, l, QW)), P(m, LT(m, l, QB)), NULL, T, C, C);
    be->matmul_forward(be, a->k, a->inp, P(m, LT(m, l, KW)), P(m, LT(m, l, KB)), NULL, T, C, C);
    be->matmul_forward(be, a->v, a->inp, P(m, LT(m, l, VW)), P(m, LT(m, l, VB)), NULL, T, C, C);
    be->attention_forward(be, a->ctx, a->att, a->q, a->k, a->v, &m->pack, C, m->cfg.heads);
    be->matmul_forward(be, a->res1, a->ctx, P(m, LT(m, l, OW)), P(m, LT(m, l, OB)), a->inp, T, C, C);
    be->layernorm_forward(be, a->ln1, a->ln1_mean, a->ln1_rstd, a->res1, P(m, LT(m, l, LN1W)), P(m, LT(m, l, LN1B)),
                          T, C, (ws_real)m->cfg.ln_eps);
    be->matmul_gelu_forward(be, a->ff1, a->gelu, a->ln1, P(m, LT(m, l, IW)), P(m, LT(m, l, IB)), T, C, FF);
    be->matmul_forward(be, a->res2, a->gelu, P(m, LT(m, l, FW)), P(m, LT(m, l, FB)), a->ln1, T, FF, C);
    be->layernorm_forward(be, a->out, a->ln2_mean, a->ln2_rstd, a->res2, P(m, LT(m, l, LN2W)), P(m, LT(m, l, LN2B)),
                          T, C, (ws_real)m->cfg.ln_eps);
}

static ws_real *encoder_out(const ws_model *m)
{
    return m->cfg.layers ? m->acts[m->cfg.layers - 1].out : m->enc_x0;
}

/* Copy the packing arrays the host filled into the backend's memory. */
static void upload_pack(ws_model *m)
{
    if (m->on_host)
        return;
    const ws_backend *be = m->be;
    const ws_pack *p = &m->pack;
    size_t ns = (size_t)p->n_seq, B = (size_t)p->B, A = (size_t)p->A, T = (size_t)p->T;
#define UP(field, count) be->upload(be, m->dp.field, m->hp.field, (count) * sizeof *m->hp.field)
    UP(seq_start, ns);
    UP(seq_len, ns);
    UP(att_start, ns);
    UP(first_action, B);
    UP(n_actions, B);
    UP(action_decision, A);
    UP(act_tok, A);
    UP(p1_start, A);
    UP(ids, T);
    UP(pos, T);
    UP(types, T);
#undef UP
}

static void set_pack_views(ws_pack_arrays *v, const pack_buffers *b)
{
    *v = (ws_pack_arrays){.seq_start = b->seq_start, .seq_len = b->seq_len, .att_start = b->att_start,
                          .first_action = b->first_action, .n_actions = b->n_actions,
                          .action_decision = b->action_decision, .act_tok = b->act_tok, .p1_start = b->p1_start};
}

/* Room for a sequence's attention probabilities: NH blocks of len rows of ws_att_row(len). */
static size_t att_room(int heads, int len)
{
    return (size_t)heads * (size_t)len * (size_t)ws_att_row(len);
}

void ws_state_token_types(const int32_t *ids, int len, int32_t *types)
{
    memset(types, 0, (size_t)len * sizeof *types);
    int k = 1;
    while (k < len && !(ids[k - 1] == WS_TOKEN_INSTRUCTION && ids[k] == WS_TOKEN_COLON))
        k++;
    for (k++; k < len && ids[k] != WS_TOKEN_SEP && ids[k] < WS_TOKEN_FIRST_ADDED; k++)
        types[k] = 1;
}

void ws_action_token_types(const int32_t *ids, int len, const int32_t *state_ids, const int32_t *state_types,
                           int state_len, int32_t *types)
{
    memset(types, 0, (size_t)len * sizeof *types);
    for (int k = 1; k < len - 1; k++)
        for (int u = 0; u < state_len; u++)
            if (state_types[u] && state_ids[u] == ids[k]) {
                types[k] = 1;
                break;
            }
}

int ws_item_title_span(const int32_t *action, int action_len, const int32_t *state, int state_len, int *from)
{
    /* [CLS] click [ value ] [SEP], the value an ASIN: "b" "##0" ... */
    *from = 0;
    if (action_len < 7 || action[1] != WS_TOKEN_CLICK || action[2] != WS_TOKEN_OPEN_BRACKET ||
        action[action_len - 2] != WS_TOKEN_CLOSE_BRACKET || action[3] != WS_TOKEN_B || action[4] != WS_TOKEN_SUFFIX_0)
        return 0;
    const int32_t *value = action + 3;
    int n = action_len - 5;
    for (int u = 0; u + n + 1 < state_len; u++) {
        if (state[u] != WS_TOKEN_FIRST_ADDED || state[u + n + 1] != WS_TOKEN_BUTTON_END ||
            memcmp(state + u + 1, value, (size_t)n * sizeof *value) != 0)
            continue;
        int start = u + n + 2, end = start;
        while (end < state_len && end - start < WS_ITEM_TITLE_MAX && state[end] != WS_TOKEN_SEP &&
               state[end] < WS_TOKEN_FIRST_ADDED)
            end++;
        *from = start;
        return end - start;
    }
    return 0;
}

/* Each action's listing (item titles), found before the batch is sized: the packed action is its
 * own tokens without [SEP], the listing, then [SEP]. */
static int find_item_titles(ws_model *m, const ws_batch *b, int A)
{
    if ((size_t)A > m->cap_titles) {
        size_t cap = grown_capacity((size_t)A, m->cap_titles);
        int *from = realloc(m->title_from, cap * sizeof *from);
        if (from)
            m->title_from = from;
        int *len = from ? realloc(m->title_len, cap * sizeof *len) : NULL;
        if (!len)
            return -1;
        m->title_len = len;
        m->cap_titles = cap;
    }
    for (int i = 0, a = 0; i < b->n_decisions; i++)
        for (int j = 0; j < b->n_actions[i]; j++, a++)
            m->title_len[a] = m->cfg.item_titles ? ws_item_title_span(b->action_ids[a], b->action_len[a],
                                                                      b->state_ids[i], b->state_len[i],
                                                                      &m->title_from[a])
                                                 : 0;
    return 0;
}

/* The embeddings and every layer over the batch m->pack describes, whose tokens are ids, pos and
 * types (backend memory). */
static void run_encoder(ws_model *m, const int32_t *ids, const int32_t *pos, const int32_t *types)
{
    const ws_backend *be = m->be;
    int T = m->pack.T, C = m->cfg.hidden;
    be->embedding_forward(be, m->emb_out, ids, pos, types, T, C, P(m, m->emb[WTE]), P(m, m->emb[WPE]),
                          P(m, m->emb[WTT]));
    be->layernorm_forward(be, m->enc_x0, m->emb_mean, m->emb_rstd, m->emb_out, P(m, m->emb[ELNW]),
                          P(m, m->emb[ELNB]), T, C, (ws_real)m->cfg.ln_eps);
    for (int l = 0; l < m->cfg.layers; l++)
        layer_forward(m, l);
}

/* Room in the encoded batch's arrays for `tokens` tokens and `seqs` sequences. */
static int reserve_encoded(ws_model *m, size_t tokens, size_t seqs)
{
    pack_buffers *e = &m->encoded;
    if (tokens > m->cap_encoded_tokens) {
        size_t cap = grown_capacity(tokens, m->cap_encoded_tokens);
        int32_t **arrays[] = {&e->ids, &e->pos, &e->types};
        for (size_t k = 0; k < sizeof arrays / sizeof *arrays; k++) {
            int32_t *grown = realloc(*arrays[k], cap * sizeof *grown);
            if (!grown)
                return -1;
            *arrays[k] = grown;
        }
        m->cap_encoded_tokens = cap;
    }
    if (seqs > m->cap_encoded_seqs) {
        size_t cap = grown_capacity(seqs, m->cap_encoded_seqs);
        int **arrays[] = {&e->seq_start, &e->seq_len, &m->seq_source, &m->key_first};
        for (size_t k = 0; k < sizeof arrays / sizeof *arrays; k++) {
            int *grown = realloc(*arrays[k], cap * sizeof *grown);
            if (!grown)
                return -1;
            *arrays[k] = grown;
        }
        size_t *att = realloc(e->att_start, cap * sizeof *att);
        if (!att)
            return -1;
        e->att_start = att;
        m->cap_encoded_seqs = cap;
    }
    return 0;
}

enum { ENCODE_HERE = -1, FROM_CACHE = -2 }; /* seq_source: else the batch's sequence it repeats */

/* The key of sequence s of the packed batch, built into the cache. */
static int sequence_key(ws_model *m, int s)
{
    const pack_buffers *h = &m->hp;
    int t0 = h->seq_start[s];
    return ws_enccache_key(&m->cache, h->ids + t0, h->types + t0, h->seq_len[s]);
}

/* The encoder as run_encoder's, for a model that keeps its actions' encodings (host memory,
 * inference): it runs on the states and on the actions not kept, each distinct one once; the others'
 * rows are copied from the cache or from their twin in the batch, and the new ones kept. The output
 * is the rows the encoder would have given for the whole batch (enccache.h: why the same bits). */
static int encode_with_cache(ws_model *m, ws_err *err)
{
    ws_pack *pk = &m->pack;
    const pack_buffers *h = &m->hp;
    pack_buffers *e = &m->encoded;
    int C = m->cfg.hidden, n_seq = pk->n_seq;
    if (n_seq == pk->B) { /* no action: nothing to find */
        run_encoder(m, m->dp.ids, m->dp.pos, m->dp.types);
        return 0;
    }
    if (reserve_encoded(m, (size_t)pk->T, (size_t)n_seq))
        return ws_fail(err, "model: out of memory for a batch of %d tokens", pk->T);
    int *source = m->seq_source, *first_of_key = m->key_first, n_encoded = 0, t = 0;
    size_t att = 0;
    ws_strmap new_keys = {0}; /* the actions not kept, each distinct one once */
    for (int s = 0; s < n_seq; s++) {
        int len = h->seq_len[s];
        source[s] = ENCODE_HERE;
        if (s >= pk->B) {
            if (sequence_key(m, s)) {
                ws_strmap_free(&new_keys);
                return ws_fail(err, "model: out of memory for a batch of %d tokens", pk->T);
            }
            if (ws_enccache_find(&m->cache, len)) {
                source[s] = FROM_CACHE;
                m->cache.found_tokens += (size_t)len;
                continue;
            }
            int added;
            long k = ws_strmap_add(&new_keys, m->cache.key, (size_t)len * sizeof *m->cache.key, &added);
            if (k < 0) {
                ws_strmap_free(&new_keys);
                return ws_fail(err, "model: out of memory for a batch of %d tokens", pk->T);
            }
            if (!added) {
                source[s] = first_of_key[k];
                m->cache.found_tokens += (size_t)len;
                continue;
            }
            first_of_key[k] = s;
            m->cache.encoded_tokens += (size_t)len;
        }
        int t0 = h->seq_start[s];
        memcpy(e->ids + t, h->ids + t0, (size_t)len * sizeof *e->ids);
        memcpy(e->pos + t, h->pos + t0, (size_t)len * sizeof *e->pos);
        memcpy(e->types + t, h->types + t0, (size_t)len * sizeof *e->types);
        e->seq_start[n_encoded] = t;
        e->seq_len[n_encoded] = len;
        e->att_start[n_encoded] = att;
        att += att_room(m->cfg.heads, len);
        t += len;
        n_encoded++;
    }
    ws_strmap_free(&new_keys);

    const ws_pack whole = *pk;
    pk->T = t;
    pk->n_seq = n_encoded;
    pk->h.seq_start = pk->d.seq_start = e->seq_start;
    pk->h.seq_len = pk->d.seq_len = e->seq_len;
    pk->h.att_start = pk->d.att_start = e->att_start;
    run_encoder(m, e->ids, e->pos, e->types);
    *pk = whole;

    /* the encoded rows to their places in the whole batch: last first, since each moves to a place
     * at or after its own, beyond those of the sequences before it */
    ws_real *out = encoder_out(m);
    size_t row = (size_t)C * sizeof *out;
    for (int k = n_encoded - 1, s = n_seq - 1; s >= 0; s--)
        if (source[s] == ENCODE_HERE) {
            memmove(out + (size_t)h->seq_start[s] * C, out + (size_t)e->seq_start[k] * C, (size_t)h->seq_len[s] * row);
            k--;
        }
    /* then the kept ones (before anything is added, which may empty the cache), the twins, and the
     * new actions kept */
    for (int s = pk->B; s < n_seq; s++)
        if (source[s] == FROM_CACHE && sequence_key(m, s) == 0)
            memcpy(out + (size_t)h->seq_start[s] * C, ws_enccache_find(&m->cache, h->seq_len[s]),
                   (size_t)h->seq_len[s] * row);
    for (int s = pk->B; s < n_seq; s++)
        if (source[s] >= 0)
            memcpy(out + (size_t)h->seq_start[s] * C, out + (size_t)h->seq_start[source[s]] * C,
                   (size_t)h->seq_len[s] * row);
    for (int s = pk->B; s < n_seq; s++)
        if (source[s] == ENCODE_HERE && sequence_key(m, s) == 0)
            (void)ws_enccache_add(&m->cache, h->seq_len[s], out + (size_t)h->seq_start[s] * C);
    return 0;
}

/* The token types of the packed batch (ws_segments); ids and sequences already packed. */
static void token_types(ws_model *m)
{
    const pack_buffers *h = &m->hp;
    memset(h->types, 0, (size_t)m->pack.T * sizeof *h->types);
    if (m->cfg.segments == WS_SEGMENTS_NONE)
        return;
    for (int i = 0; i < m->pack.B; i++)
        ws_state_token_types(h->ids + h->seq_start[i], h->seq_len[i], h->types + h->seq_start[i]);
    if (m->cfg.segments != WS_SEGMENTS_MATCH)
        return;
    for (int a = 0; a < m->pack.A; a++) {
        int state = h->action_decision[a], s0 = h->seq_start[state], q = m->pack.B + a;
        ws_action_token_types(h->ids + h->seq_start[q], h->seq_len[q], h->ids + s0, h->types + s0, h->seq_len[state],
                              h->types + h->seq_start[q]);
    }
}

void ws_model_set_read_hook(ws_model *m, ws_model_read_hook hook, void *arg)
{
    m->read_hook = hook;
    m->read_hook_arg = arg;
}

int ws_model_forward(ws_model *m, const ws_batch *b, ws_err *err)
{
    const ws_model_config *cfg = &m->cfg;
    const ws_backend *be = m->be;
    int C = cfg->hidden, B = b->n_decisions, A = 0, T = 0, Ta = 0;
    size_t att_total = 0, p1_total = 0, scratch = 0;
    m->have_forward = 0;
    if (B < 1)
        return ws_fail(err, "model: empty batch");
    for (int i = 0; i < B; i++) {
        if (b->state_len[i] < 1 || b->state_len[i] > cfg->max_position)
            return ws_fail(err, "model: decision %d: state of %d tokens (1..%d allowed)", i, b->state_len[i],
                           cfg->max_position);
        if (b->n_actions[i] < 1)
            return ws_fail(err, "model: decision %d has no action", i);
        A += b->n_actions[i];
    }
    if (find_item_titles(m, b, A))
        return ws_fail(err, "model: out of memory for %d actions", A);
    A = 0;
    for (int i = 0; i < B; i++) {
        T += b->state_len[i];
        att_total += att_room(cfg->heads, b->state_len[i]);
        scratch += WS_BIATTN_DECISION_SCRATCH * (size_t)C;
        for (int j = 0; j < b->n_actions[i]; j++, A++) {
            int La = b->action_len[A] + m->title_len[A];
            if (b->action_len[A] < 1 || La > cfg->max_position)
                return ws_fail(err, "model: action %d: %d tokens (1..%d allowed)", A, La, cfg->max_position);
            T += La;
            Ta += La;
            att_total += att_room(cfg->heads, La);
            p1_total += (size_t)La * b->state_len[i];
            scratch += ws_biattn_action_scratch((size_t)La, (size_t)b->state_len[i], C);
        }
    }
    const size_t need[N_DIMS] = {[DIM_T] = (size_t)T, [DIM_TA] = (size_t)Ta, [DIM_ATT] = att_total,
                                 [DIM_SEQ] = (size_t)(B + A), [DIM_A] = (size_t)A, [DIM_B] = (size_t)B,
                                 [DIM_P1] = p1_total, [DIM_SCRATCH] = scratch};
    if (reserve(m, need))
        return ws_fail(err, "model: out of memory for a batch of %d tokens", T);
    ws_pack *pk = &m->pack;
    *pk = (ws_pack){.B = B, .A = A, .n_seq = B + A, .T = T, .Ta = Ta, .att_total = att_total,
                    .p1_total = p1_total};
    set_pack_views(&pk->h, &m->hp);
    set_pack_views(&pk->d, &m->dp);

    /* pack: states first, then every action */
    int t = 0, a = 0, ta = 0;
    size_t att = 0, p1 = 0;
    for (int i = 0; i < B; i++) {
        m->hp.first_action[i] = a;
        m->hp.n_actions[i] = b->n_actions[i];
        for (int j = 0; j < b->n_actions[i]; j++, a++) {
            int La = b->action_len[a] + m->title_len[a];
            m->hp.action_decision[a] = i;
            m->hp.act_tok[a] = ta;
            m->hp.p1_start[a] = p1;
            ta += La;
            p1 += (size_t)La * b->state_len[i];
        }
    }
    for (int s = 0; s < pk->n_seq; s++) {
        const int32_t *ids = s < B ? b->state_ids[s] : b->action_ids[s - B];
        int own = s < B ? b->state_len[s] : b->action_len[s - B];
        int listing = s < B ? 0 : m->title_len[s - B], len = own + listing;
        m->hp.seq_start[s] = t;
        m->hp.seq_len[s] = len;
        m->hp.att_start[s] = att;
        pk->max_len = len > pk->max_len ? len : pk->max_len;
        att += att_room(cfg->heads, len);
        for (int k = 0; k < own; k++) {
            if (ids[k] < 0 || ids[k] >= cfg->vocab_size)
                return ws_fail(err, "model: token id %d outside the vocabulary (%d)", ids[k], cfg->vocab_size);
        }
        /* a listing goes before the action's [SEP] */
        const int32_t *title = listing ? b->state_ids[m->hp.action_decision[s - B]] + m->title_from[s - B] : NULL;
        for (int k = 0; k < len; k++, t++) {
            m->hp.ids[t] = k < own - (listing > 0) ? ids[k] : k < own - 1 + listing ? title[k - own + 1] : ids[own - 1];
            m->hp.pos[t] = k;
        }
    }
    token_types(m);
    if (m->read_hook)
        m->read_hook(m->read_hook_arg, m->hp.ids, (size_t)T);
    upload_pack(m);

    if (m->cache.budget_rows && m->inference && ws_backend_rows_independent(m->be)) {
        if (encode_with_cache(m, err))
            return -1;
    } else
        run_encoder(m, m->dp.ids, m->dp.pos, m->dp.types);
    const ws_real *enc = encoder_out(m);

    /* head: each action attends over its state; its score is linear_2 of the mean over its tokens */
    be->biattn_forward(be, m->feat, &m->bi, enc, pk, P(m, m->head[H_IN]), P(m, m->head[H_MEM]),
                       P(m, m->head[H_SCALE]), C);
    be->matmul_forward(be, m->hpre, m->feat, P(m, m->head[H_W1]), P(m, m->head[H_B1]), NULL, Ta, 4 * C, C);
    be->relu_forward(be, m->h, m->hpre, (size_t)Ta * C, 0);
    be->pool_forward(be, m->pooled, m->h, pk, C);
    be->matmul_forward(be, m->logits, m->pooled, P(m, m->head[H_W2]), P(m, m->head[H_B2]), NULL, A, C, 1);
    be->logsoftmax_forward(be, m->logp, m->logits, pk);
    /* value head on each state's [CLS] */
    be->cls_forward(be, m->cls, enc, pk, C);
    int VH = cfg->value_hidden;
    be->matmul_forward(be, m->vpre, m->cls, P(m, m->head[H_V1W]), P(m, m->head[H_V1B]), NULL, B, C, VH);
    be->relu_forward(be, m->vact, m->vpre, (size_t)B * VH, (ws_real)0.01);
    be->matmul_forward(be, m->values, m->vact, P(m, m->head[H_V2W]), P(m, m->head[H_V2B]), NULL, B, VH, 1);
    if (!m->on_host) {
        be->download(be, m->h_logits, m->logits, (size_t)A * sizeof *m->h_logits);
        be->download(be, m->h_logp, m->logp, (size_t)A * sizeof *m->h_logp);
        be->download(be, m->h_values, m->values, (size_t)B * sizeof *m->h_values);
    }
    if (be->status(be, err))
        return -1;
    m->have_forward = 1;
    return 0;
}

/* ------------------------------------------------------------------ backward */

static void layer_backward(ws_model *m, int l, ws_real *dout, ws_real *dinp)
{
    /* dout: gradient of the layer's output; dinp receives the gradient of its input. Each gradient
     * buffer is written by its first producer and added into by the others, never zeroed. */
    const ws_backend *be = m->be;
    layer_acts *a = &m->acts[l];
    int T = m->pack.T, C = m->cfg.hidden, FF = m->cfg.intermediate;
    ws_real *d_res2 = m->d_tmp, *d_ln1 = m->d_ctx;
    be->layernorm_backward(be, d_res2, G(m, LT(m, l, LN2W)), G(m, LT(m, l, LN2B)), dout, a->res2,
                           P(m, LT(m, l, LN2W)), a->ln2_mean, a->ln2_rstd, T, C, 0);
    be->matmul_gelu_backward(be, m->d_i1, G(m, LT(m, l, FW)), G(m, LT(m, l, FB)), d_res2, a->gelu,
                             P(m, LT(m, l, FW)), a->ff1, T, FF, C);
    /* res2 = ff2 + ln1: d_ln1 = d_res2 + the first feed-forward product's */
    be->matmul_backward(be, d_ln1, G(m, LT(m, l, IW)), G(m, LT(m, l, IB)), m->d_i1, a->ln1, P(m, LT(m, l, IW)),
                        d_res2, T, C, FF);
    ws_real *d_res1 = m->d_tmp;
    be->layernorm_backward(be, d_res1, G(m, LT(m, l, LN1W)), G(m, LT(m, l, LN1B)), d_ln1, a->res1,
                           P(m, LT(m, l, LN1W)), a->ln1_mean, a->ln1_rstd, T, C, 0);
    ws_real *d_ctx = m->d_ctx;
    be->matmul_backward(be, d_ctx, G(m, LT(m, l, OW)), G(m, LT(m, l, OB)), d_res1, a->ctx, P(m, LT(m, l, OW)), NULL,
                        T, C, C);
    be->attention_backward(be, m->d_q, m->d_k, m->d_v, d_ctx, a->att, a->q, a->k, a->v, &m->pack, C, m->cfg.heads);
    /* res1 = proj(ctx) + inp: dinp = d_res1 + the three products' */
    be->matmul_backward(be, dinp, G(m, LT(m, l, QW)), G(m, LT(m, l, QB)), m->d_q, a->inp, P(m, LT(m, l, QW)), d_res1,
                        T, C, C);
    be->matmul_backward(be, dinp, G(m, LT(m, l, KW)), G(m, LT(m, l, KB)), m->d_k, a->inp, P(m, LT(m, l, KW)), dinp,
                        T, C, C);
    be->matmul_backward(be, dinp, G(m, LT(m, l, VW)), G(m, LT(m, l, VB)), m->d_v, a->inp, P(m, LT(m, l, VW)), dinp,
                        T, C, C);
}

int ws_model_backward(ws_model *m, const ws_real *dlogits, const ws_real *dvalues, ws_err *err)
{
    if (m->inference)
        return ws_fail(err, "model: backward on a model set for inference, which keeps no activations for it "
                       "(ws_model_set_inference)");
    if (!m->have_forward)
        return ws_fail(err, "model: backward without a forward pass");
    const ws_backend *be = m->be;
    const ws_model_config *cfg = &m->cfg;
    const ws_pack *pk = &m->pack;
    int C = cfg->hidden, B = pk->B, A = pk->A, T = pk->T, Ta = pk->Ta, VH = cfg->value_hidden;
    size_t TC = (size_t)T * C * sizeof(ws_real);
    if (!m->on_host) {
        be->upload(be, m->d_dlogits, dlogits, (size_t)A * sizeof *dlogits);
        dlogits = m->d_dlogits;
        if (dvalues) {
            be->upload(be, m->d_dvalues, dvalues, (size_t)B * sizeof *dvalues);
            dvalues = m->d_dvalues;
        }
    }
    const ws_real *enc = encoder_out(m);
    ws_real *d_enc = m->d_res; /* gradient of the encoder output, every token */
    be->zero(be, d_enc, TC);

    /* action scores: logits = linear_2(mean over tokens of relu(linear_1(feat))) */
    be->matmul_backward(be, m->d_pooled, G(m, m->head[H_W2]), G(m, m->head[H_B2]), dlogits, m->pooled,
                        P(m, m->head[H_W2]), NULL, A, C, 1);
    ws_real *d_hrelu = m->d_h;
    be->zero(be, d_hrelu, (size_t)Ta * C * sizeof *d_hrelu);
    be->pool_backward(be, d_hrelu, m->d_pooled, pk, C);
    ws_real *d_hpre = m->d_tmp; /* Ta * C fits in T * C */
    be->relu_backward(be, d_hpre, m->hpre, d_hrelu, (size_t)Ta * C, 0);
    be->matmul_backward(be, m->d_feat, G(m, m->head[H_W1]), G(m, m->head[H_B1]), d_hpre, m->feat,
                        P(m, m->head[H_W1]), NULL, Ta, 4 * C, C);
    be->biattn_backward(be, d_enc, G(m, m->head[H_IN]), G(m, m->head[H_MEM]), G(m, m->head[H_SCALE]), m->d_feat,
                        &m->bi, enc, pk, P(m, m->head[H_IN]), P(m, m->head[H_MEM]), P(m, m->head[H_SCALE]), C,
                        m->d_bi_scratch);
    if (dvalues) {
        be->matmul_backward(be, m->d_vact, G(m, m->head[H_V2W]), G(m, m->head[H_V2B]), dvalues, m->vact,
                            P(m, m->head[H_V2W]), NULL, B, VH, 1);
        be->relu_backward(be, m->d_v1, m->vpre, m->d_vact, (size_t)B * VH, (ws_real)0.01);
        be->matmul_backward(be, m->d_cls, G(m, m->head[H_V1W]), G(m, m->head[H_V1B]), m->d_v1, m->cls,
                            P(m, m->head[H_V1W]), NULL, B, C, VH);
        be->cls_backward(be, d_enc, m->d_cls, pk, C);
    }

    /* encoder, top to bottom: the gradients of a layer's output and input swap buffers */
    ws_real *dout = d_enc, *dinp = m->d_spare;
    for (int l = cfg->layers - 1; l >= 0; l--) {
        layer_backward(m, l, dout, dinp);
        ws_real *t = dout;
        dout = dinp;
        dinp = t;
    }
    ws_real *d_emb = dinp;
    be->layernorm_backward(be, d_emb, G(m, m->emb[ELNW]), G(m, m->emb[ELNB]), dout, m->emb_out, P(m, m->emb[ELNW]),
                           m->emb_mean, m->emb_rstd, T, C, 0);
    be->embedding_backward(be, G(m, m->emb[WTE]), G(m, m->emb[WPE]), G(m, m->emb[WTT]), d_emb, m->dp.ids, m->dp.pos,
                           m->dp.types, T, C);
    if (!m->grad_rows_all && ws_backend_on_host(be))
        note_grad_rows(m);
    return be->status(be, err);
}

const ws_real *ws_model_encoder_output(const ws_model *m) { return encoder_out(m); }
int ws_model_seq_start(const ws_model *m, int s) { return m->hp.seq_start[s]; }
int ws_model_seq_len(const ws_model *m, int s) { return m->hp.seq_len[s]; }

double ws_model_forward_flops(const ws_model *m)
{
    const ws_pack *p = &m->pack;
    double C = m->cfg.hidden, FF = m->cfg.intermediate, T = p->T, f = 0;
    f += m->cfg.layers * T * 2.0 * (4 * C * C + 2 * C * FF);
    for (int s = 0; s < p->n_seq; s++)
        f += m->cfg.layers * 4.0 * (double)p->h.seq_len[s] * p->h.seq_len[s] * C;
    for (int a = 0; a < p->A; a++) {
        double La = p->h.seq_len[p->B + a], Ls = p->h.seq_len[p->h.action_decision[a]];
        f += 2.0 * 2.0 * La * Ls * C + 2.0 * La * 4 * C * C;
    }
    return f;
}
