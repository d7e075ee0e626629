/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#pragma once

#include <gio/gio.h>

#include "moat-filter-matcher.h"

G_BEGIN_DECLS

/*
 * MoatLists: which filter lists Moat uses, and the matcher compiled from them.
 *
 * The configuration lives in GSettings (enabled-categories, disabled-lists,
 * subscriptions, list-files, user-allowed-hosts, user-blocked-hosts). The
 * lists are read and compiled on a worker thread, never on the main loop; a
 * list that cannot be read keeps its error and the others load. A settings
 * change reloads (debounced); lists whose file did not change are not parsed
 * again.
 *
 * Signals:
 *   ::changed (): a new matcher and new list information are available.
 */

#define MOAT_LISTS_DEFAULT_ASSETS_DIR "/usr/share/chromium/extensions/ublock-origin/assets"
#define MOAT_LISTS_RELOAD_DELAY_MS 200

typedef enum {
  MOAT_LIST_KIND_SYSTEM,        /* packaged with the system (Debian's uBlock Origin assets) */
  MOAT_LIST_KIND_BUILT_IN,      /* embedded in moatd */
  MOAT_LIST_KIND_SUBSCRIPTION,  /* fetched from a URL */
  MOAT_LIST_KIND_FILE,          /* a file the user added */
  MOAT_LIST_KIND_USER,          /* the user's allow- or block-list */
  MOAT_LIST_KIND_COMMAND_LINE,  /* moatd --list FILE */
} MoatListKind;

const char *moat_list_kind_to_string (MoatListKind kind);

typedef struct {
  char               *id;
  char               *name;
  MoatListKind        kind;
  MoatFilterCategory  category;
  char               *source;        /* a path, a URL or a resource path */
  gboolean            enabled;       /* used: its own switch and its category are on */
  gboolean            list_enabled;  /* its own switch, whatever its category */
  gboolean            loaded;
  guint               n_rules;       /* host rules, URL rules and exceptions */
  guint               n_bad_lines;
  GArray             *bad_lines;     /* guint32 line numbers, the first ones */
  gint64              updated;       /* µs since the epoch: the copy's mtime; 0 unknown */
  char               *error;         /* why it did not load, or NULL */
} MoatListInfo;

void          moat_list_info_free (MoatListInfo *info);
G_DEFINE_AUTOPTR_CLEANUP_FUNC (MoatListInfo, moat_list_info_free)

typedef struct {
  MoatFilterVerdict   verdict;
  char               *host;          /* normalised */
  MoatFilterCategory  category;
  char               *list_id;
  char               *list_name;
  char               *rule;
  guint               line;
  gboolean            protected_resource;  /* on the protected-resources list */
} MoatListCheck;

void          moat_list_check_clear (MoatListCheck *check);

#define MOAT_TYPE_LISTS (moat_lists_get_type ())
G_DECLARE_FINAL_TYPE (MoatLists, moat_lists, MOAT, LISTS, GObject)

MoatLists         *moat_lists_new                (GSettings           *settings,
                                                  const char          *data_dir);
void               moat_lists_set_assets_dir     (MoatLists           *self,
                                                  const char          *dir);
void               moat_lists_set_command_line_files (MoatLists       *self,
                                                  const char * const  *files);

void               moat_lists_load_async         (MoatLists           *self,
                                                  GCancellable        *cancellable,
                                                  GAsyncReadyCallback  callback,
                                                  gpointer             user_data);
gboolean           moat_lists_load_finish        (MoatLists           *self,
                                                  GAsyncResult        *result,
                                                  GError             **error);

MoatFilterMatcher *moat_lists_get_matcher        (MoatLists           *self);
GPtrArray         *moat_lists_dup_infos          (MoatLists           *self);
guint64            moat_lists_get_generation     (MoatLists           *self);

gboolean           moat_lists_check              (MoatLists           *self,
                                                  const char          *target,
                                                  MoatListCheck       *check,
                                                  GError             **error);

void               moat_lists_set_proxy_resolver (MoatLists           *self,
                                                  GProxyResolver      *resolver);
void               moat_lists_start_updates      (MoatLists           *self);
void               moat_lists_reload             (MoatLists           *self);
int                moat_lists_update             (MoatLists           *self,
                                                  GError             **error);

gboolean           moat_lists_set_enabled        (MoatLists           *self,
                                                  const char          *id,
                                                  gboolean             enabled,
                                                  GError             **error);
gboolean           moat_lists_set_category_enabled (MoatLists         *self,
                                                  MoatFilterCategory   category,
                                                  gboolean             enabled);
char              *moat_lists_add                (MoatLists           *self,
                                                  const char          *source,
                                                  MoatFilterCategory   category,
                                                  const char          *name,
                                                  GError             **error);
gboolean           moat_lists_remove             (MoatLists           *self,
                                                  const char          *id,
                                                  GError             **error);
gboolean           moat_lists_add_user_host      (MoatLists           *self,
                                                  const char          *host,
                                                  gboolean             allow,
                                                  char               **normalized,
                                                  GError             **error);
gboolean           moat_lists_remove_user_host   (MoatLists           *self,
                                                  const char          *host,
                                                  gboolean             allow,
                                                  GError             **error);

gboolean           moat_lists_is_protected_resource     (MoatLists   *self,
                                                         const char  *host);
GStrv              moat_lists_dup_protected_resources   (MoatLists   *self);
gboolean           moat_lists_add_protected_resource    (MoatLists   *self,
                                                         const char  *host,
                                                         char       **normalized,
                                                         GError     **error);
gboolean           moat_lists_remove_protected_resource (MoatLists   *self,
                                                         const char  *host,
                                                         GError     **error);

G_END_DECLS
