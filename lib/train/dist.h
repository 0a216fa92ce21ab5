/* dist: data-parallel training across processes, on MPI (Open MPI) and, on GPUs, NCCL.
 *
 * Launched by mpirun, every rank runs the same trainer: the same seed gives every rank the same
 * initial weights and data order; each rank takes its contiguous shard of every batch (or, for
 * PPO, plays its own environments), computes gradients scaled by its share of the batch, and the
 * ranks sum them (MPI_Allreduce on host memory; NCCL on a GPU backend that offers it), so every
 * rank applies the same update. Only rank 0 writes checkpoints, metrics and progress.
 * Started without mpirun, a trainer is one rank and MPI is never initialised.
 *
 * What differs from one process with the whole batch: the order in which per-state gradient
 * contributions are added (matrix products over fewer rows, then one sum across ranks), i.e.
 * the last bits of the gradients; the test holds a 2-rank run of train-il to 1e-5 (relative,
 * on the weights after 20 updates) of the 1-rank run. */
#ifndef WS_DIST_H
#define WS_DIST_H

#include <stddef.h>

#include "backend.h"
#include "err.h"

typedef struct ws_dist {
    int rank, size;
    int mpi;                    /* MPI was initialised here (and must be finalised) */
    const ws_backend *be;       /* where gradients live */
    int device_comm;            /* the backend sums them itself (NCCL) */
    float *host;                /* staging for a device backend without its own all-reduce */
    size_t host_cap;
} ws_dist;

/* Join the job mpirun started (detected from its environment), or be the only rank. */
int ws_dist_init(ws_dist *d, ws_err *err);
/* Started by mpirun (Open MPI's, or an MPICH/PMIx launcher tells its children who they are);
 * their stdout is then the launcher's pseudo-terminal, whatever the user's is. */
int ws_dist_launched(void);
/* Gradients live on this backend from now on; a GPU backend with comm_* joins its communicator. */
int ws_dist_use_backend(ws_dist *d, const ws_backend *be, ws_err *err);
void ws_dist_finish(ws_dist *d);

static inline int ws_dist_is_root(const ws_dist *d) { return d->rank == 0; }

/* This rank's contiguous part [*lo, *hi) of n items: the first n % size ranks take one more. */
void ws_dist_shard(const ws_dist *d, long n, long *lo, long *hi);

/* x (backend memory, n floats) <- its sum over the ranks. */
int ws_dist_sum_floats(ws_dist *d, float *x, size_t n, ws_err *err);
/* x (host, n doubles) <- its sum over the ranks. */
int ws_dist_sum_doubles(ws_dist *d, double *x, int n, ws_err *err);
/* Rank 0's malloc'd string *text, given to every rank (others' *text is replaced). */
int ws_dist_broadcast_text(ws_dist *d, char **text, ws_err *err);
/* 1 when `flag` is non-zero on any rank (an interrupt seen by one rank stops all at the same step). */
int ws_dist_any(ws_dist *d, int flag);

#endif
