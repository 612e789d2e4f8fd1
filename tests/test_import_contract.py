"""The import contract of review_ui (DESIGN.md): pages are presentation only.

A page reads through its slice's service functions, the same ones the API routes call, and shows
their schemas; it never queries the database itself. So review_ui/*.py may import, from bestpart:

- api.<slice>.service  the slices' functions (the same the API routes call)
- api.<slice>.schemas  what those functions return and the enums a page names (Role, ReviewState ...)
- and the few modules in ALLOWED below, each for the reason given there,

and never sqlmodel or sqlalchemy: without them a page cannot build a query. Models modules are out
too: with a model class and the request's session a page could still read rows (session.get).
Everything else (stdlib, fastapi, starlette, review_ui itself) is free.
"""

import ast
import importlib.util
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PAGES = sorted((ROOT / "review_ui").glob("*.py"))

SLICE_MODULE = re.compile(r"^api\.[a-z_]+\.(service|schemas)$")
ALLOWED = {
    "api.auth": "who is signed in, the page policies and the sign-in form's CSRF token",
    "api.db": "SessionDep: the request's session, handed on to the services",
    "api.params": "the parameter types every route shares (Id, MAX_ID)",
    "api.pagination": "offset_of: a page number to the offset the services take",
    "api.clips.transcripts": "the clips slice's one reader of transcript.json (transcripts.read)",
    "api.samples": "load_samples: the first-run loader of the sample clips, a service kept at the top of api/",
    "api.core.policies": "the named role sets the pages' policies and the navigation derive from",
    "api.core.errors": "the errors a service raises, which a page may answer in place (a conflict shown inline)",
    "api.core.types": "utcnow, the one clock",
}
ONLY_NAMES = {"api.db": {"SessionDep"}}  # not the engine, not session_scope: no session of a page's own
FORBIDDEN = ("sqlmodel", "sqlalchemy")
# Imports that break the contract for a reason outside review_ui, each with its way out.
EXCEPTIONS = {
    ("routes.py", "api.users.routes"): (
        {"set_session_cookie"},
        "the sign-in page sets the same cookie as "
        "POST /api/v1/auth/login; it belongs in api/auth.py, beside "
        "set_login_csrf_cookie, which this change could not edit",
    ),
}


def imports_of(source: str, package: str = "review_ui") -> list[tuple[int, str, set[str]]]:
    """(line, module, names) for every import in the source, at any depth (a function's own
    imports too). `from api.clips import service` is the module api.clips.service."""
    found = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found += [(node.lineno, alias.name, set()) for alias in node.names]
        elif isinstance(node, ast.ImportFrom):
            module = node.module or ""
            if node.level:  # relative: within the package
                module = ".".join(filter(None, [package, module]))
            names = {alias.name for alias in node.names}
            submodules = {name for name in names if _is_module(f"{module}.{name}")}
            found += [(node.lineno, f"{module}.{name}", set()) for name in sorted(submodules)]
            if names - submodules:
                found.append((node.lineno, module, names - submodules))
    return found


def _is_module(name: str) -> bool:
    try:
        return importlib.util.find_spec(name) is not None
    except ModuleNotFoundError:
        return False


def breaches(filename: str, source: str) -> list[str]:
    """What in this page's imports breaks the contract, one line each."""
    problems = []
    for line, module, names in imports_of(source):
        where = f"review_ui/{filename}:{line} imports {module}"
        if module.split(".")[0] in FORBIDDEN:
            problems.append(f"{where}: pages never touch the database layer; call a service")
        elif (filename, module) in EXCEPTIONS:
            allowed_names, _ = EXCEPTIONS[(filename, module)]
            if names - allowed_names:
                problems.append(f"{where} {sorted(names - allowed_names)}: only {sorted(allowed_names)} is excepted")
        elif module == "api" or module.startswith("api."):
            if not (SLICE_MODULE.match(module) or module in ALLOWED):
                problems.append(f"{where}: pages import api.<slice>.service or .schemas, or {sorted(ALLOWED)}")
            elif module in ONLY_NAMES and names - ONLY_NAMES[module]:
                problems.append(f"{where} {sorted(names - ONLY_NAMES[module])}: only {sorted(ONLY_NAMES[module])}")
    return problems


def test_pages_import_only_services_schemas_and_the_allowed_modules():
    problems = [problem for page in PAGES for problem in breaches(page.name, page.read_text())]
    assert problems == [], "\n".join(problems)


def test_the_contract_catches_a_page_that_queries():
    source = (
        "from sqlmodel import select\n"
        "import sqlalchemy as sa\n"
        "from api.clips.models import Clip\n"
        "from api.db import SessionDep, session_scope\n"
        "from api.clips import service, models\n"
        "from api.access import visible_clip\n"
        "from api.users.routes import retry_after\n"
        "def page():\n"
        "    from api.review.models import ReviewItem\n"
    )
    found = "\n".join(breaches("routes.py", source))
    for module in ("sqlmodel", "sqlalchemy", "api.clips.models", "api.access", "api.review.models"):
        assert f"imports {module}:" in found, (module, found)
    assert "['session_scope']" in found and "['retry_after']" in found
    assert "api.clips.service" not in found


def test_an_exception_holds_for_its_own_page_and_names_only():
    excepted = "from api.users.routes import set_session_cookie\n"
    assert breaches("routes.py", excepted) == []
    assert breaches("admin.py", excepted) != []


def test_services_and_schemas_pass_and_relative_imports_resolve():
    source = (
        "from api.awards import service as awards\nfrom api.users.schemas import Role\n"
        "from api.db import SessionDep\nfrom . import charts\nfrom .pages import render\n"
    )
    assert breaches("awards.py", source) == []
    modules = {module for _, module, _ in imports_of(source)}
    assert {"api.awards.service", "review_ui.charts", "review_ui.pages"} <= modules


def test_every_exception_is_still_needed():
    """An exception nobody needs any more is a hole in the contract: take it out."""
    used = {(page.name, module) for page in PAGES for _, module, _ in imports_of(page.read_text())}
    assert set(EXCEPTIONS) <= used, f"no longer imported, so no longer excepted: {set(EXCEPTIONS) - used}"


def test_every_allowed_module_exists():
    assert all(_is_module(module) for module in ALLOWED), [m for m in ALLOWED if not _is_module(m)]
