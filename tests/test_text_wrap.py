"""Text of any length (issue 27 item 2, first part): a --text line longer than the model writes
well is wrapped at word boundaries into lines, so that a paragraph comes out as a page."""

from __future__ import annotations

import pytest

from seqgen.inference import _wrap


def test_wrap_cuts_at_word_boundaries_and_keeps_long_words_whole() -> None:
    text = "Ask Dr. Wu about the 42 boxes, then call QUINN at 9."
    lines = _wrap(text, 20)
    assert lines == ["Ask Dr. Wu about the", "42 boxes, then call", "QUINN at 9."]
    assert " ".join(lines) == text and all(len(ln) <= 20 for ln in lines)
    assert _wrap("a supercalifragilistic word", 10) == ["a", "supercalifragilistic", "word"]
    assert _wrap(text, None) == [text] and _wrap("short", 20) == ["short"]


def test_the_shipped_handwriting_model_writes_a_paragraph_as_lines() -> None:
    pytest.importorskip("seqgen_handwriting")
    import seqgen

    model = seqgen.load(model="cursive")
    assert model.domain.line_chars == 75  # its corpus's longest lines
    assert model.domain.line_width() == 60  # a style prime and a line fit in 75
    text = ("On Monday the Riverside Book Club met at 7 pm in the back room of Luigi's Cafe, "
            "42 Elm Street; twelve members came. Next meeting: April 12.")
    page = model.sample(text=text, seed=1, redraw=0)[0]
    said = [line.text for line in page.lines]
    assert " ".join(said) == text and len(said) == 3 and max(map(len, said)) <= 60


def test_chained_lines_are_each_primed_with_the_line_before(monkeypatch: pytest.MonkeyPatch
                                                             ) -> None:
    """``TextConditioned.chain_lines``: the lines of a page are written one after another, each
    from the ink and the text of the line before (seqgen/lines.py), not side by side."""
    pytest.importorskip("seqgen_handwriting")
    import seqgen
    from seqgen import lines

    model = seqgen.load(model="cursive")
    monkeypatch.setattr(model.domain, "chain_lines", True)
    monkeypatch.setattr(model.domain, "page_style", None)  # the first line in no style
    contexts: list[tuple[int, str]] = []
    real = lines.generate

    def spy(net, context, settings, plan, device):  # type: ignore[no-untyped-def]
        contexts.append((len(context), model.vocab.decode(plan.cond[0])))
        return real(net, context, settings, plan, device)

    monkeypatch.setattr(lines, "generate", spy)
    text = "the quick brown fox\njumps over the lazy\ndog"
    page = model.sample(text=text, seed=2, redraw=0)[0]
    said = [line.text for line in page.lines]
    assert said == ["the quick brown fox", "jumps over the lazy", "dog"]
    assert [text for _, text in contexts] == [
        "the quick brown fox", "the quick brown fox jumps over the lazy",
        "jumps over the lazy dog"]  # each row: the line before, then its own
    first, *later = [n for n, _ in contexts]
    assert first == 1 and all(n > 20 for n in later)  # the line before's ink as the prime
    assert all(len(line.strokes) > 5 for line in page.lines)
    whole = later[0]
    contexts.clear()  # chain_chars: only the last words of the line before prime the next
    monkeypatch.setattr(model.domain, "chain_chars", 10)
    model.sample(text=text, seed=2, redraw=0)
    assert contexts[1][1] == "brown fox jumps over the lazy" and 1 < contexts[1][0] < whole
