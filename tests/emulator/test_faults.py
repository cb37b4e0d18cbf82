"""Fault injection and the request body limit (faults.py, /_faults, the fault CLI options)."""

from __future__ import annotations

import warnings
from collections.abc import Callable, Iterator
from types import SimpleNamespace
from uuid import UUID

import httpx
import pytest
import requests
from iqm_client_line import require_iqm_client_22

require_iqm_client_22()

from iqm.iqm_client import IQMClient, Status  # noqa: E402

from pytket.extensions.iqm.emulator import IQMEmulator, cli  # noqa: E402
from pytket.extensions.iqm.emulator.config import EmulatorConfig  # noqa: E402
from pytket.extensions.iqm.emulator.http.faults import (  # noqa: E402
    FaultInjector,
    FaultRule,
    FaultScriptError,
    classify,
    parse_fault_script,
)

ClientFactory = Callable[..., IQMClient]
JOB = "3c3fcda3-e860-46bf-92a4-bcc59fa76ce9"


@pytest.fixture(scope="module")
def faulty() -> Iterator[IQMEmulator]:
    """An emulator with /_faults and a 2 kB body limit; each test scripts its own faults."""
    with IQMEmulator(
        "garnet", noise=False, stage_delay=0.0, fault_endpoint=True, max_body_bytes=2000
    ) as emulator:
        yield emulator


@pytest.fixture
def faults(faulty: IQMEmulator) -> Iterator[FaultInjector]:
    faulty.faults.clear()
    yield faulty.faults
    faulty.faults.clear()


def _run_request(native: SimpleNamespace) -> dict[str, object]:
    request = native.run_request(circuits=[native.x_then_measure()], shots=2)
    return dict(request.model_dump(mode="json", exclude_none=True))


# --- the script language -------------------------------------------------------------------


def test_script_parses_into_rules() -> None:
    rules = parse_fault_script(" status:502:3, result:RESET:1,submit:drop:2,any:delay250:4 ,")
    assert rules == (
        FaultRule("status", "502", 3),
        FaultRule("result", "reset", 1),
        FaultRule("submit", "drop", 2),
        FaultRule("any", "delay250", 4),
    )
    assert [r.status_code for r in rules] == [502, None, None, None]
    assert rules[3].delay_ms == 250
    assert parse_fault_script("") == ()


@pytest.mark.parametrize(
    ("script", "message"),
    [
        ("status:502", "is not kind:action:count"),
        ("status:502:3:4", "is not kind:action:count"),
        ("state:502:3", "Unknown fault kind 'state'"),
        ("status:200:3", "Unknown fault action '200'"),
        ("status:explode:3", "Unknown fault action 'explode'"),
        ("status:502:x", "count 'x' is not a number"),
        ("status:502:0", "Fault count must be between 1 and 10000, got 0"),
        ("status:502:10001", "Fault count must be between 1 and 10000, got 10001"),
        ("status:delay60001:1", "longer than the limit of 60000 ms"),
        (",".join(["status:502:1"] * 101), "at most 100 rules"),
    ],
)
def test_bad_scripts_are_refused_with_the_reason(script: str, message: str) -> None:
    with pytest.raises(FaultScriptError, match=message):
        parse_fault_script(script)


@pytest.mark.parametrize(
    ("method", "path", "kind"),
    [
        ("POST", "/garnet/jobs", "submit"),
        ("POST", "/garnet:timeslot/jobs", "submit"),
        ("GET", f"/garnet/jobs/{JOB}/status", "status"),
        ("GET", f"/garnet/jobs/{JOB}", "result"),
        ("GET", f"/garnet/jobs/{JOB}/counts", "counts"),
        ("POST", f"/garnet/jobs/{JOB}/abort", "abort"),
        ("GET", "/garnet/api/v1/calibration/default/gates", "calibration"),
        ("GET", "/garnet/quantum-architecture", "calibration"),
        ("GET", "/garnet/calibration/metrics/default", "calibration"),
        ("GET", "/garnet/info/client-libraries", None),  # iqm-client recurses if this fails
        ("GET", "/health", None),
        ("POST", "/realms/cortex/protocol/openid-connect/token", None),
        ("GET", "/garnet/jobs", None),
    ],
)
def test_classify(method: str, path: str, kind: str | None) -> None:
    assert classify(method, path) == kind


# --- the injector --------------------------------------------------------------------------


def test_script_rules_fire_in_order_for_their_kind_then_stop() -> None:
    injector = FaultInjector(script=parse_fault_script("status:502:2,any:503:1,status:reset:1"))
    decided = [injector.decide(kind) for kind in ("result", "status", "status", "status")]
    assert [f.action if f else None for f in decided] == ["503", "502", "502", "reset"]
    assert [injector.decide("status") for _ in range(5)] == [None] * 5
    assert injector.pending() == []
    assert injector.snapshot()["injected"] == {
        "result:503": 1,
        "status:502": 2,
        "status:reset": 1,
    }
    assert injector.decide(None) is None  # never-faulted requests are only counted
    assert injector.requests == {"result": 1, "status": 8, "other": 1}


def test_random_faults_follow_the_rate_and_the_bound() -> None:
    injector = FaultInjector(fail_rate=0.25, max_random_faults=10_000, seed=4)
    hits = sum(injector.decide("status") is not None for _ in range(4000))
    # Binomial(4000, 0.25): standard deviation 27; 5 standard deviations either side.
    assert abs(hits - 1000) < 140
    bounded = FaultInjector(fail_rate=1.0, max_random_faults=5, fail_status=502)
    actions = [bounded.decide("submit") for _ in range(8)]
    assert [a.action if a else None for a in actions] == ["502"] * 5 + [None] * 3
    assert not bounded.active


def test_random_faults_only_hit_their_kinds() -> None:
    injector = FaultInjector(fail_rate=1.0, fault_kinds=("status",))
    assert injector.decide("submit") is None
    assert injector.decide("calibration") is None
    fault = injector.decide("status")
    assert fault is not None
    assert fault.source == "random"


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"fail_rate": 1.5}, "fail_rate must be between 0 and 1, got 1.5"),
        ({"fail_status": 200}, "fail_status must be an HTTP error status 400-599, got 200"),
        ({"max_random_faults": -1}, "max_random_faults must be between 0 and 1000000"),
        ({"slow_ms": 60_001}, "slow_ms must be between 0 and 60000, got 60001"),
        ({"fault_kinds": ("status", "jobs")}, "Unknown fault kind"),
        ({"fault_script": "status:502"}, "is not kind:action:count"),
        ({"max_body_bytes": 0}, "max_body_bytes must be a positive integer"),
    ],
)
def test_config_refuses_bad_fault_options(options: dict[str, object], message: str) -> None:
    with pytest.raises(ValueError, match=message):
        EmulatorConfig(**options)  # type: ignore[arg-type]


# --- over HTTP -----------------------------------------------------------------------------


def test_finite_502s_are_outlasted_by_iqm_clients_own_retry(
    faulty: IQMEmulator, faults: FaultInjector, client_for: ClientFactory, native: SimpleNamespace
) -> None:
    client = client_for(faulty.url)
    job_id = client.submit_circuits([native.x_then_measure()], shots=3)
    before = faults.requests["status"]
    faults.add(parse_fault_script("status:502:3"))
    assert client.wait_for_results(job_id, timeout_secs=30).status == Status.READY
    assert faults.requests["status"] - before >= 4
    assert faults.snapshot()["injected"]["status:502"] == 3


def test_status_faults_answer_json_reset_or_late(
    faulty: IQMEmulator, faults: FaultInjector, client_for: ClientFactory, native: SimpleNamespace
) -> None:
    job_id = client_for(faulty.url).submit_circuits([native.x_then_measure()], shots=1)
    url = f"{faulty.url}/jobs/{job_id}/status"
    faults.add(parse_fault_script("status:503:1,status:reset:1,status:delay1500:1"))
    answer = requests.get(url, timeout=10)
    assert answer.status_code == 503
    assert answer.json() == {
        "message": "Injected fault: HTTP 503 for this status request, without handling it "
        "(emulator fault injection is on)."
    }
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.get(url, timeout=10)
    with pytest.raises(requests.ReadTimeout):
        requests.get(url, timeout=0.3)
    assert requests.get(url, timeout=10).status_code == 200


def test_a_dropped_submit_creates_the_job_but_loses_the_answer(
    faulty: IQMEmulator, faults: FaultInjector, native: SimpleNamespace
) -> None:
    store = faulty.app.state.emulator.store
    jobs = store.count()
    faults.add(parse_fault_script("submit:drop:1,submit:reset:1"))
    body = _run_request(native)
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.post(f"{faulty.url}/jobs", json=body, timeout=10)
    assert store.count() == jobs + 1
    with pytest.raises(requests.exceptions.ChunkedEncodingError):
        requests.post(f"{faulty.url}/jobs", json=body, timeout=10)
    assert store.count() == jobs + 1  # reset: not handled
    answer = requests.post(f"{faulty.url}/jobs", json=body, timeout=10)
    assert answer.status_code == 201
    assert store.count() == jobs + 2


def test_faults_after_handling_create_the_job_and_are_counted_apart(
    faulty: IQMEmulator, faults: FaultInjector, native: SimpleNamespace
) -> None:
    store = faulty.app.state.emulator.store
    jobs = store.count()
    before = faults.snapshot()
    faults.add(parse_fault_script("submit:after504:1,submit:503:1"))
    body = _run_request(native)
    late = requests.post(f"{faulty.url}/jobs", json=body, timeout=10)
    assert late.status_code == 504
    assert "after handling it" in late.json()["message"]
    assert store.count() == jobs + 1  # handled: the job exists, its id is lost
    early = requests.post(f"{faulty.url}/jobs", json=body, timeout=10)
    assert early.status_code == 503
    assert store.count() == jobs + 1  # not handled
    after = faults.snapshot()
    assert after["after_handling"] - before["after_handling"] == 1
    assert after["before_handling"] - before["before_handling"] == 1


def test_random_faults_after_handling() -> None:
    injector = FaultInjector(fail_rate=1.0, fail_status=504, fail_handled=True, seed=1)
    fault = injector.decide("submit")
    assert fault is not None
    assert fault.after_handling
    assert fault.status_code == 504
    assert injector.snapshot()["injected"] == {"submit:after504": 1}
    assert injector.snapshot()["after_handling"] == 1


def test_fault_endpoint_reports_adds_and_clears(faulty: IQMEmulator, faults: FaultInjector) -> None:
    root = faulty.base_url
    added = httpx.post(f"{root}/_faults", json={"script": "result:504:2"})
    assert added.status_code == 200
    assert added.json()["pending"] == ["result:504:2"]
    answer = httpx.get(f"{faulty.url}/jobs/{JOB}")
    assert answer.status_code == 504
    state = httpx.get(f"{root}/_faults").json()
    assert state["pending"] == ["result:504:1"]
    assert state["injected"]["result:504"] == 1
    bad = httpx.post(f"{root}/_faults", json={"script": "result:999:1"})
    assert bad.status_code == 400
    assert "Unknown fault action '999'" in bad.json()["message"]
    assert httpx.delete(f"{root}/_faults").json()["pending"] == []
    assert httpx.get(f"{faulty.url}/jobs/{JOB}").status_code == 404  # no such job: no fault


def test_fault_endpoint_is_absent_unless_enabled_and_needs_the_token() -> None:
    with IQMEmulator("garnet", noise=False) as plain:
        assert httpx.get(f"{plain.base_url}/_faults").status_code == 404
        assert "/_faults" not in httpx.get(f"{plain.base_url}/openapi.json").json()["paths"]
    with IQMEmulator("garnet", token="tok", fault_endpoint=True) as guarded:
        assert httpx.get(f"{guarded.base_url}/_faults").status_code == 401
        allowed = httpx.get(f"{guarded.base_url}/_faults", headers={"Authorization": "Bearer tok"})
        assert allowed.status_code == 200


def test_slow_ms_delays_device_requests_only() -> None:
    with IQMEmulator("garnet", noise=False, slow_ms=800) as slow:
        assert httpx.get(f"{slow.base_url}/health", timeout=1.0).status_code == 200
        with pytest.raises(httpx.ReadTimeout):
            httpx.get(f"{slow.url}/jobs/{JOB}/status", timeout=0.2)


# --- body size limit -----------------------------------------------------------------------


def test_oversized_bodies_are_refused_with_413(
    faulty: IQMEmulator, native: SimpleNamespace
) -> None:
    store = faulty.app.state.emulator.store
    jobs = store.count()
    big = b'{"circuits": [], "shots": 1, "pad": "' + b"x" * 3000 + b'"}'
    expected = {"message": "The request body is larger than this server's limit of 2000 bytes."}
    declared = httpx.post(f"{faulty.url}/jobs", content=big)
    assert (declared.status_code, declared.json()) == (413, expected)

    def chunks() -> Iterator[bytes]:  # no Content-Length: counted while read
        for start in range(0, len(big), 500):
            yield big[start : start + 500]

    streamed = httpx.post(f"{faulty.url}/jobs", content=chunks())
    assert (streamed.status_code, streamed.json()) == (413, expected)
    assert store.count() == jobs
    small = httpx.post(f"{faulty.url}/jobs", json=_run_request(native))
    assert small.status_code == 201
    assert UUID(small.json()["id"])


# --- command line --------------------------------------------------------------------------


def test_fault_options_become_config() -> None:
    args = cli.build_parser().parse_args(
        [
            "--fail-rate", "0.2", "--fail-status", "502", "--max-faults", "7", "--slow-ms", "30",
            "--fault-kinds", "status,result", "--script", "submit:reset:1", "--fault-endpoint",
            "--max-body-bytes", "4096",
        ]
    )  # fmt: skip
    config = cli.config_from_args(args)
    assert (config.fail_rate, config.fail_status, config.max_random_faults) == (0.2, 502, 7)
    assert (config.slow_ms, config.fault_kinds) == (30, ("status", "result"))
    assert (config.fault_script, config.fault_endpoint) == ("submit:reset:1", True)
    assert config.max_body_bytes == 4096
    assert config.faults_enabled
    defaults = cli.config_from_args(cli.build_parser().parse_args([]))
    assert not defaults.faults_enabled
    assert defaults.max_body_bytes == 10 * 1024 * 1024


@pytest.mark.parametrize(
    ("argv", "message"),
    [
        (["--fail-rate", "2"], "fail_rate must be between 0 and 1, got 2.0"),
        (["--slow-ms", "100000"], "slow_ms must be between 0 and 60000"),
        (["--script", "status:502"], "is not kind:action:count"),
        (["--fault-kinds", "everything"], "Unknown fault kind(s) everything"),
    ],
)
def test_bad_fault_options_exit_2(
    capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    assert cli.main(argv) == 2
    assert message in capsys.readouterr().err


def test_emulator_warns_when_exposed_without_auth() -> None:
    with pytest.warns(UserWarning, match="serves 0.0.0.0 without authentication"):
        IQMEmulator("garnet", host="0.0.0.0").start().stop()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        IQMEmulator("garnet", host="0.0.0.0", token="t").start().stop()
        IQMEmulator("garnet").start().stop()
