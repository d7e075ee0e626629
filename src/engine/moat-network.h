/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

G_BEGIN_DECLS

/*
 * MoatNetwork: what the threat responder asks of the network stack: bring a
 * VPN connection up or down, leave a Wi-Fi network. MoatNmNetwork does it
 * through NetworkManager; tests subclass it. Every call is async; failures
 * come back as MOAT_ERROR with a message for people (NOT_FOUND: no such
 * connection; TIMED_OUT; NOT_SUPPORTED: no NetworkManager; FAILED).
 *
 * Signals:
 *   ::vpn-down (const char *name): a VPN connection went down without being
 *     asked to (the server dropped it, the user turned it off).
 */

#define MOAT_TYPE_NETWORK (moat_network_get_type ())
G_DECLARE_DERIVABLE_TYPE (MoatNetwork, moat_network, MOAT, NETWORK, GObject)

struct _MoatNetworkClass
{
  GObjectClass parent_class;

  void     (*activate_vpn_async)      (MoatNetwork         *self,
                                       const char          *name,
                                       guint                timeout_s,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data);
  gboolean (*activate_vpn_finish)     (MoatNetwork         *self,
                                       GAsyncResult        *result,
                                       GError             **error);
  void     (*deactivate_vpn_async)    (MoatNetwork         *self,
                                       const char          *name,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data);
  gboolean (*deactivate_vpn_finish)   (MoatNetwork         *self,
                                       GAsyncResult        *result,
                                       GError             **error);
  void     (*disconnect_wifi_async)   (MoatNetwork         *self,
                                       const char          *ssid,
                                       GCancellable        *cancellable,
                                       GAsyncReadyCallback  callback,
                                       gpointer             user_data);
  gboolean (*disconnect_wifi_finish)  (MoatNetwork         *self,
                                       GAsyncResult        *result,
                                       GError             **error);

  gpointer padding[8];
};

void     moat_network_activate_vpn_async     (MoatNetwork         *self,
                                              const char          *name,
                                              guint                timeout_s,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean moat_network_activate_vpn_finish    (MoatNetwork         *self,
                                              GAsyncResult        *result,
                                              GError             **error);
void     moat_network_deactivate_vpn_async   (MoatNetwork         *self,
                                              const char          *name,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean moat_network_deactivate_vpn_finish  (MoatNetwork         *self,
                                              GAsyncResult        *result,
                                              GError             **error);
void     moat_network_disconnect_wifi_async  (MoatNetwork         *self,
                                              const char          *ssid,
                                              GCancellable        *cancellable,
                                              GAsyncReadyCallback  callback,
                                              gpointer             user_data);
gboolean moat_network_disconnect_wifi_finish (MoatNetwork         *self,
                                              GAsyncResult        *result,
                                              GError             **error);
void     moat_network_emit_vpn_down          (MoatNetwork         *self,
                                              const char          *name);

G_END_DECLS
