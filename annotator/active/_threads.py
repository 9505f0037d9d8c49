"""Run small scikit-learn fits on one thread, safely from several threads at once.

scikit-learn's OpenMP loops around OpenBLAS calls spin-wait for cores the app's request handlers
and other jobs are using; on 2 busy cores a 5k-row k-means or a 2k-row logistic regression ran
10–20× slower with the default thread pools than with one thread. ``threadpoolctl`` limits are
process-global, not per thread: two overlapping ``threadpool_limits`` blocks that exit out of
order would leave the whole process single-threaded. One lock makes the blocks of this package
run one at a time (they are short), so each restores exactly what it found.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager

_LOCK = threading.Lock()


@contextmanager
def single_threaded() -> Iterator[None]:
    """BLAS and OpenMP pools limited to one thread inside the block; previous limits after it."""
    from threadpoolctl import threadpool_limits  # a scikit-learn dependency; lazy like sklearn

    with _LOCK, threadpool_limits(limits=1):
        yield
