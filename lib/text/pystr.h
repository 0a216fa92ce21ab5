/* pystr: Python's str.lower() for UTF-8 text, the one lower-casing of the library; and json.dumps
 * of a string, which WebShop's item page depends on (lib/webshop/env).
 *
 * WebShop is Python, so wherever it lower-cases (the loader's option and search texts, the
 * environment's click matching, the reward's substring tests) this is the reference: full Unicode
 * case mapping without language tailoring, and the capital sigma's Final_Sigma rule as Python
 * decides it. */
#ifndef WS_PYSTR_H
#define WS_PYSTR_H

#include <stddef.h>

#include "strbuf.h"

/* str.lower() of the n bytes of UTF-8 text at s: a new NUL-terminated string (free it), its length
 * in *out_len (out_len may be NULL); NULL when out of memory or the text is not UTF-8. */
char *ws_py_lower(const char *s, size_t n, size_t *out_len);

/* json.dumps(s) of a UTF-8 string as Python writes it (ensure_ascii: quotes, backslash and
 * control characters escaped, everything outside ' '..'~' as \uxxxx, surrogate pairs beyond the
 * BMP), appended to b. */
void ws_py_json_string(ws_strbuf *b, const char *s);

#endif
