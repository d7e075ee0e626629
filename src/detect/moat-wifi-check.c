/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-detect"

#include "config.h"

#include "moat-wifi-check.h"

#include <gio/gio.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

static const char *const securities[] = { "open", "owe", "wep", "wpa-psk", "wpa-eap", "sae" };

typedef struct {
  char  *ssid;
  char  *security;
  GStrv  bssids;     /* upper case; empty: any */
} KnownNetwork;

static void
known_network_free (KnownNetwork *known)
{
  g_free (known->ssid);
  g_free (known->security);
  g_strfreev (known->bssids);
  g_free (known);
}

static gboolean
valid_bssid (const char *text)
{
  if (strlen (text) != 17)
    return FALSE;
  for (guint i = 0; i < 17; i++)
    if (i % 3 == 2 ? text[i] != ':' : !g_ascii_isxdigit (text[i]))
      return FALSE;
  return TRUE;
}

static KnownNetwork *
parse_known (const char *entry, GError **error)
{
  const char *eq = strrchr (entry, '=');
  g_autoptr(GStrvBuilder) bssids = g_strv_builder_new ();
  g_auto(GStrv) parts = NULL;
  KnownNetwork *known;
  gboolean security_ok = FALSE;

  if (eq == NULL || eq == entry || !g_utf8_validate (entry, -1, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not SSID=SECURITY[,BSSID…]"), entry);
      return NULL;
    }
  parts = g_strsplit (eq + 1, ",", -1);
  for (guint i = 0; i < G_N_ELEMENTS (securities); i++)
    security_ok = security_ok || g_strcmp0 (parts[0], securities[i]) == 0;
  if (!security_ok)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s”: the security must be open, owe, wep, wpa-psk, wpa-eap or sae"), entry);
      return NULL;
    }
  for (guint i = 1; parts[i] != NULL; i++)
    {
      g_autofree char *bssid = g_ascii_strup (g_strstrip (parts[i]), -1);

      if (!valid_bssid (bssid))
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                       _("“%s”: “%s” is not an access point address (AA:BB:CC:DD:EE:FF)"),
                       entry, parts[i]);
          return NULL;
        }
      g_strv_builder_add (bssids, bssid);
    }
  known = g_new0 (KnownNetwork, 1);
  known->ssid = g_strndup (entry, eq - entry);
  known->security = g_strdup (parts[0]);
  known->bssids = g_strv_builder_end (bssids);
  return known;
}

gboolean
moat_wifi_known_network_is_valid (const char  *entry,
                                  GError     **error)
{
  KnownNetwork *known;

  g_return_val_if_fail (entry != NULL, FALSE);

  known = parse_known (entry, error);
  if (known == NULL)
    return FALSE;
  known_network_free (known);
  return TRUE;
}

static char *
evidence_for_ap (const MoatWifiAp *ap, const KnownNetwork *known)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "ssid");
  json_builder_add_string_value (builder, ap->ssid);
  json_builder_set_member_name (builder, "bssid");
  json_builder_add_string_value (builder, ap->bssid);
  json_builder_set_member_name (builder, "security");
  json_builder_add_string_value (builder, ap->security);
  json_builder_set_member_name (builder, "connected");
  json_builder_add_boolean_value (builder, ap->connected);
  if (known != NULL)
    {
      json_builder_set_member_name (builder, "expected_security");
      json_builder_add_string_value (builder, known->security);
      json_builder_set_member_name (builder, "expected_bssids");
      json_builder_begin_array (builder);
      for (guint i = 0; known->bssids[i] != NULL; i++)
        json_builder_add_string_value (builder, known->bssids[i]);
      json_builder_end_array (builder);
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  return json_generator_to_data (generator, NULL);
}

static void
check_wifi (const MoatNetworkState *state, GPtrArray *known, GPtrArray *out)
{
  const MoatWifiAp *connected = NULL;

  for (guint i = 0; i < state->wifi->len; i++)
    {
      const MoatWifiAp *ap = g_ptr_array_index (state->wifi, i);

      if (ap->connected)
        connected = ap;
    }
  if (connected != NULL && g_str_equal (connected->security, "open"))
    {
      g_autofree char *evidence = evidence_for_ap (connected, NULL);
      g_autofree char *summary =
        g_strdup_printf (_("The Wi-Fi network “%s” is open: anyone nearby can read what is sent "
                           "over it unencrypted."), connected->ssid);

      g_ptr_array_add (out, moat_finding_new_threat ("wifi", connected->ssid, "network.open_wifi",
                                                     MOAT_SEVERITY_LOW, summary, evidence));
    }
  else if (connected != NULL)
    {
      g_autofree char *summary = g_strdup_printf (_("The Wi-Fi network “%s” is encrypted."),
                                                  connected->ssid);

      g_ptr_array_add (out, moat_finding_new_clean ("wifi", connected->ssid, summary));
    }

  for (guint k = 0; k < known->len; k++)
    {
      const KnownNetwork *kn = g_ptr_array_index (known, k);
      const MoatWifiAp *rogue = NULL;
      gboolean seen = FALSE;

      for (guint i = 0; i < state->wifi->len; i++)
        {
          const MoatWifiAp *ap = g_ptr_array_index (state->wifi, i);
          gboolean bad;

          if (!g_str_equal (ap->ssid, kn->ssid))
            continue;
          seen = TRUE;
          bad = !g_str_equal (ap->security, kn->security) ||
                (kn->bssids[0] != NULL && !g_strv_contains ((const char * const *) kn->bssids,
                                                            ap->bssid));
          /* The worst one: the one this computer is on. */
          if (bad && (rogue == NULL || ap->connected))
            rogue = ap;
        }
      if (rogue != NULL)
        {
          g_autofree char *evidence = evidence_for_ap (rogue, kn);
          g_autofree char *summary = NULL;

          if (!g_str_equal (rogue->security, kn->security))
            summary = g_strdup_printf (_("An access point calls itself “%s”, your organization’s "
                                         "network, but its security is %s instead of %s: it is "
                                         "likely a fake."), kn->ssid, rogue->security,
                                       kn->security);
          else
            summary = g_strdup_printf (_("The access point %s calls itself “%s”, your "
                                         "organization’s network, but it is not one of its access "
                                         "points: it is likely a fake."), rogue->bssid, kn->ssid);
          g_ptr_array_add (out, moat_finding_new_threat ("rogue-wifi", kn->ssid, "network.rogue_wifi",
                                                         rogue->connected ? MOAT_SEVERITY_HIGH
                                                                          : MOAT_SEVERITY_MEDIUM,
                                                         summary, evidence));
        }
      else if (seen)
        {
          g_autofree char *summary =
            g_strdup_printf (_("Every access point of “%s” in sight is one of your "
                               "organization’s."), kn->ssid);

          g_ptr_array_add (out, moat_finding_new_clean ("rogue-wifi", kn->ssid, summary));
        }
    }
}

static void
check_vpns (const MoatNetworkState *state,
            const char * const     *known_vpns,
            const char             *policy_vpn,
            GPtrArray              *out)
{
  gboolean any = FALSE;

  for (guint i = 0; i < state->vpns->len; i++)
    {
      const MoatVpnInfo *vpn = g_ptr_array_index (state->vpns, i);
      gboolean expected;

      if (!vpn->active)
        continue;
      any = TRUE;
      expected = g_strcmp0 (vpn->name, policy_vpn) == 0 ||
                 (known_vpns != NULL && g_strv_contains (known_vpns, vpn->name));
      if (expected)
        {
          g_autofree char *summary = g_strdup_printf (_("The VPN “%s” is one this computer is "
                                                        "expected to use."), vpn->name);

          g_ptr_array_add (out, moat_finding_new_clean ("vpn", vpn->name, summary));
        }
      else
        {
          g_autoptr(JsonBuilder) builder = json_builder_new ();
          g_autoptr(JsonGenerator) generator = json_generator_new ();
          g_autoptr(JsonNode) root = NULL;
          g_autofree char *evidence = NULL;
          g_autofree char *summary =
            g_strdup_printf (_("The VPN “%s” is active, but your organization does not know it: "
                               "all traffic may go to whoever runs it."), vpn->name);

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "name");
          json_builder_add_string_value (builder, vpn->name);
          json_builder_set_member_name (builder, "type");
          json_builder_add_string_value (builder, vpn->type);
          json_builder_end_object (builder);
          root = json_builder_get_root (builder);
          json_generator_set_root (generator, root);
          evidence = json_generator_to_data (generator, NULL);
          g_ptr_array_add (out, moat_finding_new_threat ("vpn", vpn->name, "network.malicious_vpn",
                                                         MOAT_SEVERITY_HIGH, summary, evidence));
        }
    }
  if (!any)
    g_ptr_array_add (out, moat_finding_new_clean ("vpn", "vpn", _("No VPN is active.")));
}

GPtrArray *
moat_wifi_check (const MoatNetworkState *state,
                 const char * const     *known_networks,
                 const char * const     *known_vpns,
                 const char             *policy_vpn,
                 GError                **error)
{
  g_autoptr(GPtrArray) out = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_finding_free);
  g_autoptr(GPtrArray) known = g_ptr_array_new_with_free_func ((GDestroyNotify) known_network_free);

  g_return_val_if_fail (state != NULL, NULL);

  for (guint i = 0; known_networks != NULL && known_networks[i] != NULL; i++)
    {
      KnownNetwork *kn = parse_known (known_networks[i], error);

      if (kn == NULL)
        return NULL;
      g_ptr_array_add (known, kn);
    }

  if (!state->available)
    {
      const char *why = _("NetworkManager is not running, so Moat cannot see the Wi-Fi and VPN "
                          "connections.");

      g_ptr_array_add (out, moat_finding_new_inconclusive ("wifi", "wifi", why));
      g_ptr_array_add (out, moat_finding_new_inconclusive ("vpn", "vpn", why));
      return g_steal_pointer (&out);
    }
  check_wifi (state, known, out);
  check_vpns (state, known_vpns, policy_vpn, out);
  return g_steal_pointer (&out);
}
