"""The ``media`` configuration keys the README documents, each changing what the hub does."""

from __future__ import annotations

import io
import time
from pathlib import Path

from PIL import Image

from hub.config.model import ChorusConfig, load_config
from tests.helpers.hub import MakeClient, bearer
from tests.helpers.media import PDF, conversation, png, upload


async def test_each_media_key_takes_effect(
    make_client: MakeClient, config: ChorusConfig, tmp_path: Path
) -> None:
    media = load_config(
        None,
        environ={
            "CHORUS_MEDIA__LOCAL_DIR": str(tmp_path / "elsewhere"),
            "CHORUS_MEDIA__MAX_BYTES": "4096",
            "CHORUS_MEDIA__ALLOWED_TYPES": '["image/png", "application/pdf"]',
            "CHORUS_MEDIA__URL_TTL_SECONDS": "60",
            "CHORUS_MEDIA__THUMBNAIL_PX": "32",
            "CHORUS_MEDIA__MAX_IMAGE_PIXELS": "10000",
        },
    ).media
    client = await make_client(config.model_copy(update={"media": media}))
    cid = await conversation(client)

    small = await upload(client, cid, "dot.png", png(80, 60))
    assert small.status == 201, await small.text()
    attachment = await small.json()
    expires = int(attachment["download_url"].split("expires=")[1].split("&")[0])
    stored = list((tmp_path / "elsewhere").rglob("*.thumb"))
    assert len(stored) == 1  # in media.local_dir
    thumb = await client.get(attachment["thumbnail_url"])
    with Image.open(io.BytesIO(await thumb.read())) as image:
        assert max(image.size) == 32
    resp = await client.get("/api/v1/messages?channel=web", headers=bearer(client))
    assert resp.status == 200
    assert 0 < expires - time.time() <= 60

    gif = io.BytesIO()
    Image.new("RGB", (4, 4)).save(gif, format="GIF")
    refusals = [
        ("a.gif", gif.getvalue(), 415, "unsupported_media_type"),  # not in allowed_types
        ("big.pdf", PDF + b"0" * 4096, 413, "file_too_large"),  # over max_bytes
        ("wide.png", png(200, 100), 415, "image_too_large"),  # over max_image_pixels
    ]
    for name, data, status, code in refusals:
        resp = await upload(client, cid, name, data)
        assert (resp.status, (await resp.json())["error"]["code"]) == (status, code), name
