"""Bad arguments to shape ops and tensor() get one clear message (issue 13), where torch also refuses."""
import pytest
import torch

import lamina

CASES = [  # (name, call on a library, lamina's error type, a phrase lamina's message must hold)
    ("split by 0", lambda L: L.arange(6).split(0), RuntimeError, "split_size must be a positive integer, got 0"),
    ("split by -2", lambda L: L.arange(6).split(-2), RuntimeError, "positive integer, got -2"),
    ("split sizes < 0", lambda L: L.arange(6).split([7, -1]), RuntimeError, "must all be non-negative"),
    ("chunk 0", lambda L: L.arange(6).chunk(0), RuntimeError, "chunks must be a positive integer, got 0"),
    ("chunk -1", lambda L: L.arange(6).chunk(-1), RuntimeError, "chunks must be a positive integer, got -1"),
    ("cat of 0-d", lambda L: L.cat([L.tensor(1.0), L.tensor(2.0)]), RuntimeError, "zero-dimensional"),
    ("narrow past the end", lambda L: L.arange(6).narrow(0, 4, 5), RuntimeError, "do not fit in dim 0 of size 6"),
    ("unbind of 0-d", lambda L: L.tensor(1.0).unbind(), IndexError, "zero-dimensional"),
    ("reshape by a float", lambda L: L.arange(6).reshape(2.5, 2), TypeError, "sizes must be integers, got 2.5"),
    ("ragged lists", lambda L: L.tensor([[1, 2], [3]]), ValueError, "expected a sequence of length 2 at dim 1 (got 1)"),
    ("deeper ragged lists", lambda L: L.tensor([[[1], [2]], [[3], [4, 5]]]), ValueError, "at dim 2 (got 2)"),
    ("lists and numbers", lambda L: L.tensor([[1.0, 2.0], 3.0]), ValueError, "some items are sequences"),
    ("strings", lambda L: L.tensor(["a", "b"]), (TypeError, ValueError), "from strings"),
]


@pytest.mark.parametrize("name,call,err,phrase", CASES, ids=[c[0] for c in CASES])
def test_clear_error(name, call, err, phrase):
    with pytest.raises(Exception):
        call(torch)  # torch refuses it as well
    with pytest.raises(err) as info:
        call(lamina)
    assert phrase in str(info.value)


def test_empty_dims_still_split_and_chunk():
    x = lamina.zeros(0, 3)
    assert [p.shape for p in x.split(0)] == [tuple(p.shape) for p in torch.zeros(0, 3).split(0)]
    assert [p.shape for p in x.chunk(2)] == [tuple(p.shape) for p in torch.zeros(0, 3).chunk(2)]
    assert lamina.stack([lamina.tensor(1.0), lamina.tensor(2.0)]).tolist() == [1.0, 2.0]
