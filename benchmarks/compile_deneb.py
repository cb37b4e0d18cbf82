"""Star-device benchmark: our MOVE handling against the naive one, on the Deneb emulator device.

Usage (from the repository root)::

    python benchmarks/compile_deneb.py [--circuits DIR] [--levels 0,1,2,3]

Every suite circuit of at most 6 qubits is compiled once per level, three ways:

* **ours**: the backend's ``default_compilation_pass`` for Deneb as it is: candidate
  compilations, each completed by
  :func:`~pytket.extensions.iqm.backends.compilation.move_insertion.insert_moves` (states kept
  in the resonator across consecutive CZs, commuting gates reordered, moved qubit by
  look-ahead), the one with the best ESP (MOVEs included) kept;
* **naive** (the reference of the targets): what a pytket user had before, the incumbent's
  pass sequence (``_baseline.py``, same level, level 3 → 2) on Deneb's simplified qubit-qubit
  architecture, then
  :func:`~pytket.extensions.iqm.backends.compilation.move_insertion.naive_insert_moves`: one
  MOVE · CZ · MOVE per CZ, moving back after every gate, as qiskit-iqm's naive pass does;
* **naive on ours**: our own compilation for the simplified architecture with the same naive
  MOVE insertion. Against it only the MOVE handling counts (both share our CZ savings).

The table shows, per level, total MOVE and CZ counts, the geometric means over circuits of the
MOVE ratio and the ESP ratio (ESP = ∏(1−e) over PRX, CZ, MOVE and readouts) against both
references, whether every output met the device's predicates, and the targets (against the
naive reference: MOVE ≤ 0.7×, ESP ≥ 1.2×). ``run_deneb(...)`` is the entry point for
``compile.py --device deneb``.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import math
import sys
from dataclasses import dataclass
from pathlib import Path

from pytket.architecture import Architecture
from pytket.backends.backendinfo import BackendInfo
from pytket.circuit import Circuit, OpType
from pytket.qasm.qasm import circuit_from_qasm

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._baseline import baseline_pass
from benchmarks._suite import SUITE_DIR
from pytket.extensions.iqm.backends.compilation.levels import default_compilation_pass
from pytket.extensions.iqm.backends.compilation.move_insertion import naive_insert_moves
from pytket.extensions.iqm.backends.compilation.star_device import count_moves, resonator_predicates
from pytket.extensions.iqm.backends.compilation.success import star_success_probability
from pytket.extensions.iqm.devices import backend_info

DEVICE = "deneb"
MAX_QUBITS = 6
MOVE_TARGET = 0.7
ESP_TARGET = 1.2
COLUMNS = ("ours", "naive", "naive_on_ours")
"""The ``Row`` fields whose totals the table shows, in order."""


def deneb_info() -> BackendInfo:
    """The ``BackendInfo`` the backend builds for the emulator's Deneb (default calibration)."""
    return backend_info(DEVICE)


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


@dataclass(frozen=True)
class Figures:
    """One compiled circuit: its MOVE and CZ counts and its ESP (MOVEs included)."""

    moves: int
    cz: int
    esp: float

    @classmethod
    def of(cls, circuit: Circuit, info: BackendInfo) -> Figures:
        """Count ``circuit``'s MOVEs and CZs and estimate its success probability."""
        return cls(
            count_moves(circuit),
            circuit.n_gates_of_type(OpType.CZ),
            star_success_probability(circuit, info),
        )


@dataclass
class Row:
    """One circuit at one level: the backend's output against both naive references."""

    name: str
    ours: Figures
    naive: Figures
    naive_on_ours: Figures
    valid: bool


def _simplified(info: BackendInfo) -> BackendInfo:
    """Deneb with its MOVE loci hidden: the qubit-qubit architecture, on which compilers emit
    CZs between qubits and no MOVEs."""
    return dataclasses.replace(info, misc={**info.misc, "move_loci": []})


def compare(name: str, circuit: Circuit, info: BackendInfo, level: int) -> Row:
    """Compile ``circuit`` at ``level`` with the backend's pass and both naive ways."""
    architecture = info.architecture
    assert isinstance(architecture, Architecture)  # backend_info always builds one
    incumbent = circuit.copy()
    baseline_pass(architecture, min(level, 2)).apply(incumbent)
    ours_without_moves = circuit.copy()
    default_compilation_pass(_simplified(info), level).apply(ours_without_moves)
    ours = circuit.copy()
    default_compilation_pass(info, level).apply(ours)
    return Row(
        name=name,
        ours=Figures.of(ours, info),
        naive=Figures.of(naive_insert_moves(incumbent, info), info),
        naive_on_ours=Figures.of(naive_insert_moves(ours_without_moves, info), info),
        valid=all(p.verify(ours) for p in resonator_predicates(info)),
    )


def geometric_mean(values: list[float]) -> float:
    """Geometric mean of positive numbers (1 for none)."""
    if not values:
        return 1.0
    return math.exp(sum(math.log(v) for v in values) / len(values))


def move_ratio(ours: int, naive: int) -> float:
    """MOVE ratio of one circuit; a circuit with no MOVE on either side counts as 1."""
    return 1.0 if naive == 0 else ours / naive


@dataclass(frozen=True)
class Summary:
    """One level against one reference: geometric-mean MOVE and ESP ratios."""

    move_ratio: float
    esp_ratio: float

    @classmethod
    def of(cls, rows: list[Row], reference: str) -> Summary:
        """Summarise ``rows`` against the reference named ``reference`` (a ``Row`` field)."""
        pairs = [(r.ours, getattr(r, reference)) for r in rows]
        return cls(
            geometric_mean([move_ratio(o.moves, n.moves) for o, n in pairs]),
            geometric_mean([o.esp / n.esp for o, n in pairs]),
        )


def run_deneb(circuits_dir: Path, levels: list[int], verbose: bool = True) -> dict[int, list[Row]]:
    """Print the Deneb table (and per-circuit rows if ``verbose``); return the rows by level."""
    info = deneb_info()
    circuits = load_circuits(circuits_dir)
    print(f"device {DEVICE}: {len(circuits)} circuits of at most {MAX_QUBITS} qubits")
    print("naive = incumbent's pass + move back after every gate; naive/ours = our pass + same")
    header = (
        f"{'level':>5} {'MOVE ours/naive/naive-ours':>26} {'CZ ours/naive/naive-ours':>24} "
        f"{'gm MOVE ratio':>13} {'gm ESP ratio':>12} {'vs naive-ours':>13} {'valid':>5}"
    )
    results: dict[int, list[Row]] = {}
    lines = []
    for level in levels:
        rows = [compare(name, c, info, level) for name, c in circuits.items()]
        results[level] = rows
        if verbose:
            for r in rows:
                print(
                    f"  L{level} {r.name:<20} MOVE {r.ours.moves:>4} / {r.naive.moves:<4}"
                    f" / {r.naive_on_ours.moves:<4} CZ {r.ours.cz:>4} / {r.naive.cz:<4}"
                    f" / {r.naive_on_ours.cz:<4} ESP {r.ours.esp:.4f} / {r.naive.esp:.4f}"
                    f" / {r.naive_on_ours.esp:.4f}"
                )
        naive = Summary.of(rows, "naive")
        alone = Summary.of(rows, "naive_on_ours")
        moves = "/".join(str(sum(getattr(r, column).moves for r in rows)) for column in COLUMNS)
        czs = "/".join(str(sum(getattr(r, column).cz for r in rows)) for column in COLUMNS)
        lines.append(
            f"{level:>5} {moves:>26} {czs:>24} {naive.move_ratio:>13.3f} {naive.esp_ratio:>12.3f}"
            f" {f'{alone.move_ratio:.3f}/{alone.esp_ratio:.3f}':>13}"
            f" {'yes' if all(r.valid for r in rows) else 'NO':>5}"
        )
    print(header)
    for line in lines:
        print(line)
    print(f"targets (against naive): gm MOVE ratio <= {MOVE_TARGET}, gm ESP ratio >= {ESP_TARGET}")
    return results


def main() -> None:
    """Command-line entry point."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--circuits", type=Path, default=SUITE_DIR)
    parser.add_argument("--levels", default="0,1,2,3")
    parser.add_argument("--quiet", action="store_true", help="table only")
    args = parser.parse_args()
    levels = [int(x) for x in args.levels.split(",")]
    run_deneb(args.circuits, levels, verbose=not args.quiet)


if __name__ == "__main__":
    main()
