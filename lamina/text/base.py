"""What the tokenizers share: the vocabulary, special tokens found in raw text, the templates
that add [CLS]/[SEP], truncation with a stride into overflow windows, padding into int64
arrays, and vocabulary learning by merges.

A subclass supplies three things: `_encode_chunk` (text without special tokens -> ids and
character offsets), `_template` (where special tokens go around one or two sequences) and
`_decode_tokens` (tokens -> text). Everything about batches, pairs and padding is here once,
and follows Hugging Face's fast tokenizers (the `tokenizers` library under `transformers`),
because those are what the pretrained checkpoints were used with.
"""
from __future__ import annotations

import heapq
import os
import re
from collections import defaultdict

import numpy as np

# The roles a special token can play, in the order HF's tokenizer_config.json names them.
ROLES = ("unk", "sep", "pad", "cls", "mask", "bos", "eos")

_PADDING = {True: "longest", "longest": "longest", False: None, "do_not_pad": None, None: None,
            "max_length": "max_length"}
_TRUNCATION = {True: "longest_first", "longest_first": "longest_first", "only_first": "only_first",
               "only_second": "only_second", False: None, "do_not_truncate": None, None: None}


def _pick(table, value, what):
    try:
        return table[value]
    except (KeyError, TypeError):
        choices = ", ".join(repr(k) for k in table if k is not None)
        raise ValueError(f"{what} must be one of {choices}; got {value!r}") from None


def fast_wanted(use_fast) -> bool:
    """Whether to encode with the optional `tokenizers` package (Rust, same ids: tested).

    lamina's own code is the default: on the UCI sentences and tiny-shakespeare it runs at 0.2-0.7x
    tokenizers' time on 2 cores (benchmarks/tokenizer_speed.py), so the accelerator is opt-in, for
    machines whose many cores tokenizers' thread pool can use. use_fast=None follows the
    environment variable LAMINA_TOKENIZERS ("fast" or "pure", default pure); True insists on the
    accelerator, False never uses it."""
    if use_fast is None:
        mode = os.environ.get("LAMINA_TOKENIZERS", "pure").lower()
        if mode not in ("pure", "fast"):
            raise ValueError(f"LAMINA_TOKENIZERS must be 'pure' or 'fast'; got {mode!r}")
        if mode == "pure":
            return False
        use_fast = True
    if use_fast:
        try:
            import tokenizers  # noqa: F401
        except ImportError:
            raise ImportError("use_fast=True (or LAMINA_TOKENIZERS=fast) needs the optional package `tokenizers` "
                              "(pip install tokenizers); use_fast=False uses lamina's own code") from None
    return bool(use_fast)


class BatchEncoding(dict):
    """HF's keys (input_ids, attention_mask, token_type_ids, and offset_mapping and
    overflow_to_sample_mapping when asked for) as int64 arrays, rows padded to one length;
    ragged rows (padding=False) stay a list of 1-D arrays. `sequence_ids(i)` says for each
    token of row i whether it came from the first text (0), the second (1) or neither (None)."""

    def __init__(self, data, sequence_ids):
        super().__init__(data)
        self._sequence_ids = sequence_ids

    def sequence_ids(self, i: int = 0) -> list:
        return list(self._sequence_ids[i])

    def __getattr__(self, name):  # enc.input_ids, as HF allows
        try:
            return self[name]
        except KeyError:
            raise AttributeError(name) from None


def _windows(n: int, max_len: int, stride: int) -> list[tuple[int, int]]:
    """Spans [start, stop) that cut n tokens into windows of max_len, each repeating the last
    `stride` tokens of the one before, until one reaches the end (tokenizers' Encoding.truncate)."""
    if max_len >= n:
        return [(0, n)]
    if max_len == 0:  # everything overflows; the kept part is empty
        return [(0, 0), (0, n)]
    if stride >= max_len:
        raise ValueError(f"stride ({stride}) must be smaller than the room left for the truncated text "
                         f"({max_len} tokens, after the special tokens and the other text)")
    out, start = [], 0
    while True:
        stop = min(start + max_len, n)
        out.append((start, stop))
        if stop == n:
            return out
        start += max_len - stride


def _truncate(na: int, nb: int | None, limit: int, strategy: str, stride: int):
    """Windows of the first and second sequence (lists of spans; the first span is the kept one)."""
    total = na + (nb or 0)
    if total <= limit:
        return [(0, na)], None if nb is None else [(0, nb)]
    remove = total - limit
    if strategy == "longest_first":
        if nb is None:
            return _windows(na, limit, stride), None
        # tokenizers' rule: the shorter keeps its length if it fits in half, else both get half
        short, long_ = sorted((na, nb))
        long_ = short if short > limit else max(short, limit - short)
        if short + long_ > limit:
            short, long_ = limit // 2, limit // 2 + limit % 2
        ka, kb = (long_, short) if na > nb else (short, long_)
        return _windows(na, ka, stride), _windows(nb, kb, stride)
    if strategy == "only_second" and nb is None:
        raise ValueError("truncation='only_second' needs pairs of texts (text_pair); a single text "
                         "is truncated with truncation=True or 'only_first'")
    target = na if strategy == "only_first" else nb
    if target <= remove:
        raise ValueError(f"truncation={strategy!r} cannot fit {total} tokens into max_length: the "
                         f"{'first' if strategy == 'only_first' else 'second'} text has {target} tokens "
                         f"and {remove} would have to go; raise max_length or truncate the other text")
    wins = _windows(target, target - remove, stride)
    return (wins, [(0, nb)] if nb is not None else None) if strategy == "only_first" else ([(0, na)], wins)


class Tokenizer:
    """The shared half of WordPieceTokenizer and ByteLevelBPETokenizer."""

    padding_side = "right"
    pad_token_type_id = 0
    _caches: tuple = ()  # names of the memo dicts a subclass keeps (word -> ids), see clear_cache

    def __init__(self, vocab: dict[str, int], special_tokens: dict[str, str] | None = None,
                 extra_special_tokens=(), model_max_length: int | None = None,
                 clean_up_tokenization_spaces: bool = False):
        if not isinstance(vocab, dict) or not vocab:
            raise ValueError(f"{type(self).__name__}: vocab must be a non-empty dict token -> id; got "
                             f"{type(vocab).__name__} of length {len(vocab) if hasattr(vocab, '__len__') else '?'}")
        self.vocab = vocab
        self.ids_to_tokens = {i: t for t, i in vocab.items()}
        self.special_tokens = {}
        for role, tok in (special_tokens or {}).items():
            if role not in ROLES:
                raise ValueError(f"unknown special token role {role!r}; expected one of {', '.join(ROLES)}")
            if tok is None:
                continue
            if tok not in vocab:
                raise ValueError(f"the {role} token {tok!r} is not in the vocabulary ({len(vocab)} tokens)")
            self.special_tokens[role] = tok
        for tok in extra_special_tokens:
            if tok not in vocab:
                raise ValueError(f"the special token {tok!r} is not in the vocabulary ({len(vocab)} tokens)")
        self.extra_special_tokens = list(extra_special_tokens)
        self.all_special_tokens = list(dict.fromkeys([*self.special_tokens.values(), *self.extra_special_tokens]))
        self.all_special_ids = [vocab[t] for t in self.all_special_tokens]
        self._special_id_set = frozenset(self.all_special_ids)
        self._special_token_set = frozenset(self.all_special_tokens)
        # Special tokens are matched in the raw text, longest first, before any normalisation
        # (HF's added tokens with normalized=False): "[MASK]" is one token, "[mask]" is three.
        alts = sorted(self.all_special_tokens, key=len, reverse=True)
        self._special_re = re.compile("|".join(map(re.escape, alts))) if alts else None
        self.model_max_length = model_max_length
        self.clean_up_tokenization_spaces = clean_up_tokenization_spaces
        self._fast = None  # the `tokenizers` accelerator, set up by a subclass when wanted

    # ---- the vocabulary ----
    @property
    def vocab_size(self) -> int:
        return len(self.vocab)

    def __len__(self) -> int:
        return len(self.vocab)

    def get_vocab(self) -> dict[str, int]:
        return dict(self.vocab)

    def token_to_id(self, token: str) -> int | None:
        return self.vocab.get(token)

    def id_to_token(self, i: int) -> str | None:
        return self.ids_to_tokens.get(int(i))

    def convert_tokens_to_ids(self, tokens):
        unk = self.vocab.get(self.special_tokens.get("unk"))
        if isinstance(tokens, str):
            return self.vocab.get(tokens, unk)
        return [self.vocab.get(t, unk) for t in tokens]

    def convert_ids_to_tokens(self, ids):
        if isinstance(ids, (int, np.integer)):
            return self._token(ids)
        return [self._token(i) for i in ids]

    def _token(self, i) -> str:
        try:
            return self.ids_to_tokens[int(i)]
        except (KeyError, TypeError, ValueError):
            raise ValueError(f"token id {i!r} is not in the vocabulary (ids 0..{len(self.vocab) - 1})") from None

    def clear_cache(self) -> None:
        """Forget the memoised words (the pure path remembers each distinct word's ids)."""
        for name in self._caches:
            getattr(self, name).clear()

    @property
    def is_fast(self) -> bool:
        """True when encoding runs on the `tokenizers` accelerator (same ids, see tests)."""
        return self._fast is not None

    def _role_id(self, role):
        tok = self.special_tokens.get(role)
        return None if tok is None else self.vocab[tok]

    pad_token = property(lambda self: self.special_tokens.get("pad"))
    unk_token = property(lambda self: self.special_tokens.get("unk"))
    cls_token = property(lambda self: self.special_tokens.get("cls"))
    sep_token = property(lambda self: self.special_tokens.get("sep"))
    mask_token = property(lambda self: self.special_tokens.get("mask"))
    bos_token = property(lambda self: self.special_tokens.get("bos"))
    eos_token = property(lambda self: self.special_tokens.get("eos"))
    pad_token_id = property(lambda self: self._role_id("pad"))
    unk_token_id = property(lambda self: self._role_id("unk"))
    cls_token_id = property(lambda self: self._role_id("cls"))
    sep_token_id = property(lambda self: self._role_id("sep"))
    mask_token_id = property(lambda self: self._role_id("mask"))
    bos_token_id = property(lambda self: self._role_id("bos"))
    eos_token_id = property(lambda self: self._role_id("eos"))

    # ---- what a subclass provides ----
    def _encode_chunk(self, text: str, base: int, ids: list, offsets: list | None) -> None:
        """Append the ids of `text` (no special tokens in it), and when `offsets` is a list the
        (start, end) character span of each in the whole string (text starts at `base`)."""
        raise NotImplementedError

    def _template(self, pair: bool) -> list:
        """The layout of one encoded row: "A", "B" for the texts, (token_id, type_id) for a
        special token, and the type id of each text: [("A", 0), ...]."""
        raise NotImplementedError

    def _decode_tokens(self, tokens: list[str]) -> str:
        raise NotImplementedError

    def _build_fast(self):
        return None

    # ---- encoding ----
    def _check_text(self, text, where="text"):
        if not isinstance(text, str):
            raise TypeError(f"{type(self).__name__}: {where} must be a str; got {type(text).__name__} {text!r:.60}")

    def _encode_pure(self, text: str, want_offsets: bool):
        ids: list[int] = []
        offs = [] if want_offsets else None
        pos = 0
        if self._special_re is not None:
            for m in self._special_re.finditer(text):
                if m.start() > pos:
                    self._encode_chunk(text[pos:m.start()], pos, ids, offs)
                ids.append(self.vocab[m.group()])
                if offs is not None:
                    offs.append((m.start(), m.end()))
                pos = m.end()
        if pos < len(text):
            self._encode_chunk(text[pos:] if pos else text, pos, ids, offs)
        return ids, offs

    def _encode_many(self, texts: list[str], want_offsets: bool):
        """[(ids, offsets or None)] of each text, without special tokens added."""
        if self._fast is not None and texts:
            return [(e.ids, e.offsets) for e in self._fast.encode_batch(texts, add_special_tokens=False)]
        return [self._encode_pure(t, want_offsets) for t in texts]

    def tokenize(self, text: str) -> list[str]:
        """The tokens of `text`, without special tokens added."""
        self._check_text(text)
        return [self.ids_to_tokens[i] for i in self._encode_many([text], False)[0][0]]

    def num_special_tokens_to_add(self, pair: bool = False) -> int:
        return sum(1 for item, _ in self._template(pair) if item not in ("A", "B"))

    def encode(self, text: str, text_pair: str | None = None, truncation=False, max_length: int | None = None,
               add_special_tokens: bool = True) -> list[int]:
        """The ids of one text (or pair), with [CLS]/[SEP] or whatever the model adds."""
        self._check_text(text)
        if text_pair is not None:
            self._check_text(text_pair, "text_pair")
        enc = self(text, text_pair, truncation=truncation, max_length=max_length,
                   add_special_tokens=add_special_tokens)
        row = enc["input_ids"][0]
        return [int(i) for i in row]

    def __call__(self, text, text_pair=None, *, add_special_tokens: bool = True, padding=False,
                 truncation=False, max_length: int | None = None, stride: int = 0,
                 return_overflowing_tokens: bool = False, return_offsets_mapping: bool = False,
                 pad_to_multiple_of: int | None = None) -> BatchEncoding:
        """Encode a text or a batch (a list of texts), optionally with a second text each (pairs:
        question, context). As HF: padding=True pads to the longest row, "max_length" to
        max_length; truncation=True (longest_first), "only_first" or "only_second" cuts to
        max_length (the model's maximum when None), and with return_overflowing_tokens the cut
        part comes back as more rows, each repeating `stride` tokens of the one before, with
        overflow_to_sample_mapping naming the text each row came from. A single str is a batch of
        one (arrays of one row); rows of unequal length without padding come back as a list of
        1-D arrays per key."""
        single = isinstance(text, str)
        texts = [text] if single else text
        if not isinstance(texts, (list, tuple)):
            raise TypeError(f"{type(self).__name__}: text must be a str or a list of str; got {type(text).__name__}")
        for i, t in enumerate(texts):
            self._check_text(t, "text" if single else f"text[{i}]")
        pairs = None
        if text_pair is not None:
            pairs = [text_pair] if single else text_pair
            if single and not isinstance(text_pair, str) or not isinstance(pairs, (list, tuple)):
                raise TypeError(f"{type(self).__name__}: text_pair must be a {'str' if single else 'list of str'} "
                                f"like text; got {type(text_pair).__name__}")
            if len(pairs) != len(texts):
                raise ValueError(f"text has {len(texts)} entries but text_pair has {len(pairs)}; "
                                 "they are paired one to one")
            for i, t in enumerate(pairs):
                self._check_text(t, "text_pair" if single else f"text_pair[{i}]")
        pad = _pick(_PADDING, padding, "padding")
        trunc = _pick(_TRUNCATION, truncation, "truncation")
        if max_length is None and (trunc or pad == "max_length"):
            max_length = self.model_max_length
        if max_length is not None and (not isinstance(max_length, (int, np.integer)) or max_length < 0):
            raise ValueError(f"max_length must be a non-negative int or None; got {max_length!r}")
        if not isinstance(stride, (int, np.integer)) or stride < 0:
            raise ValueError(f"stride must be a non-negative int; got {stride!r}")
        if pad and (self.pad_token is None):
            raise ValueError(f"padding={padding!r} needs a pad token, and this tokenizer has none; "
                             "give one (e.g. pad_token=tokenizer.eos_token when loading)")

        enc = self._encode_many(list(texts) + list(pairs or ()), return_offsets_mapping)
        a_enc, b_enc = enc[:len(texts)], (enc[len(texts):] if pairs is not None else None)
        template = self._template(pairs is not None) if add_special_tokens else (
            [("A", 0), ("B", 1)] if pairs is not None else [("A", 0)])
        n_special = sum(1 for item, _ in template if item not in ("A", "B"))
        limit = None
        if trunc and max_length is not None:
            limit = max_length - n_special
            if limit < 0:
                raise ValueError(f"max_length={max_length} leaves no room: the special tokens alone take {n_special}")

        rows_ids, rows_types, rows_seq, rows_offs, sample = [], [], [], [], []
        for k, (ids_a, offs_a) in enumerate(a_enc):
            ids_b, offs_b = b_enc[k] if b_enc is not None else (None, None)
            if limit is not None:
                wa, wb = _truncate(len(ids_a), None if ids_b is None else len(ids_b), limit, trunc, stride)
            else:
                wa, wb = [(0, len(ids_a))], None if ids_b is None else [(0, len(ids_b))]
            # The windows' order is tokenizers' Encoding.merge_with: the kept pair, then each
            # overflow of the first text with the second (and with its overflows), then the
            # first with each overflow of the second.
            combos = [(wa[0], wb[0] if wb else None)]
            for fa in wa[1:]:
                combos.append((fa, wb[0] if wb else None))
                combos.extend((fa, fb) for fb in (wb or [])[1:])
            combos.extend((wa[0], fb) for fb in (wb or [])[1:])
            if not return_overflowing_tokens:
                combos = combos[:1]
            for sa, sb in combos:
                r_ids, r_types, r_seq, r_offs = [], [], [], []
                for item, type_id in template:
                    if item == "A" or item == "B":
                        (ids, offs, (s, e), seq) = (ids_a, offs_a, sa, 0) if item == "A" else (ids_b, offs_b, sb, 1)
                        r_ids.extend(ids[s:e])
                        r_types.extend([type_id] * (e - s))
                        r_seq.extend([seq] * (e - s))
                        if return_offsets_mapping:
                            r_offs.extend(offs[s:e])
                    else:
                        r_ids.append(item)
                        r_types.append(type_id)
                        r_seq.append(None)
                        r_offs.append((0, 0))
                rows_ids.append(r_ids)
                rows_types.append(r_types)
                rows_seq.append(r_seq)
                rows_offs.append(r_offs)
                sample.append(k)
        return self._pad(rows_ids, rows_types, rows_seq, rows_offs if return_offsets_mapping else None,
                         sample if return_overflowing_tokens else None, pad, max_length, pad_to_multiple_of)

    def _pad(self, rows_ids, rows_types, rows_seq, rows_offs, sample, pad, max_length, multiple):
        lengths = [len(r) for r in rows_ids]
        target = None
        if pad == "longest":
            target = max(lengths, default=0)
        elif pad == "max_length" and max_length is not None:
            target = max_length
        if target is not None and multiple:
            target = -(-target // multiple) * multiple
        n = len(rows_ids)
        if target is not None and all(L <= target for L in lengths):
            # One 2-D array per key; rows shorter than `target` get pad id / mask 0 / type 0.
            ids = np.full((n, target), self.pad_token_id, dtype=np.int64)
            mask = np.zeros((n, target), dtype=np.int64)
            types = np.full((n, target), self.pad_token_type_id, dtype=np.int64)
            offs = np.zeros((n, target, 2), dtype=np.int64) if rows_offs is not None else None
            seq = []
            for i, L in enumerate(lengths):
                sl = slice(0, L) if self.padding_side == "right" else slice(target - L, target)
                ids[i, sl] = rows_ids[i]
                mask[i, sl] = 1
                types[i, sl] = rows_types[i]
                if offs is not None and L:
                    offs[i, sl] = rows_offs[i]
                fill = [None] * (target - L)
                seq.append(rows_seq[i] + fill if self.padding_side == "right" else fill + rows_seq[i])
        elif len(set(lengths)) <= 1:
            L = lengths[0] if lengths else 0
            ids = np.array(rows_ids, dtype=np.int64).reshape(n, L)
            mask = np.ones((n, L), dtype=np.int64)
            types = np.array(rows_types, dtype=np.int64).reshape(n, L)
            offs = np.array(rows_offs, dtype=np.int64).reshape(n, L, 2) if rows_offs is not None else None
            seq = rows_seq
        else:  # ragged (no padding, or rows over max_length left whole): one 1-D array per row
            ids, mask, types, offs, seq = [], [], [], [] if rows_offs is not None else None, []
            for i, L in enumerate(lengths):
                fill = max(0, (target or 0) - L)
                right = self.padding_side == "right"
                padded = lambda row, v: row + [v] * fill if right else [v] * fill + row  # noqa: E731
                ids.append(np.array(padded(rows_ids[i], self.pad_token_id), dtype=np.int64))
                mask.append(np.array(padded([1] * L, 0), dtype=np.int64))
                types.append(np.array(padded(rows_types[i], self.pad_token_type_id), dtype=np.int64))
                if offs is not None:
                    offs.append(np.array(padded(list(rows_offs[i]), (0, 0)), dtype=np.int64).reshape(-1, 2))
                seq.append(padded(rows_seq[i], None))
        data = {"input_ids": ids, "token_type_ids": types, "attention_mask": mask}
        if offs is not None:
            data["offset_mapping"] = offs
        if sample is not None:
            data["overflow_to_sample_mapping"] = np.array(sample, dtype=np.int64)
        return BatchEncoding(data, seq)

    # ---- decoding ----
    def decode(self, ids, skip_special_tokens: bool = False, clean_up_tokenization_spaces: bool | None = None) -> str:
        """The text of `ids` (a list, or a 1-D array or Tensor of ints)."""
        if hasattr(ids, "tolist"):
            ids = ids.tolist()
        if isinstance(ids, (int, np.integer)):
            ids = [ids]
        if any(isinstance(i, list) for i in ids):
            raise TypeError("decode takes one sequence of ids; use batch_decode for a batch")
        tokens = [self._token(i) for i in ids if not (skip_special_tokens and int(i) in self._special_id_set)]
        text = self._decode_tokens(tokens)
        if self.clean_up_tokenization_spaces if clean_up_tokenization_spaces is None else clean_up_tokenization_spaces:
            text = clean_up_tokenization(text)
        return text

    def batch_decode(self, rows, skip_special_tokens: bool = False, **kw) -> list[str]:
        return [self.decode(r, skip_special_tokens=skip_special_tokens, **kw) for r in rows]


def clean_up_tokenization(text: str) -> str:
    """transformers' clean_up_tokenization: no space before punctuation and English clitics."""
    for a, b in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                 (" 'm", "'m"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
        text = text.replace(a, b)
    return text


def learn_merges(words: list[list[str]], freqs: list[int], n_new: int, join, known: set) -> list[tuple[str, str]]:
    """Merges learnt the BPE way: repeatedly join the most frequent adjacent pair of symbols
    (ties: the smallest pair, so training is deterministic) until `n_new` new tokens exist.
    `words` are symbol lists (changed in place), `freqs` their corpus counts, `join(a, b)` the
    merged symbol, `known` the tokens already in the vocabulary (grows as tokens are made).

    Pair counts are kept up to date incrementally, with a heap of (-count, pair) whose stale
    entries are skipped when popped, so each merge costs only the words that contain it."""
    counts: dict = defaultdict(int)
    where: dict = defaultdict(set)
    for w, (sym, f) in enumerate(zip(words, freqs)):
        for p in zip(sym, sym[1:]):
            counts[p] += f
            where[p].add(w)
    heap = [(-c, p) for p, c in counts.items()]
    heapq.heapify(heap)
    merges, made = [], 0
    while made < n_new and heap:
        c, p = heapq.heappop(heap)
        if counts.get(p, 0) != -c or c == 0:
            continue  # stale: this pair's count changed after the entry was pushed
        a, b = p
        new = join(a, b)
        merges.append(p)
        if new not in known:
            known.add(new)
            made += 1
        touched = set()
        for w in where.pop(p):
            sym, f = words[w], freqs[w]
            if len(sym) < 2:
                continue
            for q in zip(sym, sym[1:]):
                counts[q] -= f
                touched.add(q)
            out, i = [], 0
            while i < len(sym):
                if i + 1 < len(sym) and sym[i] == a and sym[i + 1] == b:
                    out.append(new)
                    i += 2
                else:
                    out.append(sym[i])
                    i += 1
            words[w] = out
            for q in zip(out, out[1:]):
                counts[q] += f
                where[q].add(w)
                touched.add(q)
        for q in touched:
            if counts[q] > 0:
                heapq.heappush(heap, (-counts[q], q))
            else:
                counts.pop(q, None)
    return merges
