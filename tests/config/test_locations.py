"""Each source, resource and output's line in its config file, in every dialect."""

from __future__ import annotations

from pathlib import Path

from rest_assets.config.load import load_project, read_project
from rest_assets.config.locations import locate

SEEDS = Path(__file__).resolve().parents[1] / "seeds" / "data" / "connector"


def _line(path: Path, number: int) -> str:
    return path.read_text().splitlines()[number - 1].strip()


def test_entries_of_a_project_file_point_at_their_lines(tmp_path: Path) -> None:
    config = tmp_path / "sources.yml"
    config.write_text(
        "sources:\n"
        "  - name: blog\n"
        "    client: {base_url: 'https://blog.example.com'}\n"
        "    resources:\n"
        "      - posts\n"
        "      - name: comments\n"
        "        endpoint: posts/{resources.posts.id}/comments\n"
        "    outputs:\n"
        "      - name: publish\n"
        "        from: posts\n"
        "        path: bulk\n"
        "  - name: shop\n"
        "    type: rest_api\n"
        "    rest_api:\n"
        "      base_url: https://shop.example.com\n"
        "      endpoints:\n"
        "        - path: /items\n"
        "          name: items\n"
    )
    project, report = read_project(config)
    assert project == load_project(config)  # reading locations changes nothing loaded
    found = locate(config, report)
    blog, shop = found.source("blog"), found.source("shop")
    assert blog is not None and shop is not None
    assert _line(config, blog.source.line) == "- name: blog"
    assert _line(config, blog.entry("posts").line) == "- posts"
    assert _line(config, blog.entry("comments").line) == "- name: comments"
    assert _line(config, blog.entry("publish").line) == "- name: publish"
    assert _line(config, shop.entry("items").line) == "- path: /items"
    assert blog.entry("unknown") == blog.source  # falls back to the source's line
    assert found.file == str(config.resolve())


def test_a_single_source_file_and_a_connector_file(tmp_path: Path) -> None:
    alone = tmp_path / "api.yml"
    alone.write_text(
        "name: api\nclient:\n  base_url: https://api.example.com\nresources:\n  - name: things\n"
    )
    found = locate(alone, read_project(alone)[1]).source("api")
    assert found is not None
    assert found.source.line == 1
    assert _line(alone, found.entry("things").line) == "- name: things"

    minimal = SEEDS / "minimal.yml"
    report = read_project(minimal)[1]
    (source,) = report.sources
    located = locate(minimal, report).source(source.name)
    assert located is not None
    assert _line(minimal, located.entry("customers").line) == "customers:"
    sync = SEEDS / "customer_sync.yml"
    report = read_project(sync)[1]
    located = locate(sync, report).source(report.sources[0].name)
    assert located is not None
    assert _line(sync, located.entry("crm_customers").line) == "crm_customers:"
