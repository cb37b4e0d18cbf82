"""``/_faults``: inspect and script fault injection while the emulator runs.

Only served when the emulator was started with ``fault_endpoint`` (``--fault-endpoint``), and
behind the same bearer-token check as the job API.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, HTTPException, Request
from pydantic import BaseModel, Field

from pytket.extensions.iqm.emulator.http.dependencies import Authorized
from pytket.extensions.iqm.emulator.http.faults import (
    FaultInjector,
    FaultScriptError,
    parse_fault_script,
)
from pytket.extensions.iqm.emulator.http.models import ErrorMessage

router = APIRouter(
    prefix="/_faults",
    tags=["faults"],
    dependencies=[Authorized],
    responses={401: {"model": ErrorMessage}},
)


class FaultScript(BaseModel):
    """Rules to add: ``kind:action:count`` items separated by commas."""

    script: str = Field(..., max_length=10_000, examples=["status:502:3,result:reset:1"])


def _injector(request: Request) -> FaultInjector:
    injector: FaultInjector = request.app.state.faults
    return injector


@router.get("")
def fault_state(request: Request) -> dict[str, Any]:
    """Settings, pending rules, requests seen and faults injected, by kind."""
    return _injector(request).snapshot()


@router.post("", responses={400: {"model": ErrorMessage}})
def add_faults(request: Request, body: FaultScript) -> dict[str, Any]:
    """Append scripted rules; answers the new state."""
    try:
        _injector(request).add(parse_fault_script(body.script))
    except FaultScriptError as error:
        raise HTTPException(400, str(error)) from None
    return _injector(request).snapshot()


@router.delete("")
def clear_faults(request: Request) -> dict[str, Any]:
    """Drop the pending scripted rules; answers the new state."""
    _injector(request).clear()
    return _injector(request).snapshot()
