"""Sentences of the embedded eSpeak corpus: statements, questions, numbers, times, names.

A seeded generator over a small grammar, so that the same size and seed give the same corpus.
Sentences run from 3 to about 15 words; eSpeak NG reads the digits, times and prices itself.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

ADJ = ("red", "green", "blue", "small", "big", "old", "new", "quiet", "loud", "quick", "slow",
       "happy", "sad", "bright", "dark", "warm", "cold", "soft", "hard", "little", "tall",
       "short", "young", "clever", "lazy", "brave", "calm", "kind", "wild", "gentle", "yellow",
       "busy", "empty", "heavy", "strange", "famous", "tired", "hungry", "careful", "modern")
NOUN = ("cat", "dog", "bird", "fish", "house", "tree", "river", "garden", "window", "table",
        "book", "letter", "doctor", "teacher", "child", "friend", "city", "road", "ship",
        "train", "apple", "orange", "music", "voice", "morning", "evening", "winter", "summer",
        "mountain", "forest", "farmer", "sailor", "horse", "clock", "paper", "story", "song",
        "king", "queen", "world", "light", "water", "stone", "cloud", "island", "market",
        "bridge", "office", "kitchen", "engine", "picture", "village", "student", "bottle",
        "jacket", "thunder", "bicycle", "answer", "journey", "machine", "penguin", "pleasure")
VERB = ("sees", "finds", "likes", "takes", "makes", "hears", "calls", "helps", "paints",
        "follows", "watches", "carries", "opens", "closes", "reads", "writes", "loves",
        "wants", "needs", "keeps", "brings", "visits", "remembers", "answers", "pushes",
        "measures", "borrows", "touches", "chooses", "forgets", "throws", "catches")
IVERB = ("sleeps", "sings", "waits", "runs", "smiles", "falls", "works", "speaks", "laughs",
         "listens", "dances", "walks", "rests", "shines", "moves", "arrives", "leaves",
         "returns", "whispers", "travels", "changes", "begins", "stays")
ADV = ("today", "again", "slowly", "quickly", "at night", "in the morning", "every day",
       "here", "there", "once more", "at noon", "by the sea", "after lunch", "before dawn",
       "on sunday", "next week", "all year", "without a word", "in the garden")
NAME = ("anna", "peter", "maria", "john", "lucy", "david", "emma", "oliver", "sarah", "tom",
        "james", "sophie", "michael", "hannah", "george", "olivia", "thomas", "isabel",
        "charles", "victoria", "joseph", "elizabeth", "robert", "jessica", "william", "zoe")
PLACE = ("london", "paris", "boston", "chicago", "berlin", "tokyo", "the station",
         "the airport", "the office", "the museum", "the beach", "the hospital", "the school")
WORDS = ("hello", "yes", "no", "please", "thank you", "good morning", "good night", "sorry",
         "of course", "well", "oh", "excuse me", "goodbye", "welcome")
UNIT = ("dollars", "miles", "minutes", "people", "pages", "books", "years", "kilometres",
        "pounds", "degrees", "houses", "eggs")
WH = ("where", "when", "why", "how")
BARE = ("go", "sleep", "work", "wait", "sing", "travel", "stay", "run", "rest")
BARE_T = ("see", "find", "call", "help", "visit", "open", "remember", "choose", "bring")


def _number(rng: np.random.Generator) -> str:
    """A number of one to four digits, each length as likely."""
    lo, hi = ((2, 20), (20, 100), (100, 1000), (1000, 10000))[int(rng.integers(4))]
    return str(int(rng.integers(lo, hi)))


def _time(rng: np.random.Generator) -> str:
    hour = int(rng.integers(1, 13))
    kind = int(rng.integers(4))
    if kind == 0:
        return f"{hour}:{int(rng.integers(0, 12)) * 5:02d}"
    if kind == 1:
        return f"half past {hour}"
    if kind == 2:
        return f"quarter to {hour}"
    return f"{hour} o'clock"


def _np(rng: np.random.Generator) -> str:
    """A noun phrase: a name, or a determiner with an optional adjective and a noun."""
    def c(words: tuple[str, ...]) -> str:
        return str(words[int(rng.integers(len(words)))])
    r = int(rng.integers(6))
    if r == 0:
        return c(NAME)
    det = c(("the", "the", "a", "my", "her", "this", "every"))
    words = f"{c(ADJ)} {c(NOUN)}" if r < 4 else c(NOUN)
    return f"{'an' if det == 'a' and words[0] in 'aeiou' else det} {words}"


def _pick(rng: np.random.Generator) -> Callable[[tuple[str, ...]], str]:
    return lambda words: str(words[int(rng.integers(len(words)))])


def _clause(rng: np.random.Generator) -> str:
    """A clause: subject, verb, and an object, an adverb or an adjective."""
    c, n = _pick(rng), lambda: _np(rng)
    forms: tuple[Callable[[], str], ...] = (
        lambda: f"{n()} {c(VERB)} {n()}", lambda: f"{n()} {c(IVERB)} {c(ADV)}",
        lambda: f"{n()} is {c(ADJ)}", lambda: f"{n()} {c(VERB)} {n()} {c(ADV)}",
        lambda: f"{n()} {c(IVERB)}")
    return forms[int(rng.integers(5))]()


def _counted(rng: np.random.Generator, verb: str) -> str:
    return f"{_np(rng)} {verb} {_number(rng)} {_pick(rng)(UNIT)}."


def sentence(rng: np.random.Generator) -> str:
    """One sentence of 2 to 18 words: a statement, a question, numbers, a time, a name."""
    c, n, cl = _pick(rng), lambda: _np(rng), lambda: _clause(rng)
    plain: Callable[[], str] = lambda: f"{cl()}."  # noqa: E731 (three of the twelve forms)
    forms: tuple[Callable[[], str], ...] = (
        plain, plain, plain,
        lambda: f"{cl()}, {c(('and', 'but', 'because', 'so', 'while'))} {cl()}.",
        lambda: f"{c(WH)} does {n()} {c(BARE)} {c(ADV)}?",
        lambda: f"{c(('did', 'can', 'will', 'should'))} {n()} {c(BARE_T)} {n()}?",
        lambda: f"the {c(NOUN)} leaves {c(PLACE)} at {_time(rng)}.",
        lambda: _counted(rng, c(("has", "needs", "wants", "counts", "found"))),
        lambda: f"{c(WORDS)}, {c(NAME)}. {cl()}.",
        lambda: f"is {n()} {c(ADJ)} {c(ADV)}?",
        lambda: f"in {int(rng.integers(1900, 2030))}, {c(NAME)} moved to {c(PLACE)}.",
        lambda: f"{c(NAME)} and {c(NAME)} {c(('live', 'work', 'meet', 'wait'))} in {c(PLACE)}.")
    return forms[int(rng.integers(12))]()
