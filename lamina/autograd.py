"""Reverse-mode automatic differentiation: the Function base class, grad mode and the graph walk.

An op is a `Function` subclass with `forward(*arrays)` and `backward(grad)` side by side.
`Function.apply` unwraps Tensors to arrays, runs `forward`, and records the node only when
grad mode is on and some input requires grad. `backward` returns one gradient per
positional input (None where there is none); the walk reduces nothing itself, so each op
hands back gradients already shaped like its inputs (see `unbroadcast`).
"""
from __future__ import annotations

import functools
import itertools
import time

from .backend import array_module

_seq = itertools.count()  # each recorded node's place in the order the graph was built (see _as_of)
_grad_enabled = [True]  # a one-element list: cheaper to read than a module global via a function
_profiler = [None]  # set by lamina.profile() while it is active


def is_grad_enabled() -> bool:
    return _grad_enabled[0]


class set_grad_enabled:
    """Turn gradient recording on or off, as a context manager, a decorator or a plain call."""

    def __init__(self, mode: bool):
        self.prev = _grad_enabled[0]
        self.mode = bool(mode)
        _grad_enabled[0] = self.mode

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        _grad_enabled[0] = self.prev

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with set_grad_enabled(self.mode):
                return fn(*args, **kwargs)

        _grad_enabled[0] = self.prev  # used as a decorator: the constructor must not leave the mode changed
        return wrapper


class _GradMode:
    """A context manager and decorator that sets the grad mode only while it is entered, so a
    `no_grad()` made and kept for later changes nothing yet (torch's behaviour). As in torch it
    decorates with or without parentheses: `@no_grad()` and `@no_grad`."""

    mode = False

    def __new__(cls, fn=None):
        self = super().__new__(cls)
        return self(fn) if callable(fn) else self

    def __init__(self, fn=None):
        self._prev = []  # a stack: the same object may be entered again inside itself

    def __enter__(self):
        self._prev.append(_grad_enabled[0])
        _grad_enabled[0] = self.mode
        return self

    def __exit__(self, *exc):
        _grad_enabled[0] = self._prev.pop()

    def __call__(self, fn):
        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with type(self)():
                return fn(*args, **kwargs)
        return wrapper


class no_grad(_GradMode):
    """Context manager / decorator under which no graph is recorded."""

    mode = False


class enable_grad(_GradMode):
    """Context manager / decorator that records the graph even inside `no_grad`."""

    mode = True


class inference_mode(_GradMode):
    """torch.inference_mode: here the same as no_grad (lamina has no separate inference
    tensors); `inference_mode(False)` leaves the mode as it is."""

    def __new__(cls, mode=True):
        self = object.__new__(cls)
        if callable(mode):  # @inference_mode without parentheses
            self.__init__()
            return self(mode)
        return self

    def __init__(self, mode=True):
        super().__init__()
        self.mode = False if mode else None  # None: leave the mode alone

    def __enter__(self):
        self._prev.append(_grad_enabled[0])
        if self.mode is not None:
            _grad_enabled[0] = self.mode
        return self

    def __call__(self, fn):
        on = self.mode is not None

        @functools.wraps(fn)
        def wrapper(*args, **kwargs):
            with inference_mode(on):
                return fn(*args, **kwargs)
        return wrapper


def unbroadcast(grad, shape):
    """Sum `grad` down to `shape`: the one place where broadcasting is undone in backward."""
    if grad.shape == shape:
        return grad
    lead = grad.ndim - len(shape)
    axes = tuple(range(lead)) + tuple(i + lead for i, n in enumerate(shape) if n == 1 and grad.shape[i + lead] != 1)
    if axes:
        grad = grad.sum(axis=axes, keepdims=True)
    return grad.reshape(shape)


class Function:
    """One differentiable op. Subclasses write `forward(*inputs, **kw)` on arrays and
    `backward(grad)`, returning one gradient per positional input (a lone value if one).

    `reads_inputs = False` marks ops whose backward never looks at their inputs' values
    (add, reshape, ...), so an in-place change to those inputs is not an error.
    """

    reads_inputs = True
    out_version = 0  # the output's version when it was made: 0, or its base's for a view

    @classmethod
    def apply(cls, *args, **kwargs):
        ctx = cls.__new__(cls)
        try:
            out = ctx.forward(*[a._data if isinstance(a, Tensor) else a for a in args], **kwargs)
        except ValueError as e:  # NumPy's broadcast and shape errors, restated with the op and the shapes
            shapes = " and ".join(str(tuple(a.shape)) for a in args if isinstance(a, Tensor))
            raise RuntimeError(f"{cls.__name__.lower()}: inputs of shapes {shapes} are incompatible ({e})") from None
        if out.__class__ is not _ndarray and not hasattr(out, "__cuda_array_interface__"):
            out = array_module(out).asarray(out)  # NumPy turns 0-d results into scalars
        recorded = False
        if _grad_enabled[0]:
            needs = tuple(isinstance(a, Tensor) and a.requires_grad for a in args)
            if True in needs:
                recorded = True
                ctx.seq = next(_seq)
                ctx.inputs = args
                ctx.needs_input_grad = needs
                if cls.reads_inputs:
                    ctx.versions = tuple(a._vc[0] if isinstance(a, Tensor) else 0 for a in args)
        t = Tensor._make(out, ctx if recorded else None)
        if out.base is not None and args and isinstance(args[0], Tensor):
            # A view of the first input (reshape, permute, slice...) shares its version counter.
            # NumPy and CuPy point a view's `base` at the array that owns the memory.
            x = args[0]._data
            if out.base is x or out.base is x.base:
                t._vc = args[0]._vc
                ctx.out_version = t._vc[0]
        return t

    def forward(self, *args, **kwargs):  # pragma: no cover - abstract
        raise NotImplementedError

    def backward(self, grad):  # pragma: no cover - abstract
        raise NotImplementedError(f"{type(self).__name__} has no backward")

    def uses_value(self, i: int) -> bool:
        """Whether backward reads input i's value; asked only once that input has changed in
        place, so ops that know better (x * 2 never reads x) need not refuse."""
        return True

    @property
    def name(self) -> str:
        return type(self).__name__


def _saves(ctx, out) -> bool:
    """Whether `ctx` kept its output array (or what it views) for backward, as exp, tanh and
    softmax do. Asked only once the output has changed in place, so it costs nothing otherwise."""
    return any(v is out or v is out.base and v is not None for v in vars(ctx).values())


def _as_of(a, seq: int):
    """The tensor that held `a`'s value for a node recorded at `seq`. A node always comes after
    its inputs', so an input whose node is newer was changed in place since (`x += 1`): its
    earlier value lives on in the stand-in the in-place op left (lamina/ops/inplace.py)."""
    while a._ctx is not None and a._ctx.seq > seq:
        a = a._ctx.rebased
    return a


def _toposort(roots):
    """Nodes reachable from `roots`, inputs before outputs, without recursion."""
    order, seen = [], set()
    stack = [(t, False) for t in roots]
    while stack:
        t, done = stack.pop()
        if done:
            order.append(t)
            continue
        if id(t) in seen:
            continue
        seen.add(id(t))
        ctx = t._ctx
        if ctx is None:
            continue
        if not hasattr(ctx, "inputs"):
            raise RuntimeError(
                f"backward: trying to backward through the graph a second time (through {ctx.name}); "
                "its saved arrays were freed. Pass retain_graph=True to the first backward() to keep them."
            )
        stack.append((t, True))
        for a in ctx.inputs:
            if isinstance(a, Tensor) and a.requires_grad and a._ctx is not None:
                if a._ctx.seq > ctx.seq:
                    a = _as_of(a, ctx.seq)
                    if a._ctx is None:
                        continue
                if id(a) not in seen:
                    stack.append((a, False))
    return order


def _run_backward(roots, root_grads, retain_graph, capture=None):
    """Propagate gradients from `roots`. Leaves accumulate into `.grad`, unless `capture`
    (a dict id -> None) asks for some tensors' gradients to be returned instead."""
    grads = {}
    prof = _profiler[0]
    for t, g in zip(roots, root_grads):
        grads[id(t)] = g if id(t) not in grads else grads[id(t)] + g
    order = _toposort(roots)
    for t in roots:  # a root that is itself a leaf still gets its gradient
        if t._ctx is None:
            _deliver(t, grads.pop(id(t), None), capture)
    for t in reversed(order):
        g = grads.pop(id(t), None)
        if g is None:
            continue
        if t._hooks:
            g = _call_hooks(t, g)
        if t._retain or (capture is not None and id(t) in capture):
            _deliver(t, g, capture, leaf=False)
        ctx = t._ctx
        if ctx.reads_inputs:
            for i, (a, v) in enumerate(zip(ctx.inputs, ctx.versions)):
                if isinstance(a, Tensor) and a._vc[0] != v and ctx.uses_value(i):
                    raise RuntimeError(
                        f"backward: a tensor of shape {a.shape} saved by {ctx.name} was modified in place "
                        f"after it was used (version {v} -> {a._vc[0]}), directly or through a view or "
                        "detach(); use an out-of-place op instead"
                    )
        if t._vc[0] != ctx.out_version and _saves(ctx, t._data):
            raise RuntimeError(
                f"backward: the output of {ctx.name} (shape {t.shape}), which it saved for backward, was modified "
                f"in place (version {ctx.out_version} -> {t._vc[0]}), through a view or detach(); "
                "clone() it before changing it"
            )
        if prof is None:
            in_grads = ctx.backward(g)
        else:
            t0 = time.perf_counter()
            in_grads = ctx.backward(g)
        if not isinstance(in_grads, tuple):
            in_grads = (in_grads,)
        if prof is not None:
            prof.record_backward(ctx.name, time.perf_counter() - t0, in_grads)
        for a, need, ga in zip(ctx.inputs, ctx.needs_input_grad, in_grads):
            if not need or ga is None:
                continue
            if a._ctx is not None and a._ctx.seq > ctx.seq:
                a = _as_of(a, ctx.seq)
            if a._ctx is None:
                _deliver(a, ga, capture)
            else:
                k = id(a)
                grads[k] = ga if k not in grads else grads[k] + ga
        if not retain_graph:  # free saved arrays now; a second backward finds no `inputs`
            seq, rebased = ctx.seq, ctx.__dict__.get("rebased")
            ctx.__dict__.clear()
            ctx.seq = seq  # still needed to route the edges of nodes not yet walked
            if rebased is not None:
                ctx.rebased = rebased


def _call_hooks(t, g):
    for hook in t._hooks:
        r = hook(Tensor._make(g, None))
        if r is not None:
            g = r._data
    return g


def _deliver(t, g, capture, leaf=True):
    """Hand gradient `g` to tensor `t`: into `capture` if asked for, else accumulate in `.grad`."""
    if g is None:
        return
    if leaf and t._hooks:
        g = _call_hooks(t, g)
    if not hasattr(g, "shape") or g.__class__ is not _ndarray and not hasattr(g, "__cuda_array_interface__"):
        g = array_module(g).asarray(g)
    if g.dtype != t._data.dtype:
        g = g.astype(t._data.dtype)
    if capture is not None:
        if id(t) in capture:
            capture[id(t)] = g if capture[id(t)] is None else capture[id(t)] + g
        return
    # Gradients are never mutated in place anywhere in lamina, so an array may be shared.
    t.grad = Tensor._make(g, None) if t.grad is None else Tensor._make(t.grad._data + g, None)


def backward(tensor, gradient=None, retain_graph=False):
    """Backpropagate from `tensor` into the `.grad` of every leaf that requires grad."""
    if not tensor.requires_grad:
        raise RuntimeError(
            f"backward: tensor of shape {tensor.shape} does not require grad and has no grad_fn; "
            "set requires_grad=True on a leaf it depends on"
        )
    g = _root_grad(tensor, gradient, "backward")
    _run_backward([tensor], [g], retain_graph)


def _root_grad(tensor, gradient, op):
    xp = array_module(tensor._data)
    if gradient is None:
        if tensor._data.size != 1:
            raise RuntimeError(
                f"{op}: grad can be implicitly created only for scalar outputs, but the output has shape "
                f"{tensor.shape}; pass gradient= with that shape"
            )
        return xp.ones(tensor.shape, dtype=tensor.dtype)
    g = gradient._data if isinstance(gradient, Tensor) else xp.asarray(gradient, dtype=tensor.dtype)
    if g.shape != tensor.shape:
        raise RuntimeError(f"{op}: gradient has shape {g.shape} but the output has shape {tensor.shape}")
    return g


def grad(outputs, inputs, grad_outputs=None, retain_graph=None, allow_unused=False):
    """Gradients of `outputs` with respect to `inputs`, returned rather than stored in `.grad`.

    >>> x = lamina.tensor([1., 2.], requires_grad=True)
    >>> (gx,) = lamina.autograd.grad((x * x).sum(), x)   # 2 * x
    """
    single = isinstance(outputs, Tensor)
    outputs = [outputs] if single else list(outputs)
    inputs = [inputs] if isinstance(inputs, Tensor) else list(inputs)
    if grad_outputs is None or isinstance(grad_outputs, Tensor):
        grad_outputs = [grad_outputs] * len(outputs)
    for o in outputs:
        if not o.requires_grad:
            raise RuntimeError(f"grad: output of shape {o.shape} does not require grad")
    root_grads = [_root_grad(o, g, "grad") for o, g in zip(outputs, grad_outputs)]
    capture = {id(t): None for t in inputs}
    _run_backward(outputs, root_grads, bool(retain_graph), capture)
    result = []
    for t in inputs:
        g = capture[id(t)]
        if g is None and not allow_unused:
            raise RuntimeError(f"grad: an input of shape {t.shape} was not used in the graph; pass allow_unused=True")
        result.append(None if g is None else Tensor._make(g, None))
    return tuple(result)


from .tensor import Tensor  # noqa: E402  (the Tensor class needs Function; Function needs Tensor)

import numpy as _np  # noqa: E402

_ndarray = _np.ndarray
