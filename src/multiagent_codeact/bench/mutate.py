"""AST rewrites of a reference solution: wrong mutants and equivalent variants.

Mutants stand in for plausible wrong model samples (a flipped comparison, an off-by-one, a
dropped branch...); variants stand in for correct samples that differ in text but not in
behaviour. Neither is trusted here: `pools` runs them and keeps only mutants that really change
behaviour and variants that really do not. Any rewrite that fails to apply is skipped.
"""

from __future__ import annotations

import ast
import builtins
import copy
import random
from collections.abc import Callable, Iterator
from dataclasses import dataclass

from pydantic import BaseModel, ConfigDict

Replacement = ast.AST | list[ast.stmt]


class Mutant(BaseModel):
    """One wrong-by-construction rewrite: which operator, where, what it changed, the code."""

    model_config = ConfigDict(frozen=True)

    operator: str
    location: str
    detail: str
    source: str


class Variant(BaseModel):
    """One rewrite meant to behave exactly like the reference; `transforms` says how."""

    model_config = ConfigDict(frozen=True)

    transforms: list[str]
    source: str


# -- mutation operators -------------------------------------------------------------------

_FLIP: dict[type[ast.cmpop], list[type[ast.cmpop]]] = {
    ast.Lt: [ast.LtE, ast.Gt],
    ast.LtE: [ast.Lt, ast.GtE],
    ast.Gt: [ast.GtE, ast.Lt],
    ast.GtE: [ast.Gt, ast.LtE],
    ast.Eq: [ast.NotEq],
    ast.NotEq: [ast.Eq],
    ast.In: [ast.NotIn],
    ast.NotIn: [ast.In],
    ast.Is: [ast.IsNot],
    ast.IsNot: [ast.Is],
}
_ARITH: dict[type[ast.operator], list[type[ast.operator]]] = {
    ast.Add: [ast.Sub],
    ast.Sub: [ast.Add],
    ast.Mult: [ast.FloorDiv, ast.Add],
    ast.FloorDiv: [ast.Mult, ast.Div],
    ast.Div: [ast.FloorDiv, ast.Mult],
    ast.Mod: [ast.FloorDiv],
    ast.Pow: [ast.Mult],
}
_NON_COMMUTATIVE = (ast.Sub, ast.Div, ast.FloorDiv, ast.Mod, ast.Pow, ast.LShift, ast.RShift)
_SWAP_CALLS = {
    "min": "max",
    "max": "min",
    "any": "all",
    "all": "any",
    "lower": "upper",
    "upper": "lower",
    "startswith": "endswith",
    "endswith": "startswith",
    "isupper": "islower",
    "islower": "isupper",
    "lstrip": "rstrip",
    "rstrip": "lstrip",
    "find": "rfind",
    "rfind": "find",
    "index": "rindex",
    "intersection": "union",
    "union": "intersection",
}
_NUMERIC_CALLS = frozenset({"max", "min", "sum", "abs", "int", "round"})
# Calls that transform their single argument; dropping one is a "forgot a step" bug.
_DROPPABLE_CALLS = frozenset({"sorted", "set", "list", "tuple", "abs", "int", "str", "reversed"})
_DROPPABLE_METHODS = frozenset(
    {"lower", "upper", "swapcase", "strip", "lstrip", "rstrip", "split", "copy"}
)
_SWAP_CHARS = dict(zip("()[]{}<>", ")(][}{><", strict=True))
_OP_TEXT = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.RShift: ">>",
}

OPERATORS = (
    "flip_compare",
    "off_by_one",
    "swap_operands",
    "arith_swap",
    "bool_swap",
    "drop_branch",
    "change_constant",
    "negate_condition",
    "wrong_return",
    "swap_call",
    "drop_call",
)


@dataclass(frozen=True)
class _Site:
    """A mutation not yet applied: node `index` in ast.walk order gets `make(node)` instead."""

    index: int
    operator: str
    detail: str
    location: str
    make: Callable[[ast.AST], Replacement]


def _op(o: object) -> str:
    return _OP_TEXT.get(type(o), type(o).__name__)  # type: ignore[arg-type]


def _plus(expr: ast.expr, delta: int) -> ast.expr:
    op: ast.operator = ast.Add() if delta > 0 else ast.Sub()
    return ast.BinOp(left=expr, op=op, right=ast.Constant(abs(delta)))


def _negate(test: ast.expr) -> ast.expr:
    if isinstance(test, ast.UnaryOp) and isinstance(test.op, ast.Not):
        return test.operand
    return ast.UnaryOp(op=ast.Not(), operand=test)


def _compare_sites(
    node: ast.Compare,
) -> Iterator[tuple[str, str, Callable[[ast.AST], Replacement]]]:
    for i, op in enumerate(node.ops):
        for alt in _FLIP.get(type(op), []):

            def make(n: ast.AST, i: int = i, alt: type[ast.cmpop] = alt) -> ast.AST:
                assert isinstance(n, ast.Compare)
                n.ops[i] = alt()
                return n

            yield "flip_compare", f"{_op(op)} -> {_OP_TEXT[alt]}", make


def _binop_sites(node: ast.BinOp) -> Iterator[tuple[str, str, Callable[[ast.AST], Replacement]]]:
    if isinstance(node.op, _NON_COMMUTATIVE):

        def swap(n: ast.AST) -> ast.AST:
            assert isinstance(n, ast.BinOp)
            n.left, n.right = n.right, n.left
            return n

        yield "swap_operands", f"a {_op(node.op)} b -> b {_op(node.op)} a", swap
    if _stringish(node.left) or _stringish(node.right):
        return
    for alt in _ARITH.get(type(node.op), []):

        def make(n: ast.AST, alt: type[ast.operator] = alt) -> ast.AST:
            assert isinstance(n, (ast.BinOp, ast.AugAssign))
            n.op = alt()
            return n

        yield "arith_swap", f"{_op(node.op)} -> {_OP_TEXT[alt]}", make


def _stringish(expr: ast.expr) -> bool:
    return isinstance(expr, ast.JoinedStr) or (
        isinstance(expr, ast.Constant) and isinstance(expr.value, str)
    )


def _augassign_sites(
    node: ast.AugAssign,
) -> Iterator[tuple[str, str, Callable[[ast.AST], Replacement]]]:
    if _stringish(node.value):
        return
    for alt in _ARITH.get(type(node.op), []):

        def make(n: ast.AST, alt: type[ast.operator] = alt) -> ast.AST:
            assert isinstance(n, ast.AugAssign)
            n.op = alt()
            return n

        yield "arith_swap", f"{_op(node.op)}= -> {_OP_TEXT[alt]}=", make


def _constant_sites(
    node: ast.Constant,
) -> Iterator[tuple[str, str, Callable[[ast.AST], Replacement]]]:
    value = node.value
    alternatives: list[tuple[str, bool | int | float | str]] = []
    if isinstance(value, bool):
        alternatives.append(("change_constant", not value))
    elif isinstance(value, int):
        alternatives += [("off_by_one", value + 1), ("off_by_one", value - 1)]
        alternatives += [
            ("change_constant", v) for v in (0, -value) if v not in (value, value - 1, value + 1)
        ]
    elif isinstance(value, float):
        alternatives += [("change_constant", value + 1.0), ("change_constant", -value)]
    elif isinstance(value, str):
        alternatives.append(("change_constant", "" if value else " "))
        if len(value) == 1 and value in _SWAP_CHARS:
            alternatives.append(("change_constant", _SWAP_CHARS[value]))
        elif value.swapcase() != value:
            alternatives.append(("change_constant", value.swapcase()))
    for operator, new in alternatives:
        if new == value and type(new) is type(value):
            continue

        def make(n: ast.AST, new: bool | int | float | str = new) -> ast.AST:
            if isinstance(new, (int, float)) and not isinstance(new, bool) and new < 0:
                return ast.UnaryOp(op=ast.USub(), operand=ast.Constant(-new))
            return ast.Constant(new)

        yield operator, f"{value!r} -> {new!r}", make


def _range_sites(node: ast.Call) -> Iterator[tuple[str, str, Callable[[ast.AST], Replacement]]]:
    if not (isinstance(node.func, ast.Name) and node.func.id == "range") or node.keywords:
        return
    bounds = {1: [0], 2: [0, 1], 3: [0, 1]}.get(len(node.args), [])
    for i in bounds:
        if isinstance(node.args[i], ast.Constant):
            continue  # constants already get +-1 of their own
        name = "stop" if (len(node.args) == 1 or i == 1) else "start"
        for delta in (1, -1):

            def make(n: ast.AST, i: int = i, delta: int = delta) -> ast.AST:
                assert isinstance(n, ast.Call)
                n.args[i] = _plus(n.args[i], delta)
                return n

            yield "off_by_one", f"range {name} {delta:+d}", make


def _subscript_sites(
    node: ast.Subscript,
) -> Iterator[tuple[str, str, Callable[[ast.AST], Replacement]]]:
    if not isinstance(node.ctx, ast.Load):
        return
    if isinstance(node.slice, ast.Slice):
        for field in ("lower", "upper"):
            bound = getattr(node.slice, field)
            if bound is None or isinstance(bound, (ast.Constant, ast.UnaryOp)):
                continue
            for delta in (1, -1):

                def make(n: ast.AST, field: str = field, delta: int = delta) -> ast.AST:
                    assert isinstance(n, ast.Subscript) and isinstance(n.slice, ast.Slice)
                    setattr(n.slice, field, _plus(getattr(n.slice, field), delta))
                    return n

                yield "off_by_one", f"slice {field} {delta:+d}", make
    elif isinstance(node.slice, (ast.Name, ast.BinOp)):
        for delta in (1, -1):

            def make_index(n: ast.AST, delta: int = delta) -> ast.AST:
                assert isinstance(n, ast.Subscript)
                n.slice = _plus(n.slice, delta)
                return n

            yield "off_by_one", f"index {delta:+d}", make_index


def _if_sites(node: ast.If) -> Iterator[tuple[str, str, Callable[[ast.AST], Replacement]]]:
    if not node.orelse:

        def drop_if(n: ast.AST) -> Replacement:
            return [ast.Pass()]

        yield "drop_branch", "drop if", drop_if
    else:
        if len(node.orelse) == 1 and isinstance(node.orelse[0], ast.If):

            def drop_elif(n: ast.AST) -> Replacement:
                assert isinstance(n, ast.If) and isinstance(n.orelse[0], ast.If)
                n.orelse = n.orelse[0].orelse
                return n

            yield "drop_branch", "drop elif", drop_elif
        else:

            def drop_else(n: ast.AST) -> Replacement:
                assert isinstance(n, ast.If)
                n.orelse = []
                return n

            yield "drop_branch", "drop else", drop_else

        def drop_body(n: ast.AST) -> Replacement:
            assert isinstance(n, ast.If)
            return ast.If(test=_negate(n.test), body=n.orelse, orelse=[])

        yield "drop_branch", "drop if body", drop_body
    yield from _negate_sites()


def _negate_sites() -> Iterator[tuple[str, str, Callable[[ast.AST], Replacement]]]:
    def negate(n: ast.AST) -> ast.AST:
        assert isinstance(n, (ast.If, ast.While, ast.IfExp))
        n.test = _negate(n.test)
        return n

    yield "negate_condition", "negate test", negate


def _ifexp_sites(node: ast.IfExp) -> Iterator[tuple[str, str, Callable[[ast.AST], Replacement]]]:
    def keep_body(n: ast.AST) -> ast.AST:
        assert isinstance(n, ast.IfExp)
        return n.body

    def keep_else(n: ast.AST) -> ast.AST:
        assert isinstance(n, ast.IfExp)
        return n.orelse

    yield "drop_branch", "keep only the if value", keep_body
    yield "drop_branch", "keep only the else value", keep_else
    yield from _negate_sites()


def _return_sites(
    node: ast.Return, locals_: list[str]
) -> Iterator[tuple[str, str, Callable[[ast.AST], Replacement]]]:
    value = node.value
    if isinstance(value, ast.Name):
        others = [name for name in locals_ if name != value.id][:3]
        for other in others:

            def make(n: ast.AST, other: str = other) -> ast.AST:
                assert isinstance(n, ast.Return)
                n.value = ast.Name(id=other, ctx=ast.Load())
                return n

            yield "wrong_return", f"return {value.id} -> return {other}", make
    elif (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id in _NUMERIC_CALLS
    ):
        for delta in (1, -1):

            def shift(n: ast.AST, delta: int = delta) -> ast.AST:
                assert isinstance(n, ast.Return) and n.value is not None
                n.value = _plus(n.value, delta)
                return n

            yield "off_by_one", f"return {delta:+d}", shift
    elif isinstance(value, (ast.Compare, ast.BoolOp)):

        def negate(n: ast.AST) -> ast.AST:
            assert isinstance(n, ast.Return) and n.value is not None
            n.value = _negate(n.value)
            return n

        yield "negate_condition", "negate returned condition", negate


def _call_sites(node: ast.Call) -> Iterator[tuple[str, str, Callable[[ast.AST], Replacement]]]:
    func = node.func
    name = (
        func.id
        if isinstance(func, ast.Name)
        else func.attr
        if isinstance(func, ast.Attribute)
        else ""
    )
    if name in _SWAP_CALLS:
        alt = _SWAP_CALLS[name]

        def make(n: ast.AST, alt: str = alt) -> ast.AST:
            assert isinstance(n, ast.Call)
            if isinstance(n.func, ast.Name):
                n.func.id = alt
            elif isinstance(n.func, ast.Attribute):
                n.func.attr = alt
            return n

        yield "swap_call", f"{name} -> {alt}", make
    droppable = (
        isinstance(func, ast.Name) and func.id in _DROPPABLE_CALLS and len(node.args) == 1
    ) or (isinstance(func, ast.Attribute) and func.attr in _DROPPABLE_METHODS and not node.args)
    if droppable and not node.keywords and not any(isinstance(a, ast.Starred) for a in node.args):

        def drop(n: ast.AST) -> ast.AST:
            assert isinstance(n, ast.Call)
            if isinstance(n.func, ast.Attribute):
                return n.func.value
            return n.args[0]

        yield "drop_call", f"drop {name}()", drop
    if isinstance(func, ast.Name) and func.id == "len":
        for delta in (1, -1):

            def shift(n: ast.AST, delta: int = delta) -> ast.AST:
                assert isinstance(n, ast.Call)
                return _plus(n, delta)

            yield "off_by_one", f"len {delta:+d}", shift
    if (
        isinstance(func, ast.Name)
        and func.id == "sorted"
        and not any(k.arg == "reverse" for k in node.keywords)
    ):

        def reverse(n: ast.AST) -> ast.AST:
            assert isinstance(n, ast.Call)
            n.keywords.append(ast.keyword(arg="reverse", value=ast.Constant(True)))
            return n

        yield "swap_call", "sorted -> sorted(reverse=True)", reverse
    yield from _range_sites(node)


def _protected(tree: ast.Module, first_line: int) -> set[int]:
    """ids of nodes no mutation may touch: docstrings, annotations, the prompt's lines."""
    skip: set[int] = set()
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                skip.update(id(n) for n in ast.walk(body[0]))
        annotations: list[ast.AST | None] = []
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            annotations.append(node.returns)
        elif isinstance(node, (ast.arg, ast.AnnAssign)):
            annotations.append(node.annotation)
        elif isinstance(node, ast.JoinedStr):
            annotations.extend(v for v in node.values if isinstance(v, ast.Constant))
        for ann in annotations:
            if ann is not None:
                skip.update(id(n) for n in ast.walk(ann))
        if getattr(node, "lineno", first_line) < first_line:
            skip.add(id(node))
    return skip


def _function_locals(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> list[str]:
    """Parameters and assigned names of `fn` in order of appearance: wrong-return candidates."""
    names = [a.arg for a in [*fn.args.posonlyargs, *fn.args.args, *fn.args.kwonlyargs]]
    for node in ast.walk(fn):
        if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store) and node.id not in names:
            names.append(node.id)
    return names


def _sites(tree: ast.Module, first_line: int) -> list[_Site]:
    skip = _protected(tree, first_line)
    owner: dict[int, list[str]] = {}
    for fn in ast.walk(tree):
        if isinstance(fn, (ast.FunctionDef, ast.AsyncFunctionDef)):
            names = _function_locals(fn)
            for node in ast.walk(fn):
                if isinstance(node, ast.Return):
                    owner[id(node)] = names
    sites: list[_Site] = []
    for index, node in enumerate(ast.walk(tree)):
        if id(node) in skip or not hasattr(node, "lineno"):
            continue
        found: Iterator[tuple[str, str, Callable[[ast.AST], Replacement]]]
        if isinstance(node, ast.Compare):
            found = _compare_sites(node)
        elif isinstance(node, ast.BinOp):
            found = _binop_sites(node)
        elif isinstance(node, ast.AugAssign):
            found = _augassign_sites(node)
        elif isinstance(node, ast.BoolOp):
            found = _boolop_sites(node)
        elif isinstance(node, ast.Constant):
            found = _constant_sites(node)
        elif isinstance(node, ast.Call):
            found = _call_sites(node)
        elif isinstance(node, ast.Subscript):
            found = _subscript_sites(node)
        elif isinstance(node, ast.If):
            found = _if_sites(node)
        elif isinstance(node, ast.While):
            found = _negate_sites()
        elif isinstance(node, ast.IfExp):
            found = _ifexp_sites(node)
        elif isinstance(node, ast.Return):
            found = _return_sites(node, owner.get(id(node), []))
        else:
            continue
        location = f"L{node.lineno}:{node.col_offset}"
        sites.extend(_Site(index, op, detail, location, make) for op, detail, make in found)
    return sites


def _boolop_sites(node: ast.BoolOp) -> Iterator[tuple[str, str, Callable[[ast.AST], Replacement]]]:
    def make(n: ast.AST) -> ast.AST:
        assert isinstance(n, ast.BoolOp)
        n.op = ast.Or() if isinstance(n.op, ast.And) else ast.And()
        return n

    yield "bool_swap", "and -> or" if isinstance(node.op, ast.And) else "or -> and", make


def _replace(tree: ast.AST, index: int, make: Callable[[ast.AST], Replacement]) -> None:
    """Replace node `index` (ast.walk order) of `tree` in place with `make(node)`."""
    target = next(n for i, n in enumerate(ast.walk(tree)) if i == index)
    for parent in ast.walk(tree):
        for field, value in ast.iter_fields(parent):
            if value is target:
                new = make(target)
                if isinstance(new, list):
                    raise ValueError("a statement list cannot replace a single node")
                setattr(parent, field, new)
                return
            if isinstance(value, list) and any(v is target for v in value):
                at = next(i for i, v in enumerate(value) if v is target)
                new = make(target)
                value[at : at + 1] = new if isinstance(new, list) else [new]
                if not value and field in ("body", "finalbody"):
                    value.append(ast.Pass())
                return
    raise ValueError(f"node {index} has no parent")


def _unparse(tree: ast.AST) -> str:
    return ast.unparse(ast.fix_missing_locations(tree)) + "\n"


def _first_line(code: str, prompt: str | None) -> int:
    if prompt is not None and code.startswith(prompt):
        return prompt.count("\n") + 1
    return 1


def generate_mutants(
    code: str,
    entry_point: str,
    *,
    seed: int = 0,
    limit: int | None = None,
    prompt: str | None = None,
) -> list[Mutant]:
    """Every mutant the operators can make of `code`, deduplicated by source.

    With `prompt` (the part of `code` the model was given), only the lines after it mutate.
    With `limit`, at most that many, drawn round-robin across operators so every kind appears;
    the draw is fixed by `seed`. Mutants of other functions than `entry_point` count too (a
    wrong helper is a wrong solution).
    """
    del entry_point  # every function in the solution may hold the bug
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    original = _unparse(ast.parse(code))
    sites = _sites(tree, _first_line(code, prompt))
    rng = random.Random(seed)
    by_op: dict[str, list[_Site]] = {}
    for site in sites:
        by_op.setdefault(site.operator, []).append(site)
    for group in by_op.values():
        rng.shuffle(group)
    order: list[_Site] = []
    groups = [by_op[op] for op in OPERATORS if op in by_op]
    while any(groups):
        for group in groups:
            if group:
                order.append(group.pop(0))

    mutants: list[Mutant] = []
    seen = {original}
    for site in order:
        if limit is not None and len(mutants) >= limit:
            break
        mutated = ast.parse(code)  # re-parsing is ~20x faster than deepcopy
        try:
            _replace(mutated, site.index, site.make)
            source = _unparse(mutated)
            compile(source, "<mutant>", "exec")
        except Exception:
            continue
        if source in seen:
            continue
        seen.add(source)
        mutants.append(
            Mutant(
                operator=site.operator, location=site.location, detail=site.detail, source=source
            )
        )
    return mutants


# -- equivalent variants ------------------------------------------------------------------

_FRESH = (
    "acc", "val", "item", "tmp", "res", "cur", "pos", "buf", "total", "part", "elem", "node",
    "out", "seen", "word", "ch", "num", "step", "lo", "hi", "mark", "cnt", "piece", "entry",
)  # fmt: skip
_IMPL_NAMES = ("_{}_impl", "_{}_core", "_solve_{}", "_compute_{}")
_COMMENTS = (
    "handle the general case",
    "walk the input once",
    "edge cases first",
    "build the answer step by step",
    "compute the result",
    "keep it simple",
)
_DYNAMIC = {"locals", "vars", "eval", "exec", "globals", "__import__", "super"}
_FUNCS = (ast.FunctionDef, ast.AsyncFunctionDef)


@dataclass
class _Ctx:
    """The tree being rewritten and what a rewrite needs to stay correct."""

    tree: ast.Module
    entry_point: str
    given: frozenset[str]  # functions the prompt defines: not the solution's to rewrite
    rng: random.Random

    def names(self) -> set[str]:
        taken = set(dir(builtins)) | {"self", "cls"}
        for node in ast.walk(self.tree):
            if isinstance(node, ast.Name):
                taken.add(node.id)
            elif isinstance(node, ast.arg):
                taken.add(node.arg)
            elif isinstance(node, (*_FUNCS, ast.ClassDef)):
                taken.add(node.name)
            elif isinstance(node, ast.alias):
                taken.add(node.asname or node.name.split(".")[0])
        return taken

    def fresh(self, options: tuple[str, ...] = _FRESH, taken: set[str] | None = None) -> str:
        taken = self.names() if taken is None else taken
        for option in self.rng.sample(options, len(options)):
            name = option.format(self.entry_point)
            if name not in taken:
                return name
        base, n = self.rng.choice(options).format(self.entry_point), 2
        while f"{base}{n}" in taken:
            n += 1
        return f"{base}{n}"

    def entry(self) -> ast.FunctionDef | ast.AsyncFunctionDef:
        for node in self.tree.body:
            if isinstance(node, _FUNCS) and node.name == self.entry_point:
                return node
        raise LookupError(f"no top-level function {self.entry_point!r}")

    def roots(self) -> list[ast.FunctionDef | ast.AsyncFunctionDef]:
        """The solution's own functions: the entry point and helpers the prompt did not give."""
        entry = self.entry()
        return [entry] + [
            n
            for n in self.tree.body
            if isinstance(n, _FUNCS) and n is not entry and n.name not in self.given
        ]

    def solution_nodes(self) -> Iterator[ast.AST]:
        for root in self.roots():
            yield from ast.walk(root)


def _docstring(fn: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.Expr | None:
    first = fn.body[0] if fn.body else None
    if (
        isinstance(first, ast.Expr)
        and isinstance(first.value, ast.Constant)
        and isinstance(first.value.value, str)
    ):
        return first
    return None


def _module_bound(tree: ast.Module) -> set[str]:
    bound: set[str] = set()
    for stmt in tree.body:
        if isinstance(stmt, (*_FUNCS, ast.ClassDef)):
            bound.add(stmt.name)
            continue
        for node in ast.walk(stmt):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                bound.add(node.id)
            elif isinstance(node, ast.alias):
                bound.add(node.asname or node.name.split(".")[0])
    return bound


def _rename_locals(ctx: _Ctx) -> bool:
    """Rename local variables (and helpers' parameters) consistently, with fresh names.

    The entry point keeps its own parameter names, so callers may pass them by keyword.
    """
    changed = False
    protected = _module_bound(ctx.tree) | set(dir(builtins))
    for root in ctx.roots():
        nodes = list(ast.walk(root))
        if any(isinstance(n, ast.Name) and n.id in _DYNAMIC for n in nodes) or any(
            isinstance(n, ast.ClassDef) for n in nodes
        ):
            continue
        keep = set(protected)
        if root.name == ctx.entry_point:
            a = root.args
            keep |= {x.arg for x in [*a.posonlyargs, *a.args, *a.kwonlyargs]}
            keep |= {x.arg for x in (a.vararg, a.kwarg) if x is not None}
        bound: list[str] = []
        for n in nodes:
            name = None
            if isinstance(n, ast.Name) and not isinstance(n.ctx, ast.Load):
                name = n.id
            elif isinstance(n, ast.arg):
                name = n.arg
            elif (isinstance(n, _FUNCS) and n is not root) or isinstance(n, ast.ExceptHandler):
                name = n.name
            elif isinstance(n, ast.Global):
                keep.update(n.names)
            elif isinstance(n, ast.alias):
                keep.add(n.asname or n.name.split(".")[0])
            elif isinstance(n, ast.keyword) and n.arg is not None:
                keep.add(n.arg)
            if name is not None and name not in bound:
                bound.append(name)
        chosen = [b for b in bound if b not in keep and not b.startswith("__")]
        chosen = [b for b in chosen if ctx.rng.random() < 0.8] or chosen[:1]
        if not chosen:
            continue
        taken = ctx.names()
        mapping: dict[str, str] = {}
        for old in chosen:
            mapping[old] = ctx.fresh(taken=taken)
            taken.add(mapping[old])
        for n in nodes:
            if isinstance(n, ast.Name) and n.id in mapping:
                n.id = mapping[n.id]
            elif isinstance(n, ast.arg) and n.arg in mapping:
                n.arg = mapping[n.arg]
            elif (
                (isinstance(n, _FUNCS) and n is not root) or isinstance(n, ast.ExceptHandler)
            ) and n.name in mapping:
                n.name = mapping[n.name]
            elif isinstance(n, ast.Nonlocal):
                n.names = [mapping.get(x, x) for x in n.names]
        changed = True
    return changed


def _enumerate_loop(ctx: _Ctx) -> bool:
    """`for x in xs:` becomes `for i, x in enumerate(xs):` with an unused fresh `i`."""
    if "enumerate" in _module_bound(ctx.tree):
        return False
    loops = [n for n in ctx.solution_nodes() if isinstance(n, ast.For)]
    if not loops:
        return False
    loop = ctx.rng.choice(loops)
    counter = ast.Name(id=ctx.fresh(), ctx=ast.Store())
    loop.target = ast.Tuple(elts=[counter, loop.target], ctx=ast.Store())
    loop.iter = ast.Call(
        func=ast.Name(id="enumerate", ctx=ast.Load()), args=[loop.iter], keywords=[]
    )
    return True


def _generator_call(ctx: _Ctx) -> bool:
    """`[e for x in xs]` becomes `list(e for x in xs)` (and sets likewise)."""
    bound = _module_bound(ctx.tree)
    comps = [
        n
        for n in ctx.solution_nodes()
        if isinstance(n, (ast.ListComp, ast.SetComp))
        and ("list" if isinstance(n, ast.ListComp) else "set") not in bound
    ]
    if not comps:
        return False
    target = ctx.rng.choice(comps)
    func = "list" if isinstance(target, ast.ListComp) else "set"
    call = ast.Call(
        func=ast.Name(id=func, ctx=ast.Load()),
        args=[ast.GeneratorExp(elt=target.elt, generators=target.generators)],
        keywords=[],
    )
    _replace(ctx.tree, _index_of(ctx.tree, target), lambda _n: call)
    return True


def _index_of(tree: ast.AST, target: ast.AST) -> int:
    return next(i for i, n in enumerate(ast.walk(tree)) if n is target)


_MIRROR: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.Gt,
    ast.Gt: ast.Lt,
    ast.LtE: ast.GtE,
    ast.GtE: ast.LtE,
    ast.Eq: ast.Eq,
    ast.NotEq: ast.NotEq,
}


def _mirror_compare(ctx: _Ctx) -> bool:
    """`a < b` becomes `b > a` where both sides are plain names or constants (no side effects)."""
    changed = False
    for n in ctx.solution_nodes():
        if (
            isinstance(n, ast.Compare)
            and len(n.ops) == 1
            and type(n.ops[0]) in _MIRROR
            and all(isinstance(x, (ast.Name, ast.Constant)) for x in (n.left, n.comparators[0]))
            and ctx.rng.random() < 0.7
        ):
            n.left, n.comparators[0] = n.comparators[0], n.left
            n.ops[0] = _MIRROR[type(n.ops[0])]()
            changed = True
    return changed


def _dead_code(ctx: _Ctx) -> bool:
    """An unused assignment or an unreachable branch at the top of the entry point."""
    entry = ctx.entry()
    choice = ctx.rng.randrange(3)
    stmt: ast.stmt
    if choice == 0:
        stmt = ast.Assign(
            targets=[ast.Name(id=ctx.fresh(), ctx=ast.Store())], value=ast.Constant(None)
        )
    elif choice == 1:
        stmt = ast.If(test=ast.Constant(False), body=[ast.Pass()], orelse=[])
    else:
        flag = ctx.fresh(("debug", "verbose", "trace", "checked"))
        stmt = ast.Assign(targets=[ast.Name(id=flag, ctx=ast.Store())], value=ast.Constant(False))
    entry.body.insert(1 if _docstring(entry) else 0, stmt)
    return True


def _docstring_change(ctx: _Ctx) -> bool:
    """Drop the entry point's docstring, or keep only its first line."""
    entry = ctx.entry()
    doc = _docstring(entry)
    if doc is None or len(entry.body) < 2:
        return False
    text = str(doc.value.value).strip().splitlines()  # type: ignore[attr-defined]
    if len(text) > 1 and ctx.rng.random() < 0.5:
        doc.value = ast.Constant(text[0].strip())
    else:
        entry.body.remove(doc)
    return True


def _wrapper(ctx: _Ctx) -> bool:
    """Move the body into a private helper; the entry point keeps its signature and forwards."""
    entry = ctx.entry()
    impl_name = ctx.fresh(_IMPL_NAMES)
    wrapper = copy.deepcopy(entry)
    entry.name = impl_name
    doc = _docstring(entry)
    if doc is not None and len(entry.body) > 1:
        entry.body.remove(doc)
    a = entry.args
    positional = [ast.Name(id=x.arg, ctx=ast.Load()) for x in [*a.posonlyargs, *a.args]]
    args: list[ast.expr] = list(positional)
    if a.vararg is not None:
        args.append(ast.Starred(value=ast.Name(id=a.vararg.arg, ctx=ast.Load()), ctx=ast.Load()))
    keywords = [
        ast.keyword(arg=x.arg, value=ast.Name(id=x.arg, ctx=ast.Load())) for x in a.kwonlyargs
    ]
    if a.kwarg is not None:
        keywords.append(ast.keyword(arg=None, value=ast.Name(id=a.kwarg.arg, ctx=ast.Load())))
    call = ast.Call(func=ast.Name(id=impl_name, ctx=ast.Load()), args=args, keywords=keywords)
    forward: ast.stmt = ast.Return(value=call)
    if isinstance(entry, ast.AsyncFunctionDef):
        forward = ast.Return(value=ast.Await(value=call))
    wrapper_doc = _docstring(wrapper)
    wrapper.body = [wrapper_doc, forward] if wrapper_doc is not None else [forward]
    wrapper.decorator_list = []
    at = ctx.tree.body.index(entry)
    ctx.tree.body.insert(at + 1, wrapper)
    return True


_TRANSFORMS: tuple[tuple[str, Callable[[_Ctx], bool]], ...] = (
    ("rename_locals", _rename_locals),
    ("enumerate_loop", _enumerate_loop),
    ("generator_call", _generator_call),
    ("mirror_compare", _mirror_compare),
    ("dead_code", _dead_code),
    ("docstring", _docstring_change),
    ("wrapper", _wrapper),
)
VARIANT_TRANSFORMS = (*(name for name, _ in _TRANSFORMS), "comments")


def _add_comments(source: str, given: frozenset[str], rng: random.Random) -> str | None:
    """Insert one or two comment lines before statements of the solution's functions."""
    tree = ast.parse(source)
    starts: list[tuple[int, int]] = []
    for top in tree.body:
        if not isinstance(top, _FUNCS) or top.name in given:
            continue
        nodes = list(ast.walk(top))
        docs = {id(_docstring(fn)) for fn in nodes if isinstance(fn, _FUNCS)}
        starts += [
            (n.lineno, n.col_offset)
            for n in nodes
            if isinstance(n, ast.stmt) and n is not top and id(n) not in docs
        ]
    if not starts:
        return None
    lines = source.splitlines()
    for lineno, col in sorted(rng.sample(starts, min(2, len(starts))), reverse=True):
        lines.insert(lineno - 1, " " * col + "# " + rng.choice(_COMMENTS))
    return "\n".join(lines) + "\n"


def _given_functions(code: str, prompt: str | None) -> set[str]:
    if prompt is None or not code.startswith(prompt):
        return set()
    try:
        tree = ast.parse(prompt)
    except SyntaxError:
        return set()
    return {n.name for n in tree.body if isinstance(n, _FUNCS)}


def correct_variants(
    code: str,
    entry_point: str,
    n: int,
    rng: random.Random,
    *,
    prompt: str | None = None,
) -> list[Variant]:
    """Up to `n` distinct rewrites of `code` that should behave exactly like it.

    Each variant applies a random non-empty set of transforms; a transform that fails or
    leaves code that does not compile is skipped. With `prompt`, code the model was given
    (helpers in the prompt) is left alone.
    """
    try:
        ast.parse(code)
    except SyntaxError:
        return []
    given = frozenset(_given_functions(code, prompt) - {entry_point})
    seen = {code, _unparse(ast.parse(code))}
    variants: list[Variant] = []
    for _attempt in range(max(10 * n, 20)):
        if len(variants) >= n:
            break
        chosen = [t for t in _TRANSFORMS if rng.random() < 0.5] or [rng.choice(_TRANSFORMS)]
        ctx = _Ctx(ast.parse(code), entry_point, given, rng)
        applied: list[str] = []
        for name, transform in chosen:
            before = _unparse(ctx.tree)
            try:
                if transform(ctx):
                    ctx.tree = ast.parse(_unparse(ctx.tree))
                    applied.append(name)
            except Exception:
                ctx.tree = ast.parse(before)
        source = _unparse(ctx.tree)
        if rng.random() < 0.5:
            try:
                commented = _add_comments(source, given, rng)
            except SyntaxError:
                commented = None
            if commented is not None:
                source = commented
                applied.append("comments")
        if not applied or source in seen:
            continue
        try:
            compile(source, "<variant>", "exec")
        except SyntaxError:
            continue
        seen.add(source)
        variants.append(Variant(transforms=applied, source=source))
    return variants
