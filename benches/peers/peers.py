#!/usr/bin/env python3
"""Driver of the peer benchmark (called by run.sh): generate the corpus, self-test every tool on a
tiny input, run syndup, datasketch, rensa, gaoya and `wc -w` as whole processes in alternating
rounds under /usr/bin/time, score candidate pairs against the generator's truth, print the table
and the default's pairs by measure and similarity (where its false positives come from), and
write both as Markdown."""
import argparse
import datetime
import importlib.metadata
import json
import math
import os
import shutil
import statistics
import subprocess
import sys
import time

HERE = os.path.dirname(os.path.abspath(__file__))
OPTIONAL = {"loose", "boilerplate"}  # may be flagged or not: neither TP nor FP
PEER_EQUIV = ["--preset", "near", "--shingle-words", "5", "--num-hashes", "128", "--threshold", "0.5"]
PEER_ARGS = ["--shingle-words", "5", "--num-perm", "128", "--threshold", "0.5"]
ONE_CORE = ["taskset", "-c", "0"]


def log(msg):
    print(msg, file=sys.stderr, flush=True)


# ---------------------------------------------------------------- corpus

def generate(syndup, source, docs, out):
    shutil.rmtree(out, ignore_errors=True)
    subprocess.run([syndup, "generate", "--source", source, "--docs", str(docs), "--out", out],
                   check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)


def docs_bytes(out):
    d = os.path.join(out, "docs")
    return sum(os.path.getsize(os.path.join(d, n)) for n in os.listdir(d))


def prepare(syndup, source, size_mb, work):
    """Generate enough documents, concatenate whole documents (sorted by name, i.e. in order) until
    size_mb * 10^6 bytes, one paragraph per line, and map truth.tsv onto the combined lines.
    A prefix of documents keeps the truth exact: pairs with a document outside it are dropped."""
    target = size_mb * 1_000_000
    os.makedirs(work, exist_ok=True)
    gen = os.path.join(work, "gen")
    probe_docs = 2000
    generate(syndup, source, probe_docs, gen)
    per_doc = docs_bytes(gen) / probe_docs
    docs = int(target / per_doc * 1.1) + 100
    while True:
        generate(syndup, source, docs, gen)
        if docs_bytes(gen) >= target:
            break
        docs = int(docs * 1.25)
    combined = os.path.join(work, "paragraphs.txt")
    where = {}  # "docs/NAME:LINE" -> combined line
    n = size = used_docs = 0
    with open(combined, "w", encoding="utf-8", newline="\n") as out:
        for name in sorted(os.listdir(os.path.join(gen, "docs"))):
            if size >= target:
                break
            used_docs += 1
            with open(os.path.join(gen, "docs", name), encoding="utf-8") as f:
                lines = f.read().split("\n")
            for i, line in enumerate(lines, 1):
                line = line.rstrip("\r")
                if line.strip():
                    n += 1
                    where[f"docs/{name}:{i}"] = n
                    out.write(line + "\n")
                    size += len(line.encode("utf-8")) + 1
    truth = {}
    with open(os.path.join(gen, "truth.tsv"), encoding="utf-8") as f:
        for row in f:
            if not row.strip() or row.startswith("#"):
                continue
            a, b, label = row.rstrip("\n").split("\t")[:3]
            if a in where and b in where:
                x, y = sorted((where[a], where[b]))
                if x != y:
                    truth[(x, y)] = label
    with open(os.path.join(work, "truth.tsv"), "w") as f:
        f.write("# paragraph-level truth of paragraphs.txt (line_a, line_b, label), from syndup generate\n")
        f.writelines(f"{a}\t{b}\t{l}\n" for (a, b), l in sorted(truth.items()))
    shutil.rmtree(gen)
    return {"file": combined, "bytes": size, "paragraphs": n, "docs": used_docs, "truth": truth}


# ---------------------------------------------------------------- tools and their pairs

def syndup_pairs(path, evidence=None):
    """Pairs of line numbers and the summary of a `syndup scan --format jsonl` report; with a
    dict as `evidence`, also each pair's (measure, similarity) in it."""
    pairs, summary = set(), None
    with open(path, encoding="utf-8") as f:
        for row in f:
            o = json.loads(row)
            if o["type"] == "cluster":
                lines = [m["line"] for m in o["data"]["members"]]
                for p in o["data"]["pairs"]:
                    a, b = lines[p["a"]], lines[p["b"]]
                    key = (min(a, b), max(a, b))
                    pairs.add(key)
                    if evidence is not None:
                        evidence[key] = (p["measure"], p["similarity"])
            elif o["type"] == "summary":
                summary = o["data"]
    return pairs, summary


def tsv_pairs(path):
    """Pairs of line numbers from `syndup scan --format tsv` (header, then line_a in column 3 and
    line_b in column 8)."""
    pairs = set()
    with open(path, encoding="utf-8") as f:
        next(f)
        for row in f:
            cols = row.rstrip("\n").split("\t")
            a, b = int(cols[2]), int(cols[7])
            pairs.add((min(a, b), max(a, b)))
    return pairs


def file_pairs(path):
    with open(path) as f:
        return {tuple(map(int, row.split("\t"))) for row in f if row.strip()}


def tools(syndup, inp, out):
    py = sys.executable

    def sd(tag, threads, settings, extra, fmt="jsonl"):
        cores = ONE_CORE if threads == 1 else []
        return {"name": "syndup", "threads": threads, "settings": settings,
                "cmd": cores + [syndup, "scan", inp, "--format", fmt, "--threads", str(threads)] + extra,
                "stdout": os.path.join(out, f"{tag}.{fmt}"), "kind": "syndup", "key": tag, "format": fmt}

    def peer(name, settings):
        o = os.path.join(out, f"{name}.tsv")
        return {"name": name, "threads": 1, "settings": settings,
                "cmd": ONE_CORE + [py, os.path.join(HERE, f"peer_{name}.py"), inp, o] + PEER_ARGS,
                "stdout": None, "pairs_file": o, "kind": "peer", "key": name}

    return [
        sd("syndup-default-2", 2, "default (paraphrase)", []),
        sd("syndup-default-1", 1, "default (paraphrase)", []),
        sd("syndup-disk-2", 2, "default (paraphrase), --memory disk", ["--memory", "disk"]),
        sd("syndup-near-2", 2, "near, 5-word, 128, 0.5", PEER_EQUIV),
        sd("syndup-near-1", 1, "near, 5-word, 128, 0.5", PEER_EQUIV),
        # The same detections written as TSV (pairs without texts), as the peers write pairs.
        sd("syndup-default-2-tsv", 2, "default (paraphrase), --format tsv", [], "tsv"),
        sd("syndup-near-2-tsv", 2, "near, 5-word, 128, 0.5, --format tsv", PEER_EQUIV, "tsv"),
        peer("datasketch", "MinHashLSH 25x5, 5-word, 128, 0.5"),
        peer("rensa", "RMinHashLSH 32x4, 5-word, 128, 0.5"),
        peer("gaoya", "MinHashStringIndex 42x3, 5-word, 128, 0.5"),
        {"name": "wc -w", "threads": 1, "settings": "", "cmd": ONE_CORE + ["wc", "-w", inp],
         "stdout": None, "kind": "wc", "key": "wc"},
    ]


def pairs_of(t):
    if t["kind"] == "syndup":
        if t["format"] == "tsv":
            return tsv_pairs(t["stdout"])
        return syndup_pairs(t["stdout"])[0]
    if t["kind"] == "peer":
        return file_pairs(t["pairs_file"])
    return None


def run(t, timefile):
    """Wall seconds (perf_counter around the whole process) and peak RSS in KB (/usr/bin/time %M)."""
    out = open(t["stdout"], "w") if t["stdout"] else subprocess.DEVNULL
    try:
        # The previous run's output (syndup's reports are up to 0.9 GB at 500 MB) is written
        # back to disk before the clock starts, so that no run pays for another's writeback.
        os.sync()
        start = time.perf_counter()
        p = subprocess.run(["/usr/bin/time", "-f", "%e %M", "-o", timefile] + t["cmd"],
                           stdout=out, stderr=subprocess.PIPE)
        wall = time.perf_counter() - start
    finally:
        if out is not subprocess.DEVNULL:
            out.close()
    if p.returncode != 0:
        raise SystemExit(f"{' '.join(t['cmd'])} exited {p.returncode}:\n{p.stderr.decode(errors='replace')[-2000:]}")
    with open(timefile) as f:
        rss_kb = int(f.read().split()[-1])
    return wall, rss_kb


# ---------------------------------------------------------------- self-test

TINY = """The prime minister said on Tuesday that the new budget would cut taxes for working families across the country.
Heavy rain flooded several roads in the north of the city overnight, police said.
The prime minister said on Tuesday that the new budget would cut taxes for working families across the nation.
Advertisement
Advertisement
Read more

Scientists have discovered a new species of frog in the rainforest of northern Australia, officials announced.
The prime minister said on Tuesday that the budget vote was delayed by a week because of the storm.
"""
TINY_PAIRS = {(1, 3), (4, 5)}  # 1~3: Jaccard 0.88 over 5-word shingles; 1~9 shares 4 shingles (0.14)


def selftest(syndup, work):
    d = os.path.join(work, "selftest")
    os.makedirs(d, exist_ok=True)
    inp = os.path.join(d, "tiny.txt")
    with open(inp, "w") as f:
        f.write(TINY)
    bad = []
    for t in tools(syndup, inp, d):
        if t["kind"] == "wc":
            continue
        run(t, os.path.join(d, "time.txt"))
        got = pairs_of(t)
        # the paraphrase preset may add sentence-level pairs; every other tool must be exact
        ok = TINY_PAIRS <= got if "paraphrase" in t["settings"] else got == TINY_PAIRS
        if not ok:
            bad.append(f"{t['key']}: {sorted(got)} (want {sorted(TINY_PAIRS)})")
    if bad:
        raise SystemExit("self-test failed:\n  " + "\n  ".join(bad))
    log("self-test: every tool finds exactly the known pairs of a tiny input")


# ---------------------------------------------------------------- scoring and report

def score(pred, truth):
    if pred is None:
        return None
    required = sum(1 for l in truth.values() if l not in OPTIONAL)
    tp = fp = 0
    for p in pred:
        l = truth.get(p)
        if l is None:
            fp += 1
        elif l not in OPTIONAL:
            tp += 1
    prec = tp / (tp + fp) if tp + fp else 1.0
    rec = tp / required if required else 1.0
    f1 = 2 * prec * rec / (prec + rec) if prec + rec else 0.0
    return prec, rec, f1


def by_evidence(path, truth):
    """Where a syndup report's pairs fall against the truth, by the evidence that found them: rows
    of (measure, similarity band, required, optional, false), bands 0.05 wide for sentence
    matches and 0.1 for the others. Shows which measure and score the false positives come from."""
    evidence = {}
    syndup_pairs(path, evidence)
    width = {"sentence": 0.05}
    counts = {}
    for p, (measure, sim) in evidence.items():
        w = width.get(measure, 0.1)
        band = round(int(sim / w + 1e-9) * w, 2)
        label = truth.get(p)
        col = 2 if label is None else (1 if label in OPTIONAL else 0)
        counts.setdefault((measure, band), [0, 0, 0])[col] += 1
    return [[m, f"{b:.2f}"] + [f"{x:,}" for x in c] for (m, b), c in sorted(counts.items())]


def cpu_model():
    try:
        with open("/proc/cpuinfo") as f:
            for row in f:
                if row.startswith("model name"):
                    return row.split(":", 1)[1].strip()
    except OSError:
        pass
    return "unknown"


def nproc():
    try:
        return subprocess.run(["nproc"], capture_output=True, text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return str(os.cpu_count())


def commit():
    try:  # read-only
        return subprocess.run(["git", "-C", HERE, "rev-parse", "--short", "HEAD"], capture_output=True,
                              text=True, check=True).stdout.strip()
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--size-mb", type=int, default=50)
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--syndup", required=True)
    ap.add_argument("--source", required=True)
    ap.add_argument("--work", required=True)
    ap.add_argument("--markdown")
    ap.add_argument("--tools", default="syndup,datasketch,rensa,gaoya,wc",
                    help="comma-separated subset of syndup, datasketch, rensa, gaoya, wc")
    a = ap.parse_args()
    wanted = {x.strip() for x in a.tools.split(",") if x.strip()}

    os.makedirs(a.work, exist_ok=True)
    selftest(a.syndup, a.work)
    log(f"generating ~{a.size_mb} MB of documents ...")
    c = prepare(a.syndup, a.source, a.size_mb, a.work)
    truth = c["truth"]
    n_opt = sum(1 for l in truth.values() if l in OPTIONAL)
    log(f"corpus: {c['bytes']} bytes, {c['paragraphs']} paragraphs, {c['docs']} documents, "
        f"{len(truth) - n_opt} required + {n_opt} optional truth pairs")

    start_load = os.getloadavg()
    ts = [t for t in tools(a.syndup, c["file"], a.work)
          if (t["kind"] == "syndup" and "syndup" in wanted) or t["key"] in wanted]
    walls = {t["key"]: [] for t in ts}
    rss = {t["key"]: [] for t in ts}
    for r in range(a.rounds):
        for t in ts:
            w, m = run(t, os.path.join(a.work, "time.txt"))
            walls[t["key"]].append(w)
            rss[t["key"]].append(m)
            log(f"round {r + 1}/{a.rounds} {t['key']}: {w:.2f} s, {m / 1024:.0f} MB")
    end_load = os.getloadavg()

    mb = c["bytes"] / 1e6
    rows, med = [], {}
    for t in ts:
        k = t["key"]
        wall = statistics.median(walls[k])
        med[k] = wall
        pred = pairs_of(t)
        if t["kind"] == "syndup" and t["format"] == "jsonl":
            summ = syndup_pairs(t["stdout"])[1]
            if summ["paragraphs"] != c["paragraphs"]:
                raise SystemExit(f"{k}: syndup saw {summ['paragraphs']} paragraphs, expected {c['paragraphs']}")
        if t["kind"] == "syndup" and t["format"] == "tsv":
            # The TSV holds the pairs of the JSON Lines report of the same settings.
            same = next((u for u in ts if u["key"] == k.removesuffix("-tsv")), None)
            if same is not None and pairs_of(same) != pred:
                raise SystemExit(f"{k}: the TSV's pairs differ from those of {same['key']}")
        s = score(pred, truth)
        rows.append([t["name"], str(t["threads"]), t["settings"], f"{wall:.2f}", f"{mb / wall:.1f}",
                     f"{c['paragraphs'] / wall:,.0f}", f"{max(rss[k]) / 1024:.0f}"]
                    + ([f"{x:.3f}" for x in s] if s else ["-", "-", "-"]))
    head = ["tool", "threads", "settings", "wall s", "MB/s", "paragraphs/s", "peak RSS MB",
            "precision", "recall", "F1"]

    ratios = []
    for k, label in (("syndup-default-2", "syndup default, 2 threads"),
                     ("syndup-default-2-tsv", "syndup default, 2 threads, --format tsv"),
                     ("syndup-near-2", "syndup peer-equivalent (near), 2 threads"),
                     ("syndup-near-2-tsv", "syndup peer-equivalent (near), 2 threads, --format tsv")):
        if k not in med:
            continue
        parts = [f"{p} {med[p] / med[k]:.1f}x" for p in ("datasketch", "rensa", "gaoya") if p in med]
        if "wc" in med:
            parts.append(f"wc -w {med['wc'] / med[k]:.2f}x")
        ratios.append(f"{label}: " + ", ".join(parts))
    speed = ("syndup 1->2 thread speedup: default "
             f"{med['syndup-default-1'] / med['syndup-default-2']:.2f}x, "
             f"near {med['syndup-near-1'] / med['syndup-near-2']:.2f}x") if "syndup" in wanted else ""
    # The memory target: peak RSS above the input, per paragraph.
    per_para = "peak RSS above the input per paragraph: " + ", ".join(
        f"{k} {(max(rss[k]) * 1024 - c['bytes']) / c['paragraphs']:.0f} B"
        for k in med if k.startswith("syndup")) if "syndup" in wanted else ""
    versions = ", ".join(f"{p} {importlib.metadata.version(p)}" for p in ("datasketch", "rensa", "gaoya")
                         if p in wanted) or "no peer"
    now = datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d %H:%M UTC")
    meta = [f"date: {now}; nproc: {nproc()}; CPU: {cpu_model()}; "
            f"load avg 1 min at start/end: {start_load[0]:.1f}/{end_load[0]:.1f}",
            f"syndup {commit()} (working tree) vs {versions}; Python {sys.version.split()[0]}",
            f"corpus: syndup generate from gensim's lee_background.cor, {mb:.1f} MB (10^6 bytes), "
            f"{c['paragraphs']:,} paragraphs (one per line) in {c['docs']:,} documents; truth: "
            f"{len(truth) - n_opt:,} required + {n_opt:,} optional (loose, boilerplate) pairs",
            f"wall: median of {a.rounds} alternating rounds, whole process, each started after a sync; peak RSS: max over rounds; "
            f"1-thread rows pinned with taskset -c 0; peers: LSH candidates kept when the MinHash "
            f"estimate >= 0.5"]
    spread = "per-round wall s: " + "; ".join(
        f"{k} " + "/".join(f"{w:.2f}" for w in walls[k]) for k in walls)

    widths = [max(len(str(x)) for x in col) for col in zip(head, *rows)]
    fmt = lambda r: "  ".join(str(x).ljust(w) for x, w in zip(r, widths)).rstrip()
    print("\n".join(meta))
    print(fmt(head))
    for r in rows:
        print(fmt(r))
    print("time ratio = peer time / syndup time (above 1: syndup faster)")
    print("\n".join(ratios))
    print(speed)
    print(per_para)
    print(spread)

    # The default's pairs by measure and score: where its false positives come from.
    ev_head = ["measure", "from", "required", "optional", "false"]
    ev_rows = []
    if "syndup" in wanted:
        default = next(t for t in ts if t["key"] == "syndup-default-2")
        ev_rows = by_evidence(default["stdout"], truth)
        ev_widths = [max(len(x) for x in col) for col in zip(ev_head, *ev_rows)]
        print("syndup default, 2 threads: pairs by measure and similarity (from: band start)")
        for r in [ev_head] + ev_rows:
            print("  ".join(x.rjust(w) for x, w in zip(r, ev_widths)))

    if a.markdown:
        md = [f"# Peer benchmark (`benches/peers/run.sh {a.size_mb}`)", ""]
        md += [f"- {m}" for m in meta] + [""]
        md.append("| " + " | ".join(head) + " |")
        md.append("|" + "|".join("---" if i < 3 else "---:" for i in range(len(head))) + "|")
        md += ["| " + " | ".join(r) + " |" for r in rows]
        md += ["", "Time ratio = peer time / syndup time (above 1: syndup faster).", ""]
        md += [f"- {x}" for x in ratios + [speed, per_para, spread] if x]
        if wanted != {"syndup", "datasketch", "rensa", "gaoya", "wc"}:
            md += [f"- tools run: {', '.join(sorted(wanted))} (the others were not run)"]
        if ev_rows:
            md += ["", "syndup default, 2 threads: its pairs by measure and similarity (`from`: "
                   "the start of the band), against the truth.", ""]
            md.append("| " + " | ".join(ev_head) + " |")
            md.append("|---|---:|---:|---:|---:|")
            md += ["| " + " | ".join(r) + " |" for r in ev_rows]
        with open(a.markdown, "w") as f:
            f.write("\n".join(md) + "\n")
        log(f"wrote {a.markdown}")


if __name__ == "__main__":
    main()
