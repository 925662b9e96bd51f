"""RMSprop, with optional momentum and centering (as torch)."""
from __future__ import annotations

from ..backend import array_module
from .optimizer import Optimizer, add_scaled, with_weight_decay


class RMSprop(Optimizer):
    r"""RMSprop, as torch.optim.RMSprop (Hinton's lecture 6e; centered as Graves, 2013).

    g = grad + weight_decay * p
    v = alpha * v + (1 - alpha) * g^2
    a = alpha * a + (1 - alpha) * g,   d = sqrt(v - a^2) + eps   (centered)
    d = sqrt(v) + eps                                            (otherwise)
    b = momentum * b + g / d,  p = p - lr * b   (momentum > 0)   or   p = p - lr * g / d
    """

    def __init__(self, params, lr: float = 1e-2, alpha: float = 0.99, eps: float = 1e-8, weight_decay: float = 0.0,
                 momentum: float = 0.0, centered: bool = False, maximize: bool = False):
        # the base class checks the numbers (type and range) for the defaults and every group
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay, momentum=momentum,
                                      centered=centered, maximize=maximize))

    def update(self, p, grad, state, group):
        xp = array_module(p)
        alpha, momentum = group["alpha"], group["momentum"]
        if not state:
            state["step"] = 0
            state["square_avg"] = xp.zeros_like(p)
            if momentum > 0:
                state["momentum_buffer"] = xp.zeros_like(p)
            if group["centered"]:
                state["grad_avg"] = xp.zeros_like(p)
        state["step"] += 1
        t1, t2 = self._scratch(p, 2)
        g = with_weight_decay(p, grad, group["weight_decay"], t1)
        v = state["square_avg"]
        xp.multiply(v, alpha, out=v)
        xp.multiply(g, g, out=t2)
        add_scaled(v, t2, 1.0 - alpha, t2)
        if group["centered"]:
            a = state["grad_avg"]
            xp.multiply(a, alpha, out=a)
            add_scaled(a, g, 1.0 - alpha, t2)
            xp.multiply(a, a, out=t2)
            xp.subtract(v, t2, out=t2)
            xp.sqrt(t2, out=t2)
        else:
            xp.sqrt(v, out=t2)
        xp.add(t2, group["eps"], out=t2)
        xp.divide(g, t2, out=t2)
        if momentum > 0:
            buf = state["momentum_buffer"]
            xp.multiply(buf, momentum, out=buf)
            xp.add(buf, t2, out=buf)
            add_scaled(p, buf, -group["lr"], t2)
        else:
            add_scaled(p, t2, -group["lr"], t2)
