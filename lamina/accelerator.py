"""torch.accelerator's names: which accelerator (here: a CUDA GPU through CuPy) this process can use.

`device = lamina.accelerator.current_accelerator() if lamina.accelerator.is_available() else "cpu"`
is how current PyTorch examples pick their device.
"""
from __future__ import annotations

from .backend import Device, cuda_available


def is_available() -> bool:
    return cuda_available()


def current_accelerator(check_available: bool = False) -> Device | None:
    """The accelerator's device type (`device(type='cuda')`), or None without one, as torch."""
    return Device("cuda") if cuda_available() else None


def device_count() -> int:
    from . import cuda
    return cuda.device_count()


def synchronize(device=None) -> None:
    from . import cuda
    cuda.synchronize(device)
