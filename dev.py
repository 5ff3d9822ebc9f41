#!/usr/bin/env python3
"""Bootstrap and run rest-assets with nothing but python3.

    python3 dev.py demo     # create .venv, install, load the bundled demo API into DuckDB
    python3 dev.py test     # create .venv, install, run the whole test suite
    python3 dev.py ui       # create .venv, install, open the Dagster UI on the demo project
    python3 dev.py lint     # ruff check + ruff format --check + mypy

The virtual environment is (re)installed only when pyproject.toml changes.
"""

from __future__ import annotations

import hashlib
import os
import subprocess
import sys
import venv
from pathlib import Path

ROOT = Path(__file__).resolve().parent
VENV = ROOT / ".venv"
BIN = VENV / ("Scripts" if os.name == "nt" else "bin")
STAMP = VENV / ".rest-assets-installed"


def _pyproject_digest() -> str:
    return hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()


def ensure_venv() -> None:
    """Create .venv and install the package with its dev extras when needed."""
    if not (BIN / "python").exists():
        print(f"creating virtual environment in {VENV}", flush=True)
        venv.EnvBuilder(with_pip=True).create(VENV)
    digest = _pyproject_digest()
    if STAMP.exists() and STAMP.read_text() == digest:
        return
    print("installing rest-assets and its dependencies (once)", flush=True)
    pip = [str(BIN / "python"), "-m", "pip", "--disable-pip-version-check", "-q"]
    subprocess.run([*pip, "install", "--upgrade", "pip"], check=True)
    subprocess.run([*pip, "install", "-e", f"{ROOT}[dev]"], check=True)
    STAMP.write_text(digest)


def run(args: list[str], env: dict[str, str] | None = None) -> int:
    full_env = {**os.environ, **(env or {})}
    full_env["PATH"] = f"{BIN}{os.pathsep}{full_env.get('PATH', '')}"
    return subprocess.run(args, cwd=ROOT, env=full_env).returncode


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "help"
    rest = argv[1:]
    if command not in {"demo", "test", "ui", "lint"}:
        print(__doc__)
        return 0 if command in {"help", "-h", "--help"} else 2
    ensure_venv()
    # run history of `demo` / `ui`; rest-assets sets the home up (its dagster.yaml turns
    # Dagster's telemetry and the UI's first-visit dialog off, see README "The Dagster home")
    home = os.environ.get("DAGSTER_HOME") or str(ROOT / ".dagster_home")
    if command == "demo":
        return run([str(BIN / "rest-assets"), "demo", *rest], {"DAGSTER_HOME": home})
    if command == "test":
        return run([str(BIN / "python"), "-m", "pytest", *rest])
    if command == "lint":
        code = run([str(BIN / "ruff"), "check", "."])
        code = code or run([str(BIN / "ruff"), "format", "--check", "."])
        return code or run([str(BIN / "python"), "-m", "mypy"])  # settings: pyproject.toml
    # ui: serve the demo API and open the Dagster UI on the demo project
    return run([str(BIN / "rest-assets"), "demo", "--ui", *rest], {"DAGSTER_HOME": home})


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
