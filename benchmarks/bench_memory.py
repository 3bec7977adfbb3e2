"""Peak memory of `seqgen train` as the corpus grows: 1 MB against 100 MB of text.

Each run is a fresh process with a fresh cache, so the corpus is read, checked, encoded into the
memory-mapped cache and trained on (tiny preset, 20 steps). Prints peak RSS of both, their
difference (goal: under 300 MB) and the encoding throughput in MB/s.

    python benchmarks/bench_memory.py [--big-mb 100]
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from pathlib import Path

WRAPPER = ("import resource, subprocess, sys; r = subprocess.run(sys.argv[1:]); "
           "print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss); sys.exit(r.returncode)")


def make_corpus(path: Path, megabytes: int) -> None:
    """Text that is not a verbatim repeat: the Python docs, lines shuffled per block."""
    import random
    from pydoc_data.topics import topics

    lines = "\n".join(topics[k] for k in sorted(topics)).splitlines()
    rng = random.Random(0)
    target = megabytes << 20
    with open(path, "w", encoding="utf-8") as f:
        written = 0
        while written < target:
            rng.shuffle(lines)
            block = "\n".join(lines)[: target - written]
            f.write(block)
            written += len(block.encode())


def peak_rss_mb(corpus: Path, cache: Path) -> tuple[float, float]:
    cmd = [sys.executable, "-c", WRAPPER, sys.executable, "-m", "seqgen.cli.main", "train",
           "--data", str(corpus), "--preset", "tiny", "--max-steps", "20", "--quiet",
           "--run", str(cache / "run")]
    t = time.perf_counter()
    out = subprocess.run(cmd, capture_output=True, text=True, env={
        "SEQGEN_CACHE": str(cache), "PATH": "/usr/bin:/bin"}, check=True)
    return int(out.stdout.strip().splitlines()[-1]) / 1024, time.perf_counter() - t


def encode_speed(corpus: Path, cache: Path) -> float:
    from seqgen.engine.data import encode_corpus
    from seqgen_text.domain import TextDomain

    dom = TextDomain()
    c = dom.load_corpus(str(corpus))
    t = time.perf_counter()
    dom.fit(c.documents)
    encode_corpus(dom, c, cache)
    return corpus.stat().st_size / (1 << 20) / (time.perf_counter() - t)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--big-mb", type=int, default=100)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        rows = []
        for mb in (1, args.big_mb):
            corpus = root / f"corpus-{mb}mb.txt"
            make_corpus(corpus, mb)
            rss, secs = peak_rss_mb(corpus, root / f"cache-{mb}")
            speed = encode_speed(corpus, root / f"cache2-{mb}")
            rows.append((mb, rss, secs, speed))
            print(f"{mb:4d} MB corpus: peak RSS {rss:7.1f} MB, whole run {secs:5.1f} s, "
                  f"fit + encode {speed:6.1f} MB/s")
        print(f"difference {args.big_mb} MB - 1 MB: {rows[1][1] - rows[0][1]:.1f} MB "
              f"(goal: under 300 MB)")


if __name__ == "__main__":
    main()
