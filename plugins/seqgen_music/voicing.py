"""What the music domain does differently in the ``voices`` encoding (satb.py): its corpus,
statistics, lengths, primers; the rules that keep a sample in four singable voices are in
partrules.py."""

from __future__ import annotations

import re
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from seqgen import plugins
from seqgen.domain import Corpus, LengthRule, Prime, StopRule
from seqgen.errors import SeqgenError
from seqgen_music import chorale, fourpart, partrules, satb, scores
from seqgen_music.chorale import Chorale

#: a music21 work primes with its first bars (a file: whole)
PRIME_BARS = 4
#: the domain, typed loosely: this module is its helper, and imports it neither way round
MusicDomain = Any
#: a sample asked for S seconds holds its end token back before this share of S, then ends at
#: the first frame after a fermata, and at the latest at LATEST_END of S
HOLD_END, LATEST_END = 0.9, 1.15
#: a frame cap when no --length is given: the model ends its piece itself (the longest
#: chorale is about 900 sixteenths)
DEFAULT_FRAMES = 1200


def load_corpus(dom: MusicDomain, source: str | None) -> Corpus | None:
    """The source's four-part scores, or None (``auto``) where fewer than half its items are
    four-part scores: the event encoding reads it then."""
    label, (pieces, said), items = fourpart.load(source, int(dom.options.limit))
    if dom.options.encoding == "auto" and (not pieces or len(pieces) * 2 < items):
        return None
    if not pieces:
        first = f" ({said[0][0]}: {said[0][1]})" if said else ""
        raise SeqgenError(f"{label}: no score in four voices{first}; -o encoding=duration reads "
                          f"any music")
    dom.options.encoding = "voices"
    skipped = [s for s in said if not s[1].endswith("moved onto it")]
    if skipped:
        plugins.warn(f"{label}: {len(skipped)} of {items} scores not read in four voices, left "
                     f"out (the first: {skipped[0][0]}: {skipped[0][1]})")
    return fourpart.as_corpus(label, pieces, str(dom.options.transpose))


def fit(dom: MusicDomain, documents: Sequence[Any]) -> None:
    tokens = sum(len(encode(d)) + 1 for d in documents)
    seconds = sum(d.frames * 15.0 / float(dom.options.qpm) for d in documents)
    dom.events_per_second = tokens / seconds if seconds else 0.0


def encode(document: Any, relative: bool = False) -> np.ndarray:
    if not isinstance(document, Chorale):
        raise SeqgenError("the voices encoding takes four-part pieces (a Chorale), not "
                          f"{type(document).__name__}")
    return satb.encode(document, relative)


# ---- lengths ------------------------------------------------------------------------------
def _frames_of(length: str | None, qpm: float) -> tuple[int | None, str]:
    text = (length or "").strip().lower()
    if not text:
        return None, ""
    if m := re.fullmatch(r"(\d+(?:\.\d+)?)\s*s", text):
        return max(1, round(float(m.group(1)) * qpm / 15.0)), text
    if text.isdigit() and int(text) > 0:
        return max(1, int(text) // satb.FRAME), text
    raise SeqgenError(f"--length {length!r}: expected tokens (500) or seconds (30s)")


def length_rule(dom: MusicDomain, length: str | None,
                prime: Prime | None = None) -> tuple[int, StopRule | None]:
    """``30s``: seconds of music, ``500``: tokens (a fifth of them frames); the primer counts.
    Past 90 % of it the sample ends at its next cadence: a fermata on the tonic triad."""
    frames, text = _frames_of(length, float(dom.options.qpm))
    primed = 0
    if prime is not None and prime.steps is not None:
        steps = np.asarray(prime.steps)
        primed = int(satb.is_frame(steps).sum())
    if frames is not None and primed >= frames:
        raise SeqgenError(f"--prime {prime.source if prime else ''} is {primed} sixteenths, as "
                          f"long as --length {text} or longer: raise --length")
    want = (frames or DEFAULT_FRAMES) - primed
    cap = satb.HEADER + satb.FRAME * (int(want * LATEST_END) + 2)
    # what this sample asked, for the constraint rule asked next: close on the tonic at the
    # fermatas where the cadence rule below may end it
    dom.ending = partrules.Ending(fermatas=int(HOLD_END * (want + primed)) if frames else None)
    dom.title = "seqgen sample"  # a harmonization names its tune (encode_melody, next)
    steps = np.zeros(0, np.int64) if prime is None or prime.steps is None else prime.steps
    return cap, _cadence_rule(want + primed, frames is not None, np.asarray(steps, np.int64),
                              bool(dom.options.relative))


def _cadence_rule(want: int, held: bool, primed: np.ndarray, relative: bool) -> LengthRule:
    """Past HOLD_END of ``want`` frames (the primer's included) a row ends after a fermata on
    the key's tonic triad (an authentic cadence's resting chord), or with its own end token;
    at LATEST_END at the latest, between frames. The readers start from the primer's tokens."""
    rows: list[partrules.Reader] = []

    def reader() -> partrules.Reader:
        r = partrules.Reader(relative)
        for tok in primed.tolist():
            r.read(int(tok))
        return r

    def stop(tokens: np.ndarray) -> np.ndarray:
        if not rows:
            rows.extend(reader() for _ in range(len(tokens)))
        done = np.zeros(len(tokens), bool)
        for b, (row, tok) in enumerate(zip(rows, np.asarray(tokens).tolist(), strict=True)):
            row.read(int(tok))
            if row.t <= satb.HEADER or (row.t - satb.HEADER) % satb.FRAME != 1:
                continue  # decided at each frame's POS: the frame before is complete
            frames = (row.t - satb.HEADER) // satb.FRAME
            cadence = row.was_fermata and not row.fermata and row.tonic_chord(row.prev)
            done[b] = frames > want * LATEST_END or (held and cadence and
                                                     frames > want * HOLD_END)
        return done

    def hold() -> np.ndarray:
        if not held or not rows:
            return np.array([held])
        return np.array([(r.t - satb.HEADER) // satb.FRAME < want * HOLD_END for r in rows])

    return LengthRule(stop, hold)


# ---- rules and given tunes ----------------------------------------------------------------
def constraint_rule(dom: MusicDomain) -> Any:
    """The frames' grammar, and voice leading (with its ending, ``dom.ending``: set by the
    length rule and a given tune of the same sample) unless ``-o voice_leading=false``."""
    ending = getattr(dom, "ending", None)
    dom.ending = None  # one sample's: the next asks its length again
    return partrules.rule(bool(dom.options.voice_leading), bool(dom.options.relative), ending)


def encode_melody(dom: MusicDomain, source: str) -> np.ndarray:
    """The tune's given steps; the harmonization closes on the tonic under its last note."""
    from seqgen_music import melody

    given = melody.given(source, bool(dom.options.relative))
    dom.title = f"{Path(source).stem.replace('-', ' ').replace('_', ' ').title()}, harmonized"
    soprano = given[satb.HEADER + 1::satb.FRAME]  # (F,) each frame's soprano token
    struck = np.flatnonzero(soprano >= satb.PITCH0)
    final = int(struck[-1]) if len(struck) else None
    dom.ending = partrules.Ending(final=final)
    return given


# ---- primers ------------------------------------------------------------------------------
def read_four_parts(source: str, flag: str, bars: int | None = None) -> Chorale:
    """A score file or music21 work in four parts, as a chorale (its first ``bars`` bars)."""
    path = Path(source)
    if not path.is_file():
        work = scores.find_work(source)
        if work is None:
            raise SeqgenError(f"{flag} {source!r}: no such score file, nor a music21 work "
                              f"(for example bach/bwv66.6)")
        path = work
    ch, note = fourpart.read_item(fourpart.corpus.Item(str(path)))
    if ch is None:
        raise SeqgenError(f"{flag} {source}: {note}")
    if bars is not None:
        first = int(np.argmax(ch.pos == 0)) if (ch.pos == 0).any() else 0
        end = min(ch.frames, first + bars * ch.bar)
        ch = chorale.Chorale(ch.pitch[:end], ch.attack[:end], ch.fermata[:end], ch.pos[:end],
                             ch.bar, ch.tonic, ch.minor, ch.name)
    return ch


def encode_prime(dom: MusicDomain, prime: str) -> np.ndarray:
    """A four-part score (whole) or a music21 work such as ``bach/bwv66.6`` (its first four
    bars), in its own key."""
    bars = None if Path(prime).is_file() else PRIME_BARS
    return satb.encode(read_four_parts(prime, "--prime", bars), bool(dom.options.relative))
