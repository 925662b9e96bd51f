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
)
from .index import (
    gather, getitem, index_key, index_select, masked_fill, masked_select, one_hot, scatter, scatter_add,
    scatter_reduce, take,
)
from .linalg import bmm, dot, einsum, matmul, mm, outer
from .reduce import (
    all, amax, amin, any, argmax, argmin, count_nonzero, cumsum, logsumexp, max, mean, min, prod, std,
    std_mean, sum, var, var_mean,
)
from . import sort as _sort, spatial as _spatial, special as _special  # `sort` is also a function below
from .sort import *  # noqa: F401,F403  sort, topk, argsort, ...
from .spatial import *  # noqa: F401,F403  unfold/fold, grid_sample, pixel_shuffle, ...
from .special import *  # noqa: F401,F403  the rest of elementwise math: tan, erf, log2, ...
from .shape import (
    broadcast_tensors, broadcast_to, cat, chunk, concat, concatenate, expand, expand_as, flatten, flip,
    movedim, narrow, pad, permute, repeat, reshape, reshape_as, roll, split, squeeze, stack, swapaxes, t,
    tile, transpose, tril, triu, unbind, unflatten, unsqueeze, view, view_as,
    block_diag, cartesian_prod, diag, diag_embed, diagonal, meshgrid, unfold_dim,
)

# Functions that are also Tensor methods, called as x.name(...).
TENSOR_METHODS = [
    "abs", "add", "ceil", "clamp", "clip", "cos", "div", "eq", "exp", "expm1", "floor", "ge", "gt", "isfinite",
    "isinf", "isnan", "le", "log", "log1p", "logical_and", "logical_not", "logical_or", "lt", "maximum",
    "minimum", "mul", "ne", "neg", "nonzero", "pow", "reciprocal", "remainder", "round", "rsqrt", "sigmoid",
    "sign", "sin", "sqrt", "square", "sub", "tanh", "where", "relu", "softmax", "log_softmax",
    "gather", "index_select", "masked_fill", "masked_select", "scatter", "scatter_add", "scatter_reduce", "take",
    "matmul", "mm", "bmm", "dot", "outer",
    "all", "amax", "amin", "any", "argmax", "argmin", "count_nonzero", "cumsum", "logsumexp", "max", "mean",
    "min", "prod", "std", "sum", "var",
    "broadcast_to", "chunk", "expand", "expand_as", "flatten", "flip", "movedim", "narrow", "permute",
    "repeat", "reshape", "reshape_as", "roll", "split", "squeeze", "swapaxes", "t", "tile", "transpose",
    "tril", "triu", "unbind", "unflatten", "unsqueeze", "view", "view_as", "allclose", "equal", "isclose",
    "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift",
    "diag", "diag_embed", "diagonal",
] + _sort.METHODS + _spatial.METHODS + _special.METHODS

__all__ = [n for n in dir() if not n.startswith("_") and n not in ("TENSOR_METHODS", "activation", "elementwise",
                                                                  "index", "linalg", "reduce", "shape", "cast",
                                                                  "spatial", "special",
                                                                  "to_device", "getitem", "index_key", "unfold_dim")]
