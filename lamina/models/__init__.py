"""The model zoo: complete networks built from lamina.nn, with PyTorch-style parameter names."""
from .char_lstm import CharLSTM, CharLSTMConfig  # noqa: F401
from .sampling import sample_next  # noqa: F401

try:  # written in parallel; the package stays importable without it
    from .gpt import GPT, GPTConfig  # noqa: F401
except ImportError:
    pass
from .bert import (  # noqa: F401
    BertConfig, BertForMaskedLM, BertForQuestionAnswering, BertForSequenceClassification, BertForTokenClassification,
    BertModel, ModelOutput,
)
from .sentence import SentenceEncoder  # noqa: F401
