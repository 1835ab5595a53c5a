"""Fixtures of this folder, shared from ``tests.helpers.wechat``."""

from tests.helpers.wechat import (  # noqa: F401 (fixtures pytest finds here)
    fake_wechat,
    wechat_server,
    wx_client,
    wx_plain,
)
