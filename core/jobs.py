"""Long background jobs shared by many visitors: run one politely, stop one, bound its time.

No Gradio here. ``run_politely`` iterates a job's generator in a thread of its own at a lower OS
priority; ``StopRegistry`` keeps, per key (a visitor's session), the stop flag of the job it runs and
the Stop pressed while its job still waited in the queue, bounded in size and in age; a ``StopFlag``
is a ``threading.Event`` that also counts as set once the job's time budget (seconds) has passed.
"""
from __future__ import annotations

import os
import queue
import threading
import time
from collections import OrderedDict
from typing import Any, Callable, Iterator

BACKGROUND_NICE = 10
"""OS priority (Linux nice, per thread) of a long batch job's thread while it runs (see run_politely)."""


def run_politely(make: Callable[[], Iterator[Any]], nice: int = BACKGROUND_NICE) -> Iterator[Any]:
    """Iterate ``make()`` in a thread of its own at a lower OS priority, and yield what it yields.

    A long batch job (a Gatys run) then takes the CPU only when the live frames, which a visitor
    watches, leave it free. The thread is new for each job, so no pooled thread of the server stays
    slowed (an unprivileged process cannot raise a thread's priority again). Where per-thread
    priorities do not exist (macOS, Windows) the job runs at normal priority. Closing this generator
    (the visitor left) stops the job at its next item; an exception comes back here."""
    items: queue.Queue = queue.Queue(maxsize=1)
    closed = threading.Event()

    def put(entry) -> bool:
        while not closed.is_set():
            try:
                items.put(entry, timeout=0.2)
                return True
            except queue.Full:
                continue
        return False

    def produce() -> None:
        try:
            os.setpriority(os.PRIO_PROCESS, threading.get_native_id(), nice)
        except (AttributeError, OSError):
            pass
        try:
            for item in make():
                if not put(("item", item)):
                    return
            put(("done", None))
        except BaseException as exc:  # noqa: BLE001 - handed to the consumer, which raises it
            put(("error", exc))

    threading.Thread(target=produce, name="cvlab-background", daemon=True).start()
    try:
        while True:
            kind, value = items.get()
            if kind == "item":
                yield value
            elif kind == "done":
                return
            else:
                raise value
    finally:
        closed.set()


class StopFlag(threading.Event):
    """A stop request that is also set once ``budget_s`` seconds (wall clock, from creation) passed.

    ``reason`` says why it is set: "stop" (someone pressed Stop), "budget" (time is up) or None."""

    def __init__(self, budget_s: float | None = None) -> None:
        super().__init__()
        self.deadline = None if not budget_s or budget_s <= 0 else time.monotonic() + float(budget_s)
        self.budget_s = budget_s

    def is_set(self) -> bool:
        return super().is_set() or (self.deadline is not None and time.monotonic() >= self.deadline)

    @property
    def reason(self) -> str | None:
        if super().is_set():
            return "stop"
        return "budget" if self.is_set() else None


class StopRegistry:
    """Stop flags of running jobs and Stops pressed for queued ones, one of each per key.

    ``submitted(key)`` when a job is asked for (before it waits in a queue); ``start(key)`` as it begins:
    a StopFlag, or None when Stop was pressed after that submit (the job should end at once);
    ``finish(key, flag)`` when it ends; ``stop(key)`` sets the running job's flag (True) or remembers the
    press for a queued one (False). Notes older than ``ttl_s`` and beyond ``max_keys`` (oldest first)
    are dropped, so strangers' presses cannot grow it without end; running jobs' flags are never dropped."""

    def __init__(self, max_keys: int = 4096, ttl_s: float = 3600.0) -> None:
        self.max_keys, self.ttl_s = max_keys, ttl_s
        self._lock = threading.Lock()
        self._running: dict[str, StopFlag] = {}
        self._submitted: OrderedDict[str, float] = OrderedDict()
        self._stop_asked: OrderedDict[str, float] = OrderedDict()

    def _note(self, book: OrderedDict, key: str) -> None:
        now = time.time()
        book[key] = now
        book.move_to_end(key)
        while book and (len(book) > self.max_keys or now - next(iter(book.values())) > self.ttl_s):
            book.popitem(last=False)

    def submitted(self, key: str) -> None:
        with self._lock:
            self._note(self._submitted, key)

    def start(self, key: str, budget_s: float | None = None) -> StopFlag | None:
        with self._lock:
            submitted = self._submitted.pop(key, time.time())
            asked = self._stop_asked.pop(key, None)
            if asked is not None and asked >= submitted:
                return None
            flag = StopFlag(budget_s)
            self._running[key] = flag
            return flag

    def finish(self, key: str, flag: StopFlag) -> None:
        with self._lock:
            if self._running.get(key) is flag:
                del self._running[key]

    def stop(self, key: str) -> bool:
        with self._lock:
            flag = self._running.get(key)
            if flag is None:
                self._note(self._stop_asked, key)
                return False
        flag.set()
        return True

    def sizes(self) -> dict[str, int]:
        """Entries held: running flags, pending submits, pending stops."""
        with self._lock:
            return {"running": len(self._running), "submitted": len(self._submitted),
                    "stop_asked": len(self._stop_asked)}
