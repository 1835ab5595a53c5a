"""``/api/v1/api-channels``: admins create API inboxes; the token and secret show once."""

from __future__ import annotations

from typing import Any

from aiohttp import web
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field, field_validator

from hub.api.routes import ADMIN_ONLY, API_ROUTES
from hub.api.schemas import ItemList
from hub.domain import ApiChannel
from hub.http.json_api import read_json
from hub.state import MONGO
from storage.api_channels import ApiChannelStore

API_CHANNELS = web.AppKey("api_channel_store", ApiChannelStore)


class NewApiChannel(BaseModel):
    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100)
    webhook_url: AnyHttpUrl = Field(description="where agents' and the bot's replies are posted")

    @field_validator("webhook_url")
    @classmethod
    def _no_credentials(cls, url: AnyHttpUrl) -> AnyHttpUrl:
        # The listing shows the URL: credentials belong in the receiver's signature check.
        if url.username or url.password:
            raise ValueError("a webhook URL carries no user name or password")
        return url


class CreatedApiChannel(BaseModel):
    id: str
    name: str
    webhook_url: str
    token: str = Field(description="for posting messages; shown only now")
    secret: str = Field(description="signs the webhook deliveries; shown only now")


def _public(channel: ApiChannel) -> dict[str, Any]:
    return {
        "id": channel.id,
        "name": channel.name,
        "webhook_url": channel.webhook_url,
        "active": channel.active,
        "created_at": channel.created_at.isoformat(),
    }


async def create_channel(request: web.Request) -> web.Response:
    body = await read_json(request, NewApiChannel)
    channel, token = await request.app[API_CHANNELS].create(body.name, str(body.webhook_url))
    created = _public(channel) | {"token": token, "secret": channel.secret}
    return web.json_response(created, status=201)


async def list_channels(request: web.Request) -> web.Response:
    channels = await request.app[API_CHANNELS].all()
    return web.json_response({"items": [_public(c) for c in channels]})


def setup(app: web.Application) -> None:
    app[API_CHANNELS] = ApiChannelStore(app[MONGO])
    routes = app[API_ROUTES]
    routes.add(
        "POST",
        "/api-channels",
        create_channel,
        roles=ADMIN_ONLY,
        summary="Create an API inbox (its token and signing secret are shown once)",
        body=NewApiChannel,
        response=CreatedApiChannel,
        status=201,
    )
    routes.add(
        "GET",
        "/api-channels",
        list_channels,
        roles=ADMIN_ONLY,
        summary="API inboxes, without their token or secret",
        response=ItemList,
    )
