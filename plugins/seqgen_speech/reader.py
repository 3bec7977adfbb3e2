"""Reading recordings: a directory of WAV/FLAC/OGG, with an optional LJSpeech metadata.csv.

``metadata.csv`` lines are ``id|text|normalized text`` (the normalized text is used when
present); ``id`` names ``wavs/id.wav`` (the LJSpeech layout) or ``id.wav`` beside the file
(any of the audio suffixes). Features are cached per directory listing under
``cache_dir() / "speech"``.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from seqgen.engine.files import discover
from seqgen.engine.status import counted
from seqgen.errors import SeqgenError
from seqgen_speech.features import AUDIO_SUFFIXES, log_mel, read_audio


@dataclass
class Utterance:
    """One recording: its log-mel frames (T, 80) and its transcript (None when unknown)."""

    frames: np.ndarray
    text: str | None = None
    name: str = ""
    voice: str | None = None  # the speaker, where the corpus names one
    #: the phonemes eSpeak spoke (IPA, "" a pause) and their frames, summing to len(frames);
    #: the embedded corpus has them (espeak.timed), recordings not yet
    phones: tuple[str, ...] = ()
    durations: np.ndarray | None = None
    #: a decoded encoding's known columns (-o mode=phonemes), its timing at a step's grain
    track: np.ndarray | None = None


def _metadata(meta: Path) -> dict[Path, str]:
    try:
        lines = meta.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as exc:
        raise SeqgenError(f"{meta}: not UTF-8 text (bad byte at offset {exc.start})") from None
    out: dict[Path, str] = {}
    for n, line in enumerate(lines, 1):
        if not line.strip():
            continue
        parts = line.split("|")
        if len(parts) < 2 or not parts[0].strip():
            raise SeqgenError(f"{meta}:{n}: expected 'id|text|normalized text'")
        uid = parts[0].strip()
        text = (parts[2] if len(parts) > 2 and parts[2].strip() else parts[1]).strip()
        found = _audio_of(meta.parent, uid)
        if found is None:
            raise SeqgenError(f"{meta}:{n}: no audio file for {uid!r} "
                              f"(looked for wavs/{uid}.wav and {uid}.wav)")
        out[found] = text.lower()
    return out


def _audio_of(folder: Path, uid: str) -> Path | None:
    """The recording a metadata.csv id names: wavs/ID or ID, as given or with an audio suffix."""
    for base in (folder / "wavs", folder):
        for sfx in ("", *AUDIO_SUFFIXES):
            p = base / f"{uid}{sfx}"
            try:
                if p.is_file():
                    return p
            except OSError:  # a name too long for the file system, say: no such recording
                continue
    return None


def list_recordings(source: Path) -> tuple[list[Path], dict[Path, str]]:
    """The audio files of a directory (or one file) and the transcripts of metadata.csv."""
    if source.is_file():
        if source.name == "metadata.csv":
            texts = _metadata(source)
            return sorted(texts), texts
        if source.suffix.lower() not in AUDIO_SUFFIXES:
            raise SeqgenError(f"{source}: not a WAV/FLAC/OGG file or a metadata.csv")
        return [source], {}
    meta = source / "metadata.csv"
    texts = _metadata(meta) if meta.is_file() else {}
    if texts:  # the recordings it names, wherever they are
        return sorted(texts), texts
    return discover(source, AUDIO_SUFFIXES, "WAV, FLAC or OGG", patterns=False), texts


def listing_key(files: list[Path], texts: dict[Path, str]) -> str:
    h = hashlib.sha256()
    for p in files:
        st = p.stat()
        h.update(json.dumps([str(p.resolve()), st.st_size, st.st_mtime_ns, texts.get(p)]).encode())
    return h.hexdigest()[:24]


def speaker_of(source: Path, path: Path) -> str | None:
    """The first folder below ``source`` that holds ``path`` (VCTK's wav48/p225/, LibriTTS's
    train-clean-100/19/): the speaker of ``-o voices=folders``; None for a file at the top."""
    try:
        parts = path.relative_to(source).parts
    except ValueError:
        return None
    return parts[0] if len(parts) > 1 else None


def read_directory(source: Path, cache: Path,
                   speakers: bool = False) -> tuple[list[Utterance], str]:
    """Utterances of every recording (features cached by the listing); returns them and a key.
    ``speakers``: each utterance's voice is its first folder below ``source``."""
    from seqgen.engine.files import cached_npz

    files, texts = list_recordings(source)
    key = listing_key(files, texts)
    voices = [speaker_of(source, p) if speakers else None for p in files]

    def from_arrays(z: dict[str, np.ndarray]) -> list[Utterance]:
        bounds = np.cumsum([0, *z["lengths"].tolist()])
        frames = z["frames"].astype(np.float32)
        return [Utterance(frames[bounds[i]:bounds[i + 1]], texts.get(p), p.name, voices[i])
                for i, p in enumerate(files)]

    def to_arrays(utts: list[Utterance]) -> dict[str, np.ndarray]:
        return {"frames": np.concatenate([u.frames for u in utts]).astype(np.float16),
                "lengths": np.asarray([len(u.frames) for u in utts], np.int64)}

    def build() -> list[Utterance]:
        what = "reading the recordings' log-mel features (first use; cached after)"
        return [Utterance(log_mel(read_audio(p)), texts.get(p), p.name, v)
                for p, v in zip(counted(files, what, unit="files"), voices, strict=True)]

    utts = cached_npz(cache / f"user-{key}.npz", build, to_arrays, from_arrays)
    return utts, key
