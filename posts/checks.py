"""Checks before publishing, run on the rendered body (the HTML readers will get).

`problems()` is the one function: the change form's live preview shows its list,
and publishing or scheduling is refused while it is not empty (an Editor may
override). Each problem says what to fix in words an author understands.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass
from html.parser import HTMLParser

SUMMARY_MAX = 160
IMAGE_EXTENSIONS = (
    "jpg",
    "jpeg",
    "png",
    "gif",
    "webp",
    "avif",
    "svg",
    "bmp",
    "tif",
    "tiff",
    "heic",
)
# IMG_1234, DSC01234, Screenshot 2024-01-02 …: what a camera or an OS names a file.
_CAMERA_NAME = re.compile(r"^(img|dsc|dscn|pxl|screenshot|photo|image)[\s_-]?\d", re.I)
_EXTENSION = re.compile(r"\.(" + "|".join(IMAGE_EXTENSIONS) + r")$", re.I)


@dataclass(frozen=True)
class Problem:
    code: str
    message: str

    def as_dict(self) -> dict[str, str]:
        return asdict(self)


def looks_like_file_name(alt: str) -> bool:
    alt = alt.strip()
    return bool(_EXTENSION.search(alt) or "_" in alt or _CAMERA_NAME.match(alt))


class _BodyScan(HTMLParser):
    """Collects images, heading levels and link texts in document order."""

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.images: list[dict[str, str | None]] = []
        self.headings: list[int] = []
        self.links: list[dict] = []  # {"href": …, "text": …, "has_img_alt": bool}
        self._open_links: list[dict] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "img":
            self.images.append({"src": found.get("src") or "", "alt": found.get("alt")})
            for link in self._open_links:
                link["has_img_alt"] = link["has_img_alt"] or bool((found.get("alt") or "").strip())
        elif re.fullmatch(r"h[1-6]", tag):
            self.headings.append(int(tag[1]))
        elif tag == "a":
            link = {"href": found.get("href") or "", "text": "", "has_img_alt": False}
            self.links.append(link)
            self._open_links.append(link)
        if found.get("aria-label") and self._open_links:
            self._open_links[-1]["text"] += found["aria-label"]

    def handle_endtag(self, tag: str) -> None:
        if tag == "a" and self._open_links:
            self._open_links.pop()

    def handle_data(self, data: str) -> None:
        for link in self._open_links:
            link["text"] += data


def problems(
    *, body_html: str, summary: str = "", has_cover: bool = False, cover_alt: str = ""
) -> list[Problem]:
    """Everything that should be fixed before this post goes public."""
    found: list[Problem] = []
    if has_cover and not cover_alt.strip():
        found.append(Problem("cover-alt", "The cover image has no alt text: describe it."))
    elif has_cover and looks_like_file_name(cover_alt):
        found.append(
            Problem(
                "cover-alt-filename",
                f"The cover's alt text “{cover_alt}” looks like a file name: describe the image.",
            )
        )
    summary = summary.strip()
    if not summary:
        found.append(Problem("summary-missing", "Add a summary: cards, feeds and search show it."))
    elif len(summary) > SUMMARY_MAX:
        found.append(
            Problem(
                "summary-long",
                f"The summary has {len(summary)} characters; keep it to {SUMMARY_MAX}.",
            )
        )

    scan = _BodyScan()
    scan.feed(body_html or "")
    scan.close()
    for n, image in enumerate(scan.images, start=1):
        alt = (image["alt"] or "").strip()
        name = image["src"].rsplit("/", 1)[-1] or f"image {n}"
        if not alt:
            found.append(Problem("image-alt", f"Image {n} ({name}) has no alt text."))
        elif looks_like_file_name(alt):
            found.append(
                Problem(
                    "image-alt-filename",
                    f"Image {n}'s alt text “{alt}” looks like a file name: describe the image.",
                )
            )
    # The title is the page's h1, so the body starts at h2.
    previous = 1
    for level in scan.headings:
        if level > previous + 1:
            where = (
                f"The first heading is level {level}"
                if previous == 1
                else f"A level-{level} heading follows a level-{previous} one"
            )
            found.append(
                Problem(
                    "heading-skip",
                    f"{where}: use level {previous + 1} ({'#' * (previous + 1)}) "
                    "so the outline has no gap.",
                )
            )
        previous = level
    for link in scan.links:
        if not link["text"].strip() and not link["has_img_alt"]:
            target = link["href"] or "no address"
            found.append(Problem("link-text", f"A link to {target} has no text."))
    return found
