"""Optimisers, schedulers and gradient clipping against torch.optim, in float64."""
import math
import warnings

import numpy as np
import pytest
import torch

import lamina
import lamina.optim as optim
from lamina.optim import lr_scheduler
from lamina.nn.utils import clip_grad_norm_, clip_grad_value_, parameters_to_vector, vector_to_parameters

STEPS = 50
rng = np.random.default_rng(0)
X, Y = rng.standard_normal((8, 4)), rng.standard_normal((8, 3))
W0, B0 = rng.standard_normal((4, 3)), rng.standard_normal(3)


def make(m, device="cpu"):
    """The same least-squares problem (with a tanh to make it non-quadratic) in lamina or torch."""
    w, b = m.tensor(W0, device=device, requires_grad=True), m.tensor(B0, device=device, requires_grad=True)
    x, y = m.tensor(X, device=device), m.tensor(Y, device=device)

    def loss():
        r = (x @ w + b).tanh() * 2.0 - y
        return (r * r).mean() + (w * w * w).sum() * 0.01
    return [w, b], loss


def run(opt, params, loss, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss().backward()
        opt.step()
    return [p.detach().cpu().numpy().copy() for p in params]


CONFIGS = [
    ("SGD", dict(lr=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9)),
    ("SGD", dict(lr=0.05, momentum=0.9, dampening=0.3)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
    ("SGD", dict(lr=0.05, momentum=0.8, dampening=0.1, weight_decay=0.1)),
    ("SGD", dict(lr=0.05, momentum=0.9, nesterov=True, weight_decay=0.05)),
    ("SGD", dict(lr=0.1, weight_decay=0.2)),
    ("Adam", dict(lr=0.05)),
    ("Adam", dict(lr=0.05, amsgrad=True)),
    ("Adam", dict(lr=0.05, weight_decay=0.1)),
    ("Adam", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6, weight_decay=0.1, amsgrad=True)),
    ("Adam", dict()),
    ("AdamW", dict(lr=0.05)),
    ("AdamW", dict(lr=0.05, weight_decay=0.3)),
    ("AdamW", dict(lr=0.05, weight_decay=0.1, amsgrad=True)),
    ("RMSprop", dict(lr=0.01)),
    ("RMSprop", dict(lr=0.01, momentum=0.9)),
    ("RMSprop", dict(lr=0.01, centered=True)),
    ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True, weight_decay=0.1, alpha=0.9)),
    ("Adagrad", dict(lr=0.1)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.05)),
    ("Adagrad", dict(lr=0.1, initial_accumulator_value=0.5)),
    ("Adagrad", dict(lr=0.1, lr_decay=0.01, weight_decay=0.1, initial_accumulator_value=0.1, eps=1e-6)),
    # maximize: ascend (the rules see -grad, before weight decay, as in torch)
    ("SGD", dict(lr=0.02, momentum=0.9, weight_decay=0.1, maximize=True)),
    ("Adam", dict(lr=0.02, weight_decay=0.1, amsgrad=True, maximize=True)),
    ("AdamW", dict(lr=0.02, maximize=True)),
    ("RMSprop", dict(lr=0.005, momentum=0.5, centered=True, maximize=True)),
    ("Adagrad", dict(lr=0.05, weight_decay=0.1, maximize=True)),
]


@pytest.mark.parametrize("name,kw", CONFIGS, ids=[f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, kw in CONFIGS])
def test_trajectory_matches_torch(name, kw):
    lp, ll = make(lamina)
    tp, tl = make(torch)
    got = run(getattr(optim, name)(lp, **kw), lp, ll, STEPS)
    want = run(getattr(torch.optim, name)(tp, **kw), tp, tl, STEPS)
    for g, w in zip(got, want):
        assert np.abs(g - w).max() <= 1e-6
        assert np.abs(g - W0 if g.shape == W0.shape else g - B0).max() > 1e-3  # it did move


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_defaults_match_torch(name):
    lp, _ = make(lamina)
    tp, _ = make(torch)
    got, want = getattr(optim, name)(lp).defaults, getattr(torch.optim, name)(tp).defaults
    for k, v in got.items():
        assert want[k] == v, (k, v, want[k])


def test_param_groups_with_different_lrs():
    lp, ll = make(lamina)
    tp, tl = make(torch)
    groups = lambda p: [{"params": [p[0]], "lr": 0.1}, {"params": [p[1]], "momentum": 0.5}]  # noqa: E731
    lo, to = optim.SGD(groups(lp), lr=0.01, momentum=0.9), torch.optim.SGD(groups(tp), lr=0.01, momentum=0.9)
    assert lo.param_groups[0]["momentum"] == 0.9 and lo.param_groups[1]["lr"] == 0.01
    for g, w in zip(run(lo, lp, ll, STEPS), run(to, tp, tl, STEPS)):
        assert np.abs(g - w).max() <= 1e-6


def test_add_param_group_and_errors():
    lp, ll = make(lamina)
    opt = optim.Adam([lp[0]], lr=0.1)
    opt.add_param_group({"params": lp[1], "lr": 0.01})
    assert [g["lr"] for g in opt.param_groups] == [0.1, 0.01]
    with pytest.raises(ValueError, match="more than one parameter group"):
        opt.add_param_group({"params": [lp[0]]})
    with pytest.raises(ValueError, match="empty parameter list"):
        optim.SGD([], lr=0.1)
    with pytest.raises(ValueError, match="nesterov"):
        optim.SGD(lp, lr=0.1, nesterov=True)


def test_zero_grad():
    lp, ll = make(lamina)
    opt = optim.SGD(lp, lr=0.1)
    ll().backward()
    g = lp[0].grad
    opt.zero_grad(set_to_none=False)
    assert lp[0].grad is not g and np.all(lp[0].grad.numpy() == 0) and np.any(g.numpy() != 0)
    opt.zero_grad()
    assert lp[0].grad is None and lp[1].grad is None


def test_params_without_grad_are_skipped():
    lp, ll = make(lamina)
    extra = lamina.zeros(3, dtype=lamina.float64, requires_grad=True)
    opt = optim.Adam(lp + [extra], lr=0.1)
    ll().backward()
    opt.step()
    assert extra not in opt.state and bool((extra == 0).all())


def test_closure():
    lp, ll = make(lamina)
    tp, tl = make(torch)
    lo, to = optim.SGD(lp, lr=0.1, momentum=0.9), torch.optim.SGD(tp, lr=0.1, momentum=0.9)

    def closure(opt, loss):
        def f():
            opt.zero_grad()
            out = loss()
            out.backward()
            return out
        return f
    for _ in range(5):
        a, b = lo.step(closure(lo, ll)), to.step(closure(to, tl))
        assert abs(a.item() - b.item()) < 1e-9


@pytest.mark.parametrize("name,kw", [("SGD", dict(lr=0.05, momentum=0.9, nesterov=True)),
                                     ("Adam", dict(lr=0.05, amsgrad=True, weight_decay=0.1)),
                                     ("AdamW", dict(lr=0.05)), ("RMSprop", dict(lr=0.01, momentum=0.5, centered=True)),
                                     ("Adagrad", dict(lr=0.1, lr_decay=0.01))])
def test_state_dict_round_trip_continues_identically(name, kw, tmp_path):
    lp, ll = make(lamina)
    opt = getattr(optim, name)(lp, **kw)
    run(opt, lp, ll, 20)
    path = tmp_path / "ckpt.safetensors"
    lamina.save({"params": [p.detach() for p in lp], "optim": opt.state_dict()}, path)
    ref = run(opt, lp, ll, 30)

    lp2, ll2 = make(lamina)
    ck = lamina.load(path)
    for p, saved in zip(lp2, ck["params"]):
        p.data[...] = saved.data
    opt2 = getattr(optim, name)(lp2, **kw)
    opt2.load_state_dict(ck["optim"])
    for g, w in zip(run(opt2, lp2, ll2, 30), ref):
        assert np.array_equal(g, w)  # bit for bit


def test_state_dict_layout_and_loading_torch_state():
    """torch's layout, so a torch optimizer's state (as arrays) continues in lamina."""
    lp, ll = make(lamina)
    tp, tl = make(torch)
    to = torch.optim.Adam([{"params": [tp[0]]}, {"params": [tp[1]], "lr": 0.01}], lr=0.05, amsgrad=True)
    run(to, tp, tl, 10)
    sd = to.state_dict()
    lo = optim.Adam([{"params": [lp[0]]}, {"params": [lp[1]], "lr": 0.01}], lr=0.05, amsgrad=True)
    lsd = lo.state_dict()
    assert [g["params"] for g in lsd["param_groups"]] == [[0], [1]]
    for p, t in zip(lp, tp):
        p.data[...] = t.detach().numpy()
    lo.load_state_dict({"state": {i: {k: v.numpy() for k, v in s.items()} for i, s in sd["state"].items()},
                        "param_groups": sd["param_groups"]})
    assert lo.state[lp[0]]["step"] == 10 and set(lo.state_dict()["state"][1]) == set(sd["state"][1])
    for g, w in zip(run(lo, lp, ll, 20), run(to, tp, tl, 20)):
        assert np.abs(g - w).max() <= 1e-9
    with pytest.raises(ValueError, match="parameter groups"):
        optim.Adam(lp).load_state_dict(sd)


@pytest.mark.parametrize("name,kw", CONFIGS[1:2] + CONFIGS[4:6] + CONFIGS[10:11] + CONFIGS[14:15] + CONFIGS[18:19]
                         + CONFIGS[22:23])
def test_updates_in_place(name, kw):
    """The parameter arrays and state arrays are the same objects step after step, and a step
    allocates no array as big as a parameter (temporaries come from a shared pool)."""
    lp, ll = make(lamina)
    opt = getattr(optim, name)(lp, **kw)
    run(opt, lp, ll, 2)
    data_ids = [id(p._data) for p in lp]
    state_ids = {id(v) for s in opt.state.values() for v in s.values() if isinstance(v, np.ndarray)}
    pool_ids = {id(v) for v in opt._pool.values()}
    versions = [p._version for p in lp]
    grads = [p.grad.numpy().copy() for p in lp]
    opt.step()
    assert all(np.array_equal(p.grad.numpy(), g) for p, g in zip(lp, grads))  # gradients were only read
    run(opt, lp, ll, 3)
    assert [id(p._data) for p in lp] == data_ids
    assert {id(v) for s in opt.state.values() for v in s.values() if isinstance(v, np.ndarray)} == state_ids
    assert {id(v) for v in opt._pool.values()} == pool_ids
    assert all(p._version > v for p, v in zip(lp, versions))


@pytest.mark.parametrize("name", ["SGD", "Adam", "AdamW", "RMSprop", "Adagrad"])
def test_float32_stays_float32(name):
    w = lamina.randn(5, 3, requires_grad=True)
    opt = getattr(optim, name)([w], lr=0.1, **({"momentum": 0.9} if name in ("SGD", "RMSprop") else {}))
    for _ in range(2):
        opt.zero_grad()
        (w * w).sum().backward()
        opt.step()
    assert w.dtype == lamina.float32
    assert all(v.dtype == np.float32 for s in opt.state.values() for v in s.values() if isinstance(v, np.ndarray))


def test_shared_gradient_array_is_not_modified():
    """Two parameters whose .grad tensors share one array: each update must leave it alone."""
    a = lamina.tensor(np.ones(3), requires_grad=True)
    b = lamina.tensor(np.ones(3), requires_grad=True)
    g = np.full(3, 0.5)
    a.grad, b.grad = lamina.Tensor(g), lamina.Tensor(g)
    opt = optim.SGD([a, b], lr=0.1, momentum=0.9, weight_decay=0.1)
    opt.step()
    opt.step()
    assert np.all(g == 0.5) and np.allclose(a.detach().numpy(), b.detach().numpy())


@pytest.mark.skipif(not lamina.cuda_available(), reason="CuPy with a CUDA device is not available")
@pytest.mark.parametrize("name,kw", CONFIGS[1:2] + CONFIGS[4:6] + CONFIGS[10:11] + CONFIGS[14:15] + CONFIGS[18:19]
                         + CONFIGS[22:23])
def test_cuda_matches_cpu(name, kw, tmp_path):
    """The same updates on CuPy arrays, state on the GPU, and a GPU state_dict that round-trips."""
    results = []
    for device in ("cpu", "cuda"):
        params, loss = make(lamina, device)
        opt = getattr(optim, name)(params, **kw)
        results.append(run(opt, params, loss, 10))
        if device == "cuda":
            assert all(lamina.backend.device_of(v).type == "cuda" for s in opt.state.values() for v in s.values()
                       if hasattr(v, "__cuda_array_interface__") or isinstance(v, np.ndarray))
            lamina.save(opt.state_dict(), tmp_path / "gpu.safetensors")
            opt2 = getattr(optim, name)(params, **kw)
            opt2.load_state_dict(lamina.load(tmp_path / "gpu.safetensors", map_location="cuda"))
            assert set(opt2.state[params[0]]) == set(opt.state[params[0]])
            norm = clip_grad_norm_(params, 0.1)
            assert str(norm.device).startswith("cuda") and str(params[0].grad.device).startswith("cuda")
    for g, w in zip(*results):
        np.testing.assert_allclose(g, w, rtol=1e-9, atol=1e-12)


# ---- schedulers ------------------------------------------------------------------------------
def sched_pair(make_sched, opt_name="SGD", opt_kw=None, groups=2):
    """The same scheduler on a lamina and a torch optimizer with two parameter groups."""
    opt_kw = opt_kw or dict(lr=0.1, momentum=0.9)
    out = []
    for m, mod in ((lamina, optim), (torch, torch.optim)):
        ps = [m.zeros(2, requires_grad=True) for _ in range(groups)]
        param_groups = [{"params": [p], "lr": opt_kw["lr"] * (i + 1)} for i, p in enumerate(ps)]
        opt = getattr(mod, opt_name)(param_groups, **opt_kw)
        out.append((opt, make_sched(opt, mod.lr_scheduler)))
    return out


def assert_schedules_match(pair, steps=STEPS, metrics=None, keys=("lr",)):
    (lo, ls), (to, ts) = pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns when step() comes before optimizer.step()
        for i in range(steps):
            for key in keys:
                for lg, tg in zip(lo.param_groups, to.param_groups):
                    assert np.allclose(lg[key], tg[key], rtol=0, atol=1e-12), (i, key, lg[key], tg[key])
            assert np.allclose(ls.get_last_lr(), ts.get_last_lr(), rtol=0, atol=1e-12)
            lo.step()
            to.step()
            if metrics is None:
                ls.step()
                ts.step()
            else:
                ls.step(metrics[i])
                ts.step(metrics[i])


SCHEDULERS = {
    "StepLR": lambda o, s: s.StepLR(o, step_size=7, gamma=0.5),
    "MultiStepLR": lambda o, s: s.MultiStepLR(o, milestones=[5, 12, 12, 30], gamma=0.3),
    "ExponentialLR": lambda o, s: s.ExponentialLR(o, gamma=0.93),
    "CosineAnnealingLR": lambda o, s: s.CosineAnnealingLR(o, T_max=10),
    "CosineAnnealingLR-eta_min": lambda o, s: s.CosineAnnealingLR(o, T_max=20, eta_min=0.01),
    "LinearLR": lambda o, s: s.LinearLR(o, start_factor=0.1, total_iters=10),
    "LinearLR-decay": lambda o, s: s.LinearLR(o, start_factor=1.0, end_factor=0.2, total_iters=30),
    "LinearLR-default": lambda o, s: s.LinearLR(o),
    "LambdaLR": lambda o, s: s.LambdaLR(o, lambda e: 1.0 / (1 + e) ** 0.5),
    "LambdaLR-per-group": lambda o, s: s.LambdaLR(o, [lambda e: 0.95 ** e, lambda e: 1 + 0.1 * e]),
    "MultiplicativeLR": lambda o, s: s.MultiplicativeLR(o, [lambda e: 0.95, lambda e: 1.0 if e % 2 else 0.9]),
    "OneCycleLR": lambda o, s: s.OneCycleLR(o, max_lr=1.0, total_steps=STEPS),
    "OneCycleLR-linear-3phase": lambda o, s: s.OneCycleLR(o, max_lr=[1.0, 2.0], epochs=5, steps_per_epoch=10,
                                                          anneal_strategy="linear", three_phase=True, pct_start=0.25),
    "OneCycleLR-3phase-cos": lambda o, s: s.OneCycleLR(o, max_lr=0.5, total_steps=STEPS, three_phase=True,
                                                       div_factor=10.0, final_div_factor=100.0),
    "OneCycleLR-no-momentum": lambda o, s: s.OneCycleLR(o, max_lr=0.5, total_steps=STEPS, cycle_momentum=False),
    "SequentialLR": lambda o, s: s.SequentialLR(o, [s.LinearLR(o, start_factor=0.1, total_iters=5),
                                                    s.CosineAnnealingLR(o, T_max=45)], milestones=[5]),
    "SequentialLR-3": lambda o, s: s.SequentialLR(o, [s.ExponentialLR(o, gamma=0.9), s.StepLR(o, 4, 0.5),
                                                      s.ConstantLR(o) if s is torch.optim.lr_scheduler
                                                      else s.LambdaLR(o, lambda e: 1 / 3 if e < 5 else 1.0)],
                                                  milestones=[10, 30]),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_matches_torch(name):
    keys = ("lr", "momentum") if name.startswith("OneCycle") else ("lr",)
    assert_schedules_match(sched_pair(SCHEDULERS[name]), keys=keys)


def test_one_cycle_cycles_adam_beta1():
    pair = sched_pair(lambda o, s: s.OneCycleLR(o, max_lr=0.3, total_steps=STEPS), "Adam",
                      dict(lr=0.01, betas=(0.9, 0.99)))
    assert_schedules_match(pair, keys=("lr", "betas"))
    with pytest.raises(ValueError, match="momentum or betas"):
        lr_scheduler.OneCycleLR(optim.Adagrad([lamina.zeros(1, requires_grad=True)]), max_lr=1.0, total_steps=5)


@pytest.mark.parametrize("kw", [dict(), dict(mode="max", factor=0.5, patience=2, cooldown=3, min_lr=[0.01, 0.05]),
                                dict(patience=1, threshold=0.1, threshold_mode="abs", cooldown=1, eps=1e-3),
                                dict(mode="max", patience=0, threshold_mode="abs")])
def test_reduce_lr_on_plateau_matches_torch(kw):
    r = np.random.default_rng(1)
    metrics = list(np.round(5 - np.arange(STEPS) * 0.05 + r.standard_normal(STEPS) * 0.3, 1))
    metrics[20:35] = [metrics[20]] * 15  # a flat stretch
    assert_schedules_match(sched_pair(lambda o, s: s.ReduceLROnPlateau(o, **kw)), metrics=metrics)


def test_one_cycle_refuses_to_overrun():
    p = lamina.zeros(1, requires_grad=True)
    s = lr_scheduler.OneCycleLR(optim.SGD([p], lr=0.1, momentum=0.9), max_lr=1.0, total_steps=3)
    for _ in range(2):
        s.step()
    s.step()
    with pytest.raises(ValueError, match="total_steps"):
        s.step()


@pytest.mark.parametrize("name", ["StepLR", "MultiStepLR", "CosineAnnealingLR", "OneCycleLR", "SequentialLR",
                                  "LambdaLR"])
def test_scheduler_state_dict_round_trip(name, tmp_path):
    """Save a scheduler mid-run (through lamina.save), rebuild it, load, and continue identically."""
    def build():
        p = lamina.zeros(2, requires_grad=True)
        opt = optim.SGD([{"params": [p]}, {"params": [lamina.zeros(1, requires_grad=True)], "lr": 0.2}],
                        lr=0.1, momentum=0.9)
        return opt, SCHEDULERS[name](opt, lr_scheduler)
    opt, sched = build()
    for _ in range(17):
        sched.step()
    lamina.save({"optim": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "s.safetensors")
    ref = []
    for _ in range(20):
        sched.step()
        ref.append(sched.get_last_lr())
    opt2, sched2 = build()
    ck = lamina.load(tmp_path / "s.safetensors")
    opt2.load_state_dict(ck["optim"])
    sched2.load_state_dict(ck["sched"])
    got = []
    for _ in range(20):
        sched2.step()
        got.append(sched2.get_last_lr())
    assert got == ref


def test_plateau_state_dict_round_trip(tmp_path):
    def build():
        opt = optim.SGD([lamina.zeros(1, requires_grad=True)], lr=0.1)
        return opt, lr_scheduler.ReduceLROnPlateau(opt, patience=1)
    opt, s = build()
    for m in [3, 2, 2, 2]:
        s.step(m)
    lamina.save({"o": opt.state_dict(), "s": s.state_dict()}, tmp_path / "p.safetensors")
    opt2, s2 = build()
    ck = lamina.load(tmp_path / "p.safetensors")
    opt2.load_state_dict(ck["o"])
    s2.load_state_dict(ck["s"])
    for m in [2, 2, 2, 1]:
        s.step(m)
        s2.step(m)
        assert s.get_last_lr() == s2.get_last_lr()


# ---- gradient clipping -----------------------------------------------------------------------
def grads_pair(scale=1.0):
    r = np.random.default_rng(2)
    arrays = [r.standard_normal(s) * scale for s in [(4, 3), (3,), (2, 2, 2)]]
    lp = [lamina.tensor(a, requires_grad=True) for a in arrays]
    tp = [torch.tensor(a, requires_grad=True) for a in arrays]
    for i, (l, t) in enumerate(zip(lp, tp)):
        g = r.standard_normal(l.shape) * scale
        l.grad, t.grad = lamina.tensor(g), torch.tensor(g)
    return lp, tp


@pytest.mark.parametrize("norm_type", [2.0, 1.0, 3.0, math.inf, "inf"])
@pytest.mark.parametrize("max_norm", [0.5, 1e3])
def test_clip_grad_norm_matches_torch(norm_type, max_norm):
    lp, tp = grads_pair()
    shared = lp[0].grad.numpy()
    before = shared.copy()
    got = clip_grad_norm_(lp, max_norm, norm_type=float(norm_type))
    want = torch.nn.utils.clip_grad_norm_(tp, max_norm, norm_type=float(norm_type))
    assert isinstance(got, lamina.Tensor) and abs(got.item() - want.item()) < 1e-12
    for l, t in zip(lp, tp):
        assert np.abs(l.grad.numpy() - t.grad.numpy()).max() < 1e-12
    assert np.array_equal(shared, before)  # the old gradient array was not scaled in place


def test_clip_grad_norm_edge_cases():
    lp, tp = grads_pair()
    lp[0].grad.data[0, 0] = np.nan
    with pytest.raises(RuntimeError, match="clip_grad_norm_"):
        clip_grad_norm_(lp, 1.0, error_if_nonfinite=True)
    assert clip_grad_norm_([lamina.zeros(2, requires_grad=True)], 1.0).item() == 0.0
    w = lamina.randn(3, requires_grad=True)  # float32 stays float32, a single tensor works
    w.grad = lamina.randn(3) * 100
    n = clip_grad_norm_(w, 1.0)
    assert n.dtype == lamina.float32 and w.grad.dtype == lamina.float32
    assert abs(np.linalg.norm(w.grad.numpy()) - 1.0) < 1e-4


def test_clip_grad_value_matches_torch():
    lp, tp = grads_pair()
    clip_grad_value_(lp, 0.7)
    torch.nn.utils.clip_grad_value_(tp, 0.7)
    for l, t in zip(lp, tp):
        assert np.array_equal(l.grad.numpy(), t.grad.numpy())


def test_parameters_to_vector_and_back():
    lp, tp = grads_pair()
    v = parameters_to_vector(lp).detach()
    assert np.array_equal(v.numpy(), torch.nn.utils.parameters_to_vector(tp).detach().numpy())
    ids = [id(p._data) for p in lp]
    vector_to_parameters(v * 2.0, lp)
    assert [id(p._data) for p in lp] == ids
    assert np.array_equal(parameters_to_vector(lp).detach().numpy(), v.numpy() * 2.0)
    with pytest.raises(ValueError, match="vector_to_parameters"):
        vector_to_parameters(v[:3], lp)


def test_functions_taking_parameters_accept_generators():
    """A generator can be read only once: clipping used to compute the norm and then clip nothing."""
    lp, tp = grads_pair()
    total = clip_grad_norm_((p for p in lp), 0.5)
    want = torch.nn.utils.clip_grad_norm_((p for p in tp), 0.5)
    assert abs(total.item() - want.item()) < 1e-12
    for l, t in zip(lp, tp):
        assert np.abs(l.grad.numpy() - t.grad.numpy()).max() < 1e-12
    clip_grad_value_((p for p in lp), 0.01)
    assert max(np.abs(p.grad.numpy()).max() for p in lp) <= 0.01
    v = parameters_to_vector(p for p in lp).detach()
    assert v.shape == (sum(p.numel() for p in lp),)
    vector_to_parameters(v * 0.0, (p for p in lp))
    assert all(not p.data.any() for p in lp)
    opt = optim.SGD((p for p in lp), lr=0.1)
    opt.add_param_group({"params": (p for p in [lamina.zeros(2, requires_grad=True)])})
    assert [len(g["params"]) for g in opt.param_groups] == [3, 1]


def test_gradient_clipping_callback_clips_a_models_gradients():
    from lamina import nn
    from lamina.train.callbacks import GradientClipping
    model = nn.Linear(4, 3)
    for p in model.parameters():
        p.grad = lamina.ones(p.shape) * 10.0
    cb = GradientClipping(1.0)
    trainer = type("T", (), {"model": model})()
    cb.on_after_backward(trainer)
    norm = math.sqrt(sum(float((p.grad.numpy() ** 2).sum()) for p in model.parameters()))
    assert abs(norm - 1.0) < 1e-4


def test_one_cycle_lr_never_goes_negative():
    """Linear annealing used to extrapolate at step total_steps (the step after the last batch)
    to a negative lr; the final lr now holds there, as it does in cos mode within rounding."""
    o = optim.SGD([lamina.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    s = lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=50, anneal_strategy="linear", three_phase=True,
                                pct_start=0.25)
    for _ in range(50):
        s.step()
    assert s.get_last_lr() == [pytest.approx(1.0 / 25 / 1e4)] and o.param_groups[0]["momentum"] == 0.95


def test_one_cycle_lr_with_a_phase_of_no_length():
    """pct_start * total_steps == 1 (train.max_steps=5, pct_start=0.2) used to divide by zero, as in torch."""
    o = optim.SGD([lamina.zeros(1, requires_grad=True)], lr=0.1, momentum=0.9)
    s = lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=5, pct_start=0.2)
    lrs = [s.get_last_lr()[0]]
    for _ in range(4):
        s.step()
        lrs.append(s.get_last_lr()[0])
    assert lrs[0] == 1.0 and lrs == sorted(lrs, reverse=True) and lrs[-1] == pytest.approx(4e-6)


def test_adam_state_loads_across_dtypes_and_from_json(tmp_path):
    """The shape check at load time compares shapes only: float32 state loads into float64 parameters."""
    lp, ll = make(lamina)
    opt = optim.Adam(lp, lr=0.1)
    run(opt, lp, ll, 2)
    lamina.save(opt.state_dict(), tmp_path / "o.safetensors")
    other = optim.Adam([lamina.zeros(p.shape, dtype=lamina.float32, requires_grad=True) for p in lp], lr=0.1)
    other.load_state_dict(lamina.load(tmp_path / "o.safetensors"))
    assert other.state[other.param_groups[0]["params"][0]]["exp_avg"].dtype == np.float32
