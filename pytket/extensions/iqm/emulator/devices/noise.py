"""The emulator's noise model: what goes wrong, and how much, on each component of a device.

The channels follow the qiskit-iqm fake backends (``IQMFakeBackend``): after every ``prx`` the
qubit relaxes (T1, T2 over the gate's duration) and is then depolarized; after every ``cz`` and
``move`` both components relax and the pair is depolarized; every readout flips its bit with the
qubit's confusion probabilities. Depolarizing follows qiskit's convention
E(ρ) = (1 − p)ρ + p·I/2ⁿ. Nothing happens on ``measure``, ``reset``, ``barrier`` and (unless
:attr:`NoiseModel.idle_relaxation` is set) ``delay``.

Unlike the fake backends, every component relaxes with its *own* T1/T2 on a two-component gate and
MOVE is noisy. :meth:`NoiseModel.from_calibration` with ``qiskit_fake_compat=True`` reproduces the
fake backends' two quirks instead, so results can be compared with ``IQMFakeBackend`` exactly.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

from pytket.extensions.iqm.emulator.devices.device import Calibration


@dataclass(frozen=True)
class Relaxation:
    """Thermal relaxation (to the ground state) of one component over one time interval.

    The channel is ρ₀₀ += γ·ρ₁₁, ρ₁₁ ·= 1 − γ, ρ₀₁ ·= e^(−t/T2), written as amplitude damping
    with parameter ``damping`` followed by a phase flip (Z) with probability ``dephasing``.
    """

    damping: float
    """γ = 1 − e^(−t/T1)."""
    dephasing: float
    """Probability of the extra Z, (1 − e^(−t/T2 + t/(2·T1))) / 2."""

    @property
    def is_identity(self) -> bool:
        """Whether the channel does nothing."""
        return self.damping == 0.0 and self.dephasing == 0.0


_NO_RELAXATION = Relaxation(0.0, 0.0)


def _pair_lookup(table: Mapping[tuple[str, str], float], a: str, b: str) -> float:
    """The value stored for the pair in either order, 0 if absent."""
    value = table.get((a, b))
    if value is None:
        value = table.get((b, a), 0.0)
    return value


def _check_probability(what: str, value: float) -> None:
    if not 0.0 <= value <= 1.0 or math.isnan(value):
        raise ValueError(f"{what} must be a probability in [0, 1], got {value!r}.")


@dataclass(frozen=True)
class NoiseModel:
    """Per-component noise parameters of a device (times in seconds).

    A component that is missing from a table gets no noise of that kind: no T1 entry means no
    amplitude damping, no T2 entry no dephasing beyond what T1 implies, no depolarizing entry
    p = 0, no readout entry a perfect readout.

    :raises ValueError: if a probability is outside [0, 1], a time is not positive, or
        T2 > 2·T1 for some component (such a channel is not physical).
    """

    t1: Mapping[str, float] = field(default_factory=dict)
    """Component → T1 in seconds."""
    t2: Mapping[str, float] = field(default_factory=dict)
    """Component → T2 in seconds."""
    durations: Mapping[str, float] = field(default_factory=dict)
    """Gate name (``prx``, ``cc_prx``, ``cz``, ``move``) → seconds; ``cc_prx`` falls back to
    ``prx``."""
    prx_depolarizing: Mapping[str, float] = field(default_factory=dict)
    """Qubit → single-qubit depolarizing p after ``prx``/``cc_prx``."""
    cz_depolarizing: Mapping[tuple[str, str], float] = field(default_factory=dict)
    """CZ locus (either order) → two-qubit depolarizing p."""
    move_depolarizing: Mapping[tuple[str, str], float] = field(default_factory=dict)
    """MOVE locus (either order) → two-component depolarizing p."""
    readout_p1_given_0: Mapping[str, float] = field(default_factory=dict)
    """Qubit → P(read 1 | state 0)."""
    readout_p0_given_1: Mapping[str, float] = field(default_factory=dict)
    """Qubit → P(read 0 | state 1)."""
    relax_with_partner_times: bool = False
    """qiskit-iqm fake-backend quirk: on ``cz``/``move`` each component relaxes with its
    *partner's* T1/T2."""
    noiseless_move: bool = False
    """qiskit-iqm fake-backend quirk: ``move`` has no noise at all."""
    idle_relaxation: bool = False
    """Whether ``delay`` relaxes the components it names for its duration (off by default, like
    the fake backends, which have no idle noise)."""
    pauli_twirled: bool = False
    """Replace every relaxation channel by its Pauli twirl (:func:`twirled_relaxation`), so all
    gate noise is Pauli noise: an approximation of the physical model that the stabilizer method
    can simulate, used by every method for the same results."""

    def __post_init__(self) -> None:
        for name, table in (("T1", self.t1), ("T2", self.t2), ("duration", self.durations)):
            for key, value in table.items():
                if not value > 0.0:  # also rejects NaN
                    raise ValueError(f"{name} of {key} must be positive seconds, got {value!r}.")
        for component, t2 in self.t2.items():
            t1 = self.t1.get(component, math.inf)
            if t2 > 2.0 * t1:
                raise ValueError(
                    f"T2 of {component} ({t2} s) exceeds 2·T1 ({2.0 * t1} s); such relaxation is "
                    "not physical. Lower T2 or raise T1."
                )
        for what, mapping in (
            ("prx depolarizing p", self.prx_depolarizing),
            ("readout P(1|0)", self.readout_p1_given_0),
            ("readout P(0|1)", self.readout_p0_given_1),
        ):
            for key, value in mapping.items():
                _check_probability(f"{what} of {key}", value)
        for what, pairs in (
            ("cz depolarizing p", self.cz_depolarizing),
            ("move depolarizing p", self.move_depolarizing),
        ):
            for pair, value in pairs.items():
                _check_probability(f"{what} of {pair}", value)

    @classmethod
    def from_calibration(
        cls,
        calibration: Calibration,
        *,
        qiskit_fake_compat: bool = False,
        pauli_twirled: bool = False,
    ) -> NoiseModel:
        """The full noise model of a calibration set.

        :param calibration: the device's calibration set.
        :param qiskit_fake_compat: reproduce the qiskit-iqm fake backends exactly, including their
            two quirks (partner's T1/T2 on two-component gates, noiseless MOVE).
        :param pauli_twirled: the Pauli-twirled approximation (see :attr:`pauli_twirled`).
        :return: the noise model.
        :raises ValueError: if the calibration's numbers are not a valid noise model.
        """
        return cls(
            t1=dict(calibration.t1),
            t2=dict(calibration.t2),
            durations=dict(calibration.durations),
            prx_depolarizing=dict(calibration.prx_depolarizing),
            cz_depolarizing=dict(calibration.cz_depolarizing),
            move_depolarizing=dict(calibration.move_depolarizing),
            readout_p1_given_0=dict(calibration.readout_p1_given_0),
            readout_p0_given_1=dict(calibration.readout_p0_given_1),
            relax_with_partner_times=qiskit_fake_compat,
            noiseless_move=qiskit_fake_compat,
            pauli_twirled=pauli_twirled,
        )

    @classmethod
    def readout_only(cls, calibration: Calibration) -> NoiseModel:
        """Only the calibration's readout confusion; gates are perfect.

        :param calibration: the device's calibration set.
        :return: the noise model.
        :raises ValueError: if a readout probability is outside [0, 1].
        """
        return cls(
            readout_p1_given_0=dict(calibration.readout_p1_given_0),
            readout_p0_given_1=dict(calibration.readout_p0_given_1),
        )

    def duration(self, gate: str) -> float:
        """Duration of a gate in seconds (0 if unknown; ``cc_prx`` falls back to ``prx``)."""
        if gate in self.durations:
            return self.durations[gate]
        if gate == "cc_prx":
            return self.durations.get("prx", 0.0)
        return 0.0

    def relaxation(self, component: str, duration: float) -> Relaxation:
        """The relaxation channel of ``component`` over ``duration`` seconds.

        :param component: whose T1/T2 to use.
        :param duration: seconds.
        :return: amplitude damping and extra dephasing parameters.
        """
        if duration <= 0.0:
            return _NO_RELAXATION
        t1 = self.t1.get(component, math.inf)
        t2 = self.t2.get(component, 2.0 * t1)
        damping = -math.expm1(-duration / t1)
        # Coherence decays as e^(−t/T2); amplitude damping alone gives e^(−t/(2·T1)); the rest is
        # a phase flip with probability q, factor 1 − 2q.
        exponent = duration / t2 - duration / (2.0 * t1)
        dephasing = -math.expm1(-exponent) / 2.0 if exponent > 0.0 else 0.0
        return Relaxation(damping, dephasing)

    def gate_relaxations(self, gate: str, components: tuple[str, ...]) -> tuple[Relaxation, ...]:
        """Relaxation of each component of a gate's locus over the gate's duration.

        With :attr:`relax_with_partner_times` a two-component gate swaps the T1/T2 of its two
        components, as the qiskit-iqm fake backends do.

        :param gate: ``prx``, ``cc_prx``, ``cz`` or ``move``.
        :param components: the locus.
        :return: one channel per component, in locus order.
        """
        if gate == "move" and self.noiseless_move:
            return tuple(_NO_RELAXATION for _ in components)
        duration = self.duration(gate)
        sources = components
        if self.relax_with_partner_times and len(components) == 2:
            sources = (components[1], components[0])
        return tuple(self.relaxation(source, duration) for source in sources)

    def depolarizing(self, gate: str, components: tuple[str, ...]) -> float:
        """Depolarizing parameter p applied after a gate on ``components``.

        :param gate: ``prx``, ``cc_prx``, ``cz`` or ``move``.
        :param components: the locus.
        :return: p (0 for unknown gates or loci).
        """
        if gate in ("prx", "cc_prx"):
            return self.prx_depolarizing.get(components[0], 0.0)
        if gate == "cz":
            return _pair_lookup(self.cz_depolarizing, components[0], components[1])
        if gate == "move":
            if self.noiseless_move:
                return 0.0
            return _pair_lookup(self.move_depolarizing, components[0], components[1])
        return 0.0

    def readout(self, qubit: str) -> tuple[float, float]:
        """Readout confusion of a qubit.

        :param qubit: the measured qubit.
        :return: ``(P(1|0), P(0|1))``.
        """
        return self.readout_p1_given_0.get(qubit, 0.0), self.readout_p0_given_1.get(qubit, 0.0)


def twirled_relaxation(relaxation: Relaxation) -> tuple[float, float, float]:
    """Probabilities of X, Y and Z of the Pauli twirl of a relaxation channel.

    Amplitude damping γ twirls to X and Y with γ/4 each and Z with (1 − √(1−γ))²/4 (the
    diagonal of its χ matrix); the extra phase flip q then turns I into Z and Z into I.

    :param relaxation: damping followed by dephasing.
    :return: ``(p_x, p_y, p_z)``.
    """
    damping, flip = relaxation.damping, relaxation.dephasing
    p_xy = damping / 4.0
    p_z = (1.0 - math.sqrt(1.0 - damping)) ** 2 / 4.0
    p_i = 1.0 - 2.0 * p_xy - p_z
    return p_xy, p_xy, p_z * (1.0 - flip) + p_i * flip


__all__ = ["NoiseModel", "Relaxation", "twirled_relaxation"]
