"""DataLoader: batches from a dataset, in a seeded order, optionally prefetched by threads.

Reproducibility and resuming
----------------------------
`iter(loader)` fixes the whole epoch at once: the sampler draws its order and the loader
draws one seed for the epoch's random transforms, both from `generator` (or lamina's global
generator). Each batch's transforms then draw from a stream seeded by (that seed, batch
index), so `num_workers > 0` yields exactly the batches of `num_workers = 0`, and a batch does
not depend on the batches before it. A dataset that draws random numbers itself should draw
from `lamina.data.rng()` (the batch's stream) rather than lamina.rand, to keep that property.

To resume mid-epoch, save `loader.state_dict()` (the generator state from just before the
epoch's `iter()`, and how many batches were taken) with the checkpoint; after a restart call
`loader.load_state_dict(state)`, and the next `iter(loader)` redraws the same order and
continues at the next batch without loading the skipped ones. Give each loader its own
`generator=lamina.Generator().manual_seed(s)` so the data order does not share a stream with
dropout and initialisation. If a loader uses the global generator, `iter(loader)` rewinds that
generator too: restore lamina's global RNG state (`lamina.set_rng_state`) after it.
"""
from __future__ import annotations

import collections
import collections.abc as cabc
from concurrent.futures import ThreadPoolExecutor
from typing import Callable, Sequence

import numpy as np

from .. import backend
from ..backend import array_module
from ..creation import Generator, default_generator
from ..tensor import Tensor
from ._random import batch_stream
from .dataset import Dataset, IterableDataset, TensorDataset
from .sampler import BatchSampler, RandomSampler, Sampler, SequentialSampler


# ---- collation ----------------------------------------------------------------------------

def _stack_arrays(arrays, what: str):
    shapes = {a.shape for a in arrays}
    if len(shapes) > 1:
        raise RuntimeError(f"default_collate: can't stack {what} of different shapes {sorted(shapes)}; "
                           f"pad them (lamina.data.pad_sequence) or pass a collate_fn")
    return array_module(arrays[0]).stack(arrays)


def default_collate(batch: Sequence):
    """Stack a list of samples into a batch, keeping the samples' structure.

    Tensors and arrays are stacked along a new first dim; Python ints become int64, floats
    the default float dtype (float32; torch uses float64 here, which would upcast a float32
    model); dicts, tuples and lists are collated field by field; strings stay a list.

    >>> default_collate([(np.zeros(3), 1), (np.ones(3), 0)])   # [Tensor (2, 3), Tensor([1, 0])]
    """
    elem = batch[0]
    if isinstance(elem, Tensor):
        if any(t.requires_grad for t in batch):
            from ..ops import stack  # keep the graph when samples carry one
            return stack(list(batch))
        return Tensor._make(_stack_arrays([t._data for t in batch], "tensors"), None)
    if isinstance(elem, np.ndarray):
        if elem.dtype.kind in "OSUV":
            raise TypeError(f"default_collate: can't collate numpy arrays of dtype {elem.dtype}")
        return Tensor._make(_stack_arrays(batch, "arrays"), None)
    if isinstance(elem, (np.generic, bool)):
        return Tensor._make(np.array(batch), None)
    if isinstance(elem, int):
        return Tensor._make(np.array(batch, dtype=np.int64), None)
    if isinstance(elem, float):
        return Tensor._make(np.array(batch, dtype=backend.get_default_dtype()), None)
    if isinstance(elem, (str, bytes)) or elem is None:
        return list(batch)
    if isinstance(elem, cabc.Mapping):
        return {k: default_collate([d[k] for d in batch]) for k in elem}
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):  # namedtuple
        return type(elem)(*(default_collate(list(s)) for s in zip(*batch)))
    if isinstance(elem, cabc.Sequence):
        if any(len(s) != len(elem) for s in batch):
            raise RuntimeError("default_collate: each element in list of batch should be of equal size")
        return [default_collate(list(s)) for s in zip(*batch)]
    hint = "; convert images with transforms.ToTensor()" if type(elem).__module__.startswith("PIL") else ""
    raise TypeError(f"default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                    f"found {type(elem).__name__}{hint}")


def default_convert(sample):
    """Without batching (batch_size=None): arrays become tensors, structure is kept."""
    if isinstance(sample, np.ndarray) and sample.dtype.kind not in "OSUV":
        return Tensor._make(sample, None)
    if isinstance(sample, cabc.Mapping):
        return {k: default_convert(v) for k, v in sample.items()}
    if isinstance(sample, tuple) and hasattr(sample, "_fields"):
        return type(sample)(*(default_convert(v) for v in sample))
    if isinstance(sample, (list, tuple)):
        return [default_convert(v) for v in sample]
    return sample


def pad_sequence(sequences, batch_first: bool = False, padding_value: float = 0.0,
                 padding_side: str = "right") -> Tensor:
    """Pad tensors of shape (L_i, *) to the longest L into (L, B, *), or (B, L, *) with batch_first.

    >>> pad_sequence([lamina.ones(2), lamina.ones(3)], batch_first=True)   # shape (2, 3)
    """
    if padding_side not in ("right", "left"):
        raise ValueError(f"pad_sequence: padding_side must be 'left' or 'right', got {padding_side!r}")
    seqs = [s if isinstance(s, Tensor) else Tensor._make(np.asarray(s), None) for s in sequences]
    if not seqs:
        raise RuntimeError("pad_sequence: received an empty list of sequences")
    trailing = seqs[0].shape[1:]
    for i, s in enumerate(seqs):
        if s.ndim == 0 or s.shape[1:] != trailing:
            raise RuntimeError(f"pad_sequence: sequence {i} has shape {s.shape} but sequence 0 has shape "
                               f"{seqs[0].shape}; all must be (L_i, *) with the same trailing dims")
    longest = max(s.shape[0] for s in seqs)
    if any(s.requires_grad for s in seqs):
        from ..ops import pad, stack  # differentiable path
        def widths(s):
            extra = longest - s.shape[0]
            return (0, 0) * (s.ndim - 1) + ((0, extra) if padding_side == "right" else (extra, 0))
        out = stack([pad(s, widths(s), value=padding_value) for s in seqs], 0)  # (B, L, *)
    else:
        xp = array_module(seqs[0]._data)
        dtype = np.result_type(*[s.dtype for s in seqs])
        arr = xp.full((len(seqs), longest) + trailing, padding_value, dtype=dtype)  # (B, L, *)
        for i, s in enumerate(seqs):
            n = s.shape[0]
            if padding_side == "right":
                arr[i, :n] = s._data
            else:
                arr[i, longest - n:] = s._data
        out = Tensor._make(arr, None)
    return out if batch_first else out.transpose(0, 1)


# ---- the loader ---------------------------------------------------------------------------

class DataLoader:
    """Batches of `dataset`, in order or shuffled by a seeded generator.

    >>> loader = DataLoader(ds, batch_size=64, shuffle=True, generator=lamina.Generator().manual_seed(0))
    >>> for x, y in loader: ...

    `num_workers > 0` loads the next `num_workers * prefetch_factor` batches in background
    threads (NumPy and Pillow release the GIL while they work); batches come back in order and
    equal those of `num_workers = 0`. See the module docstring for resuming an epoch.
    """

    def __init__(self, dataset: Dataset, batch_size: int | None = 1, shuffle: bool = False,
                 sampler: Sampler | None = None, batch_sampler: Sampler | None = None, num_workers: int = 0,
                 collate_fn: Callable | None = None, pin_memory: bool = False, drop_last: bool = False, *,
                 generator: Generator | None = None, prefetch_factor: int = 2):
        if num_workers < 0:
            raise ValueError(f"DataLoader: num_workers must be >= 0, got {num_workers}")
        if prefetch_factor < 1:
            raise ValueError(f"DataLoader: prefetch_factor must be >= 1, got {prefetch_factor}")
        self.dataset, self.num_workers, self.prefetch_factor = dataset, num_workers, prefetch_factor
        self.generator, self.drop_last, self.pin_memory = generator, drop_last, pin_memory
        self.batch_size = batch_size
        self._iterable = isinstance(dataset, IterableDataset)
        if self._iterable:
            if shuffle or sampler is not None or batch_sampler is not None:
                raise ValueError("DataLoader: an IterableDataset sets its own order; "
                                 "shuffle, sampler and batch_sampler must not be given")
        elif batch_sampler is not None:
            if batch_size != 1 or shuffle or sampler is not None or drop_last:
                raise ValueError("DataLoader: batch_sampler is mutually exclusive with batch_size, shuffle, sampler and drop_last")
            self.batch_size = None
        elif sampler is not None and shuffle:
            raise ValueError("DataLoader: sampler is mutually exclusive with shuffle")
        if not self._iterable:
            if sampler is None:
                sampler = RandomSampler(dataset, generator=generator) if shuffle else SequentialSampler(dataset)
            if batch_sampler is None and batch_size is not None:
                batch_sampler = BatchSampler(sampler, batch_size, drop_last)
        self.sampler, self.batch_sampler = sampler, batch_sampler
        batching = self.batch_sampler is not None or (self._iterable and batch_size is not None)
        self.collate_fn = collate_fn or (default_collate if batching else default_convert)
        self._resume = None
        self._last_iter = None

    def __len__(self) -> int:
        if self._iterable:
            n = len(self.dataset)  # TypeError when the stream has no length, as in torch
            if self.batch_size is None:
                return n
            return n // self.batch_size if self.drop_last else -(-n // self.batch_size)
        return len(self.batch_sampler if self.batch_sampler is not None else self.sampler)

    def __iter__(self) -> "_LoaderIter":
        state, self._resume = self._resume, None
        self._last_iter = _LoaderIter(self, state)
        return self._last_iter

    def state_dict(self) -> dict:
        """Where the current epoch stands: {'generator_state', 'batches_done'} (JSON-serialisable)."""
        if self._resume is not None:  # loaded but not iterated yet: the next epoch is that state's
            return dict(self._resume)
        it = self._last_iter
        if it is None or it.exhausted:  # the next epoch starts from the generator as it is now
            return {"generator_state": self._gen().get_state(), "batches_done": 0}
        return {"generator_state": it.generator_state, "batches_done": it.batches_done}

    def load_state_dict(self, state: dict) -> None:
        """Make the next `iter(self)` continue the epoch that `state` describes."""
        self._resume = state

    def _gen(self) -> Generator:
        return self.generator if self.generator is not None else default_generator


class _LoaderIter:
    def __init__(self, loader: DataLoader, resume: dict | None):
        self.loader = loader
        gen = loader._gen()
        if resume is not None:
            gen.set_state(resume["generator_state"])
        self.generator_state = gen.get_state()
        if loader._iterable:
            self._source = iter(loader.dataset)
        else:
            self._source = iter(loader.batch_sampler if loader.batch_sampler is not None else loader.sampler)
        self.seed = int(gen.rng.integers(2**63))  # one seed per epoch for random transforms
        self.batches_done = 0
        self.exhausted = False
        skip = int(resume["batches_done"]) if resume else 0
        for _ in range(skip):  # map-style: skip indices without loading; a stream must be read
            if self._next_indices() is None:
                break
            self.batches_done += 1
        self._pool = None
        if loader.num_workers > 0:
            self._pool = ThreadPoolExecutor(loader.num_workers, thread_name_prefix="lamina-data")
            self._pending = collections.deque()
            self._next_submit = self.batches_done
            self._fill()

    def _next_indices(self):
        """The next batch's indices (map-style), or its samples (iterable); None at the end."""
        loader = self.loader
        try:
            if not loader._iterable:
                return next(self._source)
            if loader.batch_size is None:
                return [next(self._source)]
            batch = []
            for _ in range(loader.batch_size):
                batch.append(next(self._source))
        except StopIteration:
            if loader._iterable and loader.batch_size is not None and batch and not loader.drop_last:
                return batch
            return None
        return batch

    def _load(self, k: int, item):
        loader = self.loader
        with batch_stream(self.seed, k):
            if loader._iterable:
                samples = item
                return loader.collate_fn(samples if loader.batch_size is not None else samples[0])
            if loader.batch_size is None and loader.batch_sampler is None:
                return loader.collate_fn(loader.dataset[item])
            if loader.collate_fn is default_collate and isinstance(loader.dataset, TensorDataset):
                batch = loader.dataset._gather(item)  # one gather per tensor instead of B rows
                if batch is not None:
                    return batch
            getitems = getattr(loader.dataset, "__getitems__", None)
            samples = getitems(item) if getitems else [loader.dataset[i] for i in item]
            return loader.collate_fn(samples)

    def _fill(self):
        depth = self.loader.num_workers * self.loader.prefetch_factor
        while len(self._pending) < depth:
            item = self._next_indices()
            if item is None:
                break
            # An IterableDataset is read here, on this thread, in order; only collation runs in the pool.
            self._pending.append(self._pool.submit(self._load, self._next_submit, item))
            self._next_submit += 1

    def __iter__(self):
        return self

    def __next__(self):
        if self.exhausted:
            raise StopIteration
        if self._pool is None:
            item = self._next_indices()
            if item is None:
                return self._finish()
            out = self._load(self.batches_done, item)
        else:
            if not self._pending:
                return self._finish()
            out = self._pending.popleft().result()
            self._fill()
        self.batches_done += 1
        return out

    def __len__(self) -> int:
        return len(self.loader)

    def _finish(self):
        self.exhausted = True
        self._shutdown()
        raise StopIteration

    def _shutdown(self):
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None

    def __del__(self):
        try:
            self._shutdown()
        except Exception:
            pass
