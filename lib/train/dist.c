#include "dist.h"

#include <mpi.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int ws_dist_launched(void)
{
    return getenv("OMPI_COMM_WORLD_SIZE") || getenv("PMIX_RANK") || getenv("PMI_RANK");
}

static int mpi_fail(ws_err *err, const char *what, int rc)
{
    char msg[MPI_MAX_ERROR_STRING];
    int len = 0;
    if (MPI_Error_string(rc, msg, &len) != MPI_SUCCESS)
        snprintf(msg, sizeof msg, "error %d", rc);
    return ws_fail(err, "MPI: %s: %s", what, msg);
}

int ws_dist_init(ws_dist *d, ws_err *err)
{
    memset(d, 0, sizeof *d);
    d->size = 1;
    d->be = ws_backend_cpu();
    if (!ws_dist_launched())
        return 0;
    int rc = MPI_Init(NULL, NULL);
    if (rc != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Init", rc);
    d->mpi = 1;
    /* errors come back as codes (with a message), never as an abort of the whole job */
    MPI_Comm_set_errhandler(MPI_COMM_WORLD, MPI_ERRORS_RETURN);
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
    return 0;
}

int ws_dist_use_backend(ws_dist *d, const ws_backend *be, ws_err *err)
{
    d->be = be;
    d->device_comm = 0;
    if (d->size == 1 || !be->comm_init)
        return 0;
    unsigned char id[256];
    size_t id_bytes = sizeof id;
    if (d->rank == 0 && be->comm_unique_id(be, id, &id_bytes, err))
        return -1;
    unsigned long long n = id_bytes;
    int rc = MPI_Bcast(&n, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    if (rc == MPI_SUCCESS && n <= sizeof id)
        rc = MPI_Bcast(id, (int)n, MPI_BYTE, 0, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS)
        return mpi_fail(err, "broadcasting the device communicator's id", rc);
    if (be->comm_init(be, id, d->rank, d->size, err))
        return -1;
    d->device_comm = 1;
    return 0;
}

void ws_dist_finish(ws_dist *d)
{
    free(d->host);
    if (d->mpi)
        MPI_Finalize();
    memset(d, 0, sizeof *d);
}

void ws_dist_shard(const ws_dist *d, long n, long *lo, long *hi)
{
    long base = n / d->size, extra = n % d->size, r = d->rank;
    *lo = r * base + (r < extra ? r : extra);
    *hi = *lo + base + (r < extra);
}

/* MPI counts are ints: sum in pieces. */
static int allreduce_host(void *x, size_t n, MPI_Datatype type, size_t elem, ws_err *err)
{
    const size_t piece = 1u << 30;
    for (size_t off = 0; off < n; off += piece) {
        size_t k = n - off < piece ? n - off : piece;
        int rc = MPI_Allreduce(MPI_IN_PLACE, (char *)x + off * elem, (int)k, type, MPI_SUM, MPI_COMM_WORLD);
        if (rc != MPI_SUCCESS)
            return mpi_fail(err, "MPI_Allreduce", rc);
    }
    return 0;
}

int ws_dist_sum_floats(ws_dist *d, float *x, size_t n, ws_err *err)
{
    if (d->size == 1)
        return 0;
    const ws_backend *be = d->be;
    if (d->device_comm) {
        be->allreduce_sum(be, x, n);
        return be->status(be, err);
    }
    if (ws_backend_on_host(be))
        return allreduce_host(x, n, MPI_FLOAT, sizeof *x, err);
    if (n > d->host_cap) {
        float *h = realloc(d->host, n * sizeof *h);
        if (!h)
            return ws_fail(err, "out of memory staging %zu gradients", n);
        d->host = h;
        d->host_cap = n;
    }
    be->download(be, d->host, x, n * sizeof *x);
    if (be->status(be, err) || allreduce_host(d->host, n, MPI_FLOAT, sizeof *x, err))
        return -1;
    be->upload(be, x, d->host, n * sizeof *x);
    return be->status(be, err);
}

int ws_dist_sum_doubles(ws_dist *d, double *x, int n, ws_err *err)
{
    if (d->size == 1)
        return 0;
    return allreduce_host(x, (size_t)n, MPI_DOUBLE, sizeof *x, err);
}

int ws_dist_broadcast_text(ws_dist *d, char **text, ws_err *err)
{
    if (d->size == 1)
        return 0;
    unsigned long long len = d->rank == 0 ? strlen(*text) : 0;
    int rc = MPI_Bcast(&len, 1, MPI_UNSIGNED_LONG_LONG, 0, MPI_COMM_WORLD);
    if (rc != MPI_SUCCESS)
        return mpi_fail(err, "MPI_Bcast", rc);
    if (d->rank != 0) {
        free(*text);
        if (!(*text = calloc(1, (size_t)len + 1)))
            return ws_fail(err, "out of memory");
    }
    rc = len ? MPI_Bcast(*text, (int)len, MPI_CHAR, 0, MPI_COMM_WORLD) : MPI_SUCCESS;
    return rc == MPI_SUCCESS ? 0 : mpi_fail(err, "MPI_Bcast", rc);
}

int ws_dist_any(ws_dist *d, int flag)
{
    if (d->size == 1)
        return flag != 0;
    int any = flag != 0;
    if (MPI_Allreduce(MPI_IN_PLACE, &any, 1, MPI_INT, MPI_MAX, MPI_COMM_WORLD) != MPI_SUCCESS)
        return 1; /* cannot agree: stop */
    return any;
}
