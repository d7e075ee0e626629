/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-cli-report-test"

#include "config.h"

#include "moat-report-model.h"
#include "moat-client.h"
#include "moat-fake-engine.h"
#include "moat-report.h"

#include <string.h>

/*
 * moatctl report's model builder against a stand-in moatd on a test bus
 * (tests/client/moat-fake-engine.c) that answers GetPolicy, GetThreats,
 * GetDevices and GetDevicePosture, and GetHealth only when the test says:
 * a moatd without it answers UnknownMethod, as one from before issue 7 does.
 */

#define BASE_TIME G_GINT64_CONSTANT (1793491200000000) /* the fake's first event */

typedef struct {
  MoatFakeEngine *fake;
  MoatClient     *client;
  JsonNode       *model;
  GError         *error;
  gboolean        done;
  guint           n_threats_calls;
  guint           n_devices_calls;
  guint           n_health_calls;
} Fixture;

static gboolean
on_get_policy_cb (MoatDBusMoat1 *skeleton, GDBusMethodInvocation *invocation, Fixture *f)
{
  moat_dbus_moat1_complete_get_policy (skeleton, invocation, "company.policy", "rules");
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_get_threats_cb (MoatDBusMoat1 *skeleton, GDBusMethodInvocation *invocation, Fixture *f)
{
  GVariantBuilder b;

  f->n_threats_calls++;
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(ssssx)"));
  g_variant_builder_add (&b, "(ssssx)", "network.tls_interception", "high",
                         "<script>x</script>", "{\"issuer\":\"CN=Evil\"}", BASE_TIME);
  moat_dbus_moat1_complete_get_threats (skeleton, invocation, g_variant_builder_end (&b));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_get_devices_cb (MoatDBusMoat1 *skeleton, GDBusMethodInvocation *invocation, Fixture *f)
{
  GVariantBuilder b;

  f->n_devices_calls++;
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(ssssssssbx)"));
  g_variant_builder_add (&b, "(ssssssssbx)", "A1", "android", "Pixel 5", "Android 13", "usb",
                         "ready", "high", "", TRUE, BASE_TIME);
  g_variant_builder_add (&b, "(ssssssssbx)", "B2", "android", "", "", "wifi", "disconnected",
                         "unknown", "", FALSE, (gint64) 0);
  moat_dbus_moat1_complete_get_devices (skeleton, invocation, g_variant_builder_end (&b));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_get_device_posture_cb (MoatDBusMoat1 *skeleton, GDBusMethodInvocation *invocation,
                          const char *serial, Fixture *f)
{
  GVariantBuilder b;
  const char *packages[] = { "com.spy", NULL };
  const char *none[] = { NULL };

  if (!g_str_equal (serial, "A1"))
    {
      g_dbus_method_invocation_return_dbus_error (invocation,
                                                  "io.github.moatproject.Moat1.Error.NotFound",
                                                  "No such phone");
      return G_DBUS_METHOD_INVOCATION_HANDLED;
    }
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(ssssssssasss)"));
  g_variant_builder_add (&b, "(ssssssss^asss)", "patch", "ok", "", "", "Patched.", "", "", "",
                         none, "{\"patch\":\"2026-10-05\"}", "getprop");
  g_variant_builder_add (&b, "(ssssssss^asss)", "accessibility", "threat",
                         "app.accessibility_service", "high", "An app reads the screen.",
                         "It can read what you type.", "Open Accessibility.\nTurn it off.\n",
                         "accessibility", packages, "not json", "settings get secure x");
  moat_dbus_moat1_complete_get_device_posture (skeleton, invocation,
                                               g_variant_builder_end (&b));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static gboolean
on_get_health_cb (MoatDBusMoat1 *skeleton, GDBusMethodInvocation *invocation, Fixture *f)
{
  GVariantBuilder b;
  const char *steps[] = { "Turn on Protect this computer.", NULL };
  const char *none[] = { NULL };

  f->n_health_calls++;
  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(ssssssssssasbsx)"));
  g_variant_builder_add (&b, "(ssssssssss^asbsx)", "moat.protection", "moat", "", "problem",
                         "high", "Moat's filter", "Not in effect.", "Why.", "Impact.", "",
                         steps, TRUE, "{\"mode\":\"none\"}", BASE_TIME);
  g_variant_builder_add (&b, "(ssssssssss^asbsx)", "computer.screen_lock", "computer", "", "ok",
                         "", "Screen lock", "Locks after 5 minutes.", "", "", "", none, FALSE,
                         "{}", BASE_TIME);
  g_variant_builder_add (&b, "(ssssssssss^asbsx)", "phone.os_outdated_patch", "phone", "A1",
                         "problem", "medium", "Old patch", "Old.", "", "", "security", none,
                         FALSE, "{}", BASE_TIME);
  moat_dbus_moat1_complete_get_health (skeleton, invocation, g_variant_builder_end (&b));
  return G_DBUS_METHOD_INVOCATION_HANDLED;
}

static void
client_new_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  f->client = moat_client_new_finish (result, &f->error);
  f->done = TRUE;
}

static gboolean
done_cb (gpointer data)
{
  return ((Fixture *) data)->done;
}

static void
set_up (Fixture *f, gconstpointer data, gboolean health, gboolean owned)
{
  f->fake = moat_fake_engine_new (20);
  g_signal_connect (f->fake->skeleton, "handle-get-policy", G_CALLBACK (on_get_policy_cb), f);
  g_signal_connect (f->fake->skeleton, "handle-get-threats", G_CALLBACK (on_get_threats_cb), f);
  g_signal_connect (f->fake->skeleton, "handle-get-devices", G_CALLBACK (on_get_devices_cb), f);
  g_signal_connect (f->fake->skeleton, "handle-get-device-posture",
                    G_CALLBACK (on_get_device_posture_cb), f);
  if (health)
    {
      g_signal_connect (f->fake->skeleton, "handle-get-health", G_CALLBACK (on_get_health_cb),
                        f);
      moat_dbus_moat1_set_health_level (f->fake->skeleton, 3);
      moat_dbus_moat1_set_health_summary (f->fake->skeleton, "One problem.");
    }
  if (owned)
    moat_fake_engine_own_name (f->fake);
  moat_client_new_async (MOAT_CLIENT_FLAGS_NO_AUTO_START, NULL, client_new_cb, f);
  g_assert_true (moat_test_wait_until (done_cb, f));
  g_assert_no_error (f->error);
  f->done = FALSE;
}

static void
set_up_health (Fixture *f, gconstpointer data)
{
  set_up (f, data, TRUE, TRUE);
}

static void
set_up_no_health (Fixture *f, gconstpointer data)
{
  set_up (f, data, FALSE, TRUE);
}

static void
set_up_unowned (Fixture *f, gconstpointer data)
{
  set_up (f, data, FALSE, FALSE);
}

static void
tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->client);
  g_clear_pointer (&f->model, json_node_unref);
  g_clear_error (&f->error);
  g_clear_pointer (&f->fake, moat_fake_engine_free);
}

static void
built_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Fixture *f = user_data;

  f->model = moat_report_model_build_finish (MOAT_CLIENT (object), result, &f->error);
  f->done = TRUE;
}

static JsonObject *
build (Fixture *f, gint64 since, const char *include)
{
  g_auto(GStrv) sections = moat_report_model_parse_sections (include, NULL);

  g_assert_nonnull (sections);
  moat_report_model_build_async (f->client, since, (const char * const *) sections, NULL,
                               built_cb, f);
  g_assert_true (moat_test_wait_until (done_cb, f));
  if (f->model == NULL)
    return NULL;
  g_assert_no_error (f->error);
  return json_node_get_object (f->model);
}

static JsonObject *
object_at (JsonObject *object, const char *member, guint index)
{
  return json_array_get_object_element (json_object_get_array_member (object, member), index);
}

static void
test_full (Fixture *f, gconstpointer data)
{
  JsonObject *root = build (f, 0, NULL);
  JsonObject *summary = json_object_get_object_member (root, "summary");
  JsonObject *health = json_object_get_object_member (root, "health");
  JsonObject *computer = json_object_get_object_member (root, "computer");
  JsonObject *phones = json_object_get_object_member (root, "phones");
  JsonObject *threats = json_object_get_object_member (root, "threats");
  JsonObject *actions = json_object_get_object_member (root, "actions");
  JsonObject *a1, *ok, *threat, *item;
  JsonArray *events;
  g_autoptr(GError) error = NULL;
  g_autoptr(GOutputStream) out = g_memory_output_stream_new_resizable ();

  g_assert_nonnull (root);
  g_assert_true (moat_report_validate_model (f->model, &error));
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (root, "moat_version"), ==, "9.8.7");
  g_assert_cmpstr (json_object_get_string_member (root, "policy"), ==, "company.policy");
  g_assert_cmpstr (json_object_get_string_member (root, "host"), ==, g_get_host_name ());
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (root, "included")), ==,
                    5);
  g_assert_cmpstr (json_object_get_string_member (summary, "protection_state"), ==, "protected");
  g_assert_cmpstr (json_object_get_string_member (summary, "risk_level"), ==, "low");
  g_assert_cmpint (json_object_get_int_member (summary, "health_level"), ==, 3);
  g_assert_cmpstr (json_object_get_string_member (summary, "health_summary"), ==, "One problem.");

  /* Health items by area; a phone's come through its posture. */
  g_assert_true (json_object_get_boolean_member (health, "available"));
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (health, "items")), ==, 1);
  item = object_at (health, "items", 0);
  g_assert_cmpstr (json_object_get_string_member (item, "id"), ==, "moat.protection");
  g_assert_cmpstr (json_object_get_string_member (item, "fix_status"), ==, "automatic");
  g_assert_cmpstr (json_object_get_string_member (item, "severity"), ==, "high");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (computer, "items")), ==,
                    1);
  item = object_at (computer, "items", 0);
  g_assert_cmpstr (json_object_get_string_member (item, "fix_status"), ==, "ok");
  g_assert_true (json_object_get_null_member (item, "severity"));
  g_assert_cmpstr (json_object_get_string_member (computer, "protection_summary"), ==,
                   "All good.");

  /* Phones and their findings. */
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (phones, "devices")), ==,
                    2);
  a1 = object_at (phones, "devices", 0);
  g_assert_cmpstr (json_object_get_string_member (a1, "model"), ==, "Pixel 5");
  g_assert_true (json_object_get_boolean_member (a1, "routing"));
  ok = object_at (a1, "findings", 0);
  threat = object_at (a1, "findings", 1);
  g_assert_true (json_object_get_null_member (ok, "threat"));
  g_assert_true (json_object_get_null_member (ok, "severity"));
  g_assert_cmpstr (json_object_get_string_member (ok, "fix_status"), ==, "ok");
  g_assert_cmpstr (json_object_get_string_member (threat, "severity"), ==, "high");
  g_assert_cmpstr (json_object_get_string_member (threat, "fix_status"), ==, "open");
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (threat, "fix")), ==, 2);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (threat, "fix"),
                                                  1), ==, "Turn it off.");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (threat,
                                                                                 "evidence"),
                                                  "text"), ==, "not json");
  /* A phone that went away has no findings, and no error. */
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
                      object_at (phones, "devices", 1), "findings")), ==, 0);
  g_assert_true (json_object_get_null_member (object_at (phones, "devices", 1), "checked"));

  /* Threats now, and the detector's events; actions from engine, device, health. */
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (threats, "active")), ==,
                    1);
  events = json_object_get_array_member (threats, "events");
  g_assert_cmpuint (json_array_get_length (events), >, 0);
  for (guint i = 0; i < json_array_get_length (events); i++)
    g_assert_cmpstr (json_object_get_string_member (json_array_get_object_element (events, i),
                                                    "source"), ==, "detector");
  events = json_object_get_array_member (actions, "events");
  g_assert_cmpuint (json_array_get_length (events), >, 2);
  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonObject *event = json_array_get_object_element (events, i);
      const char *source = json_object_get_string_member (event, "source");

      g_assert_true (g_str_equal (source, "engine") || g_str_equal (source, "device") ||
                     g_str_equal (source, "health"));
      if (i > 0)
        g_assert_cmpint (json_object_get_int_member (event, "id"), <,
                         json_object_get_int_member (json_array_get_object_element (events,
                                                                                    i - 1),
                                                     "id"));
    }
  g_assert_cmpuint (f->n_health_calls, ==, 1);

  /* And it renders. */
  g_assert_true (moat_report_write (f->model, MOAT_REPORT_FORMAT_HTML, out, &error));
  g_assert_no_error (error);
}

static void
test_no_health (Fixture *f, gconstpointer data)
{
  JsonObject *root = build (f, 0, NULL);
  JsonObject *health = json_object_get_object_member (root, "health");
  JsonObject *computer = json_object_get_object_member (root, "computer");
  const char *message = json_object_get_string_member (health, "message");

  g_assert_false (json_object_get_boolean_member (health, "available"));
  g_assert_nonnull (strstr (message, "GetHealth"));
  g_assert_false (json_object_get_boolean_member (computer, "available"));
  g_assert_cmpstr (json_object_get_string_member (computer, "message"), ==, message);
  g_assert_true (json_object_get_null_member (json_object_get_object_member (root, "summary"),
                                              "health_level"));
  g_assert_true (json_object_get_null_member (health, "level"));
  /* Everything else is still there. */
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (
                      json_object_get_object_member (root, "phones"), "devices")), ==, 2);
}

static void
test_sections (Fixture *f, gconstpointer data)
{
  JsonObject *root = build (f, 0, "phones");
  JsonArray *included = json_object_get_array_member (root, "included");

  g_assert_cmpuint (json_array_get_length (included), ==, 1);
  g_assert_cmpstr (json_array_get_string_element (included, 0), ==, "phones");
  g_assert_true (json_object_has_member (root, "phones"));
  g_assert_false (json_object_has_member (root, "computer"));
  g_assert_false (json_object_has_member (root, "health"));
  g_assert_false (json_object_has_member (root, "threats"));
  g_assert_false (json_object_has_member (root, "actions"));
  /* What is not chosen is not asked for. */
  g_assert_cmpuint (f->n_threats_calls, ==, 0);
  g_assert_cmpuint (f->n_health_calls, ==, 0);
  g_assert_cmpuint (f->n_devices_calls, ==, 1);
}

static void
test_window (Fixture *f, gconstpointer data)
{
  gint64 since = BASE_TIME + 10 * G_USEC_PER_SEC;
  JsonObject *root = build (f, since, "actions");
  JsonArray *events = json_object_get_array_member (json_object_get_object_member (root,
                                                                                   "actions"),
                                                    "events");

  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (root,
                                                                                 "window"),
                                                  "since"), ==, "2026-11-01T00:00:10.000000Z");
  g_assert_cmpuint (json_array_get_length (events), >, 0);
  for (guint i = 0; i < json_array_get_length (events); i++)
    g_assert_cmpint (json_object_get_int_member (json_array_get_object_element (events, i), "id"),
                     >=, 10);
}

static void
test_unreachable (Fixture *f, gconstpointer data)
{
  g_auto(GStrv) sections = moat_report_model_parse_sections (NULL, NULL);

  moat_report_model_build_async (f->client, 0, (const char * const *) sections, NULL, built_cb, f);
  g_assert_true (moat_test_wait_until (done_cb, f));
  g_assert_null (f->model);
  g_assert_error (f->error, MOAT_ERROR, MOAT_ERROR_ENGINE_UNREACHABLE);
}

static void
test_parse_sections (void)
{
  g_auto(GStrv) all = moat_report_model_parse_sections (NULL, NULL);
  g_auto(GStrv) some = moat_report_model_parse_sections ("phones, threats,phones", NULL);
  g_autoptr(GError) error = NULL;
  g_auto(GStrv) bad = moat_report_model_parse_sections ("phones,wifi", &error);
  g_autofree char *joined = g_strjoinv (",", all);

  g_assert_cmpstr (joined, ==, MOAT_REPORT_SECTIONS);
  g_assert_cmpuint (g_strv_length (some), ==, 2);
  g_assert_cmpstr (some[0], ==, "phones");
  g_assert_cmpstr (some[1], ==, "threats");
  g_assert_null (bad);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
}

int
main (int argc, char *argv[])
{
  g_autoptr(GTestDBus) bus = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  g_unsetenv ("MOAT_DBUS_ADDRESS");
  bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (bus);

  g_test_add ("/moat/report-model/full", Fixture, NULL, set_up_health, test_full, tear_down);
  g_test_add ("/moat/report-model/no-health", Fixture, NULL, set_up_no_health, test_no_health,
              tear_down);
  g_test_add ("/moat/report-model/sections", Fixture, NULL, set_up_health, test_sections,
              tear_down);
  g_test_add ("/moat/report-model/window", Fixture, NULL, set_up_health, test_window, tear_down);
  g_test_add ("/moat/report-model/unreachable", Fixture, NULL, set_up_unowned, test_unreachable,
              tear_down);
  g_test_add_func ("/moat/report-model/parse-sections", test_parse_sections);

  ret = g_test_run ();
  g_test_dbus_down (bus);
  return ret;
}
