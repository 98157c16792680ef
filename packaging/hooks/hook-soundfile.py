# PyInstaller hook for soundfile: bundle the libsndfile its wheel ships in `_soundfile_data`.
#
# soundfile loads it from the folder of `_soundfile_data.__file__`, so the library must land in
# `_soundfile_data/` inside the bundle (the package is otherwise invisible to the import analysis).
from PyInstaller.utils.hooks import collect_data_files, collect_dynamic_libs

hiddenimports = ["_soundfile", "_soundfile_data", "_cffi_backend"]
binaries = collect_dynamic_libs("_soundfile_data")
datas = collect_data_files("_soundfile_data", includes=["COPYING"])
if not binaries:
    raise SystemExit("hook-soundfile: the soundfile wheel has no bundled libsndfile (_soundfile_data); "
                     "reinstall soundfile from a binary wheel")
