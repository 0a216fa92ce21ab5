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

const char *ws_data_dir(const char *explicit_dir, char *buf, size_t cap)
{
    const char *env = getenv("WEBSHOP_DATA");
    if (explicit_dir || (env && *env)) {
        snprintf(buf, cap, "%s", explicit_dir ? explicit_dir : env);
        return is_dir(buf) ? buf : NULL;
    }
    snprintf(buf, cap, "../shared/webshop-1k");
    if (is_dir(buf))
        return buf;
    /* The executable lives in <project>/bin/ (or a build-asan/bin/ beside it): look beside the project. */
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n > 0) {
        exe[n] = 0;
        for (int up = 0; up < 3; up++) {
            char *slash = strrchr(exe, '/');
            if (!slash)
                break;
            *slash = 0;
            snprintf(buf, cap, "%s/../shared/webshop-1k", exe);
            if (is_dir(buf))
                return buf;
        }
    }
    snprintf(buf, cap, "../shared/webshop-1k");
    return NULL;
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
