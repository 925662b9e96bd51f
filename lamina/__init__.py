"""lamina: a deep learning framework from first principles over NumPy (CPU) and CuPy (GPU).

>>> import lamina
>>> x = lamina.randn(3, 4, requires_grad=True)
>>> (x.exp() * 2).sum().backward()
"""
import builtins as _builtins

__version__ = "0.1.0"  # pyproject.toml reads it from here

from . import backend
from .backend import (
    Device as device, bool_, cuda_available, double, float16, float32, float64, get_default_dtype, half,
    int8, int16, int32, int64, long, set_default_dtype, short, uint8, get_num_threads, set_num_threads,
)
from .tensor import Tensor
from .autograd import enable_grad, inference_mode, is_grad_enabled, no_grad, set_grad_enabled
from . import autograd
from .profiler import profile
from .creation import (
    Generator, arange, as_tensor, bernoulli, default_generator, empty, empty_like, eye, from_numpy, full,
    full_like, get_rng_state, initial_seed, linspace, logspace, manual_seed, multinomial, ones, ones_like, rand,
    rand_like, randint, randint_like, randn, randn_like, randperm, seed, set_rng_state, tensor, tril_indices,
    triu_indices, zeros, zeros_like,
)
from .creation import (  # noqa: F401  torch's legacy typed constructors
    BoolTensor, ByteTensor, CharTensor, DoubleTensor, FloatTensor, HalfTensor, IntTensor, LongTensor, ShortTensor,
)
from .ops import *  # noqa: F401,F403  the op functions: lamina.exp, lamina.cat, lamina.einsum, ...
from .ops import __all__ as _ops_all  # noqa: F401

# PyTorch spells these dtypes with builtin names; here they live only on the package.
float = float32
int = int32
bool = bool_
dtype = type(float32)

del _builtins


def is_tensor(obj) -> bool:
    return isinstance(obj, Tensor)


def is_floating_point(input) -> bool:
    return input.is_floating_point()


def numel(input) -> int:
    return input.numel()

from . import linalg, nn, optim  # noqa: E402  (they build on everything above)
from . import accelerator, backends, cuda, data, utils, vision  # noqa: E402,F401  torch's module layout
from .io import load, save  # noqa: E402
