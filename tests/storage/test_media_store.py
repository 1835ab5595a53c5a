"""The media store on S3 (moto on loopback): the hub configured with ``media.store: s3``
keeps files in the bucket under the media prefix and serves them only by signed link."""

from __future__ import annotations

import boto3

from hub.config.model import ChorusConfig, S3ArchiveConfig
from hub.core.media import MEDIA
from tests.helpers.hub import MakeClient, bearer
from tests.helpers.media import PDF, conversation, form, png, upload


async def test_files_live_in_the_bucket_and_leave_by_signed_link(
    make_client: MakeClient, config: ChorusConfig, s3_config: S3ArchiveConfig
) -> None:
    config.media.store = "s3"
    config.media.s3 = s3_config.model_copy(update={"prefix": "media-test/"})
    client = await make_client(config)
    cid = await conversation(client)
    image = await (await upload(client, cid, "photo.png", png())).json()
    reply = await client.post(
        f"/api/v1/conversations/{cid}/messages",
        data=form(("terms.pdf", PDF), text="terms"),
        headers=bearer(client),
    )
    assert reply.status == 201, await reply.text()
    s3 = boto3.client("s3", endpoint_url=s3_config.endpoint_url)
    listed = s3.list_objects_v2(Bucket=s3_config.bucket, Prefix="media-test/media/")
    keys = sorted(item["Key"] for item in listed.get("Contents", []))
    assert len(keys) == 3  # the image, its thumbnail, the PDF
    assert all(key.startswith("media-test/media/") for key in keys)
    assert await (await client.get(image["download_url"])).read() == png()
    pdf = (await reply.json())["attachments"][0]
    assert await (await client.get(pdf["download_url"])).read() == PDF
    assert client.app[MEDIA].store.objects.__class__.__name__ == "S3ArchiveStore"


async def test_damaged_bytes_are_not_served(
    make_client: MakeClient, config: ChorusConfig, s3_config: S3ArchiveConfig
) -> None:
    config.media.store = "s3"
    config.media.s3 = s3_config
    client = await make_client(config)
    cid = await conversation(client)
    image = await (await upload(client, cid, "photo.png", png())).json()
    record = await client.app[MEDIA].record(image["media_id"])
    assert record is not None and record.attachment.storage_key is not None
    s3 = boto3.client("s3", endpoint_url=s3_config.endpoint_url)
    key = s3_config.prefix + record.attachment.storage_key
    head = s3.head_object(Bucket=s3_config.bucket, Key=key)
    s3.put_object(Bucket=s3_config.bucket, Key=key, Body=b"rot", Metadata=head["Metadata"])
    resp = await client.get(image["download_url"])
    assert (resp.status, (await resp.json())["error"]["code"]) == (503, "media_unavailable")
