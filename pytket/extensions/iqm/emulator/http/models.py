"""HTTP bodies shared by both API lines and by the line-neutral routes, and the body parser.

The enums and small models both lines' job formats use (heralding, MOVE validation, dynamical
decoupling, qubit mappings), the error and auth-server bodies, the root pages' bodies, and
:func:`parse_body`, which every job route uses to read its request body. The body's size is
bounded before it is read (``max_body_bytes``); the parser bounds its nesting (a deeply nested
body would otherwise exhaust Python's recursion, a 500) and refuses non-finite numbers naming
the field (``NaN``, ``Infinity``, ``1e999``: no quantity of a job can be infinite, and a stored
infinity would break every later answer about the job).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from enum import Enum
from typing import Any, TypeVar
from uuid import UUID

from pydantic import BaseModel, Field, ValidationError

from pytket.extensions.iqm.emulator.client_lines import LineUsage


@dataclass(frozen=True)
class NativeOperation:
    """A native operation of the 22.x circuit format: its arity and arguments."""

    name: str
    arity: int
    """Number of locus components; ``0``: any number."""
    args_required: dict[str, tuple[type, ...]] = field(default_factory=dict)
    """Required argument → accepted Python types (after JSON decoding)."""
    args_not_required: dict[str, tuple[type, ...]] = field(default_factory=dict)
    """Optional argument → accepted Python types."""


class HeraldingMode(str, Enum):
    """Heralding mode of a job."""

    NONE = "none"
    ZEROS = "zeros"


class MoveGateValidationMode(str, Enum):
    """MOVE gate validation mode of a job."""

    STRICT = "strict"
    ALLOW_PRX = "allow_prx"
    NONE = "none"


class MoveGateFrameTrackingMode(str, Enum):
    """MOVE gate frame tracking mode of a job (accepted, not simulated)."""

    FULL = "full"
    NO_DETUNING_CORRECTION = "no_detuning_correction"
    NONE = "none"


class DDMode(str, Enum):
    """Dynamical decoupling mode of a job (accepted, not simulated)."""

    DISABLED = "disabled"
    ENABLED = "enabled"


class DDStrategy(BaseModel):
    """A dynamical decoupling strategy (accepted and echoed, not simulated)."""

    merge_contiguous_waits: bool = Field(default=True)
    target_qubits: frozenset[str] | None = Field(default=None)
    skip_leading_wait: bool = Field(default=True)
    skip_trailing_wait: bool = Field(default=True)
    gate_sequences: list[tuple[int, str | list[tuple[float, float]], str]] = Field(
        default_factory=list
    )


class SingleQubitMapping(BaseModel):
    """One logical → physical qubit name pair."""

    logical_name: str = Field(..., examples=["alice"])
    physical_name: str = Field(..., examples=["QB1"])


class ClientLibrary(BaseModel):
    """One entry of ``info/client-libraries``: compatible versions ``min <= v < max``."""

    name: str
    package_name: str | None = Field(None)
    repo_url: str | None = Field(None)
    package_url: str | None = Field(None)
    min: str
    max: str


class ErrorMessage(BaseModel):
    """Body of every error answer of the 22.x job API: what is wrong, in one message."""

    message: str = Field(
        ..., examples=["Cannot submit job with 200000 shots, the maximum is 100000"]
    )


class DeviceSummary(BaseModel):
    """One served device, as listed at the server root."""

    name: str
    display_name: str
    path: str = Field(..., description="URL path to give iqm-client 22.x after the server root")
    qubits: int
    computational_resonators: list[str]
    default_calibration_set_id: UUID
    calibration_set_ids: list[UUID]


class DeviceListing(BaseModel):
    """Answer to ``GET /``."""

    devices: list[DeviceSummary]
    auth: str = Field(..., description="'open', 'token' or 'users'")


class Health(BaseModel):
    """Answer to ``GET /health``."""

    status: str = "ok"


class ClientLineUsage(BaseModel):
    """How to reach a device from one iqm-client line (see ``emulator/client_lines.py``)."""

    iqm_client: str = Field(..., description="iqm-client versions of the line")
    api: str
    url: str = Field(..., description="URL to give the client")
    device: str | None = Field(
        None, description="device name to give besides the URL (IQM Server API)"
    )
    iqm_client_call: str
    pytket_call: str

    @classmethod
    def of(cls, usage: LineUsage) -> ClientLineUsage:
        """The answer model of ``usage``."""
        return cls(
            iqm_client=usage.iqm_client,
            api=usage.api,
            url=usage.url,
            device=usage.device,
            iqm_client_call=usage.iqm_client_call,
            pytket_call=usage.pytket_call,
        )


class About(BaseModel):
    """Answer to ``GET /about``."""

    name: str
    version: str
    api: str
    devices: list[str]
    lines: dict[str, ClientLineUsage] = Field(
        ...,
        description="how to connect, by iqm-client line: rest_v1 (22.x) and server_api (33+); "
        "<device> stands for a served device's name",
    )


class TokenResponse(BaseModel):
    """Answer of the emulated auth server's token endpoint (Keycloak's shape)."""

    access_token: str
    expires_in: int
    refresh_token: str
    refresh_expires_in: int
    token_type: str
    session_state: str
    scope: str


class OAuthError(BaseModel):
    """Error answer of the emulated auth server (Keycloak's shape)."""

    error: str
    error_description: str


_Model = TypeVar("_Model", bound=BaseModel)


class RequestBodyError(Exception):
    """A request body the server refuses: ``status`` 400 (not JSON) or 422 (not the model)."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status
        self.message = message


MAX_JSON_DEPTH = 32
"""Deepest nesting of arrays and objects accepted. A circuit job needs 6 (body, circuits,
circuit, instructions, instruction, args) plus what a metadata value holds; 32 leaves room for
that and stays far below Python's recursion limit in every later step (validation, storage)."""


def _refuse_constant(name: str) -> float:
    # Marks NaN / Infinity / -Infinity; the walk below names the field.
    return math.nan if name == "NaN" else math.inf


def _check_shape(data: Any, what: str) -> None:
    """Refuse nesting deeper than :data:`MAX_JSON_DEPTH` and non-finite numbers, naming where.

    Iterative, so that the check itself cannot exhaust the recursion it protects.

    :raises RequestBodyError: 400 for too deep a nesting, 422 for a non-finite number.
    """
    stack: list[tuple[Any, tuple[str, ...]]] = [(data, ())]
    while stack:
        value, path = stack.pop()
        if isinstance(value, float) and not math.isfinite(value):
            where = ".".join(path) or "body"
            raise RequestBodyError(
                422, f"Invalid {what}: {where}: must be a finite number, got {value}."
            )
        if isinstance(value, dict | list):
            if len(path) >= MAX_JSON_DEPTH:
                raise RequestBodyError(
                    400,
                    f"The request body is nested deeper than {MAX_JSON_DEPTH} levels (at "
                    f"{'.'.join(path[:8])}...).",
                )
            items = value.items() if isinstance(value, dict) else enumerate(value)
            stack.extend((item, (*path, str(key))) for key, item in items)


def parse_body(body: bytes, model: type[_Model], what: str) -> _Model:
    """The ``model`` in a JSON request body; ``what`` names it in messages ("run request").

    :raises RequestBodyError: 400 for malformed or too deeply nested JSON; 422 for a body that
        is not a JSON object, holds a non-finite number, or is not a valid ``model``, listing
        its problems (``location: message`` each).
    """
    try:
        data = json.loads(body, parse_constant=_refuse_constant)
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise RequestBodyError(400, f"The request body is not valid JSON: {error}") from None
    except RecursionError:
        raise RequestBodyError(
            400, f"The request body is nested deeper than {MAX_JSON_DEPTH} levels."
        ) from None
    if not isinstance(data, dict):
        raise RequestBodyError(422, f"Invalid {what}: the body must be a JSON object.")
    _check_shape(data, what)
    try:
        return model.model_validate(data)
    except ValidationError as error:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in item['loc']) or 'body'}: {item['msg']}"
            for item in error.errors(include_url=False)
        )
        raise RequestBodyError(422, f"Invalid {what}: {problems}") from None
    except TypeError as error:
        # The Instruction validator raises TypeError for mistyped arguments, as iqm-client's.
        raise RequestBodyError(422, f"Invalid {what}: {error}") from None


class SimulationReport(BaseModel):
    """How the emulator simulated one circuit (an emulator extension of both API lines; IQM's
    clients ignore it)."""

    circuit: str = Field(..., description="The circuit's name.")
    method: str = Field(
        ..., description="statevector, density_matrix, mps (matrix-product state) or stabilizer."
    )
    discarded_weight: float | None = Field(
        None,
        description="mps only: the largest relative weight a trajectory discarded by "
        "truncation (0 when nothing was truncated).",
    )
    bond_dimension: int | None = Field(
        None, description="mps only: the largest bond dimension a trajectory reached."
    )
