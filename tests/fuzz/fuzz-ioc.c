/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * STIX 2.1 indicator bundles (moatctl ioc import, files dropped in by a
 * user): the input as a bundle, and as one indicator's pattern in a bundle
 * around it. A refused bundle leaves the set as it was; an accepted one
 * loads again to the same counts, each domain and address it gives matches
 * itself, and the phone check gives one finding with JSON evidence.
 */
#include "config.h"

#include <gio/gio.h>
#include <json-glib/json-glib.h>
#include <stdint.h>
#include <string.h>

#include "moat-android-apps.h"
#include "moat-error.h"
#include "moat-ioc.h"

int LLVMFuzzerTestOneInput (const uint8_t *data, size_t size);

static void
check_bundle (GBytes *bytes)
{
  g_autoptr(MoatIocSet) set = moat_ioc_set_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_auto(GStrv) domains = NULL;
  g_auto(GStrv) addresses = NULL;
  const MoatPostureFinding *f;
  guint counts[MOAT_IOC_KIND_LAST];
  guint distinct = 0;
  const MoatIocSource *source;

  if (!moat_ioc_set_load_bytes (set, bytes, "fuzz", &error))
    {
      g_assert_nonnull (error);
      g_assert_true (error->domain == MOAT_ERROR);
      g_assert_true (g_str_has_prefix (error->message, "fuzz: "));
      g_assert_true (moat_ioc_set_is_empty (set));
      g_assert_cmpuint (moat_ioc_set_get_sources (set)->len, ==, 0);
      return;
    }
  g_assert_no_error (error);
  g_assert_cmpuint (moat_ioc_set_get_sources (set)->len, ==, 1);
  source = g_ptr_array_index (moat_ioc_set_get_sources (set), 0);
  for (guint k = 0; k < MOAT_IOC_KIND_LAST; k++)
    {
      counts[k] = moat_ioc_set_get_count (set, k);
      g_assert_cmpuint (counts[k], <=, source->counts[k]);
      distinct += counts[k];
    }
  g_assert_cmpuint (distinct, <=, source->n_indicators);
  g_assert_true (moat_ioc_set_is_empty (set) == (distinct == 0));

  /* The same bundle again replaces itself. */
  g_assert_true (moat_ioc_set_load_bytes (set, bytes, "fuzz", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (moat_ioc_set_get_sources (set)->len, ==, 1);
  for (guint k = 0; k < MOAT_IOC_KIND_LAST; k++)
    g_assert_cmpuint (moat_ioc_set_get_count (set, k), ==, counts[k]);

  domains = moat_ioc_set_get_domains (set);
  g_assert_cmpuint (g_strv_length (domains), ==, counts[MOAT_IOC_KIND_DOMAIN]);
  for (guint i = 0; domains[i] != NULL; i++)
    {
      g_autoptr(GPtrArray) m = moat_ioc_set_match_domain (set, domains[i]);

      g_assert_cmpuint (m->len, >, 0);
      g_assert_cmpstr (((MoatIocIndicator *) g_ptr_array_index (m, 0))->value, ==, domains[i]);
      if (i > 0)
        g_assert_cmpint (strcmp (domains[i - 1], domains[i]), <, 0);
    }

  addresses = moat_ioc_set_get_addresses (set);
  g_assert_cmpuint (g_strv_length (addresses), ==, counts[MOAT_IOC_KIND_IP]);
  for (guint i = 0; addresses[i] != NULL; i++)
    {
      g_autoptr(GPtrArray) m = moat_ioc_set_match_domain (set, addresses[i]);

      g_assert_cmpuint (m->len, >, 0);
      g_assert_cmpstr (((MoatIocIndicator *) g_ptr_array_index (m, 0))->value, ==, addresses[i]);
    }

  /* A phone with the fixtures' apps. */
  {
    static const char *const names[] = { "com.spy.mobile", "com.example.stalkerware", "x" };
    g_autoptr(GPtrArray) packages = g_ptr_array_new_with_free_func ((GDestroyNotify)
                                                                   moat_android_package_free);

    for (guint i = 0; i < G_N_ELEMENTS (names); i++)
      {
        MoatAndroidPackage *p = g_new0 (MoatAndroidPackage, 1);

        p->name = g_strdup (names[i]);
        p->uid = -1;
        g_ptr_array_add (packages, p);
      }
    findings = moat_android_check_iocs (set, packages);
  }
  g_assert_cmpuint (findings->len, ==, 1);
  f = g_ptr_array_index (findings, 0);
  g_assert_cmpstr (f->check, ==, "ioc");
  g_assert_true (json_parser_load_from_data (parser, f->evidence, -1, NULL));
}

int
LLVMFuzzerTestOneInput (const uint8_t *data, size_t size)
{
  g_autoptr(GBytes) bytes = g_bytes_new (data, size);

  check_bundle (bytes);

  /* The input as a pattern: straight at the pattern scanner. */
  if (size < 4096 && memchr (data, '\0', size) == NULL &&
      g_utf8_validate ((const char *) data, size, NULL))
    {
      g_autofree char *pattern = g_strndup ((const char *) data, size);
      g_autoptr(JsonNode) node = json_node_new (JSON_NODE_VALUE);
      g_autofree char *quoted = NULL;
      g_autofree char *json = NULL;
      g_autoptr(GBytes) wrapped = NULL;

      json_node_set_string (node, pattern);
      quoted = json_to_string (node, FALSE);
      json = g_strdup_printf ("{\"type\": \"bundle\", \"objects\": ["
                              "{\"type\": \"malware\", \"id\": \"malware--m\", \"name\": \"M\"}, "
                              "{\"type\": \"indicator\", \"id\": \"indicator--i\", "
                              "\"pattern\": %s}, {\"type\": \"relationship\", "
                              "\"source_ref\": \"indicator--i\", \"target_ref\": \"malware--m\"}]}",
                              quoted);
      wrapped = g_bytes_new (json, strlen (json));
      check_bundle (wrapped);
    }
  return 0;
}
