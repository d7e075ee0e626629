/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-report"

#include "config.h"

#include "moat-report-private.h"

#include "moat-error.h"

#include <cairo-pdf.h>
#include <glib/gi18n.h>
#include <pango/pangocairo.h>
#include <string.h>

/*
 * The report as an A4 PDF through cairo and Pango. Text from the model is set
 * with pango_layout_set_text() and attributes, never parsed as markup.
 *
 * Two passes: the first lays everything out into a PDF that is thrown away,
 * to count the pages for "Page N of M"; the second draws the same layout.
 * A block is drawn line by line, so long evidence flows onto the next page;
 * a heading or a finding's title first makes sure that it and the start of
 * what follows it fit, so a title never ends a page.
 */

#define PAGE_WIDTH  595.276  /* A4 in points */
#define PAGE_HEIGHT 841.890
#define MARGIN_X    56.0
#define MARGIN_TOP  56.0
#define MARGIN_BOTTOM 70.0
#define CONTENT_WIDTH (PAGE_WIDTH - 2 * MARGIN_X)
#define ITEM_INDENT 12.0
#define LABEL_WIDTH 124.0

#define SANS "Cantarell,DejaVu Sans"
#define MONO "DejaVu Sans Mono"

typedef struct {
  /* borrowed */
  MoatReportDocument *doc;
  GOutputStream      *out;     /* NULL: the counting pass */
  /* owned */
  cairo_surface_t    *surface;
  cairo_t            *cr;
  PangoFontMap       *font_map; /* our own, so nothing of it outlives the report */
  PangoContext       *context;
  GError             *error;

  double              y;
  int                 page;    /* 1-based */
  int                 n_pages; /* from the first pass; 0 in it */
} Pdf;

static cairo_status_t
write_cb (void *closure, const unsigned char *data, unsigned int length)
{
  Pdf *pdf = closure;

  if (pdf->out == NULL)
    return CAIRO_STATUS_SUCCESS;
  if (pdf->error != NULL)
    return CAIRO_STATUS_WRITE_ERROR;
  if (!g_output_stream_write_all (pdf->out, data, length, NULL, NULL, &pdf->error))
    return CAIRO_STATUS_WRITE_ERROR;
  return CAIRO_STATUS_SUCCESS;
}

static void
set_color (cairo_t *cr, const char *hex)
{
  PangoColor color;

  if (!pango_color_parse (&color, hex))
    pango_color_parse (&color, "#000000");
  cairo_set_source_rgb (cr, color.red / 65535.0, color.green / 65535.0, color.blue / 65535.0);
}

static PangoAttribute *
color_attr (const char *hex, gboolean background, guint start, guint end)
{
  PangoColor color;
  PangoAttribute *attr;

  if (!pango_color_parse (&color, hex))
    pango_color_parse (&color, "#000000");
  attr = background ? pango_attr_background_new (color.red, color.green, color.blue)
                    : pango_attr_foreground_new (color.red, color.green, color.blue);
  attr->start_index = start;
  attr->end_index = end;
  return attr;
}

static PangoAttribute *
weight_attr (PangoWeight weight, guint start, guint end)
{
  PangoAttribute *attr = pango_attr_weight_new (weight);

  attr->start_index = start;
  attr->end_index = end;
  return attr;
}

static PangoLayout *
new_layout (Pdf *pdf, const char *font, double width, const char *text)
{
  PangoLayout *layout = pango_layout_new (pdf->context);
  PangoFontDescription *desc = pango_font_description_from_string (font);
  PangoAttrList *attrs;

  pango_layout_set_font_description (layout, desc);
  pango_font_description_free (desc);
  pango_layout_set_width (layout, (int) (width * PANGO_SCALE));
  pango_layout_set_wrap (layout, PANGO_WRAP_WORD_CHAR);
  pango_layout_set_text (layout, text != NULL ? text : "", -1);
  /* A hyphen where a long word wraps would change evidence and names. */
  attrs = pango_attr_list_new ();
  pango_attr_list_insert (attrs, pango_attr_insert_hyphens_new (FALSE));
  pango_layout_set_attributes (layout, attrs);
  pango_attr_list_unref (attrs);
  return layout;
}

static double
layout_height (PangoLayout *layout)
{
  int h;

  pango_layout_get_size (layout, NULL, &h);
  return (double) h / PANGO_SCALE;
}

static double
first_lines_height (PangoLayout *layout, int n)
{
  PangoLayoutIter *iter = pango_layout_get_iter (layout);
  int y1 = 0;

  for (int i = 0; i < n; i++)
    {
      int y0;

      pango_layout_iter_get_line_yrange (iter, &y0, &y1);
      if (!pango_layout_iter_next_line (iter))
        break;
    }
  pango_layout_iter_free (iter);
  return (double) y1 / PANGO_SCALE;
}

static void
draw_page_footer (Pdf *pdf)
{
  g_autoptr(PangoLayout) left = NULL;
  g_autoptr(PangoLayout) right = NULL;
  g_autofree char *page = NULL;
  double y = PAGE_HEIGHT - MARGIN_BOTTOM + 26;
  int w;

  /* Translators: the PDF report's page numbers */
  page = g_strdup_printf (_("Page %d of %d"), pdf->page, pdf->n_pages);
  right = new_layout (pdf, SANS " 8", CONTENT_WIDTH, page);
  pango_layout_get_size (right, &w, NULL);
  left = new_layout (pdf, SANS " 8", CONTENT_WIDTH - (double) w / PANGO_SCALE - 24,
                     pdf->doc->footer_left);
  pango_layout_set_ellipsize (left, PANGO_ELLIPSIZE_END);
  pango_layout_set_height (left, -1);

  set_color (pdf->cr, "#deddda");
  cairo_rectangle (pdf->cr, MARGIN_X, y - 6, CONTENT_WIDTH, 0.8);
  cairo_fill (pdf->cr);
  set_color (pdf->cr, "#5e5c64");
  cairo_move_to (pdf->cr, MARGIN_X, y);
  pango_cairo_show_layout (pdf->cr, left);
  cairo_move_to (pdf->cr, MARGIN_X + CONTENT_WIDTH - (double) w / PANGO_SCALE, y);
  pango_cairo_show_layout (pdf->cr, right);
}

static void
new_page (Pdf *pdf)
{
  draw_page_footer (pdf);
  cairo_show_page (pdf->cr);
  pdf->page++;
  pdf->y = MARGIN_TOP;
}

static double
remaining (Pdf *pdf)
{
  return PAGE_HEIGHT - MARGIN_BOTTOM - pdf->y;
}

/* Starts a new page unless @needed points fit on this one (and this one is not
 * still empty). */
static void
ensure_space (Pdf *pdf, double needed)
{
  if (needed > remaining (pdf) && pdf->y > MARGIN_TOP + 0.5)
    new_page (pdf);
}

static void
space (Pdf *pdf, double points)
{
  pdf->y += points;
}

/* Space inside a finding: its bar runs on through it. */
static void
gap (Pdf *pdf, double points, const char *bar)
{
  if (bar != NULL && points <= remaining (pdf))
    {
      set_color (pdf->cr, bar);
      cairo_rectangle (pdf->cr, MARGIN_X, pdf->y, 3.5, points);
      cairo_fill (pdf->cr);
    }
  pdf->y += points;
}

typedef struct {
  const char *color;        /* text colour */
  const char *bar;          /* a bar at the item's left edge, or NULL */
  const char *fill;         /* a background behind each line, or NULL */
  double      fill_left;
} Style;

/* Draws @layout at @x line by line from the current position, breaking pages
 * between lines. */
static void
emit (Pdf *pdf, PangoLayout *layout, double x, const Style *style)
{
  PangoLayoutIter *iter = pango_layout_get_iter (layout);

  do
    {
      PangoLayoutLine *line = pango_layout_iter_get_line_readonly (iter);
      int y0, y1, baseline;
      double h;
      PangoRectangle logical;

      pango_layout_iter_get_line_yrange (iter, &y0, &y1);
      baseline = pango_layout_iter_get_baseline (iter);
      pango_layout_iter_get_line_extents (iter, NULL, &logical);
      h = (double) (y1 - y0) / PANGO_SCALE;
      if (h > remaining (pdf))
        new_page (pdf);
      if (style != NULL && style->fill != NULL)
        {
          set_color (pdf->cr, style->fill);
          cairo_rectangle (pdf->cr, style->fill_left, pdf->y,
                           MARGIN_X + CONTENT_WIDTH - style->fill_left, h);
          cairo_fill (pdf->cr);
        }
      if (style != NULL && style->bar != NULL)
        {
          set_color (pdf->cr, style->bar);
          cairo_rectangle (pdf->cr, MARGIN_X, pdf->y - 1, 3.5, h + 2);
          cairo_fill (pdf->cr);
        }
      set_color (pdf->cr, style != NULL && style->color != NULL ? style->color : "#241f31");
      cairo_move_to (pdf->cr, x + (double) logical.x / PANGO_SCALE,
                     pdf->y + (double) (baseline - y0) / PANGO_SCALE);
      pango_cairo_show_layout_line (pdf->cr, line);
      pdf->y += h;
    }
  while (pango_layout_iter_next_line (iter));
  pango_layout_iter_free (iter);
}

/* "Label<tab>value", the value in a column, wrapped lines hanging under it. */
static PangoLayout *
fact_layout (Pdf *pdf, const char *label, const char *value, double width)
{
  /* The value in a bidi isolate: right-to-left text or an unclosed override
   * from a phone cannot reorder the label or what follows. */
  g_autofree char *text = g_strdup_printf ("%s\t\u2068%s\u2069", label, value);
  PangoLayout *layout = new_layout (pdf, SANS " 9.5", width, text);
  PangoAttrList *attrs = pango_attr_list_new ();
  PangoTabArray *tabs = pango_tab_array_new_with_positions (1, TRUE, PANGO_TAB_LEFT,
                                                            (int) LABEL_WIDTH);

  pango_layout_set_tabs (layout, tabs);
  pango_tab_array_free (tabs);
  pango_layout_set_indent (layout, (int) (-LABEL_WIDTH * PANGO_SCALE));
  pango_attr_list_insert (attrs, pango_attr_insert_hyphens_new (FALSE));
  pango_attr_list_insert (attrs, weight_attr (PANGO_WEIGHT_BOLD, 0, strlen (label)));
  pango_attr_list_insert (attrs, color_attr ("#5e5c64", FALSE, 0, strlen (label)));
  pango_layout_set_attributes (layout, attrs);
  pango_attr_list_unref (attrs);
  /* A label longer than its column would push the value onto the tab stop's
   * far side; keep the label short instead by letting it wrap like the rest. */
  pango_layout_set_auto_dir (layout, FALSE);
  return layout;
}

static void
emit_facts (Pdf *pdf, GPtrArray *facts, double x, const Style *style)
{
  for (guint i = 0; facts != NULL && i + 1 < facts->len; i += 2)
    {
      g_autoptr(PangoLayout) layout =
        fact_layout (pdf, g_ptr_array_index (facts, i), g_ptr_array_index (facts, i + 1),
                     MARGIN_X + CONTENT_WIDTH - x);

      emit (pdf, layout, x, style);
      gap (pdf, 1.5, style != NULL ? style->bar : NULL);
    }
}

/* "HIGH  title": the badge in white on its tone, then the title. */
static PangoLayout *
title_layout (Pdf *pdf, const char *font, const char *badge, const char *tone,
              const char *title, double width)
{
  g_autofree char *upper = badge != NULL ? g_utf8_strup (badge, -1) : NULL;
  g_autofree char *text = upper != NULL
                          ? g_strdup_printf ("\u2002%s\u2002  \u2068%s\u2069", upper, title)
                          : g_strdup_printf ("\u2068%s\u2069", title);
  PangoLayout *layout = new_layout (pdf, font, width, text);
  PangoAttrList *attrs = pango_attr_list_new ();

  pango_attr_list_insert (attrs, pango_attr_insert_hyphens_new (FALSE));
  pango_attr_list_insert (attrs, weight_attr (PANGO_WEIGHT_BOLD, 0, strlen (text)));
  if (upper != NULL)
    {
      guint end = strlen ("\u2002") * 2 + strlen (upper);
      PangoAttribute *size = pango_attr_scale_new (0.8);

      size->start_index = 0;
      size->end_index = end;
      pango_attr_list_insert (attrs, color_attr (moat_report_tone_color (tone), TRUE, 0, end));
      pango_attr_list_insert (attrs, color_attr ("#ffffff", FALSE, 0, end));
      pango_attr_list_insert (attrs, size);
    }
  pango_layout_set_attributes (layout, attrs);
  pango_attr_list_unref (attrs);
  return layout;
}

static void
emit_label (Pdf *pdf, const char *text, double x, const Style *bar)
{
  g_autoptr(PangoLayout) layout = new_layout (pdf, SANS " Bold 9", MARGIN_X + CONTENT_WIDTH - x,
                                              text);
  Style style = { "#5e5c64", bar != NULL ? bar->bar : NULL, NULL, 0 };

  /* A label stays with the first lines under it. */
  ensure_space (pdf, layout_height (layout) + 30);
  gap (pdf, 3, style.bar);
  emit (pdf, layout, x, &style);
  gap (pdf, 1, style.bar);
}

static void
emit_mono (Pdf *pdf, const char *text, double x, const char *bar)
{
  g_autoptr(PangoLayout) layout = new_layout (pdf, MONO " 8", MARGIN_X + CONTENT_WIDTH - x - 8,
                                              text);
  Style style = { "#241f31", bar, "#f1f0ee", x };

  pango_layout_set_wrap (layout, PANGO_WRAP_CHAR);
  emit (pdf, layout, x + 4, &style);
}

static void
emit_item (Pdf *pdf, const MoatReportBlock *block)
{
  const char *tone_color = moat_report_tone_color (block->tone);
  double x = MARGIN_X + ITEM_INDENT;
  double width = CONTENT_WIDTH - ITEM_INDENT;
  Style bar = { NULL, tone_color, NULL, 0 };
  g_autoptr(PangoLayout) title = title_layout (pdf, SANS " 10.5", block->badge, block->tone,
                                               block->text, width);
  double first = 0;

  /* The title and the start of its body on the same page. */
  if (block->facts != NULL && block->facts->len >= 2)
    {
      g_autoptr(PangoLayout) fact = fact_layout (pdf, g_ptr_array_index (block->facts, 0),
                                                 g_ptr_array_index (block->facts, 1), width);

      first = first_lines_height (fact, 3);
    }
  ensure_space (pdf, layout_height (title) + first + 40);
  space (pdf, 6);
  emit (pdf, title, x, &bar);
  gap (pdf, 3, bar.bar);
  emit_facts (pdf, block->facts, x, &bar);
  if (block->steps != NULL && block->steps->len > 0)
    {
      emit_label (pdf, _("How to fix it"), x, &bar);
      for (guint i = 0; i < block->steps->len; i++)
        {
          g_autofree char *text = g_strdup_printf ("%u.\t\u2068%s\u2069", i + 1,
                                                   (char *) g_ptr_array_index (block->steps, i));
          g_autoptr(PangoLayout) step = new_layout (pdf, SANS " 9.5", width, text);
          PangoTabArray *tabs = pango_tab_array_new_with_positions (1, TRUE, PANGO_TAB_LEFT, 16);

          pango_layout_set_tabs (step, tabs);
          pango_tab_array_free (tabs);
          pango_layout_set_indent (step, -16 * PANGO_SCALE);
          emit (pdf, step, x, &bar);
          gap (pdf, 1, bar.bar);
        }
    }
  if (block->evidence != NULL)
    {
      emit_label (pdf, _("Evidence"), x, &bar);
      emit_mono (pdf, block->evidence, x, tone_color);
    }
  if (block->command != NULL)
    {
      emit_label (pdf, _("Command run on the phone"), x, &bar);
      emit_mono (pdf, block->command, x, tone_color);
    }
  space (pdf, 6);
}

/* When, severity or action, threat, about (the longest), what happened or from */
static const double table_widths[] = { 0.15, 0.12, 0.27, 0.32, 0.14 };

static double
emit_row (Pdf *pdf, GStrv row, const char *tone, gboolean header, gboolean measure_only)
{
  PangoLayout *cells[G_N_ELEMENTS (table_widths)] = { NULL };
  double x = MARGIN_X, height = 0;
  guint n = MIN (g_strv_length (row), G_N_ELEMENTS (table_widths));

  for (guint c = 0; c < n; c++)
    {
      double w = CONTENT_WIDTH * table_widths[c] - 6;

      g_autofree char *isolated = g_strdup_printf ("\u2068%s\u2069", row[c]);

      cells[c] = new_layout (pdf, header ? SANS " Bold 8" : SANS " 8", w, isolated);
      /* A cell holds at most eight lines; the HTML and JSON have the rest. */
      pango_layout_set_height (cells[c], -8);
      pango_layout_set_ellipsize (cells[c], PANGO_ELLIPSIZE_END);
      height = MAX (height, layout_height (cells[c]));
    }
  height += 5;
  if (!measure_only)
    {
      for (guint c = 0; c < n; c++)
        {
          const char *color = "#241f31";

          if (!header && c == 1 && g_strcmp0 (tone, "none") != 0)
            color = moat_report_tone_color (tone);
          set_color (pdf->cr, color);
          cairo_move_to (pdf->cr, x, pdf->y + 2);
          pango_cairo_show_layout (pdf->cr, cells[c]);
          x += CONTENT_WIDTH * table_widths[c];
        }
      set_color (pdf->cr, header ? "#241f31" : "#deddda");
      cairo_rectangle (pdf->cr, MARGIN_X, pdf->y + height - 1, CONTENT_WIDTH, header ? 1.2 : 0.6);
      cairo_fill (pdf->cr);
      pdf->y += height;
    }
  for (guint c = 0; c < n; c++)
    g_object_unref (cells[c]);
  return height;
}

static void
emit_table (Pdf *pdf, const MoatReportBlock *block)
{
  GStrv header = g_ptr_array_index (block->rows, 0);
  double header_height = emit_row (pdf, header, "none", TRUE, TRUE);

  ensure_space (pdf, header_height + (block->rows->len > 1
                                      ? emit_row (pdf, g_ptr_array_index (block->rows, 1),
                                                  "none", FALSE, TRUE)
                                      : 0));
  space (pdf, 3);
  emit_row (pdf, header, "none", TRUE, FALSE);
  for (guint r = 1; r < block->rows->len; r++)
    {
      GStrv row = g_ptr_array_index (block->rows, r);
      double h = emit_row (pdf, row, g_ptr_array_index (block->tones, r), FALSE, TRUE);

      if (h > remaining (pdf))
        {
          new_page (pdf);
          emit_row (pdf, header, "none", TRUE, FALSE);
        }
      emit_row (pdf, row, g_ptr_array_index (block->tones, r), FALSE, FALSE);
    }
  space (pdf, 6);
}

static void
emit_block (Pdf *pdf, const MoatReportBlock *block)
{
  switch (block->kind)
    {
    case MOAT_REPORT_BLOCK_TITLE:
      {
        g_autoptr(PangoLayout) title = new_layout (pdf, SANS " Bold 22", CONTENT_WIDTH,
                                                   block->text);

        emit (pdf, title, MARGIN_X, NULL);
        space (pdf, 4);
        set_color (pdf->cr, "#1a5fb4");
        cairo_rectangle (pdf->cr, MARGIN_X, pdf->y, CONTENT_WIDTH, 3);
        cairo_fill (pdf->cr);
        space (pdf, 10);
        emit_facts (pdf, block->facts, MARGIN_X, NULL);
        space (pdf, 4);
        break;
      }
    case MOAT_REPORT_BLOCK_HEADING:
      {
        g_autoptr(PangoLayout) layout = new_layout (pdf, SANS " Bold 15", CONTENT_WIDTH,
                                                    block->text);

        ensure_space (pdf, layout_height (layout) + 80);
        if (pdf->y > MARGIN_TOP + 0.5)
          space (pdf, 14);
        emit (pdf, layout, MARGIN_X, NULL);
        set_color (pdf->cr, "#241f31");
        cairo_rectangle (pdf->cr, MARGIN_X, pdf->y + 1, CONTENT_WIDTH, 1.5);
        cairo_fill (pdf->cr);
        space (pdf, 8);
        break;
      }
    case MOAT_REPORT_BLOCK_SUBHEADING:
      {
        g_autoptr(PangoLayout) layout = title_layout (pdf, SANS " 12.5", block->badge,
                                                      block->tone, block->text, CONTENT_WIDTH);

        ensure_space (pdf, layout_height (layout) + 60);
        space (pdf, 8);
        emit (pdf, layout, MARGIN_X, NULL);
        space (pdf, 4);
        break;
      }
    case MOAT_REPORT_BLOCK_FACTS:
      emit_facts (pdf, block->facts, MARGIN_X, NULL);
      space (pdf, 4);
      break;
    case MOAT_REPORT_BLOCK_ITEM:
      emit_item (pdf, block);
      break;
    case MOAT_REPORT_BLOCK_NOTE:
      {
        g_autoptr(PangoLayout) layout = new_layout (pdf, SANS " Italic 9.5", CONTENT_WIDTH,
                                                    block->text);
        Style style = { "#5e5c64", NULL, NULL, 0 };

        space (pdf, 2);
        emit (pdf, layout, MARGIN_X, &style);
        space (pdf, 4);
        break;
      }
    case MOAT_REPORT_BLOCK_TABLE:
      emit_table (pdf, block);
      break;
    case MOAT_REPORT_BLOCK_FOOTER:
      {
        g_autoptr(PangoLayout) layout = new_layout (pdf, SANS " 8.5", CONTENT_WIDTH,
                                                    block->text);
        Style style = { "#5e5c64", NULL, NULL, 0 };

        ensure_space (pdf, layout_height (layout) + 20);
        space (pdf, 12);
        set_color (pdf->cr, "#deddda");
        cairo_rectangle (pdf->cr, MARGIN_X, pdf->y, CONTENT_WIDTH, 0.8);
        cairo_fill (pdf->cr);
        space (pdf, 6);
        emit (pdf, layout, MARGIN_X, &style);
        break;
      }
    default:
      g_assert_not_reached ();
    }
}

/* One pass; returns the number of pages, or 0 with @error set. */
static int
run_pass (MoatReportDocument *doc, GOutputStream *out, int n_pages, GError **error)
{
  Pdf pdf = { doc, out, NULL, NULL, NULL, NULL, NULL, MARGIN_TOP, 1, n_pages };
  g_autofree char *creator = g_strdup_printf ("Moat %s", PACKAGE_VERSION);
  cairo_status_t status;

  pdf.surface = cairo_pdf_surface_create_for_stream (write_cb, &pdf, PAGE_WIDTH, PAGE_HEIGHT);
  cairo_pdf_surface_set_metadata (pdf.surface, CAIRO_PDF_METADATA_TITLE, doc->title);
  cairo_pdf_surface_set_metadata (pdf.surface, CAIRO_PDF_METADATA_CREATOR, creator);
  pdf.cr = cairo_create (pdf.surface);
  pdf.font_map = pango_cairo_font_map_new ();
  pdf.context = pango_font_map_create_context (pdf.font_map);
  pango_cairo_update_context (pdf.cr, pdf.context);

  for (guint i = 0; i < doc->blocks->len; i++)
    emit_block (&pdf, g_ptr_array_index (doc->blocks, i));
  draw_page_footer (&pdf);
  cairo_show_page (pdf.cr);

  g_object_unref (pdf.context);
  g_object_unref (pdf.font_map);
  cairo_destroy (pdf.cr);
  cairo_surface_finish (pdf.surface);
  status = cairo_surface_status (pdf.surface);
  cairo_surface_destroy (pdf.surface);
  if (pdf.error != NULL)
    {
      g_propagate_error (error, pdf.error);
      return 0;
    }
  if (status != CAIRO_STATUS_SUCCESS)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_FAILED, "Cannot write the PDF: %s",
                   cairo_status_to_string (status));
      return 0;
    }
  return pdf.page;
}

gboolean
moat_report_write_pdf (MoatReportDocument *doc,
                       GOutputStream      *out,
                       GError            **error)
{
  int n_pages = run_pass (doc, NULL, 0, error);
  int written;

  if (n_pages == 0)
    return FALSE;
  written = run_pass (doc, out, n_pages, error);
  if (written == 0)
    return FALSE;
  if (written != n_pages)
    {
      /* Both passes lay out the same blocks with the same fonts. */
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_FAILED,
                   "The PDF came out with %d pages instead of %d", written, n_pages);
      return FALSE;
    }
  return TRUE;
}
