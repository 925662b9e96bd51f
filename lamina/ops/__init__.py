"""Primitive differentiable ops and the thin functions that call them.

Every public function here is also `lamina.<name>`; those in TENSOR_METHODS are also
tensor methods (`x.exp()`), exactly as in PyTorch.
"""
from .activation import elu, gelu, leaky_relu, log_softmax, relu, silu, softmax, softplus
from .elementwise import (
    abs, add, allclose, cast, ceil, clamp, clip, clone, cos, div, divide, eq, equal, exp, expm1, floor,
    floor_divide, ge, greater, greater_equal, gt, isclose, isfinite, isinf, isnan, le, less, less_equal,
    log, log1p, logical_and, logical_not, logical_or, logical_xor, bitwise_and, bitwise_or, bitwise_xor, bitwise_not,
    bitwise_left_shift, bitwise_right_shift, lt, maximum,
    minimum, mul, multiply, ne, neg, nonzero, not_equal, pow, reciprocal, remainder, round, rsqrt,
    sigmoid, sign, sin, sqrt, square, sub, subtract, tanh, to_device, true_divide, where,
    absolute, negative, positive, rsub,
)
from .index import (
    gather, getitem, index_key, index_select, masked_fill, masked_select, one_hot, scatter, scatter_add,
    scatter_reduce, take, repeat_interleave, argwhere, index_add, index_copy, index_fill, isin, take_along_dim,
    masked_scatter,
)
from .linalg import bmm, dot, einsum, matmul, mm, outer
from .reduce import (
    all, amax, amin, any, argmax, argmin, count_nonzero, cummax, cummin, cumprod, cumsum, logcumsumexp,
    logsumexp, max, mean, min, prod, std, aminmax, nanmean, nansum,
    std_mean, sum, var, var_mean,
)
import functools as _functools
import inspect as _inspect
import types as _types

from . import matrix as _matrix, sort as _sort, spatial as _spatial, special as _special  # `sort` is also a function
from .sort import *  # noqa: F401,F403  sort, topk, argsort, ...
from .spatial import *  # noqa: F401,F403  unfold/fold, grid_sample, pixel_shuffle, ...
from .special import *  # noqa: F401,F403  the rest of elementwise math: tan, erf, log2, ...
from .matrix import *  # noqa: F401,F403  trace, kron, tensordot, addmm, det, inverse, ...
from .shape import (
    broadcast_tensors, broadcast_to, cat, chunk, concat, concatenate, expand, expand_as, flatten, flip,
    movedim, narrow, pad, permute, repeat, reshape, reshape_as, roll, split, squeeze, stack, swapaxes, t,
    tile, transpose, tril, triu, unbind, unflatten, unsqueeze, view, view_as,
    block_diag, cartesian_prod, diag, diag_embed, diagonal, meshgrid, unfold_dim,
    atleast_1d, atleast_2d, atleast_3d, column_stack, diff, dsplit, dstack, fliplr, flipud, hsplit, hstack,
    moveaxis, ravel, rot90, row_stack, select, swapdims, tensor_split, vsplit, vstack,
)

# Functions that are also Tensor methods, called as x.name(...).
TENSOR_METHODS = [
    "abs", "add", "ceil", "clamp", "clip", "cos", "div", "eq", "exp", "expm1", "floor", "ge", "gt", "isfinite",
    "isinf", "isnan", "le", "log", "log1p", "logical_and", "logical_not", "logical_or", "lt", "maximum",
    "minimum", "mul", "ne", "neg", "nonzero", "pow", "reciprocal", "remainder", "round", "rsqrt", "sigmoid",
    "sign", "sin", "sqrt", "square", "sub", "tanh", "where", "relu", "softmax", "log_softmax",
    "gather", "index_select", "masked_fill", "masked_select", "scatter", "scatter_add", "scatter_reduce", "take", "repeat_interleave",
    "argwhere", "index_add", "index_copy", "index_fill", "isin", "take_along_dim", "masked_scatter",
    "matmul", "mm", "bmm", "dot", "outer",
    "all", "amax", "amin", "any", "argmax", "argmin", "count_nonzero", "cummax", "cummin", "cumprod", "cumsum",
    "logcumsumexp", "aminmax", "nanmean", "nansum", "logsumexp", "max", "mean",
    "min", "prod", "std", "sum", "var",
    "broadcast_to", "chunk", "expand", "expand_as", "flatten", "flip", "movedim", "narrow", "permute",
    "repeat", "reshape", "reshape_as", "roll", "split", "squeeze", "swapaxes", "t", "tile", "transpose",
    "tril", "triu", "unbind", "unflatten", "unsqueeze", "view", "view_as", "allclose", "equal", "isclose",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift",
    "diag", "diag_embed", "diagonal",
    "diff", "dsplit", "fliplr", "flipud", "hsplit", "moveaxis", "ravel", "rot90", "select", "swapdims",
    "tensor_split", "vsplit", "absolute", "negative", "positive",
] + _sort.METHODS + _spatial.METHODS + _special.METHODS + _matrix.METHODS

# every public function, less the modules and the internals other modules import by name
__all__ = [n for n in dir() if not n.startswith("_") and not isinstance(globals()[n], _types.ModuleType)
           and n not in ("TENSOR_METHODS", "cast", "to_device", "getitem", "index_key", "unfold_dim")]


def _numpy_names(fn):
    """torch also accepts NumPy's names for two arguments: axis= for dim= and keepdims= for
    keepdim=. The rename costs one dict lookup, and only when keywords are passed."""
    @_functools.wraps(fn)
    def op(*args, **kwargs):
        if kwargs:
            if "axis" in kwargs:
                kwargs["dim"] = kwargs.pop("axis")
            if "keepdims" in kwargs:
                kwargs["keepdim"] = kwargs.pop("keepdims")
        return fn(*args, **kwargs)
    return op


for _n in __all__:
    _f = globals()[_n]
    if isinstance(_f, _types.FunctionType) and "dim" in _inspect.signature(_f).parameters:
        globals()[_n] = _numpy_names(_f)
del _n, _f
