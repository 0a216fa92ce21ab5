/* A zstd frame of a text with a content checksum, as the project's writers make them, for the
 * readers' tests (test_stream, test_jsonarray). Include after cmocka.h. */
#ifndef WS_TEST_ZSTD_FRAME_H
#define WS_TEST_ZSTD_FRAME_H

#include <stdlib.h>
#include <zstd.h>

static inline char *compress(const char *text, size_t n, size_t *out_n)
{
    size_t cap = ZSTD_compressBound(n);
    char *z = malloc(cap);
    assert_non_null(z);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 1);
    *out_n = ZSTD_compress2(cctx, z, cap, text, n);
    ZSTD_freeCCtx(cctx);
    assert_false(ZSTD_isError(*out_n));
    return z;
}

#endif
