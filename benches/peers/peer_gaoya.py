"""gaoya: MinHashStringIndex(jaccard_threshold, num_hashes) with its Rust word analyzer (words split
on ASCII whitespace and punctuation, lowercased) and word k-gram shingles, bands x rows from
gaoya's own S-curve fit (num_hashes=128 gives 42 x 3); bulk insert, bulk query. gaoya's query
returns only ids whose estimated Jaccard passes the threshold. A paragraph with fewer than k words
is inserted as one token (its lowercased words), like the other peers."""
import re

import gaoya

from common import args, read_paragraphs, write_pairs

WORD = re.compile(r"[^ \t\n\r\x0c!-/:-@\[-`{-~]+")  # gaoya's whitespace_split complement

a = args(__doc__)
paras = read_paragraphs(a.input)
k = a.shingle_words
index = gaoya.minhash.MinHashStringIndex(
    hash_size=32, jaccard_threshold=a.threshold, num_bands=None, band_size=None,
    num_hashes=a.num_perm, analyzer="word", lowercase=True, ngram_range=(k, k))
long_ids, long_docs, short = [], [], []
for i, (_, t) in enumerate(paras):
    w = WORD.findall(t)
    if len(w) >= k:
        long_ids.append(i)
        long_docs.append(t)
    else:
        short.append((i, [" ".join(w).lower()]))
index.par_bulk_insert_docs(long_ids, long_docs)
raw = index.minhash_index
for i, tokens in short:
    raw.insert_tokens(i, tokens)
pairs = set()
for i, found in zip(long_ids, index.par_bulk_query(long_docs)):
    pairs.update((paras[min(i, j)][0], paras[max(i, j)][0]) for j in found if j != i)
for i, tokens in short:
    pairs.update((paras[min(i, j)][0], paras[max(i, j)][0]) for j in raw.query_tokens(tokens) if j != i)
write_pairs(a.output, pairs)
