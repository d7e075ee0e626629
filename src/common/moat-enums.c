/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-common"

#include "config.h"

#include "moat-enums.h"

#include <glib/gi18n-lib.h>
#include <string.h>

static const char *const severity_names[] = { "info", "low", "medium", "high", "critical" };
static const char *const risk_names[] = { "none", "low", "medium", "high", "critical" };
static const char *const source_names[] = { "engine", "proxy", "detector", "device", "health" };
static const char *const protection_names[] = { "unprotected", "protected", "degraded", "paused" };
static const char *const store_state_names[] = { "opening", "ok", "disk-full", "error" };

G_STATIC_ASSERT (G_N_ELEMENTS (severity_names) == MOAT_SEVERITY_LAST);
G_STATIC_ASSERT (G_N_ELEMENTS (risk_names) == MOAT_RISK_LEVEL_LAST);
G_STATIC_ASSERT (G_N_ELEMENTS (source_names) == MOAT_EVENT_SOURCE_LAST);
G_STATIC_ASSERT (G_N_ELEMENTS (protection_names) == MOAT_PROTECTION_STATE_LAST);
G_STATIC_ASSERT (G_N_ELEMENTS (store_state_names) == MOAT_STORE_STATE_LAST);

static const char *
name_of (const char *const *names, guint n_names, guint value)
{
  return value < n_names ? names[value] : NULL;
}

static gboolean
value_of (const char *const *names, guint n_names, const char *str, guint *out)
{
  if (str == NULL)
    return FALSE;
  for (guint i = 0; i < n_names; i++)
    {
      if (strcmp (names[i], str) == 0)
        {
          *out = i;
          return TRUE;
        }
    }
  return FALSE;
}

#define DEFINE_ENUM_STRINGS(Type, prefix, names)                                 \
  const char *prefix##_to_string (Type value)                                    \
  {                                                                              \
    return name_of (names, G_N_ELEMENTS (names), (guint) value);                 \
  }                                                                              \
  gboolean prefix##_from_string (const char *str, Type *out)                     \
  {                                                                              \
    guint v;                                                                     \
    if (!value_of (names, G_N_ELEMENTS (names), str, &v))                        \
      return FALSE;                                                              \
    if (out != NULL)                                                             \
      *out = (Type) v;                                                           \
    return TRUE;                                                                 \
  }

DEFINE_ENUM_STRINGS (MoatSeverity, moat_severity, severity_names)
DEFINE_ENUM_STRINGS (MoatRiskLevel, moat_risk_level, risk_names)
DEFINE_ENUM_STRINGS (MoatEventSource, moat_event_source, source_names)
DEFINE_ENUM_STRINGS (MoatProtectionState, moat_protection_state, protection_names)
DEFINE_ENUM_STRINGS (MoatStoreState, moat_store_state, store_state_names)

MoatRiskLevel
moat_risk_level_from_severity (MoatSeverity severity)
{
  switch (severity)
    {
    case MOAT_SEVERITY_INFO:
      return MOAT_RISK_LEVEL_NONE;
    case MOAT_SEVERITY_LOW:
      return MOAT_RISK_LEVEL_LOW;
    case MOAT_SEVERITY_MEDIUM:
      return MOAT_RISK_LEVEL_MEDIUM;
    case MOAT_SEVERITY_HIGH:
      return MOAT_RISK_LEVEL_HIGH;
    case MOAT_SEVERITY_CRITICAL:
      return MOAT_RISK_LEVEL_CRITICAL;
    default:
      return MOAT_RISK_LEVEL_NONE;
    }
}

static gboolean
is_id_char (char c)
{
  return g_ascii_islower (c) || g_ascii_isdigit (c) || c == '_';
}

/**
 * moat_threat_id_is_valid:
 * @threat: a threat id such as `network.tls_interception`
 *
 * A threat id is `vector.kind`: a vector (`network`, `content`, `app`, `os`,
 * or `moat` for Moat's own state), a dot, and a kind of lower-case letters,
 * digits and underscores; at most 64 bytes.
 */
gboolean
moat_threat_id_is_valid (const char *threat)
{
  static const char *const vectors[] = { "network", "content", "app", "os", "moat" };
  const char *dot;
  gsize len;
  gboolean vector_ok = FALSE;

  if (threat == NULL)
    return FALSE;
  len = strlen (threat);
  if (len == 0 || len > 64)
    return FALSE;
  dot = strchr (threat, '.');
  if (dot == NULL || dot[1] == '\0')
    return FALSE;
  for (guint i = 0; i < G_N_ELEMENTS (vectors); i++)
    if ((gsize) (dot - threat) == strlen (vectors[i]) &&
        strncmp (threat, vectors[i], dot - threat) == 0)
      vector_ok = TRUE;
  if (!vector_ok)
    return FALSE;
  for (const char *p = dot + 1; *p != '\0'; p++)
    if (!is_id_char (*p))
      return FALSE;
  return TRUE;
}

/**
 * moat_threat_id_matches:
 * @threat: a threat id
 * @pattern: an exact id, `vector.*`, or `*`
 *
 * Returns: whether @threat falls under @pattern
 */
gboolean
moat_threat_id_matches (const char *threat, const char *pattern)
{
  gsize plen;

  if (threat == NULL || pattern == NULL)
    return FALSE;
  if (strcmp (pattern, "*") == 0)
    return TRUE;
  plen = strlen (pattern);
  if (plen >= 2 && pattern[plen - 1] == '*' && pattern[plen - 2] == '.')
    return strncmp (threat, pattern, plen - 1) == 0;
  return strcmp (threat, pattern) == 0;
}

/* The one table of human names for threat ids, shared by notifications, the
 * app and reports. Kept sorted by id. */
static const struct {
  const char *id;
  const char *name;
} threat_names[] = {
  { "app.accessibility_service", N_("App that can control the phone") },
  { "app.dangerous_permissions", N_("App that can spy on its user") },
  { "app.device_admin",         N_("Unknown device administrator") },
  { "app.ioc_match",            N_("Known malicious app") },
  { "app.risky_download",       N_("Risky download") },
  { "app.sideloaded",           N_("Sideloaded app") },
  { "content.ads",              N_("Advertising") },
  { "content.blocked",          N_("Blocked by you") },
  { "content.c2",               N_("Command and control server") },
  { "content.malware",          N_("Malware") },
  { "content.phishing",         N_("Phishing") },
  { "content.scam",             N_("Scam") },
  { "content.tracker",          N_("Tracker") },
  { "content.unwanted",         N_("Unwanted content") },
  { "moat.device_action",       N_("Action on a phone") },
  { "moat.device_routing",      N_("Phone traffic through Moat") },
  { "moat.health_problem",      N_("Protection health problem") },
  { "moat.policy_block",        N_("Cut off by the threat policy") },
  { "moat.protected_resource",  N_("Protected resource held back") },
  { "moat.response_restored",   N_("Protection actions after a restart") },
  { "moat.store_recovered",     N_("Event history recovered") },
  { "network.arp_spoof",        N_("ARP spoofing") },
  { "network.content_manipulation", N_("Content manipulation") },
  { "network.dns_hijack",       N_("DNS hijacking") },
  { "network.local_destination", N_("Request to a local address") },
  { "network.malicious_vpn",    N_("Malicious VPN") },
  { "network.open_wifi",        N_("Open Wi-Fi") },
  { "network.rogue_root_ca",    N_("Rogue root certificate") },
  { "network.rogue_wifi",       N_("Rogue Wi-Fi") },
  { "network.ssl_strip",        N_("SSL stripping") },
  { "network.tls_interception", N_("TLS interception") },
  { "os.config_profile",        N_("Configuration profile installed") },
  { "os.dev_options",           N_("Developer options on") },
  { "os.global_proxy",          N_("Global proxy on the phone") },
  { "os.no_screen_lock",        N_("No screen lock") },
  { "os.outdated_patch",        N_("Outdated security patch") },
  { "os.rooted",                N_("Rooted device") },
  { "os.unencrypted",           N_("Storage not encrypted") },
  { "os.unknown_sources",       N_("Unknown sources allowed") },
  { "os.unlocked_bootloader",   N_("Unlocked bootloader") },
  { "os.unsupported_version",   N_("System version without updates") },
  { "os.verified_boot",         N_("System not verified") },
  { "os.verifier_off",          N_("Play Protect off") },
};

/**
 * moat_threat_get_display_name:
 * @threat: a threat id such as `content.malware`
 *
 * Returns: (transfer none): the translated name, or @threat itself when the id
 *   is not known (never NULL for a non-NULL @threat)
 */
const char *
moat_threat_get_display_name (const char *threat)
{
  if (threat == NULL)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (threat_names); i++)
    if (strcmp (threat_names[i].id, threat) == 0)
      return g_dgettext (GETTEXT_PACKAGE, threat_names[i].name);
  return threat;
}

/* Human names of the policy's actions, by their names in a policy file. */
static const struct {
  const char *id;
  const char *name;
} action_names[] = {
  { "block_host",                N_("Cut off the host") },
  { "block_protected_resources", N_("Block the company’s resources") },
  { "disable_vpn",               N_("Turn off the VPN") },
  { "disconnect_wifi",           N_("Leave the Wi-Fi network") },
  { "notify",                    N_("Notify") },
  { "route_via_gateway",         N_("Route web traffic through the company gateway") },
  { "vpn_on_demand",             N_("Connect the company VPN") },
};

/**
 * moat_policy_action_get_display_name:
 * @action: an action as a policy file names it (`vpn_on_demand`)
 *
 * Returns: (transfer none): the translated name, or @action itself when it
 *   is not known
 */
const char *
moat_policy_action_get_display_name (const char *action)
{
  if (action == NULL)
    return NULL;
  for (guint i = 0; i < G_N_ELEMENTS (action_names); i++)
    if (strcmp (action_names[i].id, action) == 0)
      return g_dgettext (GETTEXT_PACKAGE, action_names[i].name);
  return action;
}
