/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#include "config.h"

#include "moat-android-posture.h"

#include <string.h>

/* getprop's output, as a clean, a risky and a lying phone print it. */

#define CLEAN \
  "[ro.build.version.security_patch]: [2026-11-05]\n" \
  "[ro.build.version.sdk]: [35]\n" \
  "[ro.build.version.release]: [15]\n" \
  "[ro.boot.verifiedbootstate]: [green]\n" \
  "[ro.boot.flash.locked]: [1]\n" \
  "[ro.boot.vbmeta.device_state]: [locked]\n" \
  "[ro.crypto.state]: [encrypted]\n" \
  "[ro.crypto.type]: [file]\n" \
  "[ro.build.type]: [user]\n" \
  "[ro.debuggable]: [0]\n" \
  "[ro.secure]: [1]\n" \
  "[persist.sys.usb.config]: [mtp,adb]\n" \
  "[sys.usb.state]: [mtp,adb]\n"

#define RISKY \
  "[ro.build.version.security_patch]: [2023-01-05]\n" \
  "[ro.build.version.sdk]: [30]\n" \
  "[ro.build.version.release]: [11]\n" \
  "[ro.boot.verifiedbootstate]: [orange]\n" \
  "[ro.boot.flash.locked]: [0]\n" \
  "[ro.crypto.state]: [unencrypted]\n" \
  "[ro.build.type]: [userdebug]\n" \
  "[ro.debuggable]: [1]\n" \
  "[service.adb.tcp.port]: [5555]\n"

typedef struct {
  const char        *check;
  MoatPostureResult  result;
  const char        *threat;
  MoatSeverity       severity;
} Expected;

static void
check_all (const char *text, const Expected *expected, guint n)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GHashTable) props = moat_android_parse_getprop (text, strlen (text), NULL, &error);
  g_autoptr(GDateTime) now = g_date_time_new_utc (2026, 11, 27, 10, 0, 0);
  g_autoptr(GPtrArray) findings = NULL;

  g_assert_no_error (error);
  findings = moat_android_check_properties (props, now);
  g_assert_cmpuint (findings->len, ==, n);
  for (guint i = 0; i < n; i++)
    {
      const MoatPostureFinding *f = g_ptr_array_index (findings, i);

      g_test_message ("%s: %s %s — %s", f->check, moat_posture_result_to_string (f->result),
                      f->threat != NULL ? f->threat : "", f->summary);
      g_assert_cmpstr (f->check, ==, expected[i].check);
      g_assert_cmpint (f->result, ==, expected[i].result);
      g_assert_cmpstr (f->threat, ==, expected[i].threat);
      g_assert_cmpint (f->severity, ==, expected[i].severity);
      g_assert_cmpstr (f->command, ==, "getprop");
      g_assert_true (g_str_has_prefix (f->evidence, "{"));
    }
}

static void
test_clean (void)
{
  static const Expected expected[] = {
    { "security-patch", MOAT_POSTURE_OK, NULL, MOAT_SEVERITY_INFO },
    { "android-version", MOAT_POSTURE_OK, NULL, MOAT_SEVERITY_INFO },
    { "verified-boot", MOAT_POSTURE_OK, NULL, MOAT_SEVERITY_INFO },
    { "bootloader", MOAT_POSTURE_OK, NULL, MOAT_SEVERITY_INFO },
    { "encryption", MOAT_POSTURE_OK, NULL, MOAT_SEVERITY_INFO },
    { "build-type", MOAT_POSTURE_OK, NULL, MOAT_SEVERITY_INFO },
    /* adb needs it on: the only finding of a clean phone. */
    { "usb-debugging", MOAT_POSTURE_THREAT, "os.dev_options", MOAT_SEVERITY_LOW },
  };

  check_all (CLEAN, expected, G_N_ELEMENTS (expected));
}

static void
test_risky (void)
{
  static const Expected expected[] = {
    { "security-patch", MOAT_POSTURE_THREAT, "os.outdated_patch", MOAT_SEVERITY_HIGH },
    { "android-version", MOAT_POSTURE_THREAT, "os.unsupported_version", MOAT_SEVERITY_HIGH },
    { "verified-boot", MOAT_POSTURE_THREAT, "os.verified_boot", MOAT_SEVERITY_HIGH },
    { "bootloader", MOAT_POSTURE_THREAT, "os.unlocked_bootloader", MOAT_SEVERITY_HIGH },
    { "encryption", MOAT_POSTURE_THREAT, "os.unencrypted", MOAT_SEVERITY_HIGH },
    { "build-type", MOAT_POSTURE_THREAT, "os.rooted", MOAT_SEVERITY_HIGH },
    { "usb-debugging", MOAT_POSTURE_THREAT, "os.dev_options", MOAT_SEVERITY_MEDIUM },
  };

  check_all (RISKY, expected, G_N_ELEMENTS (expected));
}

/* A phone that lies, garbles and repeats itself. */
static void
test_lying (void)
{
  static const char text[] =
    "[ro.build.version.security_patch]: [2099-01-01]\n"
    "[ro.build.version.security_patch]: [2026-11-01]\n"     /* the second is not believed */
    "[ro.build.version.sdk]: [many]\n"
    "garbage line\n"
    "[ro.crypto.state]: [encr\xff\xfeted]\n"
    "[\x01name]: [x]\n"
    "[ro.boot.verifiedbootstate]: [purple]\n"
    "[unterminated]: [value\n"
    "[]: [empty name]\n";
  static const Expected expected[] = {
    { "security-patch", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO },
    { "android-version", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO },
    { "verified-boot", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO },
    { "bootloader", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO },
    { "encryption", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO },
    { "build-type", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO },
    { "usb-debugging", MOAT_POSTURE_UNKNOWN, NULL, MOAT_SEVERITY_INFO },
  };
  g_autoptr(GError) error = NULL;
  guint skipped = 0;
  g_autoptr(GHashTable) props = moat_android_parse_getprop (text, strlen (text), &skipped, &error);

  g_assert_no_error (error);
  g_assert_cmpuint (skipped, ==, 5);
  g_assert_cmpstr (g_hash_table_lookup (props, "ro.build.version.security_patch"), ==,
                   "2099-01-01");
  check_all (text, expected, G_N_ELEMENTS (expected));

  /* A NUL byte: not text at all. */
  g_clear_pointer (&props, g_hash_table_unref);
  props = moat_android_parse_getprop ("[a]: [b]\0", 9, NULL, &error);
  g_assert_null (props);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

static void
test_patch_age (void)
{
  g_autoptr(GDateTime) now = g_date_time_new_utc (2026, 11, 27, 10, 0, 0);
  static const struct {
    const char       *patch;
    MoatPostureResult result;
    MoatSeverity      severity;
  } cases[] = {
    { "2026-11-01", MOAT_POSTURE_OK, MOAT_SEVERITY_INFO },
    { "2026-12-05", MOAT_POSTURE_OK, MOAT_SEVERITY_INFO },        /* a month ahead: time zones, early releases */
    { "2026-08-01", MOAT_POSTURE_THREAT, MOAT_SEVERITY_MEDIUM },  /* 118 days */
    { "2026-05-01", MOAT_POSTURE_THREAT, MOAT_SEVERITY_MEDIUM },
    { "2025-06-01", MOAT_POSTURE_THREAT, MOAT_SEVERITY_HIGH },
    { "2027-06-01", MOAT_POSTURE_UNKNOWN, MOAT_SEVERITY_INFO },
    { "2026-13-45", MOAT_POSTURE_UNKNOWN, MOAT_SEVERITY_INFO },
  };

  for (guint i = 0; i < G_N_ELEMENTS (cases); i++)
    {
      g_autofree char *text = g_strdup_printf ("[ro.build.version.security_patch]: [%s]\n",
                                               cases[i].patch);
      g_autoptr(GHashTable) props = moat_android_parse_getprop (text, strlen (text), NULL, NULL);
      g_autoptr(GPtrArray) findings = moat_android_check_properties (props, now);
      const MoatPostureFinding *f = g_ptr_array_index (findings, 0);
      g_test_message ("%s: %s", cases[i].patch, f->summary);
      g_assert_cmpint (f->result, ==, cases[i].result);
      g_assert_cmpint (f->severity, ==, cases[i].severity);
    }
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/moat/android-posture/clean", test_clean);
  g_test_add_func ("/moat/android-posture/risky", test_risky);
  g_test_add_func ("/moat/android-posture/lying", test_lying);
  g_test_add_func ("/moat/android-posture/patch-age", test_patch_age);

  return g_test_run ();
}
