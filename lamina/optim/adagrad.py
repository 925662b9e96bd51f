"""Adagrad (Duchi et al., 2011), as torch."""
from __future__ import annotations

from ..backend import array_module
from .optimizer import Optimizer, add_scaled, with_weight_decay


class Adagrad(Optimizer):
    r"""Adagrad, as torch.optim.Adagrad.

    g = grad + weight_decay * p
    s = s + g^2                       (s starts at initial_accumulator_value)
    p = p - lr / (1 + (t - 1) * lr_decay) * g / (sqrt(s) + eps)
    """

    def __init__(self, params, lr: float = 1e-2, lr_decay: float = 0.0, weight_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, eps: float = 1e-10, maximize: bool = False):
        # the base class checks the numbers (type and range) for the defaults and every group
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps, maximize=maximize))

    def update(self, p, grad, state, group):
        xp = array_module(p)
        if not state:
            state["step"] = 0
            state["sum"] = xp.full_like(p, group["initial_accumulator_value"])
        state["step"] += 1
        t1, t2 = self._scratch(p, 2)
        g = with_weight_decay(p, grad, group["weight_decay"], t1)
        s = state["sum"]
        xp.multiply(g, g, out=t2)
        xp.add(s, t2, out=s)
        xp.sqrt(s, out=t2)
        xp.add(t2, group["eps"], out=t2)
        xp.divide(g, t2, out=t2)
        add_scaled(p, t2, -group["lr"] / (1.0 + (state["step"] - 1) * group["lr_decay"]), t2)
