"""``chorus doctor``'s Slack check: ``auth.test`` with the bot token, one cheap call."""

from __future__ import annotations

from adapters.slack.config import SlackConfig
from hub.channels.checks import (
    UNREACHABLE,
    CheckResult,
    ProbeContext,
    call_json,
    missing_setting,
    unreachable,
)


async def check_credentials(section: SlackConfig, ctx: ProbeContext) -> CheckResult:
    token = section.bot_token.get_secret_value()
    if not token:
        return missing_setting("slack", "bot_token")
    url = section.api_base_url.rstrip("/") + "/auth.test"
    try:
        _, body = await call_json(ctx, "POST", url, f"Bearer {token}")
    except UNREACHABLE as exc:
        return unreachable("slack", url, exc)
    if isinstance(body, dict) and body.get("ok"):
        return CheckResult(
            "slack.credentials", "pass", f"auth.test: {body.get('user')} in {body.get('team')}"
        )
    error = body.get("error", "refused") if isinstance(body, dict) else "refused"
    return CheckResult(
        "slack.credentials",
        "fail",
        f"auth.test refused the token: {error}",
        "install the app to the workspace and copy its Bot User OAuth Token (xoxb-…) into "
        "CHORUS_SLACK__BOT_TOKEN",
    )
