"""gRPC transport: thin servicers (decode, call the engine, encode) and build_server().

``build_server(config)`` opens the store, rebuilds the index, starts gRPC (with health
and reflection) and the HTTP endpoint, and returns a :class:`Service` whose ports are
the real bound ports (config port 0 picks a free one). ``Service.stop()`` is the
graceful shutdown: health NOT_SERVING, stop accepting, give in-flight calls the grace
period, then close the store.
"""

from __future__ import annotations

import gc
import logging
import threading
from concurrent import futures
from typing import Any

import grpc
from grpc_health.v1 import health, health_pb2, health_pb2_grpc
from grpc_reflection.v1alpha import reflection

from . import _codec as codec
from . import _startup as startup
from . import _validate as check
from . import expressions
from ._interceptors import (
    AuthInterceptor,
    ErrorInterceptor,
    LoggingInterceptor,
    MetricsInterceptor,
)
from ._proto import cancelmatch_pb2 as pb
from ._proto import cancelmatch_pb2_grpc as pb_grpc
from .auth import Keyring
from .config import Config
from .engine import Engine
from .http_app import build_app, transport_rejected
from .http_server import HttpServer
from .metrics import Metrics
from .store import open_store

log = logging.getLogger("cancelmatch.server")

SERVICE_NAMES = tuple(pb.DESCRIPTOR.services_by_name[n].full_name
                      for n in ("Runner", "Expressions", "Cancellations"))


class RunnerServicer(pb_grpc.RunnerServicer):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def RegisterRun(self, request: Any, context: Any) -> Any:
        return codec.register_result(self.engine.register_run(codec.run_request(request)))

    def RegisterRuns(self, request: Any, context: Any) -> Any:
        results = self.engine.register_runs([codec.run_request(r) for r in request.runs])
        return pb.RegisterRunsResponse(results=[codec.register_result(r) for r in results])

    def FinishRun(self, request: Any, context: Any) -> Any:
        found, removed = self.engine.finish_run(request.env, request.run_id)
        return pb.FinishRunResponse(found=found, listeners_removed=removed)

    def PublishEvents(self, request: Any, context: Any) -> Any:
        ids, decisions = self.engine.publish_events(
            request.env, [codec.event(e) for e in request.events])
        return pb.PublishEventsResponse(event_ids=ids,
                                        decisions=[codec.decision(d) for d in decisions])

    def WatchDecisions(self, request: Any, context: Any) -> Any:
        for d in self.engine.watch(request.env, context.is_active):
            yield codec.decision(d)

    def AckDecisions(self, request: Any, context: Any) -> Any:
        return pb.AckDecisionsResponse(
            acked=self.engine.ack_decisions(request.env, list(request.decision_ids)))

    def SyncFunctions(self, request: Any, context: Any) -> Any:
        functions = [(f.function_id, tuple(codec.rule(r) for r in f.cancel_on))
                     for f in request.functions]
        results = self.engine.sync_functions(request.env, request.app_id, functions)
        return pb.SyncFunctionsResponse(results=[codec.sync_result(r) for r in results])


class ExpressionsServicer(pb_grpc.ExpressionsServicer):
    def __init__(self, config: Config) -> None:
        self.config = config

    def Validate(self, request: Any, context: Any) -> Any:
        usage = codec.usage(request.usage)
        return codec.validation(expressions.validate(request.expression, usage, self.config))

    def Explain(self, request: Any, context: Any) -> Any:
        trigger = None
        if request.HasField("trigger"):
            t = codec.event(request.trigger)
            data = check.event_data(t.data_json, "trigger.data", self.config)
            trigger = check.event_dict(t, data)
        out = expressions.explain(codec.rule(request.rule), trigger, self.config)
        return codec.explain(out)

    def Evaluate(self, request: Any, context: Any) -> Any:
        out = expressions.evaluate(request.expression, request.event_json, request.async_json,
                                   self.config)
        result = "" if out["error"] else expressions.dumps(out["result"])
        return codec.evaluation(out, result)


class CancellationsServicer(pb_grpc.CancellationsServicer):
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def CreateCancellation(self, request: Any, context: Any) -> Any:
        after = request.started_after if request.HasField("started_after") else None
        return codec.cancellation(self.engine.bulk.create(
            request.env, request.app_id, request.function_id, after,
            request.started_before, request.expression))

    def ListCancellations(self, request: Any, context: Any) -> Any:
        return pb.ListCancellationsResponse(
            cancellations=[codec.cancellation(c) for c in self.engine.bulk.list(request.env)])

    def DeleteCancellation(self, request: Any, context: Any) -> Any:
        self.engine.bulk.delete(request.env, request.id)
        return pb.DeleteCancellationResponse()


class Service:
    """A running cancelmatch: gRPC server, HTTP endpoint, engine and expiry sweeper."""

    def __init__(self, config: Config, engine: Engine, grpc_server: grpc.Server,
                 grpc_port: int, health_servicer: Any, http: HttpServer) -> None:
        self.config, self.engine, self.grpc_server = config, engine, grpc_server
        self.grpc_port, self.health, self.http = grpc_port, health_servicer, http
        self.http_port = http.port
        self._stopping = threading.Event()
        freeze_heap()
        self._sweeper = threading.Thread(target=self._sweep_loop, name="cancelmatch-sweeper",
                                         daemon=True)
        self._sweeper.start()

    @property
    def target(self) -> str:
        return f"{self.config.host}:{self.grpc_port}"

    def _sweep_loop(self) -> None:
        while not self._stopping.wait(self.config.sweep_interval_s):
            try:
                swept = self.engine.sweep()
                if swept:
                    log.info("swept expired listeners", extra={"count": swept})
                freeze_heap()
            except Exception:  # noqa: BLE001 - the sweeper must outlive one failure
                log.exception("sweep failed")

    def stop(self, grace: float | None = None) -> None:
        """Graceful shutdown; safe to call twice."""
        if self._stopping.is_set():
            return
        self._stopping.set()
        self.health.enter_graceful_shutdown()  # every service NOT_SERVING from now on
        grace = self.config.grace_s if grace is None else grace
        self.http.stop()
        done = self.grpc_server.stop(grace)
        self.engine.hub.close()  # ends WatchDecisions streams so stop() need not wait them out
        done.wait()
        self._sweeper.join()
        self.engine.close()
        log.info("stopped")

    def wait(self) -> None:
        self.grpc_server.wait_for_termination()


def freeze_heap() -> None:
    """Move every object alive now out of the cyclic GC's reach (``gc.freeze``).

    The index keeps millions of long-lived objects; each full collection walked all of
    them, and measured publish throughput rose by about half once they were frozen.
    Frozen objects are still freed by reference counting when the index drops them; the
    collect() first keeps cyclic garbage from being frozen with them. Called at start
    (after the index rebuild) and after each sweep.
    """
    gc.collect()
    gc.freeze()


def build_server(config: Config, engine: Engine | None = None) -> Service:
    """Open the store, rebuild the index and start serving; returns the running Service.

    Start-up failures (a port in use, an unusable data folder, settings that cannot work)
    raise StartupError with one line naming the cause; nothing is left running.
    """
    config.check()
    keyring = Keyring.from_config(config)
    owned = engine is None  # an engine we open here we also close if start-up fails
    if engine is None:
        if config.store == "sqlite":
            startup.data_file(config)  # the folder must be usable: one clear line if not
        engine = Engine(config, open_store(config), metrics=Metrics())
    server: grpc.Server | None = None
    try:
        server, port, health_servicer = _grpc_server(config, engine, keyring)
        http = HttpServer(build_app(config, engine, engine.metrics, keyring), config,
                          transport_rejected(engine.metrics))
    except BaseException:
        if server is not None:
            server.stop(0)
        if owned:
            engine.close()
        raise
    engine.metrics.bind_http_connections(http.open_connections)
    server.start()
    for name in ("", *SERVICE_NAMES):
        health_servicer.set(name, health_pb2.HealthCheckResponse.SERVING)
    startup.log_listening(config, port, http.port, engine.restored, keyring)
    return Service(config, engine, server, port, health_servicer, http)


def _grpc_server(config: Config, engine: Engine,
                 keyring: Keyring) -> tuple[grpc.Server, int, Any]:
    """The gRPC server with every service, health and reflection, bound (not started)."""
    interceptors: list[grpc.ServerInterceptor] = [MetricsInterceptor(engine.metrics),
                                                  LoggingInterceptor()]
    if not keyring.local:
        interceptors.append(AuthInterceptor(keyring))
    interceptors.append(ErrorInterceptor())
    server = grpc.server(
        futures.ThreadPoolExecutor(max_workers=config.workers, thread_name_prefix="grpc"),
        interceptors=interceptors,
        options=[("grpc.max_receive_message_length", config.max_message_bytes),
                 ("grpc.max_send_message_length", config.max_message_bytes),
                 ("grpc.so_reuseport", 0)],
    )
    pb_grpc.add_RunnerServicer_to_server(RunnerServicer(engine), server)  # type: ignore[no-untyped-call]
    pb_grpc.add_ExpressionsServicer_to_server(ExpressionsServicer(config), server)  # type: ignore[no-untyped-call]
    pb_grpc.add_CancellationsServicer_to_server(CancellationsServicer(engine), server)  # type: ignore[no-untyped-call]
    health_servicer = health.HealthServicer()
    health_pb2_grpc.add_HealthServicer_to_server(health_servicer, server)
    reflection.enable_server_reflection(
        (*SERVICE_NAMES, health.SERVICE_NAME, reflection.SERVICE_NAME), server)
    return server, startup.bind_grpc(server, config.host, config.grpc_port), health_servicer
