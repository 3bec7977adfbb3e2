"""``seqgen export``: one step of a run's network as ONNX, and what a runtime needs beside it.

The graph is one step with its state explicit (engine/step.py): inputs x, h, c (and for a
text-conditioned model kappa, w and the text), outputs the head's parameters and the new state
(``*_out``, fed back as the input of the same name), so that any runtime can loop it. The
description (inputs and outputs with their shapes, the input encoding, the head and its
parameter layout, the text alphabet, the domain's codec state) goes to ``OUT.json`` and, the
same JSON, into the model's metadata (key ``seqgen``). docs/export.md shows a loop.

torch 2.13's exporter is ``dynamo=True`` (torch.export), with ``external_data=False`` so that
the weights stay inside the one .onnx file; the TorchScript exporter (``dynamo=False``) is
deprecated there and fails on the window model's own recurrence.
"""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from seqgen.errors import SeqgenError
from seqgen.fileio import atomic_path, dumps, write_json
from seqgen.models import resolve
from seqgen.version import __version__

if TYPE_CHECKING:
    from onnx import ModelProto

    from seqgen.engine.model import SeqNet
    from seqgen.engine.window import WindowNet
    from seqgen.inference import Model

FORMATS = ("onnx",)
#: what the exporter needs (onnxruntime only runs the result)
PACKAGES = ("onnx", "onnxscript")
#: the parameters of one step, in order, for the built-in heads (M components, D dimensions)
LAYOUTS = {
    "categorical": "logits (num_classes)",
    "mdn2d": "pi_hat (M), mu1 (M), mu2 (M), log_sigma1 (M), log_sigma2 (M), rho_hat (M), "
             "end_of_stroke logit (1)",
    "gmm": "pi_hat (M), mu (M x D, component-major), log_sigma (M x D), stop logit (1)",
}


def sidecar(out: str | os.PathLike[str]) -> Path:
    """Where the description of ``out`` goes: ``model.onnx`` -> ``model.onnx.json``."""
    out = Path(out)
    return out.with_name(out.name + ".json")


def export_onnx(run_dir: str | os.PathLike[str] | None, out: str | os.PathLike[str] = "model.onnx",
                *, fmt: str = "onnx", domain: str | None = None,
                model: str | None = None) -> Path:
    """Write one step of the run's network to ``out`` (ONNX, one file) and its description to
    ``out``.json; returns ``out``. ``run_dir`` is a run directory or a runs/DOMAIN/latest
    pointer; with None, ``domain``'s latest run, else its shipped model; ``model`` names a
    shipped model. Raises SeqgenError for what a user can fix."""
    if fmt not in FORMATS:
        raise SeqgenError(f"unknown --format {fmt!r}: the formats are {', '.join(FORMATS)}")
    run = resolve(run_dir, domain, model)
    out = Path(out)
    check_output(out)
    missing = [name for name in PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise SeqgenError(f"--format onnx needs {' and '.join(missing)}: "
                          "pip install 'seqgen[export]'")
    from seqgen.inference import Model

    loaded = Model(run)
    proto = onnx_step(loaded.net)
    info = describe(loaded, proto)
    entry = proto.metadata_props.add()
    entry.key, entry.value = "seqgen", dumps(info)
    _write(out, proto, info)
    return out


def check_output(out: Path) -> None:
    """Refuse an -o that cannot be written before the slow part: a directory, a path under a
    file, a folder without write permission."""
    if out.is_dir():
        raise SeqgenError(f"cannot write {out}: it is a directory")
    parent = out.parent
    while not parent.exists() and parent != parent.parent:
        parent = parent.parent
    if not parent.is_dir():
        raise SeqgenError(f"cannot write {out}: {parent} is not a directory")
    if not os.access(parent, os.W_OK | os.X_OK):
        raise SeqgenError(f"cannot write {out}: {parent} is not writable")


def onnx_step(net: SeqNet | WindowNet) -> ModelProto:
    """The step module of ``net`` exported by torch.export (batch and text length dynamic)."""
    import logging
    import warnings

    import torch

    from seqgen.engine.step import dynamic_shapes, example_inputs, step_module

    step = step_module(net)
    log = logging.getLogger("torch.onnx")  # its lines on torchvision, which it does not need
    level = log.level
    log.setLevel(logging.ERROR)
    try:
        with warnings.catch_warnings(), torch.no_grad():
            warnings.simplefilter("ignore")
            program = torch.onnx.export(
                step, example_inputs(net), dynamo=True, external_data=False, verbose=False,
                dynamic_shapes=dynamic_shapes(step), input_names=list(step.inputs),
                output_names=list(step.outputs))
    finally:
        log.setLevel(level)
    assert program is not None
    return program.model_proto


def _tensors(values: Any) -> list[dict[str, Any]]:
    """Name, dtype and shape (a dimension's name where it varies) of graph inputs or outputs."""
    from onnx import helper

    return [{"name": v.name,
             "dtype": helper.tensor_dtype_to_np_dtype(v.type.tensor_type.elem_type).name,
             "shape": [d.dim_param or d.dim_value for d in v.type.tensor_type.shape.dim]}
            for v in values]


def describe(model: Model, proto: ModelProto) -> dict[str, Any]:
    """What a runtime needs to loop the step and read its outputs (strict JSON)."""
    from seqgen.domain import TokenInput
    from seqgen.engine.window import WindowNet

    net, dom = model.net, model.domain
    spec, head = dom.input_spec(), dom.head_spec()
    outputs = _tensors(proto.graph.output)
    sep = dom.separator()
    start: Any = sep if sep is not None else [0.0] * getattr(spec, "dim", 1)
    return {
        "format": "seqgen-onnx-step", "version": 1, "seqgen": __version__,
        "domain": dom.name, "domain_version": dom.version, "run": model.run_dir.name,
        "network": "window" if isinstance(net, WindowNet) else "lstm",
        "layers": net.cfg.layers, "hidden": net.cfg.hidden,
        "inputs": _tensors(proto.graph.input), "outputs": outputs,
        "state": {o["name"]: o["name"][:-4] for o in outputs if o["name"].endswith("_out")},
        "input": ({"kind": "tokens", "vocab_size": spec.vocab_size}
                  if isinstance(spec, TokenInput) else
                  {"kind": "vector", "dim": spec.dim, "known": spec.known,
                   "known_columns": "the last `known` of x: the step's own conditioning "
                                    "(docs/engine.md), not the previous sample's"}),
        "companions": sorted((model.config.get("companions") or {}).keys()),
        "start": start, "separator": sep,
        "head": {"name": head.name, "kwargs": head.kwargs, "params": net.head.n_params,
                 "layout": LAYOUTS.get(head.name)},
        "text": None if model.vocab is None else {
            "chars": model.vocab.chars,
            "ids": "text[b, u] = 1 + the character's index in chars; 0 pads a shorter row"},
        "codec": dom.get_state(),
    }


def _write(out: Path, proto: ModelProto, info: dict[str, Any]) -> None:
    import onnx

    try:
        with atomic_path(out) as tmp:
            onnx.save_model(proto, os.fspath(tmp))
        write_json(sidecar(out), info)
    except OSError as exc:
        raise SeqgenError(f"cannot write {out}: {exc.strerror or exc}") from None
