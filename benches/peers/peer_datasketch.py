"""datasketch: MinHash(num_perm) over word shingles + MinHashLSH(threshold); every paragraph is
queried and its candidates filtered with MinHash.jaccard >= threshold (as datasketch's docs advise)."""
from datasketch import MinHash, MinHashLSH

from common import args, read_paragraphs, shingles, write_pairs

a = args(__doc__)
paras = read_paragraphs(a.input)
k = a.shingle_words
mhs = MinHash.bulk(([s.encode("utf-8") for s in shingles(t, k)] for _, t in paras),
                   num_perm=a.num_perm)
lsh = MinHashLSH(threshold=a.threshold, num_perm=a.num_perm)
with lsh.insertion_session() as session:
    for i, m in enumerate(mhs):
        session.insert(i, m, check_duplication=False)
pairs = set()
for i, m in enumerate(mhs):
    for j in lsh.query(m):
        if j > i and m.jaccard(mhs[j]) >= a.threshold:
            pairs.add((paras[i][0], paras[j][0]))
write_pairs(a.output, pairs)
