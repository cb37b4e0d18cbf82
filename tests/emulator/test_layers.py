"""The emulator's layers: each sub-package imports only the layers its docstring allows.

``http`` → ``jobs`` → ``simulation`` / ``devices``; ``simulation`` imports ``devices`` (for the
noise model) and neither ``http`` nor ``jobs``; nothing in the library imports the CLI.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

import pytket.extensions.iqm.emulator as emulator_package

PACKAGE = "pytket.extensions.iqm.emulator"
ROOT = Path(emulator_package.__path__[0])

FORBIDDEN = {
    "http": ("cli", "server"),
    "http.rest_v1": ("http.server_api",),
    "jobs": ("http", "cli", "server", "config"),
    "simulation": ("http", "jobs", "cli", "server", "config"),
    "simulation.methods": ("devices",),
    "devices": ("http", "jobs", "simulation", "cli", "server", "config"),
}
"""Sub-package → emulator modules or packages it must not import."""


def _module_name(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(p for p in parts if p != "__init__")


def _emulator_imports(path: Path) -> set[str]:
    """The emulator modules ``path`` imports, relative to the package (``jobs.store``)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        names: list[str] = []
        if isinstance(node, ast.ImportFrom) and node.module:
            names = [node.module] + [f"{node.module}.{alias.name}" for alias in node.names]
        elif isinstance(node, ast.Import):
            names = [alias.name for alias in node.names]
        found.update(n.removeprefix(PACKAGE + ".") for n in names if n.startswith(PACKAGE + "."))
    return found


MODULES = sorted(ROOT.rglob("*.py"))


def _within(name: str, target: str) -> bool:
    return name == target or name.startswith(target + ".")


@pytest.mark.parametrize("path", MODULES, ids=lambda p: _module_name(p) or "__init__")
def test_module_imports_only_allowed_layers(path: Path) -> None:
    name = _module_name(path)
    imports = _emulator_imports(path)
    for layer, forbidden in FORBIDDEN.items():
        if _within(name, layer):
            wrong = sorted(i for i in imports for f in forbidden if _within(i, f))
            assert not wrong, f"{name} (in {layer}) imports {wrong}"
    if name not in {"__main__", "cli"}:
        assert not any(_within(i, "cli") for i in imports), f"{name} imports the CLI"


def test_the_check_sees_the_package() -> None:
    names = {_module_name(p) for p in MODULES}
    assert {"jobs.worker", "simulation.simulator", "http.app", "devices.catalogue"} <= names
    assert "jobs.spec" in _emulator_imports(ROOT / "jobs" / "worker.py")
