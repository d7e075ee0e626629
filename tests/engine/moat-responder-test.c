/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#include "config.h"

#include "moat-error.h"
#include "moat-responder.h"
#include "moat-test-utils.h"

#include <string.h>

/*
 * The responder's state machine, against a network whose answers the test
 * decides (the real NetworkManager is tested in a namespace): fallbacks, a
 * VPN shared by two threats, a VPN that drops, a restart that finds a VPN
 * nobody needs, a policy change, one notification per incident.
 */

/* ---- a network that does what the test says ---- */

#define TEST_TYPE_NETWORK (test_network_get_type ())
G_DECLARE_FINAL_TYPE (TestNetwork, test_network, TEST, NETWORK, MoatNetwork)

struct _TestNetwork
{
  MoatNetwork  parent_instance;
  gboolean     vpn_works;
  gboolean     hold;          /* keep activations pending until released */
  GPtrArray   *calls;         /* "up NAME", "down NAME", "wifi" */
  GPtrArray   *held;          /* GTask, pending activations */
};

G_DEFINE_FINAL_TYPE (TestNetwork, test_network, MOAT_TYPE_NETWORK)

static void
test_activate_vpn_async (MoatNetwork *network, const char *name, guint timeout_s,
                         GCancellable *cancellable, GAsyncReadyCallback callback,
                         gpointer user_data)
{
  TestNetwork *self = TEST_NETWORK (network);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_ptr_array_add (self->calls, g_strdup_printf ("up %s", name));
  if (self->hold)
    {
      g_ptr_array_add (self->held, g_steal_pointer (&task));
      return;
    }
  if (self->vpn_works)
    g_task_return_boolean (task, TRUE);
  else
    g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_FAILED, "the VPN server did not answer");
}

static void
test_deactivate_vpn_async (MoatNetwork *network, const char *name, GCancellable *cancellable,
                           GAsyncReadyCallback callback, gpointer user_data)
{
  TestNetwork *self = TEST_NETWORK (network);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_ptr_array_add (self->calls, g_strdup_printf ("down %s", name));
  g_task_return_boolean (task, TRUE);
}

static void
test_disconnect_wifi_async (MoatNetwork *network, const char *ssid, GCancellable *cancellable,
                            GAsyncReadyCallback callback, gpointer user_data)
{
  TestNetwork *self = TEST_NETWORK (network);
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);

  g_ptr_array_add (self->calls, g_strdup ("wifi"));
  g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_NOT_FOUND, "no Wi-Fi device");
}

static gboolean
test_finish (MoatNetwork *network, GAsyncResult *result, GError **error)
{
  return g_task_propagate_boolean (G_TASK (result), error);
}

static void
test_network_finalize (GObject *object)
{
  TestNetwork *self = TEST_NETWORK (object);

  g_ptr_array_unref (self->calls);
  g_ptr_array_unref (self->held);
  G_OBJECT_CLASS (test_network_parent_class)->finalize (object);
}

static void
test_network_class_init (TestNetworkClass *klass)
{
  MoatNetworkClass *network_class = MOAT_NETWORK_CLASS (klass);

  G_OBJECT_CLASS (klass)->finalize = test_network_finalize;
  network_class->activate_vpn_async = test_activate_vpn_async;
  network_class->activate_vpn_finish = test_finish;
  network_class->deactivate_vpn_async = test_deactivate_vpn_async;
  network_class->deactivate_vpn_finish = test_finish;
  network_class->disconnect_wifi_async = test_disconnect_wifi_async;
  network_class->disconnect_wifi_finish = test_finish;
}

static void
test_network_init (TestNetwork *self)
{
  self->vpn_works = TRUE;
  self->calls = g_ptr_array_new_with_free_func (g_free);
  self->held = g_ptr_array_new_with_free_func (g_object_unref);
}

/* ---- fixture ---- */

typedef struct {
  TestNetwork   *network;
  MoatResponder *responder;
  char          *tmpdir;
  GPtrArray     *events;         /* "action-taken vpn_on_demand" */
  GPtrArray     *notifications;  /* "title|body" */
  gboolean       walled;
  gboolean       vpn_forbidden;  /* the user's switch */
  GString       *vpn_changes;    /* "+" up, "-" down, from ::vpn-changed */
  char          *blocked;        /* joined by "," */
  char          *gateway;
} Fixture;

static void
record_cb (MoatEvent *event, gpointer user_data)
{
  Fixture *f = user_data;
  g_autoptr(GError) error = NULL;
  const char *start = strstr (event->detail, "\"action\":");
  g_autofree char *action = NULL;

  g_assert_true (moat_event_validate (event, &error));
  g_assert_nonnull (start);
  start = strchr (start + strlen ("\"action\":"), '"') + 1;
  action = g_strndup (start, strchr (start, '"') - start);
  g_ptr_array_add (f->events, g_strdup_printf ("%s %s", event->action, action));
}

static void
set_protected_cb (gboolean walled, gpointer user_data)
{
  Fixture *f = user_data;

  g_assert_cmpint (walled, !=, f->walled);   /* only changes are passed on */
  f->walled = walled;
}

static gboolean
has_protected_cb (gpointer user_data)
{
  return FALSE;
}

static gboolean
action_allowed_cb (MoatAction action, gpointer user_data)
{
  Fixture *f = user_data;

  return !(action == MOAT_ACTION_VPN_ON_DEMAND && f->vpn_forbidden);
}

static void
set_blocked_cb (const char * const *hosts, gpointer user_data)
{
  Fixture *f = user_data;

  g_free (f->blocked);
  f->blocked = hosts != NULL ? g_strjoinv (",", (char **) hosts) : NULL;
}

static void
set_gateway_cb (const char *gateway, gpointer user_data)
{
  Fixture *f = user_data;

  g_free (f->gateway);
  f->gateway = g_strdup (gateway);
}

static void
notify_cb (const char *title, const char *body, MoatSeverity severity, gpointer user_data)
{
  Fixture *f = user_data;

  g_ptr_array_add (f->notifications, g_strdup_printf ("%s|%s", title, body));
}

static void
vpn_changed_cb (MoatResponder *responder, gboolean active, Fixture *f)
{
  g_string_append_c (f->vpn_changes, active ? '+' : '-');
}

static void
make_responder (Fixture *f)
{
  MoatResponderHooks hooks = {
    .record = record_cb,
    .set_protected = set_protected_cb,
    .has_protected = has_protected_cb,
    .action_allowed = action_allowed_cb,
    .set_blocked_hosts = set_blocked_cb,
    .set_gateway = set_gateway_cb,
    .notify = notify_cb,
    .user_data = f,
  };

  g_clear_object (&f->responder);
  f->responder = moat_responder_new (MOAT_NETWORK (f->network), &hooks, f->tmpdir);
  g_signal_connect (f->responder, "vpn-changed", G_CALLBACK (vpn_changed_cb), f);
}

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->tmpdir = g_dir_make_tmp ("moat-responder-test-XXXXXX", &error);
  g_assert_no_error (error);
  f->network = g_object_new (TEST_TYPE_NETWORK, NULL);
  f->events = g_ptr_array_new_with_free_func (g_free);
  f->notifications = g_ptr_array_new_with_free_func (g_free);
  f->vpn_changes = g_string_new (NULL);
  make_responder (f);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  g_clear_object (&f->responder);
  g_clear_object (&f->network);
  g_ptr_array_unref (f->events);
  g_ptr_array_unref (f->notifications);
  g_string_free (f->vpn_changes, TRUE);
  g_free (f->blocked);
  g_free (f->gateway);
  moat_test_remove_tree (f->tmpdir);
  g_free (f->tmpdir);
}

static void
set_policy (Fixture *f, const char *text)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatPolicy) policy = moat_policy_parse ("test.policy", text, -1, &error);

  g_assert_no_error (error);
  moat_responder_set_policy (f->responder, policy);
}

static gboolean
idle_cb (gpointer data)
{
  return moat_responder_is_idle (data);
}

static void
wait_idle (Fixture *f)
{
  /* Completions arrive from the main context; let every pending one run. */
  for (guint i = 0; i < 50; i++)
    g_main_context_iteration (NULL, FALSE);
  moat_test_wait_until (idle_cb, f->responder);
}

static gboolean
file_exists_cb (gpointer path)
{
  return g_file_test (path, G_FILE_TEST_EXISTS);
}

static gboolean
set_flag_cb (gpointer data)
{
  *(gboolean *) data = TRUE;
  return G_SOURCE_REMOVE;
}

/* Lets the main context run for @msec. */
static void
run_for (guint msec)
{
  gboolean done = FALSE;

  g_timeout_add (msec, set_flag_cb, &done);
  moat_test_wait_for (&done);
}

static char *
joined (GPtrArray *array)
{
  g_autoptr(GPtrArray) copy = g_ptr_array_copy (array, (GCopyFunc) g_strdup, NULL);

  g_ptr_array_set_free_func (copy, g_free);
  g_ptr_array_add (copy, NULL);
  return g_strjoinv ("; ", (char **) copy->pdata);
}

#define assert_joined(array, expected) \
  G_STMT_START { \
    g_autofree char *_j = joined (array); \
    g_assert_cmpstr (_j, ==, expected); \
  } G_STMT_END

static const MoatResponse *
response (GPtrArray *responses, guint i)
{
  g_assert_cmpuint (i, <, responses->len);
  return g_ptr_array_index (responses, i);
}

#define POLICY \
  "vpn = Work\n" \
  "protect = intranet.example.com\n" \
  "gateway = gw.example.com:8080\n" \
  "network.rogue_wifi: disconnect_wifi || block_protected_resources; notify\n" \
  "network.* >= medium: vpn_on_demand || block_protected_resources; notify\n" \
  "network.*: notify\n" \
  "content.c2: block_host; route_via_gateway\n"

/* The VPN comes up for the threat and goes down when it clears. */
static void
test_vpn_on_demand (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) responses = NULL;
  g_autofree char *state = NULL;
  g_autofree char *state_path = g_build_filename (f->tmpdir, MOAT_RESPONDER_STATE_FILENAME, NULL);

  set_policy (f, POLICY);
  moat_responder_start (f->responder);
  wait_idle (f);
  moat_responder_threat_raised (f->responder, "network.tls_interception", MOAT_SEVERITY_HIGH,
                                "Cafe");
  wait_idle (f);
  assert_joined (f->network->calls, "up Work");
  assert_joined (f->events, "action-taken vpn_on_demand");
  g_assert_false (f->walled);
  responses = moat_responder_get_responses (f->responder);
  g_assert_cmpuint (responses->len, ==, 2);
  g_assert_cmpint (response (responses, 0)->action, ==, MOAT_ACTION_VPN_ON_DEMAND);
  g_assert_cmpint (response (responses, 0)->state, ==, MOAT_RESPONSE_IN_EFFECT);
  g_assert_cmpint (response (responses, 1)->state, ==, MOAT_RESPONSE_DONE);
  /* One notification, saying what Moat did. */
  assert_joined (f->notifications, "TLS interception detected|On Cafe. Moat connected the VPN "
                                   "“Work” until the network is safe.");

  /* Which VPN Moat raised is on disk, for a restart. */
  moat_test_wait_until (file_exists_cb, state_path);
  g_assert_true (g_file_get_contents (state_path, &state, NULL, NULL));
  g_assert_cmpstr (state, ==, "{\"vpn\":\"Work\"}");

  moat_responder_threat_cleared (f->responder, "network.tls_interception", "Cafe");
  wait_idle (f);
  assert_joined (f->network->calls, "up Work; down Work");
  assert_joined (f->events, "action-taken vpn_on_demand; action-reverted vpn_on_demand");
  g_assert_cmpuint (f->notifications->len, ==, 1);
  /* The network checks were told when the tunnel carried the traffic. */
  g_assert_cmpstr (f->vpn_changes->str, ==, "+-");
}

/* The VPN fails: the protected resources are walled off instead, and the
 * wall goes with the threat. */
static void
test_fallback (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) responses = NULL;

  f->network->vpn_works = FALSE;
  set_policy (f, POLICY);
  moat_responder_start (f->responder);
  moat_responder_threat_raised (f->responder, "network.dns_hijack", MOAT_SEVERITY_HIGH, "Hotel");
  wait_idle (f);
  g_assert_true (f->walled);
  assert_joined (f->events, "action-failed vpn_on_demand; action-taken block_protected_resources");
  responses = moat_responder_get_responses (f->responder);
  g_assert_cmpint (response (responses, 0)->action, ==, MOAT_ACTION_BLOCK_PROTECTED_RESOURCES);
  g_assert_cmpint (response (responses, 0)->state, ==, MOAT_RESPONSE_IN_EFFECT);
  g_assert_cmpstr (response (responses, 0)->reason, ==, "the VPN server did not answer");
  g_assert_cmpuint (f->notifications->len, ==, 1);
  g_assert_nonnull (strstr (g_ptr_array_index (f->notifications, 0),
                            "The VPN could not connect (the VPN server did not answer). Your "
                            "organization’s resources are blocked until the network is safe."));

  moat_responder_threat_cleared (f->responder, "network.dns_hijack", "Hotel");
  wait_idle (f);
  g_assert_false (f->walled);
  /* The VPN never came up, so it is never taken down. */
  assert_joined (f->network->calls, "up Work");
}

/* Two threats share one VPN: it stays up until the last one clears. */
static void
test_shared_vpn (Fixture *f, gconstpointer data)
{
  set_policy (f, POLICY);
  moat_responder_start (f->responder);
  f->network->hold = TRUE;
  moat_responder_threat_raised (f->responder, "network.tls_interception", MOAT_SEVERITY_HIGH, "A");
  moat_responder_threat_raised (f->responder, "network.arp_spoof", MOAT_SEVERITY_HIGH, "A");
  g_assert_false (moat_responder_is_idle (f->responder));
  /* Both wait for the one activation. */
  g_assert_cmpuint (f->network->held->len, ==, 1);
  g_assert_cmpuint (f->notifications->len, ==, 0);
  g_task_return_boolean (g_ptr_array_index (f->network->held, 0), TRUE);
  wait_idle (f);
  assert_joined (f->events, "action-taken vpn_on_demand; action-taken vpn_on_demand");
  g_assert_cmpuint (f->notifications->len, ==, 2);

  moat_responder_threat_cleared (f->responder, "network.tls_interception", "A");
  wait_idle (f);
  assert_joined (f->network->calls, "up Work");
  moat_responder_threat_cleared (f->responder, "network.arp_spoof", "A");
  wait_idle (f);
  assert_joined (f->network->calls, "up Work; down Work");
}

/* The VPN drops while a threat needs it: the chain falls back. */
static void
test_vpn_drops (Fixture *f, gconstpointer data)
{
  set_policy (f, POLICY);
  moat_responder_start (f->responder);
  moat_responder_threat_raised (f->responder, "network.ssl_strip", MOAT_SEVERITY_HIGH, "B");
  wait_idle (f);
  g_assert_false (f->walled);
  moat_network_emit_vpn_down (MOAT_NETWORK (f->network), "Work");
  wait_idle (f);
  g_assert_true (f->walled);
  assert_joined (f->events, "action-taken vpn_on_demand; action-failed vpn_on_demand; "
                            "action-taken block_protected_resources");
}

/* moatd restarts with a VPN it raised and no threat: the VPN goes down. */
static void
test_restart (Fixture *f, gconstpointer data)
{
  g_autofree char *state_path = g_build_filename (f->tmpdir, MOAT_RESPONDER_STATE_FILENAME, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (state_path, "{\"vpn\": \"Work\"}", -1, &error);
  g_assert_no_error (error);
  set_policy (f, POLICY);
  moat_responder_start (f->responder);
  run_for (200);
  wait_idle (f);
  assert_joined (f->network->calls, "down Work");
  assert_joined (f->events, "action-reverted vpn_on_demand");

  /* A damaged state file is ignored. */
  g_ptr_array_set_size (f->network->calls, 0);
  g_ptr_array_set_size (f->events, 0);
  g_file_set_contents (state_path, "{\"vpn\": [", -1, &error);
  g_assert_no_error (error);
  make_responder (f);
  set_policy (f, POLICY);
  g_test_expect_message ("moat-engine", G_LOG_LEVEL_WARNING, "Ignoring *");
  moat_responder_start (f->responder);
  run_for (200);
  g_test_assert_expected_messages ();
  g_assert_cmpuint (f->network->calls->len, ==, 0);
}

/* Actions that cannot run fail with a reason and their fallback runs; a
 * one-off action that fails falls back too. */
static void
test_preconditions (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) responses = NULL;

  /* No vpn, no protect: both fail; notify still tells. */
  set_policy (f, "network.*: vpn_on_demand || block_protected_resources; notify\n");
  moat_responder_threat_raised (f->responder, "network.tls_interception", MOAT_SEVERITY_HIGH, "C");
  wait_idle (f);
  responses = moat_responder_get_responses (f->responder);
  g_assert_cmpint (response (responses, 0)->state, ==, MOAT_RESPONSE_FAILED);
  g_assert_cmpint (response (responses, 0)->action, ==, MOAT_ACTION_BLOCK_PROTECTED_RESOURCES);
  assert_joined (f->events, "action-failed vpn_on_demand; action-failed block_protected_resources");
  g_assert_cmpuint (f->network->calls->len, ==, 0);
  g_assert_cmpuint (f->notifications->len, ==, 1);

  /* A rogue Wi-Fi: leaving it fails here, so the wall goes up. */
  set_policy (f, POLICY);
  g_ptr_array_set_size (f->events, 0);
  moat_responder_threat_raised (f->responder, "network.rogue_wifi", MOAT_SEVERITY_HIGH, "Corp");
  wait_idle (f);
  assert_joined (f->events, "action-failed disconnect_wifi; action-taken block_protected_resources");
  g_assert_true (f->walled);
}

/* block_host and route_via_gateway hold while the threat lasts. */
static void
test_block_host (Fixture *f, gconstpointer data)
{
  set_policy (f, POLICY);
  moat_responder_threat_raised (f->responder, "content.c2", MOAT_SEVERITY_HIGH, "evil.example");
  moat_responder_threat_raised (f->responder, "content.c2", MOAT_SEVERITY_HIGH, "bad.example");
  wait_idle (f);
  g_assert_cmpstr (f->blocked, ==, "bad.example,evil.example");
  g_assert_cmpstr (f->gateway, ==, "gw.example.com:8080");
  /* No notify in the rule, but Moat acted: the user is told anyway. */
  g_assert_cmpuint (f->notifications->len, ==, 2);
  moat_responder_threat_cleared (f->responder, "content.c2", "evil.example");
  g_assert_cmpstr (f->blocked, ==, "bad.example");
  g_assert_cmpstr (f->gateway, ==, "gw.example.com:8080");
  moat_responder_threat_cleared (f->responder, "content.c2", "bad.example");
  g_assert_null (f->blocked);
  g_assert_null (f->gateway);
}

/* A new policy restarts the responses whose rule changed, and keeps the others. */
static void
test_policy_change (Fixture *f, gconstpointer data)
{
  set_policy (f, POLICY);
  moat_responder_start (f->responder);
  moat_responder_threat_raised (f->responder, "network.tls_interception", MOAT_SEVERITY_HIGH, "D");
  wait_idle (f);
  g_assert_false (f->walled);
  set_policy (f, "protect = intranet.example.com\nnetwork.*: block_protected_resources\n");
  wait_idle (f);
  g_assert_true (f->walled);
  assert_joined (f->network->calls, "up Work; down Work");
  assert_joined (f->events, "action-taken vpn_on_demand; action-reverted vpn_on_demand; "
                            "action-taken block_protected_resources");
  /* The same rule again: nothing moves. */
  set_policy (f, "protect = intranet.example.com\nnetwork.*: block_protected_resources\n");
  wait_idle (f);
  g_assert_cmpuint (f->events->len, ==, 3);
}

/* The user turns VPN on demand off: the fallback runs at once; back on,
 * the VPN comes up and the wall goes. */
static void
test_switch (Fixture *f, gconstpointer data)
{
  g_autoptr(GPtrArray) responses = NULL;

  set_policy (f, POLICY);
  moat_responder_start (f->responder);
  f->vpn_forbidden = TRUE;
  moat_responder_threat_raised (f->responder, "network.arp_spoof", MOAT_SEVERITY_HIGH, "E");
  wait_idle (f);
  g_assert_true (f->walled);
  g_assert_cmpuint (f->network->calls->len, ==, 0);
  responses = moat_responder_get_responses (f->responder);
  g_assert_cmpstr (response (responses, 0)->reason, ==, "it is turned off in Moat’s preferences");

  f->vpn_forbidden = FALSE;
  moat_responder_reconsider (f->responder, MOAT_ACTION_VPN_ON_DEMAND);
  wait_idle (f);
  g_assert_false (f->walled);
  assert_joined (f->network->calls, "up Work");
  assert_joined (f->events, "action-failed vpn_on_demand; action-taken block_protected_resources; "
                            "action-reverted block_protected_resources; "
                            "action-taken vpn_on_demand");
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("/moat/responder/vpn-on-demand", test_vpn_on_demand);
  ADD ("/moat/responder/fallback", test_fallback);
  ADD ("/moat/responder/shared-vpn", test_shared_vpn);
  ADD ("/moat/responder/vpn-drops", test_vpn_drops);
  ADD ("/moat/responder/restart", test_restart);
  ADD ("/moat/responder/preconditions", test_preconditions);
  ADD ("/moat/responder/block-host", test_block_host);
  ADD ("/moat/responder/policy-change", test_policy_change);
  ADD ("/moat/responder/switch", test_switch);
#undef ADD

  return g_test_run ();
}
