/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <adwaita.h>

#include "moat-client.h"

G_BEGIN_DECLS

#define MOAT_TYPE_WINDOW (moat_window_get_type ())
G_DECLARE_FINAL_TYPE (MoatWindow, moat_window, MOAT, WINDOW, AdwApplicationWindow)

MoatWindow *moat_window_new           (GtkApplication *application);
void        moat_window_set_client    (MoatWindow     *self,
                                       MoatClient     *client);
void        moat_window_set_client_error (MoatWindow  *self,
                                          const GError *error);
void        moat_window_show_activity (MoatWindow     *self);
void        moat_window_show_overview (MoatWindow     *self);

G_END_DECLS
