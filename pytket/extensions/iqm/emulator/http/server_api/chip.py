"""The chip artifacts of the IQM Server API, built from the device catalogue.

* The **chip design record** (``.../artifacts/chip-design-records``, JSON, a list of one): the
  chip label under ``cheddar.chip_label`` (iqm-client's ``get_chip_label``) and the components
  under ``content.components`` (``get_chip_topology``): qubits, computational resonators, one
  tunable coupler per coupling of the static architecture, and one probe line reading every
  qubit.
* The **channel properties** (``.../artifacts/channel-properties``, protobuf
  ``iqm.data_definitions.common.v1.ChannelPropertyDictionary``): one drive channel
  ``<qubit>__drive.awg`` per qubit and one readout channel ``PL-1__readout``. On a device whose
  calibration offers ``cc_prx``, every drive channel lists the readout as a fast-feedback source,
  so ``get_feedback_groups`` gives one group of all qubits (feedback between any two); otherwise
  it gives none.

The protobuf message is written by hand (a few nested messages of strings, doubles and bools), so
the emulator needs neither the protobuf package nor IQM's generated classes.
"""

from __future__ import annotations

import struct
from typing import Any

from pytket.extensions.iqm.emulator.devices.device import Device

PROBE_LINE = "PL-1"
READOUT_CHANNEL = f"{PROBE_LINE}__readout"
# Channel figures of IQM's control electronics as the station reports them (samples per second,
# and instruction durations in samples); clients need them only to be present and consistent.
SAMPLING_RATE = 2.0e9
DURATION_GRANULARITY = 8.0
DURATION_MIN = 16.0
DRIVE_INSTRUCTIONS = ("IQPulse", "VirtualRZ", "Wait", "ConditionalInstruction", "RealPulse")
READOUT_INSTRUCTIONS = ("ReadoutTrigger", "MultiplexedIQPulse", "Wait")


def drive_channel(qubit: str) -> str:
    """Name of a qubit's drive channel (iqm-client reads the qubit from before ``__``)."""
    return f"{qubit}__drive.awg"


def _couplers(device: Device) -> list[tuple[str, tuple[str, ...]]]:
    return [(f"TC-{index}", pair) for index, pair in enumerate(device.connectivity, start=1)]


def chip_design_records(device: Device) -> list[dict[str, Any]]:
    """The device's chip design record, as a list of one (as IQM's server answers)."""
    couplers = _couplers(device)
    touching: dict[str, list[str]] = {}
    for name, pair in couplers:
        for end in pair:
            touching.setdefault(end, []).append(name)

    def component(name: str, connections: list[str]) -> dict[str, Any]:
        return {"name": name, "connections": connections}

    return [
        {
            "cheddar": {"chip_label": device.dut_label},
            "mask_set_name": device.display_name,
            "variant": "emulated",
            "content": {
                "components": {
                    "qubit": [
                        component(q, [*touching.get(q, []), PROBE_LINE]) for q in device.qubits
                    ],
                    "computational_resonator": [
                        component(r, touching.get(r, [])) for r in device.computational_resonators
                    ],
                    "tunable_coupler": [component(name, list(pair)) for name, pair in couplers],
                    "probe_line": [component(PROBE_LINE, list(device.qubits))],
                }
            },
        }
    ]


# -- protobuf wire format ------------------------------------------------------------------------

_LENGTH_DELIMITED, _FIXED64, _VARINT = 2, 1, 0


def _varint(value: int) -> bytes:
    out = bytearray()
    while True:
        byte = value & 0x7F
        value >>= 7
        if value:
            out.append(byte | 0x80)
        else:
            out.append(byte)
            return bytes(out)


def _key(field: int, wire_type: int) -> bytes:
    return _varint(field << 3 | wire_type)


def _message(field: int, body: bytes) -> bytes:
    return _key(field, _LENGTH_DELIMITED) + _varint(len(body)) + body


def _string(field: int, text: str) -> bytes:
    return _message(field, text.encode())


def _double(field: int, value: float) -> bytes:
    return _key(field, _FIXED64) + struct.pack("<d", value)


def _bool(field: int, value: bool) -> bytes:
    return _key(field, _VARINT) + _varint(int(value))


def _channel_properties(instructions: tuple[str, ...]) -> bytes:
    # ChannelProperties: sampling_rate 1, granularity 2, min 3, compatible_instructions 4
    return (
        _double(1, SAMPLING_RATE)
        + _double(2, DURATION_GRANULARITY)
        + _double(3, DURATION_MIN)
        + b"".join(_string(4, name) for name in instructions)
    )


def _entry(name: str, value: bytes) -> bytes:
    # ChannelPropertyDictionary.channel_property_mapping (field 1): map entry key 1, value 2
    return _message(1, _string(1, name) + _message(2, value))


def channel_properties(device: Device) -> bytes:
    """The device's ``ChannelPropertyDictionary``, serialised."""
    feedback = device.default_calibration.supports_feedback
    entries = []
    for qubit in device.qubits:
        # AWGProperties: channel_properties 1, fast_feedback_sources 3, local_oscillator 4,
        # mixer_correction 5; wrapped in ChannelPropertyEntry.awg (field 1).
        awg = (
            _message(1, _channel_properties(DRIVE_INSTRUCTIONS))
            + (_string(3, READOUT_CHANNEL) if feedback else b"")
            + _bool(4, True)
            + _bool(5, True)
        )
        entries.append(_entry(drive_channel(qubit), _message(1, awg)))
    # ReadoutProperties: channel_properties 1, integration dead times 4 and 5 (zero: omitted);
    # wrapped in ChannelPropertyEntry.ro (field 2).
    readout = _message(1, _channel_properties(READOUT_INSTRUCTIONS))
    entries.append(_entry(READOUT_CHANNEL, _message(2, readout)))
    return b"".join(entries)


__all__ = ["channel_properties", "chip_design_records", "drive_channel"]
