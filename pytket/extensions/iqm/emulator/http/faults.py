"""Fault injection and request limits, for testing code that talks to an IQM server.

Faults apply to the device endpoints, classified into kinds: ``submit`` (``POST jobs``),
``status``, ``result`` (``GET jobs/{id}``), ``counts``, ``abort`` and ``calibration`` (the
architecture and calibration GETs). ``info/client-libraries``, the root pages, the auth server
and ``/_faults`` are never faulted (iqm-client recurses when the first fails).

Three sources, all bounded so that a client that retries always gets through in the end:

* ``fail_rate``: each job-API request (kinds in ``fault_kinds``) is answered ``fail_status``
  with this probability, at most ``max_random_faults`` times per server; unhandled, or handled
  first with ``fail_handled`` (a gateway that lost the server's answer).
* ``slow_ms``: every faultable request waits this long before it is handled.
* a script of rules ``kind:action:count``, e.g. ``status:502:3,result:reset:1``: the next
  ``count`` requests of ``kind`` (or of any kind, ``any``) get ``action``, which is an HTTP
  status (answered without handling the request), ``after<status>`` (the request is handled,
  then answered with the status: for ``submit``, the job exists but the client sees e.g. a
  504), ``reset`` (the connection is closed without handling the request), ``drop`` (the
  request is handled, then the connection is closed instead of answering: for ``submit``, the
  job exists but its id is lost) or ``delay<ms>``.

Every fault is marked as happening **before handling** (the server did nothing: a client may
repeat the request) or **after handling** (the server did the work: a repeated submit would
create a second job); :meth:`FaultInjector.snapshot` counts both, so tests can show they met
each.

iqm-client 22.x retries HTTP 502 on submit, status and result forever: only finite scripts and
the bounded ``fail_rate`` keep such a client from looping for ever.
"""

from __future__ import annotations

import asyncio
import json
import logging
import random
import re
import threading
from collections import Counter
from collections.abc import Awaitable, Callable, Iterable, MutableMapping
from dataclasses import dataclass
from typing import Any

logger = logging.getLogger(__name__)

FAULT_KINDS = ("submit", "status", "result", "counts", "abort", "calibration")
"""Kinds of request faults can target."""
JOB_KINDS = ("submit", "status", "result", "counts", "abort")
"""The job API's kinds (the default targets of ``fail_rate``)."""

MAX_DELAY_MS = 60_000
"""Longest added latency, milliseconds (per request, ``slow_ms`` and a ``delay`` rule each)."""
MAX_RULE_COUNT = 10_000
"""Most requests one script rule may affect."""
MAX_RULES = 100
"""Most rules in a script."""
MAX_RANDOM_FAULTS = 1_000_000
"""Upper bound of ``max_random_faults``."""

_JOB_ID = r"[^/]+"
_DEVICE = r"/[^/]+"
_SERVER_API = r"/api/v1"
_ROUTES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    # The IQM Server API (iqm-client 36): a job's status is its JobData, its result an artifact.
    ("POST", re.compile(rf"^{_SERVER_API}/jobs/[^/]+/circuit/?$"), "submit"),
    ("GET", re.compile(rf"^{_SERVER_API}/jobs/{_JOB_ID}/artifacts/measurements/?$"), "result"),
    (
        "GET",
        re.compile(rf"^{_SERVER_API}/jobs/{_JOB_ID}/artifacts/measurement_counts/?$"),
        "counts",
    ),
    ("POST", re.compile(rf"^{_SERVER_API}/jobs/{_JOB_ID}/cancel/?$"), "abort"),
    ("GET", re.compile(rf"^{_SERVER_API}/jobs/{_JOB_ID}/?$"), "status"),
    ("GET", re.compile(rf"^{_SERVER_API}/calibration-sets/"), "calibration"),
    (
        "GET",
        re.compile(
            rf"^{_SERVER_API}/quantum-computers/[^/]+/artifacts/static-quantum-architectures"
        ),
        "calibration",
    ),
    # IQM's REST API of iqm-client 22.x, under each device.
    ("POST", re.compile(rf"^{_DEVICE}/jobs/?$"), "submit"),
    ("GET", re.compile(rf"^{_DEVICE}/jobs/{_JOB_ID}/status/?$"), "status"),
    ("GET", re.compile(rf"^{_DEVICE}/jobs/{_JOB_ID}/counts/?$"), "counts"),
    ("POST", re.compile(rf"^{_DEVICE}/jobs/{_JOB_ID}/abort/?$"), "abort"),
    ("GET", re.compile(rf"^{_DEVICE}/jobs/{_JOB_ID}/?$"), "result"),
    ("GET", re.compile(rf"^{_DEVICE}/api/v1/calibration/"), "calibration"),
    ("GET", re.compile(rf"^{_DEVICE}/(api/v1/)?quantum-architecture/?$"), "calibration"),
    ("GET", re.compile(rf"^{_DEVICE}/calibration/metrics/"), "calibration"),
)
_ACTION = re.compile(
    r"^(?:(?P<status>[45]\d\d)|after(?P<after>[45]\d\d)|(?P<word>reset|drop)|delay(?P<delay>\d+))$"
)
_AFTER = "after"
_BODY_METHODS = frozenset({"POST", "PUT", "PATCH"})
_RESET_LOG_MESSAGE = "ASGI callable returned without completing response."


class FaultScriptError(ValueError):
    """A fault script or fault option is malformed; the message says what to change."""


def classify(method: str, path: str) -> str | None:
    """The fault kind of a request, or ``None`` for requests that are never faulted."""
    for route_method, pattern, kind in _ROUTES:
        if method == route_method and pattern.match(path):
            return kind
    return None


@dataclass(frozen=True)
class FaultRule:
    """The next ``count`` requests of ``kind`` get ``action``.

    :raises FaultScriptError: if a field is out of range.
    """

    kind: str
    """One of :data:`FAULT_KINDS`, or ``any``."""
    action: str
    """An HTTP status (``"400"``–``"599"``), ``after<status>``, ``reset``, ``drop`` or
    ``delay<ms>``."""
    count: int
    """How many requests, 1 to :data:`MAX_RULE_COUNT`."""

    def __post_init__(self) -> None:
        if self.kind not in (*FAULT_KINDS, "any"):
            raise FaultScriptError(
                f"Unknown fault kind {self.kind!r}; use one of {', '.join(FAULT_KINDS)} or any."
            )
        match = _ACTION.match(self.action)
        if match is None:
            raise FaultScriptError(
                f"Unknown fault action {self.action!r}; use an HTTP status 400-599 (before "
                "handling), after<status> (after handling, e.g. after504), reset, drop or "
                "delay<ms> (e.g. delay500)."
            )
        delay = match.group("delay")
        if delay is not None and int(delay) > MAX_DELAY_MS:
            raise FaultScriptError(
                f"Fault delay {delay} ms is longer than the limit of {MAX_DELAY_MS} ms."
            )
        if not isinstance(self.count, int) or not 1 <= self.count <= MAX_RULE_COUNT:
            raise FaultScriptError(
                f"Fault count must be between 1 and {MAX_RULE_COUNT}, got {self.count!r}."
            )

    @property
    def status_code(self) -> int | None:
        """The HTTP status answered, for a status action."""
        return int(self.action) if self.action.isdigit() else None

    @property
    def delay_ms(self) -> int:
        """Added latency of a ``delay`` action (else 0)."""
        return int(self.action[5:]) if self.action.startswith("delay") else 0

    def __str__(self) -> str:
        return f"{self.kind}:{self.action}:{self.count}"


def parse_fault_script(text: str) -> tuple[FaultRule, ...]:
    """Rules from ``kind:action:count`` items separated by commas (``""``: no rules).

    :raises FaultScriptError: if an item is malformed or there are more than
        :data:`MAX_RULES` items.
    """
    items = [item.strip() for item in text.split(",") if item.strip()]
    if len(items) > MAX_RULES:
        raise FaultScriptError(f"A fault script has at most {MAX_RULES} rules, got {len(items)}.")
    rules = []
    for item in items:
        parts = item.split(":")
        if len(parts) != 3:
            raise FaultScriptError(
                f"Fault rule {item!r} is not kind:action:count (e.g. status:502:3)."
            )
        kind, action, count = (part.strip() for part in parts)
        try:
            number = int(count)
        except ValueError:
            raise FaultScriptError(
                f"Fault rule {item!r}: count {count!r} is not a number."
            ) from None
        rules.append(FaultRule(kind, action.lower(), number))
    return tuple(rules)


def handled_first(action: str) -> bool:
    """Whether a fault ``action`` lets the server handle the request before the fault (``drop``,
    ``after<status>``); the others happen before handling."""
    return action == "drop" or action.startswith(_AFTER)


@dataclass(frozen=True)
class Fault:
    """What to do to one request."""

    action: str
    """An HTTP status, ``after<status>``, ``reset``, ``drop`` or ``delay<ms>`` (see
    :class:`FaultRule`)."""
    source: str
    """``script`` or ``random``."""

    @property
    def after_handling(self) -> bool:
        """Whether the server handles the request before the fault (see :func:`handled_first`)."""
        return handled_first(self.action)

    @property
    def status_code(self) -> int | None:
        """The HTTP status answered instead of the server's (``None``: no status fault)."""
        digits = self.action.removeprefix(_AFTER)
        return int(digits) if digits.isdigit() else None


class FaultInjector:
    """Decides, per request, which fault to inject; counts requests and injected faults.

    Thread-safe. :meth:`snapshot` gives the counters; tests and ``GET /_faults`` read them.

    :param fail_rate: probability that a request of ``fault_kinds`` is answered ``fail_status``.
    :param fail_status: HTTP status of random faults.
    :param fail_handled: random faults happen after the request was handled (the server did the
        work, the client gets ``fail_status``), instead of before.
    :param max_random_faults: most random faults per injector (keeps retrying clients finite).
    :param slow_ms: latency added to every faultable request, milliseconds.
    :param script: initial scripted rules.
    :param fault_kinds: kinds that random faults hit.
    :param seed: seeds the random faults (``None``: fresh entropy).
    :raises FaultScriptError: if an option is out of range.
    """

    def __init__(
        self,
        *,
        fail_rate: float = 0.0,
        fail_status: int = 503,
        fail_handled: bool = False,
        max_random_faults: int = 100,
        slow_ms: int = 0,
        script: Iterable[FaultRule] = (),
        fault_kinds: Iterable[str] = JOB_KINDS,
        seed: int | None = None,
    ) -> None:
        check_fault_options(
            fail_rate=fail_rate,
            fail_status=fail_status,
            max_random_faults=max_random_faults,
            slow_ms=slow_ms,
            fault_kinds=tuple(fault_kinds),
        )
        self._fail_rate = fail_rate
        self._fail_status = str(fail_status)
        self._random_action = f"{_AFTER}{fail_status}" if fail_handled else str(fail_status)
        self._max_random = max_random_faults
        self.slow_ms = slow_ms
        self._kinds = frozenset(fault_kinds)
        self._rng = random.Random(seed)
        self._lock = threading.Lock()
        self._rules: list[list[Any]] = []  # [rule, remaining]
        self._random_injected = 0
        self.requests: Counter[str] = Counter()
        self.injected: Counter[str] = Counter()
        self.timing: Counter[str] = Counter()
        """Injected faults (delays aside) by ``before_handling`` / ``after_handling``."""
        self.add(script)

    def __repr__(self) -> str:
        return (
            f"FaultInjector(fail_rate={self._fail_rate}, slow_ms={self.slow_ms}, "
            f"rules={len(self._rules)})"
        )

    @property
    def active(self) -> bool:
        """Whether any fault may still be injected."""
        with self._lock:
            return bool(
                self.slow_ms
                or self._rules
                or (self._fail_rate > 0 and self._random_injected < self._max_random)
            )

    def add(self, rules: Iterable[FaultRule]) -> None:
        """Append scripted rules (after the ones still pending).

        :raises FaultScriptError: if the pending rules would exceed :data:`MAX_RULES`.
        """
        new = [[rule, rule.count] for rule in rules]
        with self._lock:
            if len(self._rules) + len(new) > MAX_RULES:
                raise FaultScriptError(f"At most {MAX_RULES} fault rules may be pending.")
            self._rules.extend(new)

    def clear(self) -> None:
        """Drop the pending scripted rules (the counters stay)."""
        with self._lock:
            self._rules.clear()

    def pending(self) -> list[FaultRule]:
        """Scripted rules still to fire, with their remaining counts."""
        with self._lock:
            return [FaultRule(rule.kind, rule.action, left) for rule, left in self._rules]

    def decide(self, kind: str | None) -> Fault | None:
        """Count a request of ``kind`` and return the fault to inject into it, if any."""
        with self._lock:
            self.requests[kind or "other"] += 1
            if kind is None:
                return None
            for entry in self._rules:
                rule, left = entry
                if rule.kind in (kind, "any"):
                    if left <= 1:
                        self._rules.remove(entry)
                    else:
                        entry[1] = left - 1
                    self.injected[f"{kind}:{rule.action}"] += 1
                    return self._counted(Fault(rule.action, "script"))
            if (
                self._fail_rate > 0
                and kind in self._kinds
                and self._random_injected < self._max_random
                and self._rng.random() < self._fail_rate
            ):
                self._random_injected += 1
                self.injected[f"{kind}:{self._random_action}"] += 1
                return self._counted(Fault(self._random_action, "random"))
        return None

    def _counted(self, fault: Fault) -> Fault:
        """Count ``fault`` as before or after handling (delays are neither); lock held."""
        if fault.status_code is not None or fault.action in ("reset", "drop"):
            self.timing["after_handling" if fault.after_handling else "before_handling"] += 1
        return fault

    def snapshot(self) -> dict[str, Any]:
        """Counters and settings as JSON-ready data."""
        with self._lock:
            return {
                "fail_rate": self._fail_rate,
                "fail_status": int(self._fail_status),
                "fail_handled": handled_first(self._random_action),
                "random_faults_left": self._max_random - self._random_injected,
                "slow_ms": self.slow_ms,
                "pending": [str(FaultRule(r.kind, r.action, left)) for r, left in self._rules],
                "requests": dict(self.requests),
                "injected": dict(self.injected),
                "before_handling": self.timing["before_handling"],
                "after_handling": self.timing["after_handling"],
            }


def check_fault_options(
    *,
    fail_rate: float,
    fail_status: int,
    max_random_faults: int,
    slow_ms: int,
    fault_kinds: tuple[str, ...],
) -> None:
    """Check the fault options' ranges.

    :raises FaultScriptError: if one is out of range.
    """
    if not 0 <= fail_rate <= 1:
        raise FaultScriptError(f"fail_rate must be between 0 and 1, got {fail_rate}.")
    if not 400 <= fail_status <= 599:
        raise FaultScriptError(
            f"fail_status must be an HTTP error status 400-599, got {fail_status}."
        )
    if not 0 <= max_random_faults <= MAX_RANDOM_FAULTS:
        raise FaultScriptError(
            f"max_random_faults must be between 0 and {MAX_RANDOM_FAULTS}, got {max_random_faults}."
        )
    if not 0 <= slow_ms <= MAX_DELAY_MS:
        raise FaultScriptError(f"slow_ms must be between 0 and {MAX_DELAY_MS}, got {slow_ms}.")
    unknown = sorted(set(fault_kinds) - set(FAULT_KINDS))
    if unknown:
        raise FaultScriptError(
            f"Unknown fault kind(s) {', '.join(unknown)}; use {', '.join(FAULT_KINDS)}."
        )


class _ResetLogFilter(logging.Filter):
    """Drops uvicorn's error line for a connection closed on purpose by a ``reset``/``drop``."""

    def filter(self, record: logging.LogRecord) -> bool:
        return record.getMessage() != _RESET_LOG_MESSAGE


_RESET_FILTER = _ResetLogFilter()

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


async def _json_answer(send: Send, status: int, message: str) -> None:
    body = json.dumps({"message": message}).encode()
    await send(
        {
            "type": "http.response.start",
            "status": status,
            "headers": [
                (b"content-type", b"application/json"),
                (b"content-length", str(len(body)).encode()),
            ],
        }
    )
    await send({"type": "http.response.body", "body": body})


async def _reset(send: Send) -> None:
    # An ASGI application cannot close its connection directly: promise a body and end without
    # it, and the server closes the connection; the client sees the answer cut off.
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"64")],
        }
    )


class ReliabilityMiddleware:
    """ASGI middleware: request body size limit (413) and fault injection.

    :param app: the application.
    :param injector: decides the faults.
    :param max_body_bytes: largest request body accepted.
    """

    def __init__(self, app: ASGIApp, *, injector: FaultInjector, max_body_bytes: int) -> None:
        self.app = app
        self.injector = injector
        self.max_body_bytes = max_body_bytes
        uvicorn_errors = logging.getLogger("uvicorn.error")
        if _RESET_FILTER not in uvicorn_errors.filters:
            uvicorn_errors.addFilter(_RESET_FILTER)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        method = str(scope["method"])
        if method in _BODY_METHODS:
            body = await self._read_body(scope, receive)
            if body is None:
                await _json_answer(
                    send,
                    413,
                    f"The request body is larger than this server's limit of "
                    f"{self.max_body_bytes} bytes.",
                )
                return
            receive = _replay(body, receive)
        kind = classify(method, str(scope["path"]))
        fault = self.injector.decide(kind)
        delay_ms = self.injector.slow_ms if kind is not None else 0
        if fault is not None and fault.action.startswith("delay"):
            delay_ms += int(fault.action[5:])
        if delay_ms:
            await asyncio.sleep(delay_ms / 1000)
        if fault is None or fault.action.startswith("delay"):
            await self.app(scope, receive, send)
            return
        logger.info("Injecting fault %s (%s) into %s %s", fault.action, fault.source, method, kind)
        if fault.action == "reset":
            await _reset(send)
        elif fault.action == "drop":
            await self.app(scope, receive, _discard)
            await _reset(send)
        else:
            if fault.after_handling:
                await self.app(scope, receive, _discard)
            when = "after handling it" if fault.after_handling else "without handling it"
            await _json_answer(
                send,
                fault.status_code or 500,
                f"Injected fault: HTTP {fault.status_code} for this {kind} request, {when} "
                "(emulator fault injection is on).",
            )

    async def _read_body(self, scope: Scope, receive: Receive) -> bytes | None:
        """The whole body, or ``None`` if it is larger than the limit."""
        for name, value in scope.get("headers", ()):
            if name == b"content-length":
                try:
                    if int(value) > self.max_body_bytes:
                        return None
                except ValueError:
                    pass
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                break
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.max_body_bytes:
                return None
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        return b"".join(chunks)


def _replay(body: bytes, receive: Receive) -> Receive:
    sent = False

    async def replay() -> Message:
        nonlocal sent
        if not sent:
            sent = True
            return {"type": "http.request", "body": body, "more_body": False}
        return await receive()

    return replay


async def _discard(message: Message) -> None:
    return None


__all__ = [
    "FAULT_KINDS",
    "JOB_KINDS",
    "MAX_DELAY_MS",
    "MAX_RULES",
    "MAX_RULE_COUNT",
    "Fault",
    "FaultInjector",
    "FaultRule",
    "FaultScriptError",
    "ReliabilityMiddleware",
    "check_fault_options",
    "classify",
    "handled_first",
    "parse_fault_script",
]
