#!/usr/bin/env python3
"""Writes message.wav: Ququ's new-message sound, a soft two-note "ding-dong" of 0.35 s.

Made here rather than taken from a sound library, so its licence is the project's. 22,050 Hz, 16-bit
mono: 15 KB, and every desktop's sound player reads plain PCM WAV.
"""
import math
import struct
import wave

RATE = 22050


def note(freq, start, length, volume):
    """A sine with a quick attack and an exponential decay, as a struck bell."""
    out = []
    for i in range(int(length * RATE)):
        t = i / RATE
        attack = min(1.0, t / 0.005)
        decay = math.exp(-t * 9.0)
        # A little of the octave above makes it a bell rather than a beep.
        s = math.sin(2 * math.pi * freq * t) + 0.25 * math.sin(4 * math.pi * freq * t)
        out.append((start + i, volume * attack * decay * s / 1.25))
    return out


samples = [0.0] * int(0.35 * RATE)
for at, value in note(1318.5, 0, 0.35, 0.5) + note(1046.5, int(0.12 * RATE), 0.23, 0.45):
    if at < len(samples):
        samples[at] += value

with wave.open("message.wav", "wb") as w:
    w.setnchannels(1)
    w.setsampwidth(2)
    w.setframerate(RATE)
    w.writeframes(b"".join(struct.pack("<h", int(max(-1.0, min(1.0, s)) * 32000)) for s in samples))
