#!/usr/bin/env python3
"""Forward parity of the C model with the float64 numpy reference (model_reference.py) on the
pre-trained weights: encoder outputs of every state and action, action logits, state values.
Usage: model_parity.py C_OUTPUT.jsonl REFERENCE_OUTPUT.jsonl
Prints the worst relative errors (||c - ref|| / ||ref|| per sequence); fails above 1e-4."""
import json
import sys

import numpy as np


def rel(a, b):
    a, b = np.asarray(a, dtype=np.float64), np.asarray(b, dtype=np.float64)
    return float(np.linalg.norm(a - b) / max(np.linalg.norm(b), 1e-30))


worst = {"state": 0.0, "action": 0.0, "logits": 0.0, "value": 0.0}
seqs = 0
for c_line, r_line in zip(open(sys.argv[1]), open(sys.argv[2])):
    c, r = json.loads(c_line), json.loads(r_line)
    worst["state"] = max(worst["state"], rel(c["state"], r["state"]))
    for ca, ra in zip(c["actions"], r["actions"]):
        worst["action"] = max(worst["action"], rel(ca, ra))
    worst["logits"] = max(worst["logits"], rel(c["logits"], r["logits"]))
    worst["value"] = max(worst["value"], rel([c["value"]], [r["value"]]))
    seqs += 1 + len(c["actions"])
print(f"{seqs} sequences; worst relative error: states {worst['state']:.2e}, actions {worst['action']:.2e}, "
      f"logits {worst['logits']:.2e}, values {worst['value']:.2e}")
sys.exit(0 if max(worst["state"], worst["action"]) < 1e-4 else 1)
