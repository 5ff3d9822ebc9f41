"""rest-assets: declarative REST APIs as Dagster assets that land in DuckDB.

Public API:
- `build_definitions(config, database=None)`: Dagster `Definitions` for a `sources.yml`
  (path), a project dict or a `ProjectConfig`;
- `rest_api_assets(config, name=None)`: the assets of one source given as a dict in the
  shape of dlt's `RESTAPIConfig`;
- `DuckDBIOManager`: the IO manager that writes them (replace, append, merge);
- `RestApiComponent`: the same config as a Dagster component in a `dg` project;
- `RestClient`: the HTTP engine alone, for a plain Python asset (`client.paginate(...)`);
- `register_paginator`, `register_auth`: plug in custom classes by name;
- the config models (`ProjectConfig`, `SourceConfig`, `ResourceConfig`, ...).
"""

# first, so that the imports below run with the garbage collector paused (see _import_gc)
from rest_assets import _import_gc

try:
    from rest_assets.config.load import load_project, parse_project, source_from_dict
    from rest_assets.config.models import (
        ClientConfig,
        EndpointConfig,
        IncrementalConfig,
        ProjectConfig,
        ResourceConfig,
        SourceConfig,
    )
    from rest_assets.dagster.component import RestApiComponent
    from rest_assets.dagster.factory import build_definitions, rest_api_assets
    from rest_assets.dagster.io_manager import DuckDBIOManager
    from rest_assets.dagster.naming import asset_key
    from rest_assets.errors import (
        ConfigError,
        HTTPStatusError,
        MissingEnvVarError,
        PaginationLoopError,
        RestAssetsError,
    )
    from rest_assets.http.auth import register_auth
    from rest_assets.http.client import RestClient
    from rest_assets.http.paginators import register_paginator
finally:
    _import_gc.restore()

__all__ = [
    "ClientConfig",
    "ConfigError",
    "DuckDBIOManager",
    "EndpointConfig",
    "HTTPStatusError",
    "IncrementalConfig",
    "MissingEnvVarError",
    "PaginationLoopError",
    "ProjectConfig",
    "ResourceConfig",
    "RestApiComponent",
    "RestAssetsError",
    "RestClient",
    "SourceConfig",
    "asset_key",
    "build_definitions",
    "load_project",
    "parse_project",
    "register_auth",
    "register_paginator",
    "rest_api_assets",
    "source_from_dict",
]
