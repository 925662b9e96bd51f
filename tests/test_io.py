"""lamina.save / lamina.load: safetensors layout, bitwise round trips, atomic writes, clear errors."""
import json
import os
import struct

import numpy as np
import pytest

import lamina
import lamina.optim as optim
from lamina import io as lio

DTYPES = ["float16", "float32", "float64", "int8", "uint8", "int16", "int32", "int64", "bool"]


def parse(path):
    """Read a safetensors file by the spec alone (struct + json), checking what readers check."""
    raw = open(path, "rb").read()
    (n,) = struct.unpack("<Q", raw[:8])
    assert n % 8 == 0 and raw[8:9] == b"{"
    header = json.loads(raw[8:8 + n].decode("utf-8"))  # trailing spaces are valid JSON whitespace
    meta = header.pop("__metadata__")
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in meta.items())
    buf = raw[8 + n:]
    names = {"F16": "<f2", "F32": "<f4", "F64": "<f8", "I8": "i1", "U8": "u1", "I16": "<i2", "I32": "<i4",
             "I64": "<i8", "BOOL": "?"}
    spans, tensors = [], {}
    for k, e in header.items():
        b, s = e["data_offsets"]
        dt = np.dtype(names[e["dtype"]])
        assert s - b == int(np.prod(e["shape"], dtype=np.int64)) * dt.itemsize
        assert b % dt.itemsize == 0  # every tensor is aligned for its dtype
        spans.append((b, s))
        tensors[k] = np.frombuffer(buf[b:s], dtype=dt).reshape(e["shape"])
    spans.sort()
    assert spans[0][0] == 0 if spans else True
    assert all(a[1] == b[0] for a, b in zip(spans, spans[1:]))  # no holes, no overlaps
    assert (spans[-1][1] if spans else 0) == len(buf)  # the buffer is covered exactly
    return tensors, meta


def trained_model():
    lamina.manual_seed(0)
    model = lamina.nn.Sequential(lamina.nn.Linear(4, 8), lamina.nn.ReLU(), lamina.nn.Linear(8, 2))
    opt = optim.Adam([{"params": list(model.parameters())[:2]}, {"params": list(model.parameters())[2:], "lr": 1e-2}],
                     lr=1e-3, amsgrad=True)
    x = lamina.randn(16, 4)
    for _ in range(3):
        opt.zero_grad()
        (model(x) ** 2).mean().backward()
        opt.step()
    return model, opt


def assert_same(a, b):
    """Equal structure, types and values; tensors bit for bit with the same dtype and shape."""
    if isinstance(a, lamina.Tensor):  # a Parameter comes back as a plain Tensor
        assert type(b) is lamina.Tensor and not b.requires_grad
        assert a.dtype == b.dtype and a.shape == b.shape
        assert a.numpy().tobytes() == b.numpy().tobytes()
    elif isinstance(a, np.ndarray):
        assert type(b) is np.ndarray and a.dtype == b.dtype and a.shape == b.shape and a.tobytes() == b.tobytes()
    elif isinstance(a, dict):
        assert isinstance(b, dict) and list(a) == list(b)
        for k in a:
            assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert type(a) is type(b) and len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, float) and np.isnan(a):
        assert isinstance(b, float) and np.isnan(b)
    else:
        assert type(a) is type(b) and a == b


def test_model_and_optimizer_round_trip_bitwise(tmp_path):
    model, opt = trained_model()
    ck = {"model": model.state_dict(), "optim": opt.state_dict(), "epoch": 3, "best": 0.125,
          "config": {"name": "mlp", "layers": [4, 8, 2], "dropout": None, "amp": False}}
    path = tmp_path / "ckpt.safetensors"
    lamina.save(ck, path)
    back = lamina.load(path)
    assert_same(ck, back)
    assert list(back["optim"]["state"]) == [0, 1, 2, 3]  # int keys stay ints
    assert back["optim"]["param_groups"][0]["betas"] == (0.9, 0.999)
    model2 = lamina.nn.Sequential(lamina.nn.Linear(4, 8), lamina.nn.ReLU(), lamina.nn.Linear(8, 2))
    model2.load_state_dict(back["model"])
    opt2 = optim.Adam([{"params": list(model2.parameters())[:2]}, {"params": list(model2.parameters())[2:]}])
    opt2.load_state_dict(back["optim"])
    assert_same(opt.state_dict(), opt2.state_dict())


@pytest.mark.parametrize("dtype", DTYPES)
def test_every_dtype_round_trips(tmp_path, dtype):
    r = np.random.default_rng(0)
    a = (r.standard_normal((3, 5)) * 100).astype(dtype)
    objs = {"t": lamina.tensor(a), "scalar": lamina.tensor(a[0, 0]), "empty": lamina.tensor(a[:0]),
            "nd": a[::2, ::-1]}  # a non-contiguous NumPy array comes back as an array
    lamina.save(objs, tmp_path / "x.safetensors")
    back = lamina.load(tmp_path / "x.safetensors")
    assert_same({**objs, "nd": np.ascontiguousarray(objs["nd"])}, back)


def test_special_floats_and_values(tmp_path):
    a = np.array([np.nan, -np.inf, np.inf, -0.0, 5e-324, np.finfo(np.float64).max])
    obj = [lamina.tensor(a), float("nan"), float("-inf"), -0.0, 2 ** 70, "ünïcode ✓", {}, [], (), None, True,
           {"dict": 1, "tensor": "not a tensor", "tuple": [1]}]  # keys that look like lamina's own tags
    lamina.save(obj, tmp_path / "x.safetensors")
    back = lamina.load(tmp_path / "x.safetensors")
    assert_same(obj, back)
    assert str(back[3]) == "-0.0"


def test_file_is_valid_safetensors(tmp_path):
    model, opt = trained_model()
    path = tmp_path / "ckpt.safetensors"
    lamina.save({"model": model.state_dict(), "optim": opt.state_dict(), "x": lamina.arange(3).to(lamina.int8)}, path)
    tensors, meta = parse(path)
    assert set(tensors) >= {"model.0.weight", "model.2.bias", "optim.state.0.exp_avg", "optim.state.3.max_exp_avg_sq"}
    assert np.array_equal(tensors["model.0.weight"], model.state_dict()["0.weight"].numpy())
    assert "lamina" in meta and json.loads(meta["lamina"])


def test_the_safetensors_library_reads_our_files(tmp_path):
    """Hugging Face's own reader (in the test extra) loads every tensor we wrote, bit for bit."""
    load_file = pytest.importorskip("safetensors.numpy").load_file
    model, opt = trained_model()
    path = tmp_path / "ckpt.safetensors"
    lamina.save({"model": model.state_dict(), "optim": opt.state_dict(), "x": lamina.arange(3).to(lamina.int8)}, path)
    tensors, _ = parse(path)
    loaded = load_file(str(path))
    assert set(loaded) == set(tensors)
    for k, v in loaded.items():
        assert v.dtype == tensors[k].dtype and np.array_equal(v, tensors[k])


def test_plain_safetensors_file_loads_flat(tmp_path):
    """A file another tool wrote (no lamina metadata, BF16 included) loads as {name: Tensor}."""
    w = np.arange(6, dtype=np.float32).reshape(2, 3)
    bf16 = (np.array([1.5, -2.0, 3.25], dtype=np.float32).view(np.uint32) >> 16).astype(np.uint16)
    header = {"b": {"dtype": "BF16", "shape": [3], "data_offsets": [24, 30]},
              "w": {"dtype": "F32", "shape": [2, 3], "data_offsets": [0, 24]}, "__metadata__": {"format": "pt"}}
    h = json.dumps(header).encode()
    (tmp_path / "hf.safetensors").write_bytes(struct.pack("<Q", len(h)) + h + w.tobytes() + bf16.tobytes())
    back = lamina.load(tmp_path / "hf.safetensors")
    assert set(back) == {"w", "b"}
    assert np.array_equal(back["w"].numpy(), w) and back["w"].dtype == lamina.float32
    assert np.array_equal(back["b"].numpy(), [1.5, -2.0, 3.25])


def test_atomic_write_keeps_old_file_on_error(tmp_path, monkeypatch):
    path = tmp_path / "ckpt.safetensors"
    lamina.save({"w": lamina.ones(3)}, path)
    before = path.read_bytes()

    def boom(fd):
        raise OSError("disk on fire")
    monkeypatch.setattr(lio.os, "fsync", boom)
    with pytest.raises(OSError, match="disk on fire"):
        lamina.save({"w": lamina.zeros(1000)}, path)
    monkeypatch.undo()
    assert path.read_bytes() == before
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]  # no temporary file left behind
    with pytest.raises(TypeError, match="can't save the function at bad: .* can't be pickled"):
        lamina.save({"w": lamina.zeros(2), "bad": lambda: 0}, path)
    assert path.read_bytes() == before and os.listdir(tmp_path) == ["ckpt.safetensors"]


def test_new_file_permissions_follow_umask(tmp_path):
    path = tmp_path / "x.safetensors"
    lamina.save({"a": 1}, path)
    umask = os.umask(0)
    os.umask(umask)
    assert os.stat(path).st_mode & 0o777 == 0o666 & ~umask


def test_truncated_file_names_the_file(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    lamina.save({"w": lamina.randn(100, 10)}, path)
    raw = path.read_bytes()
    path.write_bytes(raw[:-1000])
    with pytest.raises(ValueError, match=rf"lamina.load: {path} is truncated or corrupt: header says 4000 bytes "
                                         rf"of tensor data, file has 3000"):
        lamina.load(path)
    path.write_bytes(raw[:20])
    with pytest.raises(ValueError, match=f"{path} is truncated or corrupt"):
        lamina.load(path)
    path.write_bytes(raw[:5])
    with pytest.raises(ValueError, match=f"{path} is truncated or corrupt: the file has 5 bytes"):
        lamina.load(path)


def test_corrupt_header_names_the_file(tmp_path):
    path = tmp_path / "ckpt.safetensors"
    lamina.save({"w": lamina.randn(4, 4)}, path)
    raw = bytearray(path.read_bytes())
    (n,) = struct.unpack("<Q", raw[:8])

    def corrupt(data, match):
        path.write_bytes(bytes(data))
        with pytest.raises(ValueError, match=match) as e:
            lamina.load(path)
        assert str(path) in str(e.value) and "truncated or corrupt" in str(e.value)

    bad = raw.copy()
    bad[8:9] = b"["  # the JSON no longer parses
    corrupt(bad, "not valid JSON")
    corrupt(struct.pack("<Q", 2 ** 40) + raw[8:], "header length")
    text = raw[8:8 + n].decode()
    corrupt(raw[:8] + text.replace('"F32"', '"F99"').encode() + raw[8 + n:], "unknown dtype 'F99'")
    corrupt(raw[:8] + text.replace("[4,4]", "[4,5]").encode() + raw[8 + n:], "needs 80 bytes")
    corrupt(raw[:8] + text.replace('"w"', '"v"', 1).encode() + raw[8 + n:], "refers to tensor 'w'")


def test_load_never_unpickles(tmp_path):
    """Not a pickle reader: a pickle file is just a corrupt checkpoint."""
    import pickle
    path = tmp_path / "evil.pt"
    path.write_bytes(pickle.dumps({"a": 1}))
    with pytest.raises(ValueError, match="truncated or corrupt"):
        lamina.load(path)
    with pytest.raises(ValueError, match="truncated or corrupt"):
        lamina.load(path, weights_only=False)


class _Tied(lamina.nn.Module):
    def __init__(self):
        super().__init__()
        self.emb = lamina.nn.Embedding(7, 4)
        self.out = lamina.nn.Linear(4, 7)
        self.out.weight = self.emb.weight  # tied, as word_language_model --tied does


def test_whole_module_pickled_only_with_weights_only_false(tmp_path):
    """torch.save(model, f) / torch.load(f, weights_only=False), with torch's default refusal."""
    import argparse
    import pickle
    m = _Tied()
    m.out.bias.requires_grad_(False)
    path = tmp_path / "model.pt"
    with open(path, "wb") as f:
        lamina.save({"model": m, "args": argparse.Namespace(lr=0.5), "step": 3}, f)
    with pytest.raises(pickle.UnpicklingError, match=r"pickled test_io._Tied.*weights_only=False"):
        lamina.load(path)
    with open(path, "rb") as f:
        back = lamina.load(f, weights_only=False)
    assert back["step"] == 3 and back["args"].lr == 0.5
    m2 = back["model"]
    assert isinstance(m2, _Tied) and m2.out.weight is m2.emb.weight
    assert isinstance(m2.emb.weight, lamina.nn.Parameter) and m2.emb.weight.requires_grad
    assert not m2.out.bias.requires_grad
    for (k, a), (k2, b) in zip(m.state_dict().items(), m2.state_dict().items()):
        assert k == k2 and np.array_equal(a.numpy(), b.numpy())
    # the weights are ordinary safetensors entries, readable by any safetensors reader
    header_len = int.from_bytes(path.read_bytes()[:8], "little")
    import json
    header = json.loads(path.read_bytes()[8:8 + header_len])
    shapes = sorted(tuple(e["shape"]) for k, e in header.items() if k != "__metadata__" and "__pickle__" not in k)
    assert shapes == sorted([(7, 4), (7,)])  # the tied weight once, and the bias


def test_map_location_cpu_and_bad_input(tmp_path):
    lamina.save({"w": lamina.ones(2)}, tmp_path / "x.safetensors")
    assert lamina.load(tmp_path / "x.safetensors", map_location="cpu")["w"].device == lamina.device("cpu")
    with pytest.raises(TypeError, match="dict keys"):
        lamina.save({(1, 2): 3}, tmp_path / "y.safetensors")


@pytest.mark.skipif(not lamina.cuda_available(), reason="CuPy with a CUDA device is not available")
def test_cuda_tensors_round_trip(tmp_path):
    x = lamina.randn(3, 4).cuda()
    lamina.save({"x": x}, tmp_path / "g.safetensors")
    cpu = lamina.load(tmp_path / "g.safetensors")["x"]
    gpu = lamina.load(tmp_path / "g.safetensors", map_location="cuda")["x"]
    assert cpu.device == lamina.device("cpu") and gpu.device.type == "cuda"
    assert cpu.numpy().tobytes() == x.cpu().numpy().tobytes() == gpu.cpu().numpy().tobytes()


def _raw_file(path, header, data):
    h = json.dumps(header).encode()
    path.write_bytes(struct.pack("<Q", len(h)) + h + data)
    return path


@pytest.mark.parametrize("case", ["overlap", "gap", "gap at the start", "trailing bytes"])
def test_data_offsets_must_tile_the_data(tmp_path, case):
    """Overlapping or gapped offsets used to load (two tensors sharing bytes, or bytes no tensor owns);
    the safetensors library rejects every one of these files, and now so do we."""
    # (a's offsets, b's offsets, bytes of data); a holds 4 floats, b what its offsets span
    a, b, size = {"overlap": ([0, 16], [8, 16], 16), "gap": ([0, 16], [20, 28], 28),
                  "gap at the start": ([8, 24], [24, 32], 32), "trailing bytes": ([0, 16], [16, 24], 32)}[case]
    header = {"a": {"dtype": "F32", "shape": [4], "data_offsets": a},
              "b": {"dtype": "F32", "shape": [(b[1] - b[0]) // 4], "data_offsets": b}}
    path = _raw_file(tmp_path / "x.safetensors", header, b"\0" * size)
    match = ("the tensors cover 24 bytes of data, but the file has 32" if case == "trailing bytes" else
             "must not overlap or leave gaps")
    with pytest.raises(ValueError, match=f"^lamina.load: {path} is truncated or corrupt: .*{match}"):
        lamina.load(path)
    safetensors = pytest.importorskip("safetensors.numpy")
    with pytest.raises(Exception):  # the reference reader agrees
        safetensors.load_file(str(path))


def test_data_offsets_in_any_order_and_empty_tensors_load(tmp_path):
    """What the safetensors library accepts, we accept: offsets in any order, empty tensors anywhere."""
    header = {"e": {"dtype": "F32", "shape": [0], "data_offsets": [8, 8]},
              "b": {"dtype": "F32", "shape": [2], "data_offsets": [0, 8]},
              "z": {"dtype": "I8", "shape": [0, 3], "data_offsets": [0, 0]}}
    path = _raw_file(tmp_path / "x.safetensors", header, np.array([1.0, 2.0], np.float32).tobytes())
    back = lamina.load(path)
    assert np.array_equal(back["b"].numpy(), [1.0, 2.0]) and back["e"].shape == (0,) and back["z"].shape == (0, 3)
    safetensors = pytest.importorskip("safetensors.numpy")
    assert set(safetensors.load_file(str(path))) == {"e", "b", "z"}


def _stale(path, tag, age):
    tmp = path.parent / f".{path.name}.{tag}.tmp"
    tmp.write_bytes(b"partial")
    os.utime(tmp, (os.path.getmtime(tmp) - age,) * 2)
    return tmp


@pytest.mark.skipif(lio.fcntl is None, reason="needs POSIX file locks")
def test_next_save_removes_a_killed_saves_temporary_files(tmp_path):
    """A save killed mid-write used to leave its .tmp file beside the checkpoint forever."""
    path = tmp_path / "ckpt.safetensors"
    old = _stale(path, "abcd1234", age=3600)
    fresh = _stale(path, "efgh5678", age=0)  # maybe a save that has just created its file: kept
    other = _stale(tmp_path / "other.safetensors", "abcd1234", age=3600)  # another path's: kept
    lamina.save({"w": lamina.ones(2)}, path)
    assert not old.exists() and fresh.exists() and other.exists()
    assert lamina.load(path)["w"].shape == (2,)


@pytest.mark.skipif(lio.fcntl is None, reason="needs POSIX file locks")
def test_cleanup_never_touches_a_save_in_progress(tmp_path):
    import fcntl
    import threading
    path = tmp_path / "ckpt.safetensors"
    live = _stale(path, "live0000", age=3600)  # old, but its writer still holds the lock
    with open(live, "rb+") as f:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX)
        lamina.save({"w": lamina.ones(2)}, path)
        assert live.exists()
    # many writers to one path at once: every save succeeds and the file is always whole
    errors = []

    def writer(i):
        try:
            for _ in range(10):
                lamina.save({"w": lamina.full((1000,), float(i))}, path)
        except Exception as e:  # noqa: BLE001 - any failure fails the test below
            errors.append(e)
    threads = [threading.Thread(target=writer, args=(i,)) for i in range(4)]
    for t in threads:
        t.start()
    for _ in range(20):
        w = lamina.load(path)["w"].numpy()
        assert w.shape in ((2,), (1000,)) and len(set(w.tolist())) == 1
    for t in threads:
        t.join()
    assert errors == []
    assert os.listdir(tmp_path) == ["ckpt.safetensors"]  # the writer of `live` let go: now it was stale
