# The CUDA backend builds and links: lib/model/backend_cuda.cu through nvcc (sm_90 only here, to keep the
# test short) linked into a small C program by its C entry points. Without a GPU the backend must
# refuse with a clear message; with one it must open, pass a tiny smoke test and close. The no-CUDA
# stand-in (lib/model/backend_nocuda.c) and cuda.mk's variables are checked without nvcc.
. "$(dirname "$0")/lib.sh"
CC=${CC:-gcc}
CUDA_HOME=${CUDA_HOME:-/usr/local/cuda}
WARN="-Wall -Wextra -Wshadow -Wstrict-prototypes -Wmissing-prototypes"
LIB_INC=$(for d in lib/*/; do printf -- '-I%s ' "${d%/}"; done) # the library's concern directories

# ------------------------------------------------------------------ without nvcc
cat > "$T_TMP/nocuda_main.c" <<'EOF'
#include <stdio.h>
#include <string.h>
#include "backend.h"
int main(void)
{
    ws_err err = {{0}};
    if (ws_cuda_built() != 0 || ws_cuda_device_count() != 0)
        return 1;
    if (ws_backend_cuda_new(0, WS_MATH_TF32, &err) != NULL || !strstr(err.msg, "make CUDA=1"))
        return 1;
    puts(err.msg);
    return 0;
}
EOF
check "backend_nocuda.c: warning-free, not built, no devices, refuses naming make CUDA=1" bash -c "
  $CC -std=c11 -D_GNU_SOURCE $WARN $LIB_INC -c lib/model/backend_nocuda.c -o '$T_TMP/nocuda.o' 2> '$T_TMP/nocuda.err' &&
  [ ! -s '$T_TMP/nocuda.err' ] &&
  $CC -std=c11 -D_GNU_SOURCE $LIB_INC '$T_TMP/nocuda_main.c' '$T_TMP/nocuda.o' lib/base/err.c -o '$T_TMP/nocuda' &&
  '$T_TMP/nocuda' | grep -q 'no CUDA backend'"

# cuda.mk on its own, free of what an outer make (make asan passes CUDA=0) would hand down
unset MAKEFLAGS MFLAGS MAKELEVEL CUDA
printf 'BUILD := b\ninclude cuda.mk\nshow:\n\t@echo "$(CUDA)|$(CUDA_OBJ)|$(CUDA_EXCLUDE)|$(CUDA_LDLIBS)"\n' > "$T_TMP/show.mk"
check "cuda.mk: CUDA=0 builds backend_nocuda.c and links nothing more" bash -c "
  [ \"\$(make -s --no-print-directory -f '$T_TMP/show.mk' show CUDA=0)\" = '0||lib/model/backend_cuda.cu|' ]"
expect_error "cuda.mk: CUDA=1 without nvcc is an error" 2 "CUDA=1 but nvcc" \
    make -s --no-print-directory -f "$T_TMP/show.mk" show CUDA=1 NVCC= CUDA_HOME="$T_TMP/none"

# ------------------------------------------------------------------ the tools' --device
if have_data && [ -f "$PROJECT_ROOT/models/minilm-l6/vocab.txt" ]; then
    "$BIN/goals" -q -s train -n 6 | "$BIN/rollout" -q -p oracle | "$BIN/tokenize" -q > "$T_TMP/tok.jsonl"
    "$BIN/train-il" -q --config tiny --device cpu --threads 1 -b 4 --steps 2 -o "$T_TMP/il.ckpt" "$T_TMP/tok.jsonl" > /dev/null
    "$BIN/goals" -q -s test -n 2 > "$T_TMP/goals.jsonl"
    check "--device auto plays on the CPU when no GPU is usable, as --device cpu does" bash -c "
      [ \"\$('$BIN/rollout' -q -m '$T_TMP/il.ckpt' --device auto < '$T_TMP/goals.jsonl' | md5sum)\" = \
        \"\$('$BIN/rollout' -q -m '$T_TMP/il.ckpt' --device cpu < '$T_TMP/goals.jsonl' | md5sum)\" ] ||
      '$BIN/rollout' --device cuda -q -m '$T_TMP/il.ckpt' < '$T_TMP/goals.jsonl' > /dev/null"
    if ! "$BIN/rollout" -q -m "$T_TMP/il.ckpt" --device cuda < "$T_TMP/goals.jsonl" > /dev/null 2>&1; then
        expect_error "--device cuda without a usable GPU: exit 1 naming CUDA" 1 "rollout: .*(CUDA|cuda)" \
            "$BIN/rollout" -q -m "$T_TMP/il.ckpt" --device cuda < "$T_TMP/goals.jsonl"
        expect_error "train-il --device cuda without a usable GPU: exit 1 naming CUDA" 1 "train-il: .*(CUDA|cuda)" \
            "$BIN/train-il" -q --config tiny --device cuda --steps 1 -o "$T_TMP/x.ckpt" "$T_TMP/tok.jsonl"
    fi
    expect_error "--device with an unknown name: exit 1" 1 "--device tpu: not cpu, cuda" \
        "$BIN/rollout" -q -m "$T_TMP/il.ckpt" --device tpu < "$T_TMP/goals.jsonl"
    expect_error "--gpu-math with an unknown name: exit 1" 1 "--gpu-math fp8" \
        "$BIN/train-il" -q --config tiny --gpu-math fp8 --steps 1 -o "$T_TMP/x.ckpt" "$T_TMP/tok.jsonl"
else
    skip "the tools' --device" "no WebShop data or vocabulary"
fi

# ------------------------------------------------------------------ with nvcc
NVCC=${NVCC:-$(command -v nvcc 2>/dev/null || { [ -x "$CUDA_HOME/bin/nvcc" ] && echo "$CUDA_HOME/bin/nvcc"; } || true)}
if [ -z "$NVCC" ]; then
    skip "backend_cuda.cu compiles and links" "no nvcc on PATH or at $CUDA_HOME/bin"
    finish
fi

check "cuda.mk: nvcc found, so CUDA defaults to 1 with the .cu object and the CUDA libraries" bash -c "
  make -s --no-print-directory -f '$T_TMP/show.mk' show NVCC='$NVCC' CUDA_HOME='$CUDA_HOME' |
  grep -qx '1|b/lib/model/backend_cuda.o|lib/model/backend_nocuda.c|.*-lcublas -lcublasLt -lnccl -lcudart -lstdc++'"

cat > "$T_TMP/probe.c" <<'EOF'
/* links against the CUDA backend through its C entry points only */
#include <math.h>
#include <stdio.h>
#include <string.h>
#include "backend.h"

#define NEED(x) do { if (!(x)) { fprintf(stderr, "failed: %s\n", #x); return 1; } } while (0)

static int smoke(const ws_backend *be)
{
    /* every entry is set */
    void (*const *fn)(void) = (void (*const *)(void))&be->alloc;
    size_t n_fn = (sizeof *be - offsetof(ws_backend, alloc)) / sizeof(void (*)(void));
    for (size_t i = 0; i < n_fn; i++)
        NEED(fn[i] != NULL);
    NEED(strcmp(be->name, "cuda") == 0);
    /* out[2, 2] = inp[2, 3] . w[2, 3]^T + b; then the sum of squares of out */
    const float inp[6] = {1, 2, 3, 4, 5, 6}, w[6] = {1, 0, -1, 0.5f, 0.25f, 0}, b[2] = {0.5f, -1};
    float out[4], want[4];
    for (int t = 0; t < 2; t++)
        for (int o = 0; o < 2; o++) {
            want[t * 2 + o] = b[o];
            for (int c = 0; c < 3; c++)
                want[t * 2 + o] += inp[t * 3 + c] * w[o * 3 + c];
        }
    float *d_inp = be->alloc(be, sizeof inp), *d_w = be->alloc(be, sizeof w), *d_b = be->alloc(be, sizeof b);
    float *d_out = be->alloc(be, sizeof out);
    NEED(d_inp && d_w && d_b && d_out);
    be->upload(be, d_inp, inp, sizeof inp);
    be->upload(be, d_w, w, sizeof w);
    be->upload(be, d_b, b, sizeof b);
    be->matmul_forward(be, d_out, d_inp, d_w, d_b, NULL, 2, 3, 2);
    double ss = be->sum_squares(be, d_out, 4);
    be->download(be, out, d_out, sizeof out);
    ws_err err = {{0}};
    if (be->status(be, &err)) {
        fprintf(stderr, "status: %s\n", err.msg);
        return 1;
    }
    double want_ss = 0;
    for (int i = 0; i < 4; i++) {
        NEED(fabsf(out[i] - want[i]) < 1e-2f);
        want_ss += (double)out[i] * out[i];
    }
    NEED(fabs(ss - want_ss) < 1e-9 * (1 + want_ss));
    be->free(be, d_inp);
    be->free(be, d_w);
    be->free(be, d_b);
    be->free(be, d_out);
    return be->status(be, &err);
}

int main(void)
{
    NEED(ws_cuda_built() == 1);
    int n = ws_cuda_device_count();
    NEED(n >= 0);
    ws_err err = {{0}};
    ws_backend *be = ws_backend_cuda_new(0, WS_MATH_TF32, &err);
    if (n == 0) {
        NEED(be == NULL);
        NEED(strstr(err.msg, "cuda backend") && strstr(err.msg, "device"));
        printf("no GPU: %s\n", err.msg);
        return 0;
    }
    if (!be) {
        fprintf(stderr, "%d GPU(s), yet: %s\n", n, err.msg);
        return 1;
    }
    ws_backend *none = ws_backend_cuda_new(n, WS_MATH_FP32, &err);
    NEED(none == NULL && strstr(err.msg, "no CUDA device"));
    int rc = smoke(be);
    be->destroy(be);
    if (rc == 0)
        printf("%d GPU(s): backend opened, smoke-tested and closed\n", n);
    return rc;
}
EOF

check "nvcc compiles lib/model/backend_cuda.cu without a warning" bash -c "
  '$NVCC' -O2 -std=c++17 $LIB_INC -Xcompiler -Wall,-Wextra -gencode arch=compute_90,code=sm_90 \
      -c lib/model/backend_cuda.cu -o '$T_TMP/backend_cuda.o' > '$T_TMP/nvcc.out' 2>&1 &&
  [ ! -s '$T_TMP/nvcc.out' ] || { cat '$T_TMP/nvcc.out'; false; }"
check "the C entry points link (backend_cuda.o + err.c + optim.c, AdamW's scalars, + the CUDA libraries)" bash -c "
  $CC -std=c11 -D_GNU_SOURCE $WARN $LIB_INC -c '$T_TMP/probe.c' -o '$T_TMP/probe.o' &&
  $CC -std=c11 -D_GNU_SOURCE $LIB_INC -c lib/base/err.c -o '$T_TMP/err.o' &&
  $CC -std=c11 -D_GNU_SOURCE $LIB_INC -c lib/model/optim.c -o '$T_TMP/optim.o' &&
  $CC '$T_TMP/probe.o' '$T_TMP/backend_cuda.o' '$T_TMP/err.o' '$T_TMP/optim.o' -L'$CUDA_HOME/lib64' -Wl,-rpath,'$CUDA_HOME/lib64' \
      -lcublas -lcublasLt -lnccl -lcudart -lstdc++ -lm -o '$T_TMP/probe'"
check "no GPU: a clear refusal; a GPU: opens, multiplies, sums squares, closes" bash -c "
  '$T_TMP/probe' > '$T_TMP/probe.out' 2>&1 || { cat '$T_TMP/probe.out'; false; }"
finish
