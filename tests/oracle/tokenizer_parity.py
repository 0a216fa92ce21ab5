#!/usr/bin/env python3
"""Parity of lib/text/wordpiece against Hugging Face's BERT tokenizer (`tokenizers`, as transformers'
BertTokenizerFast / AutoTokenizer use it) with WebShop's four added tokens.

    tokenizer_parity.py check  --driver D --vocab VOCAB [--bin BIN] [--data DIR] [--quick]
    tokenizer_parity.py tables --raw-driver D [--write lib/text/wordpiece.c]

`check` compares token ids, input by input, on
  - every product text of the catalog: Title, Description, each bullet point, `contents`;
  - every goal instruction (`goals -s all`);
  - the observations and action strings of rollouts of all goals: random and oracle policies,
    `text` and `text_rich` observation modes;
  - seeded random strings built from the tricky pieces (added tokens glued to text, [SEP] and
    its look-alikes, accents, CJK, punctuation, controls, long words);
and the normalise + pre-tokenize stage alone on every Unicode code point ("x" + c + "y").
It prints the share of identical inputs per source and fails unless all are identical.

`tables` regenerates hf_fix in lib/text/wordpiece.c: the code points where HF's character tables
(older Unicode for categories and NFD, newer for lower-casing) disagree with utf8proc's. It runs
the driver built with -DWS_WORDPIECE_RAW (lib/text/wordpiece.c without the table) on every code point.

The HF tokenizer is built as WebShop's baseline models build theirs: a BERT uncased tokenizer from
the vocabulary, then add_tokens([button], [button_], [clicked button], [clicked button_],
special_tokens=True), giving ids 30522..30525.
"""
import argparse
import json
import os
import random
import re
import subprocess
import sys

ADDED = ["[button]", "[button_]", "[clicked button]", "[clicked button_]"]


def hf_tokenizer(vocab):
    """AutoTokenizer on the directory holding vocab.txt (+ config.json), as WebShop's
    AutoTokenizer.from_pretrained('bert-base-uncased'): the fast BERT tokenizer, uncased."""
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_VERBOSITY", "error")
    from transformers import AutoTokenizer
    tok = AutoTokenizer.from_pretrained(os.path.dirname(os.path.abspath(vocab)))
    if not getattr(tok, "is_fast", False) or hf_words_fn(tok)("ÀB") != ["ab"]:
        sys.exit("tokenizer_parity: expected a fast, uncased BERT tokenizer")
    tok.add_tokens(ADDED, special_tokens=True)
    return tok


def hf_words_fn(tok):
    be = tok.backend_tokenizer if hasattr(tok, "backend_tokenizer") else tok
    norm, pre = be.normalizer, be.pre_tokenizer
    return lambda s: [w for w, _ in pre.pre_tokenize_str(norm.normalize_str(s))]


def run_driver(cmd, texts):
    inp = "".join(json.dumps(t) + "\n" for t in texts).encode()
    p = subprocess.run(cmd, input=inp, capture_output=True)
    if p.returncode:
        sys.exit(f"tokenizer_parity: {' '.join(cmd)} failed: {p.stderr.decode()[-2000:]}")
    out = [json.loads(line) for line in p.stdout.decode().splitlines()]
    if len(out) != len(texts):
        sys.exit(f"tokenizer_parity: driver gave {len(out)} lines for {len(texts)} inputs")
    return out, p.stderr.decode().strip()


def codepoints():
    return [c for c in range(0x80, 0x110000) if not 0xD800 <= c <= 0xDFFF]


# ---- tables ----

FIX = {"plain": 0, "punct": 1, "drop": 2, "lower": 3}


def tables(args):
    from tokenizers import normalizers, pre_tokenizers
    norm = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=True, strip_accents=None,
                                      lowercase=True)
    pre = pre_tokenizers.BertPreTokenizer()
    hf = lambda s: [w for w, _ in pre.pre_tokenize_str(norm.normalize_str(s))]
    cps = codepoints()
    texts = ["x" + chr(c) + "y" for c in cps]
    raw, _ = run_driver([args.raw_driver, "words"], texts)
    rows = []
    for c, t, r in zip(cps, texts, raw):
        h = hf(t)
        if h == r:
            continue
        ch = chr(c)
        if h == ["xy"]:
            rows.append((c, "drop", 0))
        elif h == ["x", ch, "y"]:
            rows.append((c, "punct", 0))
        elif h == ["x" + ch + "y"]:
            rows.append((c, "plain", 0))
        elif len(h) == 1 and len(h[0]) == 3 and h[0][0] == "x" and h[0][2] == "y":
            rows.append((c, "lower", ord(h[0][1])))
        else:
            sys.exit(f"tokenizer_parity: U+{c:04X}: HF gives {h}, no table class for it")
    ranges = []
    for c, kind, low in rows:
        if ranges and kind != "lower" and ranges[-1][2] == kind and ranges[-1][1] == c - 1:
            ranges[-1][1] = c
        else:
            ranges.append([c, c, kind, low])
    body = ",\n".join(
        "    " + ", ".join(f"{{0x{a:X}, 0x{b:X}, {FIX[k]}, 0x{l:X}}}" for a, b, k, l in ranges[i:i + 3])
        for i in range(0, len(ranges), 3))
    text = f"static const uint32_t hf_fix[][4] = {{\n{body}}};\n"
    counts = {k: sum(1 for r in rows if r[1] == k) for k in FIX}
    print(f"tokenizer_parity: {len(rows)} code points differ ({counts}), {len(ranges)} table rows",
          file=sys.stderr)
    if args.write:
        src = open(args.write).read()
        a = src.index("/* BEGIN GENERATED TABLE")
        a = src.index("\n", a) + 1
        b = src.index("/* END GENERATED TABLE */")
        open(args.write, "w").write(src[:a] + text + src[b:])
        print(f"tokenizer_parity: wrote the table into {args.write}", file=sys.stderr)
    else:
        sys.stdout.write(text)


# ---- check ----

def catalog_texts(data):
    import zstandard
    with open(os.path.join(data, "products.jsonl.zst"), "rb") as f:
        raw = zstandard.ZstdDecompressor().stream_reader(f).read()
    out = []
    for line in raw.decode("utf-8").splitlines():
        if not line.strip():
            continue
        r = json.loads(line)
        p = r.get("product", {})
        for k in ("Title", "Description"):
            if isinstance(p.get(k), str):
                out.append(p[k])
        for b in p.get("BulletPoints") or []:
            if isinstance(b, str):
                out.append(b)
        out.append(r.get("contents", ""))
    return out


def tool(bin_dir, name, *args, stdin=None):
    p = subprocess.run([os.path.join(bin_dir, name), "-q", *args], input=stdin, capture_output=True)
    if p.returncode:
        sys.exit(f"tokenizer_parity: {name} {' '.join(args)} failed: {p.stderr.decode()[-1000:]}")
    return p.stdout


def rollout_texts(bin_dir, data, goals, policy, obs, limit):
    env = dict(os.environ)
    if data:
        env["WEBSHOP_DATA"] = data
    lines = goals.splitlines(keepends=True)[:limit] if limit else goals.splitlines(keepends=True)
    out = tool(bin_dir, "rollout", "-p", policy, "--obs", obs, stdin=b"".join(lines))
    states, actions = [], []
    for line in out.decode().splitlines():
        for s in json.loads(line)["steps"]:
            states.append(s["obs"])
            actions.extend(s["actions"])
    return states, actions


def random_texts(n, seed=7):
    rng = random.Random(seed)
    pieces = ADDED + ["[SEP]", "[CLS]", "[PAD]", "[UNK]", "[MASK]", "[sep]", "[Sep]", "[SEP", "SEP]",
                      "[button", "button]", "[clicked", "button_]", "[clicked  button]", "[[", "]]",
                      " ", "  ", "\n", "\t", "\r\n", "\x00", "\ufffd", "\u200b", "\u00ad", "\x85",
                      "\u2028", "\u00a0", "\u3000", "a", "Z", "é", "É", "ñ", "ß", "İ", "Σ", "ς",
                      "ﬁ", "Å", "Ω", "ǅ", "中", "文", "字", "한국", "日本", "ｈｅｌｌｏ", "l'eau", "6.76",
                      "$19.99", "x-large", "size:large", "...", "!", "?", "(", ")", "¿", "¡", "«", "»",
                      "—", "–", "’", "“", "”", "·", "•", "™", "®", "°", "±", "½", "²", "❤", "🥰",
                      "😀", "\U0001F3FB", "\u0301", "\u0308", "e\u0301", "\u1734", "\u166d", "\u0e33",
                      "unaffable", "running", "shopping", "Headphones", "WebShop", "instruction",
                      "a" * 100, "b" * 101, "ab" * 60, "x" * 3 + "é" * 3]
    out = []
    for _ in range(n):
        k = rng.randint(1, 12)
        out.append("".join(rng.choice(pieces) for _ in range(k)))
    return out


def compare(name, texts, hf_encode, driver_cmd, report, batch=20000):
    texts = list(dict.fromkeys(texts))  # distinct inputs, first-seen order
    same = 0
    shown = 0
    for i in range(0, len(texts), batch):
        chunk = texts[i:i + batch]
        ours, _ = run_driver(driver_cmd, chunk)
        theirs = hf_encode(chunk)
        for t, a, b in zip(chunk, ours, theirs):
            if a == b:
                same += 1
            elif shown < 5:
                shown += 1
                print(f"  MISMATCH [{name}] {t[:200]!r}\n    ours {a[:60]}\n    hf   {b[:60]}")
    report.append((name, len(texts), same))


def check(args):
    tok = hf_tokenizer(args.vocab)
    n_file = sum(1 for _ in open(args.vocab, encoding="utf-8"))
    ids = [tok.convert_tokens_to_ids(t) for t in ADDED]
    if len(tok) != n_file + 4 or ids != list(range(n_file, n_file + 4)):
        sys.exit(f"tokenizer_parity: HF tokenizer has {len(tok)} ids, added tokens at {ids}")
    hf_encode = lambda chunk: tok(chunk, add_special_tokens=False)["input_ids"]
    drv = [args.driver, "ids", args.vocab]
    report = []

    # every code point through normalisation + pre-tokenization
    hf_words = hf_words_fn(tok)
    cps = codepoints()
    texts = ["x" + chr(c) + "y" for c in cps]
    ours, _ = run_driver([args.driver, "words"], texts)
    same = shown = 0
    for t, o in zip(texts, ours):
        h = hf_words(t)
        if h == o:
            same += 1
        elif shown < 5:
            shown += 1
            print(f"  MISMATCH [code point U+{ord(t[1]):04X}] ours {o} hf {h}")
    report.append(("unicode code points (words)", len(texts), same))

    compare("random strings", random_texts(20000 if not args.quick else 2000), hf_encode, drv, report)
    data = args.data
    have_data = data and os.path.exists(os.path.join(data, "products.jsonl.zst"))
    if have_data:
        compare("catalog product texts", catalog_texts(data), hf_encode, drv, report)
        env_data = ["--data", data] if data else []
        goals = tool(args.bin, "goals", "-s", "all", *env_data)
        instr = [json.loads(l)["instruction"] for l in goals.decode().splitlines()]
        compare("goal instructions", instr, hf_encode, drv, report)
        limit = 300 if args.quick else 0
        for policy in ("random", "oracle"):
            for obs in ("text", "text_rich"):
                states, actions = rollout_texts(args.bin, data, goals, policy, obs, limit)
                compare(f"{policy} rollouts, {obs}: observations", states, hf_encode, drv, report)
                compare(f"{policy} rollouts, {obs}: actions", actions, hf_encode, drv, report)
    else:
        print(f"tokenizer_parity: no WebShop data at {data}: catalog, goals and rollouts skipped")

    total = sum(n for _, n, _ in report)
    agree = sum(s for _, _, s in report)
    for name, n, s in report:
        print(f"{name:45s} {s:8d} / {n:8d} identical ({100.0 * s / max(n, 1):.3f}%)")
    print(f"{'all':45s} {agree:8d} / {total:8d} identical ({100.0 * agree / max(total, 1):.3f}%)")
    if args.bench:
        # speed on the observations (repeated to about 50 MB), one thread, against HF's one-by-one
        # encode (HF's batch encode uses every core)
        texts = states if have_data else random_texts(20000)
        reps = max(1, int(50e6 / max(1, sum(len(t) for t in texts))))
        inp = "".join(json.dumps(t) + "\n" for t in texts).encode() * reps
        p = subprocess.run([args.driver, "bench", args.vocab], input=inp, capture_output=True)
        print(p.stderr.decode().strip())
        import time
        t0 = time.perf_counter()
        n = sum(len(tok.encode(t, add_special_tokens=False)) for t in texts)
        dt = time.perf_counter() - t0
        print(f"HF tokenizers, one text at a time from Python: {n / dt:.0f} tokens/s")
    return 0 if agree == total else 1


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = ap.add_subparsers(dest="cmd", required=True)
    c = sub.add_parser("check")
    c.add_argument("--driver", required=True)
    c.add_argument("--vocab", required=True)
    c.add_argument("--bin", default="bin")
    c.add_argument("--data", default=os.environ.get("WEBSHOP_DATA", "../shared/webshop-1k"))
    c.add_argument("--quick", action="store_true", help="300 goals' rollouts, fewer random strings")
    c.add_argument("--bench", action="store_true", help="also print the C tokenizer's tokens/s")
    t = sub.add_parser("tables")
    t.add_argument("--raw-driver", required=True)
    t.add_argument("--write", help="replace the table in this file (lib/text/wordpiece.c)")
    args = ap.parse_args()
    sys.exit(check(args) if args.cmd == "check" else tables(args))


if __name__ == "__main__":
    main()
