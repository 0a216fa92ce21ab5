#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include <omp.h>
#include "backend.h"
#include "rng.h"
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
int main(int argc,char**argv){
  int S=4,L=argc>1?atoi(argv[1]):384,C=384,NH=12,reps=20;
  ws_backend_set_threads(atoi(argv[2]));
  const ws_backend*be=ws_backend_cpu_bf16();
  int st[64],sl[64];for(int s=0;s<S;s++){st[s]=s*L;sl[s]=L;}
  ws_pack pk={0};pk.n_seq=S;pk.T=S*L;pk.h.seq_start=st;pk.h.seq_len=sl;
  size_t n=(size_t)S*L*C;float*q=malloc(n*4),*k=malloc(n*4),*v=malloc(n*4),*o=malloc(n*4),*d=malloc(n*4),*dq=malloc(n*4),*dk=malloc(n*4),*dv=malloc(n*4);
  ws_rng r;ws_rng_seed(&r,1,"x");for(size_t i=0;i<n;i++){q[i]=ws_rng_uniform(&r)-0.5;k[i]=ws_rng_uniform(&r)-0.5;v[i]=ws_rng_uniform(&r)-0.5;d[i]=ws_rng_uniform(&r)-0.5;}
  be->attention_forward(be,o,NULL,q,k,v,&pk,C,NH);be->attention_backward(be,dq,dk,dv,d,NULL,q,k,v,&pk,C,NH);
  double t0=now();for(int i=0;i<reps;i++)be->attention_forward(be,o,NULL,q,k,v,&pk,C,NH);
  double t1=now();for(int i=0;i<reps;i++)be->attention_backward(be,dq,dk,dv,d,NULL,q,k,v,&pk,C,NH);
  double t2=now();
  double f=2.0*2*L*(double)L*32*NH*S;
  printf("L %d: forward %.3f ms (%.0f GFLOP/s), backward %.3f ms (%.0f GFLOP/s); x6 layers: %.1f ms\n",L,(t1-t0)/reps*1e3,f/((t1-t0)/reps)/1e9,(t2-t1)/reps*1e3,2.5*f/((t2-t1)/reps)/1e9,6*(t2-t0)/reps*1e3);
  return 0;}
