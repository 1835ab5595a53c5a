"""The Slack channel: agents answer from Slack threads, and Slack users can be customers.

Import ``adapters.slack.adapter.SlackAdapter``; this package file stays empty so that the
channel registry can read the declaration (``channel.py``) without loading the SDK.
"""
