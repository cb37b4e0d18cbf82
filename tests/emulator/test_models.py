"""The emulator's own wire models: iqm-client-free, and the same JSON as iqm-client's.

The first test runs under any iqm-client (or none); the round trips compare the 22.x models
with iqm-client 22.16's where it is installed, and the IQM Server API models with iqm-client
36's where that is installed.
"""

from __future__ import annotations

import json
import math
import re
import subprocess
import sys
import textwrap
from importlib import resources
from pathlib import Path
from typing import Any

import pytest
from iqm_client_line import IQM_CLIENT_22, IQM_CLIENT_36, REASON_22, REASON_36
from pydantic import BaseModel

from pytket.extensions.iqm.emulator.devices.catalogue import get_device
from pytket.extensions.iqm.emulator.http.rest_v1 import models
from pytket.extensions.iqm.emulator.http.server_api import models as models_server_api
from pytket.extensions.iqm.emulator.http.server_api import payloads as payloads_server_api

# The package under test (the installed one in CI), whose emulator modules the child imports.
PACKAGE_DIR = Path(str(resources.files("pytket.extensions.iqm")))
CAL = "66ee0a15-843b-549b-b70e-153278ff0eca"


def test_the_emulator_imports_no_iqm_package() -> None:
    """Every emulator module imports, and an application is built, with ``iqm`` unimportable.

    The package ``__init__`` (which loads the backend, hence iqm-client) is bypassed: this is
    about the emulator's own modules.
    """
    script = textwrap.dedent(
        f"""
        import importlib, pkgutil, sys, types

        class Block:
            def find_spec(self, name, path=None, target=None):
                if name == "iqm" or name.startswith("iqm."):
                    raise ImportError(f"blocked: {{name}}")
                return None

        sys.meta_path.insert(0, Block())
        import pytket.extensions
        package = types.ModuleType("pytket.extensions.iqm")
        package.__path__ = [{str(PACKAGE_DIR)!r}]
        sys.modules["pytket.extensions.iqm"] = package
        import pytket.extensions.iqm.emulator as emulator
        for info in pkgutil.walk_packages(emulator.__path__, emulator.__name__ + "."):
            importlib.import_module(info.name)
        from pytket.extensions.iqm.emulator.http.app import create_app
        create_app()
        loaded = sorted(m for m in sys.modules if m == "iqm" or m.startswith("iqm."))
        print("loaded:", loaded)
        """
    )
    done = subprocess.run(
        [sys.executable, "-c", script],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert done.returncode == 0, done.stderr[-2000:]
    assert done.stdout.strip().endswith("loaded: []")


def _request_body() -> dict[str, Any]:
    """A 22.x run request with every field set."""
    return {
        "circuits": [
            {
                "name": "all",
                "instructions": [
                    {
                        "name": "prx",
                        "implementation": "drag_gaussian",
                        "qubits": ["a"],
                        "args": {"angle_t": 0.25, "phase_t": 1},
                    },
                    {"name": "cz", "qubits": ["a", "b"], "args": {}},
                    {"name": "measure", "qubits": ["a"], "args": {"key": "m", "feedback_key": "f"}},
                    {
                        "name": "cc_prx",
                        "qubits": ["b"],
                        "args": {
                            "angle_t": 0.5,
                            "phase_t": 0.0,
                            "feedback_key": "f",
                            "feedback_qubit": "a",
                        },
                    },
                    {"name": "delay", "qubits": ["a", "b"], "args": {"duration": 1e-7}},
                    {"name": "reset", "qubits": ["a"], "args": {}},
                    {"name": "barrier", "qubits": ["a", "b"], "args": {}},
                ],
                "metadata": {"origin": "test"},
            }
        ],
        "custom_settings": {"x": 1},
        "calibration_set_id": CAL,
        "qubit_mapping": [
            {"logical_name": "a", "physical_name": "QB1"},
            {"logical_name": "b", "physical_name": "QB2"},
        ],
        "shots": 12,
        "max_circuit_duration_over_t2": 0.5,
        "heralding_mode": "zeros",
        "move_validation_mode": "allow_prx",
        "move_gate_frame_tracking_mode": "no_detuning_correction",
        "active_reset_cycles": 2,
        "dd_mode": "enabled",
        "dd_strategy": {
            "merge_contiguous_waits": False,
            "target_qubits": ["QB1"],
            "skip_leading_wait": True,
            "skip_trailing_wait": False,
            "gate_sequences": [[9, "XYXYYXYX", "asap"], [2, [[3.14, 0.0], [3.14, 1.57]], "center"]],
        },
    }


def _result_body() -> dict[str, Any]:
    return {
        "status": "ready",
        "measurements": [{"m": [[0], [1]]}],
        "message": None,
        "metadata": {
            "calibration_set_id": CAL,
            "request": _request_body(),
            "cocos_version": "emulated-22",
            "timestamps": {"job_start": "2026-01-01T00:00:00+00:00"},
        },
        "warnings": ["careful"],
    }


CASES_22 = [
    ("RunRequest", _request_body()),
    ("RunRequest", {"circuits": [_request_body()["circuits"][0]], "shots": 1}),
    ("RunResult", _result_body()),
    ("RunStatus", {"status": "pending compilation", "message": None, "warnings": None}),
    (
        "RunCounts",
        {"status": "ready", "counts_batch": [{"measurement_keys": ["m"], "counts": {"0": 2}}]},
    ),
]


@pytest.mark.skipif(not IQM_CLIENT_22, reason=REASON_22)
@pytest.mark.parametrize(("name", "body"), CASES_22, ids=[c[0] for c in CASES_22])
def test_22x_models_give_iqm_client_22_json(name: str, body: dict[str, Any]) -> None:
    import iqm.iqm_client as theirs

    ours_model: type[BaseModel] = getattr(models, name)
    their_model: type[BaseModel] = getattr(theirs, name)
    text = json.dumps(body)
    for exclude_none in (False, True):
        ours = _without_emulator_fields(
            ours_model.model_validate_json(text).model_dump_json(exclude_none=exclude_none)
        )
        assert (
            their_model.model_validate_json(text).model_dump_json(exclude_none=exclude_none) == ours
        )
        # Each side reads the other's output back to the same JSON.
        assert (
            their_model.model_validate_json(ours).model_dump_json(exclude_none=exclude_none) == ours
        )


def _without_emulator_fields(text: str) -> str:
    """The JSON without the emulator's own, empty ``metadata.simulation`` (iqm-client ignores
    it; the bodies compared here have none)."""
    return text.replace(',"simulation":null', "")


@pytest.mark.skipif(not IQM_CLIENT_22, reason=REASON_22)
def test_iqm_client_22_reads_a_result_with_the_simulation_report() -> None:
    import iqm.iqm_client as theirs

    body = _result_body()
    body["metadata"]["simulation"] = [
        {"circuit": "c", "method": "mps", "discarded_weight": 0.0, "bond_dimension": 2}
    ]
    ours = models.RunResult.model_validate(body)
    assert ours.metadata.simulation is not None
    assert ours.metadata.simulation[0].method == "mps"
    theirs_result = theirs.RunResult.model_validate_json(ours.model_dump_json())
    assert theirs_result.metadata.calibration_set_id == ours.metadata.calibration_set_id


@pytest.mark.skipif(not IQM_CLIENT_22, reason=REASON_22)
@pytest.mark.parametrize(
    ("instruction", "error"),
    [
        ({"name": "swap", "qubits": ["a"]}, 'Unknown operation "swap"'),
        ({"name": "cz", "qubits": ["a"], "args": {}}, 'The "cz" operation acts on 2 qubit(s)'),
        ({"name": "prx", "qubits": ["a"], "args": {"angle_t": 1}}, "requires"),
        (
            {"name": "barrier", "qubits": ["a"], "args": {"x": 1}},
            'The operation "barrier" allows no',
        ),
        (
            {"name": "measure", "qubits": ["a"], "args": {"key": "m"}, "implementation": ""},
            "non-empty",
        ),
    ],
)
def test_22x_instruction_checks_match_iqm_client_22(
    instruction: dict[str, Any], error: str
) -> None:
    import iqm.iqm_client as theirs
    from pydantic import ValidationError

    for model in (models.Instruction, theirs.Instruction):
        with pytest.raises(ValidationError, match=re.escape(error)):
            model.model_validate(instruction)
    wrong_type = {"name": "delay", "qubits": ["a"], "args": {"duration": 100}}
    for model in (models.Instruction, theirs.Instruction):
        with pytest.raises(TypeError, match='The argument "duration" should be of one of'):
            model.model_validate(wrong_type)


def _definition_body() -> dict[str, Any]:
    return {
        "circuits": [
            {
                "name": "c",
                "instructions": [
                    {
                        "name": "prx",
                        "locus": ["a"],
                        "args": {"angle": math.pi, "phase": 0.5},
                        "implementation": None,
                    },
                    {
                        "name": "measure",
                        "locus": ["a"],
                        "args": {"key": "m"},
                        "implementation": None,
                    },
                ],
                "metadata": {"k": 1},
            }
        ],
        "calibration_set_id": CAL,
        "qubit_mapping": [{"logical_name": "a", "physical_name": "QB1"}],
        "shots": 3,
        "max_circuit_duration_over_t2": None,
        "heralding_mode": "none",
        "move_gate_validation": "allow_prx",
        "move_gate_frame_tracking": "none",
        "active_reset_cycles": None,
        "dd_mode": "disabled",
        "dd_strategy": None,
    }


@pytest.mark.skipif(not IQM_CLIENT_36, reason=REASON_36)
# iqm-client's circuit batch also tries its deprecated circuit model when it parses JSON.
@pytest.mark.filterwarnings("ignore:.*_Instruction|.*_Circuit:DeprecationWarning")
def test_server_api_models_give_iqm_client_36_json() -> None:
    from iqm.station_control.interface.models import CircuitJobDefinition
    from iqm.station_control.interface.models.jobs_new import JobData
    from iqm.station_control.interface.models.observation_set import QualityMetricSet

    text = json.dumps(_definition_body())
    ours = models_server_api.CircuitJobDefinition.model_validate_json(text).model_dump_json()
    theirs = CircuitJobDefinition.model_validate_json(text)
    assert json.loads(theirs.model_dump_json()) == json.loads(ours)
    assert json.loads(CircuitJobDefinition.model_validate_json(ours).model_dump_json()) == (
        json.loads(ours)
    )
    device = get_device("deneb")
    metrics = payloads_server_api.quality_metric_set(device, device.default_calibration)
    parsed = QualityMetricSet.model_validate(metrics)
    assert len(parsed.observations) == len(metrics["observations"])
    data = {
        "id": CAL,
        "type": "circuit",
        "status": "failed",
        "execution": None,
        "compilation": {"calibration_set_id": CAL},
        "messages": [{"source": "iqm-server", "message": "m"}],
        "errors": [{"message": "e", "error_code": "job_failed", "source": "iqm-server"}],
        "queue_position": None,
        "timeline": [
            {"source": "iqm-server", "status": "created", "timestamp": "2026-01-01T00:00:00+00:00"}
        ],
        "artifacts": [],
    }
    validated = models_server_api.JobData.model_validate(data)
    assert (
        JobData.model_validate_json(validated.model_dump_json()).errors[0].error_code
        == "job_failed"
    )
