"""The emulator's HTTP layer: the FastAPI application and everything that speaks a wire format.

``app`` builds the application (``openapi_links`` adds the OpenAPI links from job submission
to the job routes to its schema); ``dependencies`` holds the FastAPI dependencies and
``server_state`` what one running server holds; ``tokens`` the bearer tokens and the emulated
auth server's token issuer; ``faults`` the fault-injection middleware; ``wire`` the conversion
shared by both API lines; ``routers`` the line-neutral routes (root pages, auth server,
``/_faults``). One sub-package per API line, each with the same four parts (``models``,
``payloads``, ``wire``, ``routes``): ``rest_v1`` (iqm-client 22.x) and ``server_api``
(iqm-client 36.x, the IQM Server API).

May import :mod:`..jobs`, :mod:`..devices`, :mod:`..simulation` and :mod:`..config`; nothing
below it imports it.
"""
