/* progress: a rate and ETA line on stderr for long work.
 *
 * Redrawn in place at most 4 times a second on a terminal; on a pipe or log file one line
 * every 10 seconds, so CI logs stay readable. Silent when quiet. */
#ifndef WS_PROGRESS_H
#define WS_PROGRESS_H

typedef struct ws_progress {
    const char *tool, *unit;
    long total; /* 0 when unknown: no ETA */
    long done;
    long first; /* done when this invocation began (a resumed run): the rate counts what follows */
    double started, last_print;
    int enabled, tty, printed;
} ws_progress;

void ws_progress_start(ws_progress *p, const char *tool, const char *unit, long total, int quiet);
void ws_progress_update(ws_progress *p, long done);
/* A resumed run: `done` units were finished by earlier invocations (shown, not timed). */
void ws_progress_resume_at(ws_progress *p, long done);
/* The final line (count, time, rate), then a newline. */
void ws_progress_end(ws_progress *p);

double ws_now(void); /* monotonic seconds */

#endif
