"""Adadelta (Zeiler, 2012), as torch."""
from __future__ import annotations

from ..backend import array_module
from .optimizer import Optimizer, add_scaled, check_number, with_weight_decay


class Adadelta(Optimizer):
    r"""Adadelta, as torch.optim.Adadelta.

    g = grad + weight_decay * p
    v = rho * v + (1 - rho) * g^2
    delta = sqrt(u + eps) / sqrt(v + eps) * g
    u = rho * u + (1 - rho) * delta^2
    p = p - lr * delta
    """

    def __init__(self, params, lr: float = 1.0, rho: float = 0.9, eps: float = 1e-6, weight_decay: float = 0.0,
                 *, maximize: bool = False):
        _check_rho("Adadelta", rho)
        # the base class checks lr, eps and weight_decay for the defaults and every group
        super().__init__(params, dict(lr=lr, rho=rho, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def add_param_group(self, param_group):
        if isinstance(param_group, dict) and "rho" in param_group:
            _check_rho(f"Adadelta: parameter group {len(self.param_groups)}", param_group["rho"])
        super().add_param_group(param_group)

    def update(self, p, grad, state, group):
        xp = array_module(p)
        rho, eps = group["rho"], group["eps"]
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p)
            state["acc_delta"] = xp.zeros_like(p)
        state["step"] += 1
        t1, t2, t3 = self._scratch(p, 3)
        g = with_weight_decay(p, grad, group["weight_decay"], t1)
        v, u = state["square_avg"], state["acc_delta"]
        xp.multiply(v, rho, out=v)
        xp.multiply(g, g, out=t2)
        add_scaled(v, t2, 1.0 - rho, t2)
        xp.add(v, eps, out=t2)  # t2: the gradient's rms
        xp.sqrt(t2, out=t2)
        xp.add(u, eps, out=t3)  # t3: the update's rms, then the update itself
        xp.sqrt(t3, out=t3)
        xp.divide(t3, t2, out=t3)
        xp.multiply(t3, g, out=t3)
        xp.multiply(u, rho, out=u)
        xp.multiply(t3, t3, out=t2)
        add_scaled(u, t2, 1.0 - rho, t2)
        add_scaled(p, t3, -group["lr"], t3)


def _check_rho(where: str, rho) -> None:
    check_number(where, "rho", rho)
    if rho > 1.0:
        raise ValueError(f"{where}: rho must be in [0, 1], got {rho}")
