"""Compiling many circuits at once: across local processes or on a Dask cluster.

A compilation pass holds Python callables (pytket ``CustomPass``) and cannot be pickled, so
what crosses a process boundary is the device (``BackendInfo.to_dict()`` as JSON), the level and
timeout, and the circuits as ``Circuit.to_dict()`` with exact angles. Each worker rebuilds the
pass once per device and level and keeps it. ``to_dict`` keeps numbers inside angle
expressions to 15 digits only, so every path, ``workers=1`` included, compiles and returns
circuits as they read back from that form (:func:`canonical_circuit`): all paths give the same
circuits, in order.

Local workers are started with the ``spawn`` method (a fresh interpreter: forking a process
that holds pytket's C++ state and other threads is not safe) and kept for later calls, so the
start-up cost is paid once per session. Worker processes import the caller's ``__main__``
module again, as every spawned Python process does: scripts need the
``if __name__ == "__main__":`` guard. A worker that finds itself running a script's top level
refuses to compile or to open a backend (:func:`refuse_in_compile_worker`) instead of running
the script's jobs a second time.
"""

from __future__ import annotations

import atexit
import functools
import json
import multiprocessing
import os
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import Executor, Future, ProcessPoolExecutor
from concurrent.futures import as_completed as futures_as_completed
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass, replace
from multiprocessing.context import SpawnContext, SpawnProcess
from types import MappingProxyType
from typing import Any, cast

from pytket.backends.backendinfo import BackendInfo
from pytket.circuit import Circuit, Conditional, Op, OpType
from pytket.passes import BasePass

from pytket.extensions.iqm.backends.compilation import default_compilation_pass
from pytket.extensions.iqm.backends.progress import ResultsProgress, progress_enabled
from pytket.extensions.iqm.cluster_extra import import_distributed

SCHEDULER_ENVIRONMENT_VARIABLE = "PYTKET_IQM_COMPILE_SCHEDULER"
"""A Dask scheduler address (``tcp://host:8786``) that compilation uses when the call names
neither ``workers`` nor ``executor``."""

SEQUENTIAL_BELOW: Mapping[int, int] = MappingProxyType({0: 64, 1: 32, 2: 8, 3: 2})
"""By optimisation level: batches of fewer circuits compile in the calling process. Starting
the worker processes costs about a second (each a fresh interpreter importing pytket), about
what this many circuits of the benchmark suite take to compile at that level on Garnet, so a
smaller batch would only get slower."""

CHUNKS_PER_WORKER = 8
"""Each worker gets about this many tasks: enough that circuits of very different sizes even
out at the end, few enough that shipping the device with every task costs nothing measurable."""

PASS_CACHE_SIZE = 8
"""Compilation passes a worker keeps (by device, level and timeout); a session rarely uses more."""

SCHEDULER_CONNECT_TIMEOUT = 10.0
"""Seconds to wait for a Dask scheduler to answer (Dask's own default), then give up."""

_WORKER_NAME_PREFIX = "pytket-iqm-compile-"


def default_workers() -> int:
    """The cores this process may use (its CPU affinity where the system reports one)."""
    if hasattr(os, "sched_getaffinity"):
        return max(1, len(os.sched_getaffinity(0)))
    return max(1, os.cpu_count() or 1)


def refuse_in_compile_worker(action: str) -> None:
    """Refuse ``action`` in a compile worker that is importing the user's script again.

    A spawned worker runs the ``__main__`` module's top level before it can compile anything;
    in a script without the ``if __name__ == "__main__":`` guard that would open backends and
    submit jobs a second time per worker.

    :raises RuntimeError: this is a compile worker process.
    """
    if multiprocessing.current_process().name.startswith(_WORKER_NAME_PREFIX):
        raise RuntimeError(
            f"A pytket-iqm compile worker process would {action} while importing your script "
            "again: parallel compilation starts worker processes, which import the main module. "
            'Put the script\'s code under if __name__ == "__main__":, or compile with '
            "workers=1."
        )


def check_workers(workers: object) -> int | None:
    """``workers`` as given to :func:`compile_circuits`, checked.

    :raises TypeError: ``workers`` is not an integer or ``None``.
    :raises ValueError: ``workers`` is less than 1.
    """
    if workers is None:
        return None
    if isinstance(workers, bool) or not isinstance(workers, int):
        raise TypeError(
            f"workers must be a whole number of processes (1 compiles in this process) or None "
            f"for one per core, not {workers!r}."
        )
    if workers < 1:
        raise ValueError(
            f"workers must be at least 1 (1 compiles in this process, without worker "
            f"processes), not {workers}."
        )
    return workers


# -- circuits across the process boundary ---------------------------------------------------


def circuit_to_exact_dict(circuit: Circuit) -> dict[str, Any]:
    """``circuit.to_dict()`` with every numeric angle and the phase written exactly.

    ``to_dict`` writes angles with 15 significant digits; compiling the slightly different
    circuit ``Circuit.from_dict`` makes of that can give a different result. ``repr`` of a
    float reads back as the same float, so :meth:`Circuit.from_dict` of this dict is the same
    circuit bit for bit (angles inside boxes keep ``to_dict``'s precision).
    """
    circuit_dict = circuit.to_dict()
    commands = circuit.get_commands()
    for command_dict, command in zip(circuit_dict["commands"], commands, strict=True):
        _write_exact_params(command_dict["op"], command.op)
    circuit_dict["phase"] = _exact_text(circuit.phase, circuit_dict["phase"])
    return circuit_dict


def canonical_circuit(circuit: Circuit) -> Circuit:
    """The circuit as another process rebuilds it from :func:`circuit_to_exact_dict`.

    Every path of :func:`compile_circuits` (``workers=1`` too) compiles and returns circuits
    in this form, so that all give the same circuits: numbers inside angle expressions (such
    as ``0.0245436926061703/pi`` from QASM) keep only ``to_dict``'s 15 significant digits
    across a process boundary, which can change the last digits of compiled angles.
    """
    return Circuit.from_dict(circuit_to_exact_dict(circuit))


def _write_exact_params(op_dict: dict[str, Any], op: Op) -> None:
    if op.type == OpType.Conditional:
        _write_exact_params(op_dict["conditional"]["op"], cast("Conditional", op).op)
        return
    # A custom gate (e.g. from QASM's gate definitions) keeps its angles in its box.
    holder = op_dict if "params" in op_dict else op_dict.get("box")
    if not isinstance(holder, dict) or "params" not in holder:
        return
    holder["params"] = [
        _exact_text(value, text) for value, text in zip(op.params, holder["params"], strict=True)
    ]


def _exact_text(value: object, text: str) -> str:
    """``text`` (an angle as ``to_dict`` writes it), or ``repr(value)`` where ``text`` is a
    plain number that does not read back as ``value``; expressions (``1/2``, ``x/pi``) stay."""
    if not isinstance(value, float):
        return text
    try:
        if float(text) == value:
            return text
    except ValueError:
        return text
    return repr(value)


# -- in the worker --------------------------------------------------------------------------


@functools.lru_cache(maxsize=PASS_CACHE_SIZE)
def _worker_pass(
    info_json: str, optimisation_level: int, timeout: float
) -> tuple[BackendInfo, BasePass]:
    """The pass for a device, with the ``BackendInfo`` it was built from: the pass refers to
    the device's architecture without keeping it alive (applying it once the info is freed
    crashes the process), so they are kept together."""
    info = BackendInfo.from_dict(json.loads(info_json))
    return info, default_compilation_pass(info, optimisation_level, timeout=timeout)


def compile_chunk(
    info_json: str,
    optimisation_level: int,
    timeout: float,
    circuit_dicts: Sequence[dict[str, Any]],
) -> list[dict[str, Any]]:
    """Compile circuits given as ``to_dict()`` for the device given as ``to_dict()`` JSON.

    Runs in a worker process (local or Dask); everything in and out is plain data.
    """
    _, compilation_pass = _worker_pass(info_json, optimisation_level, float(timeout))
    compiled = []
    for circuit_dict in circuit_dicts:
        circuit = Circuit.from_dict(circuit_dict)
        compilation_pass.apply(circuit)
        compiled.append(circuit_to_exact_dict(circuit))
    return compiled


# -- local worker processes -----------------------------------------------------------------


class _CompileWorkerProcess(SpawnProcess):
    """A spawned process named so that it knows it is a compile worker while it imports the
    caller's ``__main__`` (see :func:`refuse_in_compile_worker`)."""

    _counter = 0

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        _CompileWorkerProcess._counter += 1
        self.name = f"{_WORKER_NAME_PREFIX}{_CompileWorkerProcess._counter}"


class _CompileWorkerContext(SpawnContext):
    Process = _CompileWorkerProcess


_pools: dict[int, ProcessPoolExecutor] = {}
_pools_lock = threading.Lock()


def _local_pool(workers: int) -> ProcessPoolExecutor:
    """The session's pool of ``workers`` processes, started on first use and kept."""
    with _pools_lock:
        pool = _pools.get(workers)
        if pool is None:
            pool = ProcessPoolExecutor(max_workers=workers, mp_context=_CompileWorkerContext())
            _pools[workers] = pool
        return pool


def _discard_pool(workers: int, pool: ProcessPoolExecutor) -> None:
    with _pools_lock:
        if _pools.get(workers) is pool:
            del _pools[workers]
    pool.shutdown(wait=False, cancel_futures=True)


@atexit.register
def shutdown_worker_pools() -> None:
    """Stop the kept local worker processes (they are started again when needed)."""
    with _pools_lock:
        pools = list(_pools.values())
        _pools.clear()
    for pool in pools:
        pool.shutdown(wait=True, cancel_futures=True)


# -- Dask -----------------------------------------------------------------------------------


def _distributed() -> Any:
    return import_distributed(
        "Compiling on a Dask cluster", "compile on this machine's cores (leave executor out)"
    )


def _is_dask_client(executor: object) -> bool:
    module = type(executor).__module__
    if not module.startswith("distributed"):
        return False
    return isinstance(executor, _distributed().Client)


_clients: dict[str, Any] = {}
_clients_lock = threading.Lock()


def _client_for(address: str) -> Any:
    """A Dask client connected to the scheduler at ``address``, kept for later calls.

    :raises ImportError: Dask is not installed.
    :raises ValueError: ``address`` is not a scheduler address.
    :raises ConnectionError: no scheduler answers at ``address``.
    """
    distributed = _distributed()
    with _clients_lock:
        client = _clients.get(address)
        if client is not None and client.status == "running":
            return client
        try:
            client = distributed.Client(
                address, timeout=SCHEDULER_CONNECT_TIMEOUT, set_as_default=False
            )
        except (OSError, TimeoutError) as error:
            raise ConnectionError(
                f"No Dask scheduler answered at {address!r} ({error}). Check the address "
                "(e.g. tcp://host:8786) and that the scheduler is running."
            ) from None
        except ValueError as error:
            raise ValueError(
                f"{address!r} is not a Dask scheduler address ({error}); give one such as "
                "tcp://host:8786."
            ) from None
        _clients[address] = client
        return client


# -- the entry point ------------------------------------------------------------------------


def compile_circuits(
    backend_info: BackendInfo,
    circuits: Sequence[Circuit],
    optimisation_level: int = 2,
    timeout: float = 300,
    *,
    workers: int | None = None,
    executor: Any = None,
    progress: bool | None = None,
) -> list[Circuit]:
    """Compiled copies of ``circuits`` for the device ``backend_info`` describes, in parallel.

    Offline: this needs no server (a ``BackendInfo`` from a backend, a file or
    ``BackendInfo.from_dict``). The result equals compiling one circuit after another with
    :func:`default_compilation_pass` (at level 3 as long as no circuit reaches ``timeout``),
    in the order of ``circuits``; the inputs are not changed.

    :param backend_info: the device.
    :param circuits: what to compile.
    :param optimisation_level: 0, 1, 2 or 3, as for :func:`default_compilation_pass`.
    :param timeout: seconds level 3 may spend per circuit.
    :param workers: local worker processes; ``None`` (default) one per core, ``1`` compiles in
        this process. Batches smaller than :data:`SEQUENTIAL_BELOW` (by level) compile in this
        process whatever the number.
    :param executor: compile elsewhere: a Dask ``distributed.Client``, a Dask scheduler address
        (``"tcp://host:8786"``), or any :class:`concurrent.futures.Executor` that runs tasks in
        processes with pytket-iqm installed. Without ``executor`` and ``workers``, the address in
        the ``PYTKET_IQM_COMPILE_SCHEDULER`` environment variable is used if set. Dask needs the
        ``cluster`` extra.
    :param progress: ``True`` shows a progress bar (on stderr) counting compiled circuits
        (``progress`` extra).
    :raises ValueError: ``optimisation_level``, ``timeout`` or ``workers`` is out of range, or
        both ``workers`` and ``executor`` are given.
    :raises TypeError: ``workers`` is not an integer, or ``executor`` is neither a Dask client,
        an address nor an ``Executor``.
    :raises ImportError: Dask or tqdm is asked for but not installed (the message names the
        extra).
    :raises ConnectionError: no Dask scheduler answers at the address.
    :raises RuntimeError: called in a compile worker importing a script without the
        ``__main__`` guard, or the local worker processes died.
    """
    refuse_in_compile_worker("compile circuits")
    workers = check_workers(workers)
    if executor is not None and workers is not None:
        raise ValueError(
            "Give either workers (processes on this machine) or executor (where to compile), "
            "not both: with an executor its own workers compile."
        )
    if executor is None and workers is None:
        executor = os.environ.get(SCHEDULER_ENVIRONMENT_VARIABLE) or None
    executor = _checked_executor(executor)
    show_progress = progress_enabled(progress)
    # Checks the level, timeout and device before anything is sent; the sequential path uses it.
    compilation_pass = default_compilation_pass(backend_info, optimisation_level, timeout=timeout)
    circuits = list(circuits)
    for index, circuit in enumerate(circuits):
        if not isinstance(circuit, Circuit):
            raise TypeError(f"circuits[{index}] is a {type(circuit).__name__}, not a Circuit.")

    compilation = _Compilation(_info_json(backend_info), optimisation_level, float(timeout))
    with _progress_bar(len(circuits), show_progress) as advance:
        if executor is not None:
            return _compile_on_executor(executor, compilation, circuits, advance)
        n_workers = workers if workers is not None else default_workers()
        if n_workers == 1 or len(circuits) < SEQUENTIAL_BELOW[optimisation_level] or _is_daemon():
            return _compile_here(circuits, compilation_pass, advance)
        return _compile_on_local_pool(compilation, circuits, n_workers, advance)


def _checked_executor(executor: object) -> Any:
    """A Dask client or ``Executor`` for ``executor``, or ``None``.

    :raises TypeError: ``executor`` is of no accepted type.
    """
    if executor is None or isinstance(executor, Executor):
        return executor
    if isinstance(executor, str):
        return _client_for(executor)
    if _is_dask_client(executor):
        return executor
    raise TypeError(
        f"executor must be a Dask distributed.Client, a Dask scheduler address such as "
        f"'tcp://host:8786', or a concurrent.futures.Executor, not a {type(executor).__name__}."
    )


def _is_daemon() -> bool:
    """Daemon processes (e.g. a multiprocessing pool's workers) may not start processes."""
    return bool(multiprocessing.current_process().daemon)


def _compile_here(
    circuits: Sequence[Circuit], compilation_pass: BasePass, advance: Callable[[int], None]
) -> list[Circuit]:
    compiled_circuits = []
    for circuit in circuits:
        compiled = canonical_circuit(circuit)
        compilation_pass.apply(compiled)
        compiled_circuits.append(canonical_circuit(compiled))
        advance(1)
    return compiled_circuits


def _chunks(circuits: Sequence[Circuit], n_workers: int) -> list[list[int]]:
    """Circuit indices in tasks of about equal work.

    The circuits, largest first, are dealt out to the tasks like cards, back and forth, so
    that no task gets the largest circuits together, which could keep one worker busy after
    the others had finished on a batch with a few very large circuits.
    """
    order = sorted(range(len(circuits)), key=lambda i: -circuits[i].n_gates)
    n_tasks = max(1, min(len(circuits), n_workers * CHUNKS_PER_WORKER))
    tasks: list[list[int]] = [[] for _ in range(n_tasks)]
    for position, index in enumerate(order):
        deal, seat = divmod(position, n_tasks)
        tasks[seat if deal % 2 == 0 else n_tasks - 1 - seat].append(index)
    return tasks


def _info_json(backend_info: BackendInfo) -> str:
    return json.dumps(backend_info.to_dict(), sort_keys=True)


@dataclass(frozen=True)
class _Compilation:
    """What every task of one call gets besides its circuits."""

    info: Any
    """The device as ``BackendInfo.to_dict()`` JSON (or a Dask future of it)."""
    optimisation_level: int
    timeout: float


def _compile_on_local_pool(
    compilation: _Compilation,
    circuits: Sequence[Circuit],
    n_workers: int,
    advance: Callable[[int], None],
) -> list[Circuit]:
    pool = _local_pool(n_workers)
    try:
        return _run_chunks(pool.submit, compilation, circuits, n_workers, advance)
    except BrokenProcessPool:
        _discard_pool(n_workers, pool)
        raise RuntimeError(
            "The compile worker processes stopped before finishing. If this is a script, put "
            'its code under if __name__ == "__main__": (worker processes import it again); '
            "else compile with workers=1 to see the error in this process."
        ) from None


def _compile_on_executor(
    executor: Any,
    compilation: _Compilation,
    circuits: Sequence[Circuit],
    advance: Callable[[int], None],
) -> list[Circuit]:
    if isinstance(executor, Executor):
        n_workers = getattr(executor, "_max_workers", None) or default_workers()
        return _run_chunks(executor.submit, compilation, circuits, n_workers, advance)
    n_workers = max(1, sum(executor.nthreads().values()))
    # One copy of the device per worker instead of one per task.
    info_future = executor.scatter(compilation.info, broadcast=True, hash=False)

    def submit(function: Callable[..., Any], *args: Any) -> Any:
        return executor.submit(function, *args, pure=False)

    return _run_chunks(submit, replace(compilation, info=info_future), circuits, n_workers, advance)


def _run_chunks(
    submit: Callable[..., Future[list[dict[str, Any]]]],
    compilation: _Compilation,
    circuits: Sequence[Circuit],
    n_workers: int,
    advance: Callable[[int], None],
) -> list[Circuit]:
    """Submit the chunks, collect them as they finish, return the circuits in input order."""
    chunks = _chunks(circuits, n_workers)
    futures = [
        submit(
            compile_chunk,
            compilation.info,
            compilation.optimisation_level,
            compilation.timeout,
            [circuit_to_exact_dict(circuits[index]) for index in chunk],
        )
        for chunk in chunks
    ]
    compiled: list[Circuit | None] = [None] * len(circuits)
    try:
        for position, future in _as_completed(futures):
            chunk = chunks[position]
            for index, circuit_dict in zip(chunk, future.result(), strict=True):
                compiled[index] = Circuit.from_dict(circuit_dict)
            advance(len(chunk))
    except BaseException:
        for future in futures:
            future.cancel()
        raise
    return [circuit for circuit in compiled if circuit is not None]


def _as_completed(futures: Sequence[Any]) -> Iterator[tuple[int, Any]]:
    """``(position, future)`` as the futures finish (Dask's or concurrent.futures')."""
    position_of = {id(future): position for position, future in enumerate(futures)}
    as_completed: Callable[[Sequence[Any]], Iterator[Any]] = futures_as_completed
    if futures and type(futures[0]).__module__.startswith("distributed"):
        # The client's own event loop: a client made for an address is not the default one.
        as_completed = functools.partial(_distributed().as_completed, loop=futures[0].client.loop)
    for future in as_completed(futures):
        yield position_of[id(future)], future


class _NoBar:
    def __enter__(self) -> Callable[[int], None]:
        return lambda count: None

    def __exit__(self, *exc: object) -> None:
        return None


class _Bar:
    def __init__(self, total: int) -> None:
        self._bar = ResultsProgress(total, description="Compiling")

    def __enter__(self) -> Callable[[int], None]:
        return self._bar.advance

    def __exit__(self, *exc: object) -> None:
        self._bar.close()


def _progress_bar(total: int, show: bool) -> _NoBar | _Bar:
    """A context giving ``advance(count)``: a compile progress bar, or nothing."""
    return _Bar(total) if show else _NoBar()
