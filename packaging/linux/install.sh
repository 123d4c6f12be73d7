#!/usr/bin/env bash
# Put LLB Studio into the desktop's launcher for the current user (run from inside the unpacked bundle).
set -euo pipefail
here="$(cd "$(dirname "$0")" && pwd)"
data="${XDG_DATA_HOME:-$HOME/.local/share}"
mkdir -p "$data/applications" "$data/icons/hicolor/256x256/apps" "$data/metainfo"
sed "s#^Exec=llb-studio#Exec=\"$here/llb-studio\"#" "$here/share/applications/io.github.llbstudio.LLBStudio.desktop" \
    > "$data/applications/io.github.llbstudio.LLBStudio.desktop"
cp "$here/share/icons/hicolor/256x256/apps/llb-studio.png" "$data/icons/hicolor/256x256/apps/"
cp "$here/share/metainfo/io.github.llbstudio.LLBStudio.metainfo.xml" "$data/metainfo/"
command -v update-desktop-database >/dev/null && update-desktop-database "$data/applications" || true
echo "LLB Studio added to the launcher ($data/applications/io.github.llbstudio.LLBStudio.desktop)"
