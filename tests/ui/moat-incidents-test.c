/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-incidents-test"

#include "config.h"

#include "moat-incidents.h"

#include <locale.h>

#define TLS "network.tls_interception"
#define DNS "network.dns_hijack"

typedef struct {
  GPtrArray *events;   /* MoatEvent */
  gint64     next_id;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  fixture->events = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_event_unref);
  fixture->next_id = 1;
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_clear_pointer (&fixture->events, g_ptr_array_unref);
}

/* Adds an event with the next id at @time seconds. */
static void
add (Fixture         *fixture,
     gint64           time,
     MoatEventSource  source,
     const char      *threat,
     MoatSeverity     severity,
     const char      *subject,
     const char      *action,
     const char      *detail)
{
  MoatEvent *event = moat_event_new (source, threat, severity, subject, action, detail);

  event->id = fixture->next_id++;
  event->time = time * G_USEC_PER_SEC;
  g_ptr_array_add (fixture->events, event);
}

static void
detected (Fixture *fixture, gint64 time, const char *threat, const char *subject,
          MoatSeverity severity)
{
  add (fixture, time, MOAT_EVENT_SOURCE_DETECTOR, threat, severity, subject, "detected", "{}");
}

static void
cleared (Fixture *fixture, gint64 time, const char *threat, const char *subject)
{
  add (fixture, time, MOAT_EVENT_SOURCE_DETECTOR, threat, MOAT_SEVERITY_INFO, subject, "cleared",
       "{}");
}

static void
engine (Fixture *fixture, gint64 time, const char *threat, const char *subject,
        const char *what, const char *detail)
{
  add (fixture, time, MOAT_EVENT_SOURCE_ENGINE, threat, MOAT_SEVERITY_HIGH, subject, what, detail);
}

static MoatIncidentAction *
action_at (MoatIncident *incident,
           guint         index)
{
  g_assert_cmpuint (index, <, incident->actions->len);
  return g_ptr_array_index (incident->actions, index);
}

static void
test_fallback_chain (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(GPtrArray) incidents = NULL;
  g_autofree char *text = NULL;
  MoatIncident *incident;

  detected (fixture, 100, TLS, "cafe-wifi", MOAT_SEVERITY_HIGH);
  engine (fixture, 101, TLS, "cafe-wifi", "action-failed",
          "{\"action\":\"vpn_on_demand\",\"reason\":\"the VPN did not come up\",\"rule\":4}");
  engine (fixture, 102, TLS, "cafe-wifi", "action-taken",
          "{\"action\":\"block_protected_resources\",\"rule\":4}");
  cleared (fixture, 200, TLS, "cafe-wifi");
  /* The wall comes down right after the clear. */
  engine (fixture, 201, TLS, "cafe-wifi", "action-reverted",
          "{\"action\":\"block_protected_resources\",\"reason\":\"the threat cleared\"}");

  incidents = moat_incidents_from_events (fixture->events);
  g_assert_cmpuint (incidents->len, ==, 1);
  incident = g_ptr_array_index (incidents, 0);
  g_assert_cmpstr (incident->threat, ==, TLS);
  g_assert_cmpstr (incident->subject, ==, "cafe-wifi");
  g_assert_cmpint (incident->severity, ==, MOAT_SEVERITY_HIGH);
  g_assert_cmpint (incident->detected, ==, 100 * G_USEC_PER_SEC);
  g_assert_cmpint (incident->cleared, ==, 200 * G_USEC_PER_SEC);
  g_assert_cmpuint (incident->actions->len, ==, 2);
  g_assert_cmpstr (action_at (incident, 0)->action, ==, "vpn_on_demand");
  g_assert_true (action_at (incident, 0)->failed);
  g_assert_false (action_at (incident, 0)->taken);
  g_assert_cmpstr (action_at (incident, 0)->reason, ==, "the VPN did not come up");
  g_assert_cmpstr (action_at (incident, 1)->action, ==, "block_protected_resources");
  g_assert_true (action_at (incident, 1)->taken);
  g_assert_true (action_at (incident, 1)->reverted);
  g_assert_false (action_at (incident, 1)->failed);
  g_assert_null (action_at (incident, 1)->reason);

  text = moat_incident_format_actions (incident);
  g_assert_cmpstr (text, ==, "Moat: Connect the company VPN (failed), "
                             "Block the company’s resources (undone when it cleared)");
}

static void
test_ids_not_times_give_the_order (Fixture       *fixture,
                                   gconstpointer  user_data)
{
  g_autoptr(GPtrArray) incidents = NULL;
  MoatIncident *incident;

  detected (fixture, 100, TLS, "cafe-wifi", MOAT_SEVERITY_MEDIUM);
  cleared (fixture, 200, TLS, "cafe-wifi");
  /* Newest first, as ListEvents gives them by default. */
  g_ptr_array_add (fixture->events, g_ptr_array_steal_index (fixture->events, 0));

  incidents = moat_incidents_from_events (fixture->events);
  g_assert_cmpuint (incidents->len, ==, 1);
  incident = g_ptr_array_index (incidents, 0);
  g_assert_cmpint (incident->detected, ==, 100 * G_USEC_PER_SEC);
  g_assert_cmpint (incident->cleared, ==, 200 * G_USEC_PER_SEC);
}

static void
test_open_and_repeated (Fixture       *fixture,
                        gconstpointer  user_data)
{
  g_autoptr(GPtrArray) incidents = NULL;
  MoatIncident *first, *second, *dns;

  detected (fixture, 100, TLS, "cafe-wifi", MOAT_SEVERITY_MEDIUM);
  /* Seen again, worse: the same incident. */
  detected (fixture, 110, TLS, "cafe-wifi", MOAT_SEVERITY_CRITICAL);
  detected (fixture, 120, DNS, "cafe-wifi", MOAT_SEVERITY_MEDIUM);
  cleared (fixture, 130, TLS, "cafe-wifi");
  /* Back again: a new incident, still active. */
  detected (fixture, 140, TLS, "cafe-wifi", MOAT_SEVERITY_LOW);

  incidents = moat_incidents_from_events (fixture->events);
  g_assert_cmpuint (incidents->len, ==, 3);
  first = g_ptr_array_index (incidents, 0);
  dns = g_ptr_array_index (incidents, 1);
  second = g_ptr_array_index (incidents, 2);
  g_assert_cmpint (first->severity, ==, MOAT_SEVERITY_CRITICAL);
  g_assert_cmpint (first->detected, ==, 100 * G_USEC_PER_SEC);
  g_assert_cmpint (first->cleared, ==, 130 * G_USEC_PER_SEC);
  g_assert_cmpstr (dns->threat, ==, DNS);
  g_assert_cmpint (dns->cleared, ==, 0);
  g_assert_cmpint (second->detected, ==, 140 * G_USEC_PER_SEC);
  g_assert_cmpint (second->cleared, ==, 0);
  g_assert_cmpint (second->severity, ==, MOAT_SEVERITY_LOW);
}

static void
test_detected_before_the_window (Fixture       *fixture,
                                 gconstpointer  user_data)
{
  g_autoptr(GPtrArray) incidents = NULL;
  MoatIncident *incident;

  engine (fixture, 90, TLS, "cafe-wifi", "action-taken", "{\"action\":\"notify\"}");
  cleared (fixture, 100, TLS, "cafe-wifi");

  incidents = moat_incidents_from_events (fixture->events);
  g_assert_cmpuint (incidents->len, ==, 1);
  incident = g_ptr_array_index (incidents, 0);
  g_assert_cmpint (incident->detected, ==, 0);
  g_assert_cmpint (incident->cleared, ==, 100 * G_USEC_PER_SEC);
  /* An action before anything was known of the incident has no home. */
  g_assert_cmpuint (incident->actions->len, ==, 0);
}

static void
test_bad_and_foreign_events (Fixture       *fixture,
                             gconstpointer  user_data)
{
  g_autoptr(GPtrArray) incidents = NULL;
  g_autofree char *text = NULL;
  MoatIncident *incident;

  detected (fixture, 100, TLS, "cafe-wifi", MOAT_SEVERITY_HIGH);
  engine (fixture, 101, TLS, "cafe-wifi", "action-taken", "not json");
  engine (fixture, 102, TLS, "cafe-wifi", "action-taken", "[\"notify\"]");
  engine (fixture, 103, TLS, "cafe-wifi", "action-taken", "{\"action\":\"\"}");
  engine (fixture, 104, TLS, "cafe-wifi", "action-taken", "{\"action\":42}");
  engine (fixture, 105, TLS, "other-wifi", "action-taken", "{\"action\":\"notify\"}");
  add (fixture, 106, MOAT_EVENT_SOURCE_PROXY, TLS, MOAT_SEVERITY_HIGH, "cafe-wifi", "blocked",
       "{\"action\":\"notify\"}");
  add (fixture, 107, MOAT_EVENT_SOURCE_DETECTOR, TLS, MOAT_SEVERITY_HIGH, "cafe-wifi", "notified",
       "{}");
  engine (fixture, 108, TLS, "cafe-wifi", "action-taken", "{\"action\":\"some_new_action\"}");

  incidents = moat_incidents_from_events (fixture->events);
  g_assert_cmpuint (incidents->len, ==, 1);
  incident = g_ptr_array_index (incidents, 0);
  g_assert_cmpint (incident->cleared, ==, 0);
  g_assert_cmpuint (incident->actions->len, ==, 1);
  g_assert_cmpstr (action_at (incident, 0)->action, ==, "some_new_action");
  text = moat_incident_format_actions (incident);
  g_assert_cmpstr (text, ==, "Moat: some_new_action");
}

static void
test_no_action (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GPtrArray) incidents = NULL;
  g_autofree char *text = NULL;

  detected (fixture, 100, DNS, "home", MOAT_SEVERITY_LOW);
  cleared (fixture, 101, DNS, "home");
  incidents = moat_incidents_from_events (fixture->events);
  g_assert_cmpuint (incidents->len, ==, 1);
  text = moat_incident_format_actions (g_ptr_array_index (incidents, 0));
  g_assert_cmpstr (text, ==, "Moat took no action");

  g_clear_pointer (&incidents, g_ptr_array_unref);
  g_ptr_array_set_size (fixture->events, 0);
  incidents = moat_incidents_from_events (fixture->events);
  g_assert_cmpuint (incidents->len, ==, 0);
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "C.UTF-8");
  g_setenv ("LANGUAGE", "C", TRUE);
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/moat/incidents/fallback-chain", test_fallback_chain);
  ADD ("/moat/incidents/ids-give-the-order", test_ids_not_times_give_the_order);
  ADD ("/moat/incidents/open-and-repeated", test_open_and_repeated);
  ADD ("/moat/incidents/detected-before-the-window", test_detected_before_the_window);
  ADD ("/moat/incidents/bad-and-foreign-events", test_bad_and_foreign_events);
  ADD ("/moat/incidents/no-action", test_no_action);
#undef ADD

  return g_test_run ();
}
