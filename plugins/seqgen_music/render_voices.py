"""Four-voice output: a :class:`Chorale` as a score of four named parts, a MIDI file of four
tracks, a piano roll coloured by voice, and audio.

render.py hands any Chorale here (the ``voices`` encoding's samples); everything else it renders
itself. The score is notated on the chorale's own grid: bar lines every ``bar`` sixteenths from
the first frame's place in its bar (a pickup bar where that is not 0), a note crossing a bar line
tied over it, a fermata on the soprano's note and on the notes the other voices sound with it.
"""

from __future__ import annotations

import bisect
import dataclasses
from pathlib import Path
from typing import Any

import numpy as np

from seqgen.errors import SeqgenError
from seqgen_music.chorale import GRID, REST, VELOCITY, VOICES, Chorale, empty
from seqgen_music.encoding import Piece, note_array

#: music21 clefs by voice: the tenor sings an octave below the treble clef, as Bach's scores
#: in modern editions write it
CLEFS = ("TrebleClef", "TrebleClef", "Treble8vbClef", "BassClef")
#: General MIDI 53, Choir Aahs: sung voices that sustain their long notes (a piano's decay
#: blurs which chorale notes are held and which are struck again)
PROGRAM = 52
TICKS_PER_SIXTEENTH = 120  # 480 a quarter, as midi.py writes
#: the piano roll's colour per voice (matplotlib's tab10: told apart by most colour-blind eyes)
COLOURS = ("#d62728", "#ff7f0e", "#2ca02c", "#1f77b4")

# (start frame, stop frame, MIDI pitch or REST): a voice's notes and the rests between them
Event = tuple[int, int, int]


def to_piece(ch: Chorale, qpm: float) -> Piece:
    """The four voices' notes in seconds (a sixteenth lasts 15 / qpm s), for the piano renderers
    and the synthesizer."""
    return Piece(note_array(dataclasses.replace(ch, qpm=qpm).notes), ch.name)


def meter(bar: int) -> str:
    """The time signature of a bar of ``bar`` sixteenths."""
    common = {16: "4/4", 12: "3/4", 24: "3/2", 8: "2/4"}
    if bar in common:
        return common[bar]
    return f"{bar // 4}/4" if bar % 4 == 0 else f"{bar}/16"


def bar_lines(ch: Chorale) -> list[int]:
    """Frames where bars begin, with the end: 0, then every ``bar`` frames from the first frame
    whose place in the bar is 0. A regular grid rather than every pos == 0: a score holds whole
    bars of its time signature, and a sampled POS that drifts cannot change the metre."""
    bar = max(ch.bar, 1)
    first = (bar - int(ch.pos[0]) % bar) % bar if ch.frames else 0
    return [0, *range(first or bar, ch.frames, bar), ch.frames]  # `or`: no pickup of 0 frames


def events(ch: Chorale, v: int) -> list[Event]:
    """Voice v's notes and the rests between them, covering every frame."""
    out: list[Event] = []
    now = 0
    for s, n, p in ch.line(v):
        if s > now:
            out.append((now, s, REST))
        out.append((s, s + n, p))
        now = s + n
    if now < ch.frames:
        out.append((now, ch.frames, REST))
    return out


def fermata_frames(ch: Chorale) -> set[int]:
    """Frames where a soprano note under a fermata starts: the other voices hold theirs too."""
    return {s for s, _, _ in ch.line(0) if ch.fermata[s]}


# ---- MusicXML -----------------------------------------------------------------------------
def _values(m21: Any, a: int, b: int) -> list[tuple[int, int]]:
    """Frames a..b cut into notatable values (5 sixteenths: a quarter and a sixteenth), so that
    the ties and the fermata are placed here rather than by music21's writer (which puts a
    fermata on the last piece, where reading the score back loses it)."""
    out = []
    for c in m21.duration.Duration((b - a) * GRID).components:
        n = round(c.quarterLength / GRID)
        out.append((a, a + n))
        a += n
    return out


SHARPS = ("C", "C#", "D", "D#", "E", "F", "F#", "G", "G#", "A", "A#", "B")
FLATS = ("C", "D-", "D", "E-", "E", "F", "G-", "G", "A-", "A", "B-", "B")


def spelling(m21: Any, ch: Chorale) -> list[str]:
    """A name for each pitch class in the chorale's key: the scale's own (F sharp, not G flat,
    in D major), else sharps in sharp and minor keys (raised leading notes), flats in flat major
    keys. music21's Note(midi) spells every black key as a sharp and writes a natural sign on
    every white one (a page of redundant naturals in MuseScore)."""
    key = m21.key.Key(ch.key_name)
    own = {p.pitchClass: p.name for p in key.pitches}
    other = FLATS if key.sharps < 0 and not ch.minor else SHARPS
    return [own.get(pc, other[pc]) for pc in range(12)]


def _element(m21: Any, pitch: int, frames: int, names: list[str]) -> Any:
    ql = frames * GRID
    if pitch == REST:
        return m21.note.Rest(quarterLength=ql)
    p = m21.pitch.Pitch(names[pitch % 12])
    p.octave = 4
    p.octave += (pitch - p.midi) // 12  # the same pitch class: a whole number of octaves
    n = m21.note.Note(p, quarterLength=ql)
    n.volume.velocity = VELOCITY
    return n


def _notate(m21: Any, voice: list[Event], lines: list[int], fermatas: set[int],
            names: list[str]) -> list[list[tuple[int, Any]]]:
    """Per bar, its (frame, note or rest): each event cut at the bar lines and into notatable
    values, its pieces tied; a fermata on the piece sounding when a soprano fermata starts."""
    bars: list[list[tuple[int, Any]]] = [[] for _ in lines[1:]]
    for s, e, p in voice:
        cuts = [s, *(x for x in lines if s < x < e), e]
        pieces = [v for a, b in zip(cuts, cuts[1:], strict=False) for v in _values(m21, a, b)]
        held = sorted(f for f in fermatas if s <= f < e)[:1]  # one fermata a note
        for k, (a, b) in enumerate(pieces):
            el = _element(m21, p, b - a, names)
            if p != REST and len(pieces) > 1:
                el.tie = m21.tie.Tie("start" if k == 0 else
                                     "stop" if k == len(pieces) - 1 else "continue")
            if p != REST and held and a <= held[0] < b:
                el.expressions.append(m21.expressions.Fermata())
            bars[bisect.bisect_right(lines, a) - 1].append((a, el))
    return bars


def _part(m21: Any, ch: Chorale, v: int, lines: list[int], qpm: float) -> Any:
    part = m21.stream.Part()
    part.partName, part.partAbbreviation = VOICES[v], VOICES[v][0]
    part.id = VOICES[v]
    bars = _notate(m21, events(ch, v), lines, fermata_frames(ch), spelling(m21, ch))
    lead = int(ch.pos[0]) % ch.bar if ch.bar > 0 else 0  # sixteenths of the bar before frame 0
    for i, (a, b) in enumerate(zip(lines, lines[1:], strict=False)):
        m = m21.stream.Measure(number=i + (not lead))
        if i == 0:
            _first_measure(m21, m, ch, v, qpm)
            if lead:  # a pickup: MusicXML's implicit measure, numbered 0
                m.paddingLeft = lead * GRID
                m.showNumber = m21.stream.enums.ShowNumber.NEVER
        short = ch.bar - (b - a) - (lead if i == 0 else 0)
        if i == len(lines) - 2 and short > 0:  # a last bar cut short (music21 would fill it
            m.paddingRight = short * GRID  # with rests to the time signature)
        for f, el in bars[i]:
            m.insert((f - a) * GRID, el)
        part.append(m)
    return part


def _first_measure(m21: Any, m: Any, ch: Chorale, v: int, qpm: float) -> None:
    m.insert(0, getattr(m21.clef, CLEFS[v])())
    m.insert(0, m21.key.Key(ch.key_name))
    m.insert(0, m21.meter.TimeSignature(meter(ch.bar)))
    if v == 0:  # the tempo once, above the top staff
        m.insert(0, m21.tempo.MetronomeMark(number=round(qpm, 2)))


def score(ch: Chorale, qpm: float) -> Any:
    """The chorale as a music21 Score of four parts in measures. The measures are built here, not
    by music21's makeMeasures and makeTies: those know no pickup (makeTies measures every bar
    by the time signature from its start), so a chorale's first beat would land on a bar line."""
    from seqgen_music.scores import music21

    m21 = music21()
    if not ch.frames:  # an empty sample: a bar of rests, a score MuseScore still opens
        ch = empty(max(ch.bar, 1), ch.bar, ch.tonic, ch.minor, ch.name)
    sc = m21.stream.Score()
    # a composer, or music21 signs the page "Music21"
    sc.insert(0, m21.metadata.Metadata(title=ch.name or "seqgen sample", composer="seqgen"))
    lines = bar_lines(ch)
    for v in range(4):
        sc.insert(0, _part(m21, ch, v, lines, qpm))
    return sc


def write_musicxml(ch: Chorale, path: Path, qpm: float = 100.0) -> None:
    """A four-part score: Soprano, Alto, Tenor, Bass, in the key and metre of the chorale."""
    try:
        sc = score(ch, qpm)
        sc.makeNotation(inPlace=True)
        sc.write("musicxml", fp=str(path))
    except SeqgenError:
        raise
    except Exception as exc:  # noqa: BLE001 - music21 notation can fail on odd rhythms
        raise SeqgenError(f"{path.name}: music21 could not notate this sample "
                          f"({type(exc).__name__}: {exc}); render .mid instead") from None


# ---- MIDI ---------------------------------------------------------------------------------
def mido_key(ch: Chorale) -> str:
    """The key as a MIDI key signature names it: 'F#m', 'Eb', ..."""
    name = ch.key_name.replace("-", "b")
    return name[0].upper() + name[1:] + ("m" if ch.minor else "")


def _voice_track(mido: Any, ch: Chorale, v: int) -> Any:
    track = mido.MidiTrack()
    track.append(mido.MetaMessage("track_name", name=VOICES[v], time=0))
    track.append(mido.Message("program_change", channel=v, program=PROGRAM, time=0))
    timed = []  # tick, 0 off / 1 on, pitch: offs first, so a repeated pitch ends then starts
    for s, n, p in ch.line(v):
        timed += [(s * TICKS_PER_SIXTEENTH, 1, p), ((s + n) * TICKS_PER_SIXTEENTH, 0, p)]
    last = 0
    for tick, on, p in sorted(timed):
        kind = "note_on" if on else "note_off"
        track.append(mido.Message(kind, channel=v, note=p, velocity=VELOCITY if on else 64,
                                  time=tick - last))
        last = tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


def write_mid(ch: Chorale, path: Path, qpm: float = 100.0) -> None:
    """A type 1 MIDI file: a tempo track (tempo, metre, key), then one track per voice on
    channels 1-4. A pickup is not padded: the first note sounds at time 0, as in the WAV."""
    from seqgen_music.midi import TICKS_PER_BEAT, _mido

    mido = _mido()
    mid = mido.MidiFile(type=1, ticks_per_beat=TICKS_PER_BEAT)
    num, den = (int(x) for x in meter(ch.bar).split("/"))
    meta = mido.MidiTrack()
    meta.append(mido.MetaMessage("track_name", name=ch.name or "seqgen", time=0))
    meta.append(mido.MetaMessage("set_tempo", tempo=mido.bpm2tempo(qpm), time=0))
    meta.append(mido.MetaMessage("time_signature", numerator=num, denominator=den, time=0))
    meta.append(mido.MetaMessage("key_signature", key=mido_key(ch), time=0))
    meta.append(mido.MetaMessage("end_of_track", time=0))
    mid.tracks += [meta, *(_voice_track(mido, ch, v) for v in range(4))]
    mid.save(str(path))


# ---- piano roll ---------------------------------------------------------------------------
def _draw_voices(ax: Any, ch: Chorale) -> None:
    from matplotlib.collections import PolyCollection

    for v in range(4):
        boxes = [[(s, p - 0.4), (s + n, p - 0.4), (s + n, p + 0.4), (s, p + 0.4)]
                 for s, n, p in ch.line(v)]
        ax.add_collection(PolyCollection(boxes, facecolors=COLOURS[v], edgecolors="black",
                                         linewidths=0.3, label=VOICES[v][0], zorder=2))


def _draw_grid(ax: Any, ch: Chorale, lo: int, hi: int) -> None:
    """Bar lines where the chorale's frames say a bar begins (pos == 0), numbered from the first
    full bar; C lines; a light band over each fermata."""
    downbeats = np.flatnonzero(ch.pos == 0)
    for f in downbeats:
        ax.axvline(f, color="0.6", linewidth=0.6, zorder=1)
    step = max(1, len(downbeats) // 24)  # at most ~24 labels
    ax.set_xticks(downbeats[::step], [str(i + 1) for i in range(0, len(downbeats), step)])
    for c in range(0, 128, 12):
        if lo <= c <= hi:
            ax.axhline(c - 0.5, color="0.9", linewidth=0.5, zorder=0)
    held = np.flatnonzero(np.diff(np.concatenate([[0], ch.fermata.astype(int), [0]])))
    for a, b in zip(held[::2], held[1::2], strict=True):
        ax.axvspan(a, b, color="#fff3b0", zorder=0, label="fermata" if a == held[0] else None)


def write_png(ch: Chorale, path: Path, size: tuple[int, int] = (1200, 480),
              dpi: int = 100) -> None:
    """A piano roll of ``size`` pixels, one colour a voice, time in bars."""
    from seqgen.engine.plot import pyplot

    plt = pyplot()
    ROLL_SIZE, ROLL_DPI = size, dpi  # noqa: N806 - render.py's names for them
    fig = plt.figure(figsize=(ROLL_SIZE[0] / ROLL_DPI, ROLL_SIZE[1] / ROLL_DPI), dpi=ROLL_DPI)
    ax = fig.add_axes((0.07, 0.12, 0.91, 0.8))
    sung = ch.pitch[ch.pitch >= 0]
    lo, hi = (int(sung.min()) - 2, int(sung.max()) + 2) if len(sung) else (58, 62)
    _draw_voices(ax, ch)
    _draw_grid(ax, ch, lo, hi)
    ax.set_xlim(0, max(ch.frames, 1))
    ax.set_ylim(lo, hi)
    cs = [c for c in range(0, 128, 12) if lo <= c <= hi]
    ax.set_yticks(cs, [f"C{c // 12 - 1}" for c in cs])
    if not len(sung):
        ax.text(0.5, 0.5, "no notes", ha="center", va="center", transform=ax.transAxes)
    # above the roll, right of the title: inside it would hide the soprano's top notes
    ax.legend(loc="lower right", bbox_to_anchor=(1.0, 1.0), fontsize=7, ncols=5, frameon=False)
    ax.set_xlabel("bar")
    count = sum(len(ch.line(v)) for v in range(4))
    ax.set_title(f"{ch.name or 'sample'}: {ch.key_name} {meter(ch.bar)}, "
                 f"{ch.frames / max(ch.bar, 1):.1f} bars, {count} notes", fontsize=9)
    fig.savefig(path, format="png", dpi=ROLL_DPI)
    plt.close(fig)
