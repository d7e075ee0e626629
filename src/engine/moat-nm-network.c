/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-engine"

#include "config.h"

#include "moat-nm-network.h"

#include "moat-error.h"

#include <glib/gi18n.h>
#include <NetworkManager.h>

/*
 * How it works
 *
 * One NMClient, made with nm_client_new_async on the thread-default main
 * context of the caller of moat_nm_network_new(); everything (libnm's
 * signals, our timeouts, the GTask completions) runs there. When the system
 * bus is missing the client cannot be made: requests then fail with
 * NOT_SUPPORTED and the next request tries again, so a bus that appears
 * later is picked up. When the bus is there but NetworkManager is not,
 * libnm follows its name owner (NMClient:nm-running) by itself.
 *
 * ::vpn-down is emitted for ANY VPN (or WireGuard) connection that was
 * activated and then goes down or vanishes (NetworkManager stopped), unless
 * it goes down because deactivate_vpn() (or our own clean-up of a failed
 * activation) asked for it: the responder compares the name with the VPN it
 * raised. Which active connections we asked to take down is remembered on
 * the NMActiveConnection object itself (each activation is a new object).
 * Note: an OpenVPN connection with ping-restart (rather than ping-exit)
 * stays "activated" in NetworkManager while openvpn silently reconnects, so
 * a dead server is only seen when openvpn gives up.
 *
 * Wi-Fi security, the strongest the access point offers, from NM's flags
 * (RSN and WPA key management flags together):
 *   802.1X or EAP Suite-B-192           -> "wpa-eap"
 *   SAE (WPA3 Personal, also in mixed)  -> "sae"
 *   PSK (WPA/WPA2 Personal)             -> "wpa-psk"
 *   OWE, or OWE transition mode         -> "owe"
 *   no WPA/RSN but the privacy bit      -> "wep"
 *   nothing                             -> "open"
 */

#define DEACTIVATE_WAIT_S 10
#define VPN_REASON_GRACE_MS 250
#define CHANGED_INTERVAL_US G_USEC_PER_SEC

#define ASKED_DOWN_KEY "moat-nm-asked-down"
#define WAS_UP_KEY "moat-nm-was-up"

typedef void (*RunFunc) (GTask *task);

typedef struct {
  GTask   *task;         /* owned */
  RunFunc  run;
  char    *unsupported;  /* owned: the NOT_SUPPORTED message */
} Pending;

struct _MoatNmNetwork
{
  MoatNetwork parent_instance;

  /* owned */
  NMClient     *client;
  GCancellable *cancellable;   /* cancelled in dispose */
  GMainContext *context;
  GQueue        pending;       /* Pending: requests waiting for the client */
  GSource      *changed_source;
  gint64        last_changed;  /* monotonic µs of the last ::changed */
  gboolean      initing;
};

G_DEFINE_FINAL_TYPE (MoatNmNetwork, moat_nm_network, MOAT_TYPE_NETWORK)

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* One activate or deactivate request waiting for an active connection. */
typedef struct {
  char               *name;            /* owned */
  guint               timeout_s;
  gboolean            activating;      /* activate, or deactivate */
  guint               reason;          /* the first reason NM gave for going down */
  NMActiveConnection *ac;              /* owned, once known */
  GSource            *timeout_source;  /* owned; holds a ref on the task */
  GSource            *cancel_source;   /* owned */
  GSource            *grace_source;    /* owned; waiting for the VPN's reason */
  gulong              state_id;
  gulong              vpn_state_id;
  gulong              removed_id;
  gboolean            completed;
} WaitData;

typedef struct {
  char *ssid;   /* owned, nullable */
} WifiData;

static void start_client (MoatNmNetwork *self);

static void
pending_free (Pending *pending)
{
  g_clear_object (&pending->task);
  g_free (pending->unsupported);
  g_free (pending);
}

static void
wait_data_free (WaitData *data)
{
  /* completion has cleared the sources and handlers already */
  g_assert_null (data->timeout_source);
  g_assert_null (data->cancel_source);
  g_assert_null (data->grace_source);
  g_free (data->name);
  g_clear_object (&data->ac);
  g_free (data);
}

static void
wifi_data_free (WifiData *data)
{
  g_free (data->ssid);
  g_free (data);
}

/* ---- helpers: names, types, words ---- */

static gboolean
connection_is_vpn (NMConnection *connection)
{
  return connection != NULL &&
         (nm_connection_is_type (connection, NM_SETTING_VPN_SETTING_NAME) ||
          nm_connection_is_type (connection, NM_SETTING_WIREGUARD_SETTING_NAME));
}

static gboolean
active_is_vpn (NMActiveConnection *ac)
{
  const char *type = nm_active_connection_get_connection_type (ac);

  return nm_active_connection_get_vpn (ac) ||
         g_strcmp0 (type, NM_SETTING_VPN_SETTING_NAME) == 0 ||
         g_strcmp0 (type, NM_SETTING_WIREGUARD_SETTING_NAME) == 0;
}

/* "openvpn" for org.freedesktop.NetworkManager.openvpn, "wireguard", … */
static char *
dup_vpn_type (NMConnection *connection,
              const char   *connection_type)
{
  NMSettingVpn *vpn;
  const char *service;
  const char *dot;

  if (connection != NULL && nm_connection_is_type (connection, NM_SETTING_WIREGUARD_SETTING_NAME))
    return g_strdup ("wireguard");
  if (connection == NULL)
    return g_strdup (g_strcmp0 (connection_type, NM_SETTING_WIREGUARD_SETTING_NAME) == 0 ?
                     "wireguard" : "vpn");
  vpn = nm_connection_get_setting_vpn (connection);
  service = vpn != NULL ? nm_setting_vpn_get_service_type (vpn) : NULL;
  if (service == NULL || *service == '\0')
    return g_strdup ("vpn");
  dot = strrchr (service, '.');
  return g_strdup (dot != NULL && dot[1] != '\0' ? dot + 1 : service);
}

/* UTF-8 as is; bytes that are not UTF-8 (and NUL) as \xNN. */
static char *
dup_ssid (GBytes *ssid)
{
  const char *data;
  gsize len;
  GString *out;

  if (ssid == NULL)
    return g_strdup ("");
  data = g_bytes_get_data (ssid, &len);
  out = g_string_sized_new (len);
  for (gsize i = 0; i < len;)
    {
      gunichar c = g_utf8_get_char_validated (data + i, len - i);

      if (c == (gunichar) -1 || c == (gunichar) -2 || c == 0)
        {
          g_string_append_printf (out, "\\x%02X", (guint8) data[i]);
          i++;
          continue;
        }
      g_string_append_unichar (out, c);
      i += g_utf8_next_char (data + i) - (data + i);
    }
  return g_string_free (out, FALSE);
}

static const char *
ap_security (NMAccessPoint *ap)
{
  NM80211ApFlags flags = nm_access_point_get_flags (ap);
  NM80211ApSecurityFlags sec = nm_access_point_get_wpa_flags (ap) |
                               nm_access_point_get_rsn_flags (ap);

  if (sec & (NM_802_11_AP_SEC_KEY_MGMT_802_1X | NM_802_11_AP_SEC_KEY_MGMT_EAP_SUITE_B_192))
    return "wpa-eap";
  if (sec & NM_802_11_AP_SEC_KEY_MGMT_SAE)
    return "sae";
  if (sec & NM_802_11_AP_SEC_KEY_MGMT_PSK)
    return "wpa-psk";
  if (sec & (NM_802_11_AP_SEC_KEY_MGMT_OWE | NM_802_11_AP_SEC_KEY_MGMT_OWE_TM))
    return "owe";
  if (flags & NM_802_11_AP_FLAGS_PRIVACY)
    return "wep";
  return "open";
}

/* Why NetworkManager gave up on an active connection, for people. */
static const char *
reason_to_string (NMActiveConnectionStateReason reason)
{
  switch (reason)
    {
    case NM_ACTIVE_CONNECTION_STATE_REASON_USER_DISCONNECTED:
      return _("it was disconnected by a user");
    case NM_ACTIVE_CONNECTION_STATE_REASON_DEVICE_DISCONNECTED:
      return _("the network connection it runs over went down");
    case NM_ACTIVE_CONNECTION_STATE_REASON_SERVICE_STOPPED:
      return _("the VPN service stopped unexpectedly");
    case NM_ACTIVE_CONNECTION_STATE_REASON_IP_CONFIG_INVALID:
      return _("the VPN server sent an invalid IP configuration");
    case NM_ACTIVE_CONNECTION_STATE_REASON_CONNECT_TIMEOUT:
      return _("the VPN server did not answer in time");
    case NM_ACTIVE_CONNECTION_STATE_REASON_SERVICE_START_TIMEOUT:
      return _("the VPN service did not start in time");
    case NM_ACTIVE_CONNECTION_STATE_REASON_SERVICE_START_FAILED:
      return _("the VPN service could not start");
    case NM_ACTIVE_CONNECTION_STATE_REASON_NO_SECRETS:
      return _("a password or key for it is missing");
    case NM_ACTIVE_CONNECTION_STATE_REASON_LOGIN_FAILED:
      return _("the VPN server refused the login");
    case NM_ACTIVE_CONNECTION_STATE_REASON_CONNECTION_REMOVED:
      return _("the connection was deleted");
    case NM_ACTIVE_CONNECTION_STATE_REASON_DEPENDENCY_FAILED:
      return _("a connection it depends on failed");
    case NM_ACTIVE_CONNECTION_STATE_REASON_DEVICE_REALIZE_FAILED:
    case NM_ACTIVE_CONNECTION_STATE_REASON_DEVICE_REMOVED:
      return _("its network device went away");
    case NM_ACTIVE_CONNECTION_STATE_REASON_UNKNOWN:
    case NM_ACTIVE_CONNECTION_STATE_REASON_NONE:
    default:
      return _("NetworkManager gave no reason");
    }
}

static gboolean
nm_available (MoatNmNetwork *self)
{
  return self->client != NULL && nm_client_get_nm_running (self->client);
}

static NMRemoteConnection *
find_vpn_connection (MoatNmNetwork *self,
                     const char    *name)
{
  const GPtrArray *connections = nm_client_get_connections (self->client);

  for (guint i = 0; i < connections->len; i++)
    {
      NMConnection *connection = g_ptr_array_index (connections, i);

      if (connection_is_vpn (connection) &&
          g_strcmp0 (nm_connection_get_id (connection), name) == 0)
        return NM_REMOTE_CONNECTION (connection);
    }
  return NULL;
}

/* The live (not deactivating) VPN active connection called @name, preferring
 * an activated one to one coming up. */
static NMActiveConnection *
find_active_vpn (MoatNmNetwork *self,
                 const char    *name)
{
  const GPtrArray *actives = nm_client_get_active_connections (self->client);
  NMActiveConnection *found = NULL;

  for (guint i = 0; i < actives->len; i++)
    {
      NMActiveConnection *ac = g_ptr_array_index (actives, i);
      NMActiveConnectionState state = nm_active_connection_get_state (ac);

      if (!active_is_vpn (ac) || g_strcmp0 (nm_active_connection_get_id (ac), name) != 0 ||
          state >= NM_ACTIVE_CONNECTION_STATE_DEACTIVATING)
        continue;
      if (state == NM_ACTIVE_CONNECTION_STATE_ACTIVATED)
        return ac;
      if (found == NULL)
        found = ac;
    }
  return found;
}

static gboolean
active_is_listed (MoatNmNetwork      *self,
                  NMActiveConnection *ac)
{
  const GPtrArray *actives = nm_client_get_active_connections (self->client);

  for (guint i = 0; i < actives->len; i++)
    if (g_ptr_array_index (actives, i) == ac)
      return TRUE;
  return FALSE;
}

static void
deactivate_quietly_cb (GObject      *object,
                       GAsyncResult *result,
                       gpointer      user_data)
{
  g_autoptr(GError) error = NULL;

  if (!nm_client_deactivate_connection_finish (NM_CLIENT (object), result, &error))
    g_debug ("Taking down a failed VPN attempt: %s", error->message);
}

/* Takes @ac down without ::vpn-down and without waiting. */
static void
deactivate_quietly (MoatNmNetwork      *self,
                    NMActiveConnection *ac)
{
  g_object_set_data (G_OBJECT (ac), ASKED_DOWN_KEY, GINT_TO_POINTER (TRUE));
  if (self->client == NULL || !active_is_listed (self, ac) ||
      nm_active_connection_get_state (ac) >= NM_ACTIVE_CONNECTION_STATE_DEACTIVATING)
    return;
  nm_client_deactivate_connection_async (self->client, ac, NULL, deactivate_quietly_cb, NULL);
}

/* ---- ::changed, at most once a second ---- */

static gboolean
emit_changed_cb (gpointer user_data)
{
  MoatNmNetwork *self = user_data;

  g_clear_pointer (&self->changed_source, g_source_unref);
  self->last_changed = g_get_monotonic_time ();
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  return G_SOURCE_REMOVE;
}

static void
schedule_changed (MoatNmNetwork *self)
{
  gint64 now = g_get_monotonic_time ();
  gint64 wait_us = 0;

  if (self->changed_source != NULL)
    return;
  if (self->last_changed != 0 && now - self->last_changed < CHANGED_INTERVAL_US)
    wait_us = CHANGED_INTERVAL_US - (now - self->last_changed);
  self->changed_source = g_timeout_source_new ((guint) (wait_us / 1000));
  g_source_set_callback (self->changed_source, emit_changed_cb, self, NULL);
  g_source_set_static_name (self->changed_source, "[moat] MoatNmNetwork::changed");
  g_source_attach (self->changed_source, self->context);
}

/* ---- following NetworkManager ---- */

static void
check_vpn_down (MoatNmNetwork      *self,
                NMActiveConnection *ac)
{
  g_autofree char *name = NULL;

  if (g_object_get_data (G_OBJECT (ac), WAS_UP_KEY) == NULL)
    return;
  g_object_set_data (G_OBJECT (ac), WAS_UP_KEY, NULL);
  if (g_object_get_data (G_OBJECT (ac), ASKED_DOWN_KEY) != NULL)
    return;
  name = g_strdup (nm_active_connection_get_id (ac));
  g_message ("VPN connection “%s” went down", name);
  moat_network_emit_vpn_down (MOAT_NETWORK (self), name);
}

static void
on_active_state_changed_cb (NMActiveConnection *ac,
                            guint               state,
                            guint               reason,
                            MoatNmNetwork      *self)
{
  if (state == NM_ACTIVE_CONNECTION_STATE_ACTIVATED)
    g_object_set_data (G_OBJECT (ac), WAS_UP_KEY, GINT_TO_POINTER (TRUE));
  else if (state >= NM_ACTIVE_CONNECTION_STATE_DEACTIVATING)
    check_vpn_down (self, ac);
  schedule_changed (self);
}

static void
watch_active (MoatNmNetwork      *self,
              NMActiveConnection *ac)
{
  if (!active_is_vpn (ac))
    return;
  if (nm_active_connection_get_state (ac) == NM_ACTIVE_CONNECTION_STATE_ACTIVATED)
    g_object_set_data (G_OBJECT (ac), WAS_UP_KEY, GINT_TO_POINTER (TRUE));
  g_signal_connect_object (ac, "state-changed", G_CALLBACK (on_active_state_changed_cb), self, 0);
}

static void
on_active_added_cb (NMClient           *client,
                    NMActiveConnection *ac,
                    MoatNmNetwork      *self)
{
  watch_active (self, ac);
  schedule_changed (self);
}

static void
on_active_removed_cb (NMClient           *client,
                      NMActiveConnection *ac,
                      MoatNmNetwork      *self)
{
  if (active_is_vpn (ac))
    check_vpn_down (self, ac);
  schedule_changed (self);
}

static void
on_something_changed_cb (GObject       *object,
                         gpointer       arg,
                         MoatNmNetwork *self)
{
  schedule_changed (self);
}

static void
watch_device (MoatNmNetwork *self,
              NMDevice      *device)
{
  if (!NM_IS_DEVICE_WIFI (device))
    return;
  g_signal_connect_object (device, "access-point-added", G_CALLBACK (on_something_changed_cb),
                           self, 0);
  g_signal_connect_object (device, "access-point-removed", G_CALLBACK (on_something_changed_cb),
                           self, 0);
  g_signal_connect_object (device, "notify::active-access-point",
                           G_CALLBACK (on_something_changed_cb), self, 0);
}

static void
on_device_added_cb (NMClient      *client,
                    NMDevice      *device,
                    MoatNmNetwork *self)
{
  watch_device (self, device);
  schedule_changed (self);
}

static void
on_nm_running_cb (NMClient      *client,
                  GParamSpec    *pspec,
                  MoatNmNetwork *self)
{
  g_message ("NetworkManager is %s", nm_client_get_nm_running (client) ? "running" : "gone");
  schedule_changed (self);
}

static void
watch_client (MoatNmNetwork *self)
{
  NMClient *client = self->client;
  const GPtrArray *devices = nm_client_get_devices (client);
  const GPtrArray *actives = nm_client_get_active_connections (client);
  const char * const notifies[] = {
    "notify::state", "notify::connectivity", "notify::active-connections",
    "notify::devices", "connection-added", "connection-removed", "device-removed",
  };

  g_signal_connect_object (client, "notify::nm-running", G_CALLBACK (on_nm_running_cb), self, 0);
  for (guint i = 0; i < G_N_ELEMENTS (notifies); i++)
    g_signal_connect_object (client, notifies[i], G_CALLBACK (on_something_changed_cb), self, 0);
  g_signal_connect_object (client, "device-added", G_CALLBACK (on_device_added_cb), self, 0);
  g_signal_connect_object (client, "active-connection-added", G_CALLBACK (on_active_added_cb),
                           self, 0);
  g_signal_connect_object (client, "active-connection-removed",
                           G_CALLBACK (on_active_removed_cb), self, 0);
  for (guint i = 0; i < devices->len; i++)
    watch_device (self, g_ptr_array_index (devices, i));
  for (guint i = 0; i < actives->len; i++)
    watch_active (self, g_ptr_array_index (actives, i));
}

/* ---- requests that need the client ---- */

static void
return_unsupported (GTask      *task,
                    const char *message)
{
  g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_NOT_SUPPORTED, "%s", message);
}

static void
flush_pending (MoatNmNetwork *self)
{
  Pending *pending;

  while ((pending = g_queue_pop_head (&self->pending)) != NULL)
    {
      if (nm_available (self))
        pending->run (g_steal_pointer (&pending->task));
      else
        return_unsupported (pending->task, pending->unsupported);
      pending_free (pending);
    }
}

static void
client_new_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  MoatNmNetwork *self;
  g_autoptr(GError) error = NULL;
  NMClient *client = nm_client_new_finish (result, &error);

  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;
  self = MOAT_NM_NETWORK (user_data);
  self->initing = FALSE;
  if (client == NULL)
    {
      /* debug only: a machine without a system bus is normal in tests, and
       * the requests say it clearly */
      g_debug ("NetworkManager cannot be reached: %s", error->message);
    }
  else
    {
      self->client = client;
      g_debug ("NetworkManager client ready, NetworkManager %s",
               nm_client_get_nm_running (client) ? "running" : "not running");
      watch_client (self);
    }
  flush_pending (self);
  schedule_changed (self);
}

static void
start_client (MoatNmNetwork *self)
{
  g_autoptr(GMainContext) current = g_main_context_ref_thread_default ();
  gboolean push = current != self->context;

  self->initing = TRUE;
  /* libnm runs on the thread-default context at the call */
  if (push)
    g_main_context_push_thread_default (self->context);
  nm_client_new_async (self->cancellable, client_new_cb, self);
  if (push)
    g_main_context_pop_thread_default (self->context);
}

/* Runs @run (taking @task) when NetworkManager is there, or fails @task with
 * NOT_SUPPORTED and @unsupported. */
static void
with_client (MoatNmNetwork *self,
             GTask         *task,
             RunFunc        run,
             const char    *unsupported)
{
  Pending *pending;

  if (self->client != NULL)
    {
      if (nm_client_get_nm_running (self->client))
        run (task);
      else
        {
          return_unsupported (task, unsupported);
          g_object_unref (task);
        }
      return;
    }
  pending = g_new0 (Pending, 1);
  pending->task = task;
  pending->run = run;
  pending->unsupported = g_strdup (unsupported);
  g_queue_push_tail (&self->pending, pending);
  if (!self->initing)
    start_client (self);
}

/* ---- waiting for an active connection ---- */

/* Completes the task of a WaitData; @error (owned) NULL for success. */
static void
wait_complete (GTask  *task,
               GError *error)
{
  MoatNmNetwork *self = g_task_get_source_object (task);
  WaitData *data = g_task_get_task_data (task);
  g_autoptr(GTask) keep = g_object_ref (task);

  if (data->completed)
    {
      g_clear_error (&error);
      return;
    }
  data->completed = TRUE;
  if (data->ac != NULL)
    {
      g_clear_signal_handler (&data->state_id, data->ac);
      g_clear_signal_handler (&data->vpn_state_id, data->ac);
      if (error != NULL &&
          nm_active_connection_get_state (data->ac) != NM_ACTIVE_CONNECTION_STATE_ACTIVATED &&
          data->activating)
        deactivate_quietly (self, data->ac);
    }
  if (self->client != NULL)
    g_clear_signal_handler (&data->removed_id, self->client);
  if (data->timeout_source != NULL)
    {
      g_source_destroy (data->timeout_source);
      g_clear_pointer (&data->timeout_source, g_source_unref);
    }
  if (data->cancel_source != NULL)
    {
      g_source_destroy (data->cancel_source);
      g_clear_pointer (&data->cancel_source, g_source_unref);
    }
  if (data->grace_source != NULL)
    {
      g_source_destroy (data->grace_source);
      g_clear_pointer (&data->grace_source, g_source_unref);
    }
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
}

static GError *
activate_failed_error (WaitData *data,
                       guint     reason)
{
  return g_error_new (MOAT_ERROR, MOAT_ERROR_FAILED,
                      /* TRANSLATORS: %s: a VPN's name; %s: why, e.g. "the VPN server
                       * refused the login" */
                      _("The VPN “%s” could not connect: %s"), data->name,
                      reason_to_string (reason));
}

static gboolean
on_wait_grace_cb (gpointer user_data)
{
  GTask *task = user_data;
  WaitData *data = g_task_get_task_data (task);

  wait_complete (task, activate_failed_error (data, data->reason));
  return G_SOURCE_REMOVE;
}

/* The state of the awaited active connection moved (or it is already
 * there); TRUE when that completed the task. */
static gboolean
wait_check_state (GTask   *task,
                  guint    state,
                  guint    reason)
{
  WaitData *data = g_task_get_task_data (task);

  g_debug ("VPN “%s”: state %u, reason %u", data->name, state, reason);
  if (data->reason <= NM_ACTIVE_CONNECTION_STATE_REASON_NONE)
    data->reason = reason;
  if (data->activating)
    {
      if (state == NM_ACTIVE_CONNECTION_STATE_ACTIVATED)
        {
          wait_complete (task, NULL);
          return TRUE;
        }
      /* the reason comes with the end, not always with "deactivating" */
      if (state >= NM_ACTIVE_CONNECTION_STATE_DEACTIVATED)
        {
          if (data->grace_source != NULL)
            return TRUE;
          if (data->reason <= NM_ACTIVE_CONNECTION_STATE_REASON_NONE && data->ac != NULL)
            data->reason = nm_active_connection_get_state_reason (data->ac);
          /* NetworkManager sometimes ends the active connection without a
           * reason and says why in the VPN's state a moment later */
          if (data->reason <= NM_ACTIVE_CONNECTION_STATE_REASON_NONE &&
              data->ac != NULL && NM_IS_VPN_CONNECTION (data->ac))
            {
              data->grace_source = g_timeout_source_new (VPN_REASON_GRACE_MS);
              g_source_set_callback (data->grace_source, on_wait_grace_cb, g_object_ref (task),
                                     g_object_unref);
              g_source_attach (data->grace_source, g_task_get_context (task));
              return TRUE;
            }
          wait_complete (task, activate_failed_error (data, data->reason));
          return TRUE;
        }
      return FALSE;
    }
  if (state >= NM_ACTIVE_CONNECTION_STATE_DEACTIVATED)
    {
      wait_complete (task, NULL);
      return TRUE;
    }
  return FALSE;
}

static void
on_wait_state_changed_cb (NMActiveConnection *ac,
                          guint               state,
                          guint               reason,
                          GTask              *task)
{
  wait_check_state (task, state, reason);
}

/* A VPN's own state says more about why it failed than its active
 * connection's (NMVpnConnectionStateReason shares the values). */
static void
on_wait_vpn_state_changed_cb (NMVpnConnection *vpn,
                              guint            state,
                              guint            reason,
                              GTask           *task)
{
  WaitData *data = g_task_get_task_data (task);

  g_debug ("VPN “%s”: VPN state %u, reason %u", data->name, state, reason);
  if (reason > NM_ACTIVE_CONNECTION_STATE_REASON_NONE)
    {
      data->reason = reason;
      if (data->grace_source != NULL)
        wait_complete (task, activate_failed_error (data, data->reason));
    }
}

static void
on_wait_removed_cb (NMClient           *client,
                    NMActiveConnection *ac,
                    GTask              *task)
{
  WaitData *data = g_task_get_task_data (task);

  if (ac != data->ac)
    return;
  wait_check_state (task, NM_ACTIVE_CONNECTION_STATE_DEACTIVATED,
                    NM_ACTIVE_CONNECTION_STATE_REASON_UNKNOWN);
}

static gboolean
on_wait_timeout_cb (gpointer user_data)
{
  GTask *task = user_data;
  WaitData *data = g_task_get_task_data (task);

  if (data->activating)
    wait_complete (task, g_error_new (MOAT_ERROR, MOAT_ERROR_FAILED,
                                      /* TRANSLATORS: %s: a VPN's name */
                                      _("The VPN “%s” did not connect within %u seconds"),
                                      data->name, data->timeout_s));
  else
    {
      /* NetworkManager took the request; it is just slow to finish */
      g_debug ("VPN “%s” still not down after %u s", data->name, DEACTIVATE_WAIT_S);
      wait_complete (task, NULL);
    }
  return G_SOURCE_REMOVE;
}

static gboolean
on_wait_cancelled_cb (GCancellable *cancellable,
                      gpointer      user_data)
{
  GTask *task = user_data;
  GError *error = NULL;

  g_cancellable_set_error_if_cancelled (cancellable, &error);
  wait_complete (task, error);
  return G_SOURCE_REMOVE;
}

/* Arms the timeout and the cancellation of a WaitData task (before the
 * active connection is known: the timeout counts from the request). */
static void
wait_arm (GTask *task,
          guint  timeout_s)
{
  WaitData *data = g_task_get_task_data (task);
  GMainContext *context = g_task_get_context (task);
  GCancellable *cancellable = g_task_get_cancellable (task);

  if (timeout_s > 0)
    {
      data->timeout_source = g_timeout_source_new (timeout_s * 1000);
      g_source_set_callback (data->timeout_source, on_wait_timeout_cb, g_object_ref (task),
                             g_object_unref);
      g_source_set_static_name (data->timeout_source, "[moat] VPN timeout");
      g_source_attach (data->timeout_source, context);
    }
  if (cancellable != NULL)
    {
      data->cancel_source = g_cancellable_source_new (cancellable);
      g_source_set_callback (data->cancel_source, G_SOURCE_FUNC (on_wait_cancelled_cb),
                             g_object_ref (task), g_object_unref);
      g_source_attach (data->cancel_source, context);
    }
}

/* Follows @ac until wait_check_state completes the task. Takes @task. */
static void
wait_follow (GTask              *task,
             NMActiveConnection *ac)
{
  MoatNmNetwork *self = g_task_get_source_object (task);
  WaitData *data = g_task_get_task_data (task);
  g_autoptr(GTask) owned = task;

  g_set_object (&data->ac, ac);
  if (data->completed)
    return;
  if (wait_check_state (task, nm_active_connection_get_state (ac),
                        nm_active_connection_get_state_reason (ac)))
    return;
  if (!active_is_listed (self, ac))
    {
      wait_check_state (task, NM_ACTIVE_CONNECTION_STATE_DEACTIVATED,
                        NM_ACTIVE_CONNECTION_STATE_REASON_UNKNOWN);
      return;
    }
  /* each handler holds a ref on the task until wait_complete() drops it */
  data->state_id = g_signal_connect_data (ac, "state-changed",
                                          G_CALLBACK (on_wait_state_changed_cb),
                                          g_object_ref (task), (GClosureNotify) g_object_unref,
                                          0);
  if (NM_IS_VPN_CONNECTION (ac))
    data->vpn_state_id = g_signal_connect (ac, "vpn-state-changed",
                                           G_CALLBACK (on_wait_vpn_state_changed_cb), task);
  data->removed_id = g_signal_connect_data (self->client, "active-connection-removed",
                                            G_CALLBACK (on_wait_removed_cb),
                                            g_object_ref (task), (GClosureNotify) g_object_unref,
                                            0);
}

/* ---- activate ---- */

static void
activate_connection_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  MoatNmNetwork *self = g_task_get_source_object (task);
  WaitData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(NMActiveConnection) ac = NULL;

  ac = nm_client_activate_connection_finish (NM_CLIENT (object), result, &error);
  if (ac == NULL)
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        wait_complete (task, g_steal_pointer (&error));
      else
        wait_complete (task, g_error_new (MOAT_ERROR, MOAT_ERROR_FAILED,
                                          _("The VPN “%s” could not connect: %s"), data->name,
                                          error->message));
      return;
    }
  if (data->completed)
    {
      /* timed out or cancelled while NetworkManager started it */
      deactivate_quietly (self, ac);
      return;
    }
  g_debug ("Activating VPN “%s”: %s", data->name, nm_object_get_path (NM_OBJECT (ac)));
  wait_follow (g_steal_pointer (&task), ac);
}

static void
activate_run (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  MoatNmNetwork *self = g_task_get_source_object (task);
  WaitData *data = g_task_get_task_data (task);
  NMActiveConnection *ac;
  NMRemoteConnection *connection;

  if (g_task_return_error_if_cancelled (task))
    return;
  ac = find_active_vpn (self, data->name);
  if (ac != NULL && nm_active_connection_get_state (ac) == NM_ACTIVE_CONNECTION_STATE_ACTIVATED)
    {
      data->completed = TRUE;
      g_task_return_boolean (task, TRUE);
      return;
    }
  wait_arm (task, data->timeout_s);
  if (ac != NULL)
    {
      /* already coming up: wait for that attempt */
      wait_follow (g_steal_pointer (&task), ac);
      return;
    }
  connection = find_vpn_connection (self, data->name);
  if (connection == NULL)
    {
      wait_complete (task, g_error_new (MOAT_ERROR, MOAT_ERROR_NOT_FOUND,
                                        /* TRANSLATORS: %s: a VPN's name */
                                        _("There is no VPN connection named “%s”"),
                                        data->name));
      return;
    }
  g_message ("Bringing up VPN “%s”", data->name);
  /* no cancellable: a cancelled request must still learn which active
   * connection NetworkManager made, to take it down again */
  nm_client_activate_connection_async (self->client, NM_CONNECTION (connection), NULL, NULL,
                                       NULL, activate_connection_cb, g_steal_pointer (&task));
}

/* ---- deactivate ---- */

static void
deactivate_connection_cb (GObject      *object,
                          GAsyncResult *result,
                          gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  WaitData *data = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!nm_client_deactivate_connection_finish (NM_CLIENT (object), result, &error))
    {
      /* gone meanwhile: that is what was asked */
      if (nm_active_connection_get_state (data->ac) >= NM_ACTIVE_CONNECTION_STATE_DEACTIVATING)
        {
          wait_follow (g_steal_pointer (&task), data->ac);
          return;
        }
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_autoptr(GError) wrapped = NULL;

          wrapped = g_error_new (MOAT_ERROR, MOAT_ERROR_FAILED,
                                 /* TRANSLATORS: %s: a VPN's name, then why */
                                 _("The VPN “%s” could not be disconnected: %s"), data->name,
                                 error->message);
          g_clear_error (&error);
          error = g_steal_pointer (&wrapped);
        }
      wait_complete (task, g_steal_pointer (&error));
      return;
    }
  wait_follow (g_steal_pointer (&task), data->ac);
}

static void
deactivate_run (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  MoatNmNetwork *self = g_task_get_source_object (task);
  WaitData *data = g_task_get_task_data (task);
  GCancellable *cancellable;
  NMActiveConnection *ac;

  if (g_task_return_error_if_cancelled (task))
    return;
  ac = find_active_vpn (self, data->name);
  if (ac == NULL)
    {
      data->completed = TRUE;
      g_task_return_boolean (task, TRUE);
      return;
    }
  g_message ("Taking down VPN “%s”", data->name);
  g_object_set_data (G_OBJECT (ac), ASKED_DOWN_KEY, GINT_TO_POINTER (TRUE));
  data->ac = g_object_ref (ac);
  wait_arm (task, DEACTIVATE_WAIT_S);
  cancellable = g_task_get_cancellable (task);
  nm_client_deactivate_connection_async (self->client, ac, cancellable,
                                         deactivate_connection_cb, g_steal_pointer (&task));
}

/* ---- Wi-Fi ---- */

static void
disconnect_device_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  if (!nm_device_disconnect_finish (NM_DEVICE (object), result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_task_return_error (task, g_steal_pointer (&error));
      else
        g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_FAILED,
                                 /* TRANSLATORS: %s: NetworkManager's error */
                                 _("Moat could not disconnect from the Wi-Fi network: %s"),
                                 error->message);
      return;
    }
  g_task_return_boolean (task, TRUE);
}

static void
disconnect_wifi_run (GTask *task_in)
{
  g_autoptr(GTask) task = task_in;
  MoatNmNetwork *self = g_task_get_source_object (task);
  WifiData *data = g_task_get_task_data (task);
  GCancellable *cancellable = g_task_get_cancellable (task);
  const GPtrArray *devices = nm_client_get_devices (self->client);

  if (g_task_return_error_if_cancelled (task))
    return;
  for (guint i = 0; i < devices->len; i++)
    {
      NMDevice *device = g_ptr_array_index (devices, i);
      NMAccessPoint *ap;
      g_autofree char *ssid = NULL;

      if (!NM_IS_DEVICE_WIFI (device))
        continue;
      ap = nm_device_wifi_get_active_access_point (NM_DEVICE_WIFI (device));
      if (ap == NULL)
        continue;
      ssid = dup_ssid (nm_access_point_get_ssid (ap));
      if (data->ssid != NULL && g_strcmp0 (ssid, data->ssid) != 0)
        continue;
      g_message ("Disconnecting %s from Wi-Fi “%s”", nm_device_get_iface (device), ssid);
      nm_device_disconnect_async (device, cancellable, disconnect_device_cb,
                                  g_steal_pointer (&task));
      return;
    }
  if (data->ssid != NULL)
    g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_NOT_FOUND,
                             /* TRANSLATORS: %s: a Wi-Fi network's name */
                             _("This computer is not connected to the Wi-Fi network “%s”"),
                             data->ssid);
  else
    g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_NOT_FOUND, "%s",
                             _("This computer is not connected to a Wi-Fi network"));
}

/* ---- vfuncs ---- */

static GTask *
new_wait_task (MoatNmNetwork       *self,
               const char          *name,
               guint                timeout_s,
               gboolean             activating,
               gpointer             source_tag,
               GCancellable        *cancellable,
               GAsyncReadyCallback  callback,
               gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  WaitData *data = g_new0 (WaitData, 1);

  g_task_set_source_tag (task, source_tag);
  data->name = g_strdup (name);
  data->activating = activating;
  data->timeout_s = timeout_s;
  g_task_set_task_data (task, data, (GDestroyNotify) wait_data_free);
  return task;
}

static void
moat_nm_network_activate_vpn_async (MoatNetwork         *network,
                                    const char          *name,
                                    guint                timeout_s,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  MoatNmNetwork *self = MOAT_NM_NETWORK (network);
  GTask *task = new_wait_task (self, name, timeout_s, TRUE,
                               moat_nm_network_activate_vpn_async, cancellable, callback,
                               user_data);

  with_client (self, task, activate_run,
               _("NetworkManager is not running, so Moat cannot bring up the VPN"));
}

static void
moat_nm_network_deactivate_vpn_async (MoatNetwork         *network,
                                      const char          *name,
                                      GCancellable        *cancellable,
                                      GAsyncReadyCallback  callback,
                                      gpointer             user_data)
{
  MoatNmNetwork *self = MOAT_NM_NETWORK (network);
  GTask *task = new_wait_task (self, name, DEACTIVATE_WAIT_S, FALSE,
                               moat_nm_network_deactivate_vpn_async, cancellable, callback,
                               user_data);

  with_client (self, task, deactivate_run,
               _("NetworkManager is not running, so Moat cannot take down the VPN"));
}

static void
moat_nm_network_disconnect_wifi_async (MoatNetwork         *network,
                                       const char          *ssid,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data)
{
  MoatNmNetwork *self = MOAT_NM_NETWORK (network);
  GTask *task = g_task_new (self, cancellable, callback, user_data);
  WifiData *data = g_new0 (WifiData, 1);

  g_task_set_source_tag (task, moat_nm_network_disconnect_wifi_async);
  data->ssid = g_strdup (ssid);
  g_task_set_task_data (task, data, (GDestroyNotify) wifi_data_free);
  with_client (self, task, disconnect_wifi_run,
               _("NetworkManager is not running, so Moat cannot disconnect from the Wi-Fi "
                 "network"));
}

static gboolean
moat_nm_network_finish (MoatNetwork   *network,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, network), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
moat_nm_network_dispose (GObject *object)
{
  MoatNmNetwork *self = MOAT_NM_NETWORK (object);

  g_cancellable_cancel (self->cancellable);
  g_queue_clear_full (&self->pending, (GDestroyNotify) pending_free);
  if (self->changed_source != NULL)
    {
      g_source_destroy (self->changed_source);
      g_clear_pointer (&self->changed_source, g_source_unref);
    }
  g_clear_object (&self->client);

  G_OBJECT_CLASS (moat_nm_network_parent_class)->dispose (object);
}

static void
moat_nm_network_finalize (GObject *object)
{
  MoatNmNetwork *self = MOAT_NM_NETWORK (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->context, g_main_context_unref);

  G_OBJECT_CLASS (moat_nm_network_parent_class)->finalize (object);
}

static void
moat_nm_network_class_init (MoatNmNetworkClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  MoatNetworkClass *network_class = MOAT_NETWORK_CLASS (klass);

  object_class->dispose = moat_nm_network_dispose;
  object_class->finalize = moat_nm_network_finalize;

  network_class->activate_vpn_async = moat_nm_network_activate_vpn_async;
  network_class->activate_vpn_finish = moat_nm_network_finish;
  network_class->deactivate_vpn_async = moat_nm_network_deactivate_vpn_async;
  network_class->deactivate_vpn_finish = moat_nm_network_finish;
  network_class->disconnect_wifi_async = moat_nm_network_disconnect_wifi_async;
  network_class->disconnect_wifi_finish = moat_nm_network_finish;

  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
moat_nm_network_init (MoatNmNetwork *self)
{
  self->cancellable = g_cancellable_new ();
  self->context = g_main_context_ref_thread_default ();
  g_queue_init (&self->pending);
  start_client (self);
}

/**
 * moat_nm_network_new:
 *
 * Starts talking to NetworkManager on the system bus, from the calling
 * thread's thread-default main context.
 *
 * Returns: (transfer full): a network that works through NetworkManager
 */
MoatNetwork *
moat_nm_network_new (void)
{
  return g_object_new (MOAT_TYPE_NM_NETWORK, NULL);
}

/**
 * moat_nm_network_get_state:
 *
 * Every access point of every Wi-Fi device, and every VPN or WireGuard
 * connection NetworkManager has (once each; active when it is up or coming
 * up, with active ones NetworkManager has no profile for added). Reads
 * libnm's cache; never blocks.
 *
 * Returns: (transfer full): the access points and VPN connections
 *   NetworkManager knows of now
 */
MoatNetworkState *
moat_nm_network_get_state (MoatNmNetwork *self)
{
  g_autoptr(MoatNetworkState) state = moat_network_state_new ();
  g_autoptr(GHashTable) active_names = NULL;
  const GPtrArray *devices;
  const GPtrArray *connections;
  const GPtrArray *actives;

  g_return_val_if_fail (MOAT_IS_NM_NETWORK (self), NULL);

  if (!nm_available (self))
    return g_steal_pointer (&state);
  state->available = TRUE;

  devices = nm_client_get_devices (self->client);
  for (guint i = 0; i < devices->len; i++)
    {
      NMDevice *device = g_ptr_array_index (devices, i);
      const GPtrArray *aps;
      NMAccessPoint *active;

      if (!NM_IS_DEVICE_WIFI (device))
        continue;
      aps = nm_device_wifi_get_access_points (NM_DEVICE_WIFI (device));
      active = nm_device_wifi_get_active_access_point (NM_DEVICE_WIFI (device));
      for (guint j = 0; j < aps->len; j++)
        {
          NMAccessPoint *ap = g_ptr_array_index (aps, j);
          g_autofree char *ssid = dup_ssid (nm_access_point_get_ssid (ap));

          moat_network_state_add_ap (state, ssid, nm_access_point_get_bssid (ap),
                                     ap_security (ap), ap == active);
        }
    }

  /* ids of VPNs up or coming up → their active connection */
  active_names = g_hash_table_new (g_str_hash, g_str_equal);
  actives = nm_client_get_active_connections (self->client);
  for (guint i = 0; i < actives->len; i++)
    {
      NMActiveConnection *ac = g_ptr_array_index (actives, i);

      if (active_is_vpn (ac) &&
          nm_active_connection_get_state (ac) < NM_ACTIVE_CONNECTION_STATE_DEACTIVATING &&
          nm_active_connection_get_id (ac) != NULL)
        g_hash_table_insert (active_names, (gpointer) nm_active_connection_get_id (ac), ac);
    }

  connections = nm_client_get_connections (self->client);
  for (guint i = 0; i < connections->len; i++)
    {
      NMConnection *connection = g_ptr_array_index (connections, i);
      const char *id = nm_connection_get_id (connection);
      g_autofree char *type = NULL;
      gboolean active;

      if (!connection_is_vpn (connection) || id == NULL)
        continue;
      type = dup_vpn_type (connection, NULL);
      active = g_hash_table_remove (active_names, id);
      moat_network_state_add_vpn (state, id, type, active);
    }

  /* active without a profile we can see */
  for (guint i = 0; i < actives->len; i++)
    {
      NMActiveConnection *ac = g_ptr_array_index (actives, i);
      const char *id = nm_active_connection_get_id (ac);
      g_autofree char *type = NULL;

      if (id == NULL || g_hash_table_lookup (active_names, id) != ac)
        continue;
      type = dup_vpn_type (NM_CONNECTION (nm_active_connection_get_connection (ac)),
                           nm_active_connection_get_connection_type (ac));
      moat_network_state_add_vpn (state, id, type, TRUE);
    }

  return g_steal_pointer (&state);
}

/**
 * moat_nm_network_check_vpn:
 * @name: a VPN connection's name, as the policy gives it
 * @out_type: (out) (optional): its VPN service type, when it exists
 *
 * Whether Moat could bring the VPN @name up: from NetworkManager's
 * connection profiles, without touching the secrets themselves.
 */
MoatVpnCheck
moat_nm_network_check_vpn (MoatNmNetwork  *self,
                           const char     *name,
                           char          **out_type)
{
  NMRemoteConnection *connection;
  NMSettingVpn *vpn;
  const char *kind, *flags;

  g_return_val_if_fail (MOAT_IS_NM_NETWORK (self), MOAT_VPN_CHECK_NO_NM);

  if (!nm_available (self))
    return MOAT_VPN_CHECK_NO_NM;
  connection = find_vpn_connection (self, name);
  if (connection == NULL)
    return MOAT_VPN_CHECK_MISSING;
  vpn = nm_connection_get_setting_vpn (NM_CONNECTION (connection));
  if (out_type != NULL)
    *out_type = g_strdup (vpn != NULL ? nm_setting_vpn_get_service_type (vpn) : "");
  if (vpn == NULL)
    return MOAT_VPN_CHECK_OK;
  /* OpenVPN and friends: a password that is "not saved" (flag 2) is asked
   * for on every connection. */
  kind = nm_setting_vpn_get_data_item (vpn, "connection-type");
  flags = nm_setting_vpn_get_data_item (vpn, "password-flags");
  if ((kind == NULL || strstr (kind, "password") != NULL) && g_strcmp0 (flags, "2") == 0)
    return MOAT_VPN_CHECK_ASKS_PASSWORD;
  return MOAT_VPN_CHECK_OK;
}
