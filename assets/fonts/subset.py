#!/usr/bin/python3
"""Rebuilds assets/fonts/QuquSans-Regular.otf: a subset of Noto Sans CJK SC Regular.

Why a subset: the full collection is ~19 MB and all of GBK still ~9 MB. The 6,763 hanzi of GB2312 cover
virtually all everyday simplified Chinese; with Latin, Greek, Cyrillic, punctuation, kana and full-width forms
the whole UI and nearly all chat text stay on the shipped font in ~3 MB. Rarer characters fall back to the
system's fonts.

Source: Debian's fonts-noto-cjk (/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc, face 2 = SC).
Licence: SIL Open Font License 1.1 (assets/fonts/OFL.txt); the subset is renamed as the OFL asks of
modified versions that drop the Reserved Font Name.

Run: apt-get install fonts-noto-cjk python3-fonttools && /usr/bin/python3 assets/fonts/subset.py
"""
import sys
from fontTools import subset
from fontTools.ttLib import TTFont

SRC = "/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc"
OUT = sys.argv[1] if len(sys.argv) > 1 else "assets/fonts/QuquSans-Regular.otf"

codepoints = set(range(0x20, 0x7F)) | set(range(0xA0, 0x250))  # Latin
codepoints |= set(range(0x2000, 0x2070)) | set(range(0x2100, 0x2200))  # punctuation, letterlike
codepoints |= set(range(0x2190, 0x2200)) | set(range(0x2460, 0x2500)) | set(range(0x25A0, 0x2700))  # arrows, shapes
codepoints |= set(range(0x3000, 0x3100)) | set(range(0xFF00, 0xFFF0))  # CJK symbols, kana, full-width
codepoints |= set(range(0x0370, 0x0400)) | set(range(0x0400, 0x0460))  # Greek, Cyrillic
for cp in range(0x4E00, 0xA000):
    try:
        chr(cp).encode("gb2312")
        codepoints.add(cp)
    except UnicodeEncodeError:
        pass

font = TTFont(SRC, fontNumber=2)
options = subset.Options()
options.layout_features = ["*"]
options.name_IDs = ["*"]
options.hinting = False
options.desubroutinize = False
subsetter = subset.Subsetter(options)
subsetter.populate(unicodes=codepoints)
subsetter.subset(font)

# Rename the family (OFL reserved-name rule for modified fonts) so it never shadows a system Noto.
name = font["name"]
for record in name.names:
    if record.nameID in (1, 3, 4, 6, 16, 17):
        text = record.toUnicode()
        text = text.replace("Noto Sans CJK SC", "Ququ Sans").replace("NotoSansCJKsc", "QuquSans")
        text = text.replace("Noto Sans CJK", "Ququ Sans").replace("NotoSansCJK", "QuquSans")
        record.string = text
font.save(OUT)
print(OUT, len(codepoints), "code points")
