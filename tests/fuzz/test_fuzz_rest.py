"""Fuzz surfaces over HTTP against a real server, driven by the OpenAPI document.

- ``rest``: requests built from ``server/openapi.json`` by gen_schema (every operation,
  parameter and body schema the document declares), realistic then mutated;
- ``rest_schemathesis``: schemathesis generating positive and negative cases from the same
  document and checking every answer against it (status codes, content type, response
  schema), without its two data-acceptance checks: the document cannot say that
  ``started_before`` must be in the past, and the API ignores query parameters it does not
  declare (as Inngest does) where schemathesis' negative mode takes the declared set as
  closed. Negative cases are still sent and their answers checked like any other.

Property: no 5xx, every error body is the documented ``{"error", "status"}``, an answer
within the liveness bound, and the server healthy at the end.
"""

from __future__ import annotations

import http.client
import json
import random
import threading
import time

import gen_schema
import schemathesis
from fuzz_harness import SEED, inputs, run_inputs, surface
from fuzz_server import KEY, FuzzServer
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

AUTH = f"Bearer {KEY}"


class _Connections(threading.local):
    """One keep-alive connection per sending thread; every one is closed at the end."""

    conn: http.client.HTTPConnection | None = None
    opened: list[http.client.HTTPConnection] = []

    def connect(self, port: int) -> http.client.HTTPConnection:
        if self.conn is None:
            self.conn = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
            self.opened.append(self.conn)
        return self.conn

    def close_all(self) -> None:
        for conn in self.opened:
            conn.close()


def _send(srv: FuzzServer, local: _Connections, req: gen_schema.Request) -> tuple[str, str | None]:
    for attempt in (1, 2):  # the server may close a connection after an error answer
        conn = local.connect(srv.proc.http_port)
        try:
            conn.request(req.method, req.url, body=req.body, headers=req.headers)
            resp = conn.getresponse()
            body = resp.read()
            if resp.getheader("connection", "").lower() == "close":
                conn.close()
                local.conn = None
            return _judge(req, resp.status, body)
        except (ConnectionError, http.client.HTTPException, OSError) as exc:
            conn.close()
            local.conn = None
            if attempt == 2:
                return "no_answer", f"{req.method} {req.url[:80]}: {type(exc).__name__}: {exc}"
    raise AssertionError("unreachable")


def _judge(req: gen_schema.Request, status: int, body: bytes) -> tuple[str, str | None]:
    outcome = f"{req.method}:{status}"
    where = f"{req.method} {req.url[:80]} body {(req.body or b'')[:120]!r}"
    if status >= 500:
        return outcome, f"{where} -> {status} {body[:300]!r}"
    try:
        decoded = json.loads(body)
    except ValueError:
        return outcome, f"{where} -> {status} with a non-JSON body {body[:200]!r}"
    if status >= 400 and (not isinstance(decoded, dict) or decoded.get("status") != status
                          or not isinstance(decoded.get("error"), str)):
        return outcome, f"{where} -> {status} with an undocumented error body {body[:200]!r}"
    return outcome, None


def test_document_driven_requests(fuzz_server: FuzzServer) -> None:
    doc = gen_schema.load()
    ops = gen_schema.operations(doc)
    assert ops, "the OpenAPI document declares no operation"
    s, local = surface("rest"), _Connections()

    def make(rng: random.Random) -> gen_schema.Request:
        auth = AUTH if rng.random() > 0.03 else rng.choice(["", "Bearer x", "Basic " + KEY])
        return gen_schema.request(rng, doc, rng.choice(ops), auth)

    try:
        run_inputs(s, inputs(10_000), make, lambda req: _send(fuzz_server, local, req), workers=8)
    finally:
        local.close_all()
    fuzz_server.check_healthy(s)
    assert not s.failures, "\n".join(s.failures)


SCHEMATHESIS_EXAMPLES = 1000


def test_schemathesis_against_the_document(fuzz_server: FuzzServer) -> None:
    schema = schemathesis.openapi.from_dict(gen_schema.load())
    ops = [result.ok() for result in schema.get_all_operations()]
    s = surface("rest_schemathesis")
    base_url = f"http://127.0.0.1:{fuzz_server.proc.http_port}"
    modes = [schemathesis.GenerationMode.POSITIVE, schemathesis.GenerationMode.NEGATIVE]

    @settings(max_examples=inputs(SCHEMATHESIS_EXAMPLES), deadline=None, database=None,
              derandomize=SEED == 0, suppress_health_check=list(HealthCheck))
    @given(st.data())
    def check(data: st.DataObject) -> None:
        op = data.draw(st.sampled_from(ops))
        case = data.draw(op.as_strategy(generation_mode=data.draw(st.sampled_from(modes))))
        started = time.perf_counter()
        response = case.call(base_url=base_url, headers={"Authorization": AUTH}, timeout=30)
        s.seconds += time.perf_counter() - started
        s.record(f"{case.method}:{response.status_code}")
        case.validate_response(response, headers={"Authorization": AUTH}, excluded_checks=[
            schemathesis.checks.positive_data_acceptance,
            schemathesis.checks.negative_data_rejection])

    check()
    fuzz_server.check_healthy(s)
