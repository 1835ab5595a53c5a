"""``chorus doctor``'s Telegram check: ``getMe`` with the bot token, one cheap call."""

from __future__ import annotations

from adapters.telegram.config import TelegramConfig
from hub.channels.checks import (
    UNREACHABLE,
    CheckResult,
    ProbeContext,
    call_json,
    missing_setting,
    unreachable,
)


async def check_credentials(section: TelegramConfig, ctx: ProbeContext) -> CheckResult:
    token = section.bot_token.get_secret_value()
    if not token:
        return missing_setting("telegram", "bot_token")
    base = section.api_base_url.rstrip("/")
    url = f"{base}{token}/getMe" if base.endswith("/bot") else f"{base}/bot{token}/getMe"
    try:
        _, body = await call_json(ctx, "GET", url)
    except UNREACHABLE as exc:
        return unreachable("telegram", base, exc)
    if isinstance(body, dict) and body.get("ok"):
        username = (body.get("result") or {}).get("username", "?")
        return CheckResult("telegram.credentials", "pass", f"getMe: bot @{username}")
    described = body.get("description", "refused") if isinstance(body, dict) else "refused"
    return CheckResult(
        "telegram.credentials",
        "fail",
        f"getMe refused the token: {described}",
        "copy the bot token from @BotFather into CHORUS_TELEGRAM__BOT_TOKEN",
    )
