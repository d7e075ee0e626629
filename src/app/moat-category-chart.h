/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gtk/gtk.h>

G_BEGIN_DECLS

#define MOAT_TYPE_CATEGORY_CHART (moat_category_chart_get_type ())
G_DECLARE_FINAL_TYPE (MoatCategoryChart, moat_category_chart, MOAT, CATEGORY_CHART, GtkWidget)

GtkWidget *moat_category_chart_new        (void);
void       moat_category_chart_set_counts (MoatCategoryChart *self,
                                           GHashTable        *counts);
guint64    moat_category_chart_get_total  (MoatCategoryChart *self);

G_END_DECLS
