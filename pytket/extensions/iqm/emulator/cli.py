"""``pytket-iqm-emulator``: run the IQM server emulator, or list its device catalogue.

``--help`` and ``devices`` import neither the web stack nor the simulator (nor pytket's
compilation stack): those load only to serve. ``benchmarks/cli_startup.py`` measures it.

Examples::

    pytket-iqm-emulator --device garnet --port 8000
    pytket-iqm-emulator --device all --seed 1 --db jobs.sqlite
    pytket-iqm-emulator --token-file ~/.emulator-token   # clients pass the file's token
    PYTKET_IQM_EMULATOR_TOKEN=s3cret pytket-iqm-emulator   # the same, from the environment
    pytket-iqm-emulator --fail-rate 0.1 --slow-ms 50 --script "status:502:3,submit:reset:1"
    pytket-iqm-emulator devices
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import socket
import statistics
import sys
import textwrap
from collections.abc import Sequence
from pathlib import Path
from typing import TextIO

from pytket.extensions.iqm._metadata import __version__
from pytket.extensions.iqm.emulator.client_lines import DEVICE_PLACEHOLDER, usage_lines
from pytket.extensions.iqm.emulator.config import (
    DEFAULT_MAX_BODY_BYTES,
    DEFAULT_MAX_DURATION_OVER_T2,
    NOISE_MODELS,
    REALISTIC_JOB_OVERHEAD,
    EmulatorConfig,
    is_loopback,
    load_devices,
)
from pytket.extensions.iqm.emulator.devices.catalogue import catalogue
from pytket.extensions.iqm.emulator.devices.device import Device
from pytket.extensions.iqm.emulator.http.faults import FAULT_KINDS, JOB_KINDS, MAX_DELAY_MS
from pytket.extensions.iqm.emulator.memory_budget import DEFAULT_MAX_RESULT_BITS, default_workers

PROG = "pytket-iqm-emulator"

TOKEN_ENVIRONMENT_VARIABLE = "PYTKET_IQM_EMULATOR_TOKEN"  # noqa: S105 - a name, not a secret
"""The fixed bearer token, when neither --token-file nor --token gives one (not visible in
``ps``, unlike --token)."""


class CommandLineError(ValueError):
    """A command-line option cannot be used as given; the message says what to change."""


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of the serve command."""
    root = "http://127.0.0.1:<port>"
    parser = argparse.ArgumentParser(
        prog=PROG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
        description="\n\n".join(
            (
                textwrap.fill(
                    "Run a local IQM server emulator. It speaks both iqm-client lines at once: "
                    "iqm-client 22.x's REST API at each device URL <root>/<device>, and the IQM "
                    "Server API of iqm-client 33 and later at the server root <root> with the "
                    "device named separately:"
                ),
                "\n".join(f"  {line}" for line in usage_lines(root, DEVICE_PLACEHOLDER)),
                textwrap.fill(
                    f"Opening a device URL shows its endpoints. '{PROG} devices' lists the device "
                    "catalogue and explains its columns."
                ),
            )
        ),
    )
    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    parser.add_argument(
        "--device",
        action="append",
        metavar="NAME",
        help="device to serve (repeatable), or 'all'; default: garnet",
    )
    parser.add_argument(
        "--device-file",
        action="append",
        default=[],
        type=Path,
        metavar="PATH",
        help="also serve the device described in this JSON file (repeatable)",
    )
    parser.add_argument("--host", default="127.0.0.1", help="interface to bind (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=8000, help="TCP port; 0 picks a free one")
    auth = parser.add_mutually_exclusive_group()
    auth.add_argument(
        "--token-file",
        type=Path,
        metavar="PATH",
        help=(
            "require the bearer token in this file (its first line) on the job API; "
            f"or set {TOKEN_ENVIRONMENT_VARIABLE}"
        ),
    )
    auth.add_argument(
        "--token",
        help=(
            "require this bearer token on the job API (visible to other local users in ps: "
            f"prefer --token-file or {TOKEN_ENVIRONMENT_VARIABLE})"
        ),
    )
    auth.add_argument(
        "--auth-users",
        type=Path,
        metavar="FILE",
        help="JSON file {username: password}; enables the emulated auth server",
    )
    parser.add_argument(
        "--noise",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="simulate the calibration's noise (default: on)",
    )
    parser.add_argument(
        "--noise-model",
        choices=NOISE_MODELS,
        default="physical",
        help=(
            "noise model built from the calibration (default physical); qiskit-fake reproduces "
            "qiskit-iqm's fake backends exactly (noiseless MOVE, partner's T1/T2 on 2-qubit "
            "gates); pauli twirls relaxation into Pauli noise, an approximation that lets "
            "Clifford circuits of any size run on the stabilizer method"
        ),
    )
    parser.add_argument("--seed", type=int, help="seed making job results reproducible")
    parser.add_argument("--db", type=Path, help="SQLite file keeping jobs across restarts")
    parser.add_argument("--max-shots", type=int, default=100_000, help="largest shots per job")
    parser.add_argument(
        "--max-circuits", type=int, default=1000, help="largest number of circuits per job"
    )
    parser.add_argument(
        "--workers",
        type=int,
        help="job-executing threads (default: one per usable core where memory allows)",
    )
    parser.add_argument(
        "--max-result-bits",
        type=int,
        default=DEFAULT_MAX_RESULT_BITS,
        metavar="BITS",
        help=(
            "largest result of a job, circuits x shots x measured qubits "
            f"(default {DEFAULT_MAX_RESULT_BITS:,}); larger jobs are refused at submission"
        ),
    )
    parser.add_argument(
        "--dask-scheduler",
        metavar="ADDRESS",
        help=(
            "simulate each job's circuits as tasks on the Dask cluster of this scheduler, e.g. "
            'tcp://host:8786 (needs pip install "pytket-iqm[cluster]"; default: in this process)'
        ),
    )
    parser.add_argument(
        "--stage-delay",
        type=float,
        default=0.002,
        metavar="SECONDS",
        help="time a job rests in each queue stage (default 0.002)",
    )
    parser.add_argument(
        "--job-overhead",
        type=float,
        default=0.0,
        metavar="SECONDS",
        help=(
            "time each job takes on top of the simulation, as a real server's fixed cost per "
            f"job (default 0; {REALISTIC_JOB_OVERHEAD:g} stands for a real one, see the docs)"
        ),
    )
    parser.add_argument(
        "--log-level",
        default="info",
        choices=("critical", "error", "warning", "info", "debug"),
        help="server log level; 'info' logs every request (default info)",
    )
    parser.add_argument(
        "--max-duration-over-t2",
        type=float,
        default=DEFAULT_MAX_DURATION_OVER_T2,
        metavar="RATIO",
        help=(
            "fail circuits longer than RATIO x the shortest T2 of their qubits when the request "
            f"does not say (default {DEFAULT_MAX_DURATION_OVER_T2:g}; 0 disables)"
        ),
    )
    parser.add_argument(
        "--max-body-bytes",
        type=int,
        default=DEFAULT_MAX_BODY_BYTES,
        metavar="N",
        help=f"largest request body accepted; larger: HTTP 413 (default {DEFAULT_MAX_BODY_BYTES})",
    )
    parser.add_argument(
        "--ignore-idempotency-keys",
        dest="idempotency_keys",
        action="store_false",
        help=(
            "ignore the Idempotency-Key header of job submissions and do not advertise "
            "Idempotent-Submissions, as IQM's servers do (to test a client's handling of "
            "submissions whose outcome is unknown)"
        ),
    )
    faults = parser.add_argument_group(
        "fault injection", "make the server misbehave, boundedly, to test clients' retries"
    )
    faults.add_argument(
        "--fail-rate",
        type=float,
        default=0.0,
        metavar="P",
        help=(
            "answer this fraction (0-1) of job-API requests with --fail-status, without "
            "handling them (or after, with --fail-handled)"
        ),
    )
    faults.add_argument(
        "--fail-handled",
        action="store_true",
        help=(
            "--fail-rate faults happen after the request was handled (a submit creates its "
            "job, the client gets --fail-status), as behind a gateway that lost the answer"
        ),
    )
    faults.add_argument(
        "--fail-status",
        type=int,
        default=503,
        metavar="CODE",
        help="HTTP status of --fail-rate faults (default 503)",
    )
    faults.add_argument(
        "--max-faults",
        type=int,
        default=100,
        metavar="N",
        help="most --fail-rate faults in the server's lifetime (default 100)",
    )
    faults.add_argument(
        "--fault-kinds",
        default=",".join(JOB_KINDS),
        metavar="KINDS",
        help=f"request kinds --fail-rate hits, from {','.join(FAULT_KINDS)} (default: job API)",
    )
    faults.add_argument(
        "--slow-ms",
        type=int,
        default=0,
        metavar="MS",
        help=f"delay every device request by MS milliseconds (at most {MAX_DELAY_MS})",
    )
    faults.add_argument(
        "--script",
        "--fault-script",
        dest="fault_script",
        default="",
        metavar="RULES",
        help=(
            "scripted faults kind:action:count,... where action is an HTTP status, reset, drop "
            "or delay<ms>, e.g. 'status:502:3,result:503:2'"
        ),
    )
    faults.add_argument(
        "--fault-endpoint",
        action="store_true",
        help="serve /_faults to inspect counters and add rules while running",
    )
    return parser


def _read_users(path: Path) -> dict[str, str]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CommandLineError(f"Cannot read --auth-users file {path}: {error.strerror}.") from None
    except json.JSONDecodeError as error:
        raise CommandLineError(f"--auth-users file {path} is not valid JSON: {error}.") from None
    if (
        not isinstance(data, dict)
        or not data
        or not all(isinstance(k, str) and isinstance(v, str) and k and v for k, v in data.items())
    ):
        raise CommandLineError(
            f"--auth-users file {path} must be a JSON object of non-empty usernames to "
            'non-empty passwords, e.g. {"alice": "secret"}.'
        )
    return data


def _read_token_file(path: Path) -> str:
    """The token in ``path``: its first line, without surrounding whitespace.

    :raises CommandLineError: the file is unreadable or holds no token.
    """
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as error:
        raise CommandLineError(f"Cannot read --token-file {path}: {error.strerror}.") from None
    except UnicodeDecodeError:
        raise CommandLineError(f"--token-file {path} is not UTF-8 text.") from None
    lines = text.strip().splitlines()
    token = lines[0].strip() if lines else ""
    if not token:
        raise CommandLineError(f"--token-file {path} is empty; write the token on its first line.")
    return token


def _token(args: argparse.Namespace) -> str | None:
    """The fixed bearer token: from --token-file, --token, or the environment variable
    (``None``: no fixed token)."""
    if args.token_file is not None:
        return _read_token_file(args.token_file)
    if args.token is not None:
        return str(args.token)
    if args.auth_users is None:
        return os.environ.get(TOKEN_ENVIRONMENT_VARIABLE) or None
    return None


def config_from_args(args: argparse.Namespace) -> EmulatorConfig:
    """The emulator configuration the parsed options ask for.

    :raises CommandLineError: if the auth-users file is unreadable or malformed.
    :raises ValueError: if an option value is invalid.
    """
    return EmulatorConfig(
        devices=tuple(args.device or ("garnet",)),
        device_files=tuple(args.device_file),
        token=_token(args),
        auth_users=_read_users(args.auth_users) if args.auth_users else None,
        noise=args.noise,
        noise_model=args.noise_model,
        seed=args.seed,
        db=args.db,
        max_shots=args.max_shots,
        max_circuits=args.max_circuits,
        workers=args.workers if args.workers is not None else default_workers(),
        max_result_bits=args.max_result_bits,
        dask_scheduler=args.dask_scheduler,
        stage_delay=args.stage_delay,
        job_overhead=args.job_overhead,
        default_max_duration_over_t2=args.max_duration_over_t2,
        max_body_bytes=args.max_body_bytes,
        idempotency_keys=args.idempotency_keys,
        fail_rate=args.fail_rate,
        fail_status=args.fail_status,
        fail_handled=args.fail_handled,
        max_random_faults=args.max_faults,
        fault_kinds=tuple(kind.strip() for kind in args.fault_kinds.split(",") if kind.strip()),
        slow_ms=args.slow_ms,
        fault_script=args.fault_script,
        fault_endpoint=args.fault_endpoint,
    )


def _median(values: Sequence[float]) -> str:
    return f"{statistics.median(values):.4f}" if values else "-"


DEVICE_COLUMNS = (
    ("device", "the name to serve (--device NAME) and the device's URL path segment"),
    ("name", "IQM's name of the device"),
    ("qubits", "qubits of the chip"),
    ("resonators", "computational resonators (Star architecture: qubits meet through MOVE)"),
    ("couplers", "pairs of components that can interact (CZ or MOVE)"),
    ("F_prx", "median PRX (single-qubit gate) fidelity of the default calibration"),
    ("F_cz", "median CZ (two-qubit gate) fidelity of the default calibration"),
    ("readout err", "median readout error, (P(1|0) + P(0|1)) / 2, of the default calibration"),
    ("cals", "calibration sets served; the newest is the default"),
)
"""The columns of the ``devices`` table and what each means, printed under it."""


def device_table(devices: Sequence[Device]) -> str:
    """The ``devices`` listing: qubits, couplers and median figures of default calibrations."""
    header = tuple(column for column, _ in DEVICE_COLUMNS)
    rows = [header]
    for device in devices:
        cal = device.default_calibration
        readout = [
            (cal.readout_p1_given_0[q] + cal.readout_p0_given_1[q]) / 2
            for q in cal.qubits
            if q in cal.readout_p1_given_0 and q in cal.readout_p0_given_1
        ]
        rows.append(
            (
                device.name,
                device.display_name,
                str(len(device.qubits)),
                str(len(device.computational_resonators)),
                str(len(device.connectivity)),
                _median(list(cal.prx_fidelity.values())),
                _median(list(cal.cz_fidelity.values())),
                _median(readout),
                str(len(device.calibrations)),
            )
        )
    widths = [max(len(row[i]) for row in rows) for i in range(len(header))]
    return "\n".join(
        "  ".join(cell.ljust(w) for cell, w in zip(row, widths, strict=True)).rstrip()
        for row in rows
    )


def column_legend() -> str:
    """What each column of :func:`device_table` means, one line each."""
    width = max(len(column) for column, _ in DEVICE_COLUMNS)
    return "\n".join(f"{column.ljust(width)}  {meaning}" for column, meaning in DEVICE_COLUMNS)


def _serve(
    config: EmulatorConfig,
    host: str,
    port: int,
    out: TextIO,
    err: TextIO,
    *,
    log_level: str = "info",
) -> int:
    # The web stack is imported only to serve, so 'devices' and --help stay quick.
    import uvicorn  # noqa: PLC0415

    from pytket.extensions.iqm.emulator.http.app import create_app  # noqa: PLC0415
    from pytket.extensions.iqm.emulator.jobs.store import JobStoreInUseError  # noqa: PLC0415

    try:
        app = create_app(config)
    except JobStoreInUseError as error:
        print(f"{PROG}: {error}", file=err)
        return 1
    except (ImportError, ConnectionError) as error:  # the Dask extra or scheduler
        print(f"{PROG}: {error}", file=err)
        return 2
    devices = list(app.state.emulator.devices)
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as error:
        sock.close()
        print(f"{PROG}: cannot listen on {host}:{port}: {error.strerror}", file=err)
        return 1
    bound_port = sock.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    root = f"http://{shown}:{bound_port}"
    # uvicorn's own logging setup: request lines (never headers or bodies) at 'info'.
    server = uvicorn.Server(uvicorn.Config(app, log_level=log_level, lifespan="on"))

    async def run() -> bool:
        task = asyncio.create_task(server.serve(sockets=[sock]))
        while not server.started and not task.done():
            await asyncio.sleep(0.01)
        if not server.started:
            await task
            return False
        print(f"pytket-iqm emulator {__version__} serving at {root}", file=out)
        for name in devices:
            print(f"  {name}: {root}/{name}", file=out)
        for line in usage_lines(root, devices[0]):
            print(line, file=out)
        print("Open a device URL for its endpoints.", file=out)
        if config.auth_users is not None:
            print(f"  auth server: {root} ({len(config.auth_users)} user(s))", file=out)
        elif config.token is not None:
            print("  auth: fixed bearer token", file=out)
        if config.dask_scheduler is not None:
            print(f"  circuits simulated on the Dask cluster at {config.dask_scheduler}", file=out)
        if not config.idempotency_keys:
            print("  Idempotency-Key headers ignored, as by IQM's servers", file=out)
        if config.faults_enabled:
            print(f"  fault injection: {_fault_summary(config)}", file=out)
        print("Press Ctrl+C to stop.", file=out, flush=True)
        await task
        return True

    try:
        started = asyncio.run(run())
    except KeyboardInterrupt:
        # uvicorn re-raises the Ctrl+C it handled once it has shut down cleanly.
        started = server.started
    if not started:
        print(f"{PROG}: the server did not start", file=err)
        return 1
    return 0


def _fault_summary(config: EmulatorConfig) -> str:
    parts = []
    if config.fail_rate:
        parts.append(
            f"{config.fail_rate:g} of {','.join(config.fault_kinds)} requests answered "
            f"{config.fail_status} {'after' if config.fail_handled else 'before'} handling "
            f"(at most {config.max_random_faults})"
        )
    if config.slow_ms:
        parts.append(f"+{config.slow_ms} ms per request")
    if config.fault_script:
        parts.append(f"script {config.fault_script}")
    if config.fault_endpoint:
        parts.append("/_faults")
    return "; ".join(parts)


def main(argv: Sequence[str] | None = None) -> int:
    """Run the command line; returns the exit status (0 success, 1 runtime failure, 2 usage).

    :param argv: arguments without the program name (default: ``sys.argv[1:]``).
    """
    args_list = list(sys.argv[1:] if argv is None else argv)
    out, err = sys.stdout, sys.stderr
    if args_list[:1] == ["devices"]:
        if len(args_list) > 1:
            print(f"{PROG} devices takes no arguments", file=err)
            return 2
        print(device_table(list(catalogue().values())), file=out)
        print(f"\n{column_legend()}", file=out)
        return 0
    parser = build_parser()
    try:
        args = parser.parse_args(args_list)
    except SystemExit as stop:  # --help, --version, or a usage error (already printed)
        return int(stop.code or 0) if isinstance(stop.code, int) or stop.code is None else 2
    try:
        config = config_from_args(args)
        load_devices(config)
    except ValueError as error:
        print(f"{PROG}: {error}", file=err)
        return 2
    except OSError as error:  # an unreadable --device-file
        print(f"{PROG}: cannot read {error.filename}: {error.strerror}", file=err)
        return 2
    if not (0 <= args.port <= 65535):
        print(f"{PROG}: --port must be between 0 and 65535, got {args.port}", file=err)
        return 2
    if not is_loopback(args.host) and not config.auth_required:
        print(
            f"{PROG}: warning: serving on {args.host} without authentication; anyone who can "
            "reach this machine can run jobs. Pass --token-file or --auth-users to require "
            "one.",
            file=err,
        )
    return _serve(config, args.host, args.port, out, err, log_level=args.log_level)
