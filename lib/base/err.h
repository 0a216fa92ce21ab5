/* err: the error value every library call fills instead of printing.
 *
 * A function that can fail returns non-zero and writes one line into a caller-owned ws_err,
 * already naming where (file, line, byte offset) when it knows; the tool prefixes its own name
 * and prints it. The library never prints and never exits. */
#ifndef WS_ERR_H
#define WS_ERR_H

#include <stddef.h>

typedef struct ws_err {
    char msg[1024];
} ws_err;

/* printf-style; a NULL err is allowed and ignored. Always returns -1 so callers can
 * `return ws_fail(err, ...)`. */
int ws_fail(ws_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Prefix an existing message with "where: " (e.g. a file name added by an outer layer). */
int ws_fail_prefix(ws_err *err, const char *where);

#endif
