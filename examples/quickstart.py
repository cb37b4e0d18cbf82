"""Run a Bell circuit through IQMBackend → iqm-client → HTTP → the bundled IQM emulator.

Usage: ``python examples/quickstart.py [device]`` (default device: garnet).
"""

from __future__ import annotations

import sys

from pytket import Circuit
from pytket.extensions.iqm import IQMBackend
from pytket.extensions.iqm.emulator import IQMEmulator


def main(device: str = "garnet") -> None:
    """Compile and run a Bell circuit on the emulated device, printing what happened."""
    bell = Circuit(2, 2).H(0).CX(0, 1).measure_all()
    with (
        IQMEmulator(device=device, seed=2026) as emulator,
        # The server root and the device name work with either iqm-client line.
        IQMBackend(emulator.root_url, device=device) as backend,
    ):
        compiled = backend.get_compiled_circuit(bell)
        gate_counts = {
            str(op_type).removeprefix("OpType."): compiled.n_gates_of_type(op_type)
            for op_type in sorted({command.op.type for command in compiled}, key=str)
        }
        print(f"device: {backend.backend_info.device_name} at {backend.url} ({backend.api})")
        print(f"compiled gate counts: {gate_counts}")
        result = backend.run_circuit(compiled, n_shots=1000)
        print(f"counts: {dict(sorted(result.get_counts().items()))}")


if __name__ == "__main__":
    main(*sys.argv[1:2])
