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

#endif
