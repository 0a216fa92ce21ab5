#include "err.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int ws_fail(ws_err *err, const char *fmt, ...)
{
    if (err) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return -1;
}

int ws_fail_prefix(ws_err *err, const char *where)
{
    if (!err)
        return -1;
    size_t cap = sizeof err->msg, w = strlen(where), n = strlen(err->msg);
    if (w + 3 >= cap)
        w = cap - 3;
    if (n > cap - w - 3)
        n = cap - w - 3; /* the tail of an over-long message is what gets cut */
    memmove(err->msg + w + 2, err->msg, n);
    memcpy(err->msg, where, w);
    err->msg[w] = ':';
    err->msg[w + 1] = ' ';
    err->msg[w + 2 + n] = 0;
    return -1;
}
