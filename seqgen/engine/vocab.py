"""The alphabet of the texts a text-conditioned model reads (Graves 2013 section 5)."""

from __future__ import annotations

import numpy as np

from seqgen.errors import SeqgenError


class TextVocab:
    """The characters of the conditioning texts: ids 1..V, 0 is padding."""

    def __init__(self, chars: str) -> None:
        self.chars = chars
        self.index = {ch: i + 1 for i, ch in enumerate(chars)}

    @classmethod
    def fit(cls, texts: list[str]) -> TextVocab:
        return cls("".join(sorted(set("".join(texts)))))

    def __len__(self) -> int:
        return len(self.chars)

    def encode(self, text: str, what: str = "--text") -> np.ndarray:
        """Ids of a text; characters outside the alphabet are one clear error, never dropped."""
        unseen = sorted({c for c in text if c not in self.index})
        if unseen:
            shown = " ".join(repr(c) for c in unseen[:12])
            raise SeqgenError(f"{what} has characters outside the model's alphabet: {shown} "
                              f"(the alphabet: {self.chars!r})")
        return np.array([self.index[c] for c in text], dtype=np.int64)

    def decode(self, ids: np.ndarray) -> str:
        """The text of ids (padding dropped)."""
        return "".join(self.chars[i - 1] for i in np.asarray(ids).tolist() if i > 0)

    def grown(self, texts: list[str]) -> tuple[TextVocab, str]:
        """This alphabet with the characters of ``texts`` it lacks appended at its end (the
        ids it had keep their meaning: fine-tuning, engine/grow.py), and those characters."""
        have = set(self.chars)
        added = "".join(sorted({c for t in texts for c in t} - have))
        return TextVocab(self.chars + added), added
