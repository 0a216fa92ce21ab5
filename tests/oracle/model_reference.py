#!/usr/bin/env python3
"""An independent float64 reference of the choice model's forward pass, in numpy.

Reads a checkpoint (safetensors, the model's tensor names) and a JSON-lines file of decisions
{"state": [ids], "actions": [[ids], ...]}, and writes one JSON line per decision with the encoder
output of the state and of each action, the action logits and the state value. It follows the
PyTorch definitions (Hugging Face BertModel in eval mode, WebShop's BiAttention over the action's
own tokens, linear_1 -> ReLU -> mean -> linear_2, linear_3 value head) without sharing any code
with the C implementation. Token types follow the checkpoint config's "segments" (lib/model/model.h):
"instruction" puts the state's tokens after "instruction :" up to the first WebShop button token
or [SEP] in segment 1, "match" also every action token (not [CLS]/[SEP]) found there. With the
config's "item_titles", an action click[<value>] whose value begins "b" "##0" and stands in the
state as [button] value [button_] gets the state's tokens after that button (up to the next
button token or [SEP], at most 64) inserted before its [SEP].
Usage: model_reference.py CHECKPOINT DECISIONS.jsonl > OUT.jsonl"""
import json
import math
import sys

import numpy as np
from safetensors import safe_open
from safetensors.numpy import load_file

INSTRUCTION, COLON, SEP, FIRST_ADDED = 7899, 1024, 102, 30522
BUTTON, BUTTON_END, CLICK, OPEN, CLOSE, ASIN_B, ASIN_0 = 30522, 30523, 11562, 1031, 1033, 1038, 2692


def state_types(ids):
    types = [0] * len(ids)
    for k in range(1, len(ids)):
        if ids[k - 1] == INSTRUCTION and ids[k] == COLON:
            for j in range(k + 1, len(ids)):
                if ids[j] == SEP or ids[j] >= FIRST_ADDED:
                    break
                types[j] = 1
            break
    return types


def with_listing(action, state):
    if len(action) < 7 or action[1:3] != [CLICK, OPEN] or action[-2] != CLOSE or action[3:5] != [ASIN_B, ASIN_0]:
        return action
    value = action[3:-2]
    n = len(value)
    for u in range(len(state) - n - 1):
        if state[u] == BUTTON and state[u + n + 1] == BUTTON_END and state[u + 1:u + n + 1] == value:
            listing = []
            for i in state[u + n + 2:]:
                if i == SEP or i >= FIRST_ADDED or len(listing) == 64:
                    break
                listing.append(i)
            return action[:-1] + listing + action[-1:]
    return action


def layer_norm(x, w, b, eps):
    mu = x.mean(-1, keepdims=True)
    var = ((x - mu) ** 2).mean(-1, keepdims=True)
    return (x - mu) / np.sqrt(var + eps) * w + b


def gelu(x):
    from math import erf
    return 0.5 * x * (1.0 + np.vectorize(erf)(x / math.sqrt(2.0)))


def softmax(x, axis=-1):
    e = np.exp(x - x.max(axis=axis, keepdims=True))
    return e / e.sum(axis=axis, keepdims=True)


class Reference:
    def __init__(self, path):
        self.t = {k: v.astype(np.float64) for k, v in load_file(path).items()}
        with safe_open(path, "np") as f:
            config = json.loads(f.metadata()["config"])
            self.segments = config.get("segments", "none")
            self.item_titles = config.get("item_titles", False)
        layers = {int(k.split(".")[2]) for k in self.t if k.startswith("encoder.layer.")}
        self.layers = len(layers)
        C = self.t["embeddings.word_embeddings.weight"].shape[1]
        self.C = C
        self.heads = int(sys.argv[3]) if len(sys.argv) > 3 else 12
        self.eps = float(sys.argv[4]) if len(sys.argv) > 4 else 1e-12

    def lin(self, x, name):
        return x @ self.t[name + ".weight"].T + self.t[name + ".bias"]

    def encode(self, ids, types):
        t, L = self.t, len(ids)
        x = (t["embeddings.word_embeddings.weight"][ids] + t["embeddings.position_embeddings.weight"][:L]
             + t["embeddings.token_type_embeddings.weight"][types])
        x = layer_norm(x, t["embeddings.LayerNorm.weight"], t["embeddings.LayerNorm.bias"], self.eps)
        H, hs = self.heads, self.C // self.heads
        for l in range(self.layers):
            p = f"encoder.layer.{l}."
            q = self.lin(x, p + "attention.self.query").reshape(L, H, hs).transpose(1, 0, 2)
            k = self.lin(x, p + "attention.self.key").reshape(L, H, hs).transpose(1, 0, 2)
            v = self.lin(x, p + "attention.self.value").reshape(L, H, hs).transpose(1, 0, 2)
            att = softmax(q @ k.transpose(0, 2, 1) / math.sqrt(hs))
            ctx = (att @ v).transpose(1, 0, 2).reshape(L, self.C)
            x = layer_norm(self.lin(ctx, p + "attention.output.dense") + x,
                           t[p + "attention.output.LayerNorm.weight"], t[p + "attention.output.LayerNorm.bias"], self.eps)
            h = gelu(self.lin(x, p + "intermediate.dense"))
            x = layer_norm(self.lin(h, p + "output.dense") + x,
                           t[p + "output.LayerNorm.weight"], t[p + "output.LayerNorm.bias"], self.eps)
        return x

    def score(self, act, mem):
        t = self.t
        att = (act @ t["attn.input_linear.weight"].T) + (mem @ t["attn.memory_linear.weight"].T).T \
            + (act * t["attn.dot_scale"]) @ mem.T
        out1 = softmax(att) @ mem
        out2 = softmax(att.max(axis=1)) @ act
        feat = np.concatenate([act, out1, act * out1, out2[None, :] * out1], axis=1)
        h = np.maximum(self.lin(feat, "linear_1"), 0).mean(axis=0)
        return float((h @ t["linear_2.weight"].T + t["linear_2.bias"])[0])

    def value(self, cls):
        h = self.lin(cls, "linear_3.0")
        h = np.where(h > 0, h, 0.01 * h)
        return float((h @ self.t["linear_3.2.weight"].T + self.t["linear_3.2.bias"])[0])


def main():
    ref = Reference(sys.argv[1])
    for line in open(sys.argv[2]):
        d = json.loads(line)
        if ref.item_titles:
            d["actions"] = [with_listing(a, d["state"]) for a in d["actions"]]
        st = state_types(d["state"]) if ref.segments != "none" else [0] * len(d["state"])
        words = {i for i, y in zip(d["state"], st) if y}
        acts_types = [[int(ref.segments == "match" and 0 < k < len(a) - 1 and i in words) for k, i in enumerate(a)]
                      for a in d["actions"]]
        s = ref.encode(d["state"], st)
        acts = [ref.encode(a, y) for a, y in zip(d["actions"], acts_types)]
        print(json.dumps({"state": s.tolist(), "actions": [a.tolist() for a in acts],
                          "logits": [ref.score(a, s) for a in acts], "value": ref.value(s[0])}))


if __name__ == "__main__":
    main()
