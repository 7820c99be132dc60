"""Imports the modules that register more `marketplace` subcommands (catalog, procurement)."""

import marketplace.catalog.cli  # noqa: F401
import procurement.cli
import procurement.duplicates_cli
import procurement.invoices_cli
import procurement.reports_cli
import procurement.reuse_jobs  # noqa: F401  (the worker's reuse sweep and notification e-mail)
