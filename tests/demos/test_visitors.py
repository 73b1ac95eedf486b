"""Per-visitor job caps (demos/visitors.py) as plain logic: counts by session and by address, heavy
jobs apart, room in the queue kept for others."""
from __future__ import annotations

from types import SimpleNamespace

from demos.visitors import JobLimits, refusal


def _event(session: str, address: str, heavy: bool = False, kind: str = "style_gatys"):
    request = SimpleNamespace(client=SimpleNamespace(host=address), headers={})
    return SimpleNamespace(session_hash=session, request=request, concurrency_id=kind if heavy else "light")


def test_a_session_and_an_address_each_have_a_cap():
    limits = JobLimits(per_session=2, per_address=3)
    two = [_event("s", "1.1.1.1"), _event("s", "1.1.1.1")]
    assert "2 jobs" in refusal(two, "s", "1.1.1.1", "light", 64, limits)
    assert refusal(two, "t", "1.1.1.1", "light", 64, limits) is None  # another session of the address
    three = two + [_event("t", "1.1.1.1")]
    assert "3 jobs" in refusal(three, "u", "1.1.1.1", "light", 64, limits)
    assert refusal(three, "v", "2.2.2.2", "light", 64, limits) is None  # someone else


def test_heavy_jobs_have_their_own_cap_and_leave_room_in_the_queue():
    limits = JobLimits(heavy_per_session=1, heavy_per_address=2, heavy_share=0.5)
    one = [_event("s", "1.1.1.1", heavy=True)]
    assert "1 style optimisation job running" in refusal(one, "s", "1.1.1.1", "style_gatys", 64, limits)
    assert refusal(one, "s", "1.1.1.1", "light", 64, limits) is None  # a light job of the same session
    many = [_event(f"s{k}", f"10.0.0.{k}", heavy=True) for k in range(32)]
    assert "as many style optimisations" in refusal(many, "new", "9.9.9.9", "style_gatys", 64, limits)
    assert refusal(many, "new", "9.9.9.9", "light", 64, limits) is None  # light jobs still get in


def test_clip_runs_are_heavy_and_counted_apart_from_style_optimisations():
    limits = JobLimits(heavy_per_session=1, heavy_per_address=2)
    gatys = [_event("s", "1.1.1.1", heavy=True)]
    assert refusal(gatys, "s", "1.1.1.1", "video", 64, limits) is None  # a clip beside one's Gatys run
    clip = [_event("s", "1.1.1.1", heavy=True, kind="video")]
    assert "1 clip job running or queued" in refusal(clip, "s", "1.1.1.1", "video", 64, limits)
    two = clip + [_event("t", "1.1.1.1", heavy=True, kind="video")]
    assert "2 clip jobs" in refusal(two, "u", "1.1.1.1", "video", 64, limits)  # a third session, same address
    assert refusal(two, "u", "2.2.2.2", "video", 64, limits) is None  # someone else
