"""Convolution, pooling and resampling layers against PyTorch's, weights copied by state_dict key,
forward and gradients (input, weight, bias) in float64; the functional forms through check_op."""
import math

import numpy as np
import pytest
import torch

import lamina
from helpers import check_op
from lamina.ops import conv_fft, conv_winograd

pytestmark = pytest.mark.filterwarnings("ignore:.*(padding='same'|upsample_bilinear|deprecated).*:UserWarning")


def compare_layer(make, x_shape, seed=0, x=None, forward=lambda mod, x: mod(x), atol=1e-10):
    """Build `make(m)` in lamina and torch with torch's weights, compare output and every gradient."""
    rng = np.random.default_rng(seed)
    torch.manual_seed(seed)
    tmod, lmod = make(torch).double(), make(lamina).double()
    lmod.load_state_dict({k: v.detach().numpy() for k, v in tmod.state_dict().items()})
    assert list(lmod.state_dict()) == list(tmod.state_dict())
    x = rng.standard_normal(x_shape) if x is None else x
    tx, lx = torch.tensor(x, requires_grad=True), lamina.tensor(x, requires_grad=True)
    to, lo = forward(tmod, tx), forward(lmod, lx)
    if isinstance(to, tuple):  # (values, indices)
        np.testing.assert_array_equal(lo[1].numpy(), to[1].numpy())
        to, lo = to[0], lo[0]
    assert lo.shape == tuple(to.shape)
    np.testing.assert_allclose(lo.detach().numpy(), to.detach().numpy(), atol=atol, rtol=1e-9)
    g = rng.standard_normal(tuple(to.shape))
    to.backward(torch.tensor(g))
    lo.backward(lamina.tensor(g))
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), atol=atol, rtol=1e-9, err_msg="input grad")
    lparams = dict(lmod.named_parameters())
    for name, p in tmod.named_parameters():
        np.testing.assert_allclose(lparams[name].grad.numpy(), p.grad.numpy(), atol=atol, rtol=1e-9,
                                   err_msg=f"grad of {name}")


# ---- convolution layers --------------------------------------------------------------------------
CONV2D = [  # in, out, kernel, stride, padding, dilation, groups, bias
    (3, 4, 3, 1, 0, 1, 1, True),
    (3, 4, 3, 2, 1, 1, 1, False),
    (4, 6, (3, 2), (2, 1), (1, 2), 1, 2, True),
    (4, 4, 3, 1, "same", 2, 4, True),  # depthwise, dilated
    (4, 8, 3, 2, 1, 1, 4, False),  # depthwise with a channel multiplier
    (3, 5, 4, 1, "same", 1, 1, True),  # even kernel: uneven 'same' padding
    (2, 3, 1, 1, "valid", 1, 1, True),
    (3, 2, 5, 3, 2, (2, 1), 1, True),
    (6, 6, (1, 3), (1, 2), (0, 1), (1, 3), 3, True),
]


@pytest.fixture(params=["im2col", "flat", "fft", "winograd"])
def conv_path(request, monkeypatch):
    """Run a test through each conv2d algorithm wherever it applies: im2col always; its flat
    forward at stride 1; the frequency domain and Winograd at stride 1 with no dilation and one
    group, for 3x3 and up and for 3x3. FFT_GAIN 0 never picks the frequency domain, an
    infinite one always does."""
    monkeypatch.setattr(lamina.ops.conv, "FLAT_COLS_BYTES", math.inf if request.param == "flat" else 0)
    monkeypatch.setattr(conv_fft, "FFT_GAIN", math.inf if request.param == "fft" else 0.0)
    monkeypatch.setattr(conv_fft, "MIN_FLOPS", 0)
    monkeypatch.setattr(conv_winograd, "ENABLED", request.param == "winograd")
    monkeypatch.setattr(conv_winograd, "MIN_FLOPS", 0)
    monkeypatch.setattr(conv_winograd, "MIN_CHANNELS", 1)
    monkeypatch.setattr(conv_winograd, "MIN_PIXELS", 0)
    return request.param


@pytest.mark.parametrize("cin,cout,k,s,p,d,g,bias", CONV2D)
def test_conv2d(cin, cout, k, s, p, d, g, bias, conv_path):
    compare_layer(lambda m: m.nn.Conv2d(cin, cout, k, s, p, d, g, bias), (2, cin, 9, 10))


def test_conv2d_one_image_with_bias(conv_path):
    """Batch 1 adds the bias by broadcasting rather than through a spread row."""
    compare_layer(lambda m: m.nn.Conv2d(4, 6, 3, padding=1), (1, 4, 9, 10))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
def test_conv2d_padding_modes(mode, conv_path):
    compare_layer(lambda m: m.nn.Conv2d(2, 3, 3, padding=(1, 2), padding_mode=mode), (2, 2, 6, 7))


CONV1D = [(3, 4, 3, 1, 0, 1, 1, True), (4, 6, 3, 2, 1, 1, 2, False), (4, 4, 5, 1, "same", 2, 4, True),
          (2, 3, 4, 1, "same", 1, 1, True), (2, 2, 3, 3, 2, 2, 1, True)]


@pytest.mark.parametrize("cin,cout,k,s,p,d,g,bias", CONV1D)
def test_conv1d(cin, cout, k, s, p, d, g, bias):
    compare_layer(lambda m: m.nn.Conv1d(cin, cout, k, s, p, d, g, bias), (3, cin, 13))


CONVT2D = [  # in, out, kernel, stride, padding, output_padding, groups, bias, dilation
    (4, 6, 3, 1, 0, 0, 1, True, 1),
    (4, 6, 3, 2, 1, 1, 1, True, 1),
    (4, 6, (3, 2), (3, 2), (1, 0), (2, 1), 2, False, 1),
    (4, 4, 3, 2, 1, 1, 4, True, 2),  # depthwise, dilated
    (2, 3, 2, 2, 0, 0, 1, True, 1),  # the U-Net upsampler
    (3, 2, 4, 1, 2, 0, 1, True, (1, 2)),
]


@pytest.mark.parametrize("cin,cout,k,s,p,op,g,bias,d", CONVT2D)
def test_conv_transpose2d(cin, cout, k, s, p, op, g, bias, d):
    compare_layer(lambda m: m.nn.ConvTranspose2d(cin, cout, k, s, p, op, g, bias, d), (2, cin, 5, 6))


def test_conv_transpose2d_output_size():
    compare_layer(lambda m: m.nn.ConvTranspose2d(3, 2, 3, stride=2, padding=1), (2, 3, 5, 6),
                  forward=lambda mod, x: mod(x, output_size=[10, 12]))


def test_conv_transpose1d():
    compare_layer(lambda m: m.nn.ConvTranspose1d(4, 6, 3, stride=2, padding=1, output_padding=1, groups=2),
                  (2, 4, 7))


def test_unbatched_input():
    compare_layer(lambda m: m.nn.Conv2d(3, 4, 3, padding=1), (3, 6, 5))
    compare_layer(lambda m: m.nn.MaxPool2d(2), (3, 6, 5))


def test_default_init_and_shapes():
    lamina.manual_seed(0)
    conv = lamina.nn.Conv2d(16, 32, 3, groups=2)
    assert conv.weight.shape == (32, 8, 3, 3) and conv.bias.shape == (32,)
    bound = 1 / math.sqrt(8 * 9)
    w = conv.weight.detach().numpy()
    assert np.abs(w).max() <= bound and np.abs(w).max() > 0.9 * bound
    assert abs(w.std() - bound / math.sqrt(3)) < 0.05 * bound  # the std of U(-b, b)
    assert np.abs(conv.bias.detach().numpy()).max() <= bound
    convt = lamina.nn.ConvTranspose2d(16, 32, 3, groups=2)
    assert convt.weight.shape == (16, 16, 3, 3)
    assert np.abs(convt.weight.detach().numpy()).max() <= 1 / math.sqrt(16 * 9)
    assert conv.weight.dtype == lamina.float32


def test_reprs_match_torch():
    makers = [
        lambda m: m.nn.Conv2d(3, 4, 3, padding="same", bias=False, padding_mode="reflect"),
        lambda m: m.nn.Conv2d(4, 8, (3, 1), 2, 1, 2, 4),
        lambda m: m.nn.ConvTranspose2d(4, 6, 3, 2, 1, 1),
        lambda m: m.nn.Conv1d(2, 4, 3, dilation=2),
        lambda m: m.nn.MaxPool2d(2), lambda m: m.nn.MaxPool1d(3, 2, 1),
        lambda m: m.nn.AvgPool2d(3, 2, 1), lambda m: m.nn.AvgPool1d(2),
        lambda m: m.nn.AdaptiveAvgPool2d((3, 4)), lambda m: m.nn.AdaptiveMaxPool2d(3),
        lambda m: m.nn.AdaptiveAvgPool1d(5),
        lambda m: m.nn.Upsample(scale_factor=2), lambda m: m.nn.Upsample(size=(3, 4), mode="bilinear"),
    ]
    for make in makers:
        assert repr(make(lamina)) == repr(make(torch))


def test_clear_errors():
    conv = lamina.nn.Conv2d(3, 6, 5)
    with pytest.raises(RuntimeError, match=r"Conv2d: expected input with 3 channels \(shape \(N, 3, H, W\)\), "
                                           r"got shape \(8, 1, 28, 28\)"):
        conv(lamina.zeros(8, 1, 28, 28))
    with pytest.raises(RuntimeError, match=r"Conv2d: expected a 4-D input .* got shape \(28, 28\)"):
        conv(lamina.zeros(28, 28))
    with pytest.raises(RuntimeError, match=r"Conv1d: expected input with 2 channels"):
        lamina.nn.Conv1d(2, 4, 3)(lamina.zeros(1, 3, 10))
    with pytest.raises(RuntimeError, match=r"MaxPool2d: expected a 4-D input"):
        lamina.nn.MaxPool2d(2)(lamina.zeros(2, 3, 4, 5, 6))
    with pytest.raises(ValueError, match="groups"):
        lamina.nn.Conv2d(3, 6, 3, groups=2)
    with pytest.raises(RuntimeError, match=r"conv2d: padded input of size \(2, 2\) is smaller"):
        lamina.nn.Conv2d(1, 1, 3)(lamina.zeros(1, 1, 2, 2))
    with pytest.raises(RuntimeError, match="max_pool2d: input of shape"):
        lamina.nn.MaxPool2d(4)(lamina.zeros(1, 1, 3, 3))
    with pytest.raises(ValueError, match="padding='same' is not supported for strided"):
        lamina.nn.Conv2d(1, 1, 3, stride=2, padding="same")


# ---- pooling layers -------------------------------------------------------------------------------
MAXPOOL2D = [  # kernel, stride, padding, dilation, ceil_mode
    (2, None, 0, 1, False), (3, 2, 1, 1, False), (3, 1, 1, 1, False), (2, 2, 0, 1, True), (3, 2, 1, 1, True),
    ((3, 2), (2, 1), (1, 0), (2, 1), False), (2, 3, 1, 1, True),
]


@pytest.mark.parametrize("k,s,p,d,ceil", MAXPOOL2D)
def test_max_pool2d(k, s, p, d, ceil):
    compare_layer(lambda m: m.nn.MaxPool2d(k, s, p, d, ceil_mode=ceil), (2, 3, 9, 11))
    compare_layer(lambda m: m.nn.MaxPool2d(k, s, p, d, return_indices=True, ceil_mode=ceil), (1, 2, 9, 11))


def test_max_pool2d_ties_go_to_the_first():
    x = np.maximum(np.random.default_rng(1).standard_normal((2, 3, 8, 8)), 0.0)  # many all-zero windows
    x[0, 0, :2, :2] = 1.0
    compare_layer(lambda m: m.nn.MaxPool2d(2), None, x=x)
    compare_layer(lambda m: m.nn.MaxPool2d(3, 1, 1), None, x=x)


@pytest.mark.parametrize("k,s,p,d,ceil", [(2, None, 0, 1, False), (3, 2, 1, 1, True), (3, 1, 1, 2, False)])
def test_max_pool1d(k, s, p, d, ceil):
    compare_layer(lambda m: m.nn.MaxPool1d(k, s, p, d, return_indices=True, ceil_mode=ceil), (2, 3, 12))


AVGPOOL2D = [  # kernel, stride, padding, ceil_mode, count_include_pad, divisor_override
    (2, None, 0, False, True, None), (3, 2, 1, False, True, None), (3, 2, 1, False, False, None),
    (3, 2, 1, True, True, None), (3, 2, 1, True, False, None), ((3, 2), (1, 2), (1, 1), False, True, None),
    (2, 3, 1, True, True, None), (3, 2, 0, False, True, 5),
]


@pytest.mark.parametrize("k,s,p,ceil,cip,div", AVGPOOL2D)
def test_avg_pool2d(k, s, p, ceil, cip, div):
    compare_layer(lambda m: m.nn.AvgPool2d(k, s, p, ceil, cip, div), (2, 3, 9, 10))


@pytest.mark.parametrize("k,s,p,ceil,cip", [(2, None, 0, False, True), (3, 2, 1, True, False), (4, 3, 2, True, True)])
def test_avg_pool1d(k, s, p, ceil, cip):
    compare_layer(lambda m: m.nn.AvgPool1d(k, s, p, ceil, cip), (2, 3, 11))


@pytest.mark.parametrize("size", [(3, 4), (4, 7), 1, (9, 10), (None, 3), (12, 13)])
def test_adaptive_avg_pool2d(size):
    compare_layer(lambda m: m.nn.AdaptiveAvgPool2d(size), (2, 3, 9, 10))


@pytest.mark.parametrize("size", [(3, 4), (4, 7), (3, 5), 1, (12, 13)])
def test_adaptive_max_pool2d(size):
    compare_layer(lambda m: m.nn.AdaptiveMaxPool2d(size), (2, 3, 9, 10))
    compare_layer(lambda m: m.nn.AdaptiveMaxPool2d(size, return_indices=True), (1, 2, 9, 10))


@pytest.mark.parametrize("size", [4, 3, 7])
def test_adaptive_pool1d(size):
    compare_layer(lambda m: m.nn.AdaptiveAvgPool1d(size), (2, 3, 10))
    compare_layer(lambda m: m.nn.AdaptiveMaxPool1d(size, return_indices=True), (2, 3, 10))


UPSAMPLE = [
    dict(scale_factor=2), dict(size=(5, 7)), dict(scale_factor=1.5), dict(scale_factor=(0.5, 2.7)),
    dict(scale_factor=2, mode="bilinear"), dict(scale_factor=2, mode="bilinear", align_corners=True),
    dict(size=(5, 13), mode="bilinear"), dict(size=(5, 13), mode="bilinear", align_corners=True),
    dict(scale_factor=(0.6, 1.7), mode="bilinear"), dict(size=(1, 1), mode="bilinear", align_corners=True),
]


@pytest.mark.parametrize("kw", UPSAMPLE, ids=str)
def test_upsample(kw):
    compare_layer(lambda m: m.nn.Upsample(**kw), (2, 3, 6, 7))


def test_upsample_1d():
    compare_layer(lambda m: m.nn.Upsample(scale_factor=3, mode="linear"), (2, 3, 5))
    compare_layer(lambda m: m.nn.Upsample(size=8, mode="nearest"), (2, 3, 5))


# ---- the functional forms through the op checker (float64 and float32, finite differences) ------
def F(m):
    return m.nn.functional


FUNCTIONAL = {
    "conv2d": (lambda m, x, w, b: F(m).conv2d(x, w, b, stride=2, padding=1), [(2, 3, 5, 5), (4, 3, 3, 3), (4,)]),
    "conv2d_groups": (lambda m, x, w: F(m).conv2d(x, w, None, 1, "same", 2, 2), [(1, 4, 5, 6), (4, 2, 2, 3)]),
    "conv1d": (lambda m, x, w, b: F(m).conv1d(x, w, b, 2, 1, 1, 1), [(2, 3, 7), (2, 3, 3), (2,)]),
    "conv_transpose2d": (lambda m, x, w, b: F(m).conv_transpose2d(x, w, b, 2, 1, 1), [(1, 3, 3, 4), (3, 2, 3, 3), (2,)]),
    "max_pool2d": (lambda m, x: F(m).max_pool2d(x, 3, 2, 1), [(2, 2, 5, 6)]),
    "max_pool1d": (lambda m, x: F(m).max_pool1d(x, 2), [(2, 2, 6)]),
    "avg_pool2d": (lambda m, x: F(m).avg_pool2d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False), [(2, 2, 6, 5)]),
    "avg_pool1d": (lambda m, x: F(m).avg_pool1d(x, 3, 2, 1), [(2, 2, 6)]),
    "adaptive_avg_pool2d": (lambda m, x: F(m).adaptive_avg_pool2d(x, (2, 3)), [(2, 2, 5, 7)]),
    "adaptive_avg_pool1d": (lambda m, x: F(m).adaptive_avg_pool1d(x, 3), [(2, 2, 7)]),
    "adaptive_max_pool2d": (lambda m, x: F(m).adaptive_max_pool2d(x, (2, 3)), [(2, 2, 5, 7)]),
    "interpolate_nearest": (lambda m, x: F(m).interpolate(x, scale_factor=2), [(1, 2, 3, 4)]),
    "interpolate_bilinear": (lambda m, x: F(m).interpolate(x, size=(5, 3), mode="bilinear"), [(1, 2, 3, 4)]),
}


@pytest.mark.parametrize("name", list(FUNCTIONAL))
def test_functional(name):
    fn, shapes = FUNCTIONAL[name]
    check_op(fn, shapes)


def test_every_function_is_tested():
    from lamina.ops import conv, pool
    tested = {n.split("_groups")[0].split("_nearest")[0].split("_bilinear")[0] for n in FUNCTIONAL}
    covered_by_layers = {"conv_transpose1d", "adaptive_max_pool1d", "upsample", "upsample_nearest", "upsample_bilinear"}
    missing = set(conv.__all__ + pool.__all__) - tested - covered_by_layers
    assert not missing, f"functions without a check: {sorted(missing)}"
    for n in conv.__all__ + pool.__all__:
        assert hasattr(lamina.nn.functional, n), f"lamina.nn.functional.{n} is missing"


def test_upsample_aliases():
    x = lamina.randn(1, 2, 3, 4)
    np.testing.assert_allclose(F(lamina).upsample_bilinear(x, scale_factor=2).numpy(),
                               torch.nn.functional.upsample_bilinear(torch.tensor(x.numpy()), scale_factor=2).numpy(),
                               rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("shape,k,p", [((32, 16, 14, 14), 5, 2), ((16, 32, 14, 14), 3, 1), ((8, 16, 9, 11), 3, (0, 2)),
                                       ((4, 8, 11, 9), 5, (2, 0)), ((2, 4, 8, 8), 3, 0)])
def test_conv_float32_gradients_match_torch(shape, k, p, conv_path):
    """Each algorithm in the dtype that trains: output and all three gradients, with output
    sizes that are not a multiple of Winograd's 4x4 tile."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    w = (rng.standard_normal((2 * shape[1], shape[1], k, k)) / k / math.sqrt(shape[1])).astype(np.float32)
    b = rng.standard_normal(2 * shape[1]).astype(np.float32)
    lx, lw, lb = (lamina.tensor(a, requires_grad=True) for a in (x, w, b))
    tx, tw, tb = (torch.tensor(a, requires_grad=True) for a in (x, w, b))
    ly, ty = F(lamina).conv2d(lx, lw, lb, padding=p), F(torch).conv2d(tx, tw, tb, padding=p)
    g = rng.standard_normal(tuple(ty.shape)).astype(np.float32)
    (ly * lamina.tensor(g)).sum().backward()
    ty.backward(torch.tensor(g))
    for got, want in ((ly, ty), (lx.grad, tx.grad), (lw.grad, tw.grad), (lb.grad, tb.grad)):
        got, want = got.detach().numpy(), want.detach().numpy()
        assert got.dtype == np.float32
        np.testing.assert_allclose(got, want, rtol=0, atol=2e-5 * np.abs(want).max())


@pytest.mark.parametrize("N,C,H,W,O,k,p,d,g", [(2, 4, 9, 11, 6, 3, 1, 1, 1), (2, 4, 20, 20, 6, 3, 2, 2, 2),
                                               (1, 3, 28, 30, 4, 5, 2, 1, 1), (2, 6, 16, 16, 6, 3, 1, 1, 6)])
def test_conv2d_input_grad_row_layout_matches_torch(N, C, H, W, O, k, p, d, g, conv_path):
    """Stride-1 convs whose padded rows are at most 1.2x the output rows take the flat-shift col2im."""
    rng = np.random.default_rng(0)
    x, w = rng.standard_normal((N, C, H, W)), rng.standard_normal((O, C // g, k, k))
    lx, lw = lamina.tensor(x, requires_grad=True), lamina.tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=True), torch.tensor(w, requires_grad=True)
    ly = lamina.nn.functional.conv2d(lx, lw, None, 1, p, d, g)
    ty = torch.nn.functional.conv2d(tx, tw, None, 1, p, d, g)
    gg = rng.standard_normal(tuple(ty.shape))
    (ly * lamina.tensor(gg)).sum().backward()
    ty.backward(torch.tensor(gg))
    np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-12)
    np.testing.assert_allclose(lw.grad.numpy(), tw.grad.numpy(), rtol=1e-10, atol=1e-12)


def test_fft_conv_is_picked_where_it_saves_flops(monkeypatch):
    monkeypatch.setattr(conv_winograd, "ENABLED", False)
    # mnist-cnn's second conv (16 -> 32, 5x5 on 14x14) is 3x cheaper in the frequency domain;
    # its first (one input channel) is not, nor is the second at batch 1, nor anything strided,
    # dilated or grouped
    pads, x = (2, 2, 2, 2), np.empty((128, 16, 14, 14), np.float32)
    assert conv_fft.use_fft(x, (32, 16, 5, 5), (1, 1), (1, 1), 1, pads)
    assert not conv_fft.use_fft(np.empty((128, 1, 28, 28), np.float32), (16, 1, 5, 5), (1, 1), (1, 1), 1, pads)
    assert not conv_fft.use_fft(x, (32, 16, 5, 5), (2, 2), (1, 1), 1, pads)
    assert not conv_fft.use_fft(x, (32, 8, 5, 5), (1, 1), (1, 1), 2, pads)
    assert not conv_fft.use_fft(x, (32, 16, 1, 1), (1, 1), (1, 1), 1, (0, 0, 0, 0))
    assert not conv_fft.use_fft(x[:1], (32, 16, 5, 5), (1, 1), (1, 1), 1, pads)
    assert not conv_fft.use_fft(x.astype(np.float16), (32, 16, 5, 5), (1, 1), (1, 1), 1, pads)


@pytest.mark.parametrize("input_grad", [True, False])
@pytest.mark.parametrize("cin,cout,k,p,bias", [(2, 4, 5, 2, False), (1, 8, 3, 1, True), (2, 4, 3, 0, True)])
def test_conv2d_per_image_gemm(cin, cout, k, p, bias, input_grad):
    """Outputs of PER_IMAGE_GEMM pixels and up take a GEMM per image; with no input gradient
    (a first layer) the weight gradient does too, against the output gradient as it comes.
    With one input channel the columns are small enough to be kept for backward."""
    rng = np.random.default_rng(0)
    x = rng.standard_normal((3, cin, 26, 25))
    w, b = rng.standard_normal((cout, cin, k, k)), rng.standard_normal(cout) if bias else None
    lx, lw = lamina.tensor(x, requires_grad=input_grad), lamina.tensor(w, requires_grad=True)
    tx, tw = torch.tensor(x, requires_grad=input_grad), torch.tensor(w, requires_grad=True)
    lb, tb = (None, None) if b is None else (lamina.tensor(b, requires_grad=True), torch.tensor(b, requires_grad=True))
    ly, ty = F(lamina).conv2d(lx, lw, lb, padding=p), F(torch).conv2d(tx, tw, tb, padding=p)
    assert ly.shape[2] * ly.shape[3] >= lamina.ops.conv.PER_IMAGE_GEMM
    g = rng.standard_normal(tuple(ty.shape))
    (ly * lamina.tensor(g)).sum().backward()
    ty.backward(torch.tensor(g))
    np.testing.assert_allclose(ly.detach().numpy(), ty.detach().numpy(), rtol=1e-10, atol=1e-10)
    np.testing.assert_allclose(lw.grad.numpy(), tw.grad.numpy(), rtol=1e-10, atol=1e-10)
    if input_grad:
        np.testing.assert_allclose(lx.grad.numpy(), tx.grad.numpy(), rtol=1e-10, atol=1e-10)
    if b is not None:
        np.testing.assert_allclose(lb.grad.numpy(), tb.grad.numpy(), rtol=1e-10, atol=1e-10)


def test_winograd_is_picked_for_stride_1_3x3_only():
    x = np.empty((64, 32, 28, 28), np.float32)
    assert conv_winograd.use_winograd(x, (64, 32, 3, 3), (1, 1), (1, 1), 1)
    assert not conv_winograd.use_winograd(x, (64, 32, 5, 5), (1, 1), (1, 1), 1)
    assert not conv_winograd.use_winograd(x, (64, 32, 3, 3), (2, 2), (1, 1), 1)
    assert not conv_winograd.use_winograd(x, (64, 32, 3, 3), (1, 1), (2, 2), 1)
    assert not conv_winograd.use_winograd(x, (64, 16, 3, 3), (1, 1), (1, 1), 2)
    assert not conv_winograd.use_winograd(x[:1, :4, :8, :8], (8, 4, 3, 3), (1, 1), (1, 1), 1)  # too small
    assert not conv_winograd.use_winograd(x[:, :3], (16, 3, 3, 3), (1, 1), (1, 1), 1)  # an RGB stem
    # an 8x8 image goes to the frequency domain, which measured faster there
    assert not conv_winograd.use_winograd(x[:, :, :8, :8], (64, 32, 3, 3), (1, 1), (1, 1), 1)
    assert conv_fft.use_fft(x[:, :, :8, :8], (64, 32, 3, 3), (1, 1), (1, 1), 1, (1, 1, 1, 1))


def test_max_pool2d_nan_windows_match_torch():
    """A window holding NaN pools to NaN and sends its gradient (and its index) to its last NaN,
    as torch's scan does; ties elsewhere still go to the first maximum."""
    x = np.array([[[[1.0, np.nan, 3.0, 3.0], [0.0, 2.0, 3.0, 1.0],
                    [5.0, 5.0, np.nan, np.nan], [5.0, 1.0, 0.0, 2.0]]]])
    g = np.arange(1.0, 5.0).reshape(1, 1, 2, 2)
    lx, tx = lamina.tensor(x, requires_grad=True), torch.tensor(x, requires_grad=True)
    lo, to = F(lamina).max_pool2d(lx, 2), F(torch).max_pool2d(tx, 2)
    np.testing.assert_array_equal(lo.detach().numpy(), to.detach().numpy())
    (lo * lamina.tensor(g)).sum().backward()
    to.backward(torch.tensor(g))
    np.testing.assert_array_equal(lx.grad.numpy(), tx.grad.numpy())
    _, li = F(lamina).max_pool2d(lx, 2, return_indices=True)
    _, ti = F(torch).max_pool2d(tx, 2, return_indices=True)
    np.testing.assert_array_equal(li.numpy(), ti.numpy())


@pytest.mark.parametrize("cin,cout,k,s,p,d", [(8, 8, 3, 1, 1, 1), (3, 5, 5, 2, 2, 1), (4, 6, 3, 1, 2, 2)])
@pytest.mark.parametrize("per_image", [False, True])
def test_conv2d_threads_change_only_rounding_and_repeat_exactly(cin, cout, k, s, p, d, per_image, conv_path,
                                                               monkeypatch):
    """A convolution cut over threads (lamina.backend.parallel: the batch in parts, memory passes
    and per-image GEMMs in row blocks) agrees with one thread up to rounding (the parts' GEMMs
    have other shapes, and the weight and bias gradients are the parts' sums), with and without
    an input gradient (a first layer has none); and the same thread count repeats bit for bit,
    which resuming a run exactly relies on."""
    from lamina import backend
    if per_image:
        monkeypatch.setattr(lamina.ops.conv, "PER_IMAGE_GEMM", 0)
    rng = np.random.default_rng(0)
    x = rng.standard_normal((5, cin, 11, 12)).astype(np.float32)
    conv = lamina.nn.Conv2d(cin, cout, k, s, p, d)
    results = []
    for threads in (1, 3, 3):
        monkeypatch.setattr(backend, "THREADS", threads)
        lx = lamina.tensor(x, requires_grad=not per_image)
        conv.zero_grad()
        y = conv(lx)
        (y * y).sum().backward()
        results.append([y.detach().numpy(), conv.weight.grad.numpy(), conv.bias.grad.numpy()] + ([] if per_image else [lx.grad.numpy()]))
    for one, three, again in zip(*results):
        np.testing.assert_allclose(three, one, rtol=1e-5, atol=1e-5 * np.abs(one).max())
        assert np.array_equal(three, again)


def test_conv_transpose2d_in_parts_agrees_with_one_thread_and_repeats_exactly(monkeypatch):
    """ConvTranspose2d takes the same batch parts as Conv2d (conv._InParts)."""
    from lamina import backend
    rng = np.random.default_rng(1)
    x = rng.standard_normal((5, 6, 7, 8)).astype(np.float32)
    convt = lamina.nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1)
    results = []
    for threads in (1, 3, 3):
        monkeypatch.setattr(backend, "THREADS", threads)
        lx = lamina.tensor(x, requires_grad=True)
        convt.zero_grad()
        y = convt(lx)
        assert len(y._ctx.parts) == min(threads, backend.blas_threads())  # the batch really was cut
        (y * y).sum().backward()
        results.append([y.detach().numpy(), lx.grad.numpy(), convt.weight.grad.numpy(), convt.bias.grad.numpy()])
    for one, three, again in zip(*results):
        np.testing.assert_allclose(three, one, rtol=1e-5, atol=1e-5 * np.abs(one).max())
        assert np.array_equal(three, again)


def test_empty_rows_keeps_rows_an_odd_number_of_cache_lines_apart():
    from lamina import backend
    cases = ((100352, np.float32), (1024, np.float32), (7, np.float32), (512, np.float64), (9, np.complex64))
    for cols, dtype in cases:
        m = backend.empty_rows(np, 36, cols, dtype)
        assert m.shape == (36, cols) and m.dtype == dtype
        assert m.strides[1] == m.itemsize and m.strides[0] % 64 == 0 and (m.strides[0] // 64) % 2 == 1
        assert np.shares_memory(m.reshape(6, 6, -1), m)  # the conv paths reshape it as views


@pytest.mark.parametrize("shape,k", [((4, 8, 12, 12), 3), ((4, 8, 10, 10), 5), ((4, 8, 12, 12), 1)])
def test_conv2d_padded_gemm_rows_change_nothing(shape, k, conv_path, monkeypatch):
    """Forward and gradients are the same bits whether the GEMM matrices' rows are padded
    (backend.empty_rows) or plain."""
    from lamina import backend
    rng = np.random.default_rng(0)
    x = rng.standard_normal(shape).astype(np.float32)
    conv = lamina.nn.Conv2d(shape[1], 2 * shape[1], k, padding=k // 2)
    results = []
    for min_bytes in (0, math.inf):
        monkeypatch.setattr(backend, "EMPTY_ROWS_MIN_BYTES", min_bytes)
        lx = lamina.tensor(x, requires_grad=True)
        conv.zero_grad()
        y = conv(lx)
        (y * y).sum().backward()
        results.append([y.detach().numpy(), conv.weight.grad.numpy(), conv.bias.grad.numpy(), lx.grad.numpy()])
    for a, b in zip(*results):
        assert np.array_equal(a, b)
