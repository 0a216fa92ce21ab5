#!/usr/bin/env python3
"""Search parity report: lib/webshop/search + lib/text/analyzer (C) against Anserini/Lucene 9 (Java).

Driven by tests/oracle/search.mk (make oracle-search). Subcommands:
  fetch-jar VERSION DEST   download pyserini VERSION from PyPI and extract its Anserini fat jar
  extra-queries DATA OUT   a second query set: human goals' text is added by the makefile; this
                           writes each product's search query, title and mined attributes, plus
                           edge cases (empty, stop words only, repeats, symbols, emoji)
  run ...                  run both sides on every query set, the analyzers on every product's
                           contents and the tokenizers on every code point, and print the report
"""
import argparse
import io
import json
import os
import random
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile


def fetch_jar(version, dest):
    with tempfile.TemporaryDirectory() as tmp:
        subprocess.run([sys.executable, "-m", "pip", "download", "--no-deps", "-q", "-d", tmp,
                        f"pyserini=={version}"], check=True)
        (name,) = os.listdir(tmp)
        path = os.path.join(tmp, name)
        if name.endswith(".whl"):
            with zipfile.ZipFile(path) as z:
                jar = next(n for n in z.namelist() if n.endswith("-fatjar.jar"))
                data = z.read(jar)
        else:
            with tarfile.open(path) as t:
                member = next(m for m in t.getmembers() if m.name.endswith("-fatjar.jar"))
                jar = member.name
                data = t.extractfile(member).read()
    os.makedirs(os.path.dirname(dest) or ".", exist_ok=True)
    with open(dest + ".tmp", "wb") as f:
        f.write(data)
    os.replace(dest + ".tmp", dest)
    print(f"fetched {os.path.basename(jar)} from pyserini {version} -> {dest}")


def products(data):
    raw = subprocess.run(["zstd", "-dcq", os.path.join(data, "products.jsonl.zst")],
                         check=True, capture_output=True).stdout
    return [json.loads(l) for l in raw.decode("utf-8").splitlines() if l.strip()]


def extra_queries(data, out):
    lines = []
    for p in products(data):
        prod = p["product"]
        lines.append(prod.get("query") or "")
        lines.append(prod.get("Title") or "")
        lines.extend(a for a in (prod.get("Attributes") or []) if a != "DUMMY_ATTR")
    lines += ["", "the and of to", "shirt shirt shirt", "x-large men's shirt", "\u2764\ufe0f gift",
              "l'eau d'issey 6.76 fl oz", "$19.99 1,000", "size:large", "\u65e5\u672c",
              "possibly analogy xs"]
    with open(out, "w", encoding="utf-8") as f:
        for l in lines:
            f.write(l.replace("\n", " ").replace("\r", " ") + "\n")


def run(cmd, stdin_path=None, stdin_bytes=None, stderr=subprocess.DEVNULL):
    inp = stdin_bytes
    if stdin_path is not None:
        with open(stdin_path, "rb") as f:
            inp = f.read()
    r = subprocess.run(cmd, input=inp, stdout=subprocess.PIPE, stderr=stderr, check=True)
    return r.stdout.decode("utf-8").split("\n")[:-1]


def parse_hits(line):
    return [tuple(h.split(":")) for h in line.split()] if line else []


def compare_search(name, queries, java, c):
    n = len(queries)
    assert len(java) == n and len(c) == n, (name, n, len(java), len(c))
    top10 = order50 = exact = 0
    overlap = 0.0
    diffs = []
    for q, jl, cl in zip(queries, java, c):
        jh, ch = parse_hits(jl), parse_hits(cl)
        jid, cid = [h[0] for h in jh], [h[0] for h in ch]
        top10 += jid[:10] == cid[:10]
        order50 += jid == cid
        exact += jh == ch
        denom = max(len(jid), len(cid))
        overlap += len(set(jid) & set(cid)) / denom if denom else 1.0
        if jh != ch and len(diffs) < 5:
            diffs.append((q, jl[:200], cl[:200]))
    pct = lambda k: 100.0 * k / n if n else 100.0
    print(f"  {name}: {n} queries")
    print(f"    identical top-10 (ASINs, in order): {pct(top10):.2f}%")
    print(f"    mean top-50 overlap:                {100.0 * overlap / n if n else 100.0:.2f}%")
    print(f"    identical top-50 order:             {pct(order50):.2f}%")
    print(f"    identical top-50 with score bits:   {pct(exact):.2f}%")
    for q, jl, cl in diffs:
        print(f"    differs: {q!r}\n      lucene: {jl}\n      c:      {cl}")
    return pct(top10)


def compare_token_lines(name, java, c, labels):
    same = sum(a == b or json.loads(a) == json.loads(b) for a, b in zip(java, c))
    bad = [(l, a, b) for l, a, b in zip(labels, java, c) if a != b and json.loads(a) != json.loads(b)]
    print(f"  {name}: {same}/{len(java)} identical")
    for l, a, b in bad[:5]:
        print(f"    differs: {l!r}\n      lucene: {a[:200]}\n      c:      {b[:200]}")
    return len(bad) == 0 and len(java) == len(c)


def cmd_run(a):
    java = [a.java, "-cp", f"{a.jar}{os.pathsep}{a.classes}", "SearchOracle"]
    cdrv = [a.c_driver]
    ok = True
    print("search parity: C (lib/webshop/search.c, lib/text/analyzer.c) vs Anserini/Lucene 9 "
          f"({os.path.basename(a.jar)}), BM25 k1=0.9 b=0.4, top 50")

    # 1. analyzer on every product's contents
    with open(os.path.join(a.data, "products.jsonl.zst"), "rb") as f:  # a link named to zstd is skipped
        raw = subprocess.run(["zstd", "-dcq"], stdin=f, check=True, stdout=subprocess.PIPE).stdout
    jd = [json.loads(l) for l in run(java + ["analyze-docs"], stdin_bytes=raw)]
    cd = [json.loads(l) for l in run(cdrv + ["analyze-docs", a.data])]
    docs_same = sum(x == y for x, y in zip(jd, cd))
    tok_total = sum(len(x["tokens"]) for x in jd)
    tok_same = sum(sum(s == t for s, t in zip(x["tokens"], y["tokens"])) for x, y in zip(jd, cd)
                   if x["id"] == y["id"])
    print("analyzer, every product's contents:")
    print(f"  documents with identical term streams: {docs_same}/{len(jd)}")
    print(f"  terms agreeing position by position:   {tok_same}/{tok_total}"
          f" ({100.0 * tok_same / max(tok_total, 1):.3f}%)")
    ok &= docs_same == len(jd) == len(cd)

    # 2. search on each query set
    print("search:")
    threshold_ok = True
    for qs in a.queries:
        name, path = qs.split("=", 1)
        with open(path, encoding="utf-8") as f:
            queries = f.read().split("\n")[:-1]
        t0 = time.time()
        jl = run(java + ["search", a.index, "50"], stdin_path=path)
        tj = time.time() - t0
        cerr = tempfile.TemporaryFile()
        cl = run(cdrv + ["search", a.data, "50"], stdin_path=path, stderr=cerr)
        cerr.seek(0)
        timing = cerr.read().decode().strip()
        top10 = compare_search(name, queries, jl, cl)
        print(f"    {timing}")
        print(f"    (Java side, whole run incl. JVM start: {tj:.1f} s)")
        if name == "goals" and top10 < a.min_top10:
            threshold_ok = False
        # query analysis too
        ja = run(java + ["analyze-lines"], stdin_path=path)
        ca = run(cdrv + ["analyze-lines"], stdin_path=path)
        ok &= compare_token_lines(f"{name}: query terms", ja, ca, queries)

    # 3. tokenizer on every code point in 13 contexts, and on random strings
    if a.sweep:
        print("tokenizer (bare StandardTokenizer):")
        cps = [c for c in range(0x110000) if not (0xD800 <= c <= 0xDFFF or c in (10, 13))]
        buf = io.StringIO()
        for c in cps:
            ch = chr(c)
            buf.write(f"a{ch}b 1{ch}2 {ch} {ch}{ch} {ch}a \U0001F600{ch} a{ch} {ch}1 \u05e9{ch}\u05e9 "
                      f"\u30a2{ch}\u30a2 1{ch}a\n")
        data = buf.getvalue().encode("utf-8")
        labels = [f"U+{c:04X}" for c in cps]
        ok &= compare_token_lines("every code point in 13 contexts",
                                  run(java + ["tokenize-lines"], stdin_bytes=data),
                                  run(cdrv + ["tokenize-lines"], stdin_bytes=data), labels)
        rnd = random.Random(7)
        pal = list("aB19'\".,:;_#*-$@/ s") + [
            "\u200d", "\ufe0f", "\ufe0e", "\u20e3", "\U0001F3FB", "\U0001F44D", "\U0001F600",
            "\u2764", "\U0001F1FA", "\U0001F1F8", "\U000E0067", "\U000E007F", "\u05e9", "\u05d0",
            "\u30a2", "\uff71", "\u65e5", "\u3072", "\u0e17", "\u0e31", "\u0301", "\u00ad",
            "\u2019", "\u00b7", "\uff07", "\uff15", "\u203f", "\u00a9", "\u3005", "\ud55c",
            "\u30fc", "\u05f4", "\u066b", "\u066c", "\u2018", "\U0001F9B0", "\U0001F468", "\u2640",
            "\U0001F3F4", "\u200b", "\u2060", "\ufeff"]
        lines = ["".join(rnd.choice(pal) for _ in range(rnd.randint(1, 16))) for _ in range(200000)]
        lines += ["".join(rnd.choice("aaaa1'.,_") for _ in range(rnd.randint(200, 320)))
                  for _ in range(1000)]
        data = ("\n".join(lines) + "\n").encode("utf-8")
        ok &= compare_token_lines("random strings of tricky characters",
                                  run(java + ["tokenize-lines"], stdin_bytes=data),
                                  run(cdrv + ["tokenize-lines"], stdin_bytes=data), lines)

    # 4. SmallFloat tables and idf
    for n in (1000, 123457):
        same = run(java + ["tables", str(n)]) == run(cdrv + ["tables", str(n)])
        print(f"SmallFloat tables and float idf for N = {n}: {'identical' if same else 'DIFFER'}")
        ok &= same

    print(f"result: {'full parity' if ok and threshold_ok else 'differences found (see above)'}")
    return 0 if threshold_ok else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawTextHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    f = sub.add_parser("fetch-jar")
    f.add_argument("version")
    f.add_argument("dest")
    e = sub.add_parser("extra-queries")
    e.add_argument("data")
    e.add_argument("out")
    r = sub.add_parser("run")
    r.add_argument("--java", required=True)
    r.add_argument("--jar", required=True)
    r.add_argument("--classes", required=True)
    r.add_argument("--index", required=True)
    r.add_argument("--c-driver", required=True)
    r.add_argument("--data", required=True)
    r.add_argument("--queries", action="append", default=[], help="NAME=FILE, one query a line")
    r.add_argument("--min-top10", type=float, default=95.0)
    r.add_argument("--no-sweep", dest="sweep", action="store_false")
    a = ap.parse_args()
    if a.cmd == "fetch-jar":
        fetch_jar(a.version, a.dest)
        return 0
    if a.cmd == "extra-queries":
        extra_queries(a.data, a.out)
        return 0
    return cmd_run(a)


if __name__ == "__main__":
    sys.exit(main())
