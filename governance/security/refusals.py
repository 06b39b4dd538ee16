"""Unauthenticated refusals, aggregated per client and minute so nobody can grow the audit log
without bound.

Anyone can call the server without credentials, or with a made-up token or a forged form. Each
refusal used to append an entry of its own: up to the rate limit (600 a minute per address by
default) for every address, all signed into the log for ever. Now the first refusal of a client
(its address) in a calendar minute is still recorded at once, exactly as before; the rest of that
minute are only counted here, and one summary entry with the count is written by the first
request the process serves after the minute has ended. So each client adds at most two entries a
minute per process, whatever it sends.

Memory is bounded too: beyond ``max_clients`` clients in one minute, further clients share one
overflow tally (client ``None``). A process that stops before writing a summary loses that count,
never the first refusal. Flask-free; the guard (``web/guard.py``) does the recording.
"""

from __future__ import annotations

import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime

OVERFLOW = None  # the tally shared by clients beyond ``max_clients`` in one minute


@dataclass
class Tally:
    """One client's refusals in the current minute."""

    count: int = 0
    first_seq: int | None = None
    first_leaf_hash: str | None = None
    actions: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Summary:
    """What one summary entry records: a client's refusals in one minute that has ended."""

    client: str | None
    minute: str
    count: int
    first_seq: int | None
    first_leaf_hash: str | None
    actions: dict[str, int]

    def details(self) -> dict[str, object]:
        """The entry's ``details``: counts and the refusal recorded individually (its leaf hash,
        and its seq when it was integrated at once; queued appends learn it later)."""
        return {
            "minute": self.minute,
            "count": self.count,
            "first_seq": self.first_seq,
            "first_leaf_hash": self.first_leaf_hash,
            "actions": self.actions,
        }


class RefusalTally:
    """Per-process counts of unauthenticated refusals for the current minute.

    ``admit`` says whether a refusal is the client's first this minute (record it); ``closed``
    hands over the summaries of minutes that have ended. ``clock`` (epoch seconds) is injectable.
    """

    def __init__(self, clock: Callable[[], float] = time.time, max_clients: int = 10_000) -> None:
        self.clock = clock
        self.max_clients = max_clients
        self._lock = threading.Lock()
        self._minute: int | None = None
        self._tallies: dict[str | None, Tally] = {}
        self._closed: list[Summary] = []
        self._repeats = False  # some tally of the current minute counts more than one

    def admit(self, client: str | None, action: str) -> bool:
        """Count one refusal; True when it is the client's first this minute."""
        with self._lock:
            self._roll(int(self.clock() // 60))
            if client not in self._tallies and len(self._tallies) >= self.max_clients:
                client = OVERFLOW
            tally = self._tallies.setdefault(client, Tally())
            tally.count += 1
            tally.actions[action] += 1
            self._repeats = self._repeats or tally.count > 1
            return tally.count == 1

    def recorded(self, client: str | None, seq: int | None, leaf_hash: str | None = None) -> None:
        """Remember the entry (seq if known, leaf hash) that recorded the client's first refusal."""
        with self._lock:
            tally = self._tallies.get(client, self._tallies.get(OVERFLOW))
            if tally is not None and tally.first_leaf_hash is None:
                tally.first_seq, tally.first_leaf_hash = seq, leaf_hash

    def due(self) -> bool:
        """Cheap check for every request: is there a summary to write?"""
        if self._closed:
            return True
        return self._repeats and int(self.clock() // 60) != self._minute

    def closed(self) -> list[Summary]:
        """Take the summaries of every ended minute in which a client was refused repeatedly."""
        with self._lock:
            self._roll(int(self.clock() // 60))
            out, self._closed = self._closed, []
            return out

    def _roll(self, minute: int) -> None:
        if minute == self._minute:
            return
        if self._minute is not None:
            start = datetime.fromtimestamp(self._minute * 60, UTC).strftime("%Y-%m-%dT%H:%MZ")
            self._closed += [
                Summary(
                    client,
                    start,
                    t.count,
                    t.first_seq,
                    t.first_leaf_hash,
                    dict(sorted(t.actions.items())),
                )  # fmt: skip
                for client, t in self._tallies.items()
                if t.count > 1
            ]
        self._minute, self._tallies, self._repeats = minute, {}, False
