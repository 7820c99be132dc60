"""The worker's reuse job: the sweep that starts, expires and chases reuse requests.

Scheduled with the other periodic jobs every few minutes; it is idempotent within a day, so the
frequency only bounds how late a reuse starts or ends after midnight at HHS headquarters.
"""

from __future__ import annotations

from typing import Any

import marketplace.notifications  # noqa: F401  (registers the e-mail job the sweep enqueues)
from marketplace.jobs import JobContext, periodic
from procurement.services import reuse as reuse_service
from procurement.services.common import today_at_hhs

SWEEP_JOB = "reuse.sweep"


@periodic(SWEEP_JOB)
def sweep_reuse_requests(context: JobContext) -> dict[str, Any]:
    with context.database.session() as db:
        result = reuse_service.sweep(db, today=today_at_hhs(context.clock()))
    return {"moved": result.moved, "reminded": result.reminded}
