"""How the store keeps a job's results: measurements and counts as JSON text.

The text is REST v1's ``measurements`` and ``counts_batch`` JSON, built straight from numpy
arrays, so the REST v1 routes splice it into their answers unparsed; the IQM Server API's
payloads read it back into their own shape.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import numpy as np

from pytket.extensions.iqm.emulator.simulation.program import CircuitSpec
from pytket.extensions.iqm.emulator.simulation.simulator import SimulationResult


def bits_json(bits: np.ndarray) -> str:
    """JSON text of a ``(shots, n)`` 0/1 array as a list of lists, built without Python lists.

    ``json.dumps(bits.tolist())`` gives the same text (without spaces) but is many times slower
    for 100 000 shots.
    """
    shots, n = bits.shape
    if shots == 0:
        return "[]"
    if n == 0:
        return "[" + ",".join(["[]"] * shots) + "]"
    # Each row is "[b,b,...,b]," : '[' at 0, digits at odd positions, ']' at 2n, ',' at 2n+1.
    row = np.empty((shots, 2 * n + 2), dtype=np.uint8)
    row[:, 0] = ord("[")
    row[:, 1 : 2 * n : 2] = bits + ord("0")
    row[:, 2 : 2 * n : 2] = ord(",")
    row[:, 2 * n] = ord("]")
    row[:, 2 * n + 1] = ord(",")
    return "[" + row.tobytes()[:-1].decode("ascii") + "]"


def bitstring_counts(bits: np.ndarray) -> dict[str, int]:
    """Histogram of the rows of a ``(shots, n)`` 0/1 array, as bitstrings (first column first)."""
    shots, n = bits.shape
    if n == 0:
        return {"": shots} if shots else {}
    if n <= 62:
        # Rows as integers: np.unique on a 1-D integer array is much faster than on rows.
        weights = np.left_shift(np.int64(1), np.arange(n - 1, -1, -1, dtype=np.int64))
        values, numbers = np.unique(bits.astype(np.int64) @ weights, return_counts=True)
        return {format(int(v), f"0{n}b"): int(k) for v, k in zip(values, numbers, strict=True)}
    rows, numbers = np.unique(bits, axis=0, return_counts=True)
    return {"".join(map(str, r.tolist())): int(k) for r, k in zip(rows, numbers, strict=True)}


def encode_results(
    circuits: Sequence[CircuitSpec], results: Sequence[SimulationResult]
) -> tuple[str, str]:
    """``(measurements_json, counts_json)`` as the store keeps them (REST v1's JSON).

    Counts keys are the circuit's measurement keys in instruction order; a bitstring is the
    concatenation of those keys' bits, each key's bits in the order of its measured qubits.
    """
    batch: list[str] = []
    counts_batch: list[dict[str, object]] = []
    for circuit, result in zip(circuits, results, strict=True):
        keys = [str(op.key) for op in circuit.operations if op.name == "measure"]
        arrays = [np.asarray(result.measurements[k], dtype=np.uint8) for k in keys]
        batch.append(
            "{"
            + ",".join(f"{json.dumps(k)}:{bits_json(a)}" for k, a in zip(keys, arrays, strict=True))
            + "}"
        )
        bits = (
            np.concatenate(arrays, axis=1)
            if arrays
            else np.zeros((result.shots_kept, 0), dtype=np.uint8)
        )
        counts_batch.append({"measurement_keys": keys, "counts": bitstring_counts(bits)})
    return "[" + ",".join(batch) + "]", json.dumps(counts_batch)


def simulation_report(circuits: Sequence[CircuitSpec], results: Sequence[SimulationResult]) -> str:
    """JSON list, one entry per circuit: its name, the simulation method and, for the
    matrix-product state, its accuracy (largest discarded weight and bond dimension)."""
    report: list[dict[str, object]] = []
    for circuit, result in zip(circuits, results, strict=True):
        entry: dict[str, object] = {"circuit": circuit.name, "method": result.method}
        if result.discarded_weight is not None:
            entry["discarded_weight"] = result.discarded_weight
        if result.bond_dimension is not None:
            entry["bond_dimension"] = result.bond_dimension
        report.append(entry)
    return json.dumps(report)
