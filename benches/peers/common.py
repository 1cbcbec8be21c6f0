"""Shared input, shingling and output helpers for the peer scripts (kept tiny on purpose)."""
import argparse


def args(description):
    p = argparse.ArgumentParser(description=description)
    p.add_argument("input", help="plain text, one paragraph per line")
    p.add_argument("output", help="candidate pairs: line_a<TAB>line_b (1-based, a < b)")
    p.add_argument("--shingle-words", type=int, default=5)
    p.add_argument("--num-perm", type=int, default=128)
    p.add_argument("--threshold", type=float, default=0.5)
    return p.parse_args()


def read_paragraphs(path):
    """[(line, text)] for every non-empty line; lines counted on '\\n' like syndup."""
    with open(path, encoding="utf-8") as f:
        data = f.read()
    return [(i, s) for i, s in enumerate((l.strip() for l in data.split("\n")), 1) if s]


def shingles(text, k):
    """Word k-grams of the lowercased, whitespace-split text; a paragraph with fewer than k
    words is one token (the whole paragraph), so only identical short paragraphs match and
    paragraphs without shingles do not all collide on the empty signature."""
    w = text.lower().split()
    if len(w) < k:
        return [" ".join(w)]
    return [" ".join(w[i:i + k]) for i in range(len(w) - k + 1)]


def write_pairs(path, pairs):
    with open(path, "w") as f:
        f.writelines(f"{a}\t{b}\n" for a, b in sorted(pairs))
