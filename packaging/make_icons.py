"""Render resources/icons/foley-studio.svg into the PNG sizes desktops ask for (run after editing the SVG).

    python packaging/make_icons.py            # writes resources/icons/hicolor/<N>x<N>/apps/foley-studio.png

The PNGs are committed (the build does not need Qt's SVG module at run time). The folder layout is the
freedesktop hicolor theme's, so the tarball's installer can copy it into ~/.local/share/icons as is.
"""
from __future__ import annotations

import os
import sys
from pathlib import Path

os.environ.setdefault("QT_QPA_PLATFORM", "offscreen")

from PySide6.QtCore import QRectF, Qt  # noqa: E402
from PySide6.QtGui import QGuiApplication, QImage, QPainter  # noqa: E402
from PySide6.QtSvg import QSvgRenderer  # noqa: E402

ICONS = Path(__file__).resolve().parents[1] / "resources" / "icons"
SOURCE = ICONS / "foley-studio.svg"
SIZES = (16, 24, 32, 48, 64, 128, 256, 512)


def render(svg: Path, size: int) -> QImage:
    """One square, transparent, antialiased rendering of the SVG."""
    renderer = QSvgRenderer(str(svg))
    if not renderer.isValid():
        raise SystemExit(f"{svg}: not a valid SVG")
    image = QImage(size, size, QImage.Format_ARGB32_Premultiplied)
    image.fill(Qt.transparent)
    painter = QPainter(image)
    painter.setRenderHint(QPainter.Antialiasing)
    painter.setRenderHint(QPainter.SmoothPixmapTransform)
    renderer.render(painter, QRectF(0, 0, size, size))
    painter.end()
    return image


def main() -> int:
    app = QGuiApplication.instance() or QGuiApplication(sys.argv[:1])  # noqa: F841 (QImage painting needs one)
    for size in SIZES:
        out = ICONS / "hicolor" / f"{size}x{size}" / "apps" / "foley-studio.png"
        out.parent.mkdir(parents=True, exist_ok=True)
        if not render(SOURCE, size).save(str(out), "PNG"):
            raise SystemExit(f"could not write {out}")
        print(f"wrote {out.relative_to(ICONS.parents[1])}")
    scalable = ICONS / "hicolor" / "scalable" / "apps" / "foley-studio.svg"
    scalable.parent.mkdir(parents=True, exist_ok=True)
    scalable.write_bytes(SOURCE.read_bytes())
    return 0


if __name__ == "__main__":
    sys.exit(main())
