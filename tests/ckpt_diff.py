#!/usr/bin/env python3
"""ckpt_diff.py A.ckpt B.ckpt [--max-rel X] [--ignore REGEX]: how far apart two checkpoints' weights are.

Prints the relative difference ||a - b|| / ||a|| over all parameters together and the largest
per-tensor relative difference; exits 1 when either exceeds --max-rel. --ignore leaves out the
tensors whose names match (e.g. those a loss cannot move: with an exactly-zero gradient, AdamW
turns rounding noise into full-size steps). Reads the safetensors layout directly (8-byte header
length, JSON header, raw little-endian data)."""
import json
import math
import re
import struct
import sys
from array import array


def tensors(path):
    with open(path, "rb") as f:
        (n,) = struct.unpack("<Q", f.read(8))
        header = json.loads(f.read(n))
        data = f.read()
    out = {}
    for name, t in header.items():
        if name == "__metadata__":
            continue
        if t["dtype"] != "F32":
            raise SystemExit(f"{path}: {name}: dtype {t['dtype']}, expected F32")
        lo, hi = t["data_offsets"]
        out[name] = array("f", data[lo:hi])
    return out


def main():
    args = sys.argv[1:]
    max_rel = None
    if "--max-rel" in args:
        i = args.index("--max-rel")
        max_rel = float(args[i + 1])
        del args[i : i + 2]
    ignore = None
    if "--ignore" in args:
        i = args.index("--ignore")
        ignore = re.compile(args[i + 1])
        del args[i : i + 2]
    a, b = tensors(args[0]), tensors(args[1])
    if a.keys() != b.keys():
        raise SystemExit("the checkpoints hold different tensors")
    num = den = 0.0
    worst, worst_name = 0.0, ""
    for name in sorted(a):
        if ignore and ignore.search(name):
            continue
        x, y = a[name], b[name]
        d2 = sum((p - q) ** 2 for p, q in zip(x, y))
        n2 = sum(p * p for p in x)
        num += d2
        den += n2
        rel = math.sqrt(d2 / n2) if n2 > 0 else math.sqrt(d2)
        if rel > worst:
            worst, worst_name = rel, name
    total = math.sqrt(num / den) if den > 0 else math.sqrt(num)
    print(f"relative difference: all weights {total:.3e}; worst tensor {worst:.3e} ({worst_name})")
    if max_rel is not None and max(worst, total) > max_rel:
        sys.exit(1)


main()
