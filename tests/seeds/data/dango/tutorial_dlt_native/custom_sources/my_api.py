"""
Custom dlt source for My API.
"""
import dlt
from dlt.sources.helpers import requests
from typing import Iterator, Dict, Any


@dlt.source
def my_api_source(
    api_key: str = dlt.secrets.value,
    base_url: str = "https://api.example.com"
) -> Iterator[dlt.DltResource]:
    """
    Load data from My API.

    Args:
        api_key: API authentication key
        base_url: API base URL
    """

    # Shared session with auth header
    session = requests.Session()
    session.headers.update({
        "Authorization": f"Bearer {api_key}",
        "Content-Type": "application/json"
    })

    @dlt.resource(write_disposition="replace")
    def users() -> Iterator[Dict[str, Any]]:
        """Load all users."""
        url = f"{base_url}/users"
        response = session.get(url)
        response.raise_for_status()

        for user in response.json()["data"]:
            yield user

    @dlt.resource(
        write_disposition="merge",
        primary_key="id"
    )
    def orders(
        updated_after: dlt.sources.incremental[str] = dlt.sources.incremental(
            "updated_at",
            initial_value="2024-01-01T00:00:00Z"
        )
    ) -> Iterator[Dict[str, Any]]:
        """Load orders incrementally."""
        url = f"{base_url}/orders"
        params = {"updated_after": updated_after.last_value}

        while url:
            response = session.get(url, params=params)
            response.raise_for_status()
            data = response.json()

            for order in data["data"]:
                yield order

            # Handle pagination
            url = data.get("next_page_url")
            params = {}  # Next page URL includes params

    # Return resources to load
    return users, orders
