"""`/docs` (Swagger UI) and `/redoc` work without internet access.

Their pages load every script, style sheet and icon from this server (files installed
with fastapi-offline), never from a CDN; each of those answers 200 with its type.
"""

from __future__ import annotations

from html.parser import HTMLParser
from urllib.parse import urlsplit

import pytest
from fastapi.testclient import TestClient

# What each asset must be, by how its path ends; the marker proves it is the real file.
EXPECTED = {
    ".js": ("text/javascript", None),
    ".css": ("text/css", ".swagger-ui"),
    ".png": ("image/png", None),
}
MARKERS = {"/docs": "SwaggerUIBundle", "/redoc": "Redoc"}


class _Assets(HTMLParser):
    """The URLs a page makes the browser fetch: script src, link href, img src."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        wanted = {"script": "src", "link": "href", "img": "src"}.get(tag)
        for name, value in attrs:
            if name == wanted and value:
                self.urls.append(value)


@pytest.mark.parametrize("page", ["/docs", "/redoc"])
def test_the_docs_page_loads_everything_from_this_server(client: TestClient, page: str) -> None:
    # When a browser opens the page
    answer = client.get(page)
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("text/html")
    parser = _Assets()
    parser.feed(answer.text)
    # Then it names a script, and every URL it loads is a path on this server
    assert any(url.endswith(".js") for url in parser.urls), parser.urls
    assert "http://" not in answer.text and "https://" not in answer.text
    scripts = ""
    for url in parser.urls:
        parts = urlsplit(url)
        assert not parts.scheme and not parts.netloc and url.startswith("/"), url
        # and each of them answers with its file and the right content type
        fetched = client.get(url)
        assert fetched.status_code == 200, url
        suffix = "." + url.rsplit(".", 1)[-1]
        content_type, marker = EXPECTED[suffix]
        assert fetched.headers["content-type"].startswith(content_type), (url, fetched.headers)
        if marker is not None:
            assert marker in fetched.text
        if suffix == ".js":
            scripts += fetched.text
    # and the scripts are the UI itself (not an error page)
    assert MARKERS[page] in scripts


def test_the_openapi_document_the_pages_show_is_served(client: TestClient) -> None:
    answer = client.get("/openapi.json")
    assert answer.status_code == 200
    assert answer.json()["info"]["title"] == "crmledger"
