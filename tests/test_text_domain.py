"""The text domain's codec and corpus reader."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seqgen.domain import parse_options
from seqgen.errors import SeqgenError
from seqgen_text.domain import SEP, UNK, TextDomain, TextOptions


def _fitted(text: str, **opts: object) -> TextDomain:
    dom = TextDomain(parse_options(TextOptions, dict(opts)))
    dom.fit([text])
    return dom


def test_char_round_trip_with_unicode() -> None:
    text = "Héllo, wörld! 你好 🎵\n\ttabs"
    dom = _fitted(text)
    ids = dom.encode(text)
    assert ids.min() >= 2 and dom.decode(ids) == text
    assert dom.input_spec().vocab_size == len(set(text)) + 2


def test_unknown_characters_become_unk_and_state_round_trips() -> None:
    dom = _fitted("abcabc")
    ids = dom.encode("abz")
    assert ids[-1] == UNK and dom.decode(ids) == "ab\ufffd"
    again = TextDomain(state=dom.get_state())
    assert np.array_equal(again.encode("cab"), dom.encode("cab"))


def test_min_count_drops_rare_characters() -> None:
    dom = _fitted("aaaaab", min_count=2)
    assert dom.chars == "a" and dom.encode("b")[0] == UNK


def test_byte_level_takes_any_bytes() -> None:
    dom = _fitted("", level="byte")
    raw = "naïve ☃".encode()
    ids = dom.encode(raw)
    assert dom.input_spec().vocab_size == 257 and ids.min() >= 1
    assert dom.decode(ids) == "naïve ☃"
    stream = dom.stream_decoder()
    assert "".join(stream(int(t)) for t in ids) == "naïve ☃"  # multi-byte chars survive


def test_separator_is_dropped_on_decode() -> None:
    dom = _fitted("xy")
    assert dom.decode(np.array([SEP, 2, 3, SEP])) == "xy"


def test_directory_and_glob_sources(tmp_path: Path) -> None:
    (tmp_path / "d" / "sub").mkdir(parents=True)
    (tmp_path / "d" / "a.txt").write_text("alpha")
    (tmp_path / "d" / "sub" / "b.txt").write_text("beta")
    (tmp_path / "d" / ".hidden").write_text("never")
    dom = TextDomain()
    assert dom.load_corpus(str(tmp_path / "d")).documents == ["alpha", "beta"]
    assert dom.load_corpus(str(tmp_path / "d" / "**" / "*.txt")).documents == ["alpha", "beta"]
    with pytest.raises(SeqgenError, match="no files found"):
        dom.load_corpus(str(tmp_path / "d" / "*.md"))


def test_default_corpus_is_offline_and_sizeable() -> None:
    corpus = TextDomain().load_corpus(None)
    assert len(corpus.documents) > 20 and sum(map(len, corpus.documents)) > 100_000
    assert corpus.key == TextDomain().load_corpus(None).key


def test_corpus_key_follows_contents(tmp_path: Path) -> None:
    f = tmp_path / "c.txt"
    f.write_text("one")
    k1 = TextDomain().load_corpus(str(f)).key
    f.write_text("two")
    assert TextDomain().load_corpus(str(f)).key != k1


def test_text_domain_passes_the_conformance_kit(corpus: Path) -> None:
    from seqgen.testing import check_domain

    check_domain(TextDomain, str(corpus))
    check_domain(TextDomain, str(corpus), {"level": "byte"})


def test_large_files_stream_through_the_encode_cache(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    """Files above BIG_FILE are checked, hashed and encoded block by block (a multi-byte
    character may straddle two blocks) and end in the memory-mapped cache."""
    from seqgen.engine.data import encode_corpus
    from seqgen_text import domain as text_domain

    monkeypatch.setattr(text_domain, "BIG_FILE", 1000)
    monkeypatch.setattr(text_domain, "BLOCK", 777)
    body = "héllo wörld ☃ " * 500
    (tmp_path / "big.txt").write_text(body)
    dom = TextDomain()
    corpus = dom.load_corpus(str(tmp_path / "big.txt"))
    assert isinstance(corpus.documents[0], text_domain.TextFile)
    dom.fit(corpus.documents)
    enc = encode_corpus(dom, corpus, tmp_path / "cache")
    assert isinstance(enc.flat, np.memmap) and dom.decode(np.asarray(enc.flat)) == body
    (tmp_path / "bad.txt").write_bytes(b"a" * 2000 + b"\0" + b"b" * 100)
    with pytest.raises(SeqgenError, match="NUL byte at offset 2000"):
        TextDomain().load_corpus(str(tmp_path / "bad.txt"))


def test_unfinished_cache_entry_is_replaced(tmp_path: Path, corpus: Path) -> None:
    from seqgen.engine.data import codec_key, encode_corpus

    dom = TextDomain()
    c = dom.load_corpus(str(corpus))
    dom.fit(c.documents)
    stale = tmp_path / "cache" / "encoded" / codec_key(dom, c)
    stale.mkdir(parents=True)
    (stale / "flat.npy").write_bytes(b"an older format")
    enc = encode_corpus(dom, c, tmp_path / "cache")
    assert dom.decode(np.asarray(enc.flat)) == corpus.read_text()


def test_samples_start_at_a_line_and_never_draw_the_unknown_token(corpus: Path) -> None:
    import seqgen
    from seqgen.engine.sample import Plan, generate
    from seqgen.engine.settings import SampleSettings

    assert _fitted("ab\ncd").start_prime().tolist() == _fitted("ab\ncd").encode("\n").tolist()
    assert _fitted("abcd").start_prime() is None
    assert _fitted("ab", level="byte").never_sampled() == ()  # there id 1 is the byte 0
    run = seqgen.train("text", str(corpus), preset="tiny", max_steps=3, progress=False).run_dir
    model = seqgen.load(run)
    [bare] = model.sample(length=40, seed=1)
    assert len(bare) == 40  # the newline it starts from is not part of the sample
    [kept] = model.sample(length=40, seed=1, prime="All")
    assert kept.startswith("All") and len(kept) == 43
    # a network whose unknown-character logit dwarfs the rest: the sampler still never draws it
    net = model.net
    with __import__("torch").no_grad():
        net.head.proj.bias[UNK] = 1e4
    ctx = np.array([SEP])
    drawn = generate(net, ctx, SampleSettings(length=30, seed=1), Plan(rows=2, steps=30))
    assert all((s == UNK).all() for s in drawn.sequences)
    kept_out = generate(net, ctx, SampleSettings(length=30, seed=1),
                        Plan(rows=2, steps=30, never=(UNK,)))
    assert not any((s == UNK).any() for s in kept_out.sequences)
