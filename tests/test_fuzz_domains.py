"""Hypothesis fuzzing of the music, handwriting and speech readers and codecs (issue 8).

Random bytes, truncations of a valid file and valid files with a few bytes changed are read or
refused with a one-line SeqgenError naming the file, never another exception; encode then
decode is the identity where each codec promises it. docs/reliability.md lists these tests.
Set SEQGEN_FUZZ_EXAMPLES (say 2000) for a longer hunt than CI's few dozen examples a test.
"""

from __future__ import annotations

import functools
import importlib.util
import io
import os
import re
import tempfile
import zipfile
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from seqgen.domain import parse_options
from seqgen.errors import SeqgenError

# small budgets: the whole file runs in well under a minute on two busy cores
EXAMPLES = int(os.environ.get("SEQGEN_FUZZ_EXAMPLES", "0"))
FUZZ = settings(max_examples=EXAMPLES or 30, deadline=None,
                suppress_health_check=[HealthCheck.too_slow])
ROUND = settings(max_examples=EXAMPLES or 40, deadline=None)
needs = functools.partial(pytest.mark.skipif, reason="an optional dependency is missing")


def _missing(*modules: str) -> bool:
    return any(importlib.util.find_spec(m) is None for m in modules)


# ---- hostile bytes --------------------------------------------------------------------------
# what breaks parsers: markup, separators, signs, exponents, non-numbers, odd bytes
TOKENS = [b"<", b">", b"/", b'"', b"'", b"=", b" ", b",", b"|", b"-", b".", b"1", b"9" * 9,
          b"1e999", b"nan", b"*", b"?", b"!", b"T", b"M", b"Z", b"c", b"q", b"&", b"\n",
          b"\x00", b"\xff", b"\xc3", b"<!ENTITY", b"]]>"]


def _edit(valid: bytes, edits: list[tuple[int, bytes]]) -> bytes:
    out = bytearray(valid)
    for at, new in edits:
        at %= max(len(out), 1)
        out[at:at + 1] = new
    return bytes(out)


def hostile(valid: bytes, *more: st.SearchStrategy[bytes]) -> st.SearchStrategy[bytes]:
    """Random bytes, a truncation of a valid file, or a valid file with a few bytes changed;
    or what ``more`` makes (a format's template with random fields, random valid audio)."""
    new = st.one_of(st.sampled_from(TOKENS), st.binary(min_size=1, max_size=3))
    edits = st.lists(st.tuples(st.integers(0, len(valid)), new), min_size=1, max_size=6)
    return st.one_of(st.binary(max_size=400),
                     st.integers(0, len(valid)).map(lambda n: valid[:n]),
                     edits.map(lambda e: _edit(valid, e)), *more)


# the fields of a template (§N a number, §T an InkML trace, §P SVG path data, §S SVG points)
NUMBER = st.one_of(st.sampled_from(["0", "7", "-2.5", ".5", "1e3", "1e308", "-1e308", "1e999",
                                    "nan", "inf", "", " ", "x", "\u00b2", "\u0663", "9" * 4400]),
                   st.integers(-(10**6), 10**6).map(str), st.floats().map(repr))
TRACE = st.lists(st.one_of(st.sampled_from([" ", ",", " ", "'", '"', "!", "*", "?", "T", "F"]),
                           NUMBER), max_size=24).map("".join)
PATH = st.lists(st.one_of(st.sampled_from(list("MmLlHhVvZzCcQqA ,")), NUMBER),
                max_size=24).map("".join)
POINTS = st.lists(st.one_of(st.sampled_from([" ", ","]), NUMBER), max_size=12).map("".join)
FIELDS = {"N": NUMBER, "T": TRACE, "P": PATH, "S": POINTS}


def filled(template: str) -> st.SearchStrategy[bytes]:
    parts = re.split(r"§([NTPS])", template)  # text, field, text, field, ..., text
    pieces = [st.just(p) if i % 2 == 0 else FIELDS[p] for i, p in enumerate(parts)]
    return st.tuples(*pieces).map(lambda t: "".join(t).encode("utf-8"))


def _put(factory: Any, name: str, blob: bytes) -> Path:
    """A file in a folder of its own (every example gets fresh paths, so no cache hits)."""
    path = factory.mktemp("fz") / name
    path.write_bytes(blob)
    return path


def _one_line_naming(exc: SeqgenError, *paths: Path) -> None:
    msg = str(exc)
    assert "\n" not in msg and msg.strip(), repr(msg)
    assert any(str(p) in msg for p in paths), (msg, paths)


# ---- music ----------------------------------------------------------------------------------
NOTES = np.array([[0.0, 0.5, 60, 100], [0.0, 1.0, 64, 90], [0.5, 1.25, 67, 40],
                  [1.3, 2.0, 72, 127], [2.5, 2.6, 48, 20]])
ABC = b"X:1\nT:Fuzz\nM:4/4\nL:1/8\nK:G\nGABc dedB|dedB dedB|c2ec B2dB|c2A2 A2BA|\n"
KERN = b"**kern\n*M4/4\n=1\n4c\n4d\n8e\n8f\n4g\n=2\n2a\n2b\n==\n*-\n"
MUSICXML = b"""<?xml version="1.0" encoding="UTF-8"?>
<score-partwise version="3.1"><part-list><score-part id="P1"><part-name>P</part-name>
</score-part></part-list><part id="P1"><measure number="1"><attributes><divisions>1</divisions>
<time><beats>4</beats><beat-type>4</beat-type></time></attributes>
<note><pitch><step>C</step><octave>4</octave></pitch><duration>2</duration></note>
<note><pitch><step>E</step><alter>-1</alter><octave>4</octave></pitch><duration>1</duration>
<tie type="start"/></note><note><rest/><duration>1</duration></note></measure></part>
</score-partwise>
"""
ABC_TEMPLATE = "X:§N\nT:a\nL:1/§N\nK:C\nCDEF|\nX:§N\nT:b\nK:G\nG§NAB§Nc|\n"
CONTAINER = b"""<?xml version="1.0"?><container><rootfiles>
<rootfile full-path="score.xml"/></rootfiles></container>"""


@functools.cache
def valid_music(suffix: str) -> bytes:
    if suffix in (".mid", ".midi"):
        from seqgen_music.midi import write_midi

        with tempfile.TemporaryDirectory() as tmp:
            write_midi(NOTES, Path(tmp) / "song.mid")
            return (Path(tmp) / "song.mid").read_bytes()
    if suffix == ".mxl":
        out = io.BytesIO()
        with zipfile.ZipFile(out, "w") as z:
            z.writestr("META-INF/container.xml", CONTAINER)
            z.writestr("score.xml", MUSICXML)
        return out.getvalue()
    return {".abc": ABC, ".krn": KERN}.get(suffix, MUSICXML)


def _valid_notes(notes: np.ndarray) -> None:
    assert notes.ndim == 2 and notes.shape[1] == 4 and np.isfinite(notes).all()
    assert (notes[:, 1] >= notes[:, 0]).all()
    assert ((notes[:, 2] >= 0) & (notes[:, 2] <= 127)).all()


@needs(_missing("mido", "music21"))
@FUZZ
@given(data=st.data(), suffix=st.sampled_from((".mid", ".midi", ".abc", ".krn", ".xml",
                                               ".musicxml", ".mxl")))
def test_fuzz_music_reader_takes_or_refuses_cleanly(tmp_path_factory: Any, data: Any,
                                                    suffix: str) -> None:
    from seqgen_music.domain import MusicDomain

    more = [filled(ABC_TEMPLATE)] if suffix == ".abc" else []
    path = _put(tmp_path_factory, "piece" + suffix,
                data.draw(hostile(valid_music(suffix), *more)))
    try:
        corpus = MusicDomain().load_corpus(str(path))
    except SeqgenError as exc:
        _one_line_naming(exc, path)
    else:
        for piece in corpus.documents:
            _valid_notes(piece.notes)


NOTE = st.tuples(st.floats(0, 30), st.floats(0.001, 5), st.integers(0, 127), st.integers(1, 127))
GRIDS = ((10, 1000), (150, 2400), (7, 50))  # time_step, max_shift (ms)


def _music(encoding: str, bins: int = 32, grid: tuple[int, int] = GRIDS[0]) -> Any:
    from seqgen_music.domain import MusicDomain, MusicOptions

    return MusicDomain(MusicOptions(encoding=encoding, velocity_bins=bins, time_step=grid[0],
                                    max_shift=grid[1]))


@ROUND
@given(rows=st.lists(NOTE, max_size=40), encoding=st.sampled_from(("duration", "performance")),
       bins=st.sampled_from((32, 0, 5, 127)), grid=st.sampled_from(GRIDS))
def test_fuzz_music_codec_round_trips(rows: list[tuple[float, float, int, int]], encoding: str,
                                      bins: int, grid: tuple[int, int]) -> None:
    """docs/domains/music.md: both encodings round-trip exactly on the grid (normalize), every
    attack survives at its pitch and grid onset, and encode, decode, encode is the identity."""
    from seqgen_music.encoding import Piece

    dom = _music(encoding, bins, grid)
    notes = np.array([[s, s + d, p, v] for s, d, p, v in rows], np.float64).reshape(-1, 4)
    tokens = dom.encode(Piece(notes))
    assert tokens.dtype == np.int64 and ((tokens > 0) & (tokens < dom.codec.vocab_size)).all()
    back = dom.decode(tokens).notes
    assert np.array_equal(back, dom.codec.normalize(notes))
    assert np.array_equal(dom.encode(dom.decode(tokens)), tokens)
    step = dom.codec.step
    attacks = {(int(np.round(s / step)), int(p)) for s, _, p, _ in notes.tolist()}
    assert attacks == {(int(np.round(s / step)), int(p)) for s, _, p, _ in back.tolist()}


@ROUND
@given(tokens=st.lists(st.integers(0, 10_000), max_size=300),
       encoding=st.sampled_from(("duration", "performance")))
def test_fuzz_music_any_tokens_decode_to_valid_notes(tokens: list[int], encoding: str) -> None:
    """Whatever a model samples: valid notes (positive length, no pitch overlapping itself)
    that the codec then carries exactly (times and pitches; velocities to their bins)."""
    from seqgen_music.encoding import Piece

    dom = _music(encoding)
    notes = dom.decode(np.asarray(tokens, np.int64) % dom.codec.vocab_size).notes
    _valid_notes(notes)
    assert (notes[:, 1] > notes[:, 0]).all()
    for q in np.unique(notes[:, 2]):
        same = notes[notes[:, 2] == q]
        assert (same[1:, 0] >= same[:-1, 1] - 1e-9).all()
    again = dom.decode(dom.encode(Piece(notes))).notes
    assert np.array_equal(again[:, :3], notes[:, :3])
    assert np.array_equal(again, dom.codec.normalize(notes))


# ---- handwriting ----------------------------------------------------------------------------
IAM = b"""<?xml version="1.0" encoding="ISO-8859-1"?>
<WhiteboardCaptureSession><WhiteboardDescription><SensorLocation corner="top_left"/>
<DiagnosticsInfo writerID="10042"/></WhiteboardDescription><StrokeSet>
<Stroke colour="black"><Point x="1000" y="500" time="1.0"/><Point x="1010" y="520" time="1.1"/>
<Point x="1020" y="510" time="1.2"/></Stroke>
<Stroke colour="black"><Point x="1040" y="505" time="1.3"/><Point x="1045" y="500"/></Stroke>
</StrokeSet></WhiteboardCaptureSession>
"""
INKML = b"""<?xml version="1.0" encoding="UTF-8"?>
<ink xmlns="http://www.w3.org/2003/InkML"><traceFormat><channel name="X" type="decimal"/>
<channel name="Y" type="decimal"/></traceFormat>
<traceGroup><annotation type="transcription">ab</annotation>
<trace>10 20, '1'2, 1 2, "0"1</trace><trace>1125 18432,'23'43,"7"-8,3-5</trace>
<trace>1 2 0.5, 3 4 0.7, T F, * ?</trace></traceGroup></ink>
"""
SVG = b"""<svg xmlns="http://www.w3.org/2000/svg"><title>hey</title>
<g data-text="ab"><path d="M10 10 L20 10 l0 10 H40 v-5 Z m1 1 h2"/>
<polyline points="0,0 5,5 10,0"/><line x1="1" y1="2" x2="3" y2="4"/></g>
<g data-text="cd"><path d="M0 0 C10 0 10 10 0 10 Q5 5 8 8 c1 1 2 2 3 3 q1 1 2 2"/></g></svg>
"""


INK_TEMPLATES = {
    ".xml": '<WhiteboardCaptureSession><WhiteboardDescription><DiagnosticsInfo writerID="§N"/>'
            '</WhiteboardDescription><StrokeSet><Stroke><Point x="§N" y="§N"/><Point x="§N" '
            'y="§N"/></Stroke><Stroke><Point x="§N" y="§N"/></Stroke></StrokeSet>'
            '</WhiteboardCaptureSession>',
    ".inkml": '<ink xmlns="http://www.w3.org/2003/InkML"><traceGroup><annotation '
              'type="transcription">ab</annotation><trace>§T</trace><trace>§T</trace>'
              '</traceGroup></ink>',
    ".svg": '<svg xmlns="http://www.w3.org/2000/svg"><g data-text="ab"><path d="§P"/><polyline '
            'points="§S"/><line x1="§N" y1="§N" x2="§N" y2="§N"/></g></svg>',
}


@functools.cache
def valid_ink(name: str) -> bytes:
    if name.endswith(".npy"):
        buf = io.BytesIO()
        if name == "strokes.npy":  # the IAM-OnDB preprocessed form: an object array of lines
            arr = np.empty(2, dtype=object)
            arr[0] = np.array([[0, 0, 0], [0, 1, 2], [1, 3, -1], [0, 2, 2], [1, 1, 1]], np.float32)
            arr[1] = np.array([[0, 0, 0], [1, 5, 5]], np.float32)
            np.save(buf, arr, allow_pickle=True)
        else:
            np.save(buf, np.array([[0, 0, 0], [0, 1.5, 2], [1, 3, -1]], np.float32))
        return buf.getvalue()
    return {".xml": IAM, ".inkml": INKML, ".svg": SVG}[Path(name).suffix]


def _valid_strokes(strokes: np.ndarray) -> None:
    assert strokes.ndim == 2 and strokes.shape[1] == 3 and len(strokes)
    assert strokes.dtype == np.float32 and np.isfinite(strokes).all()


def _handwriting(**opts: object) -> Any:
    from seqgen_handwriting.domain import HandwritingDomain, HandwritingOptions

    return HandwritingDomain(parse_options(HandwritingOptions, {"mode": "prediction", **opts}))


@needs(_missing("defusedxml"))
@FUZZ
@given(data=st.data(), name=st.sampled_from(("a01-000u-01.xml", "ink.inkml", "ink.svg",
                                             "strokes.npy", "line.npy")))
def test_fuzz_handwriting_reader_takes_or_refuses_cleanly(tmp_path_factory: Any, data: Any,
                                                          name: str) -> None:
    template = INK_TEMPLATES.get(Path(name).suffix)
    more = [filled(template)] if template else []
    path = _put(tmp_path_factory, name, data.draw(hostile(valid_ink(name), *more)))
    sentences = path.with_name("sentences.txt")
    if name == "strokes.npy" and data.draw(st.booleans()):
        sentences.write_bytes(data.draw(st.binary(max_size=60) | st.just(b"hello\nhi\n")))
    try:
        corpus = _handwriting(stride=data.draw(st.integers(1, 4))).load_corpus(str(path))
    except SeqgenError as exc:
        _one_line_naming(exc, path, sentences)
    else:
        for ink in corpus.documents:
            _valid_strokes(ink.strokes)


COORD = st.floats(-500, 500, width=32)
ROW = st.tuples(COORD, COORD, st.booleans())


@ROUND
@given(lines=st.lists(st.lists(ROW, min_size=1, max_size=40), min_size=1, max_size=4),
       clip=st.sampled_from((0.0, 20.0, 1.5)))
def test_fuzz_handwriting_codec_round_trips(lines: list[list[tuple[float, float, bool]]],
                                            clip: float) -> None:
    """decode(encode(ink)) gives the ink's offsets back (float32, after fit's normalisation)
    and its pen lifts exactly; offsets beyond clip standard deviations come back clipped."""
    from seqgen_handwriting.ink import Ink

    dom = _handwriting(stride=1, clip=clip)
    docs = [Ink(np.array(rows, np.float32)) for rows in lines]
    dom.fit(docs)
    for doc in docs:
        rows = doc.strokes[1:] if not doc.strokes[0].any() else doc.strokes  # origin dropped
        enc = dom.encode(doc)
        back = dom.decode(enc).strokes
        assert back.shape == rows.shape and np.array_equal(back[:, 2], rows[:, 2])
        want = rows[:, :2].astype(np.float64)
        if clip:
            z = np.clip((want - dom.mean) / dom.std, -clip, clip)
            want = z * dom.std.astype(np.float64) + dom.mean
        scale = 1.0 + float(np.abs(want).max(initial=0.0)) + float(np.abs(dom.mean).max())
        np.testing.assert_allclose(back[:, :2], want, rtol=0, atol=1e-5 * scale)


@ROUND
@given(polys=st.lists(st.lists(st.tuples(COORD, COORD), min_size=1, max_size=30), min_size=1,
                      max_size=5), stride=st.integers(1, 6))
def test_fuzz_handwriting_stride_keeps_each_strokes_ends(polys: list[list[tuple[float, float]]],
                                                         stride: int) -> None:
    """-o stride=N keeps every N-th point of each stroke and its last; 1 keeps every point."""
    from seqgen_handwriting.ink import Ink, thin

    ink = Ink.from_polylines([np.array(p, np.float64) for p in polys])
    before, after = ink.polylines(), thin(ink, stride).polylines()
    assert len(after) == len(before)
    for full, kept in zip(before, after, strict=True):
        idx = np.unique(np.r_[np.arange(0, len(full), stride), len(full) - 1])
        np.testing.assert_allclose(kept, full[idx], rtol=0, atol=1e-3)


# ---- speech ---------------------------------------------------------------------------------
@functools.cache
def valid_audio(suffix: str) -> bytes:
    import soundfile as sf

    rate = 16000  # not 22050: the reader resamples
    t = np.arange(int(0.12 * rate)) / rate
    tone = (0.3 * np.sin(2 * np.pi * 220 * t)).astype(np.float32)
    buf = io.BytesIO()
    fmt = {".wav": ("WAV", "PCM_16"), ".flac": ("FLAC", "PCM_16"), ".ogg": ("OGG", "VORBIS")}
    sf.write(buf, np.stack([tone, 0.5 * tone], 1), rate, format=fmt[suffix][0],
             subtype=fmt[suffix][1])
    return buf.getvalue()


@st.composite
def any_wav(draw: Any) -> bytes:
    """A well-formed WAV of any rate, channels and sample format, loud, silent or not finite."""
    import soundfile as sf

    rate = draw(st.sampled_from([8000, 22050, 44100]) | st.integers(1, 2**31 - 1))
    subtype = draw(st.sampled_from(["PCM_16", "PCM_U8", "FLOAT", "DOUBLE"]))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    audio = rng.uniform(-1, 1, (draw(st.integers(0, 300)), draw(st.integers(1, 3))))
    audio *= draw(st.sampled_from([1.0, 1e-6, 0.0, 1e30]))
    if audio.size and draw(st.booleans()):
        audio.flat[draw(st.integers(0, audio.size - 1))] = draw(st.sampled_from(
            [np.nan, np.inf, -np.inf]))
    buf = io.BytesIO()
    sf.write(buf, audio, rate, format="WAV", subtype=subtype)
    return buf.getvalue()


def _speech() -> Any:
    from seqgen_speech.domain import SpeechDomain

    return SpeechDomain(parse_options(SpeechDomain.Options, {}))


def _valid_frames(corpus: Any) -> None:
    for utt in corpus.documents:
        assert utt.frames.ndim == 2 and utt.frames.shape[1] == 80 and len(utt.frames)
        assert np.isfinite(utt.frames).all()


@needs(_missing("soundfile", "scipy"))
@FUZZ
@given(data=st.data(), suffix=st.sampled_from((".wav", ".flac", ".ogg")))
def test_fuzz_speech_reader_takes_or_refuses_cleanly(tmp_path_factory: Any, data: Any,
                                                     suffix: str) -> None:
    more = [any_wav()] if suffix == ".wav" else []
    path = _put(tmp_path_factory, "clip" + suffix, data.draw(hostile(valid_audio(suffix), *more)))
    corpus = _speech_reads_or_refuses(path)
    if corpus is not None:
        _valid_frames(corpus)


def _speech_reads_or_refuses(path: Path) -> Any:
    """The speech corpus of path's folder, or None after checking the one-line refusal."""
    try:
        return _speech().load_corpus(str(path.parent))
    except SeqgenError as exc:
        _one_line_naming(exc, path)
        return None


CSV_TEXT = st.text(st.sampled_from("u0|.wav/\\ \n\r\t\x00é") | st.characters(), max_size=80)
CSV_LINE = st.tuples(st.sampled_from(["u0", "u0.wav", "wavs/u0", "x" * 300, "", " ", "u9"])
                     | st.text(max_size=12), st.text(max_size=12), st.text(max_size=12))


@needs(_missing("soundfile", "scipy"))
@FUZZ
@given(meta=st.one_of(st.binary(max_size=200), CSV_TEXT.map(str.encode),
                      st.lists(CSV_LINE, max_size=4).map(
                          lambda rows: "".join("|".join(r) + "\n" for r in rows).encode())))
def test_fuzz_speech_metadata_takes_or_refuses_cleanly(tmp_path_factory: Any,
                                                       meta: bytes) -> None:
    path = _put(tmp_path_factory, "metadata.csv", meta)
    (path.parent / "wavs").mkdir()
    (path.parent / "wavs" / "u0.wav").write_bytes(valid_audio(".wav"))
    corpus = _speech_reads_or_refuses(path)
    if corpus is not None:
        _valid_frames(corpus)
        assert all(u.text is None or u.text == u.text.lower() for u in corpus.documents)


@ROUND
@given(seed=st.integers(0, 2**32 - 1), lengths=st.lists(st.integers(1, 40), min_size=1,
                                                          max_size=4),
       level=st.floats(-11.5, 3.0), spread=st.floats(0.0, 6.0),
       features=st.sampled_from(("logmel", "mfcc")), r=st.integers(1, 4))
def test_fuzz_speech_codec_round_trips(seed: int, lengths: list[int], level: float,
                                       spread: float, features: str, r: int) -> None:
    """After fit, decode(encode(frames)) gives log-mel frames back (float32 tolerance), with the
    stop flag on the last step only, r frames a step (the last step padded with copies of the
    last frame); MFCCs are a projection, so for them encode, decode, encode is the identity."""
    from seqgen_speech.domain import SpeechDomain
    from seqgen_speech.reader import Utterance

    rng = np.random.default_rng(seed)
    utts = [Utterance(np.clip(level + spread * rng.standard_normal((n, 80)), np.log(1e-5),
                              8.0).astype(np.float32)) for n in lengths]
    dom = SpeechDomain(parse_options(SpeechDomain.Options, {"features": features,
                                                            "reduction": r}))
    dom.fit(utts)
    for utt in utts:
        enc = dom.encode(utt)
        n = len(utt.frames)
        assert enc.shape[0] == -(-n // r) and np.isfinite(enc).all()
        assert enc[-1, -1] == 1.0 and not enc[:-1, -1].any()
        back = dom.decode(enc).frames
        assert back.shape == (enc.shape[0] * r, 80)
        if features == "logmel":
            np.testing.assert_allclose(back[:n], utt.frames, rtol=0, atol=1e-4)
            np.testing.assert_allclose(back[n:], np.repeat(utt.frames[-1:], len(back) - n, 0),
                                       rtol=0, atol=1e-4)
        np.testing.assert_allclose(dom.encode(dom.decode(enc)), enc, rtol=0, atol=1e-3)


# ---- what the fuzzing found -----------------------------------------------------------------
def _wav(rate: int, nan: bool = False) -> bytes:
    import soundfile as sf

    audio = np.full((400, 1), 0.5, np.float32)
    audio[7] = np.nan if nan else 0.5
    buf = io.BytesIO()
    sf.write(buf, audio, rate, format="WAV", subtype="FLOAT")
    return buf.getvalue()


def _npy(value: Any) -> bytes:
    arr = np.empty((), dtype=object) if value is None else np.empty(1, dtype=object)
    if value is not None:
        arr[0] = value
    buf = io.BytesIO()
    np.save(buf, arr, allow_pickle=True)
    return buf.getvalue()


IAM_WRITER = INK_TEMPLATES[".xml"].replace("§N", "1").replace('writerID="1"', 'writerID="²"')
FOUND: dict[str, tuple[str, Any, str | None]] = {  # file, its bytes, the error (None: it reads)
    "metadata not UTF-8": ("metadata.csv", lambda: b"u0|\x80|x\n", "not UTF-8 text"),
    "metadata id too long": ("metadata.csv", lambda: b"x" * 300 + b"|t|t\n", "no audio file"),
    "WAV with a NaN": ("clip.wav", lambda: _wav(22050, nan=True), "NaN or infinite samples"),
    "WAV at 1 Hz": ("clip.wav", lambda: _wav(1), "sample rate 1 Hz"),
    "npy header not a literal": ("line.npy", lambda: b"\x93NUMPY\x01\x00\x06\x00\x00\x00\x00'''",
                                 "not a readable .npy stroke file"),
    "npy 0-d object array": ("strokes.npy", lambda: _npy(None), "expected an object array"),
    "npy ragged list": ("strokes.npy", lambda: _npy([[1, 2, 3], [4]]), "array of numbers"),
    "InkML * past the channels": ("ink.inkml", lambda: b"<ink><trace>1 2, 3 4 *, '1 '1 '1"
                                                      b"</trace></ink>", None),
    "SVG odd polyline": ("ink.svg", lambda: b'<svg><polyline points="1 2 3"/></svg>',
                         "odd number of coordinates"),
    "SVG infinite path": ("ink.svg", lambda: b'<svg><path d="M1 1e999 L2 2"/></svg>',
                          "NaN, infinite or huge coordinates"),
    "SVG float32 overflow": ("ink.svg", lambda: b'<svg><path d="M-1e308 0 L1e308 0"/></svg>',
                             "NaN, infinite or huge coordinates"),
    "IAM writerID not ASCII": ("a01-000u-01.xml", lambda: IAM_WRITER.encode(), None),
    "XML unknown encoding": ("a01-000u-01.xml", lambda: b'<?xml version="1.0" encoding="T"?><x/>',
                             "malformed XML"),
    # the X: number is only the tune's label (abcfile.py gives music21 X:1): the tune is read
    "ABC 4400-digit X:": ("piece.abc", lambda: ABC.replace(b"X:1", b"X:" + b"9" * 4400), None),
}


@needs(_missing("soundfile", "scipy", "defusedxml", "mido", "music21"))
@pytest.mark.parametrize("case", list(FOUND))
def test_fuzz_found_inputs_are_read_or_refused_cleanly(tmp_path: Path, case: str) -> None:
    """The crashes the fuzzing above found (each was another exception), kept as examples."""
    from seqgen_music.domain import MusicDomain

    name, blob, expected = FOUND[case]
    path = tmp_path / "in" / name
    path.parent.mkdir()
    path.write_bytes(blob())
    if path.suffix in (".csv", ".wav"):  # speech reads folders
        load, source = _speech().load_corpus, path.parent
    elif path.suffix == ".abc":
        load, source = MusicDomain().load_corpus, path
    else:
        load, source = _handwriting().load_corpus, path
    if expected is None:
        assert load(str(source)).documents
        return
    with pytest.raises(SeqgenError, match=re.escape(expected)) as caught:
        load(str(source))
    _one_line_naming(caught.value, path)
