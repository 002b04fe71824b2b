"""numpy's BLAS threads, kept out of PyTorch's way.

numpy and scipy bring their own OpenBLAS with its own thread pool. Its threads spin for a
while after each call, so small numpy products interleaved with PyTorch's (the Lanczos
bookkeeping between Hessian products) or with each other (a double-descent sweep's hundreds of
small Cholesky factorizations) fight PyTorch's threads and each other for the cores: on two
cores a 200 × 200 Cholesky ran a hundred times slower, and a Lanczos step's projections four
times slower, than on one BLAS thread.
"""

from __future__ import annotations

from contextlib import AbstractContextManager


def one_blas_thread() -> AbstractContextManager[object]:
    """numpy/scipy BLAS on one thread inside the ``with`` block; PyTorch's pool is untouched."""
    from threadpoolctl import threadpool_limits  # type: ignore[import-untyped]

    return threadpool_limits(limits=1, user_api="blas")
