/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moatctl"

#include "config.h"

#include "moat-cli-output.h"
#include "moat-cli-time.h"
#include "moat-client.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* moatctl: the command-line client of moatd. Exit status is part of its
 * interface (moatctl(1)): */
enum {
  EXIT_OK = 0,
  EXIT_FAILURE_ = 1,
  EXIT_USAGE = 2,
  EXIT_UNREACHABLE = 3,
};

#define DEFAULT_LIMIT 20
#define MAX_PAGE 1000

typedef enum {
  COMMAND_STATUS,
  COMMAND_EVENTS,
} Command;

typedef struct {
  /* owned */
  GMainLoop       *loop;
  MoatClient      *client;
  MoatEventFilter *filter;
  GPtrArray       *collected;   /* MoatEvent, newest first, while listing */

  Command          command;
  gboolean         json;
  gboolean         follow;
  guint            limit;       /* 0: all */
  int              exit_code;

  /* --follow */
  gint64           last_id;
  gboolean         fetching;
  gboolean         dirty;
  MoatCliColumns   columns;
} Ctl;

static void
ctl_clear (Ctl *ctl)
{
  g_clear_pointer (&ctl->loop, g_main_loop_unref);
  g_clear_object (&ctl->client);
  g_clear_pointer (&ctl->filter, moat_event_filter_free);
  g_clear_pointer (&ctl->collected, g_ptr_array_unref);
}

static const char *
help_text (void)
{
  return _("Usage:\n"
           "  moatctl [--json] status\n"
           "  moatctl [--json] events [--since TIME] [--until TIME] [--kind THREAT]\n"
           "                          [--severity LEVEL] [--source SOURCE] [--search TEXT]\n"
           "                          [--limit N] [--follow]\n"
           "  moatctl --help | --version\n"
           "\n"
           "Ask Moat’s engine, moatd, what it is doing. moatctl talks to moatd on the\n"
           "session bus, and D-Bus activation starts moatd when it is not running.\n"
           "\n"
           "Commands:\n"
           "  status            Whether this computer is protected, its risk level, the\n"
           "                    proxy’s address and the state of the event store.\n"
           "  events            The latest events, oldest first.\n"
           "\n"
           "Options:\n"
           "  --json            Print JSON. The field names are stable; see moatctl(1).\n"
           "  --since TIME      Only events at or after TIME.\n"
           "  --until TIME      Only events before TIME.\n"
           "  --kind THREAT     Only this threat: an id (content.malware), a vector\n"
           "                    (network or network.*) or * for all.\n"
           "  --severity LEVEL  Only events at least this severe: info, low, medium,\n"
           "                    high or critical.\n"
           "  --source SOURCE   Only events from engine, proxy, detector, device or health.\n"
           "  --search TEXT     Only events whose subject, threat or action contains TEXT,\n"
           "                    ignoring case.\n"
           "  -n, --limit N     Show the latest N matching events (default 20, 0 for all).\n"
           "  -f, --follow      Then keep printing new events as they are recorded, each\n"
           "                    once, until interrupted. With --json, one JSON object per\n"
           "                    line (JSON Lines).\n"
           "  -h, --help        Show this help.\n"
           "  --version         Show the version.\n"
           "\n"
           "TIME is ISO 8601 (2026-11-27T10:00:00Z, or local time without a zone such as\n"
           "2026-11-27T10:00 or 2026-11-27), a span before now (30s, 15m, 1h, 2d, 1w or\n"
           "combined as 1h30m), now, today or yesterday.\n"
           "\n"
           "Exit status:\n"
           "  0  Success.\n"
           "  1  Failure: moatd answered with an error.\n"
           "  2  Usage error: an unknown command or option, or a bad value.\n"
           "  3  The engine is unreachable: moatd is not running and D-Bus activation\n"
           "     could not start it.\n"
           "\n"
           "Environment:\n"
           "  MOAT_DBUS_ADDRESS  Talk to moatd on this bus instead of the session bus.\n"
           "\n"
           "Examples:\n"
           "  moatctl status\n"
           "  moatctl --json status\n"
           "  moatctl events --since today --kind 'content.*' --severity high\n"
           "  moatctl events --since 1h --limit 0 --json\n"
           "  moatctl events --follow --json | jq -r .subject\n");
}

/* Every failure is one sentence on stderr. */
static void G_GNUC_PRINTF (3, 4)
fail (Ctl *ctl, int code, const char *format, ...)
{
  g_autofree char *message = NULL;
  va_list args;
  gsize len;

  va_start (args, format);
  message = g_strdup_vprintf (format, args);
  va_end (args);
  len = strlen (message);
  fprintf (stderr, "moatctl: %s%s\n", message,
           len > 0 && strchr (".!?", message[len - 1]) == NULL ? "." : "");
  if (code == EXIT_USAGE)
    fprintf (stderr, "%s\n", _("Try “moatctl --help”."));
  fflush (stderr);
  ctl->exit_code = code;
  if (ctl->loop != NULL)
    g_main_loop_quit (ctl->loop);
}

static void
fail_with_error (Ctl *ctl, const GError *error)
{
  if (g_error_matches (error, MOAT_ERROR, MOAT_ERROR_ENGINE_UNREACHABLE))
    fail (ctl, EXIT_UNREACHABLE, "%s",
          _("The Moat engine (moatd) is not running and could not be started."));
  else
    fail (ctl, EXIT_FAILURE_, "%s", error->message);
}

static void
write_out (const char *text)
{
  fputs (text, stdout);
  fflush (stdout);
}

static void
done (Ctl *ctl)
{
  ctl->exit_code = EXIT_OK;
  g_main_loop_quit (ctl->loop);
}

/* ---- status ---- */

static void
print_status (Ctl *ctl)
{
  if (ctl->json)
    {
      g_autoptr(JsonNode) node = moat_cli_status_to_json (ctl->client);
      g_autofree char *text = moat_cli_json_to_string (node, TRUE);

      write_out (text);
      write_out ("\n");
    }
  else
    {
      g_autoptr(GString) out = g_string_new (NULL);

      moat_cli_append_status (out, ctl->client);
      write_out (out->str);
    }
  done (ctl);
}

static void
start_engine_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GError) error = NULL;

  if (!moat_client_start_engine_finish (MOAT_CLIENT (object), result, &error))
    {
      fail_with_error (ctl, error);
      return;
    }
  print_status (ctl);
}

/* ---- events ---- */

static void
print_events (Ctl *ctl, GPtrArray *events, gboolean newest_first)
{
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint k = 0; k < events->len; k++)
    {
      MoatEvent *event = g_ptr_array_index (events, newest_first ? events->len - 1 - k : k);

      if (ctl->json)
        {
          g_autoptr(JsonNode) node = moat_cli_event_to_json (event);
          g_autofree char *line = moat_cli_json_to_string (node, FALSE);

          g_string_append (out, line);
          g_string_append_c (out, '\n');
        }
      else
        moat_cli_append_event (out, &ctl->columns, event);
      ctl->last_id = MAX (ctl->last_id, event->id);
    }
  write_out (out->str);
}

static void fetch_new (Ctl *ctl);

static void
fetch_new_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GError) error = NULL;

  ctl->fetching = FALSE;
  events = moat_client_list_events_finish (MOAT_CLIENT (object), result, &error);
  if (events == NULL)
    {
      /* moatd went away: wait for it to come back (engine-running). */
      if (g_error_matches (error, MOAT_ERROR, MOAT_ERROR_ENGINE_UNREACHABLE))
        {
          g_debug ("moatd is gone, waiting: %s", error->message);
          return;
        }
      fail_with_error (ctl, error);
      return;
    }
  print_events (ctl, events, FALSE);
  if (events->len == MAX_PAGE || ctl->dirty)
    fetch_new (ctl);
}

/* Everything matching after the last printed id, oldest first: no gaps, no
 * duplicates, whether or not an EventsAdded signal was missed. */
static void
fetch_new (Ctl *ctl)
{
  g_autoptr(MoatEventFilter) filter = NULL;

  if (ctl->fetching)
    {
      ctl->dirty = TRUE;
      return;
    }
  ctl->fetching = TRUE;
  ctl->dirty = FALSE;
  filter = moat_event_filter_copy (ctl->filter);
  filter->after_id = ctl->last_id;
  filter->ascending = TRUE;
  moat_client_list_events_async (ctl->client, filter, 0, MAX_PAGE, NULL, fetch_new_cb, ctl);
}

static void
on_events_added_cb (MoatClient *client,
                    GPtrArray  *events,
                    Ctl        *ctl)
{
  MoatEvent *newest = g_ptr_array_index (events, events->len - 1);

  if (newest->id > ctl->last_id)
    fetch_new (ctl);
}

static void
on_engine_running_cb (MoatClient *client,
                      GParamSpec *pspec,
                      Ctl        *ctl)
{
  /* A new moatd may have committed events whose signal this never saw. */
  if (moat_client_get_engine_running (client))
    fetch_new (ctl);
}

static gboolean
on_signal_cb (gpointer user_data)
{
  done (user_data);
  return G_SOURCE_CONTINUE;
}

static void list_latest (Ctl *ctl);

static void
list_latest_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GPtrArray) events = NULL;
  g_autoptr(GError) error = NULL;
  guint asked, got;

  events = moat_client_list_events_finish (MOAT_CLIENT (object), result, &error);
  if (events == NULL)
    {
      fail_with_error (ctl, error);
      return;
    }
  asked = ctl->limit == 0 ? MAX_PAGE : MIN (MAX_PAGE, ctl->limit - ctl->collected->len);
  got = events->len;
  g_ptr_array_extend_and_steal (ctl->collected, g_steal_pointer (&events));
  /* A full page: there may be more. */
  if (got == asked && (ctl->limit == 0 || ctl->collected->len < ctl->limit))
    {
      list_latest (ctl);
      return;
    }

  /* Got them all, newest first: print oldest first. */
  if (ctl->json && !ctl->follow)
    {
      g_autoptr(JsonArray) array = json_array_sized_new (ctl->collected->len);
      g_autoptr(JsonNode) node = json_node_new (JSON_NODE_ARRAY);
      g_autofree char *text = NULL;

      for (guint k = ctl->collected->len; k > 0; k--)
        json_array_add_element (array,
                                moat_cli_event_to_json (g_ptr_array_index (ctl->collected, k - 1)));
      json_node_set_array (node, array);
      text = moat_cli_json_to_string (node, TRUE);
      write_out (text);
      write_out ("\n");
      done (ctl);
      return;
    }

  if (!ctl->json)
    {
      g_autoptr(GString) out = g_string_new (NULL);

      /* Followed output keeps the roomy default widths for what comes later. */
      if (ctl->collected->len > 0 && !ctl->follow)
        moat_cli_columns_fit (&ctl->columns, ctl->collected);
      if (ctl->collected->len > 0 || ctl->follow)
        moat_cli_append_header (out, &ctl->columns);
      else
        g_string_append_printf (out, "%s\n", _("No matching events."));
      write_out (out->str);
    }
  print_events (ctl, ctl->collected, TRUE);
  if (!ctl->follow)
    {
      done (ctl);
      return;
    }

  ctl->fetching = FALSE;
  if (ctl->dirty)
    fetch_new (ctl);
}

static void
list_latest (Ctl *ctl)
{
  g_autoptr(MoatEventFilter) filter = moat_event_filter_copy (ctl->filter);
  guint want = ctl->limit == 0 ? MAX_PAGE : MIN (MAX_PAGE, ctl->limit - ctl->collected->len);

  /* Page by id, not offset, so events recorded meanwhile shift nothing. */
  if (ctl->collected->len > 0)
    filter->before_id = ((MoatEvent *) g_ptr_array_index (ctl->collected,
                                                          ctl->collected->len - 1))->id;
  filter->ascending = FALSE;
  moat_client_list_events_async (ctl->client, filter, 0, want, NULL, list_latest_cb, ctl);
}

static void
run_events (Ctl *ctl)
{
  ctl->collected = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_event_unref);
  moat_cli_columns_init (&ctl->columns);
  if (ctl->follow)
    {
      /* Listen before listing: what is announced meanwhile is fetched after. */
      ctl->fetching = TRUE;
      g_signal_connect (ctl->client, "events-added", G_CALLBACK (on_events_added_cb), ctl);
      g_signal_connect (ctl->client, "notify::engine-running",
                        G_CALLBACK (on_engine_running_cb), ctl);
      g_unix_signal_add (SIGINT, on_signal_cb, ctl);
      g_unix_signal_add (SIGTERM, on_signal_cb, ctl);
    }
  list_latest (ctl);
}

/* ---- main ---- */

static void
client_new_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GError) error = NULL;

  ctl->client = moat_client_new_finish (result, &error);
  if (ctl->client == NULL)
    {
      fail (ctl, EXIT_UNREACHABLE, _("Cannot connect to the session bus: %s"), error->message);
      return;
    }

  switch (ctl->command)
    {
    case COMMAND_STATUS:
      if (moat_client_get_engine_running (ctl->client))
        print_status (ctl);
      else
        moat_client_start_engine_async (ctl->client, NULL, start_engine_cb, ctl);
      break;
    case COMMAND_EVENTS:
      run_events (ctl);
      break;
    default:
      g_assert_not_reached ();
    }
}

typedef struct {
  gboolean  json;
  gboolean  help;
  gboolean  version;
  gboolean  follow;
  char     *since;
  char     *until;
  char     *kind;
  char     *severity;
  char     *source;
  char     *search;
  char     *limit;
} Options;

static void
options_clear (Options *o)
{
  g_free (o->since);
  g_free (o->until);
  g_free (o->kind);
  g_free (o->severity);
  g_free (o->source);
  g_free (o->search);
  g_free (o->limit);
}

/* Builds ctl->filter from the options; FALSE (and a usage message) on bad values. */
static gboolean
parse_event_options (Ctl *ctl, Options *o)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(MoatEventFilter) filter = moat_event_filter_new ();
  g_autoptr(MoatEventFilter) checked = NULL;
  g_autoptr(GVariant) variant = NULL;
  g_autoptr(GError) error = NULL;

  if (o->since != NULL && !moat_cli_parse_time (o->since, now, &filter->since, &error))
    goto usage;
  if (o->until != NULL && !moat_cli_parse_time (o->until, now, &filter->until, &error))
    goto usage;
  if (filter->since > 0 && filter->until > 0 && filter->until <= filter->since)
    {
      fail (ctl, EXIT_USAGE, _("--until must be later than --since"));
      return FALSE;
    }
  if (o->kind != NULL)
    {
      /* "network" is short for "network.*". */
      if (strchr (o->kind, '.') == NULL && !g_str_equal (o->kind, "*"))
        filter->threat = g_strconcat (o->kind, ".*", NULL);
      else
        filter->threat = g_strdup (o->kind);
    }
  if (o->severity != NULL && !moat_severity_from_string (o->severity, &filter->min_severity))
    {
      fail (ctl, EXIT_USAGE,
            _("“%s” is not a severity: use info, low, medium, high or critical"), o->severity);
      return FALSE;
    }
  if (o->source != NULL)
    {
      if (!moat_event_source_from_string (o->source, &filter->source))
        {
          fail (ctl, EXIT_USAGE,
                _("“%s” is not an event source: use engine, proxy, detector, device or health"),
                o->source);
          return FALSE;
        }
      filter->has_source = TRUE;
    }
  if (o->search != NULL && o->search[0] != '\0')
    filter->search = g_strdup (o->search);
  if (o->limit != NULL)
    {
      guint64 n;

      if (!g_ascii_string_to_unsigned (o->limit, 10, 0, 1000000, &n, NULL))
        {
          fail (ctl, EXIT_USAGE,
                _("“%s” is not a valid limit: use a number from 0 (all) to 1000000"), o->limit);
          return FALSE;
        }
      ctl->limit = (guint) n;
    }

  /* Let the same rules moatd applies refuse a bad filter here, as a usage error. */
  variant = g_variant_ref_sink (moat_event_filter_to_variant (filter));
  checked = moat_event_filter_new_from_variant (variant, &error);
  if (checked == NULL)
    goto usage;
  ctl->filter = g_steal_pointer (&filter);
  return TRUE;

usage:
  fail (ctl, EXIT_USAGE, "%s", error->message);
  return FALSE;
}

static gboolean
parse_args (Ctl *ctl, int *argc, char ***argv)
{
  Options o = { 0 };
  const GOptionEntry entries[] = {
    { "json", 0, 0, G_OPTION_ARG_NONE, &o.json, NULL, NULL },
    { "help", 'h', 0, G_OPTION_ARG_NONE, &o.help, NULL, NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &o.version, NULL, NULL },
    { "since", 0, 0, G_OPTION_ARG_STRING, &o.since, NULL, NULL },
    { "until", 0, 0, G_OPTION_ARG_STRING, &o.until, NULL, NULL },
    { "kind", 0, 0, G_OPTION_ARG_STRING, &o.kind, NULL, NULL },
    { "severity", 0, 0, G_OPTION_ARG_STRING, &o.severity, NULL, NULL },
    { "source", 0, 0, G_OPTION_ARG_STRING, &o.source, NULL, NULL },
    { "search", 0, 0, G_OPTION_ARG_STRING, &o.search, NULL, NULL },
    { "limit", 'n', 0, G_OPTION_ARG_STRING, &o.limit, NULL, NULL },
    { "follow", 'f', 0, G_OPTION_ARG_NONE, &o.follow, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  gboolean ok = FALSE;
  const char *command;

  g_option_context_set_help_enabled (context, FALSE);
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      fail (ctl, EXIT_USAGE, "%s", error->message);
      goto out;
    }
  if (o.help)
    {
      write_out (help_text ());
      ctl->exit_code = EXIT_OK;
      goto out;
    }
  if (o.version)
    {
      write_out ("moatctl " PACKAGE_VERSION "\n");
      ctl->exit_code = EXIT_OK;
      goto out;
    }
  if (*argc < 2)
    {
      fail (ctl, EXIT_USAGE, _("No command given: use “status” or “events”"));
      goto out;
    }
  command = (*argv)[1];
  if (g_str_equal (command, "status"))
    ctl->command = COMMAND_STATUS;
  else if (g_str_equal (command, "events"))
    ctl->command = COMMAND_EVENTS;
  else
    {
      fail (ctl, EXIT_USAGE, _("“%s” is not a command: use “status” or “events”"), command);
      goto out;
    }
  if (*argc > 2)
    {
      fail (ctl, EXIT_USAGE, _("Unexpected argument “%s”"), (*argv)[2]);
      goto out;
    }
  ctl->json = o.json;
  ctl->follow = o.follow;
  ctl->limit = DEFAULT_LIMIT;

  if (ctl->command == COMMAND_STATUS)
    {
      if (o.since || o.until || o.kind || o.severity || o.source || o.search || o.limit ||
          o.follow)
        {
          fail (ctl, EXIT_USAGE, _("“status” takes no options but --json"));
          goto out;
        }
      ok = TRUE;
      goto out;
    }
  ok = parse_event_options (ctl, &o);

out:
  options_clear (&o);
  return ok;
}

int
main (int argc, char *argv[])
{
  Ctl ctl = { 0 };
  int ret;

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  ctl.exit_code = EXIT_FAILURE_;
  if (!parse_args (&ctl, &argc, &argv))
    {
      ret = ctl.exit_code;
      ctl_clear (&ctl);
      return ret;
    }

  ctl.loop = g_main_loop_new (NULL, FALSE);
  moat_client_new_async (MOAT_CLIENT_FLAGS_NONE, NULL, client_new_cb, &ctl);
  g_main_loop_run (ctl.loop);

  ret = ctl.exit_code;
  ctl_clear (&ctl);
  return ret;
}
