#include "outfile.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "interrupt.h"

struct ws_outfile {
    char *name;   /* as given, for messages */
    char *target; /* the file renamed over (a link's target); NULL when written straight */
    char *tmp;    /* "<target>.tmp-<pid>" */
    int fd;
};

/* The file a chain of symbolic links ends at (it may not exist yet); `path` itself when it is
 * no link. Resolved by hand because realpath() refuses a link whose target does not exist. */
static char *link_target(const char *path, ws_err *err)
{
    char *p = strdup(path);
    for (int hops = 0; p; hops++) {
        struct stat st;
        if (lstat(p, &st) != 0 || !S_ISLNK(st.st_mode))
            return p;
        char to[PATH_MAX];
        ssize_t n = hops < 40 ? readlink(p, to, sizeof to - 1) : -1;
        if (n < 0) {
            ws_fail(err, "%s: cannot follow the symbolic link: %s", path, hops < 40 ? strerror(errno)
                                                                                   : strerror(ELOOP));
            free(p);
            return NULL;
        }
        to[n] = '\0';
        const char *slash = strrchr(p, '/');
        char *next = NULL;
        if (to[0] == '/' || !slash)
            next = strdup(to);
        else if (asprintf(&next, "%.*s/%s", (int)(slash - p), p, to) < 0)
            next = NULL;
        free(p);
        p = next;
    }
    ws_fail(err, "%s: out of memory", path);
    return NULL;
}

ws_outfile *ws_outfile_open(const char *path, ws_err *err)
{
    int is_stdout = !path || strcmp(path, "-") == 0;
    ws_outfile *f = calloc(1, sizeof *f);
    if (!f || !(f->name = strdup(is_stdout ? "<stdout>" : path))) {
        free(f);
        ws_fail(err, "out of memory");
        return NULL;
    }
    f->fd = -1;
    if (is_stdout) {
        f->fd = STDOUT_FILENO;
        return f;
    }
    struct stat st;
    int exists = stat(path, &st) == 0;
    if (exists && S_ISDIR(st.st_mode)) {
        ws_fail(err, "%s: is a directory", path);
        ws_outfile_discard(f);
        return NULL;
    }
    if (exists && !S_ISREG(st.st_mode)) {
        /* a FIFO blocks here until it has a reader; only SIGINT/SIGTERM end that wait */
        while ((f->fd = open(path, O_WRONLY | O_CLOEXEC)) < 0 && errno == EINTR && !ws_interrupted())
            ;
        if (f->fd < 0) {
            ws_fail(err, "%s: cannot open for writing: %s", path, strerror(errno));
            ws_outfile_discard(f);
            return NULL;
        }
        return f;
    }
    if (!(f->target = link_target(path, err))) {
        ws_outfile_discard(f);
        return NULL;
    }
    if (asprintf(&f->tmp, "%s.tmp-%ld", f->target, (long)getpid()) < 0) {
        f->tmp = NULL;
        ws_fail(err, "out of memory");
        ws_outfile_discard(f);
        return NULL;
    }
    if ((f->fd = open(f->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644)) < 0) {
        ws_fail(err, "%s: cannot create: %s", f->tmp, strerror(errno));
        free(f->tmp);
        f->tmp = NULL; /* nothing to remove */
        ws_outfile_discard(f);
        return NULL;
    }
    return f;
}

int ws_outfile_write(ws_outfile *f, const void *p, size_t n, ws_err *err)
{
    const char *s = p;
    while (n) {
        ssize_t k = write(f->fd, s, n);
        if (k < 0) {
            if (errno == EINTR)
                continue; /* finish the write: records stay whole even when interrupted */
            return ws_fail(err, "%s: write failed: %s", f->name, strerror(errno));
        }
        s += k;
        n -= (size_t)k;
    }
    return 0;
}

/* Make the rename itself durable: fsync the directory holding `path` (best effort). */
static void sync_parent_dir(const char *path)
{
    const char *slash = strrchr(path, '/');
    char *dir = slash ? strndup(path, slash == path ? 1 : (size_t)(slash - path)) : strdup(".");
    if (!dir)
        return;
    int fd = open(dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
    if (fd >= 0) {
        (void)fsync(fd);
        close(fd);
    }
    free(dir);
}

int ws_outfile_commit(ws_outfile *f, const char *suffix, ws_err *err)
{
    int rc = 0;
    if (f->tmp && fsync(f->fd) != 0 && errno != EINVAL)
        rc = ws_fail(err, "%s: fsync failed: %s", f->name, strerror(errno));
    if (f->fd > STDERR_FILENO && close(f->fd) != 0 && rc == 0)
        rc = ws_fail(err, "%s: close failed: %s", f->name, strerror(errno));
    f->fd = -1;
    if (rc == 0 && f->tmp) {
        char *final = NULL;
        if (asprintf(&final, "%s%s", f->target, suffix ? suffix : "") < 0)
            rc = ws_fail(err, "out of memory");
        else if (rename(f->tmp, final) != 0)
            rc = ws_fail(err, "%s: cannot rename into place: %s", final, strerror(errno));
        else
            sync_parent_dir(final);
        if (rc == 0) {
            free(f->tmp);
            f->tmp = NULL; /* renamed: nothing left to remove */
        }
        free(final);
    }
    ws_outfile_discard(f);
    return rc;
}

void ws_outfile_discard(ws_outfile *f)
{
    if (!f)
        return;
    if (f->fd > STDERR_FILENO)
        close(f->fd);
    if (f->tmp)
        unlink(f->tmp);
    free(f->tmp);
    free(f->target);
    free(f->name);
    free(f);
}

const char *ws_outfile_name(const ws_outfile *f) { return f->name; }

int ws_outfile_write_all(const char *path, const void *data, size_t n, const char *suffix, ws_err *err)
{
    ws_outfile *f = ws_outfile_open(path, err);
    if (!f)
        return -1;
    if (ws_outfile_write(f, data, n, err)) {
        ws_outfile_discard(f);
        return -1;
    }
    return ws_outfile_commit(f, suffix, err);
}
