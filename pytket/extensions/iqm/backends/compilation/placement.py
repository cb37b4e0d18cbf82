"""Placement: where the circuit's qubits start on the device.

:func:`candidate_placement_passes` offers the placements worth routing: noise-aware (or graph)
placement, a quick graph placement, a ranked enumeration on small devices, long paths of the
coupling graph for wide circuits, and at full effort (level 3) each of them refined by routing
the circuit forwards and backwards. Each is returned as a renaming, so trying it with several
routings costs no new search."""

from __future__ import annotations

import functools
import itertools
import math
from collections.abc import Mapping

from pytket.architecture import Architecture
from pytket.circuit import Circuit, OpType, Qubit
from pytket.passes import BasePass, PlacementPass, RenameQubitsPass, SequencePass
from pytket.placement import GraphPlacement, LinePlacement, NoiseAwarePlacement, Placement
from pytket.predicates import CompilationUnit
from pytket.unit_id import Node

from pytket.extensions.iqm.backends.compilation.error_figures import NoiseFigures, as_node
from pytket.extensions.iqm.backends.compilation.routing import routing_pass

__all__ = [
    "FULL_EFFORT",
    "candidate_placement_passes",
    "graph_placement",
    "primary_placement",
    "two_qubit_pairs",
]


FULL_EFFORT = 1.0
"""Level 3's placement effort: the widest search (the most subgraph matches and candidate maps),
and the only one where each candidate placement is refined by forward-backward routing."""

_MIN_PLACEMENT_MATCHES = 10
"""Fewest subgraph matches a placement search looks for, at any effort."""
_PLACEMENT_MATCHES_AT_FULL_EFFORT = 1000
"""Subgraph matches at full effort (scaled down with the effort): enough for the device sizes
IQM has, within the search timeout."""

_MAPS_PER_PLACEMENT_SMALL_DEVICE = 1
"""Below full effort, best matches kept per placement on small devices (the ranked enumeration
supplies the variety there)."""
_MAPS_PER_PLACEMENT = 2
"""Below full effort, best matches kept per placement on larger devices: their routing costs
differ more than their estimates do."""
_MAPS_PER_PLACEMENT_FULL_EFFORT = 6
"""At full effort, best matches kept per placement."""
_RANKED_MAPS = 2
"""Below full effort, how many of the best enumerated or long-path maps are tried (at full
effort: as many as long paths are kept)."""
_WIDE_CIRCUIT_MIN_QUBITS = 6
"""Circuits of at least this many qubits (and at least half the device) are wide: long-path
placements are tried for them, as subgraph matching tends to scatter wide chains."""


# Subgraph-matching placements: the match limit (scaled by effort) normally ends the search;
# the timeout only bounds pathological cases (dense interaction graphs on large devices, where
# the search fails and the other candidates take over).
_PLACEMENT_TIMEOUT_MS = 2000


_PATTERN_GATES = 100


def _placement_matches(effort: float) -> int:
    return max(_MIN_PLACEMENT_MATCHES, int(_PLACEMENT_MATCHES_AT_FULL_EFFORT * effort))


def primary_placement(architecture: Architecture, noise: NoiseFigures, effort: float) -> Placement:
    """Noise-aware placement when the device publishes errors, else graph placement."""
    if noise.has_data:
        return NoiseAwarePlacement(
            architecture,
            node_errors=dict(noise.prx),
            link_errors=dict(noise.cz),
            readout_errors=dict(noise.readout),
            maximum_matches=_placement_matches(effort),
            timeout=_PLACEMENT_TIMEOUT_MS,
            maximum_pattern_gates=_PATTERN_GATES,
        )
    return graph_placement(architecture, effort)


def graph_placement(architecture: Architecture, effort: float) -> Placement:
    return GraphPlacement(
        architecture,
        maximum_matches=_placement_matches(effort),
        timeout=_PLACEMENT_TIMEOUT_MS,
        maximum_pattern_gates=_PATTERN_GATES,
    )


# -- long paths -------------------------------------------------------------------------------


_PATH_SEARCH_STEPS = 30_000


_PATHS_KEPT = 4


@functools.lru_cache(maxsize=16)
def _long_paths(edges: tuple[tuple[Node, Node], ...]) -> tuple[tuple[Node, ...], ...]:
    """Some of the longest simple paths of the coupling graph (a bounded depth-first search
    that tries the neighbour with the fewest free neighbours first, which finds Hamiltonian
    paths of grid-like graphs quickly). Cached per coupling graph."""
    adjacency: dict[Node, set[Node]] = {}
    for a, b in edges:
        adjacency.setdefault(a, set()).add(b)
        adjacency.setdefault(b, set()).add(a)
    n_nodes = len(adjacency)
    found: dict[frozenset[Node], tuple[Node, ...]] = {}
    longest = 0
    steps = 0

    def extend(path: list[Node], on_path: set[Node]) -> bool:
        """Depth-first extension; True once the search should stop."""
        nonlocal longest, steps
        steps += 1
        if len(path) >= longest:
            if len(path) > longest:
                longest = len(path)
                found.clear()
            if len(found) < _PATHS_KEPT:
                found.setdefault(frozenset(path), tuple(path))
        if steps >= _PATH_SEARCH_STEPS or (longest == n_nodes and len(found) >= _PATHS_KEPT):
            return True
        free = [n for n in adjacency[path[-1]] if n not in on_path]
        free.sort(key=lambda n: (sum(m not in on_path for m in adjacency[n]), n))
        for n in free:
            path.append(n)
            on_path.add(n)
            stop = extend(path, on_path)
            path.pop()
            on_path.discard(n)
            if stop:
                return True
        return False

    for start in sorted(adjacency, key=lambda n: (len(adjacency[n]), n)):
        if extend([start], {start}):
            break
    return tuple(found.values())


def _interaction_order(circuit: Circuit) -> list[Qubit]:
    """Circuit qubits in an order where strongly interacting qubits are neighbours: a greedy
    maximum-weight cover of the interaction graph by paths, paths concatenated."""
    weights = two_qubit_pairs(circuit)
    parent = {q: q for q in circuit.qubits}

    def root(q: Qubit) -> Qubit:
        while parent[q] != q:
            parent[q] = parent[parent[q]]
            q = parent[q]
        return q

    neighbours: dict[Qubit, list[Qubit]] = {q: [] for q in circuit.qubits}
    for (a, b), _ in sorted(weights.items(), key=lambda kv: -kv[1]):
        if len(neighbours[a]) < 2 and len(neighbours[b]) < 2 and root(a) != root(b):
            neighbours[a].append(b)
            neighbours[b].append(a)
            parent[root(a)] = root(b)
    order: list[Qubit] = []
    placed: set[Qubit] = set()
    chains: list[list[Qubit]] = []
    for q in circuit.qubits:
        if q in placed or len(neighbours[q]) == 2:
            continue
        chain = [q]
        placed.add(q)
        while True:
            nxt = [n for n in neighbours[chain[-1]] if n not in placed]
            if not nxt:
                break
            chain.append(nxt[0])
            placed.add(nxt[0])
        chains.append(chain)
    chains.sort(key=len, reverse=True)
    for chain in chains:
        order.extend(chain)
    return order


def two_qubit_pairs(circuit: Circuit) -> dict[tuple[Qubit, Qubit], int]:
    """How many two-qubit gates act on each pair of circuit qubits."""
    pairs: dict[tuple[Qubit, Qubit], int] = {}
    for command in circuit.get_commands():
        qubits = command.qubits
        if len(qubits) == 2 and command.op.type != OpType.Barrier:
            a, b = sorted(qubits)
            pairs[(a, b)] = pairs.get((a, b), 0) + 1
    return pairs


def _first_two_qubit_use(circuit: Circuit) -> dict[Qubit, int]:
    """Position of each qubit's first two-qubit gate (qubits without one: after the end)."""
    first: dict[Qubit, int] = {}
    commands = circuit.get_commands()
    for position, command in enumerate(commands):
        if len(command.qubits) == 2 and command.op.type != OpType.Barrier:
            for qubit in command.qubits:
                first.setdefault(qubit, position)
    return {q: first.get(q, len(commands)) for q in circuit.qubits}


@functools.lru_cache(maxsize=16)
def _distances(edges: tuple[tuple[Node, Node], ...]) -> dict[Node, dict[Node, int]]:
    """All-pairs shortest path lengths of the coupling graph (breadth-first searches)."""
    adjacency: dict[Node, list[Node]] = {}
    for a, b in edges:
        adjacency.setdefault(a, []).append(b)
        adjacency.setdefault(b, []).append(a)
    table: dict[Node, dict[Node, int]] = {}
    for source in adjacency:
        seen = {source: 0}
        frontier = [source]
        while frontier:
            following = []
            for node in frontier:
                for other in adjacency[node]:
                    if other not in seen:
                        seen[other] = seen[node] + 1
                        following.append(other)
            frontier = following
        table[source] = seen
    return table


def _edges_of(architecture: Architecture) -> tuple[tuple[Node, Node], ...]:
    return tuple(sorted({(min(a, b), max(a, b)) for a, b in architecture.coupling}))


def _map_estimate(
    mapping: Mapping[Qubit, Node],
    pairs: Mapping[tuple[Qubit, Qubit], int],
    distances: Mapping[Node, Mapping[Node, int]],
    noise: NoiseFigures,
) -> float:
    """Rough log success of a placement: each gate on a coupler costs its CZ error, a gate
    between nodes d apart costs about 3(d−1)+1 average CZ; every placed qubit one readout."""
    total = sum(math.log1p(-noise.readout_error(node)) for node in mapping.values())
    for (a, b), count in pairs.items():
        node_a, node_b = mapping[a], mapping[b]
        distance = distances[node_a].get(node_b, len(distances))
        if distance == 1:
            total += count * math.log1p(-noise.cz_error(node_a, node_b))
        else:
            total += count * (3 * (distance - 1) + 1) * math.log1p(-noise.default_cz)
    return total


def _path_maps(
    circuit: Circuit, architecture: Architecture, noise: NoiseFigures, n_maps: int
) -> list[dict[Qubit, Node]]:
    """Placements laying the circuit's interaction order along long paths of the device (on
    the stretch with the best error figures); when the circuit is longer than a path, the
    remaining qubits go to the free nodes nearest their partners. Best estimates first."""
    edges = _edges_of(architecture)
    distances = _distances(edges)
    pairs = two_qubit_pairs(circuit)
    order = _interaction_order(circuit)
    n = len(order)
    first_use = _first_two_qubit_use(circuit)
    scored: list[tuple[float, dict[Qubit, Node]]] = []
    for path in _long_paths(edges):
        # Qubits that do not fit on the path are best those needed last: routing them late
        # costs SWAPs that the end of the circuit can absorb.
        sequences = [order, order[::-1]]
        if n > len(path):
            latest = max(min(first_use[q] for q in seq[len(path) :]) for seq in sequences)
            sequences = [
                seq for seq in sequences if min(first_use[q] for q in seq[len(path) :]) == latest
            ]
        for nodes in (path, path[::-1]):
            for sequence in sequences:
                if n <= len(nodes):
                    for start in range(len(nodes) - n + 1):
                        mapping = dict(zip(sequence, nodes[start : start + n], strict=True))
                        scored.append((_map_estimate(mapping, pairs, distances, noise), mapping))
                else:
                    mapping = dict(zip(sequence, nodes, strict=False))
                    _place_rest(circuit, architecture, mapping, distances)
                    scored.append((_map_estimate(mapping, pairs, distances, noise), mapping))
    scored.sort(key=lambda item: -item[0])
    unique: list[dict[Qubit, Node]] = []
    for _, mapping in scored:
        if mapping not in unique:
            unique.append(mapping)
        if len(unique) == n_maps:
            break
    return unique


_EXHAUSTIVE_LIMIT = 2000
"""Largest number of injective qubit-to-node maps that is enumerated outright."""


def _injective_map_count(n_qubits: int, n_nodes: int) -> int:
    count = 1
    for k in range(n_qubits):
        count *= n_nodes - k
        if count > _EXHAUSTIVE_LIMIT:
            break
    return count


def _exhaustive_maps(
    circuit: Circuit, architecture: Architecture, noise: NoiseFigures, n_maps: int
) -> list[dict[Qubit, Node]]:
    """On small devices: every placement of the circuit's interacting qubits, ranked by
    :func:`_map_estimate`; the best ``n_maps`` (qubits without two-qubit gates are left to
    the router)."""
    pairs = two_qubit_pairs(circuit)
    qubits = sorted({q for pair in pairs for q in pair})
    nodes = sorted(architecture.nodes)
    if not qubits or _injective_map_count(len(qubits), len(nodes)) > _EXHAUSTIVE_LIMIT:
        return []
    distances = _distances(_edges_of(architecture))
    scored = [
        (_map_estimate(mapping, pairs, distances, noise), index, mapping)
        for index, mapping in enumerate(
            dict(zip(qubits, chosen, strict=True))
            for chosen in itertools.permutations(nodes, len(qubits))
        )
    ]
    scored.sort(key=lambda item: (-item[0], item[1]))
    return [mapping for _, _, mapping in scored[:n_maps]]


def _place_rest(
    circuit: Circuit,
    architecture: Architecture,
    mapping: dict[Qubit, Node],
    distances: Mapping[Node, Mapping[Node, int]],
) -> None:
    """Put each unplaced qubit on the free node closest to the nodes of its partners."""
    partners: dict[Qubit, list[Qubit]] = {q: [] for q in circuit.qubits}
    for a, b in two_qubit_pairs(circuit):
        partners[a].append(b)
        partners[b].append(a)
    used = set(mapping.values())
    free = [node for node in architecture.nodes if node not in used]
    for qubit in circuit.qubits:
        if qubit in mapping:
            continue
        placed = [mapping[p] for p in partners[qubit] if p in mapping]
        chosen = min(
            free,
            key=lambda node: (sum(distances[node].get(p, len(distances)) for p in placed), node),
        )
        mapping[qubit] = chosen
        free.remove(chosen)


# -- the candidates ---------------------------------------------------------------------------


def candidate_placement_passes(
    circuit: Circuit, architecture: Architecture, noise: NoiseFigures, effort: float
) -> list[BasePass]:
    """Placements worth trying for ``circuit``: noise-aware (or graph) placement, a quick
    graph placement, and for wide circuits, long-path placements. Each is computed once and
    returned as a renaming, so trying it with several routings costs no new search."""
    placements: list[Placement] = [primary_placement(architecture, noise, effort)]
    small = _injective_map_count(circuit.n_qubits, len(architecture.nodes)) <= _EXHAUSTIVE_LIMIT
    if noise.has_data and (effort >= FULL_EFFORT or not small):
        # On small devices the ranked enumeration below already covers what a noise-blind
        # placement would add.
        placements.append(graph_placement(architecture, effort))
    if _uses_node_names(circuit):
        # Renaming to nodes would clash with qubits that already carry node names.
        return [PlacementPass(placement) for placement in placements]
    maps: list[dict[Qubit, Node]] = []
    # On small devices the ranked enumeration below supplies the variety.
    if effort >= FULL_EFFORT:
        per_placement = _MAPS_PER_PLACEMENT_FULL_EFFORT
    else:
        per_placement = _MAPS_PER_PLACEMENT_SMALL_DEVICE if small else _MAPS_PER_PLACEMENT
    for placement in placements:
        try:
            # Several of the best matches: their routing costs differ more than their
            # estimates do.
            found = placement.get_placement_maps(circuit, matches=per_placement)
            maps.extend(dict(mapping) for mapping in found[:per_placement])
        except RuntimeError:
            # The subgraph search ran out of time (dense interaction graphs on large devices):
            # the other candidates, or the line placement below, take over.
            continue
    if not maps:
        maps.append(dict(LinePlacement(architecture).get_placement_map(circuit)))
    n_nodes = len(architecture.nodes)
    n_maps = _PATHS_KEPT if effort >= FULL_EFFORT else _RANKED_MAPS
    maps.extend(_exhaustive_maps(circuit, architecture, noise, n_maps))
    if circuit.n_qubits >= max(_WIDE_CIRCUIT_MIN_QUBITS, n_nodes // 2):
        maps.extend(_path_maps(circuit, architecture, noise, n_maps))
    if effort >= FULL_EFFORT:
        # Level 3 only: the refinement routes the circuit twice per placement.
        maps.extend(bidirectional_maps(circuit, architecture, maps))
    # Maps that agree on the interacting qubits route alike: keep the first of them (the
    # primary placement's, which also places the other qubits by readout quality).
    interacting = {q for pair in two_qubit_pairs(circuit) for q in pair}
    unique: list[dict[Qubit, Node]] = []
    seen: list[dict[Qubit, Node]] = []
    for mapping in maps:
        key = {q: n for q, n in mapping.items() if q in interacting}
        if key not in seen:
            seen.append(key)
            unique.append(mapping)
    return [RenameQubitsPass(dict(mapping)) for mapping in unique]


def _two_qubit_skeleton(circuit: Circuit, reverse: bool) -> Circuit:
    """The circuit's two-qubit gates as CX on the same qubits, optionally in reverse order:
    all that routing looks at."""
    skeleton = Circuit()
    for qubit in circuit.qubits:
        skeleton.add_qubit(qubit)
    pairs = [
        command.qubits
        for command in circuit.get_commands()
        if len(command.qubits) == 2 and command.op.type != OpType.Barrier
    ]
    for a, b in reversed(pairs) if reverse else pairs:
        skeleton.CX(a, b)
    return skeleton


def bidirectional_maps(
    circuit: Circuit, architecture: Architecture, maps: list[dict[Qubit, Node]]
) -> list[dict[Qubit, Node]]:
    """Refine each placement by routing the circuit forwards from it and then backwards (the
    idea of SABRE): where the backward routing ends is a placement fitted to the circuit's
    first gates that still reaches its later ones cheaply. (A second round measured worse on the
    benchmark suite.)"""
    forward = _two_qubit_skeleton(circuit, reverse=False)
    if not forward.n_gates:
        return []
    backward = _two_qubit_skeleton(circuit, reverse=True)
    refined: list[dict[Qubit, Node]] = []
    for mapping in maps:
        current = dict(mapping)
        try:
            for skeleton in (forward, backward):
                unit = CompilationUnit(skeleton.copy())
                SequencePass(
                    [RenameQubitsPass(current), routing_pass(architecture, reorder=False)]
                ).apply(unit)
                final = unit.final_map
                current = {q: as_node(final[q]) for q in circuit.qubits}
        except RuntimeError:
            # Routing a variant can fail on unusual circuits: the unrefined placement stays.
            continue
        refined.append(current)
    return refined


def _uses_node_names(circuit: Circuit) -> bool:
    return any(qubit.reg_name == "node" for qubit in circuit.qubits)
