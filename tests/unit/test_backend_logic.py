"""Backend logic on an in-process fake connection (``IQMBackend.from_connection``), where HTTP is
not the point: what the backend asks the connection, and what it makes of the answers. The same
paths over real HTTP are the e2e tests'."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any
from uuid import UUID, uuid4

import pytest
from pytket.backends.status import StatusEnum
from pytket.circuit import Circuit

from pytket.extensions.iqm import IQMBackend
from pytket.extensions.iqm.backends.architecture import DynamicArchitecture
from pytket.extensions.iqm.backends.connection.credentials import Credentials
from pytket.extensions.iqm.backends.connection.installed import installed_api_line
from pytket.extensions.iqm.backends.connection.interface import ServerConnection
from pytket.extensions.iqm.backends.connection.types import JobRecord, JobState, RunOptions
from pytket.extensions.iqm.backends.metadata import JobMetadata
from pytket.extensions.iqm.backends.translation import IQMCircuit

CALIBRATION = UUID("26c5e70f-bea0-43af-bd37-6212ec7d04cb")


def _gate(loci: list[list[str]], implementation: str) -> dict[str, Any]:
    return {
        "implementations": {implementation: {"loci": loci}},
        "default_implementation": implementation,
        "override_default_implementation": {},
    }


class FakeConnection(ServerConnection):
    """A three-qubit line whose jobs complete at once, every shot measuring all ones; records
    what the backend asks."""

    api_line = installed_api_line()

    def __init__(self) -> None:
        super().__init__(
            "fake://server",
            "line3",
            Credentials("none", "no credentials"),
            retry=None,
            sleep=lambda _: None,
        )
        self.submitted: list[tuple[list[IQMCircuit], int, UUID | None, RunOptions]] = []
        self.jobs: dict[UUID, tuple[list[IQMCircuit], int]] = {}
        self.waits: list[tuple[UUID, float | None, float]] = []

    def dynamic_architecture(self, calibration_set_id: UUID | None) -> DynamicArchitecture:
        qubits = ["QB1", "QB2", "QB3"]
        return DynamicArchitecture.from_json(
            {
                "calibration_set_id": str(CALIBRATION),
                "qubits": qubits,
                "computational_resonators": [],
                "gates": {
                    "prx": _gate([[q] for q in qubits], "drag_gaussian"),
                    "measure": _gate([[q] for q in qubits], "constant"),
                    "cz": _gate([["QB1", "QB2"], ["QB2", "QB3"]], "tgss"),
                },
            }
        )

    def quality_metrics(self, calibration_set_id: UUID) -> dict[str, Any] | None:
        return None

    def submit(
        self,
        circuits: Sequence[IQMCircuit],
        *,
        shots: int,
        calibration_set_id: UUID | None,
        options: RunOptions,
    ) -> UUID:
        self.submitted.append((list(circuits), shots, calibration_set_id, options))
        job_id = uuid4()
        self.jobs[job_id] = (list(circuits), shots)
        return job_id

    def state(self, job_id: UUID, *, deadline: float | None = None) -> JobState:
        return JobState(StatusEnum.COMPLETED, "ready")

    def record(self, job_id: UUID) -> JobRecord:
        circuits, shots = self.jobs[job_id]
        measurements = [
            {
                instruction.args["key"]: [[1]] * shots
                for instruction in circuit.instructions
                if instruction.name == "measure"
            }
            for circuit in circuits
        ]
        return JobRecord(JobState(StatusEnum.COMPLETED, "ready"), measurements)

    def wait(self, job_id: UUID, *, timeout: float | None, poll_interval: float) -> JobState:
        self.waits.append((job_id, timeout, poll_interval))
        return self.state(job_id)

    def job_metadata(
        self,
        job_id: UUID,
        record: JobRecord,
        *,
        circuit_index: int,
        qubit_mapping: Sequence[tuple[str, str]],
    ) -> JobMetadata:
        raise AssertionError("not used")

    def abort(self, job_id: UUID) -> None:
        raise AssertionError("not used")

    def close(self) -> None:
        pass

    def _translated(
        self,
        error: BaseException,
        action: str,
        *,
        not_found: Exception | None = None,
        attempts: str = "",
    ) -> Exception:
        return RuntimeError(f"{action}: {error}")


@pytest.fixture
def connection() -> FakeConnection:
    return FakeConnection()


def _x_all(backend: IQMBackend) -> Circuit:
    return backend.get_compiled_circuit(Circuit(3, 3).X(0).X(1).X(2).measure_all())


def test_a_backend_on_a_connection_reads_the_device_through_it(connection: FakeConnection) -> None:
    backend = IQMBackend.from_connection(connection, poll_interval=2.5)
    assert backend.calibration_set_id == CALIBRATION
    assert backend.backend_info.n_nodes == 3
    assert backend.url == "fake://server"
    assert backend.api == installed_api_line().value


def test_one_job_per_batch_with_the_calibration_and_shots(connection: FakeConnection) -> None:
    backend = IQMBackend.from_connection(connection)
    circuit = _x_all(backend)
    handles = backend.process_circuits([circuit, circuit], n_shots=7)
    assert len(connection.submitted) == 1
    circuits, shots, calibration, _ = connection.submitted[0]
    assert (len(circuits), shots, calibration) == (2, 7, CALIBRATION)
    assert [backend.get_result(h).get_counts() for h in handles] == [{(1, 1, 1): 7}] * 2


def test_wait_is_the_polling_interval_and_defaults_to_the_backends(
    connection: FakeConnection,
) -> None:
    backend = IQMBackend.from_connection(connection, poll_interval=2.5)
    circuit = _x_all(backend)
    first, second = (
        backend.process_circuits([circuit], n_shots=3),
        backend.process_circuits([circuit], n_shots=3),
    )
    backend.get_result(first[0], wait=0.25, timeout=10)
    backend.get_result(second[0])
    assert [(timeout, interval) for _, timeout, interval in connection.waits] == [
        (10.0, 0.25),
        (900.0, 2.5),
    ]


def test_limits_are_checked_before_the_connection_is_used() -> None:
    class Untouchable(FakeConnection):
        def dynamic_architecture(self, calibration_set_id: UUID | None) -> DynamicArchitecture:
            raise AssertionError("the connection was used")

    with pytest.raises(ValueError, match="poll_interval must be positive, not 0"):
        IQMBackend.from_connection(Untouchable(), poll_interval=0)
