/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-finding.h"

G_BEGIN_DECLS

/**
 * MoatGateway:
 * @interface: the default route's device ("wlan0")
 * @address: the default gateway's IPv4 address
 * @mac: (nullable): its link-layer address, "aa:bb:cc:dd:ee:ff", from the
 *   neighbour table; %NULL when the table has no complete entry
 * @shared_with: (nullable): another neighbour's address that has the same
 *   link-layer address as the gateway (a host that answers for it)
 *
 * The default gateway as this computer sees it now.
 */
typedef struct {
  char *interface;
  char *address;
  char *mac;
  char *shared_with;
} MoatGateway;

void         moat_gateway_free        (MoatGateway *gateway);

/*
 * Reads the IPv4 default route and the neighbour table (/proc/net/route and
 * /proc/net/arp, or the files given, for tests). Returns %NULL with
 * G_IO_ERROR_NOT_FOUND when there is no default route, or another error when
 * the files cannot be read. Parses outside input strictly: a line it does not
 * understand is skipped.
 */
MoatGateway *moat_gateway_parse       (const char   *route_text,
                                       const char   *arp_text,
                                       GError      **error);

/*
 * The gateway check, on a worker thread: reads the tables (sending one UDP
 * datagram to the gateway's discard port first, so that the neighbour table
 * has its entry), and compares its MAC with the one @known_macs gives for
 * its subject ("GATEWAY on INTERFACE"), the MAC this network had before
 * (none the first time).
 *
 * - a MAC other than the known one, or a MAC that another neighbour shares (an
 *   ARP spoofer answers for the gateway with its own address), is
 *   `network.arp_spoof`, severity high; evidence: interface, gateway, mac,
 *   expected_mac, shared_with;
 * - no default route, or no neighbour entry: INCONCLUSIVE;
 * - otherwise CLEAN; its evidence has the MAC for the caller to remember.
 *
 * The subject is "GATEWAY on INTERFACE".
 */
void         moat_gateway_probe_run_async  (const char          *route_path,
                                            const char          *arp_path,
                                            GHashTable          *known_macs,
                                            GCancellable        *cancellable,
                                            GAsyncReadyCallback  callback,
                                            gpointer             user_data);
GPtrArray   *moat_gateway_probe_run_finish (GAsyncResult        *result,
                                            MoatGateway        **out_gateway,
                                            GError             **error);

G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatGateway, moat_gateway_free)

G_END_DECLS
