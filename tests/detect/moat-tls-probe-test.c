/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * MoatTlsProbe against a TLS origin on loopback, served in-process with
 * GnuTLS from certificates certtool makes at start-up.
 */
#include "config.h"

#include "moat-error.h"
#include "moat-test-utils.h"
#include "moat-tls-probe.h"
#include "moat-tls-test-certs.h"

#include <gnutls/gnutls.h>
#include <json-glib/json-glib.h>
#include <string.h>

static MoatTestCerts *certs;

typedef enum {
  SERVER_TLS,
  SERVER_GARBAGE,
  SERVER_SILENT,
  SERVER_RANDOM_RECORDS,
} ServerMode;

typedef struct {
  GSocket                          *listener;
  guint16                           port;
  ServerMode                        mode;
  gnutls_certificate_credentials_t  cred;
  GThread                          *thread;
  GCancellable                     *cancellable;
} Fixture;

static void
serve_tls (Fixture *fixture,
           GSocket *client)
{
  gnutls_session_t session = NULL;
  int ret;

  g_assert_cmpint (gnutls_init (&session, GNUTLS_SERVER), ==, 0);
  g_assert_cmpint (gnutls_set_default_priority (session), ==, 0);
  g_assert_cmpint (gnutls_credentials_set (session, GNUTLS_CRD_CERTIFICATE, fixture->cred), ==, 0);
  gnutls_transport_set_int (session, g_socket_get_fd (client));
  gnutls_handshake_set_timeout (session, 5000);
  do
    ret = gnutls_handshake (session);
  while (ret < 0 && gnutls_error_is_fatal (ret) == 0);
  if (ret == 0)
    gnutls_bye (session, GNUTLS_SHUT_WR);
  gnutls_deinit (session);
}

/* Reads the ClientHello, then answers with a TLS handshake record of random
 * length whose body is random, after a ServerHello-looking start. */
static void
serve_random_records (GSocket *client)
{
  char hello[4096];
  guint8 record[5 + 16384];
  guint16 len = (guint16) g_random_int_range (1, 16385);

  g_socket_set_timeout (client, 5);
  g_socket_receive (client, hello, sizeof hello, NULL, NULL);
  record[0] = 0x16;
  record[1] = 0x03;
  record[2] = 0x03;
  record[3] = len >> 8;
  record[4] = len & 0xff;
  for (gsize i = 5; i < 5 + (gsize) len; i++)
    record[i] = (guint8) g_random_int_range (0, 256);
  /* Every other answer claims to be a whole ServerHello, so that GnuTLS
   * parses the random body instead of waiting for more. */
  if (len > 6 && g_random_boolean ())
    {
      record[5] = 0x02;
      record[6] = 0;
      record[7] = (len - 4) >> 8;
      record[8] = (len - 4) & 0xff;
      record[9] = 0x03;
      record[10] = 0x03;
    }
  g_socket_send (client, (const char *) record, 5 + len, NULL, NULL);
}

static gpointer
server_thread (gpointer data)
{
  Fixture *fixture = data;

  for (;;)
    {
      g_autoptr(GSocket) client = g_socket_accept (fixture->listener, fixture->cancellable, NULL);

      if (client == NULL)
        break;
      if (fixture->mode == SERVER_TLS)
        serve_tls (fixture, client);
      else if (fixture->mode == SERVER_RANDOM_RECORDS)
        serve_random_records (client);
      else
        {
          static const char garbage[] = "HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
                                        "\x16\x03\x01\xff\xff\x00garbage";

          g_socket_send (client, garbage, sizeof garbage - 1, NULL, NULL);
        }
      g_socket_close (client, NULL);
    }
  return NULL;
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GInetAddress) loopback = g_inet_address_new_loopback (G_SOCKET_FAMILY_IPV4);
  g_autoptr(GSocketAddress) any = g_inet_socket_address_new (loopback, 0);
  g_autoptr(GSocketAddress) bound = NULL;
  g_autoptr(GError) error = NULL;

  if (certs == NULL)
    {
      g_test_skip ("certtool is needed to make test certificates");
      return;
    }
  fixture->cancellable = g_cancellable_new ();
  fixture->listener = g_socket_new (G_SOCKET_FAMILY_IPV4, G_SOCKET_TYPE_STREAM,
                                    G_SOCKET_PROTOCOL_TCP, &error);
  g_assert_no_error (error);
  g_socket_bind (fixture->listener, any, TRUE, &error);
  g_assert_no_error (error);
  g_socket_set_listen_backlog (fixture->listener, 64);
  g_socket_listen (fixture->listener, &error);
  g_assert_no_error (error);
  bound = g_socket_get_local_address (fixture->listener, &error);
  g_assert_no_error (error);
  fixture->port = g_inet_socket_address_get_port (G_INET_SOCKET_ADDRESS (bound));
}

/* Serves @leaf (with its key) until tear-down. SERVER_SILENT never accepts:
 * the kernel completes the TCP handshake and the ClientHello is never read. */
static void
fixture_serve (Fixture    *fixture,
               ServerMode  mode,
               const char *leaf,
               const char *key)
{
  fixture->mode = mode;
  if (mode == SERVER_SILENT)
    return;
  if (mode == SERVER_TLS)
    {
      g_assert_cmpint (gnutls_certificate_allocate_credentials (&fixture->cred), ==, 0);
      g_assert_cmpint (gnutls_certificate_set_x509_key_file (fixture->cred, leaf, key,
                                                             GNUTLS_X509_FMT_PEM), ==, 0);
    }
  fixture->thread = g_thread_new ("tls-origin", server_thread, fixture);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  if (fixture->cancellable != NULL)
    g_cancellable_cancel (fixture->cancellable);
  g_clear_pointer (&fixture->thread, g_thread_join);
  if (fixture->listener != NULL)
    g_socket_close (fixture->listener, NULL);
  g_clear_object (&fixture->listener);
  g_clear_object (&fixture->cancellable);
  g_clear_pointer (&fixture->cred, gnutls_certificate_free_credentials);
}

static char *
target_spec (Fixture    *fixture,
             const char *host,
             const char *pin)
{
  return g_strdup_printf ("%s:%u@127.0.0.1%s%s", host, fixture->port,
                          pin != NULL ? "#" : "", pin != NULL ? pin : "");
}

static GPtrArray *
run_probe (MoatTlsProbeOptions  *options,
           GCancellable         *cancellable,
           GError              **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  moat_tls_probe_run_async (options, cancellable, moat_test_result_cb, &result);
  moat_test_wait_result (&result);
  return moat_tls_probe_run_finish (result, error);
}

/* Probes one target of @fixture's origin, trusting @ca_file. */
static MoatFinding *
probe_one (Fixture    *fixture,
           const char *host,
           const char *pin,
           const char *ca_file,
           guint       timeout_ms)
{
  g_autoptr(MoatTlsProbeOptions) options = moat_tls_probe_options_new ();
  g_autofree char *spec = target_spec (fixture, host, pin);
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GError) error = NULL;

  moat_tls_probe_options_add_target_spec (options, spec, &error);
  g_assert_no_error (error);
  moat_tls_probe_options_set_ca_file (options, ca_file);
  moat_tls_probe_options_set_timeout (options, timeout_ms);
  findings = run_probe (options, NULL, &error);
  g_assert_no_error (error);
  g_assert_nonnull (findings);
  g_assert_cmpuint (findings->len, ==, 1);
  return moat_finding_copy (g_ptr_array_index (findings, 0));
}

static JsonObject *
parse_evidence (const MoatFinding *finding)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(GError) error = NULL;
  JsonNode *root;

  g_assert_nonnull (finding->evidence);
  json_parser_load_from_data (parser, finding->evidence, -1, &error);
  g_assert_no_error (error);
  root = json_parser_get_root (parser);
  g_assert_true (JSON_NODE_HOLDS_OBJECT (root));
  return json_object_ref (json_node_get_object (root));
}

static gboolean
string_array_contains (JsonObject *object,
                       const char *member,
                       const char *value)
{
  JsonArray *array = json_object_get_array_member (object, member);

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    if (g_strcmp0 (json_array_get_string_element (array, i), value) == 0)
      return TRUE;
  return FALSE;
}

static void
test_clean (Fixture       *fixture,
            gconstpointer  user_data)
{
  g_autoptr(MoatFinding) finding = NULL;
  g_autoptr(JsonObject) evidence = NULL;
  g_autofree char *subject = NULL;

  if (certs == NULL)
    return;
  fixture_serve (fixture, SERVER_TLS, certs->real_leaf, certs->real_leaf_key);
  finding = probe_one (fixture, MOAT_TEST_TLS_HOST, NULL, certs->real_ca, 0);

  subject = g_strdup_printf ("%s:%u", MOAT_TEST_TLS_HOST, fixture->port);
  g_assert_cmpstr (finding->detector, ==, "tls");
  g_assert_cmpstr (finding->subject, ==, subject);
  g_assert_cmpstr (moat_finding_result_to_string (finding->result), ==, "clean");
  g_assert_null (finding->threat);
  g_assert_cmpint (finding->severity, ==, MOAT_SEVERITY_INFO);
  evidence = parse_evidence (finding);
  g_assert_cmpstr (json_object_get_string_member (evidence, "reason"), ==, "ok");
  g_assert_cmpstr (json_object_get_string_member (evidence, "address"), ==, "127.0.0.1");
  g_assert_cmpstr (json_object_get_string_member (evidence, "issuer"), ==,
                   "CN=Moat Test Root,O=Moat tests");
}

static void
test_untrusted_issuer (Fixture       *fixture,
                       gconstpointer  user_data)
{
  g_autoptr(MoatFinding) finding = NULL;
  g_autoptr(JsonObject) evidence = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *leaf_pin = NULL;

  if (certs == NULL)
    return;
  fixture_serve (fixture, SERVER_TLS, certs->attacker_leaf, certs->attacker_leaf_key);
  finding = probe_one (fixture, MOAT_TEST_TLS_HOST, NULL, certs->real_ca, 0);

  g_assert_cmpstr (moat_finding_result_to_string (finding->result), ==, "threat");
  g_assert_cmpstr (finding->threat, ==, "network.tls_interception");
  g_assert_cmpint (finding->severity, ==, MOAT_SEVERITY_HIGH);
  g_assert_cmpstr (finding->summary, ==,
                   "The certificate of origin.moat.test was issued by “Moat Attacker Proxy CA”, "
                   "which this computer does not trust.");
  evidence = parse_evidence (finding);
  g_assert_cmpstr (json_object_get_string_member (evidence, "reason"), ==, "untrusted-issuer");
  g_assert_cmpstr (json_object_get_string_member (evidence, "host"), ==, MOAT_TEST_TLS_HOST);
  g_assert_cmpint (json_object_get_int_member (evidence, "port"), ==, fixture->port);
  g_assert_cmpstr (json_object_get_string_member (evidence, "issuer"), ==,
                   "CN=Moat Attacker Proxy CA,O=Moat tests");
  g_assert_cmpstr (json_object_get_string_member (evidence, "subject"), ==,
                   "CN=" MOAT_TEST_TLS_HOST);
  g_assert_cmpint (json_object_get_int_member (evidence, "chain_length"), ==, 1);
  g_assert_cmpuint (strlen (json_object_get_string_member (evidence, "leaf_sha256")), ==, 64);
  g_assert_cmpstr (json_object_get_string_member (evidence, "top_sha256"), ==,
                   json_object_get_string_member (evidence, "leaf_sha256"));
  g_assert_cmpstr (json_object_get_string_member (evidence, "trust"), ==, certs->real_ca);
  g_assert_cmpstr (json_object_get_string_member (evidence, "verify_status"), ==,
                   "The certificate is NOT trusted. The certificate issuer is unknown. ");
  leaf_pin = moat_test_certs_pin (certs->attacker_leaf, &error);
  g_assert_no_error (error);
  g_assert_cmpstr (json_object_get_string_member (evidence, "leaf_spki"), ==, leaf_pin);
}

/* The attacker's CA was added to the trust store: only the pin tells. */
static void
test_pin_mismatch (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(MoatFinding) finding = NULL;
  g_autoptr(JsonObject) evidence = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *real_pin = NULL;
  g_autofree char *attacker_pin = NULL;

  if (certs == NULL)
    return;
  real_pin = moat_test_certs_pin (certs->real_ca, &error);
  g_assert_no_error (error);
  attacker_pin = moat_test_certs_pin (certs->attacker_ca, &error);
  g_assert_no_error (error);
  fixture_serve (fixture, SERVER_TLS, certs->attacker_leaf, certs->attacker_leaf_key);
  finding = probe_one (fixture, MOAT_TEST_TLS_HOST, real_pin, certs->both_cas, 0);

  g_assert_cmpstr (moat_finding_result_to_string (finding->result), ==, "threat");
  g_assert_cmpstr (finding->threat, ==, "network.tls_interception");
  g_assert_cmpint (finding->severity, ==, MOAT_SEVERITY_HIGH);
  evidence = parse_evidence (finding);
  g_assert_cmpstr (json_object_get_string_member (evidence, "reason"), ==, "pin-mismatch");
  g_assert_cmpint (json_object_get_int_member (evidence, "verify_status_code"), ==, 0);
  g_assert_true (string_array_contains (evidence, "expected_pins", real_pin));
  g_assert_false (string_array_contains (evidence, "seen_pins", real_pin));
  /* The anchor the chain led to is among what was seen, though not sent. */
  g_assert_true (string_array_contains (evidence, "seen_pins", attacker_pin));
}

/* A pin of the root, which the server does not send, matches. */
static void
test_pin_match_anchor (Fixture       *fixture,
                       gconstpointer  user_data)
{
  g_autoptr(MoatFinding) finding = NULL;
  g_autoptr(JsonObject) evidence = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *real_pin = NULL;

  if (certs == NULL)
    return;
  real_pin = moat_test_certs_pin (certs->real_ca, &error);
  g_assert_no_error (error);
  fixture_serve (fixture, SERVER_TLS, certs->real_leaf, certs->real_leaf_key);
  finding = probe_one (fixture, MOAT_TEST_TLS_HOST, real_pin, certs->both_cas, 0);

  g_assert_cmpstr (moat_finding_result_to_string (finding->result), ==, "clean");
  evidence = parse_evidence (finding);
  g_assert_true (string_array_contains (evidence, "seen_pins", real_pin));
}

static void
test_hostname_mismatch (Fixture       *fixture,
                        gconstpointer  user_data)
{
  g_autoptr(MoatFinding) finding = NULL;
  g_autoptr(JsonObject) evidence = NULL;

  if (certs == NULL)
    return;
  fixture_serve (fixture, SERVER_TLS, certs->real_leaf, certs->real_leaf_key);
  finding = probe_one (fixture, "bank.moat.test", NULL, certs->real_ca, 0);

  g_assert_cmpstr (moat_finding_result_to_string (finding->result), ==, "threat");
  g_assert_cmpstr (finding->threat, ==, "network.tls_interception");
  g_assert_cmpint (finding->severity, ==, MOAT_SEVERITY_MEDIUM);
  evidence = parse_evidence (finding);
  g_assert_cmpstr (json_object_get_string_member (evidence, "reason"), ==, "hostname-mismatch");
}

static void
test_expired (Fixture       *fixture,
              gconstpointer  user_data)
{
  g_autoptr(MoatFinding) finding = NULL;
  g_autoptr(JsonObject) evidence = NULL;

  if (certs == NULL)
    return;
  fixture_serve (fixture, SERVER_TLS, certs->expired_leaf, certs->real_leaf_key);
  finding = probe_one (fixture, MOAT_TEST_TLS_HOST, NULL, certs->real_ca, 0);

  g_assert_cmpstr (moat_finding_result_to_string (finding->result), ==, "inconclusive");
  g_assert_null (finding->threat);
  evidence = parse_evidence (finding);
  g_assert_cmpstr (json_object_get_string_member (evidence, "reason"), ==, "validity-dates");
}

static void
test_refused (Fixture       *fixture,
              gconstpointer  user_data)
{
  g_autoptr(MoatFinding) finding = NULL;

  if (certs == NULL)
    return;
  /* Nothing listens once the listener is closed. */
  g_socket_close (fixture->listener, NULL);
  finding = probe_one (fixture, MOAT_TEST_TLS_HOST, NULL, certs->real_ca, 0);

  g_assert_cmpstr (moat_finding_result_to_string (finding->result), ==, "inconclusive");
  g_assert_null (finding->threat);
  g_assert_null (finding->evidence);
  g_assert_true (g_str_has_prefix (finding->summary, "Could not check origin.moat.test: "));
  g_assert_nonnull (strstr (finding->summary, "refused"));
}

static void
test_timeout (Fixture       *fixture,
              gconstpointer  user_data)
{
  g_autoptr(MoatFinding) finding = NULL;

  if (certs == NULL)
    return;
  fixture_serve (fixture, SERVER_SILENT, NULL, NULL);
  finding = probe_one (fixture, MOAT_TEST_TLS_HOST, NULL, certs->real_ca, 300);

  g_assert_cmpstr (moat_finding_result_to_string (finding->result), ==, "inconclusive");
  g_assert_cmpstr (finding->summary, ==,
                   "Could not check origin.moat.test: the TLS handshake timed out.");
}

static void
test_garbage (Fixture       *fixture,
              gconstpointer  user_data)
{
  g_autoptr(MoatFinding) finding = NULL;

  if (certs == NULL)
    return;
  fixture_serve (fixture, SERVER_GARBAGE, NULL, NULL);
  finding = probe_one (fixture, MOAT_TEST_TLS_HOST, NULL, certs->real_ca, 0);

  g_assert_cmpstr (moat_finding_result_to_string (finding->result), ==, "inconclusive");
  g_assert_null (finding->threat);
  g_assert_true (g_str_has_prefix (finding->summary,
                                   "Could not check origin.moat.test: the server did not answer with TLS ("));
}

/* A hostile server must never crash the probe, nor make it see a threat. */
static void
test_random_records (Fixture       *fixture,
                     gconstpointer  user_data)
{
  g_autoptr(MoatTlsProbeOptions) options = moat_tls_probe_options_new ();
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *spec = NULL;

  if (certs == NULL)
    return;
  fixture_serve (fixture, SERVER_RANDOM_RECORDS, NULL, NULL);
  spec = target_spec (fixture, MOAT_TEST_TLS_HOST, NULL);
  for (guint i = 0; i < 32; i++)
    {
      moat_tls_probe_options_add_target_spec (options, spec, &error);
      g_assert_no_error (error);
    }
  moat_tls_probe_options_set_ca_file (options, certs->real_ca);
  findings = run_probe (options, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (findings->len, ==, 32);
  for (guint i = 0; i < findings->len; i++)
    {
      MoatFinding *finding = g_ptr_array_index (findings, i);

      g_test_message ("%" G_GINT64_FORMAT " us: %s", finding->duration_us, finding->summary);
      g_assert_cmpstr (moat_finding_result_to_string (finding->result), ==, "inconclusive");
    }
}

static gboolean
cancel_cb (gpointer data)
{
  g_cancellable_cancel (data);
  return G_SOURCE_REMOVE;
}

static void
test_cancel (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autoptr(MoatTlsProbeOptions) options = moat_tls_probe_options_new ();
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  g_autofree char *spec = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GError) error = NULL;

  if (certs == NULL)
    return;
  fixture_serve (fixture, SERVER_SILENT, NULL, NULL);
  spec = target_spec (fixture, MOAT_TEST_TLS_HOST, NULL);
  moat_tls_probe_options_add_target_spec (options, spec, &error);
  g_assert_no_error (error);
  moat_tls_probe_options_set_ca_file (options, certs->real_ca);
  moat_tls_probe_options_set_timeout (options, 20000);
  g_timeout_add (100, cancel_cb, cancellable);
  findings = run_probe (options, cancellable, &error);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_assert_null (findings);
}

static void
test_bad_ca_file (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(MoatTlsProbeOptions) options = moat_tls_probe_options_new ();
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *missing = NULL;

  if (certs == NULL)
    return;
  missing = g_build_filename (certs->dir, "missing.pem", NULL);
  moat_tls_probe_options_add_target_spec (options, "example.com@127.0.0.1", &error);
  g_assert_no_error (error);
  moat_tls_probe_options_set_ca_file (options, missing);
  findings = run_probe (options, NULL, &error);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_null (findings);

  g_clear_error (&error);
  moat_tls_probe_options_set_ca_file (options, certs->real_leaf_key);
  findings = run_probe (options, NULL, &error);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_null (findings);
}

/* Several targets run together and come back in order. */
static void
test_several (Fixture       *fixture,
              gconstpointer  user_data)
{
  g_autoptr(MoatTlsProbeOptions) options = moat_tls_probe_options_new ();
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *good = NULL;
  g_autofree char *wrong_name = NULL;
  const char *results[] = { "clean", "threat", "inconclusive", "clean" };

  if (certs == NULL)
    return;
  fixture_serve (fixture, SERVER_TLS, certs->real_leaf, certs->real_leaf_key);
  good = target_spec (fixture, MOAT_TEST_TLS_HOST, NULL);
  wrong_name = target_spec (fixture, "other.moat.test", NULL);
  g_assert_true (moat_tls_probe_options_add_target_spec (options, good, &error));
  g_assert_true (moat_tls_probe_options_add_target_spec (options, wrong_name, &error));
  /* Port 1 on loopback: refused. */
  g_assert_true (moat_tls_probe_options_add_target_spec (options, "origin.moat.test:1@127.0.0.1",
                                                         &error));
  g_assert_true (moat_tls_probe_options_add_target_spec (options, good, &error));
  g_assert_no_error (error);
  g_assert_cmpuint (moat_tls_probe_options_get_n_targets (options), ==, 4);
  moat_tls_probe_options_set_ca_file (options, certs->real_ca);
  findings = run_probe (options, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (findings->len, ==, G_N_ELEMENTS (results));
  for (guint i = 0; i < findings->len; i++)
    {
      MoatFinding *finding = g_ptr_array_index (findings, i);

      g_assert_cmpstr (moat_finding_result_to_string (finding->result), ==, results[i]);
      g_assert_cmpint (finding->duration_us, >, 0);
    }
  g_assert_cmpstr (((MoatFinding *) g_ptr_array_index (findings, 2))->subject, ==,
                   "origin.moat.test:1");
}

static void
test_no_targets (void)
{
  g_autoptr(MoatTlsProbeOptions) options = moat_tls_probe_options_new ();
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GError) error = NULL;

  findings = run_probe (options, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (findings->len, ==, 0);
}

static void
test_spec (void)
{
  static const struct {
    const char *spec;
    const char *message;
  } cases[] = {
    { "example.com", NULL },
    { "Example.COM:8443", NULL },
    { "example.com@192.0.2.1", NULL },
    { "[2001:db8::1]:443@[2001:db8::2]", NULL },
    { "example.com#sha256/AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", NULL },
    { "example.com#sha256//AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=", NULL },
    { "", "TLS target is empty" },
    { "#sha256/x", "TLS target is empty" },
    { "example.com:0", NULL },
    { "example.com:99999", NULL },
    { "example.com@", NULL },
    { "example.com@not-an-ip.example", NULL },
    { "example.com#", NULL },
    { "example.com#md5/AAAA", NULL },
    { "example.com#sha256/AAAA", NULL },
    { "exa mple.com", NULL },
  };
  gboolean ok[] = { TRUE, TRUE, TRUE, TRUE, TRUE, TRUE,
                    FALSE, FALSE, FALSE, FALSE, FALSE, FALSE, FALSE, FALSE, FALSE, FALSE };

  G_STATIC_ASSERT (G_N_ELEMENTS (cases) == G_N_ELEMENTS (ok));
  for (gsize i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autoptr(MoatTlsProbeOptions) options = moat_tls_probe_options_new ();
      g_autoptr(GError) error = NULL;
      gboolean added;

      g_test_message ("spec “%s”", cases[i].spec);
      added = moat_tls_probe_options_add_target_spec (options, cases[i].spec, &error);
      if (ok[i])
        {
          g_assert_no_error (error);
          g_assert_true (added);
          g_assert_cmpuint (moat_tls_probe_options_get_n_targets (options), ==, 1);
        }
      else
        {
          g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
          g_assert_false (added);
          g_assert_cmpuint (moat_tls_probe_options_get_n_targets (options), ==, 0);
          if (cases[i].message != NULL)
            g_assert_cmpstr (error->message, ==, cases[i].message);
        }
    }
}

static void
test_pin (void)
{
  g_autoptr(GError) error = NULL;
  g_autofree char *pin = NULL;
  g_autofree char *expected = NULL;
  g_autofree char *der = NULL;
  g_autofree char *pem = NULL;
  gnutls_datum_t pem_datum, der_datum = { NULL, 0 };

  pin = moat_tls_pin_normalize ("sha256//47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pin, ==, "sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=");
  g_clear_pointer (&pin, g_free);
  /* A digest whose base64 starts with "/" (1 in 64), with and without
   * curl's extra slash. */
  pin = moat_tls_pin_normalize ("sha256//2g0GojNYZQW7kezNJxGZHSYnp4BxbR5fspNivOYotY=", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pin, ==, "sha256//2g0GojNYZQW7kezNJxGZHSYnp4BxbR5fspNivOYotY=");
  g_clear_pointer (&pin, g_free);
  pin = moat_tls_pin_normalize ("sha256///2g0GojNYZQW7kezNJxGZHSYnp4BxbR5fspNivOYotY=", &error);
  g_assert_no_error (error);
  g_assert_cmpstr (pin, ==, "sha256//2g0GojNYZQW7kezNJxGZHSYnp4BxbR5fspNivOYotY=");
  g_clear_pointer (&pin, g_free);
  pin = moat_tls_pin_normalize ("sha256/47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuF=", &error);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_null (pin);
  g_clear_error (&error);
  pin = moat_tls_spki_pin_from_der ((const guint8 *) "not a certificate", 17, &error);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_null (pin);
  g_clear_error (&error);

  if (certs == NULL)
    {
      g_test_skip ("certtool is needed to make test certificates");
      return;
    }
  expected = moat_test_certs_pin (certs->real_leaf, &error);
  g_assert_no_error (error);
  g_file_get_contents (certs->real_leaf, &pem, NULL, &error);
  g_assert_no_error (error);
  pem_datum.data = (unsigned char *) pem;
  pem_datum.size = strlen (pem);
  g_assert_cmpint (gnutls_pem_base64_decode2 ("CERTIFICATE", &pem_datum, &der_datum), ==, 0);
  pin = moat_tls_spki_pin_from_der (der_datum.data, der_datum.size, &error);
  gnutls_free (der_datum.data);
  g_assert_no_error (error);
  g_assert_cmpstr (pin, ==, expected);
}

int
main (int   argc,
      char *argv[])
{
  g_autoptr(GError) error = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);

  certs = moat_test_certs_new (&error);
  if (certs == NULL)
    g_test_message ("No test certificates: %s", error->message);

  g_test_add_func ("/moat/tls-probe/spec", test_spec);
  g_test_add_func ("/moat/tls-probe/pin", test_pin);
  g_test_add_func ("/moat/tls-probe/no-targets", test_no_targets);
#define ADD(path, func) \
  g_test_add ("/moat/tls-probe/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("clean", test_clean);
  ADD ("untrusted-issuer", test_untrusted_issuer);
  ADD ("pin-mismatch", test_pin_mismatch);
  ADD ("pin-match-anchor", test_pin_match_anchor);
  ADD ("hostname-mismatch", test_hostname_mismatch);
  ADD ("expired", test_expired);
  ADD ("refused", test_refused);
  ADD ("timeout", test_timeout);
  ADD ("garbage", test_garbage);
  ADD ("random-records", test_random_records);
  ADD ("cancel", test_cancel);
  ADD ("bad-ca-file", test_bad_ca_file);
  ADD ("several", test_several);
#undef ADD

  ret = g_test_run ();
  g_clear_pointer (&certs, moat_test_certs_free);
  return ret;
}
