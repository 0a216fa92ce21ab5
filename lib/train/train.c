#include "train.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bigmem.h"
#include "grow.h"
#include "rng.h"
#include "schemas.h"
#include "stream.h"

static int read_ids(json_t *arr, int vocab_size, int max_len, int32_t **out, int *n, const char *where,
                    const char *what, ws_err *err)
{
    if (!json_is_array(arr) || json_array_size(arr) == 0)
        return ws_fail(err, "%s: \"%s\" must be a non-empty list of token ids", where, what);
    size_t k = json_array_size(arr);
    if (k > (size_t)max_len)
        return ws_fail(err, "%s: \"%s\" has %zu tokens, more than the model's %d positions", where, what, k, max_len);
    int32_t *ids = malloc(k * sizeof *ids);
    if (!ids)
        return ws_fail(err, "%s: out of memory", where);
    for (size_t i = 0; i < k; i++) {
        json_t *v = json_array_get(arr, i);
        if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= vocab_size) {
            free(ids);
            return ws_fail(err, "%s: %s[%zu] is not a token id in [0, %d)", where, what, i, vocab_size);
        }
        ids[i] = (int32_t)json_integer_value(v);
    }
    *out = ids;
    *n = (int)k;
    return 0;
}

static void item_free(ws_decision_data *it)
{
    free(it->state);
    for (int j = 0; j < it->n_actions && it->actions; j++)
        free(it->actions[j]);
    free(it->actions);
    free(it->action_len);
}

static int label(json_t *rec, const char *key, int n_actions, int *out, const char *where, ws_err *err)
{
    json_t *v = json_object_get(rec, key);
    *out = -1;
    if (!v)
        return 0;
    if (!json_is_integer(v) || json_integer_value(v) < 0 || json_integer_value(v) >= n_actions)
        return ws_fail(err, "%s: \"%s\" must index one of the %d actions", where, key, n_actions);
    *out = (int)json_integer_value(v);
    return 0;
}

static int parse_item(ws_decision_data *it, json_t *rec, int need, int vocab_size, int max_len, const char *where,
                      ws_err *err)
{
    memset(it, 0, sizeof *it);
    it->goal_id = (long)json_integer_value(json_object_get(rec, "goal_id"));
    if (read_ids(json_object_get(rec, "state"), vocab_size, max_len, &it->state, &it->state_len, where, "state", err))
        return -1;
    json_t *acts = json_object_get(rec, "actions");
    if (!json_is_array(acts) || json_array_size(acts) == 0)
        return ws_fail(err, "%s: \"actions\" must be a non-empty list", where);
    int k = (int)json_array_size(acts);
    it->actions = calloc((size_t)k, sizeof *it->actions);
    it->action_len = calloc((size_t)k, sizeof *it->action_len);
    if (!it->actions || !it->action_len)
        return ws_fail(err, "%s: out of memory", where);
    it->n_actions = k;
    for (int j = 0; j < k; j++) {
        char what[32];
        snprintf(what, sizeof what, "actions[%d]", j);
        if (read_ids(json_array_get(acts, (size_t)j), vocab_size, max_len, &it->actions[j], &it->action_len[j], where, what, err))
            return -1;
    }
    if (label(rec, "target", k, &it->target, where, err) || label(rec, "chosen", k, &it->chosen, where, err) ||
        label(rec, "rejected", k, &it->rejected, where, err))
        return -1;
    if ((need & WS_NEED_TARGET) && it->target < 0)
        return ws_fail(err, "%s: no \"target\" action (imitation needs tokenized trajectories)", where);
    if ((need & WS_NEED_PAIR) && (it->chosen < 0 || it->rejected < 0 || it->chosen == it->rejected))
        return ws_fail(err, "%s: needs distinct \"chosen\" and \"rejected\" actions (tokenized pairs)", where);
    json_t *rc = json_object_get(rec, "ref_logp_chosen"), *rr = json_object_get(rec, "ref_logp_rejected");
    it->has_ref = json_is_number(rc) && json_is_number(rr);
    json_t *kind = json_object_get(rec, "kind");
    ws_decision_kind k_;
    it->kind = -1;
    if (kind) {
        if (!json_is_string(kind) || ws_decision_kind_parse(json_string_value(kind), &k_))
            return ws_fail(err, "%s: \"kind\" must be one of search, results, option, buy, navigation", where);
        it->kind = (int)k_;
    }
    it->ref_logp_chosen = json_number_value(rc);
    it->ref_logp_rejected = json_number_value(rr);
    return 0;
}

int ws_dataset_load(ws_dataset *d, const char *const *paths, int n_paths, int need, int vocab_size, int max_len,
                    ws_err *err)
{
    memset(d, 0, sizeof *d);
    ws_reader_opts ro = {.type = "tokens", .version = WS_TOKENS_VERSION};
    for (int p = 0; p < (n_paths ? n_paths : 1); p++) {
        const char *path = n_paths ? paths[p] : "-";
        ws_reader *r = ws_reader_open(path, &ro, err);
        if (!r)
            goto fail;
        json_t *rec;
        int rc;
        while ((rc = ws_reader_next(r, &rec, err)) == WS_RECORD) {
            ws_decision_data *items = ws_grow(d->items, &d->cap, d->n + 1, sizeof *items, 1024);
            if (!items) {
                json_decref(rec);
                ws_reader_close(r);
                ws_fail(err, "out of memory");
                goto fail;
            }
            d->items = items;
            char where[512];
            snprintf(where, sizeof where, "%s:%ld", ws_reader_name(r), ws_reader_line(r));
            ws_decision_data *it = &d->items[d->n++];
            int bad = parse_item(it, rec, need, vocab_size, max_len, where, err);
            const char *vh = json_string_value(json_object_get(rec, "vocab_sha256"));
            if (!bad && vh) {
                if (!d->vocab_sha256[0])
                    snprintf(d->vocab_sha256, sizeof d->vocab_sha256, "%s", vh);
                else if (strcmp(d->vocab_sha256, vh) != 0)
                    bad = ws_fail(err, "%s: tokenized with another vocabulary than the records before", where);
            }
            /* one set of pairs measures against one reference: a mix of two is a mistake */
            const char *rh = json_string_value(json_object_get(rec, "ref_sha256"));
            if (!bad && rh) {
                if (!d->ref_sha256[0])
                    snprintf(d->ref_sha256, sizeof d->ref_sha256, "%s", rh);
                else if (strcmp(d->ref_sha256, rh) != 0)
                    bad = ws_fail(err, "%s: reference log-probabilities of another checkpoint (ref_sha256 %.12s...) "
                                       "than the records before (%.12s...)", where, rh, d->ref_sha256);
            }
            json_decref(rec);
            if (bad) {
                ws_reader_close(r);
                goto fail;
            }
            if (need == WS_NEED_TARGET && it->n_actions < 2) {
                item_free(it);
                d->n--;
                d->n_forced++;
                continue;
            }
            d->tokens += (size_t)it->state_len;
            for (int j = 0; j < it->n_actions; j++)
                d->tokens += (size_t)it->action_len[j];
        }
        ws_reader_close(r);
        d->n_visits = d->n;
        if (rc != WS_EOF) {
            if (rc == WS_INTERRUPTED)
                ws_fail(err, "%s: interrupted", path);
            goto fail;
        }
    }
    return 0;
fail:
    ws_dataset_free(d);
    return -1;
}

void ws_dataset_free(ws_dataset *d)
{
    for (size_t i = 0; i < d->n; i++)
        item_free(&d->items[i]);
    free(d->items);
    free(d->visits);
    memset(d, 0, sizeof *d);
}

int ws_dataset_append(ws_dataset *d, ws_dataset *from, ws_err *err)
{
    if (d->visits || from->visits)
        return ws_fail(err, "datasets are joined before oversampling");
    if (d->vocab_sha256[0] && from->vocab_sha256[0] && strcmp(d->vocab_sha256, from->vocab_sha256) != 0)
        return ws_fail(err, "tokenized with another vocabulary (vocab_sha256 %.12s...) than the records before "
                            "(%.12s...)", from->vocab_sha256, d->vocab_sha256);
    if (d->n + from->n > d->cap) {
        ws_decision_data *items = realloc(d->items, (d->n + from->n) * sizeof *items);
        if (!items)
            return ws_fail(err, "out of memory");
        d->items = items;
        d->cap = d->n + from->n;
    }
    if (from->n)
        memcpy(d->items + d->n, from->items, from->n * sizeof *from->items);
    d->n += from->n;
    d->n_visits = d->n;
    d->tokens += from->tokens;
    d->n_forced += from->n_forced;
    if (!d->vocab_sha256[0])
        memcpy(d->vocab_sha256, from->vocab_sha256, sizeof d->vocab_sha256);
    if (!d->ref_sha256[0])
        memcpy(d->ref_sha256, from->ref_sha256, sizeof d->ref_sha256);
    from->n = 0;
    ws_dataset_free(from);
    return 0;
}

int ws_dataset_oversample(ws_dataset *d, const int *repeat, ws_err *err)
{
    size_t n_visits = 0, unknown = 0;
    int all_once = 1;
    for (int k = 0; k < WS_N_DECISION_KINDS; k++) {
        if (repeat[k] < 1)
            return ws_fail(err, "oversampling %s decisions %d times: at least once", ws_decision_kind_name(k), repeat[k]);
        all_once &= repeat[k] == 1;
    }
    if (all_once)
        return 0;
    for (size_t i = 0; i < d->n; i++) {
        if (d->items[i].kind < 0)
            unknown++;
        else
            n_visits += (size_t)repeat[d->items[i].kind];
    }
    if (unknown)
        return ws_fail(err, "%zu of %zu records do not say their decision \"kind\" (tokenize them again) and "
                            "cannot be oversampled by kind", unknown, d->n);
    size_t *visits = malloc(n_visits * sizeof *visits), v = 0;
    if (!visits)
        return ws_fail(err, "out of memory");
    for (size_t i = 0; i < d->n; i++)
        for (int r = 0; r < repeat[d->items[i].kind]; r++)
            visits[v++] = i;
    free(d->visits);
    d->visits = visits;
    d->n_visits = n_visits;
    return 0;
}

void ws_dataset_epoch_order(const ws_dataset *d, uint64_t seed, long epoch, size_t *order)
{
    ws_rng rng;
    ws_rng_seed(&rng, seed * 1000003u + (uint64_t)epoch, "epoch-order");
    for (size_t i = 0; i < d->n_visits; i++)
        order[i] = d->visits ? d->visits[i] : i;
    ws_rng_shuffle(&rng, order, d->n_visits);
}

const ws_batch *ws_batch_build(ws_batch_builder *bb, const ws_dataset *d, const size_t *idx, int n, ws_err *err)
{
    size_t acts = 0;
    for (int i = 0; i < n; i++)
        acts += (size_t)d->items[idx[i]].n_actions;
    if ((size_t)n > bb->cap_dec) {
        size_t cap = (size_t)n * 2;
        const int32_t **s = realloc(bb->state_ids, cap * sizeof *s);
        if (s)
            bb->state_ids = s;
        int *sl = s ? realloc(bb->state_len, cap * sizeof *sl) : NULL;
        if (sl)
            bb->state_len = sl;
        int *na = sl ? realloc(bb->n_actions, cap * sizeof *na) : NULL;
        if (!na)
            return ws_fail(err, "out of memory"), NULL;
        bb->n_actions = na;
        bb->cap_dec = cap;
    }
    if (acts > bb->cap_act) {
        size_t cap = acts * 2;
        const int32_t **a = realloc(bb->action_ids, cap * sizeof *a);
        if (a)
            bb->action_ids = a;
        int *al = a ? realloc(bb->action_len, cap * sizeof *al) : NULL;
        if (!al)
            return ws_fail(err, "out of memory"), NULL;
        bb->action_len = al;
        bb->cap_act = cap;
    }
    size_t a = 0;
    for (int i = 0; i < n; i++) {
        const ws_decision_data *it = &d->items[idx[i]];
        bb->state_ids[i] = it->state;
        bb->state_len[i] = it->state_len;
        bb->n_actions[i] = it->n_actions;
        for (int j = 0; j < it->n_actions; j++, a++) {
            bb->action_ids[a] = it->actions[j];
            bb->action_len[a] = it->action_len[j];
        }
    }
    bb->batch = (ws_batch){n, bb->state_ids, bb->state_len, bb->n_actions, bb->action_ids, bb->action_len};
    return &bb->batch;
}

void ws_batch_builder_free(ws_batch_builder *bb)
{
    free(bb->state_ids);
    free(bb->action_ids);
    free(bb->state_len);
    free(bb->n_actions);
    free(bb->action_len);
    memset(bb, 0, sizeof *bb);
}

int ws_trainer_init(ws_trainer *t, ws_model *m, const ws_adamw_opts *adam, const ws_lr_schedule *schedule,
                    double clip, double head_lr_scale, ws_err *err)
{
    memset(t, 0, sizeof *t);
    if (ws_adamw_check(adam, err) || ws_lr_check(schedule, err))
        return -1;
    if (!(head_lr_scale >= 0 && isfinite(head_lr_scale)))
        return ws_fail(err, "the head's learning-rate scale %g must be finite and non-negative", head_lr_scale);
    const ws_backend *be = ws_model_backend(m);
    size_t n = ws_model_n_tensors(m), np = ws_model_n_params(m);
    t->model = m;
    t->be = be;
    t->adam = *adam;
    t->schedule = *schedule;
    t->clip = clip;
    t->n_tensors = n;
    t->lazy = n;
    t->rows_from = -1;
    t->adam_m = ws_calloc_big(np, sizeof *t->adam_m);
    t->adam_v = ws_calloc_big(np, sizeof *t->adam_v);
    t->on_host = ws_model_device_params(m) == ws_model_params(m);
    if (t->on_host) {
        t->dev_m = t->adam_m;
        t->dev_v = t->adam_v;
    } else {
        t->dev_m = be->alloc(be, np * sizeof *t->dev_m);
        t->dev_v = be->alloc(be, np * sizeof *t->dev_v);
    }
    t->params = calloc(n, sizeof *t->params);
    t->grads = calloc(n, sizeof *t->grads);
    t->m = calloc(n, sizeof *t->m);
    t->v = calloc(n, sizeof *t->v);
    t->numel = calloc(n, sizeof *t->numel);
    t->decay = calloc(n, sizeof *t->decay);
    t->lr_scale = calloc(n, sizeof *t->lr_scale);
    if (!t->adam_m || !t->adam_v || !t->dev_m || !t->dev_v || !t->params || !t->grads || !t->m || !t->v ||
        !t->numel || !t->decay || !t->lr_scale) {
        ws_trainer_free(t);
        return ws_fail(err, "out of memory for the optimiser state");
    }
    for (size_t i = 0; i < n; i++) {
        const ws_tensor *tt = ws_model_tensor(m, i);
        t->params[i] = ws_model_device_params(m) + tt->offset;
        t->grads[i] = ws_model_device_grads(m) + tt->offset;
        t->m[i] = t->dev_m + tt->offset;
        t->v[i] = t->dev_v + tt->offset;
        t->numel[i] = tt->numel;
        t->decay[i] = (unsigned char)tt->decay;
        t->lr_scale[i] = ws_tensor_is_head(tt) ? head_lr_scale : 1.0;
    }
    if (ws_trainer_lazy_rows(t, 1, err)) {
        ws_trainer_free(t);
        return -1;
    }
    return 0;
}

/* The word embeddings' rows updated late (ws_trainer in train.h). */
static const char LAZY_TENSOR[] = "embeddings.word_embeddings.weight";

static int lazy_on(const ws_trainer *t)
{
    return t->lazy < t->n_tensors;
}

/* Row r's updates missed through update `through` (<= step), replayed in order. */
static void catch_up(ws_trainer *t, size_t r, int64_t through)
{
    int64_t done = t->row_step[r];
    if (done >= through)
        return;
    size_t width = (size_t)t->lazy_width, at = r * width;
    ws_adamw_replay_zero(t->missed + (done - t->rows_from), (size_t)(through - done), t->params[t->lazy] + at,
                         t->m[t->lazy] + at, t->v[t->lazy] + at, width);
    t->row_step[r] = through;
}

static void catch_up_all(ws_trainer *t)
{
    if (!lazy_on(t) || t->rows_from < 0)
        return;
#pragma omp parallel for schedule(dynamic, 64)
    for (int r = 0; r < t->lazy_rows; r++)
        catch_up(t, (size_t)r, t->step);
    t->rows_from = t->step; /* every row current: the record of missed steps starts again */
}

/* The model's read hook: the batch's rows up to date before its forward reads them. Each row
 * behind is listed once (a batch repeats tokens), then the rows catch up over the threads: a
 * row back after hundreds of steps replays them all. */
static void catch_up_read(void *arg, const int32_t *ids, size_t n)
{
    ws_trainer *t = arg;
    if (!lazy_on(t) || t->rows_from < 0)
        return;
    size_t behind = 0;
    for (size_t i = 0; i < n; i++) {
        int32_t r = ids[i];
        if (t->row_step[r] < t->step && !t->row_listed[r]) {
            t->row_listed[r] = 1;
            t->rows_behind[behind++] = r;
        }
    }
#pragma omp parallel for schedule(dynamic, 4) if (behind > 16)
    for (size_t i = 0; i < behind; i++) {
        catch_up(t, (size_t)t->rows_behind[i], t->step);
        t->row_listed[t->rows_behind[i]] = 0;
    }
}

/* Room for the factors of update step + 1, every row's count starting from the current step
 * the first time (after a resume has set it). Every LAZY_SPAN updates all rows catch up: what a
 * save has to replay first stays bounded (a save on SIGINT under mpirun has about a second),
 * and so does the record of missed steps. */
enum { LAZY_SPAN = 64 };
static int lazy_prepare(ws_trainer *t, ws_err *err)
{
    if (t->rows_from >= 0 && t->step - t->rows_from >= LAZY_SPAN)
        catch_up_all(t);
    if (t->rows_from < 0) {
        for (int r = 0; r < t->lazy_rows; r++)
            t->row_step[r] = t->step;
        t->rows_from = t->step;
    }
    size_t need = (size_t)(t->step + 1 - t->rows_from);
    if (need > t->missed_cap) {
        size_t cap = need > 2 * t->missed_cap ? need : 2 * t->missed_cap;
        ws_adamw_factors *grown = realloc(t->missed, cap * sizeof *grown);
        if (!grown)
            return ws_fail(err, "out of memory for the optimiser's record of its steps");
        t->missed = grown;
        t->missed_cap = cap;
    }
    return 0;
}

static int row_is_zero(const float *g, size_t n)
{
    int nonzero = 0;
    for (size_t i = 0; i < n; i++)
        nonzero |= g[i] != 0;
    return !nonzero;
}

/* Update step + 1 of the lazy tensor: rows with a gradient catch up and take it; the others
 * only record the step's factors. Only the rows the model says the backward wrote (sorted) are
 * looked at where it knows them (grad_rows, n_grad_rows), else all. */
static void lazy_update(ws_trainer *t, double lr, float grad_scale, const int32_t *grad_rows, size_t n_grad_rows)
{
    size_t lz = t->lazy, width = (size_t)t->lazy_width;
    ws_adamw_factors f = ws_adamw_factors_at(&t->adam, lr * t->lr_scale[lz], t->step + 1, t->decay[lz]);
    t->missed[t->step - t->rows_from] = f;
    long n_rows = grad_rows ? (long)n_grad_rows : t->lazy_rows;
#pragma omp parallel for schedule(dynamic, 64)
    for (long i = 0; i < n_rows; i++) {
        int r = grad_rows ? grad_rows[i] : (int)i;
        size_t at = (size_t)r * width;
        if (row_is_zero(t->grads[lz] + at, width))
            continue;
        catch_up(t, (size_t)r, t->step);
        ws_adamw_apply(&f, t->params[lz] + at, t->grads[lz] + at, grad_scale, t->m[lz] + at, t->v[lz] + at, width);
        t->row_step[r] = t->step + 1;
    }
}

int ws_trainer_lazy_rows(ws_trainer *t, int on, ws_err *err)
{
    const ws_tensor *emb = on && ws_backend_on_host(t->be) ? ws_model_find_tensor(t->model, LAZY_TENSOR) : NULL;
    if (!emb || emb->ndim != 2) {
        catch_up_all(t);
        t->lazy = t->n_tensors;
        t->rows_from = -1;
        ws_model_set_read_hook(t->model, NULL, NULL);
        return 0;
    }
    if (lazy_on(t))
        return 0;
    size_t rows = (size_t)emb->shape[0];
    free(t->row_step);
    free(t->rows_behind);
    free(t->row_listed);
    free(t->numel_eager);
    t->row_step = malloc(rows * sizeof *t->row_step);
    t->rows_behind = malloc(rows * sizeof *t->rows_behind);
    t->row_listed = calloc(rows, sizeof *t->row_listed);
    t->numel_eager = malloc(t->n_tensors * sizeof *t->numel_eager);
    if (!t->row_step || !t->rows_behind || !t->row_listed || !t->numel_eager)
        return ws_fail(err, "out of memory for the optimiser's embedding rows");
    t->lazy = (size_t)(emb - ws_model_tensor(t->model, 0));
    t->lazy_rows = (int)rows;
    t->lazy_width = (int)emb->shape[1];
    t->rows_from = -1;
    memcpy(t->numel_eager, t->numel, t->n_tensors * sizeof *t->numel_eager);
    t->numel_eager[t->lazy] = 0;
    ws_model_set_read_hook(t->model, catch_up_read, t);
    return 0;
}

void ws_trainer_free(ws_trainer *t)
{
    if (t->model && lazy_on(t))
        ws_model_set_read_hook(t->model, NULL, NULL);
    free(t->row_step);
    free(t->rows_behind);
    free(t->row_listed);
    free(t->missed);
    free(t->numel_eager);
    if (!t->on_host && t->be) {
        if (t->dev_m)
            t->be->free(t->be, t->dev_m);
        if (t->dev_v)
            t->be->free(t->be, t->dev_v);
    }
    ws_free_big(t->adam_m);
    ws_free_big(t->adam_v);
    free(t->params);
    free(t->grads);
    free(t->m);
    free(t->v);
    free(t->numel);
    free(t->decay);
    free(t->lr_scale);
    memset(t, 0, sizeof *t);
}

int ws_trainer_state_to_host(ws_trainer *t, ws_err *err)
{
    catch_up_all(t);
    if (t->on_host)
        return 0;
    size_t bytes = ws_model_n_params(t->model) * sizeof *t->adam_m;
    t->be->download(t->be, t->adam_m, t->dev_m, bytes);
    t->be->download(t->be, t->adam_v, t->dev_v, bytes);
    return t->be->status(t->be, err);
}

int ws_trainer_state_to_device(ws_trainer *t, ws_err *err)
{
    t->rows_from = -1; /* the state loaded is complete: every row counts from the step set next */
    if (t->on_host)
        return 0;
    size_t bytes = ws_model_n_params(t->model) * sizeof *t->adam_m;
    t->be->upload(t->be, t->dev_m, t->adam_m, bytes);
    t->be->upload(t->be, t->dev_v, t->adam_v, bytes);
    return t->be->status(t->be, err);
}

int ws_trainer_update(ws_trainer *t, double *grad_norm, double *lr, ws_err *err)
{
    size_t n_grad_rows = 0;
    const int32_t *grad_rows = lazy_on(t) ? ws_model_grad_rows(t->model, &n_grad_rows) : NULL;
    const ws_sparse_rows sparse = {.tensor = t->lazy, .width = (size_t)t->lazy_width, .n_rows = n_grad_rows,
                                   .rows = grad_rows};
    *grad_norm = ws_grad_norm(t->be, (const float *const *)t->grads, t->numel, t->n_tensors, grad_rows ? &sparse : NULL);
    *lr = ws_lr_at(&t->schedule, t->step);
    if (!isfinite(*grad_norm))
        return ws_fail(err, "step %lld: the gradient norm is %g: update skipped", (long long)t->step + 1, *grad_norm);
    float grad_scale = ws_clip_factor(*grad_norm, t->clip);
    if ((lazy_on(t) && lazy_prepare(t, err)) ||
        ws_adamw_step(t->be, &t->adam, *lr, t->step + 1, t->params, (const float *const *)t->grads, grad_scale, t->m,
                      t->v, lazy_on(t) ? t->numel_eager : t->numel, t->decay, t->lr_scale, t->n_tensors, err))
        return -1;
    if (lazy_on(t))
        lazy_update(t, *lr, grad_scale, grad_rows, n_grad_rows);
    t->step++;
    return 0;
}
