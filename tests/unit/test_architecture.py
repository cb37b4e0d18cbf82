"""Device model from hand-written DQAs and quality metrics (architecture.py)."""

from __future__ import annotations

import json
from typing import Any
from uuid import UUID

import pytest
from pytket.architecture import Architecture
from pytket.backends.backendinfo import BackendInfo
from pytket.circuit import Node, OpType, Qubit

from pytket.extensions.iqm.backends.architecture import (
    DynamicArchitecture,
    GateInfo,
    IQMDevice,
    device_from_dqa,
    node_for_qubit,
    qubit_for_node,
)
from pytket.extensions.iqm.errors import IQMDeviceError, IQMServerError, IQMTranslationError

CAL_ID = "26c5e70f-bea0-43af-bd37-6212ec7d04cb"
CAL_UUID = UUID(CAL_ID)


def _gate(loci: list[list[str]], impl: str = "default", **extra: Any) -> dict[str, Any]:
    return {
        "implementations": {impl: {"loci": loci}, **extra.get("more", {})},
        "default_implementation": impl,
        "override_default_implementation": extra.get("override", {}),
    }


def _dqa(
    qubits: list[str],
    cz: list[list[str]] | None,
    *,
    resonators: list[str] | None = None,
    move: list[list[str]] | None = None,
    cc_prx: bool = True,
) -> DynamicArchitecture:
    single = [[q] for q in qubits]
    gates: dict[str, Any] = {
        "prx": _gate(
            single,
            "drag_gaussian",
            more={"drag_crf": {"loci": single}},
            override={"QB3": "drag_crf"},
        ),
        "measure": _gate(single, "constant"),
    }
    if cc_prx:
        gates["cc_prx"] = _gate(single, "prx_composite")
    if cz is not None:
        gates["cz"] = _gate(cz, "tgss")
    if move is not None:
        gates["move"] = _gate(move, "tgss_crf")
    return DynamicArchitecture.from_json(
        {
            "calibration_set_id": CAL_ID,
            "qubits": qubits,
            "computational_resonators": resonators or [],
            "gates": gates,
        }
    )


# Six qubits; QB6 has no coupler (isolated).
QUBITS6 = ["QB1", "QB2", "QB3", "QB4", "QB5", "QB6"]
CZ6 = [["QB1", "QB2"], ["QB2", "QB3"], ["QB3", "QB4"], ["QB4", "QB5"], ["QB1", "QB4"]]


def _wrapped_metrics(values: dict[str, Any]) -> dict[str, Any]:
    """The same metrics with each value in an entry, as iqm-client 22 serves them."""
    return {name: {"value": value} for name, value in values.items()}


# --- DQA from JSON -----------------------------------------------------------------------------


def test_dqa_from_json_exact() -> None:
    dqa = DynamicArchitecture.from_json(
        {
            "calibration_set_id": CAL_ID,
            "qubits": ["QB1", "QB2"],
            "computational_resonators": ["CR1"],
            "gates": {
                "prx": {
                    "implementations": {
                        "drag_gaussian": {"loci": [["QB1"], ["QB2"]]},
                        "drag_crf": {"loci": [["QB2"]]},
                    },
                    "default_implementation": "drag_gaussian",
                    "override_default_implementation": {"QB2": "drag_crf"},
                },
                "cz": {
                    "implementations": {"tgss": {"loci": [["QB1", "CR1"], ["QB2", "CR1"]]}},
                    "default_implementation": "tgss",
                    # JSON writes a locus used as a key comma-separated.
                    "override_default_implementation": {"QB2,CR1": "crf"},
                },
                "measure": {
                    "implementations": {"constant": {"loci": [["QB1"], ["QB2"]]}},
                    "default_implementation": "constant",
                },
            },
        }
    )
    assert dqa == DynamicArchitecture(
        calibration_set_id=CAL_UUID,
        qubits=("QB1", "QB2"),
        computational_resonators=("CR1",),
        gates={
            "prx": GateInfo(
                implementations={
                    "drag_gaussian": (("QB1",), ("QB2",)),
                    "drag_crf": (("QB2",),),
                },
                default_implementation="drag_gaussian",
                override_default_implementation={("QB2",): "drag_crf"},
            ),
            "cz": GateInfo(
                implementations={"tgss": (("QB1", "CR1"), ("QB2", "CR1"))},
                default_implementation="tgss",
                override_default_implementation={("QB2", "CR1"): "crf"},
            ),
            "measure": GateInfo(
                implementations={"constant": (("QB1",), ("QB2",))},
                default_implementation="constant",
                override_default_implementation={},
            ),
        },
    )


def test_dqa_from_json_optional_fields() -> None:
    # No computational resonators and a null override map are both valid DQAs.
    dqa = DynamicArchitecture.from_json(
        {
            "calibration_set_id": CAL_UUID,
            "qubits": ["QB1"],
            "gates": {
                "measure": {
                    "implementations": {"constant": {"loci": [["QB1"]]}},
                    "default_implementation": "constant",
                    "override_default_implementation": None,
                }
            },
        }
    )
    assert dqa.calibration_set_id == CAL_UUID
    assert dqa.computational_resonators == ()
    assert dqa.gates["measure"].override_default_implementation == {}


def test_gate_info_loci_in_iqm_order() -> None:
    info = GateInfo(
        implementations={
            "a": (("QB10", "QB9"), ("QB2", "CR1")),
            "b": (("QB2", "CR1"), ("QB1", "QB2"), ("QB9", "QB10")),
        },
        default_implementation="a",
    )
    # Union over implementations, each locus once, QB2 before QB10 (numeric, not text order).
    assert info.loci == (("QB1", "QB2"), ("QB2", "CR1"), ("QB9", "QB10"), ("QB10", "QB9"))


_GATES_OK = {
    "measure": {"implementations": {"c": {"loci": [["QB1"]]}}, "default_implementation": "c"}
}


@pytest.mark.parametrize(
    ("data", "cause"),
    [
        ({"calibration_set_id": CAL_ID, "qubits": ["QB1"]}, "KeyError('gates')"),
        (
            {"calibration_set_id": "cal-1", "qubits": ["QB1"], "gates": _GATES_OK},
            "ValueError('badly formed hexadecimal UUID string')",
        ),
        (
            {"calibration_set_id": CAL_ID, "qubits": ["QB1"], "gates": []},
            "AttributeError(\"'list' object has no attribute 'items'\")",
        ),
        (
            {
                "calibration_set_id": CAL_ID,
                "qubits": ["QB1"],
                "gates": {"prx": {"implementations": {"d": {}}, "default_implementation": "d"}},
            },
            "KeyError('loci')",
        ),
        (
            {"calibration_set_id": CAL_ID, "qubits": 5, "gates": _GATES_OK},
            "ValueError('qubits must be a list of names, not 5')",
        ),
        (
            # A string is iterable: read as names it would be the qubits 'Q', 'B' and '1'.
            {"calibration_set_id": CAL_ID, "qubits": "QB1", "gates": _GATES_OK},
            "ValueError(\"qubits must be a list of names, not 'QB1'\")",
        ),
        (
            {
                "calibration_set_id": CAL_ID,
                "qubits": ["QB1"],
                "gates": {
                    "prx": {
                        "implementations": {"d": {"loci": ["QB1"]}},
                        "default_implementation": "d",
                    }
                },
            },
            "ValueError(\"a locus must be a list of names, not 'QB1'\")",
        ),
        (None, "TypeError(\"'NoneType' object is not subscriptable\")"),
    ],
    ids=[
        "no-gates",
        "bad-uuid",
        "gates-list",
        "no-loci",
        "qubits-int",
        "qubits-string",
        "locus-string",
        "none",
    ],
)
def test_dqa_from_malformed_json_raises_server_error(data: Any, cause: str) -> None:
    with pytest.raises(IQMServerError) as info:
        DynamicArchitecture.from_json(data)
    assert str(info.value) == f"The server's dynamic quantum architecture is malformed ({cause})."


# --- node naming --------------------------------------------------------------------------


def test_node_for_qubit_and_back() -> None:
    assert node_for_qubit("QB1") == Node("node", 0)
    assert node_for_qubit("QB3") == Node(2)
    assert node_for_qubit("QB20") == Node(19)
    assert qubit_for_node(Node(2)) == "QB3"
    # A Qubit in register "node" is the same unit as the Node.
    assert qubit_for_node(Qubit("node", 19)) == "QB20"


@pytest.mark.parametrize("name", ["COMPR1", "CR1", "COMP_R", "QB0", "QB01", "qb1", "QB"])
def test_node_for_non_qubit_name_raises(name: str) -> None:
    with pytest.raises(IQMDeviceError) as info:
        node_for_qubit(name)
    assert str(info.value) == (
        f"'{name}' is not an IQM qubit name (expected QB<n> with n >= 1); computational "
        "resonators and other components have no pytket node"
    )


@pytest.mark.parametrize(
    "unit", [Qubit("q", 0), Qubit("node", [0, 1]), Qubit(3)], ids=["q", "2d", "default"]
)
def test_qubit_for_non_node_raises_typed_error(unit: Qubit) -> None:
    # Regression: pytket-iqm 0.18 raised a bare AssertionError here.
    with pytest.raises(IQMTranslationError) as info:
        qubit_for_node(unit)
    assert str(info.value) == (
        f"Qubit {unit} is not a device qubit: IQM circuits must act on qubits node[0], "
        "node[1], … (node[n-1] is QB<n>). Compile the circuit with "
        "backend.get_compiled_circuit first."
    )


# --- architecture ---------------------------------------------------------------------------


def test_architecture_keeps_isolated_qubit() -> None:
    # Regression: pytket-iqm 0.18 dropped QB6 because it has no CZ locus.
    device = device_from_dqa(_dqa(QUBITS6, CZ6), device_name="six")
    arch = device.architecture
    assert isinstance(arch, Architecture)
    assert arch.nodes == [Node(i) for i in range(6)]
    assert arch.coupling == [
        (Node(0), Node(1)),
        (Node(0), Node(3)),
        (Node(1), Node(2)),
        (Node(2), Node(3)),
        (Node(3), Node(4)),
    ]
    assert arch.get_adjacent_nodes(Node(5)) == set()
    assert device.qubits == tuple(QUBITS6)
    assert device.calibration_set_id == CAL_ID
    assert device.gate_names == frozenset({"prx", "cc_prx", "measure", "cz"})


def test_qubits_sorted_numerically_and_coupler_order_fixed() -> None:
    qubits = ["QB10", "QB2", "QB1", "QB9"]
    cz = [["QB9", "QB10"], ["QB1", "QB2"], ["QB2", "QB9"]]
    device = device_from_dqa(_dqa(qubits, cz), device_name="d")
    assert device.qubits == ("QB1", "QB2", "QB9", "QB10")
    # IQM's own locus order (GateInfo.loci): deterministic, not hash-ordered.
    assert device.cz_loci == (("QB1", "QB2"), ("QB2", "QB9"), ("QB9", "QB10"))
    assert device.architecture.nodes == [Node(0), Node(1), Node(8), Node(9)]


def test_device_without_cz_gate() -> None:
    # Regression: pytket-iqm 0.18 raised KeyError: 'cz' for a device without CZ.
    device = device_from_dqa(_dqa(["QB1"], None, cc_prx=False), device_name="one")
    assert device.cz_loci == ()
    assert device.architecture.nodes == [Node(0)]
    assert device.architecture.coupling == []
    info = device.backend_info(name="IQMBackend", version="0.0")
    assert info.gate_set == {OpType.PhasedX, OpType.Measure, OpType.Barrier}
    assert info.supports_reset is False
    assert info.supports_midcircuit_measurement is False
    assert info.supports_fast_feedforward is False


def test_resonator_device_accepted_and_resonator_not_a_node() -> None:
    qubits = ["QB1", "QB2", "QB3"]
    dqa = _dqa(
        qubits,
        [["QB1", "COMPR1"], ["QB2", "COMPR1"]],
        resonators=["COMPR1"],
        move=[["QB3", "COMPR1"]],
    )
    device = device_from_dqa(dqa, device_name="star")
    assert device.computational_resonators == ("COMPR1",)
    assert device.cz_loci == (("QB1", "COMPR1"), ("QB2", "COMPR1"))
    assert device.move_loci == (("QB3", "COMPR1"),)
    assert device.qubit_edges == ()
    assert device.architecture.nodes == [Node(0), Node(1), Node(2)]
    assert device.architecture.coupling == []
    info = device.backend_info(name="IQMBackend", version="0.0")
    assert info.misc["computational_resonators"] == ["COMPR1"]
    assert info.misc["move_loci"] == [["QB3", "COMPR1"]]
    assert info.nodes == [Node(0), Node(1), Node(2)]


def test_non_qb_qubit_name_refused() -> None:
    dqa = _dqa(["QB1", "Q2"], None)
    with pytest.raises(IQMDeviceError) as info:
        device_from_dqa(dqa, device_name="odd")
    assert str(info.value) == (
        "The device reports qubits Q2 whose names are not of the form QB<n>; pytket-iqm "
        "cannot map them to pytket nodes"
    )


# --- arch override --------------------------------------------------------------------------


def test_arch_override_restricts_coupling() -> None:
    device = device_from_dqa(
        _dqa(QUBITS6, CZ6), device_name="six", arch=[("QB2", "QB1"), ["QB3", "QB4"]]
    )
    assert device.cz_loci == (("QB2", "QB1"), ("QB3", "QB4"))
    assert device.architecture.coupling == [(Node(1), Node(0)), (Node(2), Node(3))]
    # Only the qubits the arch couples remain (QB5 and QB6 would be unreachable nodes).
    assert device.qubits == ("QB1", "QB2", "QB3", "QB4")
    assert device.architecture.nodes == [Node(i) for i in range(4)]


@pytest.mark.parametrize(
    ("arch", "message"),
    [
        (
            [("QB1", "QB7")],
            "arch pair (QB1, QB7) names QB7, which is not a qubit of the device "
            "(qubits: QB1, QB2, QB3, QB4, QB5, QB6)",
        ),
        (
            [("QB1", "QB2"), ("QB1", "QB3")],
            f"arch pair (QB1, QB3) is not a calibrated CZ locus of the device in calibration "
            f"set {CAL_ID}; use only pairs from the device's CZ loci",
        ),
        (
            [("QB6", "QB6")],
            f"arch pair (QB6, QB6) is not a calibrated CZ locus of the device in calibration "
            f"set {CAL_ID}; use only pairs from the device's CZ loci",
        ),
        (
            [("QB1", "QB2", "QB3")],
            "arch entry ('QB1', 'QB2', 'QB3') is not a pair of qubit names such as ('QB1', 'QB2')",
        ),
        (["QB1"], "arch entry 'QB1' is not a pair of qubit names such as ('QB1', 'QB2')"),
    ],
)
def test_arch_override_errors(arch: list[Any], message: str) -> None:
    with pytest.raises(IQMDeviceError) as info:
        device_from_dqa(_dqa(QUBITS6, CZ6), device_name="six", arch=arch)
    assert str(info.value) == message


def test_arch_override_rejects_resonator() -> None:
    dqa = _dqa(["QB1", "QB2"], [["QB1", "COMPR1"]], resonators=["COMPR1"])
    with pytest.raises(IQMDeviceError) as info:
        device_from_dqa(dqa, device_name="star", arch=[("QB1", "COMPR1")])
    assert str(info.value) == (
        "arch pair (QB1, COMPR1) names COMPR1, which is not a qubit of the device "
        "(qubits: QB1, QB2)"
    )


# --- backend info and metrics -----------------------------------------------------------------


def test_backend_info_without_metrics() -> None:
    device = device_from_dqa(_dqa(QUBITS6, CZ6), device_name="six")
    info = device.backend_info(name="IQMBackend", version="1.2.3")
    assert info.name == "IQMBackend"
    assert info.device_name == "six"
    assert info.version == "1.2.3"
    assert info.gate_set == {
        OpType.PhasedX,
        OpType.CZ,
        OpType.Measure,
        OpType.Barrier,
        OpType.Reset,
    }
    assert info.supports_reset is True
    assert info.supports_midcircuit_measurement is True
    assert info.supports_fast_feedforward is True
    for empty in (
        info.all_node_gate_errors,
        info.all_edge_gate_errors,
        info.all_readout_errors,
        info.averaged_node_gate_errors,
        info.averaged_edge_gate_errors,
        info.averaged_readout_errors,
    ):
        assert empty is None
    assert info.misc["calibration_set_id"] == CAL_ID
    assert info.misc["qubits"] == QUBITS6
    assert info.misc["computational_resonators"] == []
    assert info.misc["t1_times"] == {}
    assert info.nodes == [Node(i) for i in range(6)]
    # Regression: pytket-iqm 0.18 had misc={} and no feature flags.
    json.dumps(info.to_dict())


def test_empty_metric_set_gives_no_errors() -> None:
    metrics: dict[str, Any] | None
    for metrics in (None, {}):
        device = device_from_dqa(_dqa(QUBITS6, CZ6), device_name="six", quality_metrics=metrics)
        info = device.backend_info(name="IQMBackend", version="0")
        assert info.all_node_gate_errors is None
        assert info.averaged_readout_errors is None


METRICS: dict[str, Any] = {
    # prx: default implementation drag_gaussian, QB3 overridden to drag_crf.
    "metrics.rb.prx.drag_gaussian.QB1.fidelity": "0.999",
    "metrics.rb.prx.drag_crf.QB1.fidelity": "0.9",
    "metrics.rb.prx.drag_gaussian.QB2.fidelity": 0.998,
    "metrics.rb.prx.drag_gaussian.QB3.fidelity": "0.5",
    "metrics.rb.prx.drag_crf.QB3.fidelity": "0.997",
    "metrics.rb.prx.drag_crf.QB4.fidelity": "0.996",  # only non-default impl measured
    "metrics.rb.prx.drag_gaussian.QB5.fidelity": "not a number",
    # QB6: no prx metric at all.
    "metrics.irb.cz.tgss.QB1__QB2.fidelity": "0.99",
    "metrics.irb.cz.tgss.QB3__QB2.fidelity": "0.98",  # reversed w.r.t. the locus
    "metrics.irb.cz.tgss.QB1__QB3.fidelity": "0.5",  # not a locus: ignored
    "metrics.ssro.measure.constant.QB1.error_0_to_1": "0.01",
    "metrics.ssro.measure.constant.QB1.error_1_to_0": "0.03",
    "metrics.ssro.measure.constant.QB2.error_0_to_1": 0.02,
    "metrics.ssro.measure.constant.QB2.error_1_to_0": 0.04,
    "metrics.ssro.measure.constant.QB3.error_0_to_1": "0.05",  # no 1→0 figure: left out
    "characterization.model.QB1.t1_time": "4.4e-05",
    "characterization.model.QB1.t2_time": "2.5e-05",
    "QB2.t1_time": "5e-05",
    "characterization.model.QB99.t1_time": "1e-05",  # unknown qubit: ignored
    "some.other.metric": "1",
}


def _info_with_metrics() -> tuple[IQMDevice, BackendInfo]:
    device = device_from_dqa(_dqa(QUBITS6, CZ6), device_name="six", quality_metrics=METRICS)
    return device, device.backend_info(name="IQMBackend", version="0")


def test_metrics_node_errors() -> None:
    device, info = _info_with_metrics()
    assert device.prx_errors == pytest.approx(
        {"QB1": 0.001, "QB2": 0.002, "QB3": 0.003, "QB4": 0.004}
    )
    assert info.all_node_gate_errors is not None
    assert set(info.all_node_gate_errors) == {Node(0), Node(1), Node(2), Node(3)}
    assert info.all_node_gate_errors[Node(2)][OpType.PhasedX] == pytest.approx(0.003)
    assert info.averaged_node_gate_errors == pytest.approx(
        {Node(0): 0.001, Node(1): 0.002, Node(2): 0.003, Node(3): 0.004}
    )


def test_metrics_edge_errors_both_orientations() -> None:
    device, info = _info_with_metrics()
    assert device.cz_errors == pytest.approx({("QB1", "QB2"): 0.01, ("QB2", "QB3"): 0.02})
    assert info.all_edge_gate_errors is not None
    assert set(info.all_edge_gate_errors) == {
        (Node(0), Node(1)),
        (Node(1), Node(0)),
        (Node(1), Node(2)),
        (Node(2), Node(1)),
    }
    assert info.all_edge_gate_errors[(Node(2), Node(1))][OpType.CZ] == pytest.approx(0.02)
    assert info.averaged_edge_gate_errors is not None
    assert info.averaged_edge_gate_errors[(Node(1), Node(0))] == pytest.approx(0.01)


def test_metrics_readout_errors() -> None:
    _, info = _info_with_metrics()
    assert info.all_readout_errors is not None
    assert set(info.all_readout_errors) == {Node(0), Node(1)}
    # Row = prepared state: [[P(0|0), P(1|0)], [P(0|1), P(1|1)]].
    assert info.all_readout_errors[Node(0)] == [
        pytest.approx([0.99, 0.01]),
        pytest.approx([0.03, 0.97]),
    ]
    assert info.averaged_readout_errors == pytest.approx({Node(0): 0.02, Node(1): 0.03})


def test_metrics_coherence_times_in_misc() -> None:
    _, info = _info_with_metrics()
    assert info.misc["t1_times"] == pytest.approx({"QB1": 4.4e-05, "QB2": 5e-05})
    assert info.misc["t2_times"] == pytest.approx({"QB1": 2.5e-05})


def test_backend_info_with_metrics_serialises() -> None:
    _, info = _info_with_metrics()
    restored = BackendInfo.from_dict(json.loads(json.dumps(info.to_dict())))
    assert restored.averaged_node_gate_errors == info.averaged_node_gate_errors
    assert restored.all_edge_gate_errors == info.all_edge_gate_errors
    assert restored.misc == info.misc
    assert restored.architecture == info.architecture


def test_metrics_wrapped_in_entries_read_like_plain_values() -> None:
    # iqm-client 22 serves each metric as {"value": ...}; both forms give the same device.
    plain, plain_info = _info_with_metrics()
    wrapped = device_from_dqa(
        _dqa(QUBITS6, CZ6), device_name="six", quality_metrics=_wrapped_metrics(METRICS)
    )
    assert wrapped.prx_errors == plain.prx_errors
    assert wrapped.cz_errors == plain.cz_errors
    assert wrapped.backend_info(name="IQMBackend", version="0").to_dict() == plain_info.to_dict()
    assert wrapped.prx_errors == pytest.approx(
        {"QB1": 0.001, "QB2": 0.002, "QB3": 0.003, "QB4": 0.004}
    )


def test_metrics_follow_arch_override_orientation() -> None:
    device = device_from_dqa(
        _dqa(QUBITS6, CZ6),
        device_name="six",
        quality_metrics=METRICS,
        arch=[("QB2", "QB1")],
    )
    assert device.cz_errors == pytest.approx({("QB2", "QB1"): 0.01})
