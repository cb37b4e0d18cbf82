"""Bodies of the emulator's device endpoints, checked against iqm-client 22.16's models."""

from __future__ import annotations

import json
from typing import Any

import pytest
from iqm_client_line import require_iqm_client_22

require_iqm_client_22()

from iqm.iqm_client.models import (  # noqa: E402
    CalibrationSet,
    ClientLibraryDict,
    DynamicQuantumArchitecture,
    QualityMetricSet,
    QuantumArchitecture,
    StaticQuantumArchitecture,
)

from pytket.extensions.iqm.emulator.devices.catalogue import get_device  # noqa: E402
from pytket.extensions.iqm.emulator.devices.descriptions import (  # noqa: E402
    calibration_set,
    dynamic_architecture,
    quality_metrics,
    quantum_architecture,
    static_architecture,
)
from pytket.extensions.iqm.emulator.http.rest_v1.payloads import client_libraries  # noqa: E402

DEVICES = ["adonis", "apollo", "deneb", "emerald", "garnet"]


def _json_round_trip(body: dict[str, Any]) -> dict[str, Any]:
    """What the client receives: fails on anything JSON cannot carry (UUID, tuple keys)."""
    result: dict[str, Any] = json.loads(json.dumps(body))
    return result


@pytest.mark.parametrize("name", DEVICES)
def test_every_payload_validates(name: str) -> None:
    device = get_device(name)
    for cal in device.calibrations:
        dqa = DynamicQuantumArchitecture.model_validate(_json_round_trip(dynamic_architecture(cal)))
        assert dqa.calibration_set_id == cal.calibration_set_id
        metrics = QualityMetricSet.model_validate(_json_round_trip(quality_metrics(device, cal)))
        assert metrics.calibration_set_id == cal.calibration_set_id
        assert metrics.calibration_set_dut_label == device.dut_label
        cset = CalibrationSet.model_validate(_json_round_trip(calibration_set(device, cal)))
        assert cset.calibration_set_id == cal.calibration_set_id
        assert metrics.calibration_set_number_of_observations == len(cset.observations)
    sqa = StaticQuantumArchitecture.model_validate(_json_round_trip(static_architecture(device)))
    assert sqa.qubits == list(device.qubits)
    qa = QuantumArchitecture.model_validate(_json_round_trip(quantum_architecture(device)))
    assert qa.quantum_architecture.name == name


@pytest.mark.parametrize(
    ("name", "gates"),
    [
        ("adonis", ["prx", "cz", "measure"]),
        ("garnet", ["prx", "cc_prx", "cz", "measure"]),
        ("deneb", ["prx", "cc_prx", "cz", "move", "measure"]),
    ],
)
def test_dynamic_architecture_gates(name: str, gates: list[str]) -> None:
    body = dynamic_architecture(get_device(name).default_calibration)
    assert list(body["gates"]) == gates
    implementations = {gate: info["default_implementation"] for gate, info in body["gates"].items()}
    expected = {
        "prx": "drag_gaussian",
        "cc_prx": "prx_composite",
        "cz": "tgss",
        "move": "tgss_crf",
        "measure": "constant",
    }
    assert implementations == {gate: expected[gate] for gate in gates}
    for gate, info in body["gates"].items():
        assert list(info["implementations"]) == [expected[gate]]
        assert info["override_default_implementation"] == {}


def test_dynamic_architecture_deneb() -> None:
    cal = get_device("deneb").default_calibration
    dqa = DynamicQuantumArchitecture.model_validate(dynamic_architecture(cal))
    assert dqa.qubits == ["QB1", "QB2", "QB3", "QB4", "QB5", "QB6"]
    assert dqa.computational_resonators == ["CR1"]
    star = tuple((f"QB{i}", "CR1") for i in range(1, 7))
    assert dqa.gates["move"].loci == star
    assert dqa.gates["cz"].loci == star
    assert dqa.gates["measure"].loci == tuple((f"QB{i}",) for i in range(1, 7))


def test_dynamic_architecture_older_calibration_lacks_a_coupler() -> None:
    device = get_device("garnet")
    new = DynamicQuantumArchitecture.model_validate(
        dynamic_architecture(device.default_calibration)
    )
    old = DynamicQuantumArchitecture.model_validate(dynamic_architecture(device.calibrations[1]))
    assert len(new.gates["cz"].loci) == 30
    assert set(new.gates["cz"].loci) - set(old.gates["cz"].loci) == {("QB19", "QB20")}
    assert old.calibration_set_id != new.calibration_set_id


def test_static_architecture_sorted() -> None:
    body = static_architecture(get_device("garnet"))
    assert body["qubits"][8:11] == ["QB9", "QB10", "QB11"]
    assert body["computational_resonators"] == []
    assert len(body["connectivity"]) == 30
    assert body["connectivity"][:3] == [["QB1", "QB2"], ["QB1", "QB4"], ["QB2", "QB5"]]
    deneb = static_architecture(get_device("deneb"))
    assert deneb["connectivity"][0] == ["CR1", "QB1"]


def test_quantum_architecture_legacy_form() -> None:
    body = quantum_architecture(get_device("adonis"))
    assert body == {
        "quantum_architecture": {
            "name": "adonis",
            "qubits": ["QB1", "QB2", "QB3", "QB4", "QB5"],
            "qubit_connectivity": [["QB1", "QB3"], ["QB2", "QB3"], ["QB3", "QB4"], ["QB3", "QB5"]],
            "operations": {
                "prx": [["QB1"], ["QB2"], ["QB3"], ["QB4"], ["QB5"]],
                "cz": [["QB1", "QB3"], ["QB2", "QB3"], ["QB3", "QB4"], ["QB3", "QB5"]],
                "measure": [["QB1"], ["QB2"], ["QB3"], ["QB4"], ["QB5"]],
                "barrier": [],
            },
        }
    }
    deneb = QuantumArchitecture.model_validate(quantum_architecture(get_device("deneb")))
    assert deneb.quantum_architecture.qubits[-1] == "CR1"
    assert deneb.quantum_architecture.operations["move"][0] == ["QB1", "CR1"]


def test_quality_metrics_names_and_values() -> None:
    device = get_device("garnet")
    cal = device.default_calibration
    metrics = quality_metrics(device, cal)["metrics"]
    ts = "2026-01-15T06:00:00+00:00"
    assert metrics["characterization.model.QB1.t1_time"] == {
        "value": "3.7741e-05",
        "unit": "s",
        "uncertainty": "1.89e-06",
        "timestamp": ts,
    }
    assert metrics["characterization.model.QB20.t2_time"]["value"] == "1.193e-05"
    assert metrics["metrics.rb.prx.drag_gaussian.QB1.fidelity"]["value"] == "0.998762"
    assert metrics["metrics.irb.cz.tgss.QB3__QB8.fidelity"]["value"] == "0.991675"
    assert metrics["metrics.ssro.measure.constant.QB3.error_0_to_1"]["value"] == "0.0285"
    assert metrics["metrics.ssro.measure.constant.QB3.error_1_to_0"]["value"] == "0.0245"
    readout_fidelity = float(metrics["metrics.ssro.measure.constant.QB3.fidelity"]["value"])
    assert readout_fidelity == pytest.approx(0.9735, abs=1e-12)
    assert metrics["gates.prx.drag_gaussian.QB1.duration"]["value"] == "2e-08"
    assert metrics["gates.cz.tgss.QB3__QB8.duration"]["value"] == "4e-08"
    assert metrics["gates.measure.constant.QB1.duration"] == {
        "value": "1.5e-06",
        "unit": "s",
        "uncertainty": None,
        "timestamp": ts,
    }
    # 20 qubits x (T1, T2, PRX fidelity, 3 readout figures, prx/cc_prx/measure durations)
    # + 30 couplers x (CZ fidelity, CZ duration).
    assert len(metrics) == 20 * 9 + 30 * 2


def test_quality_metrics_star_device() -> None:
    device = get_device("deneb")
    old = device.calibrations[1]
    body = quality_metrics(device, old)
    metrics = body["metrics"]
    assert metrics["characterization.model.CR1.t1_time"]["value"] == "4.86e-06"  # 0.9 x 5.4 µs
    assert metrics["characterization.model.CR1.t2_time"]["value"] == "9.72e-06"
    assert metrics["metrics.irb.move.tgss_crf.QB6__CR1.fidelity"]["value"] == "0.989489"
    assert metrics["gates.move.tgss_crf.QB1__CR1.duration"]["value"] == "9.6e-08"
    # The older calibration set has no CZ on (QB6, CR1).
    assert "metrics.irb.cz.tgss.QB6__CR1.fidelity" not in metrics
    assert "gates.cz.tgss.QB6__CR1.duration" not in metrics
    assert body["calibration_set_created_timestamp"] == "2026-01-08T06:00:00+00:00"
    assert body["quality_metric_set_id"] == str(old.calibration_set_id)


def test_no_feedback_metrics_without_feedback() -> None:
    device = get_device("adonis")
    metrics = quality_metrics(device, device.default_calibration)["metrics"]
    assert not [name for name in metrics if "cc_prx" in name]


def test_calibration_set_observations() -> None:
    device = get_device("adonis")
    cal = device.default_calibration
    body = calibration_set(device, cal)
    observations = body["observations"]
    # 5 prx + 4 cz + 5 measure durations.
    assert len(observations) == 14
    assert [o["observation_id"] for o in observations.values()] == list(range(1, 15))
    assert observations["gates.cz.tgss.QB3__QB5.duration"] == {
        "observation_id": 9,
        "dut_field": "gates.cz.tgss.QB3__QB5.duration",
        "unit": "s",
        "value": 8e-08,
        "uncertainty": None,
        "invalid": False,
        "created_timestamp": cal.created_timestamp,
        "modified_timestamp": cal.created_timestamp,
    }
    assert body["calibration_set_dut_label"] == "M138_W0_A22_Z99"
    assert body["calibration_set_is_invalid"] is False


def test_client_libraries() -> None:
    body = client_libraries()
    libraries = ClientLibraryDict.validate_python(body)
    assert (libraries["iqm-client"].min, libraries["iqm-client"].max) == ("22.0", "23.0")
    assert libraries["iqm-client"].name == "IQM Client"
    assert client_libraries("20.0", "21.5")["iqm-client"]["max"] == "21.5"


@pytest.mark.parametrize(
    ("low", "high", "message"),
    [
        ("latest", "23.0", "min_version 'latest' is not a version number; use a form like '22.0'."),
        ("22.0", "", "max_version '' is not a version number; use a form like '22.0'."),
        ("23.0", "22.0", "max_version '22.0' must be greater than min_version '23.0'."),
    ],
)
def test_client_libraries_rejects_bad_range(low: str, high: str, message: str) -> None:
    with pytest.raises(ValueError, match=r"^(min|max)_version ") as info:
        client_libraries(low, high)
    assert str(info.value) == message
