"""Batches of variable-length sequences: PackedSequence, pack_padded_sequence,
pad_packed_sequence and pad_sequence, with PyTorch's signatures.

PyTorch's PackedSequence stores the time steps back to back, largest batch first. Here it
keeps the time-major padded tensor and the lengths instead: the recurrent layers mask padded
steps inside their fused recurrence, so no repacking is ever needed. `.data` and
`.batch_sizes` still give PyTorch's packed view when asked for.
"""
from __future__ import annotations

import numpy as np

from ... import ops
from ...backend import to_device
from ...tensor import Tensor


def _lengths_array(lengths, op: str) -> np.ndarray:
    """Lengths given as a list, an array or a (CPU) tensor, as a 1-D int64 NumPy array."""
    if isinstance(lengths, Tensor):
        lengths = lengths.numpy()
    arr = np.asarray(lengths)
    if arr.ndim != 1 or (arr.size and arr.dtype.kind not in "iu"):
        raise ValueError(f"{op}: expected lengths as a 1-D sequence of ints, got {arr.dtype} of shape {arr.shape}")
    return arr.astype(np.int64)


class PackedSequence:
    """Sequences of different lengths, batched: `padded` is (T, B, *) time-major with
    T = max(lengths), `lengths` (B,) int64 in the batch's own (unsorted) order."""

    def __init__(self, padded: Tensor, lengths, sorted_indices=None, unsorted_indices=None):
        self.padded = padded
        self.lengths = _lengths_array(lengths, "PackedSequence")
        self.sorted_indices = sorted_indices
        self.unsorted_indices = unsorted_indices

    def _order(self) -> np.ndarray:
        """Batch indices from longest to shortest, as PyTorch packs them."""
        if self.sorted_indices is None:
            return np.arange(len(self.lengths))
        return np.asarray(self.sorted_indices.numpy() if isinstance(self.sorted_indices, Tensor) else self.sorted_indices)

    @property
    def batch_sizes(self) -> Tensor:
        """How many sequences are still running at each time step, as in PyTorch."""
        T = self.padded.shape[0]
        return Tensor(np.array([(self.lengths > t).sum() for t in range(T)], dtype=np.int64))

    @property
    def data(self) -> Tensor:
        """PyTorch's packed layout (sum(lengths), *): step 0 of every sequence, then step 1, ..."""
        order = self._order()
        t_idx, b_idx = [], []
        for t in range(self.padded.shape[0]):
            running = order[self.lengths[order] > t]
            t_idx.append(np.full(len(running), t))
            b_idx.append(running)
        t_idx = Tensor(np.concatenate(t_idx).astype(np.int64))
        b_idx = Tensor(np.concatenate(b_idx).astype(np.int64))
        return self.padded[t_idx, b_idx]

    def __iter__(self):  # unpacks like PyTorch's namedtuple
        return iter((self.data, self.batch_sizes, self.sorted_indices, self.unsorted_indices))

    def __repr__(self):
        return f"PackedSequence(padded shape={self.padded.shape}, lengths={self.lengths.tolist()})"


def pack_padded_sequence(input: Tensor, lengths, batch_first: bool = False, enforce_sorted: bool = True) -> PackedSequence:
    """Pack a padded batch (T, B, *) (or (B, T, *) with batch_first) of sequences of `lengths`.

    >>> packed = pack_padded_sequence(x, [5, 3, 2]); out, h_n = lstm(packed)
    """
    lengths = _lengths_array(lengths, "pack_padded_sequence")
    b_dim = 0 if batch_first else 1
    if input.ndim < 2 or input.shape[b_dim] != len(lengths):
        raise RuntimeError(f"pack_padded_sequence: expected {len(lengths)} sequences in dim {b_dim} of the input "
                           f"(one per length), got shape {input.shape}")
    if len(lengths) and lengths.min() <= 0:
        raise RuntimeError(f"pack_padded_sequence: every length must be greater than 0, got {lengths.tolist()}")
    T = int(lengths.max()) if len(lengths) else 0
    if T > input.shape[1 - b_dim]:
        raise RuntimeError(f"pack_padded_sequence: a length of {T} is longer than the input's "
                           f"{input.shape[1 - b_dim]} time steps (shape {input.shape})")
    sorted_indices = unsorted_indices = None
    if enforce_sorted:
        if np.any(np.diff(lengths) > 0):
            raise RuntimeError(f"pack_padded_sequence: `lengths` must be sorted in decreasing order when "
                               f"enforce_sorted=True, got {lengths.tolist()}; pass enforce_sorted=False")
    else:
        order = np.argsort(-lengths, kind="stable")
        sorted_indices = Tensor(order.astype(np.int64))
        unsorted_indices = Tensor(np.argsort(order).astype(np.int64))
    x = input.transpose(0, 1) if batch_first else input
    return PackedSequence(x[:T], lengths, sorted_indices, unsorted_indices)  # (T, B, *)


def pad_packed_sequence(sequence: PackedSequence, batch_first: bool = False, padding_value: float = 0.0,
                        total_length: int | None = None) -> tuple[Tensor, Tensor]:
    """Undo pack_padded_sequence: returns (padded (T, B, *) or (B, T, *), lengths int64 (B,))."""
    x, lengths = sequence.padded, sequence.lengths
    T = x.shape[0]
    if total_length is not None:
        if total_length < T:
            raise ValueError(f"pad_packed_sequence: total_length={total_length} is less than the longest "
                             f"sequence's length {T}")
        x = ops.pad(x, (0, 0) * (x.ndim - 1) + (0, total_length - T))
        T = total_length
    # steps past each sequence's end read as padding_value, whatever the packed tensor held there
    keep = np.arange(T)[:, None] < lengths[None, :]  # (T, B)
    keep = keep.reshape(keep.shape + (1,) * (x.ndim - 2))
    x = ops.where(Tensor._make(to_device(keep, x.device), None), x, padding_value)
    if batch_first:
        x = x.transpose(0, 1)  # (B, T, *)
    return x, Tensor(lengths.copy())


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0) -> Tensor:
    """Stack tensors of shapes (L_i, *) into (max L, B, *) (or (B, max L, *)), padding the ends."""
    T = max(s.shape[0] for s in sequences)
    trail = (0, 0) * (sequences[0].ndim - 1)
    padded = [ops.pad(s, trail + (0, T - s.shape[0]), value=padding_value) for s in sequences]
    return ops.stack(padded, 0 if batch_first else 1)
