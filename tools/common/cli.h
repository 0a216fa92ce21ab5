/* cli: the conventions every tool shares.
 *
 * Messages read "tool: where: what" on stderr; exit status 0 on success, 1 when the work failed
 * (bad input, I/O), 2 for a usage error, 128+signo when interrupted. Also where the WebShop data
 * and the project's default files (the vocabulary) are found, and how an output stream is
 * finished (complete, or kept as .partial when interrupted). */
#ifndef WS_CLI_H
#define WS_CLI_H

#include <getopt.h>
#include <stdnoreturn.h>

#include "stream.h"

enum { WS_EXIT_OK = 0, WS_EXIT_FAIL = 1, WS_EXIT_USAGE = 2 };
/* The one exit-status paragraph of every tool's --help; each adds what an interruption keeps. */
#define WS_CLI_EXIT_STATUS_HELP                                                                      \
    "Exit status: 0 on success, 1 on bad input or an I/O error, 2 on a usage error, 128+N when\n" \
    "stopped by signal N (129 SIGHUP, 130 SIGINT/Ctrl-C, 143 SIGTERM).\n"

typedef struct ws_cli {
    const char *tool;
    int quiet;
} ws_cli;

void ws_cli_warn(const ws_cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
noreturn void ws_cli_die(const ws_cli *c, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
/* "--version" output: "<tool> (webshop-rl) <version>". */
void ws_cli_version(const ws_cli *c);
/* "Try '<tool> --help'." after a usage error; exits 2. */
noreturn void ws_cli_usage_error(const ws_cli *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* getopt_long with the tool's own messages: an unknown option or a missing value is a usage error
 * that names the option (getopt's own would begin with the program's path). */
int ws_cli_getopt(const ws_cli *c, int argc, char **argv, const char *shortopts, const struct option *longopts,
                  int *longindex);

/* Strict number parsing for option values: the whole text, within [min, max]. */
long ws_cli_long(const ws_cli *c, const char *option, const char *text, long min, long max);
double ws_cli_double(const ws_cli *c, const char *option, const char *text, double min, double max);

/* The pre-trained model directory (make model), one rule for every tool, as for the data
 * directory: `given` (--bert) if given, else $WEBSHOP_MODEL, else WS_DEFAULT_MODEL_DIR in the
 * working directory or the project the executable was built in. The result is `given`, the
 * variable's value, or a path in `buf`. */
#define WS_DEFAULT_MODEL_DIR "models/minilm-l6"
const char *ws_model_dir(const char *given, char *buf, size_t cap);
/* --vocab's value: `given`, or else the model directory's vocab.txt (ws_model_dir's rule). */
const char *ws_vocab_path(const char *given, char *buf, size_t cap);

/* The WebShop data directory: `explicit` if given, else $WEBSHOP_DATA, else ../shared/webshop-1k
 * relative to the working directory, else relative to the project the executable was built in
 * (the directories above it: <project>/bin/tool or <project>/build-x/bin/tool). Returns a path
 * in `buf` (or NULL when nothing was found; buf then holds what was tried). */
#define WS_DEFAULT_DATA_DIR "../shared/webshop-1k"
const char *ws_data_dir(const char *explicit_dir, char *buf, size_t cap);
/* The same for a tool: dies with "<tried>: no WebShop data directory (set --data or WEBSHOP_DATA)"
 * when nothing was found. */
const char *ws_cli_data_dir(const ws_cli *c, const char *explicit_dir, char *buf, size_t cap);

/* Call first thing in main() of a tool that runs the model or the search (both run OpenMP
 * threads). OpenMP threads that spin-wait at barriers for long (libgomp's default: 300,000 spins)
 * collapse when the machine is busier than its cores: a training step measured 7x slower with
 * two other processes running, webshop-env's searches at 1.18M products 1.7x slower; threads that
 * sleep at once (OMP_WAIT_POLICY=PASSIVE) pay a wake-up at every parallel region of a step. So,
 * unless the user chose an OMP_WAIT_POLICY, the tool re-executes itself once (the runtime reads
 * these only at start-up) with PASSIVE and, for libgomp, GOMP_SPINCOUNT=spincount spins before
 * sleeping unless given. The model tools take WS_OMP_SPINCOUNT: MiniLM's bf16 step, 2 threads,
 * alone 0.389-0.400 s (no spin 0.415-0.425); beside two other jobs on the 2 cores 1.16-1.22 s (no
 * spin 1.00-1.08, the 300,000-spin default 1.92). webshop-env takes "0": a search is one region
 * of a millisecond or more, alone the same rate either way, beside two jobs better without. It
 * re-executes by its own path so that ps, top and pgrep still show the tool's name. Nothing may
 * have been read from stdin before this call. */
#define WS_OMP_SPINCOUNT "20000"
void ws_cli_omp_wait(char **argv, const char *spincount);

/* Finish the tool's output: a normal close, or the .partial close after a signal. Dies on error;
 * returns the exit status the tool should use. */
int ws_cli_close_output(const ws_cli *c, ws_writer *w);

#endif
