"""The X (Twitter) channel: mentions and DMs in, reply tweets and DMs out.

Import ``adapters.twitter.adapter.TwitterAdapter``; this package file stays empty so that
the channel registry can read the declaration (``channel.py``) without loading the client.
"""
