/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-devices"

#include "config.h"

#include "moat-android-apps.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#define MAX_PACKAGES 20000
#define MAX_NAME 256

/* Installers that are app stores: an app from anything else was sideloaded. */
static const char *const stores[] = {
  "com.android.vending",            /* Google Play */
  "com.amazon.venezia",             /* Amazon Appstore */
  "com.sec.android.app.samsungapps", /* Galaxy Store */
  "com.huawei.appmarket",           /* AppGallery */
  "com.xiaomi.market",              /* GetApps */
  "com.heytap.market",              /* OPPO App Market */
  "org.fdroid.fdroid",              /* F-Droid */
  NULL
};

static const char *const system_dirs[] = {
  "/system/", "/product/", "/vendor/", "/system_ext/", "/apex/", "/odm/", NULL
};

void
moat_android_package_free (MoatAndroidPackage *package)
{
  if (package == NULL)
    return;
  g_free (package->name);
  g_free (package->path);
  g_free (package->installer);
  g_free (package);
}

static gboolean
valid_package_name (const char *name)
{
  gsize len = strlen (name);

  if (len == 0 || len > MAX_NAME || !g_ascii_isalpha (name[0]))
    return FALSE;
  for (const char *p = name; *p != '\0'; p++)
    if (!g_ascii_isalnum (*p) && *p != '.' && *p != '_')
      return FALSE;
  return TRUE;
}

/**
 * moat_android_parse_packages:
 *
 * Returns: (transfer container) (element-type MoatAndroidPackage): the
 *   packages; lines that are not a package are skipped. %NULL with
 *   G_IO_ERROR_INVALID_DATA for a NUL byte or too many packages.
 */
GPtrArray *
moat_android_parse_packages (const char  *text,
                             gsize        length,
                             GError     **error)
{
  g_autoptr(GPtrArray) packages =
    g_ptr_array_new_with_free_func ((GDestroyNotify) moat_android_package_free);
  g_autofree char *copy = NULL;
  g_auto(GStrv) lines = NULL;

  g_return_val_if_fail (text != NULL || length == 0, NULL);

  if (length == 0)
    return g_steal_pointer (&packages);
  if (memchr (text, '\0', length) != NULL)
    {
      g_set_error_literal (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA,
                           "the package list is not text");
      return NULL;
    }
  copy = g_strndup (text, length);
  lines = g_strsplit (copy, "\n", -1);
  for (guint i = 0; lines[i] != NULL; i++)
    {
      g_auto(GStrv) words = NULL;
      g_autoptr(MoatAndroidPackage) package = NULL;
      char *first, *eq;

      g_strstrip (lines[i]);
      if (!g_str_has_prefix (lines[i], "package:") || !g_utf8_validate (lines[i], -1, NULL))
        continue;
      words = g_strsplit_set (lines[i] + strlen ("package:"), " \t", -1);
      first = words[0];
      if (first == NULL || first[0] == '\0')
        continue;   /* "package:" and nothing else */
      package = g_new0 (MoatAndroidPackage, 1);
      package->uid = -1;
      /* PATH=NAME: the path may hold "=" (base64 in /data/app/~~…==/), the
       * name never does. */
      eq = strrchr (first, '=');
      if (eq != NULL)
        {
          package->path = g_strndup (first, eq - first);
          package->name = g_strdup (eq + 1);
        }
      else
        package->name = g_strdup (first);
      if (!valid_package_name (package->name))
        continue;
      for (guint w = 1; words[w] != NULL; w++)
        {
          guint64 uid;

          if (g_str_has_prefix (words[w], "installer="))
            {
              const char *value = words[w] + strlen ("installer=");

              g_clear_pointer (&package->installer, g_free);
              if (!g_str_equal (value, "null") && valid_package_name (value))
                package->installer = g_strdup (value);
            }
          else if (g_str_has_prefix (words[w], "uid:") &&
                   g_ascii_string_to_unsigned (words[w] + 4, 10, 0, G_MAXINT32, &uid, NULL))
            package->uid = (gint64) uid;
        }
      for (guint d = 0; package->path != NULL && system_dirs[d] != NULL; d++)
        package->system = package->system || g_str_has_prefix (package->path, system_dirs[d]);
      if (packages->len == MAX_PACKAGES)
        {
          g_set_error (error, G_IO_ERROR, G_IO_ERROR_INVALID_DATA, "more than %d packages",
                       MAX_PACKAGES);
          return NULL;
        }
      g_ptr_array_add (packages, g_steal_pointer (&package));
    }
  return g_steal_pointer (&packages);
}

static gboolean
valid_component (const char *text)
{
  const char *slash = strchr (text, '/');
  g_autofree char *package = NULL;

  if (slash == NULL || slash[1] == '\0' || strlen (text) > 2 * MAX_NAME)
    return FALSE;
  package = g_strndup (text, slash - text);
  return valid_package_name (package) && g_utf8_validate (text, -1, NULL);
}

/**
 * moat_android_parse_device_admins:
 *
 * Returns: (transfer full): "package/class" of each enabled admin, as
 *   `dumpsys device_policy` lists them under "Enabled Device Admins"
 */
GStrv
moat_android_parse_device_admins (const char *text,
                                  gsize       length)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autofree char *copy = g_strndup (text != NULL ? text : "", length);
  g_auto(GStrv) lines = g_strsplit (copy, "\n", -1);
  gboolean in_admins = FALSE;
  guint n = 0;

  for (guint i = 0; lines[i] != NULL && n < 256; i++)
    {
      const char *line = lines[i];
      gsize indent = strspn (line, " ");
      g_autofree char *trimmed = g_strstrip (g_strdup (line));

      if (g_str_has_prefix (trimmed, "Enabled Device Admins"))
        {
          in_admins = TRUE;
          continue;
        }
      if (!in_admins)
        continue;
      if (trimmed[0] == '\0' || indent <= 2)
        {
          in_admins = trimmed[0] == '\0' ? in_admins : FALSE;
          continue;
        }
      /* "    com.x/com.x.Receiver:" at the admin's indent */
      if (indent == 4 && g_str_has_suffix (trimmed, ":"))
        {
          trimmed[strlen (trimmed) - 1] = '\0';
          if (valid_component (trimmed))
            {
              g_strv_builder_add (builder, trimmed);
              n++;
            }
        }
    }
  return g_strv_builder_end (builder);
}

/**
 * moat_android_parse_package_list:
 *
 * Returns: (transfer full): the valid package names, one per line
 */
GStrv
moat_android_parse_package_list (const char *text,
                                 gsize       length)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autofree char *copy = g_strndup (text != NULL ? text : "", length);
  g_auto(GStrv) lines = g_strsplit (copy, "\n", -1);

  for (guint i = 0; lines[i] != NULL && i < MAX_PACKAGES; i++)
    {
      g_strstrip (lines[i]);
      if (valid_package_name (lines[i]))
        g_strv_builder_add (builder, lines[i]);
    }
  return g_strv_builder_end (builder);
}

void
moat_android_snapshot_clear (MoatAndroidSnapshot *snapshot)
{
  g_clear_pointer (&snapshot->packages, g_ptr_array_unref);
  g_clear_pointer (&snapshot->device_admins, g_strfreev);
  g_clear_pointer (&snapshot->install_allowed, g_strfreev);
  g_clear_pointer (&snapshot->accessibility, g_free);
  g_clear_pointer (&snapshot->install_non_market, g_free);
  g_clear_pointer (&snapshot->verifier, g_free);
  g_clear_pointer (&snapshot->http_proxy, g_free);
  g_clear_pointer (&snapshot->private_dns_mode, g_free);
  g_clear_pointer (&snapshot->always_on_vpn, g_free);
  g_clear_pointer (&snapshot->credential_type, g_free);
  g_clear_pointer (&snapshot->password_type, g_free);
  g_clear_pointer (&snapshot->granted, g_hash_table_unref);
}

/**
 * moat_android_parse_credential_type:
 *
 * Returns: (transfer full) (nullable): the first "CredentialType: X" value
 */
char *
moat_android_parse_credential_type (const char *text,
                                    gsize       length)
{
  g_autofree char *copy = g_strndup (text != NULL ? text : "", length);
  g_auto(GStrv) lines = g_strsplit (copy, "\n", -1);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);

      if (g_str_has_prefix (line, "CredentialType:"))
        {
          char *value = g_strstrip (line + strlen ("CredentialType:"));
          gsize n = strlen (value);

          if (n == 0 || n > 32 || !g_utf8_validate (value, -1, NULL))
            return NULL;
          for (gsize j = 0; j < n; j++)
            if (!g_ascii_isalnum (value[j]) && value[j] != '_')
              return NULL;
          return g_strdup (value);
        }
    }
  return NULL;
}

static gboolean
valid_permission (const char *name)
{
  gsize n = strlen (name);

  if (n == 0 || n > MAX_NAME)
    return FALSE;
  for (gsize i = 0; i < n; i++)
    if (!g_ascii_isalnum (name[i]) && name[i] != '.' && name[i] != '_')
      return FALSE;
  return TRUE;
}

/**
 * moat_android_parse_granted_permissions:
 *
 * Lines "NAME: granted=true[, flags=…]" in the install and runtime
 * permission sections of a package dump.
 *
 * Returns: (transfer full) (nullable): the granted permissions, or %NULL
 *   when @text has no "Package [" header
 */
GStrv
moat_android_parse_granted_permissions (const char *text,
                                        gsize       length)
{
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  g_autofree char *copy = g_strndup (text != NULL ? text : "", length);
  g_auto(GStrv) lines = g_strsplit (copy, "\n", -1);
  gboolean package = FALSE;
  gboolean section = FALSE;
  guint packages = 0;

  for (guint i = 0; lines[i] != NULL; i++)
    {
      char *line = g_strstrip (lines[i]);
      char *colon;

      if (g_str_has_prefix (line, "Package ["))
        {
          /* A dump of one package names one; a second is not believed. */
          if (++packages > 1)
            break;
          package = TRUE;
          continue;
        }
      if (g_str_equal (line, "install permissions:") ||
          g_str_equal (line, "runtime permissions:"))
        {
          section = TRUE;
          continue;
        }
      colon = strstr (line, ": granted=");
      if (colon == NULL)
        {
          section = section && g_str_has_prefix (line, "android.permission.");
          continue;
        }
      if (!section || !g_str_has_prefix (colon, ": granted=true"))
        continue;
      *colon = '\0';
      if (valid_permission (line) && !g_hash_table_contains (seen, line) &&
          g_hash_table_size (seen) < 1024)
        {
          g_strv_builder_add (builder, line);
          g_hash_table_add (seen, line);
        }
    }
  if (!package)
    return NULL;
  return g_strv_builder_end (builder);
}

/* ---- checks ---- */

static const MoatAndroidPackage *
find_package (const MoatAndroidSnapshot *snap, const char *name)
{
  for (guint i = 0; snap->packages != NULL && i < snap->packages->len; i++)
    {
      const MoatAndroidPackage *p = g_ptr_array_index (snap->packages, i);

      if (g_str_equal (p->name, name))
        return p;
    }
  return NULL;
}

static gboolean
is_sideloaded (const MoatAndroidPackage *p)
{
  return !p->system && (p->installer == NULL ||
                        !g_strv_contains ((const char * const *) stores, p->installer));
}

static MoatPostureFinding *
finding (const char        *check,
         MoatPostureResult  result,
         const char        *threat,
         MoatSeverity       severity,
         const char        *summary,
         const char        *command,
         JsonBuilder       *evidence)
{
  MoatPostureFinding *f = g_new0 (MoatPostureFinding, 1);
  g_autoptr(JsonGenerator) generator = json_generator_new ();
  g_autoptr(JsonNode) root = json_builder_get_root (evidence);

  f->check = g_strdup (check);
  f->result = result;
  f->threat = g_strdup (result == MOAT_POSTURE_THREAT ? threat : NULL);
  f->severity = result == MOAT_POSTURE_THREAT ? severity : MOAT_SEVERITY_INFO;
  f->summary = g_strdup (summary);
  f->command = g_strdup (command);
  json_generator_set_root (generator, root);
  f->evidence = json_generator_to_data (generator, NULL);
  return f;
}

static JsonBuilder *
evidence_value (const char *name, const char *value)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, name);
  if (value != NULL)
    json_builder_add_string_value (b, value);
  else
    json_builder_add_null_value (b);
  json_builder_end_object (b);
  return b;
}

static JsonBuilder *
evidence_list (const char *name, GPtrArray *items)
{
  JsonBuilder *b = json_builder_new ();

  json_builder_begin_object (b);
  json_builder_set_member_name (b, name);
  json_builder_begin_array (b);
  for (guint i = 0; i < items->len; i++)
    json_builder_add_string_value (b, g_ptr_array_index (items, i));
  json_builder_end_array (b);
  json_builder_end_object (b);
  return b;
}

static char *
join (GPtrArray *items)
{
  g_autoptr(GString) s = g_string_new (NULL);

  for (guint i = 0; i < items->len; i++)
    {
      if (i > 0)
        g_string_append (s, ", ");
      g_string_append (s, g_ptr_array_index (items, i));
    }
  return g_string_free (g_steal_pointer (&s), FALSE);
}

/* Components ("pkg/class") whose package is not part of the system. */
static GPtrArray *
non_system (const MoatAndroidSnapshot *snap, const char * const *components)
{
  GPtrArray *out = g_ptr_array_new_with_free_func (g_free);

  for (guint i = 0; components != NULL && components[i] != NULL; i++)
    {
      const char *slash = strchr (components[i], '/');
      g_autofree char *name = slash != NULL ? g_strndup (components[i], slash - components[i])
                                            : g_strdup (components[i]);
      const MoatAndroidPackage *p = find_package (snap, name);

      if (p == NULL || !p->system)
        g_ptr_array_add (out, g_strdup (components[i]));
    }
  return out;
}

GPtrArray *
moat_android_check_apps (const MoatAndroidSnapshot *snap,
                         const char                *moat_proxy)
{
  GPtrArray *out = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_posture_finding_free);

  g_return_val_if_fail (snap != NULL, out);

  /* Unknown sources: per app since Android 8, one switch before. */
  {
    g_autoptr(GPtrArray) allowed = g_ptr_array_new_with_free_func (g_free);
    g_autoptr(JsonBuilder) b = NULL;

    for (guint i = 0; snap->install_allowed != NULL && snap->install_allowed[i] != NULL; i++)
      g_ptr_array_add (allowed, g_strdup (snap->install_allowed[i]));
    if (allowed->len > 0)
      {
        g_autofree char *names = join (allowed);
        g_autofree char *summary =
          g_strdup_printf (_("These apps may install other apps from outside the store: %s."),
                           names);

        b = evidence_list ("allowed", allowed);
        g_ptr_array_add (out, finding ("unknown-sources", MOAT_POSTURE_THREAT,
                                       "os.unknown_sources", MOAT_SEVERITY_MEDIUM, summary,
                                       "appops query-op REQUEST_INSTALL_PACKAGES allow", b));
      }
    else if (g_strcmp0 (snap->install_non_market, "1") == 0)
      {
        b = evidence_value ("install_non_market_apps", snap->install_non_market);
        g_ptr_array_add (out, finding ("unknown-sources", MOAT_POSTURE_THREAT,
                                       "os.unknown_sources", MOAT_SEVERITY_MEDIUM,
                                       _("Apps from outside the store may be installed."),
                                       "settings get secure install_non_market_apps", b));
      }
    else if (snap->install_allowed != NULL)
      {
        b = evidence_list ("allowed", allowed);
        g_ptr_array_add (out, finding ("unknown-sources", MOAT_POSTURE_OK, NULL, 0,
                                       _("No app may install apps from outside the store."),
                                       "appops query-op REQUEST_INSTALL_PACKAGES allow", b));
      }
    else
      {
        b = evidence_value ("install_non_market_apps", snap->install_non_market);
        g_ptr_array_add (out, finding ("unknown-sources", MOAT_POSTURE_UNKNOWN, NULL, 0,
                                       _("The phone does not say which apps may install "
                                         "others."),
                                       "appops query-op REQUEST_INSTALL_PACKAGES allow", b));
      }
  }

  /* Play Protect's package verifier: unset means on. */
  {
    g_autoptr(JsonBuilder) b = evidence_value ("package_verifier_enable", snap->verifier);

    if (g_strcmp0 (snap->verifier, "0") == 0)
      g_ptr_array_add (out, finding ("play-protect", MOAT_POSTURE_THREAT, "os.verifier_off",
                                     MOAT_SEVERITY_MEDIUM,
                                     _("Play Protect does not check the apps installed."),
                                     "settings get global package_verifier_enable", b));
    else
      g_ptr_array_add (out, finding ("play-protect", MOAT_POSTURE_OK, NULL, 0,
                                     _("Play Protect checks the apps installed."),
                                     "settings get global package_verifier_enable", b));
  }

  /* Accessibility services read the screen and type for the user. */
  {
    g_auto(GStrv) services = g_strsplit (snap->accessibility != NULL &&
                                         !g_str_equal (snap->accessibility, "null")
                                         ? snap->accessibility : "", ":", -1);
    g_autoptr(GPtrArray) foreign = NULL;
    g_autoptr(GStrvBuilder) valid = g_strv_builder_new ();
    g_auto(GStrv) components = NULL;

    for (guint i = 0; services[i] != NULL; i++)
      if (valid_component (g_strstrip (services[i])))
        g_strv_builder_add (valid, services[i]);
    components = g_strv_builder_end (valid);
    foreign = non_system (snap, (const char * const *) components);
    if (foreign->len > 0)
      {
        g_autofree char *names = join (foreign);
        g_autofree char *summary =
          g_strdup_printf (_("These apps can read the screen and act for you: %s. Spyware "
                             "uses this."), names);
        g_autoptr(JsonBuilder) b = evidence_list ("services", foreign);

        g_ptr_array_add (out, finding ("accessibility", MOAT_POSTURE_THREAT,
                                       "app.accessibility_service", MOAT_SEVERITY_HIGH, summary,
                                       "settings get secure enabled_accessibility_services", b));
      }
    else
      {
        g_autoptr(JsonBuilder) b = evidence_value ("enabled_accessibility_services",
                                                   snap->accessibility);

        g_ptr_array_add (out, finding ("accessibility", MOAT_POSTURE_OK, NULL, 0,
                                       _("No app outside the system uses accessibility."),
                                       "settings get secure enabled_accessibility_services", b));
      }
  }

  /* Device admins can lock and wipe the phone and hold on to it. */
  {
    g_autoptr(GPtrArray) foreign = non_system (snap, (const char * const *) snap->device_admins);
    g_autoptr(GPtrArray) unknown = g_ptr_array_new_with_free_func (g_free);

    /* Google's own (Find My Device) comes from a store; only sideloaded or
     * unknown apps count. */
    for (guint i = 0; i < foreign->len; i++)
      {
        const char *component = g_ptr_array_index (foreign, i);
        g_autofree char *name = g_strndup (component, strchr (component, '/') - component);
        const MoatAndroidPackage *p = find_package (snap, name);

        if (p == NULL || is_sideloaded (p))
          g_ptr_array_add (unknown, g_strdup (component));
      }
    if (unknown->len > 0)
      {
        g_autofree char *names = join (unknown);
        g_autofree char *summary =
          g_strdup_printf (_("These apps from outside a store are device administrators: %s."),
                           names);
        g_autoptr(JsonBuilder) b = evidence_list ("admins", unknown);

        g_ptr_array_add (out, finding ("device-admins", MOAT_POSTURE_THREAT, "app.device_admin",
                                       MOAT_SEVERITY_HIGH, summary, "dumpsys device_policy", b));
      }
    else
      {
        g_autoptr(JsonBuilder) b = evidence_list ("admins", foreign);

        g_ptr_array_add (out, finding ("device-admins", MOAT_POSTURE_OK, NULL, 0,
                                       _("No app from outside a store is a device "
                                         "administrator."), "dumpsys device_policy", b));
      }
  }

  /* A global proxy sees all web traffic. */
  {
    g_autoptr(JsonBuilder) b = evidence_value ("http_proxy", snap->http_proxy);
    gboolean set = snap->http_proxy != NULL && snap->http_proxy[0] != '\0' &&
                   !g_str_equal (snap->http_proxy, "null") && !g_str_equal (snap->http_proxy, ":0");

    if (set && g_strcmp0 (snap->http_proxy, moat_proxy) != 0)
      {
        g_autofree char *summary =
          g_strdup_printf (_("All web traffic goes through the proxy %s."), snap->http_proxy);

        g_ptr_array_add (out, finding ("global-proxy", MOAT_POSTURE_THREAT, "os.global_proxy",
                                       MOAT_SEVERITY_HIGH, summary,
                                       "settings get global http_proxy", b));
      }
    else
      g_ptr_array_add (out, finding ("global-proxy", MOAT_POSTURE_OK, NULL, 0,
                                     set ? _("Web traffic goes through Moat on this computer.")
                                         : _("No global proxy is set."),
                                     "settings get global http_proxy", b));
  }

  /* Sideloaded apps. */
  {
    g_autoptr(GPtrArray) side = g_ptr_array_new_with_free_func (g_free);

    for (guint i = 0; snap->packages != NULL && i < snap->packages->len; i++)
      {
        const MoatAndroidPackage *p = g_ptr_array_index (snap->packages, i);

        if (is_sideloaded (p))
          g_ptr_array_add (side, g_strdup (p->name));
      }
    if (snap->packages == NULL)
      {
        g_autoptr(JsonBuilder) b = evidence_list ("sideloaded", side);

        g_ptr_array_add (out, finding ("sideloaded-apps", MOAT_POSTURE_UNKNOWN, NULL, 0,
                                       _("The phone did not list its apps."),
                                       "pm list packages -f -i -U", b));
      }
    else if (side->len > 0)
      {
        g_autofree char *names = join (side);
        g_autofree char *summary =
          g_strdup_printf (_("These apps were installed from outside a store: %s."), names);
        g_autoptr(JsonBuilder) b = evidence_list ("sideloaded", side);

        g_ptr_array_add (out, finding ("sideloaded-apps", MOAT_POSTURE_THREAT, "app.sideloaded",
                                       MOAT_SEVERITY_MEDIUM, summary,
                                       "pm list packages -f -i -U", b));
      }
    else
      {
        g_autoptr(JsonBuilder) b = evidence_list ("sideloaded", side);

        g_ptr_array_add (out, finding ("sideloaded-apps", MOAT_POSTURE_OK, NULL, 0,
                                       _("Every app came from a store or with the system."),
                                       "pm list packages -f -i -U", b));
      }
  }

  /* su on the path: rooted. */
  {
    g_autoptr(JsonBuilder) b = evidence_value ("su", snap->su_found ? "found" : NULL);

    g_ptr_array_add (out, snap->su_found
                     ? finding ("su", MOAT_POSTURE_THREAT, "os.rooted", MOAT_SEVERITY_HIGH,
                                _("The phone has su: apps can get root."), "which su", b)
                     : finding ("su", MOAT_POSTURE_OK, NULL, 0, _("No su on the phone."),
                                "which su", b));
  }

  /* Screen lock: only whether one is set, never the credential. */
  {
    g_autoptr(JsonBuilder) b = json_builder_new ();
    const char *type = snap->credential_type;
    const char *command = "dumpsys lock_settings";

    json_builder_begin_object (b);
    json_builder_set_member_name (b, "CredentialType");
    if (type != NULL)
      json_builder_add_string_value (b, type);
    else
      json_builder_add_null_value (b);
    json_builder_set_member_name (b, "lockscreen.password_type");
    if (snap->password_type != NULL)
      json_builder_add_string_value (b, snap->password_type);
    else
      json_builder_add_null_value (b);
    json_builder_end_object (b);

    /* Before Android 11 the dump has no credential type: the password
     * quality says (0: none; PASSWORD_QUALITY_* otherwise). */
    if (type == NULL && snap->password_type != NULL &&
        !g_str_equal (snap->password_type, "null"))
      {
        command = "settings get secure lockscreen.password_type";
        type = g_str_equal (snap->password_type, "0") ? "None" : "Set";
      }
    if (type == NULL)
      g_ptr_array_add (out, finding ("screen-lock", MOAT_POSTURE_UNKNOWN, NULL, 0,
                                     _("The phone does not say whether a screen lock is set."),
                                     command, b));
    else if (g_ascii_strcasecmp (type, "None") == 0)
      g_ptr_array_add (out, finding ("screen-lock", MOAT_POSTURE_THREAT, "os.no_screen_lock",
                                     MOAT_SEVERITY_HIGH,
                                     _("No PIN, pattern or password locks the phone."),
                                     command, b));
    else
      g_ptr_array_add (out, finding ("screen-lock", MOAT_POSTURE_OK, NULL, 0,
                                     _("A screen lock is set."), command, b));
  }

  /* Permission sets that let an app watch its user. */
  {
    static const char *const groups[][3] = {
      { "sms", "android.permission.READ_SMS", "android.permission.RECEIVE_SMS" },
      { "call-log", "android.permission.READ_CALL_LOG", NULL },
      { "microphone", "android.permission.RECORD_AUDIO", NULL },
      { "location", "android.permission.ACCESS_FINE_LOCATION",
        "android.permission.ACCESS_BACKGROUND_LOCATION" },
      { "contacts", "android.permission.READ_CONTACTS", NULL },
      { "camera", "android.permission.CAMERA", NULL },
    };
    g_autoptr(GPtrArray) flagged = g_ptr_array_new_with_free_func (g_free);
    g_autoptr(JsonBuilder) b = json_builder_new ();
    gboolean sideloaded = FALSE;

    json_builder_begin_object (b);
    for (guint i = 0; snap->packages != NULL && snap->granted != NULL &&
         i < snap->packages->len; i++)
      {
        const MoatAndroidPackage *p = g_ptr_array_index (snap->packages, i);
        const char * const *granted = g_hash_table_lookup (snap->granted, p->name);
        g_autoptr(GPtrArray) hit = g_ptr_array_new ();

        if (p->system || granted == NULL)
          continue;
        for (guint g = 0; g < G_N_ELEMENTS (groups); g++)
          if (g_strv_contains (granted, groups[g][1]) ||
              (groups[g][2] != NULL && g_strv_contains (granted, groups[g][2])))
            g_ptr_array_add (hit, (gpointer) groups[g][0]);
        if (hit->len < 3)
          continue;
        g_ptr_array_add (flagged, g_strdup (p->name));
        sideloaded |= is_sideloaded (p);
        json_builder_set_member_name (b, p->name);
        json_builder_begin_array (b);
        for (guint h = 0; h < hit->len; h++)
          json_builder_add_string_value (b, g_ptr_array_index (hit, h));
        json_builder_end_array (b);
      }
    json_builder_end_object (b);

    if (snap->packages == NULL || snap->granted == NULL)
      g_ptr_array_add (out, finding ("permissions", MOAT_POSTURE_UNKNOWN, NULL, 0,
                                     _("The phone did not say which permissions its apps "
                                       "have."), "dumpsys package NAME", b));
    else if (flagged->len > 0)
      {
        g_autofree char *names = join (flagged);
        g_autofree char *summary =
          g_strdup_printf (_("These apps may read messages, listen, or follow the phone's "
                             "location: %s."), names);

        g_ptr_array_add (out, finding ("permissions", MOAT_POSTURE_THREAT,
                                       "app.dangerous_permissions",
                                       sideloaded ? MOAT_SEVERITY_HIGH : MOAT_SEVERITY_MEDIUM,
                                       summary, "dumpsys package NAME", b));
      }
    else
      g_ptr_array_add (out, finding ("permissions", MOAT_POSTURE_OK, NULL, 0,
                                     _("No app outside the system holds permissions to spy on its "
                                       "user."),
                                     "dumpsys package NAME", b));
  }

  /* For the record. */
  {
    g_autoptr(JsonBuilder) b = evidence_value ("private_dns_mode", snap->private_dns_mode);

    g_ptr_array_add (out, finding ("private-dns", MOAT_POSTURE_OK, NULL, 0,
                                   g_strcmp0 (snap->private_dns_mode, "hostname") == 0
                                   ? _("Private DNS uses a chosen server.")
                                   : _("Private DNS is automatic or off."),
                                   "settings get global private_dns_mode", b));
  }
  {
    g_autoptr(JsonBuilder) b = evidence_value ("always_on_vpn_app", snap->always_on_vpn);
    gboolean set = snap->always_on_vpn != NULL && !g_str_equal (snap->always_on_vpn, "null") &&
                   snap->always_on_vpn[0] != '\0';
    g_autofree char *summary = set ? g_strdup_printf (_("The VPN of %s is always on."),
                                                      snap->always_on_vpn)
                                   : g_strdup (_("No VPN is always on."));

    g_ptr_array_add (out, finding ("always-on-vpn", MOAT_POSTURE_OK, NULL, 0, summary,
                                   "settings get secure always_on_vpn_app", b));
  }
  return out;
}
