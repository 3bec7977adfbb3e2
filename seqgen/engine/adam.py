"""Adam and AdamW for the CPU, without torch.optim.Optimizer's start-up cost.

Kingma & Ba 2015 (Adam), Loshchilov & Hutter 2019 (AdamW's decoupled weight decay), computed as
torch.optim.Adam's single-tensor CPU path computes them, operation for operation, so that a run
takes the same steps to the bit (tests/test_adam.py holds it to torch's Adam and AdamW).

Why not torch.optim.Adam: every torch.optim.Optimizer method is wrapped in
``torch._disable_dynamo``, and the first call (the constructor's ``add_param_group``) imports
torch._dynamo, with sympy and torch.fx: about 3 s on this 2-core machine, as long again as
``import torch`` itself, paid by every training process before its first step (issue 15,
docs/performance.md). On a GPU that is noise beside the run and torch's foreach and fused kernels
win, so ``build_optimizer`` uses this class on the CPU only. Its ``state_dict`` is torch's layout
(the same keys, a float32 ``step`` tensor), so a checkpoint moves between the two.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import torch

# torch.optim.Adam's param_group keys, so that torch's load_state_dict accepts ours and back
_TORCH_KEYS = {"amsgrad": False, "maximize": False, "foreach": None, "capturable": False,
               "differentiable": False, "fused": None}


class Adam:
    """Adam (``decoupled=False``, L2 weight decay added to the gradient) or AdamW (``True``)."""

    def __init__(self, params: Iterable[torch.nn.Parameter], lr: float,
                 betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled: bool = False) -> None:
        group: dict[str, Any] = {"params": list(params), "lr": lr, "betas": betas, "eps": eps,
                                 "weight_decay": weight_decay, **_TORCH_KEYS,
                                 "decoupled_weight_decay": decoupled}
        self.param_groups: list[dict[str, Any]] = [group]
        self.state: dict[torch.Tensor, dict[str, torch.Tensor]] = {}

    def zero_grad(self, set_to_none: bool = True) -> None:
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none:
                    p.grad = None
                elif p.grad is not None:
                    p.grad.detach_().zero_()

    @torch.no_grad()
    def step(self) -> None:
        for group in self.param_groups:
            beta1, beta2 = group["betas"]
            lr, wd, eps = group["lr"], group["weight_decay"], group["eps"]
            for p in group["params"]:
                if p.grad is None:
                    continue
                st = self.state.get(p)
                if st is None:  # torch's lazy state: a float32 step and two zero moments
                    st = self.state[p] = {"step": torch.tensor(0.0, dtype=torch.float32),
                                          "exp_avg": torch.zeros_like(p),
                                          "exp_avg_sq": torch.zeros_like(p)}
                self._update(p, p.grad, st, lr, beta1, beta2, eps, wd,
                             group["decoupled_weight_decay"])

    @staticmethod
    def _update(p: torch.Tensor, grad: torch.Tensor, st: dict[str, torch.Tensor], lr: float,
                beta1: float, beta2: float, eps: float, wd: float, decoupled: bool) -> None:
        # the order of torch.optim.adam._single_tensor_adam (capturable=False), for equal bits
        st["step"] += 1
        if wd != 0:
            if decoupled:
                p.mul_(1 - lr * wd)
            else:
                grad = grad.add(p, alpha=wd)
        st["exp_avg"].lerp_(grad, 1 - beta1)
        st["exp_avg_sq"].mul_(beta2).addcmul_(grad, grad, value=1 - beta2)
        step = st["step"].item()
        bias_correction1 = 1 - beta1**step
        bias_correction2_sqrt = (1 - beta2**step) ** 0.5
        denom = (st["exp_avg_sq"].sqrt() / bias_correction2_sqrt).add_(eps)
        p.addcdiv_(st["exp_avg"], denom, value=-lr / bias_correction1)

    def state_dict(self) -> dict[str, Any]:
        """torch.optim's layout: state by parameter index, groups with their parameters' indices."""
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            for p in group["params"]:
                index.setdefault(id(p), len(index))
            groups.append({**{k: v for k, v in group.items() if k != "params"},
                           "params": [index[id(p)] for p in group["params"]]})
        state = {index[id(p)]: dict(st) for p, st in self.state.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, sd: dict[str, Any]) -> None:
        saved = sd["param_groups"]
        if len(saved) != len(self.param_groups) or any(
                len(s["params"]) != len(g["params"])
                for s, g in zip(saved, self.param_groups, strict=True)):
            raise ValueError("the saved optimizer state has different parameter groups")
        self.state = {}
        for s, group in zip(saved, self.param_groups, strict=True):
            for k in ("lr", "betas", "eps", "weight_decay"):
                group[k] = tuple(s[k]) if k == "betas" else s[k]
            for i, p in zip(s["params"], group["params"], strict=True):
                st = sd["state"].get(i) if sd["state"] else None
                if st is None:
                    continue
                # like torch: copies (never the caller's tensors), the moments in the parameter's
                # dtype and device, the step a float32 scalar
                self.state[p] = {
                    "step": torch.tensor(float(st["step"]), dtype=torch.float32),
                    "exp_avg": st["exp_avg"].to(p.device, p.dtype, copy=True),
                    "exp_avg_sq": st["exp_avg_sq"].to(p.device, p.dtype, copy=True)}


#: what a run's optimiser is: this class on the CPU, torch's elsewhere and for RMSprop
Optimizer = Adam | torch.optim.Optimizer
