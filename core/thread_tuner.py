"""Choose torch's intra-op thread count for a loop of equal steps by timing the steps themselves.

On a quiet machine two threads on two cores finish a Gatys step faster than one. When another job
holds one of the cores (another visitor's request, a video run, any other process), every parallel
region waits at its barrier for the thread that lost its core, and two threads become several
times slower than one. The load changes while a visitor waits, so the count is not fixed up front:
:class:`ThreadTuner` runs the steps with the count that was fastest recently and, now and then, one
step with the other count to see whether that has become faster. A probe that loses doubles the
interval to the next probe (up to ``max_probe_every``), so a settled machine pays little for it.

The count is set for the calling thread only (OpenMP keeps it per thread) and restored after each
step, so other work in the process keeps its own setting.
"""
from __future__ import annotations

import statistics
import time
from collections import deque
from collections.abc import Iterator
from contextlib import contextmanager


class ThreadTuner:
    """Thread counts for a sequence of steps of equal work (seconds of wall time per step).

    Args:
        max_threads: the larger count to try (default: torch's current count); 1 disables tuning.
        fixed: always this count (no tuning).
        probe_every: steps between probes of the other count, at first.
        max_probe_every: the longest interval a losing probe can grow to.
        window: how many recent timings of the current count are compared (their median) with the
            other count's latest probe.
    """

    def __init__(self, max_threads: int | None = None, probe_every: int = 8, max_probe_every: int = 64,
                 window: int = 3, fixed: int | None = None) -> None:
        import torch

        top = int(fixed or max_threads or torch.get_num_threads())
        self.counts = (top, 1) if top > 1 and not fixed else (top,)
        self.current = top
        self.first_probe_every = probe_every
        self.probe_every = probe_every
        self.max_probe_every = max_probe_every
        self.window = window
        self.reset()

    def reset(self) -> None:
        """Forget the timings: the steps' work changed (a new image size). The next step only warms up."""
        self.times = {n: deque(maxlen=self.window) for n in self.counts}
        self.since_probe = 0
        self.warm = False

    def choose(self) -> int:
        """The thread count for the next step."""
        if len(self.counts) == 1 or not self.warm:
            return self.current
        other = next(n for n in self.counts if n != self.current)
        if not self.times[other] or self.since_probe >= self.probe_every:
            return other
        return self.current

    def record(self, threads: int, seconds: float) -> None:
        """A step with ``threads`` threads took ``seconds``; update the choice."""
        if not self.warm:  # the first step at a new size builds kernels: its time says nothing
            self.warm = True
            return
        if threads != self.current:  # a probe: only its fresh time counts, older ones saw another load
            self.times[threads].clear()
            self.times[threads].append(seconds)
            self.since_probe = 0
            if self.median(threads) < self.median(self.current):
                self.current, self.probe_every = threads, self.first_probe_every
            else:
                self.probe_every = min(self.max_probe_every, self.probe_every * 2)
        else:
            self.times[threads].append(seconds)
            self.since_probe += 1
            faster = [n for n in self.counts if self.times[n] and self.median(n) < self.median(threads)]
            if faster:  # the current count's recent steps got slower than the other's last ones
                self.current = faster[0]

    def median(self, threads: int) -> float:
        return statistics.median(self.times[threads]) if self.times[threads] else float("inf")

    @contextmanager
    def step(self) -> Iterator[int]:
        """Run one step (the ``with`` body) with the chosen count, timed; yields the count."""
        import torch

        n = self.choose()
        before = torch.get_num_threads()
        torch.set_num_threads(n)
        t = time.perf_counter()
        try:
            yield n
        finally:
            torch.set_num_threads(before)
        self.record(n, time.perf_counter() - t)
