# PyInstaller hook for PyAV: its Cython modules import each other invisibly, and FFmpeg comes as
# shared libraries in `av.libs/` (manylinux) beside the package.
from pathlib import Path

from PyInstaller.utils.hooks import collect_submodules, copy_metadata, get_package_paths

# fractions/dataclasses/uuid are imported from Cython code, which the analysis cannot read.
hiddenimports = collect_submodules("av") + ["fractions", "dataclasses", "uuid"]
datas = copy_metadata("av")

_site, _pkg = get_package_paths("av")
_libs = Path(_site) / "av.libs"          # auditwheel's folder; the extension modules' RPATH points here
binaries = [(str(p), "av.libs") for p in sorted(_libs.glob("*.so*"))] if _libs.is_dir() else []
