"""Star-device benchmark: our MOVE insertion against the naive one, on the Deneb emulator device.

Usage (from the repository root)::

    python benchmarks/compile_deneb.py [--circuits DIR] [--levels 0,1,2]

Every suite circuit of at most 6 qubits is compiled once per level, two ways:

* **ours**: the backend's ``default_compilation_pass`` for Deneb as it is: candidate
  compilations, each completed by
  :func:`~pytket.extensions.iqm.backends.resonator.insert_moves` (states kept in the
  resonator across consecutive CZs, commuting gates reordered, moved qubit by look-ahead), the
  one with the best ESP (MOVEs included) kept;
* **naive**: the same ``default_compilation_pass`` on Deneb's simplified architecture (MOVE
  loci hidden, so it emits CZs between qubits), then
  :func:`~pytket.extensions.iqm.backends.resonator.naive_insert_moves` (one MOVE · CZ · MOVE
  per CZ, moved back after every gate, as a move-back-after-every-gate pass).

The table shows, per level, total MOVE and CZ counts of both, the geometric means over
circuits of the MOVE ratio (ours/naive) and the ESP ratio (ours/naive; ESP = ∏(1−e) over PRX,
CZ, MOVE and readouts), whether every output met the device's predicates, and the targets
(MOVE ≤ 0.7×, ESP ≥ 1.2×). ``run_deneb(...)`` is the entry point for ``compile.py --device
deneb``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from pytket.backends.backendinfo import BackendInfo
from pytket.circuit import Circuit, OpType
from pytket.qasm.qasm import circuit_from_qasm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._devices import device_info
from pytket.extensions.iqm.backends.passes import default_compilation_pass
from pytket.extensions.iqm.backends.resonator import (
    count_moves,
    naive_insert_moves,
    resonator_predicates,
    star_success_probability,
)

DEVICE = "deneb"
MAX_QUBITS = 6
MOVE_TARGET = 0.7
ESP_TARGET = 1.2


def deneb_info() -> BackendInfo:
    """The ``BackendInfo`` the backend builds for the emulator's Deneb (default calibration)."""
    return device_info(DEVICE)


def load_circuits(directory: Path) -> dict[str, Circuit]:
    """Suite circuits that fit on Deneb, by file stem, in manifest order."""
    manifest = json.loads((directory / "manifest.json").read_text())
    found = {}
    for entry in manifest["circuits"]:
        if entry["n_qubits"] <= MAX_QUBITS:
            found[entry["file"].removesuffix(".qasm")] = circuit_from_qasm(
                directory / entry["file"]
            )
    return found


@dataclass
class Row:
    """One circuit at one level: the backend's output against the naive MOVE insertion."""

    name: str
    moves: int
    naive_moves: int
    cz: int
    naive_cz: int
    esp: float
    naive_esp: float
    valid: bool


def compare(name: str, circuit: Circuit, info: BackendInfo, level: int) -> Row:
    """Compile ``circuit`` at ``level`` with the backend's pass, and the naive way."""
    # Naive: our own compilation for the simplified architecture (MOVE loci hidden, so no
    # MOVEs yet), then one MOVE sandwich per CZ. Ours: exactly what the backend emits, i.e. the
    # candidate compilations it tries, each with its MOVE insertion, the best ESP kept.
    routed = circuit.copy()
    without_moves = dataclasses.replace(info, misc={**info.misc, "move_loci": []})
    default_compilation_pass(without_moves, level).apply(routed)
    naive = naive_insert_moves(routed, info)
    ours = circuit.copy()
    default_compilation_pass(info, level).apply(ours)
    predicates = resonator_predicates(info)
    return Row(
        name=name,
        moves=count_moves(ours),
        naive_moves=count_moves(naive),
        cz=ours.n_gates_of_type(OpType.CZ),
        naive_cz=naive.n_gates_of_type(OpType.CZ),
        esp=star_success_probability(ours, info),
        naive_esp=star_success_probability(naive, info),
        valid=all(p.verify(ours) for p in predicates),
    )


def geometric_mean(values: list[float]) -> float:
    """Geometric mean of positive numbers (1 for none)."""
    if not values:
        return 1.0
    return math.exp(sum(math.log(v) for v in values) / len(values))


def move_ratio(ours: int, naive: int) -> float:
    """MOVE ratio of one circuit; a circuit with no MOVE on either side counts as 1."""
    return 1.0 if naive == 0 else ours / naive


def run_deneb(circuits_dir: Path, levels: list[int], verbose: bool = True) -> dict[int, list[Row]]:
    """Print the Deneb table (and per-circuit rows if ``verbose``); return the rows by level."""
    info = deneb_info()
    circuits = load_circuits(circuits_dir)
    print(f"device {DEVICE}: {len(circuits)} circuits of at most {MAX_QUBITS} qubits")
    header = (
        f"{'level':>5} {'MOVE ours':>9} {'MOVE naive':>10} {'CZ ours':>7} {'CZ naive':>8} "
        f"{'gm MOVE ratio':>13} {'gm ESP ratio':>12} {'valid':>5}"
    )
    results: dict[int, list[Row]] = {}
    lines = []
    for level in levels:
        rows = [compare(name, c, info, level) for name, c in circuits.items()]
        results[level] = rows
        if verbose:
            for r in rows:
                print(
                    f"  L{level} {r.name:<20} MOVE {r.moves:>4} / {r.naive_moves:<4} "
                    f"CZ {r.cz:>4} / {r.naive_cz:<4} ESP {r.esp:.4f} / {r.naive_esp:.4f}"
                )
        gm_move = geometric_mean([move_ratio(r.moves, r.naive_moves) for r in rows])
        gm_esp = geometric_mean([r.esp / r.naive_esp for r in rows])
        lines.append(
            f"{level:>5} {sum(r.moves for r in rows):>9} {sum(r.naive_moves for r in rows):>10} "
            f"{sum(r.cz for r in rows):>7} {sum(r.naive_cz for r in rows):>8} "
            f"{gm_move:>13.3f} {gm_esp:>12.3f} "
            f"{'yes' if all(r.valid for r in rows) else 'NO':>5}"
        )
    print(header)
    for line in lines:
        print(line)
    print(f"targets: gm MOVE ratio <= {MOVE_TARGET}, gm ESP ratio >= {ESP_TARGET}")
    return results


def main() -> None:
    """Command-line entry point."""
    root = Path(__file__).resolve().parents[1]
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--circuits", type=Path, default=root.parent / "shared" / "bench-circuits")
    parser.add_argument("--levels", default="0,1,2")
    parser.add_argument("--quiet", action="store_true", help="table only")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    run_deneb(args.circuits, levels, verbose=not args.quiet)


if __name__ == "__main__":
    main()
