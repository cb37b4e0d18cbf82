"""Plots of a device's coupling map with its error figures, and of result histograms.

Needs ``matplotlib`` (the ``plot`` extra: ``pip install "pytket-iqm[plot]"``); it is imported
only when a plot is drawn. Both functions draw into a given matplotlib ``Axes`` or a new
figure, and return the ``Axes``.
"""

from __future__ import annotations

import importlib
from collections import deque
from collections.abc import Hashable, Mapping, Sequence
from typing import TYPE_CHECKING, Any, Literal

import numpy as np
from pytket.architecture import Architecture
from pytket.backends.backendinfo import BackendInfo
from pytket.backends.backendresult import BackendResult
from pytket.circuit import Node
from pytket.unit_id import UnitID

from pytket.extensions.iqm.backends.architecture import qubit_for_node
from pytket.extensions.iqm.errors import IQMTranslationError

if TYPE_CHECKING:
    from matplotlib.axes import Axes

PLOT_EXTRA = "plot"
"""The pip extra that installs matplotlib: ``pip install "pytket-iqm[plot]"``."""

QubitMetric = Literal["prx", "readout"]
"""The per-qubit figure :func:`plot_coupling_map` colours nodes by: ``"prx"`` (single-qubit gate
error) or ``"readout"`` (mean readout error)."""

_NO_FIGURE_COLOUR = "#b0b0b0"
_COLOUR_MAP = "RdYlGn_r"  # green: good, red: bad


def _pyplot() -> Any:
    """``matplotlib.pyplot``.

    :raises ImportError: matplotlib is not installed; the message names the extra.
    """
    try:
        pyplot = importlib.import_module("matplotlib.pyplot")
    except ImportError:
        raise ImportError(
            "Plotting needs matplotlib, which is not installed. Install it with "
            f'pip install "pytket-iqm[{PLOT_EXTRA}]" (or pip install matplotlib).'
        ) from None
    return pyplot


def _axes(ax: Axes | None) -> Axes:
    if ax is not None:
        return ax
    _, new_ax = _pyplot().subplots()
    return new_ax  # type: ignore[no-any-return]


def _node_label(node: UnitID) -> str:
    """``QB<n>`` for device nodes, the node's own name otherwise."""
    try:
        return qubit_for_node(node)
    except IQMTranslationError:
        return str(node)


def _stress_layout(count: int, edges: Sequence[tuple[int, int]], iterations: int = 300) -> Any:
    """2-D positions whose distances follow the graph distances (stress majorisation).

    Deterministic: starts from classical multidimensional scaling. Lattices such as IQM's
    Crystal devices come out as near-regular grids.
    """
    if count == 1:
        return np.zeros((1, 2))
    neighbours: list[list[int]] = [[] for _ in range(count)]
    for a, b in edges:
        neighbours[a].append(b)
        neighbours[b].append(a)
    distance = np.full((count, count), np.inf)
    for source in range(count):
        distance[source, source] = 0
        queue = deque([source])
        while queue:
            here = queue.popleft()
            for there in neighbours[here]:
                if distance[source, there] == np.inf:
                    distance[source, there] = distance[source, here] + 1
                    queue.append(there)
    finite = distance[np.isfinite(distance)]
    # Qubits without couplers (or separate components) sit a little beyond the farthest pair.
    distance[~np.isfinite(distance)] = finite.max() + 1
    centring = np.eye(count) - 1 / count
    gram = -0.5 * centring @ (distance**2) @ centring
    values, vectors = np.linalg.eigh(gram)
    order = np.argsort(values)[::-1][:2]
    positions = vectors[:, order] * np.sqrt(np.maximum(values[order], 1e-9))
    # Fix each axis's sign so that the picture does not depend on the eigensolver.
    for axis in range(2):
        if positions[np.argmax(np.abs(positions[:, axis])), axis] < 0:
            positions[:, axis] *= -1
    weights = np.zeros_like(distance)
    off_diagonal = ~np.eye(count, dtype=bool)
    weights[off_diagonal] = distance[off_diagonal] ** -2.0
    laplacian = -weights.copy()
    laplacian[np.diag_indices(count)] = weights.sum(axis=1)
    pseudo_inverse = np.linalg.pinv(laplacian)
    for _ in range(iterations):
        gaps = np.linalg.norm(positions[:, None, :] - positions[None, :, :], axis=2)
        ratio = np.zeros_like(gaps)
        np.divide(weights * distance, gaps, out=ratio, where=gaps > 1e-12)
        update = -ratio
        update[np.diag_indices(count)] = ratio.sum(axis=1)
        positions = pseudo_inverse @ update @ positions
    return positions


def _edge_error(errors: Mapping[tuple[Node, Node], float] | None, a: Node, b: Node) -> float | None:
    if not errors:
        return None
    found = errors.get((a, b))
    return errors.get((b, a)) if found is None else found


def _percent(error: float) -> str:
    return f"{100 * error:.2g}%"


def plot_coupling_map(
    backend_or_info: Any,
    ax: Axes | None = None,
    *,
    qubit_metric: QubitMetric = "prx",
    positions: Mapping[str, tuple[float, float]] | None = None,
    show_errors: bool = True,
) -> Axes:
    """Draw a device's qubits and couplers, coloured and labelled by their error figures.

    Each qubit is a dot labelled with its name (``QB<n>``) and, when published, its PRX error
    (1 − fidelity) or its mean readout error; each coupler is a line labelled with its CZ error.
    Colours go from green (the smallest error on the device) to red (the largest); figures the
    device does not publish are drawn grey, without a number.

    :param backend_or_info: an :class:`~pytket.extensions.iqm.IQMBackend` (or any backend with
        ``backend_info``), or a :class:`~pytket.backends.backendinfo.BackendInfo`.
    :param ax: the matplotlib ``Axes`` to draw into (default: a new figure).
    :param qubit_metric: ``"prx"`` (single-qubit gate error) or ``"readout"`` (mean of
        P(1|0) and P(0|1)).
    :param positions: qubit name → (x, y), to place qubits yourself; by default the layout
        follows the coupling graph.
    :param show_errors: label qubits and couplers with their error in percent.
    :return: the ``Axes`` drawn into.
    :raises ImportError: matplotlib is not installed (the message names the ``plot`` extra).
    :raises ValueError: ``qubit_metric`` is unknown, the backend has no ``BackendInfo``, or
        ``positions`` misses a qubit.
    """
    info = backend_or_info if isinstance(backend_or_info, BackendInfo) else None
    if info is None:
        info = getattr(backend_or_info, "backend_info", None)
    if not isinstance(info, BackendInfo):
        raise ValueError(
            "plot_coupling_map needs an IQMBackend (or another backend with backend_info) or a "
            f"BackendInfo, not {type(backend_or_info).__name__}."
        )
    if qubit_metric not in ("prx", "readout"):
        raise ValueError(f"qubit_metric must be 'prx' or 'readout', not {qubit_metric!r}.")
    architecture = info.architecture
    nodes: list[Node] = list(architecture.nodes) if architecture is not None else []
    nodes.sort(key=lambda node: (node.reg_name, node.index))
    labels = [_node_label(node) for node in nodes]
    index_of = {node: index for index, node in enumerate(nodes)}
    edges: list[tuple[Node, Node]] = []
    seen: set[frozenset[Node]] = set()
    coupling = architecture.coupling if isinstance(architecture, Architecture) else []
    for a, b in coupling:
        if frozenset((a, b)) not in seen:
            seen.add(frozenset((a, b)))
            edges.append((a, b) if index_of[a] < index_of[b] else (b, a))
    edges.sort(key=lambda edge: (index_of[edge[0]], index_of[edge[1]]))

    if positions is not None:
        missing = [label for label in labels if label not in positions]
        if missing:
            raise ValueError(f"positions has no (x, y) for {', '.join(missing)}.")
        xy = np.array([positions[label] for label in labels], dtype=float).reshape(-1, 2)
    elif nodes:
        xy = _stress_layout(len(nodes), [(index_of[a], index_of[b]) for a, b in edges])
    else:
        xy = np.zeros((0, 2))

    node_source = (
        info.averaged_node_gate_errors if qubit_metric == "prx" else info.averaged_readout_errors
    ) or {}
    node_errors = [node_source.get(node) for node in nodes]
    edge_errors = [_edge_error(info.averaged_edge_gate_errors, a, b) for a, b in edges]

    pyplot = _pyplot()
    from matplotlib.collections import LineCollection  # noqa: PLC0415 - optional dependency

    if ax is None:
        side = max(5.0, 1.4 * float(np.sqrt(len(nodes))))
        _, ax = pyplot.subplots(figsize=(side, side))
    colour_map = pyplot.get_cmap(_COLOUR_MAP)

    def colours(errors: Sequence[float | None]) -> list[Any]:
        known = [error for error in errors if error is not None]
        smallest, spread = (min(known), max(known) - min(known)) if known else (0.0, 0.0)
        return [
            _NO_FIGURE_COLOUR
            if error is None
            else colour_map((error - smallest) / spread if spread > 0 else 0.0)
            for error in errors
        ]

    segments = [[xy[index_of[a]], xy[index_of[b]]] for a, b in edges]
    ax.add_collection(
        LineCollection(segments, colors=colours(edge_errors), linewidths=4, zorder=1, label="CZ")
    )
    ax.scatter(
        xy[:, 0],
        xy[:, 1],
        s=700,
        c=colours(node_errors),
        edgecolors="black",
        linewidths=0.8,
        zorder=2,
        label="qubits",
    )
    for (x, y), label, error in zip(xy, labels, node_errors, strict=True):
        text = label if error is None or not show_errors else f"{label}\n{_percent(error)}"
        ax.annotate(text, (x, y), ha="center", va="center", fontsize=6.5, zorder=3)
    if show_errors:
        for (start, end), error in zip(segments, edge_errors, strict=True):
            if error is not None:
                middle = (start + end) / 2
                ax.annotate(
                    _percent(error),
                    (middle[0], middle[1]),
                    ha="center",
                    va="center",
                    fontsize=6,
                    zorder=3,
                    bbox={"boxstyle": "round,pad=0.15", "fc": "white", "ec": "none"},
                )
    metric_name = "PRX error" if qubit_metric == "prx" else "readout error"
    ax.set_title(f"{info.device_name or info.name}: {metric_name} (qubits), CZ error (couplers)")
    ax.set_aspect("equal")
    ax.margins(0.12)
    ax.set_axis_off()
    return ax


def _outcome_label(outcome: Hashable) -> str:
    if isinstance(outcome, tuple):
        return "".join(str(bit) for bit in outcome)
    return str(outcome)


def plot_counts(
    result_or_counts: BackendResult | Mapping[Any, int],
    ax: Axes | None = None,
    *,
    max_outcomes: int | None = 32,
    title: str | None = None,
) -> Axes:
    """Draw a histogram of measured outcomes (bit strings in the circuit's bit order).

    :param result_or_counts: a :class:`~pytket.backends.backendresult.BackendResult` or a
        mapping outcome → count (outcomes as bit tuples, as ``get_counts`` gives them, or
        strings).
    :param ax: the matplotlib ``Axes`` to draw into (default: a new figure).
    :param max_outcomes: show only this many of the most frequent outcomes (``None``: all);
        the title says how many were left out.
    :param title: the plot's title (default: the number of shots).
    :return: the ``Axes`` drawn into; one bar per outcome, in outcome order, labelled with
        its count.
    :raises ImportError: matplotlib is not installed (the message names the ``plot`` extra).
    :raises ValueError: a count is negative or ``max_outcomes`` is below 1.
    """
    counts = (
        result_or_counts.get_counts()
        if isinstance(result_or_counts, BackendResult)
        else result_or_counts
    )
    if max_outcomes is not None and max_outcomes < 1:
        raise ValueError(f"max_outcomes must be 1 or more (or None for all), not {max_outcomes}.")
    negative = [outcome for outcome, count in counts.items() if count < 0]
    if negative:
        raise ValueError(
            f"Counts must not be negative; outcome {negative[0]!r} has a negative count."
        )
    shown = sorted(counts.items(), key=lambda item: -item[1])
    left_out = 0
    if max_outcomes is not None and len(shown) > max_outcomes:
        left_out = len(shown) - max_outcomes
        shown = shown[:max_outcomes]
    shown.sort(key=lambda item: _outcome_label(item[0]))
    labels = [_outcome_label(outcome) for outcome, _ in shown]
    heights = [int(count) for _, count in shown]

    ax = _axes(ax)
    # Numeric positions: bit strings as categories would be parsed as numbers by matplotlib.
    positions = list(range(len(labels)))
    bars = ax.bar(positions, heights, color="#4a72b0")
    ax.set_xticks(positions, labels)
    ax.bar_label(bars, fontsize=7)
    ax.set_xlabel("outcome")
    ax.set_ylabel("count")
    if len(labels) > 8:
        ax.tick_params(axis="x", labelrotation=90)
    total = sum(int(count) for count in counts.values())
    default_title = f"{total} shots"
    if left_out:
        default_title += f" ({left_out} less frequent outcomes not shown)"
    ax.set_title(title if title is not None else default_title)
    return ax


__all__ = ["PLOT_EXTRA", "QubitMetric", "plot_counts", "plot_coupling_map"]
