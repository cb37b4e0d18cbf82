"""Job execution off the HTTP threads: a pool of worker threads and the job pipeline.

A job walks ``received → pending compilation → pending execution → ready`` (or ``failed``),
resting ``stage_delay`` seconds in each stage the way a queued real server would, and holding
its worker ``job_overhead`` seconds before it executes (a device's fixed cost per job). Every
status change is conditional in the store, so an abort at any moment wins: a worker that finds
its job aborted stops, and results computed for an aborted job are discarded.

Aborting a running job (:meth:`WorkerPool.abort`) or stopping the server also stops its
simulation: each running job has a cancellation event that the simulator checks between gates,
so the worker is free again within one gate (on a Dask cluster, see :mod:`.execution`, the
job's tasks are cancelled instead). Queued jobs reach the workers round-robin by owner
(:mod:`.queue_policy`).
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from uuid import UUID

from pytket.extensions.iqm.emulator.devices.device import (
    Calibration,
    Device,
    UnknownCalibrationError,
)
from pytket.extensions.iqm.emulator.devices.noise import NoiseModel
from pytket.extensions.iqm.emulator.jobs.execution import (
    CircuitBatch,
    CircuitFailedError,
    CircuitRunner,
    LocalRunner,
    SimulationOptions,
    circuit_seeds,
)
from pytket.extensions.iqm.emulator.jobs.queue_policy import FairQueue
from pytket.extensions.iqm.emulator.jobs.results import encode_results, simulation_report
from pytket.extensions.iqm.emulator.jobs.spec import JobSpec, RejectedJob
from pytket.extensions.iqm.emulator.jobs.status import Status
from pytket.extensions.iqm.emulator.jobs.store import JobRecord, JobStore
from pytket.extensions.iqm.emulator.jobs.validation import JobValidationError, validate_job
from pytket.extensions.iqm.emulator.limits import (
    DEFAULT_MAX_ACTIVE_QUBITS,
    DEFAULT_MAX_BOND,
)
from pytket.extensions.iqm.emulator.memory_budget import SIMULATOR_MEMORY_BYTES

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ExecutionSettings:
    """How the worker runs jobs (the server's configuration, as far as jobs see it)."""

    noise: bool = True
    """Simulate with the calibration's noise model; ``False`` gives ideal results."""
    qiskit_fake_noise: bool = False
    """Build the noise model qiskit-iqm's fake backends use instead of the physical one."""
    pauli_noise: bool = False
    """Build the Pauli-twirled approximation of the physical noise model."""
    seed: int | None = None
    """Seed of the per-circuit random generators (see :func:`.execution.circuit_seeds`)."""
    stage_delay: float = 0.0
    """Seconds a job rests in each queue stage."""
    job_overhead: float = 0.0
    """Seconds a job holds its worker before executing (a device's fixed cost per job)."""
    max_active_qubits: int = DEFAULT_MAX_ACTIVE_QUBITS
    """Largest number of qubits a circuit may touch, whatever the simulation method."""
    mps_max_bond: int = DEFAULT_MAX_BOND
    """Bond-dimension cap of the matrix-product-state method."""
    default_max_duration_over_t2: float = 0.0
    """Duration limit of a job that gives none (``0``: no check)."""


class JobRunner:
    """Runs one job's pipeline against the served devices.

    :param store: where jobs live, with their plans.
    :param devices: served devices by name.
    :param settings: noise, seed, limits, delays.
    :param stop: set when the server shuts down; waiting stages end early and leave the job
        unfinished (it is resumed on the next start with the same database).
    :param circuits: where the circuits are simulated (default: in the job's worker thread).
    """

    def __init__(
        self,
        store: JobStore,
        devices: Mapping[str, Device],
        settings: ExecutionSettings,
        stop: threading.Event,
        circuits: CircuitRunner | None = None,
    ) -> None:
        self._circuits: CircuitRunner = circuits or LocalRunner()
        self._store = store
        self._devices = devices
        self._settings = settings
        self._stop = stop
        self._noise: dict[UUID, NoiseModel] = {}
        self._noise_lock = threading.Lock()

    def _noise_model(self, cal: Calibration) -> NoiseModel:
        with self._noise_lock:
            model = self._noise.get(cal.calibration_set_id)
            if model is None:
                model = NoiseModel.from_calibration(
                    cal,
                    qiskit_fake_compat=self._settings.qiskit_fake_noise,
                    pauli_twirled=self._settings.pauli_noise,
                )
                self._noise[cal.calibration_set_id] = model
            return model

    def close(self) -> None:
        """Release the circuit runner (e.g. the Dask client)."""
        self._circuits.close()

    def _stopped_or_terminal(self, job_id: UUID) -> bool:
        """Whether the server is stopping or the job was aborted (or otherwise ended)."""
        if self._stop.is_set():
            return True
        job = self._store.get(job_id)
        return job is None or job.terminal

    def _rest(self) -> bool:
        """Pause for one stage; ``False`` if the server is stopping."""
        return not self._stop.wait(self._settings.stage_delay)

    def _compile(self, job: JobRecord) -> tuple[JobSpec, Calibration]:
        device = self._devices.get(job.device)
        if device is None:
            raise JobValidationError(
                f"Device {job.device!r} is not served by this emulator any more; resubmit the "
                "job to a served device."
            )
        cal = device.calibration(job.calibration_set_id)
        try:
            plan = self._store.plan(job.id)
        except ValueError as error:
            raise JobValidationError(f"The stored job is not valid: {error}") from None
        if plan is None:
            raise JobValidationError("The stored job has no plan; resubmit it.")
        if isinstance(plan, RejectedJob):
            raise JobValidationError(plan.reason)
        validate_job(plan, cal, self._settings.default_max_duration_over_t2)
        return plan, cal

    def run(self, job_id: UUID, cancelled: threading.Event | None = None) -> None:
        """Take the job through its stages; returns early if it is aborted or the server stops.

        :param cancelled: set when the job is aborted or the server stops; the simulation
            checks it between gates.
        """
        store = self._store
        job = store.get(job_id)
        if job is None or job.terminal:
            return
        if not self._rest():
            return
        if not store.advance(job_id, Status.PENDING_COMPILATION, ("compile_start",)):
            return
        try:
            spec, cal = self._compile(job)
        except (JobValidationError, UnknownCalibrationError) as error:
            store.fail(job_id, str(error))
            return
        if not self._rest():
            return
        store.stamp(job_id, "compile_end")
        if not store.advance(job_id, Status.PENDING_EXECUTION):
            return
        if not self._rest():
            return
        current = store.get(job_id)
        if current is None or current.terminal:
            return
        store.stamp(job_id, "execution_start")
        # The job's own event is set by an abort as well as by a stop, so an aborted job
        # frees its worker at once instead of after the overhead.
        overhead_over = cancelled if cancelled is not None else self._stop
        if self._settings.job_overhead and overhead_over.wait(self._settings.job_overhead):
            return
        noise = self._noise_model(cal) if self._settings.noise else None
        batch = CircuitBatch(
            job_id=job_id,
            circuits=spec.circuits,
            options=SimulationOptions(
                shots=spec.shots,
                noise=noise,
                heralding_zeros=spec.heralding_zeros,
                max_active_qubits=self._settings.max_active_qubits,
                max_memory_bytes=SIMULATOR_MEMORY_BYTES,
                max_bond=self._settings.mps_max_bond,
            ),
            seeds=circuit_seeds(self._settings.seed, job.seq, len(spec.circuits)),
        )
        # The pool's cancellation event is cheap enough for the simulator's per-gate check;
        # a caller without one falls back to asking the store.
        should_stop = (
            cancelled.is_set
            if cancelled is not None
            else (lambda: self._stopped_or_terminal(job_id))
        )
        try:
            results = self._circuits.run(batch, should_stop)
        except CircuitFailedError as error:
            store.fail(job_id, str(error))
            return
        if results is None:  # aborted (the store says so already) or stopping (resumed later)
            return
        store.stamp(job_id, "execution_end")
        measurements, counts = encode_results(spec.circuits, results)
        store.finish(
            job_id, measurements, counts, simulation_json=simulation_report(spec.circuits, results)
        )


class WorkerPool:
    """Threads that take job ids off the fair queue and run them; aborts stop running jobs.

    :param runner: the job pipeline.
    :param store: where a job that crashed the pipeline is marked failed.
    :param workers: number of threads.
    :param stop: shared with ``runner``; set by :meth:`stop`.
    """

    def __init__(
        self, runner: JobRunner, store: JobStore, workers: int, stop: threading.Event
    ) -> None:
        self._runner = runner
        self._store = store
        self._queue = FairQueue()
        self._running: dict[UUID, threading.Event] = {}
        self._running_lock = threading.Lock()
        self._stop = stop
        self._threads = [
            threading.Thread(target=self._work, name=f"iqm-emulator-worker-{i}", daemon=True)
            for i in range(workers)
        ]

    def start(self) -> None:
        """Start the threads."""
        for thread in self._threads:
            thread.start()

    def submit(self, job_id: UUID, owner: str) -> None:
        """Queue a job for execution, in ``owner``'s line (see :mod:`.queue_policy`)."""
        self._queue.put(job_id, owner)

    def abort(self, job_id: UUID) -> bool:
        """Abort the job in the store and, if it is running, stop its simulation.

        :return: whether the job was aborted (``False``: it had already finished).
        """
        aborted = self._store.abort(job_id)
        if aborted:
            with self._running_lock:
                running = self._running.get(job_id)
            if running is not None:
                running.set()
        return aborted

    def _work(self) -> None:
        while not self._stop.is_set():
            job_id = self._queue.get()
            if job_id is None:
                return
            cancelled = threading.Event()
            with self._running_lock:
                self._running[job_id] = cancelled
            try:
                self._runner.run(job_id, cancelled)
            except Exception as error:  # a bug must fail the job, not kill the worker
                if self._stop.is_set():
                    return  # shutting down: the store may be closed; the job resumes on restart
                logger.exception("Job %s crashed the emulator's job pipeline", job_id)
                try:
                    self._store.fail(
                        job_id, f"Internal emulator error: {type(error).__name__}: {error}"
                    )
                except Exception:
                    logger.exception("Could not mark job %s as failed", job_id)
            finally:
                with self._running_lock:
                    self._running.pop(job_id, None)

    def stop(self, timeout: float = 5.0) -> None:
        """Stop the threads; a simulation in progress stops within a gate (its job stays
        unfinished, and is resumed by the next server on the same database)."""
        self._stop.set()
        with self._running_lock:
            for cancelled in self._running.values():
                cancelled.set()
        self._queue.close()
        for thread in self._threads:
            if thread.is_alive():
                thread.join(timeout)
        self._runner.close()
