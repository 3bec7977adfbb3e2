"""Third-party plugins for real: the example under examples/ and a scaffolded one are installed
with pip into a private folder and driven through the real `seqgen` command line."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DNA = ROOT / "examples" / "seqgen-dna"


def _pip_install(src: Path, target: Path) -> None:
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "--no-deps",
                    "--no-build-isolation", "--target", str(target), str(src)],
                   check=True, capture_output=True, timeout=300)


def _run(target: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(target), "SEQGEN_RUNS": str(cwd / "runs")}
    return subprocess.run([sys.executable, "-m", *args], cwd=cwd, env=env, capture_output=True,
                          text=True, timeout=300)


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Path:
    target = tmp_path_factory.mktemp("site")
    _pip_install(DNA, target)
    return target


def test_example_plugin_through_the_cli(installed: Path, tmp_path: Path) -> None:
    out = _run(installed, "seqgen.cli.main", "domains", cwd=tmp_path)
    assert out.returncode == 0 and "dna" in out.stdout and ".fasta" in out.stdout
    out = _run(installed, "seqgen.cli.main", "train", "--domain", "dna", "--preset", "tiny",
               "--quiet", "--max-steps", "20", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    out = _run(installed, "seqgen.cli.main", "sample", "--domain", "dna", "--num", "2",
               "--seed", "1", "--prime", "ATG", "--render", "genes.fasta", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    for name in ("genes-1.fasta", "genes-2.fasta"):
        text = (tmp_path / name).read_text()
        assert text.startswith(">seqgen sample\nATG")
        gene = "".join(text.splitlines()[1:])
        assert set(gene) <= set("ACGTN")
        codons = [gene[i:i + 3] for i in range(0, len(gene) - len(gene) % 3, 3)]
        stops = [i for i, c in enumerate(codons) if c in ("TAA", "TAG", "TGA")]
        # the plugin's stop_rule ends a gene at its first stop codon in frame: only there
        assert stops in ([], [len(codons) - 1]) and (stops or len(gene) >= 299), gene
    bad = _run(installed, "seqgen.cli.main", "sample", "--domain", "dna", "--prime", "AUG",
               cwd=tmp_path)
    assert bad.returncode == 2 and bad.stderr.strip().splitlines() == [
        "seqgen: error: --prime has characters that are not bases: U"]


def test_example_plugin_ships_a_model(installed: Path, tmp_path: Path) -> None:
    """Installed with its package data, the example's model samples before any training."""
    listed = _run(installed, "seqgen.cli.main", "models", "--domain", "dna", cwd=tmp_path)
    assert listed.returncode == 0 and "dna-tiny" in listed.stdout, listed.stderr
    out = _run(installed, "seqgen.cli.main", "sample", "--domain", "dna", "--seed", "1",
               "--prime", "ATG", "--length", "60", cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    assert "using the shipped model 'dna-tiny'" in out.stderr
    assert out.stdout.startswith("ATG") and set(out.stdout.strip()) <= set("ACGTN")
    assert not (tmp_path / "runs").exists()  # sampling wrote nothing


def test_example_plugin_passes_its_own_conformance_tests(installed: Path) -> None:
    out = _run(installed, "pytest", "-q", "-p", "no:cacheprovider", str(DNA / "tests"),
               cwd=DNA)
    assert out.returncode == 0, out.stdout + out.stderr
    assert "3 passed" in out.stdout


def test_scaffolded_plugin_installs_and_passes(tmp_path: Path) -> None:
    out = _run(tmp_path, "seqgen.cli.main", "new-domain", "drums", "--dir", str(tmp_path),
               cwd=tmp_path)
    assert out.returncode == 0, out.stderr
    pkg = tmp_path / "seqgen-drums"
    target = tmp_path / "site"
    _pip_install(pkg, target)
    listed = _run(target, "seqgen.cli.main", "domains", cwd=tmp_path)
    assert "drums" in listed.stdout
    tests = _run(target, "pytest", "-q", "-p", "no:cacheprovider", str(pkg / "tests"), cwd=pkg)
    assert tests.returncode == 0, tests.stdout + tests.stderr
    assert "8 passed" in tests.stdout  # the kit's five checks and the scaffold's rule
    trained = _run(target, "seqgen.cli.main", "train", "--domain", "drums", "--preset", "tiny",
                   "--quiet", "--max-steps", "5", cwd=tmp_path)
    assert trained.returncode == 0, trained.stderr
    sampled = _run(target, "seqgen.cli.main", "sample", "--domain", "drums", "--seed", "1",
                   "--render", "beat.txt", cwd=tmp_path)
    assert sampled.returncode == 0 and (tmp_path / "beat.txt").exists(), sampled.stderr
    again = _run(target, "seqgen.cli.main", "new-domain", "drums", "--dir", str(tmp_path),
                 cwd=tmp_path)
    assert again.returncode == 2 and "already exists" in again.stderr


def test_new_domain_rejects_bad_names(tmp_path: Path) -> None:
    out = _run(tmp_path, "seqgen.cli.main", "new-domain", "Bad-Name", cwd=tmp_path)
    assert out.returncode == 2 and "lowercase" in out.stderr
