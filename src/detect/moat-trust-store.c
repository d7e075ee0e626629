/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * The rogue root CA check: which CAs this computer trusts now, against a
 * baseline the caller keeps.
 */
#define G_LOG_DOMAIN "moat-detect"

#include "config.h"

#include "moat-trust-store.h"

#include "moat-error.h"
#include "moat-tls-private.h"

#include <glib/gi18n-lib.h>
#include <json-glib/json-glib.h>
#include <stdlib.h>
#include <string.h>

#define DETECTOR "trust-store"
#define THREAT_ID "network.rogue_root_ca"
#define SUBJECT "trust-store"
#define MAX_FINDINGS 64

typedef struct {
  char               *path;     /* nullable: the system store */
  GStrv               baseline; /* nullable: first run */
} CheckData;

typedef struct {
  GPtrArray *findings;
  GStrv      snapshot;
} CheckResult;

static void
check_data_free (CheckData *data)
{
  g_free (data->path);
  g_strfreev (data->baseline);
  g_free (data);
}

static void
check_result_free (CheckResult *result)
{
  g_clear_pointer (&result->findings, g_ptr_array_unref);
  g_strfreev (result->snapshot);
  g_free (result);
}

/* Loads the store into a table of fingerprint → certificate. Returns %NULL
 * with @error for a path that is not there (a bad option), and an empty
 * table with @reason when the store cannot be read. */
static GHashTable *
load_store (const char    *path,
            char         **reason,
            GError       **error)
{
  g_autoptr(GHashTable) cas = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                                     (GDestroyNotify) gnutls_x509_crt_deinit);
  g_auto(gnutls_x509_trust_list_t) list = NULL;
  gnutls_x509_trust_list_iter_t iter = NULL;
  gnutls_x509_crt_t crt = NULL;
  int ret;

  *reason = NULL;
  if (path != NULL && !g_file_test (path, G_FILE_TEST_EXISTS))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   "No trust store at “%s”", path);
      return NULL;
    }
  ret = gnutls_x509_trust_list_init (&list, 0);
  if (ret >= 0)
    {
      if (path == NULL)
        ret = gnutls_x509_trust_list_add_system_trust (list, 0, 0);
      else if (g_file_test (path, G_FILE_TEST_IS_DIR))
        ret = gnutls_x509_trust_list_add_trust_dir (list, path, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
      else
        ret = gnutls_x509_trust_list_add_trust_file (list, path, NULL, GNUTLS_X509_FMT_PEM, 0, 0);
    }
  if (ret < 0)
    {
      *reason = g_strdup (gnutls_strerror (ret));
      return g_steal_pointer (&cas);
    }

  while ((ret = gnutls_x509_trust_list_iter_get_ca (list, &iter, &crt)) >= 0)
    {
      char *sha256 = moat_tls_crt_sha256 (crt);

      if (sha256 == NULL || g_hash_table_contains (cas, sha256))
        {
          g_free (sha256);
          gnutls_x509_crt_deinit (crt);
        }
      else
        g_hash_table_insert (cas, sha256, crt);
      crt = NULL;
    }
  gnutls_x509_trust_list_iter_deinit (iter);
  if (ret != GNUTLS_E_REQUESTED_DATA_NOT_AVAILABLE)
    *reason = g_strdup (gnutls_strerror (ret));
  else if (g_hash_table_size (cas) == 0)
    *reason = g_strdup ("no certificates");
  return g_steal_pointer (&cas);
}

static int
compare_strings (const void *a,
                 const void *b)
{
  return strcmp (*(char * const *) a, *(char * const *) b);
}

static GStrv
sorted_keys (GHashTable *cas)
{
  g_autofree gpointer *keys = g_hash_table_get_keys_as_array (cas, NULL);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  GStrv snapshot;

  g_strv_builder_addv (builder, (const char **) keys);
  snapshot = g_strv_builder_end (builder);
  qsort (snapshot, g_strv_length (snapshot), sizeof (char *), compare_strings);
  return snapshot;
}

static char *
crt_time (time_t when)
{
  g_autoptr(GDateTime) time = NULL;

  if (when == (time_t) -1)
    return g_strdup ("");
  time = g_date_time_new_from_unix_utc (when);
  return time != NULL ? g_date_time_format_iso8601 (time) : g_strdup ("");
}

static void
add_string_take (JsonBuilder *builder,
                 const char  *member,
                 char        *value)
{
  json_builder_set_member_name (builder, member);
  json_builder_add_string_value (builder, value != NULL ? value : "");
  g_free (value);
}

static MoatFinding *
new_ca_finding (const char        *sha256,
                gnutls_x509_crt_t  crt,
                const char        *path)
{
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;
  g_autofree char *evidence = NULL;
  g_autofree char *name = moat_tls_crt_display_name (crt, FALSE);
  g_autofree char *summary = NULL;

  json_builder_begin_object (builder);
  add_string_take (builder, "subject", moat_tls_crt_subject_dn (crt));
  add_string_take (builder, "issuer", moat_tls_crt_issuer_dn (crt));
  add_string_take (builder, "sha256", g_strdup (sha256));
  add_string_take (builder, "spki", moat_tls_crt_spki_pin (crt));
  add_string_take (builder, "not_before", crt_time (gnutls_x509_crt_get_activation_time (crt)));
  add_string_take (builder, "not_after", crt_time (gnutls_x509_crt_get_expiration_time (crt)));
  add_string_take (builder, "store", g_strdup (path != NULL ? path : "system"));
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  evidence = json_generator_to_data (generator, NULL);

  /* Translators: %s is the name of a certificate authority. */
  summary = g_strdup_printf (_("A new root certificate, “%s”, was added to the certificates this computer trusts."),
                             name);
  return moat_finding_new_threat (DETECTOR, name, THREAT_ID, MOAT_SEVERITY_HIGH, summary, evidence);
}

static void
check_thread (GTask        *task,
              gpointer      source_object,
              gpointer      task_data,
              GCancellable *cancellable)
{
  CheckData *data = task_data;
  g_autoptr(GHashTable) cas = NULL;
  g_autoptr(GPtrArray) findings = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_finding_free);
  g_autofree char *reason = NULL;
  g_autofree char *summary = NULL;
  g_autoptr(GError) error = NULL;
  gint64 start = g_get_monotonic_time ();
  CheckResult *result;
  guint removed = 0;
  guint total;

  cas = load_store (data->path, &reason, &error);
  if (cas == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }
  if (g_task_return_error_if_cancelled (task))
    return;

  result = g_new0 (CheckResult, 1);
  total = g_hash_table_size (cas);
  if (reason != NULL)
    {
      summary = g_strdup_printf (_("Could not read the certificates this computer trusts: %s"),
                                 reason);
      g_ptr_array_add (findings, moat_finding_new_inconclusive (DETECTOR, SUBJECT, summary));
    }
  else if (data->baseline == NULL)
    {
      summary = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                              "Recorded the %u certificate authority this computer trusts.",
                                              "Recorded the %u certificate authorities this computer trusts.",
                                              total), total);
      g_ptr_array_add (findings, moat_finding_new_clean (DETECTOR, SUBJECT, summary));
      result->snapshot = sorted_keys (cas);
    }
  else
    {
      g_autoptr(GHashTable) old = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
      GStrv snapshot = sorted_keys (cas);
      GHashTableIter iter;
      gpointer key;
      guint added = 0;

      for (guint i = 0; data->baseline[i] != NULL; i++)
        g_hash_table_add (old, g_ascii_strdown (data->baseline[i], -1));
      for (guint i = 0; snapshot[i] != NULL; i++)
        {
          if (g_hash_table_contains (old, snapshot[i]))
            continue;
          if (added++ < MAX_FINDINGS)
            g_ptr_array_add (findings, new_ca_finding (snapshot[i],
                                                       g_hash_table_lookup (cas, snapshot[i]),
                                                       data->path));
        }
      if (added > MAX_FINDINGS)
        g_warning ("%u new CAs in the trust store; reporting the first %u", added, MAX_FINDINGS);
      g_hash_table_iter_init (&iter, old);
      while (g_hash_table_iter_next (&iter, &key, NULL))
        if (!g_hash_table_contains (cas, key))
          removed++;
      if (added == 0)
        {
          MoatFinding *finding;

          summary = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                  "No certificate authority was added to the %u this computer trusts.",
                                                  "No certificate authority was added to the %u this computer trusts.",
                                                  total), total);
          finding = moat_finding_new_clean (DETECTOR, SUBJECT, summary);
          finding->evidence = g_strdup_printf ("{\"total\":%u,\"removed\":%u}", total, removed);
          g_ptr_array_add (findings, finding);
        }
      result->snapshot = snapshot;
    }
  result->findings = g_steal_pointer (&findings);
  for (guint i = 0; i < result->findings->len; i++)
    ((MoatFinding *) g_ptr_array_index (result->findings, i))->duration_us = g_get_monotonic_time () - start;
  g_task_return_pointer (task, result, (GDestroyNotify) check_result_free);
}

/**
 * moat_trust_store_snapshot_sync:
 * @path: (nullable): a PEM bundle file or a directory of PEM files, or %NULL
 *   for the system trust store
 * @error: %MOAT_ERROR_INVALID_ARGUMENT when @path does not exist,
 *   %MOAT_ERROR_FAILED when the store cannot be read or is empty
 *
 * Reads the store. Blocks: never call it on a main loop.
 *
 * Returns: (transfer full) (nullable): the sorted lower-case hex SHA-256
 *   fingerprints of the CA certificates
 */
GStrv
moat_trust_store_snapshot_sync (const char    *path,
                                GCancellable  *cancellable,
                                GError       **error)
{
  g_autoptr(GHashTable) cas = NULL;
  g_autofree char *reason = NULL;

  cas = load_store (path, &reason, error);
  if (cas == NULL || g_cancellable_set_error_if_cancelled (cancellable, error))
    return NULL;
  if (reason != NULL)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_FAILED,
                   "Cannot read the trust store: %s", reason);
      return NULL;
    }
  return sorted_keys (cas);
}

/**
 * moat_trust_store_check_async:
 * @path: (nullable): as for moat_trust_store_snapshot_sync()
 * @baseline: (nullable) (array zero-terminated=1): the snapshot of the last
 *   check, or %NULL on the first run
 *
 * Compares the store with @baseline on a worker thread.
 */
void
moat_trust_store_check_async (const char          *path,
                              const char * const  *baseline,
                              GCancellable        *cancellable,
                              GAsyncReadyCallback  callback,
                              gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  CheckData *data;

  g_return_if_fail (cancellable == NULL || G_IS_CANCELLABLE (cancellable));

  task = g_task_new (NULL, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_trust_store_check_async);
  data = g_new0 (CheckData, 1);
  data->path = g_strdup (path);
  data->baseline = g_strdupv ((char **) baseline);
  g_task_set_task_data (task, data, (GDestroyNotify) check_data_free);
  g_task_run_in_thread (task, check_thread);
}

/**
 * moat_trust_store_check_finish:
 * @snapshot: (out) (optional) (transfer full): the store's snapshot now, or
 *   %NULL when it could not be read (keep the old baseline then)
 * @error: %MOAT_ERROR_INVALID_ARGUMENT when the path does not exist,
 *   %G_IO_ERROR_CANCELLED when cancelled
 *
 * Returns: (transfer container) (element-type MoatFinding): the findings
 */
GPtrArray *
moat_trust_store_check_finish (GAsyncResult  *result,
                               GStrv         *snapshot,
                               GError       **error)
{
  CheckResult *check;
  GPtrArray *findings;

  g_return_val_if_fail (g_task_is_valid (result, NULL), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == moat_trust_store_check_async,
                        NULL);

  if (snapshot != NULL)
    *snapshot = NULL;
  check = g_task_propagate_pointer (G_TASK (result), error);
  if (check == NULL)
    return NULL;
  findings = g_steal_pointer (&check->findings);
  if (snapshot != NULL)
    *snapshot = g_steal_pointer (&check->snapshot);
  check_result_free (check);
  return findings;
}
