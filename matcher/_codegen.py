"""Generate: lower a checked AST to Python source, one function per expression.

Like Jinja's CodeGenerator: one small ``visit_<Node>`` method per node type, emitting
statements into the current function and returning a Python expression for the node's
value. Literal values are never written into the source: each becomes a parameter of the
``_make`` factory, so every expression of the same *shape* (same source but for literal
values) shares one code object and a million interpolated listeners cost one compile().

CEL errors are Python exceptions here (EvalError, or KeyError/TypeError from a plain
subscript, which is exact for maps: see ``visit_Select``). Logical operators catch them
and treat them as values (CEL spec "Logical Operators": ``&&``/``||`` are commutative
and absorb errors); everything else lets them propagate. A trigger value that was an
error (``Literal(Slot(i, ErrorValue))``) is such an error wherever it stands: reading it
raises.

Cost accounting (see ``_cost``) is emitted only where work grows with data: macro loops,
``+`` that may build a string, bytes or list, ``in`` over a list that is not a literal,
and ``==`` between two non-literal operands when they turn out to be lists or maps.
``_eval(act, budget=None)`` starts a budget of ``MAX_COST`` units when it first needs one
(up front in programs with loops); a caller may pass its own to share one between programs.
"""

from __future__ import annotations

from typing import Any

from . import _ast as A
from ._comprehension import lower_comprehension
from ._functions import FUNCTIONS
from ._values import TYPES, UInt

# Exceptions that count as CEL errors inside generated code. KeyError and TypeError come
# from plain subscripts (a missing key, a non-map operand); the rest from helpers.
CEL_ERRORS = (Exception,)
# Generated code re-raises matcher._program.EvaluationAborted (bound as ABORT) before
# catching CEL_ERRORS: a spent budget is not an error value that || may absorb.

_NUMERIC_LITERAL = (int, float, UInt)
_BUDGET = "(budget := budget or [MAX_COST, MAX_COST])"
"""The budget at a place that charges by size outside any loop: created when first needed,
so a program reaching none of them (most rules) never allocates one. Loops and hoisted
functions create it up front (``uses_budget``) and this just passes it on."""
_SIZED_TYPES = (str, bytes, list, A.ErrorValue)  # ErrorValue: unknown, so not provably unsized
_SIZED_RESULTS = frozenset({"string", "bytes", "dyn"})
_CMP_NAME = {"<": "lt", "<=": "le", ">": "gt", ">=": "ge"}
_ARITH_NAME = {"+": "add", "-": "sub", "*": "mul", "/": "div", "%": "mod"}


class _Function:
    """One generated Python function: its header, lines and nesting bookkeeping."""

    def __init__(self, header: str) -> None:
        self.lines = [header]
        self.indent = 1
        self.blocks = 0  # enclosing try/for blocks (Python allows at most 20)

    def emit(self, line: str) -> None:
        self.lines.append("    " * self.indent + line)


class CodeGenerator:
    """AST → Python source for ``_make(c0, c1, ...)`` returning ``_eval(act)``."""

    MAX_BLOCKS = 8
    """try/for nesting inside one function before a sub-expression is hoisted into a
    function of its own: keeps far below CPython's limit of 20 static blocks and 100
    indentation levels, whatever the expression's nesting."""

    def __init__(self, variables: frozenset[str], precompile: bool = True) -> None:
        self.variables = variables
        self.precompile = precompile  # constant regexes compiled in _make (checked programs)
        self.consts: list[Any] = []
        self.const_pos: list[int] = []  # source offset of the literal behind each const
        self.prepared: list[str] = []  # lines run once in _make (frozensets of constants)
        self.functions: list[_Function] = []
        self.fn = _Function("def _eval(act, budget=None):")
        self.scope: dict[str, str] = {}  # CEL comprehension variable → Python local
        self.counter = 0
        self.uses_budget = False  # a loop or a hoisted function: the budget exists up front
        self.loops = 0  # macro loops around the code being generated
        self.main = self.fn

    # -- plumbing ---------------------------------------------------------------------

    def generate(self, node: A.Expr) -> str:
        """Return the module source; ``self.consts`` holds the literal values in order."""
        main = self.fn
        result = self.visit(node)
        main.emit(f"return {result}")
        if self.uses_budget:
            main.lines.insert(1, "    if budget is None: budget = [MAX_COST, MAX_COST]")
        params = ", ".join(f"c{i}" for i in range(len(self.consts)))
        out = [f"def _make({params}):"]
        out += ["    " + line for line in self.prepared]
        for fn in self.functions + [main]:
            out += ["    " + line for line in fn.lines]
        out.append("    return _eval")
        return "\n".join(out) + "\n"

    def budget(self) -> str:
        """The budget where a place charges by size: inside a loop or a hoisted function it
        was created up front; elsewhere it is created when first needed (``_BUDGET``)."""
        return "budget" if self.loops or self.fn is not self.main else _BUDGET

    def tmp(self) -> str:
        self.counter += 1
        return f"t{self.counter}"

    def const(self, value: Any, pos: int = -1) -> str:
        self.consts.append(value)
        self.const_pos.append(pos)
        return f"c{len(self.consts) - 1}"

    def bind(self, expr: str) -> str:
        """Evaluate ``expr`` once into a local (unless it already is a name)."""
        if expr.isidentifier() and expr not in ("None", "True", "False"):
            return expr
        return self.assign(expr)

    def assign(self, expr: str) -> str:
        name = self.tmp()
        self.fn.emit(f"{name} = {expr}")
        return name

    def visit(self, node: A.Expr) -> str:
        if self.fn.blocks >= self.MAX_BLOCKS and isinstance(node, (A.And, A.Or, A.Comprehension)):
            return self.hoist(node)
        method = getattr(self, "visit_" + type(node).__name__)
        return method(node)  # type: ignore[no-any-return]

    def hoist(self, node: A.Expr) -> str:
        """Generate ``node`` as a separate function and call it here."""
        self.counter += 1
        args = ["act", "budget"] + sorted(self.scope.values())
        name = f"s{self.counter}"
        outer, self.fn = self.fn, _Function(f"def {name}({', '.join(args)}):")
        self.uses_budget = True
        result = self.visit(node)
        self.fn.emit(f"return {result}")
        self.functions.append(self.fn)
        self.fn = outer
        return self.bind(f"{name}({', '.join(args)})")

    # -- leaves -------------------------------------------------------------------------

    def visit_Literal(self, node: A.Literal) -> str:
        v = node.value
        if v is None or v is True or v is False:
            return repr(v)
        if _literal_type(v) is A.ErrorValue:  # an error-valued trigger hole: reading it fails
            return f"raise_error({self.const(v, node.pos)})"
        return self.const(v, node.pos)

    def visit_Ident(self, node: A.Ident) -> str:
        if A.in_scope(node, self.scope):
            return self.scope[node.name]
        if node.name in self.variables:
            return f"act[{node.name!r}]"
        if node.name in TYPES:
            return f"TYPES[{node.name!r}]"
        # Only reachable with checking disabled: an unbound name is a runtime error.
        return f"unbound({node.name!r})"

    def visit_Select(self, node: A.Select) -> str:
        base = A.path_root(node)
        type_name = _qualified_type(node)
        if type_name is not None and base is not None and not A.in_scope(base, self.scope) \
                and base.name not in self.variables:
            return f"TYPES[{type_name!r}]"
        qualified = A.qualified_variable(node, self.variables)
        if qualified is not None and base is not None and not A.in_scope(base, self.scope):
            return f"act[{qualified[0]!r}]" + "".join(f"[{p!r}]" for p in qualified[1])
        operand = self.visit(node.operand)
        if operand in ("None", "True", "False") or operand[0] == "[":
            # `null.x`, `[1].x` (unchecked): subscript a local, not a display CPython
            # would warn about at compile time.
            operand = self.assign(operand)
        if node.test_only:
            return f"has_field({operand}, {node.field!r})"
        # A plain subscript is exact CEL field selection: it succeeds only on a dict
        # holding that string key; every other operand raises KeyError/TypeError.
        return f"{operand}[{node.field!r}]"

    def visit_Index(self, node: A.Index) -> str:
        operand = self.bind(self.visit(node.operand))
        if isinstance(node.index, A.Literal) and _literal_type(node.index.value) is str:
            return f"{operand}[{self.visit(node.index)}]"
        operand = self.bind(operand)
        return f"index({operand}, {self.visit(node.index)})"

    # -- operators ----------------------------------------------------------------------

    def visit_Unary(self, node: A.Unary) -> str:
        operand = self.visit(node.operand)
        return f"logical_not({operand})" if node.op == "!" else f"neg({operand})"

    def visit_Binary(self, node: A.Binary) -> str:
        op = node.op
        if op in ("==", "!="):
            expr = self.equality(node.left, node.right)
            return expr if op == "==" else f"(not {expr})"
        left = self.bind(self.visit(node.left))
        right = self.visit(node.right)
        if op in _CMP_NAME:
            return self.ordering(op, left, right, node.right)
        if op == "in":
            if isinstance(node.right, (A.ListExpr, A.MapExpr, A.Literal)):
                return f"in_({left}, {right})"  # a literal container: its size is fixed
            return f"in_sized({left}, {right}, {self.budget()})"
        if op == "+" and not (_unsized(node.left) or _unsized(node.right)):
            return f"add_sized({left}, {right}, {self.budget()})"
        return f"{_ARITH_NAME[op]}({left}, {right})"

    def equality(self, left_node: A.Expr, right_node: A.Expr) -> str:
        """CEL ``==`` with exact fast paths when one side is a literal."""
        if isinstance(left_node, A.Literal) and not isinstance(right_node, A.Literal):
            left_node, right_node = right_node, left_node  # == is symmetric in CEL
        left = self.bind(self.visit(left_node))
        if isinstance(right_node, A.Literal):
            v = right_node.value
            if v is None or v is True or v is False:
                return f"({left} is {v!r})"
            right = self.visit(right_node)
            vt = _literal_type(v)
            if vt in (str, bytes):
                # No other CEL value equals a str (or bytes) in Python either: exact.
                return f"({left} == {right})"
            if vt in _NUMERIC_LITERAL:
                # Same class: Python's == is CEL's. Mixed int/double goes through eq(),
                # which rounds the integer to a double first as CEL does.
                return f"({left} == {right} if {left}.__class__ is {vt.__name__} else eq({left}, {right}))"
            return f"eq({left}, {right})"
        right = self.visit(right_node)
        if A.path_of(right_node) is None:  # a field path may be written twice; else bind
            right = self.bind(right)
        if _scalar(left_node) or _scalar(right_node):
            return f"eq({left}, {right})"  # not two containers: O(1), nothing to charge
        # Lists and maps compare element by element: that work is charged to the budget.
        if self.budget() == "budget":  # one call, as eq() would be
            return f"eq_charged({left}, {right}, budget)"
        # A string (an id, most often) equals only an equal string, in Python as in CEL.
        return f"({left} == {right} if {left}.__class__ is str else eq({left}, {right}) " \
               f"if {left}.__class__ not in CONTAINERS else " \
               f"eq_sized({left}, {right}, {self.budget()}))"

    def ordering(self, op: str, left: str, right: str, right_node: A.Expr) -> str:
        slow = f"{_CMP_NAME[op]}({left}, {right})"
        if isinstance(right_node, A.Literal):
            vt = _literal_type(right_node.value)
            if vt in _NUMERIC_LITERAL or vt is str:
                # Same class: Python's ordering is CEL's; anything else goes to the helper.
                return f"({left} {op} {right} if {left}.__class__ is {vt.__name__} else {slow})"
        return slow

    def logical(self, node: A.And | A.Or) -> str:
        """n-ary ``&&``/``||``: the first decisive operand wins, else the first error.

        ``r`` is True/False (for && / ||: the neutral value until decided) or an
        exception instance; operands after a decisive one are not evaluated.
        """
        decisive = "False" if isinstance(node, A.And) else "True"
        neutral = "True" if decisive == "False" else "False"
        r = self.tmp()
        fn = self.fn
        fn.emit(f"{r} = {neutral}")
        for i, term in enumerate(node.terms):
            if i:
                fn.emit(f"if {r} is not {decisive}:")
                fn.indent += 1
            fn.emit("try:")
            fn.indent += 1
            fn.blocks += 1
            v = self.bind(self.visit(term))
            fn.emit(f"if {v} is {decisive}: {r} = {decisive}")
            fn.emit(f"elif {v} is not {neutral} and {r} is {neutral}: {r} = not_bool({v})")
            fn.indent -= 1
            fn.blocks -= 1
            fn.emit("except ABORT: raise")
            fn.emit("except CEL_ERRORS as e:")
            fn.emit(f"    if {r} is {neutral}: {r} = e")
            if i:
                fn.indent -= 1
        fn.emit(f"if {r} is not True and {r} is not False: raise {r}")
        return r

    visit_And = logical
    visit_Or = logical

    def visit_Conditional(self, node: A.Conditional) -> str:
        cond = self.bind(self.visit(node.cond))
        r = self.tmp()
        fn = self.fn
        fn.emit(f"if {cond} is True:")
        fn.indent += 1
        fn.emit(f"{r} = {self.visit(node.then)}")
        fn.indent -= 1
        fn.emit(f"elif {cond} is False:")
        fn.indent += 1
        fn.emit(f"{r} = {self.visit(node.otherwise)}")
        fn.indent -= 1
        fn.emit(f"else: raise not_bool({cond})")
        return r

    # -- aggregates and calls -----------------------------------------------------------

    def visit_ListExpr(self, node: A.ListExpr) -> str:
        items = [self.bind(self.visit(item)) for item in node.items]
        return "[" + ", ".join(items) + "]"

    def visit_MapExpr(self, node: A.MapExpr) -> str:
        pairs = []
        for k, v in node.entries:
            key = self.bind(self.visit(k))
            pairs.append(f"({key}, {self.bind(self.visit(v))})")
        return "make_map([" + ", ".join(pairs) + "])"

    def visit_Call(self, node: A.Call) -> str:
        args = []
        if node.target is not None:
            args.append(self.bind(self.visit(node.target)))
        args += [self.bind(self.visit(a)) for a in node.args]
        name = node.function
        if name == "dyn" and node.target is None:
            return args[0]
        if name in ("string", "bytes") and len(args) == 1 and not _unsized(node.args[0]):
            # string(bytes) and bytes(string) copy their argument: a new value, charged.
            a = args[0]
            return f"(F[{name!r}]({a}) if {a}.__class__ is not str and {a}.__class__ is not " \
                   f"bytes else convert_sized(F[{name!r}], {a}, {self.budget()}))"
        if name == "matches":
            return self.matches(node, args)
        literal = len(node.args) == 1 and isinstance(node.args[0], A.Literal) \
            and _literal_type(node.args[0].value) is str
        if node.target is not None and name in ("startsWith", "endsWith") and literal:
            method = {"startsWith": "startswith", "endsWith": "endswith"}[name]
            return f"({args[0]}.{method}({args[1]}) if {args[0]}.__class__ is str " \
                   f"else F[{name!r}]({args[0]}, {args[1]}))"
        if name == "contains" and len(args) == 2:
            fast = f"({args[1]} in {args[0]})" if literal else None
            return self.scan(args[0], fast, f"F['contains'], {args[0]}, {args[1]}")
        return f"F[{name!r}]({', '.join(args)})"

    def scan(self, text: str, fast: str | None, call: str) -> str:
        """A search through ``text``: free up to SCAN_FREE characters, charged beyond."""
        slow = f"scan_sized({call}, {self.budget()})"
        if fast is None:
            return slow
        return f"({fast} if {text}.__class__ is str and len({text}) <= SCAN_FREE else {slow})"

    def matches(self, node: A.Call, args: list[str]) -> str:
        if len(args) != 2:  # only reachable unchecked: the call reports the arity error
            return f"F['matches']({', '.join(args)})"
        if self.precompile and isinstance(node.args[-1], A.Literal) \
                and type(node.args[-1].value) is str:
            # A constant pattern is compiled once, when _make binds the literals (cel-go
            # compiles it when the program is planned).
            self.counter += 1
            compiled = f"re{self.counter}"
            self.prepared.append(f"{compiled} = regex({args[-1]})")
            return self.scan(args[0], f"search({args[0]}, {compiled})",
                             f"search, {args[0]}, {compiled}")
        return self.scan(args[0], None, f"F['matches'], {', '.join(args)}")

    def visit_Comprehension(self, node: A.Comprehension) -> str:
        return lower_comprehension(self, node)


def _literal_type(v: Any) -> type:
    """The Python class a literal parameter will have (a Slot announces its own)."""
    return v.type if type(v) is A.Slot else type(v)


def _unsized(node: A.Expr) -> bool:
    """Is ``node`` certainly not a string, bytes or list? Then ``x + node`` builds none."""
    if isinstance(node, A.Literal):
        return node.value is not None and _literal_type(node.value) not in _SIZED_TYPES
    if isinstance(node, A.Binary):
        return node.op != "+"
    if isinstance(node, A.Call):
        spec = FUNCTIONS.get(node.function)
        return spec is not None and spec.result not in _SIZED_RESULTS
    return isinstance(node, (A.Unary, A.And, A.Or, A.MapExpr)) or (
        isinstance(node, A.Comprehension) and node.kind not in ("map", "filter"))


def _scalar(node: A.Expr) -> bool:
    """Is ``node`` certainly not a list or a map?"""
    return _unsized(node) and not isinstance(node, A.MapExpr)


def _qualified_type(node: A.Select) -> str | None:
    path = A.path_of(node)
    if path is not None and ".".join(path) in TYPES:
        return ".".join(path)
    return None
