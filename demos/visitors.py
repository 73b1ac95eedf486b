"""How much of the server one visitor may take: who a request comes from, and per-visitor job caps.

A visitor is known two ways: by its Gradio session (``session_hash``; an API client makes as many
as it likes) and by its client address. Behind a reverse proxy (a Hugging Face Space) every request
comes from the proxy, and the visitor's address is the last entry of ``X-Forwarded-For`` (the one the
proxy added; entries before it are whatever the client wrote): it is trusted only when the app runs
with ``--trust-forwarded``, else the socket peer is the address.

``install(demo, limits)`` (after ``demo.queue()``, before launch) makes the queue refuse a job when its
visitor (session or address) already has ``jobs_per_visitor`` jobs queued or running, or
``heavy_per_visitor`` of the same heavy kind (a Gatys run; a clip run, which shares one server-wide
slot with every other visitor's clips), with one clear message; and it keeps room in the queue for
others: heavy jobs may fill only ``heavy_share`` of it. ``demos/sessions.py`` bounds the sessions one
address keeps.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Mapping

from demos import session_files

_SETTINGS = {"trust_forwarded": False}


def trust_forwarded(on: bool) -> None:
    """Trust X-Forwarded-For (only behind a proxy that sets it, such as a Space's)."""
    _SETTINGS["trust_forwarded"] = bool(on)


def client_address(headers: Mapping[str, str] | None, peer: str | None) -> str:
    """The visitor's address: the proxy-added forwarded entry when trusted, else the socket peer."""
    if _SETTINGS["trust_forwarded"] and headers is not None:
        forwarded = headers.get("x-forwarded-for") or ""
        last = forwarded.split(",")[-1].strip()
        if last:
            return last
    return peer or "unknown"


def address_of(request: Any) -> str:
    """client_address of a Starlette/FastAPI request or websocket, or of a gr.Request (None -> "unknown")."""
    if request is None:
        return "unknown"
    inner = getattr(request, "request", None)  # gr.Request wraps the Starlette request
    req = inner if inner is not None else request
    client = getattr(req, "client", None)
    peer = getattr(client, "host", None)
    return client_address(getattr(req, "headers", None), peer)


GATYS_BUDGET_S = 300.0
"""Default longest Gatys run (seconds of wall time); it then stops with its best image so far."""
_SETTINGS["gatys_budget_s"] = GATYS_BUDGET_S


def set_gatys_budget(seconds: float) -> None:
    """``--gatys-budget``: seconds a Gatys run may take (0: no limit)."""
    _SETTINGS["gatys_budget_s"] = float(seconds)


def gatys_budget_s() -> float:
    return _SETTINGS["gatys_budget_s"]


@dataclass
class JobLimits:
    """Per-visitor caps on queued + running Gradio events (``heavy_ids``: concurrency ids of the heavy
    jobs), and the share of the queue heavy jobs may fill. With the queue's 64 places, one address
    takes at most 24 and leaves 40 to others; 24 lets a classroom behind one address (or the load
    test's 20 clients) work at once."""
    per_session: int = 8
    per_address: int = 24
    heavy_per_session: int = 1
    heavy_per_address: int = 2
    heavy_share: float = 0.5
    heavy_ids: frozenset = frozenset({"style_gatys", "video"})


HEAVY_NAMES = {"style_gatys": ("style optimisation", "style optimisations"), "video": ("clip", "clip runs")}
"""What a visitor calls each heavy kind (concurrency id): the job's name, and many of them."""


def _events(queue) -> list:
    """Every event waiting in or run by a Gradio queue (gradio.queueing.Queue)."""
    waiting = [e for q in queue.event_queue_per_concurrency_id.values() for e in q.queue]
    running = [e for job in queue.active_jobs if job for e in job]
    return waiting + running


def _jobs(n: int, kind: str = "") -> str:
    return f"{n} {kind + ' ' if kind else ''}job{'' if n == 1 else 's'}"


def refusal(events: list, session: str | None, address: str, kind: str | None, max_size: int | None,
            limits: JobLimits) -> str | None:
    """Why a new job of concurrency id ``kind`` from (``session``, ``address``) may not join, given the
    ``events`` already queued or running (objects with ``session_hash``, ``request`` and
    ``concurrency_id``); None: it may. Heavy caps count the visitor's jobs of the same kind."""
    mine = [e for e in events if e.session_hash == session]
    here = [e for e in events if address_of(e.request) == address]
    if kind in limits.heavy_ids:
        one, many = HEAVY_NAMES.get(kind, ("long", "long jobs"))
        same = lambda e: e.concurrency_id == kind  # noqa: E731
        n_session, n_address = sum(map(same, mine)), sum(map(same, here))
        if n_session >= limits.heavy_per_session or n_address >= limits.heavy_per_address:
            n = max(n_session, n_address)
            return (f"You already have {_jobs(n, one)} running or queued: wait for "
                    f"{'it' if n == 1 else 'them'} to finish or press Stop, then run again.")
        waiting = sum(e.concurrency_id in limits.heavy_ids for e in events)
        if max_size and waiting >= max(1, int(max_size * limits.heavy_share)):
            return f"The server has as many {many} queued as it takes: try again in a few minutes."
    if len(mine) >= limits.per_session or len(here) >= limits.per_address:
        n = len(mine) if len(mine) >= limits.per_session else len(here)
        return (f"You already have {_jobs(n)} running or queued: wait for {'it' if n == 1 else 'them'} to finish, "
                "then try again.")
    return None


def install(demo, limits: JobLimits | None = None) -> None:
    """Make ``demo``'s queue (after ``demo.queue()``) refuse a job over its visitor's caps, with the
    reason as the error the visitor sees (HTTP 400 from queue/join, before anything is queued)."""
    limits = limits or JobLimits()
    queue = demo._queue
    original = queue.push

    async def push(body, request, username):
        fn = demo.fns.get(body.fn_index) if body.fn_index is not None else None
        if fn is not None:
            why = refusal(_events(queue), body.session_hash, address_of(request), fn.concurrency_id,
                          queue.max_size, limits)
            if why:
                return False, why, "error"
        named = body.session_hash
        result = await original(body, request, username)
        if result[0]:  # queued: the uploads it names are this session's, to go when it ends
            session_files.note_uploads(body.session_hash, body.data)
        quota = getattr(demo, "cvlab_session_quota", None)
        if quota is not None and result[0] and not named:  # a /call/ request: the queue named its session
            quota.admit(body.session_hash, address_of(request))
        return result

    queue.push = push


def add_flags(parser) -> None:
    """The app's flags for sharing the server (argparse)."""
    from demos.video import ClipCaps

    d, clips = JobLimits(), ClipCaps()
    parser.add_argument("--trust-forwarded", action="store_true",
                        help="take the visitor's address from X-Forwarded-For (only behind a proxy that sets it)")
    parser.add_argument("--gatys-budget", type=float, default=GATYS_BUDGET_S,
                        help=f"seconds a Gatys run may take, then it stops with its best image (default "
                             f"{GATYS_BUDGET_S:.0f}; 0: no limit)")
    parser.add_argument("--jobs-per-session", type=int, default=d.per_session,
                        help=f"jobs one session may have queued or running (default {d.per_session})")
    parser.add_argument("--jobs-per-address", type=int, default=d.per_address,
                        help=f"jobs one client address may have queued or running (default {d.per_address})")
    parser.add_argument("--sessions-per-address", type=int, default=50,
                        help="sessions one client address keeps on the server, its oldest dropped first (default 50)")
    parser.add_argument("--max-live-sockets", type=int, default=32,
                        help="live webcam streams over all visitors at once (default 32)")
    parser.add_argument("--clip-frames", type=int, default=clips.frames,
                        help=f"video: frames of a visitor's clip processed at most (default {clips.frames})")
    parser.add_argument("--clip-budget", type=float, default=clips.budget_s,
                        help=f"video: seconds one clip run may take, then it stops with the frames done "
                             f"(default {clips.budget_s:.0f}; 0: no limit)")


def apply_flags(demo, args) -> None:
    """Apply add_flags' values to ``demo`` (after ``demo.queue()``) and to the live views."""
    from demos.live import REGISTRY
    from demos.sessions import install as install_sessions

    trust_forwarded(args.trust_forwarded)
    set_gatys_budget(args.gatys_budget)
    install(demo, JobLimits(per_session=args.jobs_per_session, per_address=args.jobs_per_address))
    install_sessions(demo, args.sessions_per_address)
    REGISTRY.limits.max_sockets = args.max_live_sockets
