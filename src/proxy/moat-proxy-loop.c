/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
/*
 * The proxy thread: one epoll loop (level-triggered), a min-heap of timers
 * driving epoll_wait's timeout, client connections with a small state
 * machine, an upstream keep-alive pool, spliced CONNECT tunnels and a DNS
 * cache fed by a few resolver threads. Nothing here blocks.
 *
 * Memory: every read goes into one 64 KiB scratch buffer; a connection only
 * gets its own buffers while a partial head, body or unsent output is
 * pending, and loses them as soon as it is idle again.
 */
#define G_LOG_DOMAIN "moat-proxy"

#include "config.h"

#include "moat-proxy-private.h"

#include "moat-block-page.h"
#include "moat-host.h"
#include "moat-http-parser.h"
#include "moat-pac.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/random.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#define SCRATCH_SIZE        (64 * 1024)
#define DECODE_SIZE         (SCRATCH_SIZE + 64)
#define MAX_EVENTS          256
#define POOL_MAX_PER_KEY    32
#define POOL_IDLE_MS        30000
#define DNS_NEGATIVE_TTL_S  5
#define DNS_MAX_ADDRS       8
#define DNS_CACHE_MAX       4096
#define DNS_THREADS         4
#define MAX_CANDIDATES      4
#define HEAD_TIMEOUT_MS     10000
#define IDLE_TIMEOUT_MS     60000
#define UPSTREAM_TIMEOUT_MS 60000
#define CONNECT_TIMEOUT_MS  10000
#define TUNNEL_TIMEOUT_MS   300000
#define LINGER_MS           2000
#define ACCEPT_RETRY_MS     100
#define MAX_CONNS           20000
#define FD_RESERVE          64
#define TOKEN_LIFETIME_S    3600
#define REASON_MAX          200
#define TUNNEL_PIPE_SIZE    (256 * 1024)
#define NOTSENT_LOWAT       (16 * 1024)
#define PAGE_CACHE_US       (60 * G_USEC_PER_SEC)

enum { KIND_LISTENER, KIND_WAKE, KIND_CLIENT, KIND_UPSTREAM };

enum {
  CS_HEAD,          /* waiting for (the rest of) a request head */
  CS_RESOLVING,     /* the head is kept in c->in until DNS answers */
  CS_FORWARD,       /* a request is with an upstream */
  CS_CONNECTING,    /* a CONNECT waits for its upstream */
  CS_TUNNEL,
  CS_LOCAL_BODY,    /* reading the body of a form posted to the proxy */
  CS_CLOSING,       /* flushing the last answer */
  CS_LINGER,        /* write side shut; discarding input until EOF */
};

enum { UP_CONNECTING, UP_ACTIVE, UP_IDLE, UP_TUNNEL };
enum { TK_CLIENT, TK_UPSTREAM, TK_ACCEPT };
enum { DNS_PENDING, DNS_OK, DNS_FAIL };

typedef struct { guint8 kind; } Handle;

typedef struct
{
  char   *data;
  guint32 off;
  guint32 len;
  guint32 cap;
} Buf;

typedef struct
{
  gint64 deadline;   /* monotonic µs */
  guint  idx;        /* 1-based heap slot, 0 when not armed */
  guint8 kind;
} Timer;

typedef union
{
  struct sockaddr     sa;
  struct sockaddr_in  in4;
  struct sockaddr_in6 in6;
} Addr;

typedef struct
{
  guint8               kind;      /* MoatHttpBodyKind */
  guint64              remaining;
  MoatHttpChunkDecoder dec;
} Body;

/* Turns the decoder's canonical chunked output back into plain bytes for
 * HTTP/1.0 clients. */
typedef struct
{
  guint8  state;
  guint64 remaining;
} Dechunk;

typedef struct Conn Conn;
typedef struct Upstream Upstream;
typedef struct Bucket Bucket;
typedef struct DnsEntry DnsEntry;

typedef struct
{
  int     pipe[2];
  gsize   pending;   /* bytes in the pipe */
  gsize   cap;       /* the pipe's size */
  gboolean full;     /* the last splice in found no room: wait for one out */
  gboolean eof;
  gboolean shut;
} Dir;

typedef struct
{
  Dir      c2u;
  Dir      u2c;
  gboolean use_pipes;
} Tunnel;

struct Conn
{
  guint8    kind;
  guint8    state;
  guint8    version_minor;
  guint8    method;
  guint32   ev;
  int       fd;
  guint     served : 1;        /* answered a request already (idle timeout applies) */
  guint     head_timer : 1;    /* the header timeout runs for a partial head */
  guint     keep_alive : 1;
  guint     req_done : 1;
  guint     resp_started : 1;  /* a final response head went to the client */
  guint     resp_done : 1;
  guint     close_after : 1;
  guint     dechunk_on : 1;
  guint     peer_eof : 1;        /* the client half-closed while its request ran */
  guint32   head_seen;         /* bytes of a partial head already parsed (no LF since) */
  Timer     timer;
  Buf       in;                /* owned: pending partial head / body / pipelined bytes */
  Buf       out;               /* owned: bytes not yet written to the client */
  Upstream *up;                /* owned (while a request or tunnel runs) */
  Tunnel   *tunnel;            /* owned */
  Body      req_body;
  Body      resp_body;
  Dechunk   dechunk;
  DnsEntry *dns_wait;          /* borrowed */
  Conn     *dns_next;
  Conn     *dns_prev;
  Conn     *next;
  Conn     *prev;
};

struct Upstream
{
  guint8    kind;
  guint8    state;
  guint8    n_cand;
  guint8    i_cand;
  guint32   ev;
  int       fd;
  guint     reused : 1;        /* came from the pool */
  guint     got_bytes : 1;     /* a response byte arrived */
  guint     tunnel : 1;
  guint     via_parent : 1;
  guint     replay_ok : 1;
  guint     retried : 1;
  guint     reusable : 1;
  Timer     timer;
  Addr      addr;              /* connected address: the pool key */
  Addr     *cand;              /* owned, while connecting */
  Buf       out;
  Buf       in;                /* partial response head */
  Buf       replay;            /* the request head, for a retry on a fresh connection */
  Conn     *client;            /* borrowed */
  Upstream *pnext;
  Upstream *pprev;
  Bucket   *bucket;
};

struct Bucket
{
  Addr      key;
  Upstream *head;
  guint     n;
};

struct DnsEntry
{
  char    *name;
  guint8   state;
  guint8   n_addrs;
  gint64   expires;
  Addr     addrs[DNS_MAX_ADDRS];
  Conn    *waiters;
};

typedef struct
{
  MoatProxyLoop *loop;
  char          *name;
  gboolean       ok;
  guint          n_addrs;
  Addr           addrs[DNS_MAX_ADDRS];
} DnsJob;

struct _MoatProxyLoop
{
  int                    epfd;
  int                    listen_fd;
  int                    wake_fd;
  int                    reserve_fd;
  Addr                   listen_addr;
  char                   listen_host[INET6_ADDRSTRLEN];
  guint16                listen_port;
  char                   origin[INET6_ADDRSTRLEN + 16];
  MoatProxyLoopCallbacks cb;

  /* shared with other threads, under lock */
  GMutex                 lock;
  GQueue                 commands;
  GQueue                 dns_results;

  /* stats, atomics */
  guint64                st_requests;
  guint64                st_tunnels;
  guint64                st_blocked;
  guint64                st_errors;
  guint                  st_connections;
  guint                  st_upstream_idle;

  /* proxy thread only */
  gboolean               stopping;
  gint64                 now;
  Timer                **heap;
  guint                  heap_len;
  guint                  heap_cap;
  Timer                  accept_timer;
  gboolean               accept_paused;
  char                  *scratch;
  char                  *decode;
  GString               *hs;
  GString               *url;      /* the plain-HTTP URL being matched */
  MoatHttpRequest       *req;
  MoatHttpResponse      *resp;
  GPtrArray             *graveyard;
  MoatFilterMatcher     *matcher;
  GHashTable            *allow_local;   /* host → host */
  GHashTable            *protected_hosts;  /* host → host: it and its subdomains */
  GHashTable            *policy_blocked;   /* idem */
  GHashTable            *allow_once;    /* host → expiry (gint64 *) */
  guint16               *connect_ports;
  guint                  n_connect_ports;
  char                  *parent_host;
  guint16                parent_port;
  GHashTable            *overrides;     /* host → Addr */
  GArray                *ifaddrs;       /* Addr */
  GHashTable            *dns;           /* name → DnsEntry */
  GThreadPool           *dns_pool;
  GHashTable            *pool;          /* Addr → Bucket */
  Conn                  *conns;
  guint                  n_conns;
  guint                  max_conns;
  guint                  head_ms;
  guint                  idle_ms;
  guint                  upstream_ms;
  guint                  tunnel_ms;
  guint8                 secret[32];
  gint64                 last_debug;
  GBytes                *page;          /* the last block page */
  MoatProxyBlock        *page_block;    /* what it was for */
  gint64                 page_made;
};

static Handle listener_handle = { KIND_LISTENER };
static Handle wake_handle = { KIND_WAKE };

static void client_input (MoatProxyLoop *loop, Conn *c, const char *data, gsize len, gboolean from_in);
static void client_sync (MoatProxyLoop *loop, Conn *c);
static void upstream_sync (MoatProxyLoop *loop, Upstream *up);
static void upstream_close (MoatProxyLoop *loop, Upstream *up);
static void upstream_failed (MoatProxyLoop *loop, Upstream *up, gboolean timeout);
static void client_close (MoatProxyLoop *loop, Conn *c);
static void exchange_finish (MoatProxyLoop *loop, Conn *c);
static void tunnel_pump (MoatProxyLoop *loop, Conn *c);
static void tunnel_start (MoatProxyLoop *loop, Conn *c);

/* ---------------------------------------------------------------- helpers */

#define STAT_ADD(field, n) __atomic_add_fetch (&loop->field, (n), __ATOMIC_RELAXED)
#define STAT_SUB(field, n) __atomic_sub_fetch (&loop->field, (n), __ATOMIC_RELAXED)

static void
debug_limited (MoatProxyLoop *loop, const char *what, int err)
{
  /* At most one line a second: errors can come in floods. */
  if (loop->now - loop->last_debug < G_USEC_PER_SEC)
    return;
  loop->last_debug = loop->now;
  g_debug ("%s: %s", what, g_strerror (err));
}

static inline gsize
buf_pending (const Buf *b)
{
  return b->len - b->off;
}

static inline const char *
buf_data (const Buf *b)
{
  return b->data + b->off;
}

static void
buf_append (Buf *b, const char *data, gsize n)
{
  if (n == 0)
    return;
  if (b->off == b->len)
    b->off = b->len = 0;
  if ((gsize) b->len + n > b->cap)
    {
      if (b->off > 0)
        {
          memmove (b->data, b->data + b->off, b->len - b->off);
          b->len -= b->off;
          b->off = 0;
        }
      if ((gsize) b->len + n > b->cap)
        {
          gsize cap = MAX (b->cap, 1024);

          while (cap < (gsize) b->len + n)
            cap *= 2;
          b->data = g_realloc (b->data, cap);
          b->cap = cap;
        }
    }
  memcpy (b->data + b->len, data, n);
  b->len += n;
}

static void
buf_consume (Buf *b, gsize n)
{
  b->off += n;
  if (b->off >= b->len)
    b->off = b->len = 0;
}

static void
buf_free (Buf *b)
{
  g_clear_pointer (&b->data, g_free);
  b->off = b->len = b->cap = 0;
}

static socklen_t
addr_len (const Addr *a)
{
  return a->sa.sa_family == AF_INET ? sizeof (struct sockaddr_in) : sizeof (struct sockaddr_in6);
}

static guint16
addr_port (const Addr *a)
{
  return g_ntohs (a->sa.sa_family == AF_INET ? a->in4.sin_port : a->in6.sin6_port);
}

static void
addr_set_port (Addr *a, guint16 port)
{
  if (a->sa.sa_family == AF_INET)
    a->in4.sin_port = g_htons (port);
  else
    a->in6.sin6_port = g_htons (port);
}

static gboolean
addr_from_string (const char *str, Addr *a)
{
  memset (a, 0, sizeof *a);
  if (inet_pton (AF_INET, str, &a->in4.sin_addr) == 1)
    {
      a->in4.sin_family = AF_INET;
      return TRUE;
    }
  if (inet_pton (AF_INET6, str, &a->in6.sin6_addr) == 1)
    {
      a->in6.sin6_family = AF_INET6;
      return TRUE;
    }
  return FALSE;
}

/* The IPv4 address @a stands for (itself or an IPv4-mapped IPv6 one). */
static gboolean
addr_get_ipv4 (const Addr *a, guint32 *v4)
{
  if (a->sa.sa_family == AF_INET)
    {
      *v4 = a->in4.sin_addr.s_addr;
      return TRUE;
    }
  if (IN6_IS_ADDR_V4MAPPED (&a->in6.sin6_addr))
    {
      memcpy (v4, a->in6.sin6_addr.s6_addr + 12, 4);
      return TRUE;
    }
  return FALSE;
}

/* Same host address and port, IPv4-mapped forms folded. */
static gboolean
addr_same_endpoint (const Addr *a, const Addr *b)
{
  guint32 va, vb;

  if (addr_port (a) != addr_port (b))
    return FALSE;
  if (addr_get_ipv4 (a, &va) && addr_get_ipv4 (b, &vb))
    return va == vb;
  if (a->sa.sa_family == AF_INET6 && b->sa.sa_family == AF_INET6)
    return memcmp (&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
  return FALSE;
}

static guint
addr_hash (gconstpointer p)
{
  const Addr *a = p;
  const guint8 *bytes;
  gsize n;
  guint h = 2166136261u;

  if (a->sa.sa_family == AF_INET)
    {
      bytes = (const guint8 *) &a->in4.sin_addr;
      n = 4;
    }
  else
    {
      bytes = (const guint8 *) &a->in6.sin6_addr;
      n = 16;
    }
  for (gsize i = 0; i < n; i++)
    h = (h ^ bytes[i]) * 16777619u;
  return h ^ addr_port (a) ^ a->sa.sa_family;
}

static gboolean
addr_equal (gconstpointer pa, gconstpointer pb)
{
  const Addr *a = pa, *b = pb;

  if (a->sa.sa_family != b->sa.sa_family || addr_port (a) != addr_port (b))
    return FALSE;
  if (a->sa.sa_family == AF_INET)
    return a->in4.sin_addr.s_addr == b->in4.sin_addr.s_addr;
  return memcmp (&a->in6.sin6_addr, &b->in6.sin6_addr, 16) == 0;
}

/* 127/8, ::1, 0.0.0.0, ::, link-local and their mapped forms (via
 * moat_host_is_local_address), and this host's interface addresses. */
static gboolean
addr_is_local (MoatProxyLoop *loop, const Addr *a)
{
  char text[INET6_ADDRSTRLEN];
  const void *raw = a->sa.sa_family == AF_INET ? (const void *) &a->in4.sin_addr
                                                : (const void *) &a->in6.sin6_addr;
  guint32 v4;
  gboolean is_v4;

  if (inet_ntop (a->sa.sa_family, raw, text, sizeof text) == NULL)
    return TRUE;
  if (moat_host_is_local_address (text))
    return TRUE;
  is_v4 = addr_get_ipv4 (a, &v4);
  for (guint i = 0; loop->ifaddrs != NULL && i < loop->ifaddrs->len; i++)
    {
      const Addr *own = &g_array_index (loop->ifaddrs, Addr, i);
      guint32 own_v4;

      if (is_v4 && addr_get_ipv4 (own, &own_v4) && own_v4 == v4)
        return TRUE;
      if (!is_v4 && own->sa.sa_family == AF_INET6 &&
          memcmp (&own->in6.sin6_addr, &a->in6.sin6_addr, 16) == 0)
        return TRUE;
    }
  return FALSE;
}

/* Copies @src into @dst without CR, LF or other control bytes. */
static void
append_header_safe (GString *dst, const char *src, gsize len)
{
  for (gsize i = 0; i < len && i < REASON_MAX; i++)
    {
      guchar ch = src[i];

      g_string_append_c (dst, (ch < 0x20 || ch == 0x7f) ? ' ' : (char) ch);
    }
}

/* ----------------------------------------------------------------- timers */

static void
heap_swap (MoatProxyLoop *loop, guint i, guint j)
{
  Timer *t = loop->heap[i];

  loop->heap[i] = loop->heap[j];
  loop->heap[j] = t;
  loop->heap[i]->idx = i;
  loop->heap[j]->idx = j;
}

static void
heap_up (MoatProxyLoop *loop, guint i)
{
  while (i > 1 && loop->heap[i / 2]->deadline > loop->heap[i]->deadline)
    {
      heap_swap (loop, i, i / 2);
      i /= 2;
    }
}

static void
heap_down (MoatProxyLoop *loop, guint i)
{
  for (;;)
    {
      guint l = 2 * i, r = l + 1, m = i;

      if (l <= loop->heap_len && loop->heap[l]->deadline < loop->heap[m]->deadline)
        m = l;
      if (r <= loop->heap_len && loop->heap[r]->deadline < loop->heap[m]->deadline)
        m = r;
      if (m == i)
        return;
      heap_swap (loop, i, m);
      i = m;
    }
}

static void
timer_clear (MoatProxyLoop *loop, Timer *t)
{
  guint i = t->idx;

  if (i == 0)
    return;
  t->idx = 0;
  if (i != loop->heap_len)
    {
      loop->heap[i] = loop->heap[loop->heap_len];
      loop->heap[i]->idx = i;
      loop->heap_len--;
      heap_up (loop, i);
      heap_down (loop, loop->heap[i]->idx);
    }
  else
    loop->heap_len--;
}

static void
timer_set (MoatProxyLoop *loop, Timer *t, guint ms)
{
  gint64 deadline = loop->now + (gint64) ms * 1000;

  if (t->idx != 0)
    {
      gint64 old = t->deadline;

      t->deadline = deadline;
      if (deadline < old)
        heap_up (loop, t->idx);
      else
        heap_down (loop, t->idx);
      return;
    }
  if (loop->heap_len + 1 >= loop->heap_cap)
    {
      loop->heap_cap = MAX (64, loop->heap_cap * 2);
      loop->heap = g_renew (Timer *, loop->heap, loop->heap_cap);
    }
  t->deadline = deadline;
  t->idx = ++loop->heap_len;
  loop->heap[t->idx] = t;
  heap_up (loop, t->idx);
}

/* ------------------------------------------------------------------ epoll */

static void
epoll_set (MoatProxyLoop *loop, int fd, guint32 *cur, guint32 want, gpointer ptr)
{
  struct epoll_event ev = { .events = want, .data.ptr = ptr };

  if (*cur == want)
    return;
  if (epoll_ctl (loop->epfd, EPOLL_CTL_MOD, fd, &ev) < 0)
    debug_limited (loop, "epoll_ctl", errno);
  *cur = want;
}

/* Keeps at most NOTSENT_LOWAT bytes queued unsent in a socket: EPOLLOUT
 * waits until the queue is below it. What is queued unsent is sent later by
 * whichever CPU takes the peer's ACK, so a deep queue moves the proxy's
 * transmit work (and, on loopback, the receiver's input path) onto the
 * reader's CPU; a shallow one keeps it on the proxy's thread. It does not
 * limit data in flight, so a long fat upstream path still fills. Measured on
 * the CONNECT bulk benchmark: 83 % of direct without it, ~98 % with it. */
static void
set_notsent_lowat (int fd)
{
  int lowat = NOTSENT_LOWAT;

  setsockopt (fd, IPPROTO_TCP, TCP_NOTSENT_LOWAT, &lowat, sizeof lowat);
}

/* Removes @fd from epoll before closing it: a forked child may still hold
 * the file description, which would keep the registration alive. */
static void
close_registered (MoatProxyLoop *loop, int fd)
{
  epoll_ctl (loop->epfd, EPOLL_CTL_DEL, fd, NULL);
  close (fd);
}

static gboolean
epoll_add (MoatProxyLoop *loop, int fd, guint32 want, gpointer ptr)
{
  struct epoll_event ev = { .events = want, .data.ptr = ptr };

  return epoll_ctl (loop->epfd, EPOLL_CTL_ADD, fd, &ev) == 0;
}

/* ------------------------------------------------------------------ sends */

/* Writes what it can now, queues the rest. FALSE when the peer is gone. */
static gboolean
send_fd (int fd, Buf *out, const char *data, gsize len)
{
  if (buf_pending (out) == 0)
    {
      while (len > 0)
        {
          ssize_t n = send (fd, data, len, MSG_NOSIGNAL);

          if (n < 0)
            {
              if (errno == EINTR)
                continue;
              if (errno == EAGAIN || errno == EWOULDBLOCK)
                break;
              return FALSE;
            }
          data += n;
          len -= n;
        }
    }
  buf_append (out, data, len);
  return TRUE;
}

/* Flushes @out; FALSE when the peer is gone. */
static gboolean
flush_fd (int fd, Buf *out)
{
  while (buf_pending (out) > 0)
    {
      ssize_t n = send (fd, buf_data (out), buf_pending (out), MSG_NOSIGNAL);

      if (n < 0)
        {
          if (errno == EINTR)
            continue;
          if (errno == EAGAIN || errno == EWOULDBLOCK)
            return TRUE;
          return FALSE;
        }
      buf_consume (out, n);
    }
  buf_free (out);
  return TRUE;
}

static void client_abort (MoatProxyLoop *loop, Conn *c);

static gboolean
client_send (MoatProxyLoop *loop, Conn *c, const char *data, gsize len)
{
  if (c->fd < 0)
    return FALSE;
  if (!send_fd (c->fd, &c->out, data, len))
    {
      client_abort (loop, c);
      return FALSE;
    }
  return TRUE;
}

/* ------------------------------------------------------------------ bodies */

static void
body_init (Body *b, MoatHttpBodyKind kind, guint64 length)
{
  b->kind = kind;
  b->remaining = length;
  if (kind == MOAT_HTTP_BODY_LENGTH && length == 0)
    b->kind = MOAT_HTTP_BODY_NONE;
  if (b->kind == MOAT_HTTP_BODY_CHUNKED)
    moat_http_chunk_decoder_init (&b->dec);
}

/* Feeds at most SCRATCH_SIZE bytes of @in through @b. Returns the bytes
 * used, or -1 on a framing error; *out and *out_len say what to forward. */
static gssize
body_feed (MoatProxyLoop *loop, Body *b, const char *in, gsize len,
           const char **out, gsize *out_len, gboolean *done)
{
  gsize in_used = 0, out_used = 0;

  *out = in;
  *out_len = 0;
  *done = FALSE;
  len = MIN (len, SCRATCH_SIZE);
  switch (b->kind)
    {
    case MOAT_HTTP_BODY_NONE:
      *done = TRUE;
      return 0;
    case MOAT_HTTP_BODY_LENGTH:
      in_used = MIN ((guint64) len, b->remaining);
      b->remaining -= in_used;
      *out_len = in_used;
      *done = b->remaining == 0;
      return in_used;
    case MOAT_HTTP_BODY_UNTIL_CLOSE:
      *out_len = len;
      return len;
    case MOAT_HTTP_BODY_CHUNKED:
      switch (moat_http_chunk_decoder_feed (&b->dec, in, len, &in_used, loop->decode,
                                            DECODE_SIZE, &out_used))
        {
        case MOAT_HTTP_CHUNK_ERROR:
          return -1;
        case MOAT_HTTP_CHUNK_DONE:
          *done = TRUE;
          break;
        case MOAT_HTTP_CHUNK_MORE:
        default:
          break;
        }
      *out = loop->decode;
      *out_len = out_used;
      return in_used;
    default:
      return -1;
    }
}

enum { DC_SIZE, DC_SIZE_LF, DC_DATA, DC_DATA_CR, DC_DATA_LF, DC_TRAILER, DC_DONE };

/* In place: canonical chunked bytes (hex CRLF data CRLF ... 0 CRLF CRLF) to
 * plain data. Returns the new length. */
static gsize
dechunk (Dechunk *d, char *buf, gsize len)
{
  gsize o = 0;

  for (gsize i = 0; i < len;)
    {
      char ch = buf[i];

      switch (d->state)
        {
        case DC_SIZE:
          if (ch == '\r')
            d->state = DC_SIZE_LF;
          else
            d->remaining = d->remaining * 16 + g_ascii_xdigit_value (ch);
          i++;
          break;
        case DC_SIZE_LF:
          d->state = d->remaining > 0 ? DC_DATA : DC_TRAILER;
          i++;
          break;
        case DC_DATA:
          {
            gsize n = MIN ((guint64) (len - i), d->remaining);

            memmove (buf + o, buf + i, n);
            o += n;
            i += n;
            d->remaining -= n;
            if (d->remaining == 0)
              d->state = DC_DATA_CR;
          }
          break;
        case DC_DATA_CR:
          d->state = DC_DATA_LF;
          i++;
          break;
        case DC_DATA_LF:
          d->state = DC_SIZE;
          d->remaining = 0;
          i++;
          break;
        case DC_TRAILER:
        case DC_DONE:
        default:
          d->state = DC_DONE;
          i++;
          break;
        }
    }
  return o;
}

/* ----------------------------------------------------------------- blocks */

static void
record_block (MoatProxyLoop *loop, MoatProxyBlockReason reason, gboolean tunnel,
              const char *host, guint16 port, const MoatHttpRequest *req,
              const MoatFilterMatch *match, MoatProxyBlock **out_copy)
{
  MoatProxyBlock *block = g_new0 (MoatProxyBlock, 1);

  block->time = g_get_real_time ();
  block->reason = reason;
  block->tunnel = tunnel;
  block->host = g_strdup (host);
  block->port = port;
  if (!tunnel && req != NULL && req->target_form == MOAT_HTTP_TARGET_ABSOLUTE)
    block->url = g_strndup (req->target, req->target_len);
  if (match != NULL)
    {
      block->category = match->category;
      block->list_name = g_strdup (match->list_name);
      block->rule = moat_filter_match_dup_rule (match);
      block->line = match->line;
    }
  STAT_ADD (st_blocked, 1);
  if (out_copy != NULL)
    {
      MoatProxyBlock *copy = g_new0 (MoatProxyBlock, 1);

      *copy = *block;
      copy->host = g_strdup (block->host);
      copy->url = g_strdup (block->url);
      copy->list_name = g_strdup (block->list_name);
      copy->rule = g_strdup (block->rule);
      *out_copy = copy;
    }
  if (loop->cb.blocked != NULL)
    loop->cb.blocked (block, loop->cb.user_data);
  else
    moat_proxy_block_free (block);
}

static const char *
block_reason_text (const MoatProxyBlock *block, GString *tmp)
{
  g_string_truncate (tmp, 0);
  switch (block->reason)
    {
    case MOAT_PROXY_BLOCK_FILTER:
      g_string_append (tmp, moat_filter_category_to_string (block->category));
      g_string_append (tmp, " (");
      append_header_safe (tmp, block->list_name ? block->list_name : "", strlen (block->list_name ? block->list_name : ""));
      g_string_append_c (tmp, ')');
      break;
    case MOAT_PROXY_BLOCK_LOCAL:
      g_string_append (tmp, "local destination");
      break;
    case MOAT_PROXY_BLOCK_PORT:
      g_string_append (tmp, "port not allowed");
      break;
    case MOAT_PROXY_BLOCK_PROTECTED:
      g_string_append (tmp, "protected resource, network not safe");
      break;
    case MOAT_PROXY_BLOCK_POLICY:
      g_string_append (tmp, "cut off by the threat policy");
      break;
    case MOAT_PROXY_BLOCK_LOOP:
    default:
      g_string_append (tmp, "request to the proxy itself");
      break;
    }
  return tmp->str;
}

/* -------------------------------------------------------------- responses */

static void
client_go_closing (MoatProxyLoop *loop, Conn *c)
{
  c->state = CS_CLOSING;
  c->close_after = TRUE;
  timer_set (loop, &c->timer, LINGER_MS);
  if (buf_pending (&c->out) == 0)
    {
      shutdown (c->fd, SHUT_WR);
      c->state = CS_LINGER;
    }
}

/* The request was answered here; back to reading heads or closing. */
static void
client_answered (MoatProxyLoop *loop, Conn *c, gboolean close)
{
  STAT_ADD (st_requests, 1);
  if (close || c->close_after || !c->keep_alive)
    {
      client_go_closing (loop, c);
      return;
    }
  c->state = CS_HEAD;
  c->served = TRUE;
  c->head_timer = FALSE;
  timer_set (loop, &c->timer, loop->idle_ms);
}

/* A small answer from the proxy itself. */
static void
client_respond (MoatProxyLoop *loop, Conn *c, guint status, const char *extra_headers,
                const char *content_type, const char *body, gsize body_len, gboolean close)
{
  GString *s = loop->hs;

  if (!c->keep_alive)
    close = TRUE;
  g_string_truncate (s, 0);
  g_string_append_printf (s, "HTTP/1.1 %u %s\r\n", status, moat_http_status_reason (status));
  if (extra_headers != NULL)
    g_string_append (s, extra_headers);
  g_string_append_printf (s, "Content-Type: %s\r\nContent-Length: %" G_GSIZE_FORMAT "\r\n"
                          "Cache-Control: no-store\r\n", content_type, body_len);
  if (close)
    g_string_append (s, "Connection: close\r\n");
  else if (c->version_minor == 0)
    g_string_append (s, "Connection: keep-alive\r\n");
  g_string_append (s, "\r\n");
  if (c->method != MOAT_HTTP_METHOD_HEAD)
    g_string_append_len (s, body, body_len);
  c->resp_started = TRUE;
  if (!client_send (loop, c, s->str, s->len))
    return;
  client_answered (loop, c, close);
}

static void
client_error (MoatProxyLoop *loop, Conn *c, guint status, const char *reason)
{
  g_autoptr(GString) hdr = g_string_new ("X-Moat-Error: ");
  g_autofree char *body = NULL;

  STAT_ADD (st_errors, 1);
  append_header_safe (hdr, reason, strlen (reason));
  g_string_append (hdr, "\r\n");
  body = g_strdup_printf ("%u %s: %s\n", status, moat_http_status_reason (status), reason);
  c->keep_alive = FALSE;
  client_respond (loop, c, status, hdr->str, "text/plain; charset=utf-8", body, strlen (body), TRUE);
}

/* ------------------------------------------------------------------- close */

static void
dns_detach (Conn *c)
{
  if (c->dns_wait == NULL)
    return;
  if (c->dns_prev != NULL)
    c->dns_prev->dns_next = c->dns_next;
  else
    c->dns_wait->waiters = c->dns_next;
  if (c->dns_next != NULL)
    c->dns_next->dns_prev = c->dns_prev;
  c->dns_wait = NULL;
  c->dns_next = c->dns_prev = NULL;
}

static void
resume_accept (MoatProxyLoop *loop)
{
  struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &listener_handle };

  if (!loop->accept_paused || loop->n_conns >= loop->max_conns)
    return;
  loop->accept_paused = FALSE;
  timer_clear (loop, &loop->accept_timer);
  epoll_ctl (loop->epfd, EPOLL_CTL_MOD, loop->listen_fd, &ev);
}

static void
pause_accept (MoatProxyLoop *loop, guint retry_ms)
{
  struct epoll_event ev = { .events = 0, .data.ptr = &listener_handle };

  if (!loop->accept_paused)
    {
      loop->accept_paused = TRUE;
      epoll_ctl (loop->epfd, EPOLL_CTL_MOD, loop->listen_fd, &ev);
    }
  if (retry_ms > 0)
    timer_set (loop, &loop->accept_timer, retry_ms);
}

static void
tunnel_free (Tunnel *t)
{
  if (t == NULL)
    return;
  for (guint i = 0; i < 2; i++)
    {
      if (t->c2u.pipe[i] >= 0)
        close (t->c2u.pipe[i]);
      if (t->u2c.pipe[i] >= 0)
        close (t->u2c.pipe[i]);
    }
  g_free (t);
}

static void
pool_remove (MoatProxyLoop *loop, Upstream *up)
{
  Bucket *b = up->bucket;

  if (b == NULL)
    return;
  if (up->pprev != NULL)
    up->pprev->pnext = up->pnext;
  else
    b->head = up->pnext;
  if (up->pnext != NULL)
    up->pnext->pprev = up->pprev;
  up->pnext = up->pprev = NULL;
  up->bucket = NULL;
  STAT_SUB (st_upstream_idle, 1);
  if (--b->n == 0)
    g_hash_table_remove (loop->pool, &b->key);
}

static void
upstream_close (MoatProxyLoop *loop, Upstream *up)
{
  if (up->fd < 0)
    return;
  pool_remove (loop, up);
  if (up->client != NULL && up->client->up == up)
    up->client->up = NULL;
  up->client = NULL;
  timer_clear (loop, &up->timer);
  close_registered (loop, up->fd);
  up->fd = -1;
  buf_free (&up->out);
  buf_free (&up->in);
  buf_free (&up->replay);
  g_clear_pointer (&up->cand, g_free);
  g_ptr_array_add (loop->graveyard, up);
}

static void
client_close (MoatProxyLoop *loop, Conn *c)
{
  if (c->fd < 0)
    return;
  if (c->up != NULL)
    upstream_close (loop, c->up);
  dns_detach (c);
  timer_clear (loop, &c->timer);
  close_registered (loop, c->fd);
  c->fd = -1;
  buf_free (&c->in);
  buf_free (&c->out);
  g_clear_pointer (&c->tunnel, tunnel_free);
  if (c->prev != NULL)
    c->prev->next = c->next;
  else
    loop->conns = c->next;
  if (c->next != NULL)
    c->next->prev = c->prev;
  loop->n_conns--;
  STAT_SUB (st_connections, 1);
  g_ptr_array_add (loop->graveyard, c);
  resume_accept (loop);
}

static void
client_abort (MoatProxyLoop *loop, Conn *c)
{
  client_close (loop, c);
}

/* ------------------------------------------------------------------- pool */

static Upstream *
pool_take (MoatProxyLoop *loop, const Addr *key)
{
  Bucket *b = g_hash_table_lookup (loop->pool, key);
  Upstream *up;

  if (b == NULL)
    return NULL;
  up = b->head;     /* most recently used first */
  pool_remove (loop, up);
  timer_clear (loop, &up->timer);
  up->reused = TRUE;
  return up;
}

static void
pool_put (MoatProxyLoop *loop, Upstream *up)
{
  Bucket *b;

  up->client = NULL;
  up->state = UP_IDLE;
  up->got_bytes = up->replay_ok = up->retried = up->reusable = FALSE;
  buf_free (&up->in);
  buf_free (&up->replay);
  b = g_hash_table_lookup (loop->pool, &up->addr);
  if (b == NULL)
    {
      b = g_new0 (Bucket, 1);
      b->key = up->addr;
      g_hash_table_insert (loop->pool, &b->key, b);
    }
  if (b->n >= POOL_MAX_PER_KEY)
    {
      upstream_close (loop, up);
      return;
    }
  up->bucket = b;
  up->pnext = b->head;
  up->pprev = NULL;
  if (b->head != NULL)
    b->head->pprev = up;
  b->head = up;
  b->n++;
  STAT_ADD (st_upstream_idle, 1);
  timer_set (loop, &up->timer, POOL_IDLE_MS);
  upstream_sync (loop, up);
}

/* --------------------------------------------------------------- upstream */

static int
socket_connect (const Addr *a, int *err)
{
  int fd = socket (a->sa.sa_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  int one = 1;

  if (fd < 0)
    {
      *err = errno;
      return -1;
    }
  setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
  set_notsent_lowat (fd);
  if (connect (fd, &a->sa, addr_len (a)) < 0 && errno != EINPROGRESS)
    {
      *err = errno;
      close (fd);
      return -1;
    }
  return fd;
}

/* Starts connecting to the first candidate that takes a socket. */
static Upstream *
upstream_connect (MoatProxyLoop *loop, const Addr *cand, guint n_cand, int *err)
{
  Upstream *up;

  for (guint i = 0; i < n_cand; i++)
    {
      int fd = socket_connect (&cand[i], err);

      if (fd < 0)
        continue;
      up = g_new0 (Upstream, 1);
      up->kind = KIND_UPSTREAM;
      up->state = UP_CONNECTING;
      up->fd = fd;
      up->timer.kind = TK_UPSTREAM;
      up->addr = cand[i];
      up->cand = g_memdup2 (cand, sizeof (Addr) * n_cand);
      up->n_cand = n_cand;
      up->i_cand = i;
      up->ev = EPOLLOUT;
      if (!epoll_add (loop, fd, EPOLLOUT, up))
        {
          *err = errno;
          close (fd);
          g_free (up->cand);
          g_free (up);
          return NULL;
        }
      timer_set (loop, &up->timer, MIN (loop->upstream_ms, CONNECT_TIMEOUT_MS));
      return up;
    }
  return NULL;
}

/* A connect attempt failed: the next candidate, else a failure. */
static void
upstream_connect_next (MoatProxyLoop *loop, Upstream *up, gboolean timeout)
{
  while (up->i_cand + 1 < up->n_cand)
    {
      int err = 0;
      int fd;
      struct epoll_event ev = { .events = EPOLLOUT, .data.ptr = up };

      up->i_cand++;
      fd = socket_connect (&up->cand[up->i_cand], &err);
      if (fd < 0)
        continue;
      close_registered (loop, up->fd);
      up->fd = fd;
      up->addr = up->cand[up->i_cand];
      up->ev = EPOLLOUT;
      if (epoll_ctl (loop->epfd, EPOLL_CTL_ADD, fd, &ev) < 0)
        break;
      timer_set (loop, &up->timer, MIN (loop->upstream_ms, CONNECT_TIMEOUT_MS));
      return;
    }
  upstream_failed (loop, up, timeout);
}

static void
upstream_connected (MoatProxyLoop *loop, Upstream *up)
{
  Conn *c = up->client;

  g_clear_pointer (&up->cand, g_free);
  timer_set (loop, &up->timer, up->tunnel ? loop->tunnel_ms : loop->upstream_ms);
  if (up->tunnel)
    {
      tunnel_start (loop, c);
      return;
    }
  up->state = UP_ACTIVE;
  if (!flush_fd (up->fd, &up->out))
    {
      upstream_failed (loop, up, FALSE);
      return;
    }
  if (buf_pending (&up->out) == 0 && c != NULL && buf_pending (&c->in) > 0)
    client_input (loop, c, buf_data (&c->in), buf_pending (&c->in), TRUE);
}

/* The upstream broke (or timed out) before or during the response. */
static void
upstream_failed (MoatProxyLoop *loop, Upstream *up, gboolean timeout)
{
  Conn *c = up->client;

  if (c != NULL && !up->got_bytes && up->reused && up->replay_ok && !up->retried &&
      buf_pending (&up->replay) > 0)
    {
      /* A pooled connection the server had closed: once more on a fresh one. */
      Buf replay = up->replay;
      Addr addr = up->addr;
      Upstream *nu;
      int err = 0;

      up->replay = (Buf) { 0 };
      upstream_close (loop, up);
      nu = upstream_connect (loop, &addr, 1, &err);
      if (nu != NULL)
        {
          nu->client = c;
          nu->retried = TRUE;
          c->up = nu;
          buf_append (&nu->out, buf_data (&replay), buf_pending (&replay));
          buf_free (&replay);
          upstream_sync (loop, nu);
          return;
        }
      buf_free (&replay);
      up = NULL;
    }
  if (up != NULL)
    upstream_close (loop, up);
  if (c == NULL || c->fd < 0)
    return;
  if (!c->resp_started)
    {
      c->close_after = TRUE;
      client_error (loop, c, timeout ? 504 : 502,
                    timeout ? "upstream timed out" : "upstream connection failed");
    }
  else
    client_go_closing (loop, c);
  if (c->fd >= 0)
    client_sync (loop, c);
}

static gboolean
upstream_send (MoatProxyLoop *loop, Upstream *up, const char *data, gsize len)
{
  if (up->state == UP_CONNECTING)
    {
      buf_append (&up->out, data, len);
      return TRUE;
    }
  return send_fd (up->fd, &up->out, data, len);
}

/* The response is complete: pool or close the upstream, then the client. */
static void
response_done (MoatProxyLoop *loop, Conn *c)
{
  c->resp_done = TRUE;
  if (c->req_done)
    exchange_finish (loop, c);
  else
    {
      /* Answered before the whole body was sent: this connection is done. */
      if (c->up != NULL)
        upstream_close (loop, c->up);
      STAT_ADD (st_requests, 1);
      client_go_closing (loop, c);
    }
}

static void
exchange_finish (MoatProxyLoop *loop, Conn *c)
{
  Upstream *up = c->up;

  c->up = NULL;
  if (up != NULL)
    {
      if (up->reusable && buf_pending (&up->out) == 0)
        pool_put (loop, up);
      else
        upstream_close (loop, up);
    }
  STAT_ADD (st_requests, 1);
  if (c->close_after || !c->keep_alive)
    {
      client_go_closing (loop, c);
      return;
    }
  c->state = CS_HEAD;
  c->served = TRUE;
  c->head_timer = FALSE;
  timer_set (loop, &c->timer, loop->idle_ms);
  if (buf_pending (&c->in) > 0)
    client_input (loop, c, buf_data (&c->in), buf_pending (&c->in), TRUE);
}

/* Response bytes (head and/or body) from the upstream. */
static void
upstream_response (MoatProxyLoop *loop, Upstream *up, const char *data, gsize len)
{
  Conn *c = up->client;
  GString *s = loop->hs;

  g_autofree char *held = NULL;

  g_string_truncate (s, 0);
  if (buf_pending (&up->in) > 0)
    {
      /* The rest of a partial head: work on the joined bytes. */
      buf_append (&up->in, data, len);
      data = buf_data (&up->in);
      len = buf_pending (&up->in);
      held = up->in.data;
      up->in = (Buf) { 0 };
    }
  while (!c->resp_started)
    {
      MoatHttpResponse *resp = loop->resp;
      MoatHttpParseResult r;
      gboolean close;

      r = moat_http_parse_response (data, len, c->method, resp);
      if (r == MOAT_HTTP_PARSE_INCOMPLETE)
        {
          buf_append (&up->in, data, len);
          if (buf_pending (&up->in) > MOAT_HTTP_MAX_HEAD + MOAT_HTTP_MAX_REQUEST_LINE)
            goto bad;
          if (s->len > 0)
            client_send (loop, c, s->str, s->len);
          return;
        }
      if (r == MOAT_HTTP_PARSE_ERROR || resp->status == 101)
        goto bad;
      if (resp->status < 200)
        {
          /* Interim (100 Continue, 103): HTTP/1.1 clients get it. */
          if (c->version_minor >= 1)
            moat_http_response_write_downstream (resp, c->version_minor, FALSE, MOAT_PROXY_VIA_TOKEN, s);
        }
      else
        {
          body_init (&c->resp_body, resp->body, resp->content_length);
          c->dechunk_on = c->version_minor == 0 && resp->body == MOAT_HTTP_BODY_CHUNKED;
          c->dechunk = (Dechunk) { 0 };
          close = !c->keep_alive || c->close_after || resp->body == MOAT_HTTP_BODY_UNTIL_CLOSE ||
                  c->dechunk_on;
          if (close)
            c->close_after = TRUE;
          up->reusable = resp->keep_alive && resp->body != MOAT_HTTP_BODY_UNTIL_CLOSE;
          moat_http_response_write_downstream (resp, c->version_minor, close, MOAT_PROXY_VIA_TOKEN, s);
          c->resp_started = TRUE;
        }
      data += resp->head_len;
      len -= resp->head_len;
      if (len == 0 && !c->resp_started)
        {
          if (s->len > 0)
            client_send (loop, c, s->str, s->len);
          return;
        }
    }

  while (len > 0 || c->resp_body.kind == MOAT_HTTP_BODY_NONE)
    {
      const char *out;
      gsize out_len;
      gboolean done;
      gssize used = body_feed (loop, &c->resp_body, data, len, &out, &out_len, &done);

      if (used < 0)
        {
          /* Bad chunking from the server: cut the client off. */
          up->reusable = FALSE;
          if (s->len > 0)
            client_send (loop, c, s->str, s->len);
          upstream_close (loop, up);
          if (c->fd >= 0)
            client_go_closing (loop, c);
          return;
        }
      if (c->dechunk_on && out_len > 0)
        {
          char *w = (char *) out;

          if (out != loop->decode)
            {
              memcpy (loop->decode, out, out_len);
              w = loop->decode;
            }
          out_len = dechunk (&c->dechunk, w, out_len);
          out = w;
        }
      g_string_append_len (s, out, out_len);
      data += used;
      len -= used;
      if (done)
        {
          if (len > 0)
            up->reusable = FALSE;   /* more than it announced */
          if (!client_send (loop, c, s->str, s->len))
            return;
          response_done (loop, c);
          return;
        }
      if (used == 0)
        break;
    }
  if (s->len > 0)
    client_send (loop, c, s->str, s->len);
  return;

bad:
  up->reusable = FALSE;
  if (!c->resp_started)
    {
      upstream_close (loop, up);
      c->close_after = TRUE;
      client_error (loop, c, 502, "bad response from upstream");
    }
  else
    {
      upstream_close (loop, up);
      client_go_closing (loop, c);
    }
}

static void
upstream_on_readable (MoatProxyLoop *loop, Upstream *up)
{
  Conn *c = up->client;
  ssize_t n;

  if (up->state == UP_IDLE)
    {
      /* The server closed (or sent something unasked): drop it. */
      upstream_close (loop, up);
      return;
    }
  if (up->state == UP_TUNNEL)
    {
      tunnel_pump (loop, c);
      return;
    }
  if (c == NULL || up->state != UP_ACTIVE || buf_pending (&c->out) > 0)
    return;
  n = recv (up->fd, loop->scratch, SCRATCH_SIZE, 0);
  if (n < 0)
    {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return;
      upstream_failed (loop, up, FALSE);
      return;
    }
  if (n == 0)
    {
      if (c->resp_started && c->resp_body.kind == MOAT_HTTP_BODY_UNTIL_CLOSE)
        {
          up->reusable = FALSE;
          upstream_close (loop, up);
          response_done (loop, c);
        }
      else
        upstream_failed (loop, up, FALSE);
      return;
    }
  up->got_bytes = TRUE;
  timer_set (loop, &up->timer, loop->upstream_ms);
  upstream_response (loop, up, loop->scratch, n);
}

static void
upstream_on_writable (MoatProxyLoop *loop, Upstream *up)
{
  Conn *c = up->client;

  if (up->state == UP_CONNECTING)
    {
      int err = 0;
      socklen_t len = sizeof err;

      if (getsockopt (up->fd, SOL_SOCKET, SO_ERROR, &err, &len) < 0)
        err = errno;
      if (err != 0)
        {
          upstream_connect_next (loop, up, FALSE);
          return;
        }
      upstream_connected (loop, up);
      return;
    }
  if (up->state == UP_TUNNEL)
    {
      tunnel_pump (loop, c);
      return;
    }
  if (!flush_fd (up->fd, &up->out))
    {
      upstream_failed (loop, up, FALSE);
      return;
    }
  if (c != NULL)
    timer_set (loop, &up->timer, loop->upstream_ms);
  if (buf_pending (&up->out) == 0 && c != NULL && c->state == CS_FORWARD &&
      buf_pending (&c->in) > 0)
    client_input (loop, c, buf_data (&c->in), buf_pending (&c->in), TRUE);
}

/* ----------------------------------------------------------------- tunnel */

static void
tunnel_start (MoatProxyLoop *loop, Conn *c)
{
  Upstream *up = c->up;
  Tunnel *t = g_new0 (Tunnel, 1);
  static const char established[] = "HTTP/1.1 200 Connection established\r\n\r\n";

  t->c2u.pipe[0] = t->c2u.pipe[1] = t->u2c.pipe[0] = t->u2c.pipe[1] = -1;
  t->use_pipes = pipe2 (t->c2u.pipe, O_NONBLOCK | O_CLOEXEC) == 0 &&
                 pipe2 (t->u2c.pipe, O_NONBLOCK | O_CLOEXEC) == 0;
  if (t->use_pipes)
    {
      /* Bigger pipes move more per splice(2); the kernel caps the size
       * (fs.pipe-max-size, and pipe-user-pages-soft per user). */
      int c2u = fcntl (t->c2u.pipe[1], F_SETPIPE_SZ, TUNNEL_PIPE_SIZE);
      int u2c = fcntl (t->u2c.pipe[1], F_SETPIPE_SZ, TUNNEL_PIPE_SIZE);

      t->c2u.cap = c2u > 0 ? (gsize) c2u : (gsize) MAX (fcntl (t->c2u.pipe[1], F_GETPIPE_SZ), 4096);
      t->u2c.cap = u2c > 0 ? (gsize) u2c : (gsize) MAX (fcntl (t->u2c.pipe[1], F_GETPIPE_SZ), 4096);
    }
  c->tunnel = t;
  c->state = CS_TUNNEL;
  up->state = UP_TUNNEL;
  STAT_ADD (st_tunnels, 1);
  timer_set (loop, &c->timer, loop->tunnel_ms);
  timer_clear (loop, &up->timer);
  if (!up->via_parent)
    {
      c->resp_started = TRUE;
      buf_append (&c->out, established, sizeof established - 1);
    }
  /* Whatever the client sent after its CONNECT head goes first. */
  buf_append (&up->out, buf_data (&c->in), buf_pending (&c->in));
  buf_free (&c->in);
  tunnel_pump (loop, c);
}

/* Moves what it can in one direction. FALSE on a fatal error.
 *
 * With pipes, reading and writing overlap: more is spliced in while the pipe
 * has room, even before what it holds has gone out, so neither end waits
 * for the other's turn (a whole pipe in, then a whole pipe out, left the
 * origin idle while the client drained, and the client idle while the
 * origin refilled). A splice in that finds no room (EAGAIN with bytes
 * pending: the pipe's slots can fill before its byte size) stops reading
 * until something has gone out, or level-triggered EPOLLIN would spin. */
static gboolean
tunnel_dir (MoatProxyLoop *loop, Tunnel *t, Dir *d, int src, int dst, Buf *dst_out, gboolean *active)
{
  for (guint round = 0; round < 16; round++)
    {
      gboolean progress = FALSE;
      ssize_t n;

      /* Out first: it makes room for more to come in. */
      if (buf_pending (dst_out) > 0)
        {
          n = send (dst, buf_data (dst_out), buf_pending (dst_out), MSG_NOSIGNAL);
          if (n < 0)
            {
              if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                return FALSE;
            }
          else
            {
              buf_consume (dst_out, n);
              if (buf_pending (dst_out) == 0)
                buf_free (dst_out);
              progress = TRUE;
            }
        }
      if (buf_pending (dst_out) == 0 && d->pending > 0)
        {
          n = splice (d->pipe[0], NULL, dst, NULL, d->pending, SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
          if (n < 0)
            {
              if (errno != EAGAIN && errno != EINTR)
                return FALSE;
            }
          else if (n > 0)
            {
              d->pending -= n;
              d->full = FALSE;
              progress = TRUE;
            }
        }

      if (!d->eof && !d->full &&
          (t->use_pipes ? d->pending < d->cap : buf_pending (dst_out) == 0))
        {
          if (t->use_pipes)
            n = splice (src, NULL, d->pipe[1], NULL, d->cap - d->pending,
                        SPLICE_F_MOVE | SPLICE_F_NONBLOCK);
          else
            n = recv (src, loop->scratch, SCRATCH_SIZE, 0);
          if (n < 0)
            {
              if (errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR)
                return FALSE;
              if (t->use_pipes && d->pending > 0 && errno != EINTR)
                d->full = TRUE;
            }
          else if (n == 0)
            {
              d->eof = TRUE;
              progress = TRUE;
            }
          else if (t->use_pipes)
            {
              d->pending += n;
              progress = TRUE;
            }
          else
            {
              if (!send_fd (dst, dst_out, loop->scratch, n))
                return FALSE;
              progress = TRUE;
            }
        }

      if (d->eof && !d->shut && d->pending == 0 && buf_pending (dst_out) == 0)
        {
          shutdown (dst, SHUT_WR);
          d->shut = TRUE;
        }
      if (!progress)
        break;
      *active = TRUE;
    }
  return TRUE;
}

/* Does the tunnel want to read more from the side that feeds @d? */
static inline gboolean
tunnel_wants_in (const Tunnel *t, const Dir *d, const Buf *dst_out)
{
  if (d->eof || d->full)
    return FALSE;
  if (t->use_pipes)
    return d->pending < d->cap;
  return buf_pending (dst_out) == 0;
}

static void
tunnel_pump (MoatProxyLoop *loop, Conn *c)
{
  Tunnel *t = c->tunnel;
  Upstream *up = c->up;
  gboolean active = FALSE;

  if (t == NULL || up == NULL)
    return;
  if (!tunnel_dir (loop, t, &t->c2u, c->fd, up->fd, &up->out, &active) ||
      !tunnel_dir (loop, t, &t->u2c, up->fd, c->fd, &c->out, &active))
    {
      client_close (loop, c);
      return;
    }
  if (t->c2u.shut && t->u2c.shut)
    {
      client_close (loop, c);
      return;
    }
  if (active)
    timer_set (loop, &c->timer, loop->tunnel_ms);
  client_sync (loop, c);
}

/* ---------------------------------------------------------------- resolve */

static void
dns_worker (gpointer data, gpointer user_data)
{
  DnsJob *job = data;
  MoatProxyLoop *loop = job->loop;
  struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
  struct addrinfo *res = NULL;
  guint64 one = 1;

  if (getaddrinfo (job->name, NULL, &hints, &res) == 0)
    {
      for (struct addrinfo *ai = res; ai != NULL && job->n_addrs < DNS_MAX_ADDRS; ai = ai->ai_next)
        {
          if (ai->ai_family != AF_INET && ai->ai_family != AF_INET6)
            continue;
          if (ai->ai_addrlen > sizeof (Addr))
            continue;
          memset (&job->addrs[job->n_addrs], 0, sizeof (Addr));
          memcpy (&job->addrs[job->n_addrs], ai->ai_addr, ai->ai_addrlen);
          job->n_addrs++;
        }
      freeaddrinfo (res);
    }
  job->ok = job->n_addrs > 0;
  g_mutex_lock (&loop->lock);
  g_queue_push_tail (&loop->dns_results, job);
  g_mutex_unlock (&loop->lock);
  if (write (loop->wake_fd, &one, sizeof one) < 0)
    g_debug ("eventfd write: %s", g_strerror (errno));
}

static void
dns_entry_free (gpointer p)
{
  DnsEntry *e = p;

  g_free (e->name);
  g_free (e);
}

static void
dns_start (MoatProxyLoop *loop, DnsEntry *e)
{
  DnsJob *job = g_new0 (DnsJob, 1);

  e->state = DNS_PENDING;
  job->loop = loop;
  job->name = g_strdup (e->name);
  g_thread_pool_push (loop->dns_pool, job, NULL);
}

static DnsEntry *
dns_lookup (MoatProxyLoop *loop, const char *name)
{
  DnsEntry *e = g_hash_table_lookup (loop->dns, name);

  if (e != NULL)
    {
      if (e->state != DNS_PENDING && e->expires <= loop->now)
        dns_start (loop, e);
      return e;
    }
  if (g_hash_table_size (loop->dns) >= DNS_CACHE_MAX)
    {
      GHashTableIter iter;
      gpointer value;

      g_hash_table_iter_init (&iter, loop->dns);
      while (g_hash_table_iter_next (&iter, NULL, &value))
        {
          DnsEntry *old = value;

          if (old->state != DNS_PENDING)
            g_hash_table_iter_remove (&iter);
        }
    }
  e = g_new0 (DnsEntry, 1);
  e->name = g_strdup (name);
  g_hash_table_insert (loop->dns, e->name, e);
  dns_start (loop, e);
  return e;
}

static void
dns_results (MoatProxyLoop *loop)
{
  for (;;)
    {
      DnsJob *job;
      DnsEntry *e;
      Conn *w;

      g_mutex_lock (&loop->lock);
      job = g_queue_pop_head (&loop->dns_results);
      g_mutex_unlock (&loop->lock);
      if (job == NULL)
        return;
      e = g_hash_table_lookup (loop->dns, job->name);
      if (e != NULL && e->state == DNS_PENDING)
        {
          e->state = job->ok ? DNS_OK : DNS_FAIL;
          e->n_addrs = job->n_addrs;
          memcpy (e->addrs, job->addrs, sizeof (Addr) * job->n_addrs);
          e->expires = loop->now + (gint64) (job->ok ? MOAT_PROXY_DNS_TTL_S : DNS_NEGATIVE_TTL_S) * G_USEC_PER_SEC;
          while ((w = e->waiters) != NULL)
            {
              dns_detach (w);
              w->state = CS_HEAD;
              client_input (loop, w, buf_data (&w->in), buf_pending (&w->in), TRUE);
              if (w->fd >= 0)
                client_sync (loop, w);
            }
        }
      g_free (job->name);
      g_free (job);
    }
}

/* ---------------------------------------------------------------- request */

static gboolean
host_is_self (MoatProxyLoop *loop, const char *host, guint16 port)
{
  g_autofree char *unmapped = NULL;

  if (port != loop->listen_port)
    return FALSE;
  if (g_str_equal (host, "localhost") || g_str_equal (host, loop->listen_host))
    return TRUE;
  unmapped = moat_host_unmap_ipv4 (host);
  return unmapped != NULL && g_str_equal (unmapped, loop->listen_host);
}

/* Whether @host (canonical) is in @set, or is a subdomain of a name in it.
 * Addresses match only themselves. */
static gboolean
host_set_covers (GHashTable *set, const char *host, MoatHostKind kind)
{
  if (g_hash_table_size (set) == 0)
    return FALSE;
  if (kind != MOAT_HOST_KIND_NAME)
    return g_hash_table_contains (set, host);
  for (const char *p = host; p != NULL; p = strchr (p, '.'))
    {
      if (*p == '.')
        p++;
      if (*p == '\0')
        break;
      if (g_hash_table_contains (set, p))
        return TRUE;
    }
  return FALSE;
}

static void
fill_host_set (GHashTable *set, char **hosts)
{
  g_hash_table_remove_all (set);
  for (guint i = 0; hosts != NULL && hosts[i] != NULL; i++)
    {
      char *h = moat_host_normalize (hosts[i], -1, NULL, NULL);

      if (h != NULL)
        g_hash_table_add (set, h);
    }
}

static gboolean
allow_once_active (MoatProxyLoop *loop, const char *host)
{
  gint64 *expiry;

  if (g_hash_table_size (loop->allow_once) == 0)
    return FALSE;
  expiry = g_hash_table_lookup (loop->allow_once, host);
  if (expiry == NULL)
    return FALSE;
  if (*expiry > loop->now)
    return TRUE;
  g_hash_table_remove (loop->allow_once, host);
  return FALSE;
}

static void
authority_host (const char *a, gsize len, const char **h, gsize *hl)
{
  const char *end;

  *h = a;
  if (len > 0 && a[0] == '[')
    {
      end = memchr (a, ']', len);
      *hl = end != NULL ? (gsize) (end - a) + 1 : len;
      return;
    }
  end = memrchr (a, ':', len);
  *hl = end != NULL ? (gsize) (end - a) : len;
}

/* The host of the page that made the request (Origin, else Referer),
 * normalised, or NULL. */
static char *
request_source_host (const MoatHttpRequest *req)
{
  const MoatHttpHeader *ref = NULL;
  const char *v, *p, *end, *stop, *hp;
  gsize hl;

  for (guint i = 0; i < req->n_headers; i++)
    {
      if (req->headers[i].field == MOAT_HTTP_FIELD_ORIGIN ||
          (ref == NULL && req->headers[i].field == MOAT_HTTP_FIELD_REFERER))
        ref = &req->headers[i];
    }
  if (ref == NULL)
    return NULL;
  v = ref->value;
  end = v + ref->value_len;
  p = g_strstr_len (v, ref->value_len, "://");
  if (p == NULL)
    return NULL;
  p += 3;
  stop = p;
  while (stop < end && *stop != '/' && *stop != '?' && *stop != '#')
    stop++;
  authority_host (p, stop - p, &hp, &hl);
  return moat_host_normalize (hp, hl, NULL, NULL);
}

/* What the request loads, from Sec-Fetch-Dest when the browser sends it. */
static MoatFilterResourceType
request_type (const MoatHttpRequest *req)
{
  for (guint i = 0; i < req->n_headers; i++)
    if (req->headers[i].name_len == strlen ("sec-fetch-dest") &&
        g_ascii_strncasecmp (req->headers[i].name, "sec-fetch-dest", strlen ("sec-fetch-dest")) == 0)
      return moat_filter_resource_type_from_fetch_dest (req->headers[i].value,
                                                        req->headers[i].value_len);
  return MOAT_FILTER_RESOURCE_TYPE_UNKNOWN;
}

static gboolean
same_block_page (const MoatProxyBlock *a, const MoatProxyBlock *b)
{
  return a->reason == b->reason && a->port == b->port && a->category == b->category &&
         a->line == b->line && g_strcmp0 (a->host, b->host) == 0 && g_strcmp0 (a->url, b->url) == 0 &&
         g_strcmp0 (a->list_name, b->list_name) == 0 && g_strcmp0 (a->rule, b->rule) == 0;
}

/* The page for @block (taken). The last one is kept for a minute (its token stays
 * valid for an hour): a page that keeps asking for a blocked resource costs
 * a comparison instead of an HMAC and 5 KiB of HTML each time. */
static GBytes *
render_block_page (MoatProxyLoop *loop, MoatProxyBlock *block)
{
  g_autofree char *token = NULL;

  if (loop->page_block != NULL && loop->now - loop->page_made < PAGE_CACHE_US &&
      same_block_page (loop->page_block, block))
    {
      moat_proxy_block_free (block);
      return g_bytes_ref (loop->page);
    }
  if (block->reason == MOAT_PROXY_BLOCK_FILTER)
    token = moat_block_page_make_token (loop->secret, sizeof loop->secret, block->host,
                                        g_get_real_time () / G_USEC_PER_SEC + TOKEN_LIFETIME_S);
  g_clear_pointer (&loop->page, g_bytes_unref);
  g_clear_pointer (&loop->page_block, moat_proxy_block_free);
  loop->page = moat_block_page_render (block, loop->origin, token);
  loop->page_made = loop->now;
  loop->page_block = block;   /* takes it */
  return g_bytes_ref (loop->page);
}

/* A blocked plain-HTTP request: the block page; a CONNECT: a short 403. */
static void
answer_block (MoatProxyLoop *loop, Conn *c, const MoatHttpRequest *req, MoatProxyBlock *block)
{
  g_autoptr(GString) hdr = g_string_new ("X-Moat-Block-Reason: ");
  g_autoptr(GString) tmp = g_string_new (NULL);
  gboolean close = req->body != MOAT_HTTP_BODY_NONE;

  g_string_append (hdr, block_reason_text (block, tmp));
  g_string_append (hdr, "\r\n");
  if (block->tunnel)
    {
      static const char body[] = "Blocked by Moat\n";

      client_respond (loop, c, 403, hdr->str, "text/plain; charset=utf-8", body, sizeof body - 1, close);
    }
  else
    {
      g_autoptr(GBytes) page = render_block_page (loop, g_steal_pointer (&block));
      gsize size;
      const char *data = g_bytes_get_data (page, &size);

      client_respond (loop, c, 403, hdr->str, MOAT_BLOCK_PAGE_CONTENT_TYPE, data, size, close);
    }
  moat_proxy_block_free (block);
}

static void
serve_pac (MoatProxyLoop *loop, Conn *c)
{
  g_autofree char *pac = moat_pac_render (loop->origin + strlen ("http://"));

  if (pac == NULL)
    {
      client_error (loop, c, 500, "cannot render the PAC file");
      return;
    }
  client_respond (loop, c, 200, NULL, MOAT_PAC_CONTENT_TYPE, pac, strlen (pac), FALSE);
}

/* The body of a form posted to MOAT_BLOCK_PAGE_ALLOW_PATH is complete. */
static void
serve_allow_form (MoatProxyLoop *loop, Conn *c, const char *body, gsize len)
{
  g_autofree char *host = NULL;
  g_autofree char *mode = NULL;
  g_autofree char *ret = NULL;
  g_autofree char *token = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) page = NULL;
  gsize size;
  const char *data;

  if (!moat_block_page_parse_allow_form (body, len, &host, &mode, &ret, &token, &error))
    {
      client_error (loop, c, 400, "bad allow form");
      return;
    }
  if (!moat_block_page_check_token (loop->secret, sizeof loop->secret, host, token,
                                    g_get_real_time () / G_USEC_PER_SEC))
    {
      client_error (loop, c, 403, "allow token is not valid");
      return;
    }
  {
    gint64 *expiry = g_new (gint64, 1);

    *expiry = loop->now + (gint64) MOAT_PROXY_ALLOW_ONCE_S * G_USEC_PER_SEC;
    g_hash_table_replace (loop->allow_once, g_strdup (host), expiry);
  }
  if (g_str_equal (mode, "always") && loop->cb.always_allow != NULL)
    loop->cb.always_allow (host, loop->cb.user_data);
  page = moat_block_page_render_allowed (host, ret);
  data = g_bytes_get_data (page, &size);
  client_respond (loop, c, 200, NULL, MOAT_BLOCK_PAGE_CONTENT_TYPE, data, size, FALSE);
}

/* A request for the proxy's own endpoints. Returns the bytes used. */
static gsize
handle_local (MoatProxyLoop *loop, Conn *c, const MoatHttpRequest *req, gboolean absolute)
{
  g_autofree char *host = NULL;
  guint16 port = loop->listen_port;
  const char *path = req->path;
  gsize path_len = req->path_len;
  const char *q;

  if (req->target_form == MOAT_HTTP_TARGET_ASTERISK)
    {
      client_error (loop, c, 400, "not a proxy request");
      return req->head_len;
    }
  if (!absolute)
    {
      const char *hp;
      gsize hl;

      if (req->host == NULL)
        {
          client_error (loop, c, 421, "not for this proxy");
          return req->head_len;
        }
      authority_host (req->host->value, req->host->value_len, &hp, &hl);
      host = moat_host_normalize (hp, hl, NULL, NULL);
      if (hl < req->host->value_len)
        port = (guint16) g_ascii_strtoull (hp + hl + 1, NULL, 10);
      if (host == NULL || !(g_str_equal (host, "localhost") || host_is_self (loop, host, port)))
        {
          client_error (loop, c, 421, "not for this proxy");
          return req->head_len;
        }
    }
  q = memchr (path, '?', path_len);
  if (q != NULL)
    path_len = q - path;
  if (path_len == strlen ("/proxy.pac") && memcmp (path, "/proxy.pac", path_len) == 0 &&
      (req->method == MOAT_HTTP_METHOD_GET || req->method == MOAT_HTTP_METHOD_HEAD))
    {
      if (req->body != MOAT_HTTP_BODY_NONE)
        c->close_after = TRUE;
      serve_pac (loop, c);
      return req->head_len;
    }
  if (path_len == strlen (MOAT_BLOCK_PAGE_ALLOW_PATH) &&
      memcmp (path, MOAT_BLOCK_PAGE_ALLOW_PATH, path_len) == 0 &&
      req->method == MOAT_HTTP_METHOD_POST)
    {
      if (req->body != MOAT_HTTP_BODY_LENGTH || req->content_length > MOAT_BLOCK_PAGE_MAX_FORM_SIZE)
        {
          client_error (loop, c, req->body == MOAT_HTTP_BODY_LENGTH ? 413 : 411, "bad allow form");
          return req->head_len;
        }
      c->state = CS_LOCAL_BODY;
      c->req_body.remaining = req->content_length;
      timer_set (loop, &c->timer, loop->head_ms);
      return req->head_len;
    }
  if (req->body != MOAT_HTTP_BODY_NONE)
    c->close_after = TRUE;
  {
    static const char body[] = "Not found\n";

    client_respond (loop, c, 404, NULL, "text/plain; charset=utf-8", body, sizeof body - 1, c->close_after);
  }
  return req->head_len;
}

/* A parsed request head at @data. Returns the bytes used (the head), or 0
 * when it waits for DNS (the head stays in c->in). */
static gsize
handle_request (MoatProxyLoop *loop, Conn *c, const MoatHttpRequest *req, const char *data, gsize len)
{
  gboolean tunnel = req->method == MOAT_HTTP_METHOD_CONNECT;
  g_autofree char *host = NULL;
  MoatHostKind kind;
  const char *hp;
  gsize hl;
  guint16 port = req->port;
  const char *target;
  guint16 target_port;
  gboolean local_ok;
  Addr one;
  const Addr *override;
  const Addr *addrs;
  guint n_addrs;
  Addr cand[MAX_CANDIDATES];
  guint n_cand = 0;
  gboolean saw_local = FALSE, saw_loop = FALSE;
  Upstream *up = NULL;
  int err = 0;

  c->method = req->method;
  c->version_minor = req->version_minor;
  c->keep_alive = req->keep_alive;
  c->req_done = FALSE;
  c->resp_started = FALSE;
  c->resp_done = FALSE;

  if (req->has_upgrade)
    {
      client_error (loop, c, 501, "upgrade is not supported");
      return len;
    }
  if (req->target_form == MOAT_HTTP_TARGET_ORIGIN || req->target_form == MOAT_HTTP_TARGET_ASTERISK)
    return handle_local (loop, c, req, FALSE);

  authority_host (req->authority, req->authority_len, &hp, &hl);
  host = moat_host_normalize (hp, hl, &kind, NULL);
  if (host == NULL)
    {
      client_error (loop, c, 400, "bad host");
      return len;
    }
  if (port == 0)
    {
      client_error (loop, c, 400, "bad port");
      return len;
    }

  if (host_is_self (loop, host, port))
    {
      if (!tunnel && req->path != NULL &&
          ((req->path_len >= strlen ("/proxy.pac") && memcmp (req->path, "/proxy.pac", strlen ("/proxy.pac")) == 0) ||
           (req->path_len >= strlen ("/moat/") && memcmp (req->path, "/moat/", strlen ("/moat/")) == 0)))
        return handle_local (loop, c, req, TRUE);
      record_block (loop, MOAT_PROXY_BLOCK_LOOP, tunnel, host, port, req, NULL, NULL);
      c->close_after = TRUE;
      client_error (loop, c, 508, "request addressed to the proxy itself");
      return len;
    }

  if (tunnel)
    {
      gboolean ok = FALSE;

      for (guint i = 0; i < loop->n_connect_ports; i++)
        ok = ok || loop->connect_ports[i] == port;
      if (!ok)
        {
          MoatProxyBlock *block = NULL;

          record_block (loop, MOAT_PROXY_BLOCK_PORT, TRUE, host, port, req, NULL, &block);
          answer_block (loop, c, req, block);
          return req->head_len;
        }
    }

  /* The threat policy's walls come before the lists and "allow once". */
  if (host_set_covers (loop->protected_hosts, host, kind) ||
      host_set_covers (loop->policy_blocked, host, kind))
    {
      MoatProxyBlock *block = NULL;
      MoatProxyBlockReason reason = host_set_covers (loop->protected_hosts, host, kind) ?
                                    MOAT_PROXY_BLOCK_PROTECTED : MOAT_PROXY_BLOCK_POLICY;

      record_block (loop, reason, tunnel, host, port, req, NULL, &block);
      answer_block (loop, c, req, block);
      return req->head_len;
    }

  if (loop->matcher != NULL && !allow_once_active (loop, host))
    {
      MoatFilterMatch match;
      MoatFilterVerdict verdict;

      if (tunnel)
        {
          /* All a tunnel shows is its host. */
          verdict = moat_filter_matcher_match_host (loop->matcher, host, -1,
                                                    MOAT_FILTER_QUERY_NONE, &match);
        }
      else
        {
          /* Plain HTTP: the whole URL, the page's site and the resource type. */
          g_autofree char *ref_host = request_source_host (req);
          g_autofree char *site = ref_host != NULL ? moat_host_registrable_domain (ref_host) : NULL;
          GString *url = loop->url;

          g_string_assign (url, "http://");
          g_string_append (url, host);
          if (port != 80)
            g_string_append_printf (url, ":%u", port);
          if (req->path != NULL && req->path_len > 0)
            {
              if (req->path[0] != '/')
                g_string_append_c (url, '/');
              g_string_append_len (url, req->path, req->path_len);
            }
          else
            g_string_append_c (url, '/');
          verdict = moat_filter_matcher_match_url (loop->matcher, url->str, url->len, host,
                                                   strlen (host),
                                                   site != NULL ? site : ref_host,
                                                   request_type (req), &match);
        }
      if (verdict == MOAT_FILTER_VERDICT_BLOCK)
        {
          MoatProxyBlock *block = NULL;

          record_block (loop, MOAT_PROXY_BLOCK_FILTER, tunnel, host, port, req, &match, &block);
          answer_block (loop, c, req, block);
          return req->head_len;
        }
    }

  /* Where to connect: the parent proxy, or the host itself. */
  target = host;
  target_port = port;
  local_ok = g_hash_table_contains (loop->allow_local, host);
  if (loop->parent_host != NULL)
    {
      if (kind != MOAT_HOST_KIND_NAME && !local_ok && addr_from_string (host, &one) && addr_is_local (loop, &one))
        {
          MoatProxyBlock *block = NULL;

          record_block (loop, MOAT_PROXY_BLOCK_LOCAL, tunnel, host, port, req, NULL, &block);
          answer_block (loop, c, req, block);
          return req->head_len;
        }
      target = loop->parent_host;
      target_port = loop->parent_port;
      local_ok = TRUE;
    }

  override = g_hash_table_lookup (loop->overrides, target);
  if (override != NULL)
    {
      one = *override;
      addrs = &one;
      n_addrs = 1;
    }
  else if (addr_from_string (target, &one))
    {
      addrs = &one;
      n_addrs = 1;
    }
  else
    {
      DnsEntry *e = dns_lookup (loop, target);

      if (e->state == DNS_PENDING)
        {
          c->state = CS_RESOLVING;
          c->dns_wait = e;
          c->dns_prev = NULL;
          c->dns_next = e->waiters;
          if (e->waiters != NULL)
            e->waiters->dns_prev = c;
          e->waiters = c;
          timer_set (loop, &c->timer, loop->upstream_ms);
          return 0;
        }
      if (e->state == DNS_FAIL)
        {
          if (req->body != MOAT_HTTP_BODY_NONE)
            c->close_after = TRUE;
          client_error (loop, c, 502, "cannot resolve the host");
          return len;
        }
      addrs = e->addrs;
      n_addrs = e->n_addrs;
    }

  for (guint i = 0; i < n_addrs && n_cand < MAX_CANDIDATES; i++)
    {
      Addr a = addrs[i];

      addr_set_port (&a, target_port);
      if (addr_same_endpoint (&a, &loop->listen_addr))
        {
          saw_loop = TRUE;
          continue;
        }
      if (!local_ok && addr_is_local (loop, &a))
        {
          saw_local = TRUE;
          continue;
        }
      cand[n_cand++] = a;
    }
  if (n_cand == 0)
    {
      if (saw_loop)
        {
          record_block (loop, MOAT_PROXY_BLOCK_LOOP, tunnel, host, port, req, NULL, NULL);
          c->close_after = TRUE;
          client_error (loop, c, 508, "request addressed to the proxy itself");
        }
      else if (saw_local)
        {
          MoatProxyBlock *block = NULL;

          record_block (loop, MOAT_PROXY_BLOCK_LOCAL, tunnel, host, port, req, NULL, &block);
          answer_block (loop, c, req, block);
        }
      else
        client_error (loop, c, 502, "no usable address");
      return req->head_len;
    }

  c->resp_body.kind = MOAT_HTTP_BODY_NONE;
  if (!tunnel)
    up = pool_take (loop, &cand[0]);
  if (up == NULL)
    up = upstream_connect (loop, cand, n_cand, &err);
  if (up == NULL)
    {
      debug_limited (loop, "upstream socket", err);
      c->close_after = TRUE;
      client_error (loop, c, 502, "cannot connect upstream");
      return len;
    }
  up->client = c;
  c->up = up;
  up->via_parent = loop->parent_host != NULL;

  if (tunnel)
    {
      up->tunnel = TRUE;
      c->state = CS_CONNECTING;
      c->req_done = TRUE;
      timer_clear (loop, &c->timer);
      if (up->via_parent)
        {
          g_string_truncate (loop->hs, 0);
          moat_http_request_write_upstream (req, TRUE, MOAT_PROXY_VIA_TOKEN, loop->hs);
          buf_append (&up->out, loop->hs->str, loop->hs->len);
        }
      upstream_sync (loop, up);
      return req->head_len;
    }

  if (up->state == UP_IDLE)
    up->state = UP_ACTIVE;
  c->state = CS_FORWARD;
  timer_clear (loop, &c->timer);
  timer_set (loop, &up->timer, loop->upstream_ms);
  body_init (&c->req_body, req->body, req->content_length);
  c->req_done = c->req_body.kind == MOAT_HTTP_BODY_NONE;
  g_string_truncate (loop->hs, 0);
  moat_http_request_write_upstream (req, up->via_parent, MOAT_PROXY_VIA_TOKEN, loop->hs);
  up->replay_ok = up->reused && c->req_done &&
                  req->method != MOAT_HTTP_METHOD_POST && req->method != MOAT_HTTP_METHOD_PATCH &&
                  req->method != MOAT_HTTP_METHOD_OTHER;
  if (up->replay_ok)
    buf_append (&up->replay, loop->hs->str, loop->hs->len);
  if (!upstream_send (loop, up, loop->hs->str, loop->hs->len))
    {
      upstream_failed (loop, up, FALSE);
      return req->head_len;
    }
  upstream_sync (loop, up);
  return req->head_len;
}

/* Consumes input in the current state; returns the bytes used. */
static gsize
client_consume (MoatProxyLoop *loop, Conn *c, const char *data, gsize len)
{
  switch (c->state)
    {
    case CS_HEAD:
      {
        MoatHttpRequest *req = loop->req;

        /* A head dripped in byte by byte must not be parsed again from the
         * start for every byte: only a new LF or a limit can change the
         * answer (moat-http-parser.h). */
        if (c->head_seen > 0 && len > c->head_seen && len < MOAT_HTTP_MAX_HEAD &&
            !(c->head_seen < MOAT_HTTP_MAX_REQUEST_LINE + 2 && len >= MOAT_HTTP_MAX_REQUEST_LINE + 2) &&
            memchr (data + c->head_seen, '\n', len - c->head_seen) == NULL)
          {
            c->head_seen = (guint32) len;
            return 0;
          }

        switch (moat_http_parse_request (data, len, req))
          {
          case MOAT_HTTP_PARSE_INCOMPLETE:
            c->head_seen = (guint32) len;
            if (!c->head_timer)
              {
                c->head_timer = TRUE;
                timer_set (loop, &c->timer, loop->head_ms);
              }
            return 0;
          case MOAT_HTTP_PARSE_ERROR:
            c->head_seen = 0;
            c->keep_alive = FALSE;
            c->method = MOAT_HTTP_METHOD_GET;
            c->version_minor = 1;
            client_error (loop, c, req->error_status ? req->error_status : 400,
                          req->error_reason ? req->error_reason : "bad request");
            return len;
          case MOAT_HTTP_PARSE_OK:
          default:
            c->head_seen = 0;
            c->head_timer = FALSE;
            return handle_request (loop, c, req, data, len);
          }
      }
    case CS_FORWARD:
      {
        Upstream *up = c->up;
        const char *out;
        gsize out_len;
        gboolean done;
        gssize used;

        if (c->req_done || up == NULL || up->state != UP_ACTIVE || buf_pending (&up->out) > 0)
          return 0;
        used = body_feed (loop, &c->req_body, data, len, &out, &out_len, &done);
        if (used < 0)
          {
            upstream_close (loop, up);
            if (!c->resp_started)
              client_error (loop, c, 400, c->req_body.dec.error_reason ? c->req_body.dec.error_reason : "bad chunked body");
            else
              client_close (loop, c);
            return len;
          }
        if (out_len > 0 && !upstream_send (loop, up, out, out_len))
          {
            upstream_failed (loop, up, FALSE);
            return len;
          }
        timer_set (loop, &up->timer, loop->upstream_ms);
        if (done)
          c->req_done = TRUE;   /* an early response closed the connection already */
        return used;
      }
    case CS_LOCAL_BODY:
      if (len < c->req_body.remaining)
        return 0;
      {
        gsize need = c->req_body.remaining;

        serve_allow_form (loop, c, data, need);
        return need;
      }
    case CS_CLOSING:
    case CS_LINGER:
      return len;
    case CS_RESOLVING:
    case CS_CONNECTING:
    case CS_TUNNEL:
    default:
      return 0;
    }
}

/* @data is either the scratch buffer (@from_in FALSE) or c->in's pending
 * bytes (@from_in TRUE). What is not used stays in (or goes to) c->in. */
static void
client_input (MoatProxyLoop *loop, Conn *c, const char *data, gsize len, gboolean from_in)
{
  gsize total = 0;

  while (total < len && c->fd >= 0)
    {
      guint8 state = c->state;
      gsize used = client_consume (loop, c, data + total, len - total);

      if (c->fd < 0)
        return;
      if (used == 0 && c->state == state)
        break;
      total += used;
      if (used == 0 && c->state != CS_HEAD && c->state != CS_FORWARD)
        break;
    }
  if (c->fd < 0)
    return;
  if (from_in)
    buf_consume (&c->in, total);
  else
    buf_append (&c->in, data + total, len - total);
  if (buf_pending (&c->in) == 0)
    buf_free (&c->in);
}

static void
client_on_readable (MoatProxyLoop *loop, Conn *c)
{
  ssize_t n;

  if (c->state == CS_TUNNEL)
    {
      tunnel_pump (loop, c);
      return;
    }
  n = recv (c->fd, loop->scratch, SCRATCH_SIZE, 0);
  if (n < 0)
    {
      if (errno == EAGAIN || errno == EWOULDBLOCK || errno == EINTR)
        return;
      client_close (loop, c);
      return;
    }
  if (n == 0)
    {
      /* A client that half-closes after a complete request still gets its answer. */
      if (c->state == CS_FORWARD && c->req_done && !c->resp_done)
        {
          c->close_after = TRUE;
          c->peer_eof = TRUE;
          return;
        }
      if (c->state == CS_HEAD && buf_pending (&c->in) > 0 && c->served == FALSE)
        {
          client_close (loop, c);
          return;
        }
      client_close (loop, c);
      return;
    }
  if (c->state == CS_LINGER || c->state == CS_CLOSING)
    return;
  if (buf_pending (&c->in) > 0)
    {
      if (buf_pending (&c->in) + n > MOAT_HTTP_MAX_HEAD + MOAT_HTTP_MAX_REQUEST_LINE + SCRATCH_SIZE)
        {
          client_error (loop, c, 431, "request head too large");
          return;
        }
      buf_append (&c->in, loop->scratch, n);
      client_input (loop, c, buf_data (&c->in), buf_pending (&c->in), TRUE);
    }
  else
    client_input (loop, c, loop->scratch, n, FALSE);
}

static void
client_on_writable (MoatProxyLoop *loop, Conn *c)
{
  if (c->state == CS_TUNNEL)
    {
      tunnel_pump (loop, c);
      return;
    }
  if (!flush_fd (c->fd, &c->out))
    {
      client_close (loop, c);
      return;
    }
  if (buf_pending (&c->out) == 0 && c->state == CS_CLOSING)
    {
      shutdown (c->fd, SHUT_WR);
      c->state = CS_LINGER;
    }
}

/* ----------------------------------------------------------------- events */

static void
client_sync (MoatProxyLoop *loop, Conn *c)
{
  guint32 want = 0;
  Upstream *up = c->up;

  if (c->fd < 0)
    return;
  switch (c->state)
    {
    case CS_HEAD:
      if (buf_pending (&c->out) == 0)
        want |= EPOLLIN;
      break;
    case CS_FORWARD:
      /* Reading on while the response runs keeps the registration as it is
       * for the next request; pipelined bytes just wait in c->in. */
      if (!c->peer_eof && buf_pending (&c->in) == 0 &&
          (c->req_done || (up != NULL && up->state == UP_ACTIVE && buf_pending (&up->out) == 0)))
        want |= EPOLLIN;
      break;
    case CS_LOCAL_BODY:
    case CS_LINGER:
      want |= EPOLLIN;
      break;
    case CS_TUNNEL:
      if (c->tunnel != NULL && up != NULL)
        {
          Tunnel *t = c->tunnel;

          if (tunnel_wants_in (t, &t->c2u, &up->out))
            want |= EPOLLIN;
          if (t->u2c.pending > 0)
            want |= EPOLLOUT;
        }
      break;
    default:
      break;
    }
  if (buf_pending (&c->out) > 0)
    want |= EPOLLOUT;
  epoll_set (loop, c->fd, &c->ev, want, c);
  if (up != NULL && up->fd >= 0)
    upstream_sync (loop, up);
}

static void
upstream_sync (MoatProxyLoop *loop, Upstream *up)
{
  guint32 want = 0;
  Conn *c = up->client;

  if (up->fd < 0)
    return;
  switch (up->state)
    {
    case UP_CONNECTING:
      want = EPOLLOUT;
      break;
    case UP_ACTIVE:
      if (buf_pending (&up->out) > 0)
        want |= EPOLLOUT;
      if (c != NULL && !c->resp_done && buf_pending (&c->out) == 0)
        want |= EPOLLIN | EPOLLRDHUP;   /* as when idle: no epoll_ctl per request */
      break;
    case UP_IDLE:
      want = EPOLLIN | EPOLLRDHUP;
      break;
    case UP_TUNNEL:
      if (c != NULL && c->tunnel != NULL)
        {
          Tunnel *t = c->tunnel;

          if (tunnel_wants_in (t, &t->u2c, &c->out))
            want |= EPOLLIN;
          if (t->c2u.pending > 0 || buf_pending (&up->out) > 0)
            want |= EPOLLOUT;
        }
      break;
    default:
      break;
    }
  epoll_set (loop, up->fd, &up->ev, want, up);
}

static void
on_accept (MoatProxyLoop *loop)
{
  for (guint i = 0; i < 64; i++)
    {
      int fd, one = 1;
      Conn *c;

      if (loop->n_conns >= loop->max_conns)
        {
          pause_accept (loop, 0);
          return;
        }
      fd = accept4 (loop->listen_fd, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0)
        {
          if (errno == EAGAIN || errno == EWOULDBLOCK)
            return;
          if (errno == EINTR || errno == ECONNABORTED)
            continue;
          if (errno == EMFILE || errno == ENFILE || errno == ENOBUFS || errno == ENOMEM)
            {
              /* Out of descriptors: refuse one client with the reserve so it
               * does not hang, then stop accepting for a moment. */
              debug_limited (loop, "accept", errno);
              if (loop->reserve_fd >= 0)
                {
                  close (loop->reserve_fd);
                  loop->reserve_fd = -1;
                  fd = accept4 (loop->listen_fd, NULL, NULL, SOCK_CLOEXEC);
                  if (fd >= 0)
                    close (fd);
                  loop->reserve_fd = eventfd (0, EFD_CLOEXEC);
                }
              pause_accept (loop, ACCEPT_RETRY_MS);
              return;
            }
          debug_limited (loop, "accept", errno);
          return;
        }
      setsockopt (fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      set_notsent_lowat (fd);
      c = g_new0 (Conn, 1);
      c->kind = KIND_CLIENT;
      c->state = CS_HEAD;
      c->fd = fd;
      c->keep_alive = TRUE;
      c->version_minor = 1;
      c->timer.kind = TK_CLIENT;
      c->ev = EPOLLIN;
      if (!epoll_add (loop, fd, EPOLLIN, c))
        {
          close (fd);
          g_free (c);
          continue;
        }
      c->next = loop->conns;
      if (loop->conns != NULL)
        loop->conns->prev = c;
      loop->conns = c;
      loop->n_conns++;
      STAT_ADD (st_connections, 1);
      timer_set (loop, &c->timer, loop->head_ms);
    }
}

static void
on_client_timer (MoatProxyLoop *loop, Conn *c)
{
  switch (c->state)
    {
    case CS_HEAD:
    case CS_LOCAL_BODY:
      if (buf_pending (&c->in) > 0 || c->state == CS_LOCAL_BODY)
        {
          c->keep_alive = FALSE;
          client_error (loop, c, 408, "request head timed out");
          if (c->fd >= 0)
            client_sync (loop, c);
          return;
        }
      client_close (loop, c);   /* an idle connection: just close it */
      return;
    case CS_RESOLVING:
      dns_detach (c);
      c->close_after = TRUE;
      client_error (loop, c, 504, "name resolution timed out");
      if (c->fd >= 0)
        client_sync (loop, c);
      return;
    default:
      client_close (loop, c);
      return;
    }
}

static void
on_upstream_timer (MoatProxyLoop *loop, Upstream *up)
{
  Conn *c = up->client;

  switch (up->state)
    {
    case UP_CONNECTING:
      upstream_connect_next (loop, up, TRUE);
      break;
    case UP_IDLE:
      upstream_close (loop, up);
      return;
    default:
      upstream_failed (loop, up, TRUE);
      break;
    }
  if (c != NULL && c->fd >= 0)
    client_sync (loop, c);
}

static void
run_timers (MoatProxyLoop *loop)
{
  while (loop->heap_len > 0 && loop->heap[1]->deadline <= loop->now)
    {
      Timer *t = loop->heap[1];

      timer_clear (loop, t);
      switch (t->kind)
        {
        case TK_CLIENT:
          on_client_timer (loop, (Conn *) ((char *) t - G_STRUCT_OFFSET (Conn, timer)));
          break;
        case TK_UPSTREAM:
          on_upstream_timer (loop, (Upstream *) ((char *) t - G_STRUCT_OFFSET (Upstream, timer)));
          break;
        case TK_ACCEPT:
        default:
          loop->accept_paused = TRUE;
          {
            struct epoll_event ev = { .events = EPOLLIN, .data.ptr = &listener_handle };

            if (loop->n_conns < loop->max_conns)
              {
                loop->accept_paused = FALSE;
                epoll_ctl (loop->epfd, EPOLL_CTL_MOD, loop->listen_fd, &ev);
              }
          }
          break;
        }
    }
}

/* --------------------------------------------------------------- commands */

void
moat_proxy_command_free (MoatProxyCommand *cmd)
{
  if (cmd == NULL)
    return;
  g_clear_pointer (&cmd->matcher, moat_filter_matcher_unref);
  g_strfreev (cmd->strv);
  g_free (cmd->host);
  g_free (cmd->address);
  g_free (cmd->ports);
  g_clear_pointer (&cmd->addrs, g_array_unref);
  g_free (cmd);
}

static void
run_command (MoatProxyLoop *loop, MoatProxyCommand *cmd)
{
  switch (cmd->type)
    {
    case MOAT_PROXY_CMD_STOP:
      loop->stopping = TRUE;
      break;
    case MOAT_PROXY_CMD_SET_MATCHER:
      /* The old matcher is released here, on the proxy thread. */
      g_clear_pointer (&loop->matcher, moat_filter_matcher_unref);
      loop->matcher = g_steal_pointer (&cmd->matcher);
      break;
    case MOAT_PROXY_CMD_SET_ALLOW_LOCAL:
      g_hash_table_remove_all (loop->allow_local);
      for (guint i = 0; cmd->strv != NULL && cmd->strv[i] != NULL; i++)
        {
          char *h = moat_host_normalize (cmd->strv[i], -1, NULL, NULL);

          if (h != NULL)
            g_hash_table_add (loop->allow_local, h);
        }
      break;
    case MOAT_PROXY_CMD_SET_PROTECTED:
      fill_host_set (loop->protected_hosts, cmd->strv);
      break;
    case MOAT_PROXY_CMD_SET_POLICY_BLOCKED:
      fill_host_set (loop->policy_blocked, cmd->strv);
      break;
    case MOAT_PROXY_CMD_SET_CONNECT_PORTS:
      g_free (loop->connect_ports);
      loop->connect_ports = g_steal_pointer (&cmd->ports);
      loop->n_connect_ports = cmd->n_ports;
      break;
    case MOAT_PROXY_CMD_SET_PARENT:
      g_clear_pointer (&loop->parent_host, g_free);
      if (cmd->host != NULL && cmd->port != 0)
        loop->parent_host = moat_host_normalize (cmd->host, -1, NULL, NULL);
      loop->parent_port = cmd->port;
      break;
    case MOAT_PROXY_CMD_ALLOW_ONCE:
      {
        char *h = moat_host_normalize (cmd->host, -1, NULL, NULL);

        if (h != NULL)
          {
            gint64 *expiry = g_new (gint64, 1);

            *expiry = loop->now + (gint64) MOAT_PROXY_ALLOW_ONCE_S * G_USEC_PER_SEC;
            g_hash_table_replace (loop->allow_once, h, expiry);
          }
      }
      break;
    case MOAT_PROXY_CMD_SET_RESOLVE:
      {
        char *h = moat_host_normalize (cmd->host, -1, NULL, NULL);
        Addr a;

        if (h == NULL)
          break;
        if (cmd->address != NULL && addr_from_string (cmd->address, &a))
          g_hash_table_replace (loop->overrides, h, g_memdup2 (&a, sizeof a));
        else
          {
            g_hash_table_remove (loop->overrides, h);
            g_free (h);
          }
      }
      break;
    case MOAT_PROXY_CMD_SET_IFADDRS:
      g_array_set_size (loop->ifaddrs, 0);
      for (guint i = 0; cmd->addrs != NULL && i < cmd->addrs->len; i++)
        {
          const struct sockaddr_storage *ss = &g_array_index (cmd->addrs, struct sockaddr_storage, i);
          Addr a = { 0 };

          if (ss->ss_family == AF_INET)
            memcpy (&a, ss, sizeof (struct sockaddr_in));
          else if (ss->ss_family == AF_INET6)
            memcpy (&a, ss, sizeof (struct sockaddr_in6));
          else
            continue;
          g_array_append_val (loop->ifaddrs, a);
        }
      break;
    case MOAT_PROXY_CMD_SET_TIMEOUTS:
      if (cmd->timeouts[0] > 0)
        loop->head_ms = cmd->timeouts[0];
      if (cmd->timeouts[1] > 0)
        loop->idle_ms = cmd->timeouts[1];
      if (cmd->timeouts[2] > 0)
        loop->upstream_ms = cmd->timeouts[2];
      if (cmd->timeouts[3] > 0)
        loop->tunnel_ms = cmd->timeouts[3];
      break;
    default:
      break;
    }
}

static void
on_wake (MoatProxyLoop *loop)
{
  guint64 v;
  GQueue q = G_QUEUE_INIT;
  MoatProxyCommand *cmd;

  if (read (loop->wake_fd, &v, sizeof v) < 0 && errno != EAGAIN)
    debug_limited (loop, "eventfd", errno);
  g_mutex_lock (&loop->lock);
  q = loop->commands;
  g_queue_init (&loop->commands);
  g_mutex_unlock (&loop->lock);
  while ((cmd = g_queue_pop_head (&q)) != NULL)
    {
      run_command (loop, cmd);
      moat_proxy_command_free (cmd);
    }
  dns_results (loop);
}

void
moat_proxy_loop_push (MoatProxyLoop *loop, MoatProxyCommand *cmd)
{
  guint64 one = 1;

  g_mutex_lock (&loop->lock);
  g_queue_push_tail (&loop->commands, cmd);
  g_mutex_unlock (&loop->lock);
  if (write (loop->wake_fd, &one, sizeof one) < 0)
    g_debug ("eventfd write: %s", g_strerror (errno));
}

/* ------------------------------------------------------------------- loop */

static void
sweep_graveyard (MoatProxyLoop *loop)
{
  for (guint i = 0; i < loop->graveyard->len; i++)
    g_free (loop->graveyard->pdata[i]);
  g_ptr_array_set_size (loop->graveyard, 0);
}

gpointer
moat_proxy_loop_run (gpointer data)
{
  MoatProxyLoop *loop = data;
  struct epoll_event events[MAX_EVENTS];

  loop->now = g_get_monotonic_time ();
  while (!loop->stopping)
    {
      int timeout = -1;
      int n;

      if (loop->heap_len > 0)
        {
          gint64 wait = loop->heap[1]->deadline - loop->now;

          timeout = wait <= 0 ? 0 : (int) MIN ((wait + 999) / 1000, G_MAXINT);
        }
      n = epoll_wait (loop->epfd, events, MAX_EVENTS, timeout);
      loop->now = g_get_monotonic_time ();
      if (n < 0)
        {
          if (errno != EINTR)
            debug_limited (loop, "epoll_wait", errno);
          continue;
        }
      for (int i = 0; i < n; i++)
        {
          Handle *h = events[i].data.ptr;
          guint32 ev = events[i].events;

          switch (h->kind)
            {
            case KIND_LISTENER:
              on_accept (loop);
              break;
            case KIND_WAKE:
              on_wake (loop);
              break;
            case KIND_CLIENT:
              {
                Conn *c = (Conn *) h;

                if (c->fd < 0)
                  break;
                if (ev & (EPOLLOUT | EPOLLERR))
                  client_on_writable (loop, c);
                if (c->fd >= 0 && (ev & (EPOLLIN | EPOLLHUP | EPOLLERR)))
                  client_on_readable (loop, c);
                client_sync (loop, c);
              }
              break;
            case KIND_UPSTREAM:
            default:
              {
                Upstream *up = (Upstream *) h;
                Conn *c = up->client;

                if (up->fd < 0)
                  break;
                if (ev & (EPOLLOUT | EPOLLERR | EPOLLHUP) || up->state == UP_CONNECTING)
                  upstream_on_writable (loop, up);
                if (up->fd >= 0 && up->state != UP_CONNECTING &&
                    (ev & (EPOLLIN | EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
                  upstream_on_readable (loop, up);
                if (c != NULL && c->fd >= 0)
                  client_sync (loop, c);
                else if (up->fd >= 0)
                  upstream_sync (loop, up);
              }
              break;
            }
        }
      run_timers (loop);
      sweep_graveyard (loop);
    }

  /* Stop: close everything on this thread. */
  while (loop->conns != NULL)
    client_close (loop, loop->conns);
  {
    GHashTableIter iter;
    gpointer value;
    GPtrArray *idle = g_ptr_array_new ();

    g_hash_table_iter_init (&iter, loop->pool);
    while (g_hash_table_iter_next (&iter, NULL, &value))
      for (Upstream *up = ((Bucket *) value)->head; up != NULL; up = up->pnext)
        g_ptr_array_add (idle, up);
    for (guint i = 0; i < idle->len; i++)
      upstream_close (loop, idle->pdata[i]);
    g_ptr_array_free (idle, TRUE);
  }
  sweep_graveyard (loop);
  g_clear_pointer (&loop->matcher, moat_filter_matcher_unref);
  return NULL;
}

MoatProxyLoop *
moat_proxy_loop_new (int                            listen_fd,
                     const struct sockaddr_storage *listen_addr,
                     const MoatProxyLoopCallbacks  *callbacks,
                     GError                       **error)
{
  MoatProxyLoop *loop = g_new0 (MoatProxyLoop, 1);
  struct rlimit rl;
  const void *raw;
  static const guint16 default_ports[] = { 443 };

  loop->listen_fd = listen_fd;
  loop->epfd = epoll_create1 (EPOLL_CLOEXEC);
  loop->wake_fd = eventfd (0, EFD_NONBLOCK | EFD_CLOEXEC);
  loop->reserve_fd = eventfd (0, EFD_CLOEXEC);
  if (loop->epfd < 0 || loop->wake_fd < 0)
    {
      int saved = errno;

      g_set_error (error, G_IO_ERROR, g_io_error_from_errno (saved),
                   "Cannot set up the proxy loop: %s", g_strerror (saved));
      if (loop->epfd >= 0)
        close (loop->epfd);
      if (loop->wake_fd >= 0)
        close (loop->wake_fd);
      if (loop->reserve_fd >= 0)
        close (loop->reserve_fd);
      g_free (loop);
      return NULL;
    }
  memcpy (&loop->listen_addr, listen_addr,
          listen_addr->ss_family == AF_INET ? sizeof (struct sockaddr_in) : sizeof (struct sockaddr_in6));
  raw = loop->listen_addr.sa.sa_family == AF_INET ? (const void *) &loop->listen_addr.in4.sin_addr
                                                  : (const void *) &loop->listen_addr.in6.sin6_addr;
  inet_ntop (loop->listen_addr.sa.sa_family, raw, loop->listen_host, sizeof loop->listen_host);
  loop->listen_port = addr_port (&loop->listen_addr);
  if (loop->listen_addr.sa.sa_family == AF_INET6)
    g_snprintf (loop->origin, sizeof loop->origin, "http://[%s]:%u", loop->listen_host, loop->listen_port);
  else
    g_snprintf (loop->origin, sizeof loop->origin, "http://%s:%u", loop->listen_host, loop->listen_port);
  if (callbacks != NULL)
    loop->cb = *callbacks;
  g_mutex_init (&loop->lock);
  g_queue_init (&loop->commands);
  g_queue_init (&loop->dns_results);
  loop->accept_timer.kind = TK_ACCEPT;
  loop->scratch = g_malloc (SCRATCH_SIZE);
  loop->decode = g_malloc (DECODE_SIZE);
  loop->hs = g_string_sized_new (4096);
  loop->url = g_string_sized_new (1024);
  loop->req = g_new0 (MoatHttpRequest, 1);
  loop->resp = g_new0 (MoatHttpResponse, 1);
  loop->graveyard = g_ptr_array_new ();
  loop->allow_local = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  loop->protected_hosts = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  loop->policy_blocked = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  loop->allow_once = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  loop->overrides = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  loop->ifaddrs = g_array_new (FALSE, TRUE, sizeof (Addr));
  loop->dns = g_hash_table_new_full (g_str_hash, g_str_equal, NULL, dns_entry_free);
  loop->pool = g_hash_table_new_full (addr_hash, addr_equal, NULL, g_free);
  loop->dns_pool = g_thread_pool_new (dns_worker, loop, DNS_THREADS, FALSE, NULL);
  loop->connect_ports = g_memdup2 (default_ports, sizeof default_ports);
  loop->n_connect_ports = G_N_ELEMENTS (default_ports);
  loop->head_ms = HEAD_TIMEOUT_MS;
  loop->idle_ms = IDLE_TIMEOUT_MS;
  loop->upstream_ms = UPSTREAM_TIMEOUT_MS;
  loop->tunnel_ms = TUNNEL_TIMEOUT_MS;
  if (getrandom (loop->secret, sizeof loop->secret, 0) != sizeof loop->secret)
    for (guint i = 0; i < sizeof loop->secret; i++)
      loop->secret[i] = g_random_int_range (0, 256);
  loop->max_conns = MAX_CONNS;
  if (getrlimit (RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
    {
      /* An idle connection holds one descriptor, a busy one two (four more
       * in a spliced tunnel, which falls back to copying without pipes):
       * leave a third for upstreams and a reserve for the rest of the
       * process. Running out anyway only pauses accepting. */
      guint by_fds = rl.rlim_cur > FD_RESERVE * 2 ? (guint) ((rl.rlim_cur - FD_RESERVE) / 3 * 2) : 16;

      loop->max_conns = MIN (loop->max_conns, by_fds);
    }
  epoll_add (loop, loop->listen_fd, EPOLLIN, &listener_handle);
  epoll_add (loop, loop->wake_fd, EPOLLIN, &wake_handle);
  return loop;
}

void
moat_proxy_loop_free (MoatProxyLoop *loop)
{
  if (loop == NULL)
    return;
  /* Lookups still running finish first: their results would land here. */
  g_thread_pool_free (loop->dns_pool, TRUE, TRUE);
  {
    DnsJob *job;
    MoatProxyCommand *cmd;

    while ((job = g_queue_pop_head (&loop->dns_results)) != NULL)
      {
        g_free (job->name);
        g_free (job);
      }
    while ((cmd = g_queue_pop_head (&loop->commands)) != NULL)
      moat_proxy_command_free (cmd);
  }
  close (loop->epfd);
  close (loop->wake_fd);
  if (loop->reserve_fd >= 0)
    close (loop->reserve_fd);
  close (loop->listen_fd);
  g_clear_pointer (&loop->matcher, moat_filter_matcher_unref);
  g_clear_pointer (&loop->page, g_bytes_unref);
  g_clear_pointer (&loop->page_block, moat_proxy_block_free);
  g_free (loop->heap);
  g_free (loop->scratch);
  g_free (loop->decode);
  g_string_free (loop->hs, TRUE);
  g_string_free (loop->url, TRUE);
  g_free (loop->req);
  g_free (loop->resp);
  g_ptr_array_free (loop->graveyard, TRUE);
  g_hash_table_destroy (loop->allow_local);
  g_hash_table_destroy (loop->protected_hosts);
  g_hash_table_destroy (loop->policy_blocked);
  g_hash_table_destroy (loop->allow_once);
  g_hash_table_destroy (loop->overrides);
  g_array_unref (loop->ifaddrs);
  g_hash_table_destroy (loop->dns);
  g_hash_table_destroy (loop->pool);
  g_free (loop->connect_ports);
  g_free (loop->parent_host);
  g_mutex_clear (&loop->lock);
  g_free (loop);
}

void
moat_proxy_loop_get_stats (MoatProxyLoop *loop, MoatProxyStats *stats)
{
  stats->requests = __atomic_load_n (&loop->st_requests, __ATOMIC_RELAXED);
  stats->tunnels = __atomic_load_n (&loop->st_tunnels, __ATOMIC_RELAXED);
  stats->blocked = __atomic_load_n (&loop->st_blocked, __ATOMIC_RELAXED);
  stats->errors = __atomic_load_n (&loop->st_errors, __ATOMIC_RELAXED);
  stats->connections = __atomic_load_n (&loop->st_connections, __ATOMIC_RELAXED);
  stats->upstream_idle = __atomic_load_n (&loop->st_upstream_idle, __ATOMIC_RELAXED);
}
