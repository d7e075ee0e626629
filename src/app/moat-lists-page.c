/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-app"

#include "config.h"

#include "moat-lists-page.h"

#include "moat-add-list-dialog.h"
#include "moat-threat-names.h"

#include <adwaita.h>
#include <glib/gi18n.h>

/*
 * MoatListsPage: the categories Moat blocks, the filter lists in force (with
 * their rule counts, age and load errors), and the user's own always-allowed
 * and always-blocked sites. Everything comes from moatd (GetLists,
 * GetUserHosts, EnabledCategories) and is fetched again, at most every
 * REFRESH_DELAY_MS, when moatd says ListsChanged. Rows are rebuilt in place,
 * so the scroll position stays; expander rows stay open across a refresh.
 */

#define REFRESH_DELAY_MS 300
/* How many line numbers of a list's bad lines to name. */
#define MAX_BAD_LINES_SHOWN 20

typedef enum {
  OP_SET_CATEGORY,
  OP_SET_LIST,
  OP_REMOVE_LIST,
  OP_UNDO_REMOVE_LIST,
  OP_ADD_HOST,
  OP_REMOVE_HOST,
  OP_UNDO_REMOVE_HOST,
} OpKind;

/* One call to moatd. @self is only valid when the call was not cancelled
 * (dispose cancels them all). */
typedef struct {
  MoatListsPage *self;
  OpKind         kind;
  char          *id;       /* list id, category, or host */
  char          *list;     /* "allow" or "block" for hosts */
  char          *source;   /* to undo a list's removal */
  char          *category;
  char          *name;
} Op;

struct _MoatListsPage {
  GtkWidget            parent_instance;

  /* owned */
  MoatClient          *client;
  GCancellable        *cancellable;          /* actions; cancelled in dispose */
  GCancellable        *refresh_cancellable;  /* the refresh under way */
  guint                refresh_id;
  gboolean             loaded;
  GHashTable          *category_switches;    /* category id → GtkSwitch (borrowed) */
  GPtrArray           *list_rows;            /* rows we added to lists_group (borrowed) */
  GPtrArray           *allowed_rows;
  GPtrArray           *blocked_rows;
  GHashTable          *expanded;             /* list ids whose rows are open */
  GStrv                enabled_categories;
  gboolean             syncing;

  /* template children */
  GtkStack            *stack;
  AdwStatusPage       *error_page;
  GtkScrolledWindow   *scrolled_window;
  AdwPreferencesGroup *categories_group;
  AdwPreferencesGroup *lists_group;
  GtkWidget           *lists_empty_row;
  AdwPreferencesGroup *allowed_group;
  AdwPreferencesGroup *blocked_group;
  AdwEntryRow         *allow_entry;
  AdwEntryRow         *block_entry;
};

G_DEFINE_FINAL_TYPE (MoatListsPage, moat_lists_page, GTK_TYPE_WIDGET)

static void refresh (MoatListsPage *self);
static void queue_refresh (MoatListsPage *self);

static Op *
op_new (MoatListsPage *self,
        OpKind         kind,
        const char    *id)
{
  Op *op = g_new0 (Op, 1);

  op->self = self;
  op->kind = kind;
  op->id = g_strdup (id);
  return op;
}

static void
op_free (Op *op)
{
  g_free (op->id);
  g_free (op->list);
  g_free (op->source);
  g_free (op->category);
  g_free (op->name);
  g_free (op);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (Op, op_free)

static void
show_toast (MoatListsPage *self,
            AdwToast      *toast)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);

  if (overlay != NULL)
    adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), toast);
  else
    g_object_unref (toast);
}

/* Takes @text. */
static void
show_error_toast (MoatListsPage *self,
                  char          *text)
{
  AdwToast *toast = adw_toast_new (text);

  g_free (text);

  adw_toast_set_timeout (toast, 8);
  show_toast (self, toast);
}

static gboolean
category_is_enabled (MoatListsPage *self,
                     const char    *category)
{
  return self->enabled_categories != NULL &&
         g_strv_contains ((const char * const *) self->enabled_categories, category);
}

static void
run_op (MoatListsPage       *self,
        const char          *method,
        GVariant            *parameters,
        Op                  *op,
        GAsyncReadyCallback  callback)
{
  moat_client_call_async (self->client, method, parameters, self->cancellable, callback, op);
}

/* ---- categories ---- */

static void op_done_cb (GObject      *object,
                        GAsyncResult *result,
                        gpointer      user_data);

static void
on_category_switch_notify_active_cb (GtkSwitch     *category_switch,
                                     GParamSpec    *pspec,
                                     MoatListsPage *self)
{
  const char *category = g_object_get_data (G_OBJECT (category_switch), "moat-category");
  gboolean active = gtk_switch_get_active (category_switch);

  if (self->syncing || self->client == NULL)
    return;

  run_op (self, "SetCategoryEnabled", g_variant_new ("(sb)", category, active),
          op_new (self, OP_SET_CATEGORY, category), op_done_cb);
}

static void
build_category_rows (MoatListsPage *self)
{
  const char * const *ids = NULL;
  guint n = moat_list_category_get_all (&ids);

  for (guint i = 0; i < n; i++)
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *category_switch = gtk_switch_new ();

      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                     moat_list_category_get_display_name (ids[i]));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row),
                                   moat_list_category_get_description (ids[i]));
      /* The row labels its activatable widget. */
      gtk_widget_set_valign (category_switch, GTK_ALIGN_CENTER);
      g_object_set_data (G_OBJECT (category_switch), "moat-category", (gpointer) ids[i]);
      g_signal_connect (category_switch, "notify::active",
                        G_CALLBACK (on_category_switch_notify_active_cb), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), category_switch);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), category_switch);
      adw_preferences_group_add (self->categories_group, row);
      g_hash_table_insert (self->category_switches, (gpointer) ids[i], category_switch);
    }
}

static void
update_categories (MoatListsPage *self)
{
  GHashTableIter iter;
  gpointer key, value;

  g_clear_pointer (&self->enabled_categories, g_strfreev);
  self->enabled_categories = moat_client_dup_enabled_categories (self->client);

  self->syncing = TRUE;
  g_hash_table_iter_init (&iter, self->category_switches);
  while (g_hash_table_iter_next (&iter, &key, &value))
    gtk_switch_set_active (GTK_SWITCH (value), category_is_enabled (self, key));
  self->syncing = FALSE;
}

/* ---- lists ---- */

static void
on_list_switch_notify_active_cb (GtkSwitch     *list_switch,
                                 GParamSpec    *pspec,
                                 MoatListsPage *self)
{
  const char *id = g_object_get_data (G_OBJECT (list_switch), "moat-list-id");

  if (self->syncing || self->client == NULL)
    return;

  run_op (self, "SetListEnabled",
          g_variant_new ("(sb)", id, gtk_switch_get_active (list_switch)),
          op_new (self, OP_SET_LIST, id), op_done_cb);
}

static void
on_list_remove_clicked_cb (GtkButton     *button,
                           MoatListsPage *self)
{
  Op *op = op_new (self, OP_REMOVE_LIST, g_object_get_data (G_OBJECT (button), "moat-list-id"));

  op->source = g_strdup (g_object_get_data (G_OBJECT (button), "moat-list-source"));
  op->category = g_strdup (g_object_get_data (G_OBJECT (button), "moat-list-category"));
  op->name = g_strdup (g_object_get_data (G_OBJECT (button), "moat-list-name"));
  gtk_widget_set_sensitive (GTK_WIDGET (button), FALSE);
  run_op (self, "RemoveList", g_variant_new ("(s)", op->id), op, op_done_cb);
}

static void
on_expander_notify_expanded_cb (AdwExpanderRow *row,
                                GParamSpec     *pspec,
                                MoatListsPage  *self)
{
  const char *id = g_object_get_data (G_OBJECT (row), "moat-list-id");

  if (adw_expander_row_get_expanded (row))
    g_hash_table_add (self->expanded, g_strdup (id));
  else
    g_hash_table_remove (self->expanded, id);
}

static char *
format_bad_lines (guint32      n_bad,
                  GVariant    *numbers)
{
  g_autoptr(GString) text = g_string_new (NULL);
  gsize n_numbers = numbers != NULL ? g_variant_n_children (numbers) : 0;
  gsize shown = MIN (n_numbers, MAX_BAD_LINES_SHOWN);

  for (gsize i = 0; i < shown; i++)
    {
      guint32 line;

      g_variant_get_child (numbers, i, "u", &line);
      if (i > 0)
        /* Translators: between line numbers, "12, 48" */
        g_string_append (text, _(", "));
      g_string_append_printf (text, "%u", line);
    }
  if (n_bad > shown)
    g_string_append (text, shown > 0 ? _(", …") : _("…"));

  /* Translators: %s are line numbers of a filter list, "12, 48, …" */
  return g_strdup_printf (_("Lines not understood: %s"), text->str);
}

static GtkWidget *
create_list_row (MoatListsPage *self,
                 GVariant      *list)
{
  g_autoptr(GVariantDict) dict = g_variant_dict_new (list);
  g_autoptr(GVariant) bad_numbers = NULL;
  g_autoptr(GString) subtitle = g_string_new (NULL);
  const char *id = "", *name = "", *kind = "", *category = "", *source = "", *error = "";
  gboolean enabled = FALSE, category_on;
  guint32 rules = 0, bad_lines = 0;
  gint64 updated = 0;
  GtkWidget *row;
  GtkWidget *list_switch;
  g_autofree char *tooltip = NULL;
  g_autofree char *accessible = NULL;

  g_variant_dict_lookup (dict, "id", "&s", &id);
  g_variant_dict_lookup (dict, "name", "&s", &name);
  g_variant_dict_lookup (dict, "kind", "&s", &kind);
  g_variant_dict_lookup (dict, "category", "&s", &category);
  g_variant_dict_lookup (dict, "source", "&s", &source);
  g_variant_dict_lookup (dict, "error", "&s", &error);
  g_variant_dict_lookup (dict, "enabled", "b", &enabled);
  g_variant_dict_lookup (dict, "rules", "u", &rules);
  g_variant_dict_lookup (dict, "bad-lines", "u", &bad_lines);
  g_variant_dict_lookup (dict, "updated", "x", &updated);
  bad_numbers = g_variant_dict_lookup_value (dict, "bad-line-numbers", G_VARIANT_TYPE ("au"));
  category_on = category_is_enabled (self, category);

  if (error[0] != '\0')
    {
      g_string_append (subtitle, error);
    }
  else
    {
      g_autofree char *count = NULL;

      g_string_append (subtitle, moat_list_category_get_display_name (category));
      /* Translators: %'u is a number with thousands separators */
      count = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%'u rule", "%'u rules", rules),
                               rules);
      /* Translators: separates the parts of a list's description */
      g_string_append (subtitle, _(" · "));
      g_string_append (subtitle, count);
      if (updated > 0)
        {
          g_autoptr(GDateTime) now = g_date_time_new_now_local ();
          g_autofree char *when = moat_format_event_time (updated, now);

          g_string_append (subtitle, _(" · "));
          if (g_get_real_time () - updated < G_TIME_SPAN_MINUTE)
            g_string_append (subtitle, _("updated just now"));
          else
            /* Translators: %s is a time such as "5 minutes ago", "08:30" or "3 Feb 10:12" */
            g_string_append_printf (subtitle, _("updated %s"), when);
        }
    }

  if (bad_lines > 0)
    {
      GtkWidget *child = adw_action_row_new ();
      g_autofree char *lines = format_bad_lines (bad_lines, bad_numbers);
      g_autofree char *count = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                             "%u line was skipped",
                                                             "%u lines were skipped",
                                                             bad_lines),
                                                bad_lines);

      row = adw_expander_row_new ();
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (child), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (child), count);
      adw_action_row_set_subtitle (ADW_ACTION_ROW (child), lines);
      adw_expander_row_add_row (ADW_EXPANDER_ROW (row), child);
      adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (row), subtitle->str);
      adw_expander_row_set_expanded (ADW_EXPANDER_ROW (row),
                                     g_hash_table_contains (self->expanded, id));
      g_object_set_data_full (G_OBJECT (row), "moat-list-id", g_strdup (id), g_free);
      g_signal_connect (row, "notify::expanded", G_CALLBACK (on_expander_notify_expanded_cb), self);
    }
  else
    {
      row = adw_action_row_new ();
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle->str);
    }
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name[0] != '\0' ? name : source);
  gtk_widget_add_css_class (row, "list-row");

  if (error[0] != '\0')
    {
      GtkWidget *icon = gtk_image_new_from_icon_name ("dialog-warning-symbolic");

      gtk_widget_add_css_class (icon, "error");
      gtk_widget_set_tooltip_text (icon, _("This list did not load"));
      gtk_accessible_update_property (GTK_ACCESSIBLE (icon),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _("Error"),
                                      -1);
      gtk_widget_add_css_class (row, "list-error");
      if (ADW_IS_EXPANDER_ROW (row))
        adw_expander_row_add_prefix (ADW_EXPANDER_ROW (row), icon);
      else
        adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);
    }

  if (g_strcmp0 (kind, "subscription") == 0 || g_strcmp0 (kind, "file") == 0)
    {
      GtkWidget *button = gtk_button_new_from_icon_name ("user-trash-symbolic");
      g_autofree char *remove_label = NULL;

      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (button, "flat");
      gtk_widget_set_tooltip_text (button, _("Remove List"));
      /* Translators: accessible name of the button that removes a list, %s is its name */
      remove_label = g_strdup_printf (_("Remove %s"), name[0] != '\0' ? name : source);
      gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, remove_label,
                                      -1);
      g_object_set_data_full (G_OBJECT (button), "moat-list-id", g_strdup (id), g_free);
      g_object_set_data_full (G_OBJECT (button), "moat-list-source", g_strdup (source), g_free);
      g_object_set_data_full (G_OBJECT (button), "moat-list-category", g_strdup (category), g_free);
      g_object_set_data_full (G_OBJECT (button), "moat-list-name", g_strdup (name), g_free);
      g_signal_connect (button, "clicked", G_CALLBACK (on_list_remove_clicked_cb), self);
      if (ADW_IS_EXPANDER_ROW (row))
        adw_expander_row_add_action (ADW_EXPANDER_ROW (row), button);
      else
        adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
    }

  list_switch = gtk_switch_new ();
  gtk_widget_set_valign (list_switch, GTK_ALIGN_CENTER);
  gtk_switch_set_active (GTK_SWITCH (list_switch), enabled && category_on);
  gtk_widget_set_sensitive (list_switch, category_on);
  if (!category_on)
    {
      /* Translators: %s is a category such as "Advertising" */
      tooltip = g_strdup_printf (_("Turn on “%s” under Categories to use this list"),
                                 moat_list_category_get_display_name (category));
      gtk_widget_set_tooltip_text (row, tooltip);
    }
  g_object_set_data_full (G_OBJECT (list_switch), "moat-list-id", g_strdup (id), g_free);
  g_signal_connect (list_switch, "notify::active",
                    G_CALLBACK (on_list_switch_notify_active_cb), self);
  if (ADW_IS_EXPANDER_ROW (row))
    {
      /* Translators: the accessible name of a list's switch, %s is the list's name */
      accessible = g_strdup_printf (_("Use %s"), name[0] != '\0' ? name : source);
      gtk_accessible_update_property (GTK_ACCESSIBLE (list_switch),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                      -1);
      adw_expander_row_add_action (ADW_EXPANDER_ROW (row), list_switch);
    }
  else
    {
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), list_switch);
      adw_action_row_set_activatable_widget (ADW_ACTION_ROW (row), list_switch);
    }

  return row;
}

static void
clear_rows (AdwPreferencesGroup *group,
            GPtrArray           *rows)
{
  for (guint i = 0; i < rows->len; i++)
    adw_preferences_group_remove (group, g_ptr_array_index (rows, i));
  g_ptr_array_set_size (rows, 0);
}

static void
get_lists_cb (GObject      *object,
              GAsyncResult *result,
              gpointer      user_data)
{
  MoatListsPage *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) lists = NULL;
  g_autoptr(GError) error = NULL;
  double scroll;
  GtkAdjustment *adjustment;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_LISTS_PAGE (user_data);
  if (error != NULL)
    {
      g_debug ("Could not get the lists: %s", error->message);
      if (!self->loaded)
        {
          adw_status_page_set_description (self->error_page, error->message);
          gtk_stack_set_visible_child_name (self->stack, "error");
        }
      return;
    }

  adjustment = gtk_scrolled_window_get_vadjustment (self->scrolled_window);
  scroll = gtk_adjustment_get_value (adjustment);

  update_categories (self);

  self->syncing = TRUE;
  clear_rows (self->lists_group, self->list_rows);
  lists = g_variant_get_child_value (reply, 0);
  for (gsize i = 0; i < g_variant_n_children (lists); i++)
    {
      g_autoptr(GVariant) list = g_variant_get_child_value (lists, i);
      const char *kind = NULL;
      GtkWidget *row;

      /* The user's own hosts have their groups below. */
      if (g_variant_lookup (list, "kind", "&s", &kind) && g_strcmp0 (kind, "user") == 0)
        continue;
      row = create_list_row (self, list);

      adw_preferences_group_add (self->lists_group, row);
      g_ptr_array_add (self->list_rows, row);
    }
  gtk_widget_set_visible (self->lists_empty_row, self->list_rows->len == 0);
  self->syncing = FALSE;

  self->loaded = TRUE;
  gtk_stack_set_visible_child_name (self->stack, "content");
  gtk_adjustment_set_value (adjustment, scroll);
}

/* ---- the user's hosts ---- */

static void
on_host_remove_clicked_cb (GtkButton     *button,
                           MoatListsPage *self)
{
  Op *op = op_new (self, OP_REMOVE_HOST, g_object_get_data (G_OBJECT (button), "moat-host"));

  op->list = g_strdup (g_object_get_data (G_OBJECT (button), "moat-host-list"));
  gtk_widget_set_sensitive (GTK_WIDGET (button), FALSE);
  run_op (self, "RemoveUserHost", g_variant_new ("(ss)", op->id, op->list), op, op_done_cb);
}

static void
fill_hosts (MoatListsPage       *self,
            AdwPreferencesGroup *group,
            GPtrArray           *rows,
            GVariant            *hosts,
            const char          *list)
{
  GVariantIter iter;
  const char *host;

  clear_rows (group, rows);
  g_variant_iter_init (&iter, hosts);
  while (g_variant_iter_next (&iter, "&s", &host))
    {
      GtkWidget *row = adw_action_row_new ();
      GtkWidget *button = gtk_button_new_from_icon_name ("user-trash-symbolic");
      g_autofree char *accessible = NULL;

      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), host);
      gtk_widget_set_valign (button, GTK_ALIGN_CENTER);
      gtk_widget_add_css_class (button, "flat");
      gtk_widget_set_tooltip_text (button, _("Remove"));
      /* Translators: accessible name of the button that removes a site, %s is the site */
      accessible = g_strdup_printf (_("Remove %s"), host);
      gtk_accessible_update_property (GTK_ACCESSIBLE (button),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                      -1);
      g_object_set_data_full (G_OBJECT (button), "moat-host", g_strdup (host), g_free);
      g_object_set_data (G_OBJECT (button), "moat-host-list", (gpointer) list);
      g_signal_connect (button, "clicked", G_CALLBACK (on_host_remove_clicked_cb), self);
      adw_action_row_add_suffix (ADW_ACTION_ROW (row), button);
      adw_preferences_group_add (group, row);
      g_ptr_array_add (rows, row);
    }
}

static void
get_user_hosts_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  MoatListsPage *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) allowed = NULL;
  g_autoptr(GVariant) blocked = NULL;
  g_autoptr(GError) error = NULL;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_LISTS_PAGE (user_data);
  if (error != NULL)
    {
      g_debug ("Could not get the user's hosts: %s", error->message);
      return;
    }

  allowed = g_variant_get_child_value (reply, 0);
  blocked = g_variant_get_child_value (reply, 1);
  fill_hosts (self, self->allowed_group, self->allowed_rows, allowed, "allow");
  fill_hosts (self, self->blocked_group, self->blocked_rows, blocked, "block");
}

static void
on_entry_row_changed_cb (GtkEditable   *editable,
                         MoatListsPage *self)
{
  gtk_widget_remove_css_class (GTK_WIDGET (editable), "error");
}

static void
on_entry_row_apply_cb (AdwEntryRow   *entry,
                       MoatListsPage *self)
{
  g_autofree char *host = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (entry))));
  Op *op;

  if (host[0] == '\0' || self->client == NULL)
    return;

  op = op_new (self, OP_ADD_HOST, host);
  op->list = g_strdup (entry == self->allow_entry ? "allow" : "block");
  gtk_widget_set_sensitive (GTK_WIDGET (entry), FALSE);
  run_op (self, "AddUserHost", g_variant_new ("(ss)", host, op->list), op, op_done_cb);
}

/* ---- undo ---- */

static void
on_undo_remove_list_cb (AdwToast *toast,
                        Op       *op)
{
  MoatListsPage *self = op->self;
  Op *undo = op_new (self, OP_UNDO_REMOVE_LIST, op->name);

  run_op (self, "AddList", g_variant_new ("(sss)", op->source, op->category, op->name),
          undo, op_done_cb);
}

static void
on_undo_remove_host_cb (AdwToast *toast,
                        Op       *op)
{
  MoatListsPage *self = op->self;
  Op *undo = op_new (self, OP_UNDO_REMOVE_HOST, op->id);

  undo->list = g_strdup (op->list);
  run_op (self, "AddUserHost", g_variant_new ("(ss)", op->id, op->list), undo, op_done_cb);
}

static void
show_undo_toast (MoatListsPage *self,
                 const char    *title,
                 GCallback      undo,
                 Op            *op)
{
  AdwToast *toast = adw_toast_new (title);
  Op *copy = op_new (self, op->kind, op->id);

  copy->list = g_strdup (op->list);
  copy->source = g_strdup (op->source);
  copy->category = g_strdup (op->category);
  copy->name = g_strdup (op->name);
  adw_toast_set_button_label (toast, _("_Undo"));
  /* The toast dies with the overlay, before the page is gone. */
  g_signal_connect_data (toast, "button-clicked", undo, copy, (GClosureNotify) op_free, 0);
  show_toast (self, toast);
}

/* ---- results of the calls ---- */

static void
op_done_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(Op) op = user_data;
  MoatListsPage *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = op->self;
  switch (op->kind)
    {
    case OP_SET_CATEGORY:
    case OP_SET_LIST:
      if (error != NULL)
        /* Translators: %s is the reason */
        show_error_toast (self, g_strdup_printf (_("Could not change the list: %s"),
                                                 error->message));
      break;

    case OP_REMOVE_LIST:
      if (error != NULL)
        {
          /* Translators: %s is the reason */
          show_error_toast (self, g_strdup_printf (_("Could not remove the list: %s"),
                                                   error->message));
          break;
        }
      /* Translators: %s is a list's name */
      text = g_strdup_printf (_("Removed “%s”"), op->name != NULL && op->name[0] != '\0'
                                                  ? op->name : op->source);
      show_undo_toast (self, text, G_CALLBACK (on_undo_remove_list_cb), op);
      break;

    case OP_UNDO_REMOVE_LIST:
    case OP_UNDO_REMOVE_HOST:
      if (error != NULL)
        /* Translators: %s is the reason */
        show_error_toast (self, g_strdup_printf (_("Could not undo: %s"),
                                                 error->message));
      break;

    case OP_ADD_HOST:
      {
        AdwEntryRow *entry = g_strcmp0 (op->list, "allow") == 0 ? self->allow_entry
                                                                 : self->block_entry;
        const char *host = op->id;

        gtk_widget_set_sensitive (GTK_WIDGET (entry), TRUE);
        if (error != NULL)
          {
            gtk_widget_add_css_class (GTK_WIDGET (entry), "error");
            /* Translators: %s is the reason */
            show_error_toast (self, g_strdup_printf (_("Could not add the site: %s"),
                                                     error->message));
            gtk_widget_grab_focus (GTK_WIDGET (entry));
            break;
          }

        /* moatd says how it stored the host: lower case, no scheme or path. */
        if (reply != NULL && g_variant_is_of_type (reply, G_VARIANT_TYPE ("(s)")))
          g_variant_get (reply, "(&s)", &host);
        gtk_editable_set_text (GTK_EDITABLE (entry), "");
        gtk_widget_remove_css_class (GTK_WIDGET (entry), "error");
        if (g_strcmp0 (op->list, "allow") == 0)
          /* Translators: %s is a site such as example.com */
          text = g_strdup_printf (_("Moat always allows %s now"), host);
        else
          /* Translators: %s is a site such as example.com */
          text = g_strdup_printf (_("Moat always blocks %s now"), host);
        show_toast (self, adw_toast_new (text));
      }
      break;

    case OP_REMOVE_HOST:
      if (error != NULL)
        {
          /* Translators: %s is the reason */
          show_error_toast (self, g_strdup_printf (_("Could not remove the site: %s"),
                                                   error->message));
          break;
        }
      /* Translators: %s is a site such as example.com */
      text = g_strdup_printf (_("Removed %s"), op->id);
      show_undo_toast (self, text, G_CALLBACK (on_undo_remove_host_cb), op);
      break;

    default:
      g_assert_not_reached ();
    }

  /* A refused change puts the switches back; a done one shows at once,
   * whether or not ListsChanged follows. */
  queue_refresh (self);
}

/* ---- refreshing ---- */

static void
refresh (MoatListsPage *self)
{
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_cancellable_cancel (self->refresh_cancellable);
  g_clear_object (&self->refresh_cancellable);

  if (self->client == NULL || !moat_client_get_engine_running (self->client))
    return;

  self->refresh_cancellable = g_cancellable_new ();
  moat_client_call_async (self->client, "GetLists", NULL, self->refresh_cancellable,
                          get_lists_cb, self);
  moat_client_call_async (self->client, "GetUserHosts", NULL, self->refresh_cancellable,
                          get_user_hosts_cb, self);
}

static gboolean
refresh_timeout_cb (gpointer user_data)
{
  MoatListsPage *self = user_data;

  self->refresh_id = 0;
  refresh (self);

  return G_SOURCE_REMOVE;
}

static void
queue_refresh (MoatListsPage *self)
{
  if (self->refresh_id == 0)
    self->refresh_id = g_timeout_add (REFRESH_DELAY_MS, refresh_timeout_cb, self);
}

static void
on_client_lists_changed_cb (MoatClient    *client,
                            MoatListsPage *self)
{
  queue_refresh (self);
}

static void
on_client_notify_engine_running_cb (MoatClient    *client,
                                    GParamSpec    *pspec,
                                    MoatListsPage *self)
{
  if (!moat_client_get_engine_running (client))
    {
      self->loaded = FALSE;
      gtk_stack_set_visible_child_name (self->stack, "loading");
    }
  refresh (self);
}

/* ---- actions ---- */

static void
on_dialog_list_added_cb (MoatAddListDialog *dialog,
                         const char        *name,
                         MoatListsPage     *self)
{
  /* Translators: %s is the name of a filter list */
  g_autofree char *text = g_strdup_printf (_("Added “%s”"), name);

  show_toast (self, adw_toast_new (text));
  queue_refresh (self);
}

static void
add_action (GtkWidget  *widget,
            const char *action_name,
            GVariant   *parameter)
{
  MoatListsPage *self = MOAT_LISTS_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  MoatAddListDialog *dialog;

  if (self->client == NULL)
    return;

  dialog = moat_add_list_dialog_new (self->client, GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL);
  g_signal_connect_object (dialog, "list-added", G_CALLBACK (on_dialog_list_added_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
reload_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  MoatListsPage *self = MOAT_LISTS_PAGE (widget);

  gtk_stack_set_visible_child_name (self->stack, "loading");
  refresh (self);
}

/* ---- GObject ---- */

static void
moat_lists_page_dispose (GObject *object)
{
  MoatListsPage *self = MOAT_LISTS_PAGE (object);
  GtkWidget *child;

  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->refresh_cancellable);
  g_clear_object (&self->refresh_cancellable);
  g_clear_object (&self->client);
  gtk_widget_dispose_template (GTK_WIDGET (self), MOAT_TYPE_LISTS_PAGE);
  /* Template children without an id are ours to unparent. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (moat_lists_page_parent_class)->dispose (object);
}

static void
moat_lists_page_finalize (GObject *object)
{
  MoatListsPage *self = MOAT_LISTS_PAGE (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->category_switches, g_hash_table_unref);
  g_clear_pointer (&self->list_rows, g_ptr_array_unref);
  g_clear_pointer (&self->allowed_rows, g_ptr_array_unref);
  g_clear_pointer (&self->blocked_rows, g_ptr_array_unref);
  g_clear_pointer (&self->expanded, g_hash_table_unref);
  g_clear_pointer (&self->enabled_categories, g_strfreev);

  G_OBJECT_CLASS (moat_lists_page_parent_class)->finalize (object);
}

static void
moat_lists_page_class_init (MoatListsPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = moat_lists_page_dispose;
  object_class->finalize = moat_lists_page_finalize;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/moatproject/Moat/moat-lists-page.ui");
  gtk_widget_class_bind_template_child (widget_class, MoatListsPage, stack);
  gtk_widget_class_bind_template_child (widget_class, MoatListsPage, error_page);
  gtk_widget_class_bind_template_child (widget_class, MoatListsPage, scrolled_window);
  gtk_widget_class_bind_template_child (widget_class, MoatListsPage, categories_group);
  gtk_widget_class_bind_template_child (widget_class, MoatListsPage, lists_group);
  gtk_widget_class_bind_template_child (widget_class, MoatListsPage, lists_empty_row);
  gtk_widget_class_bind_template_child (widget_class, MoatListsPage, allowed_group);
  gtk_widget_class_bind_template_child (widget_class, MoatListsPage, blocked_group);
  gtk_widget_class_bind_template_child (widget_class, MoatListsPage, allow_entry);
  gtk_widget_class_bind_template_child (widget_class, MoatListsPage, block_entry);
  gtk_widget_class_bind_template_callback (widget_class, on_entry_row_apply_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_entry_row_changed_cb);

  gtk_widget_class_install_action (widget_class, "lists.add", NULL, add_action);
  gtk_widget_class_install_action (widget_class, "lists.reload", NULL, reload_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
moat_lists_page_init (MoatListsPage *self)
{
  g_type_ensure (MOAT_TYPE_ADD_LIST_DIALOG);
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->category_switches = g_hash_table_new (g_str_hash, g_str_equal);
  self->list_rows = g_ptr_array_new ();
  self->allowed_rows = g_ptr_array_new ();
  self->blocked_rows = g_ptr_array_new ();
  self->expanded = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  build_category_rows (self);
}

/**
 * moat_lists_page_set_client:
 *
 * Starts showing moatd's lists. Called once, when the client is ready.
 */
void
moat_lists_page_set_client (MoatListsPage *self,
                            MoatClient    *client)
{
  g_return_if_fail (MOAT_IS_LISTS_PAGE (self));
  g_return_if_fail (MOAT_IS_CLIENT (client));
  g_return_if_fail (self->client == NULL);

  self->client = g_object_ref (client);
  g_signal_connect_object (client, "notify::engine-running",
                           G_CALLBACK (on_client_notify_engine_running_cb), self, 0);
  g_signal_connect_object (client, "lists-changed",
                           G_CALLBACK (on_client_lists_changed_cb), self, 0);
  refresh (self);
}
