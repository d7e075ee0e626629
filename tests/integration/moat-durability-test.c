/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-durability-test"

#include "config.h"

#include "moat-event.h"
#include "moat-test-harness.h"

#include <glib/gstdio.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>

/*
 * An event a client has seen through the API survives kill -9 of moatd.
 *
 * The feed is what moatd records in real use: requests through its filtering
 * proxy to hosts a list blocks (moatd --list, `||blocked.example.test^`), each
 * to a host of its own so that no two are folded into one event, sent by a
 * thread of their own on a keep-alive connection at FEED_PER_S a second.
 * A reader pages ListEvents with after-id and also records EventsAdded,
 * keeping every event the API returned ("confirmed"). moatd is killed with
 * SIGKILL N_KILLS times at random moments and started again on the same data
 * dir (its proxy on a new port); after each restart every confirmed event
 * must be in the store with the same content.
 */

#define N_KILLS 20
#define FEED_PER_S 1000
#define READ_INTERVAL_MS 20
#define PAGE 1000
#define MIN_CONFIRMED 1000

typedef struct {
  MoatHarness  h;
  gboolean     ready;
  GRand       *rand;

  /* feeder */
  GThread     *feeder;
  gint         stop_feeding;
  GMutex       lock;
  char        *proxy_address;   /* under lock; "" while moatd's proxy is down */
  guint64      sent;            /* feeder thread only until joined */
  guint64      blocked;
  guint64      reconnects;

  /* reader */
  guint        read_id;
  gboolean     reading;
  gint64       last_id;
  GHashTable  *confirmed;       /* id -> MoatEvent */
  guint64      from_signal;
  guint        failed_reads;

  /* results */
  GHashTable  *lost;            /* id -> id */
  guint        mismatched;
  guint        foreign;
  guint        kills;
  guint        checks;
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  f->ready = moat_harness_set_up (&f->h, MOAT_HARNESS_NONE);
  f->rand = g_rand_new_with_seed (g_test_rand_int ());
  f->confirmed = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                        (GDestroyNotify) moat_event_unref);
  f->lost = g_hash_table_new_full (g_int64_hash, g_int64_equal, g_free, NULL);
}

static gboolean
idle_cb (gpointer data)
{
  Fixture *f = data;

  return !f->reading;
}

static void
stop_feeder (Fixture *f)
{
  if (f->feeder == NULL)
    return;
  g_atomic_int_set (&f->stop_feeding, 1);
  g_thread_join (g_steal_pointer (&f->feeder));
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  stop_feeder (f);
  g_clear_pointer (&f->proxy_address, g_free);
  g_clear_handle_id (&f->read_id, g_source_remove);
  if (f->ready)
    moat_harness_spin_until (idle_cb, f, 30);
  moat_harness_tear_down (&f->h);
  g_clear_pointer (&f->rand, g_rand_free);
  g_clear_pointer (&f->confirmed, g_hash_table_unref);
  g_clear_pointer (&f->lost, g_hash_table_unref);
}

static gboolean
events_equal (const MoatEvent *a, const MoatEvent *b)
{
  return a->id == b->id && a->time == b->time && a->source == b->source &&
         a->severity == b->severity && g_str_equal (a->threat, b->threat) &&
         g_str_equal (a->subject, b->subject) && g_str_equal (a->action, b->action) &&
         g_str_equal (a->detail, b->detail);
}

/* Something the API returned: keep it, and check it never changes. */
static void
confirm (Fixture *f, MoatEvent *event)
{
  MoatEvent *known = g_hash_table_lookup (f->confirmed, &event->id);

  if (known != NULL)
    {
      if (!events_equal (known, event))
        {
          g_test_message ("event %" G_GINT64_FORMAT " came back different", event->id);
          f->mismatched++;
        }
      return;
    }
  /* Every event is one of the feed's blocks, recorded by the proxy. */
  if (event->source != MOAT_EVENT_SOURCE_PROXY ||
      !g_str_has_suffix (event->subject, ".blocked.example.test") ||
      !g_str_equal (event->action, "blocked"))
    {
      g_test_message ("event %" G_GINT64_FORMAT " is not a block of the feed: %s %s %s",
                      event->id, event->threat, event->subject, event->action);
      f->foreign++;
    }
  g_hash_table_insert (f->confirmed, &event->id, moat_event_ref (event));
}

/* ---- feeder (its own thread: blocking sockets) ---- */

static GSocketConnection *
connect_proxy (Fixture *f)
{
  g_autoptr(GSocketClient) client = g_socket_client_new ();
  g_autofree char *address = NULL;
  GSocketConnection *connection;

  g_mutex_lock (&f->lock);
  address = g_strdup (f->proxy_address);
  g_mutex_unlock (&f->lock);
  if (address == NULL || address[0] == '\0')
    return NULL;
  g_socket_client_set_timeout (client, 5);
  connection = g_socket_client_connect_to_host (client, address, 0, NULL, NULL);
  if (connection != NULL)
    f->reconnects++;
  return connection;
}

/* One request and its whole response; the status, or 0 when the connection
 * broke (moatd was killed) and must be dropped. */
static guint
block_one (GSocketConnection *connection, guint64 seq)
{
  GSocket *socket = g_socket_connection_get_socket (connection);
  g_autofree char *request = g_strdup_printf ("GET http://d%" G_GUINT64_FORMAT ".blocked.example.test/"
                                              "page HTTP/1.1\r\n"
                                              "Host: d%" G_GUINT64_FORMAT ".blocked.example.test\r\n"
                                              "\r\n", seq, seq);
  g_autoptr(GString) in = g_string_new (NULL);
  gsize len = strlen (request), done = 0, body_start = 0;
  guint64 content_length = 0;
  guint status = 0;
  char buf[8192];

  while (done < len)
    {
      gssize n = g_socket_send (socket, request + done, len - done, NULL, NULL);

      if (n <= 0)
        return 0;
      done += n;
    }
  for (;;)
    {
      gssize n;

      if (body_start == 0)
        {
          const char *end = strstr (in->str, "\r\n\r\n");

          if (end != NULL)
            {
              g_autofree char *head = g_ascii_strdown (in->str, end - in->str);
              const char *cl = strstr (head, "\r\ncontent-length:");

              body_start = end - in->str + 4;
              if (sscanf (in->str, "HTTP/1.1 %u ", &status) != 1 || cl == NULL)
                return 0;
              content_length = g_ascii_strtoull (cl + 17, NULL, 10);
            }
        }
      if (body_start != 0 && in->len >= body_start + content_length)
        return in->len == body_start + content_length ? status : 0;
      n = g_socket_receive (socket, buf, sizeof buf, NULL, NULL);
      if (n <= 0)
        return 0;
      g_string_append_len (in, buf, n);
    }
}

static gpointer
feeder_thread (gpointer data)
{
  Fixture *f = data;
  g_autoptr(GSocketConnection) connection = NULL;
  gint64 next = g_get_monotonic_time ();

  while (!g_atomic_int_get (&f->stop_feeding))
    {
      gint64 now = g_get_monotonic_time ();
      guint status;

      if (connection == NULL && (connection = connect_proxy (f)) == NULL)
        {
          g_usleep (10 * 1000);
          next = g_get_monotonic_time ();
          continue;
        }
      /* Paced, and no burst to catch up after a restart. */
      if (now < next)
        g_usleep (next - now);
      else if (now - next > 50 * 1000)
        next = now;
      next += G_USEC_PER_SEC / FEED_PER_S;

      status = block_one (connection, f->sent++);
      if (status == 403)
        f->blocked++;
      else
        g_clear_object (&connection);
    }
  return NULL;
}

/* The proxy's address as moatd publishes it, for the feeder. */
static void
update_proxy_address (Fixture *f)
{
  const char *address = moat_dbus_moat1_get_proxy_address (f->h.proxy);

  g_mutex_lock (&f->lock);
  if (g_strcmp0 (address, f->proxy_address) != 0)
    {
      g_free (f->proxy_address);
      f->proxy_address = g_strdup (address);
    }
  g_mutex_unlock (&f->lock);
}

/* ---- reader ---- */

static GVariant *
after_filter (gint64 after_id)
{
  GVariantBuilder b;

  g_variant_builder_init (&b, G_VARIANT_TYPE_VARDICT);
  if (after_id > 0)
    g_variant_builder_add (&b, "{sv}", "after-id", g_variant_new_int64 (after_id));
  g_variant_builder_add (&b, "{sv}", "order", g_variant_new_string ("asc"));
  return g_variant_builder_end (&b);
}

static void
list_events_cb (GObject *object, GAsyncResult *result, gpointer data)
{
  Fixture *f = data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GError) error = NULL;

  f->reading = FALSE;
  if (!moat_dbus_moat1_call_list_events_finish (MOAT_DBUS_MOAT1 (object), &reply, result, &error))
    {
      f->failed_reads++;
      return;
    }
  events = moat_events_new_from_variant (reply, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < events->len; i++)
    {
      MoatEvent *event = g_ptr_array_index (events, i);

      g_assert_cmpint (event->id, >, f->last_id);
      confirm (f, event);
      f->last_id = event->id;
    }
}

static gboolean
read_cb (gpointer data)
{
  Fixture *f = data;
  g_autofree char *owner = g_dbus_proxy_get_name_owner (G_DBUS_PROXY (f->h.proxy));

  update_proxy_address (f);
  if (owner == NULL || f->reading)
    return G_SOURCE_CONTINUE;
  f->reading = TRUE;
  moat_dbus_moat1_call_list_events (f->h.proxy, after_filter (f->last_id), 0, PAGE, NULL,
                                    list_events_cb, f);
  return G_SOURCE_CONTINUE;
}

static void
on_events_added_cb (MoatDBusMoat1 *proxy, GVariant *variant, Fixture *f)
{
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GError) error = NULL;

  events = moat_events_new_from_variant (variant, &error);
  g_assert_no_error (error);
  for (guint i = 0; i < events->len; i++)
    confirm (f, g_ptr_array_index (events, i));
  f->from_signal += events->len;
}

/* ---- check ---- */

typedef struct {
  gboolean   done;
  GPtrArray *events;
} Page;

static void
page_cb (GObject *object, GAsyncResult *result, gpointer data)
{
  Page *page = data;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  moat_dbus_moat1_call_list_events_finish (MOAT_DBUS_MOAT1 (object), &reply, result, &error);
  g_assert_no_error (error);
  page->events = moat_events_new_from_variant (reply, &error);
  g_assert_no_error (error);
  page->done = TRUE;
}

static gboolean
page_done_cb (gpointer data)
{
  return ((Page *) data)->done;
}

/* Every event in @expected (id -> MoatEvent) is in the store, unchanged. */
static void
check_store (Fixture *f, GHashTable *expected, gint64 max_id)
{
  gint64 after = 0;
  guint found = 0;
  GHashTableIter iter;
  gpointer key, value;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_int64_hash, g_int64_equal);

  while (after < max_id)
    {
      Page page = { FALSE, NULL };
      g_autoptr(GPtrArray) events = NULL;

      moat_dbus_moat1_call_list_events (f->h.proxy, after_filter (after), 0, PAGE, NULL,
                                        page_cb, &page);
      g_assert_true (moat_harness_spin_until (page_done_cb, &page, 60));
      events = page.events;
      for (guint i = 0; i < events->len; i++)
        {
          MoatEvent *event = g_ptr_array_index (events, i);
          MoatEvent *want = g_hash_table_lookup (expected, &event->id);

          after = event->id;
          if (want == NULL)
            continue;
          if (events_equal (want, event))
            {
              found++;
              g_hash_table_add (seen, &want->id);
            }
          else
            {
              g_test_message ("event %" G_GINT64_FORMAT " changed across the kill", event->id);
              f->mismatched++;
            }
        }
      if (events->len < PAGE)
        break;
    }

  g_hash_table_iter_init (&iter, expected);
  while (g_hash_table_iter_next (&iter, &key, &value))
    if (!g_hash_table_contains (seen, key))
      {
        gint64 *id = g_new (gint64, 1);

        *id = *(gint64 *) key;
        g_test_message ("event %" G_GINT64_FORMAT " was confirmed and is gone", *id);
        g_hash_table_replace (f->lost, id, id);
      }
  f->checks++;
  g_test_message ("kill %u: %u confirmed events checked, %u found", f->kills,
                  g_hash_table_size (expected), found);
}

static GHashTable *
snapshot (Fixture *f, gint64 *out_max)
{
  GHashTable *copy = g_hash_table_new_full (g_int64_hash, g_int64_equal, NULL,
                                            (GDestroyNotify) moat_event_unref);
  GHashTableIter iter;
  gpointer value;

  *out_max = 0;
  g_hash_table_iter_init (&iter, f->confirmed);
  while (g_hash_table_iter_next (&iter, NULL, &value))
    {
      MoatEvent *event = value;

      g_hash_table_insert (copy, &event->id, moat_event_ref (event));
      *out_max = MAX (*out_max, event->id);
    }
  return copy;
}

static void
write_report (Fixture *f, double seconds)
{
  const char *build_root = g_getenv ("MOAT_BUILD_ROOT");
  g_autofree char *dir = g_build_filename (build_root, "tests", NULL);
  g_autofree char *path = g_build_filename (dir, "durability.txt", NULL);
  g_autoptr(GError) error = NULL;
  g_autofree char *report = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autofree char *stamp = g_date_time_format_iso8601 (now);

  report = g_strdup_printf (
    "moat kill -9 durability (tests/integration/moat-durability-test.c), %s\n"
    "kills: %u (SIGKILL at random moments, 0.3-1.8 s apart, restart on the same data dir)\n"
    "checks after restart: %u\n"
    "feed: requests through moatd's proxy to blocked hosts, one host each\n"
    "events confirmed by the API (ListEvents after-id and EventsAdded): %u\n"
    "events confirmed and lost: %u\n"
    "events confirmed and changed: %u\n"
    "requests blocked by the proxy (403): %" G_GUINT64_FORMAT " of %" G_GUINT64_FORMAT " sent\n"
    "feed rate: %.0f blocked requests/s over %.1f s (paced at %d/s)\n"
    "connections to the proxy: %" G_GUINT64_FORMAT " (one per moatd run, more when a kill cut one)\n"
    "events seen through EventsAdded: %" G_GUINT64_FORMAT "\n",
    stamp, f->kills, f->checks, g_hash_table_size (f->confirmed),
    g_hash_table_size (f->lost), f->mismatched, f->blocked, f->sent,
    f->blocked / seconds, seconds, FEED_PER_S, f->reconnects, f->from_signal);
  g_test_message ("%s", report);
  g_mkdir_with_parents (dir, 0755);
  if (!g_file_set_contents (path, report, -1, &error))
    g_test_message ("could not write %s: %s", path, error->message);
  else
    g_test_message ("report written to %s", path);
}

static void
test_kill9 (Fixture *f, gconstpointer data)
{
  g_autofree char *list = NULL;
  gint64 started;
  double seconds;

  if (!f->ready)
    return;

  list = g_build_filename (f->h.tmpdir, "blocked.txt", NULL);
  g_assert_true (g_file_set_contents (list, "! durability test feed\n||blocked.example.test^\n",
                                      -1, NULL));
  f->h.moatd_args = g_new0 (char *, 3);
  f->h.moatd_args[0] = g_strdup ("--list");
  f->h.moatd_args[1] = g_strdup (list);

  moat_harness_start_moatd (&f->h);
  g_signal_connect (f->h.proxy, "events-added", G_CALLBACK (on_events_added_cb), f);
  started = g_get_monotonic_time ();
  f->feeder = g_thread_new ("feeder", feeder_thread, f);
  f->read_id = g_timeout_add (READ_INTERVAL_MS, read_cb, f);

  for (f->kills = 0; f->kills < N_KILLS;)
    {
      g_autoptr(GHashTable) expected = NULL;
      gint64 max_id = 0;
      int status;

      moat_harness_spin_for (g_rand_int_range (f->rand, 300, 1800));
      status = moat_harness_stop_moatd (&f->h, SIGKILL);
      g_assert_true (WIFSIGNALED (status));
      g_assert_cmpint (WTERMSIG (status), ==, SIGKILL);
      f->kills++;

      /* Calls that were in flight end with an error; answers already on
       * their way still count as confirmed. */
      g_assert_true (moat_harness_spin_until (idle_cb, f, 30));
      expected = snapshot (f, &max_id);

      moat_harness_start_moatd (&f->h);
      check_store (f, expected, max_id);
    }

  stop_feeder (f);
  g_clear_handle_id (&f->read_id, g_source_remove);
  seconds = (g_get_monotonic_time () - started) / (double) G_USEC_PER_SEC;
  g_assert_true (moat_harness_spin_until (idle_cb, f, 30));
  write_report (f, seconds);

  g_assert_cmpuint (f->kills, ==, N_KILLS);
  g_assert_cmpuint (f->checks, ==, N_KILLS);
  g_assert_cmpuint (g_hash_table_size (f->lost), ==, 0);
  g_assert_cmpuint (f->mismatched, ==, 0);
  g_assert_cmpuint (f->foreign, ==, 0);
  /* The test means something only if the API confirmed events throughout. */
  g_assert_cmpuint (g_hash_table_size (f->confirmed), >, MIN_CONFIRMED);
  /* ... and they were the proxy's blocks. */
  g_assert_cmpuint (f->blocked, >=, g_hash_table_size (f->confirmed));
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);
  g_test_add ("/moat/integration/durability/kill9", Fixture, NULL, fixture_set_up, test_kill9,
              fixture_tear_down);
  return g_test_run ();
}
