"""Sentence sentiment with a bag of embeddings (nn.EmbeddingBag) and one linear layer, written
like PyTorch's text-classification tutorial; the UCI sentiment sentences (Amazon, IMDb, Yelp;
Kotzias et al. 2015) stand in for AG_NEWS. Only the imports name lamina.
Run: python examples/pytorch/text_classification.py --epochs 10 --data ../shared/data
"""
import argparse
import os
import re
import time
from collections import Counter

import lamina as torch
from lamina import nn
from lamina.utils.data import DataLoader, Dataset, random_split

SOURCES = ("amazon_cells_labelled.txt", "imdb_labelled.txt", "yelp_labelled.txt")


def tokenize(line):
    """Lower-cased words and punctuation marks, like torchtext's basic_english tokenizer."""
    return re.findall(r"[a-z0-9']+|[.,!?;()]", line.lower())


class Sentences(Dataset):
    """(label, text) pairs: 1 for a positive sentence, 0 for a negative one."""

    def __init__(self, folder):
        self.items = []
        for name in SOURCES:
            with open(os.path.join(folder, name), encoding="utf8") as f:
                for line in f:
                    text, _, label = line.rstrip("\n").rpartition("\t")
                    if label in ("0", "1") and text:  # the IMDb file has two broken lines
                        self.items.append((int(label), text))

    def __len__(self):
        return len(self.items)

    def __getitem__(self, i):
        return self.items[i]


class TextClassificationModel(nn.Module):
    def __init__(self, vocab_size, embed_dim, num_class):
        super().__init__()
        self.embedding = nn.EmbeddingBag(vocab_size, embed_dim, sparse=False)
        self.fc = nn.Linear(embed_dim, num_class)
        self.init_weights()

    def init_weights(self):
        initrange = 0.5
        self.embedding.weight.data.uniform_(-initrange, initrange)
        self.fc.weight.data.uniform_(-initrange, initrange)
        self.fc.bias.data.zero_()

    def forward(self, text, offsets):
        return self.fc(self.embedding(text, offsets))


def main():
    parser = argparse.ArgumentParser(description="Sentiment of short reviews with nn.EmbeddingBag")
    parser.add_argument("--data", default=os.environ.get("LAMINA_DATA", "../data"), help="data root")
    parser.add_argument("--epochs", type=int, default=10)
    parser.add_argument("--lr", type=float, default=5.0)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--embed-dim", type=int, default=64)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--dry-run", action="store_true", help="a few batches per epoch")
    args = parser.parse_args()

    torch.manual_seed(args.seed)
    dataset = Sentences(os.path.join(args.data, "04-sentiment", "uci-sentiment-labelled-sentences"))
    num_test = len(dataset) // 5
    rest, test_set = random_split(dataset, [len(dataset) - num_test, num_test],
                                  generator=torch.Generator().manual_seed(42))
    num_valid = len(rest) // 10
    train_set, valid_set = random_split(rest, [len(rest) - num_valid, num_valid])

    counts = Counter(tok for _, text in train_set for tok in tokenize(text))
    itos = ["<unk>"] + sorted(counts, key=lambda w: (-counts[w], w))
    stoi = {w: i for i, w in enumerate(itos)}

    def text_pipeline(text):
        return [stoi.get(tok, 0) for tok in tokenize(text)]

    def collate_batch(batch):
        """All the sentences of a batch in one flat tensor, with the offset where each starts."""
        label_list, text_list, offsets = [], [], [0]
        for label, text in batch:
            label_list.append(label)
            processed_text = torch.tensor(text_pipeline(text), dtype=torch.int64)
            text_list.append(processed_text)
            offsets.append(processed_text.size(0))
        label_list = torch.tensor(label_list, dtype=torch.int64)
        offsets = torch.tensor(offsets[:-1]).cumsum(dim=0)
        return label_list, torch.cat(text_list), offsets

    train_loader = DataLoader(train_set, batch_size=args.batch_size, shuffle=True, collate_fn=collate_batch)
    valid_loader = DataLoader(valid_set, batch_size=args.batch_size, shuffle=False, collate_fn=collate_batch)
    test_loader = DataLoader(test_set, batch_size=args.batch_size, shuffle=False, collate_fn=collate_batch)

    model = TextClassificationModel(len(itos), args.embed_dim, 2)
    criterion = torch.nn.CrossEntropyLoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, 1.0, gamma=0.1)

    def train(epoch):
        model.train()
        total_acc, total_count = 0, 0
        for idx, (label, text, offsets) in enumerate(train_loader):
            optimizer.zero_grad()
            predicted_label = model(text, offsets)
            loss = criterion(predicted_label, label)
            loss.backward()
            torch.nn.utils.clip_grad_norm_(model.parameters(), 0.1)
            optimizer.step()
            total_acc += (predicted_label.argmax(1) == label).sum().item()
            total_count += label.size(0)
            if args.dry_run and idx == 2:
                break
        return total_acc / total_count

    def evaluate(loader):
        model.eval()
        total_acc, total_count = 0, 0
        with torch.no_grad():
            for label, text, offsets in loader:
                predicted_label = model(text, offsets)
                total_acc += (predicted_label.argmax(1) == label).sum().item()
                total_count += label.size(0)
        return total_acc / total_count

    best = None
    for epoch in range(1, args.epochs + 1):
        epoch_start_time = time.time()
        train_acc = train(epoch)
        accu_val = evaluate(valid_loader)
        if best is not None and best > accu_val:
            scheduler.step()  # cut the learning rate tenfold when validation gets worse
        else:
            best = accu_val
        print(f"| end of epoch {epoch:3d} | time: {time.time() - epoch_start_time:5.2f}s | "
              f"train accuracy {train_acc:8.3f} | valid accuracy {accu_val:8.3f}")
    print(f"test accuracy {evaluate(test_loader):8.3f} on {len(test_set)} sentences")


if __name__ == "__main__":
    main()
