/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <adwaita.h>

G_BEGIN_DECLS

/* The bus name and object path of the GUI's own action group: moatd owns
 * APP_ID itself, so the GUI keeps one instance through this name instead. */
#define MOAT_APP_BUS_NAME APP_ID ".App"
#define MOAT_APP_OBJECT_PATH "/io/github/moatproject/Moat/App"

#define MOAT_TYPE_APPLICATION (moat_application_get_type ())
G_DECLARE_FINAL_TYPE (MoatApplication, moat_application, MOAT, APPLICATION, AdwApplication)

MoatApplication *moat_application_new (void);

G_END_DECLS
