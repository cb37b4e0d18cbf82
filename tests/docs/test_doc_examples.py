"""Every Python example in ``docs/*.rst`` runs, page by page, against local emulators.

Each page's ``.. code-block:: python``, ``.. testcode::`` blocks run in order in one namespace,
after the page's ``.. testsetup::`` blocks (hidden in the HTML; they bind what the page takes
as given, such as ``backend``) and before its ``.. testcleanup::`` blocks. rst comments right
before a block (blank lines allowed in between) change how it is used:

``.. no-run: <reason>``
    not run (e.g. it needs a real IQM server); the reason is required.
``.. needs: <module>[, <module>...]``
    run only when these optional modules import (e.g. ``tqdm``, ``matplotlib``).
``.. iqm-client: <major> [<major>...]``
    the iqm-client lines the block runs with; unmarked blocks need the 22.x line.
``.. write-file: <name>``
    the block (any language) is written to ``<name>`` in the page's working directory before
    the page runs, so that its examples can read it.

Pages run in a temporary working directory, with a temporary pytket config directory and no
``IQM_*`` environment variables, so no example touches the user's files or credentials.
"""

from __future__ import annotations

import importlib
import importlib.util
import inspect
import os
import re
import sys
import textwrap
from collections.abc import Iterator
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import Any

import pytest

from pytket.extensions.iqm import errors
from pytket.extensions.iqm.emulator import IQMEmulator

os.environ.setdefault("MPLBACKEND", "Agg")  # examples that plot never open a window

DOCS = Path(__file__).resolve().parents[2] / "docs"
REFERENCE_PAGES = frozenset(
    {"index.rst", "api.rst", "architecture.rst", "changelog.rst", "troubleshooting.rst"}
)
"""Pages of pure reference or prose: they need no runnable example."""

IQM_CLIENT_LINE = version("iqm-client").split(".")[0]
DEFAULT_LINES = frozenset({"22"})

_DIRECTIVE = re.compile(
    r"^(?P<indent>\s*)\.\. (?:(?P<kind>code-block|code|sourcecode|testcode|testsetup|testcleanup)"
    r"::\s*(?P<language>\S*).*)$"
)
_MARKER = re.compile(r"^\s*\.\. (?P<name>no-run|needs|iqm-client|write-file):\s*(?P<value>.*)$")
_RUN_LANGUAGES = {"python", "python3", "py", "pycon"}
_TEST_KINDS = {"testcode", "testsetup", "testcleanup"}


@dataclass
class Block:
    """One code block of a page."""

    page: str
    line: int
    kind: str
    language: str
    code: str
    markers: dict[str, str] = field(default_factory=dict)

    @property
    def runnable(self) -> bool:
        return (
            self.kind in _TEST_KINDS or self.language in _RUN_LANGUAGES
        ) and "write-file" not in self.markers

    @property
    def lines(self) -> frozenset[str]:
        marked = self.markers.get("iqm-client")
        return frozenset(marked.split()) if marked else DEFAULT_LINES

    def skip_reason(self) -> str | None:
        """Why the block is not run here, or ``None`` to run it."""
        if "no-run" in self.markers:
            return f"no-run: {self.markers['no-run']}"
        if IQM_CLIENT_LINE not in self.lines:
            return f"written for iqm-client {'/'.join(sorted(self.lines))}.x"
        for module in filter(None, (m.strip() for m in self.markers.get("needs", "").split(","))):
            if importlib.util.find_spec(module) is None:
                return f"needs {module}"
        return None

    @property
    def where(self) -> str:
        return f"docs/{self.page}:{self.line}"


def parse_blocks(page: Path) -> list[Block]:
    """The code blocks of an rst page, with the markers written right before each."""
    lines = page.read_text(encoding="utf-8").splitlines()
    blocks: list[Block] = []
    pending: dict[str, str] = {}
    index = 0
    while index < len(lines):
        text = lines[index]
        marker = _MARKER.match(text)
        directive = _DIRECTIVE.match(text)
        if marker:
            value = marker["value"].strip()
            if not value:
                raise ValueError(f"docs/{page.name}:{index + 1}: marker without a value")
            pending[marker["name"]] = value
            index += 1
            continue
        if directive:
            indent = len(directive["indent"])
            start = index + 1
            index += 1
            body: list[str] = []
            # Options (":linenos:"), then the content: lines indented deeper than the directive.
            while index < len(lines) and (
                not lines[index].strip() or len(lines[index]) - len(lines[index].lstrip()) > indent
            ):
                body.append(lines[index])
                index += 1
            content = [line for line in body if not re.match(r"^\s*:[\w-]+:", line)]
            first = next((i for i, line in enumerate(body) if line.strip()), 0)
            blocks.append(
                Block(
                    page=page.name,
                    line=start + first + 1,
                    kind=directive["kind"],
                    language=directive["language"] or "python",
                    code=textwrap.dedent("\n".join(content)).strip("\n") + "\n",
                    markers=pending,
                )
            )
            pending = {}
            continue
        if text.strip() and pending:
            raise ValueError(
                f"docs/{page.name}:{index + 1}: markers {sorted(pending)} are not followed by a "
                "code block"
            )
        index += 1
    return blocks


PAGES = sorted(path.name for path in DOCS.glob("*.rst"))


@pytest.fixture
def page_environment(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[list[IQMEmulator]]:
    """A scratch working directory and config, no IQM_* variables; records started emulators."""
    for name in list(os.environ):
        if name.startswith("IQM_") and name != "IQM_CLIENT_SECONDS_BETWEEN_CALLS":
            monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "config"))
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    started: list[IQMEmulator] = []
    original_start = IQMEmulator.start

    def recording_start(self: IQMEmulator) -> IQMEmulator:
        started.append(self)
        return original_start(self)

    monkeypatch.setattr(IQMEmulator, "start", recording_start)
    yield started
    for emulator in started:  # only after a failed page: a passing page stopped them all
        if emulator.running:
            emulator.stop()
    if "matplotlib.pyplot" in sys.modules:  # figures an example drew
        sys.modules["matplotlib.pyplot"].close("all")


def _run(block: Block, namespace: dict[str, Any]) -> None:
    # Leading newlines make tracebacks show the block's own line numbers in the page.
    source = "\n" * (block.line - 1) + block.code
    exec(compile(source, f"docs/{block.page}", "exec"), namespace)


@pytest.mark.parametrize("page", PAGES)
def test_page_examples_run(page: str, page_environment: list[IQMEmulator]) -> None:
    blocks = parse_blocks(DOCS / page)
    for block in blocks:
        if "write-file" in block.markers:
            Path(block.markers["write-file"]).write_text(block.code, encoding="utf-8")
    runnable = [block for block in blocks if block.runnable]
    if page in REFERENCE_PAGES and not runnable:
        return
    assert runnable, (
        f"docs/{page} has no runnable example; every page but reference pages needs one"
    )
    to_run = [block for block in runnable if block.skip_reason() is None]
    examples = [block for block in to_run if block.kind not in {"testsetup", "testcleanup"}]
    if not examples:
        reasons = sorted({block.skip_reason() or "" for block in runnable})
        if any(IQM_CLIENT_LINE not in block.lines for block in runnable):
            pytest.skip(
                f"docs/{page}: its examples are written for iqm-client 22.x; this environment "
                f"has iqm-client {version('iqm-client')}"
            )
        pytest.fail(f"docs/{page}: every example is skipped here ({'; '.join(reasons)})")
    setup = [block for block in to_run if block.kind == "testsetup"]
    cleanup = [block for block in to_run if block.kind == "testcleanup"]
    namespace: dict[str, Any] = {"__name__": f"docs_{page.removesuffix('.rst')}"}
    try:
        for block in [*setup, *examples]:
            _run(block, namespace)
    finally:
        for block in cleanup:
            _run(block, namespace)
    left_running = [repr(emulator) for emulator in page_environment if emulator.running]
    assert not left_running, f"docs/{page} starts emulators it does not stop: {left_running}"


def test_markers_are_understood() -> None:
    """Every marker in the docs is attached to a block, and no-run always says why."""
    marked = 0
    for page in PAGES:
        for block in parse_blocks(DOCS / page):
            marked += bool(block.markers)
            if "no-run" in block.markers:
                assert len(block.markers["no-run"]) > 10, f"{block.where}: say why it cannot run"
    assert marked >= 3


def test_troubleshooting_names_every_exception_class() -> None:
    page = (DOCS / "troubleshooting.rst").read_text(encoding="utf-8")
    classes = [
        name
        for name, value in inspect.getmembers(errors, inspect.isclass)
        if issubclass(value, Exception) and value.__module__ == errors.__name__
    ]
    assert len(classes) >= 10
    missing = [name for name in classes if not re.search(rf"\b{name}\b", page)]
    assert not missing, f"docs/troubleshooting.rst does not explain {missing}"
