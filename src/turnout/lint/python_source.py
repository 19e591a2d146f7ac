"""Python: model ids in the positions an SDK call or a setting puts them, found with ``ast``.

A parser rather than a regex, because precision is the point: ``model="gpt-4o"``
in a call is a model id, while ``encoding_for_model("gpt-4o")`` or a log message
mentioning gpt-4o is not. The positions read:

* string keyword arguments ``model=``, ``model_name=``, ``model_id=``,
  ``deployment_name=``, ``engine=`` of any call;
* values of those keys in dict literals (``{"model": "gpt-4o", ...}``);
* assignments to ``MODEL``, ``*_MODEL``, ``model``, ``*_model_name`` (names or
  attributes, annotated or not) and such parameters' defaults;
* the default of ``os.getenv("OPENAI_MODEL", "gpt-4o")`` / ``environ.get(...)``.

A file that does not parse yields nothing: the linter is not a syntax checker.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator

from turnout.lint.base import Candidate

__all__ = ["PythonExtractor"]

_KEYWORDS = frozenset({"model", "model_name", "model_id", "deployment_name", "engine"})
_NAME = re.compile(r"(?:\w*_)?model(?:_name|_id)?", re.IGNORECASE)
_ENV_NAME = re.compile(r"\w*MODEL\w*")
_GETTERS = frozenset({"getenv", "get"})


class PythonExtractor:
    """Reads ``.py`` and ``.pyi`` files."""

    name = "python"
    suffixes = (".py", ".pyi")

    def candidates(self, text: str) -> Iterator[Candidate]:
        try:
            tree = ast.parse(text)
        except (SyntaxError, ValueError, RecursionError):
            return
        lines = text.splitlines()
        for node in _string_nodes(tree):
            yield _candidate(node, lines)


def _string_nodes(tree: ast.AST) -> Iterator[ast.Constant]:
    for node in ast.walk(tree):
        found: list[ast.Constant | None] = []
        if isinstance(node, ast.Call):
            found.extend(_from_call(node))
        elif isinstance(node, ast.Dict):
            found.extend(
                _as_str(value)
                for key, value in zip(node.keys, node.values, strict=True)
                if _text(key) in _KEYWORDS
            )
        elif isinstance(node, ast.Assign):
            if any(_model_name(target) for target in node.targets):
                found.append(_as_str(node.value))
        elif isinstance(node, ast.AnnAssign):
            if _model_name(node.target):
                found.append(_as_str(node.value))
        elif isinstance(node, ast.arguments):
            found.extend(_from_defaults(node))
        yield from (constant for constant in found if constant is not None)


def _from_call(call: ast.Call) -> Iterator[ast.Constant | None]:
    for keyword in call.keywords:
        if keyword.arg in _KEYWORDS:
            yield _as_str(keyword.value)
    func = call.func
    called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", None)
    if called in _GETTERS and len(call.args) >= 2:
        variable = _text(call.args[0])
        if variable is not None and _ENV_NAME.fullmatch(variable):
            yield _as_str(call.args[1])


def _from_defaults(arguments: ast.arguments) -> Iterator[ast.Constant | None]:
    positional = [*arguments.posonlyargs, *arguments.args]
    with_default = positional[len(positional) - len(arguments.defaults) :]
    pairs = [
        *zip(with_default, arguments.defaults, strict=True),
        *zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True),
    ]
    for arg, default in pairs:
        if _NAME.fullmatch(arg.arg):
            yield _as_str(default)


def _model_name(target: ast.expr) -> bool:
    if isinstance(target, ast.Name):
        return _NAME.fullmatch(target.id) is not None
    if isinstance(target, ast.Attribute):
        return _NAME.fullmatch(target.attr) is not None
    return False


def _as_str(node: ast.expr | None) -> ast.Constant | None:
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return node
    return None


def _text(node: ast.expr | None) -> str | None:
    constant = _as_str(node)
    return None if constant is None else str(constant.value)


def _candidate(node: ast.Constant, lines: list[str]) -> Candidate:
    """Point at the id's first character, not at the quote or a string prefix.

    ``col_offset`` counts UTF-8 bytes; the column reported counts characters,
    as editors and GitHub annotations do.
    """
    value = str(node.value)
    line_no = node.lineno
    line = lines[line_no - 1] if 0 < line_no <= len(lines) else ""
    start = len(line.encode("utf-8")[: node.col_offset].decode("utf-8", errors="replace"))
    first = value.split("\n", 1)[0]
    found = line.find(first, start) if first else -1
    return Candidate(line_no, (found if found >= 0 else start) + 1, value)
