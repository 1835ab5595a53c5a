"""The web chat channel: customers talk over a WebSocket at ``/chat``.

Import ``adapters.web.adapter.WebChatAdapter``; the registry reads ``channel.py``.
"""
