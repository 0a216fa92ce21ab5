/* evalsched: which agent plays which goal when agents are compared (thompson-eval), and the
 * posteriors learnt from it.
 *
 * Thompson mode: R independent runs of N rounds. Each run has its own seeded goal order (a
 * shuffle of the goals, reused from the start when exhausted) and its own Thompson generator;
 * each round draws one value from every arm's posterior (the success or the score one, by the
 * objective), plays one episode of the arm with the largest draw on the run's next goal and
 * updates that arm. The runs advance in lockstep, so the episodes one round of all runs asks of
 * an arm are played together (a model arm scores them in one batch); a batch of B lets each run
 * draw B arms from the same posterior before updating (batched Thompson sampling).
 *
 * Fixed mode: every arm plays the first N goals in their order, `parallel` goals per step; the
 * jobs have the same shape (round = the goal's position, run 0).
 *
 * Reproducibility: an episode's random choices come from its runner's stream for (seed, episode
 * key); the key is the goal_id for run 0's first pass over the goals (so a fixed-mode or run-0
 * episode equals `rollout --seed S` on that goal) and goal_id + ((run << 20) + pass) << 32
 * otherwise, so stochastic arms play independent episodes in each run and pass. Thompson draws
 * use the stream "thompson-draws-<run>", goal orders "thompson-goals-<run>". The posteriors are
 * updated in (run, round, arm) order whatever the batching. */
#ifndef WS_EVALSCHED_H
#define WS_EVALSCHED_H

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#include "bandit.h"
#include "err.h"
#include "runner.h"

typedef struct ws_eval_arm {
    const char *name;
    ws_runner *runner; /* plays the arm's episodes */
} ws_eval_arm;

typedef struct ws_eval_opts {
    long fixed;                    /* > 0: fixed mode over the first `fixed` goals */
    int runs;                      /* Thompson mode: independent runs ... */
    long rounds;                   /* ... of this many rounds */
    long batch;                    /* rounds drawn per run from one posterior */
    ws_bandit_objective objective; /* what the Thompson draws are of */
    long seed;
    int parallel;                  /* fixed mode: goals per step */
} ws_eval_opts;

/* One episode of the schedule. */
typedef struct ws_eval_job {
    int run;
    long round;
    int arm;
    size_t goal;         /* index into the goals */
    uint64_t key;        /* the episode key */
    double reward;
    int success;         /* reward == 1 */
    const double *draws; /* Thompson mode: the draws that chose the arm, one per arm */
} ws_eval_job;

typedef struct ws_eval ws_eval;

/* The arms and goals are borrowed for the schedule's life. */
ws_eval *ws_eval_new(const ws_eval_arm *arms, int n_arms, json_t *const *goals, size_t n_goals,
                     const ws_eval_opts *opts, ws_err *err);
/* Called with each job of a step in (run, round, arm) order, right after its arm's posterior
 * took it in (`run_post`: the run's posteriors, one per arm); non-zero stops the step. */
typedef int ws_eval_visit(void *ctx, const ws_eval_job *job, const ws_arm_post *run_post, ws_err *err);
/* Play the next step (one round of every run, a batch of them, or the next `parallel` goals):
 * the episodes grouped by arm, then `visit` on each job. Returns the jobs played, 0 when every
 * round was played, -1 on failure (err filled; a visit's error as it left it). */
long ws_eval_step(ws_eval *e, ws_eval_visit *visit, void *ctx, ws_err *err);
int ws_eval_runs(const ws_eval *e);
long ws_eval_rounds(const ws_eval *e);      /* asked of every run (fixed mode: the goals) */
long ws_eval_rounds_done(const ws_eval *e); /* finished by every run */
/* Run r's posteriors, one per arm. */
const ws_arm_post *ws_eval_posteriors(const ws_eval *e, int run);
void ws_eval_free(ws_eval *e);

#endif
