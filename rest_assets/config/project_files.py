"""A project's files beside its config: `.env`, `.dlt/secrets.toml` and `.dlt/config.toml`.

The project folder is the config's folder, or its parent when the config is
`.dango/sources.yml` (Dango keeps `.env` and `.dlt/` at the project root).

`${VAR}` references are resolved from the environment first (`.env` files are loaded into it
without overriding what is set), then from the `.dlt` files, looked up as dlt does:
`secrets.toml` before `config.toml`, the most specific section first
(`[sources.rest_api.<source>]`, `[sources.<source>]`, `[sources.rest_api]`, `[sources]`, the
top level), the project's `.dlt/` before `~/.dlt/`. Only the names a loaded source
references are kept, in memory, in `PROJECT_VALUES`; the HTTP layer asks it when a request is
built, so a value read here is resolved and redacted exactly like an environment variable.
"""

from __future__ import annotations

import sys
import threading
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dotenv import load_dotenv

from rest_assets.errors import ConfigError

if sys.version_info >= (3, 11):
    import tomllib
else:  # Python 3.10: the same parser, installed with Dagster
    import tomli as tomllib

DANGO_FOLDER = ".dango"
DLT_FOLDER = ".dlt"
# Where a command without a config argument looks, in this order.
CONFIG_CANDIDATES = ("sources.yml", f"{DANGO_FOLDER}/sources.yml")
# dlt reads secrets before plain config values.
DLT_FILES = ("secrets.toml", "config.toml")


def discover_config(folder: Path | None = None) -> Path:
    """The config of the project in `folder` (default: the working directory):
    `sources.yml`, else `.dango/sources.yml`."""
    for candidate in CONFIG_CANDIDATES:
        # relative to the working directory when none is given, as the user would type it
        path = Path(candidate) if folder is None else folder / candidate
        if path.is_file():
            return path
    base = Path.cwd() if folder is None else folder
    raise ConfigError(
        f"no config given, and neither {' nor '.join(CONFIG_CANDIDATES)} is in {base}; "
        "pass its path, e.g. rest-assets validate path/to/sources.yml"
    )


def project_dir(config_path: Path) -> Path:
    """The folder holding a config's `.env` and `.dlt/`."""
    folder = config_path.resolve().parent
    return folder.parent if folder.name == DANGO_FOLDER else folder


def load_dotenv_files(config_path: Path) -> list[Path]:
    """Load `.env` beside the config, then the project folder's; never override the
    environment. Returns the files read."""
    read: list[Path] = []
    for folder in dict.fromkeys([config_path.resolve().parent, project_dir(config_path)]):
        env_file = folder / ".env"
        if env_file.is_file():
            load_dotenv(env_file, override=False)
            read.append(env_file)
    return read


@dataclass(frozen=True)
class FoundValue:
    """A value found in a `.dlt` file, and where (file and section), for messages."""

    value: str
    where: str


@dataclass(frozen=True)
class _Document:
    path: Path
    data: Mapping[str, Any]


class DltFiles:
    """The `.dlt` TOML files of a project folder and of the home folder, in dlt's order."""

    def __init__(self, by_kind: Mapping[str, list[_Document]]) -> None:
        self._by_kind = {kind: list(by_kind.get(kind, [])) for kind in DLT_FILES}

    @classmethod
    def discover(cls, project: Path, home: Path | None = None) -> DltFiles:
        """Read `<project>/.dlt/*.toml`, then `~/.dlt/*.toml`; absent files are skipped."""
        folders = [project / DLT_FOLDER]
        home_folder = (Path.home() if home is None else home) / DLT_FOLDER
        if home_folder.resolve() != folders[0].resolve():
            folders.append(home_folder)
        by_kind: dict[str, list[_Document]] = {}
        for kind in DLT_FILES:
            for folder in folders:
                path = folder / kind
                if path.is_file():
                    by_kind.setdefault(kind, []).append(_Document(path, _read_toml(path)))
        return cls(by_kind)

    @property
    def paths(self) -> list[Path]:
        """Every file read, in lookup order."""
        return [doc.path for kind in DLT_FILES for doc in self._by_kind[kind]]

    def lookup(self, key: str, source_name: str) -> FoundValue | None:
        """The value of `key` for a source, or None when no file holds it."""
        for kind in DLT_FILES:
            for section in sections_for(source_name):
                for document in self._by_kind[kind]:
                    table: Any = document.data
                    for part in section:
                        table = table.get(part) if isinstance(table, Mapping) else None
                    if not isinstance(table, Mapping) or key not in table:
                        continue
                    value = table[key]
                    if isinstance(value, Mapping | list):
                        continue  # a table or array is not one value
                    label = f"[{'.'.join(section)}]" if section else "top level"
                    return FoundValue(_text(value), f"{document.path} {label}")
        return None


def sections_for(source_name: str) -> list[tuple[str, ...]]:
    """Sections searched for a source's values, most specific first (as dlt reduces them)."""
    return [
        ("sources", "rest_api", source_name),
        ("sources", source_name),
        ("sources", "rest_api"),
        ("sources",),
        (),
    ]


def _text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    return str(value)


def _read_toml(path: Path) -> Mapping[str, Any]:
    try:
        return tomllib.loads(path.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path}: not valid TOML: {exc}") from None
    except OSError as exc:
        raise ConfigError(f"{path}: cannot be read: {exc.strerror}") from None


class ProjectValues:
    """Values from `.dlt` files that loaded projects reference, by variable name.

    Each project (config file) registers its own; loading it again replaces them. The HTTP
    layer asks `lookup` for a name the environment does not hold. Thread-safe.
    """

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._by_project: dict[str, dict[str, FoundValue]] = {}

    def register(self, project: str, values: Mapping[str, FoundValue]) -> None:
        """Replace the values of `project` (its config path)."""
        with self._lock:
            if values:
                self._by_project[project] = dict(values)
            else:
                self._by_project.pop(project, None)

    def lookup(self, name: str) -> str | None:
        """The value registered for `name`, or None; different values are an error."""
        with self._lock:
            found = [v[name] for v in self._by_project.values() if name in v]
        if not found:
            return None
        if len({f.value for f in found}) > 1:
            places = " and ".join(sorted({f.where for f in found}))
            raise ConfigError(
                f"${{{name}}} has different values in {places} (two projects loaded in one "
                f"process); set {name} in the environment or give the references distinct names"
            )
        return found[0].value

    def names(self) -> set[str]:
        """Every registered name (for tests and diagnostics; values are not exposed)."""
        with self._lock:
            return {name for values in self._by_project.values() for name in values}

    def clear(self) -> None:
        """Forget every project's values."""
        with self._lock:
            self._by_project.clear()


PROJECT_VALUES = ProjectValues()


def register_project_values(
    project: str,
    files: DltFiles,
    needs: Iterable[tuple[str, str, Iterable[str]]],
) -> dict[str, FoundValue]:
    """Look up what each source references and register it under `project`.

    `needs` holds `(source name, where, referenced names)`. Two sources that find different
    values for one name cannot both be served (references are resolved by name), which is
    a ConfigError naming both places.
    """
    chosen: dict[str, tuple[FoundValue, str]] = {}
    for source_name, where, names in needs:
        for name in names:
            found = files.lookup(name, source_name)
            if found is None:
                continue
            previous = chosen.get(name)
            if previous is not None and previous[0].value != found.value:
                raise ConfigError(
                    f"{where}: ${{{name}}} is {found.where} for this source but "
                    f"{previous[0].where} for {previous[1]}; rest-assets resolves a reference "
                    f"by its name for the whole project, so give the two distinct names "
                    f"(e.g. ${{{source_name.upper()}_{name}}}) or set {name} in the environment"
                )
            chosen.setdefault(name, (found, where))
    values = {name: found for name, (found, _) in chosen.items()}
    PROJECT_VALUES.register(project, values)
    return values
