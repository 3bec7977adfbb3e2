"""Data-parallel training on PyTorch's own stack: torchrun + DistributedDataParallel.

``seqgen train --nproc N`` relaunches itself under ``torch.distributed.run`` (torchrun); any
process started by torchrun (one machine or many, with torchrun's rendezvous flags) joins the
process group here. Each rank reads its own rows of every batch (rank r takes rows r, r + W,
...), DDP all-reduces the gradients, and only rank 0 writes checkpoints, metrics and progress.
The global batch stays --batch-size whatever the world size, so a run resumes across a changed
number of processes.
"""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass

import numpy as np
import torch
import torch.distributed as dist

from seqgen.errors import SeqgenError


@dataclass(frozen=True)
class World:
    rank: int = 0
    size: int = 1
    local_rank: int = 0

    @property
    def main(self) -> bool:
        return self.rank == 0


def init(device: str) -> tuple[World, str]:
    """Join the process group when started by torchrun; returns the world and the device."""
    size = int(os.environ.get("WORLD_SIZE", "1"))
    if size <= 1:
        return World(), device
    world = World(int(os.environ["RANK"]), size, int(os.environ.get("LOCAL_RANK", "0")))
    if not dist.is_initialized():
        backend = "nccl" if device.startswith("cuda") else "gloo"
        dist.init_process_group(backend)
    if device.startswith("cuda"):
        torch.cuda.set_device(world.local_rank)
        device = f"cuda:{world.local_rank}"
    return world, device


def shard(batch: tuple[np.ndarray, ...], world: World) -> tuple[np.ndarray, ...]:
    """This rank's rows of a batch."""
    if world.size == 1:
        return batch
    if len(batch[0]) < world.size:
        raise SeqgenError(f"a batch of {len(batch[0])} rows cannot feed {world.size} processes: "
                          f"raise --batch-size")
    return tuple(a[world.rank::world.size] for a in batch)


def gather_rows(state: tuple[torch.Tensor, ...] | None, world: World,
                batch: int) -> tuple[torch.Tensor, ...] | None:
    """The carried state of the whole batch from every rank's rows, on every rank.

    Rank r holds rows r, r + W, ... of each (L, b_r, H) tensor; the checkpoint holds all
    ``batch`` rows in batch order, so a run resumes on any number of processes.
    """
    if state is None or world.size == 1:
        return state
    sizes = [len(range(r, batch, world.size)) for r in range(world.size)]
    out = []
    for t in state:  # (L, b_r, H)
        pad = t.new_zeros(t.shape[0], max(sizes), t.shape[2])  # all_gather needs equal sizes
        pad[:, :t.shape[1]] = t
        parts = [torch.empty_like(pad) for _ in range(world.size)]
        dist.all_gather(parts, pad)
        full = t.new_empty(t.shape[0], batch, t.shape[2])  # (L, B, H)
        for r, part in enumerate(parts):
            full[:, r::world.size] = part[:, :sizes[r]]
        out.append(full)
    return tuple(out)


def take_rows(state: tuple[torch.Tensor, ...] | None,
              world: World) -> tuple[torch.Tensor, ...] | None:
    """This rank's rows of a whole batch's carried state (the inverse of gather_rows)."""
    if state is None or world.size == 1:
        return state
    return tuple(t[:, world.rank::world.size].contiguous() for t in state)


def weight_spread(model: torch.nn.Module, world: World) -> float:
    """Largest difference between ranks of any weight (0.0: the ranks agree exactly)."""
    flat = torch.cat([p.detach().float().flatten() for p in model.parameters()]).cpu()
    if world.size == 1:
        return 0.0
    hi, lo = flat.clone(), flat.clone()
    dist.all_reduce(hi, op=dist.ReduceOp.MAX)
    dist.all_reduce(lo, op=dist.ReduceOp.MIN)
    return float((hi - lo).max())


def finish() -> None:
    if dist.is_initialized():
        dist.destroy_process_group()


def launch(nproc: int, argv: list[str]) -> int:
    """Run ``seqgen <argv>`` in nproc processes under torchrun on this machine."""
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           f"--nproc_per_node={nproc}", "-m", "seqgen.cli.main", *argv]
    return subprocess.call(cmd)
