/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#include "config.h"

#include "moat-engine.h"
#include "moat-notifier.h"
#include "moat-test-utils.h"

#include <string.h>


/* A fake org.freedesktop.Notifications server (and a fake GUI exporting
 * org.gtk.Actions) on a private bus, with its own connection. */
static const char fake_xml[] =
  "<node>"
  "  <interface name='org.freedesktop.Notifications'>"
  "    <method name='GetServerInformation'>"
  "      <arg direction='out' type='s'/><arg direction='out' type='s'/>"
  "      <arg direction='out' type='s'/><arg direction='out' type='s'/>"
  "    </method>"
  "    <method name='GetCapabilities'><arg direction='out' type='as'/></method>"
  "    <method name='Notify'>"
  "      <arg direction='in' type='s'/><arg direction='in' type='u'/>"
  "      <arg direction='in' type='s'/><arg direction='in' type='s'/>"
  "      <arg direction='in' type='s'/><arg direction='in' type='as'/>"
  "      <arg direction='in' type='a{sv}'/><arg direction='in' type='i'/>"
  "      <arg direction='out' type='u'/>"
  "    </method>"
  "    <method name='CloseNotification'><arg direction='in' type='u'/></method>"
  "    <signal name='NotificationClosed'><arg type='u'/><arg type='u'/></signal>"
  "    <signal name='ActionInvoked'><arg type='u'/><arg type='s'/></signal>"
  "  </interface>"
  "  <interface name='org.gtk.Actions'>"
  "    <method name='Activate'>"
  "      <arg direction='in' type='s'/><arg direction='in' type='av'/>"
  "      <arg direction='in' type='a{sv}'/>"
  "    </method>"
  "  </interface>"
  "</node>";

typedef struct {
  guint      replaces_id;
  char      *summary;
  char      *body;
  GStrv      actions;
  char      *desktop_entry;
  guchar     urgency;
  guint      id;
} NotifyCall;

typedef struct {
  GDBusConnection *server;       /* the fake servers' own connection */
  GDBusNodeInfo   *info;
  guint            notifications_reg;
  guint            actions_reg;
  GPtrArray       *calls;        /* NotifyCall */
  GPtrArray       *activated;    /* char *: actions activated on the fake GUI */
  guint            next_id;

  GSettings       *settings;
  MoatNotifier    *notifier;
  guint            groups_shown;
  guint            groups_delivered;
  gboolean         group_shown;
  guint            expected_calls;
} Fixture;

static GTestDBus *test_bus;

static void
notify_call_free (NotifyCall *call)
{
  g_free (call->summary);
  g_free (call->body);
  g_strfreev (call->actions);
  g_free (call->desktop_entry);
  g_free (call);
}

static void
handle_method_call (GDBusConnection       *connection,
                    const char            *sender,
                    const char            *object_path,
                    const char            *interface_name,
                    const char            *method_name,
                    GVariant              *parameters,
                    GDBusMethodInvocation *invocation,
                    gpointer               user_data)
{
  Fixture *fixture = user_data;

  if (g_str_equal (method_name, "GetServerInformation"))
    {
      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(ssss)", "fake", "moat", "1", "1.2"));
    }
  else if (g_str_equal (method_name, "GetCapabilities"))
    {
      const char *caps[] = { "actions", "body", NULL };

      g_dbus_method_invocation_return_value (invocation,
                                             g_variant_new ("(^as)", (char **) caps));
    }
  else if (g_str_equal (method_name, "Notify"))
    {
      NotifyCall *call = g_new0 (NotifyCall, 1);
      g_autoptr(GVariant) hints = NULL;
      const char *app_name, *icon;
      gint32 timeout;

      g_variant_get (parameters, "(&su&sss^as@a{sv}i)", &app_name, &call->replaces_id, &icon,
                     &call->summary, &call->body, &call->actions, &hints, &timeout);
      g_variant_lookup (hints, "desktop-entry", "s", &call->desktop_entry);
      g_variant_lookup (hints, "urgency", "y", &call->urgency);
      call->id = call->replaces_id != 0 ? call->replaces_id : ++fixture->next_id;
      g_ptr_array_add (fixture->calls, call);
      g_dbus_method_invocation_return_value (invocation, g_variant_new ("(u)", call->id));
    }
  else if (g_str_equal (method_name, "CloseNotification"))
    {
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else if (g_str_equal (method_name, "Activate"))
    {
      const char *action;

      g_variant_get_child (parameters, 0, "&s", &action);
      g_ptr_array_add (fixture->activated, g_strdup (action));
      g_dbus_method_invocation_return_value (invocation, NULL);
    }
  else
    {
      g_dbus_method_invocation_return_error (invocation, G_DBUS_ERROR,
                                             G_DBUS_ERROR_UNKNOWN_METHOD, "No %s", method_name);
    }
}

static const GDBusInterfaceVTable vtable = { handle_method_call, NULL, NULL, { 0 } };

static void
request_name (GDBusConnection *connection, const char *name)
{
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  guint32 result = 0;

  reply = g_dbus_connection_call_sync (connection, "org.freedesktop.DBus", "/org/freedesktop/DBus",
                                       "org.freedesktop.DBus", "RequestName",
                                       g_variant_new ("(su)", name, 0x4 /* DO_NOT_QUEUE */),
                                       G_VARIANT_TYPE ("(u)"), G_DBUS_CALL_FLAGS_NONE, -1, NULL,
                                       &error);
  g_assert_no_error (error);
  g_variant_get (reply, "(u)", &result);
  g_assert_cmpuint (result, ==, 1 /* PRIMARY_OWNER */);
}

static void
on_group_shown_cb (MoatNotifier *notifier,
                   guint         n_events,
                   gboolean      delivered,
                   Fixture      *fixture)
{
  fixture->groups_shown++;
  if (delivered)
    fixture->groups_delivered++;
  fixture->group_shown = TRUE;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  fixture->calls = g_ptr_array_new_with_free_func ((GDestroyNotify) notify_call_free);
  fixture->activated = g_ptr_array_new_with_free_func (g_free);
  fixture->server = g_dbus_connection_new_for_address_sync (g_test_dbus_get_bus_address (test_bus),
                                                            G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                                            G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                                            NULL, NULL, &error);
  g_assert_no_error (error);
  fixture->info = g_dbus_node_info_new_for_xml (fake_xml, &error);
  g_assert_no_error (error);
  fixture->notifications_reg =
    g_dbus_connection_register_object (fixture->server, "/org/freedesktop/Notifications",
                                       fixture->info->interfaces[0], &vtable, fixture, NULL,
                                       &error);
  g_assert_no_error (error);
  fixture->actions_reg =
    g_dbus_connection_register_object (fixture->server, MOAT_NOTIFIER_GUI_OBJECT_PATH,
                                       fixture->info->interfaces[1], &vtable, fixture, NULL,
                                       &error);
  g_assert_no_error (error);
  if (user_data == NULL)
    request_name (fixture->server, "org.freedesktop.Notifications");
  request_name (fixture->server, MOAT_NOTIFIER_GUI_BUS_NAME);

  fixture->settings = g_settings_new (MOAT_ENGINE_SETTINGS_SCHEMA);
  g_settings_set_boolean (fixture->settings, "notifications-enabled", TRUE);
  g_settings_set_enum (fixture->settings, "notify-min-severity", MOAT_SEVERITY_MEDIUM);
  g_settings_set_uint (fixture->settings, "notification-group-seconds", 1);

  fixture->notifier = moat_notifier_new (fixture->settings);
  g_signal_connect (fixture->notifier, "group-shown", G_CALLBACK (on_group_shown_cb), fixture);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_clear_object (&fixture->notifier);
  g_clear_object (&fixture->settings);
  g_dbus_connection_unregister_object (fixture->server, fixture->notifications_reg);
  g_dbus_connection_unregister_object (fixture->server, fixture->actions_reg);
  /* Replies still queued (Activate's) must reach the notifier, not be dropped. */
  g_dbus_connection_flush_sync (fixture->server, NULL, NULL);
  g_dbus_connection_close_sync (fixture->server, NULL, NULL);
  g_clear_object (&fixture->server);
  g_clear_pointer (&fixture->info, g_dbus_node_info_unref);
  g_clear_pointer (&fixture->calls, g_ptr_array_unref);
  g_clear_pointer (&fixture->activated, g_ptr_array_unref);
}

static MoatEvent *
make_event (const char *threat, MoatSeverity severity, const char *subject, const char *action)
{
  return moat_event_new (MOAT_EVENT_SOURCE_PROXY, threat, severity, subject, action, "{}");
}

static void
wait_for_group (Fixture *fixture)
{
  fixture->group_shown = FALSE;
  moat_test_wait_for (&fixture->group_shown);
}

static void
test_notifier_burst (Fixture       *fixture,
                     gconstpointer  user_data)
{
  NotifyCall *call;

  for (guint i = 0; i < 500; i++)
    {
      g_autofree char *host = g_strdup_printf ("host%u.example", i % 7);
      g_autoptr(MoatEvent) event = make_event (i % 5 == 0 ? "content.phishing" : "content.malware",
                                               MOAT_SEVERITY_HIGH, host, "blocked");

      moat_notifier_add_event (fixture->notifier, event, MOAT_NOTIFY_FLAGS_NONE);
    }
  g_assert_cmpuint (moat_notifier_get_pending_count (fixture->notifier), ==, 500);

  wait_for_group (fixture);
  g_assert_cmpuint (fixture->calls->len, ==, 1);
  g_assert_cmpuint (fixture->groups_shown, ==, 1);
  g_assert_cmpuint (fixture->groups_delivered, ==, 1);
  g_assert_cmpuint (moat_notifier_get_pending_count (fixture->notifier), ==, 0);

  call = g_ptr_array_index (fixture->calls, 0);
  g_assert_cmpstr (call->summary, ==, "Moat blocked 500 requests");
  g_assert_nonnull (strstr (call->summary, "500"));
  g_assert_nonnull (strstr (call->body, "Malware (400)"));
  g_assert_nonnull (strstr (call->body, "Phishing (100)"));
  g_assert_nonnull (strstr (call->body, "host0.example (72)"));
  g_assert_cmpstr (call->desktop_entry, ==, APP_ID);
  g_assert_cmpuint (call->urgency, ==, 1 /* normal */);
  g_assert_cmpuint (call->replaces_id, ==, 0);
  g_assert_true (g_strv_contains ((const char * const *) call->actions, "default"));
  g_assert_true (g_strv_contains ((const char * const *) call->actions,
                                  MOAT_NOTIFIER_ACTION_SHOW_ACTIVITY));
  /* Many hosts: nothing single to allow. */
  g_assert_false (g_strv_contains ((const char * const *) call->actions,
                                   MOAT_NOTIFIER_ACTION_ALLOW_ONCE));
}

static void
test_notifier_below_min_severity (Fixture       *fixture,
                                  gconstpointer  user_data)
{
  g_autoptr(MoatEvent) high = make_event ("content.malware", MOAT_SEVERITY_CRITICAL,
                                          "evil.example", "blocked");
  NotifyCall *call;

  for (guint i = 0; i < 20; i++)
    {
      g_autoptr(MoatEvent) low = make_event ("network.open_wifi",
                                             i % 2 ? MOAT_SEVERITY_LOW : MOAT_SEVERITY_INFO,
                                             "cafe", "notified");

      moat_notifier_add_event (fixture->notifier, low, MOAT_NOTIFY_FLAGS_NONE);
    }
  g_assert_cmpuint (moat_notifier_get_pending_count (fixture->notifier), ==, 0);

  /* Only the event that qualifies is notified, on its own. */
  moat_notifier_add_event (fixture->notifier, high, MOAT_NOTIFY_FLAGS_NONE);
  g_assert_cmpuint (moat_notifier_get_pending_count (fixture->notifier), ==, 1);
  wait_for_group (fixture);
  g_assert_cmpuint (fixture->calls->len, ==, 1);
  call = g_ptr_array_index (fixture->calls, 0);
  g_assert_cmpstr (call->summary, ==, "Moat blocked evil.example");
  g_assert_cmpstr (call->body, ==, "Category: Malware");
  g_assert_cmpuint (call->urgency, ==, 2 /* critical */);
}

static void
test_notifier_always_and_disabled (Fixture       *fixture,
                                   gconstpointer  user_data)
{
  g_autoptr(MoatEvent) low = make_event ("network.open_wifi", MOAT_SEVERITY_LOW, "cafe", "");

  moat_notifier_add_event (fixture->notifier, low, MOAT_NOTIFY_FLAGS_ALWAYS);
  g_assert_cmpuint (moat_notifier_get_pending_count (fixture->notifier), ==, 1);
  wait_for_group (fixture);
  g_assert_cmpuint (fixture->calls->len, ==, 1);

  g_settings_set_boolean (fixture->settings, "notifications-enabled", FALSE);
  moat_notifier_add_event (fixture->notifier, low, MOAT_NOTIFY_FLAGS_ALWAYS);
  g_assert_cmpuint (moat_notifier_get_pending_count (fixture->notifier), ==, 0);
}

static void
test_notifier_replaces (Fixture       *fixture,
                        gconstpointer  user_data)
{
  g_autoptr(MoatEvent) event = make_event ("content.c2", MOAT_SEVERITY_HIGH, "cc.example",
                                           "blocked");
  g_autoptr(GError) error = NULL;
  g_autoptr(GDBusConnection) session = NULL;
  g_autoptr(GVariant) reply = NULL;
  NotifyCall *first, *second, *third;

  moat_notifier_add_event (fixture->notifier, event, MOAT_NOTIFY_FLAGS_NONE);
  wait_for_group (fixture);
  moat_notifier_add_event (fixture->notifier, event, MOAT_NOTIFY_FLAGS_NONE);
  moat_notifier_add_event (fixture->notifier, event, MOAT_NOTIFY_FLAGS_NONE);
  wait_for_group (fixture);
  g_assert_cmpuint (fixture->calls->len, ==, 2);
  first = g_ptr_array_index (fixture->calls, 0);
  second = g_ptr_array_index (fixture->calls, 1);
  g_assert_cmpuint (first->id, !=, 0);
  /* Still on screen: replaced, not stacked. */
  g_assert_cmpuint (second->replaces_id, ==, first->id);
  g_assert_cmpstr (second->summary, ==, "Moat blocked 2 requests");

  /* Closed by the user: the next group gets a new notification. */
  g_dbus_connection_emit_signal (fixture->server, NULL, "/org/freedesktop/Notifications",
                                 "org.freedesktop.Notifications", "NotificationClosed",
                                 g_variant_new ("(uu)", first->id, 2), &error);
  g_assert_no_error (error);
  g_dbus_connection_flush_sync (fixture->server, NULL, &error);
  g_assert_no_error (error);
  /* A round trip on libnotify's connection: the signal is queued on the main
   * context before the reply comes back, so draining the context handles it. */
  session = g_bus_get_sync (G_BUS_TYPE_SESSION, NULL, &error);
  g_assert_no_error (error);
  reply = g_dbus_connection_call_sync (session, g_dbus_connection_get_unique_name (fixture->server),
                                       "/", "org.freedesktop.DBus.Peer", "Ping", NULL, NULL,
                                       G_DBUS_CALL_FLAGS_NONE, -1, NULL, &error);
  g_assert_no_error (error);
  while (g_main_context_iteration (NULL, FALSE))
    ;

  moat_notifier_add_event (fixture->notifier, event, MOAT_NOTIFY_FLAGS_NONE);
  wait_for_group (fixture);
  g_assert_cmpuint (fixture->calls->len, ==, 3);
  third = g_ptr_array_index (fixture->calls, 2);
  g_assert_cmpuint (third->replaces_id, ==, 0);
}

static gboolean
has_activations (gpointer data)
{
  Fixture *fixture = data;

  return fixture->activated->len > 0;
}

static void
test_notifier_action (Fixture       *fixture,
                      gconstpointer  user_data)
{
  g_autoptr(MoatEvent) event = make_event ("content.phishing", MOAT_SEVERITY_HIGH,
                                           "bank.example", "blocked");
  g_autoptr(GError) error = NULL;
  NotifyCall *call;
  moat_notifier_add_event (fixture->notifier, event, MOAT_NOTIFY_FLAGS_NONE);
  wait_for_group (fixture);
  g_assert_cmpuint (fixture->calls->len, ==, 1);
  call = g_ptr_array_index (fixture->calls, 0);

  g_dbus_connection_emit_signal (fixture->server, NULL, "/org/freedesktop/Notifications",
                                 "org.freedesktop.Notifications", "ActionInvoked",
                                 g_variant_new ("(us)", call->id, "default"), &error);
  g_assert_no_error (error);

  moat_test_wait_until (has_activations, fixture);
  g_assert_cmpuint (fixture->activated->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (fixture->activated, 0), ==,
                   MOAT_NOTIFIER_ACTION_SHOW_ACTIVITY);
}

static void
on_allow_once_cb (MoatNotifier *notifier, const char *host, GPtrArray *hosts)
{
  g_ptr_array_add (hosts, g_strdup (host));
}

static gboolean
has_allowed (gpointer data)
{
  return ((GPtrArray *) data)->len > 0;
}

/* Blocks of one host offer "Allow Once", which names that host. */
static void
test_notifier_allow_once (Fixture       *fixture,
                          gconstpointer  user_data)
{
  g_autoptr(GPtrArray) hosts = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GError) error = NULL;
  NotifyCall *call;

  g_signal_connect (fixture->notifier, "allow-once-requested", G_CALLBACK (on_allow_once_cb), hosts);
  for (guint i = 0; i < 3; i++)
    {
      g_autoptr(MoatEvent) event = make_event ("content.malware", MOAT_SEVERITY_HIGH,
                                               "cdn.evil.example", "blocked");

      moat_notifier_add_event (fixture->notifier, event, MOAT_NOTIFY_FLAGS_NONE);
    }
  wait_for_group (fixture);
  g_assert_cmpuint (fixture->calls->len, ==, 1);
  call = g_ptr_array_index (fixture->calls, 0);
  g_assert_true (g_strv_contains ((const char * const *) call->actions,
                                  MOAT_NOTIFIER_ACTION_ALLOW_ONCE));

  g_dbus_connection_emit_signal (fixture->server, NULL, "/org/freedesktop/Notifications",
                                 "org.freedesktop.Notifications", "ActionInvoked",
                                 g_variant_new ("(us)", call->id, MOAT_NOTIFIER_ACTION_ALLOW_ONCE),
                                 &error);
  g_assert_no_error (error);
  moat_test_wait_until (has_allowed, hosts);
  g_assert_cmpuint (hosts->len, ==, 1);
  g_assert_cmpstr (g_ptr_array_index (hosts, 0), ==, "cdn.evil.example");
  /* Allowing does not open the GUI. */
  g_assert_cmpuint (fixture->activated->len, ==, 0);
}

static void
test_notifier_no_server (Fixture       *fixture,
                         gconstpointer  user_data)
{
  g_autoptr(MoatEvent) event = make_event ("content.malware", MOAT_SEVERITY_HIGH,
                                           "evil.example", "blocked");

  /* Nobody owns org.freedesktop.Notifications: logged at debug level, no
   * warning (warnings are fatal here), and the notifier carries on. */
  moat_notifier_add_event (fixture->notifier, event, MOAT_NOTIFY_FLAGS_NONE);
  wait_for_group (fixture);
  moat_notifier_add_event (fixture->notifier, event, MOAT_NOTIFY_FLAGS_NONE);
  wait_for_group (fixture);
  g_assert_cmpuint (fixture->groups_shown, ==, 2);
  g_assert_cmpuint (fixture->groups_delivered, ==, 0);
  g_assert_cmpuint (fixture->calls->len, ==, 0);
}

static gboolean
has_n_calls (gpointer data)
{
  Fixture *fixture = data;

  return fixture->calls->len >= fixture->expected_calls;
}

/* Incidents are never grouped: each gets a notification of its own, at once,
 * even while a group is being collected, and even at a low severity. */
static void
test_notifier_incidents (Fixture       *fixture,
                         gconstpointer  user_data)
{
  g_autoptr(MoatEvent) event = make_event ("content.c2", MOAT_SEVERITY_HIGH, "cc.example",
                                           "blocked");
  NotifyCall *first, *second;

  moat_notifier_add_event (fixture->notifier, event, MOAT_NOTIFY_FLAGS_NONE);
  moat_notifier_notify_incident (fixture->notifier, "TLS interception detected",
                                 "On Cafe. Your organization’s resources are blocked until the "
                                 "network is safe.", MOAT_SEVERITY_HIGH);
  moat_notifier_notify_incident (fixture->notifier, "Open Wi-Fi detected", "On Cafe.",
                                 MOAT_SEVERITY_LOW);
  fixture->expected_calls = 2;
  moat_test_wait_until (has_n_calls, fixture);
  first = g_ptr_array_index (fixture->calls, 0);
  second = g_ptr_array_index (fixture->calls, 1);
  /* A failed delivery is tried again, so the order may change. */
  if (g_str_equal (first->summary, "Open Wi-Fi detected"))
    {
      NotifyCall *swap = first;

      first = second;
      second = swap;
    }
  g_assert_cmpstr (first->summary, ==, "TLS interception detected");
  g_assert_nonnull (strstr (first->body, "blocked until the network is safe"));
  g_assert_cmpuint (first->replaces_id, ==, 0);
  g_assert_cmpstr (second->summary, ==, "Open Wi-Fi detected");
  g_assert_cmpuint (second->replaces_id, ==, 0);
  g_assert_cmpuint (second->urgency, ==, 1 /* normal: Moat acted on the user's network */);
  g_assert_true (g_strv_contains ((const char * const *) first->actions,
                                  MOAT_NOTIFIER_ACTION_SHOW_ACTIVITY));
  /* The group being collected is not disturbed. */
  wait_for_group (fixture);
  g_assert_cmpuint (fixture->calls->len, ==, 3);

  g_settings_set_boolean (fixture->settings, "notifications-enabled", FALSE);
  moat_notifier_notify_incident (fixture->notifier, "x", "y", MOAT_SEVERITY_CRITICAL);
  /* Dropped at once: nothing queued, nothing in flight. */
  while (g_main_context_iteration (NULL, FALSE))
    ;
  g_assert_cmpuint (fixture->calls->len, ==, 3);
}

static void
test_notifier_titles (void)
{
  g_autoptr(MoatEvent) blocked = make_event ("content.malware", MOAT_SEVERITY_HIGH,
                                             "evil.example", "blocked");
  g_autoptr(MoatEvent) detected = make_event ("network.arp_spoof", MOAT_SEVERITY_HIGH,
                                              "192.0.2.1", "notified");
  g_autoptr(MoatEvent) recovered = make_event ("moat.store_recovered", MOAT_SEVERITY_MEDIUM,
                                               "/x/moat.db", "moved_aside");
  g_autofree char *t1 = moat_notifier_format_title (1, 1, blocked);
  g_autofree char *t2 = moat_notifier_format_title (1, 0, detected);
  g_autofree char *t3 = moat_notifier_format_title (3, 1, blocked);
  g_autofree char *t4 = moat_notifier_format_title (1, 0, recovered);

  g_assert_cmpstr (t1, ==, "Moat blocked evil.example");
  g_assert_cmpstr (t2, ==, "Threat detected: ARP spoofing");
  g_assert_cmpstr (t3, ==, "Moat detected 3 threats");
  g_assert_cmpstr (t4, ==, "Moat’s event history was damaged");
  g_assert_cmpstr (moat_notifier_threat_name ("vector.unknown"), ==, "vector.unknown");
}

int
main (int   argc,
      char *argv[])
{
  int status;

  g_test_init (&argc, &argv, NULL);

  test_bus = g_test_dbus_new (G_TEST_DBUS_NONE);
  g_test_dbus_up (test_bus);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/moat/notifier/burst", test_notifier_burst);
  ADD ("/moat/notifier/below-min-severity", test_notifier_below_min_severity);
  ADD ("/moat/notifier/always-and-disabled", test_notifier_always_and_disabled);
  ADD ("/moat/notifier/replaces", test_notifier_replaces);
  ADD ("/moat/notifier/action", test_notifier_action);
  ADD ("/moat/notifier/allow-once", test_notifier_allow_once);
  ADD ("/moat/notifier/incidents", test_notifier_incidents);
#undef ADD
  g_test_add ("/moat/notifier/no-server", Fixture, "no-server", fixture_set_up,
              test_notifier_no_server, fixture_tear_down);
  g_test_add_func ("/moat/notifier/titles", test_notifier_titles);

  status = g_test_run ();

  /* libnotify keeps the session bus connection for good, so stop the bus without
   * waiting for that connection to go (g_test_dbus_down, and unreffing the
   * GTestDBus, would wait for it and time out). */
  g_test_dbus_stop (test_bus);
  return status;
}
