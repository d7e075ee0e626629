/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moatctl"

#include "config.h"

#include "moat-cli-time.h"

#include "moat-error.h"

#include <glib/gi18n.h>
#include <stdio.h>
#include <string.h>

static GDateTime *
local_midnight (GDateTime *now)
{
  g_autoptr(GDateTime) local = g_date_time_to_local (now);

  return g_date_time_new_local (g_date_time_get_year (local), g_date_time_get_month (local),
                                g_date_time_get_day_of_month (local), 0, 0, 0);
}

/* "90s", "30m", "1h30m", "2d", "1w": a span before now, in µs. */
static gboolean
parse_span (const char *text, gint64 *out_span)
{
  const char *p = text;
  gint64 total = 0;

  if (*p == '\0')
    return FALSE;
  while (*p != '\0')
    {
      guint64 n = 0;
      gint64 unit;
      const char *digits = p;

      while (g_ascii_isdigit (*p))
        {
          n = n * 10 + (guint64) (*p - '0');
          if (n > G_GINT64_CONSTANT (100000000))
            return FALSE;
          p++;
        }
      if (p == digits)
        return FALSE;
      switch (*p)
        {
        case 's':
          unit = G_USEC_PER_SEC;
          break;
        case 'm':
          unit = 60 * G_USEC_PER_SEC;
          break;
        case 'h':
          unit = G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC;
          break;
        case 'd':
          unit = G_GINT64_CONSTANT (86400) * G_USEC_PER_SEC;
          break;
        case 'w':
          unit = G_GINT64_CONSTANT (7) * 86400 * G_USEC_PER_SEC;
          break;
        default:
          return FALSE;
        }
      p++;
      total += (gint64) n * unit;
      if (total > G_GINT64_CONSTANT (100) * 366 * 86400 * G_USEC_PER_SEC)
        return FALSE;
    }
  *out_span = total;
  return TRUE;
}

static GDateTime *
parse_absolute (const char *text)
{
  g_autoptr(GTimeZone) local = g_time_zone_new_local ();
  g_autofree char *copy = g_strdup (text);
  GDateTime *dt;
  int y, m, d;
  char tail;

  /* "2026-11-27 10:00:00" reads as well as the T form. */
  if (strlen (copy) > 10 && copy[10] == ' ')
    copy[10] = 'T';
  /* GLib wants seconds: "10:00" is "10:00:00". */
  if (strlen (copy) >= 16 && copy[10] == 'T' && copy[13] == ':' &&
      (copy[16] == '\0' || strchr ("Z+-", copy[16]) != NULL))
    {
      char *with_seconds = g_strdup_printf ("%.16s:00%s", copy, copy + 16);

      g_free (copy);
      copy = with_seconds;
    }
  dt = g_date_time_new_from_iso8601 (copy, local);
  if (dt != NULL)
    return dt;

  /* A date alone: local midnight. */
  if (sscanf (text, "%4d-%2d-%2d%c", &y, &m, &d, &tail) == 3 && strlen (text) == 10)
    return g_date_time_new (local, y, m, d, 0, 0, 0);
  return NULL;
}

gboolean
moat_cli_parse_time (const char  *text,
                     GDateTime   *now,
                     gint64      *out_usec,
                     GError     **error)
{
  g_autoptr(GDateTime) dt = NULL;
  gint64 span;

  g_return_val_if_fail (text != NULL, FALSE);
  g_return_val_if_fail (now != NULL, FALSE);

  if (g_str_equal (text, "now"))
    dt = g_date_time_ref (now);
  else if (g_str_equal (text, "today"))
    dt = local_midnight (now);
  else if (g_str_equal (text, "yesterday"))
    {
      g_autoptr(GDateTime) midnight = local_midnight (now);

      dt = g_date_time_add_days (midnight, -1);
    }
  else if (parse_span (text, &span))
    dt = g_date_time_add (now, -span);
  else
    dt = parse_absolute (text);

  if (dt == NULL || g_date_time_to_unix (dt) < 0)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not a time: use ISO 8601 (2026-11-27T10:00:00Z), "
                     "a span before now (30m, 1h, 2d), “now”, “today” or “yesterday”"), text);
      return FALSE;
    }
  *out_usec = g_date_time_to_unix (dt) * G_USEC_PER_SEC + g_date_time_get_microsecond (dt);
  return TRUE;
}

static GDateTime *
new_utc_usec (gint64 usec)
{
  g_autoptr(GDateTime) secs = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);

  if (secs == NULL)
    return NULL;
  return g_date_time_add (secs, usec % G_USEC_PER_SEC);
}

char *
moat_cli_format_utc (gint64 usec)
{
  g_autoptr(GDateTime) dt = new_utc_usec (usec);

  if (dt == NULL)
    return g_strdup ("");
  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S.%fZ");
}

char *
moat_cli_format_local (gint64 usec)
{
  g_autoptr(GDateTime) dt = g_date_time_new_from_unix_local (usec / G_USEC_PER_SEC);

  if (dt == NULL)
    return g_strdup ("");
  return g_date_time_format (dt, "%Y-%m-%d %H:%M:%S");
}
