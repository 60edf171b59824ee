"""A pool of Ray actors, each holding one worker (one loaded model), fed a stream of groups.

This is Ray Data's batch-inference pattern (model actors fed by a streaming dataset) built on
Ray core, which needs no pyarrow or pandas: the driver reads the groups lazily, keeps
`in_flight_per_actor` of them queued at each actor, so a GPU never waits for the driver, and
yields each group's result as it arrives. Work goes to whichever actor frees up first, so a
slow actor takes fewer groups. A group lost with its actor (a crash, an out-of-memory kill, a
node gone) is retried on a fresh actor file by file, and a file lost twice is given up with the
error, so a file that kills its worker cannot stop the job. The driver imports nothing but Ray.
"""

from __future__ import annotations

import logging
import re
import socket
from collections import deque
from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any, TypeVar

from qasr.errors import InvalidInputError, MissingExtraError, QasrError

Item = TypeVar("Item")
Work = Callable[[Sequence[Any]], Any]

LOCAL = ("", "local")
PROBE_SECONDS = 3.0


def import_ray() -> Any:
    try:
        import ray
    except ImportError:
        raise MissingExtraError("ray", "ray", "qasr batch --ray") from None
    return ray


def check_address(address: str | None) -> None:
    """Refuse an address Ray would wait on forever: neither local, `auto`, `HOST:PORT` nor
    `ray://HOST:PORT`, or nothing listening there."""
    if address is None or address in LOCAL or address == "auto":
        return
    host, _, port = address.removeprefix("ray://").rpartition(":")
    if not host or not port.isdigit():
        raise InvalidInputError(
            f"--ray got {address!r}, which is not a Ray address: give auto, HOST:PORT or "
            "ray://HOST:PORT, nothing for a cluster on this machine, or write --ray=ADDRESS "
            "when inputs follow"
        )
    try:
        with socket.create_connection((host, int(port)), timeout=PROBE_SECONDS):
            pass
    except OSError as error:
        raise InvalidInputError(
            f"cannot reach the Ray cluster at {address!r} ({error.strerror or error}); start "
            "it with `ray start --head` or check the address"
        ) from None


class RayActorPool:
    """Actors of `cpus_per_actor` CPUs and `gpus_per_actor` GPUs; by default one GPU each when
    the cluster has GPUs (as many actors as GPUs), else 4 CPUs each (as many as fit)."""

    def __init__(
        self,
        address: str | None = None,
        *,
        actors: int | None = None,
        cpus_per_actor: float | None = None,
        gpus_per_actor: float | None = None,
        in_flight_per_actor: int = 2,
    ) -> None:
        self.ray = import_ray()
        check_address(address)
        self.owns_cluster = not self.ray.is_initialized()
        if self.owns_cluster:
            self._connect(address)
        resources = self.ray.cluster_resources()
        cpus, gpus = float(resources.get("CPU", 0)), float(resources.get("GPU", 0))
        if gpus_per_actor is None:
            gpus_per_actor = 1.0 if gpus >= 1 else 0.0
        if cpus_per_actor is None:
            cpus_per_actor = 1.0 if gpus_per_actor else min(4.0, max(cpus, 1.0))
        if actors is None:
            share = gpus / gpus_per_actor if gpus_per_actor else cpus / cpus_per_actor
            actors = max(1, int(share))
        if actors * cpus_per_actor > cpus or actors * gpus_per_actor > gpus:
            raise InvalidInputError(
                f"{actors} Ray actor(s) of {cpus_per_actor:g} CPU(s) and {gpus_per_actor:g} "
                f"GPU(s) do not fit the cluster's {cpus:g} CPUs and {gpus:g} GPUs; ask for fewer "
                "(--ray-actors, --ray-cpus-per-actor, --ray-gpus-per-actor)"
            )
        self.actors = actors
        self.cpus_per_actor = cpus_per_actor
        self.gpus_per_actor = gpus_per_actor
        self.in_flight_per_actor = in_flight_per_actor

    def _connect(self, address: str | None) -> None:
        local = address is None or address in LOCAL
        try:
            self.ray.init(
                address=None if local else address,
                include_dashboard=False,
                log_to_driver=False,
                logging_level=logging.ERROR,
            )
        except Exception as error:  # Ray raises ConnectionError, RuntimeError, ValueError...
            raise InvalidInputError(
                f"cannot connect to the Ray cluster at {address or 'this machine'!r}: {error}"
            ) from None

    def stream(
        self, make_worker: Callable[[], Work], groups: Iterable[Sequence[Item]]
    ) -> Iterator[tuple[Sequence[Item], Any]]:
        """Each actor calls `make_worker()` once (loads the model), then its result on groups;
        yields (group, result), or (group, error) for a group lost after its retries. The actors
        end with the stream, and so does a cluster this pool started (one stream per such pool)."""
        remote = self.ray.remote(num_cpus=self.cpus_per_actor, num_gpus=self.gpus_per_actor)(_Actor)
        started: list[Any] = []
        try:
            started.extend(remote.remote(make_worker) for _ in range(self.actors))
            self._wait_ready(started)
            yield from _Schedule(self, remote, make_worker, started).run(iter(groups))
        finally:
            for actor in started:
                self.ray.kill(actor)
            if self.owns_cluster:
                self.ray.shutdown()

    def _wait_ready(self, actors: Sequence[Any]) -> None:
        try:
            self.ray.get([actor.ready.remote() for actor in actors])
        except self.ray.exceptions.RayError as error:
            raise QasrError(f"the Ray actors could not start: {_cause(error)}") from None


class _Actor:
    """One worker process: its model is loaded once, in `__init__`."""

    def __init__(self, make_worker: Callable[[], Work]) -> None:
        self.work = make_worker()

    def ready(self) -> bool:
        return True

    def run(self, group: Sequence[Any]) -> Any:
        return self.work(group)


class _Schedule:
    """The driver's loop: keep each live actor's queue full, hand out retries first."""

    def __init__(self, pool: RayActorPool, remote: Any, make_worker: Any, actors: list[Any]):
        self.pool, self.ray = pool, pool.ray
        self.remote, self.make_worker, self.actors = remote, make_worker, actors
        self.retries: deque[tuple[Sequence[Any], int]] = deque()
        self.in_flight: dict[Any, tuple[Any, Sequence[Any], int]] = {}
        self.dead: set[int] = set()

    def run(self, groups: Iterator[Sequence[Any]]) -> Iterator[tuple[Sequence[Any], Any]]:
        for actor in list(self.actors):
            for _ in range(self.pool.in_flight_per_actor):
                self._submit(actor, groups)
        while self.in_flight:
            [done], _ = self.ray.wait(list(self.in_flight), num_returns=1)
            actor, group, attempt = self.in_flight.pop(done)
            try:
                yield group, self.ray.get(done)
            except self.ray.exceptions.RayActorError as error:
                actor = self._replace(actor)
                if len(group) > 1:
                    self.retries.extend(([item], attempt + 1) for item in group)
                elif attempt < 1:
                    self.retries.append((group, attempt + 1))
                else:
                    yield group, QasrError(f"its Ray worker died twice: {_cause(error)}")
            except self.ray.exceptions.RayError as error:
                yield group, QasrError(_cause(error))
            self._submit(actor, groups)

    def _submit(self, actor: Any, groups: Iterator[Sequence[Any]]) -> None:
        if self.retries:
            group, attempt = self.retries.popleft()
        else:
            following = next(groups, None)
            if following is None:
                return
            group, attempt = following, 0
        self.in_flight[actor.run.remote(group)] = (actor, group, attempt)

    def _replace(self, actor: Any) -> Any:
        """A fresh actor for a dead one (once, however many of its groups come back lost)."""
        key = id(actor)
        if key in self.dead:
            return next(a for a in reversed(self.actors) if id(a) not in self.dead)
        self.dead.add(key)
        fresh = self.remote.remote(self.make_worker)
        self.actors.append(fresh)
        return fresh


def _cause(error: BaseException) -> str:
    """The last line of a Ray error, which names the worker's own exception; a user's error
    (a `QasrError` such as a model not found) reads as its message alone."""
    lines = [line.strip() for line in str(error).splitlines() if line.strip()]
    last = lines[-1] if lines else type(error).__name__
    return re.sub(r"^qasr\.errors\.\w+: ", "", last)
