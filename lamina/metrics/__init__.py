"""lamina.metrics: accuracy, top-k, precision/recall/F1 (macro), confusion matrix, MAE, RMSE.

Functions (lamina.metrics.functional) score whole arrays at once; the classes
(lamina.metrics.streaming) accumulate batch by batch for an epoch.

>>> from lamina import metrics
>>> metrics.accuracy(logits, labels)          # one call
>>> acc = metrics.Accuracy(); acc.update(logits, labels); acc.compute()   # streaming
"""
from .functional import (  # noqa: F401
    accuracy, classification_report, confusion_matrix, f1_score, mae, per_class, precision, precision_recall_f1,
    recall, rmse, to_numpy, top_k_accuracy,
)
from .streaming import (  # noqa: F401
    MAE, RMSE, Accuracy, ConfusionMatrix, F1Score, Mean, Metric, Precision, Recall, TopKAccuracy,
)
