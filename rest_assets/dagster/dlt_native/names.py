"""Names the assets of a dlt_native source carry (metadata keys, kinds), for `validate`."""

from __future__ import annotations

KINDS = frozenset({"dlt", "duckdb"})
DLT_SOURCE_META = "dlt_source"  # `module:function`, on every asset of a dlt_native source
LOAD_ERROR_META = "dlt_native_error"  # on a stand-in: why the source could not load
