#include "pystr.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unicase.h>
#include <unictype.h>
#include <unistr.h>

#include "grow.h"

/* Python's Final_Sigma test for the capital sigma at s[i] (unicodeobject.c, handle_capital_sigma):
 * \p{cased} \p{case-ignorable}* U+03A3 !(\p{case-ignorable}* \p{cased}), on the original text. */
static int final_sigma(const uint8_t *s, size_t n, size_t i)
{
    const uint8_t *p = s + i;
    ucs4_t c = 0;
    int found = 0;
    while ((p = u8_prev(&c, p, s)) != NULL) {
        if (!uc_is_property_case_ignorable(c)) {
            found = 1;
            break;
        }
    }
    if (!found || !uc_is_property_cased(c))
        return 0;
    for (size_t j = i + 2; j < n;) {
        int k = u8_mbtouc(&c, s + j, n - j);
        if (!uc_is_property_case_ignorable(c))
            return !uc_is_property_cased(c);
        j += (size_t)k;
    }
    return 1;
}

/* Lower a run free of capital sigmas, appending to *out. */
static int lower_run(const uint8_t *s, size_t n, char **out, size_t *len, size_t *cap)
{
    size_t got = 0;
    uint8_t *u = n ? u8_tolower(s, n, NULL, NULL, NULL, &got) : NULL;
    if (n && !u)
        return -1;
    char *q = ws_grow(*out, cap, *len + got + 3, 1, 64);
    if (!q) {
        free(u);
        return -1;
    }
    *out = q;
    if (got)
        memcpy(*out + *len, u, got);
    *len += got;
    free(u);
    return 0;
}

char *ws_py_lower(const char *s, size_t n, size_t *out_len)
{
    size_t i = 0;
    while (i < n && (unsigned char)s[i] < 0x80)
        i++;
    if (i == n) { /* ASCII: Python's lower() is the ASCII one */
        char *r = malloc(n + 1);
        if (!r)
            return NULL;
        for (size_t k = 0; k < n; k++) {
            char c = s[k];
            r[k] = c >= 'A' && c <= 'Z' ? (char)(c + 32) : c;
        }
        r[n] = 0;
        if (out_len)
            *out_len = n;
        return r;
    }
    if (u8_check((const uint8_t *)s, n))
        return NULL;
    /* Full case mapping without language tailoring, as str.lower(): libunistring's, except for the
     * capital sigma, whose Final_Sigma context is decided here with Python's definition (libunistring
     * does not count U+0027 as case-ignorable there; Python and the Unicode property do). Without
     * the language's contexts, nothing else depends on the neighbours, so the runs between sigmas
     * are mapped on their own. */
    const uint8_t *u = (const uint8_t *)s;
    char *out = NULL;
    size_t len = 0, cap = 0, pos = 0;
    for (;;) {
        const uint8_t *sig = memmem(u + pos, n - pos, "\xce\xa3", 2);
        size_t end = sig ? (size_t)(sig - u) : n;
        if (lower_run(u + pos, end - pos, &out, &len, &cap)) {
            free(out);
            return NULL;
        }
        if (!sig)
            break;
        memcpy(out + len, final_sigma(u, n, end) ? "\xcf\x82" : "\xcf\x83", 2);
        len += 2;
        pos = end + 2;
    }
    out[len] = 0;
    if (out_len)
        *out_len = len;
    return out;
}

void ws_py_json_string(ws_strbuf *b, const char *s)
{
    const uint8_t *u = (const uint8_t *)s;
    size_t n = strlen(s);
    ws_strbuf_add(b, "\"", 1);
    for (size_t i = 0; i < n;) {
        ucs4_t c;
        int k = u8_mbtouc(&c, u + i, n - i);
        i += (size_t)(k > 0 ? k : 1);
        switch (c) {
        case '"': ws_strbuf_add(b, "\\\"", 2); continue;
        case '\\': ws_strbuf_add(b, "\\\\", 2); continue;
        case '\n': ws_strbuf_add(b, "\\n", 2); continue;
        case '\r': ws_strbuf_add(b, "\\r", 2); continue;
        case '\t': ws_strbuf_add(b, "\\t", 2); continue;
        case '\b': ws_strbuf_add(b, "\\b", 2); continue;
        case '\f': ws_strbuf_add(b, "\\f", 2); continue;
        default: break;
        }
        if (c >= 0x20 && c <= 0x7e) {
            char ch = (char)c;
            ws_strbuf_add(b, &ch, 1);
        } else if (c < 0x10000) {
            ws_strbuf_printf(b, "\\u%04x", (unsigned)c);
        } else {
            c -= 0x10000;
            ws_strbuf_printf(b, "\\u%04x\\u%04x", 0xd800u | (unsigned)(c >> 10), 0xdc00u | (unsigned)(c & 0x3ff));
        }
    }
    ws_strbuf_add(b, "\"", 1);
}
