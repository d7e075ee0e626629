/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-engine"

#include "config.h"

#include "moat-policy-manager.h"

#include "moat-error.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <string.h>

/*
 * MoatPolicyManager: the policy in force. It is the built-in default until a
 * policy is loaded; a loaded policy is saved (its text as given, the name in
 * a first comment line) and is in force again after a restart. A policy that
 * does not parse is refused whole and the one in force stays. Reading and
 * writing the file happen on a worker thread, never on the main loop.
 */

#define DEFAULT_RESOURCE "/io/github/moatproject/Moat/policy/default.policy"
#define NAME_PREFIX "# moat policy: "

struct _MoatPolicyManager
{
  GObject     parent_instance;

  char       *path;     /* where a loaded policy is saved */
  MoatPolicy *policy;
  char       *name;
};

G_DEFINE_FINAL_TYPE (MoatPolicyManager, moat_policy_manager, G_TYPE_OBJECT)

enum {
  PROP_0,
  PROP_NAME,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static MoatPolicy *
default_policy (void)
{
  g_autoptr(GBytes) bytes = g_resources_lookup_data (DEFAULT_RESOURCE, 0, NULL);
  g_autoptr(GError) error = NULL;
  MoatPolicy *policy;
  gsize len;
  const char *text;

  g_assert_nonnull (bytes);
  text = g_bytes_get_data (bytes, &len);
  policy = moat_policy_parse (MOAT_POLICY_DEFAULT_NAME, text, len, &error);
  /* Checked by the tests: the shipped default always parses. */
  g_assert_no_error (error);
  return policy;
}

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void
set_policy (MoatPolicyManager *self, MoatPolicy *policy, const char *name)
{
  g_clear_pointer (&self->policy, moat_policy_unref);
  self->policy = moat_policy_ref (policy);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
  if (g_strcmp0 (self->name, name) != 0)
    {
      g_free (self->name);
      self->name = g_strdup (name);
      g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_NAME]);
    }
}

/* ---- init: read the saved policy ---- */

typedef struct {
  MoatPolicy *policy;
  char       *name;
} Loaded;

static void
loaded_free (Loaded *loaded)
{
  g_clear_pointer (&loaded->policy, moat_policy_unref);
  g_free (loaded->name);
  g_free (loaded);
}

static char *
name_from_text (const char *text, gsize len)
{
  const char *nl;

  if (len < strlen (NAME_PREFIX) || strncmp (text, NAME_PREFIX, strlen (NAME_PREFIX)) != 0)
    return NULL;
  nl = memchr (text, '\n', len);
  if (nl == NULL)
    return NULL;
  return g_strndup (text + strlen (NAME_PREFIX), nl - text - strlen (NAME_PREFIX));
}

static void
init_thread (GTask *task, gpointer source, gpointer data, GCancellable *cancellable)
{
  const char *path = data;
  g_autofree char *text = NULL;
  g_autoptr(GError) error = NULL;
  Loaded *loaded;
  gsize len;

  if (!g_file_get_contents (path, &text, &len, &error))
    {
      if (!g_error_matches (error, G_FILE_ERROR, G_FILE_ERROR_NOENT))
        g_warning ("Could not read the saved policy: %s; the default policy is in force",
                   error->message);
      g_task_return_pointer (task, NULL, NULL);
      return;
    }
  loaded = g_new0 (Loaded, 1);
  loaded->policy = moat_policy_parse (path, text, len, &error);
  if (loaded->policy == NULL)
    {
      g_warning ("The saved policy is not valid (%s); the default policy is in force",
                 error->message);
      loaded_free (loaded);
      g_task_return_pointer (task, NULL, NULL);
      return;
    }
  loaded->name = name_from_text (text, len);
  if (loaded->name == NULL || !g_utf8_validate (loaded->name, -1, NULL))
    {
      g_free (loaded->name);
      loaded->name = g_strdup (path);
    }
  g_task_return_pointer (task, loaded, (GDestroyNotify) loaded_free);
}

void
moat_policy_manager_init_async (MoatPolicyManager   *self,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (MOAT_IS_POLICY_MANAGER (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_policy_manager_init_async);
  g_task_set_task_data (task, g_strdup (self->path), g_free);
  g_task_run_in_thread (task, init_thread);
}

gboolean
moat_policy_manager_init_finish (MoatPolicyManager  *self,
                                 GAsyncResult       *result,
                                 GError            **error)
{
  Loaded *loaded;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  loaded = g_task_propagate_pointer (G_TASK (result), error);
  if (loaded == NULL)
    return error == NULL || *error == NULL;
  set_policy (self, loaded->policy, loaded->name);
  g_info ("Policy in force: %s (%u rules)", self->name,
          moat_policy_get_n_rules (self->policy));
  loaded_free (loaded);
  return TRUE;
}

/* ---- load: validate, save, put in force ---- */

typedef struct {
  char *path;
  char *name;
  char *text;
} LoadData;

static void
load_data_free (LoadData *data)
{
  g_free (data->path);
  g_free (data->name);
  g_free (data->text);
  g_free (data);
}

static void
load_thread (GTask *task, gpointer source, gpointer task_data, GCancellable *cancellable)
{
  LoadData *data = task_data;
  g_autoptr(MoatPolicy) policy = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *dir = NULL;
  g_autofree char *saved = NULL;

  policy = moat_policy_parse (data->name, data->text, -1, &error);
  if (policy == NULL)
    {
      g_task_return_error (task, g_steal_pointer (&error));
      return;
    }

  /* Saved before it is in force: a policy that could not be kept would
   * silently be gone after a restart. */
  dir = g_path_get_dirname (data->path);
  saved = g_strconcat (NAME_PREFIX, data->name, "\n", data->text, NULL);
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      int saved_errno = errno;

      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_FAILED,
                               _("Could not save the policy in %s: %s"), dir,
                               g_strerror (saved_errno));
      return;
    }
  if (!g_file_set_contents_full (data->path, saved, -1, G_FILE_SET_CONTENTS_CONSISTENT, 0600,
                                 &error))
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_FAILED,
                               _("Could not save the policy: %s"), error->message);
      return;
    }
  g_task_return_pointer (task, g_steal_pointer (&policy), (GDestroyNotify) moat_policy_unref);
}

/**
 * moat_policy_manager_load_async:
 * @name: what the policy is called (the file it came from, usually); no
 *   line breaks
 * @text: the policy file's contents
 *
 * Checks @text, saves it and puts it in force. When it does not parse, the
 * error is "NAME:LINE: reason" (MOAT_ERROR_INVALID_ARGUMENT) and the policy
 * in force stays.
 */
void
moat_policy_manager_load_async (MoatPolicyManager   *self,
                                const char          *name,
                                const char          *text,
                                GCancellable        *cancellable,
                                GAsyncReadyCallback  callback,
                                gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;
  LoadData *data;

  g_return_if_fail (MOAT_IS_POLICY_MANAGER (self));
  g_return_if_fail (name != NULL && text != NULL);

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_policy_manager_load_async);
  if (name[0] == '\0' || strpbrk (name, "\r\n") != NULL || strlen (name) > 1024 ||
      !g_utf8_validate (name, -1, NULL))
    {
      g_task_return_new_error (task, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                               _("A policy’s name is one line of text"));
      return;
    }
  data = g_new0 (LoadData, 1);
  data->path = g_strdup (self->path);
  data->name = g_strdup (name);
  data->text = g_strdup (text);
  g_task_set_task_data (task, data, (GDestroyNotify) load_data_free);
  g_task_run_in_thread (task, load_thread);
}

gboolean
moat_policy_manager_load_finish (MoatPolicyManager  *self,
                                 GAsyncResult       *result,
                                 GError            **error)
{
  g_autoptr(MoatPolicy) policy = NULL;
  LoadData *data;

  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);

  policy = g_task_propagate_pointer (G_TASK (result), error);
  if (policy == NULL)
    return FALSE;
  data = g_task_get_task_data (G_TASK (result));
  set_policy (self, policy, data->name);
  g_info ("Policy in force: %s (%u rules)", self->name, moat_policy_get_n_rules (policy));
  return TRUE;
}

/* ---- the rest ---- */

MoatPolicy *
moat_policy_manager_get_policy (MoatPolicyManager *self)
{
  g_return_val_if_fail (MOAT_IS_POLICY_MANAGER (self), NULL);
  return self->policy;
}

const char *
moat_policy_manager_get_name (MoatPolicyManager *self)
{
  g_return_val_if_fail (MOAT_IS_POLICY_MANAGER (self), NULL);
  return self->name;
}

static void
moat_policy_manager_finalize (GObject *object)
{
  MoatPolicyManager *self = MOAT_POLICY_MANAGER (object);

  g_free (self->path);
  g_clear_pointer (&self->policy, moat_policy_unref);
  g_free (self->name);

  G_OBJECT_CLASS (moat_policy_manager_parent_class)->finalize (object);
}

static void
moat_policy_manager_get_property (GObject    *object,
                                  guint       prop_id,
                                  GValue     *value,
                                  GParamSpec *pspec)
{
  MoatPolicyManager *self = MOAT_POLICY_MANAGER (object);

  switch (prop_id)
    {
    case PROP_NAME:
      g_value_set_string (value, self->name);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
moat_policy_manager_class_init (MoatPolicyManagerClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->finalize = moat_policy_manager_finalize;
  object_class->get_property = moat_policy_manager_get_property;

  properties[PROP_NAME] =
    g_param_spec_string ("name", NULL, "What the policy in force is called",
                         MOAT_POLICY_DEFAULT_NAME,
                         G_PARAM_READABLE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  /**
   * MoatPolicyManager::changed:
   *
   * Another policy is in force (even one with the same name).
   */
  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
moat_policy_manager_init (MoatPolicyManager *self)
{
  g_autoptr(MoatPolicy) policy = default_policy ();

  self->policy = moat_policy_ref (policy);
  self->name = g_strdup (MOAT_POLICY_DEFAULT_NAME);
}

/**
 * moat_policy_manager_new:
 * @path: where a loaded policy is saved ($XDG_CONFIG_HOME/moat/policy)
 *
 * The default policy is in force until moat_policy_manager_init_async() has
 * read a saved one.
 */
MoatPolicyManager *
moat_policy_manager_new (const char *path)
{
  MoatPolicyManager *self;

  g_return_val_if_fail (path != NULL, NULL);

  self = g_object_new (MOAT_TYPE_POLICY_MANAGER, NULL);
  self->path = g_strdup (path);
  return self;
}
