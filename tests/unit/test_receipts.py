"""Receipt storage: content checks, encryption at rest, integrity, safe names and the key file."""

from __future__ import annotations

import base64
import builtins
import hashlib
import io
import os
import stat
import struct
import zipfile
import zlib
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ledger.receipts import (
    JPEG,
    KEY_FILE,
    MAGIC,
    PDF,
    PNG,
    ImageLimits,
    InvalidReceiptName,
    ReceiptCorrupt,
    ReceiptKeyError,
    ReceiptMissing,
    ReceiptRejected,
    ReceiptStore,
    StoredReceipt,
    detect_media_type,
    load_or_create_key,
)

KEY = bytes(range(32))
OTHER_KEY = bytes(range(32, 64))
MARKER = b"CFL-SECRET-MARKER-7f3a9c"


# --- small real files -------------------------------------------------------------------------


def make_pdf(text: bytes = MARKER) -> bytes:
    """A minimal one-page PDF with a correct cross-reference table."""
    stream = b"BT /F1 12 Tf 72 720 Td (" + text + b") Tj ET"
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Contents 4 0 R "
        b"/Resources << /Font << /F1 5 0 R >> >> >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    return bytes(out)


def png_chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def make_png(width: int = 3, height: int = 2, *, claimed: tuple[int, int] | None = None) -> bytes:
    """A real RGB PNG; ``claimed`` puts other dimensions in IHDR over the same small pixel data."""
    rows = b"".join(b"\x00" + b"\xc0\x30\x20" * width for _ in range(height))
    ihdr_width, ihdr_height = claimed or (width, height)
    return (
        b"\x89PNG\r\n\x1a\n"
        + png_chunk(b"IHDR", struct.pack(">IIBBBBB", ihdr_width, ihdr_height, 8, 2, 0, 0, 0))
        + png_chunk(b"IDAT", zlib.compress(rows))
        + png_chunk(b"IEND", b"")
    )


def jpeg_segment(marker: int, payload: bytes) -> bytes:
    return bytes([0xFF, marker]) + struct.pack(">H", len(payload) + 2) + payload


def make_jpeg(width: int = 3, height: int = 2) -> bytes:
    """A baseline JPEG's structure: JFIF, tables, SOF0, one scan (with a stuffed FF 00) and EOI."""
    return (
        b"\xff\xd8"
        + jpeg_segment(0xE0, b"JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00")
        + jpeg_segment(0xDB, b"\x00" + bytes(range(1, 65)))
        + jpeg_segment(0xC0, struct.pack(">BHHB", 8, height, width, 1) + b"\x01\x11\x00")
        + jpeg_segment(0xC4, b"\x00" + bytes([0, 1] + [0] * 14) + b"\x00")
        + jpeg_segment(0xDA, b"\x01\x01\x00\x00\x3f\x00")
        + b"\x5a\xff\x00\x12\x34"
        + b"\xff\xd9"
    )


def make_zip() -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("receipt.pdf", make_pdf())
    return buffer.getvalue()


VALID = {"pdf": (make_pdf(), PDF), "png": (make_png(), PNG), "jpeg": (make_jpeg(), JPEG)}


def files_under(root: Path) -> list[Path]:
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


@pytest.fixture
def store(tmp_path: Path) -> ReceiptStore:
    return ReceiptStore(tmp_path / "receipts", KEY)


# --- storing and reading back -----------------------------------------------------------------


@pytest.mark.parametrize("kind", sorted(VALID))
def test_valid_receipts_are_stored_and_read_back_identical(store: ReceiptStore, kind: str) -> None:
    data, media_type = VALID[kind]
    digest = hashlib.sha256(data).hexdigest()

    receipt = store.put(data)

    assert receipt == StoredReceipt(sha256=digest, media_type=media_type, size=len(data))
    assert store.exists(digest)
    assert store.get(digest) == data
    assert store.fetch(digest) == (receipt, data)
    path = store.root / digest[:2] / digest[2:]
    assert files_under(store.root) == [path]
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert stat.S_IMODE(path.parent.stat().st_mode) == 0o700
    assert stat.S_IMODE(store.root.stat().st_mode) == 0o700


def test_the_test_png_is_a_real_png() -> None:
    data = make_png(3, 2)
    idat_length = struct.unpack_from(">I", data, 33)[0]
    pixels = zlib.decompress(data[41 : 41 + idat_length])
    assert len(pixels) == 2 * (1 + 3 * 3)


def test_the_file_on_disk_is_encrypted_and_needs_the_key(store: ReceiptStore, tmp_path: Path) -> None:
    data = make_pdf()
    assert MARKER in data
    receipt = store.put(data)

    blob = (store.root / receipt.sha256[:2] / receipt.sha256[2:]).read_bytes()
    assert blob.startswith(MAGIC)
    assert MARKER not in blob
    assert b"%PDF" not in blob
    assert len(blob) == len(MAGIC) + 1 + 12 + len(data) + 16

    with pytest.raises(ReceiptCorrupt, match="another key"):
        ReceiptStore(store.root, OTHER_KEY).get(receipt.sha256)


def test_storing_the_same_bytes_twice_keeps_one_file_unchanged(store: ReceiptStore) -> None:
    data = make_png()
    first = store.put(data)
    [path] = files_under(store.root)
    before = path.read_bytes(), path.stat().st_ino, path.stat().st_mtime_ns

    second = store.put(data)

    assert second == first
    assert files_under(store.root) == [path]  # no temporary files left behind either
    assert (path.read_bytes(), path.stat().st_ino, path.stat().st_mtime_ns) == before


def test_a_damaged_copy_is_replaced_when_the_same_receipt_is_uploaded_again(store: ReceiptStore) -> None:
    data = make_jpeg()
    receipt = store.put(data)
    path = store.root / receipt.sha256[:2] / receipt.sha256[2:]
    path.write_bytes(path.read_bytes()[:-1])
    with pytest.raises(ReceiptCorrupt):
        store.get(receipt.sha256)

    assert store.put(data) == receipt
    assert store.get(receipt.sha256) == data


def test_different_receipts_get_different_files(store: ReceiptStore) -> None:
    receipts = {store.put(data).sha256 for data, _ in VALID.values()}
    assert len(receipts) == 3
    assert len(files_under(store.root)) == 3


# --- refused uploads --------------------------------------------------------------------------

HTML = b"<!DOCTYPE html>\n<html><body><h1>Invoice</h1></body></html>\n"
SCRIPT = b"<script>fetch('/api/v1/auth/login')</script>\n%PDF-1.4\n%%EOF\n"
POLYGLOT = b"<html><!-- " + make_pdf() + b" --></html>"
SVG = b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg"><script>alert(1)</script></svg>'
GIF = b"GIF89a\x01\x00\x01\x00\x80\x00\x00\x00\x00\x00\xff\xff\xff!\xf9\x04\x01\x00\x00\x00\x00,\x00;"
HEIC = b"\x00\x00\x00\x18ftypheic\x00\x00\x00\x00mif1heic" + bytes(64)


def png_with_bad_crc() -> bytes:
    data = bytearray(make_png())
    data[29] ^= 0x01  # last byte of the IHDR CRC
    return bytes(data)


@pytest.mark.parametrize(
    ("data", "reason", "message"),
    [
        pytest.param(HTML, "unsupported_type", "the file is HTML, not a PDF, JPEG or PNG", id="html"),
        pytest.param(SCRIPT, "unsupported_type", "the file is HTML, not a PDF, JPEG or PNG", id="script"),
        pytest.param(POLYGLOT, "unsupported_type", "the file is HTML", id="html-pdf-polyglot"),
        pytest.param(b"\x00" * 10 + b"<b>%PDF-1.4\n%%EOF", "unsupported_type", "markup before", id="markup"),
        pytest.param(SVG, "unsupported_type", "the file is an SVG image, not a PDF", id="svg"),
        pytest.param(GIF, "unsupported_type", "the file is a GIF image, not a PDF", id="gif"),
        pytest.param(make_zip(), "unsupported_type", "the file is a ZIP archive", id="zip"),
        pytest.param(HEIC, "unsupported_type", "the file is a HEIC/HEIF image", id="heic"),
        pytest.param(b"Total: 42.00 CNY\n", "unsupported_type", "the file is plain text", id="text"),
        pytest.param(bytes(range(256)), "unsupported_type", "its type was not recognised", id="binary"),
        pytest.param(b"", "empty", "the file is empty", id="empty"),
        pytest.param(
            make_png(claimed=(50_000, 50_000)),
            "image_too_large",
            "the image is 50000 x 50000 pixels; at most 12000 x 12000",
            id="png-bomb",
        ),
        pytest.param(
            make_png(claimed=(11_000, 11_000)),
            "image_too_large",
            "the image is 11000 x 11000 pixels (121 megapixels); at most 100 megapixels",
            id="png-megapixels",
        ),
        pytest.param(
            make_jpeg(40_000, 40_000),
            "image_too_large",
            "the image is 40000 x 40000 pixels; at most 12000 x 12000",
            id="jpeg-bomb",
        ),
        pytest.param(make_jpeg()[:30], "corrupt", "the JPEG is truncated", id="jpeg-truncated"),
        pytest.param(make_jpeg()[:-2], "corrupt", "end-of-image marker", id="jpeg-without-eoi"),
        pytest.param(make_jpeg() + b"PK\x03\x04", "corrupt", "has data appended", id="jpeg-with-tail"),
        pytest.param(make_png()[:-6], "corrupt", "the PNG is truncated", id="png-truncated"),
        pytest.param(png_with_bad_crc(), "corrupt", "IHDR chunk fails its CRC", id="png-bad-crc"),
        pytest.param(make_png() + b"<html>", "corrupt", "after its IEND chunk", id="png-with-tail"),
        pytest.param(make_pdf()[:-200], "corrupt", "no %%EOF marker", id="pdf-truncated"),
    ],
)
def test_bad_uploads_are_refused_and_nothing_is_written(
    store: ReceiptStore, data: bytes, reason: str, message: str
) -> None:
    with pytest.raises(ReceiptRejected, match=message.replace("(", r"\(").replace(")", r"\)")) as caught:
        store.put(data)
    assert caught.value.reason == reason
    assert files_under(store.root) == []


def test_a_file_over_the_size_limit_is_refused_before_its_type_is_looked_at(store: ReceiptStore) -> None:
    too_big = b"\x00" * int(12.3 * 1024 * 1024)
    with pytest.raises(
        ReceiptRejected, match=r"^the file is 12.3 MB; receipts may be at most 10 MB$"
    ) as caught:
        store.put(too_big)
    assert caught.value.reason == "too_large"
    assert not store.root.exists()


def test_the_size_limit_is_configurable_and_exact(tmp_path: Path) -> None:
    data = make_pdf()
    exact = ReceiptStore(tmp_path, KEY, max_bytes=len(data))
    assert exact.put(data).size == len(data)
    with pytest.raises(ReceiptRejected, match="receipts may be at most") as caught:
        ReceiptStore(tmp_path, KEY, max_bytes=len(data) - 1).put(data)
    assert caught.value.reason == "too_large"


def test_a_size_just_over_the_limit_is_said_in_bytes(store: ReceiptStore) -> None:
    with pytest.raises(ReceiptRejected, match=r"10,485,761 bytes; .* at most 10,485,760 bytes \(10 MB\)"):
        store.put(b"\x00" * (10 * 1024 * 1024 + 1))


def test_detection_is_by_content_and_reads_image_headers_only() -> None:
    assert detect_media_type(make_pdf()) == PDF
    assert detect_media_type(b"junk before the header\n" + make_pdf()) == PDF
    assert detect_media_type(make_png(12_000, 1)) == PNG
    assert detect_media_type(make_jpeg(10_000, 10_000)) == JPEG  # 100 megapixels exactly


def test_image_limits_are_configurable(tmp_path: Path) -> None:
    small = ImageLimits(max_width=2, max_height=2, max_pixels=4)
    with pytest.raises(ReceiptRejected, match="the image is 3 x 2 pixels; at most 2 x 2"):
        detect_media_type(make_png(3, 2), small)
    store = ReceiptStore(tmp_path, KEY, image_limits=ImageLimits(max_pixels=5))
    with pytest.raises(ReceiptRejected, match=r"3 x 2 pixels \(6 pixels\); at most 5 pixels$") as caught:
        store.put(make_jpeg(3, 2))
    assert caught.value.reason == "image_too_large"


# --- damaged or swapped files on disk ---------------------------------------------------------


@pytest.mark.parametrize("offset", [0, 5, 6, 17, 18, 40, -1], ids=lambda o: f"byte{o}")
def test_a_flipped_byte_on_disk_is_detected(store: ReceiptStore, offset: int) -> None:
    receipt = store.put(make_pdf())
    path = store.root / receipt.sha256[:2] / receipt.sha256[2:]
    blob = bytearray(path.read_bytes())
    blob[offset] ^= 0x01
    path.write_bytes(bytes(blob))

    with pytest.raises(ReceiptCorrupt):
        store.get(receipt.sha256)


def test_a_truncated_or_empty_file_on_disk_is_corrupt(store: ReceiptStore) -> None:
    receipt = store.put(make_png())
    path = store.root / receipt.sha256[:2] / receipt.sha256[2:]
    for content in (b"", MAGIC, path.read_bytes()[:-1]):
        path.write_bytes(content)
        with pytest.raises(ReceiptCorrupt):
            store.get(receipt.sha256)


def test_a_file_renamed_to_another_receipts_name_does_not_decrypt(store: ReceiptStore) -> None:
    first = store.put(make_pdf(b"first receipt"))
    second = store.put(make_pdf(b"second receipt"))
    first_path = store.root / first.sha256[:2] / first.sha256[2:]
    second_path = store.root / second.sha256[:2] / second.sha256[2:]
    second_path.parent.mkdir(exist_ok=True)
    os.replace(first_path, second_path)

    with pytest.raises(ReceiptCorrupt, match="another receipt's name"):
        store.get(second.sha256)
    with pytest.raises(ReceiptMissing):
        store.get(first.sha256)


def test_content_that_does_not_match_its_name_is_corrupt_even_if_it_decrypts(store: ReceiptStore) -> None:
    """The SHA-256 is checked after decryption too (say a writer bug, or someone with the key)."""
    receipt = store.put(make_pdf())
    other = make_pdf(b"something else")
    nonce = bytes(12)
    aad = MAGIC + b"\x00" + receipt.sha256.encode() + b"\x00" + PDF.encode()
    path = store.root / receipt.sha256[:2] / receipt.sha256[2:]
    path.write_bytes(MAGIC + b"\x01" + nonce + AESGCM(KEY).encrypt(nonce, other, aad))

    with pytest.raises(ReceiptCorrupt, match="different SHA-256"):
        store.get(receipt.sha256)


def test_a_changed_media_type_byte_does_not_decrypt(store: ReceiptStore) -> None:
    receipt = store.put(make_png())
    path = store.root / receipt.sha256[:2] / receipt.sha256[2:]
    blob = bytearray(path.read_bytes())
    blob[len(MAGIC)] = 1  # claims PDF
    path.write_bytes(bytes(blob))
    with pytest.raises(ReceiptCorrupt):
        store.get(receipt.sha256)


def test_a_missing_receipt_is_a_key_error(store: ReceiptStore) -> None:
    name = hashlib.sha256(b"never stored").hexdigest()
    assert not store.exists(name)
    with pytest.raises(ReceiptMissing, match=f"no receipt is stored under {name}") as caught:
        store.get(name)
    assert isinstance(caught.value, KeyError)


# --- names are checked before any path is made ------------------------------------------------


@contextmanager
def no_filesystem(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Inside the block, any stat or open fails the test (undone before pytest reports)."""

    def refuse(*args: object, **kwargs: object) -> None:
        raise AssertionError(f"the filesystem was touched: {args!r}")

    with monkeypatch.context() as patch:
        for module, name in [(os, "stat"), (os, "lstat"), (os, "open"), (builtins, "open"), (io, "open")]:
            patch.setattr(module, name, refuse)
        yield


BAD_NAMES = [
    "../../etc/passwd",
    "../" + "a" * 61,
    "/" + "a" * 63,
    "A" * 64,
    hashlib.sha256(b"x").hexdigest().upper(),
    "a" * 63,
    "a" * 65,
    "",
    "a" * 64 + "\n",
    "g" * 64,
    "a" * 62 + "/a",
    "\u0661" * 64,  # Arabic-Indic digit one: a "digit", but not an ASCII one
]


@pytest.mark.parametrize("name", BAD_NAMES)
def test_bad_names_are_refused_without_touching_the_filesystem(
    store: ReceiptStore, name: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    operations: list[Callable[[str], object]] = [store.get, store.fetch, store.exists]
    for operation in operations:
        with no_filesystem(monkeypatch), pytest.raises(InvalidReceiptName, match="64 lower-case hexadecimal"):
            operation(name)


def test_the_filesystem_guard_works(store: ReceiptStore, monkeypatch: pytest.MonkeyPatch) -> None:
    with no_filesystem(monkeypatch), pytest.raises(AssertionError, match="filesystem was touched"):
        store.exists("a" * 64)


# --- the key file -----------------------------------------------------------------------------


def test_the_key_is_created_once_with_mode_0600_and_reused(tmp_path: Path) -> None:
    instance = tmp_path / "instance"
    key = load_or_create_key(instance)

    path = instance / KEY_FILE
    assert len(key) == 32
    assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert base64.b64decode(path.read_bytes().strip()) == key
    content, inode = path.read_bytes(), path.stat().st_ino

    assert load_or_create_key(instance) == key
    assert (path.read_bytes(), path.stat().st_ino) == (content, inode)
    assert sorted(p.name for p in instance.iterdir()) == [KEY_FILE]
    store = ReceiptStore(tmp_path / "receipts", key)
    assert ReceiptStore(store.root, load_or_create_key(instance)).get(store.put(make_png()).sha256)


@pytest.mark.parametrize(
    "content",
    [b"", b"not base64 at all!\n", base64.b64encode(bytes(16)) + b"\n", base64.b64encode(bytes(33))],
    ids=["empty", "garbage", "short", "long"],
)
def test_an_invalid_key_file_is_an_error_and_is_left_alone(tmp_path: Path, content: bytes) -> None:
    (tmp_path / KEY_FILE).write_bytes(content)
    with pytest.raises(ReceiptKeyError, match="is not a valid receipts key"):
        load_or_create_key(tmp_path)
    assert (tmp_path / KEY_FILE).read_bytes() == content


def test_the_store_wants_a_32_byte_key(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="must be 32 bytes, not 16"):
        ReceiptStore(tmp_path, bytes(16))
    assert repr(ReceiptStore(tmp_path, KEY)) == f"ReceiptStore({str(tmp_path)!r})"
