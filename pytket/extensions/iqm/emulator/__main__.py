"""``python -m pytket.extensions.iqm.emulator``: same as ``pytket-iqm-emulator``."""

import sys

from pytket.extensions.iqm.emulator.cli import main

if __name__ == "__main__":
    sys.exit(main())
