/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-app"

#include "config.h"

#include "moat-category-chart.h"

#include "moat-threat-names.h"

#include <glib/gi18n.h>

/*
 * MoatCategoryChart: horizontal bars, one per category, longest first, drawn
 * with GtkSnapshot. Labels on the left (ellipsized when narrow), counts on the
 * right. The accessible label sums the numbers up in words.
 */

#define MAX_BARS 6
#define BAR_HEIGHT 8
#define ROW_SPACING 10
#define LABEL_GAP 12

typedef struct {
  char    *label;
  guint64  count;
} Bar;

struct _MoatCategoryChart {
  GtkWidget  parent_instance;

  /* owned */
  GArray    *bars;   /* of Bar, longest first */
  guint64    total;
};

G_DEFINE_FINAL_TYPE (MoatCategoryChart, moat_category_chart, GTK_TYPE_WIDGET)

static void
clear_bar (gpointer data)
{
  Bar *bar = data;

  g_free (bar->label);
}

static int
compare_bars (gconstpointer a,
              gconstpointer b)
{
  const Bar *bar_a = a;
  const Bar *bar_b = b;

  if (bar_a->count != bar_b->count)
    return bar_a->count > bar_b->count ? -1 : 1;
  return g_utf8_collate (bar_a->label, bar_b->label);
}

static int
get_row_height (MoatCategoryChart *self)
{
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self), "Xg");
  int text_height;

  pango_layout_get_pixel_size (layout, NULL, &text_height);
  return MAX (text_height, BAR_HEIGHT);
}

static void
update_accessible_label (MoatCategoryChart *self)
{
  g_autoptr(GString) text = g_string_new (NULL);

  if (self->bars->len == 0)
    {
      g_string_append (text, _("Nothing blocked today"));
    }
  else
    {
      g_autofree char *total = g_strdup_printf ("%" G_GUINT64_FORMAT, self->total);

      g_string_append_printf (text,
                              /* Translators: %s is a number */
                              g_dngettext (GETTEXT_PACKAGE, "%s blocked today",
                                           "%s blocked today",
                                           (gulong) MIN (self->total, G_MAXULONG)),
                              total);
      for (guint i = 0; i < self->bars->len; i++)
        {
          const Bar *bar = &g_array_index (self->bars, Bar, i);
          g_autofree char *count = g_strdup_printf ("%" G_GUINT64_FORMAT, bar->count);

          /* Translators: one category of the "blocked today" chart: name and count */
          g_string_append_printf (text, _(", %s: %s"), bar->label, count);
        }
    }

  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, text->str,
                                  -1);
}

static void
moat_category_chart_measure (GtkWidget      *widget,
                             GtkOrientation  orientation,
                             int             for_size,
                             int            *minimum,
                             int            *natural,
                             int            *minimum_baseline,
                             int            *natural_baseline)
{
  MoatCategoryChart *self = MOAT_CATEGORY_CHART (widget);
  int row_height = get_row_height (self);

  if (orientation == GTK_ORIENTATION_HORIZONTAL)
    {
      *minimum = 120;
      *natural = 360;
    }
  else if (self->bars->len == 0)
    {
      *minimum = *natural = row_height * 3;
    }
  else
    {
      int n = (int) self->bars->len;

      *minimum = *natural = n * row_height + (n - 1) * ROW_SPACING;
    }
}

static void
snapshot_empty (MoatCategoryChart *self,
                GtkSnapshot       *snapshot,
                int                width,
                int                height)
{
  g_autoptr(PangoLayout) layout = gtk_widget_create_pango_layout (GTK_WIDGET (self),
                                                                  _("Nothing blocked today"));
  GdkRGBA color;
  int text_width, text_height;

  gtk_style_context_get_color (gtk_widget_get_style_context (GTK_WIDGET (self)), &color);
  color.alpha *= 0.55f;
  pango_layout_set_width (layout, width * PANGO_SCALE);
  pango_layout_set_ellipsize (layout, PANGO_ELLIPSIZE_END);
  pango_layout_set_alignment (layout, PANGO_ALIGN_CENTER);
  pango_layout_get_pixel_size (layout, &text_width, &text_height);

  gtk_snapshot_save (snapshot);
  gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (0, (height - text_height) / 2.f));
  gtk_snapshot_append_layout (snapshot, layout, &color);
  gtk_snapshot_restore (snapshot);
}

static void
moat_category_chart_snapshot (GtkWidget   *widget,
                              GtkSnapshot *snapshot)
{
  MoatCategoryChart *self = MOAT_CATEGORY_CHART (widget);
  GtkStyleContext *context = gtk_widget_get_style_context (widget);
  int width = gtk_widget_get_width (widget);
  int height = gtk_widget_get_height (widget);
  int row_height = get_row_height (self);
  int label_width = 0;
  int count_width = 0;
  guint64 max_count;
  GdkRGBA fg, bar_color, trough_color;
  gboolean rtl = gtk_widget_get_direction (widget) == GTK_TEXT_DIR_RTL;

  if (self->bars->len == 0)
    {
      snapshot_empty (self, snapshot, width, height);
      return;
    }

  gtk_style_context_get_color (context, &fg);
  if (!gtk_style_context_lookup_color (context, "accent_bg_color", &bar_color))
    gdk_rgba_parse (&bar_color, "#3584e4");
  trough_color = fg;
  trough_color.alpha *= 0.1f;

  /* Columns: labels take what they need up to 40 %, counts what they need. */
  for (guint i = 0; i < self->bars->len; i++)
    {
      const Bar *bar = &g_array_index (self->bars, Bar, i);
      g_autofree char *count = g_strdup_printf ("%" G_GUINT64_FORMAT, bar->count);
      g_autoptr(PangoLayout) label_layout = gtk_widget_create_pango_layout (widget, bar->label);
      g_autoptr(PangoLayout) count_layout = gtk_widget_create_pango_layout (widget, count);
      int w;

      pango_layout_get_pixel_size (label_layout, &w, NULL);
      label_width = MAX (label_width, w);
      pango_layout_get_pixel_size (count_layout, &w, NULL);
      count_width = MAX (count_width, w);
    }
  label_width = MIN (label_width, width * 2 / 5);
  max_count = g_array_index (self->bars, Bar, 0).count;

  for (guint i = 0; i < self->bars->len; i++)
    {
      const Bar *bar = &g_array_index (self->bars, Bar, i);
      g_autofree char *count = g_strdup_printf ("%" G_GUINT64_FORMAT, bar->count);
      g_autoptr(PangoLayout) label_layout = gtk_widget_create_pango_layout (widget, bar->label);
      g_autoptr(PangoLayout) count_layout = gtk_widget_create_pango_layout (widget, count);
      float y = (float) i * (row_height + ROW_SPACING);
      float bar_x = label_width + LABEL_GAP;
      float bar_max = MAX (width - bar_x - LABEL_GAP - count_width, 1);
      float bar_width = max_count > 0 ? bar_max * (float) bar->count / (float) max_count : 0;
      float label_x = 0, count_x = width - count_width;
      int count_w;

      bar_width = MAX (bar_width, 2);
      pango_layout_set_width (label_layout, label_width * PANGO_SCALE);
      pango_layout_set_ellipsize (label_layout, PANGO_ELLIPSIZE_END);
      pango_layout_get_pixel_size (count_layout, &count_w, NULL);
      count_x = width - count_w;

      if (rtl)
        {
          bar_x = width - bar_x - bar_max;
          label_x = width - label_width;
          count_x = 0;
        }

      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (label_x, y));
      gtk_snapshot_append_layout (snapshot, label_layout, &fg);
      gtk_snapshot_restore (snapshot);

      {
        GskRoundedRect trough, fill;
        float bar_y = y + (row_height - BAR_HEIGHT) / 2.f;
        float fill_x = rtl ? bar_x + bar_max - bar_width : bar_x;

        gsk_rounded_rect_init_from_rect (&trough,
                                         &GRAPHENE_RECT_INIT (bar_x, bar_y, bar_max, BAR_HEIGHT),
                                         BAR_HEIGHT / 2.f);
        gsk_rounded_rect_init_from_rect (&fill,
                                         &GRAPHENE_RECT_INIT (fill_x, bar_y, bar_width, BAR_HEIGHT),
                                         BAR_HEIGHT / 2.f);
        gtk_snapshot_push_rounded_clip (snapshot, &trough);
        gtk_snapshot_append_color (snapshot, &trough_color, &trough.bounds);
        gtk_snapshot_pop (snapshot);
        gtk_snapshot_push_rounded_clip (snapshot, &fill);
        gtk_snapshot_append_color (snapshot, &bar_color, &fill.bounds);
        gtk_snapshot_pop (snapshot);
      }

      gtk_snapshot_save (snapshot);
      gtk_snapshot_translate (snapshot, &GRAPHENE_POINT_INIT (count_x, y));
      gtk_snapshot_append_layout (snapshot, count_layout, &fg);
      gtk_snapshot_restore (snapshot);
    }
}

static void
moat_category_chart_finalize (GObject *object)
{
  MoatCategoryChart *self = MOAT_CATEGORY_CHART (object);

  g_clear_pointer (&self->bars, g_array_unref);

  G_OBJECT_CLASS (moat_category_chart_parent_class)->finalize (object);
}

static void
moat_category_chart_class_init (MoatCategoryChartClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->finalize = moat_category_chart_finalize;
  widget_class->measure = moat_category_chart_measure;
  widget_class->snapshot = moat_category_chart_snapshot;

  gtk_widget_class_set_css_name (widget_class, "categorychart");
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_IMG);
}

static void
moat_category_chart_init (MoatCategoryChart *self)
{
  self->bars = g_array_new (FALSE, TRUE, sizeof (Bar));
  g_array_set_clear_func (self->bars, clear_bar);
  update_accessible_label (self);
}

GtkWidget *
moat_category_chart_new (void)
{
  return g_object_new (MOAT_TYPE_CATEGORY_CHART, NULL);
}

/**
 * moat_category_chart_set_counts:
 * @counts: (nullable): threat id (char *) to count (guint64 *), as from
 *   moat_client_category_counts_finish(); NULL empties the chart
 *
 * Shows the MAX_BARS largest categories; the rest are summed up as "Other".
 */
void
moat_category_chart_set_counts (MoatCategoryChart *self,
                                GHashTable        *counts)
{
  g_autoptr(GArray) all = NULL;
  GHashTableIter iter;
  gpointer key, value;

  g_return_if_fail (MOAT_IS_CATEGORY_CHART (self));

  g_array_set_size (self->bars, 0);
  self->total = 0;

  all = g_array_new (FALSE, TRUE, sizeof (Bar));
  g_array_set_clear_func (all, clear_bar);

  if (counts != NULL)
    {
      g_hash_table_iter_init (&iter, counts);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          Bar bar;

          if (value == NULL || *(guint64 *) value == 0)
            continue;
          bar.label = g_strdup (moat_threat_get_display_name (key));
          bar.count = *(guint64 *) value;
          self->total += bar.count;
          g_array_append_val (all, bar);
        }
    }

  g_array_sort (all, compare_bars);

  for (guint i = 0; i < all->len; i++)
    {
      Bar *bar = &g_array_index (all, Bar, i);

      if (i < MAX_BARS - 1 || all->len == MAX_BARS)
        {
          Bar copy = { g_steal_pointer (&bar->label), bar->count };

          g_array_append_val (self->bars, copy);
        }
      else if (i == MAX_BARS - 1)
        {
          Bar other = { g_strdup (_("Other")), bar->count };

          g_array_append_val (self->bars, other);
        }
      else
        {
          g_array_index (self->bars, Bar, MAX_BARS - 1).count += bar->count;
        }
    }

  update_accessible_label (self);
  gtk_widget_queue_resize (GTK_WIDGET (self));
}

guint64
moat_category_chart_get_total (MoatCategoryChart *self)
{
  g_return_val_if_fail (MOAT_IS_CATEGORY_CHART (self), 0);

  return self->total;
}
