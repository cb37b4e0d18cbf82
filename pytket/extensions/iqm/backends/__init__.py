"""The IQM backend and the modules it is built from."""

from pytket.extensions.iqm.backends.iqm import IQMBackend

__all__ = ["IQMBackend"]
