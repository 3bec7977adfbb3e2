"""Wall-clock marks of a training process's phases, for benchmarks/bench_process.py.

A user times the command, not the loop: the benchmark needs to know when step 1 ended and
what the closing validation, the checkpoint and the plot took, measured from outside the
process. With ``$SEQGEN_PHASES`` naming a file, each ``mark`` appends one JSON line
``{"phase": NAME, "t": time.time()}`` to it (under torchrun, rank 0's only); without
it a mark costs one dictionary look-up. The wall clock (not perf_counter) is what a parent
process can compare with the moment it started this one.
"""

from __future__ import annotations

import json
import os
import time

ENV = "SEQGEN_PHASES"


def mark(phase: str) -> None:
    path = os.environ.get(ENV)
    if not path or os.environ.get("RANK", "0") != "0":  # one process's marks: rank 0's
        return
    with open(path, "a", encoding="utf-8") as f:
        f.write(json.dumps({"phase": phase, "t": time.time()}) + "\n")
