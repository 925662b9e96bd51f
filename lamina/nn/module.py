"""Module and Parameter.

Parameters, buffers and submodules are found by looking, not by registering: a Module's
attributes are walked, going into lists, tuples and dicts. Names starting with `_` are
private and skipped. A buffer is a Tensor attribute whose name is listed in `_buffers`
(running statistics); use `register_buffer` to add one.
"""
from __future__ import annotations

from collections import OrderedDict
from typing import Iterator

import numpy as np

from ..autograd import no_grad
from ..backend import Device
from ..tensor import Tensor


class Parameter(Tensor):
    """A Tensor that a Module trains: requires grad by default."""

    __slots__ = ()

    def __init__(self, data, requires_grad: bool = True):
        super().__init__(data._data if isinstance(data, Tensor) else data, requires_grad=requires_grad)

    def __repr__(self):
        return "Parameter containing:\n" + super().__repr__()


def _walk(value, prefix: str):
    """Yield (name, item) for Tensors and Modules inside attributes, lists, tuples and dicts."""
    if isinstance(value, (Tensor, Module)):
        yield prefix, value
    elif isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            yield from _walk(v, f"{prefix}.{i}")
    elif isinstance(value, dict):
        for k, v in value.items():
            if isinstance(k, str):
                yield from _walk(v, f"{prefix}.{k}")


class Module:
    """Base class of layers and models. Subclasses set attributes in `__init__` and write
    `forward`; calling the module runs it.

    >>> class MLP(lamina.nn.Module):
    ...     def __init__(self):
    ...         super().__init__()
    ...         self.layers = [nn.Linear(784, 128), nn.ReLU(), nn.Linear(128, 10)]
    ...     def forward(self, x):
    ...         for layer in self.layers:
    ...             x = layer(x)
    ...         return x
    """

    training: bool = True

    def __init__(self):
        object.__setattr__(self, "training", True)
        object.__setattr__(self, "_buffers", set())
        object.__setattr__(self, "_forward_hooks", [])
        object.__setattr__(self, "_non_persistent", set())

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no forward()")

    def __call__(self, *args, **kwargs):
        out = self.forward(*args, **kwargs)
        if self._forward_hooks:  # kept cheap: one attribute check when no hook is set
            for hook in self._forward_hooks:
                r = hook(self, args, out)
                if r is not None:
                    out = r
        return out

    def register_forward_hook(self, hook):
        """Call `hook(module, inputs, output)` after every forward; returns a handle with remove()."""
        self._forward_hooks.append(hook)
        hooks = self._forward_hooks

        class _Handle:
            def remove(self_inner):
                if hook in hooks:
                    hooks.remove(hook)

        return _Handle()

    def register_buffer(self, name: str, tensor: Tensor | None, persistent: bool = True) -> None:
        """A tensor that belongs to the module's state but is not trained (e.g. running_mean)."""
        self._buffers.add(name)
        if not persistent:
            self._non_persistent.add(name)
        object.__setattr__(self, name, tensor)

    def register_parameter(self, name: str, param: Parameter | None) -> None:
        object.__setattr__(self, name, param)

    def add_module(self, name: str, module: "Module") -> None:
        object.__setattr__(self, name, module)

    # ---- walking -------------------------------------------------------------------------
    def _items(self):
        """(name, Tensor | Module) for every public attribute, in definition order."""
        for name, value in vars(self).items():
            if name.startswith("_") or name == "training":
                continue
            yield from _walk(value, name)

    def named_children(self) -> Iterator[tuple[str, "Module"]]:
        for name, v in self._items():
            if isinstance(v, Module):
                yield name, v

    def children(self) -> Iterator["Module"]:
        for _, m in self.named_children():
            yield m

    def named_modules(self, prefix: str = "", memo=None) -> Iterator[tuple[str, "Module"]]:
        memo = set() if memo is None else memo
        if id(self) in memo:
            return
        memo.add(id(self))
        yield prefix, self
        for name, m in self.named_children():
            yield from m.named_modules(f"{prefix}.{name}" if prefix else name, memo)

    def modules(self) -> Iterator["Module"]:
        for _, m in self.named_modules():
            yield m

    def _named_tensors(self, want_buffers: bool, recurse: bool = True):
        seen = set()
        for mname, m in (self.named_modules() if recurse else [("", self)]):
            for name, v in m._items():
                if not isinstance(v, Tensor) or id(v) in seen:
                    continue
                is_buffer = name in m._buffers
                if is_buffer == want_buffers and (is_buffer or isinstance(v, Parameter)):
                    seen.add(id(v))
                    yield (f"{mname}.{name}" if mname else name), v

    def named_parameters(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Parameter]]:
        for name, p in self._named_tensors(False, recurse):
            yield (f"{prefix}.{name}" if prefix else name), p

    def parameters(self, recurse: bool = True) -> Iterator[Parameter]:
        for _, p in self.named_parameters(recurse=recurse):
            yield p

    def named_buffers(self, prefix: str = "", recurse: bool = True) -> Iterator[tuple[str, Tensor]]:
        for name, b in self._named_tensors(True, recurse):
            yield (f"{prefix}.{name}" if prefix else name), b

    def buffers(self, recurse: bool = True) -> Iterator[Tensor]:
        for _, b in self.named_buffers(recurse=recurse):
            yield b

    # ---- modes and bulk changes -------------------------------------------------------------
    def train(self, mode: bool = True) -> "Module":
        for m in self.modules():
            object.__setattr__(m, "training", mode)
        return self

    def eval(self) -> "Module":
        return self.train(False)

    def requires_grad_(self, requires_grad: bool = True) -> "Module":
        for p in self.parameters():
            p.requires_grad_(requires_grad)
        return self

    def zero_grad(self, set_to_none: bool = True) -> None:
        for p in self.parameters():
            if set_to_none or p.grad is None:
                p.grad = None
            else:
                p.grad = Tensor._make(p.grad._data * 0, None)

    def apply(self, fn) -> "Module":
        """Call fn(module) on every submodule and then on self (as in PyTorch)."""
        for m in self.children():
            m.apply(fn)
        fn(self)
        return self

    def _map_tensors(self, fn) -> "Module":
        """Replace every parameter's and buffer's data by fn(data), keeping the objects."""
        with no_grad():
            for t in list(self.parameters()) + list(self.buffers()):
                if t is not None:
                    t._data = fn(t)
                    if t.grad is not None:
                        t.grad._data = fn(t.grad)
        return self

    def to(self, *args, **kwargs) -> "Module":
        """Move or cast parameters and buffers in place: to(dtype), to(device), to(device, dtype).
        Integer buffers (e.g. num_batches_tracked) keep their dtype."""
        def convert(t):
            out = t
            for a in list(args) + list(kwargs.values()):
                if isinstance(a, (str, Device)) or (a is not None and t.dtype.kind == "f"):
                    out = out.to(a)
            return out._data

        return self._map_tensors(convert)

    def float(self) -> "Module":
        return self.to(np.dtype("float32"))

    def double(self) -> "Module":
        return self.to(np.dtype("float64"))

    def half(self) -> "Module":
        return self.to(np.dtype("float16"))

    def cuda(self) -> "Module":
        return self.to("cuda")

    def cpu(self) -> "Module":
        return self.to("cpu")

    # ---- state ------------------------------------------------------------------------------
    def state_dict(self) -> "OrderedDict[str, Tensor]":
        """Parameters and persistent buffers by PyTorch-style dotted name, detached as in torch:
        each shares its parameter's memory but does not require grad."""
        return OrderedDict((k, v.detach()) for k, v in self._state_tensors().items())

    def _state_tensors(self) -> "OrderedDict[str, Tensor]":
        """What state_dict names, as the module's own tensor objects (for loading into them)."""
        out = OrderedDict()
        for mname, m in self.named_modules():
            for name, v in m._items():
                if isinstance(v, Tensor) and (isinstance(v, Parameter) or name in m._buffers) \
                        and name not in m._non_persistent:
                    out[f"{mname}.{name}" if mname else name] = v
        return out

    def load_state_dict(self, state_dict, strict: bool = True):
        """Copy tensors in by name. With strict=True, missing keys, unexpected keys and shape
        mismatches raise one error that lists them all by name."""
        name = type(self).__name__
        if not hasattr(state_dict, "keys") or not hasattr(state_dict, "__getitem__"):
            raise TypeError(f"load_state_dict for {name}: expected a dict of tensors by name, "
                            f"got {type(state_dict).__name__}")
        own = self._state_tensors()
        missing = [k for k in own if k not in state_dict]
        unexpected = [k for k in state_dict if k not in own]
        mismatched = [f"{k}: checkpoint {tuple(np.shape(_data(state_dict[k])))} vs model {own[k].shape}"
                      for k in own if k in state_dict and tuple(np.shape(_data(state_dict[k]))) != own[k].shape]
        if mismatched or (strict and (missing or unexpected)):
            parts = []
            if missing:
                parts.append("missing keys: " + ", ".join(missing))
            if unexpected:
                parts.append("unexpected keys: " + ", ".join(unexpected))
            if mismatched:
                parts.append("shape mismatches: " + "; ".join(mismatched))
            raise RuntimeError(f"load_state_dict for {name}: " + " | ".join(parts) + _kind_hint(state_dict, own))
        with no_grad():
            for k, t in own.items():
                if k in state_dict:
                    t._data = _like(t._data, _data(state_dict[k]))
        return _IncompatibleKeys(missing, unexpected)

    # ---- display ----------------------------------------------------------------------------
    def extra_repr(self) -> str:
        return ""

    def __repr__(self):
        lines = [f"{type(self).__name__}({self.extra_repr()}"]
        kids = list(self.named_children())
        if not kids:
            return lines[0] + ")"
        for name, m in kids:
            child = repr(m).replace("\n", "\n  ")
            lines.append(f"  ({name}): {child}")
        return "\n".join(lines) + "\n)"

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


class _IncompatibleKeys(tuple):
    def __new__(cls, missing, unexpected):
        t = super().__new__(cls, (missing, unexpected))
        t.missing_keys, t.unexpected_keys = missing, unexpected
        return t


def _kind_hint(state_dict, own) -> str:
    """When no key matches, say what kind of dict this seems to be (a common mix-up)."""
    if any(k in own for k in state_dict):
        return ""
    if "state" in state_dict and "param_groups" in state_dict:
        return " (this is an optimizer's state dict, not a module's)"
    if "last_epoch" in state_dict:
        return " (this is a learning-rate scheduler's state dict, not a module's)"
    nested = [k for k, v in state_dict.items() if isinstance(v, dict)]
    if nested:
        return (f" (expected tensors by name; the values of {nested[:3]} are dicts: pass the model's one, "
                f"e.g. ckpt[{nested[0]!r}])")
    return ""


def _data(v):
    return v._data if isinstance(v, Tensor) else np.asarray(v)


def _like(dst, src):
    """A copy of `src` with `dst`'s dtype and device."""
    from ..backend import device_of, to_device

    src = to_device(src, device_of(dst))
    return src.astype(dst.dtype, copy=True)
