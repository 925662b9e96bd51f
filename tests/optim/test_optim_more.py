"""Adadelta, Adamax, NAdam, RAdam, LBFGS and the PolynomialLR, CosineAnnealingWarmRestarts and
CyclicLR schedulers against torch.optim, in float64: trajectories over many steps, parameter
groups, state dicts (our own round trip and torch's state continued here), bad settings."""
import inspect
import math
import warnings

import numpy as np
import pytest
import torch

import lamina
import lamina.optim as optim
from lamina.optim import lr_scheduler

rng = np.random.default_rng(14)
X, Y = rng.standard_normal((10, 4)), rng.standard_normal((10, 3))
W0, B0 = rng.standard_normal((4, 3)) * 0.5, rng.standard_normal(3) * 0.5
R0 = np.array([-1.2, 1.0, 0.8, -0.5])


def linear(m):
    """A tiny linear model (a tanh on top, to be non-quadratic) with a mean squared error."""
    w, b = m.tensor(W0, requires_grad=True), m.tensor(B0, requires_grad=True)
    x, y = m.tensor(X), m.tensor(Y)

    def loss():
        r = (x @ w + b).tanh() * 2.0 - y
        return (r * r).mean()
    return [w, b], loss


def rosenbrock(m, start=R0):
    """The Rosenbrock function (in 4-D by default), from a point on its curved valley's far side."""
    p = m.tensor(start, requires_grad=True)

    def loss():
        a, b = p[:-1], p[1:]
        return ((1 - a) ** 2 + 100 * (b - a * a) ** 2).sum() * 0.1
    return [p], loss


def run(opt, params, loss, steps):
    for _ in range(steps):
        opt.zero_grad()
        loss().backward()
        opt.step()
    return [p.detach().numpy().copy() for p in params]


def close(got, want, tol=1e-6):
    return all(np.abs(g - w).max() <= tol for g, w in zip(got, want))


CONFIGS = [
    ("Adadelta", dict()),
    ("Adadelta", dict(lr=0.5, rho=0.8, eps=1e-5)),
    ("Adadelta", dict(lr=2.0, rho=0.95, weight_decay=0.1)),
    ("Adadelta", dict(lr=1.0, weight_decay=0.05, maximize=True)),
    ("Adamax", dict()),
    ("Adamax", dict(lr=0.02, betas=(0.8, 0.99), eps=1e-6)),
    ("Adamax", dict(lr=0.02, weight_decay=0.1)),
    ("Adamax", dict(lr=0.01, weight_decay=0.1, maximize=True)),
    ("NAdam", dict()),
    ("NAdam", dict(lr=0.01, momentum_decay=0.01)),
    ("NAdam", dict(lr=0.01, betas=(0.8, 0.99), weight_decay=0.1)),
    ("NAdam", dict(lr=0.01, weight_decay=0.2, decoupled_weight_decay=True)),
    ("NAdam", dict(lr=0.005, betas=(0.3, 0.9), momentum_decay=0.1, maximize=True)),
    ("RAdam", dict()),
    ("RAdam", dict(lr=0.01)),
    ("RAdam", dict(lr=0.01, betas=(0.8, 0.9), weight_decay=0.1)),  # rectified from step 6 on
    ("RAdam", dict(lr=0.01, weight_decay=0.2, decoupled_weight_decay=True)),
    ("RAdam", dict(lr=0.005, betas=(0.3, 0.9), eps=1e-6, maximize=True)),
]
IDS = [f"{n}-{'-'.join(f'{k}={v}' for k, v in kw.items())}" for n, kw in CONFIGS]


# (ascending the Rosenbrock function runs off to infinity: maximize is checked on the bounded model)
CASES = [(name, kw, problem) for problem in (linear, rosenbrock) for name, kw in CONFIGS
         if problem is linear or not kw.get("maximize")]


@pytest.mark.parametrize("name,kw,problem", CASES,
                         ids=[f"{i}-{p.__name__}" for p in (linear, rosenbrock) for i, (n, kw) in zip(IDS, CONFIGS)
                              if p is linear or not kw.get("maximize")])
def test_trajectory_matches_torch(name, kw, problem):
    steps = 150
    lp, ll = problem(lamina)
    tp, tl = problem(torch)
    got = run(getattr(optim, name)(lp, **kw), lp, ll, steps)
    want = run(getattr(torch.optim, name)(tp, **kw), tp, tl, steps)
    assert close(got, want)
    assert any(np.abs(g - (W0 if g.shape == W0.shape else B0 if g.shape == B0.shape else R0)).max() > 1e-3
               for g in got)  # it did move


# torch's arguments that lamina has no use for: it runs one kernel per parameter on any device
TORCH_ONLY = {"foreach", "capturable", "differentiable", "fused"}


@pytest.mark.parametrize("name", ["Adadelta", "Adamax", "NAdam", "RAdam", "LBFGS"])
def test_signature_and_defaults_match_torch(name):
    ours = inspect.signature(getattr(optim, name)).parameters
    theirs = {k: v for k, v in inspect.signature(getattr(torch.optim, name)).parameters.items()
              if k not in TORCH_ONLY}
    assert list(ours) == list(theirs)
    for k, p in ours.items():
        assert p.default == theirs[k].default, k
        assert (p.kind == p.KEYWORD_ONLY) == (theirs[k].kind == p.KEYWORD_ONLY), k
    lp, _ = linear(lamina)
    tp, _ = linear(torch)
    got, want = getattr(optim, name)(lp).defaults, getattr(torch.optim, name)(tp).defaults
    assert {k: v for k, v in want.items() if k not in TORCH_ONLY} == got


GROUP_CONFIGS = [
    ("Adadelta", dict(lr=1.0), dict(rho=0.5, lr=0.3)),
    ("Adamax", dict(lr=0.01), dict(betas=(0.5, 0.9), weight_decay=0.1)),
    ("NAdam", dict(lr=0.01), dict(momentum_decay=0.02, decoupled_weight_decay=True, weight_decay=0.1)),
    ("RAdam", dict(lr=0.01), dict(betas=(0.7, 0.95), lr=0.02, maximize=True)),
]


@pytest.mark.parametrize("name,kw,second", GROUP_CONFIGS, ids=[c[0] for c in GROUP_CONFIGS])
def test_param_groups_and_add_param_group(name, kw, second):
    """Two groups with their own options, the second added after some steps (as torch)."""
    results = []
    for m, mod in ((lamina, optim), (torch, torch.optim)):
        params, loss = linear(m)
        opt = getattr(mod, name)([{"params": [params[0]]}], **kw)
        run(opt, params, loss, 10)
        opt.add_param_group({"params": [params[1]], **second})
        results.append(run(opt, params, loss, 60))
        assert {k: v for k, v in opt.param_groups[1].items() if k not in TORCH_ONLY | {"params"}} == \
            {**{k: v for k, v in opt.defaults.items() if k not in TORCH_ONLY}, **second}
    assert close(*results)


@pytest.mark.parametrize("name,kw", [CONFIGS[2], CONFIGS[6], CONFIGS[11], CONFIGS[15]], ids=lambda c: str(c))
def test_state_dict_round_trip_continues_identically(name, kw, tmp_path):
    lp, ll = linear(lamina)
    opt = getattr(optim, name)(lp, **kw)
    run(opt, lp, ll, 20)
    lamina.save({"params": [p.detach() for p in lp], "optim": opt.state_dict()}, tmp_path / "ckpt.safetensors")
    ref = run(opt, lp, ll, 30)

    lp2, ll2 = linear(lamina)
    ck = lamina.load(tmp_path / "ckpt.safetensors")
    for p, saved in zip(lp2, ck["params"]):
        p.data[...] = saved.data
    opt2 = getattr(optim, name)(lp2, **kw)
    opt2.load_state_dict(ck["optim"])
    for g, w in zip(run(opt2, lp2, ll2, 30), ref):
        assert np.array_equal(g, w)  # bit for bit


def numpy_state(sd):
    """torch's state dict with every tensor as a NumPy array (what a converted checkpoint holds)."""
    def conv(v):
        if isinstance(v, torch.Tensor):
            return v.detach().numpy().copy()
        if isinstance(v, list):
            return [conv(a) for a in v]
        return v
    return {"state": {i: {k: conv(v) for k, v in s.items()} for i, s in sd["state"].items()},
            "param_groups": [{k: v for k, v in g.items() if k not in TORCH_ONLY} for g in sd["param_groups"]]}


@pytest.mark.parametrize("name,kw", [CONFIGS[2], CONFIGS[6], CONFIGS[11], CONFIGS[15]], ids=lambda c: str(c))
def test_torch_state_continues_here(name, kw):
    """torch's layout, key for key, so a torch optimizer's state carries on in lamina."""
    lp, ll = linear(lamina)
    tp, tl = linear(torch)
    to = getattr(torch.optim, name)(tp, **kw)
    run(to, tp, tl, 10)
    lo = getattr(optim, name)(lp, **kw)
    run(lo, lp, ll, 1)
    assert set(lo.state_dict()["state"][0]) == set(to.state_dict()["state"][0])
    for p, t in zip(lp, tp):
        p.data[...] = t.detach().numpy()
    lo.load_state_dict(numpy_state(to.state_dict()))
    assert lo.state[lp[0]]["step"] == 10
    assert close(run(lo, lp, ll, 40), run(to, tp, tl, 40), 1e-9)


@pytest.mark.parametrize("name,kw", [CONFIGS[2], CONFIGS[6], CONFIGS[11], CONFIGS[15]], ids=lambda c: str(c))
def test_updates_in_place_and_float32_stays_float32(name, kw):
    """Parameter and state arrays are the same objects step after step, gradients are only read,
    and float32 parameters keep float32 state."""
    lp, ll = linear(lamina)
    opt = getattr(optim, name)(lp, **kw)
    run(opt, lp, ll, 2)
    data_ids = [id(p._data) for p in lp]
    state_ids = {id(v) for s in opt.state.values() for v in s.values() if isinstance(v, np.ndarray)}
    grads = [p.grad.numpy().copy() for p in lp]
    opt.step()
    assert all(np.array_equal(p.grad.numpy(), g) for p, g in zip(lp, grads))
    run(opt, lp, ll, 3)
    assert [id(p._data) for p in lp] == data_ids
    assert {id(v) for s in opt.state.values() for v in s.values() if isinstance(v, np.ndarray)} == state_ids

    w = lamina.randn(5, 3, requires_grad=True)
    opt = getattr(optim, name)([w], **kw)
    run(opt, [w], lambda: (w * w).sum(), 3)
    assert w.dtype == lamina.float32
    assert all(v.dtype == np.float32 for s in opt.state.values() for v in s.values() if isinstance(v, np.ndarray))


def p1():
    return [lamina.zeros(3, requires_grad=True)]


@pytest.mark.parametrize("make,error,match", [
    (lambda: optim.Adadelta(p1(), rho=1.5), ValueError, r"Adadelta: rho must be in \[0, 1\], got 1.5"),
    (lambda: optim.Adadelta(p1(), rho=-0.1), ValueError, "Adadelta: rho must be a finite number >= 0"),
    (lambda: optim.Adadelta(p1(), lr=-1.0), ValueError, "lr must be a finite number >= 0"),
    (lambda: optim.Adadelta(p1(), eps="1e-6"), TypeError, "eps must be a number, got str"),
    (lambda: optim.Adadelta([{"params": p1(), "rho": 2.0}]), ValueError, "parameter group 0: rho must be in"),
    (lambda: optim.Adamax(p1(), betas=(1.0, 0.9)), ValueError, r"betas must be in \[0, 1\)"),
    (lambda: optim.Adamax(p1(), weight_decay=-0.1), ValueError, "weight_decay must be a finite number >= 0"),
    (lambda: optim.NAdam(p1(), momentum_decay=-1.0), ValueError, "NAdam: momentum_decay must be a finite number"),
    (lambda: optim.NAdam([{"params": p1(), "momentum_decay": math.nan}]), ValueError, "momentum_decay"),
    (lambda: optim.NAdam(p1(), betas=0.9), TypeError, "betas must be a pair"),
    (lambda: optim.RAdam(p1(), betas=(0.9, 1.0)), ValueError, r"betas must be in \[0, 1\)"),
    (lambda: optim.RAdam(p1(), lr=math.inf), ValueError, "lr must be a finite number"),
    (lambda: optim.LBFGS(p1(), max_iter=0), ValueError, "LBFGS: max_iter must be an integer >= 1, got 0"),
    (lambda: optim.LBFGS(p1(), max_iter=2.5), TypeError, "LBFGS: max_iter must be an integer, got float"),
    (lambda: optim.LBFGS(p1(), max_eval=0), ValueError, "LBFGS: max_eval must be an integer >= 1"),
    (lambda: optim.LBFGS(p1(), history_size=0), ValueError, "LBFGS: history_size must be an integer >= 1"),
    (lambda: optim.LBFGS(p1(), tolerance_grad=-1e-7), ValueError, "LBFGS: tolerance_grad must be a finite number"),
    (lambda: optim.LBFGS(p1(), tolerance_change=None), TypeError, "LBFGS: tolerance_change must be a number"),
    (lambda: optim.LBFGS(p1(), line_search_fn="armijo"), ValueError,
     "LBFGS: line_search_fn must be None or 'strong_wolfe', got 'armijo'"),
    (lambda: optim.LBFGS([{"params": p1()}, {"params": p1(), "lr": 0.1}]), ValueError,
     "LBFGS: doesn't support more than one parameter group"),
])
def test_bad_settings_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_add_param_group_checks_the_new_options():
    opt = optim.Adadelta(p1())
    with pytest.raises(ValueError, match="parameter group 1: rho"):
        opt.add_param_group({"params": p1(), "rho": 7})
    assert len(opt.param_groups) == 1  # nothing was added
    with pytest.raises(ValueError, match="more than one parameter group"):
        optim.LBFGS(p1()).add_param_group({"params": p1()})


# ---- LBFGS -------------------------------------------------------------------------------
def closure(opt, loss):
    def f():
        opt.zero_grad()
        out = loss()
        out.backward()
        return out
    return f


LBFGS_CONFIGS = [
    dict(),
    dict(line_search_fn="strong_wolfe"),
    dict(lr=0.5, max_iter=7, history_size=3),
    dict(lr=0.8, max_iter=5, max_eval=6, history_size=2, line_search_fn="strong_wolfe"),
    dict(max_iter=4, tolerance_grad=1e-3, tolerance_change=1e-4, line_search_fn="strong_wolfe"),
    dict(max_iter=1, line_search_fn="strong_wolfe"),  # max_eval 1: a line search with no evaluations left
]


@pytest.mark.parametrize("problem", [linear, rosenbrock])
@pytest.mark.parametrize("kw", LBFGS_CONFIGS, ids=lambda kw: "-".join(f"{k}={v}" for k, v in kw.items()) or "default")
def test_lbfgs_matches_torch(kw, problem):
    """Parameters, the loss that step returns and the counts of iterations and closure calls."""
    lp, ll = problem(lamina)
    tp, tl = problem(torch)
    lo, to = optim.LBFGS(lp, **kw), torch.optim.LBFGS(tp, **kw)
    for _ in range(12):
        a, b = lo.step(closure(lo, ll)), to.step(closure(to, tl))
        assert isinstance(a, lamina.Tensor) and abs(a.item() - b.item()) <= 1e-9 * max(1.0, abs(b.item()))
        assert close([p.detach().numpy() for p in lp], [p.detach().numpy() for p in tp])
        ls, ts = lo.state[lp[0]], to.state[tp[0]]
        assert (ls["func_evals"], ls["n_iter"]) == (ts["func_evals"], ts["n_iter"])
    assert not close([p.detach().numpy() for p in lp], [p.detach().numpy() for p in problem(lamina)[0]])  # it moved


def test_lbfgs_finds_the_minimum():
    lp, ll = rosenbrock(lamina, np.array([-1.2, 1.0]))  # the classic start (in 4-D R0 leads to a local minimum)
    opt = optim.LBFGS(lp, line_search_fn="strong_wolfe", max_iter=100)
    for _ in range(5):
        opt.step(closure(opt, ll))
    assert ll().item() < 1e-9  # (it stops once max |grad| <= tolerance_grad = 1e-7)
    assert np.allclose(lp[0].detach().numpy(), 1.0, atol=1e-4)
    # at the optimum it stops after one closure call
    evals = opt.state[lp[0]]["func_evals"]
    opt.step(closure(opt, ll))
    assert opt.state[lp[0]]["func_evals"] == evals + 1


def test_lbfgs_needs_a_closure_that_returns_the_loss():
    lp, ll = rosenbrock(lamina)
    opt = optim.LBFGS(lp)
    with pytest.raises(TypeError, match="LBFGS.step: needs a closure"):
        opt.step()
    with pytest.raises(TypeError, match="LBFGS.step: needs a closure"):
        opt.step(None)

    def no_return():
        opt.zero_grad()
        ll().backward()
    with pytest.raises(TypeError, match="the closure returned None"):
        opt.step(no_return)


def test_lbfgs_closure_records_a_graph_even_under_no_grad():
    lp, ll = rosenbrock(lamina)
    opt = optim.LBFGS(lp, max_iter=3)
    seen = []

    def f():
        seen.append(lamina.autograd.is_grad_enabled())
        return closure(opt, ll)()
    with lamina.no_grad():
        loss = opt.step(f)
        assert not lamina.autograd.is_grad_enabled()
    assert seen == [True] * 3 and loss.requires_grad


@pytest.mark.parametrize("kw", [LBFGS_CONFIGS[2], LBFGS_CONFIGS[3]], ids=["fixed-step", "strong_wolfe"])
def test_lbfgs_state_dict_round_trip_and_torch_state(kw, tmp_path):
    lp, ll = linear(lamina)
    opt = optim.LBFGS(lp, **kw)
    for _ in range(3):
        opt.step(closure(opt, ll))
    lamina.save({"params": [p.detach() for p in lp], "optim": opt.state_dict()}, tmp_path / "lbfgs.safetensors")
    ref = []
    for _ in range(3):
        opt.step(closure(opt, ll))
        ref.append([p.detach().numpy().copy() for p in lp])

    lp2, ll2 = linear(lamina)
    ck = lamina.load(tmp_path / "lbfgs.safetensors")
    for p, saved in zip(lp2, ck["params"]):
        p.data[...] = saved.data
    opt2 = optim.LBFGS(lp2, **kw)
    opt2.load_state_dict(ck["optim"])
    for want in ref:
        opt2.step(closure(opt2, ll2))
        assert all(np.array_equal(p.detach().numpy(), w) for p, w in zip(lp2, want))  # bit for bit

    # torch's state (its tensors as arrays) continues here as it does in torch
    tp, tl = linear(torch)
    to = torch.optim.LBFGS(tp, **kw)
    for _ in range(3):
        to.step(closure(to, tl))
    lp3, ll3 = linear(lamina)
    for p, t in zip(lp3, tp):
        p.data[...] = t.detach().numpy()
    opt3 = optim.LBFGS(lp3, **kw)
    opt3.load_state_dict(numpy_state(to.state_dict()))
    assert set(opt3.state_dict()["state"][0]) == set(to.state_dict()["state"][0])
    for _ in range(3):
        opt3.step(closure(opt3, ll3))
        to.step(closure(to, tl))
        assert close([p.detach().numpy() for p in lp3], [p.detach().numpy() for p in tp], 1e-9)


def test_lbfgs_refuses_a_state_dict_of_another_model():
    lp, ll = linear(lamina)
    opt = optim.LBFGS(lp)
    opt.step(closure(opt, ll))
    sd = opt.state_dict()
    other = optim.LBFGS(rosenbrock(lamina)[0])
    with pytest.raises(ValueError, match=r"LBFGS.load_state_dict: state 'd' has shape \(15,\), but the "
                                         r"parameters hold 4 numbers"):
        other.load_state_dict(sd)
    assert other.state == {}
    with pytest.raises(KeyError, match="expected an optimizer's state dict"):
        other.load_state_dict({"weight": lamina.zeros(3)})


# ---- schedulers -------------------------------------------------------------------------
STEPS = 60


def sched_pair(make_sched, opt_name="SGD", opt_kw=None):
    """The same scheduler on a lamina and a torch optimizer with two parameter groups."""
    opt_kw = opt_kw or dict(lr=0.1, momentum=0.9)
    out = []
    for m, mod in ((lamina, optim), (torch, torch.optim)):
        ps = [m.zeros(2, requires_grad=True) for _ in range(2)]
        opt = getattr(mod, opt_name)([{"params": [p], "lr": opt_kw["lr"] * (i + 1)} for i, p in enumerate(ps)],
                                     **opt_kw)
        out.append((opt, make_sched(opt, mod.lr_scheduler)))
    return out


def assert_schedules_match(pair, steps=STEPS, keys=("lr",), epochs=None):
    (lo, ls), (to, ts) = pair
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # torch warns when step() comes before optimizer.step()
        for i in range(steps):
            for key in keys:
                for lg, tg in zip(lo.param_groups, to.param_groups):
                    assert np.allclose(lg[key], tg[key], rtol=0, atol=1e-12), (i, key, lg[key], tg[key])
            assert np.allclose(ls.get_last_lr(), ts.get_last_lr(), rtol=0, atol=1e-12)
            assert ls.last_epoch == ts.last_epoch
            lo.step()
            to.step()
            if epochs is None:
                ls.step()
                ts.step()
            else:
                ls.step(epochs[i])
                ts.step(epochs[i])


SCHEDULERS = {
    "PolynomialLR": lambda o, s: s.PolynomialLR(o, total_iters=25, power=2.0),
    "PolynomialLR-default": lambda o, s: s.PolynomialLR(o),
    "PolynomialLR-sqrt": lambda o, s: s.PolynomialLR(o, total_iters=40, power=0.5),
    "CosineAnnealingWarmRestarts": lambda o, s: s.CosineAnnealingWarmRestarts(o, T_0=7),
    "CosineAnnealingWarmRestarts-mult": lambda o, s: s.CosineAnnealingWarmRestarts(o, T_0=3, T_mult=2,
                                                                                   eta_min=0.01),
    "CyclicLR": lambda o, s: s.CyclicLR(o, 0.01, 0.1, step_size_up=4),
    "CyclicLR-triangular2": lambda o, s: s.CyclicLR(o, [0.01, 0.02], [0.1, 0.3], step_size_up=3, step_size_down=5,
                                                    mode="triangular2", base_momentum=0.7, max_momentum=0.95),
    "CyclicLR-exp_range": lambda o, s: s.CyclicLR(o, 0.01, 0.1, step_size_up=5, mode="exp_range", gamma=0.97),
    "CyclicLR-scale_fn-cycle": lambda o, s: s.CyclicLR(o, 0.01, 0.1, step_size_up=2,
                                                       scale_fn=lambda x: 1 / (1 + 0.5 * x)),
    "CyclicLR-scale_fn-iterations": lambda o, s: s.CyclicLR(o, 0.01, 0.1, step_size_up=3, scale_mode="iterations",
                                                            scale_fn=lambda x: 0.99 ** x),
    "CyclicLR-no-momentum": lambda o, s: s.CyclicLR(o, 0.01, 0.1, step_size_up=6, step_size_down=2,
                                                    cycle_momentum=False),
    "SequentialLR-warm-restarts": lambda o, s: s.SequentialLR(o, [s.LinearLR(o, start_factor=0.1, total_iters=5),
                                                                  s.CosineAnnealingWarmRestarts(o, T_0=4, T_mult=2)],
                                                              milestones=[5]),
    "SequentialLR-poly": lambda o, s: s.SequentialLR(o, [s.ExponentialLR(o, gamma=0.9),
                                                         s.PolynomialLR(o, total_iters=20, power=1.5)],
                                                     milestones=[10]),
}


@pytest.mark.parametrize("name", list(SCHEDULERS))
def test_scheduler_matches_torch(name):
    keys = ("lr", "momentum") if name.startswith("CyclicLR") else ("lr",)
    assert_schedules_match(sched_pair(SCHEDULERS[name]), keys=keys)


def test_cyclic_lr_cycles_adam_betas():
    pair = sched_pair(SCHEDULERS["CyclicLR-triangular2"], "Adam", dict(lr=0.01, betas=(0.9, 0.99)))
    assert_schedules_match(pair, keys=("lr", "betas"))
    assert pair[0][0].param_groups[0]["betas"][1] == 0.99  # beta2 is left alone
    pair = sched_pair(lambda o, s: s.CyclicLR(o, 0.001, 0.01, step_size_up=4, mode="exp_range", gamma=0.99),
                      "NAdam", dict(lr=0.01))
    assert_schedules_match(pair, keys=("lr", "betas"))


def test_cyclic_lr_trains_like_torch():
    """CyclicLR stepped every batch drives a real optimizer identically (lr and momentum)."""
    results = []
    for m, mod in ((lamina, optim), (torch, torch.optim)):
        params, loss = linear(m)
        opt = mod.SGD(params, lr=0.1, momentum=0.9)
        sched = mod.lr_scheduler.CyclicLR(opt, 0.01, 0.2, step_size_up=5, mode="triangular2")
        for _ in range(40):
            run(opt, params, loss, 1)
            sched.step()
        results.append([p.detach().numpy().copy() for p in params])
    assert close(*results)


def test_warm_restarts_with_fractional_epochs():
    """step(epoch + i / iters), once per batch, as torch's docs show, interleaved with a jump back."""
    iters = 7
    epochs = [e + i / iters for e in range(12) for i in range(iters)] + [2.5, 0.0, 3.25, 30.0, 13.999]
    for kw in (dict(T_0=3), dict(T_0=2, T_mult=3, eta_min=0.005)):
        assert_schedules_match(sched_pair(lambda o, s: s.CosineAnnealingWarmRestarts(o, **kw)),
                               steps=len(epochs), epochs=epochs)


def test_warm_restarts_restart_exactly_at_a_restart_epoch():
    """step(epoch) at a restart gives the initial lr; torch's log(243, 3) = 4.999... lands it at the
    end of the previous cycle (eta_min) instead. Epoch by epoch and by jumps agree here."""
    opt = optim.SGD(p1(), lr=0.1)
    s = lr_scheduler.CosineAnnealingWarmRestarts(opt, T_0=1, T_mult=3, eta_min=0.001)
    by_step = []
    for _ in range(130):
        s.step()
        by_step.append((s.T_i, s.T_cur, s.get_last_lr()[0]))
    for epoch in (1, 4, 13, 40, 121, 125):
        s.step(epoch)
        assert (s.T_i, s.T_cur, s.get_last_lr()[0]) == pytest.approx(by_step[epoch - 1], abs=1e-15)
    s.step(121)
    assert s.get_last_lr() == [0.1] and s.T_i == 243 and s.T_cur == 0


@pytest.mark.parametrize("name", ["PolynomialLR", "CosineAnnealingWarmRestarts-mult", "CyclicLR-triangular2",
                                  "CyclicLR-scale_fn-iterations", "SequentialLR-warm-restarts"])
def test_scheduler_state_dict_round_trip(name, tmp_path):
    """Save a scheduler mid-run (through lamina.save), rebuild it, load, and continue identically."""
    def build():
        opt = optim.SGD([{"params": p1()}, {"params": p1(), "lr": 0.2}], lr=0.1, momentum=0.9)
        return opt, SCHEDULERS[name](opt, lr_scheduler)
    opt, sched = build()
    for _ in range(17):
        sched.step()
    lamina.save({"optim": opt.state_dict(), "sched": sched.state_dict()}, tmp_path / "s.safetensors")
    ref = []
    for _ in range(25):
        sched.step()
        ref.append((sched.get_last_lr(), [g["momentum"] for g in opt.param_groups]))
    opt2, sched2 = build()
    ck = lamina.load(tmp_path / "s.safetensors")
    opt2.load_state_dict(ck["optim"])
    sched2.load_state_dict(ck["sched"])
    got = []
    for _ in range(25):
        sched2.step()
        got.append((sched2.get_last_lr(), [g["momentum"] for g in opt2.param_groups]))
    assert got == ref


def test_cyclic_lr_keeps_a_callable_objects_attributes():
    class Decay:
        def __init__(self):
            self.rate = 0.5

        def __call__(self, x):
            return self.rate ** x
    opt = optim.SGD(p1(), lr=0.1, momentum=0.9)
    s = lr_scheduler.CyclicLR(opt, 0.01, 0.1, step_size_up=2, scale_fn=Decay())
    s._scale_fn_custom.rate = 0.7
    sd = s.state_dict()
    assert sd["_scale_fn_custom"] == {"rate": 0.7}
    s2 = lr_scheduler.CyclicLR(optim.SGD(p1(), lr=0.1, momentum=0.9), 0.01, 0.1, step_size_up=2, scale_fn=Decay())
    s2.load_state_dict(sd)
    assert s2._scale_fn_custom.rate == 0.7
    with pytest.raises(KeyError, match="CyclicLR.load_state_dict: got an optimizer's state dict"):
        s2.load_state_dict(opt.state_dict())


def sgd():
    return optim.SGD(p1(), lr=0.1, momentum=0.9)


@pytest.mark.parametrize("make,error,match", [
    (lambda: lr_scheduler.PolynomialLR(sgd(), total_iters=0), ValueError,
     "PolynomialLR: total_iters must be an integer >= 1, got 0"),
    (lambda: lr_scheduler.PolynomialLR(sgd(), total_iters=2.5), TypeError, "PolynomialLR: total_iters must be an int"),
    (lambda: lr_scheduler.PolynomialLR(sgd(), power=-1.0), ValueError, "PolynomialLR: power must be a finite number"),
    (lambda: lr_scheduler.CosineAnnealingWarmRestarts(sgd(), T_0=0), ValueError,
     "CosineAnnealingWarmRestarts: T_0 must be an integer >= 1, got 0"),
    (lambda: lr_scheduler.CosineAnnealingWarmRestarts(sgd(), T_0=2.0), TypeError, "T_0 must be an integer"),
    (lambda: lr_scheduler.CosineAnnealingWarmRestarts(sgd(), T_0=5, T_mult=0), ValueError, "T_mult must be an int"),
    (lambda: lr_scheduler.CosineAnnealingWarmRestarts(sgd(), T_0=5, T_mult=1.5), TypeError, "T_mult must be an int"),
    (lambda: lr_scheduler.CosineAnnealingWarmRestarts(sgd(), T_0=5, eta_min="0"), TypeError, "eta_min must be a num"),
    (lambda: lr_scheduler.CosineAnnealingWarmRestarts(sgd(), T_0=5).step(-1), ValueError,
     "CosineAnnealingWarmRestarts.step: epoch must be >= 0, got -1"),
    (lambda: lr_scheduler.CosineAnnealingWarmRestarts(sgd(), T_0=5).step("3"), TypeError,
     "CosineAnnealingWarmRestarts.step: epoch must be a number"),
    (lambda: lr_scheduler.CosineAnnealingWarmRestarts(p1(), T_0=5), TypeError, "expected a lamina.optim.Optimizer"),
    (lambda: lr_scheduler.CyclicLR(sgd(), 0.01, 0.1, mode="triangle"), ValueError,
     "CyclicLR: mode must be 'triangular', 'triangular2' or 'exp_range'"),
    (lambda: lr_scheduler.CyclicLR(sgd(), 0.01, 0.1, step_size_up=0), ValueError,
     "CyclicLR: step_size_up must be a finite number > 0"),
    (lambda: lr_scheduler.CyclicLR(sgd(), 0.01, 0.1, step_size_down=-2), ValueError, "step_size_down must be"),
    (lambda: lr_scheduler.CyclicLR(sgd(), 0.01, 0.1, scale_mode="epochs"), ValueError,
     "CyclicLR: scale_mode must be 'cycle' or 'iterations'"),
    (lambda: lr_scheduler.CyclicLR(sgd(), 0.01, 0.1, scale_fn=0.5), TypeError, "CyclicLR: scale_fn must be a func"),
    (lambda: lr_scheduler.CyclicLR(sgd(), [0.01, 0.02], 0.1), ValueError,
     "CyclicLR: expected 1 values for base_lr"),
    (lambda: lr_scheduler.CyclicLR(sgd(), 0.01, -0.1), ValueError, "CyclicLR: max_lr must be a finite number >= 0"),
    (lambda: lr_scheduler.CyclicLR(sgd(), 0.01, 0.1, mode="exp_range", gamma=0.0), ValueError,
     "CyclicLR: gamma must be a finite number > 0"),
    (lambda: lr_scheduler.CyclicLR(optim.Adagrad(p1()), 0.01, 0.1), ValueError,
     "CyclicLR: cycle_momentum needs an optimizer with momentum or betas, Adagrad has neither"),
    (lambda: lr_scheduler.CyclicLR(optim.Adam(p1()), 0.01, 0.1, max_momentum=1.0), ValueError,
     "CyclicLR: max_momentum must be a finite number >= 0 and < 1"),
])
def test_bad_scheduler_settings_are_refused(make, error, match):
    with pytest.raises(error, match=match):
        make()


def test_cyclic_lr_without_momentum_works_with_any_optimizer():
    opt = optim.Adadelta(p1(), lr=1.0)
    s = lr_scheduler.CyclicLR(opt, 0.1, 1.0, step_size_up=2, cycle_momentum=False)
    lrs = []
    for _ in range(4):
        lrs.append(s.get_last_lr()[0])
        s.step()
    assert lrs == pytest.approx([0.1, 0.55, 1.0, 0.55])
