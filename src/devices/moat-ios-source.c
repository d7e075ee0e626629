/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-devices"

#include "config.h"

#include "moat-ios-source.h"

G_DEFINE_INTERFACE (MoatIosSource, moat_ios_source, G_TYPE_OBJECT)

static const struct {
  const char *file;
  const char *command;
} queries[] = {
  [MOAT_IOS_QUERY_LOCKDOWN] = { "lockdown.plist", "lockdownd GetValue" },
  [MOAT_IOS_QUERY_DEVELOPER_MODE] = { "amfi.plist",
                                      "lockdownd GetValue com.apple.security.mac.amfi" },
  [MOAT_IOS_QUERY_APPS] = { "apps.plist", "installation_proxy Browse" },
  [MOAT_IOS_QUERY_PROFILES] = { "profiles.plist", "MCInstall GetProfileList" },
  [MOAT_IOS_QUERY_CLOUD_CONFIGURATION] = { "cloud-configuration.plist",
                                           "MCInstall GetCloudConfiguration" },
};
G_STATIC_ASSERT (G_N_ELEMENTS (queries) == MOAT_IOS_QUERY_LAST);

const char *
moat_ios_connection_to_string (MoatIosConnection connection)
{
  return connection == MOAT_IOS_CONNECTION_NETWORK ? "network" : "usb";
}

void
moat_ios_device_free (MoatIosDevice *device)
{
  if (device == NULL)
    return;
  g_free (device->udid);
  g_free (device);
}

/* The file a recorded answer is kept in (tests/fixtures/ios/<profile>/). */
const char *
moat_ios_query_get_file (MoatIosQuery query)
{
  g_return_val_if_fail (query < MOAT_IOS_QUERY_LAST, NULL);
  return queries[query].file;
}

/* The service call, as findings name it in their command. */
const char *
moat_ios_query_get_command (MoatIosQuery query)
{
  g_return_val_if_fail (query < MOAT_IOS_QUERY_LAST, NULL);
  return queries[query].command;
}

static void
moat_ios_source_default_init (MoatIosSourceInterface *iface)
{
}

/**
 * moat_ios_source_list_devices_sync:
 *
 * Blocking: call from a worker thread.
 *
 * Returns: (transfer container) (element-type MoatIosDevice): the iPhones
 */
GPtrArray *
moat_ios_source_list_devices_sync (MoatIosSource  *self,
                                   GCancellable   *cancellable,
                                   GError        **error)
{
  g_return_val_if_fail (MOAT_IS_IOS_SOURCE (self), NULL);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  return MOAT_IOS_SOURCE_GET_IFACE (self)->list_devices (self, cancellable, error);
}

/**
 * moat_ios_source_query_sync:
 *
 * Blocking: call from a worker thread.
 *
 * Returns: (transfer full): the answer as XML plist bytes
 */
GBytes *
moat_ios_source_query_sync (MoatIosSource  *self,
                            const char     *udid,
                            MoatIosQuery    query,
                            GCancellable   *cancellable,
                            GError        **error)
{
  g_return_val_if_fail (MOAT_IS_IOS_SOURCE (self), NULL);
  g_return_val_if_fail (udid != NULL, NULL);
  g_return_val_if_fail (query < MOAT_IOS_QUERY_LAST, NULL);

  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  return MOAT_IOS_SOURCE_GET_IFACE (self)->query (self, udid, query, cancellable, error);
}

static void
list_devices_thread (GTask        *task,
                     gpointer      source_object,
                     gpointer      task_data,
                     GCancellable *cancellable)
{
  GError *error = NULL;
  GPtrArray *devices = moat_ios_source_list_devices_sync (source_object, cancellable, &error);

  if (devices == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, devices, (GDestroyNotify) g_ptr_array_unref);
}

void
moat_ios_source_list_devices_async (MoatIosSource       *self,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (MOAT_IS_IOS_SOURCE (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_ios_source_list_devices_async);
  g_task_run_in_thread (task, list_devices_thread);
}

/**
 * moat_ios_source_list_devices_finish:
 *
 * Returns: (transfer container) (element-type MoatIosDevice): the iPhones
 */
GPtrArray *
moat_ios_source_list_devices_finish (MoatIosSource  *self,
                                     GAsyncResult   *result,
                                     GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        moat_ios_source_list_devices_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
