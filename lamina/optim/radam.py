"""RAdam: Adam with a rectified adaptive learning rate (Liu et al., 2019), as torch."""
from __future__ import annotations

import math

from ..backend import array_module
from .adamax import lerp
from .optimizer import Optimizer, add_scaled, with_weight_decay


class RAdam(Optimizer):
    r"""RAdam, as torch.optim.RAdam.

    g = grad + weight_decay * p        (or p = p * (1 - lr * weight_decay) when decoupled, RAdamW)
    m = beta1 * m + (1 - beta1) * g,   v = beta2 * v + (1 - beta2) * g^2
    rho_inf = 2 / (1 - beta2) - 1,     rho_t = rho_inf - 2 t beta2^t / (1 - beta2^t)
    rho_t > 5:  r = sqrt((rho_t - 4)(rho_t - 2) rho_inf / ((rho_inf - 4)(rho_inf - 2) rho_t))
                p = p - lr * m / (1 - beta1^t) * r * sqrt(1 - beta2^t) / (sqrt(v) + eps)
    otherwise:  p = p - lr * m / (1 - beta1^t)      (too few steps to trust v: SGD with momentum)
    """

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, decoupled_weight_decay: bool = False, *, maximize: bool = False):
        # the base class checks the numbers (type and range) for the defaults and every group
        betas = tuple(betas) if isinstance(betas, list) else betas
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      decoupled_weight_decay=decoupled_weight_decay, maximize=maximize))

    def update(self, p, grad, state, group):
        xp = array_module(p)
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p)
            state["exp_avg_sq"] = xp.zeros_like(p)
        state["step"] += 1
        step, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        t1, t2 = self._scratch(p, 2)
        if group["decoupled_weight_decay"]:
            if wd != 0:
                xp.multiply(p, 1.0 - lr * wd, out=p)
            g = grad
        else:
            g = with_weight_decay(p, grad, wd, t1)
        lerp(m, g, 1.0 - beta1, t2)
        xp.multiply(v, beta2, out=v)
        xp.multiply(g, g, out=t2)
        add_scaled(v, t2, 1.0 - beta2, t2)
        bias1, bias2 = 1.0 - beta1 ** step, 1.0 - beta2 ** step
        rho_inf = 2.0 / (1.0 - beta2) - 1.0
        rho_t = rho_inf - 2.0 * step * beta2 ** step / bias2
        if rho_t > 5.0:
            rect = math.sqrt((rho_t - 4) * (rho_t - 2) * rho_inf / ((rho_inf - 4) * (rho_inf - 2) * rho_t))
            xp.sqrt(v, out=t2)
            xp.add(t2, group["eps"], out=t2)
            xp.divide(m, t2, out=t2)
            add_scaled(p, t2, -lr / bias1 * rect * math.sqrt(bias2), t2)
        else:
            add_scaled(p, m, -lr / bias1, t2)
