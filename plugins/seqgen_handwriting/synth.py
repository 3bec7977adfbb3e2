"""The embedded default corpus: synthetic cursive handwriting drawn with the Hershey fonts.

The lines of text are what people type, wrapped as a page wraps it (texts.py: prose, names,
numbers, dates, addresses, capitals; up to 75 characters). Each writer writes in one of the
Hershey script stroke faces (Hershey-Fonts on PyPI, MIT; ``cursive`` and ``scripts`` in turn):
letters are joined into cursive strokes, the line is
varied (slant, width, size, baseline drift, letter and word spacing, smooth pen jitter) around
one of several "writers" (parameter sets), smoothed and resampled along its arc length at a
writer-specific pen speed (slower in curves) to about 26 to 36 points per letter, as in
IAM-OnDB. Everything is seeded: the same parameters give the same corpus, byte for byte.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass
from functools import lru_cache
from pathlib import Path

import numpy as np

from seqgen_handwriting.ink import Ink, from_polylines
from seqgen_handwriting.texts import make_texts

GENERATOR_VERSION = 2
#: the Hershey script faces the writers write in, in turn: cursive (joined) and script simplex
FACES = ("cursive", "scripts")

@dataclass(frozen=True)
class Writer:
    """One synthetic writer: the means around which every line it writes is varied."""

    slant: float      # shear: x += slant * y
    width: float      # horizontal stretch
    size: float       # overall scale
    spacing: float    # extra space between letters (font units)
    word_gap: float   # space between words, in widths of the font's space
    jitter: float     # amplitude of the smooth pen noise (font units)
    drift: float      # amplitude of the baseline drift (font units)
    density: float    # points per letter
    curve_slow: float  # how much the pen slows down in curves (point density there)
    face: str = FACES[0]  # the Hershey script face of the letters


def make_writers(n: int, seed: int = 0) -> list[Writer]:
    """n distinct writers: each trait is spread evenly over its range, shuffled across writers,
    so that no two writers share a slant or a width."""
    rng = np.random.default_rng([seed, 7919])

    def spread(lo: float, hi: float) -> np.ndarray:
        grid = (np.arange(n) + rng.uniform(0.3, 0.7, n)) / n
        return lo + (hi - lo) * rng.permutation(grid)

    traits = [spread(-0.2, 0.5), spread(0.8, 1.3), spread(0.8, 1.25), spread(-0.5, 4.0),
              spread(0.7, 1.5), spread(0.05, 0.35), spread(0.0, 2.0), spread(27.0, 36.0),
              spread(0.3, 2.0)]
    names = ("slant", "width", "size", "spacing", "word_gap", "jitter", "drift", "density",
             "curve_slow")
    return [Writer(**{a: float(t[k]) for a, t in zip(names, traits, strict=True)},
                   face=FACES[k % len(FACES)]) for k in range(n)]


@lru_cache(maxsize=len(FACES))
def _glyphs(face: str = FACES[0]) -> dict[str, tuple[float, list[tuple[np.ndarray, float]]]]:
    """char -> (advance width, [(stroke points with y up, stroke length)]) in one face."""
    from HersheyFonts import HersheyFonts

    font = HersheyFonts()
    font.load_default_font(face)
    table = {}
    for ch, g in font.all_glyphs.items():
        strokes = []
        for s in g.strokes:
            pts = np.array(s, dtype=np.float64) * [1.0, -1.0] - [g.left_offset, 0.0]
            strokes.append((pts, float(np.hypot(*np.diff(pts, axis=0).T).sum())))
        table[ch] = (float(g.char_width), strokes)
    return table


def alphabet() -> str:
    """The characters the synthetic writers can write (in every face)."""
    common = set.intersection(*(set(_glyphs(f)) for f in FACES))
    return "".join(sorted(c for c in common if c.isprintable()))


def _layout(text: str, w: Writer, rng: np.random.Generator) -> list[np.ndarray]:
    """Glyph strokes placed along a line (y up), joined into cursive strokes."""
    glyphs = _glyphs(w.face)
    strokes: list[np.ndarray] = []
    x_font = x_extra = x_extra_prev = 0.0
    prev: str | None = None
    spacing = w.spacing + rng.normal(0, 0.6)
    jitters = rng.normal(0, 0.4, size=len(text))
    gaps = rng.uniform(0.8, 1.25, size=len(text))
    for i, ch in enumerate(text):
        if ch not in glyphs:
            continue
        advance, glyph = glyphs[ch]
        if ch == " ":
            x_extra += (w.word_gap * gaps[i] - 1.0) * advance
            x_font += advance
            prev = None
            continue
        for k, (pts, length) in enumerate(glyph):
            if strokes:
                end = strokes[-1][-1]
                gap = float(np.hypot(x_font + pts[0, 0] - end[0] + x_extra_prev,
                                     pts[0, 1] - end[1]))
                cursive = (k == 0 and prev is not None and prev.isalpha() and ch.isalpha()
                           and gap < 12.0 and length > 4.0)
                if gap < 0.5 or cursive:
                    moved = pts[1:] if gap < 0.5 else pts
                    strokes[-1] = np.concatenate([strokes[-1], moved + [x_font + x_extra, 0.0]])
                    x_extra_prev = x_extra
                    continue
            strokes.append(pts + [x_font + x_extra, 0.0])
            x_extra_prev = x_extra
        x_font += advance
        x_extra += spacing + jitters[i]
        prev = ch
    return strokes


def _chaikin(p: np.ndarray, sid: np.ndarray, rounds: int = 2) -> tuple[np.ndarray, np.ndarray]:
    """Chaikin corner cutting of every stroke at once (``sid``: stroke id per point)."""
    for _ in range(rounds):
        n = len(p)
        first = np.flatnonzero(np.r_[True, sid[1:] != sid[:-1]])
        last = np.r_[first[1:] - 1, n - 1]
        pair = np.flatnonzero(sid[1:] == sid[:-1])
        q = 0.75 * p[pair] + 0.25 * p[pair + 1]
        r = 0.25 * p[pair] + 0.75 * p[pair + 1]
        is_end = np.zeros((2, n), bool)
        is_end[0, first] = is_end[1, last] = True
        keep_q = ~is_end[0, pair]  # a stroke's first q and last r give way to its ends
        keep_r = ~is_end[1, pair + 1]
        single = last == first
        keys = np.concatenate([first - 0.4, pair[keep_q] + 0.25, pair[keep_r] + 0.75,
                               last[~single] + 0.4])
        pts = np.concatenate([p[first], q[keep_q], r[keep_r], p[last[~single]]])
        ids = np.concatenate([sid[first], sid[pair[keep_q]], sid[pair[keep_r]],
                              sid[last[~single]]])
        order = np.argsort(keys, kind="stable")
        p, sid = pts[order], ids[order]
    return p, sid


def _smooth_noise(n: int, rng: np.random.Generator, width: float = 6.0) -> np.ndarray:
    k = np.exp(-0.5 * (np.arange(-3 * width, 3 * width + 1) / width) ** 2)
    k /= np.sqrt((k ** 2).sum())
    noise = rng.normal(size=(n + len(k) - 1, 2))
    return np.stack([np.convolve(noise[:, i], k, mode="valid") for i in range(2)], axis=1)


def _resample(p: np.ndarray, sid: np.ndarray, step: float,
              slow: float) -> tuple[np.ndarray, np.ndarray]:
    """Points along every stroke at equal pen *time*: the pen is slower where it turns."""
    d = np.diff(p, axis=0)
    seg = np.hypot(d[:, 0], d[:, 1])
    inside = sid[1:] == sid[:-1]
    ang = np.arctan2(d[:, 1], d[:, 0])
    turn = np.r_[0.0, np.abs(np.angle(np.exp(1j * np.diff(ang))))]
    turn[~inside] = 0.0
    turn[np.r_[False, ~inside[:-1]]] = 0.0
    turn = np.convolve(turn, np.ones(5) / 5, mode="full")[2:2 + len(turn)]
    dt = np.where(inside, seg * (1.0 + slow * np.minimum(turn / np.maximum(seg, 1e-6), 2.0)), 1.0)
    t = np.r_[0.0, np.cumsum(dt)]
    first = np.flatnonzero(np.r_[True, ~inside])
    last = np.r_[first[1:] - 1, len(p) - 1]
    t0, t1 = t[first], t[last]
    counts = np.maximum(2, np.round((t1 - t0) / step).astype(np.int64) + 1)
    counts[first == last] = 1
    out_sid = np.repeat(np.arange(len(first)), counts)
    start = np.repeat(np.cumsum(counts) - counts, counts)
    frac = (np.arange(counts.sum()) - start) / np.maximum(np.repeat(counts, counts) - 1, 1)
    ts = t0[out_sid] + frac * (t1 - t0)[out_sid]
    return np.stack([np.interp(ts, t, p[:, 0]), np.interp(ts, t, p[:, 1])], axis=1), out_sid


def write_line(text: str, w: Writer, rng: np.random.Generator) -> list[np.ndarray]:
    """One line of text as absolute polylines (y up), varied around writer w."""
    strokes = _layout(text, w, rng)
    if not strokes:
        return []
    slant = w.slant + rng.normal(0, 0.04)
    width = w.width * rng.uniform(0.94, 1.06)
    size = w.size * rng.uniform(0.9, 1.1)
    period, phase = rng.uniform(150, 400), rng.uniform(0, 2 * np.pi)
    drift = w.drift * rng.uniform(0.5, 1.5)
    tilt = rng.normal(0, 0.01)
    p = np.concatenate(strokes)
    sid = np.repeat(np.arange(len(strokes)), [len(s) for s in strokes])
    p, sid = _chaikin(p, sid)
    glyphs = _glyphs(w.face)
    letters = max(1, sum(1 for c in text if c != " " and c in glyphs))
    seg = np.hypot(*np.diff(p, axis=0).T)[sid[1:] == sid[:-1]]
    step = float(seg.sum()) * (1.0 + 0.3 * w.curve_slow) / (
        letters * w.density * rng.uniform(0.93, 1.07))
    p, sid = _resample(p, sid, step, w.curve_slow)
    p = p + w.jitter * _smooth_noise(len(p), rng)
    x, y = p[:, 0] * width, p[:, 1]
    y = y + drift * np.sin(2 * np.pi * x / period + phase) + tilt * x
    p = np.stack([x + slant * y, y], axis=1) * size
    return np.split(p, np.flatnonzero(np.diff(sid)) + 1)


def params_key(lines: int, writers: int, max_chars: int, seed: int) -> str:
    spec = {"version": GENERATOR_VERSION, "faces": FACES, "lines": lines, "writers": writers,
            "max_chars": max_chars, "seed": seed}
    return hashlib.sha256(json.dumps(spec, sort_keys=True).encode()).hexdigest()


def generate(lines: int = 12000, writers: int = 8, max_chars: int = 75,
             seed: int = 0) -> list[Ink]:
    """The synthetic corpus: line i is written by writer i % writers."""
    from seqgen.engine.status import counted

    people = make_writers(writers, seed)
    texts = make_texts(lines, seed, max_chars)
    docs = []
    what = "writing the synthetic handwriting corpus (first use; cached after)"
    for i, text in enumerate(counted(texts, what, unit="lines", at_once=lines >= 500)):
        rng = np.random.default_rng([seed, i])
        who = i % len(people)
        docs.append(Ink(from_polylines(write_line(text, people[who], rng)), text, who))
    return docs


def load_or_generate(cache: Path, lines: int, writers: int, max_chars: int,
                     seed: int = 0) -> tuple[list[Ink], str]:
    """The corpus from the cache (``cache/<key>.npz``), generating and caching it if needed."""
    from seqgen.engine.files import cached_npz

    key = params_key(lines, writers, max_chars, seed)

    def to_arrays(docs: list[Ink]) -> dict[str, np.ndarray]:
        meta = {"key": key, "texts": [d.text for d in docs],
                "writers": [asdict(w) for w in make_writers(writers, seed)]}
        return {"strokes": np.concatenate([d.strokes for d in docs]),
                "offsets": np.concatenate([[0], np.cumsum([len(d) for d in docs])]),
                "writers": np.array([d.writer for d in docs], np.int64),
                "meta": np.frombuffer(json.dumps(meta).encode("utf-8"), np.uint8)}

    def from_arrays(z: dict[str, np.ndarray]) -> list[Ink] | None:
        meta = json.loads(bytes(z["meta"]).decode("utf-8"))
        if meta["key"] != key:  # the file name holds only the key's first 16 digits
            return None
        parts = np.split(z["strokes"], z["offsets"][1:-1])
        return [Ink(p, t, int(w)) for p, t, w in
                zip(parts, meta["texts"], z["writers"], strict=True)]

    docs = cached_npz(cache / f"synthetic-{key[:16]}.npz",
                      lambda: generate(lines, writers, max_chars, seed), to_arrays, from_arrays)
    return docs, key
