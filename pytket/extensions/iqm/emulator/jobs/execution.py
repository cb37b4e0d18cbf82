"""Where a job's circuits are simulated: in the job's worker thread, or as Dask tasks.

The job pipeline (:mod:`.worker`) hands a :class:`CircuitBatch` to a :class:`CircuitRunner`:
:class:`LocalRunner` simulates the circuits one after another in the calling thread (the
default); :class:`DaskRunner` submits one task per circuit to a Dask cluster and collects the
results, so that the HTTP front end and the job store stay in this process while the
simulation spreads over the cluster's workers.

Every circuit gets its own random generator, spawned from the job's seed sequence, so a
circuit's result does not depend on where or in which order it runs: with a seed, both
runners give the same counts, and a task Dask runs again after its worker died gives the same
result as the first attempt would have.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Protocol
from uuid import UUID

import numpy as np

from pytket.extensions.iqm.cluster_extra import import_distributed
from pytket.extensions.iqm.emulator.devices.noise import NoiseModel
from pytket.extensions.iqm.emulator.scheduler_address import check_scheduler_address
from pytket.extensions.iqm.emulator.simulation.program import CircuitSpec
from pytket.extensions.iqm.emulator.simulation.result import (
    SimulationCancelledError,
    SimulationError,
    SimulationResult,
)
from pytket.extensions.iqm.emulator.simulation.simulator import simulate

SCHEDULER_CONNECT_TIMEOUT = 10.0
"""Seconds the emulator waits at start for the Dask scheduler to answer (Dask's default)."""

TASK_RETRIES = 2
"""Times a circuit's task is run again when it raised (a worker out of memory, a lost
connection). A task whose worker died is rescheduled by Dask itself, up to its
``distributed.scheduler.allowed-failures`` (default 3) deaths, then the job fails."""

ABORT_POLL_INTERVAL = 0.2
"""Seconds between two checks for an abort (or a server stop) while a job's tasks run."""

logger = logging.getLogger(__name__)


class CircuitFailedError(Exception):
    """A circuit of the job cannot be simulated; the message says which and why."""


@dataclass(frozen=True)
class SimulationOptions:
    """What simulating any circuit of a job needs besides the circuit and its seed."""

    shots: int
    noise: NoiseModel | None
    heralding_zeros: bool
    max_active_qubits: int
    max_memory_bytes: int
    """Most bytes of quantum states one simulation may hold (see :mod:`..memory_budget`)."""
    max_bond: int
    """Bond-dimension cap of the matrix-product-state method."""


@dataclass(frozen=True)
class CircuitBatch:
    """One job's circuits and what simulating them needs."""

    job_id: UUID
    circuits: Sequence[CircuitSpec]
    options: SimulationOptions
    seeds: Sequence[np.random.SeedSequence]
    """One seed sequence per circuit (see :func:`circuit_seeds`)."""


def circuit_seeds(seed: int | None, seq: int, count: int) -> list[np.random.SeedSequence]:
    """The seed sequences of the ``count`` circuits of the job with sequence number ``seq``.

    With a ``seed`` they depend only on ``(seed, seq)`` and the circuit's index, so
    resubmitting the same jobs in the same order to a fresh server reproduces their results;
    without one they come from fresh entropy.
    """
    root = np.random.SeedSequence() if seed is None else np.random.SeedSequence([seed, seq])
    return root.spawn(count)


def simulate_circuit(
    circuit: CircuitSpec,
    options: SimulationOptions,
    seed: np.random.SeedSequence,
    cancelled: Callable[[], bool] | None = None,
) -> SimulationResult | str:
    """Simulate one circuit; a circuit the simulator refuses gives its message instead.

    The message is returned, not raised, so that Dask does not retry a refusal that would
    only repeat.

    :param cancelled: checked by the simulator between gates (in-process runs only).
    :raises SimulationCancelledError: ``cancelled`` said stop.
    """
    try:
        return simulate(
            circuit.operations,
            options.shots,
            noise=options.noise,
            rng=np.random.default_rng(seed),
            heralding_zeros=options.heralding_zeros,
            max_active_qubits=options.max_active_qubits,
            max_memory_bytes=options.max_memory_bytes,
            cancelled=cancelled,
            max_bond=options.max_bond,
        )
    except SimulationCancelledError:
        raise  # a stop, not a refusal of the circuit
    except SimulationError as error:
        return str(error)


def _result_or_raise(
    batch: CircuitBatch, index: int, outcome: SimulationResult | str
) -> SimulationResult:
    if isinstance(outcome, str):
        name = batch.circuits[index].name
        raise CircuitFailedError(f"Circuit {name!r} (index {index}): {outcome}")
    return outcome


class CircuitRunner(Protocol):
    """Simulates a job's circuits."""

    def run(
        self, batch: CircuitBatch, should_stop: Callable[[], bool]
    ) -> list[SimulationResult] | None:
        """The circuits' results in order, or ``None`` if ``should_stop`` turned true first
        (the job was aborted or the server is stopping; its work is dropped).

        :raises CircuitFailedError: a circuit cannot be simulated, or its task failed for good.
        """
        ...

    def close(self) -> None:
        """Release the runner's resources (the server is stopping)."""
        ...


class LocalRunner:
    """Simulates the circuits one after another in the calling thread.

    ``should_stop`` is the simulator's per-gate cancellation check, so an abort or a server
    stop frees the thread within one gate.
    """

    def run(
        self, batch: CircuitBatch, should_stop: Callable[[], bool]
    ) -> list[SimulationResult] | None:
        try:
            return [
                _result_or_raise(
                    batch,
                    index,
                    simulate_circuit(circuit, batch.options, batch.seeds[index], should_stop),
                )
                for index, circuit in enumerate(batch.circuits)
            ]
        except SimulationCancelledError:
            return None  # stopped: aborted, or the server is stopping

    def close(self) -> None:
        return None


def _distributed() -> Any:
    return import_distributed(
        "Running the emulator's jobs on a Dask cluster",
        "leave dask_scheduler out to simulate in this process",
    )


class DaskRunner:
    """Simulates each circuit as a Dask task on the cluster of the scheduler at ``address``.

    :raises ImportError: Dask is not installed (the message names the extra).
    :raises ValueError: ``address`` is not a scheduler address.
    :raises ConnectionError: no scheduler answers at ``address``.
    """

    def __init__(self, address: str) -> None:
        check_scheduler_address(address)
        distributed = _distributed()
        self._address = address
        try:
            self._client = distributed.Client(
                address, timeout=SCHEDULER_CONNECT_TIMEOUT, set_as_default=False
            )
        except (OSError, TimeoutError) as error:
            raise ConnectionError(
                f"No Dask scheduler answered at {address!r} within "
                f"{SCHEDULER_CONNECT_TIMEOUT:g} s ({error}). Start one (dask scheduler) or "
                "fix --dask-scheduler."
            ) from None

    @property
    def address(self) -> str:
        """The scheduler's address."""
        return self._address

    def run(
        self, batch: CircuitBatch, should_stop: Callable[[], bool]
    ) -> list[SimulationResult] | None:
        futures = [
            self._client.submit(
                simulate_circuit,
                circuit,
                batch.options,
                batch.seeds[index],
                key=f"iqm-emulator-{batch.job_id}-{index}",
                retries=TASK_RETRIES,
                pure=False,
            )
            for index, circuit in enumerate(batch.circuits)
        ]
        outcomes = []
        for index, future in enumerate(futures):
            while True:
                try:
                    outcomes.append(future.result(timeout=ABORT_POLL_INTERVAL))
                    break
                except TimeoutError:
                    if should_stop():
                        self._client.cancel(futures)
                        return None
                except Exception as error:  # the task failed for good (retries, worker deaths)
                    self._client.cancel(futures)
                    raise CircuitFailedError(
                        f"Circuit {batch.circuits[index].name!r} (index {index}) could not be "
                        f"simulated on the Dask cluster: {type(error).__name__}: {error}"
                    ) from None
        return [_result_or_raise(batch, i, outcome) for i, outcome in enumerate(outcomes)]

    def close(self) -> None:
        self._client.close()
