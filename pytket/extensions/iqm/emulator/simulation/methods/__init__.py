"""The simulation methods: quantum states the executor evolves and samples.

``statevector`` (exact state vectors, also the trajectories of noisy runs) and
``density_matrix`` (exact density matrices); each follows
:class:`~pytket.extensions.iqm.emulator.simulation.quantum_state.SimulatedState`. A new method
adds a module here and a case to the method choice in
:mod:`pytket.extensions.iqm.emulator.simulation.simulator`.

Imports nothing of the emulator outside ``simulation``.
"""
