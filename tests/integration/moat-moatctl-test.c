/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-moatctl-test"

#include "config.h"

#include "moat-enums.h"
#include "moat-test-harness.h"

#include <json-glib/json-glib.h>
#include <signal.h>
#include <string.h>

#define UNREACHABLE_LINE "moatctl: The Moat engine (moatd) is not running and could not be started.\n"

typedef struct {
  MoatHarness h;
  gboolean    ready;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->ready = moat_harness_set_up (&f->h, GPOINTER_TO_UINT (data));
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  moat_harness_tear_down (&f->h);
}

static JsonNode *
parse_json (const char *text)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  json_parser_load_from_data (parser, text, -1, &error);
  g_assert_no_error (error);
  return json_node_copy (json_parser_get_root (parser));
}

static char *
format_utc (gint64 usec)
{
  g_autoptr(GDateTime) secs = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);
  g_autoptr(GDateTime) dt = g_date_time_add (secs, usec % G_USEC_PER_SEC);

  return g_date_time_format (dt, "%Y-%m-%dT%H:%M:%S.%fZ");
}

/* ---- status ---- */

static gboolean
proxy_running_cb (gpointer data)
{
  const char *address = moat_dbus_moat1_get_proxy_address (data);

  return address != NULL && address[0] != '\0';
}

static void
test_status (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *human = NULL;
  g_autofree char *start = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;
  const char *state;

  if (!f->ready)
    return;
  moat_harness_start_moatd (&f->h);
  /* Flush returns once the store is open and has committed: StoreState is "ok". */
  moat_harness_add_events (&f->h, g_variant_new_array (G_VARIANT_TYPE ("(xssssss)"), NULL, 0));
  /* The proxy starts once the lists are loaded; compare a settled state. */
  g_assert_true (moat_harness_spin_until (proxy_running_cb, f->h.proxy, 30));

  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, "status", "--json", NULL), ==, 0);
  g_assert_cmpstr (err, ==, "");
  root = parse_json (out);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  object = json_node_get_object (root);
  g_assert_cmpuint (json_object_get_size (object), ==, 13);
  g_assert_cmpstr (json_object_get_string_member (object, "version"), ==, PACKAGE_VERSION);
  state = json_object_get_string_member (object, "protection_state");
  g_assert_true (moat_protection_state_from_string (state, NULL));
  g_assert_cmpstr (state, ==, moat_dbus_moat1_get_protection_state (f->h.proxy));
  g_assert_cmpstr (json_object_get_string_member (object, "protection_summary"), ==,
                   moat_dbus_moat1_get_protection_summary (f->h.proxy));
  g_assert_true (moat_risk_level_from_string (json_object_get_string_member (object, "risk_level"),
                                              NULL));
  g_assert_cmpstr (json_object_get_string_member (object, "risk_level"), ==,
                   moat_dbus_moat1_get_risk_level (f->h.proxy));
  g_assert_true (json_object_has_member (object, "proxy_address"));
  if (moat_dbus_moat1_get_proxy_address (f->h.proxy)[0] == '\0')
    g_assert_true (json_object_get_null_member (object, "proxy_address"));
  else
    g_assert_cmpstr (json_object_get_string_member (object, "proxy_address"), ==,
                     moat_dbus_moat1_get_proxy_address (f->h.proxy));
  g_assert_cmpstr (json_object_get_string_member (object, "store_state"), ==, "ok");
  g_assert_true (json_object_get_null_member (object, "store_message"));
  /* The proxy's counters are numbers while it runs, null otherwise. */
  {
    const char *counters[] = { "proxy_requests", "proxy_tunnels", "proxy_blocked",
                               "proxy_errors", "proxy_connections" };
    gboolean running = !json_object_get_null_member (object, "proxy_address");

    for (guint i = 0; i < G_N_ELEMENTS (counters); i++)
      {
        JsonNode *member = json_object_get_member (object, counters[i]);

        g_assert_nonnull (member);
        if (running)
          g_assert_cmpint (json_node_get_value_type (member), ==, G_TYPE_INT64);
        else
          g_assert_true (JSON_NODE_HOLDS_NULL (member));
      }
  }
  start = format_utc (moat_dbus_moat1_get_start_time (f->h.proxy));
  g_assert_cmpstr (json_object_get_string_member (object, "start_time"), ==, start);

  g_assert_cmpint (moat_harness_moatctl (&f->h, &human, NULL, "status", NULL), ==, 0);
  g_assert_nonnull (strstr (human, "Protection:"));
  g_assert_nonnull (strstr (human, "Event store:"));
  g_assert_nonnull (strstr (human, PACKAGE_VERSION));
}

/* ---- events ---- */

#define N_SEEDED 2500
#define N_RECENT 500   /* the last N_RECENT are from the last ten minutes */

static const char *const seed_threats[] = {
  "content.malware", "network.tls_interception", "content.phishing", "os.rooted",
  "network.dns_hijack", "app.sideloaded", "content.c2",
};
static const char *const seed_sources[] = { "proxy", "detector", "health", "device", "engine" };
static const char *const seed_severities[] = { "info", "low", "medium", "high", "critical" };

typedef struct {
  gint64 time;
  char  *threat;
  char  *severity;
  char  *source;
  char  *subject;
  char  *action;
  char  *detail;
} Seed;

static void
seed_clear (Seed *s)
{
  g_free (s->threat);
  g_free (s->severity);
  g_free (s->source);
  g_free (s->subject);
  g_free (s->action);
  g_free (s->detail);
}

/* Seeds N_SEEDED events: old ones 3 h ago, one a second, then N_RECENT from
 * ten minutes ago, so "--since 1h" has a wide margin on both sides. */
static Seed *
seed_events (Fixture *f, gint64 *out_first_id)
{
  Seed *seeds = g_new0 (Seed, N_SEEDED);
  gint64 now = g_get_real_time ();
  g_autofree char *before = NULL;
  g_autofree char *out = NULL;
  g_autoptr(JsonNode) root = NULL;

  for (guint start = 0; start < N_SEEDED; start += 500)
    {
      GVariantBuilder b;

      g_variant_builder_init (&b, G_VARIANT_TYPE ("a(xssssss)"));
      for (guint i = start; i < start + 500; i++)
        {
          Seed *s = &seeds[i];

          if (i < N_SEEDED - N_RECENT)
            s->time = now - G_GINT64_CONSTANT (3) * 3600 * G_USEC_PER_SEC + i * G_USEC_PER_SEC;
          else
            s->time = now - 600 * G_USEC_PER_SEC + (i - (N_SEEDED - N_RECENT)) * G_USEC_PER_SEC;
          s->time += 123;   /* microseconds survive the round trip */
          s->threat = g_strdup (seed_threats[i % G_N_ELEMENTS (seed_threats)]);
          s->severity = g_strdup (seed_severities[i % G_N_ELEMENTS (seed_severities)]);
          s->source = g_strdup (seed_sources[i % G_N_ELEMENTS (seed_sources)]);
          s->subject = g_strdup_printf ("s%u.example", i);
          s->action = g_strdup (i % 3 == 0 ? "blocked" : i % 3 == 1 ? "notified" : "");
          s->detail = g_strdup_printf ("{\"seq\":%u,\"tag\":\"t%u\"}", i, i % 10);
          g_variant_builder_add (&b, "(xssssss)", s->time, s->source, s->threat, s->severity,
                                 s->subject, s->action, s->detail);
        }
      moat_harness_add_events (&f->h, g_variant_builder_end (&b));
    }

  /* The store hands out ids in order; find the first one. */
  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, NULL, "events", "--json", "--limit",
                                         "1", "--until", (before = format_utc (seeds[0].time + 1)),
                                         NULL), ==, 0);
  root = parse_json (out);
  g_assert_cmpuint (json_array_get_length (json_node_get_array (root)), ==, 1);
  *out_first_id = json_object_get_int_member (
    json_array_get_object_element (json_node_get_array (root), 0), "id");
  return seeds;
}

typedef gboolean (*SeedMatch) (const Seed *s, guint i);

/* Runs moatctl events --json with @args and checks that it printed exactly
 * the seeded events that @match selects, the last @limit of them, oldest
 * first, each with its exact content. */
static void
check_events (Fixture *f, const Seed *seeds, gint64 first_id, SeedMatch match, guint limit,
              const char *const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GArray) expected = g_array_new (FALSE, FALSE, sizeof (guint));
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *cmdline = NULL;
  JsonArray *array;
  guint skip;

  for (guint i = 0; i < N_SEEDED; i++)
    if (match (&seeds[i], i))
      g_array_append_val (expected, i);
  skip = limit > 0 && expected->len > limit ? expected->len - limit : 0;

  g_ptr_array_add (argv, f->h.moatctl_path);
  g_ptr_array_add (argv, (gpointer) "events");
  g_ptr_array_add (argv, (gpointer) "--json");
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  cmdline = g_strjoinv (" ", (char **) argv->pdata);
  g_test_message ("%s: expecting %u events", cmdline, expected->len - skip);

  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpstr (err, ==, "");
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);

  root = parse_json (out);
  g_assert_true (JSON_NODE_HOLDS_ARRAY (root));
  array = json_node_get_array (root);
  g_assert_cmpuint (json_array_get_length (array), ==, expected->len - skip);
  for (guint k = 0; k < json_array_get_length (array); k++)
    {
      JsonObject *o = json_array_get_object_element (array, k);
      guint i = g_array_index (expected, guint, skip + k);
      const Seed *s = &seeds[i];
      g_autofree char *time = format_utc (s->time);
      JsonObject *detail;

      g_assert_cmpuint (json_object_get_size (o), ==, 9);
      g_assert_cmpint (json_object_get_int_member (o, "id"), ==, first_id + i);
      g_assert_cmpint (json_object_get_int_member (o, "time_us"), ==, s->time);
      g_assert_cmpstr (json_object_get_string_member (o, "time"), ==, time);
      g_assert_cmpstr (json_object_get_string_member (o, "source"), ==, s->source);
      g_assert_cmpstr (json_object_get_string_member (o, "threat"), ==, s->threat);
      g_assert_cmpstr (json_object_get_string_member (o, "severity"), ==, s->severity);
      g_assert_cmpstr (json_object_get_string_member (o, "subject"), ==, s->subject);
      g_assert_cmpstr (json_object_get_string_member (o, "action"), ==, s->action);
      detail = json_object_get_object_member (o, "detail");
      g_assert_nonnull (detail);
      g_assert_cmpint (json_object_get_int_member (detail, "seq"), ==, i);
    }
}

static gboolean
match_all (const Seed *s, guint i)
{
  return TRUE;
}

static gboolean
match_malware (const Seed *s, guint i)
{
  return g_str_equal (s->threat, "content.malware");
}

static gboolean
match_network (const Seed *s, guint i)
{
  return g_str_has_prefix (s->threat, "network.");
}

static gboolean
match_recent (const Seed *s, guint i)
{
  return i >= N_SEEDED - N_RECENT;
}

static gboolean
match_from_1000 (const Seed *s, guint i)
{
  return i >= 1000;
}

static gboolean
match_old_critical_proxy (const Seed *s, guint i)
{
  return i < N_SEEDED - N_RECENT && g_str_equal (s->severity, "critical") &&
         g_str_equal (s->source, "proxy");
}

static gboolean
match_high_up (const Seed *s, guint i)
{
  return g_str_equal (s->severity, "high") || g_str_equal (s->severity, "critical");
}

static gboolean
match_search (const Seed *s, guint i)
{
  return strstr (s->subject, "s12") == s->subject;
}

static void
test_events (Fixture *f, gconstpointer data)
{
  Seed *seeds;
  gint64 first_id = 0;
  g_autofree char *since_1000 = NULL;
  g_autofree char *until_recent = NULL;
  g_autofree char *human = NULL;
  g_auto(GStrv) lines = NULL;

  if (!f->ready)
    return;
  moat_harness_start_moatd (&f->h);
  seeds = seed_events (f, &first_id);
  since_1000 = format_utc (seeds[1000].time);
  until_recent = format_utc (seeds[N_SEEDED - N_RECENT].time);

  check_events (f, seeds, first_id, match_all, 20, (const char *const[]) { NULL });
  check_events (f, seeds, first_id, match_all, 0, (const char *const[]) { "--limit", "0", NULL });
  check_events (f, seeds, first_id, match_all, 1500,
                (const char *const[]) { "--limit", "1500", NULL });
  check_events (f, seeds, first_id, match_malware, 0,
                (const char *const[]) { "--kind", "content.malware", "--limit=0", NULL });
  check_events (f, seeds, first_id, match_network, 50,
                (const char *const[]) { "--kind", "network", "-n", "50", NULL });
  check_events (f, seeds, first_id, match_recent, 0,
                (const char *const[]) { "--since", "1h", "--limit", "0", NULL });
  check_events (f, seeds, first_id, match_from_1000, 0,
                (const char *const[]) { "--since", since_1000, "--limit", "0", NULL });
  check_events (f, seeds, first_id, match_old_critical_proxy, 0,
                (const char *const[]) { "--until", until_recent, "--severity", "critical",
                                        "--source", "proxy", "--limit", "0", NULL });
  check_events (f, seeds, first_id, match_high_up, 7,
                (const char *const[]) { "--severity", "high", "--limit", "7", NULL });
  check_events (f, seeds, first_id, match_search, 0,
                (const char *const[]) { "--search", "S12", "--limit", "0", NULL });

  /* The table: a header and one aligned line per event. */
  g_assert_cmpint (moat_harness_moatctl (&f->h, &human, NULL, "events", "--limit", "3", NULL), ==, 0);
  lines = g_strsplit (human, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 5);
  g_assert_true (g_str_has_prefix (lines[0], "TIME "));
  for (guint k = 1; k <= 3; k++)
    {
      const Seed *s = &seeds[N_SEEDED - 4 + k];

      g_assert_nonnull (strstr (lines[k], s->subject));
      g_assert_true (strstr (lines[k], s->severity) - lines[k] == strstr (lines[0], "SEVERITY") - lines[0]);
      g_assert_true (strstr (lines[k], s->threat) - lines[k] == strstr (lines[0], "THREAT") - lines[0]);
    }
  g_assert_cmpstr (lines[4], ==, "");

  for (guint i = 0; i < N_SEEDED; i++)
    seed_clear (&seeds[i]);
  g_free (seeds);
}

/* ---- follow ---- */

typedef struct {
  GDataInputStream *stream;
  GPtrArray        *lines;
  gboolean          eof;
} LineReader;

static void read_next (LineReader *reader);

static void
read_line_cb (GObject *object, GAsyncResult *result, gpointer data)
{
  LineReader *reader = data;
  g_autoptr(GError) error = NULL;
  char *line = g_data_input_stream_read_line_finish_utf8 (G_DATA_INPUT_STREAM (object), result,
                                                          NULL, &error);

  g_assert_no_error (error);
  if (line == NULL)
    {
      reader->eof = TRUE;
      return;
    }
  g_ptr_array_add (reader->lines, line);
  read_next (reader);
}

static void
read_next (LineReader *reader)
{
  g_data_input_stream_read_line_async (reader->stream, G_PRIORITY_DEFAULT, NULL, read_line_cb,
                                       reader);
}

typedef struct {
  LineReader *reader;
  guint       n;
} LineWait;

static gboolean
have_lines_cb (gpointer data)
{
  LineWait *wait = data;

  return wait->reader->lines->len >= wait->n || wait->reader->eof;
}

static void
add_numbered (Fixture *f, guint from, guint n)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE ("a(xssssss)"));
  for (guint i = from; i < from + n; i++)
    {
      g_autofree char *subject = g_strdup_printf ("f%u.example", i);

      g_variant_builder_add (&b, "(xssssss)", (gint64) 0, "proxy", "content.malware", "high",
                             subject, "blocked", "{}");
    }
  moat_harness_add_events (&f->h, g_variant_builder_end (&b));
}

static gboolean
exited_cb (gpointer data)
{
  return *(gboolean *) data;
}

static void
process_exited_cb (GObject *object, GAsyncResult *result, gpointer data)
{
  g_subprocess_wait_finish (G_SUBPROCESS (object), result, NULL);
  *(gboolean *) data = TRUE;
}

static void
test_follow (Fixture *f, gconstpointer data)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  LineReader reader = { NULL, lines, FALSE };
  LineWait wait = { &reader, 3 };
  gboolean exited = FALSE;
  gint64 previous = 0;

  if (!f->ready)
    return;
  moat_harness_start_moatd (&f->h);
  add_numbered (f, 0, 5);

  process = moat_harness_spawn_moatctl (&f->h, &error, "events", "--follow", "--json",
                                        "--limit", "3", "--kind", "content.*", NULL);
  g_assert_no_error (error);
  reader.stream = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  read_next (&reader);
  g_assert_true (moat_harness_spin_until (have_lines_cb, &wait, 30));
  g_assert_cmpuint (lines->len, ==, 3);

  /* Added afterwards, in bursts and one by one, plus some it must not show. */
  add_numbered (f, 5, 100);
  for (guint i = 105; i < 115; i++)
    add_numbered (f, i, 1);
  {
    GVariantBuilder b;

    g_variant_builder_init (&b, G_VARIANT_TYPE ("a(xssssss)"));
    g_variant_builder_add (&b, "(xssssss)", (gint64) 0, "detector", "network.arp_spoof", "high",
                           "lan", "notified", "{}");
    moat_harness_add_events (&f->h, g_variant_builder_end (&b));
  }
  add_numbered (f, 115, 10);

  wait.n = 3 + 120;
  g_assert_true (moat_harness_spin_until (have_lines_cb, &wait, 30));
  /* Give a duplicate the chance to show up before counting. */
  moat_harness_spin_for (500);
  g_assert_cmpuint (lines->len, ==, 123);
  for (guint k = 0; k < lines->len; k++)
    {
      g_autoptr(JsonNode) root = parse_json (g_ptr_array_index (lines, k));
      JsonObject *o = json_node_get_object (root);
      g_autofree char *subject = g_strdup_printf ("f%u.example", k + 2);
      gint64 id = json_object_get_int_member (o, "id");

      g_assert_cmpuint (json_object_get_size (o), ==, 9);
      g_assert_cmpstr (json_object_get_string_member (o, "subject"), ==, subject);
      g_assert_cmpint (id, >, previous);
      previous = id;
    }

  g_subprocess_send_signal (process, SIGINT);
  g_subprocess_wait_async (process, NULL, process_exited_cb, &exited);
  g_assert_true (moat_harness_spin_until (exited_cb, &exited, 30));
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  wait.n = G_MAXUINT;
  g_assert_true (moat_harness_spin_until (have_lines_cb, &wait, 30));
  g_assert_cmpuint (lines->len, ==, 123);
  g_clear_object (&reader.stream);
}

/* moatd killed and started again while moatctl follows: what the new one
 * records still arrives, once. */
static void
test_follow_restart (Fixture *f, gconstpointer data)
{
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) lines = g_ptr_array_new_with_free_func (g_free);
  LineReader reader = { NULL, lines, FALSE };
  LineWait wait = { &reader, 2 };
  gboolean exited = FALSE;

  if (!f->ready)
    return;
  moat_harness_start_moatd (&f->h);
  add_numbered (f, 0, 2);
  process = moat_harness_spawn_moatctl (&f->h, &error, "events", "-f", "--json", NULL);
  g_assert_no_error (error);
  reader.stream = g_data_input_stream_new (g_subprocess_get_stdout_pipe (process));
  read_next (&reader);
  g_assert_true (moat_harness_spin_until (have_lines_cb, &wait, 30));

  moat_harness_stop_moatd (&f->h, SIGKILL);
  moat_harness_start_moatd (&f->h);
  add_numbered (f, 2, 3);
  wait.n = 5;
  g_assert_true (moat_harness_spin_until (have_lines_cb, &wait, 30));
  moat_harness_spin_for (300);
  g_assert_cmpuint (lines->len, ==, 5);
  for (guint k = 0; k < lines->len; k++)
    {
      g_autoptr(JsonNode) root = parse_json (g_ptr_array_index (lines, k));
      g_autofree char *subject = g_strdup_printf ("f%u.example", k);

      g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "subject"), ==,
                       subject);
    }

  g_subprocess_send_signal (process, SIGTERM);
  g_subprocess_wait_async (process, NULL, process_exited_cb, &exited);
  g_assert_true (moat_harness_spin_until (exited_cb, &exited, 30));
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 0);
  g_clear_object (&reader.stream);
}

/* ---- usage, unreachable, activation ---- */

static void
check_usage (Fixture *f, const char *what, const char *const *args)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autoptr(GSubprocess) process = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_auto(GStrv) lines = NULL;

  g_ptr_array_add (argv, f->h.moatctl_path);
  for (guint i = 0; args[i] != NULL; i++)
    g_ptr_array_add (argv, (gpointer) args[i]);
  g_ptr_array_add (argv, NULL);
  process = g_subprocess_newv ((const char * const *) argv->pdata,
                               G_SUBPROCESS_FLAGS_STDOUT_PIPE | G_SUBPROCESS_FLAGS_STDERR_PIPE,
                               &error);
  g_assert_no_error (error);
  g_subprocess_communicate_utf8 (process, NULL, NULL, &out, &err, &error);
  g_assert_no_error (error);
  g_test_message ("%s: %s", what, err);
  g_assert_true (g_subprocess_get_if_exited (process));
  g_assert_cmpint (g_subprocess_get_exit_status (process), ==, 2);
  g_assert_cmpstr (out, ==, "");
  /* One sentence, then where to read more. */
  lines = g_strsplit (err, "\n", -1);
  g_assert_cmpuint (g_strv_length (lines), ==, 3);
  g_assert_true (g_str_has_prefix (lines[0], "moatctl: "));
  g_assert_true (g_str_has_suffix (lines[0], "."));
  g_assert_cmpstr (lines[1], ==, "Try “moatctl --help”.");
  g_assert_cmpstr (lines[2], ==, "");
}

static void
test_usage (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;

  if (!f->ready)
    return;
  check_usage (f, "no command", (const char *const[]) { NULL });
  check_usage (f, "unknown command", (const char *const[]) { "frobnicate", NULL });
  check_usage (f, "unknown option", (const char *const[]) { "events", "--frob", NULL });
  check_usage (f, "missing value", (const char *const[]) { "events", "--since", NULL });
  check_usage (f, "bad time", (const char *const[]) { "events", "--since", "banana", NULL });
  check_usage (f, "bad limit", (const char *const[]) { "events", "--limit", "-1", NULL });
  check_usage (f, "bad limit", (const char *const[]) { "events", "--limit", "ten", NULL });
  check_usage (f, "bad severity", (const char *const[]) { "events", "--severity", "dire", NULL });
  check_usage (f, "bad source", (const char *const[]) { "events", "--source", "moon", NULL });
  check_usage (f, "bad kind", (const char *const[]) { "events", "--kind", "Not A Threat", NULL });
  check_usage (f, "until before since",
               (const char *const[]) { "events", "--since", "1h", "--until", "2h", NULL });
  check_usage (f, "status option", (const char *const[]) { "status", "--follow", NULL });
  check_usage (f, "extra argument", (const char *const[]) { "status", "now", NULL });

  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, "--help", NULL), ==, 0);
  g_assert_cmpstr (err, ==, "");
  g_assert_true (g_str_has_prefix (out, "Usage:\n  moatctl [--json] status\n"));
  g_assert_nonnull (strstr (out, "Exit status:"));
  g_assert_nonnull (strstr (out, "Examples:"));
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, "--version", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "moatctl " PACKAGE_VERSION "\n");
  /* Nothing was started by any of this. */
  g_assert_false (moat_harness_name_has_owner (&f->h));
}

/* `policy check` parses the file itself: no moatd is started, exit status 0
 * for a valid policy, 1 with "FILE:LINE: reason" for a broken one. */
static void
test_policy_check (Fixture *f, gconstpointer data)
{
  g_autofree char *good = NULL;
  g_autofree char *bad = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *expected = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;

  if (!f->ready)
    return;
  good = g_build_filename (f->h.tmpdir, "good.policy", NULL);
  bad = g_build_filename (f->h.tmpdir, "bad.policy", NULL);
  g_assert_true (g_file_set_contents (good, "vpn = Work\n"
                                      "network.* >= medium: vpn_on_demand || "
                                      "block_protected_resources; notify\n"
                                      "content.c2: block_host\n", -1, NULL));
  g_assert_true (g_file_set_contents (bad, "# fine\nnetwork.*: notify\ncontent.*: shout\n", -1,
                                      NULL));

  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, "policy", "check", good, NULL), ==, 0);
  g_assert_cmpstr (err, ==, "");
  expected = g_strdup_printf ("%s: a valid policy with 2 rules\n", good);
  g_assert_cmpstr (out, ==, expected);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, "--json", "policy", "check", good,
                                         NULL), ==, 0);
  root = parse_json (out);
  object = json_node_get_object (root);
  g_assert_cmpstr (json_object_get_string_member (object, "file"), ==, good);
  g_assert_true (json_object_get_boolean_member (object, "valid"));
  g_assert_cmpint (json_object_get_int_member (object, "rules"), ==, 2);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_clear_pointer (&expected, g_free);

  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, "policy", "check", bad, NULL), ==, 1);
  g_assert_cmpstr (out, ==, "");
  expected = g_strdup_printf ("moatctl: %s:3: unknown action “shout” (known: vpn_on_demand, "
                              "block_protected_resources, route_via_gateway, disconnect_wifi, "
                              "disable_vpn, block_host, notify).\n", bad);
  g_assert_cmpstr (err, ==, expected);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  check_usage (f, "policy without check", (const char *const[]) { "policy", NULL });
  check_usage (f, "policy check without file", (const char *const[]) { "policy", "check", NULL });
  check_usage (f, "policy frob", (const char *const[]) { "policy", "frob", good, NULL });
  check_usage (f, "policy show FILE", (const char *const[]) { "policy", "show", good, NULL });
  check_usage (f, "policy load without file", (const char *const[]) { "policy", "load", NULL });
  g_assert_false (moat_harness_name_has_owner (&f->h));
}

/* `policy load` puts a policy in force through moatd, which keeps it across
 * a restart; a broken one is refused with FILE:LINE and the one in force
 * stays. */
static void
test_policy_load (Fixture *f, gconstpointer data)
{
  g_autofree char *good = NULL;
  g_autofree char *bad = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *expected = NULL;
  g_autoptr(JsonNode) root = NULL;
  JsonObject *object;

  if (!f->ready)
    return;
  good = g_build_filename (f->h.tmpdir, "good.policy", NULL);
  bad = g_build_filename (f->h.tmpdir, "bad.policy", NULL);
  g_assert_true (g_file_set_contents (good, "# company policy\nvpn = Work\n"
                                      "network.*   >= medium : vpn_on_demand||block_protected_resources;notify\n",
                                      -1, NULL));
  g_assert_true (g_file_set_contents (bad, "network.*: notify\nnetwork.x: block_host\n", -1,
                                      NULL));
  moat_harness_start_moatd (&f->h);

  /* The built-in default to begin with. */
  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, "policy", "show", NULL), ==, 0);
  g_assert_cmpstr (err, ==, "");
  g_assert_true (g_str_has_prefix (out, "# The policy in force: default\n"));
  g_assert_nonnull (strstr (out, "\nnetwork.* >= medium: vpn_on_demand || "
                                 "block_protected_resources; notify\n"));
  g_assert_cmpstr (moat_dbus_moat1_get_policy (f->h.proxy), ==, "default");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, "policy", "load", good, NULL), ==, 0);
  g_assert_cmpstr (err, ==, "");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* Refused whole; the policy in force stays. */
  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, "policy", "load", bad, NULL), ==, 1);
  expected = g_strdup_printf ("moatctl: %s:2: this rule never applies: the rule on line 1 comes "
                              "first and covers the same threats.\n", bad);
  g_assert_cmpstr (err, ==, expected);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);

  /* After a restart too. */
  moat_harness_stop_moatd (&f->h, SIGTERM);
  moat_harness_start_moatd (&f->h);
  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, "--json", "policy", "show", NULL), ==,
                   0);
  root = parse_json (out);
  object = json_node_get_object (root);
  g_assert_cmpstr (json_object_get_string_member (object, "name"), ==, good);
  g_assert_cmpstr (json_object_get_string_member (object, "text"), ==,
                   "vpn = Work\n"
                   "network.* >= medium: vpn_on_demand || block_protected_resources; notify\n");
}

static char *
status_risk (Fixture *f)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) root = NULL;

  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, "--json", "status", NULL), ==, 0);
  root = parse_json (out);
  return g_strdup (json_object_get_string_member (json_node_get_object (root), "risk_level"));
}

/* Active threats: raised and cleared (as a detector would, through the
 * Testing interface), listed by `moatctl threats`, and the risk level
 * follows the worst of them. */
static void
test_threats (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autofree char *risk = NULL;
  g_autoptr(JsonNode) root = NULL;
  g_autoptr(JsonNode) events = NULL;
  JsonArray *array;
  JsonObject *threat;
  guint detected = 0, cleared = 0;

  if (!f->ready)
    return;
  moat_harness_start_moatd (&f->h);

  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, "threats", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "No active threats.\n");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  risk = status_risk (f);
  g_assert_cmpstr (risk, ==, "none");
  g_clear_pointer (&risk, g_free);

  g_assert_true (moat_dbus_moat1_testing_call_raise_threat_sync (
    f->h.testing, "network.tls_interception", "high", "cafe-wifi",
    "{\"issuer\": \"Evil CA\"}", NULL, &error));
  g_assert_no_error (error);
  /* The same report again changes nothing. */
  g_assert_true (moat_dbus_moat1_testing_call_raise_threat_sync (
    f->h.testing, "network.tls_interception", "high", "cafe-wifi",
    "{\"issuer\": \"Evil CA\"}", NULL, &error));
  g_assert_no_error (error);

  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, "--json", "threats", NULL), ==, 0);
  root = parse_json (out);
  array = json_node_get_array (root);
  g_assert_cmpuint (json_array_get_length (array), ==, 1);
  threat = json_array_get_object_element (array, 0);
  g_assert_cmpstr (json_object_get_string_member (threat, "threat"), ==,
                   "network.tls_interception");
  g_assert_cmpstr (json_object_get_string_member (threat, "severity"), ==, "high");
  g_assert_cmpstr (json_object_get_string_member (threat, "subject"), ==, "cafe-wifi");
  g_assert_cmpstr (json_object_get_string_member (json_object_get_object_member (threat,
                                                                                 "evidence"),
                                                  "issuer"), ==, "Evil CA");
  g_assert_cmpint (json_object_get_int_member (threat, "since_us"), >, 0);
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  risk = status_risk (f);
  g_assert_cmpstr (risk, ==, "high");
  g_clear_pointer (&risk, g_free);

  /* Worse now: the risk follows. */
  g_assert_true (moat_dbus_moat1_testing_call_raise_threat_sync (
    f->h.testing, "network.tls_interception", "critical", "cafe-wifi", "{}", NULL, &error));
  g_assert_no_error (error);
  risk = status_risk (f);
  g_assert_cmpstr (risk, ==, "critical");
  g_clear_pointer (&risk, g_free);

  /* Bad reports are refused. */
  g_assert_false (moat_dbus_moat1_testing_call_raise_threat_sync (
    f->h.testing, "network.Bad Id", "high", "x", "{}", NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);
  g_assert_false (moat_dbus_moat1_testing_call_clear_threat_sync (
    f->h.testing, "network.dns_hijack", "cafe-wifi", NULL, &error));
  g_assert_nonnull (error);
  g_clear_error (&error);

  g_assert_true (moat_dbus_moat1_testing_call_clear_threat_sync (
    f->h.testing, "network.tls_interception", "cafe-wifi", NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, "threats", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "No active threats.\n");
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  risk = status_risk (f);
  g_assert_cmpstr (risk, ==, "none");

  /* Each change is an event: detected (twice: high, then critical), cleared. */
  g_assert_true (moat_dbus_moat1_testing_call_flush_sync (f->h.testing, NULL, &error));
  g_assert_no_error (error);
  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, "--json", "events", "--kind",
                                         "network.*", NULL), ==, 0);
  events = parse_json (out);
  array = json_node_get_array (events);
  for (guint i = 0; i < json_array_get_length (array); i++)
    {
      JsonObject *event = json_array_get_object_element (array, i);
      const char *action = json_object_get_string_member (event, "action");

      /* The policy's actions are the engine's events. */
      if (g_str_has_prefix (action, "action-"))
        {
          g_assert_cmpstr (json_object_get_string_member (event, "source"), ==, "engine");
          continue;
        }
      g_assert_cmpstr (json_object_get_string_member (event, "source"), ==, "detector");
      detected += g_str_equal (action, "detected");
      cleared += g_str_equal (action, "cleared");
    }
  g_assert_cmpuint (detected, ==, 2);
  g_assert_cmpuint (cleared, ==, 1);
}

static void
test_unreachable (Fixture *f, gconstpointer data)
{
  const char *const *cases[] = {
    (const char *const[]) { "status", NULL },
    (const char *const[]) { "status", "--json", NULL },
    (const char *const[]) { "events", NULL },
    (const char *const[]) { "events", "--follow", NULL },
  };

  if (!f->ready)
    return;
  for (guint c = 0; c < G_N_ELEMENTS (cases); c++)
    {
      g_autofree char *out = NULL;
      g_autofree char *err = NULL;
      const char *const *a = cases[c];

      g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, a[0], a[1], NULL), ==, 3);
      g_assert_cmpstr (out, ==, "");
      g_assert_cmpstr (err, ==, UNREACHABLE_LINE);
    }
}

static void
test_activation (Fixture *f, gconstpointer data)
{
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(JsonNode) root = NULL;

  if (!f->ready)
    return;
  g_assert_false (moat_harness_name_has_owner (&f->h));
  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, "--json", "status", NULL), ==, 0);
  g_assert_cmpstr (err, ==, "");
  root = parse_json (out);
  g_assert_cmpstr (json_object_get_string_member (json_node_get_object (root), "version"), ==,
                   PACKAGE_VERSION);
  /* moatd keeps running after moatctl is gone, on the data dir of the .service file. */
  g_assert_true (moat_harness_name_has_owner (&f->h));
  g_assert_true (g_file_test (f->h.data_dir, G_FILE_TEST_IS_DIR));
  moat_harness_stop_owner (&f->h);

  /* "events" activates it too. */
  g_clear_pointer (&out, g_free);
  g_clear_pointer (&err, g_free);
  g_assert_cmpint (moat_harness_moatctl (&f->h, &out, &err, "events", "--json", NULL), ==, 0);
  g_assert_cmpstr (out, ==, "[]\n");
  g_assert_true (moat_harness_name_has_owner (&f->h));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, flags, func) \
  g_test_add (path, Fixture, GUINT_TO_POINTER (flags), fixture_set_up, func, fixture_tear_down)

  ADD ("/moat/integration/moatctl/status", MOAT_HARNESS_NONE, test_status);
  ADD ("/moat/integration/moatctl/events", MOAT_HARNESS_NONE, test_events);
  ADD ("/moat/integration/moatctl/follow", MOAT_HARNESS_NONE, test_follow);
  ADD ("/moat/integration/moatctl/follow-restart", MOAT_HARNESS_NONE, test_follow_restart);
  ADD ("/moat/integration/moatctl/usage", MOAT_HARNESS_NONE, test_usage);
  ADD ("/moat/integration/moatctl/policy-check", MOAT_HARNESS_ACTIVATABLE, test_policy_check);
  ADD ("/moat/integration/moatctl/policy-load", MOAT_HARNESS_NONE, test_policy_load);
  ADD ("/moat/integration/moatctl/threats", MOAT_HARNESS_NONE, test_threats);
  ADD ("/moat/integration/moatctl/unreachable", MOAT_HARNESS_NONE, test_unreachable);
  ADD ("/moat/integration/moatctl/unreachable-broken-service", MOAT_HARNESS_BROKEN_SERVICE,
       test_unreachable);
  ADD ("/moat/integration/moatctl/activation", MOAT_HARNESS_ACTIVATABLE, test_activation);

  return g_test_run ();
}
