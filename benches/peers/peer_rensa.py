"""rensa: RMinHash (num_perm) over word shingles built in bulk + RMinHashLSH; bands x rows = 32 x 4
for threshold 0.5 (num_bands must divide num_perm; 32 x 4 minimizes false-positive + false-negative
mass at 0.5, the criterion datasketch uses), candidates filtered by RMinHash.jaccard >= threshold
(as rensa's own deduplicator does)."""
from rensa import RMinHash, RMinHashLSH

from common import args, read_paragraphs, shingles, write_pairs


def bands_for(threshold, num_perm):
    """The divisor b of num_perm (r = num_perm / b rows) with the least false-positive plus
    false-negative probability mass around the threshold: datasketch's criterion, restricted to
    the band counts RMinHashLSH accepts."""
    def mass(b, r, lo, hi, n=200):  # integral of P(share a band) = 1 - (1 - s^r)^b over [lo, hi]
        step = (hi - lo) / n
        return sum(1.0 - (1.0 - (lo + (i + 0.5) * step) ** r) ** b for i in range(n)) * step

    def error(b):
        r = num_perm // b
        return mass(b, r, 0.0, threshold) + (1.0 - threshold) - mass(b, r, threshold, 1.0)

    return min((b for b in range(1, num_perm + 1) if num_perm % b == 0), key=error)


a = args(__doc__)
paras = read_paragraphs(a.input)
k = a.shingle_words
mhs = RMinHash.from_token_sets((shingles(t, k) for _, t in paras), num_perm=a.num_perm, seed=42)
lsh = RMinHashLSH(threshold=a.threshold, num_perm=a.num_perm,
                  num_bands=bands_for(a.threshold, a.num_perm))
lsh.insert_many(mhs)
pairs = set()
for i, cands in enumerate(lsh.query_all(mhs)):
    m = mhs[i]
    for j in cands:
        if j > i and m.jaccard(mhs[j]) >= a.threshold:
            pairs.add((paras[i][0], paras[j][0]))
write_pairs(a.output, pairs)
