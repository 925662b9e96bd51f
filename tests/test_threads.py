"""lamina's threads (lamina.backend.parallel): parts cover the rows once and run at the same
time on OpenBLAS's threads, OpenBLAS runs single-threaded inside them and gets its thread
count back, nested calls run inline, errors reach the caller."""
import os
import subprocess
import sys
import threading

import numpy as np
import pytest

from lamina import backend

needs_openblas = pytest.mark.skipif(backend._BLAS is None, reason="NumPy does not use OpenBLAS here")


def _parts() -> int:
    """How many parts a call cuts into: conftest asks for 3, OpenBLAS has as many threads as cores."""
    return min(backend.THREADS, backend.blas_threads())


def test_parts_cover_every_row_once_at_the_same_time():
    seen = []
    together = threading.Barrier(_parts(), timeout=30)

    def fn(rows):
        seen.append(rows)
        together.wait()  # every part is running at once, or this breaks
    backend.parallel(fn, 10)
    assert sorted(i for rows in seen for i in range(10)[rows]) == list(range(10))
    assert len(seen) == _parts()


def test_parts_is_capped_by_threads_and_rows():
    seen = []
    backend.parallel(seen.append, 2, parts=50)
    assert len(seen) <= 2 and sorted(i for rows in seen for i in range(2)[rows]) == [0, 1]
    seen.clear()
    backend.parallel(seen.append, 7, parts=1)
    assert seen == [slice(0, 7)]


def test_a_nested_call_runs_inline():
    inner = []

    def outer(rows):
        backend.parallel(lambda r: inner.append((rows, r)), 4)
    backend.parallel(outer, 6)
    assert all(r == slice(0, 4) for _, r in inner)  # each part ran the nested call whole


def test_an_error_in_a_part_reaches_the_caller_and_frees_the_threads():
    def fn(rows):
        if rows.start > 0:
            raise ValueError("part failed")
    if _parts() > 1:
        with pytest.raises(ValueError, match="part failed"):
            backend.parallel(fn, 9)
    seen = []
    backend.parallel(seen.append, 9)  # the lock was released: this call is cut again
    assert len(seen) == _parts()


@needs_openblas
def test_openblas_runs_single_threaded_inside_and_gets_its_threads_back():
    cpu = backend._BLAS[0]
    before = cpu.value
    inside = []
    a = np.random.default_rng(0).standard_normal((300, 300)).astype(np.float32)

    def fn(rows):
        inside.append(cpu.value)
        a[rows.start:rows.stop] @ a  # a GEMM on a part's own thread
    backend.parallel(fn, 300)
    assert inside and set(inside) == {1}
    assert cpu.value == before
    np.testing.assert_allclose(a @ a, a.astype(np.float64) @ a, rtol=1e-3, atol=1e-3)  # and GEMMs still work


@needs_openblas
def test_openblas_lowered_to_one_thread_means_no_parts():
    cpu = backend._BLAS[0]
    before = cpu.value
    seen = []
    try:
        cpu.value = 1  # as openblas_set_num_threads(1), or threadpoolctl, would leave it
        backend.parallel(seen.append, 8)
    finally:
        cpu.value = before
    assert seen == [slice(0, 8)]


def test_lamina_threads_is_read_from_the_environment():
    env = dict(os.environ, LAMINA_THREADS="3")
    code = "from lamina import backend; print(backend.THREADS)"
    out = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "3"
    env["LAMINA_THREADS"] = "zero"
    bad = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True)
    assert bad.returncode != 0 and "LAMINA_THREADS='zero'" in bad.stderr


@needs_openblas
def test_numpys_own_openblas_is_the_one_controlled_even_after_scipy():
    """SciPy's wheels bundle a second OpenBLAS; imported first, it is the first in the process's
    map, but the thread count lamina sets must be the one NumPy's GEMMs read."""
    pytest.importorskip("scipy")
    code = ("import scipy.special, ctypes, numpy\n"
            "from lamina import backend\n"
            "assert backend._BLAS is not None\n"
            "path = [l.split()[-1] for l in open('/proc/self/maps') if 'openblas' in l and 'numpy' in l][0]\n"
            "mine = ctypes.c_int.in_dll(ctypes.CDLL(path), 'blas_cpu_number')\n"
            "print(ctypes.addressof(mine) == ctypes.addressof(backend._BLAS[0]))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "True"
