"""Imports the modules that register more `marketplace` subcommands (catalog, procurement)."""
