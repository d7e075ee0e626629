/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 *
 * "Protect this computer": the desktop's proxy settings point at Moat's PAC
 * file, and go back exactly as they were.
 *
 * The state file is written before the settings change and deleted after
 * they are restored, so a crash at any point leaves either nothing to do or a
 * file that recovery can act on: a file whose PAC URL the settings do not
 * name (the crash came before the change, or the user changed them since) is
 * simply dropped.
 *
 * State file: GVariant "(usa{smv})": format version, the PAC URL Moat set,
 * and for each key Moat changed its user value before, or nothing when it
 * was at its default (restored with g_settings_reset()).
 */
#define G_LOG_DOMAIN "moat-engine"

#include "config.h"

#include "moat-system-proxy.h"

#include "moat-error.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#define STATE_VERSION 1
#define STATE_TYPE "(usa{smv})"
#define STATE_MAX_SIZE (64 * 1024)
#define PAC_URL_MAX_LENGTH 2048

/* The keys enabling changes, all in the root schema. */
static const char * const changed_keys[] = { "mode", "autoconfig-url" };

typedef enum {
  OP_ENABLE,
  OP_DISABLE,
  OP_RECOVER,
  OP_FORGET,   /* someone else changed the settings: drop the state file */
} OpKind;

typedef struct {
  OpKind    kind;
  char     *pac_url;    /* OP_ENABLE */
  GVariant *saved;      /* a{smv}, what the op restores or saves */
  gboolean  restored;   /* OP_RECOVER */
} OpData;

typedef enum {
  FILE_LOAD,
  FILE_WRITE,
  FILE_DELETE,
} FileJobKind;

typedef struct {
  FileJobKind  kind;
  char        *dir;
  char        *path;
  GBytes      *contents;   /* FILE_WRITE */
} FileJob;

struct _MoatSystemProxy
{
  GObject       parent_instance;

  /* owned */
  char         *data_dir;
  char         *state_path;
  GSettings    *settings;   /* NULL when the schema is not installed */
  GSettings    *writer;     /* the same keys in delay-apply mode: each change is one
                             * atomic changeset, never half applied */
  GQueue        pending;    /* GTask *, waiting for their turn */
  GTask        *current;    /* the op running now */
  char         *pac_url;    /* while enabled */
  GVariant     *saved;      /* while enabled: a{smv} */

  gboolean      enabled;
  guint         writing;    /* > 0 while Moat itself changes the settings */
};

G_DEFINE_FINAL_TYPE (MoatSystemProxy, moat_system_proxy, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_DATA_DIR,
  PROP_SETTINGS,
  PROP_ENABLED,
  PROP_PAC_URL,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void run_next (MoatSystemProxy *self);

static void
op_data_free (OpData *data)
{
  g_free (data->pac_url);
  g_clear_pointer (&data->saved, g_variant_unref);
  g_free (data);
}

static void
file_job_free (FileJob *job)
{
  g_free (job->dir);
  g_free (job->path);
  g_clear_pointer (&job->contents, g_bytes_unref);
  g_free (job);
}

static void
run_file_job_in_thread (GTask        *task,
                        gpointer      source_object,
                        gpointer      task_data,
                        GCancellable *cancellable)
{
  FileJob *job = task_data;
  g_autoptr(GError) error = NULL;

  switch (job->kind)
    {
    case FILE_LOAD:
      {
        g_autofree char *contents = NULL;
        gsize len = 0;

        if (!g_file_get_contents (job->path, &contents, &len, &error))
          {
            if (g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
              g_task_return_pointer (task, NULL, NULL);
            else
              g_task_return_error (task, g_steal_pointer (&error));
            return;
          }
        if (len > STATE_MAX_SIZE)
          {
            g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                                     "%s is too large to be Moat’s saved proxy settings",
                                     job->path);
            return;
          }
        g_task_return_pointer (task, g_bytes_new_take (g_steal_pointer (&contents), len),
                               (GDestroyNotify) g_bytes_unref);
        return;
      }
    case FILE_WRITE:
      if (g_mkdir_with_parents (job->dir, 0700) != 0)
        {
          int saved_errno = errno;

          g_task_return_new_error (task, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                                   "Could not create %s: %s", job->dir,
                                   g_strerror (saved_errno));
          return;
        }
      if (!g_file_set_contents_full (job->path, g_bytes_get_data (job->contents, NULL),
                                     (gssize) g_bytes_get_size (job->contents),
                                     G_FILE_SET_CONTENTS_CONSISTENT | G_FILE_SET_CONTENTS_DURABLE,
                                     0600, &error))
        {
          g_task_return_error (task, g_steal_pointer (&error));
          return;
        }
      g_task_return_boolean (task, TRUE);
      return;
    case FILE_DELETE:
      if (g_unlink (job->path) != 0 && errno != ENOENT)
        {
          int saved_errno = errno;

          g_task_return_new_error (task, G_FILE_ERROR, g_file_error_from_errno (saved_errno),
                                   "Could not remove %s: %s", job->path,
                                   g_strerror (saved_errno));
          return;
        }
      g_task_return_boolean (task, TRUE);
      return;
    default:
      g_assert_not_reached ();
    }
}

static void
start_file_job (MoatSystemProxy     *self,
                FileJobKind          kind,
                GBytes              *contents,
                GCancellable        *cancellable,
                GAsyncReadyCallback  callback,
                gpointer             user_data)
{
  g_autoptr(GTask) task = g_task_new (self, cancellable, callback, user_data);
  FileJob *job = g_new0 (FileJob, 1);

  job->kind = kind;
  job->dir = g_strdup (self->data_dir);
  job->path = g_strdup (self->state_path);
  job->contents = contents != NULL ? g_bytes_ref (contents) : NULL;
  g_task_set_source_tag (task, start_file_job);
  g_task_set_task_data (task, job, (GDestroyNotify) file_job_free);
  g_task_run_in_thread (task, run_file_job_in_thread);
}

static gboolean
pac_url_is_valid (const char *url)
{
  gsize len;

  if (url == NULL || g_ascii_strncasecmp (url, "http://", 7) != 0)
    return FALSE;
  len = strlen (url);
  if (len <= 7 || len > PAC_URL_MAX_LENGTH)
    return FALSE;
  for (gsize i = 0; i < len; i++)
    if ((guchar) url[i] <= 0x20 || (guchar) url[i] >= 0x7f)
      return FALSE;
  return TRUE;
}

static gboolean
points_at (MoatSystemProxy *self,
           const char      *pac_url)
{
  g_autofree char *mode = NULL;
  g_autofree char *url = NULL;

  if (self->settings == NULL || pac_url == NULL)
    return FALSE;
  mode = g_settings_get_string (self->settings, "mode");
  url = g_settings_get_string (self->settings, "autoconfig-url");
  return g_strcmp0 (mode, "auto") == 0 && g_strcmp0 (url, pac_url) == 0;
}

/* a{smv}: each changed key's user value, or nothing at its default. */
static GVariant *
capture (MoatSystemProxy *self)
{
  g_auto(GVariantBuilder) builder = G_VARIANT_BUILDER_INIT (G_VARIANT_TYPE ("a{smv}"));

  for (guint i = 0; i < G_N_ELEMENTS (changed_keys); i++)
    {
      g_autoptr(GVariant) value = g_settings_get_user_value (self->settings, changed_keys[i]);

      g_variant_builder_add (&builder, "{smv}", changed_keys[i], value);
    }
  return g_variant_ref_sink (g_variant_builder_end (&builder));
}

static gboolean
is_changed_key (const char *key)
{
  for (guint i = 0; i < G_N_ELEMENTS (changed_keys); i++)
    if (g_strcmp0 (key, changed_keys[i]) == 0)
      return TRUE;
  return FALSE;
}

/* Puts @saved (a{smv}) back. Values of the wrong type or out of range (a
 * damaged file) reset the key instead. */
static void
restore (MoatSystemProxy *self,
         GVariant        *saved)
{
  g_autoptr(GSettingsSchema) schema = NULL;
  g_autoptr(GHashTable) seen = g_hash_table_new (g_str_hash, g_str_equal);
  GVariantIter iter;
  const char *key;
  GVariant *value;

  g_object_get (self->settings, "settings-schema", &schema, NULL);

  g_variant_iter_init (&iter, saved);
  while (g_variant_iter_next (&iter, "{&smv}", &key, &value))
    {
      g_autoptr(GVariant) owned = value;
      g_autoptr(GSettingsSchemaKey) schema_key = NULL;

      if (!is_changed_key (key) || g_hash_table_contains (seen, key))
        continue;
      g_hash_table_add (seen, (gpointer) key);
      schema_key = g_settings_schema_get_key (schema, key);
      if (owned == NULL)
        g_settings_reset (self->writer, key);
      else if (g_variant_is_of_type (owned, g_settings_schema_key_get_value_type (schema_key)) &&
               g_settings_schema_key_range_check (schema_key, owned))
        g_settings_set_value (self->writer, key, owned);
      else
        {
          g_warning ("The saved value of the proxy setting “%s” is not valid; resetting it", key);
          g_settings_reset (self->writer, key);
        }
    }
  /* A key the file does not mention was not changed by Moat, except the two
   * enabling always changes: put those at their defaults. */
  for (guint i = 0; i < G_N_ELEMENTS (changed_keys); i++)
    if (!g_hash_table_contains (seen, changed_keys[i]))
      g_settings_reset (self->writer, changed_keys[i]);

  self->writing++;
  g_settings_apply (self->writer);
  self->writing--;
}

static void
set_enabled (MoatSystemProxy *self,
             gboolean         enabled,
             const char      *pac_url,
             GVariant        *saved)
{
  gboolean url_changed = g_strcmp0 (self->pac_url, pac_url) != 0;

  g_free (self->pac_url);
  self->pac_url = g_strdup (pac_url);
  g_clear_pointer (&self->saved, g_variant_unref);
  self->saved = saved != NULL ? g_variant_ref (saved) : NULL;
  if (url_changed)
    g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_PAC_URL]);
  if (self->enabled != enabled)
    {
      self->enabled = enabled;
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ENABLED]);
    }
}

static GBytes *
serialize_state (const char *pac_url,
                 GVariant   *saved)
{
  g_autoptr(GVariant) state = g_variant_ref_sink (g_variant_new ("(us@a{smv})", STATE_VERSION,
                                                                 pac_url, saved));
  return g_variant_get_data_as_bytes (state);
}

/* The saved a{smv} and PAC URL from a state file, or FALSE if it is not one. */
static gboolean
parse_state (GBytes     *bytes,
             char      **pac_url,
             GVariant  **saved)
{
  g_autoptr(GVariant) state = NULL;
  guint32 version = 0;
  const char *url = NULL;

  state = g_variant_ref_sink (g_variant_new_from_bytes (G_VARIANT_TYPE (STATE_TYPE), bytes, FALSE));
  if (!g_variant_is_normal_form (state))
    return FALSE;
  g_variant_get (state, "(u&s@a{smv})", &version, &url, saved);
  if (version != STATE_VERSION)
    {
      g_clear_pointer (saved, g_variant_unref);
      return FALSE;
    }
  *pac_url = g_strdup (url);
  return TRUE;
}

/* Ends the running op: returns @error or the op's result, then starts the
 * next one. */
static void
finish_op (MoatSystemProxy *self,
           GError          *error)
{
  g_autoptr(GTask) task = g_steal_pointer (&self->current);

  g_object_ref (self);
  if (error != NULL)
    g_task_return_error (task, error);
  else
    g_task_return_boolean (task, TRUE);
  run_next (self);
  g_object_unref (self);
}

static void
delete_done_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  MoatSystemProxy *self = MOAT_SYSTEM_PROXY (object);
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    g_prefix_error (&error, _("Removing the saved proxy settings: "));
  finish_op (self, error);
}

static void
enable_write_done_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  MoatSystemProxy *self = MOAT_SYSTEM_PROXY (object);
  OpData *data = g_task_get_task_data (self->current);
  GError *error = NULL;

  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      g_prefix_error (&error, _("Saving the proxy settings: "));
      finish_op (self, error);
      return;
    }

  g_settings_set_string (self->writer, "autoconfig-url", data->pac_url);
  g_settings_set_string (self->writer, "mode", "auto");
  self->writing++;
  g_settings_apply (self->writer);
  self->writing--;

  set_enabled (self, TRUE, data->pac_url, data->saved);
  finish_op (self, NULL);
}

static void
start_write (MoatSystemProxy *self,
             OpData          *data)
{
  g_autoptr(GBytes) bytes = serialize_state (data->pac_url, data->saved);

  start_file_job (self, FILE_WRITE, bytes, NULL, enable_write_done_cb, NULL);
}

static void
enable_load_done_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  MoatSystemProxy *self = MOAT_SYSTEM_PROXY (object);
  OpData *data = g_task_get_task_data (self->current);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_task_propagate_pointer (G_TASK (result), &error);
  g_autofree char *old_url = NULL;
  g_autoptr(GVariant) old_saved = NULL;

  /* A state file left by a crash nobody recovered from: if the settings
   * still point at the URL it names, what it saved is the user's, not
   * what the settings say now. */
  if (bytes != NULL && parse_state (bytes, &old_url, &old_saved) && points_at (self, old_url))
    data->saved = g_steal_pointer (&old_saved);
  else
    data->saved = capture (self);
  start_write (self, data);
}

static void
recover_load_done_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  MoatSystemProxy *self = MOAT_SYSTEM_PROXY (object);
  OpData *data = g_task_get_task_data (self->current);
  g_autoptr(GError) error = NULL;
  g_autoptr(GBytes) bytes = g_task_propagate_pointer (G_TASK (result), &error);
  g_autofree char *url = NULL;
  g_autoptr(GVariant) saved = NULL;

  if (bytes == NULL && error == NULL)
    {
      finish_op (self, NULL);   /* nothing left behind */
      return;
    }
  if (bytes == NULL)
    g_warning ("Ignoring the saved proxy settings: %s", error->message);
  else if (!parse_state (bytes, &url, &saved))
    g_warning ("Ignoring the saved proxy settings in %s: not a state file of this Moat",
               self->state_path);
  else if (points_at (self, url))
    {
      g_message ("Restoring the proxy settings Moat changed before it stopped unexpectedly");
      restore (self, saved);
      data->restored = TRUE;
    }
  else
    g_debug ("The proxy settings changed since Moat saved them; keeping them");
  start_file_job (self, FILE_DELETE, NULL, NULL, delete_done_cb, NULL);
}

static void
run_next (MoatSystemProxy *self)
{
  OpData *data;
  GError *error = NULL;

  if (self->current != NULL || g_queue_is_empty (&self->pending))
    return;
  self->current = g_queue_pop_head (&self->pending);
  data = g_task_get_task_data (self->current);

  if (g_task_return_error_if_cancelled (self->current))
    {
      g_clear_object (&self->current);
      run_next (self);
      return;
    }
  if (self->settings == NULL && data->kind != OP_FORGET)
    {
      /* Translators: %s is a settings schema name, org.gnome.system.proxy. */
      error = g_error_new (MOAT_ERROR, MOAT_ERROR_NOT_SUPPORTED,
                           _("The desktop’s proxy settings (%s) are not installed"),
                           MOAT_SYSTEM_PROXY_SCHEMA);
      finish_op (self, error);
      return;
    }

  switch (data->kind)
    {
    case OP_ENABLE:
      for (guint i = 0; i < G_N_ELEMENTS (changed_keys); i++)
        if (!g_settings_is_writable (self->settings, changed_keys[i]))
          {
            /* Translators: %s is a setting's key name, e.g. "mode". */
            error = g_error_new (MOAT_ERROR, MOAT_ERROR_PERMISSION_DENIED,
                                 _("The desktop’s proxy setting “%s” is locked and cannot be "
                                   "changed"), changed_keys[i]);
            finish_op (self, error);
            return;
          }
      if (self->enabled && points_at (self, self->pac_url))
        {
          /* Already pointing at Moat: keep what was saved, change the URL. */
          data->saved = g_variant_ref (self->saved);
          start_write (self, data);
        }
      else
        start_file_job (self, FILE_LOAD, NULL, NULL, enable_load_done_cb, NULL);
      return;
    case OP_DISABLE:
      if (!self->enabled)
        {
          finish_op (self, NULL);
          return;
        }
      if (points_at (self, self->pac_url))
        restore (self, self->saved);
      set_enabled (self, FALSE, NULL, NULL);
      start_file_job (self, FILE_DELETE, NULL, NULL, delete_done_cb, NULL);
      return;
    case OP_RECOVER:
      start_file_job (self, FILE_LOAD, NULL, NULL, recover_load_done_cb, NULL);
      return;
    case OP_FORGET:
      start_file_job (self, FILE_DELETE, NULL, NULL, delete_done_cb, NULL);
      return;
    default:
      g_assert_not_reached ();
    }
}

static void
queue_op (MoatSystemProxy     *self,
          OpData              *data,
          gpointer             source_tag,
          GCancellable        *cancellable,
          GAsyncReadyCallback  callback,
          gpointer             user_data)
{
  GTask *task = g_task_new (self, cancellable, callback, user_data);

  g_task_set_source_tag (task, source_tag);
  g_task_set_task_data (task, data, (GDestroyNotify) op_data_free);
  g_queue_push_tail (&self->pending, task);
  run_next (self);
}

static void
on_settings_changed_cb (GSettings       *settings,
                        const char      *key,
                        MoatSystemProxy *self)
{
  if (self->writing > 0 || !self->enabled || !is_changed_key (key))
    return;
  if (points_at (self, self->pac_url))
    return;

  g_message ("The desktop’s proxy settings were changed elsewhere; Moat no longer protects "
             "this computer through them");
  set_enabled (self, FALSE, NULL, NULL);
  {
    OpData *data = g_new0 (OpData, 1);

    data->kind = OP_FORGET;
    queue_op (self, data, on_settings_changed_cb, NULL, NULL, NULL);
  }
}

static void
moat_system_proxy_constructed (GObject *object)
{
  MoatSystemProxy *self = MOAT_SYSTEM_PROXY (object);

  G_OBJECT_CLASS (moat_system_proxy_parent_class)->constructed (object);

  if (self->settings == NULL)
    {
      GSettingsSchemaSource *source = g_settings_schema_source_get_default ();
      g_autoptr(GSettingsSchema) schema = NULL;

      if (source != NULL)
        schema = g_settings_schema_source_lookup (source, MOAT_SYSTEM_PROXY_SCHEMA, TRUE);
      if (schema != NULL)
        self->settings = g_settings_new_full (schema, NULL, NULL);
      else
        g_info ("%s is not installed; “Protect this computer” is not available",
                MOAT_SYSTEM_PROXY_SCHEMA);
    }
  if (self->settings != NULL)
    {
      g_autoptr(GObject) backend = NULL;   /* GSettingsBackend */
      g_autoptr(GSettingsSchema) schema = NULL;
      g_autofree char *path = NULL;

      g_object_get (self->settings, "backend", &backend, "settings-schema", &schema,
                    "path", &path, NULL);
      self->writer = g_settings_new_full (schema, (GSettingsBackend *) backend, path);
      g_settings_delay (self->writer);
      g_signal_connect_object (self->settings, "changed", G_CALLBACK (on_settings_changed_cb),
                               self, 0);
    }
  self->state_path = g_build_filename (self->data_dir, MOAT_SYSTEM_PROXY_STATE_FILENAME, NULL);
}

static void
moat_system_proxy_dispose (GObject *object)
{
  MoatSystemProxy *self = MOAT_SYSTEM_PROXY (object);

  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);
  g_clear_object (&self->writer);

  G_OBJECT_CLASS (moat_system_proxy_parent_class)->dispose (object);
}

static void
moat_system_proxy_finalize (GObject *object)
{
  MoatSystemProxy *self = MOAT_SYSTEM_PROXY (object);

  /* Every queued task holds a reference on us: nothing can be pending here. */
  g_warn_if_fail (self->current == NULL && g_queue_is_empty (&self->pending));
  g_free (self->data_dir);
  g_free (self->state_path);
  g_free (self->pac_url);
  g_clear_pointer (&self->saved, g_variant_unref);

  G_OBJECT_CLASS (moat_system_proxy_parent_class)->finalize (object);
}

static void
moat_system_proxy_get_property (GObject    *object,
                                guint       prop_id,
                                GValue     *value,
                                GParamSpec *pspec)
{
  MoatSystemProxy *self = MOAT_SYSTEM_PROXY (object);

  switch (prop_id)
    {
    case PROP_DATA_DIR:
      g_value_set_string (value, self->data_dir);
      break;
    case PROP_SETTINGS:
      g_value_set_object (value, self->settings);
      break;
    case PROP_ENABLED:
      g_value_set_boolean (value, self->enabled);
      break;
    case PROP_PAC_URL:
      g_value_set_string (value, self->pac_url);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
moat_system_proxy_set_property (GObject      *object,
                                guint         prop_id,
                                const GValue *value,
                                GParamSpec   *pspec)
{
  MoatSystemProxy *self = MOAT_SYSTEM_PROXY (object);

  switch (prop_id)
    {
    case PROP_DATA_DIR:
      self->data_dir = g_value_dup_string (value);
      break;
    case PROP_SETTINGS:
      self->settings = g_value_dup_object (value);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
moat_system_proxy_class_init (MoatSystemProxyClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->constructed = moat_system_proxy_constructed;
  object_class->dispose = moat_system_proxy_dispose;
  object_class->finalize = moat_system_proxy_finalize;
  object_class->get_property = moat_system_proxy_get_property;
  object_class->set_property = moat_system_proxy_set_property;

  properties[PROP_DATA_DIR] =
    g_param_spec_string ("data-dir", NULL, NULL, NULL,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_SETTINGS] =
    g_param_spec_object ("settings", NULL, NULL, G_TYPE_SETTINGS,
                         G_PARAM_READWRITE | G_PARAM_CONSTRUCT_ONLY | G_PARAM_STATIC_STRINGS);
  properties[PROP_ENABLED] =
    g_param_spec_boolean ("enabled", NULL, NULL, FALSE,
                          G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  properties[PROP_PAC_URL] =
    g_param_spec_string ("pac-url", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);
}

static void
moat_system_proxy_init (MoatSystemProxy *self)
{
  g_queue_init (&self->pending);
}

/**
 * moat_system_proxy_new:
 * @data_dir: where the state file lives (Moat's data dir)
 * @settings: (nullable): org.gnome.system.proxy settings, or NULL for the
 *   desktop's
 *
 * Returns: (transfer full): a new #MoatSystemProxy
 */
MoatSystemProxy *
moat_system_proxy_new (const char *data_dir,
                       GSettings  *settings)
{
  g_return_val_if_fail (data_dir != NULL, NULL);
  g_return_val_if_fail (settings == NULL || G_IS_SETTINGS (settings), NULL);

  return g_object_new (MOAT_TYPE_SYSTEM_PROXY,
                       "data-dir", data_dir,
                       "settings", settings,
                       NULL);
}

gboolean
moat_system_proxy_get_enabled (MoatSystemProxy *self)
{
  g_return_val_if_fail (MOAT_IS_SYSTEM_PROXY (self), FALSE);
  return self->enabled;
}

const char *
moat_system_proxy_get_pac_url (MoatSystemProxy *self)
{
  g_return_val_if_fail (MOAT_IS_SYSTEM_PROXY (self), NULL);
  return self->pac_url;
}

GSettings *
moat_system_proxy_get_settings (MoatSystemProxy *self)
{
  g_return_val_if_fail (MOAT_IS_SYSTEM_PROXY (self), NULL);
  return self->settings;
}

void
moat_system_proxy_enable_async (MoatSystemProxy     *self,
                                const char          *pac_url,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  OpData *data;

  g_return_if_fail (MOAT_IS_SYSTEM_PROXY (self));

  if (!pac_url_is_valid (pac_url))
    {
      g_task_report_new_error (self, callback, user_data, moat_system_proxy_enable_async,
                               MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                               "The PAC URL must be an http:// URL of printable ASCII");
      return;
    }
  data = g_new0 (OpData, 1);
  data->kind = OP_ENABLE;
  data->pac_url = g_strdup (pac_url);
  queue_op (self, data, moat_system_proxy_enable_async, cancellable, callback, user_data);
}

gboolean
moat_system_proxy_enable_finish (MoatSystemProxy  *self,
                                 GAsyncResult     *result,
                                 GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
moat_system_proxy_disable_async (MoatSystemProxy     *self,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  OpData *data;

  g_return_if_fail (MOAT_IS_SYSTEM_PROXY (self));

  data = g_new0 (OpData, 1);
  data->kind = OP_DISABLE;
  queue_op (self, data, moat_system_proxy_disable_async, cancellable, callback, user_data);
}

gboolean
moat_system_proxy_disable_finish (MoatSystemProxy  *self,
                                  GAsyncResult     *result,
                                  GError          **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

void
moat_system_proxy_recover_async (MoatSystemProxy     *self,
                                 GCancellable        *cancellable,
                                 GAsyncReadyCallback  callback,
                                 gpointer             user_data)
{
  OpData *data;

  g_return_if_fail (MOAT_IS_SYSTEM_PROXY (self));

  data = g_new0 (OpData, 1);
  data->kind = OP_RECOVER;
  queue_op (self, data, moat_system_proxy_recover_async, cancellable, callback, user_data);
}

gboolean
moat_system_proxy_recover_finish (MoatSystemProxy  *self,
                                  GAsyncResult     *result,
                                  gboolean         *restored,
                                  GError          **error)
{
  OpData *data;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  data = g_task_get_task_data (G_TASK (result));
  if (!g_task_propagate_boolean (G_TASK (result), error))
    return FALSE;
  if (restored != NULL)
    *restored = data->restored;
  return TRUE;
}
