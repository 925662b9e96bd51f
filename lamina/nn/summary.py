"""`summary(model, input_shape)`: each leaf layer's output shape and parameter count."""
from __future__ import annotations

from .. import creation
from ..autograd import no_grad
from ..tensor import Tensor
from .module import Module


def summary(model: Module, input_shape, dtype=None, device=None, print_fn=print) -> str:
    """Run a zero input of `input_shape` (batch dim included, e.g. (1, 1, 28, 28)) through
    `model` in eval mode, print one row per leaf layer and the parameter totals, and
    return the same text.

    >>> lamina.nn.summary(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)), (1, 1, 28, 28))
    """
    rows = []

    def hook(module, inputs, output):
        outs = output if isinstance(output, (tuple, list)) else (output,)
        shape = ", ".join(str(tuple(o.shape)) for o in outs if isinstance(o, Tensor))
        rows.append((names[id(module)], type(module).__name__, shape, module.num_parameters()))

    names = {}
    handles = []
    for name, m in model.named_modules():
        if next(m.children(), None) is None:  # leaves only: containers would repeat their children
            names[id(m)] = name or type(m).__name__
            handles.append(m.register_forward_hook(hook))
    was_training = model.training
    model.eval()  # no running-statistics updates, no dropout
    try:
        with no_grad():
            model(creation.zeros(tuple(input_shape), dtype=dtype, device=device))
    finally:
        model.train(was_training)
        for h in handles:
            h.remove()

    total = sum(p.numel() for p in model.parameters())
    trainable = sum(p.numel() for p in model.parameters() if p.requires_grad)
    header = ("Layer (type)", "Output shape", "Param #")
    table = [header] + [(f"{n} ({t})", s, f"{c:,}") for n, t, s, c in rows]
    w0 = max(len(r[0]) for r in table) + 2
    w1 = max(len(r[1]) for r in table) + 2
    w2 = max(len(r[2]) for r in table)
    rule = "=" * (w0 + w1 + w2)
    lines = [rule, f"{header[0]:<{w0}}{header[1]:<{w1}}{header[2]:>{w2}}", rule]
    lines += [f"{a:<{w0}}{b:<{w1}}{c:>{w2}}" for a, b, c in table[1:]]
    lines += [rule, f"Total params: {total:,}", f"Trainable params: {trainable:,}",
              f"Non-trainable params: {total - trainable:,}", rule]
    text = "\n".join(lines)
    if print_fn is not None:
        print_fn(text)
    return text
