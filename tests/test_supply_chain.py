"""The lock file stays in step with pyproject.toml, and `make audit` never calls an unchecked
run clean."""

import re
import tomllib
from pathlib import Path

from scripts.audit import summarise

ROOT = Path(__file__).resolve().parent.parent


def _name(requirement: str) -> str:
    return re.split(r"[\[<>=!~; ]", requirement, maxsplit=1)[0].lower().replace("_", "-")


def test_every_dependency_is_locked_with_a_version_and_hashes():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = {_name(r) for r in project["dependencies"] + project["optional-dependencies"]["test"]}
    lock = (ROOT / "requirements.lock").read_text()
    pinned = {
        m.group(1).lower()
        for m in re.finditer(r"^([A-Za-z0-9_.-]+)==\S+(?: ;[^\n]*)? \\\n\s+--hash=sha256:", lock, re.M)
    }
    assert wanted <= pinned, f"not in requirements.lock (run make lock): {sorted(wanted - pinned)}"


def test_an_audit_that_could_not_check_a_package_is_not_clean(capsys):
    checked = {"name": "fastapi", "version": "0.165.0", "vulns": []}
    unchecked = {"name": "alembic", "version": "1.20.1", "skip_reason": "Dependency not found on PyPI"}
    assert summarise([checked], "pypi") == 0
    assert summarise([checked, unchecked], "pypi") == 2
    assert "NOT CHECKED" in capsys.readouterr().out
    vulnerable = {"name": "jinja2", "version": "3.0.0", "vulns": [{"id": "GHSA-x", "fix_versions": ["3.1.4"]}]}
    assert summarise([vulnerable, unchecked], "pypi") == 1
    assert "VULNERABLE jinja2 3.0.0: GHSA-x (fixed in 3.1.4)" in capsys.readouterr().out
