"""On a machine with a GPU: train each installed domain briefly and print tokens/s and the
fraction of the GPU's matrix peak reached (run whenever a GPU is at hand; a few minutes).

FLOPs per token are estimated as 6 x (weights outside the embedding) (forward + backward);
the peak is measured here with a large bf16 matmul, so the fraction is of what this GPU does.

    python benchmarks/bench_gpu.py [--seconds 40] [--domains text music handwriting speech]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import torch


def matmul_peak(dtype: torch.dtype = torch.bfloat16, n: int = 8192) -> float:
    a = torch.randn(n, n, device="cuda", dtype=dtype)
    b = torch.randn(n, n, device="cuda", dtype=dtype)
    for _ in range(3):
        a @ b
    torch.cuda.synchronize()
    t = time.perf_counter()
    for _ in range(20):
        a @ b
    torch.cuda.synchronize()
    return 20 * 2 * n**3 / (time.perf_counter() - t)


def bench_domain(name: str, seconds: float, preset: str) -> tuple[float, float]:
    import seqgen
    from seqgen.engine.checkpoint import load_tensors

    with tempfile.TemporaryDirectory() as tmp:
        run = Path(tmp) / "run"
        seqgen.train(name, run=run, preset=preset, device="cuda", max_time=seconds,
                     max_steps=10**9, eval_every=10**9, save_every=10**9, log_every=10)
        rows = [json.loads(x) for x in (run / "metrics.jsonl").read_text().splitlines()]
        rates = sorted(r["tokens_per_s"] for r in rows if "tokens_per_s" in r)[1:]
        weights = load_tensors(run / "model.safetensors")
        n = sum(v.numel() for k, v in weights.items() if not k.startswith("inp."))
    rate = rates[len(rates) // 2] if rates else 0.0
    return rate, 6 * n * rate


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--seconds", type=float, default=40)
    ap.add_argument("--preset", default="medium")
    ap.add_argument("--domains", nargs="*", default=["text", "music", "handwriting", "speech"])
    args = ap.parse_args()
    if not torch.cuda.is_available():
        raise SystemExit("no CUDA device: this benchmark needs a GPU")
    peak = matmul_peak()
    print(f"{torch.cuda.get_device_name()}: bf16 matmul peak {peak / 1e12:.1f} TFLOP/s")
    for name in args.domains:
        try:
            rate, flops = bench_domain(name, args.seconds, args.preset)
        except Exception as exc:  # noqa: BLE001 - report and go on to the next domain
            print(f"{name:12s} failed: {type(exc).__name__}: {exc}")
            continue
        print(f"{name:12s} {rate:12,.0f} steps/s  {flops / 1e12:6.2f} TFLOP/s  "
              f"{100 * flops / peak:5.1f} % of peak")


if __name__ == "__main__":
    main()
