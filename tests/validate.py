#!/usr/bin/env python3
"""Validate JSON-lines records on stdin against schemas/<type>.schema.json (draft 2020-12).

Usage: validate.py [--type NAME] < records.jsonl   (plain text: pipe zstd through bin/records)
Prints "N records valid" or the first errors with their line numbers; exit 1 on any error."""
import json, pathlib, sys
from jsonschema import Draft202012Validator

root = pathlib.Path(__file__).resolve().parent.parent / "schemas"
want = sys.argv[sys.argv.index("--type") + 1] if "--type" in sys.argv else None
validators, bad, n = {}, 0, 0
for lineno, line in enumerate(sys.stdin, 1):
    if not line.strip():
        continue
    n += 1
    rec = json.loads(line)
    kind = rec.get("type")
    if want and kind != want:
        print(f"line {lineno}: type {kind!r}, expected {want!r}"); bad += 1; continue
    if kind not in validators:
        path = root / f"{kind}.schema.json"
        if not path.exists():
            print(f"line {lineno}: no schema for type {kind!r}"); bad += 1; continue
        schema = json.loads(path.read_text())
        Draft202012Validator.check_schema(schema)
        validators[kind] = Draft202012Validator(schema)
    for e in validators[kind].iter_errors(rec):
        bad += 1
        if bad <= 10:
            print(f"line {lineno}: {'/'.join(map(str, e.absolute_path))}: {e.message}")
if n == 0:
    print("no records"); sys.exit(1)
print(f"{n} records, {bad} errors")
sys.exit(1 if bad else 0)
