"""Python's cyclic garbage collector around training's set-up and the process's exit.

Importing torch, and torch._dynamo (which a torch.optim optimizer imports: a GPU run's, or
RMSprop's; the CPU Adam of engine/adam.py does not), builds some 300,000 objects that live as long
as the process. Each full collection walks all of them, and the interpreter walks them again as it
exits; those walks find next to nothing to free. Measured here (2 cores, load 4.6): collections
took 1.1 to 2.3 s of the 6 to 9 s that importing torch and making an Adam optimizer took, and a
training process's exit took 2.7 to 3.9 s (0.4 to 0.6 s with everything frozen first). A plain
PyTorch script pays both; seqgen need not.
"""

from __future__ import annotations

import atexit
import gc
from collections.abc import Iterator
from contextlib import contextmanager

_registered = False


@contextmanager
def paused() -> Iterator[None]:
    """No automatic collection inside the block (imports and set-up make few cycles, and the
    next collection after it finds them); the collector's state is restored after."""
    was = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was:
            gc.enable()


def freeze_at_exit() -> None:
    """At interpreter exit, before its final collections, move every object to the permanent
    generation, which they skip. Python never promises ``__del__`` for objects still alive at
    exit, and a notebook is unaffected until its kernel exits; seqgen closes its own files."""
    global _registered
    if not _registered:
        atexit.register(gc.freeze)
        _registered = True
