"""examples/pytorch/: PyTorch-style programs whose only lamina-specific text is their imports
(issue 14). Each runs a few steps here, and again with the same text mapped back to torch and
torchvision, which shows that the text is PyTorch as written."""
import gzip
import io
import os
import re
import subprocess
import sys
import tokenize
from pathlib import Path

import pytest

from helpers import SHARED_DATA as DATA_ROOT

EXAMPLES = Path(__file__).resolve().parent.parent / "examples" / "pytorch"
SHIM = Path(__file__).resolve().parent / "torchvision_shim"
DATA = str(DATA_ROOT)
needs_data = pytest.mark.skipif(not (DATA_ROOT / "01-digits").is_dir(), reason="shared data root not present")

# program, arguments for a seconds-long run, text its output must contain
RUNS = {
    "mnist": (["--dry-run", "--epochs", "1", "--limit", "256", "--data", DATA], "Test set: Average loss"),
    "word_language_model": (["--dry-run", "--epochs", "1", "--max-lines", "400", "--emsize", "32", "--nhid", "32",
                             "--data", DATA], "End of training"),
    "vae": (["--dry-run", "--epochs", "1", "--limit", "256", "--data", DATA, "--out", "out"], "Test set loss"),
    "dcgan": (["--dry-run", "--niter", "1", "--limit", "128", "--dataroot", DATA, "--outf", "out", "--manualSeed", "1"],
              "Loss_D"),
    "time_sequence_prediction": (["--steps", "2", "--length", "60", "--future", "20", "--max-iter", "4",
                                  "--out", "out"], "test loss"),
    "regression": ([], "==> Learned function"),
    "text_classification": (["--epochs", "5", "--data", DATA], "test accuracy"),
}
USES_TORCHVISION = {"mnist", "vae", "dcgan"}


@pytest.fixture(scope="module")
def torchvision_root(tmp_path_factory):
    """MNIST in torchvision's layout (<root>/MNIST/raw/, unzipped), so that torchvision finds it
    and never downloads; the data flag of each program is pointed here for the torch run."""
    raw = tmp_path_factory.mktemp("tv") / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for gz in (DATA_ROOT / "01-digits" / "mnist").glob("*.gz"):
        (raw / gz.stem).write_bytes(gzip.decompress(gz.read_bytes()))
    return str(raw.parent.parent)


def to_torch(source: str) -> str:
    """The program with its imports mapped back: lamina.vision -> torchvision, lamina -> torch."""
    return re.sub(r"\blamina\b", "torch", source.replace("lamina.vision", "torchvision"))


def run(path: Path, args, cwd, shim: bool = False) -> str:
    """Run one program; `shim` puts the test-only torchvision stand-in on the path."""
    paths = [str(SHIM)] if shim else []
    # one thread each: torch's thread pool crawls when other test processes share the 2 cores
    env = {**os.environ, "PYTHONPATH": os.pathsep.join(paths + [str(EXAMPLES.parent.parent)]), "MPLBACKEND": "Agg",
           "OMP_NUM_THREADS": "1"}
    proc = subprocess.run([sys.executable, str(path), *args], cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=300)
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc.stdout


def test_every_program_is_covered():
    assert sorted(p.stem for p in EXAMPLES.glob("*.py")) == sorted(RUNS)


@pytest.mark.parametrize("name", sorted(RUNS))
def test_lamina_appears_only_in_imports(name):
    """Nothing lamina-specific but the imports: every `lamina` token is on an import line."""
    source = (EXAMPLES / f"{name}.py").read_text()
    lines = source.splitlines()
    hits = [t for t in tokenize.generate_tokens(io.StringIO(source).readline)
            if t.type == tokenize.NAME and t.string == "lamina"]
    assert hits, "the program imports lamina"
    for t in hits:
        line = lines[t.start[0] - 1].strip()
        assert line.startswith(("import lamina", "from lamina")), f"{name}.py:{t.start[0]}: {line}"


@needs_data
@pytest.mark.parametrize("name", sorted(RUNS))
def test_runs_under_lamina(name, tmp_path):
    args, expect = RUNS[name]
    out = run(EXAMPLES / f"{name}.py", args, tmp_path)
    assert expect in out, out[-2000:]
    check_result(name, out, tmp_path)


@needs_data
@pytest.mark.parametrize("name", sorted(RUNS))
def test_same_text_runs_under_torch(name, tmp_path, request):
    pytest.importorskip("torch")
    args, expect = RUNS[name]
    if name in USES_TORCHVISION:  # (the real torchvision on this machine can't load beside CPU torch)
        root = request.getfixturevalue("torchvision_root")
        args = [root if a == DATA else a for a in args]
    path = tmp_path / f"{name}_torch.py"
    path.write_text(to_torch((EXAMPLES / f"{name}.py").read_text()))
    out = run(path, args, tmp_path, shim=name in USES_TORCHVISION)
    assert expect in out, out[-2000:]
    check_result(name, out, tmp_path)


def check_result(name: str, out: str, folder: Path) -> None:
    """What each program must have achieved, beyond finishing."""
    if name == "regression":  # converged: learned coefficients within 0.2 of the true ones
        learned = [float(v) for v in re.findall(r"[+-]\d+\.\d+", out.split("Learned function:")[1].splitlines()[0])]
        actual = [float(v) for v in re.findall(r"[+-]\d+\.\d+", out.split("Actual function:")[1].splitlines()[0])]
        assert len(learned) == len(actual) == 5 and max(abs(a - b) for a, b in zip(learned, actual)) < 0.2, out
    elif name == "text_classification":  # a bag of embeddings beats chance clearly on 600 held-out sentences
        assert float(re.search(r"test accuracy\s+([\d.]+)", out).group(1)) > 0.65, out
    elif name == "time_sequence_prediction":
        losses = [float(v) for v in re.findall(r"^loss: ([\d.e-]+)", out, re.M)]
        assert losses[-1] < losses[0], losses
        assert (folder / "out" / "predict1.png").stat().st_size > 0
    elif name == "vae":
        assert (folder / "out" / "reconstruction_1.png").stat().st_size > 0 and (folder / "out" / "sample_1.png").exists()
    elif name == "dcgan":
        assert (folder / "out" / "fake_samples_epoch_000.png").exists() and (folder / "out" / "netG_epoch_0.pth").exists()
    elif name == "word_language_model":
        assert (folder / "model.pt").exists()
