/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-app"

#include "config.h"

#include "moat-threat-names.h"

#include <glib/gi18n.h>
#include <string.h>

typedef struct {
  const char *id;
  const char *name;
} NameEntry;

static const NameEntry vector_names[] = {
  { "app",     N_("Apps") },
  { "content", N_("Content") },
  { "moat",    N_("Moat") },
  { "network", N_("Network") },
  { "os",      N_("Operating system") },
};

static const NameEntry action_names[] = {
  { "blocked",   N_("Blocked") },
  { "notified",  N_("Notified") },
  { "allowed",   N_("Allowed") },
  { "quarantined", N_("Quarantined") },
  { "vpn_on",    N_("VPN turned on") },
  { "vpn_off",   N_("VPN turned off") },
  { "detected",  N_("Detected") },
  { "cleared",   N_("Cleared") },
  /* What Moat did about a threat, as the policy said. */
  { "action-taken",    N_("Action taken") },
  { "action-failed",   N_("Action failed") },
  { "action-reverted", N_("Action undone") },
};

typedef struct {
  const char *id;
  const char *name;
  const char *description;
} CategoryEntry;

/* The list categories of GetLists and SetCategoryEnabled, in the order the
 * Lists page shows them. */
static const CategoryEntry list_categories[] = {
  { "ads",      N_("Advertising"),        N_("Ad servers and ad networks") },
  { "trackers", N_("Tracking"),           N_("Sites that follow you from page to page") },
  { "malware",  N_("Malware"),            N_("Sites that spread viruses and other malicious software") },
  { "phishing", N_("Phishing"),           N_("Fake sites that steal passwords and card numbers") },
  { "scam",     N_("Scams"),              N_("Fake shops, fake support and other frauds") },
  { "c2",       N_("Command and control"), N_("Servers that steer malware already on a computer") },
  { "adult",    N_("Adult content"),      N_("Pornography and other sites for adults only") },
  { "gambling", N_("Gambling"),           N_("Betting and casino sites") },
  { "custom",   N_("Your own lists"),     N_("Lists you added from a web address or a file") },
};

static const char *
lookup (const NameEntry *entries,
        gsize            n_entries,
        const char      *id)
{
  if (id == NULL)
    return NULL;

  for (gsize i = 0; i < n_entries; i++)
    {
      if (strcmp (entries[i].id, id) == 0)
        return g_dgettext (GETTEXT_PACKAGE, entries[i].name);
    }

  return NULL;
}

const char *
moat_vector_get_display_name (const char *vector)
{
  const char *name = lookup (vector_names, G_N_ELEMENTS (vector_names), vector);

  return name != NULL ? name : vector;
}

/* Returns: the number of list categories; their ids by index in @ids. */
guint
moat_list_category_get_all (const char * const **ids)
{
  static const char *all[G_N_ELEMENTS (list_categories) + 1];

  if (all[0] == NULL)
    {
      for (gsize i = 0; i < G_N_ELEMENTS (list_categories); i++)
        all[i] = list_categories[i].id;
    }
  if (ids != NULL)
    *ids = all;
  return G_N_ELEMENTS (list_categories);
}

static const CategoryEntry *
lookup_category (const char *category)
{
  if (category == NULL)
    return NULL;
  for (gsize i = 0; i < G_N_ELEMENTS (list_categories); i++)
    {
      if (strcmp (list_categories[i].id, category) == 0)
        return &list_categories[i];
    }
  return NULL;
}

/* Returns: a list category (ads, trackers, …) in words, or @category itself
 * when unknown. */
const char *
moat_list_category_get_display_name (const char *category)
{
  const CategoryEntry *entry = lookup_category (category);

  if (entry == NULL)
    return category != NULL ? category : "";
  return g_dgettext (GETTEXT_PACKAGE, entry->name);
}

/* Returns: one line saying what a list category blocks, or "" when unknown. */
const char *
moat_list_category_get_description (const char *category)
{
  const CategoryEntry *entry = lookup_category (category);

  if (entry == NULL)
    return "";
  return g_dgettext (GETTEXT_PACKAGE, entry->description);
}

/* Returns: the translated action, or @action itself when unknown; "" stays "". */
const char *
moat_action_get_display_name (const char *action)
{
  const char *name;

  if (action == NULL || action[0] == '\0')
    return "";

  name = lookup (action_names, G_N_ELEMENTS (action_names), action);
  return name != NULL ? name : action;
}

const char *
moat_severity_get_display_name (MoatSeverity severity)
{
  switch (severity)
    {
    case MOAT_SEVERITY_INFO:
      return _("Info");
    case MOAT_SEVERITY_LOW:
      return _("Low");
    case MOAT_SEVERITY_MEDIUM:
      return _("Medium");
    case MOAT_SEVERITY_HIGH:
      return _("High");
    case MOAT_SEVERITY_CRITICAL:
      return _("Critical");
    default:
      return _("Unknown");
    }
}

const char *
moat_severity_get_icon_name (MoatSeverity severity)
{
  switch (severity)
    {
    case MOAT_SEVERITY_INFO:
    case MOAT_SEVERITY_LOW:
      return "dialog-information-symbolic";
    case MOAT_SEVERITY_MEDIUM:
    case MOAT_SEVERITY_HIGH:
      return "dialog-warning-symbolic";
    case MOAT_SEVERITY_CRITICAL:
      return "dialog-error-symbolic";
    default:
      return "dialog-question-symbolic";
    }
}

const char *
moat_severity_get_style_class (MoatSeverity severity)
{
  switch (severity)
    {
    case MOAT_SEVERITY_INFO:
      return "severity-info";
    case MOAT_SEVERITY_LOW:
      return "severity-low";
    case MOAT_SEVERITY_MEDIUM:
      return "severity-medium";
    case MOAT_SEVERITY_HIGH:
      return "severity-high";
    case MOAT_SEVERITY_CRITICAL:
      return "severity-critical";
    default:
      return "severity-info";
    }
}

const char *
moat_risk_level_get_display_name (MoatRiskLevel level)
{
  switch (level)
    {
    case MOAT_RISK_LEVEL_NONE:
      return _("No Risk");
    case MOAT_RISK_LEVEL_LOW:
      return _("Low Risk");
    case MOAT_RISK_LEVEL_MEDIUM:
      return _("Medium Risk");
    case MOAT_RISK_LEVEL_HIGH:
      return _("High Risk");
    case MOAT_RISK_LEVEL_CRITICAL:
      return _("Critical Risk");
    default:
      return _("Unknown Risk");
    }
}

/* One of libadwaita's colour classes. */
const char *
moat_risk_level_get_style_class (MoatRiskLevel level)
{
  switch (level)
    {
    case MOAT_RISK_LEVEL_NONE:
    case MOAT_RISK_LEVEL_LOW:
      return "success";
    case MOAT_RISK_LEVEL_MEDIUM:
      return "warning";
    case MOAT_RISK_LEVEL_HIGH:
    case MOAT_RISK_LEVEL_CRITICAL:
      return "error";
    default:
      return "warning";
    }
}

/**
 * moat_format_event_time:
 * @time: µs since the Unix epoch, UTC
 * @now: the current local time
 *
 * Today's events read as relative ("Just now", "5 minutes ago") or as the
 * local time of day; yesterday's as "Yesterday"; older ones as a date.
 *
 * Returns: (transfer full): the text
 */
char *
moat_format_event_time (gint64     time,
                        GDateTime *now)
{
  g_autoptr(GDateTime) utc = NULL;
  g_autoptr(GDateTime) local = NULL;
  g_autoptr(GDateTime) today = NULL;
  g_autoptr(GDateTime) yesterday = NULL;
  GTimeSpan ago;

  utc = g_date_time_new_from_unix_utc (time / G_USEC_PER_SEC);
  if (utc == NULL)
    return g_strdup ("");
  local = g_date_time_to_timezone (utc, g_date_time_get_timezone (now));
  today = g_date_time_new (g_date_time_get_timezone (now),
                           g_date_time_get_year (now),
                           g_date_time_get_month (now),
                           g_date_time_get_day_of_month (now),
                           0, 0, 0);
  yesterday = g_date_time_add_days (today, -1);
  ago = g_date_time_difference (now, local);

  if (g_date_time_compare (local, today) >= 0)
    {
      if (ago < G_TIME_SPAN_MINUTE)
        return g_strdup (_("Just now"));
      if (ago < G_TIME_SPAN_HOUR)
        {
          int minutes = (int) (ago / G_TIME_SPAN_MINUTE);

          return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%d minute ago",
                                               "%d minutes ago", minutes),
                                  minutes);
        }
      /* Translators: time of day of an event, see strftime(3) */
      return g_date_time_format (local, _("%H:%M"));
    }

  if (g_date_time_compare (local, yesterday) >= 0)
    /* Translators: an event of yesterday, %H:%M is the time of day, see strftime(3) */
    return g_date_time_format (local, _("Yesterday %H:%M"));

  if (g_date_time_get_year (local) == g_date_time_get_year (now))
    /* Translators: date of an event this year, see strftime(3) */
    return g_date_time_format (local, _("%-d %b %H:%M"));

  /* Translators: date of an event in another year, see strftime(3) */
  return g_date_time_format (local, _("%-d %b %Y"));
}
