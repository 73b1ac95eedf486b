"""Background jobs (core/jobs.py): run politely in a lower-priority thread, stop flags with a time
budget, and a stop registry that stays bounded."""
from __future__ import annotations

import os
import threading
import time

import pytest

from core.jobs import StopFlag, StopRegistry, run_politely


def test_run_politely_yields_everything_in_a_lower_priority_thread_and_passes_errors():
    seen = []

    def job():
        seen.append((threading.get_native_id(), os.getpriority(os.PRIO_PROCESS, threading.get_native_id())))
        yield from range(5)

    assert list(run_politely(job)) == [0, 1, 2, 3, 4]
    (tid, nice), = seen
    assert tid != threading.get_native_id()
    assert os.getpriority(os.PRIO_PROCESS, threading.get_native_id()) < nice  # this thread untouched

    def broken():
        yield 1
        raise ValueError("no style image")

    gen = run_politely(broken)
    assert next(gen) == 1
    with pytest.raises(ValueError, match="no style image"):
        next(gen)


def test_closing_run_politely_stops_the_job():
    produced = []

    def endless():
        for i in range(10_000):
            produced.append(i)
            yield i

    gen = run_politely(endless)
    assert next(gen) == 0
    gen.close()
    time.sleep(0.5)
    n = len(produced)
    time.sleep(0.3)
    assert len(produced) == n <= 3  # stopped at its next item, not run to the end
    assert not any(t.name == "cvlab-background" and t.is_alive() for t in threading.enumerate())


def test_a_stop_flag_sets_itself_when_its_budget_is_spent():
    flag = StopFlag(budget_s=0.2)
    assert not flag.is_set() and flag.reason is None
    time.sleep(0.25)
    assert flag.is_set() and flag.reason == "budget"
    pressed = StopFlag(budget_s=100)
    pressed.set()
    assert pressed.reason == "stop"
    assert not StopFlag(budget_s=0).is_set()  # 0: no budget


def test_stop_for_a_queued_job_ends_it_as_it_starts_and_an_old_stop_does_not():
    reg = StopRegistry()
    reg.stop("early")               # nothing queued or running: remembered
    time.sleep(0.01)
    reg.submitted("early")          # a later Run
    assert reg.start("early") is not None
    reg.submitted("waiting")
    assert reg.stop("waiting") is False
    assert reg.start("waiting") is None
    flag = reg.start("running")
    assert reg.stop("running") is True and flag.is_set()
    reg.finish("running", flag)
    assert reg.sizes()["running"] == 1  # "early" still runs


def test_the_registry_stays_bounded_in_size_and_age():
    reg = StopRegistry(max_keys=50, ttl_s=0.2)
    for k in range(1000):
        reg.submitted(f"s{k}")
        reg.stop(f"t{k}")
    sizes = reg.sizes()
    assert sizes["submitted"] <= 50 and sizes["stop_asked"] <= 50
    time.sleep(0.3)
    reg.submitted("new")
    reg.stop("new2")
    assert reg.sizes()["submitted"] == 1 and reg.sizes()["stop_asked"] == 1
