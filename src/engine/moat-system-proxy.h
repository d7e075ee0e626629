/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

#define MOAT_SYSTEM_PROXY_SCHEMA "org.gnome.system.proxy"
#define MOAT_SYSTEM_PROXY_STATE_FILENAME "system-proxy-saved.gvariant"

/*
 * MoatSystemProxy: "Protect this computer". Points the desktop's proxy
 * settings (org.gnome.system.proxy) at Moat's PAC file and puts them back
 * exactly as they were.
 *
 * Enabling saves the keys it changes (mode, autoconfig-url) to
 * MOAT_SYSTEM_PROXY_STATE_FILENAME in the data dir first, with whether each
 * was set by the user or at its default, then sets mode 'auto' and the PAC
 * URL. Disabling restores them (g_settings_reset() for keys that were at their
 * default) and deletes the file. After a crash, recovering restores from the
 * file. Restoring only happens while the settings still point at Moat: if the
 * user changed them meanwhile, the user's choice stays and the file goes.
 *
 * Requests run one after another in the order they were made; file I/O runs
 * in a worker thread. Dropping the object does not restore anything (that is
 * what the state file is for): call disable on a clean exit.
 *
 * Properties: "enabled" (boolean, read-only, notify): the settings point at
 * Moat because of this object. It turns FALSE by itself when someone else
 * changes mode or autoconfig-url. "pac-url" (string, read-only).
 */

#define MOAT_TYPE_SYSTEM_PROXY (moat_system_proxy_get_type ())
G_DECLARE_FINAL_TYPE (MoatSystemProxy, moat_system_proxy, MOAT, SYSTEM_PROXY, GObject)

/* @settings: (nullable): org.gnome.system.proxy settings to use (tests pass
 *   their own backend); NULL for the desktop's. Without the schema installed,
 *   every request fails with MOAT_ERROR_NOT_SUPPORTED. */
MoatSystemProxy *moat_system_proxy_new             (const char          *data_dir,
                                                    GSettings           *settings);

gboolean         moat_system_proxy_get_enabled     (MoatSystemProxy     *self);
const char      *moat_system_proxy_get_pac_url     (MoatSystemProxy     *self);
/* The settings used, or NULL when the schema is not installed. */
GSettings       *moat_system_proxy_get_settings    (MoatSystemProxy     *self);

/* @pac_url: an http:// URL, e.g. "http://127.0.0.1:PORT/proxy.pac". Enabling
 * again with another URL only changes the URL; what was saved stays. Fails
 * with MOAT_ERROR_PERMISSION_DENIED when the keys are locked, and with the
 * G_FILE_ERROR of the state file when it cannot be written (nothing changed
 * then). */
void             moat_system_proxy_enable_async    (MoatSystemProxy     *self,
                                                    const char          *pac_url,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
gboolean         moat_system_proxy_enable_finish   (MoatSystemProxy     *self,
                                                    GAsyncResult        *result,
                                                    GError             **error);
/* Does nothing (successfully) when not enabled. On a clean exit, call
 * g_settings_sync() once it has completed, so the restored values reach
 * dconf before the process ends. */
void             moat_system_proxy_disable_async   (MoatSystemProxy     *self,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
gboolean         moat_system_proxy_disable_finish  (MoatSystemProxy     *self,
                                                    GAsyncResult        *result,
                                                    GError             **error);
/* At start: if a state file was left behind, restores from it when the
 * settings still point at the PAC URL it names, and deletes it either way.
 * @restored: (out) (optional): whether settings were restored. A state file
 * that cannot be parsed is deleted (with a warning) and not an error. */
void             moat_system_proxy_recover_async   (MoatSystemProxy     *self,
                                                    GCancellable        *cancellable,
                                                    GAsyncReadyCallback  callback,
                                                    gpointer             user_data);
gboolean         moat_system_proxy_recover_finish  (MoatSystemProxy     *self,
                                                    GAsyncResult        *result,
                                                    gboolean            *restored,
                                                    GError             **error);

G_END_DECLS
