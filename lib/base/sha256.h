/* sha256: SHA-256 (FIPS 180-4), streaming, for the identity of files and their contents (a
 * vocabulary, a checkpoint's tensor data). */
#ifndef WS_SHA256_H
#define WS_SHA256_H

#include <stddef.h>
#include <stdint.h>

typedef struct ws_sha256 {
    uint32_t h[8];
    uint64_t len; /* bytes hashed so far */
    unsigned char buf[64];
    size_t fill;  /* bytes of buf in use */
} ws_sha256;

void ws_sha256_init(ws_sha256 *c);
void ws_sha256_update(ws_sha256 *c, const void *data, size_t len);
/* Finish: 64 lower-case hex digits and a NUL (what `sha256sum` prints). */
void ws_sha256_hex(ws_sha256 *c, char out[65]);

#endif
