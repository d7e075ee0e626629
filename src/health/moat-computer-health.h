/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-health-item.h"

G_BEGIN_DECLS

/**
 * MoatComputerHealthOptions:
 * @root: (nullable): the file system root every file is read under ("/" when
 *   %NULL); commands (apt-get, apt-check, nft) are run from under it too, so
 *   tests point all of it at a fixture tree
 * @system_bus: (nullable): the system bus for PackageKit, firewalld and
 *   fwupd; %NULL skips those sources
 * @schema_source: (nullable): where the org.gnome.desktop schemas are looked
 *   up (the default source when %NULL)
 * @settings_backend: (nullable): the GSettings backend (the default when %NULL)
 * @now: (nullable): the time ages are measured against (now when %NULL)
 *
 * What the checks of this computer read, and from where.
 */
typedef struct {
  const char            *root;
  GDBusConnection       *system_bus;
  GSettingsSchemaSource *schema_source;
  GSettingsBackend      *settings_backend;
  GDateTime             *now;
} MoatComputerHealthOptions;

/* The ids of the checks, in the order the items come back. */
#define MOAT_COMPUTER_HEALTH_OS_UPDATES      "computer.os_updates"
#define MOAT_COMPUTER_HEALTH_DISK_ENCRYPTION "computer.disk_encryption"
#define MOAT_COMPUTER_HEALTH_SCREEN_LOCK     "computer.screen_lock"
#define MOAT_COMPUTER_HEALTH_FIREWALL        "computer.firewall"
#define MOAT_COMPUTER_HEALTH_SECURE_BOOT     "computer.secure_boot"
#define MOAT_COMPUTER_HEALTH_HSI             "computer.hsi"
#define MOAT_COMPUTER_HEALTH_AUTO_LOGIN      "computer.auto_login"
#define MOAT_COMPUTER_HEALTH_ROOT_CA         "computer.root_ca"
#define MOAT_COMPUTER_HEALTH_SSH_EXPOSED     "computer.ssh_exposed"

/* Each subprocess or D-Bus call of a check gives up after this long. */
#define MOAT_COMPUTER_HEALTH_TIMEOUT_MS 5000

const char *const *moat_computer_health_check_ids (void);

/* Blocking: runs every check in the calling thread (never on a main loop). */
GPtrArray *moat_computer_health_check_sync   (const MoatComputerHealthOptions *options,
                                              GCancellable                    *cancellable);
/* Blocking: one check by id, %NULL for an unknown id. */
MoatHealthItem *moat_computer_health_check_one_sync (const MoatComputerHealthOptions *options,
                                                     const char                      *id,
                                                     GCancellable                    *cancellable);

/* Runs every check in a worker thread; the result is a GPtrArray of
 * MoatHealthItem, one per check, in the order of
 * moat_computer_health_check_ids(). */
void       moat_computer_health_check_async  (const MoatComputerHealthOptions *options,
                                              GCancellable                    *cancellable,
                                              GAsyncReadyCallback              callback,
                                              gpointer                         user_data);
GPtrArray *moat_computer_health_check_finish (GAsyncResult                    *result,
                                              GError                         **error);

/* The screen lock's automatic fix: turns the lock on, the idle delay to 5
 * minutes when it is off or longer than 15, the lock delay to 0 when it is
 * longer than 5 minutes; only the keys that fail are changed. Returns the
 * previous values (a{smv}: "schema key" -> the user's value, or nothing when
 * the default was in effect) to hand to the undo; an empty dictionary when
 * nothing needed changing. Fails with MOAT_ERROR_NOT_SUPPORTED without the
 * GNOME schemas. */
GVariant *moat_computer_health_fix_screen_lock      (GSettingsSchemaSource  *schema_source,
                                                     GSettingsBackend       *settings_backend,
                                                     GError                **error);
/* Restores what the fix changed, key by key, unless the user has changed
 * that key again since. */
gboolean  moat_computer_health_fix_screen_lock_undo (GSettingsSchemaSource  *schema_source,
                                                     GSettingsBackend       *settings_backend,
                                                     GVariant               *previous,
                                                     GError                **error);

G_END_DECLS
