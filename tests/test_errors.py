"""Bad input gets one clear error: it names the function, what it received and what it expected.

Each of these used to surface as a raw Python or NumPy error (ZeroDivisionError, "negative
dimensions are not allowed", a KeyError of one word, a RecursionError) or, worse, as a
silently wrong answer. The exception types are torch's, so `except` clauses keep working.
"""
import json
import struct

import numpy as np
import pytest

import lamina
import lamina.nn as nn
import lamina.nn.functional as F
import lamina.optim as optim
from lamina.optim import lr_scheduler


def params():
    return [lamina.zeros(3, 2, requires_grad=True), lamina.zeros(2, requires_grad=True)]


# ---- creation: sizes, ranges, distributions ------------------------------------------------------------
@pytest.mark.parametrize("make", [lambda s: lamina.ones(s), lambda s: lamina.zeros(2, s), lambda s: lamina.empty((s,)),
                                  lambda s: lamina.rand(s), lambda s: lamina.randn(1, s),
                                  lambda s: lamina.full((s,), 1.0), lambda s: lamina.randint(0, 3, (s,))])
def test_sizes_must_be_integers(make):
    """ones(2.5) used to make 2 elements."""
    with pytest.raises(TypeError, match=r"size must be an integer, got float 2.5"):
        make(2.5)


@pytest.mark.parametrize("call, name", [(lambda: lamina.zeros(-1), "zeros"), (lambda: lamina.randn(2, -3), "randn"),
                                        (lambda: lamina.ones((4, -2)), "ones"), (lambda: lamina.rand(-1), "rand"),
                                        (lambda: lamina.full((-1,), 2.0), "full"),
                                        (lambda: lamina.randint(0, 5, (-2,)), "randint")])
def test_negative_sizes(call, name):
    with pytest.raises(RuntimeError, match=rf"{name}: sizes must be non-negative, got \("):
        call()


@pytest.mark.parametrize("call, match", [(lambda: lamina.eye(-1), "eye: n must be non-negative, got -1"),
                                         (lambda: lamina.linspace(0, 1, -1), "linspace: steps must be non-negative"),
                                         (lambda: lamina.randperm(-1), "randperm: n must be non-negative")])
def test_negative_counts(call, match):
    with pytest.raises(RuntimeError, match=match):
        call()


def test_arange_step_zero():
    with pytest.raises(RuntimeError, match=r"arange: step must be nonzero, got arange\(0, 5, 0\)"):
        lamina.arange(0, 5, 0)
    with pytest.raises(RuntimeError, match="arange: the range from 5 to 0 runs against the sign of step 1"):
        lamina.arange(5, 0, 1)


def test_randint_empty_range():
    with pytest.raises(RuntimeError, match="randint: random_ expects 'from' to be less than 'to', "
                                           "but got from=5 >= to=5"):
        lamina.randint(5, 5, (2,))
    assert lamina.randint(5, (3,)).shape == (3,)  # randint(high, size), as torch


@pytest.mark.parametrize("probs, kw, match", [
    ([0.5, -0.1, 0.6], {}, "contains either `inf`, `nan` or element < 0"),
    ([0.5, np.inf], {}, "contains either `inf`, `nan` or element < 0"),
    ([0.5, np.nan], {}, "contains either `inf`, `nan` or element < 0"),
    ([[0.5, 0.5], [0.0, 0.0]], {}, r"sum of probabilities <= 0\) in row 1"),
    ([0.5, 0.0, 0.5], {"num_samples": 3}, "cannot draw 3 samples without replacement from row 0, which has only 2"),
    ([0.5, 0.5], {"num_samples": 0}, "num_samples=0"),
])
def test_multinomial_refuses_invalid_distributions(probs, kw, match):
    """Negative probabilities used to be sampled from."""
    with pytest.raises(RuntimeError, match=rf"multinomial: .*{match}"):
        lamina.multinomial(lamina.tensor(probs, dtype=lamina.float64), kw.get("num_samples", 1))


def test_multinomial_samples_as_torch():
    lamina.manual_seed(0)
    p = lamina.tensor([[0.2, 0.0, 0.8], [1.0, 1.0, 0.0]])
    drawn = lamina.multinomial(p, 2)  # without replacement: both non-zero categories, once each
    assert drawn.dtype == lamina.int64 and drawn.shape == (2, 2)
    assert sorted(drawn.numpy()[0]) == [0, 2] and sorted(drawn.numpy()[1]) == [0, 1]
    many = lamina.multinomial(lamina.tensor([0.25, 0.0, 0.75]), 4000, replacement=True).numpy()
    assert 1 not in many and abs((many == 2).mean() - 0.75) < 0.03


# ---- convolution and pooling geometry --------------------------------------------------------------------
X2, W2, X1, W1 = lamina.randn(1, 2, 8, 8), lamina.randn(3, 2, 3, 3), lamina.randn(1, 2, 8), lamina.randn(3, 2, 3)
GEOMETRY = {
    "conv2d": lambda **kw: F.conv2d(X2, W2, **kw),
    "conv1d": lambda **kw: F.conv1d(X1, W1, **kw),
    "conv_transpose2d": lambda **kw: F.conv_transpose2d(X2, W2.transpose(0, 1), **kw),
    "conv_transpose1d": lambda **kw: F.conv_transpose1d(X1, W1.transpose(0, 1), **kw),
    "max_pool2d": lambda **kw: F.max_pool2d(X2, 2, **kw),
    "max_pool1d": lambda **kw: F.max_pool1d(X1, 2, **kw),
    "avg_pool2d": lambda **kw: F.avg_pool2d(X2, 2, **kw),
    "avg_pool1d": lambda **kw: F.avg_pool1d(X1, 2, **kw),
    "Conv2d": lambda **kw: nn.Conv2d(2, 3, 3, **kw)(X2),
    "Conv1d": lambda **kw: nn.Conv1d(2, 3, 3, **kw)(X1),
    "ConvTranspose2d": lambda **kw: nn.ConvTranspose2d(2, 3, 3, **kw)(X2),
    "MaxPool2d": lambda **kw: nn.MaxPool2d(2, **kw)(X2),
    "AvgPool2d": lambda **kw: nn.AvgPool2d(2, **kw)(X2),
    "AvgPool1d": lambda **kw: nn.AvgPool1d(2, **kw)(X1),
}
LAYER_OPS = {"MaxPool2d": "max_pool2d", "AvgPool2d": "avg_pool2d", "AvgPool1d": "avg_pool1d"}  # checked by their op


@pytest.mark.parametrize("name", list(GEOMETRY))
def test_stride_zero(name):
    """Used to be a ZeroDivisionError."""
    with pytest.raises(RuntimeError, match=rf"^{LAYER_OPS.get(name, name)}: stride must be positive, got "):
        GEOMETRY[name](stride=0)


@pytest.mark.parametrize("name", list(GEOMETRY))
def test_negative_padding(name):
    """Used to be NumPy's "negative dimensions are not allowed" (or, with padding_mode='reflect', a crop)."""
    with pytest.raises(RuntimeError, match=rf"^{LAYER_OPS.get(name, name)}: padding must be non-negative, got "):
        GEOMETRY[name](padding=-1)


def test_conv_layer_checks_at_construction():
    with pytest.raises(RuntimeError, match=r"Conv2d: padding must be non-negative, got -1"):
        nn.Conv2d(2, 3, 3, padding=-1, padding_mode="reflect")
    with pytest.raises(RuntimeError, match=r"Conv1d: dilation must be positive, got 0"):
        nn.Conv1d(2, 3, 3, dilation=0)
    with pytest.raises(TypeError, match=r"Conv2d: stride must be an int or a tuple of 2 ints, got 1.5"):
        nn.Conv2d(2, 3, 3, stride=1.5)


# ---- optimisers ----------------------------------------------------------------------------------------
HYPER = [("SGD", "lr"), ("SGD", "momentum"), ("SGD", "dampening"), ("SGD", "weight_decay"), ("Adam", "lr"),
         ("Adam", "eps"), ("Adam", "weight_decay"), ("AdamW", "lr"), ("AdamW", "weight_decay"), ("RMSprop", "lr"),
         ("RMSprop", "alpha"), ("RMSprop", "eps"), ("RMSprop", "momentum"), ("Adagrad", "lr"), ("Adagrad", "lr_decay"),
         ("Adagrad", "eps"), ("Adagrad", "initial_accumulator_value")]


@pytest.mark.parametrize("opt, key", HYPER)
def test_optimizer_numbers_must_be_numbers(opt, key):
    """SGD(lr="0.1") used to fail inside a comparison with "'<' not supported between 'str' and 'int'"."""
    with pytest.raises(TypeError, match=rf"^{opt}: {key} must be a number, got str '0.1'$"):
        getattr(optim, opt)(params(), **{key: "0.1"})
    if key != "dampening":
        with pytest.raises(ValueError, match=rf"^{opt}: {key} must be a finite number >= 0, got -1"):
            getattr(optim, opt)(params(), **{key: -1.0})
    with pytest.raises(ValueError, match=rf"^{opt}: {key} must be a finite number.*, got nan"):
        getattr(optim, opt)(params(), **{key: float("nan")})
    with pytest.raises(TypeError, match=rf"^{opt}: parameter group 1: {key} must be a number, got str"):
        getattr(optim, opt)([{"params": params()[:1]}, {"params": params()[1:], key: "x"}])


@pytest.mark.parametrize("betas, error, match", [
    ("0.9", TypeError, r"betas must be a pair of numbers \(beta1, beta2\), got '0.9'"),
    ((0.9,), TypeError, r"betas must be a pair of numbers"),
    ((0.9, "0.99"), TypeError, r"betas\[1\] must be a number, got str '0.99'"),
    ((0.9, 1.0), ValueError, r"betas must be in \[0, 1\), got \(0.9, 1.0\)"),
    ((-0.1, 0.9), ValueError, r"betas\[0\] must be a finite number >= 0, got -0.1"),
])
def test_adam_betas(betas, error, match):
    with pytest.raises(error, match=rf"^Adam: {match}"):
        optim.Adam(params(), betas=betas)


def test_param_group_without_params():
    with pytest.raises(KeyError) as e:
        optim.SGD([{"params": params()[:1]}, {"lr": 0.1}], lr=0.1)
    assert str(e.value) == ("SGD: parameter group 1 has no 'params' entry (its keys: ['lr']); "
                            "expected {'params': [tensors], ...options}")
    with pytest.raises(TypeError, match="SGD: a parameter group must be a dict, got list"):
        optim.SGD(params(), lr=0.1).add_param_group([lamina.zeros(1, requires_grad=True)])


def state_dicts():
    model = nn.Linear(2, 3)
    opt = optim.Adam(model.parameters(), lr=0.1)
    return model, opt, lr_scheduler.StepLR(opt, step_size=2)


@pytest.mark.parametrize("given", ["module", "scheduler", "list"])
def test_optimizer_loads_only_an_optimizers_state_dict(given):
    """A module's state dict used to fail with KeyError: 'param_groups'."""
    model, opt, sched = state_dicts()
    sd = {"module": model.state_dict(), "scheduler": sched.state_dict(), "list": [1, 2]}[given]
    what = {"module": r"a module's state dict \(tensors by name\) with keys 'weight', 'bias'",
            "scheduler": r"a learning-rate scheduler's state dict with keys 'step_size'", "list": "list"}[given]
    with pytest.raises(KeyError if given != "list" else TypeError) as e:
        opt.load_state_dict(sd)
    assert e.match(rf"^Adam.load_state_dict: expected an optimizer's state dict \(a dict with 'state' and "
                   rf"'param_groups'\), got {what}")


@pytest.mark.parametrize("given", ["optimizer", "scheduler", "checkpoint"])
def test_module_loads_only_a_modules_state_dict(given):
    model, opt, sched = state_dicts()
    sd = {"optimizer": opt.state_dict(), "scheduler": sched.state_dict(),
          "checkpoint": {"model": model.state_dict(), "epoch": 3}}[given]
    hint = {"optimizer": r"\(this is an optimizer's state dict, not a module's\)",
            "scheduler": r"\(this is a learning-rate scheduler's state dict, not a module's\)",
            "checkpoint": r"the values of \['model'\] are dicts: pass the model's one, e\.g\. ckpt\['model'\]"}[given]
    with pytest.raises(RuntimeError, match=rf"^load_state_dict for Linear: missing keys: weight, bias \| "
                                           rf"unexpected keys: .*{hint}"):
        model.load_state_dict(sd)
    with pytest.raises(TypeError, match="load_state_dict for Linear: expected a dict of tensors by name, got list"):
        model.load_state_dict([1])


@pytest.mark.parametrize("given", ["optimizer", "module", "other scheduler"])
def test_scheduler_loads_only_its_own_kind_of_state_dict(given):
    """Used to merge any dict into the scheduler's attributes without a word."""
    model, opt, sched = state_dicts()
    sd = {"optimizer": opt.state_dict(), "module": model.state_dict(),
          "other scheduler": lr_scheduler.CosineAnnealingLR(opt, T_max=5).state_dict()}[given]
    what = {"optimizer": "an optimizer's state dict", "module": "a dict",
            "other scheduler": "another scheduler's state dict"}[given]
    with pytest.raises(KeyError) as e:
        sched.load_state_dict(sd)
    assert e.match(rf"^StepLR.load_state_dict: got {what}: missing keys \[.*'step_size'")
    assert sched.step_size == 2


def test_optimizer_state_of_another_model():
    """Adam's state for a Linear(2, 3) loaded into a Linear(4, 3) used to fail at the next step
    with NumPy's "operands could not be broadcast together"."""
    small, big = nn.Linear(2, 3), nn.Linear(4, 3)
    opt = optim.Adam(small.parameters(), lr=0.1)
    small(lamina.randn(5, 2)).sum().backward()
    opt.step()
    other = optim.Adam(big.parameters(), lr=0.1)
    with pytest.raises(ValueError, match=r"^Adam.load_state_dict: state 'exp_avg' of parameter 0 \(group 0\) has shape "
                                         r"\(3, 2\), but the parameter has shape \(3, 4\)"):
        other.load_state_dict(opt.state_dict())
    assert other.state == {}  # nothing was half loaded


# ---- learning-rate schedulers --------------------------------------------------------------------------
def sgd():
    return optim.SGD(params(), lr=0.1, momentum=0.9)


@pytest.mark.parametrize("make, error, match", [
    (lambda o: lr_scheduler.StepLR(o, step_size=0), ValueError, "StepLR: step_size must be an integer >= 1, got 0"),
    (lambda o: lr_scheduler.StepLR(o, step_size=2.5), TypeError, "StepLR: step_size must be an integer, got float 2.5"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, T_max=0), ValueError,
     "CosineAnnealingLR: T_max must be an integer >= 1, got 0"),
    (lambda o: lr_scheduler.MultiStepLR(o, milestones=[3, -1]), ValueError,
     "MultiStepLR: each milestone must be an integer >= 0, got -1"),
    (lambda o: lr_scheduler.MultiStepLR(o, milestones=[2.5]), TypeError,
     "MultiStepLR: each milestone must be an integer"),
    (lambda o: lr_scheduler.LinearLR(o, total_iters=0), ValueError,
     "LinearLR: total_iters must be an integer >= 1, got 0"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=0), ValueError,
     "OneCycleLR: total_steps must be an integer >= 1, got 0"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, epochs=2, steps_per_epoch=0), ValueError,
     "OneCycleLR: steps_per_epoch must be an integer >= 1, got 0"),
    (lambda o: lr_scheduler.SequentialLR(o, [lr_scheduler.StepLR(o, 2), lr_scheduler.StepLR(o, 3),
                                             lr_scheduler.StepLR(o, 4)], milestones=[5, 2]),
     ValueError, r"SequentialLR: milestones must be in increasing order, got \[5, 2\]"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, patience=-1), ValueError,
     "ReduceLROnPlateau: patience must be an integer >= 0, got -1"),
])
def test_scheduler_counts(make, error, match):
    """StepLR(step_size=0) and CosineAnnealingLR(T_max=0) used to raise ZeroDivisionError at the first step."""
    with pytest.raises(error, match=f"^{match}"):
        make(sgd())


@pytest.mark.parametrize("make, match", [
    (lambda o: lr_scheduler.ExponentialLR(o, gamma=-1), "ExponentialLR: gamma must be a finite number >= 0, got -1"),
    (lambda o: lr_scheduler.StepLR(o, 2, gamma=float("nan")), "StepLR: gamma must be a finite number >= 0, got nan"),
    (lambda o: lr_scheduler.MultiStepLR(o, [2], gamma=-0.5), "MultiStepLR: gamma must be a finite number >= 0"),
    (lambda o: lr_scheduler.CosineAnnealingLR(o, 5, eta_min=-0.1), "CosineAnnealingLR: eta_min must be a finite"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=-1.0, total_steps=5), "OneCycleLR: max_lr must be a finite number >= 0"),
    (lambda o: lr_scheduler.OneCycleLR(o, max_lr=1.0, total_steps=5, div_factor=0), "OneCycleLR: div_factor must be"),
    (lambda o: lr_scheduler.ReduceLROnPlateau(o, factor=-0.5), r"ReduceLROnPlateau: factor must be a finite number "
                                                              r">= 0 and < 1, got -0.5"),
])
def test_scheduler_factors(make, match):
    """ExponentialLR(gamma=-1) used to set a negative lr, past SGD's own lr >= 0 check."""
    with pytest.raises(ValueError, match=f"^{match}"):
        make(sgd())


@pytest.mark.parametrize("cls", [lr_scheduler.LambdaLR, lr_scheduler.MultiplicativeLR])
def test_scheduler_lambda_returns_a_non_number(cls):
    o = sgd()
    sched = cls(o, lambda epoch: "0.5" if epoch >= 2 else 1.0)
    sched.step()
    with pytest.raises(TypeError, match=rf"^{cls.__name__}: lr_lambda of parameter group 0 returned str '0.5' at "
                                        r"epoch 2; expected a number$"):
        sched.step()
    with pytest.raises(TypeError, match=rf"^{cls.__name__}: lr_lambda of parameter group 0 must be a function of the "
                                        r"epoch, got float 0.5"):
        cls(sgd(), 0.5)


def test_scheduler_lambda_negative_lr():
    o = sgd()
    sched = lr_scheduler.LambdaLR(o, lambda epoch: 1.0 - epoch)
    with pytest.raises(ValueError, match=r"^LambdaLR: the schedule gives parameter group 0 an lr of -0.1 at epoch 2; "
                                         r"an lr must be a finite number >= 0"):
        sched.step()
        sched.step()
    assert o.param_groups[0]["lr"] == 0.0  # the invalid lr was not applied


# ---- checkpoints ---------------------------------------------------------------------------------------
def craft(path, header, data=b""):
    raw = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(raw)) + raw + data)
    return path


@pytest.mark.parametrize("header, data, match", [
    ({"w": {"dtype": 32, "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8, "tensor 'w' has unknown dtype '32'; known: F16"),
    ({"w": {"dtype": ["F32"], "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8, "tensor 'w' has unknown dtype"),
    ({"w": {"dtype": "Q8", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 8, "tensor 'w' has unknown dtype 'Q8'"),
    ({"w": {"dtype": "F32", "shape": [-2], "data_offsets": [0, 8]}}, b"\0" * 8,
     r"tensor 'w' has a malformed header entry .* \(expected dtype, a shape of non-negative ints"),
    ({"w": {"dtype": "F32", "shape": [True, 2], "data_offsets": [0, 8]}}, b"\0" * 8, "tensor 'w' has a malformed"),
    ({"w": {"dtype": "F32", "shape": [10 ** 12, 10 ** 12], "data_offsets": [0, 8]}}, b"\0" * 8,
     r"tensor 'w' of dtype F32 and shape \[1000000000000, 1000000000000\] needs 4000000000000000000000000 bytes, "
     r"its offsets span 8"),
    ({"w": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]}}, b"\0" * 4, "header says 8 bytes of tensor data, "
                                                                              "file has 4"),
])
def test_crafted_header_entries(tmp_path, header, data, match):
    path = craft(tmp_path / "evil.safetensors", header, data)
    with pytest.raises(ValueError, match=f"^lamina.load: {path} is truncated or corrupt: {match}"):
        lamina.load(path)


def test_crafted_deep_header(tmp_path):
    """Used to raise an uncaught RecursionError from json."""
    path = tmp_path / "deep.safetensors"
    raw = b"[" * 100_000 + b"]" * 100_000
    path.write_bytes(struct.pack("<Q", len(raw)) + raw)
    with pytest.raises(ValueError, match=f"^lamina.load: {path} is truncated or corrupt: the header is nested too deeply"):
        lamina.load(path)
    deep = "[" * 100_000 + "]" * 100_000  # valid outer header, deep lamina metadata inside
    craft(path, {"__metadata__": {"format": "lamina", "lamina": deep}})
    with pytest.raises(ValueError, match=f"^lamina.load: {path} .*lamina metadata is nested too deeply"):
        lamina.load(path)


def test_crafted_header_length(tmp_path):
    path = tmp_path / "short.safetensors"
    path.write_bytes(struct.pack("<Q", 1000) + b'{"a": 1}')
    with pytest.raises(ValueError, match=f"^lamina.load: {path} is truncated or corrupt: header says it is 1000 bytes, "
                                         "file has 8 after the length field"):
        lamina.load(path)


def test_save_into_a_missing_folder(tmp_path):
    """Used to name the temporary file (.ckpt.safetensors.x1y2z3.tmp) instead of the path asked for."""
    path = tmp_path / "no" / "such" / "ckpt.safetensors"
    with pytest.raises(FileNotFoundError) as e:
        lamina.save({"w": lamina.ones(2)}, path)
    assert str(e.value) == (f"[Errno 2] lamina.save: can't write into {path.parent} (the folder does not exist): "
                            f"'{path}'")
    assert e.value.filename == str(path) and ".tmp" not in str(e.value)


@pytest.mark.parametrize("metric", ["low", [0.5, 0.4], lamina.tensor([0.5, 0.4])])
def test_reduce_lr_on_plateau_takes_one_number(metric):
    sched = lr_scheduler.ReduceLROnPlateau(sgd())
    with pytest.raises(TypeError, match="^ReduceLROnPlateau.step: metrics must be one number"):
        sched.step(metric)
    sched.step(lamina.tensor(0.5))  # a 0-d tensor is one number
