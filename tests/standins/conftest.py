"""The stand-ins' own tests use the stand-in fixtures (registered here unless the root
conftest already did)."""

PLUGIN = "standins.pytest_fixtures"


def pytest_configure(config):
    if not config.pluginmanager.has_plugin(PLUGIN):
        config.pluginmanager.import_plugin(PLUGIN)
