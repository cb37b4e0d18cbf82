"""The optimisation levels 0–3: a table from level to pipeline, and
:func:`default_compilation_pass`.

Everything here works from a :class:`~pytket.backends.backendinfo.BackendInfo` alone, so a
circuit can be compiled offline for any device whose info is known. The levels (see
``docs/compilation.rst`` for what they do and how they measure):

* 0 – decompose boxes, rebase, place, route, rebase. Nothing is optimised.
* 1 – light: ``SynthesiseTket``, noise-aware placement, routing, then the single-qubit
  finish (:mod:`.finish`).
* 2 – default: ``PeepholeOptimise2Q`` and, when it has clearly fewer CX, a ``GreedyPauliSimp``
  resynthesis as a second candidate; each is placed and routed with a choice among candidate
  placements (:mod:`.placement`) and routings (:mod:`.routing`), the fewest CZ first and the
  estimated success probability second (:mod:`.selection`), a repeat-until-no-gain
  KAK/Clifford clean-up, then the finish.
* 3 – a portfolio: level 2 itself and pipelines with ``FullPeepholeOptimise`` or
  ``GreedyPauliSimp`` (one of them ignoring depth) and a wider placement search, where every
  candidate placement is also refined by routing the circuit forwards and backwards; the
  best result is kept. ``timeout`` bounds the time spent on alternatives.

On Star devices (computational resonator, MOVE gates) every level ends with MOVE insertion
(:mod:`.move_insertion`), and the candidates of levels 2 and 3 are scored by the estimated
success probability with the MOVEs included (:func:`_star_pass`).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from pytket.architecture import Architecture
from pytket.backends.backendinfo import BackendInfo
from pytket.circuit import Circuit, OpType, Qubit
from pytket.passes import (
    AutoRebase,
    BasePass,
    CustomPassMap,
    DecomposeBoxes,
    DecomposeSwapsToCXs,
    DelayMeasures,
    FullPeepholeOptimise,
    GreedyPauliSimp,
    PeepholeOptimise2Q,
    RemoveRedundancies,
    SequencePass,
    SynthesiseTket,
)

from pytket.extensions.iqm.backends.compilation.circuits import (
    MapPair,
    cx_and_cz_count,
    run_unit,
)
from pytket.extensions.iqm.backends.compilation.error_figures import NoiseFigures, noise_figures
from pytket.extensions.iqm.backends.compilation.finish import finish_pass
from pytket.extensions.iqm.backends.compilation.move_insertion import resonator_compilation_pass
from pytket.extensions.iqm.backends.compilation.placement import FULL_EFFORT, primary_placement
from pytket.extensions.iqm.backends.compilation.routing import (
    ROUTINGS_ALL,
    ROUTINGS_FAST,
    mapping_pass,
)
from pytket.extensions.iqm.backends.compilation.selection import (
    best_mapping_pass,
    fewest_cz_then_success,
)
from pytket.extensions.iqm.backends.compilation.star_device import is_star_device
from pytket.extensions.iqm.backends.compilation.success import star_success_probability
from pytket.extensions.iqm.backends.compilation.target import device_architecture, rebase_pass

__all__ = ["OPTIMISATION_LEVELS", "default_compilation_pass", "pass_from_info"]

OPTIMISATION_LEVELS: tuple[int, ...] = (0, 1, 2, 3)
"""The optimisation levels :func:`default_compilation_pass` accepts."""

# -- tuned numbers -----------------------------------------------------------------------------

_LIGHT_EFFORT = 0.2
"""Placement effort of levels 0–2 (a fifth of level 3's subgraph matches): the time goes to
trying several placements and routings rather than to one deep search."""
_L2_FINALISTS = 1
"""Level 2 cleans up only the best routed candidate."""
_L3_FINALISTS = 3
"""Level 3 cleans up its three best routed candidates: the clean-up changes the ranking often
enough to pay for the extra resyntheses."""
_SMALL_DEVICE = 8
"""Devices of at most this many qubits are small: level 2 routes on two-qubit blocks only."""
_L2_GPS_THREAD_TIMEOUT_MS = 1000
"""Longest a single GreedyPauliSimp search may run at level 2 (milliseconds): enough for the
circuits level 2 is meant for; a longer search is level 3's business."""
_L2_GPS_TRIALS = 1
"""GreedyPauliSimp trials at level 2: one, since each costs about as much as the peephole."""
_GPS_DEFAULT_DEPTH_WEIGHT = 0.3
"""GreedyPauliSimp's own default depth weight (balances depth against CX count)."""
_FEWEST_CX_DEPTH_WEIGHT = 0.0
"""A depth weight of 0: GreedyPauliSimp minimises gate count regardless of depth, which is
what the ranking counts."""
_L2_GPS_DEPTH_WEIGHTS = (_GPS_DEFAULT_DEPTH_WEIGHT, _FEWEST_CX_DEPTH_WEIGHT)
"""Level 2 resynthesises with GreedyPauliSimp's default depth weight and with none (fewest
CX): each wins on some circuits of the benchmark suite, and the one with fewer CX before
routing is routed."""
_GPS_GAIN = 0.9
"""Level 2 routes the Pauli resynthesis too only if it has at most this fraction of the CX of
the peephole-optimised circuit: smaller gains rarely survive routing."""
_GPS_MIN_CX = 16
"""Level 2 tries the Pauli resynthesis only on circuits with at least this many CX after the
peephole: on smaller ones it rarely saves enough to be routed, and costs as much time as the
peephole itself."""
_PORTFOLIO_GPS_TRIALS = 5
"""GreedyPauliSimp trials in the portfolio pipelines (levels 3 and Star 2): more random
restarts for a better resynthesis, as these pipelines have time to spare."""
_GPS_THREAD_TIMEOUT_S = 10.0
"""Longest a single GreedyPauliSimp search may run at level 3 (seconds)."""
_GPS_SHARE_OF_TIMEOUT = 0.25
"""At level 3 one GreedyPauliSimp search may also use at most this share of ``timeout``, so
the other pipelines still get their turn."""
_STAR_L2_BUDGET_S = 2.0
"""Time a level-2 compilation for a Star device may spend on alternatives (seconds)."""


@dataclass(frozen=True)
class _Target:
    """The device as the levels use it, read once from its ``BackendInfo``."""

    backend_info: BackendInfo
    architecture: Architecture
    noise: NoiseFigures

    @classmethod
    def of(cls, backend_info: BackendInfo) -> _Target:
        return cls(backend_info, device_architecture(backend_info), noise_figures(backend_info))


# -- the levels --------------------------------------------------------------------------------


def _placed_and_routed(target: _Target) -> BasePass:
    """Levels 0 and 1's mapping: the primary placement at light effort, then routing."""
    return mapping_pass(
        primary_placement(target.architecture, target.noise, _LIGHT_EFFORT), target.architecture
    )


def _level_0(target: _Target) -> BasePass:
    return SequencePass(
        [
            DecomposeBoxes(),
            AutoRebase({OpType.CZ, OpType.PhasedX}),
            _placed_and_routed(target),
            DelayMeasures(),
            rebase_pass(),
        ]
    )


def _level_1(target: _Target) -> BasePass:
    return SequencePass(
        [
            DecomposeBoxes(),
            # Diagonal gates right before measurements (a graph state's CZs) cost nothing.
            RemoveRedundancies(),
            SynthesiseTket(),
            _placed_and_routed(target),
            DelayMeasures(),
            DecomposeSwapsToCXs(target.architecture),
            SynthesiseTket(),
            finish_pass(),
        ]
    )


def _level_2(target: _Target) -> BasePass:
    return SequencePass(
        [
            DecomposeBoxes(),
            # Diagonal gates right before measurements go first, while they are still CZ / Rz.
            RemoveRedundancies(),
            _level2_pass(target.architecture, target.noise),
        ]
    )


_LEVELS: dict[int, Callable[[_Target], BasePass]] = {0: _level_0, 1: _level_1, 2: _level_2}
"""The pipelines of levels 0–2; level 3 is the portfolio around level 2 (:func:`_portfolio`)."""


def _peephole_2q() -> BasePass:
    # As good as FullPeepholeOptimise on typical circuits at a fifth of the time (its
    # three-qubit squash rarely pays); the time goes to trying placements and routings.
    return SequencePass([PeepholeOptimise2Q(), RemoveRedundancies()])


def _pauli_resynthesis(
    *, thread_timeout_ms: int, trials: int, depth_weight: float, then: list[BasePass]
) -> BasePass:
    """GreedyPauliSimp resynthesis (Pauli gadgets) of a CX/TK1 rebase, then ``then``."""
    return SequencePass(
        [
            AutoRebase({OpType.CX, OpType.TK1}),
            GreedyPauliSimp(
                thread_timeout=thread_timeout_ms, trials=trials, depth_weight=depth_weight
            ),
            *then,
        ],
        # GreedyPauliSimp states a gate set the rebase meets but cannot prove.
        strict=False,
    )


def _level2_pass(architecture: Architecture, noise: NoiseFigures) -> BasePass:
    """Level 2's optimisation and mapping: the two-qubit peephole, and when the circuit is a
    plain unitary circuit, also a Pauli-gadget resynthesis (which shortens QAOA, QFT-like and
    phase-estimation circuits); the resynthesised circuit is placed and routed too only if it
    has fewer CX before routing, and the routed circuit with the fewest CZ (then the best
    estimated success probability) is kept."""
    # On small devices routing on two-qubit blocks is never worse than on CX (measured on the
    # 5-qubit star), and the time saved pays for the resynthesis.
    small = len(architecture.nodes) <= _SMALL_DEVICE
    routings = ROUTINGS_FAST[1:] if small else ROUTINGS_FAST
    mapping = best_mapping_pass(architecture, noise, _LIGHT_EFFORT, routings, _L2_FINALISTS)

    def transform(circuit: Circuit) -> tuple[Circuit, MapPair]:
        peephole = circuit.copy()
        _peephole_2q().apply(peephole)
        variants = [peephole]
        peephole_cx = cx_and_cz_count(peephole)
        if _greedy_pauli_applies(circuit) and peephole_cx >= _GPS_MIN_CX:
            resynthesised = _fewest_cx_resynthesis(circuit, peephole_cx)
            if (
                resynthesised is not None
                and cx_and_cz_count(resynthesised) < _GPS_GAIN * peephole_cx
            ):
                variants.append(resynthesised)
        results = [run_unit(variant, mapping) for variant in variants]
        return fewest_cz_then_success(results, noise)

    return CustomPassMap(transform, label="IQMLevel2")


def _fewest_cx_resynthesis(circuit: Circuit, reference_cx: int) -> Circuit | None:
    """The Pauli resynthesis of ``circuit`` with the fewest CX over the depth weights tried
    (the first among equals); ``None`` if the synthesis does not take the circuit. The other
    weights are tried only if the first saves CX against ``reference_cx``: circuits without
    Pauli-gadget structure (GHZ, W states, hardware-efficient ansätze) gain from none."""
    found: list[Circuit] = []
    for depth_weight in _L2_GPS_DEPTH_WEIGHTS:
        resynthesised = circuit.copy()
        try:
            _pauli_resynthesis(
                thread_timeout_ms=_L2_GPS_THREAD_TIMEOUT_MS,
                trials=_L2_GPS_TRIALS,
                depth_weight=depth_weight,
                then=[_peephole_2q()],
            ).apply(resynthesised)
        except RuntimeError:
            return None  # e.g. an operation the synthesis does not take: the peephole stays
        found.append(resynthesised)
        if cx_and_cz_count(found[0]) >= reference_cx:
            break
    return min(found, key=cx_and_cz_count)


def _greedy_pauli_pipeline(thread_timeout_ms: int, mapping: BasePass) -> BasePass:
    """A portfolio pipeline: Pauli resynthesis, ``FullPeepholeOptimise``, then ``mapping``."""
    return SequencePass(
        [
            DecomposeBoxes(),
            _pauli_resynthesis(
                thread_timeout_ms=thread_timeout_ms,
                trials=_PORTFOLIO_GPS_TRIALS,
                depth_weight=_GPS_DEFAULT_DEPTH_WEIGHT,
                then=[FullPeepholeOptimise(), mapping],
            ),
        ],
        strict=False,
    )


def _fewest_cx_pipeline(thread_timeout_ms: int, mapping: BasePass) -> BasePass:
    """A portfolio pipeline: Pauli resynthesis for the fewest CX regardless of depth (depth is
    not what the ranking counts), the two-qubit peephole, then ``mapping``."""
    return SequencePass(
        [
            DecomposeBoxes(),
            RemoveRedundancies(),
            _pauli_resynthesis(
                thread_timeout_ms=thread_timeout_ms,
                trials=_PORTFOLIO_GPS_TRIALS,
                depth_weight=_FEWEST_CX_DEPTH_WEIGHT,
                then=[_peephole_2q(), mapping],
            ),
        ],
        strict=False,
    )


def _greedy_pauli_applies(circuit: Circuit) -> bool:
    """Whether the Pauli resynthesis takes ``circuit``: a plain unitary circuit (measurements
    at the end only), without barriers, resets or symbols."""
    return (
        not _has_classical_control(circuit)
        and not _has_mid_circuit_measurement(circuit)
        and not circuit.n_gates_of_type(OpType.Barrier)
        and not circuit.n_gates_of_type(OpType.Reset)
        and not circuit.free_symbols()
    )


def _has_classical_control(circuit: Circuit) -> bool:
    """Whether ``circuit`` has a conditional gate or a classical operation."""
    return any(
        command.op.type == OpType.Conditional or not command.qubits
        for command in circuit.get_commands()
    )


def _has_mid_circuit_measurement(circuit: Circuit) -> bool:
    """Whether a qubit is used (barriers aside) after it was measured."""
    measured: set[Qubit] = set()
    for command in circuit.get_commands():
        if command.op.type == OpType.Measure:
            measured.add(command.qubits[0])
        elif any(qubit in measured for qubit in command.qubits) and command.op.type != (
            OpType.Barrier
        ):
            return True
    return False


# -- level 3 and Star devices: portfolios --------------------------------------------------------


def _run_pipelines(
    circuit: Circuit, pipelines: Sequence[BasePass], deadline: float
) -> list[tuple[Circuit, MapPair]]:
    """Run ``pipelines`` on copies of ``circuit`` until ``deadline`` (the first always runs);
    a pipeline that fails is skipped."""
    results: list[tuple[Circuit, MapPair]] = []
    for pipeline in pipelines:
        if results and time.monotonic() > deadline:
            break
        try:
            results.append(run_unit(circuit, pipeline))
        except RuntimeError:
            # An alternative failed (e.g. a synthesis that rejects some operation); the
            # caller's fallback decides whether the circuit can be compiled at all.
            continue
    return results


def _portfolio_pipelines(
    target: _Target, level_2: BasePass, timeout: float
) -> Callable[[Circuit], list[BasePass]]:
    """Level 3's pipelines for a circuit, the level-2 one first (so that level 3 is never worse
    than level 2); the Pauli resynthesis ones only for circuits it takes."""
    mapping = best_mapping_pass(
        target.architecture, target.noise, FULL_EFFORT, ROUTINGS_ALL, _L3_FINALISTS
    )
    gps_timeout_ms = max(1, int(1000 * min(timeout * _GPS_SHARE_OF_TIMEOUT, _GPS_THREAD_TIMEOUT_S)))
    always: list[BasePass] = [
        level_2,
        SequencePass(
            [
                DecomposeBoxes(),
                RemoveRedundancies(),
                PeepholeOptimise2Q(),
                RemoveRedundancies(),
                mapping,
            ]
        ),
        SequencePass([DecomposeBoxes(), FullPeepholeOptimise(), mapping]),
        SequencePass([DecomposeBoxes(), FullPeepholeOptimise(allow_swaps=False), mapping]),
    ]
    resynthesis = [
        _greedy_pauli_pipeline(gps_timeout_ms, mapping),
        _fewest_cx_pipeline(gps_timeout_ms, mapping),
    ]

    def pipelines(circuit: Circuit) -> list[BasePass]:
        return always + resynthesis if _greedy_pauli_applies(circuit) else list(always)

    return pipelines


def _portfolio(target: _Target, level_2: BasePass, timeout: float) -> BasePass:
    """Level 3: run several pipelines (the level-2 one first) and keep the best result: among
    those within a few percent of the fewest CZ, the most likely to succeed."""
    pipelines = _portfolio_pipelines(target, level_2, timeout)

    def transform(circuit: Circuit) -> tuple[Circuit, MapPair]:
        deadline = time.monotonic() + timeout
        results = _run_pipelines(circuit, pipelines(circuit), deadline)
        if not results:
            return run_unit(circuit, level_2)
        return fewest_cz_then_success(results, target.noise)

    return CustomPassMap(transform, label="IQMPortfolio")


def _star_level2_pipelines(
    target: _Target, level_2: BasePass
) -> Callable[[Circuit], list[BasePass]]:
    """Level 2's candidates on a Star device: level 2 itself, ``FullPeepholeOptimise`` and, for
    circuits it takes, the Pauli resynthesis, each with level 2's placement search."""
    mapping = best_mapping_pass(
        target.architecture, target.noise, _LIGHT_EFFORT, ROUTINGS_FAST, _L2_FINALISTS
    )
    always = [level_2, SequencePass([DecomposeBoxes(), FullPeepholeOptimise(), mapping])]
    resynthesis = _greedy_pauli_pipeline(_L2_GPS_THREAD_TIMEOUT_MS, mapping)

    def pipelines(circuit: Circuit) -> list[BasePass]:
        return [*always, resynthesis] if _greedy_pauli_applies(circuit) else list(always)

    return pipelines


def _star_pass(
    target: _Target, optimisation_level: int, level_2: BasePass, timeout: float
) -> BasePass:
    """Compilation for a Star device: each candidate pipeline is completed with MOVE insertion
    and scored by the estimated success probability of the result, MOVEs included, because the
    circuit with the fewest CZ is not always the one that needs the fewest MOVEs (a CZ ladder
    needs a MOVE sandwich per CZ, a fan-out from one qubit a single sandwich)."""
    moves = resonator_compilation_pass(target.backend_info, optimisation_level)
    if optimisation_level < 2:
        return SequencePass([_LEVELS[optimisation_level](target), moves])
    level_1 = _level_1(target)
    budget = timeout if optimisation_level == 3 else min(timeout, _STAR_L2_BUDGET_S)
    if optimisation_level == 3:
        candidates = _portfolio_pipelines(target, level_2, timeout)
    else:
        candidates = _star_level2_pipelines(target, level_2)

    def transform(circuit: Circuit) -> tuple[Circuit, MapPair]:
        deadline = time.monotonic() + budget
        pipelines: list[BasePass] = [
            SequencePass([found, moves]) for found in [*candidates(circuit), level_1]
        ]
        results = _run_pipelines(circuit, pipelines, deadline)
        if not results:
            return run_unit(circuit, SequencePass([level_2, moves]))
        return max(results, key=lambda r: star_success_probability(r[0], target.backend_info))

    return CustomPassMap(transform, label="IQMStarPortfolio")


def default_compilation_pass(
    backend_info: BackendInfo, optimisation_level: int = 2, *, timeout: float = 300
) -> BasePass:
    """The pass that compiles any circuit for the device described by ``backend_info``.

    The result satisfies :func:`~.target.required_predicates` (for inputs the device can run at
    all: no more qubits than the device, no mid-circuit measurement or classical control unless
    it supports them) and keeps the user's register names and barriers.

    :param backend_info: the device's description (architecture, gate set, error figures).
    :param optimisation_level: 0 (place and route only), 1 (light), 2 (default: strong within
        a fraction of a second for typical circuits) or 3 (portfolio, slowest).
    :param timeout: at level 3, a bound in seconds on the time spent trying alternative
        pipelines for one circuit (at least one pipeline always completes).
    :return: the compilation pass.
    :raises ValueError: if ``optimisation_level`` is not 0, 1, 2 or 3, or ``timeout`` is not
        positive, or ``backend_info`` has no (non fully connected) architecture.
    """
    if optimisation_level not in OPTIMISATION_LEVELS:
        raise ValueError(f"optimisation_level must be 0, 1, 2 or 3, not {optimisation_level}")
    if not timeout > 0:
        raise ValueError(f"timeout must be a positive number of seconds, not {timeout}")
    target = _Target.of(backend_info)
    star = is_star_device(backend_info)
    if optimisation_level < 2 and not star:
        return _LEVELS[optimisation_level](target)
    # Built once: levels 3 and Star 2 run level 2 as one of their pipelines and as fallback.
    level_2 = _level_2(target)
    if star:
        # Qubit-qubit CZs are realised through the resonator last: nothing may rebase MOVE
        # after that.
        return _star_pass(target, optimisation_level, level_2, timeout)
    if optimisation_level == 3:
        return _portfolio(target, level_2, timeout)
    return level_2


pass_from_info = default_compilation_pass
"""Alias used by ``IQMBackend.pass_from_info``: compile offline from a ``BackendInfo``."""
