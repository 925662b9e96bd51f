"""Adam, with optional AMSGrad and L2 or decoupled weight decay (as torch)."""
from __future__ import annotations

from ..backend import array_module
from .optimizer import Optimizer, add_scaled, with_weight_decay


class Adam(Optimizer):
    r"""Adam, as torch.optim.Adam (Kingma & Ba, 2015).

    g = grad + weight_decay * p        (or p = p * (1 - lr * weight_decay) when decoupled, AdamW)
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g^2
    v_max = max(v_max, v)  (amsgrad, then used in place of v)
    p = p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps)
    """

    decoupled_weight_decay = False

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, amsgrad: bool = False, maximize: bool = False):
        # the base class checks the numbers (type and range) for the defaults and every group
        betas = tuple(betas) if isinstance(betas, list) else betas
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                                      maximize=maximize))

    def update(self, p, grad, state, group):
        xp = array_module(p)
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["exp_avg"] = xp.zeros_like(p)
            state["exp_avg_sq"] = xp.zeros_like(p)
            if group["amsgrad"]:
                state["max_exp_avg_sq"] = xp.zeros_like(p)
        state["step"] += 1
        step, m, v = state["step"], state["exp_avg"], state["exp_avg_sq"]
        t1, t2 = self._scratch(p, 2)
        if self.decoupled_weight_decay:
            if wd != 0:
                xp.multiply(p, 1.0 - lr * wd, out=p)
            g = grad
        else:
            g = with_weight_decay(p, grad, wd, t1)
        xp.multiply(v, beta2, out=v)
        xp.multiply(g, g, out=t2)
        add_scaled(v, t2, 1.0 - beta2, t2)
        xp.multiply(m, beta1, out=m)
        add_scaled(m, g, 1.0 - beta1, t2)
        if group["amsgrad"]:
            v = xp.maximum(state["max_exp_avg_sq"], v, out=state["max_exp_avg_sq"])
        # denominator sqrt(v) / sqrt(1 - beta2^t) + eps, with eps added after the correction as torch does
        xp.sqrt(v, out=t1)
        xp.divide(t1, (1.0 - beta2 ** step) ** 0.5, out=t1)
        xp.add(t1, group["eps"], out=t1)
        xp.divide(m, t1, out=t1)
        add_scaled(p, t1, -lr / (1.0 - beta1 ** step), t1)
