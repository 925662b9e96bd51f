"""Views share memory and a version counter with their base, as in torch (issue 13, item 3-4).

Each case that lamina must refuse is run in torch too, so the test also shows torch refuses it.
"""
import numpy as np
import pytest
import torch

import lamina

# (name, how the saved x is changed after y = (w * x).sum()) -- every one is an error in torch
CHANGES = [
    ("view", lambda x: x.view(6).mul_(2)),
    ("slice", lambda x: x[0].mul_(2)),
    ("row setitem", lambda x: x[1].__setitem__(0, 5.0)),
    ("t()", lambda x: x.t().mul_(2)),
    ("T", lambda x: x.T.add_(1)),
    ("detach", lambda x: x.detach().mul_(2)),
    ("view of a view", lambda x: x.view(3, 2)[1:].view(-1).zero_()),
    ("unsqueeze", lambda x: x.unsqueeze(0).fill_(1)),
    ("narrow", lambda x: x.narrow(1, 1, 2).mul_(3)),
    ("chunk", lambda x: x.chunk(2, 0)[1].mul_(3)),
]


@pytest.mark.parametrize("name,change", CHANGES, ids=[c[0] for c in CHANGES])
def test_inplace_change_through_a_view_of_a_saved_tensor_is_an_error(name, change):
    for lib, err in ((torch, RuntimeError), (lamina, RuntimeError)):
        w = lib.ones(2, 3, requires_grad=True)
        x = lib.arange(6.0).reshape(2, 3)
        y = (w * x).sum()
        change(x)
        with pytest.raises(err, match="modified by an inplace operation|modified in place"):
            y.backward()


def test_before_the_fix_the_gradient_was_the_modified_value():
    # the example: a silent wrong w.grad before; now the backward refuses
    w = lamina.ones(2, 3, requires_grad=True)
    x = lamina.arange(6.0).reshape(2, 3)
    y = (w * x).sum()
    x.view(6).mul_(2)
    with pytest.raises(RuntimeError, match="through a view or detach"):
        y.backward()


def test_inplace_change_to_a_saved_output_through_detach_is_an_error():
    for lib in (torch, lamina):
        for f in (lambda t: t.exp(), lambda t: t.tanh(), lambda t: t.sigmoid(), lambda t: t.softmax(-1),
                  lambda t: t.sqrt()):
            x = lib.rand(2, 3, dtype=lib.float64, requires_grad=True)
            y = f(x)
            y.detach().mul_(2)
            with pytest.raises(RuntimeError, match="modified by an inplace operation|modified in place"):
                y.sum().backward()


def test_changing_an_output_that_backward_does_not_need_is_fine():
    x = lamina.ones(3, requires_grad=True)
    y = x * 2  # Mul saves its inputs, not its output
    y.detach().add_(1)
    y.sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_views_share_the_version_counter_and_copies_do_not():
    x = lamina.zeros(2, 3)
    for v in (x.view(6), x[0], x.t(), x.detach(), x.reshape(3, 2), x.unsqueeze(1), x.permute(1, 0), x[:, 1:]):
        before = x._version
        v.add_(1)
        assert x._version == before + 1
    c = x.clone()
    before = x._version
    c.add_(1)
    assert x._version == before
    y = x.t().reshape(6)  # not expressible as a view: a copy with a counter of its own, as in torch
    before = x._version
    y.add_(1)
    assert x._version == before


def test_writes_through_views_reach_the_base():
    def writes(lib):
        a = lib.zeros(2, 3)
        a.t()[0, 1] = 99
        a.view(6)[0] = 7
        a[1][2] = 5
        a.detach()[0, 2] = 3
        a.narrow(1, 1, 1).fill_(4)
        return a.tolist()

    assert writes(lamina) == writes(torch) == [[7.0, 4.0, 3.0], [99.0, 4.0, 5.0]]


def test_view_of_a_non_contiguous_tensor_raises_and_reshape_copies():
    for lib in (torch, lamina):
        a = lib.zeros(2, 3)
        with pytest.raises(RuntimeError, match="view"):
            a.t().view(6)
        with pytest.raises(RuntimeError, match="view"):
            a.t().view(6)[0] = 99  # the silent no-op: now an error, as in torch
        assert a.t().reshape(6).shape == (6,)
        assert a.t().view(3, 2).shape == (3, 2)  # same shape: a view is fine
        assert a[:, :1].view(2).shape == (2,)  # strides allow it without a copy
    a = lamina.zeros(2, 3)
    with pytest.raises(RuntimeError, match=r"use reshape\(\.\.\.\)"):
        a.t().view(-1)


def test_writing_to_an_expanded_view_is_a_clear_error():
    e = lamina.zeros(1, 3).expand(4, 3)
    with pytest.raises(RuntimeError, match="same memory location"):
        e.add_(1)
    with pytest.raises(RuntimeError, match="same memory location"):
        e[0, 0] = 1
    with pytest.raises(RuntimeError, match="more than one element"):
        torch.zeros(1, 3).expand(4, 3).add_(1)


def test_gradients_through_views_are_unchanged():
    x = lamina.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (x.t().reshape(6) * lamina.arange(6.0)).sum().backward()
    xt = torch.tensor(np.arange(6.0).reshape(2, 3), requires_grad=True)
    (xt.t().reshape(6) * torch.arange(6.0, dtype=torch.float64)).sum().backward()
    np.testing.assert_allclose(x.grad.numpy(), xt.grad.numpy())
