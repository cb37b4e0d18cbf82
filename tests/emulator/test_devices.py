"""The emulator's device catalogue and the device file reader."""

from __future__ import annotations

import copy
import json
import uuid
from importlib import resources
from pathlib import Path
from typing import Any

import pytest

from pytket.extensions.iqm.emulator.devices.catalogue import (
    InvalidDeviceFileError,
    UnknownDeviceError,
    catalogue,
    get_device,
    load_device_file,
)
from pytket.extensions.iqm.emulator.devices.device import (
    Calibration,
    Device,
    UnknownCalibrationError,
)

# The device files of the package under test (the installed one in CI, not the checkout's).
DATA_DIR = Path(str(resources.files("pytket.extensions.iqm.emulator.devices") / "data"))

# Crystal-20 couplers (Apollo = Garnet), as listed in the reference ("a-b" means QBa-QBb).
CRYSTAL_20 = (
    "1-2 1-4 2-5 3-4 3-8 4-5 4-9 5-6 5-10 6-7 6-11 7-12 8-9 8-13 9-10 9-14 10-11 10-15 11-12 "
    "11-16 12-17 13-14 14-15 14-18 15-16 15-19 16-17 16-20 18-19 19-20"
)


def _pairs(text: str) -> set[frozenset[str]]:
    return {frozenset(f"QB{n}" for n in item.split("-")) for item in text.split()}


# ---------------------------------------------------------------------------------------------
# Catalogue contents


def test_catalogue_names() -> None:
    assert sorted(catalogue()) == ["adonis", "apollo", "deneb", "emerald", "garnet"]


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("adonis", ("Adonis", 5, (), 4, 0, False)),
        ("apollo", ("Apollo", 20, (), 30, 0, True)),
        ("garnet", ("Garnet", 20, (), 30, 0, True)),
        ("deneb", ("Deneb", 6, ("CR1",), 6, 6, True)),
        ("emerald", ("Emerald", 54, (), 90, 0, True)),
    ],
)
def test_device_counts(
    name: str, expected: tuple[str, int, tuple[str, ...], int, int, bool]
) -> None:
    display, qubits, resonators, cz, move, feedback = expected
    device = get_device(name)
    cal = device.default_calibration
    assert device.name == name
    assert device.display_name == display
    assert device.qubits == tuple(f"QB{i}" for i in range(1, qubits + 1))
    assert cal.qubits == device.qubits
    assert device.computational_resonators == resonators == cal.computational_resonators
    assert len(cal.cz_loci) == cz
    assert len(device.connectivity) == cz
    assert len(cal.move_loci) == move
    assert cal.supports_feedback is feedback
    # Every component has coherence times; every qubit has gate and readout figures.
    assert set(cal.t1) == set(cal.t2) == set(cal.components)
    assert set(cal.prx_depolarizing) == set(cal.readout_p1_given_0) == set(cal.qubits)
    assert set(cal.prx_fidelity) == set(cal.qubits)
    assert set(cal.cz_depolarizing) == set(cal.cz_fidelity) == set(cal.cz_loci)
    assert set(cal.move_depolarizing) == set(cal.move_fidelity) == set(cal.move_loci)


def test_adonis_is_a_star_around_qb3() -> None:
    cal = get_device("adonis").default_calibration
    assert all("QB3" in locus for locus in cal.cz_loci)
    assert {q for locus in cal.cz_loci for q in locus} == {"QB1", "QB2", "QB3", "QB4", "QB5"}


@pytest.mark.parametrize("name", ["apollo", "garnet"])
def test_crystal_20_couplers(name: str) -> None:
    device = get_device(name)
    assert {frozenset(locus) for locus in device.default_calibration.cz_loci} == _pairs(CRYSTAL_20)
    assert {frozenset(pair) for pair in device.connectivity} == _pairs(CRYSTAL_20)


def test_emerald_layout_spot_couplers() -> None:
    device = get_device("emerald")
    couplers = {frozenset(locus) for locus in device.default_calibration.cz_loci}
    assert _pairs("1-2 1-5 22-30 31-39 50-54 52-53 53-54") <= couplers
    assert frozenset({"QB30", "QB39"}) not in couplers


def test_deneb_star_with_resonator() -> None:
    cal = get_device("deneb").default_calibration
    expected = tuple((f"QB{i}", "CR1") for i in range(1, 7))
    assert cal.move_loci == expected
    assert cal.cz_loci == expected
    assert cal.t1["CR1"] == pytest.approx(5.4e-6, rel=1e-12)
    assert cal.t2["CR1"] == pytest.approx(10.8e-6, rel=1e-12)
    assert cal.durations["move"] == pytest.approx(96e-9, rel=1e-12)
    assert cal.move_depolarizing[("QB1", "CR1")] == 0.0
    assert cal.move_fidelity[("QB4", "CR1")] == 0.991241


def test_spot_values_match_reference() -> None:
    garnet = get_device("garnet").default_calibration
    assert garnet.t1["QB1"] == pytest.approx(37741e-9, rel=1e-12)
    assert garnet.t2["QB20"] == pytest.approx(11930e-9, rel=1e-12)
    assert garnet.prx_depolarizing["QB6"] == 0.00384
    # The reference writes this coupler ("QB8", "QB3"); the catalogue uses the chip orientation.
    assert garnet.cz_depolarizing[("QB3", "QB8")] == 0.00599
    assert garnet.cz_fidelity[("QB3", "QB8")] == 0.991675
    assert garnet.readout_p1_given_0["QB3"] == 0.0285
    assert garnet.readout_p0_given_1["QB3"] == 0.0245
    assert garnet.prx_fidelity["QB1"] == 0.998762
    adonis = get_device("adonis").default_calibration
    assert adonis.cz_depolarizing[("QB3", "QB5")] == 0.0373
    assert adonis.readout_p1_given_0["QB3"] == 0.056
    apollo = get_device("apollo").default_calibration
    assert apollo.prx_fidelity["QB15"] == 0.9973
    assert apollo.durations["prx"] == pytest.approx(42e-9, rel=1e-12)
    emerald = get_device("emerald")
    assert emerald.dut_label == "M213_W0_H03_Z99"
    assert emerald.default_calibration.cz_fidelity[("QB1", "QB2")] == 0.980234
    assert emerald.default_calibration.t1["QB21"] == pytest.approx(49500e-9, rel=1e-12)


def test_durations() -> None:
    garnet = get_device("garnet").default_calibration.durations
    assert dict(garnet) == pytest.approx(
        {"prx": 20e-9, "cz": 40e-9, "measure": 1.5e-6, "cc_prx": 520e-9, "reset": 2020e-9},
        rel=1e-12,
    )
    adonis = get_device("adonis").default_calibration.durations
    assert set(adonis) == {"prx", "cz", "measure"}  # no feedback, hence no cc_prx/reset


# ---------------------------------------------------------------------------------------------
# Calibration sets


@pytest.mark.parametrize("name", ["adonis", "apollo", "deneb", "emerald", "garnet"])
def test_two_calibration_sets_default_first(name: str) -> None:
    device = get_device(name)
    new, old = device.calibrations
    assert device.default_calibration is new
    assert new.calibration_set_id != old.calibration_set_id
    namespace = uuid.uuid5(uuid.NAMESPACE_URL, "urn:pytket-iqm:emulator:calibration-set")
    assert new.calibration_set_id == uuid.uuid5(namespace, f"{name}/0")
    assert old.calibration_set_id == uuid.uuid5(namespace, f"{name}/1")
    assert new.created_timestamp > old.created_timestamp
    # The older set lacks the last coupler and is worse everywhere else.
    assert old.cz_loci == new.cz_loci[:-1]
    assert old.move_loci == new.move_loci
    assert old.t1["QB1"] == pytest.approx(0.9 * new.t1["QB1"], rel=1e-3)
    first = new.cz_loci[0]
    assert old.cz_fidelity[first] < new.cz_fidelity[first]
    assert old.cz_depolarizing[first] > new.cz_depolarizing[first]


def test_calibration_ids_are_stable() -> None:
    device = get_device("garnet")
    assert str(device.default_calibration.calibration_set_id) == (
        "66ee0a15-843b-549b-b70e-153278ff0eca"
    )


def test_calibration_lookup() -> None:
    device = get_device("deneb")
    old = device.calibrations[1]
    assert device.calibration("default") is device.default_calibration
    assert device.calibration(old.calibration_set_id) is old
    assert device.calibration(str(old.calibration_set_id)) is old
    assert device.calibration(str(old.calibration_set_id).upper()) is old


@pytest.mark.parametrize("wanted", ["not-a-uuid", "00000000-0000-0000-0000-000000000000"])
def test_unknown_calibration(wanted: str) -> None:
    device = get_device("adonis")
    ids = ", ".join(str(c.calibration_set_id) for c in device.calibrations)
    with pytest.raises(UnknownCalibrationError) as info:
        device.calibration(wanted)
    assert str(info.value) == (
        f"Device 'adonis' has no calibration set '{wanted}'; use 'default' or one of: {ids}."
    )
    assert isinstance(info.value, ValueError)


def test_cz_locus_either_order() -> None:
    cal = get_device("garnet").default_calibration
    assert cal.cz_locus("QB8", "QB3") == ("QB3", "QB8")
    assert cal.cz_locus("QB3", "QB8") == ("QB3", "QB8")
    assert cal.cz_locus("QB1", "QB3") is None


# ---------------------------------------------------------------------------------------------
# Catalogue access


def test_get_device_case_insensitive_and_cached() -> None:
    assert get_device("Garnet") is get_device("garnet")
    assert catalogue() is not catalogue()  # callers may mutate their copy
    assert catalogue()["deneb"] is get_device("deneb")


def test_unknown_device() -> None:
    with pytest.raises(UnknownDeviceError) as info:
        get_device("sirius")
    assert str(info.value) == (
        "Unknown device 'sirius'; known devices: adonis, apollo, deneb, emerald, garnet."
    )


def test_device_derives_chip_from_calibrations() -> None:
    cal = get_device("adonis").calibrations[1]
    device = Device(name="x", display_name="X", dut_label="L", calibrations=(cal,))
    assert device.qubits == cal.qubits
    assert device.connectivity == (("QB1", "QB3"), ("QB2", "QB3"), ("QB3", "QB4"))


def test_device_needs_a_calibration() -> None:
    with pytest.raises(ValueError, match=r"^Device 'x' needs at least one calibration set\.$"):
        Device(name="x", display_name="X", dut_label="L", calibrations=())


# ---------------------------------------------------------------------------------------------
# Device files


@pytest.mark.parametrize("name", ["adonis", "deneb", "garnet"])
def test_load_device_file_round_trip(name: str) -> None:
    assert load_device_file(DATA_DIR / f"{name}.json") == get_device(name)
    assert load_device_file(str(DATA_DIR / f"{name}.json")) == get_device(name)


def _minimal() -> dict[str, Any]:
    """A small valid star device: two qubits and a resonator."""
    return {
        "name": "tiny",
        "qubits": ["QB1", "QB2"],
        "computational_resonators": ["CR1"],
        "calibrations": [
            {
                "calibration_set_id": "11111111-2222-3333-4444-555555555555",
                "supports_feedback": True,
                "durations_ns": {
                    "prx": 20,
                    "cz": 50,
                    "move": 60,
                    "measure": 1000,
                    "cc_prx": 500,
                    "reset": 1500,
                },
                "cz_loci": [["QB1", "CR1"]],
                "move_loci": [["QB2", "CR1"]],
                "t1_ns": {"QB1": 40000, "QB2": 30000, "CR1": 5000},
                "t2_ns": {"QB1": 20000, "QB2": 20000, "CR1": 10000},
                "prx_depolarizing": {"QB1": 0.001, "QB2": 0.002},
                "cz_depolarizing": [["CR1", "QB1", 0.01]],
                "move_depolarizing": [["QB2", "CR1", 0.0]],
                "readout_error": {
                    "QB1": {"p1_given_0": 0.02, "p0_given_1": 0.03},
                    "QB2": {"p1_given_0": 0.01, "p0_given_1": 0.04},
                },
            }
        ],
    }


def _write(tmp_path: Path, data: object) -> Path:
    path = tmp_path / "device.json"
    path.write_text(json.dumps(data))
    return path


def test_minimal_file_defaults(tmp_path: Path) -> None:
    device = load_device_file(_write(tmp_path, _minimal()))
    cal = device.default_calibration
    assert (device.name, device.display_name, device.dut_label) == ("tiny", "tiny", "EMULATED")
    assert device.connectivity == (("CR1", "QB1"), ("CR1", "QB2"))
    assert cal.calibration_set_id == uuid.UUID("11111111-2222-3333-4444-555555555555")
    # A locus written in the other order is stored under the calibrated orientation.
    assert dict(cal.cz_depolarizing) == {("QB1", "CR1"): 0.01}
    assert cal.durations["cz"] == 5e-8
    assert cal.t1["CR1"] == 5e-6
    assert cal.readout_p0_given_1 == {"QB1": 0.03, "QB2": 0.04}
    assert cal.prx_fidelity == {}
    assert cal.created_timestamp == Calibration.created_timestamp


def _cal0(data: dict[str, Any]) -> dict[str, Any]:
    cal: dict[str, Any] = data["calibrations"][0]
    return cal


def _drop_name(d: dict[str, Any]) -> None:
    del d["name"]


def _drop_t1(d: dict[str, Any]) -> None:
    del _cal0(d)["t1_ns"]["QB2"]


def _long_t2(d: dict[str, Any]) -> None:
    _cal0(d)["t2_ns"]["QB1"] = 90000


def _unknown_component(d: dict[str, Any]) -> None:
    _cal0(d)["cz_loci"] = [["QB1", "QB9"]]


def _missing_depolarizing(d: dict[str, Any]) -> None:
    _cal0(d)["cz_depolarizing"] = []


def _readout_out_of_range(d: dict[str, Any]) -> None:
    _cal0(d)["readout_error"]["QB1"]["p1_given_0"] = 1.5


def _bad_uuid(d: dict[str, Any]) -> None:
    _cal0(d)["calibration_set_id"] = "cal-1"


def _duplicate_id(d: dict[str, Any]) -> None:
    d["calibrations"].append(copy.deepcopy(_cal0(d)))


def _feedback_without_duration(d: dict[str, Any]) -> None:
    del _cal0(d)["durations_ns"]["reset"]


def _unknown_gate(d: dict[str, Any]) -> None:
    _cal0(d)["durations_ns"]["swap"] = 10


def _reversed_move(d: dict[str, Any]) -> None:
    _cal0(d)["move_loci"] = [["CR1", "QB2"]]


def _bool_number(d: dict[str, Any]) -> None:
    _cal0(d)["prx_depolarizing"]["QB2"] = True


def _future_schema(d: dict[str, Any]) -> None:
    d["schema_version"] = 2


def _not_a_coupler(d: dict[str, Any]) -> None:
    d["connectivity"] = [["QB1", "CR1"]]


def _no_calibrations(d: dict[str, Any]) -> None:
    d["calibrations"] = []


def _extra_readout_qubit(d: dict[str, Any]) -> None:
    _cal0(d)["readout_error"]["QB7"] = {"p1_given_0": 0.0, "p0_given_1": 0.0}


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (_drop_name, "name: missing required field"),
        (_drop_t1, "calibrations[0].t1_ns: no value for 'QB2'"),
        (_long_t2, "calibrations[0].t2_ns.QB1: T2 = 90000 ns exceeds 2·T1 = 80000 ns"),
        (_unknown_component, "calibrations[0].cz_loci[0][1]: unknown component 'QB9'"),
        (_missing_depolarizing, "calibrations[0].cz_depolarizing: no value for (QB1, CR1)"),
        (
            _readout_out_of_range,
            "calibrations[0].readout_error.QB1.p1_given_0: 1.5 is out of range: "
            "must be between 0 and 1",
        ),
        (_bad_uuid, "calibrations[0].calibration_set_id: 'cal-1' is not a UUID"),
        (
            _duplicate_id,
            "calibrations[1].calibration_set_id: 11111111-2222-3333-4444-555555555555 is used "
            "by an earlier calibration set",
        ),
        (_feedback_without_duration, "calibrations[0].durations_ns: no duration for 'reset'"),
        (
            _unknown_gate,
            "calibrations[0].durations_ns.swap: unknown gate 'swap'; expected one of prx, cz, "
            "move, measure, cc_prx, reset",
        ),
        (
            _reversed_move,
            "calibrations[0].move_loci[0]: a MOVE locus is [qubit, computational resonator]",
        ),
        (_bool_number, "calibrations[0].prx_depolarizing.QB2: expected a number, got a boolean"),
        (_future_schema, "schema_version: unsupported version 2; expected 1"),
        (
            _not_a_coupler,
            "calibrations[0].move_loci[0]: (QB2, CR1) is not a coupler in 'connectivity'",
        ),
        (_no_calibrations, "calibrations: a device needs at least one calibration set"),
        (_extra_readout_qubit, "calibrations[0].readout_error.QB7: unknown qubit 'QB7'"),
    ],
)
def test_load_device_file_errors(tmp_path: Path, mutate: Any, message: str) -> None:
    data = _minimal()
    mutate(data)
    path = _write(tmp_path, data)
    with pytest.raises(InvalidDeviceFileError) as info:
        load_device_file(path)
    assert str(info.value) == f"Invalid device file '{path}': {message}"
    assert isinstance(info.value, ValueError)


def test_load_device_file_not_json(tmp_path: Path) -> None:
    path = tmp_path / "broken.json"
    path.write_text('{"name": "x",\n  oops}')
    with pytest.raises(InvalidDeviceFileError) as info:
        load_device_file(path)
    assert str(info.value) == (
        f"Invalid device file '{path}': not valid JSON: "
        "Expecting property name enclosed in double quotes at line 2 column 3"
    )


def test_load_device_file_top_level_not_object(tmp_path: Path) -> None:
    path = _write(tmp_path, [1, 2])
    with pytest.raises(InvalidDeviceFileError) as info:
        load_device_file(path)
    assert str(info.value) == (
        f"Invalid device file '{path}': top level: expected an object, got a list"
    )
