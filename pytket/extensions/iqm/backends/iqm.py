"""``IQMBackend``: pytket's interface to an IQM quantum computer (or the local emulator).

Backend logic only: the device model, translation, results, handles and compilation live in
their own modules, and every server call goes through a
:class:`~.connection.interface.ServerConnection`, whose implementation depends on the installed
iqm-client (22.x or 36.x); nothing here knows which.

Longer than the project's ~600 lines because ``IQMBackend`` is one class: pytket's ``Backend``
interface (construction, also in pytket-iqm 0.18's forms, compilation, submission, status,
results, metadata, cancel) with the checks that refuse bad input before anything is sent.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Iterable, Iterator, Sequence
from numbers import Integral
from types import TracebackType
from typing import Any, cast
from urllib.parse import urlsplit
from uuid import UUID

from pytket.architecture import Architecture, FullyConnected
from pytket.backends.backend import Backend
from pytket.backends.backend_exceptions import CircuitNotValidError
from pytket.backends.backendinfo import BackendInfo
from pytket.backends.backendresult import BackendResult
from pytket.backends.resulthandle import ResultHandle
from pytket.backends.status import CircuitStatus, StatusEnum
from pytket.circuit import Circuit, OpType, Qubit
from pytket.passes import BasePass, SimplifyInitial
from pytket.predicates import Predicate
from pytket.utils.prepare import prepare_circuit
from pytket.utils.results import KwargTypes

from pytket.extensions.iqm._metadata import __extension_version__
from pytket.extensions.iqm.backends import compilation
from pytket.extensions.iqm.backends.architecture import IQMDevice, device_from_dqa
from pytket.extensions.iqm.backends.compilation.star_device import resonator_qubit
from pytket.extensions.iqm.backends.connection.compatible_errors import compatible_error
from pytket.extensions.iqm.backends.connection.connect import (
    connect,
    looks_like_device_name,
    server_address,
)
from pytket.extensions.iqm.backends.connection.credentials import resolve_credentials
from pytket.extensions.iqm.backends.connection.installed import installed_api_line
from pytket.extensions.iqm.backends.connection.interface import ServerConnection
from pytket.extensions.iqm.backends.connection.retry import RetryPolicy
from pytket.extensions.iqm.backends.connection.types import JobRecord, JobState, RunOptions
from pytket.extensions.iqm.backends.dynamic import check_dynamic_features
from pytket.extensions.iqm.backends.handles import (
    HANDLE_TYPE,
    check_handle_type,
    make_handle,
    parse_handle,
)
from pytket.extensions.iqm.backends.metadata import JobMetadata
from pytket.extensions.iqm.backends.parallel_compile import (
    compile_circuits,
    refuse_in_compile_worker,
)
from pytket.extensions.iqm.backends.progress import collect_with_progress, progress_enabled
from pytket.extensions.iqm.backends.results import measurements_to_result
from pytket.extensions.iqm.backends.translation import circuit_to_iqm
from pytket.extensions.iqm.config import IQMConfig, same_token
from pytket.extensions.iqm.errors import (
    IQMAuthenticationError,
    IQMCredentialsError,
    IQMDeviceError,
    IQMJobCancelledError,
    IQMJobFailedError,
    IQMServerError,
)

IqmAuthenticationError = IQMAuthenticationError
"""pytket-iqm 0.18's name, kept importable from here: its credentials were refused."""

IqmDeviceUnsupportedError = IQMDeviceError
"""pytket-iqm 0.18's name, kept importable from here: the device cannot be used as asked."""

DEFAULT_MAX_BATCH_SIZE = 1000
"""Circuits with the same shot count go into one job, split into jobs of at most this many."""

DEFAULT_MAX_SHOTS = 100_000
"""Most shots per circuit unless the backend is told the server's own limit (``max_shots``)."""

DEFAULT_RESULT_TIMEOUT = 900.0
"""Seconds ``get_result`` waits for a job unless told otherwise (iqm-client's own default)."""

_PROCESS_KWARGS = frozenset(
    {
        "postprocess",
        "simplify_initial",
        "calibration_set_id",
        "max_circuit_duration_over_t2",
        "heralding_mode",
        "move_validation_mode",
        "move_gate_frame_tracking_mode",
        "max_batch_size",
    }
)
_RESULT_KWARGS = frozenset({"timeout", "wait", "progress"})

# An X gate in the native gate set, for SimplifyInitial and contextual optimisation.
_NATIVE_X = Circuit(1).add_gate(OpType.PhasedX, [1.0, 0.0], [0])


class IQMBackend(Backend):
    """Runs pytket circuits on an IQM quantum computer (or the local emulator).

    The installed iqm-client decides the API: with iqm-client 36.x (what ``pip install pytket-iqm``
    gets on Python 3.11+) the backend speaks the IQM Server API of IQM Resonance, with iqm-client
    22.x IQM's REST API of on-premises servers. Everything else works the same on both.

    :param url: with iqm-client 22.x, the device's URL, e.g. ``https://my-iqm-server/garnet`` or
        an emulator's :attr:`~pytket.extensions.iqm.emulator.IQMEmulator.url` (or the server
        root, with ``device``); with iqm-client 36.x, the server root, e.g.
        ``https://resonance.iqm.tech`` or an emulator's
        :attr:`~pytket.extensions.iqm.emulator.IQMEmulator.root_url`. Left out (with
        ``device`` given), IQM Resonance as the installed iqm-client addresses it. A bare
        device name here is pytket-iqm 0.18's form ``IQMBackend(device, api_token,
        server_url)``, and its second and third positional arguments are read as 0.18's.
    :param arch: optional coupling map overriding the server's, as pairs of qubit names
        (``[["QB1", "QB2"], ...]``); every pair must be a calibrated CZ locus. The backend then
        uses only the qubits ``arch`` couples (as the seed-era pytket-iqm did).
    :param auth_server_url: authentication server for a username/password login (iqm-client
        22.x only: the IQM Server API takes tokens).
    :param username: user name on the authentication server.
    :param password: password on the authentication server.
    :param token: a bearer token (else ``IQM_TOKEN``, else the stored :class:`IQMConfig` token).
    :param tokens_file: a tokens file as written by IQM's Cortex CLI (else ``IQM_TOKENS_FILE``).
        A tokens file wins over every other credential.
    :param device: the device (quantum computer) name on the server, e.g. ``"garnet"``. Needed
        with iqm-client 36.x when the server has several; with 22.x it is appended to ``url``.
    :param calibration_set_id: pin a calibration set; by default the server's current default
        set is used, and its id is remembered so that compilation and every job use the same one.
    :param max_batch_size: most circuits per job; larger batches are split.
    :param poll_interval: longest pause between status polls, seconds (polling starts faster).
    :param max_shots: most shots per circuit the server accepts; more is refused before
        anything is sent.
    :param retry: how transient server failures (502/503/504/429, resets, timeouts) are
        retried, and the per-request timeout; a submit is retried only when the server
        certainly did not receive it. Default: :class:`~.connection.retry.RetryPolicy` ().
    :param api_token: pytket-iqm 0.18's name for ``token`` (giving both, different, is an error).
    :param server_url: pytket-iqm 0.18's name for the server root ``url`` (with ``device``).
    :raises ValueError: ``url`` is not an http(s) URL, does not fit the installed iqm-client's
        addressing (the message shows the right form), or a number is out of range.
    :raises IQMClientVersionError: the installed iqm-client is neither 22.x nor 36.x.
    :raises IQMCredentialsError: credentials are half-given or conflicting, or a
        username/password login is asked of the IQM Server API.
    :raises IQMAuthenticationError: the server or auth server refused the credentials.
    :raises IQMDeviceError: ``arch``, ``calibration_set_id`` or ``device`` does not match the
        server.
    :raises IQMServerError: the server could not be reached.
    """

    _supports_shots = True
    _supports_counts = True
    _supports_contextual_optimisation = True
    _persistent_handles = True

    def __init__(
        self,
        url: str | None = None,
        arch: Sequence[Sequence[str]] | str | None = None,
        auth_server_url: str | None = None,
        username: str | None = None,
        password: str | None = None,
        *,
        token: str | None = None,
        tokens_file: str | None = None,
        device: str | None = None,
        calibration_set_id: str | UUID | None = None,
        max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
        poll_interval: float = 1.0,
        max_shots: int = DEFAULT_MAX_SHOTS,
        retry: RetryPolicy | None = None,
        api_token: str | None = None,
        server_url: str | None = None,
    ) -> None:
        super().__init__()
        refuse_in_compile_worker("connect to an IQM server")
        if url is not None and looks_like_device_name(url):
            # pytket-iqm 0.18's IQMBackend(device, api_token=None, server_url=None), positionally.
            if device is not None:
                raise ValueError(
                    f"IQMBackend({url!r}, device={device!r}) names the device twice; give the "
                    "server URL first (or server_url=...), and the device as device=."
                )
            device, url = url, None
            if isinstance(arch, str):  # 0.18's second parameter; no coupling map is a string
                api_token, arch = same_token(api_token, arch), None
            if auth_server_url is not None and not (username or password):
                # 0.18's third parameter: an auth server without a login would mean nothing.
                server_url, auth_server_url = auth_server_url, None
        if isinstance(arch, str):
            raise ValueError(
                f"arch must be pairs of qubit names such as [['QB1', 'QB2']], not {arch!r}."
            )
        url, device = server_address(url, server_url, device, installed_api_line())
        _check_url(url)
        if device is not None and (not isinstance(device, str) or not device.strip()):
            raise ValueError(
                f"device must be a non-empty device name such as 'garnet', not {device!r}."
            )
        _check_limits(max_batch_size, poll_interval, max_shots)
        try:
            credentials = resolve_credentials(
                token=same_token(token, api_token),
                tokens_file=tokens_file,
                auth_server_url=auth_server_url,
                username=username,
                password=password,
                environment=os.environ,
                config=IQMConfig.from_default_config_file(),
            )
        except IQMCredentialsError as error:
            # Also iqm-client's own exception for conflicting credentials, as it was in 0.18.
            raise compatible_error(IQMCredentialsError, str(error)) from None
        self._set_up(
            connect(url.rstrip("/"), device, credentials, retry=retry),
            calibration_set_id=calibration_set_id,
            arch=arch,
            max_batch_size=max_batch_size,
            poll_interval=poll_interval,
            max_shots=max_shots,
        )

    @classmethod
    def from_connection(
        cls,
        connection: ServerConnection,
        *,
        arch: Sequence[Sequence[str]] | None = None,
        calibration_set_id: str | UUID | None = None,
        max_batch_size: int = DEFAULT_MAX_BATCH_SIZE,
        poll_interval: float = 1.0,
        max_shots: int = DEFAULT_MAX_SHOTS,
    ) -> IQMBackend:
        """A backend on an existing connection (as qiskit-iqm's backend takes a client): one
        from :func:`~.connection.connect.connect`, or any other
        :class:`~.connection.interface.ServerConnection` implementation, such as an in-process
        fake in tests. The other arguments are as for the constructor.

        :raises ValueError: a limit is out of range.
        :raises IQMDeviceError: the server does not know the calibration set.
        """
        _check_limits(max_batch_size, poll_interval, max_shots)
        backend = cls.__new__(cls)
        Backend.__init__(backend)
        backend._set_up(
            connection,
            calibration_set_id=calibration_set_id,
            arch=arch,
            max_batch_size=max_batch_size,
            poll_interval=poll_interval,
            max_shots=max_shots,
        )
        return backend

    def _set_up(
        self,
        connection: ServerConnection,
        *,
        calibration_set_id: str | UUID | None,
        arch: Sequence[Sequence[str]] | None,
        max_batch_size: int,
        poll_interval: float,
        max_shots: int,
    ) -> None:
        """Read the device through ``connection`` (the constructors' common part)."""
        self._max_batch_size = max_batch_size
        self._poll_interval = poll_interval
        self._max_shots = max_shots
        self._connection = connection
        dqa = self._connection.dynamic_architecture(_optional_uuid(calibration_set_id))
        self._calibration_set_id = dqa.calibration_set_id
        self._device: IQMDevice = device_from_dqa(
            dqa,
            device_name=self._connection.device_name,
            quality_metrics=self._connection.quality_metrics(dqa.calibration_set_id),
            arch=arch,
        )
        self._backend_info = self._device.backend_info(
            name=type(self).__name__, version=__extension_version__
        )
        # Fetched terminal job records by job id: one fetch serves every circuit of a batch,
        # and a result is never fetched twice (one lock per job keeps concurrent callers to one).
        self._job_records: dict[UUID, JobRecord] = {}
        self._records_lock = threading.Lock()
        self._fetch_locks: dict[UUID, threading.Lock] = {}

    def __repr__(self) -> str:
        return (
            f"IQMBackend(url={self.url!r}, device={self._device.device_name!r}, "
            f"calibration_set_id='{self._calibration_set_id}')"
        )

    # -- device -------------------------------------------------------------------------------

    @property
    def backend_info(self) -> BackendInfo:
        """The device as the server describes it for this backend's calibration set."""
        return self._backend_info

    @property
    def url(self) -> str:
        """The URL this backend talks to: the device URL (iqm-client 22.x) or the server root
        (iqm-client 36.x)."""
        return self._connection.url

    @property
    def api(self) -> str:
        """Which IQM API this backend speaks: ``"iqm-client-22"`` or ``"iqm-server-api"``."""
        return self._connection.api_line.value

    @property
    def device(self) -> IQMDevice:
        """The device model (qubit names, loci, gates, error figures)."""
        return self._device

    @property
    def calibration_set_id(self) -> UUID:
        """The calibration set used for compilation and sent with every job."""
        return self._calibration_set_id

    @classmethod
    def available_devices(cls, **kwargs: Any) -> list[BackendInfo]:
        """The device served at ``url``, as a one-element list of :class:`BackendInfo`.

        Takes the constructor's arguments as keywords (``url`` is required; ``device`` names
        the device when ``url`` is the server root).

        :raises ValueError: no ``url`` given.
        """
        if "url" not in kwargs:
            raise ValueError(
                "available_devices needs url=... (the IQM server's URL, with device=... naming "
                "the device; with iqm-client 22.x the device URL alone also works)."
            )
        with cls(**kwargs) as backend:
            return [backend.backend_info]

    # -- compilation --------------------------------------------------------------------------

    @property
    def required_predicates(self) -> list[Predicate]:
        """What a circuit must satisfy to run: native gates, connectivity, no symbols, and
        mid-circuit measurement / classical control only where the device supports them."""
        return compilation.required_predicates(self._backend_info)

    def rebase_pass(self) -> BasePass:
        """Rebase to IQM's native gates, PRX (``PhasedX``) and CZ."""
        return compilation.rebase_pass()

    def default_compilation_pass(
        self, optimisation_level: int = 2, timeout: float = 300
    ) -> BasePass:
        """The compilation pass for this device.

        :param optimisation_level: 0 (rebase, placement, routing only), 1 (light
            optimisation), 2 (default: the best within a compile time like pytket's), or 3
            (more time for further gains, bounded by ``timeout``).
        :param timeout: seconds level 3 may spend per circuit.
        :raises ValueError: ``optimisation_level`` is not 0, 1, 2 or 3.
        """
        return compilation.default_compilation_pass(
            self._backend_info, optimisation_level, timeout=timeout
        )

    @staticmethod
    def pass_from_info(
        backend_info: BackendInfo, optimisation_level: int = 2, timeout: float = 300
    ) -> BasePass:
        """The default compilation pass for a device described by ``backend_info``, offline.

        :raises ValueError: ``optimisation_level`` is not 0, 1, 2 or 3.
        """
        return compilation.default_compilation_pass(
            backend_info, optimisation_level, timeout=timeout
        )

    def get_compiled_circuit(
        self, circuit: Circuit, optimisation_level: int = 2, timeout: float = 300
    ) -> Circuit:
        """A compiled copy of ``circuit`` (the input is not changed).

        :raises ValueError: ``optimisation_level`` is not 0, 1, 2 or 3.
        :raises IQMDeviceError: the circuit has more qubits than the device.
        """
        self._check_fits(circuit, 0)
        compiled = circuit.copy()
        self.default_compilation_pass(optimisation_level, timeout).apply(compiled)
        _keep_name(compiled, circuit)
        return compiled

    def get_compiled_circuits(
        self,
        circuits: Sequence[Circuit],
        optimisation_level: int = 2,
        timeout: float = 300,
        *,
        workers: int | None = None,
        executor: Any = None,
        progress: bool | None = None,
    ) -> list[Circuit]:
        """Compiled copies of ``circuits``, in order, compiled in parallel.

        The circuits are exactly those :meth:`get_compiled_circuit` gives one by one (see
        :func:`~.parallel_compile.compile_circuits`, which this calls with the backend's
        device; it also works offline from a ``BackendInfo``).

        :param workers: local worker processes; ``None`` (default) one per core, ``1`` compiles
            in this process. Small batches compile in this process anyway.
        :param executor: compile on a Dask cluster (a ``distributed.Client`` or a scheduler
            address, extra ``cluster``) or any ``concurrent.futures.Executor``; by default the
            ``PYTKET_IQM_COMPILE_SCHEDULER`` address if set, else this machine's cores.
        :param progress: ``True`` shows a progress bar counting compiled circuits.
        :raises ValueError: ``optimisation_level`` is not 0, 1, 2 or 3, ``workers`` is less than
            1, or both ``workers`` and ``executor`` are given.
        :raises TypeError: ``workers`` or ``executor`` is of the wrong type.
        :raises ImportError: Dask or tqdm is asked for but not installed (the message names the
            extra).
        :raises IQMDeviceError: a circuit has more qubits than the device.
        """
        circuits = list(circuits)
        for index, circuit in enumerate(circuits):
            self._check_fits(circuit, index)
        compiled_circuits = compile_circuits(
            self._backend_info,
            circuits,
            optimisation_level,
            timeout,
            workers=workers,
            executor=executor,
            progress=progress,
        )
        for compiled, circuit in zip(compiled_circuits, circuits, strict=True):
            _keep_name(compiled, circuit)
        return compiled_circuits

    def _check_fits(self, circuit: Circuit, index: int) -> None:
        """Refuse a circuit with more qubits than the device, saying both counts.

        :raises IQMDeviceError: the circuit has more qubits than the device.
        """
        # A Star device's resonator qubits are the device's too (in compiled circuits).
        capacity = len(self._device.qubits) + len(self._device.computational_resonators)
        if circuit.n_qubits > capacity:
            raise IQMDeviceError(
                f"Circuit {index} has {circuit.n_qubits} qubits, but device "
                f"{self._device.device_name!r} has {len(self._device.qubits)}: use a device "
                "with more qubits, or split the circuit."
            )

    # -- running ------------------------------------------------------------------------------

    @property
    def _result_id_type(self) -> tuple[type, ...]:
        return HANDLE_TYPE

    def _check_handle_type(self, reshandle: ResultHandle) -> None:
        """Refuse what is not this backend's handle, saying what to pass instead.

        :raises ForeignHandleError: ``reshandle`` is a string (a saved handle not read back),
            or a handle of another backend.
        """
        check_handle_type(reshandle)

    def process_circuits(
        self,
        circuits: Sequence[Circuit],
        n_shots: int | Sequence[int] | None = None,
        valid_check: bool = True,
        **kwargs: KwargTypes,
    ) -> list[ResultHandle]:
        """Submit circuits; all circuits with the same shot count go into one IQM job.

        Keyword arguments:

        * ``postprocess`` (bool): contextual optimisation; the classical post-processing circuit
          is kept in the handle and applied to the results.
        * ``simplify_initial`` (bool): simplify using the known all-zero initial state (applied
          to a copy; the caller's circuit is never changed).
        * ``calibration_set_id`` (str): run on another calibration set than the backend's.
        * ``max_circuit_duration_over_t2`` (float): server-side duration limit (0 disables).
        * ``heralding_mode`` (``"none"`` | ``"zeros"``): with ``"zeros"`` the server drops shots
          whose qubits were not in 0 before the circuit, so fewer shots may come back.
        * ``move_validation_mode``, ``move_gate_frame_tracking_mode``: MOVE options (Star
          devices), passed through to the server.
        * ``max_batch_size`` (int): most circuits per job for this call.

        :raises CircuitNotValidError: a circuit does not satisfy :attr:`required_predicates`,
            or has free symbols (the message names them).
        :raises IQMDeviceError: a circuit uses classical control, reset or mid-circuit
            measurement on a device without feedback (``cc_prx``), or has more qubits than the
            device.
        :raises ValueError: a shot count (a positive integer) or an option is invalid.
        :raises IQMTranslationError: a circuit cannot be expressed as IQM instructions.
        :raises IQMServerError: the server refused the job.
        """
        _reject_unknown_kwargs(kwargs, _PROCESS_KWARGS | _RESULT_KWARGS)
        circuits = list(circuits)
        _reject_non_positive_shots(n_shots)
        shots_per_circuit = Backend._get_n_shots_as_list(n_shots, len(circuits), optional=False)
        for shots in shots_per_circuit:
            if shots > self._max_shots:
                raise ValueError(
                    f"n_shots {shots} is more than the server accepts ({self._max_shots}); "
                    "split the shots over several circuits, or pass the server's limit as "
                    "IQMBackend(max_shots=...)."
                )
        for index, circuit in enumerate(circuits):
            self._check_fits(circuit, index)
        if valid_check:
            for index, circuit in enumerate(circuits):
                _reject_free_symbols(circuit, index)
                check_dynamic_features(circuit, self._backend_info, index)
            self._check_all_circuits(circuits)
        else:
            # pytket's connectivity check is skipped; a qubit outside the device must still
            # fail here, before anything is sent.
            self._reject_unknown_qubits(circuits)

        options = _run_options(kwargs)
        calibration_set_id = _optional_uuid(kwargs.get("calibration_set_id")) or (
            self._calibration_set_id
        )
        max_batch_size = int(cast("int", kwargs.get("max_batch_size", self._max_batch_size)))
        if max_batch_size < 1:
            raise ValueError(f"max_batch_size must be at least 1, not {max_batch_size}.")

        prepared = [
            self._prepare(
                circuit,
                index,
                postprocess=bool(kwargs.get("postprocess", False)),
                simplify_initial=bool(kwargs.get("simplify_initial", False)),
            )
            for index, circuit in enumerate(circuits)
        ]

        handles: list[ResultHandle | None] = [None] * len(circuits)
        for shots, indices in _group_by_shots(shots_per_circuit):
            for start in range(0, len(indices), max_batch_size):
                batch = indices[start : start + max_batch_size]
                job_id = self._connection.submit(
                    [prepared[index][0] for index in batch],
                    shots=shots,
                    calibration_set_id=calibration_set_id,
                    options=options,
                )
                for position, index in enumerate(batch):
                    _, layout, ppcirc = prepared[index]
                    handle = make_handle(
                        str(job_id), position, layout, ppcirc, self._connection.api_line
                    )
                    handles[index] = handle
                    self._cache[handle] = {}
        return [handle for handle in handles if handle is not None]

    def _reject_unknown_qubits(self, circuits: Sequence[Circuit]) -> None:
        """Refuse circuits on qubits the device does not have (also with ``valid_check=False``).

        :raises IQMDeviceError: a circuit acts on a qubit outside the device.
        """
        architecture = self._backend_info.architecture
        known: set[Qubit] = set(architecture.nodes) if architecture is not None else set()
        # A Star device's resonators are qubits of compiled circuits too (MOVE and CZ act on them).
        known.update(
            resonator_qubit(index) for index in range(len(self._device.computational_resonators))
        )
        for index, circuit in enumerate(circuits):
            unknown = [str(qubit) for qubit in circuit.qubits if qubit not in known]
            if unknown and known:
                raise IQMDeviceError(
                    f"Circuit {index} acts on {', '.join(unknown)}, which device "
                    f"{self._device.device_name!r} does not have (it has "
                    f"{_describe_nodes(architecture)}). Compile the circuit with "
                    "backend.get_compiled_circuit first."
                )

    def _prepare(
        self, circuit: Circuit, index: int, *, postprocess: bool, simplify_initial: bool
    ) -> tuple[Any, Any, Circuit | None]:
        """Translate one circuit, after the optional optimisations, on a copy."""
        to_run = circuit.copy()
        ppcirc: Circuit | None = None
        if (postprocess or simplify_initial) and self._device.computational_resonators:
            # Both rewrite gates with pytket passes that do not know the MOVE gate.
            raise ValueError(
                "postprocess and simplify_initial are not available on devices with a "
                "computational resonator; compile with optimisation, then submit without them."
            )
        if postprocess:
            to_run, ppcirc = prepare_circuit(to_run, allow_classical=False, xcirc=_NATIVE_X)
            # prepare_circuit may introduce gates outside the native set.
            compilation.rebase_pass().apply(to_run)
        if simplify_initial:
            SimplifyInitial(allow_classical=False, create_all_qubits=True, xcirc=_NATIVE_X).apply(
                to_run
            )
        name = circuit.name or f"circuit_{index}"
        iqm_circuit, layout = circuit_to_iqm(
            to_run, name, resonators=self._device.computational_resonators
        )
        return iqm_circuit, layout, ppcirc

    def circuit_status(self, handle: ResultHandle) -> CircuitStatus:
        """The status of the job running this circuit. Never raises for a failed job: the
        server's message is in :attr:`CircuitStatus.message`."""
        self._check_handle_type(handle)
        contents = parse_handle(handle, self._connection.api_line)
        # A fetched result's job record is kept: terminal, it cannot have changed.
        record = self._cached_record(UUID(contents.job_id))
        if record is not None:  # terminal: it cannot have changed
            return _circuit_status(record.state)
        job_state = self._connection.state(UUID(contents.job_id))
        return _circuit_status(job_state)

    def get_result(self, handle: ResultHandle, **kwargs: KwargTypes) -> BackendResult:
        """The circuit's result, waiting for the job if needed.

        Every bit of the circuit is in the result, in the circuit's bit order; bits never
        measured read 0; a bit measured several times holds its last value.

        :param timeout: seconds to wait (default 900; ``None`` waits indefinitely).
        :param wait: longest pause between status polls, seconds (pytket's name for the polling
            interval; default: the backend's ``poll_interval``). Polling starts faster.
        :raises ValueError: ``wait`` is not a positive number.
        :raises IQMTimeoutError: the job did not finish in time (the handle stays valid).
        :raises IQMJobFailedError: the job failed; the message is the server's.
        :raises IQMJobCancelledError: the job was aborted.
        """
        self._check_handle_type(handle)
        poll_interval = _polling_interval(kwargs.get("wait"), self._poll_interval)
        contents = parse_handle(handle, self._connection.api_line)
        if handle in self._cache and "result" in self._cache[handle]:
            return cast("BackendResult", self._cache[handle]["result"])
        timeout = kwargs.get("timeout", DEFAULT_RESULT_TIMEOUT)
        record = self._finished_record(
            UUID(contents.job_id),
            None if timeout is None else float(cast("float", timeout)),
            poll_interval,
        )
        measurements = record.measurements or []
        if contents.index >= len(measurements):
            raise IQMServerError(
                f"Job {contents.job_id} returned results for {len(measurements)} circuits, "
                f"but this handle refers to circuit {contents.index}."
            )
        result = measurements_to_result(
            measurements[contents.index], contents.layout, ppcirc=contents.ppcirc
        )
        self._cache.setdefault(handle, {})["result"] = result
        return result

    def get_results(
        self, handles: Iterable[ResultHandle], **kwargs: KwargTypes
    ) -> list[BackendResult]:
        """The results of several circuits, in the order of ``handles``; each job is fetched
        once for all of its circuits.

        :param timeout: seconds to wait for each job (default 900; ``None`` waits indefinitely).
        :param wait: longest pause between status polls, seconds (as for :meth:`get_result`).
        :param progress: ``True`` shows a progress bar (on stderr) counting the results, with the
            status of the job being waited for; off by default. Needs the ``progress`` extra
            (``pip install "pytket-iqm[progress]"``).
        :raises ImportError: ``progress=True`` but tqdm is not installed.
        :raises ValueError: ``progress`` is not ``True``, ``False`` or ``None``.
        :raises IQMTimeoutError: a job did not finish in time (the handles stay valid).
        :raises IQMJobFailedError: a job failed; the message is the server's.
        :raises IQMJobCancelledError: a job was aborted.
        """
        show_progress = progress_enabled(kwargs.pop("progress", None))
        if not show_progress or isinstance(handles, ResultHandle):
            return super().get_results(handles, **kwargs)
        return collect_with_progress(
            list(handles),
            lambda handle: self.get_result(handle, **kwargs),
            job_of=lambda handle: str(handle[0])[:8],
            status_of=lambda handle: self.circuit_status(handle).message,
        )

    def _finished_record(
        self, job_id: UUID, timeout: float | None, poll_interval: float
    ) -> JobRecord:
        """The job's record once it is terminal; raises for failed or aborted jobs."""
        record = self._cached_record(job_id)
        if record is None:
            job_state = self._connection.wait(job_id, timeout=timeout, poll_interval=poll_interval)
            _raise_unless_ready(job_id, job_state)
            record = self._fetch_record(job_id)
        _raise_unless_ready(job_id, record.state)
        return record

    def _cached_record(self, job_id: UUID) -> JobRecord | None:
        with self._records_lock:
            return self._job_records.get(job_id)

    def _fetch_record(self, job_id: UUID) -> JobRecord:
        """The job's record, fetched from the server at most once per job once it is terminal."""
        with self._records_lock:
            fetch_lock = self._fetch_locks.setdefault(job_id, threading.Lock())
        with fetch_lock:
            record = self._cached_record(job_id)
            if record is None:
                record = self._connection.record(job_id)
                if record.state.terminal:
                    with self._records_lock:
                        self._job_records[job_id] = record
        return record

    def get_metadata(self, handle: ResultHandle, **kwargs: KwargTypes) -> JobMetadata:
        """The job's metadata, once the job has finished (a failed or cancelled job's too).

        With iqm-client 22.x it is iqm-client's own ``Metadata``; with the IQM Server API a
        :class:`~pytket.extensions.iqm.backends.metadata.ServerApiJobMetadata` with the same
        attributes where the server records them. Both have ``calibration_set_id``,
        ``request`` (``circuits`` as sent, ``shots``, ``calibration_set_id`` and a
        ``qubit_mapping`` from each qubit of the handle's compiled circuit to the device qubit
        it ran on), ``shots``, ``circuits``, ``job_id``, ``circuit_index`` (the handle's circuit
        is ``request.circuits[circuit_index]``), ``status`` and ``api``; the server's timing is
        ``timestamps`` (22.x) or ``timeline`` (IQM Server API), and asking one line for the
        other's raises an ``AttributeError`` naming the line that has it. Works for any valid
        handle, also on a fresh backend.

        :param timeout: seconds to wait for the job (default 900; ``None`` waits indefinitely).
        :raises IQMTimeoutError: the job did not finish in time (the handle stays valid).
        :raises ValueError: an unknown keyword argument.
        """
        _reject_unknown_kwargs(kwargs, frozenset({"timeout"}))
        self._check_handle_type(handle)
        contents = parse_handle(handle, self._connection.api_line)
        job_id = UUID(contents.job_id)
        if self._cached_record(job_id) is None:
            timeout = kwargs.get("timeout", DEFAULT_RESULT_TIMEOUT)
            self._connection.wait(
                job_id,
                timeout=None if timeout is None else float(cast("float", timeout)),
                poll_interval=self._poll_interval,
            )
        return self._connection.job_metadata(
            job_id,
            self._fetch_record(job_id),
            circuit_index=contents.index,
            qubit_mapping=contents.layout.qubit_mapping,
        )

    def cancel(self, handle: ResultHandle) -> None:
        """Abort the job running this circuit (and so every circuit batched with it).

        :raises IQMServerError: the server refused (e.g. the job has already finished).
        """
        self._check_handle_type(handle)
        self._connection.abort(UUID(parse_handle(handle, self._connection.api_line).job_id))

    # -- lifetime -----------------------------------------------------------------------------

    def close(self) -> None:
        """End the auth-server session, if any. The backend cannot be used afterwards."""
        self._connection.close()

    def __enter__(self) -> IQMBackend:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.close()


def _keep_name(compiled: Circuit, original: Circuit) -> None:
    """Give the compiled circuit the original's name (some passes build a new circuit), so the
    name reaches the server and the job's metadata."""
    if original.name and not compiled.name:
        compiled.name = original.name


def _describe_nodes(architecture: Architecture | FullyConnected | None) -> str:
    """The device's nodes for an error message: a range when contiguous, else listed."""
    indices = sorted(node.index[0] for node in architecture.nodes) if architecture else [0]
    if indices == list(range(indices[0], indices[-1] + 1)):
        return f"node[{indices[0]}] to node[{indices[-1]}]"
    return ", ".join(f"node[{index}]" for index in indices)


def _check_url(url: str) -> None:
    if not isinstance(url, str) or urlsplit(url).scheme not in ("http", "https"):
        raise ValueError(f"url must be an http:// or https:// URL of an IQM server, got {url!r}.")
    if not urlsplit(url).netloc:
        raise ValueError(f"url {url!r} has no host.")


def _optional_uuid(value: object) -> UUID | None:
    if value is None:
        return None
    if isinstance(value, UUID):
        return value
    try:
        return UUID(str(value))
    except ValueError:
        raise ValueError(f"calibration_set_id must be a UUID, got {value!r}.") from None


def _reject_non_positive_shots(n_shots: object) -> None:
    """Shot counts are positive integers: say so, where pytket would assert, take ``True`` as
    1, or read 0 as "not given"."""
    counts = n_shots if isinstance(n_shots, Sequence) else [n_shots]
    for shots in counts:
        if shots is None:
            continue  # pytket's own message says that n_shots is required
        # Integral, not int: numpy integers are shot counts too; a bool is not a count.
        if isinstance(shots, bool) or not isinstance(shots, Integral):
            raise ValueError(
                f"n_shots must be a positive integer (a whole number of shots), not {shots!r}."
            )
        if shots < 1:
            raise ValueError(f"n_shots must be at least 1, not {shots}.")


def _reject_free_symbols(circuit: Circuit, index: int) -> None:
    """A symbolic circuit cannot run; name its symbols and the way to give them values.

    :raises CircuitNotValidError: the circuit has free symbols.
    """
    symbols = sorted(str(symbol) for symbol in circuit.free_symbols())
    if symbols:
        raise CircuitNotValidError(
            f"Circuit {index} has free symbols {', '.join(symbols)}: give them values before "
            "running it, e.g. circuit.symbol_substitution({"
            + ", ".join(f"Symbol({name!r}): 0.5" for name in symbols)
            + "}) with sympy's Symbol (compiling a symbolic circuit is fine)."
        )


def _check_limits(max_batch_size: int, poll_interval: float, max_shots: int) -> None:
    if max_batch_size < 1:
        raise ValueError(f"max_batch_size must be at least 1, not {max_batch_size}.")
    if poll_interval <= 0:
        raise ValueError(f"poll_interval must be positive, not {poll_interval}.")
    if max_shots < 1:
        raise ValueError(f"max_shots must be at least 1, not {max_shots}.")


def _polling_interval(wait: object, default: float) -> float:
    """``get_result``'s ``wait`` (pytket's name for the polling interval), or ``default``."""
    if wait is None:
        return default
    if isinstance(wait, bool) or not isinstance(wait, (int, float)) or not wait > 0:
        raise ValueError(
            "wait is the longest pause between status polls, in seconds, and must be a "
            f"positive number, not {wait!r}."
        )
    return float(wait)


def _reject_unknown_kwargs(kwargs: dict[str, KwargTypes], known: frozenset[str]) -> None:
    unknown = sorted(set(kwargs) - known)
    if unknown:
        raise ValueError(
            f"Unknown keyword argument(s) {', '.join(unknown)}; IQMBackend accepts "
            f"{', '.join(sorted(known))}."
        )


def _run_options(kwargs: dict[str, KwargTypes]) -> RunOptions:
    """The job options from ``process_circuits``' keyword arguments.

    :raises ValueError: an option has a value the servers do not know.
    """
    duration_ratio = kwargs.get("max_circuit_duration_over_t2")
    try:
        ratio = None if duration_ratio is None else float(cast("float", duration_ratio))
    except (TypeError, ValueError):
        raise ValueError(
            f"max_circuit_duration_over_t2 must be a number, not {duration_ratio!r}."
        ) from None
    return RunOptions(
        max_circuit_duration_over_t2=ratio,
        heralding_mode=_option_text(kwargs, "heralding_mode", "none"),
        move_validation_mode=_option_text(kwargs, "move_validation_mode", "strict"),
        move_gate_frame_tracking_mode=_option_text(kwargs, "move_gate_frame_tracking_mode", "full"),
    )


def _option_text(kwargs: dict[str, KwargTypes], name: str, default: str) -> str:
    """An option's value as text; iqm-client's enum members are accepted too."""
    value: object = kwargs.get(name)
    if value is None:
        return default
    return str(getattr(value, "value", value))


def _group_by_shots(shots_per_circuit: Sequence[int]) -> Iterator[tuple[int, list[int]]]:
    """Circuit indices grouped by shot count, groups in order of first appearance."""
    groups: dict[int, list[int]] = {}
    for index, shots in enumerate(shots_per_circuit):
        groups.setdefault(shots, []).append(index)
    yield from groups.items()


def _circuit_status(job_state: JobState) -> CircuitStatus:
    message = job_state.server_status
    if job_state.message:
        message = f"{message}: {job_state.message}"
    return CircuitStatus(job_state.status, message)


def _raise_unless_ready(job_id: UUID, job_state: JobState) -> None:
    if job_state.status == StatusEnum.COMPLETED:
        return
    if job_state.status == StatusEnum.CANCELLED:
        raise IQMJobCancelledError(f"Job {job_id} was aborted; it has no results.")
    reason = job_state.message or "no reason given"
    raise compatible_error(
        IQMJobFailedError, f"Job {job_id} ended as '{job_state.server_status}': {reason}"
    )
