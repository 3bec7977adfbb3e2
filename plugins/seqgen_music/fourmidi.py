"""A MIDI file of four pitched tracks read as four voices (the soprano the highest on average),
on the sixteenth grid of the file's own tempo map (pretty_midi: ticks, not seconds, so that a
tempo change does not move the grid); the metre from its first time signature, the key by
Krumhansl's estimate, bar lines from bar 1 at time 0 (MIDI has no pickup bar: a piece that
starts with one reads a beat early). No fermatas: MIDI has none."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seqgen_music import chorale
from seqgen_music.chorale import GRID, Chorale


def load(path: Path) -> Any:
    """The file as pretty_midi reads it (its doubts about odd files kept quiet: smf.py says
    what it mends when the events encodings read the file)."""
    import warnings

    import pretty_midi

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return pretty_midi.PrettyMIDI(str(path))


def quarter_rows(pm: Any, inst: Any) -> list[tuple[float, float, int]]:
    """(start, end in quarter notes, pitch) of a track's notes, through the file's tempo map."""
    return [(pm.time_to_tick(n.start) / pm.resolution, pm.time_to_tick(n.end) / pm.resolution,
             int(n.pitch)) for n in inst.notes]


def bar_of(pm: Any) -> int:
    """Sixteenths a bar, from the file's first time signature (4/4 without one)."""
    sigs = pm.time_signature_changes
    return round(sigs[0].numerator * 16 / sigs[0].denominator) if sigs else 16


def key_of(pitches: list[int]) -> tuple[int, bool]:
    """Tonic pitch class and minor, by Krumhansl's estimate of the pitches."""
    from seqgen_music.augment import estimate_key

    if not pitches:
        return 0, False
    tonic, mode = estimate_key(np.array([[0.0, 1.0, p, 80] for p in pitches]))
    return tonic, mode == "minor"


def read_four_tracks(path: Path) -> tuple[Chorale | None, str | None]:
    """The file as a chorale, or None and why not (not four pitched tracks, unreadable)."""
    try:
        pm = load(path)
    except Exception as exc:  # noqa: BLE001 - a damaged file raises every kind of error
        first = (str(exc).strip().splitlines() or ["no detail"])[0][:120]
        return None, f"not a readable MIDI file ({type(exc).__name__}: {first})"
    tracks = [i for i in pm.instruments if not i.is_drum and i.notes]
    if len(tracks) != 4:
        return None, f"{len(tracks)} pitched tracks, not 4 voices"
    voices = sorted((quarter_rows(pm, t) for t in tracks),
                    key=lambda r: -np.mean([p for *_, p in r]))
    end = max(b for rows in voices for _, b, _ in rows)
    bar, frames = bar_of(pm), round(end / GRID)
    if not 0 < frames <= chorale.MAX_FRAMES or not 1 <= bar <= 32:
        return None, f"{frames} sixteenths in bars of {bar}: not a chorale's shape"
    tonic, minor = key_of([p for rows in voices for *_, p in rows])
    ch = chorale.empty(frames, bar, tonic, minor, path.stem)
    for v, rows in enumerate(voices):
        for a, b, p in sorted(rows):
            i, j = round(a / GRID), min(round(b / GRID), frames)
            if j > i:
                ch.pitch[i:j, v], ch.attack[i, v] = p, True
    return ch, None
