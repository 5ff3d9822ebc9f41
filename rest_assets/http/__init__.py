"""The HTTP engine: no Dagster, no DuckDB. `RestClient.paginate()` is the escape hatch."""
