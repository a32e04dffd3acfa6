"""Pictures for demo content, drawn with Pillow: abstract post covers and initials
avatars, each with alt text that says what is in it."""

from __future__ import annotations

import io
import random
from pathlib import Path

from PIL import Image, ImageDraw, ImageFont

COVER_SIZE = (1440, 756)  # 1.9:1, the Open Graph shape; the largest rendition width
AVATAR_SIZE = 384

# (name for the alt text, RGB): light enough on dark text, dark enough for white text.
PALETTE = [
    ("blue", (37, 99, 235)),
    ("orange", (234, 88, 12)),
    ("teal", (13, 148, 136)),
    ("purple", (124, 58, 237)),
    ("crimson", (190, 18, 60)),
    ("green", (22, 163, 74)),
    ("navy", (30, 41, 99)),
    ("amber", (217, 119, 6)),
    ("pink", (219, 39, 119)),
    ("slate", (51, 65, 85)),
]


# Debian's DejaVu when installed (Chromium pulls it in); Pillow's own font otherwise.
BOLD_FONT = Path("/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf")


def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    if BOLD_FONT.exists():
        return ImageFont.truetype(str(BOLD_FONT), size)
    return ImageFont.load_default(size=size)


def _gradient(size: tuple[int, int], start: tuple, end: tuple, angle: int) -> Image.Image:
    """A smooth blend from `start` to `end` across the image, turned by `angle` degrees."""
    ramp = Image.linear_gradient("L").rotate(angle, resample=Image.Resampling.BILINEAR)
    # The centre of a turned square has no empty corners.
    mask = ramp.crop((53, 53, 203, 203)).resize(size, Image.Resampling.BILINEAR)
    return Image.composite(Image.new("RGB", size, end), Image.new("RGB", size, start), mask)


def _mix(colour: tuple, other: tuple, amount: float) -> tuple:
    return tuple(round(a + (b - a) * amount) for a, b in zip(colour, other, strict=True))


def _cover_rng(number: int) -> random.Random:
    return random.Random(number * 7907 + 17)


def cover_alt(number: int, word: str, title: str) -> str:
    """What `cover(number, word)` shows, as alt text for the post called `title`."""
    (name_a, _), (name_b, _) = _cover_rng(number).sample(PALETTE, 2)
    return f"Abstract cover for “{title}”: {name_a} and {name_b} shapes with the word {word}"


def cover(number: int, word: str) -> bytes:
    """A distinct abstract cover (JPEG) for `number`: gradient, shapes and `word`."""
    rng = _cover_rng(number)
    (_, a), (_, b) = rng.sample(PALETTE, 2)
    width, height = COVER_SIZE
    angle = rng.choice([45, 60, 90, 120, 135])
    image = _gradient(COVER_SIZE, _mix(a, (0, 0, 0), 0.35), _mix(b, (0, 0, 0), 0.2), angle)
    overlay = Image.new("RGBA", COVER_SIZE, (0, 0, 0, 0))
    draw = ImageDraw.Draw(overlay)
    for _ in range(rng.randint(5, 9)):
        colour = rng.choice([a, b, (255, 255, 255)])
        fill = (*colour, rng.randint(50, 140))
        x, y = rng.randrange(-200, width), rng.randrange(-200, height)
        size = rng.randint(120, 520)
        kind = rng.choice(["circle", "square", "triangle", "ring"])
        if kind == "circle":
            draw.ellipse((x, y, x + size, y + size), fill=fill)
        elif kind == "ring":
            draw.ellipse((x, y, x + size, y + size), outline=fill, width=rng.randint(14, 40))
        elif kind == "square":
            draw.rounded_rectangle((x, y, x + size, y + size), radius=size // 8, fill=fill)
        else:
            draw.polygon([(x, y + size), (x + size // 2, y), (x + size, y + size)], fill=fill)
    image = Image.alpha_composite(image.convert("RGBA"), overlay)
    draw = ImageDraw.Draw(image)
    font = _font(150 if len(word) <= 10 else 1500 // len(word))
    box = draw.textbbox((0, 0), word, font=font)
    text_w, text_h = box[2] - box[0], box[3] - box[1]
    x, y = (width - text_w) // 2 - box[0], (height - text_h) // 2 - box[1]
    draw.text((x + 3, y + 4), word, font=font, fill=(0, 0, 0, 70))
    draw.text((x, y), word, font=font, fill=(255, 255, 255, 255))
    out = io.BytesIO()
    image.convert("RGB").save(out, "JPEG", quality=82)
    return out.getvalue()


def _avatar_colour(handle: str) -> tuple[str, tuple]:
    return PALETTE[sum(handle.encode()) % len(PALETTE)]


def avatar_alt(handle: str, initials: str, display_name: str) -> str:
    name, _ = _avatar_colour(handle)
    return f"Portrait placeholder for {display_name}: initials {initials} on {name}"


def avatar(handle: str, initials: str) -> bytes:
    """An initials avatar (PNG) on a coloured circle; the colour follows the handle."""
    _, colour = _avatar_colour(handle)
    size = AVATAR_SIZE
    image = Image.new("RGBA", (size, size), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    draw.ellipse((0, 0, size - 1, size - 1), fill=(*colour, 255))
    font = _font(size * 2 // 5)
    box = draw.textbbox((0, 0), initials, font=font)
    x = (size - (box[2] - box[0])) // 2 - box[0]
    y = (size - (box[3] - box[1])) // 2 - box[1]
    draw.text((x, y), initials, font=font, fill=(255, 255, 255, 255))
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()
