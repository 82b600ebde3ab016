"""Error table: every ServiceError subclass has its own gRPC and HTTP status."""

from __future__ import annotations

import grpc
import pytest

from server import errors


def _all_subclasses(cls: type) -> set[type]:
    out = set()
    for sub in cls.__subclasses__():
        out |= {sub} | _all_subclasses(sub)
    return out


def test_every_service_error_is_mapped() -> None:
    classes = _all_subclasses(errors.ServiceError) | {errors.ServiceError}
    assert classes <= set(errors.STATUS), sorted(c.__name__ for c in classes - set(errors.STATUS))


def test_every_error_class_in_the_module_is_a_service_error() -> None:
    public = [v for v in vars(errors).values() if isinstance(v, type)
              and issubclass(v, Exception) and v.__module__ == errors.__name__]
    assert set(public) == set(errors.STATUS)


@pytest.mark.parametrize(("error", "grpc_code", "http"), [
    (errors.TooManyRules(5), grpc.StatusCode.INVALID_ARGUMENT, 400),
    (errors.FunctionNotFound("a", "f"), grpc.StatusCode.NOT_FOUND, 404),
    (errors.PayloadTooLarge("x"), grpc.StatusCode.RESOURCE_EXHAUSTED, 413),
    (errors.Unauthenticated("x"), grpc.StatusCode.UNAUTHENTICATED, 401),
    (errors.Conflict("x"), grpc.StatusCode.ALREADY_EXISTS, 409),
])
def test_status_for(error: errors.ServiceError, grpc_code: grpc.StatusCode, http: int) -> None:
    assert errors.status_for(error) == (grpc_code, http)
