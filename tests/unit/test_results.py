"""IQM measurement data → pytket BackendResult (results.py).

Most tests are regressions for pytket-iqm 0.18's results not being mapped back to their bits
(measurement order, unmeasured bits, register names, index order).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import numpy as np
import pytest
from pytket.circuit import Bit, Circuit, Node
from pytket.utils.prepare import prepare_circuit

from pytket.extensions.iqm.backends.results import MeasurementData, measurements_to_result
from pytket.extensions.iqm.backends.translation import MeasurementLayout, circuit_to_iqm
from pytket.extensions.iqm.errors import IQMServerError


def _layout(bits: Sequence[Bit], keys: Sequence[str | None]) -> MeasurementLayout:
    return MeasurementLayout(bits=tuple(bits), keys=tuple(keys))


def test_permuted_server_key_order_maps_by_key() -> None:
    # Measures emitted as c[1], c[2], c[0], c[3]; ideal outcome (1, 1, 0, 1).
    bits = [Bit(i) for i in range(4)]
    layout = _layout(bits, [str(b) for b in bits])
    data = {"c[1]": [[1]] * 5, "c[2]": [[0]] * 5, "c[0]": [[1]] * 5, "c[3]": [[1]] * 5}
    result = measurements_to_result(data, layout)
    assert result.get_counts() == Counter({(1, 1, 0, 1): 5})
    assert result.c_bits == {b: i for i, b in enumerate(bits)}


def test_unmeasured_bits_are_zero_and_kept() -> None:
    # Circuit(2, 3) measuring only c[0], c[1]; c[2] must exist and read 0.
    circuit = Circuit()
    circuit.add_q_register("node", 2)
    circuit.add_c_register("c", 3)
    circuit.PhasedX(1, 0, Node(1)).Measure(Node(0), Bit(0)).Measure(Node(1), Bit(1))
    _, layout = circuit_to_iqm(circuit, "gaps")
    result = measurements_to_result({"c[1]": [[1], [1]], "c[0]": [[0], [0]]}, layout)
    assert result.get_counts() == Counter({(0, 1, 0): 2})
    assert result.get_counts(cbits=[Bit(2)]) == Counter({(0,): 2})
    assert result.get_counts(cbits=[Bit(1)]) == Counter({(1,): 2})


def test_middle_gap_does_not_shift_later_bits() -> None:
    bits = [Bit(i) for i in range(3)]
    layout = _layout(bits, ["c[0]", None, "c[2]"])
    result = measurements_to_result({"c[2]": [[1], [0]], "c[0]": [[0], [1]]}, layout)
    assert result.get_shots().tolist() == [[0, 0, 1], [1, 0, 0]]


def test_several_registers_keep_their_names() -> None:
    # Registers m and a are reported as such, not as c[0..k-1].
    circuit = Circuit()
    circuit.add_q_register("node", 3)
    m = circuit.add_c_register("m", 2)
    a = circuit.add_c_register("a", 1)
    circuit.Measure(Node(0), m[1]).Measure(Node(1), a[0]).Measure(Node(2), m[0])
    _, layout = circuit_to_iqm(circuit, "regs")
    data = {"a[0]": [[1], [1], [0]], "m[0]": [[0], [1], [1]], "m[1]": [[1], [0], [0]]}
    result = measurements_to_result(data, layout)
    assert set(result.c_bits) == {m[0], m[1], a[0]}
    assert result.get_counts(cbits=[m[0], m[1], a[0]]) == Counter(
        {(0, 1, 1): 1, (1, 0, 1): 1, (1, 0, 0): 1}
    )
    assert result.get_counts(cbits=[a[0]]) == Counter({(1,): 2, (0,): 1})


def test_twelve_bits_with_lexicographic_key_order() -> None:
    # With lexicographic order c[10] < c[2]; X on qubit 2 must land in c[2].
    bits = [Bit(i) for i in range(12)]
    layout = _layout(bits, [str(b) for b in bits])
    keys = sorted(str(b) for b in bits)
    assert keys[:4] == ["c[0]", "c[10]", "c[11]", "c[1]"]
    data = {k: [[1 if k == "c[2]" else 0]] * 4 for k in keys}
    result = measurements_to_result(data, layout)
    expected = tuple(1 if i == 2 else 0 for i in range(12))
    assert result.get_counts() == Counter({expected: 4})


def test_heralding_fewer_shots_than_requested() -> None:
    layout = _layout([Bit(0), Bit(1)], ["c[0]", "c[1]"])
    result = measurements_to_result({"c[0]": [[1], [0], [1]], "c[1]": [[1], [1], [1]]}, layout)
    assert result.get_shots().tolist() == [[1, 1], [0, 1], [1, 1]]


def test_zero_shots() -> None:
    layout = _layout([Bit(0)], ["c[0]"])
    result = measurements_to_result({"c[0]": []}, layout)
    assert result.get_shots().shape == (0, 1)
    assert result.get_counts() == Counter()


def test_repeated_measurement_last_value_wins() -> None:
    circuit = Circuit()
    circuit.add_q_register("node", 1)
    circuit.add_c_register("c", 1)
    circuit.Measure(Node(0), Bit(0)).PhasedX(1, 0, Node(0)).Measure(Node(0), Bit(0))
    _, layout = circuit_to_iqm(circuit, "twice")
    result = measurements_to_result({"c[0]#1": [[1], [1]], "c[0]": [[0], [0]]}, layout)
    assert result.get_counts() == Counter({(1,): 2})


def test_numpy_input_and_extra_keys_ignored() -> None:
    layout = _layout([Bit("r", 0), Bit("r", 1)], ["r[1]", "r[0]"])
    data: dict[str, MeasurementData] = {
        "r[0]": np.array([[0], [1]], dtype=np.int64),
        "r[1]": np.array([[1], [1]], dtype=np.uint8),
        "unused": np.array([[1], [1]]),
    }
    result = measurements_to_result(data, layout)
    # Bit r[0] holds key "r[1]" and vice versa.
    assert result.get_shots(cbits=[Bit("r", 0), Bit("r", 1)]).tolist() == [[1, 0], [1, 1]]


def test_no_bits_measured_uses_server_shot_count() -> None:
    layout = _layout([Bit(0)], [None])
    result = measurements_to_result({"other": [[1], [0], [0]]}, layout)
    assert result.get_shots().tolist() == [[0], [0], [0]]
    empty = measurements_to_result({}, _layout([], []))
    assert empty.get_shots().shape == (0, 0)


def test_ppcirc_is_attached_and_applied() -> None:
    original = Circuit(3, 3)
    original.X(2).Measure(2, 2).Measure(0, 0)
    _, ppcirc = prepare_circuit(original)
    layout = _layout([Bit(0), Bit(1), Bit(2)], ["c[0]", None, "c[2]"])
    data = {"c[0]": [[0], [0]], "c[2]": [[0], [0]]}
    result = measurements_to_result(data, layout, ppcirc=ppcirc)
    # The post-processing circuit flips c[2] (the X was absorbed into it).
    assert result.get_counts() == Counter({(0, 0, 1): 2})
    assert measurements_to_result(data, layout).get_counts() == Counter({(0, 0, 0): 2})


def test_many_shots_many_bits_vectorised() -> None:
    rng = np.random.default_rng(3)
    bits = [Bit("c", i) for i in range(20)]
    table = rng.integers(0, 2, size=(5000, 20))
    keys = [str(b) for b in bits]
    data = {k: table[:, [i]].tolist() for i, k in sorted(enumerate(keys), key=lambda p: p[1])}
    result = measurements_to_result(data, _layout(bits, keys))
    assert np.array_equal(result.get_shots(), table)


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (
            {"c[0]": [[1]]},
            "The server's results lack measurement key(s) 'c[1]' that the circuit measures",
        ),
        (
            {"c[0]": [[1], [0]], "c[1]": [[1]]},
            "The server's results have different shot counts per key: {'c[0]': 2, 'c[1]': 1}",
        ),
        (
            {"c[0]": [[1, 0]], "c[1]": [[1]]},
            "Measurement data for key 'c[0]' has 2 values in 1 shots; expected exactly one qubit "
            "per measurement key",
        ),
        (
            {"c[0]": np.zeros((2, 2), dtype=int), "c[1]": [[1], [1]]},
            "Measurement data for key 'c[0]' has shape (2, 2); expected (shots, 1)",
        ),
        (
            {"c[0]": [[2]], "c[1]": [[1]]},
            "Measurement data for key 'c[0]' contains values other than 0/1",
        ),
        (
            {"c[0]": [[-1]], "c[1]": [[1]]},
            "Measurement data for key 'c[0]' is not a list of lists of 0/1: bytes must be in "
            "range(0, 256)",
        ),
        (
            {"c[0]": np.array([[-1]]), "c[1]": [[1]]},
            "Measurement data for key 'c[0]' contains values other than 0/1",
        ),
        (
            {"c[0]": [1], "c[1]": [[1]]},
            "Measurement data for key 'c[0]' is not a list of lists of 0/1: 'int' object is not "
            "iterable",
        ),
    ],
)
def test_malformed_server_data(data: Mapping[str, MeasurementData], message: str) -> None:
    layout = _layout([Bit(0), Bit(1)], ["c[0]", "c[1]"])
    with pytest.raises(IQMServerError) as info:
        measurements_to_result(data, layout)
    assert str(info.value) == message
