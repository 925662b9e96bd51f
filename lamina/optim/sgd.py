"""Stochastic gradient descent, with momentum, dampening, Nesterov and weight decay (as torch)."""
from __future__ import annotations

from ..backend import array_module
from .optimizer import Optimizer, add_scaled, with_weight_decay


class SGD(Optimizer):
    r"""SGD with optional momentum, as torch.optim.SGD.

    g = grad + weight_decay * p
    b = g  (first step),   b = momentum * b + (1 - dampening) * g  (later steps)
    g = g + momentum * b  (nesterov)   or   g = b
    p = p - lr * g
    """

    def __init__(self, params, lr: float = 1e-3, momentum: float = 0.0, dampening: float = 0.0,
                 weight_decay: float = 0.0, nesterov: bool = False, maximize: bool = False):
        # the base class checks the numbers (type and range) for the defaults and every group
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize))
        if nesterov and (momentum <= 0 or dampening != 0):
            raise ValueError(f"SGD: nesterov momentum needs momentum > 0 and dampening = 0, "
                             f"got momentum={momentum}, dampening={dampening}")

    def update(self, p, grad, state, group):
        xp = array_module(p)
        t1, t2 = self._scratch(p, 2)
        momentum = group["momentum"]
        d = with_weight_decay(p, grad, group["weight_decay"], t1)
        if momentum != 0:
            buf = state.get("momentum_buffer")
            if buf is None:
                buf = state["momentum_buffer"] = d.copy()
            else:
                xp.multiply(buf, momentum, out=buf)
                add_scaled(buf, d, 1.0 - group["dampening"], t2)
            if group["nesterov"]:
                xp.multiply(buf, momentum, out=t2)
                xp.add(t2, d, out=t2)
                d = t2
            else:
                d = buf
        # t2 may hold d (nesterov); otherwise t1 is free or is d itself, either is a fine temporary
        add_scaled(p, d, -group["lr"], t2 if d is t2 else t1)
