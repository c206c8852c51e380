"""Commands on webhooks (admins'): register, delete, enable; disable (admins and the
webhooks sender, when an endpoint keeps failing). The signing secret is kept beside the
log in the registration's save (``uow.keep_secret``) and dropped in the deletion's."""

from __future__ import annotations

import secrets
from uuid import UUID

import msgspec

from commands.bus import Answer, Handlers, change
from commands.notifications import SendNotification, send_notification
from commands.unit_of_work import UnitOfWork
from domain import webhook as webhooks
from domain.events import registered_event_types
from domain.notification import notification_id
from domain.webhook import Webhook


class RegisterWebhook(msgspec.Struct, frozen=True, kw_only=True):
    webhook_id: UUID
    url: str
    events: list[str]
    # Made here when not given; answered once, by the caller that registered it.
    secret: str | None = None


class DeleteWebhook(msgspec.Struct, frozen=True, kw_only=True):
    webhook_id: UUID


class DisableWebhook(msgspec.Struct, frozen=True, kw_only=True):
    webhook_id: UUID
    reason: str
    # The sender's: tell the webhook's owner, in the same save (kind webhook_disabled).
    notify_owner: bool = False


class EnableWebhook(msgspec.Struct, frozen=True, kw_only=True):
    webhook_id: UUID


def new_secret() -> str:
    return secrets.token_hex(32)


def event_type_names() -> frozenset[str]:
    """The event types a webhook may ask for: every stored type's name."""
    return frozenset(
        name
        for name, cls in registered_event_types().items()
        if cls.__module__.startswith("domain")
    )


def register_webhook(uow: UnitOfWork, command: RegisterWebhook) -> Answer:
    uow.ensure_new(command.webhook_id)
    owner = uow.context.actor.by if uow.context.actor is not None else "system"
    uow.record(
        command.webhook_id,
        webhooks.register(command.url, command.events, owner, known=event_type_names()),
    )
    uow.keep_secret(command.webhook_id, command.secret or new_secret())
    return Answer(id=command.webhook_id, created=True)


def delete_webhook(uow: UnitOfWork, command: DeleteWebhook) -> Answer:
    answer = change(uow, Webhook, command.webhook_id, webhooks.delete)
    uow.keep_secret(command.webhook_id, None)  # its deliveries stop with it
    return answer


def disable_webhook(uow: UnitOfWork, command: DisableWebhook) -> Answer:
    hook = uow.get(Webhook, command.webhook_id)
    uow.record(hook.id, webhooks.disable(hook, command.reason))
    if command.notify_owner:
        # The cause is this disabling (the webhook's next version): told once.
        cause = f"webhook:{hook.id}:v{hook.version + 1}"
        send_notification(
            uow,
            SendNotification(
                notification_id=notification_id(cause, hook.owner, "webhook_disabled"),
                recipient=hook.owner,
                kind="webhook_disabled",
                text=f"Webhook {hook.url} was disabled: {command.reason}.",
                about_type="webhook",
                about_id=hook.id,
            ),
        )
    return Answer(id=hook.id)


def enable_webhook(uow: UnitOfWork, command: EnableWebhook) -> Answer:
    return change(uow, Webhook, command.webhook_id, webhooks.enable)


HANDLERS: Handlers = {
    RegisterWebhook: register_webhook,
    DeleteWebhook: delete_webhook,
    DisableWebhook: disable_webhook,
    EnableWebhook: enable_webhook,
}
