/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * moat-probe-tool: runs one detector with options from the command line and
 * prints each finding as one JSON object per line, for the namespace tests
 * and for trying detectors by hand.
 *
 *   moat-probe-tool tls --target host[:port][@address][#pin] [--ca-file F] [--timeout S]
 *   moat-probe-tool trust-store [--path P] [--baseline FILE] [--save FILE]
 *   moat-probe-tool dns [--resolver ADDR] [--resolv-conf F] --pin NAME=ADDR[,ADDR]…
 *                       [--nxdomain-zone Z] [--nxdomain-count N] [--dnssec-name NAME]
 *                       [--dnssec-required] [--timeout S] [--retries N]
 *   moat-probe-tool http --target "URL expect-… VALUE"… [--timeout S] [--max-body BYTES]
 *
 * Add a detector by adding a function to the commands[] table.
 * Exit status: 0 when the detector ran, 1 when it failed, 2 on bad usage.
 */
#include "config.h"

#include "moat-dns-probe.h"
#include "moat-finding.h"
#include "moat-http-probe.h"
#include "moat-tls-probe.h"
#include "moat-trust-store.h"

#include <json-glib/json-glib.h>
#include <locale.h>
#include <stdio.h>

typedef struct {
  GMainLoop    *loop;
  GAsyncResult *result;
} Waiter;

static void
result_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  Waiter *waiter = user_data;

  waiter->result = g_object_ref (result);
  g_main_loop_quit (waiter->loop);
}

static void
wait_for (Waiter *waiter)
{
  waiter->loop = g_main_loop_new (NULL, FALSE);
  g_main_loop_run (waiter->loop);
  g_clear_pointer (&waiter->loop, g_main_loop_unref);
}

static void
print_finding (const MoatFinding *finding)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *line = NULL;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "detector");
  json_builder_add_string_value (builder, finding->detector);
  json_builder_set_member_name (builder, "subject");
  json_builder_add_string_value (builder, finding->subject);
  json_builder_set_member_name (builder, "result");
  json_builder_add_string_value (builder, moat_finding_result_to_string (finding->result));
  json_builder_set_member_name (builder, "threat");
  if (finding->threat != NULL)
    json_builder_add_string_value (builder, finding->threat);
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "severity");
  json_builder_add_string_value (builder, moat_severity_to_string (finding->severity));
  json_builder_set_member_name (builder, "summary");
  json_builder_add_string_value (builder, finding->summary);
  json_builder_set_member_name (builder, "evidence");
  if (finding->evidence != NULL)
    {
      g_autoptr(JsonNode) evidence = json_from_string (finding->evidence, NULL);

      if (evidence != NULL)
        json_builder_add_value (builder, g_steal_pointer (&evidence));
      else
        json_builder_add_string_value (builder, finding->evidence);
    }
  else
    json_builder_add_null_value (builder);
  json_builder_set_member_name (builder, "duration_us");
  json_builder_add_int_value (builder, finding->duration_us);
  json_builder_end_object (builder);

  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  line = json_generator_to_data (generator, NULL);
  g_print ("%s\n", line);
}

static void
print_findings (GPtrArray *findings)
{
  for (guint i = 0; i < findings->len; i++)
    print_finding (g_ptr_array_index (findings, i));
  fflush (stdout);
}

static gboolean
parse_options (GOptionEntry  *entries,
               const char    *summary,
               int           *argc,
               char        ***argv)
{
  g_autoptr(GOptionContext) context = g_option_context_new (NULL);
  g_autoptr(GError) error = NULL;

  g_option_context_set_summary (context, summary);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, argc, argv, &error))
    {
      g_printerr ("%s\n", error->message);
      return FALSE;
    }
  if (*argc > 1)
    {
      g_printerr ("Unexpected argument “%s”\n", (*argv)[1]);
      return FALSE;
    }
  return TRUE;
}

static int
run_tls (int    argc,
         char **argv)
{
  g_auto(GStrv) targets = NULL;
  g_autofree char *ca_file = NULL;
  double timeout = 0;
  GOptionEntry entries[] = {
    { "target", 't', 0, G_OPTION_ARG_STRING_ARRAY, &targets,
      "A host to check (repeatable)", "HOST[:PORT][@ADDRESS][#PIN]" },
    { "ca-file", 0, 0, G_OPTION_ARG_FILENAME, &ca_file,
      "Trust these CAs instead of the system store", "FILE" },
    { "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &timeout,
      "Seconds per target (default 5)", "S" },
    { NULL }
  };
  g_autoptr(MoatTlsProbeOptions) options = moat_tls_probe_options_new ();
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GError) error = NULL;
  Waiter waiter = { NULL, NULL };

  if (!parse_options (entries, "Checks TLS connections for interception.", &argc, &argv))
    return 2;
  if (targets == NULL)
    {
      g_printerr ("No --target given\n");
      return 2;
    }
  for (guint i = 0; targets[i] != NULL; i++)
    if (!moat_tls_probe_options_add_target_spec (options, targets[i], &error))
      {
        g_printerr ("%s\n", error->message);
        return 2;
      }
  if (timeout < 0 || timeout > 300)
    {
      g_printerr ("--timeout must be between 0 and 300 seconds\n");
      return 2;
    }
  moat_tls_probe_options_set_ca_file (options, ca_file);
  moat_tls_probe_options_set_timeout (options, (guint) (timeout * 1000));

  moat_tls_probe_run_async (options, NULL, result_cb, &waiter);
  wait_for (&waiter);
  findings = moat_tls_probe_run_finish (waiter.result, &error);
  g_clear_object (&waiter.result);
  if (findings == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  print_findings (findings);
  return 0;
}

static int
run_trust_store (int    argc,
                 char **argv)
{
  g_autofree char *path = NULL;
  g_autofree char *baseline_file = NULL;
  g_autofree char *save_file = NULL;
  GOptionEntry entries[] = {
    { "path", 0, 0, G_OPTION_ARG_FILENAME, &path,
      "A PEM bundle or directory instead of the system store", "PATH" },
    { "baseline", 0, 0, G_OPTION_ARG_FILENAME, &baseline_file,
      "The last snapshot, one fingerprint per line", "FILE" },
    { "save", 0, 0, G_OPTION_ARG_FILENAME, &save_file,
      "Write the new snapshot here", "FILE" },
    { NULL }
  };
  g_auto(GStrv) baseline = NULL;
  g_auto(GStrv) snapshot = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GError) error = NULL;
  Waiter waiter = { NULL, NULL };

  if (!parse_options (entries, "Checks the trust store for new root CAs.", &argc, &argv))
    return 2;
  if (baseline_file != NULL)
    {
      g_autofree char *text = NULL;

      if (!g_file_get_contents (baseline_file, &text, NULL, &error))
        {
          g_printerr ("%s\n", error->message);
          return 2;
        }
      g_strstrip (text);
      baseline = *text != '\0' ? g_strsplit (text, "\n", -1) : g_new0 (char *, 1);
    }

  moat_trust_store_check_async (path, (const char * const *) baseline, NULL, result_cb, &waiter);
  wait_for (&waiter);
  findings = moat_trust_store_check_finish (waiter.result, &snapshot, &error);
  g_clear_object (&waiter.result);
  if (findings == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  print_findings (findings);
  if (save_file != NULL && snapshot != NULL)
    {
      g_autofree char *joined = g_strjoinv ("\n", snapshot);
      g_autofree char *text = g_strconcat (joined, "\n", NULL);

      if (!g_file_set_contents (save_file, text, -1, &error))
        {
          g_printerr ("%s\n", error->message);
          return 1;
        }
    }
  return 0;
}

static int
run_dns (int    argc,
         char **argv)
{
  g_autofree char *resolver = NULL;
  g_autofree char *resolv_conf = NULL;
  g_auto(GStrv) pins = NULL;
  g_autofree char *zone = NULL;
  g_autofree char *dnssec_name = NULL;
  gboolean dnssec_required = FALSE;
  int nxdomain_count = -1;
  int retries = -1;
  double timeout = 0;
  GOptionEntry entries[] = {
    { "resolver", 'r', 0, G_OPTION_ARG_STRING, &resolver,
      "Ask this resolver instead of those of resolv.conf", "ADDRESS[:PORT]" },
    { "resolv-conf", 0, 0, G_OPTION_ARG_FILENAME, &resolv_conf,
      "Read nameservers from this file (default /etc/resolv.conf)", "FILE" },
    { "pin", 'p', 0, G_OPTION_ARG_STRING_ARRAY, &pins,
      "A name and its known addresses (repeatable)", "NAME=ADDRESS[,ADDRESS]" },
    { "nxdomain-zone", 0, 0, G_OPTION_ARG_STRING, &zone,
      "Random names under this zone must not exist", "ZONE" },
    { "nxdomain-count", 0, 0, G_OPTION_ARG_INT, &nxdomain_count,
      "How many random names to ask for (default 3)", "N" },
    { "dnssec-name", 0, 0, G_OPTION_ARG_STRING, &dnssec_name,
      "A DNSSEC-signed name", "NAME" },
    { "dnssec-required", 0, 0, G_OPTION_ARG_NONE, &dnssec_required,
      "The resolver is known to validate DNSSEC", NULL },
    { "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &timeout,
      "Seconds per query, retries included (default 5)", "S" },
    { "retries", 0, 0, G_OPTION_ARG_INT, &retries,
      "Retries per query (default 2)", "N" },
    { NULL }
  };
  g_autoptr(MoatDnsProbeOptions) options = moat_dns_probe_options_new ();
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GError) error = NULL;
  Waiter waiter = { NULL, NULL };

  if (!parse_options (entries, "Checks the resolver for DNS hijacking.", &argc, &argv))
    return 2;
  if (timeout < 0 || timeout > 60)
    {
      g_printerr ("--timeout must be between 0 and 60 seconds\n");
      return 2;
    }
  for (guint i = 0; pins != NULL && pins[i] != NULL; i++)
    if (!moat_dns_probe_options_add_pinned (options, pins[i], &error))
      break;
  if (error == NULL)
    moat_dns_probe_options_set_resolver (options, resolver, &error);
  if (error == NULL)
    moat_dns_probe_options_set_nxdomain_zone (options, zone, &error);
  if (error == NULL)
    moat_dns_probe_options_set_dnssec_name (options, dnssec_name, &error);
  if (error != NULL)
    {
      g_printerr ("%s\n", error->message);
      return 2;
    }
  if (resolv_conf != NULL)
    moat_dns_probe_options_set_resolv_conf (options, resolv_conf);
  if (nxdomain_count >= 0)
    moat_dns_probe_options_set_nxdomain_count (options, (guint) nxdomain_count);
  if (retries >= 0)
    moat_dns_probe_options_set_retries (options, (guint) retries);
  if (timeout > 0)
    moat_dns_probe_options_set_timeout (options, (guint) (timeout * 1000));
  moat_dns_probe_options_set_dnssec_required (options, dnssec_required);

  moat_dns_probe_run_async (options, NULL, result_cb, &waiter);
  wait_for (&waiter);
  findings = moat_dns_probe_run_finish (waiter.result, &error);
  g_clear_object (&waiter.result);
  if (findings == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  print_findings (findings);
  return 0;
}

static int
run_http (int    argc,
          char **argv)
{
  g_auto(GStrv) targets = NULL;
  double timeout = 0;
  gint64 max_body = 0;
  GOptionEntry entries[] = {
    { "target", 't', 0, G_OPTION_ARG_STRING_ARRAY, &targets,
      "A URL and what it must answer (repeatable)", "\"URL expect-… VALUE…\"" },
    { "timeout", 0, 0, G_OPTION_ARG_DOUBLE, &timeout,
      "Seconds per target (default 5)", "S" },
    { "max-body", 0, 0, G_OPTION_ARG_INT64, &max_body,
      "Most body bytes read per target (default 1 MiB)", "BYTES" },
    { NULL }
  };
  g_autoptr(MoatHttpProbeOptions) options = moat_http_probe_options_new ();
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GError) error = NULL;
  Waiter waiter = { NULL, NULL };

  if (!parse_options (entries, "Checks plain-HTTP addresses for SSL stripping and injected "
                      "content.", &argc, &argv))
    return 2;
  if (targets == NULL)
    {
      g_printerr ("No --target given\n");
      return 2;
    }
  for (guint i = 0; targets[i] != NULL; i++)
    if (!moat_http_probe_options_add_target (options, targets[i], &error))
      {
        g_printerr ("%s\n", error->message);
        return 2;
      }
  if (timeout < 0 || timeout > 60 || max_body < 0)
    {
      g_printerr ("--timeout must be between 0 and 60 seconds, --max-body positive\n");
      return 2;
    }
  if (timeout > 0)
    moat_http_probe_options_set_timeout (options, (guint) (timeout * 1000));
  if (max_body > 0)
    moat_http_probe_options_set_max_body (options, (gsize) max_body);

  moat_http_probe_run_async (options, NULL, result_cb, &waiter);
  wait_for (&waiter);
  findings = moat_http_probe_run_finish (waiter.result, &error);
  g_clear_object (&waiter.result);
  if (findings == NULL)
    {
      g_printerr ("%s\n", error->message);
      return 1;
    }
  print_findings (findings);
  return 0;
}

static const struct {
  const char *name;
  int       (*run) (int argc, char **argv);
  const char *usage;
} commands[] = {
  { "tls", run_tls, "--target HOST[:PORT][@ADDRESS][#PIN]… [--ca-file F] [--timeout S]" },
  { "trust-store", run_trust_store, "[--path P] [--baseline FILE] [--save FILE]" },
  { "dns", run_dns, "[--resolver ADDR] [--resolv-conf F] --pin NAME=ADDR… [--nxdomain-zone Z] "
    "[--nxdomain-count N] [--dnssec-name NAME] [--dnssec-required] [--timeout S] [--retries N]" },
  { "http", run_http, "--target \"URL expect-… VALUE\"… [--timeout S] [--max-body BYTES]" },
};

static void
print_usage (void)
{
  g_printerr ("Usage:\n");
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    g_printerr ("  moat-probe-tool %s %s\n", commands[i].name, commands[i].usage);
}

int
main (int   argc,
      char *argv[])
{
  setlocale (LC_ALL, "");

  if (argc < 2)
    {
      print_usage ();
      return 2;
    }
  for (gsize i = 0; i < G_N_ELEMENTS (commands); i++)
    if (g_str_equal (argv[1], commands[i].name))
      {
        g_autofree char *prgname = g_strdup_printf ("moat-probe-tool %s", commands[i].name);

        g_set_prgname (prgname);
        /* The subcommand's own argv starts at its name. */
        return commands[i].run (argc - 1, argv + 1);
      }
  g_printerr ("Unknown command “%s”\n", argv[1]);
  print_usage ();
  return 2;
}
