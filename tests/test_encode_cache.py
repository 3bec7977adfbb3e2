"""The encoded-corpus cache follows the domain's code (issue 28 item 1): an edited ``encode``
with the same ``version`` is called again, not answered from the cache."""

from __future__ import annotations

import importlib
import shutil
import sys
from pathlib import Path

import numpy as np
import pytest

PLUGIN = '''
import numpy as np
from seqgen.domain import Corpus, Domain, HeadSpec, TokenInput


class Letters(Domain):
    name = "letters"
    version = "1"

    def load_corpus(self, source):
        return Corpus("abc", "abc-1", ["abcabc", "cab"])

    def encode(self, document):
        return np.array([OFFSET + "abc".index(c) for c in document])

    def decode(self, array):
        return "".join("abc"[int(t) - OFFSET] for t in array)

    def input_spec(self):
        return TokenInput(8)

    def head_spec(self):
        return HeadSpec("categorical", {"num_classes": 8})

    def separator(self):
        return 0


OFFSET = 1
'''


def _load(folder: Path, offset: int) -> type:
    (folder / "letters_plugin").mkdir(exist_ok=True)
    (folder / "letters_plugin" / "__init__.py").write_text("")
    helper = folder / "letters_plugin" / "domain.py"
    helper.write_text(PLUGIN.replace("OFFSET = 1", f"OFFSET = {offset}"))
    for name in ("letters_plugin.domain", "letters_plugin"):  # another test's folder
        sys.modules.pop(name, None)
    # an edit within the same second and of the same size would reuse the stale bytecode
    shutil.rmtree(folder / "letters_plugin" / "__pycache__", ignore_errors=True)
    importlib.invalidate_caches()
    module = importlib.import_module("letters_plugin.domain")
    return module.Letters


def test_an_edited_encode_is_encoded_again(tmp_path: Path,
                                           monkeypatch: pytest.MonkeyPatch) -> None:
    from seqgen.engine.data import codec_key, encode_corpus

    monkeypatch.syspath_prepend(str(tmp_path))
    first = _load(tmp_path, 1)()
    corpus = first.load_corpus(None)
    enc = encode_corpus(first, corpus, tmp_path / "cache")
    assert np.asarray(enc.flat).tolist() == [0, 1, 2, 3, 1, 2, 3, 0, 3, 1, 2, 0]
    again = encode_corpus(first, corpus, tmp_path / "cache")  # the same code: from the cache
    assert again.key == enc.key
    edited = _load(tmp_path, 4)()  # the same name and version, another encode
    assert codec_key(edited, corpus) != enc.key  # the key reads the code as it is now
    enc2 = encode_corpus(edited, corpus, tmp_path / "cache")
    assert np.asarray(enc2.flat).tolist() == [0, 4, 5, 6, 4, 5, 6, 0, 6, 4, 5, 0]
    # a helper module of the plugin's package counts too
    (tmp_path / "letters_plugin" / "tables.py").write_text("ALPHABET = 'abc'\n")
    assert codec_key(edited, corpus) != enc2.key


def test_the_kit_names_a_token_outside_the_vocabulary(tmp_path: Path,
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    """``check_tokens`` (in check_domain and DomainConformance): an off-by-one over reserved
    tokens is named with the limit, not met later as torch's IndexError (issue 28 item 2)."""
    from seqgen.testing import check_tokens

    monkeypatch.syspath_prepend(str(tmp_path))
    fine = _load(tmp_path, 1)()
    check_tokens(fine, fine.load_corpus(None).documents)
    over = _load(tmp_path, 6)()  # tokens 6, 7, 8 with 8 classes: 8 is out
    with pytest.raises(AssertionError, match=r"encodes to token 8, outside 0\.\.7"):
        check_tokens(over, over.load_corpus(None).documents)
