"""ThreadTuner: the steps' own times pick the thread count (driven here with given times, so the test
does not depend on this machine's load)."""
from __future__ import annotations

import torch

from core.thread_tuner import ThreadTuner


def drive(tuner: ThreadTuner, seconds_for, steps: int) -> list[int]:
    """Run ``steps`` steps whose time is ``seconds_for(step, threads)``; the counts used, in order."""
    used = []
    for i in range(steps):
        n = tuner.choose()
        used.append(n)
        tuner.record(n, seconds_for(i, n))
    return used


def test_quiet_machine_keeps_two_threads_and_probes_less_and_less():
    tuner = ThreadTuner(max_threads=2, probe_every=4, max_probe_every=16)
    used = drive(tuner, lambda i, n: 0.20 if n == 2 else 0.23, 80)
    assert used[0] == 2  # warm-up step
    probes = [i for i, n in enumerate(used) if n == 1]
    assert tuner.current == 2
    assert 3 <= len(probes) <= 8, probes
    gaps = [b - a for a, b in zip(probes, probes[1:])]
    assert gaps == sorted(gaps) and gaps[-1] == 17, gaps  # the interval doubles to its cap (16 steps + the probe)


def test_busy_core_moves_to_one_thread_and_back_when_it_frees():
    tuner = ThreadTuner(max_threads=2, probe_every=4, max_probe_every=16)
    busy = range(10, 60)  # another job holds a core during these steps: two threads wait at every barrier

    def seconds(i, n):
        if i in busy:
            return 0.9 if n == 2 else 0.3
        return 0.2 if n == 2 else 0.25

    used = drive(tuner, seconds, 100)
    assert used[15:60].count(1) >= 40  # switched within a few steps and stayed
    assert used[70:].count(2) >= 25 and tuner.current == 2  # back to two once the core is free


def test_reset_warms_up_again_and_one_thread_machines_never_probe():
    tuner = ThreadTuner(max_threads=2, probe_every=2)
    drive(tuner, lambda i, n: 0.2 if n == 2 else 0.5, 10)
    tuner.reset()
    assert not tuner.warm and all(not t for t in tuner.times.values())
    single = ThreadTuner(max_threads=1)
    assert set(drive(single, lambda i, n: 0.1, 20)) == {1}


def test_step_sets_the_count_for_the_body_and_restores_it():
    before = torch.get_num_threads()
    tuner = ThreadTuner(max_threads=2)
    tuner.warm, tuner.current = True, 2
    tuner.times[1].clear()  # no timing for 1 thread yet: the next step probes it
    with tuner.step() as n:
        assert n == 1 and torch.get_num_threads() == 1
    assert torch.get_num_threads() == before
    assert len(tuner.times[1]) == 1


def test_fixed_count_is_never_tuned():
    tuner = ThreadTuner(max_threads=2, fixed=2)
    assert set(drive(tuner, lambda i, n: 0.9 if n == 2 else 0.1, 30)) == {2}
