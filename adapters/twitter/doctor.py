"""``chorus doctor``'s X check: ``GET /2/users/me`` through the channel's own client, so
the doctor signs (OAuth 1.0a user context) exactly as the channel does."""

from __future__ import annotations

from adapters.twitter.config import TwitterConfig
from hub.channels.checks import UNREACHABLE, CheckResult, ProbeContext, missing_setting, unreachable


async def check_credentials(section: TwitterConfig, ctx: ProbeContext) -> CheckResult:
    from adapters.twitter.client import check_account

    credentials = {
        "consumer_key": section.consumer_key.get_secret_value(),
        "consumer_secret": section.consumer_secret.get_secret_value(),
        "access_token": section.access_token.get_secret_value(),
        "access_token_secret": section.access_token_secret.get_secret_value(),
    }
    if not all(credentials.values()):
        return missing_setting("twitter", "access_token")
    base = section.api_base_url
    try:
        ok, detail = await check_account(base, ctx.timeout, user_auth=True, **credentials)
    except UNREACHABLE as exc:
        return unreachable("twitter", base.rstrip("/") + "/2/users/me", exc)
    if ok:
        return CheckResult("twitter.credentials", "pass", f"users/me: {detail}")
    return CheckResult(
        "twitter.credentials",
        "fail",
        f"users/me refused: {detail}",
        "regenerate the access token and secret (user context) in the developer portal and "
        "set CHORUS_TWITTER__ACCESS_TOKEN and CHORUS_TWITTER__ACCESS_TOKEN_SECRET",
    )
