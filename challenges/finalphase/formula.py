"""The score formula of a track: an organiser-written expression over the measured quantities, parsed
with `ast` into a whitelisted tree and evaluated by walking that tree (never `eval`).

Allowed: numbers, the names in `QUANTITIES` plus the track's named constants (e.g. `C`), the operators
+ - * / ** (and unary minus/plus), parentheses, and the functions in `FUNCTIONS`. Everything else
(attribute access, calls to other names, subscripts, comparisons, lambdas, strings…) is refused at
parse time with a message an organiser understands. Evaluation refuses huge exponents (`9**9**9`),
division by zero, missing quantities and non-finite results with `FormulaError`.

    formula = formula_parse("2 ** (2 * psnr) / (C * runtime_ms)", constants={"C": 1.0})
    formula.evaluate({"psnr": 22.5, "runtime_ms": 40.0})
"""

from __future__ import annotations

import ast
import math
import re
from dataclasses import dataclass, field

QUANTITIES: dict[str, str] = {
    "psnr": "PSNR (dB)",
    "ssim": "SSIM",
    "accuracy_top1": "Top-1 accuracy (%)",
    "accuracy_top3": "Top-3 accuracy (%)",
    "si_rmse": "si-RMSE",
    "rmse": "RMSE",
    "runtime_ms": "Runtime (ms)",
    "memory_mb": "Peak memory (MB)",
    "power_w": "Power (W)",
    "energy_mj": "Energy per inference (mJ)",
}


def _safe_pow(base: float, exponent: float) -> float:
    if abs(exponent) > MAX_EXPONENT:
        raise FormulaError(
            f"The exponent {exponent:g} is too large (at most {MAX_EXPONENT:g} in absolute value)."
        )
    if base == 0 and exponent < 0:
        raise FormulaError("Division by zero: 0 raised to a negative power.")
    if base < 0 and not float(exponent).is_integer():
        raise FormulaError(
            f"A negative number ({base:g}) cannot be raised to a fractional power ({exponent:g})."
        )
    try:
        return math.pow(base, exponent)
    except OverflowError:
        raise FormulaError(f"{base:g} ** {exponent:g} is too large to compute.") from None


def _log(x: float, base: float | None = None) -> float:
    if x <= 0:
        raise FormulaError(f"log() of a non-positive number ({x:g}).")
    if base is None:
        return math.log(x)
    if base <= 0 or base == 1:
        raise FormulaError(f"log() with an invalid base ({base:g}).")
    return math.log(x, base)


def _log_n(n: float):
    def log(x: float) -> float:
        if x <= 0:
            raise FormulaError(f"log{n:g}() of a non-positive number ({x:g}).")
        return math.log(x, n)

    return log


def _exp(x: float) -> float:
    if x > 700:
        raise FormulaError(f"exp({x:g}) is too large to compute.")
    return math.exp(x)


def _sqrt(x: float) -> float:
    if x < 0:
        raise FormulaError(f"sqrt() of a negative number ({x:g}).")
    return math.sqrt(x)


# name → (function, min args, max args)
FUNCTIONS: dict[str, tuple] = {
    "log": (_log, 1, 2),
    "log2": (_log_n(2), 1, 1),
    "log10": (_log_n(10), 1, 1),
    "exp": (_exp, 1, 1),
    "sqrt": (_sqrt, 1, 1),
    "abs": (abs, 1, 1),
    "min": (min, 2, 8),
    "max": (max, 2, 8),
}
MAX_EXPONENT = 1024.0
MAX_LENGTH = 500
MAX_NODES = 200
_NAME_RE = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


class FormulaError(ValueError):
    """A formula that cannot be parsed or evaluated; `message` is shown to the organiser as is."""

    def __init__(self, message: str):
        super().__init__(message)
        self.message = message


_BINOPS = {ast.Add: "+", ast.Sub: "-", ast.Mult: "*", ast.Div: "/", ast.Pow: "**"}
_DISALLOWED_OPS = {
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.MatMult: "@",
    ast.BitXor: "^ (use ** for powers)",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.LShift: "<<",
    ast.RShift: ">>",
}


def _describe(node: ast.AST) -> str:
    kinds = {
        ast.Attribute: "attribute access",
        ast.Subscript: "indexing",
        ast.Compare: "comparisons",
        ast.BoolOp: "and/or",
        ast.Lambda: "lambda",
        ast.IfExp: "if/else",
        ast.List: "lists",
        ast.Tuple: "tuples",
        ast.Dict: "dictionaries",
        ast.Set: "sets",
        ast.JoinedStr: "strings",
        ast.ListComp: "comprehensions",
        ast.GeneratorExp: "generators",
        ast.NamedExpr: ":=",
        ast.Starred: "*args",
        ast.Await: "await",
        ast.Slice: "slices",
    }
    for cls, label in kinds.items():
        if isinstance(node, cls):
            return label
    return type(node).__name__


@dataclass
class Formula:
    """A parsed, validated formula. `names` are the quantities it uses (constants excluded)."""

    source: str
    tree: ast.Expression
    constants: dict[str, float] = field(default_factory=dict)
    names: frozenset[str] = frozenset()

    def evaluate(self, values: dict[str, float | None]) -> float:
        """The formula's value for measured `values`; `FormulaError` when it cannot be computed."""
        env: dict[str, float] = dict(self.constants)
        for name in self.names:
            value = values.get(name)
            if value is None:
                raise FormulaError(
                    f"The formula needs {QUANTITIES.get(name, name)} ({name}), which was not measured."
                )
            value = float(value)
            if not math.isfinite(value):
                raise FormulaError(f"{name} is not a finite number ({value}).")
            env[name] = value
        result = _eval(self.tree.body, env)
        if not math.isfinite(result):
            raise FormulaError("The formula's result is not a finite number.")
        return result


def _check_names(constants: dict[str, float]) -> dict[str, float]:
    checked = {}
    for name, value in (constants or {}).items():
        if not _NAME_RE.match(name):
            raise FormulaError(f"“{name}” is not a valid constant name (letters, digits and _).")
        if name in QUANTITIES or name in FUNCTIONS:
            raise FormulaError(f"The constant “{name}” has the name of a measured quantity or function.")
        try:
            value = float(value)
        except (TypeError, ValueError):
            raise FormulaError(f"The constant {name} must be a number, not “{value}”.") from None
        if not math.isfinite(value):
            raise FormulaError(f"The constant {name} must be a finite number.")
        checked[name] = value
    return checked


def formula_parse(source: str, *, constants: dict[str, float] | None = None) -> Formula:
    """Parses and validates `source`; raises `FormulaError` naming the first problem."""
    constants = _check_names(constants or {})
    source = (source or "").strip()
    if not source:
        raise FormulaError("The formula is empty.")
    if len(source) > MAX_LENGTH:
        raise FormulaError(f"The formula is longer than {MAX_LENGTH} characters.")
    try:
        tree = ast.parse(source, mode="eval")
    except (RecursionError, MemoryError):
        raise FormulaError("The formula is nested too deeply.") from None
    except SyntaxError as exc:
        where = f" at column {exc.offset}" if exc.offset else ""
        raise FormulaError(f"The formula is not a valid expression{where}: {exc.msg}.") from None
    nodes = list(ast.walk(tree))
    if len(nodes) > MAX_NODES:
        raise FormulaError(f"The formula is too complex (more than {MAX_NODES} parts).")
    names: set[str] = set()
    for node in nodes:
        if isinstance(node, ast.Expression | ast.Load):
            continue
        if isinstance(node, ast.Constant):
            if isinstance(node.value, bool) or not isinstance(node.value, int | float):
                raise FormulaError(f"Only numbers are allowed as literals, not {node.value!r}.")
            try:
                if not math.isfinite(float(node.value)):
                    raise OverflowError
            except OverflowError:
                raise FormulaError("A number in the formula is too large.") from None
            continue
        if isinstance(node, ast.BinOp):
            op = type(node.op)
            if op not in _BINOPS:
                raise FormulaError(
                    f"The operator {_DISALLOWED_OPS.get(op, op.__name__)} is not allowed; "
                    "use + - * / ** and parentheses."
                )
            continue
        if isinstance(node, ast.UnaryOp):
            if not isinstance(node.op, ast.USub | ast.UAdd):
                raise FormulaError("Only unary minus and plus are allowed.")
            continue
        if isinstance(node, ast.operator | ast.unaryop):
            continue
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise FormulaError(f"{_describe(node.func).capitalize()} not allowed in a score formula.")
            if node.func.id not in FUNCTIONS:
                raise FormulaError(f"Unknown function “{node.func.id}”; allowed: {', '.join(FUNCTIONS)}.")
            if node.keywords:
                raise FormulaError("Functions take plain arguments, not keyword arguments.")
            _, lo, hi = FUNCTIONS[node.func.id]
            if not lo <= len(node.args) <= hi:
                expected = str(lo) if lo == hi else f"{lo} to {hi}"
                raise FormulaError(f"{node.func.id}() takes {expected} argument(s), not {len(node.args)}.")
            continue
        if isinstance(node, ast.Name):
            if node.id in FUNCTIONS:
                # Only legal as the callee of a Call, which is checked above and skipped in _eval.
                continue
            if node.id in QUANTITIES:
                names.add(node.id)
            elif node.id not in constants:
                known = sorted(QUANTITIES) + sorted(constants)
                raise FormulaError(f"Unknown name “{node.id}”; use one of: {', '.join(known)}.")
            continue
        raise FormulaError(f"{_describe(node).capitalize()} not allowed in a score formula.")
    # A function name used as a value (e.g. "log + 1") is caught here.
    for node in nodes:
        if isinstance(node, ast.Name) and node.id in FUNCTIONS:
            parent_ok = any(isinstance(p, ast.Call) and p.func is node for p in nodes)
            if not parent_ok:
                raise FormulaError(f"{node.id} is a function: write {node.id}(…).")
    return Formula(source=source, tree=tree, constants=constants, names=frozenset(names))


# Plausible values of every quantity (50 ms at 2 W: 100 mJ): `formula_validate` tries a formula on them,
# and the console's preview shows what the formula gives for them.
SAMPLE_VALUES = {
    "psnr": 30.0,
    "ssim": 0.9,
    "accuracy_top1": 80.0,
    "accuracy_top3": 90.0,
    "si_rmse": 0.3,
    "rmse": 3.0,
    "runtime_ms": 50.0,
    "memory_mb": 100.0,
    "power_w": 2.0,
    "energy_mj": 100.0,
}


def formula_validate(
    source: str, *, constants: dict[str, float] | None = None, sample: dict[str, float] | None = None
) -> Formula:
    """Parses, then evaluates once on plausible sample values so an organiser learns at once about a
    formula that can never be computed (e.g. `psnr / 0`)."""
    formula = formula_parse(source, constants=constants)
    formula.evaluate({**SAMPLE_VALUES, **(sample or {})})
    return formula


def _eval(node: ast.AST, env: dict[str, float]) -> float:
    if isinstance(node, ast.Constant):
        return float(node.value)
    if isinstance(node, ast.Name):
        return env[node.id]
    if isinstance(node, ast.UnaryOp):
        value = _eval(node.operand, env)
        return -value if isinstance(node.op, ast.USub) else value
    if isinstance(node, ast.BinOp):
        left = _eval(node.left, env)
        right = _eval(node.right, env)
        op = type(node.op)
        if op is ast.Add:
            result = left + right
        elif op is ast.Sub:
            result = left - right
        elif op is ast.Mult:
            result = left * right
        elif op is ast.Div:
            if right == 0:
                raise FormulaError("Division by zero.")
            result = left / right
        else:
            result = _safe_pow(left, right)
        if not math.isfinite(result):
            raise FormulaError("An intermediate result is too large to compute.")
        return result
    if isinstance(node, ast.Call):
        func, _, _ = FUNCTIONS[node.func.id]
        args = [_eval(a, env) for a in node.args]
        try:
            result = float(func(*args))
        except OverflowError:
            raise FormulaError(f"{node.func.id}() overflowed.") from None
        return result
    raise FormulaError(f"{_describe(node)} not allowed in a score formula.")  # unreachable after parse
