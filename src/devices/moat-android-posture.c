/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-devices"

#include "config.h"

#include "moat-android-posture.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define GETPROP_COMMAND "getprop"
#define PATCH_MEDIUM_DAYS 90
#define PATCH_HIGH_DAYS 365
#define FUTURE_SLACK_DAYS 31
#define MIN_SUPPORTED_SDK 31   /* Android 12 */

void
moat_posture_finding_free (MoatPostureFinding *finding)
{
  if (finding == NULL)
    return;
  g_free (finding->check);
  g_free (finding->threat);
  g_free (finding->summary);
  g_free (finding->evidence);
  g_free (finding->command);
  g_free (finding);
}

const char *
moat_posture_result_to_string (MoatPostureResult result)
{
  switch (result)
    {
    case MOAT_POSTURE_OK:
      return "ok";
    case MOAT_POSTURE_THREAT:
      return "threat";
    case MOAT_POSTURE_UNKNOWN:
    default:
      return "unknown";
    }
}

/* ---- getprop ---- */

static gboolean
printable (const char *text, gsize len)
{
  if (!g_utf8_validate (text, len, NULL))
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if ((guchar) text[i] < 0x20 && text[i] != '\t')
      return FALSE;
  return TRUE;
}

/**
 * moat_android_parse_getprop:
 *
 * Returns: (transfer full) (element-type utf8 utf8): name → value, or %NULL
 *   with G_IO_ERROR_INVALID_DATA
 */
GHashTable *
moat_android_parse_getprop (const char  *text,
                            gsize        length,
                            guint       *out_skipped,
                            GError     **error)
{
  g_autoptr(GHashTable) props = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  guint skipped = 0;

  g_return_val_if_fail (text != NULL || length == 0, NULL);

  if (length > 0 && memchr (text, '\0', length) != NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "getprop's output is not text");
      return NULL;
    }
  for (const char *line = text, *end = text + length; line < end;)
    {
      const char *nl = memchr (line, '\n', end - line);
      const char *stop = nl != NULL ? nl : end;
      const char *close_name, *open_value;
      gsize len = stop - line;

      if (len > 0 && line[len - 1] == '\r')
        len--;
      /* [name]: [value] */
      close_name = len > 0 && line[0] == '[' ? memchr (line, ']', len) : NULL;
      open_value = close_name != NULL && (gsize) (close_name - line) + 4 <= len &&
                   close_name[1] == ':' && close_name[2] == ' ' && close_name[3] == '['
                   ? close_name + 4 : NULL;
      if (open_value == NULL || line[len - 1] != ']' || open_value > line + len - 1)
        {
          if (len > 0)
            skipped++;
        }
      else
        {
          gsize name_len = close_name - line - 1;
          gsize value_len = line + len - 1 - open_value;

          if (name_len == 0 || name_len > MOAT_GETPROP_MAX_NAME ||
              value_len > MOAT_GETPROP_MAX_VALUE || !printable (line + 1, name_len) ||
              !printable (open_value, value_len))
            skipped++;
          else
            {
              g_autofree char *name = g_strndup (line + 1, name_len);

              if (!g_hash_table_contains (props, name))
                {
                  if (g_hash_table_size (props) == MOAT_GETPROP_MAX_PROPS)
                    {
                      g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                                   "more than %d properties", MOAT_GETPROP_MAX_PROPS);
                      return NULL;
                    }
                  g_hash_table_insert (props, g_steal_pointer (&name),
                                       g_strndup (open_value, value_len));
                }
            }
        }
      line = nl != NULL ? nl + 1 : end;
    }
  if (out_skipped != NULL)
    *out_skipped = skipped;
  return g_steal_pointer (&props);
}

/* ---- checks ---- */

static MoatPostureFinding *
finding_new (const char        *check,
             MoatPostureResult  result,
             const char        *threat,
             MoatSeverity       severity,
             const char        *summary,
             GHashTable        *props,
             const char * const *names)
{
  MoatPostureFinding *f = g_new0 (MoatPostureFinding, 1);
  g_autoptr(JsonBuilder) builder = json_builder_new ();
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  f->check = g_strdup (check);
  f->result = result;
  f->threat = g_strdup (result == MOAT_POSTURE_THREAT ? threat : NULL);
  f->severity = result == MOAT_POSTURE_THREAT ? severity : MOAT_SEVERITY_INFO;
  f->summary = g_strdup (summary);
  f->command = g_strdup (GETPROP_COMMAND);
  json_builder_begin_object (builder);
  for (guint i = 0; names[i] != NULL; i++)
    {
      const char *value = g_hash_table_lookup (props, names[i]);

      json_builder_set_member_name (builder, names[i]);
      if (value != NULL)
        json_builder_add_string_value (builder, value);
      else
        json_builder_add_null_value (builder);
    }
  json_builder_end_object (builder);
  root = json_builder_get_root (builder);
  json_generator_set_root (generator, root);
  f->evidence = json_generator_to_data (generator, NULL);
  return f;
}

static MoatPostureFinding *
check_patch (GHashTable *props, GDateTime *now)
{
  static const char *const names[] = { "ro.build.version.security_patch", NULL };
  const char *patch = g_hash_table_lookup (props, names[0]);
  g_autoptr(GDateTime) date = NULL;
  g_autofree char *iso = NULL;
  g_autofree char *summary = NULL;
  GTimeSpan age;
  int days;

  if (patch != NULL && strlen (patch) == 10)
    {
      iso = g_strconcat (patch, "T00:00:00Z", NULL);
      date = g_date_time_new_from_iso8601 (iso, NULL);
    }
  if (date == NULL)
    return finding_new ("security-patch", MOAT_POSTURE_UNKNOWN, NULL, 0,
                        _("The phone does not say which security patch it has."), props, names);
  age = g_date_time_difference (now, date);
  days = (int) (age / G_TIME_SPAN_DAY);
  if (days < -FUTURE_SLACK_DAYS)
    {
      summary = g_strdup_printf (_("The phone claims a security patch from the future (%s): "
                                   "it cannot be believed."), patch);
      return finding_new ("security-patch", MOAT_POSTURE_UNKNOWN, NULL, 0, summary, props, names);
    }
  if (days > PATCH_MEDIUM_DAYS)
    {
      summary = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                              "The security patch is from %s, %d day old: the "
                                              "phone lacks fixes for known attacks.",
                                              "The security patch is from %s, %d days old: the "
                                              "phone lacks fixes for known attacks.", days),
                                 patch, days);
      return finding_new ("security-patch", MOAT_POSTURE_THREAT, "os.outdated_patch",
                          days > PATCH_HIGH_DAYS ? MOAT_SEVERITY_HIGH : MOAT_SEVERITY_MEDIUM,
                          summary, props, names);
    }
  summary = g_strdup_printf (_("The security patch is from %s: current."), patch);
  return finding_new ("security-patch", MOAT_POSTURE_OK, NULL, 0, summary, props, names);
}

static MoatPostureFinding *
check_version (GHashTable *props)
{
  static const char *const names[] = { "ro.build.version.sdk", "ro.build.version.release", NULL };
  const char *sdk = g_hash_table_lookup (props, names[0]);
  const char *release = g_hash_table_lookup (props, names[1]);
  g_autofree char *summary = NULL;
  guint64 level;

  if (sdk == NULL || !g_ascii_string_to_unsigned (sdk, 10, 1, 1000, &level, NULL))
    return finding_new ("android-version", MOAT_POSTURE_UNKNOWN, NULL, 0,
                        _("The phone does not say which Android it runs."), props, names);
  if (level < MIN_SUPPORTED_SDK)
    {
      summary = g_strdup_printf (_("Android %s no longer gets security updates."),
                                 release != NULL ? release : sdk);
      return finding_new ("android-version", MOAT_POSTURE_THREAT, "os.unsupported_version",
                          MOAT_SEVERITY_HIGH, summary, props, names);
    }
  summary = g_strdup_printf (_("Android %s still gets security updates."),
                             release != NULL ? release : sdk);
  return finding_new ("android-version", MOAT_POSTURE_OK, NULL, 0, summary, props, names);
}

static MoatPostureFinding *
check_verified_boot (GHashTable *props)
{
  static const char *const names[] = { "ro.boot.verifiedbootstate", NULL };
  const char *state = g_hash_table_lookup (props, names[0]);

  if (g_strcmp0 (state, "green") == 0)
    return finding_new ("verified-boot", MOAT_POSTURE_OK, NULL, 0,
                        _("Verified boot checked the system: it is the maker's."), props, names);
  if (g_strcmp0 (state, "yellow") == 0)
    return finding_new ("verified-boot", MOAT_POSTURE_THREAT, "os.verified_boot",
                        MOAT_SEVERITY_MEDIUM,
                        _("The system is signed with a key that is not the maker's."),
                        props, names);
  if (g_strcmp0 (state, "orange") == 0)
    return finding_new ("verified-boot", MOAT_POSTURE_THREAT, "os.verified_boot",
                        MOAT_SEVERITY_HIGH,
                        _("Verified boot is off: the system may have been changed."), props, names);
  if (g_strcmp0 (state, "red") == 0)
    return finding_new ("verified-boot", MOAT_POSTURE_THREAT, "os.verified_boot",
                        MOAT_SEVERITY_CRITICAL,
                        _("Verified boot found the system corrupted."), props, names);
  return finding_new ("verified-boot", MOAT_POSTURE_UNKNOWN, NULL, 0,
                      _("The phone does not say whether verified boot checked its system."),
                      props, names);
}

static MoatPostureFinding *
check_bootloader (GHashTable *props)
{
  static const char *const names[] = { "ro.boot.flash.locked", "ro.boot.vbmeta.device_state",
                                       NULL };
  const char *locked = g_hash_table_lookup (props, names[0]);
  const char *state = g_hash_table_lookup (props, names[1]);
  gboolean says_locked = g_strcmp0 (locked, "1") == 0 || g_strcmp0 (state, "locked") == 0;
  gboolean says_unlocked = g_strcmp0 (locked, "0") == 0 || g_strcmp0 (state, "unlocked") == 0;

  if (says_unlocked)
    return finding_new ("bootloader", MOAT_POSTURE_THREAT, "os.unlocked_bootloader",
                        MOAT_SEVERITY_HIGH,
                        _("The bootloader is unlocked: anyone holding the phone can replace its "
                          "system."), props, names);
  if (says_locked)
    return finding_new ("bootloader", MOAT_POSTURE_OK, NULL, 0, _("The bootloader is locked."),
                        props, names);
  return finding_new ("bootloader", MOAT_POSTURE_UNKNOWN, NULL, 0,
                      _("The phone does not say whether its bootloader is locked."), props, names);
}

static MoatPostureFinding *
check_encryption (GHashTable *props)
{
  static const char *const names[] = { "ro.crypto.state", "ro.crypto.type", NULL };
  const char *state = g_hash_table_lookup (props, names[0]);

  if (g_strcmp0 (state, "encrypted") == 0)
    return finding_new ("encryption", MOAT_POSTURE_OK, NULL, 0, _("The phone's storage is "
                                                                   "encrypted."), props, names);
  if (g_strcmp0 (state, "unencrypted") == 0)
    return finding_new ("encryption", MOAT_POSTURE_THREAT, "os.unencrypted", MOAT_SEVERITY_HIGH,
                        _("The phone's storage is not encrypted: whoever finds the phone can "
                          "read it."), props, names);
  return finding_new ("encryption", MOAT_POSTURE_UNKNOWN, NULL, 0,
                      _("The phone does not say whether its storage is encrypted."), props, names);
}

static MoatPostureFinding *
check_build (GHashTable *props)
{
  static const char *const names[] = { "ro.build.type", "ro.debuggable", "ro.secure", NULL };
  const char *type = g_hash_table_lookup (props, names[0]);
  const char *debuggable = g_hash_table_lookup (props, names[1]);
  const char *secure = g_hash_table_lookup (props, names[2]);

  if (g_strcmp0 (type, "userdebug") == 0 || g_strcmp0 (type, "eng") == 0 ||
      g_strcmp0 (secure, "0") == 0)
    return finding_new ("build-type", MOAT_POSTURE_THREAT, "os.rooted", MOAT_SEVERITY_HIGH,
                        _("The phone runs a development build that gives apps root."),
                        props, names);
  if (g_strcmp0 (debuggable, "1") == 0)
    return finding_new ("build-type", MOAT_POSTURE_THREAT, "os.rooted", MOAT_SEVERITY_MEDIUM,
                        _("The system can be debugged: a sign of a modified phone."), props,
                        names);
  if (g_strcmp0 (type, "user") == 0)
    return finding_new ("build-type", MOAT_POSTURE_OK, NULL, 0,
                        _("The phone runs a normal release build."), props, names);
  return finding_new ("build-type", MOAT_POSTURE_UNKNOWN, NULL, 0,
                      _("The phone does not say which kind of build it runs."), props, names);
}

static MoatPostureFinding *
check_usb_debugging (GHashTable *props)
{
  static const char *const names[] = { "persist.sys.usb.config", "sys.usb.state",
                                       "service.adb.tcp.port", NULL };
  const char *config = g_hash_table_lookup (props, names[0]);
  const char *state = g_hash_table_lookup (props, names[1]);
  const char *tcp = g_hash_table_lookup (props, names[2]);

  /* Moat reads the phone through adb, so it is on; over Wi-Fi it is worse. */
  if (tcp != NULL && tcp[0] != '\0' && g_strcmp0 (tcp, "0") != 0 && g_strcmp0 (tcp, "-1") != 0)
    return finding_new ("usb-debugging", MOAT_POSTURE_THREAT, "os.dev_options",
                        MOAT_SEVERITY_MEDIUM,
                        _("Debugging over the network is on: anyone on the same network may try "
                          "to connect."), props, names);
  if ((config != NULL && strstr (config, "adb") != NULL) ||
      (state != NULL && strstr (state, "adb") != NULL))
    return finding_new ("usb-debugging", MOAT_POSTURE_THREAT, "os.dev_options",
                        MOAT_SEVERITY_LOW,
                        _("USB debugging is on. Turn it off when the helpdesk is done."),
                        props, names);
  return finding_new ("usb-debugging", MOAT_POSTURE_UNKNOWN, NULL, 0,
                      _("The phone does not say whether USB debugging is on."), props, names);
}

/**
 * moat_android_check_properties:
 *
 * Returns: (transfer container) (element-type MoatPostureFinding): one
 *   finding per check, in a fixed order
 */
GPtrArray *
moat_android_check_properties (GHashTable *props,
                               GDateTime  *now)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_posture_finding_free);

  g_return_val_if_fail (props != NULL && now != NULL, out);

  g_ptr_array_add (out, check_patch (props, now));
  g_ptr_array_add (out, check_version (props));
  g_ptr_array_add (out, check_verified_boot (props));
  g_ptr_array_add (out, check_bootloader (props));
  g_ptr_array_add (out, check_encryption (props));
  g_ptr_array_add (out, check_build (props));
  g_ptr_array_add (out, check_usb_debugging (props));
  return out;
}
