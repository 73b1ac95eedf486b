"""Who may stream: live registrations (a view's settings under a random token) and open sockets.

Pressing Record registers the view's settings under a token only that page knows; the page's socket
then claims the token. Everything here is bounded, and a flooder pays for its own flood, not others:

* an address holds at most ``per_address`` registrations; a new one beyond that drops the address's
  own oldest unclaimed one (never another visitor's, never one a socket streams on);
* unclaimed registrations expire after ``unclaimed_ttl_s``; at ``max_total`` a new one is refused;
* a token serves ONE socket (a second socket on it is refused);
* at most ``sockets_per_address`` sockets per address and ``max_sockets`` over all stream at once.

Addresses come from demos.visitors.client_address (the socket peer, or the forwarded header when the
app is told to trust it). Thread-safe: Gradio events and the socket's event loop both call in.
"""
from __future__ import annotations

import threading
import time
from collections import Counter
from dataclasses import dataclass, field

TOKEN_LENGTHS = range(16, 65)


@dataclass
class Registration:
    """One Record press: the view's settings (in the order of its inputs) and who made it."""
    values: list
    address: str
    created: float = field(default_factory=time.monotonic)
    claimed: bool = False


@dataclass
class Limits:
    per_address: int = 8
    max_total: int = 512
    unclaimed_ttl_s: float = 60.0
    sockets_per_address: int = 4
    max_sockets: int = 32


class LiveRegistry:
    """Token -> Registration, with the quotas above. ``claim`` / ``release`` bracket a socket's life."""

    def __init__(self, limits: Limits | None = None) -> None:
        self.limits = limits or Limits()
        self._lock = threading.Lock()
        self._tokens: dict[str, Registration] = {}

    @staticmethod
    def valid_token(token) -> bool:
        return isinstance(token, str) and len(token) in TOKEN_LENGTHS and token.isalnum()

    def _expire(self, now: float) -> None:
        ttl = self.limits.unclaimed_ttl_s
        for tok in [t for t, r in self._tokens.items() if not r.claimed and now - r.created > ttl]:
            del self._tokens[tok]

    def register(self, token, values: list, address: str) -> str | None:
        """Store ``values`` under ``token``; None when stored, else why not (a sentence)."""
        if not self.valid_token(token):
            return "bad live token"
        now = time.monotonic()
        with self._lock:
            self._expire(now)
            if token in self._tokens:
                return "this live token is taken"
            own = sorted((r.created, t) for t, r in self._tokens.items() if r.address == address and not r.claimed)
            for _, tok in own[:max(0, len(own) - self.limits.per_address + 1)]:
                del self._tokens[tok]  # the address's own oldest go first
            if len(self._tokens) >= self.limits.max_total:
                return "the server has too many live views waiting: try again in a minute"
            self._tokens[token] = Registration(list(values), address, now)
        return None

    def update(self, token, values: list) -> None:
        with self._lock:
            reg = self._tokens.get(token) if isinstance(token, str) else None
            if reg is not None:
                reg.values = list(values)

    def values(self, token: str) -> list | None:
        with self._lock:
            reg = self._tokens.get(token)
            return None if reg is None else reg.values

    def registered(self, token) -> bool:
        with self._lock:
            return isinstance(token, str) and token in self._tokens

    def claim(self, token: str, address: str) -> str | None:
        """Mark ``token`` as streaming on a socket from ``address``; None when granted, else why not."""
        with self._lock:
            reg = self._tokens.get(token)
            if reg is None:
                return "not registered"
            if reg.claimed:
                return "this live token already streams on another connection"
            streaming = Counter(r.address for r in self._tokens.values() if r.claimed)
            if sum(streaming.values()) >= self.limits.max_sockets:
                return "the server streams as many live views as it can: try again later"
            if streaming[address] >= self.limits.sockets_per_address:
                return f"you already stream {streaming[address]} live views: stop one first"
            reg.claimed = True
        return None

    def release(self, token: str) -> None:
        """The socket closed: forget the registration (a new Record registers a new token)."""
        with self._lock:
            self._tokens.pop(token, None)

    def streaming(self) -> int:
        """Sockets streaming right now, over all views and visitors."""
        with self._lock:
            return sum(r.claimed for r in self._tokens.values())

    def __len__(self) -> int:
        with self._lock:
            return len(self._tokens)
