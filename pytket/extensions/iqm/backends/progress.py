"""An opt-in progress bar for waiting on many results (``get_results(..., progress=True)``).

It counts the results fetched and shows the status of the job being waited for, refreshed in
a background thread while the wait goes on. It needs ``tqdm`` (the ``progress`` extra); nothing
here is imported unless a bar is asked for, so non-interactive runs never show one.
"""

from __future__ import annotations

import importlib
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from functools import partial
from types import TracebackType
from typing import Any, TextIO, TypeVar

PROGRESS_EXTRA = "progress"
"""The pip extra that installs ``tqdm``: ``pip install "pytket-iqm[progress]"``."""

DEFAULT_STATUS_REFRESH = 1.0
"""Seconds between two status requests while a job is waited for."""

_Handle = TypeVar("_Handle")
_Result = TypeVar("_Result")


def progress_enabled(value: object) -> bool:
    """Whether the ``progress`` keyword argument asks for a bar.

    :param value: ``None`` or ``False`` (no bar, the default) or ``True``.
    :raises ValueError: ``value`` is something else.
    """
    if value is None or value is False:
        return False
    if value is True:
        return True
    raise ValueError(
        f"progress must be True, False or None, not {value!r}: True shows a progress bar "
        "while results are waited for."
    )


def _load_tqdm() -> Any:
    """The ``tqdm.tqdm`` class.

    :raises ImportError: tqdm is not installed; the message names the extra to install.
    """
    try:
        module = importlib.import_module("tqdm")
    except ImportError:
        raise ImportError(
            "progress=True needs tqdm, which is not installed. Install it with "
            f'pip install "pytket-iqm[{PROGRESS_EXTRA}]" (or pip install tqdm), or leave '
            "progress off."
        ) from None
    return module.tqdm


class ResultsProgress:
    """A tqdm bar counting results, with the status of the job being waited for as postfix.

    :param total: how many results will be fetched.
    :param file: where the bar is written (tqdm's default, ``sys.stderr``, if ``None``).
    :param refresh: seconds between two status requests while a job is waited for.
    :param description: the text in front of the bar.
    :raises ImportError: tqdm is not installed (the message names the ``progress`` extra).
    :raises ValueError: ``total`` is negative or ``refresh`` is not positive.
    """

    def __init__(
        self,
        total: int,
        *,
        file: TextIO | None = None,
        refresh: float = DEFAULT_STATUS_REFRESH,
        description: str = "IQM results",
    ) -> None:
        if total < 0:
            raise ValueError(f"total must be 0 or more, not {total}.")
        if not refresh > 0:
            raise ValueError(f"refresh must be a positive number of seconds, not {refresh}.")
        tqdm = _load_tqdm()
        self._refresh = refresh
        self._lock = threading.Lock()
        self._bar: Any = tqdm(total=total, desc=description, unit="circuit", file=file)

    @property
    def n(self) -> int:
        """Results fetched so far."""
        return int(self._bar.n)

    @property
    def total(self) -> int:
        """Results to fetch."""
        return int(self._bar.total)

    @property
    def postfix(self) -> str:
        """The text after the bar: the last job and status shown."""
        return str(self._bar.postfix or "")

    def show_status(self, job: str, status: str) -> None:
        """Show ``job: status`` after the bar."""
        with self._lock:
            self._bar.set_postfix_str(f"job {job}: {status}")

    @contextmanager
    def waiting_for(self, job: str, status: Callable[[], str]) -> Iterator[None]:
        """While the block runs, show the job's status, asked for every ``refresh`` seconds.

        A status request that fails only shows ``status unavailable``: the wait itself (in the
        block) reports real errors.
        """
        stop = threading.Event()

        def refresh_status() -> None:
            while True:
                try:
                    text = status()
                except Exception:  # the bar must never break the wait
                    text = "status unavailable"
                if stop.is_set():
                    return
                self.show_status(job, text)
                if stop.wait(self._refresh):
                    return

        refresher = threading.Thread(target=refresh_status, name="iqm-progress", daemon=True)
        refresher.start()
        try:
            yield
        finally:
            stop.set()
            refresher.join()

    def advance(self, count: int = 1) -> None:
        """Count ``count`` more results."""
        with self._lock:
            self._bar.update(count)

    def close(self) -> None:
        """Finish the bar (it stays on screen)."""
        with self._lock:
            self._bar.close()

    def __enter__(self) -> ResultsProgress:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def collect_with_progress(
    handles: Sequence[_Handle],
    get_result: Callable[[_Handle], _Result],
    *,
    job_of: Callable[[_Handle], str],
    status_of: Callable[[_Handle], str],
    file: TextIO | None = None,
    refresh: float = DEFAULT_STATUS_REFRESH,
) -> list[_Result]:
    """Fetch each handle's result in order, with a bar counting them.

    While ``get_result`` waits, the job's status is shown and refreshed; once the result is
    in, the job is shown as ``done`` (the same word whichever API line reports the status).

    :param handles: what to fetch.
    :param get_result: fetches one result, waiting as needed; its errors propagate.
    :param job_of: a short name of the handle's job, shown with its status.
    :param status_of: the handle's job status as text (one server request at most).
    :param file: where the bar is written (``sys.stderr`` if ``None``).
    :param refresh: seconds between two status requests during a wait.
    :raises ImportError: tqdm is not installed (the message names the ``progress`` extra).
    """
    results: list[_Result] = []
    with ResultsProgress(len(handles), file=file, refresh=refresh) as bar:
        for handle in handles:
            job = job_of(handle)
            with bar.waiting_for(job, partial(status_of, handle)):
                results.append(get_result(handle))
            bar.show_status(job, "done")
            bar.advance()
    return results
