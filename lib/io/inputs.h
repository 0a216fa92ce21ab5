/* inputs: the one way a tool reads its input records (as jq's input iterator): the file
 * arguments in turn, or stdin when there are none ("-" names stdin too), each through a
 * ws_reader with the same options, so every record comes with its file and line.
 *
 * Files are opened as they are reached. The statuses are ws_reader_next's: WS_RECORD, WS_EOF
 * after the last file, WS_ERROR (err names the file and line or byte) and WS_INTERRUPTED. */
#ifndef WS_INPUTS_H
#define WS_INPUTS_H

#include <jansson.h>
#include <stddef.h>

#include "err.h"
#include "stream.h"

typedef struct ws_inputs ws_inputs;

/* paths[0..n): the inputs, read in order; n = 0 reads stdin. opts is copied. NULL only when
 * memory runs out. */
ws_inputs *ws_inputs_open(const char *const *paths, int n, const ws_reader_opts *opts, ws_err *err);
/* The next record (a new reference), crossing from one file to the next. */
int ws_inputs_next(ws_inputs *in, json_t **record, ws_err *err);
/* Up to max records into records[0..*n): WS_RECORD when max were read, else the status that
 * stopped it (WS_EOF, WS_ERROR, WS_INTERRUPTED) with the *n read before it, which the caller
 * owns either way. */
int ws_inputs_next_batch(ws_inputs *in, json_t **records, int max, int *n, ws_err *err);
/* Every remaining record: *records (malloc'd) holds *n of them, owned by the caller, also when
 * the status (WS_EOF when all were read) is not WS_EOF. */
int ws_inputs_read_all(ws_inputs *in, json_t ***records, size_t *n, ws_err *err);
/* The file of the last record handed out and its line ("" and 0 before the first). */
const char *ws_inputs_name(const ws_inputs *in);
long ws_inputs_line(const ws_inputs *in);
/* "<file>:<line>" of the last record handed out, in buf. */
const char *ws_inputs_where(const ws_inputs *in, char *buf, size_t cap);
/* err's message prefixed with that place. */
void ws_inputs_fail_here(const ws_inputs *in, ws_err *err);
void ws_inputs_close(ws_inputs *in);

#endif
