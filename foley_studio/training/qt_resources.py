"""Read files out of a compiled Qt resource bundle (`.rcc`), without Qt.

Some Debian packages (GCompris) ship their sounds only inside `.rcc` bundles. Qt's own QResource
could open them, but `training` must not depend on Qt (only `ui` does), and the format is small:
a header, a tree of fixed-size nodes, a names table (UTF-16) and a data table (zlib-compressed or raw).
"""
from __future__ import annotations

import struct
import zlib
from pathlib import Path

_DIRECTORY, _ZLIB, _ZSTD = 0x02, 0x01, 0x04


class ResourceFormatError(ValueError):
    """The bundle is not a Qt resource file this reader understands."""


def read_rcc(path: Path) -> dict[str, bytes]:
    """Every file in the bundle: its resource path ("dir/name.ext") -> its bytes."""
    blob = Path(path).read_bytes()
    if blob[:4] != b"qres" or len(blob) < 20:
        raise ResourceFormatError(f"{path} is not a Qt resource bundle (no 'qres' header)")
    version, tree, data, names = struct.unpack(">IIII", blob[4:20])
    node_size = 14 if version == 1 else 22            # version 2+ adds an 8-byte modification time

    def name_at(offset: int) -> str:
        (length,) = struct.unpack(">H", blob[names + offset: names + offset + 2])
        start = names + offset + 6                      # length, 4-byte hash, then UTF-16 BE
        return blob[start: start + 2 * length].decode("utf-16-be")

    files: dict[str, bytes] = {}
    pending = [(0, "")]
    while pending:
        index, prefix = pending.pop()
        node = tree + index * node_size
        name_offset, flags = struct.unpack(">IH", blob[node: node + 6])
        name = name_at(name_offset) if index else ""
        path_here = f"{prefix}{name}"
        if flags & _DIRECTORY:
            count, first = struct.unpack(">II", blob[node + 6: node + 14])
            pending.extend((child, f"{path_here}/" if index else "") for child in range(first, first + count))
            continue
        (offset,) = struct.unpack(">I", blob[node + 10: node + 14])
        (size,) = struct.unpack(">I", blob[data + offset: data + offset + 4])
        content = blob[data + offset + 4: data + offset + 4 + size]
        if flags & _ZSTD:
            raise ResourceFormatError(f"{path}: {path_here} is zstd-compressed, which this reader does not handle")
        files[path_here] = zlib.decompress(content[4:]) if flags & _ZLIB else content
    return files


def unpack_rcc(path: Path, dest: Path, suffixes: tuple[str, ...]) -> list[Path]:
    """Write the bundle's files ending in `suffixes` under `dest` (keeping their resource paths)."""
    written = []
    for name, content in read_rcc(path).items():
        if name.lower().endswith(suffixes):
            target = Path(dest) / name.lstrip("/")
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_bytes(content)
            written.append(target)
    return sorted(written)
