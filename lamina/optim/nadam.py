"""NAdam: Adam with Nesterov momentum (Dozat, 2016), as torch."""
from __future__ import annotations

from ..backend import array_module
from .adamax import lerp
from .optimizer import Optimizer, add_scaled, check_number, with_weight_decay


class NAdam(Optimizer):
    r"""NAdam, as torch.optim.NAdam (with momentum_decay's schedule for beta1, as the paper).

    g = grad + weight_decay * p        (or p = p * (1 - lr * weight_decay) when decoupled, NAdamW)
    mu_t = beta1 * (1 - 0.96^(t * momentum_decay) / 2),   P_t = mu_1 * ... * mu_t
    m = beta1 * m + (1 - beta1) * g
    v = beta2 * v + (1 - beta2) * g^2,   d = sqrt(v / (1 - beta2^t)) + eps
    p = p - lr * (1 - mu_t) / (1 - P_t) * g / d - lr * mu_{t+1} / (1 - P_t * mu_{t+1}) * m / d
    """

    def __init__(self, params, lr: float = 2e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 0.0, momentum_decay: float = 4e-3, decoupled_weight_decay: bool = False,
                 *, maximize: bool = False):
        check_number("NAdam", "momentum_decay", momentum_decay)
        betas = tuple(betas) if isinstance(betas, list) else betas
        # the base class checks lr, betas, eps and weight_decay for the defaults and every group
        super().__init__(params, dict(lr=lr, betas=betas, eps=eps, weight_decay=weight_decay,
                                      momentum_decay=momentum_decay, decoupled_weight_decay=decoupled_weight_decay,
                                      maximize=maximize))

    def add_param_group(self, param_group):
        if isinstance(param_group, dict) and "momentum_decay" in param_group:
            check_number(f"NAdam: parameter group {len(self.param_groups)}", "momentum_decay",
                         param_group["momentum_decay"])
        super().add_param_group(param_group)

    def load_state_dict(self, state_dict):
        # torch keeps mu_product as a 0-d tensor; here it is a number, like step
        if isinstance(state_dict, dict) and isinstance(state_dict.get("state"), dict):
            state_dict = {**state_dict, "state": {i: {k: float(v.item()) if k == "mu_product" and hasattr(v, "item")
                                                      else v for k, v in s.items()}
                                                  for i, s in state_dict["state"].items()}}
        super().load_state_dict(state_dict)

    def update(self, p, grad, state, group):
        xp = array_module(p)
        lr, (beta1, beta2), wd = group["lr"], group["betas"], group["weight_decay"]
        if not state:
            state["step"] = 0
            state["mu_product"] = 1.0
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
        mu = beta1 * (1.0 - 0.5 * 0.96 ** (step * group["momentum_decay"]))
        mu_next = beta1 * (1.0 - 0.5 * 0.96 ** ((step + 1) * group["momentum_decay"]))
        state["mu_product"] *= mu
        mu_product = state["mu_product"]
        lerp(m, g, 1.0 - beta1, t2)
        xp.multiply(v, beta2, out=v)
        xp.multiply(g, g, out=t2)
        add_scaled(v, t2, 1.0 - beta2, t2)
        xp.divide(v, 1.0 - beta2 ** step, out=t2)  # t2: the denominator
        xp.sqrt(t2, out=t2)
        xp.add(t2, group["eps"], out=t2)
        # the gradient's part first (g may live in t1, so it is read before t1 is reused)
        xp.divide(g, t2, out=t1)
        add_scaled(p, t1, -lr * (1.0 - mu) / (1.0 - mu_product), t1)
        xp.divide(m, t2, out=t1)
        add_scaled(p, t1, -lr * mu_next / (1.0 - mu_product * mu_next), t1)
