"""The configuration page is generated from Settings and kept in step with it."""

from tansuo.config_page import PAGE, configuration_page
from tansuo.settings import ENV_PREFIX, Settings


def test_the_committed_configuration_page_matches_settings():
    assert PAGE.read_text() == configuration_page(), "docs/configuration.md is stale: python -m tansuo.config_page"


def test_every_setting_has_a_row_with_its_meaning():
    page = configuration_page()
    for name, field in Settings.model_fields.items():
        row = next(line for line in page.splitlines() if line.startswith(f"| `{ENV_PREFIX}{name.upper()}` |"))
        assert field.description and row.rstrip(" |").endswith(" ".join(field.description.split())[-20:])
