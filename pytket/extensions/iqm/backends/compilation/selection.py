"""Choosing among compilations: every candidate placement with every routing, ranked by two-qubit
gate count first and estimated success second (calibrations drift, gate counts do not); the
finalists cleaned up (:func:`routed_cleanup`) and the one most likely to succeed kept."""

from __future__ import annotations

from pytket.architecture import Architecture
from pytket.circuit import Circuit
from pytket.passes import (
    BasePass,
    CliffordSimp,
    CustomPassMap,
    KAKDecomposition,
    RepeatWithMetricPass,
    RoutingPass,
    SequencePass,
    SynthesiseTket,
)
from pytket.placement import GraphPlacement

from pytket.extensions.iqm.backends.compilation.circuits import (
    MapPair,
    cx_and_cz_count,
    run_unit,
)
from pytket.extensions.iqm.backends.compilation.error_figures import NoiseFigures
from pytket.extensions.iqm.backends.compilation.finish import finish_pass
from pytket.extensions.iqm.backends.compilation.placement import candidate_placement_passes
from pytket.extensions.iqm.backends.compilation.routing import (
    Routing,
    mapping_pass,
    routed_preparation,
)
from pytket.extensions.iqm.backends.compilation.success import log_success

__all__ = ["best_mapping_pass", "fewest_cz_then_success", "routed_cleanup"]


_COUNT_BAND = 1.05
"""Routed candidates within 5 % (plus one gate) of the fewest CX and CZ compete on estimated
success; the others are dropped."""


def best_mapping_pass(
    architecture: Architecture,
    noise: NoiseFigures,
    effort: float,
    routings: tuple[Routing, ...],
    finalists: int,
) -> BasePass:
    """Place and route with each candidate placement and routing; rank the routed circuits by
    how likely their two-qubit gates and readouts are to succeed, clean up the best
    ``finalists`` (:func:`_routed_cleanup`) and keep the one most likely to succeed."""
    n_nodes = len(architecture.nodes)

    def transform(circuit: Circuit) -> tuple[Circuit, MapPair]:
        if circuit.n_qubits > n_nodes:
            # Let pytket's own pass raise its usual error for oversized circuits.
            return run_unit(circuit, RoutingPass(architecture))
        routed: list[tuple[float, int, Circuit, MapPair]] = []
        for placement in candidate_placement_passes(circuit, architecture, noise, effort):
            for routing in routings:
                try:
                    result, maps = run_unit(
                        circuit,
                        SequencePass([placement, *routing.passes(architecture)], strict=False),
                    )
                except RuntimeError:
                    # A variant can fail on unusual circuits; the others (or the fallback
                    # below) still compile it.
                    continue
                score = log_success(result, noise, single_qubit=False)
                routed.append((score, len(routed), result, maps))
        if not routed:
            fallback = SequencePass(
                [
                    mapping_pass(GraphPlacement(architecture), architecture),
                    *routed_preparation(architecture),
                ],
                strict=False,
            )
            result, maps = run_unit(circuit, fallback)
            routed.append((0.0, 0, result, maps))
        # Fewer two-qubit gates first, error figures second: calibrations drift, gate counts do
        # not. Among circuits within a few percent of the fewest gates, the most likely to
        # succeed wins.
        fewest = min(cx_and_cz_count(item[2]) for item in routed)
        routed = [item for item in routed if cx_and_cz_count(item[2]) <= _COUNT_BAND * fewest + 1]
        routed.sort(key=lambda item: (-item[0], item[1]))
        finished: list[tuple[float, Circuit, MapPair]] = []
        for _, _, result, maps in routed[:finalists]:
            for cleanup in routed_cleanup():
                cleanup.apply(result)
            finished.append((log_success(result, noise), result, maps))
        _, result, maps = max(finished, key=lambda item: item[0])
        return result, maps

    return CustomPassMap(transform, label="IQMBestPlacement")


def routed_cleanup() -> list[BasePass]:
    """Resynthesise the routed circuit in place (no wire swaps, so connectivity is kept), then
    the single-qubit economy finish."""
    return [
        RepeatWithMetricPass(
            SequencePass(
                [
                    KAKDecomposition(allow_swaps=False),
                    CliffordSimp(allow_swaps=False),
                    SynthesiseTket(),
                ]
            ),
            cx_and_cz_count,
        ),
        finish_pass(),
    ]


def fewest_cz_then_success(
    results: list[tuple[Circuit, MapPair]], noise: NoiseFigures
) -> tuple[Circuit, MapPair]:
    """The result with the fewest CZ; among equals, the most likely to succeed."""
    return min(results, key=lambda r: (cx_and_cz_count(r[0]), -log_success(r[0], noise)))
