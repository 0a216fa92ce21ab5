#!/usr/bin/env python3
"""Parity of lib/text/textmatch against the reference Python implementations.

Checks, through tests/oracle/fuzz_driver:
  1. ws_token_set_ratio == thefuzz.fuzz.token_set_ratio on >= 20,000 string pairs drawn from the
     catalog (attributes, instruction attributes, option values, goal options as WebShop passes
     them, titles), close pairs (same product, shared words, small edits) as well as random ones,
     plus synthetic pairs (long tokens for the blocked LCS, rounding ties at .5, Unicode);
  2. thefuzz's full_process (force_ascii + rapidfuzz default_process) for every code point;
  3. ws_goal_option_text == WebShop's normalize_color((name, value)) / str((name, value)) for the
     catalog's option pairs and for every code point as a value.
Prints "N pairs, M mismatches" and the throughput of both sides; exits 1 on any mismatch.

  fuzz_parity.py --driver PATH [--data DIR] [--seed N] [--pairs N]
  fuzz_parity.py --emit-tables   # C tables of lib/text/textmatch.c, from the installed rapidfuzz
"""
import argparse
import io
import json
import os
import random
import subprocess
import sys
import time

# WebShop's web_agent_site/engine/normalize.py COLOR_SET (order matters: first match wins).
COLOR_SET = [
    'alabaster', 'apricot', 'aqua', 'ash', 'asphalt', 'azure', 'banana', 'beige', 'black',
    'blue', 'blush', 'bordeaux', 'bronze', 'brown', 'burgundy', 'camel', 'camo', 'caramel',
    'champagne', 'charcoal', 'cheetah', 'chestnut', 'chocolate', 'christmas', 'coffee',
    'cognac', 'copper', 'coral', 'cranberry', 'cream', 'crystal', 'dark', 'denim', 'eggplant',
    'elephant', 'espresso', 'fuchsia', 'gold', 'granite', 'grape', 'graphite', 'grass', 'gray',
    'green', 'grey', 'heather', 'indigo', 'ivory', 'ivy', 'khaki', 'lavender', 'lemon',
    'leopard', 'light', 'lilac', 'lime', 'magenta', 'maroon', 'mauve', 'merlot', 'midnight',
    'mint', 'mocha', 'multicolor', 'mushroom', 'mustard', 'natural', 'navy', 'nude', 'olive',
    'orange', 'peach', 'pewter', 'pink', 'plum', 'purple', 'rainbow', 'red', 'rose', 'royal',
    'rust', 'sand', 'sapphire', 'seashell', 'silver', 'skull', 'slate', 'steel', 'stone',
    'stonewash', 'sunflower', 'tan', 'taupe', 'teal', 'tiger', 'turquoise', 'violet', 'walnut',
    'wheat', 'white', 'wine', 'yellow',
]


def normalize_color(color_string):
    """WebShop's normalize_color, verbatim semantics (a tuple tests element equality)."""
    for norm_color in COLOR_SET:
        if norm_color in color_string:
            return norm_color
    return color_string


def all_code_points():
    return [c for c in range(0x110000) if not 0xD800 <= c <= 0xDFFF]


# ------------------------------------------------------------------ tables for lib/text/textmatch.c
def emit_tables():
    """Prints the alnum ranges and lower-case runs of rapidfuzz's default_process."""
    from rapidfuzz import __version__ as rf_version
    from rapidfuzz.utils import default_process
    keep, low = {}, {}
    for c in all_code_points():
        m = default_process('a' + chr(c) + 'a')
        assert len(m) == 3, hex(c)
        if m[1] != ' ' and c >= 0x80:
            keep[c] = True
            if ord(m[1]) != c:
                low[c] = ord(m[1])
        elif c < 0x80:
            assert (m[1] != ' ') == chr(c).isalnum() and (m[1] == ' ' or m[1] == chr(c).lower())
    ranges, start = [], None
    for c in range(0x80, 0x110001):
        k = keep.get(c, False)
        if k and start is None:
            start = c
        elif not k and start is not None:
            ranges.append((start, c - 1))
            start = None
    items = sorted(low.items())
    runs, i = [], 0
    while i < len(items):
        c, l = items[i]
        delta, stride, j = l - c, None, i + 1
        while j < len(items):
            c2, l2 = items[j]
            step = c2 - items[j - 1][0]
            if l2 - c2 != delta:
                break
            if stride is None:
                if step not in (1, 2):
                    break
                stride = step
            elif step != stride:
                break
            j += 1
        runs.append((c, items[j - 1][0], stride or 1, delta))
        i = j
    print('/* BEGIN GENERATED TABLES: python3 tests/oracle/fuzz_parity.py --emit-tables '
          '(rapidfuzz %s) */' % rf_version)
    print('/* Code points >= U+0080 that rapidfuzz default_process keeps (alphanumeric). */')
    print('static const uint32_t tm_alnum[][2] = {')
    line = '   '
    for a, b in ranges:
        item = ' {0x%X, 0x%X},' % (a, b)
        if len(line) + len(item) > 98:
            print(line)
            line = '   '
        line += item
    print(line)
    print('};')
    print('/* Its lower case beyond ASCII: c in [first, last], (c - first) % stride == 0 '
          '-> c + delta. */')
    print('static const struct tm_lower_run tm_lower[] = {')
    line = '   '
    for a, b, s, d in runs:
        item = ' {0x%X, 0x%X, %d, %d},' % (a, b, s, d)
        if len(line) + len(item) > 98:
            print(line)
            line = '   '
        line += item
    print(line)
    print('};')
    print('/* END GENERATED TABLES */')


# ------------------------------------------------------------------ pairs
def load_catalog(data_dir):
    import zstandard
    path = os.path.join(data_dir, 'products.jsonl.zst')
    with open(path, 'rb') as fh:
        text = io.TextIOWrapper(zstandard.ZstdDecompressor().stream_reader(fh), encoding='utf-8')
        products = [json.loads(line) for line in text if line.strip()]
    with open(os.path.join(data_dir, 'items_ins_v2_1000.json'), encoding='utf-8') as fh:
        items = json.load(fh)
    return products, items


def mutate(rng, s):
    """A small edit of s: the kind of difference that keeps a pair close."""
    words = s.split()
    op = rng.randrange(9)
    if op == 0 and len(words) > 1:
        del words[rng.randrange(len(words))]
        return ' '.join(words)
    if op == 1:
        words.insert(rng.randrange(len(words) + 1), rng.choice(
            ['pack', 'men', 'x', 'large', 'set', 'of', '2', 'and', 'the', 'for', 'inch']))
        return ' '.join(words)
    if op == 2 and s:
        i = rng.randrange(len(s))
        return s[:i] + s[i + 1:]
    if op == 3 and len(s) > 1:
        i = rng.randrange(len(s) - 1)
        return s[:i] + s[i + 1] + s[i] + s[i + 2:]
    if op == 4:
        i = rng.randrange(len(s) + 1)
        return s[:i] + rng.choice('-/,.()&\'"!|:;_ ') + s[i:]
    if op == 5:
        return s.upper() if rng.random() < 0.5 else s.title()
    if op == 6:
        i = rng.randrange(len(s) + 1)
        return s[:i] + rng.choice(['é', 'ß', 'İ', 'Ω', '中文', '\xa0', 'ñ', 'ǅ', 'Ⅻ', '٣',
                                   '²', '\u2028', 'ﬁ', '😀', 'ΣΑΣ', 'Ⓐ']) + s[i:]
    if op == 7 and len(words) > 1:
        rng.shuffle(words)
        return ' '.join(words)
    if s:
        i = rng.randrange(len(s))
        return s[:i] + rng.choice('abcdefghijklmnopqrstuvwxyz0123456789') + s[i + 1:]
    return s


def catalog_pairs(rng, products, items):
    pairs = []
    attrs_by_asin, all_attrs = {}, set()
    for asin, it in items.items():
        a = list(it.get('attributes', [])) + list(it.get('instruction_attributes', []))
        attrs_by_asin[asin] = a
        all_attrs.update(a)
    for p in products:
        a = p['product'].get('Attributes', [])
        attrs_by_asin.setdefault(p['id'], []).extend(a)
        all_attrs.update(a)
    all_attrs = sorted(all_attrs)
    opt_vals, name_vals, titles = set(), [], []
    for p in products:
        for name, vals in p['product'].get('options', {}).items():
            opt_vals.update(vals)
            name_vals.extend((name, v) for v in vals)
        titles.append(p['product'].get('Title', ''))
    opt_vals = sorted(opt_vals)

    # same product: goal attributes against the product's attributes (the reward's comparison)
    for asin, it in sorted(items.items()):
        ins = it.get('instruction_attributes', [])
        for g in ins:
            for a in attrs_by_asin[asin]:
                pairs.append((a, g))
    # attributes sharing a word
    by_word = {}
    for s in all_attrs + opt_vals:
        for w in set(s.lower().split()):
            by_word.setdefault(w, []).append(s)
    words = sorted(w for w, v in by_word.items() if len(v) > 1)
    for _ in range(12000):
        group = by_word[rng.choice(words)]
        pairs.append((rng.choice(group), rng.choice(group)))
    # same product, same option name: sibling values (sizes, colors, flavors)
    for p in products:
        for name, vals in sorted(p['product'].get('options', {}).items()):
            vals = list(vals)
            for _ in range(min(len(vals) * 2, 20)):
                pairs.append((rng.choice(vals), rng.choice(vals)))
            # goal option as WebShop compares it: str((name, value)) or the color, vs values
            for v in vals[:6]:
                g = normalize_color((name, v))
                g = g if isinstance(g, str) else str((name, v))
                for w in rng.sample(vals, min(3, len(vals))):
                    pairs.append((normalize_color(w), g))
                    pairs.append((w, g))
    # random pairs
    for _ in range(3000):
        pairs.append((rng.choice(all_attrs), rng.choice(all_attrs)))
        pairs.append((rng.choice(opt_vals), rng.choice(opt_vals)))
    # edits of catalog strings (close pairs, Unicode, punctuation, case)
    pool = all_attrs + opt_vals
    for _ in range(8000):
        s = rng.choice(pool)
        t = s
        for _ in range(rng.randrange(1, 4)):
            t = mutate(rng, t)
        pairs.append((s, t) if rng.random() < 0.5 else (t, s))
    # descriptions: long texts, edited or of the same category
    by_cat = {}
    for p in products:
        by_cat.setdefault(p['product'].get('category'), []).append(p['product'])
    for _ in range(400):
        grp = by_cat[rng.choice(sorted(by_cat, key=str))]
        s = rng.choice(grp).get('Description', '') or ''
        pairs.append((s, mutate(rng, s)))
        pairs.append((s, rng.choice(grp).get('Description', '') or ''))
    # titles: long strings (blocked LCS), same category and edited
    for _ in range(2000):
        s = rng.choice(titles)
        pairs.append((s, mutate(rng, mutate(rng, s))))
        pairs.append((s, rng.choice(titles)))
    return pairs


def synthetic_pairs(rng):
    pairs = [('', ''), ('a', ''), ('', 'a'), ('!!', 'a'), ('  ', '  '), ('é', 'é'), ('ü', 'u'),
             ('café', 'caf'), ('naïve', 'nave'), ('a\xa0b', 'ab'), ('中文', '中文 字'),
             ('İstanbul', 'istanbul'), ('ΣΑΣ', 'σασ'), ('straße', 'strasse'), ('ǅ', 'ǆ'),
             ('x-large', 'x large'), ('fuzzy was a bear', 'fuzzy fuzzy was a bear')]
    # rounding: single tokens a^n vs a^m hit every (distance, length) pair, ties included
    for n in range(1, 120):
        for m in range(1, 120, 3):
            pairs.append(('a' * n, 'a' * m))
            pairs.append(('zz ' + 'a' * n, 'zz ' + 'b' * m))
    # long tokens over small alphabets: exercise the blocked bit-parallel LCS (> 64 chars)
    for _ in range(3000):
        k = rng.choice([2, 3, 4, 26])
        alpha = 'abcdefghijklmnopqrstuvwxyz'[:k]
        na, nb = rng.randrange(1, 400), rng.randrange(1, 400)
        a = ''.join(rng.choice(alpha) for _ in range(na))
        b = ''.join(rng.choice(alpha) for _ in range(nb))
        if rng.random() < 0.5:
            a = a.replace('a', ' ', rng.randrange(3))
        if rng.random() < 0.3:
            a, b = 'common ' + a, 'common words ' + b
        pairs.append((a, b))
    # long texts with many words (beyond the driver's stack buffer)
    for _ in range(300):
        words = [''.join(rng.choice('abcdefgh') for _ in range(rng.randrange(1, 9)))
                 for _ in range(rng.randrange(100, 600))]
        other = [w if rng.random() < 0.7 else w[::-1] for w in words]
        rng.shuffle(other)
        pairs.append((' '.join(words), ' '.join(other[:rng.randrange(1, len(other) + 1)])))
    # Unicode soup
    soup = ['é', 'ß', 'İ', 'ı', 'Ω', 'ω', '中', '文', '字', 'ﬁ', '😀', 'Ⅻ', '٣', '²', 'ǅ', 'Ⓐ',
            'ＡＢ', 'Ǆ', 'ẞ', 'Å', 'ő', 'ж', 'Ж', '\u0301', '\u200b', '\u3000', '-', ' ', 'a', 'b',
            '1', '\u0870', '\U0001F600', '\U00010400', 'Ᾰ', 'ᾈ']
    for _ in range(2000):
        a = ''.join(rng.choice(soup) for _ in range(rng.randrange(0, 12)))
        b = ''.join(rng.choice(soup) for _ in range(rng.randrange(0, 12)))
        pairs.append((a, b))
    return pairs


def tsv_safe(s):
    # tab/newline/CR are not alphanumeric, so replacing them by spaces keeps the processed text
    return s.replace('\t', ' ').replace('\n', ' ').replace('\r', ' ')


def run_driver(driver, args, lines):
    data = ''.join(l + '\n' for l in lines).encode('utf-8')
    p = subprocess.run([driver] + args, input=data, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                       check=False)
    if p.returncode != 0:
        sys.exit('driver %s failed (%d): %s' % (' '.join(args), p.returncode,
                                                p.stderr.decode(errors='replace')))
    out = p.stdout.decode('utf-8').split('\n')
    if out and out[-1] == '':
        out.pop()
    return out, p.stderr.decode()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--driver')
    ap.add_argument('--data', default=os.environ.get('WEBSHOP_DATA', ''))
    ap.add_argument('--seed', type=int, default=1)
    ap.add_argument('--emit-tables', action='store_true')
    ap.add_argument('--repeat', type=int, default=5)
    args = ap.parse_args()
    if args.emit_tables:
        emit_tables()
        return 0
    if not args.driver:
        ap.error('--driver is required')

    from thefuzz import fuzz, utils
    import rapidfuzz
    import thefuzz
    print('oracle: thefuzz %s, rapidfuzz %s, Python %s' % (
        getattr(thefuzz, '__version__', '?'), rapidfuzz.__version__, sys.version.split()[0]))
    rng = random.Random(args.seed)
    bad_total = 0

    # 1. processing of every code point
    cps = [c for c in all_code_points() if c not in (0x00, 0x0A)]  # C strings: no NUL
    lines = ['a' + chr(c) + 'B' for c in cps]
    out, _ = run_driver(args.driver, ['--process'], lines)
    bad = sum(1 for l, o in zip(lines, out) if utils.full_process(l, force_ascii=True) != o)
    bad += abs(len(out) - len(lines))
    print('full_process: %d code points, %d mismatches' % (len(lines), bad))
    bad_total += bad

    # 2. goal option text (normalize_color of a (name, value) tuple, else str(tuple))
    gpairs = [('size', 'a' + chr(c) + '\'b') for c in cps if c != 0x09]
    gpairs += [('color', c) for c in COLOR_SET] + [(c, 'x') for c in COLOR_SET]
    gpairs += [('color', c + ' ') for c in COLOR_SET] + [('rose', 'black'), ('x', 'it\'s "q"')]
    products, items = [], {}
    if args.data and os.path.exists(os.path.join(args.data, 'products.jsonl.zst')):
        products, items = load_catalog(args.data)
        for p in products:
            for name, vals in sorted(p['product'].get('options', {}).items()):
                gpairs += [(name, v) for v in vals if '\t' not in v + name and '\n' not in v + name]
    else:
        print('catalog not found (--data or WEBSHOP_DATA): catalog pairs skipped')
    out, _ = run_driver(args.driver, ['--goal-option'], ['%s\t%s' % p for p in gpairs])
    bad = 0
    for p, o in zip(gpairs, out):
        want = normalize_color(p)
        want = want if isinstance(want, str) else str(p)
        if want != o:
            bad += 1
            if bad <= 10:
                print('  goal option %r: C %r, Python %r' % (p, o, want))
    bad += abs(len(out) - len(gpairs))
    print('goal option text: %d pairs, %d mismatches' % (len(gpairs), bad))
    bad_total += bad

    # 3. token_set_ratio
    groups = [('synthetic', synthetic_pairs(rng))]
    if products:
        groups.append(('catalog', catalog_pairs(rng, products, items)))
    seen, pairs, group_of = set(), [], []
    for gname, gp in groups:
        for a, b in gp:
            key = (tsv_safe(a), tsv_safe(b))
            if key not in seen:
                seen.add(key)
                pairs.append(key)
                group_of.append(gname)
    want = [fuzz.token_set_ratio(a, b) for a, b in pairs]
    out, _ = run_driver(args.driver, [], ['%s\t%s' % p for p in pairs])
    bad = abs(len(out) - len(pairs))
    for (a, b), w, o in zip(pairs, want, out):
        if str(w) != o:
            bad += 1
            if bad <= 10:
                print('  mismatch: %r vs %r: C %s, thefuzz %d' % (a, b, o, w))
    print('score spread: %d above 85, %d in 80..90, %d equal 100, %d equal 0' % (
        sum(1 for w in want if w > 85), sum(1 for w in want if 80 <= w <= 90),
        sum(1 for w in want if w == 100), sum(1 for w in want if w == 0)))
    # throughput, per group: thefuzz in Python (one pass) and the C loop (--repeat passes)
    for gname in [g for g, _ in groups] + ['all']:
        sel = [p for p, g in zip(pairs, group_of) if gname in ('all', g)]
        t0 = time.perf_counter()
        for a, b in sel:
            fuzz.token_set_ratio(a, b)
        py_s = time.perf_counter() - t0
        _, err = run_driver(args.driver, ['--repeat', str(args.repeat)],
                            ['%s\t%s' % p for p in sel])
        c_s = float(next(l for l in err.splitlines() if l.startswith('seconds ')).split()[1])
        c_s = max(c_s / args.repeat, 1e-9)
        print('throughput (%s, %d pairs): C %.0f pairs/s, thefuzz (Python) %.0f pairs/s, '
              '%.1fx' % (gname, len(sel), len(sel) / c_s, len(sel) / py_s, py_s / c_s))
    print('%d pairs, %d mismatches' % (len(pairs), bad))
    bad_total += bad
    return 1 if bad_total else 0


if __name__ == '__main__':
    sys.exit(main())
