"""``seqgen new-domain NAME``: a plugin package skeleton whose tests pass out of the box."""

from __future__ import annotations

import re
from pathlib import Path

from seqgen.errors import SeqgenError

PYPROJECT = '''[build-system]
requires = ["setuptools>=68"]
build-backend = "setuptools.build_meta"

[project]
name = "seqgen-{name}"
version = "0.1.0"
description = "A seqgen domain: {name}"
requires-python = ">=3.11"
dependencies = ["seqgen"]

[project.entry-points.seqgen]
{name} = "seqgen_{name}"

[tool.setuptools]
packages = ["seqgen_{name}"]
'''

INIT = '''"""seqgen-{name}: a seqgen domain plugin."""

from seqgen.hookspecs import hookimpl

SEQGEN_PLUGIN_API = 1


@hookimpl
def register_domains(register):
    from seqgen_{name}.domain import {cls}

    register({cls})
'''

DOMAIN = '''"""The {name} domain. Start here: replace the toy corpus and codec with your own.

seqgen's docs/plugins.md walks through a whole plugin (DNA, FASTA in and out) and the conformance
kit that tests it; docs/engine.md lists every method a Domain may have (a rule that forbids
tokens, a rule that ends a sample, priming, renderers).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqgen.domain import Corpus, Domain, HeadSpec, Renderer, TokenInput
from seqgen.errors import SeqgenError

SYMBOLS = "0123456789 "  # token 0 separates documents; symbols are 1..len(SYMBOLS)


@dataclass
class {cls}Options:
    size: int = field(default=200, metadata={{"help": "documents in the toy corpus"}})


def read_txt(path: Path) -> str:
    text = path.read_text(encoding="utf-8")
    bad = set(text) - set(SYMBOLS)
    if bad:
        raise SeqgenError(f"{{path}}: characters outside the alphabet: {{sorted(bad)}}")
    return text


def write_txt(sample: str, path: Path) -> None:
    path.write_text(sample, encoding="utf-8")


class {cls}(Domain):
    name = "{name}"
    version = "0.1.0"
    description = "Toy counting sequences (replace with yours)"
    input_formats = (".txt",)
    default_corpus = "counting sequences made by the plugin"
    unit = "symbol"
    default_render = ".txt"
    Options = {cls}Options

    def load_corpus(self, source: str | None) -> Corpus:
        if source is None:
            rng = np.random.default_rng(0)
            docs = [" ".join(str(int(rng.integers(0, 50)) + i) for i in range(8))
                    for _ in range(self.options.size)]
        else:
            path = Path(source)
            if not path.is_file():
                raise SeqgenError(f"{{source}}: no such file")
            docs = [read_txt(path)]
        key = hashlib.sha256("\\n".join(docs).encode()).hexdigest()
        return Corpus(source or "toy", key, docs)

    def encode(self, document: str) -> np.ndarray:
        return np.array([SYMBOLS.index(c) + 1 for c in document], dtype=np.int64)

    def decode(self, array: np.ndarray) -> str:
        return "".join(SYMBOLS[int(t) - 1] for t in array if t > 0)

    def input_spec(self) -> TokenInput:
        return TokenInput(len(SYMBOLS) + 1)

    def head_spec(self) -> HeadSpec:
        return HeadSpec("categorical", {{"num_classes": len(SYMBOLS) + 1}})

    def separator(self) -> int:
        return 0

    def constraint_rule(self, prime: object = None) -> Callable[[np.ndarray], np.ndarray]:
        """Never two spaces in a row: the tokens so far (B, T) -> (B, V) True where forbidden."""
        space = SYMBOLS.index(" ") + 1

        def one_space(seen: np.ndarray) -> np.ndarray:
            forbid = np.zeros((len(seen), len(SYMBOLS) + 1), dtype=bool)
            forbid[:, space] = seen[:, -1] == space
            return forbid
        return one_space

    def renderers(self) -> dict[str, Renderer]:
        return {{".txt": Renderer(".txt", write_txt, "plain text", read=read_txt),
                **super().renderers()}}
'''

TEST = '''"""The conformance kit from seqgen.testing runs every check on the domain (one test a
check; ``seqgen.testing.check_domain`` runs them all from one test function)."""

import numpy as np

from seqgen.testing import DomainConformance
from seqgen_{name}.domain import {cls}


class Test{cls}(DomainConformance):
    domain = {cls}

    def bad_sources(self, tmp_path):
        (tmp_path / "letters.txt").write_text("not digits")
        return [str(tmp_path / "letters.txt"), str(tmp_path / "no-such-file.txt")]


def test_never_two_spaces_in_a_row():
    rule = {cls}().constraint_rule()
    space = len("0123456789 ")  # the token of " "
    forbid = rule(np.array([[0, 1, space], [0, space, 2]]))
    assert forbid[0, space] and not forbid[1, space]
'''

README = '''# seqgen-{name}

A seqgen domain plugin made by `seqgen new-domain {name}`. seqgen's docs/plugins.md is the
tutorial (a complete DNA plugin and the conformance kit); docs/engine.md lists the Domain
interface.

```bash
pip install -e .            # registers the domain through the `seqgen` entry-point group
seqgen domains              # lists {name}
python -m pytest            # the conformance kit
seqgen train --domain {name} --preset tiny
seqgen sample --domain {name} --render out.txt
```
'''


def new_domain(name: str, where: Path) -> Path:
    """Write seqgen-NAME/ under ``where``; return its path."""
    if not re.fullmatch(r"[a-z][a-z0-9_]{0,30}", name):
        raise SeqgenError(f"domain name {name!r}: use lowercase letters, digits and _ "
                          f"(a letter first)")
    root = where / f"seqgen-{name}"
    if root.exists():
        raise SeqgenError(f"{root} already exists")
    cls = "".join(part.capitalize() for part in name.split("_")) + "Domain"
    files = {
        "pyproject.toml": PYPROJECT, f"seqgen_{name}/__init__.py": INIT,
        f"seqgen_{name}/domain.py": DOMAIN, f"tests/test_{name}.py": TEST, "README.md": README,
    }
    for rel, template in files.items():
        path = root / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(template.format(name=name, cls=cls), encoding="utf-8")
    return root
