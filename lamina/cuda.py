"""torch.cuda's everyday names, over CuPy. Without CuPy or a GPU they answer "none" rather
than fail, so `if lamina.cuda.is_available():` and `lamina.cuda.manual_seed(0)` run anywhere."""
from __future__ import annotations

from .backend import cuda_available


def is_available() -> bool:
    return cuda_available()


def device_count() -> int:
    if not cuda_available():
        return 0
    import cupy
    return cupy.cuda.runtime.getDeviceCount()


def current_device() -> int:
    if not cuda_available():
        raise RuntimeError("cuda.current_device: no CUDA GPU is available (lamina.cuda.is_available() is False)")
    import cupy
    return cupy.cuda.Device().id


def get_device_name(device=None) -> str:
    if not cuda_available():
        raise RuntimeError("cuda.get_device_name: no CUDA GPU is available (lamina.cuda.is_available() is False)")
    import cupy
    index = getattr(device, "index", device) or 0
    return cupy.cuda.runtime.getDeviceProperties(index)["name"].decode()


def synchronize(device=None) -> None:
    if cuda_available():
        import cupy
        cupy.cuda.Stream.null.synchronize()


def empty_cache() -> None:
    if cuda_available():
        import cupy
        cupy.get_default_memory_pool().free_all_blocks()


def manual_seed(seed: int) -> None:
    """lamina draws every random number from one generator (lamina.manual_seed), whatever the
    device, so seeding CUDA separately has nothing to do; accepted so torch scripts run."""


manual_seed_all = manual_seed
