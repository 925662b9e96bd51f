"""lamina.train: the training loop, its callbacks, checkpoints and run directories.

>>> from lamina.train import Trainer, TrainConfig, RunDir, ModelCheckpoint
>>> Trainer(model, F.cross_entropy, opt, train_loader, val_loader, config=TrainConfig(epochs=3),
...         callbacks=[ModelCheckpoint()], run_dir=RunDir.create("mnist")).fit()
"""
from .callbacks import Callback, EarlyStopping, GradientClipping, LRScheduling, ModelCheckpoint  # noqa: F401
from .config import TrainConfig  # noqa: F401
from .plots import plot_history  # noqa: F401
from .progress import format_metrics  # noqa: F401
from .rundir import RunDir  # noqa: F401
from .trainer import Trainer, TrainingError  # noqa: F401

__all__ = ["Trainer", "TrainingError", "TrainConfig", "RunDir", "Callback", "EarlyStopping", "GradientClipping",
           "LRScheduling", "ModelCheckpoint", "plot_history", "format_metrics"]
