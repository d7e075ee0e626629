/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#include "config.h"

#include "moat-tls-test-certs.h"

#include "moat-test-utils.h"

#include <gio/gio.h>
#include <string.h>

static gboolean
certtool (const char  *dir,
          GError     **error,
          ...)
{
  g_autoptr(GPtrArray) argv = g_ptr_array_new ();
  g_autofree char *out = NULL;
  g_autofree char *err = NULL;
  const char *arg;
  int status = 0;
  va_list args;

  g_ptr_array_add (argv, (gpointer) "certtool");
  va_start (args, error);
  while ((arg = va_arg (args, const char *)) != NULL)
    g_ptr_array_add (argv, (gpointer) arg);
  va_end (args);
  g_ptr_array_add (argv, NULL);

  if (!g_spawn_sync (dir, (char **) argv->pdata, NULL, G_SPAWN_SEARCH_PATH, NULL, NULL,
                     &out, &err, &status, error))
    return FALSE;
  if (!g_spawn_check_wait_status (status, error))
    {
      g_prefix_error (error, "certtool %s: %s: ", (char *) argv->pdata[1], err);
      return FALSE;
    }
  return TRUE;
}

static char *
make_key (const char  *dir,
          const char  *name,
          GError     **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);

  if (!certtool (dir, error, "--generate-privkey", "--key-type=ecdsa", "--curve=secp256r1",
                 "--outfile", path, NULL))
    return NULL;
  return g_steal_pointer (&path);
}

static char *
make_cert (const char  *dir,
           const char  *name,
           const char  *template_text,
           const char  *key,
           const char  *ca,
           const char  *ca_key,
           GError     **error)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autofree char *template_path = g_strconcat (path, ".tmpl", NULL);

  if (!g_file_set_contents (template_path, template_text, -1, error))
    return NULL;
  if (ca == NULL)
    {
      if (!certtool (dir, error, "--generate-self-signed", "--load-privkey", key,
                     "--template", template_path, "--outfile", path, NULL))
        return NULL;
    }
  else if (!certtool (dir, error, "--generate-certificate", "--load-privkey", key,
                      "--load-ca-certificate", ca, "--load-ca-privkey", ca_key,
                      "--template", template_path, "--outfile", path, NULL))
    return NULL;
  return g_steal_pointer (&path);
}

#define CA_TEMPLATE(cn) "cn = \"" cn "\"\norganization = \"Moat tests\"\nca\ncert_signing_key\n" \
                        "expiration_days = 30\n"
#define LEAF_TEMPLATE "cn = \"" MOAT_TEST_TLS_HOST "\"\ndns_name = \"" MOAT_TEST_TLS_HOST "\"\n" \
                      "tls_www_server\nsigning_key\n"

/**
 * moat_test_certs_new:
 *
 * Makes the test certificates in a new temporary directory.
 *
 * Returns: (transfer full) (nullable): the paths, or %NULL when certtool is
 *   missing or fails
 */
MoatTestCerts *
moat_test_certs_new (GError **error)
{
  g_autoptr(MoatTestCerts) certs = g_new0 (MoatTestCerts, 1);
  g_autofree char *real_key = NULL;
  g_autofree char *attacker_key = NULL;
  g_autofree char *real_pem = NULL;
  g_autofree char *attacker_pem = NULL;
  g_autofree char *both = NULL;

  certs->dir = g_dir_make_tmp ("moat-tls-XXXXXX", error);
  if (certs->dir == NULL)
    return NULL;
  real_key = make_key (certs->dir, "real-ca.key", error);
  if (real_key == NULL)
    return NULL;
  certs->real_ca_key = g_strdup (real_key);
  certs->real_ca = make_cert (certs->dir, "real-ca.pem", CA_TEMPLATE ("Moat Test Root"),
                              real_key, NULL, NULL, error);
  if (certs->real_ca == NULL)
    return NULL;
  certs->real_leaf_key = make_key (certs->dir, "real-leaf.key", error);
  if (certs->real_leaf_key == NULL)
    return NULL;
  certs->real_leaf = make_cert (certs->dir, "real-leaf.pem", LEAF_TEMPLATE "expiration_days = 30\n",
                                certs->real_leaf_key, certs->real_ca, real_key, error);
  if (certs->real_leaf == NULL)
    return NULL;
  certs->expired_leaf = make_cert (certs->dir, "expired-leaf.pem",
                                   LEAF_TEMPLATE "activation_date = \"2020-01-01 00:00:00\"\n"
                                   "expiration_date = \"2020-06-01 00:00:00\"\n",
                                   certs->real_leaf_key, certs->real_ca, real_key, error);
  if (certs->expired_leaf == NULL)
    return NULL;

  attacker_key = make_key (certs->dir, "attacker-ca.key", error);
  if (attacker_key == NULL)
    return NULL;
  certs->attacker_ca = make_cert (certs->dir, "attacker-ca.pem",
                                  CA_TEMPLATE ("Moat Attacker Proxy CA"), attacker_key, NULL, NULL,
                                  error);
  if (certs->attacker_ca == NULL)
    return NULL;
  certs->attacker_leaf_key = make_key (certs->dir, "attacker-leaf.key", error);
  if (certs->attacker_leaf_key == NULL)
    return NULL;
  certs->attacker_leaf = make_cert (certs->dir, "attacker-leaf.pem",
                                    LEAF_TEMPLATE "expiration_days = 30\n",
                                    certs->attacker_leaf_key, certs->attacker_ca, attacker_key,
                                    error);
  if (certs->attacker_leaf == NULL)
    return NULL;

  if (!g_file_get_contents (certs->real_ca, &real_pem, NULL, error)
      || !g_file_get_contents (certs->attacker_ca, &attacker_pem, NULL, error))
    return NULL;
  both = g_strconcat (real_pem, attacker_pem, NULL);
  certs->both_cas = g_build_filename (certs->dir, "both-cas.pem", NULL);
  if (!g_file_set_contents (certs->both_cas, both, -1, error))
    return NULL;
  return g_steal_pointer (&certs);
}

void
moat_test_certs_free (MoatTestCerts *certs)
{
  if (certs == NULL)
    return;
  if (certs->dir != NULL)
    moat_test_remove_tree (certs->dir);
  g_free (certs->dir);
  g_free (certs->real_ca);
  g_free (certs->real_ca_key);
  g_free (certs->real_leaf);
  g_free (certs->real_leaf_key);
  g_free (certs->expired_leaf);
  g_free (certs->attacker_ca);
  g_free (certs->attacker_leaf);
  g_free (certs->attacker_leaf_key);
  g_free (certs->both_cas);
  g_free (certs);
}

/**
 * moat_test_certs_pin:
 *
 * The SPKI pin of the certificate in @pem_path, computed by openssl, so the
 * probe's own computation is checked against another implementation.
 *
 * Returns: (transfer full) (nullable): `sha256/BASE64`
 */
char *
moat_test_certs_pin (const char  *pem_path,
                     GError     **error)
{
  g_autofree char *quoted = g_shell_quote (pem_path);
  g_autofree char *command = g_strdup_printf (
    "openssl x509 -in %s -pubkey -noout | openssl pkey -pubin -outform der"
    " | openssl dgst -sha256 -binary | openssl base64 -A", quoted);
  const char *argv[] = { "/bin/sh", "-c", command, NULL };
  g_autofree char *out = NULL;
  int status = 0;

  if (!g_spawn_sync (NULL, (char **) argv, NULL, G_SPAWN_STDERR_TO_DEV_NULL, NULL, NULL,
                     &out, NULL, &status, error)
      || !g_spawn_check_wait_status (status, error))
    return NULL;
  g_strstrip (out);
  if (strlen (out) != 44)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_FAILED, "openssl gave “%s”", out);
      return NULL;
    }
  return g_strconcat ("sha256/", out, NULL);
}
