# cuda.mk: how the CUDA backend (lib/model/backend_cuda.cu) is built; a fragment of the top Makefile.
#
#   make            CUDA=1 when nvcc is found (on PATH, else $(CUDA_HOME)/bin/nvcc), CUDA=0 otherwise
#   make CUDA=1     the CUDA backend (an error when there is no nvcc)
#   make CUDA=0     no CUDA: lib/model/backend_nocuda.c answers "no CUDA backend in this build"
#
# Either way exactly one of lib/model/backend_cuda.cu and lib/model/backend_nocuda.c is built. The top Makefile
# includes this file after BUILD is set (the rule below names $(BUILD)) and uses three variables:
#
#   LIB_SRC := $(filter-out $(CUDA_EXCLUDE),$(sort $(wildcard lib/*/*.c))) # drop backend_nocuda.c
#   $(LIB_A): $(LIB_OBJ) $(CUDA_OBJ)                                        # the .cu object joins the archive
#   LDLIBS  += $(CUDA_LDLIBS)                                               # cuBLAS, NCCL, runtime, libstdc++
#
# CUDA_OBJ and CUDA_LDLIBS are empty with CUDA=0, and CUDA_EXCLUDE is then lib/model/backend_cuda.cu,
# which the *.c wildcard never lists, so the same three lines serve both builds.
#
# Variables a user may set: CUDA, CUDA_HOME (default /usr/local/cuda), NVCC, CUDA_ARCH (the
# -gencode list: sm_80 for A100, sm_90 for H100/H200, and compute_90 PTX for newer GPUs), NVCCFLAGS.

CUDA_HOME ?= /usr/local/cuda
ifeq ($(origin NVCC),undefined)
NVCC := $(shell command -v nvcc 2>/dev/null || { test -x '$(CUDA_HOME)/bin/nvcc' && echo '$(CUDA_HOME)/bin/nvcc'; })
endif
CUDA ?= $(if $(NVCC),1,0)

CUDA_ARCH ?= -gencode arch=compute_80,code=sm_80 -gencode arch=compute_90,code=sm_90 \
             -gencode arch=compute_90,code=compute_90
NVCCFLAGS ?= -O2 -g -std=c++17 -Xcompiler -Wall,-Wextra

ifeq ($(filter 0 1,$(CUDA)),)
$(error CUDA=$(CUDA): expected 0 or 1)
endif

ifeq ($(CUDA),1)
ifeq ($(NVCC),)
$(error CUDA=1 but nvcc is neither on PATH nor at $(CUDA_HOME)/bin/nvcc: set NVCC or CUDA_HOME)
endif
CUDA_OBJ     := $(BUILD)/lib/model/backend_cuda.o
CUDA_LDLIBS  := -L$(CUDA_HOME)/lib64 -Wl,-rpath,$(CUDA_HOME)/lib64 -lcublas -lcublasLt -lnccl -lcudart -lstdc++
CUDA_EXCLUDE := lib/model/backend_nocuda.c

$(BUILD)/lib/model/backend_cuda.o: lib/model/backend_cuda.cu lib/model/backend.h lib/base/err.h lib/model/optim.h
	@mkdir -p $(@D)
	$(NVCC) $(NVCCFLAGS) $(addprefix -I,$(LIB_DIRS)) $(CUDA_ARCH) -c $< -o $@
else
CUDA_OBJ     :=
CUDA_LDLIBS  :=
CUDA_EXCLUDE := lib/model/backend_cuda.cu
endif
