"""The codes table (`cedarheights.errors.ERROR_CODES`) lists every code an error answer can carry, once, with its
status: the codes the code raises, DRF's own, and those the README names agree with it.

Made to fail first: a code added to a domain error or an `error_body(code=…)` call without a row, a row left for
a code nothing gives any more, and a README status that disagrees with the table each fail one of these tests.
"""

import ast
import importlib
import re
from pathlib import Path

from rest_framework import exceptions

from cedarheights.errors import ERROR_CODES, DomainError

ROOT = Path(__file__).resolve().parents[2]
LAYERS = ("cedarheights", "accounts", "scheduling", "enrollment", "billing")
# What DRF raises on its own before or around our code (its ValidationError is answered `invalid`).
DRF_ERRORS = (
    exceptions.ParseError,
    exceptions.AuthenticationFailed,
    exceptions.NotAuthenticated,
    exceptions.PermissionDenied,
    exceptions.NotFound,
    exceptions.MethodNotAllowed,
    exceptions.NotAcceptable,
    exceptions.UnsupportedMediaType,
    exceptions.Throttled,
)


def source_files():
    for layer in LAYERS:
        for path in sorted((ROOT / layer).rglob("*.py")):
            if "migrations" not in path.parts:
                yield path


def literal_codes(node: ast.AST) -> set[str]:
    """ "x", or both branches of `"x" if … else "y"`."""
    if isinstance(node, ast.Constant) and isinstance(node.value, str):
        return {node.value}
    if isinstance(node, ast.IfExp):
        return literal_codes(node.body) | literal_codes(node.orelse)
    return set()


def codes_in(path: Path) -> set[str]:
    """Every literal `code = "x"` and `code="x"` in a module, but a form field's `ValidationError(…, code=)` (which
    names a field's error, not the answer)."""
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "code" for t in node.targets):
            found |= literal_codes(node.value)
        elif isinstance(node, ast.Call) and getattr(node.func, "attr", getattr(node.func, "id", "")) != (
            "ValidationError"
        ):
            found |= {code for kw in node.keywords if kw.arg == "code" for code in literal_codes(kw.value)}
    return found


def domain_errors(base=DomainError):
    for subclass in base.__subclasses__():
        yield subclass
        yield from domain_errors(subclass)


def test_every_code_the_code_gives_has_one_row_and_every_row_a_code():
    given = set().union(*(codes_in(path) for path in source_files())) - {DomainError.code}
    given |= {error.default_code for error in DRF_ERRORS}

    assert sorted(given - set(ERROR_CODES)) == [], "codes without a row in ERROR_CODES"
    assert sorted(set(ERROR_CODES) - given) == [], "rows for codes nothing gives"


def declares_a_code(path: Path) -> bool:
    """The module declares a class with its own `code` (an error class)."""
    return any(
        isinstance(node, ast.ClassDef)
        and any(isinstance(s, ast.Assign) and any(getattr(t, "id", "") == "code" for t in s.targets) for s in node.body)
        for node in ast.walk(ast.parse(path.read_text()))
    )


def test_every_domain_error_answers_the_status_its_row_names():
    for path in filter(declares_a_code, source_files()):  # imported, so every subclass is known
        importlib.import_module(".".join(path.relative_to(ROOT).with_suffix("").parts))
    errors = [error for error in domain_errors() if "tests" not in error.__module__]
    assert {"LockedOut", "DatabaseUnavailable", "LessonConflict"} <= {error.__name__ for error in errors}

    wrong = {e.__name__: (e.code, e.status) for e in errors if ERROR_CODES[e.code][0] != e.status}
    assert wrong == {}


def test_the_readme_names_codes_with_the_statuses_of_the_table():
    readme = (ROOT / "README.md").read_text()
    with_status = [
        *((code, int(status)) for status, code in re.findall(r"`?(\d{3})`? `([a-z_]+)`", readme)),
        *((code, int(status)) for status, code in re.findall(r"`(\d{3}) ([a-z_]+)`", readme)),
        *((code, int(status)) for code, status in re.findall(r"`([a-z_]+)` \((\d{3})\)", readme)),
        *((code, int(status)) for status, code in re.findall(r"\((\d{3}), `([a-z_]+)`\)", readme)),
    ]
    bare = re.findall(r'"?code"?: "([a-z_]+)"', readme)
    assert len(with_status) >= 8 and bare, "the README's error codes are no longer found: update these patterns"

    assert [(code, status) for code, status in with_status if ERROR_CODES.get(code, (None,))[0] != status] == []
    assert [code for code in bare if code not in ERROR_CODES] == []
    assert "`ERROR_CODES`" in readme  # it points at the table rather than copying it
