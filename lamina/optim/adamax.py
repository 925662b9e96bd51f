"""Adamax: Adam with the infinity norm (Kingma & Ba, 2015, section 7), as torch."""
from __future__ import annotations

from ..backend import array_module
from .optimizer import Optimizer, add_scaled, with_weight_decay


class Adamax(Optimizer):
    r"""Adamax, as torch.optim.Adamax.

    g = grad + weight_decay * p
    m = beta1 * m + (1 - beta1) * g
    u = max(beta2 * u, |g| + eps)
    p = p - lr / (1 - beta1^t) * m / u
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, *, maximize: bool = False):
        # the base class checks the numbers (type and range) for the defaults and every group
        betas = tuple(betas) if isinstance(betas, list) else betas
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, maximize=maximize))

    def update(self, p, grad, state, group):
        xp = array_module(p)
        beta1, beta2 = group["betas"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p)
            state["exp_inf"] = xp.zeros_like(p)
        state["step"] += 1
        t1, t2 = self._scratch(p, 2)
        g = with_weight_decay(p, grad, group["weight_decay"], t1)
        m, u = state["exp_avg"], state["exp_inf"]
        lerp(m, g, 1.0 - beta1, t2)
        xp.abs(g, out=t2)
        xp.add(t2, group["eps"], out=t2)
        xp.multiply(u, beta2, out=u)
        xp.maximum(u, t2, out=u)
        xp.divide(m, u, out=t2)
        add_scaled(p, t2, -group["lr"] / (1.0 - beta1 ** state["step"]), t2)


def lerp(m, g, weight: float, tmp) -> None:
    """m = m + weight * (g - m) in place, through `tmp`, rounded as torch's lerp_ rounds it (its
    Adam family keeps the first moment so): from m for weights below 1/2, else from g."""
    xp = array_module(m)
    xp.subtract(g, m, out=tmp)
    if weight < 0.5:
        xp.multiply(tmp, weight, out=tmp)
        xp.add(m, tmp, out=m)
    else:
        xp.multiply(tmp, 1.0 - weight, out=tmp)
        xp.subtract(g, tmp, out=m)
