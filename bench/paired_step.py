#!/usr/bin/env python3
"""The C training step against PyTorch's, paired: one step of each in turn, many rounds.

Usage: paired_step.py MODEL_BENCH [rounds] [threads] [--cpu-math bf16|fp32] [--decisions N] [--ragged]
  --cpu-math   the C step's products (default: the best this CPU has, model_bench --cpu-maths: bf16
               where it has AVX512_BF16, else fp32)
  MODEL_BENCH  build/bench/model_bench (run with --serve: one step per line asked)
  rounds       rounds of one step each (default 20); threads: for both (default: all cores)
  --decisions  decisions a batch (default 4, the benchmarks'; the trainers' recipes take 8: -b 8)
  --ragged     model_bench's ragged batch (every state 256-511 tokens, every action 3-13, as real
               batches come): the C step takes each sequence at its length, PyTorch pads the batch
               to its longest state and action and masks the padding, as PyTorch batches are made

Each round times one C step (model_bench's --cpu-math), one PyTorch eager fp32
step and one PyTorch bf16 autocast step on model_bench's batch (bench/torch_model.py's model), the
three in a rotating order, and never two at once. On a machine shared with others the speed of a
core drifts over seconds; separate runs of several seconds each (make bench-model's) see
different moments of that drift, while the steps of one round see nearly the same one, so the
round's ratios are the comparison. Prints every round and, per PyTorch mode, the ratio's median,
range and how many rounds reached the C bf16 step's bars (issue 16: 2x PyTorch fp32, 1x autocast); a
C fp32 step (a CPU without AVX512_BF16) is paired with PyTorch fp32 only, against 1x.
"""
import os
import statistics
import subprocess
import sys
import time

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import torch_model  # noqa: E402  (the same model and batch as its own benchmark)


def main():
    torch_model.keep_freed_memory()
    args = list(sys.argv[1:])
    ragged = "--ragged" in args
    if ragged:
        args.remove("--ragged")
    options = {"--cpu-math": None, "--decisions": "4"}
    for name in options:
        if name in args:
            i = args.index(name)
            options[name] = args[i + 1]
            del args[i:i + 2]
    cpu_math, decisions = options["--cpu-math"], int(options["--decisions"])
    if not args:
        sys.exit(__doc__)
    bench = args[0]
    if cpu_math is None:
        cpu_math = subprocess.run([bench, "--cpu-maths"], stdout=subprocess.PIPE, text=True,
                                  check=True).stdout.split()[-1]
    rounds = int(args[1]) if len(args) > 1 else 20
    threads = int(args[2]) if len(args) > 2 else os.cpu_count()
    torch.set_num_threads(threads)
    # glibc's malloc settings meant for PyTorch (torch_model.KEEP_FREED_MEMORY) are not the C step's
    env = {k: v for k, v in os.environ.items() if not k.startswith("MALLOC_")}
    env["OMP_NUM_THREADS"] = str(threads)
    c = subprocess.Popen([bench, "minilm", str(decisions), "--cpu-math", cpu_math, "--serve"] +
                         (["--ragged"] if ragged else []), stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True,
                         env=env)
    line, lengths = c.stdout.readline().split(), None
    if line[:1] == ["lengths"]:  # --ragged: the batch's states' lengths, "|", its actions'
        bar = line.index("|")
        lengths = ([int(x) for x in line[1:bar]], [int(x) for x in line[bar + 1:]])
        line = c.stdout.readline().split()
    if line != ["ready"]:
        sys.exit("paired_step: %s did not start" % bench)

    def c_step():
        c.stdin.write("step\n")
        c.stdin.flush()
        return float(c.stdout.readline())

    def timed(fn):
        def run():
            t0 = time.perf_counter()
            fn()
            return time.perf_counter() - t0
        return run

    steps = {"C " + cpu_math: c_step}
    modes = (("fp32", "torch fp32"), ("bf16", "torch bf16 autocast"))
    if cpu_math != "bf16":
        # the paired rounds read the C bf16 step's bars; without bf16 products autocast is
        # emulated (a 2-core AVX2 EPYC: 24x the C fp32 step) and its rounds would take minutes
        print("torch bf16 autocast: not paired (the C step runs in %s; bench/torch_model.py times it once)" % cpu_math)
        modes = modes[:1]
    for mode, name in modes:
        step, _, _ = torch_model.build("minilm", decisions, "cpu", mode, lengths)
        step()  # warm-up
        steps[name] = timed(step)
    names = list(steps)
    times = {n: [] for n in names}
    if lengths:
        print("ragged batch: states %s, actions %s tokens; PyTorch pads them to %d and %d" %
              (lengths[0], lengths[1], max(lengths[0]), max(lengths[1])))
    print("pytorch %s, %d threads, %d decisions a batch; one step each a round, the order rotating; "
          "PyTorch's malloc: %s" % (torch.__version__, threads, decisions,
                                    " ".join("%s=%s" % (k, os.environ[k]) for k in torch_model.KEEP_FREED_MEMORY)))
    for r in range(rounds):
        order = names[r % len(names):] + names[:r % len(names)]
        for n in order:
            times[n].append(steps[n]())
        print("round %2d: " % (r + 1) + ", ".join("%s %.4f s" % (n, times[n][-1]) for n in names) +
              "; ratios " + ", ".join("%.2f" % (times[n][-1] / times[names[0]][-1]) for n in names[1:]), flush=True)
    c.stdin.close()
    c.wait()
    for n in names:
        print("%s: median %.4f s, range %.4f-%.4f" % (n, statistics.median(times[n]), min(times[n]), max(times[n])))
    for n, bar in zip(names[1:], (2.0, 1.0) if cpu_math == "bf16" else (1.0,)):
        ratios = [t / tc for t, tc in zip(times[n], times[names[0]])]
        print("%s / %s: median %.2fx, range %.2f-%.2fx, at least %gx in %d of %d rounds" %
              (n, names[0], statistics.median(ratios), min(ratios), max(ratios), bar,
               sum(x >= bar for x in ratios), rounds))


if __name__ == "__main__":
    main()
