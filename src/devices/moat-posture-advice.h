/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * MoatPostureAdvice:
 * @why: why the finding matters, one or two translated sentences
 * @fix: how to fix it on the phone: translated steps, one per line
 * @screen: the settings screen that fixes it ("security", "developer",
 *   "apps", "vpn", "wifi", "accessibility", "lock", or "" for none)
 *
 * What Moat tells the user about a phone's finding.
 */
typedef struct {
  const char *why;
  const char *fix;
  const char *screen;
} MoatPostureAdvice;

/* @platform: "android" or "ios". Returns FALSE (and empty strings) for a
 * threat Moat has no advice for. */
gboolean    moat_posture_advice_lookup       (const char        *platform,
                                              const char        *threat,
                                              MoatPostureAdvice *advice);

/* The intent action that opens @screen on an Android phone, or %NULL. */
const char *moat_android_settings_action     (const char        *screen);

G_END_DECLS
