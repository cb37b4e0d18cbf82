"""The simulation methods: quantum states the executor evolves and samples.

``statevector`` (exact state vectors, also the trajectories of noisy runs),
``density_matrix`` (exact density matrices) and ``mps`` (matrix-product states with bounded
truncation, the trajectories of circuits too large for a state vector); each follows
:class:`~pytket.extensions.iqm.emulator.simulation.quantum_state.SimulatedState`. A new method
adds a module here and a case to the method choice in
:mod:`pytket.extensions.iqm.emulator.simulation.simulator`. ``stabilizer`` is the one method
that is not such a state: it hands a whole Clifford circuit to stim, which samples every shot.

Imports nothing of the emulator outside ``simulation``.
"""
