/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-detect"

#include "config.h"

#include "moat-gateway-probe.h"

#include <arpa/inet.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define RTF_UP_FLAG 0x1
#define RTF_GATEWAY_FLAG 0x2
#define ATF_COM_FLAG 0x2          /* a complete neighbour entry */
#define MAX_TABLE_SIZE (4 * 1024 * 1024)
#define NEIGHBOUR_TRIES 10
#define NEIGHBOUR_WAIT_US (100 * 1000)

void
moat_gateway_free (MoatGateway *gateway)
{
  if (gateway == NULL)
    return;
  g_free (gateway->interface);
  g_free (gateway->address);
  g_free (gateway->mac);
  g_free (gateway->shared_with);
  g_free (gateway);
}

static gboolean
valid_interface (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > 15)
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isgraph (*p) || *p == '/')
      return FALSE;
  return TRUE;
}

/* "aa:bb:cc:dd:ee:ff", lower case; NULL for anything else or all zeros. */
static char *
parse_mac (const char *text)
{
  guint8 bytes[6];
  gboolean zero = TRUE;

  if (strlen (text) != 17)
    return NULL;
  for (guint i = 0; i < 6; i++)
    {
      int hi = g_ascii_xdigit_value (text[i * 3]);
      int lo = g_ascii_xdigit_value (text[i * 3 + 1]);

      if (hi < 0 || lo < 0 || (i < 5 && text[i * 3 + 2] != ':'))
        return NULL;
      bytes[i] = (guint8) (hi * 16 + lo);
      zero = zero && bytes[i] == 0;
    }
  if (zero)
    return NULL;
  return g_strdup_printf ("%02x:%02x:%02x:%02x:%02x:%02x", bytes[0], bytes[1], bytes[2],
                          bytes[3], bytes[4], bytes[5]);
}

/**
 * moat_gateway_parse:
 * @route_text: the text of /proc/net/route
 * @arp_text: (nullable): the text of /proc/net/arp
 *
 * Returns: (transfer full): the default gateway, or %NULL with an error
 */
MoatGateway *
moat_gateway_parse (const char  *route_text,
                    const char  *arp_text,
                    GError     **error)
{
  g_auto(GStrv) routes = NULL;
  g_autoptr(MoatGateway) gateway = NULL;
  guint64 best_metric = G_MAXUINT64;

  g_return_val_if_fail (route_text != NULL, NULL);

  routes = g_strsplit (route_text, "\n", -1);
  /* The first line is the header. */
  for (guint i = 1; routes[0] != NULL && routes[i] != NULL; i++)
    {
      g_auto(GStrv) f = g_strsplit_set (g_strstrip (routes[i]), " \t", -1);
      g_autoptr(GPtrArray) fields = g_ptr_array_new ();
      guint64 dest, gw, flags, metric, mask;
      struct in_addr addr;
      char buf[INET_ADDRSTRLEN];

      for (guint j = 0; f[j] != NULL; j++)
        if (f[j][0] != '\0')
          g_ptr_array_add (fields, f[j]);
      if (fields->len < 8)
        continue;
      if (!g_ascii_string_to_unsigned (g_ptr_array_index (fields, 1), 16, 0, G_MAXUINT32, &dest, NULL) ||
          !g_ascii_string_to_unsigned (g_ptr_array_index (fields, 2), 16, 0, G_MAXUINT32, &gw, NULL) ||
          !g_ascii_string_to_unsigned (g_ptr_array_index (fields, 3), 16, 0, G_MAXUINT32, &flags, NULL) ||
          !g_ascii_string_to_unsigned (g_ptr_array_index (fields, 6), 10, 0, G_MAXUINT32, &metric, NULL) ||
          !g_ascii_string_to_unsigned (g_ptr_array_index (fields, 7), 16, 0, G_MAXUINT32, &mask, NULL))
        continue;
      if (dest != 0 || mask != 0 || gw == 0 ||
          (flags & (RTF_UP_FLAG | RTF_GATEWAY_FLAG)) != (RTF_UP_FLAG | RTF_GATEWAY_FLAG) ||
          !valid_interface (g_ptr_array_index (fields, 0)) || metric >= best_metric)
        continue;
      /* The kernel prints the address in host order of a big-endian value. */
      addr.s_addr = (guint32) gw;
      if (inet_ntop (AF_INET, &addr, buf, sizeof buf) == NULL)
        continue;
      moat_gateway_free (gateway);
      gateway = g_new0 (MoatGateway, 1);
      gateway->interface = g_strdup (g_ptr_array_index (fields, 0));
      gateway->address = g_strdup (buf);
      best_metric = metric;
    }
  if (gateway == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _("This computer has no default route"));
      return NULL;
    }

  if (arp_text != NULL)
    {
      g_auto(GStrv) lines = g_strsplit (arp_text, "\n", -1);
      g_autoptr(GPtrArray) others = g_ptr_array_new_with_free_func (g_free);   /* "ip mac" */

      for (guint i = 1; lines[0] != NULL && lines[i] != NULL; i++)
        {
          g_auto(GStrv) f = g_strsplit_set (g_strstrip (lines[i]), " \t", -1);
          g_autoptr(GPtrArray) fields = g_ptr_array_new ();
          g_autofree char *mac = NULL;
          guint64 flags;
          struct in_addr addr;

          for (guint j = 0; f[j] != NULL; j++)
            if (f[j][0] != '\0')
              g_ptr_array_add (fields, f[j]);
          if (fields->len < 6 ||
              !g_str_equal (g_ptr_array_index (fields, 5), gateway->interface) ||
              inet_pton (AF_INET, g_ptr_array_index (fields, 0), &addr) != 1 ||
              !g_str_has_prefix (g_ptr_array_index (fields, 2), "0x") ||
              !g_ascii_string_to_unsigned ((char *) g_ptr_array_index (fields, 2) + 2, 16, 0,
                                           G_MAXUINT32, &flags, NULL) ||
              !(flags & ATF_COM_FLAG))
            continue;
          mac = parse_mac (g_ptr_array_index (fields, 3));
          if (mac == NULL)
            continue;
          if (g_str_equal (g_ptr_array_index (fields, 0), gateway->address))
            {
              g_free (gateway->mac);
              gateway->mac = g_steal_pointer (&mac);
            }
          else
            g_ptr_array_add (others, g_strdup_printf ("%s %s",
                                                      (char *) g_ptr_array_index (fields, 0), mac));
        }
      for (guint i = 0; gateway->mac != NULL && i < others->len; i++)
        {
          const char *entry = g_ptr_array_index (others, i);
          const char *space = strchr (entry, ' ');

          if (g_str_equal (space + 1, gateway->mac))
            {
              gateway->shared_with = g_strndup (entry, space - entry);
              break;
            }
        }
    }
  return g_steal_pointer (&gateway);
}

typedef struct {
  char       *route_path;
  char       *arp_path;
  GHashTable *known_macs;   /* subject → MAC, a copy for the thread */
} ProbeData;

static void
probe_data_free (ProbeData *data)
{
  g_free (data->route_path);
  g_free (data->arp_path);
  g_hash_table_unref (data->known_macs);
  g_free (data);
}

typedef struct {
  GPtrArray   *findings;
  MoatGateway *gateway;
} ProbeResult;

static void
probe_result_free (ProbeResult *result)
{
  g_clear_pointer (&result->findings, g_ptr_array_unref);
  moat_gateway_free (result->gateway);
  g_free (result);
}

static MoatGateway *
read_gateway (const ProbeData *data, GError **error)
{
  g_autofree char *route_text = NULL;
  g_autofree char *arp_text = NULL;
  gsize len = 0;

  if (!g_file_get_contents (data->route_path, &route_text, &len, error))
    return NULL;
  if (len > MAX_TABLE_SIZE)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is too large",
                   data->route_path);
      return NULL;
    }
  if (!g_file_get_contents (data->arp_path, &arp_text, &len, NULL) || len > MAX_TABLE_SIZE)
    g_clear_pointer (&arp_text, g_free);
  return moat_gateway_parse (route_text, arp_text, error);
}

/* One datagram to the gateway's discard port: the kernel resolves its
 * link-layer address to send it. */
static void
poke_gateway (const char *address)
{
  g_autoptr(GInetAddress) inet = g_inet_address_new_from_string (address);
  g_autoptr(GSocketAddress) target = NULL;
  g_autoptr(GSocket) socket = NULL;

  if (inet == NULL)
    return;
  target = g_inet_socket_address_new (inet, 9);
  socket = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_DATAGRAM, G_SOCKET_PROTOCOL_UDP,
                         NULL);
  if (socket != NULL)
    g_socket_send_to (socket, target, "", 0, NULL, NULL);
}

static char *
gateway_evidence (const MoatGateway *gateway, const char *known_mac)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "interface");
  json_builder_add_string_value (builder, gateway->interface);
  json_builder_set_member_name (builder, "gateway");
  json_builder_add_string_value (builder, gateway->address);
  if (gateway->mac != NULL)
    {
      json_builder_set_member_name (builder, "mac");
      json_builder_add_string_value (builder, gateway->mac);
    }
  if (known_mac != NULL)
    {
      json_builder_set_member_name (builder, "expected_mac");
      json_builder_add_string_value (builder, known_mac);
    }
  if (gateway->shared_with != NULL)
    {
      json_builder_set_member_name (builder, "shared_with");
      json_builder_add_string_value (builder, gateway->shared_with);
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

static void
probe_in_thread (GTask        *task,
                 gpointer      source_object,
                 gpointer      task_data,
                 GCancellable *cancellable)
{
  const ProbeData *data = task_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatGateway) gateway = NULL;
  g_autofree char *subject = NULL;
  g_autofree char *evidence = NULL;
  g_autofree char *known = NULL;
  ProbeResult *result = g_new0 (ProbeResult, 1);
  gint64 start = g_get_monotonic_time ();
  MoatFinding *finding;

  result->findings = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_finding_free);
  gateway = read_gateway (data, &error);
  if (gateway != NULL && gateway->mac == NULL)
    {
      poke_gateway (gateway->address);
      for (guint i = 0; i < NEIGHBOUR_TRIES && gateway != NULL && gateway->mac == NULL &&
                        !g_cancellable_is_cancelled (cancellable); i++)
        {
          g_usleep (NEIGHBOUR_WAIT_US);
          moat_gateway_free (gateway);
          gateway = read_gateway (data, &error);
        }
    }
  if (g_cancellable_set_error_if_cancelled (cancellable, &error))
    {
      probe_result_free (result);
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  if (gateway == NULL)
    {
      finding = moat_finding_new_inconclusive ("gateway", "gateway", error->message);
    }
  else
    {
      const char *known_text;

      subject = g_strdup_printf ("%s on %s", gateway->address, gateway->interface);
      known_text = g_hash_table_lookup (data->known_macs, subject);
      known = known_text != NULL ? parse_mac (known_text) : NULL;
      evidence = gateway_evidence (gateway, known);
      if (gateway->mac == NULL)
        {
          g_autofree char *summary =
            g_strdup_printf (_("The gateway %s does not answer, so its hardware address is "
                               "unknown."), gateway->address);

          finding = moat_finding_new_inconclusive ("gateway", subject, summary);
          finding->evidence = g_steal_pointer (&evidence);
        }
      else if (known != NULL && !g_str_equal (known, gateway->mac))
        {
          g_autofree char *summary =
            g_strdup_printf (_("The gateway %s now answers from %s instead of %s: someone on this "
                               "network may be intercepting its traffic (ARP spoofing)."),
                             gateway->address, gateway->mac, known);

          finding = moat_finding_new_threat ("gateway", subject, "network.arp_spoof",
                                             MOAT_SEVERITY_HIGH, summary, evidence);
        }
      else if (gateway->shared_with != NULL)
        {
          g_autofree char *summary =
            g_strdup_printf (_("The gateway %s and the host %s have the same hardware address %s: "
                               "that host answers for the gateway (ARP spoofing)."),
                             gateway->address, gateway->shared_with, gateway->mac);

          finding = moat_finding_new_threat ("gateway", subject, "network.arp_spoof",
                                             MOAT_SEVERITY_HIGH, summary, evidence);
        }
      else
        {
          g_autofree char *summary =
            g_strdup_printf (_("The gateway %s answers from its usual address %s."),
                             gateway->address, gateway->mac);

          finding = moat_finding_new_clean ("gateway", subject, summary);
          finding->evidence = g_steal_pointer (&evidence);
        }
    }
  finding->duration_us = g_get_monotonic_time () - start;
  g_ptr_array_add (result->findings, finding);
  result->gateway = g_steal_pointer (&gateway);
  g_task_return_pointer (task, result, (GDestroyNotify) probe_result_free);
}

/**
 * moat_gateway_probe_run_async:
 * @route_path: (nullable): /proc/net/route by default
 * @arp_path: (nullable): /proc/net/arp by default
 * @known_macs: (nullable) (element-type utf8 utf8): each network's gateway
 *   MAC before, by subject ("GATEWAY on INTERFACE")
 */
void
moat_gateway_probe_run_async (const char          *route_path,
                              const char          *arp_path,
                              GHashTable          *known_macs,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);
  ProbeData *data = g_new0 (ProbeData, 1);

  data->route_path = g_strdup (route_path != NULL ? route_path : "/proc/net/route");
  data->arp_path = g_strdup (arp_path != NULL ? arp_path : "/proc/net/arp");
  data->known_macs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  if (known_macs != NULL)
    {
      GHashTableIter iter;
      gpointer key, value;

      g_hash_table_iter_init (&iter, known_macs);
      while (g_hash_table_iter_next (&iter, &key, &value))
        g_hash_table_insert (data->known_macs, g_strdup (key), g_strdup (value));
    }
  g_task_set_source_tag (task, moat_gateway_probe_run_async);
  g_task_set_task_data (task, data, (GDestroyNotify) probe_data_free);
  g_task_run_in_thread (task, probe_in_thread);
}

/**
 * moat_gateway_probe_run_finish:
 * @out_gateway: (out) (optional) (nullable): the gateway seen, to remember
 *   its MAC
 *
 * Returns: (transfer container) (element-type MoatFinding): one finding, or
 *   %NULL when cancelled
 */
GPtrArray *
moat_gateway_probe_run_finish (GAsyncResult  *result,
                               MoatGateway  **out_gateway,
                               GError       **error)
{
  ProbeResult *r;
  GPtrArray *findings;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);

  r = g_task_propagate_pointer (G_TASK (result), error);
  if (r == NULL)
    return NULL;
  findings = g_steal_pointer (&r->findings);
  if (out_gateway != NULL)
    *out_gateway = g_steal_pointer (&r->gateway);
  probe_result_free (r);
  return findings;
}
