"""lamina.text: tokenizers for the pretrained transformers, written here and checked id for id
against Hugging Face's (tests/text).

    WordPieceTokenizer      BERT's (vocab.txt + tokenizer_config.json): from_pretrained, train, save
    ByteLevelBPETokenizer   GPT-2's (encoder.json/vocab.json + vocab.bpe/merges.txt): from_files,
                            from_pretrained, train, save

Both: encode / decode / tokenize, and tok(texts, text_pair, padding=..., truncation=...,
max_length=..., stride=..., return_overflowing_tokens=..., return_offsets_mapping=...) -> a
dict of int64 arrays with HF's keys. lamina's own code does the encoding: on 2 cores it is
faster than HF's Rust `tokenizers` (benchmarks/tokenizer_speed.py). use_fast=True, or the environment
variable LAMINA_TOKENIZERS=fast, hands the encoding to `tokenizers` when it is installed (the
same vocabulary and rules, so the same ids: tested), for machines with many cores.
"""
from .base import BatchEncoding, Tokenizer  # noqa: F401
from .bpe import ByteLevelBPETokenizer  # noqa: F401
from .wordpiece import WordPieceTokenizer  # noqa: F401

__all__ = ["BatchEncoding", "Tokenizer", "WordPieceTokenizer", "ByteLevelBPETokenizer"]
