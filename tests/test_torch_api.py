"""torch's everyday API surface beyond the ops (issue 14): module layout, grad modes, typed
constructors, new_* methods, formatting, save/load with file objects."""
import io
import pickle
import subprocess
import sys

import numpy as np
import pytest
import torch

import lamina


def test_utils_data_is_lamina_data():
    import lamina.utils.data as data
    from lamina.utils.data import DataLoader, TensorDataset
    assert data is lamina.data and DataLoader is lamina.data.DataLoader
    loader = DataLoader(TensorDataset(lamina.arange(6.0)), batch_size=4)
    assert [b[0].shape for b in loader] == [(4,), (2,)]


def test_module_layout_and_version():
    import lamina.backends.cudnn as cudnn
    cudnn.benchmark = True  # accepted; lamina has no cuDNN
    assert lamina.accelerator.is_available() is lamina.cuda.is_available()
    if not lamina.cuda.is_available():
        assert lamina.accelerator.current_accelerator() is None and lamina.cuda.device_count() == 0
    assert lamina.backends.mps.is_available() is False
    lamina.cuda.manual_seed(0)
    lamina.cuda.manual_seed_all(0)
    assert isinstance(lamina.__version__, str) and lamina.__version__.count(".") == 2
    out = subprocess.run([sys.executable, "-m", "lamina.cli", "--version"], capture_output=True, text=True)
    assert out.returncode == 0 and out.stdout.strip() == f"lamina {lamina.__version__}"


def test_num_threads():
    before = lamina.get_num_threads()
    try:
        lamina.set_num_threads(1)
        assert lamina.get_num_threads() == 1 and lamina.backend.blas_threads() == 1
        with pytest.raises(ValueError, match="set_num_threads"):
            lamina.set_num_threads(0)
    finally:
        lamina.set_num_threads(before)


def test_grad_modes_as_torch():
    kept = lamina.no_grad()  # made, not entered: changes nothing yet (torch's behaviour)
    assert lamina.is_grad_enabled()
    with kept:
        assert not lamina.is_grad_enabled()
        with lamina.enable_grad():
            assert lamina.is_grad_enabled()
    assert lamina.is_grad_enabled()

    @lamina.no_grad
    def bare():
        return lamina.is_grad_enabled()

    @lamina.inference_mode()
    def called():
        return (lamina.ones(2, requires_grad=True) * 2).requires_grad

    assert bare() is False and called() is False and lamina.is_grad_enabled()
    with lamina.inference_mode(False):
        assert lamina.is_grad_enabled()
    with lamina.inference_mode():
        assert not lamina.is_grad_enabled()


def test_typed_constructors():
    for name in ["FloatTensor", "DoubleTensor", "LongTensor", "IntTensor", "ByteTensor", "BoolTensor"]:
        ours, theirs = getattr(lamina, name)([1, 0, 2]), getattr(torch, name)([1, 0, 2])
        assert str(ours.dtype) == str(theirs.dtype).replace("torch.", "") and ours.tolist() == theirs.tolist()
    assert lamina.FloatTensor(2, 3).shape == (2, 3) and lamina.LongTensor().shape == (0,)
    assert isinstance(lamina.tensor([1.0]), lamina.FloatTensor) and not isinstance(lamina.tensor([1]), lamina.FloatTensor)


@pytest.mark.parametrize("dtype", ["float64", "int32"])
def test_new_methods_take_dtype_and_device(dtype):
    x, t = lamina.ones(2, dtype=getattr(lamina, dtype)), torch.ones(2, dtype=getattr(torch, dtype))
    pairs = [(x.new_zeros(2, 3), t.new_zeros(2, 3)), (x.new_ones((1, 2)), t.new_ones((1, 2))),
             (x.new_full((2,), 3), t.new_full((2,), 3)), (x.new_tensor([1, 2]), t.new_tensor([1, 2])),
             (x.new_empty(3).zero_(), t.new_empty(3).zero_()), (x.new_zeros(2, dtype=lamina.int64), t.new_zeros(2, dtype=torch.int64))]
    for a, b in pairs:
        assert a.shape == tuple(b.shape) and str(a.dtype) == str(b.dtype).replace("torch.", "")
        assert a.tolist() == b.tolist()
    src = lamina.zeros(2)
    copy = x.new_tensor(src)
    copy += 1
    assert src.tolist() == [0.0, 0.0]  # new_tensor copies, never shares
    assert x.new_zeros(2, requires_grad=True).requires_grad if dtype == "float64" else True


def test_format_of_a_zero_d_tensor():
    assert f"{lamina.tensor(3.14159):.3f}" == f"{torch.tensor(3.14159):.3f}" == "3.142"
    assert f"{lamina.tensor(7):>4}" == "   7"
    with pytest.raises(TypeError):
        f"{lamina.ones(2):.3f}"


def test_data_is_a_tensor_outside_the_graph():
    w = lamina.nn.Parameter(lamina.zeros(3))
    assert isinstance(w.data, lamina.Tensor) and not w.data.requires_grad
    w.data.add_(1.0)  # in place on a leaf that requires grad, allowed through .data as in torch
    w.data.normal_()
    w.data.fill_(2.0)
    assert w.tolist() == [2.0, 2.0, 2.0] and w.requires_grad
    y = (w * w).sum()
    w.data.mul_(0.5)  # through .data: not seen by autograd (torch's semantics)
    y.backward()
    assert w.grad.tolist() == [2.0, 2.0, 2.0]
    w.data = lamina.ones(5)
    assert w.shape == (5,)
    with pytest.raises(TypeError, match="data"):
        w.data = np.ones(5)


def test_save_and_load_with_file_objects(tmp_path):
    buf = io.BytesIO()
    buf.write(b"head")
    state = {"w": lamina.arange(6.0).reshape(2, 3), "step": 4, "names": ["a", "b"]}
    lamina.save(state, buf)
    end = buf.tell()
    buf.seek(4)
    back = lamina.load(buf)
    assert buf.tell() == end and back["step"] == 4 and back["names"] == ["a", "b"]
    assert np.array_equal(back["w"].numpy(), state["w"].numpy())
    with open(tmp_path / "m.safetensors", "wb") as f:
        lamina.save(lamina.nn.Linear(2, 3).state_dict(), f)
    with open(tmp_path / "m.safetensors", "rb") as f:
        assert set(lamina.load(f, map_location="cpu", weights_only=True)) == {"weight", "bias"}


def test_saving_a_module_pickles_it_as_torch_does(tmp_path):
    model = lamina.nn.Linear(2, 3)
    opt = lamina.optim.SGD(model.parameters(), lr=0.1)
    lamina.save(model, tmp_path / "m.pt")
    lamina.save({"opt": opt}, tmp_path / "o.pt")
    with pytest.raises(pickle.UnpicklingError, match=r"pickled lamina.nn.*Linear.*weights_only=False.*state_dict\(\)"):
        lamina.load(tmp_path / "m.pt")
    m2 = lamina.load(tmp_path / "m.pt", weights_only=False)
    x = lamina.randn(4, 2)
    assert np.array_equal(m2(x).detach().numpy(), model(x).detach().numpy())
    assert lamina.load(tmp_path / "o.pt", weights_only=False)["opt"].param_groups[0]["lr"] == 0.1


def test_parameter_containers_name_like_torch():
    names = {}
    for m in (torch, lamina):
        class Net(m.nn.Module):
            def __init__(self):
                super().__init__()
                self.pl = m.nn.ParameterList([m.nn.Parameter(m.ones(2)), m.zeros(3)])  # a plain tensor becomes one
                self.pd = m.nn.ParameterDict({"a": m.nn.Parameter(m.ones(1)), "b": m.zeros(2)})
        net = Net()
        names[m] = [(n, tuple(p.shape)) for n, p in net.named_parameters()]
        assert isinstance(net.pl[1], m.nn.Parameter) and net.pd["b"].requires_grad and "a" in net.pd
    assert names[lamina] == names[torch]


@pytest.mark.parametrize("mode", ["sum", "mean", "max"])
def test_embedding_bag_matches_torch(mode):
    weights = np.random.default_rng(0).standard_normal((10, 3))
    idx, off = np.array([1, 2, 4, 5, 4, 3, 2, 9]), np.array([0, 4, 4, 6])  # the second bag is empty
    got = []
    for m in (torch, lamina):
        bag = m.nn.EmbeddingBag(10, 3, mode=mode, dtype=m.float64, padding_idx=None if mode == "max" else 2)
        with m.no_grad():
            bag.weight.copy_(m.tensor(weights))
        psw = m.tensor(np.linspace(0.5, 2, 8), requires_grad=True) if mode == "sum" else None
        out = bag(m.tensor(idx), m.tensor(off), per_sample_weights=psw)
        (out * m.tensor(np.arange(12.0).reshape(4, 3))).sum().backward()
        rows = m.nn.functional.embedding_bag(m.tensor(np.array([[1, 2, 3], [4, 4, 0]])), m.tensor(weights), mode=mode)
        got.append([out.detach().numpy(), bag.weight.grad.numpy(), rows.numpy()] + ([psw.grad.numpy()] if psw is not None else []))
    for a, b in zip(*got):
        np.testing.assert_allclose(a, b, atol=1e-12)


def test_channel_dropout_as_torch():
    lamina.manual_seed(0)
    y = lamina.nn.Dropout1d(0.5)(lamina.ones(4, 3, 8))
    assert (y.numpy().std(-1) == 0).all() and set(np.unique(y.numpy())) <= {0.0, 2.0}  # one draw per (N, C)
    y = lamina.nn.functional.dropout3d(lamina.ones(2, 3, 2, 2, 2))
    assert (y.numpy().reshape(2, 3, -1).std(-1) == 0).all()
    with pytest.warns(UserWarning, match="2-D input"):
        lamina.nn.functional.dropout2d(lamina.ones(4, 6))
    with pytest.warns(UserWarning, match="3-D input"):
        y = lamina.nn.Dropout2d()(lamina.ones(2, 5, 16))
    assert (y.numpy().std(-1) == 0).all()  # taken as (N, C, L): one draw per (N, C), as torch
    lamina.nn.LSTM(3, 4).flatten_parameters()  # a no-op, as scripts call it
