"""Optimizer: the base class that every algorithm in lamina.optim builds on.

The base class owns everything that is the same for all algorithms: parameter groups, the
per-parameter state, zero_grad, state_dict / load_state_dict, and the loop in `step` (the
MLX `optimizers.py` split). A subclass writes only `update`, its rule for one parameter.

Updates are in place: `update` works on raw arrays (`p._data`, the state arrays) with NumPy/CuPy
`out=` arguments, so a step allocates nothing once the state exists. Temporaries come from
`self._scratch`, a pool shared by all parameters (they are updated one after another).
Gradients are only read: one gradient array may be shared by several tensors. Every
algorithm takes `maximize=False`; with True it ascends, as in torch: its rule sees -grad.
"""
from __future__ import annotations

import math
import numbers
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
        _check_hyperparameters(type(self).__name__, defaults)
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
        name, index = type(self).__name__, len(self.param_groups)
        if not isinstance(param_group, dict):
            raise TypeError(f"{name}: a parameter group must be a dict, got {type(param_group).__name__}")
        if "params" not in param_group:
            raise MissingKeyError(f"{name}: parameter group {index} has no 'params' entry (its keys: "
                                  f"{sorted(map(str, param_group))}); expected {{'params': [tensors], ...options}}")
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
        _check_hyperparameters(f"{name}: parameter group {index}", group)
        self.param_groups.append(group)

    def zero_grad(self, set_to_none: bool = True) -> None:
        """Forget the gradients: set them to None (default) or to new zero tensors."""
        for group in self.param_groups:
            for p in group["params"]:
                if set_to_none or p.grad is None:
                    p.grad = None
                else:  # a fresh array: the old gradient may be shared with other tensors
                    p.grad = Tensor._make(array_module(p.grad._data).zeros_like(p.grad._data), None)

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
                grad = p.grad._data
                if group.get("maximize", False):  # ascend: every rule then sees -grad, as in torch
                    grad = -grad  # a new array: gradients are only read
                self.update(p._data, grad, self.state.setdefault(p, {}), group)
                p._version += 1  # p._data changed in place: a graph that saved it can no longer use it
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
        """Restore what `state_dict` returned (state is copied, cast to each parameter's dtype/device).

        Everything is checked before anything changes: the kind of dict, the group sizes, the
        options, and that every state array has its parameter's shape.
        """
        name = type(self).__name__
        _check_kind(name, state_dict)
        saved = state_dict["param_groups"]
        if len(saved) != len(self.param_groups):
            raise ValueError(f"{name}.load_state_dict: the state dict has {len(saved)} parameter groups, "
                             f"the optimizer has {len(self.param_groups)}")
        for i, (g, s) in enumerate(zip(self.param_groups, saved)):
            if not isinstance(s, dict) or "params" not in s:
                raise ValueError(f"{name}.load_state_dict: parameter group {i} of the state dict has no 'params' "
                                 f"list; got {type(s).__name__} {str(s)[:80]}")
            if len(g["params"]) != len(s["params"]):
                raise ValueError(f"{name}.load_state_dict: parameter group {i} has {len(g['params'])} "
                                 f"parameters, the state dict's has {len(s['params'])}")
            _check_hyperparameters(f"{name}.load_state_dict: parameter group {i} of the state dict", s)
        where = {int(i): (gi, p) for gi, (g, s) in enumerate(zip(self.param_groups, saved))
                 for i, p in zip(s["params"], g["params"])}
        state = {}
        for i, s in state_dict["state"].items():
            if int(i) not in where:
                continue
            group, p = where[int(i)]
            entry = {k: _to_param(v, p, k) for k, v in s.items()}
            for k, v in entry.items():
                if _is_array(v) and tuple(v.shape) != tuple(p.shape):
                    raise ValueError(f"{name}.load_state_dict: state {k!r} of parameter {i} (group {group}) has "
                                     f"shape {tuple(v.shape)}, but the parameter has shape {tuple(p.shape)}; "
                                     "was the state dict saved for another model?")
            state[p] = entry
        self.state = state
        self.param_groups = [{**{k: v for k, v in s.items() if k != "params"}, "params": g["params"]}
                             for g, s in zip(self.param_groups, saved)]


class MissingKeyError(KeyError):
    """A KeyError (what torch raises, so `except KeyError` keeps working) whose message reads
    as a sentence: KeyError's own str() shows the repr of its argument, quotes and all."""

    def __str__(self):
        return str(self.args[0]) if self.args else ""


def _check_kind(name: str, state_dict) -> None:
    """An optimizer's state dict has 'state' and 'param_groups'; say what was given instead."""
    if not isinstance(state_dict, dict):
        raise TypeError(f"{name}.load_state_dict: expected an optimizer's state dict (a dict with 'state' and "
                        f"'param_groups'), got {type(state_dict).__name__}")
    if "state" in state_dict and "param_groups" in state_dict:
        return
    keys = list(state_dict)
    if "last_epoch" in state_dict:
        what = "a learning-rate scheduler's state dict"
    elif keys and all(isinstance(v, Tensor) or _is_array(v) for v in state_dict.values()):
        what = "a module's state dict (tensors by name)"
    else:
        what = "a dict"
    shown = ", ".join(map(repr, keys[:6])) + (", ..." if len(keys) > 6 else "")
    raise MissingKeyError(f"{name}.load_state_dict: expected an optimizer's state dict (a dict with 'state' and "
                          f"'param_groups'), got {what} with keys {shown or 'none'}")


# The least value of each numeric option, for every algorithm that has it (None: any finite
# number). Checked for the defaults, every parameter group and a loaded state dict, so that a
# typo such as lr="0.1" fails where it is made, not inside the first step.
_LEAST = {"lr": 0.0, "momentum": 0.0, "dampening": None, "weight_decay": 0.0, "eps": 0.0, "alpha": 0.0,
          "lr_decay": 0.0, "initial_accumulator_value": 0.0}


def check_number(name: str, key: str, value, least: float | None = 0.0, below: float | None = None,
                 open_low: bool = False) -> None:
    """A finite real number in [least, below) (or (least, below) with open_low), else a clear error
    naming `name` (the optimizer or scheduler) and `key`; optimizers and schedulers share it."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: {key} must be a number, got {type(value).__name__} {value!r}")
    low_ok = least is None or (value > least if open_low else value >= least)
    if not (math.isfinite(value) and low_ok and (below is None or value < below)):
        lo = "" if least is None else f" {'>' if open_low else '>='} {least:g}"
        hi = "" if below is None else f"{' and' if lo else ''} < {below:g}"
        raise ValueError(f"{name}: {key} must be a finite number{lo}{hi}, got {value}")


def _check_hyperparameters(where: str, group: dict) -> None:
    for key, value in group.items():
        if key in _LEAST:
            check_number(where, key, value, _LEAST[key])
        elif key == "betas":
            if not isinstance(value, (tuple, list)) or len(value) != 2:
                raise TypeError(f"{where}: betas must be a pair of numbers (beta1, beta2), got {value!r}")
            for i, b in enumerate(value):
                check_number(where, f"betas[{i}]", b)
                if not b < 1.0:  # (not check_number's below=1: this message shows both betas)
                    raise ValueError(f"{where}: betas must be in [0, 1), got {tuple(value)}")


def _is_array(v) -> bool:
    return hasattr(v, "__array_interface__") or hasattr(v, "__cuda_array_interface__")


def _to_param(value, p: Tensor, key: str):
    """A saved state entry as this optimizer keeps it: a fresh array on p's device (floating
    arrays in p's dtype, as torch does), or a Python number for 'step'."""
    if isinstance(value, Tensor):
        value = value._data
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
