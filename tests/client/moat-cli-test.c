/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-cli-test"

#include "config.h"

#include "moat-cli-output.h"
#include "moat-cli-time.h"
#include "moat-error.h"

#include <stdlib.h>
#include <time.h>

/* 2026-11-27T10:30:15.5Z */
#define NOW_US G_GINT64_CONSTANT (1795775415500000)

typedef struct {
  GDateTime *now;
} Fixture;

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GDateTime) secs = g_date_time_new_from_unix_utc (NOW_US / G_USEC_PER_SEC);

  fixture->now = g_date_time_add (secs, NOW_US % G_USEC_PER_SEC);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  g_clear_pointer (&fixture->now, g_date_time_unref);
}

static gint64
parse_ok (Fixture *fixture, const char *text)
{
  g_autoptr(GError) error = NULL;
  gint64 usec = -1;

  g_assert_true (moat_cli_parse_time (text, fixture->now, &usec, &error));
  g_assert_no_error (error);
  return usec;
}

static void
test_time_absolute (Fixture *fixture, gconstpointer data)
{
  g_assert_cmpint (parse_ok (fixture, "2026-11-27T10:00:00Z"), ==,
                   G_GINT64_CONSTANT (1795773600000000));
  g_assert_cmpint (parse_ok (fixture, "2026-11-27T11:00:00+01:00"), ==,
                   G_GINT64_CONSTANT (1795773600000000));
  g_assert_cmpint (parse_ok (fixture, "2026-11-27T10:00:00.25Z"), ==,
                   G_GINT64_CONSTANT (1795773600250000));
  /* TZ is UTC in this test (main), so local times read as UTC. */
  g_assert_cmpint (parse_ok (fixture, "2026-11-27T10:00:00"), ==,
                   G_GINT64_CONSTANT (1795773600000000));
  g_assert_cmpint (parse_ok (fixture, "2026-11-27 10:00:00"), ==,
                   G_GINT64_CONSTANT (1795773600000000));
  g_assert_cmpint (parse_ok (fixture, "2026-11-27"), ==, G_GINT64_CONSTANT (1795737600000000));
  /* Without seconds. */
  g_assert_cmpint (parse_ok (fixture, "2026-11-27T10:00"), ==,
                   G_GINT64_CONSTANT (1795773600000000));
  g_assert_cmpint (parse_ok (fixture, "2026-11-27 10:00"), ==,
                   G_GINT64_CONSTANT (1795773600000000));
  g_assert_cmpint (parse_ok (fixture, "2026-11-27T11:00+01:00"), ==,
                   G_GINT64_CONSTANT (1795773600000000));
  g_assert_cmpint (parse_ok (fixture, "2026-11-27T10:00Z"), ==,
                   G_GINT64_CONSTANT (1795773600000000));
}

static void
test_time_relative (Fixture *fixture, gconstpointer data)
{
  g_assert_cmpint (parse_ok (fixture, "now"), ==, NOW_US);
  g_assert_cmpint (parse_ok (fixture, "30m"), ==, NOW_US - 30 * 60 * G_USEC_PER_SEC);
  g_assert_cmpint (parse_ok (fixture, "1h"), ==, NOW_US - G_GINT64_CONSTANT (3600) * G_USEC_PER_SEC);
  g_assert_cmpint (parse_ok (fixture, "2d"), ==,
                   NOW_US - G_GINT64_CONSTANT (2) * 86400 * G_USEC_PER_SEC);
  g_assert_cmpint (parse_ok (fixture, "1h30m"), ==,
                   NOW_US - G_GINT64_CONSTANT (5400) * G_USEC_PER_SEC);
  g_assert_cmpint (parse_ok (fixture, "today"), ==, G_GINT64_CONSTANT (1795737600000000));
  g_assert_cmpint (parse_ok (fixture, "yesterday"), ==,
                   G_GINT64_CONSTANT (1795737600000000) - G_GINT64_CONSTANT (86400) * G_USEC_PER_SEC);
}

static void
test_time_bad (Fixture *fixture, gconstpointer data)
{
  const char *bad[] = { "", "1x", "h", "1h30", "tomorrow", "2026-13-01", "2026-11-27T25:00", "2026-11-27T10:0", "2026-11-27T10",
                        "99999999999d", "-1h", "1 h", "1960-01-01T00:00:00Z" };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      gint64 usec = 42;

      g_test_message ("%s", bad[i]);
      g_assert_false (moat_cli_parse_time (bad[i], fixture->now, &usec, &error));
      g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
      g_assert_cmpint (usec, ==, 42);
    }
}

static void
test_format (Fixture *fixture, gconstpointer data)
{
  g_autofree char *utc = moat_cli_format_utc (NOW_US);
  g_autofree char *whole = moat_cli_format_utc (G_GINT64_CONSTANT (1795773600000000));
  g_autofree char *local = moat_cli_format_local (NOW_US);

  g_assert_cmpstr (utc, ==, "2026-11-27T10:30:15.500000Z");
  g_assert_cmpstr (whole, ==, "2026-11-27T10:00:00.000000Z");
  g_assert_cmpstr (local, ==, "2026-11-27 10:30:15");
}

static void
test_event_json (Fixture *fixture, gconstpointer data)
{
  g_autoptr(MoatEvent) event = moat_event_new (MOAT_EVENT_SOURCE_PROXY, "content.malware",
                                               MOAT_SEVERITY_HIGH, "evil.example", "blocked",
                                               "{\"list\":\"urlhaus\",\"n\":[1,2]}");
  g_autoptr(MoatEvent) broken = moat_event_new (MOAT_EVENT_SOURCE_HEALTH, "os.rooted",
                                                MOAT_SEVERITY_INFO, "", "", "{not json");
  g_autoptr(JsonNode) node = NULL;
  g_autoptr(JsonNode) broken_node = NULL;
  g_autofree char *text = NULL;
  JsonObject *object, *detail;

  event->id = 77;
  event->time = NOW_US;
  node = moat_cli_event_to_json (event);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (node));
  object = json_node_get_object (node);
  g_assert_cmpuint (json_object_get_size (object), ==, 9);
  g_assert_cmpint (json_object_get_int_member (object, "id"), ==, 77);
  g_assert_cmpstr (json_object_get_string_member (object, "time"), ==,
                   "2026-11-27T10:30:15.500000Z");
  g_assert_cmpint (json_object_get_int_member (object, "time_us"), ==, NOW_US);
  g_assert_cmpstr (json_object_get_string_member (object, "source"), ==, "proxy");
  g_assert_cmpstr (json_object_get_string_member (object, "threat"), ==, "content.malware");
  g_assert_cmpstr (json_object_get_string_member (object, "severity"), ==, "high");
  g_assert_cmpstr (json_object_get_string_member (object, "subject"), ==, "evil.example");
  g_assert_cmpstr (json_object_get_string_member (object, "action"), ==, "blocked");
  detail = json_object_get_object_member (object, "detail");
  g_assert_nonnull (detail);
  g_assert_cmpstr (json_object_get_string_member (detail, "list"), ==, "urlhaus");
  text = moat_cli_json_to_string (node, FALSE);
  g_assert_cmpstr (text, ==,
                   "{\"id\":77,\"time\":\"2026-11-27T10:30:15.500000Z\",\"time_us\":1795775415500000,"
                   "\"source\":\"proxy\",\"threat\":\"content.malware\",\"severity\":\"high\","
                   "\"subject\":\"evil.example\",\"action\":\"blocked\","
                   "\"detail\":{\"list\":\"urlhaus\",\"n\":[1,2]}}");

  /* A detail that is not a JSON object is null, never a string. */
  broken_node = moat_cli_event_to_json (broken);
  g_assert_true (json_object_get_null_member (json_node_get_object (broken_node), "detail"));
}

static void
test_event_table (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GPtrArray) events = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_event_unref);
  g_autoptr(GString) out = g_string_new (NULL);
  MoatCliColumns columns;
  MoatEvent *event;

  event = moat_event_new (MOAT_EVENT_SOURCE_PROXY, "content.malware", MOAT_SEVERITY_HIGH,
                          "evil.example", "blocked", "{}");
  event->time = NOW_US;
  g_ptr_array_add (events, event);
  event = moat_event_new (MOAT_EVENT_SOURCE_DETECTOR, "network.dns_hijack",
                          MOAT_SEVERITY_CRITICAL, "wifi\x1b[2J", "", "{}");
  event->time = NOW_US;
  g_ptr_array_add (events, event);

  moat_cli_columns_init (&columns);
  moat_cli_columns_fit (&columns, events);
  moat_cli_append_header (out, &columns);
  for (guint i = 0; i < events->len; i++)
    moat_cli_append_event (out, &columns, g_ptr_array_index (events, i));
  g_assert_cmpstr (out->str, ==,
                   "TIME                 SEVERITY  THREAT              SUBJECT       ACTION\n"
                   "2026-11-27 10:30:15  high      content.malware     evil.example  blocked\n"
                   "2026-11-27 10:30:15  critical  network.dns_hijack  wifi?[2J      -\n");
}

int
main (int argc, char *argv[])
{
  /* Local time is UTC here, so the expected values hold on any machine. */
  g_setenv ("TZ", "UTC", TRUE);
  tzset ();
  g_setenv ("LC_ALL", "C.UTF-8", TRUE);
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/moat/cli/time-absolute", Fixture, NULL, fixture_set_up, test_time_absolute,
              fixture_tear_down);
  g_test_add ("/moat/cli/time-relative", Fixture, NULL, fixture_set_up, test_time_relative,
              fixture_tear_down);
  g_test_add ("/moat/cli/time-bad", Fixture, NULL, fixture_set_up, test_time_bad,
              fixture_tear_down);
  g_test_add ("/moat/cli/format", Fixture, NULL, fixture_set_up, test_format, fixture_tear_down);
  g_test_add ("/moat/cli/event-json", Fixture, NULL, fixture_set_up, test_event_json,
              fixture_tear_down);
  g_test_add ("/moat/cli/event-table", Fixture, NULL, fixture_set_up, test_event_table,
              fixture_tear_down);
  return g_test_run ();
}
