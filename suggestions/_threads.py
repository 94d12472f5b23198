"""Suggestions compute on one thread: the matrices are small, and BLAS/OpenMP thread pools only contend.

On a busy two-core machine (trials running, two test workers), OpenBLAS's and OpenMP's spinning threads
made scikit-optimize's GP about ten times slower than on one thread (measured: 32 s against 3.3 s for the
same 39 suggestions). The limit applies while an algorithm proposes and is restored afterwards, so trial
code running in the same process keeps its own thread settings. Overlapping suggestions on several threads
(the HTTP service) may leave a process-wide pool (OpenBLAS on pthreads) at one thread, which only makes the
service's own later suggestions faster; OpenMP pools are per thread, so each suggestion sets its own.
"""

from __future__ import annotations

import sys
import threading
from contextlib import AbstractContextManager

from threadpoolctl import ThreadpoolController

_lock = threading.Lock()
_controller: ThreadpoolController | None = None
_seen_modules = -1


def one_thread() -> AbstractContextManager[object]:
    """A context that limits every loaded BLAS and OpenMP pool to one thread."""
    global _controller, _seen_modules
    with _lock:
        # Finding the pools costs about 2 ms; look again only after new modules were imported (torch's
        # OpenMP arrives with the first GP suggestion).
        if _controller is None or len(sys.modules) != _seen_modules:
            _controller = ThreadpoolController()
            _seen_modules = len(sys.modules)
        controller = _controller
    return controller.limit(limits=1)
