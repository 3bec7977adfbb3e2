"""Batch-1 step time of an exported step (onnxruntime) against eager torch, in one run.

Two networks, weights random, one thread for every backend (OMP_NUM_THREADS=1 and
onnxruntime's intra- and inter-op threads at 1):
  handwriting: the window model of `seqgen train --domain handwriting --layers 2 --hidden 256`
      (60 characters, mdn2d with 20 components), a text of 30 characters;
  text: the `small` preset (2 x 256, embedding 64) over 65 characters.
Per network: eager torch (the network's own step: WindowNet.step, SeqNet.forward on one step),
onnxruntime on `seqgen export`'s graph, and the numpy step that seqgen's sampler runs at batch
1 on the CPU (engine/sample.py, engine/window_step.py), in alternating rounds; the median of
each round's mean, and the ratios.

    OMP_NUM_THREADS=1 python benchmarks/bench_onnx.py --rounds 5 --steps 300
"""

from __future__ import annotations

import argparse
import os
import statistics
import time
from collections.abc import Callable

os.environ.setdefault("OMP_NUM_THREADS", "1")

import torch

from seqgen.config import ModelConfig
from seqgen.engine.heads import CategoricalHead
from seqgen.engine.mixture import MDN2DHead
from seqgen.engine.model import SeqNet
from seqgen.engine.sample import NumpyStepper
from seqgen.engine.specs import TokenInput, VectorInput
from seqgen.engine.window import WindowNet
from seqgen.engine.window_step import NumpyWindowStepper
from seqgen.export import onnx_step

Step = Callable[[], object]


def window_steps(chars: int = 60, text_len: int = 30) -> dict[str, Step]:
    cfg = ModelConfig(layers=2, hidden=256, embed=64)
    net = WindowNet(cfg, VectorInput(3), MDN2DHead(cfg.hidden * cfg.layers, 20), chars).eval()
    text = torch.randint(1, chars + 1, (1, text_len))  # (1, U)
    state = net.zero_state(1)
    x = torch.tensor([[[0.3, -0.2, 0.0]]])  # (1, 1, 3)
    sess = _session(net)
    feed = {"x": x[:, 0].numpy(), **{k: s.numpy() for k, s in zip(
        ("h", "c", "kappa", "w"), state, strict=True)}, "text": text.numpy()}
    numpy_step = NumpyWindowStepper(net, text.numpy(), state)
    x_np = x[:, 0].numpy()

    def eager() -> object:
        with torch.inference_mode():
            return net.step(x, state, text)
    return {"torch": eager, "onnxruntime": lambda: sess.run(None, feed),
            "numpy": lambda: numpy_step.step(x_np)}


def text_steps(chars: int = 65) -> dict[str, Step]:
    cfg = ModelConfig(layers=2, hidden=256, embed=64)
    net = SeqNet(cfg, TokenInput(chars + 2), CategoricalHead(cfg.hidden, chars + 2)).eval()
    state = net.zero_state(1)
    x = torch.tensor([[5]])  # (1, 1)
    sess = _session(net)
    feed = {"x": x[:, 0].numpy(), "h": state[0].numpy(), "c": state[1].numpy()}
    stepper = NumpyStepper(net)
    h, c = (s.numpy().copy() for s in state)
    x_np = x[:, 0].numpy()

    def eager() -> object:
        with torch.inference_mode():
            return net(x, state)
    return {"torch": eager, "onnxruntime": lambda: sess.run(None, feed),
            "numpy": lambda: stepper.step(x_np, h, c)}


def _session(net: SeqNet | WindowNet) -> object:
    import onnxruntime as ort

    opts = ort.SessionOptions()
    opts.intra_op_num_threads = opts.inter_op_num_threads = 1
    return ort.InferenceSession(onnx_step(net).SerializeToString(), opts,
                                providers=["CPUExecutionProvider"])


def time_step(fn: Step, steps: int) -> float:
    """Mean microseconds per call, after a warm-up."""
    for _ in range(20):
        fn()
    t0 = time.perf_counter()
    for _ in range(steps):
        fn()
    return (time.perf_counter() - t0) / steps * 1e6


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--steps", type=int, default=300)
    args = ap.parse_args()
    torch.set_num_threads(1)
    print(f"torch {torch.__version__}, one thread, load {os.getloadavg()[0]:.1f}")
    for name, steps in (("handwriting 2 x 256 (window)", window_steps()),
                        ("text 2 x 256", text_steps())):
        times: dict[str, list[float]] = {k: [] for k in steps}
        for _ in range(args.rounds):
            for k, fn in steps.items():
                times[k].append(time_step(fn, args.steps))
        med = {k: statistics.median(v) for k, v in times.items()}
        cells = ", ".join(f"{k} {v:.0f} us" for k, v in med.items())
        print(f"{name}: {cells}; torch / onnxruntime {med['torch'] / med['onnxruntime']:.2f}x, "
              f"numpy / onnxruntime {med['numpy'] / med['onnxruntime']:.2f}x")
    print(f"load at the end {os.getloadavg()[0]:.1f}")


if __name__ == "__main__":
    main()
