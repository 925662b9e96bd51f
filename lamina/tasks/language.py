"""Character-level language modelling on tiny-shakespeare: the GPT and the char-LSTM as tasks.

The data is the text encoded over its characters: the first 90% for training (as the examples/
scripts), the next 5% for validation (picking the best checkpoint) and the last 5% for the
final test. An "epoch" is `data.steps_per_epoch` batches of random
windows, since one pass over every window would be a million of them; validation reads
non-overlapping windows of the held-out text. The loss, in nats per character, is the metric.
"""
from __future__ import annotations

from typing import Callable

import numpy as np

from ..creation import Generator
from ..data import DataLoader, Dataset, RandomSampler
from ..data.datasets import TinyShakespeare
from ..nn import functional as F
from ..nn.module import Module
from ..tensor import Tensor
from .classification import Data, DataInfo, ImageClassification
from .recipe import Recipe, RecipeError


class Windows(Dataset):
    """(x, y) pairs of `block_size` ids and the ids one step later, starting every `stride` ids."""

    def __init__(self, ids: np.ndarray, block_size: int, stride: int = 1):
        self.ids, self.block_size, self.stride = ids, block_size, stride

    def __len__(self) -> int:
        return (len(self.ids) - self.block_size - 1) // self.stride + 1

    def __getitem__(self, i: int):
        s = i * self.stride
        return self.ids[s:s + self.block_size], self.ids[s + 1:s + self.block_size + 1]


class LanguageModel(ImageClassification):
    """A task whose model maps (B, T) ids to (B, T, vocab) logits (first item of its output)."""

    classifier = False  # 65 characters: the loss per character is the report, not a confusion matrix

    def build_data(self, recipe: Recipe) -> Data:
        text = TinyShakespeare(root=recipe.data.root or None)
        ids, T = text.ids, recipe.data.block_size
        n, m = int(0.9 * len(ids)), int(0.95 * len(ids))
        info = DataInfo(classes=list(text.vocab), channels=0, image_size=T, mean=[], std=[], resize=False)
        return Data(Windows(ids[:n], T), Windows(ids[n:m], T, stride=T), info, test=Windows(ids[m:], T, stride=T))

    def loaders(self, recipe: Recipe, data: Data) -> tuple[DataLoader, DataLoader, DataLoader]:
        d = recipe.data
        gen = Generator().manual_seed(recipe.train.seed + 1)
        sampler = RandomSampler(data.train, replacement=True, num_samples=d.steps_per_epoch * d.batch_size,
                                generator=gen)
        train = DataLoader(data.train, batch_size=d.batch_size, sampler=sampler)
        return train, self.eval_loader(recipe, data.val), self.eval_loader(recipe, data.test)

    def build_model(self, recipe: Recipe, info: DataInfo) -> Module:
        m, vocab = recipe.model, len(info.classes)
        if m.name == "gpt":
            from ..models.gpt import GPT, GPTConfig
            return GPT(GPTConfig(vocab_size=vocab, block_size=info.image_size, n_layer=m.layers, n_head=m.heads,
                                 n_embd=m.width, dropout=m.dropout))
        if m.name == "char-lstm":
            from ..models.char_lstm import CharLSTM, CharLSTMConfig
            return CharLSTM(CharLSTMConfig(vocab_size=vocab, embed_dim=m.fc, hidden_size=m.width, num_layers=m.layers))
        raise RecipeError(f"recipe: unknown model.name {m.name!r} for a language model; known: gpt, char-lstm")

    def loss_fn(self, output, target: Tensor) -> Tensor:
        logits = output[0]  # GPT gives (logits, loss), the LSTM (logits, state)
        return F.cross_entropy(logits.reshape(-1, logits.shape[-1]), target.reshape(-1))

    def metrics(self, info: DataInfo) -> Callable[[], dict]:
        return lambda: {}  # the loss in nats/char is the measure

    def sample(self, model: Module, info: DataInfo) -> str:
        """300 characters generated from "ROMEO:" (temperature 0.8, top-k 20, a fixed seed)."""
        vocab = info.classes
        prompt = Tensor(np.array([[vocab.index(c) for c in "ROMEO:\n"]]))
        out = model.generate(prompt, 300, temperature=0.8, top_k=20, generator=Generator().manual_seed(0))
        return "".join(vocab[i] for i in out[0].tolist())

    def example_input(self, info: DataInfo) -> tuple[tuple[int, ...], str]:
        return (1, info.image_size), "int64"  # one window of block_size ids

    def load_input(self, path: str, info: DataInfo) -> tuple[Tensor, list[str]]:
        raise RecipeError(f"predict: {self.name} is a language model; its training run ends with a text sample")
