"""The web chat channel: customers talk over a WebSocket at ``/chat``."""

from adapters.web.adapter import WebChatAdapter

__all__ = ["WebChatAdapter"]
