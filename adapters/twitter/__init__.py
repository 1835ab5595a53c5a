"""The X (Twitter) channel: mentions and DMs in, reply tweets and DMs out."""

from adapters.twitter.adapter import TwitterAdapter

__all__ = ["TwitterAdapter"]
