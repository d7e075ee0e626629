/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <sys/socket.h>

#include "moat-proxy.h"

G_BEGIN_DECLS

/* The proxy thread's loop (moat-proxy-loop.c). MoatProxy owns it; every
 * function but the ones marked "any thread" runs on the owner's thread. */
typedef struct _MoatProxyLoop MoatProxyLoop;

typedef struct
{
  /* Called on the proxy thread; they must only queue. */
  void (*blocked) (MoatProxyBlock *block, gpointer user_data);           /* takes @block */
  void (*always_allow) (const char *host, gpointer user_data);
  gpointer user_data;
} MoatProxyLoopCallbacks;

typedef enum
{
  MOAT_PROXY_CMD_STOP,
  MOAT_PROXY_CMD_SET_MATCHER,
  MOAT_PROXY_CMD_SET_ALLOW_LOCAL,
  MOAT_PROXY_CMD_SET_CONNECT_PORTS,
  MOAT_PROXY_CMD_SET_PARENT,
  MOAT_PROXY_CMD_ALLOW_ONCE,
  MOAT_PROXY_CMD_SET_RESOLVE,
  MOAT_PROXY_CMD_SET_IFADDRS,
  MOAT_PROXY_CMD_SET_TIMEOUTS,
  MOAT_PROXY_CMD_SET_PROTECTED,
  MOAT_PROXY_CMD_SET_POLICY_BLOCKED,
} MoatProxyCommandType;

typedef struct
{
  MoatProxyCommandType  type;
  MoatFilterMatcher    *matcher;   /* owned */
  char                **strv;      /* owned */
  char                 *host;      /* owned */
  char                 *address;   /* owned */
  guint16               port;
  guint16              *ports;     /* owned */
  guint                 n_ports;
  GArray               *addrs;     /* owned, struct sockaddr_storage */
  guint                 timeouts[4];
} MoatProxyCommand;

MoatProxyLoop *moat_proxy_loop_new          (int                            listen_fd,
                                             const struct sockaddr_storage *listen_addr,
                                             const MoatProxyLoopCallbacks  *callbacks,
                                             GError                       **error);
/* The thread function. */
gpointer       moat_proxy_loop_run          (gpointer                       loop);
/* Any thread; takes @cmd. */
void           moat_proxy_loop_push         (MoatProxyLoop                 *loop,
                                             MoatProxyCommand              *cmd);
/* After the thread was joined. */
void           moat_proxy_loop_free         (MoatProxyLoop                 *loop);
/* Any thread. */
void           moat_proxy_loop_get_stats    (MoatProxyLoop                 *loop,
                                             MoatProxyStats                *stats);

void           moat_proxy_command_free      (MoatProxyCommand              *cmd);

/* For tests: header timeout for a first request, idle keep-alive timeout,
 * upstream timeout and tunnel idle timeout, in milliseconds (0 keeps one). */
void           moat_proxy_set_timeouts_for_testing (MoatProxy *self,
                                                    guint      head_ms,
                                                    guint      idle_ms,
                                                    guint      upstream_ms,
                                                    guint      tunnel_ms);

G_END_DECLS
