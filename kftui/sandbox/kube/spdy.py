"""SPDY/3.1 port-forward, as kubectl 1.31+ speaks it tunnelled through a WebSocket (`SPDY/3.1+portforward.k8s.io`).

kubectl opens, per local connection, an error stream and a data stream (SYN_STREAM headers `streamtype`, `port`,
`requestid`), waits for a SYN_REPLY to each, writes the client's bytes on the data stream and reads the pod's
answer back; text on the error stream ("an error occurred forwarding ...") is printed and ends the forward.
Frame layout and header-block compression follow the SPDY/3 draft (sections 2.2, 2.6, 2.6.10); the stream
headers follow k8s.io/api/core/v1 (PortHeader, PortForwardRequestIDHeader, StreamType values).
"""

from __future__ import annotations

import struct
import zlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field

_HEADER_WORDS = (
    "options head post put delete trace accept accept-charset accept-encoding accept-language accept-ranges age allow "
    "authorization cache-control connection content-base content-encoding content-language content-length "
    "content-location content-md5 content-range content-type date etag expect expires from host if-match "
    "if-modified-since if-none-match if-range if-unmodified-since last-modified location max-forwards pragma "
    "proxy-authenticate proxy-authorization range referer retry-after server te trailer transfer-encoding upgrade "
    "user-agent vary via warning www-authenticate method get status"
)
_WORDS = [*_HEADER_WORDS.split(" "), "200 OK", "version", "HTTP/1.1", "url", "public", "set-cookie", "keep-alive",
          "origin"]
_TAIL = (
    "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505"
    "203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized"
    "403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable"
    "Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT"
    "chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,"
    "text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0."
)
DICTIONARY = b"".join(struct.pack(">I", len(w)) + w.encode() for w in _WORDS) + _TAIL.encode()
"""The SPDY/3 header dictionary (draft 3, 2.6.10.1): every peer's zlib streams are primed with it."""

PROTOCOL = "SPDY/3.1+portforward.k8s.io"
SYN_STREAM, SYN_REPLY, RST_STREAM, SETTINGS, PING, GOAWAY, HEADERS, WINDOW_UPDATE = 1, 2, 3, 4, 6, 7, 8, 9
FLAG_FIN = 0x01
MAX_FRAME = 1 << 24


@dataclass
class Frame:
    """One frame: control (type set) or data (type 0), with its stream and payload."""

    type: int
    flags: int
    stream: int
    payload: bytes


class Decoder:
    """Cuts a byte stream into frames; a half-received frame waits for the rest."""

    def __init__(self) -> None:
        """An empty buffer."""
        self.buffer = b""

    def feed(self, data: bytes) -> list[Frame]:
        """Frames completed by these bytes."""
        self.buffer += data
        frames: list[Frame] = []
        while len(self.buffer) >= 8:
            first, second = struct.unpack(">II", self.buffer[:8])
            length = second & 0xFFFFFF
            if len(self.buffer) < 8 + length:
                break
            payload, self.buffer = self.buffer[8:8 + length], self.buffer[8 + length:]
            flags = second >> 24
            if first & 0x80000000:
                kind = first & 0xFFFF
                stream = struct.unpack(">I", payload[:4])[0] & 0x7FFFFFFF if len(payload) >= 4 else 0
                frames.append(Frame(kind, flags, stream, payload))
            else:
                frames.append(Frame(0, flags, first & 0x7FFFFFFF, payload))
        return frames


def control(kind: int, flags: int, payload: bytes) -> bytes:
    """A version-3 control frame."""
    return struct.pack(">HHI", 0x8000 | 3, kind, (flags << 24) | len(payload)) + payload


def data(stream: int, payload: bytes, fin: bool = False) -> bytes:
    """A data frame (split by the caller when over 16 MiB)."""
    return struct.pack(">II", stream & 0x7FFFFFFF, ((FLAG_FIN if fin else 0) << 24) | len(payload)) + payload


def encode_headers(headers: dict[str, str]) -> bytes:
    """An uncompressed name/value block."""
    out = struct.pack(">I", len(headers))
    for name, value in headers.items():
        out += struct.pack(">I", len(name)) + name.lower().encode() + struct.pack(">I", len(value)) + value.encode()
    return out


def decode_headers(block: bytes) -> dict[str, str]:
    """A decompressed name/value block (names lower-cased, as SPDY requires)."""
    count = struct.unpack(">I", block[:4])[0]
    pos, out = 4, {}
    for _ in range(count):
        (n,) = struct.unpack(">I", block[pos:pos + 4])
        name = block[pos + 4:pos + 4 + n].decode(errors="replace").lower()
        pos += 4 + n
        (v,) = struct.unpack(">I", block[pos:pos + 4])
        out[name] = block[pos + 4:pos + 4 + v].decode(errors="replace")
        pos += 4 + v
    return out


Answer = Callable[[int, bytes], bytes | None]
"""(port, request bytes so far) -> the pod's whole answer once it can give one, else None to wait for more."""


@dataclass
class _Pair:
    """One forwarded connection: its data and error streams and what the client has sent."""

    port: int
    data_stream: int = 0
    error_stream: int = 0
    received: bytes = b""
    done: bool = False


@dataclass
class Session:
    """The server side of one SPDY connection carrying port-forward streams."""

    send: Callable[[bytes], Awaitable[None]]
    answer: Answer
    refuse: Callable[[int], str | None]
    decoder: Decoder = field(default_factory=Decoder)
    inflate: zlib._Decompress = field(default_factory=lambda: zlib.decompressobj(zdict=DICTIONARY))
    deflate: zlib._Compress = field(default_factory=lambda: zlib.compressobj(zdict=DICTIONARY))
    pairs: dict[str, _Pair] = field(default_factory=dict)
    by_stream: dict[int, str] = field(default_factory=dict)
    closed: bool = False

    def _headers_block(self, headers: dict[str, str]) -> bytes:
        """A compressed header block on this session's one deflate stream."""
        return self.deflate.compress(encode_headers(headers)) + self.deflate.flush(zlib.Z_SYNC_FLUSH)

    async def feed(self, chunk: bytes) -> None:
        """Act on every frame these bytes complete."""
        for frame in self.decoder.feed(chunk):
            await self._frame(frame)

    async def _frame(self, frame: Frame) -> None:
        """One frame from kubectl."""
        if frame.type == SYN_STREAM:
            headers = decode_headers(self.inflate.decompress(frame.payload[10:]))
            await self.send(control(SYN_REPLY, 0, struct.pack(">I", frame.stream) + self._headers_block({})))
            await self._open(frame.stream, headers)
        elif frame.type == PING:
            await self.send(control(PING, 0, frame.payload[:4]))
        elif frame.type == GOAWAY:
            self.closed = True
        elif frame.type == HEADERS:
            self.inflate.decompress(frame.payload[4:])  # keep the shared inflate stream in step
        elif frame.type == 0:
            await self._data(frame)

    async def _open(self, stream: int, headers: dict[str, str]) -> None:
        """Pair a new stream with its request; a complete pair starts the connection."""
        port_text, request = headers.get("port", ""), headers.get("requestid", str(stream))
        if not port_text.isdigit():
            await self.send(control(RST_STREAM, 0, struct.pack(">II", stream, 1)))
            return
        pair = self.pairs.setdefault(request, _Pair(int(port_text)))
        if headers.get("streamtype") == "error":
            pair.error_stream = stream
        else:
            pair.data_stream = stream
        self.by_stream[stream] = request
        if pair.error_stream and pair.data_stream:
            reason = self.refuse(pair.port)
            if reason is not None:
                await self.send(data(pair.error_stream, reason.encode(), fin=True))
                await self.send(data(pair.data_stream, b"", fin=True))
                pair.done = True

    async def _data(self, frame: Frame) -> None:
        """Client bytes on a data stream: answer once the request is whole."""
        request = self.by_stream.get(frame.stream)
        pair = self.pairs.get(request or "")
        if pair is None or pair.done or frame.stream != pair.data_stream:
            return
        pair.received = (pair.received + frame.payload)[:1 << 20]
        reply = self.answer(pair.port, pair.received)
        if reply is None and not frame.flags & FLAG_FIN:
            return
        pair.done = True
        for start in range(0, len(reply or b""), MAX_FRAME - 1):
            await self.send(data(pair.data_stream, (reply or b"")[start:start + MAX_FRAME - 1]))
        await self.send(data(pair.data_stream, b"", fin=True))
        if pair.error_stream:
            await self.send(data(pair.error_stream, b"", fin=True))
