"""The simulator: circuits of native operations on physical components, sampled with noise.

``program`` is its input (:class:`~.program.Operation`, :class:`~.program.CircuitSpec`),
``steps`` compiles a circuit and a noise model into gates and noise channels on the active
components, ``executor`` runs them for groups of shots on a state of one of the ``methods``
(``statevector``, ``density_matrix``, ``mps`` the matrix-product state, all following
``quantum_state``'s protocol; ``stabilizer`` hands Clifford circuits to stim instead),
``sampling`` draws outcomes and readout errors, ``simulator`` chooses the method and returns a
``result`` (:func:`~.simulator.simulate`).

Knows nothing of HTTP or jobs: imports neither :mod:`..http` nor :mod:`..jobs`; the noise
model comes from :mod:`..devices`.
"""
