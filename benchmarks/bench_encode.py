"""Encoding throughput: text in MB/s and music in events/s, each against a reference, one run.

Text: the text domain's fit + encode of a corpus (Tiny Shakespeare repeated to --mb MB) against
nanoGPT's ``data/shakespeare_char/prepare.py`` (a sorted character set, a dict, a list
comprehension, a uint16 array).

Music, three stages on the first --pieces Bach chorales of music21's corpus:
  parse   seqgen's reader (music21, ties stripped, two processes) against a plain music21
          loop (parse, flatten, collect notes) in one process;
  MIDI    the same pieces written as MIDI, read back by seqgen's own SMF reader against
          pretty_midi;
  codec   notes to events, the default note + duration encoding and the performance one.
Rates are in events of the default encoding per second, so every stage is in one unit.

    python benchmarks/bench_encode.py --data ../shared/data/tinyshakespeare.txt
"""

from __future__ import annotations

import argparse
import tempfile
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np


def best_of(fn: Callable[[], Any], rounds: int) -> tuple[float, Any]:
    """The fastest of ``rounds`` calls (seconds) and the last result."""
    best, out = float("inf"), None
    for _ in range(rounds):
        t = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - t)
    return best, out


def nanogpt_prepare(data: str) -> np.ndarray:
    """nanoGPT's shakespeare_char/prepare.py, the encoding part."""
    chars = sorted(list(set(data)))
    stoi = {ch: i for i, ch in enumerate(chars)}
    return np.array([stoi[c] for c in data], dtype=np.uint16)


def seqgen_text(data: str) -> np.ndarray:
    from seqgen_text.domain import TextDomain

    dom = TextDomain()
    dom.fit([data])
    return dom.encode(data)


def bench_text(path: str, mb: float, rounds: int) -> None:
    base = Path(path).read_text(encoding="utf-8")
    data = base * max(1, round(mb * 1e6 / len(base.encode())))
    size = len(data.encode()) / 1e6
    ref_t, ref = best_of(lambda: nanogpt_prepare(data), rounds)
    our_t, ours = best_of(lambda: seqgen_text(data), rounds)
    pairs = ref.astype(np.int64) * 2**21 + ours  # the two codes are one bijection
    assert len(ref) == len(ours) and len(np.unique(pairs)) == len(np.unique(ref))
    print(f"text, {size:.1f} MB, fit + encode (best of {rounds}):")
    print(f"  nanoGPT prepare.py: {size / ref_t:8.1f} MB/s")
    print(f"  seqgen text codec:  {size / our_t:8.1f} MB/s")
    print(f"  ratio seqgen / nanoGPT: {ref_t / our_t:.2f}")


def plain_music21(paths: list[Path]) -> int:
    """What one writes by hand: parse each file and collect its notes, one process."""
    import music21

    n = 0
    for p in paths:
        score = music21.converter.parse(str(p))
        for el in score.flatten().notes:
            n += len(el.pitches)
    return n


def pretty_midi_notes(paths: list[Path]) -> int:
    import pretty_midi

    return sum(len(i.notes) for p in paths for i in pretty_midi.PrettyMIDI(str(p)).instruments)


def bench_music(pieces: int, rounds: int) -> None:
    from seqgen.domain import parse_options
    from seqgen_music import corpus, scores
    from seqgen_music.domain import MusicDomain
    from seqgen_music.midi import read_midi
    from seqgen_music.render import write_mid

    files = scores.chorale_files()[:pieces]
    items = [corpus.Item(str(p)) for p in files]
    settings = corpus.ParseSettings()
    plain_music21(files)  # warm-up: imports, and music21's own parse cache for both
    ref_t, _ = best_of(lambda: plain_music21(files), 1)
    our_t, parsed = best_of(lambda: corpus.parse_items(items, settings), 1)
    notes = [a for arrays, _ in parsed for a in arrays]
    dom = MusicDomain()
    perf = MusicDomain(parse_options(MusicDomain.Options, {"encoding": "performance"}))
    events = sum(len(dom.codec.encode(n)) for n in notes)
    print(f"music, {len(notes)} chorales, {sum(len(n) for n in notes):,} notes, "
          f"{events:,} events (note + duration):")
    print(f"  parse  plain music21 loop: {events / ref_t:10,.0f} events/s")
    print(f"  parse  seqgen (2 procs):   {events / our_t:10,.0f} events/s   "
          f"ratio {ref_t / our_t:.2f}")
    with tempfile.TemporaryDirectory() as tmp:
        mids = [Path(tmp) / f"{i}.mid" for i in range(len(notes))]
        for n, m in zip(notes, mids, strict=True):
            write_mid(corpus.Piece(n, m.stem), m)
        pm_t, _ = best_of(lambda: pretty_midi_notes(mids), rounds)
        ours_t, _ = best_of(lambda: [read_midi(m) for m in mids], rounds)
    print(f"  MIDI   pretty_midi:        {events / pm_t:10,.0f} events/s")
    print(f"  MIDI   seqgen (smf.py):    {events / ours_t:10,.0f} events/s   "
          f"ratio {pm_t / ours_t:.2f}")
    enc_t, _ = best_of(lambda: [dom.codec.encode(n) for n in notes], rounds)
    perf_t, _ = best_of(lambda: [perf.codec.encode(n) for n in notes], rounds)
    perf_events = sum(len(perf.codec.encode(n)) for n in notes)
    print(f"  codec  note + duration:    {events / enc_t:10,.0f} events/s")
    print(f"  codec  performance:        {perf_events / perf_t:10,.0f} events/s "
          f"({perf_events:,} events)")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--data", default="../shared/data/tinyshakespeare.txt")
    ap.add_argument("--mb", type=float, default=11.0, help="text corpus size in MB")
    ap.add_argument("--pieces", type=int, default=60, help="chorales to parse")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    bench_text(args.data, args.mb, args.rounds)
    bench_music(args.pieces, args.rounds)


if __name__ == "__main__":
    main()
