/* mapfile: files of binary sections that programs map into memory read-only (mmap, shared
 * between processes) instead of parsing and rebuilding their contents at every start.
 *
 * Owns the container and its checks, not what the sections mean (the catalog and the search index
 * lay out their own, docs/catalog-format.md):
 *   - a 64-byte header: magic "WSMAPv1\n", the container version, the byte order and word size
 *     the file was written with, and the kind of contents ("catalog") with its own version;
 *   - sections, each starting at a multiple of 64 bytes (any array in one is aligned), written in
 *     one pass, so a writer streams a large section without holding it;
 *   - a section table (id, offset, size per section) and a trailer: the table's place, the
 *     file's size and the SHA-256 of header, table and trailer, which opening verifies, so a
 *     truncated, garbled, foreign or older file is refused with its name and the reason before
 *     any section is read.
 * The sections' own bytes are not hashed (that would read the whole file at every start): their
 * readers check every offset they follow. Written through outfile (a temporary name, then
 * renamed), so a name never holds half a file. */
#ifndef WS_MAPFILE_H
#define WS_MAPFILE_H

#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define WS_MAPFILE_ALIGN 64

typedef struct ws_mapfile ws_mapfile;
typedef struct ws_mapfile_writer ws_mapfile_writer;

/* Start a file of the given kind (at most 15 bytes) and version; NULL with err. */
ws_mapfile_writer *ws_mapfile_create(const char *path, const char *kind, uint32_t kind_version, ws_err *err);
/* Sections: begin, put their bytes (any number of calls), end. Ids are the caller's and unique. */
int ws_mapfile_begin(ws_mapfile_writer *w, uint32_t id, ws_err *err);
int ws_mapfile_put(ws_mapfile_writer *w, const void *data, size_t n, ws_err *err);
void ws_mapfile_end(ws_mapfile_writer *w);
/* A whole section at once. */
int ws_mapfile_add(ws_mapfile_writer *w, uint32_t id, const void *data, size_t n, ws_err *err);
/* Bytes put into the open section so far (the offset the next put lands at within it). */
uint64_t ws_mapfile_section_len(const ws_mapfile_writer *w);
/* Write the table and trailer and rename the file into place. Frees w either way. */
int ws_mapfile_commit(ws_mapfile_writer *w, ws_err *err);
/* Abandon: nothing is left under the name (an old file there stays). NULL is ignored. */
void ws_mapfile_discard(ws_mapfile_writer *w);

/* Map a file and check its container; NULL with "PATH: reason" in err. */
ws_mapfile *ws_mapfile_open(const char *path, const char *kind, uint32_t kind_version, ws_err *err);
/* A section's bytes and size (NULL when the file has no such section). */
const void *ws_mapfile_section(const ws_mapfile *m, uint32_t id, size_t *size);
/* A section read as an array of n elements of elem_size bytes; a missing section, or one whose
 * size is not n * elem_size (n = (size_t)-1: any whole number of elements, stored in *count),
 * is an error naming the file and the section. */
const void *ws_mapfile_array(const ws_mapfile *m, uint32_t id, size_t elem_size, size_t n, size_t *count,
                             ws_err *err);
const char *ws_mapfile_path(const ws_mapfile *m);
void ws_mapfile_close(ws_mapfile *m);

#endif
