/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * The routing and neighbour tables: the first half of the input is the
 * route table, the rest the ARP table. Either a default gateway comes out,
 * with a well-formed address and MAC, or a NOT_FOUND error.
 */
#include "config.h"

#include <arpa/inet.h>
#include <gio/gio.h>
#include <stdint.h>
#include <string.h>

#include "moat-gateway-probe.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autofree char *route = g_strndup ((const char *) data, size / 2);
  g_autofree char *arp = g_strndup ((const char *) data + size / 2, size - size / 2);
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatGateway) gw = moat_gateway_parse (route, arp, &error);
  struct in_addr addr;

  if (gw == NULL)
    {
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
      return 0;
    }
  g_assert_cmpint (inet_pton (AF_INET, gw->address, &addr), ==, 1);
  g_assert_cmpuint (strlen (gw->interface), >, 0);
  if (gw->mac != NULL)
    g_assert_cmpuint (strlen (gw->mac), ==, 17);
  if (gw->shared_with != NULL)
    g_assert_nonnull (gw->mac);
  return 0;
}
