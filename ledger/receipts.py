"""Receipt storage: each uploaded receipt kept once, by the SHA-256 of its bytes, encrypted at rest.

Organisations attach receipts (PDF, JPEG or PNG) to expense report lines. This module only stores
them; who may read one is the service layer's decision. It has no Flask and no database.

What is accepted is decided by content, never by file name:

- **PDF**: ``%PDF-1.x`` or ``%PDF-2.x`` within the first 1024 bytes, with nothing that looks
  like markup before it (that is how PDF/HTML polyglots are made), and ``%%EOF`` within the last
  1024 bytes.
- **JPEG**: ``FF D8 FF`` at the start, ``FF D9`` at the very end, and well-formed segments up to
  the first scan, with exactly one frame header (SOFn) that gives the width and height.
- **PNG**: the 8-byte signature, an IHDR chunk first, every chunk whole with a correct CRC, at
  least one IDAT, and IEND last with nothing after it.

The pixel dimensions of JPEG and PNG images are read from those headers (nothing is decoded) and
checked against :class:`ImageLimits` so that decompression bombs are refused before anything
decodes them.

On disk a receipt with SHA-256 ``abcdef...`` is the file ``root/ab/cdef...`` (mode 0600, folders
0700), written to a temporary file first and renamed into place. The file is::

    b"CFLR1"  media type code (1 byte: 1 PDF, 2 JPEG, 3 PNG)  nonce (12 bytes)  AES-GCM ciphertext+tag

with ``b"CFLR1\\0" + sha256 hex + b"\\0" + media type`` as associated data, so a file copied or
renamed under another receipt's name, or with its media type byte changed, fails to decrypt. The
plaintext's SHA-256 is checked against the name again after decryption.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import hashlib
import os
import re
import struct
import tempfile
import zlib
from dataclasses import dataclass
from pathlib import Path
from typing import Final, Literal

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.messages import Message, translatable

PDF: Final[str] = "application/pdf"
JPEG: Final[str] = "image/jpeg"
PNG: Final[str] = "image/png"
MEDIA_TYPES: Final[tuple[str, ...]] = (PDF, JPEG, PNG)

DEFAULT_MAX_BYTES: Final[int] = 10 * 1024 * 1024
KEY_FILE: Final[str] = "receipts.key"
KEY_BYTES: Final[int] = 32

MAGIC: Final[bytes] = b"CFLR1"
NONCE_BYTES: Final[int] = 12
TAG_BYTES: Final[int] = 16
_HEADER_BYTES: Final[int] = len(MAGIC) + 1 + NONCE_BYTES
_MEDIA_CODES: Final[dict[str, int]] = {PDF: 1, JPEG: 2, PNG: 3}
_MEDIA_BY_CODE: Final[dict[int, str]] = {code: media for media, code in _MEDIA_CODES.items()}

_NAME: Final[re.Pattern[str]] = re.compile(r"[0-9a-f]{64}")

RejectReason = Literal["too_large", "empty", "unsupported_type", "image_too_large", "corrupt"]


class ReceiptRejected(ValueError):
    """An upload that will not be stored: ``str(error)`` says why, ``reason`` is for machines."""

    def __init__(self, reason: RejectReason, message: Message) -> None:
        super().__init__(message)
        self.reason: RejectReason = reason
        self.message = message


class ReceiptMissing(KeyError):
    """No receipt is stored under this SHA-256."""

    def __init__(self, sha256: str) -> None:
        super().__init__(sha256)
        self.sha256 = sha256

    def __str__(self) -> str:
        return f"no receipt is stored under {self.sha256}"


class ReceiptCorrupt(ValueError):
    """A stored receipt cannot be read back intact (damaged, swapped, or another key)."""


class InvalidReceiptName(ValueError):
    """A receipt name that is not 64 lower-case hexadecimal digits; never used as a path."""


class ReceiptKeyError(ValueError):
    """The receipts key file exists but does not hold a usable key."""


@dataclass(frozen=True)
class ImageLimits:
    """The largest image accepted; the defaults allow any phone photo or A4 scan at 600 dpi."""

    max_width: int = 12_000
    max_height: int = 12_000
    max_pixels: int = 100_000_000

    def __post_init__(self) -> None:
        if min(self.max_width, self.max_height, self.max_pixels) < 1:
            raise ValueError("image limits must be positive")


DEFAULT_IMAGE_LIMITS: Final[ImageLimits] = ImageLimits()


@dataclass(frozen=True)
class StoredReceipt:
    sha256: str
    media_type: str
    size: int


# --- what the bytes are ---------------------------------------------------------------------


def detect_media_type(data: bytes, limits: ImageLimits = DEFAULT_IMAGE_LIMITS) -> str:
    """The media type of an acceptable receipt, judged by content alone.

    Raises :class:`ReceiptRejected` (``empty``, ``unsupported_type``, ``image_too_large`` or
    ``corrupt``) for anything else. Size limits are the store's business, not this function's.
    """
    if not data:
        raise ReceiptRejected("empty", translatable("the file is empty"))
    if data.startswith(_PNG_SIGNATURE):
        _check_dimensions(*_png_dimensions(data, limits), limits)
        return PNG
    if data.startswith(b"\xff\xd8\xff"):
        _check_dimensions(*_jpeg_dimensions(data, limits), limits)
        return JPEG
    if data.startswith(b"%PDF-"):
        _check_pdf(data, 0)
        return PDF
    other = _other_kind(data)
    if other is not None:
        raise ReceiptRejected(
            "unsupported_type", translatable("the file is %(kind)s, not a PDF, JPEG or PNG", kind=other)
        )
    start = data.find(b"%PDF-", 0, 1024)
    if start > 0:
        if b"<" in data[:start]:
            raise ReceiptRejected(
                "unsupported_type",
                translatable(
                    "the file has markup before its %PDF- header (a PDF/HTML polyglot), not a PDF, JPEG or PNG"
                ),
            )
        _check_pdf(data, start)
        return PDF
    raise ReceiptRejected(
        "unsupported_type", translatable("the file is not a PDF, JPEG or PNG (its type was not recognised)")
    )


def _check_dimensions(width: int, height: int, limits: ImageLimits) -> None:
    if width > limits.max_width or height > limits.max_height:
        raise ReceiptRejected(
            "image_too_large",
            translatable(
                "the image is %(width)s x %(height)s pixels; at most %(max_width)s x %(max_height)s",
                width=width,
                height=height,
                max_width=limits.max_width,
                max_height=limits.max_height,
            ),
        )
    if width * height > limits.max_pixels:
        pixels, limit = _human_pixels(width * height), _human_pixels(limits.max_pixels)
        if pixels == limit:
            pixels = translatable("%(count)s pixels", count=f"{width * height:,}")
            limit = translatable("%(count)s pixels", count=f"{limits.max_pixels:,}")
        raise ReceiptRejected(
            "image_too_large",
            translatable(
                "the image is %(width)s x %(height)s pixels (%(pixels)s); at most %(limit)s",
                width=width,
                height=height,
                pixels=pixels,
                limit=limit,
            ),
        )


def _human_pixels(pixels: int) -> Message:
    if pixels >= 1_000_000:
        return translatable("%(count)s megapixels", count=f"{pixels / 1e6:.1f}".removesuffix(".0"))
    return translatable("%(count)s pixels", count=f"{pixels:,}")


def _corrupt(message: Message) -> ReceiptRejected:
    return ReceiptRejected("corrupt", message)


def _check_pdf(data: bytes, start: int) -> None:
    if not re.match(rb"%PDF-[12]\.[0-9]", data[start : start + 8]):
        raise _corrupt(translatable("the PDF header is malformed (expected %PDF-1.x or %PDF-2.x)"))
    if b"%%EOF" not in data[-1024:]:
        raise _corrupt(
            translatable(
                "the PDF is incomplete: there is no %%EOF marker at its end (was the upload cut off?)"
            )
        )


_PNG_SIGNATURE: Final[bytes] = b"\x89PNG\r\n\x1a\n"
# Allowed bit depths for each PNG colour type (PNG specification, table 11.1).
_PNG_BIT_DEPTHS: Final[dict[int, tuple[int, ...]]] = {
    0: (1, 2, 4, 8, 16),
    2: (8, 16),
    3: (1, 2, 4, 8),
    4: (8, 16),
    6: (8, 16),
}
_PNG_MAX_DIMENSION: Final[int] = 2**31 - 1


def _png_dimensions(data: bytes, limits: ImageLimits) -> tuple[int, int]:
    """Width and height from IHDR, checked against ``limits`` before the other chunks are walked."""
    view = memoryview(data)
    pos = len(_PNG_SIGNATURE)
    size: tuple[int, int] | None = None
    seen_idat = False
    while True:
        if pos + 12 > len(data):
            raise _corrupt(
                translatable("the PNG is truncated: it ends in the middle of a chunk, before IEND")
            )
        length, kind = struct.unpack_from(">I4s", data, pos)
        body_start = pos + 8
        end = body_start + length + 4
        if not kind.isalpha() or length > _PNG_MAX_DIMENSION:
            raise _corrupt(translatable("the PNG has a malformed chunk at byte %(byte)s", byte=pos))
        if end > len(data):
            raise _corrupt(
                translatable(
                    "the PNG is truncated: its %(chunk)s chunk is cut off", chunk=kind.decode("ascii")
                )
            )
        (crc,) = struct.unpack_from(">I", data, end - 4)
        if zlib.crc32(view[body_start : end - 4], zlib.crc32(kind)) != crc:
            raise _corrupt(
                translatable("the PNG's %(chunk)s chunk fails its CRC check", chunk=kind.decode("ascii"))
            )
        if size is None:
            if kind != b"IHDR" or length != 13:
                raise _corrupt(translatable("the PNG does not start with a valid IHDR header chunk"))
            size = _png_ihdr(data, body_start)
            _check_dimensions(*size, limits)
        elif kind == b"IHDR":
            raise _corrupt(translatable("the PNG has a second IHDR chunk"))
        elif kind == b"IDAT":
            seen_idat = True
        elif kind == b"IEND":
            if not seen_idat:
                raise _corrupt(translatable("the PNG has no image data (no IDAT chunk)"))
            if end != len(data):
                raise _corrupt(
                    translatable(
                        "the PNG has %(count)s bytes of other data after its IEND chunk",
                        count=len(data) - end,
                    )
                )
            return size
        pos = end


def _png_ihdr(data: bytes, offset: int) -> tuple[int, int]:
    width, height, depth, colour, compression, filtering, interlace = struct.unpack_from(
        ">IIBBBBB", data, offset
    )
    if not (0 < width <= _PNG_MAX_DIMENSION and 0 < height <= _PNG_MAX_DIMENSION):
        raise _corrupt(
            translatable(
                "the PNG's IHDR gives an impossible size of %(width)s x %(height)s pixels",
                width=width,
                height=height,
            )
        )
    if depth not in _PNG_BIT_DEPTHS.get(colour, ()) or compression or filtering or interlace > 1:
        raise _corrupt(translatable("the PNG's IHDR chunk has invalid colour, depth or compression settings"))
    return width, height


# Start-of-frame markers SOF0-SOF15 except DHT (C4), JPG (C8) and DAC (CC).
_JPEG_SOF: Final[frozenset[int]] = frozenset(range(0xC0, 0xD0)) - {0xC4, 0xC8, 0xCC}
# Markers without a length field: TEM and the restart markers.
_JPEG_STANDALONE: Final[frozenset[int]] = frozenset({0x01, *range(0xD0, 0xD8)})
_JPEG_SOS: Final[int] = 0xDA


def _jpeg_dimensions(data: bytes, limits: ImageLimits) -> tuple[int, int]:
    """Width and height from the frame header, reading the segments before the first scan."""
    truncated = translatable("the JPEG is truncated: it ends before its image data")
    size: tuple[int, int] | None = None
    pos = 2
    while True:
        if pos >= len(data):
            raise _corrupt(truncated)
        if data[pos] != 0xFF:
            raise _corrupt(
                translatable("the JPEG is malformed: expected a marker at byte %(byte)s", byte=pos)
            )
        while pos < len(data) and data[pos] == 0xFF:  # fill bytes may precede a marker
            pos += 1
        if pos >= len(data):
            raise _corrupt(truncated)
        marker = data[pos]
        pos += 1
        if marker in _JPEG_STANDALONE:
            continue
        if marker in (0x00, 0xD8, 0xD9):
            raise _corrupt(
                translatable(
                    "the JPEG is malformed: unexpected marker FF %(marker)s before its image data",
                    marker=f"{marker:02X}",
                )
            )
        if pos + 2 > len(data):
            raise _corrupt(truncated)
        (length,) = struct.unpack_from(">H", data, pos)
        if length < 2 or pos + length > len(data):
            raise _corrupt(
                truncated
                if length >= 2
                else translatable("the JPEG has a malformed segment at byte %(byte)s", byte=pos)
            )
        if marker in _JPEG_SOF:
            if size is not None:
                raise _corrupt(translatable("the JPEG has more than one frame header"))
            size = _jpeg_frame(data, pos, length)
            _check_dimensions(*size, limits)
        elif marker == _JPEG_SOS:
            if size is None:
                raise _corrupt(translatable("the JPEG has no frame header (SOF) before its image data"))
            if not data.endswith(b"\xff\xd9"):
                raise _corrupt(
                    translatable(
                        "the JPEG does not end with an end-of-image marker: it is truncated or has data appended"
                    )
                )
            return size
        pos += length


def _jpeg_frame(data: bytes, pos: int, length: int) -> tuple[int, int]:
    if length < 8:
        raise _corrupt(translatable("the JPEG frame header (SOF) is too short"))
    _precision, height, width, components = struct.unpack_from(">BHHB", data, pos + 2)
    if length != 8 + 3 * components or not 1 <= components <= 4:
        raise _corrupt(translatable("the JPEG frame header (SOF) is malformed"))
    if width == 0 or height == 0:
        raise _corrupt(
            translatable(
                "the JPEG frame header gives a size of %(width)s x %(height)s pixels",
                width=width,
                height=height,
            )
        )
    return width, height


def _other_kind(data: bytes) -> Message | None:
    """A name for a few kinds of file people upload by mistake, for the rejection message."""
    head = data[:1024]
    if head.startswith((b"GIF87a", b"GIF89a")):
        return translatable("a GIF image")
    if head.startswith((b"PK\x03\x04", b"PK\x05\x06", b"PK\x07\x08")):
        return translatable("a ZIP archive (or a Word, Excel or OpenDocument file)")
    if head[4:8] == b"ftyp":
        brand = head[8:12]
        if brand in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
            return translatable("a HEIC/HEIF image (the iPhone photo format)")
        if brand in (b"avif", b"avis"):
            return translatable("an AVIF image")
        return translatable("a video or other media file")
    if head.startswith(b"RIFF") and head[8:12] == b"WEBP":
        return translatable("a WebP image")
    if head.startswith((b"II*\x00", b"MM\x00*")):
        return translatable("a TIFF image")
    if head.startswith(b"BM") and len(head) >= 14 and head[6:10] == b"\x00\x00\x00\x00":
        return translatable("a BMP image")
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        return translatable("an old-style Office document (Word or Excel 97-2003)")
    if head.startswith((b"\x1f\x8b", b"7z\xbc\xaf\x27\x1c", b"Rar!\x1a\x07", b"BZh")):
        return translatable("a compressed archive")
    if head.startswith((b"MZ", b"\x7fELF", b"\xcf\xfa\xed\xfe", b"\xca\xfe\xba\xbe")):
        return translatable("a program")
    text = head.removeprefix(b"\xef\xbb\xbf").lstrip(b" \t\r\n\x0c").lower()
    if text.startswith(b"#!"):
        return translatable("a script")
    if text.startswith((b"{\\rtf", b"%!ps")):
        return (
            translatable("an RTF document")
            if text.startswith(b"{\\rtf")
            else translatable("a PostScript document")
        )
    if b"<svg" in text:
        return translatable("an SVG image")
    if text.startswith(b"<?xml"):
        return translatable("an XML document")
    if text.startswith(b"<"):
        return translatable("HTML")
    if _is_text(head):
        return translatable("plain text")
    return None


def _is_text(sample: bytes) -> bool:
    try:
        text = codecs.getincrementaldecoder("utf-8")().decode(sample, final=False)
    except UnicodeDecodeError:
        return False
    return all(c.isprintable() or c in "\t\n\r\x0c" for c in text)


# --- the store --------------------------------------------------------------------------------


def check_receipt_name(sha256: str) -> str:
    """``sha256`` if it is 64 lower-case hexadecimal digits; otherwise :class:`InvalidReceiptName`."""
    if not isinstance(sha256, str) or _NAME.fullmatch(sha256) is None:
        raise InvalidReceiptName(
            f"a receipt name is a SHA-256 in 64 lower-case hexadecimal digits, not {sha256!r:.80}"
        )
    return sha256


def _associated_data(sha256: str, media_type: str) -> bytes:
    return MAGIC + b"\x00" + sha256.encode("ascii") + b"\x00" + media_type.encode("ascii")


def _human_size(size: int) -> str:
    for unit, scale in (("MB", 1024 * 1024), ("KB", 1024)):
        if size >= scale:
            return f"{size / scale:.1f}".removesuffix(".0") + f" {unit}"
    return f"{size} bytes"


class ReceiptStore:
    """Receipts under ``root``, encrypted with the 32-byte AES-256-GCM ``key``."""

    def __init__(
        self,
        root: Path,
        key: bytes,
        max_bytes: int = DEFAULT_MAX_BYTES,
        *,
        image_limits: ImageLimits = DEFAULT_IMAGE_LIMITS,
    ) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"the receipts key must be {KEY_BYTES} bytes, not {len(key)}")
        if max_bytes < 1:
            raise ValueError("max_bytes must be positive")
        self.root = Path(root)
        self.max_bytes = max_bytes
        self.image_limits = image_limits
        self._aead = AESGCM(key)

    def __repr__(self) -> str:
        return f"ReceiptStore({str(self.root)!r})"

    def check(self, data: bytes) -> str:
        """The media type of ``data`` if :meth:`put` would accept it; else :class:`ReceiptRejected`."""
        if not data:
            raise ReceiptRejected("empty", translatable("the file is empty"))
        if len(data) > self.max_bytes:
            size, limit = _human_size(len(data)), _human_size(self.max_bytes)
            if size == limit:
                raise ReceiptRejected(
                    "too_large",
                    translatable(
                        "the file is %(size)s bytes; receipts may be at most %(limit)s bytes (%(rounded)s)",
                        size=f"{len(data):,}",
                        limit=f"{self.max_bytes:,}",
                        rounded=limit,
                    ),
                )
            raise ReceiptRejected(
                "too_large",
                translatable(
                    "the file is %(size)s; receipts may be at most %(limit)s", size=size, limit=limit
                ),
            )
        return detect_media_type(data, self.image_limits)

    def put(self, data: bytes) -> StoredReceipt:
        """Store ``data`` (once) and describe it; raises :class:`ReceiptRejected` before writing."""
        data = bytes(data)
        media_type = self.check(data)
        receipt = StoredReceipt(hashlib.sha256(data).hexdigest(), media_type, len(data))
        path = self._path(receipt.sha256)
        if path.exists():
            try:
                if self.fetch(receipt.sha256) == (receipt, data):
                    return receipt
            except ReceiptCorrupt:
                pass  # a damaged copy: replace it with this good one
        nonce = os.urandom(NONCE_BYTES)
        header = MAGIC + bytes([_MEDIA_CODES[media_type]]) + nonce
        ciphertext = self._aead.encrypt(nonce, data, _associated_data(receipt.sha256, media_type))
        _write_atomically(path, header + ciphertext)
        return receipt

    def fetch(self, sha256: str) -> tuple[StoredReceipt, bytes]:
        """The receipt's description and plaintext; :class:`ReceiptMissing` or :class:`ReceiptCorrupt`."""
        name = check_receipt_name(sha256)
        path = self._path(name)
        try:
            blob = path.read_bytes()
        except FileNotFoundError:
            raise ReceiptMissing(name) from None
        if len(blob) < _HEADER_BYTES + TAG_BYTES or not blob.startswith(MAGIC):
            raise ReceiptCorrupt(f"receipt {name}: the stored file is not a receipt file")
        media_type = _MEDIA_BY_CODE.get(blob[len(MAGIC)])
        if media_type is None:
            raise ReceiptCorrupt(f"receipt {name}: the stored file names an unknown media type")
        nonce = blob[len(MAGIC) + 1 : _HEADER_BYTES]
        try:
            data = self._aead.decrypt(nonce, blob[_HEADER_BYTES:], _associated_data(name, media_type))
        except InvalidTag:
            raise ReceiptCorrupt(
                f"receipt {name}: the stored file does not decrypt (damaged, stored under another "
                "receipt's name, or encrypted with another key)"
            ) from None
        if hashlib.sha256(data).hexdigest() != name:
            raise ReceiptCorrupt(f"receipt {name}: the decrypted content has a different SHA-256")
        return StoredReceipt(name, media_type, len(data)), data

    def get(self, sha256: str) -> bytes:
        """The plaintext of a stored receipt; :class:`ReceiptMissing` or :class:`ReceiptCorrupt`."""
        return self.fetch(sha256)[1]

    def file_digest(self, sha256: str) -> str:
        """SHA-256 (hex) of the stored, encrypted file of a receipt; :class:`ReceiptMissing` if absent.

        Needs no key: it is what ``ledger audit verify`` compares with the digest recorded when the
        file was written.
        """
        name = check_receipt_name(sha256)
        digest = hashlib.sha256()
        try:
            with self._path(name).open("rb") as stored:
                for block in iter(lambda: stored.read(1 << 20), b""):
                    digest.update(block)
        except FileNotFoundError:
            raise ReceiptMissing(name) from None
        return digest.hexdigest()

    def exists(self, sha256: str) -> bool:
        return self._path(check_receipt_name(sha256)).is_file()

    def _path(self, name: str) -> Path:
        return self.root / name[:2] / name[2:]


def _write_atomically(path: Path, content: bytes) -> None:
    """Write ``content`` to ``path`` (mode 0600) by a temporary file and a rename, and sync both."""
    path.parent.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    path.parent.mkdir(mode=0o700, exist_ok=True)
    fd, temporary = tempfile.mkstemp(prefix=".tmp-", dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(content)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    _sync_directory(path.parent)


def _sync_directory(directory: Path) -> None:
    fd = os.open(directory, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


# --- the key ----------------------------------------------------------------------------------


def load_or_create_key(instance_path: Path) -> bytes:
    """The 32-byte receipts key in ``instance_path / "receipts.key"``, created (mode 0600) if absent.

    An existing file is never overwritten: losing the key makes every stored receipt unreadable,
    so a damaged file is an error to fix by restoring it from a backup, not a reason for a new key.
    Safe when several processes start at once: the key file appears whole or not at all.
    """
    path = instance_path / KEY_FILE
    try:
        return _read_key(path)
    except FileNotFoundError:
        pass
    instance_path.mkdir(mode=0o700, parents=True, exist_ok=True)
    key = AESGCM.generate_key(bit_length=8 * KEY_BYTES)
    fd, temporary = tempfile.mkstemp(prefix=f".{KEY_FILE}.", dir=instance_path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(base64.b64encode(key) + b"\n")
            handle.flush()
            os.fsync(handle.fileno())
        try:
            os.link(temporary, path)  # unlike a rename, refuses to replace an existing file
        except FileExistsError:
            return _read_key(path)  # another process created it first
    finally:
        Path(temporary).unlink(missing_ok=True)
    _sync_directory(instance_path)
    return key


def _read_key(path: Path) -> bytes:
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise
    except OSError as error:
        raise ReceiptKeyError(f"cannot read the receipts key {path}: {error}") from None
    try:
        key = base64.b64decode(raw.strip(), validate=True)
    except (binascii.Error, ValueError):
        key = b""
    if len(key) != KEY_BYTES:
        raise ReceiptKeyError(
            f"{path} is not a valid receipts key (expected {KEY_BYTES} bytes in base64 on one line); "
            "restore it from a backup: without it the stored receipts cannot be decrypted"
        )
    return key
