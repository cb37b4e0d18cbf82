"""One timed client run for ``benchmarks/end_to_end.py``, in a process of its own.

    python _end_to_end_client.py RUN.json

``RUN.json`` holds ``{"client": "ours" | "0.18", "root": ..., "device": ..., "shots": ...,
"circuits": [pytket circuit dicts]}``. The script imports whichever pytket-iqm the running
interpreter has: this project for ``ours``, pytket-iqm 0.18 (from the virtual environment
``end_to_end.py`` makes) for ``0.18``; it refuses to run if the version is not the one asked
for. Once its backend is built it prints ``ready`` and waits for a line on its standard input
(so the caller can count the server's requests from there), then times ``process_circuits``
plus ``get_results`` of the circuits and prints one JSON line ``{"version", "seconds",
"shots"}`` (``shots``: the number of shots in each result).

It imports nothing else of this repository, so that it runs under 0.18 unchanged.
"""

from __future__ import annotations

import json
import sys
import time
import warnings
from pathlib import Path
from typing import Any

from pytket.circuit import Circuit

INCUMBENT_VERSION = "0.18.0"


def _backend(client: str, root: str, device: str) -> tuple[Any, str]:
    from pytket.extensions.iqm import IQMBackend
    from pytket.extensions.iqm._metadata import __extension_version__

    if client == "0.18":
        if __extension_version__ != INCUMBENT_VERSION:
            raise SystemExit(
                f"expected pytket-iqm {INCUMBENT_VERSION}, got {__extension_version__}"
            )
        from pytket.extensions.iqm.backends import iqm as incumbent

        # 0.18 ignores its server_url argument and always connects to _SERVER_URL/<device>
        # (bug B1 of the reference notes): pointing it at the emulator means setting that.
        incumbent._SERVER_URL = root  # type: ignore[attr-defined]
        # Any token: the benchmark's emulator is open, and 0.18 refuses to start without one.
        return IQMBackend(device, api_token="benchmark"), __extension_version__
    if __extension_version__ == INCUMBENT_VERSION:
        raise SystemExit("'ours' must run with this project's pytket-iqm, not 0.18")
    return IQMBackend(root, device=device), __extension_version__


def main() -> None:
    run = json.loads(Path(sys.argv[1]).read_text(encoding="utf-8"))
    warnings.simplefilter("ignore", DeprecationWarning)  # iqm-client 22's V1 notice
    backend, version = _backend(run["client"], run["root"], run["device"])
    circuits = [Circuit.from_dict(data) for data in run["circuits"]]
    print("ready", flush=True)
    sys.stdin.readline()
    start = time.perf_counter()
    handles = backend.process_circuits(circuits, n_shots=run["shots"])
    results = backend.get_results(handles)
    seconds = time.perf_counter() - start
    shots = [sum(result.get_counts().values()) for result in results]
    print(json.dumps({"version": version, "seconds": seconds, "shots": shots}), flush=True)


if __name__ == "__main__":
    main()
