"""Making tensors: from data, filled, ranges, and random draws from a seeded Generator."""
from __future__ import annotations

import operator

import numpy as np

from . import backend
from .backend import Device, to_device
from .tensor import Tensor, _to_array


class Generator:
    """A seeded source of random numbers (NumPy's PCG64). Random draws happen on the CPU and
    move to the tensor's device, so a seed gives the same numbers everywhere.

    >>> g = lamina.Generator().manual_seed(0); lamina.rand(3, generator=g)
    """

    def __init__(self, device="cpu"):
        self.device = Device(device)
        self.manual_seed(np.random.SeedSequence().entropy % (2**63))

    def manual_seed(self, seed: int) -> "Generator":
        self._seed = int(seed)
        self.rng = np.random.Generator(np.random.PCG64(self._seed))
        return self

    def initial_seed(self) -> int:
        return self._seed

    def get_state(self) -> dict:
        return self.rng.bit_generator.state

    def set_state(self, state: dict) -> "Generator":
        self.rng.bit_generator.state = state
        return self


default_generator = Generator()


def manual_seed(seed: int) -> Generator:
    """Seed the global generator that every random op uses when none is given."""
    return default_generator.manual_seed(seed)


def seed() -> int:
    s = int(np.random.SeedSequence().entropy % (2**63))
    default_generator.manual_seed(s)
    return s


def initial_seed() -> int:
    return default_generator.initial_seed()


def get_rng_state() -> dict:
    return default_generator.get_state()


def set_rng_state(state: dict) -> None:
    default_generator.set_state(state)


def _rng(generator: Generator | None) -> np.random.Generator:
    return (generator or default_generator).rng


def _shape(size, op: str) -> tuple:
    """Accept zeros(2, 3), zeros((2, 3)) and zeros([2, 3]); sizes must be non-negative integers
    (int(2.5) would quietly make 2 elements)."""
    if len(size) == 1 and isinstance(size[0], (tuple, list)):
        size = size[0]
    shape = tuple(_count(op, "size", s) for s in size)
    if any(n < 0 for n in shape):
        raise RuntimeError(f"{op}: sizes must be non-negative, got {shape}")
    return shape


def _count(op: str, what: str, n) -> int:
    """An integer argument (a size, a count) as an int: Python and NumPy integers, not floats or bools."""
    if isinstance(n, bool) or isinstance(n, (float, complex)):
        raise TypeError(f"{op}: {what} must be an integer, got {type(n).__name__} {n!r}")
    try:
        return operator.index(n)
    except TypeError:
        raise TypeError(f"{op}: {what} must be an integer, got {type(n).__name__} {n!r}") from None


def _finish(arr, dtype, device, requires_grad) -> Tensor:
    if dtype is not None and arr.dtype != np.dtype(dtype):
        arr = arr.astype(np.dtype(dtype))
    if device is not None and Device(device).type != "cpu":
        arr = to_device(arr, Device(device))
    t = Tensor._make(arr, None)
    return t.requires_grad_(True) if requires_grad else t


def tensor(data, dtype=None, device=None, requires_grad: bool = False) -> Tensor:
    """A new tensor that copies `data` (lists, scalars, arrays). Python floats become float32;
    an ndarray keeps its dtype.

    >>> lamina.tensor([[1., 2.], [3., 4.]], requires_grad=True)
    """
    arr = _to_array(data, dtype)
    if arr is data or isinstance(data, Tensor) and arr is data._data:
        arr = arr.copy()
    return _finish(arr, None, device, requires_grad)


def as_tensor(data, dtype=None, device=None) -> Tensor:
    """Like `tensor`, but shares memory with an array of matching dtype and device."""
    if isinstance(data, Tensor) and dtype is None and device is None:
        return data
    return _finish(_to_array(data, dtype), None, device, False)


def from_numpy(array: np.ndarray) -> Tensor:
    """A tensor sharing memory with `array`."""
    if not isinstance(array, np.ndarray):
        raise TypeError(f"from_numpy: expected np.ndarray, got {type(array).__name__}")
    return Tensor._make(array, None)


def _xp(device):
    return backend.cp if device is not None and Device(device).type == "cuda" else np


def _filled(op, fill, size, dtype, device, requires_grad):
    dtype = np.dtype(dtype) if dtype is not None else backend.get_default_dtype()
    shape = _shape(size, op)
    xp = _xp(device)
    with _on(device):
        arr = xp.full(shape, fill, dtype=dtype)
    return _finish(arr, None, None, requires_grad)


class _on:
    """Allocate on the right GPU when a cuda device index is given; nothing on the CPU."""

    def __init__(self, device):
        self.ctx = None
        if device is not None and Device(device).type == "cuda":
            self.ctx = backend.cp.cuda.Device(Device(device).index)

    def __enter__(self):
        if self.ctx is not None:
            self.ctx.__enter__()

    def __exit__(self, *exc):
        if self.ctx is not None:
            self.ctx.__exit__(*exc)


def zeros(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _filled("zeros", 0, size, dtype, device, requires_grad)


def ones(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _filled("ones", 1, size, dtype, device, requires_grad)


def empty(*size, dtype=None, device=None, requires_grad=False) -> Tensor:
    return _filled("empty", 0, size, dtype, device, requires_grad)


def full(size, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    if dtype is None:
        dtype = backend.scalar_dtype(fill_value)
    return _filled("full", fill_value, (size,), dtype, device, requires_grad)


def _like(t: Tensor, dtype, device):
    return (t.dtype if dtype is None else dtype), (t.device if device is None else device)


def zeros_like(t, dtype=None, device=None, requires_grad=False) -> Tensor:
    dtype, device = _like(t, dtype, device)
    return zeros(t.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def ones_like(t, dtype=None, device=None, requires_grad=False) -> Tensor:
    dtype, device = _like(t, dtype, device)
    return ones(t.shape, dtype=dtype, device=device, requires_grad=requires_grad)


def empty_like(t, dtype=None, device=None, requires_grad=False) -> Tensor:
    return zeros_like(t, dtype, device, requires_grad)


def full_like(t, fill_value, dtype=None, device=None, requires_grad=False) -> Tensor:
    dtype, device = _like(t, dtype, device)
    return full(t.shape, fill_value, dtype=dtype, device=device, requires_grad=requires_grad)


def arange(start, end=None, step=1, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Values in [start, end) by `step`; int64 when all arguments are integers, else float32."""
    if end is None:
        start, end = 0, start
    if step == 0:
        raise RuntimeError(f"arange: step must be nonzero, got arange({start}, {end}, {step})")
    if (end - start) * step < 0:  # NumPy gives an empty range; torch refuses, as here
        raise RuntimeError(f"arange: the range from {start} to {end} runs against the sign of step {step}")
    if dtype is None:
        is_int = all(isinstance(v, (int, np.integer)) for v in (start, end, step))
        dtype = backend.int64 if is_int else backend.get_default_dtype()
    arr = np.arange(start, end, step, dtype=np.float64 if np.dtype(dtype).kind == "f" else None)
    return _finish(arr, dtype, device, requires_grad)


def _span(op: str, steps, dtype):
    """The checks linspace and logspace share: a count of steps, and a dtype with values between ends."""
    steps = _count(op, "steps", steps)
    if steps < 0:
        raise RuntimeError(f"{op}: steps must be non-negative, got {steps}")
    dtype = dtype or backend.get_default_dtype()
    if np.dtype(dtype).kind == "b":
        raise RuntimeError(f"{op}: a bool dtype has no values between its ends; use an integer or float dtype")
    return steps, dtype


def linspace(start, end, steps: int, dtype=None, device=None, requires_grad=False) -> Tensor:
    steps, dtype = _span("linspace", steps, dtype)
    return _finish(np.linspace(start, end, steps), dtype, device, requires_grad)


def logspace(start, end, steps: int, base: float = 10.0, dtype=None, device=None, requires_grad=False) -> Tensor:
    """base ** linspace(start, end, steps)."""
    steps, dtype = _span("logspace", steps, dtype)
    return _finish(np.float64(base) ** np.linspace(start, end, steps), dtype, device, requires_grad)


def _triangle_indices(op: str, row: int, col: int, offset: int, dtype, device, lower: bool) -> Tensor:
    for what, v in (("row", row), ("col", col)):
        if _count(op, what, v) < 0:
            raise RuntimeError(f"{op}: {what} must be non-negative, got {v}")
    r, c = (np.tril_indices if lower else np.triu_indices)(row, offset, col)
    return _finish(np.stack([r, c]), dtype or backend.int64, device, False)


def tril_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """(2, n): the row and column indices of the lower triangle (on and below diagonal `offset`)."""
    return _triangle_indices("tril_indices", row, col, offset, dtype, device, True)


def triu_indices(row: int, col: int, offset: int = 0, *, dtype=None, device=None) -> Tensor:
    """(2, n): the row and column indices of the upper triangle (on and above diagonal `offset`)."""
    return _triangle_indices("triu_indices", row, col, offset, dtype, device, False)


def eye(n: int, m: int | None = None, dtype=None, device=None, requires_grad=False) -> Tensor:
    for what, v in (("n", n), ("m", m)):
        if v is not None and _count("eye", what, v) < 0:
            raise RuntimeError(f"eye: {what} must be non-negative, got {v}")
    return _finish(np.eye(n, m), dtype or backend.get_default_dtype(), device, requires_grad)


def rand(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Uniform samples in [0, 1)."""
    dtype = np.dtype(dtype or backend.get_default_dtype())
    arr = _rng(generator).random(_shape(size, "rand"), dtype=dtype if dtype.itemsize >= 4 else np.float32)
    return _finish(arr, dtype, device, requires_grad)


def randn(*size, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    """Standard normal samples."""
    dtype = np.dtype(dtype or backend.get_default_dtype())
    arr = _rng(generator).standard_normal(_shape(size, "randn"), dtype=dtype if dtype.itemsize >= 4 else np.float32)
    return _finish(arr, dtype, device, requires_grad)


def randint(low, high=None, size=(), generator=None, dtype=None, device=None) -> Tensor:
    """Integers in [low, high) (or [0, low) when `high` is omitted), int64 by default."""
    if isinstance(high, (tuple, list)):  # randint(high, size), as torch allows
        high, size = None, high
    if high is None:
        low, high = 0, low
    shape = _shape((size,), "randint")
    if not low < high:  # torch's words for an empty range
        raise RuntimeError(f"randint: random_ expects 'from' to be less than 'to', but got from={low} >= to={high}")
    arr = _rng(generator).integers(low, high, shape)
    return _finish(arr, dtype or backend.int64, device, False)


def randperm(n: int, generator=None, dtype=None, device=None) -> Tensor:
    n = _count("randperm", "n", n)
    if n < 0:
        raise RuntimeError(f"randperm: n must be non-negative, got {n}")
    return _finish(_rng(generator).permutation(n), dtype or backend.int64, device, False)


def rand_like(t, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    dtype, device = _like(t, dtype, device)
    return rand(t.shape, generator=generator, dtype=dtype, device=device, requires_grad=requires_grad)


def randn_like(t, generator=None, dtype=None, device=None, requires_grad=False) -> Tensor:
    dtype, device = _like(t, dtype, device)
    return randn(t.shape, generator=generator, dtype=dtype, device=device, requires_grad=requires_grad)


def randint_like(t, low, high=None, generator=None, dtype=None, device=None) -> Tensor:
    dtype, device = _like(t, dtype, device)
    return randint(low, high, t.shape, generator=generator, dtype=dtype, device=device)


def multinomial(probs: Tensor, num_samples: int, replacement: bool = False, *, generator=None) -> Tensor:
    """Draw `num_samples` class indices from `probs` (1-D, or 2-D: one distribution per row),
    weighted by the (unnormalised) probabilities; without replacement each index at most once.

    >>> lamina.multinomial(lamina.tensor([0.1, 0.0, 0.9]), 2)   # e.g. tensor([2, 0])
    """
    p = backend.to_device(probs._data, backend.CPU).astype(np.float64)
    if p.ndim not in (1, 2):
        raise RuntimeError(f"multinomial: probs must be 1-D or 2-D, got shape {tuple(p.shape)}")
    num_samples = _count("multinomial", "num_samples", num_samples)
    if num_samples <= 0:
        raise RuntimeError(f"multinomial: cannot sample num_samples={num_samples} <= 0 samples")
    p2 = p.reshape(-1, p.shape[-1])
    if not np.isfinite(p2).all() or (p2 < 0).any():
        raise RuntimeError("multinomial: probability tensor contains either `inf`, `nan` or element < 0")
    sums = p2.sum(-1)
    if p2.size == 0 or (sums <= 0).any():
        row = int(np.argmax(sums <= 0)) if p2.size else 0
        raise RuntimeError(f"multinomial: invalid multinomial distribution (sum of probabilities <= 0) in row {row}")
    if not replacement:
        nonzero = np.count_nonzero(p2, axis=-1)
        if (nonzero < num_samples).any():
            row = int(np.argmax(nonzero < num_samples))
            raise RuntimeError(f"multinomial: cannot draw {num_samples} samples without replacement from row {row}, "
                               f"which has only {nonzero[row]} categories of non-zero probability")
    p2 = p2 / sums[:, None]
    rng = _rng(generator)
    if replacement:
        u = rng.random((p2.shape[0], num_samples))
        out = np.stack([np.searchsorted(np.cumsum(row), ui, side="right") for row, ui in zip(p2, u)])
        out = np.minimum(out, p.shape[-1] - 1)  # rounding in cumsum may leave the total just under 1
    else:
        out = np.stack([rng.choice(p2.shape[1], num_samples, replace=False, p=row) for row in p2])
    return _finish(out.reshape(p.shape[:-1] + (num_samples,)), backend.int64, probs.device, False)


def bernoulli(probs: Tensor, generator=None) -> Tensor:
    p = backend.to_device(probs._data, backend.CPU)
    if not ((p >= 0) & (p <= 1)).all():  # written so that nan fails too
        raise RuntimeError("bernoulli: probabilities must be in [0, 1] (and not nan), "
                           f"got values from {np.nanmin(p) if p.size else None} to {np.nanmax(p) if p.size else None}")
    u = _rng(generator).random(probs.shape)
    return _finish(u < p, probs.dtype, probs.device, False)


# ---- torch's legacy typed constructors: lamina.FloatTensor([1, 2]), lamina.LongTensor(3, 4) ----
class _TypedMeta(type):
    def __instancecheck__(cls, obj):  # isinstance(x, lamina.FloatTensor): a float32 tensor
        return isinstance(obj, Tensor) and obj.dtype == cls.dtype


class _Typed(metaclass=_TypedMeta):
    dtype = None

    def __new__(cls, *args, device=None):
        if not args:
            return zeros(0, dtype=cls.dtype, device=device)
        if len(args) == 1 and not isinstance(args[0], int):  # data, or a torch.Size-like tuple of sizes
            return tensor(args[0], dtype=cls.dtype, device=device)
        # torch leaves the memory uninitialised; zeros is the safe version of that
        return zeros(*args, dtype=cls.dtype, device=device)


def _typed(name: str, dtype) -> type:
    return _TypedMeta(name, (_Typed,), {"dtype": np.dtype(dtype), "__doc__": f"torch.{name}: a {dtype} tensor."})


FloatTensor = _typed("FloatTensor", np.float32)
DoubleTensor = _typed("DoubleTensor", np.float64)
HalfTensor = _typed("HalfTensor", np.float16)
LongTensor = _typed("LongTensor", np.int64)
IntTensor = _typed("IntTensor", np.int32)
ShortTensor = _typed("ShortTensor", np.int16)
CharTensor = _typed("CharTensor", np.int8)
ByteTensor = _typed("ByteTensor", np.uint8)
BoolTensor = _typed("BoolTensor", np.bool_)
