#!/usr/bin/env bash
# Peer benchmark: syndup vs datasketch, rensa, gaoya and `wc -w`, whole processes, alternating, on
# one generated news corpus of SIZE_MB (default 50). Prints the table and writes benches/peers/latest.md.
# Usage: benches/peers/run.sh [SIZE_MB]
#   env: ROUNDS (default 3); TOOLS (default syndup,datasketch,rensa,gaoya,wc: a subset runs only
#   those); MARKDOWN (default benches/peers/latest.md: where the table is written)
# Everything it downloads or generates stays in benches/peers/.venv/ (git-ignored).
set -euo pipefail

SIZE_MB="${1:-50}"
ROUNDS="${ROUNDS:-3}"
TOOLS="${TOOLS:-syndup,datasketch,rensa,gaoya,wc}"
GENSIM="gensim==4.4.0"   # only its test corpus lee_background.cor is used, never installed
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
VENV="$HERE/.venv"
CACHE="$VENV/cache"
WORK="$VENV/work"
export PYTHONDONTWRITEBYTECODE=1   # no __pycache__ next to the peer scripts

# 1. venv + pinned peers
[ -x "$VENV/bin/python" ] || python3 -m venv "$VENV"
if ! cmp -s "$HERE/requirements.txt" "$VENV/.requirements.installed"; then
  "$VENV/bin/pip" install -q --disable-pip-version-check -r "$HERE/requirements.txt"
  cp "$HERE/requirements.txt" "$VENV/.requirements.installed"
fi

# 2. syndup release build (the tree is shared: retry a build broken by an edit in progress),
#    then a private copy of the binary so a concurrent rebuild cannot swap it mid-run
for attempt in 1 2 3; do
  if (cd "$ROOT" && cargo build --release -q); then break; fi
  if [ "$attempt" = 3 ]; then echo "run.sh: cargo build --release failed" >&2; exit 1; fi
  echo "run.sh: build failed, retrying in 60 s" >&2
  sleep 60
done
mkdir -p "$WORK" "$CACHE"
cp "$ROOT/target/release/syndup" "$WORK/syndup"

#    news text: the Lee background corpus from the gensim wheel, extracted by path
COR="$CACHE/gensim/test/test_data/lee_background.cor"
if [ ! -s "$COR" ]; then
  WHEEL="$(ls "$CACHE"/gensim-*.whl 2>/dev/null | head -n 1 || true)"
  if [ -z "$WHEEL" ]; then
    "$VENV/bin/pip" download -q --disable-pip-version-check --no-deps --only-binary=:all: "$GENSIM" -d "$CACHE"
    WHEEL="$(ls "$CACHE"/gensim-*.whl | head -n 1)"
  fi
  "$VENV/bin/python" -c 'import sys, zipfile; zipfile.ZipFile(sys.argv[1]).extract("gensim/test/test_data/lee_background.cor", sys.argv[2])' "$WHEEL" "$CACHE"
fi

# 3-4. generate, self-test every tool on a tiny input, run alternating rounds, print + write the table
exec "$VENV/bin/python" "$HERE/peers.py" --size-mb "$SIZE_MB" --rounds "$ROUNDS" \
  --syndup "$WORK/syndup" --source "$COR" --work "$WORK/$SIZE_MB" --tools "$TOOLS" \
  --markdown "${MARKDOWN:-$HERE/latest.md}"
