"""Where the benchmark circuit suite lives: the 25 MQT Bench circuits the tests also use.

They are kept once, in the repository (``tests/data/bench-circuits``, with ``manifest.json``),
so the benchmarks and the tests read the same files and nothing outside the repository.
"""

from __future__ import annotations

from pathlib import Path

SUITE_DIR = Path(__file__).resolve().parents[1] / "tests" / "data" / "bench-circuits"
