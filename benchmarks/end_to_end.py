"""End-to-end throughput: batched IQMBackend against the incumbent's one-job-per-circuit pattern.

    python benchmarks/end_to_end.py [--circuits 100] [--shots 100] [--device garnet]

Both run in the same process against the same noiseless emulator, on the same compiled circuits.
The incumbent pattern (pytket-iqm 0.18) is reproduced with ``IQMClient`` directly: one
``submit_circuits`` per circuit without a calibration set id, each awaited in turn with
``wait_for_results`` at iqm-client's default poll interval. HTTP requests are counted on the
client side. A second table times the conversion of 10^6 shots x 20 bits into a BackendResult.
"""

from __future__ import annotations

import argparse
import random
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import numpy as np
import requests
from iqm.iqm_client import IQMClient
from pytket.circuit import Bit, Circuit

from pytket.extensions.iqm import IQMBackend
from pytket.extensions.iqm.backends.connection.rest_v1 import _client_circuit
from pytket.extensions.iqm.backends.results import measurements_to_result
from pytket.extensions.iqm.backends.translation import MeasurementLayout, circuit_to_iqm
from pytket.extensions.iqm.emulator import IQMEmulator


@contextmanager
def counted_requests() -> Iterator[list[int]]:
    """Count every HTTP request made through ``requests`` (iqm-client's transport)."""
    counter = [0]
    original = requests.Session.request

    def counting(self: requests.Session, *args: Any, **kwargs: Any) -> requests.Response:
        counter[0] += 1
        return original(self, *args, **kwargs)

    requests.Session.request = counting  # type: ignore[method-assign]
    try:
        yield counter
    finally:
        requests.Session.request = original  # type: ignore[method-assign]


def random_circuits(count: int, seed: int) -> list[Circuit]:
    """Different small circuits: random single-qubit gates and CX on 3 to 6 qubits."""
    rng = random.Random(seed)
    circuits = []
    for index in range(count):
        width = rng.randint(3, 6)
        circuit = Circuit(width, width, name=f"random_{index}")
        for _ in range(rng.randint(4, 12)):
            qubit = rng.randrange(width)
            choice = rng.random()
            if choice < 0.4:
                circuit.Rx(rng.uniform(0, 2), qubit)
            elif choice < 0.7:
                circuit.Ry(rng.uniform(0, 2), qubit)
            else:
                other = rng.choice([q for q in range(width) if q != qubit])
                circuit.CX(qubit, other)
        circuits.append(circuit.measure_all())
    return circuits


def timed(action: Callable[[], Any]) -> tuple[float, Any]:
    start = time.perf_counter()
    value = action()
    return time.perf_counter() - start, value


def run_ours(backend: IQMBackend, circuits: list[Circuit], shots: int) -> tuple[float, int, int]:
    def submit_and_fetch() -> list[Any]:
        handles = backend.process_circuits(circuits, n_shots=shots)
        backend.get_results(handles)
        return handles

    with counted_requests() as http_requests:
        elapsed, handles = timed(submit_and_fetch)
    jobs = len({str(handle[0]) for handle in handles})
    return elapsed, jobs, http_requests[0]


def run_incumbent_pattern(url: str, circuits: list[Circuit], shots: int) -> tuple[float, int, int]:
    # iqm-client 22's own circuit type, as the incumbent submitted.
    iqm_circuits = [
        _client_circuit(circuit_to_iqm(circuit, circuit.name or "c")[0]) for circuit in circuits
    ]
    with counted_requests() as http_requests:
        client = IQMClient(url)

        def one_job_per_circuit() -> int:
            for iqm_circuit in iqm_circuits:
                job_id = client.submit_circuits([iqm_circuit], shots=shots)
                client.wait_for_results(job_id)
            return len(iqm_circuits)

        elapsed, jobs = timed(one_job_per_circuit)
    return elapsed, jobs, http_requests[0]


def time_conversion(*, as_lists: bool, shots: int = 1_000_000, bits: int = 20) -> float:
    """Seconds to turn raw measurements into a BackendResult.

    ``as_lists`` gives the data as iqm-client returns it (JSON lists of one-element lists);
    otherwise numpy arrays.
    """
    rng = np.random.default_rng(1)
    layout_bits = tuple(Bit("c", index) for index in range(bits))
    layout = MeasurementLayout(bits=layout_bits, keys=tuple(str(bit) for bit in layout_bits))
    # The server's order of keys need not be the bit order: shuffle it.
    keys = [str(bit) for bit in layout_bits]
    random.Random(2).shuffle(keys)
    arrays = {key: rng.integers(0, 2, size=(shots, 1), dtype=np.uint8) for key in keys}
    measurements: dict[str, Any] = (
        {key: array.tolist() for key, array in arrays.items()} if as_lists else arrays
    )
    elapsed, _ = timed(lambda: measurements_to_result(measurements, layout))
    return elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--circuits", type=int, default=100)
    parser.add_argument("--shots", type=int, default=100)
    parser.add_argument("--device", default="garnet")
    arguments = parser.parse_args()

    with IQMEmulator(device=arguments.device, noise=False, seed=1) as emulator:
        backend = IQMBackend(emulator.url)
        circuits = backend.get_compiled_circuits(random_circuits(arguments.circuits, seed=7))
        ours = run_ours(backend, circuits, arguments.shots)
        incumbent = run_incumbent_pattern(emulator.url, circuits, arguments.shots)

    row = "{:<36}{:>14}{:>8}{:>16}"
    print(
        f"\n{arguments.circuits} compiled circuits x {arguments.shots} shots on {arguments.device}"
    )
    print(row.format("", "wall time (s)", "jobs", "HTTP requests"))
    for label, (seconds, jobs, http_requests) in (
        ("incumbent pattern (1 job/circuit)", incumbent),
        ("pytket-iqm process_circuits", ours),
    ):
        print(row.format(label, f"{seconds:.2f}", jobs, http_requests))
    ratios = (f"{incumbent[0] / ours[0]:.1f}x", "", f"{incumbent[2] / ours[2]:.1f}x")
    print(row.format("ratio (incumbent / ours)", *ratios))
    print("target: >= 20x less wall time")

    print("\nconvert 10^6 shots x 20 bits to a BackendResult (target <= 1 s):")
    print(f"  from iqm-client's JSON lists: {time_conversion(as_lists=True):.3f} s")
    print(f"  from numpy arrays:            {time_conversion(as_lists=False):.3f} s")


if __name__ == "__main__":
    main()
