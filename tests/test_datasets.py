"""Named datasets downloaded from a real HTTP server on loopback, checked against sha256."""

from __future__ import annotations

import hashlib
import http.server
import threading
from collections.abc import Iterator
from functools import partial
from pathlib import Path

import pytest
from typer.testing import CliRunner

from seqgen import datasets, plugins
from seqgen.datasets import Dataset
from seqgen.errors import SeqgenError
from seqgen.hookspecs import hookimpl

from conftest import SHAKESPEARE, TINY, cli, one_line_error


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[str, Path, list[str]]]:
    """Serve a folder on 127.0.0.1; yields (base URL, folder, request paths seen)."""
    root = tmp_path / "www"
    root.mkdir()
    seen: list[str] = []

    class Handler(_Quiet):
        def do_GET(self) -> None:
            seen.append(self.path)
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=root))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}", root, seen
    httpd.shutdown()
    httpd.server_close()


@pytest.mark.skipif(not SHAKESPEARE.exists(), reason="needs ../shared/data")
def test_tinyshakespeare_downloads_once_and_trains(server: tuple[str, Path, list[str]],
                                                   runner: CliRunner,
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    url, root, seen = server
    (root / "tinyshakespeare.txt").write_bytes(SHAKESPEARE.read_bytes())
    monkeypatch.setenv("SEQGEN_MIRROR", url)
    out = cli(runner, "train", "--data", "tinyshakespeare", *TINY, "--max-steps", "5")
    assert out.exit_code == 0, out.output
    cached = datasets.cache_dir() / "datasets" / "tinyshakespeare.txt"
    assert datasets.sha256_of(cached) == plugins.datasets()["tinyshakespeare"].sha256
    out = cli(runner, "train", "--data", "tinyshakespeare", *TINY, "--max-steps", "5")
    assert out.exit_code == 0 and seen == ["/tinyshakespeare.txt"]  # second run: cache only


def _register(ds: Dataset) -> object:
    class P:
        @staticmethod
        @hookimpl
        def register_datasets(register):  # type: ignore[no-untyped-def]
            register(ds)
    plugins.get_plugin_manager().register(P, name="ds-test")
    return P


def test_checksum_mismatch_is_refused_and_not_kept(server: tuple[str, Path, list[str]],
                                                   monkeypatch: pytest.MonkeyPatch) -> None:
    url, root, _ = server
    (root / "poems.txt").write_text("roses are red\n" * 200)
    ds = Dataset("poems", "text", f"{url}/poems.txt", "f" * 64, "poems.txt")
    with pytest.raises(SeqgenError, match="sha256"):
        datasets.fetch(ds)
    assert not (datasets.cache_dir() / "datasets" / "poems.txt").exists()
    good = Dataset("poems", "text", f"{url}/poems.txt",
                   hashlib.sha256((root / "poems.txt").read_bytes()).hexdigest(), "poems.txt")
    assert datasets.fetch(good).read_text().startswith("roses")


def test_plugin_dataset_through_cli(server: tuple[str, Path, list[str]], runner: CliRunner) -> None:
    url, root, _ = server
    body = ("the quick brown fox jumps over the lazy dog\n" * 60).encode()
    (root / "fox.txt").write_bytes(body)
    _register(Dataset("fox", "text", f"{url}/fox.txt", hashlib.sha256(body).hexdigest(),
                      "fox.txt", licence="CC0"))
    try:
        out = cli(runner, "train", "--data", "fox", *TINY, "--max-steps", "3")
        assert out.exit_code == 0, out.output
    finally:
        plugins.get_plugin_manager().unregister(name="ds-test")


def test_unreachable_server_is_one_line(runner: CliRunner, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEQGEN_MIRROR", "http://127.0.0.1:9")  # nothing listens on port 9
    msg = one_line_error(cli(runner, "train", "--data", "tinyshakespeare", *TINY))
    assert "cannot download dataset 'tinyshakespeare'" in msg
