/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-engine"

#include "config.h"

#include "moat-network.h"

#include "moat-error.h"

#include <glib/gi18n.h>

G_DEFINE_TYPE (MoatNetwork, moat_network, G_TYPE_OBJECT)

enum {
  SIGNAL_VPN_DOWN,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

/* The base class can do nothing: every request fails the same way. */
static void
unsupported_async (MoatNetwork         *self,
                   gpointer             source_tag,
                   GAsyncReadyCallback  callback,
                   gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, NULL, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_NOT_SUPPORTED, "%s",
                           _("Moat cannot control this computer’s network connections"));
}

static void
real_activate_vpn_async (MoatNetwork *self, const char *name, guint timeout_s,
                         GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  unsupported_async (self, real_activate_vpn_async, callback, user_data);
}

static void
real_deactivate_vpn_async (MoatNetwork *self, const char *name, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  unsupported_async (self, real_deactivate_vpn_async, callback, user_data);
}

static void
real_disconnect_wifi_async (MoatNetwork *self, const char *ssid, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  unsupported_async (self, real_disconnect_wifi_async, callback, user_data);
}

static gboolean
real_finish (MoatNetwork *self, GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
moat_network_class_init (MoatNetworkClass *klass)
{
  klass->activate_vpn_async = real_activate_vpn_async;
  klass->activate_vpn_finish = real_finish;
  klass->deactivate_vpn_async = real_deactivate_vpn_async;
  klass->deactivate_vpn_finish = real_finish;
  klass->disconnect_wifi_async = real_disconnect_wifi_async;
  klass->disconnect_wifi_finish = real_finish;

  signals[SIGNAL_VPN_DOWN] =
    g_signal_new ("vpn-down", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
moat_network_init (MoatNetwork *self)
{
}

/**
 * moat_network_activate_vpn_async:
 * @name: the VPN connection's name (its NetworkManager id)
 * @timeout_s: how long to wait for it to come up
 *
 * Brings the VPN up; completes when it is up, or with an error when it
 * cannot come up within @timeout_s. Already up is success.
 */
void
moat_network_activate_vpn_async (MoatNetwork         *self,
                                 const char          *name,
                                 guint                timeout_s,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  g_return_if_fail (MOAT_IS_NETWORK (self));
  g_return_if_fail (name != NULL);

  MOAT_NETWORK_GET_CLASS (self)->activate_vpn_async (self, name, timeout_s, cancellable,
                                                     callback, user_data);
}

gboolean
moat_network_activate_vpn_finish (MoatNetwork   *self,
                                  GAsyncResult  *result,
                                  GError       **error)
{
  g_return_val_if_fail (MOAT_IS_NETWORK (self), FALSE);

  return MOAT_NETWORK_GET_CLASS (self)->activate_vpn_finish (self, result, error);
}

/**
 * moat_network_deactivate_vpn_async:
 *
 * Takes the VPN down. Already down is success.
 */
void
moat_network_deactivate_vpn_async (MoatNetwork         *self,
                                   const char          *name,
                                   GCancellable        *cancellable,
                                   GAsyncReadyCallback  callback,
                                   gpointer             user_data)
{
  g_return_if_fail (MOAT_IS_NETWORK (self));
  g_return_if_fail (name != NULL);

  MOAT_NETWORK_GET_CLASS (self)->deactivate_vpn_async (self, name, cancellable, callback,
                                                       user_data);
}

gboolean
moat_network_deactivate_vpn_finish (MoatNetwork   *self,
                                    GAsyncResult  *result,
                                    GError       **error)
{
  g_return_val_if_fail (MOAT_IS_NETWORK (self), FALSE);

  return MOAT_NETWORK_GET_CLASS (self)->deactivate_vpn_finish (self, result, error);
}

/**
 * moat_network_disconnect_wifi_async:
 * @ssid: (nullable): the network to leave; %NULL for whichever this computer
 *   is on
 *
 * Disconnects the Wi-Fi device that is on @ssid.
 */
void
moat_network_disconnect_wifi_async (MoatNetwork         *self,
                                    const char          *ssid,
                                    GCancellable        *cancellable,
                                    GAsyncReadyCallback  callback,
                                    gpointer             user_data)
{
  g_return_if_fail (MOAT_IS_NETWORK (self));

  MOAT_NETWORK_GET_CLASS (self)->disconnect_wifi_async (self, ssid, cancellable, callback,
                                                        user_data);
}

gboolean
moat_network_disconnect_wifi_finish (MoatNetwork   *self,
                                     GAsyncResult  *result,
                                     GError       **error)
{
  g_return_val_if_fail (MOAT_IS_NETWORK (self), FALSE);

  return MOAT_NETWORK_GET_CLASS (self)->disconnect_wifi_finish (self, result, error);
}

/* For subclasses: @name went down by itself. */
void
moat_network_emit_vpn_down (MoatNetwork *self,
                            const char  *name)
{
  g_return_if_fail (MOAT_IS_NETWORK (self));

  g_signal_emit (self, signals[SIGNAL_VPN_DOWN], 0, name);
}
