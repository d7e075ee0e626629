/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#include "config.h"

#include "moat-android-apps.h"

#include <string.h>

/* The app and settings checks on what a risky phone and a clean one print. */

#define PACKAGES \
  "package:/system/framework/framework-res.apk=android  installer=null uid:1000\n" \
  "package:/system/priv-app/Phonesky/Phonesky.apk=com.android.vending  installer=null uid:10140\n" \
  "package:/data/app/~~Xy1==/com.google.android.gms-Ab==/base.apk=com.google.android.gms  installer=com.android.vending uid:10146\n" \
  "package:/data/app/~~Q2==/org.mozilla.firefox-1==/base.apk=org.mozilla.firefox  installer=com.android.vending uid:10200\n" \
  "package:/data/app/~~Z9==/com.spy.mobile-7==/base.apk=com.spy.mobile  installer=null uid:10231\n" \
  "package:/data/app/com.example.stalkerware-1/base.apk=com.example.stalkerware  installer=com.google.android.packageinstaller uid:10232\n" \
  "not a package line\n" \
  "package:/data/app/x/base.apk=bad!name  installer=null\n"

#define DEVICE_POLICY \
  "Current Device Policy Manager state:\n" \
  "  Immutable state:\n" \
  "    mHasFeature=true\n" \
  "  Device Owner: none\n" \
  "\n" \
  "  Enabled Device Admins (User 0, provisioningState: 3):\n" \
  "    com.google.android.gms/com.google.android.gms.mdm.receivers.MdmDeviceAdminReceiver:\n" \
  "      uid=10146\n" \
  "      policies:\n" \
  "        wipe-data\n" \
  "    com.spy.mobile/com.spy.mobile.receivers.AdminReceiver:\n" \
  "      uid=10231\n" \
  "      policies:\n" \
  "        reset-password\n" \
  "\n" \
  "  Other state:\n" \
  "    something/else.Thing:\n"

static void
test_parse (void)
{
  g_autoptr(GError) error = NULL;
  g_autoptr(GPtrArray) packages = moat_android_parse_packages (PACKAGES, strlen (PACKAGES), &error);
  g_auto(GStrv) admins = moat_android_parse_device_admins (DEVICE_POLICY, strlen (DEVICE_POLICY));
  g_auto(GStrv) allowed = moat_android_parse_package_list ("org.mozilla.firefox\nNo operations.\n",
                                                           36);
  const MoatAndroidPackage *p;

  g_assert_no_error (error);
  g_assert_cmpuint (packages->len, ==, 6);
  p = g_ptr_array_index (packages, 2);
  g_assert_cmpstr (p->name, ==, "com.google.android.gms");
  g_assert_cmpstr (p->path, ==, "/data/app/~~Xy1==/com.google.android.gms-Ab==/base.apk");
  g_assert_cmpstr (p->installer, ==, "com.android.vending");
  g_assert_cmpint (p->uid, ==, 10146);
  g_assert_false (p->system);
  p = g_ptr_array_index (packages, 1);
  g_assert_true (p->system);
  g_assert_null (p->installer);

  g_assert_cmpuint (g_strv_length (admins), ==, 2);
  g_assert_cmpstr (admins[1], ==, "com.spy.mobile/com.spy.mobile.receivers.AdminReceiver");
  g_assert_cmpuint (g_strv_length (allowed), ==, 1);
  g_assert_cmpstr (allowed[0], ==, "org.mozilla.firefox");

  g_clear_pointer (&packages, g_ptr_array_unref);
  packages = moat_android_parse_packages ("package:a\0b", 11, &error);
  g_assert_null (packages);
  g_assert_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA);
}

static const MoatPostureFinding *
find (GPtrArray *findings, const char *check)
{
  for (guint i = 0; i < findings->len; i++)
    {
      const MoatPostureFinding *f = g_ptr_array_index (findings, i);

      if (g_str_equal (f->check, check))
        return f;
    }
  g_assert_not_reached ();
  return NULL;
}

static void
test_risky (void)
{
  MoatAndroidSnapshot snap = { 0 };
  g_autoptr(GPtrArray) findings = NULL;
  const MoatPostureFinding *f;

  snap.packages = moat_android_parse_packages (PACKAGES, strlen (PACKAGES), NULL);
  snap.device_admins = moat_android_parse_device_admins (DEVICE_POLICY, strlen (DEVICE_POLICY));
  snap.install_allowed = moat_android_parse_package_list ("org.mozilla.firefox\n", 20);
  snap.accessibility = g_strdup ("com.spy.mobile/com.spy.mobile.services.KeyloggerService");
  snap.verifier = g_strdup ("0");
  snap.http_proxy = g_strdup ("10.66.6.6:8888");
  snap.private_dns_mode = g_strdup ("off");
  snap.always_on_vpn = g_strdup ("null");
  snap.su_found = TRUE;
  findings = moat_android_check_apps (&snap, NULL);
  for (guint i = 0; i < findings->len; i++)
    {
      f = g_ptr_array_index (findings, i);
      g_test_message ("%s: %s %s — %s", f->check, moat_posture_result_to_string (f->result),
                      f->threat != NULL ? f->threat : "", f->summary);
    }
  g_assert_cmpstr (find (findings, "unknown-sources")->threat, ==, "os.unknown_sources");
  g_assert_cmpstr (find (findings, "play-protect")->threat, ==, "os.verifier_off");
  f = find (findings, "accessibility");
  g_assert_cmpstr (f->threat, ==, "app.accessibility_service");
  g_assert_nonnull (strstr (f->evidence, "KeyloggerService"));
  f = find (findings, "device-admins");
  g_assert_cmpstr (f->threat, ==, "app.device_admin");
  g_assert_nonnull (strstr (f->evidence, "com.spy.mobile"));
  g_assert_null (strstr (f->evidence, "gms"));           /* Find My Device is fine */
  g_assert_cmpstr (find (findings, "global-proxy")->threat, ==, "os.global_proxy");
  f = find (findings, "sideloaded-apps");
  g_assert_cmpstr (f->threat, ==, "app.sideloaded");
  g_assert_nonnull (strstr (f->evidence, "com.spy.mobile"));
  g_assert_nonnull (strstr (f->evidence, "com.example.stalkerware"));
  g_assert_null (strstr (f->evidence, "firefox"));
  g_assert_cmpstr (find (findings, "su")->threat, ==, "os.rooted");
  g_assert_cmpint (find (findings, "private-dns")->result, ==, MOAT_POSTURE_OK);

  /* Moat's own proxy, while it routes the phone, is not a finding. */
  g_clear_pointer (&findings, g_ptr_array_unref);
  g_free (snap.http_proxy);
  snap.http_proxy = g_strdup ("127.0.0.1:48213");
  findings = moat_android_check_apps (&snap, "127.0.0.1:48213");
  g_assert_cmpint (find (findings, "global-proxy")->result, ==, MOAT_POSTURE_OK);
  moat_android_snapshot_clear (&snap);
}

static void
test_clean (void)
{
  static const char packages[] =
    "package:/system/priv-app/Phonesky/Phonesky.apk=com.android.vending  installer=null uid:10140\n"
    "package:/data/app/~~a==/org.mozilla.firefox-1==/base.apk=org.mozilla.firefox  installer=com.android.vending uid:10200\n";
  MoatAndroidSnapshot snap = { 0 };
  g_autoptr(GPtrArray) findings = NULL;

  snap.packages = moat_android_parse_packages (packages, strlen (packages), NULL);
  snap.device_admins = g_new0 (char *, 1);
  snap.install_allowed = moat_android_parse_package_list ("No operations.\n", 15);
  snap.accessibility = g_strdup ("null");
  snap.verifier = g_strdup ("null");
  snap.http_proxy = g_strdup (":0");
  snap.credential_type = g_strdup ("Pin");
  snap.granted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) g_strfreev);
  findings = moat_android_check_apps (&snap, NULL);
  for (guint i = 0; i < findings->len; i++)
    {
      const MoatPostureFinding *f = g_ptr_array_index (findings, i);

      g_test_message ("%s: %s", f->check, f->summary);
      g_assert_cmpint (f->result, ==, MOAT_POSTURE_OK);
    }
  moat_android_snapshot_clear (&snap);
}

/* Screen lock and permission sets: what `dumpsys lock_settings` and
 * `dumpsys package NAME` print, and what the checks make of it. */
static const MoatPostureFinding *
find_check (GPtrArray *findings, const char *check)
{
  for (guint i = 0; i < findings->len; i++)
    {
      const MoatPostureFinding *f = g_ptr_array_index (findings, i);

      if (g_str_equal (f->check, check))
        return f;
    }
  g_assert_not_reached ();
  return NULL;
}

static void
test_lock_and_permissions (void)
{
  const char *lock = "User State:\n    User 0\n        SID: 1\n        Quality: 0\n"
                     "        CredentialType: None\n";
  const char *dump = "Packages:\n  Package [com.spy.mobile] (1a2b3c4d):\n"
                     "    requested permissions:\n      android.permission.READ_CONTACTS\n"
                     "    install permissions:\n      android.permission.INTERNET: granted=true\n"
                     "    User 0: installed=true enabled=0\n      runtime permissions:\n"
                     "        android.permission.READ_SMS: granted=true, flags=[ USER_SET ]\n"
                     "        android.permission.RECORD_AUDIO: granted=true, flags=[ USER_SET ]\n"
                     "        android.permission.CAMERA: granted=false, flags=[ USER_SET ]\n"
                     "        android.permission.ACCESS_BACKGROUND_LOCATION: granted=true\n"
                     "        bad name: granted=true\n";
  g_auto(GStrv) granted = moat_android_parse_granted_permissions (dump, strlen (dump));
  g_autofree char *type = moat_android_parse_credential_type (lock, strlen (lock));
  g_autofree char *lying = moat_android_parse_credential_type ("CredentialType: None; rm -rf", 27);
  g_auto(GStrv) nothing = moat_android_parse_granted_permissions ("Unable to find package", 22);
  MoatAndroidSnapshot snap = { 0 };
  g_autoptr(GPtrArray) findings = NULL;
  const MoatPostureFinding *f;

  g_assert_cmpstr (type, ==, "None");
  g_assert_null (lying);
  g_assert_null (nothing);
  g_assert_nonnull (granted);
  g_assert_cmpuint (g_strv_length (granted), ==, 4);
  g_assert_true (g_strv_contains ((const char * const *) granted, "android.permission.READ_SMS"));
  g_assert_false (g_strv_contains ((const char * const *) granted, "android.permission.CAMERA"));
  g_assert_false (g_strv_contains ((const char * const *) granted,
                                   "android.permission.READ_CONTACTS"));

  snap.packages = moat_android_parse_packages (PACKAGES, strlen (PACKAGES), NULL);
  snap.granted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                        (GDestroyNotify) g_strfreev);
  g_hash_table_insert (snap.granted, g_strdup ("com.spy.mobile"), g_steal_pointer (&granted));
  snap.credential_type = g_strdup (type);
  findings = moat_android_check_apps (&snap, NULL);
  f = find_check (findings, "screen-lock");
  g_assert_cmpstr (f->threat, ==, "os.no_screen_lock");
  g_assert_cmpint (f->severity, ==, MOAT_SEVERITY_HIGH);
  /* SMS, microphone, location: three groups, and sideloaded. */
  f = find_check (findings, "permissions");
  g_assert_cmpstr (f->threat, ==, "app.dangerous_permissions");
  g_assert_cmpint (f->severity, ==, MOAT_SEVERITY_HIGH);
  g_assert_cmpstr (f->evidence, ==,
                   "{\"com.spy.mobile\":[\"sms\",\"microphone\",\"location\"]}");
  g_clear_pointer (&findings, g_ptr_array_unref);

  /* Before Android 11: the password quality. Two groups are not a set. */
  g_clear_pointer (&snap.credential_type, g_free);
  snap.password_type = g_strdup ("131072");
  g_hash_table_insert (snap.granted, g_strdup ("com.spy.mobile"),
                       g_strsplit ("android.permission.READ_SMS,android.permission.CAMERA", ",", -1));
  findings = moat_android_check_apps (&snap, NULL);
  f = find_check (findings, "screen-lock");
  g_assert_cmpint (f->result, ==, MOAT_POSTURE_OK);
  g_assert_cmpstr (f->command, ==, "settings get secure lockscreen.password_type");
  g_assert_cmpint (find_check (findings, "permissions")->result, ==, MOAT_POSTURE_OK);
  g_clear_pointer (&findings, g_ptr_array_unref);

  /* Nothing read: unknown, not fine. */
  g_clear_pointer (&snap.password_type, g_free);
  g_clear_pointer (&snap.granted, g_hash_table_unref);
  findings = moat_android_check_apps (&snap, NULL);
  g_assert_cmpint (find_check (findings, "screen-lock")->result, ==, MOAT_POSTURE_UNKNOWN);
  g_assert_cmpint (find_check (findings, "permissions")->result, ==, MOAT_POSTURE_UNKNOWN);
  moat_android_snapshot_clear (&snap);
}

int
main (int argc, char *argv[])
{
  g_test_init (&argc, &argv, NULL);

  g_test_add_func ("/moat/android-apps/parse", test_parse);
  g_test_add_func ("/moat/android-apps/risky", test_risky);
  g_test_add_func ("/moat/android-apps/clean", test_clean);
  g_test_add_func ("/moat/android-apps/lock-and-permissions", test_lock_and_permissions);

  return g_test_run ();
}
