#include "evalsched.h"

#include <stdio.h>
#include <stdlib.h>

#include "rng.h"

struct ws_eval {
    const ws_eval_arm *arms;
    int n_arms;
    json_t *const *goals;
    size_t n_goals;
    ws_eval_opts o;
    int runs;
    long rounds, done; /* asked of every run, finished by every run */
    ws_arm_post *post; /* [runs * arms] */
    ws_rng *draw_rng;  /* per run */
    size_t **order;    /* per run: the goal order */
    ws_eval_job *jobs; /* one step's */
    size_t *idx;       /* one arm's jobs of the step */
    double *draws;     /* [jobs * arms] */
    size_t max_jobs;
};

void ws_eval_free(ws_eval *e)
{
    if (!e)
        return;
    for (int r = 0; e->order && r < e->runs; r++)
        free(e->order[r]);
    free(e->order);
    free(e->post);
    free(e->draw_rng);
    free(e->jobs);
    free(e->idx);
    free(e->draws);
    free(e);
}

ws_eval *ws_eval_new(const ws_eval_arm *arms, int n_arms, json_t *const *goals, size_t n_goals,
                     const ws_eval_opts *opts, ws_err *err)
{
    if (n_arms < 1 || n_goals == 0)
        return ws_fail(err, "evaluation: no %s", n_arms < 1 ? "arms" : "goals"), NULL;
    if (opts->fixed > 0 && (size_t)opts->fixed > n_goals)
        return ws_fail(err, "--fixed %ld: only %zu goals given", opts->fixed, n_goals), NULL;
    ws_eval *e = calloc(1, sizeof *e);
    if (!e)
        return ws_fail(err, "out of memory"), NULL;
    *e = (ws_eval){.arms = arms, .n_arms = n_arms, .goals = goals, .n_goals = n_goals, .o = *opts};
    e->runs = opts->fixed > 0 ? 1 : opts->runs;
    e->rounds = opts->fixed > 0 ? opts->fixed : opts->rounds;
    size_t na = (size_t)n_arms;
    /* jobs of one step: every run's rounds (Thompson) or every arm on a chunk of goals (fixed) */
    e->max_jobs = opts->fixed > 0 ? na * (size_t)opts->parallel : (size_t)e->runs * (size_t)opts->batch;
    e->post = calloc((size_t)e->runs * na, sizeof *e->post);
    e->draw_rng = calloc((size_t)e->runs, sizeof *e->draw_rng);
    e->order = calloc((size_t)e->runs, sizeof *e->order);
    e->jobs = calloc(e->max_jobs, sizeof *e->jobs);
    e->idx = calloc(e->max_jobs, sizeof *e->idx);
    e->draws = calloc(e->max_jobs * na, sizeof *e->draws);
    if (!e->post || !e->draw_rng || !e->order || !e->jobs || !e->idx || !e->draws) {
        ws_eval_free(e);
        return ws_fail(err, "out of memory"), NULL;
    }
    for (size_t i = 0; i < e->max_jobs; i++)
        e->jobs[i].draws = &e->draws[i * na];
    for (int r = 0; r < e->runs; r++) {
        char name[64];
        for (size_t a = 0; a < na; a++)
            ws_arm_init(&e->post[(size_t)r * na + a], 1, 1);
        snprintf(name, sizeof name, "thompson-draws-%d", r);
        ws_rng_seed(&e->draw_rng[r], (uint64_t)opts->seed, name);
        if (!(e->order[r] = malloc(n_goals * sizeof **e->order))) {
            ws_eval_free(e);
            return ws_fail(err, "out of memory"), NULL;
        }
        for (size_t i = 0; i < n_goals; i++)
            e->order[r][i] = i;
        if (opts->fixed <= 0) {
            ws_rng shuffle;
            snprintf(name, sizeof name, "thompson-goals-%d", r);
            ws_rng_seed(&shuffle, (uint64_t)opts->seed, name);
            ws_rng_shuffle(&shuffle, e->order[r], n_goals);
        }
    }
    return e;
}

int ws_eval_runs(const ws_eval *e) { return e->runs; }
long ws_eval_rounds(const ws_eval *e) { return e->rounds; }
long ws_eval_rounds_done(const ws_eval *e) { return e->done; }
const ws_arm_post *ws_eval_posteriors(const ws_eval *e, int run) { return &e->post[(size_t)run * (size_t)e->n_arms]; }

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

/* Play the jobs of one arm (indices idx[0..n-1] into the step's jobs), `parallel` at a time. */
static int play_arm(ws_eval *e, const ws_eval_arm *a, size_t n, ws_err *err)
{
    int slots = ws_runner_parallel(a->runner);
    json_t *goals[4096], *trajs[4096];
    for (size_t at = 0; at < n; at += (size_t)slots) {
        int k = (int)(n - at < (size_t)slots ? n - at : (size_t)slots);
        int made = 0;
        for (int i = 0; i < k; i++, made++) {
            ws_eval_job *j = &e->jobs[e->idx[at + (size_t)i]];
            if (!(goals[i] = keyed_goal(e->goals[j->goal], j->key)))
                break;
        }
        int rc = made < k ? ws_fail(err, "out of memory") : ws_runner_play(a->runner, goals, k, trajs, err);
        for (int i = 0; i < made; i++)
            json_decref(goals[i]);
        if (rc)
            return ws_fail_prefix(err, a->name);
        for (int i = 0; i < k; i++) {
            ws_eval_job *j = &e->jobs[e->idx[at + (size_t)i]];
            j->reward = json_number_value(json_object_get(trajs[i], "reward"));
            j->success = j->reward == 1.0;
            json_decref(trajs[i]);
            if (!(j->reward >= 0 && j->reward <= 1))
                return ws_fail(err, "%s: reward %g out of [0, 1]", a->name, j->reward);
        }
    }
    return 0;
}

long ws_eval_step(ws_eval *e, ws_eval_visit *visit, void *ctx, ws_err *err)
{
    if (e->done >= e->rounds)
        return 0;
    size_t n = 0, na = (size_t)e->n_arms;
    long t0 = e->done, nb;
    if (e->o.fixed > 0) {
        nb = e->rounds - t0 < e->o.parallel ? e->rounds - t0 : e->o.parallel;
        for (long b = 0; b < nb; b++)
            for (int a = 0; a < e->n_arms; a++) {
                ws_eval_job *j = &e->jobs[n++];
                j->run = 0;
                j->round = t0 + b;
                j->arm = a;
                j->goal = e->order[0][t0 + b];
                j->key = episode_key(e->goals[j->goal], 0, 0);
            }
    } else {
        nb = e->rounds - t0 < e->o.batch ? e->rounds - t0 : e->o.batch;
        for (int r = 0; r < e->runs; r++)
            for (long b = 0; b < nb; b++) {
                size_t at = n++;
                ws_eval_job *j = &e->jobs[at];
                long t = t0 + b;
                j->run = r;
                j->round = t;
                j->arm = (int)ws_thompson_choose(&e->post[(size_t)r * na], na, e->o.objective, &e->draw_rng[r],
                                                 &e->draws[at * na]);
                j->goal = e->order[r][(size_t)t % e->n_goals];
                j->key = episode_key(e->goals[j->goal], r, (long)((size_t)t / e->n_goals));
            }
    }
    /* every job, grouped by arm (each arm's episodes in one batch stream), in arm order */
    for (int a = 0; a < e->n_arms; a++) {
        size_t k = 0;
        for (size_t i = 0; i < n; i++)
            if (e->jobs[i].arm == a)
                e->idx[k++] = i;
        if (k && play_arm(e, &e->arms[a], k, err))
            return -1;
    }
    for (size_t i = 0; i < n; i++) {
        const ws_eval_job *j = &e->jobs[i];
        ws_arm_post *rp = &e->post[(size_t)j->run * na];
        ws_arm_update(&rp[j->arm], j->reward);
        if (visit && visit(ctx, j, rp, err))
            return -1;
    }
    e->done = t0 + nb;
    return (long)n;
}
