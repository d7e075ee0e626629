/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-engine"

#include "config.h"

#include "moat-lists.h"

#include "moat-engine-resources.h"
#include "moat-error.h"
#include "moat-host.h"
#include "moat-list-fetcher.h"

#include <errno.h>
#include <glib/gi18n.h>
#include <glib/gstdio.h>
#include <string.h>

#define USER_ALLOW_ID "user-allow"
#define USER_BLOCK_ID "user-block"
#define RESOURCE_PREFIX "/io/github/moatproject/Moat/lists/"
#define MAX_USER_HOSTS 10000
#define MAX_ADDED_LISTS 200

/* Lists Debian packages with uBlock Origin (webext-ublock-origin-chromium),
 * read in place. */
static const struct {
  const char         *id;
  const char         *name;
  MoatFilterCategory  category;
  const char         *path;     /* under the assets folder */
} system_lists[] = {
  { "easylist",       N_("EasyList"),                 MOAT_FILTER_CATEGORY_ADS,      "thirdparties/easylist/easylist.txt" },
  { "easyprivacy",    N_("EasyPrivacy"),              MOAT_FILTER_CATEGORY_TRACKERS, "thirdparties/easylist/easyprivacy.txt" },
  { "urlhaus",        N_("URLhaus malicious URLs"),   MOAT_FILTER_CATEGORY_MALWARE,  "thirdparties/urlhaus-filter/urlhaus-filter-online.txt" },
  { "ublock-badware", N_("uBlock Origin badware risks"), MOAT_FILTER_CATEGORY_SCAM,  "ublock/badware.min.txt" },
};

/* Moat's own short lists, embedded in moatd (data/lists/). */
static const struct {
  const char         *id;
  const char         *name;
  MoatFilterCategory  category;
  const char         *resource;
} built_in_lists[] = {
  { "moat-phishing", N_("Moat: phishing test sites"),          MOAT_FILTER_CATEGORY_PHISHING, "moat-phishing.txt" },
  { "moat-malware",  N_("Moat: malware test sites"),           MOAT_FILTER_CATEGORY_MALWARE,  "moat-malware.txt" },
  { "moat-c2",       N_("Moat: command and control test sites"), MOAT_FILTER_CATEGORY_C2,     "moat-c2.txt" },
};

/* What one load reads: a snapshot of the configuration, so the worker
 * thread never touches GSettings. */
typedef struct {
  char                *id;
  char                *name;
  MoatListKind         kind;
  MoatFilterCategory   category;
  MoatFilterListFlags  flags;
  char                *source;    /* shown to the user */
  char                *path;      /* the file to read, or NULL */
  GBytes              *bytes;     /* or the bytes themselves */
  char                *missing;   /* why there is nothing to read, or NULL */
  char                *fetch_error; /* why the last download failed, or NULL */
  gboolean             enabled;
  gboolean             list_enabled;
} ListSpec;

typedef struct {
  MoatFilterList *list;
  gint64          mtime;
  goffset         size;
  char           *path;
} CacheEntry;

typedef struct {
  GPtrArray   *specs;        /* ListSpec */
  GHashTable  *cache;        /* id -> CacheEntry; the worker's own copy */
  /* results */
  GPtrArray   *infos;        /* MoatListInfo */
  GPtrArray   *matcher_ids;  /* char *: the id of each of the matcher's lists, in order */
  MoatFilterMatcher *matcher;
  GBytes      *protected_bytes;
  MoatFilterMatcher *protected_matcher;
} LoadData;

struct _MoatLists
{
  GObject            parent_instance;

  GSettings         *settings;
  char              *data_dir;
  char              *assets_dir;
  GStrv              command_line_files;

  GHashTable        *cache;         /* id -> CacheEntry */
  MoatFilterMatcher *matcher;
  MoatFilterMatcher *protected_matcher; /* the protected resources; never used to block */
  GPtrArray         *infos;         /* MoatListInfo */
  GHashTable        *list_ids;      /* MoatFilterList * -> id (char *), for the matcher's lists */
  GPtrArray         *waiting;       /* GTask: loads asked for while one runs */
  GCancellable      *cancellable;
  MoatListFetcher   *fetcher;
  GHashTable        *fetch_errors;  /* subscription id -> why its last update failed */
  GHashTable        *fetching;      /* subscription id -> TRUE while it downloads */
  guint              update_id;

  guint64            generation;
  guint              reload_id;
  gboolean           loading;
  gboolean           load_again;
};

G_DEFINE_FINAL_TYPE (MoatLists, moat_lists, G_TYPE_OBJECT)

enum {
  SIGNAL_CHANGED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static void start_load (MoatLists *self);
static void schedule_reload (MoatLists *self);

const char *
moat_list_kind_to_string (MoatListKind kind)
{
  switch (kind)
    {
    case MOAT_LIST_KIND_SYSTEM:
      return "system";
    case MOAT_LIST_KIND_BUILT_IN:
      return "built-in";
    case MOAT_LIST_KIND_SUBSCRIPTION:
      return "subscription";
    case MOAT_LIST_KIND_FILE:
      return "file";
    case MOAT_LIST_KIND_USER:
      return "user";
    case MOAT_LIST_KIND_COMMAND_LINE:
      return "command-line";
    default:
      return "unknown";
    }
}

void
moat_list_info_free (MoatListInfo *info)
{
  if (info == NULL)
    return;
  g_free (info->id);
  g_free (info->name);
  g_free (info->source);
  g_clear_pointer (&info->bad_lines, g_array_unref);
  g_free (info->error);
  g_free (info);
}

static MoatListInfo *
list_info_copy (const MoatListInfo *info)
{
  MoatListInfo *copy = g_memdup2 (info, sizeof *info);

  copy->id = g_strdup (info->id);
  copy->name = g_strdup (info->name);
  copy->source = g_strdup (info->source);
  copy->error = g_strdup (info->error);
  if (info->bad_lines != NULL)
    {
      copy->bad_lines = g_array_sized_new (FALSE, FALSE, sizeof (guint32), info->bad_lines->len);
      g_array_append_vals (copy->bad_lines, info->bad_lines->data, info->bad_lines->len);
    }
  return copy;
}

void
moat_list_check_clear (MoatListCheck *check)
{
  g_clear_pointer (&check->host, g_free);
  g_clear_pointer (&check->list_id, g_free);
  g_clear_pointer (&check->list_name, g_free);
  g_clear_pointer (&check->rule, g_free);
}

static void
list_spec_free (ListSpec *spec)
{
  g_free (spec->id);
  g_free (spec->name);
  g_free (spec->source);
  g_free (spec->path);
  g_clear_pointer (&spec->bytes, g_bytes_unref);
  g_free (spec->missing);
  g_free (spec->fetch_error);
  g_free (spec);
}

static void
cache_entry_free (CacheEntry *entry)
{
  g_clear_pointer (&entry->list, moat_filter_list_unref);
  g_free (entry->path);
  g_free (entry);
}

static CacheEntry *
cache_entry_copy (const CacheEntry *entry)
{
  CacheEntry *copy = g_new0 (CacheEntry, 1);

  copy->list = moat_filter_list_ref (entry->list);
  copy->mtime = entry->mtime;
  copy->size = entry->size;
  copy->path = g_strdup (entry->path);
  return copy;
}

static GHashTable *
cache_new (void)
{
  return g_hash_table_new_full (g_str_hash, g_str_equal, g_free, (GDestroyNotify) cache_entry_free);
}

static void
load_data_free (LoadData *data)
{
  g_clear_pointer (&data->specs, g_ptr_array_unref);
  g_clear_pointer (&data->cache, g_hash_table_unref);
  g_clear_pointer (&data->infos, g_ptr_array_unref);
  g_clear_pointer (&data->matcher_ids, g_ptr_array_unref);
  g_clear_pointer (&data->matcher, moat_filter_matcher_unref);
  g_clear_pointer (&data->protected_bytes, g_bytes_unref);
  g_clear_pointer (&data->protected_matcher, moat_filter_matcher_unref);
  g_free (data);
}

/* "sub-" or "file-" and 12 hex digits of the source's SHA-256: stable across
 * restarts, the same on every computer. */
static char *
make_id (const char *prefix, const char *source)
{
  g_autofree char *sum = g_compute_checksum_for_string (G_CHECKSUM_SHA256, source, -1);

  return g_strdup_printf ("%s-%.12s", prefix, sum);
}

static gboolean
category_enabled (const char * const *categories,
                  MoatFilterCategory  category)
{
  return g_strv_contains (categories, moat_filter_category_to_string (category));
}

static GBytes *
user_hosts_bytes (GSettings *settings, const char *key)
{
  g_auto(GStrv) hosts = g_settings_get_strv (settings, key);
  g_autoptr(GString) text = g_string_new (NULL);

  for (guint i = 0; hosts[i] != NULL; i++)
    {
      /* Settings are outside input too: only what normalises goes in. */
      g_autofree char *host = moat_host_normalize (hosts[i], -1, NULL, NULL);

      if (host != NULL)
        g_string_append_printf (text, "%s\n", host);
    }
  return g_string_free_to_bytes (g_steal_pointer (&text));
}

static char *
subscription_cache_path (MoatLists *self, const char *id)
{
  g_autofree char *file = g_strconcat (id, ".txt", NULL);

  return g_build_filename (self->data_dir, "lists", file, NULL);
}

static ListSpec *
spec_new (const char          *id,
          const char          *name,
          MoatListKind         kind,
          MoatFilterCategory   category,
          const char          *source,
          gboolean             enabled)
{
  ListSpec *spec = g_new0 (ListSpec, 1);

  spec->id = g_strdup (id);
  spec->name = g_strdup (name);
  spec->kind = kind;
  spec->category = category;
  spec->source = g_strdup (source);
  spec->enabled = enabled;
  spec->list_enabled = TRUE;
  return spec;
}

/* The configured lists, in precedence order for equal rules: the user's own
 * first, then built-in, system, subscriptions and files. */
static GPtrArray *
snapshot_specs (MoatLists *self)
{
  g_autoptr(GPtrArray) specs = g_ptr_array_new_with_free_func ((GDestroyNotify) list_spec_free);
  g_auto(GStrv) categories = g_settings_get_strv (self->settings, "enabled-categories");
  g_auto(GStrv) disabled = g_settings_get_strv (self->settings, "disabled-lists");
  g_autoptr(GVariant) subscriptions = NULL;
  g_autoptr(GVariant) files = NULL;
  GVariantIter iter;
  const char *a, *b, *c;
  ListSpec *spec;

  if (self->command_line_files != NULL)
    {
      /* moatd --list FILE: exactly these, as the user's block-list would be. */
      for (guint i = 0; self->command_line_files[i] != NULL; i++)
        {
          g_autofree char *id = g_strdup_printf ("command-line-%u", i + 1);
          g_autofree char *name = g_path_get_basename (self->command_line_files[i]);

          spec = spec_new (id, name, MOAT_LIST_KIND_COMMAND_LINE, MOAT_FILTER_CATEGORY_CUSTOM,
                           self->command_line_files[i], TRUE);
          spec->path = g_strdup (self->command_line_files[i]);
          g_ptr_array_add (specs, spec);
        }
    }

  spec = spec_new (USER_ALLOW_ID, _("Always allowed"), MOAT_LIST_KIND_USER,
                   MOAT_FILTER_CATEGORY_CUSTOM, "user-allowed-hosts", TRUE);
  spec->flags = MOAT_FILTER_LIST_USER | MOAT_FILTER_LIST_ALLOW;
  spec->bytes = user_hosts_bytes (self->settings, "user-allowed-hosts");
  g_ptr_array_add (specs, spec);

  spec = spec_new (USER_BLOCK_ID, _("Always blocked"), MOAT_LIST_KIND_USER,
                   MOAT_FILTER_CATEGORY_CUSTOM, "user-blocked-hosts", TRUE);
  spec->flags = MOAT_FILTER_LIST_USER;
  spec->bytes = user_hosts_bytes (self->settings, "user-blocked-hosts");
  g_ptr_array_add (specs, spec);

  if (self->command_line_files != NULL)
    return g_steal_pointer (&specs);

  for (guint i = 0; i < G_N_ELEMENTS (built_in_lists); i++)
    {
      g_autofree char *resource = g_strconcat (RESOURCE_PREFIX, built_in_lists[i].resource, NULL);
      gboolean enabled = category_enabled ((const char * const *) categories, built_in_lists[i].category) &&
                         !g_strv_contains ((const char * const *) disabled, built_in_lists[i].id);
      g_autoptr(GError) error = NULL;

      spec = spec_new (built_in_lists[i].id, _(built_in_lists[i].name), MOAT_LIST_KIND_BUILT_IN,
                       built_in_lists[i].category, resource, enabled);
      spec->list_enabled = !g_strv_contains ((const char * const *) disabled, built_in_lists[i].id);
      spec->bytes = g_resource_lookup_data (moat_engine_get_resource (), resource,
                                            G_RESOURCE_LOOKUP_FLAGS_NONE, &error);
      if (spec->bytes == NULL)
        spec->missing = g_strdup (error->message);
      g_ptr_array_add (specs, spec);
    }

  for (guint i = 0; i < G_N_ELEMENTS (system_lists); i++)
    {
      g_autofree char *path = g_build_filename (self->assets_dir, system_lists[i].path, NULL);
      gboolean enabled = category_enabled ((const char * const *) categories, system_lists[i].category) &&
                         !g_strv_contains ((const char * const *) disabled, system_lists[i].id);

      spec = spec_new (system_lists[i].id, _(system_lists[i].name), MOAT_LIST_KIND_SYSTEM,
                       system_lists[i].category, path, enabled);
      spec->list_enabled = !g_strv_contains ((const char * const *) disabled, system_lists[i].id);
      spec->path = g_steal_pointer (&path);
      g_ptr_array_add (specs, spec);
    }

  subscriptions = g_settings_get_value (self->settings, "subscriptions");
  g_variant_iter_init (&iter, subscriptions);
  while (g_variant_iter_next (&iter, "(&s&s&s)", &a, &b, &c))
    {
      g_autofree char *id = make_id ("sub", a);
      MoatFilterCategory category = MOAT_FILTER_CATEGORY_CUSTOM;
      gboolean enabled;

      moat_filter_category_from_string (c, &category);
      enabled = category_enabled ((const char * const *) categories, category) &&
                !g_strv_contains ((const char * const *) disabled, id);
      spec = spec_new (id, b[0] != '\0' ? b : a, MOAT_LIST_KIND_SUBSCRIPTION, category, a, enabled);
      spec->list_enabled = !g_strv_contains ((const char * const *) disabled, id);
      spec->path = subscription_cache_path (self, id);
      if (g_hash_table_contains (self->fetch_errors, id))
        spec->missing = g_strdup (g_hash_table_lookup (self->fetch_errors, id));
      else if (g_settings_get_boolean (self->settings, "list-updates-allowed"))
        spec->missing = g_strdup (_("Not downloaded yet."));
      else
        spec->missing = g_strdup (_("Not downloaded: list updates over the network are turned off."));
      spec->fetch_error = g_strdup (g_hash_table_lookup (self->fetch_errors, id));
      g_ptr_array_add (specs, spec);
    }

  files = g_settings_get_value (self->settings, "list-files");
  g_variant_iter_init (&iter, files);
  while (g_variant_iter_next (&iter, "(&s&s&s)", &a, &b, &c))
    {
      g_autofree char *id = make_id ("file", a);
      g_autofree char *base = g_path_get_basename (a);
      MoatFilterCategory category = MOAT_FILTER_CATEGORY_CUSTOM;
      gboolean enabled;

      moat_filter_category_from_string (c, &category);
      enabled = category_enabled ((const char * const *) categories, category) &&
                !g_strv_contains ((const char * const *) disabled, id);
      spec = spec_new (id, b[0] != '\0' ? b : base, MOAT_LIST_KIND_FILE, category, a, enabled);
      spec->list_enabled = !g_strv_contains ((const char * const *) disabled, id);
      spec->path = g_strdup (a);
      g_ptr_array_add (specs, spec);
    }

  return g_steal_pointer (&specs);
}

/* Reads and parses one list (or reuses the cached parse of an unchanged
 * file). Runs on the worker thread. */
static MoatFilterList *
load_one (ListSpec      *spec,
          GHashTable    *cache,
          MoatListInfo  *info)
{
  g_autoptr(MoatFilterList) list = NULL;
  g_autoptr(GBytes) bytes = NULL;
  g_autoptr(GError) error = NULL;
  GStatBuf st;

  if (spec->bytes != NULL)
    bytes = g_bytes_ref (spec->bytes);
  else if (spec->path != NULL)
    {
      CacheEntry *entry = g_hash_table_lookup (cache, spec->id);
      g_autoptr(GMappedFile) mapped = NULL;

      if (g_stat (spec->path, &st) != 0)
        {
          int saved_errno = errno;

          if (saved_errno == ENOENT && spec->missing != NULL)
            info->error = g_strdup (spec->missing);
          else
            info->error = g_strdup_printf (_("Cannot read %s: %s"), spec->path,
                                           g_strerror (saved_errno));
          return NULL;
        }
      info->updated = (gint64) st.st_mtime * G_USEC_PER_SEC;
      if (entry != NULL && g_strcmp0 (entry->path, spec->path) == 0 &&
          entry->mtime == (gint64) st.st_mtime && entry->size == (goffset) st.st_size)
        {
          list = moat_filter_list_ref (entry->list);
          goto loaded;
        }
      if (!S_ISREG (st.st_mode))
        {
          info->error = g_strdup_printf (_("%s is not a regular file."), spec->path);
          return NULL;
        }
      mapped = g_mapped_file_new (spec->path, FALSE, &error);
      if (mapped == NULL)
        {
          info->error = g_strdup (error->message);
          return NULL;
        }
      bytes = g_mapped_file_get_bytes (mapped);
    }
  else
    {
      info->error = g_strdup (spec->missing != NULL ? spec->missing : _("The list has no source."));
      return NULL;
    }

  list = moat_filter_list_new_from_bytes (spec->name, spec->category, MOAT_FILTER_FORMAT_AUTO,
                                          spec->flags, bytes, &error);
  if (list == NULL)
    {
      info->error = g_strdup (error->message);
      return NULL;
    }
  if (spec->path != NULL && spec->bytes == NULL)
    {
      CacheEntry *entry = g_new0 (CacheEntry, 1);

      entry->list = moat_filter_list_ref (list);
      entry->mtime = (gint64) st.st_mtime;
      entry->size = (goffset) st.st_size;
      entry->path = g_strdup (spec->path);
      g_hash_table_replace (cache, g_strdup (spec->id), entry);
    }

loaded:
  {
    const guint32 *bad;
    guint n_kept = 0;

    info->loaded = TRUE;
    info->n_rules = moat_filter_list_get_n_host_rules (list) +
                    moat_filter_list_get_n_url_rules (list) +
                    moat_filter_list_get_n_exceptions (list);
    info->n_bad_lines = moat_filter_list_get_n_bad_lines (list);
    bad = moat_filter_list_get_bad_lines (list, &n_kept);
    info->bad_lines = g_array_sized_new (FALSE, FALSE, sizeof (guint32), n_kept);
    g_array_append_vals (info->bad_lines, bad, n_kept);
  }
  return g_steal_pointer (&list);
}

static void
load_in_thread (GTask        *task,
                gpointer      source_object,
                gpointer      task_data,
                GCancellable *cancellable)
{
  LoadData *data = task_data;
  g_autoptr(GPtrArray) lists = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_filter_list_unref);
  g_autoptr(GHashTable) new_cache = cache_new ();

  data->infos = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_list_info_free);
  data->matcher_ids = g_ptr_array_new_with_free_func (g_free);
  for (guint i = 0; i < data->specs->len; i++)
    {
      ListSpec *spec = g_ptr_array_index (data->specs, i);
      MoatListInfo *info = g_new0 (MoatListInfo, 1);
      MoatFilterList *list;

      info->id = g_strdup (spec->id);
      info->name = g_strdup (spec->name);
      info->kind = spec->kind;
      info->category = spec->category;
      info->source = g_strdup (spec->source);
      info->enabled = spec->enabled;
      info->list_enabled = spec->list_enabled;
      g_ptr_array_add (data->infos, info);
      if (!spec->enabled)
        continue;

      list = load_one (spec, data->cache, info);
      if (list != NULL && spec->fetch_error != NULL)
        /* The last good copy stays in use; say why it is not newer. */
        info->error = g_strdup (spec->fetch_error);
      if (list == NULL)
        {
          g_debug ("List %s not loaded: %s", spec->id, info->error);
          continue;
        }
      g_ptr_array_add (lists, list);
      g_ptr_array_add (data->matcher_ids, g_strdup (spec->id));
      /* Keep only what this configuration still uses. */
      if (g_hash_table_contains (data->cache, spec->id))
        g_hash_table_replace (new_cache, g_strdup (spec->id),
                              cache_entry_copy (g_hash_table_lookup (data->cache, spec->id)));
    }
  g_hash_table_unref (data->cache);
  data->cache = g_steal_pointer (&new_cache);
  data->matcher = moat_filter_matcher_new ((MoatFilterList * const *) lists->pdata, lists->len);

  /* The protected resources are a matcher of their own: policy asks it
   * whether a host is one; it never blocks by itself. */
  {
    g_autoptr(MoatFilterList) protected_list =
      moat_filter_list_new_from_bytes ("protected-resources", MOAT_FILTER_CATEGORY_CUSTOM,
                                       MOAT_FILTER_FORMAT_DOMAINS, MOAT_FILTER_LIST_USER,
                                       data->protected_bytes, NULL);

    data->protected_matcher = protected_list != NULL
      ? moat_filter_matcher_new (&protected_list, 1) : moat_filter_matcher_new (NULL, 0);
  }
  g_task_return_boolean (task, TRUE);
}

static void
finish_waiting (MoatLists *self, GError *error)
{
  g_autoptr(GPtrArray) waiting = g_steal_pointer (&self->waiting);

  self->waiting = g_ptr_array_new_with_free_func (g_object_unref);
  for (guint i = 0; i < waiting->len; i++)
    {
      GTask *task = g_ptr_array_index (waiting, i);

      if (error != NULL)
        g_task_return_error (task, g_error_copy (error));
      else
        g_task_return_boolean (task, TRUE);
    }
}

static void
load_done_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  MoatLists *self = MOAT_LISTS (object);
  LoadData *data = g_task_get_task_data (G_TASK (result));
  g_autoptr(GError) error = NULL;

  self->loading = FALSE;
  if (!g_task_propagate_boolean (G_TASK (result), &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        g_warning ("Cannot load the filter lists: %s", error->message);
      finish_waiting (self, error);
      return;
    }

  g_clear_pointer (&self->cache, g_hash_table_unref);
  self->cache = g_steal_pointer (&data->cache);
  g_clear_pointer (&self->matcher, moat_filter_matcher_unref);
  self->matcher = g_steal_pointer (&data->matcher);
  g_clear_pointer (&self->protected_matcher, moat_filter_matcher_unref);
  self->protected_matcher = g_steal_pointer (&data->protected_matcher);
  g_clear_pointer (&self->infos, g_ptr_array_unref);
  self->infos = g_steal_pointer (&data->infos);
  self->generation++;

  g_hash_table_remove_all (self->list_ids);
  for (guint i = 0; i < moat_filter_matcher_get_n_lists (self->matcher) && i < data->matcher_ids->len; i++)
    g_hash_table_insert (self->list_ids, moat_filter_matcher_get_list (self->matcher, i),
                         g_strdup (g_ptr_array_index (data->matcher_ids, i)));

  g_debug ("Filter lists loaded (generation %" G_GUINT64_FORMAT "): %u lists, %u hosts, %zu bytes",
           self->generation, moat_filter_matcher_get_n_lists (self->matcher),
           moat_filter_matcher_get_n_hosts (self->matcher),
           moat_filter_matcher_get_memory_size (self->matcher));

  if (self->load_again)
    {
      /* The settings changed while it loaded: the callers get the newer set. */
      self->load_again = FALSE;
      start_load (self);
      g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
      return;
    }
  finish_waiting (self, NULL);
  g_signal_emit (self, signals[SIGNAL_CHANGED], 0);
}

static void
start_load (MoatLists *self)
{
  g_autoptr(GTask) task = NULL;
  LoadData *data;
  GHashTableIter iter;
  gpointer key, value;

  if (self->loading)
    {
      self->load_again = TRUE;
      return;
    }
  self->loading = TRUE;

  data = g_new0 (LoadData, 1);
  data->specs = snapshot_specs (self);
  data->protected_bytes = user_hosts_bytes (self->settings, "protected-resources");
  data->cache = cache_new ();
  g_hash_table_iter_init (&iter, self->cache);
  while (g_hash_table_iter_next (&iter, &key, &value))
    g_hash_table_insert (data->cache, g_strdup (key), cache_entry_copy (value));

  task = g_task_new (self, self->cancellable, load_done_cb, NULL);
  g_task_set_source_tag (task, start_load);
  g_task_set_task_data (task, data, (GDestroyNotify) load_data_free);
  g_task_run_in_thread (task, load_in_thread);
}

static gboolean
reload_cb (gpointer user_data)
{
  MoatLists *self = MOAT_LISTS (user_data);

  self->reload_id = 0;
  start_load (self);
  return G_SOURCE_REMOVE;
}

/* A list file changed behind Moat's back (one it writes itself). */
void
moat_lists_reload (MoatLists *self)
{
  g_return_if_fail (MOAT_IS_LISTS (self));
  schedule_reload (self);
}

static void
schedule_reload (MoatLists *self)
{
  g_clear_handle_id (&self->reload_id, g_source_remove);
  self->reload_id = g_timeout_add (MOAT_LISTS_RELOAD_DELAY_MS, reload_cb, self);
}

/* ---- Subscriptions ---- */

typedef struct {
  MoatLists *self;   /* owned */
  char      *id;
  char      *url;
} FetchData;

static void
fetch_data_free (FetchData *data)
{
  g_object_unref (data->self);
  g_free (data->id);
  g_free (data->url);
  g_free (data);
}

static void
fetched_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  FetchData *data = user_data;
  MoatLists *self = data->self;
  g_autoptr(GError) error = NULL;
  MoatListFetchResult fetch_result;
  gint64 mtime = 0;

  g_hash_table_remove (self->fetching, data->id);
  if (!moat_list_fetcher_fetch_finish (MOAT_LIST_FETCHER (object), result, &fetch_result, &mtime,
                                       &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        {
          g_message ("Cannot update the list %s: %s", data->url, error->message);
          g_hash_table_replace (self->fetch_errors, g_strdup (data->id),
                                g_strdup_printf (_("The last update failed: %s"), error->message));
          schedule_reload (self);
        }
      fetch_data_free (data);
      return;
    }
  g_debug ("List %s: %s", data->url,
           fetch_result == MOAT_LIST_FETCH_UPDATED ? "updated" : "not modified");
  g_hash_table_remove (self->fetch_errors, data->id);
  schedule_reload (self);
  fetch_data_free (data);
}

static void
fetch_one (MoatLists *self, const char *id, const char *url)
{
  g_autofree char *path = subscription_cache_path (self, id);
  g_autofree char *dir = g_path_get_dirname (path);
  FetchData *data;

  if (g_hash_table_contains (self->fetching, id))
    return;
  /* Small, and only when a download is due. */
  if (g_mkdir_with_parents (dir, 0700) != 0)
    {
      g_warning ("Cannot create %s: %s", dir, g_strerror (errno));
      return;
    }
  data = g_new0 (FetchData, 1);
  data->self = g_object_ref (self);
  data->id = g_strdup (id);
  data->url = g_strdup (url);
  g_hash_table_add (self->fetching, g_strdup (id));
  moat_list_fetcher_fetch_async (self->fetcher, url, path, self->cancellable, fetched_cb, data);
}

/* Downloads every subscription whose copy is missing or older than the
 * update interval (all of them when @force). Returns how many started. */
static guint
update_subscriptions (MoatLists *self, gboolean force)
{
  g_autoptr(GVariant) subscriptions = g_settings_get_value (self->settings, "subscriptions");
  gint64 max_age = (gint64) g_settings_get_uint (self->settings, "list-update-hours") * 3600;
  gint64 now = g_get_real_time () / G_USEC_PER_SEC;
  GVariantIter iter;
  const char *url, *name, *category;
  guint started = 0;

  if (!g_settings_get_boolean (self->settings, "list-updates-allowed"))
    return 0;
  g_variant_iter_init (&iter, subscriptions);
  while (g_variant_iter_next (&iter, "(&s&s&s)", &url, &name, &category))
    {
      g_autofree char *id = make_id ("sub", url);
      g_autofree char *path = subscription_cache_path (self, id);
      GStatBuf st;

      if (!force && g_stat (path, &st) == 0 && now - (gint64) st.st_mtime < max_age)
        continue;
      fetch_one (self, id, url);
      started++;
    }
  return started;
}

static gboolean
update_timer_cb (gpointer user_data)
{
  update_subscriptions (MOAT_LISTS (user_data), FALSE);
  return G_SOURCE_CONTINUE;
}

/**
 * moat_lists_update:
 * @error: MOAT_ERROR_PERMISSION_DENIED when list updates are off
 *
 * Downloads every subscription now. The lists reload as copies arrive.
 *
 * Returns: how many downloads started, or -1 with @error set
 */
int
moat_lists_update (MoatLists  *self,
                   GError    **error)
{
  g_return_val_if_fail (MOAT_IS_LISTS (self), -1);

  if (!g_settings_get_boolean (self->settings, "list-updates-allowed"))
    {
      g_set_error_literal (error, MOAT_ERROR, MOAT_ERROR_PERMISSION_DENIED,
                           _("List updates over the network are turned off."));
      return -1;
    }
  return (int) update_subscriptions (self, TRUE);
}

/* Checks every hour which subscriptions are due; the first check runs now. */
void
moat_lists_start_updates (MoatLists *self)
{
  g_return_if_fail (MOAT_IS_LISTS (self));

  if (self->update_id != 0)
    return;
  self->update_id = g_timeout_add_seconds (3600, update_timer_cb, self);
  update_subscriptions (self, FALSE);
}

static void
on_settings_changed_cb (GSettings  *settings,
                        const char *key,
                        MoatLists  *self)
{
  static const char * const keys[] = {
    "enabled-categories", "disabled-lists", "subscriptions", "list-files",
    "user-allowed-hosts", "user-blocked-hosts", "list-updates-allowed", "protected-resources", NULL
  };

  if (g_strv_contains (keys, key))
    schedule_reload (self);
  /* A new subscription, or updates just allowed: fetch what is due. */
  if (self->update_id != 0 &&
      (g_str_equal (key, "subscriptions") || g_str_equal (key, "list-updates-allowed") ||
       g_str_equal (key, "list-update-hours")))
    update_subscriptions (self, FALSE);
}

static void
moat_lists_dispose (GObject *object)
{
  MoatLists *self = MOAT_LISTS (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_handle_id (&self->reload_id, g_source_remove);
  g_clear_handle_id (&self->update_id, g_source_remove);
  g_clear_object (&self->fetcher);
  if (self->settings != NULL)
    g_signal_handlers_disconnect_by_data (self->settings, self);
  g_clear_object (&self->settings);

  G_OBJECT_CLASS (moat_lists_parent_class)->dispose (object);
}

static void
moat_lists_finalize (GObject *object)
{
  MoatLists *self = MOAT_LISTS (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->waiting, g_ptr_array_unref);
  g_clear_pointer (&self->cache, g_hash_table_unref);
  g_clear_pointer (&self->matcher, moat_filter_matcher_unref);
  g_clear_pointer (&self->protected_matcher, moat_filter_matcher_unref);
  g_clear_pointer (&self->infos, g_ptr_array_unref);
  g_clear_pointer (&self->list_ids, g_hash_table_unref);
  g_clear_pointer (&self->fetch_errors, g_hash_table_unref);
  g_clear_pointer (&self->fetching, g_hash_table_unref);
  g_strfreev (self->command_line_files);
  g_free (self->data_dir);
  g_free (self->assets_dir);

  G_OBJECT_CLASS (moat_lists_parent_class)->finalize (object);
}

static void
moat_lists_class_init (MoatListsClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);

  object_class->dispose = moat_lists_dispose;
  object_class->finalize = moat_lists_finalize;

  signals[SIGNAL_CHANGED] =
    g_signal_new ("changed",
                  G_TYPE_FROM_CLASS (klass),
                  G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL,
                  G_TYPE_NONE, 0);
}

static void
moat_lists_init (MoatLists *self)
{
  const char *assets = g_getenv ("MOAT_UBLOCK_ASSETS_DIR");

  self->cancellable = g_cancellable_new ();
  self->waiting = g_ptr_array_new_with_free_func (g_object_unref);
  self->cache = cache_new ();
  self->infos = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_list_info_free);
  self->list_ids = g_hash_table_new_full (NULL, NULL, NULL, g_free);
  self->fetch_errors = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->fetching = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->fetcher = moat_list_fetcher_new ();
  self->matcher = moat_filter_matcher_new (NULL, 0);
  self->protected_matcher = moat_filter_matcher_new (NULL, 0);
  self->assets_dir = g_strdup (assets != NULL && assets[0] != '\0'
                               ? assets : MOAT_LISTS_DEFAULT_ASSETS_DIR);
}

/**
 * moat_lists_new:
 * @settings: the io.github.moatproject.Moat settings
 * @data_dir: where downloaded lists are kept (in lists/)
 */
MoatLists *
moat_lists_new (GSettings  *settings,
                const char *data_dir)
{
  MoatLists *self;

  g_return_val_if_fail (G_IS_SETTINGS (settings), NULL);
  g_return_val_if_fail (data_dir != NULL, NULL);

  self = g_object_new (MOAT_TYPE_LISTS, NULL);
  self->settings = g_object_ref (settings);
  self->data_dir = g_strdup (data_dir);
  g_signal_connect (settings, "changed", G_CALLBACK (on_settings_changed_cb), self);
  return self;
}

/* How subscriptions are downloaded: directly, or through the company's
 * parent proxy; never through the desktop's settings, which may point at
 * Moat itself. */
void
moat_lists_set_proxy_resolver (MoatLists      *self,
                               GProxyResolver *resolver)
{
  g_return_if_fail (MOAT_IS_LISTS (self));
  moat_list_fetcher_set_proxy_resolver (self->fetcher, resolver);
}

/* Where the system's uBlock Origin assets are (tests point it elsewhere). */
void
moat_lists_set_assets_dir (MoatLists  *self,
                           const char *dir)
{
  g_return_if_fail (MOAT_IS_LISTS (self));
  g_return_if_fail (dir != NULL);

  g_free (self->assets_dir);
  self->assets_dir = g_strdup (dir);
}

/* moatd --list: use exactly these files (plus the user's allow- and
 * block-lists) instead of the configured set. NULL goes back to the settings. */
void
moat_lists_set_command_line_files (MoatLists          *self,
                                   const char * const *files)
{
  g_return_if_fail (MOAT_IS_LISTS (self));

  g_strfreev (self->command_line_files);
  self->command_line_files = files != NULL && files[0] != NULL ? g_strdupv ((GStrv) files) : NULL;
}

/* Reads and compiles the configured lists on a worker thread; ::changed is
 * emitted before the callback runs. */
void
moat_lists_load_async (MoatLists           *self,
                       GCancellable        *cancellable,
                       GAsyncReadyCallback  callback,
                       gpointer             user_data)
{
  g_autoptr(GTask) task = NULL;

  g_return_if_fail (MOAT_IS_LISTS (self));

  task = g_task_new (self, cancellable, callback, user_data);
  g_task_set_source_tag (task, moat_lists_load_async);
  g_ptr_array_add (self->waiting, g_steal_pointer (&task));
  g_clear_handle_id (&self->reload_id, g_source_remove);
  start_load (self);
}

gboolean
moat_lists_load_finish (MoatLists     *self,
                        GAsyncResult  *result,
                        GError       **error)
{
  g_return_val_if_fail (g_task_is_valid (result, self), FALSE);
  return g_task_propagate_boolean (G_TASK (result), error);
}

/* Returns: (transfer none): the matcher of the last completed load (an empty
 * one before the first) */
MoatFilterMatcher *
moat_lists_get_matcher (MoatLists *self)
{
  g_return_val_if_fail (MOAT_IS_LISTS (self), NULL);
  return self->matcher;
}

/* Returns: (transfer container) (element-type MoatListInfo): a copy */
GPtrArray *
moat_lists_dup_infos (MoatLists *self)
{
  GPtrArray *infos;

  g_return_val_if_fail (MOAT_IS_LISTS (self), NULL);

  infos = g_ptr_array_new_with_free_func ((GDestroyNotify) moat_list_info_free);
  for (guint i = 0; i < self->infos->len; i++)
    g_ptr_array_add (infos, list_info_copy (g_ptr_array_index (self->infos, i)));
  return infos;
}

/* How many loads have completed. */
guint64
moat_lists_get_generation (MoatLists *self)
{
  g_return_val_if_fail (MOAT_IS_LISTS (self), 0);
  return self->generation;
}

/* @target: a URL (http://, https://) or a host; returns its host normalised. */
static char *
target_host (const char *target, GError **error)
{
  g_autofree char *host = NULL;
  g_autoptr(GUri) uri = NULL;

  if (strstr (target, "://") != NULL)
    {
      g_autoptr(GError) local_error = NULL;

      uri = g_uri_parse (target, G_URI_FLAGS_ENCODED | G_URI_FLAGS_NON_DNS, &local_error);
      if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0')
        {
          g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                       _("“%s” is not a URL with a host."), target);
          return NULL;
        }
      return moat_host_normalize (g_uri_get_host (uri), -1, NULL, error);
    }
  if (!moat_host_split_authority (target, &host, NULL, error))
    return NULL;
  return moat_host_normalize (host, -1, NULL, error);
}

/**
 * moat_lists_check:
 * @target: a host or a URL
 * @check: (out caller-allocates): the verdict, with the list and rule that decided
 *
 * What the proxy would decide for @target by its host, with the current lists.
 */
gboolean
moat_lists_check (MoatLists      *self,
                  const char     *target,
                  MoatListCheck  *check,
                  GError        **error)
{
  g_autofree char *host = NULL;
  MoatFilterMatch match = { 0 };

  g_return_val_if_fail (MOAT_IS_LISTS (self), FALSE);
  g_return_val_if_fail (target != NULL, FALSE);
  g_return_val_if_fail (check != NULL, FALSE);

  memset (check, 0, sizeof *check);
  if (!g_utf8_validate (target, -1, NULL) || target[0] == '\0')
    {
      g_set_error_literal (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                           _("Give a host name or a URL to check."));
      return FALSE;
    }
  host = target_host (target, error);
  if (host == NULL)
    {
      if (error != NULL && *error != NULL && (*error)->domain != MOAT_ERROR)
        {
          g_autoptr(GError) inner = g_steal_pointer (error);

          g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT, "%s", inner->message);
        }
      return FALSE;
    }

  /* A plain-HTTP URL is matched whole, as the proxy sees it; anything else
   * (a host, or https:// whose path the proxy never sees) by its host. */
  if (g_ascii_strncasecmp (target, "http://", 7) == 0)
    check->verdict = moat_filter_matcher_match_url (self->matcher, target, strlen (target),
                                                    host, strlen (host), NULL,
                                                    MOAT_FILTER_RESOURCE_TYPE_UNKNOWN, &match);
  else
    check->verdict = moat_filter_matcher_match_host (self->matcher, host, -1,
                                                     MOAT_FILTER_QUERY_NONE, &match);
  check->protected_resource = moat_lists_is_protected_resource (self, host);
  check->host = g_steal_pointer (&host);
  if (check->verdict != MOAT_FILTER_VERDICT_NONE)
    {
      check->category = match.category;
      check->list_id = g_strdup (g_hash_table_lookup (self->list_ids, match.list));
      check->list_name = g_strdup (match.list_name);
      check->rule = moat_filter_match_dup_rule (&match);
      check->line = match.line;
    }
  return TRUE;
}

static gboolean
is_known_id (MoatLists *self, const char *id)
{
  for (guint i = 0; i < self->infos->len; i++)
    if (g_str_equal (((MoatListInfo *) g_ptr_array_index (self->infos, i))->id, id))
      return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (system_lists); i++)
    if (g_str_equal (system_lists[i].id, id))
      return TRUE;
  for (guint i = 0; i < G_N_ELEMENTS (built_in_lists); i++)
    if (g_str_equal (built_in_lists[i].id, id))
      return TRUE;
  return FALSE;
}

static gboolean
strv_set (GSettings *settings, const char *key, const char *item, gboolean present)
{
  g_auto(GStrv) items = g_settings_get_strv (settings, key);
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) result = NULL;
  gboolean has = g_strv_contains ((const char * const *) items, item);

  if (has == present)
    return TRUE;
  for (guint i = 0; items[i] != NULL; i++)
    if (!g_str_equal (items[i], item))
      g_strv_builder_add (builder, items[i]);
  if (present)
    g_strv_builder_add (builder, item);
  result = g_strv_builder_end (builder);
  return g_settings_set_strv (settings, key, (const char * const *) result);
}

/* Turns one list on or off (its category must be on too for it to be used). */
gboolean
moat_lists_set_enabled (MoatLists   *self,
                        const char  *id,
                        gboolean     enabled,
                        GError     **error)
{
  g_return_val_if_fail (MOAT_IS_LISTS (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  if (g_str_equal (id, USER_ALLOW_ID) || g_str_equal (id, USER_BLOCK_ID) || !is_known_id (self, id))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_NOT_FOUND,
                   _("There is no list “%s” that can be turned on or off."), id);
      return FALSE;
    }
  strv_set (self->settings, "disabled-lists", id, !enabled);
  return TRUE;
}

gboolean
moat_lists_set_category_enabled (MoatLists          *self,
                                 MoatFilterCategory  category,
                                 gboolean            enabled)
{
  g_return_val_if_fail (MOAT_IS_LISTS (self), FALSE);
  g_return_val_if_fail (category < MOAT_FILTER_CATEGORY_LAST, FALSE);

  return strv_set (self->settings, "enabled-categories",
                   moat_filter_category_to_string (category), enabled);
}

static gboolean
tuple_list_contains (GVariant *value, const char *source)
{
  GVariantIter iter;
  const char *a, *b, *c;

  g_variant_iter_init (&iter, value);
  while (g_variant_iter_next (&iter, "(&s&s&s)", &a, &b, &c))
    if (g_str_equal (a, source))
      return TRUE;
  return FALSE;
}

/**
 * moat_lists_add:
 * @source: an http(s) URL to subscribe to, or an absolute path of a list file
 * @name: (nullable): what to call it; NULL or "" for the URL's or file's name
 *
 * Returns: (transfer full): the new list's id
 */
char *
moat_lists_add (MoatLists           *self,
                const char          *source,
                MoatFilterCategory   category,
                const char          *name,
                GError             **error)
{
  g_autoptr(GVariant) current = NULL;
  g_autoptr(GVariantBuilder) builder = NULL;
  const char *key;
  const char *prefix;
  GVariantIter iter;
  const char *a, *b, *c;

  g_return_val_if_fail (MOAT_IS_LISTS (self), NULL);
  g_return_val_if_fail (source != NULL, NULL);

  if (category >= MOAT_FILTER_CATEGORY_LAST)
    {
      g_set_error_literal (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT, _("Unknown category."));
      return NULL;
    }
  if (name == NULL)
    name = "";
  if (!g_utf8_validate (source, -1, NULL) || !g_utf8_validate (name, -1, NULL) ||
      strlen (source) > 4096 || strlen (name) > 200 ||
      strpbrk (source, "\r\n") != NULL || strpbrk (name, "\r\n") != NULL)
    {
      g_set_error_literal (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                           _("The list’s address or name is not valid."));
      return NULL;
    }

  if (g_str_has_prefix (source, "https://") || g_str_has_prefix (source, "http://"))
    {
      g_autoptr(GUri) uri = g_uri_parse (source, G_URI_FLAGS_NONE, NULL);

      if (uri == NULL || g_uri_get_host (uri) == NULL || g_uri_get_host (uri)[0] == '\0')
        {
          g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                       _("“%s” is not a valid web address."), source);
          return NULL;
        }
      key = "subscriptions";
      prefix = "sub";
    }
  else if (g_path_is_absolute (source))
    {
      key = "list-files";
      prefix = "file";
    }
  else
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   _("“%s” is neither a web address (https://…) nor an absolute file path."),
                   source);
      return NULL;
    }

  current = g_settings_get_value (self->settings, key);
  if (tuple_list_contains (current, source))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                   _("The list %s is already added."), source);
      return NULL;
    }
  if (g_variant_n_children (current) >= MAX_ADDED_LISTS)
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_LIMIT_EXCEEDED,
                   _("Moat takes at most %u lists of this kind."), MAX_ADDED_LISTS);
      return NULL;
    }
  builder = g_variant_builder_new (G_VARIANT_TYPE ("a(sss)"));
  g_variant_iter_init (&iter, current);
  while (g_variant_iter_next (&iter, "(&s&s&s)", &a, &b, &c))
    g_variant_builder_add (builder, "(sss)", a, b, c);
  g_variant_builder_add (builder, "(sss)", source, name, moat_filter_category_to_string (category));
  g_settings_set_value (self->settings, key, g_variant_builder_end (builder));
  return make_id (prefix, source);
}

static gboolean
remove_from_tuples (GSettings *settings, const char *key, const char *prefix, const char *id)
{
  g_autoptr(GVariant) current = g_settings_get_value (settings, key);
  g_autoptr(GVariantBuilder) builder = g_variant_builder_new (G_VARIANT_TYPE ("a(sss)"));
  GVariantIter iter;
  const char *a, *b, *c;
  gboolean found = FALSE;

  g_variant_iter_init (&iter, current);
  while (g_variant_iter_next (&iter, "(&s&s&s)", &a, &b, &c))
    {
      g_autofree char *item_id = make_id (prefix, a);

      if (g_str_equal (item_id, id))
        found = TRUE;
      else
        g_variant_builder_add (builder, "(sss)", a, b, c);
    }
  if (found)
    g_settings_set_value (settings, key, g_variant_builder_end (builder));
  return found;
}

/* Removes a subscription or a file list; packaged and built-in lists can only
 * be turned off. */
gboolean
moat_lists_remove (MoatLists   *self,
                   const char  *id,
                   GError     **error)
{
  g_return_val_if_fail (MOAT_IS_LISTS (self), FALSE);
  g_return_val_if_fail (id != NULL, FALSE);

  if (remove_from_tuples (self->settings, "subscriptions", "sub", id) ||
      remove_from_tuples (self->settings, "list-files", "file", id))
    {
      strv_set (self->settings, "disabled-lists", id, FALSE);
      return TRUE;
    }
  if (is_known_id (self, id))
    g_set_error (error, MOAT_ERROR, MOAT_ERROR_NOT_SUPPORTED,
                 _("The list “%s” comes with Moat or the system and can only be turned off."), id);
  else
    g_set_error (error, MOAT_ERROR, MOAT_ERROR_NOT_FOUND, _("There is no list “%s”."), id);
  return FALSE;
}

/**
 * moat_lists_add_user_host:
 * @allow: %TRUE for the allow-list, %FALSE for the block-list
 * @normalized: (out) (optional): the host as it was stored
 *
 * Puts @host (and so its subdomains) on the user's allow- or block-list and
 * takes it off the other one.
 */
gboolean
moat_lists_add_user_host (MoatLists   *self,
                          const char  *host,
                          gboolean     allow,
                          char       **normalized,
                          GError     **error)
{
  g_autofree char *canonical = NULL;
  g_auto(GStrv) current = NULL;
  const char *key = allow ? "user-allowed-hosts" : "user-blocked-hosts";
  const char *other = allow ? "user-blocked-hosts" : "user-allowed-hosts";

  g_return_val_if_fail (MOAT_IS_LISTS (self), FALSE);
  g_return_val_if_fail (host != NULL, FALSE);

  canonical = target_host (host, error);
  if (canonical == NULL)
    {
      if (error != NULL && *error != NULL && (*error)->domain != MOAT_ERROR)
        {
          g_autoptr(GError) inner = g_steal_pointer (error);

          g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                       _("“%s” is not a host name: %s"), host, inner->message);
        }
      return FALSE;
    }
  current = g_settings_get_strv (self->settings, key);
  if (g_strv_length (current) >= MAX_USER_HOSTS &&
      !g_strv_contains ((const char * const *) current, canonical))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_LIMIT_EXCEEDED,
                   _("Your list already holds %u hosts, the most Moat keeps."), MAX_USER_HOSTS);
      return FALSE;
    }
  /* Two writes, one reload: reloads are debounced. */
  strv_set (self->settings, other, canonical, FALSE);
  strv_set (self->settings, key, canonical, TRUE);
  if (normalized != NULL)
    *normalized = g_steal_pointer (&canonical);
  return TRUE;
}

gboolean
moat_lists_remove_user_host (MoatLists   *self,
                             const char  *host,
                             gboolean     allow,
                             GError     **error)
{
  g_autofree char *canonical = NULL;
  g_auto(GStrv) current = NULL;
  const char *key = allow ? "user-allowed-hosts" : "user-blocked-hosts";

  g_return_val_if_fail (MOAT_IS_LISTS (self), FALSE);
  g_return_val_if_fail (host != NULL, FALSE);

  canonical = moat_host_normalize (host, -1, NULL, NULL);
  current = g_settings_get_strv (self->settings, key);
  if (canonical == NULL || !g_strv_contains ((const char * const *) current, canonical))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_NOT_FOUND,
                   allow ? _("%s is not on your allow-list.") : _("%s is not on your block-list."),
                   host);
      return FALSE;
    }
  strv_set (self->settings, key, canonical, FALSE);
  return TRUE;
}

/* ---- Protected resources ---- */

/**
 * moat_lists_is_protected_resource:
 * @host: a normalised host
 *
 * Whether @host (or a domain above it) is one of the company resources the
 * policy walls off when the network is not safe.
 */
gboolean
moat_lists_is_protected_resource (MoatLists  *self,
                                  const char *host)
{
  MoatFilterMatch match;

  g_return_val_if_fail (MOAT_IS_LISTS (self), FALSE);
  g_return_val_if_fail (host != NULL, FALSE);

  return moat_filter_matcher_match_host (self->protected_matcher, host, -1,
                                         MOAT_FILTER_QUERY_NONE, &match) == MOAT_FILTER_VERDICT_BLOCK;
}

/* Returns: (transfer full): the protected resources, as stored */
GStrv
moat_lists_dup_protected_resources (MoatLists *self)
{
  g_return_val_if_fail (MOAT_IS_LISTS (self), NULL);
  return g_settings_get_strv (self->settings, "protected-resources");
}

gboolean
moat_lists_add_protected_resource (MoatLists   *self,
                                   const char  *host,
                                   char       **normalized,
                                   GError     **error)
{
  g_autofree char *canonical = NULL;
  g_auto(GStrv) current = NULL;

  g_return_val_if_fail (MOAT_IS_LISTS (self), FALSE);
  g_return_val_if_fail (host != NULL, FALSE);

  canonical = target_host (host, error);
  if (canonical == NULL)
    {
      if (error != NULL && *error != NULL && (*error)->domain != MOAT_ERROR)
        {
          g_autoptr(GError) inner = g_steal_pointer (error);

          g_set_error (error, MOAT_ERROR, MOAT_ERROR_INVALID_ARGUMENT,
                       _("“%s” is not a host name: %s"), host, inner->message);
        }
      return FALSE;
    }
  current = g_settings_get_strv (self->settings, "protected-resources");
  if (g_strv_length (current) >= MAX_USER_HOSTS &&
      !g_strv_contains ((const char * const *) current, canonical))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_LIMIT_EXCEEDED,
                   _("The list already holds %u hosts, the most Moat keeps."), MAX_USER_HOSTS);
      return FALSE;
    }
  strv_set (self->settings, "protected-resources", canonical, TRUE);
  if (normalized != NULL)
    *normalized = g_steal_pointer (&canonical);
  return TRUE;
}

gboolean
moat_lists_remove_protected_resource (MoatLists   *self,
                                      const char  *host,
                                      GError     **error)
{
  g_autofree char *canonical = NULL;
  g_auto(GStrv) current = NULL;

  g_return_val_if_fail (MOAT_IS_LISTS (self), FALSE);
  g_return_val_if_fail (host != NULL, FALSE);

  canonical = moat_host_normalize (host, -1, NULL, NULL);
  current = g_settings_get_strv (self->settings, "protected-resources");
  if (canonical == NULL || !g_strv_contains ((const char * const *) current, canonical))
    {
      g_set_error (error, MOAT_ERROR, MOAT_ERROR_NOT_FOUND,
                   _("%s is not a protected resource."), host);
      return FALSE;
    }
  strv_set (self->settings, "protected-resources", canonical, FALSE);
  return TRUE;
}
