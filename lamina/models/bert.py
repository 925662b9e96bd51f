"""BERT (Devlin et al. 2018) with Hugging Face's module and parameter names.

An embedding (word + position + segment, then LayerNorm), num_hidden_layers post-norm
encoder layers of bidirectional self-attention and a GELU MLP, and a tanh pooler on the
first ([CLS]) token. The heads add a masked-LM predictor (tied to the word embeddings),
or a Linear over the pooled vector, every token, or every token's start/end scores.

Every name follows `transformers` (encoder.layer.0.attention.self.query.weight, ...), so a
Hugging Face checkpoint loads by key and `state_dict()` has the keys transformers has:

>>> model = BertModel.from_pretrained("path/to/all-MiniLM-L6-v2")
>>> out = model(ids, attention_mask=mask)                # ids, mask (B, T) int arrays or Tensors
>>> out.last_hidden_state, out.pooler_output             # (B, T, hidden), (B, hidden)
>>> clf = BertForSequenceClassification.from_pretrained(folder, num_labels=3)   # new head, warned
>>> clf(ids, attention_mask=mask, labels=y).loss.backward()
>>> clf.save_pretrained("out/")                          # transformers.from_pretrained reads it
"""
from __future__ import annotations

import dataclasses
import os
import warnings
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .. import nn
from ..backend import array_module, parallel
from ..autograd import is_grad_enabled, no_grad
from ..creation import as_tensor, zeros
from ..nn import functional as F
from ..nn import init
from ..ops.attention import attention_weights
from ..tensor import Tensor
from .pretrained import CheckpointError, load_weights, read_config, read_weights, resolve, save_weights

__all__ = ["BertConfig", "ModelOutput", "CheckpointError", "BertModel", "BertForMaskedLM", "BertForSequenceClassification",
           "BertForTokenClassification", "BertForQuestionAnswering"]


@dataclass
class BertConfig:
    """BERT's hyperparameters under the names of Hugging Face's config.json (bert-base's defaults)."""
    vocab_size: int = 30522
    hidden_size: int = 768
    num_hidden_layers: int = 12
    num_attention_heads: int = 12
    intermediate_size: int = 3072
    hidden_act: str = "gelu"  # exact erf GELU; gelu_new / gelu_pytorch_tanh are the tanh form
    hidden_dropout_prob: float = 0.1
    attention_probs_dropout_prob: float = 0.1
    max_position_embeddings: int = 512
    type_vocab_size: int = 2
    initializer_range: float = 0.02
    layer_norm_eps: float = 1e-12
    pad_token_id: int = 0
    position_embedding_type: str = "absolute"
    classifier_dropout: float | None = None  # None: hidden_dropout_prob
    num_labels: int = 2
    problem_type: str | None = None  # regression | single_label_classification | multi_label_classification
    tie_word_embeddings: bool = True
    extra: dict = field(default_factory=dict, repr=False)  # other config.json fields, written back unchanged

    @classmethod
    def from_dict(cls, d: dict) -> "BertConfig":
        """From a config.json dict: known fields by name, the rest kept in `extra`.
        num_labels comes from id2label when it is not given, as in transformers."""
        d = dict(d)
        names = {f.name for f in dataclasses.fields(cls)} - {"extra"}
        if "num_labels" not in d and isinstance(d.get("id2label"), dict):
            d["num_labels"] = len(d["id2label"])
        known = {k: d.pop(k) for k in list(d) if k in names}
        config = cls(**known, extra=d)
        config.validate()
        return config

    @classmethod
    def from_json(cls, folder: str | os.PathLike) -> "BertConfig":
        return cls.from_dict(read_config(folder))

    def validate(self) -> None:
        if self.hidden_size % self.num_attention_heads:
            raise ValueError(f"BertConfig: hidden_size {self.hidden_size} is not divisible by "
                             f"num_attention_heads {self.num_attention_heads}")
        if self.position_embedding_type != "absolute":
            raise NotImplementedError(f"BertConfig: position_embedding_type {self.position_embedding_type!r}; "
                                      "only 'absolute' is implemented")
        if self.hidden_act not in _ACTIVATIONS:
            raise NotImplementedError(f"BertConfig: hidden_act {self.hidden_act!r}; "
                                      f"lamina has {', '.join(sorted(_ACTIVATIONS))}")
        if self.extra.get("is_decoder") or self.extra.get("add_cross_attention"):
            raise NotImplementedError("BertConfig: is_decoder / add_cross_attention (BERT as a decoder) "
                                      "is not implemented")

    def to_dict(self) -> dict:
        """config.json's dict, which transformers' BertConfig reads back."""
        d = dict(self.extra)
        d.update({f.name: getattr(self, f.name) for f in dataclasses.fields(self) if f.name != "extra"})
        if d.get("id2label") is None or len(d["id2label"]) != self.num_labels:
            d["id2label"] = {str(i): f"LABEL_{i}" for i in range(self.num_labels)}
            d["label2id"] = {f"LABEL_{i}": i for i in range(self.num_labels)}
        d["model_type"] = "bert"
        return d


_ACTIVATIONS = {
    "gelu": F.gelu,
    "gelu_new": lambda x: F.gelu(x, approximate="tanh"),
    "gelu_pytorch_tanh": lambda x: F.gelu(x, approximate="tanh"),
    "relu": F.relu,
    "silu": F.silu,
    "swish": F.silu,
    "tanh": F.tanh,
}


class ModelOutput:
    """A model's results by name (`out.logits`), with only the fields that apply set.
    `out["logits"]` works too, and `out[0]` is the first field that is set, as in transformers."""

    def __init__(self, **fields: Any):
        self._fields = {k: v for k, v in fields.items() if v is not None}
        self.__dict__.update(fields)

    def keys(self):
        return self._fields.keys()

    def to_tuple(self) -> tuple:
        return tuple(self._fields.values())

    def __getitem__(self, key):
        return self._fields[key] if isinstance(key, str) else self.to_tuple()[key]

    def __contains__(self, key) -> bool:
        return key in self._fields

    def __repr__(self):
        shapes = ", ".join(f"{k}={tuple(v.shape) if hasattr(v, 'shape') else f'({len(v)} tensors)'}"
                           for k, v in self._fields.items())
        return f"ModelOutput({shapes})"


# ---- the encoder -------------------------------------------------------------------------------

class BertEmbeddings(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.word_embeddings = nn.Embedding(config.vocab_size, config.hidden_size, padding_idx=config.pad_token_id)
        self.position_embeddings = nn.Embedding(config.max_position_embeddings, config.hidden_size)
        self.token_type_embeddings = nn.Embedding(config.type_vocab_size, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, input_ids: Tensor, token_type_ids: Tensor) -> Tensor:
        T = input_ids.shape[1]
        # the first T rows of the position table: a slice, not a lookup through an index array
        x = self.word_embeddings(input_ids) + self.token_type_embeddings(token_type_ids)
        x = x + self.position_embeddings.weight[:T]
        return self.dropout(self.LayerNorm(x))


class BertSelfAttention(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        C = config.hidden_size
        self.num_attention_heads, self.head_dim = config.num_attention_heads, C // config.num_attention_heads
        self.query, self.key, self.value = nn.Linear(C, C), nn.Linear(C, C), nn.Linear(C, C)
        self.dropout_p = config.attention_probs_dropout_prob

    def forward(self, x: Tensor, mask: Tensor | None, need_weights: bool):
        B, T, C = x.shape
        H, D = self.num_attention_heads, self.head_dim
        q, k, v = (lin(x).reshape(B, T, H, D).transpose(1, 2) for lin in (self.query, self.key, self.value))
        p = self.dropout_p if self.training else 0.0
        if need_weights:  # the probabilities are wanted: softmax, dropout and the sum as separate steps
            probs = attention_weights(q, k, attn_mask=mask)
            y = F.dropout(probs, p, self.training) @ v
        else:
            probs, y = None, F.scaled_dot_product_attention(q, k, v, attn_mask=mask, dropout_p=p)
        return y.transpose(1, 2).reshape(B, T, C), probs


class BertSelfOutput(nn.Module):
    """dense, dropout, then LayerNorm of the residual sum (BERT is post-norm)."""

    def __init__(self, config: BertConfig, d_in: int):
        super().__init__()
        self.dense = nn.Linear(d_in, config.hidden_size)
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)
        self.dropout = nn.Dropout(config.hidden_dropout_prob)

    def forward(self, h: Tensor, residual: Tensor) -> Tensor:
        return self.LayerNorm(self.dropout(self.dense(h)) + residual)


BertOutput = BertSelfOutput  # the MLP's output block is the same shape of code, from intermediate_size


class BertAttention(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.self = BertSelfAttention(config)
        self.output = BertSelfOutput(config, config.hidden_size)

    def forward(self, x: Tensor, mask: Tensor | None, need_weights: bool):
        h, probs = self.self(x, mask, need_weights)
        return self.output(h, x), probs


class BertIntermediate(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.intermediate_size)
        self._act = _ACTIVATIONS[config.hidden_act]

    def forward(self, x: Tensor) -> Tensor:
        h = self.dense(x)
        if not is_grad_enabled() and isinstance(h._data, np.ndarray):
            return _rows_in_place(self._act, h)
        return self._act(h)


_ROWS = 64  # rows of (rows, intermediate_size) float32 per block: 384 KB at BERT-base, inside L2


def _rows_in_place(fn, h: Tensor) -> Tensor:
    """fn(h) for inference, block by block of rows in place, on lamina's threads.

    Why: the exact GELU is about twenty NumPy passes (erf has no ufunc); over the whole
    (tokens, intermediate_size) array each pass streams it through memory, while a block
    of rows stays in cache, and the blocks split over the cores. Measured on MiniLM on 2
    cores, the GELU's time halved. The values are fn's own, element for element; with no
    graph to record, writing into h (fresh from its Linear) is safe."""
    a = h._data.reshape(-1, h.shape[-1])

    def part(rows: slice) -> None:
        for start in range(rows.start, rows.stop, _ROWS):
            block = a[start:min(start + _ROWS, rows.stop)]
            block[...] = fn(Tensor._make(block, None))._data

    parallel(part, a.shape[0])
    return h


class BertLayer(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.attention = BertAttention(config)
        self.intermediate = BertIntermediate(config)
        self.output = BertOutput(config, config.intermediate_size)

    def forward(self, x: Tensor, mask: Tensor | None, need_weights: bool):
        x, probs = self.attention(x, mask, need_weights)
        return self.output(self.intermediate(x), x), probs


class BertEncoder(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.layer = nn.ModuleList([BertLayer(config) for _ in range(config.num_hidden_layers)])


class BertPooler(nn.Module):
    """tanh(dense(h[:, 0])): the [CLS] token's state, as BERT's next-sentence head was trained on."""

    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)

    def forward(self, h: Tensor) -> Tensor:
        return F.tanh(self.dense(h[:, 0]))


# ---- inputs --------------------------------------------------------------------------------------

def _as_ids(x, device, what: str) -> Tensor:
    """Token ids (or labels) as an int64 Tensor on the model's device, from a Tensor, array or list."""
    if not isinstance(x, Tensor):
        x = np.asarray(x)
        if x.dtype.kind not in "iub":
            raise TypeError(f"BERT: {what} must be integers, got an array of {x.dtype}")
        x = as_tensor(x.astype(np.int64, copy=False), device=device)
    elif x.dtype.kind not in "iub":
        raise TypeError(f"BERT: {what} must be an integer tensor, got {x.dtype}")
    return x


def _as_labels(x, device, dtype) -> Tensor:
    """Labels keep integer dtypes (class indices) and take the model's float dtype otherwise."""
    if isinstance(x, Tensor):
        return x
    x = np.asarray(x)
    return as_tensor(x.astype(np.int64 if x.dtype.kind in "iub" else dtype, copy=False), device=device)


def _additive_mask(attention_mask: Tensor, dtype) -> Tensor | None:
    """(B, T) of 1 (attend) / 0 (padding) -> (B, 1, 1, T) to add to every head's scores: 0 for a
    real key and the dtype's most negative number for a padded one, as transformers' eager path
    does (rather than -inf, so a row with every key padded gets uniform weights, not 0/0). None
    when nothing is padded: the attention then skips the add."""
    m = attention_mask._data
    xp = array_module(m)
    if bool((m != 0).all()):
        return None
    add = xp.where(m[:, None, None, :] != 0, 0.0, np.finfo(dtype).min).astype(dtype)
    return as_tensor(add, device=attention_mask.device)


# ---- the models ----------------------------------------------------------------------------------

class _Pretrained(nn.Module):
    """What every BERT model shares: initialisation, from_pretrained and save_pretrained.
    Subclasses set `_base` (the attribute holding the BertModel, "" for BertModel itself) and
    `_head_keys`, the key prefixes of their own head."""

    _base = "bert"
    _head_keys: tuple[str, ...] = ()

    def _init_weights(self, module: nn.Module) -> None:
        # transformers' BERT initialisation: N(0, initializer_range) weights, zero biases
        std = self.config.initializer_range
        if isinstance(module, (nn.Linear, nn.Embedding)):
            init.normal_(module.weight, 0.0, std)
        if isinstance(module, nn.Linear) and module.bias is not None:
            init.zeros_(module.bias)
        if isinstance(module, nn.Embedding) and module.padding_idx is not None:
            with no_grad():
                module.weight._data[module.padding_idx] = 0

    def _classifier_head(self, config: BertConfig, pooled: bool) -> None:
        """BertModel, dropout and a num_labels Linear: the sequence (pooled) and token heads."""
        config.validate()
        self.config, self.num_labels = config, config.num_labels
        self.bert = BertModel(config, add_pooling_layer=pooled)
        p = config.classifier_dropout if config.classifier_dropout is not None else config.hidden_dropout_prob
        self.dropout = nn.Dropout(p)
        self.classifier = nn.Linear(config.hidden_size, config.num_labels)
        self.apply(self._init_weights)

    def _device(self):
        return next(iter(self.parameters())).device

    def _dtype(self):
        return next(iter(self.parameters())).dtype

    def _encode(self, input_ids, attention_mask, token_type_ids, output_hidden_states, output_attentions):
        bert = self if self._base == "" else getattr(self, self._base)
        return bert(input_ids, attention_mask, token_type_ids, output_hidden_states=output_hidden_states,
                    output_attentions=output_attentions)

    # -- checkpoints --

    @classmethod
    def from_pretrained(cls, folder_or_name: str | os.PathLike, **overrides):
        """A model built from config.json (updated by `overrides`, e.g. num_labels=3) and loaded
        from model.safetensors by key.

        Keys may carry the `bert.` prefix or not; buffers (position_ids) and other models'
        heads are left out; the MLM decoder may be tied to the word embeddings. Weights of
        this model's head (or pooler) that the checkpoint lacks start fresh, with a warning
        listing them. A missing encoder weight or any shape that does not fit the config is
        one CheckpointError naming the key."""
        folder = resolve(folder_or_name)
        config = BertConfig.from_dict({**read_config(folder), **overrides})
        model = cls(config)
        weights = read_weights(folder)
        mapped, unused = model._map_checkpoint(weights)
        own = model._state_tensors()
        fresh = []
        for k, t in own.items():
            if any(u is t and n in mapped for n, u in own.items()):
                continue
            if k == "cls.predictions.decoder.bias" and "cls.predictions.bias" in mapped:
                mapped[k] = mapped["cls.predictions.bias"]  # an untied decoder saved with the one bias
            elif k.startswith(model._head_keys + (model._prefix() + "pooler.",)):
                mapped[k] = t._data  # keep the fresh initialisation, as transformers does
                fresh.append(k)
        load_weights(model, mapped, where=folder)
        if fresh:
            warnings.warn(f"{cls.__name__}.from_pretrained({folder}): these weights are not in the checkpoint "
                          f"and were newly initialised: {', '.join(fresh)}. Train the model before using it "
                          f"for predictions.", stacklevel=2)
        if unused:
            warnings.warn(f"{cls.__name__}.from_pretrained({folder}): checkpoint weights not used by "
                          f"{cls.__name__}: {', '.join(unused)}", stacklevel=2)
        return model.eval()  # as transformers: dropout off until model.train()

    def _prefix(self) -> str:
        return f"{self._base}." if self._base else ""

    def _map_checkpoint(self, weights: dict) -> tuple[dict, list[str]]:
        """The checkpoint's keys renamed to this model's, and the keys knowingly dropped."""
        own = self._state_tensors()
        base_roots = ("embeddings.", "encoder.", "pooler.")
        mapped, unused = {}, []
        for k, v in weights.items():
            name = k.replace("LayerNorm.gamma", "LayerNorm.weight").replace("LayerNorm.beta", "LayerNorm.bias")
            if name.endswith(("embeddings.position_ids", "embeddings.token_type_ids")):
                continue  # transformers' index buffers: computed here, never loaded
            if name.startswith("bert."):
                name = name[len("bert."):]
            if name.startswith(base_roots):
                name = self._prefix() + name
            if name not in own and (name.startswith(("cls.", "classifier.", "qa_outputs."))
                                    or name.startswith(self._prefix() + "pooler.")):
                unused.append(k)  # another model's head, or a pooler this model has none of
                continue
            mapped[name] = v  # anything else unknown is left for load_weights to reject by name
        return mapped, unused

    def save_pretrained(self, folder: str | os.PathLike):
        """config.json and model.safetensors as transformers writes them: a tied weight once,
        under its first name (the word embedding), so transformers' from_pretrained reads them."""
        config = self.config.to_dict()
        config["architectures"] = [type(self).__name__]
        config["tie_word_embeddings"] = self.config.tie_word_embeddings
        return save_weights(self, folder, config)


class BertModel(_Pretrained):
    """The encoder: (B, T) ids -> last_hidden_state (B, T, hidden) and pooler_output (B, hidden)."""

    _base = ""

    def __init__(self, config: BertConfig, add_pooling_layer: bool = True):
        super().__init__()
        config.validate()
        self.config = config
        self.embeddings = BertEmbeddings(config)
        self.encoder = BertEncoder(config)
        self.pooler = BertPooler(config) if add_pooling_layer else None
        self.apply(self._init_weights)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None,
                output_hidden_states: bool = False, output_attentions: bool = False) -> ModelOutput:
        if labels is not None:
            raise TypeError("BertModel has no loss: use one of the BertFor... heads to pass labels")
        device = self._device()
        input_ids = _as_ids(input_ids, device, "input_ids")
        if input_ids.ndim == 1:
            input_ids = input_ids.reshape(1, -1)
        if input_ids.ndim != 2:
            raise RuntimeError(f"BERT: expected input_ids of shape (B, T), got {tuple(input_ids.shape)}")
        B, T = input_ids.shape
        if T > self.config.max_position_embeddings:
            raise RuntimeError(f"BERT: {T} tokens exceed max_position_embeddings "
                               f"{self.config.max_position_embeddings}; truncate the input")
        token_type_ids = (as_tensor(np.zeros((B, T), dtype=np.int64), device=device) if token_type_ids is None
                          else _as_ids(token_type_ids, device, "token_type_ids").reshape(B, T))
        mask = None
        if attention_mask is not None:
            mask = _additive_mask(_as_ids(attention_mask, device, "attention_mask").reshape(B, T), self._dtype())
        x = self.embeddings(input_ids, token_type_ids)
        hidden, attentions = [x], []
        for layer in self.encoder.layer:
            x, probs = layer(x, mask, output_attentions)
            hidden.append(x)
            attentions.append(probs)
        return ModelOutput(last_hidden_state=x, pooler_output=None if self.pooler is None else self.pooler(x),
                           hidden_states=tuple(hidden) if output_hidden_states else None,
                           attentions=tuple(attentions) if output_attentions else None)


class BertPredictionHeadTransform(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.dense = nn.Linear(config.hidden_size, config.hidden_size)
        self._act = _ACTIVATIONS[config.hidden_act]
        self.LayerNorm = nn.LayerNorm(config.hidden_size, eps=config.layer_norm_eps)

    def forward(self, x: Tensor) -> Tensor:
        return self.LayerNorm(self._act(self.dense(x)))


class BertLMPredictionHead(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.transform = BertPredictionHeadTransform(config)
        # `bias` before `decoder`: with the decoder's bias tied to it, the tied pair is saved
        # once under cls.predictions.bias, the name transformers reads
        self.bias = nn.Parameter(zeros(config.vocab_size))
        self.decoder = nn.Linear(config.hidden_size, config.vocab_size)

    def forward(self, x: Tensor) -> Tensor:
        return self.decoder(self.transform(x))


class BertOnlyMLMHead(nn.Module):
    def __init__(self, config: BertConfig):
        super().__init__()
        self.predictions = BertLMPredictionHead(config)


class BertForMaskedLM(_Pretrained):
    """Scores over the vocabulary at every position; loss: cross-entropy where labels != -100."""

    _head_keys = ("cls.",)

    def __init__(self, config: BertConfig):
        super().__init__()
        config.validate()
        self.config = config
        self.bert = BertModel(config, add_pooling_layer=False)
        self.cls = BertOnlyMLMHead(config)
        self.apply(self._init_weights)
        init.zeros_(self.cls.predictions.bias)
        if config.tie_word_embeddings:  # one Parameter under two names each, as in transformers
            self.cls.predictions.decoder.weight = self.bert.embeddings.word_embeddings.weight
            self.cls.predictions.decoder.bias = self.cls.predictions.bias

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None,
                output_hidden_states: bool = False, output_attentions: bool = False) -> ModelOutput:
        out = self._encode(input_ids, attention_mask, token_type_ids, output_hidden_states, output_attentions)
        logits = self.cls.predictions(out.last_hidden_state)  # (B, T, vocab)
        loss = None
        if labels is not None:
            y = _as_ids(labels, logits.device, "labels")
            loss = F.cross_entropy(logits.reshape(-1, self.config.vocab_size), y.reshape(-1), ignore_index=-100)
        return ModelOutput(loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions)


class BertForSequenceClassification(_Pretrained):
    """num_labels scores from the pooled [CLS] vector. Loss as transformers: mean squared
    error when num_labels == 1 (regression), cross-entropy for integer labels, and binary
    cross-entropy for float labels of shape (B, num_labels) (multi-label)."""

    _head_keys = ("classifier.",)

    def __init__(self, config: BertConfig):
        super().__init__()
        self._classifier_head(config, pooled=True)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None,
                output_hidden_states: bool = False, output_attentions: bool = False) -> ModelOutput:
        out = self._encode(input_ids, attention_mask, token_type_ids, output_hidden_states, output_attentions)
        logits = self.classifier(self.dropout(out.pooler_output))  # (B, num_labels)
        loss = None
        if labels is not None:
            y = _as_labels(labels, logits.device, logits.dtype)
            kind = self.config.problem_type or ("regression" if self.num_labels == 1 else
                                                "single_label_classification" if y.dtype.kind in "iu"
                                                else "multi_label_classification")
            if kind == "regression":
                y = y.to(logits.dtype)
                loss = (F.mse_loss(logits.reshape(-1), y.reshape(-1)) if self.num_labels == 1
                        else F.mse_loss(logits, y))
            elif kind == "single_label_classification":
                loss = F.cross_entropy(logits.reshape(-1, self.num_labels), y.reshape(-1))
            else:
                loss = F.binary_cross_entropy_with_logits(logits, y.to(logits.dtype))
        return ModelOutput(loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions)


class BertForTokenClassification(_Pretrained):
    """num_labels scores at every token (NER tagging); loss: cross-entropy where labels != -100."""

    _head_keys = ("classifier.",)

    def __init__(self, config: BertConfig):
        super().__init__()
        self._classifier_head(config, pooled=False)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None,
                output_hidden_states: bool = False, output_attentions: bool = False) -> ModelOutput:
        out = self._encode(input_ids, attention_mask, token_type_ids, output_hidden_states, output_attentions)
        logits = self.classifier(self.dropout(out.last_hidden_state))  # (B, T, num_labels)
        loss = None
        if labels is not None:
            y = _as_ids(labels, logits.device, "labels")
            loss = F.cross_entropy(logits.reshape(-1, self.num_labels), y.reshape(-1), ignore_index=-100)
        return ModelOutput(loss=loss, logits=logits, hidden_states=out.hidden_states, attentions=out.attentions)


class BertForQuestionAnswering(_Pretrained):
    """Start and end scores for every token of the context (SQuAD-style extractive QA).

    `labels` is the pair (start_positions, end_positions), or pass them by name. The loss is
    the mean of the two cross-entropies; positions outside the input are clamped to T and
    ignored, as transformers does."""

    _head_keys = ("qa_outputs.",)

    def __init__(self, config: BertConfig):
        super().__init__()
        config.validate()
        if config.num_labels != 2:
            raise ValueError(f"BertForQuestionAnswering: num_labels must be 2 (start and end), got {config.num_labels}")
        self.config, self.num_labels = config, config.num_labels
        self.bert = BertModel(config, add_pooling_layer=False)
        self.qa_outputs = nn.Linear(config.hidden_size, config.num_labels)
        self.apply(self._init_weights)

    def forward(self, input_ids, attention_mask=None, token_type_ids=None, labels=None,
                output_hidden_states: bool = False, output_attentions: bool = False,
                start_positions=None, end_positions=None) -> ModelOutput:
        if labels is not None:
            start_positions, end_positions = labels
        out = self._encode(input_ids, attention_mask, token_type_ids, output_hidden_states, output_attentions)
        logits = self.qa_outputs(out.last_hidden_state)  # (B, T, 2)
        start_logits, end_logits = logits[..., 0], logits[..., 1]
        loss = None
        if start_positions is not None and end_positions is not None:
            T = start_logits.shape[1]

            def ce(scores, pos):
                pos = _as_ids(pos, scores.device, "positions").reshape(-1).clamp(0, T)
                return F.cross_entropy(scores, pos, ignore_index=T)

            loss = (ce(start_logits, start_positions) + ce(end_logits, end_positions)) / 2
        return ModelOutput(loss=loss, start_logits=start_logits, end_logits=end_logits,
                           hidden_states=out.hidden_states, attentions=out.attentions)

