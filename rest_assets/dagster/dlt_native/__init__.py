"""Dango's `type: dlt_native` sources: the user's dlt source run by dlt, through dagster-dlt.

With the optional extra `rest-assets[dlt]` (dlt with DuckDB, dagster-dlt), every resource of
the user's `@dlt.source` is an asset `[<source>, <resource>]` of one subsettable step
(`@dlt_assets`), loaded by dlt into the definitions' DuckDB file under `raw_<source>`; dlt
keeps its state (incremental cursors) as it always does, and reads the project's
`.dlt/secrets.toml` and `config.toml` itself. Without the extra, or when the source cannot
load (module, secret), the source is a stand-in asset whose runs fail saying why.

Modules: build (entry point), extra (is the extra installed), user_module (importing the
source's module from the project folder), engine (dlt's run context, the source call, the
pipeline), specs (asset specs, the dagster-dlt translator), assets (the step), stand_in,
secrets (masking what dlt reads), names, errors. Only engine, specs and assets import dlt.
"""

from rest_assets.dagster.dlt_native.build import dlt_native_assets
from rest_assets.dagster.dlt_native.errors import DltNativeError
from rest_assets.dagster.dlt_native.extra import EXTRA, INSTALL_HINT

__all__ = ["EXTRA", "INSTALL_HINT", "DltNativeError", "dlt_native_assets"]
