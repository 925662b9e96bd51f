"""Op checker rows for lamina/ops/spatial.py (merged into tests/test_ops.py's OPS).

Each row is `name: (fn(m, *inputs), list of input-shape tuples, options)`, m being lamina or torch.
"""
import numpy as np


def F(m):
    return m.nn.functional


def instance_norm_running(m, x, w, b):
    """instance_norm with running statistics: the output, and the statistics it updated."""
    rm, rv = m.zeros(x.shape[1], dtype=x.dtype) + 0.5, m.ones(x.shape[1], dtype=x.dtype) * 2
    y = F(m).instance_norm(x, rm, rv, w, b, momentum=0.3)
    ev = F(m).instance_norm(x, rm, rv, w, b, use_input_stats=False)
    return y, ev, rm, rv


def unpool(m, x, nd, **kw):
    pool, unpool_ = getattr(F(m), f"max_pool{nd}d"), getattr(F(m), f"max_unpool{nd}d")
    y, i = pool(x, 2, return_indices=True, **kw)
    return unpool_(y * 2, i, 2, **kw), i


def grid(m, x, g, **kw):
    return tuple(F(m).grid_sample(x, g, mode=mode, padding_mode=pm, align_corners=ac)
                 for mode, pm, ac in kw["cases"])


BILINEAR = [("bilinear", pm, ac) for pm in ("zeros", "border", "reflection") for ac in (False, True)]
NEAREST = [("nearest", pm, ac) for pm in ("zeros", "border", "reflection") for ac in (False, True)]

OPS = {
    "unfold": (lambda m, x: (F(m).unfold(x, 2), F(m).unfold(x, (2, 3), dilation=(1, 2), padding=1, stride=(2, 1))),
               [((2, 3, 5, 6),), ((3, 4, 4),), ((1, 1, 2, 3),)], {}),
    "fold": (lambda m, x: (F(m).fold(x, (4, 5), 2), ),
             [((2, 12, 12),), ((8, 12),)], {}),
    "conv3d": (lambda m, x, w, b: (F(m).conv3d(x, w, b), F(m).conv3d(x, w, None, stride=(2, 1, 2), padding=(1, 2, 0),
                                                                       dilation=(1, 2, 1))),
               [((2, 4, 4, 5, 6), (6, 4, 2, 3, 2), (6,)), ((4, 3, 5, 4), (6, 4, 2, 2, 2), (6,))], {}),
    "conv3d-groups": (lambda m, x, w: (F(m).conv3d(x, w, groups=2, padding="same"), F(m).conv3d(x, w, groups=2)),
                      [((1, 4, 3, 4, 5), (6, 2, 2, 3, 2)), ((2, 4, 3, 3, 3), (2, 2, 1, 1, 1))], {}),
    "conv_transpose3d": (lambda m, x, w, b: (F(m).conv_transpose3d(x, w, b),
                                             F(m).conv_transpose3d(x, w, None, stride=(2, 1, 3), padding=(1, 0, 1),
                                                                   output_padding=(1, 0, 2), dilation=(1, 2, 1))),
                         [((2, 4, 3, 2, 3), (4, 3, 2, 3, 2), (3,)), ((4, 2, 3, 2), (4, 2, 3, 2, 2), (2,))], {}),
    "conv_transpose3d-groups": (lambda m, x, w: F(m).conv_transpose3d(x, w, stride=2, groups=2, output_padding=1,
                                                                      dilation=2),
                                [((1, 4, 2, 3, 2), (4, 3, 2, 2, 3))], {}),
    "avg_pool3d": (lambda m, x: (F(m).avg_pool3d(x, 2), F(m).avg_pool3d(x, (3, 2, 2), stride=(1, 2, 2), padding=1),
                                 F(m).avg_pool3d(x, 3, 2, 1, ceil_mode=True, count_include_pad=False),
                                 F(m).avg_pool3d(x, 2, 1, divisor_override=3)),
                   [((2, 3, 4, 5, 6),), ((2, 5, 4, 5),)], {}),
    "max_pool3d": (lambda m, x: (F(m).max_pool3d(x, 2), *F(m).max_pool3d(x, (3, 2, 2), stride=(1, 2, 1), padding=1,
                                                                         return_indices=True),
                                 F(m).max_pool3d(x, 2, 2, dilation=(1, 2, 1), ceil_mode=True),
                                 *F(m).max_pool3d(x, 3, 2, 1, ceil_mode=True, return_indices=True)),
                   [((2, 3, 4, 5, 6),), ((2, 5, 4, 5),)], {}),
    "adaptive_avg_pool3d": (lambda m, x: (F(m).adaptive_avg_pool3d(x, (2, 3, 4)), F(m).adaptive_avg_pool3d(x, 1),
                                          F(m).adaptive_avg_pool3d(x, (None, 2, 5))),
                            [((2, 3, 4, 5, 6),), ((3, 5, 3, 7),)], {}),
    "max_unpool1d": (lambda m, x: unpool(m, x, 1), [((2, 3, 8),), ((3, 7),)], {}),
    "max_unpool2d": (lambda m, x: (*unpool(m, x, 2), F(m).max_unpool2d(*F(m).max_pool2d(x, 2, return_indices=True), 2,
                                                                     output_size=x.shape[-2:])),
                     [((2, 3, 4, 6),), ((3, 5, 4),), ((2, 3, 5, 6),)], {}),
    "max_unpool3d": (lambda m, x: unpool(m, x, 3), [((2, 2, 4, 4, 6),), ((2, 4, 4, 2),)], {}),
    "pixel_shuffle": (lambda m, x: F(m).pixel_shuffle(x, 2) * 2, [((2, 8, 3, 4),), ((4, 2, 3),), ((2, 1, 4, 2, 3),)], {}),
    "pixel_unshuffle": (lambda m, x: F(m).pixel_unshuffle(x, 2) * 2, [((2, 3, 4, 6),), ((1, 2, 2),), ((2, 1, 1, 2, 4),)],
                        {}),
    "grid_sample": (lambda m, x, g: grid(m, x, g, cases=BILINEAR), [((2, 3, 4, 5), (2, 3, 6, 2)),
                                                                     ((1, 2, 1, 3), (1, 4, 2, 2))],
                    dict(low=-1.3, high=1.3)),
    "grid_sample-far": (lambda m, x, g: grid(m, x, g * 3, cases=BILINEAR), [((2, 2, 3, 4), (2, 5, 3, 2))], {}),
    "grid_sample-3d": (lambda m, x, g: grid(m, x, g, cases=BILINEAR + NEAREST[:2]),
                       [((2, 2, 3, 4, 5), (2, 2, 3, 2, 3)), ((1, 1, 1, 2, 3), (1, 3, 1, 2, 3))], dict(low=-1.3, high=1.3)),
    "grid_sample-nearest": (lambda m, x, g: grid(m, x, g, cases=NEAREST), [((2, 3, 4, 5), (2, 3, 6, 2))],
                            dict(low=-1.3, high=1.3)),
    "affine_grid": (lambda m, t: (F(m).affine_grid(t, (2, 3, 4, 5), align_corners=False),
                                  F(m).affine_grid(t, (2, 1, 1, 3), align_corners=True)), [((2, 2, 3),)], {}),
    "affine_grid-3d": (lambda m, t: (F(m).affine_grid(t, (1, 3, 2, 4, 3), align_corners=False),
                                     F(m).affine_grid(t, (1, 1, 3, 2, 2), align_corners=True)), [((1, 3, 4),)], {}),
    "instance_norm": (lambda m, x, w, b: (F(m).instance_norm(x), F(m).instance_norm(x, weight=w, bias=b, eps=1e-3)),
                      [((2, 3, 4, 5), (3,), (3,)), ((3, 2, 5), (2,), (2,)), ((2, 3, 2, 2, 3), (3,), (3,))], {}),
    "instance_norm-running": (instance_norm_running, [((2, 3, 4, 5), (3,), (3,)), ((4, 2, 6), (2,), (2,))],
                              dict(fd=False)),  # the running statistics depend on x, outside the graph
}
