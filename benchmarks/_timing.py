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


def wait_tables(app, timeout_s: float = 300.0) -> None:
    """Poll a dashboard session (``dashboard.layout.DashboardApp``) until none of its σ_V tables is pending,
    then refresh its views; TimeoutError after ``timeout_s``."""
    t0 = time.perf_counter()
    while app.jobs.pending(app.inputs.experiments):
        if time.perf_counter() - t0 > timeout_s:
            raise TimeoutError("tables not ready")
        time.sleep(0.05)
        app.poll()
    app.refresh()
