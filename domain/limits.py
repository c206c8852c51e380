"""How large what a caller gives may be: every text, list and number has a bound.

What is written is kept for ever (the log is append-only), so nothing a caller sends is
unbounded. The HTTP request bodies state these limits in the OpenAPI document and refuse
what exceeds them (``adapters/http/fields.py``); the domain checks those it owns itself
(a login, a unit, a term, decimal places…) on every path. docs/api.md lists them.
"""

from __future__ import annotations

# --- text, in characters (Unicode code points) -----------------------------------------

NAME = 200  # names and titles: products, accounts, opportunities, quotes, items, people…
SUBJECT = 500  # an activity's subject
CODE = 64  # product and bundle codes, stage keys and references to them
LABEL = 100  # a lead's source, a campaign's channel, a rule condition's field name
LOGIN = 100  # a user's login (domain.user.LOGIN says which characters)
UNIT = 32  # a price's or item's unit ("seat", "hour")
EMAIL = 254  # the longest address SMTP carries (RFC 5321)
PHONE = 50
REASON = 1_000  # why a deal was lost, a lead disqualified, a contract cancelled
ADDRESS = 2_000  # a postal address; an intake's extra field
URL = 2_000  # an account's website
VAT_ID = 32  # a VAT (tax) id
STREET = 200  # the parts of an account's address
CITY = 100
POSTAL_CODE = 20
REGION = 100
LONG_TEXT = 10_000  # notes, offer templates

# --- lists and mappings, in entries ----------------------------------------------------

SHARED_WITH = 50  # users a record is shared with
COMPONENTS = 50  # products in a bundle
STAGES = 30  # stages of a pipeline
SHARES = 50  # users of a lead split
CONDITIONS = 20  # conditions of a lead rule
CONDITION_VALUES = 100  # values of an "in" condition
EXTRA_FIELDS = 50  # further fields of a lead intake

# --- whole numbers ---------------------------------------------------------------------

PERCENT = 100  # probabilities 0–100; split shares 1–100
TERM_MONTHS = 240  # a time-based item's term, from 1
TOKEN_DAYS = 366  # an API token's life, from 1
RULE_PRIORITY = 1_000_000  # a lead rule's place in the order, from 0
LOG_POSITION_DIGITS = 30  # a log position given as text (``as_of``), as queries take it

# --- decimals ----------------------------------------------------------------------------

# Amounts, prices, quantities, weights and rates stay below 10^15 (15 digits before the
# point), so that their products keep within the 50 digits money arithmetic holds.
INTEGER_DIGITS = 15
MONEY_PLACES = 4  # the most any ISO 4217 currency has (CLF, UYW); each its own minor unit
PRICE_PLACES = 6  # prices and unit prices
QUANTITY_PLACES = 6
WEIGHT_PLACES = 6  # a bundle component's weight
DISCOUNT_PLACES = 4  # a discount, in percent
RATE_PLACES = 12  # an exchange rate
