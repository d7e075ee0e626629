/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
/*
 * MoatProxy: the owner-side object. It binds the listener, starts the proxy
 * thread (moat-proxy-loop.c), hands every setter to that thread as a command,
 * and delivers blocks on the owner's GMainContext in batches.
 */
#define G_LOG_DOMAIN "moat-proxy"

#include "config.h"

#include "moat-proxy.h"
#include "moat-proxy-private.h"

#include "moat-block-page.h"

#include <arpa/inet.h>
#include <errno.h>
#include <ifaddrs.h>
#include <netinet/in.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define IFADDRS_REFRESH_S 30
#define MAX_PENDING_BLOCKS 10000

struct _MoatProxy
{
  GObject        parent_instance;

  /* owned */
  MoatProxyLoop *loop;
  GThread       *thread;
  GMainContext  *owner_context;
  char          *address;
  guint16        port;
  GSource       *ifaddrs_source;

  /* shared with the proxy thread, under lock */
  GMutex         lock;
  GPtrArray     *pending_blocks;     /* MoatProxyBlock */
  GHashTable    *pending_index;      /* MoatProxyBlock -> itself: finds repeats */
  GPtrArray     *pending_allow;      /* char * */
  GSource       *deliver_source;
  gint64         last_delivery;
};

G_DEFINE_TYPE (MoatProxy, moat_proxy, G_TYPE_OBJECT)

enum {
  SIGNAL_BLOCKED,
  SIGNAL_ALWAYS_ALLOW_REQUESTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

void
moat_proxy_block_free (MoatProxyBlock *block)
{
  if (block == NULL)
    return;
  g_free (block->host);
  g_free (block->url);
  g_free (block->list_name);
  g_free (block->rule);
  g_free (block);
}

/* ---------------------------------------------------------- owner delivery */

/* Two blocks are the same when a user would call them the same: the URL of a
 * plain-HTTP request may differ. */
static guint
block_hash (gconstpointer data)
{
  const MoatProxyBlock *b = data;

  return g_str_hash (b->host) ^ (b->rule != NULL ? g_str_hash (b->rule) : 0) ^
         ((guint) b->port << 8) ^ ((guint) b->reason << 1) ^ (guint) b->tunnel ^ b->line;
}

static gboolean
block_equal (gconstpointer a_data, gconstpointer b_data)
{
  const MoatProxyBlock *a = a_data;
  const MoatProxyBlock *b = b_data;

  return a->reason == b->reason && a->tunnel == b->tunnel && a->port == b->port &&
         a->line == b->line && g_strcmp0 (a->host, b->host) == 0 &&
         g_strcmp0 (a->rule, b->rule) == 0 && g_strcmp0 (a->list_name, b->list_name) == 0;
}

static gboolean
deliver_cb (gpointer user_data)
{
  MoatProxy *self = user_data;
  g_autoptr(GPtrArray) blocks = NULL;
  g_autoptr(GPtrArray) allow = NULL;

  g_mutex_lock (&self->lock);
  blocks = g_steal_pointer (&self->pending_blocks);
  g_clear_pointer (&self->pending_index, g_hash_table_unref);
  allow = g_steal_pointer (&self->pending_allow);
  g_clear_pointer (&self->deliver_source, g_source_unref);
  self->last_delivery = g_get_monotonic_time ();
  g_mutex_unlock (&self->lock);

  g_object_ref (self);
  if (blocks != NULL && blocks->len > 0)
    g_signal_emit (self, signals[SIGNAL_BLOCKED], 0, blocks);
  for (guint i = 0; allow != NULL && i < allow->len; i++)
    g_signal_emit (self, signals[SIGNAL_ALWAYS_ALLOW_REQUESTED], 0, (const char *) allow->pdata[i]);
  g_object_unref (self);
  return G_SOURCE_REMOVE;
}

/* Under self->lock: one pending source at a time, at most one delivery
 * every MOAT_PROXY_BLOCKED_INTERVAL_MS. */
static void
schedule_delivery_locked (MoatProxy *self)
{
  gint64 since, wait_ms;

  if (self->deliver_source != NULL || self->owner_context == NULL)
    return;
  since = (g_get_monotonic_time () - self->last_delivery) / 1000;
  wait_ms = since >= MOAT_PROXY_BLOCKED_INTERVAL_MS ? 0 : MOAT_PROXY_BLOCKED_INTERVAL_MS - since;
  self->deliver_source = g_timeout_source_new (wait_ms);
  g_source_set_priority (self->deliver_source, G_PRIORITY_DEFAULT);
  g_source_set_callback (self->deliver_source, deliver_cb, self, NULL);
  g_source_set_static_name (self->deliver_source, "[moat] proxy blocks");
  g_source_attach (self->deliver_source, self->owner_context);
}

static void
on_loop_blocked (MoatProxyBlock *block, gpointer user_data)
{
  MoatProxy *self = user_data;

  MoatProxyBlock *same;

  g_mutex_lock (&self->lock);
  if (self->pending_blocks == NULL)
    {
      self->pending_blocks = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_proxy_block_free);
      self->pending_index = g_hash_table_new (block_hash, block_equal);
    }
  same = g_hash_table_lookup (self->pending_index, block);
  if (same != NULL)
    {
      /* A repeat: counted, not queued. */
      if (same->count < G_MAXUINT)
        same->count++;
      moat_proxy_block_free (block);
    }
  /* Bounded: in a flood of different blocks while the owner is busy, the
   * rest of a batch is dropped (they are counted in the stats all the same). */
  else if (self->pending_blocks->len >= MAX_PENDING_BLOCKS)
    moat_proxy_block_free (block);
  else
    {
      block->count = 1;
      g_ptr_array_add (self->pending_blocks, block);
      g_hash_table_add (self->pending_index, block);
    }
  schedule_delivery_locked (self);
  g_mutex_unlock (&self->lock);
}

static void
on_loop_always_allow (const char *host, gpointer user_data)
{
  MoatProxy *self = user_data;

  g_mutex_lock (&self->lock);
  if (self->pending_allow == NULL)
    self->pending_allow = g_ptr_array_new_with_free_func (g_free);
  if (self->pending_allow->len < 100)
    g_ptr_array_add (self->pending_allow, g_strdup (host));
  schedule_delivery_locked (self);
  g_mutex_unlock (&self->lock);
}

/* -------------------------------------------------------------- commands */

static void
push_command (MoatProxy *self, MoatProxyCommand *cmd)
{
  if (self->loop == NULL)
    {
      moat_proxy_command_free (cmd);
      return;
    }
  moat_proxy_loop_push (self->loop, cmd);
}

static MoatProxyCommand *
command_new (MoatProxyCommandType type)
{
  MoatProxyCommand *cmd = g_new0 (MoatProxyCommand, 1);

  cmd->type = type;
  return cmd;
}

/* Settings made before start() are replayed when it starts. */
typedef struct
{
  MoatFilterMatcher *matcher;
  char             **allow_local;
  char             **protected_hosts;
  char             **policy_blocked;
  guint16           *ports;
  guint              n_ports;
  gboolean           ports_set;
  char              *parent_host;
  guint16            parent_port;
  GHashTable        *resolve;       /* host → address */
  GPtrArray         *allow_once;
  guint              timeouts[4];
} Settings;

static GQuark
settings_quark (void)
{
  return g_quark_from_static_string ("moat-proxy-settings");
}

static void
settings_free (gpointer p)
{
  Settings *s = p;

  g_clear_pointer (&s->matcher, moat_filter_matcher_unref);
  g_strfreev (s->allow_local);
  g_strfreev (s->protected_hosts);
  g_strfreev (s->policy_blocked);
  g_free (s->ports);
  g_free (s->parent_host);
  g_clear_pointer (&s->resolve, g_hash_table_unref);
  g_clear_pointer (&s->allow_once, g_ptr_array_unref);
  g_free (s);
}

static Settings *
get_settings (MoatProxy *self)
{
  Settings *s = g_object_get_qdata (G_OBJECT (self), settings_quark ());

  if (s == NULL)
    {
      s = g_new0 (Settings, 1);
      s->resolve = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
      s->allow_once = g_ptr_array_new_with_free_func (g_free);
      g_object_set_qdata_full (G_OBJECT (self), settings_quark (), s, settings_free);
    }
  return s;
}

static GArray *
collect_ifaddrs (void)
{
  struct ifaddrs *list = NULL;
  GArray *addrs = g_array_new (FALSE, TRUE, sizeof (struct sockaddr_storage));

  if (getifaddrs (&list) < 0)
    return addrs;
  for (struct ifaddrs *ifa = list; ifa != NULL; ifa = ifa->ifa_next)
    {
      struct sockaddr_storage ss = { 0 };

      if (ifa->ifa_addr == NULL)
        continue;
      if (ifa->ifa_addr->sa_family == AF_INET)
        memcpy (&ss, ifa->ifa_addr, sizeof (struct sockaddr_in));
      else if (ifa->ifa_addr->sa_family == AF_INET6)
        memcpy (&ss, ifa->ifa_addr, sizeof (struct sockaddr_in6));
      else
        continue;
      g_array_append_val (addrs, ss);
    }
  freeifaddrs (list);
  return addrs;
}

static gboolean
refresh_ifaddrs_cb (gpointer user_data)
{
  MoatProxy *self = user_data;
  MoatProxyCommand *cmd = command_new (MOAT_PROXY_CMD_SET_IFADDRS);

  /* getifaddrs() asks the kernel over netlink: no disk, and quick. */
  cmd->addrs = collect_ifaddrs ();
  push_command (self, cmd);
  return G_SOURCE_CONTINUE;
}

/* ------------------------------------------------------------------ class */

static void
moat_proxy_dispose (GObject *object)
{
  MoatProxy *self = MOAT_PROXY (object);

  moat_proxy_stop (self);
  G_OBJECT_CLASS (moat_proxy_parent_class)->dispose (object);
}

static void
moat_proxy_finalize (GObject *object)
{
  MoatProxy *self = MOAT_PROXY (object);

  g_clear_pointer (&self->pending_index, g_hash_table_unref);
  g_clear_pointer (&self->pending_blocks, g_ptr_array_unref);
  g_clear_pointer (&self->pending_allow, g_ptr_array_unref);
  g_mutex_clear (&self->lock);
  G_OBJECT_CLASS (moat_proxy_parent_class)->finalize (object);
}

static void
moat_proxy_class_init (MoatProxyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = moat_proxy_dispose;
  object_class->finalize = moat_proxy_finalize;

  signals[SIGNAL_BLOCKED] =
    g_signal_new ("blocked", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_PTR_ARRAY);
  signals[SIGNAL_ALWAYS_ALLOW_REQUESTED] =
    g_signal_new ("always-allow-requested", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);
}

static void
moat_proxy_init (MoatProxy *self)
{
  g_mutex_init (&self->lock);
}

/* ------------------------------------------------------------------- API */

MoatProxy *
moat_proxy_new (void)
{
  return g_object_new (MOAT_TYPE_PROXY, NULL);
}

static void
raise_fd_limit (void)
{
  struct rlimit rl;

  /* Many client connections need many descriptors; the hard limit is ours
   * to use (Debian's default soft limit is 1024). */
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max && rl.rlim_cur < 65536)
    {
      rl.rlim_cur = rl.rlim_max == RLIM_INFINITY ? 65536 : MIN (rl.rlim_max, 65536);
      if (setrlimit (RLIMIT_NOFILE, &rl) < 0)
        g_debug ("setrlimit: %s", g_strerror (errno));
    }
}

gboolean
moat_proxy_start (MoatProxy   *self,
                  const char  *address,
                  guint16      port,
                  GError     **error)
{
  struct sockaddr_storage ss = { 0 };
  socklen_t len;
  int fd, one = 1;
  MoatProxyLoopCallbacks cb = { on_loop_blocked, on_loop_always_allow, self };
  Settings *s;
  char text[INET6_ADDRSTRLEN];

  g_return_val_if_fail (MOAT_IS_PROXY (self), FALSE);
  g_return_val_if_fail (address != NULL, FALSE);
  g_return_val_if_fail (error == NULL || *error == NULL, FALSE);

  if (self->loop != NULL)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_EXISTS, "The proxy is already running");
      return FALSE;
    }
  {
    struct sockaddr_in *in4 = (struct sockaddr_in *) &ss;
    struct sockaddr_in6 *in6 = (struct sockaddr_in6 *) &ss;

    if (inet_pton (AF_INET, address, &in4->sin_addr) == 1)
      {
        in4->sin_family = AF_INET;
        in4->sin_port = g_htons (port);
        len = sizeof *in4;
        if ((g_ntohl (in4->sin_addr.s_addr) >> 24) != 127)
          {
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                         "The proxy listens on loopback addresses only, not “%s”", address);
            return FALSE;
          }
      }
    else if (inet_pton (AF_INET6, address, &in6->sin6_addr) == 1)
      {
        in6->sin6_family = AF_INET6;
        in6->sin6_port = g_htons (port);
        len = sizeof *in6;
        if (!IN6_IS_ADDR_LOOPBACK (&in6->sin6_addr))
          {
            g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                         "The proxy listens on loopback addresses only, not “%s”", address);
            return FALSE;
          }
      }
    else
      {
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                     "“%s” is not an IP address", address);
        return FALSE;
      }
  }

  raise_fd_limit ();
  fd = socket (ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Cannot create the proxy socket: %s", g_strerror (saved));
      return FALSE;
    }
  setsockopt (fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
  if (ss.ss_family == AF_INET6)
    setsockopt (fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one);
  if (bind (fd, (struct sockaddr *) &ss, len) < 0 || listen (fd, 4096) < 0)
    {
      int saved = errno;

      close (fd);
      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Cannot listen on %s port %u: %s", address, port, g_strerror (saved));
      return FALSE;
    }
  len = sizeof ss;
  getsockname (fd, (struct sockaddr *) &ss, &len);

  self->loop = moat_proxy_loop_new (fd, &ss, &cb, error);
  if (self->loop == NULL)
    {
      close (fd);
      return FALSE;
    }

  if (ss.ss_family == AF_INET)
    {
      inet_ntop (AF_INET, &((struct sockaddr_in *) &ss)->sin_addr, text, sizeof text);
      self->port = g_ntohs (((struct sockaddr_in *) &ss)->sin_port);
      self->address = g_strdup_printf ("%s:%u", text, self->port);
    }
  else
    {
      inet_ntop (AF_INET6, &((struct sockaddr_in6 *) &ss)->sin6_addr, text, sizeof text);
      self->port = g_ntohs (((struct sockaddr_in6 *) &ss)->sin6_port);
      self->address = g_strdup_printf ("[%s]:%u", text, self->port);
    }

  /* The block page's strings are translated here, on the owner's thread. */
  moat_block_page_init ();

  self->owner_context = g_main_context_ref_thread_default ();
  self->last_delivery = 0;

  /* Replay what was set before the start. */
  s = g_object_get_qdata (G_OBJECT (self), settings_quark ());
  if (s != NULL)
    {
      GHashTableIter iter;
      gpointer key, value;
      MoatProxyCommand *cmd;

      if (s->matcher != NULL)
        {
          cmd = command_new (MOAT_PROXY_CMD_SET_MATCHER);
          cmd->matcher = moat_filter_matcher_ref (s->matcher);
          push_command (self, cmd);
        }
      if (s->allow_local != NULL)
        {
          cmd = command_new (MOAT_PROXY_CMD_SET_ALLOW_LOCAL);
          cmd->strv = g_strdupv (s->allow_local);
          push_command (self, cmd);
        }
      if (s->protected_hosts != NULL)
        {
          cmd = command_new (MOAT_PROXY_CMD_SET_PROTECTED);
          cmd->strv = g_strdupv (s->protected_hosts);
          push_command (self, cmd);
        }
      if (s->policy_blocked != NULL)
        {
          cmd = command_new (MOAT_PROXY_CMD_SET_POLICY_BLOCKED);
          cmd->strv = g_strdupv (s->policy_blocked);
          push_command (self, cmd);
        }
      if (s->ports_set)
        {
          cmd = command_new (MOAT_PROXY_CMD_SET_CONNECT_PORTS);
          cmd->ports = g_memdup2 (s->ports, sizeof (guint16) * s->n_ports);
          cmd->n_ports = s->n_ports;
          push_command (self, cmd);
        }
      if (s->parent_host != NULL)
        {
          cmd = command_new (MOAT_PROXY_CMD_SET_PARENT);
          cmd->host = g_strdup (s->parent_host);
          cmd->port = s->parent_port;
          push_command (self, cmd);
        }
      g_hash_table_iter_init (&iter, s->resolve);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          cmd = command_new (MOAT_PROXY_CMD_SET_RESOLVE);
          cmd->host = g_strdup (key);
          cmd->address = g_strdup (value);
          push_command (self, cmd);
        }
      for (guint i = 0; i < s->allow_once->len; i++)
        {
          cmd = command_new (MOAT_PROXY_CMD_ALLOW_ONCE);
          cmd->host = g_strdup (s->allow_once->pdata[i]);
          push_command (self, cmd);
        }
      g_ptr_array_set_size (s->allow_once, 0);
      if (s->timeouts[0] || s->timeouts[1] || s->timeouts[2] || s->timeouts[3])
        {
          cmd = command_new (MOAT_PROXY_CMD_SET_TIMEOUTS);
          memcpy (cmd->timeouts, s->timeouts, sizeof cmd->timeouts);
          push_command (self, cmd);
        }
    }
  refresh_ifaddrs_cb (self);
  self->ifaddrs_source = g_timeout_source_new_seconds (IFADDRS_REFRESH_S);
  g_source_set_callback (self->ifaddrs_source, refresh_ifaddrs_cb, self, NULL);
  g_source_set_static_name (self->ifaddrs_source, "[moat] proxy interface addresses");
  g_source_attach (self->ifaddrs_source, self->owner_context);

  self->thread = g_thread_new ("moat-proxy", moat_proxy_loop_run, self->loop);
  return TRUE;
}

void
moat_proxy_stop (MoatProxy *self)
{
  g_return_if_fail (MOAT_IS_PROXY (self));

  if (self->loop == NULL)
    return;
  moat_proxy_loop_push (self->loop, command_new (MOAT_PROXY_CMD_STOP));
  g_thread_join (g_steal_pointer (&self->thread));
  moat_proxy_loop_free (g_steal_pointer (&self->loop));
  if (self->ifaddrs_source != NULL)
    {
      g_source_destroy (self->ifaddrs_source);
      g_clear_pointer (&self->ifaddrs_source, g_source_unref);
    }
  g_mutex_lock (&self->lock);
  if (self->deliver_source != NULL)
    {
      g_source_destroy (self->deliver_source);
      g_clear_pointer (&self->deliver_source, g_source_unref);
    }
  g_clear_pointer (&self->pending_index, g_hash_table_unref);
  g_clear_pointer (&self->pending_blocks, g_ptr_array_unref);
  g_clear_pointer (&self->pending_allow, g_ptr_array_unref);
  g_mutex_unlock (&self->lock);
  g_clear_pointer (&self->owner_context, g_main_context_unref);
  g_clear_pointer (&self->address, g_free);
  self->port = 0;
}

const char *
moat_proxy_get_address (MoatProxy *self)
{
  g_return_val_if_fail (MOAT_IS_PROXY (self), NULL);
  return self->address;
}

guint16
moat_proxy_get_port (MoatProxy *self)
{
  g_return_val_if_fail (MOAT_IS_PROXY (self), 0);
  return self->port;
}

void
moat_proxy_set_matcher (MoatProxy         *self,
                        MoatFilterMatcher *matcher)
{
  Settings *s;
  MoatProxyCommand *cmd;

  g_return_if_fail (MOAT_IS_PROXY (self));

  s = get_settings (self);
  g_clear_pointer (&s->matcher, moat_filter_matcher_unref);
  if (matcher != NULL)
    s->matcher = moat_filter_matcher_ref (matcher);
  cmd = command_new (MOAT_PROXY_CMD_SET_MATCHER);
  cmd->matcher = matcher != NULL ? moat_filter_matcher_ref (matcher) : NULL;
  push_command (self, cmd);
}

void
moat_proxy_set_allow_local_hosts (MoatProxy          *self,
                                  const char * const *hosts)
{
  Settings *s;
  MoatProxyCommand *cmd;

  g_return_if_fail (MOAT_IS_PROXY (self));

  s = get_settings (self);
  g_strfreev (s->allow_local);
  s->allow_local = g_strdupv ((char **) hosts);
  if (s->allow_local == NULL)
    s->allow_local = g_new0 (char *, 1);
  cmd = command_new (MOAT_PROXY_CMD_SET_ALLOW_LOCAL);
  cmd->strv = g_strdupv (s->allow_local);
  push_command (self, cmd);
}

static void
set_host_set (MoatProxy           *self,
              MoatProxyCommandType type,
              char              ***saved,
              const char * const  *hosts)
{
  MoatProxyCommand *cmd;

  g_strfreev (*saved);
  *saved = g_strdupv ((char **) hosts);
  if (*saved == NULL)
    *saved = g_new0 (char *, 1);
  cmd = command_new (type);
  cmd->strv = g_strdupv (*saved);
  push_command (self, cmd);
}

void
moat_proxy_set_protected_hosts (MoatProxy          *self,
                                const char * const *hosts)
{
  g_return_if_fail (MOAT_IS_PROXY (self));

  set_host_set (self, MOAT_PROXY_CMD_SET_PROTECTED, &get_settings (self)->protected_hosts, hosts);
}

void
moat_proxy_set_policy_blocked_hosts (MoatProxy          *self,
                                     const char * const *hosts)
{
  g_return_if_fail (MOAT_IS_PROXY (self));

  set_host_set (self, MOAT_PROXY_CMD_SET_POLICY_BLOCKED, &get_settings (self)->policy_blocked,
                hosts);
}

void
moat_proxy_set_connect_ports (MoatProxy     *self,
                              const guint16 *ports,
                              guint          n_ports)
{
  Settings *s;
  MoatProxyCommand *cmd;

  g_return_if_fail (MOAT_IS_PROXY (self));
  g_return_if_fail (ports != NULL || n_ports == 0);

  s = get_settings (self);
  g_free (s->ports);
  s->ports = g_memdup2 (ports, sizeof (guint16) * n_ports);
  s->n_ports = n_ports;
  s->ports_set = TRUE;
  cmd = command_new (MOAT_PROXY_CMD_SET_CONNECT_PORTS);
  cmd->ports = g_memdup2 (ports, sizeof (guint16) * n_ports);
  cmd->n_ports = n_ports;
  push_command (self, cmd);
}

void
moat_proxy_set_parent (MoatProxy  *self,
                       const char *host,
                       guint16     port)
{
  Settings *s;
  MoatProxyCommand *cmd;

  g_return_if_fail (MOAT_IS_PROXY (self));

  s = get_settings (self);
  g_free (s->parent_host);
  s->parent_host = g_strdup (host);
  s->parent_port = port;
  cmd = command_new (MOAT_PROXY_CMD_SET_PARENT);
  cmd->host = g_strdup (host);
  cmd->port = port;
  push_command (self, cmd);
}

void
moat_proxy_allow_once (MoatProxy  *self,
                       const char *host)
{
  MoatProxyCommand *cmd;

  g_return_if_fail (MOAT_IS_PROXY (self));
  g_return_if_fail (host != NULL);

  if (self->loop == NULL)
    {
      g_ptr_array_add (get_settings (self)->allow_once, g_strdup (host));
      return;
    }
  cmd = command_new (MOAT_PROXY_CMD_ALLOW_ONCE);
  cmd->host = g_strdup (host);
  push_command (self, cmd);
}

void
moat_proxy_set_resolve (MoatProxy  *self,
                        const char *host,
                        const char *address)
{
  Settings *s;
  MoatProxyCommand *cmd;

  g_return_if_fail (MOAT_IS_PROXY (self));
  g_return_if_fail (host != NULL);

  s = get_settings (self);
  if (address != NULL)
    g_hash_table_replace (s->resolve, g_strdup (host), g_strdup (address));
  else
    g_hash_table_remove (s->resolve, host);
  cmd = command_new (MOAT_PROXY_CMD_SET_RESOLVE);
  cmd->host = g_strdup (host);
  cmd->address = g_strdup (address);
  push_command (self, cmd);
}

void
moat_proxy_get_stats (MoatProxy      *self,
                      MoatProxyStats *stats)
{
  g_return_if_fail (MOAT_IS_PROXY (self));
  g_return_if_fail (stats != NULL);

  memset (stats, 0, sizeof *stats);
  if (self->loop != NULL)
    moat_proxy_loop_get_stats (self->loop, stats);
}

void
moat_proxy_set_timeouts_for_testing (MoatProxy *self,
                                     guint      head_ms,
                                     guint      idle_ms,
                                     guint      upstream_ms,
                                     guint      tunnel_ms)
{
  Settings *s;
  MoatProxyCommand *cmd;

  g_return_if_fail (MOAT_IS_PROXY (self));

  s = get_settings (self);
  s->timeouts[0] = head_ms;
  s->timeouts[1] = idle_ms;
  s->timeouts[2] = upstream_ms;
  s->timeouts[3] = tunnel_ms;
  cmd = command_new (MOAT_PROXY_CMD_SET_TIMEOUTS);
  memcpy (cmd->timeouts, s->timeouts, sizeof cmd->timeouts);
  push_command (self, cmd);
}
