/* evalreport: what a comparison of agents (lib/play/evalsched) reports: a bandit record per
 * episode, per-arm intervals and P(best) per run and pooled, summary records, the Markdown
 * table, and the running success and score curves with a gnuplot script that draws them.
 *
 * Intervals: Thompson mode reports posterior means with equal-tailed credible intervals
 * (success: Beta(1 + s, 1 + f); score: the reward as a fractional Bernoulli outcome); fixed mode
 * reports observed rates with Wilson intervals and mean scores with Student-t intervals. P(best)
 * is the posterior probability that an arm has the highest success rate (score), by Monte Carlo
 * with a fixed seed. */
#ifndef WS_EVALREPORT_H
#define WS_EVALREPORT_H

#include <jansson.h>

#include "bandit.h"
#include "err.h"
#include "evalsched.h"
#include "schemas.h"
#include "stream.h"
#include "strbuf.h"


/* What the reports describe. */
typedef struct ws_eval_desc {
    const char *const *arm_names;
    int n_arms;
    int fixed;          /* fixed mode (else Thompson) */
    int runs;
    long rounds;        /* finished by every run (fixed mode: goals) */
    long asked;         /* asked of every run */
    long seed;
    ws_bandit_objective objective;
    double level;       /* of the intervals */
    long mc_draws;      /* Monte Carlo draws of P(best) */
    int interrupted;    /* the reports cover the rounds finished before a signal */
} ws_eval_desc;

/* The bandit record of a job: its outcome, the Thompson draws that chose the arm, the run's
 * posteriors after it. NULL when memory runs out. */
json_t *ws_eval_bandit_record(const ws_eval_desc *d, const ws_eval_job *j, json_t *goal, const ws_arm_post *run_post);

/* One arm's figures in a group (a run, or pooled). */
typedef struct ws_arm_report {
    const ws_arm_post *post;
    double p_best, p_best_score;
    ws_interval success_ci, score_ci;
    double success_value, score_value;
} ws_arm_report;

/* Intervals and P(best) of the arms of one group: out[a] for post[a]; observed rates in fixed
 * mode, posterior means in Thompson mode. */
void ws_eval_report_group(const ws_eval_desc *d, const ws_arm_post *post, uint64_t mc_seed, ws_arm_report *out);
/* The summary records of a group (run -1: pooled), `rounds` its rounds. */
int ws_eval_put_summaries(const ws_eval_desc *d, ws_writer *w, int run, long rounds, const ws_arm_report *rep,
                          ws_err *err);
/* The Markdown table: pooled (and per run in Thompson mode; per_run: runs * arms reports). */
void ws_eval_table(const ws_eval_desc *d, ws_strbuf *t, const ws_arm_report *pooled, const ws_arm_report *per_run);

/* Running success rate and score per arm over the rounds of one run (fixed mode: the goals). */
typedef struct ws_eval_curve {
    long *pulls, *succ; /* [rounds * arms], cumulative */
    double *rsum;
} ws_eval_curve;

int ws_eval_curve_init(ws_eval_curve *cv, long rounds, int n_arms);
void ws_eval_curve_free(ws_eval_curve *cv);
/* Take a job in; jobs come in (run, round, arm) order. */
void ws_eval_curve_add(ws_eval_curve *cv, int fixed, int n_arms, const ws_eval_job *j);
/* DIR (made when missing) gets running-run<r>.tsv per run, pulls.tsv (Thompson mode) and
 * plots.gp, a self-contained gnuplot script run in DIR. post: [runs * arms]. */
int ws_eval_write_plot_data(const ws_eval_desc *d, const char *dir, const ws_eval_curve *curves,
                            const ws_arm_post *post, ws_err *err);

#endif
