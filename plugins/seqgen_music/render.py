"""Renderers: MIDI (default), MusicXML, a PNG piano roll and WAV audio.

The WAV renderer synthesises in numpy (additive harmonics, piano-like envelopes; no system
packages). With ``$SEQGEN_SOUNDFONT`` naming a .sf2 file and the ``fluidsynth`` program on the
PATH it renders through FluidSynth instead.
"""

from __future__ import annotations

import functools
import os
import shutil
import subprocess
import tempfile
import wave
from pathlib import Path

import numpy as np

from seqgen.domain import Renderer
from seqgen.errors import SeqgenError
from seqgen_music.chorale import Chorale
from seqgen_music.encoding import Piece
from seqgen_music.midi import write_midi

SAMPLE_RATE = 22050
RELEASE = 0.25  # seconds a note rings after its end
ROLL_SIZE = (1200, 480)  # piano roll pixels
ROLL_DPI = 100


def renderers(qpm: float) -> dict[str, Renderer]:
    """Each with an independent reader (``read``) that the conformance kit runs on the file."""
    return {
        ".mid": Renderer(".mid", functools.partial(write_mid, qpm=qpm),
                         "standard MIDI file: a track per voice for voices, else piano (or "
                         "drums on channel 10)", read=read_mid),
        ".musicxml": Renderer(".musicxml", functools.partial(write_musicxml, qpm=qpm),
                              "MusicXML score (four named parts for voices, else piano staves; "
                              "16th-note grid; music21)", read=read_musicxml),
        ".png": Renderer(".png", write_png, "piano roll image (coloured by voice for voices)",
                         read=read_png),
        ".wav": Renderer(".wav", functools.partial(write_wav, qpm=qpm),
                         "audio: built-in synthesizer, or FluidSynth with $SEQGEN_SOUNDFONT",
                         read=read_wav),
    }


# ---- independent readers (pretty_midi, music21, Pillow, the stdlib) -----------------------
def read_mid(path: Path) -> list[tuple[float, float, int, int]]:
    """The notes as pretty_midi reads them: (start, end, pitch, velocity)."""
    import pretty_midi

    pm = pretty_midi.PrettyMIDI(str(path))
    return sorted((n.start, n.end, n.pitch, n.velocity) for i in pm.instruments for n in i.notes)


def read_musicxml(path: Path) -> list[int]:
    """The MIDI pitches of every note and chord in the score, as music21 parses it."""
    from seqgen_music.scores import music21

    score = music21().converter.parse(str(path), format="musicxml")
    return [p.midi for el in score.flatten().notes for p in el.pitches]


def read_png(path: Path) -> tuple[int, int]:
    """The image size, as Pillow decodes it."""
    from PIL import Image

    with Image.open(path) as im:
        im.load()
        return im.size


def read_wav(path: Path) -> tuple[np.ndarray, int]:
    """Mono float samples and the rate, as the stdlib wave module reads them."""
    with wave.open(str(path), "rb") as w:
        rate, width, channels = w.getframerate(), w.getsampwidth(), w.getnchannels()
        raw = w.readframes(w.getnframes())
    if width != 2:
        raise ValueError(f"{path}: {8 * width}-bit audio, expected 16")
    pcm = np.frombuffer(raw, dtype="<i2").reshape(-1, channels).mean(1) / 32768.0
    return pcm, rate


# Each writer hands a Chorale (the voices encoding's sample) to render_voices, imported only
# then: it is the larger module, and most runs render Pieces.
def write_mid(piece: Piece | Chorale, path: Path, qpm: float = 100.0) -> None:
    if isinstance(piece, Chorale):
        from seqgen_music import render_voices

        return render_voices.write_mid(piece, path, qpm)
    write_midi(piece.notes, path, qpm=qpm, drums=piece.drums, name=piece.name or "seqgen")


# ---- MusicXML -----------------------------------------------------------------------------
def write_musicxml(piece: Piece | Chorale, path: Path, qpm: float = 100.0) -> None:
    """A piano score: treble staff (middle C and up) and bass staff, notes on a 16th grid,
    simultaneous notes chordified with ties as music21 notates them. A Chorale: four parts."""
    if isinstance(piece, Chorale):
        from seqgen_music import render_voices

        return render_voices.write_musicxml(piece, path, qpm)
    from seqgen_music.scores import music21

    m21 = music21()
    grid = 0.25  # quarter lengths
    ql_per_s = qpm / 60.0
    score = m21.stream.Score()
    score.insert(0, m21.metadata.Metadata(title=piece.name or "seqgen sample", composer="seqgen"))
    treble = piece.notes[:, 2] >= 60
    for name, mask, clef in (("Right hand", treble, m21.clef.TrebleClef()),
                             ("Left hand", ~treble, m21.clef.BassClef())):
        part = m21.stream.Part()
        part.partName = name
        part.insert(0, clef)
        part.insert(0, m21.meter.TimeSignature("4/4"))
        part.insert(0, m21.tempo.MetronomeMark(number=qpm))
        inner = m21.stream.Part()
        for start, end, pitch, vel in piece.notes[mask].tolist():
            a = round(start * ql_per_s / grid) * grid
            b = max(round(end * ql_per_s / grid) * grid, a + grid)
            n = m21.note.Note(int(pitch), quarterLength=b - a)
            n.volume.velocity = int(vel)
            inner.insert(a, n)
        if len(inner.notes):
            for el in inner.chordify().flatten().notesAndRests:
                part.insert(el.offset, el)
        else:
            part.insert(0, m21.note.Rest(quarterLength=4))
        score.insert(0, part)
    try:
        score.makeNotation(inPlace=True)
        score.write("musicxml", fp=str(path))
    except Exception as exc:  # noqa: BLE001 - music21 notation can fail on odd rhythms
        raise SeqgenError(f"{path.name}: music21 could not notate this sample "
                          f"({type(exc).__name__}: {exc}); render .mid instead") from None


# ---- piano roll ---------------------------------------------------------------------------
def write_png(piece: Piece | Chorale, path: Path) -> None:
    if isinstance(piece, Chorale):
        from seqgen_music import render_voices

        return render_voices.write_png(piece, path, ROLL_SIZE, ROLL_DPI)
    from seqgen.engine.plot import pyplot

    plt = pyplot()
    from matplotlib.collections import PolyCollection  # after pyplot(): the backend is set

    notes = piece.notes
    fig = plt.figure(figsize=(ROLL_SIZE[0] / ROLL_DPI, ROLL_SIZE[1] / ROLL_DPI), dpi=ROLL_DPI)
    ax = fig.add_axes((0.07, 0.12, 0.91, 0.8))
    if len(notes):
        boxes = [[(s, p - 0.4), (e, p - 0.4), (e, p + 0.4), (s, p + 0.4)]
                 for s, e, p, _ in notes.tolist()]
        coll = PolyCollection(boxes, array=notes[:, 3], cmap="viridis", clim=(1, 127),
                              edgecolors="black", linewidths=0.3)
        ax.add_collection(coll)
        lo, hi = notes[:, 2].min() - 2, notes[:, 2].max() + 2
        ax.set_xlim(0, max(piece.duration, 1.0))
        ax.set_ylim(lo, hi)
        cs = [c for c in range(0, 128, 12) if lo <= c <= hi]
        ax.set_yticks(cs, [f"C{c // 12 - 1}" for c in cs])
        for c in cs:
            ax.axhline(c - 0.5, color="0.85", linewidth=0.5, zorder=0)
    else:
        ax.text(0.5, 0.5, "no notes", ha="center", va="center", transform=ax.transAxes)
    ax.set_xlabel("seconds")
    ax.set_title(f"{piece.name or 'sample'}: {len(notes)} notes, {piece.duration:.1f} s",
                 fontsize=9)
    fig.savefig(path, format="png", dpi=ROLL_DPI)
    plt.close(fig)


# ---- audio --------------------------------------------------------------------------------
def synthesize(notes: np.ndarray, rate: int = SAMPLE_RATE) -> np.ndarray:
    """Mono float audio in [-1, 1]: each note a sum of decaying harmonics with an attack and a
    release, louder with velocity, mixed and normalised."""
    total = (notes[:, 1].max() if len(notes) else 0.0) + RELEASE
    out = np.zeros(int(np.ceil(total * rate)) + 1)
    for start, end, pitch, vel in notes.tolist():
        f0 = 440.0 * 2 ** ((pitch - 69) / 12)
        n = int((end - start + RELEASE) * rate)
        t = np.arange(n) / rate
        held = end - start
        env = np.minimum(t / 0.005, 1.0) * np.exp(-t * (1.5 + f0 / 500))  # attack, decay
        env *= np.clip((held + RELEASE - t) / RELEASE, 0.0, 1.0)  # release after the key
        wave_ = np.zeros(n)
        for k, amp in enumerate((1.0, 0.5, 0.3, 0.18, 0.1, 0.05), start=1):
            if f0 * k < rate / 2:
                wave_ += amp * np.exp(-t * k * 0.8) * np.sin(2 * np.pi * f0 * k * t)
        i = int(start * rate)
        out[i:i + n] += (vel / 127.0) * env * wave_[: len(out) - i]
    peak = np.abs(out).max()
    return out / peak * 0.89 if peak > 0 else out


def _write_pcm(audio: np.ndarray, path: Path, rate: int) -> None:
    pcm = (np.clip(audio, -1, 1) * 32767).astype("<i2")
    with wave.open(str(path), "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm.tobytes())


def write_wav(piece: Piece | Chorale, path: Path, qpm: float = 100.0) -> None:
    """``qpm`` times a Chorale's sixteenths; a Piece's notes are in seconds already."""
    if isinstance(piece, Chorale):
        from seqgen_music import render_voices

        piece = render_voices.to_piece(piece, qpm)
    soundfont = os.environ.get("SEQGEN_SOUNDFONT")
    if soundfont:
        _fluidsynth(piece, path, Path(soundfont))
        return
    _write_pcm(synthesize(piece.notes), path, SAMPLE_RATE)


def _fluidsynth(piece: Piece, path: Path, soundfont: Path) -> None:
    exe = shutil.which("fluidsynth")
    if exe is None or not soundfont.is_file():
        why = "fluidsynth is not on the PATH" if exe is None else f"{soundfont} is not a file"
        raise SeqgenError(f"$SEQGEN_SOUNDFONT is set, but {why} "
                          f"(unset it for the built-in synthesizer)")
    with tempfile.TemporaryDirectory() as tmp:
        mid = Path(tmp) / "in.mid"
        write_midi(piece.notes, mid, drums=piece.drums)
        done = subprocess.run([exe, "-ni", "-g", "0.8", "-F", str(path), "-T", "wav",
                               "-r", "44100", str(soundfont), str(mid)], capture_output=True,
                              text=True, timeout=600)
        if done.returncode != 0 or not path.exists() or path.stat().st_size == 0:
            raise SeqgenError(f"fluidsynth failed: {(done.stderr or done.stdout).strip()[:200]}")
