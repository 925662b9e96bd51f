"""Learning-rate schedulers, with torch.optim.lr_scheduler's names, arguments and arithmetic.

A scheduler changes `group['lr']` of its optimizer's parameter groups each time `step()` is
called (once per epoch, or once per batch for OneCycleLR). Like torch, most schedulers compute
the next lr recursively from the current one (so they compose with other changes to the lr),
and each one's docstring gives the closed form it follows.
"""
from __future__ import annotations

import math
import numbers
from bisect import bisect_right
from collections import Counter
from typing import Any, Callable, Iterable

from .optimizer import MissingKeyError, Optimizer, check_number

__all__ = ["LRScheduler", "LambdaLR", "MultiplicativeLR", "StepLR", "MultiStepLR", "ExponentialLR", "CosineAnnealingLR",
           "LinearLR", "OneCycleLR", "SequentialLR", "ReduceLROnPlateau", "PolynomialLR",
           "CosineAnnealingWarmRestarts", "CyclicLR"]


def _check_optimizer(name: str, optimizer) -> None:
    if not isinstance(optimizer, Optimizer):
        raise TypeError(f"{name}: expected a lamina.optim.Optimizer, got {type(optimizer).__name__}")


def _check_count(name: str, key: str, value, least: int = 1) -> int:
    """An integer >= least: step counts and milestones (a float or 0 would divide by zero later)."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: {key} must be an integer, got {type(value).__name__} {value!r}")
    if value < least:
        raise ValueError(f"{name}: {key} must be an integer >= {least}, got {value}")
    return int(value)


def _factor(name: str, f, epoch: int, group: int) -> float:
    """What a user's lr_lambda returned, checked: a number (a 0-d tensor or array will do)."""
    value = f(epoch)
    if not isinstance(value, numbers.Real) and hasattr(value, "item") and math.prod(getattr(value, "shape", (0,))) == 1:
        value = value.item()
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: lr_lambda of parameter group {group} returned {type(value).__name__} {value!r} "
                        f"at epoch {epoch}; expected a number")
    return value


def _lambdas(name: str, optimizer: Optimizer, lr_lambda) -> list:
    fs = _per_group(name, optimizer, "lr_lambda", lr_lambda)
    for i, f in enumerate(fs):
        if not callable(f):
            raise TypeError(f"{name}: lr_lambda of parameter group {i} must be a function of the epoch, "
                            f"got {type(f).__name__} {f!r}")
    return fs


def _per_group(name: str, optimizer: Optimizer, what: str, value) -> list:
    """One value per parameter group: a list/tuple of the right length, or one value repeated."""
    if isinstance(value, (list, tuple)):
        if len(value) != len(optimizer.param_groups):
            raise ValueError(f"{name}: expected {len(optimizer.param_groups)} values for {what} "
                             f"(one per parameter group), got {len(value)}")
        return list(value)
    return [value] * len(optimizer.param_groups)


class LRScheduler:
    """Base class: `get_lr()` gives the lrs for epoch `last_epoch`; `step()` advances and applies them.

    Creating a scheduler records each group's `initial_lr` and applies the lr of epoch 0.
    """

    def __init__(self, optimizer: Optimizer, last_epoch: int = -1):
        _check_optimizer(type(self).__name__, optimizer)
        self.optimizer = optimizer
        if last_epoch == -1:
            for group in optimizer.param_groups:
                group.setdefault("initial_lr", group["lr"])
        else:
            for i, group in enumerate(optimizer.param_groups):
                if "initial_lr" not in group:
                    raise KeyError(f"{type(self).__name__}: param_groups[{i}] has no 'initial_lr'; resuming with "
                                   "last_epoch >= 0 needs the optimizer's state loaded first")
        self.base_lrs = [group["initial_lr"] for group in optimizer.param_groups]
        self.last_epoch = last_epoch
        self._initial_step()

    def _initial_step(self) -> None:
        self._step_count = 0
        self._is_initial = True
        try:
            self.step()
        finally:
            self._is_initial = False

    def get_lr(self) -> list[float]:
        """The lr of each parameter group for epoch `self.last_epoch`."""
        raise NotImplementedError(f"{type(self).__name__} must implement get_lr()")

    def get_last_lr(self) -> list[float]:
        """The lrs that the last `step()` applied, one per parameter group."""
        return self._last_lr

    def step(self) -> None:
        """Advance one epoch (or batch) and write the new lrs into the optimizer."""
        self._step_count += 1
        self.last_epoch += 1
        self._apply(self.get_lr())

    def _apply(self, lrs: list[float]) -> None:
        for i, lr in enumerate(lrs):  # a negative or nan lr would train silently wrong: refuse it
            if isinstance(lr, bool) or not isinstance(lr, numbers.Real) or not (math.isfinite(lr) and lr >= 0):
                raise ValueError(f"{type(self).__name__}: the schedule gives parameter group {i} an lr of {lr!r} "
                                 f"at epoch {self.last_epoch}; an lr must be a finite number >= 0")
        for group, lr in zip(self.optimizer.param_groups, lrs):
            group["lr"] = lr
        self._last_lr = [group["lr"] for group in self.optimizer.param_groups]

    def _closed_form(self) -> list[float]:
        """The lrs at `last_epoch` without recursion (SequentialLR restarts schedulers with it)."""
        return self.get_lr()

    def _current(self) -> list[float]:
        return [group["lr"] for group in self.optimizer.param_groups]

    def state_dict(self) -> dict[str, Any]:
        """Everything but the optimizer (as torch)."""
        return {k: v for k, v in self.__dict__.items() if k != "optimizer"}

    def load_state_dict(self, state_dict: dict[str, Any]) -> None:
        self._check_state(state_dict)
        self.__dict__.update(state_dict)

    def _check_state(self, state_dict, needed: tuple[str, ...] = ()) -> None:
        """Refuse another kind of state dict (an optimizer's, a module's, another scheduler's):
        its public keys must be this scheduler's, or loading would silently mix the two."""
        name = f"{type(self).__name__}.load_state_dict"
        if not isinstance(state_dict, dict):
            raise TypeError(f"{name}: expected a scheduler's state dict (a dict), got {type(state_dict).__name__}")
        own = {k for k in self.state_dict() if not k.startswith("_")} | set(needed)
        got = {k for k in state_dict if not isinstance(k, str) or not k.startswith("_")} | \
            {k for k in needed if k in state_dict}
        if own != got:
            if "param_groups" in state_dict and "state" in state_dict:
                what = "an optimizer's state dict"
            elif "last_epoch" in state_dict:
                what = "another scheduler's state dict"
            else:
                what = "a dict"
            missing, extra = sorted(map(str, own - got)), sorted(map(str, got - own))
            raise MissingKeyError(f"{name}: got {what}: " + "; ".join(
                part for part in (f"missing keys {missing}" if missing else "",
                                  f"unexpected keys {extra}" if extra else "") if part))


class LambdaLR(LRScheduler):
    """lr = initial_lr * lr_lambda(epoch); one function, or one per parameter group."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list, last_epoch: int = -1):
        self.lr_lambdas = _lambdas("LambdaLR", optimizer, lr_lambda)
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [base_lr * _factor("LambdaLR", f, self.last_epoch, i)
                for i, (f, base_lr) in enumerate(zip(self.lr_lambdas, self.base_lrs))]

    def state_dict(self):
        # functions cannot be saved; callable objects keep their attributes (as torch)
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "lr_lambdas")}
        state["lr_lambdas"] = [None if callable(f) and hasattr(f, "__code__") else dict(f.__dict__)
                               for f in self.lr_lambdas]
        return state

    def load_state_dict(self, state_dict):
        self._check_state(state_dict)
        state_dict = dict(state_dict)
        lambdas = state_dict.pop("lr_lambdas")
        self.__dict__.update(state_dict)
        for f, saved in zip(self.lr_lambdas, lambdas):
            if saved is not None:
                f.__dict__.update(saved)


class MultiplicativeLR(LambdaLR):
    """lr = lr * lr_lambda(epoch) at every step after the first (a multiplicative factor per epoch)."""

    def __init__(self, optimizer: Optimizer, lr_lambda: Callable[[int], float] | list, last_epoch: int = -1):
        self.lr_lambdas = _lambdas("MultiplicativeLR", optimizer, lr_lambda)
        LRScheduler.__init__(self, optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch <= 0:
            return self._current()
        return [lr * _factor("MultiplicativeLR", f, self.last_epoch, i)
                for i, (f, lr) in enumerate(zip(self.lr_lambdas, self._current()))]

    def _closed_form(self):
        lrs = list(self.base_lrs)
        for epoch in range(1, self.last_epoch + 1):
            lrs = [lr * _factor("MultiplicativeLR", f, epoch, i) for i, (f, lr) in enumerate(zip(self.lr_lambdas, lrs))]
        return lrs


class StepLR(LRScheduler):
    """lr = initial_lr * gamma ** (epoch // step_size)."""

    def __init__(self, optimizer: Optimizer, step_size: int, gamma: float = 0.1, last_epoch: int = -1):
        if isinstance(step_size, float) and step_size.is_integer():  # torch takes 1.0 (its text tutorial does)
            step_size = int(step_size)
        self.step_size = _check_count("StepLR", "step_size", step_size)
        check_number("StepLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0 or self.last_epoch % self.step_size != 0:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


    def _closed_form(self):
        return [b * self.gamma ** (self.last_epoch // self.step_size) for b in self.base_lrs]

class MultiStepLR(LRScheduler):
    """lr = initial_lr * gamma ** (number of milestones <= epoch)."""

    def __init__(self, optimizer: Optimizer, milestones: Iterable[int], gamma: float = 0.1, last_epoch: int = -1):
        milestones = list(milestones)
        for m in milestones:
            _check_count("MultiStepLR", "each milestone", m, least=0)
        check_number("MultiStepLR", "gamma", gamma)
        self.milestones = Counter(milestones)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        times = self.milestones.get(self.last_epoch, 0)  # a milestone listed twice decays twice
        if times == 0:
            return self._current()
        return [lr * self.gamma ** times for lr in self._current()]

    def load_state_dict(self, state_dict):
        super().load_state_dict(state_dict)
        self.milestones = Counter({int(k): v for k, v in self.milestones.items()})


    def _closed_form(self):
        n = bisect_right(sorted(self.milestones.elements()), self.last_epoch)
        return [b * self.gamma ** n for b in self.base_lrs]

class ExponentialLR(LRScheduler):
    """lr = initial_lr * gamma ** epoch."""

    def __init__(self, optimizer: Optimizer, gamma: float, last_epoch: int = -1):
        check_number("ExponentialLR", "gamma", gamma)
        self.gamma = gamma
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self._is_initial:
            return self._current()
        return [lr * self.gamma for lr in self._current()]


    def _closed_form(self):
        return [b * self.gamma ** self.last_epoch for b in self.base_lrs]

class CosineAnnealingLR(LRScheduler):
    """lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * epoch / T_max)) / 2, computed
    recursively as torch does (and continuing past T_max by the same recursion)."""

    def __init__(self, optimizer: Optimizer, T_max: int, eta_min: float = 0.0, last_epoch: int = -1):
        _check_count("CosineAnnealingLR", "T_max", T_max)
        check_number("CosineAnnealingLR", "eta_min", eta_min)
        self.T_max = T_max
        self.eta_min = eta_min
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        if self._is_initial:
            return self._current()
        if self._step_count == 1 and t > 0:  # resumed at a later epoch: closed form
            return [eta_min + (base - eta_min) * (1 + math.cos(t * math.pi / T)) / 2 for base in self.base_lrs]
        if (t - 1 - T) % (2 * T) == 0:  # at a trough the ratio below is 0/0: step up instead
            return [lr + (base - eta_min) * (1 - math.cos(math.pi / T)) / 2
                    for base, lr in zip(self.base_lrs, self._current())]
        return [(1 + math.cos(math.pi * t / T)) / (1 + math.cos(math.pi * (t - 1) / T)) * (lr - eta_min) + eta_min
                for lr in self._current()]


    def _closed_form(self):
        t, T, eta_min = self.last_epoch, self.T_max, self.eta_min
        return [eta_min + (b - eta_min) * (1 + math.cos(math.pi * t / T)) / 2 for b in self.base_lrs]

class LinearLR(LRScheduler):
    """lr = initial_lr * (start_factor + (end_factor - start_factor) * min(epoch, total_iters) / total_iters):
    a linear warm-up (or decay) over `total_iters` epochs."""

    def __init__(self, optimizer: Optimizer, start_factor: float = 1.0 / 3, end_factor: float = 1.0,
                 total_iters: int = 5, last_epoch: int = -1):
        check_number("LinearLR", "start_factor", start_factor, open_low=True)
        check_number("LinearLR", "end_factor", end_factor)
        if not 0 < start_factor <= 1:
            raise ValueError(f"LinearLR: start_factor must be in (0, 1], got {start_factor}")
        if not 0 <= end_factor <= 1:
            raise ValueError(f"LinearLR: end_factor must be in [0, 1], got {end_factor}")
        _check_count("LinearLR", "total_iters", total_iters)
        self.start_factor = start_factor
        self.end_factor = end_factor
        self.total_iters = total_iters
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        if self.last_epoch == 0:
            return [lr * self.start_factor for lr in self._current()]
        if self._is_initial or self.last_epoch > self.total_iters:
            return self._current()
        change = self.end_factor - self.start_factor
        ratio = 1.0 + change / (self.total_iters * self.start_factor + (self.last_epoch - 1) * change)
        return [lr * ratio for lr in self._current()]


    def _closed_form(self):
        f = self.start_factor + (self.end_factor - self.start_factor) * min(self.total_iters, self.last_epoch) \
            / self.total_iters
        return [b * f for b in self.base_lrs]

class OneCycleLR(LRScheduler):
    """The 1cycle policy (Smith & Topin, 2017), stepped once per batch: lr rises from
    max_lr / div_factor to max_lr over the first pct_start of the steps, then anneals to
    initial_lr / final_div_factor; momentum (or Adam's beta1) moves the opposite way.
    With three_phase, lr comes back down to initial_lr symmetrically before the final anneal."""

    def __init__(self, optimizer: Optimizer, max_lr: float | list[float], total_steps: int | None = None,
                 epochs: int | None = None, steps_per_epoch: int | None = None, pct_start: float = 0.3,
                 anneal_strategy: str = "cos", cycle_momentum: bool = True, base_momentum: float | list = 0.85,
                 max_momentum: float | list = 0.95, div_factor: float = 25.0, final_div_factor: float = 1e4,
                 three_phase: bool = False, last_epoch: int = -1):
        _check_optimizer("OneCycleLR", optimizer)
        if total_steps is not None:
            _check_count("OneCycleLR", "total_steps", total_steps)
            self.total_steps = total_steps
        elif epochs is not None and steps_per_epoch is not None:
            _check_count("OneCycleLR", "epochs", epochs)
            _check_count("OneCycleLR", "steps_per_epoch", steps_per_epoch)
            self.total_steps = epochs * steps_per_epoch
        else:
            raise ValueError("OneCycleLR: give either total_steps or both epochs and steps_per_epoch")
        if not isinstance(pct_start, float) or not 0 <= pct_start <= 1:
            raise ValueError(f"OneCycleLR: expected a float pct_start in [0, 1], got {pct_start}")
        if anneal_strategy not in ("cos", "linear"):
            raise ValueError(f"OneCycleLR: anneal_strategy must be 'cos' or 'linear', got {anneal_strategy!r}")
        check_number("OneCycleLR", "div_factor", div_factor, open_low=True)
        check_number("OneCycleLR", "final_div_factor", final_div_factor, open_low=True)
        self.anneal_strategy = anneal_strategy
        up = float(pct_start * self.total_steps) - 1
        last = self.total_steps - 1
        # (end_step, start_lr, end_lr, start_momentum, end_momentum): names of group entries
        if three_phase:
            self._schedule_phases = [
                [up, "initial_lr", "max_lr", "max_momentum", "base_momentum"],
                [float(2 * pct_start * self.total_steps) - 2, "max_lr", "initial_lr", "base_momentum", "max_momentum"],
                [last, "initial_lr", "min_lr", "max_momentum", "max_momentum"],
            ]
        else:
            self._schedule_phases = [
                [up, "initial_lr", "max_lr", "max_momentum", "base_momentum"],
                [last, "max_lr", "min_lr", "base_momentum", "max_momentum"],
            ]
        max_lrs = _per_group("OneCycleLR", optimizer, "max_lr", max_lr)
        for m in max_lrs:
            check_number("OneCycleLR", "max_lr", m)
        if last_epoch == -1:
            for group, m in zip(optimizer.param_groups, max_lrs):
                group["initial_lr"] = m / div_factor
                group["max_lr"] = m
                group["min_lr"] = group["initial_lr"] / final_div_factor
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"OneCycleLR: cycle_momentum needs an optimizer with momentum or betas, "
                                 f"{type(optimizer).__name__} has neither")
            self.use_beta1 = "betas" in optimizer.defaults
            max_ms = _per_group("OneCycleLR", optimizer, "max_momentum", max_momentum)
            base_ms = _per_group("OneCycleLR", optimizer, "base_momentum", base_momentum)
            for key, ms in (("max_momentum", max_ms), ("base_momentum", base_ms)):
                for m in ms:  # Adam's beta1 must stay below 1
                    check_number("OneCycleLR", key, m, below=1.0 if self.use_beta1 else None)
            if last_epoch == -1:
                for group, m, b in zip(optimizer.param_groups, max_ms, base_ms):
                    self._set_momentum(group, m)
                    group["max_momentum"] = m
                    group["base_momentum"] = b
        super().__init__(optimizer, last_epoch)

    def _set_momentum(self, group: dict, m: float) -> None:
        if self.use_beta1:
            group["betas"] = (m, *group["betas"][1:])
        else:
            group["momentum"] = m

    def _anneal(self, start: float, end: float, pct: float) -> float:
        if self.anneal_strategy == "cos":
            return end + (start - end) / 2.0 * (math.cos(math.pi * pct) + 1)
        return (end - start) * pct + start

    def get_lr(self):
        step = self.last_epoch
        if step > self.total_steps:
            raise ValueError(f"OneCycleLR: stepped {step} times, but total_steps is {self.total_steps}")
        lrs = []
        for group in self.optimizer.param_groups:
            start_step = 0.0
            for i, (end_step, lr0, lr1, m0, m1) in enumerate(self._schedule_phases):
                if step <= end_step or i == len(self._schedule_phases) - 1:
                    # step total_steps (the scheduler's step after the last batch) lies past the last
                    # phase: torch extrapolates there, linearly to a negative lr; hold the final values.
                    # A phase of no length (pct_start * total_steps == 1) is over at once (torch: 0/0)
                    span = end_step - start_step
                    pct = min((step - start_step) / span, 1.0) if span > 0 else 1.0
                    lrs.append(self._anneal(group[lr0], group[lr1], pct))
                    if self.cycle_momentum:
                        self._set_momentum(group, self._anneal(group[m0], group[m1], pct))
                    break
                start_step = end_step
        return lrs


class SequentialLR(LRScheduler):
    """Runs `schedulers[i]` between milestones[i-1] and milestones[i]; at each milestone the
    next scheduler starts from its epoch 0 (e.g. LinearLR warm-up, then CosineAnnealingLR)."""

    def __init__(self, optimizer: Optimizer, schedulers: list[LRScheduler], milestones: list[int],
                 last_epoch: int = -1):
        if not schedulers:
            raise ValueError("SequentialLR: expected at least one scheduler")
        for i, s in enumerate(schedulers):
            if isinstance(s, ReduceLROnPlateau):
                raise ValueError(f"SequentialLR: scheduler {i} is a ReduceLROnPlateau, whose step needs a metric")
            if getattr(s, "optimizer", None) is not optimizer:
                raise ValueError(f"SequentialLR: scheduler {i} ({type(s).__name__}) belongs to another optimizer")
        if len(milestones) != len(schedulers) - 1:
            raise ValueError(f"SequentialLR: expected {len(schedulers) - 1} milestones for {len(schedulers)} "
                             f"schedulers, got {len(milestones)}")
        for m in milestones:
            _check_count("SequentialLR", "each milestone", m, least=0)
        if list(milestones) != sorted(milestones):
            raise ValueError(f"SequentialLR: milestones must be in increasing order, got {list(milestones)}")
        self._schedulers = schedulers
        self._milestones = list(milestones)
        self.last_epoch = last_epoch + 1
        self.optimizer = optimizer
        # each scheduler already took its initial step when built: undo that, then start the first
        for group in optimizer.param_groups:
            group["lr"] = group["initial_lr"]
        for s in schedulers:
            s.last_epoch -= 1
        first = schedulers[bisect_right(self._milestones, 0)]
        first._initial_step()
        self._last_lr = first.get_last_lr()

    def step(self) -> None:
        self.last_epoch += 1
        idx = bisect_right(self._milestones, self.last_epoch)
        scheduler = self._schedulers[idx]
        if idx > 0 and self._milestones[idx - 1] == self.last_epoch:
            scheduler.last_epoch = 0  # the next scheduler starts at its epoch 0, in closed form
            scheduler._apply(scheduler._closed_form())
        else:
            scheduler.step()
        self._last_lr = scheduler.get_last_lr()

    def state_dict(self):
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_schedulers")}
        state["_schedulers"] = [s.state_dict() for s in self._schedulers]
        return state

    def load_state_dict(self, state_dict):
        self._check_state(state_dict, needed=("_schedulers",))
        state_dict = dict(state_dict)
        saved = state_dict.pop("_schedulers")
        self.__dict__.update(state_dict)
        for s, sd in zip(self._schedulers, saved):
            s.load_state_dict(sd)


class ReduceLROnPlateau(LRScheduler):
    """Multiply the lr by `factor` once the metric given to `step(metric)` has not improved
    (by more than `threshold`) for more than `patience` epochs; then wait `cooldown` epochs."""

    def __init__(self, optimizer: Optimizer, mode: str = "min", factor: float = 0.1, patience: int = 10,
                 threshold: float = 1e-4, threshold_mode: str = "rel", cooldown: int = 0,
                 min_lr: float | list[float] = 0.0, eps: float = 1e-8):
        _check_optimizer("ReduceLROnPlateau", optimizer)
        check_number("ReduceLROnPlateau", "factor", factor, below=1.0)
        _check_count("ReduceLROnPlateau", "patience", patience, least=0)
        _check_count("ReduceLROnPlateau", "cooldown", cooldown, least=0)
        check_number("ReduceLROnPlateau", "threshold", threshold)
        check_number("ReduceLROnPlateau", "eps", eps)
        if mode not in ("min", "max"):
            raise ValueError(f"ReduceLROnPlateau: mode must be 'min' or 'max', got {mode!r}")
        if threshold_mode not in ("rel", "abs"):
            raise ValueError(f"ReduceLROnPlateau: threshold_mode must be 'rel' or 'abs', got {threshold_mode!r}")
        self.optimizer = optimizer
        self.factor = factor
        self.default_min_lr = None if isinstance(min_lr, (list, tuple)) else min_lr
        self.min_lrs = _per_group("ReduceLROnPlateau", optimizer, "min_lr", min_lr)
        for m in self.min_lrs:
            check_number("ReduceLROnPlateau", "min_lr", m)
        self.patience = patience
        self.cooldown = cooldown
        self.eps = eps
        self.mode = mode
        self.threshold = threshold
        self.threshold_mode = threshold_mode
        self.last_epoch = 0
        self._last_lr = self._current()
        self.best = math.inf if mode == "min" else -math.inf
        self.cooldown_counter = 0
        self.num_bad_epochs = 0

    def is_better(self, a: float, best: float) -> bool:
        if self.threshold_mode == "rel":
            return a < best * (1.0 - self.threshold) if self.mode == "min" else a > best * (1.0 + self.threshold)
        return a < best - self.threshold if self.mode == "min" else a > best + self.threshold

    def step(self, metrics) -> None:  # type: ignore[override]
        """Record one epoch's metric (e.g. validation loss) and lower the lr if it has plateaued."""
        try:
            current = float(metrics)
        except (TypeError, ValueError, RuntimeError):
            shape = getattr(metrics, "shape", None)
            raise TypeError(f"ReduceLROnPlateau.step: metrics must be one number (e.g. the epoch's validation loss), "
                            f"got {type(metrics).__name__}" + (f" of shape {tuple(shape)}" if shape else "")
                            + f" {metrics!r}"[:120]) from None
        self.last_epoch += 1
        if self.is_better(current, self.best):
            self.best = current
            self.num_bad_epochs = 0
        else:
            self.num_bad_epochs += 1
        if self.cooldown_counter > 0:
            self.cooldown_counter -= 1
            self.num_bad_epochs = 0  # bad epochs in cooldown do not count
        if self.num_bad_epochs > self.patience:
            self._reduce_lr()
            self.cooldown_counter = self.cooldown
            self.num_bad_epochs = 0
        self._last_lr = self._current()

    def _reduce_lr(self) -> None:
        if len(self.min_lrs) != len(self.optimizer.param_groups):
            if self.default_min_lr is None:
                raise RuntimeError(f"ReduceLROnPlateau: the optimizer now has {len(self.optimizer.param_groups)} "
                                   f"parameter groups but min_lr gave {len(self.min_lrs)}; update min_lrs")
            self.min_lrs = [self.default_min_lr] * len(self.optimizer.param_groups)
        for group, min_lr in zip(self.optimizer.param_groups, self.min_lrs):
            old = float(group["lr"])
            new = max(old * self.factor, min_lr)
            if old - new > self.eps:  # changes smaller than eps are not worth making
                group["lr"] = new


class PolynomialLR(LRScheduler):
    """lr = initial_lr * (1 - min(epoch, total_iters) / total_iters) ** power: a polynomial decay
    to 0 at epoch total_iters (linear for power 1), computed recursively as torch does."""

    def __init__(self, optimizer: Optimizer, total_iters: int = 5, power: float = 1.0, last_epoch: int = -1):
        _check_count("PolynomialLR", "total_iters", total_iters)
        check_number("PolynomialLR", "power", power)  # a negative power would grow the lr to infinity
        self.total_iters = total_iters
        self.power = power
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        t, T = self.last_epoch, self.total_iters
        if self._is_initial or t > T:
            return self._current()
        factor = ((1.0 - t / T) / (1.0 - (t - 1) / T)) ** self.power
        return [lr * factor for lr in self._current()]

    def _closed_form(self):
        return [b * (1.0 - min(self.total_iters, self.last_epoch) / self.total_iters) ** self.power
                for b in self.base_lrs]


class CosineAnnealingWarmRestarts(LRScheduler):
    """SGDR (Loshchilov & Hutter, 2017): lr = eta_min + (initial_lr - eta_min) * (1 + cos(pi * T_cur / T_i)) / 2,
    where T_cur counts the epochs since the last restart and T_i, the length of the current
    cycle, starts at T_0 and grows T_mult times at every restart.

    `step()` advances one epoch; `step(epoch)` jumps to `epoch`, which may be fractional, so
    stepping every batch with `step(epoch + i / iters)` anneals smoothly within epochs.
    """

    def __init__(self, optimizer: Optimizer, T_0: int, T_mult: int = 1, eta_min: float = 0.0, last_epoch: int = -1):
        _check_count("CosineAnnealingWarmRestarts", "T_0", T_0)
        _check_count("CosineAnnealingWarmRestarts", "T_mult", T_mult)
        check_number("CosineAnnealingWarmRestarts", "eta_min", eta_min)
        self.T_0 = T_0
        self.T_i = T_0
        self.T_mult = T_mult
        self.eta_min = eta_min
        self.T_cur = last_epoch
        super().__init__(optimizer, last_epoch)

    def get_lr(self):
        return [self.eta_min + (base - self.eta_min) * (1 + math.cos(math.pi * self.T_cur / self.T_i)) / 2
                for base in self.base_lrs]

    def step(self, epoch: float | None = None) -> None:  # type: ignore[override]
        """Advance one epoch, or go to `epoch` (a number >= 0, fractional or not)."""
        if epoch is None and self.last_epoch < 0:
            epoch = 0
        if epoch is None:
            epoch = self.last_epoch + 1
            self.T_cur = self.T_cur + 1
            if self.T_cur >= self.T_i:  # a restart
                self.T_cur = self.T_cur % self.T_i
                self.T_i = self.T_i * self.T_mult
        else:
            if isinstance(epoch, bool) or not isinstance(epoch, numbers.Real) or not math.isfinite(epoch):
                raise TypeError(f"CosineAnnealingWarmRestarts.step: epoch must be a number, got "
                                f"{type(epoch).__name__} {epoch!r}")
            if epoch < 0:
                raise ValueError(f"CosineAnnealingWarmRestarts.step: epoch must be >= 0, got {epoch}")
            self._go_to(epoch)
        self._step_count += 1
        self.last_epoch = math.floor(epoch)
        self._apply(self.get_lr())

    def _go_to(self, epoch: float) -> None:
        """Set T_i and T_cur for `epoch`, counted from the start."""
        T_0, m = self.T_0, self.T_mult
        if epoch < T_0:
            self.T_i, self.T_cur = T_0, epoch
        elif m == 1:
            self.T_i, self.T_cur = T_0, epoch % T_0
        else:
            # cycle n starts at epoch T_0 * (m^n - 1) / (m - 1); the log can land a hair below an
            # integer at a restart (log(1000, 10) < 3), so the count is corrected with exact arithmetic
            n = int(math.log(epoch / T_0 * (m - 1) + 1, m))
            while T_0 * (m ** (n + 1) - 1) // (m - 1) <= epoch:
                n += 1
            while n > 0 and T_0 * (m ** n - 1) // (m - 1) > epoch:
                n -= 1
            self.T_cur = epoch - T_0 * (m ** n - 1) / (m - 1)
            self.T_i = T_0 * m ** n

    def _closed_form(self):
        self._go_to(self.last_epoch)  # (SequentialLR restarts this scheduler at its epoch 0)
        return self.get_lr()


class CyclicLR(LRScheduler):
    """Cyclical learning rates (Smith, 2017), stepped once per batch: the lr goes from base_lr up
    to max_lr over step_size_up steps and back down over step_size_down (default: the same),
    its amplitude scaled per cycle or per step by `mode` or a `scale_fn` of your own:
    'triangular' (constant), 'triangular2' (halved every cycle), 'exp_range' (gamma ** step).
    With cycle_momentum, momentum (or Adam's beta1) moves the opposite way, from max_momentum
    at base_lr to base_momentum at max_lr.
    """

    def __init__(self, optimizer: Optimizer, base_lr: float | list[float], max_lr: float | list[float],
                 step_size_up: int = 2000, step_size_down: int | None = None, mode: str = "triangular",
                 gamma: float = 1.0, scale_fn: Callable[[float], float] | None = None, scale_mode: str = "cycle",
                 cycle_momentum: bool = True, base_momentum: float | list = 0.8, max_momentum: float | list = 0.9,
                 last_epoch: int = -1):
        name = "CyclicLR"
        _check_optimizer(name, optimizer)
        base_lrs = _per_group(name, optimizer, "base_lr", base_lr)
        self.max_lrs = _per_group(name, optimizer, "max_lr", max_lr)
        for key, values in (("base_lr", base_lrs), ("max_lr", self.max_lrs)):
            for v in values:
                check_number(name, key, v)
        check_number(name, "step_size_up", step_size_up, open_low=True)
        if step_size_down is not None:
            check_number(name, "step_size_down", step_size_down)
        if scale_fn is None and mode not in ("triangular", "triangular2", "exp_range"):
            raise ValueError(f"CyclicLR: mode must be 'triangular', 'triangular2' or 'exp_range' (or give a "
                             f"scale_fn), got {mode!r}")
        if scale_fn is not None and not callable(scale_fn):
            raise TypeError(f"CyclicLR: scale_fn must be a function of the cycle or step, got "
                            f"{type(scale_fn).__name__} {scale_fn!r}")
        if scale_mode not in ("cycle", "iterations"):
            raise ValueError(f"CyclicLR: scale_mode must be 'cycle' or 'iterations', got {scale_mode!r}")
        check_number(name, "gamma", gamma, open_low=True)
        if last_epoch == -1:
            for group, lr in zip(optimizer.param_groups, base_lrs):
                group["lr"] = lr
        up = float(step_size_up)
        down = float(step_size_down) if step_size_down is not None else up
        self.total_size = up + down
        self.step_ratio = up / self.total_size
        self.mode = mode
        self.gamma = gamma
        self._scale_fn_custom = scale_fn
        # the built-in modes fix what their scale is a function of (as torch)
        self.scale_mode = scale_mode if scale_fn is not None else ("iterations" if mode == "exp_range" else "cycle")
        self.cycle_momentum = cycle_momentum
        if cycle_momentum:
            if "momentum" not in optimizer.defaults and "betas" not in optimizer.defaults:
                raise ValueError(f"CyclicLR: cycle_momentum needs an optimizer with momentum or betas, "
                                 f"{type(optimizer).__name__} has neither; pass cycle_momentum=False")
            self.use_beta1 = "betas" in optimizer.defaults
            self.base_momentums = _per_group(name, optimizer, "base_momentum", base_momentum)
            self.max_momentums = _per_group(name, optimizer, "max_momentum", max_momentum)
            for key, ms in (("base_momentum", self.base_momentums), ("max_momentum", self.max_momentums)):
                for m in ms:  # Adam's beta1 must stay below 1
                    check_number(name, key, m, below=1.0 if self.use_beta1 else None)
            if last_epoch == -1:
                for group, m, b in zip(optimizer.param_groups, self.max_momentums, self.base_momentums):
                    self._set_momentum(group, m)
                    group["max_momentum"] = m
                    group["base_momentum"] = b
        super().__init__(optimizer, last_epoch)
        self.base_lrs = base_lrs

    def _set_momentum(self, group: dict, m: float) -> None:
        if self.use_beta1:
            group["betas"] = (m, *group["betas"][1:])
        else:
            group["momentum"] = m

    def scale_fn(self, x: float) -> float:
        """The amplitude's scale at cycle (or step) x."""
        if self._scale_fn_custom is not None:
            return self._scale_fn_custom(x)
        if self.mode == "triangular":
            return 1.0
        if self.mode == "triangular2":
            return 1 / (2.0 ** (x - 1))
        return self.gamma ** x

    def get_lr(self):
        cycle = math.floor(1 + self.last_epoch / self.total_size)
        x = 1.0 + self.last_epoch / self.total_size - cycle  # how far into this cycle, in [0, 1)
        height = x / self.step_ratio if x <= self.step_ratio else (x - 1) / (self.step_ratio - 1)
        scale = self.scale_fn(cycle if self.scale_mode == "cycle" else self.last_epoch)
        lrs = [base + (top - base) * height * scale for base, top in zip(self.base_lrs, self.max_lrs)]
        if self.cycle_momentum:
            for group, low, top in zip(self.optimizer.param_groups, self.base_momentums, self.max_momentums):
                self._set_momentum(group, top - (top - low) * height * scale)
        return lrs

    def state_dict(self):
        # a function cannot be saved; a callable object keeps its attributes (as torch)
        state = {k: v for k, v in self.__dict__.items() if k not in ("optimizer", "_scale_fn_custom")}
        fn = self._scale_fn_custom
        state["_scale_fn_custom"] = None if fn is None or hasattr(fn, "__code__") else dict(fn.__dict__)
        return state

    def load_state_dict(self, state_dict):
        self._check_state(state_dict)
        state_dict = dict(state_dict)
        saved = state_dict.pop("_scale_fn_custom", None)
        self.__dict__.update(state_dict)
        if saved is not None and self._scale_fn_custom is not None:
            self._scale_fn_custom.__dict__.update(saved)
