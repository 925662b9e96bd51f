"""Sentence embeddings from a sentence-transformers folder (all-MiniLM-L6-v2 and its kin).

The folder holds a BERT checkpoint (config.json, model.safetensors, vocab.txt) and, in
modules.json, the steps after it: a Pooling module (1_Pooling/config.json: mean, CLS, max,
... over the tokens) and optionally Normalize (unit L2 length). `encode` runs them as
sentence-transformers does, sorting the sentences by length so that each batch pads little,
and gives the vectors back in the order the sentences came in.

>>> enc = SentenceEncoder.from_pretrained("path/to/all-MiniLM-L6-v2")
>>> vecs = enc.encode(["A man is eating food.", "Someone is eating."])   # (2, 384) float32
>>> float(vecs[0] @ vecs[1])                                               # cosine: they are unit length
"""
from __future__ import annotations

import json
import os
import sys

import numpy as np

from .. import nn
from ..autograd import no_grad
from ..creation import as_tensor
from ..tensor import Tensor
from ..train.progress import Progress
from .bert import BertModel
from .pretrained import CheckpointError, read_config, resolve

__all__ = ["SentenceEncoder"]

POOLING_MODES = ("cls", "max", "mean", "mean_sqrt_len_tokens", "weightedmean", "lasttoken")
_LEGACY_KEYS = {"pooling_mode_cls_token": "cls", "pooling_mode_max_tokens": "max",
                "pooling_mode_mean_tokens": "mean", "pooling_mode_mean_sqrt_len_tokens": "mean_sqrt_len_tokens",
                "pooling_mode_weightedmean_tokens": "weightedmean", "pooling_mode_lasttoken": "lasttoken"}


def _pooling_modes(config: dict) -> tuple[str, ...]:
    """The pooling modes of a 1_Pooling/config.json, in either layout: the old booleans
    (pooling_mode_mean_tokens: true, ...) or the newer `pooling_mode` ("mean" or a list).
    Several modes give their vectors side by side, in sentence-transformers' order."""
    if "pooling_mode" in config:
        modes = config["pooling_mode"]
        modes = (modes,) if isinstance(modes, str) else tuple(modes)
    else:
        modes = tuple(m for m in POOLING_MODES if any(config.get(k) for k, v in _LEGACY_KEYS.items() if v == m))
    bad = [m for m in modes if m not in POOLING_MODES]
    if bad or not modes:
        raise CheckpointError(f"pooling config {config}: unknown or no pooling mode (known: {', '.join(POOLING_MODES)})")
    return modes


def pool(hidden: Tensor, attention_mask: Tensor, modes: tuple[str, ...]) -> Tensor:
    """(B, T, H) token states and a (B, T) 0/1 mask -> (B, H * len(modes)) sentence vectors.

    Written with lamina ops so that a model can be fine-tuned through it; padded tokens
    never count (mean divides by the number of real tokens, at least 1e-9)."""
    from ..ops import cat

    m = attention_mask.to(hidden.dtype).unsqueeze(-1)  # (B, T, 1)
    B, T, _ = hidden.shape
    out = []
    for mode in modes:
        if mode == "cls":  # the first real token (position 0 with right padding)
            first = attention_mask._data.argmax(axis=1)
            out.append(hidden[np.arange(B), first])
        elif mode == "lasttoken":
            last = T - 1 - attention_mask._data[:, ::-1].argmax(axis=1)
            out.append(hidden[np.arange(B), last])
        elif mode == "max":
            out.append(hidden.masked_fill(m == 0, float("-inf")).max(dim=1).values)
        elif mode in ("mean", "mean_sqrt_len_tokens"):
            count = m.sum(dim=1).clamp(min=1e-9)  # (B, 1)
            out.append((hidden * m).sum(dim=1) / (count if mode == "mean" else count.sqrt()))
        else:  # weightedmean: token i of a sentence weighs i + 1
            w = m * as_tensor(np.arange(1, T + 1, dtype=m.dtype)[None, :, None], device=m.device)
            out.append((hidden * w).sum(dim=1) / w.sum(dim=1).clamp(min=1e-9))
    return out[0] if len(out) == 1 else cat(out, dim=1)


class SentenceEncoder(nn.Module):
    """A BertModel, a pooling step and optionally L2 normalisation: text in, vectors out."""

    def __init__(self, bert: BertModel, tokenizer, pooling_modes=("mean",), normalize: bool = True,
                 max_seq_length: int = 256, do_lower_case: bool = False):
        super().__init__()
        self.bert = bert
        self._tokenizer = tokenizer  # private: not a Module, and not part of the state
        self.pooling_modes, self.normalize = tuple(pooling_modes), normalize
        self.max_seq_length, self.do_lower_case = max_seq_length, do_lower_case

    @classmethod
    def from_pretrained(cls, folder_or_name: str | os.PathLike) -> "SentenceEncoder":
        """Read a sentence-transformers folder: modules.json (Transformer, Pooling, Normalize),
        the BERT checkpoint and vocab.txt at the Transformer module's path, the pooling
        config, and max_seq_length from sentence_bert_config.json. A folder without
        modules.json is taken as a plain BERT checkpoint with mean pooling, as
        sentence-transformers does, and normalisation off."""
        from ..text import WordPieceTokenizer

        folder = resolve(folder_or_name)
        modules = None
        if (folder / "modules.json").is_file():
            try:
                with open(folder / "modules.json", encoding="utf-8") as f:
                    modules = json.load(f)  # a list, which read_config (for dicts) refuses
            except json.JSONDecodeError as e:
                raise CheckpointError(f"{folder}/modules.json is not valid JSON ({e})") from None
            if not isinstance(modules, list) or not all(isinstance(m, dict) for m in modules):
                raise CheckpointError(f"{folder}/modules.json should hold a list of modules")
        if modules is None:
            bert_dir, modes, normalize = folder, ("mean",), False
        else:
            kinds = {m.get("type", "").rsplit(".", 1)[-1]: m for m in modules}
            unknown = [m.get("type") for m in modules if m.get("type", "").rsplit(".", 1)[-1]
                       not in ("Transformer", "Pooling", "Normalize")]
            if unknown or "Transformer" not in kinds:
                raise CheckpointError(f"{folder}/modules.json: lamina's SentenceEncoder runs a Transformer, "
                                      f"Pooling and Normalize; this folder also has {', '.join(map(str, unknown))}"
                                      if unknown else f"{folder}/modules.json names no Transformer module")
            bert_dir = folder / kinds["Transformer"].get("path", "")
            modes = ("mean",)
            if "Pooling" in kinds:
                modes = _pooling_modes(read_config(folder / kinds["Pooling"]["path"], "config.json"))
            normalize = "Normalize" in kinds
        st_config = {}
        for name in ("sentence_bert_config.json", "sentence_roberta_config.json"):
            if (bert_dir / name).is_file():
                st_config = read_config(bert_dir, name)
                break
        bert = BertModel.from_pretrained(bert_dir)
        tokenizer = WordPieceTokenizer.from_pretrained(bert_dir)
        max_len = st_config.get("max_seq_length")
        if max_len is None:  # sentence-transformers: the smaller of the tokenizer's and the model's limits
            limits = [bert.config.max_position_embeddings, getattr(tokenizer, "model_max_length", None)]
            max_len = min(x for x in limits if isinstance(x, int))
        return cls(bert, tokenizer, modes, normalize, int(max_len), bool(st_config.get("do_lower_case", False)))

    @property
    def tokenizer(self):
        return self._tokenizer

    def get_sentence_embedding_dimension(self) -> int:
        return self.bert.config.hidden_size * len(self.pooling_modes)

    def tokenize(self, sentences: list[str]) -> dict:
        if self.do_lower_case:
            sentences = [s.lower() for s in sentences]
        return self._tokenizer(list(sentences), padding=True, truncation=True, max_length=self.max_seq_length)

    def forward(self, input_ids, attention_mask, token_type_ids=None) -> Tensor:
        """Token ids (B, T) -> sentence vectors (B, dim), differentiable (for fine-tuning)."""
        out = self.bert(input_ids, attention_mask=attention_mask, token_type_ids=token_type_ids)
        mask = attention_mask if isinstance(attention_mask, Tensor) else as_tensor(
            np.asarray(attention_mask, dtype=np.int64), device=self.bert._device())
        v = pool(out.last_hidden_state, mask, self.pooling_modes)
        if self.normalize:
            from ..nn import functional as F
            v = F.normalize(v, p=2, dim=1)
        return v

    def encode(self, sentences, batch_size: int = 32, show_progress_bar: bool | None = None,
               normalize_embeddings: bool | None = None) -> np.ndarray:
        """(N, dim) float32 vectors of N sentences, in their order (one sentence: (dim,)).

        Batches are cut from the sentences sorted longest first (by characters, as
        sentence-transformers sorts), so each batch pads to similar lengths; text beyond
        max_seq_length tokens is cut off. normalize_embeddings=True normalises even when
        the folder has no Normalize module."""
        single = isinstance(sentences, str)
        sentences = [sentences] if single else list(sentences)
        for i, s in enumerate(sentences):
            if not isinstance(s, str):
                raise TypeError(f"SentenceEncoder.encode: sentences[{i}] is a {type(s).__name__}, expected str")
        dim = self.get_sentence_embedding_dimension()
        if not sentences:
            return np.zeros((0, dim), np.float32)
        order = np.argsort([-len(s) for s in sentences])  # the same call sentence-transformers makes
        out = np.empty((len(sentences), dim), np.float32)
        starts = range(0, len(sentences), batch_size)
        show = sys.stderr.isatty() and len(starts) > 4 if show_progress_bar is None else show_progress_bar
        bar = Progress(len(starts), desc="Batches", log_every=10) if show else None
        was_training = self.training
        self.eval()
        try:
            with no_grad():
                for start in starts:
                    idx = order[start:start + batch_size]
                    enc = self.tokenize([sentences[i] for i in idx])
                    v = self(enc["input_ids"], enc["attention_mask"], enc.get("token_type_ids"))
                    out[idx] = v._data if isinstance(v._data, np.ndarray) else v.cpu()._data
                    if bar:
                        bar.update()
        finally:
            self.train(was_training)
            if bar:
                bar.close()
        if normalize_embeddings and not self.normalize:
            out /= np.maximum(np.linalg.norm(out, axis=1, keepdims=True), 1e-12)
        return out[0] if single else out
