"""Device model of an IQM quantum computer, built from its dynamic quantum architecture (DQA).

The DQA says which gates are calibrated on which loci; the optional quality-metric set adds
error figures. :class:`IQMDevice` turns both into what pytket needs for compilation: an
:class:`~pytket.architecture.Architecture` (physical qubit ``QBn`` is ``Node("node", n-1)``)
and a :class:`~pytket.backends.backendinfo.BackendInfo` with noise data.

Computational resonators (``COMPR1``, ``CR1``, ``COMP_R`` …) are recorded in the model but are
not placement nodes. On Star devices (qubits coupled only through a resonator) the architecture
users place on is the *simplified* one: an edge joins two qubits whenever one can be MOVEd into
a resonator the other has a CZ with (``MOVE(b, R) · CZ(a, R) · MOVE(b, R)`` realises CZ(a, b));
:mod:`pytket.extensions.iqm.backends.compilation.move_insertion` turns such CZs into MOVE
sequences.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any
from uuid import UUID

from pytket.architecture import Architecture
from pytket.backends.backendinfo import BackendInfo
from pytket.circuit import Node, OpType
from pytket.unit_id import UnitID, UnitType

from pytket.extensions.iqm.errors import IQMDeviceError, IQMServerError, IQMTranslationError

_QUBIT_NAME = re.compile(r"QB([1-9][0-9]*)")
_NODE_REGISTER = "node"

Edge = tuple[str, str]
Locus = tuple[str, ...]


def _component_order(name: str) -> tuple[str, int, str]:
    """Sort components as IQM lists them: by letters, then number (``QB2`` before ``QB10``)."""
    number = re.search(r"(\d+)", name)
    return re.sub(r"[^a-zA-Z]", "", name), int(number.group(1)) if number else 0, name


@dataclass(frozen=True)
class GateInfo:
    """Where one gate is calibrated, per implementation (as in IQM's DQA)."""

    implementations: Mapping[str, tuple[Locus, ...]]
    """Implementation name → loci calibrated for it."""
    default_implementation: str
    override_default_implementation: Mapping[Locus, str] = field(default_factory=dict)
    """Loci whose default implementation differs from :attr:`default_implementation`."""

    @property
    def loci(self) -> tuple[Locus, ...]:
        """Every locus with at least one calibrated implementation, in IQM's order."""
        loci = {locus for impl_loci in self.implementations.values() for locus in impl_loci}
        return tuple(sorted(loci, key=lambda locus: tuple(map(_component_order, locus))))


def _require_list(value: object, name: str) -> None:
    """A name list must be a JSON list: a string would be read as a list of characters."""
    if not isinstance(value, (list, tuple)) or not all(isinstance(item, str) for item in value):
        raise ValueError(f"{name} must be a list of names, not {value!r}")


def _locus(locus: str | Sequence[str]) -> Locus:
    """A locus from JSON, where a locus used as a key is written ``"QB1,QB2"``."""
    return tuple(locus.split(",")) if isinstance(locus, str) else tuple(locus)


def _loci_entry(locus: object) -> Locus:
    """One locus of an implementation's ``loci``: a list of component names."""
    _require_list(locus, "a locus")
    return tuple(locus)  # type: ignore[arg-type]  # checked just above


@dataclass(frozen=True)
class DynamicArchitecture:
    """A calibration set's dynamic quantum architecture (DQA), whichever API served it."""

    calibration_set_id: UUID
    qubits: tuple[str, ...]
    computational_resonators: tuple[str, ...]
    gates: Mapping[str, GateInfo]

    @classmethod
    def from_json(cls, data: Mapping[str, Any]) -> DynamicArchitecture:
        """Read the DQA's JSON form (the same on both API lines).

        :raises IQMServerError: ``data`` is not a DQA.
        """
        try:
            _require_list(data["qubits"], "qubits")
            _require_list(data.get("computational_resonators") or [], "computational_resonators")
            gates = {
                name: GateInfo(
                    implementations={
                        impl: tuple(_loci_entry(locus) for locus in info["loci"])
                        for impl, info in gate["implementations"].items()
                    },
                    default_implementation=gate["default_implementation"],
                    override_default_implementation={
                        _locus(locus): impl
                        for locus, impl in (
                            gate.get("override_default_implementation") or {}
                        ).items()
                    },
                )
                for name, gate in data["gates"].items()
            }
            return cls(
                calibration_set_id=UUID(str(data["calibration_set_id"])),
                qubits=tuple(data["qubits"]),
                computational_resonators=tuple(data.get("computational_resonators") or ()),
                gates=gates,
            )
        except (KeyError, TypeError, ValueError, AttributeError) as error:
            raise IQMServerError(
                f"The server's dynamic quantum architecture is malformed ({error!r})."
            ) from None


def node_for_qubit(name: str) -> Node:
    """Return the pytket node of a physical qubit: ``"QB3"`` → ``Node("node", 2)``.

    :param name: physical qubit name of the form ``QB<n>`` with ``n ≥ 1``
    :raises IQMDeviceError: if ``name`` is not a qubit name (e.g. a resonator such as ``COMPR1``)
    :return: the node ``Node("node", n - 1)``
    """
    match = _QUBIT_NAME.fullmatch(name)
    if match is None:
        raise IQMDeviceError(
            f"'{name}' is not an IQM qubit name (expected QB<n> with n >= 1); computational "
            "resonators and other components have no pytket node"
        )
    return Node(_NODE_REGISTER, int(match.group(1)) - 1)


def qubit_for_node(node: UnitID) -> str:
    """Return the physical qubit name of a pytket node: ``Node("node", 2)`` → ``"QB3"``.

    :param node: a qubit of the circuit; must be in the one-dimensional ``node`` register
    :raises IQMTranslationError: if ``node`` is not a ``node`` register qubit, i.e. the circuit
        has not been placed on the device
    :return: the physical qubit name ``QB<index + 1>``
    """
    index = node.index
    if node.type != UnitType.qubit or node.reg_name != _NODE_REGISTER or len(index) != 1:
        raise IQMTranslationError(
            f"Qubit {node} is not a device qubit: IQM circuits must act on qubits "
            f"node[0], node[1], … (node[n-1] is QB<n>). Compile the circuit with "
            f"backend.get_compiled_circuit first."
        )
    return f"QB{index[0] + 1}"


def _is_qubit_name(name: str) -> bool:
    return _QUBIT_NAME.fullmatch(name) is not None


def _qubit_number(name: str) -> int:
    match = _QUBIT_NAME.fullmatch(name)
    return int(match.group(1)) if match is not None else 0


@dataclass(frozen=True)
class IQMDevice:
    """What pytket-iqm knows about one calibration of an IQM device.

    Error figures come from the quality-metric set; a qubit or coupler without a metric is
    simply absent from the corresponding mapping (nothing is invented).
    """

    device_name: str
    """Name the user gave for the device (e.g. ``"garnet"``)."""
    calibration_set_id: str
    """UUID of the calibration set the DQA was generated from."""
    qubits: tuple[str, ...]
    """The DQA's qubits (isolated ones included), or with an ``arch`` override the qubits it
    couples; ``QB<n>`` names in numeric order."""
    computational_resonators: tuple[str, ...]
    """Computational resonators of the DQA (not placement nodes)."""
    cz_loci: tuple[Edge, ...]
    """CZ loci in use: the DQA's, or the ``arch`` override. May include resonator loci."""
    move_loci: tuple[Edge, ...]
    """MOVE loci of the DQA, ``(qubit, resonator)``."""
    gate_names: frozenset[str]
    """Server gate names calibrated in the DQA (``prx``, ``cz``, ``measure``, ``cc_prx``, …)."""
    prx_errors: Mapping[str, float] = field(default_factory=dict, hash=False)
    """Per qubit: 1 − randomized-benchmarking fidelity of ``prx``."""
    cz_errors: Mapping[Edge, float] = field(default_factory=dict, hash=False)
    """Per CZ locus (as in :attr:`cz_loci` orientation): 1 − interleaved-RB fidelity."""
    move_errors: Mapping[Edge, float] = field(default_factory=dict, hash=False)
    """Per MOVE locus ``(qubit, resonator)``: 1 − interleaved-RB fidelity."""
    readout_errors: Mapping[str, tuple[float, float]] = field(default_factory=dict, hash=False)
    """Per qubit: ``(P(read 1 | prepared 0), P(read 0 | prepared 1))``."""
    t1_times: Mapping[str, float] = field(default_factory=dict, hash=False)
    """Per qubit: T1 in seconds."""
    t2_times: Mapping[str, float] = field(default_factory=dict, hash=False)
    """Per qubit: T2 in seconds."""

    @property
    def qubit_edges(self) -> tuple[Edge, ...]:
        """The CZ loci between two qubits (resonator loci left out), in :attr:`cz_loci` order."""
        return tuple((a, b) for a, b in self.cz_loci if _is_qubit_name(a) and _is_qubit_name(b))

    def resonator_realisations(self, a: str, b: str) -> tuple[tuple[str, str], ...]:
        """Ways to realise CZ(a, b) through a resonator, as ``(moved qubit, resonator)``.

        ``(b, R)`` is listed when MOVE(b, R) and CZ(a, R) are both calibrated, so that
        ``MOVE(b, R) · CZ(a, R) · MOVE(b, R)`` acts as CZ(a, b); likewise ``(a, R)``.

        :param a: a qubit name
        :param b: another qubit name
        :return: the realisations, in resonator order, ``b`` moved before ``a`` moved
        """
        cz = {frozenset(e) for e in self.cz_loci}
        moves = set(self.move_loci)
        found: list[tuple[str, str]] = []
        for resonator in self.computational_resonators:
            for moved, other in ((b, a), (a, b)):
                if (moved, resonator) in moves and frozenset((other, resonator)) in cz:
                    found.append((moved, resonator))
        return tuple(found)

    @property
    def placement_edges(self) -> tuple[Edge, ...]:
        """Qubit pairs a CZ can act on: :attr:`qubit_edges`, then (Star devices) the pairs with
        a resonator realisation (:meth:`resonator_realisations`), in qubit-number order."""
        edges = list(self.qubit_edges)
        seen = {frozenset(e) for e in edges}
        if self.computational_resonators and self.move_loci:
            for i, a in enumerate(self.qubits):
                for b in self.qubits[i + 1 :]:
                    if frozenset((a, b)) not in seen and self.resonator_realisations(a, b):
                        edges.append((a, b))
                        seen.add(frozenset((a, b)))
        return tuple(edges)

    def _graph(self, qubits: Sequence[str], edges: Sequence[Edge]) -> Architecture:
        keep = set(qubits)
        nodes = [node_for_qubit(q).to_list() for q in qubits]
        links = [
            {"link": [node_for_qubit(a).to_list(), node_for_qubit(b).to_list()], "weight": 1}
            for a, b in edges
            if a in keep and b in keep
        ]
        return Architecture.from_dict({"nodes": nodes, "links": links})

    @property
    def placement_architecture(self) -> Architecture:
        """The architecture users place on: one node per qubit, one edge per
        :attr:`placement_edges` pair. Equal to :attr:`architecture` on devices without
        resonators; on Star devices it holds the simplified (resonator-mediated) edges."""
        return self._graph(self.qubits, self.placement_edges)

    @property
    def architecture(self) -> Architecture:
        """Connectivity graph: one node per qubit (isolated qubits included), one edge per CZ locus.

        pytket's ``Architecture`` constructor only takes edges, so the graph is built through
        ``Architecture.from_dict``, which also accepts nodes without links.
        """
        return self._graph(self.qubits, self.qubit_edges)

    def _resonator_cz_error(self, a: str, b: str) -> float | None:
        """Error of the best resonator realisation of CZ(a, b): 1 − (1 − e_move)²(1 − e_cz)."""
        best: float | None = None
        cz = {frozenset(e): err for e, err in self.cz_errors.items()}
        for moved, resonator in self.resonator_realisations(a, b):
            other = a if moved == b else b
            e_move = self.move_errors.get((moved, resonator))
            e_cz = cz.get(frozenset((other, resonator)))
            if e_move is None or e_cz is None:
                continue
            error = 1.0 - (1.0 - e_move) ** 2 * (1.0 - e_cz)
            best = error if best is None else min(best, error)
        return best

    def backend_info(self, *, name: str, version: str) -> BackendInfo:
        """Describe the device as a pytket :class:`~pytket.backends.backendinfo.BackendInfo`.

        Error fields are ``None`` when the quality metrics carry no figure of that kind.
        ``misc`` holds ``calibration_set_id``, ``qubits``, ``computational_resonators``,
        ``cz_loci``, ``move_loci``, ``gate_names``, ``t1_times`` and ``t2_times`` (seconds, by
        qubit name), ``resonator_cz_errors`` and ``move_errors`` (``[qubit, resonator, error]``
        triples), all JSON-serialisable. The architecture is :attr:`placement_architecture`;
        edges through a resonator carry the error of their MOVE–CZ–MOVE realisation.

        :param name: backend class name
        :param version: pytket-iqm version
        :return: the backend information
        """
        feedback = "cc_prx" in self.gate_names
        gate_set = {OpType.PhasedX, OpType.Measure, OpType.Barrier}
        if "cz" in self.gate_names:
            gate_set.add(OpType.CZ)
        if feedback:
            gate_set.add(OpType.Reset)

        node_errors: dict[Node, dict[OpType, float]] = {
            node_for_qubit(q): {OpType.PhasedX: e} for q, e in self.prx_errors.items()
        }
        edge_errors: dict[tuple[Node, Node], dict[OpType, float]] = {}
        for (a, b), e in self.cz_errors.items():
            if _is_qubit_name(a) and _is_qubit_name(b):
                na, nb = node_for_qubit(a), node_for_qubit(b)
                edge_errors[(na, nb)] = {OpType.CZ: e}
                edge_errors[(nb, na)] = {OpType.CZ: e}
        direct = {frozenset(e) for e in self.qubit_edges}
        for a, b in self.placement_edges:
            if frozenset((a, b)) in direct:
                continue
            # A resonator-mediated edge costs its MOVE–CZ–MOVE sequence.
            mediated = self._resonator_cz_error(a, b)
            if mediated is not None:
                na, nb = node_for_qubit(a), node_for_qubit(b)
                edge_errors[(na, nb)] = {OpType.CZ: mediated}
                edge_errors[(nb, na)] = {OpType.CZ: mediated}
        readout: dict[Node, list[list[float]]] = {
            node_for_qubit(q): [[1.0 - p10, p10], [p01, 1.0 - p01]]
            for q, (p10, p01) in self.readout_errors.items()
        }
        misc: dict[str, Any] = {
            "calibration_set_id": self.calibration_set_id,
            "qubits": list(self.qubits),
            "computational_resonators": list(self.computational_resonators),
            "cz_loci": [list(e) for e in self.cz_loci],
            "move_loci": [list(e) for e in self.move_loci],
            "gate_names": sorted(self.gate_names),
            "t1_times": dict(self.t1_times),
            "t2_times": dict(self.t2_times),
            "resonator_cz_errors": [
                [a, b, e]
                for (a, b), e in self.cz_errors.items()
                if not (_is_qubit_name(a) and _is_qubit_name(b))
            ],
            "move_errors": [[q, r, e] for (q, r), e in self.move_errors.items()],
        }
        return BackendInfo(
            name=name,
            device_name=self.device_name,
            version=version,
            architecture=self.placement_architecture,
            gate_set=gate_set,
            supports_fast_feedforward=feedback,
            supports_reset=feedback,
            supports_midcircuit_measurement=feedback,
            all_node_gate_errors=node_errors or None,
            all_edge_gate_errors=edge_errors or None,
            all_readout_errors=readout or None,
            averaged_node_gate_errors=(
                {n: errs[OpType.PhasedX] for n, errs in node_errors.items()} or None
            ),
            averaged_edge_gate_errors=(
                {edge: errs[OpType.CZ] for edge, errs in edge_errors.items()} or None
            ),
            averaged_readout_errors=(
                {n: (m[0][1] + m[1][0]) / 2 for n, m in readout.items()} or None
            ),
            misc=misc,
        )


def _loci(dqa: DynamicArchitecture, gate: str) -> tuple[Edge, ...]:
    info = dqa.gates.get(gate)
    if info is None:
        return ()
    return tuple((locus[0], locus[1]) for locus in info.loci if len(locus) == 2)


def _check_arch(dqa: DynamicArchitecture, arch: Sequence[Sequence[str]]) -> tuple[Edge, ...]:
    known = set(dqa.qubits)
    cz = {frozenset(e) for e in _loci(dqa, "cz")}
    edges: list[Edge] = []
    for pair in arch:
        if isinstance(pair, str) or len(pair) != 2:
            raise IQMDeviceError(
                f"arch entry {pair!r} is not a pair of qubit names such as ('QB1', 'QB2')"
            )
        a, b = str(pair[0]), str(pair[1])
        unknown = [q for q in (a, b) if q not in known or not _is_qubit_name(q)]
        if unknown:
            raise IQMDeviceError(
                f"arch pair ({a}, {b}) names {', '.join(unknown)}, which is not a qubit of the "
                f"device (qubits: {', '.join(dqa.qubits)})"
            )
        if a == b or frozenset((a, b)) not in cz:
            raise IQMDeviceError(
                f"arch pair ({a}, {b}) is not a calibrated CZ locus of the device in calibration "
                f"set {dqa.calibration_set_id}; use only pairs from the device's CZ loci"
            )
        edges.append((a, b))
    if not edges:
        raise IQMDeviceError(
            "arch is empty, so it couples no qubit; give at least one pair of qubit names such "
            "as [['QB1', 'QB2']], or leave arch out to use the device's CZ loci"
        )
    return tuple(edges)


# Metric names from IQM's calibration observations; ``impl`` is the gate implementation and an
# optional ``:par=…`` suffix is tolerated.
_PRX_FIDELITY = re.compile(r"metrics\.rb\.prx\.([^.]+)\.(QB\d+)\.fidelity(?::.*)?")
_CZ_FIDELITY = re.compile(r"metrics\.irb\.cz\.([^.]+)\.(\w+)__(\w+)\.fidelity(?::.*)?")
_MOVE_FIDELITY = re.compile(r"metrics\.irb\.move\.([^.]+)\.(\w+)__(\w+)\.fidelity(?::.*)?")
_READOUT = re.compile(r"metrics\.ssro\.measure\.([^.]+)\.(QB\d+)\.(error_0_to_1|error_1_to_0)")
_COHERENCE = re.compile(r"(?:characterization\.model\.)?(QB\d+)\.(t1_time|t2_time)")


def _metric_value(entry: Any) -> float | None:
    """The metric's ``value`` as a finite float, or ``None`` if absent or unparseable."""
    raw = entry.get("value") if isinstance(entry, Mapping) else entry
    if isinstance(raw, bool) or raw is None:
        return None
    try:
        value = float(raw)
    except (TypeError, ValueError):
        return None
    return value if math.isfinite(value) else None


def _default_impl(info: GateInfo | None, locus: tuple[str, ...]) -> str | None:
    if info is None:
        return None
    for key in (locus, tuple(reversed(locus))):
        if key in info.override_default_implementation:
            return info.override_default_implementation[key]
    return info.default_implementation


def _pick(
    candidates: Mapping[str, float], preferred: str | None
) -> float:  # candidates is never empty
    """Prefer the figure of the implementation the server uses by default on this locus."""
    if preferred is not None and preferred in candidates:
        return candidates[preferred]
    return candidates[min(candidates)]


@dataclass
class _Metrics:
    prx: dict[str, float] = field(default_factory=dict)
    cz: dict[Edge, float] = field(default_factory=dict)
    move: dict[Edge, float] = field(default_factory=dict)
    readout: dict[str, tuple[float, float]] = field(default_factory=dict)
    t1: dict[str, float] = field(default_factory=dict)
    t2: dict[str, float] = field(default_factory=dict)


def _parse_metrics(
    metrics: Mapping[str, Any],
    dqa: DynamicArchitecture,
    qubits: tuple[str, ...],
    cz_loci: tuple[Edge, ...],
    move_loci: tuple[Edge, ...],
) -> _Metrics:
    prx: dict[str, dict[str, float]] = {}
    cz: dict[frozenset[str], dict[str, float]] = {}
    move: dict[Edge, dict[str, float]] = {}
    ro: dict[tuple[str, str], dict[str, float]] = {}
    out = _Metrics()
    for name, entry in metrics.items():
        value = _metric_value(entry)
        if value is None:
            continue
        if m := _PRX_FIDELITY.fullmatch(name):
            prx.setdefault(m.group(2), {})[m.group(1)] = 1.0 - value
        elif m := _CZ_FIDELITY.fullmatch(name):
            cz.setdefault(frozenset((m.group(2), m.group(3))), {})[m.group(1)] = 1.0 - value
        elif m := _MOVE_FIDELITY.fullmatch(name):
            move.setdefault((m.group(2), m.group(3)), {})[m.group(1)] = 1.0 - value
        elif m := _READOUT.fullmatch(name):
            ro.setdefault((m.group(2), m.group(3)), {})[m.group(1)] = value
        elif m := _COHERENCE.fullmatch(name):
            target = out.t1 if m.group(2) == "t1_time" else out.t2
            if m.group(1) in qubits:
                target[m.group(1)] = value
    for q in qubits:
        if q in prx:
            out.prx[q] = _pick(prx[q], _default_impl(dqa.gates.get("prx"), (q,)))
        p10 = ro.get((q, "error_0_to_1"))
        p01 = ro.get((q, "error_1_to_0"))
        if p10 is not None and p01 is not None:
            impl = _default_impl(dqa.gates.get("measure"), (q,))
            out.readout[q] = (_pick(p10, impl), _pick(p01, impl))
    for edge in cz_loci:
        figures = cz.get(frozenset(edge))
        if figures is not None:
            out.cz[edge] = _pick(figures, _default_impl(dqa.gates.get("cz"), edge))
    for edge in move_loci:
        figures = move.get(edge)
        if figures is not None:
            out.move[edge] = _pick(figures, _default_impl(dqa.gates.get("move"), edge))
    return out


def device_from_dqa(
    dqa: DynamicArchitecture,
    *,
    device_name: str,
    quality_metrics: Mapping[str, Any] | None = None,
    arch: Sequence[Sequence[str]] | None = None,
) -> IQMDevice:
    """Build the device model of one calibration set.

    :param dqa: the dynamic quantum architecture returned by the server
    :param device_name: device name to report (e.g. ``"garnet"``)
    :param quality_metrics: quality metrics of the same calibration set by IQM metric name
        (``{"metrics.rb.prx.drag_crf.QB1.fidelity": 0.999, ...}``; a value may also be an entry
        with a ``"value"``), if available; metrics that are missing or unparseable are left out
    :param arch: optional coupling map replacing the DQA's CZ loci, as pairs of qubit names; each
        pair must be a CZ locus of the DQA (either order). The device is then restricted to the
        qubits ``arch`` couples.
    :raises IQMDeviceError: if a DQA qubit is not named ``QB<n>``, or ``arch`` is empty or one of
        its pairs names an unknown qubit or is not a CZ locus of the DQA
    :return: the device model
    """
    bad = [q for q in dqa.qubits if not _is_qubit_name(q)]
    if bad:
        raise IQMDeviceError(
            f"The device reports qubits {', '.join(bad)} whose names are not of the form QB<n>; "
            "pytket-iqm cannot map them to pytket nodes"
        )
    cz_loci = _check_arch(dqa, arch) if arch is not None else _loci(dqa, "cz")
    # An ``arch`` override restricts the device to the qubits it couples (as the seed-era
    # pytket-iqm did): the others would be unreachable nodes for placement and routing.
    kept = {q for edge in cz_loci for q in edge} if arch is not None else set(dqa.qubits)
    qubits = tuple(sorted(kept, key=_qubit_number))
    move_loci = tuple(edge for edge in _loci(dqa, "move") if edge[0] in kept)
    metrics = (
        _parse_metrics(quality_metrics, dqa, qubits, cz_loci, move_loci)
        if quality_metrics is not None
        else _Metrics()
    )
    return IQMDevice(
        device_name=device_name,
        calibration_set_id=str(dqa.calibration_set_id),
        qubits=qubits,
        computational_resonators=tuple(dqa.computational_resonators),
        cz_loci=cz_loci,
        move_loci=move_loci,
        gate_names=frozenset(dqa.gates),
        prx_errors=metrics.prx,
        cz_errors=metrics.cz,
        move_errors=metrics.move,
        readout_errors=metrics.readout,
        t1_times=metrics.t1,
        t2_times=metrics.t2,
    )


__all__ = [
    "DynamicArchitecture",
    "GateInfo",
    "IQMDevice",
    "device_from_dqa",
    "node_for_qubit",
    "qubit_for_node",
]
