"""Database commands per inbound message, counted on the wire between a hub and its database.

A small proxy sits between ``chorus serve`` and SecantusDB and reads every OP_MSG the hub
sends: the command name and the collection it names. Nothing in the hub is instrumented, so
the counts are what any MongoDB server would be asked. Three shapes of web chat traffic:

- ``new``: each customer opens a conversation with one question the bot answers;
- ``bot``: the same customers ask more questions, the bot answers each;
- ``handed-off``: after asking for a person, customers write and an agent replies to each
  message through the REST API (and, separately, customers write with no reply).

Background work (outbox polls, change stream long-polls, SLA checks) is measured in an idle
window of its own and printed as commands per second, not subtracted from the rows. Rows
with a target carry it as their baseline, so the ratio column reads "share of the ceiling".
Run: ``python -m bench.commands [--customers 50] [--messages 10]``.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import struct
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

import aiohttp
import bson

from bench.harness import HubProcess, Row, database, print_table
from hub.access.tokens import TokenService
from hub.config.model import load_config
from storage.embedded import free_port

OP_MSG = 2013
# The driver's own connection upkeep, not work the hub asked for.
# Write commands and the field holding their batch when it is not sent as a kind 1 section.
WRITES = {"insert": ("documents",), "update": ("updates",), "delete": ("deletes",)}
HANDSHAKE = {"hello", "ismaster", "isMaster", "ping", "endSessions", "buildInfo", "saslStart"}
QUESTION = "What are your opening hours?"
SECRET = "bench-secret-" + "x" * 32


@dataclass
class WireCounts:
    """Commands seen on the wire, by (command, collection), and the documents they write.

    On the embedded server every written document rewrites all of its collection's index
    entries, so the database's work follows documents written more than commands sent.
    """

    seen: Counter[tuple[str, str]] = field(default_factory=Counter)
    written: Counter[tuple[str, str]] = field(default_factory=Counter)

    def record(self, message: bytes) -> None:
        if len(message) < 21 or struct.unpack_from("<i", message, 12)[0] != OP_MSG:
            return
        offset = 20  # header (16) + flagBits (4)
        command: tuple[str, str] | None = None
        while offset < len(message):
            kind = message[offset]
            offset += 1
            size = struct.unpack_from("<i", message, offset)[0]
            if kind == 0:
                document = bson.decode(message[offset : offset + size])
                name = next(iter(document))
                if name in HANDSHAKE:
                    return
                target = document[name] if isinstance(document[name], str) else ""
                target = target or str(document.get("collection", ""))
                command = (name, "change stream" if target.startswith("$cmd") else target)
                self.seen[command] += 1
                if name == "findAndModify":
                    self.written[command] += 1
                for key in WRITES.get(name, ()):  # batches sent inline rather than as kind 1
                    self.written[command] += len(document.get(key) or ())
            elif command is not None:
                # A kind 1 section: size, the identifier's C string, then the documents.
                end = offset + size
                at = message.index(b"\0", offset + 4) + 1
                while at < end:
                    self.written[command] += 1
                    at += struct.unpack_from("<i", message, at)[0]
            offset += size

    def snapshot(self) -> Counter[tuple[str, str]]:
        return Counter(self.seen)

    def written_snapshot(self) -> Counter[tuple[str, str]]:
        return Counter(self.written)


async def _pipe(
    reader: asyncio.StreamReader, writer: asyncio.StreamWriter, counts: WireCounts | None
) -> None:
    try:
        while True:
            header = await reader.readexactly(16)
            length = struct.unpack_from("<i", header)[0]
            message = header + await reader.readexactly(length - 16)
            if counts is not None:
                counts.record(message)
            writer.write(message)
            await writer.drain()
    except (asyncio.IncompleteReadError, ConnectionError):
        pass
    finally:
        writer.close()


@contextlib.asynccontextmanager
async def wire_proxy(target_port: int, counts: WireCounts) -> AsyncIterator[int]:
    """Forward MongoDB connections on a free loopback port to ``target_port``, counting."""

    async def accept(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        up_reader, up_writer = await asyncio.open_connection("127.0.0.1", target_port)
        await asyncio.gather(_pipe(reader, up_writer, counts), _pipe(up_reader, writer, None))

    port = free_port()
    server = await asyncio.start_server(accept, "127.0.0.1", port)
    try:
        yield port
    finally:
        server.close()


class Customer:
    """One web chat visitor on its own socket, reading frames into a queue."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.frames: asyncio.Queue[dict[str, Any]] = asyncio.Queue()
        self.reader = asyncio.create_task(self._read())
        self.conversation_id = ""

    async def _read(self) -> None:
        async for msg in self.ws:
            if msg.type == aiohttp.WSMsgType.TEXT:
                await self.frames.put(msg.json())

    async def next_frame(self, kind: str, **match: Any) -> dict[str, Any]:
        while True:
            frame = await asyncio.wait_for(self.frames.get(), timeout=30)
            if frame.get("type") == kind and all(frame.get(k) == v for k, v in match.items()):
                return frame

    async def say(self, text: str, client_id: str) -> dict[str, Any]:
        await self.ws.send_json({"type": "message", "text": text, "client_id": client_id})
        return await self.next_frame("ack", client_id=client_id)

    async def reply(self) -> dict[str, Any]:
        return await self.next_frame("message", direction="outbound")


# The performance round's ceilings (issue #21): the table's ratio column is figure / target.
TARGETS = {"bot, steady state": 1.5, "handed off, no reply": 0.3}


async def _measure(
    counts: WireCounts, inbound: int, name: str, work: Callable[[], Awaitable[None]]
) -> Row:
    before = counts.snapshot()
    written_before = counts.written_snapshot()
    began = time.perf_counter()
    await work()
    seconds = time.perf_counter() - began
    spent = counts.snapshot() - before
    written = counts.written_snapshot() - written_before
    total = sum(spent.values())
    top = ", ".join(
        f"{command} {collection}".strip() + f" {n / inbound:.2f}"
        for (command, collection), n in spent.most_common(6)
    )
    docs = ", ".join(
        f"{command} {collection} {n / inbound:.2f}"
        for (command, collection), n in written.most_common()
    )
    print(f"{name}: {total} commands for {inbound} inbound messages in {seconds:.1f}s: {top}")
    print(f"{name}: {sum(written.values()) / inbound:.2f} documents written per message: {docs}")
    target = TARGETS.get(name)
    note = (f"target <= {target}; " if target else "") + top
    return Row(f"db commands per msg, {name}", total / inbound, "cmd/msg", target, note[:70])


async def _drive(base_url: str, counts: WireCounts, customers: int, messages: int) -> list[Row]:
    tokens = TokenService(load_config(None, environ={"CHORUS_AUTH__JWT_SECRET": SECRET}).auth)
    headers = {"Authorization": f"Bearer {tokens.issue('bench', 'admin', 3600)}"}
    ws_url = base_url.replace("http", "ws", 1) + "/chat"
    rows: list[Row] = []
    async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0)) as http:
        people = [Customer(await http.ws_connect(ws_url)) for _ in range(customers)]
        for person in people:
            await person.ws.send_json({"type": "hello"})
            await person.next_frame("welcome")

        async def ask_all(round_: str) -> None:
            async def one(n: int, person: Customer) -> None:
                await person.say(QUESTION, f"{round_}-{n}")
                await person.reply()

            await asyncio.gather(*(one(n, p) for n, p in enumerate(people)))

        async def idle() -> None:
            await asyncio.sleep(3)

        background = counts.snapshot()
        await idle()
        idle_rate = sum((counts.snapshot() - background).values()) / 3

        rows.append(await _measure(counts, customers, "new, bot answers", lambda: ask_all("a")))

        async def bot_rounds() -> None:
            for m in range(messages):
                await ask_all(f"b{m}")

        rows.append(await _measure(counts, customers * messages, "bot, steady state", bot_rounds))

        async def hand_off(n: int, person: Customer) -> None:
            ack = await person.say("agent", f"h-{n}")
            await person.reply()  # the handoff message
            async with http.get(f"{base_url}/api/v1/messages/{ack['id']}", headers=headers) as r:
                person.conversation_id = (await r.json())["conversation_id"]

        await asyncio.gather(*(hand_off(n, p) for n, p in enumerate(people)))

        async def quiet_rounds() -> None:
            for m in range(messages):
                await asyncio.gather(
                    *(p.say(f"still there? {m}", f"q{m}-{n}") for n, p in enumerate(people))
                )

        rows.append(
            await _measure(counts, customers * messages, "handed off, no reply", quiet_rounds)
        )

        async def answered_rounds() -> None:
            async def one(m: int, n: int, person: Customer) -> None:
                await person.say(f"question {m}", f"r{m}-{n}")
                url = f"{base_url}/api/v1/conversations/{person.conversation_id}/messages"
                body = {"text": f"answer {m}", "client_id": f"agent-{m}-{n}"}
                async with http.post(url, json=body, headers=headers) as r:
                    assert r.status in (200, 201), await r.text()
                await person.reply()

            for m in range(messages):
                await asyncio.gather(*(one(m, n, p) for n, p in enumerate(people)))

        rows.append(
            await _measure(
                counts, customers * messages, "handed off, agent replies", answered_rounds
            )
        )
        rows.append(Row("db commands per second, idle hub", idle_rate, "cmd/s"))
        for person in people:
            await person.ws.close()
            person.reader.cancel()
    return rows


def run(customers: int, messages: int) -> list[Row]:
    counts = WireCounts()

    async def main(db_port: int) -> list[Row]:
        async with wire_proxy(db_port, counts) as port:
            uri = f"mongodb://127.0.0.1:{port}/?directConnection=true"
            hub = HubProcess(
                uri,
                extra_env={"CHORUS_BOT__ENABLED": "true", "CHORUS_AUTH__JWT_SECRET": SECRET},
            )
            # The hub process starts synchronously; its database traffic flows through the
            # proxy this loop serves, so start it from a thread.
            await asyncio.to_thread(hub.__enter__)
            try:
                await asyncio.to_thread(hub.add_agent, "bench", "admin")
                return await _drive(hub.base_url, counts, customers, messages)
            finally:
                await asyncio.to_thread(hub.__exit__)

    with database() as server:
        return asyncio.run(main(server.port))


def cli() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--customers", type=int, default=50)
    parser.add_argument("--messages", type=int, default=10)
    args = parser.parse_args()
    print_table(run(args.customers, args.messages))


if __name__ == "__main__":
    cli()
