/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/* Where the proxy serves the PAC file, and its Content-Type. */
#define MOAT_PAC_PATH "/proxy.pac"
#define MOAT_PAC_CONTENT_TYPE "application/x-ns-proxy-autoconfig"

/* The proxy auto-configuration script that sends the desktop's traffic
 * through Moat at @proxy_host_port ("127.0.0.1:PORT" or "[::1]:PORT").
 * Returns NULL if @proxy_host_port is not a host and a port. */
char *moat_pac_render (const char *proxy_host_port);

G_END_DECLS
