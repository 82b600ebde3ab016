"""cancelmatch's matcher: CEL parser, compiler, normalization and listener index.

Pure Python, no grpc. The stable surface is ``__all__``; everything else is private.
"""

from ._caches import cache_sizes
from ._compile import compile
from ._errors import CompileError, EvalError, EvaluationAborted, MatcherError
from ._explain import explain
from ._index import ListenerIndex
from ._limits import Limits
from ._listener import AddResult, Match
from ._program import Program
from ._rules import budget_warning, cancel_expression, compile_rule
from ._values import CelType, Duration, Timestamp, UInt, cel_type_name, from_python, loads_json

__all__ = [
    "AddResult",
    "CelType",
    "CompileError",
    "Duration",
    "EvalError",
    "EvaluationAborted",
    "Limits",
    "ListenerIndex",
    "Match",
    "MatcherError",
    "Program",
    "Timestamp",
    "UInt",
    "budget_warning",
    "cache_sizes",
    "cancel_expression",
    "cel_type_name",
    "compile",
    "compile_rule",
    "explain",
    "from_python",
    "loads_json",
]
