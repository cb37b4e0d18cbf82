"""The order in which queued jobs reach the workers: round-robin by owner.

Each owner (see :attr:`~.store.JobRecord.owner`) has a first-in-first-out line of jobs; a free
worker takes the next job of the owner served longest ago (an owner never served first), so one
user's hundred queued jobs delay another user's single job by at most the jobs already running,
not by a hundred. Jobs of one owner
keep their submission order. Without users every job has the one shared owner and the queue is
plain first-in-first-out.

This is the only queue policy; an execution path that runs jobs elsewhere (another process,
a cluster) takes its jobs from here too.
"""

from __future__ import annotations

import threading
from collections import OrderedDict, deque
from uuid import UUID


class FairQueue:
    """A blocking queue of job ids served round-robin by owner. Thread-safe."""

    def __init__(self) -> None:
        self._lines: OrderedDict[str, deque[UUID]] = OrderedDict()
        """Owners with queued jobs, in the order their lines started."""
        self._served_at: dict[str, int] = {}
        """Owner → number of the last :meth:`get` that served them."""
        self._served = 0
        self._ready = threading.Condition()
        self._closed = False

    def put(self, job_id: UUID, owner: str) -> None:
        """Queue ``job_id`` at the end of ``owner``'s line."""
        with self._ready:
            line = self._lines.get(owner)
            if line is None:
                line = self._lines[owner] = deque()
            line.append(job_id)
            self._ready.notify()

    def get(self) -> UUID | None:
        """The next job (waits for one); ``None`` once the queue is closed."""
        with self._ready:
            while not self._lines and not self._closed:
                self._ready.wait()
            if self._closed:
                return None
            # min() keeps the first of equals: among owners never served, the earliest line.
            owner = min(self._lines, key=lambda name: self._served_at.get(name, -1))
            line = self._lines[owner]
            job_id = line.popleft()
            if not line:
                del self._lines[owner]
            self._served += 1
            self._served_at[owner] = self._served
            return job_id

    def close(self) -> None:
        """Wake every waiting :meth:`get` with ``None``; queued jobs stay unserved."""
        with self._ready:
            self._closed = True
            self._ready.notify_all()

    def __len__(self) -> int:
        with self._ready:
            return sum(len(line) for line in self._lines.values())


__all__ = ["FairQueue"]
