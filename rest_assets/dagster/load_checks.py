"""Checks a source must pass when definitions load that only the Dagster layer can make:
cron strings and timezones as Dagster reads them, and the DuckDB schema it may land in.

Without them, a bad cron surfaces as a Dagster invariant traceback (or only when a schedule
ticks), and `dataset: _rest_assets` would put a table in the load ledger's own schema.
"""

from __future__ import annotations

from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from dagster._utils.schedules import is_valid_cron_string

from rest_assets.config.models import SourceConfig
from rest_assets.dagster.naming import schema_name
from rest_assets.errors import ConfigError
from rest_assets.load.ledger import LEDGER_SCHEMA

_CRON_HELP = (
    "use a standard cron of 5 fields (minute hour day month weekday), e.g. '0 * * * *' for "
    "hourly, or @daily / @hourly"
)


def check_source(source: SourceConfig, where: str) -> None:
    """Raise a ConfigError naming the field for a bad cron, timezone or schema."""
    schema = schema_name(source)
    if schema.lower() == LEDGER_SCHEMA:
        raise ConfigError(
            f"{where}.dataset: the schema {schema!r} is reserved for rest-assets' load "
            "ledger; choose another dataset"
        )
    crons: list[tuple[str, str | None, str]] = []
    if source.schedule is not None:
        crons.append((f"{where}.schedule", source.schedule.cron, source.schedule.timezone))
    if source.automation_condition is not None:
        automation = source.automation_condition
        crons.append((f"{where}.automation_condition", automation.cron, automation.timezone))
    for index, resource in enumerate(source.resources):
        rwhere = f"{where}.resources[{index}]({resource.name})"
        if resource.schedule is not None:
            crons.append((f"{rwhere}.schedule", resource.schedule.cron, resource.schedule.timezone))
        if resource.automation_condition is not None:
            automation = resource.automation_condition
            crons.append((f"{rwhere}.automation_condition", automation.cron, automation.timezone))
        freshness = resource.checks.freshness
        if freshness is not None:
            crons.append(
                (f"{rwhere}.checks.freshness", freshness.deadline_cron, freshness.timezone)
            )
    for place, cron, timezone in crons:
        _check_cron(place, cron, timezone)


def _check_cron(place: str, cron: str | None, timezone: str) -> None:
    field = "deadline_cron" if place.endswith("freshness") else "cron"
    if cron is not None and not is_valid_cron_string(cron):
        raise ConfigError(f"{place}.{field}: {cron!r} is not a cron schedule; {_CRON_HELP}")
    try:
        ZoneInfo(timezone)
    except (ZoneInfoNotFoundError, ValueError):
        raise ConfigError(
            f"{place}.timezone: {timezone!r} is not a timezone; use an IANA name such as UTC "
            "or Europe/Berlin"
        ) from None
