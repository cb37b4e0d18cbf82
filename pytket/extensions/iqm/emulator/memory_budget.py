"""What bounds the emulator's memory, as named numbers: the statement in the docs is built from
these (total = workers × (simulator cap + result bound) + the server's own footprint).

* The simulator holds at most :data:`SIMULATOR_MEMORY_BYTES` of quantum states per job; each
  worker runs one job at a time.
* A job's result holds circuits × shots × measured qubits bits; a job whose result would exceed
  ``max_result_bits`` is refused at submission, so encoding, storing and answering a result
  costs at most :data:`RESULT_BYTES_PER_BIT` bytes per bit of that limit.
* The default number of workers is the number of cores this process may use, fewer when half
  of the machine's memory would not hold that many workers' bounds.
"""

from __future__ import annotations

import os

SIMULATOR_MEMORY_BYTES = 2 << 30
"""Quantum states one simulation may hold at once (the simulator refuses larger jobs)."""

DEFAULT_MAX_RESULT_BITS = 50_000_000
"""Largest result a job may ask for, in bits (circuits × shots × measured qubits): 100 000
shots of 25 circuits measuring 20 qubits each. Encoded, such a result is about 100 MB of JSON;
see :data:`RESULT_BYTES_PER_BIT` for its peak cost."""

RESULT_BYTES_PER_BIT = 12
"""Peak bytes per result bit while a worker encodes and stores a result and a client fetches it
(bit arrays, JSON text, its compressed copy, the answer's body), measured with
``benchmarks/sharing.py`` (docs: reliability, measured table) and rounded up."""

SERVER_BASE_BYTES = 512 << 20
"""The server's own footprint without jobs (Python, numpy, FastAPI, device data), rounded up
from the measured idle RSS."""

MEMORY_SHARE = 0.5
"""Share of the machine's memory the default worker count may plan for."""


def worker_memory_bytes(max_result_bits: int = DEFAULT_MAX_RESULT_BITS) -> int:
    """The most one worker's job costs: its quantum states and its result."""
    return SIMULATOR_MEMORY_BYTES + max_result_bits * RESULT_BYTES_PER_BIT


def memory_bound_bytes(workers: int, max_result_bits: int = DEFAULT_MAX_RESULT_BITS) -> int:
    """The emulator's documented memory bound with ``workers`` workers."""
    return SERVER_BASE_BYTES + workers * worker_memory_bytes(max_result_bits)


def result_too_large(measured_qubits: int, shots: int, max_result_bits: int) -> str | None:
    """Why a job's result is too large (``None`` if it fits): ``measured_qubits`` is the sum
    over its circuits of the qubits each measures."""
    bits = measured_qubits * shots
    if bits <= max_result_bits:
        return None
    return (
        f"The job's result would hold {bits:,} bits (circuits x shots x measured qubits: "
        f"{measured_qubits:,} measured qubits x {shots:,} shots), more than this server's limit "
        f"of {max_result_bits:,} (max_result_bits). Use fewer shots or circuits, or split the job."
    )


def physical_memory_bytes() -> int:
    """This machine's memory (0 if the system does not say)."""
    try:
        return int(os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):
        return 0


def usable_cores() -> int:
    """Cores this process may run on."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        return os.cpu_count() or 1


def default_workers(max_result_bits: int = DEFAULT_MAX_RESULT_BITS) -> int:
    """One worker per usable core, fewer when :data:`MEMORY_SHARE` of the machine's memory
    would not hold their bounds; at least one."""
    memory = physical_memory_bytes()
    by_memory = int(memory * MEMORY_SHARE) // worker_memory_bytes(max_result_bits) if memory else 1
    return max(1, min(usable_cores(), by_memory))


__all__ = [
    "DEFAULT_MAX_RESULT_BITS",
    "MEMORY_SHARE",
    "RESULT_BYTES_PER_BIT",
    "SERVER_BASE_BYTES",
    "SIMULATOR_MEMORY_BYTES",
    "default_workers",
    "memory_bound_bytes",
    "physical_memory_bytes",
    "result_too_large",
    "usable_cores",
    "worker_memory_bytes",
]
