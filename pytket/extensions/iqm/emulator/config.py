"""Every option of the emulator server, in one immutable object.

:class:`EmulatorConfig` is what :func:`~pytket.extensions.iqm.emulator.http.app.create_app`, the
:class:`~pytket.extensions.iqm.emulator.IQMEmulator` and the ``pytket-iqm-emulator`` command
line share. Secrets (the fixed token, the user passwords) are kept out of its ``repr``.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from packaging.version import InvalidVersion, Version

from pytket.extensions.iqm.emulator.devices.catalogue import catalogue, get_device, load_device_file
from pytket.extensions.iqm.emulator.devices.device import Device
from pytket.extensions.iqm.emulator.http.faults import (
    JOB_KINDS,
    FaultScriptError,
    check_fault_options,
    parse_fault_script,
)
from pytket.extensions.iqm.emulator.limits import (
    DEFAULT_MAX_ACTIVE_QUBITS,
    DEFAULT_MAX_BOND,
)
from pytket.extensions.iqm.emulator.memory_budget import (
    DEFAULT_MAX_RESULT_BITS,
    default_workers,
)
from pytket.extensions.iqm.emulator.scheduler_address import check_scheduler_address

DEFAULT_CLIENT_LIBRARY_RANGE = ("22.0", "23.0")
"""iqm-client versions the emulator declares compatible: ``min <= version < max``."""

DEFAULT_MAX_BODY_BYTES = 10 * 1024 * 1024
"""Largest request body the emulator accepts (larger → HTTP 413)."""

DEFAULT_MAX_DURATION_OVER_T2 = 1.0
"""Ratio of circuit duration to the shortest T2 of its components above which a job fails,
used when a request leaves ``max_circuit_duration_over_t2`` out (``0`` in a request disables
the check)."""

REALISTIC_JOB_OVERHEAD = 0.5
"""Seconds of :attr:`EmulatorConfig.job_overhead` that stand for a real IQM server's fixed work
per job (compiling the job to pulses, loading the calibration, programming the instruments,
collecting the readout), which it pays once per job whatever the number of circuits.

Our reference material on IQM's servers gives no figure for it, so this is a deliberately low,
round guess: below what a job takes on a real device, so that a comparison run with it
understates rather than overstates what sending fewer jobs saves (the saving grows with the
overhead). ``benchmarks/end_to_end.py`` runs with it and with none."""

MAX_JOB_OVERHEAD = 600.0
"""Largest :attr:`EmulatorConfig.job_overhead` (seconds): more would look like a hung server."""

NOISE_MODELS = ("physical", "qiskit-fake", "pauli")
"""Values of :attr:`EmulatorConfig.noise_model`: ``physical`` relaxes each component with its
own T1/T2 and makes MOVE noisy; ``qiskit-fake`` reproduces qiskit-iqm's fake backends exactly
(partner's T1/T2 on two-component gates, noiseless MOVE); ``pauli`` is the physical model with
every relaxation replaced by its Pauli twirl, an approximation that lets Clifford circuits of
any size run on the stabilizer method."""


@dataclass(frozen=True)
class EmulatorConfig:
    """Configuration of one emulator server.

    :raises ValueError: if a limit is not positive, a token/password is empty, or the noise model
        is not one of :data:`NOISE_MODELS`.
    """

    devices: tuple[str, ...] = ("garnet",)
    """Catalogue devices to serve, by name; ``("all",)`` serves the whole catalogue."""
    device_files: tuple[Path, ...] = ()
    """Extra device files (JSON, the catalogue's schema) to serve next to ``devices``."""
    token: str | None = field(default=None, repr=False)
    """Fixed bearer token: when set, the job API answers 401 to any other token."""
    auth_users: Mapping[str, str] | None = field(default=None, repr=False)
    """Username → password of an emulated auth server (``/realms/cortex/...``); when set,
    the job API needs an access token it issued (or ``token``, if that is set too)."""
    noise: bool = True
    """Simulate with the calibration's noise model; ``False`` gives ideal results."""
    noise_model: str = "physical"
    """Which noise model to build from the calibration, one of :data:`NOISE_MODELS` (see
    :meth:`NoiseModel.from_calibration
    <pytket.extensions.iqm.emulator.devices.noise.NoiseModel.from_calibration>`); ignored when
    ``noise`` is ``False``."""
    seed: int | None = None
    """Seed of the per-job random generators; each job's generator is derived from it and the
    job's sequence number, so the same jobs submitted in the same order reproduce exactly."""
    db: Path | None = None
    """SQLite file keeping jobs across restarts; ``None`` keeps them in memory."""
    max_shots: int = 100_000
    """Largest ``shots`` a job may ask for (more → HTTP 400)."""
    max_circuits: int = 1000
    """Largest number of circuits in one job (more → HTTP 400)."""
    workers: int = field(default_factory=default_workers)
    """Threads executing jobs (HTTP requests are served by other threads); default: one per
    usable core where memory allows (see :mod:`.memory_budget`)."""
    max_result_bits: int = DEFAULT_MAX_RESULT_BITS
    """Largest result a job may ask for, in bits (circuits × shots × measured qubits); larger
    jobs are refused at submission (22.x: HTTP 400; IQM Server API: 422)."""
    dask_scheduler: str | None = None
    """Address of a Dask scheduler (``tcp://host:8786``): each job's circuits are simulated as
    tasks on its cluster's workers (``cluster`` extra); ``None`` simulates in the job's thread."""
    client_library_range: tuple[str, str] = DEFAULT_CLIENT_LIBRARY_RANGE
    """``(min, max)`` iqm-client versions reported by ``info/client-libraries``."""
    stage_delay: float = 0.002
    """Seconds a job rests in ``received`` and in ``pending execution``, to look like a
    real server's queue; ``0`` makes jobs run as fast as possible."""
    job_overhead: float = 0.0
    """Seconds each job occupies its worker before executing, on top of ``stage_delay`` and the
    simulation: a real server's fixed cost per job (see :data:`REALISTIC_JOB_OVERHEAD` for a
    value standing for it). Jobs queue behind it as on a device, ``workers`` at a time. ``0``
    (the default) keeps jobs as fast as the simulator, for tests and examples."""
    default_max_duration_over_t2: float = DEFAULT_MAX_DURATION_OVER_T2
    """See :data:`DEFAULT_MAX_DURATION_OVER_T2`; ``0`` disables the check by default."""
    access_token_lifetime: int = 300
    """Seconds an access token issued by the emulated auth server stays valid."""
    refresh_token_lifetime: int = 1800
    """Seconds a refresh token issued by the emulated auth server stays valid."""
    max_active_qubits: int = DEFAULT_MAX_ACTIVE_QUBITS
    """Largest number of qubits and resonators a circuit may touch. The exact methods take at
    most :data:`~pytket.extensions.iqm.emulator.limits.EXACT_MAX_COMPONENTS`;
    larger circuits run on the stabilizer or matrix-product-state method."""
    mps_max_bond: int = DEFAULT_MAX_BOND
    """Bond-dimension cap of the matrix-product-state method."""
    cocos_version: str = "emulated-22"
    """Value of ``metadata.cocos_version`` in job results."""
    max_body_bytes: int = DEFAULT_MAX_BODY_BYTES
    """Largest request body accepted; larger bodies are answered 413 unread."""
    idempotency_keys: bool = True
    """Honour the ``Idempotency-Key`` header of job submissions (a resent submission answers
    with the job the first one created) and say so on every answer with
    ``Idempotent-Submissions: true``; ``False`` ignores the header, as IQM's servers do (see
    :mod:`~pytket.extensions.iqm.emulator.http.idempotency`)."""
    fail_rate: float = 0.0
    """Fault injection: probability that a job-API request (of ``fault_kinds``) is answered
    ``fail_status`` without being handled (or after, with ``fail_handled``), at most
    ``max_random_faults`` times."""
    fail_status: int = 503
    """HTTP status of the random faults of ``fail_rate``."""
    fail_handled: bool = False
    """Random faults happen after the request was handled (the server did the work; a submit
    created its job) instead of before."""
    max_random_faults: int = 100
    """Most random faults one server injects, so that retrying clients always get through."""
    fault_kinds: tuple[str, ...] = JOB_KINDS
    """Request kinds random faults hit (see :mod:`~pytket.extensions.iqm.emulator.http.faults`)."""
    slow_ms: int = 0
    """Fault injection: milliseconds added to every device request before it is handled."""
    fault_script: str = ""
    """Fault injection: scripted rules ``kind:action:count,...`` (e.g. ``status:502:3``)."""
    fault_endpoint: bool = False
    """Serve ``/_faults`` (GET counters, POST more rules, DELETE pending rules)."""

    def __post_init__(self) -> None:
        for name in (
            "max_shots",
            "max_circuits",
            "workers",
            "max_active_qubits",
            "max_result_bits",
            "mps_max_bond",
        ):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"EmulatorConfig.{name} must be a positive integer, got {value!r}."
                )
        for name in ("access_token_lifetime", "refresh_token_lifetime"):
            value = getattr(self, name)
            if not isinstance(value, int) or value < 1:
                raise ValueError(
                    f"EmulatorConfig.{name} must be a positive whole number of seconds, got "
                    f"{value!r}."
                )
        if not isinstance(self.max_body_bytes, int) or self.max_body_bytes < 1:
            raise ValueError(
                "EmulatorConfig.max_body_bytes must be a positive integer (bytes), got "
                f"{self.max_body_bytes!r}."
            )
        try:
            check_fault_options(
                fail_rate=self.fail_rate,
                fail_status=self.fail_status,
                max_random_faults=self.max_random_faults,
                slow_ms=self.slow_ms,
                fault_kinds=tuple(self.fault_kinds),
            )
            parse_fault_script(self.fault_script)
        except FaultScriptError as error:
            raise ValueError(f"EmulatorConfig: {error}") from None
        if self.dask_scheduler is not None:
            check_scheduler_address(self.dask_scheduler)
        if self.noise_model not in NOISE_MODELS:
            raise ValueError(
                f"EmulatorConfig.noise_model must be one of {', '.join(NOISE_MODELS)}, got "
                f"{self.noise_model!r}."
            )
        if self.stage_delay < 0:
            raise ValueError(
                f"EmulatorConfig.stage_delay must not be negative, got {self.stage_delay!r}; give "
                "the seconds a job rests in each queue stage (0: none)."
            )
        if not isinstance(self.job_overhead, int | float) or not 0 <= self.job_overhead <= (
            MAX_JOB_OVERHEAD
        ):
            raise ValueError(
                f"EmulatorConfig.job_overhead must be between 0 and {MAX_JOB_OVERHEAD:g} seconds, "
                f"got {self.job_overhead!r}; give the seconds each job takes on top of the "
                "simulation (0: none)."
            )
        if self.default_max_duration_over_t2 < 0:
            raise ValueError(
                "EmulatorConfig.default_max_duration_over_t2 must not be negative, got "
                f"{self.default_max_duration_over_t2!r}; 0 turns the duration check off."
            )
        if not self.devices and not self.device_files:
            raise ValueError(
                "EmulatorConfig needs at least one device or device file: pass a catalogue name "
                "such as device='garnet', or device_files=['my_device.json']."
            )
        if self.token is not None and not self.token:
            raise ValueError("EmulatorConfig.token must not be empty; use None for no token.")
        if self.auth_users is not None:
            if not self.auth_users:
                raise ValueError("EmulatorConfig.auth_users must name at least one user.")
            for user, password in self.auth_users.items():
                if not user or not isinstance(password, str) or not password:
                    raise ValueError(
                        "EmulatorConfig.auth_users needs a non-empty username and password "
                        "for every user."
                    )
        low, high = self.client_library_range
        try:
            ordered = Version(low) < Version(high)
        except InvalidVersion:
            ordered = False
        if not ordered:
            raise ValueError(
                "EmulatorConfig.client_library_range must be two version numbers (min, max) with "
                f"min < max, got {self.client_library_range!r}."
            )

    @property
    def faults_enabled(self) -> bool:
        """Whether any fault injection is configured (or may be, through ``/_faults``)."""
        return bool(
            self.fail_rate > 0 or self.slow_ms > 0 or self.fault_script or self.fault_endpoint
        )

    @property
    def auth_required(self) -> bool:
        """Whether the job API checks bearer tokens."""
        return self.token is not None or self.auth_users is not None


def load_devices(config: EmulatorConfig) -> dict[str, Device]:
    """The devices a configuration serves, by name, in the order given.

    :raises UnknownDeviceError: if a catalogue name is unknown.
    :raises InvalidDeviceFileError: if a device file is invalid.
    :raises ValueError: if two devices have the same name.
    """
    devices: dict[str, Device] = {}
    chosen = list(config.devices)
    if "all" in chosen:
        chosen = [d for d in chosen if d != "all"] + list(catalogue())
    for name in chosen:
        device = get_device(name)
        devices.setdefault(device.name, device)
    for path in config.device_files:
        device = load_device_file(path)
        if device.name in devices:
            raise ValueError(
                f"Device file {path} defines {device.name!r}, which is already served; "
                "rename the device in the file."
            )
        devices[device.name] = device
    return devices


def is_loopback(host: str) -> bool:
    """Whether ``host`` only accepts connections from this machine."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False
