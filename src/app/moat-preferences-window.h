/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

#define MOAT_TYPE_PREFERENCES_WINDOW (moat_preferences_window_get_type ())
G_DECLARE_FINAL_TYPE (MoatPreferencesWindow, moat_preferences_window, MOAT, PREFERENCES_WINDOW,
                      AdwPreferencesWindow)

GtkWidget *moat_preferences_window_new (GtkWindow *parent);

G_END_DECLS
