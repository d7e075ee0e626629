/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
/*
 * moat-proxy-run: MoatProxy alone, for benchmarks and manual checks without
 * moatd (no D-Bus, no store):
 *
 *   moat-proxy-run --listen 127.0.0.1:19000 --blocklist FILE \
 *       --allow-local-host allowed.example.test
 */
#define G_LOG_DOMAIN "moat-proxy-run"

#include "config.h"

#include "moat-proxy.h"

#include <glib-unix.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>

static gboolean
on_signal_cb (gpointer user_data)
{
  g_main_loop_quit (user_data);
  return G_SOURCE_REMOVE;
}

int
main (int argc, char **argv)
{
  g_autofree char *listen = NULL;
  g_auto(GStrv) lists = NULL;
  g_auto(GStrv) allow_local = NULL;
  g_auto(GStrv) connect_ports = NULL;
  g_auto(GStrv) resolve = NULL;
  GOptionEntry entries[] = {
    { "listen", 0, 0, G_OPTION_ARG_STRING, &listen, "Address:port to listen on", "ADDR:PORT" },
    { "blocklist", 0, 0, G_OPTION_ARG_FILENAME_ARRAY, &lists, "A list file (repeatable)", "FILE" },
    { "allow-local-host", 0, 0, G_OPTION_ARG_STRING_ARRAY, &allow_local, "A host that may reach local addresses", "NAME" },
    { "connect-port", 0, 0, G_OPTION_ARG_STRING_ARRAY, &connect_ports, "A port CONNECT may reach (repeatable; default 443)", "PORT" },
    { "resolve", 0, 0, G_OPTION_ARG_STRING_ARRAY, &resolve, "NAME:ADDRESS, like curl --resolve (repeatable)", "NAME:ADDR" },
    { NULL }
  };
  g_autoptr(GOptionContext) context = g_option_context_new ("- run the Moat proxy alone");
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) parsed = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_filter_list_unref);
  g_autoptr(MoatFilterMatcher) matcher = NULL;
  g_autoptr(MoatProxy) proxy = NULL;
  g_autoptr(GMainLoop) loop = NULL;
  g_autofree char *host = NULL;
  const char *colon;
  guint64 port;

  signal (SIGPIPE, SIG_IGN);
  g_option_context_add_main_entries (context, entries, NULL);
  if (!g_option_context_parse (context, &argc, &argv, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 2;
    }
  if (listen == NULL || (colon = strrchr (listen, ':')) == NULL ||
      !g_ascii_string_to_unsigned (colon + 1, 10, 0, 65535, &port, NULL))
    {
      fprintf (stderr, "--listen ADDR:PORT is required\n");
      return 2;
    }
  host = g_strndup (listen, colon - listen);

  for (guint i = 0; lists != NULL && lists[i] != NULL; i++)
    {
      g_autoptr(GMappedFile) file = g_mapped_file_new (lists[i], FALSE, &error);
      g_autoptr(GBytes) bytes = NULL;
      MoatFilterList *list;

      if (file == NULL)
        {
          fprintf (stderr, "%s\n", error->message);
          return 1;
        }
      bytes = g_mapped_file_get_bytes (file);
      list = moat_filter_list_new_from_bytes (lists[i], MOAT_FILTER_CATEGORY_CUSTOM, MOAT_FILTER_FORMAT_AUTO,
                                              MOAT_FILTER_LIST_NONE, bytes, &error);
      if (list == NULL)
        {
          fprintf (stderr, "%s: %s\n", lists[i], error->message);
          return 1;
        }
      g_ptr_array_add (parsed, list);
    }
  matcher = moat_filter_matcher_new ((MoatFilterList *const *) parsed->pdata, parsed->len);

  proxy = moat_proxy_new ();
  moat_proxy_set_matcher (proxy, matcher);
  if (allow_local != NULL)
    moat_proxy_set_allow_local_hosts (proxy, (const char *const *) allow_local);
  for (guint i = 0; resolve != NULL && resolve[i] != NULL; i++)
    {
      const char *sep = strchr (resolve[i], ':');
      g_autofree char *name = NULL;

      if (sep == NULL)
        {
          fprintf (stderr, "bad --resolve %s\n", resolve[i]);
          return 2;
        }
      name = g_strndup (resolve[i], sep - resolve[i]);
      moat_proxy_set_resolve (proxy, name, sep + 1);
    }
  if (connect_ports != NULL)
    {
      guint n = g_strv_length (connect_ports);
      g_autofree guint16 *ports = g_new0 (guint16, n);

      for (guint i = 0; i < n; i++)
        {
          guint64 p;

          if (!g_ascii_string_to_unsigned (connect_ports[i], 10, 1, 65535, &p, NULL))
            {
              fprintf (stderr, "bad --connect-port %s\n", connect_ports[i]);
              return 2;
            }
          ports[i] = p;
        }
      moat_proxy_set_connect_ports (proxy, ports, n);
    }
  if (!moat_proxy_start (proxy, host, (guint16) port, &error))
    {
      fprintf (stderr, "%s\n", error->message);
      return 1;
    }
  loop = g_main_loop_new (NULL, FALSE);
  g_unix_signal_add (SIGTERM, on_signal_cb, loop);
  g_unix_signal_add (SIGINT, on_signal_cb, loop);
  g_main_loop_run (loop);
  moat_proxy_stop (proxy);
  return 0;
}
