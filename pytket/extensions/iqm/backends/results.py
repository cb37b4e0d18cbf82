"""Conversion of IQM measurement data into a pytket ``BackendResult``.

The server returns, per circuit, ``{key: [[bit] per shot]}`` in an order of its choosing
(instruction order, lexicographic …). Columns are therefore matched to bits *by key*, using the
:class:`~pytket.extensions.iqm.backends.translation.MeasurementLayout` recorded at submission.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from itertools import chain

import numpy as np
import numpy.typing as npt
from pytket.backends.backendresult import BackendResult
from pytket.circuit import Circuit
from pytket.utils.outcomearray import OutcomeArray

from pytket.extensions.iqm.backends.translation import MeasurementLayout
from pytket.extensions.iqm.errors import IQMServerError

MeasurementData = Sequence[Sequence[int]] | npt.NDArray[np.integer]


def _column(key: str, data: MeasurementData) -> npt.NDArray[np.uint8]:
    """One key's outcomes as a 1-D array (one entry per shot)."""
    if isinstance(data, np.ndarray):
        array = data
    else:
        # JSON gives a list of one-element lists; flattening them through ``bytes`` is several
        # times faster than letting numpy inspect a million small lists.
        try:
            flat = np.frombuffer(bytes(chain.from_iterable(data)), dtype=np.uint8)
        except (TypeError, ValueError) as err:
            raise IQMServerError(
                f"Measurement data for key {key!r} is not a list of lists of 0/1: {err}"
            ) from None
        if flat.size != len(data):
            raise IQMServerError(
                f"Measurement data for key {key!r} has {flat.size} values in {len(data)} shots; "
                "expected exactly one qubit per measurement key"
            )
        array = flat.reshape(len(data), 1)
    if array.ndim != 2 or array.shape[1] != 1:
        raise IQMServerError(
            f"Measurement data for key {key!r} has shape {array.shape}; expected (shots, 1)"
        )
    column = array[:, 0]
    if column.size and (column.min() < 0 or column.max() > 1):
        raise IQMServerError(f"Measurement data for key {key!r} contains values other than 0/1")
    return column.astype(np.uint8, copy=False)


def measurements_to_result(
    measurements: Mapping[str, MeasurementData],
    layout: MeasurementLayout,
    *,
    ppcirc: Circuit | None = None,
) -> BackendResult:
    """Build the shot table of one circuit from the server's measurement data.

    Bits come in layout order (all of the circuit's bits); a bit that is never measured reads 0.
    The shot count is taken from the data, so heralded jobs with fewer shots than requested
    convert fine. Keys in the data that the layout does not use are ignored.

    :param measurements: ``{key: shots × 1 array of 0/1}`` for one circuit
    :param layout: layout returned by :func:`~.translation.circuit_to_iqm` for that circuit
    :param ppcirc: post-processing circuit to attach to the result, if any
    :raises IQMServerError: if a key of the layout is missing from the data, or the data is
        malformed (not one 0/1 column per key, or keys with different shot counts)
    :return: the result, with ``c_bits`` equal to ``layout.bits``
    """
    used = [key for key in layout.keys if key is not None]  # layout order: stable messages
    missing = [key for key in used if key not in measurements]
    if missing:
        raise IQMServerError(
            f"The server's results lack measurement key(s) {', '.join(map(repr, missing))} "
            "that the circuit measures"
        )
    columns = {key: _column(key, measurements[key]) for key in used}
    shot_counts = {key: col.size for key, col in columns.items()}
    if len(set(shot_counts.values())) > 1:
        raise IQMServerError(
            f"The server's results have different shot counts per key: {shot_counts}"
        )
    if shot_counts:
        n_shots = next(iter(shot_counts.values()))
    else:  # nothing measured into a bit: take the shot count from whatever the server sent
        n_shots = len(next(iter(measurements.values()), ()))
    table = np.zeros((n_shots, len(layout.bits)), dtype=np.uint8)
    for index, key in enumerate(layout.keys):
        if key is not None:
            table[:, index] = columns[key]
    # Same array OutcomeArray.from_readouts would build, without its int64 round trip.
    shots = OutcomeArray(np.packbits(table, axis=-1), len(layout.bits))
    return BackendResult(shots=shots, c_bits=list(layout.bits), ppcirc=ppcirc)


__all__ = ["MeasurementData", "measurements_to_result"]
