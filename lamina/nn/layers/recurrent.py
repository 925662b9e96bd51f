"""Recurrent layers: RNN, LSTM and GRU, and their one-step cells, with PyTorch's parameter
names (weight_ih_l0, weight_hh_l0_reverse, ...), gate layouts and return values.

Each layer-direction runs as one fused primitive (lamina/ops/rnn.py); this file only wires
layers, directions, initial states, dropout and variable lengths around it.
"""
from __future__ import annotations

import math

from ... import ops
from ...backend import array_module, get_default_dtype
from ...creation import rand
from ...ops.rnn import GATES, recurrence
from ...tensor import Tensor
from ..module import Module, Parameter
from ..utils.rnn import PackedSequence, _lengths_array

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


def _uniform(shape, bound: float) -> Parameter:
    """PyTorch's recurrent init: every weight and bias uniform in (-1/sqrt(H), 1/sqrt(H))."""
    return Parameter(rand(*shape, dtype=get_default_dtype()) * (2 * bound) - bound)


def _zeros_like_state(x: Tensor, shape) -> Tensor:
    return Tensor._make(array_module(x._data).zeros(shape, dtype=x.dtype), None)


def _check_state(name: str, what: str, state, expected: tuple):
    if tuple(state.shape) != expected:
        raise RuntimeError(f"{name}: expected {what} of shape {expected}, got {tuple(state.shape)}")


class RNNBase(Module):
    """The shared body of RNN, LSTM and GRU. `mode` is 'RNN_TANH', 'RNN_RELU', 'LSTM' or 'GRU'."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0):
        super().__init__()
        name = {"RNN_TANH": "RNN", "RNN_RELU": "RNN"}.get(mode, mode)
        if not 0.0 <= dropout <= 1.0:
            raise ValueError(f"{name}: dropout must be in [0, 1], got {dropout}")
        if num_layers < 1 or hidden_size < 1:
            raise ValueError(f"{name}: num_layers and hidden_size must be positive, got {num_layers} and {hidden_size}")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout, self.bidirectional = bias, batch_first, float(dropout), bidirectional
        if proj_size < 0 or proj_size >= max(hidden_size, 1) or (proj_size and mode != "LSTM"):
            raise ValueError(f"{name}: proj_size must be 0, or for an LSTM within [0, hidden_size = {hidden_size}), "
                             f"got {proj_size}")
        self._name, self.proj_size = name, proj_size
        G, H, D = GATES[mode], hidden_size, 2 if bidirectional else 1
        R = proj_size or H  # the size of h: the LSTM projects it down from H when proj_size > 0
        bound = 1.0 / math.sqrt(hidden_size)
        for k in range(num_layers):  # PyTorch's names and order; _params finds them again
            for sfx in ("", "_reverse")[:D]:
                setattr(self, f"weight_ih_l{k}{sfx}", _uniform((G * H, input_size if k == 0 else D * R), bound))
                setattr(self, f"weight_hh_l{k}{sfx}", _uniform((G * H, R), bound))
                if bias:
                    setattr(self, f"bias_ih_l{k}{sfx}", _uniform((G * H,), bound))
                    setattr(self, f"bias_hh_l{k}{sfx}", _uniform((G * H,), bound))
                if proj_size:
                    setattr(self, f"weight_hr_l{k}{sfx}", _uniform((R, H), bound))

    def extra_repr(self) -> str:
        s = f"{self.input_size}, {self.hidden_size}"
        if self.mode == "RNN_RELU":
            s += ", nonlinearity='relu'"
        for k, default in (("proj_size", 0), ("num_layers", 1), ("bias", True), ("batch_first", False),
                           ("dropout", 0.0), ("bidirectional", False)):
            if getattr(self, k) != default:
                s += f", {k}={getattr(self, k)}"
        return s

    def flatten_parameters(self) -> None:
        """torch compacts cuDNN's weight buffer here; lamina's weights are always usable as they are."""

    def _params(self, k: int, d: int):
        """(w_ih, w_hh, b_ih, b_hh, w_hr) of layer k, direction d; None for those not there."""
        sfx = "_reverse" if d else ""
        return [getattr(self, f"{n}_l{k}{sfx}", None) for n in ("weight_ih", "weight_hh", "bias_ih", "bias_hh",
                                                                 "weight_hr")]

    def _dropout(self, x: Tensor) -> Tensor:
        """Dropout between layers, drawn from lamina's default generator."""
        p = self.dropout
        if p >= 1.0:
            return x * 0.0
        keep = (rand(*x.shape, dtype=x.dtype)._data >= p).astype(x.dtype) * (1.0 / (1.0 - p))
        return x * Tensor._make(keep, None)

    def forward(self, input, hx=None, *, lengths=None):
        """input: (T, B, input_size), (B, T, input_size) with batch_first, (T, input_size) unbatched,
        or a PackedSequence. `lengths` (B,), a lamina extra, gives each sequence's true length.

        Returns (output, h_n), or (output, (h_n, c_n)) for LSTM, shaped as in PyTorch.
        """
        name, lstm = self._name, self.mode == "LSTM"
        packed = isinstance(input, PackedSequence)
        unbatched = False
        if packed:
            x, lengths = input.padded, input.lengths  # (T, B, I)
        else:
            if not isinstance(input, Tensor) or input.ndim not in (2, 3):
                shape = tuple(input.shape) if hasattr(input, "shape") else type(input).__name__
                raise RuntimeError(f"{name}: expected input of 2 or 3 dims (T, B, input_size) or (B, T, input_size) "
                                   f"with batch_first=True, got shape {shape}")
            unbatched = input.ndim == 2
            x = input.unsqueeze(1) if unbatched else input.transpose(0, 1) if self.batch_first else input  # (T, B, I)
        if x.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: expected input_size {self.input_size} in the last dim of the input, "
                               f"got shape {tuple(input.padded.shape if packed else input.shape)}")
        T, B = x.shape[0], x.shape[1]
        if lengths is not None:
            lengths = _lengths_array(lengths, name)
            if lengths.shape != (B,) or (B and (lengths.min() < 1 or lengths.max() > T)):
                raise RuntimeError(f"{name}: expected lengths of shape ({B},) with values in [1, {T}], "
                                   f"got {lengths.tolist()}")

        D = 2 if self.bidirectional else 1
        R = self.proj_size or self.hidden_size
        state_shape = (self.num_layers * D, self.hidden_size) if unbatched else (self.num_layers * D, B, self.hidden_size)
        h_shape = state_shape[:-1] + (R,)
        if hx is None:
            h0 = _zeros_like_state(x, (self.num_layers * D, B, R))
            c0 = _zeros_like_state(x, (self.num_layers * D, B, self.hidden_size)) if lstm else None
        else:
            if lstm:
                if not isinstance(hx, (tuple, list)) or len(hx) != 2:
                    raise RuntimeError(f"{name}: expected hx as a tuple (h_0, c_0), got {type(hx).__name__}")
                h0, c0 = hx
                _check_state(name, "h_0", h0, h_shape)
                _check_state(name, "c_0", c0, state_shape)
            else:
                h0, c0 = hx, None
                _check_state(name, "h_0", h0, state_shape)
            if unbatched:
                h0 = h0.unsqueeze(1)
                c0 = c0.unsqueeze(1) if lstm else None

        h_n, c_n = [], []
        layer_in = x
        for k in range(self.num_layers):
            outs = []
            for d in range(D):
                i = k * D + d
                out, h, c = recurrence(layer_in, h0[i], c0[i] if lstm else None, *self._params(k, d),
                                       mode=self.mode, reverse=d == 1, lengths=lengths)
                outs.append(out)
                h_n.append(h)
                c_n.append(c)
            layer_in = outs[0] if D == 1 else ops.cat(outs, -1)  # (T, B, D*H)
            if self.dropout > 0 and self.training and k < self.num_layers - 1:
                layer_in = self._dropout(layer_in)
        output = layer_in
        h_n = ops.stack(h_n)  # (L*D, B, H), or proj_size for H
        c_n = ops.stack(c_n) if lstm else None

        if packed:
            output = PackedSequence(output, lengths, input.sorted_indices, input.unsorted_indices)
        elif unbatched:
            output, h_n = output.squeeze(1), h_n.squeeze(1)
            c_n = c_n.squeeze(1) if lstm else None
        elif self.batch_first:
            output = output.transpose(0, 1)  # (B, T, D*H)
        return (output, (h_n, c_n)) if lstm else (output, h_n)


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(W_ih x_t + b_ih + W_hh h_{t-1} + b_hh) (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, nonlinearity: str = "tanh",
                 bias: bool = True, batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNN: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__("RNN_" + nonlinearity.upper(), input_size, hidden_size, num_layers, bias, batch_first,
                         dropout, bidirectional)
        self.nonlinearity = nonlinearity


class LSTM(RNNBase):
    """Long short-term memory, gates i, f, g, o:
    c_t = f * c_{t-1} + i * g,  h_t = o * tanh(c_t),  or h_t = W_hr (o * tanh(c_t)) with proj_size."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False, proj_size: int = 0):
        super().__init__("LSTM", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size)


class GRU(RNNBase):
    """Gated recurrent unit, gates r, z, n: n = tanh(W_in x + b_in + r * (W_hn h + b_hn)),
    h_t = (1 - z) * n + z * h_{t-1}."""

    def __init__(self, input_size: int, hidden_size: int, num_layers: int = 1, bias: bool = True,
                 batch_first: bool = False, dropout: float = 0.0, bidirectional: bool = False):
        super().__init__("GRU", input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional)


class RNNCellBase(Module):
    """One time step: a recurrence of length one, so the cells share the layers' fused math."""

    def __init__(self, mode: str, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__()
        self.mode, self.input_size, self.hidden_size, self.bias = mode, input_size, hidden_size, bias
        self._name = type(self).__name__
        G, bound = GATES[mode], 1.0 / math.sqrt(hidden_size)
        self.weight_ih = _uniform((G * hidden_size, input_size), bound)
        self.weight_hh = _uniform((G * hidden_size, hidden_size), bound)
        self.bias_ih = _uniform((G * hidden_size,), bound) if bias else None
        self.bias_hh = _uniform((G * hidden_size,), bound) if bias else None

    def extra_repr(self) -> str:
        return f"{self.input_size}, {self.hidden_size}" + ("" if self.bias else ", bias=False")

    def forward(self, input: Tensor, hx=None):
        """input (B, input_size) or (input_size,); hx (B, hidden_size), or (h, c) for LSTMCell."""
        name, lstm = self._name, self.mode == "LSTM"
        if input.ndim not in (1, 2):
            raise RuntimeError(f"{name}: expected input of 1 or 2 dims (B, input_size), got shape {tuple(input.shape)}")
        if input.shape[-1] != self.input_size:
            raise RuntimeError(f"{name}: expected input_size {self.input_size} in the last dim of the input, "
                               f"got shape {tuple(input.shape)}")
        unbatched = input.ndim == 1
        x = input.reshape(1, 1, -1) if unbatched else input.unsqueeze(0)  # (1, B, I)
        shape = (self.hidden_size,) if unbatched else (input.shape[0], self.hidden_size)
        if hx is None:
            h0 = _zeros_like_state(x, (x.shape[1], self.hidden_size))
            c0 = _zeros_like_state(x, h0.shape) if lstm else None
        else:
            h0, c0 = hx if lstm else (hx, None)
            _check_state(name, "h", h0, shape)
            if lstm:
                _check_state(name, "c", c0, shape)
            if unbatched:
                h0 = h0.unsqueeze(0)
                c0 = c0.unsqueeze(0) if lstm else None
        _, h, c = recurrence(x, h0, c0, self.weight_ih, self.weight_hh, self.bias_ih, self.bias_hh, mode=self.mode)
        if unbatched:
            h = h.squeeze(0)
            c = c.squeeze(0) if lstm else None
        return (h, c) if lstm else h


class RNNCell(RNNCellBase):
    """h' = tanh(W_ih x + b_ih + W_hh h + b_hh) (or relu)."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True, nonlinearity: str = "tanh"):
        if nonlinearity not in ("tanh", "relu"):
            raise ValueError(f"RNNCell: nonlinearity must be 'tanh' or 'relu', got {nonlinearity!r}")
        super().__init__("RNN_" + nonlinearity.upper(), input_size, hidden_size, bias)
        self.nonlinearity = nonlinearity


class LSTMCell(RNNCellBase):
    """One LSTM step: returns (h', c')."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__("LSTM", input_size, hidden_size, bias)


class GRUCell(RNNCellBase):
    """One GRU step: returns h'."""

    def __init__(self, input_size: int, hidden_size: int, bias: bool = True):
        super().__init__("GRU", input_size, hidden_size, bias)
