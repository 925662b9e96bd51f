"""Image classification: data + model + loss + metrics + how to show a prediction.

Every image task here is this one class with different default recipes (see tasks/__init__.py):
the data set decides the images, the recipe's model section the network.

Three splits, so that choosing the best checkpoint never sees the data it is finally scored
on: validation is a seeded, stratified `data.val_fraction` of the training images (the best
checkpoint is picked on it), and test is the data set's own test split, used once at the end.
An image folder has no test split: `val_fraction` of each class goes to validation and as much
again to test.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable

import numpy as np

from .. import nn, optim
from ..creation import Generator
from ..data import DataLoader, Dataset, Subset, TensorDataset, transforms
from ..data.datasets import DataError, check_root, get_dataset
from ..metrics import Accuracy, F1Score, Metric
from ..nn import functional as F
from ..nn.module import Module
from ..tensor import Tensor
from ..train.callbacks import Callback, EarlyStopping, GradientClipping, LRScheduling, ModelCheckpoint
from .recipe import Recipe, RecipeError


@dataclass
class DataInfo:
    """What a trained model needs to know about its inputs; saved in config.json for predict."""
    classes: list[str]
    channels: int
    image_size: int
    mean: list[float]
    std: list[float]
    resize: bool  # True: inputs of any size are resized (image-folder); False: they must match

    def to_dict(self) -> dict[str, Any]:
        return dict(vars(self))


@dataclass
class Data:
    train: Dataset
    val: Dataset
    info: DataInfo
    test: Dataset | None = None
    extra: dict = field(default_factory=dict)


def holdout(targets, fraction: float, seed: int, parts: int = 1) -> list[np.ndarray]:
    """Seeded, stratified split of indices: [rest, part 1, ..., part `parts`], each part about
    `fraction` of every class (at least one image of a class with more than `parts` images)."""
    if not 0 < fraction * parts < 1:
        raise RecipeError(f"data.val_fraction must be in (0, {1 / parts:g}), got {fraction}")
    rng = np.random.default_rng(seed)
    targets = np.asarray(targets)
    out: list[list[int]] = [[] for _ in range(parts + 1)]
    for c in np.unique(targets):
        idx = rng.permutation(np.flatnonzero(targets == c))
        n = max(1, int(round(len(idx) * fraction))) if len(idx) > parts else 0
        for p in range(parts):
            out[p + 1] += idx[p * n:(p + 1) * n].tolist()
        out[0] += idx[parts * n:].tolist()
    return [np.array(sorted(o), dtype=np.int64) for o in out]


def _nchw(images: np.ndarray) -> np.ndarray:
    """uint8 images (N, H, W) or (N, H, W, C) as (N, C, H, W)."""
    return images[:, None] if images.ndim == 3 else images.transpose(0, 3, 1, 2)


class _Standardize:
    """(x / 255 - mean) / std on a single CHW uint8 image or PIL image, as float32."""

    def __init__(self, mean: list[float], std: list[float]):
        self.to_tensor = transforms.ToTensor()
        self.normalize = transforms.Normalize(mean, std)

    def __call__(self, img):
        return self.normalize(self.to_tensor(img))


class ImageClassification:
    """Classify images into the data set's classes with cross-entropy; report accuracy and macro F1."""

    classifier = True  # `lamina evaluate` shows per-class precision/recall and a confusion matrix

    def __init__(self, name: str, description: str, defaults: Callable[[], Recipe]):
        self.name, self.description, self._defaults = name, description, defaults

    def default_recipe(self) -> Recipe:
        recipe = self._defaults()
        recipe.task = self.name
        return recipe

    # ---- data -------------------------------------------------------------------------------
    def build_data(self, recipe: Recipe) -> Data:
        """Train, validation and test sets as lamina Datasets, plus the DataInfo of their images."""
        d = recipe.data
        root = d.root or None
        if root is not None:
            check_root(root)
        if d.dataset == "image-folder":
            return self._image_folder(recipe, root)
        cls = get_dataset(d.dataset)
        train = cls(root=root, train=True)
        test = cls(root=root, train=False)
        if not hasattr(train, "data") or not hasattr(train, "targets"):
            raise RecipeError(f"{self.name}: dataset {d.dataset!r} is not an image data set with a train/test split")
        x_all, y_all = _nchw(np.asarray(train.data)), np.asarray(train.targets)
        train_idx, val_idx = holdout(y_all, d.val_fraction, recipe.train.seed)
        x_train, x_val, x_test = x_all[train_idx], x_all[val_idx], _nchw(np.asarray(test.data))
        # mean and std of the training pixels, per channel: computed once, saved for predict
        scaled = x_train.reshape(x_train.shape[0], x_train.shape[1], -1)
        mean = [float(m) / 255 for m in scaled.mean(axis=(0, 2))]
        std = [float(s) / 255 for s in scaled.std(axis=(0, 2))]
        info = DataInfo(list(getattr(train, "classes", None) or [str(i) for i in range(int(np.asarray(train.targets).max()) + 1)]),
                        x_train.shape[1], x_train.shape[2], mean, std, resize=False)

        def tensors(x, y):  # whole split standardised up front: far faster than per-sample transforms
            m = np.asarray(mean, np.float32)[None, :, None, None]
            s = np.asarray(std, np.float32)[None, :, None, None]
            return TensorDataset((x.astype(np.float32) / 255 - m) / s, np.asarray(y, np.int64))

        return Data(tensors(x_train, y_all[train_idx]), tensors(x_val, y_all[val_idx]), info,
                    test=tensors(x_test, test.targets))

    def _image_folder(self, recipe: Recipe, root) -> Data:
        from ..data.datasets import ImageFolder
        d = recipe.data
        if not d.path:
            raise RecipeError(f"{self.name}: give the folder of class sub-folders with --set data.path=<folder>")
        size, channels = d.image_size or 32, d.channels or 3
        mean, std = [0.5] * channels, [0.5] * channels
        mode = "L" if channels == 1 else "RGB"
        standardize = _Standardize(mean, std)
        base = [transforms.Resize((size, size))]
        train_tf = transforms.Compose(base + ([transforms.RandomHorizontalFlip()] if d.augment else []) + [standardize])
        val_tf = transforms.Compose(base + [standardize])
        full = ImageFolder(d.path, mode=mode, data_root=root)
        if len(full.classes) < 2:
            raise DataError(f"{self.name}: {full.root} has {len(full.classes)} class sub-folder(s); need at least 2")
        train_idx, val_idx, test_idx = holdout(full.targets, d.val_fraction, recipe.train.seed, parts=2)
        train_ds = ImageFolder(d.path, transform=train_tf, mode=mode, data_root=root)
        val_ds = ImageFolder(d.path, transform=val_tf, mode=mode, data_root=root)
        info = DataInfo(list(full.classes), channels, size, mean, std, resize=True)
        return Data(Subset(train_ds, train_idx.tolist()), Subset(val_ds, val_idx.tolist()), info,
                    test=Subset(val_ds, test_idx.tolist()), extra={"root": full.root})

    def loaders(self, recipe: Recipe, data: Data) -> tuple[DataLoader, DataLoader, DataLoader | None]:
        """(train, val, test) loaders; test is None where the data has no test split.

        The training loader shuffles with its own generator (seeded), so that its order does
        not share a random stream with dropout and initialisation."""
        d = recipe.data
        gen = Generator().manual_seed(recipe.train.seed + 1)
        train = DataLoader(data.train, batch_size=d.batch_size, shuffle=True, generator=gen,
                           num_workers=d.num_workers)
        return train, self.eval_loader(recipe, data.val), self.eval_loader(recipe, data.test)

    def eval_loader(self, recipe: Recipe, dataset: Dataset | None) -> DataLoader | None:
        if dataset is None:
            return None
        return DataLoader(dataset, batch_size=recipe.data.val_batch_size, shuffle=False,
                          num_workers=recipe.data.num_workers)

    # ---- model, loss, metrics, optimiser ----------------------------------------------------
    def build_model(self, recipe: Recipe, info: DataInfo) -> Module:
        from ..models.lenet import LeNet5, SmallCNN
        from ..models.mlp import MLP
        m, n = recipe.model, len(info.classes)
        if m.name == "mlp":
            return MLP(info.channels * info.image_size ** 2, n, tuple(m.hidden), m.dropout)
        if m.name == "lenet5":
            if info.image_size != 28:
                raise RecipeError(f"model lenet5 needs 28x28 images, the data has {info.image_size}x{info.image_size}; "
                                  f"use model.name=small-cnn or data.image_size=28")
            return LeNet5(info.channels, n)
        if m.name == "small-cnn":
            return SmallCNN(info.channels, n, tuple(m.channels), m.kernel_size, m.fc, m.dropout, info.image_size)
        raise RecipeError(f"recipe: unknown model.name {m.name!r}; known: mlp, lenet5, small-cnn")

    def loss_fn(self, output: Tensor, target: Tensor) -> Tensor:
        return F.cross_entropy(output, target)

    def metrics(self, info: DataInfo) -> Callable[[], dict[str, Metric]]:
        n = len(info.classes)
        return lambda: {"accuracy": Accuracy(), "f1": F1Score(n)}

    def optimizer(self, recipe: Recipe, model: Module):
        o = recipe.optim
        params = model.parameters()
        if o.name == "sgd":
            return optim.SGD(params, lr=o.lr, momentum=o.momentum, weight_decay=o.weight_decay, nesterov=o.nesterov)
        if o.name in ("adam", "adamw"):
            cls = optim.Adam if o.name == "adam" else optim.AdamW
            return cls(params, lr=o.lr, betas=tuple(o.betas), weight_decay=o.weight_decay)
        raise RecipeError(f"recipe: unknown optim.name {o.name!r}; known: sgd, adam, adamw")

    def callbacks(self, recipe: Recipe, opt, steps_per_epoch: int, start_epoch: int = 0,
                  start_step: int = 0) -> list[Callback]:
        """LR schedule, gradient clipping and early stopping as the recipe asks; checkpointing last.

        A per-step schedule (onecycle, cosine) spans the steps from `start_epoch` (at global step
        `start_step`) to the end: a run extended past its planned epochs runs a new cycle."""
        s, t = recipe.schedule, recipe.train
        total = (t.epochs - start_epoch) * steps_per_epoch
        if t.max_steps:
            total = min(total, t.max_steps - start_step)
        cbs: list[Callback] = []
        if s.name == "onecycle":
            cbs.append(LRScheduling(optim.lr_scheduler.OneCycleLR(
                opt, max_lr=recipe.optim.lr, total_steps=max(total, 1), pct_start=s.pct_start,
                div_factor=s.div_factor, final_div_factor=s.final_div_factor), "step"))
        elif s.name == "cosine":
            cbs.append(LRScheduling(optim.lr_scheduler.CosineAnnealingLR(opt, T_max=max(total, 1)), "step"))
        elif s.name == "step":
            cbs.append(LRScheduling(optim.lr_scheduler.StepLR(opt, step_size=s.step_size, gamma=s.gamma), "epoch"))
        elif s.name == "plateau":
            cbs.append(LRScheduling(optim.lr_scheduler.ReduceLROnPlateau(
                opt, mode=t.mode, factor=s.gamma, patience=s.patience), "epoch", t.monitor))
        elif s.name != "none":
            raise RecipeError(f"recipe: unknown schedule.name {s.name!r}; known: none, onecycle, cosine, step, plateau")
        if t.grad_clip:
            cbs.insert(0, GradientClipping(t.grad_clip))
        if t.early_stopping:
            cbs.append(EarlyStopping(t.monitor, t.mode, t.early_stopping))
        cbs.append(ModelCheckpoint(t.monitor, t.mode, t.checkpoint_every))
        return cbs

    def example_input(self, info: DataInfo) -> tuple[tuple[int, ...], str]:
        """(shape, dtype) of a batch of one, for the model summary."""
        return (1, info.channels, info.image_size, info.image_size), "float32"

    # ---- prediction -------------------------------------------------------------------------
    def load_input(self, path: str, info: DataInfo) -> tuple[Tensor, list[str]]:
        """One image file as a (1, C, H, W) batch, standardised like the training data, and notes
        on what was changed to get there (colour mode, size): any image is made to fit the model."""
        from ..data.datasets import pil_loader
        p = Path(path)
        if not p.is_file():
            raise FileNotFoundError(f"{path} not found")
        try:
            img = pil_loader(str(p), None)
        except ImportError:
            raise RuntimeError("predict: reading images needs Pillow (pip install 'lamina[images]')") from None
        except OSError as e:  # Pillow's own message names a file object, not the path
            why = "not an image file Pillow can read" if type(e).__name__ == "UnidentifiedImageError" else str(e)
            raise DataError(f"can't read {path} as an image: {why}") from None
        notes = []
        mode = "L" if info.channels == 1 else "RGB"
        if img.mode != mode:
            notes.append(f"converted {img.mode} to {'greyscale' if mode == 'L' else 'RGB'}")
            img = img.convert(mode)
        w, h = img.size
        if (h, w) != (info.image_size, info.image_size):
            if not info.resize:  # trained on fixed-size images (MNIST): a resize is worth saying
                notes.append(f"resized {w}x{h} to {info.image_size}x{info.image_size}")
            img = transforms.Resize((info.image_size, info.image_size))(img)
        x = _Standardize(info.mean, info.std)(img)  # (C, H, W)
        return x.unsqueeze(0), notes

    def sample(self, model: Module, info: DataInfo) -> str | None:
        """Something to show of a trained model at the end of `lamina train` (image tasks: nothing)."""
        return None

    def show_prediction(self, output: Tensor, info: DataInfo, k: int = 3) -> list[tuple[str, float]]:
        """The top-k (class name, probability) pairs for one output row."""
        probs = F.softmax(output, dim=-1)._data.reshape(-1)
        probs = np.asarray(probs.get() if hasattr(probs, "get") else probs)
        top = np.argsort(-probs)[:k]
        return [(info.classes[i], float(probs[i])) for i in top]
