"""OpenAPI links from each API line's job submission to that line's job routes.

A link on a submission's ``201`` answer says that the answer's ``id`` is the ``job_id`` of
every route of the submitted job (status, result, counts, abort on the REST v1 line; job data,
artifacts, payload, cancel and delete on the IQM Server API line), and which other path
parameters carry over from the submission (the REST v1 ``device``). Readers of
``/openapi.json`` and stateful fuzzers (schemathesis) follow them to real jobs.

The job routes are found in the generated schema rather than listed here, so a new job route
of either line is linked without a change to this module.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from pytket.extensions.iqm.emulator.http.dependencies import SERVER_API_PREFIX

JOB_ID_FROM_SUBMISSION = "$response.body#/id"
"""Runtime expression of the new job's id: both lines' submissions answer ``{"id": ...}``."""


@dataclass(frozen=True)
class JobRoutes:
    """Where one API line submits jobs and serves them."""

    submission: str
    """Path of ``POST`` that creates a job (answered ``201``)."""
    job: str
    """Path of the job itself; its routes are this path and the paths below it."""
    carried: tuple[str, ...]
    """Path parameters of the job routes that take the submission's value."""


REST_V1_JOB_ROUTES = JobRoutes("/{device}/jobs", "/{device}/jobs/{job_id}", ("device",))
SERVER_API_JOB_ROUTES = JobRoutes(
    f"{SERVER_API_PREFIX}/jobs/{{qc}}/circuit", f"{SERVER_API_PREFIX}/jobs/{{job_id}}", ()
)

_SUBMITTED = "201"
"""Status of a successful submission on both lines (the only answer that creates a job)."""
_HTTP_METHODS = ("get", "put", "post", "delete", "options", "head", "patch", "trace")
_PATH_PARAMETER = re.compile(r"{([^}]+)}")


def _link_name(method: str, path: str, job_path: str) -> str:
    """``get_job``, ``get_job_status``, ``post_job_abort``, ``get_job_artifacts_measurements``."""
    below = path[len(job_path) :].strip("/").replace("/", "_")
    return f"{method}_job" + (f"_{below}" if below else "")


def _job_links(paths: dict[str, Any], routes: JobRoutes) -> dict[str, Any]:
    links: dict[str, Any] = {}
    for path, item in paths.items():
        if path != routes.job and not path.startswith(routes.job + "/"):
            continue
        for method in _HTTP_METHODS:
            operation = item.get(method)
            if operation is None:
                continue
            parameters = {}
            for name in _PATH_PARAMETER.findall(path):
                if name == "job_id":
                    parameters[name] = JOB_ID_FROM_SUBMISSION
                elif name in routes.carried:
                    parameters[name] = f"$request.path.{name}"
                else:  # a route the submission cannot lead to: a programming error here
                    raise ValueError(f"{method.upper()} {path}: no value for {{{name}}}")
            links[_link_name(method, path, routes.job)] = {
                "operationId": operation["operationId"],
                "parameters": parameters,
                "description": f"{method.upper()} {path} of the job this submission created.",
            }
    return links


def add_job_links(schema: dict[str, Any]) -> None:
    """Put the links of both API lines on their submissions' ``201`` answers in ``schema``.

    :raises KeyError: if a line's submission is missing from ``schema`` or not answered 201.
    """
    paths = schema["paths"]
    for routes in (REST_V1_JOB_ROUTES, SERVER_API_JOB_ROUTES):
        created = paths[routes.submission]["post"]["responses"][_SUBMITTED]
        created["links"] = _job_links(paths, routes)
