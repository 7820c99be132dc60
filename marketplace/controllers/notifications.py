"""The signed-in user's notifications: the inbox page, "mark all read", and the header badge."""

from __future__ import annotations

from litestar import Controller, Request, get, post
from litestar.response import Redirect, Template

from marketplace import notifications
from marketplace.guards import signed_in
from marketplace.web import DbSession, principal, redirect, render


class NotificationsController(Controller):
    path = "/notifications"
    guards = [signed_in]

    @get("/", name="notifications", sync_to_thread=True)
    def inbox(self, request: Request, db: DbSession) -> Template:
        user = principal(request)
        assert user is not None  # the signed_in guard
        return render(
            request,
            "marketplace/notifications.html",
            {
                "notes": notifications.list_for(db, user.id),
                "unread": notifications.unread_count(db, user.id),
            },
        )

    @get("/badge", name="notifications_badge", sync_to_thread=True)
    def badge(self, request: Request, db: DbSession) -> Template:
        """The unread count in the header, loaded by htmx so pages stay cacheable per user."""
        user = principal(request)
        assert user is not None
        return Template(
            template_name="marketplace/_notification_badge.html",
            context={"unread": notifications.unread_count(db, user.id)},
        )

    @post("/read", name="notifications_read", sync_to_thread=True)
    def mark_read(self, request: Request, db: DbSession) -> Redirect:
        user = principal(request)
        assert user is not None
        notifications.mark_all_read(db, user.id)
        return redirect("/notifications/")
