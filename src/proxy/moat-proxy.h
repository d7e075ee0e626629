/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-filter-matcher.h"

G_BEGIN_DECLS

/*
 * MoatProxy: Moat's local HTTP forward proxy.
 *
 * It runs on its own thread with its own epoll loop; nothing on that thread
 * touches SQLite, disk or blocking DNS (names are resolved on a small worker
 * pool and cached for MOAT_PROXY_DNS_TTL_S). Every setter may be called from
 * the thread that started the proxy while it runs: the change is handed to
 * the proxy thread and takes effect for new requests.
 *
 * Signals, emitted on the GMainContext that was thread-default when
 * moat_proxy_start() was called:
 *   ::blocked (GPtrArray *blocks): MoatProxyBlock records, oldest first, batched
 *     (at most one emission every MOAT_PROXY_BLOCKED_INTERVAL_MS). Repeats of
 *     the same block within a batch are one record with a count, so a flood
 *     of blocks costs the owner one record per blocked thing, not per request.
 *   ::always-allow-requested (const char *host): the user pressed "Always allow"
 *     on a block page (the proxy has already allowed the host once); the owner
 *     adds it to the user's allow-list.
 */

#define MOAT_PROXY_DNS_TTL_S 30
#define MOAT_PROXY_BLOCKED_INTERVAL_MS 100
#define MOAT_PROXY_ALLOW_ONCE_S 600
#define MOAT_PROXY_VIA_TOKEN "1.1 moat"

typedef enum {
  MOAT_PROXY_BLOCK_FILTER,       /* a list rule */
  MOAT_PROXY_BLOCK_LOCAL,        /* a local or link-local destination */
  MOAT_PROXY_BLOCK_PORT,         /* CONNECT to a port not in the allow-list */
  MOAT_PROXY_BLOCK_LOOP,         /* a request addressed to the proxy itself */
  MOAT_PROXY_BLOCK_PROTECTED,    /* a protected resource while the network is unsafe */
  MOAT_PROXY_BLOCK_POLICY,       /* a host the threat policy cut off (block_host) */
} MoatProxyBlockReason;

typedef struct {
  gint64                time;          /* g_get_real_time () */
  MoatProxyBlockReason  reason;
  gboolean              tunnel;        /* CONNECT */
  char                 *host;          /* normalised */
  guint16               port;
  char                 *url;           /* plain HTTP: the full URL; CONNECT: NULL */
  MoatFilterCategory    category;      /* MOAT_PROXY_BLOCK_FILTER only */
  char                 *list_name;     /* idem */
  char                 *rule;          /* idem: the exact rule text */
  guint                 line;          /* idem: its line in the list, 1-based */
  guint                 count;         /* identical blocks (same reason, host, port, list
                                        * and rule) this record stands for, in one batch */
} MoatProxyBlock;

void moat_proxy_block_free (MoatProxyBlock *block);

typedef struct {
  guint64 requests;          /* HTTP requests answered (any status) */
  guint64 tunnels;           /* CONNECT tunnels opened */
  guint64 blocked;           /* requests and tunnels refused by a rule or policy */
  guint64 errors;            /* 4xx/5xx answered because of bad input or upstream failure */
  guint   connections;       /* client connections open now */
  guint   upstream_idle;     /* pooled upstream connections now */
} MoatProxyStats;

#define MOAT_TYPE_PROXY (moat_proxy_get_type ())
G_DECLARE_FINAL_TYPE (MoatProxy, moat_proxy, MOAT, PROXY, GObject)

MoatProxy *moat_proxy_new                 (void);

/* Binds @address (a loopback address: "127.0.0.1" or "::1") and @port (0 picks
 * a free one) and starts the proxy thread. */
gboolean   moat_proxy_start               (MoatProxy           *self,
                                           const char          *address,
                                           guint16              port,
                                           GError             **error);
/* Stops the thread and closes every connection. Safe to call twice. */
void       moat_proxy_stop                (MoatProxy           *self);

/* "127.0.0.1:PORT" while running, else NULL. */
const char *moat_proxy_get_address        (MoatProxy           *self);
guint16    moat_proxy_get_port            (MoatProxy           *self);

void       moat_proxy_set_matcher         (MoatProxy           *self,
                                           MoatFilterMatcher   *matcher);
/* Host names that may reach local addresses anyway (a developer's server). */
void       moat_proxy_set_allow_local_hosts (MoatProxy         *self,
                                           const char * const  *hosts);
/* Host names (each covering its subdomains) or IP addresses the proxy
 * refuses with MOAT_PROXY_BLOCK_PROTECTED, before any list and despite
 * "allow once": the company's resources while the network is not safe.
 * NULL or empty: none. */
void       moat_proxy_set_protected_hosts (MoatProxy           *self,
                                           const char * const  *hosts);
/* Idem, refused with MOAT_PROXY_BLOCK_POLICY: hosts a threat policy cut off. */
void       moat_proxy_set_policy_blocked_hosts (MoatProxy      *self,
                                           const char * const  *hosts);
/* Ports CONNECT may reach; default { 443 }. */
void       moat_proxy_set_connect_ports   (MoatProxy           *self,
                                           const guint16       *ports,
                                           guint                n_ports);
/* A parent proxy ("host", port) every request and tunnel goes through; NULL
 * host for none. */
void       moat_proxy_set_parent          (MoatProxy           *self,
                                           const char          *host,
                                           guint16              port);
/* Lets @host through despite the lists for MOAT_PROXY_ALLOW_ONCE_S seconds. */
void       moat_proxy_allow_once          (MoatProxy           *self,
                                           const char          *host);
/* Like curl --resolve: @host resolves to @address without asking DNS. For
 * tests and for pinning; NULL @address removes it. */
void       moat_proxy_set_resolve         (MoatProxy           *self,
                                           const char          *host,
                                           const char          *address);

void       moat_proxy_get_stats           (MoatProxy           *self,
                                           MoatProxyStats      *stats);

G_END_DECLS
