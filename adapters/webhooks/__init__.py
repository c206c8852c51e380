"""Signed webhooks: where an endpoint may point (``addresses``), one signed POST
(``delivery``), the outbox fed from the log (``outbox``) and its sender (``sender``)."""
