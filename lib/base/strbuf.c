#include "strbuf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "grow.h"

void ws_strbuf_add(ws_strbuf *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    char *p = ws_grow(b->s, &b->cap, b->len + n + 1, 1, 256);
    if (!p) {
        b->oom = 1;
        return;
    }
    b->s = p;
    memcpy(b->s + b->len, s, n);
    b->len += n;
    b->s[b->len] = 0;
}

void ws_strbuf_str(ws_strbuf *b, const char *s)
{
    if (s)
        ws_strbuf_add(b, s, strlen(s));
}

void ws_strbuf_printf(ws_strbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    char small[256];
    int n = vsnprintf(small, sizeof small, fmt, ap);
    va_end(ap);
    if (n < 0) {
        b->oom = 1;
        return;
    }
    if ((size_t)n < sizeof small) {
        ws_strbuf_add(b, small, (size_t)n);
        return;
    }
    char *big = malloc((size_t)n + 1);
    if (!big) {
        b->oom = 1;
        return;
    }
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    ws_strbuf_add(b, big, (size_t)n);
    free(big);
}

char *ws_strbuf_finish(ws_strbuf *b)
{
    if (!b->oom && !b->s)
        ws_strbuf_add(b, "", 0);
    char *s = b->oom ? NULL : b->s;
    if (b->oom)
        free(b->s);
    *b = (ws_strbuf){0};
    return s;
}
