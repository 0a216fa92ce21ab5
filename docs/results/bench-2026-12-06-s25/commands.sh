#!/usr/bin/env bash
# Issue 16, session 25 (AMD EPYC, 2 cores), the kernels' figures and the quiet step timings.
# The machine ran a training all session; the step timings were taken with it paused (kill -STOP).
set -euo pipefail
# one product, one thread, thread CPU time (alternating builds: the library before and after)
cat > /tmp/gb-nn.c <<'C'
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "gemm_bf16.h"
static double cpu(void){struct timespec t;clock_gettime(CLOCK_THREAD_CPUTIME_ID,&t);return t.tv_sec+1e-9*t.tv_nsec;}
int main(int argc,char**argv){
  int M=atoi(argv[1]),N=atoi(argv[2]),K=atoi(argv[3]),ta=argv[4][0]=='T',tb=argv[4][1]=='T',reps=atoi(argv[5]);
  float*A=malloc(4L*M*K),*B=malloc(4L*K*N),*C=malloc(4L*M*N);
  for(long i=0;i<(long)M*K;i++)A[i]=(i%7)*0.1f; for(long i=0;i<(long)K*N;i++)B[i]=(i%5)*0.1f;
  double t=cpu();
  for(int r=0;r<reps;r++) ws_gemm_bf16(ta?CblasTrans:CblasNoTrans,tb?CblasTrans:CblasNoTrans,M,N,K,1,A,ta?M:K,B,tb?K:N,0,C,N);
  t=cpu()-t; printf("%s %dx%dx%d: %.1f GFLOP/s\n",argv[4],M,N,K,2.0*M*N*K*reps/t/1e9); return 0;}
C
cc -O2 -fopenmp -Ilib/model -I/usr/include/x86_64-linux-gnu/openblas-openmp /tmp/gb-nn.c build/libwebshop.a -lm -o /tmp/gb-nn
for s in "384 1536 1920 TN" "384 384 1920 TN" "1536 384 1920 TN" "384 32 384 TN"; do OMP_NUM_THREADS=1 /tmp/gb-nn $s 60; done
# attention alone (4 x 384 tokens, 12 heads): ../bench-2026-12-05-tiles/attention_bench.c with CLOCK_PROCESS_CPUTIME_ID
# the step, 2 threads, alternating builds (5 steps each, 4 rounds): model_bench --serve prints each step's seconds
for r in 1 2 3 4; do for b in "$BASE_BENCH" build/bench/model_bench; do
    printf 'x\n%.0s' 1 2 3 4 5 | "$b" minilm 4 --cpu-math bf16 --serve | awk '/^[0-9]/ { s += $1; n++ } END { print s / n }'
done; done
# paired with PyTorch, 4 and 8 decisions a batch
for d in 4 8; do python3 bench/paired_step.py build/bench/model_bench 10 2 --decisions $d; done
# the step's profile
printf 'x\n%.0s' $(seq 30) | perf record -F 999 -o step.data build/bench/model_bench minilm 4 --cpu-math bf16 --serve
perf report -i step.data --no-children --stdio --percent-limit 0.3 --sort sym
