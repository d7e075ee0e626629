/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-threat-names-test"

#include "config.h"

#include "moat-threat-names.h"

#include <locale.h>

typedef struct {
  GTimeZone *utc;
  GDateTime *now;   /* 2026-03-10 15:30:00 UTC */
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  fixture->utc = g_time_zone_new_utc ();
  fixture->now = g_date_time_new (fixture->utc, 2026, 3, 10, 15, 30, 0);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_clear_pointer (&fixture->now, g_date_time_unref);
  g_clear_pointer (&fixture->utc, g_time_zone_unref);
}

static gint64
usec_at (Fixture *fixture,
         GTimeSpan offset)
{
  return g_date_time_to_unix (fixture->now) * G_USEC_PER_SEC + offset;
}

static void
test_known_threats (Fixture       *fixture,
                    gconstpointer  user_data)
{
  g_assert_cmpstr (moat_threat_get_display_name ("content.malware"), ==, "Malware");
  g_assert_cmpstr (moat_threat_get_display_name ("network.tls_interception"), ==,
                   "TLS interception");
  g_assert_cmpstr (moat_threat_get_display_name ("os.rooted"), ==, "Rooted device");
}

static void
test_unknown_threat_is_raw (Fixture       *fixture,
                            gconstpointer  user_data)
{
  g_assert_cmpstr (moat_threat_get_display_name ("network.something_new"), ==,
                   "network.something_new");
  g_assert_cmpstr (moat_threat_get_display_name ("content"), ==, "content");
  g_assert_null (moat_threat_get_display_name (NULL));
}

static void
test_actions (Fixture       *fixture,
              gconstpointer  user_data)
{
  g_assert_cmpstr (moat_action_get_display_name ("blocked"), ==, "Blocked");
  g_assert_cmpstr (moat_action_get_display_name (""), ==, "");
  g_assert_cmpstr (moat_action_get_display_name (NULL), ==, "");
  g_assert_cmpstr (moat_action_get_display_name ("teleported"), ==, "teleported");
}

static void
test_severity_and_risk (Fixture       *fixture,
                        gconstpointer  user_data)
{
  g_assert_cmpstr (moat_severity_get_display_name (MOAT_SEVERITY_HIGH), ==, "High");
  g_assert_cmpstr (moat_severity_get_style_class (MOAT_SEVERITY_CRITICAL), ==,
                   "severity-critical");
  g_assert_cmpstr (moat_severity_get_icon_name (MOAT_SEVERITY_MEDIUM), ==,
                   "dialog-warning-symbolic");
  g_assert_cmpstr (moat_risk_level_get_display_name (MOAT_RISK_LEVEL_NONE), ==, "No Risk");
  g_assert_cmpstr (moat_risk_level_get_style_class (MOAT_RISK_LEVEL_LOW), ==, "success");
  g_assert_cmpstr (moat_risk_level_get_style_class (MOAT_RISK_LEVEL_MEDIUM), ==, "warning");
  g_assert_cmpstr (moat_risk_level_get_style_class (MOAT_RISK_LEVEL_CRITICAL), ==, "error");
}

static void
test_time_today (Fixture       *fixture,
                 gconstpointer  user_data)
{
  g_autofree char *just_now = moat_format_event_time (usec_at (fixture, -10 * G_USEC_PER_SEC),
                                                      fixture->now);
  g_autofree char *one_minute = moat_format_event_time (usec_at (fixture, -90 * G_USEC_PER_SEC),
                                                        fixture->now);
  g_autofree char *minutes = moat_format_event_time (usec_at (fixture, -42 * G_TIME_SPAN_MINUTE),
                                                     fixture->now);
  g_autofree char *morning = moat_format_event_time (usec_at (fixture, -7 * G_TIME_SPAN_HOUR),
                                                     fixture->now);

  g_assert_cmpstr (just_now, ==, "Just now");
  g_assert_cmpstr (one_minute, ==, "1 minute ago");
  g_assert_cmpstr (minutes, ==, "42 minutes ago");
  g_assert_cmpstr (morning, ==, "08:30");
}

static void
test_time_older (Fixture       *fixture,
                 gconstpointer  user_data)
{
  g_autofree char *yesterday = moat_format_event_time (usec_at (fixture, -20 * G_TIME_SPAN_HOUR),
                                                       fixture->now);
  g_autofree char *this_year = moat_format_event_time (usec_at (fixture, -30 * G_TIME_SPAN_DAY),
                                                       fixture->now);
  g_autofree char *last_year = moat_format_event_time (usec_at (fixture, -100 * G_TIME_SPAN_DAY),
                                                       fixture->now);

  g_assert_cmpstr (yesterday, ==, "Yesterday 19:30");
  g_assert_cmpstr (this_year, ==, "8 Feb 15:30");
  g_assert_cmpstr (last_year, ==, "30 Nov 2025");
}

static void
test_list_categories (Fixture       *fixture,
                      gconstpointer  user_data)
{
  const char * const *ids = NULL;
  guint n = moat_list_category_get_all (&ids);

  g_assert_cmpuint (n, ==, 9);
  g_assert_cmpstr (ids[0], ==, "ads");
  g_assert_cmpstr (ids[8], ==, "custom");
  g_assert_null (ids[9]);
  g_assert_cmpstr (moat_list_category_get_display_name ("trackers"), ==, "Tracking");
  g_assert_cmpstr (moat_list_category_get_display_name ("c2"), ==, "Command and control");
  g_assert_cmpstr (moat_list_category_get_display_name ("no-such"), ==, "no-such");
  g_assert_cmpstr (moat_list_category_get_description ("gambling"), ==,
                   "Betting and casino sites");
  g_assert_cmpstr (moat_list_category_get_description ("no-such"), ==, "");
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/moat/threat-names/known", test_known_threats);
  ADD ("/moat/threat-names/unknown-is-raw", test_unknown_threat_is_raw);
  ADD ("/moat/threat-names/actions", test_actions);
  ADD ("/moat/threat-names/severity-and-risk", test_severity_and_risk);
  ADD ("/moat/threat-names/time-today", test_time_today);
  ADD ("/moat/threat-names/time-older", test_time_older);
  ADD ("/moat/threat-names/list-categories", test_list_categories);
#undef ADD

  return g_test_run ();
}
