/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-smtp-test"

#include "config.h"

#include "moat-smtp.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* Made once per run by certtool: a throwaway CA and a server certificate
 * for 127.0.0.1 and localhost. */
static char *cert_dir;
static char *python;

typedef struct {
  char            *dir;
  GSubprocess     *server;
  guint16          port;
  GSocketService  *hang_service;
  GPtrArray       *held;           /* connections the hanging server keeps */
  GString         *script;         /* what the scripted server says */
  GAsyncResult    *result;
} Fixture;

static void
fixture_set_up (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  fixture->dir = g_dir_make_tmp ("moat-smtp-XXXXXX", &error);
  g_assert_no_error (error);
  fixture->held = g_ptr_array_new_with_free_func (g_object_unref);
}

static void
remove_dir (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  if (dir == NULL)
    return;
  while ((name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_tear_down (Fixture *fixture, gconstpointer data)
{
  if (fixture->server != NULL)
    {
      g_subprocess_force_exit (fixture->server);
      g_subprocess_wait (fixture->server, NULL, NULL);
      g_clear_object (&fixture->server);
    }
  if (fixture->hang_service != NULL)
    {
      g_socket_service_stop (fixture->hang_service);
      g_socket_listener_close (G_SOCKET_LISTENER (fixture->hang_service));
      g_clear_object (&fixture->hang_service);
    }
  g_clear_pointer (&fixture->held, g_ptr_array_unref);
  if (fixture->script != NULL)
    g_string_free (fixture->script, TRUE);
  g_clear_object (&fixture->result);
  remove_dir (fixture->dir);
  g_free (fixture->dir);
}

static gboolean
run_quietly (const char *const *argv, GError **error)
{
  g_autoptr(GSubprocess) process = g_subprocess_newv (argv, G_SUBPROCESS_FLAGS_STDOUT_SILENCE |
                                                      G_SUBPROCESS_FLAGS_STDERR_SILENCE, error);

  return process != NULL && g_subprocess_wait_check (process, NULL, error);
}

static gboolean
make_certificates (const char *dir)
{
  g_autofree char *ca_key = g_build_filename (dir, "ca.key", NULL);
  g_autofree char *ca_pem = g_build_filename (dir, "ca.pem", NULL);
  g_autofree char *ca_tmpl = g_build_filename (dir, "ca.tmpl", NULL);
  g_autofree char *key = g_build_filename (dir, "server.key", NULL);
  g_autofree char *pem = g_build_filename (dir, "server.pem", NULL);
  g_autofree char *tmpl = g_build_filename (dir, "server.tmpl", NULL);
  g_autoptr(GError) error = NULL;
  const char *steps[][16] = {
    { "certtool", "--generate-privkey", "--key-type=ecdsa", "--outfile", ca_key, NULL },
    { "certtool", "--generate-self-signed", "--load-privkey", ca_key, "--template", ca_tmpl,
      "--outfile", ca_pem, NULL },
    { "certtool", "--generate-privkey", "--key-type=ecdsa", "--outfile", key, NULL },
    { "certtool", "--generate-certificate", "--load-privkey", key, "--load-ca-certificate",
      ca_pem, "--load-ca-privkey", ca_key, "--template", tmpl, "--outfile", pem, NULL },
  };

  if (!g_file_set_contents (ca_tmpl, "cn = \"Moat test CA\"\nca\ncert_signing_key\n"
                                     "expiration_days = 2\n", -1, &error) ||
      !g_file_set_contents (tmpl, "cn = \"localhost\"\nip_address = \"127.0.0.1\"\n"
                                  "dns_name = \"localhost\"\ntls_www_server\nsigning_key\n"
                                  "expiration_days = 2\n", -1, &error))
    g_error ("writing certificate templates: %s", error->message);
  for (guint i = 0; i < G_N_ELEMENTS (steps); i++)
    if (!run_quietly (steps[i], &error))
      {
        g_printerr ("# certtool failed: %s\n", error->message);
        return FALSE;
      }
  return TRUE;
}

/* Skips the test when the SMTP server cannot run here. */
static gboolean
need_server (void)
{
  if (python == NULL)
    {
      g_test_skip ("needs python3 with aiosmtpd (package python3-aiosmtpd)");
      return FALSE;
    }
  if (cert_dir == NULL)
    {
      g_test_skip ("needs certtool (package gnutls-bin) for a throwaway certificate");
      return FALSE;
    }
  return TRUE;
}

/* Starts smtp-server.py in @mode, expecting a message from @from to @to. */
static void
start_server (Fixture *fixture, const char *mode, const char *password, const char *from,
              const char *to, const char *subject, const char *body)
{
  g_autofree char *script = g_build_filename (g_getenv ("MOAT_SOURCE_ROOT"), "tests", "health",
                                              "smtp-server.py", NULL);
  g_autofree char *expect = g_build_filename (fixture->dir, "expect.json", NULL);
  g_autofree char *result = g_build_filename (fixture->dir, "result.json", NULL);
  g_autofree char *cert = g_build_filename (cert_dir, "server.pem", NULL);
  g_autofree char *key = g_build_filename (cert_dir, "server.key", NULL);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *json = NULL;
  g_autoptr(GDataInputStream) out = NULL;
  g_autofree char *line = NULL;
  g_autoptr(GError) error = NULL;
  guint64 port;

  json_builder_begin_object (builder);
  json_builder_set_member_name (builder, "from");
  json_builder_add_string_value (builder, from);
  json_builder_set_member_name (builder, "to");
  json_builder_add_string_value (builder, to);
  json_builder_set_member_name (builder, "subject");
  json_builder_add_string_value (builder, subject);
  json_builder_set_member_name (builder, "body");
  json_builder_add_string_value (builder, body);
  json_builder_set_member_name (builder, "auth");
  json_builder_add_boolean_value (builder, !g_str_equal (mode, "plain"));
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json = json_to_string (root, FALSE);
  g_assert_true (g_file_set_contents (expect, json, -1, &error));

  fixture->server = g_subprocess_new (G_SUBPROCESS_FLAGS_STDOUT_PIPE, &error, python, script,
                                      "--mode", mode, "--cert", cert, "--key", key,
                                      "--password", password, "--expect", expect,
                                      "--result", result, "--lifetime", "60", NULL);
  g_assert_no_error (error);
  out = g_data_input_stream_new (g_subprocess_get_stdout_pipe (fixture->server));
  line = g_data_input_stream_read_line (out, NULL, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (line);
  g_assert_true (g_str_has_prefix (line, "PORT "));
  g_assert_true (g_ascii_string_to_unsigned (line + 5, 10, 1, 65535, &port, NULL));
  fixture->port = (guint16) port;
}

/* What the server's script found, as JSON. */
static JsonObject *
read_result (Fixture *fixture)
{
  g_autofree char *path = g_build_filename (fixture->dir, "result.json", NULL);
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;

  g_assert_true (json_parser_load_from_file (parser, path, &error));
  g_assert_no_error (error);
  return json_object_ref (json_node_get_object (json_parser_get_root (parser)));
}

static MoatSmtpOptions *
make_options (Fixture *fixture, const char *password)
{
  g_autoptr(MoatSmtpOptions) options = moat_smtp_options_new ();
  g_autofree char *ca = g_build_filename (cert_dir, "ca.pem", NULL);
  g_autoptr(GError) error = NULL;

  options->host = g_strdup ("127.0.0.1");
  options->port = fixture->port;
  options->security = MOAT_SMTP_SECURITY_STARTTLS;
  options->username = g_strdup ("alice");
  options->password = g_strdup (password);
  options->from = g_strdup ("moat@example.com");
  options->timeout = 20;
  g_assert_true (moat_smtp_options_set_ca_file (options, ca, &error));
  g_assert_no_error (error);
  return g_steal_pointer (&options);
}

static void
sent_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Fixture *fixture = user_data;

  fixture->result = g_object_ref (result);
}

/* Sends and waits; returns the outcome. */
static gboolean
send (Fixture *fixture, const MoatSmtpOptions *options, const char *to, const char *subject,
      const char *body, GCancellable *cancellable, GError **error)
{
  g_clear_object (&fixture->result);
  moat_smtp_send_async (options, to, subject, body, cancellable, sent_cb, fixture);
  while (fixture->result == NULL)
    g_main_context_iteration (NULL, TRUE);
  return moat_smtp_send_finish (fixture->result, error);
}

/* ---- the message, without a server ---- */

static void
test_message (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GDateTime) date = g_date_time_new_utc (2026, 11, 27, 9, 5, 3);
  g_autoptr(GTimeZone) tz = g_time_zone_new_identifier ("-05:30");
  g_autoptr(GDateTime) local = g_date_time_new (tz, 2026, 1, 4, 23, 0, 0);
  g_autoptr(GError) error = NULL;
  g_autofree char *message = NULL;
  g_autofree char *encoded = NULL;
  g_autofree char *crlf = NULL;
  g_autofree char *qp = NULL;
  g_autoptr(GString) long_subject = g_string_new (NULL);
  g_autoptr(GRegex) id = g_regex_new ("\r\nMessage-ID: <[0-9a-f-]{36}\\.moat@example\\.com>\r\n",
                                      0, 0, NULL);

  message = moat_smtp_build_message ("moat@example.com", "it@example.org", "Disk not encrypted",
                                     "Line one\n.dot line\n", date, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (message,
                                   "Date: Fri, 27 Nov 2026 09:05:03 +0000\r\n"
                                   "From: Moat <moat@example.com>\r\n"
                                   "To: <it@example.org>\r\n"
                                   "Subject: Disk not encrypted\r\n"
                                   "Message-ID: <"));
  g_assert_true (g_regex_match (id, message, 0, NULL));
  g_assert_true (g_str_has_suffix (message,
                                   "MIME-Version: 1.0\r\n"
                                   "Content-Type: text/plain; charset=UTF-8\r\n"
                                   "Content-Transfer-Encoding: 7bit\r\n"
                                   "Auto-Submitted: auto-generated\r\n"
                                   "\r\n"
                                   "Line one\r\n"
                                   ".dot line\r\n"));

  /* Not ASCII: encoded words of whole characters, folded; the date in
   * English with its offset. */
  encoded = moat_smtp_build_message ("moat@example.com", "it@example.org",
                                     "Überprüfung: Festplatte nicht verschlüsselt — bitte jetzt "
                                     "beheben ✓", "Grüße\r\nLine\rEnd", local, &error);
  g_assert_no_error (error);
  g_assert_true (g_str_has_prefix (encoded, "Date: Sun, 4 Jan 2026 23:00:00 -0530\r\n"));
  g_assert_nonnull (strstr (encoded, "\r\nSubject: =?UTF-8?B?w5xiZXJwcsO8ZnVuZzogRmVzdHBsYXR0ZSBu"
                                     "aWNodCB2ZXJzY2hsw7xzc2Vs?=\r\n"
                                     " =?UTF-8?B?dCDigJQgYml0dGUgamV0enQgYmVoZWJlbiDinJM=?=\r\n"));
  g_assert_nonnull (strstr (encoded, "Content-Transfer-Encoding: quoted-printable\r\n"));
  g_assert_true (g_str_has_suffix (encoded, "\r\n\r\nGr=C3=BC=C3=9Fe\r\nLine\r\nEnd\r\n"));

  /* A header cannot be injected through the subject. */
  crlf = moat_smtp_build_message ("moat@example.com", "it@example.org",
                                  "Alert\r\nBcc: victim@example.net", "x", date, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (crlf, "\r\nSubject: Alert  Bcc: victim@example.net\r\n"));
  g_assert_null (strstr (crlf, "\r\nBcc:"));

  /* Long lines and trailing spaces become quoted-printable. */
  for (guint i = 0; i < 1200; i++)
    g_string_append_c (long_subject, 'a' + i % 26);
  g_string_append (long_subject, " \n= x\t");
  qp = moat_smtp_build_message ("moat@example.com", "it@example.org", "s", long_subject->str,
                                date, &error);
  g_assert_no_error (error);
  g_assert_nonnull (strstr (qp, "Content-Transfer-Encoding: quoted-printable\r\n"));
  g_assert_true (g_str_has_suffix (qp, "=20\r\n=3D x=09\r\n"));
  {
    g_auto(GStrv) lines = g_strsplit (qp, "\r\n", -1);

    for (guint i = 0; lines[i] != NULL; i++)
      g_assert_cmpuint (strlen (lines[i]), <=, 76);
  }

  /* Addresses that could carry a command or a header are refused. */
  {
    static const char *const bad[] = {
      "it@example.org>\r\nRCPT TO:<x@evil.example", "it", "@example.org", "it@", "a b@example.org",
      "it@exa mple.org", "<it@example.org>", "it@example.org, x@evil.example", "it@@example.org",
      "it@-example.org", "it..x@example.org",
    };

    for (guint i = 0; i < G_N_ELEMENTS (bad); i++)
      {
        g_autofree char *m = moat_smtp_build_message ("moat@example.com", bad[i], "s", "b", date,
                                                      &error);

        g_test_message ("address %s", bad[i]);
        g_assert_null (m);
        g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
        g_clear_error (&error);
      }
  }
  g_assert_null (moat_smtp_build_message ("moat@example.com", "it@example.org", "s", "\xff\xfe",
                                          date, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
}

/* ---- against a real SMTP server on loopback ---- */

#define SUBJECT "Moat: ta disque n’est pas chiffré (computer.disk_encryption)"
#define BODY \
  "Your disk is not encrypted.\n" \
  ".\n" \
  "..two dots\n" \
  ".one dot\n" \
  "Ünïcödé — ok\n" \
  "\n" \
  "Steps:\n" \
  "1. Open Settings\n"

/* STARTTLS (or TLS from the start), AUTH PLAIN (or LOGIN), the message
 * received and checked by the server. */
static void
test_send_starttls (Fixture *fixture, gconstpointer data)
{
  const char *mode = data;
  g_autoptr(MoatSmtpOptions) options = NULL;
  g_autoptr(JsonObject) result = NULL;
  g_autoptr(GError) error = NULL;

  if (!need_server ())
    return;
  start_server (fixture, mode, "s3cret", "moat@example.com", "it@example.org", SUBJECT, BODY);
  options = make_options (fixture, "s3cret");
  if (g_str_equal (mode, "tls"))
    options->security = MOAT_SMTP_SECURITY_TLS;
  g_assert_true (send (fixture, options, "it@example.org", SUBJECT, BODY, NULL, &error));
  g_assert_no_error (error);

  result = read_result (fixture);
  g_assert_cmpstr (json_object_get_string_member_with_default (result, "reason", ""), ==, "");
  g_assert_true (json_object_get_boolean_member (result, "ok"));
  g_assert_true (json_object_get_boolean_member (result, "authenticated"));
}

/* A server without STARTTLS is refused before anything is sent. */
static void
test_no_starttls (Fixture *fixture, gconstpointer data)
{
  g_autoptr(MoatSmtpOptions) options = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *result = g_build_filename (fixture->dir, "result.json", NULL);

  if (!need_server ())
    return;
  start_server (fixture, "plain", "s3cret", "moat@example.com", "it@example.org", SUBJECT, BODY);
  options = make_options (fixture, "s3cret");
  g_assert_false (send (fixture, options, "it@example.org", SUBJECT, BODY, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, "does not offer STARTTLS"));
  g_assert_false (g_file_test (result, G_FILE_TEST_EXISTS));
}

/* A wrong password: the step and the server's reply in the error. */
static void
test_wrong_password (Fixture *fixture, gconstpointer data)
{
  g_autoptr(MoatSmtpOptions) options = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *result = g_build_filename (fixture->dir, "result.json", NULL);
  g_autofree char *expected = NULL;

  if (!need_server ())
    return;
  start_server (fixture, "starttls", "s3cret", "moat@example.com", "it@example.org", SUBJECT,
                BODY);
  options = make_options (fixture, "wrong");
  g_assert_false (send (fixture, options, "it@example.org", SUBJECT, BODY, NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_PERMISSION_DENIED);
  g_test_message ("%s", error->message);
  expected = g_strdup_printf ("Mail server 127.0.0.1:%u refused AUTH: “535 ", fixture->port);
  g_assert_true (g_str_has_prefix (error->message, expected));
  g_assert_false (g_file_test (result, G_FILE_TEST_EXISTS));
}

/* Without the test CA the server's certificate is not trusted. */
static void
test_untrusted (Fixture *fixture, gconstpointer data)
{
  g_autoptr(MoatSmtpOptions) options = NULL;
  g_autoptr(GError) error = NULL;

  if (!need_server ())
    return;
  start_server (fixture, "starttls", "s3cret", "moat@example.com", "it@example.org", SUBJECT,
                BODY);
  options = make_options (fixture, "s3cret");
  g_clear_object (&options->tls_database);
  g_assert_false (send (fixture, options, "it@example.org", SUBJECT, BODY, NULL, &error));
  g_test_message ("%s", error->message);
  g_assert_error (error, G_TLS_ERROR, G_TLS_ERROR_BAD_CERTIFICATE);
  g_assert_true (g_str_has_prefix (error->message, "Mail server 127.0.0.1:"));
  g_assert_nonnull (strstr (error->message, "(TLS handshake): "));
}

/* The client is done with the connection: the server reads to its end.
 * A client that leaked its session would keep it open (the read then
 * fails after 30 s). */
static void
assert_client_closed (Fixture *fixture)
{
  GSocketConnection *connection;
  GSocket *socket;
  char buf[512];
  gssize n;

  g_clear_object (&fixture->result);
  g_assert_cmpuint (fixture->held->len, >, 0);
  connection = g_ptr_array_index (fixture->held, fixture->held->len - 1);
  socket = g_socket_connection_get_socket (connection);
  g_socket_set_blocking (socket, TRUE);
  g_socket_set_timeout (socket, 30);
  do
    {
      g_autoptr(GError) error = NULL;

      n = g_socket_receive (socket, buf, sizeof buf, NULL, &error);
      /* A close with our replies unread is a reset: closed all the same. */
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_CLOSED))
        n = 0;
      else
        g_assert_no_error (error);
    }
  while (n > 0);
  g_assert_cmpint (n, ==, 0);
}

static gboolean
on_hang_incoming_cb (GSocketService *service, GSocketConnection *connection, GObject *source,
                     gpointer user_data)
{
  Fixture *fixture = user_data;

  /* Keep it open and say nothing. */
  g_ptr_array_add (fixture->held, g_object_ref (connection));
  return TRUE;
}

static void
start_hanging_server (Fixture *fixture)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) address = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  fixture->hang_service = g_socket_service_new ();
  g_socket_listener_add_address (G_SOCKET_LISTENER (fixture->hang_service), address,
                                 G_SOCKET_TYPE_STREAM, G_SOCKET_PROTOCOL_TCP, NULL, &bound,
                                 &error);
  g_assert_no_error (error);
  fixture->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
  g_signal_connect (fixture->hang_service, "incoming", G_CALLBACK (on_hang_incoming_cb), fixture);
  g_socket_service_start (fixture->hang_service);
}

/* A server that never answers: the step times out, and says which. */
static void
test_hang (Fixture *fixture, gconstpointer data)
{
  g_autoptr(MoatSmtpOptions) options = moat_smtp_options_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *expected = NULL;

  start_hanging_server (fixture);
  options->host = g_strdup ("127.0.0.1");
  options->port = fixture->port;
  options->from = g_strdup ("moat@example.com");
  options->timeout = 1;
  g_assert_false (send (fixture, options, "it@example.org", "s", "b", NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_TIMED_OUT);
  expected = g_strdup_printf ("Mail server 127.0.0.1:%u: no answer within 1 s (greeting)",
                              fixture->port);
  g_assert_cmpstr (error->message, ==, expected);
  g_assert_cmpuint (fixture->held->len, ==, 1);
  assert_client_closed (fixture);
}

static gboolean
cancel_cb (gpointer user_data)
{
  g_cancellable_cancel (G_CANCELLABLE (user_data));
  return G_SOURCE_REMOVE;
}

/* Cancelling while the server is silent ends the send at once. */
static void
test_cancel (Fixture *fixture, gconstpointer data)
{
  g_autoptr(MoatSmtpOptions) options = moat_smtp_options_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autoptr(GError) error = NULL;

  start_hanging_server (fixture);
  options->host = g_strdup ("127.0.0.1");
  options->port = fixture->port;
  options->from = g_strdup ("moat@example.com");
  options->timeout = 60;
  /* Cancel once the connection is in. */
  g_idle_add_full (G_PRIORITY_LOW, cancel_cb, cancellable, NULL);
  g_assert_false (send (fixture, options, "it@example.org", "s", "b", cancellable, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
}

/* No TLS: never with credentials, never to anything but loopback. */
static void
test_no_tls_rules (Fixture *fixture, gconstpointer data)
{
  g_autoptr(MoatSmtpOptions) options = moat_smtp_options_new ();
  g_autoptr(GError) error = NULL;

  options->host = g_strdup ("127.0.0.1");
  options->port = 9;
  options->security = MOAT_SMTP_SECURITY_NONE;
  options->from = g_strdup ("moat@example.com");
  options->username = g_strdup ("alice");
  options->password = g_strdup ("s3cret");
  g_assert_false (send (fixture, options, "it@example.org", "s", "b", NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_assert_cmpstr (error->message, ==,
                   "Mail server 127.0.0.1:9: credentials are only sent over TLS");
  g_clear_error (&error);

  g_clear_pointer (&options->username, g_free);
  g_free (options->host);
  options->host = g_strdup ("192.0.2.1");
  g_assert_false (send (fixture, options, "it@example.org", "s", "b", NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_SUPPORTED);
  g_assert_cmpstr (error->message, ==,
                   "Mail server 192.0.2.1:9: unencrypted SMTP is only for tests on this "
                   "computer");
  g_clear_error (&error);

  g_clear_pointer (&options->host, g_free);
  g_assert_false (send (fixture, options, "it@example.org", "s", "b", NULL, &error));
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_ARGUMENT);
  g_clear_error (&error);

  g_assert_true (moat_smtp_options_set_ca_file (options, "/nonexistent/ca.pem", &error) == FALSE);
  g_assert_nonnull (error);
}

/* The server settings come from GSettings. */
static void
test_settings (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GSettings) settings = g_settings_new ("io.github.moatproject.Moat");
  g_autoptr(MoatSmtpOptions) options = NULL;
  g_autoptr(GError) error = NULL;
  MoatSmtpSecurity security;

  options = moat_smtp_options_new_from_settings (settings, &error);
  g_assert_null (options);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  g_settings_set_string (settings, "email-server", "smtp.example.com");
  g_settings_set (settings, "email-port", "q", 465);
  g_settings_set_string (settings, "email-security", "tls");
  g_settings_set_string (settings, "email-username", "alerts@example.com");
  options = moat_smtp_options_new_from_settings (settings, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (options->host, ==, "smtp.example.com");
  g_assert_cmpuint (options->port, ==, 465);
  g_assert_cmpint (options->security, ==, MOAT_SMTP_SECURITY_TLS);
  g_assert_cmpstr (options->username, ==, "alerts@example.com");
  g_assert_cmpstr (options->from, ==, "alerts@example.com");
  g_assert_null (options->password);
  g_assert_null (options->tls_database);

  g_assert_true (moat_smtp_security_from_string ("starttls", &security));
  g_assert_cmpint (security, ==, MOAT_SMTP_SECURITY_STARTTLS);
  g_assert_cmpstr (moat_smtp_security_to_string (MOAT_SMTP_SECURITY_NONE), ==, "none");
  g_assert_false (moat_smtp_security_from_string ("ssl", &security));
  g_settings_reset (settings, "email-server");
  g_settings_reset (settings, "email-port");
  g_settings_reset (settings, "email-security");
  g_settings_reset (settings, "email-username");
}

static gboolean
on_scripted_incoming_cb (GSocketService *service, GSocketConnection *connection, GObject *source,
                         gpointer user_data)
{
  Fixture *fixture = user_data;
  GOutputStream *output = g_io_stream_get_output_stream (G_IO_STREAM (connection));

  /* All the replies at once, whatever the client says; then silence. */
  g_output_stream_write_all (output, fixture->script->str, fixture->script->len, NULL, NULL,
                             NULL);
  g_ptr_array_add (fixture->held, g_object_ref (connection));
  return TRUE;
}

/* A server that answers nonsense, too much, or injects a reply after
 * STARTTLS: a clear error, never a crash or a hang. */
static void
test_hostile_server (Fixture *fixture, gconstpointer data)
{
  static const struct {
    const char *script;
    GIOErrorEnum code;
    const char *message;   /* after "Mail server 127.0.0.1:PORT " */
  } cases[] = {
    { "HTTP/1.1 400 Bad Request\r\n\r\n", G_IO_ERROR_INVALID_DATA,
      "answered greeting with “HTTP/1.1 400 Bad Request”, which is not SMTP" },
    { "220-hello\r\n221 bye\r\n", G_IO_ERROR_INVALID_DATA,
      "answered greeting with “221 bye”, which is not SMTP" },
    { "220 hi\r\n250-x\r\n250-STARTTLS\r\n250 ok\r\n220 go\r\n250 injected\r\n",
      G_IO_ERROR_INVALID_DATA, "sent data before the TLS handshake" },
    { "220 hi\r\n250-x\r\n250 ok\r\n", G_IO_ERROR_NOT_SUPPORTED,
      "does not offer STARTTLS: Moat does not send email unencrypted" },
    { "554 go away\r\n", G_IO_ERROR_FAILED, "refused greeting: “554 go away”" },
    { "220 hi\r\n250-x\r\n250-STARTTLS\r\n250 ok\r\n454 TLS not available\r\n",
      G_IO_ERROR_NOT_SUPPORTED, "refused STARTTLS: “454 TLS not available”" },
  };
  g_autoptr(GString) long_line = g_string_new (NULL);
  g_autoptr(GString) many_lines = g_string_new ("220 hi\r\n");

  start_hanging_server (fixture);
  g_signal_handlers_disconnect_by_func (fixture->hang_service, on_hang_incoming_cb, fixture);
  g_signal_connect (fixture->hang_service, "incoming", G_CALLBACK (on_scripted_incoming_cb),
                    fixture);
  fixture->script = g_string_new (NULL);

  for (guint i = 0; i < 3000; i++)
    g_string_append_c (long_line, 'a');
  for (guint i = 0; i < 150; i++)
    g_string_append (many_lines, "250-x\r\n");

  for (guint i = 0; i < G_N_ELEMENTS (cases) + 2; i++)
    {
      g_autoptr(MoatSmtpOptions) options = moat_smtp_options_new ();
      g_autoptr(GError) error = NULL;
      g_autofree char *expected = NULL;
      const char *script = i < G_N_ELEMENTS (cases) ? cases[i].script
                         : i == G_N_ELEMENTS (cases) ? long_line->str : many_lines->str;

      g_string_assign (fixture->script, script);
      options->host = g_strdup ("127.0.0.1");
      options->port = fixture->port;
      options->from = g_strdup ("moat@example.com");
      options->timeout = 20;
      g_test_message ("case %u", i);
      g_assert_false (send (fixture, options, "it@example.org", "s", "b", NULL, &error));
      g_test_message ("%s", error->message);
      if (i < G_N_ELEMENTS (cases))
        {
          expected = g_strdup_printf ("Mail server 127.0.0.1:%u %s", fixture->port,
                                      cases[i].message);
          g_assert_error (error, G_IO_ERROR, (gint) cases[i].code);
          g_assert_cmpstr (error->message, ==, expected);
        }
      else
        {
          g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
          g_assert_nonnull (strstr (error->message, i == G_N_ELEMENTS (cases) ? "too long a line"
                                                                              : "too long a reply"));
        }
      assert_client_closed (fixture);
    }
}

/* ---- the keyring ---- */

static void
stored_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  Fixture *fixture = user_data;

  fixture->result = g_object_ref (result);
}

static void
wait_result (Fixture *fixture)
{
  while (fixture->result == NULL)
    g_main_context_iteration (NULL, TRUE);
}

/* The password in the keyring: stored, looked up; run in a private
 * session with gnome-keyring by smtp-keyring-test.sh. */
static void
test_keyring (Fixture *fixture, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *password = NULL;

  if (g_getenv ("MOAT_TEST_SECRET_SERVICE") == NULL)
    {
      g_test_skip ("needs a Secret Service: run by smtp-keyring-test.sh");
      return;
    }

  moat_smtp_lookup_password_async ("smtp.example.com", "alice", NULL, stored_cb, fixture);
  wait_result (fixture);
  password = moat_smtp_lookup_password_finish (fixture->result, &error);
  g_assert_null (password);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);
  g_clear_object (&fixture->result);

  moat_smtp_store_password_async ("smtp.example.com", "alice", "s3cret ü", NULL, stored_cb,
                                  fixture);
  wait_result (fixture);
  g_assert_true (moat_smtp_store_password_finish (fixture->result, &error));
  g_assert_no_error (error);
  g_clear_object (&fixture->result);

  moat_smtp_lookup_password_async ("smtp.example.com", "alice", NULL, stored_cb, fixture);
  wait_result (fixture);
  password = moat_smtp_lookup_password_finish (fixture->result, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (password, ==, "s3cret ü");
  g_clear_object (&fixture->result);
  g_clear_pointer (&password, g_free);

  /* Another account on the same server has none. */
  moat_smtp_lookup_password_async ("smtp.example.com", "bob", NULL, stored_cb, fixture);
  wait_result (fixture);
  password = moat_smtp_lookup_password_finish (fixture->result, &error);
  g_assert_null (password);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
}

static char *
find_python (void)
{
  const char *candidates[] = { "/usr/bin/python3", "python3" };

  for (guint i = 0; i < G_N_ELEMENTS (candidates); i++)
    {
      g_autofree char *path = g_find_program_in_path (candidates[i]);
      const char *argv[] = { path, "-c", "import aiosmtpd.smtp", NULL };

      if (path != NULL && run_quietly (argv, NULL))
        return g_steal_pointer (&path);
    }
  return NULL;
}

int
main (int argc, char *argv[])
{
  g_autofree char *certtool = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);

  python = find_python ();
  certtool = g_find_program_in_path ("certtool");
  if (certtool != NULL)
    {
      cert_dir = g_dir_make_tmp ("moat-smtp-certs-XXXXXX", NULL);
      if (cert_dir != NULL && !make_certificates (cert_dir))
        {
          remove_dir (cert_dir);
          g_clear_pointer (&cert_dir, g_free);
        }
    }

#define ADD(path, func, data) \
  g_test_add ("/moat/smtp/" path, Fixture, data, fixture_set_up, func, fixture_tear_down)
  ADD ("message", test_message, NULL);
  ADD ("send-starttls-plain", test_send_starttls, "starttls");
  ADD ("send-starttls-login", test_send_starttls, "starttls-login");
  ADD ("send-tls", test_send_starttls, "tls");
  ADD ("no-starttls", test_no_starttls, NULL);
  ADD ("wrong-password", test_wrong_password, NULL);
  ADD ("untrusted-certificate", test_untrusted, NULL);
  ADD ("hang", test_hang, NULL);
  ADD ("cancel", test_cancel, NULL);
  ADD ("hostile-server", test_hostile_server, NULL);
  ADD ("no-tls-rules", test_no_tls_rules, NULL);
  ADD ("settings", test_settings, NULL);
  ADD ("keyring", test_keyring, NULL);
#undef ADD

  ret = g_test_run ();
  if (cert_dir != NULL)
    remove_dir (cert_dir);
  g_free (cert_dir);
  g_free (python);
  return ret;
}
