#!/usr/bin/env bash
# Build the self-contained Linux folder bundle of LLB Studio (CPU torch) and check it.
#
#   bash packaging/build_linux.sh            -> dist/llb-studio/ and dist/llb-studio-linux-x86_64.tar.gz
#
# Needs the project's environment (README set-up) plus PyInstaller; installs PyInstaller if missing.
# Ends by running the bundle's own `--self-check` (weights, demo clip, a few propagated frames, no window).
set -euo pipefail
cd "$(dirname "$0")/.."
python -m PyInstaller --version >/dev/null 2>&1 || pip install "pyinstaller>=6.10,<7"
start=$(date +%s)
python -m PyInstaller --noconfirm --clean --distpath dist --workpath build/pyinstaller packaging/llb-studio.spec
bundle=dist/llb-studio
# Desktop integration files travel inside the bundle; install.sh copies them into ~/.local/share.
mkdir -p "$bundle/share/applications" "$bundle/share/metainfo" "$bundle/share/icons/hicolor/256x256/apps"
cp packaging/linux/io.github.llbstudio.LLBStudio.desktop "$bundle/share/applications/"
cp packaging/linux/io.github.llbstudio.LLBStudio.metainfo.xml "$bundle/share/metainfo/"
cp resources/icons/llb-studio.png "$bundle/share/icons/hicolor/256x256/apps/llb-studio.png"
cp packaging/linux/install.sh "$bundle/install.sh"
build_s=$(( $(date +%s) - start ))
echo "bundle built in ${build_s} s: $(du -sh "$bundle" | cut -f1) in $bundle"
QT_QPA_PLATFORM=offscreen "$bundle/llb-studio" --self-check --frames 4
tar -C dist -czf dist/llb-studio-linux-x86_64.tar.gz llb-studio
echo "archive: $(du -sh dist/llb-studio-linux-x86_64.tar.gz | cut -f1) dist/llb-studio-linux-x86_64.tar.gz"
