/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

/**
 * MoatHostKind:
 * @MOAT_HOST_KIND_NAME: a DNS name, in A-label (punycode) form
 * @MOAT_HOST_KIND_IPV4: an IPv4 address in dotted-quad form
 * @MOAT_HOST_KIND_IPV6: an IPv6 address in RFC 5952 form, without brackets
 *
 * What moat_host_normalize() found.
 */
typedef enum {
  MOAT_HOST_KIND_NAME,
  MOAT_HOST_KIND_IPV4,
  MOAT_HOST_KIND_IPV6,
} MoatHostKind;

/* Longest canonical host: 253 bytes for a name, 45 for an IPv6 address. */
#define MOAT_HOST_MAX_LENGTH 253

/* Longest input moat_host_normalize() looks at (after userinfo is stripped):
 * room for a 253-byte host written entirely in percent-encoded UTF-8. */
#define MOAT_HOST_MAX_INPUT_LENGTH 2048

gboolean  moat_host_split_authority   (const char    *authority,
                                       char         **host,
                                       guint16       *port,
                                       GError       **error);
char     *moat_host_normalize         (const char    *input,
                                       gssize         len,
                                       MoatHostKind  *out_kind,
                                       GError       **error);
gboolean  moat_host_is_local_address  (const char    *canonical_ip);
char     *moat_host_unmap_ipv4        (const char    *canonical_ip);
char     *moat_host_registrable_domain (const char   *canonical_host);

G_END_DECLS
