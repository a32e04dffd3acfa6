"""Image files for the image tests, made with Pillow (and one crafted by hand)."""

import io
import struct
import zlib

from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image

SVG = (
    b'<?xml version="1.0"?>\n<svg xmlns="http://www.w3.org/2000/svg" width="10" height="10">'
    b"<script>alert(1)</script></svg>"
)


def image_bytes(width: int = 64, height: int = 32, fmt: str = "PNG", colour="teal") -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (width, height), colour).save(out, fmt)
    return out.getvalue()


def upload(name: str = "chart.png", data: bytes | None = None, **size) -> SimpleUploadedFile:
    data = image_bytes(**size) if data is None else data
    return SimpleUploadedFile(name, data, content_type="image/png")


def png_claiming(width: int, height: int) -> bytes:
    """A small, valid-looking PNG whose header claims `width` x `height` pixels:
    a decompression bomb as far as the header goes (the data is 1x1)."""
    real = image_bytes(1, 1)
    ihdr_at = real.index(b"IHDR")
    fields = struct.pack(">II", width, height) + real[ihdr_at + 12 : ihdr_at + 17]
    chunk = b"IHDR" + fields
    crc = struct.pack(">I", zlib.crc32(chunk) & 0xFFFFFFFF)
    return real[:ihdr_at] + chunk + crc + real[ihdr_at + 4 + 13 + 4 :]
