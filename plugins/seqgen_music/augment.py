"""Transposition augmentation and key normalisation of pitched pieces."""

from __future__ import annotations

import hashlib
import re

import numpy as np

from seqgen.errors import SeqgenError
from seqgen_music.encoding import Piece

# Krumhansl-Kessler key profiles (major, minor), tonic first
MAJOR = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])


def parse_transpose(spec: str) -> list[int]:
    """``0`` -> [0]; ``3`` -> -3..3; ``-5..6`` -> -5..6 (semitones, each at most 12 away)."""
    text = str(spec).strip()
    m = re.fullmatch(r"(-?\d+)\s*\.\.\s*(-?\d+)", text)
    if m:
        lo, hi = int(m.group(1)), int(m.group(2))
    elif re.fullmatch(r"\d+", text):
        lo, hi = -int(text), int(text)
    else:
        raise SeqgenError(f"option transpose={spec!r}: expected N (meaning -N..N semitones) "
                          f"or LOW..HIGH, for example 3 or -5..6")
    if lo > hi or lo < -12 or hi > 12 or not lo <= 0 <= hi:
        raise SeqgenError(f"option transpose={spec!r}: need LOW <= 0 <= HIGH within -12..12")
    return list(range(lo, hi + 1))


def pitch_class_histogram(notes: np.ndarray) -> np.ndarray:
    """Duration-weighted pitch-class histogram (12,), summing to 1 (zeros for no notes)."""
    hist = np.zeros(12)
    if len(notes):
        np.add.at(hist, notes[:, 2].astype(np.int64) % 12, notes[:, 1] - notes[:, 0])
    total = hist.sum()
    return hist / total if total > 0 else hist


def estimate_key(notes: np.ndarray) -> tuple[int, str]:
    """Tonic pitch class and mode by the Krumhansl-Schmuckler correlation."""
    hist = pitch_class_histogram(notes)
    best = (-2.0, 0, "major")
    for mode, profile in (("major", MAJOR), ("minor", MINOR)):
        for tonic in range(12):
            r = float(np.corrcoef(hist, np.roll(profile, tonic))[0, 1]) if hist.any() else 0.0
            if r > best[0]:
                best = (r, tonic, mode)
    return best[1], best[2]


def _shift(notes: np.ndarray, semitones: int) -> np.ndarray | None:
    out = notes.copy()
    out[:, 2] += semitones
    if len(out) and (out[:, 2].min() < 0 or out[:, 2].max() > 127):
        return None
    return out


def normalise_key(piece: Piece) -> Piece:
    """Transpose to C major or A minor by the nearest way (-6..5 semitones)."""
    if piece.drums or not len(piece.notes):
        return piece
    tonic, mode = estimate_key(piece.notes)
    target = 0 if mode == "major" else 9
    k = (target - tonic + 6) % 12 - 6
    shifted = _shift(piece.notes, k) if k else piece.notes
    if shifted is None:
        shifted = _shift(piece.notes, k + 12 if k < 0 else k - 12)
    return Piece(shifted, piece.name, piece.drums) if shifted is not None else piece


def transpose_all(pieces: list[Piece], shifts: list[int]) -> list[Piece]:
    """Every piece in every transposition, a piece's copies next to each other (so that the
    held-out tail of the stream holds whole pieces, not transpositions of training pieces).
    A copy that would leave the MIDI range is left out; percussion is never transposed."""
    if shifts == [0]:
        return pieces
    out: list[Piece] = []
    for piece in pieces:
        for k in shifts if not piece.drums else [0]:
            notes = _shift(piece.notes, k) if k else piece.notes
            if notes is not None:
                out.append(Piece(notes, piece.name + (f"{k:+d}" if k else ""), piece.drums))
    return out


def content_key(pieces: list[Piece]) -> str:
    """A digest of the notes themselves: it changes whenever the music does."""
    h = hashlib.sha256()
    for p in pieces:
        h.update(f"{p.name}\0{p.drums}\0{len(p.notes)}\0".encode())
        h.update(np.ascontiguousarray(p.notes, dtype=np.float64).tobytes())
    return h.hexdigest()
