"""The plugin manager: entry points, SEQGEN_LOAD_PLUGINS, broken plugins, and every hook.

Test plugins are registered in fixtures and unregistered afterwards. Each hookspec has a test
named test_hook_<hookname> (test_docs.py checks that).
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Callable, Iterator
from importlib.metadata import EntryPoint
from pathlib import Path
from typing import Any

import pytest
import typer
from typer.testing import CliRunner

from seqgen import plugins
from seqgen.datasets import Dataset
from seqgen.domain import Batching, Domain, HeadSpec, Renderer, check_domain_class
from seqgen.engine.heads import CategoricalHead
from seqgen.errors import SeqgenError
from seqgen.hookspecs import hookimpl
from seqgen_text.domain import TextDomain

from conftest import TINY, cli


class LinesDomain(TextDomain):
    """A test domain: each line is its own sequence (the sequences batching mode)."""

    name = "lines"
    version = "0.1"
    batching = Batching.SEQUENCES

    def load_corpus(self, source: str | None) -> Any:
        corpus = super().load_corpus(source)
        corpus.documents = [ln for doc in corpus.documents for ln in doc.splitlines() if ln]
        return corpus


def _write_upper(sample: str, path: Path) -> None:
    path.write_text(sample.upper(), encoding="utf-8")


class TestPlugin:
    @staticmethod
    @hookimpl
    def register_domains(register: Callable[[type], None]) -> None:
        register(LinesDomain)

    @staticmethod
    @hookimpl
    def register_datasets(register: Callable[[Dataset], None]) -> None:
        register(Dataset(name="test-lines", domain="lines", url="http://127.0.0.1:9/x.txt",
                         sha256="0" * 64, filename="x.txt", licence="CC0"))

    @staticmethod
    @hookimpl
    def register_renderers(register: Callable[[str, Renderer], None]) -> None:
        register("text", Renderer(".upper", _write_upper, "shouted text"))

    @staticmethod
    @hookimpl
    def register_commands(cli: typer.Typer) -> None:
        @cli.command("hello-test")
        def hello() -> None:
            """Say hello from a plugin."""
            print("hello from the test plugin")


@pytest.fixture
def test_plugin() -> Iterator[None]:
    pm = plugins.get_plugin_manager()
    pm.register(TestPlugin, name="test-plugin")
    yield
    pm.unregister(name="test-plugin")


def test_builtin_text_domain_comes_from_an_entry_point() -> None:
    assert "text" in plugins.entry_point_names()
    assert plugins.domains()["text"] is TextDomain
    assert plugins.get_plugin_manager().get_plugin("text") is not None


def test_hook_register_domains(test_plugin: None, runner: CliRunner, corpus: Path) -> None:
    assert set(plugins.domains()) >= {"text", "lines"}
    out = cli(runner, "train", "--domain", "lines", "--data", corpus, *TINY,
              "--batch-size", "4", "--seq-len", "64")
    assert out.exit_code == 0, out.output
    sample = cli(runner, "sample", "--domain", "lines", "--seed", "1", "--length", "30")
    assert sample.exit_code == 0 and len(sample.stdout) > 0
    assert "lines" in cli(runner, "domains").stdout


def test_plugin_unregistered_after_fixture() -> None:
    assert "lines" not in plugins.domains()


def test_hook_register_datasets(test_plugin: None) -> None:
    ds = plugins.datasets()
    assert ds["test-lines"].licence == "CC0" and "tinyshakespeare" in ds


def test_hook_register_renderers(test_plugin: None, runner: CliRunner, corpus: Path) -> None:
    assert ".upper" in plugins.renderers_of(plugins.get_domain("text")())
    cli(runner, "train", "--data", corpus, *TINY)
    out = cli(runner, "sample", "--domain", "text", "--render", "out.upper", "--seed", "2",
              "--length", "50")
    assert out.exit_code == 0, out.output
    text = Path("out.upper").read_text()
    assert text == text.upper() and len(text) > 0


def test_hook_register_commands(test_plugin: None, runner: CliRunner) -> None:
    from seqgen.cli.main import app

    local = typer.Typer()
    local.registered_commands = list(app.registered_commands)
    local.registered_callback = app.registered_callback
    plugins.register_commands(local)
    out = runner.invoke(local, ["hello-test"])
    assert out.exit_code == 0 and "hello from the test plugin" in out.stdout


def test_load_plugins_env_limits(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("SEQGEN_LOAD_PLUGINS", "")
    plugins._pm = None
    assert plugins.domains() == {}
    monkeypatch.setenv("SEQGEN_LOAD_PLUGINS", "text")
    plugins._pm = None
    assert list(plugins.domains()) == ["text"]


def _fake_entry_points(extra: list[EntryPoint]) -> Callable[..., list[EntryPoint]]:
    real = plugins.entry_points

    def fake(group: str) -> list[EntryPoint]:
        return [*real(group=group), *extra]
    return fake


def test_broken_plugin_is_one_warning(monkeypatch: pytest.MonkeyPatch,
                                      capsys: pytest.CaptureFixture[str]) -> None:
    broken = EntryPoint(name="broken", value="seqgen_no_such_module_xyz", group="seqgen")
    monkeypatch.setattr(plugins, "entry_points", _fake_entry_points([broken]))
    plugins._pm = None
    assert "text" in plugins.domains()  # every other domain keeps working
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and "plugin 'broken' failed to load: ModuleNotFoundError" in err[0]


def test_plugin_raising_in_its_hook_is_one_warning(capsys: pytest.CaptureFixture[str]) -> None:
    class Bad:
        @staticmethod
        @hookimpl
        def register_domains(register: Callable[[type], None]) -> None:
            raise RuntimeError("boom")

    pm = plugins.get_plugin_manager()
    pm.register(Bad, name="bad")
    try:
        assert "text" in plugins.domains()
        err = capsys.readouterr().err
        assert "plugin 'bad' failed in register_domains: RuntimeError: boom" in err
        # where the plugin broke, as a file and line of its own (issue 28 item 3)
        line = next(n for n, text in enumerate(Path(__file__).read_text().splitlines(), 1)
                    if text.strip() == 'raise RuntimeError("boom")')
        assert f"boom (test_plugins.py:{line})" in err
    finally:
        pm.unregister(name="bad")


def test_plugin_for_newer_api_is_skipped(monkeypatch: pytest.MonkeyPatch, tmp_path: Path,
                                         capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "future_plugin.py").write_text("SEQGEN_PLUGIN_API = 99\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    ep = EntryPoint(name="future", value="future_plugin", group="seqgen")
    monkeypatch.setattr(plugins, "entry_points", _fake_entry_points([ep]))
    plugins._pm = None
    plugins.get_plugin_manager()
    assert "needs plugin API 99" in capsys.readouterr().err


def test_broken_plugin_through_the_real_cli(tmp_path: Path) -> None:
    """A plugin raising on import, installed as a real entry point: one warning line."""
    dist = tmp_path / "site" / "seqgen_broken_test-0.1.dist-info"
    dist.mkdir(parents=True)
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: seqgen-broken-test\n"
                                   "Version: 0.1\n")
    (dist / "entry_points.txt").write_text("[seqgen]\nbroken = seqgen_broken_test\n")
    (tmp_path / "site" / "seqgen_broken_test.py").write_text("raise ImportError('on purpose')\n")
    env = {"PYTHONPATH": str(tmp_path / "site"), "PATH": "/usr/bin:/bin"}
    out = subprocess.run([sys.executable, "-m", "seqgen.cli.main", "domains"], env=env,
                         capture_output=True, text=True, timeout=120)
    assert out.returncode == 0, out.stderr
    assert out.stderr.strip().splitlines() == [
        "seqgen: warning: plugin 'broken' failed to load: ImportError: on purpose"]
    assert "text" in out.stdout


def test_trace_plugins(monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]) -> None:
    monkeypatch.setenv("SEQGEN_TRACE_PLUGINS", "1")
    plugins._pm = None
    plugins.domains()
    assert "register_domains" in capsys.readouterr().err


class ScaledHead(CategoricalHead):
    """A plugin's own output head: a softmax whose logits are halved."""

    def forward(self, features: Any) -> Any:
        return 0.5 * self.proj(features)


class HeadDomain(TextDomain):
    name = "headtext"
    version = "0.1"

    def head_spec(self) -> Any:
        return HeadSpec("scaled-softmax", {"num_classes": self.input_spec().vocab_size})


class HeadPlugin:
    @staticmethod
    @hookimpl
    def register_heads(register: Callable[[str, type], None]) -> None:
        register("scaled-softmax", ScaledHead)

    @staticmethod
    @hookimpl
    def register_domains() -> None:
        """A hook implementation may take a subset of the arguments (called by keyword)."""

    @staticmethod
    @hookimpl(specname="register_domains")
    def more_domains(register: Callable[[type], None]) -> None:
        register(HeadDomain)


def test_hook_register_heads(runner: CliRunner, corpus: Path) -> None:
    pm = plugins.get_plugin_manager()
    assert set(plugins.heads()) == {"categorical", "mdn2d", "gmm"}  # the engine's, registered
    pm.register(HeadPlugin, name="head-plugin")
    try:
        assert plugins.heads()["scaled-softmax"] is ScaledHead
        out = cli(runner, "train", "--domain", "headtext", "--data", corpus, *TINY,
                  "--max-steps", "2", "--run", "r")
        assert out.exit_code == 0, out.output
        from seqgen import load

        model = load("r")
        assert type(model.net.head) is ScaledHead
        assert len(model.sample(length=10, seed=1)[0]) > 0
    finally:
        pm.unregister(name="head-plugin")
    assert "scaled-softmax" not in plugins.heads()  # the registry follows the plugins


def test_hook_register_models(test_plugin: None, runner: CliRunner, corpus: Path,
                              tmp_path: Path) -> None:
    from seqgen import models
    from seqgen.models import ShippedModel
    from seqgen.shipping import ship

    dest = tmp_path / "shipped" / "lines-tiny"

    class ModelPlugin:  # ships a model of the test plugin's "lines" domain
        @staticmethod
        @hookimpl
        def register_models(register: Callable[[ShippedModel], None]) -> None:
            register(ShippedModel("lines-tiny", "lines", dest))

    pm = plugins.get_plugin_manager()
    pm.register(ModelPlugin, name="model-plugin")
    try:
        assert "lines-tiny" not in models.shipped()  # registered, but not installed yet
        out = cli(runner, "train", "--domain", "lines", "--data", corpus, *TINY, "--run", "r")
        assert out.exit_code == 0, out.output
        ship(Path("r"), dest, name="lines-tiny", corpus="", figures={}, recipe={
            "command": f"seqgen train --domain lines --data {corpus} --preset tiny"})
        assert models.shipped()["lines-tiny"].path == dest
        got = cli(runner, "sample", "--domain", "lines", "--length", "10", "--seed", "1")
        assert got.exit_code == 0 and "shipped model 'lines-tiny'" in got.stderr
    finally:
        pm.unregister(name="model-plugin")
    assert "lines-tiny" not in models.shipped()


class HalfDomain(Domain):
    """A plugin author's first try: a corpus and nothing else."""

    name = "half"

    def load_corpus(self, source: str | None) -> Any:
        return None


class WordsDomain(LinesDomain):
    name = "words"
    batching = "words"  # type: ignore[assignment]  # not a Batching


def test_incomplete_domain_is_refused_in_one_line(runner: CliRunner) -> None:
    class HalfPlugin:
        @staticmethod
        @hookimpl
        def register_domains(register: Callable[[type], None]) -> None:
            register(HalfDomain)

    pm = plugins.get_plugin_manager()
    pm.register(HalfPlugin, name="half-plugin")
    try:
        out = cli(runner, "domains")
        assert out.exit_code == 0 and "text" in out.stdout and "half" not in out.stdout
        assert out.stderr.strip().splitlines() == [
            "seqgen: warning: plugin 'half-plugin' failed in register_domains: SeqgenError: "
            "domain 'half' (test_plugins.HalfDomain) does not implement decode, encode, "
            "head_spec, input_spec"]
    finally:
        pm.unregister(name="half-plugin")
    with pytest.raises(SeqgenError, match="batching 'words' is not one of streams, sequences"):
        check_domain_class(WordsDomain)
    with pytest.raises(SeqgenError, match="is not a seqgen Domain subclass"):
        check_domain_class(dict)
    check_domain_class(LinesDomain)  # complete: no error
    assert Batching(LinesDomain.batching) is Batching.SEQUENCES
