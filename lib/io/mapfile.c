#include "mapfile.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "grow.h"
#include "outfile.h"
#include "sha256.h"

#define MAGIC "WSMAPv1\n"
#define END_MAGIC "WSMAPEND"
#define CONTAINER_VERSION 1u
#define BYTE_ORDER_MARK 0x01020304u
#define BUF_SIZE (1u << 20)

typedef struct header {
    char magic[8];
    uint32_t version, byte_order;
    uint32_t word_size, kind_version;
    char kind[16];
    char zero[24];
} header;

typedef struct entry {
    uint32_t id, zero;
    uint64_t offset, size;
} entry;

typedef struct trailer {
    uint64_t table_offset, n_sections, file_size;
    char sha256[64]; /* hex, of header, table and the three fields above */
    char magic[8];
} trailer;

_Static_assert(sizeof(header) == WS_MAPFILE_ALIGN, "the header fills the first aligned block");
_Static_assert(sizeof(entry) == 24 && sizeof(trailer) == 96, "no padding in the on-disk structs");

struct ws_mapfile_writer {
    ws_outfile *out;
    char *buf;
    size_t fill;
    uint64_t pos; /* bytes written so far, buffer included */
    entry *table;
    size_t n, cap;
    int open; /* a section is open */
    header h;
};

struct ws_mapfile {
    char *path;
    const unsigned char *base;
    size_t size;
    const entry *table;
    size_t n;
};

static int flush(ws_mapfile_writer *w, ws_err *err)
{
    int rc = w->fill ? ws_outfile_write(w->out, w->buf, w->fill, err) : 0;
    w->fill = 0;
    return rc;
}

static int put(ws_mapfile_writer *w, const void *data, size_t n, ws_err *err)
{
    w->pos += n;
    if (w->fill + n > BUF_SIZE) {
        if (flush(w, err))
            return -1;
        if (n > BUF_SIZE)
            return ws_outfile_write(w->out, data, n, err);
    }
    memcpy(w->buf + w->fill, data, n);
    w->fill += n;
    return 0;
}

static int pad(ws_mapfile_writer *w, ws_err *err)
{
    static const char zeros[WS_MAPFILE_ALIGN];
    size_t k = (size_t)(-w->pos % WS_MAPFILE_ALIGN);
    return k ? put(w, zeros, k, err) : 0;
}

ws_mapfile_writer *ws_mapfile_create(const char *path, const char *kind, uint32_t kind_version, ws_err *err)
{
    ws_mapfile_writer *w = calloc(1, sizeof *w);
    if (!w || !(w->buf = malloc(BUF_SIZE))) {
        free(w);
        return ws_fail(err, "out of memory"), NULL;
    }
    if (!(w->out = ws_outfile_open(path, err))) {
        ws_mapfile_discard(w);
        return NULL;
    }
    memcpy(w->h.magic, MAGIC, 8);
    w->h.version = CONTAINER_VERSION;
    w->h.byte_order = BYTE_ORDER_MARK;
    w->h.word_size = sizeof(size_t);
    w->h.kind_version = kind_version;
    strncpy(w->h.kind, kind, sizeof w->h.kind - 1);
    if (put(w, &w->h, sizeof w->h, err)) {
        ws_mapfile_discard(w);
        return NULL;
    }
    return w;
}

int ws_mapfile_begin(ws_mapfile_writer *w, uint32_t id, ws_err *err)
{
    entry *t = ws_grow(w->table, &w->cap, w->n + 1, sizeof *t, 32);
    if (!t)
        return ws_fail(err, "out of memory");
    w->table = t;
    if (pad(w, err))
        return -1;
    w->table[w->n++] = (entry){.id = id, .offset = w->pos};
    w->open = 1;
    return 0;
}

int ws_mapfile_put(ws_mapfile_writer *w, const void *data, size_t n, ws_err *err)
{
    return put(w, data, n, err);
}

uint64_t ws_mapfile_section_len(const ws_mapfile_writer *w) { return w->pos - w->table[w->n - 1].offset; }

void ws_mapfile_end(ws_mapfile_writer *w)
{
    w->table[w->n - 1].size = ws_mapfile_section_len(w);
    w->open = 0;
}

int ws_mapfile_add(ws_mapfile_writer *w, uint32_t id, const void *data, size_t n, ws_err *err)
{
    if (ws_mapfile_begin(w, id, err) || put(w, data, n, err))
        return -1;
    ws_mapfile_end(w);
    return 0;
}

/* SHA-256 of what opening checks: the header, the table and the trailer's first fields. */
static void seal(const header *h, const entry *table, size_t n, const trailer *t, char out[65])
{
    ws_sha256 c;
    ws_sha256_init(&c);
    ws_sha256_update(&c, h, sizeof *h);
    ws_sha256_update(&c, table, n * sizeof *table);
    ws_sha256_update(&c, t, offsetof(trailer, sha256));
    ws_sha256_hex(&c, out);
}

int ws_mapfile_commit(ws_mapfile_writer *w, ws_err *err)
{
    int rc = pad(w, err);
    trailer t = {.table_offset = w->pos, .n_sections = w->n};
    t.file_size = w->pos + w->n * sizeof(entry) + sizeof t;
    char hex[65];
    seal(&w->h, w->table, w->n, &t, hex);
    memcpy(t.sha256, hex, sizeof t.sha256);
    memcpy(t.magic, END_MAGIC, sizeof t.magic);
    if (rc || put(w, w->table, w->n * sizeof(entry), err) || put(w, &t, sizeof t, err) || flush(w, err)) {
        ws_mapfile_discard(w);
        return -1;
    }
    rc = ws_outfile_commit(w->out, NULL, err);
    w->out = NULL;
    ws_mapfile_discard(w);
    return rc;
}

void ws_mapfile_discard(ws_mapfile_writer *w)
{
    if (!w)
        return;
    ws_outfile_discard(w->out);
    free(w->buf);
    free(w->table);
    free(w);
}

/* ------------------------------------------------------------------------------------------- */

static ws_mapfile *refuse(ws_mapfile *m, ws_err *err, const char *why)
{
    ws_fail(err, "%s: %s", m->path, why);
    ws_mapfile_close(m);
    return NULL;
}

ws_mapfile *ws_mapfile_open(const char *path, const char *kind, uint32_t kind_version, ws_err *err)
{
    ws_mapfile *m = calloc(1, sizeof *m);
    if (!m || !(m->path = strdup(path))) {
        free(m);
        return ws_fail(err, "out of memory"), NULL;
    }
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        ws_fail(err, "%s: cannot open: %s", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        ws_mapfile_close(m);
        return NULL;
    }
    if (!S_ISREG(st.st_mode)) {
        close(fd);
        return refuse(m, err, "not a regular file");
    }
    m->size = (size_t)st.st_size;
    if (m->size < sizeof(header) + sizeof(trailer)) {
        close(fd);
        return refuse(m, err, "truncated or not a mapped file (too short)");
    }
    void *base = mmap(NULL, m->size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (base == MAP_FAILED) {
        ws_fail(err, "%s: cannot map: %s", path, strerror(errno));
        ws_mapfile_close(m);
        return NULL;
    }
    m->base = base;
    const header *h = (const header *)m->base;
    if (memcmp(h->magic, MAGIC, 8) != 0)
        return refuse(m, err, "not a mapped file (bad magic)");
    if (h->byte_order != BYTE_ORDER_MARK || h->word_size != sizeof(size_t))
        return refuse(m, err, "written on a machine of another byte order or word size: rebuild it here");
    if (h->version != CONTAINER_VERSION)
        return refuse(m, err, "container version differs from this program's: rebuild it");
    if (strncmp(h->kind, kind, sizeof h->kind) != 0) {
        ws_fail(err, "%s: holds a %.15s, not a %s", path, h->kind, kind);
        ws_mapfile_close(m);
        return NULL;
    }
    if (h->kind_version != kind_version) {
        ws_fail(err, "%s: %s format version %u, this program reads version %u: rebuild it", path, kind,
                h->kind_version, kind_version);
        ws_mapfile_close(m);
        return NULL;
    }
    trailer t;
    memcpy(&t, m->base + m->size - sizeof t, sizeof t);
    if (memcmp(t.magic, END_MAGIC, sizeof t.magic) != 0)
        return refuse(m, err, "truncated or incomplete (no trailer at its end)");
    if (t.file_size != m->size) {
        ws_fail(err, "%s: truncated or extended: %zu bytes, written as %llu", path, m->size,
                (unsigned long long)t.file_size);
        ws_mapfile_close(m);
        return NULL;
    }
    size_t table_end = m->size - sizeof t;
    if (t.table_offset < sizeof(header) || t.table_offset > table_end || t.table_offset % WS_MAPFILE_ALIGN ||
        t.n_sections != (table_end - t.table_offset) / sizeof(entry) ||
        (table_end - t.table_offset) % sizeof(entry))
        return refuse(m, err, "corrupt (section table out of place)");
    m->table = (const entry *)(m->base + t.table_offset);
    m->n = (size_t)t.n_sections;
    char hex[65];
    seal(h, m->table, m->n, &t, hex);
    if (memcmp(hex, t.sha256, sizeof t.sha256) != 0)
        return refuse(m, err, "corrupt (header checksum mismatch)");
    for (size_t i = 0; i < m->n; i++) {
        const entry *e = &m->table[i];
        if (e->offset < sizeof(header) || e->offset % WS_MAPFILE_ALIGN || e->offset > t.table_offset ||
            e->size > t.table_offset - e->offset)
            return refuse(m, err, "corrupt (a section lies outside the file)");
    }
    return m;
}

const void *ws_mapfile_section(const ws_mapfile *m, uint32_t id, size_t *size)
{
    for (size_t i = 0; i < m->n; i++)
        if (m->table[i].id == id) {
            *size = (size_t)m->table[i].size;
            return m->base + m->table[i].offset;
        }
    *size = 0;
    return NULL;
}

const void *ws_mapfile_array(const ws_mapfile *m, uint32_t id, size_t elem_size, size_t n, size_t *count,
                             ws_err *err)
{
    size_t size;
    const void *p = ws_mapfile_section(m, id, &size);
    if (!p)
        return ws_fail(err, "%s: corrupt (section %#x missing)", m->path, id), NULL;
    if (size % elem_size || (n != (size_t)-1 && size / elem_size != n))
        return ws_fail(err, "%s: corrupt (section %#x: %zu bytes, not a whole array of the %zu-byte elements expected)",
                       m->path, id, size, elem_size),
               NULL;
    if (count)
        *count = size / elem_size;
    return p;
}

const char *ws_mapfile_path(const ws_mapfile *m) { return m->path; }

void ws_mapfile_close(ws_mapfile *m)
{
    if (!m)
        return;
    if (m->base)
        munmap((void *)m->base, m->size);
    free(m->path);
    free(m);
}
