"""One-off generator of the emulator's device files (``emulator/devices/data``).

Reads the device facts collected from qiskit-iqm's fake backends (a JSON file kept outside
the repository, given on the command line) and writes one device file per catalogue device,
in the schema documented in ``docs/emulator_devices.rst``. The generated files are committed;
the package never reads the facts file at run time.

Usage::

    python scripts/build_device_data.py /path/to/iqm-devices.json

Each device gets two calibration sets. The first (default) copies the published figures. The
second is an older set derived from them: the last CZ coupler is missing, every error
(depolarizing parameter, readout error, gate infidelity) is 20 % larger and T1/T2 are 10 %
shorter, so calibration pinning has something observable to pin.
"""

from __future__ import annotations

import json
import sys
import uuid
from pathlib import Path
from typing import Any

DATA_DIR = (
    Path(__file__).resolve().parent.parent
    / "pytket"
    / "extensions"
    / "iqm"
    / "emulator"
    / "devices"
    / "data"
)

# Namespace of the calibration set ids: uuid5(namespace, "<device>/<index>") keeps them stable.
CALIBRATION_ID_NAMESPACE = uuid.uuid5(uuid.NAMESPACE_URL, "urn:pytket-iqm:emulator:calibration-set")

MEASURE_NS = 1500.0
"""Readout pulse plus integration: typical of IQM Crystal devices (not published per device)."""
FEEDBACK_LATENCY_NS = 500.0
"""Wait between the end of a measurement and the conditional pulse of cc_prx (chosen value)."""

OLDER_ERROR_FACTOR = 1.2
OLDER_COHERENCE_FACTOR = 0.9
CREATED = ("2026-01-15T06:00:00+00:00", "2026-01-08T06:00:00+00:00")

# catalogue name -> (source device in the facts file, display name, supports feedback, description)
CATALOGUE: dict[str, tuple[str, str, bool, str]] = {
    "adonis": ("Adonis", "Adonis", False, "5-qubit star of qubits around QB3 (no feedback)."),
    "apollo": ("Apollo", "Apollo", True, "20-qubit Crystal, sample-chip figures."),
    "deneb": (
        "Deneb",
        "Deneb",
        True,
        "6 qubits around the computational resonator CR1 (IQM Star: cz and move).",
    ),
    "emerald": (
        "Aphrodite",
        "Emerald",
        True,
        "54-qubit Crystal on the Aphrodite 54-qubit layout and figures.",
    ),
    "garnet": ("Garnet", "Garnet", True, "20-qubit Crystal, Garnet figures."),
}


def _sig(x: float, digits: int = 3) -> float:
    return float(f"{x:.{digits}g}")


def _orient(locus: list[str], connectivity: set[tuple[str, str]], qubits: set[str]) -> list[str]:
    """Qubit–resonator pairs as (qubit, resonator); qubit pairs as written in the connectivity."""
    a, b = locus
    if a in qubits and b not in qubits:
        return [a, b]
    if b in qubits and a not in qubits:
        return [b, a]
    return [a, b] if (a, b) in connectivity else [b, a]


def _triples(
    items: list[list[Any]], connectivity: set[tuple[str, str]], qubits: set[str]
) -> list[list[Any]]:
    return [[*_orient([a, b], connectivity, qubits), v] for a, b, v in items]


def _default_calibration(src: dict[str, Any], name: str, feedback: bool) -> dict[str, Any]:
    qubits = set(src["qubits"])
    conn = {(a, b) for a, b in src["connectivity"]}
    durations = dict(src["durations_ns"])
    durations["measure"] = MEASURE_NS
    if feedback:
        durations["cc_prx"] = FEEDBACK_LATENCY_NS + durations["prx"]
        durations["reset"] = MEASURE_NS + durations["cc_prx"]
    return {
        "calibration_set_id": str(uuid.uuid5(CALIBRATION_ID_NAMESPACE, f"{name}/0")),
        "created_timestamp": CREATED[0],
        "supports_feedback": feedback,
        "durations_ns": durations,
        "cz_loci": [_orient(lo, conn, qubits) for lo in src["cz_loci"]],
        "move_loci": [_orient(lo, conn, qubits) for lo in src["move_loci"]],
        "t1_ns": src["t1_ns"],
        "t2_ns": src["t2_ns"],
        "prx_depolarizing": src["prx_depolarizing"],
        "cz_depolarizing": _triples(src["cz_depolarizing"], conn, qubits),
        "move_depolarizing": _triples(src["move_depolarizing"], conn, qubits),
        "readout_error": src["readout_error"],
        "prx_fidelity": src["derived_prx_avg_gate_fidelity"],
        "cz_fidelity": _triples(src["derived_cz_avg_gate_fidelity"], conn, qubits),
        "move_fidelity": _triples(src.get("derived_move_avg_gate_fidelity", []), conn, qubits),
    }


def _older_calibration(default: dict[str, Any], name: str) -> dict[str, Any]:
    dropped = default["cz_loci"][-1]

    def err(x: float) -> float:
        return _sig(x * OLDER_ERROR_FACTOR)

    def fid(f: float) -> float:
        return round(1.0 - (1.0 - f) * OLDER_ERROR_FACTOR, 6)

    def coh(t: float) -> float:
        return float(round(t * OLDER_COHERENCE_FACTOR))

    def keep(triples: list[list[Any]], f: Any, drop: list[str] | None = None) -> list[list[Any]]:
        return [[a, b, f(v)] for a, b, v in triples if [a, b] != drop]

    return {
        **default,
        "calibration_set_id": str(uuid.uuid5(CALIBRATION_ID_NAMESPACE, f"{name}/1")),
        "created_timestamp": CREATED[1],
        "cz_loci": default["cz_loci"][:-1],
        "t1_ns": {k: coh(v) for k, v in default["t1_ns"].items()},
        "t2_ns": {k: coh(v) for k, v in default["t2_ns"].items()},
        "prx_depolarizing": {k: err(v) for k, v in default["prx_depolarizing"].items()},
        "cz_depolarizing": keep(default["cz_depolarizing"], err, dropped),
        "move_depolarizing": keep(default["move_depolarizing"], err),
        "readout_error": {
            q: {k: err(v) for k, v in e.items()} for q, e in default["readout_error"].items()
        },
        "prx_fidelity": {k: fid(v) for k, v in default["prx_fidelity"].items()},
        "cz_fidelity": keep(default["cz_fidelity"], fid, dropped),
        "move_fidelity": keep(default["move_fidelity"], fid),
    }


def build(facts_path: Path) -> dict[str, dict[str, Any]]:
    """Device files (as JSON-ready dicts) by catalogue name."""
    facts = {d["device"]: d for d in json.loads(facts_path.read_text())["devices"]}
    out: dict[str, dict[str, Any]] = {}
    for name, (source, display, feedback, description) in CATALOGUE.items():
        src = facts[source]
        default = _default_calibration(src, name, feedback)
        out[name] = {
            "schema_version": 1,
            "name": name,
            "display_name": display,
            "description": description,
            "source": f"figures of qiskit-iqm's {src['factory'].rsplit('.', 1)[1]}",
            "dut_label": src["dut_label_36"].split(" ", 1)[0],
            "qubits": src["qubits"],
            "computational_resonators": src["computational_resonators"],
            "connectivity": src["connectivity"],
            "calibrations": [default, _older_calibration(default, name)],
        }
    return out


def dump(value: Any, indent: int = 0) -> str:
    """JSON with one line per dict entry or locus, so device files stay readable and diffable."""
    pad, inner = " " * indent, " " * (indent + 2)
    if isinstance(value, dict):
        if len(value) <= 2 and not any(isinstance(v, (dict, list)) for v in value.values()):
            return json.dumps(value)
        rows = [f"{inner}{json.dumps(k)}: {dump(v, indent + 2)}" for k, v in value.items()]
        return "{\n" + ",\n".join(rows) + "\n" + pad + "}"
    if isinstance(value, list) and any(isinstance(v, (dict, list)) for v in value):
        rows = [inner + dump(v, indent + 2) for v in value]
        return "[\n" + ",\n".join(rows) + "\n" + pad + "]"
    return json.dumps(value)


def main(argv: list[str]) -> None:
    """Write the device files from the facts file named on the command line."""
    if len(argv) != 2:
        raise SystemExit(f"usage: {argv[0]} IQM_DEVICES_JSON")
    DATA_DIR.mkdir(parents=True, exist_ok=True)
    for name, body in build(Path(argv[1])).items():
        (DATA_DIR / f"{name}.json").write_text(dump(body) + "\n")


if __name__ == "__main__":
    main(sys.argv)
