/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/**
 * MoatIosConnection:
 * @MOAT_IOS_CONNECTION_USB: through usbmuxd over USB
 * @MOAT_IOS_CONNECTION_NETWORK: through usbmuxd over Wi-Fi (a paired iPhone
 *   with Wi-Fi sync on)
 */
typedef enum {
  MOAT_IOS_CONNECTION_USB,
  MOAT_IOS_CONNECTION_NETWORK,
} MoatIosConnection;

const char *moat_ios_connection_to_string (MoatIosConnection connection);

/**
 * MoatIosDevice:
 * @udid: the iPhone's UDID
 * @connection: how usbmuxd reaches it
 */
typedef struct {
  char              *udid;
  MoatIosConnection  connection;
} MoatIosDevice;

void moat_ios_device_free (MoatIosDevice *device);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatIosDevice, moat_ios_device_free)

/**
 * MoatIosQuery:
 * @MOAT_IOS_QUERY_LOCKDOWN: lockdownd GetValue with no domain and no key:
 *   the whole dictionary of device values (a dict; without pairing only
 *   the few public ones, such as ProductType and ProductVersion)
 * @MOAT_IOS_QUERY_DEVELOPER_MODE: lockdownd GetValue in the domain
 *   com.apple.security.mac.amfi (a dict with DeveloperModeStatus, iOS 16+)
 * @MOAT_IOS_QUERY_APPS: installation_proxy Browse, ApplicationType Any,
 *   with the attributes of MOAT_IOS_APP_ATTRIBUTES (an array of dicts)
 * @MOAT_IOS_QUERY_PROFILES: com.apple.mobile.MCInstall GetProfileList (a
 *   dict: OrderedIdentifiers, ProfileManifest, ProfileMetadata, Status)
 * @MOAT_IOS_QUERY_CLOUD_CONFIGURATION: com.apple.mobile.MCInstall
 *   GetCloudConfiguration (a dict: CloudConfiguration with IsSupervised...,
 *   Status)
 *
 * What Moat asks an iPhone. Every answer is the service's reply as an XML
 * plist, exactly as `ideviceinfo -x` or `plistutil` would print it; the
 * fixture source keeps them in files named by moat_ios_query_get_file().
 */
typedef enum {
  MOAT_IOS_QUERY_LOCKDOWN,
  MOAT_IOS_QUERY_DEVELOPER_MODE,
  MOAT_IOS_QUERY_APPS,
  MOAT_IOS_QUERY_PROFILES,
  MOAT_IOS_QUERY_CLOUD_CONFIGURATION,
  MOAT_IOS_QUERY_LAST /*< skip >*/
} MoatIosQuery;

/* The attributes installation_proxy Browse is asked for. */
#define MOAT_IOS_APP_ATTRIBUTES "CFBundleIdentifier", "CFBundleDisplayName", \
  "CFBundleShortVersionString", "ApplicationType", "SignerIdentity", "Path"

const char *moat_ios_query_get_file    (MoatIosQuery query);
const char *moat_ios_query_get_command (MoatIosQuery query);

#define MOAT_TYPE_IOS_SOURCE (moat_ios_source_get_type ())
G_DECLARE_INTERFACE (MoatIosSource, moat_ios_source, MOAT, IOS_SOURCE, GObject)

/**
 * MoatIosSourceInterface:
 * @list_devices: the iPhones usbmuxd sees, as #MoatIosDevice; blocking
 * @query: one service's answer as XML plist bytes; blocking. A phone that
 *   has not paired with this computer, a service that does not exist on
 *   its iOS, a locked phone: each is a GError with a message for the user.
 *
 * The seam between Moat and an iPhone: the real one speaks to usbmuxd
 * through libimobiledevice, the fixture one reads recorded answers. Both
 * are called from a worker thread (the _async functions below), never on a
 * main loop, and must be safe to call from any thread.
 */
struct _MoatIosSourceInterface
{
  GTypeInterface parent_iface;

  GPtrArray *(*list_devices) (MoatIosSource  *self,
                              GCancellable   *cancellable,
                              GError        **error);
  GBytes    *(*query)        (MoatIosSource  *self,
                              const char     *udid,
                              MoatIosQuery    query,
                              GCancellable   *cancellable,
                              GError        **error);
};

GPtrArray *moat_ios_source_list_devices_sync   (MoatIosSource        *self,
                                                GCancellable         *cancellable,
                                                GError              **error);
GBytes    *moat_ios_source_query_sync          (MoatIosSource        *self,
                                                const char           *udid,
                                                MoatIosQuery          query,
                                                GCancellable         *cancellable,
                                                GError              **error);

void       moat_ios_source_list_devices_async  (MoatIosSource        *self,
                                                GCancellable         *cancellable,
                                                GAsyncReadyCallback   callback,
                                                gpointer              user_data);
GPtrArray *moat_ios_source_list_devices_finish (MoatIosSource        *self,
                                                GAsyncResult         *result,
                                                GError              **error);

G_END_DECLS
