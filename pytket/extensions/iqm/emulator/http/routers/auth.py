"""Emulated Keycloak-style auth server: ``/realms/cortex/protocol/openid-connect/{token,logout}``.

Only present in users mode (``auth_users``). It speaks what iqm-client 22.x's ``TokenClient``
sends: form-encoded password and refresh-token grants for client ``iqm_client``, and logout.
"""

from __future__ import annotations

from urllib.parse import parse_qs

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response

from pytket.extensions.iqm.emulator.http.dependencies import State
from pytket.extensions.iqm.emulator.http.models import ErrorMessage, OAuthError, TokenResponse
from pytket.extensions.iqm.emulator.http.tokens import CLIENT_ID, InvalidGrantError, TokenIssuer

router = APIRouter(prefix="/realms/cortex/protocol/openid-connect", tags=["auth"])


def _oauth_error(status: int, error: str, description: str) -> JSONResponse:
    return JSONResponse({"error": error, "error_description": description}, status_code=status)


async def _form(request: Request) -> dict[str, str]:
    body = (await request.body()).decode("utf-8", "replace")
    return {key: values[0] for key, values in parse_qs(body, keep_blank_values=True).items()}


def _issuer(state: State) -> TokenIssuer:
    if state.issuer is None:
        raise HTTPException(
            404, "This emulator has no auth server; start it with auth_users to enable one."
        )
    return state.issuer


@router.post(
    "/token",
    response_model=TokenResponse,
    responses={
        400: {"model": OAuthError},
        401: {"model": OAuthError},
        404: {"model": ErrorMessage},
    },
    openapi_extra={
        "requestBody": {
            "content": {
                "application/x-www-form-urlencoded": {
                    "schema": {
                        "type": "object",
                        "required": ["client_id", "grant_type"],
                        "properties": {
                            "client_id": {"type": "string", "enum": [CLIENT_ID]},
                            "grant_type": {"type": "string", "enum": ["password", "refresh_token"]},
                            "username": {"type": "string"},
                            "password": {"type": "string", "format": "password"},
                            "refresh_token": {"type": "string"},
                        },
                    }
                }
            }
        }
    },
)
async def token(request: Request, state: State) -> JSONResponse:
    """Password or refresh-token grant → access and refresh tokens (JWT-shaped)."""
    issuer = _issuer(state)
    form = await _form(request)
    if form.get("client_id") != CLIENT_ID:
        return _oauth_error(401, "invalid_client", f"Unknown client; use client_id={CLIENT_ID}.")
    grant = form.get("grant_type")
    try:
        if grant == "password":
            if not form.get("username") or "password" not in form:
                return _oauth_error(400, "invalid_request", "username and password are required.")
            tokens = issuer.login(form["username"], form["password"])
        elif grant == "refresh_token":
            if not form.get("refresh_token"):
                return _oauth_error(400, "invalid_request", "refresh_token is required.")
            tokens = issuer.refresh(form["refresh_token"])
        else:
            return _oauth_error(
                400, "unsupported_grant_type", "grant_type must be password or refresh_token."
            )
    except InvalidGrantError as error:
        return _oauth_error(401 if grant == "password" else 400, "invalid_grant", str(error))
    return JSONResponse(tokens, headers={"Cache-Control": "no-store"})


@router.post(
    "/logout",
    status_code=204,
    responses={400: {"model": OAuthError}, 404: {"model": ErrorMessage}},
)
async def logout(request: Request, state: State) -> Response:
    """End the session of the refresh token: its access and refresh tokens stop working."""
    issuer = _issuer(state)
    form = await _form(request)
    if form.get("client_id") != CLIENT_ID:
        return _oauth_error(401, "invalid_client", f"Unknown client; use client_id={CLIENT_ID}.")
    try:
        issuer.logout(form.get("refresh_token", ""))
    except InvalidGrantError as error:
        return _oauth_error(400, "invalid_grant", str(error))
    return Response(status_code=204)
