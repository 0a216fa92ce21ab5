#!/usr/bin/env python3
"""The choice model in PyTorch (eager), timed on the same batch shape as bench/model_bench.c:
a reference point for the C implementation. WebShop's own model is a Hugging Face BertModel with the
BiAttention head; this is the same computation written with torch.nn (no transformers needed).
Usage: torch_model.py [tiny|minilm|base] [decisions] [threads] [--device cpu|cuda] [--math fp32|tf32|bf16]
On a GPU, tf32 allows TF32 matrix products; on either device bf16 runs the step under bf16 autocast
(fp32 weights), as model_bench's --gpu-math bf16 and --cpu-math bf16 do."""
import math
import os
import sys
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

SIZES = {"tiny": (64, 2, 4, 256), "minilm": (384, 6, 12, 1536), "base": (768, 12, 12, 3072)}

# glibc's malloc keeping the memory a step frees, so that PyTorch is compared at its best: with the
# defaults each step gave its large tensors back to the kernel and faulted them in again, and the
# fp32 step took 0.96-1.71 s where it takes 0.63-0.67 s kept (Xeon; about 8% on the AMD EPYC)
KEEP_FREED_MEMORY = {"MALLOC_MMAP_THRESHOLD_": "33554432", "MALLOC_TRIM_THRESHOLD_": "17179869184"}


def keep_freed_memory():
    """Run this script again with KEEP_FREED_MEMORY in its environment unless it is there (glibc
    reads it at start-up only); a setting given by the caller is kept."""
    if any(name not in os.environ for name in KEEP_FREED_MEMORY):
        os.execve(sys.executable, [sys.executable] + sys.argv, {**KEEP_FREED_MEMORY, **os.environ})


class Layer(nn.Module):
    def __init__(self, C, H, FF):
        super().__init__()
        self.q, self.k, self.v, self.o = (nn.Linear(C, C) for _ in range(4))
        self.ln1, self.ln2 = nn.LayerNorm(C, eps=1e-12), nn.LayerNorm(C, eps=1e-12)
        self.ff1, self.ff2 = nn.Linear(C, FF), nn.Linear(FF, C)
        self.H = H

    def forward(self, x, mask=None):
        B, L, C = x.shape
        split = lambda t: t.view(B, L, self.H, C // self.H).transpose(1, 2)
        ctx = F.scaled_dot_product_attention(split(self.q(x)), split(self.k(x)), split(self.v(x)),
                                             attn_mask=None if mask is None else mask[:, None, None, :])
        x = self.ln1(x + self.o(ctx.transpose(1, 2).reshape(B, L, C)))
        return self.ln2(x + self.ff2(F.gelu(self.ff1(x))))


class Model(nn.Module):
    def __init__(self, C, layers, H, FF, vocab=30526):
        super().__init__()
        self.wte, self.wpe, self.wtt = nn.Embedding(vocab, C), nn.Embedding(512, C), nn.Embedding(2, C)
        self.ln = nn.LayerNorm(C, eps=1e-12)
        self.layers = nn.ModuleList(Layer(C, H, FF) for _ in range(layers))
        self.input_linear, self.memory_linear = nn.Linear(C, 1, bias=False), nn.Linear(C, 1, bias=False)
        self.dot_scale = nn.Parameter(torch.empty(C).uniform_(1 / math.sqrt(C), 1))
        self.linear_1, self.linear_2 = nn.Linear(4 * C, C), nn.Linear(C, 1)

    def encode(self, ids, mask=None):
        pos = torch.arange(ids.shape[1], device=ids.device).unsqueeze(0)
        x = self.ln(self.wte(ids) + self.wpe(pos) + self.wtt(torch.zeros_like(ids)))
        for layer in self.layers:
            x = layer(x, mask)
        return x

    def forward(self, states, actions, n_act, state_mask=None, action_mask=None):
        """state_mask, action_mask (True: a token, False: padding): batches of ragged sequences
        padded to their longest, as a PyTorch user batches them; None: no padding."""
        s = self.encode(states, state_mask).repeat_interleave(n_act, dim=0)  # each action sees its state
        a = self.encode(actions, action_mask)
        att = self.input_linear(a) + self.memory_linear(s).transpose(1, 2) + (a * self.dot_scale) @ s.transpose(1, 2)
        if state_mask is not None:
            att = att.masked_fill(~state_mask.repeat_interleave(n_act, dim=0)[:, None, :], float("-inf"))
        out1 = F.softmax(att, -1) @ s
        over_action = att.max(-1)[0]
        if action_mask is not None:
            over_action = over_action.masked_fill(~action_mask, float("-inf"))
        out2 = F.softmax(over_action, -1).unsqueeze(1) @ a
        feat = F.relu(self.linear_1(torch.cat([a, out1, a * out1, out2 * out1], -1)))
        if action_mask is None:
            pooled = feat.mean(1)
        else:
            pooled = (feat * action_mask[..., None]).sum(1) / action_mask.sum(1, keepdim=True)
        logits = self.linear_2(pooled).view(-1, n_act)
        return F.cross_entropy(logits, torch.zeros(logits.shape[0], dtype=torch.long, device=logits.device))


def padded(lengths, device):
    """Random token ids for sequences of these lengths, padded to the longest, and the mask."""
    longest = max(lengths)
    mask = torch.arange(longest)[None, :] < torch.tensor(lengths)[:, None]
    return torch.randint(0, 30000, (len(lengths), longest), device=device), mask.to(device)


def build(size="minilm", B=4, device="cpu", math_mode="tf32", lengths=None):
    """The model, its optimiser and model_bench's batch; returns step() (forward, backward,
    AdamW) and forward_only() (as an agent plays). lengths: (the states' lengths, the actions'),
    model_bench --ragged's batch, padded to its longest state and action; else its fixed one."""
    C, layers, H, FF = SIZES[size]
    Ls, n_act, La = 384, 12, 8
    torch.manual_seed(1)
    torch.backends.cuda.matmul.allow_tf32 = math_mode == "tf32"
    m = Model(C, layers, H, FF).to(device)
    opt = torch.optim.AdamW(m.parameters(), lr=1e-5)
    if lengths:
        (states, state_mask), (actions, action_mask) = padded(lengths[0], device), padded(lengths[1], device)
        B, tokens = len(lengths[0]), sum(lengths[0]) + sum(lengths[1])
    else:
        states = torch.randint(0, 30000, (B, Ls), device=device)
        actions = torch.randint(0, 30000, (B * n_act, La), device=device)
        state_mask = action_mask = None
        tokens = B * Ls + B * n_act * La
    autocast = math_mode == "bf16"

    def step():
        opt.zero_grad()
        with torch.autocast(device, dtype=torch.bfloat16, enabled=autocast):
            loss = m(states, actions, n_act, state_mask, action_mask)
        loss.backward()
        opt.step()

    def forward_only():
        with torch.inference_mode(), torch.autocast(device, dtype=torch.bfloat16, enabled=autocast):
            m(states, actions, n_act, state_mask, action_mask)

    return step, forward_only, tokens


def main():
    keep_freed_memory()
    args, device, math_mode = [], "cpu", "tf32"
    it = iter(sys.argv[1:])
    for a in it:
        if a == "--device":
            device = next(it)
        elif a == "--math":
            math_mode = next(it)
        else:
            args.append(a)
    size = args[0] if len(args) > 0 else "minilm"
    B = int(args[1]) if len(args) > 1 else 4
    torch.set_num_threads(int(args[2]) if len(args) > 2 else torch.get_num_threads())
    step, forward_only, tokens = build(size, B, device, math_mode)
    autocast = math_mode == "bf16"

    sync = torch.cuda.synchronize if device == "cuda" else (lambda: None)

    def seconds_each(fn, at_least):
        fn()
        sync()
        t0, n = time.time(), 0
        while time.time() - t0 < at_least or n < 2:
            fn()
            n += 1
        sync()
        return (time.time() - t0) / n

    dt = seconds_each(step, 5)
    fwd = seconds_each(forward_only, 3)
    where = (f"{device} {math_mode}" if device == "cuda" else
             f"cpu {'bf16 autocast' if autocast else 'fp32'}, {torch.get_num_threads()} threads")
    print(f"pytorch {torch.__version__} eager, {where}: training step {dt:.4f} s: "
          f"{B / dt:.2f} states/s, {tokens / dt:.0f} tokens/s (each action re-reads its state, as WebShop's model); "
          f"forward only (inference mode) {fwd:.4f} s: {B / fwd:.2f} states/s")


if __name__ == "__main__":
    main()
