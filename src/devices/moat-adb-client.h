/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * MoatAdbClient: talks to the adb server over its socket, never by running
 * `adb` per command. When nothing listens on the server's port, the real
 * adb binary is started once (`adb -P PORT start-server`) and the request
 * tried again. All of it is async on the caller's main context; every
 * request has a timeout.
 *
 * The port is ANDROID_ADB_SERVER_PORT when set (as adb itself honours it),
 * else 5037, unless given.
 *
 * Signals:
 *   ::devices-changed (GPtrArray *devices): while tracking, the device list
 *     (MoatAdbDevice) each time the server reports a change; an empty list
 *     when the server went away (tracking goes on and reconnects).
 */

#define MOAT_ADB_DEFAULT_TIMEOUT_MS 10000
#define MOAT_ADB_DEFAULT_MAX_OUTPUT (4 * 1024 * 1024)

/**
 * MoatAdbShellResult:
 * @exit_code: the command's exit code
 * @out: what it wrote to stdout
 * @err: what it wrote to stderr
 */
typedef struct {
  int     exit_code;
  GBytes *out;
  GBytes *err;
} MoatAdbShellResult;

void moat_adb_shell_result_free (MoatAdbShellResult *result);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatAdbShellResult, moat_adb_shell_result_free)

#define MOAT_TYPE_ADB_CLIENT (moat_adb_client_get_type ())
G_DECLARE_FINAL_TYPE (MoatAdbClient, moat_adb_client, MOAT, ADB_CLIENT, GObject)

MoatAdbClient *moat_adb_client_new          (guint16              port,
                                             const char          *adb_path);
guint16        moat_adb_client_get_port     (MoatAdbClient       *self);

void           moat_adb_client_query_async  (MoatAdbClient       *self,
                                             const char          *service,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
GBytes        *moat_adb_client_query_finish (MoatAdbClient       *self,
                                             GAsyncResult        *result,
                                             GError             **error);

void           moat_adb_client_shell_async  (MoatAdbClient       *self,
                                             const char          *serial,
                                             const char          *command,
                                             guint                timeout_ms,
                                             GCancellable        *cancellable,
                                             GAsyncReadyCallback  callback,
                                             gpointer             user_data);
MoatAdbShellResult *moat_adb_client_shell_finish (MoatAdbClient  *self,
                                                  GAsyncResult   *result,
                                                  GError        **error);

void           moat_adb_client_device_service_async  (MoatAdbClient       *self,
                                                      const char          *serial,
                                                      const char          *service,
                                                      guint                timeout_ms,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
GBytes        *moat_adb_client_device_service_finish (MoatAdbClient       *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);

void           moat_adb_client_start_tracking (MoatAdbClient     *self);
void           moat_adb_client_stop_tracking  (MoatAdbClient     *self);

G_END_DECLS
