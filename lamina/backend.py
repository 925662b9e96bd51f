"""The array backend: NumPy on the CPU, CuPy on NVIDIA GPUs.

Ops never branch on the device. They ask `array_module(x)` for the module that owns an
array and call `xp.exp`, `xp.matmul`, ... on it (Chainer's `get_array_module` pattern).
"""
from __future__ import annotations

import ctypes
import os
import threading

import numpy as np

try:  # CuPy is an optional extra; a missing or device-less install just means CPU only.
    import cupy as _cp

    _cp.cuda.runtime.getDeviceCount()
    cp = _cp
except Exception:  # ImportError, or CUDA present without a device
    cp = None

# dtypes are NumPy dtype objects: lamina.float32 == np.dtype('float32'). The aliases that
# would shadow builtins here (float, int, bool) are made in lamina/__init__.py.
float16 = half = np.dtype("float16")
float32 = np.dtype("float32")
float64 = double = np.dtype("float64")
int8 = np.dtype("int8")
uint8 = np.dtype("uint8")
int16 = short = np.dtype("int16")
int32 = np.dtype("int32")
int64 = long = np.dtype("int64")
bool_ = np.dtype("bool")

_default_float = [float32]


def get_default_dtype() -> np.dtype:
    """The dtype of new floating point tensors (float32 unless changed)."""
    return _default_float[0]


def set_default_dtype(dtype) -> None:
    """Change the dtype of new floating point tensors, e.g. to float64 for gradient checks."""
    dtype = np.dtype(dtype)
    if dtype.kind != "f":
        raise TypeError(f"set_default_dtype: expected a floating point dtype, got {dtype}")
    _default_float[0] = dtype


def category(dtype) -> int:
    """Promotion category as in PyTorch: 0 bool < 1 integer < 2 floating."""
    k = dtype.kind
    return 2 if k == "f" else 0 if k == "b" else 1


def promote_types(a, b) -> np.dtype:
    """PyTorch's promotion of two tensor dtypes: the higher category wins outright
    (int64 + float16 -> float16, unlike NumPy), within a category the wider type wins."""
    ca, cb = category(a), category(b)
    if ca != cb:
        return a if ca > cb else b
    return np.promote_types(a, b)


def scalar_dtype(value) -> np.dtype:
    """The dtype a Python scalar becomes on its own: bool, int64 or the default float."""
    if isinstance(value, bool):
        return bool_
    if isinstance(value, (int, np.integer)):
        return int64
    return get_default_dtype()


class Device:
    """A device: 'cpu' or 'cuda[:index]'. Tensors report theirs from where their data lives."""

    __slots__ = ("type", "index")

    def __init__(self, spec="cpu", index=None):
        if isinstance(spec, Device):
            spec, index = spec.type, spec.index
        spec = str(spec)
        if ":" in spec:
            spec, idx = spec.split(":")
            index = int(idx)
        if spec not in ("cpu", "cuda"):
            raise ValueError(f"device: expected 'cpu' or 'cuda[:n]', got {spec!r}")
        self.type = spec
        self.index = (index or 0) if spec == "cuda" else None

    def __eq__(self, other):
        try:
            other = Device(other)
        except (ValueError, TypeError):
            return False
        return self.type == other.type and self.index == other.index

    def __hash__(self):
        return hash((self.type, self.index))

    def __repr__(self):
        return f"device(type='{self.type}')" if self.index is None else f"device(type='{self.type}', index={self.index})"

    def __str__(self):
        return self.type if self.index is None else f"{self.type}:{self.index}"


CPU = Device("cpu")


def array_module(x):
    """NumPy or CuPy: whichever owns array `x`."""
    if cp is not None and isinstance(x, cp.ndarray):
        return cp
    return np


def device_of(x) -> Device:
    if cp is not None and isinstance(x, cp.ndarray):
        return Device("cuda", x.device.id)
    return CPU


def to_device(x, device: Device):
    """Move an array to a device, copying only when it has to."""
    if device.type == "cpu":
        return cp.asnumpy(x) if cp is not None and isinstance(x, cp.ndarray) else x
    if cp is None:
        raise RuntimeError("to('cuda'): CuPy with a CUDA device is needed, and none was found")
    with cp.cuda.Device(device.index):
        return cp.asarray(x)


def cuda_available() -> bool:
    return cp is not None


def keep_freed_memory() -> bool:
    """Ask glibc to keep freed memory for reuse (no mmap for big blocks, no heap trim, one
    arena for all threads).

    A training step allocates and frees the same few-megabyte arrays every time. By default
    glibc hands big blocks back to the OS and the next step pays a page fault per 4 KB page
    to touch them again; keeping them made GPT and BatchNorm steps 20-30% faster. PyTorch's
    caching allocator does the same job. One arena, because a convolution's parts allocate on
    OpenBLAS's threads (see `parallel`), and memory one thread's arena keeps is no use to
    another's: the ResNet step's peak went from 154-158 MB to 143-145. Done once at import;
    set LAMINA_MALLOC=system to keep glibc's defaults. Returns False where there is no glibc.
    """
    if os.environ.get("LAMINA_MALLOC", "") == "system":
        return False
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return False
    M_TRIM_THRESHOLD, M_MMAP_THRESHOLD, M_ARENA_MAX = -1, -3, -8
    return bool(libc.mallopt(M_MMAP_THRESHOLD, 1 << 30) and libc.mallopt(M_TRIM_THRESHOLD, 1 << 30)
                and libc.mallopt(M_ARENA_MAX, 1))


MALLOC_TUNED = keep_freed_memory()


EMPTY_ROWS_MIN_BYTES = 256 << 10


def empty_rows(xp, rows: int, cols: int, dtype):
    """An uninitialised (rows, cols) matrix for a GEMM to read or write, its rows an odd number
    of 64-byte cache lines apart. A GEMM works on many rows at once; rows a multiple of 4 KB
    apart land on the same cache sets and evict each other, and the sizes of a training step
    make that common (C*N*tiles = 100352 floats in Winograd for 32 channels and 64 images of
    28x28; any count of 1024). Measured 20-35% faster GEMMs for the conv transforms. Small
    matrices (in cache anyway) are plain: batch-1 inference felt the extra Python. So are
    GPU arrays: this is about the CPU's caches."""
    itemsize = np.dtype(dtype).itemsize
    if xp is not np or rows * cols * itemsize < EMPTY_ROWS_MIN_BYTES:
        return xp.empty((rows, cols), dtype=dtype)
    unit = 64 // itemsize
    lines = -(-cols // unit)
    lines += 1 - lines % 2
    return xp.empty((rows, lines * unit), dtype=dtype)[:, :cols]


def _openblas():
    """NumPy's OpenBLAS, through ctypes: (blas_cpu_number, blas_num_threads, a function that
    runs a C callback on its threads), or None where NumPy uses another BLAS, or an OpenBLAS
    without its pthread server (an OpenMP build)."""
    try:
        with open("/proc/self/maps") as maps:
            paths = [line.split()[-1] for line in maps if "openblas" in line and ".so" in line]
        # NumPy's own copy first: SciPy's wheels bundle another OpenBLAS, loaded first if SciPy was
        here = os.path.dirname(np.__file__)
        ours = [p for p in paths if os.path.normpath(p).startswith(here)]  # in numpy/ or numpy.libs/
        lib = ctypes.CDLL((ours or paths)[0])
        run = lib.gotoblas_pthread  # (parts, fn, arg, stride): fn(arg + i*stride) for each part i
        run.argtypes = [ctypes.c_int, _PART, ctypes.c_void_p, ctypes.c_int]
        return ctypes.c_int.in_dll(lib, "blas_cpu_number"), ctypes.c_int.in_dll(lib, "blas_num_threads"), run
    except (OSError, IndexError, ValueError, AttributeError):
        return None


def _requested_threads(blas) -> int:
    value = os.environ.get("LAMINA_THREADS", "").strip()
    if not value:  # as many as OpenBLAS has (OPENBLAS_NUM_THREADS, or the cores)
        return max(1, blas[1].value) if blas else 1
    if not value.isdigit() or int(value) < 1:
        raise ValueError(f"LAMINA_THREADS={value!r}: expected a whole number of threads, 1 or more")
    return int(value)


# lamina's threads are OpenBLAS's (see `parallel`). NumPy runs every copy and ufunc on one
# core and OpenBLAS threads each GEMM on its own, so a convolution, a chain of both, spent
# half its time on one core. Cut over the batch instead, one part per thread with
# single-threaded GEMMs, the whole chain runs on every core. The parts run on OpenBLAS's own
# worker threads (its `gotoblas_pthread` runs a function there): after a GEMM a worker spins
# for ~0.1 s, so it takes a part at once, where a thread of lamina's own would find that
# core taken by the spinning worker, or, shutting the worker down instead, pay the slow wake
# of an idle core on a virtual machine each time. Where NumPy uses another BLAS, lamina
# stays on one thread.
_PART = ctypes.CFUNCTYPE(None, ctypes.c_void_p)  # a part, called from C with its index as a pointer
_BLAS = _openblas()
THREADS = _requested_threads(_BLAS)
# A single memory pass is cut only from this size up. Handing a part to another thread means
# handing it the GIL, and on a virtual machine waking the idle core that waits for it can take
# a millisecond or more: a LeNet step (1.2 MB activations) cut at 1 MB ran 1.4-2x slower in
# the benchmark suite, which pauses between timings; mnist-cnn cut at 1 MB gained 0-10%.
SPLIT_MIN_BYTES = 8 << 20
_busy = threading.Lock()  # one parallel call at a time; a nested or concurrent one runs inline


def blas_threads() -> int:
    """How many threads OpenBLAS may use now (openblas_set_num_threads, or threadpoolctl, may
    have lowered it since import); parallel never cuts into more parts. 1 without OpenBLAS."""
    return min(_BLAS[0].value, _BLAS[1].value) if _BLAS else 1


def set_num_threads(n: int) -> None:
    """torch.set_num_threads: how many threads lamina's parallel parts and OpenBLAS's GEMMs use."""
    global THREADS
    if isinstance(n, bool) or not isinstance(n, int) or n < 1:
        raise ValueError(f"set_num_threads: expected a whole number of threads, 1 or more, got {n!r}")
    THREADS = n
    if _BLAS:  # OpenBLAS cannot grow past the pool it started with
        _BLAS[0].value = min(n, _BLAS[1].value)


def get_num_threads() -> int:
    return THREADS


def parallel(fn, n: int, parts: int | None = None) -> None:
    """Call fn(rows) for slices `rows` that together cover range(n), `parts` of them (at most
    THREADS, and at most `blas_threads()`), at the same time, one per thread; fn must
    touch only its own rows. NumPy and OpenBLAS release the GIL inside their work, so the
    parts run on separate cores, and OpenBLAS runs single-threaded meanwhile (each part's
    GEMMs on the thread that calls them). Inside a part, a nested call runs inline, and so
    does a call from another thread meanwhile."""
    parts = min(THREADS, parts or THREADS, n, blas_threads())
    if parts < 2 or not _busy.acquire(blocking=False):
        fn(slice(0, n))
        return
    cpu, _, run_on_blas_threads = _BLAS
    bounds = [n * i // parts for i in range(parts + 1)]
    errors = []

    def part(i):  # called from C on OpenBLAS's threads (part 0 on this one), i as a pointer
        i = i or 0
        try:
            fn(slice(bounds[i], bounds[i + 1]))
        except BaseException as e:  # an exception cannot cross C: raised below instead
            errors.append(e)
    before = cpu.value
    try:
        cpu.value = 1  # what openblas_set_num_threads sets, read at each call; the variable has
        # one name in every build, where the function's carries a build's prefix and suffix
        run_on_blas_threads(parts, _PART(part), None, 1)
    finally:
        cpu.value = before
        _busy.release()
    if errors:
        raise errors[0]


def split(fn, n: int, work) -> None:
    """`parallel(fn, n)` for one big memory pass that writes the array `work`. On the GPU, or
    under SPLIT_MIN_BYTES, or inside a conv part (parallel runs nested calls inline), fn runs
    once over everything."""
    if work.nbytes < SPLIT_MIN_BYTES or not isinstance(work, np.ndarray):
        fn(slice(0, n))
    else:
        parallel(fn, n)


def blockwise(fn, *arrays) -> None:
    """fn(*blocks) over the same blocks of arrays of one shape, viewed flat, on lamina's
    threads; the last array is the one written. Arrays that are not all C-contiguous go to fn
    whole, once."""
    if not all(a.flags.c_contiguous and a.shape == arrays[0].shape for a in arrays):
        fn(*arrays)
        return
    flats = [a.reshape(-1) for a in arrays]
    split(lambda rows: fn(*(f[rows] for f in flats)), flats[0].shape[0], arrays[-1])


def copyto(dst, src) -> None:
    """dst[...] = src, cut along axis 0 over lamina's threads (src broadcasts to dst)."""
    src = src if src.shape == dst.shape else array_module(src).broadcast_to(src, dst.shape)

    def copy(rows):
        dst[rows] = src[rows]
    split(copy, dst.shape[0], dst)
