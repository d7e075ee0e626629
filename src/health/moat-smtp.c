/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-health"

#include "config.h"

#include "moat-smtp.h"

#include <glib/gi18n.h>
#include <libsecret/secret.h>
#include <string.h>

/*
 * MoatSmtp: sends one email alert over SMTP (RFC 5321) with STARTTLS
 * (RFC 3207) or TLS, AUTH PLAIN or LOGIN (RFC 4954), all asynchronous.
 *
 * Each step (connecting, each command's reply, the TLS handshake, closing)
 * has its own timeout, and an error names the step and the server's reply.
 * Credentials are only ever sent over TLS; in STARTTLS mode a server that
 * does not offer STARTTLS is refused, as is one that sends anything after
 * its STARTTLS reply before the handshake (a command injection).
 */

#define MAX_REPLY_LINE 2048
#define MAX_REPLY_LINES 100
#define MAX_SUBJECT_CHARS 250
#define MAX_BODY (1024 * 1024)

typedef enum {
  STEP_CONNECT,
  STEP_GREETING,
  STEP_EHLO,
  STEP_STARTTLS,
  STEP_HANDSHAKE,
  STEP_AUTH,
  STEP_AUTH_USER,
  STEP_AUTH_PASS,
  STEP_MAIL,
  STEP_RCPT,
  STEP_DATA,
  STEP_MESSAGE,
  STEP_QUIT,
} Step;

static const char *const step_names[] = {
  [STEP_CONNECT] = "connect",
  [STEP_GREETING] = "greeting",
  [STEP_EHLO] = "EHLO",
  [STEP_STARTTLS] = "STARTTLS",
  [STEP_HANDSHAKE] = "TLS handshake",
  [STEP_AUTH] = "AUTH",
  [STEP_AUTH_USER] = "AUTH LOGIN user name",
  [STEP_AUTH_PASS] = "AUTH LOGIN password",
  [STEP_MAIL] = "MAIL FROM",
  [STEP_RCPT] = "RCPT TO",
  [STEP_DATA] = "DATA",
  [STEP_MESSAGE] = "message",
  [STEP_QUIT] = "QUIT",
};

typedef struct {
  /* owned */
  MoatSmtpOptions *options;
  char            *to;
  char            *message;        /* dot-stuffed, ending in CRLF.CRLF */
  char            *server;         /* host:port, for messages */
  GCancellable    *cancellable;    /* ours: cancelled by the caller's or a timeout */
  GCancellable    *user_cancellable;
  gulong           cancelled_id;
  GSource         *timeout_source;
  GSocketClient   *client;
  GIOStream       *stream;         /* the connection, or TLS over it */
  GString         *inbuf;
  char            *outbuf;
  GString         *reply;          /* the current reply's text, lines joined by " " */
  guint8           readbuf[1024];

  Step             step;
  gboolean         timed_out;
  gboolean         tls;
  gboolean         sent;
  guint            reply_code;
  guint            reply_lines;
  gboolean         offers_starttls;
  gboolean         offers_plain;
  gboolean         offers_login;
} Session;

static void session_read_reply (GTask *task);

static void
session_free (gpointer data)
{
  Session *session = data;

  if (session->timeout_source != NULL)
    {
      g_source_destroy (session->timeout_source);
      g_source_unref (session->timeout_source);
    }
  if (session->cancelled_id != 0)
    g_cancellable_disconnect (session->user_cancellable, session->cancelled_id);
  g_clear_object (&session->user_cancellable);
  g_clear_object (&session->cancellable);
  g_clear_object (&session->client);
  g_clear_object (&session->stream);
  g_clear_pointer (&session->options, moat_smtp_options_free);
  g_free (session->to);
  g_free (session->message);
  g_free (session->server);
  if (session->outbuf != NULL)
    explicit_bzero (session->outbuf, strlen (session->outbuf));
  g_free (session->outbuf);
  g_string_free (session->inbuf, TRUE);
  g_string_free (session->reply, TRUE);
  g_free (session);
}

/* ---- options ---- */

static const char *const security_names[] = {
  [MOAT_SMTP_SECURITY_STARTTLS] = "starttls",
  [MOAT_SMTP_SECURITY_TLS] = "tls",
  [MOAT_SMTP_SECURITY_NONE] = "none",
};

const char *
moat_smtp_security_to_string (MoatSmtpSecurity security)
{
  g_return_val_if_fail (security <= MOAT_SMTP_SECURITY_NONE, NULL);
  return security_names[security];
}

gboolean
moat_smtp_security_from_string (const char *str, MoatSmtpSecurity *out)
{
  for (guint i = 0; i < G_N_ELEMENTS (security_names); i++)
    if (g_strcmp0 (str, security_names[i]) == 0)
      {
        if (out != NULL)
          *out = i;
        return TRUE;
      }
  return FALSE;
}

MoatSmtpOptions *
moat_smtp_options_new (void)
{
  MoatSmtpOptions *options = g_new0 (MoatSmtpOptions, 1);

  options->security = MOAT_SMTP_SECURITY_STARTTLS;
  return options;
}

MoatSmtpOptions *
moat_smtp_options_copy (const MoatSmtpOptions *options)
{
  MoatSmtpOptions *copy;

  g_return_val_if_fail (options != NULL, NULL);

  copy = g_new0 (MoatSmtpOptions, 1);
  copy->host = g_strdup (options->host);
  copy->port = options->port;
  copy->security = options->security;
  copy->username = g_strdup (options->username);
  copy->password = g_strdup (options->password);
  copy->from = g_strdup (options->from);
  copy->tls_database = options->tls_database != NULL ? g_object_ref (options->tls_database) : NULL;
  copy->timeout = options->timeout;
  return copy;
}

void
moat_smtp_options_free (MoatSmtpOptions *options)
{
  if (options == NULL)
    return;
  g_free (options->host);
  g_free (options->username);
  if (options->password != NULL)
    explicit_bzero (options->password, strlen (options->password));
  g_free (options->password);
  g_free (options->from);
  g_clear_object (&options->tls_database);
  g_free (options);
}

/**
 * moat_smtp_options_set_ca_file:
 * @path: a PEM file of CA certificates to trust instead of the system's
 *
 * Blocking (it reads @path): call it off the main loop.
 */
gboolean
moat_smtp_options_set_ca_file (MoatSmtpOptions *options, const char *path, GError **error)
{
  GTlsDatabase *database;

  g_return_val_if_fail (options != NULL, FALSE);
  g_return_val_if_fail (path != NULL, FALSE);

  database = g_tls_file_database_new (path, error);
  if (database == NULL)
    return FALSE;
  g_clear_object (&options->tls_database);
  options->tls_database = database;
  return TRUE;
}

/**
 * moat_smtp_options_new_from_settings:
 * @settings: io.github.moatproject.Moat
 *
 * The mail server settings (email-server, email-port, email-security,
 * email-username, email-from, email-ca-file), without the password: look
 * that up with moat_smtp_lookup_password_async(). Blocking when
 * email-ca-file is set (it reads the file).
 *
 * Returns: (transfer full): the options, or NULL when no server or no
 *   sender is set (G_IO_ERROR_NOT_FOUND) or the CA file cannot be read
 */
MoatSmtpOptions *
moat_smtp_options_new_from_settings (GSettings *settings, GError **error)
{
  g_autoptr(MoatSmtpOptions) options = moat_smtp_options_new ();
  g_autofree char *security = NULL;
  g_autofree char *ca_file = NULL;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);

  options->host = g_settings_get_string (settings, "email-server");
  g_settings_get (settings, "email-port", "q", &options->port);
  security = g_settings_get_string (settings, "email-security");
  if (!moat_smtp_security_from_string (security, &options->security))
    options->security = MOAT_SMTP_SECURITY_STARTTLS;
  options->username = g_settings_get_string (settings, "email-username");
  options->from = g_settings_get_string (settings, "email-from");
  if (options->from[0] == '\0' && strchr (options->username, '@') != NULL)
    {
      g_free (options->from);
      options->from = g_strdup (options->username);
    }
  if (options->host[0] == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _("No mail server is set for email alerts"));
      return NULL;
    }
  if (options->from[0] == '\0')
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                           _("No sender address is set for email alerts"));
      return NULL;
    }
  ca_file = g_settings_get_string (settings, "email-ca-file");
  if (ca_file[0] != '\0' && !moat_smtp_options_set_ca_file (options, ca_file, error))
    return NULL;
  return g_steal_pointer (&options);
}

/* ---- the message ---- */

/* One plain address, local@domain, with nothing that could end a header or
 * an SMTP command. */
static gboolean
valid_address (const char *value)
{
  const char *at;
  gsize label = 0;

  if (value == NULL)
    return FALSE;
  at = strchr (value, '@');
  if (at == NULL || at == value || at - value > 64 || strchr (at + 1, '@') != NULL)
    return FALSE;
  if (value[0] == '.' || at[-1] == '.' || strstr (value, "..") != NULL)
    return FALSE;
  for (const char *p = value; p < at; p++)
    if (!g_ascii_isalnum (*p) && strchr ("!#$%&'*+/=?^_`{|}~.-", *p) == NULL)
      return FALSE;
  if (at[1] == '\0' || strlen (at + 1) > 253)
    return FALSE;
  for (const char *p = at + 1;; p++)
    {
      if (*p == '.' || *p == '\0')
        {
          if (label == 0 || label > 63 || p[-1] == '-' || p[-label] == '-')
            return FALSE;
          if (*p == '\0')
            return TRUE;
          label = 0;
        }
      else if (g_ascii_isalnum (*p) || *p == '-')
        label++;
      else
        return FALSE;
    }
}

/* RFC 5322 date, in English whatever the locale. */
static void
append_date (GString *s, GDateTime *date)
{
  static const char *const days[] = { "Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun" };
  static const char *const months[] = { "Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                        "Jul", "Aug", "Sep", "Oct", "Nov", "Dec" };
  gint64 offset = g_date_time_get_utc_offset (date) / G_TIME_SPAN_MINUTE;

  g_string_append_printf (s, "%s, %d %s %d %02d:%02d:%02d %c%02d%02d",
                          days[g_date_time_get_day_of_week (date) - 1],
                          g_date_time_get_day_of_month (date),
                          months[g_date_time_get_month (date) - 1], g_date_time_get_year (date),
                          g_date_time_get_hour (date), g_date_time_get_minute (date),
                          g_date_time_get_second (date), offset < 0 ? '-' : '+',
                          (int) (ABS (offset) / 60), (int) (ABS (offset) % 60));
}

/* The subject on one line, as is when it is plain ASCII, else as RFC 2047
 * encoded words (UTF-8, base64) of whole characters, folded. */
static void
append_subject (GString *s, const char *subject)
{
  g_autoptr(GString) clean = g_string_new (NULL);
  gboolean ascii = TRUE;
  guint n_chars = 0;

  for (const char *p = subject; *p != '\0' && n_chars < MAX_SUBJECT_CHARS;
       p = g_utf8_next_char (p), n_chars++)
    {
      gunichar c = g_utf8_get_char (p);

      if (c < 0x20 || c == 0x7f)
        g_string_append_c (clean, ' ');
      else
        g_string_append_unichar (clean, c);
      ascii = ascii && c < 0x80;
    }

  g_string_append (s, "Subject: ");
  if (ascii && strstr (clean->str, "=?") == NULL)
    {
      g_string_append (s, clean->str);
      return;
    }
  for (const char *p = clean->str; *p != '\0';)
    {
      const char *end = p;
      g_autofree char *b64 = NULL;

      /* 45 bytes make 60 of base64: each word stays under 75 characters. */
      while (*end != '\0' && g_utf8_next_char (end) - p <= 45)
        end = g_utf8_next_char (end);
      b64 = g_base64_encode ((const guchar *) p, end - p);
      g_string_append_printf (s, "%s=?UTF-8?B?%s?=", p == clean->str ? "" : "\r\n ", b64);
      p = end;
    }
}

/* Is the text fine as 7bit: ASCII, lines of at most 998 bytes? */
static gboolean
is_7bit (GStrv lines)
{
  for (guint i = 0; lines[i] != NULL; i++)
    {
      if (strlen (lines[i]) > 998)
        return FALSE;
      for (const char *p = lines[i]; *p != '\0'; p++)
        if ((guchar) *p >= 0x80 || *p == '\r')
          return FALSE;
    }
  return TRUE;
}

/* Quoted-printable (RFC 2045), line by line, soft breaks before 76 columns. */
static void
append_quoted_printable (GString *s, GStrv lines)
{
  for (guint i = 0; lines[i] != NULL; i++)
    {
      gsize column = 0;
      gsize len = strlen (lines[i]);

      for (gsize j = 0; j < len; j++)
        {
          guchar c = lines[i][j];
          gboolean last = j + 1 == len;
          char token[4];

          if (c == '=' || c >= 0x7f || (c < 0x20 && c != '\t') ||
              (last && (c == ' ' || c == '\t')))
            g_snprintf (token, sizeof token, "=%02X", c);
          else
            g_snprintf (token, sizeof token, "%c", c);
          if (column + strlen (token) > 75)
            {
              g_string_append (s, "=\r\n");
              column = 0;
            }
          g_string_append (s, token);
          column += strlen (token);
        }
      if (lines[i + 1] != NULL)
        g_string_append (s, "\r\n");
    }
}

/**
 * moat_smtp_build_message:
 * @from: the sender's address
 * @to: the recipient's address
 * @subject: UTF-8; control characters become spaces
 * @body: UTF-8 text; any line ends
 * @date: (nullable): the Date header; NULL for now
 *
 * An RFC 5322 message (CRLF line ends; not dot-stuffed): Date, From, To,
 * Subject (RFC 2047 when not ASCII), Message-ID, MIME headers and
 * Auto-Submitted, then the body as 7bit or quoted-printable.
 *
 * Returns: (transfer full): the message, or NULL with
 *   G_IO_ERROR_INVALID_ARGUMENT for a bad address or a body that is not text
 */
char *
moat_smtp_build_message (const char *from, const char *to, const char *subject, const char *body,
                         GDateTime *date, GError **error)
{
  g_autoptr(GString) s = g_string_new (NULL);
  g_autoptr(GDateTime) now = NULL;
  g_autoptr(GString) normal = NULL;
  g_auto(GStrv) lines = NULL;
  g_autofree char *id = NULL;

  g_return_val_if_fail (subject != NULL, NULL);
  g_return_val_if_fail (body != NULL, NULL);

  if (!valid_address (from))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not an email address"), from != NULL ? from : "");
      return NULL;
    }
  if (!valid_address (to))
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                   _("“%s” is not an email address"), to != NULL ? to : "");
      return NULL;
    }
  if (!g_utf8_validate (subject, -1, NULL) || !g_utf8_validate (body, -1, NULL) ||
      strlen (body) > MAX_BODY)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                           _("The email is not UTF-8 text or is too long"));
      return NULL;
    }

  if (date == NULL)
    date = now = g_date_time_new_now_local ();
  id = g_uuid_string_random ();

  g_string_append (s, "Date: ");
  append_date (s, date);
  g_string_append_printf (s, "\r\nFrom: Moat <%s>\r\nTo: <%s>\r\n", from, to);
  append_subject (s, subject);
  g_string_append_printf (s, "\r\nMessage-ID: <%s.moat@%s>\r\n", id, strchr (from, '@') + 1);
  g_string_append (s, "MIME-Version: 1.0\r\n"
                      "Content-Type: text/plain; charset=UTF-8\r\n");

  /* Every line end becomes one LF, then the lines are joined with CRLF. */
  normal = g_string_new (body);
  g_string_replace (normal, "\r\n", "\n", 0);
  g_string_replace (normal, "\r", "\n", 0);
  lines = g_strsplit (normal->str, "\n", -1);
  if (is_7bit (lines))
    {
      g_autofree char *joined = g_strjoinv ("\r\n", lines);

      g_string_append (s, "Content-Transfer-Encoding: 7bit\r\n"
                          "Auto-Submitted: auto-generated\r\n\r\n");
      g_string_append (s, joined);
    }
  else
    {
      g_string_append (s, "Content-Transfer-Encoding: quoted-printable\r\n"
                          "Auto-Submitted: auto-generated\r\n\r\n");
      append_quoted_printable (s, lines);
    }
  if (s->len < 2 || strcmp (s->str + s->len - 2, "\r\n") != 0)
    g_string_append (s, "\r\n");
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* The DATA payload: a "." starting a line gets another (RFC 5321 4.5.2). */
static char *
dot_stuff (const char *message)
{
  g_autoptr(GString) s = g_string_new (NULL);

  for (const char *p = message; *p != '\0'; p++)
    {
      if (*p == '.' && (p == message || p[-1] == '\n'))
        g_string_append_c (s, '.');
      g_string_append_c (s, *p);
    }
  g_string_append (s, ".\r\n");
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* ---- the SMTP session ---- */

static gboolean
on_timeout_cb (gpointer user_data)
{
  Session *session = user_data;

  session->timed_out = TRUE;
  g_cancellable_cancel (session->cancellable);
  g_clear_pointer (&session->timeout_source, g_source_unref);
  return G_SOURCE_REMOVE;
}

/* Gives the step now starting its full time. */
static void
arm_timeout (Session *session, Step step)
{
  session->step = step;
  if (session->timeout_source != NULL)
    {
      g_source_destroy (session->timeout_source);
      g_clear_pointer (&session->timeout_source, g_source_unref);
    }
  session->timeout_source = g_timeout_source_new_seconds (session->options->timeout);
  g_source_set_callback (session->timeout_source, on_timeout_cb, session, NULL);
  g_source_attach (session->timeout_source, g_main_context_get_thread_default ());
}

static void
on_user_cancelled_cb (GCancellable *cancellable, gpointer user_data)
{
  /* Runs where the caller cancels: only cancel ours, which is thread-safe. */
  g_cancellable_cancel (G_CANCELLABLE (user_data));
}

/* Ends the send with @error (taken), said in terms of the step. */
static void
session_fail (GTask *task, GError *error)
{
  Session *session = g_task_get_task_data (task);
  g_autoptr(GError) owned = error;

  if (session->timed_out || g_error_matches (owned, G_IO_ERROR, G_IO_ERROR_TIMED_OUT))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_TIMED_OUT,
                               _("Mail server %s: no answer within %u s (%s)"), session->server,
                               session->options->timeout, step_names[session->step]);
      return;
    }
  if (g_error_matches (owned, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    {
      g_task_return_error (task, g_steal_pointer (&owned));
      return;
    }
  g_prefix_error (&owned, _("Mail server %s (%s): "), session->server, step_names[session->step]);
  g_task_return_error (task, g_steal_pointer (&owned));
}

/* Ends the send: the server answered the step with something unexpected. */
static void
session_fail_reply (GTask *task, GIOErrorEnum code)
{
  Session *session = g_task_get_task_data (task);

  g_task_return_new_error (task, G_IO_ERROR, code,
                           _("Mail server %s refused %s: “%u %s”"), session->server,
                           step_names[session->step], session->reply_code, session->reply->str);
}

static void
session_closed_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;

  /* The message was accepted: an unclean close changes nothing. */
  g_io_stream_close_finish (G_IO_STREAM (object), result, NULL);
  g_task_return_boolean (task, TRUE);
}

static void
session_finish (GTask *task)
{
  Session *session = g_task_get_task_data (task);

  arm_timeout (session, STEP_QUIT);
  g_io_stream_close_async (session->stream, G_PRIORITY_DEFAULT, session->cancellable,
                           session_closed_cb, g_object_ref (task));
}

static void
command_written_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Session *session = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (session->outbuf != NULL)
    explicit_bzero (session->outbuf, strlen (session->outbuf));
  g_clear_pointer (&session->outbuf, g_free);
  if (!g_output_stream_write_all_finish (G_OUTPUT_STREAM (object), result, NULL, &error))
    {
      if (session->step == STEP_QUIT && session->sent)
        {
          g_task_return_boolean (task, TRUE);
          return;
        }
      session_fail (task, g_steal_pointer (&error));
      return;
    }
  session_read_reply (task);
}

/* Sends @data (taken; a command with its CRLF, or the message) for @step,
 * then reads the reply. */
static void
session_send (GTask *task, Step step, char *data)
{
  Session *session = g_task_get_task_data (task);
  GOutputStream *output = g_io_stream_get_output_stream (session->stream);

  arm_timeout (session, step);
  if (step != STEP_AUTH && step != STEP_AUTH_USER && step != STEP_AUTH_PASS &&
      step != STEP_MESSAGE)
    g_debug ("SMTP > %.*s", (int) strcspn (data, "\r"), data);
  g_free (session->outbuf);
  session->outbuf = data;
  g_output_stream_write_all_async (output, session->outbuf, strlen (session->outbuf),
                                   G_PRIORITY_DEFAULT, session->cancellable, command_written_cb,
                                   g_object_ref (task));
}

static void
session_send_mail_from (GTask *task)
{
  Session *session = g_task_get_task_data (task);

  session_send (task, STEP_MAIL, g_strdup_printf ("MAIL FROM:<%s>\r\n", session->options->from));
}

static void
session_auth_or_mail (GTask *task)
{
  Session *session = g_task_get_task_data (task);
  const char *user = session->options->username;
  const char *password = session->options->password != NULL ? session->options->password : "";

  if (user == NULL || user[0] == '\0')
    {
      session_send_mail_from (task);
      return;
    }
  if (!session->tls)
    {
      /* Never reached: checked before connecting. Never send them in clear. */
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("Mail server %s: credentials are only sent over TLS"),
                               session->server);
      return;
    }
  if (session->offers_plain)
    {
      gsize ulen = strlen (user), plen = strlen (password);
      g_autofree guchar *raw = g_malloc (ulen + plen + 2);
      g_autofree char *b64 = NULL;

      raw[0] = '\0';
      memcpy (raw + 1, user, ulen);
      raw[ulen + 1] = '\0';
      memcpy (raw + ulen + 2, password, plen);
      b64 = g_base64_encode (raw, ulen + plen + 2);
      explicit_bzero (raw, ulen + plen + 2);
      session_send (task, STEP_AUTH, g_strdup_printf ("AUTH PLAIN %s\r\n", b64));
      explicit_bzero (b64, strlen (b64));
    }
  else if (session->offers_login)
    session_send (task, STEP_AUTH, g_strdup ("AUTH LOGIN\r\n"));
  else
    g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                             _("Mail server %s offers neither AUTH PLAIN nor AUTH LOGIN"),
                             session->server);
}

static void
handshake_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Session *session = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;

  if (!g_tls_connection_handshake_finish (G_TLS_CONNECTION (object), result, &error))
    {
      session_fail (task, g_steal_pointer (&error));
      return;
    }
  session->tls = TRUE;
  g_set_object (&session->stream, G_IO_STREAM (object));
  if (session->options->security == MOAT_SMTP_SECURITY_TLS)
    {
      /* TLS from the start: now the greeting. */
      arm_timeout (session, STEP_GREETING);
      session_read_reply (task);
      return;
    }
  /* RFC 3207: forget what the server said before, and greet again. */
  session->offers_plain = session->offers_login = session->offers_starttls = FALSE;
  session_send (task, STEP_EHLO, g_strdup ("EHLO localhost\r\n"));
}

static void
session_start_tls (GTask *task)
{
  Session *session = g_task_get_task_data (task);
  g_autoptr(GSocketConnectable) identity = NULL;
  g_autoptr(GIOStream) tls = NULL;
  g_autoptr(GError) error = NULL;

  arm_timeout (session, STEP_HANDSHAKE);
  identity = g_network_address_new (session->options->host, session->options->port);
  tls = g_tls_client_connection_new (session->stream, identity, &error);
  if (tls == NULL)
    {
      session_fail (task, g_steal_pointer (&error));
      return;
    }
  if (session->options->tls_database != NULL)
    g_tls_connection_set_database (G_TLS_CONNECTION (tls), session->options->tls_database);
  g_tls_connection_handshake_async (G_TLS_CONNECTION (tls), G_PRIORITY_DEFAULT,
                                    session->cancellable, handshake_cb, g_object_ref (task));
}

static void
parse_ehlo_line (Session *session, const char *line)
{
  g_auto(GStrv) words = g_strsplit_set (line, " \t", -1);

  if (words[0] == NULL)
    return;
  if (g_ascii_strcasecmp (words[0], "STARTTLS") == 0)
    session->offers_starttls = TRUE;
  if (g_ascii_strcasecmp (words[0], "AUTH") == 0)
    for (guint i = 1; words[i] != NULL; i++)
      {
        session->offers_plain |= g_ascii_strcasecmp (words[i], "PLAIN") == 0;
        session->offers_login |= g_ascii_strcasecmp (words[i], "LOGIN") == 0;
      }
}

/* The reply to the current step is complete: go on. */
static void
session_handle_reply (GTask *task)
{
  Session *session = g_task_get_task_data (task);
  guint code = session->reply_code;

  g_debug ("SMTP < %u %s", code, session->reply->str);
  switch (session->step)
    {
    case STEP_GREETING:
      if (code != 220)
        {
          session_fail_reply (task, G_IO_ERROR_FAILED);
          return;
        }
      session_send (task, STEP_EHLO, g_strdup ("EHLO localhost\r\n"));
      return;

    case STEP_EHLO:
      if (code != 250)
        {
          session_fail_reply (task, G_IO_ERROR_FAILED);
          return;
        }
      if (session->options->security == MOAT_SMTP_SECURITY_STARTTLS && !session->tls)
        {
          if (!session->offers_starttls)
            {
              g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                       _("Mail server %s does not offer STARTTLS: Moat does not "
                                         "send email unencrypted"), session->server);
              return;
            }
          session_send (task, STEP_STARTTLS, g_strdup ("STARTTLS\r\n"));
          return;
        }
      session_auth_or_mail (task);
      return;

    case STEP_STARTTLS:
      if (code != 220)
        {
          session_fail_reply (task, G_IO_ERROR_NOT_SUPPORTED);
          return;
        }
      if (session->inbuf->len > 0)
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                   _("Mail server %s sent data before the TLS handshake"),
                                   session->server);
          return;
        }
      session_start_tls (task);
      return;

    case STEP_AUTH:
      if (code == 334 && !session->offers_plain)
        {
          g_autofree char *b64 = g_base64_encode ((const guchar *) session->options->username,
                                                  strlen (session->options->username));

          session_send (task, STEP_AUTH_USER, g_strdup_printf ("%s\r\n", b64));
          return;
        }
      G_GNUC_FALLTHROUGH;
    case STEP_AUTH_PASS:
      if (code != 235)
        {
          session_fail_reply (task, G_IO_ERROR_PERMISSION_DENIED);
          return;
        }
      session_send_mail_from (task);
      return;

    case STEP_AUTH_USER:
      {
        const char *password = session->options->password != NULL ? session->options->password
                                                                   : "";
        g_autofree char *b64 = NULL;

        if (code != 334)
          {
          session_fail_reply (task, G_IO_ERROR_PERMISSION_DENIED);
          return;
        }
        b64 = g_base64_encode ((const guchar *) password, strlen (password));
        session_send (task, STEP_AUTH_PASS, g_strdup_printf ("%s\r\n", b64));
        explicit_bzero (b64, strlen (b64));
      }
      return;

    case STEP_MAIL:
      if (code != 250)
        {
          session_fail_reply (task, G_IO_ERROR_FAILED);
          return;
        }
      session_send (task, STEP_RCPT, g_strdup_printf ("RCPT TO:<%s>\r\n", session->to));
      return;

    case STEP_RCPT:
      if (code != 250 && code != 251)
        {
          session_fail_reply (task, G_IO_ERROR_FAILED);
          return;
        }
      session_send (task, STEP_DATA, g_strdup ("DATA\r\n"));
      return;

    case STEP_DATA:
      if (code != 354)
        {
          session_fail_reply (task, G_IO_ERROR_FAILED);
          return;
        }
      session_send (task, STEP_MESSAGE, g_steal_pointer (&session->message));
      return;

    case STEP_MESSAGE:
      if (code != 250)
        {
          session_fail_reply (task, G_IO_ERROR_FAILED);
          return;
        }
      session->sent = TRUE;
      session_send (task, STEP_QUIT, g_strdup ("QUIT\r\n"));
      return;

    case STEP_QUIT:
      session_finish (task);
      return;

    case STEP_CONNECT:
    case STEP_HANDSHAKE:
    default:
      g_assert_not_reached ();
    }
}

/* Takes complete lines out of the input; TRUE when a whole reply is in. */
static gboolean
session_parse_lines (GTask *task, gboolean *failed)
{
  Session *session = g_task_get_task_data (task);
  char *nl;

  *failed = FALSE;
  while ((nl = memchr (session->inbuf->str, '\n', session->inbuf->len)) != NULL)
    {
      g_autofree char *line = g_strndup (session->inbuf->str, nl - session->inbuf->str);
      gsize len = strlen (line);
      guint64 code;
      char code_text[4] = { 0 };
      gboolean last;

      g_string_erase (session->inbuf, 0, nl - session->inbuf->str + 1);
      if (len > 0 && line[len - 1] == '\r')
        line[--len] = '\0';
      memcpy (code_text, line, MIN (len, 3));
      if (len < 3 || !g_ascii_string_to_unsigned (code_text, 10, 200, 599, &code, NULL) ||
          (len > 3 && line[3] != ' ' && line[3] != '-') ||
          (session->reply_lines > 0 && code != session->reply_code) ||
          !g_utf8_validate (line, len, NULL))
        {
          g_autofree char *shown = g_utf8_make_valid (line, MIN (len, 80));

          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                   _("Mail server %s answered %s with “%s”, which is not SMTP"),
                                   session->server, step_names[session->step], shown);
          *failed = TRUE;
          return FALSE;
        }
      last = len == 3 || line[3] == ' ';
      session->reply_code = code;
      if (session->reply_lines > 0)
        g_string_append_c (session->reply, ' ');
      g_string_append (session->reply, len > 4 ? line + 4 : "");
      if (session->step == STEP_EHLO && session->reply_lines > 0)
        parse_ehlo_line (session, line + 4);
      session->reply_lines++;
      if (session->reply_lines > MAX_REPLY_LINES)
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                   _("Mail server %s sent too long a reply to %s"),
                                   session->server, step_names[session->step]);
          *failed = TRUE;
          return FALSE;
        }
      if (last)
        return TRUE;
    }
  if (session->inbuf->len > MAX_REPLY_LINE)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                               _("Mail server %s sent too long a line in its reply to %s"),
                               session->server, step_names[session->step]);
      *failed = TRUE;
    }
  return FALSE;
}

static void
reply_read_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Session *session = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  gssize n;

  n = g_input_stream_read_finish (G_INPUT_STREAM (object), result, &error);
  if (n < 0)
    {
      if (session->step == STEP_QUIT && session->sent && !session->timed_out &&
          !g_cancellable_is_cancelled (session->user_cancellable))
        {
          g_task_return_boolean (task, TRUE);
          return;
        }
      session_fail (task, g_steal_pointer (&error));
      return;
    }
  if (n == 0)
    {
      if (session->step == STEP_QUIT && session->sent)
        {
          g_task_return_boolean (task, TRUE);
          return;
        }
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED,
                               _("Mail server %s closed the connection (%s)"), session->server,
                               step_names[session->step]);
      return;
    }
  g_string_append_len (session->inbuf, (const char *) session->readbuf, n);
  session_read_reply (task);
}

/* Reads the reply to the current step, then handles it. */
static void
session_read_reply (GTask *task)
{
  Session *session = g_task_get_task_data (task);
  gboolean failed = FALSE;

  if (session->reply_lines == 0)
    g_string_truncate (session->reply, 0);
  if (session_parse_lines (task, &failed))
    {
      session->reply_lines = 0;
      session_handle_reply (task);
      return;
    }
  if (failed)
    return;
  g_input_stream_read_async (g_io_stream_get_input_stream (session->stream), session->readbuf,
                             sizeof session->readbuf, G_PRIORITY_DEFAULT, session->cancellable,
                             reply_read_cb, g_object_ref (task));
}

static void
connected_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  Session *session = g_task_get_task_data (task);
  g_autoptr(GSocketConnection) connection = NULL;
  g_autoptr(GError) error = NULL;

  connection = g_socket_client_connect_finish (G_SOCKET_CLIENT (object), result, &error);
  if (connection == NULL)
    {
      session_fail (task, g_steal_pointer (&error));
      return;
    }
  if (session->options->security == MOAT_SMTP_SECURITY_NONE)
    {
      g_autoptr(GSocketAddress) address = g_socket_connection_get_remote_address (connection,
                                                                                  NULL);

      if (!G_IS_INET_SOCKET_ADDRESS (address) ||
          !g_inet_address_get_is_loopback (
            g_inet_socket_address_get_address (G_INET_SOCKET_ADDRESS (address))))
        {
          g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                                   _("Mail server %s: unencrypted SMTP is only for tests on "
                                     "this computer"), session->server);
          return;
        }
    }
  session->stream = G_IO_STREAM (g_steal_pointer (&connection));
  if (session->options->security == MOAT_SMTP_SECURITY_TLS)
    {
      session_start_tls (task);
      return;
    }
  arm_timeout (session, STEP_GREETING);
  session_read_reply (task);
}

static gboolean
is_loopback_name (const char *host)
{
  g_autoptr(GInetAddress) address = g_inet_address_new_from_string (host);

  if (address != NULL)
    return g_inet_address_get_is_loopback (address);
  return g_ascii_strcasecmp (host, "localhost") == 0;
}

/**
 * moat_smtp_send_async:
 * @options: the server and account (copied)
 * @to: the recipient's address
 * @subject: the subject, UTF-8
 * @body: the text, UTF-8
 *
 * Sends one email. Fails with G_IO_ERROR_TIMED_OUT when a step takes
 * longer than the options' timeout, G_IO_ERROR_NOT_SUPPORTED when the
 * server cannot keep the connection encrypted, G_IO_ERROR_PERMISSION_DENIED
 * when it refuses the credentials, and otherwise an error that names the
 * step and quotes the server's reply.
 */
void
moat_smtp_send_async (const MoatSmtpOptions *options, const char *to, const char *subject,
                      const char *body, GCancellable *cancellable, GAsyncReadyCallback callback,
                      gpointer user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autoptr(GSocketConnectable) address = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  Session *session;
  gboolean has_user;

  g_return_if_fail (options != NULL);
  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_smtp_send_async);

  session = g_new0 (Session, 1);
  session->options = moat_smtp_options_copy (options);
  if (session->options->port == 0)
    session->options->port = options->security == MOAT_SMTP_SECURITY_TLS ? 465
                           : options->security == MOAT_SMTP_SECURITY_NONE ? 25 : 587;
  if (session->options->timeout == 0)
    session->options->timeout = MOAT_SMTP_DEFAULT_TIMEOUT;
  session->to = g_strdup (to);
  session->server = g_strdup_printf ("%s:%u", options->host != NULL ? options->host : "",
                                     session->options->port);
  session->inbuf = g_string_new (NULL);
  session->reply = g_string_new (NULL);
  session->cancellable = g_cancellable_new ();
  session->step = STEP_CONNECT;
  g_task_set_task_data (task, session, session_free);
  if (cancellable != NULL)
    {
      session->user_cancellable = g_object_ref (cancellable);
      session->cancelled_id = g_cancellable_connect (cancellable,
                                                     G_CALLBACK (on_user_cancelled_cb),
                                                     g_object_ref (session->cancellable),
                                                     g_object_unref);
    }

  if (options->host == NULL || options->host[0] == '\0')
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT,
                               _("No mail server is set for email alerts"));
      return;
    }
  has_user = options->username != NULL && options->username[0] != '\0';
  if (options->security == MOAT_SMTP_SECURITY_NONE && has_user)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("Mail server %s: credentials are only sent over TLS"),
                               session->server);
      return;
    }
  if (options->security == MOAT_SMTP_SECURITY_NONE && !is_loopback_name (options->host))
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED,
                               _("Mail server %s: unencrypted SMTP is only for tests on this "
                                 "computer"), session->server);
      return;
    }
  message = moat_smtp_build_message (options->from, to, subject, body, NULL, &error);
  if (message == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  session->message = dot_stuff (message);

  session->client = g_socket_client_new ();
  g_socket_client_set_timeout (session->client, session->options->timeout);
  address = g_network_address_new (session->options->host, session->options->port);
  arm_timeout (session, STEP_CONNECT);
  g_socket_client_connect_async (session->client, address, session->cancellable, connected_cb,
                                 g_steal_pointer (&task));
}

gboolean
moat_smtp_send_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == moat_smtp_send_async, FALSE);

  return g_task_propagate_boolean (G_TASK (result), error);
}

/* ---- the password in the keyring ---- */

static const SecretSchema *
get_secret_schema (void)
{
  static const SecretSchema schema = {
    "io.github.moatproject.Moat.Smtp", SECRET_SCHEMA_NONE,
    {
      { "server", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { "username", SECRET_SCHEMA_ATTRIBUTE_STRING },
      { NULL, 0 },
    },
    0, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
  };

  return &schema;
}

static void
password_looked_up_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;
  char *password = secret_password_lookup_finish (result, &error);

  if (error != NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (password == NULL)
    {
      g_task_return_new_error (task, G_IO_ERROR, G_IO_ERROR_NOT_FOUND,
                               _("No password for the mail server is in the keyring"));
      return;
    }
  g_task_return_pointer (task, g_strdup (password), g_free);
  secret_password_free (password);
}

/**
 * moat_smtp_lookup_password_async:
 * @server: the mail server's host name
 * @username: the account
 *
 * Looks up the account's password in the keyring (the Secret Service).
 */
void
moat_smtp_lookup_password_async (const char *server, const char *username,
                                 GCancellable *cancellable, GAsyncReadyCallback callback,
                                 gpointer user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (server != NULL);
  g_return_if_fail (username != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_smtp_lookup_password_async);
  secret_password_lookup (get_secret_schema (), cancellable, password_looked_up_cb,
                          g_steal_pointer (&task), "server", server, "username", username, NULL);
}

/**
 * moat_smtp_lookup_password_finish:
 *
 * Returns: (transfer full): the password, or NULL with G_IO_ERROR_NOT_FOUND
 *   when none is stored, or the Secret Service's error
 */
char *
moat_smtp_lookup_password_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  return g_task_propagate_pointer (G_TASK (result), error);
}

static void
password_stored_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  g_autoptr(GTask) task = user_data;
  g_autoptr(GError) error = NULL;

  if (!secret_password_store_finish (result, &error))
    g_task_return_error (task, g_steal_pointer (&error));
  else
    g_task_return_boolean (task, TRUE);
}

/* Stores the account's password in the default keyring (Preferences). */
void
moat_smtp_store_password_async (const char *server, const char *username, const char *password,
                                GCancellable *cancellable, GAsyncReadyCallback callback,
                                gpointer user_data)
{
  g_autoptr(GTask) task = NULL;
  g_autofree char *label = NULL;

  g_return_if_fail (server != NULL);
  g_return_if_fail (username != NULL);
  g_return_if_fail (password != NULL);

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_smtp_store_password_async);
  /* Translators: the keyring's name for the password; %s is user@server */
  label = g_strdup_printf (_("Moat email alerts (%s@%s)"), username, server);
  secret_password_store (get_secret_schema (), SECRET_COLLECTION_DEFAULT, label, password,
                         cancellable, password_stored_cb, g_steal_pointer (&task),
                         "server", server, "username", username, NULL);
}

gboolean
moat_smtp_store_password_finish (GAsyncResult *result, GError **error)
{
  g_return_val_if_fail (g_task_is_valid (result, NULL), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}
