"""The join URL as a QR code in SVG, drawn by the server (segno, pure Python; no network, no JavaScript)."""

from __future__ import annotations

import io

import segno


def qr_svg(url: str, scale: int = 8) -> str:
    """A QR code (error correction M, quiet zone of 4 modules) of ``url`` as a standalone SVG document."""
    buf = io.BytesIO()
    segno.make(url, error="m").save(buf, kind="svg", scale=scale, border=4, title="Join this room",
                                    dark="#000", light="#fff")
    return buf.getvalue().decode()


def qr_matrix(url: str) -> list[list[int]]:
    """The same code's modules (1 dark), without the quiet zone, for tests and other renderers."""
    return [list(row) for row in segno.make(url, error="m").matrix]
