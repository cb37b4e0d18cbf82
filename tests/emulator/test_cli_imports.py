"""``pytket-iqm-emulator --help`` and ``devices`` load neither the web stack, the simulator nor
pytket's compilation stack (how long they take is measured by ``benchmarks/cli_startup.py``)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

HEAVY = (
    "fastapi",
    "uvicorn",
    "starlette",
    "numpy",
    "scipy",
    "sympy",
    "iqm",
    "pytket.backends",
    "pytket.passes",
    "pytket.utils",
    "pytket.extensions.iqm.backends",
    "pytket.extensions.iqm.emulator.http.app",
    "pytket.extensions.iqm.emulator.http.rest_v1",
    "pytket.extensions.iqm.emulator.http.server_api",
    "pytket.extensions.iqm.emulator.jobs",
    "pytket.extensions.iqm.emulator.simulation",
    "pytket.extensions.iqm.emulator.devices.noise",
)
"""Packages and modules that only serving (or the backend) needs. pydantic is not one: the
device files the catalogue reads are validated with it."""

_PROGRAM = """
import json, sys
from pytket.extensions.iqm.emulator.cli import main
status = main(sys.argv[1:])
print(json.dumps({"status": status, "modules": sorted(sys.modules)}))
"""


def _modules_loaded_by(*argv: str) -> list[str]:
    done = subprocess.run(
        [sys.executable, "-c", _PROGRAM, *argv], capture_output=True, text=True, check=True
    )
    report = json.loads(done.stdout.splitlines()[-1])
    assert report["status"] == 0
    modules: list[str] = report["modules"]
    return modules


@pytest.mark.parametrize("argv", [("--help",), ("devices",), ("--version",)])
def test_command_line_loads_nothing_heavy(argv: tuple[str, ...]) -> None:
    modules = _modules_loaded_by(*argv)
    heavy = [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert heavy == []
    assert "pytket.extensions.iqm.emulator.cli" in modules


def test_package_names_load_on_first_use() -> None:
    """``import pytket.extensions.iqm`` is light; its public names still import from it."""
    program = (
        "import sys; import pytket.extensions.iqm as p; "
        "before = 'pytket.extensions.iqm.backends' in sys.modules; "
        "from pytket.extensions.iqm import IQMBackend, IQMDeviceError, set_iqm_config; "
        "print(before, IQMBackend.__module__, IQMDeviceError.__module__, "
        "set_iqm_config.__module__, 'IQMBackend' in dir(p))"
    )
    done = subprocess.run(
        [sys.executable, "-c", program], capture_output=True, text=True, check=True
    )
    assert done.stdout.split() == [
        "False",
        "pytket.extensions.iqm.backends.iqm",
        "pytket.extensions.iqm.errors",
        "pytket.extensions.iqm.config",
        "True",
    ]


def test_unknown_package_name_is_an_attribute_error() -> None:
    import pytket.extensions.iqm as package

    with pytest.raises(
        AttributeError, match=r"^module 'pytket\.extensions\.iqm' has no attribute 'IQMBakend'$"
    ):
        package.IQMBakend  # noqa: B018
