"""Random text from a tiny vocabulary: the worst case for sentence-level candidates.

Writes about MB megabytes of blank-line separated paragraphs (2-5 sentences of 12-25 words)
drawn from 20,000 made-up syllable words with Zipf frequencies (the word of rank r with
weight 1/r). No sentence restates another, yet thousands of LSH buckets gather dozens of
sentences sharing a rare word: without the per-band budget of pairs (`lsh::BandBudget`) the
candidates grow quadratically with the input.

    benches/peers/.venv/bin/python benches/peers/tiny_vocab.py 200 > tiny.txt
    syndup scan --timings --format tsv tiny.txt > /dev/null

Needs numpy (in the peers' venv). The same MB and SEED give the same bytes.
"""

import random
import sys

import numpy as np

SYLLABLES = (
    "ka lo mer tin sa ve ron di pel gua nor es tri mun da lie port an sto reb ul cha wen fi"
).split()
VOCABULARY = 20_000


def main() -> None:
    if len(sys.argv) not in (2, 3):
        sys.exit("usage: tiny_vocab.py MB [SEED] > out.txt")
    target = int(float(sys.argv[1]) * 1e6)
    seed = int(sys.argv[2]) if len(sys.argv) == 3 else 7
    pick = random.Random(seed)
    vocab = [
        "".join(pick.choice(SYLLABLES) for _ in range(pick.randint(2, 4)))
        for _ in range(VOCABULARY)
    ]
    capital = [w.capitalize() for w in vocab]
    weights = 1.0 / np.arange(1, VOCABULARY + 1)
    weights /= weights.sum()
    rng = np.random.default_rng(seed)
    out = open(sys.stdout.fileno(), "w", buffering=1 << 20, closefd=False)
    written = 0
    while written < target:
        words = rng.choice(VOCABULARY, size=200_000, p=weights)
        lengths = rng.integers(12, 26, size=20_000)
        pos, paragraphs, sentences = 0, [], []
        for n in lengths:
            if pos + n > len(words):
                break
            w = words[pos : pos + n]
            pos += n
            sentences.append(capital[w[0]] + " " + " ".join(vocab[i] for i in w[1:]) + ".")
            if len(sentences) >= pick.randint(2, 5):
                paragraphs.append(" ".join(sentences))
                sentences = []
        chunk = "\n\n".join(paragraphs) + "\n\n"
        out.write(chunk)
        written += len(chunk)
    out.flush()


if __name__ == "__main__":
    main()
