"""The manifest's signature: Ed25519 (RFC 8032) over the RFC 8785 canonical JSON of the
manifest without its `signature` member. Pure: the offline verifier imports it."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

import rfc8785

if TYPE_CHECKING:
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (
        Ed25519PrivateKey,
        Ed25519PublicKey,
    )

SIGNATURE = "signature"
PUBLIC_KEY = "public_key"


def signed_bytes(manifest: Mapping[str, Any]) -> bytes:
    """What the signature covers: RFC 8785 of the manifest minus `signature`."""
    return rfc8785.dumps({k: v for k, v in manifest.items() if k != SIGNATURE})


def key_text(key: Ed25519PublicKey) -> str:
    """The raw 32-byte public key, base64 (as `ledger keygen` prints it and checkpoints carry)."""
    from cryptography.hazmat.primitives import serialization  # noqa: PLC0415

    raw = key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return base64.b64encode(raw).decode()


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def sign(manifest: dict[str, Any], signer: Ed25519PrivateKey) -> dict[str, Any]:
    """`manifest` with `public_key` and `signature` set."""
    body = {**manifest, PUBLIC_KEY: key_text(signer.public_key())}
    body.pop(SIGNATURE, None)
    return {**body, SIGNATURE: base64.b64encode(signer.sign(signed_bytes(body))).decode()}


def valid(message: bytes, signature: str, public_key: str) -> bool:
    """Whether `signature` (base64) is `public_key`'s (base64, raw) over `message`."""
    from cryptography.exceptions import InvalidSignature  # noqa: PLC0415
    from cryptography.hazmat.primitives.asymmetric.ed25519 import (  # noqa: PLC0415
        Ed25519PublicKey,
    )

    try:
        key = Ed25519PublicKey.from_public_bytes(base64.b64decode(public_key, validate=True))
        key.verify(base64.b64decode(signature, validate=True), message)
    except (InvalidSignature, ValueError, TypeError):
        return False
    return True
