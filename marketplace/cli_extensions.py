"""Imports the modules that register more `marketplace` subcommands (catalog, procurement)."""

import marketplace.catalog.cli  # noqa: F401
