"""A device's descriptions in IQM's JSON shapes, as JSON-ready dicts (UUIDs as strings).

Pure functions of a :class:`~.device.Device` and a :class:`~.device.Calibration`: the HTTP layer
serves them, and the offline device API (:mod:`pytket.extensions.iqm.devices`) reads them without
touching HTTP. Shapes follow iqm-client 22.16's models (``DynamicQuantumArchitecture``,
``QuantumArchitecture``, ``StaticQuantumArchitecture``, ``QualityMetricSet``,
``CalibrationSet``). Gate implementation names and quality-metric names are the ones real IQM
servers use, so code written against a real server reads the emulator's answers the same way.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from typing import Any

from pytket.extensions.iqm.emulator.devices.device import Calibration, Device, component_sort_key

IMPLEMENTATIONS: Mapping[str, str] = {
    "prx": "drag_gaussian",
    "cz": "tgss",
    "move": "tgss_crf",
    "measure": "constant",
    "cc_prx": "prx_composite",
}
"""Gate → the (only, hence default) implementation the emulator reports, named as IQM does."""

COHERENCE_RELATIVE_UNCERTAINTY = 0.05
"""Reported uncertainty of T1/T2, relative to the value (a typical fit uncertainty)."""
INFIDELITY_RELATIVE_UNCERTAINTY = 0.1
"""Reported uncertainty of a benchmarked fidelity F, relative to the infidelity 1 - F."""

Locus = tuple[str, ...]


def _gate_info(implementation: str, loci: Iterable[Sequence[str]]) -> dict[str, Any]:
    return {
        "implementations": {implementation: {"loci": [list(locus) for locus in loci]}},
        "default_implementation": implementation,
        "override_default_implementation": {},
    }


def _gate_loci(calibration: Calibration) -> dict[str, list[Locus]]:
    """Calibrated loci per gate, in DQA order (prx, cc_prx, cz, move, measure)."""
    single: list[Locus] = [(q,) for q in calibration.qubits]
    loci: dict[str, list[Locus]] = {"prx": single}
    if calibration.supports_feedback:
        loci["cc_prx"] = single
    if calibration.cz_loci:
        loci["cz"] = list(calibration.cz_loci)
    if calibration.move_loci:
        loci["move"] = list(calibration.move_loci)
    loci["measure"] = single
    return loci


def dynamic_architecture(calibration: Calibration) -> dict[str, Any]:
    """The ``DynamicQuantumArchitecture`` of a calibration set (``GET …/calibration/{cal}/gates``).

    Gates: ``prx`` and ``measure`` on every qubit, ``cz`` on the CZ loci, ``move`` on the MOVE loci
    (if any) and ``cc_prx`` on every qubit if the calibration supports feedback. ``reset`` is not
    listed, as on real IQM servers: it is available wherever ``cc_prx`` is.
    """
    loci = _gate_loci(calibration)
    used = {component for gate_loci in loci.values() for locus in gate_loci for component in locus}
    return {
        "calibration_set_id": str(calibration.calibration_set_id),
        "qubits": [q for q in calibration.qubits if q in used],
        "computational_resonators": [r for r in calibration.computational_resonators if r in used],
        "gates": {gate: _gate_info(IMPLEMENTATIONS[gate], ls) for gate, ls in loci.items()},
    }


def _sorted_components(names: Iterable[str]) -> list[str]:
    return sorted(names, key=component_sort_key)


def static_architecture(device: Device) -> dict[str, Any]:
    """The ``StaticQuantumArchitecture`` of the chip (``GET api/v1/quantum-architecture``)."""
    connectivity = sorted(
        device.connectivity, key=lambda pair: tuple(map(component_sort_key, pair))
    )
    return {
        "qubits": _sorted_components(device.qubits),
        "computational_resonators": _sorted_components(device.computational_resonators),
        "connectivity": [list(pair) for pair in connectivity],
    }


def quantum_architecture(device: Device) -> dict[str, Any]:
    """The legacy ``{"quantum_architecture": …}`` body (``GET quantum-architecture``).

    Operations and their loci come from the default calibration set; ``qubits`` lists every
    component (resonators too, since the connectivity refers to them), as older servers did.
    """
    calibration = device.default_calibration
    operations: dict[str, list[list[str]]] = {
        gate: [list(locus) for locus in gate_loci]
        for gate, gate_loci in _gate_loci(calibration).items()
    }
    operations["barrier"] = []
    return {
        "quantum_architecture": {
            "name": device.name,
            "qubits": list(device.qubits + device.computational_resonators),
            "qubit_connectivity": [list(pair) for pair in device.connectivity],
            "operations": operations,
        }
    }


def _locus_name(locus: Sequence[str]) -> str:
    return "__".join(locus)


def _three_digits(x: float) -> str:
    return str(float(f"{x:.3g}"))


def _metric(
    value: float, unit: str, timestamp: str, uncertainty: float | None = None
) -> dict[str, Any]:
    return {
        "value": str(float(value)),
        "unit": unit,
        "uncertainty": None if uncertainty is None else _three_digits(uncertainty),
        "timestamp": timestamp,
    }


def _durations(calibration: Calibration) -> dict[str, float]:
    """Observation name → seconds, for every calibrated gate locus with a known duration."""
    out: dict[str, float] = {}
    for gate, loci in _gate_loci(calibration).items():
        duration = calibration.durations.get(gate)
        if duration is None:
            continue
        for locus in loci:
            out[f"gates.{gate}.{IMPLEMENTATIONS[gate]}.{_locus_name(locus)}.duration"] = duration
    return out


def quality_metrics(device: Device, calibration: Calibration) -> dict[str, Any]:
    """The ``QualityMetricSet`` of a calibration set (``GET calibration/metrics/{cal}``).

    Metric names are IQM's: ``characterization.model.<component>.t1_time``/``t2_time`` (s),
    ``metrics.rb.prx.drag_gaussian.<qubit>.fidelity``,
    ``metrics.irb.cz.tgss.<a>__<b>.fidelity``, ``metrics.irb.move.tgss_crf.<qubit>__<cr>.fidelity``,
    ``metrics.ssro.measure.constant.<qubit>.error_0_to_1`` (P(1|0)), ``.error_1_to_0`` (P(0|1)),
    ``.fidelity`` (1 − mean readout error) and ``gates.<gate>.<implementation>.<locus>.duration``
    (s). Values are strings, as the server sends them.
    """
    ts = calibration.created_timestamp
    metrics: dict[str, dict[str, Any]] = {}
    for component in calibration.components:
        for quantity, times in (("t1_time", calibration.t1), ("t2_time", calibration.t2)):
            value = times[component]
            metrics[f"characterization.model.{component}.{quantity}"] = _metric(
                value, "s", ts, value * COHERENCE_RELATIVE_UNCERTAINTY
            )

    def fidelity(value: float) -> dict[str, Any]:
        return _metric(value, "", ts, (1.0 - value) * INFIDELITY_RELATIVE_UNCERTAINTY)

    for qubit, value in calibration.prx_fidelity.items():
        metrics[f"metrics.rb.prx.{IMPLEMENTATIONS['prx']}.{qubit}.fidelity"] = fidelity(value)
    for gate, table in (("cz", calibration.cz_fidelity), ("move", calibration.move_fidelity)):
        for locus, value in table.items():
            name = f"metrics.irb.{gate}.{IMPLEMENTATIONS[gate]}.{_locus_name(locus)}.fidelity"
            metrics[name] = fidelity(value)
    for qubit in calibration.qubits:
        p1_given_0 = calibration.readout_p1_given_0[qubit]
        p0_given_1 = calibration.readout_p0_given_1[qubit]
        prefix = f"metrics.ssro.measure.{IMPLEMENTATIONS['measure']}.{qubit}"
        metrics[f"{prefix}.error_0_to_1"] = _metric(p1_given_0, "", ts)
        metrics[f"{prefix}.error_1_to_0"] = _metric(p0_given_1, "", ts)
        metrics[f"{prefix}.fidelity"] = _metric(1.0 - (p1_given_0 + p0_given_1) / 2, "", ts)
    for name, seconds in _durations(calibration).items():
        metrics[name] = _metric(seconds, "s", ts)

    calibration_set_id = str(calibration.calibration_set_id)
    return {
        "calibration_set_id": calibration_set_id,
        "calibration_set_dut_label": device.dut_label,
        "calibration_set_number_of_observations": len(_durations(calibration)),
        "calibration_set_created_timestamp": ts,
        "calibration_set_end_timestamp": ts,
        "calibration_set_is_invalid": False,
        # One quality metric set per calibration set, sharing its id (as in IQM's examples).
        "quality_metric_set_id": calibration_set_id,
        "quality_metric_set_dut_label": device.dut_label,
        "quality_metric_set_created_timestamp": ts,
        "quality_metric_set_end_timestamp": ts,
        "quality_metric_set_is_invalid": False,
        "metrics": metrics,
    }


def calibration_set(device: Device, calibration: Calibration) -> dict[str, Any]:
    """The ``CalibrationSet`` (``GET api/v1/calibration/{cal}``).

    The emulator's observations are the gate durations it calibrates, one per gate locus, named
    ``gates.<gate>.<implementation>.<locus>.duration`` (s); ids count from 1 in that order.
    """
    ts = calibration.created_timestamp
    observations = {
        name: {
            "observation_id": index,
            "dut_field": name,
            "unit": "s",
            "value": seconds,
            "uncertainty": None,
            "invalid": False,
            "created_timestamp": ts,
            "modified_timestamp": ts,
        }
        for index, (name, seconds) in enumerate(_durations(calibration).items(), start=1)
    }
    return {
        "calibration_set_id": str(calibration.calibration_set_id),
        "calibration_set_dut_label": device.dut_label,
        "calibration_set_is_invalid": False,
        "calibration_set_created_timestamp": ts,
        "calibration_set_end_timestamp": ts,
        "observations": observations,
    }


__all__ = [
    "IMPLEMENTATIONS",
    "calibration_set",
    "dynamic_architecture",
    "quality_metrics",
    "quantum_architecture",
    "static_architecture",
]
