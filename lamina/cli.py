"""The `lamina` command: train, evaluate, predict, list, demo.

    lamina train mnist-cnn --data-root ../shared/data
    lamina train recipes/mnist_cnn.toml --set optim.lr=0.01 --epochs 3
    lamina train --resume runs/mnist-cnn-20250101-120000
    lamina train --resume runs/mnist-cnn-20250101-120000 --epochs 10    # extend a finished run
    lamina evaluate runs/mnist-cnn-20250101-120000 [--split val]
    lamina predict runs/mnist-cnn-20250101-120000 digit.png photos/
    lamina list
    lamina demo
    lamina embed path/to/all-MiniLM-L6-v2 sentences.txt -o vectors.npy

Errors are printed as one line, `lamina: error: ...`, without a traceback (add --debug for one).
"""
from __future__ import annotations

import argparse
import os
import sys
import time


def _positive_int(text: str) -> int:
    """An argparse type: a whole number of at least 1 (`-k 0` or `-k -2` would show nothing)."""
    try:
        n = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {text!r}") from None
    if n < 1:
        raise argparse.ArgumentTypeError(f"expected a whole number >= 1, got {n}")
    return n


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="lamina", description="lamina: train, evaluate and use models from the shell")
    from . import __version__
    p.add_argument("--version", action="version", version=f"lamina {__version__}")
    sub = p.add_subparsers(dest="command", metavar="command")

    def common(sp):
        sp.add_argument("--debug", action="store_true", help="show the full traceback on errors")

    t = sub.add_parser("train", help="train a task or a recipe.toml; writes runs/<name>-<timestamp>/")
    t.add_argument("spec", nargs="?", help="a task name (see `lamina list`) or a recipe .toml file")
    t.add_argument("--set", dest="sets", action="append", default=[], metavar="KEY=VALUE",
                   help="override a recipe key, e.g. optim.lr=0.01 or data.path=/x (repeatable)")
    t.add_argument("--epochs", type=_positive_int,
                   help="number of epochs (train.epochs); with --resume, a finished run trains on to this many "
                        "epochs in all")
    t.add_argument("--device", help="cpu (default) or cuda (train.device)")
    t.add_argument("--data-root", help="folder holding the data sets (default $LAMINA_DATA or ~/.cache/lamina)")
    t.add_argument("--name", help="run name (default: the task or recipe file name)")
    t.add_argument("--runs", default="runs", help="where run directories go (default ./runs)")
    t.add_argument("--resume", metavar="RUN_DIR", help="continue a run from its last checkpoint")
    common(t)

    e = sub.add_parser("evaluate", help="loss and metrics of a run's best weights on its test (or validation) data, "
                                        "per-class precision/recall and a confusion-matrix plot")
    e.add_argument("run_dir")
    e.add_argument("--split", choices=["test", "val"], default="test", help="which split to score (default test)")
    e.add_argument("--data-root", help="folder holding the data sets")
    common(e)

    pr = sub.add_parser("predict", help="top classes with probabilities for image files (resized and converted "
                                        "to what the model expects)")
    pr.add_argument("run_dir")
    pr.add_argument("inputs", nargs="+", help="image files, or folders of them")
    pr.add_argument("-k", "--top", type=_positive_int, default=3, help="how many classes to show (default 3)")
    common(pr)

    ls = sub.add_parser("list", help="tasks and data sets, and whether each data set's files are present")
    ls.add_argument("--data-root", help="folder holding the data sets")
    common(ls)

    b = sub.add_parser("bench", help="the speed suite: training steps of lamina against PyTorch (needs torch); "
                                     "other arguments go to benchmarks/suite.py (--only W1,W3 ...)")
    common(b)

    em = sub.add_parser("embed", help="one sentence vector per line of a text file, from a sentence-transformers "
                                      "folder (e.g. all-MiniLM-L6-v2); writes a (lines, dim) float32 .npy")
    em.add_argument("model", help="a sentence-transformers model folder (or hub name, with huggingface_hub)")
    em.add_argument("text_file", help="UTF-8 text, one sentence per line (empty lines get vectors too)")
    em.add_argument("-o", "--output", help="the .npy file to write (default: <text_file>.npy)")
    em.add_argument("--batch-size", type=_positive_int, default=32)
    common(em)

    d = sub.add_parser("demo", help="train a small CNN on the bundled MNIST digits (about 12 s on 2 cores)")
    d.add_argument("--runs", default="runs", help="where the run directory goes (default ./runs)")
    common(d)
    return p


def _metrics_line(logs: dict, prefix: str = "val_") -> str:
    parts = []
    for k, v in logs.items():
        if k.startswith(prefix) and isinstance(v, float):
            parts.append(f"{k} {v:.4f}" if "loss" in k else f"{k} {v:.4f}")
    return " ".join(parts)


def cmd_train(args) -> int:
    from .tasks import runner
    if args.resume:
        recipe = None
        if args.data_root:
            from .tasks import Recipe
            recipe = Recipe()
            recipe.data.root = args.data_root
        if args.spec or args.sets:
            raise ValueError("--resume continues a run with its own recipe; drop the task and --set "
                             "(--epochs N extends a finished run to N epochs)")
        run, logs, trainer = runner.train(recipe, resume=args.resume, epochs=args.epochs)
    else:
        if not args.spec:
            raise ValueError("train: name a task or a recipe .toml file (see `lamina list`), or --resume RUN_DIR")
        sets = list(args.sets)
        if args.epochs is not None:
            sets.append(f"train.epochs={args.epochs}")
        if args.device:
            sets.append(f"train.device={args.device}")
        if args.data_root:
            sets.append(f"data.root={args.data_root}")
        if args.name:
            sets.append(f"name={args.name}")
        recipe = runner.load_recipe(args.spec, sets)
        run, logs, trainer = runner.train(recipe, runs_root=args.runs)
    if trainer.interrupted:
        return 130
    config = run.read_config()
    sample = runner.get_task(config["recipe"]["task"]).sample(trainer.model, runner.DataInfo(**config["data_info"]))
    if sample:
        print("sample:\n" + sample)
    print(_metrics_line(logs))
    if any(k.startswith("test_") for k in logs):
        print(_metrics_line(logs, "test_"))
    return 0


def cmd_demo(args) -> int:
    from .tasks import demo_recipe, runner
    start = time.perf_counter()
    print("lamina demo: a small CNN learns handwritten digits from 9,000 of the bundled MNIST images, on the CPU, "
          "picks its best epoch on 1,000 more and is scored on 2,000 it never saw")
    run, logs, trainer = runner.train(demo_recipe(), runs_root=args.runs)
    if trainer.interrupted:
        return 130
    print(_metrics_line(logs))
    print(_metrics_line(logs, "test_"))
    plots = [p.name for p in (run.path / "loss.png", run.path / "metrics.png") if p.is_file()]
    print(f"done in {time.perf_counter() - start:.0f} s: test accuracy {logs.get('test_accuracy', 0):.2%} "
          f"(validation {logs.get('val_accuracy', 0):.2%}). "
          f"Run directory {run.path}" + (f" (plots: {', '.join(plots)})" if plots else ""))
    print(f"try: lamina predict {run.path} <image.png>   |   lamina evaluate {run.path}")
    return 0


def cmd_evaluate(args) -> int:
    from .tasks import runner
    ev = runner.evaluate(args.run_dir, args.data_root, args.split)
    print(f"{ev.split} split: {ev.size:,} samples, {ev.weights}")
    print(_metrics_line(ev.logs, f"{ev.split}_"))
    if ev.report:
        print(ev.report)
    if ev.confusion is not None:
        print(f"confusion matrix: {ev.plot}" if ev.plot else "confusion matrix: no plot (needs matplotlib)")
    return 0


def cmd_predict(args) -> int:
    from .tasks import runner
    results = runner.predict(args.run_dir, args.inputs, args.top)
    for r in results:
        if r.error:
            print(f"{r.path}: error: {r.error}", file=sys.stderr)
            continue
        print(f"{r.path}: " + ", ".join(f"{name} {p:.1%}" for name, p in r.top)
              + (f"   (note: {'; '.join(r.notes)})" if r.notes else ""))
    failed = sum(r.error is not None for r in results)
    if failed:  # the others were still predicted; the status says not all went well
        raise RuntimeError(f"predict: {failed} of {len(results)} input(s) could not be read (see above)")
    return 0


def cmd_list(args) -> int:
    from .data.datasets import data_root, list_datasets
    from .tasks import TASKS
    print("tasks:")
    for name, task in TASKS.items():
        print(f"  {name:<20} {task.description}")
    root = args.data_root or None
    print(f"data sets (data root {data_root(root)}):")
    infos = list_datasets(root)
    for info in infos:
        status = "user-supplied path" if info.present is None else ("present" if info.present else "missing")
        where = f"  {info.location}" if info.present else ""
        print(f"  {info.name:<20} {status:<19} {info.description}{where}")
    # the bundled digits are always there; anything else present means the root is right
    if not any(info.present and info.name != "mnist-bundled" for info in infos):
        print(f"no data sets found under {data_root(root)}: point lamina at the folder that holds them with "
              f"--data-root DIR or LAMINA_DATA=DIR (e.g. ../shared/data); the demo needs none (mnist-bundled)")
    return 0


def cmd_bench(args) -> int:
    """Run benchmarks/suite.py from the source checkout this package was installed from."""
    import subprocess
    from pathlib import Path

    import importlib.util

    suite = Path(__file__).resolve().parent.parent / "benchmarks" / "suite.py"
    if not suite.exists():
        raise FileNotFoundError(f"bench: {suite} not found; the benchmarks ship with the source checkout "
                                "(git clone, then pip install -e .)")
    try:  # the suite runs lamina against PyTorch side by side; without it the suite fails deep inside
        has_torch = importlib.util.find_spec("torch") is not None
    except ValueError:  # a torch module without a spec: treat as missing
        has_torch = False
    if not has_torch:
        raise ModuleNotFoundError("bench needs PyTorch, which each workload is measured against; install the "
                                  "CPU build with pip install torch==2.13.0 (lamina itself never imports it)")
    return subprocess.call([sys.executable, str(suite), *args.bench_args])


def cmd_embed(args) -> int:
    from pathlib import Path

    import numpy as np

    from .models.sentence import SentenceEncoder
    path = Path(args.text_file)
    if not path.is_file():
        raise FileNotFoundError(f"embed: {path} is not a file; expected a UTF-8 text file, one sentence per line")
    try:
        lines = path.read_text(encoding="utf-8").splitlines()
    except UnicodeDecodeError as e:
        raise ValueError(f"embed: {path} is not UTF-8 text ({e.reason} at byte {e.start})") from None
    encoder = SentenceEncoder.from_pretrained(args.model)
    vectors = encoder.encode(lines, batch_size=args.batch_size, show_progress_bar=len(lines) > 4 * args.batch_size)
    out = Path(args.output) if args.output else path.with_suffix(path.suffix + ".npy")
    tmp = out.with_name(f".{out.name}.tmp")
    with open(tmp, "wb") as f:  # np.save on a file object: it would append .npy to a path without one
        np.save(f, vectors)
    os.replace(tmp, out)
    print(f"{out}: {vectors.shape[0]} vectors of dimension {vectors.shape[1]} (float32)")
    return 0


COMMANDS = {"train": cmd_train, "embed": cmd_embed, "bench": cmd_bench, "evaluate": cmd_evaluate, "predict": cmd_predict, "list": cmd_list, "demo": cmd_demo}


def main(argv: list[str] | None = None) -> int:
    """Entry point of the `lamina` console script; returns the exit status."""
    parser = _parser()
    args, extra = parser.parse_known_args(argv)
    if extra and args.command != "bench":  # only bench passes arguments on (to benchmarks/suite.py)
        parser.error(f"unrecognized arguments: {' '.join(extra)}")
    args.bench_args = extra
    if not args.command:
        _parser().print_help()
        return 2
    try:
        if getattr(args, "data_root", None):  # every command that takes one: a typo fails here, not later
            from .data.datasets import check_root
            check_root(args.data_root, "--data-root")
        return COMMANDS[args.command](args)
    except KeyboardInterrupt:
        print("lamina: interrupted", file=sys.stderr)
        return 130
    except Exception as e:  # one line, no traceback: the messages say what to fix
        if args.debug or os.environ.get("LAMINA_DEBUG"):
            raise
        msg = str(e).strip().splitlines()[0] if str(e).strip() else type(e).__name__
        print(f"lamina: error: {msg}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
