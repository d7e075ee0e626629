/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moatd"

#include "config.h"

#include "moat-daemon.h"
#include "moat-engine.h"
#include "moat-error.h"

#include <glib-unix.h>
#include <glib/gi18n.h>
#include <locale.h>
#include <signal.h>
#include <stdlib.h>

/* The log domains --verbose turns debug output on for. */
#define MOAT_LOG_DOMAINS "moatd moat-engine moat-store moat-common moat-proxy moat-filter"

typedef struct {
  GMainLoop   *loop;
  MoatEngine  *engine;
  MoatDaemon  *daemon;
  guint        owner_id;
  int          exit_status;
  gboolean     name_acquired;
} Moatd;

static void
quit (Moatd *moatd,
      int    exit_status)
{
  moatd->exit_status = exit_status;
  g_main_loop_quit (moatd->loop);
}

static void
on_bus_acquired_cb (GDBusConnection *connection,
                    const char      *name,
                    gpointer         user_data)
{
  Moatd *moatd = user_data;
  g_autoptr(GError) error = NULL;

  if (!moat_daemon_export (moatd->daemon, connection, &error))
    {
      g_printerr ("moatd: cannot export the D-Bus API at %s: %s\n", MOAT_DBUS_PATH,
                  error->message);
      quit (moatd, EXIT_FAILURE);
    }
}

static void
on_name_acquired_cb (GDBusConnection *connection,
                     const char      *name,
                     gpointer         user_data)
{
  Moatd *moatd = user_data;

  moatd->name_acquired = TRUE;
  g_info ("Owns %s on the session bus", name);
}

static void
on_name_lost_cb (GDBusConnection *connection,
                 const char      *name,
                 gpointer         user_data)
{
  Moatd *moatd = user_data;

  if (moatd->name_acquired && (connection == NULL || g_dbus_connection_is_closed (connection)))
    {
      g_message ("Lost the session bus; exiting");
      quit (moatd, EXIT_SUCCESS);
    }
  else if (moatd->name_acquired)
    {
      /* Another moatd --replace took over: step aside cleanly. */
      g_message ("Another moatd took over %s; exiting", name);
      quit (moatd, EXIT_SUCCESS);
    }
  else if (connection == NULL)
    {
      g_printerr ("moatd: cannot connect to the session bus, so it cannot serve %s.\n", name);
      quit (moatd, EXIT_FAILURE);
    }
  else
    {
      g_printerr ("moatd: another moatd already owns %s on this session bus "
                  "(run moatd --replace to take over).\n", name);
      quit (moatd, EXIT_FAILURE);
    }
}

static void
engine_started_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  MoatEngine *engine = MOAT_ENGINE (object);
  g_autoptr(GError) error = NULL;
  const char *proxy;

  if (!moat_engine_start_finish (engine, result, &error))
    {
      /* Keep serving: the API reports the store's state, and protection
       * does not depend on the event history. */
      g_warning ("The event store is not available: %s", error->message);
      return;
    }
  proxy = moat_engine_get_proxy_address (engine);
  g_message ("moatd %s: store %s; proxy: %s", PACKAGE_VERSION,
             moat_engine_get_store_path (engine),
             proxy[0] != '\0' ? proxy : "starts once the filter lists are loaded");
}

static gboolean
on_quit_signal_cb (gpointer user_data)
{
  Moatd *moatd = user_data;

  g_message ("Shutting down");
  quit (moatd, EXIT_SUCCESS);
  return G_SOURCE_CONTINUE;
}

static gboolean
on_hangup_signal_cb (gpointer user_data)
{
  Moatd *moatd = user_data;

  g_message ("SIGHUP: reloading settings");
  moat_engine_reload (moatd->engine);
  return G_SOURCE_CONTINUE;
}

static void
enable_verbose (void)
{
  const char *current = g_getenv ("G_MESSAGES_DEBUG");
  g_autofree char *domains = NULL;

  if (current != NULL && g_str_equal (current, "all"))
    return;
  domains = current != NULL && current[0] != '\0'
    ? g_strconcat (current, " ", MOAT_LOG_DOMAINS, NULL)
    : g_strdup (MOAT_LOG_DOMAINS);
  /* Before any thread runs, so setenv is safe. */
  g_setenv ("G_MESSAGES_DEBUG", domains, TRUE);
}

static gboolean
have_schema (void)
{
  GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source == NULL)
    return FALSE;
  schema = g_settings_schema_source_lookup (source, MOAT_ENGINE_SETTINGS_SCHEMA, TRUE);
  return schema != NULL;
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GOptionContext) context = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *data_dir_arg = NULL;
  g_autofree char *data_dir = NULL;
  g_auto(GStrv) list_files = NULL;
  g_auto(GStrv) allow_local_hosts = NULL;
  int proxy_port = -1;
  gboolean replace = FALSE;
  gboolean verbose = FALSE;
  gboolean version = FALSE;
  gboolean no_network_checks = FALSE;
  GBusNameOwnerFlags flags;
  Moatd moatd = { 0 };
  const GOptionEntry entries[] = {
    { "replace", 'r', 0, G_OPTION_ARG_NONE, &replace,
      N_("Replace the moatd that runs now"), NULL },
    { "data-dir", 'd', 0, G_OPTION_ARG_FILENAME, &data_dir_arg,
      N_("Keep the event store in DIR (default: $XDG_DATA_HOME/moat)"), N_("DIR") },
    { "proxy-port", 'p', 0, G_OPTION_ARG_INT, &proxy_port,
      N_("Run the filtering proxy on 127.0.0.1:PORT (0 picks a free port; default: the proxy-port setting)"),
      N_("PORT") },
    { "list", 'l', 0, G_OPTION_ARG_FILENAME_ARRAY, &list_files,
      N_("Use exactly this filter list file instead of the configured lists (repeatable)"),
      N_("FILE") },
    { "allow-local-host", 0, 0, G_OPTION_ARG_STRING_ARRAY, &allow_local_hosts,
      N_("Let requests for NAME reach this computer’s own addresses (repeatable)"), N_("NAME") },
    { "no-network-checks", 0, 0, G_OPTION_ARG_NONE, &no_network_checks,
      N_("Check the network for attacks only when asked (moatctl scan), never by itself"), NULL },
    { "verbose", 'v', 0, G_OPTION_ARG_NONE, &verbose,
      N_("Log what moatd does"), NULL },
    { "version", 0, 0, G_OPTION_ARG_NONE, &version,
      N_("Print the version and exit"), NULL },
    G_OPTION_ENTRY_NULL
  };

  /* A full disk or a file size limit must give an error, not kill moatd;
   * so must a client that hangs up mid-write. */
  signal (SIGXFSZ, SIG_IGN);
  signal (SIGPIPE, SIG_IGN);

  setlocale (LC_ALL, "");
  bindtextdomain (GETTEXT_PACKAGE, LOCALEDIR);
  bind_textdomain_codeset (GETTEXT_PACKAGE, "UTF-8");
  textdomain (GETTEXT_PACKAGE);

  context = g_option_context_new (NULL);
  g_option_context_set_summary (context,
                                _("Moat’s engine: protects this computer and serves "
                                  "io.github.moatproject.Moat on the session bus."));
  g_option_context_add_main_entries (context, entries, GETTEXT_PACKAGE);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      g_printerr ("moatd: %s\n", error->message);
      return 2;
    }
  if (version)
    {
      g_print ("moatd %s\n", PACKAGE_VERSION);
      return EXIT_SUCCESS;
    }
  if (verbose)
    enable_verbose ();
  if (proxy_port < -1 || proxy_port > 65535)
    {
      g_printerr ("moatd: --proxy-port must be between 0 and 65535, not %d.\n", proxy_port);
      return 2;
    }

  if (!have_schema ())
    {
      g_printerr ("moatd: the GSettings schema %s is not installed "
                  "(when running from the build tree, set GSETTINGS_SCHEMA_DIR).\n",
                  MOAT_ENGINE_SETTINGS_SCHEMA);
      return EXIT_FAILURE;
    }

  /* Registers the D-Bus error names before any call is served. */
  moat_error_quark ();

  if (data_dir_arg != NULL)
    data_dir = g_canonicalize_filename (data_dir_arg, NULL);

  moatd.loop = g_main_loop_new (NULL, FALSE);
  moatd.engine = moat_engine_new (data_dir, NULL);
  if (list_files != NULL)
    {
      for (guint i = 0; list_files[i] != NULL; i++)
        {
          char *absolute = g_canonicalize_filename (list_files[i], NULL);

          g_free (list_files[i]);
          list_files[i] = absolute;
        }
      moat_engine_set_list_files (moatd.engine, (const char * const *) list_files);
    }
  if (!moat_engine_set_proxy_options (moatd.engine, proxy_port,
                                      (const char * const *) allow_local_hosts, &error))
    {
      g_printerr ("moatd: --allow-local-host %s\n", error->message);
      return 2;
    }
  moat_engine_set_network_checks (moatd.engine, !no_network_checks);
  moatd.daemon = moat_daemon_new (moatd.engine);
  moatd.exit_status = EXIT_SUCCESS;

  g_unix_signal_add (SIGTERM, on_quit_signal_cb, &moatd);
  g_unix_signal_add (SIGINT, on_quit_signal_cb, &moatd);
  g_unix_signal_add (SIGHUP, on_hangup_signal_cb, &moatd);

  moat_engine_start_async (moatd.engine, NULL, engine_started_cb, &moatd);

  /* Every moatd lets a newer one take over; --replace takes over. */
  flags = G_BUS_NAME_OWNER_FLAGS_ALLOW_REPLACEMENT;
  if (replace)
    flags |= G_BUS_NAME_OWNER_FLAGS_REPLACE;
  moatd.owner_id = g_bus_own_name (G_BUS_TYPE_SESSION, MOAT_DBUS_NAME, flags,
                                   on_bus_acquired_cb, on_name_acquired_cb, on_name_lost_cb,
                                   &moatd, NULL);

  g_main_loop_run (moatd.loop);

  /* Announces the last batch, commits what is still queued and closes the
   * store, all before the name goes, so that a moatd taking over finds the
   * store closed. */
  moat_engine_shutdown (moatd.engine);
  moat_daemon_unexport (moatd.daemon);
  g_clear_handle_id (&moatd.owner_id, g_bus_unown_name);
  g_clear_object (&moatd.daemon);
  g_clear_object (&moatd.engine);
  g_clear_pointer (&moatd.loop, g_main_loop_unref);

  g_info ("Exiting with status %d", moatd.exit_status);
  return moatd.exit_status;
}
