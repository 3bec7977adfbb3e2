"""The lines the synthetic writers write: what people type, wrapped as a page wraps it.

A stream of sentences is drawn from two kinds: plain prose from a word list (commas, semicolons,
questions, quotes and apostrophes at about the rates of English prose) and everyday notes full of
what a word list lacks: names with titles, numbers, money, times, dates, addresses, phone
numbers, e-mail addresses and words in capitals ("Ask Dr. Wu about the 42 boxes, then call
QUINN at 9:30."). The stream is wrapped at word boundaries into lines of varied width, up to
``max_chars`` (75 by default: the longest line sjvasquez's handwriting-synthesis takes), so
that lines start and end mid-sentence as the lines of a page do, short lines included. The
pangrams come first so that every character is written. Seeded: the same arguments give the
same lines.
"""

from __future__ import annotations

import numpy as np

from seqgen_handwriting.words import (
    CAPS,
    FIRST,
    LAST,
    MONTHS,
    NOUNS,
    PLACES,
    STREETS,
    TITLES,
    VERBS,
    WORDS,
)

PANGRAMS = ["The quick brown fox jumps over the lazy dog.",
            "Pack my box with five dozen liquor jugs!",
            "Jackdaws love my big sphinx of quartz.",
            "How vexingly quick daft zebras jump;",
            "Sphinx of black quartz, judge my vow:",
            "Quiet Xavier and Zoe (aged 12) won 3-0 \"fairly\".",
            "Zurich, Quebec, Xenia: 4567 or 890?",
            "Mr. Jock, TV quiz PhD, bags few lynx.",
            "JUMPY WIZARDS VEX BOLD FOXES & QUICK GNOMES #1 @ 7% [ok] {no} <yes> / 5 * 6 = 30 + 0"]

Rng = np.random.Generator


def _pick(rng: Rng, words: tuple[str, ...] | list[str]) -> str:
    return str(words[int(rng.integers(len(words)))])


def _number(rng: Rng) -> str:
    kind = int(rng.integers(9))
    n = int(rng.integers(1, 10 ** int(rng.integers(1, 5))))
    if kind == 0:
        return f"{n:,}"
    if kind == 1:
        return f"${n % 500}.{int(rng.integers(100)):02d}"
    if kind == 2:
        return f"{n % 100}%"
    if kind == 3:
        k = n % 40 + 1
        return f"{k}{'th' if 10 < k % 100 < 14 else {1: 'st', 2: 'nd', 3: 'rd'}.get(k % 10, 'th')}"
    if kind == 4:
        return f"{n % 20}.{int(rng.integers(10))}"
    if kind == 5:
        return f"{n % 50}-{n % 50 + int(rng.integers(1, 9))}"
    return str(n)


def _time(rng: Rng) -> str:
    h, m = int(rng.integers(1, 13)), int(rng.integers(0, 12)) * 5
    if rng.random() < 0.5:
        return f"{h}:{m:02d} {_pick(rng, ('am', 'pm', 'a.m.', 'p.m.'))}"
    return f"{h + 12 * int(rng.integers(2)):02d}:{m:02d}" if rng.random() < 0.5 else f"{h}:{m:02d}"


def _date(rng: Rng) -> str:
    d, mo, y = int(rng.integers(1, 29)), int(rng.integers(12)), int(rng.integers(1950, 2031))
    month = MONTHS[mo]
    return [f"{month} {d}, {y}", f"{d} {month} {y}", f"{d:02d}/{mo + 1:02d}/{y % 100:02d}",
            f"{y}-{mo + 1:02d}-{d:02d}", f"{month[:3]}. {d}", f"{month} {d}"][int(rng.integers(6))]


def _person(rng: Rng) -> str:
    r = rng.random()
    if r < 0.35:
        return f"{_pick(rng, TITLES)} {_pick(rng, LAST)}"
    if r < 0.7:
        return f"{_pick(rng, FIRST)} {_pick(rng, LAST)}"
    return _pick(rng, FIRST) if r < 0.9 else _pick(rng, LAST).upper()


def _address(rng: Rng) -> str:
    street = f"{int(rng.integers(1, 400))} {_pick(rng, STREETS)}"
    if rng.random() < 0.5:
        return f"{street}, {_pick(rng, PLACES)}"
    code = (f"{int(rng.integers(10000, 99999))}" if rng.random() < 0.6 else
            f"{chr(65 + int(rng.integers(26)))}{chr(65 + int(rng.integers(26)))}"
            f"{int(rng.integers(1, 20))} {int(rng.integers(10))}{chr(65 + int(rng.integers(26)))}"
            f"{chr(65 + int(rng.integers(26)))}")
    return f"{street}, {_pick(rng, PLACES)} {code}"


def _contact(rng: Rng) -> str:
    a, b = int(rng.integers(200, 999)), int(rng.integers(1000, 9999))
    first = _pick(rng, FIRST).lower()
    return [f"{a}-{b}", f"({int(rng.integers(200, 999))}) {a}-{b}", f"+44 {a} {b}",
            f"{first}@{_pick(rng, NOUNS)}.com", f"{first}.{_pick(rng, LAST).lower()}@mail.org",
            f"www.{_pick(rng, NOUNS)}{int(rng.integers(10, 99))}.net"][int(rng.integers(6))]


def _prose(rng: Rng) -> str:
    """A sentence of plain words: a capital to start, commas at about one in ten words."""
    words = [_pick(rng, WORDS) for _ in range(int(rng.integers(4, 16)))]
    for i in range(1, len(words) - 1):
        r = rng.random()
        if r < 0.09:
            words[i] += ","
        elif r < 0.11:
            words[i] += _pick(rng, (";", ":", " -"))
        elif r < 0.14:
            words[i] = _pick(rng, FIRST + PLACES)
        elif r < 0.16:
            words[i] = _pick(rng, ("it's", "don't", "I'm", "we'll", "can't", "you're", "o'clock",
                                   f"{_pick(rng, FIRST)}'s"))
    if rng.random() < 0.06:
        i = int(rng.integers(len(words)))
        words[i] = f"\"{words[i]}\"" if rng.random() < 0.6 else f"({words[i]})"
    words[0] = words[0][:1].upper() + words[0][1:]
    return " ".join(words) + _pick(rng, (".", ".", ".", ".", ".", "?", "!", "...", ";"))


def _note(rng: Rng) -> str:
    """An everyday note: names, numbers, times, dates, places, addresses, capitals."""
    who, other, n, noun = _person(rng), _person(rng), _number(rng), _pick(rng, NOUNS)
    verb, caps = _pick(rng, VERBS), _pick(rng, CAPS)
    forms = [f"Ask {who} about the {n} {noun}, then call {other} at {_time(rng)}.",
             f"{caps}: {verb} the {noun} to {_address(rng)} by {_date(rng)}.",
             f"Meet {who} at {_pick(rng, PLACES)} on {_date(rng)} at {_time(rng)}.",
             f"{who} paid {_number(rng)} for {n} {noun} ({_date(rng)}).",
             f"Call {who} on {_contact(rng)} or write to {_contact(rng)}.",
             f"\"{caps}!\" said {who}, and left at {_time(rng)}.",
             f"Invoice #{int(rng.integers(100, 99999))}: {n} x {noun} = {_number(rng)}",
             f"{_date(rng)} - {verb} {n} {noun} with {who}; {caps}.",
             f"Please {verb} the {noun} to {who}, {_address(rng)}.",
             f"Room {int(rng.integers(1, 500))}, {_pick(rng, ('Level', 'Floor', 'Flat'))} "
             f"{int(rng.integers(1, 30))}: {who} ({_contact(rng)})"]
    return forms[int(rng.integers(len(forms)))]


def _width(rng: Rng, max_chars: int) -> int:
    """A line's width: mostly long lines, as a page's lines are, a third short ones."""
    lo = min(8, max_chars)
    if rng.random() < 0.3:
        return int(rng.integers(lo, max(lo + 1, max_chars // 2)))
    return int(rng.integers(max(lo, max_chars // 2), max_chars + 1))


def wrap_stream(rng: Rng, n: int, max_chars: int) -> list[str]:
    """n lines: a sentence stream wrapped at word boundaries to drawn widths; a word longer
    than a line is cut."""
    lines: list[str] = []
    line, width = "", _width(rng, max_chars)
    while len(lines) < n:
        sentence = _note(rng) if rng.random() < 0.4 else _prose(rng)
        for word in sentence.split():
            word = word[:max_chars]
            if line and len(line) + 1 + len(word) > width:
                lines.append(line)
                line, width = "", _width(rng, max_chars)
            line = f"{line} {word}" if line else word
    return lines[:n]


def make_texts(n: int, seed: int = 0, max_chars: int = 75) -> list[str]:
    """n lines of text of at most max_chars characters; the pangrams (cut to fit) come first."""
    rng = np.random.default_rng([seed, 104729])
    first = [chunk for p in PANGRAMS for chunk in _chunks(p, max_chars)][:n]
    return first + wrap_stream(rng, n - len(first), max_chars)


def _chunks(text: str, max_chars: int) -> list[str]:
    out = [""]
    for word in text.split():
        word = word[:max_chars]
        if out[-1] and len(out[-1]) + 1 + len(word) > max_chars:
            out.append("")
        out[-1] = f"{out[-1]} {word}".strip()
    return out
