"""Keyset cursors: a list's position round-trips whatever its key holds; a cursor another
list (or another order of the same list) made, or one made up, is no page of this one."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from adapters.http.paging import make_key_cursor, read_key_cursor
from domain.errors import NotFound

parts = st.one_of(st.none(), st.integers(min_value=-(2**62), max_value=2**62), st.text())


@given(key=st.lists(parts, max_size=4))
def test_a_key_round_trips_through_its_cursor(key: list[str | int | None]) -> None:
    # Given a keyset position of any parts, When made into a cursor and read back
    cursor = make_key_cursor("opportunities:-amount", key)
    # Then it is the same position, and the cursor is URL-safe
    assert read_key_cursor("opportunities:-amount", cursor, len(key)) == tuple(key)
    assert cursor.replace("-", "").replace("_", "").isalnum() or not cursor


def test_no_cursor_is_the_first_page() -> None:
    assert read_key_cursor("contacts:name", None, 2) is None


@pytest.mark.parametrize(
    "cursor",
    [
        make_key_cursor("opportunities:amount", ["1.00", "x"]),  # another order
        make_key_cursor("contacts:-amount", ["1.00", "x"]),  # another list
        make_key_cursor("opportunities:-amount", ["1.00"]),  # another key size
        "bm90IGpzb24",  # not JSON
        "!!",  # not base64
    ],
)
def test_a_cursor_this_list_never_gave_is_not_found(cursor: str) -> None:
    with pytest.raises(NotFound):
        read_key_cursor("opportunities:-amount", cursor, 2)
