/* strbuf: a growable, always NUL-terminated text buffer, for building strings piece by piece (a
 * safetensors header, a state key, a product's search text).
 *
 * Appending does not fail as such: when memory runs out the buffer stops growing and sets `oom`,
 * which the builder checks once at the end. Start from a zeroed struct; free `s`. */
#ifndef WS_STRBUF_H
#define WS_STRBUF_H

#include <stddef.h>

typedef struct ws_strbuf {
    char *s;
    size_t len, cap;
    int oom;
} ws_strbuf;

void ws_strbuf_add(ws_strbuf *b, const char *s, size_t n);
/* A NUL-terminated string; NULL appends nothing. */
void ws_strbuf_str(ws_strbuf *b, const char *s);
/* printf-style. */
void ws_strbuf_printf(ws_strbuf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* The string built, handed over (malloc'd; "" when nothing was added), or NULL when memory ran
 * out (what was built is freed). The buffer is empty again either way. */
char *ws_strbuf_finish(ws_strbuf *b);

#endif
