/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#include "config.h"

#include "moat-enums.h"
#include "moat-error.h"
#include "moat-event.h"

static void
test_threat_ids (void)
{
  g_assert_true (moat_threat_id_is_valid ("network.tls_interception"));
  g_assert_true (moat_threat_id_is_valid ("content.c2"));
  g_assert_true (moat_threat_id_is_valid ("moat.store_recovered"));
  g_assert_false (moat_threat_id_is_valid (""));
  g_assert_false (moat_threat_id_is_valid ("network"));
  g_assert_false (moat_threat_id_is_valid ("network."));
  g_assert_false (moat_threat_id_is_valid ("Network.x"));
  g_assert_false (moat_threat_id_is_valid ("web.phishing"));
  g_assert_false (moat_threat_id_is_valid ("content.phish ing"));
  g_assert_false (moat_threat_id_is_valid ("content.phishing'; DROP TABLE events;--"));

  g_assert_true (moat_threat_id_matches ("network.arp_spoof", "network.*"));
  g_assert_true (moat_threat_id_matches ("network.arp_spoof", "*"));
  g_assert_true (moat_threat_id_matches ("network.arp_spoof", "network.arp_spoof"));
  g_assert_false (moat_threat_id_matches ("networkx.arp_spoof", "network.*"));
  g_assert_false (moat_threat_id_matches ("content.malware", "network.*"));
  g_assert_false (moat_threat_id_matches ("content.malware", "content.malwar"));
}

static void
test_enum_strings (void)
{
  MoatSeverity sev;
  MoatRiskLevel risk;

  for (guint i = 0; i < MOAT_SEVERITY_LAST; i++)
    {
      g_assert_true (moat_severity_from_string (moat_severity_to_string (i), &sev));
      g_assert_cmpint (sev, ==, i);
    }
  for (guint i = 0; i < MOAT_RISK_LEVEL_LAST; i++)
    {
      g_assert_true (moat_risk_level_from_string (moat_risk_level_to_string (i), &risk));
      g_assert_cmpint (risk, ==, i);
    }
  g_assert_false (moat_severity_from_string ("severe", &sev));
  g_assert_false (moat_severity_from_string (NULL, &sev));
  g_assert_null (moat_severity_to_string (99));
  g_assert_cmpstr (moat_store_state_to_string (MOAT_STORE_STATE_DISK_FULL), ==, "disk-full");
}

static void
test_threat_display_names (void)
{
  g_assert_cmpstr (moat_threat_get_display_name ("content.malware"), ==, "Malware");
  g_assert_cmpstr (moat_threat_get_display_name ("moat.store_recovered"), ==,
                   "Event history recovered");
  /* Unknown ids are shown as they are, never as nothing. */
  g_assert_cmpstr (moat_threat_get_display_name ("network.new_kind"), ==, "network.new_kind");
  g_assert_null (moat_threat_get_display_name (NULL));
}

static void
test_error_dbus_roundtrip (void)
{
  g_autoptr(GError) local = g_error_new_literal (MOAT_ERROR, MOAT_ERROR_DISK_FULL, "No space");
  g_autofree char *name = g_dbus_error_encode_gerror (local);
  g_autoptr(GError) remote = g_dbus_error_new_for_dbus_error (name, "No space");

  g_assert_cmpstr (name, ==, "io.github.moatproject.Moat1.Error.DiskFull");
  g_assert_error (remote, MOAT_ERROR, MOAT_ERROR_DISK_FULL);
}

static void
test_error_convert (void)
{
  g_autoptr(GError) e1 = g_error_new_literal (G_IO_ERROR, G_IO_ERROR_NO_SPACE, "full");
  g_autoptr(GError) e2 = g_error_new_literal (G_DBUS_ERROR, G_DBUS_ERROR_SERVICE_UNKNOWN, "gone");
  g_autoptr(GError) e3 = g_error_new_literal (G_KEY_FILE_ERROR, 0, "odd");

  moat_error_convert (&e1);
  moat_error_convert (&e2);
  moat_error_convert (&e3);
  g_assert_error (e1, MOAT_ERROR, MOAT_ERROR_DISK_FULL);
  g_assert_error (e2, MOAT_ERROR, MOAT_ERROR_ENGINE_UNREACHABLE);
  g_assert_error (e3, MOAT_ERROR, MOAT_ERROR_FAILED);
  g_assert_cmpstr (e1->message, ==, "full");
}

static void
test_event_variant_roundtrip (void)
{
  g_autoptr(MoatEvent) event = moat_event_new (MOAT_EVENT_SOURCE_PROXY, "content.malware",
                                               MOAT_SEVERITY_HIGH, "evil.example",
                                               "blocked", "{\"list\":\"urlhaus\"}");
  g_autoptr(MoatEvent) back = NULL;
  g_autoptr(GVariant) v = NULL;
  g_autoptr(GError) error = NULL;

  event->id = 42;
  v = g_variant_ref_sink (moat_event_to_variant (event));
  back = moat_event_new_from_variant (v, &error);
  g_assert_no_error (error);
  g_assert_cmpint (back->id, ==, 42);
  g_assert_cmpint (back->time, ==, event->time);
  g_assert_cmpint (back->source, ==, MOAT_EVENT_SOURCE_PROXY);
  g_assert_cmpint (back->severity, ==, MOAT_SEVERITY_HIGH);
  g_assert_cmpstr (back->threat, ==, "content.malware");
  g_assert_cmpstr (back->subject, ==, "evil.example");
  g_assert_cmpstr (back->action, ==, "blocked");
  g_assert_cmpstr (back->detail, ==, "{\"list\":\"urlhaus\"}");
  g_assert_true (moat_event_validate (back, &error));
  g_assert_no_error (error);
}

static void
test_event_validate (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatEvent) bad_threat = moat_event_new (0, "nope", 0, "", "", NULL);
  g_autoptr(MoatEvent) bad_detail = moat_event_new (0, "content.ads", 0, "", "", "[1]");
  g_autofree char *long_subject = g_strnfill (MOAT_EVENT_SUBJECT_MAX + 1, 'a');
  g_autoptr(MoatEvent) too_long = moat_event_new (0, "content.ads", 0, long_subject, "", NULL);
  g_autoptr(MoatEvent) bad_utf8 = moat_event_new (0, "content.ads", 0, "a\xff", "", NULL);

  g_assert_false (moat_event_validate (bad_threat, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (moat_event_validate (bad_detail, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (moat_event_validate (too_long, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);
  g_assert_false (moat_event_validate (bad_utf8, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
}

static void
test_filter_parse (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatEventFilter) filter = NULL;
  g_autoptr(GVariant) back = NULL;
  GVariant *v = g_variant_new_parsed ("{'since': <int64 100>, 'threat': <'network.*'>, "
                                      "'min-severity': <'high'>, 'source': <'proxy'>, "
                                      "'search': <'Evil'>, 'order': <'asc'>}");
  g_autoptr(MoatEvent) hit = moat_event_new (MOAT_EVENT_SOURCE_PROXY, "network.dns_hijack",
                                             MOAT_SEVERITY_CRITICAL, "evil.example", "", NULL);
  g_autoptr(MoatEvent) miss = moat_event_new (MOAT_EVENT_SOURCE_PROXY, "network.dns_hijack",
                                              MOAT_SEVERITY_MEDIUM, "evil.example", "", NULL);

  g_variant_ref_sink (v);
  filter = moat_event_filter_new_from_variant (v, &error);
  g_variant_unref (v);
  g_assert_no_error (error);
  g_assert_cmpint (filter->since, ==, 100);
  g_assert_cmpstr (filter->threat, ==, "network.*");
  g_assert_cmpint (filter->min_severity, ==, MOAT_SEVERITY_HIGH);
  g_assert_true (filter->has_source);
  g_assert_true (filter->ascending);
  g_assert_true (moat_event_filter_matches (filter, hit));
  g_assert_false (moat_event_filter_matches (filter, miss));

  back = g_variant_ref_sink (moat_event_filter_to_variant (filter));
  g_assert_cmpuint (g_variant_n_children (back), ==, 6);
}

static void
test_filter_refuses (void)
{
  const char *bad[] = {
    "{'since': <'yesterday'>}",
    "{'since': <int64 -5>}",
    "{'threat': <'bogus'>}",
    "{'threat': <'web.*'>}",
    "{'min-severity': <'dire'>}",
    "{'order': <'sideways'>}",
    "{'colour': <'red'>}",
  };

  for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
    {
      g_autoptr(GError) error = NULL;
      g_autoptr(GVariant) v = g_variant_ref_sink (g_variant_new_parsed (bad[i]));
      g_autoptr(MoatEventFilter) filter = moat_event_filter_new_from_variant (v, &error);

      g_assert_null (filter);
      g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
    }
}

int
main (int argc, char **argv)
{
  g_test_init (&argc, &argv, NULL);
  g_test_add_func ("/moat/common/threat-ids", test_threat_ids);
  g_test_add_func ("/moat/common/enum-strings", test_enum_strings);
  g_test_add_func ("/moat/common/threat-display-names", test_threat_display_names);
  g_test_add_func ("/moat/common/error-dbus-roundtrip", test_error_dbus_roundtrip);
  g_test_add_func ("/moat/common/error-convert", test_error_convert);
  g_test_add_func ("/moat/common/event-variant-roundtrip", test_event_variant_roundtrip);
  g_test_add_func ("/moat/common/event-validate", test_event_validate);
  g_test_add_func ("/moat/common/filter-parse", test_filter_parse);
  g_test_add_func ("/moat/common/filter-refuses", test_filter_refuses);
  return g_test_run ();
}
