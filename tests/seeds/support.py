"""Helpers of the seed-example tests: data paths, serving a host, running, scanning."""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import dagster as dg
import duckdb

from rest_assets.demo.server import LocalAPI
from tests.seeds.loopback import HostsProxy

DATA = Path(__file__).parent / "data"
CONNECTOR = DATA / "connector"
DANGO = DATA / "dango"


def serve(proxy: HostsProxy, host: str) -> LocalAPI:
    """A started LocalAPI answering `https://<host>` (stopped with the proxy)."""
    return proxy.serve(host, LocalAPI().start())


def copy_project(name: str, into: Path) -> Path:
    """A Dango example's project folder copied as it is (dot files included)."""
    target = into / name
    shutil.copytree(DANGO / name, target)
    return target


def assert_secret_absent(
    secrets: Iterable[str], texts: Iterable[str] = (), folders: Iterable[Path] = ()
) -> int:
    """No secret in any text (logs, output) or in any byte of any file under the folders
    (DuckDB files, $DAGSTER_HOME). Returns how many files were read, so a test can check
    that the scan saw something."""
    values = [s for s in secrets if s]
    assert values, "nothing to look for"
    for text in texts:
        for secret in values:
            assert secret not in text, f"secret {secret[:3]}... found in logged text"
    files = 0
    for folder in folders:
        for path in Path(folder).rglob("*"):
            if not path.is_file():
                continue
            files += 1
            data = path.read_bytes()
            for secret in values:
                assert secret.encode() not in data, f"secret {secret[:3]}... found in {path}"
    return files


def materialize(defs: dg.Definitions, instance: dg.DagsterInstance) -> Any:
    """Every asset (and check) of the definitions in one run."""
    everything: list[Any] = [*(defs.assets or []), *(defs.asset_checks or [])]
    return dg.materialize(
        everything,
        instance=instance,
        resources=defs.resources,
        raise_on_error=False,
    )


def failure_text(result: Any) -> str:
    """Every step failure's message with its causes."""
    parts = []
    for event in result.get_step_failure_events():
        error = event.step_failure_data.error
        while error is not None:
            parts.append(error.message)
            error = error.cause
    return "\n".join(parts)


def rows(database: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(database), read_only=True) as con:
        return con.execute(sql).fetchall()


def latest_metadata(instance: dg.DagsterInstance, key: list[str]) -> dict[str, Any]:
    event = instance.get_latest_materialization_event(dg.AssetKey(key))
    assert event is not None and event.asset_materialization is not None
    return {k: v.value for k, v in event.asset_materialization.metadata.items()}
