/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#include "config.h"

#include "moat-android-apps.h"
#include "moat-error.h"
#include "moat-ioc.h"

#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* STIX 2.1 bundles as MVT reads them, from tests/fixtures/ioc/. */

typedef struct {
  MoatIocSet *set;   /* spymobile.stix2 loaded */
} Fixture;

static char *
fixture_path (const char *name)
{
  return g_build_filename (g_getenv ("MOAT_SOURCE_ROOT"), "tests", "fixtures", "ioc", name, NULL);
}

static GBytes *
fixture_bytes (const char *name)
{
  g_autofree char *path = fixture_path (name);
  g_autoptr(GError) error = NULL;
  char *contents = NULL;
  gsize len = 0;

  g_file_get_contents (path, &contents, &len, &error);
  g_assert_no_error (error);
  return g_bytes_new_take (contents, len);
}

static void
fixture_set_up (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GBytes) bytes = fixture_bytes ("spymobile.stix2");
  g_autoptr(GError) error = NULL;

  fixture->set = moat_ioc_set_new ();
  g_assert_true (moat_ioc_set_load_bytes (fixture->set, bytes, "spymobile.stix2", &error));
  g_assert_no_error (error);
}

static void
fixture_tear_down (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_clear_object (&fixture->set);
}

static gboolean
load_string (MoatIocSet  *set,
             const char  *json,
             const char  *name,
             GError     **error)
{
  g_autoptr(GBytes) bytes = g_bytes_new (json, strlen (json));

  return moat_ioc_set_load_bytes (set, bytes, name, error);
}

/* A bundle of one malware "M" and one indicator per pattern. */
static char *
bundle_of (const char * const *patterns)
{
  g_autoptr(GString) s = g_string_new ("{\"type\": \"bundle\", \"objects\": ["
                                       "{\"type\": \"malware\", \"id\": \"malware--m\", "
                                       "\"name\": \"M\"}");

  for (guint i = 0; patterns[i] != NULL; i++)
    {
      g_autoptr(JsonNode) node = json_node_new (JSON_NODE_VALUE);
      g_autofree char *quoted = NULL;

      json_node_set_string (node, patterns[i]);
      quoted = json_to_string (node, FALSE);
      g_string_append_printf (s, ", {\"type\": \"indicator\", \"id\": \"indicator--%u\", "
                              "\"pattern\": %s}, {\"type\": \"relationship\", "
                              "\"relationship_type\": \"indicates\", \"source_ref\": "
                              "\"indicator--%u\", \"target_ref\": \"malware--m\"}",
                              i, quoted, i);
    }
  g_string_append (s, "]}");
  return g_string_free (g_steal_pointer (&s), FALSE);
}

static guint
total (MoatIocSet *set)
{
  guint n = 0;

  for (guint k = 0; k < MOAT_IOC_KIND_LAST; k++)
    n += moat_ioc_set_get_count (set, k);
  return n;
}

static void
test_parse (Fixture       *fixture,
            gconstpointer  user_data)
{
  GPtrArray *sources = moat_ioc_set_get_sources (fixture->set);
  const MoatIocSource *source;
  static const guint expected[MOAT_IOC_KIND_LAST] = {
    [MOAT_IOC_KIND_APP_ID] = 2,
    [MOAT_IOC_KIND_APP_CERT] = 1,
    [MOAT_IOC_KIND_DOMAIN] = 6,
    [MOAT_IOC_KIND_IP] = 1,
    [MOAT_IOC_KIND_URL] = 1,
    [MOAT_IOC_KIND_EMAIL] = 1,
    [MOAT_IOC_KIND_PROCESS] = 1,
    [MOAT_IOC_KIND_FILE_NAME] = 1,
    [MOAT_IOC_KIND_FILE_PATH] = 1,
    [MOAT_IOC_KIND_FILE_HASH] = 1,
    [MOAT_IOC_KIND_ANDROID_PROPERTY] = 1,
    [MOAT_IOC_KIND_IOS_PROFILE] = 0,
  };

  for (guint k = 0; k < MOAT_IOC_KIND_LAST; k++)
    {
      g_test_message ("kind %s", moat_ioc_kind_to_string (k));
      g_assert_cmpuint (moat_ioc_set_get_count (fixture->set, k), ==, expected[k]);
    }
  g_assert_false (moat_ioc_set_is_empty (fixture->set));
  /* mutex:name and the YARA rule */
  g_assert_cmpuint (moat_ioc_set_get_n_skipped (fixture->set), ==, 2);

  g_assert_cmpuint (sources->len, ==, 1);
  source = g_ptr_array_index (sources, 0);
  g_assert_cmpstr (source->name, ==, "spymobile.stix2");
  g_assert_cmpuint (g_strv_length (source->malware), ==, 2);
  g_assert_cmpstr (source->malware[0], ==, "SpyMobile");
  g_assert_cmpstr (source->malware[1], ==, "Operation Example");
  g_assert_cmpuint (source->n_indicators, ==, 17);
  g_assert_cmpuint (source->n_skipped, ==, 2);
  g_assert_cmpuint (source->counts[MOAT_IOC_KIND_DOMAIN], ==, 6);
  g_assert_cmpuint (source->counts[MOAT_IOC_KIND_APP_ID], ==, 2);

  g_assert_cmpstr (moat_ioc_kind_to_string (MOAT_IOC_KIND_APP_CERT), ==, "app-cert");
  g_assert_cmpstr (moat_ioc_kind_to_string (MOAT_IOC_KIND_IOS_PROFILE), ==, "ios-profile");
}

static void
test_normalise (Fixture       *fixture,
                gconstpointer  user_data)
{
  g_autoptr(GPtrArray) m = NULL;
  const MoatIocIndicator *ind;

  /* Upload.Spy-C2.Example. */
  m = moat_ioc_set_match_domain (fixture->set, "upload.spy-c2.example");
  g_assert_cmpuint (m->len, ==, 2);
  ind = g_ptr_array_index (m, 0);
  g_assert_cmpstr (ind->value, ==, "upload.spy-c2.example");
  g_assert_cmpint (ind->kind, ==, MOAT_IOC_KIND_DOMAIN);
  g_assert_cmpstr (ind->malware, ==, "SpyMobile");
  g_assert_cmpstr (ind->source, ==, "spymobile.stix2");
  g_clear_pointer (&m, g_ptr_array_unref);

  /* The certificate hash was upper case with colons. */
  m = moat_ioc_set_match_package (fixture->set, "org.unrelated",
                                  "5a7f3e1c9b2d4f6a8e0c1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a");
  g_assert_cmpuint (m->len, ==, 1);
  ind = g_ptr_array_index (m, 0);
  g_assert_cmpint (ind->kind, ==, MOAT_IOC_KIND_APP_CERT);
  g_assert_cmpstr (ind->value, ==,
                   "5a7f3e1c9b2d4f6a8e0c1b3d5f7a9c2e4b6d8f0a1c3e5b7d9f2a4c6e8b0d1f3a");
  g_clear_pointer (&m, g_ptr_array_unref);

  /* IDNs stay as given, but ASCII case folds; hashes without colons. */
  {
    const char *patterns[] = {
      "[domain-name:value = 'Bücher.EXAMPLE.']",
      "[app:cert.sha1 = 'DA:06:11:A3:00:A9:CE:9A:A7:A0:9D:12:12:F2:03:FC:A5:85:67:94']",
      "[app:cert.sha256 = 'not-a-hash']",
      "[domain-name:value = 'two..dots.example']",
      "[domain-name:value = '  ']",
      "[app:id = 'Com.Mixed.Case']",
      "[domain-name:value = 'a.b..']",
      /* an address as a domain is an address */
      "[domain-name:value = '203.0.113.9.']",
      NULL
    };
    g_autofree char *json = bundle_of (patterns);
    g_autoptr(MoatIocSet) set = moat_ioc_set_new ();
    g_autoptr(GError) error = NULL;
    g_auto(GStrv) domains = NULL;

    g_assert_true (load_string (set, json, "normalise", &error));
    g_assert_no_error (error);
    domains = moat_ioc_set_get_domains (set);
    g_assert_cmpuint (g_strv_length (domains), ==, 1);
    g_assert_cmpstr (domains[0], ==, "bücher.example");
    g_assert_cmpuint (moat_ioc_set_get_count (set, MOAT_IOC_KIND_APP_CERT), ==, 1);
    g_assert_cmpuint (moat_ioc_set_get_n_skipped (set), ==, 4);
    g_assert_cmpuint (moat_ioc_set_get_count (set, MOAT_IOC_KIND_IP), ==, 1);
    m = moat_ioc_set_match_domain (set, "203.0.113.9.");
    g_assert_cmpuint (m->len, ==, 1);
    g_assert_cmpstr (((MoatIocIndicator *) g_ptr_array_index (m, 0))->value, ==, "203.0.113.9");
    g_assert_cmpint (((MoatIocIndicator *) g_ptr_array_index (m, 0))->kind, ==, MOAT_IOC_KIND_IP);
    g_clear_pointer (&m, g_ptr_array_unref);
    m = moat_ioc_set_match_package (set, "x", "da0611a300a9ce9aa7a09d1212f203fca5856794");
    g_assert_cmpuint (m->len, ==, 1);
    g_clear_pointer (&m, g_ptr_array_unref);
    /* Package names are exact. */
    m = moat_ioc_set_match_package (set, "com.mixed.case", NULL);
    g_assert_cmpuint (m->len, ==, 0);
    g_clear_pointer (&m, g_ptr_array_unref);
    m = moat_ioc_set_match_package (set, "Com.Mixed.Case", NULL);
    g_assert_cmpuint (m->len, ==, 1);
  }
}

static void
test_match_package (Fixture       *fixture,
                    gconstpointer  user_data)
{
  g_autoptr(GPtrArray) m = moat_ioc_set_match_package (fixture->set, "com.spy.mobile", NULL);
  const MoatIocIndicator *ind;

  g_assert_cmpuint (m->len, ==, 1);
  ind = g_ptr_array_index (m, 0);
  g_assert_cmpint (ind->kind, ==, MOAT_IOC_KIND_APP_ID);
  g_assert_cmpstr (ind->value, ==, "com.spy.mobile");
  g_assert_cmpstr (ind->malware, ==, "SpyMobile");
  g_assert_cmpstr (ind->source, ==, "spymobile.stix2");
  g_clear_pointer (&m, g_ptr_array_unref);

  /* Name and certificate both: two indicators, the name's first. */
  m = moat_ioc_set_match_package (fixture->set, "com.spy.mobile",
                                  "5A:7F:3E:1C:9B:2D:4F:6A:8E:0C:1B:3D:5F:7A:9C:2E:"
                                  "4B:6D:8F:0A:1C:3E:5B:7D:9F:2A:4C:6E:8B:0D:1F:3A");
  g_assert_cmpuint (m->len, ==, 2);
  g_assert_cmpint (((MoatIocIndicator *) g_ptr_array_index (m, 0))->kind, ==,
                   MOAT_IOC_KIND_APP_ID);
  g_assert_cmpint (((MoatIocIndicator *) g_ptr_array_index (m, 1))->kind, ==,
                   MOAT_IOC_KIND_APP_CERT);
  g_clear_pointer (&m, g_ptr_array_unref);

  m = moat_ioc_set_match_package (fixture->set, "com.example.stalkerware", "garbage");
  g_assert_cmpuint (m->len, ==, 1);
  g_clear_pointer (&m, g_ptr_array_unref);

  /* Neither a prefix, nor case, nor another kind's value matches. */
  m = moat_ioc_set_match_package (fixture->set, "com.spy", NULL);
  g_assert_cmpuint (m->len, ==, 0);
  g_clear_pointer (&m, g_ptr_array_unref);
  m = moat_ioc_set_match_package (fixture->set, "COM.SPY.MOBILE", NULL);
  g_assert_cmpuint (m->len, ==, 0);
  g_clear_pointer (&m, g_ptr_array_unref);
  m = moat_ioc_set_match_package (fixture->set, "spyd", NULL);
  g_assert_cmpuint (m->len, ==, 0);
}

static guint
n_domain_matches (MoatIocSet *set,
                  const char *host)
{
  g_autoptr(GPtrArray) m = moat_ioc_set_match_domain (set, host);

  return m->len;
}

static void
test_match_domain (Fixture       *fixture,
                   gconstpointer  user_data)
{
  g_autoptr(GPtrArray) m = NULL;
  const MoatIocIndicator *ind;

  g_assert_cmpuint (n_domain_matches (fixture->set, "spy-c2.example"), ==, 1);
  g_assert_cmpuint (n_domain_matches (fixture->set, "SPY-C2.Example."), ==, 1);
  g_assert_cmpuint (n_domain_matches (fixture->set, "a.b.spy-c2.example"), ==, 1);
  g_assert_cmpuint (n_domain_matches (fixture->set, "spy-backup.example"), ==, 1);
  g_assert_cmpuint (n_domain_matches (fixture->set, "spy-cdn.example"), ==, 1);
  /* Not a parent: a different name that ends the same. */
  g_assert_cmpuint (n_domain_matches (fixture->set, "notspy-c2.example"), ==, 0);
  g_assert_cmpuint (n_domain_matches (fixture->set, "example"), ==, 0);
  g_assert_cmpuint (n_domain_matches (fixture->set, "spy-c2.example.org"), ==, 0);
  g_assert_cmpuint (n_domain_matches (fixture->set, ""), ==, 0);
  g_assert_cmpuint (n_domain_matches (fixture->set, "."), ==, 0);
  /* Addresses match exactly. */
  g_assert_cmpuint (n_domain_matches (fixture->set, "198.51.100.7"), ==, 1);
  g_assert_cmpuint (n_domain_matches (fixture->set, "198.51.100.8"), ==, 0);
  g_assert_cmpuint (n_domain_matches (fixture->set, "[::1]"), ==, 0);

  /* Nearest first, each with its own malware. */
  m = moat_ioc_set_match_domain (fixture->set, "x.upload.spy-c2.example");
  g_assert_cmpuint (m->len, ==, 2);
  ind = g_ptr_array_index (m, 0);
  g_assert_cmpstr (ind->value, ==, "upload.spy-c2.example");
  ind = g_ptr_array_index (m, 1);
  g_assert_cmpstr (ind->value, ==, "spy-c2.example");
  g_clear_pointer (&m, g_ptr_array_unref);

  m = moat_ioc_set_match_domain (fixture->set, "loose.example");
  g_assert_cmpuint (m->len, ==, 1);
  g_assert_null (((MoatIocIndicator *) g_ptr_array_index (m, 0))->malware);
  g_clear_pointer (&m, g_ptr_array_unref);
  m = moat_ioc_set_match_domain (fixture->set, "report-only.example");
  g_assert_cmpuint (m->len, ==, 1);
  g_assert_cmpstr (((MoatIocIndicator *) g_ptr_array_index (m, 0))->malware, ==,
                   "Operation Example");
}

static void
test_domains (Fixture       *fixture,
              gconstpointer  user_data)
{
  g_auto(GStrv) domains = moat_ioc_set_get_domains (fixture->set);
  const char *expected[] = {
    "loose.example", "report-only.example", "spy-backup.example", "spy-c2.example",
    "spy-cdn.example", "upload.spy-c2.example", NULL
  };
  g_auto(GStrv) addresses = moat_ioc_set_get_addresses (fixture->set);
  const char *expected_addresses[] = { "198.51.100.7", NULL };

  g_assert_cmpstrv (domains, expected);
  g_assert_cmpstrv (addresses, expected_addresses);
}

static void
test_patterns (void)
{
  const char *patterns[] = {
    /* each comparison of an OR/AND, in brackets and parentheses */
    "([app:id = 'a.one'] OR [app:id = 'a.two']) AND [app:id = 'a.three' AND file:name = 'x']",
    /* escaped quotes and backslashes */
    "[process:name = 'it\\'s \\\\ here']",
    /* the STIX spelling of a hash key, and MVT's */
    "[file:hashes.'SHA-1' = 'DA0611A300A9CE9AA7A09D1212F203FCA5856794']",
    "[file:hashes.md5 = 'd41d8cd98f00b204e9800998ecf8427e']",
    /* not an equality: skipped */
    "[domain-name:value != 'not.example']",
    "[domain-name:value LIKE '%.example']",
    "[domain-name:value NOT = 'neither.example']",
    "[domain-name:value IN ('in1.example', 'in2.example')]",
    "[domain-name:value MATCHES '^x\\.example$']",
    /* literals, list indexes and qualifiers are STIX, not errors */
    "[file:extensions.'windows-pebinary-ext'.sections[*].name = '.spy'] "
    "WITHIN 300 SECONDS",
    "[file:created > t'2026-01-01T00:00:00Z' AND file:name = 'y'] REPEATS 2 TIMES",
    "[ipv6-addr:value = '2001:DB8::1']",
    "[configuration-profile:id = '76DAB334-7E17-475D-A5D6-0794EB5818A5']",
    NULL
  };
  g_autofree char *json = bundle_of (patterns);
  g_autoptr(MoatIocSet) set = moat_ioc_set_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) m = NULL;

  g_assert_true (load_string (set, json, "patterns", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (moat_ioc_set_get_count (set, MOAT_IOC_KIND_APP_ID), ==, 3);
  g_assert_cmpuint (moat_ioc_set_get_count (set, MOAT_IOC_KIND_FILE_NAME), ==, 2);
  g_assert_cmpuint (moat_ioc_set_get_count (set, MOAT_IOC_KIND_PROCESS), ==, 1);
  g_assert_cmpuint (moat_ioc_set_get_count (set, MOAT_IOC_KIND_FILE_HASH), ==, 2);
  g_assert_cmpuint (moat_ioc_set_get_count (set, MOAT_IOC_KIND_DOMAIN), ==, 0);
  g_assert_cmpuint (moat_ioc_set_get_count (set, MOAT_IOC_KIND_IP), ==, 1);
  g_assert_cmpuint (moat_ioc_set_get_count (set, MOAT_IOC_KIND_IOS_PROFILE), ==, 1);
  /* !=, LIKE, NOT =, IN, MATCHES, the pebinary section name, the > */
  g_assert_cmpuint (moat_ioc_set_get_n_skipped (set), ==, 7);
  m = moat_ioc_set_match_package (set, "a.two", NULL);
  g_assert_cmpuint (m->len, ==, 1);
  g_clear_pointer (&m, g_ptr_array_unref);
  m = moat_ioc_set_match_domain (set, "2001:db8:0:0::1");
  g_assert_cmpuint (m->len, ==, 1);
  g_assert_cmpstr (((MoatIocIndicator *) g_ptr_array_index (m, 0))->value, ==, "2001:db8::1");
}

static void
assert_refused (MoatIocSet *set,
                GBytes     *bytes,
                int         code,
                const char *message_part)
{
  g_autoptr(GError) error = NULL;
  guint before = total (set);
  guint sources = moat_ioc_set_get_sources (set)->len;

  g_assert_false (moat_ioc_set_load_bytes (set, bytes, "broken", &error));
  g_assert_error (error, MOAT_ERROR, code);
  g_test_message ("%s", error->message);
  g_assert_nonnull (strstr (error->message, message_part));
  g_assert_true (g_str_has_prefix (error->message, "broken: "));
  /* Nothing of it was added. */
  g_assert_cmpuint (total (set), ==, before);
  g_assert_cmpuint (moat_ioc_set_get_sources (set)->len, ==, sources);
}

static void
assert_file_refused (MoatIocSet *set,
                     const char *name,
                     int         code,
                     const char *message_part)
{
  g_autoptr(GBytes) bytes = fixture_bytes (name);

  assert_refused (set, bytes, code, message_part);
}

static void
assert_string_refused (MoatIocSet *set,
                       const char *json,
                       int         code,
                       const char *message_part)
{
  g_autoptr(GBytes) bytes = g_bytes_new (json, strlen (json));

  assert_refused (set, bytes, code, message_part);
}

static void
test_broken (Fixture       *fixture,
             gconstpointer  user_data)
{
  MoatIocSet *set = fixture->set;
  g_autoptr(GPtrArray) m = NULL;

  assert_file_refused (set, "not-json.stix2", MOAT_ERROR_INVALID_ARGUMENT, "not JSON");
  assert_file_refused (set, "wrong-type.stix2", MOAT_ERROR_INVALID_ARGUMENT,
                       "its type is not “bundle”");
  assert_file_refused (set, "objects-not-array.stix2", MOAT_ERROR_INVALID_ARGUMENT,
                       "“objects” is not an array");
  assert_file_refused (set, "bad-object.stix2", MOAT_ERROR_INVALID_ARGUMENT,
                       "objects[2].pattern is not a string");
  assert_file_refused (set, "unterminated.stix2", MOAT_ERROR_INVALID_ARGUMENT,
                       "indicator--00000000-0000-4000-8000-000000000002: pattern: the string "
                       "at offset 10 is not closed");
  assert_file_refused (set, "huge-string.stix2", MOAT_ERROR_LIMIT_EXCEEDED,
                       "objects[0].name is longer than 4096 bytes");
  assert_file_refused (set, "deep.stix2", MOAT_ERROR_LIMIT_EXCEEDED, "nested deeper than 64");

  assert_string_refused (set, "", MOAT_ERROR_INVALID_ARGUMENT, "not JSON");
  assert_string_refused (set, "[1, 2]", MOAT_ERROR_INVALID_ARGUMENT, "not a JSON object");
  assert_string_refused (set, "{\"type\": {}}", MOAT_ERROR_INVALID_ARGUMENT,
                         "its type is not “bundle”");
  assert_string_refused (set, "{\"type\": [\"bundle\"]}", MOAT_ERROR_INVALID_ARGUMENT,
                         "its type is not “bundle”");
  assert_string_refused (set, "{\"type\": \"bundle\", \"objects\": [1]}",
                         MOAT_ERROR_INVALID_ARGUMENT, "objects[0] is not a JSON object");
  assert_string_refused (set, "{\"type\": \"bundle\", \"objects\": [{\"id\": \"x\"}]}",
                         MOAT_ERROR_INVALID_ARGUMENT, "objects[0] has no “type”");
  assert_string_refused (set, "{\"type\": \"bundle\", \"objects\": [{\"type\": "
                         "\"relationship\", \"source_ref\": \"a\"}]}",
                         MOAT_ERROR_INVALID_ARGUMENT, "objects[0] has no “target_ref”");
  assert_string_refused (set, "{\"type\": \"bundle\", \"objects\": [{\"type\": \"report\", "
                         "\"name\": \"r\", \"object_refs\": [\"a\", 3]}]}",
                         MOAT_ERROR_INVALID_ARGUMENT, "objects[0].object_refs[1] is not a string");
  assert_string_refused (set, "{\"type\": \"bundle\", \"objects\": [{\"type\": \"indicator\", "
                         "\"pattern\": \"[app:id = 'x'] ]\"}]}",
                         MOAT_ERROR_INVALID_ARGUMENT, "unbalanced “]”");
  assert_string_refused (set, "{\"type\": \"bundle\", \"objects\": [{\"type\": \"indicator\", "
                         "\"pattern\": \"[app:id = \\\"x\\\"]\"}]}",
                         MOAT_ERROR_INVALID_ARGUMENT, "unexpected “\"”");
  {
    static const char bad_utf8[] = "{\"type\": \"bundle\", \"objects\": [], \"x\": \"\xff\"}";

    assert_string_refused (set, bad_utf8, MOAT_ERROR_INVALID_ARGUMENT, "not UTF-8");
  }
  {
    static const char nul[] = "{\"type\": \"bundle\"}\0{}";
    g_autoptr(GBytes) bytes = g_bytes_new (nul, sizeof nul - 1);

    assert_refused (set, bytes, MOAT_ERROR_INVALID_ARGUMENT, "not UTF-8");
  }

  /* The set still works as before. */
  m = moat_ioc_set_match_package (set, "com.spy.mobile", NULL);
  g_assert_cmpuint (m->len, ==, 1);
  g_assert_cmpuint (total (set), ==, 17);
}

static void
test_limits (void)
{
  g_autoptr(MoatIocSet) set = moat_ioc_set_new ();
  g_autoptr(GError) error = NULL;

  /* Size, before anything is parsed. */
  {
    gsize len = MOAT_IOC_MAX_BUNDLE_SIZE + 1;
    g_autoptr(GBytes) bytes = g_bytes_new_take (g_malloc0 (len), len);

    assert_refused (set, bytes, MOAT_ERROR_LIMIT_EXCEEDED, "larger than 64 MiB");
  }
  /* A pattern too long, and one of too many comparisons. */
  {
    g_autoptr(GString) p = g_string_new ("[app:id = '");
    const char *patterns[] = { NULL, NULL };
    g_autofree char *json = NULL;

    while (p->len <= MOAT_IOC_MAX_PATTERN)
      g_string_append_c (p, 'a');
    g_string_append (p, "']");
    patterns[0] = p->str;
    json = bundle_of (patterns);
    assert_string_refused (set, json, MOAT_ERROR_LIMIT_EXCEEDED,
                           "objects[1].pattern is longer than 65536 bytes");

    g_string_assign (p, "[app:id = 'x'");
    for (guint i = 0; i < MOAT_IOC_MAX_COMPARISONS; i++)
      g_string_append (p, " OR app:id = 'x'");
    g_string_append (p, "]");
    patterns[0] = p->str;
    g_clear_pointer (&json, g_free);
    json = bundle_of (patterns);
    assert_string_refused (set, json, MOAT_ERROR_LIMIT_EXCEEDED, "more than 1024 comparisons");
  }
  /* Objects. */
  {
    g_autoptr(GString) s = g_string_new ("{\"type\": \"bundle\", \"objects\": [{}");

    for (guint i = 0; i < MOAT_IOC_MAX_OBJECTS; i++)
      g_string_append (s, ",{}");
    g_string_append (s, "]}");
    assert_string_refused (set, s->str, MOAT_ERROR_LIMIT_EXCEEDED, "more than 500000 objects");
  }
  /* Source names. */
  {
    g_autoptr(GBytes) bytes = g_bytes_new_static ("{\"type\": \"bundle\"}", 18);
    g_autofree char *long_name = g_strnfill (MOAT_IOC_MAX_SOURCE_NAME + 1, 'n');

    g_assert_false (moat_ioc_set_load_bytes (set, bytes, "", &error));
    g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_false (moat_ioc_set_load_bytes (set, bytes, long_name, &error));
    g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    g_assert_false (moat_ioc_set_load_bytes (set, bytes, "a\nb", &error));
    g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
    g_clear_error (&error);
    /* An empty bundle is a source of nothing. */
    g_assert_true (moat_ioc_set_load_bytes (set, bytes, "empty", &error));
    g_assert_no_error (error);
    g_assert_true (moat_ioc_set_is_empty (set));
    g_assert_cmpuint (moat_ioc_set_get_sources (set)->len, ==, 1);
  }
}

static void
test_sources (Fixture       *fixture,
              gconstpointer  user_data)
{
  const char *v1[] = { "[app:id = 'old.app']", "[domain-name:value = 'old.example']", NULL };
  const char *v2[] = { "[app:id = 'new.app']", NULL };
  g_autofree char *json1 = bundle_of (v1);
  g_autofree char *json2 = bundle_of (v2);
  g_autoptr(MoatIocSet) other = moat_ioc_set_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) m = NULL;

  g_assert_true (load_string (fixture->set, json1, "extra", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (total (fixture->set), ==, 19);
  g_assert_cmpuint (moat_ioc_set_get_sources (fixture->set)->len, ==, 2);

  /* The same name again replaces it. */
  g_assert_true (load_string (fixture->set, json2, "extra", &error));
  g_assert_no_error (error);
  g_assert_cmpuint (total (fixture->set), ==, 18);
  g_assert_cmpuint (moat_ioc_set_get_sources (fixture->set)->len, ==, 2);
  m = moat_ioc_set_match_package (fixture->set, "old.app", NULL);
  g_assert_cmpuint (m->len, ==, 0);
  g_clear_pointer (&m, g_ptr_array_unref);
  m = moat_ioc_set_match_package (fixture->set, "new.app", NULL);
  g_assert_cmpuint (m->len, ==, 1);
  g_assert_cmpstr (((MoatIocIndicator *) g_ptr_array_index (m, 0))->source, ==, "extra");

  /* A refused bundle of the same name leaves the old one. */
  assert_string_refused (fixture->set, "{", MOAT_ERROR_INVALID_ARGUMENT, "not JSON");
  g_assert_cmpuint (total (fixture->set), ==, 18);

  /* Matches stay valid after their source is gone. */
  g_assert_true (moat_ioc_set_remove_source (fixture->set, "extra"));
  g_assert_false (moat_ioc_set_remove_source (fixture->set, "extra"));
  g_assert_cmpuint (total (fixture->set), ==, 17);
  g_assert_cmpstr (((MoatIocIndicator *) g_ptr_array_index (m, 0))->value, ==, "new.app");
  g_clear_pointer (&m, g_ptr_array_unref);

  /* Merging: loaded elsewhere, added here, same-named ones replaced. */
  g_assert_true (load_string (other, json1, "extra", &error));
  g_assert_no_error (error);
  moat_ioc_set_merge (fixture->set, other);
  g_assert_cmpuint (total (fixture->set), ==, 19);
  moat_ioc_set_merge (fixture->set, other);
  g_assert_cmpuint (total (fixture->set), ==, 19);
  g_assert_cmpuint (moat_ioc_set_get_sources (fixture->set)->len, ==, 2);
  g_clear_object (&other);
  m = moat_ioc_set_match_domain (fixture->set, "www.old.example");
  g_assert_cmpuint (m->len, ==, 1);
  g_assert_cmpstr (((MoatIocIndicator *) g_ptr_array_index (m, 0))->malware, ==, "M");
}

static void
test_load_file (void)
{
  g_autoptr(MoatIocSet) set = moat_ioc_set_new ();
  g_autoptr(GError) error = NULL;
  g_autofree char *path = fixture_path ("spymobile.stix2");
  g_autofree char *missing_path = fixture_path ("missing.stix2");
  g_autofree char *broken_path = fixture_path ("bad-object.stix2");
  g_autoptr(GFile) file = g_file_new_for_path (path);
  g_autoptr(GFile) missing = g_file_new_for_path (missing_path);
  g_autoptr(GFile) broken = g_file_new_for_path (broken_path);
  const MoatIocSource *source;

  g_assert_true (moat_ioc_set_load_file (set, file, NULL, &error));
  g_assert_no_error (error);
  source = g_ptr_array_index (moat_ioc_set_get_sources (set), 0);
  g_assert_cmpstr (source->name, ==, "spymobile.stix2");
  g_assert_cmpuint (source->n_indicators, ==, 17);

  g_assert_false (moat_ioc_set_load_file (set, missing, NULL, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_NOT_FOUND);
  g_assert_true (g_str_has_prefix (error->message, "missing.stix2: "));
  g_clear_error (&error);

  g_assert_false (moat_ioc_set_load_file (set, broken, NULL, &error));
  g_assert_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT);
  g_assert_true (g_str_has_prefix (error->message, "bad-object.stix2: objects[2]"));
  g_assert_cmpuint (moat_ioc_set_get_sources (set)->len, ==, 1);
  g_clear_error (&error);

  /* A long file name is cut to 64 characters for the source's name. */
  {
    g_autofree char *dir = g_dir_make_tmp ("moat-ioc-XXXXXX", &error);
    g_autofree char *long_name = g_strnfill (100, 'n');
    g_autofree char *long_path = NULL;
    g_autofree char *contents = NULL;
    g_autoptr(GFile) long_file = NULL;
    gsize len = 0;

    g_assert_no_error (error);
    long_path = g_build_filename (dir, long_name, NULL);
    g_file_get_contents (path, &contents, &len, &error);
    g_assert_no_error (error);
    g_file_set_contents (long_path, contents, len, &error);
    g_assert_no_error (error);
    long_file = g_file_new_for_path (long_path);
    g_assert_true (moat_ioc_set_load_file (set, long_file, NULL, &error));
    g_assert_no_error (error);
    g_assert_cmpuint (moat_ioc_set_get_sources (set)->len, ==, 2);
    source = g_ptr_array_index (moat_ioc_set_get_sources (set), 1);
    g_assert_cmpuint (strlen (source->name), ==, 64);
    g_assert_true (g_str_has_prefix (long_name, source->name));
    g_assert_cmpint (g_unlink (long_path), ==, 0);
    g_assert_cmpint (g_rmdir (dir), ==, 0);
  }
}

/* The risky simulator profile's apps (tests/phone/profiles/risky.json). */
#define RISKY_PACKAGES \
  "package:/system/framework/framework-res.apk=android  installer=null uid:1000\n" \
  "package:/system/priv-app/Phonesky/Phonesky.apk=com.android.vending  installer=null uid:10140\n" \
  "package:/data/app/~~Xk2p0aZ9QeKqg==/com.spy.mobile-8dHq2mLw==/base.apk=com.spy.mobile  " \
  "installer=null uid:10231\n" \
  "package:/data/app/~~Pq8sT4uVw1==/com.example.stalkerware-Jm3nB5vC==/base.apk=" \
  "com.example.stalkerware  installer=com.google.android.packageinstaller uid:10232\n"

#define CLEAN_PACKAGES \
  "package:/system/framework/framework-res.apk=android  installer=null uid:1000\n" \
  "package:/data/app/~~Q2==/org.mozilla.firefox-1==/base.apk=org.mozilla.firefox  " \
  "installer=com.android.vending uid:10200\n"

static GPtrArray *
packages_of (const char *text)
{
  g_autoptr(GError) error = NULL;
  GPtrArray *packages = moat_android_parse_packages (text, strlen (text), &error);

  g_assert_no_error (error);
  return packages;
}

static JsonObject *
evidence_of (const MoatPostureFinding *f,
             JsonParser               *parser)
{
  g_autoptr(GError) error = NULL;

  g_assert_true (json_parser_load_from_data (parser, f->evidence, -1, &error));
  g_assert_no_error (error);
  return json_node_get_object (json_parser_get_root (parser));
}

static void
test_check_risky (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(GPtrArray) packages = packages_of (RISKY_PACKAGES);
  g_autoptr(GPtrArray) findings = moat_android_check_iocs (fixture->set, packages);
  g_autoptr(JsonParser) parser = json_parser_new ();
  const MoatPostureFinding *f;
  JsonObject *evidence, *match;
  JsonArray *matches;

  g_assert_cmpuint (findings->len, ==, 1);
  f = g_ptr_array_index (findings, 0);
  g_assert_cmpstr (f->check, ==, "ioc");
  g_assert_cmpint (f->result, ==, MOAT_POSTURE_THREAT);
  g_assert_cmpstr (f->threat, ==, "app.ioc_match");
  g_assert_true (moat_threat_id_is_valid (f->threat));
  g_assert_cmpint (f->severity, ==, MOAT_SEVERITY_CRITICAL);
  g_assert_cmpstr (f->summary, ==, "2 apps are known malicious apps: com.spy.mobile (SpyMobile), "
                   "com.example.stalkerware (SpyMobile).");
  g_assert_cmpstr (f->command, ==, "pm list packages -f -i -U");

  evidence = evidence_of (f, parser);
  g_assert_cmpint (json_object_get_int_member (evidence, "indicators"), ==, 3);
  g_assert_cmpint (json_object_get_int_member (evidence, "packages"), ==, 4);
  g_assert_cmpstr (json_array_get_string_element (json_object_get_array_member (evidence,
                                                                                "sources"), 0),
                   ==, "spymobile.stix2");
  matches = json_object_get_array_member (evidence, "matches");
  g_assert_cmpuint (json_array_get_length (matches), ==, 2);
  match = json_array_get_object_element (matches, 0);
  g_assert_cmpstr (json_object_get_string_member (match, "package"), ==, "com.spy.mobile");
  g_assert_cmpstr (json_object_get_string_member (match, "malware"), ==, "SpyMobile");
  g_assert_cmpstr (json_object_get_string_member (match, "source"), ==, "spymobile.stix2");
  g_assert_cmpstr (json_object_get_string_member (match, "kind"), ==, "app-id");
  g_assert_cmpstr (json_object_get_string_member (match, "indicator"), ==, "com.spy.mobile");
  match = json_array_get_object_element (matches, 1);
  g_assert_cmpstr (json_object_get_string_member (match, "package"), ==,
                   "com.example.stalkerware");

  /* One app: the singular. */
  g_ptr_array_remove_index (packages, 3);
  g_clear_pointer (&findings, g_ptr_array_unref);
  findings = moat_android_check_iocs (fixture->set, packages);
  f = g_ptr_array_index (findings, 0);
  g_assert_cmpstr (f->summary, ==, "1 app is a known malicious app: com.spy.mobile (SpyMobile).");
}

static void
test_check_clean (Fixture       *fixture,
                  gconstpointer  user_data)
{
  g_autoptr(GPtrArray) packages = packages_of (CLEAN_PACKAGES);
  g_autoptr(GPtrArray) findings = moat_android_check_iocs (fixture->set, packages);
  g_autoptr(JsonParser) parser = json_parser_new ();
  const MoatPostureFinding *f;
  JsonObject *evidence;

  g_assert_cmpuint (findings->len, ==, 1);
  f = g_ptr_array_index (findings, 0);
  g_assert_cmpstr (f->check, ==, "ioc");
  g_assert_cmpint (f->result, ==, MOAT_POSTURE_OK);
  g_assert_null (f->threat);
  g_assert_cmpint (f->severity, ==, MOAT_SEVERITY_INFO);
  g_assert_cmpstr (f->summary, ==, "No app is a known malicious app.");
  evidence = evidence_of (f, parser);
  g_assert_cmpint (json_object_get_int_member (evidence, "packages"), ==, 2);
  g_assert_cmpuint (json_array_get_length (json_object_get_array_member (evidence, "matches")),
                    ==, 0);

  /* The phone did not list its apps. */
  g_clear_pointer (&findings, g_ptr_array_unref);
  findings = moat_android_check_iocs (fixture->set, NULL);
  f = g_ptr_array_index (findings, 0);
  g_assert_cmpint (f->result, ==, MOAT_POSTURE_UNKNOWN);
  g_assert_cmpstr (f->summary, ==, "The phone did not list its apps.");
  evidence = evidence_of (f, parser);
  g_assert_true (json_object_get_null_member (evidence, "packages"));
}

static void
test_check_empty (void)
{
  g_autoptr(MoatIocSet) set = moat_ioc_set_new ();
  g_autoptr(GPtrArray) packages = packages_of (RISKY_PACKAGES);
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(JsonParser) parser = json_parser_new ();
  const char *domains_only[] = { "[domain-name:value = 'spy-c2.example']", NULL };
  g_autofree char *json = bundle_of (domains_only);
  g_autoptr(GError) error = NULL;
  const MoatPostureFinding *f;
  JsonObject *evidence;

  /* Nothing loaded, or no app indicator loaded: OK, and saying so, even
   * when the phone did not list its apps. */
  for (guint round = 0; round < 2; round++)
    {
      findings = moat_android_check_iocs (set, packages);
      f = g_ptr_array_index (findings, 0);
      g_assert_cmpint (f->result, ==, MOAT_POSTURE_OK);
      g_assert_cmpstr (f->summary, ==, "No indicators of malicious apps are loaded, so no app "
                       "was compared with any.");
      evidence = evidence_of (f, parser);
      g_assert_cmpint (json_object_get_int_member (evidence, "indicators"), ==, 0);
      g_clear_pointer (&findings, g_ptr_array_unref);

      findings = moat_android_check_iocs (set, NULL);
      f = g_ptr_array_index (findings, 0);
      g_assert_cmpint (f->result, ==, MOAT_POSTURE_OK);
      g_clear_pointer (&findings, g_ptr_array_unref);

      g_assert_true (load_string (set, json, "domains", &error));
      g_assert_no_error (error);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

#define ADD(path, func) \
  g_test_add (path, Fixture, NULL, fixture_set_up, func, fixture_tear_down)

  ADD ("/moat/ioc/parse", test_parse);
  ADD ("/moat/ioc/normalise", test_normalise);
  ADD ("/moat/ioc/match-package", test_match_package);
  ADD ("/moat/ioc/match-domain", test_match_domain);
  ADD ("/moat/ioc/domains", test_domains);
  g_test_add_func ("/moat/ioc/patterns", test_patterns);
  ADD ("/moat/ioc/broken", test_broken);
  g_test_add_func ("/moat/ioc/limits", test_limits);
  ADD ("/moat/ioc/sources", test_sources);
  g_test_add_func ("/moat/ioc/load-file", test_load_file);
  ADD ("/moat/ioc/check-risky", test_check_risky);
  ADD ("/moat/ioc/check-clean", test_check_clean);
  g_test_add_func ("/moat/ioc/check-empty", test_check_empty);

#undef ADD

  return g_test_run ();
}
