/* prefdata: the data of preference training (docs/webshop.md, section 5): preferred trajectories and per-state
 * preference pairs.
 *
 * Preferred trajectories (tools/gen-traj):
 *  - generation: goals played by the oracle, or rejection sampling of a model's rollouts (each
 *    goal up to K attempts, attempt a with its own seed, the first episode whose reward reaches
 *    the bar kept, reward exactly 1 by default);
 *  - loop removal: a kept episode that revisits a state has the detour between the two visits
 *    cut out (ws_prune_loops, a pure function over state keys), and the shortened action
 *    sequence is replayed in a fresh episode to check it still reaches the same reward
 *    (ws_prune_trajectory);
 *  - import of WebShop's human demonstrations (il_trajs_finalized_images.jsonl) as trajectory
 *    records (ws_human_trajectory).
 *
 * Preference pairs (tools/pair-prefs): in each state of a preferred trajectory with two or more
 * valid actions, chosen = the trajectory's action, rejected = what a reference policy would do
 * instead (its sample or its argmax, the next-best action by its log-probabilities where that
 * equals the chosen one) or a uniformly random other action (ws_pick_rejected); the reference
 * scores several states per forward pass (ws_pairer). */
#ifndef WS_PREFDATA_H
#define WS_PREFDATA_H

#include <jansson.h>
#include <stddef.h>

#include "agent.h"
#include "env.h"
#include "err.h"
#include "model.h"
#include "rng.h"
#include "runner.h"
#include "wordpiece.h"

/* ------------------------------------------------------------------ loop removal */

typedef struct ws_prune_stats {
    long loops;         /* detours cut (a detour holding nested loops counts once) */
    long steps_removed; /* steps they held */
    long replay_failed; /* pruned trajectories that did not replay and were kept whole */
} ws_prune_stats;

/* The loop-free subsequence of an episode's steps. keys[i] (not NULL) identifies the state in
 * which step i was taken (equal strings = the same state). Rule: from the state at step i, jump
 * to that state's LAST visit j >= i and keep step j (the action taken there); go on from step
 * j + 1. The detour from the first visit to the last (a loop, with any loops nested in it) is cut,
 * and since step j was taken in the same state as step i, it leads where it led before: the kept
 * steps are a valid path through the same states, each state visited once. Writes the kept step
 * indices (ascending) to keep (room for n) and returns how many; adds to st (may be NULL).
 * Pure: no environment, no allocation. */
size_t ws_prune_loops(const char *const *keys, size_t n, size_t *keep, ws_prune_stats *st);

/* The key of a recorded step (a trajectory's steps[i]): its page and observation text. Two
 * steps with different keys were taken in different states; equal keys are necessary, not
 * sufficient, for the same state (text observations do not show the chosen options, nor where
 * `< prev` leads). Malloc'd; NULL when the step has no "obs" string or memory runs out. */
char *ws_step_key(const json_t *step);


/* Loop removal of a finished trajectory record `traj` of `goal`, checked by replay in `ep` (an
 * episode of the environment that played it, with the same episode options; reset here):
 *  1. When no two recorded steps share (page, obs), there is no loop: traj itself (a new
 *     reference) is returned, unchanged.
 *  2. Else the recorded actions are replayed from the start, each state's full key taken
 *     (ws_episode_state_key); the replay must show the recorded observations, accept every
 *     action and end where the recording ended with the same reward.
 *  3. ws_prune_loops on those keys; when it cuts something, the kept actions are replayed in a
 *     fresh episode and recorded anew (log-probabilities and values carried over from the
 *     original steps: the states are the same). The check: every kept action is among its
 *     state's valid actions and accepted, each state reached equals (full key) the state the
 *     action was originally taken in, the episode does not end before the last action, and
 *     after it the episode is over with a purchase and exactly the original reward.
 *  4. When a replay fails the check, traj is returned unchanged and st->replay_failed counts it.
 * The shortened record carries the original's policy and seed, and "loops_removed" /
 * "steps_removed". text_rich: 1 when the episodes show text_rich observations (the opened
 * products are then part of the state). NULL with err only on hard errors (memory). */
json_t *ws_prune_trajectory(ws_episode *ep, json_t *goal, json_t *traj, int text_rich, ws_prune_stats *st,
                            ws_err *err);

/* Replay a trajectory record's actions on `goal` in `ep` (reset here) and check it: each step's
 * recorded observation is the one shown, each action is accepted, the episode ends at the last
 * step and its reward equals the record's "reward". 0 when it replays, 1 with the first
 * difference in err, -1 on hard errors. */
int ws_traj_replay_check(ws_episode *ep, json_t *goal, const json_t *traj, ws_err *err);

/* ------------------------------------------------------------------ generation */

#define WS_GEN_MAX_ATTEMPTS 1000

typedef struct ws_gen_opts {
    ws_episode_opts episode;
    int parallel;            /* episodes in flight */
    long seed;
    ws_agent *agent;         /* the model (rejection sampling), or NULL for the oracle */
    const char *policy_name; /* recorded (the checkpoint for a model) */
    int attempts;            /* per goal, 1..WS_GEN_MAX_ATTEMPTS (the oracle: 1) */
    double min_reward;       /* keep an episode that ends with a purchase and reward >= this [1] */
    int prune;               /* remove loops (ws_prune_trajectory) */
} ws_gen_opts;

typedef struct ws_gen ws_gen;

/* The seed attempt a (0-based) of a goal plays with: the runner's seed s * 1000 + a for a model
 * (so `rollout --model CKPT --temperature T --seed <that>` replays the attempt before loop
 * removal), s for the oracle. */
long ws_gen_attempt_seed(long seed, int attempt, int model);

ws_gen *ws_gen_new(ws_env *env, const ws_gen_opts *opts, ws_err *err);
void ws_gen_free(ws_gen *g);
/* Play n goals (any n): out[i] = goal i's kept trajectory (loops removed, "attempt" = the
 * 1-based attempt it came from) or NULL when no attempt qualified; attempts[i] = the attempts
 * played for goal i (up to the first kept one); st[i] (st may be NULL) = the loop removal
 * counts of goal i's kept trajectory. Attempt a of every pending goal is played before attempt
 * a + 1 of any, up to `parallel` episodes per batch. Returns 0; -1 on errors (err filled, out[]
 * all NULL); 1 when a signal arrived (lib/base/interrupt) and play stopped between two batches: out[]
 * and attempts[] then hold what was played, final for the goals ws_gen_decided says are. */
int ws_gen_play(ws_gen *g, json_t *const *goals, int n, json_t **out, int *attempts, ws_prune_stats *st,
                ws_err *err);
/* 1 when a goal's outcome is final: a trajectory kept, or every attempt played. */
int ws_gen_decided(const ws_gen *g, const json_t *out, int attempts);

/* ------------------------------------------------------------------ human demonstrations */

/* The instruction shown in a WebShop observation (the search page's "WebShop [SEP] Instruction:
 * [SEP] <instruction> [SEP] Search", or text_rich's "WebShop\nInstruction:\n<instruction>\n[button]
 * Search [button_]"): the text after "Instruction:" up to the next line break, [SEP] or [button].
 * The whole text, trimmed, when it has no "Instruction:". Malloc'd. */
char *ws_obs_instruction(const char *obs);

/* An instruction reduced for matching (as WebShop matches human trajectories to goals): lower
 * case, quotes (' and ") dropped, white space runs as one space, trimmed; with drop_price, from
 * ", and price lower than" on cut off. Malloc'd. */
char *ws_instruction_norm(const char *text, int drop_price);

/* Goal ids by instruction, for human demonstrations. */
typedef struct ws_goal_index {
    char **keys;
    long *ids;
    size_t n, cap;
    int sorted;
} ws_goal_index;

/* Index a goal record under its instruction (normalised with and without its price clause). */
int ws_goal_index_add(ws_goal_index *ix, const json_t *goal, ws_err *err);
/* The goal id of an instruction: the lowest id whose instruction normalises alike, else whose
 * instruction without the price clause does; -1 when none. */
long ws_goal_index_find(ws_goal_index *ix, const char *instruction);
void ws_goal_index_free(ws_goal_index *ix);

/* One line of WebShop's human demonstrations file as a trajectory record (policy "human").
 * The line: "states" (observation texts), "actions" (action strings), "available_actions" (per
 * state, the valid actions, as action strings or bare click texts), "action_idxs" (the action's
 * index among them, -1 on the search page), "images" (ignored), optionally "reward" and
 * "instruction". Step i: obs = states[i], action = actions[i]; a search step (action "search[q]")
 * gets actions ["search[q]"] and index 0 (the typed query is the search page's one action);
 * otherwise actions = available_actions[i] (bare texts written as click[text]), the index from
 * action_idxs[i] when it names the action, else found by text (case-insensitively), else -1.
 * The instruction comes from "instruction" or the first state. Without a "reward" the record
 * says reward 0, success false and "reward_known": false. goal_id as given (>= 0). NULL with
 * err (naming the field) when the line is not in this format. */
json_t *ws_human_trajectory(const json_t *line, long goal_id, ws_err *err);

/* ------------------------------------------------------------------ preference pairs */

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
