"""RSA PKCS#1 v1.5 SHA-256 signature verification with a PEM public key, in the standard library only.

Verification needs only public values (modulus, exponent, signature), so plain modular
exponentiation is safe here; the final comparison is constant time anyway.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re
from dataclasses import dataclass

# DER DigestInfo prefix for SHA-256 (RFC 8017, section 9.2, note 1)
_SHA256_INFO = bytes.fromhex("3031300d060960864801650304020105000420")
_RSA_OID = bytes.fromhex("2a864886f70d010101")
_PEM = re.compile(r"-----BEGIN (RSA PUBLIC KEY|PUBLIC KEY)-----(.*?)-----END \1-----", re.S)


@dataclass(frozen=True, slots=True)
class RsaPublicKey:
    n: int
    e: int


def _der(data: bytes, pos: int, tag: int) -> tuple[bytes, int]:
    """The content of the DER element with `tag` at `pos`, and where the next element starts."""
    if pos + 2 > len(data) or data[pos] != tag:
        raise ValueError(f"expected DER tag 0x{tag:02x} at byte {pos}")
    length, pos = data[pos + 1], pos + 2
    if length & 0x80:
        count = length & 0x7F
        if not 0 < count <= 4 or pos + count > len(data):
            raise ValueError("bad DER length")
        length, pos = int.from_bytes(data[pos : pos + count], "big"), pos + count
    if pos + length > len(data):
        raise ValueError("DER element runs past the end")
    return data[pos : pos + length], pos + length


def _rsa_public_key(der: bytes) -> RsaPublicKey:
    """RSAPublicKey ::= SEQUENCE { modulus INTEGER, publicExponent INTEGER }"""
    body, _ = _der(der, 0, 0x30)
    n, pos = _der(body, 0, 0x02)
    e, _ = _der(body, pos, 0x02)
    return RsaPublicKey(int.from_bytes(n, "big"), int.from_bytes(e, "big"))


def _spki(der: bytes) -> RsaPublicKey:
    """SubjectPublicKeyInfo ::= SEQUENCE { AlgorithmIdentifier, BIT STRING (an RSAPublicKey) }"""
    body, _ = _der(der, 0, 0x30)
    algorithm, pos = _der(body, 0, 0x30)
    oid, _ = _der(algorithm, 0, 0x06)
    if oid != _RSA_OID:
        raise ValueError("not an RSA public key")
    bits, _ = _der(body, pos, 0x03)
    if not bits or bits[0] != 0:
        raise ValueError("bad BIT STRING")
    return _rsa_public_key(bits[1:])


def load_public_keys(pem: str) -> list[RsaPublicKey]:
    """Every RSA public key in a PEM text (`PUBLIC KEY` or `RSA PUBLIC KEY` blocks)."""
    keys = []
    for label, text in _PEM.findall(pem):
        der = base64.b64decode("".join(text.split()))
        keys.append(_spki(der) if label == "PUBLIC KEY" else _rsa_public_key(der))
    if not keys:
        raise ValueError("no PEM public key found (expected -----BEGIN PUBLIC KEY-----)")
    return keys


def verify_sha256(key: RsaPublicKey, message: bytes, signature: bytes) -> bool:
    size = (key.n.bit_length() + 7) // 8
    if len(signature) != size:
        return False
    value = int.from_bytes(signature, "big")
    if value >= key.n:
        return False
    encoded = pow(value, key.e, key.n).to_bytes(size, "big")
    info = _SHA256_INFO + hashlib.sha256(message).digest()
    if size < len(info) + 11:
        return False
    expected = b"\x00\x01" + b"\xff" * (size - len(info) - 3) + b"\x00" + info
    return hmac.compare_digest(encoded, expected)
