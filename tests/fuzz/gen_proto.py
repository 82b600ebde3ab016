"""Fuzz inputs: cancelmatch.v1 requests, nearly valid then mutated, and raw wire bytes.

Driven by the proto descriptors, so a new method or field is fuzzed without editing this
file: :func:`request` fills a message of any type with realistic values (a run with a
trigger and cancel rules that events of the fuzz run can match), then :func:`mutate`
replaces a few fields anywhere in it with hostile ones (extreme ints, unknown enums, text
a field must refuse, CEL and JSON from the other generators). :func:`wire` returns bytes
for the same methods that are often not a valid message at all.
"""

from __future__ import annotations

import json
import random
import time
from typing import Any

import gen_cel
import gen_json
from google.protobuf.descriptor import Descriptor, FieldDescriptor
from google.protobuf.message import Message

from server._proto import cancelmatch_pb2 as pb
from server._ulid import new_ulid

NOW = time.time_ns() // 1_000_000
ENVS = ["prod", "fuzz", "", "default", "a" * 64, "a" * 65, "bad/env", "é", " ", "prod\n"]
EVENT_NAMES = ["t/deleted", "t/created", "t/updated", "", "x" * 257, "é/ü", "a\x00b"]
INT64 = [0, 1, -1, NOW, NOW - 1000, NOW + 86_400_000, 2**63 - 1, -(2**63), 253_402_300_799_999,
         253_402_300_800_000, 2**53 + 1]
INT32 = [0, 1, -1, 2**31 - 1, -(2**31), 5, 6]
TIMEOUTS = ["", "30s", "1h30m", "2d", "1w", "1ms", "9" * 30 + "d", "1.5h", "-1s", "1d" * 40,
            "0001-01-01T00:00:00Z", "2030-01-01T00:00:00Z", "2000-01-01T00:00:00+01:00",
            "9999-12-31T23:59:59.999Z", "10000-01-01T00:00:00Z", "2024-13-45T99:99:99Z"]
TEXT = ["", "x", "x" * 257, "x" * 70_000, "\x00", "é", "😀", "a\tb", "💥" * 100, "null",
        "01HF7YAT005Y0CV97J0WQWCA05", "01hf7yat005y0cv97j0wqwca05", "ZZZZZZZZZZZZZZZZZZZZZZZZZZ"]
SERVICES = [pb.DESCRIPTOR.services_by_name[n] for n in ("Runner", "Expressions", "Cancellations")]
METHODS = {f"/{s.full_name}/{m.name}": m for s in SERVICES for m in s.methods}


def wire_safe(text: str) -> str:
    """protobuf strings are UTF-8: a lone surrogate cannot even be sent (the wire surface
    sends invalid UTF-8 as bytes instead)."""
    return text.encode("utf-8", "replace").decode("utf-8")


def _text_for(rng: random.Random, name: str) -> str:
    if name.endswith("_json"):
        return gen_json.text(rng)
    if name in ("expression", "match"):
        return gen_cel.text(rng) if name == "expression" else rng.choice(
            ["data.reminderId", "data.x", "data", "", "data.a.b.c", "data['x']", "1 +"])
    if name == "env":
        return rng.choice(ENVS)
    if name == "timeout":
        return rng.choice(TIMEOUTS)
    if name in ("event", "name", "event_name"):
        return rng.choice(EVENT_NAMES)
    if name.endswith("id") or name.endswith("ids"):
        return new_ulid(NOW) if rng.random() < 0.6 else rng.choice(TEXT)
    return rng.choice(TEXT)


def _scalar(rng: random.Random, f: FieldDescriptor, hostile: bool) -> Any:
    if f.type == FieldDescriptor.TYPE_STRING:
        return wire_safe(_text_for(rng, f.name) if hostile or rng.random() < 0.05 else
                         _good_text(rng, f.name))
    if f.type == FieldDescriptor.TYPE_BOOL:
        return rng.random() < 0.5
    if f.type == FieldDescriptor.TYPE_ENUM:
        values = [v.number for v in f.enum_type.values]
        return rng.choice(values + [99, -1]) if hostile else rng.choice(values)
    if f.type in (FieldDescriptor.TYPE_INT64, FieldDescriptor.TYPE_UINT64):
        if f.name == "started_after":
            return rng.choice(INT64) if hostile else NOW - 60_000
        return rng.choice(INT64) if hostile else rng.choice([NOW - 5000, NOW - 1, NOW - 30_000])
    return rng.choice(INT32)


def _good_text(rng: random.Random, name: str) -> str:
    good = {"env": "fuzz", "app_id": "app", "function_id": rng.choice(["fn", "fn2"]),
            "event": "t/deleted", "name": rng.choice(["t/deleted", "t/created"]),
            "match": "data.reminderId", "timeout": rng.choice(["", "1h"]),
            "expression": rng.choice(["", "async.data.n > 1", "event.data.reminderId != ''"]),
            "data_json": json.dumps({"reminderId": f"r{rng.randint(0, 9)}", "n": rng.randint(0, 3)}),
            "event_json": '{"data": {"n": 2}}', "async_json": '{"data": {"n": 2}}'}
    if name in good:
        return good[name]
    if name.endswith("id"):
        return new_ulid(NOW - 5000)
    return "x"


def fill(rng: random.Random, msg: Message, depth: int = 0) -> Message:
    """Give every field of ``msg`` a realistic value (repeated: 0-3 items)."""
    desc: Descriptor = msg.DESCRIPTOR
    for f in desc.fields:
        if f.message_type is not None:
            if f.is_repeated:
                for _ in range(rng.randint(1, 3) if depth < 3 else 0):
                    fill(rng, getattr(msg, f.name).add(), depth + 1)
            elif depth < 3:
                fill(rng, getattr(msg, f.name), depth + 1)
        elif f.is_repeated:
            getattr(msg, f.name).extend(_scalar(rng, f, False) for _ in range(rng.randint(0, 3)))
        else:
            setattr(msg, f.name, _scalar(rng, f, False))
    return msg


def _fields(msg: Message, path: str = "") -> list[tuple[Message, FieldDescriptor, str]]:
    out = []
    for f in msg.DESCRIPTOR.fields:
        out.append((msg, f, f"{path}{f.name}"))
        if f.message_type is not None:
            children = getattr(msg, f.name) if f.is_repeated else [getattr(msg, f.name)]
            for i, child in enumerate(children):
                out += _fields(child, f"{path}{f.name}[{i}].")
    return out


def mutate(rng: random.Random, msg: Message) -> Message:
    """Replace 1-3 fields anywhere in ``msg`` with hostile values."""
    for _ in range(rng.randint(1, 3)):
        holder, f, _ = rng.choice(_fields(msg))
        if f.message_type is not None:
            if f.is_repeated:  # an empty list, a long one, or one over its limit
                target = getattr(holder, f.name)
                if rng.random() < 0.5:
                    del target[:]
                else:
                    item = target[0] if len(target) else fill(rng, target.add())
                    for _ in range(6 if rng.random() < 0.9 else 1001):  # just past a limit
                        target.add().CopyFrom(item)
            else:
                holder.ClearField(f.name)
        elif f.is_repeated:
            count = rng.choice([1, 5]) if rng.random() < 0.95 else 10_001
            getattr(holder, f.name).extend([_scalar(rng, f, True)] * count)
        else:
            setattr(holder, f.name, _scalar(rng, f, True))
    return msg


def request(rng: random.Random, path: str) -> Message:
    """A request for ``path`` (e.g. /cancelmatch.v1.Runner/RegisterRun): realistic, and
    mutated three times out of four."""
    msg = fill(rng, getattr(pb, METHODS[path].input_type.name)())
    return mutate(rng, msg) if rng.random() < 0.75 else msg


def wire(rng: random.Random, path: str) -> bytes:
    """Bytes for ``path``: a real request with bytes flipped, cut, repeated or invalid UTF-8
    spliced into a string, or plain noise."""
    data = bytearray(request(rng, path).SerializeToString())
    roll = rng.random()
    if roll < 0.1 or not data:
        return bytes(rng.getrandbits(8) for _ in range(rng.randint(0, 64)))
    for _ in range(rng.randint(1, 4)):
        i = rng.randrange(len(data) + 1)
        op = rng.randrange(5)
        if op == 0 and i < len(data):
            data[i] ^= 1 << rng.randrange(8)
        elif op == 1:
            del data[i:]
        elif op == 2:
            data[i:i] = rng.choice([b"\xed\xa0\x80", b"\xc3\x28", b"\xff", b"\xf4\x90\x80\x80"])
        elif op == 3:
            data[i:i] = bytes(data[i:i + 6]) * rng.randint(2, 20)
        else:  # a string field whose length runs past the end, or an unknown field
            data[i:i] = rng.choice([b"\x0a\xff\xff\xff\x0f", b"\x12\x05ab", b"\xf8\xff\xff\x01\x01",
                                    b"\x0a\x03\xed\xa0\x80"])
    return bytes(data)
