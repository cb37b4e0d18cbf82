"""Tests of the noise model: parameters from a calibration, quirk switches, channel fidelities."""

from __future__ import annotations

import math
from uuid import UUID

import numpy as np
import pytest

from pytket.extensions.iqm.emulator.devices.device import Calibration
from pytket.extensions.iqm.emulator.devices.noise import NoiseModel, Relaxation
from pytket.extensions.iqm.emulator.simulation.methods.density_matrix import DensityMatrix

# Numbers from iqm-devices.json (qiskit-iqm fake backends), converted to seconds:
# Garnet QB1, QB2 and their CZ; Deneb QB1 and CR1 with their MOVE.
CALIBRATION = Calibration(
    calibration_set_id=UUID(int=7),
    qubits=("QB1", "QB2"),
    computational_resonators=("CR1",),
    cz_loci=(("QB1", "QB2"),),
    move_loci=(("QB1", "CR1"),),
    supports_feedback=False,
    durations={"prx": 20e-9, "cz": 40e-9, "move": 96e-9},
    t1={"QB1": 37741e-9, "QB2": 32584e-9, "CR1": 5400e-9},
    t2={"QB1": 9180e-9, "QB2": 10040e-9, "CR1": 10800e-9},
    prx_depolarizing={"QB1": 0.00085, "QB2": 0.00183},
    cz_depolarizing={("QB1", "QB2"): 0.00578},
    move_depolarizing={("QB1", "CR1"): 0.0},
    readout_p1_given_0={"QB1": 0.0255, "QB2": 0.0245},
    readout_p0_given_1={"QB1": 0.026, "QB2": 0.024},
)
# qiskit.quantum_info.average_gate_fidelity of the fake backends' channels (iqm-devices.json).
GARNET_QB1_PRX_FIDELITY = 0.998762
GARNET_QB2_PRX_FIDELITY = 0.998321
GARNET_QB1_QB2_CZ_FIDELITY = 0.991905


def test_from_calibration_copies_every_parameter() -> None:
    noise = NoiseModel.from_calibration(CALIBRATION)
    assert noise.t1 == {"QB1": 37741e-9, "QB2": 32584e-9, "CR1": 5400e-9}
    assert noise.t2["CR1"] == 10800e-9
    assert noise.duration("cz") == 40e-9
    assert noise.duration("cc_prx") == 20e-9  # falls back to prx
    assert noise.duration("reset") == 0.0
    assert noise.depolarizing("prx", ("QB2",)) == 0.00183
    assert noise.depolarizing("cc_prx", ("QB1",)) == 0.00085
    assert noise.depolarizing("cz", ("QB2", "QB1")) == 0.00578  # either order
    assert noise.depolarizing("cz", ("QB2", "QB3")) == 0.0  # unknown pair: no noise
    assert noise.readout("QB1") == (0.0255, 0.026)
    assert noise.readout("CR1") == (0.0, 0.0)
    assert not noise.relax_with_partner_times
    assert not noise.noiseless_move
    assert not noise.idle_relaxation


def test_relaxation_parameters() -> None:
    noise = NoiseModel(t1={"A": 10e-6, "B": 4e-6}, t2={"A": 5e-6, "B": 8e-6})
    time = 100e-9
    a = noise.relaxation("A", time)
    assert a.damping == pytest.approx(1 - math.exp(-0.01), rel=1e-12)
    # (1 − 2q)·√(1−γ) must equal e^(−t/T2)
    coherence = (1 - 2 * a.dephasing) * math.sqrt(1 - a.damping)
    assert coherence == pytest.approx(math.exp(-time / 5e-6), rel=1e-12)
    assert noise.relaxation("B", time).dephasing == 0.0  # T2 = 2·T1: damping only
    assert noise.relaxation("C", time) == Relaxation(0.0, 0.0)  # unknown: no relaxation
    assert noise.relaxation("A", 0.0).is_identity


def test_physical_relaxation_uses_own_times_and_compat_uses_partner_times() -> None:
    physical = NoiseModel.from_calibration(CALIBRATION)
    compat = NoiseModel.from_calibration(CALIBRATION, qiskit_fake_compat=True)
    qb1 = physical.relaxation("QB1", 40e-9)
    qb2 = physical.relaxation("QB2", 40e-9)
    assert physical.gate_relaxations("cz", ("QB1", "QB2")) == (qb1, qb2)
    assert compat.gate_relaxations("cz", ("QB1", "QB2")) == (qb2, qb1)
    assert compat.gate_relaxations("prx", ("QB1",)) == (physical.relaxation("QB1", 20e-9),)


def test_move_is_noisy_unless_compat() -> None:
    physical = NoiseModel.from_calibration(CALIBRATION)
    compat = NoiseModel.from_calibration(CALIBRATION, qiskit_fake_compat=True)
    cr1 = physical.gate_relaxations("move", ("QB1", "CR1"))[1]
    assert cr1.damping == pytest.approx(1 - math.exp(-96 / 5400), rel=1e-12)
    assert all(r.is_identity for r in compat.gate_relaxations("move", ("QB1", "CR1")))
    noisy_move = NoiseModel(move_depolarizing={("QB1", "CR1"): 0.01})
    assert noisy_move.depolarizing("move", ("QB1", "CR1")) == 0.01
    silent = NoiseModel(move_depolarizing={("QB1", "CR1"): 0.01}, noiseless_move=True)
    assert silent.depolarizing("move", ("QB1", "CR1")) == 0.0


def test_readout_only_has_no_gate_noise() -> None:
    noise = NoiseModel.readout_only(CALIBRATION)
    assert noise.readout("QB2") == (0.0245, 0.024)
    assert noise.relaxation("QB1", 1e-6).is_identity
    assert noise.depolarizing("cz", ("QB1", "QB2")) == 0.0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (
            {"t1": {"QB1": 1e-6}, "t2": {"QB1": 3e-6}},
            r"T2 of QB1 \(3e-06 s\) exceeds 2·T1 \(2e-06 s\)",
        ),
        ({"t1": {"QB1": 0.0}}, "T1 of QB1 must be positive seconds, got 0.0"),
        ({"durations": {"prx": -1.0}}, "duration of prx must be positive seconds"),
        ({"prx_depolarizing": {"QB1": 1.5}}, r"prx depolarizing p of QB1 must be a probability"),
        ({"readout_p0_given_1": {"QB1": -0.1}}, r"readout P\(0\|1\) of QB1 must be a probability"),
        (
            {"cz_depolarizing": {("QB1", "QB2"): float("nan")}},
            r"cz depolarizing p of \('QB1', 'QB2'\) must be a probability",
        ),
    ],
)
def test_invalid_parameters_are_rejected(kwargs: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        NoiseModel(**kwargs)  # type: ignore[arg-type]


def noise_superoperator(noise: NoiseModel, gate: str, locus: tuple[str, ...]) -> np.ndarray:
    """The channel applied after ``gate`` as a matrix on vec(ρ), built with the package's
    density-matrix kernels."""
    n = len(locus)
    dim = 2**n
    columns = []
    for i in range(dim * dim):
        rho = DensityMatrix(n, data=np.eye(dim * dim, dtype=np.complex128)[i].copy())
        for axis, relaxation in enumerate(noise.gate_relaxations(gate, locus)):
            rho.amplitude_damp(axis, relaxation.damping)
            rho.dephase(axis, relaxation.dephasing)
        rho.depolarize(list(range(n)), noise.depolarizing(gate, locus))
        columns.append(rho.data)
    superoperator: np.ndarray = np.array(columns).T
    return superoperator


def average_gate_fidelity(superoperator: np.ndarray) -> float:
    dim = math.isqrt(superoperator.shape[0])
    process = np.trace(superoperator).real / dim**2
    return float((dim * process + 1) / (dim + 1))


@pytest.mark.parametrize("compat", [False, True])
def test_channel_fidelities_equal_the_fake_backends(compat: bool) -> None:
    noise = NoiseModel.from_calibration(CALIBRATION, qiskit_fake_compat=compat)
    prx1 = average_gate_fidelity(noise_superoperator(noise, "prx", ("QB1",)))
    prx2 = average_gate_fidelity(noise_superoperator(noise, "prx", ("QB2",)))
    cz = average_gate_fidelity(noise_superoperator(noise, "cz", ("QB1", "QB2")))
    assert prx1 == pytest.approx(GARNET_QB1_PRX_FIDELITY, abs=1e-6)
    assert prx2 == pytest.approx(GARNET_QB2_PRX_FIDELITY, abs=1e-6)
    # the partner swap does not change the average fidelity (SWAP-conjugation invariance)
    assert cz == pytest.approx(GARNET_QB1_QB2_CZ_FIDELITY, abs=1e-6)


def test_move_fidelity_equals_derived_value_and_compat_move_is_perfect() -> None:
    deneb = NoiseModel(
        t1={"QB1": 35000e-9, "CR1": 5400e-9},
        t2={"QB1": 33000e-9, "CR1": 10800e-9},
        durations={"move": 96e-9},
        move_depolarizing={("QB1", "CR1"): 0.0},
    )
    move = average_gate_fidelity(noise_superoperator(deneb, "move", ("QB1", "CR1")))
    assert move == pytest.approx(0.991241, abs=1e-6)  # derived_move_avg_gate_fidelity, Deneb
    compat = NoiseModel(**{**deneb.__dict__, "noiseless_move": True})
    assert average_gate_fidelity(noise_superoperator(compat, "move", ("QB1", "CR1"))) == 1.0
