"""`make audit`: pip-audit over requirements.lock, and plain words for what it could not check.

pip-audit prints "No known vulnerabilities found" even when the vulnerability database answered
for none of the packages (a registry mirror without PyPI's JSON API, no network): that is not a
clean bill, so here every package it skipped is named and the run fails with exit 2.
Exit 0: every locked package checked, none vulnerable. 1: known vulnerabilities. 2: not checked.
"""

import argparse
import json
import subprocess
import sys
from pathlib import Path

LOCK = Path(__file__).resolve().parent.parent / "requirements.lock"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--service", default="pypi", choices=["pypi", "osv"], help="vulnerability database to ask (pip-audit's -s)"
    )
    args = parser.parse_args()
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "pip_audit",
            "-r",
            str(LOCK),
            "--disable-pip",
            "--format",
            "json",
            "--progress-spinner",
            "off",
            "-s",
            args.service,
        ],
        capture_output=True,
        text=True,
    )
    try:
        report = json.loads(result.stdout)
    except json.JSONDecodeError:
        last = (result.stderr.strip().splitlines() or ["no output"])[-1]
        print(
            f"make audit: could not reach the {args.service} vulnerability database, so nothing was "
            f"checked.\n  pip-audit said: {last}"
        )
        return 2
    return summarise(report["dependencies"], args.service)


def summarise(dependencies: list[dict], service: str) -> int:
    vulnerable = [d for d in dependencies if d.get("vulns")]
    skipped = [d for d in dependencies if d.get("skip_reason")]
    for dep in vulnerable:
        for vuln in dep["vulns"]:
            fixed = ", ".join(vuln.get("fix_versions") or []) or "no fixed release yet"
            print(f"VULNERABLE {dep['name']} {dep['version']}: {vuln['id']} (fixed in {fixed})")
    checked = len(dependencies) - len(skipped)
    print(
        f"make audit: {checked} of {len(dependencies)} locked packages checked against {service}; "
        f"{len(vulnerable)} with known vulnerabilities"
    )
    if skipped:
        print(
            f"NOT CHECKED: the {service} vulnerability database gave no answer for {len(skipped)} packages "
            f"(first: {skipped[0]['skip_reason']}).\n  This is not a clean result. Try `make audit "
            f"AUDIT_SERVICE=osv`, or run it where {service} is reachable."
        )
    return 1 if vulnerable else 2 if skipped else 0


if __name__ == "__main__":
    sys.exit(main())
