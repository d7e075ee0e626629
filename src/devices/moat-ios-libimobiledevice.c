/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-devices"

#include "config.h"

#include "moat-ios-libimobiledevice.h"

#include <glib/gi18n.h>
#include <libimobiledevice/installation_proxy.h>
#include <libimobiledevice/libimobiledevice.h>
#include <libimobiledevice/lockdown.h>
#include <libimobiledevice/property_list_service.h>
#include <plist/plist.h>
#include <string.h>

#define LABEL "moat"
#define MCINSTALL_SERVICE "com.apple.mobile.MCInstall"
#define AMFI_DOMAIN "com.apple.security.mac.amfi"
#define MCINSTALL_TIMEOUT_MS 10000

struct _MoatIosLibimobiledevice
{
  GObject parent_instance;
};

static void moat_ios_libimobiledevice_source_init (MoatIosSourceInterface *iface);

G_DEFINE_FINAL_TYPE_WITH_CODE (MoatIosLibimobiledevice, moat_ios_libimobiledevice,
                               G_TYPE_OBJECT,
                               G_IMPLEMENT_INTERFACE (MOAT_TYPE_IOS_SOURCE,
                                                      moat_ios_libimobiledevice_source_init))

static void
clear_device (idevice_t *device)
{
  if (*device != NULL)
    idevice_free (*device);
}

static void
clear_lockdown (lockdownd_client_t *client)
{
  if (*client != NULL)
    lockdownd_client_free (*client);
}

static void
clear_service (lockdownd_service_descriptor_t *service)
{
  if (*service != NULL)
    lockdownd_service_descriptor_free (*service);
}

static void
clear_instproxy (instproxy_client_t *client)
{
  if (*client != NULL)
    instproxy_client_free (*client);
}

static void
clear_plist_service (property_list_service_client_t *client)
{
  if (*client != NULL)
    property_list_service_client_free (*client);
}

static void
clear_plist (plist_t *plist)
{
  if (*plist != NULL)
    plist_free (*plist);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (idevice_t, clear_device)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (lockdownd_client_t, clear_lockdown)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (lockdownd_service_descriptor_t, clear_service)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (instproxy_client_t, clear_instproxy)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (property_list_service_client_t, clear_plist_service)
G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (plist_t, clear_plist)

static void
set_usbmuxd_error (GError **error)
{
  g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED,
                       _("usbmuxd is not running: Moat reaches iPhones through it. Install the "
                         "usbmuxd package; it starts when an iPhone is plugged in."));
}

static void
set_lockdown_error (GError          **error,
                    lockdownd_error_t code,
                    const char       *what)
{
  switch (code)
    {
    case LOCKDOWN_E_PASSWORD_PROTECTED:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   _("The iPhone is locked: unlock it and tap Trust to let this computer read "
                     "it (%s)."), what);
      return;
    case LOCKDOWN_E_PAIRING_DIALOG_RESPONSE_PENDING:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   _("The iPhone asks whether to trust this computer: tap Trust, then try again "
                     "(%s)."), what);
      return;
    case LOCKDOWN_E_USER_DENIED_PAIRING:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   _("The iPhone's user chose not to trust this computer (%s). Unplug and "
                     "replug it to be asked again."), what);
      return;
    case LOCKDOWN_E_INVALID_HOST_ID:
    case LOCKDOWN_E_INVALID_PAIR_RECORD:
    case LOCKDOWN_E_MISSING_PAIR_RECORD:
    case LOCKDOWN_E_PAIRING_FAILED:
    case LOCKDOWN_E_SSL_ERROR:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED,
                   _("The iPhone does not trust this computer any more (%s): unlock it and tap "
                     "Trust when it asks."), what);
      return;
    case LOCKDOWN_E_INVALID_SERVICE:
    case LOCKDOWN_E_MISSING_SERVICE:
    case LOCKDOWN_E_MISSING_KEY:
    case LOCKDOWN_E_MISSING_VALUE:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                   _("This iPhone's iOS does not offer %s."), what);
      return;
    case LOCKDOWN_E_RECEIVE_TIMEOUT:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, _("The iPhone did not answer (%s)."),
                   what);
      return;
    case LOCKDOWN_E_MUX_ERROR:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED,
                   _("The connection to the iPhone broke (%s)."), what);
      return;
    default:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("lockdownd refused %s (error %d)."),
                   what, (int) code);
      return;
    }
}

static GPtrArray *
moat_ios_libimobiledevice_list_devices (MoatIosSource  *source,
                                        GCancellable   *cancellable,
                                        GError        **error)
{
  g_autoptr(GPtrArray) devices =
    g_ptr_array_new_with_free_func ((GDestroyNotify) moat_ios_device_free);
  idevice_info_t *list = NULL;
  int count = 0;
  idevice_error_t code;

  code = idevice_get_device_list_extended (&list, &count);
  /* libimobiledevice 1.3 says NO_DEVICE when it cannot reach usbmuxd; an
   * empty list is a success. */
  if (code == IDEVICE_E_NO_DEVICE)
    {
      set_usbmuxd_error (error);
      return NULL;
    }
  if (code != IDEVICE_E_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("usbmuxd did not list the iPhones "
                                                           "(error %d)."), (int) code);
      return NULL;
    }
  for (int i = 0; i < count && list[i] != NULL; i++)
    {
      MoatIosConnection connection = list[i]->conn_type == CONNECTION_NETWORK
                                     ? MOAT_IOS_CONNECTION_NETWORK : MOAT_IOS_CONNECTION_USB;
      MoatIosDevice *known = NULL;

      if (list[i]->udid == NULL || list[i]->udid[0] == '\0' ||
          !g_utf8_validate (list[i]->udid, -1, NULL))
        continue;
      for (guint j = 0; j < devices->len && known == NULL; j++)
        if (g_str_equal (((MoatIosDevice *) g_ptr_array_index (devices, j))->udid,
                         list[i]->udid))
          known = g_ptr_array_index (devices, j);
      if (known != NULL)
        {
          if (connection == MOAT_IOS_CONNECTION_USB)
            known->connection = connection;
          continue;
        }
      known = g_new0 (MoatIosDevice, 1);
      known->udid = g_strdup (list[i]->udid);
      known->connection = connection;
      g_ptr_array_add (devices, known);
    }
  idevice_device_list_extended_free (list);
  return g_steal_pointer (&devices);
}

static GBytes *
to_xml (plist_t plist)
{
  char *xml = NULL;
  uint32_t len = 0;
  GBytes *bytes;

  plist_to_xml (plist, &xml, &len);
  bytes = g_bytes_new (xml, len);
  plist_to_xml_free (xml);
  return bytes;
}

/* idevice_new says NO_DEVICE both for an unknown UDID and for no usbmuxd. */
static gboolean
usbmuxd_reachable (void)
{
  idevice_info_t *list = NULL;
  int count = 0;

  if (idevice_get_device_list_extended (&list, &count) != IDEVICE_E_SUCCESS)
    return FALSE;
  idevice_device_list_extended_free (list);
  return TRUE;
}

static gboolean
open_device (const char  *udid,
             idevice_t   *out_device,
             GError     **error)
{
  idevice_error_t code = idevice_new_with_options (out_device, udid,
                                                   IDEVICE_LOOKUP_USBMUX |
                                                   IDEVICE_LOOKUP_NETWORK);

  if (code == IDEVICE_E_SUCCESS)
    return TRUE;
  if (code == IDEVICE_E_NO_DEVICE && !usbmuxd_reachable ())
    set_usbmuxd_error (error);
  else if (code == IDEVICE_E_NO_DEVICE)
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND, _("The iPhone %s is not connected."),
                 udid);
  else
    g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, _("usbmuxd could not reach the iPhone %s "
                                                         "(error %d)."), udid, (int) code);
  return FALSE;
}

/* lockdownd GetValue with no domain and no key: all values after pairing,
 * the public few if the phone does not trust this computer yet. */
static GBytes *
query_lockdown (idevice_t    device,
                const char  *domain,
                GError     **error)
{
  g_auto(lockdownd_client_t) client = NULL;
  g_auto(plist_t) value = NULL;
  lockdownd_error_t code;

  code = lockdownd_client_new_with_handshake (device, &client, LABEL);
  if (code != LOCKDOWN_E_SUCCESS && domain == NULL)
    {
      g_info ("lockdownd handshake failed (%d): reading the public values only", (int) code);
      code = lockdownd_client_new (device, &client, LABEL);
    }
  if (code != LOCKDOWN_E_SUCCESS)
    {
      set_lockdown_error (error, code, "lockdownd");
      return NULL;
    }
  code = lockdownd_get_value (client, domain, NULL, &value);
  if (code != LOCKDOWN_E_SUCCESS || value == NULL)
    {
      set_lockdown_error (error, code, domain != NULL ? domain : "GetValue");
      return NULL;
    }
  return to_xml (value);
}

static GBytes *
query_apps (idevice_t    device,
            GError     **error)
{
  g_auto(lockdownd_client_t) client = NULL;
  g_auto(lockdownd_service_descriptor_t) service = NULL;
  g_auto(instproxy_client_t) proxy = NULL;
  g_auto(plist_t) options = NULL;
  g_auto(plist_t) result = NULL;
  lockdownd_error_t code;
  instproxy_error_t ip_code;

  code = lockdownd_client_new_with_handshake (device, &client, LABEL);
  if (code == LOCKDOWN_E_SUCCESS)
    code = lockdownd_start_service (client, INSTPROXY_SERVICE_NAME, &service);
  if (code != LOCKDOWN_E_SUCCESS)
    {
      set_lockdown_error (error, code, "installation_proxy");
      return NULL;
    }
  ip_code = instproxy_client_new (device, service, &proxy);
  if (ip_code != INSTPROXY_E_SUCCESS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED,
                   _("installation_proxy did not start (error %d)."), (int) ip_code);
      return NULL;
    }
  options = instproxy_client_options_new ();
  instproxy_client_options_add (options, "ApplicationType", "Any", NULL);
  instproxy_client_options_set_return_attributes (options, MOAT_IOS_APP_ATTRIBUTES, NULL);
  ip_code = instproxy_browse (proxy, options, &result);
  if (ip_code != INSTPROXY_E_SUCCESS || result == NULL)
    {
      g_set_error (error, G_IO_ERROR,
                   ip_code == INSTPROXY_E_RECEIVE_TIMEOUT ? G_IO_ERROR_TIMED_OUT
                                                          : G_IO_ERROR_FAILED,
                   _("installation_proxy did not list the apps (error %d)."), (int) ip_code);
      return NULL;
    }
  return to_xml (result);
}

/* com.apple.mobile.MCInstall: not wrapped by libimobiledevice 1.3, but a
 * plain property list service, so spoken to through that API. */
static GBytes *
query_mcinstall (idevice_t    device,
                 const char  *request,
                 GError     **error)
{
  g_auto(lockdownd_client_t) client = NULL;
  g_auto(lockdownd_service_descriptor_t) service = NULL;
  g_auto(property_list_service_client_t) mc = NULL;
  g_auto(plist_t) message = NULL;
  g_auto(plist_t) reply = NULL;
  property_list_service_error_t pl_code;
  lockdownd_error_t code;

  code = lockdownd_client_new_with_handshake (device, &client, LABEL);
  if (code == LOCKDOWN_E_SUCCESS)
    code = lockdownd_start_service (client, MCINSTALL_SERVICE, &service);
  if (code != LOCKDOWN_E_SUCCESS)
    {
      set_lockdown_error (error, code, MCINSTALL_SERVICE);
      return NULL;
    }
  pl_code = property_list_service_client_new (device, service, &mc);
  if (pl_code == PROPERTY_LIST_SERVICE_E_SUCCESS)
    {
      message = plist_new_dict ();
      plist_dict_set_item (message, "RequestType", plist_new_string (request));
      pl_code = property_list_service_send_xml_plist (mc, message);
    }
  if (pl_code == PROPERTY_LIST_SERVICE_E_SUCCESS)
    pl_code = property_list_service_receive_plist_with_timeout (mc, &reply, MCINSTALL_TIMEOUT_MS);
  if (pl_code != PROPERTY_LIST_SERVICE_E_SUCCESS || reply == NULL)
    {
      g_set_error (error, G_IO_ERROR,
                   pl_code == PROPERTY_LIST_SERVICE_E_RECEIVE_TIMEOUT ? G_IO_ERROR_TIMED_OUT
                                                                      : G_IO_ERROR_FAILED,
                   _("MCInstall did not answer %s (error %d)."), request, (int) pl_code);
      return NULL;
    }
  return to_xml (reply);
}

static GBytes *
moat_ios_libimobiledevice_query (MoatIosSource  *source,
                                 const char     *udid,
                                 MoatIosQuery    query,
                                 GCancellable   *cancellable,
                                 GError        **error)
{
  g_auto(idevice_t) device = NULL;

  if (!open_device (udid, &device, error))
    return NULL;
  if (g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  switch (query)
    {
    case MOAT_IOS_QUERY_LOCKDOWN:
      return query_lockdown (device, NULL, error);
    case MOAT_IOS_QUERY_DEVELOPER_MODE:
      return query_lockdown (device, AMFI_DOMAIN, error);
    case MOAT_IOS_QUERY_APPS:
      return query_apps (device, error);
    case MOAT_IOS_QUERY_PROFILES:
      return query_mcinstall (device, "GetProfileList", error);
    case MOAT_IOS_QUERY_CLOUD_CONFIGURATION:
      return query_mcinstall (device, "GetCloudConfiguration", error);
    case MOAT_IOS_QUERY_LAST:
    default:
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT, "no such query %d", query);
      return NULL;
    }
}

static void
moat_ios_libimobiledevice_source_init (MoatIosSourceInterface *iface)
{
  iface->list_devices = moat_ios_libimobiledevice_list_devices;
  iface->query = moat_ios_libimobiledevice_query;
}

static void
moat_ios_libimobiledevice_class_init (MoatIosLibimobiledeviceClass *klass)
{
}

static void
moat_ios_libimobiledevice_init (MoatIosLibimobiledevice *self)
{
}

MoatIosLibimobiledevice *
moat_ios_libimobiledevice_new (void)
{
  return g_object_new (MOAT_TYPE_IOS_LIBIMOBILEDEVICE, NULL);
}
