/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moatctl"

#include "config.h"

#include "moat-cli-devices.h"
#include "moat-cli-health.h"
#include "moat-cli-lists.h"
#include "moat-cli-output.h"
#include "moat-report-model.h"
#include "moat-cli-time.h"
#include "moat-client.h"
#include "moat-policy.h"
#include "moat-report.h"

#include <errno.h>
#include <fcntl.h>
#include <gio/gunixfdlist.h>
#include <gio/gunixoutputstream.h>
#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

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
  COMMAND_CHECK,
  COMMAND_LISTS,
  COMMAND_ALLOW,
  COMMAND_BLOCK,
  COMMAND_PROTECT,
  COMMAND_PROTECTED,
  COMMAND_POLICY,
  COMMAND_THREATS,
  COMMAND_SCAN,
  COMMAND_DEVICES,
  COMMAND_DEVICE,
  COMMAND_CONNECT,
  COMMAND_IOC,
  COMMAND_HEALTH,
  COMMAND_REPORT,
} Command;

typedef struct {
  /* owned */
  GMainLoop       *loop;
  MoatClient      *client;
  MoatEventFilter *filter;
  GPtrArray       *collected;   /* MoatEvent, newest first, while listing */
  GVariant        *threats;     /* GetThreats' reply, while GetResponses runs */
  gboolean         all;         /* health --all */
  gint64           snooze_until;
  MoatReportFormat report_format; /* report --format */
  char            *output;      /* report -o */
  GStrv            sections;    /* report --include */
  gint64           report_since;

  Command          command;
  GStrv            args;        /* the command's own arguments */
  char            *category;    /* lists add --category */
  char            *name;        /* lists add --name */
  gboolean         remove;      /* allow/block --remove */
  gboolean         yes;         /* device …: do not ask */
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
  g_clear_pointer (&ctl->threats, g_variant_unref);
  g_clear_pointer (&ctl->args, g_strfreev);
  g_clear_pointer (&ctl->category, g_free);
  g_clear_pointer (&ctl->name, g_free);
  g_clear_pointer (&ctl->output, g_free);
  g_clear_pointer (&ctl->sections, g_strfreev);
}

static const char *
help_text (void)
{
  return _("Usage:\n"
           "  moatctl [--json] status\n"
           "  moatctl [--json] events [--since TIME] [--until TIME] [--kind THREAT]\n"
           "                          [--severity LEVEL] [--source SOURCE] [--search TEXT]\n"
           "                          [--limit N] [--follow]\n"
           "  moatctl [--json] check HOST|URL\n"
           "  moatctl [--json] lists\n"
           "  moatctl lists enable|disable ID\n"
           "  moatctl lists add URL|FILE --category CATEGORY [--name NAME]\n"
           "  moatctl lists remove ID\n"
           "  moatctl lists update\n"
           "  moatctl lists category CATEGORY on|off\n"
           "  moatctl [--json] allow|block [--remove] [HOST]\n"
           "  moatctl protect [on|off]\n"
           "  moatctl [--json] protected [--remove] [HOST]\n"
           "  moatctl [--json] threats\n"
           "  moatctl [--json] scan\n"
           "  moatctl [--json] devices\n"
           "  moatctl [--json] device SERIAL posture|check\n"
           "  moatctl device SERIAL protect on|off [--yes]\n"
           "  moatctl device SERIAL stop-app|disable-app|enable-app PACKAGE [--yes]\n"
           "  moatctl device SERIAL open-settings SCREEN\n"
           "  moatctl connect ADDRESS\n"
           "  moatctl [--json] ioc [import FILE [--name NAME]]\n"
           "  moatctl [--json] health [check] [--all]\n"
           "  moatctl health fix ID [SUBJECT] [--yes]\n"
           "  moatctl health snooze ID [SUBJECT] --for SPAN\n"
           "  moatctl report --format html|pdf|json -o FILE [--since TIME]\n"
           "                 [--include computer,phones,threats,actions,health]\n"
           "  moatctl [--json] policy check FILE\n"
           "  moatctl policy load FILE\n"
           "  moatctl [--json] policy show\n"
           "  moatctl --help | --version\n"
           "\n"
           "Ask Moat’s engine, moatd, what it is doing. moatctl talks to moatd on the\n"
           "session bus, and D-Bus activation starts moatd when it is not running.\n"
           "\n"
           "Commands:\n"
           "  status            Whether this computer is protected, its risk level, the\n"
           "                    proxy’s address and the state of the event store.\n"
           "  events            The latest events, oldest first.\n"
           "  check             What the proxy decides for a host or URL: the verdict,\n"
           "                    and the category, list and exact rule that decided.\n"
           "  lists             The filter lists, whether each is used, its rules and\n"
           "                    the lines it could not read; enable, disable, add (a\n"
           "                    URL to subscribe to or a list file), remove, update\n"
           "                    (download subscriptions now), or turn a\n"
           "                    whole category on or off. Categories: ads, trackers,\n"
           "                    malware, phishing, scam, c2, adult, gambling, custom.\n"
           "  allow, block      Put HOST and its subdomains on your allow- or block-list\n"
           "                    (they win over every list); --remove takes it off;\n"
           "                    without HOST, show the list.\n"
           "  protect           Point this desktop’s proxy settings at Moat (on), restore\n"
           "                    the previous ones (off), or show which it is.\n"
           "  protected         Company hosts to wall off when the network is not safe\n"
           "                    (the policy uses them); add HOST, --remove it, or list.\n"
           "  threats           The active threats: what a detector sees now, since when,\n"
           "                    and its evidence, and what Moat does about each as the\n"
           "                    policy says. The risk level is that of the worst.\n"
           "  scan              Check the network for attacks now and print what each\n"
           "                    check saw: TLS interception, a new root CA, DNS\n"
           "                    hijacking, SSL stripping, ARP spoofing, Wi-Fi and VPN.\n"
           "  devices           The phones: each with its connection (USB or Wi-Fi), its\n"
           "                    risk level, and what to do on the phone when it is not\n"
           "                    allowed or not answering.\n"
           "  device            One phone. posture: every check with its result, why it\n"
           "                    matters, how to fix it and the evidence; check: check it\n"
           "                    again first; protect on: send its web traffic through\n"
           "                    this computer's filter (off, or unplugging it, puts its\n"
           "                    settings back exactly); stop-app, disable-app, enable-app:\n"
           "                    an app the checks name; open-settings: open a settings\n"
           "                    screen on the phone (security, developer, apps, vpn,\n"
           "                    wifi, accessibility, lock). Changes ask first, unless\n"
           "                    --yes.\n"
           "  connect           Connect to a phone over Wi-Fi: ADDRESS is host[:port] of\n"
           "                    a phone listening for adb (after adb tcpip, or paired for\n"
           "                    wireless debugging).\n"
           "  ioc               Indicators of compromise: import a STIX 2 bundle (the\n"
           "                    format Amnesty's MVT publishes); apps on phones that\n"
           "                    match become threats and its domains are blocked as c2.\n"
           "                    Without import, list the bundles.\n"
           "  health            Whether Moat's protections can work and this computer and\n"
           "                    the phones are in a healthy state: the health level (0 to\n"
           "                    4) and each problem with why it matters and the steps\n"
           "                    that fix it; --all lists the healthy checks too. check:\n"
           "                    check now first; fix: let Moat fix a problem it can fix;\n"
           "                    snooze: no reminder about it for SPAN (1d, 3h, ...).\n"
           "  report            A report for a helpdesk to read and keep, as a printable\n"
           "                    HTML page, a PDF or JSON: this computer and Moat's own\n"
           "                    protections with every health check (problems first,\n"
           "                    with evidence and fix status), each phone with its risk\n"
           "                    and findings, the threats and the actions Moat took since\n"
           "                    --since (default: the last 7 days), Moat's version and\n"
           "                    policy. --include chooses the sections (default: all).\n"
           "                    Only what Moat shows on screen goes in.\n"
           "  policy            Which threat gets which response. check: whether Moat\n"
           "                    would accept the policy FILE, and if not, the line and\n"
           "                    the reason (needs no moatd); load: put FILE in force,\n"
           "                    also after restarts; show: the policy in force.\n"
           "\n"
           "Options:\n"
           "  --json            Print JSON. The field names are stable; see moatctl(1).\n"
           "  --since TIME      Only events at or after TIME (events, report).\n"
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
           "  -y, --yes         Change the phone (or fix) without asking first.\n"
           "  --all             With health: the healthy checks too.\n"
           "  --for SPAN        With health snooze: how long.\n"
           "  --format FORMAT   With report: html, pdf or json.\n"
           "  -o, --output FILE With report: where to write it (- for standard output).\n"
           "  --include LIST    With report: the sections, comma-separated: computer,\n"
           "                    phones, threats, actions, health.\n"
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
           "  moatctl events --follow --json | jq -r .subject\n"
           "  moatctl check http://internetbadguys.com/login\n"
           "  moatctl lists add https://example.org/list.txt --category malware\n"
           "  moatctl allow intranet.example.com\n"
           "  moatctl device 192.168.1.20:5555 posture\n");
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

static void run_command (Ctl *ctl);

static guint64
lookup_u64 (GVariant *dict, const char *key)
{
  guint64 value = 0;

  if (dict != NULL)
    g_variant_lookup (dict, key, "t", &value);
  return value;
}

/* @stats: (nullable): GetProxyStats' answer */
static void
print_status_with (Ctl *ctl, GVariant *stats)
{
  gboolean running = FALSE;
  guint32 connections = 0;

  if (stats != NULL)
    {
      g_variant_lookup (stats, "running", "b", &running);
      g_variant_lookup (stats, "connections", "u", &connections);
    }
  if (ctl->json)
    {
      g_autoptr(JsonNode) node = moat_cli_status_to_json (ctl->client);
      JsonObject *object = json_node_get_object (node);
      g_autofree char *text = NULL;
      const char *names[] = { "requests", "tunnels", "blocked", "errors" };

      for (guint i = 0; i < G_N_ELEMENTS (names); i++)
        {
          g_autofree char *member = g_strconcat ("proxy_", names[i], NULL);

          if (running)
            json_object_set_int_member (object, member, (gint64) lookup_u64 (stats, names[i]));
          else
            json_object_set_null_member (object, member);
        }
      if (running)
        json_object_set_int_member (object, "proxy_connections", connections);
      else
        json_object_set_null_member (object, "proxy_connections");
      text = moat_cli_json_to_string (node, TRUE);
      write_out (text);
      write_out ("\n");
    }
  else
    {
      g_autoptr(GString) out = g_string_new (NULL);

      moat_cli_append_status (out, ctl->client);
      if (running)
        {
          g_autofree char *requests = g_strdup_printf ("%" G_GUINT64_FORMAT, lookup_u64 (stats, "requests"));
          g_autofree char *tunnels = g_strdup_printf ("%" G_GUINT64_FORMAT, lookup_u64 (stats, "tunnels"));
          g_autofree char *blocked = g_strdup_printf ("%" G_GUINT64_FORMAT, lookup_u64 (stats, "blocked"));
          g_autofree char *errors = g_strdup_printf ("%" G_GUINT64_FORMAT, lookup_u64 (stats, "errors"));
          /* Translators: proxy counters in "moatctl status", since moatd
           * started: requests, tunnels, blocked, refused */
          g_autofree char *line = g_strdup_printf (_("%s requests and %s tunnels, %s blocked, "
                                                     "%s refused as bad input"),
                                                   requests, tunnels, blocked, errors);

          g_string_append_printf (out, "%s %s\n", _("Filtered:"), line);
        }
      write_out (out->str);
    }
  done (ctl);
}

static void
proxy_stats_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = moat_client_call_finish (ctl->client, result, NULL);
  g_autoptr(GVariant) stats = NULL;

  /* An older moatd without the counters still has a status. */
  if (reply != NULL)
    g_variant_get (reply, "(@a{sv})", &stats);
  print_status_with (ctl, stats);
}

static void
print_status (Ctl *ctl)
{
  moat_client_call_async (ctl->client, "GetProxyStats", NULL, NULL, proxy_stats_cb, ctl);
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
  run_command (ctl);
}


/* ---- check, lists, allow, block, protect ---- */

static void
call (Ctl *ctl, const char *method, GVariant *parameters, GAsyncReadyCallback callback)
{
  moat_client_call_async (ctl->client, method, parameters, NULL, callback, ctl);
}

static GVariant *
call_finish (Ctl *ctl, GAsyncResult *result)
{
  g_autoptr(GError) error = NULL;
  GVariant *reply = moat_client_call_finish (ctl->client, result, &error);

  if (reply == NULL)
    fail_with_error (ctl, error);
  return reply;
}

static void
print_json (JsonNode *node)
{
  g_autofree char *text = moat_cli_json_to_string (node, TRUE);

  write_out (text);
  write_out ("\n");
}

/* A reply's first value, as JSON or as text, then done. */
static void
print_value (Ctl       *ctl,
             GVariant  *value,
             JsonNode *(*to_json) (GVariant *value),
             void     (*append_text) (GString *out, GVariant *value))
{
  if (ctl->json)
    {
      g_autoptr(JsonNode) node = to_json (value);

      print_json (node);
    }
  else
    {
      g_autoptr(GString) out = g_string_new (NULL);

      append_text (out, value);
      write_out (out->str);
    }
  done (ctl);
}

static void
check_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);
  g_autoptr(GVariant) dict = NULL;

  if (reply == NULL)
    return;
  g_variant_get (reply, "(@a{sv})", &dict);
  print_value (ctl, dict, moat_cli_check_to_json, moat_cli_append_check);
}

static void
get_lists_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);
  g_autoptr(GVariant) lists = NULL;

  if (reply == NULL)
    return;
  g_variant_get (reply, "(@aa{sv})", &lists);
  print_value (ctl, lists, moat_cli_lists_to_json, moat_cli_append_lists);
}

/* For calls whose reply carries nothing to show. */
static void
void_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);

  if (reply != NULL)
    done (ctl);
}

static void
add_list_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);
  const char *id;

  if (reply == NULL)
    return;
  g_variant_get (reply, "(&s)", &id);
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) node = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "id");
      json_builder_add_string_value (builder, id);
      json_builder_end_object (builder);
      node = json_builder_get_root (builder);
      print_json (node);
    }
  else
    {
      g_autofree char *line = g_strdup_printf (_("Added the list %s."), id);

      write_out (line);
      write_out ("\n");
    }
  done (ctl);
}

static void
user_hosts_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);
  g_autofree const char **allowed = NULL;
  g_autofree const char **blocked = NULL;
  const char **hosts;

  if (reply == NULL)
    return;
  if (ctl->command == COMMAND_PROTECTED)
    g_variant_get (reply, "(^a&s)", &allowed);
  else
    g_variant_get (reply, "(^a&s^a&s)", &allowed, &blocked);
  hosts = ctl->command == COMMAND_BLOCK ? blocked : allowed;
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) node = NULL;

      json_builder_begin_array (builder);
      for (guint i = 0; hosts[i] != NULL; i++)
        json_builder_add_string_value (builder, hosts[i]);
      json_builder_end_array (builder);
      node = json_builder_get_root (builder);
      print_json (node);
    }
  else
    {
      g_autoptr(GString) out = g_string_new (NULL);

      for (guint i = 0; hosts[i] != NULL; i++)
        g_string_append_printf (out, "%s\n", hosts[i]);
      write_out (out->str);
    }
  done (ctl);
}

static void
add_user_host_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);
  g_autofree char *line = NULL;
  const char *host;

  if (reply == NULL)
    return;
  g_variant_get (reply, "(&s)", &host);
  if (ctl->command == COMMAND_ALLOW)
    /* Translators: %s is a host name */
    line = g_strdup_printf (_("%s and its subdomains are always allowed now."), host);
  else if (ctl->command == COMMAND_BLOCK)
    /* Translators: %s is a host name */
    line = g_strdup_printf (_("%s and its subdomains are always blocked now."), host);
  else
    /* Translators: %s is a host name */
    line = g_strdup_printf (_("%s and its subdomains are a protected resource now."), host);
  write_out (line);
  write_out ("\n");
  done (ctl);
}

static void
print_protect (Ctl *ctl)
{
  gboolean on = moat_client_get_protect_computer (ctl->client);

  if (ctl->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) node = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "protect_computer");
      json_builder_add_boolean_value (builder, on);
      json_builder_end_object (builder);
      node = json_builder_get_root (builder);
      print_json (node);
    }
  else
    write_out (on ? _("This computer’s proxy settings point at Moat.\n")
                  : _("This computer’s proxy settings do not use Moat.\n"));
  done (ctl);
}

static void
set_protect_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);

  if (reply == NULL)
    return;
  write_out (g_str_equal (ctl->args[0], "on")
             ? _("This computer’s proxy settings point at Moat now.\n")
             : _("This computer’s previous proxy settings are back.\n"));
  done (ctl);
}

static void
update_lists_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);
  g_autofree char *line = NULL;
  guint started;

  if (reply == NULL)
    return;
  g_variant_get (reply, "(u)", &started);
  line = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Downloading %u subscribed list.",
                                       "Downloading %u subscribed lists.", started), started);
  write_out (line);
  write_out ("\n");
  done (ctl);
}

static void
run_lists (Ctl *ctl)
{
  const char *verb = ctl->args[0];

  if (verb == NULL)
    call (ctl, "GetLists", NULL, get_lists_cb);
  else if (g_str_equal (verb, "enable") || g_str_equal (verb, "disable"))
    call (ctl, "SetListEnabled", g_variant_new ("(sb)", ctl->args[1], g_str_equal (verb, "enable")),
          void_cb);
  else if (g_str_equal (verb, "add"))
    call (ctl, "AddList", g_variant_new ("(sss)", ctl->args[1], ctl->category,
                                         ctl->name != NULL ? ctl->name : ""), add_list_cb);
  else if (g_str_equal (verb, "remove"))
    call (ctl, "RemoveList", g_variant_new ("(s)", ctl->args[1]), void_cb);
  else if (g_str_equal (verb, "update"))
    call (ctl, "UpdateLists", NULL, update_lists_cb);
  else /* category */
    call (ctl, "SetCategoryEnabled",
          g_variant_new ("(sb)", ctl->args[1], g_str_equal (ctl->args[2], "on")), void_cb);
}

static void
run_user_host (Ctl *ctl)
{
  const char *list = ctl->command == COMMAND_ALLOW ? "allow"
                   : ctl->command == COMMAND_BLOCK ? "block" : "protected";

  if (ctl->args[0] == NULL)
    call (ctl, ctl->command == COMMAND_PROTECTED ? "GetProtectedResources" : "GetUserHosts", NULL,
          user_hosts_cb);
  else if (ctl->remove)
    call (ctl, "RemoveUserHost", g_variant_new ("(ss)", ctl->args[0], list), void_cb);
  else
    call (ctl, "AddUserHost", g_variant_new ("(ss)", ctl->args[0], list), add_user_host_cb);
}

static void run_policy (Ctl *ctl);

/* How a chain of the response stands, in words. */
static const char *
response_state_text (const char *state)
{
  if (g_str_equal (state, "trying"))
    return _("trying");
  if (g_str_equal (state, "in-effect"))
    return _("in effect until the threat clears");
  if (g_str_equal (state, "done"))
    return _("done");
  if (g_str_equal (state, "failed"))
    return _("failed");
  return state;
}

static void
add_responses_json (JsonBuilder *builder,
                    GVariant    *responses,
                    const char  *threat,
                    const char  *subject)
{
  GVariantIter iter;
  const char *r_threat, *r_subject, *action, *state, *reason;

  json_builder_begin_array (builder);
  g_variant_iter_init (&iter, responses);
  while (g_variant_iter_next (&iter, "(&s&s&s&s&s)", &r_threat, &r_subject, &action, &state,
                              &reason))
    {
      if (!g_str_equal (r_threat, threat) || !g_str_equal (r_subject, subject))
        continue;
      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "action");
      json_builder_add_string_value (builder, action);
      json_builder_set_member_name (builder, "state");
      json_builder_add_string_value (builder, state);
      json_builder_set_member_name (builder, "reason");
      json_builder_add_string_value (builder, reason);
      json_builder_end_object (builder);
    }
  json_builder_end_array (builder);
}

static void
append_responses_text (GString    *out,
                       GVariant   *responses,
                       const char *threat,
                       const char *subject)
{
  GVariantIter iter;
  const char *r_threat, *r_subject, *action, *state, *reason;

  g_variant_iter_init (&iter, responses);
  while (g_variant_iter_next (&iter, "(&s&s&s&s&s)", &r_threat, &r_subject, &action, &state,
                              &reason))
    {
      if (!g_str_equal (r_threat, threat) || !g_str_equal (r_subject, subject))
        continue;
      g_string_append_printf (out, "    %s: %s", moat_policy_action_get_display_name (action),
                              response_state_text (state));
      if (reason[0] != '\0')
        g_string_append_printf (out, " (%s)", reason);
      g_string_append_c (out, '\n');
    }
}

static void
responses_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);
  g_autoptr(GVariant) threats = g_steal_pointer (&ctl->threats);
  g_autoptr(GVariant) responses = NULL;
  g_autoptr(GVariantIter) iter = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GString) out = g_string_new (NULL);
  const char *threat, *severity, *subject, *evidence;
  gint64 since;

  if (reply == NULL)
    return;
  responses = g_variant_get_child_value (reply, 0);
  g_variant_get (threats, "(a(ssssx))", &iter);
  json_builder_begin_array (builder);
  while (g_variant_iter_next (iter, "(&s&s&s&sx)", &threat, &severity, &subject, &evidence,
                              &since))
    {
      if (ctl->json)
        {
          g_autofree char *utc = moat_cli_format_utc (since);

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "threat");
          json_builder_add_string_value (builder, threat);
          json_builder_set_member_name (builder, "severity");
          json_builder_add_string_value (builder, severity);
          json_builder_set_member_name (builder, "subject");
          json_builder_add_string_value (builder, subject);
          json_builder_set_member_name (builder, "evidence");
          moat_cli_add_json_object (builder, evidence);
          json_builder_set_member_name (builder, "since");
          json_builder_add_string_value (builder, utc);
          json_builder_set_member_name (builder, "since_us");
          json_builder_add_int_value (builder, since);
          json_builder_set_member_name (builder, "responses");
          add_responses_json (builder, responses, threat, subject);
          json_builder_end_object (builder);
        }
      else
        {
          g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (since / G_USEC_PER_SEC);
          g_autoptr(GDateTime) local = utc != NULL ? g_date_time_to_local (utc) : NULL;
          g_autofree char *when = local != NULL ? g_date_time_format (local, "%Y-%m-%d %H:%M")
                                                : g_strdup ("?");

          g_string_append_printf (out, "%s  %-8s  %s  %s\n", when, severity,
                                  moat_threat_get_display_name (threat), subject);
          append_responses_text (out, responses, threat, subject);
        }
    }
  json_builder_end_array (builder);
  if (ctl->json)
    {
      g_autoptr(JsonNode) node = json_builder_get_root (builder);

      print_json (node);
    }
  else if (out->len == 0)
    write_out (_("No active threats.\n"));
  else
    write_out (out->str);
  done (ctl);
}

static const char *
finding_result_text (const char *result)
{
  if (g_str_equal (result, "clean"))
    return _("clean");
  if (g_str_equal (result, "threat"))
    return _("THREAT");
  if (g_str_equal (result, "inconclusive"))
    return _("unsure");
  return result;
}

static void
scan_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);
  g_autoptr(GVariantIter) iter = NULL;
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(GString) out = g_string_new (NULL);
  const char *detector, *subject, *res, *threat, *severity, *summary, *evidence;
  gint64 time;

  if (reply == NULL)
    return;
  g_variant_get (reply, "(a(sssssssx))", &iter);
  json_builder_begin_array (builder);
  while (g_variant_iter_next (iter, "(&s&s&s&s&s&s&sx)", &detector, &subject, &res, &threat,
                              &severity, &summary, &evidence, &time))
    {
      if (ctl->json)
        {
          g_autofree char *utc = moat_cli_format_utc (time);

          json_builder_begin_object (builder);
          json_builder_set_member_name (builder, "detector");
          json_builder_add_string_value (builder, detector);
          json_builder_set_member_name (builder, "subject");
          json_builder_add_string_value (builder, subject);
          json_builder_set_member_name (builder, "result");
          json_builder_add_string_value (builder, res);
          json_builder_set_member_name (builder, "threat");
          json_builder_add_string_value (builder, threat);
          json_builder_set_member_name (builder, "severity");
          json_builder_add_string_value (builder, severity);
          json_builder_set_member_name (builder, "summary");
          json_builder_add_string_value (builder, summary);
          json_builder_set_member_name (builder, "evidence");
          moat_cli_add_json_object (builder, evidence);
          json_builder_set_member_name (builder, "time");
          json_builder_add_string_value (builder, utc);
          json_builder_set_member_name (builder, "time_us");
          json_builder_add_int_value (builder, time);
          json_builder_end_object (builder);
        }
      else
        {
          g_string_append_printf (out, "%-8s  %-11s  %s", finding_result_text (res), detector,
                                  subject);
          if (threat[0] != '\0')
            g_string_append_printf (out, "  (%s, %s)", moat_threat_get_display_name (threat),
                                    severity);
          g_string_append_printf (out, "\n          %s\n", summary);
        }
    }
  json_builder_end_array (builder);
  if (ctl->json)
    {
      g_autoptr(JsonNode) node = json_builder_get_root (builder);

      print_json (node);
    }
  else if (out->len == 0)
    write_out (_("No check could run.\n"));
  else
    write_out (out->str);
  done (ctl);
}

static void
threats_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);

  if (reply == NULL)
    return;
  ctl->threats = g_steal_pointer (&reply);
  call (ctl, "GetResponses", NULL, responses_cb);
}

/* ---- phones ---- */

static void
devices_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);
  g_autoptr(GVariant) devices = NULL;

  if (reply == NULL)
    return;
  devices = g_variant_get_child_value (reply, 0);
  print_value (ctl, devices, moat_cli_devices_to_json, moat_cli_append_devices);
}

static void
posture_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);
  g_autoptr(GVariant) findings = NULL;

  if (reply == NULL)
    return;
  findings = g_variant_get_child_value (reply, 0);
  print_value (ctl, findings, moat_cli_posture_to_json, moat_cli_append_posture);
}

static void
device_checked_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);

  if (reply == NULL)
    return;
  call (ctl, "GetDevicePosture", g_variant_new ("(s)", ctl->args[0]), posture_cb);
}

static void
device_changed_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);
  const char *message = NULL;

  if (reply == NULL)
    return;
  if (g_variant_is_of_type (reply, G_VARIANT_TYPE ("(s)")))
    g_variant_get (reply, "(&s)", &message);
  else if (g_str_equal (ctl->args[1], "protect"))
    message = g_str_equal (ctl->args[2], "on")
              ? _("The phone’s web traffic now goes through Moat’s filter.")
              : _("The phone’s proxy setting is back as it was.");
  if (message != NULL)
    {
      write_out (message);
      write_out ("\n");
    }
  done (ctl);
}

static void
connect_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);
  const char *serial;
  g_autofree char *text = NULL;

  if (reply == NULL)
    return;
  g_variant_get (reply, "(&s)", &serial);
  text = g_strdup_printf (_("Connected to %s. See it with “moatctl devices”.\n"), serial);
  write_out (text);
  done (ctl);
}

/* Asks on the terminal; without one, only --yes changes a phone. */
static gboolean
confirm (Ctl *ctl, const char *question)
{
  char answer[16] = "";

  if (ctl->yes)
    return TRUE;
  if (!isatty (STDIN_FILENO))
    {
      fail (ctl, EXIT_USAGE, _("This changes the phone: add --yes to go ahead"));
      return FALSE;
    }
  g_printerr ("%s %s ", question, _("[y/N]"));
  if (fgets (answer, sizeof answer, stdin) == NULL ||
      (answer[0] != 'y' && answer[0] != 'Y'))
    {
      fail (ctl, EXIT_FAILURE, _("Nothing was changed"));
      return FALSE;
    }
  return TRUE;
}

static void
run_device (Ctl *ctl)
{
  const char *serial = ctl->args[0];
  const char *verb = ctl->args[1];
  g_autofree char *question = NULL;

  if (g_str_equal (verb, "posture"))
    {
      call (ctl, "GetDevicePosture", g_variant_new ("(s)", serial), posture_cb);
      return;
    }
  if (g_str_equal (verb, "check"))
    {
      if (!ctl->json && isatty (STDERR_FILENO))
        g_printerr ("%s", _("Checking the phone…\n"));
      call (ctl, "CheckDevice", g_variant_new ("(s)", serial), device_checked_cb);
      return;
    }
  if (g_str_equal (verb, "protect"))
    {
      gboolean on = g_str_equal (ctl->args[2], "on");

      if (on)
        {
          question = g_strdup_printf (_("Send the web traffic of %s through this computer’s "
                                        "filter? Moat sets the phone’s HTTP proxy and a port "
                                        "forward, and puts both back when you turn it off or "
                                        "unplug the phone."), serial);
          if (!confirm (ctl, question))
            return;
        }
      call (ctl, "SetDeviceRouting", g_variant_new ("(sb)", serial, on), device_changed_cb);
      return;
    }
  if (g_str_equal (verb, "stop-app"))
    question = g_strdup_printf (_("Stop %s on %s?"), ctl->args[2], serial);
  else if (g_str_equal (verb, "disable-app"))
    question = g_strdup_printf (_("Disable %s on %s? It stays installed but cannot run until "
                                  "it is enabled again."), ctl->args[2], serial);
  if (question != NULL && !confirm (ctl, question))
    return;
  call (ctl, "DeviceAction",
        g_variant_new ("(sss)", serial,
                       g_str_equal (verb, "stop-app") ? "force-stop" : verb, ctl->args[2]),
        device_changed_cb);
}

static void
ioc_imported_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) reply = moat_client_call_with_fds_finish (ctl->client, result, &error);
  g_autoptr(GVariant) counts = NULL;
  g_autoptr(GString) out = g_string_new (NULL);
  GVariantIter iter;
  const char *kind;
  guint32 n;
  guint total = 0;

  if (reply == NULL)
    {
      fail_with_error (ctl, error);
      return;
    }
  counts = g_variant_get_child_value (reply, 0);
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) b = json_builder_new ();
      g_autoptr(JsonNode) node = NULL;

      json_builder_begin_object (b);
      g_variant_iter_init (&iter, counts);
      while (g_variant_iter_next (&iter, "{&su}", &kind, &n))
        {
          json_builder_set_member_name (b, kind);
          json_builder_add_int_value (b, n);
        }
      json_builder_end_object (b);
      node = json_builder_get_root (b);
      print_json (node);
      done (ctl);
      return;
    }
  g_variant_iter_init (&iter, counts);
  while (g_variant_iter_next (&iter, "{&su}", &kind, &n))
    {
      g_string_append_printf (out, "  %-18s %u\n", kind, n);
      total += n;
    }
  {
    g_autofree char *head = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                          "Imported %u indicator:\n",
                                                          "Imported %u indicators:\n", total),
                                             total);

    write_out (head);
  }
  write_out (out->str);
  done (ctl);
}

static void
ioc_list_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);
  g_autoptr(GVariantIter) iter = NULL;
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(GString) out = g_string_new (NULL);
  const char *name;
  gint64 imported;
  g_autofree const char **malware = NULL;
  guint32 n;

  if (reply == NULL)
    return;
  g_variant_get (reply, "(a(sxasu))", &iter);
  json_builder_begin_array (b);
  while (g_variant_iter_next (iter, "(&sx^a&su)", &name, &imported, &malware, &n))
    {
      g_autofree char *utc = imported > 0 ? moat_cli_format_utc (imported) : NULL;
      g_autofree char *joined = g_strjoinv (", ", (char **) malware);

      json_builder_begin_object (b);
      json_builder_set_member_name (b, "name");
      json_builder_add_string_value (b, name);
      json_builder_set_member_name (b, "imported");
      if (utc != NULL)
        json_builder_add_string_value (b, utc);
      else
        json_builder_add_null_value (b);
      json_builder_set_member_name (b, "malware");
      json_builder_begin_array (b);
      for (guint i = 0; malware[i] != NULL; i++)
        json_builder_add_string_value (b, malware[i]);
      json_builder_end_array (b);
      json_builder_set_member_name (b, "indicators");
      json_builder_add_int_value (b, n);
      json_builder_end_object (b);
      g_string_append_printf (out, g_dngettext (GETTEXT_PACKAGE, "%s: %u indicator (%s)\n",
                                                "%s: %u indicators (%s)\n", n),
                              name, n, joined);
      g_clear_pointer (&malware, g_free);
    }
  json_builder_end_array (b);
  if (ctl->json)
    {
      g_autoptr(JsonNode) node = json_builder_get_root (b);

      print_json (node);
    }
  else if (out->len == 0)
    write_out (_("No indicators imported.\n"));
  else
    write_out (out->str);
  done (ctl);
}

static void
run_ioc (Ctl *ctl)
{
  g_autoptr(GUnixFDList) fds = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *base = NULL;
  int fd;

  if (ctl->args[0] == NULL)
    {
      call (ctl, "GetIndicators", NULL, ioc_list_cb);
      return;
    }
  fd = open (ctl->args[1], O_RDONLY | O_CLOEXEC);
  if (fd < 0)
    {
      int saved = errno;

      fail (ctl, EXIT_FAILURE, _("Cannot read “%s”: %s"), ctl->args[1], g_strerror (saved));
      return;
    }
  fds = g_unix_fd_list_new ();
  if (g_unix_fd_list_append (fds, fd, &error) < 0)
    {
      close (fd);
      fail_with_error (ctl, error);
      return;
    }
  close (fd);
  base = g_path_get_basename (ctl->args[1]);
  moat_client_call_with_fds_async (ctl->client, "ImportIndicators",
                                   g_variant_new ("(hs)", 0,
                                                  ctl->name != NULL ? ctl->name : base),
                                   fds, NULL, ioc_imported_cb, ctl);
}

/* ---- health ---- */

static void
health_props_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);
  g_autoptr(GVariant) props = NULL;
  g_autoptr(GVariant) items = NULL;
  guint32 level = 0;
  const char *summary = "";

  if (reply == NULL)
    return;
  props = g_variant_get_child_value (reply, 0);
  g_variant_lookup (props, "HealthLevel", "u", &level);
  g_variant_lookup (props, "HealthSummary", "&s", &summary);
  items = g_variant_get_child_value (ctl->threats, 0);
  if (ctl->json)
    {
      g_autoptr(JsonNode) node = moat_cli_health_to_json (level, summary, items);

      print_json (node);
    }
  else
    {
      g_autoptr(GString) out = g_string_new (NULL);

      moat_cli_append_health (out, level, summary, items, ctl->all);
      write_out (out->str);
    }
  done (ctl);
}

/* GetHealth's reply, then the level and its sentence. */
static void
health_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);

  if (reply == NULL)
    return;
  g_clear_pointer (&ctl->threats, g_variant_unref);
  ctl->threats = g_steal_pointer (&reply);
  call (ctl, "org.freedesktop.DBus.Properties.GetAll",
        g_variant_new ("(s)", "io.github.moatproject.Moat1"), health_props_cb);
}

static void
health_checked_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);

  if (reply == NULL)
    return;
  call (ctl, "GetHealth", NULL, health_cb);
}

static void
health_listed_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);
  g_autoptr(GVariant) items = NULL;
  gboolean moat_checked = FALSE;
  GVariantIter iter;
  const char *area;

  if (reply == NULL)
    return;
  /* Never checked yet: check now rather than show nothing. */
  items = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&iter, items);
  while (!moat_checked && g_variant_iter_next (&iter, "(&s&s@s@s@s@s@s@s@s@s@as@b@s@x)", NULL,
                                               &area, NULL, NULL, NULL, NULL, NULL, NULL,
                                               NULL, NULL, NULL, NULL, NULL, NULL))
    moat_checked = g_str_equal (area, "moat");
  if (!moat_checked)
    {
      call (ctl, "CheckHealth", g_variant_new ("(s)", ""), health_checked_cb);
      return;
    }
  g_clear_pointer (&ctl->threats, g_variant_unref);
  ctl->threats = g_steal_pointer (&reply);
  call (ctl, "org.freedesktop.DBus.Properties.GetAll",
        g_variant_new ("(s)", "io.github.moatproject.Moat1"), health_props_cb);
}

static void
run_health (Ctl *ctl)
{
  const char *subject;

  if (ctl->args[0] == NULL)
    call (ctl, "GetHealth", NULL, health_listed_cb);
  else if (g_str_equal (ctl->args[0], "check"))
    {
      if (!ctl->json && isatty (STDERR_FILENO))
        g_printerr ("%s", _("Checking…\n"));
      call (ctl, "CheckHealth", g_variant_new ("(s)", ""), health_checked_cb);
    }
  else if (g_str_equal (ctl->args[0], "fix"))
    {
      g_autofree char *question = NULL;

      subject = ctl->args[2] != NULL ? ctl->args[2] : "";
      question = g_strdup_printf (_("Let Moat fix “%s”?"), ctl->args[1]);
      if (!confirm (ctl, question))
        return;
      call (ctl, "FixHealth", g_variant_new ("(ss)", ctl->args[1], subject), device_changed_cb);
    }
  else
    {
      subject = ctl->args[2] != NULL ? ctl->args[2] : "";
      call (ctl, "SnoozeHealth", g_variant_new ("(ssx)", ctl->args[1], subject,
                                                ctl->snooze_until), void_cb);
    }
}

/* ---- report ---- */

static void
report_built_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonNode) model = moat_report_model_build_finish (ctl->client, result, &error);
  g_autoptr(GOutputStream) out = NULL;
  g_autoptr(GFile) file = NULL;
  gboolean to_stdout;

  if (model == NULL)
    {
      fail_with_error (ctl, error);
      return;
    }
  to_stdout = g_str_equal (ctl->output, "-");
  if (to_stdout)
    {
      out = g_unix_output_stream_new (STDOUT_FILENO, FALSE);
    }
  else
    {
      /* Written next to FILE and renamed over it when complete. */
      file = g_file_new_for_commandline_arg (ctl->output);
      out = G_OUTPUT_STREAM (g_file_replace (file, NULL, FALSE, G_FILE_CREATE_NONE, NULL,
                                             &error));
      if (out == NULL)
        {
          fail (ctl, EXIT_FAILURE_, _("Cannot write “%s”: %s"), ctl->output, error->message);
          return;
        }
    }
  if (!moat_report_write (model, ctl->report_format, out, &error))
    {
      g_autoptr(GCancellable) abandon = g_cancellable_new ();

      /* A cancelled close leaves FILE as it was. */
      g_cancellable_cancel (abandon);
      g_output_stream_close (out, abandon, NULL);
      fail (ctl, EXIT_FAILURE_, _("Cannot write “%s”: %s"), ctl->output, error->message);
      return;
    }
  if (!g_output_stream_close (out, NULL, &error))
    {
      fail (ctl, EXIT_FAILURE_, _("Cannot write “%s”: %s"), ctl->output, error->message);
      return;
    }
  if (!to_stdout)
    {
      g_autofree char *text = g_strdup_printf (_("Wrote the report to %s.\n"), ctl->output);

      g_printerr ("%s", text);
    }
  done (ctl);
}

static void
run_command (Ctl *ctl)
{
  switch (ctl->command)
    {
    case COMMAND_STATUS:
      print_status (ctl);
      break;
    case COMMAND_CHECK:
      call (ctl, "Check", g_variant_new ("(s)", ctl->args[0]), check_cb);
      break;
    case COMMAND_LISTS:
      run_lists (ctl);
      break;
    case COMMAND_ALLOW:
    case COMMAND_BLOCK:
    case COMMAND_PROTECTED:
      run_user_host (ctl);
      break;
    case COMMAND_POLICY:
      run_policy (ctl);
      break;
    case COMMAND_THREATS:
      call (ctl, "GetThreats", NULL, threats_cb);
      break;
    case COMMAND_SCAN:
      if (!ctl->json && isatty (STDERR_FILENO))
        g_printerr ("%s", _("Checking the network…\n"));
      call (ctl, "Scan", NULL, scan_cb);
      break;
    case COMMAND_PROTECT:
      if (ctl->args[0] == NULL)
        print_protect (ctl);
      else
        call (ctl, "SetProtectComputer", g_variant_new ("(b)", g_str_equal (ctl->args[0], "on")),
              set_protect_cb);
      break;
    case COMMAND_DEVICES:
      call (ctl, "GetDevices", NULL, devices_cb);
      break;
    case COMMAND_DEVICE:
      run_device (ctl);
      break;
    case COMMAND_CONNECT:
      call (ctl, "ConnectDevice", g_variant_new ("(s)", ctl->args[0]), connect_cb);
      break;
    case COMMAND_IOC:
      run_ioc (ctl);
      break;
    case COMMAND_HEALTH:
      run_health (ctl);
      break;
    case COMMAND_REPORT:
      moat_report_model_build_async (ctl->client, ctl->report_since,
                                   (const char * const *) ctl->sections, NULL, report_built_cb,
                                   ctl);
      break;
    case COMMAND_EVENTS:
    default:
      g_assert_not_reached ();
    }
}

/* ---- policy ---- */

static void
get_policy_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);
  const char *name, *text;

  if (reply == NULL)
    return;
  g_variant_get (reply, "(&s&s)", &name, &text);
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) node = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "name");
      json_builder_add_string_value (builder, name);
      json_builder_set_member_name (builder, "text");
      json_builder_add_string_value (builder, text);
      json_builder_end_object (builder);
      node = json_builder_get_root (builder);
      print_json (node);
    }
  else
    {
      /* Translators: the first line of "moatctl policy show"; %s is the policy's name */
      g_autofree char *head = g_strdup_printf (_("# The policy in force: %s\n"), name);

      write_out (head);
      write_out (text);
    }
  done (ctl);
}

static void
load_policy_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Ctl *ctl = user_data;
  g_autoptr(GVariant) reply = call_finish (ctl, result);

  if (reply == NULL)
    return;
  if (!ctl->json)
    {
      g_autofree char *line = g_strdup_printf (_("%s is the policy in force\n"), ctl->args[1]);

      write_out (line);
    }
  done (ctl);
}

static void
run_policy (Ctl *ctl)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;
  g_autofree char *name = NULL;
  gsize len;

  if (g_str_equal (ctl->args[0], "show"))
    {
      call (ctl, "GetPolicy", NULL, get_policy_cb);
      return;
    }
  /* "load": moatd may not see this file (another mount namespace, a
   * sandbox), so its text is sent. */
  if (!g_file_get_contents (ctl->args[1], &text, &len, &error))
    {
      fail (ctl, EXIT_FAILURE_, "%s", error->message);
      return;
    }
  if (len > MOAT_POLICY_MAX_SIZE || memchr (text, '\0', len) != NULL ||
      !g_utf8_validate (text, len, NULL))
    {
      /* Let the parser name the fault, as moatd would. */
      g_autoptr(MoatPolicy) policy = moat_policy_parse (ctl->args[1], text, len, &error);

      fail (ctl, EXIT_FAILURE_, "%s", error != NULL ? error->message : "?");
      return;
    }
  name = g_canonicalize_filename (ctl->args[1], NULL);
  call (ctl, "LoadPolicy", g_variant_new ("(ss)", name, text), load_policy_cb);
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
    case COMMAND_EVENTS:
      run_events (ctl);
      break;
    default:
      /* Properties are read from the running moatd, so start it first. */
      if (moat_client_get_engine_running (ctl->client))
        run_command (ctl);
      else
        moat_client_start_engine_async (ctl->client, NULL, start_engine_cb, ctl);
      break;
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
  char     *category;
  char     *name;
  gboolean  remove;
  gboolean  yes;
  gboolean  all;
  char     *for_span;
  char     *format;
  char     *output;
  char     *include;
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
  g_free (o->category);
  g_free (o->name);
  g_free (o->for_span);
  g_free (o->format);
  g_free (o->output);
  g_free (o->include);
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

/* report: --format and -o are needed; --since defaults to a week before now. */
static gboolean
parse_report_options (Ctl *ctl, Options *o)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GError) error = NULL;

  if (o->format == NULL || !moat_report_format_from_string (o->format, &ctl->report_format))
    {
      fail (ctl, EXIT_USAGE, _("“report” needs --format html, pdf or json"));
      return FALSE;
    }
  if (o->output == NULL || o->output[0] == '\0')
    {
      fail (ctl, EXIT_USAGE, _("“report” needs -o FILE (- for standard output)"));
      return FALSE;
    }
  ctl->output = g_strdup (o->output);
  ctl->sections = moat_report_model_parse_sections (o->include, &error);
  if (ctl->sections == NULL)
    {
      fail (ctl, EXIT_USAGE, "%s", error->message);
      return FALSE;
    }
  if (o->since == NULL)
    {
      g_autoptr(GDateTime) week_ago = g_date_time_add_weeks (now, -1);

      ctl->report_since = g_date_time_to_unix (week_ago) * G_USEC_PER_SEC;
    }
  else if (!moat_cli_parse_time (o->since, now, &ctl->report_since, &error))
    {
      fail (ctl, EXIT_USAGE, "%s", error->message);
      return FALSE;
    }
  return TRUE;
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
    { "category", 'c', 0, G_OPTION_ARG_STRING, &o.category, NULL, NULL },
    { "name", 0, 0, G_OPTION_ARG_STRING, &o.name, NULL, NULL },
    { "remove", 'r', 0, G_OPTION_ARG_NONE, &o.remove, NULL, NULL },
    { "yes", 'y', 0, G_OPTION_ARG_NONE, &o.yes, NULL, NULL },
    { "all", 0, 0, G_OPTION_ARG_NONE, &o.all, NULL, NULL },
    { "for", 0, 0, G_OPTION_ARG_STRING, &o.for_span, NULL, NULL },
    { "format", 0, 0, G_OPTION_ARG_STRING, &o.format, NULL, NULL },
    { "output", 'o', 0, G_OPTION_ARG_FILENAME, &o.output, NULL, NULL },
    { "include", 0, 0, G_OPTION_ARG_STRING, &o.include, NULL, NULL },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;
  gboolean ok = FALSE;
  const char *command;
  guint n_args;

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
      fail (ctl, EXIT_USAGE,
            _("No command given: use status, events, check, lists, allow, block, protect, "
              "protected, threats, scan, devices, device, connect, ioc, health, report or policy"));
      goto out;
    }
  command = (*argv)[1];
  if (g_str_equal (command, "status"))
    ctl->command = COMMAND_STATUS;
  else if (g_str_equal (command, "events"))
    ctl->command = COMMAND_EVENTS;
  else if (g_str_equal (command, "check"))
    ctl->command = COMMAND_CHECK;
  else if (g_str_equal (command, "lists"))
    ctl->command = COMMAND_LISTS;
  else if (g_str_equal (command, "allow"))
    ctl->command = COMMAND_ALLOW;
  else if (g_str_equal (command, "block"))
    ctl->command = COMMAND_BLOCK;
  else if (g_str_equal (command, "protect"))
    ctl->command = COMMAND_PROTECT;
  else if (g_str_equal (command, "protected"))
    ctl->command = COMMAND_PROTECTED;
  else if (g_str_equal (command, "policy"))
    ctl->command = COMMAND_POLICY;
  else if (g_str_equal (command, "threats"))
    ctl->command = COMMAND_THREATS;
  else if (g_str_equal (command, "scan"))
    ctl->command = COMMAND_SCAN;
  else if (g_str_equal (command, "devices"))
    ctl->command = COMMAND_DEVICES;
  else if (g_str_equal (command, "device"))
    ctl->command = COMMAND_DEVICE;
  else if (g_str_equal (command, "connect"))
    ctl->command = COMMAND_CONNECT;
  else if (g_str_equal (command, "ioc"))
    ctl->command = COMMAND_IOC;
  else if (g_str_equal (command, "health"))
    ctl->command = COMMAND_HEALTH;
  else if (g_str_equal (command, "report"))
    ctl->command = COMMAND_REPORT;
  else
    {
      fail (ctl, EXIT_USAGE,
            _("“%s” is not a command: use status, events, check, lists, allow, block, protect, "
              "protected, threats, scan, devices, device, connect, ioc, health, report or policy"),
            command);
      goto out;
    }
  ctl->args = g_strdupv (*argv + 2);
  n_args = g_strv_length (ctl->args);
  ctl->json = o.json;
  ctl->follow = o.follow;
  ctl->limit = DEFAULT_LIMIT;

  if (ctl->command == COMMAND_REPORT && !parse_report_options (ctl, &o))
    goto out;
  if ((o.format != NULL || o.output != NULL || o.include != NULL) &&
      ctl->command != COMMAND_REPORT)
    {
      fail (ctl, EXIT_USAGE, _("--format, --output and --include belong to “report”"));
      goto out;
    }
  if (ctl->command != COMMAND_EVENTS &&
      ((o.since && ctl->command != COMMAND_REPORT) || o.until || o.kind || o.severity || o.source || o.search || o.limit || o.follow))
    {
      fail (ctl, EXIT_USAGE, _("“%s” takes no event options"), command);
      goto out;
    }
  if (o.name != NULL && ctl->command == COMMAND_IOC && n_args > 0 &&
      g_str_equal (ctl->args[0], "import"))
    ctl->name = g_strdup (o.name);
  else if ((o.category != NULL || o.name != NULL) &&
      !(ctl->command == COMMAND_LISTS && n_args > 0 && g_str_equal (ctl->args[0], "add")))
    {
      fail (ctl, EXIT_USAGE, _("--category and --name belong to “lists add”"));
      goto out;
    }
  if (o.yes && ctl->command != COMMAND_DEVICE && ctl->command != COMMAND_HEALTH)
    {
      fail (ctl, EXIT_USAGE, _("--yes belongs to “device” and “health fix”"));
      goto out;
    }
  if ((o.all || o.for_span != NULL) && ctl->command != COMMAND_HEALTH)
    {
      fail (ctl, EXIT_USAGE, _("--all and --for belong to “health”"));
      goto out;
    }
  ctl->yes = o.yes;
  ctl->all = o.all;
  if (o.remove && ctl->command != COMMAND_ALLOW && ctl->command != COMMAND_BLOCK &&
      ctl->command != COMMAND_PROTECTED)
    {
      fail (ctl, EXIT_USAGE, _("--remove belongs to “allow”, “block” and “protected”"));
      goto out;
    }

  switch (ctl->command)
    {
    case COMMAND_STATUS:
    case COMMAND_REPORT:
    case COMMAND_EVENTS:
    case COMMAND_THREATS:
    case COMMAND_SCAN:
    case COMMAND_DEVICES:
      if (n_args > 0)
        {
          fail (ctl, EXIT_USAGE, _("Unexpected argument “%s”"), ctl->args[0]);
          goto out;
        }
      break;
    case COMMAND_CHECK:
      if (n_args != 1)
        {
          fail (ctl, EXIT_USAGE, _("“check” takes one host name or URL"));
          goto out;
        }
      break;
    case COMMAND_LISTS:
      if (n_args == 0 || (n_args == 1 && g_str_equal (ctl->args[0], "update")))
        break;
      if ((g_str_equal (ctl->args[0], "enable") || g_str_equal (ctl->args[0], "disable") ||
           g_str_equal (ctl->args[0], "remove")) && n_args == 2)
        break;
      if (g_str_equal (ctl->args[0], "add") && n_args == 2)
        {
          if (o.category == NULL)
            {
              fail (ctl, EXIT_USAGE, _("“lists add” needs --category"));
              goto out;
            }
          ctl->category = g_strdup (o.category);
          ctl->name = g_strdup (o.name);
          /* A relative file name means one in the current folder. */
          if (strstr (ctl->args[1], "://") == NULL && !g_path_is_absolute (ctl->args[1]))
            {
              char *absolute = g_canonicalize_filename (ctl->args[1], NULL);

              g_free (ctl->args[1]);
              ctl->args[1] = absolute;
            }
          break;
        }
      if (g_str_equal (ctl->args[0], "category") && n_args == 3 &&
          (g_str_equal (ctl->args[2], "on") || g_str_equal (ctl->args[2], "off")))
        break;
      fail (ctl, EXIT_USAGE, _("Use “lists”, “lists update”, “lists enable|disable|remove ID”, "
                               "“lists add URL|FILE --category CATEGORY” or "
                               "“lists category CATEGORY on|off”"));
      goto out;
    case COMMAND_ALLOW:
    case COMMAND_BLOCK:
    case COMMAND_PROTECTED:
      if (n_args > 1 || (o.remove && n_args == 0))
        {
          fail (ctl, EXIT_USAGE, _("“%s” takes one host name"), command);
          goto out;
        }
      ctl->remove = o.remove;
      break;
    case COMMAND_POLICY:
      if ((n_args == 2 && (g_str_equal (ctl->args[0], "check") ||
                           g_str_equal (ctl->args[0], "load"))) ||
          (n_args == 1 && g_str_equal (ctl->args[0], "show")))
        break;
      fail (ctl, EXIT_USAGE, _("Use “policy check FILE”, “policy load FILE” or “policy show”"));
      goto out;
    case COMMAND_PROTECT:
      if (n_args > 1 ||
          (n_args == 1 && !g_str_equal (ctl->args[0], "on") && !g_str_equal (ctl->args[0], "off")))
        {
          fail (ctl, EXIT_USAGE, _("Use “protect”, “protect on” or “protect off”"));
          goto out;
        }
      break;
    case COMMAND_HEALTH:
      if (n_args == 0 || (n_args == 1 && g_str_equal (ctl->args[0], "check")) ||
          ((n_args == 2 || n_args == 3) && g_str_equal (ctl->args[0], "fix")))
        break;
      if ((n_args == 2 || n_args == 3) && g_str_equal (ctl->args[0], "snooze"))
        {
          g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
          g_autoptr(GError) span_error = NULL;
          gint64 before;

          if (o.for_span == NULL || o.for_span[0] == '\0' ||
              !g_ascii_isdigit (o.for_span[0]) ||
              !moat_cli_parse_time (o.for_span, now, &before, &span_error))
            {
              fail (ctl, EXIT_USAGE, _("“health snooze” needs --for SPAN, such as 1d or 3h"));
              goto out;
            }
          ctl->snooze_until = 2 * (g_date_time_to_unix (now) * G_USEC_PER_SEC +
                                   g_date_time_get_microsecond (now)) - before;
          break;
        }
      fail (ctl, EXIT_USAGE, _("Use “health”, “health check”, “health fix ID [SUBJECT]” or "
                               "“health snooze ID [SUBJECT] --for SPAN”"));
      goto out;
    case COMMAND_IOC:
      if (n_args == 0 || (n_args == 2 && g_str_equal (ctl->args[0], "import")))
        break;
      fail (ctl, EXIT_USAGE, _("Use “ioc” or “ioc import FILE [--name NAME]”"));
      goto out;
    case COMMAND_CONNECT:
      if (n_args != 1)
        {
          fail (ctl, EXIT_USAGE, _("“connect” takes a phone’s address, host[:port]"));
          goto out;
        }
      break;
    case COMMAND_DEVICE:
      if ((n_args == 2 && (g_str_equal (ctl->args[1], "posture") ||
                           g_str_equal (ctl->args[1], "check"))) ||
          (n_args == 3 && g_str_equal (ctl->args[1], "protect") &&
           (g_str_equal (ctl->args[2], "on") || g_str_equal (ctl->args[2], "off"))) ||
          (n_args == 3 && (g_str_equal (ctl->args[1], "stop-app") ||
                           g_str_equal (ctl->args[1], "disable-app") ||
                           g_str_equal (ctl->args[1], "enable-app") ||
                           g_str_equal (ctl->args[1], "open-settings"))))
        break;
      fail (ctl, EXIT_USAGE, _("Use “device SERIAL posture|check”, “device SERIAL protect "
                               "on|off”, “device SERIAL stop-app|disable-app|enable-app "
                               "PACKAGE” or “device SERIAL open-settings SCREEN”"));
      goto out;
    default:
      g_assert_not_reached ();
    }

  if (ctl->command != COMMAND_EVENTS)
    {
      ok = TRUE;
      goto out;
    }
  ok = parse_event_options (ctl, &o);

out:
  options_clear (&o);
  return ok;
}

/* `policy check FILE`: parsed here, as moatd would; no moatd needed. */
static void
run_policy_check (Ctl *ctl)
{
  const char *path = ctl->args[1];
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatPolicy) policy = moat_policy_load_file (path, &error);
  guint n_rules;

  if (policy == NULL)
    {
      fail (ctl, EXIT_FAILURE_, "%s", error->message);
      return;
    }
  n_rules = moat_policy_get_n_rules (policy);
  if (ctl->json)
    {
      g_autoptr(JsonBuilder) builder = json_builder_new ();
      g_autoptr(JsonNode) node = NULL;

      json_builder_begin_object (builder);
      json_builder_set_member_name (builder, "file");
      json_builder_add_string_value (builder, path);
      json_builder_set_member_name (builder, "valid");
      json_builder_add_boolean_value (builder, TRUE);
      json_builder_set_member_name (builder, "rules");
      json_builder_add_int_value (builder, n_rules);
      json_builder_end_object (builder);
      node = json_builder_get_root (builder);
      print_json (node);
    }
  else
    {
      g_autofree char *line =
        g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%s: a valid policy with %u rule\n",
                                      "%s: a valid policy with %u rules\n", n_rules),
                         path, n_rules);

      write_out (line);
    }
  ctl->exit_code = EXIT_OK;
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

  if (ctl.command == COMMAND_POLICY && g_str_equal (ctl.args[0], "check"))
    {
      run_policy_check (&ctl);
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
