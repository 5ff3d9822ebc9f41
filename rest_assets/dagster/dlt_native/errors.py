"""The errors of a `type: dlt_native` source, raised by its assets' runs."""

from __future__ import annotations

from rest_assets.errors import RestAssetsError


class DltNativeError(RestAssetsError):
    """A dlt_native source could not be loaded or run; the message says why and what to do.

    Messages never hold a secret: values of `.dlt/secrets.toml` (and other secrets dlt may
    read) are masked, and no exception of dlt or of the user's code is chained to it.
    """
