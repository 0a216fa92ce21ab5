#include "progress.h"

#include <stdio.h>
#include <time.h>
#include <unistd.h>

double ws_now(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec * 1e-9;
}

void ws_progress_start(ws_progress *p, const char *tool, const char *unit, long total, int quiet)
{
    *p = (ws_progress){.tool = tool, .unit = unit, .total = total};
    p->enabled = !quiet;
    p->tty = isatty(STDERR_FILENO);
    p->started = p->last_print = ws_now();
}

static void print_line(ws_progress *p, double now, int final)
{
    double elapsed = now - p->started;
    double rate = elapsed > 0 ? (double)(p->done - p->first) / elapsed : 0;
    fprintf(stderr, "%s%s: %ld", p->tty ? "\r" : "", p->tool, p->done);
    if (p->total > 0)
        fprintf(stderr, "/%ld", p->total);
    /* three significant digits below 100 a second, so slow work (training) shows 0.285, not 0 */
    fprintf(stderr, rate < 100 ? " %s, %.1f s, %.3g %s/s" : " %s, %.1f s, %.0f %s/s", p->unit, elapsed, rate, p->unit);
    if (!final && p->total > 0 && rate > 0)
        fprintf(stderr, ", ETA %.0f s", (double)(p->total - p->done) / rate);
    fprintf(stderr, p->tty && !final ? "\033[K" : "\n");
    p->printed = 1;
}

void ws_progress_resume_at(ws_progress *p, long done)
{
    p->done = p->first = done;
}

void ws_progress_update(ws_progress *p, long done)
{
    p->done = done;
    if (!p->enabled)
        return;
    double now = ws_now();
    if (now - p->last_print < (p->tty ? 0.25 : 10.0))
        return;
    p->last_print = now;
    print_line(p, now, 0);
}

void ws_progress_end(ws_progress *p)
{
    if (p->enabled)
        print_line(p, ws_now(), 1);
}
