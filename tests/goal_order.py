#!/usr/bin/env python3
"""Check goal records (stdin, `goals -s all`) against WebShop's synthetic goal order, computed here
from the catalog with Python's own `random`: the products in catalog order, those with an
instruction, one goal per combination of option values (names sorted, the last varying fastest),
then random.seed(SEED); random.shuffle(goals). Compares ASIN and options position by position.
  goal_order.py DATA_DIR [SEED] < goals.jsonl"""
import itertools
import json
import random
import subprocess
import sys

data = sys.argv[1]
seed = int(sys.argv[2]) if len(sys.argv) > 2 else 233
lines = subprocess.run(['zstdcat', '-f', f'{data}/products.jsonl.zst'], check=True,
                       capture_output=True, text=True).stdout.splitlines()
attributes = json.load(open(f'{data}/items_ins_v2_1000.json'))
expected = []
for line in lines:
    product = json.loads(line)['product']
    if not attributes.get(product['asin'], {}).get('instruction'):
        continue
    names = sorted(product['options'])
    for values in itertools.product(*(product['options'][n] for n in names)):
        expected.append((product['asin'], dict(zip(names, values))))
random.seed(seed)
random.shuffle(expected)
ours = [json.loads(l) for l in sys.stdin]
ours = [(g['asin'], g['goal_options']) for g in ours]
if len(ours) != len(expected):
    sys.exit(f'goal_order: {len(ours)} goals, WebShop\'s rule gives {len(expected)}')
bad = [i for i, (a, b) in enumerate(zip(ours, expected)) if a != b]
if bad:
    sys.exit(f'goal_order: {len(bad)} goals out of place, first at {bad[0]}: {ours[bad[0]]} != {expected[bad[0]]}')
print(f'{len(ours)} goals in WebShop\'s order')
