/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-devices"

#include "config.h"

#include "moat-android-inspector.h"

#include <glib/gi18n.h>
#include <json-glib/json-glib.h>
#include <string.h>

#include "moat-error.h"

/* How many commands run on a phone at once, and how many apps' permission
 * dumps are read at most. */
#define PARALLEL 3
#define MAX_PACKAGE_DUMPS 400
#define PACKAGE_DUMP "dumpsys package NAME"

static const char *const commands[] = {
  "getprop",
  "pm list packages -f -i -U",
  "dumpsys device_policy",
  "appops query-op REQUEST_INSTALL_PACKAGES allow",
  "settings get secure install_non_market_apps",
  "settings get secure enabled_accessibility_services",
  "settings get global package_verifier_enable",
  "settings get global http_proxy",
  "settings get global private_dns_mode",
  "settings get secure always_on_vpn_app",
  "dumpsys lock_settings",
  "settings get secure lockscreen.password_type",
  "which su",
  NULL
};

const char * const *
moat_android_inspect_commands (void)
{
  return commands;
}

void
moat_android_posture_free (MoatAndroidPosture *posture)
{
  if (posture == NULL)
    return;
  g_free (posture->serial);
  g_free (posture->model);
  g_free (posture->os);
  g_clear_pointer (&posture->findings, g_ptr_array_unref);
  g_clear_pointer (&posture->packages, g_ptr_array_unref);
  g_free (posture);
}

typedef struct {
  MoatAdbClient *client;
  char          *serial;
  char          *moat_proxy;
  guint          timeout_ms;
  GQueue         pending;       /* char *command */
  guint          in_flight;
  gboolean       dumps_queued;
  GHashTable    *outputs;       /* command -> GBytes, when it succeeded */
  GHashTable    *exit_codes;    /* command -> exit code */
  GHashTable    *errors;        /* command -> error message */
  GPtrArray     *packages;
  guint          dumps_tried;
  gboolean       done;          /* the task returned; steps still out just end */
} Inspection;

static void
inspection_free (Inspection *in)
{
  g_clear_object (&in->client);
  g_free (in->serial);
  g_free (in->moat_proxy);
  g_queue_clear_full (&in->pending, g_free);
  g_clear_pointer (&in->outputs, g_hash_table_unref);
  g_clear_pointer (&in->exit_codes, g_hash_table_unref);
  g_clear_pointer (&in->errors, g_hash_table_unref);
  g_clear_pointer (&in->packages, g_ptr_array_unref);
  g_free (in);
}

static void run_next (GTask *task);

/* The trimmed output of @command, or %NULL when it failed. */
static char *
output_text (Inspection *in,
             const char *command)
{
  GBytes *out = g_hash_table_lookup (in->outputs, command);
  gsize size;
  const char *data;

  if (out == NULL)
    return NULL;
  data = g_bytes_get_data (out, &size);
  return g_strstrip (g_strndup (data != NULL ? data : "", size));
}

typedef struct {
  GTask *task;
  char  *command;
} Step;

static void
shell_cb (GObject      *source,
          GAsyncResult *result,
          gpointer      user_data)
{
  Step *step = user_data;
  g_autoptr(GTask) task = step->task;
  g_autofree char *command = step->command;
  Inspection *in = g_task_get_task_data (task);
  g_autoptr(GError) error = NULL;
  g_autoptr(MoatAdbShellResult) r = moat_adb_client_shell_finish (MOAT_ADB_CLIENT (source),
                                                                  result, &error);

  g_free (step);
  in->in_flight--;
  if (r == NULL)
    {
      g_debug ("%s: “%s” failed: %s", in->serial, command, error->message);
      g_hash_table_replace (in->errors, g_strdup (command), g_strdup (error->message));
    }
  else
    {
      /* `which` exits 1 for "not found"; every other command must exit 0. */
      gboolean ok = r->exit_code == 0 ||
                    (g_str_has_prefix (command, "which ") && r->exit_code == 1);
      gsize out_size;
      const char *out_data = g_bytes_get_data (r->out, &out_size);

      g_hash_table_replace (in->exit_codes, g_strdup (command),
                            GINT_TO_POINTER (r->exit_code));
      if (ok && out_data != NULL && memchr (out_data, '\0', out_size) != NULL)
        /* Every command here prints text: a NUL means garbage, and cutting
         * the text there would make a short answer of it. */
        g_hash_table_replace (in->errors, g_strdup (command),
                              g_strdup (_("its answer is not text")));
      else if (ok)
        g_hash_table_replace (in->outputs, g_strdup (command), g_bytes_ref (r->out));
      else
        {
          gsize size;
          const char *data = g_bytes_get_data (r->err, &size);
          g_autofree char *err = g_strstrip (g_strndup (data != NULL ? data : "",
                                                        MIN (size, 512)));

          if (!g_utf8_validate (err, -1, NULL) || err[0] == '\0')
            g_clear_pointer (&err, g_free);
          g_hash_table_replace (in->errors, g_strdup (command),
                                g_strdup_printf (_("It exited with code %d%s%s"), r->exit_code,
                                                 err != NULL ? ": " : "",
                                                 err != NULL ? err : ""));
        }
    }
  run_next (task);
}

static MoatPostureFinding *
unknown_finding (const MoatPostureFinding *old,
                 const char               *error)
{
  MoatPostureFinding *f = g_new0 (MoatPostureFinding, 1);
  g_autoptr(JsonBuilder) b = json_builder_new ();
  g_autoptr(JsonGenerator) gen = json_generator_new ();
  g_autoptr(JsonNode) root = NULL;

  json_builder_begin_object (b);
  json_builder_set_member_name (b, "error");
  json_builder_add_string_value (b, error);
  json_builder_end_object (b);
  root = json_builder_get_root (b);
  json_generator_set_root (gen, root);

  f->check = g_strdup (old->check);
  f->result = MOAT_POSTURE_UNKNOWN;
  f->severity = MOAT_SEVERITY_INFO;
  f->summary = g_strdup_printf (_("Moat could not run this check on the phone: %s."), error);
  f->evidence = json_generator_to_data (gen, NULL);
  f->command = g_strdup (old->command);
  return f;
}

/* A check whose command failed says so, whatever its parser made of nothing. */
static void
mark_failed (Inspection *in,
             GPtrArray  *findings)
{
  for (guint i = 0; i < findings->len; i++)
    {
      MoatPostureFinding *f = g_ptr_array_index (findings, i);
      const char *error = f->command != NULL ? g_hash_table_lookup (in->errors, f->command)
                                             : NULL;

      if (f->command != NULL && g_str_equal (f->command, PACKAGE_DUMP) &&
          f->result == MOAT_POSTURE_UNKNOWN && in->dumps_tried > 0)
        error = _("no app's permissions could be read");
      if (error == NULL)
        continue;
      g_ptr_array_index (findings, i) = unknown_finding (f, error);
      moat_posture_finding_free (f);
    }
}

static void
queue_package_dumps (Inspection *in)
{
  in->dumps_queued = TRUE;
  for (guint i = 0; in->packages != NULL && i < in->packages->len; i++)
    {
      const MoatAndroidPackage *p = g_ptr_array_index (in->packages, i);

      if (p->system)
        continue;
      if (in->dumps_tried >= MAX_PACKAGE_DUMPS)
        break;
      in->dumps_tried++;
      g_queue_push_tail (&in->pending, g_strdup_printf ("dumpsys package %s", p->name));
    }
}

static void
finish (GTask *task)
{
  Inspection *in = g_task_get_task_data (task);
  g_autoptr(MoatAndroidPosture) posture = g_new0 (MoatAndroidPosture, 1);
  g_autoptr(GHashTable) props = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_utc ();
  g_autoptr(GPtrArray) apps = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *getprop = output_text (in, "getprop");
  g_autofree char *packages = output_text (in, "pm list packages -f -i -U");
  g_autofree char *admins = output_text (in, "dumpsys device_policy");
  g_autofree char *allowed = output_text (in, "appops query-op REQUEST_INSTALL_PACKAGES allow");
  g_autofree char *lock = output_text (in, "dumpsys lock_settings");
  g_autofree char *su = output_text (in, "which su");
  MoatAndroidSnapshot snap = { 0 };
  const char *model, *maker, *release, *patch;

  if (getprop == NULL)
    {
      const char *why = g_hash_table_lookup (in->errors, "getprop");

      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_FAILED,
                               _("The phone did not answer: %s"),
                               why != NULL ? why : "getprop");
      return;
    }
  props = moat_android_parse_getprop (getprop, strlen (getprop), NULL, &error);
  if (props == NULL)
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_FAILED,
                               _("The phone’s properties make no sense: %s"), error->message);
      return;
    }

  posture->serial = g_strdup (in->serial);
  maker = g_hash_table_lookup (props, "ro.product.manufacturer");
  model = g_hash_table_lookup (props, "ro.product.model");
  release = g_hash_table_lookup (props, "ro.build.version.release");
  patch = g_hash_table_lookup (props, "ro.build.version.security_patch");
  posture->model = g_strstrip (g_strdup_printf ("%s %s", maker != NULL ? maker : "",
                                                model != NULL ? model : ""));
  if (release != NULL && patch != NULL)
    posture->os = g_strdup_printf (_("Android %s, patch %s"), release, patch);
  else if (release != NULL)
    posture->os = g_strdup_printf (_("Android %s"), release);
  else
    posture->os = g_strdup ("");

  snap.packages = in->packages != NULL ? g_ptr_array_ref (in->packages) : NULL;
  snap.device_admins = admins != NULL ? moat_android_parse_device_admins (admins, strlen (admins))
                                      : NULL;
  snap.install_allowed = allowed != NULL ? moat_android_parse_package_list (allowed,
                                                                            strlen (allowed))
                                         : NULL;
  snap.install_non_market = output_text (in, "settings get secure install_non_market_apps");
  snap.accessibility = output_text (in, "settings get secure enabled_accessibility_services");
  snap.verifier = output_text (in, "settings get global package_verifier_enable");
  snap.http_proxy = output_text (in, "settings get global http_proxy");
  snap.private_dns_mode = output_text (in, "settings get global private_dns_mode");
  snap.always_on_vpn = output_text (in, "settings get secure always_on_vpn_app");
  snap.password_type = output_text (in, "settings get secure lockscreen.password_type");
  snap.credential_type = lock != NULL ? moat_android_parse_credential_type (lock, strlen (lock))
                                      : NULL;
  snap.su_found = su != NULL &&
                  GPOINTER_TO_INT (g_hash_table_lookup (in->exit_codes, "which su")) == 0 &&
                  su[0] == '/';

  if (in->packages != NULL)
    {
      guint read = 0;

      snap.granted = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                            (GDestroyNotify) g_strfreev);
      for (guint i = 0; i < in->packages->len; i++)
        {
          const MoatAndroidPackage *p = g_ptr_array_index (in->packages, i);
          g_autofree char *cmd = g_strdup_printf ("dumpsys package %s", p->name);
          g_autofree char *dump = p->system ? NULL : output_text (in, cmd);
          GStrv granted = dump != NULL ? moat_android_parse_granted_permissions (dump,
                                                                                 strlen (dump))
                                       : NULL;

          if (granted != NULL)
            {
              g_hash_table_replace (snap.granted, g_strdup (p->name), granted);
              read++;
            }
        }
      if (read == 0 && in->dumps_tried > 0)
        g_clear_pointer (&snap.granted, g_hash_table_unref);
    }

  posture->findings = moat_android_check_properties (props, now);
  apps = moat_android_check_apps (&snap, in->moat_proxy);
  g_ptr_array_extend_and_steal (posture->findings, g_steal_pointer (&apps));
  mark_failed (in, posture->findings);
  posture->packages = in->packages != NULL ? g_ptr_array_ref (in->packages) : NULL;
  posture->failed = g_hash_table_size (in->errors);
  moat_android_snapshot_clear (&snap);
  g_task_return_pointer (task, g_steal_pointer (&posture),
                         (GDestroyNotify) moat_android_posture_free);
}

static void
run_next (GTask *task)
{
  Inspection *in = g_task_get_task_data (task);

  if (in->done)
    return;
  if (g_task_return_error_if_cancelled (task))
    {
      in->done = TRUE;
      return;
    }
  while (in->in_flight < PARALLEL && !g_queue_is_empty (&in->pending))
    {
      Step *step = g_new0 (Step, 1);

      step->task = g_object_ref (task);
      step->command = g_queue_pop_head (&in->pending);
      in->in_flight++;
      moat_adb_client_shell_async (in->client, in->serial, step->command, in->timeout_ms,
                                   g_task_get_cancellable (task), shell_cb, step);
    }
  if (in->in_flight > 0 || !g_queue_is_empty (&in->pending))
    return;

  if (!in->dumps_queued)
    {
      g_autofree char *text = output_text (in, "pm list packages -f -i -U");

      if (text != NULL)
        in->packages = moat_android_parse_packages (text, strlen (text), NULL);
      queue_package_dumps (in);
      if (!g_queue_is_empty (&in->pending))
        {
          run_next (task);
          return;
        }
    }
  in->done = TRUE;
  finish (task);
}

void
moat_android_inspect_async (MoatAdbClient       *client,
                            const char          *serial,
                            const char          *moat_proxy,
                            guint                timeout_ms,
                            GCancellable        *cancellable,
                            GAsyncReadyCallback  callback,
                            gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  Inspection *in;

  g_return_if_fail (MOAT_IS_ADB_CLIENT (client));
  g_return_if_fail (serial != NULL);

  task = g_task_new (client, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_android_inspect_async);
  in = g_new0 (Inspection, 1);
  in->client = g_object_ref (client);
  in->serial = g_strdup (serial);
  in->moat_proxy = g_strdup (moat_proxy);
  in->timeout_ms = timeout_ms > 0 ? timeout_ms : MOAT_ANDROID_INSPECT_TIMEOUT_MS;
  in->outputs = g_hash_table_new_full (g_str_hash, g_str_equal, g_free,
                                       (GDestroyNotify) g_bytes_unref);
  in->exit_codes = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  in->errors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  for (guint i = 0; commands[i] != NULL; i++)
    g_queue_push_tail (&in->pending, g_strdup (commands[i]));
  g_task_set_task_data (task, in, (GDestroyNotify) inspection_free);
  run_next (task);
}

MoatAndroidPosture *
moat_android_inspect_finish (GAsyncResult  *result,
                             GError       **error)
{
  g_return_val_if_fail (G_IS_TASK (result), NULL);
  g_return_val_if_fail (g_task_get_source_tag (G_TASK (result)) == moat_android_inspect_async, NULL);

  return g_task_propagate_pointer (G_TASK (result), error);
}
