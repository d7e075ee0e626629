/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-event.h"

G_BEGIN_DECLS

#define MOAT_DEVICE_MANAGER_STATE_FILENAME "device-routing.json"

/**
 * MoatDeviceInfo:
 *
 * One phone as GetDevices describes it (see the D-Bus API for each field).
 */
typedef struct {
  char     *serial;
  char     *platform;
  char     *model;
  char     *os;
  char     *connection;
  char     *state;
  char     *risk;
  char     *message;
  gboolean  routing;
  gint64    checked;
} MoatDeviceInfo;

void moat_device_info_free (MoatDeviceInfo *info);

/**
 * MoatDeviceFinding:
 *
 * One check of a phone as GetDevicePosture describes it.
 */
typedef struct {
  char  *check;
  char  *result;
  char  *threat;
  char  *severity;
  char  *summary;
  char  *why;
  char  *fix;
  char  *screen;
  GStrv  packages;
  char  *evidence;
  char  *command;
} MoatDeviceFinding;

void moat_device_finding_free (MoatDeviceFinding *finding);

#define MOAT_TYPE_DEVICE_MANAGER (moat_device_manager_get_type ())
G_DECLARE_FINAL_TYPE (MoatDeviceManager, moat_device_manager, MOAT, DEVICE_MANAGER, GObject)

/*
 * MoatDeviceManager: the phones. Follows the adb server once started (the
 * first GetDevices, or at once when a phone's routing must be undone),
 * checks each phone's posture when it comes online and on demand, records
 * its threats as device events, and routes a phone's web traffic through
 * the proxy on request, undoing it exactly (MOAT_DEVICE_MANAGER_STATE_FILENAME
 * records what to put back before anything on the phone changes).
 *
 * Signals:
 *   ::changed: a phone came, went, changed state or was checked.
 *   ::record (MoatEvent): an event to record.
 *   ::indicators-changed (path): imported indicators changed; @path is the
 *     file of their domains, one per line, for the proxy's c2 category.
 */
MoatDeviceManager *moat_device_manager_new          (const char          *data_dir,
                                                     guint16              adb_port);
void               moat_device_manager_start        (MoatDeviceManager   *self);
void               moat_device_manager_shutdown     (MoatDeviceManager   *self);
void               moat_device_manager_set_proxy_address (MoatDeviceManager *self,
                                                          const char        *address);
/* How long the first GetDevices waits for the adb server's list. */
#define MOAT_DEVICE_MANAGER_LIST_WAIT_MS 5000
void               moat_device_manager_wait_listed_async  (MoatDeviceManager   *self,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
gboolean           moat_device_manager_wait_listed_finish (MoatDeviceManager   *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);
GPtrArray         *moat_device_manager_get_devices  (MoatDeviceManager   *self);
GPtrArray         *moat_device_manager_get_posture  (MoatDeviceManager   *self,
                                                     const char          *serial,
                                                     GError             **error);

void               moat_device_manager_check_async  (MoatDeviceManager   *self,
                                                     const char          *serial,
                                                     GCancellable        *cancellable,
                                                     GAsyncReadyCallback  callback,
                                                     gpointer             user_data);
gboolean           moat_device_manager_check_finish (MoatDeviceManager   *self,
                                                     GAsyncResult        *result,
                                                     GError             **error);

void               moat_device_manager_connect_async  (MoatDeviceManager   *self,
                                                       const char          *address,
                                                       GCancellable        *cancellable,
                                                       GAsyncReadyCallback  callback,
                                                       gpointer             user_data);
char              *moat_device_manager_connect_finish (MoatDeviceManager   *self,
                                                       GAsyncResult        *result,
                                                       GError             **error);

void               moat_device_manager_set_routing_async  (MoatDeviceManager   *self,
                                                           const char          *serial,
                                                           gboolean             enabled,
                                                           GCancellable        *cancellable,
                                                           GAsyncReadyCallback  callback,
                                                           gpointer             user_data);
gboolean           moat_device_manager_set_routing_finish (MoatDeviceManager   *self,
                                                           GAsyncResult        *result,
                                                           GError             **error);

void               moat_device_manager_action_async  (MoatDeviceManager   *self,
                                                      const char          *serial,
                                                      const char          *action,
                                                      const char          *target,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
char              *moat_device_manager_action_finish (MoatDeviceManager   *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);

void               moat_device_manager_import_async  (MoatDeviceManager   *self,
                                                      GBytes              *bytes,
                                                      const char          *name,
                                                      GCancellable        *cancellable,
                                                      GAsyncReadyCallback  callback,
                                                      gpointer             user_data);
GVariant          *moat_device_manager_import_finish (MoatDeviceManager   *self,
                                                      GAsyncResult        *result,
                                                      GError             **error);
GPtrArray         *moat_device_manager_get_indicators (MoatDeviceManager  *self);
gint64             moat_device_manager_get_indicators_time (MoatDeviceManager *self,
                                                            const char        *name);
const char        *moat_device_manager_get_domains_file (MoatDeviceManager *self);

/* For tests and orderly shutdown: nothing is being checked, routed or saved. */
gboolean           moat_device_manager_is_idle      (MoatDeviceManager   *self);

G_END_DECLS
