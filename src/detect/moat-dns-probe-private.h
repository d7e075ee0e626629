/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * The DNS wire format as the DNS probe needs it: build one query, parse one
 * reply. Exposed for the unit tests and the fuzz target only.
 */
#pragma once

#include <glib.h>

G_BEGIN_DECLS

#define MOAT_DNS_TYPE_A     1
#define MOAT_DNS_TYPE_CNAME 5
#define MOAT_DNS_TYPE_AAAA  28
#define MOAT_DNS_TYPE_OPT   41

#define MOAT_DNS_RCODE_NOERROR  0
#define MOAT_DNS_RCODE_SERVFAIL 2
#define MOAT_DNS_RCODE_NXDOMAIN 3
#define MOAT_DNS_RCODE_REFUSED  5

/* Largest reply read over UDP (EDNS0 payload size the query advertises). */
#define MOAT_DNS_MAX_MESSAGE 1232

/**
 * MoatDnsReply:
 * @id: the message id
 * @rcode: the response code (header only, no EDNS0 extension)
 * @truncated: the TC flag
 * @authentic: the AD flag (the resolver validated the answer with DNSSEC)
 * @qname: the question's name, lower case, without the final dot
 * @qtype: the question's type
 * @addresses: (element-type utf8): the addresses (text) of the question's type
 *   found in the answer for @qname, following CNAMEs
 * @cnames: (element-type utf8): the CNAME chain followed, in order
 */
typedef struct {
  guint16    id;
  guint8     rcode;
  gboolean   truncated;
  gboolean   authentic;
  char      *qname;
  guint16    qtype;
  GPtrArray *addresses;
  GPtrArray *cnames;
} MoatDnsReply;

void      moat_dns_reply_free  (MoatDnsReply *reply);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatDnsReply, moat_dns_reply_free)

MoatDnsReply *moat_dns_reply_parse (const guint8 *data,
                                    gsize         len,
                                    GError      **error);
GBytes       *moat_dns_query_build (guint16       id,
                                    const char   *name,
                                    guint16       qtype,
                                    gboolean      dnssec,
                                    GError      **error);
gboolean      moat_dns_name_is_valid (const char *name);

G_END_DECLS
