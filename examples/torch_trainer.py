#!/usr/bin/env python3
"""A trainer of your own, in PyTorch, in place of `train-il`.

It reads `tokens` records (tokenize's output for trajectories: a state, the valid actions and the
target action; plain JSON lines or .zst through zstdcat), starts from one of our checkpoints
(--init), trains the choice model by imitation (the mean of -log pi(target | state) over a batch,
AdamW) and writes a checkpoint in the project's format (docs/checkpoint.md), which `rollout -m`,
`thompson-eval --arm` and `train-dpo --init` take like one of ours:

    bin/goals -q -s train -n 50 | bin/rollout -q -p oracle | bin/tokenize -q > tok.jsonl
    bin/train-il -q --config tiny --segments none --item-titles no --steps 0 -o init.ckpt tok.jsonl
    examples/torch_trainer.py --init init.ckpt --steps 100 -o mine.ckpt tok.jsonl
    bin/goals -q -s test -n 20 | bin/rollout -q -m mine.ckpt > played.jsonl

The model is written out here in plain PyTorch from the checkpoint's tensors (a BERT encoder, then
WebShop's bi-attention choice head; tests/oracle/model_reference.py is the float64 reference), one
decision at a time for clarity, not speed. It reads plain inputs only: the checkpoint's config must
say "segments": "none" and "item_titles": false (docs/checkpoint.md, "The configuration").

Needs torch (an optional dependency of the project, never part of its pipeline). Metrics, one
JSON line per update, go to stdout: {"step", "loss", "accuracy"}.
"""
import argparse
import ctypes
import hashlib
import json
import math
import os
import struct
import subprocess
import sys

import torch


def read_checkpoint(path):
    """The tensors (float32) and the string metadata of a safetensors file."""
    with open(path, "rb") as f:
        n = struct.unpack("<Q", f.read(8))[0]
        header = json.loads(f.read(n))
        data = f.read()
    meta = header.pop("__metadata__", {})
    tensors = {}
    for name, info in header.items():
        if info["dtype"] != "F32":
            sys.exit(f"{path}: tensor {name} is {info['dtype']}, expected F32")
        lo, hi = info["data_offsets"]
        t = torch.frombuffer(bytearray(data[lo:hi]), dtype=torch.float32)
        tensors[name] = t.reshape(info["shape"]).clone()
    return tensors, meta


def tensor_bytes(t):
    """The tensor's float32 data in memory order, without numpy (torch no longer requires it)."""
    t = t.detach().to(torch.float32).contiguous()
    return ctypes.string_at(t.data_ptr(), t.numel() * t.element_size())


def write_checkpoint(path, tensors, meta):
    """safetensors with the project's metadata; data_sha256 covers the data block as written."""
    names = sorted(tensors)
    blobs = [tensor_bytes(tensors[k]) for k in names]
    header, offset = {}, 0
    for k, b in zip(names, blobs):
        header[k] = {"dtype": "F32", "shape": list(tensors[k].shape), "data_offsets": [offset, offset + len(b)]}
        offset += len(b)
    data = b"".join(blobs)
    header["__metadata__"] = dict(meta, data_sha256=hashlib.sha256(data).hexdigest())
    text = json.dumps(header).encode()
    text += b" " * (-len(text) % 8)
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(struct.pack("<Q", len(text)) + text + data)
    os.replace(tmp, path)  # atomically: a reader never sees half a checkpoint


class ChoiceModel(torch.nn.Module):
    """The checkpoint's tensors as parameters, under their own names."""

    def __init__(self, tensors, config):
        super().__init__()
        self.p = torch.nn.ParameterDict({k.replace(".", "/"): torch.nn.Parameter(v) for k, v in tensors.items()})
        self.heads, self.eps, self.layers = config["heads"], config["ln_eps"], config["layers"]

    def w(self, name):
        return self.p[name.replace(".", "/")]

    def lin(self, x, name):
        return x @ self.w(name + ".weight").T + self.w(name + ".bias")

    def norm(self, x, name):
        return torch.nn.functional.layer_norm(x, x.shape[-1:], self.w(name + ".weight"), self.w(name + ".bias"), self.eps)

    def encode(self, ids):
        L = len(ids)
        ids = torch.tensor(ids)
        x = (self.w("embeddings.word_embeddings.weight")[ids] + self.w("embeddings.position_embeddings.weight")[:L]
             + self.w("embeddings.token_type_embeddings.weight")[0])
        x = self.norm(x, "embeddings.LayerNorm")
        H = self.heads
        hs = x.shape[1] // H
        for layer in range(self.layers):
            p = f"encoder.layer.{layer}."
            q, k, v = (self.lin(x, p + "attention.self." + n).reshape(L, H, hs).transpose(0, 1)
                       for n in ("query", "key", "value"))
            ctx = torch.softmax(q @ k.transpose(1, 2) / math.sqrt(hs), -1) @ v
            x = self.norm(self.lin(ctx.transpose(0, 1).reshape(L, -1), p + "attention.output.dense") + x,
                          p + "attention.output.LayerNorm")
            h = torch.nn.functional.gelu(self.lin(x, p + "intermediate.dense"))
            x = self.norm(self.lin(h, p + "output.dense") + x, p + "output.LayerNorm")
        return x

    def logit(self, act, mem):
        """WebShop's bi-attention of an action's tokens over the state, then the scorer."""
        att = (act @ self.w("attn.input_linear.weight").T + (mem @ self.w("attn.memory_linear.weight").T).T
               + (act * self.w("attn.dot_scale")) @ mem.T)
        out1 = torch.softmax(att, 1) @ mem
        out2 = torch.softmax(att.max(1).values, 0) @ act
        feat = torch.cat([act, out1, act * out1, out2[None, :] * out1], 1)
        h = torch.relu(self.lin(feat, "linear_1")).mean(0)
        return self.lin(h, "linear_2")[0]

    def log_probs(self, state, actions):
        mem = self.encode(state)
        return torch.log_softmax(torch.stack([self.logit(self.encode(a), mem) for a in actions]), 0)


def read_decisions(paths):
    """Tokens records with a target and 2+ actions (a single valid action teaches nothing)."""
    out, vocab = [], None
    for path in paths or ["-"]:
        if path.endswith(".zst"):
            lines = subprocess.run(["zstdcat", path], check=True, capture_output=True, text=True).stdout.splitlines()
        else:
            lines = (sys.stdin if path == "-" else open(path)).read().splitlines()
        for n, line in enumerate(lines, 1):
            r = json.loads(line)
            if r.get("type") != "tokens" or not isinstance(r.get("target"), int):
                sys.exit(f"{path}:{n}: not a tokens record with a target (tokenize's output for trajectories)")
            vocab = vocab or r.get("vocab_sha256")
            if len(r["actions"]) >= 2:
                out.append((r["state"], r["actions"], r["target"]))
    return out, vocab


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--init", required=True, help="the checkpoint to start from")
    ap.add_argument("-o", "--output", required=True, help="the checkpoint to write")
    ap.add_argument("--steps", type=int, default=100)
    ap.add_argument("-b", "--batch", type=int, default=8, help="decisions per update")
    ap.add_argument("--lr", type=float, default=1e-4)
    ap.add_argument("--weight-decay", type=float, default=0.01)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--threads", type=int, default=0, help="torch threads [torch's default]")
    ap.add_argument("tokens", nargs="*", help="tokens records [stdin]")
    args = ap.parse_args()
    torch.manual_seed(args.seed)
    if args.threads:
        torch.set_num_threads(args.threads)

    tensors, meta = read_checkpoint(args.init)
    config = json.loads(meta["config"])
    if config.get("segments", "none") != "none" or config.get("item_titles", False):
        sys.exit(f"{args.init}: this example builds plain inputs only; the checkpoint wants segments "
                 f"{config.get('segments')!r} and item_titles {config.get('item_titles')} (docs/checkpoint.md)")
    data, vocab = read_decisions(args.tokens)
    if not data:
        sys.exit("no decisions with two or more actions to learn from")
    if vocab and meta.get("vocab_sha256") and vocab != meta["vocab_sha256"]:
        sys.exit(f"the records were tokenized with another vocabulary than {args.init} reads")

    model = ChoiceModel(tensors, config)
    opt = torch.optim.AdamW(model.parameters(), lr=args.lr, weight_decay=args.weight_decay)
    order = torch.randperm(len(data)).tolist()
    for step in range(1, args.steps + 1):
        first = (step - 1) * args.batch % len(data)
        batch = [data[order[(first + i) % len(data)]] for i in range(min(args.batch, len(data)))]
        losses, correct = [], 0
        for state, actions, target in batch:
            lp = model.log_probs(state, actions)
            losses.append(-lp[target])
            correct += int(lp.argmax()) == target
        loss = torch.stack(losses).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        print(json.dumps({"step": step, "loss": loss.item(), "accuracy": correct / len(batch)}), flush=True)

    out = {k: model.w(k) for k in tensors}
    write_checkpoint(args.output, out, {"format": "webshop-rl-checkpoint", "config": meta["config"],
                                        "vocab_sha256": meta.get("vocab_sha256", vocab or ""),
                                        "step": str(args.steps), "seed": str(args.seed), "stage": "il-torch"})


if __name__ == "__main__":
    main()
