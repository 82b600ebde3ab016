"""cancelmatch's matcher: CEL parser, compiler, normalization and listener index.

Pure Python, no grpc. The stable surface is ``__all__``; everything else is private.
"""

from ._errors import CompileError, EvalError, MatcherError
from ._limits import Limits
from ._program import Program, compile
from ._values import CelType, Duration, Timestamp, UInt, cel_type_name, from_python, loads_json

__all__ = [
    "CelType",
    "CompileError",
    "Duration",
    "EvalError",
    "Limits",
    "MatcherError",
    "Program",
    "Timestamp",
    "UInt",
    "cel_type_name",
    "compile",
    "from_python",
    "loads_json",
]
