#!/usr/bin/env bash
# Issue 14: one relabelled round with outcome-judged labels (rollout --oracle-labels as of commit
# 9af9024: the agent's action stands where the oracle, playing on from it, does as well) from the
# SIZE=medium seed-1 IL agent on WebShop's own split, relabelled RPO and DAgger exactly as
# pipeline-relabel runs them (round 1; tools of commit 63f39d3, whose records are those of 9af9024).
# Usage (from the project root, after `make SIZE=medium SEED=1 runs/medium-s1/eval-il.summary.jsonl`):
# DAgger's round 1 was the target `dagger` then; since session 33 it is `dagger-1`, the same stage.
set -eu
make SIZE=medium SEED=1 RUNS_ROOT=runs runs/medium-s1/eval-relabel-1.summary.jsonl runs/medium-s1/eval-dagger-1.summary.jsonl
bash scripts/paired.sh runs/medium-s1/eval-il.jsonl.zst runs/medium-s1/eval-relabel-1.jsonl.zst runs/medium-s1/eval-dagger-1.jsonl.zst
