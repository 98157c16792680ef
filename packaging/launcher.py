"""Entry point of the packaged app (PyInstaller runs this file as __main__).

The same `foley-studio` command line as the Python package: no arguments open the editor on the demo
project, `--version` prints the version, subcommands work as documented. With FOLEY_STUDIO_SMOKE set (the
smoke test does this) the start-up self-check in `foley_studio.ui.smoke` is armed first.
"""
import time

T0 = time.perf_counter()      # the smoke report measures start-up from here (after the bootloader)

import multiprocessing  # noqa: E402
import os  # noqa: E402
import sys  # noqa: E402


def main() -> int:
    # Spawned worker processes (training's data loaders, torch.distributed) re-enter this executable.
    multiprocessing.freeze_support()
    # The app never fetches weights at run time: every encoder loads from the bundle or a local folder.
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
    argv = sys.argv[1:]
    if argv[:1] == ["--audio-device-process"]:     # the editor's sound-card process (session.audio_device)
        from foley_studio.session.audio_device import serve
        return serve(argv[1], int(argv[2]), int(argv[3]))
    if not argv and os.environ.get("FOLEY_STUDIO_SMOKE"):
        from foley_studio.ui.smoke import arm_from_environment
        arm_from_environment(T0)
    from foley_studio.cli import main as cli_main
    return cli_main(argv)


if __name__ == "__main__":
    sys.exit(main())
