/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * The health checks of this computer: OS security updates, disk encryption,
 * screen lock, firewall, Secure Boot, fwupd's Host Security ID, automatic
 * login, extra root CAs and an exposed SSH server. Every file is read under
 * a root and every D-Bus call goes through a passed connection, so tests run
 * the same code on fixture trees and fake services.
 */
#define G_LOG_DOMAIN "moat-health"

#include "config.h"

#include "moat-computer-health.h"
#include "moat-computer-health-private.h"

#include "moat-error.h"

#include <arpa/inet.h>
#include <errno.h>
#include <glib/gi18n.h>
#include <gnutls/gnutls.h>
#include <gnutls/x509.h>
#include <string.h>
#include <sys/stat.h>

G_DEFINE_AUTO_CLEANUP_FREE_FUNC (gnutls_x509_crt_t, gnutls_x509_crt_deinit, NULL)

#define SECURE_BOOT_VAR "sys/firmware/efi/efivars/SecureBoot-8be4df61-93ca-11d2-aa0d-00e098032b8c"
#define DAY_USEC (G_USEC_PER_SEC * (gint64) 86400)
#define MAX_INCLUDE_DEPTH 8
#define MAX_CERTS 4096

static const char *const check_ids[] = {
  MOAT_COMPUTER_HEALTH_OS_UPDATES,
  MOAT_COMPUTER_HEALTH_DISK_ENCRYPTION,
  MOAT_COMPUTER_HEALTH_SCREEN_LOCK,
  MOAT_COMPUTER_HEALTH_FIREWALL,
  MOAT_COMPUTER_HEALTH_SECURE_BOOT,
  MOAT_COMPUTER_HEALTH_HSI,
  MOAT_COMPUTER_HEALTH_AUTO_LOGIN,
  MOAT_COMPUTER_HEALTH_ROOT_CA,
  MOAT_COMPUTER_HEALTH_SSH_EXPOSED,
  NULL,
};

typedef struct {
  char                  *root;
  GDBusConnection       *bus;
  GSettingsSchemaSource *schema_source;
  GSettingsBackend      *backend;
  GDateTime             *now;
  GCancellable          *cancellable;
} CheckContext;

static CheckContext *
check_context_new (const MoatComputerHealthOptions *options,
                   GCancellable                    *cancellable)
{
  CheckContext *ctx = g_new0 (CheckContext, 1);

  ctx->root = g_strdup (options != NULL && options->root != NULL && options->root[0] != '\0'
                        ? options->root : "/");
  if (options != NULL && options->system_bus != NULL)
    ctx->bus = g_object_ref (options->system_bus);
  if (options != NULL && options->schema_source != NULL)
    ctx->schema_source = g_settings_schema_source_ref (options->schema_source);
  if (options != NULL && options->settings_backend != NULL)
    ctx->backend = g_object_ref (options->settings_backend);
  ctx->now = options != NULL && options->now != NULL ? g_date_time_ref (options->now)
                                                     : g_date_time_new_now_utc ();
  if (cancellable != NULL)
    ctx->cancellable = g_object_ref (cancellable);
  return ctx;
}

static void
check_context_free (CheckContext *ctx)
{
  g_free (ctx->root);
  g_clear_object (&ctx->bus);
  g_clear_pointer (&ctx->schema_source, g_settings_schema_source_unref);
  g_clear_object (&ctx->backend);
  g_date_time_unref (ctx->now);
  g_clear_object (&ctx->cancellable);
  g_free (ctx);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CheckContext, check_context_free)

/* ------------------------------------------------------------------ */
/* Parsers                                                             */

static gboolean
parse_hex (const char *str,
           gsize       len,
           guint32    *out)
{
  guint32 value = 0;

  if (len == 0 || len > 8)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    {
      int digit = g_ascii_xdigit_value (str[i]);

      if (digit < 0)
        return FALSE;
      value = (value << 4) | (guint32) digit;
    }
  *out = value;
  return TRUE;
}

static gboolean
parse_tcp_line (const char    *line,
                gboolean       ipv6,
                MoatTcpSocket *sock)
{
  const char *tokens[4];
  gsize lens[4];
  guint n = 0;
  const char *p = line;
  const char *colon;
  guint8 bytes[16];
  guint32 word, port, state;
  gsize addr_len = ipv6 ? 32 : 8;

  while (n < 4 && *p != '\0')
    {
      while (*p == ' ' || *p == '\t')
        p++;
      if (*p == '\0')
        break;
      tokens[n] = p;
      while (*p != '\0' && *p != ' ' && *p != '\t')
        p++;
      lens[n] = (gsize) (p - tokens[n]);
      n++;
    }
  if (n < 4 || lens[0] < 2 || tokens[0][lens[0] - 1] != ':')
    return FALSE;
  colon = memchr (tokens[1], ':', lens[1]);
  if (colon == NULL || (gsize) (colon - tokens[1]) != addr_len ||
      !parse_hex (colon + 1, lens[1] - addr_len - 1, &port) || port > G_MAXUINT16 ||
      !parse_hex (tokens[3], lens[3], &state) || lens[3] != 2)
    return FALSE;
  for (gsize i = 0; i < addr_len / 8; i++)
    {
      if (!parse_hex (tokens[1] + i * 8, 8, &word))
        return FALSE;
      /* The kernel prints each 32-bit word of the address as this host's
       * CPU holds it. */
      memcpy (bytes + i * 4, &word, 4);
    }
  memset (sock, 0, sizeof *sock);
  sock->port = (guint16) port;
  sock->state = state;
  if (!ipv6)
    {
      sock->loopback = bytes[0] == 127;
      inet_ntop (AF_INET, bytes, sock->address, sizeof sock->address);
    }
  else
    {
      static const guint8 loopback6[16] = { [15] = 1 };
      static const guint8 mapped_prefix[12] = { [10] = 0xff, [11] = 0xff };

      sock->loopback = memcmp (bytes, loopback6, 16) == 0 ||
                       (memcmp (bytes, mapped_prefix, 12) == 0 && bytes[12] == 127);
      inet_ntop (AF_INET6, bytes, sock->address, sizeof sock->address);
    }
  return TRUE;
}

GArray *
moat_proc_net_tcp_parse (const char *text,
                         gsize       len,
                         gboolean    ipv6,
                         guint      *n_bad)
{
  GArray *sockets = g_array_new (FALSE, TRUE, sizeof (MoatTcpSocket));
  g_autofree char *copy = g_strndup (text, len);
  g_auto(GStrv) lines = g_strsplit (copy, "\n", -1);
  guint bad = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *line = g_strstrip (lines[i]);
      MoatTcpSocket sock;

      if (line[0] == '\0' || g_str_has_prefix (line, "sl "))
        continue;
      if (parse_tcp_line (line, ipv6, &sock))
        g_array_append_val (sockets, sock);
      else
        bad++;
    }
  if (n_bad != NULL)
    *n_bad = bad;
  return sockets;
}

MoatSshdConfig *
moat_sshd_config_new (void)
{
  MoatSshdConfig *config = g_new0 (MoatSshdConfig, 1);

  config->ports = g_array_new (FALSE, TRUE, sizeof (guint16));
  config->listen_addresses = g_ptr_array_new_with_free_func (g_free);
  return config;
}

void
moat_sshd_config_free (MoatSshdConfig *config)
{
  if (config == NULL)
    return;
  g_array_unref (config->ports);
  g_ptr_array_unref (config->listen_addresses);
  g_free (config->password_authentication);
  g_free (config);
}

static gboolean
parse_port (const char *str,
            guint16    *out)
{
  guint64 value;

  if (!g_ascii_string_to_unsigned (str, 10, 1, G_MAXUINT16, &value, NULL))
    return FALSE;
  *out = (guint16) value;
  return TRUE;
}

static void
add_port (MoatSshdConfig *config,
          guint16         port)
{
  for (guint i = 0; i < config->ports->len; i++)
    if (g_array_index (config->ports, guint16, i) == port)
      return;
  if (config->ports->len < 64)
    g_array_append_val (config->ports, port);
}

static void
sshd_config_parse_depth (MoatSshdConfig      *config,
                         const char          *text,
                         gsize                len,
                         MoatSshdIncludeFunc  include,
                         gpointer             user_data,
                         guint                depth,
                         gboolean            *in_match)
{
  g_autofree char *copy = g_strndup (text, len);
  g_auto(GStrv) lines = g_strsplit (copy, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);
      g_autofree char *keyword = NULL;
      char *value;
      gsize klen;

      if (line[0] == '\0' || line[0] == '#')
        continue;
      klen = strcspn (line, " \t=");
      keyword = g_ascii_strdown (line, (gssize) klen);
      value = line + klen;
      value += strspn (value, " \t");
      if (*value == '=')
        value++;
      value = g_strstrip (value);
      if (value[0] == '"' && strlen (value) >= 2 && value[strlen (value) - 1] == '"')
        {
          value[strlen (value) - 1] = '\0';
          value++;
        }

      if (g_str_equal (keyword, "match"))
        {
          *in_match = TRUE;
          config->match_blocks++;
          continue;
        }
      if (*in_match)
        continue;
      if (g_str_equal (keyword, "include"))
        {
          g_auto(GStrv) patterns = g_strsplit_set (value, " \t", -1);

          if (include == NULL || depth >= MAX_INCLUDE_DEPTH)
            continue;
          for (guint j = 0; patterns[j] != NULL; j++)
            {
              g_autoptr(GPtrArray) files = NULL;

              if (patterns[j][0] == '\0')
                continue;
              files = include (patterns[j], user_data);
              config->includes++;
              for (guint k = 0; files != NULL && k < files->len; k++)
                {
                  gsize flen;
                  const char *data = g_bytes_get_data (g_ptr_array_index (files, k), &flen);

                  sshd_config_parse_depth (config, data != NULL ? data : "", flen, include,
                                           user_data, depth + 1, in_match);
                }
            }
        }
      else if (g_str_equal (keyword, "port"))
        {
          guint16 port;

          if (parse_port (value, &port))
            add_port (config, port);
        }
      else if (g_str_equal (keyword, "listenaddress"))
        {
          const char *port_str = NULL;
          guint16 port;

          if (!g_utf8_validate (value, -1, NULL) || config->listen_addresses->len >= 64)
            continue;
          g_ptr_array_add (config->listen_addresses, g_strdup (value));
          if (value[0] == '[')
            {
              const char *close = strstr (value, "]:");

              if (close != NULL)
                port_str = close + 2;
            }
          else if (strchr (value, ':') != NULL && strchr (value, ':') == strrchr (value, ':'))
            port_str = strchr (value, ':') + 1;
          if (port_str != NULL && parse_port (port_str, &port))
            add_port (config, port);
        }
      else if (g_str_equal (keyword, "passwordauthentication") &&
               config->password_authentication == NULL && g_utf8_validate (value, -1, NULL))
        {
          config->password_authentication = g_ascii_strdown (value, -1);
        }
    }
}

void
moat_sshd_config_parse (MoatSshdConfig      *config,
                        const char          *text,
                        gsize                len,
                        MoatSshdIncludeFunc  include,
                        gpointer             user_data)
{
  gboolean in_match = FALSE;

  sshd_config_parse_depth (config, text, len, include, user_data, 0, &in_match);
}

GHashTable *
moat_ini_parse (const char *text,
                gsize       len)
{
  GHashTable *values = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  g_autofree char *copy = g_strndup (text, len);
  g_auto(GStrv) lines = g_strsplit (copy, "\n", -1);
  g_autofree char *section = g_strdup ("");

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);
      char *eq;

      if (line[0] == '\0' || line[0] == '#' || line[0] == ';' || !g_utf8_validate (line, -1, NULL))
        continue;
      if (line[0] == '[')
        {
          char *close = strrchr (line, ']');

          if (close != NULL)
            {
              g_free (section);
              section = g_strndup (line + 1, (gsize) (close - line - 1));
            }
          continue;
        }
      eq = strchr (line, '=');
      if (eq == NULL)
        continue;
      *eq = '\0';
      g_hash_table_replace (values, g_strconcat (section, "/", g_strstrip (line), NULL),
                            g_strdup (g_strstrip (eq + 1)));
    }
  return values;
}

/* ------------------------------------------------------------------ */
/* Reading under the root, running commands, calling D-Bus             */

/* For g_ptr_array_sort() of strings. */
static int
compare_strings (gconstpointer a,
                 gconstpointer b)
{
  return g_strcmp0 (*(const char *const *) a, *(const char *const *) b);
}

static char *
root_path (CheckContext *ctx,
           const char   *path)
{
  while (path[0] == '/')
    path++;
  return g_build_filename (ctx->root, path, NULL);
}

static gboolean
read_root_file (CheckContext  *ctx,
                const char    *path,
                char         **contents,
                gsize         *len,
                GError       **error)
{
  g_autofree char *full = root_path (ctx, path);
  g_autoptr(GFile) file = g_file_new_for_path (full);
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GByteArray) data = g_byte_array_new ();
  guint8 buf[16384];
  gssize n;

  stream = g_file_read (file, ctx->cancellable, error);
  if (stream == NULL)
    return FALSE;
  while ((n = g_input_stream_read (G_INPUT_STREAM (stream), buf, sizeof buf, ctx->cancellable,
                                   error)) > 0)
    {
      if (data->len + (gsize) n > MOAT_COMPUTER_HEALTH_MAX_FILE)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "%s is too large", path);
          return FALSE;
        }
      g_byte_array_append (data, buf, (guint) n);
    }
  if (n < 0)
    return FALSE;
  *len = data->len;
  g_byte_array_append (data, (const guint8 *) "", 1);
  *contents = (char *) g_byte_array_free (g_steal_pointer (&data), FALSE);
  return TRUE;
}

static gboolean
root_file_exists (CheckContext *ctx,
                  const char   *path)
{
  g_autofree char *full = root_path (ctx, path);

  return g_file_test (full, G_FILE_TEST_EXISTS);
}

/* The file's modification time, µs since the epoch, or 0. */
static gint64
root_file_mtime (CheckContext *ctx,
                 const char   *path)
{
  g_autofree char *full = root_path (ctx, path);
  struct stat st;

  if (stat (full, &st) != 0)
    return 0;
  return (gint64) st.st_mtime * G_USEC_PER_SEC;
}

static char *
iso_time (gint64 usec)
{
  g_autoptr(GDateTime) time = g_date_time_new_from_unix_utc (usec / G_USEC_PER_SEC);

  return time != NULL ? g_date_time_format_iso8601 (time) : g_strdup ("");
}

typedef struct {
  gboolean      done;
  gboolean      timed_out;
  GBytes       *out;
  GBytes       *err;
  GError       *error;
  GSubprocess  *process;
  GCancellable *cancellable;
} CommandState;

static void
communicate_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  CommandState *state = user_data;

  g_subprocess_communicate_finish (G_SUBPROCESS (object), result, &state->out, &state->err,
                                   &state->error);
  state->done = TRUE;
}

static gboolean
command_timeout_cb (gpointer user_data)
{
  CommandState *state = user_data;

  state->timed_out = TRUE;
  g_subprocess_force_exit (state->process);
  g_cancellable_cancel (state->cancellable);
  return G_SOURCE_REMOVE;
}

static void
on_outer_cancelled_cb (GCancellable *outer,
                       gpointer      user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

/* Runs a command from under the root with a timeout, in the calling
 * (worker) thread. Output is returned even when the exit status is not 0. */
static gboolean
run_command (CheckContext       *ctx,
             const char *const  *argv,
             char              **out,
             char              **err,
             int                *exit_status,
             GError            **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GSubprocessLauncher) launcher = NULL;
  g_autoptr(GSource) timeout = NULL;
  g_autofree char *program = root_path (ctx, argv[0]);
  g_autoptr(GPtrArray) args = g_ptr_array_new ();
  CommandState state = { 0 };
  gulong handler = 0;
  gboolean ok;

  g_ptr_array_add (args, program);
  for (guint i = 1; argv[i] != NULL; i++)
    g_ptr_array_add (args, (gpointer) argv[i]);
  g_ptr_array_add (args, NULL);

  launcher = g_subprocess_launcher_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE |
                                        G_SUBPROCESS_FLAGS_STDERR_PIPE);
  g_subprocess_launcher_setenv (launcher, "LC_ALL", "C", TRUE);
  g_subprocess_launcher_setenv (launcher, "LANG", "C", TRUE);
  state.process = g_subprocess_launcher_spawnv (launcher, (const char *const *) args->pdata,
                                                error);
  if (state.process == NULL)
    return FALSE;

  g_main_context_push_thread_default (context);
  state.cancellable = g_cancellable_new ();
  if (ctx->cancellable != NULL)
    handler = g_cancellable_connect (ctx->cancellable, G_CALLBACK (on_outer_cancelled_cb),
                                     g_object_ref (state.cancellable), g_object_unref);
  g_subprocess_communicate_async (state.process, NULL, state.cancellable, communicate_cb, &state);
  timeout = g_timeout_source_new (MOAT_COMPUTER_HEALTH_TIMEOUT_MS);
  g_source_set_callback (timeout, command_timeout_cb, &state, NULL);
  g_source_attach (timeout, context);
  while (!state.done)
    g_main_context_iteration (context, TRUE);
  g_source_destroy (timeout);
  if (ctx->cancellable != NULL)
    g_cancellable_disconnect (ctx->cancellable, handler);
  if (state.error != NULL)
    {
      /* Reap it; it was killed or is about to be. */
      g_subprocess_force_exit (state.process);
      g_subprocess_wait (state.process, NULL, NULL);
    }
  g_main_context_pop_thread_default (context);

  ok = state.error == NULL;
  if (state.timed_out)
    {
      g_clear_error (&state.error);
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT, "%s did not answer within %d s",
                   argv[0], MOAT_COMPUTER_HEALTH_TIMEOUT_MS / 1000);
      ok = FALSE;
    }
  else if (!ok)
    g_propagate_error (error, g_steal_pointer (&state.error));
  if (ok)
    {
      gsize len;
      const char *data;

      data = state.out != NULL ? g_bytes_get_data (state.out, &len) : NULL;
      *out = data != NULL ? g_utf8_make_valid (data, (gssize) len) : g_strdup ("");
      data = state.err != NULL ? g_bytes_get_data (state.err, &len) : NULL;
      *err = data != NULL ? g_utf8_make_valid (data, (gssize) len) : g_strdup ("");
      *exit_status = g_subprocess_get_if_exited (state.process)
                     ? g_subprocess_get_exit_status (state.process) : -1;
    }
  g_clear_pointer (&state.out, g_bytes_unref);
  g_clear_pointer (&state.err, g_bytes_unref);
  g_clear_object (&state.process);
  g_clear_object (&state.cancellable);
  return ok;
}

/* A D-Bus property of a system service, or NULL (and @error) when the
 * service is not there. */
static GVariant *
get_bus_property (CheckContext  *ctx,
                  const char    *name,
                  const char    *path,
                  const char    *interface,
                  const char    *property,
                  GError       **error)
{
  g_autoptr(GVariant) reply = NULL;
  GVariant *value = NULL;

  if (ctx->bus == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "no system bus");
      return NULL;
    }
  reply = g_dbus_connection_call_sync (ctx->bus, name, path, "org.freedesktop.DBus.Properties",
                                       "Get", g_variant_new ("(ss)", interface, property),
                                       G_VARIANT_TYPE ("(v)"), G_DBUS_CALL_FLAGS_NONE,
                                       MOAT_COMPUTER_HEALTH_TIMEOUT_MS, ctx->cancellable, error);
  if (reply == NULL)
    return NULL;
  g_variant_get (reply, "(v)", &value);
  return value;
}

/* ------------------------------------------------------------------ */
/* Items                                                               */

static MoatHealthItem *
new_item (CheckContext      *ctx,
          const char        *id,
          MoatHealthStatus   status,
          MoatSeverity       severity,
          const char        *title,
          char              *summary,
          const char        *why,
          const char        *impact,
          const char *const *steps,
          JsonBuilder       *evidence)
{
  MoatHealthItem *item = moat_health_item_new (id, "computer", "", status, severity);

  g_free (item->title);
  item->title = g_strdup (title);
  g_free (item->summary);
  item->summary = summary;
  g_free (item->why);
  item->why = g_strdup (why);
  g_free (item->impact);
  item->impact = g_strdup (impact);
  if (status == MOAT_HEALTH_PROBLEM && steps != NULL)
    {
      g_strfreev (item->steps);
      item->steps = g_strdupv ((char **) steps);
    }
  json_builder_end_object (evidence);
  moat_health_item_set_evidence (item, evidence);
  item->checked = g_date_time_to_unix (ctx->now) * G_USEC_PER_SEC;
  return item;
}

static JsonBuilder *
evidence_new (void)
{
  JsonBuilder *builder = json_builder_new ();

  json_builder_begin_object (builder);
  return builder;
}

static void
evidence_string (JsonBuilder *builder,
                 const char  *name,
                 const char  *value)
{
  json_builder_set_member_name (builder, name);
  if (value != NULL)
    json_builder_add_string_value (builder, value);
  else
    json_builder_add_null_value (builder);
}

static void
evidence_int (JsonBuilder *builder,
              const char  *name,
              gint64       value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_int_value (builder, value);
}

static void
evidence_bool (JsonBuilder *builder,
               const char  *name,
               gboolean     value)
{
  json_builder_set_member_name (builder, name);
  json_builder_add_boolean_value (builder, value);
}

/* ------------------------------------------------------------------ */
/* computer.os_updates                                                 */

#define PK_INFO_SECURITY 8
#define PK_EXIT_SUCCESS 1
#define PK_FILTER_NONE (G_GUINT64_CONSTANT (1) << 1)

typedef struct {
  gboolean finished;
  guint    exit_code;
  guint    total;
  guint    security;
  char    *error_details;
} PkState;

static void
on_pk_signal_cb (GDBusConnection *connection,
                 const char      *sender,
                 const char      *path,
                 const char      *interface,
                 const char      *signal,
                 GVariant        *parameters,
                 gpointer         user_data)
{
  PkState *state = user_data;

  if (g_str_equal (signal, "Package") &&
      g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(uss)")))
    {
      guint info;

      g_variant_get (parameters, "(u&s&s)", &info, NULL, NULL);
      state->total++;
      /* PackageKit 1.2.6+ puts the update's severity in the upper 16 bits. */
      if ((info & 0xffff) == PK_INFO_SECURITY)
        state->security++;
    }
  else if (g_str_equal (signal, "ErrorCode") &&
           g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(us)")) &&
           state->error_details == NULL)
    {
      g_variant_get (parameters, "(us)", NULL, &state->error_details);
    }
  else if (g_str_equal (signal, "Finished") &&
           g_variant_is_of_type (parameters, G_VARIANT_TYPE ("(uu)")))
    {
      g_variant_get (parameters, "(uu)", &state->exit_code, NULL);
      state->finished = TRUE;
    }
}

static gboolean
pk_timeout_cb (gpointer user_data)
{
  gboolean *timed_out = user_data;

  *timed_out = TRUE;
  return G_SOURCE_REMOVE;
}

/* PackageKit's updates from its cache: GetUpdates in a new transaction,
 * counting the Package signals whose info is "security". */
static gboolean
packagekit_updates (CheckContext  *ctx,
                    guint         *security,
                    guint         *total,
                    GError       **error)
{
  g_autoptr(GMainContext) context = g_main_context_new ();
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) started = NULL;
  g_autoptr(GSource) timeout = NULL;
  const char *transaction;
  PkState state = { 0 };
  gboolean timed_out = FALSE;
  guint subscription;
  gboolean ok = FALSE;

  if (ctx->bus == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED, "no system bus");
      return FALSE;
    }
  reply = g_dbus_connection_call_sync (ctx->bus, "org.freedesktop.PackageKit",
                                       "/org/freedesktop/PackageKit",
                                       "org.freedesktop.PackageKit", "CreateTransaction", NULL,
                                       G_VARIANT_TYPE ("(o)"), G_DBUS_CALL_FLAGS_NONE,
                                       MOAT_COMPUTER_HEALTH_TIMEOUT_MS, ctx->cancellable, error);
  if (reply == NULL)
    return FALSE;
  g_variant_get (reply, "(&o)", &transaction);

  g_main_context_push_thread_default (context);
  /* Only PackageKit's own signals: anyone on the bus may emit on that path. */
  subscription = g_dbus_connection_signal_subscribe (ctx->bus, "org.freedesktop.PackageKit",
                                                     "org.freedesktop.PackageKit.Transaction",
                                                     NULL, transaction, NULL,
                                                     G_DBUS_SIGNAL_FLAGS_NONE, on_pk_signal_cb,
                                                     &state, NULL);
  started = g_dbus_connection_call_sync (ctx->bus, "org.freedesktop.PackageKit", transaction,
                                         "org.freedesktop.PackageKit.Transaction", "GetUpdates",
                                         g_variant_new ("(t)", PK_FILTER_NONE), NULL,
                                         G_DBUS_CALL_FLAGS_NONE, MOAT_COMPUTER_HEALTH_TIMEOUT_MS,
                                         ctx->cancellable, error);
  if (started != NULL)
    {
      timeout = g_timeout_source_new (MOAT_COMPUTER_HEALTH_TIMEOUT_MS);
      g_source_set_callback (timeout, pk_timeout_cb, &timed_out, NULL);
      g_source_attach (timeout, context);
      while (!state.finished && !timed_out &&
             !g_cancellable_is_cancelled (ctx->cancellable))
        g_main_context_iteration (context, TRUE);
      g_source_destroy (timeout);
      if (state.finished && state.exit_code == PK_EXIT_SUCCESS)
        ok = TRUE;
      else if (state.finished)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "PackageKit failed: %s",
                     state.error_details != NULL ? state.error_details : "no details");
      else if (timed_out)
        g_set_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                     "PackageKit did not answer within %d s",
                     MOAT_COMPUTER_HEALTH_TIMEOUT_MS / 1000);
      else
        g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_CANCELLED, "cancelled");
    }
  g_dbus_connection_signal_unsubscribe (ctx->bus, subscription);
  /* Let the unsubscription's pending dispatches run before the context goes. */
  while (g_main_context_iteration (context, FALSE))
    ;
  g_main_context_pop_thread_default (context);
  g_free (state.error_details);
  *security = state.security;
  *total = state.total;
  return ok;
}

/* apt-check prints "UPDATES;SECURITY" on stderr. */
static gboolean
apt_check_updates (CheckContext  *ctx,
                   guint         *security,
                   guint         *total,
                   GError       **error)
{
  const char *const argv[] = { "/usr/lib/update-notifier/apt-check", NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_auto(GStrv) parts = NULL;
  guint64 n_total, n_security;
  int status;

  if (!run_command (ctx, argv, &out, &err, &status, error))
    return FALSE;
  g_strstrip (err);
  parts = g_strsplit (err, ";", -1);
  if (status != 0 || g_strv_length (parts) != 2 ||
      !g_ascii_string_to_unsigned (parts[0], 10, 0, G_MAXUINT, &n_total, NULL) ||
      !g_ascii_string_to_unsigned (parts[1], 10, 0, G_MAXUINT, &n_security, NULL))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "apt-check answered “%.80s” (exit status %d)", err, status);
      return FALSE;
    }
  *security = (guint) n_security;
  *total = (guint) n_total;
  return TRUE;
}

/* Simulated dist-upgrade (it needs no root and no network, and unlike
 * "upgrade" it counts the kernel updates that bring new packages):
 * "Inst PKG [OLD] (NEW Debian-Security:12/stable-security [amd64])". */
static gboolean
apt_get_updates (CheckContext  *ctx,
                 guint         *security,
                 guint         *total,
                 GPtrArray     *names,
                 GError       **error)
{
  const char *const argv[] = { "/usr/bin/apt-get", "--simulate", "--quiet", "dist-upgrade",
                               NULL };
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_auto(GStrv) lines = NULL;
  int status;

  if (!run_command (ctx, argv, &out, &err, &status, error))
    return FALSE;
  if (status != 0)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "apt-get failed (exit status %d): %.200s",
                   status, g_strstrip (err));
      return FALSE;
    }
  *security = 0;
  *total = 0;
  lines = g_strsplit (out, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      const char *paren;

      if (!g_str_has_prefix (lines[i], "Inst "))
        continue;
      (*total)++;
      paren = strchr (lines[i], '(');
      if (paren != NULL && (strstr (paren, "-security") != NULL ||
                            strstr (paren, "Debian-Security:") != NULL))
        {
          (*security)++;
          if (names->len < 50)
            g_ptr_array_add (names, g_strndup (lines[i] + 5, strcspn (lines[i] + 5, " ")));
        }
    }
  return TRUE;
}

/* APT::Periodic::Unattended-Upgrade "1"; in apt.conf and apt.conf.d, the
 * last file read wins. Returns -1 when it is not set anywhere. */
static int
unattended_upgrade_setting (CheckContext *ctx,
                            char        **where)
{
  g_autofree char *dir_path = root_path (ctx, "etc/apt/apt.conf.d");
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GRegex) regex = g_regex_new ("^\\s*APT::Periodic::Unattended-Upgrade\\s+\"(\\d+)\"",
                                         G_REGEX_MULTILINE | G_REGEX_CASELESS, 0, NULL);
  const char *name;
  int value = -1;

  g_ptr_array_add (files, g_strdup ("etc/apt/apt.conf"));
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (name[0] != '.' && !g_str_has_suffix (name, ".dpkg-old") &&
        !g_str_has_suffix (name, ".dpkg-dist") && !g_str_has_suffix (name, "~"))
      g_ptr_array_add (files, g_build_filename ("etc/apt/apt.conf.d", name, NULL));
  /* apt reads the parts in alphanumeric order. */
  g_ptr_array_sort (files, compare_strings);
  for (guint i = 0; i < files->len; i++)
    {
      g_autofree char *text = NULL;
      g_autoptr(GMatchInfo) match = NULL;
      gsize len;

      if (!read_root_file (ctx, g_ptr_array_index (files, i), &text, &len, NULL))
        continue;
      g_regex_match (regex, text, 0, &match);
      while (g_match_info_matches (match))
        {
          g_autofree char *digits = g_match_info_fetch (match, 1);

          value = (int) MIN (g_ascii_strtoull (digits, NULL, 10), 1000);
          g_free (*where);
          *where = g_strconcat ("/", (const char *) g_ptr_array_index (files, i), NULL);
          g_match_info_next (match, NULL);
        }
    }
  return value;
}

/* When apt last fetched its package lists: the newest (In)Release file.
 * Counts from older lists miss the newer security updates. */
static gint64
apt_lists_updated (CheckContext *ctx)
{
  g_autofree char *dir_path = root_path (ctx, "var/lib/apt/lists");
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  const char *name;
  gint64 newest = 0;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    if (g_str_has_suffix (name, "_InRelease") || g_str_has_suffix (name, "_Release"))
      {
        g_autofree char *path = g_build_filename ("var/lib/apt/lists", name, NULL);

        newest = MAX (newest, root_file_mtime (ctx, path));
      }
  return newest;
}

static MoatHealthItem *
check_os_updates (CheckContext *ctx)
{
  g_autoptr(JsonBuilder) ev = evidence_new ();
  g_autoptr(GError) pk_error = NULL;
  g_autoptr(GError) apt_error = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *uu_where = NULL;
  const char *source = NULL;
  guint security = 0, total = 0;
  gboolean apt_system, uu_installed, uu_enabled, known;
  gboolean uu_off, uu_stale = FALSE, pending;
  gint64 now = g_date_time_to_unix (ctx->now) * G_USEC_PER_SEC;
  gint64 uu_last_run, last_change, lists_updated;
  gint64 stale_days = -1;
  int uu_setting;
  const char *const steps[] = {
    _("Open Software (or a terminal) and install the available updates now: "
      "“sudo apt update && sudo apt upgrade”."),
    _("Turn on automatic security updates: “sudo apt install unattended-upgrades”, then "
      "“sudo dpkg-reconfigure -plow unattended-upgrades” and answer Yes."),
    _("Restart the computer if the updates ask for it, then check again."),
    NULL
  };
  MoatHealthStatus status;
  MoatSeverity severity;
  char *summary;

  if (packagekit_updates (ctx, &security, &total, &pk_error))
    source = "packagekit";
  else if (root_file_exists (ctx, "usr/lib/update-notifier/apt-check") &&
           apt_check_updates (ctx, &security, &total, &apt_error))
    source = "apt-check";
  else if (root_file_exists (ctx, "usr/bin/apt-get"))
    {
      g_clear_error (&apt_error);
      if (apt_get_updates (ctx, &security, &total, names, &apt_error))
        source = "apt-get";
    }
  known = source != NULL;

  apt_system = root_file_exists (ctx, "usr/bin/apt-get") || root_file_exists (ctx, "var/lib/apt");
  uu_installed = root_file_exists (ctx, "usr/bin/unattended-upgrade") ||
                 root_file_exists (ctx, "usr/share/unattended-upgrades");
  uu_setting = unattended_upgrade_setting (ctx, &uu_where);
  uu_enabled = uu_installed && uu_setting > 0;
  uu_last_run = MAX (root_file_mtime (ctx, "var/log/unattended-upgrades/unattended-upgrades.log"),
                     root_file_mtime (ctx, "var/lib/apt/periodic/unattended-upgrades-stamp"));
  last_change = root_file_mtime (ctx, "var/lib/dpkg/status");
  lists_updated = apt_lists_updated (ctx);
  uu_off = apt_system && !uu_enabled;
  if (uu_enabled && uu_last_run > 0 && now - uu_last_run > 7 * DAY_USEC)
    {
      uu_stale = TRUE;
      stale_days = (now - uu_last_run) / DAY_USEC;
    }
  pending = known && security > 0;

  evidence_string (ev, "source", source);
  json_builder_set_member_name (ev, "security_updates");
  if (known)
    json_builder_add_int_value (ev, security);
  else
    json_builder_add_null_value (ev);
  json_builder_set_member_name (ev, "updates");
  if (known)
    json_builder_add_int_value (ev, total);
  else
    json_builder_add_null_value (ev);
  json_builder_set_member_name (ev, "security_packages");
  json_builder_begin_array (ev);
  for (guint i = 0; i < names->len; i++)
    json_builder_add_string_value (ev, g_ptr_array_index (names, i));
  json_builder_end_array (ev);
  if (pk_error != NULL)
    evidence_string (ev, "packagekit_error", pk_error->message);
  if (apt_error != NULL)
    evidence_string (ev, "apt_error", apt_error->message);
  evidence_bool (ev, "apt", apt_system);
  json_builder_set_member_name (ev, "unattended_upgrades");
  json_builder_begin_object (ev);
  evidence_bool (ev, "installed", uu_installed);
  evidence_bool (ev, "enabled", uu_enabled);
  evidence_string (ev, "setting_file", uu_where);
  if (uu_last_run > 0)
    {
      g_autofree char *when = iso_time (uu_last_run);

      evidence_string (ev, "last_run", when);
    }
  else
    evidence_string (ev, "last_run", NULL);
  json_builder_end_object (ev);
  if (last_change > 0)
    {
      g_autofree char *when = iso_time (last_change);

      evidence_string (ev, "last_package_change", when);
    }
  if (lists_updated > 0)
    {
      g_autofree char *when = iso_time (lists_updated);

      evidence_string (ev, "package_lists_updated", when);
    }

  if (pending || uu_off || uu_stale)
    {
      gboolean old = pending && last_change > 0 && now - last_change > 7 * DAY_USEC;

      status = MOAT_HEALTH_PROBLEM;
      severity = old || uu_off ? MOAT_SEVERITY_HIGH : MOAT_SEVERITY_MEDIUM;
      if (pending && old)
        summary = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                "%u security update is waiting, and nothing "
                                                "has been updated for %d days.",
                                                "%u security updates are waiting, and nothing "
                                                "has been updated for %d days.", security),
                                   security, (int) ((now - last_change) / DAY_USEC));
      else if (pending && uu_off)
        summary = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                "%u security update is waiting, and automatic "
                                                "updates are off.",
                                                "%u security updates are waiting, and automatic "
                                                "updates are off.", security), security);
      else if (pending)
        summary = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                "%u security update is waiting to be installed.",
                                                "%u security updates are waiting to be installed.",
                                                security), security);
      else if (uu_off && !uu_installed)
        summary = g_strdup (_("Automatic security updates are not installed "
                              "(unattended-upgrades)."));
      else if (uu_off)
        summary = g_strdup (_("Automatic security updates are turned off."));
      else
        summary = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                "Automatic security updates have not run "
                                                "for %d day.",
                                                "Automatic security updates have not run "
                                                "for %d days.", (gulong) stale_days),
                                   (int) stale_days);
    }
  else if (!known)
    {
      status = MOAT_HEALTH_UNKNOWN;
      severity = MOAT_SEVERITY_MEDIUM;
      summary = g_strdup (_("Moat could not find out which updates are waiting: neither "
                            "PackageKit nor apt answered."));
    }
  else
    {
      status = MOAT_HEALTH_OK;
      severity = MOAT_SEVERITY_INFO;
      summary = uu_enabled ? g_strdup (_("No security updates are waiting, and they are "
                                         "installed automatically."))
                           : g_strdup (_("No security updates are waiting."));
    }
  return new_item (ctx, MOAT_COMPUTER_HEALTH_OS_UPDATES, status, severity,
                   _("Security updates"), summary,
                   _("Security updates close holes that attackers already know how to use. "
                     "Most attacks on computers use flaws that were fixed weeks or months "
                     "before."),
                   _("A web page, a document or a device on the same network could take "
                     "over the computer through a flaw that has a fix waiting."),
                   steps, ev);
}

/* ------------------------------------------------------------------ */
/* computer.disk_encryption                                            */

typedef struct {
  char *mount_point;
  char *majmin;
  char *fstype;
  char *source;
} MountEntry;

static void
mount_entry_clear (MountEntry *entry)
{
  g_clear_pointer (&entry->mount_point, g_free);
  g_clear_pointer (&entry->majmin, g_free);
  g_clear_pointer (&entry->fstype, g_free);
  g_clear_pointer (&entry->source, g_free);
}

/* mountinfo escapes space, tab, newline and backslash as \ooo. */
static char *
unescape_mount_field (const char *field)
{
  GString *out = g_string_new (NULL);

  for (const char *p = field; *p != '\0'; p++)
    {
      if (p[0] == '\\' && p[1] >= '0' && p[1] <= '3' && p[2] >= '0' && p[2] <= '7' &&
          p[3] >= '0' && p[3] <= '7')
        {
          g_string_append_c (out, (char) (((p[1] - '0') << 6) | ((p[2] - '0') << 3) |
                                          (p[3] - '0')));
          p += 3;
        }
      else
        g_string_append_c (out, *p);
    }
  return g_string_free (out, FALSE);
}

/* The last mount (the one in effect) of @mount_point in mountinfo. */
static gboolean
find_mount (const char *mountinfo,
            const char *mount_point,
            MountEntry *entry)
{
  g_auto(GStrv) lines = g_strsplit (mountinfo, "\n", -1);
  gboolean found = FALSE;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) fields = g_strsplit (lines[i], " ", -1);
      g_autofree char *point = NULL;
      guint n = g_strv_length (fields);
      guint dash;

      if (n < 10)
        continue;
      for (dash = 6; dash < n && !g_str_equal (fields[dash], "-"); dash++)
        ;
      if (dash + 2 >= n)
        continue;
      point = unescape_mount_field (fields[4]);
      if (!g_str_equal (point, mount_point))
        continue;
      mount_entry_clear (entry);
      entry->mount_point = g_steal_pointer (&point);
      entry->majmin = g_strdup (fields[2]);
      entry->fstype = g_strdup (fields[dash + 1]);
      entry->source = unescape_mount_field (fields[dash + 2]);
      found = TRUE;
    }
  return found;
}

static char *
read_sys_value (CheckContext *ctx,
                const char   *device,
                const char   *attribute)
{
  g_autofree char *path = g_build_filename ("sys/class/block", device, attribute, NULL);
  g_autofree char *text = NULL;
  gsize len;

  if (!read_root_file (ctx, path, &text, &len, NULL) || !g_utf8_validate (text, -1, NULL))
    return NULL;
  return g_strdup (g_strstrip (text));
}

/* The name of the block device (dm-0, nvme0n1p2) a mount is on, or NULL. */
static char *
find_block_device (CheckContext     *ctx,
                   const MountEntry *entry)
{
  g_autofree char *dir_path = root_path (ctx, "sys/class/block");
  g_autoptr(GDir) dir = g_dir_open (dir_path, 0, NULL);
  g_autofree char *mapper_name = NULL;
  const char *name;

  if (dir == NULL)
    return NULL;
  if (g_str_has_prefix (entry->source, "/dev/mapper/"))
    mapper_name = g_strdup (entry->source + strlen ("/dev/mapper/"));
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *dev = read_sys_value (ctx, name, "dev");

      if (dev != NULL && g_str_equal (dev, entry->majmin))
        return g_strdup (name);
    }
  /* btrfs and others show an anonymous 0:N device: go by the source. */
  g_dir_rewind (dir);
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *dm_name = mapper_name != NULL ? read_sys_value (ctx, name, "dm/name")
                                                     : NULL;

      if (dm_name != NULL && g_str_equal (dm_name, mapper_name))
        return g_strdup (name);
      if (g_str_has_prefix (entry->source, "/dev/") &&
          g_str_equal (entry->source + strlen ("/dev/"), name))
        return g_strdup (name);
    }
  return NULL;
}

static gboolean
is_crypt_uuid (const char *uuid)
{
  const char *const kinds[] = { "CRYPT-LUKS", "CRYPT-PLAIN", "CRYPT-TCRYPT", "CRYPT-BITLK",
                                "CRYPT-LOOPAES", NULL };

  for (guint i = 0; kinds[i] != NULL; i++)
    if (g_str_has_prefix (uuid, kinds[i]))
      return TRUE;
  return FALSE;
}

/* A device is encrypted when it is a dm-crypt device, or when all the
 * devices under it (LVM's, RAID's) are. */
static gboolean
device_is_encrypted (CheckContext *ctx,
                     const char   *device,
                     guint         depth,
                     JsonBuilder  *chain)
{
  g_autofree char *uuid = read_sys_value (ctx, device, "dm/uuid");
  g_autofree char *slaves_path = g_build_filename ("sys/class/block", device, "slaves", NULL);
  g_autofree char *slaves_full = root_path (ctx, slaves_path);
  g_autoptr(GDir) dir = NULL;
  const char *name;
  guint n = 0;
  gboolean all = TRUE;

  json_builder_begin_object (chain);
  evidence_string (chain, "device", device);
  evidence_string (chain, "dm_uuid", uuid);
  if (uuid != NULL && is_crypt_uuid (uuid))
    {
      json_builder_end_object (chain);
      return TRUE;
    }
  json_builder_set_member_name (chain, "under");
  json_builder_begin_array (chain);
  dir = depth < MAX_INCLUDE_DEPTH ? g_dir_open (slaves_full, 0, NULL) : NULL;
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL && n < 32)
    {
      n++;
      if (!device_is_encrypted (ctx, name, depth + 1, chain))
        all = FALSE;
    }
  json_builder_end_array (chain);
  json_builder_end_object (chain);
  return n > 0 && all;
}

typedef enum {
  MOUNT_ENCRYPTED,
  MOUNT_PLAIN,
  MOUNT_UNKNOWN,
} MountCrypt;

static MountCrypt
mount_encryption (CheckContext     *ctx,
                  const MountEntry *entry,
                  JsonBuilder      *ev)
{
  g_autofree char *device = find_block_device (ctx, entry);
  MountCrypt result;

  json_builder_begin_object (ev);
  evidence_string (ev, "mount_point", entry->mount_point);
  evidence_string (ev, "source", entry->source);
  evidence_string (ev, "fstype", entry->fstype);
  evidence_string (ev, "device", entry->majmin);
  if (device == NULL)
    result = MOUNT_UNKNOWN;
  else
    {
      json_builder_set_member_name (ev, "chain");
      json_builder_begin_array (ev);
      result = device_is_encrypted (ctx, device, 0, ev) ? MOUNT_ENCRYPTED : MOUNT_PLAIN;
      json_builder_end_array (ev);
    }
  evidence_string (ev, "encrypted", result == MOUNT_ENCRYPTED ? "yes"
                                    : result == MOUNT_PLAIN ? "no" : "unknown");
  json_builder_end_object (ev);
  return result;
}

static MoatHealthItem *
check_disk_encryption (CheckContext *ctx)
{
  g_autoptr(JsonBuilder) ev = evidence_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *mountinfo = NULL;
  MountEntry root_mount = { 0 }, home_mount = { 0 };
  MountCrypt root_crypt = MOUNT_UNKNOWN, home_crypt = MOUNT_UNKNOWN;
  gboolean have_root = FALSE, have_home = FALSE;
  const char *const steps[] = {
    _("Back up your files to an external disk or another computer first."),
    _("Disk encryption is chosen when the system is installed: reinstall and pick "
      "“Encrypt the new installation” (LUKS) in the partitioning step, then restore "
      "your files."),
    _("If this is a work computer, ask your IT department: they may have a tool that "
      "encrypts it for you."),
    NULL
  };
  MoatHealthStatus status;
  MoatSeverity severity = MOAT_SEVERITY_INFO;
  char *summary;
  gsize len;

  if (read_root_file (ctx, "proc/self/mountinfo", &mountinfo, &len, &error))
    {
      have_root = find_mount (mountinfo, "/", &root_mount);
      have_home = find_mount (mountinfo, "/home", &home_mount);
    }
  json_builder_set_member_name (ev, "mounts");
  json_builder_begin_array (ev);
  if (have_root)
    root_crypt = mount_encryption (ctx, &root_mount, ev);
  if (have_home)
    home_crypt = mount_encryption (ctx, &home_mount, ev);
  else
    home_crypt = root_crypt;
  json_builder_end_array (ev);
  evidence_bool (ev, "home_on_root", !have_home);
  if (error != NULL)
    evidence_string (ev, "error", error->message);

  if (root_crypt == MOUNT_PLAIN || home_crypt == MOUNT_PLAIN)
    {
      status = MOAT_HEALTH_PROBLEM;
      severity = MOAT_SEVERITY_HIGH;
      if (root_crypt == MOUNT_PLAIN && home_crypt == MOUNT_PLAIN)
        summary = g_strdup (_("The system disk and the home folders are not encrypted."));
      else if (root_crypt == MOUNT_PLAIN)
        summary = g_strdup (_("The system disk is not encrypted."));
      else
        summary = g_strdup (_("The disk of the home folders is not encrypted."));
    }
  else if (root_crypt == MOUNT_ENCRYPTED && home_crypt == MOUNT_ENCRYPTED)
    {
      status = MOAT_HEALTH_OK;
      summary = g_strdup (_("The system disk and the home folders are encrypted (LUKS)."));
    }
  else
    {
      status = MOAT_HEALTH_UNKNOWN;
      severity = MOAT_SEVERITY_HIGH;
      if (!have_root)
        summary = g_strdup (_("Moat could not read which disk the system runs from."));
      else
        summary = g_strdup_printf (_("Moat could not follow “%s” (%s) to a disk, so it cannot "
                                     "tell whether it is encrypted."),
                                   root_crypt == MOUNT_UNKNOWN ? root_mount.source
                                                               : home_mount.source,
                                   root_crypt == MOUNT_UNKNOWN ? root_mount.fstype
                                                               : home_mount.fstype);
    }
  mount_entry_clear (&root_mount);
  mount_entry_clear (&home_mount);
  return new_item (ctx, MOAT_COMPUTER_HEALTH_DISK_ENCRYPTION, status, severity,
                   _("Disk encryption"), summary,
                   _("Without encryption, anyone who holds the computer or its disk can read "
                     "every file on it, without knowing your password."),
                   _("A lost or stolen laptop gives away your documents, saved passwords, "
                     "e-mail and browser sessions."),
                   steps, ev);
}

/* ------------------------------------------------------------------ */
/* computer.screen_lock                                                */

#define SCREENSAVER_SCHEMA "org.gnome.desktop.screensaver"
#define SESSION_SCHEMA "org.gnome.desktop.session"
#define MAX_IDLE_DELAY 900
#define MAX_LOCK_DELAY 300
#define FIX_IDLE_DELAY 300
#define FIX_LOCK_DELAY 0

static GSettings *
open_settings (GSettingsSchemaSource *source,
               GSettingsBackend      *backend,
               const char            *schema_id,
               const char *const     *keys)
{
  g_autoptr(GSettingsSchema) schema = NULL;

  if (source == NULL)
    source = g_settings_schema_source_get_default ();
  if (source == NULL)
    return NULL;
  schema = g_settings_schema_source_lookup (source, schema_id, TRUE);
  if (schema == NULL)
    return NULL;
  for (guint i = 0; keys[i] != NULL; i++)
    if (!g_settings_schema_has_key (schema, keys[i]))
      return NULL;
  return g_settings_new_full (schema, backend, NULL);
}

typedef struct {
  GSettings *screensaver;
  GSettings *session;
} LockSettings;

static void
lock_settings_clear (LockSettings *settings)
{
  g_clear_object (&settings->screensaver);
  g_clear_object (&settings->session);
}

G_DEFINE_AUTO_CLEANUP_CLEAR_FUNC (LockSettings, lock_settings_clear)

static gboolean
open_lock_settings (GSettingsSchemaSource *source,
                    GSettingsBackend      *backend,
                    LockSettings          *settings)
{
  const char *const screensaver_keys[] = { "lock-enabled", "lock-delay", NULL };
  const char *const session_keys[] = { "idle-delay", NULL };

  settings->screensaver = open_settings (source, backend, SCREENSAVER_SCHEMA, screensaver_keys);
  settings->session = open_settings (source, backend, SESSION_SCHEMA, session_keys);
  return settings->screensaver != NULL && settings->session != NULL;
}

static gboolean
lock_enabled_ok (gboolean value)
{
  return value;
}

static gboolean
idle_delay_ok (guint value)
{
  return value > 0 && value <= MAX_IDLE_DELAY;
}

static gboolean
lock_delay_ok (guint value)
{
  return value <= MAX_LOCK_DELAY;
}

static MoatHealthItem *
check_screen_lock (CheckContext *ctx)
{
  g_autoptr(JsonBuilder) ev = evidence_new ();
  g_auto(LockSettings) settings = { NULL, NULL };
  g_autoptr(GPtrArray) problems = g_ptr_array_new_with_free_func (g_free);
  const char *const steps[] = {
    _("Use “Fix it” to let Moat turn the lock on with a 5-minute delay, or do it yourself:"),
    _("Open Settings, then Privacy (or Privacy & Security), then Screen Lock."),
    _("Turn on Automatic Screen Lock and set the Automatic Screen Lock Delay to "
      "“Screen Turns Off”."),
    _("In Power, set Screen Blank to 5 minutes or less."),
    NULL
  };
  MoatHealthStatus status;
  MoatSeverity severity = MOAT_SEVERITY_INFO;
  MoatHealthItem *item;
  gboolean lock_enabled;
  guint lock_delay, idle_delay;
  char *summary;

  if (!open_lock_settings (ctx->schema_source, ctx->backend, &settings))
    {
      evidence_bool (ev, "schemas_installed", FALSE);
      return new_item (ctx, MOAT_COMPUTER_HEALTH_SCREEN_LOCK, MOAT_HEALTH_UNKNOWN,
                       MOAT_SEVERITY_MEDIUM, _("Screen lock"),
                       g_strdup (_("The GNOME desktop settings are not installed, so Moat cannot "
                                   "read the screen lock settings of this desktop.")),
                       _("A screen that locks itself stops whoever walks by an unattended "
                         "computer from using it."),
                       _("Anyone near the computer can read your e-mail, use your accounts "
                         "or install something while you are away."),
                       NULL, ev);
    }
  lock_enabled = g_settings_get_boolean (settings.screensaver, "lock-enabled");
  lock_delay = g_settings_get_uint (settings.screensaver, "lock-delay");
  idle_delay = g_settings_get_uint (settings.session, "idle-delay");
  evidence_bool (ev, "schemas_installed", TRUE);
  evidence_bool (ev, "lock_enabled", lock_enabled);
  evidence_int (ev, "lock_delay", lock_delay);
  evidence_int (ev, "idle_delay", idle_delay);

  if (!lock_enabled_ok (lock_enabled))
    g_ptr_array_add (problems, g_strdup (_("the screen never locks by itself")));
  if (idle_delay == 0)
    g_ptr_array_add (problems, g_strdup (_("the screen never goes blank")));
  else if (!idle_delay_ok (idle_delay))
    g_ptr_array_add (problems, g_strdup_printf (_("the screen goes blank only after %u minutes"),
                                                idle_delay / 60));
  if (lock_enabled && !lock_delay_ok (lock_delay))
    g_ptr_array_add (problems, g_strdup_printf (_("it locks only %u minutes after going blank"),
                                                lock_delay / 60));
  if (problems->len > 0)
    {
      g_autofree char *joined = NULL;

      g_ptr_array_add (problems, NULL);
      joined = g_strjoinv ("; ", (char **) problems->pdata);
      status = MOAT_HEALTH_PROBLEM;
      severity = MOAT_SEVERITY_MEDIUM;
      /* TRANSLATORS: %s is a list of what is wrong, separated by semicolons */
      summary = g_strdup_printf (_("The screen lock is too weak: %s."), joined);
    }
  else
    {
      status = MOAT_HEALTH_OK;
      summary = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                              "The screen locks itself after %u minute "
                                              "without use.",
                                              "The screen locks itself after %u minutes "
                                              "without use.",
                                              (idle_delay + lock_delay + 59) / 60),
                                 (idle_delay + lock_delay + 59) / 60);
    }
  item = new_item (ctx, MOAT_COMPUTER_HEALTH_SCREEN_LOCK, status, severity, _("Screen lock"),
                   summary,
                   _("A screen that locks itself stops whoever walks by an unattended "
                     "computer from using it."),
                   _("Anyone near the computer can read your e-mail, use your accounts "
                     "or install something while you are away."),
                   steps, ev);
  item->auto_fix = status == MOAT_HEALTH_PROBLEM;
  return item;
}

static void
remember_and_set (GVariantBuilder *previous,
                  GSettings       *settings,
                  const char      *schema_id,
                  const char      *key,
                  GVariant        *value)
{
  g_autoptr(GVariant) user = g_settings_get_user_value (settings, key);
  g_autofree char *name = g_strconcat (schema_id, " ", key, NULL);
  g_autoptr(GVariant) sunk = g_variant_ref_sink (value);

  g_variant_builder_add (previous, "{smv}", name, user);
  g_settings_set_value (settings, key, sunk);
}

GVariant *
moat_computer_health_fix_screen_lock (GSettingsSchemaSource  *schema_source,
                                      GSettingsBackend       *settings_backend,
                                      GError                **error)
{
  g_auto(LockSettings) settings = { NULL, NULL };
  g_auto(GVariantBuilder) previous = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{smv}"));

  if (!open_lock_settings (schema_source, settings_backend, &settings))
    {
      g_set_error_literal (error, MOAT_ERROR, MOAT_ERROR_NOT_SUPPORTED,
                           _("The GNOME desktop settings are not installed."));
      return NULL;
    }
  g_settings_delay (settings.screensaver);
  g_settings_delay (settings.session);
  if (!lock_enabled_ok (g_settings_get_boolean (settings.screensaver, "lock-enabled")))
    remember_and_set (&previous, settings.screensaver, SCREENSAVER_SCHEMA, "lock-enabled",
                      g_variant_new_boolean (TRUE));
  if (!lock_delay_ok (g_settings_get_uint (settings.screensaver, "lock-delay")))
    remember_and_set (&previous, settings.screensaver, SCREENSAVER_SCHEMA, "lock-delay",
                      g_variant_new_uint32 (FIX_LOCK_DELAY));
  if (!idle_delay_ok (g_settings_get_uint (settings.session, "idle-delay")))
    remember_and_set (&previous, settings.session, SESSION_SCHEMA, "idle-delay",
                      g_variant_new_uint32 (FIX_IDLE_DELAY));
  g_settings_apply (settings.screensaver);
  g_settings_apply (settings.session);
  g_settings_sync ();
  return g_variant_ref_sink (g_variant_builder_end (&previous));
}

gboolean
moat_computer_health_fix_screen_lock_undo (GSettingsSchemaSource  *schema_source,
                                           GSettingsBackend       *settings_backend,
                                           GVariant               *previous,
                                           GError                **error)
{
  g_auto(LockSettings) settings = { NULL, NULL };
  GVariantIter iter;
  const char *name;
  GVariant *value;

  g_return_val_if_fail (previous != NULL, FALSE);

  if (!g_variant_is_of_type (previous, G_VARIANT_TYPE ("a{smv}")))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "The screen lock's previous settings are a{smv}, not %s",
                   g_variant_get_type_string (previous));
      return FALSE;
    }
  if (!open_lock_settings (schema_source, settings_backend, &settings))
    {
      g_set_error_literal (error, MOAT_ERROR, MOAT_ERROR_NOT_SUPPORTED,
                           _("The GNOME desktop settings are not installed."));
      return FALSE;
    }
  g_settings_delay (settings.screensaver);
  g_settings_delay (settings.session);
  g_variant_iter_init (&iter, previous);
  while (g_variant_iter_next (&iter, "{&smv}", &name, &value))
    {
      g_autoptr(GVariant) old = value;
      g_autoptr(GVariant) fixed = NULL;
      g_autoptr(GVariant) current = NULL;
      GSettings *target = NULL;
      const char *key = NULL;

      if (g_str_equal (name, SCREENSAVER_SCHEMA " lock-enabled"))
        {
          target = settings.screensaver;
          key = "lock-enabled";
          fixed = g_variant_ref_sink (g_variant_new_boolean (TRUE));
        }
      else if (g_str_equal (name, SCREENSAVER_SCHEMA " lock-delay"))
        {
          target = settings.screensaver;
          key = "lock-delay";
          fixed = g_variant_ref_sink (g_variant_new_uint32 (FIX_LOCK_DELAY));
        }
      else if (g_str_equal (name, SESSION_SCHEMA " idle-delay"))
        {
          target = settings.session;
          key = "idle-delay";
          fixed = g_variant_ref_sink (g_variant_new_uint32 (FIX_IDLE_DELAY));
        }
      if (target == NULL)
        continue;
      current = g_settings_get_value (target, key);
      /* The user changed it again since the fix: theirs wins. */
      if (!g_variant_equal (current, fixed))
        continue;
      if (old == NULL)
        g_settings_reset (target, key);
      else if (g_variant_is_of_type (old, g_variant_get_type (fixed)))
        g_settings_set_value (target, key, old);
    }
  g_settings_apply (settings.screensaver);
  g_settings_apply (settings.session);
  g_settings_sync ();
  return TRUE;
}

/* ------------------------------------------------------------------ */
/* computer.firewall                                                   */

typedef enum {
  FIREWALL_ACTIVE,
  FIREWALL_INACTIVE,
  FIREWALL_UNREADABLE,
} FirewallState;

/* A string member, or @fallback when it is missing or not a string. */
static const char *
member_string (JsonObject *object,
               const char *name,
               const char *fallback)
{
  JsonNode *node = json_object_get_member (object, name);

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return fallback;
  return json_node_get_string (node);
}

/* nft -j list ruleset: active when a chain hooked on input drops by
 * default or has rules. */
static FirewallState
nft_state (CheckContext *ctx,
           JsonBuilder  *ev)
{
  const char *const argv[] = { "/usr/sbin/nft", "-j", "list", "ruleset", NULL };
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  g_autoptr(GHashTable) input_chains = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                              NULL);
  JsonNode *root;
  JsonArray *objects;
  gboolean active = FALSE;
  int exit_status;

  if (!root_file_exists (ctx, "usr/sbin/nft"))
    return FIREWALL_UNREADABLE;
  if (!run_command (ctx, argv, &out, &err, &exit_status, &error) || exit_status != 0)
    {
      evidence_string (ev, "nft_error", error != NULL ? error->message : g_strstrip (err));
      return FIREWALL_UNREADABLE;
    }
  if (!json_parser_load_from_data (parser, out, -1, &error) ||
      (root = json_parser_get_root (parser)) == NULL || !JSON_NODE_HOLDS_OBJECT (root) ||
      !json_object_has_member (json_node_get_object (root), "nftables") ||
      !JSON_NODE_HOLDS_ARRAY (json_object_get_member (json_node_get_object (root), "nftables")))
    {
      evidence_string (ev, "nft_error", error != NULL ? error->message
                                                      : "nft's answer has no ruleset");
      return FIREWALL_UNREADABLE;
    }
  objects = json_object_get_array_member (json_node_get_object (root), "nftables");
  json_builder_set_member_name (ev, "input_chains");
  json_builder_begin_array (ev);
  for (guint pass = 0; pass < 2; pass++)
    for (guint i = 0; i < json_array_get_length (objects); i++)
      {
        JsonNode *node = json_array_get_element (objects, i);
        JsonObject *obj, *inner;
        const char *family, *table, *name;
        g_autofree char *key = NULL;

        if (!JSON_NODE_HOLDS_OBJECT (node))
          continue;
        obj = json_node_get_object (node);
        if (!json_object_has_member (obj, pass == 0 ? "chain" : "rule") ||
            !JSON_NODE_HOLDS_OBJECT (json_object_get_member (obj, pass == 0 ? "chain" : "rule")))
          continue;
        inner = json_object_get_object_member (obj, pass == 0 ? "chain" : "rule");
        family = member_string (inner, "family", "");
        table = member_string (inner, "table", "");
        name = member_string (inner, pass == 0 ? "name" : "chain",
                                                           "");
        key = g_strjoin (" ", family, table, name, NULL);
        if (pass == 0 &&
            g_strcmp0 (member_string (inner, "hook", ""),
                       "input") == 0)
          {
            const char *policy = member_string (inner, "policy",
                                                                             "accept");

            g_hash_table_add (input_chains, g_strdup (key));
            json_builder_begin_object (ev);
            evidence_string (ev, "chain", key);
            evidence_string (ev, "policy", policy);
            json_builder_end_object (ev);
            if (g_str_equal (policy, "drop"))
              active = TRUE;
          }
        else if (pass == 1 && g_hash_table_contains (input_chains, key))
          active = TRUE;
      }
  json_builder_end_array (ev);
  return active ? FIREWALL_ACTIVE : FIREWALL_INACTIVE;
}

static MoatHealthItem *
check_firewall (CheckContext *ctx)
{
  g_autoptr(JsonBuilder) ev = evidence_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) state = NULL;
  g_autofree char *ufw = NULL;
  const char *const steps[] = {
    _("Install a firewall: “sudo apt install ufw” (or firewalld)."),
    _("Turn it on so that it blocks connections from outside: “sudo ufw enable”."),
    _("If you use programs that others connect to, allow only those: for example "
      "“sudo ufw allow from 192.168.1.0/24 to any port 22”."),
    NULL
  };
  const char *source = NULL;
  FirewallState result;
  MoatHealthStatus status;
  char *summary;
  gsize len;

  result = nft_state (ctx, ev);
  if (result != FIREWALL_UNREADABLE)
    source = "nftables";
  if (result != FIREWALL_ACTIVE)
    {
      state = get_bus_property (ctx, "org.fedoraproject.FirewallD1",
                                "/org/fedoraproject/FirewallD1",
                                "org.fedoraproject.FirewallD1", "state", &error);
      if (state != NULL && g_variant_is_of_type (state, G_VARIANT_TYPE_STRING))
        {
          evidence_string (ev, "firewalld_state", g_variant_get_string (state, NULL));
          if (g_str_equal (g_variant_get_string (state, NULL), "RUNNING"))
            {
              result = FIREWALL_ACTIVE;
              source = "firewalld";
            }
        }
      else if (error != NULL)
        evidence_string (ev, "firewalld_error", error->message);
    }
  if (result == FIREWALL_UNREADABLE && read_root_file (ctx, "etc/ufw/ufw.conf", &ufw, &len, NULL))
    {
      g_autoptr(GHashTable) values = moat_ini_parse (ufw, len);
      const char *enabled = g_hash_table_lookup (values, "/ENABLED");
      g_autofree char *unquoted = g_strdup (enabled != NULL ? enabled : "");

      g_strdelimit (unquoted, "\"'", ' ');
      g_strstrip (unquoted);
      evidence_string (ev, "ufw_enabled", unquoted);
      source = "ufw";
      result = g_ascii_strcasecmp (unquoted, "yes") == 0 ? FIREWALL_ACTIVE : FIREWALL_INACTIVE;
    }
  evidence_string (ev, "source", source);

  switch (result)
    {
    case FIREWALL_ACTIVE:
      status = MOAT_HEALTH_OK;
      summary = g_strdup_printf (_("A firewall is active (%s)."), source);
      break;
    case FIREWALL_INACTIVE:
      status = MOAT_HEALTH_PROBLEM;
      summary = g_str_equal (source, "ufw")
                ? g_strdup (_("The firewall (ufw) is installed but turned off."))
                : g_strdup (_("No firewall rules filter incoming connections."));
      break;
    case FIREWALL_UNREADABLE:
    default:
      status = MOAT_HEALTH_UNKNOWN;
      summary = g_strdup (_("Moat could not read the firewall rules: that needs administrator "
                            "rights, and neither firewalld nor ufw is there to ask."));
      break;
    }
  return new_item (ctx, MOAT_COMPUTER_HEALTH_FIREWALL, status, MOAT_SEVERITY_MEDIUM,
                   _("Firewall"), summary,
                   _("A firewall refuses connections from the network that you did not ask "
                     "for, so a program that listens by mistake is not reachable."),
                   _("On a café or hotel network, others can reach any service the computer "
                     "offers, such as file sharing or remote login."),
                   steps, ev);
}

/* ------------------------------------------------------------------ */
/* computer.secure_boot                                                */

static MoatHealthItem *
check_secure_boot (CheckContext *ctx)
{
  g_autoptr(JsonBuilder) ev = evidence_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *data = NULL;
  const char *const steps[] = {
    _("Restart the computer and open its firmware settings (often F2, F10, F12 or Del "
      "right after switching on)."),
    _("In the Boot or Security section, set Secure Boot to Enabled and save."),
    _("Debian and most distributions start normally with Secure Boot; if yours does not, "
      "undo the change the same way."),
    NULL
  };
  MoatHealthStatus status = MOAT_HEALTH_UNKNOWN;
  const char *why = _("Secure Boot lets the computer start only software signed by its "
                      "maker or distribution, so malware cannot hide in the start-up.");
  const char *impact = _("Malware that gets in once can install itself below the operating "
                         "system, where no scanner sees it and reinstalling may not remove it.");
  char *summary;
  gsize len = 0;

  evidence_bool (ev, "efi", root_file_exists (ctx, "sys/firmware/efi"));
  if (!root_file_exists (ctx, "sys/firmware/efi"))
    summary = g_strdup (_("This computer starts in legacy BIOS mode, which has no Secure Boot."));
  else if (!read_root_file (ctx, SECURE_BOOT_VAR, &data, &len, &error) || len < 5)
    {
      evidence_string (ev, "error", error != NULL ? error->message : "SecureBoot is too short");
      summary = g_strdup (_("The firmware does not say whether Secure Boot is on."));
    }
  else
    {
      evidence_int (ev, "secure_boot", (guint8) data[4]);
      if (data[4] == 1)
        {
          status = MOAT_HEALTH_OK;
          summary = g_strdup (_("Secure Boot is on."));
        }
      else
        {
          status = MOAT_HEALTH_PROBLEM;
          summary = g_strdup (_("Secure Boot is off."));
        }
    }
  return new_item (ctx, MOAT_COMPUTER_HEALTH_SECURE_BOOT, status, MOAT_SEVERITY_MEDIUM,
                   _("Secure Boot"), summary, why, impact, steps, ev);
}

/* ------------------------------------------------------------------ */
/* computer.hsi                                                        */

/* "HSI:2! (v1.8.12)": the level, and whether runtime issues lower it. */
static gboolean
parse_hsi (const char *hsi,
           guint      *level,
           gboolean   *runtime_issues)
{
  const char *p;
  guint64 value;
  g_autofree char *digits = NULL;

  if (!g_str_has_prefix (hsi, "HSI:"))
    return FALSE;
  p = hsi + 4;
  digits = g_strndup (p, strspn (p, "0123456789"));
  if (digits[0] == '\0' || !g_ascii_string_to_unsigned (digits, 10, 0, 5, &value, NULL))
    return FALSE;
  p += strlen (digits);
  *level = (guint) value;
  *runtime_issues = *p == '!';
  return TRUE;
}

static MoatHealthItem *
check_hsi (CheckContext *ctx)
{
  g_autoptr(JsonBuilder) ev = evidence_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) value = NULL;
  const char *const steps[] = {
    _("Run “fwupdmgr security” in a terminal to see which firmware protections fail."),
    _("Install firmware updates: “fwupdmgr update”, or Software's Updates page."),
    _("Turn on the protections it lists in the firmware settings (such as Secure Boot, "
      "TPM and IOMMU), or ask the computer's maker for a firmware update."),
    NULL
  };
  MoatHealthStatus status = MOAT_HEALTH_UNKNOWN;
  guint level = 0;
  gboolean runtime = FALSE;
  char *summary;

  value = get_bus_property (ctx, "org.freedesktop.fwupd", "/", "org.freedesktop.fwupd",
                            "HostSecurityId", &error);
  if (value == NULL || !g_variant_is_of_type (value, G_VARIANT_TYPE_STRING))
    {
      evidence_string (ev, "error", error != NULL ? error->message : "not a string");
      summary = g_strdup (_("fwupd is not installed or not running, so the firmware's "
                            "security level is unknown."));
    }
  else
    {
      const char *hsi = g_variant_get_string (value, NULL);

      evidence_string (ev, "host_security_id", hsi);
      if (!parse_hsi (hsi, &level, &runtime))
        summary = g_strdup_printf (_("fwupd cannot rate this computer’s firmware (“%s”)."),
                                   hsi);
      else
        {
          evidence_int (ev, "level", level);
          evidence_bool (ev, "runtime_issues", runtime);
          status = level < 1 ? MOAT_HEALTH_PROBLEM : MOAT_HEALTH_OK;
          summary = level < 1
                    ? g_strdup (_("The firmware passes none of fwupd’s basic security tests "
                                  "(HSI:0)."))
                    : g_strdup_printf (_("The firmware’s security level is HSI:%u%s."), level,
                                       runtime ? "!" : "");
        }
    }
  return new_item (ctx, MOAT_COMPUTER_HEALTH_HSI, status, MOAT_SEVERITY_LOW,
                   _("Firmware security"), summary,
                   _("fwupd’s Host Security ID rates the protections of the firmware and "
                     "hardware beneath the operating system, from HSI:0 (none) upwards."),
                   _("Flaws in firmware let attackers with brief physical or administrator "
                     "access plant malware that survives reinstalling."),
                   steps, ev);
}

/* ------------------------------------------------------------------ */
/* computer.auto_login                                                 */

static gboolean
ini_true (const char *value)
{
  return value != NULL && (g_ascii_strcasecmp (value, "true") == 0 ||
                           g_ascii_strcasecmp (value, "yes") == 0 || g_str_equal (value, "1"));
}

/* Adds the ini files of a conf.d folder, sorted, to @files. */
static void
add_conf_dir (CheckContext *ctx,
              const char   *dir_path,
              GPtrArray    *files)
{
  g_autofree char *full = root_path (ctx, dir_path);
  g_autoptr(GDir) dir = g_dir_open (full, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL && names->len < 256)
    if (g_str_has_suffix (name, ".conf"))
      g_ptr_array_add (names, g_build_filename (dir_path, name, NULL));
  g_ptr_array_sort (names, compare_strings);
  for (guint i = 0; i < names->len; i++)
    g_ptr_array_add (files, g_strdup (g_ptr_array_index (names, i)));
}

static MoatHealthItem *
check_auto_login (CheckContext *ctx)
{
  g_autoptr(JsonBuilder) ev = evidence_new ();
  g_autoptr(GPtrArray) files = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GPtrArray) found = g_ptr_array_new_with_free_func (g_free);
  const char *const steps[] = {
    _("Open Settings, then Users, and turn off Automatic Login."),
    _("Or, as administrator, set “AutomaticLoginEnable=false” and “TimedLoginEnable=false” "
      "in /etc/gdm3/daemon.conf (for LightDM, remove “autologin-user=” from "
      "/etc/lightdm/lightdm.conf)."),
    _("Restart the computer and check that it asks for your password."),
    NULL
  };
  guint n_read = 0;
  MoatHealthStatus status;
  char *summary;

  g_ptr_array_add (files, g_strdup ("etc/gdm3/daemon.conf"));
  g_ptr_array_add (files, g_strdup ("etc/gdm3/custom.conf"));
  g_ptr_array_add (files, g_strdup ("etc/gdm/custom.conf"));
  g_ptr_array_add (files, g_strdup ("etc/lightdm/lightdm.conf"));
  add_conf_dir (ctx, "etc/lightdm/lightdm.conf.d", files);
  g_ptr_array_add (files, g_strdup ("etc/sddm.conf"));
  add_conf_dir (ctx, "etc/sddm.conf.d", files);

  json_builder_set_member_name (ev, "files");
  json_builder_begin_array (ev);
  for (guint i = 0; i < files->len; i++)
    {
      const char *path = g_ptr_array_index (files, i);
      g_autofree char *text = NULL;
      g_autoptr(GHashTable) values = NULL;
      GHashTableIter iter;
      gpointer key, value;
      gsize len;

      if (!read_root_file (ctx, path, &text, &len, NULL))
        continue;
      n_read++;
      json_builder_add_string_value (ev, path);
      values = moat_ini_parse (text, len);
      if (ini_true (g_hash_table_lookup (values, "daemon/AutomaticLoginEnable")))
        {
          const char *user = g_hash_table_lookup (values, "daemon/AutomaticLogin");

          g_ptr_array_add (found, g_strdup_printf ("/%s: AutomaticLoginEnable (%s)", path,
                                                   user != NULL ? user : ""));
        }
      if (ini_true (g_hash_table_lookup (values, "daemon/TimedLoginEnable")))
        {
          const char *user = g_hash_table_lookup (values, "daemon/TimedLogin");

          g_ptr_array_add (found, g_strdup_printf ("/%s: TimedLoginEnable (%s)", path,
                                                   user != NULL ? user : ""));
        }
      g_hash_table_iter_init (&iter, values);
      while (g_hash_table_iter_next (&iter, &key, &value))
        {
          const char *slash = strrchr (key, '/');

          if (((const char *) value)[0] == '\0')
            continue;
          if ((g_str_equal (slash, "/autologin-user") && g_str_has_prefix (path, "etc/lightdm")) ||
              (g_str_equal (key, "Autologin/User") && g_str_has_prefix (path, "etc/sddm")))
            g_ptr_array_add (found, g_strdup_printf ("/%s: %s=%s", path, (const char *) key,
                                                     (const char *) value));
        }
    }
  json_builder_end_array (ev);
  json_builder_set_member_name (ev, "automatic_login");
  json_builder_begin_array (ev);
  g_ptr_array_sort (found, compare_strings);
  for (guint i = 0; i < found->len; i++)
    json_builder_add_string_value (ev, g_ptr_array_index (found, i));
  json_builder_end_array (ev);

  if (found->len > 0)
    {
      status = MOAT_HEALTH_PROBLEM;
      summary = g_strdup (_("The computer logs in by itself when it starts, without a "
                            "password."));
    }
  else if (n_read > 0)
    {
      status = MOAT_HEALTH_OK;
      summary = g_strdup (_("The computer asks for a password when it starts."));
    }
  else
    {
      status = MOAT_HEALTH_UNKNOWN;
      summary = g_strdup (_("Moat found no settings of GDM, LightDM or SDDM, so it cannot "
                            "tell whether the computer logs in by itself."));
    }
  return new_item (ctx, MOAT_COMPUTER_HEALTH_AUTO_LOGIN, status, MOAT_SEVERITY_HIGH,
                   _("Automatic login"), summary,
                   _("With automatic login, switching the computer on is enough to use "
                     "your account: no password stands in the way."),
                   _("Whoever picks up or restarts the computer gets your files, e-mail and "
                     "logged-in websites, and your disk encryption protects nothing."),
                   steps, ev);
}

/* ------------------------------------------------------------------ */
/* computer.root_ca                                                    */

typedef struct {
  char *sha256;
  char *subject;
  char *file;
} ExtraCa;

static void
extra_ca_free (ExtraCa *ca)
{
  g_free (ca->sha256);
  g_free (ca->subject);
  g_free (ca->file);
  g_free (ca);
}

/* The DER certificates in PEM text. */
static GPtrArray *
pem_certificates (const char *text)
{
  GPtrArray *certs = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  const char *begin_mark = "-----BEGIN CERTIFICATE-----";
  const char *end_mark = "-----END CERTIFICATE-----";
  const char *p = text;
  const char *begin;

  while ((begin = strstr (p, begin_mark)) != NULL && certs->len < MAX_CERTS)
    {
      const char *end = strstr (begin, end_mark);
      g_autofree char *b64 = NULL;
      guchar *der;
      gsize der_len;

      if (end == NULL)
        break;
      b64 = g_strndup (begin + strlen (begin_mark), (gsize) (end - begin - strlen (begin_mark)));
      der = g_base64_decode (b64, &der_len);
      if (der_len > 0)
        g_ptr_array_add (certs, g_bytes_new_take (der, der_len));
      else
        g_free (der);
      p = end + strlen (end_mark);
    }
  return certs;
}

static char *
der_sha256 (GBytes *der)
{
  g_autoptr(GChecksum) checksum = g_checksum_new (G_CHECKSUM_SHA256);
  gsize len;
  const guchar *data = g_bytes_get_data (der, &len);
  guint8 digest[32];
  gsize digest_len = sizeof digest;
  GString *hex = g_string_new (NULL);

  g_checksum_update (checksum, data, (gssize) len);
  g_checksum_get_digest (checksum, digest, &digest_len);
  for (gsize i = 0; i < digest_len; i++)
    g_string_append_printf (hex, i == 0 ? "%02X" : ":%02X", digest[i]);
  return g_string_free (hex, FALSE);
}

static char *
der_subject (GBytes *der)
{
  g_auto(gnutls_x509_crt_t) crt = NULL;
  gnutls_datum_t datum, dn = { NULL, 0 };
  gsize len;
  char *subject;

  datum.data = (unsigned char *) g_bytes_get_data (der, &len);
  datum.size = (unsigned int) len;
  if (gnutls_x509_crt_init (&crt) < 0)
    return g_strdup ("");
  if (gnutls_x509_crt_import (crt, &datum, GNUTLS_X509_FMT_DER) < 0 ||
      gnutls_x509_crt_get_dn3 (crt, &dn, 0) < 0)
    return g_strdup (_("(not a readable certificate)"));
  subject = g_utf8_make_valid ((const char *) dn.data, dn.size);
  gnutls_free (dn.data);
  return subject;
}

/* A file's certificates' fingerprints into @set, or when @extras is given,
 * those not in @standard into @extras. Symbolic links are followed under
 * the root. */
static void
scan_cert_file (CheckContext *ctx,
                const char   *path,
                GHashTable   *standard,
                GHashTable   *seen,
                GPtrArray    *extras,
                guint         depth)
{
  g_autofree char *full = root_path (ctx, path);
  g_autofree char *target = NULL;
  g_autofree char *text = NULL;
  g_autoptr(GPtrArray) certs = NULL;
  gsize len;

  target = g_file_read_link (full, NULL);
  if (target != NULL)
    {
      g_autofree char *next = NULL;

      if (depth >= MAX_INCLUDE_DEPTH)
        return;
      if (g_path_is_absolute (target))
        next = g_strdup (target);
      else
        {
          g_autofree char *dir = g_path_get_dirname (path);

          next = g_build_filename (dir, target, NULL);
        }
      scan_cert_file (ctx, next, standard, seen, extras, depth + 1);
      return;
    }
  if (!read_root_file (ctx, path, &text, &len, NULL))
    return;
  certs = pem_certificates (text);
  for (guint i = 0; i < certs->len; i++)
    {
      g_autofree char *fingerprint = der_sha256 (g_ptr_array_index (certs, i));
      ExtraCa *ca;

      if (extras == NULL)
        {
          g_hash_table_add (standard, g_steal_pointer (&fingerprint));
          continue;
        }
      if (g_hash_table_contains (standard, fingerprint) ||
          g_hash_table_contains (seen, fingerprint) || extras->len >= 256)
        continue;
      ca = g_new0 (ExtraCa, 1);
      ca->subject = der_subject (g_ptr_array_index (certs, i));
      ca->file = g_strconcat ("/", path[0] == '/' ? path + 1 : path, NULL);
      ca->sha256 = g_strdup (fingerprint);
      g_hash_table_add (seen, g_steal_pointer (&fingerprint));
      g_ptr_array_add (extras, ca);
    }
}

static void
scan_cert_dir (CheckContext *ctx,
               const char   *dir_path,
               gboolean      recursive,
               GHashTable   *standard,
               GHashTable   *seen,
               GPtrArray    *extras)
{
  g_autofree char *full = root_path (ctx, dir_path);
  g_autoptr(GDir) dir = g_dir_open (full, 0, NULL);
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  g_autoptr(GRegex) hash_link = g_regex_new ("^[0-9a-f]{8}\\.r?[0-9]+$", 0, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL && names->len < MAX_CERTS)
    g_ptr_array_add (names, g_strdup (name));
  g_ptr_array_sort (names, compare_strings);
  for (guint i = 0; i < names->len; i++)
    {
      const char *entry = g_ptr_array_index (names, i);
      g_autofree char *child = g_build_filename (dir_path, entry, NULL);
      g_autofree char *child_full = root_path (ctx, child);

      /* OpenSSL's hash links name the same certificates again. */
      if (g_regex_match (hash_link, entry, 0, NULL))
        continue;
      if (g_file_test (child_full, G_FILE_TEST_IS_DIR) &&
          !g_file_test (child_full, G_FILE_TEST_IS_SYMLINK))
        {
          if (recursive)
            scan_cert_dir (ctx, child, FALSE, standard, seen, extras);
          continue;
        }
      scan_cert_file (ctx, child, standard, seen, extras, 0);
    }
}

static MoatHealthItem *
check_root_ca (CheckContext *ctx)
{
  g_autoptr(JsonBuilder) ev = evidence_new ();
  g_autoptr(GHashTable) standard = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GHashTable) seen = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  g_autoptr(GPtrArray) extras = g_ptr_array_new_with_free_func ((GDestroyNotify) extra_ca_free);
  g_autoptr(GPtrArray) other_listed = g_ptr_array_new_with_free_func (g_free);
  g_autofree char *conf = NULL;
  const char *const steps[] = {
    _("Look at each certificate’s name below. A company or school may add its own "
      "certificate on computers it manages: ask your IT department whether this one is "
      "theirs, and compare the fingerprint they give you."),
    _("If nobody you trust put it there, remove it: delete the file shown from "
      "/usr/local/share/ca-certificates/ (or remove its line from /etc/ca-certificates.conf), "
      "then run “sudo update-ca-certificates --fresh”."),
    _("Also check the browsers’ own certificate lists (Firefox: Settings, Privacy & Security, "
      "View Certificates, Authorities)."),
    NULL
  };
  MoatHealthStatus status;
  char *summary;
  gsize len;

  if (!root_file_exists (ctx, "etc/ssl/certs") ||
      !root_file_exists (ctx, "usr/share/ca-certificates"))
    {
      evidence_bool (ev, "ca_certificates", FALSE);
      return new_item (ctx, MOAT_COMPUTER_HEALTH_ROOT_CA, MOAT_HEALTH_UNKNOWN,
                       MOAT_SEVERITY_MEDIUM, _("Trusted certificates"),
                       g_strdup (_("This system keeps its trusted certificates in a way Moat "
                                   "cannot read yet (no ca-certificates).")),
                       _("Every secure website is trusted because of a short list of root "
                         "certificates. Whoever adds one can impersonate any website."),
                       _("Someone with an extra root certificate can read and change your "
                         "secure connections, passwords included, without any warning."),
                       NULL, ev);
    }
  evidence_bool (ev, "ca_certificates", TRUE);
  /* The package's own certificates: mozilla/ as listed in ca-certificates.conf
   * (all of mozilla/ when there is no list). */
  if (read_root_file (ctx, "etc/ca-certificates.conf", &conf, &len, NULL))
    {
      g_auto(GStrv) lines = g_strsplit (conf, "\n", -1);

      for (guint i = 0; lines[i] != NULL; i++)
        {
          const char *line = g_strstrip (lines[i]);
          g_autofree char *path = NULL;

          if (line[0] == '\0' || line[0] == '#' || line[0] == '!' || strstr (line, "..") != NULL)
            continue;
          path = g_build_filename ("usr/share/ca-certificates", line, NULL);
          if (g_str_has_prefix (line, "mozilla/"))
            scan_cert_file (ctx, path, standard, NULL, NULL, 0);
          else if (other_listed->len < 256)
            g_ptr_array_add (other_listed, g_steal_pointer (&path));
        }
    }
  else
    scan_cert_dir (ctx, "usr/share/ca-certificates/mozilla", FALSE, standard, NULL, NULL);
  evidence_int (ev, "standard", g_hash_table_size (standard));

  for (guint i = 0; i < other_listed->len; i++)
    scan_cert_file (ctx, g_ptr_array_index (other_listed, i), standard, seen, extras, 0);
  scan_cert_dir (ctx, "usr/local/share/ca-certificates", TRUE, standard, seen, extras);
  scan_cert_dir (ctx, "etc/ssl/certs", FALSE, standard, seen, extras);

  json_builder_set_member_name (ev, "extra");
  json_builder_begin_array (ev);
  for (guint i = 0; i < extras->len; i++)
    {
      ExtraCa *ca = g_ptr_array_index (extras, i);

      json_builder_begin_object (ev);
      evidence_string (ev, "subject", ca->subject);
      evidence_string (ev, "sha256", ca->sha256);
      evidence_string (ev, "file", ca->file);
      json_builder_end_object (ev);
    }
  json_builder_end_array (ev);

  if (extras->len > 0)
    {
      ExtraCa *first = g_ptr_array_index (extras, 0);

      status = MOAT_HEALTH_PROBLEM;
      if (extras->len == 1)
        summary = g_strdup_printf (_("An extra root certificate is trusted: “%s”."),
                                   first->subject);
      else
        summary = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                "%u extra root certificate is trusted, "
                                                "the first is “%s”.",
                                                "%u extra root certificates are trusted, "
                                                "the first is “%s”.", extras->len),
                                   extras->len, first->subject);
    }
  else if (g_hash_table_size (standard) == 0)
    {
      status = MOAT_HEALTH_UNKNOWN;
      summary = g_strdup (_("Moat found none of the standard root certificates, so it cannot "
                            "compare the trusted ones against them."));
    }
  else
    {
      status = MOAT_HEALTH_OK;
      summary = g_strdup (_("Only the standard root certificates are trusted."));
    }
  return new_item (ctx, MOAT_COMPUTER_HEALTH_ROOT_CA, status, MOAT_SEVERITY_MEDIUM,
                   _("Trusted certificates"), summary,
                   _("Every secure website is trusted because of a short list of root "
                     "certificates. Whoever adds one can impersonate any website."),
                   _("Someone with an extra root certificate can read and change your "
                     "secure connections, passwords included, without any warning."),
                   steps, ev);
}

/* ------------------------------------------------------------------ */
/* computer.ssh_exposed                                                */

typedef struct {
  CheckContext *ctx;
  guint         n_files;
} IncludeData;

/* sshd's Include: relative paths are under /etc/ssh, globs allowed in the
 * last part. */
static GPtrArray *
sshd_include_cb (const char *pattern,
                 gpointer    user_data)
{
  IncludeData *data = user_data;
  g_autofree char *path = g_path_is_absolute (pattern)
                          ? g_strdup (pattern) : g_build_filename ("/etc/ssh", pattern, NULL);
  g_autofree char *dir_path = g_path_get_dirname (path);
  g_autofree char *base = g_path_get_basename (path);
  g_autofree char *dir_full = root_path (data->ctx, dir_path);
  g_autoptr(GDir) dir = NULL;
  g_autoptr(GPtrArray) names = g_ptr_array_new_with_free_func (g_free);
  GPtrArray *files = g_ptr_array_new_with_free_func ((GDestroyNotify) g_bytes_unref);
  const char *name;

  if (strchr (dir_path, '*') == NULL && strchr (dir_path, '?') == NULL)
    dir = g_dir_open (dir_full, 0, NULL);
  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL && names->len < 64)
    if (g_pattern_match_simple (base, name))
      g_ptr_array_add (names, g_build_filename (dir_path, name, NULL));
  g_ptr_array_sort (names, compare_strings);
  for (guint i = 0; i < names->len && data->n_files < 64; i++)
    {
      char *text = NULL;
      gsize len;

      if (read_root_file (data->ctx, g_ptr_array_index (names, i), &text, &len, NULL))
        {
          g_ptr_array_add (files, g_bytes_new_take (text, len));
          data->n_files++;
        }
    }
  return files;
}

static gboolean
port_in (GArray  *ports,
         guint16  port)
{
  for (guint i = 0; i < ports->len; i++)
    if (g_array_index (ports, guint16, i) == port)
      return TRUE;
  return FALSE;
}

static MoatHealthItem *
check_ssh_exposed (CheckContext *ctx)
{
  g_autoptr(JsonBuilder) ev = evidence_new ();
  g_autoptr(MoatSshdConfig) config = moat_sshd_config_new ();
  g_autofree char *config_text = NULL;
  const char *const steps[] = {
    _("If you do not log in to this computer from elsewhere, remove the SSH server: "
      "“sudo apt remove openssh-server”."),
    _("If you need it, let it listen only where you use it (for example "
      "“ListenAddress 127.0.0.1” or a VPN address in /etc/ssh/sshd_config), or allow it only "
      "from your own network in the firewall."),
    _("Use keys instead of passwords: set “PasswordAuthentication no” in /etc/ssh/sshd_config, "
      "then “sudo systemctl restart ssh”."),
    NULL
  };
  IncludeData include = { ctx, 0 };
  gboolean have_config, readable = FALSE, password;
  const char *password_setting;
  guint n_exposed = 0;
  guint16 default_port = 22;
  MoatHealthStatus status;
  MoatSeverity severity = MOAT_SEVERITY_INFO;
  char *summary;
  gsize len;

  have_config = read_root_file (ctx, "etc/ssh/sshd_config", &config_text, &len, NULL);
  if (have_config)
    moat_sshd_config_parse (config, config_text, len, sshd_include_cb, &include);
  if (config->ports->len == 0 || !have_config)
    add_port (config, default_port);
  password_setting = config->password_authentication;
  /* OpenSSH allows passwords unless told not to. */
  password = have_config && (password_setting == NULL || g_str_equal (password_setting, "yes"));

  evidence_bool (ev, "sshd_config", have_config);
  json_builder_set_member_name (ev, "ports");
  json_builder_begin_array (ev);
  for (guint i = 0; i < config->ports->len; i++)
    json_builder_add_int_value (ev, g_array_index (config->ports, guint16, i));
  json_builder_end_array (ev);
  if (have_config)
    evidence_string (ev, "password_authentication",
                     password_setting != NULL ? password_setting : "yes (default)");
  json_builder_set_member_name (ev, "listening");
  json_builder_begin_array (ev);
  for (guint v6 = 0; v6 < 2; v6++)
    {
      g_autofree char *text = NULL;
      g_autoptr(GArray) sockets = NULL;

      if (!read_root_file (ctx, v6 ? "proc/net/tcp6" : "proc/net/tcp", &text, &len, NULL))
        continue;
      readable = TRUE;
      sockets = moat_proc_net_tcp_parse (text, len, v6, NULL);
      for (guint i = 0; i < sockets->len; i++)
        {
          const MoatTcpSocket *sock = &g_array_index (sockets, MoatTcpSocket, i);

          if (sock->state != MOAT_TCP_LISTEN || !port_in (config->ports, sock->port))
            continue;
          json_builder_begin_object (ev);
          evidence_string (ev, "address", sock->address);
          evidence_int (ev, "port", sock->port);
          evidence_bool (ev, "loopback", sock->loopback);
          json_builder_end_object (ev);
          if (!sock->loopback)
            n_exposed++;
        }
    }
  json_builder_end_array (ev);

  if (!readable)
    {
      status = MOAT_HEALTH_UNKNOWN;
      severity = MOAT_SEVERITY_MEDIUM;
      summary = g_strdup (_("Moat could not read the list of listening connections "
                            "(/proc/net/tcp)."));
    }
  else if (n_exposed > 0)
    {
      status = MOAT_HEALTH_PROBLEM;
      severity = password ? MOAT_SEVERITY_HIGH : MOAT_SEVERITY_MEDIUM;
      summary = password
                ? g_strdup (_("An SSH server accepts connections from the network, and it "
                              "accepts passwords."))
                : g_strdup (_("An SSH server accepts connections from the network."));
    }
  else
    {
      status = MOAT_HEALTH_OK;
      summary = g_strdup (_("No SSH server is reachable from the network."));
    }
  return new_item (ctx, MOAT_COMPUTER_HEALTH_SSH_EXPOSED, status, severity,
                   _("Remote login (SSH)"), summary,
                   _("An SSH server lets people log in to this computer over the network. "
                     "Attackers constantly try passwords against every SSH server they find."),
                   _("A guessed or reused password gives a stranger full use of your account "
                     "from anywhere on the network."),
                   steps, ev);
}

/* ------------------------------------------------------------------ */
/* Public API                                                          */

typedef MoatHealthItem *(*CheckFunc) (CheckContext *ctx);

static const CheckFunc check_funcs[] = {
  check_os_updates,
  check_disk_encryption,
  check_screen_lock,
  check_firewall,
  check_secure_boot,
  check_hsi,
  check_auto_login,
  check_root_ca,
  check_ssh_exposed,
};

G_STATIC_ASSERT (G_N_ELEMENTS (check_funcs) + 1 == G_N_ELEMENTS (check_ids));

const char *const *
moat_computer_health_check_ids (void)
{
  return check_ids;
}

MoatHealthItem *
moat_computer_health_check_one_sync (const MoatComputerHealthOptions *options,
                                     const char                      *id,
                                     GCancellable                    *cancellable)
{
  g_autoptr(CheckContext) ctx = NULL;

  g_return_val_if_fail (id != NULL, NULL);

  for (guint i = 0; i < G_N_ELEMENTS (check_funcs); i++)
    if (g_str_equal (check_ids[i], id))
      {
        ctx = check_context_new (options, cancellable);
        return check_funcs[i] (ctx);
      }
  return NULL;
}

static GPtrArray *
check_all (CheckContext *ctx)
{
  GPtrArray *items = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_health_item_free);

  for (guint i = 0; i < G_N_ELEMENTS (check_funcs); i++)
    {
      g_debug ("checking %s", check_ids[i]);
      g_ptr_array_add (items, check_funcs[i] (ctx));
    }
  return items;
}

GPtrArray *
moat_computer_health_check_sync (const MoatComputerHealthOptions *options,
                                 GCancellable                    *cancellable)
{
  g_autoptr(CheckContext) ctx = check_context_new (options, cancellable);

  return check_all (ctx);
}

static void
check_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  CheckContext *ctx = task_data;
  g_autoptr(GPtrArray) items = check_all (ctx);

  if (g_task_return_error_if_cancelled (task))
    return;
  g_task_return_pointer (task, g_steal_pointer (&items), (GDestroyNotify) g_ptr_array_unref);
}

void
moat_computer_health_check_async (const MoatComputerHealthOptions *options,
                                  GCancellable                    *cancellable,
                                  GAsyncReadyCallback              callback,
                                  gpointer                         user_data)
{
  g_autoptr(GTask) task = g_task_new (NULL, cancellable, callback, user_data);

  g_task_set_source_tag (task, moat_computer_health_check_async);
  g_task_set_task_data (task, check_context_new (options, cancellable),
                        (GDestroyNotify) check_context_free);
  g_task_run_in_thread (task, check_thread);
}

GPtrArray *
moat_computer_health_check_finish (GAsyncResult  *result,
                                   GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        moat_computer_health_check_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
