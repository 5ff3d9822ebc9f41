"""`RestApiComponent`: the same sources.yml config, as a Dagster component in a `dg` project.

`dg scaffold defs rest_assets.RestApiComponent my_api` writes `defs/my_api/defs.yaml` and a
starter `sources.yml` beside it (`--base-url`, `--database` fill them in):

    type: rest_assets.RestApiComponent
    attributes:
      sources_file: sources.yml          # beside defs.yaml; or inline `sources:` below
      database: warehouse.duckdb         # relative to the project root
      translation:                       # optional, as dagster-dlt's and dagster-sling's
        key_prefix: raw
        group_name: "{{ source.name }}_api"
        tags: {layer: raw}
        owners: [team:data]
        automation_condition: "{{ automation_condition.eager() }}"

`translation` takes the asset attributes the other integrations' components take (`key`,
`key_prefix`, `group_name`, `tags`, `owners`, `kinds`, `automation_condition`,
`description`, `metadata`, `code_version`), templated per resource with `source` and
`resource` (the config models), `data` (a `ResourceAssetData`) and `spec` (the spec the
config made). It is applied through a `RestAssetsTranslator`, so dependencies, checks,
schedules and sensors follow the keys it gives; a subclass can override `get_asset_spec`.

The component is registered through the `dagster_dg_cli.registry_modules` entry point, so
`dg list components` shows it and `dg check yaml` validates `attributes`.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import dagster as dg
from dagster.components.utils.translation import TranslationFn, TranslationFnResolver
from pydantic import BaseModel, Field

from rest_assets.config.models import NAME_PATTERN
from rest_assets.dagster.definitions import build_definitions
from rest_assets.dagster.naming import asset_name
from rest_assets.dagster.translator import ResourceAssetData, RestAssetsTranslator
from rest_assets.errors import ConfigError

DEFAULT_DATABASE = "warehouse.duckdb"
STARTER_SOURCES = "sources.yml"


def _template_vars(data: ResourceAssetData) -> dict[str, Any]:
    return {"data": data, "source": data.source, "resource": data.resource}


class RestApiScaffoldParams(BaseModel):
    """Options of `dg scaffold defs rest_assets.RestApiComponent NAME`."""

    base_url: str | None = Field(
        default=None,
        description="Base URL of the API for the starter sources.yml (default: a "
        "${NAME_BASE_URL} reference with a public example API as its fallback).",
    )
    database: str | None = Field(
        default=None, description="DuckDB file, relative to the project root."
    )


class RestApiScaffolder(dg.Scaffolder[RestApiScaffoldParams]):
    """Writes `defs.yaml` and, unless one is there, a starter `sources.yml` beside it."""

    @classmethod
    def get_scaffold_params(cls) -> type[RestApiScaffoldParams]:
        return RestApiScaffoldParams

    def scaffold(self, request: dg.ScaffoldRequest[RestApiScaffoldParams]) -> None:
        params = request.params
        attributes: dict[str, Any] = {"sources_file": STARTER_SOURCES}
        if params.database:
            attributes["database"] = params.database
        dg.scaffold_component(request, attributes)
        starter = request.target_path / STARTER_SOURCES
        if request.scaffold_format == "yaml" and not starter.exists():
            starter.write_text(starter_sources(request.target_path.name, params.base_url))


def starter_sources(name: str, base_url: str | None = None) -> str:
    """A small working sources.yml for a new component: posts and their comments."""
    source = asset_name(name).strip("_") or "api"
    if not NAME_PATTERN.match(source):  # a source name may not start with a digit
        source = f"api_{source}"
    variable = f"{source.upper()}_BASE_URL"
    url = base_url or f"${{{variable}:-https://jsonplaceholder.typicode.com/}}"
    return f"""\
# A starter config for rest-assets: one source, a resource and a child resource.
# Replace the API, run `dg list defs`, then `dg launch --assets '*'` or `dg dev`.
# Every key: the config reference of rest-assets (docs/config-reference.md).
sources:
  - name: {source}
    description: Posts and their comments
    client:
      base_url: "{url}"
      # auth: {{type: bearer, token: "${{{source.upper()}_TOKEN}}"}}
      paginator: single_page
    resource_defaults:
      primary_key: id
      write_disposition: merge
    resources:
      - name: posts
        endpoint: posts
      - name: comments
        endpoint: posts/{{resources.posts.id}}/comments
        include_from_parent: [title]
"""


@dg.scaffold_with(RestApiScaffolder)
class RestApiComponent(dg.Component, dg.Resolvable, dg.Model):
    """Dagster assets (with checks, schedules and outputs) for declarative REST API sources.

    Give either `sources_file` (a sources.yml, relative to this defs.yaml) or `sources`
    inline. Use `${VAR}` for secrets: they stay references until a request is sent.
    `translation` shapes each resource's asset spec, as in dagster-dlt's and
    dagster-sling's components.
    """

    sources_file: str | None = Field(
        default=None, description="Path of a sources.yml, relative to the folder of defs.yaml."
    )
    sources: list[dict[str, Any]] | None = Field(
        default=None,
        description="Sources inline, in the shape of a sources.yml's `sources:` list.",
    )
    database: str | None = Field(
        default=None,
        description="DuckDB file, relative to the project root (default: "
        "$REST_ASSETS_DATABASE, else warehouse.duckdb in the project root).",
    )
    translation: (
        Annotated[
            TranslationFn[ResourceAssetData],
            TranslationFnResolver(template_vars_for_translation_fn=_template_vars),
        ]
        | None
    ) = Field(
        default=None,
        description="Asset attributes for every resource (key, key_prefix, group_name, tags, "
        "owners, kinds, automation_condition, ...), templated with {{ source }}, "
        "{{ resource }}, {{ data }} and {{ spec }}.",
    )

    def get_asset_spec(self, data: ResourceAssetData) -> dg.AssetSpec:
        """The spec of one resource: the config's, then `translation` (override to change)."""
        if self.translation is None:
            return data.spec
        return self.translation(data.spec, data)

    def build_defs(self, context: dg.ComponentLoadContext) -> dg.Definitions:
        """Build the definitions with `rest_assets.build_definitions`."""
        here = context.path if context.path.is_dir() else context.path.parent
        database = self._database(Path(context.project_root))
        if (self.sources_file is None) == (self.sources is None):
            raise ConfigError(
                f"{here / 'defs.yaml'}: RestApiComponent needs exactly one of sources_file "
                "(a path to sources.yml) or sources (the list inline)"
            )
        translator = _ComponentTranslator(self)
        if self.sources_file is not None:
            return build_definitions(
                here / self.sources_file, database=database, translator=translator
            )
        return build_definitions(
            {"sources": self.sources}, database=database, translator=translator
        )

    def _database(self, project_root: Path) -> Path:
        chosen = self.database or os.environ.get("REST_ASSETS_DATABASE") or DEFAULT_DATABASE
        path = Path(chosen).expanduser()
        return path if path.is_absolute() else project_root / path


class _ComponentTranslator(RestAssetsTranslator):
    """The component's `get_asset_spec` (its `translation`) as a rest-assets translator."""

    def __init__(self, component: RestApiComponent) -> None:
        self._component = component

    def get_asset_spec(self, data: ResourceAssetData) -> dg.AssetSpec:
        return self._component.get_asset_spec(
            ResourceAssetData(data.source, data.resource, super().get_asset_spec(data))
        )
