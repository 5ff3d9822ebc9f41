"""A dlt_native source's assets, with or without the extra `rest-assets[dlt]` installed."""

from __future__ import annotations

import logging
import threading

import dagster as dg

from rest_assets.config.dialects.dango import DltNativeSource
from rest_assets.config.models import SourceConfig
from rest_assets.dagster.dlt_native.extra import missing_extra_text, missing_packages
from rest_assets.dagster.dlt_native.names import LOAD_ERROR_META
from rest_assets.dagster.dlt_native.stand_in import stand_in_asset
from rest_assets.dagster.translator import RestAssetsTranslator

logger = logging.getLogger("rest_assets.dagster")

# stand-ins already reported in this process: Dagster loads definitions again and again
_reported: set[tuple[str, str]] = set()
_reported_lock = threading.Lock()


def dlt_native_assets(
    source: SourceConfig, native: DltNativeSource, translator: RestAssetsTranslator
) -> list[dg.AssetsDefinition]:
    """The assets of a `type: dlt_native` source: one per resource of the dlt source, or a
    stand-in whose runs fail saying why (logged once as a warning)."""
    missing = missing_packages()
    if missing:
        assets = [stand_in_asset(source, native, missing_extra_text(native.__name__, missing))]
    else:
        # dlt and dagster-dlt are imported only when they are installed
        from rest_assets.dagster.dlt_native.assets import native_assets

        assets = native_assets(source, native, translator)
    for spec in (s for a in assets for s in a.specs):
        reason = spec.metadata.get(LOAD_ERROR_META)
        if reason is not None:
            _report_once(native.where, str(reason))
    return assets


def _report_once(where: str, reason: str) -> None:
    with _reported_lock:
        if (where, reason) in _reported:
            return
        _reported.add((where, reason))
    logger.warning(f"{where}: {reason}; its asset is a stand-in whose runs fail")
