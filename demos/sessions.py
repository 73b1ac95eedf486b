"""Per-address session quota: one address's flood of fresh sessions pushes out its own, not others'.

Gradio keeps ``state_session_capacity`` sessions (gr.State values: cached results, a face gallery),
dropping the least recently used one when a new one comes. An API client makes a fresh session with
every call, so one address could push every other visitor's results out. Here each session is noted
with its visitor's address when an event first names it (``gradio.route_utils.get_fn``, which every
route calls before the session's state exists, and the queue, which names the session of a
``/call/`` request); when an address already holds ``per_address`` sessions, its own least recently
used one is dropped first.
"""
from __future__ import annotations

import threading
from collections import OrderedDict

from demos.visitors import address_of

PER_ADDRESS = 50
"""Default sessions one address may keep (``--sessions-per-address``)."""


class SessionQuota:
    """Which address each session came from, and the quota, for one Gradio Blocks app."""

    def __init__(self, blocks, per_address: int = PER_ADDRESS) -> None:
        self.blocks = blocks
        self.per_address = max(1, int(per_address))
        self._lock = threading.Lock()
        self._by_address: dict[str, OrderedDict[str, None]] = {}

    @property
    def holder(self):
        """Gradio's StateHolder of the app (it exists once the app is launched)."""
        return self.blocks.state_holder

    def admit(self, session: str | None, address: str) -> None:
        """``session`` (about to be used by ``address``): note it; drop the address's oldest over quota."""
        if not session:
            return
        with self._lock:
            own = self._by_address.setdefault(address, OrderedDict())
            for gone in [s for s in own if s != session and s not in self.holder.session_data]:
                del own[gone]  # already dropped by Gradio (expired or least recently used)
            own[session] = None
            own.move_to_end(session)
            while len(own) > self.per_address:
                oldest, _ = own.popitem(last=False)
                self._drop(oldest)
            if not own:
                del self._by_address[address]

    def _drop(self, session: str) -> None:
        holder = self.holder
        if session in holder.session_data:
            holder.delete_state(session)
        with holder.lock:
            holder.session_data.pop(session, None)
            holder.time_last_used.pop(session, None)

    def held(self, address: str) -> int:
        """Sessions of ``address`` that the server still keeps."""
        with self._lock:
            return sum(s in self.holder.session_data for s in self._by_address.get(address, ()))


def install(demo, per_address: int = PER_ADDRESS) -> SessionQuota:
    """Enforce the quota on ``demo`` (Gradio's get_fn is patched once, for every
    app in this process, and finds each app's quota on its Blocks)."""
    from gradio import route_utils

    quota = SessionQuota(demo, per_address)
    demo.cvlab_session_quota = quota
    if not getattr(route_utils.get_fn, "cvlab_quota", False):
        original = route_utils.get_fn

        def get_fn(blocks, api_name, body):
            q = getattr(blocks, "cvlab_session_quota", None)
            request = getattr(body, "request", None)
            if q is not None and body.session_hash and request is not None:
                q.admit(body.session_hash, address_of(request))
            return original(blocks, api_name, body)

        get_fn.cvlab_quota = True
        route_utils.get_fn = get_fn
    return quota
