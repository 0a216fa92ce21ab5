#!/usr/bin/env python3
"""Parity of lib/io/safetensors (and lib/io/checkpoint's files) with the reference implementation.

  python safetensors_check.py --driver build/tests/oracle/safetensors_driver [--workdir DIR]

1. C writes, the reference reads: names, shapes, dtypes, metadata and every float32 bit pattern
   (signed zeros, subnormals, inf, NaN) agree, and the reference re-serialising what it read
   gives the C file byte for byte; the same for a checkpoint and its .optim file.
2. The reference writes, C reads: F32, F16 (all 65536 bit patterns), BF16 (all 65536), F64
   (extremes, subnormals, rounding ties), I64, U8, scalars and empty tensors; the C conversion to
   float equals numpy's (NaN for NaN).
3. Corrupt files: C refuses what the reference refuses, and accepts what it accepts, except
   duplicate names, which the reference silently resolves (last wins) and C refuses by design.

Prints one line per check and a closing "N passed, N failed"; exits 1 on any failure.
"""
import argparse
import json
import os
import struct
import subprocess
import sys
import tempfile

import numpy as np
import safetensors
from safetensors import safe_open
from safetensors.numpy import save as st_save

RESULTS = {"passed": 0, "failed": 0}


def check(ok, what):
    RESULTS["passed" if ok else "failed"] += 1
    print(("ok   " if ok else "FAIL ") + what)
    return ok


def driver(drv, cmd, path):
    p = subprocess.run([drv, cmd, path], capture_output=True, text=True)
    return p.returncode, p.stdout, p.stderr


def raw_serialize(tensors, metadata):
    """tensors: {name: (dtype name for the reference, shape, contiguous numpy array)}."""
    keep = []
    spec = {}
    for name, (dtype, shape, arr) in tensors.items():
        arr = np.ascontiguousarray(arr)
        keep.append(arr)
        if hasattr(safetensors, "TensorSpec"):  # safetensors >= 0.8
            spec[name] = safetensors.TensorSpec(dtype=dtype, shape=list(shape),
                                                data_ptr=arr.ctypes.data, data_len=arr.nbytes)
        else:
            spec[name] = {"dtype": dtype, "shape": list(shape), "data": arr.tobytes()}
    out = bytes(safetensors.serialize(spec, metadata=metadata))
    del keep
    return out


def split_header(blob):
    """(metadata dict or None, header text after the metadata entry, data block)."""
    n = struct.unpack("<Q", blob[:8])[0]
    h = blob[8:8 + n].decode("utf-8")
    meta, rest = None, h
    prefix = '{"__metadata__":'
    if h.startswith(prefix):
        meta, end = json.JSONDecoder().raw_decode(h, len(prefix))
        rest = "{" + h[end + 1:] if h[end] == "," else "{" + h[end:]
    return meta, rest, blob[8 + n:]


def same_bytes_but_metadata_order(a, b):
    """Byte-identical except for the order of the metadata keys, which the reference takes from
    a hash map (it varies from run to run); the C writer sorts them."""
    if len(a) != len(b):
        return False
    ma, ra, da = split_header(a)
    mb, rb, db = split_header(b)
    return ma == mb and ra == rb and da == db and a[:8] == b[:8]


def f32_of_hex(h):
    return np.frombuffer(bytes.fromhex(h), dtype="<f4") if h else np.zeros(0, "<f4")


def same_floats(a, b):
    """Bit-equal, except that any NaN matches any NaN."""
    a = np.asarray(a, "<f4").ravel()
    b = np.asarray(b, "<f4").ravel()
    if a.shape != b.shape:
        return False
    na, nb = np.isnan(a), np.isnan(b)
    if not np.array_equal(na, nb):
        return False
    return np.array_equal(a[~na].view("<u4"), b[~nb].view("<u4"))


def c_writes(drv, work):
    path = os.path.join(work, "c_written.safetensors")
    rc, out, err = driver(drv, "write", path)
    if not check(rc == 0, f"C writer ran ({err.strip()})"):
        return
    dump = json.loads(out)
    raw = open(path, "rb").read()
    with safe_open(path, "numpy") as f:
        keys = set(f.keys())
        check(keys == set(dump["tensors"]), f"reference sees the C file's {len(keys)} tensor names")
        meta = f.metadata() or {}
        check(meta == dump["metadata"], f"reference reads the metadata {sorted(meta)}")
        loaded = {}
        for k in sorted(keys):
            t = f.get_tensor(k)
            loaded[k] = t
            d = dump["tensors"][k]
            ok = (t.dtype == np.float32 and list(t.shape) == d["shape"] and
                  t.tobytes() == bytes.fromhex(d["f32"]))
            check(ok, f"tensor {k!r}: F32 {list(t.shape)}, bit-identical")
    again = st_save(loaded, metadata=meta)
    check(same_bytes_but_metadata_order(again, raw),
          f"reference re-serialisation equals the C file byte for byte but for the metadata key order ({len(raw)} bytes)")
    # with a single metadata key the order question vanishes: exact bytes
    path1 = os.path.join(work, "c_written_1.safetensors")
    rc, _, err = driver(drv, "write1", path1)
    check(rc == 0 and st_save(loaded, metadata={"format": "pt"}) == open(path1, "rb").read(),
          "C file with one metadata key equals the reference's serialisation byte for byte")


    ck = os.path.join(work, "ckpt.safetensors")
    rc, out, err = driver(drv, "checkpoint", ck)
    if not check(rc == 0, f"C checkpoint written ({err.strip()})"):
        return
    for p, names, fmt in [(ck, {"embeddings.word_embeddings.weight", "embeddings.LayerNorm.weight"},
                           "webshop-rl-checkpoint"),
                          (ck + ".optim", {"m.embeddings.word_embeddings.weight", "m.embeddings.LayerNorm.weight",
                                           "v.embeddings.word_embeddings.weight", "v.embeddings.LayerNorm.weight"},
                           "webshop-rl-optimizer")]:
        with safe_open(p, "numpy") as f:
            meta = f.metadata()
            check(set(f.keys()) == names, f"{os.path.basename(p)}: tensor names {sorted(names)}")
            check(meta.get("format") == fmt and meta.get("step") == "42" and meta.get("seed") == "7",
                  f"{os.path.basename(p)}: metadata format/step/seed")
            tensors = {k: f.get_tensor(k) for k in f.keys()}
        if p == ck:
            cfg = json.loads(meta["config"])
            check(cfg == {"hidden": 4, "vocab": 6} and meta["vocab_sha256"] == "00ff" and
                  meta["tool"] == "safetensors_driver", "checkpoint: config JSON, vocab hash, extra key")
            check(np.array_equal(tensors["embeddings.word_embeddings.weight"],
                                 (np.arange(24, dtype=np.float32) / 8).reshape(6, 4)),
                  "checkpoint: parameter values")
        else:
            check(np.array_equal(tensors["v.embeddings.LayerNorm.weight"],
                                 np.arange(24, 28, dtype=np.float32) * 0.5), "optim: second moments")
        check(same_bytes_but_metadata_order(st_save(tensors, metadata=meta), open(p, "rb").read()),
              f"{os.path.basename(p)}: reference re-serialisation is byte-identical but for the metadata key order")


def reference_writes(drv, work):
    rng = np.random.default_rng(1234)
    f32 = rng.standard_normal((5, 7)).astype(np.float32)
    f32.ravel()[:4] = [0.0, -0.0, np.float32(1e-45), np.inf]
    f16_bits = np.arange(65536, dtype=np.uint32).astype("<u2")
    bf16_bits = np.arange(65536, dtype=np.uint32).astype("<u2")
    f64 = np.concatenate([
        rng.standard_normal(100) * 10.0 ** rng.integers(-50, 50, 100),
        [0.0, -0.0, 1e300, -1e300, 1e-300, 5e-324, np.inf, -np.inf, np.nan,
         3.4028235677973366e38, 3.4028235677973366e38 * (1 + 2 ** -25),  # max float, just past it
         1.0 + 2.0 ** -24, 1.0 + 3 * 2.0 ** -24, 2.0 ** -149 * 0.5, 2.0 ** -149 * 0.75],  # ties
    ]).astype("<f8")
    ids = np.arange(12, dtype="<i8").reshape(1, 12)
    u8 = np.arange(6, dtype=np.uint8)
    tensors = {
        "z.f32": ("float32", f32.shape, f32),
        "bert.embeddings.word_embeddings.weight": ("float16", (256, 256), f16_bits),
        "a.bf16": ("bfloat16", (65536,), bf16_bits),
        "m.f64": ("float64", f64.shape, f64),
        "bert.embeddings.position_ids": ("int64", ids.shape, ids),
        "u8": ("uint8", u8.shape, u8),
        "scalar": ("float32", (), np.array(2.5, dtype=np.float32)),
        "empty": ("float16", (0, 4), np.zeros((0, 4), np.uint16)),
    }
    meta = {"format": "pt", "z": "last", "b": "caf\u00e9 \"q\" \\ \n"}
    path = os.path.join(work, "ref_written.safetensors")
    with open(path, "wb") as fh:
        fh.write(raw_serialize(tensors, meta))
    rc, out, err = driver(drv, "read", path)
    if not check(rc == 0, f"C reads the reference's file ({err.strip()})"):
        return
    dump = json.loads(out)
    check(dump["metadata"] == meta, "C reads the reference's metadata")
    check(set(dump["tensors"]) == set(tensors), "C sees every tensor name")
    st_dtype = {"float32": "F32", "float16": "F16", "bfloat16": "BF16", "float64": "F64",
                "int64": "I64", "uint8": "U8"}
    for name, (dtype, shape, arr) in tensors.items():
        d = dump["tensors"][name]
        check(d["dtype"] == st_dtype[dtype] and d["shape"] == list(shape),
              f"{name}: dtype {d['dtype']} shape {d['shape']}")
        if dtype == "float32":
            want = arr.astype("<f4")
        elif dtype == "float16":
            want = arr.view("<f2").astype("<f4")
        elif dtype == "bfloat16":
            want = (arr.astype("<u4") << 16).view("<f4")
        elif dtype == "float64":
            with np.errstate(over="ignore"):
                want = arr.astype("<f4")
        else:
            check(d["f32"] is None, f"{name}: {dtype} refused as float")
            continue
        check(same_floats(f32_of_hex(d["f32"]), want),
              f"{name}: {want.size} values equal numpy's float32 conversion")


def corrupt_cases(drv, work):
    def build(header, data=b"", n=None):
        h = header.encode() if isinstance(header, str) else header
        return struct.pack("<Q", len(h) if n is None else n) + h + data

    t = '{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}'
    good = build(t, b"\0" * 8)
    cases = [
        ("valid", good, True),
        ("unknown field in an entry", build('{"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8],"x":1}}', b"\0" * 8), True),
        ("null metadata", build('{"__metadata__":null}'), True),
        ("truncated data", good[:-1], False),
        ("truncated header", good[:20], False),
        ("shorter than 8 bytes", good[:5], False),
        ("one byte appended", good + b"\0", False),
        ("header length past the end", build(t, b"\0" * 8, n=1000), False),
        ("malformed JSON", build('{"t":', b""), False),
        ("header not an object", build("[1]"), False),
        ("invalid UTF-8", build(b'{"\xff":{}}'), False),
        ("unknown dtype", build(t.replace("F32", "F33"), b"\0" * 8), False),
        ("negative shape", build(t.replace("[2]", "[-2]"), b"\0" * 8), False),
        ("float in shape", build(t.replace("[2]", "[2.0]"), b"\0" * 8), False),
        ("shape/offsets mismatch", build(t.replace("[0,8]", "[0,4]"), b"\0" * 4), False),
        ("offsets reversed", build(t.replace("[0,8]", "[8,0]"), b"\0" * 8), False),
        ("offsets past the data", build(t, b"\0" * 4), False),
        ("overlap", build('{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},'
                          '"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}', b"\0" * 12), False),
        ("gap", build('{"a":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                      '"b":{"dtype":"F32","shape":[1],"data_offsets":[8,12]}}', b"\0" * 12), False),
        ("metadata value not a string", build('{"__metadata__":{"k":1}}'), False),
        ("missing data_offsets", build('{"t":{"dtype":"F32","shape":[2]}}', b"\0" * 8), False),
        ("F4 odd element count", build('{"t":{"dtype":"F4","shape":[3],"data_offsets":[0,2]}}', b"\0" * 2), False),
        ("F6 packed, 4 elements in 3 bytes", build('{"t":{"dtype":"F6_E2M3","shape":[4],"data_offsets":[0,3]}}', b"\0" * 3), True),
    ]
    for name, blob, want in cases:
        path = os.path.join(work, "corrupt.safetensors")
        with open(path, "wb") as fh:
            fh.write(blob)
        try:
            with safe_open(path, "numpy") as f:
                for k in f.keys():
                    try:
                        f.get_tensor(k)
                    except Exception as e:  # a dtype numpy cannot hold (F6): the header was fine
                        if "Dtype not understood" not in str(e):
                            raise
            ref_ok = True
        except Exception:
            ref_ok = False
        rc, _, err = driver(drv, "check", path)
        c_ok = rc == 0
        check(ref_ok == want and c_ok == want,
              f"{name}: reference {'accepts' if ref_ok else 'refuses'}, C {'accepts' if c_ok else 'refuses'}"
              + ("" if c_ok else f" ({err.strip()})"))
    dup = build('{"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]},'
                '"t":{"dtype":"F32","shape":[1],"data_offsets":[0,4]}}', b"\0" * 4)
    path = os.path.join(work, "dup.safetensors")
    with open(path, "wb") as fh:
        fh.write(dup)
    rc, _, err = driver(drv, "check", path)
    check(rc == 1 and "duplicate name" in err,
          f"duplicate names: C refuses by design, the reference keeps the last ({err.strip()})")


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--driver", required=True)
    ap.add_argument("--workdir")
    args = ap.parse_args()
    print(f"reference: safetensors {safetensors.__version__}, numpy {np.__version__}")
    with tempfile.TemporaryDirectory(dir=args.workdir) as work:
        c_writes(args.driver, work)
        reference_writes(args.driver, work)
        corrupt_cases(args.driver, work)
    print(f"oracle-safetensors: {RESULTS['passed']} passed, {RESULTS['failed']} failed")
    return 1 if RESULTS["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
