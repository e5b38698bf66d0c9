"""Shared timing helper for the benchmarks."""

import time


def best_ms(fn, repeat: int = 5) -> float:
    """Best-of-``repeat`` wall time of ``fn()`` in ms."""
    best = float("inf")
    for _ in range(repeat):
        t0 = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t0)
    return 1e3 * best
