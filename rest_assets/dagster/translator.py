"""How a resource becomes a Dagster asset spec, with a seam for the user's own rules.

In YAML, `key_prefix`, `group`, `owners`, `tags`, `automation_condition` and `code_version` on
a source (for all its resources) or on a resource (or in `resource_defaults`) shape the
asset. In Python, a `RestAssetsTranslator` subclass passed to `build_definitions` or
`rest_api_assets` gets each resource's spec, as the config made it, and returns the spec to
use, in the spirit of dagster-dlt's `DagsterDltTranslator`:

    class Warehouse(RestAssetsTranslator):
        def get_asset_spec(self, data: ResourceAssetData) -> dg.AssetSpec:
            spec = super().get_asset_spec(data)
            return spec.replace_attributes(key=spec.key.with_prefix("raw"))

Keys a translator changes are followed by every dependency, check, schedule and sensor.
"""

from __future__ import annotations

from dataclasses import dataclass

import dagster as dg

from rest_assets.config.models import AutomationConfig, ResourceConfig, SourceConfig


@dataclass(frozen=True)
class ResourceAssetData:
    """What a translator is given for one resource: its config and the spec it made."""

    source: SourceConfig
    resource: ResourceConfig
    spec: dg.AssetSpec


class RestAssetsTranslator:
    """The default translation: the spec the config describes, unchanged."""

    def get_asset_spec(self, data: ResourceAssetData) -> dg.AssetSpec:
        """The asset spec of one resource (override to change keys, groups, tags...)."""
        return data.spec


def automation_condition(config: AutomationConfig | None) -> dg.AutomationCondition | None:
    """Dagster's automation condition for a config entry."""
    if config is None:
        return None
    if config.type == "eager":
        return dg.AutomationCondition.eager()
    if config.type == "on_missing":
        return dg.AutomationCondition.on_missing()
    assert config.cron is not None
    return dg.AutomationCondition.on_cron(config.cron, config.timezone)
