# PyInstaller runtime hook: let sounddevice find the PortAudio copied into the bundle.
#
# On Linux sounddevice looks PortAudio up with ctypes.util.find_library("portaudio") and has no bundled
# fallback (its wheels carry PortAudio only for macOS and Windows). The system's PortAudio is preferred,
# since it matches the system's ALSA/PulseAudio/PipeWire set-up; where there is none, the copy in the
# bundle is used. FOLEY_STUDIO_BUNDLED_PORTAUDIO=1 forces the bundled copy (the smoke test checks it).
import ctypes.util
import os
import sys

_BUNDLED = os.path.join(getattr(sys, "_MEIPASS", ""), "portaudio", "libportaudio.so.2")

if sys.platform.startswith("linux") and os.path.isfile(_BUNDLED):
    _system_find_library = ctypes.util.find_library
    _force_bundled = os.environ.get("FOLEY_STUDIO_BUNDLED_PORTAUDIO") == "1"

    def _find_library(name):
        if name == "portaudio":
            found = None if _force_bundled else _system_find_library(name)
            return found or _BUNDLED
        return _system_find_library(name)

    ctypes.util.find_library = _find_library
