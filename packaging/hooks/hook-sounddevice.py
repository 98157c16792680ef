# PyInstaller hook for sounddevice: bundle PortAudio.
#
# macOS/Windows wheels ship it in `_sounddevice_data`; on Linux we copy the system's libportaudio.so.2
# (Debian/Ubuntu: libportaudio2) into `portaudio/`, where the runtime hook pyi_rth_portaudio finds it.
import ctypes.util
import platform
import subprocess
import sys
from pathlib import Path

from PyInstaller.utils.hooks import collect_dynamic_libs, logger

hiddenimports = ["_sounddevice", "_cffi_backend"]
binaries = collect_dynamic_libs("_sounddevice_data")
datas = []


def _linux_portaudio() -> Path | None:
    """Full path of the system's libportaudio.so.2 (from the loader cache), or None."""
    if ctypes.util.find_library("portaudio") is None:
        return None
    arch = {"x86_64": "x86-64", "aarch64": "AArch64"}.get(platform.machine(), platform.machine())
    out = subprocess.run(["/sbin/ldconfig", "-p"], capture_output=True, text=True, check=False).stdout
    for line in out.splitlines():      # "	libportaudio.so.2 (libc6,x86-64) => /lib/x86_64-linux-gnu/..."
        if line.strip().startswith("libportaudio.so.2 (") and arch in line:
            return Path(line.rsplit("=>", 1)[1].strip())    # the soname link: bundled under that name
    return None


if not binaries and sys.platform.startswith("linux"):
    library = _linux_portaudio()
    if library is None:
        raise SystemExit("hook-sounddevice: PortAudio not found; install it first (Debian/Ubuntu: "
                         "apt-get install libportaudio2) so the app can play audio on machines without it")
    binaries = [(str(library), "portaudio")]
    logger.info("hook-sounddevice: bundling %s", library)
