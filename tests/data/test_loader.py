"""Datasets, samplers, DataLoader, collate and pad_sequence (no data files needed)."""
import collections
import json

import numpy as np
import pytest

import lamina
from lamina.data import (
    BatchSampler, ConcatDataset, DataLoader, Dataset, IterableDataset, RandomSampler, SequentialSampler, Subset,
    SubsetRandomSampler, TensorDataset, WeightedRandomSampler, default_collate, pad_sequence, random_split,
)
from lamina.data import transforms as T


def gen(seed=0):
    return lamina.Generator().manual_seed(seed)


def ids(loader):
    return [b[1].tolist() for b in loader]


def toy(n=10):
    return TensorDataset(np.arange(n * 2, dtype=np.float32).reshape(n, 2), np.arange(n))


# ---- datasets ------------------------------------------------------------------------------

def test_tensor_dataset_subset_concat():
    ds = TensorDataset(lamina.arange(6).float().reshape(3, 2), lamina.tensor([7, 8, 9]))
    x, y = ds[1]
    assert x.tolist() == [2.0, 3.0] and y.item() == 8 and len(ds) == 3
    with pytest.raises(ValueError, match="size mismatch"):
        TensorDataset(np.zeros(3), np.zeros(4))
    sub = Subset(ds, [2, 0])
    assert len(sub) == 2 and sub[0][1].item() == 9
    cat = ConcatDataset([toy(3), toy(4)])
    assert len(cat) == 7 and cat[3][1] == 0 and cat[-1][1] == 3 and cat[2][1] == 2
    with pytest.raises(IndexError):
        cat[7]
    assert len(toy(2) + toy(3)) == 5


def test_random_split_deterministic_and_disjoint():
    a = random_split(range(10), [7, 3], generator=gen(1))
    b = random_split(range(10), [7, 3], generator=gen(1))
    assert a[0].indices == b[0].indices and a[1].indices == b[1].indices
    assert sorted(a[0].indices + a[1].indices) == list(range(10))
    assert random_split(range(10), [7, 3], generator=gen(2))[0].indices != a[0].indices
    fr = random_split(range(11), [0.5, 0.5], generator=gen(0))
    assert [len(s) for s in fr] == [6, 5]
    with pytest.raises(ValueError, match="does not equal"):
        random_split(range(10), [5, 3])
    lamina.manual_seed(3)
    c = random_split(range(10), [5, 5])
    lamina.manual_seed(3)
    assert random_split(range(10), [5, 5])[0].indices == c[0].indices


# ---- samplers ------------------------------------------------------------------------------

def test_sequential_and_batch_sampler():
    assert list(SequentialSampler(range(4))) == [0, 1, 2, 3]
    assert list(BatchSampler(SequentialSampler(range(5)), 2, drop_last=False)) == [[0, 1], [2, 3], [4]]
    assert list(BatchSampler(range(5), 2, drop_last=True)) == [[0, 1], [2, 3]]
    assert len(BatchSampler(range(5), 2, False)) == 3 and len(BatchSampler(range(5), 2, True)) == 2
    with pytest.raises(ValueError):
        BatchSampler(range(5), 0, False)


def test_random_samplers_seeded():
    assert sorted(RandomSampler(range(20), generator=gen(0))) == list(range(20))
    assert list(RandomSampler(range(20), generator=gen(0))) == list(RandomSampler(range(20), generator=gen(0)))
    s = RandomSampler(range(5), replacement=True, num_samples=50, generator=gen(0))
    assert len(list(s)) == 50 and len(s) == 50
    assert len(list(RandomSampler(range(3), num_samples=7, generator=gen(0)))) == 7
    sub = list(SubsetRandomSampler([10, 20, 30], generator=gen(0)))
    assert sorted(sub) == [10, 20, 30]


def test_weighted_sampler_statistics():
    w = [1.0, 2.0, 0.0, 7.0]
    draws = list(WeightedRandomSampler(w, 20000, generator=gen(0)))
    freq = np.bincount(draws, minlength=4) / len(draws)
    np.testing.assert_allclose(freq, np.array(w) / 10, atol=0.015)
    assert freq[2] == 0
    nr = list(WeightedRandomSampler(w, 3, replacement=False, generator=gen(0)))
    assert sorted(nr) == [0, 1, 3]
    with pytest.raises(ValueError, match="without replacement"):
        WeightedRandomSampler(w, 4, replacement=False)
    with pytest.raises(ValueError):
        WeightedRandomSampler([-1.0, 1.0], 2)


# ---- loader --------------------------------------------------------------------------------

def test_batching_and_drop_last():
    loader = DataLoader(toy(10), batch_size=4)
    batches = list(loader)
    assert len(loader) == 3 and [b[1].tolist() for b in batches] == [[0, 1, 2, 3], [4, 5, 6, 7], [8, 9]]
    assert batches[0][0].shape == (4, 2) and batches[0][0].dtype == lamina.float32
    assert batches[0][1].dtype == lamina.int64
    loader = DataLoader(toy(10), batch_size=4, drop_last=True)
    assert len(loader) == 2 and ids(loader) == [[0, 1, 2, 3], [4, 5, 6, 7]]


def test_shuffle_seeded_and_reproducible():
    a = ids(DataLoader(toy(20), batch_size=6, shuffle=True, generator=gen(5)))
    b = ids(DataLoader(toy(20), batch_size=6, shuffle=True, generator=gen(5)))
    assert a == b and sorted(sum(a, [])) == list(range(20)) and sum(a, []) != list(range(20))
    # Epochs differ from one another, and lamina.manual_seed fixes the sequence of epochs.
    lamina.manual_seed(0)
    loader = DataLoader(toy(20), batch_size=6, shuffle=True)
    e1, e2 = ids(loader), ids(loader)
    lamina.manual_seed(0)
    assert e1 != e2 and ids(loader) == e1 and ids(loader) == e2


class Augmented(Dataset):
    """Each item draws a random number, as a random transform would."""

    def __init__(self, n):
        self.n, self.flip = n, T.RandomHorizontalFlip(0.5)

    def __len__(self):
        return self.n

    def __getitem__(self, i):
        img = np.arange(6, dtype=np.float32).reshape(1, 6)
        return self.flip(img)[0], i


@pytest.mark.parametrize("workers", [1, 3])
def test_workers_equal_single_thread(workers):
    def run(nw):
        loader = DataLoader(Augmented(50), batch_size=4, shuffle=True, num_workers=nw, generator=gen(9))
        return [(x.numpy().copy(), y.tolist()) for x, y in loader] + [(x.numpy().copy(), y.tolist()) for x, y in loader]
    a, b = run(0), run(workers)
    assert len(a) == len(b) == 26
    for (xa, ya), (xb, yb) in zip(a, b):
        assert ya == yb and np.array_equal(xa, xb)
    flips = [x[0, 0] == 5 for x, _ in a]
    assert any(flips) and not all(flips)  # the augmentation really was random


def test_resume_mid_epoch_matches():
    loader = DataLoader(Augmented(30), batch_size=4, shuffle=True, generator=gen(1))
    ids(loader)  # move on to epoch 2, whose order depends on epoch 1's draws
    it = iter(loader)
    first = [next(it) for _ in range(3)]
    state = json.loads(json.dumps(loader.state_dict()))  # survives a JSON checkpoint
    assert state["batches_done"] == 3
    rest = [(x.numpy().copy(), y.tolist()) for x, y in it]
    fresh = DataLoader(Augmented(30), batch_size=4, shuffle=True, generator=gen(123))
    fresh.load_state_dict(state)
    resumed = [(x.numpy().copy(), y.tolist()) for x, y in fresh]
    assert [y for _, y in resumed] == [y for _, y in rest]
    assert all(np.array_equal(a, b) for (a, _), (b, _) in zip(resumed, rest))
    assert first  # and the next epochs agree too
    assert ids(fresh) == ids(loader)


def test_resume_skips_without_loading():
    class Counting(Dataset):
        calls = 0

        def __len__(self):
            return 20

        def __getitem__(self, i):
            Counting.calls += 1
            return i

    loader = DataLoader(Counting(), batch_size=5, shuffle=True, generator=gen(0))
    full = [b.tolist() for b in loader]
    loader.load_state_dict({"generator_state": gen(0).get_state(), "batches_done": 2})
    Counting.calls = 0
    assert [b.tolist() for b in loader] == full[2:] and Counting.calls == 10


def test_iterable_dataset_batches_and_workers():
    class Stream(IterableDataset):
        def __iter__(self):
            return iter(range(7))

        def __len__(self):
            return 7

    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3, num_workers=2)] == [[0, 1, 2], [3, 4, 5], [6]]
    assert [b.tolist() for b in DataLoader(Stream(), batch_size=3, drop_last=True)] == [[0, 1, 2], [3, 4, 5]]
    assert len(DataLoader(Stream(), batch_size=3)) == 3
    with pytest.raises(ValueError):
        DataLoader(Stream(), shuffle=True)


def test_sampler_options():
    loader = DataLoader(toy(6), batch_sampler=[[5, 0], [2]])
    assert ids(loader) == [[5, 0], [2]]
    loader = DataLoader(toy(6), batch_size=2, sampler=SubsetRandomSampler([1, 3, 5], generator=gen(0)))
    assert sorted(sum(ids(loader), [])) == [1, 3, 5] and len(loader) == 2
    with pytest.raises(ValueError):
        DataLoader(toy(6), shuffle=True, sampler=SequentialSampler(toy(6)))
    with pytest.raises(ValueError):
        DataLoader(toy(6), batch_size=2, batch_sampler=[[0]])
    x, y = next(iter(DataLoader(toy(6), batch_size=None)))  # no batching
    assert x.shape == (2,) and y == 0


# ---- collate -------------------------------------------------------------------------------

def test_default_collate_types():
    assert default_collate([1, 2, 3]).dtype == lamina.int64
    assert default_collate([1.5, 2.0]).dtype == lamina.float32
    assert default_collate([True, False]).dtype == lamina.bool
    assert default_collate([np.float64(1), np.float64(2)]).dtype == lamina.float64
    assert default_collate(["a", "b"]) == ["a", "b"]
    t = default_collate([lamina.ones(2, 3), lamina.zeros(2, 3)])
    assert isinstance(t, lamina.Tensor) and t.shape == (2, 2, 3)
    a = default_collate([np.zeros((3,), np.uint8), np.ones((3,), np.uint8)])
    assert a.shape == (2, 3) and a.dtype == lamina.uint8
    with pytest.raises(RuntimeError, match="different shapes"):
        default_collate([np.zeros(3), np.zeros(4)])
    with pytest.raises(TypeError):
        default_collate([object(), object()])


def test_default_collate_nested():
    Point = collections.namedtuple("Point", "x y")
    batch = [{"img": np.full((2, 2), i, np.float32), "meta": (i, [float(i), "s"]), "p": Point(i, 2 * i)}
             for i in range(3)]
    out = default_collate(batch)
    assert out["img"].shape == (3, 2, 2) and out["img"].numpy()[2, 0, 0] == 2
    ids_, (vals, strs) = out["meta"]
    assert ids_.tolist() == [0, 1, 2] and vals.tolist() == [0.0, 1.0, 2.0] and strs == ["s", "s", "s"]
    assert isinstance(out["p"], Point) and out["p"].y.tolist() == [0, 2, 4]
    with pytest.raises(RuntimeError, match="equal size"):
        default_collate([[1, 2], [3]])


def test_collate_keeps_graph():
    a = lamina.ones(2, requires_grad=True)
    out = default_collate([a, a * 2])
    out.sum().backward()
    assert a.grad.tolist() == [3.0, 3.0]


# ---- pad_sequence --------------------------------------------------------------------------

def test_pad_sequence_against_torch():
    torch = pytest.importorskip("torch")
    from torch.nn.utils.rnn import pad_sequence as tpad
    rng = np.random.default_rng(0)
    seqs = [rng.standard_normal((n, 3)).astype(np.float32) for n in (2, 5, 1)]
    for bf in (False, True):
        ours = pad_sequence([lamina.tensor(s) for s in seqs], batch_first=bf, padding_value=-1.0)
        ref = tpad([torch.tensor(s) for s in seqs], batch_first=bf, padding_value=-1.0)
        np.testing.assert_array_equal(ours.numpy(), ref.numpy())
    left = pad_sequence([lamina.tensor([1, 2]), lamina.tensor([3])], batch_first=True, padding_side="left")
    assert left.tolist() == [[1, 2], [0, 3]] and left.dtype == lamina.int64
    with pytest.raises(RuntimeError, match="trailing"):
        pad_sequence([lamina.zeros(2, 3), lamina.zeros(2, 4)])


def test_pad_sequence_grad():
    a, b = lamina.ones(2, requires_grad=True), lamina.ones(3, requires_grad=True)
    out = pad_sequence([a, b], batch_first=True)
    assert out.shape == (2, 3)
    (out * lamina.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]])).sum().backward()
    assert a.grad.tolist() == [1.0, 2.0] and b.grad.tolist() == [4.0, 5.0, 6.0]


def test_tensor_dataset_fast_path_equals_collate():
    x = lamina.randn(10, 3)
    y = np.arange(10)
    loader = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True, generator=gen(0))
    slow = DataLoader(TensorDataset(x, y), batch_size=4, shuffle=True, generator=gen(0),
                      collate_fn=lambda b: default_collate(b))
    for (a, b), (c, d) in zip(loader, slow):
        assert np.array_equal(a.numpy(), c.numpy()) and a.dtype == c.dtype
        assert np.array_equal(b.numpy(), d.numpy()) and b.dtype == d.dtype and isinstance(b, lamina.Tensor)
