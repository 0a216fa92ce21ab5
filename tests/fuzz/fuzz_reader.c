/* libFuzzer harness for the record reader (lib/io/stream): any bytes, plain or zstd, must give
 * records or a clean error, never a crash; every record must survive a write/read round trip. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "stream.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    /* The first byte picks the reader options so that every check path is exercised. */
    ws_reader_opts opts = {0};
    if (size > 0) {
        opts.type = (data[0] & 1) ? "goal" : NULL;
        opts.version = 1;
        opts.allow_empty = (data[0] & 2) != 0;
        opts.max_line = (data[0] & 4) ? 64 : 0;
        data++;
        size--;
    }
    ws_err err;
    ws_reader *r = ws_reader_open_mem(data, size, "fuzz", &opts, &err);
    if (!r)
        return 0;
    json_t *rec;
    char *buf = NULL;
    size_t cap = 0;
    while (ws_reader_next(r, &rec, &err) == WS_RECORD) {
        size_t len = 0;
        if (ws_json_append(rec, &buf, &len, &cap) == 0) {
            json_t *back = json_loadb(buf, len, JSON_ALLOW_NUL, NULL);
            if (!back || !json_equal(rec, back))
                abort(); /* the writer's serialisation must read back as the same value */
            json_decref(back);
        }
        json_decref(rec);
    }
    free(buf);
    ws_reader_close(r);
    return 0;
}
