"""GPT-2's tokenizer: byte-level BPE. Text is cut by GPT-2's pre-tokenisation pattern, each piece
becomes its UTF-8 bytes spelt as 256 printable characters (so every string is encodable and
no [UNK] exists), and the learnt merges join adjacent symbols, lowest rank first.

    tok = ByteLevelBPETokenizer.from_files("encoder.json", "vocab.bpe")    # or vocab.json, merges.txt
    tok.encode("Hello world")     # [15496, 995]
    tok.decode([15496, 995])      # "Hello world"
"""
from __future__ import annotations

import functools
import json
import unicodedata
from collections import Counter
from pathlib import Path
import re

from .base import Tokenizer, fast_wanted, learn_merges


@functools.lru_cache(maxsize=None)
def bytes_to_unicode() -> dict[int, str]:
    """GPT-2's byte -> character table: bytes that are printable Latin-1 characters stand for
    themselves, the other 68 (controls, space, soft hyphen...) are moved to chr(256 + k), so
    every token is a string of visible characters (a space shows as "Ġ", a newline as "Ċ")."""
    keep = [*range(ord("!"), ord("~") + 1), *range(ord("¡"), ord("¬") + 1), *range(ord("®"), ord("ÿ") + 1)]
    table, k = {}, 0
    for b in range(256):
        if b in keep:
            table[b] = chr(b)
        else:
            table[b] = chr(256 + k)
            k += 1
    return table


def _char_class(codepoints) -> str:
    """A regex character class body for a sorted list of code points, as ranges."""
    out, start, prev = [], None, None
    for cp in codepoints:
        if start is None:
            start = prev = cp
        elif cp == prev + 1:
            prev = cp
        else:
            out.append((start, prev))
            start = prev = cp
    if start is not None:
        out.append((start, prev))
    esc = lambda cp: f"\\U{cp:08x}"  # noqa: E731  (escapes: no character is special in a class)
    return "".join(esc(a) if a == b else f"{esc(a)}-{esc(b)}" for a, b in out)


@functools.lru_cache(maxsize=None)
def gpt2_pattern() -> re.Pattern:
    """GPT-2's pre-tokenisation pattern,
        's|'t|'re|'ve|'m|'ll|'d| ?\\p{L}+| ?\\p{N}+| ?[^\\s\\p{L}\\p{N}]+|\\s+(?!\\S)|\\s+
    in the standard library's `re`, which has no \\p{..}: the letter and number classes are
    built once from unicodedata's categories (L*, N*), and \\s is spelt as Unicode's White_Space,
    which is what the Rust/Oniguruma engines mean by it (Python's \\s adds \\x1c-\\x1f)."""
    letters, numbers = [], []
    for cp in range(0x110000):
        c = unicodedata.category(chr(cp))[0]
        if c == "L":
            letters.append(cp)
        elif c == "N":
            numbers.append(cp)
    L, N = _char_class(letters), _char_class(numbers)
    S = _char_class(sorted(map(ord, "\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"
                               + "".join(map(chr, range(0x2000, 0x200B))))))
    return re.compile(rf"'s|'t|'re|'ve|'m|'ll|'d| ?[{L}]+| ?[{N}]+| ?[^{S}{L}{N}]+|[{S}]+(?![^{S}])|[{S}]+")


class ByteLevelBPETokenizer(Tokenizer):
    """GPT-2's byte-level BPE tokenizer, from a vocabulary (token -> id) and a ranked merge list.

    GPT-2 adds no special tokens around a text; a pair is the two texts one after the other,
    with token_type_ids 0 then 1. "<|endoftext|>" written in a text is that one token.
    use_fast: as WordPieceTokenizer (True: the optional `tokenizers` accelerator; None: the
    environment variable LAMINA_TOKENIZERS=fast|pure, default pure, lamina's own code)."""

    _caches = ("_cache",)

    def __init__(self, vocab: dict[str, int], merges, bos_token=None, eos_token=None, unk_token=None,
                 pad_token=None, extra_special_tokens=(), model_max_length: int | None = None,
                 clean_up_tokenization_spaces: bool = False, use_fast: bool | None = None):
        super().__init__(vocab, dict(bos=bos_token, eos=eos_token, unk=unk_token, pad=pad_token),
                         extra_special_tokens, model_max_length=model_max_length,
                         clean_up_tokenization_spaces=clean_up_tokenization_spaces)
        self.merges = [tuple(m) for m in merges]
        for k, m in enumerate(self.merges):
            if len(m) != 2 or not all(isinstance(s, str) for s in m):
                raise ValueError(f"merge {k} must be a pair of strings; got {m!r}")
        self.ranks = {m: r for r, m in enumerate(self.merges)}
        self.byte_encoder = bytes_to_unicode()
        self.byte_decoder = {c: b for b, c in self.byte_encoder.items()}
        missing = [c for c in self.byte_encoder.values() if c not in vocab]
        if missing:
            raise ValueError(f"a byte-level vocabulary needs all 256 byte symbols; {len(missing)} are missing "
                             f"(first {missing[0]!r}): is this a byte-level BPE vocabulary?")
        self._pattern = gpt2_pattern()
        self._cache: dict[str, tuple] = {}
        if fast_wanted(use_fast):
            self._fast = self._build_fast()

    # ---- loading and saving ----
    @classmethod
    def from_files(cls, vocab_file, merges_file, use_fast: bool | None = None, **kwargs) -> "ByteLevelBPETokenizer":
        """GPT-2's encoder.json (or a vocab.json) and vocab.bpe (or merges.txt). "<|endoftext|>",
        when in the vocabulary, is the bos, eos and unk token, as in GPT-2; there is no pad token
        unless one is given (pad_token=...), as in transformers."""
        vocab_file, merges_file = Path(vocab_file), Path(merges_file)
        for p, what in ((vocab_file, "vocabulary JSON (encoder.json / vocab.json: token -> id)"),
                        (merges_file, "merges file (vocab.bpe / merges.txt: one 'a b' pair per line)")):
            if not p.is_file():
                raise FileNotFoundError(f"{p} does not exist; expected GPT-2's {what}")
        try:
            vocab = json.loads(vocab_file.read_text(encoding="utf-8"))
        except json.JSONDecodeError as e:
            raise ValueError(f"{vocab_file} is not valid JSON ({e}); expected a token -> id object") from None
        if not isinstance(vocab, dict):
            raise ValueError(f"{vocab_file} holds a {type(vocab).__name__}; expected a JSON object token -> id")
        merges = read_merges(merges_file)
        if "<|endoftext|>" in vocab:
            for role in ("bos_token", "eos_token", "unk_token"):
                kwargs.setdefault(role, "<|endoftext|>")
        return cls(vocab, merges, use_fast=use_fast, **kwargs)

    @classmethod
    def from_pretrained(cls, folder, use_fast: bool | None = None, **overrides) -> "ByteLevelBPETokenizer":
        """A checkpoint folder: vocab.json + merges.txt (or encoder.json + vocab.bpe), and
        tokenizer_config.json when present (special tokens, model_max_length)."""
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is not a folder; expected one with vocab.json and merges.txt")
        for v, m in (("vocab.json", "merges.txt"), ("encoder.json", "vocab.bpe")):
            if (folder / v).is_file() and (folder / m).is_file():
                break
        else:
            raise FileNotFoundError(f"{folder} has no vocab.json + merges.txt (nor encoder.json + vocab.bpe); "
                                    "expected a GPT-2 style byte-level BPE tokenizer folder")
        kwargs = {}
        if (folder / "tokenizer_config.json").is_file():
            config = json.loads((folder / "tokenizer_config.json").read_text(encoding="utf-8"))
            if config.get("add_prefix_space"):
                raise NotImplementedError(f"{folder}: add_prefix_space=true (a space put before every text, as "
                                          "RoBERTa-style tokenizers may) is not supported; GPT-2 uses false")
            for role in ("bos", "eos", "unk", "pad"):
                tok = config.get(f"{role}_token")
                if isinstance(tok, dict):
                    tok = tok.get("content")
                if tok is not None:
                    kwargs[f"{role}_token"] = tok
            extra = [t.get("content") if isinstance(t, dict) else t
                     for t in config.get("additional_special_tokens") or []]
            if extra:
                kwargs["extra_special_tokens"] = extra
            mml = config.get("model_max_length")
            if isinstance(mml, (int, float)) and mml < 1e12:
                kwargs["model_max_length"] = int(mml)
        kwargs.update(overrides)
        return cls.from_files(folder / v, folder / m, use_fast=use_fast, **kwargs)

    def save(self, folder) -> Path:
        """Write vocab.json, merges.txt and tokenizer_config.json (from_pretrained reads them,
        and so does transformers' GPT2Tokenizer)."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        (folder / "vocab.json").write_text(json.dumps(self.vocab, ensure_ascii=False), encoding="utf-8")
        (folder / "merges.txt").write_text("#version: 0.2\n" + "".join(f"{a} {b}\n" for a, b in self.merges),
                                           encoding="utf-8")
        config = {"tokenizer_class": "GPT2Tokenizer", "model_max_length": self.model_max_length,
                  "add_prefix_space": False, **{f"{r}_token": t for r, t in self.special_tokens.items()}}
        if self.extra_special_tokens:
            config["additional_special_tokens"] = self.extra_special_tokens
        (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n",
                                                      encoding="utf-8")
        return folder

    # ---- encoding ----
    def _bpe(self, piece: str) -> tuple:
        """((ids...), (byte length of each token...)) of one pre-tokenised piece."""
        sym = [self.byte_encoder[b] for b in piece.encode("utf-8")]
        ranks = self.ranks
        while len(sym) > 1:
            best, best_rank = -1, len(ranks)
            for i in range(len(sym) - 1):
                r = ranks.get((sym[i], sym[i + 1]), best_rank)
                if r < best_rank:
                    best, best_rank = i, r
            if best < 0:
                break
            a, b = sym[best], sym[best + 1]
            out, i = sym[:best], best  # merge every occurrence of the best pair, left to right
            while i < len(sym):
                if sym[i] == a and i + 1 < len(sym) and sym[i + 1] == b:
                    out.append(a + b)
                    i += 2
                else:
                    out.append(sym[i])
                    i += 1
            sym = out
        try:
            result = (tuple(self.vocab[s] for s in sym), tuple(len(s) for s in sym))
        except KeyError as e:
            raise ValueError(f"the merges make the token {e.args[0]!r}, which is not in the vocabulary") from None
        if len(self._cache) > 200_000:
            self._cache.clear()
        self._cache[piece] = result
        return result

    def _encode_chunk(self, text, base, ids, offsets):
        cache = self._cache
        for m in self._pattern.finditer(text):
            piece = m.group()
            toks = cache.get(piece) or self._bpe(piece)
            ids.extend(toks[0])
            if offsets is not None:
                # Offsets in characters: a token that holds part of a character's bytes spans
                # that whole character (so two tokens may share one), as tokenizers reports.
                char_of = [k for k, c in enumerate(piece) for _ in range(len(c.encode("utf-8")))]
                start = base + m.start()
                pos = 0
                for n in toks[1]:
                    offsets.append((start + char_of[pos], start + char_of[pos + n - 1] + 1))
                    pos += n

    def _template(self, pair):
        return [("A", 0), ("B", 1)] if pair else [("A", 0)]

    def _decode_tokens(self, tokens):
        dec = self.byte_decoder
        out = bytearray()
        for t in tokens:
            if t in self._special_token_set or any(c not in dec for c in t):
                out += t.encode("utf-8")  # a special token is its own text, not byte symbols
            else:
                out += bytes(dec[c] for c in t)
        return out.decode("utf-8", errors="replace")

    def _build_fast(self):
        """The same BPE in the `tokenizers` package: this vocabulary and these merges, GPT-2's
        byte-level pre-tokenizer; special tokens and everything after encoding stay lamina's."""
        from tokenizers import AddedToken, Tokenizer as HFTokenizer, models, pre_tokenizers

        fast = HFTokenizer(models.BPE(dict(self.vocab), list(self.merges)))
        fast.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False, use_regex=True)
        fast.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in self.all_special_tokens])
        return fast

    # ---- training ----
    @classmethod
    def train(cls, texts, vocab_size: int, special_tokens=("<|endoftext|>",), min_frequency: int = 2,
              **kwargs) -> "ByteLevelBPETokenizer":
        """Learn a byte-level BPE of `vocab_size` tokens from an iterable of texts: the special
        tokens, then the 256 byte symbols (so any text is encodable), then merges of the most
        frequent adjacent pairs within GPT-2's pre-tokenised pieces. "<|endoftext|>" among the
        special tokens becomes bos/eos/unk, as in GPT-2; the others are extra special tokens."""
        special_tokens = list(special_tokens)
        if not isinstance(vocab_size, int) or vocab_size < 256 + len(special_tokens):
            raise ValueError(f"vocab_size must be an int of at least 256 (the byte symbols) + {len(special_tokens)} "
                             f"(the special tokens); got {vocab_size!r}")
        pattern = gpt2_pattern()
        split = re.compile("|".join(map(re.escape, sorted(special_tokens, key=len, reverse=True)))) if special_tokens else None
        counts = Counter()
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"ByteLevelBPETokenizer.train: texts[{i}] must be a str; got {type(t).__name__}")
            for part in (split.split(t) if split else [t]):
                counts.update(pattern.findall(part))
        enc = bytes_to_unicode()
        words = [[enc[b] for b in w.encode("utf-8")] for w, f in counts.items() if f >= min_frequency]
        freqs = [f for f in counts.values() if f >= min_frequency]
        tokens = special_tokens + [enc[b] for b in range(256)]
        merges = learn_merges(words, freqs, vocab_size - len(tokens), lambda a, b: a + b, set(tokens))
        # two merges can make the same string ("a"+"bc", "ab"+"c"): it gets one id
        tokens = list(dict.fromkeys(tokens + [a + b for a, b in merges]))
        vocab = {t: i for i, t in enumerate(tokens)}
        if "<|endoftext|>" in special_tokens:
            for role in ("bos_token", "eos_token", "unk_token"):
                kwargs.setdefault(role, "<|endoftext|>")
        extra = [t for t in special_tokens if t != "<|endoftext|>"]
        return cls(vocab, merges, extra_special_tokens=extra, **kwargs)


def read_merges(path) -> list[tuple[str, str]]:
    """vocab.bpe / merges.txt: an optional '#version' line, then one 'a b' merge per line, by rank."""
    merges = []
    with open(path, encoding="utf-8") as f:
        for k, line in enumerate(f):
            line = line.rstrip("\n")
            if (k == 0 and line.startswith("#version")) or not line:
                continue
            parts = line.split(" ")
            if len(parts) != 2:
                raise ValueError(f"{path}, line {k + 1}: expected two symbols 'a b'; got {line!r}")
            merges.append((parts[0], parts[1]))
    return merges
