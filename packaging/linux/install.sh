#!/usr/bin/env sh
# Install Foley Studio for the current user (no root): the app folder, a launcher on PATH,
# the menu entry, the icons and the project file type. `./install.sh --uninstall` removes them.
set -eu
HERE="$(cd "$(dirname "$0")" && pwd)"
PREFIX="${PREFIX:-$HOME/.local}"
APPDIR="$PREFIX/opt/FoleyStudio"
DATA="${XDG_DATA_HOME:-$HOME/.local/share}"

uninstall() {
  rm -rf "$APPDIR" "$PREFIX/bin/foley-studio" "$DATA/applications/foley-studio.desktop" \
         "$DATA/mime/packages/foley-studio-mime.xml"
  find "$DATA/icons/hicolor" -name 'foley-studio.*' -delete 2>/dev/null || true
  echo "Foley Studio removed."
}
[ "${1:-}" = "--uninstall" ] && { uninstall; exit 0; }

mkdir -p "$PREFIX/opt" "$PREFIX/bin" "$DATA/applications" "$DATA/icons" "$DATA/mime/packages"
rm -rf "$APPDIR"
cp -a "$HERE/FoleyStudio" "$APPDIR"
ln -sf "$APPDIR/FoleyStudio" "$PREFIX/bin/foley-studio"
cp -a "$HERE/icons/hicolor" "$DATA/icons/"
cp "$HERE/foley-studio-mime.xml" "$DATA/mime/packages/"
# The menu entry names the installed executable by its full path (PATH may lack ~/.local/bin).
sed -e "s|^Exec=FoleyStudio|Exec=$APPDIR/FoleyStudio|" -e "s|^TryExec=FoleyStudio|TryExec=$APPDIR/FoleyStudio|" \
  "$HERE/foley-studio.desktop" > "$DATA/applications/foley-studio.desktop"
command -v update-desktop-database >/dev/null && update-desktop-database "$DATA/applications" || true
command -v update-mime-database >/dev/null && update-mime-database "$DATA/mime" || true
command -v gtk-update-icon-cache >/dev/null && gtk-update-icon-cache -q "$DATA/icons/hicolor" || true
echo "Foley Studio installed in $APPDIR; start it from the menu or with: foley-studio"
