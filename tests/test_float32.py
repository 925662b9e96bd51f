"""No float64 anywhere in a float32 training step: every array an op produces (forward and
backward), every gradient, parameter and optimiser state stays float32."""
import numpy as np
import pytest

import lamina
import lamina.nn as nn
import lamina.nn.functional as F


def _models():
    yield "mlp", nn.Sequential(nn.Linear(20, 32), nn.GELU(), nn.LayerNorm(32), nn.Dropout(0.1), nn.Linear(32, 5)), \
        lambda: lamina.randn(8, 20)
    yield "cnn", nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.BatchNorm2d(4), nn.ReLU(), nn.MaxPool2d(2),
                               nn.Conv2d(4, 4, 3, groups=2), nn.AdaptiveAvgPool2d(1), nn.Flatten(),
                               nn.Linear(4, 5)), lambda: lamina.randn(2, 3, 8, 8)

    class LM(nn.Module):
        def __init__(self):
            super().__init__()
            self.emb = nn.Embedding(11, 8)
            self.lstm = nn.LSTM(8, 16, batch_first=True)
            self.gru = nn.GRU(16, 8, batch_first=True, bidirectional=True)
            self.attn = nn.MultiheadAttention(16, 2, batch_first=True)
            self.head = nn.Linear(16, 5)

        def forward(self, idx):
            h, _ = self.lstm(self.emb(idx))
            h, _ = self.gru(h)
            h, _ = self.attn(h, h, h, need_weights=False)
            return self.head(h).mean(1)

    yield "sequence", LM(), lambda: lamina.randint(0, 11, (2, 6))


@pytest.mark.parametrize("name,model,make_x", list(_models()), ids=lambda v: v if isinstance(v, str) else "")
@pytest.mark.parametrize("opt", ["sgd", "adamw"])
def test_float32_training_step_has_no_float64(name, model, make_x, opt):
    optimizer = (lamina.optim.SGD(model.parameters(), lr=0.1, momentum=0.9, weight_decay=1e-4) if opt == "sgd"
                 else lamina.optim.AdamW(model.parameters(), lr=1e-3))
    y = lamina.randint(0, 5, (2,)) if name != "mlp" else lamina.randint(0, 5, (8,))
    with lamina.profile() as prof:
        for _ in range(2):
            loss = F.cross_entropy(model(make_x()), y, label_smoothing=0.1)
            optimizer.zero_grad()
            loss.backward()
            lamina.nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
    assert "float64" not in prof.dtypes, f"float64 produced by {prof.ops_producing('float64')}"
    for n, p in model.named_parameters():
        assert p.dtype == lamina.float32 and p.grad.dtype == lamina.float32, n
    for state in optimizer.state.values():
        for k, v in state.items():
            if hasattr(v, "dtype"):
                assert v.dtype == np.float32, k
