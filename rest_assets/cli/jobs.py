"""The job a `rest-assets materialize` run executes, rebuilt from the config in any process.

Runs go through the definitions' own asset job (`__ASSET_JOB`), the job the UI launches, so
a CLI run can be opened, re-executed and re-executed from failure in the UI of a workspace
that loads the same config. The job is reconstructable: every process a multiprocess
executor starts calls `definitions()` again, which reads the config and database from the
same environment variables as the project's `definitions.py`.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager

import dagster as dg

# Dagster's own CLI builds its runs from a repository pointer the same way; the class is not
# in dagster's public namespace.
from dagster._core.definitions.reconstruct import ReconstructableRepository

from rest_assets.dagster import build_definitions

CONFIG_ENV = "REST_ASSETS_CONFIG"
DATABASE_ENV = "REST_ASSETS_DATABASE"
ASSET_JOB = "__ASSET_JOB"

# Built once per process and (config, database): Dagster asks a reconstructable repository
# for its definitions several times in one run (5 builds per CLI run, ~0.4 s for a source of
# 40 resources), and `rest-assets materialize` has built them already to resolve --select.
_built: dict[tuple[str, str | None], dg.Definitions] = {}


def definitions() -> dg.Definitions:
    """The definitions of `$REST_ASSETS_CONFIG` (and `$REST_ASSETS_DATABASE`, if set)."""
    config = os.environ.get(CONFIG_ENV)
    if not config:
        raise dg.DagsterInvariantViolationError(f"{CONFIG_ENV} is not set")
    database = os.environ.get(DATABASE_ENV) or None
    key = (config, database)
    if key not in _built:
        _built[key] = build_definitions(config, database=database)
    return _built[key]


def remember_definitions(config: str, database: str, defs: dg.Definitions) -> None:
    """Let `definitions()` reuse definitions already built from `config` onto `database`."""
    _built[(config, database)] = defs


@contextmanager
def reconstructable_asset_job(config: str, database: str) -> Iterator[dg.ReconstructableJob]:
    """The asset job of `config`, as Dagster rebuilds it in this and any other process.

    The environment carries the config and database while the job runs (the processes a
    multiprocess executor starts inherit it) and is restored afterwards.
    """
    saved = {name: os.environ.get(name) for name in (CONFIG_ENV, DATABASE_ENV)}
    os.environ[CONFIG_ENV] = config
    os.environ[DATABASE_ENV] = database
    try:
        repository = ReconstructableRepository.for_module(__name__, "definitions")
        yield repository.get_reconstructable_job(ASSET_JOB)
    finally:
        for name, value in saved.items():
            if value is None:
                os.environ.pop(name, None)
            else:
                os.environ[name] = value
