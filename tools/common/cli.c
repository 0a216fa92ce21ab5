#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "interrupt.h"

static void vmessage(const ws_cli *c, const char *fmt, va_list ap)
{
    fprintf(stderr, "%s: ", c->tool);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
}

void ws_cli_warn(const ws_cli *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(c, fmt, ap);
    va_end(ap);
}

void ws_cli_die(const ws_cli *c, int status, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(c, fmt, ap);
    va_end(ap);
    exit(status);
}

void ws_cli_usage_error(const ws_cli *c, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vmessage(c, fmt, ap);
    va_end(ap);
    fprintf(stderr, "Try '%s --help' for more information.\n", c->tool);
    exit(WS_EXIT_USAGE);
}

void ws_cli_version(const ws_cli *c)
{
    printf("%s (webshop-rl) %s\n", c->tool, WS_VERSION);
}

long ws_cli_long(const ws_cli *c, const char *option, const char *text, long min, long max)
{
    char *end;
    errno = 0;
    long v = strtol(text, &end, 10);
    if (errno || end == text || *end || v < min || v > max)
        ws_cli_usage_error(c, "%s: expected an integer in [%ld, %ld], got '%s'", option, min, max, text);
    return v;
}

double ws_cli_double(const ws_cli *c, const char *option, const char *text, double min, double max)
{
    char *end;
    errno = 0;
    double v = strtod(text, &end);
    if (errno || end == text || *end || !isfinite(v) || v < min || v > max)
        ws_cli_usage_error(c, "%s: expected a number in [%g, %g], got '%s'", option, min, max, text);
    return v;
}

static int is_dir(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISDIR(st.st_mode);
}

/* `relative` when it passes `ok` from the working directory (returned as is), else the first
 * <dir>/<relative> that does, for the directories above the executable: it lives in
 * <project>/bin/ (or a build-asan/bin/ beside it). NULL when none does. */
static const char *find_in_project(const char *relative, int (*ok)(const char *), char *buf, size_t cap)
{
    if (ok(relative))
        return relative;
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        for (int up = 0; up < 3; up++) {
            char *slash = strrchr(exe, '/');
            if (!slash)
                break;
            *slash = 0;
            snprintf(buf, cap, "%s/%s", exe, relative);
            if (ok(buf))
                return buf;
        }
    }
    return NULL;
}

const char *ws_model_dir(const char *given, char *buf, size_t cap)
{
    const char *env = getenv("WEBSHOP_MODEL");
    if (given)
        return given;
    if (env && *env)
        return env;
    const char *found = find_in_project(WS_DEFAULT_MODEL_DIR, is_dir, buf, cap);
    return found ? found : WS_DEFAULT_MODEL_DIR;
}

const char *ws_vocab_path(const char *given, char *buf, size_t cap)
{
    if (given)
        return given;
    char dir[PATH_MAX];
    snprintf(buf, cap, "%s/vocab.txt", ws_model_dir(NULL, dir, sizeof dir));
    return buf;
}

const char *ws_data_dir(const char *explicit_dir, char *buf, size_t cap)
{
    const char *env = getenv("WEBSHOP_DATA");
    if (explicit_dir || (env && *env)) {
        snprintf(buf, cap, "%s", explicit_dir ? explicit_dir : env);
        return is_dir(buf) ? buf : NULL;
    }
    const char *found = find_in_project(WS_DEFAULT_DATA_DIR, is_dir, buf, cap);
    if (found != buf)
        snprintf(buf, cap, "%s", WS_DEFAULT_DATA_DIR);
    return found ? buf : NULL;
}

const char *ws_cli_data_dir(const ws_cli *c, const char *explicit_dir, char *buf, size_t cap)
{
    const char *dir = ws_data_dir(explicit_dir, buf, cap);
    if (!dir)
        ws_cli_die(c, WS_EXIT_FAIL, "%s: no WebShop data directory (set --data or WEBSHOP_DATA)", buf);
    return dir;
}

int ws_cli_close_output(const ws_cli *c, ws_writer *w)
{
    ws_err err;
    if (ws_interrupted()) {
        if (ws_writer_close_partial(w, &err))
            ws_cli_die(c, WS_EXIT_FAIL, "%s", err.msg);
        ws_cli_warn(c, "interrupted: every complete record was kept");
        return ws_interrupt_status();
    }
    if (ws_writer_close(w, &err))
        ws_cli_die(c, WS_EXIT_FAIL, "%s", err.msg);
    return WS_EXIT_OK;
}

void ws_cli_omp_wait(char **argv, const char *spincount)
{
    if (getenv("OMP_WAIT_POLICY"))
        return;
    char self[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", self, sizeof self - 1);
    if (n <= 0)
        return; /* nowhere to re-execute from: run on with the default */
    self[n] = 0;
    setenv("OMP_WAIT_POLICY", "PASSIVE", 1);
    setenv("GOMP_SPINCOUNT", spincount, 0); /* the user's count, where given */
    execv(self, argv); /* returns only on failure: then run on with the default */
}

int ws_cli_getopt(const ws_cli *c, int argc, char **argv, const char *shortopts, const struct option *longopts,
                  int *longindex)
{
    char spec[128];
    snprintf(spec, sizeof spec, ":%s", shortopts); /* ':' first: a missing value is told apart */
    opterr = 0;
    int opt = getopt_long(argc, argv, spec, longopts, longindex);
    const char *arg = optind > 0 && optind <= argc ? argv[optind - 1] : "";
    if (opt == '?') {
        if (optopt > 0 && optopt < 128 && arg[0] == '-' && arg[1] != '-')
            ws_cli_usage_error(c, "unknown option '-%c'", optopt);
        ws_cli_usage_error(c, "unknown option '%s'", arg);
    }
    if (opt == ':')
        ws_cli_usage_error(c, "option '%s' needs a value", arg);
    return opt;
}
