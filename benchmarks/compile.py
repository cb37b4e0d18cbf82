"""Compilation benchmark: our levels 0–3 against the incumbent's levels 0–2, side by side.

Usage (from the repository root)::

    python benchmarks/compile.py [--device garnet|adonis|emerald|all] [--levels 0,1,2,3]
                                 [--quick] [--repeats N] [--circuits DIR]

Each device's ``BackendInfo`` comes from the emulator's catalogue through the same path as the
backend's (DQA and quality-metric payloads → iqm-client models → ``device_from_dqa``). For
every device and level the table shows total CZ and PRX, the geometric-mean ratios of CZ count
and estimated success probability (ESP, ∏(1−e) over PRX, CZ and readouts) against the
baseline's level 2, and the median per-circuit compile time (each circuit compiled
``--repeats`` times, level 3 once, median kept; configurations interleaved circuit by circuit
so that machine load hits all alike). CZ ratios of a circuit where one side has no CZ use
(a+1)/(b+1); when both have none the ratio is 1.
"""

from __future__ import annotations

import argparse
import json
import math
import statistics
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from pytket.architecture import Architecture
from pytket.backends.backendinfo import BackendInfo
from pytket.circuit import Circuit, OpType
from pytket.passes import BasePass
from pytket.qasm.qasm import circuit_from_qasm

# Run as a script from anywhere: the repository root holds the package and this folder.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks._baseline import baseline_pass
from benchmarks._suite import SUITE_DIR
from pytket.extensions.iqm.backends.compilation.levels import default_compilation_pass
from pytket.extensions.iqm.backends.compilation.success import estimated_success_probability
from pytket.extensions.iqm.backends.compilation.target import required_predicates
from pytket.extensions.iqm.devices import backend_info

DEVICES = ("garnet", "adonis", "emerald")
# A spread of families and sizes that compiles in a few seconds per level.
QUICK_SET = (
    "ghz_n10",
    "ghz_n20",
    "dj_n05",
    "graphstate_n08",
    "qft_n08",
    "qftentangled_n05",
    "qaoa_n05",
    "qpeexact_n05",
    "randomcircuit_n05",
    "vqe_real_amp_n04",
    "wstate_n10",
    "grover_n04",
)


def load_circuits(directory: Path, max_qubits: int, quick: bool) -> dict[str, Circuit]:
    """QASM circuits of at most ``max_qubits`` qubits, by file stem, in manifest order."""
    manifest = json.loads((directory / "manifest.json").read_text())
    circuits = {}
    for entry in manifest["circuits"]:
        stem = entry["file"].removesuffix(".qasm")
        if entry["n_qubits"] > max_qubits or (quick and stem not in QUICK_SET):
            continue
        circuits[stem] = circuit_from_qasm(directory / entry["file"])
    return circuits


@dataclass
class Outcome:
    """One circuit compiled by one configuration."""

    cz: int
    prx: int
    esp: float
    seconds: float
    valid: bool


def compile_once(circuit: Circuit, compilation: BasePass) -> tuple[Circuit, float]:
    """A compiled copy of ``circuit`` and the seconds it took."""
    compiled = circuit.copy()
    start = time.perf_counter()
    compilation.apply(compiled)
    return compiled, time.perf_counter() - start


def outcome(compiled: Circuit, seconds: list[float], info: BackendInfo, check: bool) -> Outcome:
    """Figures of one compiled circuit (median of its compile times)."""
    valid = all(p.verify(compiled) for p in required_predicates(info)) if check else True
    return Outcome(
        cz=compiled.n_gates_of_type(OpType.CZ),
        prx=compiled.n_gates_of_type(OpType.PhasedX),
        esp=estimated_success_probability(compiled, info),
        seconds=statistics.median(seconds),
        valid=valid,
    )


def geometric_mean(values: list[float]) -> float:
    """Geometric mean of positive numbers."""
    return math.exp(sum(math.log(v) for v in values) / len(values))


def cz_ratio(ours: int, reference: int) -> float:
    """CZ ratio of one circuit, defined when either side has no CZ."""
    if ours == reference:
        return 1.0
    if ours == 0 or reference == 0:
        return (ours + 1) / (reference + 1)
    return ours / reference


def run_device(name: str, levels: list[int], circuits_dir: Path, quick: bool, repeats: int) -> None:
    """Compile the device's circuits with every configuration and print its table."""
    info = backend_info(name)
    architecture = info.architecture
    assert isinstance(architecture, Architecture)
    n_nodes = len(architecture.nodes)
    circuits = load_circuits(circuits_dir, n_nodes, quick)
    configs: list[tuple[str, int, BasePass]] = []
    for level in sorted({*levels, 2} & {0, 1, 2}):
        configs.append(("baseline", level, baseline_pass(architecture, level)))
    configs += [("ours", level, default_compilation_pass(info, level)) for level in levels]
    results: dict[tuple[str, int], dict[str, Outcome]] = {
        (label, level): {} for label, level, _ in configs
    }
    # Circuit by circuit, every configuration in turn: a change in machine load then hits
    # the baseline and ours alike.
    for stem, circuit in circuits.items():
        times: dict[tuple[str, int], list[float]] = {(lb, lv): [] for lb, lv, _ in configs}
        last: dict[tuple[str, int], Circuit] = {}
        for repeat in range(repeats):
            for label, level, compilation in configs:
                if level == 3 and repeat > 0:
                    continue  # level 3 takes seconds per circuit: one compile is enough
                compiled, seconds = compile_once(circuit, compilation)
                times[(label, level)].append(seconds)
                last[(label, level)] = compiled
        for label, level, _ in configs:
            key = (label, level)
            results[key][stem] = outcome(last[key], times[key], info, label == "ours")
    reference = results[("baseline", 2)]
    print(f"\n## {name}: {len(circuits)} circuits, {n_nodes} qubits, {repeats} repeat(s)\n")
    print(
        "| config | level | total CZ | total PRX | CZ ratio | ESP ratio | median s | time ratio"
        " | invalid |"
    )
    print("|---|---|---|---|---|---|---|---|---|")
    reference_time = statistics.median(o.seconds for o in reference.values())
    for (label, level), outcomes in sorted(results.items(), key=lambda kv: (kv[0][1], kv[0][0])):
        cz_ratios = [cz_ratio(o.cz, reference[s].cz) for s, o in outcomes.items()]
        esp_ratios = [o.esp / reference[s].esp for s, o in outcomes.items()]
        median_time = statistics.median(o.seconds for o in outcomes.values())
        invalid = sum(not o.valid for o in outcomes.values())
        print(
            f"| {label} | {level} | {sum(o.cz for o in outcomes.values())} "
            f"| {sum(o.prx for o in outcomes.values())} "
            f"| {geometric_mean(cz_ratios):.3f} | {geometric_mean(esp_ratios):.3f} "
            f"| {median_time:.4f} | {median_time / reference_time:.2f} | {invalid} |"
        )
    print("\nper circuit CZ (baseline@2 → ours@each level):")
    for stem in circuits:
        row = " ".join(
            f"{results[('ours', level)][stem].cz:4d}"
            for level in levels
            if ("ours", level) in results
        )
        print(f"  {stem:22s} {reference[stem].cz:4d} → {row}")


def main() -> None:
    """Parse arguments and run the benchmark."""
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--device",
        default="garnet",
        choices=[*DEVICES, "deneb", "all"],
        help="deneb (Star device): MOVE and CZ counts and ESP against a naive MOVE baseline",
    )
    parser.add_argument("--levels", default="0,1,2,3")
    parser.add_argument("--quick", action="store_true", help="a 12-circuit subset, 1 repeat")
    parser.add_argument("--repeats", type=int, default=None, help="compiles per circuit (3)")
    parser.add_argument("--circuits", type=Path, default=SUITE_DIR)
    args = parser.parse_args()
    levels = sorted({int(x) for x in args.levels.split(",")})
    repeats = args.repeats if args.repeats is not None else (1 if args.quick else 3)
    if args.device == "deneb":
        # Imported here: the Star benchmark is only needed for this device.
        from benchmarks.compile_deneb import run_deneb

        run_deneb(args.circuits, levels)
        return
    devices = DEVICES if args.device == "all" else (args.device,)
    for device in devices:
        run_device(device, levels, args.circuits, args.quick, repeats)


if __name__ == "__main__":
    main()
