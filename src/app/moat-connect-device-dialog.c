/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-app"

#include "config.h"

#include "moat-connect-device-dialog.h"

#include <glib/gi18n.h>

/*
 * MoatConnectDeviceDialog: asks for the address of a phone that listens for
 * adb over Wi-Fi (host or host:port) and calls ConnectDevice. adb's answer
 * when the phone cannot be reached is shown in the dialog, which stays open
 * to fix the address. ::device-connected (serial) fires before the dialog
 * closes itself.
 */

struct _MoatConnectDeviceDialog {
  AdwWindow     parent_instance;

  /* owned */
  MoatClient   *client;
  GCancellable *cancellable;     /* the ConnectDevice call under way */

  /* template children */
  GtkWidget    *connect_button;
  GtkSpinner   *connect_spinner;
  GtkLabel     *connect_label;
  AdwEntryRow  *address_row;
  GtkLabel     *error_label;
};

G_DEFINE_FINAL_TYPE (MoatConnectDeviceDialog, moat_connect_device_dialog, ADW_TYPE_WINDOW)

enum {
  SIGNAL_DEVICE_CONNECTED,
  N_SIGNALS
};

static guint signals[N_SIGNALS];

static char *
dup_address (MoatConnectDeviceDialog *self)
{
  return g_strstrip (g_strdup (gtk_editable_get_text (GTK_EDITABLE (self->address_row))));
}

static void
update_connect_button (MoatConnectDeviceDialog *self)
{
  g_autofree char *address = dup_address (self);
  gboolean busy = self->cancellable != NULL;

  gtk_widget_set_sensitive (self->connect_button, !busy && address[0] != '\0');
  gtk_widget_set_sensitive (GTK_WIDGET (self->address_row), !busy);
  gtk_widget_set_visible (GTK_WIDGET (self->connect_spinner), busy);
  gtk_spinner_set_spinning (self->connect_spinner, busy);
  gtk_label_set_text_with_mnemonic (self->connect_label,
                                    busy ? _("Connecting…") : _("C_onnect"));
}

static void
show_error (MoatConnectDeviceDialog *self,
            const char              *message)
{
  gtk_label_set_text (self->error_label, message != NULL ? message : "");
  gtk_widget_set_visible (GTK_WIDGET (self->error_label), message != NULL);
  if (message != NULL)
    gtk_widget_add_css_class (GTK_WIDGET (self->address_row), "error");
  else
    gtk_widget_remove_css_class (GTK_WIDGET (self->address_row), "error");
}

static void
on_address_row_changed_cb (GtkEditable             *editable,
                           MoatConnectDeviceDialog *self)
{
  show_error (self, NULL);
  update_connect_button (self);
}

static void
connect_device_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  MoatConnectDeviceDialog *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  const char *serial = NULL;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_CONNECT_DEVICE_DIALOG (user_data);
  g_clear_object (&self->cancellable);
  update_connect_button (self);
  if (error != NULL)
    {
      g_debug ("ConnectDevice failed: %s", error->message);
      show_error (self, error->message);
      gtk_widget_grab_focus (GTK_WIDGET (self->address_row));
      return;
    }

  g_variant_get (reply, "(&s)", &serial);
  g_signal_emit (self, signals[SIGNAL_DEVICE_CONNECTED], 0, serial);
  gtk_window_close (GTK_WINDOW (self));
}

static void
on_connect_button_clicked_cb (GtkButton               *button,
                              MoatConnectDeviceDialog *self)
{
  g_autofree char *address = dup_address (self);

  if (address[0] == '\0' || self->cancellable != NULL)
    return;

  show_error (self, NULL);
  self->cancellable = g_cancellable_new ();
  update_connect_button (self);
  moat_client_call_async (self->client, "ConnectDevice", g_variant_new ("(s)", address),
                          self->cancellable, connect_device_cb, self);
}

static void
on_address_row_entry_activated_cb (AdwEntryRow             *row,
                                   MoatConnectDeviceDialog *self)
{
  on_connect_button_clicked_cb (GTK_BUTTON (self->connect_button), self);
}

static void
moat_connect_device_dialog_dispose (GObject *object)
{
  MoatConnectDeviceDialog *self = MOAT_CONNECT_DEVICE_DIALOG (object);

  g_cancellable_cancel (self->cancellable);
  g_clear_object (&self->cancellable);
  g_clear_object (&self->client);

  G_OBJECT_CLASS (moat_connect_device_dialog_parent_class)->dispose (object);
}

static void
moat_connect_device_dialog_class_init (MoatConnectDeviceDialogClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = moat_connect_device_dialog_dispose;

  /**
   * MoatConnectDeviceDialog::device-connected:
   * @serial: the phone's serial as the adb server names it
   */
  signals[SIGNAL_DEVICE_CONNECTED] =
    g_signal_new ("device-connected", G_TYPE_FROM_CLASS (klass), G_SIGNAL_RUN_LAST,
                  0, NULL, NULL, NULL, G_TYPE_NONE, 1, G_TYPE_STRING);

  gtk_widget_class_set_template_from_resource (
    widget_class, "/io/github/moatproject/Moat/moat-connect-device-dialog.ui");
  gtk_widget_class_bind_template_child (widget_class, MoatConnectDeviceDialog, connect_button);
  gtk_widget_class_bind_template_child (widget_class, MoatConnectDeviceDialog, connect_spinner);
  gtk_widget_class_bind_template_child (widget_class, MoatConnectDeviceDialog, connect_label);
  gtk_widget_class_bind_template_child (widget_class, MoatConnectDeviceDialog, address_row);
  gtk_widget_class_bind_template_child (widget_class, MoatConnectDeviceDialog, error_label);
  gtk_widget_class_bind_template_callback (widget_class, on_address_row_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_address_row_entry_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_connect_button_clicked_cb);

  gtk_widget_class_add_binding_action (widget_class, GDK_KEY_Escape, 0, "window.close", NULL);
}

static void
moat_connect_device_dialog_init (MoatConnectDeviceDialog *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  update_connect_button (self);
  /* Type the address straight away. */
  gtk_widget_grab_focus (GTK_WIDGET (self->address_row));
}

MoatConnectDeviceDialog *
moat_connect_device_dialog_new (MoatClient *client,
                                GtkWindow  *parent)
{
  MoatConnectDeviceDialog *self;

  g_return_val_if_fail (MOAT_IS_CLIENT (client), NULL);

  self = g_object_new (MOAT_TYPE_CONNECT_DEVICE_DIALOG, "transient-for", parent, NULL);
  self->client = g_object_ref (client);
  return self;
}
