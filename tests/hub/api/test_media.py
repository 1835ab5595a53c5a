"""Files through the API: uploads checked by content, replies with files, signed downloads,
and what a stranger gets from each new endpoint."""

from __future__ import annotations

import io
import time
from typing import Any

from PIL import Image

from hub.config.model import MediaConfig
from hub.core.media import MEDIA, MediaService
from hub.state import CONFIG, TOKENS
from tests.helpers.hub import bearer, ensure_agent
from tests.helpers.media import (
    EXECUTABLE,
    PDF,
    Client,
    conversation,
    form,
    png,
    stored_counts,
    upload,
)


async def test_an_uploaded_image_has_a_thumbnail_and_signed_links(client: Client) -> None:
    cid = await conversation(client)
    resp = await upload(client, cid, "../../photo.png", png())
    assert resp.status == 201, await resp.text()
    attachment = await resp.json()
    assert attachment["kind"] == "image" and attachment["mime_type"] == "image/png"
    assert attachment["name"] == "photo.png"
    assert (attachment["width"], attachment["height"]) == (800, 600)
    assert "storage_key" not in attachment
    original = await client.get(attachment["download_url"])
    assert original.status == 200
    assert await original.read() == png()
    assert original.headers["X-Content-Type-Options"] == "nosniff"
    thumb = await client.get(attachment["thumbnail_url"])
    assert thumb.status == 200
    with Image.open(io.BytesIO(await thumb.read())) as image:
        assert max(image.size) == 320

    reply = await client.post(
        f"/api/v1/conversations/{cid}/messages",
        json={"text": "", "attachments": [{"media_id": attachment["media_id"]}]},
        headers=bearer(client),
    )
    assert reply.status == 201, await reply.text()
    sent = (await reply.json())["attachments"][0]
    assert sent["media_id"] == attachment["media_id"] and sent["size"] == len(png())
    assert sent["thumbnail_url"].startswith(f"/media/{attachment['media_id']}/thumbnail?")


async def test_a_reply_carries_files_as_multipart(client: Client, db: Any) -> None:
    cid = await conversation(client)
    resp = await client.post(
        f"/api/v1/conversations/{cid}/messages",
        data=form(("invoice.pdf", PDF), text="your invoice", client_id="r1"),
        headers=bearer(client),
    )
    assert resp.status == 201, await resp.text()
    message = await resp.json()
    assert message["text"] == "your invoice"
    (attachment,) = message["attachments"]
    assert attachment["mime_type"] == "application/pdf" and attachment["kind"] == "file"
    download = await client.get(attachment["download_url"])
    assert await download.read() == PDF
    assert download.headers["Content-Disposition"].startswith("attachment;")
    stored = await db.messages.find_one({"_id": message["id"]})
    assert stored["attachments"][0]["storage_key"].startswith("media/")
    listed = await client.get(f"/api/v1/conversations/{cid}/messages", headers=bearer(client))
    assert "download_url" in (await listed.json())["items"][-1]["attachments"][0]


async def test_strangers_get_nothing(client: Client, db: Any, tmp_path: Any) -> None:
    cid = await conversation(client)
    other = await conversation(client, "another visitor")
    ok = await (await upload(client, cid, "a.png", png())).json()
    before = await stored_counts(db, tmp_path)
    url = f"/api/v1/conversations/{cid}/attachments"
    # No credentials, on both endpoints that take files.
    for path in (url, f"/api/v1/conversations/{cid}/messages"):
        resp = await client.post(path, data=form(("a.png", png())))
        assert resp.status == 401
        assert (await resp.json())["error"]["code"] == "missing_token"
    # A conversation that does not exist, and a file uploaded for another conversation.
    resp = await upload(client, "nope", "a.png", png())
    assert (resp.status, (await resp.json())["error"]["code"]) == (404, "not_found")
    resp = await client.post(
        f"/api/v1/conversations/{other}/messages",
        json={"attachments": [{"media_id": ok["media_id"]}]},
        headers=bearer(client),
    )
    assert (resp.status, (await resp.json())["error"]["code"]) == (404, "unknown_attachment")
    # A storage key of the caller's choosing.
    resp = await client.post(
        f"/api/v1/conversations/{cid}/messages",
        json={"attachments": [{"storage_key": "media/aa/secret"}]},
        headers=bearer(client),
    )
    assert (resp.status, (await resp.json())["error"]["code"]) == (400, "invalid_attachment")
    # A channel-restricted token does not see a web conversation, so cannot upload to it.
    ensure_agent(client.app[CONFIG], "rita")
    restricted = client.app[TOKENS].issue("rita", "agent", allowed_channels=["telegram"])
    resp = await client.post(url, data=form(("a.png", png())),
                             headers={"Authorization": f"Bearer {restricted}"})  # fmt: skip
    assert resp.status == 404
    assert await stored_counts(db, tmp_path) == before


async def test_links_that_are_forged_expired_or_altered_are_refused(client: Client) -> None:
    cid = await conversation(client)
    attachment = await (await upload(client, cid, "a.png", png())).json()
    link = attachment["download_url"]
    media_id = attachment["media_id"]
    path, _, query = link.partition("?")
    params = dict(part.split("=") for part in query.split("&"))
    forged = f"{path}?expires={params['expires']}&sig={'0' * 64}"
    longer = f"{path}?expires={int(params['expires']) + 3600}&sig={params['sig']}"
    other_variant = f"/media/{media_id}/thumbnail?{query}"
    for bad in (forged, longer, other_variant, path, f"/media/{media_id}/raw?{query}"):
        resp = await client.get(bad)
        assert resp.status == 403, bad
        assert (await resp.json())["error"]["code"] == "invalid_link"
    media = client.app[MEDIA]
    media.clock = lambda: time.time() + media.config.url_ttl_seconds + 1
    resp = await client.get(link)
    assert (resp.status, (await resp.json())["error"]["code"]) == (403, "invalid_link")


async def test_refused_files_store_nothing(client: Client, db: Any, tmp_path: Any) -> None:
    cid = await conversation(client)
    before = await stored_counts(db, tmp_path)
    cases = [
        ("setup.png", EXECUTABLE, 415, "unsupported_media_type"),  # a .png that is a program
        ("notes.png", b"just some text, not an image", 415, "unsupported_media_type"),
        ("big.pdf", PDF + b"0" * client.app[MEDIA].config.max_bytes, 413, "file_too_large"),
        ("broken.png", png()[:60], 415, "invalid_image"),
        ("empty.pdf", b"", 415, "empty_file"),
    ]
    for name, data, status, code in cases:
        resp = await upload(client, cid, name, data)
        assert (resp.status, (await resp.json())["error"]["code"]) == (status, code), name
    # One bad file among good ones: the reply and every file are refused together.
    resp = await client.post(
        f"/api/v1/conversations/{cid}/messages",
        data=form(("ok.pdf", PDF), ("a.png", png()), ("bad.png", EXECUTABLE), text="files"),
        headers=bearer(client),
    )
    assert (resp.status, (await resp.json())["error"]["code"]) == (415, "unsupported_media_type")
    # Not a form at all.
    resp = await client.post(
        f"/api/v1/conversations/{cid}/attachments", data=b"x", headers=bearer(client)
    )
    assert resp.status == 415
    assert await stored_counts(db, tmp_path) == before


async def test_the_openapi_document_describes_the_upload(client: Client) -> None:
    resp = await client.get("/api/v1/openapi.json", headers=bearer(client, role="viewer"))
    document = await resp.json()
    upload_op = document["paths"]["/api/v1/conversations/{id}/attachments"]["post"]
    assert "multipart/form-data" in upload_op["requestBody"]["content"]
    reply = document["paths"]["/api/v1/conversations/{id}/messages"]["post"]
    assert set(reply["requestBody"]["content"]) == {"application/json", "multipart/form-data"}
    schema = document["components"]["schemas"]["AttachmentForm"]
    assert schema["properties"]["file"]["format"] == "binary"


def test_a_phone_photo_thumbnail_is_upright() -> None:
    """A camera stores the pixels as shot and the rotation in EXIF (Orientation 6: turn 90°)."""
    exif = Image.Exif()
    exif[0x0112] = 6
    out = io.BytesIO()
    Image.new("RGB", (800, 400), (10, 120, 200)).save(out, format="JPEG", exif=exif)
    service = MediaService(MediaConfig(), None, "secret")  # type: ignore[arg-type]
    checked = service.check(out.getvalue(), "IMG_0001.JPG")
    assert (checked.width, checked.height) == (800, 400)  # the stored file is as sent
    assert checked.thumbnail is not None
    with Image.open(io.BytesIO(checked.thumbnail)) as thumb:
        assert thumb.size == (160, 320)
