"""The asset a dlt_native source gets when its resources cannot be known.

The resources of a dlt source are known only by calling its function. When that fails as
the definitions load (the extra is not installed, the module cannot be imported, a secret is
missing), the definitions still load: the source is one asset `[<source>, <source_name>]`
whose runs fail with the reason, which `rest-assets validate` prints too.

No `from __future__ import annotations` here: Dagster reads the step function's
annotations when the definitions load.
"""

import dagster as dg

from rest_assets.config.dialects.dango import DltNativeSource
from rest_assets.config.models import SourceConfig
from rest_assets.dagster.dlt_native.errors import DltNativeError
from rest_assets.dagster.dlt_native.names import DLT_SOURCE_META, KINDS, LOAD_ERROR_META
from rest_assets.dagster.naming import asset_key


def stand_in_asset(
    source: SourceConfig, native: DltNativeSource, reason: str
) -> dg.AssetsDefinition:
    """One asset whose runs fail with `where: reason`."""
    message = f"{native.where}: {reason}"
    key = asset_key(source, native.config.dlt_native.source_name)
    spec = dg.AssetSpec(
        key=key.with_prefix(list(source.key_prefix)) if source.key_prefix else key,
        description=(
            f"{source.description or source.name}\n\nA stand-in for the dlt source "
            f"{native.__name__}, which could not load: {reason}"
        ),
        metadata={DLT_SOURCE_META: native.__name__, LOAD_ERROR_META: reason},
        group_name=source.group or source.name,
        kinds=set(KINDS),
    )

    @dg.multi_asset(name=source.name, specs=[spec])
    def _stand_in() -> None:
        raise DltNativeError(message)

    return _stand_in
