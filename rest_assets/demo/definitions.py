"""Dagster definitions of the demo project (`dagster dev -m rest_assets.demo.definitions`)."""

from __future__ import annotations

from pathlib import Path

from rest_assets.dagster import build_definitions

defs = build_definitions(Path(__file__).parent / "sources.yml")
