"""seqgen export: one step of each built-in domain's network as ONNX, run in onnxruntime with
its state fed back for K steps, against torch's own step on the same weights (1e-5)."""

from __future__ import annotations

import importlib.util
import json
import os
from pathlib import Path

import numpy as np
import pytest
import torch
from typer.testing import CliRunner

import seqgen
from seqgen import plugins
from seqgen.assembly import build_model
from seqgen.config import ModelConfig
from seqgen.domain import conditioned
from seqgen.engine.model import SeqNet
from seqgen.engine.step import WindowStep, example_inputs
from seqgen.engine.vocab import TextVocab
from seqgen.engine.window import WindowNet

from conftest import cli, one_line_error

HAVE_ONNX = all(importlib.util.find_spec(n) for n in ("onnx", "onnxruntime", "onnxscript"))
if not HAVE_ONNX and os.environ.get("CI") == "true":
    raise RuntimeError("CI=true: the export tests must run; install seqgen[export]")
needs_onnx = pytest.mark.skipif(not HAVE_ONNX, reason="onnx, onnxruntime and onnxscript are "
                                "not installed (pip install -e '.[export]')")
STEPS = 5
TOL = {"atol": 1e-5, "rtol": 1e-5}
CHARS = "abcde ."


def _net(name: str, layers: int = 2, skip: bool = False) -> SeqNet | WindowNet:
    """A tiny network of a built-in domain, its weights shaken so that nothing is near 0."""
    dom = plugins.get_domain(name)()
    if name == "text":
        dom.set_state({"chars": CHARS})
    vocab = TextVocab(CHARS) if conditioned(dom) else None
    torch.manual_seed(0)
    net = build_model(dom, ModelConfig(layers=layers, hidden=16, embed=8, skip=skip), vocab)
    with torch.no_grad():
        for p in net.parameters():
            p.add_(torch.randn_like(p) * 0.2)
        if isinstance(net, WindowNet):
            net.window.bias[2 * net.K:] = -0.5  # the window moves within the few steps
    return net.eval()


def _inputs(net: SeqNet | WindowNet, rng: np.random.Generator, batch: int) -> np.ndarray:
    if net.tokens:
        return rng.integers(0, net.head.n_params, batch)  # (B,)
    dim = example_inputs(net)[0].shape[1]
    x = rng.standard_normal((batch, dim)).astype(np.float32)  # (B, D)
    x[:, -1] = rng.random(batch) < 0.3  # the pen or stop flag
    return x


def _texts() -> np.ndarray:
    """Two rows of different lengths (the second padded), longer than the export's example."""
    rows = [TextVocab(CHARS).encode(t) for t in ("abc de.", "ba c")]
    out = np.zeros((2, 7), np.int64)  # (B, U)
    for b, ids in enumerate(rows):
        out[b, :len(ids)] = ids
    return out


def _torch_step(net: SeqNet | WindowNet, x: np.ndarray, state: tuple[torch.Tensor, ...],
                text: np.ndarray) -> list[torch.Tensor]:
    """The network's own step (not the export's module): params and the new state."""
    xt = torch.as_tensor(x).unsqueeze(1)  # (B, 1[, D])
    with torch.no_grad():
        if isinstance(net, WindowNet):
            params, new, window = net.step(xt, state, torch.as_tensor(text))
            return [params, *new, window.phi, window.done]
        params, (h, c) = net(xt, state)  # (B, 1, P)
        return [params[:, 0], h, c]


def _compare(net: SeqNet | WindowNet, run_onnx: object, batch: int = 2) -> None:
    """K steps of both, each fed its own state back; every output compared at every step."""
    rng = np.random.default_rng(1)
    text = _texts()
    ref: tuple[torch.Tensor, ...] = net.zero_state(batch)
    got = [s.numpy() for s in ref]
    names = ["h", "c", "kappa", "w"][:len(got)]
    for _ in range(STEPS):
        x = _inputs(net, rng, batch)
        feed = {"x": x, **dict(zip(names, got, strict=True))}
        if isinstance(net, WindowNet):
            feed["text"] = text
        outs = run_onnx(feed)  # type: ignore[operator]
        want = _torch_step(net, x, ref, text)
        assert len(outs) == len(want)
        for o, w in zip(outs, want, strict=True):
            np.testing.assert_allclose(o, w.numpy(), **TOL)
        ref, got = tuple(want[1:1 + len(names)]), outs[1:1 + len(names)]
    if isinstance(net, WindowNet):
        assert float(got[2].min()) > 0.5  # kappa moved: the window was exercised


def _session(proto: object) -> object:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    sess = ort.InferenceSession(proto.SerializeToString(), opts,  # type: ignore[attr-defined]
                                providers=["CPUExecutionProvider"])
    return lambda feed: sess.run(None, feed)


def test_the_window_step_is_the_nets_step() -> None:
    """WindowStep writes the window's equations in plain operations: held to WindowNet.step
    (its custom recurrence) in torch, three layers, padded texts of two lengths."""
    net = _net("handwriting", layers=3)
    step = WindowStep(net)

    def run(feed: dict[str, np.ndarray]) -> list[np.ndarray]:
        args = [torch.as_tensor(feed[k]) for k in step.inputs]
        with torch.no_grad():
            return [t.numpy() for t in step(*args)]
    _compare(net, run)


@needs_onnx
@pytest.mark.parametrize(("name", "layers", "skip"), [
    ("music", 2, True), ("handwriting", 3, False), ("speech", 2, False)])
def test_onnx_matches_torch_step_by_step(name: str, layers: int, skip: bool) -> None:
    """Text's network (tokens, a softmax, the fused two-layer LSTM) is the CLI test's."""
    from seqgen.export import onnx_step

    net = _net(name, layers, skip)
    proto = onnx_step(net)
    inputs = [i.name for i in proto.graph.input]
    assert inputs == (["x", "h", "c", "kappa", "w", "text"] if isinstance(net, WindowNet)
                      else ["x", "h", "c"])
    assert not any(t.data_location for t in proto.graph.initializer)  # weights inside
    _compare(net, _session(proto), batch=2)


@needs_onnx
def test_cli_exports_a_trained_run(runner: CliRunner, corpus: Path) -> None:
    import onnx

    res = seqgen.train("text", str(corpus), run="r", preset="tiny", max_steps=2, layers=2,
                       progress=False)
    out = cli(runner, "export", str(res.run_dir), "--format", "onnx", "-o", "out/m.onnx")
    assert out.exit_code == 0, out.output  # type: ignore[attr-defined]
    assert "wrote out/m.onnx and out/m.onnx.json" in out.stdout  # type: ignore[attr-defined]
    assert sorted(p.name for p in Path("out").iterdir()) == ["m.onnx", "m.onnx.json"]
    info = json.loads(Path("out/m.onnx.json").read_text(), parse_constant=_no_constants)
    model = onnx.load("out/m.onnx")
    assert json.loads({p.key: p.value for p in model.metadata_props}["seqgen"]) == info
    assert info["head"]["name"] == "categorical" and info["text"] is None
    assert info["state"] == {"h_out": "h", "c_out": "c"}
    loaded = seqgen.load(res.run_dir)
    assert isinstance(loaded.net, SeqNet) and loaded.net.cfg.layers == 2
    assert info["codec"] == loaded.domain.get_state()
    assert info["input"]["vocab_size"] == info["head"]["params"] == len(info["codec"]["chars"]) + 2
    _compare(loaded.net, _session(model), batch=1)


def _no_constants(name: str) -> None:
    raise ValueError(f"not strict JSON: {name}")


def test_export_errors_are_one_line(runner: CliRunner, corpus: Path,
                                    monkeypatch: pytest.MonkeyPatch) -> None:
    assert "does not exist" in one_line_error(cli(runner, "export", "nowhere"))
    assert "no run given" in one_line_error(cli(runner, "export"))
    res = seqgen.train("text", str(corpus), run="r", preset="tiny", max_steps=1, progress=False)
    run = str(res.run_dir)
    assert "unknown --format 'tflite'" in one_line_error(
        cli(runner, "export", run, "--format", "tflite"))
    Path("file").write_text("x")
    assert "file is not a directory" in one_line_error(
        cli(runner, "export", run, "-o", "file/sub/m.onnx"))
    Path("dir").mkdir()
    assert "it is a directory" in one_line_error(cli(runner, "export", run, "-o", "dir"))
    Path("ro").mkdir(mode=0o555)
    if not os.access("ro", os.W_OK):  # root writes anywhere
        assert "is not writable" in one_line_error(cli(runner, "export", run, "-o", "ro/m"))
    monkeypatch.setattr("seqgen.export.PACKAGES", ("onnx", "no_such_package_here"))
    assert "pip install 'seqgen[export]'" in one_line_error(cli(runner, "export", run))
    assert not list(Path(".").glob("*.onnx*"))
