"""Checkpoints: safetensors for tensors, JSON for everything else. Never pickle.

A run directory holds ``model.safetensors`` and ``config.json`` (what sampling needs) and
``checkpoints/step-NNNNNNNN/`` folders (what resuming needs: weights, optimizer moments, RNG
state, the hidden state carried across chunks). Each checkpoint folder is written under a
temporary name and renamed into place, so a crash during a save leaves the previous one whole.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

import torch
from safetensors import SafetensorError, safe_open
from safetensors.torch import load_file, save_file

from seqgen.engine.adam import Optimizer
from seqgen.engine.rundir import FORMAT_VERSION, latest_checkpoint, read_config
from seqgen.errors import SeqgenError
from seqgen.fileio import atomic_path, dumps, write_json

__all__ = ["FORMAT_VERSION", "latest_checkpoint", "read_config", "load_checkpoint",
           "load_tensors", "save_checkpoint", "save_model", "save_tensors"]

KEEP = 2  # checkpoint folders kept


def check_safetensors(path: Path) -> None:
    """Refuse anything that is not a safetensors file, without unpickling or executing it."""
    if not path.exists():
        raise SeqgenError(f"{path}: no such file")
    with path.open("rb") as f:
        head = f.read(9)
    size = path.stat().st_size
    # safetensors: an 8-byte little-endian header length, then a JSON header starting with '{'
    looks_safe = len(head) == 9 and head[8:9] == b"{" and int.from_bytes(head[:8], "little") < size
    if not looks_safe and (head[:1] == b"\x80" or head[:2] == b"PK"):
        kind = "a pickle" if head[:1] == b"\x80" else "a zip (torch.save) archive"
        raise SeqgenError(f"{path} is {kind}, not safetensors: refused (seqgen never unpickles)")
    try:
        with safe_open(str(path), framework="pt") as f:
            f.keys()
    except (SafetensorError, OSError, ValueError) as exc:
        raise SeqgenError(f"{path} is not a valid safetensors file: {exc}") from None


def save_tensors(tensors: dict[str, torch.Tensor], path: Path) -> None:
    with atomic_path(path) as tmp:
        save_file({k: v.detach().cpu().contiguous() for k, v in tensors.items()}, str(tmp))


def load_tensors(path: Path) -> dict[str, torch.Tensor]:
    check_safetensors(path)
    return load_file(str(path))


def _optim_to_flat(opt: Optimizer) -> tuple[dict[str, torch.Tensor], dict[str, Any]]:
    sd = opt.state_dict()
    tensors, scalars = {}, {}
    for pid, st in sd["state"].items():
        for k, v in st.items():
            if torch.is_tensor(v):
                tensors[f"{pid}.{k}"] = v
            else:
                scalars[f"{pid}.{k}"] = v
    return tensors, {"param_groups": sd["param_groups"], "scalars": scalars}


def _optim_from_flat(tensors: dict[str, torch.Tensor], meta: dict[str, Any]) -> dict[str, Any]:
    state: dict[int, dict[str, Any]] = {}
    for key, v in [*tensors.items(), *meta["scalars"].items()]:
        pid, name = key.split(".", 1)
        state.setdefault(int(pid), {})[name] = v
    return {"state": state, "param_groups": meta["param_groups"]}


def save_checkpoint(run_dir: Path, step: int, model: torch.nn.Module, opt: Optimizer,
                    carried: tuple[torch.Tensor, ...] | None,
                    trainer: dict[str, Any]) -> Path:
    """Write checkpoints/step-N atomically and prune old ones."""
    root = run_dir / "checkpoints"
    root.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=".tmp-", dir=root))
    try:
        save_file({k: v.detach().cpu().contiguous() for k, v in model.state_dict().items()},
                  str(tmp / "model.safetensors"))
        otensors, ometa = _optim_to_flat(opt)
        save_file({k: v.cpu().contiguous() for k, v in otensors.items()},
                  str(tmp / "optim.safetensors"))
        state = {"torch_rng": torch.get_rng_state()}
        if torch.cuda.is_available():
            state["cuda_rng"] = torch.cuda.get_rng_state()
        for i, t in enumerate(carried or ()):
            state[f"carry.{i}"] = t.float()
        save_file({k: v.cpu().contiguous() for k, v in state.items()},
                  str(tmp / "state.safetensors"))
        (tmp / "trainer.json").write_text(dumps({**trainer, "step": step, "optim": ometa}))
        final = root / f"step-{step:08d}"
        if final.exists():
            shutil.rmtree(final)
        os.replace(tmp, final)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    for old in sorted(root.glob("step-*"))[:-KEEP]:
        shutil.rmtree(old, ignore_errors=True)
    return final


def load_checkpoint(ckpt: Path, model: torch.nn.Module, opt: Optimizer,
                    device: str) -> tuple[dict[str, Any], tuple[torch.Tensor, ...] | None]:
    """Restore weights, optimizer and RNG; return trainer info and the carried hidden state."""
    model.load_state_dict(load_tensors(ckpt / "model.safetensors"))
    trainer = json.loads((ckpt / "trainer.json").read_text())
    opt.load_state_dict(_optim_from_flat(load_tensors(ckpt / "optim.safetensors"),
                                         trainer.pop("optim")))
    state = load_tensors(ckpt / "state.safetensors")
    torch.set_rng_state(state["torch_rng"])
    if "cuda_rng" in state and torch.cuda.is_available():
        torch.cuda.set_rng_state(state["cuda_rng"])
    n = sum(1 for k in state if k.startswith("carry."))
    carried = tuple(state[f"carry.{i}"].to(device) for i in range(n)) if n else None
    return trainer, carried


def save_model(run_dir: Path, model: torch.nn.Module, config: dict[str, Any]) -> None:
    """The sampling view of a run: weights and config, each replaced atomically."""
    save_tensors(dict(model.state_dict()), run_dir / "model.safetensors")
    write_json(run_dir / "config.json", config)


class BestWeights:
    """The sampling view keeps the best validation's weights (issue 28); the checkpoints keep
    the last ones, for resuming. A small corpus over-fits within minutes (a fine-tuned voice
    on 200 sentences was at its best after 11 s and worse every validation after), and a
    run's last weights are then not what anyone wants to sample."""

    def __init__(self, info: dict[str, Any] | None = None) -> None:
        info = info or {}
        self.step: int | None = info.get("best_step")
        self.val: float | None = info.get("best_val_loss")
        self.kept: dict[str, torch.Tensor] | None = None  # a better one, not yet written

    def offer(self, step: int, val: float | None, model: torch.nn.Module) -> None:
        """A validation of ``model`` at ``step``: kept (in memory) when it is the best yet."""
        if val is None or val != val or (self.val is not None and val >= self.val):
            return
        self.step, self.val = step, float(val)
        self.kept = {k: v.detach().to("cpu", copy=True) for k, v in model.state_dict().items()}

    def record(self) -> dict[str, Any]:
        return {"best_step": self.step, "best_val_loss": self.val}

    def write(self, run_dir: Path, model: torch.nn.Module, config: dict[str, Any]) -> None:
        """config.json, and the sampling view: the model itself before any validation, the
        best weights when a better validation came since the last write, else left as is."""
        config.update(self.record())
        if self.val is None:
            save_model(run_dir, model, config)
            return
        if self.kept is not None:
            save_tensors(self.kept, run_dir / "model.safetensors")
            self.kept = None
        write_json(run_dir / "config.json", config)
