"""The IQM backend and the modules it is built from.

* :mod:`.iqm`: :class:`IQMBackend`, pytket's ``Backend`` for IQM devices (backend logic only);
* :mod:`.architecture`: the device model read from a server's dynamic architecture and quality
  metrics (:class:`~.architecture.IQMDevice`, its ``BackendInfo``);
* :mod:`.compilation`: compilation from a ``BackendInfo`` alone (levels 0–3, Star devices);
* :mod:`.translation`: compiled circuits to IQM instructions; :mod:`.results`: measurements back
  to pytket results; :mod:`.handles`: persistent result handles; :mod:`.metadata`: a job's
  metadata as each line presents it; :mod:`.dynamic`: the checks of mid-circuit measurement and
  classical control; :mod:`.progress`: the progress bar;
* :mod:`.connection`: the only door to a server, for either iqm-client line.

Layers, each importing only those below it: ``iqm`` → ``handles``, ``results``,
``translation``, ``metadata``, ``dynamic``, ``progress`` → ``compilation``, ``architecture`` →
``pytket.extensions.iqm.errors`` / ``config``. ``connection`` sits beside them: ``iqm`` and
``handles`` use it, and it uses the circuit types of ``translation`` and ``architecture``. Nothing
here imports the emulator.
"""

from pytket.extensions.iqm.backends.iqm import IQMBackend

__all__ = ["IQMBackend"]
