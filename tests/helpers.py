"""The op checker: one call checks an op's forward and backward against PyTorch and its
backward against float64 central differences.

An op is written once as `fn(m, *inputs)`, where `m` is the library (lamina or torch), so
the same lambda runs on both: `lambda m, x: m.exp(x)` or `lambda m, x: x.sum(1)`.
"""
from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import torch

import lamina

# The real data sets (../shared/data, see its MANIFEST.md): $LAMINA_DATA, else beside the
# checkout, else the workplace copy. Tests that need a file skip when it is absent.
SHARED_DATA = Path(os.environ.get("LAMINA_DATA") or Path(__file__).resolve().parents[2] / "shared" / "data")
if not SHARED_DATA.is_dir():
    SHARED_DATA = Path("/work/shared/data")

torch.set_num_threads(1)


def _to_torch(a, requires_grad):
    t = torch.tensor(a)
    return t.requires_grad_(requires_grad and t.is_floating_point())


def _outputs(out):
    """An op may return a tensor or a tuple (values, indices); keep the parts to compare."""
    if isinstance(out, (tuple, list)):
        return list(out)
    return [out]


def _np(t):
    if isinstance(t, lamina.Tensor):
        return t.detach().numpy()
    return t.detach().numpy()


def make_inputs(shapes, rng, low=-2.0, high=2.0, dtype=np.float64):
    """Random inputs, kept away from 0 by default-free sign so kinks (|x|, relu) are unlikely hit."""
    return [rng.uniform(low, high, size=s).astype(dtype) for s in shapes]


def check_op(fn, shapes, *, low=-2.0, high=2.0, grad=True, fd=True, seed=0, inputs=None,
             atol64=1e-9, rtol32=2e-4, atol32=2e-5, fd_atol=1e-5, fd_max=24):
    """Check `fn(m, *inputs)` on random inputs of `shapes` (or explicit float64 `inputs`):

    - forward in float64 and float32 against torch;
    - backward in float64 and float32 against torch, with a random upstream gradient;
    - backward in float64 against central differences (at most `fd_max` entries per input).
    """
    rng = np.random.default_rng(seed)
    xs = inputs if inputs is not None else make_inputs(shapes, rng, low, high)
    for dtype, atol, rtol in ((np.float64, atol64, 1e-7), (np.float32, atol32, rtol32)):
        xd = [x.astype(dtype) for x in xs]
        lx = [lamina.tensor(x, requires_grad=grad) for x in xd]
        tx = [_to_torch(x, grad) for x in xd]
        lo, to = _outputs(fn(lamina, *lx)), _outputs(fn(torch, *tx))
        assert len(lo) == len(to), f"{len(lo)} outputs vs torch's {len(to)}"
        for a, b in zip(lo, to):
            assert tuple(a.shape) == tuple(b.shape), f"forward shape {a.shape} vs torch {tuple(b.shape)}"
            assert str(a.dtype) == str(b.dtype).replace("torch.", ""), f"dtype {a.dtype} vs torch {b.dtype}"
            np.testing.assert_allclose(_np(a), _np(b), rtol=rtol, atol=atol, err_msg=f"forward ({dtype.__name__})")
        if not grad:
            continue
        diff = [(a, b) for a, b in zip(lo, to) if b.requires_grad]
        if not diff:
            continue
        gs = [rng.standard_normal(b.shape).astype(dtype) for _, b in diff]
        torch.autograd.backward([b for _, b in diff], [torch.tensor(g) for g in gs])
        loss = None
        for (a, _), g in zip(diff, gs):
            term = (a * lamina.tensor(g)).sum()
            loss = term if loss is None else loss + term
        loss.backward()
        for i, (l_, t_) in enumerate(zip(lx, tx)):
            if t_.grad is None:
                assert l_.grad is None or not np.any(_np(l_.grad)), f"input {i}: lamina has a gradient, torch none"
                continue
            assert l_.grad is not None, f"input {i}: torch has a gradient, lamina none"
            assert l_.grad.shape == tuple(t_.grad.shape), f"input {i}: grad shape {l_.grad.shape} vs {tuple(t_.grad.shape)}"
            assert l_.grad.dtype == l_.dtype, f"input {i}: grad dtype {l_.grad.dtype} vs input {l_.dtype}"
            np.testing.assert_allclose(_np(l_.grad), _np(t_.grad), rtol=rtol, atol=atol,
                                       err_msg=f"backward of input {i} ({dtype.__name__})")
        if fd and dtype is np.float64:
            _finite_differences(fn, xs, gs, lx, rng, fd_atol, fd_max)


def _finite_differences(fn, xs, gs, lx, rng, atol, fd_max, eps=1e-6):
    def loss(args):
        with lamina.no_grad():
            outs = [o for o in _outputs(fn(lamina, *[lamina.tensor(a) for a in args])) if o.dtype.kind == "f"]
            return sum(float((o.numpy() * g).sum()) for o, g in zip(outs, gs))

    for i, x in enumerate(xs):
        if lx[i].grad is None or x.size == 0:
            continue
        flat = np.arange(x.size)
        if x.size > fd_max:
            flat = rng.choice(x.size, fd_max, replace=False)
        analytic = lx[i].grad.numpy().reshape(-1)
        for k in flat:
            args = [a.copy() for a in xs]
            args[i].reshape(-1)[k] += eps
            up = loss(args)
            args[i].reshape(-1)[k] -= 2 * eps
            down = loss(args)
            numeric = (up - down) / (2 * eps)
            assert abs(numeric - analytic[k]) <= atol + 1e-4 * abs(numeric), (
                f"finite differences, input {i} entry {k}: numeric {numeric} vs analytic {analytic[k]}")
