"""Offer documents: a quote rendered from a template with ``$token`` placeholders.

Tokens (``string.Template`` syntax, ``$$`` for a literal dollar):
``$account``, ``$opportunity``, ``$owner``, ``$quote``, ``$currency``,
``$valid_from``, ``$valid_until``, ``$date``, ``$items`` (one line per item),
``$rounding``, ``$total``.
Rendering is pure and deterministic, so the same quote and template always
give the same bytes and the same SHA-256.
"""

from __future__ import annotations

import hashlib
from datetime import date
from string import Template

from domain import limits
from domain.errors import InvalidInput
from domain.quote import Quote

DEFAULT_TEMPLATE = """\
OFFER  $quote
For:   $account
Re:    $opportunity
From:  $owner
Date:  $date
Valid: $valid_from to $valid_until

$items
$rounding
TOTAL  $total
"""

MAX_TEMPLATE_LENGTH = limits.LONG_TEXT
# Every token a template may use, in the order the refusal of an unknown one lists them.
TOKENS = (
    "account",
    "opportunity",
    "owner",
    "quote",
    "currency",
    "valid_from",
    "valid_until",
    "date",
    "items",
    "rounding",
    "total",
)


def _item_lines(quote: Quote) -> str:
    lines = []
    for n, item in enumerate(quote.items, start=1):
        discount = f" less {item.discount_pct}%" if item.discount_pct else ""
        term = f", {item.term_months} months" if item.term_months else ""
        lines.append(
            f"{n:>3}. {item.name} — {item.quantity} {item.unit} × {item.unit_price} "
            f"{quote.currency}{discount}{term} = {item.line_total(quote.currency)}"
        )
    return "\n".join(lines)


def render(
    template: str | None,
    *,
    quote: Quote,
    account: str,
    opportunity: str,
    owner: str,
    today: date,
) -> bytes:
    text = DEFAULT_TEMPLATE if template is None else template
    if len(text) > MAX_TEMPLATE_LENGTH:
        raise InvalidInput(f"an offer template has at most {MAX_TEMPLATE_LENGTH} characters.")
    rounding = f"Rounding {quote.rounding} {quote.currency}" if quote.rounding else ""
    values = {
        "account": account,
        "opportunity": opportunity,
        "owner": owner,
        "quote": quote.name,
        "currency": quote.currency,
        "valid_from": quote.valid_from.isoformat() if quote.valid_from else "—",
        "valid_until": quote.valid_until.isoformat() if quote.valid_until else "—",
        "date": today.isoformat(),
        "items": _item_lines(quote),
        "rounding": rounding,
        "total": str(quote.total),
    }
    assert tuple(values) == TOKENS
    try:
        return Template(text).substitute(values).encode("utf-8")
    except KeyError as missing:
        known = ", ".join(f"${k}" for k in TOKENS)
        raise InvalidInput(
            f"the template uses an unknown token ${missing.args[0]} (known: {known})."
        ) from None
    except ValueError as error:
        raise InvalidInput(
            f"the template is malformed: {error}; write $$ for a dollar sign."
        ) from None


def sha256(document: bytes) -> str:
    return hashlib.sha256(document).hexdigest()
