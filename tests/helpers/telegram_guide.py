"""The example updates of Telegram's webhook guide ("Testing your bot with updates",
https://core.telegram.org/bots/webhooks), verbatim: what a bot developer replays with
curl against a new webhook. The first has a ``chat`` without ``type``; none has
``is_bot``. Every example uses ``update_id`` 10000, as the guide does."""

from __future__ import annotations

import json
from typing import Any

_MESSAGE_WITH_TEXT_TLS = """{
"update_id":10000,
"message":{
  "date":1441645532,
  "chat":{
     "last_name":"Test Lastname",
     "id":1111111,
     "first_name":"Test",
     "username":"Test"
  },
  "message_id":1365,
  "from":{
     "last_name":"Test Lastname",
     "id":1111111,
     "first_name":"Test",
     "username":"Test"
  },
  "text":"/start"
}
}"""

_MESSAGE_WITH_TEXT = """{
"update_id":10000,
"message":{
  "date":1441645532,
  "chat":{
     "last_name":"Test Lastname",
     "id":1111111,
     "type": "private",
     "first_name":"Test Firstname",
     "username":"Testusername"
  },
  "message_id":1365,
  "from":{
     "last_name":"Test Lastname",
     "id":1111111,
     "first_name":"Test Firstname",
     "username":"Testusername"
  },
  "text":"/start"
}
}"""

_EDITED_MESSAGE = """{
"update_id":10000,
"edited_message":{
  "date":1441645532,
  "chat":{
     "last_name":"Test Lastname",
     "type": "private",
     "id":1111111,
     "first_name":"Test Firstname",
     "username":"Testusername"
  },
  "message_id":1365,
  "from":{
     "last_name":"Test Lastname",
     "id":1111111,
     "first_name":"Test Firstname",
     "username":"Testusername"
  },
  "text":"Edited text",
  "edit_date": 1441646600
}
}"""

_MESSAGE_WITH_DOCUMENT = """{
"update_id":10000,
"message":{
  "date":1441645532,
  "chat":{
     "last_name":"Test Lastname",
     "type": "private",
     "id":1111111,
     "first_name":"Test Firstname",
     "username":"Testusername"
  },
  "message_id":1365,
  "from":{
     "last_name":"Test Lastname",
     "id":1111111,
     "first_name":"Test Firstname",
     "username":"Testusername"
  },
  "document": {
      "file_id": "AwADBAADbXXXXXXXXXXXGBdhD2l6_XX",
      "file_name": "Testfile.pdf",
      "mime_type": "application/pdf",
      "file_size": 536392
  }
}
}"""

_CALLBACK_QUERY = """{
"update_id":10000,
"callback_query":{
  "id": "4382bfdwdsb323b2d9",
  "from":{
     "last_name":"Test Lastname",
     "type": "private",
     "id":1111111,
     "first_name":"Test Firstname",
     "username":"Testusername"
  },
  "data": "Data from button callback",
  "inline_message_id": "1234csdbsk4839"
}
}"""


def guide_update(name: str) -> dict[str, Any]:
    """One of the guide's examples, parsed from its text."""
    texts = {
        "message_with_text_tls": _MESSAGE_WITH_TEXT_TLS,
        "message_with_text": _MESSAGE_WITH_TEXT,
        "edited_message": _EDITED_MESSAGE,
        "message_with_document": _MESSAGE_WITH_DOCUMENT,
        "callback_query": _CALLBACK_QUERY,
    }
    parsed: dict[str, Any] = json.loads(texts[name])
    return parsed
