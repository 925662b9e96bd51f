"""The `lamina` command: train / evaluate / predict / list, and its one-line error messages."""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from lamina import cli

from helpers import SHARED_DATA as SHARED  # noqa: E402
CIFAR_SUBSET = SHARED / "02-color-images" / "cifar10-test-subset"


def run_cli(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def one_line_error(code, err) -> str:
    assert code == 1
    lines = [line for line in err.strip().splitlines() if line.strip()]
    assert len(lines) == 1, err
    assert lines[0].startswith("lamina: error: ") and "Traceback" not in err
    return lines[0]


@pytest.fixture(scope="module")
def mnist_run(tmp_path_factory):
    """A (barely) trained MLP on the bundled MNIST subset: enough for evaluate and predict."""
    runs = tmp_path_factory.mktemp("runs")
    code = cli.main(["train", "mnist-demo", "--set", "model.name=mlp", "--set", "model.hidden=32",
                     "--set", "train.max_steps=20", "--set", "train.progress=false", "--epochs", "1",
                     "--runs", str(runs), "--name", "tiny"])
    assert code == 0
    (run,) = runs.iterdir()
    return run


def digit_png(path: Path, size: int = 28) -> Path:
    from PIL import Image
    from lamina.data.datasets import BundledMNIST
    img = BundledMNIST(train=False).data[0]  # a 7
    Image.fromarray(np.asarray(img)).resize((size, size)).save(path)
    return path


def test_train_prints_val_metrics_and_writes_run_dir(tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    code, out, err = run_cli(capsys, "train", "mnist-demo", "--set", "model.name=mlp", "--set", "model.hidden=16",
                             "--set", "train.max_steps=5", "--epochs", "1")
    assert code == 0
    assert re.fullmatch(r"val_loss \d+\.\d+ val_accuracy \d\.\d+ val_f1 \d\.\d+", out.strip().splitlines()[-2])
    assert re.fullmatch(r"test_loss \d+\.\d+ test_accuracy \d\.\d+ test_f1 \d\.\d+", out.strip().splitlines()[-1])
    (run,) = (tmp_path / "runs").iterdir()
    assert run.name.startswith("demo-")
    assert {"config.json", "metrics.jsonl", "checkpoints"} <= {p.name for p in run.iterdir()}


def test_evaluate_and_predict(mnist_run, tmp_path, capsys):
    pytest.importorskip("PIL")
    code, out, _ = run_cli(capsys, "evaluate", mnist_run)
    assert code == 0 and re.match(r"test split: 2,000 samples, best checkpoint, epoch 1\n"
                                  r"test_loss \d+\.\d+ test_accuracy \d\.\d+", out.strip())
    image = digit_png(tmp_path / "seven.png")
    code, out, _ = run_cli(capsys, "predict", mnist_run, image)
    assert code == 0
    assert re.fullmatch(r".*seven\.png: \d - \w+ \d+\.\d%, \d - \w+ \d+\.\d%, \d - \w+ \d+\.\d%", out.strip())


def test_list(capsys):
    code, out, _ = run_cli(capsys, "list", "--data-root", SHARED)
    assert code == 0
    for name in ("mnist-mlp", "mnist-cnn", "fashion-mnist-cnn", "image-folder"):
        assert name in out
    assert re.search(r"mnist-bundled\s+present", out)
    if SHARED.is_dir():
        assert re.search(r"mnist\s+present", out)
    assert re.search(r"cifar10\s+(present|missing)", out)


def test_bench_passes_its_options_to_the_suite(capsys, monkeypatch):
    calls = []
    monkeypatch.setattr(subprocess, "call", lambda argv: calls.append(argv) or 0)
    code, _, _ = run_cli(capsys, "bench", "--only", "W1,W3", "--rounds", "3", "--no-memory")
    assert code == 0
    (argv,) = calls
    assert argv[1].endswith("benchmarks/suite.py") and argv[2:] == ["--only", "W1,W3", "--rounds", "3", "--no-memory"]


def test_other_commands_refuse_unknown_options(capsys):
    with pytest.raises(SystemExit) as e:
        cli.main(["list", "--rounds", "3"])
    assert e.value.code == 2 and "unrecognized arguments: --rounds 3" in capsys.readouterr().err


# ---- errors: one line each, no traceback -------------------------------------------------

def test_error_unknown_task(capsys):
    line = one_line_error(*run_cli(capsys, "train", "mnist-gan")[:3:2])
    assert "unknown task 'mnist-gan'" in line and "mnist-cnn" in line and "image-folder" in line


def test_error_missing_data_path(tmp_path, capsys):
    line = one_line_error(*run_cli(capsys, "train", "mnist-mlp", "--data-root", tmp_path / "nowhere")[:3:2])
    assert "nowhere" in line and "does not exist" in line
    line = one_line_error(*run_cli(capsys, "train", "image-folder", "--set", f"data.path={tmp_path / 'pics'}")[:3:2])
    assert "pics" in line and "not found" in line


def test_error_malformed_recipe_key(tmp_path, capsys):
    recipe = tmp_path / "bad.toml"
    recipe.write_text('task = "mnist-mlp"\n[optim]\nname = "sgd"\nlrr = 0.1\n')
    line = one_line_error(*run_cli(capsys, "train", recipe)[:3:2])
    assert "'optim.lrr'" in line and "valid keys in [optim]: name, lr," in line
    line = one_line_error(*run_cli(capsys, "train", "mnist-mlp", "--set", "train.epoch=3")[:3:2])
    assert "'train.epoch'" in line and "epochs" in line
    line = one_line_error(*run_cli(capsys, "train", "mnist-mlp", "--set", "optim.lr=fast")[:3:2])
    assert "optim.lr expects a number" in line


def test_predict_resizes_a_wrong_size_image_with_a_note(mnist_run, tmp_path, capsys):
    pytest.importorskip("PIL")
    image = digit_png(tmp_path / "big.png", size=32)
    code, out, _ = run_cli(capsys, "predict", mnist_run, image)
    assert code == 0 and "(note: resized 32x32 to 28x28)" in out


def test_error_corrupt_data_file(tmp_path, capsys):
    root = tmp_path / "data"
    (root / "mnist").mkdir(parents=True)
    for name in ("train-images-idx3-ubyte.gz", "train-labels-idx1-ubyte.gz", "t10k-images-idx3-ubyte.gz",
                 "t10k-labels-idx1-ubyte.gz"):
        (root / "mnist" / name).write_bytes(b"\x1f\x8b not really gzip")
    line = one_line_error(*run_cli(capsys, "train", "mnist-mlp", "--data-root", root)[:3:2])
    assert "-idx" in line and "ubyte.gz" in line  # names the file


def test_debug_shows_the_traceback():
    with pytest.raises(KeyError):
        cli.main(["train", "mnist-gan", "--debug"])


def test_console_script_error_has_no_traceback():
    exe = Path(sys.executable).with_name("lamina")
    cmd = [str(exe)] if exe.exists() else [sys.executable, "-m", "lamina.cli"]
    done = subprocess.run(cmd + ["train", "no-such-task"], capture_output=True, text=True, timeout=120)
    assert done.returncode == 1
    assert done.stderr.strip().startswith("lamina: error: unknown task") and "Traceback" not in done.stderr


@pytest.mark.skipif(not CIFAR_SUBSET.is_dir(), reason="needs ../shared/data/02-color-images")
def test_image_folder_on_cifar_subset_then_predict(tmp_path, capsys, monkeypatch):
    pytest.importorskip("PIL")
    monkeypatch.chdir(tmp_path)
    code, out, _ = run_cli(capsys, "train", "image-folder", "--set", f"data.path={CIFAR_SUBSET}",
                           "--set", "train.max_steps=3", "--set", "data.val_fraction=0.05",
                           "--set", "model.channels=8,16", "--epochs", "1")
    assert code == 0 and "val_accuracy" in out
    (run,) = (tmp_path / "runs").iterdir()
    image = CIFAR_SUBSET / "cat" / "0001.jpg"
    if not image.is_file():
        image = next(CIFAR_SUBSET.glob("*/*.jpg"))
    code, out, _ = run_cli(capsys, "predict", run, image)
    classes = sorted(p.name for p in CIFAR_SUBSET.iterdir() if p.is_dir())
    assert code == 0
    first = out.split(": ", 1)[1].split(",")[0]  # 'cat 12.3%'
    assert first.rsplit(" ", 1)[0] in classes


def test_ctrl_c_then_resume_from_the_command_line(tmp_path, capsys, monkeypatch):
    """Ctrl-C mid-epoch saves a checkpoint and exits 130; `lamina train --resume` then ends with the
    same weights as a run that was never interrupted."""
    import os
    import signal

    import lamina
    from lamina.train.callbacks import ModelCheckpoint

    args = ["train", "mnist-demo", "--set", "model.name=mlp", "--set", "model.hidden=16", "--set", "train.progress=false",
            "--set", "data.batch_size=250", "--epochs", "2"]
    code, _, _ = run_cli(capsys, *args, "--runs", tmp_path / "a")
    assert code == 0
    (reference,) = (tmp_path / "a").iterdir()

    original = ModelCheckpoint.on_step_end

    def interrupt_at_step_50(self, trainer):
        original(self, trainer)
        if trainer.global_step == 50:
            os.kill(os.getpid(), signal.SIGINT)

    monkeypatch.setattr(ModelCheckpoint, "on_step_end", interrupt_at_step_50)
    code, out, _ = run_cli(capsys, *args, "--runs", tmp_path / "b")
    assert code == 130 and "lamina train --resume" in out
    monkeypatch.setattr(ModelCheckpoint, "on_step_end", original)
    (run,) = (tmp_path / "b").iterdir()
    assert lamina.load(run / "checkpoints" / "last.safetensors")["global_step"] == 50
    code, out, _ = run_cli(capsys, "train", "--resume", run)
    assert code == 0 and out.strip().splitlines()[-2].startswith("val_loss ")
    a = lamina.load(reference / "checkpoints" / "last.safetensors")["model"]
    b = lamina.load(run / "checkpoints" / "last.safetensors")["model"]
    for k in a:
        assert np.array_equal(a[k].numpy(), b[k].numpy()), k


# ---- errors for bad values, run dirs, data roots and a missing torch (issue 13) ----------

DEMO_MLP = ["train", "mnist-demo", "--set", "model.name=mlp", "--set", "model.hidden=16", "--set",
            "train.max_steps=2", "--set", "train.progress=false"]


@pytest.mark.parametrize("setting, expected", [
    ("optim.betas=[0.9]", "optim.betas must be 2 numbers in [0, 1), e.g. [0.9, 0.999], got [0.9]"),
    ("optim.betas=0.9,0.99,0.5", "optim.betas must be 2 numbers in [0, 1), e.g. [0.9, 0.999], got [0.9, 0.99, 0.5]"),
    ("optim.betas=[0.9,1.5]", "optim.betas must be 2 numbers in [0, 1), e.g. [0.9, 0.999], got [0.9, 1.5]"),
    ("optim.betas=[0.9,a]", "optim.betas expects a list of numbers (e.g. 1,2 or [1, 2]), got '[0.9,a]'"),
    ("model.hidden=[0]", "model.hidden must be integers >= 1, got [0]"),
    ("model.hidden=1.5", "model.hidden expects a list of integers (e.g. 1,2 or [1, 2]), got '1.5'"),
    ("optim.lr=nan", "optim.lr must be a finite number >= 0, got nan"),
    ("optim.lr=inf", "optim.lr must be a finite number >= 0, got inf"),
    ("optim.lr=-0.1", "optim.lr must be a finite number >= 0, got -0.1"),
    ("data.batch_size=0", "data.batch_size must be an integer >= 1, got 0"),
    ("model.dropout=1", "model.dropout must be a number in [0, 1), got 1.0"),
    ("foo.bar=1", "unknown key 'foo.bar'; valid keys: task, name, data, model, optim, schedule, train"),
    ("optim.lr.max=1", "unknown key 'optim.lr.max': optim.lr is a value, not a section"),
    ("train.monitor=val_acc", "train.monitor: unknown metric 'val_acc' (read by ModelCheckpoint); "
                              "known: val_loss, val_accuracy, val_f1, train_loss, train_accuracy, train_f1"),
])
def test_error_bad_setting_is_one_line_and_leaves_no_run_dir(tmp_path, capsys, setting, expected):
    runs = tmp_path / "runs"
    line = one_line_error(*run_cli(capsys, *DEMO_MLP, "--set", setting, "--runs", runs)[:3:2])
    assert expected in line
    assert not runs.exists() or not any(runs.iterdir())  # no empty run directory behind


def test_error_bad_setting_debug_shows_the_traceback(tmp_path):
    from lamina.tasks import RecipeError
    with pytest.raises(RecipeError, match="optim.betas"):
        cli.main([*DEMO_MLP, "--set", "optim.betas=[0.9]", "--runs", str(tmp_path), "--debug"])


@pytest.fixture()
def run_copy(mnist_run, tmp_path):
    copy = tmp_path / "run"
    shutil.copytree(mnist_run, copy)
    return copy


@pytest.mark.parametrize("content, expected", [
    ('{"recipe": ', "is not valid JSON"),
    ('["a list"]', "expected a JSON object with 'recipe' and 'data_info', got list"),
    ('{"recipe": {"task": "mnist-demo"}}', "expected a JSON object with 'recipe' and 'data_info'"),
    ('{"recipe": {"optim": {"lrr": 1}}, "data_info": {}}', "unknown key 'optim.lrr'"),
    ('{"recipe": {}, "data_info": {"classes": 3}}', "its 'data_info' does not fit"),
])
def test_error_corrupt_config_json_names_the_file(run_copy, tmp_path, capsys, content, expected):
    (run_copy / "config.json").write_text(content)
    image = tmp_path / "x.png"
    image.write_bytes(b"")
    for argv in (["evaluate", run_copy], ["predict", run_copy, image], ["train", "--resume", run_copy]):
        line = one_line_error(*run_cli(capsys, *argv)[:3:2])
        assert f"{run_copy / 'config.json'}" in line and expected in line, (argv, line)
    with pytest.raises(ValueError):
        cli.main(["evaluate", str(run_copy), "--debug"])


def test_error_run_dir_that_is_not_a_run(run_copy, tmp_path, capsys):
    image = tmp_path / "x.png"
    image.write_bytes(b"")
    folder = tmp_path / "pictures"
    folder.mkdir()
    line = one_line_error(*run_cli(capsys, "predict", folder, image)[:3:2])
    assert f"{folder} is not a run directory: it has no config.json" in line and "lamina train" in line
    line = one_line_error(*run_cli(capsys, "predict", image, image)[:3:2])
    assert f"{image} is a file, not a run directory" in line
    line = one_line_error(*run_cli(capsys, "predict", tmp_path / "nowhere", image)[:3:2])
    assert "nowhere does not exist" in line
    shutil.rmtree(run_copy / "checkpoints")
    line = one_line_error(*run_cli(capsys, "predict", run_copy, image)[:3:2])
    assert "has no checkpoint yet" in line and "best.safetensors" in line


def test_error_data_root_is_a_file_or_missing(mnist_run, tmp_path, capsys, monkeypatch):
    monkeypatch.chdir(tmp_path)
    afile = tmp_path / "data.txt"
    afile.write_text("not a folder")
    for argv in ([*DEMO_MLP], ["evaluate", mnist_run], ["list"], ["train", "--resume", mnist_run]):
        line = one_line_error(*run_cli(capsys, *argv, "--data-root", afile)[:3:2])
        assert f"data root {afile} is a file, not a folder" in line, (argv, line)
        line = one_line_error(*run_cli(capsys, *argv, "--data-root", tmp_path / "nowhere")[:3:2])
        assert f"data root {tmp_path / 'nowhere'} does not exist" in line, (argv, line)


def test_error_bench_without_torch(capsys, monkeypatch):
    monkeypatch.setitem(sys.modules, "torch", None)  # `import torch` now fails as if it were not installed
    monkeypatch.setattr(subprocess, "call", lambda argv: pytest.fail("ran the suite without torch"))
    line = one_line_error(*run_cli(capsys, "bench", "--only", "W1")[:3:2])
    assert "bench needs PyTorch" in line and "pip install torch==2.13.0" in line


# ---- run output (issue 13) ---------------------------------------------------------------

def test_train_prints_the_model_summary_and_split_sizes(mnist_run, capsys, tmp_path):
    code, out, _ = run_cli(capsys, "train", "mnist-demo", "--set", "model.name=mlp", "--set", "model.hidden=8",
                           "--set", "train.max_steps=3", "--set", "train.progress=false", "--epochs", "1",
                           "--runs", tmp_path)
    assert code == 0
    assert re.search(r"net\.1 \(Linear\)\s+\(1, 8\)\s+6,280", out) and "Total params: 6,370" in out
    assert "data: mnist-bundled, 8,997 train / 1,003 val / 2,000 test" in out
    assert re.search(r"test \(best checkpoint, epoch 1\): test_loss \S+ test_accuracy", out)


def test_evaluate_names_the_split_reports_per_class_and_saves_a_confusion_plot(mnist_run, capsys):
    code, out, _ = run_cli(capsys, "evaluate", mnist_run, "--split", "val")
    assert code == 0
    lines = out.strip().splitlines()
    assert lines[0] == "val split: 1,003 samples, best checkpoint, epoch 1"
    assert lines[1].startswith("val_loss ") and "test_" not in out
    assert lines[2].split() == ["class", "precision", "recall", "f1", "support"]
    assert re.fullmatch(r"7 - seven\s+\d\.\d{4}\s+\d\.\d{4}\s+\d\.\d{4}\s+\d+", lines[10])
    assert sum(int(line.split()[-1]) for line in lines[3:13]) == 1003 and lines[13].startswith("macro avg")
    pytest.importorskip("matplotlib")
    plot = mnist_run / "confusion-val.png"
    assert lines[-1] == f"confusion matrix: {plot}" and plot.stat().st_size > 5000
    with pytest.raises(SystemExit):
        cli.main(["evaluate", str(mnist_run), "--split", "train"])
    capsys.readouterr()


def test_predict_converts_reads_folders_and_goes_on_past_bad_files(mnist_run, tmp_path, capsys):
    pytest.importorskip("PIL")
    from PIL import Image
    folder = tmp_path / "photos"
    folder.mkdir()
    Image.open(digit_png(folder / "a.png", size=40)).convert("RGB").save(folder / "b_rgb.jpg")
    (folder / "c_broken.png").write_bytes(b"not an image")
    (folder / "notes.txt").write_text("not an image file name: skipped")
    code, out, err = run_cli(capsys, "predict", mnist_run, folder, tmp_path / "missing.png")
    assert code == 1
    lines = out.strip().splitlines()
    assert len(lines) == 2
    assert lines[0].startswith(f"{folder / 'a.png'}: ") and "(note: resized 40x40 to 28x28)" in lines[0]
    assert lines[1].startswith(f"{folder / 'b_rgb.jpg'}: ") and "converted RGB to greyscale; resized 40x40" in lines[1]
    assert f"{folder / 'c_broken.png'}: error: can't read {folder / 'c_broken.png'} as an image: not an image " \
           "file Pillow can read" in err
    assert f"missing.png: error: {tmp_path / 'missing.png'} not found" in err
    assert err.strip().splitlines()[-1] == "lamina: error: predict: 2 of 4 input(s) could not be read (see above)"
    (tmp_path / "empty").mkdir()
    code, _, err = run_cli(capsys, "predict", mnist_run, tmp_path / "empty")
    assert code == 1 and "is a folder with no image files in it" in err


def test_list_says_how_to_point_at_data_when_none_is_found(tmp_path, capsys, monkeypatch):
    monkeypatch.delenv("LAMINA_DATA", raising=False)
    code, out, _ = run_cli(capsys, "list", "--data-root", tmp_path)
    assert code == 0
    assert f"no data sets found under {tmp_path}" in out and "--data-root DIR or LAMINA_DATA=DIR" in out
    if SHARED.is_dir():
        code, out, _ = run_cli(capsys, "list", "--data-root", SHARED)
        assert "no data sets found" not in out


def test_extend_a_finished_run_from_the_command_line(tmp_path, capsys):
    code, _, _ = run_cli(capsys, "train", "mnist-demo", "--set", "model.name=mlp", "--set", "model.hidden=8",
                         "--set", "train.progress=false", "--set", "data.batch_size=500", "--epochs", "1",
                         "--runs", tmp_path)
    (run,) = tmp_path.iterdir()
    line = one_line_error(*run_cli(capsys, "train", "--resume", run, "--epochs", "1")[:3:2])
    assert line == (f"lamina: error: --epochs is the new total and must be more than the 1 epoch(s) {run} "
                    f"has done, got 1")
    code, out, _ = run_cli(capsys, "train", "--resume", run, "--epochs", "2")
    assert code == 0
    assert f"extending {run}: 1 epoch(s) done, training on to 2 (a per-step lr schedule starts a new cycle)" in out
    assert "epoch 2/2 " in out and out.strip().splitlines()[-1].startswith("test_loss ")
    line = one_line_error(*run_cli(capsys, "train", "--resume", run, "--set", "optim.lr=1")[:3:2])
    assert "drop the task and --set" in line and "--epochs N extends a finished run" in line


@pytest.mark.parametrize("argv", [["predict", "RUN", "x.png", "-k", "0"], ["predict", "RUN", "x.png", "-k", "-2"],
                                  ["predict", "RUN", "x.png", "--top", "two"], ["train", "mnist-demo", "--epochs", "0"]])
def test_counts_below_one_are_refused_by_the_parser(mnist_run, capsys, argv):
    argv = [str(mnist_run) if a == "RUN" else a for a in argv]
    with pytest.raises(SystemExit) as e:
        cli.main(argv)
    assert e.value.code == 2 and "expected a whole number >= 1" in capsys.readouterr().err
