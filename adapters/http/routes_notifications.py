"""Notification routes: the caller's own, newest first, and marking one read.

Nobody lists or marks another's notifications, admins included: ``GET /notifications``
answers only the caller's, and marking another's read answers 404 as an unknown id.
"""

from __future__ import annotations

from typing import Any
from uuid import UUID

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import JSONResponse

from adapters.http.answers import ReadAnswer
from adapters.http.commanding import CommandHeaders, command_headers, run
from adapters.http.listing import PAGING, Paging, envelope_of, moment
from adapters.http.paged import keyset_listing
from adapters.http.reading import reads
from adapters.http.routes_readmodels import services_of
from commands.notifications import MarkNotificationRead
from readmodels.lists import filter_clause
from readmodels.notifications.queries import NOTIFICATIONS, notifications_of
from readmodels.notifications.tables import NotificationRow

router = APIRouter(tags=["notifications"])
Headers = Depends(command_headers)
UNREAD = Query(None, description="true: only those not read yet")


def notification_item(row: NotificationRow) -> dict[str, Any]:
    about = None if row.about_type is None else {"type": row.about_type, "id": row.about_id}
    return {
        "id": row.id,
        "kind": row.kind,
        "about": about,
        "at": moment(row.sent_at),
        "read": row.read,
        "text": row.text,
    }


@router.get("/notifications", dependencies=[reads("notifications")])
def list_notifications(
    request: Request, unread: bool | None = UNREAD, paging: Paging = PAGING
) -> ReadAnswer:
    """The caller's notifications, newest first."""
    views = services_of(request).views
    where = [filter_clause(views, NOTIFICATIONS, "read", False)] if unread else []
    login = request.state.principal.login
    listing = keyset_listing(
        request, NOTIFICATIONS, where, paging, sort=None, visible=lambda _: notifications_of(login)
    )
    return envelope_of([notification_item(row) for row in listing.rows], listing)


@router.post("/notifications/{notification_id}/read")
def mark_read(request: Request, notification_id: UUID, h: CommandHeaders = Headers) -> JSONResponse:
    command = MarkNotificationRead(notification_id=notification_id)
    return run(request, h, command, target=notification_id)
