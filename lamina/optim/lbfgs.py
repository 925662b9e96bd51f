"""L-BFGS (Liu & Nocedal, 1989), with an optional strong-Wolfe line search, as torch.

Unlike the other optimisers, L-BFGS works on all parameters at once, as one flat vector: its
memory is a history of (step, gradient change) pairs over that vector, and one `step(closure)`
runs up to `max_iter` iterations, calling the closure again for every new point it tries.
So it has one parameter group, and its state (kept, as torch keeps it, under the first
parameter) holds flat vectors rather than arrays shaped like each parameter.
"""
from __future__ import annotations

import math
import numbers
from typing import Any, Callable

from .. import autograd
from ..backend import array_module, to_device
from ..tensor import Tensor
from .optimizer import Optimizer, check_number

_FLAT = ("d", "prev_flat_grad")  # state entries that are flat vectors
_FLAT_LISTS = ("old_dirs", "old_stps")  # ... and lists of them
_NUMBER_LISTS = ("ro", "al")  # lists of numbers (al has None where no pair is stored yet)


class LBFGS(Optimizer):
    r"""L-BFGS, as torch.optim.LBFGS (inspired by minFunc). `step` needs a closure.

    Each iteration: with s_i = x_{i+1} - x_i and y_i = g_{i+1} - g_i for the last `history_size`
    pairs (kept only where y.s > 1e-10), the two-loop recursion gives d = -H g, H ~ the inverse
    Hessian with H_0 = (y.s / y.y) I; then x = x + t d, where t = lr (on the very first iteration
    min(1, 1 / |g|_1) * lr), or the step that `line_search_fn="strong_wolfe"` finds.
    It stops when max|g| <= tolerance_grad, when a step or a change of the loss is below
    tolerance_change, or after max_iter iterations / max_eval closure calls.

    >>> opt = lamina.optim.LBFGS(model.parameters(), line_search_fn="strong_wolfe")
    >>> def closure():
    ...     opt.zero_grad(); loss = loss_fn(model(x), y); loss.backward(); return loss
    >>> opt.step(closure)
    """

    def __init__(self, params, lr: float = 1, max_iter: int = 20, max_eval: int | None = None,
                 tolerance_grad: float = 1e-7, tolerance_change: float = 1e-9, history_size: int = 100,
                 line_search_fn: str | None = None):
        _check_count("max_iter", max_iter)
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        _check_count("max_eval", max_eval)
        check_number("LBFGS", "tolerance_grad", tolerance_grad)
        check_number("LBFGS", "tolerance_change", tolerance_change)
        _check_count("history_size", history_size)
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}")
        # the base class checks lr
        super().__init__(params, dict(lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
                                      tolerance_change=tolerance_change, history_size=history_size,
                                      line_search_fn=line_search_fn))

    def add_param_group(self, param_group: dict[str, Any]) -> None:
        if self.param_groups:  # one history spans all parameters: per-group options have no meaning
            raise ValueError("LBFGS: doesn't support more than one parameter group (per-parameter options); "
                             "put all parameters in one group")
        super().add_param_group(param_group)

    # ---- the flat vector of all parameters ----------------------------------------------------
    def _params(self) -> list[Tensor]:
        return self.param_groups[0]["params"]

    def _flat_grad(self):
        """All gradients as one new vector (zeros for a parameter without a gradient)."""
        params = self._params()
        xp = array_module(params[0]._data)
        return xp.concatenate([p.grad._data.reshape(-1) if p.grad is not None else xp.zeros(p._data.size, p._data.dtype)
                               for p in params])

    def _add_grad(self, t: float, d) -> None:
        """x = x + t * d, in place over the parameters' arrays."""
        offset = 0
        for p in self._params():
            xp, n = array_module(p._data), p._data.size
            xp.add(p._data, (t * d[offset:offset + n]).reshape(p._data.shape), out=p._data)
            p._version += 1
            offset += n

    def _set_params(self, xs: list) -> None:
        for p, x in zip(self._params(), xs):
            array_module(p._data).copyto(p._data, x)
            p._version += 1

    def _evaluate(self, closure: Callable[[], Any]) -> tuple[Any, float]:
        with autograd.enable_grad():  # the closure builds a graph even though step runs without one
            loss = closure()
        if loss is None:
            raise TypeError("LBFGS.step: the closure returned None; it must return the loss it computed "
                            "(after zero_grad() and loss.backward())")
        return loss, float(loss)

    @autograd.no_grad()
    def step(self, closure: Callable[[], Any] | None = None):  # type: ignore[override]
        """Run up to max_iter L-BFGS iterations; `closure` clears the gradients, computes the loss,
        calls backward() and returns the loss. Returns the loss of the first call."""
        if closure is None or not callable(closure):
            raise TypeError("LBFGS.step: needs a closure (a function that calls zero_grad(), computes the loss, "
                            f"calls loss.backward() and returns the loss), got {type(closure).__name__}")
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tolerance_grad, tolerance_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]
        params = self._params()
        for p in params:
            if p.grad is not None and p.grad.shape != p.shape:
                raise RuntimeError(f"LBFGS.step: gradient of shape {p.grad.shape} does not match its "
                                   f"parameter's shape {p.shape}")
        state = self.state.setdefault(params[0], {})
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)

        orig_loss, loss = self._evaluate(closure)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._flat_grad()
        xp = array_module(flat_grad)
        if float(xp.abs(flat_grad).max()) <= tolerance_grad:  # already optimal
            return orig_loss

        d, t = state.get("d"), state.get("t")
        old_dirs, old_stps, ro = state.get("old_dirs"), state.get("old_stps"), state.get("ro")
        H_diag, prev_flat_grad, prev_loss = state.get("H_diag"), state.get("prev_flat_grad"), state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            # ---- the direction: steepest descent at first, then the two-loop recursion
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro, H_diag = [], [], [], 1.0
            else:
                y = flat_grad - prev_flat_grad
                s = d * t
                ys = float(y.dot(s))
                if ys > 1e-10:  # keep only pairs of positive curvature: H stays positive definite
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(s)
                    ro.append(1.0 / ys)
                    H_diag = ys / float(y.dot(y))
                al = state.setdefault("al", [None] * history_size)
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = float(old_stps[i].dot(q)) * ro[i]
                    q -= al[i] * old_dirs[i]
                d = r = q * H_diag
                for i in range(len(old_dirs)):
                    be_i = float(old_dirs[i].dot(r)) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]
            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                xp.copyto(prev_flat_grad, flat_grad)
            prev_loss = loss

            # ---- the step length
            t = min(1.0, 1.0 / float(xp.abs(flat_grad).sum())) * lr if state["n_iter"] == 1 else lr
            gtd = float(flat_grad.dot(d))  # the directional derivative
            if gtd > -tolerance_change:  # not a descent direction (any more)
                break
            ls_func_evals = 0
            if group["line_search_fn"] == "strong_wolfe":
                x_init = [p._data.copy() for p in params]

                def obj_func(x, t, d):
                    """The loss and flat gradient at x + t d; the parameters are put back to x."""
                    self._add_grad(t, d)
                    f = self._evaluate(closure)[1]
                    g = self._flat_grad()
                    self._set_params(x)
                    return f, g
                loss, flat_grad, t, ls_func_evals = _strong_wolfe(obj_func, x_init, t, d, loss, flat_grad, gtd,
                                                                  max_ls=max_eval - current_evals)
                self._add_grad(t, d)
                opt_cond = float(xp.abs(flat_grad).max()) <= tolerance_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:  # the last iteration's loss is not needed (and may be stochastic)
                    loss = self._evaluate(closure)[1]
                    flat_grad = self._flat_grad()
                    opt_cond = float(xp.abs(flat_grad).max()) <= tolerance_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            # ---- stop?
            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if float(xp.abs(d * t).max()) <= tolerance_change:  # the step was too small
                break
            if abs(loss - prev_loss) < tolerance_change:  # the loss stopped changing
                break

        state.update(d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
                     prev_flat_grad=prev_flat_grad, prev_loss=prev_loss)
        return orig_loss

    def update(self, p, grad, state, group):
        raise RuntimeError("LBFGS updates all parameters at once in step(closure); it has no per-parameter rule")

    # ---- checkpoints: torch's keys; vectors as Tensors, numbers as numbers --------------------
    def state_dict(self) -> dict[str, Any]:
        sd = super().state_dict()
        for s in sd["state"].values():
            for k in _FLAT_LISTS:
                if k in s:
                    s[k] = [Tensor._make(a, None) for a in s[k]]
        return sd

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        """Restore what `state_dict` returned (or torch's, its tensors as arrays): the vectors are
        copied into the first parameter's dtype and device and must have one entry per number
        in all the parameters."""
        if not isinstance(state_dict, dict) or not isinstance(state_dict.get("state"), dict):
            return super().load_state_dict(state_dict)  # which says what is wrong
        params = self._params()
        p0 = params[0]
        numel = sum(p._data.size for p in params)

        def vector(v, key):
            a = v._data if isinstance(v, Tensor) else v
            a = to_device(a, p0.device).astype(p0.dtype, copy=True)
            if a.ndim != 1 or a.shape[0] != numel:
                raise ValueError(f"LBFGS.load_state_dict: state {key!r} has shape {tuple(a.shape)}, but the "
                                 f"parameters hold {numel} numbers; was the state dict saved for another model?")
            return a

        def number(v):
            if isinstance(v, Tensor) or hasattr(v, "item"):
                v = v.item()
            return v

        state = None
        saved = state_dict["state"]
        entry = saved.get(0, saved.get("0"))
        if entry is not None:
            state = {}
            for k, v in entry.items():
                if k in _FLAT:
                    state[k] = None if v is None else vector(v, k)
                elif k in _FLAT_LISTS:
                    state[k] = [vector(a, f"{k}[{i}]") for i, a in enumerate(v)]
                elif k in _NUMBER_LISTS:
                    state[k] = [None if a is None else number(a) for a in v]
                else:
                    state[k] = number(v)
        super().load_state_dict({**state_dict, "state": {}})  # checks and restores the group's options
        self.state = {} if state is None else {p0: state}


def _check_count(key: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"LBFGS: {key} must be an integer, got {type(value).__name__} {value!r}")
    if value < 1:
        raise ValueError(f"LBFGS: {key} must be an integer >= 1, got {value}")


def _cubic_interpolate(x1, f1, g1, x2, f2, g2, bounds=None) -> float:
    """The minimiser of the cubic through (x1, f1) and (x2, f2) with slopes g1 and g2, clamped
    to `bounds` (by default [x1, x2]); their midpoint when the cubic has no minimum."""
    lo, hi = bounds if bounds is not None else ((x1, x2) if x1 <= x2 else (x2, x1))
    d1 = g1 + g2 - 3 * (f1 - f2) / (x1 - x2)
    d2_square = d1 * d1 - g1 * g2
    if d2_square < 0:
        return (lo + hi) / 2.0
    d2 = math.sqrt(d2_square)
    if x1 <= x2:
        min_pos = x2 - (x2 - x1) * ((g2 + d2 - d1) / (g2 - g1 + 2 * d2))
    else:
        min_pos = x1 - (x1 - x2) * ((g1 + d2 - d1) / (g1 - g2 + 2 * d2))
    return min(max(min_pos, lo), hi)


def _strong_wolfe(obj_func, x, t, d, f, g, gtd, c1=1e-4, c2=0.9, tolerance_change=1e-9, max_ls=25):
    """A step t along d with sufficient decrease, f(x + t d) <= f + c1 t gtd, and a flat enough
    slope, |g(x + t d).d| <= c2 |gtd| (More & Thuente's bracketing, then zooming in by cubic
    interpolation; as minFunc's and torch's). Returns (f_new, g_new, t, closure calls)."""
    xp = array_module(d)
    d_norm = float(xp.abs(d).max())
    g = g.copy()
    f_new, g_new = obj_func(x, t, d)
    ls_func_evals = 1
    gtd_new = float(g_new.dot(d))

    # bracket an interval that holds a point meeting the conditions
    t_prev, f_prev, g_prev, gtd_prev = 0.0, f, g, gtd
    done = False
    ls_iter = 0
    bracket_gtd = None
    while ls_iter < max_ls:
        if f_new > f + c1 * t * gtd or (ls_iter > 1 and f_new >= f_prev):
            bracket, bracket_f, bracket_g = [t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        if abs(gtd_new) <= -c2 * gtd:
            bracket, bracket_f, bracket_g = [t], [f_new], [g_new]
            done = True
            break
        if gtd_new >= 0:
            bracket, bracket_f, bracket_g = [t_prev, t], [f_prev, f_new], [g_prev, g_new.copy()]
            bracket_gtd = [gtd_prev, gtd_new]
            break
        # extrapolate: the next trial lies between a little and ten times beyond t
        min_step, max_step = t + 0.01 * (t - t_prev), t * 10
        t_prev, t = t, _cubic_interpolate(t_prev, f_prev, gtd_prev, t, f_new, gtd_new, bounds=(min_step, max_step))
        f_prev, g_prev, gtd_prev = f_new, g_new.copy(), gtd_new
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1
    if ls_iter == max_ls:  # out of evaluations: the best of the start and the last trial
        bracket, bracket_f, bracket_g = [0.0, t], [f, f_new], [g, g_new]

    # zoom: shrink the bracket until a point meets the conditions
    insuf_progress = False
    low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[-1] else (1, 0)
    while not done and ls_iter < max_ls:
        if abs(bracket[1] - bracket[0]) * d_norm < tolerance_change:  # the bracket is too small
            break
        t = _cubic_interpolate(bracket[0], bracket_f[0], bracket_gtd[0], bracket[1], bracket_f[1], bracket_gtd[1])
        # a trial too near an end of the bracket (twice running, or outside it) moves to 10% inside
        eps = 0.1 * (max(bracket) - min(bracket))
        if min(max(bracket) - t, t - min(bracket)) < eps:
            if insuf_progress or t >= max(bracket) or t <= min(bracket):
                t = max(bracket) - eps if abs(t - max(bracket)) < abs(t - min(bracket)) else min(bracket) + eps
                insuf_progress = False
            else:
                insuf_progress = True
        else:
            insuf_progress = False
        f_new, g_new = obj_func(x, t, d)
        ls_func_evals += 1
        gtd_new = float(g_new.dot(d))
        ls_iter += 1
        if f_new > f + c1 * t * gtd or f_new >= bracket_f[low_pos]:
            # not enough decrease, or no better than the low end: t becomes the high end
            bracket[high_pos], bracket_f[high_pos] = t, f_new
            bracket_g[high_pos], bracket_gtd[high_pos] = g_new.copy(), gtd_new
            low_pos, high_pos = (0, 1) if bracket_f[0] <= bracket_f[1] else (1, 0)
        else:
            if abs(gtd_new) <= -c2 * gtd:
                done = True
            elif gtd_new * (bracket[high_pos] - bracket[low_pos]) >= 0:
                # the slope points back past the low end: the old low end becomes the high one
                bracket[high_pos], bracket_f[high_pos] = bracket[low_pos], bracket_f[low_pos]
                bracket_g[high_pos], bracket_gtd[high_pos] = bracket_g[low_pos], bracket_gtd[low_pos]
            bracket[low_pos], bracket_f[low_pos] = t, f_new
            bracket_g[low_pos], bracket_gtd[low_pos] = g_new.copy(), gtd_new
    return bracket_f[low_pos], bracket_g[low_pos], bracket[low_pos], ls_func_evals
