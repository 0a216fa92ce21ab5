/* pairs: per-state preference pairs (tools/pair-prefs; docs/webshop.md, section 5). In each state
 * of a preferred trajectory with two or more valid actions, chosen = the trajectory's action,
 * rejected = what a reference policy would do instead (its sample or its argmax, the next-best
 * action by its log-probabilities where that equals the chosen one) or a uniformly random other
 * action (ws_pick_rejected); with relabelled on-policy states (rollout --oracle-labels), chosen
 * = the oracle's action and rejected = the agent's. The reference scores several states per
 * forward pass (ws_pairer). */
#ifndef WS_PAIRS_H
#define WS_PAIRS_H

#include <jansson.h>
#include <stddef.h>

#include "err.h"
#include "model.h"
#include "rng.h"
#include "wordpiece.h"

/* WS_REJECT_AGENT relabels on-policy trajectories (rollout --oracle-labels): chosen = the
 * oracle's action at the state the agent reached (the step's oracle_index), rejected = the agent's
 * own action; no pair where they agree. The other rules take the trajectory's action as chosen. */
typedef enum { WS_REJECT_RANDOM, WS_REJECT_SAMPLE, WS_REJECT_ARGMAX, WS_REJECT_AGENT } ws_reject_rule;
typedef enum {
    WS_SRC_REFERENCE_SAMPLE,
    WS_SRC_REFERENCE_ARGMAX,
    WS_SRC_REFERENCE_NEXT_BEST,
    WS_SRC_RANDOM,
    WS_SRC_AGENT
} ws_pair_source;

int ws_reject_parse(const char *name, ws_reject_rule *rule); /* random, sample, argmax, agent; -1 else */
const char *ws_pair_source_name(ws_pair_source s);          /* the pair record's "source" */

/* The highest log-probability among the n actions other than `exclude` (ties: the lowest index);
 * -1 when n < 2. */
int ws_next_best(const double *logp, int n, int exclude);

/* The rejected action of a state with n >= 2 valid actions where `chosen` was taken:
 *  random: uniform over the n - 1 others (logp unused, may be NULL);
 *  sample: a draw from softmax(logp), the reference's policy; argmax: its most likely action
 *          (ties: the lowest index); where that is `chosen`, the next best (ws_next_best).
 * Never returns `chosen`. -1 when n < 2 or chosen is outside [0, n). rng drives random and
 * sample; *source says which rule gave the answer. */
int ws_pick_rejected(ws_reject_rule rule, const double *logp, int n, int chosen, ws_rng *rng,
                     ws_pair_source *source);

/* The random stream of one state: seeded by (seed, goal_id, step), stream "pair-prefs", so a
 * pair never depends on the other states of the input. */
void ws_pair_rng(ws_rng *r, long seed, long goal_id, long step);

/* A pair record (schemas/pair.schema.json) for step `step` of trajectory `traj`; ref_logps
 * (chosen, rejected) written when not NULL, with ref_sha256 (the checkpoint they come from)
 * when that is not NULL or "". New reference, NULL when memory runs out. */
json_t *ws_pair_record(const json_t *traj, size_t step, int chosen, int rejected, ws_pair_source source,
                       const double *ref_logps, const char *ref_sha256);

typedef struct ws_pair_stats {
    long trajectories, states, pairs;
    long single;    /* states with one valid action (the search page): no pair */
    long unlabeled; /* steps whose action was not among the valid ones (action_index -1) */
    long next_best; /* pairs whose rejected action is the reference's next best */
    long agree;     /* WS_REJECT_AGENT: states where the agent did what the oracle would: no pair */
} ws_pair_stats;

typedef struct ws_pairer_opts {
    ws_reject_rule rule;
    long seed;
    ws_model *ref;          /* the reference (NULL only with WS_REJECT_RANDOM) */
    const ws_vocab *vocab;  /* its vocabulary */
    int max_state_len, max_action_len;
    int batch;              /* states per forward pass */
    int ref_logps;          /* record ref_logp_chosen / ref_logp_rejected */
    const char *ref_sha256; /* with them: the reference checkpoint's data_sha256 (NULL or "": unknown),
                             * so a trainer can tell whose log-probabilities they are */
} ws_pairer_opts;

/* Where pairs go, in input order; the sink takes over the reference. Non-zero stops. */
typedef int ws_pair_sink(void *ctx, json_t *pair, ws_err *err);

typedef struct ws_pairer ws_pairer;

ws_pairer *ws_pairer_new(const ws_pairer_opts *opts, ws_err *err);
void ws_pairer_free(ws_pairer *p);
/* Check a trajectory record (steps with obs, actions, action_index in range or -1) and queue its
 * states; pairs reach the sink as batches fill. `where` (file:line) prefixes input errors. */
int ws_pairer_add(ws_pairer *p, json_t *traj, const char *where, ws_pair_sink *sink, void *ctx, ws_err *err);
/* Score what is queued and hand out the remaining pairs. */
int ws_pairer_finish(ws_pairer *p, ws_pair_sink *sink, void *ctx, ws_err *err);
const ws_pair_stats *ws_pairer_stats(const ws_pairer *p);

#endif
