"""BERT's tokenizer: basic tokenization (clean, split CJK, lowercase and strip accents, split
punctuation), then greedy longest-match WordPiece with "##" continuation pieces.

    tok = WordPieceTokenizer.from_pretrained("path/to/all-MiniLM-L6-v2")
    tok.encode("Hello, world!")            # [101, 7592, 1010, 2088, 999, 102]
    tok(["a", "b c"], padding=True)        # input_ids, attention_mask, token_type_ids (int64)

The rules follow `tokenizers`' BertNormalizer / BertPreTokenizer / WordPiece, which is what
`transformers.AutoTokenizer` runs for BERT checkpoints; tests/text checks the ids against it.
"""
from __future__ import annotations

import json
import re
import unicodedata
from collections import Counter
from pathlib import Path

from .base import Tokenizer, fast_wanted, learn_merges

_WORD, _SPACE, _ALONE = 0, 1, 2  # a character continues a word, ends it, or is a word by itself

# Unicode's White_Space property (what Rust's char::is_whitespace tests); \t \n \r count too.
_WHITE_SPACE = frozenset("\t\n\x0b\x0c\r \x85\xa0\u1680\u2028\u2029\u202f\u205f\u3000"
                         + "".join(map(chr, range(0x2000, 0x200B))))
# ASCII fast path: these are control characters (category Cc), deleted by the cleaning.
_ASCII_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f]")


def _is_cjk(cp: int) -> bool:
    """The CJK Unified Ideographs blocks, which BERT splits into one token per character
    (Hangul, Hiragana and Katakana are not in them and are treated like any letters)."""
    return (0x4E00 <= cp <= 0x9FFF or 0x3400 <= cp <= 0x4DBF or 0x20000 <= cp <= 0x2A6DF
            or 0x2A700 <= cp <= 0x2B73F or 0x2B740 <= cp <= 0x2B81F or 0x2B920 <= cp <= 0x2CEAF
            or 0xF900 <= cp <= 0xFAFF or 0x2F800 <= cp <= 0x2FA1F)


def _is_punctuation(ch: str) -> bool:
    """BERT's punctuation: every ASCII non-alphanumeric printable ($, ^, ` and _ too) and every
    Unicode P* character."""
    cp = ord(ch)
    if 33 <= cp <= 47 or 58 <= cp <= 64 or 91 <= cp <= 96 or 123 <= cp <= 126:
        return True
    return unicodedata.category(ch).startswith("P")


def _read_json(path: Path) -> dict:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except json.JSONDecodeError as e:
        raise ValueError(f"{path} is not valid JSON: {e}") from None


def _token_content(value):
    """A special token in tokenizer_config.json: a string, or an AddedToken dict with content."""
    if isinstance(value, dict):
        return value.get("content")
    return value


class WordPieceTokenizer(Tokenizer):
    """BERT's WordPiece tokenizer, from a vocab.txt (one token per line, the line number is its id).

    use_fast=True encodes with the optional `tokenizers` package (the same vocabulary and rules,
    the same ids: tested); the default, lamina's own code, is faster on 2 cores. use_fast=None
    follows the environment variable LAMINA_TOKENIZERS=fast|pure (default pure)."""

    _caches = ("_char_cache", "_word_cache")

    def __init__(self, vocab: dict[str, int], do_lower_case: bool = True, strip_accents: bool | None = None,
                 tokenize_chinese_chars: bool = True, unk_token="[UNK]", sep_token="[SEP]", pad_token="[PAD]",
                 cls_token="[CLS]", mask_token="[MASK]", model_max_length: int | None = 512,
                 max_input_chars_per_word: int = 100, clean_up_tokenization_spaces: bool = False,
                 use_fast: bool | None = None):
        super().__init__(vocab, dict(unk=unk_token, sep=sep_token, pad=pad_token, cls=cls_token, mask=mask_token),
                         model_max_length=model_max_length, clean_up_tokenization_spaces=clean_up_tokenization_spaces)
        if self.unk_token is None:
            raise ValueError("WordPieceTokenizer needs an unk_token (BERT's is [UNK]): it stands for words "
                             "the vocabulary cannot spell")
        self.do_lower_case = bool(do_lower_case)
        # strip_accents=None follows lowercasing, as in BERT: uncased models see no accents.
        self.strip_accents = self.do_lower_case if strip_accents is None else bool(strip_accents)
        self._strip_accents_setting = strip_accents
        self.tokenize_chinese_chars = bool(tokenize_chinese_chars)
        self.max_input_chars_per_word = int(max_input_chars_per_word)
        self._unk_id = self.vocab[self.unk_token]
        self._longest = max(len(t) for t in vocab)  # no piece is longer: bounds the greedy search
        self._char_cache: dict[str, tuple] = {}
        self._word_cache: dict[str, tuple] = {}
        self._ascii_word = re.compile(r"[a-z0-9]+|[^a-z0-9\s]" if self.do_lower_case else r"[A-Za-z0-9]+|[^A-Za-z0-9\s]")
        if fast_wanted(use_fast):
            self._fast = self._build_fast()

    # ---- loading and saving ----
    @classmethod
    def from_pretrained(cls, folder, use_fast: bool | None = None, **overrides) -> "WordPieceTokenizer":
        """Read vocab.txt and, when present, tokenizer_config.json (and special_tokens_map.json)
        from a checkpoint folder; keyword arguments override what the config says."""
        folder = Path(folder)
        if not folder.is_dir():
            raise FileNotFoundError(f"{folder} is not a folder; expected a BERT tokenizer folder with vocab.txt "
                                    "(and usually tokenizer_config.json)")
        vocab_file = folder / "vocab.txt"
        if not vocab_file.is_file():
            raise FileNotFoundError(f"{folder} has no vocab.txt; expected a BERT tokenizer folder with vocab.txt "
                                    f"(found: {', '.join(sorted(p.name for p in folder.iterdir())[:12]) or 'nothing'})")
        config = {}
        for name in ("special_tokens_map.json", "tokenizer_config.json"):  # the second wins
            if (folder / name).is_file():
                config.update({k: v for k, v in _read_json(folder / name).items() if v is not None})
        kwargs = {}
        for key in ("do_lower_case", "strip_accents", "tokenize_chinese_chars", "model_max_length",
                    "clean_up_tokenization_spaces"):
            if key in config:
                kwargs[key] = config[key]
        for role in ("unk", "sep", "pad", "cls", "mask"):
            if f"{role}_token" in config:
                kwargs[f"{role}_token"] = _token_content(config[f"{role}_token"])
        if isinstance(kwargs.get("model_max_length"), (int, float)) and kwargs["model_max_length"] > 1e12:
            kwargs["model_max_length"] = None  # HF writes a huge number for "no limit"
        kwargs.update(overrides)
        return cls(read_vocab(vocab_file), use_fast=use_fast, **kwargs)

    def save(self, folder) -> Path:
        """Write vocab.txt and tokenizer_config.json, which from_pretrained (and transformers'
        AutoTokenizer) read back."""
        folder = Path(folder)
        folder.mkdir(parents=True, exist_ok=True)
        by_id = sorted(self.vocab.items(), key=lambda kv: kv[1])
        if [i for _, i in by_id] != list(range(len(by_id))):
            raise ValueError("vocab.txt numbers tokens by line, so the ids must be 0..n-1 without gaps")
        (folder / "vocab.txt").write_text("".join(t + "\n" for t, _ in by_id), encoding="utf-8")
        config = {"tokenizer_class": "BertTokenizer", "do_lower_case": self.do_lower_case,
                  "strip_accents": self._strip_accents_setting, "tokenize_chinese_chars": self.tokenize_chinese_chars,
                  "model_max_length": self.model_max_length,
                  "clean_up_tokenization_spaces": self.clean_up_tokenization_spaces,
                  **{f"{role}_token": tok for role, tok in self.special_tokens.items()}}
        (folder / "tokenizer_config.json").write_text(json.dumps(config, indent=2, ensure_ascii=False) + "\n",
                                                      encoding="utf-8")
        return folder

    # ---- basic tokenization ----
    def _char(self, c: str) -> tuple:
        """What one input character becomes after normalisation: (char, kind) pairs, none when
        it is deleted. Context-free, so it is worked out once per distinct character."""
        cp = ord(c)
        if c in _WHITE_SPACE and unicodedata.category(c) != "Cc" or c in "\t\n\r":
            out = ((" ", _SPACE),)
        elif cp == 0 or cp == 0xFFFD or unicodedata.category(c).startswith("C"):
            out = ()  # control, format, private-use, unassigned: deleted
        else:
            alone = self.tokenize_chinese_chars and _is_cjk(cp)
            s = c
            if self.strip_accents:  # decompose, then drop the nonspacing marks (the accents)
                s = "".join(x for x in unicodedata.normalize("NFD", s) if unicodedata.category(x) != "Mn")
            if self.do_lower_case:  # per character, as tokenizers does (no final-sigma rule)
                s = "".join(x.lower() for x in s)
            out = tuple((x, _ALONE if alone or _is_punctuation(x) else _SPACE if x in _WHITE_SPACE else _WORD)
                        for x in s)
        self._char_cache[c] = out
        return out

    def _words(self, text: str):
        """(word, start, where) for each word: its normalised text, and where each of its
        characters came from in `text`: where=None means text[start:start+len(word)] one to
        one, else a list of the original index of each character."""
        if text.isascii() and not _ASCII_CONTROL.search(text):
            src = text.lower() if self.do_lower_case else text
            return [(m.group(), m.start(), None) for m in self._ascii_word.finditer(src)]
        words, chars, where = [], [], []
        cache = self._char_cache
        for i, c in enumerate(text):
            norm = cache.get(c)
            if norm is None:
                norm = self._char(c)
            for x, kind in norm:
                if kind == _WORD:
                    chars.append(x)
                    where.append(i)
                    continue
                if chars:
                    words.append(("".join(chars), where[0], where))
                    chars, where = [], []
                if kind == _ALONE:
                    words.append((x, i, [i]))
        if chars:
            words.append(("".join(chars), where[0], where))
        return words

    def basic_tokenize(self, text: str) -> list[str]:
        """The words before WordPiece: cleaned, lowercased, accents stripped, punctuation apart."""
        self._check_text(text)
        return [w for w, _, _ in self._words(text)]

    # ---- WordPiece ----
    def _wordpiece(self, word: str) -> tuple:
        """Greedy longest match from the left: ((ids...), ((start, end)...)) in the word's characters.
        A word longer than max_input_chars_per_word, or one the vocabulary cannot spell, is [UNK]."""
        n = len(word)
        if n > self.max_input_chars_per_word:
            out = ((self._unk_id,), ((0, n),))
        else:
            ids, spans, start = [], [], 0
            vocab = self.vocab
            while start < n:
                end = min(n, start + self._longest)
                while end > start:
                    i = vocab.get(word[start:end] if start == 0 else "##" + word[start:end])
                    if i is not None:
                        break
                    end -= 1
                else:
                    ids = None
                    break
                ids.append(i)
                spans.append((start, end))
                start = end
            out = ((self._unk_id,), ((0, n),)) if ids is None else (tuple(ids), tuple(spans))
        if len(self._word_cache) > 200_000:  # bound the memory on endless distinct words
            self._word_cache.clear()
        self._word_cache[word] = out
        return out

    def _encode_chunk(self, text, base, ids, offsets):
        cache = self._word_cache
        for word, start, where in self._words(text):
            pieces = cache.get(word) or self._wordpiece(word)
            ids.extend(pieces[0])
            if offsets is not None:
                for s, e in pieces[1]:
                    if where is None:
                        offsets.append((base + start + s, base + start + e))
                    else:
                        offsets.append((base + where[s], base + where[e - 1] + 1))

    def _template(self, pair):
        cls, sep = self.cls_token_id, self.sep_token_id
        if pair:
            return [(cls, 0), ("A", 0), (sep, 0), ("B", 1), (sep, 1)]
        return [(cls, 0), ("A", 0), (sep, 0)]

    def _decode_tokens(self, tokens):
        # tokenizers' WordPiece decoder: "##" pieces join the one before, others get a space,
        # and each token loses the space before ., ?, !, and ,
        out = []
        for k, tok in enumerate(tokens):
            if k:
                tok = tok[2:] if tok.startswith("##") else " " + tok
            out.append(_cleanup(tok))
        return "".join(out)

    def _build_fast(self):
        """The same tokenizer in the `tokenizers` package (Rust): normaliser, pre-tokenizer and
        WordPiece model configured from this vocabulary; special tokens and everything after
        encoding stay lamina's."""
        from tokenizers import AddedToken, Tokenizer as HFTokenizer, models, normalizers, pre_tokenizers

        fast = HFTokenizer(models.WordPiece(dict(self.vocab), unk_token=self.unk_token,
                                            max_input_chars_per_word=self.max_input_chars_per_word))
        fast.normalizer = normalizers.BertNormalizer(clean_text=True, handle_chinese_chars=self.tokenize_chinese_chars,
                                                     strip_accents=self.strip_accents, lowercase=self.do_lower_case)
        fast.pre_tokenizer = pre_tokenizers.BertPreTokenizer()
        fast.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in self.all_special_tokens])
        return fast

    # ---- training ----
    @classmethod
    def train(cls, texts, vocab_size: int, do_lower_case: bool = True, min_frequency: int = 2,
              special_tokens=("[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"), **kwargs) -> "WordPieceTokenizer":
        """Learn a WordPiece vocabulary of about `vocab_size` tokens from an iterable of texts.

        As `tokenizers`' WordPieceTrainer: every character of the corpus is a token (a word's
        first character plain, the others as "##c"), then the most frequent adjacent pieces are
        merged BPE-style until the vocabulary is full. The special tokens come first (ids 0..4:
        [PAD] [UNK] [CLS] [SEP] [MASK], in BERT's roles)."""
        if not isinstance(vocab_size, int) or vocab_size <= len(special_tokens):
            raise ValueError(f"vocab_size must be an int above the {len(special_tokens)} special tokens; got {vocab_size!r}")
        names = dict(zip(("pad_token", "unk_token", "cls_token", "sep_token", "mask_token"), special_tokens))
        # A stand-in with only the special tokens runs the basic tokenization (it needs no vocabulary).
        vocab = {t: i for i, t in enumerate(special_tokens)}
        pre = cls(vocab, do_lower_case=do_lower_case, use_fast=False, **names, **kwargs)
        counts = Counter()
        for i, t in enumerate(texts):
            if not isinstance(t, str):
                raise TypeError(f"WordPieceTokenizer.train: texts[{i}] must be a str; got {type(t).__name__}")
            for piece in pre._split_special(t):
                counts.update(w for w, _, _ in pre._words(piece))
        words, freqs = [], []
        alphabet = Counter()
        for w, f in counts.items():
            if len(w) > pre.max_input_chars_per_word:
                continue  # such words are [UNK] whatever the vocabulary
            sym = [w[0]] + ["##" + c for c in w[1:]]
            alphabet.update({s: f for s in sym})
            if f >= min_frequency:
                words.append(sym)
                freqs.append(f)
        tokens = list(special_tokens) + sorted(alphabet)  # every character, so nothing common is [UNK]
        merges = learn_merges(words, freqs, vocab_size - len(tokens), lambda a, b: a + b[2:], set(tokens))
        tokens = list(dict.fromkeys(tokens + [a + b[2:] for a, b in merges]))[:vocab_size]
        vocab = {t: i for i, t in enumerate(tokens)}
        return cls(vocab, do_lower_case=do_lower_case, **names, **kwargs)

    def _split_special(self, text):
        """The parts of `text` between special tokens."""
        return self._special_re.split(text) if self._special_re is not None else [text]


def _cleanup(tok: str) -> str:
    for a, b in ((" .", "."), (" ?", "?"), (" !", "!"), (" ,", ","), (" ' ", "'"), (" n't", "n't"),
                 (" 'm", "'m"), (" do not", " don't"), (" 's", "'s"), (" 've", "'ve"), (" 're", "'re")):
        tok = tok.replace(a, b)
    return tok


def read_vocab(path) -> dict[str, int]:
    """vocab.txt: one token per line, its line number is its id (a repeated token keeps the last)."""
    with open(path, encoding="utf-8") as f:
        return {line.rstrip("\n"): i for i, line in enumerate(f)}
