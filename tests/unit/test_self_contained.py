"""The repository is self-contained: no file in it reads anything outside the repository.

Everything a test, benchmark, script or doc needs lives in the repository (the benchmark circuits
in ``tests/data/bench-circuits``), so a fresh clone with nothing beside it (GitHub's CI, a new
contributor) runs and checks the same things as the development machine. This test scans every
file of the repository for paths that leave it: a sibling ``shared`` folder reached relatively or
joined onto a path, absolute paths of the development machine, and ``Path(__file__)`` parents
above the repository root.
"""

from __future__ import annotations

import re
import subprocess
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
THIS_FILE = Path(__file__).resolve().relative_to(REPO).as_posix()

# Scanned as text: source, docs, configuration, CI scripts (``.ci/run`` has no suffix).
TEXT_SUFFIXES = {"", ".py", ".rst", ".md", ".txt", ".toml", ".ini", ".cfg", ".yml", ".yaml", ".in"}
# Without git (an unpacked sdist) the tree is walked; these are build products and caches.
NOT_SOURCE = {"build", "dist", "__pycache__", "_build", "_generated"}

OUTSIDE_PATTERNS = {
    "a sibling folder reached with ../": re.compile(r"\.\./shared\b"),
    "a 'shared' folder joined onto a path": re.compile(r"/\s*[\"']shared[\"']"),
    "an absolute path of the development machine": re.compile(r"(?<![\w/.:-])/work/"),
    "the parent of the repository root": re.compile(r"\b(?:REPO|ROOT|REPO_ROOT|root)\.parent\b"),
}
# Path(__file__).resolve().parent.parent / .parents[k]: how far up a file reaches.
FILE_ANCHOR = re.compile(
    r"Path\(__file__\)(?:\.resolve\(\))?(?P<parents>(?:\.parent\b)*)(?:\.parents\[(?P<k>\d+)\])?"
)


def repository_files() -> list[str]:
    """The repository's files (tracked and untracked, without ignored ones), relative to REPO."""
    if (REPO / ".git").exists():
        listed = subprocess.run(
            ["git", "ls-files", "--cached", "--others", "--exclude-standard", "-z"],
            cwd=REPO,
            capture_output=True,
            check=True,
        )
        return [name for name in listed.stdout.decode().split("\0") if name]
    return [
        path.relative_to(REPO).as_posix()
        for path in REPO.rglob("*")
        if path.is_file()
        and not any(
            part in NOT_SOURCE or part.endswith(".egg-info") or part.startswith(".venv")
            for part in path.relative_to(REPO).parts
        )
    ]


def outside_references(name: str, text: str) -> list[str]:
    """Each place in ``text`` (the file ``name``, relative to the root) that leaves the root."""
    found = []
    for line_number, line in enumerate(text.splitlines(), 1):
        for what, pattern in OUTSIDE_PATTERNS.items():
            if pattern.search(line):
                found.append(f"{name}:{line_number}: {what}: {line.strip()}")
        for match in FILE_ANCHOR.finditer(line):
            levels = match["parents"].count(".parent") + (int(match["k"]) + 1 if match["k"] else 0)
            # Path(__file__).parent is the file's own folder, at depth len(parts) - 1.
            if levels > len(Path(name).parts):
                found.append(f"{name}:{line_number}: above the repository root: {line.strip()}")
    return found


def test_nothing_reads_outside_the_repository() -> None:
    scanned = 0
    found: list[str] = []
    for name in repository_files():
        path = REPO / name
        if name == THIS_FILE or path.suffix not in TEXT_SUFFIXES or not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except UnicodeDecodeError:
            continue
        scanned += 1
        found += outside_references(name, text)
    assert scanned > 50, f"only {scanned} files scanned: is {REPO} the repository?"
    assert found == []


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("tests/unit/test_x.py", 'SUITE = Path(__file__).resolve().parents[3] / "bench"'),
        ("tests/unit/test_x.py", "DATA = Path(__file__).parent.parent.parent.parent"),
        ("benchmarks/x.py", 'SUITE = REPO.parent / "bench-circuits"'),
        ("benchmarks/x.py", 'SUITE = here / "shared" / "bench-circuits"'),
        ("docs/x.rst", ".. literalinclude:: ../shared/ghz.qasm"),
        ("scripts/x.py", 'DEFAULT = "/work/shared/reference/iqm-devices.json"'),
    ],
)
def test_outside_references_are_found(name: str, line: str) -> None:
    assert len(outside_references(name, line)) == 1


@pytest.mark.parametrize(
    ("name", "line"),
    [
        ("tests/unit/test_x.py", 'DATA = Path(__file__).resolve().parents[1] / "data"'),
        ("tests/unit/test_x.py", "REPO = Path(__file__).resolve().parents[2]"),
        ("benchmarks/x.py", "REPO = Path(__file__).parent.parent"),
        ("README.md", "see https://example.org/work/ and the shared suite"),
    ],
)
def test_references_inside_are_allowed(name: str, line: str) -> None:
    assert outside_references(name, line) == []


def test_benchmark_circuits_are_in_the_repository() -> None:
    suite = REPO / "tests" / "data" / "bench-circuits"
    manifest = (suite / "manifest.json").read_text()
    files = re.findall(r'"file": "([^"]+)"', manifest)
    assert len(files) == 25
    assert all((suite / name).is_file() for name in files)
