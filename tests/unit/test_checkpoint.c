/* Unit tests of lib/io/checkpoint: save/load round trips with optimiser state, metadata, every
 * refusal (missing, mismatched, unexpected tensors, wrong format, stale .optim, damaged data,
 * non-finite weights), and loading plain Hugging Face BERT files. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "checkpoint.h"
#include "safetensors.h"
#include "test_files.h"

static void expect_err(const ws_err *err, const char *needle)
{
    if (!strstr(err->msg, needle))
        fail_msg("error '%s' does not contain '%s'", err->msg, needle);
}

/* A tiny BERT-named model: 4 tensors with distinct values. */
#define NP 4
typedef struct model {
    float emb[5 * 3], ln_w[3], ln_b[3], head[2 * 3];
    ws_param p[NP];
} model;

static void model_init(model *m, float base)
{
    float *bufs[NP] = {m->emb, m->ln_w, m->ln_b, m->head};
    size_t sizes[NP] = {15, 3, 3, 6};
    for (int k = 0; k < NP; k++)
        for (size_t i = 0; i < sizes[k]; i++)
            bufs[k][i] = base + (float)k * 100 + (float)i * 0.25f;
    m->p[0] = (ws_param){"embeddings.word_embeddings.weight", m->emb, 2, {5, 3}};
    m->p[1] = (ws_param){"embeddings.LayerNorm.weight", m->ln_w, 1, {3}};
    m->p[2] = (ws_param){"embeddings.LayerNorm.bias", m->ln_b, 1, {3}};
    m->p[3] = (ws_param){"head.weight", m->head, 2, {2, 3}};
}

static const char *CONFIG = "{\"hidden\":3,\"layers\":1,\"vocab\":5}";
static const char *VOCAB = "9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08";

static ws_ckpt_meta sample_meta(void)
{
    static const ws_kv extra[] = {{"tool", "train-il"}, {"git", "abc123"}};
    return (ws_ckpt_meta){.config = CONFIG, .vocab_sha256 = VOCAB, .step = 3000,
                          .seed = 18446744073709551615ull, .extra = extra, .n_extra = 2};
}

static void test_roundtrip_with_optimizer(void **state)
{
    (void)state;
    char dir[64], path[128], opath[160];
    make_tmpdir(dir, sizeof dir, "ws-ckpt");
    snprintf(path, sizeof path, "%s/ckpt.safetensors", dir);
    snprintf(opath, sizeof opath, "%s.optim", path);
    model a, b, am, av, bm, bv;
    model_init(&a, 1.0f);
    model_init(&am, -5.0f);
    model_init(&av, 7.0f);
    const float *m_in[NP], *v_in[NP];
    for (int k = 0; k < NP; k++) {
        m_in[k] = am.p[k].data;
        v_in[k] = av.p[k].data;
    }
    ws_ckpt_meta meta = sample_meta();
    ws_err err;
    if (ws_checkpoint_save(path, a.p, NP, &meta, m_in, v_in, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(access(opath, F_OK), 0);

    model_init(&b, 0.0f);
    model_init(&bm, 0.0f);
    model_init(&bv, 0.0f);
    float *m_out[NP], *v_out[NP];
    for (int k = 0; k < NP; k++) {
        m_out[k] = bm.p[k].data;
        v_out[k] = bv.p[k].data;
    }
    ws_ckpt_meta got = {0};
    if (ws_checkpoint_load(path, b.p, NP, &got, m_out, v_out, &err))
        fail_msg("%s", err.msg);
    assert_memory_equal(b.emb, a.emb, sizeof a.emb);
    assert_memory_equal(b.ln_w, a.ln_w, sizeof a.ln_w);
    assert_memory_equal(b.ln_b, a.ln_b, sizeof a.ln_b);
    assert_memory_equal(b.head, a.head, sizeof a.head);
    assert_memory_equal(bm.emb, am.emb, sizeof am.emb);
    assert_memory_equal(bv.head, av.head, sizeof av.head);
    assert_memory_equal(bv.ln_b, av.ln_b, sizeof av.ln_b);
    assert_string_equal(got.config, CONFIG);
    assert_string_equal(got.vocab_sha256, VOCAB);
    assert_int_equal(got.step, 3000);
    assert_true(got.seed == 18446744073709551615ull);
    assert_int_equal(got.n_extra, 2);
    assert_string_equal(got.extra[0].key, "git"); /* sorted by key */
    assert_string_equal(got.extra[0].value, "abc123");
    assert_string_equal(got.extra[1].key, "tool");
    assert_string_equal(got.extra[1].value, "train-il");
    assert_non_null(got.owned);
    ws_ckpt_meta_free(&got);
    assert_null(got.config);
    assert_null(got.owned);
    ws_ckpt_meta_free(&got); /* twice is harmless */

    /* metadata only */
    ws_ckpt_meta only;
    assert_int_equal(ws_checkpoint_read_meta(path, &only, &err), 0);
    assert_string_equal(only.config, CONFIG);
    assert_int_equal(only.step, 3000);
    ws_ckpt_meta_free(&only);

    /* without optimiser buffers the .optim file is not read, and meta_out may be NULL */
    model_init(&b, 0.0f);
    assert_int_equal(ws_checkpoint_load(path, b.p, NP, NULL, NULL, NULL, &err), 0);
    assert_memory_equal(b.head, a.head, sizeof a.head);

    /* the file itself: the format tag and the reference dtype */
    ws_st_file *f = ws_st_open(path, &err);
    assert_non_null(f);
    assert_string_equal(ws_st_meta_get(f, "format"), WS_CKPT_FORMAT);
    assert_string_equal(ws_st_meta_get(f, "step"), "3000");
    assert_string_equal(ws_st_meta_get(f, "seed"), "18446744073709551615");
    assert_int_equal(ws_st_count(f), NP);
    ws_st_close(f);
    f = ws_st_open(opath, &err);
    assert_non_null(f);
    assert_string_equal(ws_st_meta_get(f, "format"), WS_OPTIM_FORMAT);
    assert_int_equal(ws_st_count(f), 2 * NP);
    assert_non_null(ws_st_find(f, "m.head.weight"));
    assert_non_null(ws_st_find(f, "v.embeddings.LayerNorm.bias"));
    ws_st_close(f);
    rm_rf(dir);
}

static void test_deterministic_and_stale_optim(void **state)
{
    (void)state;
    char dir[64], p1[128], p2[128], o1[160], o2[160];
    make_tmpdir(dir, sizeof dir, "ws-ckpt");
    snprintf(p1, sizeof p1, "%s/a.ckpt", dir);
    snprintf(p2, sizeof p2, "%s/b.ckpt", dir);
    snprintf(o1, sizeof o1, "%s.optim", p1);
    snprintf(o2, sizeof o2, "%s.optim", p2);
    model a, z;
    model_init(&a, 2.0f);
    model_init(&z, 0.0f);
    const float *mz[NP];
    float *out[NP];
    for (int k = 0; k < NP; k++) {
        mz[k] = z.p[k].data;
        out[k] = z.p[k].data;
    }
    ws_ckpt_meta meta = sample_meta();
    ws_err err;
    assert_int_equal(ws_checkpoint_save(p1, a.p, NP, &meta, mz, mz, &err), 0);
    assert_int_equal(ws_checkpoint_save(p2, a.p, NP, &meta, mz, mz, &err), 0);
    size_t n1, n2;
    unsigned char *x = read_file(p1, &n1), *y = read_file(p2, &n2);
    assert_int_equal(n1, n2);
    assert_memory_equal(x, y, n1); /* same inputs, same bytes */
    free(x);
    free(y);

    /* an .optim of another step is refused */
    meta.step = 3001;
    assert_int_equal(ws_checkpoint_save(p2, a.p, NP, &meta, mz, mz, &err), 0);
    assert_int_equal(rename(o1, o2), 0);
    assert_int_equal(ws_checkpoint_load(p2, a.p, NP, NULL, out, out, &err), -1);
    expect_err(&err, "optimiser state of step 3000");
    expect_err(&err, "does not belong to the checkpoint of step 3001");
    expect_err(&err, o2);

    /* saving without optimiser state removes a stale .optim */
    assert_int_equal(ws_checkpoint_save(p2, a.p, NP, &meta, NULL, NULL, &err), 0);
    assert_int_equal(access(o2, F_OK), -1);
    assert_int_equal(ws_checkpoint_load(p2, a.p, NP, NULL, out, out, &err), -1);
    expect_err(&err, "b.ckpt.optim: cannot open");
    rm_rf(dir);
}

/* A save killed between its two files: the new .optim in place, the checkpoint still the one
 * before. The .optim it replaced, kept as .optim.prev, is loaded; without it, the mismatch is
 * refused. A completed save leaves no .optim.prev. */
static void test_save_interrupted_between_files(void **state)
{
    (void)state;
    char dir[64], path[128], other[128], optim[160], prev[160], other_optim[160];
    make_tmpdir(dir, sizeof dir, "ws-ckpt");
    snprintf(path, sizeof path, "%s/k.ckpt", dir);
    snprintf(other, sizeof other, "%s/later.ckpt", dir);
    snprintf(optim, sizeof optim, "%s.optim", path);
    snprintf(prev, sizeof prev, "%s.optim.prev", path);
    snprintf(other_optim, sizeof other_optim, "%s.optim", other);
    model a, m1, m2, out;
    model_init(&a, 2.0f);
    model_init(&m1, 10.0f);
    model_init(&m2, 20.0f);
    model_init(&out, 0.0f);
    const float *c1[NP], *c2[NP];
    float *got_m[NP], *got_v[NP], got_v_buf[NP][15];
    for (int k = 0; k < NP; k++) {
        c1[k] = m1.p[k].data;
        c2[k] = m2.p[k].data;
        got_m[k] = out.p[k].data;
        got_v[k] = got_v_buf[k];
    }
    ws_ckpt_meta meta = sample_meta();
    ws_err err;
    meta.step = 10;
    assert_int_equal(ws_checkpoint_save(path, a.p, NP, &meta, c1, c1, &err), 0);
    assert_int_equal(access(prev, F_OK), -1);
    /* step 24's save, killed after its .optim was in place: the writer had moved step 10's aside */
    meta.step = 24;
    assert_int_equal(ws_checkpoint_save(other, a.p, NP, &meta, c2, c2, &err), 0);
    assert_int_equal(rename(optim, prev), 0);
    assert_int_equal(rename(other_optim, optim), 0);
    ws_ckpt_meta loaded;
    assert_int_equal(ws_checkpoint_load(path, a.p, NP, &loaded, got_m, got_v, &err), 0);
    assert_int_equal(loaded.step, 10);
    ws_ckpt_meta_free(&loaded);
    for (int k = 0; k < NP; k++)
        assert_memory_equal(got_m[k], m1.p[k].data, ws_param_numel(&m1.p[k]) * sizeof(float));
    /* killed before step 24's .optim was written: no .optim, step 10's aside */
    assert_int_equal(unlink(optim), 0);
    assert_int_equal(ws_checkpoint_load(path, a.p, NP, NULL, got_m, got_v, &err), 0);
    /* the next completed save leaves its own pair and no .optim.prev */
    meta.step = 11;
    assert_int_equal(ws_checkpoint_save(path, a.p, NP, &meta, c2, c2, &err), 0);
    assert_int_equal(access(prev, F_OK), -1);
    assert_int_equal(ws_checkpoint_load(path, a.p, NP, NULL, got_m, got_v, &err), 0);
    for (int k = 0; k < NP; k++)
        assert_memory_equal(got_m[k], m2.p[k].data, ws_param_numel(&m2.p[k]) * sizeof(float));
    /* without the .optim.prev, a mismatched .optim is refused, the error about the .optim */
    meta.step = 12;
    assert_int_equal(ws_checkpoint_save(other, a.p, NP, &meta, c2, c2, &err), 0);
    assert_int_equal(rename(other_optim, optim), 0);
    assert_int_equal(ws_checkpoint_load(path, a.p, NP, NULL, got_m, got_v, &err), -1);
    expect_err(&err, "optimiser state of step 12 does not belong to the checkpoint of step 11");
    expect_err(&err, optim);
    /* and a .optim.prev that does not belong either changes nothing */
    meta.step = 13;
    assert_int_equal(ws_checkpoint_save(other, a.p, NP, &meta, c2, c2, &err), 0);
    assert_int_equal(rename(other_optim, prev), 0);
    assert_int_equal(ws_checkpoint_load(path, a.p, NP, NULL, got_m, got_v, &err), -1);
    expect_err(&err, "optimiser state of step 12 does not belong to the checkpoint of step 11");
    /* removing the checkpoint removes all three files; absent ones are no error */
    assert_int_equal(ws_checkpoint_remove(path, &err), 0);
    assert_int_equal(access(path, F_OK), -1);
    assert_int_equal(access(optim, F_OK), -1);
    assert_int_equal(access(prev, F_OK), -1);
    assert_int_equal(ws_checkpoint_remove(path, &err), 0);
    rm_rf(dir);
}

static void test_load_refusals(void **state)
{
    (void)state;
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir, "ws-ckpt");
    snprintf(path, sizeof path, "%s/c.ckpt", dir);
    model a;
    model_init(&a, 1.0f);
    ws_ckpt_meta meta = sample_meta();
    ws_err err;
    assert_int_equal(ws_checkpoint_save(path, a.p, 3, &meta, NULL, NULL, &err), 0); /* no head */

    model b;
    model_init(&b, 9.0f);
    model keep = b;
    ws_ckpt_meta got = {.step = 77};
    /* a parameter the file lacks: nothing is written, meta_out zeroed */
    assert_int_equal(ws_checkpoint_load(path, b.p, NP, &got, NULL, NULL, &err), -1);
    expect_err(&err, "c.ckpt: tensor 'head.weight' is missing");
    assert_memory_equal(b.emb, keep.emb, sizeof b.emb);
    assert_null(got.config);
    assert_int_equal(got.step, 0);
    /* a tensor that is no parameter */
    ws_param two[2] = {b.p[0], b.p[1]};
    assert_int_equal(ws_checkpoint_load(path, two, 2, NULL, NULL, NULL, &err), -1);
    expect_err(&err, "c.ckpt: unexpected tensor 'embeddings.LayerNorm.bias'");
    assert_memory_equal(b.emb, keep.emb, sizeof b.emb);
    /* a shape mismatch */
    ws_param three[3] = {b.p[0], b.p[1], b.p[2]};
    three[0].shape[0] = 3;
    three[0].shape[1] = 5;
    assert_int_equal(ws_checkpoint_load(path, three, 3, NULL, NULL, NULL, &err), -1);
    expect_err(&err, "tensor 'embeddings.word_embeddings.weight' has shape [5, 3], the model's "
                     "parameter 'embeddings.word_embeddings.weight' is [3, 5]");
    three[0].ndim = 1;
    three[0].shape[0] = 15;
    assert_int_equal(ws_checkpoint_load(path, three, 3, NULL, NULL, NULL, &err), -1);
    expect_err(&err, "has shape [5, 3], the model's parameter 'embeddings.word_embeddings.weight' is [15]");
    assert_memory_equal(b.emb, keep.emb, sizeof b.emb);
    /* duplicate parameter names, one-sided optimiser buffers */
    ws_param dup[2] = {b.p[1], b.p[1]};
    assert_int_equal(ws_checkpoint_load(path, dup, 2, NULL, NULL, NULL, &err), -1);
    expect_err(&err, "parameter name 'embeddings.LayerNorm.weight' appears twice");
    float *bufs[NP] = {0};
    assert_int_equal(ws_checkpoint_load(path, b.p, 3, NULL, bufs, NULL, &err), -1);
    expect_err(&err, "needs both adam_m and adam_v");
    /* optimiser state requested but never saved */
    float *ob[3] = {keep.emb, keep.ln_w, keep.ln_b};
    assert_int_equal(ws_checkpoint_load(path, b.p, 3, NULL, ob, ob, &err), -1);
    expect_err(&err, "c.ckpt.optim: cannot open");
    assert_memory_equal(b.emb, keep.emb, sizeof b.emb);
    /* and the right parameters load */
    assert_int_equal(ws_checkpoint_load(path, b.p, 3, NULL, NULL, NULL, &err), 0);
    assert_memory_equal(b.emb, a.emb, sizeof a.emb);

    /* a truncated checkpoint */
    size_t n;
    unsigned char *bytes = read_file(path, &n);
    write_file(path, bytes, n - 3);
    free(bytes);
    assert_int_equal(ws_checkpoint_load(path, b.p, 3, NULL, NULL, NULL, &err), -1);
    expect_err(&err, "c.ckpt: tensor ");
    expect_err(&err, "run past the end of the data");
    assert_int_equal(ws_checkpoint_read_meta(path, &got, &err), -1);
    assert_null(got.config);
    rm_rf(dir);
}

/* A byte flipped in either file's tensor data, a NaN or infinite weight, an .optim of another
 * run at the same step and seed: refused, the buffers untouched. Files from before checksums
 * (no "data_sha256", no "checkpoint_sha256") still load. */
static void test_damaged(void **state)
{
    (void)state;
    char dir[64], path[128], opath[160], other[128];
    make_tmpdir(dir, sizeof dir, "ws-ckpt");
    snprintf(path, sizeof path, "%s/d.ckpt", dir);
    snprintf(opath, sizeof opath, "%s.optim", path);
    snprintf(other, sizeof other, "%s/e.ckpt", dir);
    model a, mv, b;
    model_init(&a, 1.0f);
    model_init(&mv, 3.0f);
    const float *mom[NP];
    float *out[NP];
    for (int k = 0; k < NP; k++)
        mom[k] = mv.p[k].data;
    ws_ckpt_meta meta = sample_meta();
    ws_err err;
    assert_int_equal(ws_checkpoint_save(path, a.p, NP, &meta, mom, mom, &err), 0);
    model_init(&b, 9.0f);
    model keep = b;
    for (int k = 0; k < NP; k++)
        out[k] = b.p[k].data;
    assert_int_equal(ws_checkpoint_load(path, b.p, NP, NULL, out, out, &err), 0);

    size_t n, on;
    unsigned char *bytes = read_file(path, &n), *obytes = read_file(opath, &on);
    bytes[n - 5] ^= 0x01; /* a low mantissa bit of the last tensor: still a finite number */
    write_file(path, bytes, n);
    b = keep;
    assert_int_equal(ws_checkpoint_load(path, b.p, NP, NULL, NULL, NULL, &err), -1);
    expect_err(&err, "d.ckpt: the tensor data does not match its checksum");
    assert_memory_equal(b.emb, keep.emb, sizeof b.emb);
    bytes[n - 5] ^= 0x01;
    write_file(path, bytes, n);
    obytes[on - 5] ^= 0x01;
    write_file(opath, obytes, on);
    assert_int_equal(ws_checkpoint_load(path, b.p, NP, NULL, out, out, &err), -1);
    expect_err(&err, "d.ckpt.optim: the tensor data does not match its checksum");
    assert_memory_equal(b.emb, keep.emb, sizeof b.emb);
    obytes[on - 5] ^= 0x01;
    write_file(opath, obytes, on);

    /* non-finite weights, saved as they are, refused on loading with file and tensor */
    float bad[] = {NAN, INFINITY, -INFINITY};
    for (int i = 0; i < 3; i++) {
        model c;
        model_init(&c, 1.0f);
        c.head[4] = bad[i];
        assert_int_equal(ws_checkpoint_save(other, c.p, NP, &meta, NULL, NULL, &err), 0);
        assert_int_equal(ws_checkpoint_load(other, b.p, NP, NULL, NULL, NULL, &err), -1);
        expect_err(&err, "e.ckpt: tensor 'head.weight' holds a NaN or infinite value (element 4)");
        assert_memory_equal(b.head, keep.head, sizeof b.head);
    }
    model c;
    model_init(&c, 1.0f);
    c.ln_b[1] = NAN; /* in the optimiser state too */
    const float *mom_bad[NP] = {mom[0], mom[1], c.ln_b, mom[3]};
    assert_int_equal(ws_checkpoint_save(other, a.p, NP, &meta, mom_bad, mom, &err), 0);
    assert_int_equal(ws_checkpoint_load(other, b.p, NP, NULL, out, out, &err), -1);
    expect_err(&err, "e.ckpt.optim: tensor 'm.embeddings.LayerNorm.bias' holds a NaN");

    /* another run's .optim of the same step and seed */
    model_init(&c, 2.0f);
    assert_int_equal(ws_checkpoint_save(other, c.p, NP, &meta, mom, mom, &err), 0);
    char eopt[160];
    snprintf(eopt, sizeof eopt, "%s.optim", other);
    assert_int_equal(rename(opath, eopt), 0);
    assert_int_equal(ws_checkpoint_load(other, b.p, NP, NULL, out, out, &err), -1);
    expect_err(&err, "e.ckpt.optim: optimiser state saved with other weights than");
    assert_memory_equal(b.emb, keep.emb, sizeof b.emb);

    /* files from before checksums: the same tensors, no "data_sha256"; the .optim paired by
     * step and seed */
    for (int with_optim = 0; with_optim < 2; with_optim++) {
        ws_st_writer *w = ws_st_writer_new(&err);
        for (int k = 0; k < NP; k++) {
            char name[96];
            snprintf(name, sizeof name, "%s%s", with_optim ? (k % 2 ? "v." : "m.") : "", a.p[k].name);
            assert_int_equal(ws_st_writer_add(w, name, a.p[k].data, a.p[k].ndim, a.p[k].shape, &err), 0);
            if (with_optim) {
                snprintf(name, sizeof name, "%s%s", k % 2 ? "m." : "v.", a.p[k].name);
                assert_int_equal(ws_st_writer_add(w, name, a.p[k].data, a.p[k].ndim, a.p[k].shape, &err), 0);
            }
        }
        assert_int_equal(ws_st_writer_meta(w, "format", with_optim ? WS_OPTIM_FORMAT : WS_CKPT_FORMAT, &err), 0);
        if (!with_optim) {
            assert_int_equal(ws_st_writer_meta(w, "config", CONFIG, &err), 0);
            assert_int_equal(ws_st_writer_meta(w, "vocab_sha256", "", &err), 0);
        }
        assert_int_equal(ws_st_writer_meta(w, "step", "7", &err), 0);
        assert_int_equal(ws_st_writer_meta(w, "seed", "5", &err), 0);
        assert_int_equal(ws_st_writer_write(w, with_optim ? opath : path, &err), 0);
        ws_st_writer_free(w);
    }
    b = keep;
    if (ws_checkpoint_load(path, b.p, NP, NULL, out, out, &err))
        fail_msg("%s", err.msg);
    assert_memory_equal(b.emb, a.emb, sizeof a.emb);
    free(bytes);
    free(obytes);
    rm_rf(dir);
}

/* Files written straight with the safetensors writer: wrong or missing metadata. */
static void test_format_and_metadata_refusals(void **state)
{
    (void)state;
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir, "ws-ckpt");
    snprintf(path, sizeof path, "%s/x.safetensors", dir);
    const float one = 1.0f;
    struct {
        const char *kv[10];
        const char *needle;
    } cases[] = {
        {{NULL}, "no \"format\" metadata: not a webshop-rl-checkpoint file (a plain Hugging Face file loads with ws_checkpoint_load_hf)"},
        {{"format", "pt", NULL}, "metadata \"format\" is 'pt', expected 'webshop-rl-checkpoint'"},
        {{"format", WS_CKPT_FORMAT, "vocab_sha256", "", "step", "1", "seed", "2", NULL}, "no \"config\" metadata"},
        {{"format", WS_CKPT_FORMAT, "config", "{}", "step", "1", "seed", "2", NULL}, "no \"vocab_sha256\" metadata"},
        {{"format", WS_CKPT_FORMAT, "config", "[1]", "vocab_sha256", "", "step", "1", "seed", "2"}, "metadata \"config\" is not a JSON object"},
        {{"format", WS_CKPT_FORMAT, "config", "{", "vocab_sha256", "", "step", "1", "seed", "2"}, "metadata \"config\" is not a JSON object"},
        {{"format", WS_CKPT_FORMAT, "config", "{}", "vocab_sha256", "", "seed", "2", NULL}, "no \"step\" metadata"},
        {{"format", WS_CKPT_FORMAT, "config", "{}", "vocab_sha256", "", "step", "12a", "seed", "2"}, "metadata \"step\" is not a non-negative integer: '12a'"},
        {{"format", WS_CKPT_FORMAT, "config", "{}", "vocab_sha256", "", "step", "-1", "seed", "2"}, "metadata \"step\" is not a non-negative integer"},
        {{"format", WS_CKPT_FORMAT, "config", "{}", "vocab_sha256", "", "step", "9223372036854775808", "seed", "2"}, "metadata \"step\" is not a non-negative integer"},
        {{"format", WS_CKPT_FORMAT, "config", "{}", "vocab_sha256", "", "step", "1", "seed", "18446744073709551616"}, "metadata \"seed\" is not a non-negative integer"},
        {{"format", WS_CKPT_FORMAT, "config", "{}", "vocab_sha256", "", "step", "1", "seed", ""}, "metadata \"seed\" is not a non-negative integer"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        ws_err err;
        ws_st_writer *w = ws_st_writer_new(&err);
        assert_int_equal(ws_st_writer_add(w, "s", &one, 0, NULL, &err), 0);
        for (int i = 0; i < 10 && cases[c].kv[i]; i += 2)
            assert_int_equal(ws_st_writer_meta(w, cases[c].kv[i], cases[c].kv[i + 1], &err), 0);
        assert_int_equal(ws_st_writer_write(w, path, &err), 0);
        ws_st_writer_free(w);
        ws_ckpt_meta got;
        assert_int_equal(ws_checkpoint_read_meta(path, &got, &err), -1);
        expect_err(&err, cases[c].needle);
        expect_err(&err, path);
        float x = 0;
        ws_param p = {"s", &x, 0, {0}};
        assert_int_equal(ws_checkpoint_load(path, &p, 1, NULL, NULL, NULL, &err), -1);
        expect_err(&err, cases[c].needle);
        assert_true(x == 0);
    }
    rm_rf(dir);
}

static void test_save_refusals(void **state)
{
    (void)state;
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir, "ws-ckpt");
    snprintf(path, sizeof path, "%s/s.ckpt", dir);
    model a;
    model_init(&a, 1.0f);
    ws_err err;
    ws_ckpt_meta meta = sample_meta();
    ws_kv bad_extra[] = {{"step", "5"}};
    meta.extra = bad_extra;
    meta.n_extra = 1;
    assert_int_equal(ws_checkpoint_save(path, a.p, NP, &meta, NULL, NULL, &err), -1);
    expect_err(&err, "extra metadata 'step' is a reserved key");
    meta = sample_meta();
    meta.config = "not json";
    assert_int_equal(ws_checkpoint_save(path, a.p, NP, &meta, NULL, NULL, &err), -1);
    expect_err(&err, "the model configuration is not a JSON object");
    meta.config = NULL;
    assert_int_equal(ws_checkpoint_save(path, a.p, NP, &meta, NULL, NULL, &err), -1);
    expect_err(&err, "no model configuration");
    meta = sample_meta();
    meta.step = -1;
    assert_int_equal(ws_checkpoint_save(path, a.p, NP, &meta, NULL, NULL, &err), -1);
    expect_err(&err, "negative step");
    meta = sample_meta();
    ws_param dup[2] = {a.p[0], a.p[0]};
    assert_int_equal(ws_checkpoint_save(path, dup, 2, &meta, NULL, NULL, &err), -1);
    expect_err(&err, "parameter name 'embeddings.word_embeddings.weight' appears twice");
    ws_param noname = a.p[0];
    noname.name = "";
    assert_int_equal(ws_checkpoint_save(path, &noname, 1, &meta, NULL, NULL, &err), -1);
    expect_err(&err, "parameter 0 has no name");
    ws_param fived = a.p[0];
    fived.ndim = 5;
    assert_int_equal(ws_checkpoint_save(path, &fived, 1, &meta, NULL, NULL, &err), -1);
    expect_err(&err, "5 dimensions");
    const float *m[NP] = {a.emb, a.ln_w, a.ln_b, a.head};
    assert_int_equal(ws_checkpoint_save(path, a.p, NP, &meta, m, NULL, &err), -1);
    expect_err(&err, "needs both adam_m and adam_v");
    const float *holes[NP] = {a.emb, NULL, a.ln_b, a.head};
    assert_int_equal(ws_checkpoint_save(path, a.p, NP, &meta, m, holes, &err), -1);
    expect_err(&err, "no optimiser state for parameter 'embeddings.LayerNorm.weight'");
    assert_int_equal(access(path, F_OK), -1); /* no failure left a file */
    /* a vocab hash of NULL is written as "" */
    meta.vocab_sha256 = NULL;
    meta.n_extra = 0;
    assert_int_equal(ws_checkpoint_save(path, a.p, NP, &meta, NULL, NULL, &err), 0);
    ws_ckpt_meta got;
    assert_int_equal(ws_checkpoint_read_meta(path, &got, &err), 0);
    assert_string_equal(got.vocab_sha256, "");
    assert_int_equal(got.n_extra, 0);
    assert_null(got.extra);
    ws_ckpt_meta_free(&got);
    rm_rf(dir);
}

/* A Hugging Face BertModel-style file built by hand: F16 word embeddings of 6 rows (the
 * model has 8: WebShop's added tokens), legacy LayerNorm gamma/beta names, a BF16 pooler,
 * I64 position ids, all under "bert.". */
static unsigned char *hf_file(size_t *n)
{
    const char *header =
        "{\"__metadata__\":{\"format\":\"pt\"},"
        "\"bert.embeddings.position_ids\":{\"dtype\":\"I64\",\"shape\":[1,2],\"data_offsets\":[0,16]},"
        "\"bert.embeddings.LayerNorm.gamma\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[16,24]},"
        "\"bert.embeddings.LayerNorm.beta\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[24,32]},"
        "\"bert.embeddings.word_embeddings.weight\":{\"dtype\":\"F16\",\"shape\":[6,2],\"data_offsets\":[32,56]},"
        "\"bert.pooler.dense.weight\":{\"dtype\":\"BF16\",\"shape\":[2,2],\"data_offsets\":[56,64]}}";
    size_t h = strlen(header), len = 8 + h + 64;
    unsigned char *buf = calloc(1, len);
    for (int i = 0; i < 8; i++)
        buf[i] = (unsigned char)((uint64_t)h >> (8 * i));
    memcpy(buf + 8, header, h);
    unsigned char *d = buf + 8 + h;
    d[0] = 0; /* position ids 0, 1 */
    d[8] = 1;
    float ln[4] = {1.5f, -2.0f, 0.25f, 0.5f};
    memcpy(d + 16, ln, 16); /* little-endian host */
    for (int i = 0; i < 12; i++) { /* F16 value i: small integers are exact */
        uint16_t hv = i == 0 ? 0 : 0x3c00; /* 1.0 */
        if (i > 1) { /* i = 2^e * (1 + f): build exactly */
            int e = 0;
            while ((2 << e) <= i)
                e++;
            hv = (uint16_t)((e + 15) << 10 | ((i - (1 << e)) << (10 - e)));
        }
        d[32 + 2 * i] = (unsigned char)hv;
        d[33 + 2 * i] = (unsigned char)(hv >> 8);
    }
    uint16_t bf = 0x4000; /* 2.0 */
    for (int i = 0; i < 4; i++) {
        d[56 + 2 * i] = (unsigned char)bf;
        d[57 + 2 * i] = (unsigned char)(bf >> 8);
    }
    *n = len;
    return buf;
}

static void test_load_hf(void **state)
{
    (void)state;
    char dir[64], path[128];
    make_tmpdir(dir, sizeof dir, "ws-ckpt");
    snprintf(path, sizeof path, "%s/model.safetensors", dir);
    size_t n;
    unsigned char *bytes = hf_file(&n);
    write_file(path, bytes, n);
    free(bytes);

    float emb[8 * 2], lnw[2], lnb[2], head[3];
    for (int i = 0; i < 16; i++)
        emb[i] = -1.0f;
    lnw[0] = lnw[1] = lnb[0] = lnb[1] = head[0] = head[1] = head[2] = -1.0f;
    ws_param p[4] = {
        {"embeddings.word_embeddings.weight", emb, 2, {8, 2}},
        {"embeddings.LayerNorm.weight", lnw, 1, {2}},
        {"embeddings.LayerNorm.bias", lnb, 1, {2}},
        {"action_head.weight", head, 1, {3}},
    };
    ws_err err;
    size_t loaded = 99;
    /* strict: the first problem in parameter order, the embeddings have 6 rows, the model 8 */
    assert_int_equal(ws_checkpoint_load_hf(path, p, 4, NULL, &loaded, &err), -1);
    expect_err(&err, "tensor 'bert.embeddings.word_embeddings.weight' has shape [6, 2], the model's "
                     "parameter 'embeddings.word_embeddings.weight' is [8, 2]");
    assert_int_equal(loaded, 0);
    ws_hf_load_opts o = {.allow_fewer_rows = 1};
    /* then the model's head is missing */
    assert_int_equal(ws_checkpoint_load_hf(path, p, 4, &o, NULL, &err), -1);
    expect_err(&err, "tensor 'bert.action_head.weight' is missing");
    o.allow_missing = 1;
    /* the pooler and position ids are no parameters */
    assert_int_equal(ws_checkpoint_load_hf(path, p, 4, &o, NULL, &err), -1);
    expect_err(&err, "unexpected tensor 'bert.embeddings.position_ids'");
    assert_true(emb[0] == -1.0f && lnw[0] == -1.0f); /* nothing written yet */
    o.allow_unused = 1;
    if (ws_checkpoint_load_hf(path, p, 4, &o, &loaded, &err))
        fail_msg("%s", err.msg);
    assert_int_equal(loaded, 3);
    for (int i = 0; i < 12; i++)
        assert_true(emb[i] == (float)i);
    for (int i = 12; i < 16; i++)
        assert_true(emb[i] == -1.0f); /* the added rows keep their values */
    assert_true(lnw[0] == 1.5f && lnw[1] == -2.0f);   /* from LayerNorm.gamma */
    assert_true(lnb[0] == 0.25f && lnb[1] == 0.5f);   /* from LayerNorm.beta */
    assert_true(head[0] == -1.0f && head[2] == -1.0f); /* missing: untouched */

    /* an explicit wrong prefix finds nothing */
    o.prefix = "roberta.";
    assert_int_equal(ws_checkpoint_load_hf(path, p, 3, &o, &loaded, &err), 0);
    assert_int_equal(loaded, 0);
    /* an explicit prefix, a parameter matched to a tensor that is not float */
    ws_param pos = {"embeddings.position_ids", emb, 2, {1, 2}};
    o.prefix = "bert.";
    assert_int_equal(ws_checkpoint_load_hf(path, &pos, 1, &o, &loaded, &err), -1);
    expect_err(&err, "tensor 'bert.embeddings.position_ids' has dtype I64, which cannot be read as float");
    /* the BF16 pooler loads under a prefix-free name when the prefix is "" */
    float pool[4];
    ws_param pp = {"bert.pooler.dense.weight", pool, 2, {2, 2}};
    o.prefix = "";
    assert_int_equal(ws_checkpoint_load_hf(path, &pp, 1, &o, &loaded, &err), 0);
    assert_int_equal(loaded, 1);
    assert_true(pool[0] == 2.0f && pool[3] == 2.0f);
    rm_rf(dir);
}

static void test_numel(void **state)
{
    (void)state;
    ws_param s = {"s", NULL, 0, {0}};
    assert_int_equal(ws_param_numel(&s), 1);
    ws_param t = {"t", NULL, 3, {2, 3, 4}};
    assert_int_equal(ws_param_numel(&t), 24);
    ws_param z = {"z", NULL, 2, {0, 4}};
    assert_int_equal(ws_param_numel(&z), 0);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_roundtrip_with_optimizer),
        cmocka_unit_test(test_deterministic_and_stale_optim),
        cmocka_unit_test(test_save_interrupted_between_files),
        cmocka_unit_test(test_load_refusals),
        cmocka_unit_test(test_damaged),
        cmocka_unit_test(test_format_and_metadata_refusals),
        cmocka_unit_test(test_save_refusals),
        cmocka_unit_test(test_load_hf),
        cmocka_unit_test(test_numel),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
