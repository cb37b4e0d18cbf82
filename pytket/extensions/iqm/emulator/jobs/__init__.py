"""Jobs, whichever API line they came in on: their spec, store, validation and execution.

``spec`` is what a job asks for (:class:`~.spec.JobSpec`, built once at submission by the HTTP
layer), ``validation`` checks it against a calibration, ``store`` keeps jobs and results (SQLite,
crash-durable with a file), ``worker`` runs them off the HTTP threads, ``execution`` simulates a
job's circuits in the worker's thread or as tasks on a Dask cluster.

May import :mod:`..simulation` and :mod:`..devices`; never :mod:`..http` (it knows no wire
format).
"""
