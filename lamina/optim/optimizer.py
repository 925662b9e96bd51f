"""Optimizer: the base class that every algorithm in lamina.optim builds on.

The base class owns everything that is the same for all algorithms: parameter groups, the
per-parameter state, zero_grad, state_dict / load_state_dict, and the loop in `step` (the
MLX `optimizers.py` split). A subclass writes only `update`, its rule for one parameter.

Updates are in place: `update` works on raw arrays (`p.data`, the state arrays) with NumPy/CuPy
`out=` arguments, so a step allocates nothing once the state exists. Temporaries come from
`self._scratch`, a pool shared by all parameters (they are updated one after another).
Gradients are only read: one gradient array may be shared by several tensors. Every
algorithm takes `maximize=False`; with True it ascends, as in torch: its rule sees -grad.
"""
from __future__ import annotations

from typing import Any, Callable, Iterable

import numpy as np

from .. import autograd
from ..backend import array_module, device_of, to_device
from ..tensor import Tensor


class Optimizer:
    """Base class: holds `param_groups` (lists of dicts) and `state` (a dict per parameter).

    >>> opt = lamina.optim.SGD(model.parameters(), lr=0.1)
    >>> opt.zero_grad(); loss.backward(); opt.step()
    """

    def __init__(self, params: Iterable, defaults: dict[str, Any]):
        self.defaults = defaults
        self.state: dict[Tensor, dict[str, Any]] = {}
        self.param_groups: list[dict[str, Any]] = []
        self._pool: dict[tuple, Any] = {}
        if isinstance(params, Tensor):
            raise TypeError(f"{type(self).__name__}: params should be an iterable of Tensors or dicts, "
                            "got a single Tensor")
        groups = list(params)
        if not groups:
            raise ValueError(f"{type(self).__name__}: got an empty parameter list")
        if not isinstance(groups[0], dict):
            groups = [{"params": groups}]
        for group in groups:
            self.add_param_group(group)

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, group in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            lines += [f"    {k}: {v}" for k, v in sorted(group.items()) if k != "params"]
        return "\n".join(lines + [")"])

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        """Add a group of parameters with its own options (the rest come from the defaults)."""
        group = dict(param_group)
        params = group["params"]
        group["params"] = [params] if isinstance(params, Tensor) else list(params)
        for p in group["params"]:
            if not isinstance(p, Tensor):
                raise TypeError(f"{type(self).__name__}: can only optimize Tensors, got {type(p).__name__}")
            if not p.is_leaf:
                raise ValueError(f"{type(self).__name__}: can't optimize a non-leaf Tensor (shape {p.shape})")
        seen = {id(p) for g in self.param_groups for p in g["params"]}
        if any(id(p) in seen for p in group["params"]) or len({id(p) for p in group["params"]}) < len(group["params"]):
            raise ValueError(f"{type(self).__name__}: some parameters appear in more than one parameter group")
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set them to None (default) or to new zero tensors."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:  # a fresh array: the old gradient may be shared with other tensors
                    p.grad = Tensor._make(array_module(p.grad.data).zeros_like(p.grad.data), None)

    def step(self, closure: Callable[[], Any] | None = None):
        """Update every parameter that has a gradient; `closure` re-evaluates the loss first."""
        loss = None
        if closure is not None:
            with autograd.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if p.grad.shape != p.shape:
                    raise RuntimeError(f"{type(self).__name__}.step: gradient of shape {p.grad.shape} "
                                       f"does not match its parameter's shape {p.shape}")
                grad = p.grad.data
                if group.get("maximize", False):  # ascend: every rule then sees -grad, as in torch
                    grad = -grad  # a new array: gradients are only read
                self.update(p.data, grad, self.state.setdefault(p, {}), group)
                p._version += 1  # p.data changed in place: a graph that saved it can no longer use it
        return loss

    def update(self, p, grad, state: dict[str, Any], group: dict[str, Any]) -> None:
        """The algorithm's rule for one parameter: change array `p` in place, reading `grad`."""
        raise NotImplementedError(f"{type(self).__name__} must implement update()")

    def _scratch(self, p, n: int = 1) -> list:
        """`n` temporary arrays shaped like `p`, views into a pool shared by all parameters."""
        xp = array_module(p)
        key = (xp.__name__, p.dtype, device_of(p))
        buf = self._pool.get(key)
        if buf is None or buf.size < n * p.size:
            buf = self._pool[key] = xp.empty(n * p.size, dtype=p.dtype)
        return [buf[i * p.size:(i + 1) * p.size].reshape(p.shape) for i in range(n)]

    # ---- checkpoints ----------------------------------------------------------------------
    def state_dict(self) -> dict[str, Any]:
        """torch's layout: {'state': {index: {...}}, 'param_groups': [{..., 'params': [index, ...]}]}.

        A parameter's index counts across groups in order; state arrays come back as Tensors
        that share memory with the optimizer's (as in torch, they are not copies).
        """
        index: dict[int, int] = {}
        groups = []
        for group in self.param_groups:
            packed = {k: v for k, v in group.items() if k != "params"}
            packed["params"] = [index.setdefault(id(p), len(index)) for p in group["params"]]
            groups.append(packed)
        state = {}
        for p, s in self.state.items():
            if id(p) in index:
                state[index[id(p)]] = {k: Tensor._make(v, None) if _is_array(v) else v for k, v in s.items()}
        return {"state": state, "param_groups": groups}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what `state_dict` returned (state is copied, cast to each parameter's dtype/device)."""
        name = type(self).__name__
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(saved)} parameter groups, "
                             f"the optimizer has {len(self.param_groups)}")
        for i, (g, s) in enumerate(zip(self.param_groups, saved)):
            if len(g["params"]) != len(s["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {i} has {len(g['params'])} "
                                 f"parameters, the state dict's has {len(s['params'])}")
        by_index = {i: p for g, s in zip(self.param_groups, saved) for i, p in zip(s["params"], g["params"])}
        self.state = {}
        for i, s in state_dict["state"].items():
            p = by_index.get(int(i))
            if p is None:
                continue
            self.state[p] = {k: _to_param(v, p, k) for k, v in s.items()}
        self.param_groups = [{**{k: v for k, v in s.items() if k != "params"}, "params": g["params"]}
                             for g, s in zip(self.param_groups, saved)]


def _is_array(v) -> bool:
    return hasattr(v, "__array_interface__") or hasattr(v, "__cuda_array_interface__")


def _to_param(value, p: Tensor, key: str):
    """A saved state entry as this optimizer keeps it: a fresh array on p's device (floating
    arrays in p's dtype, as torch does), or a Python number for 'step'."""
    if isinstance(value, Tensor):
        value = value.data
    if not _is_array(value):
        return value
    if key == "step":  # torch keeps the step count as a 0-d tensor; here it is a number
        return int(value.item()) if float(value.item()).is_integer() else float(value.item())
    arr = to_device(value, p.device)
    dtype = p.dtype if np.dtype(arr.dtype).kind == "f" else arr.dtype
    return arr.astype(dtype, copy=True)


def add_scaled(y, x, alpha: float, tmp) -> None:
    """y += alpha * x in place, through `tmp` (which may be x itself; x is then overwritten)."""
    xp = array_module(y)
    if alpha == 1.0:
        xp.add(y, x, out=y)
    else:
        xp.multiply(x, alpha, out=tmp)
        xp.add(y, tmp, out=y)


def with_weight_decay(p, grad, weight_decay: float, tmp):
    """grad + weight_decay * p (L2 regularisation), written into `tmp`; grad itself when no decay."""
    if weight_decay == 0:
        return grad
    xp = array_module(p)
    xp.multiply(p, weight_decay, out=tmp)
    xp.add(tmp, grad, out=tmp)
    return tmp
