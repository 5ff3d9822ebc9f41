"""The Dagster layer: definitions, a step per source, state in Dagster, the IO manager."""

from rest_assets.dagster.component import RestApiComponent
from rest_assets.dagster.dbt_sources import DbtSources, dbt_sources
from rest_assets.dagster.definitions import (
    DUCKDB_RESOURCE_KEY,
    build_definitions,
    rest_api_assets,
)
from rest_assets.dagster.io_manager import IO_MANAGER_KEY, DuckDBIOManager
from rest_assets.dagster.naming import asset_key
from rest_assets.dagster.step import SourceStepError
from rest_assets.dagster.translator import ResourceAssetData, RestAssetsTranslator

__all__ = [
    "DUCKDB_RESOURCE_KEY",
    "IO_MANAGER_KEY",
    "DbtSources",
    "DuckDBIOManager",
    "ResourceAssetData",
    "RestApiComponent",
    "RestAssetsTranslator",
    "SourceStepError",
    "asset_key",
    "build_definitions",
    "dbt_sources",
    "rest_api_assets",
]
