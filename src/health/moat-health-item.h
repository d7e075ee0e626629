/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include <json-glib/json-glib.h>

#include "moat-enums.h"

G_BEGIN_DECLS

/**
 * MoatHealthStatus:
 * @MOAT_HEALTH_OK: healthy
 * @MOAT_HEALTH_PROBLEM: a problem: see the item's steps
 * @MOAT_HEALTH_UNKNOWN: the check could not tell (the item's summary says
 *   why); never counted as healthy
 */
typedef enum {
  MOAT_HEALTH_OK,
  MOAT_HEALTH_PROBLEM,
  MOAT_HEALTH_UNKNOWN,
} MoatHealthStatus;

const char *moat_health_status_to_string   (MoatHealthStatus  status);
gboolean    moat_health_status_from_string (const char       *str,
                                            MoatHealthStatus *out);

/**
 * MoatHealthItem:
 * @id: the check, "area.name": "moat.proxy_in_effect",
 *   "computer.disk_encryption", "phone.os_outdated_patch"
 * @area: "moat" (Moat's own protections), "computer" or "phone"
 * @subject: what it is about: "" for this computer, a phone's serial
 * @status: ok, problem or unknown
 * @severity: how bad the problem is (info when ok)
 * @title: the check's name for people ("Disk encryption")
 * @summary: what was found, one sentence
 * @why: why it matters
 * @impact: what can happen if it is ignored
 * @steps: (array zero-terminated=1): the fix, one step each, for a person
 *   to follow; empty when ok
 * @auto_fix: Moat can fix it itself (safely, and undoably)
 * @screen: (nullable): for a phone, the settings screen that fixes it
 * @evidence: a JSON object: what the check read
 * @checked: when the check ran (µs since the Unix epoch)
 *
 * One health check's result. Every check produces exactly one item per
 * subject, healthy or not, so a report lists what was checked.
 */
typedef struct {
  char             *id;
  char             *area;
  char             *subject;
  MoatHealthStatus  status;
  MoatSeverity      severity;
  char             *title;
  char             *summary;
  char             *why;
  char             *impact;
  GStrv             steps;
  gboolean          auto_fix;
  char             *screen;
  char             *evidence;
  gint64            checked;
} MoatHealthItem;

MoatHealthItem *moat_health_item_new   (const char       *id,
                                        const char       *area,
                                        const char       *subject,
                                        MoatHealthStatus  status,
                                        MoatSeverity      severity);
MoatHealthItem *moat_health_item_copy  (const MoatHealthItem *item);
void            moat_health_item_free  (MoatHealthItem   *item);
/* Sets the evidence from a builder holding one object. */
void            moat_health_item_set_evidence (MoatHealthItem *item,
                                               JsonBuilder    *builder);
GVariant       *moat_health_item_to_variant   (const MoatHealthItem *item);
MoatHealthItem *moat_health_item_new_from_variant (GVariant  *variant,
                                                   GError   **error);

/* The D-Bus type of one item, see GetHealth. */
#define MOAT_HEALTH_ITEM_VARIANT_TYPE "(ssssssssssasbsx)"

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatHealthItem, moat_health_item_free)

G_END_DECLS
