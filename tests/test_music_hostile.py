"""Hostile score files are refused before music21 parses them (issue 8)."""

from __future__ import annotations

import zipfile
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqgen.errors import SeqgenError
from seqgen_music import scores

from conftest import TINY, cli, one_line_error

LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
<!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">]>
<score-partwise><work><work-title>&lol3;</work-title></work></score-partwise>
"""
EXTERNAL = b"""<?xml version="1.0"?>
<!DOCTYPE x [<!ENTITY secret SYSTEM "file:///etc/passwd">]>
<score-partwise><work><work-title>&secret;</work-title></work></score-partwise>
"""


def test_billion_laughs_and_external_entities_are_refused(tmp_path: Path) -> None:
    for name, body in (("laughs.musicxml", LAUGHS), ("xxe.xml", EXTERNAL)):
        (tmp_path / name).write_bytes(body)
        with pytest.raises(SeqgenError, match="declares entities"):
            scores.parse(tmp_path / name)


def test_mxl_zip_bomb_and_escaping_names_are_refused(tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.mxl"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as z:
        z.writestr("score.xml", b"\0" * (scores.MAX_UNPACKED + 1))
    assert bomb.stat().st_size < 1 << 20
    with pytest.raises(SeqgenError, match="over the 64 MB cap"):
        scores.parse(bomb)
    sneaky = tmp_path / "sneaky.mxl"
    with zipfile.ZipFile(sneaky, "w") as z:
        z.writestr("../../evil.xml", b"<score-partwise/>")
    with pytest.raises(SeqgenError, match="outside the archive"):
        scores.parse(sneaky)
    inner = tmp_path / "inner.mxl"
    with zipfile.ZipFile(inner, "w") as z:
        z.writestr("score.xml", LAUGHS)
    with pytest.raises(SeqgenError, match="declares entities"):
        scores.parse(inner)


def test_hostile_score_through_the_cli(tmp_path: Path, runner: CliRunner) -> None:
    (tmp_path / "laughs.musicxml").write_bytes(LAUGHS)
    msg = one_line_error(cli(runner, "train", "--domain", "music", "--data",
                             str(tmp_path / "laughs.musicxml"), *TINY))
    assert "declares entities" in msg
