/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-app"

#include "config.h"

#include "moat-add-list-dialog.h"

#include "moat-threat-names.h"

#include <glib/gi18n.h>

/*
 * MoatAddListDialog: asks for a list's web address or file, its category and
 * an optional name, and calls AddList. moatd checks the source; its refusal
 * is shown in the dialog, which stays open to fix it. ::list-added (name)
 * fires before the dialog closes itself.
 */

struct _MoatAddListDialog {
  AdwWindow              parent_instance;

  /* owned */
  MoatClient            *client;
  GCancellable          *cancellable;
  GtkFileChooserNative  *chooser;
  char                  *file_path;

  /* template children */
  GtkWidget             *add_button;
  AdwEntryRow           *url_row;
  AdwActionRow          *file_row;
  AdwComboRow           *category_row;
  AdwEntryRow           *name_row;
  GtkLabel              *error_label;
};

G_DEFINE_FINAL_TYPE (MoatAddListDialog, moat_add_list_dialog, ADW_TYPE_WINDOW)

enum {
  SIGNAL_LIST_ADDED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const char *
get_source (MoatAddListDialog *self)
{
  const char *url = gtk_editable_get_text (GTK_EDITABLE (self->url_row));

  if (url != NULL && url[0] != '\0')
    return url;
  return self->file_path;
}

static void
update_add_button (MoatAddListDialog *self)
{
  const char *source = get_source (self);
  gboolean busy = self->cancellable != NULL;

  gtk_widget_set_sensitive (self->add_button, !busy && source != NULL && source[0] != '\0');
  gtk_button_set_label (GTK_BUTTON (self->add_button), busy ? _("Adding…") : _("_Add"));
}

static void
show_error (MoatAddListDialog *self,
            const char        *message)
{
  gtk_label_set_text (self->error_label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
}

static void
set_file_path (MoatAddListDialog *self,
               const char        *path)
{
  g_free (self->file_path);
  self->file_path = g_strdup (path);
  adw_action_row_set_subtitle (self->file_row, path != NULL ? path : _("None chosen"));
}

static void
on_url_row_changed_cb (GtkEditable       *editable,
                       MoatAddListDialog *self)
{
  const char *url = gtk_editable_get_text (editable);

  /* One source: typing an address forgets the file. */
  if (url != NULL && url[0] != '\0' && self->file_path != NULL)
    set_file_path (self, NULL);
  gtk_widget_remove_css_class (GTK_WIDGET (self->url_row), "error");
  show_error (self, NULL);
  update_add_button (self);
}

static void
on_chooser_response_cb (GtkNativeDialog   *chooser,
                        int                response,
                        MoatAddListDialog *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      g_autofree char *path = file != NULL ? g_file_get_path (file) : NULL;

      if (path != NULL)
        {
          gtk_editable_set_text (GTK_EDITABLE (self->url_row), "");
          set_file_path (self, path);
          show_error (self, NULL);
        }
    }
  g_clear_object (&self->chooser);
  update_add_button (self);
}

static void
on_choose_button_clicked_cb (GtkButton         *button,
                             MoatAddListDialog *self)
{
  g_autoptr(GtkFileFilter) lists = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();

  if (self->chooser != NULL)
    return;

  gtk_file_filter_set_name (lists, _("Text files"));
  gtk_file_filter_add_mime_type (lists, "text/plain");
  gtk_file_filter_set_name (all, _("All files"));
  gtk_file_filter_add_pattern (all, "*");

  self->chooser = gtk_file_chooser_native_new (_("Choose a List File"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_OPEN,
                                               _("_Open"), _("_Cancel"));
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), lists);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), all);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
add_list_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  MoatAddListDialog *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  const char *name;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_ADD_LIST_DIALOG (user_data);
  g_clear_object (&self->cancellable);
  update_add_button (self);
  if (error != NULL)
    {
      show_error (self, error->message);
      if (self->file_path == NULL)
        gtk_widget_add_css_class (GTK_WIDGET (self->url_row), "error");
      return;
    }

  name = gtk_editable_get_text (GTK_EDITABLE (self->name_row));
  if (name == NULL || name[0] == '\0')
    name = get_source (self);
  g_signal_emit (self, signals[SIGNAL_LIST_ADDED], 0, name);
  gtk_window_close (GTK_WINDOW (self));
}

static void
on_add_button_clicked_cb (GtkButton         *button,
                          MoatAddListDialog *self)
{
  const char * const *ids = NULL;
  guint n = moat_list_category_get_all (&ids);
  guint selected = adw_combo_row_get_selected (self->category_row);
  const char *source = get_source (self);
  g_autofree char *name = NULL;

  if (source == NULL || source[0] == '\0' || self->cancellable != NULL)
    return;

  name = g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->name_row))));
  show_error (self, NULL);
  self->cancellable = g_cancellable_new ();
  update_add_button (self);
  moat_client_call_async (self->client, "AddList",
                          g_variant_new ("(sss)", source, ids[MIN (selected, n - 1)], name),
                          self->cancellable, add_list_cb, self);
}

static void
on_url_row_entry_activated_cb (AdwEntryRow       *row,
                               MoatAddListDialog *self)
{
  on_add_button_clicked_cb (GTK_BUTTON (self->add_button), self);
}

static void
moat_add_list_dialog_dispose (GObject *object)
{
  MoatAddListDialog *self = MOAT_ADD_LIST_DIALOG (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (moat_add_list_dialog_parent_class)->dispose (object);
}

static void
moat_add_list_dialog_finalize (GObject *object)
{
  MoatAddListDialog *self = MOAT_ADD_LIST_DIALOG (object);

  g_free (self->file_path);

  G_OBJECT_CLASS (moat_add_list_dialog_parent_class)->finalize (object);
}

static void
moat_add_list_dialog_class_init (MoatAddListDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = moat_add_list_dialog_dispose;
  object_class->finalize = moat_add_list_dialog_finalize;

  /**
   * MoatAddListDialog::list-added:
   * @name: what the new list is called
   */
  signals[SIGNAL_LIST_ADDED] =
    g_signal_new ("list-added", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (
    widget_class, "/io/github/moatproject/Moat/moat-add-list-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, MoatAddListDialog, add_button);
  gtk_widget_class_bind_template_child (widget_class, MoatAddListDialog, url_row);
  gtk_widget_class_bind_template_child (widget_class, MoatAddListDialog, file_row);
  gtk_widget_class_bind_template_child (widget_class, MoatAddListDialog, category_row);
  gtk_widget_class_bind_template_child (widget_class, MoatAddListDialog, name_row);
  gtk_widget_class_bind_template_child (widget_class, MoatAddListDialog, error_label);
  gtk_widget_class_bind_template_callback (widget_class, on_url_row_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_url_row_entry_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_choose_button_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_add_button_clicked_cb);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
moat_add_list_dialog_init (MoatAddListDialog *self)
{
  g_autoptr(GtkStringList) categories = gtk_string_list_new (NULL);
  const char * const *ids = NULL;
  guint n = moat_list_category_get_all (&ids);

  gtk_widget_init_template (GTK_WIDGET (self));

  for (guint i = 0; i < n; i++)
    gtk_string_list_append (categories, moat_list_category_get_display_name (ids[i]));
  adw_combo_row_set_model (self->category_row, G_LIST_MODEL (categories));
  /* A list of the user's own is "custom" unless they say otherwise. */
  adw_combo_row_set_selected (self->category_row, n - 1);
}

MoatAddListDialog *
moat_add_list_dialog_new (MoatClient *client,
                          GtkWindow  *parent)
{
  MoatAddListDialog *self;

  g_return_val_if_fail (MOAT_IS_CLIENT (client), NULL);

  self = g_object_new (MOAT_TYPE_ADD_LIST_DIALOG, "transient-for", parent, NULL);
  self->client = g_object_ref (client);
  return self;
}
