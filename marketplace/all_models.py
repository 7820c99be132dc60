"""Imports every module that defines tables, so metadata (Alembic, tests) sees the whole schema."""

import marketplace.catalog.models
import marketplace.models  # noqa: F401
import procurement.models  # noqa: F401
