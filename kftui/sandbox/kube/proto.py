"""Reading the protobuf bodies kubectl sends for a few core kinds (`kubectl create namespace|secret|configmap|sa`).

kubectl's typed commands encode built-in objects as Kubernetes protobuf: the magic `k8s\\0`, then a
runtime.Unknown (typeMeta, raw) whose raw bytes are the object. Field numbers are those of k8s.io/api's
generated.proto. Only what those commands send is read; anything else gets the 415 a server without the kind's
protobuf codec would give.
"""

from __future__ import annotations

import base64
from collections.abc import Iterator
from typing import Any

MAGIC = b"k8s\x00"


def _varint(buf: bytes, i: int) -> tuple[int, int]:
    """A base-128 varint at i: (value, next index)."""
    shift = value = 0
    while True:
        b = buf[i]
        i += 1
        value |= (b & 0x7F) << shift
        if not b & 0x80:
            return value, i
        shift += 7


def fields(buf: bytes) -> Iterator[tuple[int, int | bytes]]:
    """(field number, varint or length-delimited bytes) of one message; other wire types are refused."""
    i = 0
    while i < len(buf):
        tag, i = _varint(buf, i)
        number, wire = tag >> 3, tag & 7
        if wire == 0:
            value, i = _varint(buf, i)
            yield number, value
        elif wire == 2:
            size, i = _varint(buf, i)
            yield number, buf[i:i + size]
            i += size
        else:
            raise ValueError(f"unsupported protobuf wire type {wire}")


def _text(value: int | bytes) -> str:
    """A string field."""
    return value.decode("utf-8") if isinstance(value, bytes) else str(value)


def _entry(value: int | bytes) -> tuple[str, bytes]:
    """One map<string, string|bytes> entry (key = 1, value = 2)."""
    key, val = "", b""
    for n, v in fields(value if isinstance(value, bytes) else b""):
        if n == 1:
            key = _text(v)
        elif n == 2 and isinstance(v, bytes):
            val = v
    return key, val


def _meta(buf: bytes) -> dict[str, Any]:
    """ObjectMeta: name 1, generateName 2, namespace 3, labels 11, annotations 12, finalizers 14."""
    meta: dict[str, Any] = {}
    for n, v in fields(buf):
        if n in (1, 2, 3):
            meta[{1: "name", 2: "generateName", 3: "namespace"}[n]] = _text(v)
        elif n in (11, 12):
            k, val = _entry(v)
            meta.setdefault("labels" if n == 11 else "annotations", {})[k] = val.decode("utf-8")
        elif n == 14:
            meta.setdefault("finalizers", []).append(_text(v))
    return meta


def _object(kind: str, raw: bytes) -> dict[str, Any]:
    """The JSON form of a Namespace, ConfigMap, Secret or ServiceAccount message."""
    obj: dict[str, Any] = {}
    for n, v in fields(raw):
        if n == 1 and isinstance(v, bytes):
            obj["metadata"] = _meta(v)
        elif kind == "ConfigMap" and n in (2, 3):
            k, val = _entry(v)
            if n == 2:
                obj.setdefault("data", {})[k] = val.decode("utf-8")
            else:
                obj.setdefault("binaryData", {})[k] = base64.b64encode(val).decode()
        elif kind == "Secret" and n in (2, 4):
            k, val = _entry(v)
            if n == 2:
                obj.setdefault("data", {})[k] = base64.b64encode(val).decode()
            else:
                obj.setdefault("stringData", {})[k] = val.decode("utf-8")
        elif kind == "Secret" and n == 3:
            obj["type"] = _text(v)
    return obj


KINDS = ("Namespace", "ConfigMap", "Secret", "ServiceAccount")


def decode(body: bytes) -> dict[str, Any]:
    """A protobuf-encoded core object as JSON; ValueError for anything this reader does not know."""
    if not body.startswith(MAGIC):
        raise ValueError("not a Kubernetes protobuf body")
    api_version = kind = ""
    raw = b""
    for n, v in fields(body[len(MAGIC):]):
        if n == 1 and isinstance(v, bytes):
            for tn, tv in fields(v):
                if tn == 1:
                    api_version = _text(tv)
                elif tn == 2:
                    kind = _text(tv)
        elif n == 2 and isinstance(v, bytes):
            raw = v
    if kind not in KINDS or api_version != "v1":
        raise ValueError(f"no protobuf codec for {api_version} {kind}")
    return {"apiVersion": api_version, "kind": kind, **_object(kind, raw)}
