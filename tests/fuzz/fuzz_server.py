"""The fuzzed server: a real ``cancelmatch serve`` process, a raw gRPC caller that sorts
every answer into expected / failure, and the end-of-surface health check."""

from __future__ import annotations

import json
import time
from pathlib import Path
from typing import Any

import grpc
import psutil
from fuzz_harness import RSS_LIMIT_BYTES, Surface
from grpc_health.v1 import health_pb2, health_pb2_grpc
from server_support import ServerProcess

from server._proto import cancelmatch_pb2 as pb
from server._proto import cancelmatch_pb2_grpc as pb_grpc
from server._ulid import new_ulid

KEY = "signkey-prod-" + "5e" * 32
# Statuses that mean the server broke, hung or lost the request: never acceptable.
BROKEN = {grpc.StatusCode.INTERNAL, grpc.StatusCode.UNKNOWN, grpc.StatusCode.DATA_LOSS,
          grpc.StatusCode.UNAVAILABLE, grpc.StatusCode.UNIMPLEMENTED,
          grpc.StatusCode.DEADLINE_EXCEEDED}
UNARY_DEADLINE_S = 30.0
STREAM_READ_S = 0.3


class FuzzServer:
    def __init__(self, data_dir: Path) -> None:
        self.proc = ServerProcess(data_dir, "--sqlite-synchronous", "NORMAL",
                                  "--signing-key", KEY, "--sweep-interval", "5").start()
        self.channel = grpc.insecure_channel(self.proc.target, options=[
            ("grpc.max_send_message_length", 64 * 1024 * 1024)])
        self.metadata = (("authorization", f"Bearer {KEY}"),)
        self.checks = 0

    def close(self) -> None:
        self.channel.close()
        self.proc.terminate()

    def auth(self, roll: float) -> tuple[tuple[str, str], ...]:
        """Mostly the key; sometimes none or a wrong one (those must be UNAUTHENTICATED)."""
        if roll < 0.02:
            return ()
        if roll < 0.03:
            return (("authorization", f"Bearer {KEY[:-1]}0"),)
        return self.metadata

    def call(self, path: str, data: bytes, metadata: Any, streaming: bool) -> tuple[str, str | None]:
        """Send raw request bytes; (outcome, failure or None)."""
        try:
            if streaming:
                stream = self.channel.unary_stream(path)(data, timeout=STREAM_READ_S,
                                                         metadata=metadata)
                for _ in stream:
                    pass
            else:
                self.channel.unary_unary(path)(data, timeout=UNARY_DEADLINE_S, metadata=metadata)
            return "OK", None
        except grpc.RpcError as err:
            code = err.code()
            if streaming and code == grpc.StatusCode.DEADLINE_EXCEEDED:
                return "STREAM_OPEN", None  # a live stream: it was answered and held open
            if code in BROKEN:
                return code.name, f"{path} -> {code.name}: {err.details()}"
            return code.name, None

    def check_healthy(self, s: Surface) -> None:
        """Health SERVING, a known-good registration and match, bounded RSS, and no
        internal error in the log: the process survived the surface intact."""
        self.checks += 1
        health = health_pb2_grpc.HealthStub(self.channel)
        status = health.Check(health_pb2.HealthCheckRequest(), timeout=UNARY_DEADLINE_S).status
        assert status == health_pb2.HealthCheckResponse.SERVING, f"{s.name}: health {status}"
        runner = pb_grpc.RunnerStub(self.channel)  # type: ignore[no-untyped-call]
        env, key = f"check-{self.checks}", f"k{time.time_ns()}"
        now = time.time_ns() // 1_000_000
        run = pb.RegisterRunRequest(
            env=env, app_id="app", function_id="fn", run_id=new_ulid(now), run_started_at=now,
            trigger=pb.Event(name="t/created", data_json=json.dumps({"id": key})),
            cancel_on=[pb.CancelRule(event="t/deleted", match="data.id")])
        runner.RegisterRun(run, timeout=UNARY_DEADLINE_S, metadata=self.metadata)
        resp = runner.PublishEvents(pb.PublishEventsRequest(env=env, events=[pb.Event(
            name="t/deleted", data_json=json.dumps({"id": key}))]), timeout=UNARY_DEADLINE_S,
            metadata=self.metadata)
        assert [d.run_id for d in resp.decisions] == [run.run_id], f"{s.name}: no decision"
        assert self.proc.proc is not None
        rss = psutil.Process(self.proc.proc.pid).memory_info().rss
        s.notes["server_rss_mib"] = rss // 2**20
        assert rss < RSS_LIMIT_BYTES, f"{s.name}: server RSS {rss / 2**20:.0f} MiB"
        internal = [e for e in self.proc.log_lines() if "internal error" in str(e.get("msg"))]
        assert not internal, f"{s.name}: {internal[:3]}"
