/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#include "config.h"

#include "moat-android-apps.h"
#include "moat-ios-fixture.h"
#include "moat-ios-plist.h"
#include "moat-ios-posture.h"
#ifdef MOAT_HAVE_LIBIMOBILEDEVICE
#include "moat-ios-libimobiledevice.h"
#endif

#include <gio/gunixsocketaddress.h>
#include <glib/gstdio.h>
#include <json-glib/json-glib.h>
#include <string.h>

/* The iPhone adapter on the recorded answers of tests/fixtures/ios/. */

#define HEAD "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n" \
  "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" " \
  "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n<plist version=\"1.0\">\n"
#define TAIL "\n</plist>\n"

typedef struct {
  char *tmp;   /* owned: a fresh directory per test */
} Fixture;

static void
fixture_set_up (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;

  f->tmp = g_dir_make_tmp ("moat-ios-XXXXXX", &error);
  g_assert_no_error (error);
}

static void
remove_tree (const char *path)
{
  g_autoptr(GDir) dir = g_dir_open (path, 0, NULL);
  const char *name;

  while (dir != NULL && (name = g_dir_read_name (dir)) != NULL)
    {
      g_autofree char *child = g_build_filename (path, name, NULL);

      if (g_file_test (child, G_FILE_TEST_IS_DIR))
        remove_tree (child);
      else
        g_unlink (child);
    }
  g_rmdir (path);
}

static void
fixture_tear_down (Fixture *f, gconstpointer data)
{
  remove_tree (f->tmp);
  g_free (f->tmp);
}

static char *
profile_dir (const char *profile)
{
  return g_build_filename (g_getenv ("MOAT_SOURCE_ROOT"), "tests", "fixtures", "ios", profile,
                           NULL);
}

static void
write_file (const char *dir, const char *name, const char *text)
{
  g_autofree char *path = g_build_filename (dir, name, NULL);
  g_autoptr(GError) error = NULL;

  g_file_set_contents (path, text, -1, &error);
  g_assert_no_error (error);
}

static GVariant *
parse (const char *text, GError **error)
{
  return moat_ios_plist_parse (text, strlen (text), error);
}

/* ---- plist ---- */

static void
test_plist_types (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) v = parse (HEAD
    "<dict>\n"
    "\t<key>a</key><string>x &amp; &lt;y&gt;</string>\n"
    "\t<key>b</key><integer>-42</integer>\n"
    "\t<key>c</key><integer>18446744073709551615</integer>\n"
    "\t<key>d</key><real>3.5</real>\n"
    "\t<key>e</key><true/>\n"
    "\t<key>f</key><false/>\n"
    "\t<key>g</key><data>\n\tAAEC\n\t</data>\n"
    "\t<key>h</key><date>2026-11-27T10:00:00Z</date>\n"
    "\t<key>i</key><array><string/><dict/></array>\n"
    "\t<key>j</key><string></string>\n"
    "</dict>" TAIL, &error);
  g_autofree char *printed = NULL;

  g_assert_no_error (error);
  g_assert_nonnull (v);
  g_assert_false (g_variant_is_floating (v));
  printed = g_variant_print (v, TRUE);
  g_assert_cmpstr (printed, ==,
                   "{'a': <'x & <y>'>, 'b': <int64 -42>, 'c': <uint64 18446744073709551615>, "
                   "'d': <3.5>, 'e': <true>, 'f': <false>, 'g': <[byte 0x00, 0x01, 0x02]>, "
                   "'h': <'2026-11-27T10:00:00Z'>, 'i': <[<''>, <@a{sv} {}>]>, 'j': <''>}");
  g_assert_cmpstr (moat_ios_plist_lookup_string (v, "a"), ==, "x & <y>");
  g_assert_null (moat_ios_plist_lookup_string (v, "b"));
  g_assert_null (moat_ios_plist_lookup_string (v, "missing"));
  {
    gboolean value = FALSE;

    g_assert_true (moat_ios_plist_lookup_boolean (v, "e", &value));
    g_assert_true (value);
    g_assert_false (moat_ios_plist_lookup_boolean (v, "a", &value));
  }
}

static const struct {
  const char *name;
  const char *text;
  const char *message;  /* a part of the error message */
} refused[] = {
  { "empty", "", "Document was empty" },
  { "binary", "bplist00\xd1\x01\x02", "binary plist" },
  { "not-plist", "<dict></dict>", "<dict> where <plist> was expected" },
  { "empty-plist", "<plist></plist>", "an empty <plist>" },
  { "two-values", "<plist><true/><false/></plist>", "more than one value" },
  { "key-twice", "<plist><dict><key>a</key><true/><key>a</key><false/></dict></plist>",
    "given twice" },
  { "key-no-value", "<plist><dict><key>a</key></dict></plist>", "has no value" },
  { "value-no-key", "<plist><dict><string>a</string></dict></plist>",
    "where a <key> was expected" },
  { "key-key", "<plist><dict><key>a</key><key>b</key></dict></plist>",
    "where a value was expected" },
  { "key-in-array", "<plist><array><key>a</key></array></plist>", "<key> outside a dictionary" },
  { "bad-integer", "<plist><integer>12abc</integer></plist>", "not a 64-bit integer" },
  { "huge-integer", "<plist><integer>99999999999999999999999</integer></plist>",
    "not a 64-bit integer" },
  { "negative-unsigned", "<plist><integer>-18446744073709551615</integer></plist>",
    "not a 64-bit integer" },
  { "bad-real", "<plist><real>1.5x</real></plist>", "not a number" },
  { "bad-date", "<plist><date>yesterday</date></plist>", "not an ISO 8601 date" },
  { "bad-data", "<plist><data>!!!!</data></plist>", "not base64" },
  { "text-in-true", "<plist><true>yes</true></plist>", "text inside <true/>" },
  { "element-in-string", "<plist><string><b/></string></plist>", "<b> inside <string>" },
  { "unknown-element", "<plist><set/></plist>", "unknown element <set>" },
  { "text-outside", "<plist>hello<true/></plist>", "text outside a value" },
  { "unclosed", "<plist><dict><key>a</key><string>b", "plist" },
  { "entity", "<plist><string>&xxe;</string></plist>", "plist" },
  { "nul", "<plist><string>a\0b</string></plist>", "not text" },
  { "bad-utf8-name", "<plist><a\xd8" "d\x8d\xd9\x0f\xfe/></plist>", "Invalid UTF-8" },
  { "long-name", "<plist><aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa"
    "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa/>"
    "</plist>", "unknown element <aaaa" },
};

static void
test_plist_refused (Fixture *f, gconstpointer data)
{
  for (guint i = 0; i < G_N_ELEMENTS (refused); i++)
    {
      g_autoptr(GError) error = NULL;
      /* The NUL case needs its real length. */
      gsize len = g_str_equal (refused[i].name, "nul") ? 34 : strlen (refused[i].text);
      g_autoptr(GVariant) v = moat_ios_plist_parse (refused[i].text, len, &error);

      g_test_message ("%s: %s", refused[i].name, error != NULL ? error->message : "(parsed)");
      g_assert_null (v);
      g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
      g_assert_nonnull (strstr (error->message, refused[i].message));
      /* The message quotes the phone's bytes: valid UTF-8, and short. */
      g_assert_true (g_utf8_validate (error->message, -1, NULL));
      g_assert_cmpuint (g_utf8_strlen (error->message, -1), <=, 200);
    }
}

static void
test_plist_limits (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GString) deep = g_string_new ("<plist>");
  g_autoptr(GString) many = g_string_new ("<plist><array>");
  g_autoptr(GVariant) v = NULL;
  g_autofree char *big = NULL;
  gsize big_len = MOAT_IOS_PLIST_MAX_SIZE + 1;

  /* Deepest allowed, then one deeper. */
  for (guint i = 0; i < MOAT_IOS_PLIST_MAX_DEPTH; i++)
    g_string_append (deep, "<array>");
  g_string_append (deep, "<true/>");
  for (guint i = 0; i < MOAT_IOS_PLIST_MAX_DEPTH; i++)
    g_string_append (deep, "</array>");
  g_string_append (deep, "</plist>");
  v = moat_ios_plist_parse (deep->str, deep->len, &error);
  g_assert_no_error (error);
  g_assert_nonnull (v);
  g_clear_pointer (&v, g_variant_unref);
  g_string_insert (deep, 7, "<array>");
  g_string_insert (deep, deep->len - 8, "</array>");
  v = moat_ios_plist_parse (deep->str, deep->len, &error);
  g_assert_null (v);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "nested deeper than 32"));
  g_clear_error (&error);

  for (guint i = 0; i < MOAT_IOS_PLIST_MAX_VALUES; i++)
    g_string_append (many, "<true/>");
  g_string_append (many, "</array></plist>");
  v = moat_ios_plist_parse (many->str, many->len, &error);
  g_assert_null (v);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "more than 200000 values"));
  g_clear_error (&error);

  big = g_malloc (big_len);
  memset (big, ' ', big_len);
  v = moat_ios_plist_parse (big, big_len, &error);
  g_assert_null (v);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_nonnull (strstr (error->message, "is larger than"));
}

/* ---- devices ---- */

static void
test_devices_fixture (Fixture *f, gconstpointer data)
{
  g_autofree char *clean = profile_dir ("clean");
  g_autofree char *hostile = profile_dir ("hostile");
  g_autoptr(MoatIosFixture) source = moat_ios_fixture_new (clean);
  g_autoptr(MoatIosFixture) hostile_source = moat_ios_fixture_new (hostile);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  MoatIosDevice *d;

  devices = moat_ios_source_list_devices_sync (MOAT_IOS_SOURCE (source), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 1);
  d = g_ptr_array_index (devices, 0);
  g_assert_cmpstr (d->udid, ==, "00008120-001A2B3C4D5E6F01");
  g_assert_cmpstr (moat_ios_connection_to_string (d->connection), ==, "usb");
  g_clear_pointer (&devices, g_ptr_array_unref);

  /* A path for a UDID is skipped; the same phone over Wi-Fi and USB is one
   * phone, on USB. */
  devices = moat_ios_source_list_devices_sync (MOAT_IOS_SOURCE (hostile_source), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 1);
  d = g_ptr_array_index (devices, 0);
  g_assert_cmpstr (d->udid, ==, "00008030-000A1B2C3D4E5F60");
  g_assert_cmpint (d->connection, ==, MOAT_IOS_CONNECTION_USB);
}

static void
test_devices_parse (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) answer = parse (HEAD
    "<dict><key>DeviceList</key><array>"
    "<dict><key>Properties</key><dict><key>ConnectionType</key><string>Network</string>"
    "<key>SerialNumber</key><string>abcdef0123456789abcdef0123456789abcdef01</string></dict></dict>"
    "<dict><key>Properties</key><dict><key>ConnectionType</key><string>Bluetooth</string>"
    "<key>SerialNumber</key><string>00008120-001A2B3C4D5E6F01</string></dict></dict>"
    "</array></dict>" TAIL, &error);
  g_autoptr(GVariant) wrong = parse (HEAD "<dict><key>DeviceList</key><true/></dict>" TAIL,
                                     &error);
  g_autoptr(GPtrArray) devices = NULL;
  guint skipped = 0;

  g_assert_no_error (error);
  devices = moat_ios_parse_device_list (answer, &skipped, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 1);
  g_assert_cmpuint (skipped, ==, 1);
  g_assert_cmpint (((MoatIosDevice *) g_ptr_array_index (devices, 0))->connection, ==,
                   MOAT_IOS_CONNECTION_NETWORK);
  g_clear_pointer (&devices, g_ptr_array_unref);
  devices = moat_ios_parse_device_list (wrong, NULL, &error);
  g_assert_null (devices);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

/* ---- posture ---- */

typedef struct {
  const char        *check;
  MoatPostureResult  result;
  const char        *threat;
  MoatSeverity       severity;
  const char        *command;
} Expected;

static GPtrArray *
findings_of (const char *dir, MoatIosSnapshot **out_snapshot)
{
  g_autoptr(MoatIosFixture) source = moat_ios_fixture_new (dir);
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(MoatIosSnapshot) snapshot = NULL;
  GPtrArray *findings;

  devices = moat_ios_source_list_devices_sync (MOAT_IOS_SOURCE (source), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 1);
  snapshot = moat_ios_source_collect_sync (MOAT_IOS_SOURCE (source),
                                           ((MoatIosDevice *) g_ptr_array_index (devices, 0))->udid,
                                           NULL, &error);
  g_assert_no_error (error);
  findings = moat_ios_check_posture (snapshot);
  if (out_snapshot != NULL)
    *out_snapshot = g_steal_pointer (&snapshot);
  return findings;
}

static void
assert_findings (GPtrArray *findings, const Expected *expected, guint n)
{
  g_assert_cmpuint (findings->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      const MoatPostureFinding *f = g_ptr_array_index (findings, i);
      g_autoptr(JsonParser) parser = json_parser_new ();
      g_autoptr(GError) error = NULL;

      g_test_message ("%s: %s %s — %s [%s] %s", f->check,
                      moat_posture_result_to_string (f->result),
                      f->threat != NULL ? f->threat : "", f->summary, f->command,
                      strlen (f->evidence) < 400 ? f->evidence : "(long)");
      g_assert_cmpstr (f->check, ==, expected[i].check);
      g_assert_cmpint (f->result, ==, expected[i].result);
      g_assert_cmpstr (f->threat, ==, expected[i].threat);
      g_assert_cmpint (f->severity, ==, expected[i].severity);
      g_assert_cmpstr (f->command, ==, expected[i].command);
      g_assert_true (f->threat == NULL || moat_threat_id_is_valid (f->threat));
      g_assert_true (g_utf8_validate (f->summary, -1, NULL) && f->summary[0] != '\0');
      json_parser_load_from_data (parser, f->evidence, -1, &error);
      g_assert_no_error (error);
      g_assert_true (JSON_NODE_HOLDS_OBJECT (json_parser_get_root (parser)));
    }
}

#define LOCKDOWN "lockdownd GetValue"
#define AMFI "lockdownd GetValue com.apple.security.mac.amfi"
#define BROWSE "installation_proxy Browse"
#define PROFILES "MCInstall GetProfileList"
#define CLOUD "MCInstall GetCloudConfiguration"

static void
test_posture_clean (Fixture *f, gconstpointer data)
{
  static const Expected expected[] = {
    { "ios-version", MOAT_POSTURE_OK, NULL, MOAT_SEVERITY_INFO, LOCKDOWN },
    { "passcode", MOAT_POSTURE_OK, NULL, MOAT_SEVERITY_INFO, LOCKDOWN },
    { "activation", MOAT_POSTURE_OK, NULL, MOAT_SEVERITY_INFO, LOCKDOWN },
    { "developer-mode", MOAT_POSTURE_OK, NULL, MOAT_SEVERITY_INFO, AMFI },
    { "supervision", MOAT_POSTURE_OK, NULL, MOAT_SEVERITY_INFO, CLOUD },
    { "profiles", MOAT_POSTURE_OK, NULL, MOAT_SEVERITY_INFO, PROFILES },
    { "vpn", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO, PROFILES },
    { "jailbreak", MOAT_POSTURE_OK, NULL, MOAT_SEVERITY_INFO, BROWSE },
    { "sideloaded-apps", MOAT_POSTURE_OK, NULL, MOAT_SEVERITY_INFO, BROWSE },
  };
  g_autofree char *dir = profile_dir ("clean");
  g_autoptr(MoatIosSnapshot) snapshot = NULL;
  g_autoptr(GPtrArray) findings = findings_of (dir, &snapshot);
  const MoatPostureFinding *version = g_ptr_array_index (findings, 0);

  assert_findings (findings, expected, G_N_ELEMENTS (expected));
  g_assert_cmpstr (version->summary, ==, "iOS 18.6.2 still gets security updates.");
  g_assert_cmpstr (version->evidence, ==,
                   "{\"ProductVersion\":\"18.6.2\",\"BuildVersion\":\"22G100\","
                   "\"ProductType\":\"iPhone15,4\"}");
  g_assert_cmpstr (((MoatPostureFinding *) g_ptr_array_index (findings, 1))->evidence, ==,
                   "{\"PasswordProtected\":true}");
  for (guint q = 0; q < MOAT_IOS_QUERY_LAST; q++)
    g_assert_no_error (snapshot->errors[q]);
  g_assert_cmpuint (snapshot->apps->len, ==, 8);
}

static void
test_posture_risky (Fixture *f, gconstpointer data)
{
  static const Expected expected[] = {
    { "ios-version", MOAT_POSTURE_THREAT, "os.unsupported_version", MOAT_SEVERITY_HIGH, LOCKDOWN },
    { "passcode", MOAT_POSTURE_THREAT, "os.no_screen_lock", MOAT_SEVERITY_HIGH, LOCKDOWN },
    { "activation", MOAT_POSTURE_OK, NULL, MOAT_SEVERITY_INFO, LOCKDOWN },
    { "developer-mode", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO, AMFI },
    { "supervision", MOAT_POSTURE_OK, NULL, MOAT_SEVERITY_INFO, CLOUD },
    { "profiles", MOAT_POSTURE_THREAT, "os.config_profile", MOAT_SEVERITY_MEDIUM, PROFILES },
    { "vpn", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO, PROFILES },
    { "jailbreak", MOAT_POSTURE_THREAT, "os.rooted", MOAT_SEVERITY_HIGH, BROWSE },
    { "sideloaded-apps", MOAT_POSTURE_THREAT, "app.sideloaded", MOAT_SEVERITY_MEDIUM, BROWSE },
  };
  g_autofree char *dir = profile_dir ("risky");
  g_autoptr(MoatIosSnapshot) snapshot = NULL;
  g_autoptr(GPtrArray) findings = findings_of (dir, &snapshot);
  const MoatPostureFinding *sideloaded = g_ptr_array_index (findings, 8);
  const MoatPostureFinding *jailbreak = g_ptr_array_index (findings, 7);
  const MoatPostureFinding *amfi = g_ptr_array_index (findings, 3);

  assert_findings (findings, expected, G_N_ELEMENTS (expected));
  g_assert_cmpstr (((MoatPostureFinding *) g_ptr_array_index (findings, 0))->summary, ==,
                   "iOS 15.7.9 no longer gets security updates: the iPhone lacks fixes for "
                   "known attacks.");
  g_assert_nonnull (strstr (sideloaded->summary, "com.spy.mobile.ios"));
  g_assert_null (strstr (sideloaded->summary, "WhatsApp"));
  g_assert_cmpstr (sideloaded->evidence, ==,
                   "{\"sideloaded\":[{\"CFBundleIdentifier\":\"com.spy.mobile.ios\","
                   "\"ApplicationType\":\"User\","
                   "\"SignerIdentity\":\"iPhone Distribution: Spy Mobile Ltd\","
                   "\"Path\":\"/private/var/containers/Bundle/Application/"
                   "0D1C2B3A-4F5E-6D7C-8B9A-0F1E2D3C4B5A/SystemService.app\"}],"
                   "\"no_signer\":[]}");
  g_assert_nonnull (strstr (jailbreak->summary, "com.saurik.Cydia"));
  g_assert_nonnull (strstr (((MoatPostureFinding *) g_ptr_array_index (findings, 5))->summary,
                            "Free VPN Config"));
  /* The failure the fixture recorded is kept, code and message. */
  g_assert_error (snapshot->errors[MOAT_IOS_QUERY_DEVELOPER_MODE], G_IO_ERROR,
                  G_IO_ERROR_NOT_SUPPORTED);
  g_assert_cmpstr (amfi->evidence, ==,
                   "{\"DeveloperModeStatus\":null,\"error\":\"This iPhone's iOS does not offer "
                   "com.apple.security.mac.amfi.\"}");
}

static void
test_posture_hostile (Fixture *f, gconstpointer data)
{
  static const Expected expected[] = {
    { "ios-version", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO, LOCKDOWN },
    { "passcode", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO, LOCKDOWN },
    { "activation", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO, LOCKDOWN },
    { "developer-mode", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO, AMFI },
    { "supervision", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO, CLOUD },
    { "profiles", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO, PROFILES },
    { "vpn", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO, PROFILES },
    { "jailbreak", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO, BROWSE },
    { "sideloaded-apps", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO, BROWSE },
  };
  g_autofree char *dir = profile_dir ("hostile");
  g_autoptr(MoatIosSnapshot) snapshot = NULL;
  g_autoptr(GPtrArray) findings = findings_of (dir, &snapshot);

  assert_findings (findings, expected, G_N_ELEMENTS (expected));
  g_assert_cmpstr (((MoatPostureFinding *) g_ptr_array_index (findings, 0))->summary, ==,
                   "The iPhone claims iOS 99.0, which does not exist: it cannot be believed.");
  g_assert_cmpstr (((MoatPostureFinding *) g_ptr_array_index (findings, 1))->summary, ==,
                   "The iPhone does not say whether a passcode is set.");
  /* The raw values, wrong types and all, are the evidence. */
  g_assert_cmpstr (((MoatPostureFinding *) g_ptr_array_index (findings, 1))->evidence, ==,
                   "{\"PasswordProtected\":\"true\"}");
  g_assert_cmpstr (((MoatPostureFinding *) g_ptr_array_index (findings, 0))->evidence, ==,
                   "{\"ProductVersion\":\"99.0\",\"BuildVersion\":\"99A1\","
                   "\"ProductType\":[\"iPhone15,4\"]}");
  g_assert_no_error (snapshot->errors[MOAT_IOS_QUERY_LOCKDOWN]);
  g_assert_no_error (snapshot->errors[MOAT_IOS_QUERY_CLOUD_CONFIGURATION]);
  g_assert_error (snapshot->errors[MOAT_IOS_QUERY_DEVELOPER_MODE], G_IO_ERROR,
                  G_IO_ERROR_INVALID_DATA);
  g_assert_cmpstr (snapshot->errors[MOAT_IOS_QUERY_DEVELOPER_MODE]->message, ==,
                   "lockdownd GetValue com.apple.security.mac.amfi: Error on line 4 char 233: "
                   "plist: nested deeper than 32");
  g_assert_error (snapshot->errors[MOAT_IOS_QUERY_APPS], G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_error (snapshot->errors[MOAT_IOS_QUERY_PROFILES], G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_assert_cmpstr (snapshot->errors[MOAT_IOS_QUERY_PROFILES]->message, ==,
                   "MCInstall GetProfileList: a binary plist, not an XML one");
  g_assert_null (snapshot->apps);
  g_assert_nonnull (strstr (((MoatPostureFinding *) g_ptr_array_index (findings, 7))->summary,
                            "Moat could not read which apps are installed: installation_proxy "
                            "Browse: "));
}

/* A phone that has not trusted this computer: lockdownd's public values
 * only, the services refused. */
static void
test_posture_unpaired (Fixture *f, gconstpointer data)
{
  static const Expected expected[] = {
    { "ios-version", MOAT_POSTURE_OK, NULL, MOAT_SEVERITY_INFO, LOCKDOWN },
    { "passcode", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO, LOCKDOWN },
    { "activation", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO, LOCKDOWN },
    { "developer-mode", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO, AMFI },
    { "supervision", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO, CLOUD },
    { "profiles", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO, PROFILES },
    { "vpn", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO, PROFILES },
    { "jailbreak", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO, BROWSE },
    { "sideloaded-apps", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO, BROWSE },
  };
  static const char *const refused_files[] = {
    "amfi.plist.error", "apps.plist.error", "profiles.plist.error",
    "cloud-configuration.plist.error",
  };
  g_autofree char *clean = profile_dir ("clean");
  g_autofree char *devices = g_build_filename (clean, "devices.plist", NULL);
  g_autofree char *text = NULL;
  g_autoptr(GPtrArray) findings = NULL;
  g_autoptr(GError) error = NULL;

  g_file_get_contents (devices, &text, NULL, &error);
  g_assert_no_error (error);
  write_file (f->tmp, "devices.plist", text);
  write_file (f->tmp, "lockdown.plist", HEAD
              "<dict>\n\t<key>BuildVersion</key>\n\t<string>22G100</string>\n"
              "\t<key>DeviceClass</key>\n\t<string>iPhone</string>\n"
              "\t<key>DeviceName</key>\n\t<string>iPhone</string>\n"
              "\t<key>ProductType</key>\n\t<string>iPhone15,4</string>\n"
              "\t<key>ProductVersion</key>\n\t<string>18.6.2</string>\n"
              "\t<key>UniqueDeviceID</key>\n\t<string>00008120-001A2B3C4D5E6F01</string>\n"
              "</dict>" TAIL);
  for (guint i = 0; i < G_N_ELEMENTS (refused_files); i++)
    write_file (f->tmp, refused_files[i],
                "permission-denied\nThe iPhone is locked: unlock it and tap Trust to let this "
                "computer read it (lockdownd).\n");
  findings = findings_of (f->tmp, NULL);
  assert_findings (findings, expected, G_N_ELEMENTS (expected));
  g_assert_cmpstr (((MoatPostureFinding *) g_ptr_array_index (findings, 1))->summary, ==,
                   "The iPhone tells whether a passcode is set only to a computer it trusts: "
                   "unlock it and tap Trust.");
  g_assert_cmpstr (((MoatPostureFinding *) g_ptr_array_index (findings, 5))->summary, ==,
                   "Moat could not read which configuration profiles are installed: The iPhone "
                   "is locked: unlock it and tap Trust to let this computer read it (lockdownd).");
}

/* ---- the fixture source's own errors ---- */

static void
test_fixture_errors (Fixture *f, gconstpointer data)
{
  g_autofree char *clean = profile_dir ("clean");
  g_autofree char *missing = g_build_filename (f->tmp, "nowhere", NULL);
  g_autoptr(MoatIosFixture) source = moat_ios_fixture_new (clean);
  g_autoptr(MoatIosFixture) nowhere = moat_ios_fixture_new (missing);
  g_autoptr(MoatIosFixture) tmp = moat_ios_fixture_new (f->tmp);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autofree char *big = NULL;
  g_autofree char *clean_devices = g_build_filename (clean, "devices.plist", NULL);
  g_autofree char *text = NULL;

  bytes = moat_ios_source_query_sync (MOAT_IOS_SOURCE (source), "00008120-FFFFFFFFFFFFFFFF",
                                      MOAT_IOS_QUERY_LOCKDOWN, NULL, &error);
  g_assert_null (bytes);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "The iPhone 00008120-FFFFFFFFFFFFFFFF is not connected");
  g_clear_error (&error);

  devices = moat_ios_source_list_devices_sync (MOAT_IOS_SOURCE (nowhere), NULL, &error);
  g_assert_null (devices);
  g_assert_error (error, G_FILE_ERROR, G_FILE_ERROR_NOENT);
  g_clear_error (&error);

  /* A query with no recorded answer. */
  g_file_get_contents (clean_devices, &text, NULL, &error);
  g_assert_no_error (error);
  write_file (f->tmp, "devices.plist", text);
  bytes = moat_ios_source_query_sync (MOAT_IOS_SOURCE (tmp), "00008120-001A2B3C4D5E6F01",
                                      MOAT_IOS_QUERY_APPS, NULL, &error);
  g_assert_null (bytes);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_assert_cmpstr (error->message, ==, "no recorded answer to installation_proxy Browse");
  g_clear_error (&error);

  /* An answer larger than any Moat reads is refused before it is read. */
  big = g_malloc0 (MOAT_IOS_PLIST_MAX_SIZE + 2);
  memset (big, ' ', MOAT_IOS_PLIST_MAX_SIZE + 1);
  write_file (f->tmp, "apps.plist", big);
  bytes = moat_ios_source_query_sync (MOAT_IOS_SOURCE (tmp), "00008120-001A2B3C4D5E6F01",
                                      MOAT_IOS_QUERY_APPS, NULL, &error);
  g_assert_null (bytes);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
  g_clear_error (&error);

  /* A recorded error that is not "nick\nmessage". */
  write_file (f->tmp, "profiles.plist.error", "just text");
  bytes = moat_ios_source_query_sync (MOAT_IOS_SOURCE (tmp), "00008120-001A2B3C4D5E6F01",
                                      MOAT_IOS_QUERY_PROFILES, NULL, &error);
  g_assert_null (bytes);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

/* ---- async ---- */

typedef struct {
  GMainLoop       *loop;
  MoatIosSnapshot *snapshot;
  GPtrArray       *devices;
  GError          *error;
} AsyncData;

static void
collected_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  AsyncData *d = user_data;

  d->snapshot = moat_ios_source_collect_finish (MOAT_IOS_SOURCE (object), result, &d->error);
  g_main_loop_quit (d->loop);
}

static void
listed_cb (GObject *object, GAsyncResult *result, gpointer user_data)
{
  AsyncData *d = user_data;

  d->devices = moat_ios_source_list_devices_finish (MOAT_IOS_SOURCE (object), result, &d->error);
  g_main_loop_quit (d->loop);
}

static void
test_collect_async (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = profile_dir ("risky");
  g_autoptr(MoatIosFixture) source = moat_ios_fixture_new (dir);
  g_autoptr(GMainLoop) loop = g_main_loop_new (NULL, FALSE);
  g_autoptr(GCancellable) cancellable = g_cancellable_new ();
  AsyncData d = { loop, NULL, NULL, NULL };

  moat_ios_source_list_devices_async (MOAT_IOS_SOURCE (source), NULL, listed_cb, &d);
  g_main_loop_run (loop);
  g_assert_no_error (d.error);
  g_assert_cmpuint (d.devices->len, ==, 1);

  moat_ios_source_collect_async (MOAT_IOS_SOURCE (source),
                                 ((MoatIosDevice *) g_ptr_array_index (d.devices, 0))->udid,
                                 NULL, collected_cb, &d);
  g_main_loop_run (loop);
  g_assert_no_error (d.error);
  g_assert_nonnull (d.snapshot);
  g_assert_cmpstr (d.snapshot->udid, ==, "6f1e0c9b2a3d4e5f60718293a4b5c6d7e8f90a1b");
  g_assert_cmpuint (d.snapshot->apps->len, ==, 8);
  g_clear_pointer (&d.snapshot, moat_ios_snapshot_free);

  g_cancellable_cancel (cancellable);
  moat_ios_source_collect_async (MOAT_IOS_SOURCE (source),
                                 "6f1e0c9b2a3d4e5f60718293a4b5c6d7e8f90a1b",
                                 cancellable, collected_cb, &d);
  g_main_loop_run (loop);
  g_assert_null (d.snapshot);
  g_assert_error (d.error, G_IO_ERROR, G_IO_ERROR_CANCELLED);
  g_clear_error (&d.error);
  g_ptr_array_unref (d.devices);
}

/* ---- packages for IOC matching ---- */

static void
test_packages (Fixture *f, gconstpointer data)
{
  g_autofree char *dir = profile_dir ("risky");
  g_autoptr(MoatIosSnapshot) snapshot = NULL;
  g_autoptr(GPtrArray) findings = findings_of (dir, &snapshot);
  g_autoptr(GPtrArray) packages = moat_ios_apps_to_packages (snapshot->apps);
  const MoatAndroidPackage *safari = g_ptr_array_index (packages, 0);
  const MoatAndroidPackage *cydia = g_ptr_array_index (packages, 5);
  const MoatAndroidPackage *spy = g_ptr_array_index (packages, 6);
  const MoatAndroidPackage *whatsapp = g_ptr_array_index (packages, 7);

  g_assert_cmpuint (packages->len, ==, 8);
  g_assert_cmpstr (safari->name, ==, "com.apple.mobilesafari");
  g_assert_true (safari->system);
  g_assert_null (safari->installer);
  g_assert_cmpstr (cydia->name, ==, "com.saurik.Cydia");
  g_assert_true (cydia->system);
  g_assert_cmpstr (spy->name, ==, "com.spy.mobile.ios");
  g_assert_false (spy->system);
  g_assert_null (spy->installer);
  g_assert_cmpint (spy->uid, ==, -1);
  g_assert_cmpstr (spy->path, ==, "/private/var/containers/Bundle/Application/"
                   "0D1C2B3A-4F5E-6D7C-8B9A-0F1E2D3C4B5A/SystemService.app");
  g_assert_cmpstr (whatsapp->name, ==, "net.whatsapp.WhatsApp");
  g_assert_cmpstr (whatsapp->installer, ==, "com.apple.AppStore");
  g_clear_pointer (&packages, g_ptr_array_unref);
  packages = moat_ios_apps_to_packages (NULL);
  g_assert_cmpuint (packages->len, ==, 0);
}

static void
test_apps_parse (Fixture *f, gconstpointer data)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariant) answer = parse (HEAD "<array>"
    "<dict><key>CFBundleIdentifier</key><string>com.example.a</string>"
    "<key>SignerIdentity</key><integer>3</integer></dict>"
    "<dict><key>CFBundleIdentifier</key><integer>3</integer></dict>"
    "<dict><key>CFBundleIdentifier</key><string></string></dict>"
    "<dict><key>CFBundleIdentifier</key><string>bad\tid</string></dict>"
    "<string>not an app</string>"
    "</array>" TAIL, &error);
  g_autoptr(GVariant) dict = parse (HEAD "<dict/>" TAIL, &error);
  g_autoptr(GPtrArray) apps = NULL;
  guint skipped = 0;

  g_assert_no_error (error);
  apps = moat_ios_parse_apps (answer, &skipped, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (apps->len, ==, 1);
  g_assert_cmpuint (skipped, ==, 4);
  g_assert_cmpstr (((MoatIosApp *) g_ptr_array_index (apps, 0))->bundle_id, ==, "com.example.a");
  g_assert_null (((MoatIosApp *) g_ptr_array_index (apps, 0))->signer);
  g_clear_pointer (&apps, g_ptr_array_unref);
  apps = moat_ios_parse_apps (dict, NULL, &error);
  g_assert_null (apps);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

/* ---- the real adapter without usbmuxd ---- */

static char *mux_socket;  /* where USBMUXD_SOCKET_ADDRESS points */

#ifdef MOAT_HAVE_LIBIMOBILEDEVICE
/*
 * A fake usbmuxd speaking its documented wire protocol: a 16-byte header
 * (length, version 1 = plist, message 8 = plist, tag; little-endian) and an
 * XML plist. It lists one iPhone, seen over USB and Wi-Fi, and refuses
 * every Connect as a phone's lockdownd port would be if it went away.
 */
#define MUX_UDID "00008120-001A2B3C4D5E6F01"

typedef struct {
  GSocket *listener;
  guint    list_requests;
  guint    connect_requests;
} FakeMux;

static gboolean
read_all (GSocket *socket, char *buf, gsize len)
{
  gsize got = 0;

  while (got < len)
    {
      gssize n = g_socket_receive (socket, buf + got, len - got, NULL, NULL);

      if (n <= 0)
        return FALSE;
      got += n;
    }
  return TRUE;
}

static void
send_reply (GSocket *socket, guint32 tag, const char *xml)
{
  guint32 header[4] = {
    GUINT32_TO_LE (16 + strlen (xml)), GUINT32_TO_LE (1), GUINT32_TO_LE (8), GUINT32_TO_LE (tag),
  };

  g_socket_send (socket, (const char *) header, sizeof header, NULL, NULL);
  g_socket_send (socket, xml, strlen (xml), NULL, NULL);
}

static gpointer
fake_mux_thread (gpointer data)
{
  FakeMux *mux = data;
  GSocket *client;

  while ((client = g_socket_accept (mux->listener, NULL, NULL)) != NULL)
    {
      guint32 header[4];
      g_autofree char *body = NULL;
      g_autoptr(GVariant) request = NULL;
      const char *type;
      gsize len;

      if (read_all (client, (char *) header, sizeof header) &&
          (len = GUINT32_FROM_LE (header[0])) >= 16 && len < 65536)
        {
          body = g_malloc (len - 16 + 1);
          if (read_all (client, body, len - 16))
            {
              body[len - 16] = '\0';
              request = moat_ios_plist_parse (body, len - 16, NULL);
            }
        }
      type = moat_ios_plist_lookup_string (request, "MessageType");
      if (g_strcmp0 (type, "ListDevices") == 0)
        {
          g_atomic_int_inc (&mux->list_requests);
          send_reply (client, GUINT32_FROM_LE (header[3]), HEAD
            "<dict><key>DeviceList</key><array>"
            "<dict><key>DeviceID</key><integer>4</integer>"
            "<key>MessageType</key><string>Attached</string><key>Properties</key><dict>"
            "<key>ConnectionType</key><string>Network</string>"
            "<key>DeviceID</key><integer>4</integer>"
            "<key>EscapedFullServiceName</key>"
            "<string>a4:c3:37:1e:52:8f@fe80::a6c3:37ff:fe1e:528f._apple-mobdev2._tcp.local."
            "</string>"
            "<key>InterfaceIndex</key><integer>2</integer>"
            "<key>NetworkAddress</key><data>"
            "HB4AAAAAAAD+gAAAAAAAAKbDN//+HlKPAgAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            "AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA"
            "</data>"
            "<key>SerialNumber</key><string>" MUX_UDID "</string></dict></dict>"
            "<dict><key>DeviceID</key><integer>3</integer>"
            "<key>MessageType</key><string>Attached</string><key>Properties</key><dict>"
            "<key>ConnectionSpeed</key><integer>480000000</integer>"
            "<key>ConnectionType</key><string>USB</string><key>DeviceID</key><integer>3</integer>"
            "<key>LocationID</key><integer>336592896</integer>"
            "<key>ProductID</key><integer>4776</integer>"
            "<key>SerialNumber</key><string>" MUX_UDID "</string>"
            "<key>USBSerialNumber</key><string>00008120001A2B3C4D5E6F01</string></dict></dict>"
            "</array></dict>" TAIL);
        }
      else
        {
          if (g_strcmp0 (type, "Connect") == 0)
            g_atomic_int_inc (&mux->connect_requests);
          /* Result 3: connection refused. */
          send_reply (client, GUINT32_FROM_LE (header[3]), HEAD
            "<dict><key>MessageType</key><string>Result</string>"
            "<key>Number</key><integer>3</integer></dict>" TAIL);
        }
      g_socket_close (client, NULL);
      g_object_unref (client);
    }
  return NULL;
}
#endif

static void
test_libimobiledevice_fake_usbmuxd (Fixture *f, gconstpointer data)
{
#ifdef MOAT_HAVE_LIBIMOBILEDEVICE
  g_autoptr(GSocketAddress) address = g_unix_socket_address_new (mux_socket);
  g_autoptr(MoatIosLibimobiledevice) source = moat_ios_libimobiledevice_new ();
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GBytes) bytes = NULL;
  FakeMux mux = { 0, };
  GThread *thread;

  mux.listener = g_socket_new (G_SOCKET_FAMILY_UNIX, G_SOCKET_TYPE_STREAM, 0, &error);
  g_assert_no_error (error);
  g_socket_bind (mux.listener, address, TRUE, &error);
  g_assert_no_error (error);
  g_socket_listen (mux.listener, &error);
  g_assert_no_error (error);
  thread = g_thread_new ("fake-usbmuxd", fake_mux_thread, &mux);

  devices = moat_ios_source_list_devices_sync (MOAT_IOS_SOURCE (source), NULL, &error);
  g_assert_no_error (error);
  g_assert_cmpuint (devices->len, ==, 1);
  g_assert_cmpstr (((MoatIosDevice *) g_ptr_array_index (devices, 0))->udid, ==, MUX_UDID);
  g_assert_cmpint (((MoatIosDevice *) g_ptr_array_index (devices, 0))->connection, ==,
                   MOAT_IOS_CONNECTION_USB);

  /* A phone usbmuxd does not list is not connected. */
  bytes = moat_ios_source_query_sync (MOAT_IOS_SOURCE (source), "00008120-FFFFFFFFFFFFFFFF",
                                      MOAT_IOS_QUERY_LOCKDOWN, NULL, &error);
  g_assert_null (bytes);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_FOUND);
  g_clear_error (&error);

  /* The listed phone's lockdownd cannot be reached: a clear error, no hang. */
  bytes = moat_ios_source_query_sync (MOAT_IOS_SOURCE (source), MUX_UDID,
                                      MOAT_IOS_QUERY_APPS, NULL, &error);
  g_assert_null (bytes);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_NOT_CONNECTED);
  g_assert_cmpstr (error->message, ==, "The connection to the iPhone broke (installation_proxy).");
  g_assert_cmpuint (g_atomic_int_get (&mux.connect_requests), >=, 1);
  g_assert_cmpuint (g_atomic_int_get (&mux.list_requests), >=, 2);

  g_socket_shutdown (mux.listener, TRUE, TRUE, NULL);
  g_socket_close (mux.listener, NULL);
  g_thread_join (thread);
  g_object_unref (mux.listener);
  g_unlink (mux_socket);
#else
  g_test_skip ("built without libimobiledevice-1.0 and libplist-2.0");
#endif
}

static void
test_libimobiledevice_no_usbmuxd (Fixture *f, gconstpointer data)
{
#ifdef MOAT_HAVE_LIBIMOBILEDEVICE
  g_autoptr(MoatIosLibimobiledevice) source = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) devices = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(MoatIosSnapshot) snapshot = NULL;

  /* main() pointed libusbmuxd at a socket nobody listens on. */
  g_assert_false (g_file_test (mux_socket, G_FILE_TEST_EXISTS));
  source = moat_ios_libimobiledevice_new ();
  devices = moat_ios_source_list_devices_sync (MOAT_IOS_SOURCE (source), NULL, &error);
  g_assert_null (devices);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_assert_true (g_str_has_prefix (error->message, "usbmuxd is not running"));
  g_clear_error (&error);

  bytes = moat_ios_source_query_sync (MOAT_IOS_SOURCE (source), "00008120-001A2B3C4D5E6F01",
                                      MOAT_IOS_QUERY_LOCKDOWN, NULL, &error);
  g_assert_null (bytes);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
  g_clear_error (&error);

  /* Every check then says why it knows nothing. */
  snapshot = moat_ios_source_collect_sync (MOAT_IOS_SOURCE (source), "00008120-001A2B3C4D5E6F01",
                                           NULL, &error);
  g_assert_no_error (error);
  for (guint q = 0; q < MOAT_IOS_QUERY_LAST; q++)
    g_assert_error (snapshot->errors[q], G_IO_ERROR, G_IO_ERROR_CONNECTION_REFUSED);
#else
  g_test_skip ("built without libimobiledevice-1.0 and libplist-2.0");
#endif
}

int
main (int argc, char **argv)
{
  g_autofree char *muxdir = NULL;
  g_autofree char *mux_address = NULL;
  int ret;

  g_test_init (&argc, &argv, NULL);
  /* No test here may reach a real usbmuxd: libusbmuxd reads this on each
   * call, so it is set once, before any thread starts. Nothing listens
   * there except the fake usbmuxd of one test. */
  muxdir = g_dir_make_tmp ("moat-ios-mux-XXXXXX", NULL);
  g_assert_nonnull (muxdir);
  mux_socket = g_build_filename (muxdir, "usbmuxd", NULL);
  mux_address = g_strconcat ("UNIX:", mux_socket, NULL);
  g_setenv ("USBMUXD_SOCKET_ADDRESS", mux_address, TRUE);

#define ADD(path, fn) g_test_add (path, Fixture, NULL, fixture_set_up, fn, fixture_tear_down)
  ADD ("/moat/ios/plist/types", test_plist_types);
  ADD ("/moat/ios/plist/refused", test_plist_refused);
  ADD ("/moat/ios/plist/limits", test_plist_limits);
  ADD ("/moat/ios/devices/fixture", test_devices_fixture);
  ADD ("/moat/ios/devices/parse", test_devices_parse);
  ADD ("/moat/ios/apps/parse", test_apps_parse);
  ADD ("/moat/ios/posture/clean", test_posture_clean);
  ADD ("/moat/ios/posture/risky", test_posture_risky);
  ADD ("/moat/ios/posture/hostile", test_posture_hostile);
  ADD ("/moat/ios/posture/unpaired", test_posture_unpaired);
  ADD ("/moat/ios/fixture/errors", test_fixture_errors);
  ADD ("/moat/ios/collect/async", test_collect_async);
  ADD ("/moat/ios/packages", test_packages);
  ADD ("/moat/ios/libimobiledevice/no-usbmuxd", test_libimobiledevice_no_usbmuxd);
  ADD ("/moat/ios/libimobiledevice/fake-usbmuxd", test_libimobiledevice_fake_usbmuxd);
#undef ADD
  ret = g_test_run ();
  g_unlink (mux_socket);
  g_rmdir (muxdir);
  g_free (mux_socket);
  return ret;
}
