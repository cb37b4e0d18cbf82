""":class:`IQMEmulator`: the emulator server running in a background thread of this process."""

from __future__ import annotations

import contextlib
import socket
import threading
import time
import urllib.error
import urllib.request
import warnings
from collections.abc import Iterable, Mapping
from pathlib import Path
from types import TracebackType
from typing import TYPE_CHECKING, Any

from pytket.extensions.iqm.emulator.config import (
    DEFAULT_CLIENT_LIBRARY_RANGE,
    EmulatorConfig,
    is_loopback,
    load_devices,
)
from pytket.extensions.iqm.emulator.memory_budget import default_workers

if TYPE_CHECKING:
    from fastapi import FastAPI

    from pytket.extensions.iqm.emulator.http.faults import FaultInjector

_STARTUP_TIMEOUT = 30.0


class IQMEmulator:
    """A local IQM server emulator on ``http://host:port``, serving one or more devices.

    It speaks both REST APIs of IQM servers. With iqm-client 22.x, give ``emulator.url`` (or
    ``emulator.url_for(name)``, the device URL) to ``IQMClient`` or to the pytket backend; with
    iqm-client 33+ (the IQM Server API), give the server root ``emulator.root_url`` and the
    device name as the quantum computer. Use it as a context manager, or call :meth:`start` and
    :meth:`stop`::

        with IQMEmulator("garnet", seed=1) as emulator:
            client = IQMClient(emulator.url)  # iqm-client 22.x
            client = IQMClient.from_url(emulator.root_url, quantum_computer="garnet")  # 36.x

    :param device: a catalogue device name, a list of them, or ``"all"``.
    :param host: interface to bind; the default serves this machine only.
    :param port: TCP port; ``0`` picks a free one.
    :param token: require this fixed bearer token (401 otherwise).
    :param auth_users: username → password of an emulated auth server at :attr:`base_url`;
        the job API then needs a token it issued.
    :param noise: simulate the calibration's noise (``False``: ideal results).
    :param noise_model: ``"physical"`` (each component relaxes with its own T1/T2, MOVE is noisy)
        or ``"pauli"`` (the physical model with relaxation Pauli-twirled, an approximation the
        stabilizer method can run on Clifford circuits of any size)
        or ``"qiskit-fake"`` (qiskit-iqm's fake backends' model exactly: partner's T1/T2 on
        two-component gates, noiseless MOVE); ignored when ``noise`` is ``False``.
    :param seed: makes job results reproducible (per job, by submission order).
    :param db: SQLite file keeping jobs across restarts (default: in memory); jobs
        a stop left unfinished are queued again on the next start.
    :param max_shots: largest ``shots`` per job.
    :param max_circuits: largest number of circuits per job.
    :param workers: job-executing threads (default: one per usable core where memory allows,
        see :mod:`.memory_budget`).
    :param job_overhead: seconds each job takes on top of the simulation, as a real server's
        fixed cost per job (default ``0``; :data:`~.config.REALISTIC_JOB_OVERHEAD` stands for a
        real one).
    :param dask_scheduler: a Dask scheduler's address (``tcp://host:8786``): each job's circuits
        are simulated as tasks on its cluster (``cluster`` extra); the HTTP server and the job
        store stay in this process. Default: simulate in the job's thread.
    :param client_library_range: ``(min, max)`` iqm-client versions reported as compatible.
    :param device_files: extra device files (the catalogue's JSON schema) to serve.
    :param options: further :class:`EmulatorConfig` fields, e.g. ``stage_delay``, or the
        fault injection ``fail_rate``, ``slow_ms``, ``fault_script`` (see
        :mod:`~pytket.extensions.iqm.emulator.http.faults`), ``max_body_bytes``, and
        ``idempotency_keys=False`` to ignore ``Idempotency-Key`` headers as IQM's servers do
        (see :mod:`~pytket.extensions.iqm.emulator.http.idempotency`).
    :raises UnknownDeviceError: if a device name is not in the catalogue.
    :raises InvalidDeviceFileError: if a device file is invalid.
    :raises ValueError: if an option is invalid.
    """

    def __init__(
        self,
        device: str | Iterable[str] = "garnet",
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        token: str | None = None,
        auth_users: Mapping[str, str] | None = None,
        noise: bool = True,
        noise_model: str = "physical",
        seed: int | None = None,
        db: str | Path | None = None,
        max_shots: int = 100_000,
        max_circuits: int = 1000,
        workers: int | None = None,
        job_overhead: float = 0.0,
        dask_scheduler: str | None = None,
        client_library_range: tuple[str, str] = DEFAULT_CLIENT_LIBRARY_RANGE,
        device_files: Iterable[str | Path] = (),
        **options: Any,
    ) -> None:
        devices = (device,) if isinstance(device, str) else tuple(device)
        self.config = EmulatorConfig(
            devices=devices,
            device_files=tuple(Path(p) for p in device_files),
            token=token,
            auth_users=dict(auth_users) if auth_users is not None else None,
            noise=noise,
            noise_model=noise_model,
            seed=seed,
            db=Path(db) if db is not None else None,
            max_shots=max_shots,
            max_circuits=max_circuits,
            workers=workers if workers is not None else default_workers(),
            job_overhead=job_overhead,
            dask_scheduler=dask_scheduler,
            client_library_range=client_library_range,
            **options,
        )
        # Resolve devices now so a wrong name fails here, not in the server thread.
        self.devices: tuple[str, ...] = tuple(load_devices(self.config))
        self.host = host
        self._requested_port = port
        self._port: int | None = None
        self._server: Any = None
        self._thread: threading.Thread | None = None

    def __repr__(self) -> str:
        where = self.base_url if self._port is not None else "not started"
        return f"IQMEmulator(devices={list(self.devices)!r}, {where})"

    @property
    def port(self) -> int:
        """The bound TCP port.

        :raises RuntimeError: if the emulator has not been started.
        """
        if self._port is None:
            raise _not_running()
        return self._port

    @property
    def base_url(self) -> str:
        """Server root, e.g. ``http://127.0.0.1:8000`` (also the auth server URL).

        :raises RuntimeError: if the emulator has not been started.
        """
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"http://{host}:{self.port}"

    @property
    def root_url(self) -> str:
        """Server root for the IQM Server API (iqm-client 33+), e.g. ``http://127.0.0.1:8000``.

        Pass it with the device name: ``IQMClient.from_url(root_url, quantum_computer="garnet")``
        or ``IQMBackend(root_url, device="garnet")``; the routes are under ``/api/v1``. The same
        as :attr:`base_url`, except that a wildcard bind address (``0.0.0.0``, ``::``) gives
        ``127.0.0.1``: iqm-client 36 allows plain http only to ``localhost`` and ``127.0.0.1``.

        :raises RuntimeError: if the emulator has not been started.
        """
        if self.host in ("0.0.0.0", "::", ""):  # noqa: S104 - compared, not bound
            return f"http://127.0.0.1:{self.port}"
        return self.base_url

    @property
    def url(self) -> str:
        """URL of the first device for iqm-client 22.x: ``IQMClient(url)``.

        :raises RuntimeError: if the emulator has not been started.
        """
        return self.url_for(self.devices[0])

    @property
    def auth_server_url(self) -> str:
        """Where the emulated auth server answers (the server root)."""
        return self.base_url

    def url_for(self, device: str) -> str:
        """URL of ``device`` (``name`` or ``name:timeslot``).

        :raises ValueError: if the device is not served.
        :raises RuntimeError: if the emulator has not been started.
        """
        if device.removesuffix(":timeslot") not in self.devices:
            raise ValueError(
                f"Device {device!r} is not served by this emulator; it serves: "
                f"{', '.join(self.devices)}."
            )
        return f"{self.base_url}/{device}"

    @property
    def app(self) -> FastAPI:
        """The running ASGI application (its ``state.emulator`` holds the job store).

        :raises RuntimeError: if the emulator has not been started.
        """
        if self._server is None:
            raise _not_running()
        app: FastAPI = self._server.config.app
        return app

    @property
    def running(self) -> bool:
        """Whether the server thread is serving."""
        return self._thread is not None and self._thread.is_alive()

    @property
    def faults(self) -> FaultInjector:
        """The running server's fault injector: add rules, read request and fault counters.

        :raises RuntimeError: if the emulator has not been started.
        """
        injector: FaultInjector = self.app.state.faults
        return injector

    def start(self) -> IQMEmulator:
        """Start serving in a background thread; returns once the server answers.

        Warns (``UserWarning``) when ``host`` is not a loopback address and no authentication
        is configured.

        :raises OSError: if the address cannot be bound.
        :raises ConnectionError: no Dask scheduler answers at ``dask_scheduler``.
        :raises ImportError: ``dask_scheduler`` is set but Dask is not installed (the message
            names the ``cluster`` extra).
        :raises RuntimeError: if it is already running or does not come up.
        """
        if self.running:
            raise RuntimeError("The emulator is already running.")
        # Imported here so that importing the package stays light (no web stack).
        import uvicorn  # noqa: PLC0415

        from pytket.extensions.iqm.emulator.http.app import create_app  # noqa: PLC0415

        family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
        sock = socket.socket(family, socket.SOCK_STREAM)
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            sock.bind((self.host, self._requested_port))
        except OSError:
            sock.close()
            raise
        self._port = sock.getsockname()[1]
        if not is_loopback(self.host) and not self.config.auth_required:
            warnings.warn(
                f"The emulator serves {self.host} without authentication; anyone who can reach "
                "this machine can run jobs. Pass token= or auth_users= to require one.",
                UserWarning,
                stacklevel=2,
            )
        try:
            app = create_app(self.config)
        except BaseException:  # e.g. no Dask scheduler at dask_scheduler
            sock.close()
            self._port = None
            raise
        server = uvicorn.Server(
            uvicorn.Config(
                app, log_level="warning", log_config=None, access_log=False, lifespan="on"
            )
        )
        self._server = server
        self._thread = threading.Thread(
            target=server.run, kwargs={"sockets": [sock]}, name="iqm-emulator-server", daemon=True
        )
        self._thread.start()
        self._wait_until_up(sock)
        return self

    def _wait_until_up(self, sock: socket.socket) -> None:
        deadline = time.monotonic() + _STARTUP_TIMEOUT
        while time.monotonic() < deadline:
            if self._thread is None or not self._thread.is_alive():
                sock.close()
                self._port = None
                raise RuntimeError("The emulator server stopped during startup; see its log.")
            if self._server.started:
                health = f"{self.base_url}/health"  # always http://
                with (
                    contextlib.suppress(OSError, urllib.error.URLError),
                    urllib.request.urlopen(health, timeout=2) as answer,  # noqa: S310
                ):
                    if answer.status == 200:
                        return
            time.sleep(0.01)
        self.stop()
        raise RuntimeError(f"The emulator did not come up within {_STARTUP_TIMEOUT:g} s.")

    def stop(self) -> None:
        """Stop serving and wait for the server thread to end (idempotent)."""
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        self._server = None
        self._thread = None
        self._port = None

    def __enter__(self) -> IQMEmulator:
        return self.start()

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()


def _not_running() -> RuntimeError:
    return RuntimeError("The emulator is not running; call start() or use it in a with block.")
