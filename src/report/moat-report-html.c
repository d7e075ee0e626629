/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-report"

#include "config.h"

#include "moat-report-private.h"

#include <glib/gi18n.h>

/*
 * One self-contained HTML file: inline CSS, no script, no external resource,
 * so it opens the same anywhere and prints on A4. Every string from the model
 * goes through append_text(), inside <bdi> where it sits among other text so
 * that right-to-left text from a phone cannot reorder what is around it.
 */

static const char style[] =
  ":root{color-scheme:light;--ink:#241f31;--muted:#5e5c64;--rule:#deddda;--code:#f6f5f4}"
  "*{box-sizing:border-box}"
  "body{font-family:Cantarell,'DejaVu Sans',sans-serif;color:var(--ink);margin:0 auto;"
  "max-width:52rem;padding:2rem 1.5rem;line-height:1.45;font-size:11pt;"
  "overflow-wrap:anywhere;word-break:break-word}"
  "h1{font-size:1.9em;margin:0 0 .5rem}"
  "h2{font-size:1.35em;margin:2rem 0 .6rem;padding-bottom:.2rem;border-bottom:2px solid var(--ink)}"
  "h3{font-size:1.12em;margin:1.4rem 0 .4rem}"
  "h4{font-size:1em;margin:0 0 .35rem}"
  "header.report{border-bottom:4px solid #1a5fb4;padding-bottom:.8rem}"
  "dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.15rem 1rem;margin:.4rem 0}"
  "dl.facts dt{font-weight:bold;color:var(--muted)}dl.facts dd{margin:0}"
  "article.item{border:1px solid var(--rule);border-left:6px solid var(--tone);"
  "border-radius:4px;padding:.6rem .8rem;margin:.6rem 0}"
  ".badge{display:inline-block;border-radius:3px;padding:0 .4em;margin-right:.4em;"
  "color:#fff;background:var(--tone);font-size:.85em;font-weight:bold;text-transform:uppercase}"
  "h3 .badge{font-size:.75em;vertical-align:middle}"
  ".tone-critical{--tone:#a51d2d}.tone-high{--tone:#c64600}.tone-medium{--tone:#946300}"
  ".tone-low{--tone:#1a5fb4}.tone-info{--tone:#5e5c64}.tone-unknown{--tone:#5e5c64}"
  ".tone-ok{--tone:#26734d}.tone-none{--tone:#26734d}"
  "ol.steps{margin:.3rem 0 .3rem 1.4rem;padding:0}"
  "p.label{margin:.4rem 0 .1rem;font-weight:bold;color:var(--muted)}"
  "pre{font-family:'DejaVu Sans Mono',monospace;font-size:.85em;background:var(--code);"
  "border:1px solid var(--rule);padding:.4rem .6rem;margin:.2rem 0;white-space:pre-wrap;"
  "overflow-wrap:anywhere;word-break:break-all}"
  "p.note{color:var(--muted);font-style:italic}"
  "table{border-collapse:collapse;width:100%;font-size:.9em;margin:.4rem 0}"
  "th,td{text-align:start;vertical-align:top;padding:.2rem .4rem;"
  "border-bottom:1px solid var(--rule)}"
  "th{border-bottom:2px solid var(--ink)}"
  "td.sev{color:var(--tone);font-weight:bold}"
  "footer{margin-top:2rem;padding-top:.6rem;border-top:1px solid var(--rule);color:var(--muted);"
  "font-size:.9em}"
  "@media print{"
  "@page{size:A4;margin:18mm 16mm}"
  "body{max-width:none;padding:0;font-size:10pt}"
  "*{-webkit-print-color-adjust:exact;print-color-adjust:exact}"
  "h2,h3,h4{break-after:avoid;page-break-after:avoid}"
  "article.item{break-inside:avoid;page-break-inside:avoid}"
  "thead{display:table-header-group}tr{break-inside:avoid;page-break-inside:avoid}"
  "}";

/* Text for element content and attribute values: markup characters become
 * references, and control characters other than tab and newline (which HTML
 * does not allow) are dropped. */
static void
append_text (GString *out, const char *text)
{
  for (const char *p = text; p != NULL && *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      switch (c)
        {
        case '&':
          g_string_append (out, "&amp;");
          break;
        case '<':
          g_string_append (out, "&lt;");
          break;
        case '>':
          g_string_append (out, "&gt;");
          break;
        case '"':
          g_string_append (out, "&quot;");
          break;
        case '\'':
          g_string_append (out, "&#39;");
          break;
        default:
          if ((c < 0x20 && c != '\t' && c != '\n') || c == 0x7f || (c >= 0x80 && c < 0xa0))
            break;
          g_string_append_unichar (out, c);
          break;
        }
    }
}

static void
append_bdi (GString *out, const char *text)
{
  g_string_append (out, "<bdi>");
  append_text (out, text);
  g_string_append (out, "</bdi>");
}

static void
append_facts (GString *out, GPtrArray *facts)
{
  if (facts == NULL || facts->len == 0)
    return;
  g_string_append (out, "<dl class=\"facts\">\n");
  for (guint i = 0; i + 1 < facts->len; i += 2)
    {
      g_string_append (out, "<dt>");
      append_text (out, g_ptr_array_index (facts, i));
      g_string_append (out, "</dt><dd>");
      append_bdi (out, g_ptr_array_index (facts, i + 1));
      g_string_append (out, "</dd>\n");
    }
  g_string_append (out, "</dl>\n");
}

static void
append_badge (GString *out, const MoatReportBlock *block)
{
  if (block->badge == NULL)
    return;
  g_string_append_printf (out, "<span class=\"badge tone-%s\">", block->tone);
  append_text (out, block->badge);
  g_string_append (out, "</span>");
}

static void
append_item (GString *out, const MoatReportBlock *block)
{
  g_string_append_printf (out, "<article class=\"item tone-%s\">\n<h4>", block->tone);
  append_badge (out, block);
  append_bdi (out, block->text);
  g_string_append (out, "</h4>\n");
  append_facts (out, block->facts);
  if (block->steps != NULL && block->steps->len > 0)
    {
      g_string_append_printf (out, "<p class=\"label\">%s</p>\n<ol class=\"steps\">\n",
                              _("How to fix it"));
      for (guint i = 0; i < block->steps->len; i++)
        {
          g_string_append (out, "<li>");
          append_bdi (out, g_ptr_array_index (block->steps, i));
          g_string_append (out, "</li>\n");
        }
      g_string_append (out, "</ol>\n");
    }
  if (block->evidence != NULL)
    {
      g_string_append_printf (out, "<p class=\"label\">%s</p>\n<pre class=\"evidence\">",
                              _("Evidence"));
      append_text (out, block->evidence);
      g_string_append (out, "</pre>\n");
    }
  if (block->command != NULL)
    {
      g_string_append_printf (out, "<p class=\"label\">%s</p>\n<pre class=\"command\">",
                              _("Command run on the phone"));
      append_text (out, block->command);
      g_string_append (out, "</pre>\n");
    }
  g_string_append (out, "</article>\n");
}

static void
append_table (GString *out, const MoatReportBlock *block)
{
  GStrv header = g_ptr_array_index (block->rows, 0);

  g_string_append (out, "<table>\n<thead><tr>");
  for (guint c = 0; header[c] != NULL; c++)
    {
      g_string_append (out, "<th scope=\"col\">");
      append_text (out, header[c]);
      g_string_append (out, "</th>");
    }
  g_string_append (out, "</tr></thead>\n<tbody>\n");
  for (guint r = 1; r < block->rows->len; r++)
    {
      GStrv row = g_ptr_array_index (block->rows, r);
      const char *tone = g_ptr_array_index (block->tones, r);

      g_string_append_printf (out, "<tr class=\"tone-%s\">", tone);
      for (guint c = 0; row[c] != NULL; c++)
        {
          /* The second column of the threats table is the severity. */
          gboolean sev = c == 1 && g_strcmp0 (tone, "none") != 0;

          g_string_append (out, sev ? "<td class=\"sev\">" : "<td>");
          append_bdi (out, row[c]);
          g_string_append (out, "</td>");
        }
      g_string_append (out, "</tr>\n");
    }
  g_string_append (out, "</tbody>\n</table>\n");
}

gboolean
moat_report_write_html (MoatReportDocument *doc,
                        GOutputStream      *out,
                        GError            **error)
{
  g_autoptr(GString) html = g_string_new (NULL);
  gboolean in_section = FALSE;

  g_string_append (html,
                   "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
                   "<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n"
                   "<meta name=\"generator\" content=\"Moat " PACKAGE_VERSION "\">\n<title>");
  append_text (html, doc->footer_left);
  g_string_append_printf (html, "</title>\n<style>%s</style>\n</head>\n<body>\n", style);

  for (guint i = 0; i < doc->blocks->len; i++)
    {
      const MoatReportBlock *block = g_ptr_array_index (doc->blocks, i);

      switch (block->kind)
        {
        case MOAT_REPORT_BLOCK_TITLE:
          g_string_append (html, "<header class=\"report\">\n<h1>");
          append_text (html, block->text);
          g_string_append (html, "</h1>\n");
          append_facts (html, block->facts);
          g_string_append (html, "</header>\n<main>\n");
          break;
        case MOAT_REPORT_BLOCK_HEADING:
          if (in_section)
            g_string_append (html, "</section>\n");
          g_string_append_printf (html, "<section id=\"%s\">\n<h2>", block->section);
          append_text (html, block->text);
          g_string_append (html, "</h2>\n");
          in_section = TRUE;
          break;
        case MOAT_REPORT_BLOCK_SUBHEADING:
          g_string_append_printf (html, "<h3 class=\"tone-%s\">", block->tone);
          append_badge (html, block);
          append_bdi (html, block->text);
          g_string_append (html, "</h3>\n");
          break;
        case MOAT_REPORT_BLOCK_FACTS:
          append_facts (html, block->facts);
          break;
        case MOAT_REPORT_BLOCK_ITEM:
          append_item (html, block);
          break;
        case MOAT_REPORT_BLOCK_NOTE:
          g_string_append (html, "<p class=\"note\">");
          append_bdi (html, block->text);
          g_string_append (html, "</p>\n");
          break;
        case MOAT_REPORT_BLOCK_TABLE:
          append_table (html, block);
          break;
        case MOAT_REPORT_BLOCK_FOOTER:
          if (in_section)
            g_string_append (html, "</section>\n");
          in_section = FALSE;
          g_string_append (html, "</main>\n<footer>\n<p>");
          append_bdi (html, block->text);
          g_string_append (html, "</p>\n</footer>\n");
          break;
        default:
          g_assert_not_reached ();
        }
    }
  if (in_section)
    g_string_append (html, "</section>\n</main>\n");
  g_string_append (html, "</body>\n</html>\n");
  return g_output_stream_write_all (out, html->str, html->len, NULL, NULL, error);
}
