"""Fuzz surfaces over gRPC against a real server: every cancelmatch.v1 method.

- ``grpc_expressions``: Validate / Explain / Evaluate with random and mutated CEL and JSON;
- ``grpc_runner``: Runner and Cancellations requests, nearly valid then mutated (runs
  registered, events matched, decisions acknowledged, bulk cancellations created);
- ``grpc_wire``: bytes that are often not a valid message, into every method.

Property: every request is answered (a status other than INTERNAL / UNKNOWN / UNAVAILABLE
/ DEADLINE_EXCEEDED) within the liveness bound, and the server ends each surface healthy.
"""

from __future__ import annotations

import random

import gen_proto
from fuzz_harness import inputs, run_inputs, surface
from fuzz_server import FuzzServer

EXPRESSIONS = [p for p in gen_proto.METHODS if "/cancelmatch.v1.Expressions/" in p]
RUNNER = [p for p in gen_proto.METHODS if "/cancelmatch.v1.Expressions/" not in p]
STREAMING = {p for p, m in gen_proto.METHODS.items() if m.server_streaming}


def _surface(srv: FuzzServer, name: str, paths: list[str], count: int, raw: bool) -> None:
    s = surface(name)

    def make(rng: random.Random) -> tuple[str, bytes, float]:
        # Streams hold a server thread until their deadline: keep them to a few percent.
        path = rng.choice(paths)
        while path in STREAMING and rng.random() < 0.9:
            path = rng.choice(paths)
        data = gen_proto.wire(rng, path) if raw else \
            gen_proto.request(rng, path).SerializeToString()
        return path, data, rng.random()

    def send(item: tuple[str, bytes, float]) -> tuple[str, str | None]:
        path, data, auth = item
        outcome, failure = srv.call(path, data, srv.auth(auth), path in STREAMING)
        if failure is not None:
            failure = f"{failure} (request {data[:200]!r}, {len(data)} bytes)"
        return f"{path.rsplit('/', 1)[1]}:{outcome}", failure

    run_inputs(s, inputs(count), make, send)
    srv.check_healthy(s)
    assert not s.failures, "\n".join(s.failures)


def test_expressions_survive_random_cel_and_json(fuzz_server: FuzzServer) -> None:
    _surface(fuzz_server, "grpc_expressions", EXPRESSIONS, 10_000, raw=False)


def test_runner_and_cancellations_survive_mutated_requests(fuzz_server: FuzzServer) -> None:
    _surface(fuzz_server, "grpc_runner", RUNNER, 10_000, raw=False)


def test_every_method_survives_invalid_wire_bytes(fuzz_server: FuzzServer) -> None:
    _surface(fuzz_server, "grpc_wire", list(gen_proto.METHODS), 10_000, raw=True)
