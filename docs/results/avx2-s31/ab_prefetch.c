/* A/B of gemm_f32 on one product: this build's (prefetching C) against 059d8f8's (ws_gemm_f32_head: commands.sh
 * compiles it under that name) and OpenBLAS's sgemm, in turn, R rounds; prints median GFLOP/s.
 * Usage: ab_prefetch M N K NN|NT|TN|TT R */
#include <cblas.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>
#include "gemm_f32.h"
int ws_gemm_f32_head(enum CBLAS_TRANSPOSE, enum CBLAS_TRANSPOSE, int, int, int, float, const float *, int, const float *, int, float, float *, int);
static double now(void){struct timespec t;clock_gettime(CLOCK_MONOTONIC,&t);return t.tv_sec+t.tv_nsec*1e-9;}
static int cmp(const void*a,const void*b){double x=*(double*)a,y=*(double*)b;return x<y?-1:x>y;}
int main(int argc,char**argv){
  int M=atoi(argv[1]),N=atoi(argv[2]),K=atoi(argv[3]),ta=argv[4][0]=='T',tb=argv[4][1]=='T',R=atoi(argv[5]);
  float *A=malloc(sizeof(float)*M*K),*B=malloc(sizeof(float)*N*K),*C=malloc(sizeof(float)*M*N);
  for(long i=0;i<(long)M*K;i++)A[i]=(float)rand()/RAND_MAX-0.5f;
  for(long i=0;i<(long)N*K;i++)B[i]=(float)rand()/RAND_MAX-0.5f;
  int lda=ta?M:K, ldb=tb?K:N;
  enum CBLAS_TRANSPOSE TA=ta?CblasTrans:CblasNoTrans,TB=tb?CblasTrans:CblasNoTrans;
  static double t[3][1000];
  for(int r=0;r<R;r++) for(int v=0;v<3;v++){
    int w=(v+r)%3; double t0=now();
    for(int rep=0;rep<3;rep++){
      if(w==0) cblas_sgemm(CblasRowMajor,TA,TB,M,N,K,1,A,lda,B,ldb,0,C,N);
      else if(w==1) ws_gemm_f32_head(TA,TB,M,N,K,1,A,lda,B,ldb,0,C,N);
      else ws_gemm_f32(TA,TB,M,N,K,1,A,lda,B,ldb,0,C,N);}
    t[w][r]=(now()-t0)/3;
  }
  const char*nm[3]={"sgemm","gemm_f32 before","gemm_f32 after"};
  printf("%5d %5d %5d %s:",M,N,K,argv[4]);
  for(int v=0;v<3;v++){qsort(t[v],R,sizeof(double),cmp);printf("  %s %.1f",nm[v],2.0*M*N*K/t[v][R/2]/1e9);}
  printf("  GFLOP/s (medians of %d); after/before %.3f\n",R,t[1][R/2]/t[2][R/2]);
}
