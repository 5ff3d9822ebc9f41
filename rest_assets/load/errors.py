"""What a load can fail with."""

from __future__ import annotations

from rest_assets.errors import RestAssetsError


class LoadError(RestAssetsError):
    """A load could not be committed; the transaction was rolled back."""


class DatabaseLockedError(LoadError):
    """Another process kept the DuckDB file locked for longer than the lock timeout."""


class ConcurrentLoadError(RestAssetsError):
    """Another run committed to the table after this run read its cursor."""


class DatabasePathError(LoadError):
    """The DuckDB path cannot be written: read-only, not a directory we can create a file
    in, or not a DuckDB database."""
