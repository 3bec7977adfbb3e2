"""The ``voices`` encoding: a chorale as tokens, a frame of five per sixteenth note.

A piece is its metre and key, then one frame per sixteenth note (BachBot, Liang 2016, with the
frame's place in the bar and the fermata in one token)::

    METER KEY | POS S A T B | POS S A T B | ... | BAR S A T B | POS S A T B | ...

``POS`` says the sixteenths since the bar line and whether the soprano holds a fermata; a frame
on a bar line opens with ``BAR`` instead, which says the key again (and the fermata). Each of
soprano, alto, tenor and bass is a pitch (struck here), HOLD (the voice's note goes on: a tie)
or REST. A pitch is counted from the key's tonic (``relative``, the music domain's default:
every key of a chorale reads the same, as BachBot's transposition to C; measured against MIDI
pitches in docs/domains/music.md), or is the MIDI pitch. The soprano comes first, so a model sees
each frame's tune note before it writes the other three voices: harmonizing a given melody is
sampling with the soprano's tokens forced.

    0            separator (start and end of every piece)
    1, 2         HOLD, REST
    3 .. 75      pitch 24 .. 96: MIDI, or relative to the tonic nearest C (``reference``)
    76 .. 139    POS: 2 * sixteenths since the bar line (1..31) + fermata
    140 .. 171   METER: sixteenths a bar, 1..32
    172 .. 195   KEY: tonic pitch class + 12 if minor
    196 .. 243   BAR: a frame on a bar line, 2 * key (as KEY) + fermata
"""

from __future__ import annotations

import numpy as np

from seqgen_music.chorale import REST, Chorale, empty

SEP, HOLD, REST_TOKEN = 0, 1, 2
LOW, HIGH = 24, 96
PITCH0 = 3
MAX_POS = 32
POS0 = PITCH0 + HIGH - LOW + 1
METER0 = POS0 + 2 * MAX_POS
KEY0 = METER0 + MAX_POS
BAR0 = KEY0 + 24
VOCAB = BAR0 + 48
FRAME = 5  # tokens a frame: POS and four voices
HEADER = 2  # METER and KEY


def pitch_token(p: np.ndarray | int) -> np.ndarray:
    """Pitch tokens, the pitch folded by octaves into LOW..HIGH first."""
    q = np.asarray(p, np.int64)
    q = np.where(q < LOW, q + 12 * ((LOW - q + 11) // 12), q)
    q = np.where(q > HIGH, q - 12 * ((q - HIGH + 11) // 12), q)
    return PITCH0 + q - LOW


def reference(tonic: int, relative: bool) -> int:
    """What a relative pitch token counts from: the tonic nearest C (-6..5), so that every key
    of a piece gives the same tokens (BachBot's transposition to C, in the tokens alone); 0 for
    absolute pitches."""
    return (tonic + 6) % 12 - 6 if relative else 0


def voice_tokens(ch: Chorale, relative: bool = False) -> np.ndarray:
    """(F, 4) the voices' tokens: a pitch where struck, HOLD where tied over, REST."""
    prev = np.vstack([np.full((1, 4), REST, np.int16), ch.pitch[:-1]])  # (F, 4)
    held = (ch.pitch >= 0) & ~ch.attack & (prev == ch.pitch)
    ref = reference(ch.tonic, relative)
    tok = np.where(ch.pitch < 0, REST_TOKEN, pitch_token(ch.pitch.astype(np.int64) - ref))
    return np.where(held, HOLD, tok).astype(np.int64)


def header(ch: Chorale) -> np.ndarray:
    return np.array([METER0 + ch.bar - 1, KEY0 + key_index(ch)], np.int64)


def key_index(ch: Chorale) -> int:
    return ch.tonic % 12 + 12 * ch.minor


def pos_tokens(ch: Chorale) -> np.ndarray:
    """(F,) each frame's POS, or BAR where it falls on a bar line."""
    pos = POS0 + 2 * (ch.pos.astype(np.int64) % MAX_POS) + ch.fermata
    bar = BAR0 + 2 * key_index(ch) + ch.fermata.astype(np.int64)
    return np.where(ch.pos == 0, bar, pos).astype(np.int64)


def is_frame(tokens: np.ndarray) -> np.ndarray:
    """Which tokens open a frame (POS or BAR)."""
    t = np.asarray(tokens)
    return ((t >= POS0) & (t < METER0)) | (t >= BAR0)


def frame_start(tok: int) -> tuple[int, bool] | None:
    """(sixteenths since the bar line, fermata) of a POS or BAR token; None for others."""
    if POS0 <= tok < METER0:
        return (tok - POS0) // 2, (tok - POS0) % 2 == 1
    if BAR0 <= tok < VOCAB:
        return 0, (tok - BAR0) % 2 == 1
    return None


def encode(ch: Chorale, relative: bool = False) -> np.ndarray:
    """(2 + 5 F,) tokens of one piece (the engine adds the separators); ``relative``: pitches
    counted from the key's tonic (``reference``)."""
    frames = np.concatenate([pos_tokens(ch)[:, None], voice_tokens(ch, relative)], 1)  # (F, 5)
    return np.concatenate([header(ch), frames.reshape(-1)])


def _frames(tokens: np.ndarray) -> tuple[list[list[int]], int, int, bool]:
    """Split tokens into frames [POS, v0..v3], reading the header wherever it stands; a frame
    cut short at the end is dropped, tokens out of place are dropped."""
    bar, tonic, minor = 16, 0, False
    frames: list[list[int]] = []
    for t in np.asarray(tokens, np.int64).tolist():
        if METER0 <= t < KEY0:
            bar = t - METER0 + 1
        elif KEY0 <= t < BAR0:
            tonic, minor = (t - KEY0) % 12, t - KEY0 >= 12
        elif frame_start(t) is not None:
            frames.append([t])
        elif 0 < t < POS0 and frames and len(frames[-1]) < FRAME:
            frames[-1].append(t)
    if frames and len(frames[-1]) < FRAME:  # a sample cut off inside its last frame
        frames.pop()
    return frames, bar, tonic, minor


def decode(tokens: np.ndarray, name: str = "seqgen sample", relative: bool = False) -> Chorale:
    frames, bar, tonic, minor = _frames(tokens)
    ch = empty(len(frames), bar, tonic, minor, name)
    ref = reference(tonic, relative)
    for f, (start, *voices) in enumerate(frames):
        ch.pos[f], ch.fermata[f] = frame_start(start) or (0, False)
        for v, t in enumerate(voices):
            if t >= PITCH0:
                ch.pitch[f, v], ch.attack[f, v] = t - PITCH0 + LOW + ref, True
            elif t == HOLD and f and ch.pitch[f - 1, v] >= 0:
                ch.pitch[f, v] = ch.pitch[f - 1, v]  # a HOLD after a rest is a rest
    return ch
