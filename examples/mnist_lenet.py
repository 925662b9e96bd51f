"""Train a LeNet-style CNN on MNIST with SGD + momentum: about 99% test accuracy in 2 epochs on a CPU.

    python examples/mnist_lenet.py [--data-root /work/shared/data] [--epochs 2] [--batch-size 32]

The MNIST IDX files are read from <data root>/01-digits/mnist, where the data root is
--data-root, else $LAMINA_DATA, else /work/shared/data. On the 2-core VM the 2 epochs took
about 18 s, with OpenBLAS's default threads or with OPENBLAS_NUM_THREADS=1 alike.
"""
from __future__ import annotations

import argparse
import gzip
import os
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

import lamina  # noqa: E402
import lamina.nn as nn  # noqa: E402
import lamina.nn.functional as F  # noqa: E402


def read_idx(path: str) -> np.ndarray:
    """An IDX file (gzip-compressed) as a NumPy array: magic, dims as big-endian int32, then uint8 data."""
    with gzip.open(path, "rb") as f:
        raw = f.read()
    ndim = raw[3]
    dims = np.frombuffer(raw, dtype=">i4", count=ndim, offset=4)
    return np.frombuffer(raw, dtype=np.uint8, offset=4 + 4 * ndim).reshape(tuple(int(d) for d in dims))


def load_mnist(root: str, split: str):
    """Images as float32 (N, 1, 28, 28) normalised with MNIST's mean and std, labels as int64."""
    prefix = "train" if split == "train" else "t10k"
    d = os.path.join(root, "01-digits", "mnist")
    images = read_idx(os.path.join(d, f"{prefix}-images-idx3-ubyte.gz"))
    labels = read_idx(os.path.join(d, f"{prefix}-labels-idx1-ubyte.gz"))
    x = ((images.astype(np.float32) / 255.0 - 0.1307) / 0.3081)[:, None]  # (N, 1, 28, 28)
    return x, labels.astype(np.int64)


class LeNet(nn.Module):
    """LeNet-5 with ReLU and max pooling: two conv/pool stages, then three dense layers."""

    def __init__(self, num_classes: int = 10):
        super().__init__()
        self.features = nn.Sequential(
            nn.Conv2d(1, 6, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),  # (N, 6, 14, 14)
            nn.Conv2d(6, 16, 5), nn.ReLU(), nn.MaxPool2d(2),  # (N, 16, 5, 5)
        )
        self.classifier = nn.Sequential(
            nn.Flatten(), nn.Linear(16 * 5 * 5, 120), nn.ReLU(), nn.Linear(120, 84), nn.ReLU(), nn.Linear(84, num_classes),
        )

    def forward(self, x):
        return self.classifier(self.features(x))


def evaluate(model: nn.Module, x: np.ndarray, y: np.ndarray, batch_size: int = 1000) -> float:
    model.eval()
    correct = 0
    with lamina.no_grad():
        for i in range(0, len(x), batch_size):
            logits = model(lamina.tensor(x[i:i + batch_size]))
            correct += int((logits.numpy().argmax(1) == y[i:i + batch_size]).sum())
    model.train()
    return correct / len(x)


def main(argv=None) -> float:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--data-root", default=os.environ.get("LAMINA_DATA", "/work/shared/data"))
    ap.add_argument("--epochs", type=int, default=2)
    ap.add_argument("--batch-size", type=int, default=32)
    ap.add_argument("--lr", type=float, default=0.02)
    ap.add_argument("--momentum", type=float, default=0.9)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    start = time.perf_counter()
    x_train, y_train = load_mnist(args.data_root, "train")
    x_test, y_test = load_mnist(args.data_root, "test")
    print(f"MNIST: {len(x_train)} train, {len(x_test)} test images from {args.data_root}")

    lamina.manual_seed(args.seed)
    rng = np.random.default_rng(args.seed)
    model = LeNet()
    opt = lamina.optim.SGD(model.parameters(), lr=args.lr, momentum=args.momentum)
    steps_per_epoch = len(x_train) // args.batch_size
    total = args.epochs * steps_per_epoch
    step = 0
    for epoch in range(args.epochs):
        order = rng.permutation(len(x_train))
        seen, loss_sum, hits = 0, 0.0, 0
        for b in range(steps_per_epoch):
            # linear decay of the learning rate to zero over the run: the last steps settle the weights
            opt.param_groups[0]["lr"] = args.lr * (1 - step / total)
            idx = order[b * args.batch_size:(b + 1) * args.batch_size]
            xb, yb = lamina.tensor(x_train[idx]), lamina.tensor(y_train[idx])
            logits = model(xb)
            loss = F.cross_entropy(logits, yb)
            opt.zero_grad()
            loss.backward()
            opt.step()
            step += 1
            seen += len(idx)
            loss_sum += float(loss.item()) * len(idx)
            hits += int((logits.detach().numpy().argmax(1) == y_train[idx]).sum())
            if (b + 1) % 200 == 0 or b + 1 == steps_per_epoch:
                print(f"epoch {epoch + 1} step {b + 1}/{steps_per_epoch}  loss {loss_sum / seen:.4f}  "
                      f"train acc {hits / seen:.4f}  {time.perf_counter() - start:.0f}s", flush=True)
        acc = evaluate(model, x_test, y_test)
        print(f"epoch {epoch + 1}: test accuracy {acc:.4f}", flush=True)
    wall = time.perf_counter() - start
    print(f"final test accuracy {acc:.4f} after {args.epochs} epochs, wall time {wall:.1f}s")
    return acc


if __name__ == "__main__":
    main()
