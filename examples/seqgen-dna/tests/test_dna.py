"""The plugin's own tests: seqgen's conformance kit does the work."""

from seqgen_dna.domain import DnaDomain

from seqgen.testing import check_domain


def test_dna_domain_conforms(tmp_path):
    bad = tmp_path / "bad.fasta"
    bad.write_text(">x\nACGU\n")
    check_domain(DnaDomain, bad_sources=[str(bad), str(tmp_path / "missing.fasta")])
