/* interrupt: SIGINT, SIGTERM and SIGHUP turned into a flag that streaming loops poll.
 *
 * The handler only records the signal (async-signal-safe); readers see a blocked read return
 * early (handlers are installed without SA_RESTART) and report WS_INTERRUPTED, and writers
 * finish their records and frames in normal context. The flag is process-wide by nature:
 * it is the one global of the library. */
#ifndef WS_INTERRUPT_H
#define WS_INTERRUPT_H

void ws_interrupt_install(void);
/* The signal number received, or 0. */
int ws_interrupted(void);
/* Conventional exit status for a run stopped by that signal (128 + signo). */
int ws_interrupt_status(void);

#endif
