/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-devices"

#include "config.h"

#include "moat-ios-posture.h"

#include "moat-android-apps.h"
#include "moat-ios-plist.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define MAX_DEVICES 256
#define MAX_UDID 64
#define MAX_BUNDLE_ID 255
#define MAX_NAMED 10   /* apps or profiles named in a summary */

/* SignerIdentity of apps the App Store (and TestFlight) delivered. */
#define APP_STORE_SIGNER "Apple iPhone OS Application Signing"
static const char *const store_signers[] = {
  APP_STORE_SIGNER,
  "TestFlight Beta Distribution",
  NULL
};

/*
 * Which iOS still gets security updates, as of 2026-11-27. Apple fixes all
 * known vulnerabilities only in the newest major version and ships security
 * updates for the one before it for the phones that cannot upgrade; older
 * majors get at most a rare fix for a bug exploited in the wild, so Moat
 * calls them unsupported. After iOS 18, Apple named the version after the
 * year: there is no iOS 19 to 25. Update this table each September.
 *
 *   major  released    security updates (2026-11)
 *   26     2025-09     yes, current
 *   18     2024-09     yes (iPhone XS, XR and later that stay on 18)
 *   17     2023-09     no (every iPhone that runs 17 runs 18)
 *   16     2022-09     no (iPhone 8, X: rare fixes only)
 *   <= 15              no
 *
 * A major above NEWEST_MAJOR + 1 (next year's beta) or between 19 and 25
 * does not exist: a phone that claims one is not believed.
 */
#define MIN_SUPPORTED_MAJOR 18
#define NEWEST_MAJOR 26

/* Jailbreak apps and their stores, by bundle id. */
static const char *const jailbreak_apps[] = {
  "com.saurik.Cydia",           /* Cydia */
  "org.coolstar.SileoStore",    /* Sileo */
  "org.coolstar.sileo",
  "xyz.willy.Zebra",            /* Zebra */
  "me.apptapp.installer",       /* Installer */
  "science.xnu.undecimus",      /* unc0ver */
  "kjc.loader",                 /* checkra1n's loader */
  "com.samiiau.loader",         /* palera1n's loader */
  "org.coolstar.electra1141",   /* Electra */
  "org.coolstar.odyssey",       /* Odyssey */
  "org.coolstar.taurine",       /* Taurine */
  "com.opa334.Dopamine",        /* Dopamine */
  "com.opa334.TrollStore",      /* TrollStore: installs apps no one signed */
  "com.tigisoftware.Filza",     /* Filza: root file manager */
  NULL
};

void
moat_ios_app_free (MoatIosApp *app)
{
  if (app == NULL)
    return;
  g_free (app->bundle_id);
  g_free (app->name);
  g_free (app->version);
  g_free (app->type);
  g_free (app->signer);
  g_free (app->path);
  g_free (app);
}

static gboolean
printable (const char *text, gsize max)
{
  gsize len = strlen (text);

  if (len == 0 || len > max)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if ((guchar) text[i] < 0x20 || text[i] == 0x7f)
      return FALSE;
  return TRUE;
}

static gboolean
valid_udid (const char *udid)
{
  gsize len = strlen (udid);

  if (len == 0 || len > MAX_UDID)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if (!g_ascii_isxdigit (udid[i]) && udid[i] != '-')
      return FALSE;
  return TRUE;
}

/**
 * moat_ios_parse_device_list:
 *
 * Returns: (transfer container) (element-type MoatIosDevice): the iPhones,
 *   or %NULL with G_IO_ERROR_INVALID_DATA
 */
GPtrArray *
moat_ios_parse_device_list (GVariant  *answer,
                            guint     *out_skipped,
                            GError   **error)
{
  g_autoptr(GPtrArray) devices =
    g_ptr_array_new_with_free_func ((GDestroyNotify) moat_ios_device_free);
  g_autoptr(GVariant) list = moat_ios_plist_lookup (answer, "DeviceList", G_VARIANT_TYPE ("av"));
  guint skipped = 0;

  if (list == NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "usbmuxd's answer has no DeviceList array");
      return NULL;
    }
  for (gsize i = 0; i < g_variant_n_children (list); i++)
    {
      g_autoptr(GVariant) boxed = g_variant_get_child_value (list, i);
      g_autoptr(GVariant) entry = g_variant_get_variant (boxed);
      g_autoptr(GVariant) props = moat_ios_plist_lookup (entry, "Properties",
                                                         G_VARIANT_TYPE_VARDICT);
      const char *udid = moat_ios_plist_lookup_string (props, "SerialNumber");
      const char *type = moat_ios_plist_lookup_string (props, "ConnectionType");
      MoatIosConnection connection;
      MoatIosDevice *known = NULL;

      if (udid == NULL || !valid_udid (udid) || type == NULL ||
          (!g_str_equal (type, "USB") && !g_str_equal (type, "Network")))
        {
          skipped++;
          continue;
        }
      connection = g_str_equal (type, "USB") ? MOAT_IOS_CONNECTION_USB
                                              : MOAT_IOS_CONNECTION_NETWORK;
      for (guint j = 0; j < devices->len && known == NULL; j++)
        if (g_str_equal (((MoatIosDevice *) g_ptr_array_index (devices, j))->udid, udid))
          known = g_ptr_array_index (devices, j);
      if (known != NULL)
        {
          if (connection == MOAT_IOS_CONNECTION_USB)
            known->connection = connection;
          continue;
        }
      if (devices->len == MAX_DEVICES)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                       "usbmuxd lists more than %d devices", MAX_DEVICES);
          return NULL;
        }
      known = g_new0 (MoatIosDevice, 1);
      known->udid = g_strdup (udid);
      known->connection = connection;
      g_ptr_array_add (devices, known);
    }
  if (out_skipped != NULL)
    *out_skipped = skipped;
  return g_steal_pointer (&devices);
}

static char *
dup_string (GVariant *dict, const char *key)
{
  const char *value = moat_ios_plist_lookup_string (dict, key);

  return value != NULL ? g_strdup (value) : NULL;
}

/**
 * moat_ios_parse_apps:
 *
 * Returns: (transfer container) (element-type MoatIosApp): the apps, or
 *   %NULL with G_IO_ERROR_INVALID_DATA
 */
GPtrArray *
moat_ios_parse_apps (GVariant  *answer,
                     guint     *out_skipped,
                     GError   **error)
{
  g_autoptr(GPtrArray) apps = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_ios_app_free);
  guint skipped = 0;

  if (answer == NULL || !g_variant_is_of_type (answer, G_VARIANT_TYPE ("av")))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "installation_proxy's answer is not an array");
      return NULL;
    }
  if (g_variant_n_children (answer) > MOAT_IOS_MAX_APPS)
    {
      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                   "installation_proxy lists more than %d apps", MOAT_IOS_MAX_APPS);
      return NULL;
    }
  for (gsize i = 0; i < g_variant_n_children (answer); i++)
    {
      g_autoptr(GVariant) boxed = g_variant_get_child_value (answer, i);
      g_autoptr(GVariant) entry = g_variant_get_variant (boxed);
      const char *id = moat_ios_plist_lookup_string (entry, "CFBundleIdentifier");
      MoatIosApp *app;

      if (id == NULL || !printable (id, MAX_BUNDLE_ID))
        {
          skipped++;
          continue;
        }
      app = g_new0 (MoatIosApp, 1);
      app->bundle_id = g_strdup (id);
      app->name = dup_string (entry, "CFBundleDisplayName");
      app->version = dup_string (entry, "CFBundleShortVersionString");
      app->type = dup_string (entry, "ApplicationType");
      app->signer = dup_string (entry, "SignerIdentity");
      app->path = dup_string (entry, "Path");
      g_ptr_array_add (apps, app);
    }
  if (out_skipped != NULL)
    *out_skipped = skipped;
  return g_steal_pointer (&apps);
}

static gboolean
is_system (const MoatIosApp *app)
{
  return g_strcmp0 (app->type, "System") == 0;
}

static gboolean
from_store (const MoatIosApp *app)
{
  return app->signer != NULL && g_strv_contains (store_signers, app->signer);
}

/**
 * moat_ios_apps_to_packages:
 *
 * Returns: (transfer container) (element-type MoatAndroidPackage): one
 *   package per app
 */
GPtrArray *
moat_ios_apps_to_packages (GPtrArray *apps)
{
  GPtrArray *packages = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_android_package_free);

  for (guint i = 0; apps != NULL && i < apps->len; i++)
    {
      const MoatIosApp *app = g_ptr_array_index (apps, i);
      MoatAndroidPackage *p = g_new0 (MoatAndroidPackage, 1);

      p->name = g_strdup (app->bundle_id);
      p->path = g_strdup (app->path != NULL ? app->path : "");
      p->installer = from_store (app) ? g_strdup ("com.apple.AppStore") : NULL;
      p->uid = -1;
      p->system = is_system (app);
      g_ptr_array_add (packages, p);
    }
  return packages;
}

/* ---- snapshot ---- */

MoatIosSnapshot *
moat_ios_snapshot_new (const char *udid)
{
  MoatIosSnapshot *snapshot = g_new0 (MoatIosSnapshot, 1);

  snapshot->udid = g_strdup (udid);
  return snapshot;
}

void
moat_ios_snapshot_free (MoatIosSnapshot *snapshot)
{
  if (snapshot == NULL)
    return;
  g_free (snapshot->udid);
  for (guint i = 0; i < MOAT_IOS_QUERY_LAST; i++)
    {
      g_clear_pointer (&snapshot->answers[i], g_variant_unref);
      g_clear_error (&snapshot->errors[i]);
    }
  g_clear_pointer (&snapshot->apps, g_ptr_array_unref);
  g_free (snapshot);
}

static gboolean
parse_answer (MoatIosSnapshot  *snapshot,
              MoatIosQuery      query,
              GBytes           *answer,
              GError          **error)
{
  g_autoptr(GVariant) value = NULL;
  gsize len = 0;
  const char *data = g_bytes_get_data (answer, &len);

  value = moat_ios_plist_parse (data, len, error);
  if (value == NULL)
    return FALSE;
  if (query == MOAT_IOS_QUERY_APPS)
    {
      snapshot->apps = moat_ios_parse_apps (value, NULL, error);
      if (snapshot->apps == NULL)
        return FALSE;
    }
  else if (!g_variant_is_of_type (value, G_VARIANT_TYPE_VARDICT))
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "the answer is not a dictionary");
      return FALSE;
    }
  snapshot->answers[query] = g_steal_pointer (&value);
  return TRUE;
}

void
moat_ios_snapshot_set_answer (MoatIosSnapshot *snapshot,
                              MoatIosQuery     query,
                              GBytes          *answer,
                              const GError    *error)
{
  GError *local_error = NULL;

  g_return_if_fail (snapshot != NULL && query < MOAT_IOS_QUERY_LAST);
  g_return_if_fail (answer != NULL || error != NULL);

  g_clear_pointer (&snapshot->answers[query], g_variant_unref);
  g_clear_error (&snapshot->errors[query]);
  if (query == MOAT_IOS_QUERY_APPS)
    g_clear_pointer (&snapshot->apps, g_ptr_array_unref);
  if (answer == NULL)
    snapshot->errors[query] = g_error_copy (error);
  else if (!parse_answer (snapshot, query, answer, &local_error))
    {
      g_prefix_error (&local_error, "%s: ", moat_ios_query_get_command (query));
      snapshot->errors[query] = local_error;
    }
}

/**
 * moat_ios_source_collect_sync:
 *
 * Blocking: call from a worker thread.
 *
 * Returns: (transfer full): the snapshot, %NULL only when cancelled
 */
MoatIosSnapshot *
moat_ios_source_collect_sync (MoatIosSource  *source,
                              const char     *udid,
                              GCancellable   *cancellable,
                              GError        **error)
{
  g_autoptr(MoatIosSnapshot) snapshot = NULL;

  g_return_val_if_fail (MOAT_IS_IOS_SOURCE (source), NULL);
  g_return_val_if_fail (udid != NULL, NULL);

  snapshot = moat_ios_snapshot_new (udid);
  for (MoatIosQuery q = 0; q < MOAT_IOS_QUERY_LAST; q++)
    {
      g_autoptr(GError) local_error = NULL;
      g_autoptr(GBytes) answer = moat_ios_source_query_sync (source, udid, q, cancellable,
                                                              &local_error);

      if (g_error_matches (local_error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_propagate_error (error, g_steal_pointer (&local_error));
          return NULL;
        }
      moat_ios_snapshot_set_answer (snapshot, q, answer, local_error);
    }
  return g_steal_pointer (&snapshot);
}

static void
collect_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  GError *error = NULL;
  MoatIosSnapshot *snapshot = moat_ios_source_collect_sync (source_object, task_data,
                                                            cancellable, &error);

  if (snapshot == NULL)
    g_task_return_error (task, error);
  else
    g_task_return_pointer (task, snapshot, (GDestroyNotify) moat_ios_snapshot_free);
}

void
moat_ios_source_collect_async (MoatIosSource       *source,
                               const char          *udid,
                               GCancellable        *cancellable,
                               GAsyncReadyCallback  callback,
                               gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (MOAT_IS_IOS_SOURCE (source));
  g_return_if_fail (udid != NULL);

  task = g_task_new (source, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_ios_source_collect_async);
  g_task_set_task_data (task, g_strdup (udid), g_free);
  g_task_run_in_thread (task, collect_thread);
}

/**
 * moat_ios_source_collect_finish:
 *
 * Returns: (transfer full): the snapshot
 */
MoatIosSnapshot *
moat_ios_source_collect_finish (MoatIosSource  *source,
                                GAsyncResult   *result,
                                GError        **error)
{
  g_return_val_if_fail (g_task_is_valid (result, source), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) ==
                        moat_ios_source_collect_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}

/* ---- checks ---- */

static MoatPostureFinding *
finding_new (const char        *check,
             MoatPostureResult  result,
             const char        *threat,
             MoatSeverity       severity,
             const char        *summary,
             MoatIosQuery       query,
             JsonBuilder       *evidence)
{
  MoatPostureFinding *f = g_new0 (MoatPostureFinding, 1);
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_end_object (evidence);
  root = json_builder_get_root (evidence);
  f->check = g_strdup (check);
  f->result = result;
  f->threat = g_strdup (result == MOAT_POSTURE_THREAT ? threat : NULL);
  f->severity = result == MOAT_POSTURE_THREAT ? severity : MOAT_SEVERITY_INFO;
  f->summary = g_strdup (summary);
  f->command = g_strdup (moat_ios_query_get_command (query));
  json_generator_set_root (generator, root);
  f->evidence = json_generator_to_data (generator, NULL);
  return f;
}

/* An evidence object, open: the raw values of @keys in @dict as the phone
 * sent them (null when absent) and the query's error if it failed. */
static JsonBuilder *
evidence_new (const MoatIosSnapshot *snapshot,
              MoatIosQuery           query,
              GVariant              *dict,
              const char * const    *keys)
{
  JsonBuilder *b = json_builder_new ();
  const GError *error = snapshot->errors[query];

  json_builder_begin_object (b);
  for (guint i = 0; keys != NULL && keys[i] != NULL; i++)
    {
      g_autoptr(GVariant) value = moat_ios_plist_lookup (dict, keys[i], NULL);

      json_builder_set_member_name (b, keys[i]);
      if (value != NULL)
        json_builder_add_value (b, json_gvariant_serialize (value));
      else
        json_builder_add_null_value (b);
    }
  if (error != NULL)
    {
      json_builder_set_member_name (b, "error");
      json_builder_add_string_value (b, error->message);
    }
  return b;
}

static char *
join_names (GPtrArray *names)
{
  g_autoptr(GString) s = g_string_new (NULL);

  for (guint i = 0; i < names->len && i < MAX_NAMED; i++)
    {
      if (i > 0)
        g_string_append (s, ", ");
      g_string_append (s, g_ptr_array_index (names, i));
    }
  if (names->len > MAX_NAMED)
    {
      guint more = names->len - MAX_NAMED;

      g_string_append_c (s, ' ');
      g_string_append_printf (s, g_dngettext (GETTEXT_PACKAGE, "and %u more", "and %u more",
                                              more), more);
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* Why a value could not be read: the query's error, or pairing. */
static char *
unreadable (const MoatIosSnapshot *snapshot,
            MoatIosQuery           query,
            const char            *what)
{
  const GError *error = snapshot->errors[query];

  if (error != NULL)
    return g_strdup_printf (_("Moat could not read %s: %s"), what, error->message);
  return g_strdup_printf (_("The iPhone does not say %s."), what);
}

static gboolean
has_key (GVariant *dict, const char *key)
{
  g_autoptr(GVariant) value = moat_ios_plist_lookup (dict, key, NULL);

  return value != NULL;
}

static void
add_string_or_null (JsonBuilder *b, const char *member, const char *value)
{
  json_builder_set_member_name (b, member);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
}

static gboolean
parse_version (const char *text, guint *out_major)
{
  g_auto(GStrv) parts = NULL;
  guint n;

  if (text == NULL || strlen (text) > 32)
    return FALSE;
  parts = g_strsplit (text, ".", -1);
  n = g_strv_length (parts);
  if (n < 2 || n > 3)
    return FALSE;
  for (guint i = 0; i < n; i++)
    {
      guint64 v;

      if (!g_ascii_string_to_unsigned (parts[i], 10, 0, 999, &v, NULL) ||
          (i == 0 && v == 0))
        return FALSE;
      if (i == 0)
        *out_major = (guint) v;
    }
  return TRUE;
}

static MoatPostureFinding *
check_version (const MoatIosSnapshot *snapshot)
{
  static const char *const keys[] = { "ProductVersion", "BuildVersion", "ProductType", NULL };
  GVariant *lockdown = snapshot->answers[MOAT_IOS_QUERY_LOCKDOWN];
  const char *version = moat_ios_plist_lookup_string (lockdown, "ProductVersion");
  g_autoptr(JsonBuilder) b = evidence_new (snapshot, MOAT_IOS_QUERY_LOCKDOWN, lockdown, keys);
  g_autofree char *summary = NULL;
  guint major = 0;

  if (!parse_version (version, &major))
    {
      summary = version == NULL
                ? unreadable (snapshot, MOAT_IOS_QUERY_LOCKDOWN, _("which iOS it runs"))
                : g_strdup (_("The iPhone names an iOS version that cannot be true."));
      return finding_new ("ios-version", MOAT_POSTURE_UNKNOWN, NULL, 0, summary,
                          MOAT_IOS_QUERY_LOCKDOWN, b);
    }
  if (major > NEWEST_MAJOR + 1 || (major > 18 && major < NEWEST_MAJOR))
    {
      summary = g_strdup_printf (_("The iPhone claims iOS %s, which does not exist: it cannot "
                                   "be believed."), version);
      return finding_new ("ios-version", MOAT_POSTURE_UNKNOWN, NULL, 0, summary,
                          MOAT_IOS_QUERY_LOCKDOWN, b);
    }
  if (major < MIN_SUPPORTED_MAJOR)
    {
      summary = g_strdup_printf (_("iOS %s no longer gets security updates: the iPhone lacks "
                                   "fixes for known attacks."), version);
      return finding_new ("ios-version", MOAT_POSTURE_THREAT, "os.unsupported_version",
                          MOAT_SEVERITY_HIGH, summary, MOAT_IOS_QUERY_LOCKDOWN, b);
    }
  summary = g_strdup_printf (_("iOS %s still gets security updates."), version);
  return finding_new ("ios-version", MOAT_POSTURE_OK, NULL, 0, summary,
                      MOAT_IOS_QUERY_LOCKDOWN, b);
}

static MoatPostureFinding *
check_passcode (const MoatIosSnapshot *snapshot)
{
  static const char *const keys[] = { "PasswordProtected", NULL };
  GVariant *lockdown = snapshot->answers[MOAT_IOS_QUERY_LOCKDOWN];
  g_autoptr(JsonBuilder) b = evidence_new (snapshot, MOAT_IOS_QUERY_LOCKDOWN, lockdown, keys);
  gboolean set;

  if (!moat_ios_plist_lookup_boolean (lockdown, "PasswordProtected", &set))
    {
      g_autofree char *summary =
        lockdown != NULL && !has_key (lockdown, "PasswordProtected")
        ? g_strdup (_("The iPhone tells whether a passcode is set only to a computer it trusts: "
                      "unlock it and tap Trust."))
        : unreadable (snapshot, MOAT_IOS_QUERY_LOCKDOWN, _("whether a passcode is set"));

      return finding_new ("passcode", MOAT_POSTURE_UNKNOWN, NULL, 0, summary,
                          MOAT_IOS_QUERY_LOCKDOWN, b);
    }
  if (!set)
    return finding_new ("passcode", MOAT_POSTURE_THREAT, "os.no_screen_lock", MOAT_SEVERITY_HIGH,
                        _("No passcode is set: whoever holds the iPhone can open it, and its "
                          "data is not protected by the passcode."), MOAT_IOS_QUERY_LOCKDOWN, b);
  return finding_new ("passcode", MOAT_POSTURE_OK, NULL, 0, _("A passcode is set."),
                      MOAT_IOS_QUERY_LOCKDOWN, b);
}

static MoatPostureFinding *
check_activation (const MoatIosSnapshot *snapshot)
{
  static const char *const keys[] = { "ActivationState", NULL };
  GVariant *lockdown = snapshot->answers[MOAT_IOS_QUERY_LOCKDOWN];
  const char *state = moat_ios_plist_lookup_string (lockdown, "ActivationState");
  g_autoptr(JsonBuilder) b = evidence_new (snapshot, MOAT_IOS_QUERY_LOCKDOWN, lockdown, keys);
  g_autofree char *summary = NULL;

  if (g_strcmp0 (state, "Activated") == 0 || g_strcmp0 (state, "FactoryActivated") == 0)
    return finding_new ("activation", MOAT_POSTURE_OK, NULL, 0,
                        _("The iPhone is activated with Apple."), MOAT_IOS_QUERY_LOCKDOWN, b);
  if (g_strcmp0 (state, "Unactivated") == 0)
    return finding_new ("activation", MOAT_POSTURE_OK, NULL, 0,
                        _("The iPhone is not activated yet: it is new or was just erased."),
                        MOAT_IOS_QUERY_LOCKDOWN, b);
  if (state != NULL && printable (state, 64))
    summary = g_strdup_printf (_("The iPhone reports an unusual activation state (%s): check "
                                 "that it was not activated around Apple's servers."), state);
  else if (lockdown != NULL && !has_key (lockdown, "ActivationState"))
    summary = g_strdup (_("The iPhone tells its activation state only to a computer it trusts: "
                          "unlock it and tap Trust."));
  else
    summary = unreadable (snapshot, MOAT_IOS_QUERY_LOCKDOWN, _("its activation state"));
  return finding_new ("activation", MOAT_POSTURE_UNKNOWN, NULL, 0, summary,
                      MOAT_IOS_QUERY_LOCKDOWN, b);
}

static MoatPostureFinding *
check_developer_mode (const MoatIosSnapshot *snapshot)
{
  static const char *const keys[] = { "DeveloperModeStatus", NULL };
  GVariant *amfi = snapshot->answers[MOAT_IOS_QUERY_DEVELOPER_MODE];
  g_autoptr(JsonBuilder) b = evidence_new (snapshot, MOAT_IOS_QUERY_DEVELOPER_MODE, amfi, keys);
  gboolean on;

  if (!moat_ios_plist_lookup_boolean (amfi, "DeveloperModeStatus", &on))
    {
      g_autofree char *summary = unreadable (snapshot, MOAT_IOS_QUERY_DEVELOPER_MODE,
                                             _("whether Developer Mode is on"));

      return finding_new ("developer-mode", MOAT_POSTURE_UNKNOWN, NULL, 0, summary,
                          MOAT_IOS_QUERY_DEVELOPER_MODE, b);
    }
  if (on)
    return finding_new ("developer-mode", MOAT_POSTURE_THREAT, "os.dev_options",
                        MOAT_SEVERITY_LOW,
                        _("Developer Mode is on: apps signed by any developer can run. Turn it "
                          "off in Settings, Privacy & Security."), MOAT_IOS_QUERY_DEVELOPER_MODE,
                        b);
  return finding_new ("developer-mode", MOAT_POSTURE_OK, NULL, 0, _("Developer Mode is off."),
                      MOAT_IOS_QUERY_DEVELOPER_MODE, b);
}

/* IsSupervised from GetCloudConfiguration; FALSE when not said. */
static gboolean
supervised (const MoatIosSnapshot *snapshot, gboolean *out_supervised, const char **out_org)
{
  GVariant *answer = snapshot->answers[MOAT_IOS_QUERY_CLOUD_CONFIGURATION];
  g_autoptr(GVariant) config = moat_ios_plist_lookup (answer, "CloudConfiguration",
                                                      G_VARIANT_TYPE_VARDICT);

  if (g_strcmp0 (moat_ios_plist_lookup_string (answer, "Status"), "Acknowledged") != 0 ||
      !moat_ios_plist_lookup_boolean (config, "IsSupervised", out_supervised))
    return FALSE;
  /* The string lives in @answer, which the snapshot holds. */
  *out_org = moat_ios_plist_lookup_string (config, "OrganizationName");
  if (*out_org != NULL && !printable (*out_org, 256))
    *out_org = NULL;
  return TRUE;
}

static MoatPostureFinding *
check_supervision (const MoatIosSnapshot *snapshot)
{
  static const char *const keys[] = { "CloudConfiguration", "Status", NULL };
  GVariant *answer = snapshot->answers[MOAT_IOS_QUERY_CLOUD_CONFIGURATION];
  g_autoptr(JsonBuilder) b = evidence_new (snapshot, MOAT_IOS_QUERY_CLOUD_CONFIGURATION, answer,
                                           keys);
  g_autofree char *summary = NULL;
  const char *org = NULL;
  gboolean is_supervised = FALSE;

  if (!supervised (snapshot, &is_supervised, &org))
    summary = unreadable (snapshot, MOAT_IOS_QUERY_CLOUD_CONFIGURATION,
                          _("whether an organisation supervises it"));
  else if (!is_supervised)
    return finding_new ("supervision", MOAT_POSTURE_OK, NULL, 0,
                        _("No organisation supervises the iPhone."),
                        MOAT_IOS_QUERY_CLOUD_CONFIGURATION, b);
  else
    {
      summary = org != NULL
                ? g_strdup_printf (_("The iPhone is supervised by %s, which can manage it "
                                     "fully."), org)
                : g_strdup (_("The iPhone is supervised by an organisation, which can manage "
                              "it fully."));
      return finding_new ("supervision", MOAT_POSTURE_OK, NULL, 0, summary,
                          MOAT_IOS_QUERY_CLOUD_CONFIGURATION, b);
    }
  return finding_new ("supervision", MOAT_POSTURE_UNKNOWN, NULL, 0, summary,
                      MOAT_IOS_QUERY_CLOUD_CONFIGURATION, b);
}

/* The installed profiles' display names (or identifiers), %NULL when the
 * answer is not a profile list. */
static GPtrArray *
profile_names (const MoatIosSnapshot *snapshot)
{
  GVariant *answer = snapshot->answers[MOAT_IOS_QUERY_PROFILES];
  g_autoptr(GVariant) metadata = moat_ios_plist_lookup (answer, "ProfileMetadata",
                                                        G_VARIANT_TYPE_VARDICT);
  g_autoptr(GPtrArray) names = NULL;
  GVariantIter iter;
  const char *id;
  GVariant *value;

  if (g_strcmp0 (moat_ios_plist_lookup_string (answer, "Status"), "Acknowledged") != 0 ||
      metadata == NULL)
    return NULL;
  names = g_ptr_array_new_with_free_func (g_free);
  g_variant_iter_init (&iter, metadata);
  while (g_variant_iter_loop (&iter, "{&sv}", &id, &value))
    {
      const char *name = moat_ios_plist_lookup_string (value, "PayloadDisplayName");

      if (name == NULL || !printable (name, 256))
        name = id;
      if (printable (name, 256))
        g_ptr_array_add (names, g_strdup (name));
      else
        g_ptr_array_add (names, g_strdup ("?"));
    }
  return g_steal_pointer (&names);
}

static void
add_names (JsonBuilder *b, const char *member, GPtrArray *names)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (guint i = 0; names != NULL && i < names->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (names, i));
  json_builder_end_array (b);
}

static MoatPostureFinding *
check_profiles (const MoatIosSnapshot *snapshot)
{
  static const char *const keys[] = { "OrderedIdentifiers", "ProfileMetadata", "Status", NULL };
  GVariant *answer = snapshot->answers[MOAT_IOS_QUERY_PROFILES];
  g_autoptr(JsonBuilder) b = evidence_new (snapshot, MOAT_IOS_QUERY_PROFILES, answer, keys);
  g_autoptr(GPtrArray) names = profile_names (snapshot);
  g_autofree char *summary = NULL;
  g_autofree char *joined = NULL;
  gboolean is_supervised = FALSE;
  const char *org = NULL;

  if (names == NULL)
    {
      summary = unreadable (snapshot, MOAT_IOS_QUERY_PROFILES,
                            _("which configuration profiles are installed"));
      return finding_new ("profiles", MOAT_POSTURE_UNKNOWN, NULL, 0, summary,
                          MOAT_IOS_QUERY_PROFILES, b);
    }
  if (names->len == 0)
    return finding_new ("profiles", MOAT_POSTURE_OK, NULL, 0,
                        _("No configuration profile is installed."), MOAT_IOS_QUERY_PROFILES, b);
  joined = join_names (names);
  if (supervised (snapshot, &is_supervised, &org) && is_supervised)
    {
      summary = g_strdup_printf (_("The organisation that supervises the iPhone installed "
                                   "these profiles: %s."), joined);
      return finding_new ("profiles", MOAT_POSTURE_OK, NULL, 0, summary,
                          MOAT_IOS_QUERY_PROFILES, b);
    }
  summary = g_strdup_printf (_("These configuration profiles are installed: %s. A profile can "
                               "add certificates, a VPN or a proxy that sees all traffic: remove "
                               "any you do not know in Settings, General, VPN & Device "
                               "Management."), joined);
  return finding_new ("profiles", MOAT_POSTURE_THREAT, "os.config_profile", MOAT_SEVERITY_MEDIUM,
                      summary, MOAT_IOS_QUERY_PROFILES, b);
}

static MoatPostureFinding *
check_vpn (const MoatIosSnapshot *snapshot)
{
  g_autoptr(JsonBuilder) b = evidence_new (snapshot, MOAT_IOS_QUERY_PROFILES, NULL, NULL);
  g_autoptr(GPtrArray) names = profile_names (snapshot);

  /* No service tells a computer which VPNs are set up or on; profiles
   * (listed by name only) and VPN apps are where they come from. */
  add_names (b, "profiles", names);
  return finding_new ("vpn", MOAT_POSTURE_UNKNOWN, NULL, 0,
                      names != NULL
                      ? _("An iPhone does not tell a computer which VPN it uses. A VPN comes from "
                          "an app or a configuration profile: check Settings, VPN.")
                      : _("An iPhone does not tell a computer which VPN it uses, and Moat could "
                          "not read its profiles without pairing: check Settings, VPN."),
                      MOAT_IOS_QUERY_PROFILES, b);
}

static void
add_apps (JsonBuilder *b, const char *member, GPtrArray *apps)
{
  json_builder_set_member_name (b, member);
  json_builder_begin_array (b);
  for (guint i = 0; i < apps->len; i++)
    {
      const MoatIosApp *app = g_ptr_array_index (apps, i);

      json_builder_begin_object (b);
      add_string_or_null (b, "CFBundleIdentifier", app->bundle_id);
      add_string_or_null (b, "ApplicationType", app->type);
      add_string_or_null (b, "SignerIdentity", app->signer);
      add_string_or_null (b, "Path", app->path);
      json_builder_end_object (b);
    }
  json_builder_end_array (b);
}

static GPtrArray *
bundle_ids (GPtrArray *apps)
{
  GPtrArray *ids = g_ptr_array_new ();

  for (guint i = 0; i < apps->len; i++)
    g_ptr_array_add (ids, ((MoatIosApp *) g_ptr_array_index (apps, i))->bundle_id);
  return ids;
}

static gboolean
is_jailbreak (const MoatIosApp *app)
{
  if (g_strv_contains (jailbreak_apps, app->bundle_id))
    return TRUE;
  /* Rootless jailbreaks install apps under /var/jb; Apple's own apps are
   * the only ones in /Applications (ApplicationType System). */
  if (app->path != NULL && (strstr (app->path, "/var/jb/") != NULL ||
                            strstr (app->path, "/procursus/") != NULL))
    return TRUE;
  return is_system (app) && !g_str_has_prefix (app->bundle_id, "com.apple.");
}

static MoatPostureFinding *
check_jailbreak (const MoatIosSnapshot *snapshot)
{
  g_autoptr(JsonBuilder) b = evidence_new (snapshot, MOAT_IOS_QUERY_APPS, NULL, NULL);
  g_autoptr(GPtrArray) found = g_ptr_array_new ();

  if (snapshot->apps == NULL)
    {
      g_autofree char *summary = unreadable (snapshot, MOAT_IOS_QUERY_APPS,
                                             _("which apps are installed"));

      return finding_new ("jailbreak", MOAT_POSTURE_UNKNOWN, NULL, 0, summary,
                          MOAT_IOS_QUERY_APPS, b);
    }
  for (guint i = 0; i < snapshot->apps->len; i++)
    if (is_jailbreak (g_ptr_array_index (snapshot->apps, i)))
      g_ptr_array_add (found, g_ptr_array_index (snapshot->apps, i));
  add_apps (b, "jailbreak_apps", found);
  if (found->len > 0)
    {
      g_autoptr(GPtrArray) ids = bundle_ids (found);
      g_autofree char *joined = join_names (ids);
      g_autofree char *summary =
        g_strdup_printf (_("The iPhone is jailbroken (%s): apps can get past iOS's protections. "
                           "Restore it to remove the jailbreak."), joined);

      return finding_new ("jailbreak", MOAT_POSTURE_THREAT, "os.rooted", MOAT_SEVERITY_HIGH,
                          summary, MOAT_IOS_QUERY_APPS, b);
    }
  return finding_new ("jailbreak", MOAT_POSTURE_OK, NULL, 0,
                      _("No jailbreak app is installed."), MOAT_IOS_QUERY_APPS, b);
}

static MoatPostureFinding *
check_sideloaded (const MoatIosSnapshot *snapshot)
{
  g_autoptr(JsonBuilder) b = evidence_new (snapshot, MOAT_IOS_QUERY_APPS, NULL, NULL);
  g_autoptr(GPtrArray) side = g_ptr_array_new ();
  g_autoptr(GPtrArray) unsaid = g_ptr_array_new ();

  if (snapshot->apps == NULL)
    {
      g_autofree char *summary = unreadable (snapshot, MOAT_IOS_QUERY_APPS,
                                             _("which apps are installed"));

      return finding_new ("sideloaded-apps", MOAT_POSTURE_UNKNOWN, NULL, 0, summary,
                          MOAT_IOS_QUERY_APPS, b);
    }
  for (guint i = 0; i < snapshot->apps->len; i++)
    {
      MoatIosApp *app = g_ptr_array_index (snapshot->apps, i);

      if (is_system (app))
        continue;
      if (app->signer == NULL)
        g_ptr_array_add (unsaid, app);
      else if (!from_store (app))
        g_ptr_array_add (side, app);
    }
  add_apps (b, "sideloaded", side);
  add_apps (b, "no_signer", unsaid);
  if (side->len > 0)
    {
      g_autoptr(GPtrArray) ids = bundle_ids (side);
      g_autofree char *joined = join_names (ids);
      g_autofree char *summary =
        g_strdup_printf (_("These apps were not installed from the App Store but signed by a "
                           "company or developer certificate: %s. Remove any you do not know, "
                           "and their certificate in Settings, General, VPN & Device "
                           "Management."), joined);

      return finding_new ("sideloaded-apps", MOAT_POSTURE_THREAT, "app.sideloaded",
                          MOAT_SEVERITY_MEDIUM, summary, MOAT_IOS_QUERY_APPS, b);
    }
  return finding_new ("sideloaded-apps", MOAT_POSTURE_OK, NULL, 0,
                      _("Every app came from the App Store or with iOS."), MOAT_IOS_QUERY_APPS, b);
}

/**
 * moat_ios_check_posture:
 *
 * Returns: (transfer container) (element-type MoatPostureFinding): one
 *   finding per check, in a fixed order
 */
GPtrArray *
moat_ios_check_posture (const MoatIosSnapshot *snapshot)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_posture_finding_free);

  g_return_val_if_fail (snapshot != NULL, out);

  g_ptr_array_add (out, check_version (snapshot));
  g_ptr_array_add (out, check_passcode (snapshot));
  g_ptr_array_add (out, check_activation (snapshot));
  g_ptr_array_add (out, check_developer_mode (snapshot));
  g_ptr_array_add (out, check_supervision (snapshot));
  g_ptr_array_add (out, check_profiles (snapshot));
  g_ptr_array_add (out, check_vpn (snapshot));
  g_ptr_array_add (out, check_jailbreak (snapshot));
  g_ptr_array_add (out, check_sideloaded (snapshot));
  return out;
}
