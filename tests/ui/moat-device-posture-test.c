/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-device-posture-test"

#include "config.h"

#include "moat-device-posture.h"

#include <locale.h>

/* moatd's answers as the Devices page reads them: GetDevices and GetDevicePosture. */

typedef struct {
  GVariantBuilder builder;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_variant_builder_init (&fixture->builder, G_VARIANT_TYPE (user_data));
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_variant_builder_clear (&fixture->builder);
}

static void
add_finding (Fixture    *fixture,
             const char *check,
             const char *result,
             const char *severity,
             const char *fix)
{
  const char *packages[] = { "com.spy.mobile", NULL };

  g_variant_builder_add (&fixture->builder, "(ssssssss^asss)", check, result,
                         g_str_equal (result, "threat") ? "os.dev_options" : "",
                         severity, "summary", "why", fix, "developer",
                         packages,
                         "{}", "getprop");
}

static void
test_devices (Fixture       *fixture,
              gconstpointer  user_data)
{
  g_autoptr(GVariant) devices = NULL;
  g_autoptr(GPtrArray) infos = NULL;
  const MoatDeviceInfo *info;

  g_variant_builder_add (&fixture->builder, "(ssssssssbx)", "emulator-5554", "android",
                         "Galaxy A51", "Android 11, patch 2023-01-05", "usb", "ready", "critical",
                         "", TRUE, (gint64) 1700000000000000);
  g_variant_builder_add (&fixture->builder, "(ssssssssbx)", "192.168.1.20:5555", "android", "", "",
                         "wifi", "unauthorized", "unknown", "Tap Allow on the phone", FALSE,
                         (gint64) 0);
  g_variant_builder_add (&fixture->builder, "(ssssssssbx)", "x", "android", "", "", "usb",
                         "disconnected", "bogus", "", FALSE, (gint64) 0);
  devices = g_variant_ref_sink (g_variant_builder_end (&fixture->builder));
  infos = moat_device_infos_from_variant (devices);

  g_assert_cmpuint (infos->len, ==, 3);
  info = g_ptr_array_index (infos, 0);
  g_assert_cmpstr (info->serial, ==, "emulator-5554");
  g_assert_cmpstr (info->model, ==, "Galaxy A51");
  g_assert_cmpstr (info->os, ==, "Android 11, patch 2023-01-05");
  g_assert_cmpstr (info->connection, ==, "usb");
  g_assert_true (info->risk_known);
  g_assert_cmpint (info->risk, ==, MOAT_RISK_LEVEL_CRITICAL);
  g_assert_true (info->routing);
  g_assert_cmpint (info->checked, ==, 1700000000000000);
  g_assert_true (moat_device_info_is_usable (info));
  g_assert_false (moat_device_info_needs_attention (info));

  info = g_ptr_array_index (infos, 1);
  g_assert_cmpstr (info->state, ==, "unauthorized");
  g_assert_false (info->risk_known);
  g_assert_cmpint (info->risk, ==, MOAT_RISK_LEVEL_NONE);
  g_assert_cmpstr (info->message, ==, "Tap Allow on the phone");
  g_assert_true (moat_device_info_needs_attention (info));
  g_assert_false (moat_device_info_is_usable (info));

  /* A risk moatd should not send reads as unknown, not as none. */
  info = g_ptr_array_index (infos, 2);
  g_assert_false (info->risk_known);
  g_assert_false (moat_device_info_needs_attention (info));
  g_assert_false (moat_device_info_is_usable (info));
}

static void
test_findings_order (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(GVariant) findings = NULL;
  g_autoptr(GPtrArray) sorted = NULL;
  const char *want[] = { "crit", "high-1", "high-2", "bad-severity", "low", "unknown", "ok-1",
                         "ok-2" };
  const MoatDeviceFinding *finding;

  add_finding (fixture, "ok-1", "ok", "", "");
  add_finding (fixture, "low", "threat", "low", "Step");
  add_finding (fixture, "unknown", "unknown", "", "");
  add_finding (fixture, "high-1", "threat", "high", "Step");
  add_finding (fixture, "ok-2", "ok", "", "");
  add_finding (fixture, "crit", "threat", "critical", "Step");
  add_finding (fixture, "high-2", "threat", "high", "Step");
  add_finding (fixture, "bad-severity", "threat", "dire", "Step");
  findings = g_variant_ref_sink (g_variant_builder_end (&fixture->builder));
  sorted = moat_device_findings_from_variant (findings);

  g_assert_cmpuint (sorted->len, ==, G_N_ELEMENTS (want));
  for (guint i = 0; i < G_N_ELEMENTS (want); i++)
    g_assert_cmpstr (((MoatDeviceFinding *) g_ptr_array_index (sorted, i))->check, ==, want[i]);

  finding = g_ptr_array_index (sorted, 0);
  g_assert_cmpint (finding->result, ==, MOAT_DEVICE_RESULT_THREAT);
  g_assert_cmpint (finding->severity, ==, MOAT_SEVERITY_CRITICAL);
  g_assert_cmpstr (finding->threat, ==, "os.dev_options");
  g_assert_cmpstr (finding->screen, ==, "developer");
  g_assert_cmpstr (finding->command, ==, "getprop");
  g_assert_cmpuint (g_strv_length (finding->packages), ==, 1);
  g_assert_cmpstr (finding->packages[0], ==, "com.spy.mobile");
  /* A severity moatd should not send reads as medium. */
  finding = g_ptr_array_index (sorted, 3);
  g_assert_cmpint (finding->severity, ==, MOAT_SEVERITY_MEDIUM);
  finding = g_ptr_array_index (sorted, 5);
  g_assert_cmpint (finding->result, ==, MOAT_DEVICE_RESULT_UNKNOWN);
  g_assert_cmpint (finding->severity, ==, MOAT_SEVERITY_INFO);
  finding = g_ptr_array_index (sorted, 7);
  g_assert_cmpint (finding->result, ==, MOAT_DEVICE_RESULT_OK);
}

/* The API's type as first published has no command field. */
static void
test_findings_without_command (Fixture       *fixture,
                               gconstpointer  user_data)
{
  const char *packages[] = { "com.spy.mobile", NULL };
  g_autoptr(GVariant) findings = NULL;
  g_autoptr(GPtrArray) sorted = NULL;
  const MoatDeviceFinding *finding;

  g_variant_builder_add (&fixture->builder, "(ssssssss^ass)", "apps", "threat", "app.sideloaded",
                         "high", "summary", "why", "fix", "apps", packages, "{\"a\":1}");
  findings = g_variant_ref_sink (g_variant_builder_end (&fixture->builder));
  sorted = moat_device_findings_from_variant (findings);

  g_assert_cmpuint (sorted->len, ==, 1);
  finding = g_ptr_array_index (sorted, 0);
  g_assert_cmpstr (finding->check, ==, "apps");
  g_assert_cmpint (finding->severity, ==, MOAT_SEVERITY_HIGH);
  g_assert_cmpstr (finding->packages[0], ==, "com.spy.mobile");
  g_assert_cmpstr (finding->evidence, ==, "{\"a\":1}");
  g_assert_cmpstr (finding->command, ==, "");
}

static void
test_fix_steps (Fixture       *fixture,
                gconstpointer  user_data)
{
  MoatDeviceFinding finding = { .fix = (char *) "Open Settings.\n\n  Tap Security. \n" };
  g_auto(GStrv) steps = moat_device_finding_dup_fix_steps (&finding);
  g_auto(GStrv) none = NULL;

  g_assert_cmpuint (g_strv_length (steps), ==, 2);
  g_assert_cmpstr (steps[0], ==, "Open Settings.");
  g_assert_cmpstr (steps[1], ==, "Tap Security.");

  finding.fix = (char *) "";
  none = moat_device_finding_dup_fix_steps (&finding);
  g_assert_cmpuint (g_strv_length (none), ==, 0);
}

static void
test_evidence (Fixture       *fixture,
               gconstpointer  user_data)
{
  struct {
    const char *evidence;
    const char *text;
  } cases[] = {
    { "{\"ro.build.version.security_patch\":\"2023-01-05\",\"age_days\":1056,"
      "\"grants\":[\"SEND_SMS\"],\"admin\":{\"uid\":10123},\"proxy\":null,\"on\":true}",
      "ro.build.version.security_patch: 2023-01-05\nage_days: 1056\ngrants: [\"SEND_SMS\"]\n"
      "admin: {\"uid\":10123}\nproxy: null\non: true" },
    { "{}", "" },
    { "[1,2]", "[1,2]" },
    { "not json at all", "not json at all" },
    { "", "" },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = moat_device_format_evidence (cases[i].evidence);

      g_assert_cmpstr (text, ==, cases[i].text);
    }
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "C.UTF-8");
  g_test_init (&argc, &argv, NULL);

  g_test_add ("/moat/device-posture/devices", Fixture, "a(ssssssssbx)",
              fixture_set_up, test_devices, fixture_tear_down);
  g_test_add ("/moat/device-posture/findings-order", Fixture, "a(ssssssssasss)",
              fixture_set_up, test_findings_order, fixture_tear_down);
  g_test_add ("/moat/device-posture/findings-without-command", Fixture, "a(ssssssssass)",
              fixture_set_up, test_findings_without_command, fixture_tear_down);
  g_test_add ("/moat/device-posture/fix-steps", Fixture, "a(ssssssssass)",
              fixture_set_up, test_fix_steps, fixture_tear_down);
  g_test_add ("/moat/device-posture/evidence", Fixture, "a(ssssssssass)",
              fixture_set_up, test_evidence, fixture_tear_down);

  return g_test_run ();
}
