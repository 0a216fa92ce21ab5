/* thompson-eval: compare agents (arms) by Thompson sampling, or on a fixed budget of goals.
 *
 * Options -> the arms' models and runners, the goals -> the schedule (lib/play/evalsched: which
 * arm plays which goal, the posteriors) with a bandit record per episode -> the reports
 * (lib/play/evalreport: summary records, the Markdown table, the running curves drawn by gnuplot).
 * The same arguments give the same records, byte for byte. */
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "agent.h"
#include "backend.h"
#include "bandit.h"
#include "catalog.h"
#include "cli.h"
#include "env.h"
#include "evalreport.h"
#include "evalsched.h"
#include "goals.h"
#include "inputs.h"
#include "interrupt.h"
#include "modelio.h"
#include "outfile.h"
#include "playopts.h"
#include "policy.h"
#include "progress.h"
#include "runner.h"
#include "stream.h"
#include "strbuf.h"
#include "wordpiece.h"

#define MAX_ARMS 64

static void usage(void)
{
    printf("Usage: thompson-eval --arm SPEC [--arm SPEC]... [OPTION]... [GOALS]...\n"
           "Compare agents (arms) on goal records (stdin or GOALS files, e.g. `goals -s eval`) by\n"
           "Thompson sampling: R independent runs of N rounds; each round draws every arm's success\n"
           "posterior (Beta(1,1) prior), plays one episode of the arm with the largest draw on the\n"
           "run's next goal (a seeded shuffle per run, reused when exhausted) and updates. One bandit\n"
           "record per round (arm, goal, reward, the draws, every arm's posterior after the update)\n"
           "goes to stdout, in the order played: round by round, the runs side by side. With\n"
           "--fixed N every arm plays the first N goals instead (no bandit): one record per arm and\n"
           "goal. The same arguments give the same records, byte for byte. One arm is enough for a\n"
           "fixed-budget evaluation; Thompson sampling with one arm plays it every round (a warning).\n\n"
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
           WS_CLI_EXIT_STATUS_HELP "Interrupted, it keeps the records, summary and table of the rounds every run finished,\n"
           "as FILE.partial (the summary records marked \"interrupted\"; no plots).\n",
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

/* What the command line asks for. */
typedef struct args {
    const char *output, *summary_path, *table_path, *plots_dir;
    long runs, rounds, seed, batch, fixed, mc_draws;
    double level;
    ws_bandit_objective objective;
    ws_play_opts po;
    ws_writer_opts wo;
    arm arms[MAX_ARMS];
    int n_arms;
    char *const *goal_files;
    int n_goal_files;
} args;

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

/* A goal of the catalog played, with the goal_id the bandit records name it by (the reader puts
 * the file and line in front of a refusal). */
static int check_goal(const json_t *goal, void *cat, ws_err *err)
{
    if (ws_goal_check_origin(goal, cat, err))
        return -1;
    return json_is_integer(json_object_get(goal, "goal_id")) ? 0 : ws_fail(err, "goal record without an integer goal_id");
}


static void parse_args(ws_cli *cli, int argc, char **argv, args *g)
{
    *g = (args){.output = "-", .runs = 1, .rounds = 100, .batch = 1, .mc_draws = 100000, .level = 0.95,
                .objective = WS_BANDIT_SUCCESS, .wo = {WS_COMPRESS_AUTO, 0}};
    ws_play_opts_default(&g->po);
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
    while ((opt = ws_cli_getopt(cli, argc, argv, "a:d:o:zq", longopts, NULL)) != -1) {
        switch (opt) {
        case 'a':
            if (g->n_arms == MAX_ARMS)
                ws_cli_usage_error(cli, "--arm: at most %d arms", MAX_ARMS);
            parse_arm(cli, optarg, &g->arms[g->n_arms]);
            for (int k = 0; k < g->n_arms; k++)
                if (strcmp(g->arms[k].name, g->arms[g->n_arms].name) == 0)
                    ws_cli_usage_error(cli, "--arm: two arms named '%s' (give NAME=...)", g->arms[k].name);
            g->n_arms++;
            break;
        case OPT_RUNS: g->runs = ws_cli_long(cli, "--runs", optarg, 1, 1000); break;
        case OPT_ROUNDS: g->rounds = ws_cli_long(cli, "--rounds", optarg, 1, 1000000); break;
        case OPT_SEED: g->seed = ws_cli_long(cli, "--seed", optarg, 0, 0x7fffffffL); break;
        case OPT_BATCH: g->batch = ws_cli_long(cli, "--batch", optarg, 1, 4096); break;
        case OPT_OBJECTIVE:
            if (strcmp(optarg, "success") == 0)
                g->objective = WS_BANDIT_SUCCESS;
            else if (strcmp(optarg, "score") == 0)
                g->objective = WS_BANDIT_SCORE;
            else
                ws_cli_usage_error(cli, "--objective: expected success or score, got '%s'", optarg);
            break;
        case OPT_FIXED: g->fixed = ws_cli_long(cli, "--fixed", optarg, 1, 100000000); break;
        case OPT_SUMMARY: g->summary_path = optarg; break;
        case OPT_TABLE: g->table_path = optarg; break;
        case OPT_PLOTS: g->plots_dir = optarg; break;
        case OPT_LEVEL: g->level = ws_cli_double(cli, "--level", optarg, 0.5, 0.9999); break;
        case OPT_DRAWS: g->mc_draws = ws_cli_long(cli, "--draws", optarg, 100, 100000000); break;
        case 'o': g->output = optarg; break;
        case 'z': g->wo.compress = WS_COMPRESS_YES; break;
        case 'q': cli->quiet = 1; break;
        case OPT_HELP: usage(); exit(0);
        case OPT_VERSION: ws_cli_version(cli); exit(0);
        default:
            if (!ws_play_option(&g->po, cli, opt, optarg))
                ws_cli_usage_error(cli, "unknown option");
        }
    }
    if (g->n_arms == 0)
        ws_cli_usage_error(cli, "give the arms to compare with --arm (random, oracle or NAME=CKPT)");
    g->goal_files = argv + optind;
    g->n_goal_files = argc - optind;
}

/* The models first, each loaded once (a missing checkpoint fails before any work), all on the
 * one vocabulary they were trained with; returns it (NULL without model arms). */
static ws_vocab *load_models(ws_cli *cli, args *g)
{
    ws_err err;
    ws_vocab *vocab = NULL;
    char *vocab_sha[MAX_ARMS] = {0};
    char vocabbuf[PATH_MAX + 64];
    const char *vocab_path = ws_vocab_path(g->po.vocab_path, vocabbuf, sizeof vocabbuf);
    int any_model = 0;
    for (int a = 0; a < g->n_arms; a++)
        any_model |= g->arms[a].ckpt != NULL;
    if (!any_model)
        return NULL;
    ws_backend_set_threads((int)g->po.threads);
    for (int a = 0; a < g->n_arms; a++) {
        arm *m = &g->arms[a];
        if (!m->ckpt)
            continue;
        ws_ckpt_meta meta = {0};
        m->agent = ws_play_agent(&g->po);
        if (!(m->agent.model = ws_modelio_load(m->ckpt, &meta, &err)))
            ws_cli_die(cli, WS_EXIT_FAIL, "arm '%s': %s", m->name, err.msg);
        ws_play_place_model(&g->po, cli, m->agent.model);
        if (meta.vocab_sha256 && *meta.vocab_sha256 && !(vocab_sha[a] = strdup(meta.vocab_sha256)))
            ws_cli_die(cli, WS_EXIT_FAIL, "out of memory");
        ws_ckpt_meta_free(&meta);
    }
    if (!(vocab = ws_vocab_load(vocab_path, &err)))
        ws_cli_die(cli, WS_EXIT_FAIL, "%s", err.msg);
    for (int a = 0; a < g->n_arms; a++) {
        if (g->arms[a].ckpt && ws_modelio_check_vocab(g->arms[a].ckpt, vocab_sha[a], vocab_path, vocab, &err))
            ws_cli_die(cli, WS_EXIT_FAIL, "arm '%s': %s", g->arms[a].name, err.msg);
        free(vocab_sha[a]);
        g->arms[a].agent.vocab = vocab;
    }
    return vocab;
}

/* The goal records of the file arguments (stdin without any); dies on an error, exits with the
 * interrupt status when a signal arrives while reading. */
static json_t **read_goals(ws_cli *cli, ws_catalog *cat, const args *g, size_t *n_goals)
{
    ws_err err;
    ws_reader_opts ro = {.type = "goal", .version = WS_GOAL_VERSION, .check = check_goal, .check_ctx = cat};
    ws_inputs *in = ws_inputs_open((const char *const *)g->goal_files, g->n_goal_files, &ro, &err);
    json_t **goals = NULL;
    int rc = in ? ws_inputs_read_all(in, &goals, n_goals, &err) : WS_ERROR;
    ws_inputs_close(in);
    if (rc == WS_INTERRUPTED)
        exit(ws_interrupt_status());
    if (rc != WS_EOF)
        ws_cli_die(cli, WS_EXIT_FAIL, "%s", err.msg);
    if (*n_goals == 0)
        ws_cli_die(cli, WS_EXIT_FAIL, "no goal records in the input");
    return goals;
}

/* What each played episode leaves: its bandit record, and its point on the running curves. */
typedef struct visit_ctx {
    const ws_eval_desc *desc;
    json_t **goals;
    ws_writer *w;
    ws_eval_curve *curves; /* NULL: no plots */
} visit_ctx;

static int visit_job(void *ctx, const ws_eval_job *j, const ws_arm_post *run_post, ws_err *err)
{
    visit_ctx *v = ctx;
    if (v->curves)
        ws_eval_curve_add(&v->curves[j->run], v->desc->fixed, v->desc->n_arms, j);
    json_t *rec = ws_eval_bandit_record(v->desc, j, v->goals[j->goal], run_post);
    int rc = rec ? ws_writer_put(v->w, rec, err) : ws_fail(err, "out of memory");
    json_decref(rec);
    return rc;
}

/* The summary records, the table and the plots of the rounds every run finished. */
static void report(ws_cli *cli, const args *g, const ws_eval_desc *d, const ws_eval *e, const ws_eval_curve *curves)
{
    ws_err err;
    size_t na = (size_t)d->n_arms;
    const char *suffix = d->interrupted ? ".partial" : NULL;
    ws_arm_report *per_run = calloc((size_t)d->runs * na, sizeof *per_run), *pooled_rep = calloc(na, sizeof *pooled_rep);
    ws_arm_post *pooled = calloc(na, sizeof *pooled), *all = calloc((size_t)d->runs * na, sizeof *all);
    if (!per_run || !pooled_rep || !pooled || !all)
        ws_cli_die(cli, WS_EXIT_FAIL, "out of memory");
    for (int r = 0; r < d->runs; r++)
        memcpy(&all[(size_t)r * na], ws_eval_posteriors(e, r), na * sizeof *all);
    for (size_t a = 0; a < na; a++) {
        ws_arm_init(&pooled[a], 1, 1);
        for (int r = 0; r < d->runs; r++)
            ws_arm_merge(&pooled[a], &all[(size_t)r * na + a]);
    }
    uint64_t mc_seed = (uint64_t)d->seed * 2654435761u + 17;
    for (int r = 0; r < d->runs && !d->fixed; r++)
        ws_eval_report_group(d, &all[(size_t)r * na], mc_seed + 2 * (uint64_t)(r + 1), &per_run[(size_t)r * na]);
    ws_eval_report_group(d, pooled, mc_seed, pooled_rep);

    if (g->summary_path) {
        ws_writer *sw = ws_writer_open(g->summary_path, NULL, &err);
        int bad = !sw;
        for (int r = 0; r < d->runs && !d->fixed && !bad; r++)
            bad = ws_eval_put_summaries(d, sw, r, d->rounds, &per_run[(size_t)r * na], &err) != 0;
        if (!bad)
            bad = ws_eval_put_summaries(d, sw, -1, d->fixed ? d->rounds : (long)d->runs * d->rounds, pooled_rep,
                                        &err) != 0;
        if (bad) {
            if (sw)
                ws_writer_discard(sw);
            ws_cli_die(cli, WS_EXIT_FAIL, "%s", err.msg);
        }
        if ((d->interrupted ? ws_writer_close_partial : ws_writer_close)(sw, &err))
            ws_cli_die(cli, WS_EXIT_FAIL, "%s", err.msg);
    }
    if (g->table_path) {
        ws_strbuf t = {0};
        ws_eval_table(d, &t, pooled_rep, per_run);
        int bad = t.oom ? ws_fail(&err, "%s: out of memory", g->table_path)
                        : ws_outfile_write_all(g->table_path, t.s, t.len, suffix, &err);
        free(t.s);
        if (bad)
            ws_cli_die(cli, WS_EXIT_FAIL, "%s", err.msg);
    }
    if (g->plots_dir && !d->interrupted) {
        if (ws_eval_write_plot_data(d, g->plots_dir, curves, all, &err))
            ws_cli_die(cli, WS_EXIT_FAIL, "%s", err.msg);
        int rc = run_gnuplot(g->plots_dir, cli->quiet, &err);
        if (rc < 0)
            ws_cli_die(cli, WS_EXIT_FAIL, "%s", err.msg);
        if (rc == 1)
            ws_cli_warn(cli, "gnuplot not found: %s holds the plot data and plots.gp, no PNG files", g->plots_dir);
    }
    if (!cli->quiet)
        for (int a = 0; a < d->n_arms; a++) {
            const ws_arm_report *r = &pooled_rep[a];
            fprintf(stderr, "thompson-eval: %s: %ld %s, success %s%.1f%% [%.1f, %.1f], score %.1f, P(best) %.3f\n",
                    d->arm_names[a], r->post->pulls, d->fixed ? "episodes" : "pulls",
                    d->fixed ? "" : "(posterior mean) ", 100 * r->success_value,
                    100 * r->success_ci.low, 100 * r->success_ci.high, r->score_value, r->p_best);
        }
    free(per_run);
    free(pooled_rep);
    free(pooled);
    free(all);
}

int main(int argc, char **argv)
{
    ws_cli_omp_wait(argv, WS_OMP_SPINCOUNT);
    ws_cli cli = {.tool = "thompson-eval"};
    static args g;
    parse_args(&cli, argc, argv, &g);
    char dirbuf[4096];
    const char *dir = ws_cli_data_dir(&cli, g.po.data, dirbuf, sizeof dirbuf);
    ws_interrupt_install();

    /* set up: models, environment, goals, a runner per arm */
    ws_err err;
    ws_vocab *vocab = load_models(&cli, &g);
    ws_catalog cat;
    ws_env *env = ws_play_env_new(&g.po, &cli, dir, &cat);
    size_t n_goals;
    json_t **goals = read_goals(&cli, &cat, &g, &n_goals);
    if (!g.fixed && g.n_arms == 1)
        ws_cli_warn(&cli, "one arm: Thompson sampling has nothing to choose, every round plays it (--fixed N "
                          "evaluates one agent)");
    if (!g.fixed && (size_t)g.rounds > n_goals)
        ws_cli_warn(&cli, "%zu goals for %ld rounds: each run goes through its goal order again", n_goals, g.rounds);
    ws_eval_arm earms[MAX_ARMS];
    const char *names[MAX_ARMS];
    for (int a = 0; a < g.n_arms; a++) {
        arm *m = &g.arms[a];
        ws_runner_opts ropts = {.episode = g.po.episode, .parallel = m->ckpt ? (int)g.po.parallel : 1, .seed = g.seed,
                                .builtin = m->builtin, .agent = m->ckpt ? &m->agent : NULL,
                                .policy_name = m->ckpt ? m->name : NULL};
        if (!(m->runner = ws_runner_new(env, &ropts, &err)))
            ws_cli_die(&cli, WS_EXIT_FAIL, "arm '%s': %s", m->name, err.msg);
        earms[a] = (ws_eval_arm){m->name, m->runner};
        names[a] = m->name;
    }
    ws_eval_opts eo = {.fixed = g.fixed, .runs = (int)g.runs, .rounds = g.rounds, .batch = g.batch,
                       .objective = g.objective, .seed = g.seed, .parallel = (int)g.po.parallel};
    ws_eval *e = ws_eval_new(earms, g.n_arms, goals, n_goals, &eo, &err);
    if (!e)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    int runs = ws_eval_runs(e);
    ws_eval_desc desc = {.arm_names = names, .n_arms = g.n_arms, .fixed = g.fixed > 0, .runs = runs,
                         .asked = ws_eval_rounds(e), .seed = g.seed, .objective = g.objective, .level = g.level,
                         .mc_draws = g.mc_draws};
    ws_eval_curve *curves = g.plots_dir ? calloc((size_t)runs, sizeof *curves) : NULL;
    if (g.plots_dir && !curves)
        ws_cli_die(&cli, WS_EXIT_FAIL, "out of memory");
    for (int r = 0; curves && r < runs; r++)
        if (ws_eval_curve_init(&curves[r], desc.asked, g.n_arms))
            ws_cli_die(&cli, WS_EXIT_FAIL, "out of memory");
    ws_writer *w = ws_writer_open(g.output, &g.wo, &err);
    if (!w)
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);

    /* run: step after step, a bandit record per episode */
    ws_progress progress;
    ws_progress_start(&progress, cli.tool, "episodes", (long)runs * desc.asked * (g.fixed ? g.n_arms : 1), cli.quiet);
    visit_ctx v = {&desc, goals, w, curves};
    long episodes = 0, n = 0;
    while (!ws_interrupted() && (n = ws_eval_step(e, visit_job, &v, &err)) > 0)
        ws_progress_update(&progress, episodes += n);
    if (!ws_interrupted() && n < 0) {
        ws_writer_discard(w);
        ws_cli_die(&cli, WS_EXIT_FAIL, "%s", err.msg);
    }
    ws_progress_end(&progress);
    desc.interrupted = ws_interrupted() != 0;
    desc.rounds = ws_eval_rounds_done(e);
    int status = ws_cli_close_output(&cli, w);
    /* A cut run reports the rounds it finished, as its records do, under the .partial names (the
     * final names stay for a complete run); the plots are left out. */
    if (desc.interrupted)
        ws_cli_warn(&cli, "interrupted after %ld of %ld %s%s", desc.rounds, desc.asked, g.fixed ? "goals" : "rounds",
                    g.summary_path || g.table_path ? ": the summary and table cover those (FILE.partial)" : "");

    report(&cli, &g, &desc, e, curves);

    for (int r = 0; curves && r < runs; r++)
        ws_eval_curve_free(&curves[r]);
    free(curves);
    ws_eval_free(e);
    for (int a = 0; a < g.n_arms; a++) {
        ws_runner_free(g.arms[a].runner);
        ws_model_free(g.arms[a].agent.model);
        free(g.arms[a].owned);
    }
    for (size_t i = 0; i < n_goals; i++)
        json_decref(goals[i]);
    free(goals);
    ws_vocab_free(vocab);
    ws_env_free(env);
    ws_catalog_free(&cat);
    return status;
}
