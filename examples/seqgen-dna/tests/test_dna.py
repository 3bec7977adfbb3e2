"""The plugin's own tests: seqgen's conformance kit does the work."""

from seqgen_dna.domain import DnaDomain

from seqgen.testing import check_domain


def test_dna_domain_conforms(tmp_path):
    bad = tmp_path / "bad.fasta"
    bad.write_text(">x\nACGU\n")
    check_domain(DnaDomain, bad_sources=[str(bad), str(tmp_path / "missing.fasta")])


def test_no_base_comes_a_fourth_time_in_a_row():
    import numpy as np

    rule = DnaDomain().constraint_rule()
    seen = np.array([[0, 1, 1, 1], [0, 2, 1, 1], [0, 0, 0, 0]])
    forbid = rule(seen)
    assert forbid[0].tolist() == [False, True, False, False, False, False]  # A A A: not A
    assert not forbid[1].any() and not forbid[2].any()  # A A after C; separators


def test_a_gene_ends_at_its_stop_codon_in_frame():
    dom = DnaDomain()
    stop = dom.stop_rule()
    done = [bool(stop(dom.encode(b))[0]) for b in "ATGTAAGTGA"]  # (one row a step)
    assert done == [False] * 5 + [True] + [False] * 4  # TAA in frame; TGA out of frame: no
