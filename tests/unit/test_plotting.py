"""The plotting helpers draw what the device and the result hold (matplotlib Agg, no display)."""

from __future__ import annotations

import sys
from collections import Counter
from typing import Any

import pytest

matplotlib = pytest.importorskip("matplotlib", reason="plotting needs the 'plot' extra")
matplotlib.use("Agg")

from matplotlib import pyplot  # noqa: E402
from matplotlib.collections import LineCollection, PathCollection  # noqa: E402
from matplotlib.colors import to_hex  # noqa: E402
from pytket.architecture import Architecture  # noqa: E402
from pytket.backends.backendinfo import BackendInfo  # noqa: E402
from pytket.backends.backendresult import BackendResult  # noqa: E402
from pytket.circuit import Node, OpType  # noqa: E402
from pytket.utils.outcomearray import OutcomeArray  # noqa: E402

from pytket.extensions.iqm.backends.architecture import node_for_qubit  # noqa: E402
from pytket.extensions.iqm.emulator.devices.catalogue import get_device  # noqa: E402
from pytket.extensions.iqm.plotting import plot_counts, plot_coupling_map  # noqa: E402

GREY = "#b0b0b0"


@pytest.fixture(autouse=True)
def _close_figures() -> Any:
    yield
    pyplot.close("all")


def _info(errors: bool) -> BackendInfo:
    """QB1 – QB2 – QB3 in a line (QB1–QB2 listed both ways), and QB4 without couplers."""
    n1, n2, n3, n4 = (Node("node", index) for index in range(4))
    architecture = Architecture.from_dict(
        {
            "nodes": [node.to_list() for node in (n1, n2, n3, n4)],
            "links": [
                {"link": [a.to_list(), b.to_list()], "weight": 1}
                for a, b in ((n1, n2), (n2, n1), (n2, n3))
            ],
        }
    )
    node_errors = {n1: 0.001, n2: 0.002, n3: 0.004} if errors else None
    edge_errors = {(n1, n2): 0.01, (n2, n1): 0.01, (n2, n3): 0.03} if errors else None
    readout = {n1: 0.05, n2: 0.02, n3: 0.03, n4: 0.04} if errors else None
    return BackendInfo(
        name="IQMBackend",
        device_name="line",
        version="0",
        architecture=architecture,
        gate_set={OpType.PhasedX, OpType.CZ, OpType.Measure},
        averaged_node_gate_errors=node_errors,
        averaged_edge_gate_errors=edge_errors,
        averaged_readout_errors=readout,
    )


def _scatter(ax: Any) -> Any:
    (scatter,) = [c for c in ax.collections if isinstance(c, PathCollection)]
    return scatter


def _lines(ax: Any) -> Any:
    (lines,) = [c for c in ax.collections if isinstance(c, LineCollection)]
    return lines


def _texts(ax: Any) -> list[str]:
    return [text.get_text() for text in ax.texts]


def test_coupling_map_draws_qubits_couplers_and_errors() -> None:
    ax = plot_coupling_map(_info(errors=True))
    assert len(_scatter(ax).get_offsets()) == 4
    assert len(_lines(ax).get_segments()) == 2  # QB1–QB2 once, although listed both ways
    assert _texts(ax) == ["QB1\n0.1%", "QB2\n0.2%", "QB3\n0.4%", "QB4", "1%", "3%"]
    assert ax.get_title() == "line: PRX error (qubits), CZ error (couplers)"
    node_colours = [to_hex(colour) for colour in _scatter(ax).get_facecolors()]
    edge_colours = [to_hex(colour) for colour in _lines(ax).get_colors()]
    # Smallest error green, largest red (RdYlGn reversed); QB4 has no PRX figure: grey.
    colour_map = pyplot.get_cmap("RdYlGn_r")
    assert node_colours[0] == to_hex(colour_map(0.0))
    assert node_colours[2] == to_hex(colour_map(1.0))
    assert node_colours[3] == GREY
    assert edge_colours == [to_hex(colour_map(0.0)), to_hex(colour_map(1.0))]


def test_coupling_map_readout_metric() -> None:
    ax = plot_coupling_map(_info(errors=True), qubit_metric="readout")
    assert _texts(ax)[:4] == ["QB1\n5%", "QB2\n2%", "QB3\n3%", "QB4\n4%"]
    assert "readout error (qubits)" in ax.get_title()


def test_coupling_map_without_error_figures_still_draws() -> None:
    ax = plot_coupling_map(_info(errors=False))
    assert len(_scatter(ax).get_offsets()) == 4
    assert len(_lines(ax).get_segments()) == 2
    assert _texts(ax) == ["QB1", "QB2", "QB3", "QB4"]
    assert {to_hex(colour) for colour in _scatter(ax).get_facecolors()} == {GREY}
    assert {to_hex(colour) for colour in _lines(ax).get_colors()} == {GREY}


def test_coupling_map_of_a_bundled_device_into_given_axes() -> None:
    # Garnet's default calibration from the emulator's catalogue (no server, no iqm-client).
    calibration = get_device("garnet").default_calibration
    info = BackendInfo(
        name="IQMBackend",
        device_name="garnet",
        version="0",
        architecture=Architecture(
            [(node_for_qubit(a), node_for_qubit(b)) for a, b in calibration.cz_loci]
        ),
        gate_set={OpType.PhasedX, OpType.CZ, OpType.Measure},
        averaged_node_gate_errors={
            node_for_qubit(q): 1 - f for q, f in calibration.prx_fidelity.items()
        },
        averaged_edge_gate_errors={
            (node_for_qubit(a), node_for_qubit(b)): 1 - f
            for (a, b), f in calibration.cz_fidelity.items()
        },
    )
    _, given = pyplot.subplots()
    ax = plot_coupling_map(info, given, show_errors=False)
    assert ax is given
    assert len(_scatter(ax).get_offsets()) == 20
    assert len(_lines(ax).get_segments()) == 30
    assert sorted(_texts(ax), key=lambda name: int(name[2:])) == [f"QB{n}" for n in range(1, 21)]
    # Couplers join neighbours: the layout keeps every coupler shorter than any non-neighbour gap.
    segments = _lines(ax).get_segments()
    longest = max(((a - b) ** 2).sum() ** 0.5 for a, b in segments)
    assert longest < 1.5


def test_coupling_map_positions_and_bad_input() -> None:
    places = {"QB1": (0.0, 0.0), "QB2": (1.0, 0.0), "QB3": (2.0, 0.0), "QB4": (0.0, 1.0)}
    ax = plot_coupling_map(_info(errors=True), positions=places)
    assert _scatter(ax).get_offsets().tolist() == [[0, 0], [1, 0], [2, 0], [0, 1]]
    with pytest.raises(ValueError, match=r"^positions has no \(x, y\) for QB3, QB4\.$"):
        plot_coupling_map(_info(errors=True), positions={"QB1": (0, 0), "QB2": (1, 0)})
    with pytest.raises(ValueError, match=r"^qubit_metric must be 'prx' or 'readout', not 'cz'\.$"):
        plot_coupling_map(_info(errors=True), qubit_metric="cz")  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=r"or a BackendInfo, not str\.$"):
        plot_coupling_map("garnet")


def test_counts_histogram_from_a_result() -> None:
    shots = [[0, 0]] * 3 + [[1, 1]] * 5 + [[0, 1]]
    result = BackendResult(shots=OutcomeArray.from_readouts(shots))
    ax = plot_counts(result)
    bars: list[Any] = list(ax.patches)
    assert [bar.get_height() for bar in bars] == [3, 1, 5]
    assert [label.get_text() for label in ax.get_xticklabels()] == ["00", "01", "11"]
    assert ax.get_title() == "9 shots"
    assert _texts(ax) == ["3", "1", "5"]


def test_counts_histogram_keeps_the_most_frequent() -> None:
    counts = Counter({"000": 50, "111": 40, "010": 5, "100": 3, "001": 2})
    ax = plot_counts(counts, max_outcomes=3, title=None)
    assert [label.get_text() for label in ax.get_xticklabels()] == ["000", "010", "111"]
    assert ax.get_title() == "100 shots (2 less frequent outcomes not shown)"
    ax = plot_counts(counts, max_outcomes=None, title="mine")
    assert len(ax.patches) == 5
    assert ax.get_title() == "mine"
    with pytest.raises(ValueError, match=r"^max_outcomes must be 1 or more"):
        plot_counts(counts, max_outcomes=0)
    with pytest.raises(ValueError, match=r"negative count"):
        plot_counts({"0": -1})


def test_missing_matplotlib_names_the_extra(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r'pip install "pytket-iqm\[plot\]"'):
        plot_coupling_map(_info(errors=True))
    with pytest.raises(ImportError, match=r'pip install "pytket-iqm\[plot\]"'):
        plot_counts({"0": 1})
