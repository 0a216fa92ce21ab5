/* thompson-eval: compare agents (arms) by Thompson sampling, or on a fixed budget of goals.
 *
 * Thompson mode: R independent runs of N rounds. Each run has its own seeded goal order (a
 * shuffle of the given goals, reused from the start when exhausted) and its own Thompson
 * generator; each round draws one value from every arm's success posterior, plays one episode of
 * the arm with the largest draw on the run's next goal, and updates that arm's posteriors. The
 * runs advance in lockstep, so the episodes that one round of all runs asks of an arm are played
 * together (a model arm scores them in one batch); --batch B lets each run draw B arms from the
 * same posterior before updating (batched Thompson sampling), for more episodes in flight.
 *
 * Fixed mode (--fixed N): every arm plays the first N goals in the given order; the
 * per-episode records have the same shape (round = goal position, run 0).
 *
 * Reproducibility: an episode's random choices come from the runner's stream for (--seed,
 * episode key); the key is the goal_id for run 0's first pass over the goals (so a fixed-mode
 * or run-0 episode equals `rollout --seed S` on that goal) and goal_id + ((run << 20) + pass) << 32
 * otherwise, so stochastic arms (random, --temperature) play independent episodes in each run
 * and pass. Thompson draws use the stream "thompson-draws-<run>", goal orders
 * "thompson-goals-<run>". The same arguments give the same records, byte for byte. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "backend.h"
#include "bandit.h"
#include "catalog.h"
#include "cli.h"
#include "encode.h"
#include "env.h"
#include "goals.h"
#include "inputs.h"
#include "interrupt.h"
#include "modelio.h"
#include "outfile.h"
#include "playopts.h"
#include "policy.h"
#include "progress.h"
#include "rng.h"
#include "runner.h"
#include "stream.h"
#include "strbuf.h"
#include "wordpiece.h"

#define BANDIT_VERSION 1
#define SUMMARY_VERSION 1
#define MAX_ARMS 64

static void usage(void)
{
    printf("Usage: thompson-eval --arm SPEC --arm SPEC... [OPTION]... [GOALS]...\n"
           "Compare agents (arms) on goal records (stdin or GOALS files, e.g. `goals -s eval`) by\n"
           "Thompson sampling: R independent runs of N rounds; each round draws every arm's success\n"
           "posterior (Beta(1,1) prior), plays one episode of the arm with the largest draw on the\n"
           "run's next goal (a seeded shuffle per run, reused when exhausted) and updates. One bandit\n"
           "record per round (arm, goal, reward, the draws, every arm's posterior after the update)\n"
           "goes to stdout, in the order played: round by round, the runs side by side. With\n"
           "--fixed N every arm plays the first N goals instead (no bandit): one record per arm and\n"
           "goal. The same arguments give the same records, byte for byte.\n\n"
           "Arms:\n"
           "  -a, --arm SPEC       random or oracle (the built-in policies), NAME=CKPT (a checkpoint,\n"
           "                       played by argmax or --temperature), or NAME=random, NAME=oracle;\n"
           "                       NAME: letters, digits and ._+- (give ./random for a file so named)\n"
           "Thompson sampling:\n"
           "      --runs R         independent runs [1]\n"
           "      --rounds N       rounds per run [100]\n"
           "      --seed S         seed of the draws, goal orders and the policies' choices [0]\n"
           "      --batch B        arms drawn per run from one posterior before updating [1]\n"
           "      --objective O    success (reward = 1) or score (mean reward) for the draws [success]\n"
           "      --fixed N        fixed budget instead: every arm plays the first N goals in the\n"
           "                       given order (--runs, --rounds, --batch, --objective do not apply)\n"
           "Reports:\n"
           "      --summary FILE   summary records: per arm and run and pooled: pulls, success rate\n"
           "                       and score with intervals, probability of being best\n"
           "      --table FILE     the same as a Markdown table\n"
           "      --plots DIR      running success rate and score per arm and run, pulls per arm:\n"
           "                       PNG files drawn by gnuplot (data and plots.gp kept in DIR)\n"
           "      --level L        interval level [0.95]\n"
           "      --draws N        Monte Carlo draws for P(best) [100000]\n"
           "Model arms:\n"
           "      --temperature T  sample from softmax(logits / T); 0 takes the argmax [0]\n"
           "      --parallel N     episodes in flight per model arm, scored in one batch [16]\n"
           "%s"
           "Environment:\n"
           "%s"
           "Output:\n"
           "  -o, --output FILE    write the records to FILE (zstd when it ends in .zst)\n"
           "  -z, --zstd           compress the output with zstd\n"
           "  -q, --quiet          no progress or summary on stderr\n"
           "      --help, --version\n\n"
           "Intervals: Thompson mode reports posterior means with equal-tailed credible intervals\n"
           "(success: Beta(1 + s, 1 + f); score: Beta(1 + sum r, 1 + sum (1 - r)), the reward as a\n"
           "fractional Bernoulli outcome); fixed mode reports observed rates with Wilson intervals and\n"
           "mean scores with Student-t intervals. P(best) is the posterior probability that an arm\n"
           "has the highest success rate (score), by Monte Carlo with a fixed seed.\n\n"
           "Exit status: 0 on success, 1 on bad input or I/O error, 2 on a usage error, 130/143 when\n"
           "interrupted: the records, summary and table of the rounds every run finished are kept as\n"
           "FILE.partial (the summary records marked \"interrupted\"; no plots).\n",
           ws_play_model_usage(), ws_play_env_usage());
}

typedef struct arm {
    const char *name;
    char *owned;            /* the name's storage when cut from NAME=... */
    const char *ckpt;       /* NULL for a built-in policy */
    ws_policy_kind builtin;
    ws_agent agent;
    ws_runner *runner;
} arm;

typedef struct job {
    int run;
    long round;
    int arm;
    size_t goal;            /* index into the goals */
    uint64_t key;           /* the episode key (see the top of the file) */
    double reward;
    int success;
    double *draws;          /* the Thompson draws that chose the arm (n_arms) */
} job;

typedef struct ctx {
    ws_cli *cli;
    arm *arms;
    int n_arms;
    json_t **goals;
    size_t n_goals;
    long seed;
    double level;
    long mc_draws;
    ws_bandit_objective objective;
    int interrupted;        /* the reports cover the rounds finished before a signal */
    ws_err err;
} ctx;

/* ------------------------------------------------------------------ arms */

static int valid_name(const char *s, size_t n)
{
    if (n == 0)
        return 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '.' || c == '_' ||
              c == '+' || c == '-'))
            return 0;
    }
    return 1;
}

static void parse_arm(ws_cli *cli, const char *spec, arm *a)
{
    memset(a, 0, sizeof *a);
    const char *eq = strchr(spec, '=');
    if (!eq) {
        if (ws_policy_parse(spec, &a->builtin))
            ws_cli_usage_error(cli, "--arm: unknown arm '%s': expected random, oracle or NAME=CKPT", spec);
        a->name = spec;
        return;
    }
    size_t n = (size_t)(eq - spec);
    if (!valid_name(spec, n))
        ws_cli_usage_error(cli, "--arm: '%s': NAME must be letters, digits and ._+- before the '='", spec);
    char *name = strndup(spec, n);
    if (!name)
        ws_cli_die(cli, WS_EXIT_FAIL, "out of memory");
    a->name = a->owned = name;
    const char *what = eq + 1;
    if (!*what)
        ws_cli_usage_error(cli, "--arm: '%s': no checkpoint after '='", spec);
    if (ws_policy_parse(what, &a->builtin) == 0)
        return;
    a->ckpt = what;
}

/* The episode's goal record: the goal itself, or a shallow copy under the episode key. */
static json_t *keyed_goal(json_t *goal, uint64_t key)
{
    json_int_t id = json_integer_value(json_object_get(goal, "goal_id"));
    if ((uint64_t)id == key)
        return json_incref(goal);
    json_t *g = json_copy(goal);
    if (g)
        json_object_set_new(g, "goal_id", json_integer((json_int_t)key));
    return g;
}

static uint64_t episode_key(json_t *goal, int run, long pass)
{
    uint64_t id = (uint64_t)json_integer_value(json_object_get(goal, "goal_id"));
    return id + ((((uint64_t)run << 20) + (uint64_t)pass) << 32);
}

/* Play the jobs of one arm (indices idx[0..n-1] into jobs), `parallel` at a time. */
static int play_jobs(ctx *c, arm *a, job *jobs, const size_t *idx, size_t n)
{
    int slots = ws_runner_parallel(a->runner);
    json_t *goals[4096], *trajs[4096];
    for (size_t at = 0; at < n; at += (size_t)slots) {
        int k = (int)(n - at < (size_t)slots ? n - at : (size_t)slots);
        int made = 0;
        for (int i = 0; i < k; i++, made++) {
            job *j = &jobs[idx[at + (size_t)i]];
            if (!(goals[i] = keyed_goal(c->goals[j->goal], j->key)))
                break;
        }
        int rc = made < k ? ws_fail(&c->err, "out of memory") : ws_runner_play(a->runner, goals, k, trajs, &c->err);
        for (int i = 0; i < made; i++)
            json_decref(goals[i]);
        if (rc)
            return ws_fail_prefix(&c->err, a->name);
        for (int i = 0; i < k; i++) {
            job *j = &jobs[idx[at + (size_t)i]];
            j->reward = json_number_value(json_object_get(trajs[i], "reward"));
            j->success = j->reward == 1.0;
            json_decref(trajs[i]);
            if (!(j->reward >= 0 && j->reward <= 1))
                return ws_fail(&c->err, "%s: reward %g out of [0, 1]", a->name, j->reward);
        }
    }
    return 0;
}

/* Every job, grouped by arm (each arm's episodes in one batch stream), in arm order. */
static int play_all(ctx *c, job *jobs, size_t n, size_t *idx)
{
    for (int a = 0; a < c->n_arms; a++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (jobs[i].arm == a)
                idx[k++] = i;
        if (k && play_jobs(c, &c->arms[a], jobs, idx, k))
            return -1;
    }
    return 0;
}

/* ------------------------------------------------------------------ records */

static json_t *posterior_json(const ctx *c, const ws_arm_post *post)
{
    json_t *o = json_object();
    for (int a = 0; a < c->n_arms; a++) {
        const ws_arm_post *p = &post[a];
        json_object_set_new(
            o, c->arms[a].name,
            json_pack("{s:f, s:f, s:I, s:I, s:f, s:f, s:f, s:f, s:f}", "alpha", p->alpha, "beta", p->beta, "pulls",
                      (json_int_t)p->pulls, "successes", (json_int_t)p->successes, "mean", ws_arm_success_mean(p),
                      "score_alpha", p->score_alpha, "score_beta", p->score_beta, "score_mean", ws_arm_score_mean(p),
                      "score_sd", ws_arm_score_sd(p)));
    }
    return o;
}

static json_t *bandit_record(const ctx *c, const job *j, const ws_arm_post *post, int fixed)
{
    json_t *goal = c->goals[j->goal];
    json_t *r = json_pack("{s:s, s:i, s:s, s:i, s:I, s:s, s:I, s:f, s:b}", "type", "bandit", "v", BANDIT_VERSION,
                          "mode", fixed ? "fixed" : "thompson", "run", j->run, "round", (json_int_t)j->round, "arm",
                          c->arms[j->arm].name, "goal_id", json_integer_value(json_object_get(goal, "goal_id")),
                          "reward", j->reward, "success", j->success);
    if (!r)
        return NULL;
    if (!fixed) {
        json_t *d = json_object();
        for (int a = 0; a < c->n_arms; a++)
            json_object_set_new(d, c->arms[a].name, json_real(j->draws[a]));
        json_object_set_new(r, "draws", d);
    }
    json_object_set_new(r, "posterior", posterior_json(c, post));
    return r;
}

/* ------------------------------------------------------------------ text files */

/* A whole text file, through lib/io/outfile (renamed into place when complete, as "<path><suffix>"
 * with a suffix). */
static int write_file(const char *path, const ws_strbuf *b, const char *suffix, ws_err *err)
{
    if (b->oom)
        return ws_fail(err, "%s: out of memory", path);
    ws_outfile *f = ws_outfile_open(path, err);
    if (!f)
        return -1;
    if (ws_outfile_write(f, b->s, b->len, err)) {
        ws_outfile_discard(f);
        return -1;
    }
    return ws_outfile_commit(f, suffix, err);
}

/* ------------------------------------------------------------------ summaries */

typedef struct arm_report {
    const ws_arm_post *post;
    double p_best, p_best_score;
    ws_interval success_ci, score_ci;
    double success_value, score_value;
} arm_report;

/* Intervals and P(best) for a group of arms (a run, or pooled). */
static void report_group(const ctx *c, const ws_arm_post *post, int fixed, uint64_t mc_seed, arm_report *out)
{
    double pb[MAX_ARMS], pbs[MAX_ARMS];
    ws_p_best(post, (size_t)c->n_arms, WS_BANDIT_SUCCESS, c->mc_draws, mc_seed, pb);
    ws_p_best(post, (size_t)c->n_arms, WS_BANDIT_SCORE, c->mc_draws, mc_seed + 1, pbs);
    for (int a = 0; a < c->n_arms; a++) {
        const ws_arm_post *p = &post[a];
        arm_report *r = &out[a];
        r->post = p;
        r->p_best = pb[a];
        r->p_best_score = pbs[a];
        if (fixed) {
            r->success_value = ws_arm_success_rate(p);
            r->success_ci = ws_wilson(p->successes, p->pulls, c->level);
            r->score_value = ws_arm_mean_score(p);
            ws_interval t = ws_t_interval(r->score_value, 100 * ws_arm_reward_sd(p), p->pulls, c->level);
            /* the score lies in [0, 100]: clipping can only raise the coverage */
            r->score_ci = (ws_interval){fmax(t.low, 0), fmin(t.high, 100)};
            if (isnan(t.low))
                r->score_ci = t;
        } else {
            r->success_value = ws_arm_success_mean(p);
            r->success_ci = ws_beta_credible(p->alpha, p->beta, c->level);
            r->score_value = ws_arm_score_mean(p);
            ws_interval s = ws_beta_credible(p->score_alpha, p->score_beta, c->level);
            r->score_ci = (ws_interval){100 * s.low, 100 * s.high};
        }
    }
}

static json_t *summary_json(const char *scope, int run, int fixed, const char *measure, double value, long count)
{
    return json_pack("{s:s, s:i, s:s, s:o, s:s, s:s, s:f, s:I}", "type", "summary", "v", SUMMARY_VERSION, "scope",
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

static int put_group(ctx *c, ws_writer *w, int run, int fixed, long rounds, const arm_report *rep)
{
    for (int a = 0; a < c->n_arms; a++) {
        const arm_report *r = &rep[a];
        const ws_arm_post *p = r->post;
        const char *name = c->arms[a].name;
        json_t *recs[5];
        recs[0] = summary_json(name, run, fixed, "pulls", (double)p->pulls, rounds);
        recs[1] = summary_json(name, run, fixed, "success_rate", r->success_value, p->pulls);
        json_object_set_new(recs[1], "successes", json_integer((json_int_t)p->successes));
        add_ci(recs[1], r->success_ci, c->level, fixed ? "wilson" : "beta_posterior");
        recs[2] = summary_json(name, run, fixed, "score", r->score_value, p->pulls);
        add_ci(recs[2], r->score_ci, c->level, fixed ? "student_t" : "beta_posterior_fractional");
        recs[3] = summary_json(name, run, fixed, "p_best", r->p_best, c->mc_draws);
        json_object_set_new(recs[3], "method", json_string("monte_carlo_beta_posterior"));
        recs[4] = summary_json(name, run, fixed, "p_best_score", r->p_best_score, c->mc_draws);
        json_object_set_new(recs[4], "method", json_string("monte_carlo_beta_posterior_fractional"));
        int rc = 0;
        for (int i = 0; i < 5; i++) {
            if (c->interrupted)
                json_object_set_new(recs[i], "interrupted", json_true());
            if (rc == 0 && ws_writer_put(w, recs[i], &c->err))
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
        ws_strbuf_printf(t, "| %sarm | pulls | share | successes | success rate %% [%d%% CrI] | score [%d%% CrI] | P(best) | "
                     "P(best score) |\n|%s:--|--:|--:|--:|:--|:--|--:|--:|\n",
                  per_run ? "run | " : "", pct, pct, per_run ? "--:|" : "");
}

static void table_rows(ws_strbuf *t, const ctx *c, int fixed, int run, long rounds, const arm_report *rep)
{
    for (int a = 0; a < c->n_arms; a++) {
        const arm_report *r = &rep[a];
        const ws_arm_post *p = r->post;
        if (run >= 0)
            ws_strbuf_printf(t, "| %d ", run);
        ws_strbuf_printf(t, "| %s | %ld ", c->arms[a].name, p->pulls);
        if (!fixed)
            ws_strbuf_printf(t, "| %.1f%% ", rounds ? 100.0 * (double)p->pulls / (double)rounds : 0.0);
        ws_strbuf_printf(t, "| %ld | %.1f [%.1f, %.1f] ", p->successes, 100 * r->success_value, 100 * r->success_ci.low,
                  100 * r->success_ci.high);
        if (isnan(r->score_ci.low))
            ws_strbuf_printf(t, "| %.1f [n/a] ", r->score_value);
        else
            ws_strbuf_printf(t, "| %.1f [%.1f, %.1f] ", r->score_value, r->score_ci.low, r->score_ci.high);
        ws_strbuf_printf(t, "| %.3f | %.3f |\n", r->p_best, r->p_best_score);
    }
}

/* ------------------------------------------------------------------ plots */

/* Running success rate and score per arm over the rounds of one run (the records in order). */
typedef struct curve {
    long *pulls, *succ; /* [rounds * arms] cumulative */
    double *rsum;
} curve;

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

static int write_curve(ctx *c, const char *dir, const char *file, const curve *cv, long rounds, ws_err *err)
{
    ws_strbuf b = {0};
    ws_strbuf_printf(&b, "# round");
    for (int a = 0; a < c->n_arms; a++)
        ws_strbuf_printf(&b, "\t%s:success_rate\t%s:score\t%s:pulls", c->arms[a].name, c->arms[a].name, c->arms[a].name);
    ws_strbuf_printf(&b, "\n");
    for (long t = 0; t < rounds; t++) {
        ws_strbuf_printf(&b, "%ld", t + 1);
        for (int a = 0; a < c->n_arms; a++) {
            size_t i = (size_t)t * (size_t)c->n_arms + (size_t)a;
            if (cv->pulls[i] == 0)
                ws_strbuf_printf(&b, "\t?\t?\t0");
            else
                ws_strbuf_printf(&b, "\t%.6g\t%.6g\t%ld", 100.0 * (double)cv->succ[i] / (double)cv->pulls[i],
                          100.0 * cv->rsum[i] / (double)cv->pulls[i], cv->pulls[i]);
        }
        ws_strbuf_printf(&b, "\n");
    }
    char path[4200];
    snprintf(path, sizeof path, "%s/%s", dir, file);
    int rc = write_file(path, &b, NULL, err);
    free(b.s);
    return rc;
}

/* Run gnuplot on DIR/plots.gp in DIR. 0 done, 1 gnuplot not found, -1 error. */
static int run_gnuplot(const char *dir, int quiet, ws_err *err)
{
    const char *prog = getenv("GNUPLOT");
    if (!prog || !*prog)
        prog = "gnuplot";
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0)
        return ws_fail(err, "fork: %s", strerror(errno));
    if (pid == 0) {
        if (chdir(dir))
            _exit(126);
        int devnull = open("/dev/null", O_RDWR);
        if (devnull >= 0) {
            dup2(devnull, 0);
            dup2(quiet ? devnull : 2, 1);
        }
        execlp(prog, prog, "plots.gp", (char *)NULL);
        _exit(errno == ENOENT ? 127 : 126);
    }
    int status;
    while (waitpid(pid, &status, 0) < 0)
        if (errno != EINTR)
            return ws_fail(err, "waitpid: %s", strerror(errno));
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
        return 0;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 127)
        return 1;
    if (WIFEXITED(status))
        return ws_fail(err, "%s/plots.gp: %s exited with status %d", dir, prog, WEXITSTATUS(status));
    return ws_fail(err, "%s/plots.gp: %s killed by signal %d", dir, prog, WTERMSIG(status));
}

static int write_plots(ctx *c, const char *dir, int fixed, int runs, long rounds, curve *curves,
                       const ws_arm_post *post /* [runs * arms] */)
{
    if (mkdir_p(dir, &c->err))
        return -1;
    char file[64];
    for (int r = 0; r < runs; r++) {
        snprintf(file, sizeof file, "running-run%d.tsv", r);
        if (write_curve(c, dir, file, &curves[r], rounds, &c->err))
            return -1;
    }
    ws_strbuf b = {0};
    if (!fixed) {
        ws_strbuf_printf(&b, "arm"); /* a header row, read by columnheader() */
        for (int r = 0; r < runs; r++)
            ws_strbuf_printf(&b, "\trun%d", r);
        ws_strbuf_printf(&b, "\n");
        for (int a = 0; a < c->n_arms; a++) {
            ws_strbuf_printf(&b, "%s", c->arms[a].name);
            for (int r = 0; r < runs; r++)
                ws_strbuf_printf(&b, "\t%ld", post[(size_t)r * (size_t)c->n_arms + (size_t)a].pulls);
            ws_strbuf_printf(&b, "\n");
        }
        char path[4200];
        snprintf(path, sizeof path, "%s/pulls.tsv", dir);
        int rc = write_file(path, &b, NULL, &c->err);
        free(b.s);
        if (rc)
            return -1;
        b = (ws_strbuf){0};
    }
    /* the script: self-contained, run in DIR (cd DIR && gnuplot plots.gp) */
    const char *what = fixed ? "fixed budget" : "Thompson sampling";
    ws_strbuf_printf(&b, "# thompson-eval plots: cd into this directory and run `gnuplot plots.gp`.\n"
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
              rounds > 1 ? rounds : 2);
    for (int a = 0; a < c->n_arms; a++)
        ws_strbuf_printf(&b, "%s%s", a ? " " : "", c->arms[a].name);
    ws_strbuf_printf(&b, "\"\nn_arms = %d\n", c->n_arms);
    for (int r = 0; r < runs; r++) {
        ws_strbuf_printf(&b,
                  "\nset output \"success-run%d.png\"\n"
                  "set title \"Running success rate, run %d (%s)\"\n"
                  "set ylabel \"success rate (%%)\"\n"
                  "set yrange [0:100]\n"
                  "plot for [i=1:n_arms] \"running-run%d.tsv\" using 1:(column(3*i-1)) with lines lw 2 "
                  "title word(arms, i)\n"
                  "set output \"score-run%d.png\"\n"
                  "set title \"Running score, run %d (%s)\"\n"
                  "set ylabel \"score (100 x mean reward)\"\n"
                  "plot for [i=1:n_arms] \"running-run%d.tsv\" using 1:(column(3*i)) with lines lw 2 "
                  "title word(arms, i)\n",
                  r, r, what, r, r, r, what, r);
    }
    if (!fixed)
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
                  runs, rounds, runs + 1);
    char path[4200];
    snprintf(path, sizeof path, "%s/plots.gp", dir);
    int rc = write_file(path, &b, NULL, &c->err);
    free(b.s);
    if (rc)
        return -1;
    rc = run_gnuplot(dir, c->cli->quiet, &c->err);
    if (rc == 1)
        ws_cli_warn(c->cli, "gnuplot not found: %s holds the plot data and plots.gp, no PNG files", dir);
    return rc < 0 ? -1 : 0;
}

/* ------------------------------------------------------------------ main */

static void curve_add(curve *cv, int n_arms, long round, int a, double reward)
{
    size_t base = (size_t)round * (size_t)n_arms;
    if (round > 0)
        for (int k = 0; k < n_arms; k++) {
            cv->pulls[base + (size_t)k] = cv->pulls[base - (size_t)n_arms + (size_t)k];
            cv->succ[base + (size_t)k] = cv->succ[base - (size_t)n_arms + (size_t)k];
            cv->rsum[base + (size_t)k] = cv->rsum[base - (size_t)n_arms + (size_t)k];
        }
    cv->pulls[base + (size_t)a]++;
    cv->succ[base + (size_t)a] += reward == 1.0;
    cv->rsum[base + (size_t)a] += reward;
}

/* In fixed mode all arms play the same round: copy forward once, then add each arm. */
static void curve_carry(curve *cv, int n_arms, long round)
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

/* A goal of the catalog played, with the goal_id the bandit records name it by (the reader puts
 * the file and line in front of a refusal). */
static int check_goal(const json_t *goal, void *cat, ws_err *err)
{
    if (ws_goal_check_origin(goal, cat, err))
        return -1;
    return json_is_integer(json_object_get(goal, "goal_id")) ? 0 : ws_fail(err, "goal record without an integer goal_id");
}

/* The goal records of the file arguments (stdin without any); -2 when interrupted. */
static int read_goals(ctx *c, ws_catalog *cat, char *const *paths, int n_paths)
{
    ws_reader_opts ro = {.type = "goal", .version = WS_GOAL_VERSION, .check = check_goal, .check_ctx = cat};
    ws_inputs *in = ws_inputs_open((const char *const *)paths, n_paths, &ro, &c->err);
    if (!in)
        return -1;
    int rc = ws_inputs_read_all(in, &c->goals, &c->n_goals, &c->err);
    ws_inputs_close(in);
    if (rc == WS_INTERRUPTED)
        return -2;
    if (rc != WS_EOF)
        return -1;
    if (c->n_goals == 0)
        return ws_fail(&c->err, "no goal records in the input");
    return 0;
}

int main(int argc, char **argv)
{
    ws_cli_omp_passive(argv);
    ws_cli cli = {.tool = "thompson-eval"};
    const char *output = "-", *summary_path = NULL, *table_path = NULL, *plots_dir = NULL;
    long runs = 1, rounds = 100, seed = 0, batch = 1, fixed = 0, mc_draws = 100000;
    double level = 0.95;
    ws_bandit_objective objective = WS_BANDIT_SUCCESS;
    ws_play_opts po;
    ws_play_opts_default(&po);
    ws_writer_opts wo = {WS_COMPRESS_AUTO, 0};
    arm arms[MAX_ARMS];
    int n_arms = 0;
    enum { OPT_RUNS = 256, OPT_ROUNDS, OPT_SEED, OPT_BATCH, OPT_OBJECTIVE, OPT_FIXED, OPT_SUMMARY, OPT_TABLE,
           OPT_PLOTS, OPT_LEVEL, OPT_DRAWS, OPT_HELP, OPT_VERSION };
    static const struct option longopts[] = {
        {"arm", required_argument, 0, 'a'}, {"runs", required_argument, 0, OPT_RUNS},
        {"rounds", required_argument, 0, OPT_ROUNDS}, {"seed", required_argument, 0, OPT_SEED},
        {"batch", required_argument, 0, OPT_BATCH}, {"objective", required_argument, 0, OPT_OBJECTIVE},
        {"fixed", required_argument, 0, OPT_FIXED}, {"summary", required_argument, 0, OPT_SUMMARY},
        {"table", required_argument, 0, OPT_TABLE}, {"plots", required_argument, 0, OPT_PLOTS},
        {"level", required_argument, 0, OPT_LEVEL}, {"draws", required_argument, 0, OPT_DRAWS},
        {"output", required_argument, 0, 'o'}, {"zstd", no_argument, 0, 'z'}, {"quiet", no_argument, 0, 'q'},
        {"help", no_argument, 0, OPT_HELP}, {"version", no_argument, 0, OPT_VERSION},
        WS_PLAY_MODEL_LONGOPTS, WS_PLAY_AGENT_LONGOPTS, WS_PLAY_ENV_LONGOPTS, {0, 0, 0, 0}};
    int opt;
    while ((opt = getopt_long(argc, argv, "a:d:o:zq", longopts, NULL)) != -1) {
        switch (opt) {
        case 'a':
            if (n_arms == MAX_ARMS)
                ws_cli_usage_error(&cli, "--arm: at most %d arms", MAX_ARMS);
            parse_arm(&cli, optarg, &arms[n_arms]);
            for (int k = 0; k < n_arms; k++)
                if (strcmp(arms[k].name, arms[n_arms].name) == 0)
                    ws_cli_usage_error(&cli, "--arm: two arms named '%s' (give NAME=...)", arms[k].name);
            n_arms++;
            break;
        case OPT_RUNS: runs = ws_cli_long(&cli, "--runs", optarg, 1, 1000); break;
        case OPT_ROUNDS: rounds = ws_cli_long(&cli, "--rounds", optarg, 1, 1000000); break;
        case OPT_SEED: seed = ws_cli_long(&cli, "--seed", optarg, 0, 0x7fffffffL); break;
        case OPT_BATCH: batch = ws_cli_long(&cli, "--batch", optarg, 1, 4096); break;
        case OPT_OBJECTIVE:
            if (strcmp(optarg, "success") == 0)
                objective = WS_BANDIT_SUCCESS;
            else if (strcmp(optarg, "score") == 0)
                objective = WS_BANDIT_SCORE;
            else
                ws_cli_usage_error(&cli, "--objective: expected success or score, got '%s'", optarg);
            break;
        case OPT_FIXED: fixed = ws_cli_long(&cli, "--fixed", optarg, 1, 100000000); break;
        case OPT_SUMMARY: summary_path = optarg; break;
        case OPT_TABLE: table_path = optarg; break;
        case OPT_PLOTS: plots_dir = optarg; break;
        case OPT_LEVEL: level = ws_cli_double(&cli, "--level", optarg, 0.5, 0.9999); break;
        case OPT_DRAWS: mc_draws = ws_cli_long(&cli, "--draws", optarg, 100, 100000000); break;
        case 'o': output = optarg; break;
        case 'z': wo.compress = WS_COMPRESS_YES; break;
        case 'q': cli.quiet = 1; break;
        case OPT_HELP: usage(); return 0;
        case OPT_VERSION: ws_cli_version(&cli); return 0;
        default:
            if (!ws_play_option(&po, &cli, opt, optarg))
                ws_cli_usage_error(&cli, "unknown option");
        }
    }
    if (n_arms == 0)
        ws_cli_usage_error(&cli, "give the arms to compare with --arm (random, oracle or NAME=CKPT)");
    int any_model = 0;
    for (int a = 0; a < n_arms; a++)
        any_model |= arms[a].ckpt != NULL;

    char dirbuf[4096];
    const char *dir = ws_cli_data_dir(&cli, po.data, dirbuf, sizeof dirbuf);
    ws_interrupt_install();

    ctx c = {.cli = &cli, .arms = arms, .n_arms = n_arms, .seed = seed, .level = level, .mc_draws = mc_draws,
             .objective = objective};
    /* the models first, each loaded once: a missing checkpoint fails before any work */
    ws_vocab *vocab = NULL;
    char *vocab_sha[MAX_ARMS] = {0};
    char vocabbuf[PATH_MAX + 64];
    const char *vocab_path = ws_vocab_path(po.vocab_path, vocabbuf, sizeof vocabbuf);
    if (any_model)
        ws_backend_set_threads((int)po.threads);
    for (int a = 0; a < n_arms; a++) {
        if (!arms[a].ckpt)
            continue;
        ws_ckpt_meta meta = {0};
        arms[a].agent = ws_play_agent(&po);
        if (!(arms[a].agent.model = ws_modelio_load(arms[a].ckpt, &meta, &c.err)))
            ws_cli_die(&cli, WS_EXIT_FAIL, "arm '%s': %s", arms[a].name, c.err.msg);
        ws_play_place_model(&po, &cli, arms[a].agent.model);
        if (meta.vocab_sha256 && *meta.vocab_sha256 && !(vocab_sha[a] = strdup(meta.vocab_sha256)))
            ws_cli_die(&cli, WS_EXIT_FAIL, "out of memory");
        ws_ckpt_meta_free(&meta);
    }
    if (any_model && !(vocab = ws_vocab_load(vocab_path, &c.err)))
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", c.err.msg);
    for (int a = 0; a < n_arms; a++) {
        if (arms[a].ckpt && ws_modelio_check_vocab(arms[a].ckpt, vocab_sha[a], vocab_path, vocab, &c.err))
            ws_cli_die(&cli, WS_EXIT_FAIL, "arm '%s': %s", arms[a].name, c.err.msg);
        free(vocab_sha[a]);
        arms[a].agent.vocab = vocab;
    }
    ws_catalog cat;
    ws_env *env = ws_play_env_new(&po, &cli, dir, &cat);
    int rc = read_goals(&c, &cat, argv + optind, argc - optind);
    if (rc == -2)
        return ws_interrupt_status();
    if (rc)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", c.err.msg);
    if (fixed && (size_t)fixed > c.n_goals)
        ws_cli_die(&cli, WS_EXIT_FAIL, "--fixed %ld: only %zu goals given", fixed, c.n_goals);
    if (!fixed && (size_t)rounds > c.n_goals)
        ws_cli_warn(&cli, "%zu goals for %ld rounds: each run goes through its goal order again", c.n_goals, rounds);

    for (int a = 0; a < n_arms; a++) {
        ws_runner_opts ropts = {.episode = po.episode, .parallel = arms[a].ckpt ? (int)po.parallel : 1, .seed = seed,
                                .builtin = arms[a].builtin, .agent = arms[a].ckpt ? &arms[a].agent : NULL,
                                .policy_name = arms[a].ckpt ? arms[a].name : NULL};
        if (!(arms[a].runner = ws_runner_new(env, &ropts, &c.err)))
            ws_cli_die(&cli, WS_EXIT_FAIL, "arm '%s': %s", arms[a].name, c.err.msg);
    }
    ws_writer *w = ws_writer_open(output, &wo, &c.err);
    if (!w)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", c.err.msg);

    int n_runs = fixed ? 1 : (int)runs;
    long n_rounds = fixed ? fixed : rounds;
    size_t na = (size_t)n_arms;
    ws_arm_post *post = calloc((size_t)n_runs * na, sizeof *post);
    ws_rng *ts_rng = calloc((size_t)n_runs, sizeof *ts_rng);
    size_t **order = calloc((size_t)n_runs, sizeof *order);
    curve *curves = calloc((size_t)n_runs, sizeof *curves);
    /* jobs of one step: every run's rounds (Thompson) or every arm on a chunk of goals (fixed) */
    size_t step_jobs = fixed ? na * (size_t)po.parallel : (size_t)n_runs * (size_t)batch;
    job *jobs = calloc(step_jobs, sizeof *jobs);
    size_t *idx = calloc(step_jobs, sizeof *idx);
    double *draws = calloc(step_jobs * na, sizeof *draws);
    if (!post || !ts_rng || !order || !curves || !jobs || !idx || !draws)
        ws_cli_die(&cli, WS_EXIT_FAIL, "out of memory");
    for (size_t i = 0; i < step_jobs; i++)
        jobs[i].draws = &draws[i * na];
    for (int r = 0; r < n_runs; r++) {
        char name[64];
        for (size_t a = 0; a < na; a++)
            ws_arm_init(&post[(size_t)r * na + a], 1, 1);
        snprintf(name, sizeof name, "thompson-draws-%d", r);
        ws_rng_seed(&ts_rng[r], (uint64_t)seed, name);
        if (!(order[r] = malloc(c.n_goals * sizeof **order)))
            ws_cli_die(&cli, WS_EXIT_FAIL, "out of memory");
        for (size_t i = 0; i < c.n_goals; i++)
            order[r][i] = i;
        if (!fixed) {
            ws_rng shuffle;
            snprintf(name, sizeof name, "thompson-goals-%d", r);
            ws_rng_seed(&shuffle, (uint64_t)seed, name);
            ws_rng_shuffle(&shuffle, order[r], c.n_goals);
        }
        size_t cells = (size_t)n_rounds * na;
        if (plots_dir && (!(curves[r].pulls = calloc(cells, sizeof(long))) ||
                          !(curves[r].succ = calloc(cells, sizeof(long))) ||
                          !(curves[r].rsum = calloc(cells, sizeof(double)))))
            ws_cli_die(&cli, WS_EXIT_FAIL, "out of memory");
    }

    ws_progress progress;
    ws_progress_start(&progress, cli.tool, "episodes", (long)n_runs * n_rounds * (fixed ? n_arms : 1), cli.quiet);
    long episodes = 0;
    int failed = 0;
    long t0 = 0; /* rounds (fixed: goals) every run has finished */
    for (; t0 < n_rounds && !ws_interrupted() && !failed;) {
        size_t n = 0;
        long nb;
        if (fixed) {
            nb = n_rounds - t0 < po.parallel ? n_rounds - t0 : po.parallel;
            for (long b = 0; b < nb; b++)
                for (int a = 0; a < n_arms; a++) {
                    job *j = &jobs[n++];
                    j->run = 0;
                    j->round = t0 + b;
                    j->arm = a;
                    j->goal = order[0][t0 + b];
                    j->key = episode_key(c.goals[j->goal], 0, 0);
                }
        } else {
            nb = n_rounds - t0 < batch ? n_rounds - t0 : batch;
            for (int r = 0; r < n_runs; r++)
                for (long b = 0; b < nb; b++) {
                    job *j = &jobs[n++];
                    long t = t0 + b;
                    j->run = r;
                    j->round = t;
                    j->arm = (int)ws_thompson_choose(&post[(size_t)r * na], na, objective, &ts_rng[r], j->draws);
                    j->goal = order[r][(size_t)t % c.n_goals];
                    j->key = episode_key(c.goals[j->goal], r, (long)((size_t)t / c.n_goals));
                }
        }
        if (play_all(&c, jobs, n, idx)) {
            failed = 1;
            break;
        }
        /* updates and records in (run, round, arm) order */
        for (size_t i = 0; i < n && !failed; i++) {
            job *j = &jobs[i];
            ws_arm_post *rp = &post[(size_t)j->run * na];
            ws_arm_update(&rp[j->arm], j->reward);
            if (plots_dir) {
                if (!fixed)
                    curve_add(&curves[j->run], n_arms, j->round, j->arm, j->reward);
                else {
                    if (j->arm == 0)
                        curve_carry(&curves[0], n_arms, j->round);
                    size_t cell = (size_t)j->round * na + (size_t)j->arm;
                    curves[0].pulls[cell]++;
                    curves[0].succ[cell] += j->success;
                    curves[0].rsum[cell] += j->reward;
                }
            }
            json_t *rec = bandit_record(&c, j, rp, (int)(fixed != 0));
            if (!rec || ws_writer_put(w, rec, &c.err)) {
                if (!rec)
                    ws_fail(&c.err, "out of memory");
                failed = 1;
            }
            json_decref(rec);
        }
        episodes += (long)n;
        t0 += nb;
        ws_progress_update(&progress, episodes);
    }
    if (failed) {
        ws_writer_discard(w);
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", c.err.msg);
    }
    ws_progress_end(&progress);
    c.interrupted = ws_interrupted() != 0;
    int status = ws_cli_close_output(&cli, w);
    /* A cut run reports the rounds it finished, as its records do, under the .partial names (the
     * final names stay for a complete run); the plots are left out. */
    const char *suffix = c.interrupted ? ".partial" : NULL;
    long asked = n_rounds;
    n_rounds = t0;
    if (c.interrupted)
        ws_cli_warn(&cli, "interrupted after %ld of %ld %s%s", n_rounds, asked, fixed ? "goals" : "rounds",
                    summary_path || table_path ? ": the summary and table cover those (FILE.partial)" : "");

    /* reports: per run (Thompson) and pooled */
    arm_report *reps = calloc((size_t)(n_runs + 1) * na, sizeof *reps);
    ws_arm_post *pooled = calloc(na, sizeof *pooled);
    if (!reps || !pooled)
        ws_cli_die(&cli, WS_EXIT_FAIL, "out of memory");
    for (size_t a = 0; a < na; a++) {
        ws_arm_init(&pooled[a], 1, 1);
        for (int r = 0; r < n_runs; r++)
            ws_arm_merge(&pooled[a], &post[(size_t)r * na + a]);
    }
    int is_fixed = fixed != 0;
    uint64_t mc_seed = (uint64_t)seed * 2654435761u + 17;
    for (int r = 0; r < n_runs && !is_fixed; r++)
        report_group(&c, &post[(size_t)r * na], 0, mc_seed + 2 * (uint64_t)(r + 1), &reps[(size_t)r * na]);
    arm_report *pooled_rep = &reps[(size_t)n_runs * na];
    report_group(&c, pooled, is_fixed, mc_seed, pooled_rep);
    long total_rounds = (long)n_runs * n_rounds;

    if (summary_path) {
        ws_writer *sw = ws_writer_open(summary_path, NULL, &c.err);
        int bad = !sw;
        for (int r = 0; r < n_runs && !is_fixed && !bad; r++)
            bad = put_group(&c, sw, r, 0, n_rounds, &reps[(size_t)r * na]) != 0;
        if (!bad)
            bad = put_group(&c, sw, -1, is_fixed, is_fixed ? n_rounds : total_rounds, pooled_rep) != 0;
        if (bad) {
            if (sw)
                ws_writer_discard(sw);
            ws_cli_die(&cli, WS_EXIT_FAIL, "%s", c.err.msg);
        }
        if ((c.interrupted ? ws_writer_close_partial : ws_writer_close)(sw, &c.err))
            ws_cli_die(&cli, WS_EXIT_FAIL, "%s", c.err.msg);
    }
    if (table_path) {
        ws_strbuf t = {0};
        int pct = (int)lround(level * 100);
        if (is_fixed) {
            ws_strbuf_printf(&t,
                      "# Fixed-budget evaluation: %d arms x %ld goals (seed %ld)\n\n"
                      "Success rate: observed, %d%% Wilson interval. Score (100 x mean reward): mean, %d%% Student-t\n"
                      "interval. P(best): posterior probability of the highest success rate / score\n"
                      "(Beta(1,1) prior; Monte Carlo, %ld draws).\n\n",
                      n_arms, n_rounds, seed, pct, pct, mc_draws);
            table_header(&t, 1, 0, level);
            table_rows(&t, &c, 1, -1, n_rounds, pooled_rep);
        } else {
            ws_strbuf_printf(&t,
                      "# Thompson-sampling evaluation: %d runs x %ld rounds (seed %ld, objective %s)\n\n"
                      "Success rate and score (100 x mean reward): posterior mean and %d%% equal-tailed credible\n"
                      "interval (Beta(1,1) prior; for the score the reward counts as a fractional Bernoulli\n"
                      "outcome). P(best): posterior probability of the highest success rate / score (Monte\n"
                      "Carlo, %ld draws). Share: the arm's part of the rounds.\n\n"
                      "## Pooled over %d run%s (%ld rounds)\n\n",
                      n_runs, n_rounds, seed, objective == WS_BANDIT_SCORE ? "score" : "success", pct, mc_draws,
                      n_runs, n_runs == 1 ? "" : "s", total_rounds);
            table_header(&t, 0, 0, level);
            table_rows(&t, &c, 0, -1, total_rounds, pooled_rep);
            ws_strbuf_printf(&t, "\n## Per run (%ld rounds each)\n\n", n_rounds);
            table_header(&t, 0, 1, level);
            for (int r = 0; r < n_runs; r++)
                table_rows(&t, &c, 0, r, n_rounds, &reps[(size_t)r * na]);
        }
        if (c.interrupted)
            ws_strbuf_printf(&t, "\nInterrupted after %ld of the %ld %s asked for: the table covers those.\n", n_rounds,
                      asked, is_fixed ? "goals" : "rounds");
        int bad = write_file(table_path, &t, suffix, &c.err);
        free(t.s);
        if (bad)
            ws_cli_die(&cli, WS_EXIT_FAIL, "%s", c.err.msg);
    }
    if (plots_dir && !c.interrupted && write_plots(&c, plots_dir, is_fixed, n_runs, n_rounds, curves, post))
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", c.err.msg);
    if (!cli.quiet)
        for (int a = 0; a < n_arms; a++) {
            const arm_report *r = &pooled_rep[a];
            fprintf(stderr, "thompson-eval: %s: %ld %s, success %.1f%% [%.1f, %.1f], score %.1f, P(best) %.3f\n",
                    arms[a].name, r->post->pulls, is_fixed ? "episodes" : "pulls", 100 * r->success_value,
                    100 * r->success_ci.low, 100 * r->success_ci.high, r->score_value, r->p_best);
        }

    for (int r = 0; r < n_runs; r++) {
        free(order[r]);
        free(curves[r].pulls);
        free(curves[r].succ);
        free(curves[r].rsum);
    }
    for (int a = 0; a < n_arms; a++) {
        ws_runner_free(arms[a].runner);
        ws_model_free(arms[a].agent.model);
        free(arms[a].owned);
    }
    for (size_t i = 0; i < c.n_goals; i++)
        json_decref(c.goals[i]);
    free(c.goals);
    free(order);
    free(curves);
    free(post);
    free(ts_rng);
    free(jobs);
    free(idx);
    free(draws);
    free(reps);
    free(pooled);
    ws_vocab_free(vocab);
    ws_env_free(env);
    ws_catalog_free(&cat);
    return status;
}
