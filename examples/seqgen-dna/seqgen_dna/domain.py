"""DNA as a sequence of bases: FASTA files in, FASTA files out."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from seqgen.domain import Corpus, Domain, HeadSpec, Prime, Renderer, TokenInput
from seqgen.errors import SeqgenError

BASES = "ACGTN"  # token 0 separates records; bases are 1..5
CODONS = [a + b + c for a in "ACGT" for b in "ACGT" for c in "ACGT"]
STOPS = {"TAA", "TAG", "TGA"}


@dataclass
class DnaOptions:
    genes: int = field(default=400, metadata={"help": "genes in the built-in synthetic corpus"})


def read_fasta(path: Path) -> list[str]:
    """Records of a FASTA file; anything but A, C, G, T, N in a sequence line is an error."""
    records: list[str] = []
    current: list[str] = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1):
        if line.startswith(">"):
            if current:
                records.append("".join(current))
            current = []
        elif line.strip():
            seq = line.strip().upper()
            bad = set(seq) - set(BASES)
            if bad:
                raise SeqgenError(f"{path}:{number}: not a DNA base: {''.join(sorted(bad))}")
            current.append(seq)
    if current:
        records.append("".join(current))
    if not records:
        raise SeqgenError(f"{path}: no FASTA records")
    return records


def synthetic_genes(n: int, seed: int = 0) -> list[str]:
    """Toy genes: ATG, 20 to 80 sense codons, a stop codon. The model can learn the frame."""
    rng = np.random.default_rng(seed)
    sense = [c for c in CODONS if c not in STOPS]
    genes = []
    for _ in range(n):
        body = rng.choice(sense, size=int(rng.integers(20, 80)))
        genes.append("ATG" + "".join(body) + str(rng.choice(sorted(STOPS))))
    return genes


def write_fasta(sample: str, path: Path) -> None:
    lines = [sample[i:i + 60] for i in range(0, len(sample), 60)] or [""]
    path.write_text(">seqgen sample\n" + "\n".join(lines) + "\n", encoding="utf-8")


class DnaDomain(Domain):
    name = "dna"
    version = "0.1.0"
    description = "DNA sequences, one base per step"
    input_formats = (".fasta", ".fa")
    default_corpus = "synthetic genes (ATG, codons, a stop codon) made by the plugin"
    unit = "base"
    default_render = ".fasta"
    default_length = 300
    Options = DnaOptions

    def load_corpus(self, source: str | None) -> Corpus:
        if source is None:
            genes = synthetic_genes(self.options.genes)
        else:
            path = Path(source)
            if not path.is_file():
                raise SeqgenError(f"{source}: no such FASTA file")
            genes = read_fasta(path)
        key = hashlib.sha256("\n".join(genes).encode()).hexdigest()
        return Corpus(source or "synthetic-genes", key, genes)

    def encode(self, document: str) -> np.ndarray:
        return np.array([BASES.index(b) + 1 for b in document], dtype=np.int64)

    def decode(self, array: np.ndarray) -> str:
        return "".join(BASES[int(t) - 1] for t in array if t > 0)

    def input_spec(self) -> TokenInput:
        return TokenInput(len(BASES) + 1)

    def head_spec(self) -> HeadSpec:
        return HeadSpec("categorical", {"num_classes": len(BASES) + 1})

    def separator(self) -> int:
        return 0

    def encode_prime(self, prime: str) -> np.ndarray:
        bad = set(prime.upper()) - set(BASES)
        if bad:
            raise SeqgenError(f"--prime has characters that are not bases: {''.join(sorted(bad))}")
        return self.encode(prime.upper())

    def constraint_rule(self, prime: object = None) -> Callable[[np.ndarray], np.ndarray]:
        """No base a fourth time in a row (long homopolymer runs are sequencing errors)."""
        def no_run_of_four(seen: np.ndarray) -> np.ndarray:  # (B, T) -> (B, V)
            forbid = np.zeros((len(seen), len(BASES) + 1), dtype=bool)
            if seen.shape[1] >= 3:
                run = (seen[:, -3:] == seen[:, -1:]).all(1) & (seen[:, -1] > 0)  # (B,)
                forbid[np.arange(len(seen)), seen[:, -1]] = run
            return forbid
        return no_run_of_four

    def stop_rule(self, prime: Prime | None = None) -> Callable[[np.ndarray], np.ndarray]:
        """A gene is complete at its first stop codon in frame (the frame its start sets)."""
        primed = [] if prime is None or prime.steps is None else prime.steps.tolist()
        genes: list[list[int]] = []

        def at_stop_codon(bases: np.ndarray) -> np.ndarray:  # (B,) -> (B,)
            if not genes:
                genes.extend(list(primed) for _ in bases)
            for gene, base in zip(genes, bases.tolist(), strict=True):
                gene.append(base)
            return np.array([len(g) % 3 == 0 and self.decode(np.array(g[-3:])) in STOPS
                             for g in genes])
        return at_stop_codon

    def renderers(self) -> dict[str, Renderer]:
        fasta = Renderer(".fasta", write_fasta, "FASTA", read=read_fasta)
        return {".fasta": fasta, **super().renderers()}
