"""Transforms on PIL images, HWC arrays and CHW tensors: shapes, values, flips, seeding."""
import numpy as np
import pytest

import lamina
from lamina.data import transforms as T

Image = pytest.importorskip("PIL.Image")


def img(h=6, w=8, c=3):
    return (np.arange(h * w * c) * 7 % 256).astype(np.uint8).reshape(h, w, c)


def gen(seed=0):
    return lamina.Generator().manual_seed(seed)


def test_to_tensor():
    a = img()
    t = T.ToTensor()(a)
    assert isinstance(t, lamina.Tensor) and t.shape == (3, 6, 8) and t.dtype == lamina.float32
    np.testing.assert_allclose(t.numpy(), a.transpose(2, 0, 1) / 255.0, rtol=1e-6)
    assert T.ToTensor()(Image.fromarray(a)).numpy().tolist() == t.numpy().tolist()
    g = T.ToTensor()(a[:, :, 0])
    assert g.shape == (1, 6, 8)
    assert T.to_tensor(Image.fromarray(a[:, :, 0], "L")).shape == (1, 6, 8)
    f = T.ToTensor()(np.ones((2, 2, 1), np.float32) * 3)  # non-uint8: not rescaled, like torchvision
    assert f.numpy().max() == 3
    with pytest.raises(TypeError):
        T.ToTensor()(lamina.zeros(3, 2, 2))


def test_normalize():
    t = T.ToTensor()(img())
    n = T.Normalize((0.5, 0.4, 0.3), (0.2, 0.2, 0.1))(t)
    expected = (t.numpy() - np.array([0.5, 0.4, 0.3], np.float32)[:, None, None]) / np.array([0.2, 0.2, 0.1], np.float32)[:, None, None]
    np.testing.assert_allclose(n.numpy(), expected, rtol=1e-6)
    assert n.dtype == lamina.float32
    with pytest.raises(ValueError, match="zero"):
        T.Normalize((0.5,), (0.0,))(t)
    with pytest.raises(TypeError):
        T.Normalize((0.5,), (1.0,))(img())


def test_resize_matches_pillow_and_keeps_kind():
    a = img(6, 8)
    pil = T.Resize(3)(Image.fromarray(a))  # shorter side -> 3
    assert pil.size == (4, 3)
    ref = np.asarray(Image.fromarray(a).resize((4, 3), Image.Resampling.BILINEAR))
    assert np.array_equal(np.asarray(pil), ref)
    arr = T.Resize(3)(a)
    assert arr.shape == (3, 4, 3) and arr.dtype == np.uint8 and np.abs(arr.astype(int) - ref).max() <= 1
    t = T.Resize((12, 5))(T.ToTensor()(a))
    assert t.shape == (3, 12, 5) and t.dtype == lamina.float32
    assert T.Resize(10, max_size=12)(a).shape[:2] == (9, 12)
    tall = np.zeros((10, 4), np.uint8)
    assert T.Resize(2)(tall).shape == (5, 2)


def test_center_crop():
    a = img(6, 8)
    c = T.CenterCrop(4)(a)
    assert np.array_equal(c, a[1:5, 2:6])
    assert np.array_equal(np.asarray(T.CenterCrop(4)(Image.fromarray(a))), c)
    t = T.CenterCrop((2, 3))(T.ToTensor()(a))
    np.testing.assert_allclose(t.numpy(), a[2:4, 2:5].transpose(2, 0, 1) / 255.0, rtol=1e-6)
    big = T.CenterCrop(10)(a)  # larger than the image: zero padded around it
    assert big.shape == (10, 10, 3) and big[0].sum() == 0 and np.array_equal(big[2:8, 1:9], a)


def test_random_crop_padding_and_seed():
    a = img(6, 8)
    out = T.RandomCrop(6, padding=2, generator=gen(0))(a)
    assert out.shape == (6, 6, 3)
    padded = np.pad(a, ((2, 2), (2, 2), (0, 0)))
    found = [(i, j) for i in range(5) for j in range(7) if np.array_equal(padded[i:i + 6, j:j + 6], out)]
    assert found  # it is a window of the padded image
    assert np.array_equal(T.RandomCrop(6, padding=2, generator=gen(0))(a), out)
    lamina.manual_seed(1)
    x = T.RandomCrop(4)(a)
    lamina.manual_seed(1)
    assert np.array_equal(T.RandomCrop(4)(a), x)
    assert T.RandomCrop(10, pad_if_needed=True)(a).shape == (10, 10, 3)
    assert T.RandomCrop((3, 3), padding=1, fill=(9, 9, 9))(Image.fromarray(a)).size == (3, 3)
    with pytest.raises(ValueError, match="larger than input"):
        T.RandomCrop(10)(a)


def test_horizontal_flip():
    a = img()
    assert np.array_equal(T.RandomHorizontalFlip(1.0)(a), a[:, ::-1])
    assert np.array_equal(T.RandomHorizontalFlip(0.0)(a), a)
    assert np.array_equal(np.asarray(T.RandomHorizontalFlip(1.0)(Image.fromarray(a))), a[:, ::-1])
    t = T.ToTensor()(a)
    assert np.array_equal(T.RandomHorizontalFlip(1.0)(t).numpy(), t.numpy()[:, :, ::-1])
    flips = [T.RandomHorizontalFlip(0.5, generator=g)(a)[0, 0, 0] != a[0, 0, 0] for g in [gen(0)] for _ in range(200)]
    assert 70 < sum(flips) < 130


def test_random_resized_crop():
    a = img(20, 30)
    r = T.RandomResizedCrop(8, generator=gen(0))
    out = r(a)
    assert out.shape == (8, 8, 3) and out.dtype == np.uint8
    assert np.array_equal(T.RandomResizedCrop(8, generator=gen(0))(a), out)
    assert T.RandomResizedCrop((5, 7))(Image.fromarray(a)).size == (7, 5)
    assert T.RandomResizedCrop(8)(T.ToTensor()(a)).shape == (3, 8, 8)
    top, left, h, w = T.RandomResizedCrop(8, scale=(0.5, 0.5), ratio=(1.0, 1.0), generator=gen(3)).get_params(a)
    assert abs(h * w - 300) <= 30 and 0 <= top <= 20 - h and 0 <= left <= 30 - w


def test_random_rotation():
    a = np.zeros((9, 9), np.uint8)
    a[4, 4:] = 255  # a ray pointing right from the centre
    up = T.RandomRotation((90, 90))(a)  # counter-clockwise: now points up
    assert up[:4, 4].min() == 255 and up[4, 5:].max() == 0
    assert np.array_equal(np.asarray(T.RandomRotation((90, 90))(Image.fromarray(a))), up)
    t = T.RandomRotation(30)(T.ToTensor()(img()))
    assert t.shape == (3, 6, 8)
    r = T.RandomRotation(45, generator=gen(0))(img())
    assert np.array_equal(T.RandomRotation(45, generator=gen(0))(img()), r) and r.shape == (6, 8, 3)
    filled = T.RandomRotation((45, 45), fill=7)(np.zeros((9, 9), np.uint8) + 1)
    assert filled[0, 0] == 7


def test_compose_pipeline():
    pipe = T.Compose([T.RandomCrop(28, padding=2), T.RandomHorizontalFlip(), T.ToTensor(), T.Normalize((0.13,), (0.31,))])
    out = pipe(np.zeros((28, 28), np.uint8))
    assert out.shape == (1, 28, 28)
    np.testing.assert_allclose(out.numpy(), -0.13 / 0.31, rtol=1e-5)
    assert "RandomCrop" in repr(pipe)
