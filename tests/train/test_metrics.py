"""Metrics against values computed by hand (no sklearn)."""
import numpy as np
import pytest

import lamina
from lamina import metrics

# 6 samples, 3 classes. Predicted (argmax): [0, 1, 2, 1, 0, 2]; true: [0, 1, 1, 1, 2, 2]
SCORES = np.array([[0.9, 0.05, 0.05],
                   [0.1, 0.8, 0.1],
                   [0.2, 0.3, 0.5],
                   [0.3, 0.6, 0.1],
                   [0.5, 0.2, 0.3],
                   [0.1, 0.2, 0.7]])
TARGET = np.array([0, 1, 1, 1, 2, 2])


def test_accuracy_and_topk():
    assert metrics.accuracy(SCORES, TARGET) == pytest.approx(4 / 6)
    assert metrics.accuracy(np.array([0, 1, 2, 1, 0, 2]), TARGET) == pytest.approx(4 / 6)  # labels work too
    # top-2: sample 2 (true 1: 0.3 is 2nd), sample 4 (true 2: 0.3 is 2nd) -> all 6 hit
    assert metrics.top_k_accuracy(SCORES, TARGET, k=2) == pytest.approx(1.0)
    assert metrics.top_k_accuracy(SCORES, TARGET, k=1) == pytest.approx(4 / 6)
    assert metrics.accuracy(lamina.tensor(SCORES), lamina.tensor(TARGET)) == pytest.approx(4 / 6)  # Tensors


def test_confusion_matrix_and_macro_prf():
    cm = metrics.confusion_matrix(SCORES, TARGET)
    expected = np.array([[1, 0, 0],   # true 0: predicted 0
                         [0, 2, 1],   # true 1: predicted 1, 2, 1
                         [1, 0, 1]])  # true 2: predicted 0, 2
    np.testing.assert_array_equal(cm, expected)
    # per class precision: 0: 1/2, 1: 2/2, 2: 1/2; recall: 0: 1/1, 1: 2/3, 2: 1/2
    p = [0.5, 1.0, 0.5]
    r = [1.0, 2 / 3, 0.5]
    f = [2 * a * b / (a + b) for a, b in zip(p, r)]
    P, R, F1 = metrics.precision_recall_f1(SCORES, TARGET)
    assert P == pytest.approx(np.mean(p))
    assert R == pytest.approx(np.mean(r))
    assert F1 == pytest.approx(np.mean(f))
    assert metrics.f1_score(SCORES, TARGET) == pytest.approx(np.mean(f))


def test_regression():
    out, tgt = np.array([1.0, 2.0, 4.0]), np.array([1.5, 2.0, 2.0])
    assert metrics.mae(out, tgt) == pytest.approx((0.5 + 0 + 2) / 3)
    assert metrics.rmse(out, tgt) == pytest.approx(np.sqrt((0.25 + 0 + 4) / 3))
    assert metrics.mae(out[:, None], tgt) == pytest.approx((0.5 + 0 + 2) / 3)  # (N, 1) vs (N,)


def test_streaming_equals_functional_over_batches():
    acc, top2, f1, cm = metrics.Accuracy(), metrics.TopKAccuracy(2), metrics.F1Score(3), metrics.ConfusionMatrix(3)
    mae, rmse = metrics.MAE(), metrics.RMSE()
    for lo, hi in [(0, 2), (2, 5), (5, 6)]:
        for m in (acc, top2, f1, cm):
            m.update(SCORES[lo:hi], TARGET[lo:hi])
        mae.update(SCORES[lo:hi, 0], SCORES[lo:hi, 1])
        rmse.update(SCORES[lo:hi, 0], SCORES[lo:hi, 1])
    assert acc.compute() == pytest.approx(metrics.accuracy(SCORES, TARGET))
    assert top2.compute() == pytest.approx(1.0)
    assert f1.compute() == pytest.approx(metrics.f1_score(SCORES, TARGET))
    np.testing.assert_array_equal(cm.compute(), metrics.confusion_matrix(SCORES, TARGET))
    assert mae.compute() == pytest.approx(metrics.mae(SCORES[:, 0], SCORES[:, 1]))
    assert rmse.compute() == pytest.approx(metrics.rmse(SCORES[:, 0], SCORES[:, 1]))


def test_streaming_state_round_trip():
    f1 = metrics.F1Score(3)
    f1.update(SCORES[:3], TARGET[:3])
    g = metrics.F1Score(3)
    g.load_state_dict(f1.state_dict())
    f1.update(SCORES[3:], TARGET[3:])
    g.update(SCORES[3:], TARGET[3:])
    assert g.compute() == f1.compute()


def test_shape_mismatch_message():
    with pytest.raises(ValueError, match="accuracy: 6 predictions"):
        metrics.accuracy(SCORES, TARGET[:4])


def test_per_class_report():
    cm = metrics.confusion_matrix(SCORES, TARGET)
    p, r, f, support = metrics.per_class(cm)
    np.testing.assert_allclose(p, [0.5, 1.0, 0.5])
    np.testing.assert_allclose(r, [1.0, 2 / 3, 0.5])
    np.testing.assert_allclose(f, [2 / 3, 0.8, 0.5])
    np.testing.assert_array_equal(support, [1, 3, 2])
    text = metrics.classification_report(cm, ["cat", "dog", "bird"]).splitlines()
    assert text[0].split() == ["class", "precision", "recall", "f1", "support"]
    assert text[2].split() == ["dog", "1.0000", "0.6667", "0.8000", "3"]
    P, R, F1 = metrics.precision_recall_f1(SCORES, TARGET)
    assert text[-1].split() == ["macro", "avg", f"{P:.4f}", f"{R:.4f}", f"{F1:.4f}", "6"]
    # a class never predicted nor present: zeros, and left out of the macro average as before
    cm4 = np.pad(cm, ((0, 1), (0, 1)))
    assert metrics.per_class(cm4)[0][3] == 0 and metrics.precision_recall_f1(np.argmax(SCORES, 1), TARGET, 4) == (P, R, F1)


def test_confusion_plot(tmp_path):
    pytest.importorskip("matplotlib")
    from lamina.train.plots import plot_confusion
    path = plot_confusion(metrics.confusion_matrix(SCORES, TARGET), ["cat", "dog", "bird"], tmp_path / "cm.png")
    assert path == tmp_path / "cm.png" and path.stat().st_size > 3000
