"""Home page, health check and background-job status."""

from __future__ import annotations

from litestar import Controller, Request, get
from litestar.datastructures import State
from litestar.params import FromPath
from litestar.response import Response, Template

from marketplace import accounts
from marketplace.accounts import NotFound
from marketplace.auth import Permission, PermissionDenied, can
from marketplace.db import database_is_reachable
from marketplace.guards import signed_in
from marketplace.models import Job, JobStatus
from marketplace.web import DbSession, is_htmx, page_or_partial, principal, render


class SystemController(Controller):
    @get("/", name="home", sync_to_thread=True)
    def home(self, request: Request, db: DbSession) -> Template:
        """The front page: what the marketplace holds and where to start."""
        divisions = accounts.list_divisions(db)
        return render(request, "marketplace/home.html", {"divisions": divisions})

    @get("/healthz", name="healthz", sync_to_thread=True, exclude_from_csrf=True)
    def healthz(self, state: State) -> Response[dict[str, str]]:
        """Liveness plus a database round trip."""
        ok, reason = database_is_reachable(state.database)
        if ok:
            return Response({"status": "ok", "database": "ok"})
        return Response({"status": "error", "database": reason}, status_code=503)

    @get("/jobs/{job_id:int}", name="job", guards=[signed_in], sync_to_thread=True)
    def job_status(self, request: Request, db: DbSession, job_id: FromPath[int]) -> Template:
        """A background job's progress; the fragment polls itself until the job ends."""
        job = db.get(Job, job_id)
        user = principal(request)
        if job is None:
            raise NotFound
        if user is None or (job.created_by_user_id != user.id and not can(user, Permission.ADMIN)):
            raise PermissionDenied("Only the person who started this job can follow it.")
        response = page_or_partial(
            request, "marketplace/job_detail.html", "marketplace/_job_status.html", {"job": job}
        )
        finished = job.status in (JobStatus.SUCCEEDED, JobStatus.FAILED)
        embedded = "/jobs/" not in request.headers.get("hx-current-url", "/jobs/")
        if is_htmx(request) and finished and embedded:
            # The page that started the job (an import, a harvest) shows the final report itself.
            response.headers["HX-Refresh"] = "true"
        return response
