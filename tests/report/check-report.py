#!/usr/bin/python3
# SPDX-License-Identifier: GPL-3.0-or-later
# Copyright 2026 The Moat developers
"""Checks one helpdesk report file (moatctl report) the way a helpdesk would get it.

  check-report.py --format json|html|pdf FILE [--schema SCHEMA] [--sections a,b]
                  [--hostile] [--pages N] [--min-pages N] [--png-dir DIR]

json: valid against data/report/moat-report.schema.json (python3-jsonschema).
html: parsed with html.parser: a header, one <section> per chosen section in
      order, a footer; no script, no external resource, no event handler;
      with --hostile, the hostile strings of tests/fixtures/report/full.json
      are there as text (escaped in the file).
pdf:  pdfinfo's page count, every page rendered by pdftoppm is not blank,
      pdftotext finds "Page N of M" on each page (and with --hostile, the
      hostile strings as text; with --keep-with, no title ends a page).
Exit status: 0 good, 1 bad (the reason on stdout), 77 a tool is missing.
"""

import argparse
import html.parser
import json
import os
import shutil
import subprocess
import sys
import tempfile

SKIP = 77
HOSTILE = [
    '<script>alert("pwned")</script>',
    '</style><img src=x onerror=alert(1)>',
    'He said "hi" & it\'s <b>bold</b>',
    'שלום עולם',
    'A' * 180,
]
SECTION_ORDER = ["summary", "computer", "health", "phones", "threats", "actions"]
FORBIDDEN_TAGS = {"script", "link", "iframe", "object", "embed", "img", "base", "frame", "form",
                  "audio", "video", "source", "svg", "math"}


class Bad(Exception):
    pass


def check_json(path, args):
    try:
        import jsonschema
    except ImportError:
        print("python3-jsonschema is not installed")
        return SKIP
    with open(path, encoding="utf-8") as f:
        model = json.load(f)
    with open(args.schema, encoding="utf-8") as f:
        schema = json.load(f)
    validator = jsonschema.Draft202012Validator(schema, format_checker=jsonschema.FormatChecker())
    errors = sorted(validator.iter_errors(model), key=lambda e: list(e.path))
    if errors:
        raise Bad("; ".join("%s: %s" % ("/".join(map(str, e.path)), e.message) for e in errors[:5]))
    if args.sections is not None and sorted(model["included"]) != sorted(args.sections):
        raise Bad("included %r, expected %r" % (model["included"], args.sections))
    if args.hostile:
        text = json.dumps(model, ensure_ascii=False)
        for s in HOSTILE:
            if json.dumps(s, ensure_ascii=False)[1:-1] not in text:
                raise Bad("hostile string missing from the JSON: %r" % s[:40])
    return 0


class Parser(html.parser.HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.stack = []
        self.tags = []
        self.sections = []
        self.text = []
        self.style = []
        self.in_style = False
        self.headers = 0
        self.footers = 0
        self.h1 = 0

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        if tag in FORBIDDEN_TAGS:
            raise Bad("<%s> in the report" % tag)
        for name, value in attrs:
            if name.startswith("on"):
                raise Bad("event handler attribute %s" % name)
            if name in ("src", "href", "action", "srcset", "xlink:href", "formaction", "poster"):
                raise Bad("external resource attribute %s=%r" % (name, value))
            if name == "style":
                raise Bad("inline style attribute")
        attrs = dict(attrs)
        if tag == "section":
            self.sections.append(attrs.get("id"))
        if tag == "header" and "report" in (attrs.get("class") or ""):
            self.headers += 1
        if tag == "footer":
            self.footers += 1
        if tag == "h1":
            self.h1 += 1
        if tag == "style":
            self.in_style = True
        if tag not in ("meta", "br", "hr", "wbr"):
            self.stack.append(tag)

    def handle_endtag(self, tag):
        if tag == "style":
            self.in_style = False
        if not self.stack or self.stack[-1] != tag:
            raise Bad("</%s> does not close <%s>" % (tag, self.stack[-1] if self.stack else "-"))
        self.stack.pop()

    def handle_data(self, data):
        if self.in_style:
            self.style.append(data)
        else:
            self.text.append(data)


def check_html(path, args):
    with open(path, "rb") as f:
        raw = f.read()
    try:
        source = raw.decode("utf-8")
    except UnicodeDecodeError as e:
        raise Bad("not UTF-8: %s" % e)
    if not source.startswith("<!DOCTYPE html>"):
        raise Bad("no doctype")
    lower = source.lower()
    for needle in ("<script", "<img", "javascript:", "<link"):
        if needle in lower:
            raise Bad("%r in the file" % needle)
    p = Parser()
    p.feed(source)
    p.close()
    if p.stack:
        raise Bad("unclosed elements: %r" % p.stack)
    css = "".join(p.style)
    if p.tags.count("style") != 1:
        raise Bad("%d <style> elements" % p.tags.count("style"))
    for needle in ("url(", "@import", "expression("):
        if needle in css:
            raise Bad("%r in the CSS" % needle)
    if "@media print" not in css or "@page" not in css:
        raise Bad("no print styles")
    if p.headers != 1 or p.footers != 1 or p.h1 != 1:
        raise Bad("header %d, footer %d, h1 %d" % (p.headers, p.footers, p.h1))
    if args.sections is not None:
        expected = [s for s in SECTION_ORDER if s == "summary" or s in args.sections]
        if p.sections != expected:
            raise Bad("sections %r, expected %r" % (p.sections, expected))
    text = "".join(p.text)
    if args.hostile:
        for s in HOSTILE:
            if s not in text:
                raise Bad("hostile string not shown as text: %r" % s[:40])
        if "&lt;script&gt;alert(&quot;pwned&quot;)&lt;/script&gt;" not in source:
            raise Bad("the script tag is not escaped as expected")
    return 0


def pgm_ink(path):
    """Fraction of pixels that are not near-white in a binary PGM."""
    with open(path, "rb") as f:
        data = f.read()
    fields = []
    pos = 0
    while len(fields) < 4:
        while data[pos:pos + 1].isspace():
            pos += 1
        if data[pos:pos + 1] == b"#":
            pos = data.index(b"\n", pos) + 1
            continue
        end = pos
        while not data[end:end + 1].isspace():
            end += 1
        fields.append(data[pos:end])
        pos = end
    pos += 1
    if fields[0] != b"P5" or int(fields[3]) > 255:
        raise Bad("unexpected pdftoppm output")
    pixels = data[pos:]
    dark = sum(1 for b in pixels if b < 200)
    return dark / max(1, len(pixels))


def check_pdf(path, args):
    for tool in ("pdfinfo", "pdftoppm", "pdftotext"):
        if shutil.which(tool) is None:
            print("%s is not installed (apt install poppler-utils)" % tool)
            return SKIP
    with open(path, "rb") as f:
        if f.read(5) != b"%PDF-":
            raise Bad("not a PDF")
    info = subprocess.run(["pdfinfo", path], capture_output=True, text=True)
    if info.returncode != 0:
        raise Bad("pdfinfo: %s" % info.stderr.strip())
    fields = dict(line.split(":", 1) for line in info.stdout.splitlines() if ":" in line)
    pages = int(fields["Pages"].strip())
    size = fields.get("Page size", "")
    if "595.2" not in size or "841.8" not in size:
        raise Bad("not A4: %s" % size.strip())
    if args.pages is not None and pages != args.pages:
        raise Bad("%d pages, expected %d" % (pages, args.pages))
    if pages < args.min_pages:
        raise Bad("%d pages, expected at least %d" % (pages, args.min_pages))
    tmp = tempfile.mkdtemp(prefix="moat-report-check-")
    try:
        r = subprocess.run(["pdftoppm", "-r", "30", "-gray", path, os.path.join(tmp, "p")],
                           capture_output=True, text=True)
        if r.returncode != 0:
            raise Bad("pdftoppm: %s" % r.stderr.strip())
        images = sorted(n for n in os.listdir(tmp) if n.endswith(".pgm"))
        if len(images) != pages:
            raise Bad("pdftoppm rendered %d pages of %d" % (len(images), pages))
        for n in images:
            ink = pgm_ink(os.path.join(tmp, n))
            if ink < 0.003:
                raise Bad("page %s is blank (%.4f ink)" % (n, ink))
        if args.png_dir:
            os.makedirs(args.png_dir, exist_ok=True)
            subprocess.run(["pdftoppm", "-r", "80", "-png", path,
                            os.path.join(args.png_dir, "page")], check=True)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    text = subprocess.run(["pdftotext", "-layout", path, "-"], capture_output=True,
                          text=True).stdout
    page_texts = text.split("\f")
    for i in range(pages):
        if "Page %d of %d" % (i + 1, pages) not in page_texts[i]:
            raise Bad("page %d does not say “Page %d of %d”" % (i + 1, i + 1, pages))
    # A finding's title never ends a page: on the page where a title starts,
    # the start of its body follows it.
    if args.keep_with:
        prefix, body = args.keep_with.split("=", 1)
        seen = 0
        for i, page in enumerate(page_texts[:pages]):
            pos = page.find(prefix)
            while pos >= 0:
                seen += 1
                nxt = page.find(prefix, pos + len(prefix))
                chunk = page[pos:nxt if nxt >= 0 else len(page)]
                if body not in chunk:
                    raise Bad("on page %d, %r is not followed by %r" % (i + 1, prefix, body))
                pos = nxt
        if seen == 0:
            raise Bad("no %r in the PDF" % prefix)
        print("# %d titles, each with its body on its page" % seen)
    if args.hostile:
        flat = text.replace("\n", "")
        for s in ('<script>alert("pwned")</script>', "onerror=alert(1)>"):
            if s not in flat:
                raise Bad("hostile string not in the PDF's text: %r" % s)
    print("# %d pages" % pages)
    return 0


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("file")
    ap.add_argument("--format", required=True, choices=["json", "html", "pdf"])
    ap.add_argument("--schema", default=os.path.join(
        os.environ.get("MOAT_SOURCE_ROOT", os.path.join(os.path.dirname(__file__), "..", "..")),
        "data", "report", "moat-report.schema.json"))
    ap.add_argument("--sections", type=lambda s: [x for x in s.split(",") if x])
    ap.add_argument("--hostile", action="store_true")
    ap.add_argument("--pages", type=int)
    ap.add_argument("--min-pages", type=int, default=1)
    ap.add_argument("--png-dir")
    ap.add_argument("--keep-with", metavar="TITLE=BODY",
                    help="every title starting with TITLE has BODY after it on its page")
    args = ap.parse_args()
    try:
        return {"json": check_json, "html": check_html, "pdf": check_pdf}[args.format](args.file,
                                                                                       args)
    except Bad as e:
        print("%s (%s): %s" % (args.file, args.format, e))
        return 1


if __name__ == "__main__":
    sys.exit(main())
