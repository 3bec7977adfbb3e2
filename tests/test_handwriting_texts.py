"""The synthetic corpus's text (texts.py) and the prime a chained line hands on (lines.tail)."""

from __future__ import annotations

import re

import numpy as np

from seqgen.lines import tail
from seqgen_handwriting import synth, texts
from seqgen_handwriting.domain import HandwritingDomain


def test_lines_wrap_at_words_up_to_the_width_and_vary_in_length() -> None:
    lines = texts.make_texts(3000, seed=3, max_chars=75)
    assert len(lines) == 3000 and lines == texts.make_texts(3000, seed=3, max_chars=75)
    lengths = np.array([len(t) for t in lines])
    assert lengths.max() <= 75 and lengths.min() >= 1
    assert (lengths > 60).mean() > 0.15 and (lengths < 35).mean() > 0.15  # long and short
    assert all(t == t.strip() and "  " not in t for t in lines)
    assert texts.make_texts(50, seed=4, max_chars=75) != lines[:50]


def test_what_people_type_is_there_at_useful_rates() -> None:
    body = "\n".join(texts.make_texts(4000, seed=0, max_chars=75))
    n = len(body)
    assert 0.03 < sum(c.isupper() for c in body) / n < 0.1
    assert 0.02 < sum(c.isdigit() for c in body) / n < 0.1
    assert body.count(",") / n > 0.008 and body.count(".") / n > 0.008
    assert re.search(r"\b[A-Z]{2,}\b", body)  # words in capitals
    assert re.search(r"\b\d{1,2}:\d\d\b", body)  # times
    assert re.search(r"\b(January|March|May|July|October|December) \d{1,2}, \d{4}", body)
    assert re.search(r"\d+ [A-Z][a-z]+ (Street|St\.|Road|Lane|Ave\.)", body)  # addresses
    assert re.search(r"\b(Dr|Mr|Mrs|Ms|Prof)\. [A-Z]", body)  # titles
    assert re.search(r"\w@\w", body) and "$" in body and "%" in body
    wanted = set(synth.alphabet()) - set(" _^|\\~`")  # all but symbols nobody handwrites
    assert wanted <= set(body), sorted(wanted - set(body))  # the pangrams come first


def test_short_widths_cut_words_that_do_not_fit() -> None:
    lines = texts.make_texts(200, seed=1, max_chars=6)
    assert max(len(t) for t in lines) <= 6


def test_writers_alternate_script_faces() -> None:
    faces = [w.face for w in synth.make_writers(8)]
    assert set(faces) == set(synth.FACES) and faces[0] != faces[1]
    a = synth.write_line("Quick 42", synth.make_writers(2)[0], np.random.default_rng(0))
    b = synth.write_line("Quick 42", synth.make_writers(2)[1], np.random.default_rng(0))
    assert a and b and sum(map(len, a)) != sum(map(len, b))


def _strokes(n: int, lifts: list[int]) -> np.ndarray:
    rows = np.zeros((n, 3), np.float32)
    rows[lifts, 2] = 1.0
    return rows


def test_a_chained_prime_keeps_the_last_words_from_a_new_stroke() -> None:
    dom = HandwritingDomain({"lines": 4, "max_chars": 8})
    dom.chain_chars = 10
    line = "one two three four"  # the kept words: "three four" (10 characters)
    steps = _strokes(90, [9, 29, 49, 59, 89])
    att = np.zeros((1, 90, 4 + len(line)))  # a 3-character prime "abc" + " " came before
    for t in range(90):
        att[0, t, 4 + min(len(line) - 1, t // 5)] = 1.0  # 5 steps a character
    got, text = tail(dom, steps, att, 4, line)
    assert text == "three four"
    # "three" starts at character 8: step 40; the next stroke starts after the lift at 49
    assert len(got) == 90 - 50 and np.array_equal(got, steps[50:])


def test_a_chained_prime_is_whole_without_a_limit_or_attention() -> None:
    dom = HandwritingDomain({"lines": 4, "max_chars": 8})
    steps = _strokes(30, [9, 29])
    assert tail(dom, steps, None, 0, "a b c")[1] == "a b c"
    dom.chain_chars = 0
    assert tail(dom, steps, np.ones((1, 30, 5)), 0, "a b c")[0] is steps
    dom.chain_chars = 40
    assert tail(dom, steps, np.ones((1, 30, 5)), 0, "a b c")[1] == "a b c"  # short: whole
