/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-app"

#include "config.h"

#include "moat-export-dialog.h"

#include <glib/gi18n.h>

#include "moat-report-model.h"
#include "moat-report.h"

/*
 * MoatExportDialog: the helpdesk report. The user picks the format, the
 * time window and the sections, then a file; the model is collected from
 * moatd and written in a worker thread, the dialog showing progress. It
 * closes itself once the file is written; ::exported (path) fires first.
 */

struct _MoatExportDialog {
  AdwWindow              parent_instance;

  /* owned */
  MoatClient            *client;
  GCancellable          *cancellable;
  GtkFileChooserNative  *chooser;
  GFile                 *file;
  GFileOutputStream     *stream;
  MoatReportFormat       format;

  /* template children */
  GtkWidget             *export_button;
  GtkWidget             *cancel_button;
  GtkLabel              *status_label;
  AdwComboRow           *format_row;
  AdwComboRow           *window_row;
  GtkSwitch             *computer_switch;
  GtkSwitch             *phones_switch;
  GtkSwitch             *health_switch;
  GtkSwitch             *threats_switch;
  GtkSwitch             *actions_switch;
};

G_DEFINE_FINAL_TYPE (MoatExportDialog, moat_export_dialog, ADW_TYPE_WINDOW)

enum {
  SIGNAL_EXPORTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static const struct {
  MoatReportFormat  format;
  const char       *suffix;
  const char       *mime;
} formats[] = {
  { MOAT_REPORT_FORMAT_PDF, ".pdf", "application/pdf" },
  { MOAT_REPORT_FORMAT_HTML, ".html", "text/html" },
  { MOAT_REPORT_FORMAT_JSON, ".json", "application/json" },
};

static void
set_busy (MoatExportDialog *self,
          const char       *status)
{
  gboolean busy = status != NULL;

  gtk_widget_set_sensitive (self->export_button, !busy);
  gtk_button_set_label (GTK_BUTTON (self->export_button), busy ? _("Exporting…") : _("_Export…"));
  gtk_label_set_text (self->status_label, status != NULL ? status : "");
  gtk_widget_remove_css_class (GTK_WIDGET (self->status_label), "error");
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), busy);
}

static void
show_error (MoatExportDialog *self,
            const char       *message)
{
  set_busy (self, NULL);
  g_clear_object (&self->cancellable);
  gtk_label_set_text (self->status_label, message);
  gtk_widget_add_css_class (GTK_WIDGET (self->status_label), "error");
  gtk_widget_set_visible (GTK_WIDGET (self->status_label), TRUE);
}

static void
closed_cb (GObject      *object,
           GAsyncResult *result,
           gpointer      user_data)
{
  g_autoptr(MoatExportDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  g_autofree char *path = NULL;

  if (!g_output_stream_close_finish (G_OUTPUT_STREAM (object), result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (self, error->message);
      return;
    }
  path = g_file_get_path (self->file);
  g_clear_object (&self->cancellable);
  g_signal_emit (self, signals[SIGNAL_EXPORTED], 0, path);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
written_cb (GObject      *object,
            GAsyncResult *result,
            gpointer      user_data)
{
  g_autoptr(MoatExportDialog) self = user_data;
  g_autoptr(GError) error = NULL;

  if (!moat_report_write_finish (result, &error))
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (self, error->message);
      /* Nothing half-written replaces the file: the stream is dropped. */
      g_clear_object (&self->stream);
      return;
    }
  g_output_stream_close_async (G_OUTPUT_STREAM (self->stream), G_PRIORITY_DEFAULT,
                               self->cancellable, closed_cb, g_object_ref (self));
}

static void
replaced_cb (GObject      *object,
             GAsyncResult *result,
             gpointer      user_data)
{
  g_autoptr(MoatExportDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  JsonNode *model = g_object_get_data (G_OBJECT (self), "moat-model");

  self->stream = g_file_replace_finish (G_FILE (object), result, &error);
  if (self->stream == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (self, error->message);
      return;
    }
  set_busy (self, _("Writing the report…"));
  moat_report_write_async (model, self->format, G_OUTPUT_STREAM (self->stream),
                           self->cancellable, written_cb, g_object_ref (self));
}

static void
built_cb (GObject      *object,
          GAsyncResult *result,
          gpointer      user_data)
{
  g_autoptr(MoatExportDialog) self = user_data;
  g_autoptr(GError) error = NULL;
  JsonNode *model = moat_report_model_build_finish (MOAT_CLIENT (object), result, &error);

  if (model == NULL)
    {
      if (!g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        show_error (self, error->message);
      return;
    }
  g_object_set_data_full (G_OBJECT (self), "moat-model", model, (GDestroyNotify) json_node_unref);
  /* Replaced only once written whole: a cancelled export keeps the old file. */
  g_file_replace_async (self->file, NULL, FALSE, G_FILE_CREATE_REPLACE_DESTINATION,
                        G_PRIORITY_DEFAULT, self->cancellable, replaced_cb, g_object_ref (self));
}

static void
start_export (MoatExportDialog *self)
{
  static const gint64 windows[] = { G_TIME_SPAN_DAY, 7 * G_TIME_SPAN_DAY, 30 * G_TIME_SPAN_DAY, 0 };
  guint w = adw_combo_row_get_selected (self->window_row);
  gint64 since = w < G_N_ELEMENTS (windows) && windows[w] > 0 ? g_get_real_time () - windows[w]
                                                              : 0;
  g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
  g_auto(GStrv) sections = NULL;

  if (gtk_switch_get_active (self->computer_switch))
    g_strv_builder_add (builder, "computer");
  if (gtk_switch_get_active (self->phones_switch))
    g_strv_builder_add (builder, "phones");
  if (gtk_switch_get_active (self->threats_switch))
    g_strv_builder_add (builder, "threats");
  if (gtk_switch_get_active (self->actions_switch))
    g_strv_builder_add (builder, "actions");
  if (gtk_switch_get_active (self->health_switch))
    g_strv_builder_add (builder, "health");
  sections = g_strv_builder_end (builder);

  g_clear_object (&self->cancellable);
  self->cancellable = g_cancellable_new ();
  set_busy (self, _("Collecting what Moat knows…"));
  moat_report_model_build_async (self->client, since, (const char * const *) sections,
                                 self->cancellable, built_cb, g_object_ref (self));
}

static void
on_chooser_response_cb (GtkNativeDialog  *chooser,
                        int               response,
                        MoatExportDialog *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_clear_object (&self->file);
      self->file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));
      if (self->file != NULL)
        start_export (self);
    }
  g_clear_object (&self->chooser);
}

static void
on_export_button_clicked_cb (GtkButton        *button,
                             MoatExportDialog *self)
{
  guint f = MIN (adw_combo_row_get_selected (self->format_row), G_N_ELEMENTS (formats) - 1);
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *date = g_date_time_format (now, "%Y-%m-%d");
  g_autofree char *name = NULL;
  g_autoptr(GtkFileFilter) filter = gtk_file_filter_new ();

  self->format = formats[f].format;
  /* TRANSLATORS: the report's file name: the date, then .pdf, .html or .json */
  name = g_strdup_printf (_("Moat report %s%s"), date, formats[f].suffix);
  self->chooser = gtk_file_chooser_native_new (_("Export Report"), GTK_WINDOW (self),
                                               GTK_FILE_CHOOSER_ACTION_SAVE, _("_Export"),
                                               _("_Cancel"));
  gtk_file_filter_add_mime_type (filter, formats[f].mime);
  gtk_file_filter_set_name (filter, adw_combo_row_get_selected_item (self->format_row) != NULL
                            ? gtk_string_object_get_string (GTK_STRING_OBJECT (
                                adw_combo_row_get_selected_item (self->format_row)))
                            : formats[f].suffix);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), filter);
  gtk_file_chooser_set_current_name (GTK_FILE_CHOOSER (self->chooser), name);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

static void
on_cancel_button_clicked_cb (GtkButton        *button,
                             MoatExportDialog *self)
{
  g_cancellable_cancel (self->cancellable);
  gtk_window_destroy (GTK_WINDOW (self));
}

static void
moat_export_dialog_dispose (GObject *object)
{
  MoatExportDialog *self = MOAT_EXPORT_DIALOG (object);

  g_cancellable_cancel (self->cancellable);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  gtk_widget_dispose_template (GTK_WIDGET (self), MOAT_TYPE_EXPORT_DIALOG);

  G_OBJECT_CLASS (moat_export_dialog_parent_class)->dispose (object);
}

static void
moat_export_dialog_finalize (GObject *object)
{
  MoatExportDialog *self = MOAT_EXPORT_DIALOG (object);

  g_clear_object (&self->client);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->file);
  g_clear_object (&self->stream);

  G_OBJECT_CLASS (moat_export_dialog_parent_class)->finalize (object);
}

static void
moat_export_dialog_class_init (MoatExportDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = moat_export_dialog_dispose;
  object_class->finalize = moat_export_dialog_finalize;

  signals[SIGNAL_EXPORTED] =
    g_signal_new ("exported", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST, 0,
                  NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/moatproject/Moat/moat-export-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, MoatExportDialog, export_button);
  gtk_widget_class_bind_template_child (widget_class, MoatExportDialog, cancel_button);
  gtk_widget_class_bind_template_child (widget_class, MoatExportDialog, status_label);
  gtk_widget_class_bind_template_child (widget_class, MoatExportDialog, format_row);
  gtk_widget_class_bind_template_child (widget_class, MoatExportDialog, window_row);
  gtk_widget_class_bind_template_child (widget_class, MoatExportDialog, computer_switch);
  gtk_widget_class_bind_template_child (widget_class, MoatExportDialog, phones_switch);
  gtk_widget_class_bind_template_child (widget_class, MoatExportDialog, health_switch);
  gtk_widget_class_bind_template_child (widget_class, MoatExportDialog, threats_switch);
  gtk_widget_class_bind_template_child (widget_class, MoatExportDialog, actions_switch);
  gtk_widget_class_bind_template_callback (widget_class, on_export_button_clicked_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_cancel_button_clicked_cb);
}

static void
moat_export_dialog_init (MoatExportDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
}

MoatExportDialog *
moat_export_dialog_new (GtkWindow  *parent,
                        MoatClient *client)
{
  MoatExportDialog *self = g_object_new (MOAT_TYPE_EXPORT_DIALOG, "transient-for", parent, NULL);

  self->client = g_object_ref (client);
  return self;
}
