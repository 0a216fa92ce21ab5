#include "evalreport.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "outfile.h"

enum { MAX_REPORT_ARMS = 64 };

/* ------------------------------------------------------------------ records */

static json_t *posterior_json(const ws_eval_desc *d, const ws_arm_post *post)
{
    json_t *o = json_object();
    for (int a = 0; a < d->n_arms; a++) {
        const ws_arm_post *p = &post[a];
        json_object_set_new(
            o, d->arm_names[a],
            json_pack("{s:f, s:f, s:I, s:I, s:f, s:f, s:f, s:f, s:f}", "alpha", p->alpha, "beta", p->beta, "pulls",
                      (json_int_t)p->pulls, "successes", (json_int_t)p->successes, "mean", ws_arm_success_mean(p),
                      "score_alpha", p->score_alpha, "score_beta", p->score_beta, "score_mean", ws_arm_score_mean(p),
                      "score_sd", ws_arm_score_sd(p)));
    }
    return o;
}

json_t *ws_eval_bandit_record(const ws_eval_desc *d, const ws_eval_job *j, json_t *goal, const ws_arm_post *run_post)
{
    json_t *r = json_pack("{s:s, s:i, s:s, s:i, s:I, s:s, s:I, s:f, s:b}", "type", "bandit", "v", WS_BANDIT_VERSION,
                          "mode", d->fixed ? "fixed" : "thompson", "run", j->run, "round", (json_int_t)j->round, "arm",
                          d->arm_names[j->arm], "goal_id", json_integer_value(json_object_get(goal, "goal_id")),
                          "reward", j->reward, "success", j->success);
    if (!r)
        return NULL;
    if (!d->fixed) {
        json_t *dr = json_object();
        for (int a = 0; a < d->n_arms; a++)
            json_object_set_new(dr, d->arm_names[a], json_real(j->draws[a]));
        json_object_set_new(r, "draws", dr);
    }
    json_object_set_new(r, "posterior", posterior_json(d, run_post));
    return r;
}

/* ------------------------------------------------------------------ summaries */

void ws_eval_report_group(const ws_eval_desc *d, const ws_arm_post *post, uint64_t mc_seed, ws_arm_report *out)
{
    double pb[MAX_REPORT_ARMS], pbs[MAX_REPORT_ARMS];
    ws_p_best(post, (size_t)d->n_arms, WS_BANDIT_SUCCESS, d->mc_draws, mc_seed, pb);
    ws_p_best(post, (size_t)d->n_arms, WS_BANDIT_SCORE, d->mc_draws, mc_seed + 1, pbs);
    for (int a = 0; a < d->n_arms; a++) {
        const ws_arm_post *p = &post[a];
        ws_arm_report *r = &out[a];
        r->post = p;
        r->p_best = pb[a];
        r->p_best_score = pbs[a];
        if (d->fixed) {
            r->success_value = ws_arm_success_rate(p);
            r->success_ci = ws_wilson(p->successes, p->pulls, d->level);
            r->score_value = ws_arm_mean_score(p);
            ws_interval t = ws_t_interval(r->score_value, 100 * ws_arm_reward_sd(p), p->pulls, d->level);
            /* the score lies in [0, 100]: clipping can only raise the coverage */
            r->score_ci = (ws_interval){fmax(t.low, 0), fmin(t.high, 100)};
            if (isnan(t.low))
                r->score_ci = t;
        } else {
            r->success_value = ws_arm_success_mean(p);
            r->success_ci = ws_beta_credible(p->alpha, p->beta, d->level);
            r->score_value = ws_arm_score_mean(p);
            ws_interval s = ws_beta_credible(p->score_alpha, p->score_beta, d->level);
            r->score_ci = (ws_interval){100 * s.low, 100 * s.high};
        }
    }
}

static json_t *summary_json(const char *scope, int run, int fixed, const char *measure, double value, long count)
{
    return json_pack("{s:s, s:i, s:s, s:o, s:s, s:s, s:f, s:I}", "type", "summary", "v", WS_SUMMARY_VERSION, "scope",
                     scope, "run", run < 0 ? json_null() : json_integer(run), "mode", fixed ? "fixed" : "thompson",
                     "measure", measure, "value", value, "count", (json_int_t)count);
}

static void add_ci(json_t *r, ws_interval ci, double level, const char *method)
{
    if (!isnan(ci.low)) {
        json_object_set_new(r, "ci_low", json_real(ci.low));
        json_object_set_new(r, "ci_high", json_real(ci.high));
        json_object_set_new(r, "ci_level", json_real(level));
    }
    json_object_set_new(r, "method", json_string(method));
}

int ws_eval_put_summaries(const ws_eval_desc *d, ws_writer *w, int run, long rounds, const ws_arm_report *rep,
                          ws_err *err)
{
    int fixed = d->fixed;
    for (int a = 0; a < d->n_arms; a++) {
        const ws_arm_report *r = &rep[a];
        const ws_arm_post *p = r->post;
        const char *name = d->arm_names[a];
        json_t *recs[5];
        recs[0] = summary_json(name, run, fixed, "pulls", (double)p->pulls, rounds);
        recs[1] = summary_json(name, run, fixed, "success_rate", r->success_value, p->pulls);
        json_object_set_new(recs[1], "successes", json_integer((json_int_t)p->successes));
        add_ci(recs[1], r->success_ci, d->level, fixed ? "wilson" : "beta_posterior");
        recs[2] = summary_json(name, run, fixed, "score", r->score_value, p->pulls);
        add_ci(recs[2], r->score_ci, d->level, fixed ? "student_t" : "beta_posterior_fractional");
        recs[3] = summary_json(name, run, fixed, "p_best", r->p_best, d->mc_draws);
        json_object_set_new(recs[3], "method", json_string("monte_carlo_beta_posterior"));
        recs[4] = summary_json(name, run, fixed, "p_best_score", r->p_best_score, d->mc_draws);
        json_object_set_new(recs[4], "method", json_string("monte_carlo_beta_posterior_fractional"));
        int rc = 0;
        for (int i = 0; i < 5; i++) {
            if (d->interrupted)
                json_object_set_new(recs[i], "interrupted", json_true());
            if (rc == 0 && ws_writer_put(w, recs[i], err))
                rc = -1;
            json_decref(recs[i]);
        }
        if (rc)
            return -1;
    }
    return 0;
}

static void table_header(ws_strbuf *t, int fixed, int per_run, double level)
{
    int pct = (int)lround(level * 100);
    if (fixed)
        ws_strbuf_printf(t, "| %sarm | episodes | successes | success rate %% [%d%% Wilson] | score [%d%% t] | P(best) | "
                            "P(best score) |\n|%s:--|--:|--:|:--|:--|--:|--:|\n",
                         per_run ? "run | " : "", pct, pct, per_run ? "--:|" : "");
    else
        ws_strbuf_printf(t, "| %sarm | pulls | share | successes | success rate %% (posterior mean) [%d%% CrI] | score [%d%% CrI] | "
                            "P(best) | P(best score) |\n|%s:--|--:|--:|--:|:--|:--|--:|--:|\n",
                         per_run ? "run | " : "", pct, pct, per_run ? "--:|" : "");
}

static void table_rows(ws_strbuf *t, const ws_eval_desc *d, int run, long rounds, const ws_arm_report *rep)
{
    for (int a = 0; a < d->n_arms; a++) {
        const ws_arm_report *r = &rep[a];
        const ws_arm_post *p = r->post;
        if (run >= 0)
            ws_strbuf_printf(t, "| %d ", run);
        ws_strbuf_printf(t, "| %s | %ld ", d->arm_names[a], p->pulls);
        if (!d->fixed)
            ws_strbuf_printf(t, "| %.1f%% ", rounds ? 100.0 * (double)p->pulls / (double)rounds : 0.0);
        ws_strbuf_printf(t, "| %ld | %.1f [%.1f, %.1f] ", p->successes, 100 * r->success_value,
                         100 * r->success_ci.low, 100 * r->success_ci.high);
        if (isnan(r->score_ci.low))
            ws_strbuf_printf(t, "| %.1f [n/a] ", r->score_value);
        else
            ws_strbuf_printf(t, "| %.1f [%.1f, %.1f] ", r->score_value, r->score_ci.low, r->score_ci.high);
        ws_strbuf_printf(t, "| %.3f | %.3f |\n", r->p_best, r->p_best_score);
    }
}

void ws_eval_table(const ws_eval_desc *d, ws_strbuf *t, const ws_arm_report *pooled, const ws_arm_report *per_run)
{
    int pct = (int)lround(d->level * 100);
    if (d->fixed) {
        ws_strbuf_printf(t,
                         "# Fixed-budget evaluation: %d arms x %ld goals (seed %ld)\n\n"
                         "Success rate: observed, %d%% Wilson interval. Score (100 x mean reward): mean, %d%% "
                         "Student-t\n"
                         "interval. P(best): posterior probability of the highest success rate / score\n"
                         "(Beta(1,1) prior; Monte Carlo, %ld draws).\n\n",
                         d->n_arms, d->rounds, d->seed, pct, pct, d->mc_draws);
        table_header(t, 1, 0, d->level);
        table_rows(t, d, -1, d->rounds, pooled);
    } else {
        long total_rounds = (long)d->runs * d->rounds;
        ws_strbuf_printf(t,
                         "# Thompson-sampling evaluation: %d runs x %ld rounds (seed %ld, objective %s)\n\n"
                         "Success rate and score (100 x mean reward): posterior mean and %d%% equal-tailed credible\n"
                         "interval (Beta(1,1) prior; for the score the reward counts as a fractional Bernoulli\n"
                         "outcome). P(best): posterior probability of the highest success rate / score (Monte\n"
                         "Carlo, %ld draws). Share: the arm's part of the rounds.\n\n"
                         "## Pooled over %d run%s (%ld rounds)\n\n",
                         d->runs, d->rounds, d->seed, d->objective == WS_BANDIT_SCORE ? "score" : "success", pct,
                         d->mc_draws, d->runs, d->runs == 1 ? "" : "s", total_rounds);
        table_header(t, 0, 0, d->level);
        table_rows(t, d, -1, total_rounds, pooled);
        ws_strbuf_printf(t, "\n## Per run (%ld rounds each)\n\n", d->rounds);
        table_header(t, 0, 1, d->level);
        for (int r = 0; r < d->runs; r++)
            table_rows(t, d, r, d->rounds, &per_run[(size_t)r * (size_t)d->n_arms]);
    }
    if (d->interrupted)
        ws_strbuf_printf(t, "\nInterrupted after %ld of the %ld %s asked for: the table covers those.\n", d->rounds,
                         d->asked, d->fixed ? "goals" : "rounds");
}

/* ------------------------------------------------------------------ plots */

int ws_eval_curve_init(ws_eval_curve *cv, long rounds, int n_arms)
{
    size_t cells = (size_t)rounds * (size_t)n_arms;
    cv->pulls = calloc(cells, sizeof *cv->pulls);
    cv->succ = calloc(cells, sizeof *cv->succ);
    cv->rsum = calloc(cells, sizeof *cv->rsum);
    return cv->pulls && cv->succ && cv->rsum ? 0 : -1;
}

void ws_eval_curve_free(ws_eval_curve *cv)
{
    free(cv->pulls);
    free(cv->succ);
    free(cv->rsum);
    *cv = (ws_eval_curve){0};
}

/* Round `round` starts from the previous round's totals. */
static void curve_carry(ws_eval_curve *cv, int n_arms, long round)
{
    if (round == 0)
        return;
    size_t base = (size_t)round * (size_t)n_arms;
    for (int k = 0; k < n_arms; k++) {
        cv->pulls[base + (size_t)k] = cv->pulls[base - (size_t)n_arms + (size_t)k];
        cv->succ[base + (size_t)k] = cv->succ[base - (size_t)n_arms + (size_t)k];
        cv->rsum[base + (size_t)k] = cv->rsum[base - (size_t)n_arms + (size_t)k];
    }
}

void ws_eval_curve_add(ws_eval_curve *cv, int fixed, int n_arms, const ws_eval_job *j)
{
    /* Thompson: one arm a round; fixed: every arm plays the round, carried forward once */
    if (!fixed || j->arm == 0)
        curve_carry(cv, n_arms, j->round);
    size_t cell = (size_t)j->round * (size_t)n_arms + (size_t)j->arm;
    cv->pulls[cell]++;
    cv->succ[cell] += j->success;
    cv->rsum[cell] += j->reward;
}

static int mkdir_p(const char *dir, ws_err *err)
{
    char buf[4096];
    snprintf(buf, sizeof buf, "%s", dir);
    for (char *p = buf + 1; *p; p++)
        if (*p == '/') {
            *p = 0;
            if (mkdir(buf, 0777) && errno != EEXIST)
                return ws_fail(err, "%s: %s", buf, strerror(errno));
            *p = '/';
        }
    if (mkdir(buf, 0777) && errno != EEXIST)
        return ws_fail(err, "%s: %s", buf, strerror(errno));
    struct stat st;
    if (stat(buf, &st) || !S_ISDIR(st.st_mode))
        return ws_fail(err, "%s: not a directory", buf);
    return 0;
}

static int write_in(const char *dir, const char *file, ws_strbuf *b, ws_err *err)
{
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int rc = b->oom ? ws_fail(err, "%s: out of memory", path) : ws_outfile_write_all(path, b->s, b->len, NULL, err);
    free(b->s);
    *b = (ws_strbuf){0};
    return rc;
}

static int write_curve(const ws_eval_desc *d, const char *dir, const char *file, const ws_eval_curve *cv,
                       ws_err *err)
{
    ws_strbuf b = {0};
    ws_strbuf_printf(&b, "# round");
    for (int a = 0; a < d->n_arms; a++)
        ws_strbuf_printf(&b, "\t%s:success_rate\t%s:score\t%s:pulls", d->arm_names[a], d->arm_names[a],
                         d->arm_names[a]);
    ws_strbuf_printf(&b, "\n");
    for (long t = 0; t < d->rounds; t++) {
        ws_strbuf_printf(&b, "%ld", t + 1);
        for (int a = 0; a < d->n_arms; a++) {
            size_t i = (size_t)t * (size_t)d->n_arms + (size_t)a;
            if (cv->pulls[i] == 0)
                ws_strbuf_printf(&b, "\t?\t?\t0");
            else
                ws_strbuf_printf(&b, "\t%.6g\t%.6g\t%ld", 100.0 * (double)cv->succ[i] / (double)cv->pulls[i],
                                 100.0 * cv->rsum[i] / (double)cv->pulls[i], cv->pulls[i]);
        }
        ws_strbuf_printf(&b, "\n");
    }
    return write_in(dir, file, &b, err);
}

int ws_eval_write_plot_data(const ws_eval_desc *d, const char *dir, const ws_eval_curve *curves,
                            const ws_arm_post *post, ws_err *err)
{
    if (mkdir_p(dir, err))
        return -1;
    char file[64];
    for (int r = 0; r < d->runs; r++) {
        snprintf(file, sizeof file, "running-run%d.tsv", r);
        if (write_curve(d, dir, file, &curves[r], err))
            return -1;
    }
    ws_strbuf b = {0};
    if (!d->fixed) {
        ws_strbuf_printf(&b, "arm"); /* a header row, read by columnheader() */
        for (int r = 0; r < d->runs; r++)
            ws_strbuf_printf(&b, "\trun%d", r);
        ws_strbuf_printf(&b, "\n");
        for (int a = 0; a < d->n_arms; a++) {
            ws_strbuf_printf(&b, "%s", d->arm_names[a]);
            for (int r = 0; r < d->runs; r++)
                ws_strbuf_printf(&b, "\t%ld", post[(size_t)r * (size_t)d->n_arms + (size_t)a].pulls);
            ws_strbuf_printf(&b, "\n");
        }
        if (write_in(dir, "pulls.tsv", &b, err))
            return -1;
    }
    /* the script: self-contained, run in DIR (cd DIR && gnuplot plots.gp) */
    const char *what = d->fixed ? "fixed budget" : "Thompson sampling";
    ws_strbuf_printf(&b,
                     "# thompson-eval plots: cd into this directory and run `gnuplot plots.gp`.\n"
                     "if (strstrt(GPVAL_TERMINALS, \"pngcairo\") > 0) {\n"
                     "    set terminal pngcairo size 960,560 noenhanced font \",11\"\n"
                     "} else {\n"
                     "    set terminal png size 960,560 noenhanced\n"
                     "}\n"
                     "set datafile separator \"\\t\"\n"
                     "set datafile missing \"?\"\n"
                     "set key outside right top\n"
                     "set grid\n"
                     "set xlabel \"round\"\n"
                     "set xrange [1:%ld]\n"
                     "arms = \"",
                     d->rounds > 1 ? d->rounds : 2);
    for (int a = 0; a < d->n_arms; a++)
        ws_strbuf_printf(&b, "%s%s", a ? " " : "", d->arm_names[a]);
    ws_strbuf_printf(&b, "\"\nn_arms = %d\n", d->n_arms);
    for (int r = 0; r < d->runs; r++) {
        ws_strbuf_printf(&b,
                         "\nset output \"success-run%d.png\"\n"
                         "set title \"Running success rate, run %d (%s)\"\n"
                         "set ylabel \"success rate (%%)\"\n"
                         "set yrange [-2:102]\n" /* a line at 0 or 100 stays off the frame */
                         "plot for [i=1:n_arms] \"running-run%d.tsv\" using 1:(column(3*i-1)) with lines lw 2 "
                         "title word(arms, i)\n"
                         "set output \"score-run%d.png\"\n"
                         "set title \"Running score, run %d (%s)\"\n"
                         "set ylabel \"score (100 x mean reward)\"\n"
                         "plot for [i=1:n_arms] \"running-run%d.tsv\" using 1:(column(3*i)) with lines lw 2 "
                         "title word(arms, i)\n",
                         r, r, what, r, r, r, what, r);
    }
    if (!d->fixed)
        ws_strbuf_printf(&b,
                         "\nset output \"pulls.png\"\n"
                         "set title \"Pulls per arm (%d runs x %ld rounds)\"\n"
                         "unset xrange\n"
                         "set autoscale y\n"
                         "set yrange [0:*]\n"
                         "set xlabel \"arm\"\n"
                         "set ylabel \"pulls\"\n"
                         "set style data histograms\n"
                         "set style histogram clustered gap 1\n"
                         "set style fill solid 0.8 border -1\n"
                         "set boxwidth 0.9\n"
                         "set xtics nomirror\n"
                         "plot for [r=2:%d] \"pulls.tsv\" using r:xtic(1) title columnheader(r)\n",
                         d->runs, d->rounds, d->runs + 1);
    return write_in(dir, "plots.gp", &b, err);
}
