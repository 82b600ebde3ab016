from google.protobuf.internal import containers as _containers
from google.protobuf.internal import enum_type_wrapper as _enum_type_wrapper
from google.protobuf import descriptor as _descriptor
from google.protobuf import message as _message
from collections.abc import Iterable as _Iterable, Mapping as _Mapping
from typing import ClassVar as _ClassVar, Optional as _Optional, Union as _Union

DESCRIPTOR: _descriptor.FileDescriptor

class Cause(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    CAUSE_UNSPECIFIED: _ClassVar[Cause]
    CAUSE_EVENT: _ClassVar[Cause]
    CAUSE_BULK: _ClassVar[Cause]

class RunStatus(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    RUN_STATUS_UNSPECIFIED: _ClassVar[RunStatus]
    RUN_STATUS_REGISTERED: _ClassVar[RunStatus]
    RUN_STATUS_ALREADY_REGISTERED: _ClassVar[RunStatus]
    RUN_STATUS_CANCELLED: _ClassVar[RunStatus]
    RUN_STATUS_FINISHED: _ClassVar[RunStatus]

class Usage(int, metaclass=_enum_type_wrapper.EnumTypeWrapper):
    __slots__ = ()
    USAGE_UNSPECIFIED: _ClassVar[Usage]
    USAGE_CANCEL_IF: _ClassVar[Usage]
    USAGE_MATCH: _ClassVar[Usage]
    USAGE_BULK_IF: _ClassVar[Usage]
CAUSE_UNSPECIFIED: Cause
CAUSE_EVENT: Cause
CAUSE_BULK: Cause
RUN_STATUS_UNSPECIFIED: RunStatus
RUN_STATUS_REGISTERED: RunStatus
RUN_STATUS_ALREADY_REGISTERED: RunStatus
RUN_STATUS_CANCELLED: RunStatus
RUN_STATUS_FINISHED: RunStatus
USAGE_UNSPECIFIED: Usage
USAGE_CANCEL_IF: Usage
USAGE_MATCH: Usage
USAGE_BULK_IF: Usage

class Event(_message.Message):
    __slots__ = ("id", "name", "ts", "data_json")
    ID_FIELD_NUMBER: _ClassVar[int]
    NAME_FIELD_NUMBER: _ClassVar[int]
    TS_FIELD_NUMBER: _ClassVar[int]
    DATA_JSON_FIELD_NUMBER: _ClassVar[int]
    id: str
    name: str
    ts: int
    data_json: str
    def __init__(self, id: _Optional[str] = ..., name: _Optional[str] = ..., ts: _Optional[int] = ..., data_json: _Optional[str] = ...) -> None: ...

class CancelRule(_message.Message):
    __slots__ = ("event", "match", "expression", "timeout")
    EVENT_FIELD_NUMBER: _ClassVar[int]
    MATCH_FIELD_NUMBER: _ClassVar[int]
    EXPRESSION_FIELD_NUMBER: _ClassVar[int]
    TIMEOUT_FIELD_NUMBER: _ClassVar[int]
    event: str
    match: str
    expression: str
    timeout: str
    def __init__(self, event: _Optional[str] = ..., match: _Optional[str] = ..., expression: _Optional[str] = ..., timeout: _Optional[str] = ...) -> None: ...

class Decision(_message.Message):
    __slots__ = ("decision_id", "env", "run_id", "app_id", "function_id", "cause", "rule_index", "event_id", "event_name", "cancellation_id", "decided_at", "function_cancelled_event_json")
    DECISION_ID_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_ID_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    RULE_INDEX_FIELD_NUMBER: _ClassVar[int]
    EVENT_ID_FIELD_NUMBER: _ClassVar[int]
    EVENT_NAME_FIELD_NUMBER: _ClassVar[int]
    CANCELLATION_ID_FIELD_NUMBER: _ClassVar[int]
    DECIDED_AT_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_CANCELLED_EVENT_JSON_FIELD_NUMBER: _ClassVar[int]
    decision_id: str
    env: str
    run_id: str
    app_id: str
    function_id: str
    cause: Cause
    rule_index: int
    event_id: str
    event_name: str
    cancellation_id: str
    decided_at: int
    function_cancelled_event_json: str
    def __init__(self, decision_id: _Optional[str] = ..., env: _Optional[str] = ..., run_id: _Optional[str] = ..., app_id: _Optional[str] = ..., function_id: _Optional[str] = ..., cause: _Optional[_Union[Cause, str]] = ..., rule_index: _Optional[int] = ..., event_id: _Optional[str] = ..., event_name: _Optional[str] = ..., cancellation_id: _Optional[str] = ..., decided_at: _Optional[int] = ..., function_cancelled_event_json: _Optional[str] = ...) -> None: ...

class RegisterRunRequest(_message.Message):
    __slots__ = ("env", "app_id", "function_id", "run_id", "run_started_at", "trigger", "cancel_on")
    ENV_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    RUN_STARTED_AT_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    CANCEL_ON_FIELD_NUMBER: _ClassVar[int]
    env: str
    app_id: str
    function_id: str
    run_id: str
    run_started_at: int
    trigger: Event
    cancel_on: _containers.RepeatedCompositeFieldContainer[CancelRule]
    def __init__(self, env: _Optional[str] = ..., app_id: _Optional[str] = ..., function_id: _Optional[str] = ..., run_id: _Optional[str] = ..., run_started_at: _Optional[int] = ..., trigger: _Optional[_Union[Event, _Mapping]] = ..., cancel_on: _Optional[_Iterable[_Union[CancelRule, _Mapping]]] = ...) -> None: ...

class Listener(_message.Message):
    __slots__ = ("listener_id", "rule_index", "event", "status", "reason", "residual", "expires_at")
    LISTENER_ID_FIELD_NUMBER: _ClassVar[int]
    RULE_INDEX_FIELD_NUMBER: _ClassVar[int]
    EVENT_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    RESIDUAL_FIELD_NUMBER: _ClassVar[int]
    EXPIRES_AT_FIELD_NUMBER: _ClassVar[int]
    listener_id: str
    rule_index: int
    event: str
    status: str
    reason: str
    residual: str
    expires_at: int
    def __init__(self, listener_id: _Optional[str] = ..., rule_index: _Optional[int] = ..., event: _Optional[str] = ..., status: _Optional[str] = ..., reason: _Optional[str] = ..., residual: _Optional[str] = ..., expires_at: _Optional[int] = ...) -> None: ...

class RegisterRunResponse(_message.Message):
    __slots__ = ("run_id", "status", "listeners", "warnings", "decision")
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    LISTENERS_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    DECISION_FIELD_NUMBER: _ClassVar[int]
    run_id: str
    status: RunStatus
    listeners: _containers.RepeatedCompositeFieldContainer[Listener]
    warnings: _containers.RepeatedScalarFieldContainer[str]
    decision: Decision
    def __init__(self, run_id: _Optional[str] = ..., status: _Optional[_Union[RunStatus, str]] = ..., listeners: _Optional[_Iterable[_Union[Listener, _Mapping]]] = ..., warnings: _Optional[_Iterable[str]] = ..., decision: _Optional[_Union[Decision, _Mapping]] = ...) -> None: ...

class RegisterRunsRequest(_message.Message):
    __slots__ = ("runs",)
    RUNS_FIELD_NUMBER: _ClassVar[int]
    runs: _containers.RepeatedCompositeFieldContainer[RegisterRunRequest]
    def __init__(self, runs: _Optional[_Iterable[_Union[RegisterRunRequest, _Mapping]]] = ...) -> None: ...

class RegisterRunsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[RegisterRunResponse]
    def __init__(self, results: _Optional[_Iterable[_Union[RegisterRunResponse, _Mapping]]] = ...) -> None: ...

class FinishRunRequest(_message.Message):
    __slots__ = ("env", "run_id")
    ENV_FIELD_NUMBER: _ClassVar[int]
    RUN_ID_FIELD_NUMBER: _ClassVar[int]
    env: str
    run_id: str
    def __init__(self, env: _Optional[str] = ..., run_id: _Optional[str] = ...) -> None: ...

class FinishRunResponse(_message.Message):
    __slots__ = ("found", "listeners_removed")
    FOUND_FIELD_NUMBER: _ClassVar[int]
    LISTENERS_REMOVED_FIELD_NUMBER: _ClassVar[int]
    found: bool
    listeners_removed: int
    def __init__(self, found: _Optional[bool] = ..., listeners_removed: _Optional[int] = ...) -> None: ...

class PublishEventsRequest(_message.Message):
    __slots__ = ("env", "events")
    ENV_FIELD_NUMBER: _ClassVar[int]
    EVENTS_FIELD_NUMBER: _ClassVar[int]
    env: str
    events: _containers.RepeatedCompositeFieldContainer[Event]
    def __init__(self, env: _Optional[str] = ..., events: _Optional[_Iterable[_Union[Event, _Mapping]]] = ...) -> None: ...

class PublishEventsResponse(_message.Message):
    __slots__ = ("event_ids", "decisions")
    EVENT_IDS_FIELD_NUMBER: _ClassVar[int]
    DECISIONS_FIELD_NUMBER: _ClassVar[int]
    event_ids: _containers.RepeatedScalarFieldContainer[str]
    decisions: _containers.RepeatedCompositeFieldContainer[Decision]
    def __init__(self, event_ids: _Optional[_Iterable[str]] = ..., decisions: _Optional[_Iterable[_Union[Decision, _Mapping]]] = ...) -> None: ...

class WatchDecisionsRequest(_message.Message):
    __slots__ = ("env",)
    ENV_FIELD_NUMBER: _ClassVar[int]
    env: str
    def __init__(self, env: _Optional[str] = ...) -> None: ...

class AckDecisionsRequest(_message.Message):
    __slots__ = ("env", "decision_ids")
    ENV_FIELD_NUMBER: _ClassVar[int]
    DECISION_IDS_FIELD_NUMBER: _ClassVar[int]
    env: str
    decision_ids: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, env: _Optional[str] = ..., decision_ids: _Optional[_Iterable[str]] = ...) -> None: ...

class AckDecisionsResponse(_message.Message):
    __slots__ = ("acked",)
    ACKED_FIELD_NUMBER: _ClassVar[int]
    acked: int
    def __init__(self, acked: _Optional[int] = ...) -> None: ...

class FunctionConfig(_message.Message):
    __slots__ = ("function_id", "cancel_on")
    FUNCTION_ID_FIELD_NUMBER: _ClassVar[int]
    CANCEL_ON_FIELD_NUMBER: _ClassVar[int]
    function_id: str
    cancel_on: _containers.RepeatedCompositeFieldContainer[CancelRule]
    def __init__(self, function_id: _Optional[str] = ..., cancel_on: _Optional[_Iterable[_Union[CancelRule, _Mapping]]] = ...) -> None: ...

class SyncFunctionsRequest(_message.Message):
    __slots__ = ("env", "app_id", "functions")
    ENV_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    FUNCTIONS_FIELD_NUMBER: _ClassVar[int]
    env: str
    app_id: str
    functions: _containers.RepeatedCompositeFieldContainer[FunctionConfig]
    def __init__(self, env: _Optional[str] = ..., app_id: _Optional[str] = ..., functions: _Optional[_Iterable[_Union[FunctionConfig, _Mapping]]] = ...) -> None: ...

class FunctionSyncResult(_message.Message):
    __slots__ = ("function_id", "ok", "errors", "warnings")
    FUNCTION_ID_FIELD_NUMBER: _ClassVar[int]
    OK_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    function_id: str
    ok: bool
    errors: _containers.RepeatedScalarFieldContainer[str]
    warnings: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, function_id: _Optional[str] = ..., ok: _Optional[bool] = ..., errors: _Optional[_Iterable[str]] = ..., warnings: _Optional[_Iterable[str]] = ...) -> None: ...

class SyncFunctionsResponse(_message.Message):
    __slots__ = ("results",)
    RESULTS_FIELD_NUMBER: _ClassVar[int]
    results: _containers.RepeatedCompositeFieldContainer[FunctionSyncResult]
    def __init__(self, results: _Optional[_Iterable[_Union[FunctionSyncResult, _Mapping]]] = ...) -> None: ...

class ExpressionError(_message.Message):
    __slots__ = ("message", "line", "column", "offset", "rendered")
    MESSAGE_FIELD_NUMBER: _ClassVar[int]
    LINE_FIELD_NUMBER: _ClassVar[int]
    COLUMN_FIELD_NUMBER: _ClassVar[int]
    OFFSET_FIELD_NUMBER: _ClassVar[int]
    RENDERED_FIELD_NUMBER: _ClassVar[int]
    message: str
    line: int
    column: int
    offset: int
    rendered: str
    def __init__(self, message: _Optional[str] = ..., line: _Optional[int] = ..., column: _Optional[int] = ..., offset: _Optional[int] = ..., rendered: _Optional[str] = ...) -> None: ...

class ValidateRequest(_message.Message):
    __slots__ = ("expression", "usage")
    EXPRESSION_FIELD_NUMBER: _ClassVar[int]
    USAGE_FIELD_NUMBER: _ClassVar[int]
    expression: str
    usage: Usage
    def __init__(self, expression: _Optional[str] = ..., usage: _Optional[_Union[Usage, str]] = ...) -> None: ...

class ValidateResponse(_message.Message):
    __slots__ = ("valid", "errors", "warnings", "paths")
    VALID_FIELD_NUMBER: _ClassVar[int]
    ERRORS_FIELD_NUMBER: _ClassVar[int]
    WARNINGS_FIELD_NUMBER: _ClassVar[int]
    PATHS_FIELD_NUMBER: _ClassVar[int]
    valid: bool
    errors: _containers.RepeatedCompositeFieldContainer[ExpressionError]
    warnings: _containers.RepeatedScalarFieldContainer[str]
    paths: _containers.RepeatedScalarFieldContainer[str]
    def __init__(self, valid: _Optional[bool] = ..., errors: _Optional[_Iterable[_Union[ExpressionError, _Mapping]]] = ..., warnings: _Optional[_Iterable[str]] = ..., paths: _Optional[_Iterable[str]] = ...) -> None: ...

class ExplainRequest(_message.Message):
    __slots__ = ("rule", "trigger")
    RULE_FIELD_NUMBER: _ClassVar[int]
    TRIGGER_FIELD_NUMBER: _ClassVar[int]
    rule: CancelRule
    trigger: Event
    def __init__(self, rule: _Optional[_Union[CancelRule, _Mapping]] = ..., trigger: _Optional[_Union[Event, _Mapping]] = ...) -> None: ...

class ExplainResponse(_message.Message):
    __slots__ = ("expression", "residual", "status", "reason", "access", "explain_json")
    EXPRESSION_FIELD_NUMBER: _ClassVar[int]
    RESIDUAL_FIELD_NUMBER: _ClassVar[int]
    STATUS_FIELD_NUMBER: _ClassVar[int]
    REASON_FIELD_NUMBER: _ClassVar[int]
    ACCESS_FIELD_NUMBER: _ClassVar[int]
    EXPLAIN_JSON_FIELD_NUMBER: _ClassVar[int]
    expression: str
    residual: str
    status: str
    reason: str
    access: _containers.RepeatedScalarFieldContainer[str]
    explain_json: str
    def __init__(self, expression: _Optional[str] = ..., residual: _Optional[str] = ..., status: _Optional[str] = ..., reason: _Optional[str] = ..., access: _Optional[_Iterable[str]] = ..., explain_json: _Optional[str] = ...) -> None: ...

class EvaluateRequest(_message.Message):
    __slots__ = ("expression", "event_json", "async_json")
    EXPRESSION_FIELD_NUMBER: _ClassVar[int]
    EVENT_JSON_FIELD_NUMBER: _ClassVar[int]
    ASYNC_JSON_FIELD_NUMBER: _ClassVar[int]
    expression: str
    event_json: str
    async_json: str
    def __init__(self, expression: _Optional[str] = ..., event_json: _Optional[str] = ..., async_json: _Optional[str] = ...) -> None: ...

class EvaluateResponse(_message.Message):
    __slots__ = ("result_json", "type", "error")
    RESULT_JSON_FIELD_NUMBER: _ClassVar[int]
    TYPE_FIELD_NUMBER: _ClassVar[int]
    ERROR_FIELD_NUMBER: _ClassVar[int]
    result_json: str
    type: str
    error: str
    def __init__(self, result_json: _Optional[str] = ..., type: _Optional[str] = ..., error: _Optional[str] = ...) -> None: ...

class Cancellation(_message.Message):
    __slots__ = ("id", "env", "app_id", "function_id", "started_after", "started_before", "expression", "created_at", "kind", "cause", "runs_cancelled")
    ID_FIELD_NUMBER: _ClassVar[int]
    ENV_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_AFTER_FIELD_NUMBER: _ClassVar[int]
    STARTED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    EXPRESSION_FIELD_NUMBER: _ClassVar[int]
    CREATED_AT_FIELD_NUMBER: _ClassVar[int]
    KIND_FIELD_NUMBER: _ClassVar[int]
    CAUSE_FIELD_NUMBER: _ClassVar[int]
    RUNS_CANCELLED_FIELD_NUMBER: _ClassVar[int]
    id: str
    env: str
    app_id: str
    function_id: str
    started_after: int
    started_before: int
    expression: str
    created_at: int
    kind: str
    cause: str
    runs_cancelled: int
    def __init__(self, id: _Optional[str] = ..., env: _Optional[str] = ..., app_id: _Optional[str] = ..., function_id: _Optional[str] = ..., started_after: _Optional[int] = ..., started_before: _Optional[int] = ..., expression: _Optional[str] = ..., created_at: _Optional[int] = ..., kind: _Optional[str] = ..., cause: _Optional[str] = ..., runs_cancelled: _Optional[int] = ...) -> None: ...

class CreateCancellationRequest(_message.Message):
    __slots__ = ("env", "app_id", "function_id", "started_after", "started_before", "expression")
    ENV_FIELD_NUMBER: _ClassVar[int]
    APP_ID_FIELD_NUMBER: _ClassVar[int]
    FUNCTION_ID_FIELD_NUMBER: _ClassVar[int]
    STARTED_AFTER_FIELD_NUMBER: _ClassVar[int]
    STARTED_BEFORE_FIELD_NUMBER: _ClassVar[int]
    EXPRESSION_FIELD_NUMBER: _ClassVar[int]
    env: str
    app_id: str
    function_id: str
    started_after: int
    started_before: int
    expression: str
    def __init__(self, env: _Optional[str] = ..., app_id: _Optional[str] = ..., function_id: _Optional[str] = ..., started_after: _Optional[int] = ..., started_before: _Optional[int] = ..., expression: _Optional[str] = ...) -> None: ...

class ListCancellationsRequest(_message.Message):
    __slots__ = ("env",)
    ENV_FIELD_NUMBER: _ClassVar[int]
    env: str
    def __init__(self, env: _Optional[str] = ...) -> None: ...

class ListCancellationsResponse(_message.Message):
    __slots__ = ("cancellations",)
    CANCELLATIONS_FIELD_NUMBER: _ClassVar[int]
    cancellations: _containers.RepeatedCompositeFieldContainer[Cancellation]
    def __init__(self, cancellations: _Optional[_Iterable[_Union[Cancellation, _Mapping]]] = ...) -> None: ...

class DeleteCancellationRequest(_message.Message):
    __slots__ = ("env", "id")
    ENV_FIELD_NUMBER: _ClassVar[int]
    ID_FIELD_NUMBER: _ClassVar[int]
    env: str
    id: str
    def __init__(self, env: _Optional[str] = ..., id: _Optional[str] = ...) -> None: ...

class DeleteCancellationResponse(_message.Message):
    __slots__ = ()
    def __init__(self) -> None: ...
