"""Dense and structural layers: Linear, Identity, Flatten, Unflatten, containers, Embedding, Dropout.

Containers keep their children as attributes named "0", "1", ... (or by key), so that the
state_dict keys are PyTorch's: Sequential(Linear(...), ReLU()) has "0.weight" and "0.bias".
"""
from __future__ import annotations

import math
from collections import OrderedDict
from typing import Iterable, Iterator

from ... import creation
from ...autograd import no_grad
from .. import functional as F
from .. import init
from ..module import Module, Parameter

__all__ = ["Linear", "Identity", "Flatten", "Unflatten", "Sequential", "ModuleList", "ModuleDict", "ParameterList",
           "ParameterDict", "Embedding", "EmbeddingBag", "Dropout", "Dropout1d", "Dropout2d", "Dropout3d"]


class Linear(Module):
    """y = x @ weight.T + bias, weight of shape (out_features, in_features).

    Initialised as PyTorch: weight ~ U(-1/sqrt(in), 1/sqrt(in)) (kaiming_uniform with a=sqrt(5)),
    and bias ~ U(-1/sqrt(in), 1/sqrt(in)).
    """

    def __init__(self, in_features: int, out_features: int, bias: bool = True, device=None, dtype=None):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        self.weight = Parameter(creation.empty(out_features, in_features, dtype=dtype, device=device))
        self.bias = Parameter(creation.empty(out_features, dtype=dtype, device=device)) if bias else None
        self.reset_parameters()

    def reset_parameters(self) -> None:
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            bound = 1 / math.sqrt(self.in_features) if self.in_features > 0 else 0
            init.uniform_(self.bias, -bound, bound)

    def forward(self, input):
        return F.linear(input, self.weight, self.bias)

    def extra_repr(self) -> str:
        return f"in_features={self.in_features}, out_features={self.out_features}, bias={self.bias is not None}"


class Identity(Module):
    """Returns its input; takes and ignores any constructor arguments."""

    def __init__(self, *args, **kwargs):
        super().__init__()

    def forward(self, input):
        return input


class Flatten(Module):
    """Flatten dims start_dim..end_dim into one: (N, C, H, W) -> (N, C*H*W) by default."""

    def __init__(self, start_dim: int = 1, end_dim: int = -1):
        super().__init__()
        self.start_dim, self.end_dim = start_dim, end_dim

    def forward(self, input):
        return input.flatten(self.start_dim, self.end_dim)

    def extra_repr(self) -> str:
        return f"start_dim={self.start_dim}, end_dim={self.end_dim}"


class Unflatten(Module):
    """Split dim `dim` into `unflattened_size`: Unflatten(1, (C, H, W)) undoes Flatten()."""

    def __init__(self, dim: int, unflattened_size):
        super().__init__()
        self.dim, self.unflattened_size = dim, tuple(unflattened_size)

    def forward(self, input):
        return input.unflatten(self.dim, self.unflattened_size)

    def extra_repr(self) -> str:
        return f"dim={self.dim}, unflattened_size={self.unflattened_size}"


# ---- containers ---------------------------------------------------------------------------
class _Indexed(Module):
    """Children stored as attributes "0", "1", ...: the shared part of Sequential and ModuleList."""

    def _list(self) -> list:
        return [v for k, v in vars(self).items() if k.isdigit()]

    def _reset(self, modules) -> None:
        for k in [k for k in vars(self) if k.isdigit()]:
            delattr(self, k)
        for i, m in enumerate(modules):
            object.__setattr__(self, str(i), m)

    def _index(self, idx: int) -> int:
        n = len(self)
        if not -n <= idx < n:
            raise IndexError(f"{type(self).__name__}: index {idx} is out of range for {n} modules")
        return idx % n

    def __len__(self) -> int:
        return len(self._list())

    def __iter__(self) -> Iterator[Module]:
        return iter(self._list())

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return type(self)(*self._list()[idx])
        return getattr(self, str(self._index(idx)))

    def __setitem__(self, idx: int, module: Module) -> None:
        object.__setattr__(self, str(self._index(idx)), module)

    def __delitem__(self, idx) -> None:
        mods = self._list()
        del mods[idx if isinstance(idx, slice) else self._index(idx)]
        self._reset(mods)

    def append(self, module: Module):
        object.__setattr__(self, str(len(self)), module)
        return self

    def extend(self, modules: Iterable[Module]):
        for m in modules:
            self.append(m)
        return self

    def insert(self, index: int, module: Module) -> None:
        mods = self._list()
        mods.insert(index, module)
        self._reset(mods)


class Sequential(_Indexed):
    """Run modules one after another: Sequential(Linear(784, 128), ReLU(), Linear(128, 10)).
    An OrderedDict of name -> module names the children instead of numbering them."""

    def __init__(self, *modules):
        super().__init__()
        if len(modules) == 1 and isinstance(modules[0], OrderedDict):
            for name, m in modules[0].items():
                object.__setattr__(self, name, m)
        else:
            for i, m in enumerate(modules):
                object.__setattr__(self, str(i), m)

    def _list(self) -> list:
        return [m for _, m in self.named_children()]

    def __getitem__(self, idx):
        if isinstance(idx, slice):  # keeps the children's names, as PyTorch does
            return Sequential(OrderedDict(list(self.named_children())[idx]))
        return self._list()[self._index(idx)]

    def __setitem__(self, idx: int, module: Module) -> None:
        name = list(self.named_children())[self._index(idx)][0]
        object.__setattr__(self, name, module)

    def forward(self, input):
        for module in self:
            input = module(input)
        return input


class ModuleList(_Indexed):
    """A list of modules whose parameters the parent finds ("layers.0.weight", ...)."""

    def __init__(self, modules: Iterable[Module] | None = None):
        super().__init__()
        if modules is not None:
            self.extend(modules)

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ModuleList(self._list()[idx])
        return super().__getitem__(idx)

    def __add__(self, other: "ModuleList") -> "ModuleList":
        return ModuleList(list(self) + list(other))


class ModuleDict(Module):
    """A dict of modules, each a child under its key."""

    def __init__(self, modules=None):
        super().__init__()
        if modules is not None:
            self.update(modules)

    def _check(self, key: str) -> None:
        if not isinstance(key, str) or not key or key.startswith("_") or "." in key or key == "training":
            raise KeyError(f"ModuleDict: key {key!r} must be a non-empty string without '.' or a leading '_'")

    def __getitem__(self, key: str) -> Module:
        if key not in self:
            raise KeyError(f"ModuleDict: no module named {key!r}; have {list(self.keys())}")
        return vars(self)[key]

    def __setitem__(self, key: str, module: Module) -> None:
        self._check(key)
        object.__setattr__(self, key, module)

    def __delitem__(self, key: str) -> None:
        delattr(self, key)

    def __contains__(self, key) -> bool:
        return key in self.keys()

    def __len__(self) -> int:
        return len(self.keys())

    def __iter__(self) -> Iterator[str]:
        return iter(self.keys())

    def keys(self) -> list:
        return [k for k, _ in self.named_children()]

    def values(self) -> list:
        return [m for _, m in self.named_children()]

    def items(self) -> list:
        return list(self.named_children())

    def update(self, modules) -> None:
        for k, m in (modules.items() if hasattr(modules, "items") else modules):
            self[k] = m

    def pop(self, key: str) -> Module:
        m = self[key]
        del self[key]
        return m


def _as_parameter(value):
    """torch's parameter containers turn a plain tensor into a Parameter."""
    from ...tensor import Tensor
    if isinstance(value, Tensor) and not isinstance(value, Parameter):
        return Parameter(value)
    return value


class ParameterList(_Indexed):
    """A list of Parameters whose parent finds them ("weights.0", "weights.1", ...)."""

    def __init__(self, values=None):
        super().__init__()
        if values is not None:
            self.extend(values)

    def append(self, value):
        object.__setattr__(self, str(len(self)), _as_parameter(value))
        return self

    def __getitem__(self, idx):
        if isinstance(idx, slice):
            return ParameterList(self._list()[idx])
        return super().__getitem__(idx)

    def __setitem__(self, idx: int, value) -> None:
        object.__setattr__(self, str(self._index(idx)), _as_parameter(value))

    def extra_repr(self) -> str:
        return "\n".join(f"({i}): Parameter containing: [{p.dtype} of size {tuple(p.shape)}]"
                         for i, p in enumerate(self))


class ParameterDict(Module):
    """A dict of Parameters, each under its key ("params.alpha")."""

    def __init__(self, parameters=None):
        super().__init__()
        if parameters is not None:
            self.update(parameters)

    def __getitem__(self, key: str):
        if key not in self:
            raise KeyError(f"ParameterDict: no parameter named {key!r}; have {list(self.keys())}")
        return vars(self)[key]

    def __setitem__(self, key: str, value) -> None:
        if not isinstance(key, str) or not key or key.startswith("_") or "." in key or key == "training":
            raise KeyError(f"ParameterDict: key {key!r} must be a non-empty string without '.' or a leading '_'")
        object.__setattr__(self, key, _as_parameter(value))

    def __delitem__(self, key: str) -> None:
        delattr(self, key)

    def __contains__(self, key) -> bool:
        return key in self.keys()

    def __len__(self) -> int:
        return len(self.keys())

    def __iter__(self):
        return iter(self.keys())

    def keys(self) -> list:
        return [k for k in vars(self) if not k.startswith("_") and k != "training"]

    def values(self) -> list:
        return [vars(self)[k] for k in self.keys()]

    def items(self) -> list:
        return [(k, vars(self)[k]) for k in self.keys()]

    def update(self, parameters) -> None:
        for k, v in (parameters.items() if hasattr(parameters, "items") else parameters):
            self[k] = v

    def pop(self, key: str):
        v = self[key]
        del self[key]
        return v

    def get(self, key: str, default=None):
        return self[key] if key in self else default


# ---- lookup and regularisation -----------------------------------------------------------
class Embedding(Module):
    """A table of num_embeddings vectors of size embedding_dim, looked up by integer index.
    Initialised N(0, 1); the row at `padding_idx` starts at zero and never gets a gradient."""

    def __init__(self, num_embeddings: int, embedding_dim: int, padding_idx: int | None = None, max_norm=None,
                 norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False, _weight=None,
                 _freeze: bool = False, device=None, dtype=None):
        super().__init__()
        if sparse:
            raise NotImplementedError("Embedding: sparse gradients are not supported (lamina has no sparse "
                                      "tensors); the default dense gradient is the same values")
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"Embedding: padding_idx {padding_idx} must be within num_embeddings {num_embeddings}")
            padding_idx %= num_embeddings
        self.num_embeddings, self.embedding_dim, self.padding_idx = num_embeddings, embedding_dim, padding_idx
        if _weight is None:
            self.weight = Parameter(creation.empty(num_embeddings, embedding_dim, dtype=dtype, device=device))
            self.reset_parameters()
        else:
            if tuple(_weight.shape) != (num_embeddings, embedding_dim):
                raise ValueError(f"Embedding: _weight has shape {tuple(_weight.shape)}, "
                                 f"expected ({num_embeddings}, {embedding_dim})")
            self.weight = Parameter(_weight, requires_grad=not _freeze)

    def reset_parameters(self) -> None:
        init.normal_(self.weight)
        if self.padding_idx is not None:
            with no_grad():
                self.weight[self.padding_idx] = 0

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, padding_idx: int | None = None, max_norm=None,
                        norm_type: float = 2.0, scale_grad_by_freq: bool = False, sparse: bool = False) -> "Embedding":
        """An Embedding holding `embeddings` (a 2-D tensor), frozen by default."""
        rows, cols = embeddings.shape
        return cls(rows, cols, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse, _weight=embeddings,
                   _freeze=freeze)

    def forward(self, input):
        return F.embedding(input, self.weight, self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq)

    def extra_repr(self) -> str:
        s = f"{self.num_embeddings}, {self.embedding_dim}"
        if self.padding_idx is not None:
            s += f", padding_idx={self.padding_idx}"
        if self.max_norm is not None:
            s += f", max_norm={self.max_norm}"
        if self.norm_type != 2:
            s += f", norm_type={self.norm_type}"
        if self.scale_grad_by_freq:
            s += ", scale_grad_by_freq=True"
        return s


class EmbeddingBag(Module):
    """Sums, means or maxima of bags of embeddings (torch.nn.EmbeddingBag); weight ~ N(0, 1)."""

    def __init__(self, num_embeddings: int, embedding_dim: int, max_norm=None, norm_type: float = 2.0,
                 scale_grad_by_freq: bool = False, mode: str = "mean", sparse: bool = False, _weight=None,
                 include_last_offset: bool = False, padding_idx: int | None = None, device=None, dtype=None):
        super().__init__()
        if mode not in ("sum", "mean", "max"):
            raise ValueError(f"EmbeddingBag: mode must be 'sum', 'mean' or 'max', got {mode!r}")
        if sparse:
            raise NotImplementedError("EmbeddingBag: sparse gradients are not supported (lamina has no sparse tensors)")
        self.num_embeddings, self.embedding_dim, self.mode = num_embeddings, embedding_dim, mode
        self.max_norm, self.norm_type, self.scale_grad_by_freq = max_norm, norm_type, scale_grad_by_freq
        self.include_last_offset = include_last_offset
        if padding_idx is not None:
            if not -num_embeddings <= padding_idx < num_embeddings:
                raise ValueError(f"EmbeddingBag: padding_idx {padding_idx} must be within num_embeddings {num_embeddings}")
            padding_idx %= num_embeddings
        self.padding_idx = padding_idx
        if _weight is None:
            self.weight = Parameter(creation.empty(num_embeddings, embedding_dim, dtype=dtype, device=device))
            init.normal_(self.weight)
            if padding_idx is not None:
                with no_grad():
                    self.weight[padding_idx] = 0
        else:
            self.weight = Parameter(_weight)

    @classmethod
    def from_pretrained(cls, embeddings, freeze: bool = True, **kwargs) -> "EmbeddingBag":
        bag = cls(*embeddings.shape, _weight=embeddings, **kwargs)
        bag.weight.requires_grad = not freeze
        return bag

    def forward(self, input, offsets=None, per_sample_weights=None):
        return F.embedding_bag(input, self.weight, offsets, self.max_norm, self.norm_type, self.scale_grad_by_freq,
                               self.mode, False, per_sample_weights, self.include_last_offset, self.padding_idx)

    def extra_repr(self) -> str:
        return f"{self.num_embeddings}, {self.embedding_dim}, mode={self.mode!r}" + (
            f", padding_idx={self.padding_idx}" if self.padding_idx is not None else "")


class Dropout(Module):
    """During training zero each element with probability p and scale the rest by 1/(1-p);
    in eval mode, the identity. Draws from lamina's default generator (lamina.manual_seed)."""

    def __init__(self, p: float = 0.5, inplace: bool = False):
        super().__init__()
        if not 0.0 <= p <= 1.0:
            raise ValueError(f"{type(self).__name__}: dropout probability has to be between 0 and 1, but got {p}")
        self.p, self.inplace = p, inplace

    def forward(self, input):
        return F.dropout(input, self.p, self.training)

    def extra_repr(self) -> str:
        return f"p={self.p}, inplace={self.inplace}"


class Dropout1d(Dropout):
    """Zero whole channels of (N, C, L) inputs with probability p."""

    def forward(self, input):
        return F.dropout1d(input, self.p, self.training)


class Dropout2d(Dropout):
    """Zero whole channels of (N, C, H, W) inputs with probability p (for conv feature maps)."""

    def forward(self, input):
        return F.dropout2d(input, self.p, self.training)


class Dropout3d(Dropout):
    """Zero whole channels of (N, C, D, H, W) inputs with probability p."""

    def forward(self, input):
        return F.dropout3d(input, self.p, self.training)
