/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * /proc/net/tcp and tcp6 as the SSH check reads them (from a fixture root
 * they are anybody's text): every line parses into a printable address, a
 * port and a state, or is counted as bad, in both formats.
 */
#include "config.h"

#include <gio/gio.h>
#include <stdint.h>
#include <string.h>

#include "moat-computer-health-private.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  for (guint v6 = 0; v6 < 2; v6++)
    {
      g_autoptr(GArray) sockets = NULL;
      guint bad = 0;

      sockets = moat_proc_net_tcp_parse ((const char *) data, size, v6, &bad);
      /* At most one socket or one bad count per line. */
      g_assert_cmpuint (sockets->len + bad, <=, size / 2 + 1);
      for (guint i = 0; i < sockets->len; i++)
        {
          const MoatTcpSocket *sock = &g_array_index (sockets, MoatTcpSocket, i);

          g_assert_cmpuint (strlen (sock->address), >, 0);
          g_assert_cmpuint (strlen (sock->address), <, sizeof sock->address);
          g_assert_true (g_str_is_ascii (sock->address));
          g_assert_cmpuint (sock->state, <=, 0xff);
          if (!v6)
            g_assert_cmpint (sock->loopback, ==, g_str_has_prefix (sock->address, "127."));
        }
    }
  return 0;
}
