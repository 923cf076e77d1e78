#!/usr/bin/env bash
# Renders every icon file in this folder from the master, ququ.svg:
#   16x16.png … 512x512.png   the hicolor set the .deb/AppImage install (cargo-packager reads the size)
#   ququ.png                  256 px, compiled into the app: window icon and About box
#   ququ.ico                  Windows: the .exe, NSIS and MSI installers (16–256 px in one file)
#   ququ.icns                 macOS: the .app bundle and .dmg (16–1024 px in one file)
#   settings.png              the header's settings button, from settings.svg (48 px, drawn at 18 px so it
#                             stays sharp at 2× scale): U+2699 ⚙ is not in the shipped font
# The outputs are committed; run this only after changing ququ.svg.
# Needs: rsvg-convert, ImageMagick's convert, png2icns
#   (Debian: apt-get install librsvg2-bin imagemagick icnsutils).
set -euo pipefail
cd "$(dirname "$0")"

for tool in rsvg-convert convert png2icns; do
  command -v "$tool" >/dev/null || { echo "make-icons: $tool is missing (apt-get install librsvg2-bin imagemagick icnsutils)" >&2; exit 1; }
done

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT

render() { # render SIZE OUT: each size from the vector master, so small ones are hinted by the renderer, not shrunk
  rsvg-convert --width "$1" --height "$1" ququ.svg --output "$2"
}

for size in 16 24 32 48 64 128 256 512; do
  render "$size" "${size}x${size}.png"
done
cp 256x256.png ququ.png
rsvg-convert --width 48 --height 48 settings.svg --output settings.png

# .ico: one PNG-compressed 256 px entry and BMP entries for the small sizes, as Windows expects.
convert 16x16.png 24x24.png 32x32.png 48x48.png 64x64.png 128x128.png 256x256.png ququ.ico

# .icns: 16, 32, 48, 128 (classic entries) and 256, 512, 1024 (PNG entries).
render 1024 "$tmp/1024.png"
png2icns ququ.icns 16x16.png 32x32.png 48x48.png 128x128.png 256x256.png 512x512.png "$tmp/1024.png" >/dev/null

echo "make-icons: wrote $(ls ./*.png ququ.ico ququ.icns | wc -l) files in $(pwd)"
