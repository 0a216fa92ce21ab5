/* outfile: how the bytes of an output file reach its name.
 *
 * Owns the one rule for every file a tool writes (record streams, summaries, tables, plot data,
 * checkpoints):
 *   - a regular file, or a name that does not exist yet, is written under "<name>.tmp-<pid>"
 *     beside it, fsynced and renamed into place only when complete, so the name never holds a
 *     partial result and a failed run leaves the old file as it was;
 *   - a symbolic link is followed (to the end of a chain) and its target treated that way: the
 *     target is replaced, the link itself stays;
 *   - anything else (a character device such as /dev/null, a FIFO, a terminal) is opened and
 *     written straight into: renaming over it would replace the device node or the pipe for
 *     every other user of the name;
 *   - a directory is an error, before anything is written;
 *   - "-" (or NULL) is stdout, written straight.
 * Writes retry after EINTR, so a signal never cuts a write short. */
#ifndef WS_OUTFILE_H
#define WS_OUTFILE_H

#include <stddef.h>

#include "err.h"

typedef struct ws_outfile ws_outfile;

/* NULL on error (err filled: a directory, a missing parent directory, no permission, ...). */
ws_outfile *ws_outfile_open(const char *path, ws_err *err);
/* All n bytes, or -1 with err filled. */
int ws_outfile_write(ws_outfile *f, const void *p, size_t n, ws_err *err);
/* Finish: fsync, close and rename the temporary file into place, under "<name><suffix>" when
 * suffix is not NULL (".partial" after an interruption); a written-through output is closed (the
 * bytes are already where they go, so no suffix applies). On failure the temporary file is
 * removed. Frees f either way. */
int ws_outfile_commit(ws_outfile *f, const char *suffix, ws_err *err);
/* Abandon the output: the temporary file is removed, a replaced name keeps its old contents.
 * Frees f; NULL is ignored. */
void ws_outfile_discard(ws_outfile *f);
/* A whole file at once: opened, written, committed (under "<path><suffix>" when suffix is not
 * NULL), or discarded on failure. */
int ws_outfile_write_all(const char *path, const void *data, size_t n, const char *suffix, ws_err *err);
/* The name for messages: the path as given, or "<stdout>". */
const char *ws_outfile_name(const ws_outfile *f);

#endif
