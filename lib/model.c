#include "model.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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
    return ws_model_config_check(cfg, err);
}

json_t *ws_model_config_to_json(const ws_model_config *c)
{
    return json_pack("{s:i, s:i, s:i, s:i, s:i, s:i, s:i, s:f, s:i}", "vocab_size", c->vocab_size, "hidden",
                     c->hidden, "layers", c->layers, "heads", c->heads, "intermediate", c->intermediate,
                     "max_position", c->max_position, "type_vocab", c->type_vocab, "ln_eps", c->ln_eps,
                     "value_hidden", c->value_hidden);
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

struct ws_model {
    ws_model_config cfg;
    ws_tensor *tensors;
    size_t n_tensors, n_params;
    ws_real *params, *grads;
    /* tensor index of each piece */
    size_t emb[N_EMB_TENSORS], head[N_HEAD_TENSORS], *layer; /* layer[l * N_LAYER_TENSORS + k] */

    /* the last batch */
    int B, A, n_seq, T, Ta;
    int *seq_start, *seq_len, *first_action, *n_actions, *act_tok_start;
    size_t *att_start, att_total;
    int32_t *ids, *pos;
    /* activations */
    ws_real *emb_out, *emb_mean, *emb_rstd, *enc_x0;
    layer_acts *acts;
    ws_real *feat, *hpre, *h, *pooled, *logits, *logp, *cls, *vpre, *vact, *values;
    ws_biattn_saved *bi;
    ws_real *bi_p1, *bi_w2, *bi_out1, *bi_out2, *bi_memdot;
    int *bi_argmax;
    size_t bi_p1_total;
    /* backward scratch */
    ws_real *d_res, *d_spare, *d_tmp, *d_ctx, *d_q, *d_k, *d_v, *d_i1, *d_i2, *d_feat, *d_h, *d_pooled, *d_cls, *d_v1,
        *d_vact, *d_bi_scratch;
    size_t cap_T, cap_Ta, cap_att, cap_seq, cap_A, cap_B, cap_p1, cap_scratch;
    void **owned; /* every activation allocation, freed together */
    size_t n_owned, cap_owned;
    int have_forward;
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
        !(m->layer = calloc((size_t)cfg->layers * N_LAYER_TENSORS + 1, sizeof *m->layer))) {
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
    m->params = calloc(m->n_params, sizeof *m->params);
    m->grads = calloc(m->n_params, sizeof *m->grads);
    if (!m->params || !m->grads) {
        ws_fail(err, "out of memory for %zu parameters", m->n_params);
        ws_model_free(m);
        return NULL;
    }
    return m;
}

static void free_activations(ws_model *m)
{
    for (size_t i = 0; i < m->n_owned; i++)
        free(m->owned[i]);
    free(m->owned);
    m->owned = NULL;
    m->n_owned = m->cap_owned = 0;
    free(m->acts);
    free(m->bi);
    m->acts = NULL;
    m->bi = NULL;
}

void ws_model_free(ws_model *m)
{
    if (!m)
        return;
    free_activations(m);
    free(m->tensors);
    free(m->layer);
    free(m->params);
    free(m->grads);
    free(m);
}

const ws_model_config *ws_model_get_config(const ws_model *m) { return &m->cfg; }
size_t ws_model_n_tensors(const ws_model *m) { return m->n_tensors; }
const ws_tensor *ws_model_tensor(const ws_model *m, size_t i) { return &m->tensors[i]; }
ws_real *ws_model_params(ws_model *m) { return m->params; }
ws_real *ws_model_grads(ws_model *m) { return m->grads; }
size_t ws_model_n_params(const ws_model *m) { return m->n_params; }
const ws_real *ws_model_logits(const ws_model *m) { return m->logits; }
const ws_real *ws_model_logp(const ws_model *m) { return m->logp; }
const ws_real *ws_model_values(const ws_model *m) { return m->values; }
size_t ws_model_batch_tokens(const ws_model *m) { return (size_t)m->T; }

const ws_tensor *ws_model_find_tensor(const ws_model *m, const char *name)
{
    for (size_t i = 0; i < m->n_tensors; i++)
        if (strcmp(m->tensors[i].name, name) == 0)
            return &m->tensors[i];
    return NULL;
}

void ws_model_zero_grad(ws_model *m)
{
    memset(m->grads, 0, m->n_params * sizeof *m->grads);
}

static ws_real *P(ws_model *m, size_t tensor) { return m->params + m->tensors[tensor].offset; }
static ws_real *G(ws_model *m, size_t tensor) { return m->grads + m->tensors[tensor].offset; }
static size_t LT(const ws_model *m, int l, int k) { return m->layer[(size_t)l * N_LAYER_TENSORS + k]; }

static double normal(ws_rng *r)
{
    double u1 = ws_rng_uniform(r), u2 = ws_rng_uniform(r);
    return sqrt(-2.0 * log(1.0 - u1)) * cos(2.0 * M_PI * u2);
}

void ws_model_init_random(ws_model *m, uint64_t seed)
{
    ws_rng rng;
    ws_rng_seed(&rng, seed, "model-init");
    for (size_t i = 0; i < m->n_tensors; i++) {
        const ws_tensor *t = &m->tensors[i];
        ws_real *p = m->params + t->offset;
        const char *n = t->name;
        int is_head = strncmp(n, "embeddings.", 11) != 0 && strncmp(n, "encoder.", 8) != 0;
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

static void *own(ws_model *m, size_t bytes)
{
    if (m->n_owned == m->cap_owned) {
        size_t cap = m->cap_owned ? m->cap_owned * 2 : 64;
        void **p = realloc(m->owned, cap * sizeof *p);
        if (!p)
            return NULL;
        m->owned = p;
        m->cap_owned = cap;
    }
    void *p = calloc(1, bytes ? bytes : 1);
    if (p)
        m->owned[m->n_owned++] = p;
    return p;
}

/* Size every buffer for the batch; grows (never shrinks) so steady training allocates nothing. */
static int reserve(ws_model *m, int B, int A, int T, int Ta, size_t att_total, size_t p1_total, size_t scratch)
{
    int n_seq = B + A;
    if ((size_t)T <= m->cap_T && (size_t)Ta <= m->cap_Ta && att_total <= m->cap_att && (size_t)n_seq <= m->cap_seq &&
        (size_t)A <= m->cap_A && (size_t)B <= m->cap_B && p1_total <= m->cap_p1 && scratch <= m->cap_scratch)
        return 0;
    free_activations(m);
    size_t cT = (size_t)T * 5 / 4 + 64, cTa = (size_t)Ta * 5 / 4 + 64, catt = att_total * 5 / 4 + 64;
    size_t cseq = (size_t)n_seq * 5 / 4 + 8, cA = (size_t)A * 5 / 4 + 8, cB = (size_t)B * 5 / 4 + 8;
    size_t cp1 = p1_total * 5 / 4 + 64, cscr = scratch * 5 / 4 + 64;
    size_t C = (size_t)m->cfg.hidden, FF = (size_t)m->cfg.intermediate, L = (size_t)m->cfg.layers;
    size_t VH = (size_t)m->cfg.value_hidden;
    int ok = 1;
#define ALLOC(field, count) ok = ok && (m->field = own(m, (count) * sizeof *m->field)) != NULL
    ALLOC(seq_start, cseq);
    ALLOC(seq_len, cseq);
    ALLOC(att_start, cseq);
    ALLOC(first_action, cB);
    ALLOC(n_actions, cB);
    ALLOC(act_tok_start, cA);
    ALLOC(ids, cT);
    ALLOC(pos, cT);
    ALLOC(emb_out, cT * C);
    ALLOC(emb_mean, cT);
    ALLOC(emb_rstd, cT);
    ALLOC(enc_x0, cT * C);
    m->acts = calloc(L ? L : 1, sizeof *m->acts);
    ok = ok && m->acts;
    for (size_t l = 0; ok && l < L; l++) {
        layer_acts *a = &m->acts[l];
        ok = (a->q = own(m, cT * C * sizeof(ws_real))) && (a->k = own(m, cT * C * sizeof(ws_real))) &&
             (a->v = own(m, cT * C * sizeof(ws_real))) && (a->att = own(m, catt * sizeof(ws_real))) &&
             (a->ctx = own(m, cT * C * sizeof(ws_real))) && (a->res1 = own(m, cT * C * sizeof(ws_real))) &&
             (a->ln1 = own(m, cT * C * sizeof(ws_real))) && (a->ln1_mean = own(m, cT * sizeof(ws_real))) &&
             (a->ln1_rstd = own(m, cT * sizeof(ws_real))) && (a->ff1 = own(m, cT * FF * sizeof(ws_real))) &&
             (a->gelu = own(m, cT * FF * sizeof(ws_real))) && (a->res2 = own(m, cT * C * sizeof(ws_real))) &&
             (a->out = own(m, cT * C * sizeof(ws_real))) && (a->ln2_mean = own(m, cT * sizeof(ws_real))) &&
             (a->ln2_rstd = own(m, cT * sizeof(ws_real)));
        a->inp = l == 0 ? m->enc_x0 : m->acts[l - 1].out;
    }
    ALLOC(feat, cTa * 4 * C);
    ALLOC(hpre, cTa * C);
    ALLOC(h, cTa * C);
    ALLOC(pooled, cA * C);
    ALLOC(logits, cA);
    ALLOC(logp, cA);
    ALLOC(cls, cB * C);
    ALLOC(vpre, cB * VH);
    ALLOC(vact, cB * VH);
    ALLOC(values, cB);
    m->bi = calloc(cA, sizeof *m->bi);
    ok = ok && m->bi;
    ALLOC(bi_p1, cp1);
    ALLOC(bi_w2, cTa);
    ALLOC(bi_argmax, cTa);
    ALLOC(bi_out1, cTa * C);
    ALLOC(bi_out2, cA * C);
    ALLOC(bi_memdot, cT);
    ALLOC(d_res, cT * C);
    ALLOC(d_spare, cT * C);
    ALLOC(d_tmp, cT * C);
    ALLOC(d_ctx, cT * C);
    ALLOC(d_q, cT * C);
    ALLOC(d_k, cT * C);
    ALLOC(d_v, cT * C);
    ALLOC(d_i1, cT * FF);
    ALLOC(d_i2, cT * FF);
    ALLOC(d_feat, cTa * 4 * C);
    ALLOC(d_h, cTa * C);
    ALLOC(d_pooled, cA * C);
    ALLOC(d_cls, cB * C);
    ALLOC(d_v1, cB * VH);
    ALLOC(d_vact, cB * VH);
    ALLOC(d_bi_scratch, cscr);
#undef ALLOC
    if (!ok) {
        free_activations(m);
        m->cap_T = m->cap_Ta = m->cap_att = m->cap_seq = m->cap_A = m->cap_B = m->cap_p1 = m->cap_scratch = 0;
        return -1;
    }
    m->cap_T = cT;
    m->cap_Ta = cTa;
    m->cap_att = catt;
    m->cap_seq = cseq;
    m->cap_A = cA;
    m->cap_B = cB;
    m->cap_p1 = cp1;
    m->cap_scratch = cscr;
    return 0;
}

/* ------------------------------------------------------------------ forward */

static void layer_forward(ws_model *m, int l)
{
    layer_acts *a = &m->acts[l];
    int T = m->T, C = m->cfg.hidden, FF = m->cfg.intermediate;
    ws_matmul_forward(a->q, a->inp, P(m, LT(m, l, QW)), P(m, LT(m, l, QB)), T, C, C);
    ws_matmul_forward(a->k, a->inp, P(m, LT(m, l, KW)), P(m, LT(m, l, KB)), T, C, C);
    ws_matmul_forward(a->v, a->inp, P(m, LT(m, l, VW)), P(m, LT(m, l, VB)), T, C, C);
    ws_attention_forward(a->ctx, a->att, a->q, a->k, a->v, m->seq_start, m->seq_len, m->att_start, m->n_seq, C,
                         m->cfg.heads);
    ws_matmul_forward(a->res1, a->ctx, P(m, LT(m, l, OW)), P(m, LT(m, l, OB)), T, C, C);
    ws_add_forward(a->res1, a->res1, a->inp, (size_t)T * C);
    ws_layernorm_forward(a->ln1, a->ln1_mean, a->ln1_rstd, a->res1, P(m, LT(m, l, LN1W)), P(m, LT(m, l, LN1B)), T,
                         C, (ws_real)m->cfg.ln_eps);
    ws_matmul_forward(a->ff1, a->ln1, P(m, LT(m, l, IW)), P(m, LT(m, l, IB)), T, C, FF);
    ws_gelu_forward(a->gelu, a->ff1, (size_t)T * FF);
    ws_matmul_forward(a->res2, a->gelu, P(m, LT(m, l, FW)), P(m, LT(m, l, FB)), T, FF, C);
    ws_add_forward(a->res2, a->res2, a->ln1, (size_t)T * C);
    ws_layernorm_forward(a->out, a->ln2_mean, a->ln2_rstd, a->res2, P(m, LT(m, l, LN2W)), P(m, LT(m, l, LN2B)), T,
                         C, (ws_real)m->cfg.ln_eps);
}

static const ws_real *encoder_out(const ws_model *m)
{
    return m->cfg.layers ? m->acts[m->cfg.layers - 1].out : m->enc_x0;
}

int ws_model_forward(ws_model *m, const ws_batch *b, ws_err *err)
{
    const ws_model_config *cfg = &m->cfg;
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
        T += b->state_len[i];
        att_total += (size_t)cfg->heads * b->state_len[i] * b->state_len[i];
        for (int j = 0; j < b->n_actions[i]; j++, A++) {
            int La = b->action_len[A];
            if (La < 1 || La > cfg->max_position)
                return ws_fail(err, "model: action %d: %d tokens (1..%d allowed)", A, La, cfg->max_position);
            T += La;
            Ta += La;
            att_total += (size_t)cfg->heads * La * La;
            p1_total += (size_t)La * b->state_len[i];
            size_t s = WS_BIATTN_SCRATCH(La, b->state_len[i], C);
            scratch = s > scratch ? s : scratch;
        }
    }
    if (reserve(m, B, A, T, Ta, att_total, p1_total, scratch))
        return ws_fail(err, "model: out of memory for a batch of %d tokens", T);
    m->B = B;
    m->A = A;
    m->T = T;
    m->Ta = Ta;
    m->n_seq = B + A;
    m->att_total = att_total;
    m->bi_p1_total = p1_total;

    /* pack: states first, then every action */
    int t = 0, a = 0;
    size_t att = 0;
    for (int s = 0; s < m->n_seq; s++) {
        const int32_t *ids = s < B ? b->state_ids[s] : b->action_ids[s - B];
        int len = s < B ? b->state_len[s] : b->action_len[s - B];
        m->seq_start[s] = t;
        m->seq_len[s] = len;
        m->att_start[s] = att;
        att += (size_t)cfg->heads * len * len;
        for (int k = 0; k < len; k++, t++) {
            if (ids[k] < 0 || ids[k] >= cfg->vocab_size)
                return ws_fail(err, "model: token id %d outside the vocabulary (%d)", ids[k], cfg->vocab_size);
            m->ids[t] = ids[k];
            m->pos[t] = k;
        }
    }
    for (int i = 0; i < B; i++) {
        m->first_action[i] = a;
        m->n_actions[i] = b->n_actions[i];
        a += b->n_actions[i];
    }

    ws_embedding_forward(m->emb_out, m->ids, m->pos, T, C, P(m, m->emb[WTE]), P(m, m->emb[WPE]), P(m, m->emb[WTT]));
    ws_layernorm_forward(m->enc_x0, m->emb_mean, m->emb_rstd, m->emb_out, P(m, m->emb[ELNW]), P(m, m->emb[ELNB]), T,
                         C, (ws_real)cfg->ln_eps);
    for (int l = 0; l < cfg->layers; l++)
        layer_forward(m, l);
    const ws_real *enc = encoder_out(m);

    /* head: each action attends over its state */
    int ta = 0;
    size_t p1 = 0;
    for (int i = 0; i < B; i++) {
        const ws_real *mem = enc + (size_t)m->seq_start[i] * C;
        int Ls = m->seq_len[i];
        for (int j = 0; j < m->n_actions[i]; j++) {
            int ai = m->first_action[i] + j, s = B + ai, La = m->seq_len[s];
            ws_biattn_saved *sv = &m->bi[ai];
            sv->p1 = m->bi_p1 + p1;
            sv->w2 = m->bi_w2 + ta;
            sv->argmax = m->bi_argmax + ta;
            sv->out1 = m->bi_out1 + (size_t)ta * C;
            sv->out2 = m->bi_out2 + (size_t)ai * C;
            sv->mem_dot = m->bi_memdot;
            m->act_tok_start[ai] = ta;
            ws_biattn_forward(m->feat + (size_t)ta * 4 * C, sv, enc + (size_t)m->seq_start[s] * C, La, mem, Ls,
                              P(m, m->head[H_IN]), P(m, m->head[H_MEM]), P(m, m->head[H_SCALE]), C);
            ta += La;
            p1 += (size_t)La * Ls;
        }
    }
    ws_matmul_forward(m->hpre, m->feat, P(m, m->head[H_W1]), P(m, m->head[H_B1]), Ta, 4 * C, C);
    ws_relu_forward(m->h, m->hpre, (size_t)Ta * C, 0);
    for (int ai = 0; ai < A; ai++) {
        int La = m->seq_len[B + ai];
        ws_real *o = m->pooled + (size_t)ai * C;
        for (int c = 0; c < C; c++) {
            double s = 0;
            for (int k = 0; k < La; k++)
                s += m->h[(size_t)(m->act_tok_start[ai] + k) * C + c];
            o[c] = (ws_real)(s / La);
        }
    }
    ws_matmul_forward(m->logits, m->pooled, P(m, m->head[H_W2]), P(m, m->head[H_B2]), A, C, 1);
    for (int i = 0; i < B; i++) {
        const ws_real *lg = m->logits + m->first_action[i];
        ws_real mx = lg[0];
        for (int j = 1; j < m->n_actions[i]; j++)
            mx = lg[j] > mx ? lg[j] : mx;
        double s = 0;
        for (int j = 0; j < m->n_actions[i]; j++)
            s += exp((double)lg[j] - mx);
        double lse = mx + log(s);
        for (int j = 0; j < m->n_actions[i]; j++)
            m->logp[m->first_action[i] + j] = (ws_real)(lg[j] - lse);
    }
    /* value head on each state's [CLS] */
    for (int i = 0; i < B; i++)
        memcpy(m->cls + (size_t)i * C, enc + (size_t)m->seq_start[i] * C, (size_t)C * sizeof *m->cls);
    int VH = cfg->value_hidden;
    ws_matmul_forward(m->vpre, m->cls, P(m, m->head[H_V1W]), P(m, m->head[H_V1B]), B, C, VH);
    ws_relu_forward(m->vact, m->vpre, (size_t)B * VH, (ws_real)0.01);
    ws_matmul_forward(m->values, m->vact, P(m, m->head[H_V2W]), P(m, m->head[H_V2B]), B, VH, 1);
    m->have_forward = 1;
    return 0;
}

/* ------------------------------------------------------------------ backward */

static void layer_backward(ws_model *m, int l, ws_real *dout, ws_real *dinp)
{
    /* dout: gradient of the layer's output; dinp receives the gradient of its input (zeroed here) */
    layer_acts *a = &m->acts[l];
    int T = m->T, C = m->cfg.hidden, FF = m->cfg.intermediate;
    size_t TC = (size_t)T * C, TI = (size_t)T * FF;
    ws_real *d_res2 = m->d_tmp, *d_ln1 = m->d_ctx;
    memset(d_res2, 0, TC * sizeof *d_res2);
    ws_layernorm_backward(d_res2, G(m, LT(m, l, LN2W)), G(m, LT(m, l, LN2B)), dout, a->res2, P(m, LT(m, l, LN2W)),
                          a->ln2_mean, a->ln2_rstd, T, C);
    /* res2 = ff2 + ln1 */
    memcpy(d_ln1, d_res2, TC * sizeof *d_ln1);
    memset(m->d_i2, 0, TI * sizeof *m->d_i2);
    ws_matmul_backward(m->d_i2, G(m, LT(m, l, FW)), G(m, LT(m, l, FB)), d_res2, a->gelu, P(m, LT(m, l, FW)), T, FF, C);
    memset(m->d_i1, 0, TI * sizeof *m->d_i1);
    ws_gelu_backward(m->d_i1, a->ff1, m->d_i2, TI);
    ws_matmul_backward(d_ln1, G(m, LT(m, l, IW)), G(m, LT(m, l, IB)), m->d_i1, a->ln1, P(m, LT(m, l, IW)), T, C, FF);
    ws_real *d_res1 = m->d_tmp;
    memset(d_res1, 0, TC * sizeof *d_res1);
    ws_layernorm_backward(d_res1, G(m, LT(m, l, LN1W)), G(m, LT(m, l, LN1B)), d_ln1, a->res1, P(m, LT(m, l, LN1W)),
                          a->ln1_mean, a->ln1_rstd, T, C);
    /* res1 = proj(ctx) + inp */
    memcpy(dinp, d_res1, TC * sizeof *dinp);
    ws_real *d_ctx = m->d_ctx;
    memset(d_ctx, 0, TC * sizeof *d_ctx);
    ws_matmul_backward(d_ctx, G(m, LT(m, l, OW)), G(m, LT(m, l, OB)), d_res1, a->ctx, P(m, LT(m, l, OW)), T, C, C);
    memset(m->d_q, 0, TC * sizeof *m->d_q);
    memset(m->d_k, 0, TC * sizeof *m->d_k);
    memset(m->d_v, 0, TC * sizeof *m->d_v);
    ws_attention_backward(m->d_q, m->d_k, m->d_v, d_ctx, a->att, a->q, a->k, a->v, m->seq_start, m->seq_len,
                          m->att_start, m->n_seq, C, m->cfg.heads);
    ws_matmul_backward(dinp, G(m, LT(m, l, QW)), G(m, LT(m, l, QB)), m->d_q, a->inp, P(m, LT(m, l, QW)), T, C, C);
    ws_matmul_backward(dinp, G(m, LT(m, l, KW)), G(m, LT(m, l, KB)), m->d_k, a->inp, P(m, LT(m, l, KW)), T, C, C);
    ws_matmul_backward(dinp, G(m, LT(m, l, VW)), G(m, LT(m, l, VB)), m->d_v, a->inp, P(m, LT(m, l, VW)), T, C, C);
}

int ws_model_backward(ws_model *m, const ws_real *dlogits, const ws_real *dvalues, ws_err *err)
{
    if (!m->have_forward)
        return ws_fail(err, "model: backward without a forward pass");
    const ws_model_config *cfg = &m->cfg;
    int C = cfg->hidden, B = m->B, A = m->A, T = m->T, Ta = m->Ta, VH = cfg->value_hidden;
    size_t TC = (size_t)T * C;
    const ws_real *enc = encoder_out(m);
    ws_real *d_enc = m->d_res; /* gradient of the encoder output, every token */
    memset(d_enc, 0, TC * sizeof *d_enc);

    /* action scores: logits = linear_2(mean over tokens of relu(linear_1(feat))) */
    memset(m->d_pooled, 0, (size_t)A * C * sizeof *m->d_pooled);
    ws_matmul_backward(m->d_pooled, G(m, m->head[H_W2]), G(m, m->head[H_B2]), dlogits, m->pooled,
                       P(m, m->head[H_W2]), A, C, 1);
    ws_real *d_hrelu = m->d_h;
    for (int ai = 0; ai < A; ai++) {
        int La = m->seq_len[B + ai];
        for (int k = 0; k < La; k++)
            for (int c = 0; c < C; c++)
                d_hrelu[(size_t)(m->act_tok_start[ai] + k) * C + c] = m->d_pooled[(size_t)ai * C + c] / (ws_real)La;
    }
    ws_real *d_hpre = m->d_tmp; /* Ta * C fits in T * C */
    memset(d_hpre, 0, (size_t)Ta * C * sizeof *d_hpre);
    ws_relu_backward(d_hpre, m->hpre, d_hrelu, (size_t)Ta * C, 0);
    memset(m->d_feat, 0, (size_t)Ta * 4 * C * sizeof *m->d_feat);
    ws_matmul_backward(m->d_feat, G(m, m->head[H_W1]), G(m, m->head[H_B1]), d_hpre, m->feat, P(m, m->head[H_W1]), Ta,
                       4 * C, C);
    for (int i = 0; i < B; i++) {
        int Ls = m->seq_len[i];
        const ws_real *mem = enc + (size_t)m->seq_start[i] * C;
        ws_real *dmem = d_enc + (size_t)m->seq_start[i] * C;
        for (int j = 0; j < m->n_actions[i]; j++) {
            int ai = m->first_action[i] + j, s = B + ai, La = m->seq_len[s];
            size_t row = (size_t)m->seq_start[s] * C;
            ws_biattn_backward(d_enc + row, dmem, G(m, m->head[H_IN]), G(m, m->head[H_MEM]), G(m, m->head[H_SCALE]),
                               m->d_feat + (size_t)m->act_tok_start[ai] * 4 * C, &m->bi[ai], enc + row, La, mem, Ls,
                               P(m, m->head[H_IN]), P(m, m->head[H_MEM]), P(m, m->head[H_SCALE]), C,
                               m->d_bi_scratch);
        }
    }
    if (dvalues) {
        memset(m->d_vact, 0, (size_t)B * VH * sizeof *m->d_vact);
        ws_matmul_backward(m->d_vact, G(m, m->head[H_V2W]), G(m, m->head[H_V2B]), dvalues, m->vact,
                           P(m, m->head[H_V2W]), B, VH, 1);
        memset(m->d_v1, 0, (size_t)B * VH * sizeof *m->d_v1);
        ws_relu_backward(m->d_v1, m->vpre, m->d_vact, (size_t)B * VH, (ws_real)0.01);
        memset(m->d_cls, 0, (size_t)B * C * sizeof *m->d_cls);
        ws_matmul_backward(m->d_cls, G(m, m->head[H_V1W]), G(m, m->head[H_V1B]), m->d_v1, m->cls,
                           P(m, m->head[H_V1W]), B, C, VH);
        for (int i = 0; i < B; i++)
            for (int c = 0; c < C; c++)
                d_enc[(size_t)m->seq_start[i] * C + c] += m->d_cls[(size_t)i * C + c];
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
    memset(d_emb, 0, TC * sizeof *d_emb);
    ws_layernorm_backward(d_emb, G(m, m->emb[ELNW]), G(m, m->emb[ELNB]), dout, m->emb_out, P(m, m->emb[ELNW]),
                          m->emb_mean, m->emb_rstd, T, C);
    ws_embedding_backward(G(m, m->emb[WTE]), G(m, m->emb[WPE]), G(m, m->emb[WTT]), d_emb, m->ids, m->pos, T, C);
    return 0;
}

const ws_real *ws_model_encoder_output(const ws_model *m) { return encoder_out(m); }
int ws_model_seq_start(const ws_model *m, int s) { return m->seq_start[s]; }
int ws_model_seq_len(const ws_model *m, int s) { return m->seq_len[s]; }

double ws_model_forward_flops(const ws_model *m)
{
    double C = m->cfg.hidden, FF = m->cfg.intermediate, T = m->T, f = 0;
    f += m->cfg.layers * T * 2.0 * (4 * C * C + 2 * C * FF);
    for (int s = 0; s < m->n_seq; s++)
        f += m->cfg.layers * 4.0 * (double)m->seq_len[s] * m->seq_len[s] * C;
    for (int i = 0; i < m->B; i++)
        for (int j = 0; j < m->n_actions[i]; j++) {
            double La = m->seq_len[m->B + m->first_action[i] + j], Ls = m->seq_len[i];
            f += 2.0 * 2.0 * La * Ls * C + 2.0 * La * 4 * C * C;
        }
    return f;
}
