/* train: what the training tools share: token records in memory, batches, the optimiser state.
 *
 * A dataset is every tokens record of the inputs (one decision each: a state, its actions and a
 * label: the target action for imitation, chosen/rejected for preferences). Batches are lists of
 * decisions drawn in a seeded order: epoch e visits the records in the order of a shuffle seeded
 * by (seed, e), so step k of a run is the same batch whether the run went straight there or was
 * resumed from a checkpoint. The trainer owns AdamW's moments and the step count, clips the
 * global gradient norm and applies the learning-rate schedule. */
#ifndef WS_TRAIN_H
#define WS_TRAIN_H

#include <stddef.h>
#include <stdint.h>

#include "env.h"
#include "err.h"
#include "model.h"
#include "optim.h"

typedef struct ws_decision_data {
    int32_t *state;
    int state_len;
    int n_actions;
    int32_t **actions;
    int *action_len;
    int target, chosen, rejected; /* -1 when absent */
    int has_ref;
    double ref_logp_chosen, ref_logp_rejected;
    long goal_id;
    int kind; /* a ws_decision_kind (lib/webshop/env.h); -1 when the record does not say */
} ws_decision_data;

/* A preference pair: distinct chosen and rejected actions. */
static inline int ws_decision_is_pair(const ws_decision_data *d)
{
    return d->chosen >= 0 && d->rejected >= 0 && d->chosen != d->rejected;
}

typedef struct ws_dataset {
    ws_decision_data *items;
    size_t n, cap;
    size_t *visits;  /* an epoch's visits: item indices, oversampled ones repeated; NULL: each once */
    size_t n_visits; /* n when visits is NULL */
    char vocab_sha256[65]; /* from the records, "" when they do not say */
    char ref_sha256[65];   /* the checkpoint the records' ref_logp_* come from, "" when they do not say */
    size_t tokens;         /* states and actions together */
    size_t n_forced;       /* WS_NEED_TARGET: decisions left out for having one valid action */
} ws_dataset;

enum { WS_NEED_TARGET = 1, WS_NEED_PAIR = 2 };

/* Read tokens records from the files (NULL or "-" = stdin). Records lacking the label `need`
 * asks for are an error naming file and line, as are ids outside [0, vocab_size), states or
 * actions longer than max_len tokens (the model's positions: found here, not at the update that
 * meets them) and labels outside the action list. A decision learnt by imitation (WS_NEED_TARGET, an anchor of
 * WS_NEED_PAIR_OR_TARGET) with a single valid action (WebShop's search step) is counted in n_forced and left out: pi(a|s) = 1 whatever the weights, so it adds
 * no gradient, only a forward and backward pass and a smaller mean. */
int ws_dataset_load(ws_dataset *d, const char *const *paths, int n_paths, int need, int vocab_size, int max_len,
                    ws_err *err);
void ws_dataset_free(ws_dataset *d);

/* Move every record of `from` (emptied) to the end of `d`: one dataset of two kinds of records
 * (train-dpo's pairs and anchors). Both must come from one vocabulary; call before oversampling. */
int ws_dataset_append(ws_dataset *d, ws_dataset *from, ws_err *err);

/* Visit every decision of kind k repeat[k] times an epoch (repeat: WS_N_DECISION_KINDS counts,
 * each >= 1), so that rare or hard decisions weigh more in the mean loss without changing it
 * per decision. A decision whose record does not say its kind (tokenized before kinds) is an
 * error naming how many there are, unless every count is 1. */
int ws_dataset_oversample(ws_dataset *d, const int *repeat, ws_err *err);

/* The visit order of an epoch (a seeded shuffle of the n_visits visits: item indices). */
void ws_dataset_epoch_order(const ws_dataset *d, uint64_t seed, long epoch, size_t *order);

/* A ws_batch over selected decisions; arrays are owned by the builder and reused. */
typedef struct ws_batch_builder {
    ws_batch batch;
    const int32_t **state_ids, **action_ids;
    int *state_len, *n_actions, *action_len;
    size_t cap_dec, cap_act;
} ws_batch_builder;

const ws_batch *ws_batch_build(ws_batch_builder *bb, const ws_dataset *d, const size_t *idx, int n, ws_err *err);
void ws_batch_builder_free(ws_batch_builder *bb);

typedef struct ws_trainer {
    ws_model *model;
    const ws_backend *be;       /* the model's */
    float *adam_m, *adam_v;     /* AdamW's moments on the host, laid out like the parameters */
    float *dev_m, *dev_v;       /* the same in the backend's memory (aliases on the host backend) */
    int on_host;
    int64_t step; /* updates applied */
    ws_adamw_opts adam;
    ws_lr_schedule schedule;
    double clip; /* max gradient norm; <= 0: no clipping */
    float **params, **grads, **m, **v; /* per tensor, backend memory */
    size_t *numel;
    unsigned char *decay;
    double *lr_scale; /* per tensor: the head's rate over the schedule's (1 for the encoder) */
    size_t n_tensors;
    /* The word embeddings' rows are updated late where their gradient is zero (most rows, most
     * steps: a batch holds a few hundred of the vocabulary's 30,000 tokens). AdamW still moves
     * such a row (its moments decay, the weight decays), so each step's factors are kept and a
     * row's missed steps are replayed, in order, the next time a forward reads it (the model's
     * read hook), its gradient is not zero, or the state is saved (ws_trainer_state_to_host):
     * the bits of updating it every step, without reading and writing 28 bytes of every row's
     * weight, moments and gradient in each step. CPU backends only (ws_backend_on_host). */
    size_t lazy;                /* the word embeddings' tensor index, or n_tensors: none */
    int lazy_rows, lazy_width;  /* its rows (the vocabulary) and their length */
    int64_t *row_step;          /* per row: the updates applied to it (<= step) */
    int32_t *rows_behind;       /* the rows a forward is about to read that are behind */
    unsigned char *row_listed;  /* per row: in rows_behind */
    int64_t rows_from;          /* row_step was set to this step; -1: not yet */
    ws_adamw_factors *missed;   /* the factors of update s at missed[s - rows_from - 1] */
    size_t missed_cap;
    size_t *numel_eager;        /* numel, 0 for the lazy tensor: what ws_adamw_step updates */
} ws_trainer;

/* head_lr_scale multiplies the learning rate of the head's tensors (ws_tensor_is_head: the
 * parameters added on top of the pre-trained encoder, which start from random values), so
 * they can learn faster than the encoder they read; 1 gives every tensor the schedule's rate. */
int ws_trainer_init(ws_trainer *t, ws_model *m, const ws_adamw_opts *adam, const ws_lr_schedule *schedule,
                    double clip, double head_lr_scale, ws_err *err);
void ws_trainer_free(ws_trainer *t);
/* Off the host backend the moments live on the device: copy them out before saving them and in
 * after loading them (no-ops on the host). To the host first brings every embedding row up to
 * date, weights included: call it before the model's ws_model_params_to_host. */
int ws_trainer_state_to_host(ws_trainer *t, ws_err *err);
int ws_trainer_state_to_device(ws_trainer *t, ws_err *err);
/* Clip, then one AdamW update with the schedule's rate for the current step; step++.
 * *grad_norm gets the norm before clipping, *lr the rate used. A non-finite gradient norm skips
 * the update (and is reported as an error). */
int ws_trainer_update(ws_trainer *t, double *grad_norm, double *lr, ws_err *err);
/* Update the embedding rows late (on: the default on the CPU backends) or every row in its step
 * (off: every row brought up to date first). The bits are the same either way; off is for tests
 * and comparisons. Returns -1 (nothing changed) where out of memory. */
int ws_trainer_lazy_rows(ws_trainer *t, int on, ws_err *err);

#endif
