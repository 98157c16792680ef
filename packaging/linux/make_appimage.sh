#!/usr/bin/env bash
# AppImage recipe: turn the built app folder into an AppDir, then into an AppImage with appimagetool.
#   make_appimage.sh [APP_DIR] [VERSION]   (defaults: packaging/dist/FoleyStudio, the version in the bundle)
# appimagetool is not part of this repository (download it from the AppImage project and put it on PATH);
# without it the script stops after writing packaging/dist/FoleyStudio.AppDir, which runs as ./AppRun.
set -euo pipefail
HERE="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
ROOT="$(cd "$HERE/../.." && pwd)"
APP="$(cd "${1:-$ROOT/packaging/dist/FoleyStudio}" && pwd)"
VERSION="${2:-$("$APP/FoleyStudio" --version | cut -d' ' -f2)}"
DIST="$(dirname "$APP")"
APPDIR="$DIST/FoleyStudio.AppDir"

rm -rf "$APPDIR"
mkdir -p "$APPDIR/usr/lib" "$APPDIR/usr/share/applications" "$APPDIR/usr/share/icons"
cp -al "$APP" "$APPDIR/usr/lib/FoleyStudio"        # hard links: no second copy on disk
cp -a "$ROOT/resources/icons/hicolor" "$APPDIR/usr/share/icons/"
sed -e 's|^Exec=FoleyStudio|Exec=AppRun|' -e '/^TryExec=/d' "$HERE/foley-studio.desktop" \
  > "$APPDIR/usr/share/applications/foley-studio.desktop"
cp "$APPDIR/usr/share/applications/foley-studio.desktop" "$APPDIR/foley-studio.desktop"
cp "$ROOT/resources/icons/hicolor/256x256/apps/foley-studio.png" "$APPDIR/foley-studio.png"
ln -sf foley-studio.png "$APPDIR/.DirIcon"
cat > "$APPDIR/AppRun" <<'RUN'
#!/bin/sh
# AppImage entry point: run the PyInstaller app inside the mounted image with the user's arguments.
HERE="$(dirname "$(readlink -f "$0")")"
exec "$HERE/usr/lib/FoleyStudio/FoleyStudio" "$@"
RUN
chmod +x "$APPDIR/AppRun"
echo "AppDir: $APPDIR" >&2

if command -v appimagetool >/dev/null 2>&1; then
  ARCH="$(uname -m)" appimagetool "$APPDIR" "$DIST/FoleyStudio-$VERSION-$(uname -m).AppImage"
else
  echo "appimagetool not on PATH: stopping at the AppDir (run it with $APPDIR/AppRun)." >&2
fi
