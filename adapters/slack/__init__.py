"""The Slack channel: agents answer from Slack threads, and Slack users can be customers."""

from adapters.slack.adapter import SlackAdapter

__all__ = ["SlackAdapter"]
