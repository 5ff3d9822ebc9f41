# custom_sources/hubspot_contacts.py
import dlt
from dlt.sources.helpers import requests
from typing import Iterator, Dict, Any


@dlt.source
def hubspot_contacts_source(
    api_key: str = dlt.secrets.value,
) -> Iterator[dlt.DltResource]:
    """Load contacts from HubSpot."""

    base_url = "https://api.hubapi.com"

    @dlt.resource(
        write_disposition="merge",
        primary_key="id"
    )
    def contacts(
        updated_after: dlt.sources.incremental[int] = dlt.sources.incremental(
            "updatedAt",
            initial_value=0
        )
    ) -> Iterator[Dict[str, Any]]:
        """Load contacts with incremental updates."""

        url = f"{base_url}/crm/v3/objects/contacts"
        headers = {"Authorization": f"Bearer {api_key}"}
        params = {
            "limit": 100,
            "properties": "email,firstname,lastname,company,phone",
            "filterGroups": [{
                "filters": [{
                    "propertyName": "lastmodifieddate",
                    "operator": "GTE",
                    "value": str(updated_after.last_value)
                }]
            }]
        }

        while True:
            response = requests.get(url, headers=headers, params=params)
            response.raise_for_status()
            data = response.json()

            for contact in data.get("results", []):
                yield {
                    "id": contact["id"],
                    "email": contact["properties"].get("email"),
                    "first_name": contact["properties"].get("firstname"),
                    "last_name": contact["properties"].get("lastname"),
                    "company": contact["properties"].get("company"),
                    "phone": contact["properties"].get("phone"),
                    "created_at": contact["createdAt"],
                    "updated_at": contact["updatedAt"],
                }

            # Pagination
            if "paging" in data and "next" in data["paging"]:
                params["after"] = data["paging"]["next"]["after"]
            else:
                break

    return contacts
