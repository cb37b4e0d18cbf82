"""The package's layering, read from its source (module-level imports, ``TYPE_CHECKING`` blocks
included; imports inside functions are deliberate late imports and are left out):

* the import graph of ``pytket.extensions.iqm`` (backends and emulator) has no cycle;
* the backends never import the emulator's HTTP layer, not even inside a function;
* the offline device API (``pytket.extensions.iqm.devices``) reaches no HTTP module;
* the emulator's simulation knows nothing of HTTP or jobs;
* the compilation package imports nothing of the connection, the backend or the emulator.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytket.extensions.iqm as package

PACKAGE = "pytket.extensions.iqm"
ROOT = Path(package.__file__).parent


def _module_name(path: Path) -> str:
    parts = [PACKAGE, *path.relative_to(ROOT).with_suffix("").parts]
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


MODULES = {_module_name(path): path for path in sorted(ROOT.rglob("*.py"))}


def _resolve(module: str, node: ast.ImportFrom | ast.Import) -> list[str]:
    """The package modules an import statement in ``module`` loads."""
    if isinstance(node, ast.Import):
        return [alias.name for alias in node.names if alias.name in MODULES]
    base = node.module or ""
    if node.level:
        package_parts = module.split(".")
        if MODULES[module].name != "__init__.py":
            package_parts.pop()
        package_parts = package_parts[: len(package_parts) - node.level + 1]
        base = ".".join([*package_parts, base] if base else package_parts)
    found = []
    for alias in node.names:
        submodule = f"{base}.{alias.name}"
        found.append(submodule if submodule in MODULES else base)
    return [name for name in found if name in MODULES]


def _imports(module: str, *, everywhere: bool) -> set[str]:
    """What ``module`` imports at module level (with ``everywhere``: also inside functions)."""
    tree = ast.parse(MODULES[module].read_text())
    nodes: list[ast.AST] = list(ast.walk(tree)) if everywhere else []
    if not everywhere:
        pending: list[ast.AST] = list(tree.body)
        while pending:
            node = pending.pop()
            nodes.append(node)
            if isinstance(node, ast.If | ast.Try):  # TYPE_CHECKING and optional imports
                pending.extend(ast.iter_child_nodes(node))
    edges: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Import | ast.ImportFrom):
            edges.update(_resolve(module, node))
    edges.discard(module)
    return edges


GRAPH = {module: _imports(module, everywhere=False) for module in MODULES}


def _cycle() -> list[str] | None:
    """A cycle of the import graph, or ``None``."""
    state: dict[str, int] = {}  # 1: on the current path, 2: done
    path: list[str] = []

    def visit(module: str) -> list[str] | None:
        state[module] = 1
        path.append(module)
        for imported in sorted(GRAPH[module]):
            if state.get(imported) == 1:
                return [*path[path.index(imported) :], imported]
            if imported not in state and (cycle := visit(imported)):
                return cycle
        path.pop()
        state[module] = 2
        return None

    for module in sorted(GRAPH):
        if module not in state and (cycle := visit(module)):
            return cycle
    return None


def _under(prefix: str) -> list[str]:
    return [m for m in MODULES if m == prefix or m.startswith(prefix + ".")]


def test_the_graph_sees_both_halves_of_the_package() -> None:
    assert f"{PACKAGE}.backends.iqm" in GRAPH
    assert f"{PACKAGE}.backends.compilation.levels" in GRAPH[f"{PACKAGE}.backends.compilation"]
    assert f"{PACKAGE}.emulator.server" in GRAPH[f"{PACKAGE}.emulator"]


def test_the_import_graph_has_no_cycle() -> None:
    assert _cycle() is None


def test_a_cycle_would_be_found() -> None:
    a, b = f"{PACKAGE}.backends.handles", f"{PACKAGE}.backends.translation"
    GRAPH[b].add(a)
    try:
        assert _cycle() is not None
    finally:
        GRAPH[b].discard(a)


def test_backends_never_import_the_emulators_http_layer() -> None:
    offenders = {
        module: sorted(i for i in _imports(module, everywhere=True) if ".emulator.http" in i)
        for module in _under(f"{PACKAGE}.backends")
    }
    assert {m: found for m, found in offenders.items() if found} == {}


def test_the_offline_device_api_imports_no_http() -> None:
    # pytket.extensions.iqm.devices reads the catalogue and its descriptions, never the HTTP
    # layer (nor, through them, anything that does).
    seen, pending = set(), [f"{PACKAGE}.devices"]
    while pending:
        module = pending.pop()
        if module not in seen:
            seen.add(module)
            pending.extend(_imports(module, everywhere=True))
    assert sorted(m for m in seen if m.startswith(f"{PACKAGE}.emulator.http")) == []
    assert f"{PACKAGE}.emulator.devices.descriptions" in seen


def test_the_simulation_knows_nothing_of_http_or_jobs() -> None:
    layers = (f"{PACKAGE}.emulator.http", f"{PACKAGE}.emulator.jobs")
    offenders = {
        module: sorted(i for i in GRAPH[module] if i.startswith(layers))
        for module in _under(f"{PACKAGE}.emulator.simulation")
    }
    assert {m: found for m, found in offenders.items() if found} == {}


def test_compilation_imports_nothing_of_connection_backend_or_emulator() -> None:
    allowed = (f"{PACKAGE}.backends.compilation", f"{PACKAGE}.backends.architecture")
    offenders = {
        module: sorted(
            i
            for i in _imports(module, everywhere=True)
            if not i.startswith(allowed) and i != f"{PACKAGE}.errors"
        )
        for module in _under(f"{PACKAGE}.backends.compilation")
    }
    assert {m: found for m, found in offenders.items() if found} == {}
