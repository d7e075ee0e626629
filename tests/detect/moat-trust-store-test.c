/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * The rogue root CA check against bundles the test makes.
 */
#include "config.h"

#include "moat-error.h"
#include "moat-test-utils.h"
#include "moat-tls-test-certs.h"
#include "moat-trust-store.h"

#include <json-glib/json-glib.h>
#include <string.h>

#define DEBIAN_BUNDLE "/etc/ssl/certs/ca-certificates.crt"

static MoatTestCerts *certs;

typedef struct {
  char *dir;
} Fixture;

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GError) error = NULL;

  if (certs == NULL)
    {
      g_test_skip ("certtool is needed to make test certificates");
      return;
    }
  fixture->dir = g_dir_make_tmp ("moat-trust-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  if (fixture->dir != NULL)
    moat_test_remove_tree (fixture->dir);
  g_clear_pointer (&fixture->dir, g_free);
}

/* The fingerprint as openssl prints it, lower-cased without colons. */
static char *
openssl_fingerprint (const char *pem_path)
{
  const char *argv[] = { "openssl", "x509", "-in", pem_path, "-noout", "-fingerprint", "-sha256",
                         NULL };
  g_autofree char *out = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) hex = g_string_new (NULL);
  const char *p;
  int status = 0;

  g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL, &out, NULL, &status,
                &error);
  g_assert_no_error (error);
  g_assert_true (g_spawn_check_wait_status (status, NULL));
  p = strchr (out, '=');
  g_assert_nonnull (p);
  for (p++; *p != '\0' && *p != '\n'; p++)
    if (*p != ':')
      g_string_append_c (hex, g_ascii_tolower (*p));
  return g_string_free (g_steal_pointer (&hex), FALSE);
}

static GPtrArray *
check (const char          *path,
       const char * const  *baseline,
       GStrv               *snapshot,
       GError             **error)
{
  g_autoptr(GAsyncResult) result = NULL;

  moat_trust_store_check_async (path, baseline, NULL, moat_test_result_cb, &result);
  moat_test_wait_result (&result);
  return moat_trust_store_check_finish (result, snapshot, error);
}

static void
test_first_run (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GPtrArray) findings = NULL;
  g_auto(GStrv) snapshot = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *fingerprint = NULL;
  MoatFinding *finding;

  if (certs == NULL)
    return;
  findings = check (certs->real_ca, NULL, &snapshot, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (findings->len, ==, 1);
  finding = g_ptr_array_index (findings, 0);
  g_assert_cmpstr (finding->detector, ==, "trust-store");
  g_assert_cmpstr (moat_finding_result_to_string (finding->result), ==, "clean");
  g_assert_cmpstr (finding->summary, ==, "Recorded the 1 certificate authority this computer trusts.");
  fingerprint = openssl_fingerprint (certs->real_ca);
  g_assert_cmpuint (g_strv_length (snapshot), ==, 1);
  g_assert_cmpstr (snapshot[0], ==, fingerprint);
}

static void
test_new_ca (Fixture       *fixture,
             gconstpointer  user_data)
{
  g_autoptr(GPtrArray) findings = NULL;
  g_auto(GStrv) baseline = NULL;
  g_auto(GStrv) snapshot = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autofree char *attacker = NULL;
  g_autofree char *real = NULL;
  JsonObject *evidence;
  MoatFinding *finding;

  if (certs == NULL)
    return;
  attacker = openssl_fingerprint (certs->attacker_ca);
  real = openssl_fingerprint (certs->real_ca);
  baseline = moat_trust_store_snapshot_sync (certs->real_ca, NULL, &error);
  g_assert_no_error (error);
  findings = check (certs->both_cas, (const char * const *) baseline, &snapshot, &error);
  g_assert_no_error (error);

  g_assert_cmpuint (findings->len, ==, 1);
  finding = g_ptr_array_index (findings, 0);
  g_assert_cmpstr (moat_finding_result_to_string (finding->result), ==, "threat");
  g_assert_cmpstr (finding->threat, ==, "network.rogue_root_ca");
  g_assert_cmpint (finding->severity, ==, MOAT_SEVERITY_HIGH);
  g_assert_cmpstr (finding->subject, ==, "Moat Attacker Proxy CA");
  g_assert_cmpstr (finding->summary, ==,
                   "A new root certificate, “Moat Attacker Proxy CA”, was added to the certificates "
                   "this computer trusts.");
  json_parser_load_from_data (parser, finding->evidence, -1, &error);
  g_assert_no_error (error);
  evidence = json_node_get_object (json_parser_get_root (parser));
  g_assert_cmpstr (json_object_get_string_member (evidence, "sha256"), ==, attacker);
  g_assert_cmpstr (json_object_get_string_member (evidence, "subject"), ==,
                   "CN=Moat Attacker Proxy CA,O=Moat tests");
  g_assert_cmpstr (json_object_get_string_member (evidence, "store"), ==, certs->both_cas);

  g_assert_cmpuint (g_strv_length (snapshot), ==, 2);
  g_assert_true (g_strv_contains ((const char * const *) snapshot, attacker));
  g_assert_true (g_strv_contains ((const char * const *) snapshot, real));
  g_assert_cmpint (strcmp (snapshot[0], snapshot[1]), <, 0);
}

static void
test_unchanged (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GPtrArray) fewer = NULL;
  g_auto(GStrv) baseline = NULL;
  g_auto(GStrv) snapshot = NULL;
  g_autoptr(GError) error = NULL;
  MoatFinding *finding;

  if (certs == NULL)
    return;
  baseline = moat_trust_store_snapshot_sync (certs->both_cas, NULL, &error);
  g_assert_no_error (error);
  /* Baselines written in upper case still match. */
  for (guint i = 0; baseline[i] != NULL; i++)
    {
      char *upper = g_ascii_strup (baseline[i], -1);

      g_free (baseline[i]);
      baseline[i] = upper;
    }
  findings = check (certs->both_cas, (const char * const *) baseline, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (findings->len, ==, 1);
  finding = g_ptr_array_index (findings, 0);
  g_assert_cmpstr (moat_finding_result_to_string (finding->result), ==, "clean");
  g_assert_cmpstr (finding->evidence, ==, "{\"total\":2,\"removed\":0}");

  /* A CA that went away is no threat. */
  fewer = check (certs->real_ca, (const char * const *) baseline, &snapshot, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (fewer->len, ==, 1);
  finding = g_ptr_array_index (fewer, 0);
  g_assert_cmpstr (moat_finding_result_to_string (finding->result), ==, "clean");
  g_assert_cmpstr (finding->evidence, ==, "{\"total\":1,\"removed\":1}");
  g_assert_cmpuint (g_strv_length (snapshot), ==, 1);
}

static void
test_directory (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autofree char *real = g_build_filename (fixture->dir, "real.pem", NULL);
  g_autofree char *attacker = g_build_filename (fixture->dir, "attacker.pem", NULL);
  g_autofree char *pem = NULL;
  g_auto(GStrv) snapshot = NULL;
  g_autoptr(GError) error = NULL;

  if (certs == NULL)
    return;
  g_file_get_contents (certs->real_ca, &pem, NULL, &error);
  g_assert_no_error (error);
  g_file_set_contents (real, pem, -1, &error);
  g_assert_no_error (error);
  g_clear_pointer (&pem, g_free);
  g_file_get_contents (certs->attacker_ca, &pem, NULL, &error);
  g_assert_no_error (error);
  g_file_set_contents (attacker, pem, -1, &error);
  g_assert_no_error (error);

  snapshot = moat_trust_store_snapshot_sync (fixture->dir, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (snapshot), ==, 2);
}

static void
test_unreadable (Fixture       *fixture,
                 gconstpointer  user_data)
{
  g_autofree char *garbage = g_build_filename (fixture->dir, "garbage.pem", NULL);
  g_autofree char *missing = g_build_filename (fixture->dir, "missing.pem", NULL);
  const char *baseline[] = { "00", NULL };
  g_autoptr(GPtrArray) findings = NULL;
  g_auto(GStrv) snapshot = NULL;
  g_autoptr(GError) error = NULL;
  MoatFinding *finding;

  if (certs == NULL)
    return;
  g_file_set_contents (garbage, "-----BEGIN CERTIFICATE-----\nbm9wZQ==\n", -1, &error);
  g_assert_no_error (error);
  findings = check (garbage, baseline, &snapshot, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (findings->len, ==, 1);
  finding = g_ptr_array_index (findings, 0);
  g_assert_cmpstr (moat_finding_result_to_string (finding->result), ==, "inconclusive");
  g_assert_null (snapshot);
  g_assert_null (moat_trust_store_snapshot_sync (garbage, NULL, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_FAILED);
  g_clear_error (&error);
  g_clear_pointer (&findings, g_ptr_array_unref);

  findings = check (missing, baseline, &snapshot, &error);
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_null (findings);
  g_assert_null (snapshot);
}

/* On Debian the system trust is the ca-certificates bundle. */
static void
test_system (void)
{
  g_auto(GStrv) system = NULL;
  g_auto(GStrv) bundle = NULL;
  g_autoptr(GError) error = NULL;

  if (!g_file_test (DEBIAN_BUNDLE, G_FILE_TEST_EXISTS))
    {
      g_test_skip ("needs ca-certificates' " DEBIAN_BUNDLE);
      return;
    }
  system = moat_trust_store_snapshot_sync (NULL, NULL, &error);
  g_assert_no_error (error);
  bundle = moat_trust_store_snapshot_sync (DEBIAN_BUNDLE, NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (g_strv_length (system), >, 0);
  g_assert_true (g_strv_equal ((const char * const *) system, (const char * const *) bundle));
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

  g_test_add_func ("/moat/trust-store/system", test_system);
#define ADD(path, func) \
  g_test_add ("/moat/trust-store/" path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)
  ADD ("first-run", test_first_run);
  ADD ("new-ca", test_new_ca);
  ADD ("unchanged", test_unchanged);
  ADD ("directory", test_directory);
  ADD ("unreadable", test_unreadable);
#undef ADD

  ret = g_test_run ();
  g_clear_pointer (&certs, moat_test_certs_free);
  return ret;
}
