"""AdamW: Adam with decoupled weight decay (Loshchilov & Hutter, 2019), as torch."""
from __future__ import annotations

from .adam import Adam


class AdamW(Adam):
    r"""Adam whose weight decay shrinks the weights directly instead of adding to the gradient.

    p = p * (1 - lr * weight_decay), then the Adam step with g = grad (see Adam).
    """

    decoupled_weight_decay = True

    def __init__(self, params, lr: float = 1e-3, betas: tuple[float, float] = (0.9, 0.999), eps: float = 1e-8,
                 weight_decay: float = 1e-2, amsgrad: bool = False, maximize: bool = False):
        super().__init__(params, lr=lr, betas=betas, eps=eps, weight_decay=weight_decay, amsgrad=amsgrad,
                         maximize=maximize)
