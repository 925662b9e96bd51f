"""Spatial layers (3-D conv and pooling, unpooling, pixel shuffle, fold/unfold, padding,
instance norm) against PyTorch with weights copied by state_dict key, in float64; interpolate
over its modes and ranks; pad over every mode, negative widths and its errors."""
import numpy as np
import pytest
import torch

import lamina
import lamina.nn as nn
import lamina.nn.functional as F

torch.set_num_threads(1)


def compare(make, shape, seed=0, train=True, steps=1, x=None, call=None, atol=1e-10):
    """make(m) builds the layer in lamina.nn or torch.nn; torch's state is copied into lamina's;
    forward, input grad, parameter grads, state_dict keys and buffers must agree (float64)."""
    rng = np.random.default_rng(seed)
    lam, tmod = make(nn), make(torch.nn)
    tmod.double()
    lam.double()
    lam.load_state_dict({k: v.detach().numpy() for k, v in tmod.state_dict().items()})
    lam.train(train)
    tmod.train(train)
    call = call or (lambda mod, m, x: mod(x))
    for _ in range(steps):
        xs = x if x is not None else rng.standard_normal(shape)
        lx, tx = lamina.tensor(xs, requires_grad=True), torch.tensor(xs, requires_grad=True)
        lo, to = call(lam, lamina, lx), call(tmod, torch, tx)
        assert lo.shape == tuple(to.shape)
        np.testing.assert_allclose(lo.detach().numpy(), to.detach().numpy(), atol=atol, rtol=1e-9, err_msg="forward")
        g = rng.standard_normal(tuple(to.shape))
        to.backward(torch.tensor(g))
        (lo * lamina.tensor(g)).sum().backward()
        np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), atol=atol, rtol=1e-9, err_msg="input grad")
    tparams = dict(tmod.named_parameters())
    for name, p in lam.named_parameters():
        np.testing.assert_allclose(p.grad.numpy(), tparams[name].grad.numpy(), atol=atol, rtol=1e-9, err_msg=name)
    tstate = tmod.state_dict()
    assert list(lam.state_dict()) == list(tstate)
    for name, b in lam.named_buffers():
        np.testing.assert_allclose(b.numpy(), tstate[name].numpy(), atol=atol, rtol=1e-9, err_msg=f"buffer {name}")
    return lam, tmod


def unpool(nd, **kw):
    def call(mod, m, x):
        y, i = getattr(m.nn.functional, f"max_pool{nd}d")(x, 2, return_indices=True)
        return mod(y, i, **kw)
    return call


LAYERS = {  # name: (make(nn), input shape, options)
    "Conv3d": (lambda n: n.Conv3d(3, 4, 3), (2, 3, 5, 6, 4), {}),
    "Conv3d-full": (lambda n: n.Conv3d(4, 6, (2, 3, 1), stride=(1, 2, 2), padding=(1, 0, 2), dilation=(2, 1, 1),
                                       groups=2, bias=False), (2, 4, 5, 6, 7), {}),
    "Conv3d-same": (lambda n: n.Conv3d(2, 3, (2, 3, 4), padding="same"), (1, 2, 4, 5, 6), {}),
    "Conv3d-reflect": (lambda n: n.Conv3d(2, 3, 3, padding=1, padding_mode="reflect"), (1, 2, 4, 5, 6), {}),
    "Conv3d-circular": (lambda n: n.Conv3d(2, 3, 3, padding=(1, 2, 1), padding_mode="circular"), (2, 4, 5, 6), {}),
    "ConvTranspose3d": (lambda n: n.ConvTranspose3d(3, 4, 3), (2, 3, 3, 4, 2), {}),
    "ConvTranspose3d-full": (lambda n: n.ConvTranspose3d(4, 6, (2, 3, 2), stride=(2, 1, 3), padding=(1, 1, 0),
                                                         output_padding=(1, 0, 2), groups=2, dilation=(1, 2, 1)),
                             (2, 4, 3, 4, 2), {}),
    "ConvTranspose3d-output_size": (lambda n: n.ConvTranspose3d(2, 3, 3, stride=2), (1, 2, 3, 3, 2),
                                    dict(call=lambda mod, m, x: mod(x, output_size=(8, 7, 6)))),
    "MaxPool3d": (lambda n: n.MaxPool3d(2), (2, 3, 4, 6, 5), {}),
    "MaxPool3d-full": (lambda n: n.MaxPool3d((3, 2, 2), stride=(2, 1, 2), padding=1, dilation=(1, 2, 1),
                                             ceil_mode=True), (2, 3, 5, 6, 7), {}),
    "AvgPool3d": (lambda n: n.AvgPool3d(2), (2, 3, 4, 6, 5), {}),
    "AvgPool3d-full": (lambda n: n.AvgPool3d(3, stride=2, padding=1, ceil_mode=True, count_include_pad=False),
                       (2, 3, 5, 6, 7), {}),
    "AvgPool3d-divisor": (lambda n: n.AvgPool3d(2, stride=1, divisor_override=5), (3, 4, 5, 3), {}),
    "AdaptiveAvgPool3d": (lambda n: n.AdaptiveAvgPool3d((2, 3, 1)), (2, 3, 5, 6, 7), {}),
    "MaxUnpool1d": (lambda n: n.MaxUnpool1d(2), (2, 3, 8), dict(call=unpool(1))),
    "MaxUnpool1d-size": (lambda n: n.MaxUnpool1d(2), (2, 3, 9), dict(call=unpool(1, output_size=(9,)))),
    "MaxUnpool2d": (lambda n: n.MaxUnpool2d(2), (2, 3, 4, 6), dict(call=unpool(2))),
    "MaxUnpool2d-size": (lambda n: n.MaxUnpool2d(2, stride=2), (2, 3, 5, 7),
                         dict(call=unpool(2, output_size=(2, 3, 5, 7)))),
    "MaxUnpool3d": (lambda n: n.MaxUnpool3d(2), (2, 2, 4, 4, 2), dict(call=unpool(3))),
    "PixelShuffle": (lambda n: n.PixelShuffle(3), (2, 18, 3, 4), {}),
    "PixelUnshuffle": (lambda n: n.PixelUnshuffle(2), (2, 3, 4, 6), {}),
    "Unfold": (lambda n: n.Unfold((2, 3), dilation=(2, 1), padding=1, stride=(1, 2)), (2, 3, 5, 6), {}),
    "Fold": (lambda n: n.Fold((5, 6), (2, 3), padding=1, stride=(1, 2)), (2, 12, 18), {}),
    "InstanceNorm1d": (lambda n: n.InstanceNorm1d(3), (4, 3, 7), {}),
    "InstanceNorm1d-unbatched": (lambda n: n.InstanceNorm1d(3, affine=True), (3, 7), {}),
    "InstanceNorm2d-affine": (lambda n: n.InstanceNorm2d(3, affine=True), (2, 3, 4, 5), {}),
    "InstanceNorm2d-track": (lambda n: n.InstanceNorm2d(3, affine=True, track_running_stats=True, momentum=0.3),
                             (2, 3, 4, 5), dict(steps=3)),
    "InstanceNorm2d-track-eval": (lambda n: n.InstanceNorm2d(3, track_running_stats=True), (2, 3, 4, 5),
                                  dict(train=False)),
    "InstanceNorm2d-cumulative": (lambda n: n.InstanceNorm2d(3, track_running_stats=True, momentum=None),
                                  (2, 3, 4, 5), dict(steps=2)),
    "InstanceNorm3d": (lambda n: n.InstanceNorm3d(2, affine=True, eps=1e-3), (2, 2, 3, 4, 5), {}),
    "Upsample-trilinear": (lambda n: n.Upsample(scale_factor=(2, 1.5, 0.5), mode="trilinear"), (1, 2, 3, 4, 6), {}),
    "Upsample-nearest3d": (lambda n: n.Upsample(size=(5, 3, 7)), (1, 2, 3, 4, 6), {}),
    "Upsample-bicubic": (lambda n: n.Upsample(scale_factor=2, mode="bicubic", align_corners=True), (1, 2, 3, 4), {}),
}
for _n, _mode in ((1, "reflect"), (2, "reflect"), (3, "reflect"), (1, "replicate"), (2, "replicate"), (3, "replicate"),
                  (1, "circular"), (2, "circular"), (3, "circular")):
    _name = {"reflect": "ReflectionPad", "replicate": "ReplicationPad", "circular": "CircularPad"}[_mode] + f"{_n}d"
    _shape = (2, 3, 4, 5, 6)[:_n + 2]
    LAYERS[_name] = (lambda n, _c=_name: getattr(n, _c)(2), _shape, {})
    LAYERS[_name + "-tuple"] = (lambda n, _c=_name, _k=_n: getattr(n, _c)((1, 3, 0, 2, 2, 1)[:2 * _k]), _shape, {})
    LAYERS[_name + "-negative"] = (lambda n, _c=_name, _k=_n: getattr(n, _c)((-1, 2, 2, -1, 1, -2)[:2 * _k]), _shape, {})
for _n in (1, 2, 3):
    LAYERS[f"ZeroPad{_n}d"] = (lambda n, _k=_n: getattr(n, f"ZeroPad{_k}d")((1, 2, -1, 0, 2, 1)[:2 * _k]),
                               (2, 3, 4, 5, 6)[:_n + 2], {})
    LAYERS[f"ConstantPad{_n}d"] = (lambda n, _k=_n: getattr(n, f"ConstantPad{_k}d")(2, 3.5), (2, 3, 4, 5, 6)[:_n + 2], {})


@pytest.mark.parametrize("name", LAYERS)
def test_layer(name):
    make, shape, opts = LAYERS[name]
    compare(make, shape, **opts)


def test_every_layer_is_tested():
    from lamina.nn.layers import spatial

    tested = {n.split("-")[0] for n in LAYERS}
    missing = sorted(set(spatial.__all__) - tested)
    assert not missing, f"spatial layers without a test: {missing}"
    for name in spatial.__all__ + ["InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]:
        assert hasattr(torch.nn, name), name


def test_init_is_torch_like():
    """kaiming_uniform_(a=sqrt(5)): weights and bias within 1/sqrt(fan_in), fan_in = C/groups * prod(k)."""
    lamina.manual_seed(0)
    for conv, fan_in in ((nn.Conv3d(4, 6, (2, 3, 1), groups=2), 2 * 6), (nn.ConvTranspose3d(4, 6, 2, groups=2), 3 * 8)):
        bound = 1 / np.sqrt(fan_in)
        for p in (conv.weight, conv.bias):
            a = p.detach().numpy()
            assert np.abs(a).max() <= bound and np.abs(a).max() > 0.7 * bound
    assert nn.ConvTranspose3d(4, 6, 2, groups=2).weight.shape == (4, 3, 2, 2, 2)
    assert nn.InstanceNorm2d(3).weight is None and list(nn.InstanceNorm2d(3).state_dict()) == []


def test_layer_errors():
    with pytest.raises(RuntimeError, match="Conv3d: expected a 5-D input"):
        nn.Conv3d(2, 3, 3)(lamina.randn(2, 4, 4))
    with pytest.raises(RuntimeError, match="Conv3d: expected input with 2 channels"):
        nn.Conv3d(2, 3, 3)(lamina.randn(1, 3, 4, 4, 4))
    with pytest.raises(ValueError, match="InstanceNorm2d: expected 3D .* or 4D input"):
        nn.InstanceNorm2d(3)(lamina.randn(2, 3))
    with pytest.raises(ValueError, match="ReflectionPad2d: padding must be an int or 4 ints"):
        nn.ReflectionPad2d((1, 2))
    with pytest.raises(RuntimeError, match="ReflectionPad2d: expected a 3-D or 4-D input"):
        nn.ReflectionPad2d(1)(lamina.randn(2, 3, 4, 5, 6))


# ---- interpolate ----------------------------------------------------------------------------
def _modes(nd):
    return ["nearest", "nearest-exact", "area", ["linear", "bilinear", "trilinear"][nd - 1]] + \
        (["bicubic"] if nd == 2 else [])


SIZES = [dict(size=5), dict(scale_factor=1.7), dict(scale_factor=0.6), dict(scale_factor=2.3, recompute_scale_factor=True)]
INTERP = [(shape, mode, kw, ac) for shape in ((2, 3, 5), (2, 3, 4, 6), (1, 2, 3, 4, 5)) for mode in _modes(len(shape) - 2)
          for kw in SIZES for ac in ((None,) if mode in ("nearest", "nearest-exact", "area") else (False, True))]


@pytest.mark.parametrize("shape,mode,kw,ac", INTERP)
def test_interpolate(shape, mode, kw, ac):
    rng = np.random.default_rng(1)
    x = rng.standard_normal(shape)
    lx, tx = lamina.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lo = F.interpolate(lx, mode=mode, align_corners=ac, **kw)
    to = torch.nn.functional.interpolate(tx, mode=mode, align_corners=ac, **kw)
    assert lo.shape == tuple(to.shape)
    np.testing.assert_allclose(lo.detach().numpy(), to.detach().numpy(), rtol=1e-9, atol=1e-12)
    g = rng.standard_normal(lo.shape)
    to.backward(torch.tensor(g))
    (lo * lamina.tensor(g)).sum().backward()
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-9, atol=1e-12)


@pytest.mark.parametrize("shape", [(2, 3, 7, 9), (1, 6, 5, 8)])
@pytest.mark.parametrize("ac", [False, True])
def test_interpolate_uint8(shape, ac):
    """uint8 images: bilinear as PyTorch computes it, in fixed point (bit for bit); nearest exactly."""
    x = np.random.default_rng(2).integers(0, 256, shape).astype(np.uint8)
    for kw in (dict(size=(11, 5)), dict(size=(14, 18)), dict(scale_factor=1.7), dict(size=(3, 20))):
        lo = F.interpolate(lamina.tensor(x), mode="bilinear", align_corners=ac, **kw)
        to = torch.nn.functional.interpolate(torch.tensor(x), mode="bilinear", align_corners=ac, **kw)
        assert lo.dtype == lamina.uint8
        np.testing.assert_array_equal(lo.numpy(), to.numpy())
    for mode in ("nearest", "nearest-exact"):
        lo = F.interpolate(lamina.tensor(x), size=(9, 4), mode=mode)
        np.testing.assert_array_equal(lo.numpy(), torch.nn.functional.interpolate(torch.tensor(x), size=(9, 4),
                                                                                   mode=mode).numpy())


def test_interpolate_errors():
    x = lamina.randn(1, 2, 3, 4)
    with pytest.raises(NotImplementedError, match="interpolate: mode 'trilinear' is not supported for a 4-D"):
        F.interpolate(x, scale_factor=2, mode="trilinear")
    with pytest.raises(ValueError, match="interpolate: align_corners only has an effect"):
        F.interpolate(x, scale_factor=2, mode="area", align_corners=True)
    with pytest.raises(NotImplementedError, match="interpolate: uint8 input"):
        F.interpolate(lamina.zeros(1, 1, 3, 3, dtype=lamina.uint8), scale_factor=2, mode="bicubic")


# ---- pad ------------------------------------------------------------------------------------
PADS = [(1, 2), (-1, 3), (2, -1), (-2, -1), (3, -3), (0, 0), (1, 2, 3, 0), (-1, 2, 2, -2), (0, -1, -2, 3),
        (1, 2, 0, 1, 2, 1), (-1, 1, 2, -2, 1, -1), (2, 0, -1, 3, 0, -2)]


@pytest.mark.parametrize("mode", ["constant", "reflect", "replicate", "circular"])
@pytest.mark.parametrize("pad", PADS)
def test_pad(mode, pad):
    """Every mode on 1, 2 and 3 padded dims, negative widths (cropping) included, value and gradient."""
    shape = (2, 4, 4, 5, 6)[:2 + len(pad) // 2]
    x = np.random.default_rng(3).standard_normal(shape)
    lx, tx = lamina.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    kw = dict(value=1.5) if mode == "constant" else {}
    pairs = list(zip(pad[::2], pad[1::2], reversed(shape)))
    if mode == "circular" and any(max(lo, hi) > n + min(lo, 0) + min(hi, 0) for lo, hi, n in pairs):
        # a pad wider than the cropped dim: torch fails inside or returns uninitialised memory
        with pytest.raises(RuntimeError, match="pad: circular padding .* would wrap around more than once"):
            F.pad(lx, pad, mode=mode, **kw)
        return
    lo, to = F.pad(lx, pad, mode=mode, **kw), torch.nn.functional.pad(tx, pad, mode=mode, **kw)
    assert lo.shape == tuple(to.shape)
    np.testing.assert_allclose(lo.detach().numpy(), to.detach().numpy())
    g = np.random.default_rng(4).standard_normal(lo.shape)
    to.backward(torch.tensor(g))
    (lo * lamina.tensor(g)).sum().backward()
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-12, atol=1e-12)


def test_pad_constant_any_rank_and_dtype():
    x = np.arange(24).reshape(2, 3, 4)
    for pad in ((1, 1), (1, 0, 2, 1, 0, 1), (-1, 0, 0, 0, 1, 0)):
        np.testing.assert_array_equal(F.pad(lamina.tensor(x), pad, value=7).numpy(),
                                      torch.nn.functional.pad(torch.tensor(x), pad, value=7).numpy())


def test_pad_errors():
    x = lamina.randn(1, 2, 4)
    with pytest.raises(RuntimeError, match=r"pad: reflect padding \(4, 0\) of dim 2 must be smaller than its size 4"):
        F.pad(x, (4, 0), mode="reflect")
    with pytest.raises(RuntimeError, match="pad: circular padding .* larger than its size 4 .* more than once"):
        F.pad(x, (0, 5), mode="circular")
    F.pad(x, (4, 4), mode="circular")  # wrapping once is fine, as in torch
    with pytest.raises(RuntimeError, match="pad: dim 2 of size 4 with padding .* negative size"):
        F.pad(x, (-3, -2))
    with pytest.raises(RuntimeError, match="pad: pad .* must have an even length"):
        F.pad(x, (1, 2, 3))
    with pytest.raises(NotImplementedError, match="pad: mode must be"):
        F.pad(x, (1, 1), mode="wrap")


# ---- the functional ops' edge cases and errors ----------------------------------------------
def test_max_pool3d_nan_and_inf_windows():
    """NaN wins its window (the last NaN), an all -inf window gives its first cell inside the input."""
    x = np.random.default_rng(5).standard_normal((1, 2, 4, 4, 4))
    x[0, 0, 0, 0, 0] = x[0, 0, 0, 1, 1] = np.nan
    x[0, 1, :2, :2, :2] = -np.inf
    lx, tx = lamina.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    (ly, li), (ty, ti) = (F.max_pool3d(lx, 2, padding=1, return_indices=True),
                          torch.nn.functional.max_pool3d(tx, 2, padding=1, return_indices=True))
    np.testing.assert_array_equal(li.numpy(), ti.numpy())
    np.testing.assert_array_equal(ly.detach().numpy(), ty.detach().numpy())
    ly.sum().backward()
    ty.sum().backward()
    np.testing.assert_array_equal(lx.grad.numpy(), tx.grad.numpy())


def test_fold_inverts_unfold_up_to_counts():
    x = lamina.randn(2, 3, 5, 6)
    cols = F.unfold(x, 3, padding=1)
    counts = F.fold(F.unfold(lamina.ones(1, 1, 5, 6), 3, padding=1), (5, 6), 3, padding=1)
    np.testing.assert_allclose((F.fold(cols, (5, 6), 3, padding=1) / counts).numpy(), x.numpy(), rtol=1e-6)


def test_affine_grid_identity_samples_the_image():
    img = lamina.randn(2, 3, 5, 7)
    theta = lamina.tensor(np.tile(np.array([[1.0, 0, 0], [0, 1, 0]], dtype=np.float32), (2, 1, 1)))
    for ac in (False, True):
        out = F.grid_sample(img, F.affine_grid(theta, img.shape, align_corners=ac), align_corners=ac)
        np.testing.assert_allclose(out.numpy(), img.numpy(), atol=1e-5)


ERRORS = [
    (lambda: F.unfold(lamina.randn(1, 2, 3, 3), 4), RuntimeError, "unfold: input of shape .* sliding blocks"),
    (lambda: F.unfold(lamina.randn(2, 3), 2), RuntimeError, "unfold: expected a 3-D"),
    (lambda: F.fold(lamina.randn(1, 10, 4), (3, 3), 2), RuntimeError, "fold: expected size of dim 1 .* divisible"),
    (lambda: F.fold(lamina.randn(1, 8, 5), (3, 3), 2), RuntimeError,
     r"fold: output_size .* sliding blocks \(4\), but the input of shape \(1, 8, 5\) has 5"),
    (lambda: F.conv3d(lamina.randn(1, 3, 4, 4, 4), lamina.randn(2, 2, 1, 1, 1)), RuntimeError,
     "conv3d: weight of shape .* expects 2 input channels"),
    (lambda: F.conv3d(lamina.randn(1, 2, 2, 4, 4), lamina.randn(2, 2, 3, 3, 3)), RuntimeError,
     "conv3d: padded input .* smaller than the dilated kernel"),
    (lambda: F.conv3d(lamina.randn(1, 2, 4, 4, 4), lamina.randn(2, 2, 3, 3, 3), stride=2, padding="same"),
     ValueError, "conv3d: padding='same' is not supported for strided"),
    (lambda: F.conv_transpose3d(lamina.randn(1, 2, 2, 2, 2), lamina.randn(2, 2, 2, 2, 2), stride=2,
                                output_padding=2), ValueError, "conv_transpose3d: output_padding"),
    (lambda: F.max_pool3d(lamina.randn(1, 1, 4, 4, 4), 2, padding=2), RuntimeError,
     "max_pool3d: padding .* at most half of the kernel"),
    (lambda: F.avg_pool3d(lamina.randn(1, 1, 2, 4, 4), 3), RuntimeError, "avg_pool3d: input of shape .* too small"),
    (lambda: F.max_pool3d(lamina.randn(4, 4), 2), RuntimeError, r"max_pool3d: expected a 4-D \(C, \*spatial\)"),
    (lambda: F.max_unpool2d(lamina.randn(1, 1, 2, 2), lamina.zeros(1, 1, 2, 2, dtype=lamina.int64) + 16, 2),
     RuntimeError, "max_unpool2d: found an invalid max index 16"),
    (lambda: F.max_unpool2d(lamina.randn(1, 1, 2, 2), lamina.zeros(1, 1, 2, 2, dtype=lamina.int64), 2,
                            output_size=(7, 4)), ValueError, r"max_unpool2d: output_size \(7, 4\) must lie between"),
    (lambda: F.max_unpool1d(lamina.randn(1, 1, 2), lamina.zeros(1, 1, 3, dtype=lamina.int64), 2), RuntimeError,
     "max_unpool1d: indices of shape"),
    (lambda: F.pixel_shuffle(lamina.randn(1, 6, 2, 2), 2), RuntimeError, "pixel_shuffle: channels 6 .* not divisible"),
    (lambda: F.pixel_unshuffle(lamina.randn(1, 1, 3, 4), 2), RuntimeError, "pixel_unshuffle: height 3 and width 4"),
    (lambda: F.grid_sample(lamina.randn(1, 1, 3, 3), lamina.randn(1, 2, 2, 3)), RuntimeError,
     "grid_sample: expected a grid of shape"),
    (lambda: F.grid_sample(lamina.randn(1, 1, 3, 3), lamina.randn(1, 2, 2, 2), mode="bicubic"), NotImplementedError,
     "grid_sample: mode must be"),
    (lambda: F.grid_sample(lamina.randn(1, 1, 3, 3), lamina.randn(1, 2, 2, 2), padding_mode="wrap"), ValueError,
     "grid_sample: padding_mode must be"),
    (lambda: F.affine_grid(lamina.randn(2, 2, 3), (1, 1, 4, 4)), ValueError,
     r"affine_grid: expected a batch of 2-D affine matrices of shape \(1, 2, 3\)"),
    (lambda: F.instance_norm(lamina.randn(2, 3, 1)), ValueError, "instance_norm: expected more than 1 spatial"),
    (lambda: F.instance_norm(lamina.randn(2, 3, 4), weight=lamina.ones(4)), RuntimeError,
     r"instance_norm: weight has shape \(4,\), expected \(3,\)"),
]


@pytest.mark.parametrize("i", range(len(ERRORS)))
def test_errors(i):
    fn, kind, message = ERRORS[i]
    with pytest.raises(kind, match=message):
        fn()


@pytest.mark.parametrize("shape,mode", [((2, 3, 5), "linear"), ((2, 3, 4, 6), "bicubic"), ((1, 2, 3, 4, 5), "trilinear"),
                                        ((2, 3, 4, 6), "area"), ((1, 2, 3, 4, 5), "nearest-exact")])
def test_interpolate_float32(shape, mode):
    x = np.random.default_rng(6).standard_normal(shape).astype(np.float32)
    lo = F.interpolate(lamina.tensor(x), scale_factor=1.5, mode=mode)
    to = torch.nn.functional.interpolate(torch.tensor(x), scale_factor=1.5, mode=mode)
    assert lo.dtype == lamina.float32
    np.testing.assert_allclose(lo.numpy(), to.numpy(), rtol=1e-5, atol=1e-6)
