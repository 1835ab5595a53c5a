"""``GET /`` leads a person to the inbox and the widget demo, in English and Chinese."""

from __future__ import annotations

from aiohttp.test_utils import TestClient


async def test_the_root_page_links_the_inbox_and_the_widget_demo(
    client: TestClient,  # type: ignore[type-arg]
) -> None:
    resp = await client.get("/")
    assert resp.status == 200
    assert resp.content_type == "text/html"
    page = await resp.text()
    assert 'href="/inbox/"' in page and 'href="/widget/demo"' in page
    assert "收件箱" in page and "chorus agent add" in page
    for target in ("/inbox/", "/widget/demo"):
        assert (await client.get(target)).status == 200
