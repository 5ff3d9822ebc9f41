"""rest-assets: declarative REST APIs as Dagster assets that land in DuckDB.

Public API:
- `build_definitions(config, database=None, translator=None)`: Dagster `Definitions` for a
  `sources.yml` (path), a project dict or a `ProjectConfig`;
- `rest_api_assets(config, name=None, translator=None)`: the assets of one source given as a
  dict in the shape of dlt's `RESTAPIConfig` (one multi-asset per source step);
- `RestAssetsTranslator`, `ResourceAssetData`: shape asset keys, groups, tags, automation;
- `DuckDBIOManager`: the IO manager that writes them (replace, append, merge);
- `RestApiComponent`: the same config as a Dagster component in a `dg` project;
- `dbt_sources(config, database=None, translator=None)`: a dbt `sources.yml` for the tables
  (`DbtSources.to_yaml()`), keyed so dagster-dbt's default translator finds our assets;
- `RestClient`: the HTTP engine alone, for a plain Python asset (`client.paginate(...)`);
- `register_paginator`, `register_auth`: plug in custom classes by name;
- the config models (`ProjectConfig`, `SourceConfig`, `ResourceConfig`, ...).
"""

from rest_assets.config.load import load_project, parse_project, source_from_dict
from rest_assets.config.models import (
    ClientConfig,
    EndpointConfig,
    IncrementalConfig,
    ProjectConfig,
    ResourceConfig,
    SourceConfig,
)
from rest_assets.dagster import (
    DbtSources,
    DuckDBIOManager,
    ResourceAssetData,
    RestApiComponent,
    RestAssetsTranslator,
    SourceStepError,
    asset_key,
    build_definitions,
    dbt_sources,
    rest_api_assets,
)
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

__all__ = [
    "ClientConfig",
    "ConfigError",
    "DbtSources",
    "DuckDBIOManager",
    "EndpointConfig",
    "HTTPStatusError",
    "IncrementalConfig",
    "MissingEnvVarError",
    "PaginationLoopError",
    "ProjectConfig",
    "ResourceAssetData",
    "ResourceConfig",
    "RestApiComponent",
    "RestAssetsError",
    "RestAssetsTranslator",
    "RestClient",
    "SourceConfig",
    "SourceStepError",
    "asset_key",
    "build_definitions",
    "dbt_sources",
    "load_project",
    "parse_project",
    "register_auth",
    "register_paginator",
    "rest_api_assets",
    "source_from_dict",
]
