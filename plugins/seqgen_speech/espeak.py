"""eSpeak NG through ctypes: audio, the phonemes of any text, and each phoneme's timing.

libespeak-ng and its voice data come from the ``espeakng-loader`` wheel (eSpeak NG is GPL-3: a
dependency, never vendored). One process-wide instance, calls serialised, synchronous output
at 22,050 Hz, about 200 times real time. It starts with phoneme events on (options bit 0) and
IPA names (bit 1): while it speaks, every phoneme arrives as an event carrying its IPA symbol
and its first sample, so a sentence's phonemes and durations come from the same synthesis as
its audio (the duration-informed front end of Zen and Sak 2015, Merlin, Non-Attentive
Tacotron). ``phonemes`` reads a text's phonemes without speaking it
(``espeak_TextToPhonemes``). Numbers, abbreviations and punctuation are eSpeak's own job
("4:30" is four thirty). The calls are those of ../shared/notes/field-facts.md.
"""

from __future__ import annotations

import ctypes
import threading
from dataclasses import dataclass

import numpy as np

from seqgen.errors import SeqgenError

SAMPLE_RATE = 22050
PHONEME_EVENTS, IPA = 0x1, 0x2  # espeak_Initialize options
EVENT_END, EVENT_PHONEME = 0, 7  # espeak_EVENT types: the list's end, a phoneme
SEPARATOR = "_"  # between the phonemes of a word in espeak_TextToPhonemes' output


@dataclass(frozen=True)
class Phone:
    """One phoneme as eSpeak NG spoke it: its IPA symbol with stress marks (``ˈeɪ``), or ""
    for a pause at a clause's end, and its samples [start, end) at 22,050 Hz."""

    symbol: str
    start: int
    end: int

    @property
    def samples(self) -> int:
        return self.end - self.start


class _Id(ctypes.Union):
    _fields_ = [("number", ctypes.c_int), ("name", ctypes.c_char_p),
                ("string", ctypes.c_char * 8)]


class _Event(ctypes.Structure):
    """espeak_EVENT (speak_lib.h), its fields in order."""

    _fields_ = [("type", ctypes.c_int), ("unique_identifier", ctypes.c_uint),
                ("text_position", ctypes.c_int), ("length", ctypes.c_int),
                ("audio_position", ctypes.c_int), ("sample", ctypes.c_int),
                ("user_data", ctypes.c_void_p), ("id", _Id)]


class Espeak:
    """libespeak-ng through ctypes (one process-wide instance, calls serialised)."""

    _lock = threading.Lock()
    _inst: Espeak | None = None

    def __init__(self) -> None:
        try:
            import espeakng_loader
        except ImportError:
            raise SeqgenError("speech needs eSpeak NG: pip install 'seqgen[speech]' "
                              "(espeakng-loader)") from None
        lib = ctypes.cdll.LoadLibrary(espeakng_loader.get_library_path())
        data = espeakng_loader.get_data_path().encode()
        self.chunks: list[np.ndarray] = []
        self.events: list[tuple[str, int]] = []
        cb_type = ctypes.CFUNCTYPE(ctypes.c_int, ctypes.POINTER(ctypes.c_short), ctypes.c_int,
                                   ctypes.POINTER(_Event))
        self._cb = cb_type(self._collect)  # keep a reference: ctypes must not free it
        lib.espeak_Initialize.restype = ctypes.c_int
        rate = lib.espeak_Initialize(2, 0, data, PHONEME_EVENTS | IPA)  # SYNCHRONOUS
        if rate != SAMPLE_RATE:
            raise SeqgenError(f"eSpeak NG failed to start (returned {rate})")
        lib.espeak_SetSynthCallback(self._cb)
        lib.espeak_Synth.argtypes = [ctypes.c_char_p, ctypes.c_size_t, ctypes.c_uint,
                                     ctypes.c_int, ctypes.c_uint, ctypes.c_uint,
                                     ctypes.c_void_p, ctypes.c_void_p]
        lib.espeak_TextToPhonemes.restype = ctypes.c_char_p
        lib.espeak_TextToPhonemes.argtypes = [ctypes.POINTER(ctypes.c_char_p), ctypes.c_int,
                                              ctypes.c_int]
        self.lib = lib

    def _collect(self, wav: ctypes._Pointer[ctypes.c_short], n: int,
                 events: ctypes._Pointer[_Event]) -> int:
        if n > 0:
            self.chunks.append(np.ctypeslib.as_array(wav, shape=(n,)).copy())
        i = 0
        while events and events[i].type != EVENT_END:
            e = events[i]
            if e.type == EVENT_PHONEME:
                name = bytes(e.id.string).split(b"\0")[0].decode("utf-8", "replace")
                self.events.append((name, int(e.sample)))
            i += 1
        return 0

    @classmethod
    def get(cls) -> Espeak:
        with cls._lock:
            if cls._inst is None:
                cls._inst = Espeak()
            return cls._inst

    def _voice(self, voice: str) -> None:
        if self.lib.espeak_SetVoiceByName(voice.encode()) != 0:
            raise SeqgenError(f"eSpeak NG has no voice {voice!r}")

    def say(self, text: str, voice: str = "en-us", rate: int = 175,
            pitch: int = 50) -> tuple[np.ndarray, list[tuple[str, int]]]:
        """Float32 mono audio at 22,050 Hz, and the phoneme events (IPA, first sample)."""
        with self._lock:
            self._voice(voice)
            self.lib.espeak_SetParameter(1, int(rate), 0)
            self.lib.espeak_SetParameter(3, int(pitch), 0)
            self.chunks, self.events = [], []
            b = text.encode() + b"\0"
            self.lib.espeak_Synth(b, len(b), 0, 1, 0, 0, None, None)
            self.lib.espeak_Synchronize()
            chunks, events, self.chunks, self.events = self.chunks, self.events, [], []
        pcm = np.concatenate(chunks) if chunks else np.zeros(0, np.int16)
        return pcm.astype(np.float32) / 32768.0, events

    def to_phonemes(self, text: str, voice: str) -> list[str]:
        """espeak_TextToPhonemes in IPA, one clause a call: the clauses' words, each its
        phonemes joined by SEPARATOR."""
        with self._lock:
            self._voice(voice)
            p = ctypes.c_char_p(text.encode())
            words: list[str] = []
            while p.value:
                out = self.lib.espeak_TextToPhonemes(ctypes.byref(p), 1,
                                                     IPA | (ord(SEPARATOR) << 8))
                words += (out or b"").decode("utf-8", "replace").split()
        return words


def _check(text: str, what: str) -> None:
    if not text.strip():
        raise SeqgenError(f"{what} is empty: nothing to say")


def phonemes(text: str, voice: str = "en-us", what: str = "--text") -> list[list[str]]:
    """The phonemes of ``text`` as eSpeak NG reads it, word by word, in IPA with stress marks
    ("the train" -> [["ð", "ə"], ["t", "ɹ", "ˈeɪ", "n"]]); one line if it has none."""
    _check(text, what)
    words = [[p for p in w.split(SEPARATOR) if p] for w in Espeak.get().to_phonemes(text, voice)]
    words = [w for w in words if w]
    if not words:
        raise SeqgenError(f"{what} {text!r}: eSpeak NG finds nothing to say in it")
    return words


def timed(text: str, voice: str = "en-us", rate: int = 175, pitch: int = 50,
          what: str = "--text") -> tuple[np.ndarray, list[Phone]]:
    """Speak ``text``: its audio (float32, 22,050 Hz, untrimmed) and its phonemes with their
    samples, each ending where the next starts (the last at the audio's end). Pauses at
    clause ends are phones of symbol "". One line if the text has nothing to say."""
    _check(text, what)
    audio, events = Espeak.get().say(text, voice, rate, pitch)
    if not any(name for name, _ in events):
        raise SeqgenError(f"{what} {text!r}: eSpeak NG finds nothing to say in it")
    ends = [start for _, start in events[1:]] + [len(audio)]
    phones = [Phone(name, start, max(start, end)) for (name, start), end in zip(events, ends,
                                                                               strict=True)]
    return audio, [p for p in phones if p.samples > 0 or p.symbol]
