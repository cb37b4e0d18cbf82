"""The simulator: circuits of native operations on physical components, sampled with noise.

``program`` is its circuit representation, ``statevector`` and ``density_matrix`` the two
simulation methods, ``simulator`` the driver that samples shots.

Knows nothing of HTTP or jobs: imports neither :mod:`..http` nor :mod:`..jobs` (the noise model
comes from :mod:`..devices`).
"""
