#!/usr/bin/env bash
# Pack the built app folder with its .desktop entry, icons, MIME type and installer:
#   make_tarball.sh APP_DIR VERSION   -> prints the tarball's path (packaging/dist/FoleyStudio-VER-linux-ARCH.tar.gz)
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
APP="$(cd "$1" && pwd)"
VERSION="$2"
NAME="FoleyStudio-$VERSION-linux-$(uname -m)"
DIST="$(dirname "$APP")"
STAGE="$DIST/$NAME"

rm -rf "$STAGE"
mkdir -p "$STAGE/icons"
cp -al "$APP" "$STAGE/FoleyStudio"          # hard links: no second copy of a 1 GB folder on disk
cp -a "$ROOT/resources/icons/hicolor" "$STAGE/icons/"
cp "$HERE/foley-studio.desktop" "$HERE/foley-studio-mime.xml" "$HERE/install.sh" "$STAGE/"
cat > "$STAGE/README.txt" <<TXT
Foley Studio $VERSION for Linux ($(uname -m))

Run without installing:   ./FoleyStudio/FoleyStudio
Install for this user:    ./install.sh          (menu entry, icons, 'foley-studio' on PATH)
Uninstall:                ./install.sh --uninstall

Needs a desktop with X11 or Wayland (XWayland), glibc 2.28 or newer, and for sound PortAudio's
usual back ends (ALSA; PulseAudio/PipeWire through their ALSA plug-ins). A copy of PortAudio is
inside; the system's is used when present.
TXT
# gzip -1: the torch libraries dominate and barely compress further at higher levels, for much more CPU.
tar -C "$DIST" -cf - "$NAME" | gzip -1 > "$DIST/$NAME.tar.gz"
rm -rf "$STAGE"
echo "$DIST/$NAME.tar.gz"
