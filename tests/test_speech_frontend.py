"""The phoneme front end from eSpeak NG itself (issue 25 section 1): the phonemes of any text,
and while it speaks, each phoneme with its samples."""

from __future__ import annotations

import numpy as np
import pytest

from seqgen.errors import SeqgenError
from seqgen_speech import corpus, espeak

TEXT = "The train leaves at 4:30, Dr. Wu?"


def test_phonemes_of_a_sentence_numbers_and_abbreviations_included() -> None:
    words = espeak.phonemes("the train")
    assert words == [["ð", "ə"], ["t", "ɹ", "ˈeɪ", "n"]]  # IPA, stress on its vowel
    said = [p for w in espeak.phonemes(TEXT) for p in w]
    assert {"f", "ˈɔːɹ", "θ", "ˈɜː"} <= set(said)  # 4:30 is "four thirty": eSpeak's job
    assert {"d", "ˈɑː", "k", "t", "ɚ"} <= set(said)  # Dr. is "doctor"


def test_each_phoneme_with_its_samples_as_it_was_spoken() -> None:
    audio, phones = espeak.timed(TEXT)
    spoken = [p.symbol for p in phones if p.symbol]
    assert spoken == [p for w in espeak.phonemes(TEXT) for p in w]  # one reading, both ways
    starts = [p.start for p in phones]
    assert starts == sorted(starts) and all(p.end >= p.start for p in phones)
    assert all(a.end == b.start for a, b in zip(phones, phones[1:], strict=False))
    assert phones[-1].end == len(audio) and audio.dtype == np.float32
    frames = np.array([p.samples for p in phones if p.symbol]) / 256  # hops of 256 samples
    assert 2 <= np.median(frames) <= 12  # field-facts: median 6.4 frames, 3.0 to 16.6
    assert "" in {p.symbol for p in phones}  # the pause at the comma
    # the corpus's own speech is the same synthesis (eSpeak keeps a little state from one
    # utterance to the next: lengths agree to a few samples, not bit for bit)
    assert abs(len(corpus.trim(audio)) - len(corpus.speak(TEXT))) < 64


def test_a_slower_rate_gives_longer_phonemes() -> None:
    _, fast = espeak.timed("hello there", rate=220)
    _, slow = espeak.timed("hello there", rate=120)
    assert sum(p.samples for p in slow) > 1.4 * sum(p.samples for p in fast)
    assert [p.symbol for p in slow if p.symbol] == [p.symbol for p in fast if p.symbol]


@pytest.mark.parametrize("text,words", [("", "is empty"), ("  \n", "is empty"),
                                        ("...", "finds nothing to say")])
def test_an_empty_or_unspeakable_text_is_one_line(text: str, words: str) -> None:
    for call in (espeak.phonemes, espeak.timed):
        with pytest.raises(SeqgenError, match=words) as err:
            call(text)
        assert "\n" not in str(err.value) and str(err.value).startswith("--text")
    with pytest.raises(SeqgenError, match="no voice 'xx-nonesuch'"):
        espeak.phonemes("hello", voice="xx-nonesuch")


def test_the_embedded_corpus_carries_phonemes_and_their_frames() -> None:
    from seqgen.domain import parse_options
    from seqgen_speech.domain import SpeechDomain, SpeechOptions

    dom = SpeechDomain(parse_options(SpeechOptions, {"sentences": "6"}))
    utts = dom.load_corpus(None).documents
    assert len(utts) == 6
    for u in utts:
        assert u.phones and u.durations is not None and len(u.phones) == len(u.durations)
        assert int(u.durations.sum()) == len(u.frames)  # every frame belongs to a phoneme
        assert (u.durations >= 0).all()
        spoken = [p for p in u.phones if p]
        assert spoken == [p for w in espeak.phonemes(u.text) for p in w], u.text
    again = SpeechDomain(parse_options(SpeechOptions, {"sentences": "6"})).load_corpus(None)
    assert [u.phones for u in again.documents] == [u.phones for u in utts]  # from the cache
