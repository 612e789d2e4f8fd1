"""A burned-in watermark for training copies: a translucent band of text lines along the bottom, and a
faint diagonal repeat of the first line across the whole picture, so cropping off a band or a corner
still leaves the marking on what remains.

The overlay is drawn once per picture size; each frame is then one weighted blend with it (OpenCV's
blendLinear: 3 ms for a 720p frame). OpenCV's Hershey fonts draw ASCII only, so text is folded to ASCII
first (an em dash becomes "-", "José" becomes "Jose") rather than drawn as question marks.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

import cv2
import numpy as np

FONT = cv2.FONT_HERSHEY_SIMPLEX
_ASCII_STANDINS = {
    "\u2014": "-",
    "\u2013": "-",
    "\u2212": "-",
    "\u2018": "'",
    "\u2019": "'",
    "\u201c": '"',
    "\u201d": '"',
    "\u2026": "...",
    "\u00b7": "-",
    "\u2022": "-",
    "\u00a0": " ",
    "\u00df": "ss",
    "\u00e6": "ae",
    "\u00f8": "o",
    "\u0142": "l",
}


@dataclass(frozen=True)
class WatermarkStyle:
    band_opacity: float = 0.6  # the dark band behind the lines
    diagonal_opacity: float = 0.14  # faint enough to watch through, there on every part of the frame
    line_height: float = 1 / 28  # of the picture's height
    diagonal_angle: float = 30.0  # degrees


def to_ascii(text: str) -> str:
    """Text the Hershey fonts can draw: known stand-ins, accents dropped, anything else as '?'."""
    text = "".join(_ASCII_STANDINS.get(ch, ch) for ch in text)
    folded = unicodedata.normalize("NFKD", text)
    kept = "".join(ch for ch in folded if not unicodedata.combining(ch))
    return "".join(ch if 32 <= ord(ch) < 127 else "?" for ch in kept)


class Watermark:
    """The overlay for one picture size, drawn once; `apply` (BGR) and `apply_i420` burn it into a
    frame in place."""

    def __init__(self, lines: tuple[str, ...], width: int, height: int, style: WatermarkStyle = WatermarkStyle()):
        self.lines = tuple(to_ascii(line) for line in lines if line.strip())
        if not self.lines:
            raise ValueError("a watermark needs at least one line of text")
        self.width, self.height, self.style = width, height, style
        color = np.zeros((height, width, 3), np.uint8)
        alpha = np.zeros((height, width), np.float32)
        self._draw_diagonal(color, alpha)
        self.band_top = self._draw_band(color, alpha)
        self._color = color
        self._alpha = alpha
        self._keep = 1 - alpha
        self._i420: tuple[np.ndarray, np.ndarray, np.ndarray] | None = None

    def apply(self, frame: np.ndarray) -> None:
        """Burn the watermark into a BGR frame in place."""
        cv2.blendLinear(frame, self._color, self._keep, self._alpha, dst=frame)

    def apply_i420(self, frame: np.ndarray) -> None:
        """Burn it into an I420 frame held as one (h * 3/2, w) array, in place."""
        if self._i420 is None:
            self._i420 = self._planar_overlay()
        color, keep, alpha = self._i420
        cv2.blendLinear(frame, color, keep, alpha, dst=frame)

    def _planar_overlay(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The overlay in the I420 layout: its colours converted, its alpha shrunk for the two
        chroma planes and laid out after the luma's, as the planes are."""
        color = cv2.cvtColor(self._color, cv2.COLOR_BGR2YUV_I420)
        chroma = cv2.resize(self._alpha, (self.width // 2, self.height // 2), interpolation=cv2.INTER_AREA)
        alpha = np.concatenate([self._alpha.ravel(), chroma.ravel(), chroma.ravel()]).reshape(color.shape)
        return color, 1 - alpha, alpha

    def _scale_for(self, lines: tuple[str, ...], pixel_height: float, max_width: float) -> float:
        (_, text_height), below_baseline = cv2.getTextSize("Ag", FONT, 1.0, 1)
        scale = pixel_height / (text_height + below_baseline)
        widest = max(cv2.getTextSize(line, FONT, 1.0, 1)[0][0] for line in lines)
        return min(scale, max_width / widest)

    def _draw_band(self, color: np.ndarray, alpha: np.ndarray) -> int:
        line_px = max(10.0, self.height * self.style.line_height)
        margin = round(line_px * 0.4)
        scale = self._scale_for(self.lines, line_px, self.width - 2 * margin)
        thickness = max(1, round(scale * 1.6))
        step = round(line_px * 1.25)
        top = max(0, self.height - step * len(self.lines) - margin)
        alpha[top:] = self.style.band_opacity
        color[top:] = 0
        text = np.zeros((self.height - top, self.width), np.uint8)
        for row, line in enumerate(self.lines):
            baseline = round(margin / 2 + step * (row + 0.8))
            cv2.putText(text, line, (margin, baseline), FONT, scale, 255, thickness, cv2.LINE_AA)
        ink = text.astype(np.float32) / 255
        alpha[top:] = np.maximum(alpha[top:], ink)
        color[top:][ink > 0] = 255
        return top

    def _draw_diagonal(self, color: np.ndarray, alpha: np.ndarray) -> None:
        """The first line tiled across a canvas big enough to cover the frame once rotated: white
        letters edged in black, so the marking shows on bright scenes as well as dark ones."""
        side = int(np.hypot(self.width, self.height)) + 2
        line_px = max(12.0, self.height * self.style.line_height * 1.6)
        scale = self._scale_for(self.lines[:1], line_px, side)
        thickness = max(1, round(scale * 2))
        edge, letters = np.zeros((side, side), np.uint8), np.zeros((side, side), np.uint8)
        (text_width, _), _ = cv2.getTextSize(self.lines[0] + "   ", FONT, scale, thickness)
        row_step = round(line_px * 4)
        for row, y in enumerate(range(row_step, side, row_step)):
            offset = -(row % 2) * text_width // 2  # rows staggered like bricks
            for x in range(offset, side, text_width):
                cv2.putText(edge, self.lines[0], (x, y), FONT, scale, 255, thickness + 2, cv2.LINE_AA)
                cv2.putText(letters, self.lines[0], (x, y), FONT, scale, 255, thickness, cv2.LINE_AA)
        turn = cv2.getRotationMatrix2D((side / 2, side / 2), self.style.diagonal_angle, 1.0)
        turn[:, 2] -= np.array([(side - self.width) / 2, (side - self.height) / 2])
        edge_ink = cv2.warpAffine(edge, turn, (self.width, self.height)).astype(np.float32) / 255
        letter_ink = cv2.warpAffine(letters, turn, (self.width, self.height))
        alpha[:] = edge_ink * self.style.diagonal_opacity
        color[letter_ink > 127] = 255
