"""lamina.vision.utils: make_grid's layout (torchvision's rules) and save_image's PNG files."""
import io

import numpy as np
import pytest

import lamina
from lamina.vision.utils import make_grid, png_bytes, save_image


def test_make_grid_layout():
    x = lamina.tensor(np.arange(5, dtype=np.float32).reshape(5, 1, 1, 1).repeat(2, 2).repeat(3, 3))  # 5 images 2x3
    g = make_grid(x, nrow=2, padding=1, pad_value=-1).numpy()
    assert g.shape == (3, 3 * 3 + 1, 2 * 4 + 1)  # greyscale made RGB; rows of 2, ceil(5/2) = 3 rows
    assert np.all(g[:, 1:3, 1:4] == 0) and np.all(g[:, 1:3, 5:8] == 1) and np.all(g[:, 7:9, 1:4] == 4)
    assert np.all(g[:, 7:9, 5:8] == -1) and np.all(g[:, 0] == -1)  # the empty sixth cell and the border
    one = make_grid(lamina.ones(1, 3, 4, 5))
    assert one.shape == (3, 4, 5)  # one image: returned as it is, without padding (torchvision)
    assert make_grid([lamina.zeros(3, 2, 2)] * 3, padding=0).shape == (3, 2, 6)


def test_make_grid_normalize():
    x = lamina.tensor(np.array([[[[-2.0, 2.0]]], [[[0.0, 1.0]]]], dtype=np.float32))
    g = make_grid(x, normalize=True, padding=0).numpy()[0]
    np.testing.assert_allclose(g, [[0.0, 1.0, 0.5, 0.75]])
    g = make_grid(x, normalize=True, scale_each=True, padding=0).numpy()[0]
    np.testing.assert_allclose(g, [[0.0, 1.0, 0.0, 1.0]])
    g = make_grid(x, normalize=True, value_range=(0, 1), padding=0).numpy()[0]
    np.testing.assert_allclose(g, [[0.0, 1.0, 0.0, 1.0]])
    with pytest.raises(ValueError, match="value_range"):
        make_grid(x, normalize=True, value_range=3)
    with pytest.raises(ValueError, match="shape"):
        make_grid(lamina.zeros(1, 1, 1, 2, 2))


def test_save_image_writes_a_png_that_pillow_reads(tmp_path):
    Image = pytest.importorskip("PIL.Image")
    rng = np.random.default_rng(0)
    x = lamina.tensor(rng.random((4, 3, 5, 6)).astype(np.float32))
    save_image(x, tmp_path / "grid.png", nrow=2)
    want = np.clip(make_grid(x, nrow=2).numpy() * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)
    got = np.asarray(Image.open(tmp_path / "grid.png"))
    assert np.array_equal(got, want)
    buf = io.BytesIO()
    save_image(x[0], buf, format="png")
    single = np.clip(x[0].numpy() * 255 + 0.5, 0, 255).astype(np.uint8).transpose(1, 2, 0)  # no padding for one
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(buf.getvalue()))), single)
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert np.array_equal(np.asarray(Image.open(io.BytesIO(png_bytes(grey)))), grey)
