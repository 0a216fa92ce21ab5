/* Gradient check of the choice model: analytic gradients of every parameter tensor against
 * central finite differences, on a tiny model compiled here in double precision (the model and
 * the CPU backend are included with WS_REAL = double); and of the attention layer alone on
 * a sequence of 300 tokens. */
#define WS_REAL double
#include "../../lib/model/backend_cpu.c"
#include "../../lib/model/model.c"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <cmocka.h>

static const int32_t s0[] = {1, 5, 6, 7, 8, 2}, s1[] = {1, 9, 10, 11, 2};
static const int32_t a0[] = {1, 12, 2}, a1[] = {1, 13, 14, 2}, a2[] = {1, 2}, a3[] = {1, 15, 2}, a4[] = {3};
static const int32_t *const states[] = {s0, s1}, *const actions[] = {a0, a1, a2, a3, a4};
static const int state_len[] = {6, 5}, n_actions[] = {3, 2}, action_len[] = {3, 4, 2, 3, 1};
static const double coef_logp[] = {0.7, -1.3, 0.4, 1.1, -0.6}, coef_value[] = {0.9, -0.5};
static const double coef_logit[] = {0.2, 0.1, -0.3, 0.05, 0.4};

/* loss = sum_a (c_a logp_a + g_a logit_a) + sum_i e_i value_i: the softmax, the raw logits (the
 * softmax alone is blind to linear_2.bias) and the values */
static double loss_of(ws_model *m, const ws_batch *b)
{
    ws_err err;
    assert_int_equal(ws_model_forward(m, b, &err), 0);
    double l = 0;
    for (int a = 0; a < 5; a++)
        l += coef_logp[a] * ws_model_logp(m)[a] + coef_logit[a] * ws_model_logits(m)[a];
    for (int i = 0; i < 2; i++)
        l += coef_value[i] * ws_model_values(m)[i];
    return l;
}

static void test_gradients(void **state)
{
    (void)state;
    ws_model_config cfg = {.vocab_size = 20, .hidden = 8, .layers = 2, .heads = 2, .intermediate = 16,
                           .max_position = 16, .type_vocab = 2, .ln_eps = 1e-12, .value_hidden = 4};
    ws_err err;
    ws_model *m = ws_model_new(&cfg, &err);
    assert_non_null(m);
    ws_model_init_random(m, 42);
    /* weights larger than BERT's 0.02 so that every path carries a visible gradient */
    for (size_t t = 0; t < m->n_tensors; t++) {
        const ws_tensor *tt = &m->tensors[t];
        if (strncmp(tt->name, "encoder.", 8) == 0 || strncmp(tt->name, "embeddings.", 11) == 0) {
            ws_rng r;
            ws_rng_seed(&r, t, "gradcheck");
            for (size_t k = 0; k < tt->numel; k++)
                m->params[tt->offset + k] += 0.3 * (2 * ws_rng_uniform(&r) - 1);
        }
    }
    ws_batch b = {2, states, state_len, n_actions, actions, action_len};

    double base = loss_of(m, &b);
    (void)base;
    double dlogits[5], dvalues[2];
    for (int i = 0, a = 0; i < 2; i++) {
        double csum = 0;
        for (int j = 0; j < n_actions[i]; j++)
            csum += coef_logp[a + j];
        for (int j = 0; j < n_actions[i]; j++)
            dlogits[a + j] = coef_logp[a + j] - exp(ws_model_logp(m)[a + j]) * csum + coef_logit[a + j];
        a += n_actions[i];
    }
    memcpy(dvalues, coef_value, sizeof dvalues);
    /* A backward with other output gradients first, so that every gradient buffer of the model
     * holds other values: the backward writes each one before it reads it (nothing is zeroed),
     * and a value left over would show in the check below. */
    double other_dlogits[5], other_dvalues[2];
    for (int a = 0; a < 5; a++)
        other_dlogits[a] = -2.5 * dlogits[a] + 0.1;
    for (int i = 0; i < 2; i++)
        other_dvalues[i] = 3 * dvalues[i] - 0.2;
    assert_int_equal(ws_model_backward(m, other_dlogits, other_dvalues, &err), 0);
    ws_model_zero_grad(m);
    assert_int_equal(ws_model_backward(m, dlogits, dvalues, &err), 0);
    double *analytic = malloc(m->n_params * sizeof *analytic);
    memcpy(analytic, m->grads, m->n_params * sizeof *analytic);

    const double eps = 1e-5;
    double worst = 0;
    const char *worst_name = "";
    for (size_t t = 0; t < m->n_tensors; t++) {
        const ws_tensor *tt = &m->tensors[t];
        double diff2 = 0, norm_a = 0, norm_n = 0;
        size_t step = tt->numel > 64 ? tt->numel / 64 : 1; /* at most ~64 entries per tensor */
        for (size_t k = 0; k < tt->numel; k += step) {
            double *p = &m->params[tt->offset + k], saved = *p;
            *p = saved + eps;
            double up = loss_of(m, &b);
            *p = saved - eps;
            double down = loss_of(m, &b);
            *p = saved;
            double numeric = (up - down) / (2 * eps), a = analytic[tt->offset + k];
            diff2 += (a - numeric) * (a - numeric);
            norm_a += a * a;
            norm_n += numeric * numeric;
        }
        double scale = sqrt(norm_a > norm_n ? norm_a : norm_n);
        /* The key bias adds the same amount to every score of a softmax row: its true gradient is
         * exactly zero, so both sides must be (numerically) zero. Every other tensor must carry a
         * gradient, or the check would not test its path. */
        if (strstr(tt->name, "attention.self.key.bias")) {
            if (scale > 1e-8)
                fail_msg("%s: should have no gradient, got %.3g", tt->name, scale);
            continue;
        }
        if (scale <= 1e-8)
            fail_msg("%s: gradient is zero: this path is not exercised", tt->name);
        double rel = sqrt(diff2) / scale;
        if (rel > worst) {
            worst = rel;
            worst_name = tt->name;
        }
        if (rel >= 1e-4)
            fail_msg("%s: relative error %.3g (|analytic| %.3g, |numeric| %.3g)", tt->name, rel, sqrt(norm_a),
                     sqrt(norm_n));
    }
    printf("# %zu tensors checked; worst relative error %.3g (%s)\n", m->n_tensors, worst, worst_name);
    free(analytic);
    ws_model_free(m);
}

/* The attention layer alone, a long sequence (its backward works on whole 300 x 300 blocks,
 * computing the probabilities again from q and k) beside a short one; loss = sum(out * g). */
static double attention_loss(const double *q, const double *k, const double *v, const double *g, double *out,
                             const ws_pack *pk, int C, int NH)
{
    cpu_attention_forward(ws_backend_cpu(), out, NULL, q, k, v, pk, C, NH);
    double l = 0;
    for (int i = 0; i < pk->T * C; i++)
        l += out[i] * g[i];
    return l;
}

static void test_attention_long(void **state)
{
    (void)state;
    enum { C = 6, NH = 2, T = 305 };
    static const int seq_start[] = {0, 300}, seq_len[] = {300, 5};
    ws_pack pk = {.n_seq = 2, .T = T, .max_len = 300};
    pk.h.seq_start = seq_start;
    pk.h.seq_len = seq_len;
    double *buf = calloc((size_t)T * C * 8, sizeof *buf);
    assert_non_null(buf);
    double *q = buf, *k = q + T * C, *v = k + T * C, *g = v + T * C, *out = g + T * C, *dq = out + T * C,
           *dk = dq + T * C, *dv = dk + T * C;
    ws_rng r;
    ws_rng_seed(&r, 7, "attention-gradcheck");
    for (int i = 0; i < T * C * 4; i++)
        q[i] = 2 * ws_rng_uniform(&r) - 1; /* q, k, v and g */
    attention_loss(q, k, v, g, out, &pk, C, NH);
    for (int i = 0; i < T * C * 3; i++)
        dq[i] = NAN; /* dq, dk, dv: the backward writes every element */
    cpu_attention_backward(ws_backend_cpu(), dq, dk, dv, g, NULL, q, k, v, &pk, C, NH);
    assert_int_equal(cpu_status(ws_backend_cpu(), NULL), 0);
    double *inputs[] = {q, k, v}, *grads[] = {dq, dk, dv};
    const double eps = 1e-5;
    for (int which = 0; which < 3; which++) {
        double diff2 = 0, norm = 0;
        for (int i = 0; i < T * C; i += 23) { /* rows of both sequences, every column */
            double *p = &inputs[which][i], saved = *p;
            *p = saved + eps;
            double up = attention_loss(q, k, v, g, out, &pk, C, NH);
            *p = saved - eps;
            double down = attention_loss(q, k, v, g, out, &pk, C, NH);
            *p = saved;
            double numeric = (up - down) / (2 * eps), a = grads[which][i];
            diff2 += (a - numeric) * (a - numeric);
            norm += numeric * numeric;
        }
        double rel = sqrt(diff2 / norm);
        printf("# attention d%c: relative error %.3g\n", "qkv"[which], rel);
        if (!(rel < 1e-6))
            fail_msg("attention d%c: relative error %.3g", "qkv"[which], rel);
    }
    free(buf);
}

/* The segment rule (model.h): the state's instruction after "instruction :" up to a button token or
 * [SEP]; an action token in type 1 when that word is in the instruction. */
static void test_token_types(void **state)
{
    (void)state;
    enum { INS = WS_TOKEN_INSTRUCTION, COL = WS_TOKEN_COLON, SEPT = WS_TOKEN_SEP, BTN = WS_TOKEN_FIRST_ADDED };
    /* [CLS] you instruction : small blue [button] small [button_] instruction : big [SEP] */
    const int32_t st[] = {101, 7, INS, COL, 20, 21, BTN, 20, BTN + 1, INS, COL, 22, SEPT};
    int32_t types[13];
    ws_state_token_types(st, 13, types);
    const int32_t want[] = {0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0};
    assert_memory_equal(types, want, sizeof want);
    /* [CLS] click [ small ] [SEP]: only "small" is the instruction's; [CLS]/[SEP] never */
    const int32_t act[] = {101, 30, 31, 20, 32, 101};
    int32_t at[6];
    ws_action_token_types(act, 6, st, types, 13, at);
    const int32_t want_a[] = {0, 0, 0, 1, 0, 0};
    assert_memory_equal(at, want_a, sizeof want_a);
    /* no instruction marker, or a marker at the very end: nothing */
    const int32_t plain[] = {101, 20, 21, INS, COL};
    int32_t pt[5];
    ws_state_token_types(plain, 5, pt);
    for (int k = 0; k < 5; k++)
        assert_int_equal(pt[k], 0);
}

/* A one-layer model of hidden size 8 over `vocab` ids, randomly initialised. */
static ws_model *one_layer_model(int vocab, int max_position, int segments, int item_titles, uint64_t seed)
{
    ws_model_config cfg = {.vocab_size = vocab, .hidden = 8, .layers = 1, .heads = 2, .intermediate = 16,
                           .max_position = max_position, .type_vocab = 2, .ln_eps = 1e-12, .value_hidden = 4,
                           .segments = segments, .item_titles = item_titles};
    ws_err err;
    ws_model *m = ws_model_new(&cfg, &err);
    assert_non_null(m);
    ws_model_init_random(m, seed);
    return m;
}

/* With segments, the token-type table's second row carries gradient, analytic = numeric, and the
 * types change the output (the vocabulary must reach the markers' ids). */
static void test_token_type_gradients(void **state)
{
    (void)state;
    enum { INS = WS_TOKEN_INSTRUCTION, COL = WS_TOKEN_COLON, BTN = WS_TOKEN_FIRST_ADDED };
    static const int32_t st[] = {1, INS, COL, 5, 6, BTN, 7, 2}, a_match[] = {1, 5, 2}, a_other[] = {1, 7, 8, 2};
    static const int32_t *const sts[] = {st}, *const acts[] = {a_match, a_other};
    static const int st_len[] = {8}, n_act[] = {2}, act_len[] = {3, 4};
    ws_batch b = {1, sts, st_len, n_act, acts, act_len};
    double out[2][2];
    for (int seg = WS_SEGMENTS_NONE; seg <= WS_SEGMENTS_MATCH; seg += WS_SEGMENTS_MATCH) {
        ws_err err;
        ws_model *m = one_layer_model(BTN + 4, 16, seg, 0, 7);
        const int hidden = m->cfg.hidden;
        const ws_tensor *tt = ws_model_find_tensor(m, "embeddings.token_type_embeddings.weight");
        for (size_t k = 0; k < tt->numel; k++) /* rows far apart, so that the type matters */
            m->params[tt->offset + k] = (k % 3) * 0.5 - 0.4 + (k >= (size_t)hidden ? 0.7 : 0);
        assert_int_equal(ws_model_forward(m, &b, &err), 0);
        out[seg == WS_SEGMENTS_MATCH][0] = ws_model_logits(m)[0];
        out[seg == WS_SEGMENTS_MATCH][1] = ws_model_logits(m)[1];
        if (seg != WS_SEGMENTS_MATCH) {
            ws_model_free(m);
            continue;
        }
        double dlogits[2] = {1.0, -0.5};
        ws_model_zero_grad(m);
        assert_int_equal(ws_model_backward(m, dlogits, NULL, &err), 0);
        double worst = 0, row1 = 0;
        for (size_t k = 0; k < tt->numel; k++) {
            double *p = &m->params[tt->offset + k], saved = *p, e = 1e-5, l[2];
            for (int side = 0; side < 2; side++) {
                *p = saved + (side ? -e : e);
                assert_int_equal(ws_model_forward(m, &b, &err), 0);
                l[side] = ws_model_logits(m)[0] - 0.5 * ws_model_logits(m)[1];
            }
            *p = saved;
            double numeric = (l[0] - l[1]) / (2 * e), a = m->grads[tt->offset + k];
            worst = fmax(worst, fabs(a - numeric) / fmax(1e-6, fabs(numeric)));
            if (k >= (size_t)hidden)
                row1 += fabs(a);
        }
        printf("# token types: worst relative error %.3g, |d row 1| %.3g\n", worst, row1);
        assert_true(worst < 1e-5);
        assert_true(row1 > 1e-6);
        ws_model_free(m);
    }
    assert_true(fabs(out[0][0] - out[1][0]) > 1e-9 || fabs(out[0][1] - out[1][1]) > 1e-9);
}

/* The item-title rule (model.h): a click on a "b0..." value that the state shows as a button reads
 * the listing after that button, up to the next button token or [SEP]; nothing for a value not
 * on the page, a value that is not an ASIN, or a search. */
enum { BTN = WS_TOKEN_FIRST_ADDED, BEND = WS_TOKEN_BUTTON_END, CLK = WS_TOKEN_CLICK, OPEN = WS_TOKEN_OPEN_BRACKET,
       CLOSE = WS_TOKEN_CLOSE_BRACKET, ASIN_B = WS_TOKEN_B, ASIN_0 = WS_TOKEN_SUFFIX_0 };
/* [CLS] [button] b ##0 x [button_] red shirt $ 5 [button] b ##0 y [button_] blue [button] 60 [button_] 61 [SEP] */
static const int32_t page[] = {101, BTN, ASIN_B, ASIN_0, 40, BEND, 50, 51, 52, 53, BTN, ASIN_B, ASIN_0, 41, BEND, 54,
                               BTN, 60, BEND, 61, 102};
enum { PAGE_LEN = sizeof page / sizeof *page };
static const int32_t click_x[] = {101, CLK, OPEN, ASIN_B, ASIN_0, 40, CLOSE, 102};

static void test_item_titles(void **state)
{
    (void)state;
    int from;
    assert_int_equal(ws_item_title_span(click_x, 8, page, PAGE_LEN, &from), 4);
    assert_int_equal(from, 6);
    const int32_t click_y[] = {101, CLK, OPEN, ASIN_B, ASIN_0, 41, CLOSE, 102};
    assert_int_equal(ws_item_title_span(click_y, 8, page, PAGE_LEN, &from), 1);
    assert_int_equal(from, 15);
    /* the listing cut by the state's end (truncation) */
    assert_int_equal(ws_item_title_span(click_x, 8, page, 8, &from), 2);
    const int32_t not_shown[] = {101, CLK, OPEN, ASIN_B, ASIN_0, 42, CLOSE, 102};
    assert_int_equal(ws_item_title_span(not_shown, 8, page, PAGE_LEN, &from), 0);
    const int32_t prefix[] = {101, CLK, OPEN, ASIN_B, ASIN_0, CLOSE, 102}; /* "b0" is shown only inside longer values */
    assert_int_equal(ws_item_title_span(prefix, 7, page, PAGE_LEN, &from), 0);
    const int32_t option[] = {101, CLK, OPEN, 60, CLOSE, 102}; /* an option: its button is followed by text */
    assert_int_equal(ws_item_title_span(option, 6, page, PAGE_LEN, &from), 0);
    const int32_t search[] = {101, 3945, OPEN, ASIN_B, ASIN_0, 40, CLOSE, 102};
    assert_int_equal(ws_item_title_span(search, 8, page, PAGE_LEN, &from), 0);
}

/* With item titles the packed action is its tokens, the listing, then [SEP]; positions run on; the
 * listing's tokens carry gradient (analytic = numeric), and the scores change. */
static void test_item_title_forward(void **state)
{
    (void)state;
    static const int32_t other[] = {101, CLK, OPEN, 60, CLOSE, 102};
    static const int32_t *const sts[] = {page}, *const acts[] = {click_x, other};
    static const int st_len[] = {PAGE_LEN}, n_act[] = {2}, act_len[] = {8, 6};
    ws_batch b = {1, sts, st_len, n_act, acts, act_len};
    double logits[2][2];
    for (int titles = 0; titles < 2; titles++) {
        ws_err err;
        ws_model *m = one_layer_model(BEND + 3, 32, WS_SEGMENTS_NONE, titles, 11);
        const int hidden = m->cfg.hidden;
        const ws_tensor *wte = ws_model_find_tensor(m, "embeddings.word_embeddings.weight");
        for (size_t k = 0; k < wte->numel; k++) /* embeddings far apart, so that the listing matters */
            m->params[wte->offset + k] += 0.5 * sin((double)k);
        assert_int_equal(ws_model_forward(m, &b, &err), 0);
        logits[titles][0] = ws_model_logits(m)[0];
        logits[titles][1] = ws_model_logits(m)[1];
        assert_int_equal(ws_model_seq_len(m, 2), 6); /* the option click is never extended */
        if (!titles) {
            assert_int_equal(ws_model_seq_len(m, 1), 8);
            ws_model_free(m);
            continue;
        }
        const int32_t want[] = {101, CLK, OPEN, ASIN_B, ASIN_0, 40, CLOSE, 50, 51, 52, 53, 102};
        int start = ws_model_seq_start(m, 1);
        assert_int_equal(ws_model_seq_len(m, 1), 12);
        for (int k = 0; k < 12; k++) {
            assert_int_equal(m->hp.ids[start + k], want[k]);
            assert_int_equal(m->hp.pos[start + k], k);
        }
        /* d logit_0 / d (embedding of the listing's "red", which the action now holds) */
        double dlogits[2] = {1.0, 0.0};
        ws_model_zero_grad(m);
        assert_int_equal(ws_model_backward(m, dlogits, NULL, &err), 0);
        double worst = 0;
        for (int c = 0; c < hidden; c++) {
            size_t at = wte->offset + 50 * (size_t)hidden + (size_t)c;
            double *p = &m->params[at], saved = *p, e = 1e-5, l[2];
            for (int side = 0; side < 2; side++) {
                *p = saved + (side ? -e : e);
                assert_int_equal(ws_model_forward(m, &b, &err), 0);
                l[side] = ws_model_logits(m)[0];
            }
            *p = saved;
            double numeric = (l[0] - l[1]) / (2 * e);
            worst = fmax(worst, fabs(m->grads[at] - numeric) / fmax(1e-6, fabs(numeric)));
        }
        printf("# item titles: worst relative error %.3g\n", worst);
        assert_true(worst < 1e-5);
        ws_model_free(m);
    }
    assert_true(fabs(logits[0][0] - logits[1][0]) > 1e-9);
}

int main(void)
{
    const struct CMUnitTest tests[] = {cmocka_unit_test(test_gradients), cmocka_unit_test(test_attention_long),
                                       cmocka_unit_test(test_token_types), cmocka_unit_test(test_token_type_gradients),
                                       cmocka_unit_test(test_item_titles), cmocka_unit_test(test_item_title_forward)};
    return cmocka_run_group_tests(tests, NULL, NULL);
}
