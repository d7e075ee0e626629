/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * The DNS hijack probe: a tiny, strict DNS client over UDP (random id and
 * source port, a deadline per attempt, retries) that asks the configured
 * resolver about names whose answers are known. GResolver cannot target a
 * given server, hence the client.
 */
#define G_LOG_DOMAIN "moat-detect"

#include "config.h"

#include "moat-dns-probe.h"
#include "moat-dns-probe-private.h"

#include "moat-error.h"
#include "moat-host.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>
#include <sys/random.h>

#define DEFAULT_TIMEOUT_MS     5000
#define DEFAULT_RETRIES        2
#define DEFAULT_NXDOMAIN_COUNT 3
#define MAX_RESOLVERS          3
#define MAX_CNAME_HOPS         8
#define MAX_NAME_WIRE          255

typedef struct {
  char      *name;
  GPtrArray *addresses;   /* canonical text, owned */
} PinnedName;

struct _MoatDnsProbeOptions {
  char      *resolver;      /* "address" or "address:port"; NULL: resolv.conf */
  char      *resolv_conf;
  GPtrArray *pinned;        /* PinnedName, owned */
  char      *nxdomain_zone;
  guint      nxdomain_count;
  char      *dnssec_name;
  gboolean   dnssec_required;
  guint      timeout_ms;
  guint      retries;
};

typedef enum {
  QUERY_ANSWERED,
  QUERY_TIMED_OUT,
  QUERY_FAILED,
} QueryOutcome;

typedef struct {
  GSocketAddress *address;
  char           *text;          /* as shown in subjects and evidence */
  gboolean        unreachable;
} Resolver;

/* Wire format */

typedef struct {
  char    *owner;
  guint16  type;
  char    *value;    /* address text or CNAME target */
} Record;

static void
record_free (Record *record)
{
  g_free (record->owner);
  g_free (record->value);
  g_free (record);
}

void
moat_dns_reply_free (MoatDnsReply *reply)
{
  if (reply == NULL)
    return;
  g_free (reply->qname);
  g_clear_pointer (&reply->addresses, g_ptr_array_unref);
  g_clear_pointer (&reply->cnames, g_ptr_array_unref);
  g_free (reply);
}

static gboolean
malformed (GError **error, const char *what)
{
  g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT, "malformed DNS reply: %s", what);
  return FALSE;
}

static gboolean
read_u16 (const guint8 *data, gsize len, gsize *pos, guint16 *out)
{
  if (len < 2 || *pos > len - 2)
    return FALSE;
  *out = (guint16) ((data[*pos] << 8) | data[*pos + 1]);
  *pos += 2;
  return TRUE;
}

/* Reads a possibly compressed name at *pos into text (lower case, labels
 * joined with dots, bytes other than printable ASCII written as \DDD). Each
 * compression pointer must point before the previous one, so loops end. */
static gboolean
read_name (const guint8 *data, gsize len, gsize *pos, char **out, GError **error)
{
  g_autoptr(GString) text = g_string_new (NULL);
  gsize p = *pos;
  gsize limit = *pos;
  gsize wire = 1;
  gboolean jumped = FALSE;

  for (;;)
    {
      guint8 c;

      if (p >= len)
        return malformed (error, "name runs past the end");
      c = data[p];
      if (c == 0)
        {
          if (!jumped)
            *pos = p + 1;
          break;
        }
      if ((c & 0xc0) == 0xc0)
        {
          gsize target;

          if (p + 1 >= len)
            return malformed (error, "cut compression pointer");
          target = ((gsize) (c & 0x3f) << 8) | data[p + 1];
          if (target >= limit)
            return malformed (error, "compression pointer does not point back");
          if (!jumped)
            *pos = p + 2;
          jumped = TRUE;
          limit = target;
          p = target;
          continue;
        }
      if ((c & 0xc0) != 0)
        return malformed (error, "unknown label type");
      if (c > len - p - 1)
        return malformed (error, "label runs past the end");
      wire += c + 1;
      if (wire > MAX_NAME_WIRE)
        return malformed (error, "name too long");
      if (text->len > 0)
        g_string_append_c (text, '.');
      for (guint i = 1; i <= c; i++)
        {
          guint8 b = data[p + i];

          if (b > 0x20 && b < 0x7f && b != '.' && b != '\\')
            g_string_append_c (text, g_ascii_tolower ((char) b));
          else
            g_string_append_printf (text, "\\%03u", b);
        }
      p += c + 1;
    }
  *out = g_string_free (g_steal_pointer (&text), FALSE);
  return TRUE;
}

static char *
address_to_string (const guint8 *bytes, GSocketFamily family)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_bytes (bytes, family);

  return g_inet_address_to_string (address);
}

/**
 * moat_dns_reply_parse:
 * @data: a DNS message as received
 *
 * Parses a reply to a one-question query: header, question, and the A, AAAA
 * and CNAME records of the answer section; the other sections are walked
 * for well-formedness only. A truncated (TC) reply is returned without its
 * records.
 *
 * Returns: (transfer full): the reply, or %NULL with @error set
 */
MoatDnsReply *
moat_dns_reply_parse (const guint8 *data, gsize len, GError **error)
{
  g_autoptr(MoatDnsReply) reply = g_new0 (MoatDnsReply, 1);
  g_autoptr(GPtrArray) records = g_ptr_array_new_with_free_func ((GDestroyNotify) record_free);
  guint16 flags, qdcount, ancount, nscount, arcount, qclass;
  gsize pos = 0;
  const char *target;

  if (!read_u16 (data, len, &pos, &reply->id) ||
      !read_u16 (data, len, &pos, &flags) ||
      !read_u16 (data, len, &pos, &qdcount) ||
      !read_u16 (data, len, &pos, &ancount) ||
      !read_u16 (data, len, &pos, &nscount) ||
      !read_u16 (data, len, &pos, &arcount))
    return malformed (error, "short header"), NULL;
  if ((flags & 0x8000) == 0)
    return malformed (error, "not a response"), NULL;
  if (((flags >> 11) & 0xf) != 0)
    return malformed (error, "not a standard query"), NULL;
  if (qdcount != 1)
    return malformed (error, "not one question"), NULL;
  reply->rcode = flags & 0xf;
  reply->truncated = (flags & 0x0200) != 0;
  reply->authentic = (flags & 0x0020) != 0;
  reply->addresses = g_ptr_array_new_with_free_func (g_free);
  reply->cnames = g_ptr_array_new_with_free_func (g_free);

  if (!read_name (data, len, &pos, &reply->qname, error))
    return NULL;
  if (!read_u16 (data, len, &pos, &reply->qtype) ||
      !read_u16 (data, len, &pos, &qclass))
    return malformed (error, "short question"), NULL;
  if (qclass != 1)
    return malformed (error, "question class is not IN"), NULL;
  if (reply->truncated)
    return g_steal_pointer (&reply);

  for (guint i = 0; i < (guint) ancount + nscount + arcount; i++)
    {
      g_autofree char *owner = NULL;
      guint16 type, rclass, ttl_hi, ttl_lo, rdlength;
      gsize rdata;

      if (!read_name (data, len, &pos, &owner, error))
        return NULL;
      if (!read_u16 (data, len, &pos, &type) ||
          !read_u16 (data, len, &pos, &rclass) ||
          !read_u16 (data, len, &pos, &ttl_hi) ||
          !read_u16 (data, len, &pos, &ttl_lo) ||
          !read_u16 (data, len, &pos, &rdlength))
        return malformed (error, "short record"), NULL;
      if (rdlength > len - pos)
        return malformed (error, "record data runs past the end"), NULL;
      rdata = pos;
      pos += rdlength;
      if (i >= ancount || rclass != 1)
        continue;

      if (type == MOAT_DNS_TYPE_A || type == MOAT_DNS_TYPE_AAAA)
        {
          Record *record;
          gboolean v4 = type == MOAT_DNS_TYPE_A;

          if (rdlength != (v4 ? 4 : 16))
            return malformed (error, "address of the wrong length"), NULL;
          record = g_new0 (Record, 1);
          record->owner = g_steal_pointer (&owner);
          record->type = type;
          record->value = address_to_string (data + rdata,
                                             v4 ? G_SOCKET_FAMILY_IPV4 : G_SOCKET_FAMILY_IPV6);
          g_ptr_array_add (records, record);
        }
      else if (type == MOAT_DNS_TYPE_CNAME)
        {
          g_autofree char *cname = NULL;
          gsize cpos = rdata;
          Record *record;

          /* The name is read against the whole message (pointers), but must
           * fill the record data exactly. */
          if (!read_name (data, rdata + rdlength, &cpos, &cname, error))
            return NULL;
          if (cpos != rdata + rdlength)
            return malformed (error, "CNAME does not fill its record"), NULL;
          record = g_new0 (Record, 1);
          record->owner = g_steal_pointer (&owner);
          record->type = type;
          record->value = g_steal_pointer (&cname);
          g_ptr_array_add (records, record);
        }
    }

  /* Follow the CNAME chain from the question's name. */
  target = reply->qname;
  for (guint hop = 0; hop <= MAX_CNAME_HOPS && target != NULL; hop++)
    {
      const char *next = NULL;

      for (guint i = 0; i < records->len; i++)
        {
          Record *record = g_ptr_array_index (records, i);

          if (g_strcmp0 (record->owner, target) != 0)
            continue;
          if (record->type == reply->qtype &&
              (record->type == MOAT_DNS_TYPE_A || record->type == MOAT_DNS_TYPE_AAAA))
            g_ptr_array_add (reply->addresses, g_strdup (record->value));
          else if (record->type == MOAT_DNS_TYPE_CNAME && next == NULL)
            next = record->value;
        }
      if (reply->addresses->len > 0 || next == NULL)
        break;
      if (hop == MAX_CNAME_HOPS)
        return malformed (error, "CNAME chain too long"), NULL;
      g_ptr_array_add (reply->cnames, g_strdup (next));
      target = next;
    }

  return g_steal_pointer (&reply);
}

/**
 * moat_dns_name_is_valid:
 *
 * Returns: whether @name is a DNS name the probe will ask for: labels of
 *   1–63 letters, digits, hyphens and underscores, 253 bytes at most, an
 *   optional final dot
 */
gboolean
moat_dns_name_is_valid (const char *name)
{
  gsize len, label = 0;

  if (name == NULL)
    return FALSE;
  len = strlen (name);
  if (len > 0 && name[len - 1] == '.')
    len--;
  if (len == 0 || len > 253)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      char c = name[i];

      if (c == '.')
        {
          if (label == 0)
            return FALSE;
          label = 0;
          continue;
        }
      if (!g_ascii_isalnum (c) && c != '-' && c != '_')
        return FALSE;
      if (++label > 63)
        return FALSE;
    }
  return label > 0;
}

/**
 * moat_dns_query_build:
 * @dnssec: add an EDNS0 OPT record with the DO bit, and set AD
 *
 * Returns: (transfer full): a recursive query for @name, or %NULL with
 *   @error set when @name is not valid
 */
GBytes *
moat_dns_query_build (guint16     id,
                      const char *name,
                      guint16     qtype,
                      gboolean    dnssec,
                      GError    **error)
{
  g_autoptr(GByteArray) msg = g_byte_array_sized_new (64);
  g_auto(GStrv) labels = NULL;
  guint16 flags = 0x0100; /* RD */
  guint8 header[12];

  if (!moat_dns_name_is_valid (name))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "“%s” is not a valid DNS name", name != NULL ? name : "(null)");
      return NULL;
    }
  if (dnssec)
    flags |= 0x0020; /* AD: tell us whether the answer validated (RFC 6840) */

  header[0] = id >> 8;
  header[1] = id & 0xff;
  header[2] = flags >> 8;
  header[3] = flags & 0xff;
  header[4] = 0;
  header[5] = 1;          /* one question */
  memset (header + 6, 0, 6);
  header[11] = dnssec ? 1 : 0;
  g_byte_array_append (msg, header, sizeof header);

  labels = g_strsplit (name, ".", -1);
  for (guint i = 0; labels[i] != NULL; i++)
    {
      guint8 n = (guint8) strlen (labels[i]);

      if (n == 0)
        continue; /* the final dot */
      g_byte_array_append (msg, &n, 1);
      g_byte_array_append (msg, (const guint8 *) labels[i], n);
    }
  {
    const guint8 tail[] = { 0, qtype >> 8, qtype & 0xff, 0, 1 };
    g_byte_array_append (msg, tail, sizeof tail);
  }
  if (dnssec)
    {
      const guint8 opt[] = {
        0,                                     /* root */
        0, MOAT_DNS_TYPE_OPT,
        MOAT_DNS_MAX_MESSAGE >> 8, MOAT_DNS_MAX_MESSAGE & 0xff, /* payload size */
        0, 0, 0x80, 0,                         /* ext rcode, version, DO */
        0, 0,                                  /* no options */
      };
      g_byte_array_append (msg, opt, sizeof opt);
    }
  return g_byte_array_free_to_bytes (g_steal_pointer (&msg));
}

/* Options */

static void
pinned_name_free (PinnedName *pinned)
{
  g_free (pinned->name);
  g_clear_pointer (&pinned->addresses, g_ptr_array_unref);
  g_free (pinned);
}

MoatDnsProbeOptions *
moat_dns_probe_options_new (void)
{
  MoatDnsProbeOptions *options = g_new0 (MoatDnsProbeOptions, 1);

  options->resolv_conf = g_strdup ("/etc/resolv.conf");
  options->pinned = g_ptr_array_new_with_free_func ((GDestroyNotify) pinned_name_free);
  options->nxdomain_count = DEFAULT_NXDOMAIN_COUNT;
  options->timeout_ms = DEFAULT_TIMEOUT_MS;
  options->retries = DEFAULT_RETRIES;
  return options;
}

MoatDnsProbeOptions *
moat_dns_probe_options_copy (const MoatDnsProbeOptions *options)
{
  MoatDnsProbeOptions *copy;

  g_return_val_if_fail (options != NULL, NULL);

  copy = moat_dns_probe_options_new ();
  copy->resolver = g_strdup (options->resolver);
  g_free (copy->resolv_conf);
  copy->resolv_conf = g_strdup (options->resolv_conf);
  for (guint i = 0; i < options->pinned->len; i++)
    {
      const PinnedName *pinned = g_ptr_array_index (options->pinned, i);
      PinnedName *dup = g_new0 (PinnedName, 1);

      dup->name = g_strdup (pinned->name);
      dup->addresses = g_ptr_array_new_with_free_func (g_free);
      for (guint j = 0; j < pinned->addresses->len; j++)
        g_ptr_array_add (dup->addresses, g_strdup (g_ptr_array_index (pinned->addresses, j)));
      g_ptr_array_add (copy->pinned, dup);
    }
  copy->nxdomain_zone = g_strdup (options->nxdomain_zone);
  copy->nxdomain_count = options->nxdomain_count;
  copy->dnssec_name = g_strdup (options->dnssec_name);
  copy->dnssec_required = options->dnssec_required;
  copy->timeout_ms = options->timeout_ms;
  copy->retries = options->retries;
  return copy;
}

void
moat_dns_probe_options_free (MoatDnsProbeOptions *options)
{
  if (options == NULL)
    return;
  g_free (options->resolver);
  g_free (options->resolv_conf);
  g_clear_pointer (&options->pinned, g_ptr_array_unref);
  g_free (options->nxdomain_zone);
  g_free (options->dnssec_name);
  g_free (options);
}

/* "1.2.3.4", "1.2.3.4:5353", "::1", "[::1]:5353", "fe80::1%eth0" */
static GSocketAddress *
parse_resolver (const char *text, char **display, GError **error)
{
  g_autofree char *host = NULL;
  guint64 port = 53;
  const char *colon;
  GSocketAddress *address;

  if (text == NULL || *text == '\0')
    goto bad;
  colon = strrchr (text, ':');
  if (text[0] == '[')
    {
      const char *end = strchr (text, ']');

      if (end == NULL)
        goto bad;
      host = g_strndup (text + 1, end - text - 1);
      if (end[1] == ':')
        colon = end + 1;
      else if (end[1] == '\0')
        colon = NULL;
      else
        goto bad;
    }
  else if (colon != NULL && strchr (text, ':') == colon)
    host = g_strndup (text, colon - text);
  else
    {
      host = g_strdup (text);
      colon = NULL;
    }
  if (colon != NULL &&
      !g_ascii_string_to_unsigned (colon + 1, 10, 1, 65535, &port, NULL))
    goto bad;
  address = g_inet_socket_address_new_from_string (host, (guint) port);
  if (address == NULL)
    goto bad;
  if (display != NULL)
    {
      if (port == 53)
        *display = g_strdup (host);
      else if (strchr (host, ':') != NULL)
        *display = g_strdup_printf ("[%s]:%u", host, (guint) port);
      else
        *display = g_strdup_printf ("%s:%u", host, (guint) port);
    }
  return address;

bad:
  g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
               "“%s” is not a resolver address", text != NULL ? text : "(null)");
  return NULL;
}

/**
 * moat_dns_probe_options_set_resolver:
 * @address: (nullable): an IP address with an optional port ("10.0.0.1",
 *   "10.0.0.1:5353", "[::1]:5353"), or %NULL for the resolvers of resolv.conf
 */
gboolean
moat_dns_probe_options_set_resolver (MoatDnsProbeOptions *options,
                                     const char          *address,
                                     GError             **error)
{
  g_return_val_if_fail (options != NULL, FALSE);

  if (address != NULL)
    {
      g_autoptr(GSocketAddress) parsed = parse_resolver (address, NULL, error);

      if (parsed == NULL)
        return FALSE;
    }
  g_free (options->resolver);
  options->resolver = g_strdup (address);
  return TRUE;
}

/**
 * moat_dns_probe_options_set_resolv_conf:
 * @path: where to read `nameserver` lines when no resolver is set
 *   (default /etc/resolv.conf; `ip netns exec` bind-mounts
 *   /etc/netns/NAME/resolv.conf there)
 */
void
moat_dns_probe_options_set_resolv_conf (MoatDnsProbeOptions *options,
                                        const char          *path)
{
  g_return_if_fail (options != NULL && path != NULL);

  g_free (options->resolv_conf);
  options->resolv_conf = g_strdup (path);
}

static char *
normalize_name (const char *text, GError **error)
{
  g_autoptr(GError) local_error = NULL;
  g_autofree char *name = NULL;
  MoatHostKind kind;

  name = moat_host_normalize (text, -1, &kind, &local_error);
  if (name == NULL || kind != MOAT_HOST_KIND_NAME || !moat_dns_name_is_valid (name))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "“%s” is not a DNS name", text);
      return NULL;
    }
  return g_steal_pointer (&name);
}

/**
 * moat_dns_probe_options_add_pinned:
 * @spec: `name=address[,address…]`, the addresses the name must resolve to
 *
 * Adds a name whose answers are known. IPv4 addresses make the probe ask
 * for A records, IPv6 ones for AAAA records.
 */
gboolean
moat_dns_probe_options_add_pinned (MoatDnsProbeOptions *options,
                                   const char          *spec,
                                   GError             **error)
{
  g_autoptr(GPtrArray) addresses = g_ptr_array_new_with_free_func (g_free);
  g_auto(GStrv) parts = NULL;
  g_autofree char *name_part = NULL;
  g_autofree char *name = NULL;
  const char *eq;
  PinnedName *pinned;

  g_return_val_if_fail (options != NULL, FALSE);

  eq = spec != NULL ? strchr (spec, '=') : NULL;
  if (eq == NULL)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "“%s” is not name=address[,address]", spec != NULL ? spec : "(null)");
      return FALSE;
    }
  name_part = g_strstrip (g_strndup (spec, eq - spec));
  name = normalize_name (name_part, error);
  if (name == NULL)
    return FALSE;
  parts = g_strsplit (eq + 1, ",", -1);
  for (guint i = 0; parts[i] != NULL; i++)
    {
      g_autoptr(GInetAddress) address = g_inet_address_new_from_string (g_strstrip (parts[i]));

      if (address == NULL)
        {
          g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                       "“%s” is not an IP address", parts[i]);
          return FALSE;
        }
      g_ptr_array_add (addresses, g_inet_address_to_string (address));
    }
  if (addresses->len == 0)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "“%s” pins no address", spec);
      return FALSE;
    }
  pinned = g_new0 (PinnedName, 1);
  pinned->name = g_steal_pointer (&name);
  pinned->addresses = g_steal_pointer (&addresses);
  g_ptr_array_add (options->pinned, pinned);
  return TRUE;
}

/**
 * moat_dns_probe_options_set_nxdomain_zone:
 * @zone: (nullable): a zone where random names do not exist (no wildcard
 *   records), or %NULL for the registrable domain of the first pinned name
 */
gboolean
moat_dns_probe_options_set_nxdomain_zone (MoatDnsProbeOptions *options,
                                          const char          *zone,
                                          GError             **error)
{
  g_autofree char *name = NULL;

  g_return_val_if_fail (options != NULL, FALSE);

  if (zone != NULL)
    {
      name = normalize_name (zone, error);
      if (name == NULL)
        return FALSE;
      if (strlen (name) > 200)
        {
          g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                       "“%s” leaves no room for a random label", zone);
          return FALSE;
        }
    }
  g_free (options->nxdomain_zone);
  options->nxdomain_zone = g_steal_pointer (&name);
  return TRUE;
}

/**
 * moat_dns_probe_options_set_nxdomain_count:
 * @count: how many random names to ask for (0 turns the check off; default 3)
 */
void
moat_dns_probe_options_set_nxdomain_count (MoatDnsProbeOptions *options,
                                           guint                count)
{
  g_return_if_fail (options != NULL);

  options->nxdomain_count = MIN (count, 16);
}

/**
 * moat_dns_probe_options_set_dnssec_name:
 * @name: (nullable): a DNSSEC-signed name, or %NULL to skip the check
 */
gboolean
moat_dns_probe_options_set_dnssec_name (MoatDnsProbeOptions *options,
                                        const char          *name,
                                        GError             **error)
{
  g_autofree char *normalized = NULL;

  g_return_val_if_fail (options != NULL, FALSE);

  if (name != NULL && (normalized = normalize_name (name, error)) == NULL)
    return FALSE;
  g_free (options->dnssec_name);
  options->dnssec_name = g_steal_pointer (&normalized);
  return TRUE;
}

/**
 * moat_dns_probe_options_set_dnssec_required:
 * @required: whether the resolver is known to validate DNSSEC, so that an
 *   unvalidated or failed answer for the signed name is a threat
 */
void
moat_dns_probe_options_set_dnssec_required (MoatDnsProbeOptions *options,
                                            gboolean             required)
{
  g_return_if_fail (options != NULL);

  options->dnssec_required = !!required;
}

/**
 * moat_dns_probe_options_set_timeout:
 * @timeout_ms: how long one query may take, retries included (default 5000)
 */
void
moat_dns_probe_options_set_timeout (MoatDnsProbeOptions *options,
                                    guint                timeout_ms)
{
  g_return_if_fail (options != NULL);

  options->timeout_ms = CLAMP (timeout_ms, 10, 60000);
}

/**
 * moat_dns_probe_options_set_retries:
 * @retries: how often a query is sent again when no reply came (default 2)
 */
void
moat_dns_probe_options_set_retries (MoatDnsProbeOptions *options,
                                    guint                retries)
{
  g_return_if_fail (options != NULL);

  options->retries = MIN (retries, 5);
}

/* The client */

static void
random_bytes (gpointer buf, gsize len)
{
  guint8 *p = buf;
  gsize done = 0;

  while (done < len)
    {
      gssize n = getrandom (p + done, len - done, 0);

      if (n <= 0)
        break;
      done += n;
    }
  for (; done < len; done++)
    p[done] = (guint8) g_random_int ();
}

static GSocket *
open_socket (GSocketAddress *server, GError **error)
{
  GSocketFamily family = g_socket_address_get_family (server);
  g_autoptr(GSocket) socket = NULL;

  socket = g_socket_new (family, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP, error);
  if (socket == NULL)
    return NULL;

  /* A random source port from the dynamic range; the kernel's choice if
   * every try is taken. */
  for (guint attempt = 0; attempt < 4; attempt++)
    {
      g_autoptr(GInetAddress) any = g_inet_address_new_any (family);
      g_autoptr(GSocketAddress) local = NULL;
      guint16 port;

      random_bytes (&port, sizeof port);
      port = 49152 + port % (65536 - 49152);
      local = g_inet_socket_address_new (any, port);
      if (g_socket_bind (socket, local, FALSE, NULL))
        break;
    }
  /* Connected, so the kernel drops datagrams from other addresses and an
   * ICMP "port unreachable" ends the wait early. */
  if (!g_socket_connect (socket, server, NULL, error))
    return NULL;
  return g_steal_pointer (&socket);
}

/* One query with retries. QUERY_ANSWERED sets *out; the others set *problem.
 * Only cancellation is a GError. */
static QueryOutcome
query_sync (const MoatDnsProbeOptions *options,
            Resolver                  *resolver,
            const char                *name,
            guint16                    qtype,
            gboolean                   dnssec,
            MoatDnsReply             **out,
            char                     **problem,
            GCancellable              *cancellable,
            GError                   **error)
{
  guint attempts = options->retries + 1;
  gint64 per_attempt_us = (gint64) options->timeout_ms * 1000 / attempts;

  if (resolver->unreachable)
    {
      *problem = g_strdup ("resolver did not answer earlier queries");
      return QUERY_TIMED_OUT;
    }

  for (guint attempt = 0; attempt < attempts; attempt++)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GSocket) socket = NULL;
      g_autoptr(GBytes) query = NULL;
      gint64 deadline;
      guint16 id;

      random_bytes (&id, sizeof id);
      query = moat_dns_query_build (id, name, qtype, dnssec, &local_error);
      if (query == NULL)
        {
          *problem = g_strdup (local_error->message);
          return QUERY_FAILED;
        }
      socket = open_socket (resolver->address, &local_error);
      if (socket == NULL ||
          g_socket_send (socket, g_bytes_get_data (query, NULL), g_bytes_get_size (query),
                         cancellable, &local_error) < 0)
        {
          if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
            {
              g_propagate_error (error, g_steal_pointer (&local_error));
              return QUERY_FAILED;
            }
          *problem = g_strdup_printf ("cannot send: %s", local_error->message);
          return QUERY_FAILED;
        }

      deadline = g_get_monotonic_time () + per_attempt_us;
      for (;;)
        {
          g_autoptr(MoatDnsReply) reply = NULL;
          guint8 buf[MOAT_DNS_MAX_MESSAGE];
          gint64 remaining = deadline - g_get_monotonic_time ();
          gssize n;

          if (remaining <= 0)
            break;
          if (!g_socket_condition_timed_wait (socket, G_IO_IN, remaining, cancellable,
                                              &local_error))
            {
              if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
                {
                  g_clear_error (&local_error);
                  break;
                }
              if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                {
                  g_propagate_error (error, g_steal_pointer (&local_error));
                  return QUERY_FAILED;
                }
              *problem = g_strdup (local_error->message);
              return QUERY_FAILED;
            }
          n = g_socket_receive (socket, (char *) buf, sizeof buf, cancellable, &local_error);
          if (n < 0)
            {
              if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
                {
                  g_propagate_error (error, g_steal_pointer (&local_error));
                  return QUERY_FAILED;
                }
              if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED))
                {
                  *problem = g_strdup ("resolver refused the connection (nothing listens)");
                  resolver->unreachable = TRUE;
                  return QUERY_TIMED_OUT;
                }
              *problem = g_strdup (local_error->message);
              return QUERY_FAILED;
            }
          /* Someone else's id: a stale reply or a spoofing attempt; wait on. */
          if (n < 2 || ((buf[0] << 8) | buf[1]) != id)
            continue;
          reply = moat_dns_reply_parse (buf, n, &local_error);
          if (reply == NULL)
            {
              *problem = g_strdup (local_error->message);
              return QUERY_FAILED;
            }
          if (g_ascii_strcasecmp (reply->qname, name) != 0 || reply->qtype != qtype)
            continue;
          *out = g_steal_pointer (&reply);
          return QUERY_ANSWERED;
        }
    }

  *problem = g_strdup_printf ("no answer within %u ms", options->timeout_ms);
  resolver->unreachable = TRUE;
  return QUERY_TIMED_OUT;
}

/* Findings */

static const char *
rcode_to_string (guint8 rcode)
{
  static const char *const names[] = {
    "NOERROR", "FORMERR", "SERVFAIL", "NXDOMAIN", "NOTIMP", "REFUSED",
  };

  return rcode < G_N_ELEMENTS (names) ? names[rcode] : "other";
}

static JsonBuilder *
evidence_begin (const char *check, const Resolver *resolver)
{
  JsonBuilder *builder = json_builder_new ();

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "check");
  json_builder_add_string_value (builder, check);
  json_builder_set_member_name (builder, "resolver");
  json_builder_add_string_value (builder, resolver->text);
  return builder;
}

static void
evidence_add_strings (JsonBuilder *builder, const char *member, GPtrArray *strings)
{
  json_builder_set_member_name (builder, member);
  json_builder_begin_array (builder);
  for (guint i = 0; strings != NULL && i < strings->len; i++)
    json_builder_add_string_value (builder, g_ptr_array_index (strings, i));
  json_builder_end_array (builder);
}

static char *
evidence_end (JsonBuilder *builder)
{
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

static MoatFinding *
finding_inconclusive (const char  *subject,
                      const char  *summary,
                      JsonBuilder *builder,
                      const char  *problem)
{
  MoatFinding *finding = moat_finding_new_inconclusive ("dns", subject, summary);

  if (problem != NULL)
    {
      json_builder_set_member_name (builder, "problem");
      json_builder_add_string_value (builder, problem);
    }
  finding->evidence = evidence_end (builder);
  return finding;
}

static gboolean
strings_contain (GPtrArray *strings, const char *s)
{
  for (guint i = 0; i < strings->len; i++)
    if (g_strcmp0 (g_ptr_array_index (strings, i), s) == 0)
      return TRUE;
  return FALSE;
}

static MoatFinding *
check_pinned (const MoatDnsProbeOptions *options,
              Resolver                  *resolver,
              const PinnedName          *pinned,
              GCancellable              *cancellable,
              GError                   **error)
{
  g_autoptr(JsonBuilder) builder = evidence_begin ("pinned", resolver);
  g_autoptr(GPtrArray) got = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) unexpected = g_ptr_array_new ();
  g_autoptr(GPtrArray) cnames = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *subject = g_strdup_printf ("%s@%s", pinned->name, resolver->text);
  g_autofree char *problem = NULL;
  gboolean want_v4 = FALSE, want_v6 = FALSE;
  gboolean incomplete = FALSE;
  const guint16 qtypes[] = { MOAT_DNS_TYPE_A, MOAT_DNS_TYPE_AAAA };

  for (guint i = 0; i < pinned->addresses->len; i++)
    {
      if (strchr (g_ptr_array_index (pinned->addresses, i), ':') != NULL)
        want_v6 = TRUE;
      else
        want_v4 = TRUE;
    }

  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, pinned->name);
  evidence_add_strings (builder, "expected", pinned->addresses);

  for (guint t = 0; t < G_N_ELEMENTS (qtypes); t++)
    {
      g_autoptr(MoatDnsReply) reply = NULL;
      QueryOutcome outcome;

      if ((qtypes[t] == MOAT_DNS_TYPE_A && !want_v4) ||
          (qtypes[t] == MOAT_DNS_TYPE_AAAA && !want_v6))
        continue;
      outcome = query_sync (options, resolver, pinned->name, qtypes[t], FALSE,
                            &reply, &problem, cancellable, error);
      if (error != NULL && *error != NULL)
        return NULL;
      if (outcome != QUERY_ANSWERED)
        {
          incomplete = TRUE;
          break;
        }
      if (reply->truncated || reply->rcode != MOAT_DNS_RCODE_NOERROR ||
          reply->addresses->len == 0)
        {
          g_free (problem);
          problem = reply->truncated
            ? g_strdup ("truncated reply")
            : g_strdup_printf ("answer %s with %u addresses", rcode_to_string (reply->rcode),
                               reply->addresses->len);
          incomplete = TRUE;
          continue;
        }
      for (guint i = 0; i < reply->addresses->len; i++)
        g_ptr_array_add (got, g_strdup (g_ptr_array_index (reply->addresses, i)));
      for (guint i = 0; i < reply->cnames->len; i++)
        g_ptr_array_add (cnames, g_strdup (g_ptr_array_index (reply->cnames, i)));
    }

  for (guint i = 0; i < got->len; i++)
    if (!strings_contain (pinned->addresses, g_ptr_array_index (got, i)))
      g_ptr_array_add (unexpected, g_ptr_array_index (got, i));

  evidence_add_strings (builder, "got", got);
  if (cnames->len > 0)
    evidence_add_strings (builder, "cnames", cnames);

  if (unexpected->len > 0)
    {
      g_autofree char *summary = NULL;
      g_autofree char *evidence = NULL;

      evidence_add_strings (builder, "unexpected", unexpected);
      evidence = evidence_end (builder);
      /* Translators: the first %s is a host name, the second an IP address,
       * the third the DNS server's address. */
      summary = g_strdup_printf (_("The DNS server %3$s says %1$s is at %2$s, which is not "
                                   "one of its known addresses."),
                                 pinned->name, (const char *) g_ptr_array_index (unexpected, 0),
                                 resolver->text);
      return moat_finding_new_threat ("dns", subject, "network.dns_hijack",
                                      MOAT_SEVERITY_HIGH, summary, evidence);
    }
  /* One family answered with known addresses and the other gave nothing
   * (a network without IPv6 often filters AAAA): nothing was forged. */
  if (got->len == 0)
    {
      g_autofree char *summary = NULL;

      /* Translators: the first %s is a host name, the second the DNS server's address. */
      summary = g_strdup_printf (_("The DNS server %2$s gave no usable answer for %1$s."),
                                 pinned->name, resolver->text);
      return finding_inconclusive (subject, summary, builder, problem);
    }
  {
    g_autofree char *summary = NULL;
    MoatFinding *finding;

    /* Translators: the first %s is a host name, the second the DNS server's address. */
    summary = g_strdup_printf (_("The DNS server %2$s gives the known addresses for %1$s."),
                               pinned->name, resolver->text);
    if (incomplete && problem != NULL)
      {
        json_builder_set_member_name (builder, "problem");
        json_builder_add_string_value (builder, problem);
      }
    finding = moat_finding_new_clean ("dns", subject, summary);
    finding->evidence = evidence_end (builder);
    return finding;
  }
}

static MoatFinding *
check_nxdomain (const MoatDnsProbeOptions *options,
                Resolver                  *resolver,
                const char                *zone,
                GCancellable              *cancellable,
                GError                   **error)
{
  g_autoptr(JsonBuilder) builder = evidence_begin ("nxdomain", resolver);
  g_autofree char *subject = g_strdup_printf ("*.%s@%s", zone, resolver->text);
  g_autofree char *problem = NULL;
  g_autofree char *summary = NULL;
  guint answered = 0, resolved = 0;
  MoatFinding *finding;

  json_builder_set_member_name (builder, "zone");
  json_builder_add_string_value (builder, zone);
  json_builder_set_member_name (builder, "answers");
  json_builder_begin_array (builder);
  for (guint i = 0; i < options->nxdomain_count; i++)
    {
      g_autoptr(MoatDnsReply) reply = NULL;
      g_autofree char *name = NULL;
      guint8 raw[8];
      char label[sizeof raw * 2 + 1];
      QueryOutcome outcome;

      random_bytes (raw, sizeof raw);
      for (guint j = 0; j < sizeof raw; j++)
        g_snprintf (label + 2 * j, 3, "%02x", raw[j]);
      name = g_strdup_printf ("moat-nx-%s.%s", label, zone);
      g_clear_pointer (&problem, g_free);
      outcome = query_sync (options, resolver, name, MOAT_DNS_TYPE_A, FALSE,
                            &reply, &problem, cancellable, error);
      if (error != NULL && *error != NULL)
        return NULL;
      if (outcome != QUERY_ANSWERED)
        break;
      if (reply->truncated ||
          (reply->rcode != MOAT_DNS_RCODE_NOERROR && reply->rcode != MOAT_DNS_RCODE_NXDOMAIN))
        continue;
      answered++;
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, name);
      json_builder_set_member_name (builder, "rcode");
      json_builder_add_string_value (builder, rcode_to_string (reply->rcode));
      evidence_add_strings (builder, "got", reply->addresses);
      json_builder_end_object (builder);
      if (reply->addresses->len > 0)
        resolved++;
    }
  json_builder_end_array (builder);

  if (answered > 0 && resolved == answered)
    {
      g_autofree char *evidence = evidence_end (builder);

      /* Translators: the first %s is the DNS server's address, the second a domain. */
      summary = g_strdup_printf (_("The DNS server %s answers with addresses for names that do "
                                   "not exist under %s: it rewrites “no such name” answers."),
                                 resolver->text, zone);
      return moat_finding_new_threat ("dns", subject, "network.dns_hijack",
                                      MOAT_SEVERITY_MEDIUM, summary, evidence);
    }
  if (answered == 0 || resolved > 0)
    {
      if (problem == NULL)
        problem = g_strdup (answered == 0 ? "no usable answer" : "only some names resolved");
      /* Translators: %s is the DNS server's address. */
      summary = g_strdup_printf (_("The DNS server %s could not be checked for rewritten "
                                   "“no such name” answers."), resolver->text);
      return finding_inconclusive (subject, summary, builder, problem);
    }
  /* Translators: %s is the DNS server's address. */
  summary = g_strdup_printf (_("The DNS server %s reports names that do not exist truthfully."),
                             resolver->text);
  finding = moat_finding_new_clean ("dns", subject, summary);
  finding->evidence = evidence_end (builder);
  return finding;
}

static MoatFinding *
check_dnssec (const MoatDnsProbeOptions *options,
              Resolver                  *resolver,
              GCancellable              *cancellable,
              GError                   **error)
{
  g_autoptr(JsonBuilder) builder = evidence_begin ("dnssec", resolver);
  g_autoptr(MoatDnsReply) reply = NULL;
  g_autofree char *subject = g_strdup_printf ("%s@%s (DNSSEC)", options->dnssec_name,
                                              resolver->text);
  g_autofree char *problem = NULL;
  g_autofree char *summary = NULL;
  QueryOutcome outcome;
  MoatFinding *finding;

  json_builder_set_member_name (builder, "name");
  json_builder_add_string_value (builder, options->dnssec_name);
  outcome = query_sync (options, resolver, options->dnssec_name, MOAT_DNS_TYPE_A, TRUE,
                        &reply, &problem, cancellable, error);
  if (error != NULL && *error != NULL)
    return NULL;
  if (outcome != QUERY_ANSWERED || reply->truncated)
    {
      /* Translators: %s is the DNS server's address. */
      summary = g_strdup_printf (_("The DNS server %s could not be checked for DNSSEC "
                                   "validation."), resolver->text);
      return finding_inconclusive (subject, summary, builder,
                                   problem != NULL ? problem : "truncated reply");
    }
  json_builder_set_member_name (builder, "rcode");
  json_builder_add_string_value (builder, rcode_to_string (reply->rcode));
  json_builder_set_member_name (builder, "authentic");
  json_builder_add_boolean_value (builder, reply->authentic);
  json_builder_set_member_name (builder, "required");
  json_builder_add_boolean_value (builder, options->dnssec_required);

  if (reply->rcode == MOAT_DNS_RCODE_NOERROR && reply->authentic)
    {
      /* Translators: the first %s is the DNS server's address, the second a host name. */
      summary = g_strdup_printf (_("The DNS server %s validated the signed answer for %s."),
                                 resolver->text, options->dnssec_name);
      finding = moat_finding_new_clean ("dns", subject, summary);
      finding->evidence = evidence_end (builder);
      return finding;
    }
  if (options->dnssec_required &&
      (reply->rcode == MOAT_DNS_RCODE_NOERROR || reply->rcode == MOAT_DNS_RCODE_SERVFAIL))
    {
      g_autofree char *evidence = evidence_end (builder);

      /* Translators: the first %s is the DNS server's address, the second a host name. */
      summary = g_strdup_printf (_("The DNS server %s no longer vouches for the signed answer "
                                   "for %s: its answers may be forged."),
                                 resolver->text, options->dnssec_name);
      return moat_finding_new_threat ("dns", subject, "network.dns_hijack",
                                      MOAT_SEVERITY_MEDIUM, summary, evidence);
    }
  /* Translators: %s is the DNS server's address. */
  summary = g_strdup_printf (_("The DNS server %s does not validate DNSSEC."), resolver->text);
  return finding_inconclusive (subject, summary, builder,
                               reply->rcode == MOAT_DNS_RCODE_NOERROR
                                 ? "answer not authenticated" : rcode_to_string (reply->rcode));
}

static GPtrArray *
read_resolv_conf (const char *path, GError **error)
{
  g_autofree char *contents = NULL;
  g_auto(GStrv) lines = NULL;
  g_autoptr(GPtrArray) servers = g_ptr_array_new_with_free_func (g_free);

  if (!g_file_get_contents (path, &contents, NULL, error))
    return NULL;
  lines = g_strsplit (contents, "\n", -1);
  for (guint i = 0; lines[i] != NULL && servers->len < MAX_RESOLVERS; i++)
    {
      g_auto(GStrv) words = g_strsplit_set (g_strstrip (lines[i]), " \t", -1);
      guint n = 0;
      char *fields[2] = { NULL, NULL };

      for (guint j = 0; words[j] != NULL && n < 2; j++)
        if (*words[j] != '\0')
          fields[n++] = words[j];
      if (n == 2 && strcmp (fields[0], "nameserver") == 0)
        g_ptr_array_add (servers, g_strdup (fields[1]));
    }
  return g_steal_pointer (&servers);
}

static void
resolver_free (Resolver *resolver)
{
  g_clear_object (&resolver->address);
  g_free (resolver->text);
  g_free (resolver);
}

static void
add_finding (GPtrArray *findings, MoatFinding *finding, gint64 start)
{
  finding->duration_us = g_get_monotonic_time () - start;
  g_ptr_array_add (findings, finding);
}

static void
run_thread (GTask        *task,
            gpointer      source_object,
            gpointer      task_data,
            GCancellable *cancellable)
{
  const MoatDnsProbeOptions *options = task_data;
  g_autoptr(GPtrArray) findings = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_finding_free);
  g_autoptr(GPtrArray) resolvers = g_ptr_array_new_with_free_func ((GDestroyNotify) resolver_free);
  g_autoptr(GPtrArray) servers = NULL;
  g_autofree char *zone = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();

  if (options->resolver != NULL)
    {
      servers = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (servers, g_strdup (options->resolver));
    }
  else
    {
      g_autoptr(GError) read_error = NULL;

      servers = read_resolv_conf (options->resolv_conf, &read_error);
      if (servers == NULL || servers->len == 0)
        {
          g_autoptr(JsonBuilder) builder = json_builder_new ();
          const char *problem = read_error != NULL ? read_error->message : "no nameserver line";

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "check");
          json_builder_add_string_value (builder, "resolver");
          json_builder_set_member_name (builder, "resolv_conf");
          json_builder_add_string_value (builder, options->resolv_conf);
          add_finding (findings,
                       finding_inconclusive (options->resolv_conf,
                                             _("No DNS server is configured, so none could be "
                                               "checked."), builder, problem),
                       start);
          g_task_return_pointer (task, g_steal_pointer (&findings),
                                 (GDestroyNotify) g_ptr_array_unref);
          return;
        }
    }
  for (guint i = 0; i < servers->len; i++)
    {
      Resolver *resolver = g_new0 (Resolver, 1);

      resolver->address = parse_resolver (g_ptr_array_index (servers, i), &resolver->text, NULL);
      if (resolver->address == NULL)
        {
          g_debug ("Ignoring nameserver “%s”", (const char *) g_ptr_array_index (servers, i));
          resolver_free (resolver);
          continue;
        }
      g_ptr_array_add (resolvers, resolver);
    }

  if (options->nxdomain_zone != NULL)
    zone = g_strdup (options->nxdomain_zone);
  else if (options->pinned->len > 0)
    zone = moat_host_registrable_domain (((PinnedName *) g_ptr_array_index (options->pinned,
                                                                           0))->name);

  for (guint r = 0; r < resolvers->len; r++)
    {
      Resolver *resolver = g_ptr_array_index (resolvers, r);
      MoatFinding *finding;
      gint64 check_start;

      for (guint i = 0; i < options->pinned->len; i++)
        {
          check_start = g_get_monotonic_time ();
          finding = check_pinned (options, resolver, g_ptr_array_index (options->pinned, i),
                                  cancellable, &error);
          if (finding == NULL)
            goto cancelled;
          add_finding (findings, finding, check_start);
        }
      if (zone != NULL && options->nxdomain_count > 0)
        {
          check_start = g_get_monotonic_time ();
          finding = check_nxdomain (options, resolver, zone, cancellable, &error);
          if (finding == NULL)
            goto cancelled;
          add_finding (findings, finding, check_start);
        }
      if (options->dnssec_name != NULL)
        {
          check_start = g_get_monotonic_time ();
          finding = check_dnssec (options, resolver, cancellable, &error);
          if (finding == NULL)
            goto cancelled;
          add_finding (findings, finding, check_start);
        }
    }

  g_task_return_pointer (task, g_steal_pointer (&findings), (GDestroyNotify) g_ptr_array_unref);
  return;

cancelled:
  if (error == NULL)
    g_set_error_literal (&error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "Operation was cancelled");
  g_task_return_error (task, g_steal_pointer (&error));
}

/**
 * moat_dns_probe_run_async:
 * @options: what to ask (copied)
 *
 * Runs the DNS checks on a worker thread. Network trouble gives INCONCLUSIVE
 * findings; the operation itself fails only for options that ask nothing
 * (%MOAT_ERROR_INVALID_ARGUMENT) or when @cancellable is cancelled.
 */
void
moat_dns_probe_run_async (const MoatDnsProbeOptions *options,
                          GCancellable              *cancellable,
                          GAsyncReadyCallback        callback,
                          gpointer                   user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (options != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_dns_probe_run_async);
  g_task_set_name (task, "moat-dns-probe");

  if (options->pinned->len == 0 && options->nxdomain_zone == NULL &&
      options->dnssec_name == NULL)
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                               "The DNS probe has no pinned name, NXDOMAIN zone or "
                               "DNSSEC name to ask for");
      return;
    }
  g_task_set_task_data (task, moat_dns_probe_options_copy (options),
                        (GDestroyNotify) moat_dns_probe_options_free);
  g_task_run_in_thread (task, run_thread);
}

/**
 * moat_dns_probe_run_finish:
 *
 * Returns: (transfer container) (element-type MoatFinding): the findings, one
 *   per check and resolver, or %NULL with @error set
 */
GPtrArray *
moat_dns_probe_run_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == moat_dns_probe_run_async,
                        NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
