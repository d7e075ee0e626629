/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-app"

#include "config.h"

#include "moat-devices-page.h"

#include "moat-connect-device-dialog.h"
#include "moat-dbus-generated.h"
#include "moat-device-posture.h"
#include "moat-threat-names.h"

#include <adwaita.h>
#include <gio/gfiledescriptorbased.h>
#include <gio/gunixfdlist.h>
#include <glib/gi18n.h>

/*
 * MoatDevicesPage: the phones moatd knows (GetDevices) with their risk level,
 * connection and state, and for the selected phone its findings grouped by
 * severity with why each matters, how to fix it, the evidence and the
 * command behind it (GetDevicePosture), plus what the user can do about
 * them: check again, route the phone's web traffic through this computer's
 * filter, stop or disable an app, open the right settings screen on the
 * phone. Each change on the phone is confirmed first.
 *
 * The list and the selected phone are fetched again, at most every
 * REFRESH_DELAY_MS, when moatd says DevicesChanged. MoatClient does not relay
 * that signal, so the page keeps its own generated proxy for it; the proxy
 * also carries ImportIndicators, whose file descriptor moat_client_call_async
 * cannot pass, and CheckDevice, which can outlast D-Bus's default timeout.
 * Every other call goes through moat_client_call_async.
 *
 * The first GetDevices makes moatd start the adb server, so the page asks
 * only once it is first shown, and follows from then on.
 *
 * An AdwLeaflet shows the list beside the selected phone, or one of them at a
 * time in a narrow window.
 */

#define REFRESH_DELAY_MS 300
/* How many kinds of indicator an import's toast names. */
#define MAX_COUNT_PARTS 3
/* CheckDevice and ImportIndicators through the page's proxy. */
#define LONG_CALL_TIMEOUT_MS (5 * 60 * 1000)
#define EMPTY_DESCRIPTION N_("Turn on USB debugging in the phone’s Developer Options, plug it " \
                             "in with a USB cable, then tap “Allow” on the phone. A phone on " \
                             "the same Wi-Fi can be connected by its address.")

struct _MoatDevicesPage {
  GtkWidget             parent_instance;

  /* owned */
  MoatClient           *client;
  MoatDBusMoat1        *proxy;                /* DevicesChanged and ImportIndicators */
  GCancellable         *cancellable;          /* proxy set-up and actions; cancelled in dispose */
  GCancellable         *refresh_cancellable;  /* GetDevices and GetIndicators of the last refresh */
  GCancellable         *posture_cancellable;  /* the GetDevicePosture under way */
  GCancellable         *routing_cancellable;  /* the SetDeviceRouting under way */
  GtkFileChooserNative *chooser;
  guint                 refresh_id;
  GPtrArray            *devices;              /* MoatDeviceInfo, from the last GetDevices */
  GPtrArray            *findings;             /* MoatDeviceFinding of findings_serial */
  char                 *findings_error;       /* why GetDevicePosture failed */
  char                 *selected;             /* serial of the selected phone */
  char                 *findings_serial;      /* whose findings are shown */
  char                 *findings_state;       /* its state when they were read */
  gint64                findings_checked;     /* its last check when they were read */
  GHashTable           *checking;             /* serials with a CheckDevice call under way */
  GHashTable           *expanded;             /* "serial\ncheck" of finding rows the user opened */
  GPtrArray            *device_rows;          /* rows in device_list (borrowed) */
  GPtrArray            *finding_groups;       /* groups in findings_box (borrowed) */
  GPtrArray            *indicator_rows;       /* rows in indicators_group (borrowed) */
  gboolean              syncing;              /* selection or switch set by the page itself */
  gboolean              passed_expanded;
  gboolean              following;            /* GetDevices called: moatd follows adb */

  /* template children */
  GtkStack             *stack;
  AdwStatusPage        *empty_page;
  AdwLeaflet           *leaflet;
  GtkScrolledWindow    *list_scrolled;
  GtkListBox           *device_list;
  GtkWidget            *back_bar;
  GtkStack             *detail_stack;
  GtkScrolledWindow    *detail_scrolled;
  GtkImage             *phone_icon;
  GtkLabel             *model_label;
  GtkLabel             *os_label;
  GtkLabel             *connection_label;
  GtkLabel             *risk_label;
  GtkWidget            *message_box;
  GtkLabel             *message_label;
  GtkWidget            *check_button;
  GtkSpinner           *check_spinner;
  GtkLabel             *check_label;
  GtkLabel             *checked_label;
  GtkWidget            *protect_group;
  GtkWidget            *protect_row;
  GtkSwitch            *protect_switch;
  GtkBox               *findings_box;
  GtkWidget            *indicators_group;
  GtkWidget            *indicators_empty_row;
};

G_DEFINE_FINAL_TYPE (MoatDevicesPage, moat_devices_page, GTK_TYPE_WIDGET)

/* A call about one phone: the page (unowned; the callback checks for
 * cancellation first) and the phone's serial. */
typedef struct {
  MoatDevicesPage *self;
  char            *serial;
  char            *action;
  char            *target;
  gboolean         enabled;
} CallData;

static void refresh (MoatDevicesPage *self);
static void queue_refresh (MoatDevicesPage *self);
static void update_detail (MoatDevicesPage *self);
static void load_posture (MoatDevicesPage *self);

/* ---- helpers ---- */

static CallData *
call_data_new (MoatDevicesPage *self,
               const char      *serial)
{
  CallData *data = g_new0 (CallData, 1);

  data->self = self;
  data->serial = g_strdup (serial);
  return data;
}

static void
call_data_free (CallData *data)
{
  g_free (data->serial);
  g_free (data->action);
  g_free (data->target);
  g_free (data);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (CallData, call_data_free)

static void
show_toast (MoatDevicesPage *self,
            const char      *text)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);
  AdwToast *toast;

  if (overlay == NULL)
    return;
  toast = adw_toast_new (text);
  adw_toast_set_timeout (toast, 8);
  adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), toast);
}

static void run_device_action (MoatDevicesPage *self, const char *serial, const char *action,
                               const char *target);

static void
on_undo_disable_cb (AdwToast        *toast,
                    MoatDevicesPage *self)
{
  run_device_action (self, g_object_get_data (G_OBJECT (toast), "moat-serial"), "enable-app",
                     g_object_get_data (G_OBJECT (toast), "moat-package"));
}

/* A disabled app can be enabled again from its toast. */
static void
show_undo_toast (MoatDevicesPage *self,
                 const char      *text,
                 const char      *serial,
                 const char      *package)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);
  AdwToast *toast;

  if (overlay == NULL)
    return;
  toast = adw_toast_new (text);
  adw_toast_set_timeout (toast, 10);
  adw_toast_set_button_label (toast, _("_Undo"));
  g_object_set_data_full (G_OBJECT (toast), "moat-serial", g_strdup (serial), g_free);
  g_object_set_data_full (G_OBJECT (toast), "moat-package", g_strdup (package), g_free);
  g_signal_connect_object (toast, "button-clicked", G_CALLBACK (on_undo_disable_cb), self, 0);
  adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), toast);
}

/* "Could not …: reason", without the D-Bus error name. */
static void
show_error_toast (MoatDevicesPage *self,
                  const char      *what,
                  GError          *error)
{
  g_autofree char *text = NULL;

  g_dbus_error_strip_remote_error (error);
  g_warning ("%s: %s", what, error->message);
  /* Translators: what failed, then why: "Could not check the phone: device offline" */
  text = g_strdup_printf (_("%s: %s"), what, error->message);
  show_toast (self, text);
}

/* A time of day for today, a date and time otherwise. */
static char *
format_clock (gint64 time)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (time / G_USEC_PER_SEC);
  g_autoptr(GDateTime) local = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  if (utc == NULL)
    return g_strdup ("");
  local = g_date_time_to_local (utc);
  if (g_date_time_get_year (local) == g_date_time_get_year (now) &&
      g_date_time_get_day_of_year (local) == g_date_time_get_day_of_year (now))
    /* Translators: a time of day today, see strftime(3) */
    return g_date_time_format (local, _("%H:%M"));
  /* Translators: a day and a time of day, see strftime(3) */
  return g_date_time_format (local, _("%e %b %H:%M"));
}

static MoatDeviceInfo *
find_device (MoatDevicesPage *self,
             const char      *serial)
{
  if (serial == NULL || self->devices == NULL)
    return NULL;
  for (guint i = 0; i < self->devices->len; i++)
    {
      MoatDeviceInfo *info = g_ptr_array_index (self->devices, i);

      if (g_strcmp0 (info->serial, serial) == 0)
        return info;
    }
  return NULL;
}

static const char *
device_title (const MoatDeviceInfo *info)
{
  if (info->model != NULL && info->model[0] != '\0')
    return info->model;
  if (info->serial != NULL && info->serial[0] != '\0')
    return info->serial;
  return _("Unknown Phone");
}

static const char *
connection_text (const char *connection)
{
  if (g_strcmp0 (connection, "usb") == 0)
    return _("USB");
  if (g_strcmp0 (connection, "wifi") == 0)
    return _("Wi-Fi");
  return connection;
}

/* What a phone that cannot be checked waits for, when moatd did not say. */
static const char *
state_fallback_text (const char *state)
{
  if (g_strcmp0 (state, "unauthorized") == 0)
    return _("Unlock the phone and tap “Allow” when it asks whether to allow USB debugging");
  if (g_strcmp0 (state, "offline") == 0)
    return _("The phone does not answer. Unplug it and plug it in again.");
  if (g_strcmp0 (state, "no-permissions") == 0)
    return _("This computer may not open the phone’s USB connection");
  if (g_strcmp0 (state, "error") == 0)
    return _("The check failed");
  if (g_strcmp0 (state, "disconnected") == 0)
    return _("Not connected");
  if (g_strcmp0 (state, "checking") == 0)
    return _("Checking…");
  return "";
}

/* The message for a phone that needs a step, moatd's words first. */
static const char *
device_message (const MoatDeviceInfo *info)
{
  if (info->message != NULL && info->message[0] != '\0')
    return info->message;
  return state_fallback_text (info->state);
}

static gboolean
device_is_checking (MoatDevicesPage      *self,
                    const MoatDeviceInfo *info)
{
  return g_strcmp0 (info->state, "checking") == 0 ||
         g_hash_table_contains (self->checking, info->serial);
}

static void
set_risk_label (GtkLabel             *label,
                const MoatDeviceInfo *info)
{
  for (MoatRiskLevel l = MOAT_RISK_LEVEL_NONE; l <= MOAT_RISK_LEVEL_CRITICAL; l++)
    gtk_widget_remove_css_class (GTK_WIDGET (label), moat_risk_level_get_style_class (l));
  gtk_widget_set_visible (GTK_WIDGET (label), info->risk_known);
  if (!info->risk_known)
    return;
  gtk_widget_add_css_class (GTK_WIDGET (label), moat_risk_level_get_style_class (info->risk));
  gtk_label_set_text (label, moat_risk_level_get_display_name (info->risk));
}

static const char *
screen_display_name (const char *screen)
{
  if (g_strcmp0 (screen, "security") == 0)
    return _("Security settings");
  if (g_strcmp0 (screen, "developer") == 0)
    return _("Developer options");
  if (g_strcmp0 (screen, "apps") == 0)
    return _("App settings");
  if (g_strcmp0 (screen, "vpn") == 0)
    return _("VPN settings");
  if (g_strcmp0 (screen, "wifi") == 0)
    return _("Wi-Fi settings");
  return screen;
}

static char *
make_key (const char *serial,
          const char *check)
{
  return g_strconcat (serial, "\n", check, NULL);
}

/* A part of a finding in its expander: a small heading above text that can
 * be selected and copied (code in a fixed-width font), one label per line. */
static GtkWidget *
section_row (const char         *heading,
             const char * const *lines,
             gboolean            code)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
  GtkWidget *title = gtk_label_new (heading);
  g_autofree char *accessible = NULL;
  g_autofree char *joined = g_strjoinv ("\n", (GStrv) lines);

  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_label_set_wrap (GTK_LABEL (title), TRUE);
  gtk_widget_add_css_class (title, "heading");
  gtk_box_append (GTK_BOX (box), title);

  for (guint i = 0; lines[i] != NULL; i++)
    {
      GtkWidget *label = gtk_label_new (lines[i]);

      gtk_label_set_xalign (GTK_LABEL (label), 0);
      gtk_label_set_wrap (GTK_LABEL (label), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (label), code ? PANGO_WRAP_CHAR : PANGO_WRAP_WORD_CHAR);
      gtk_label_set_selectable (GTK_LABEL (label), TRUE);
      if (code)
        gtk_widget_add_css_class (label, "monospace");
      gtk_box_append (GTK_BOX (box), label);
    }

  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_widget_add_css_class (row, code ? "finding-code" : "finding-text");
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_list_box_row_set_selectable (GTK_LIST_BOX_ROW (row), FALSE);
  /* Translators: the accessible name of a part of a finding: "Why It Matters: …" */
  accessible = g_strdup_printf (_("%s: %s"), heading, joined);
  gtk_accessible_update_property (GTK_ACCESSIBLE (row),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);
  return row;
}

static GtkWidget *
section_row_text (const char *heading,
                  const char *text,
                  gboolean    code)
{
  const char *lines[] = { text, NULL };

  return section_row (heading, lines, code);
}

static GtkWidget *
severity_icon (const MoatDeviceFinding *finding)
{
  GtkWidget *icon;
  const char *name;

  if (finding->result == MOAT_DEVICE_RESULT_THREAT)
    {
      icon = gtk_image_new_from_icon_name (moat_severity_get_icon_name (finding->severity));
      gtk_widget_add_css_class (icon, moat_severity_get_style_class (finding->severity));
      name = moat_severity_get_display_name (finding->severity);
    }
  else if (finding->result == MOAT_DEVICE_RESULT_OK)
    {
      icon = gtk_image_new_from_icon_name ("object-select-symbolic");
      gtk_widget_add_css_class (icon, "success");
      name = _("Passed");
    }
  else
    {
      icon = gtk_image_new_from_icon_name ("dialog-question-symbolic");
      gtk_widget_add_css_class (icon, "dim-label");
      name = _("Could not check");
    }
  gtk_widget_set_tooltip_text (icon, name);
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, name,
                                  -1);
  return icon;
}

/* ---- actions on the phone ---- */

static void
device_action_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  g_autoptr(CallData) data = user_data;
  MoatDevicesPage *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  const char *message = NULL;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = data->self;
  if (error != NULL)
    {
      show_error_toast (self, _("Could not do that on the phone"), error);
      return;
    }
  g_variant_get (reply, "(&s)", &message);
  if (g_strcmp0 (data->action, "disable-app") == 0 && message != NULL)
    show_undo_toast (self, message, data->serial, data->target);
  else if (message != NULL && message[0] != '\0')
    show_toast (self, message);
  queue_refresh (self);
}

static void
run_device_action (MoatDevicesPage *self,
                   const char      *serial,
                   const char      *action,
                   const char      *target)
{
  CallData *data;

  if (self->client == NULL)
    return;
  data = call_data_new (self, serial);
  data->action = g_strdup (action);
  data->target = g_strdup (target);
  moat_client_call_async (self->client, "DeviceAction",
                          g_variant_new ("(sss)", serial, action, target),
                          self->cancellable, device_action_cb, data);
}

static void
on_action_dialog_response_cb (AdwMessageDialog *dialog,
                              const char       *response,
                              MoatDevicesPage  *self)
{
  CallData *data = g_object_get_data (G_OBJECT (dialog), "moat-call");

  if (g_strcmp0 (response, "act") == 0 && data != NULL)
    run_device_action (self, data->serial, data->action, data->target);
}

/* Stopping and disabling an app are confirmed first, naming the app. */
static void
confirm_device_action (MoatDevicesPage *self,
                       const char      *serial,
                       const char      *action,
                       const char      *target)
{
  MoatDeviceInfo *info = find_device (self, serial);
  GtkRoot *root = gtk_widget_get_root (GTK_WIDGET (self));
  const char *phone = info != NULL ? device_title (info) : serial;
  g_autofree char *heading = NULL;
  g_autofree char *body = NULL;
  const char *label;
  GtkWidget *dialog;
  CallData *data;

  if (g_strcmp0 (action, "force-stop") == 0)
    {
      heading = g_strdup (_("Stop the App?"));
      /* Translators: the first %s is an app's package name, such as com.example.app,
       * the second the phone's model */
      body = g_strdup_printf (_("“%s” stops running on %s now. It can start again when it is "
                                "opened, or by itself."), target, phone);
      label = _("_Stop App");
    }
  else
    {
      heading = g_strdup (_("Disable the App?"));
      /* Translators: the first %s is an app's package name, such as com.example.app,
       * the second the phone's model */
      body = g_strdup_printf (_("“%s” stops and cannot run on %s until it is enabled again in "
                                "the phone’s app settings. Its data stays on the phone."),
                              target, phone);
      label = _("_Disable App");
    }

  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, heading, body);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "act", label,
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "act",
                                              ADW_RESPONSE_DESTRUCTIVE);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  data = call_data_new (self, serial);
  data->action = g_strdup (action);
  data->target = g_strdup (target);
  g_object_set_data_full (G_OBJECT (dialog), "moat-call", data, (GDestroyNotify) call_data_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_action_dialog_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
on_action_button_clicked_cb (GtkButton       *button,
                             MoatDevicesPage *self)
{
  const char *serial = g_object_get_data (G_OBJECT (button), "moat-serial");
  const char *action = g_object_get_data (G_OBJECT (button), "moat-action");
  const char *target = g_object_get_data (G_OBJECT (button), "moat-target");

  if (g_strcmp0 (action, "open-settings") == 0)
    run_device_action (self, serial, action, target);
  else
    confirm_device_action (self, serial, action, target);
}

static GtkWidget *
action_button (MoatDevicesPage *self,
               const char      *label,
               const char      *serial,
               const char      *action,
               const char      *target)
{
  GtkWidget *button = gtk_button_new_with_label (label);

  g_object_set_data_full (G_OBJECT (button), "moat-serial", g_strdup (serial), g_free);
  g_object_set_data_full (G_OBJECT (button), "moat-action", g_strdup (action), g_free);
  g_object_set_data_full (G_OBJECT (button), "moat-target", g_strdup (target), g_free);
  g_signal_connect (button, "clicked", G_CALLBACK (on_action_button_clicked_cb), self);
  return button;
}

/* What the user can do about a finding: open the settings screen that fixes
 * it, stop or disable the apps it names. */
static GtkWidget *
actions_row (MoatDevicesPage         *self,
             const MoatDeviceInfo    *info,
             const MoatDeviceFinding *finding)
{
  GtkWidget *row = gtk_list_box_row_new ();
  GtkWidget *box = gtk_box_new (GTK_ORIENTATION_VERTICAL, 12);
  GtkWidget *title = gtk_label_new (_("Actions"));
  gboolean usable = moat_device_info_is_usable (info);

  gtk_widget_set_margin_start (box, 12);
  gtk_widget_set_margin_end (box, 12);
  gtk_widget_set_margin_top (box, 12);
  gtk_widget_set_margin_bottom (box, 12);
  gtk_label_set_xalign (GTK_LABEL (title), 0);
  gtk_widget_add_css_class (title, "heading");
  gtk_box_append (GTK_BOX (box), title);

  if (finding->screen != NULL && finding->screen[0] != '\0')
    {
      GtkWidget *button = action_button (self, _("Open on Phone"), info->serial,
                                         "open-settings", finding->screen);
      /* Translators: %s is a settings screen, such as "Security settings" */
      g_autofree char *tooltip = g_strdup_printf (_("Show %s on the phone’s screen"),
                                                  screen_display_name (finding->screen));

      gtk_widget_set_tooltip_text (button, tooltip);
      gtk_widget_set_halign (button, GTK_ALIGN_START);
      gtk_widget_add_css_class (button, "suggested-action");
      gtk_widget_set_sensitive (button, usable);
      gtk_box_append (GTK_BOX (box), button);
    }

  for (guint i = 0; finding->packages != NULL && finding->packages[i] != NULL; i++)
    {
      const char *package = finding->packages[i];
      GtkWidget *app = gtk_box_new (GTK_ORIENTATION_VERTICAL, 6);
      GtkWidget *name = gtk_label_new (package);
      GtkWidget *buttons = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
      GtkWidget *stop = action_button (self, _("Stop App"), info->serial, "force-stop", package);
      GtkWidget *disable = action_button (self, _("Disable App"), info->serial, "disable-app",
                                          package);
      g_autofree char *stop_name = NULL;
      g_autofree char *disable_name = NULL;

      gtk_label_set_xalign (GTK_LABEL (name), 0);
      gtk_label_set_wrap (GTK_LABEL (name), TRUE);
      gtk_label_set_wrap_mode (GTK_LABEL (name), PANGO_WRAP_CHAR);
      gtk_label_set_selectable (GTK_LABEL (name), TRUE);
      gtk_widget_add_css_class (name, "monospace");
      gtk_box_append (GTK_BOX (app), name);

      /* Translators: the accessible name of the Stop App button; %s is an app's package name */
      stop_name = g_strdup_printf (_("Stop App (%s)"), package);
      /* Translators: the accessible name of the Disable App button; %s is an app's package name */
      disable_name = g_strdup_printf (_("Disable App (%s)"), package);
      /* The button's own label names it first: the app must be in the name. */
      gtk_accessible_reset_relation (GTK_ACCESSIBLE (stop), GTK_ACCESSIBLE_RELATION_LABELLED_BY);
      gtk_accessible_reset_relation (GTK_ACCESSIBLE (disable),
                                     GTK_ACCESSIBLE_RELATION_LABELLED_BY);
      gtk_accessible_update_property (GTK_ACCESSIBLE (stop),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, stop_name, -1);
      gtk_accessible_update_property (GTK_ACCESSIBLE (disable),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, disable_name, -1);
      gtk_widget_add_css_class (disable, "destructive-action");
      gtk_widget_set_sensitive (stop, usable);
      gtk_widget_set_sensitive (disable, usable);
      gtk_box_append (GTK_BOX (buttons), stop);
      gtk_box_append (GTK_BOX (buttons), disable);
      gtk_box_append (GTK_BOX (app), buttons);
      gtk_box_append (GTK_BOX (box), app);
    }

  gtk_widget_add_css_class (row, "finding-actions");
  gtk_list_box_row_set_child (GTK_LIST_BOX_ROW (row), box);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_list_box_row_set_selectable (GTK_LIST_BOX_ROW (row), FALSE);
  return row;
}

/* ---- the findings of the selected phone ---- */

static void
on_finding_row_notify_expanded_cb (AdwExpanderRow  *row,
                                   GParamSpec      *pspec,
                                   MoatDevicesPage *self)
{
  const char *key = g_object_get_data (G_OBJECT (row), "moat-finding-key");

  if (adw_expander_row_get_expanded (row))
    g_hash_table_add (self->expanded, g_strdup (key));
  else
    g_hash_table_remove (self->expanded, key);
}

static GtkWidget *
create_finding_row (MoatDevicesPage         *self,
                    const MoatDeviceInfo    *info,
                    const MoatDeviceFinding *finding)
{
  GtkWidget *row = adw_expander_row_new ();
  AdwExpanderRow *expander = ADW_EXPANDER_ROW (row);
  g_autofree char *key = make_key (info->serial, finding->check);
  g_auto(GStrv) steps = moat_device_finding_dup_fix_steps (finding);
  g_autofree char *evidence = moat_device_format_evidence (finding->evidence);
  const char *title = finding->summary != NULL && finding->summary[0] != '\0' ? finding->summary
                                                                              : finding->check;
  guint n_steps = g_strv_length (steps);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), title);
  if (finding->threat != NULL && finding->threat[0] != '\0')
    adw_expander_row_set_subtitle (expander, moat_threat_get_display_name (finding->threat));
  adw_expander_row_add_prefix (expander, severity_icon (finding));
  gtk_widget_add_css_class (row, "finding-row");

  if (finding->why != NULL && finding->why[0] != '\0')
    adw_expander_row_add_row (expander, section_row_text (_("Why It Matters"), finding->why, FALSE));
  if (n_steps > 1)
    {
      g_autoptr(GStrvBuilder) builder = g_strv_builder_new ();
      g_auto(GStrv) numbered = NULL;

      for (guint i = 0; i < n_steps; i++)
        {
          /* Translators: a numbered step of a fix: "1. Open Settings" */
          g_autofree char *step = g_strdup_printf (_("%u. %s"), i + 1, steps[i]);

          g_strv_builder_add (builder, step);
        }
      numbered = g_strv_builder_end (builder);
      adw_expander_row_add_row (expander, section_row (_("How to Fix"),
                                                       (const char * const *) numbered, FALSE));
    }
  else if (n_steps == 1)
    {
      adw_expander_row_add_row (expander, section_row (_("How to Fix"),
                                                       (const char * const *) steps, FALSE));
    }
  if (g_strcmp0 (info->platform, "ios") != 0 &&
      ((finding->screen != NULL && finding->screen[0] != '\0') ||
       (finding->packages != NULL && finding->packages[0] != NULL)))
    adw_expander_row_add_row (expander, actions_row (self, info, finding));
  if (evidence[0] != '\0')
    adw_expander_row_add_row (expander, section_row_text (_("Evidence"), evidence, TRUE));
  if (finding->command != NULL && finding->command[0] != '\0')
    adw_expander_row_add_row (expander, section_row_text (_("Command on the Phone"),
                                                          finding->command, TRUE));

  adw_expander_row_set_expanded (expander, g_hash_table_contains (self->expanded, key));
  g_object_set_data_full (G_OBJECT (row), "moat-finding-key", g_steal_pointer (&key), g_free);
  g_signal_connect (row, "notify::expanded", G_CALLBACK (on_finding_row_notify_expanded_cb), self);
  return row;
}

static const char *
severity_group_title (MoatSeverity severity)
{
  switch (severity)
    {
    case MOAT_SEVERITY_CRITICAL:
      return _("Critical");
    case MOAT_SEVERITY_HIGH:
      return _("High");
    case MOAT_SEVERITY_MEDIUM:
      return _("Medium");
    case MOAT_SEVERITY_LOW:
      return _("Low");
    case MOAT_SEVERITY_INFO:
    default:
      return _("For Your Information");
    }
}

static GtkWidget *
add_group (MoatDevicesPage *self,
           const char      *title,
           const char      *description)
{
  GtkWidget *group = adw_preferences_group_new ();

  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), title);
  if (description != NULL)
    adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), description);
  gtk_box_append (self->findings_box, group);
  g_ptr_array_add (self->finding_groups, group);
  return group;
}

static void
on_passed_row_notify_expanded_cb (AdwExpanderRow  *row,
                                  GParamSpec      *pspec,
                                  MoatDevicesPage *self)
{
  self->passed_expanded = adw_expander_row_get_expanded (row);
}

static void
build_findings (MoatDevicesPage *self)
{
  MoatDeviceInfo *info = find_device (self, self->selected);
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->detail_scrolled);
  double scroll = gtk_adjustment_get_value (adjustment);
  GtkWidget *group = NULL;
  GtkWidget *passed_row = NULL;
  int current = -1;
  guint n_passed = 0;

  for (guint i = 0; i < self->finding_groups->len; i++)
    gtk_box_remove (self->findings_box, g_ptr_array_index (self->finding_groups, i));
  g_ptr_array_set_size (self->finding_groups, 0);

  if (info == NULL || g_strcmp0 (self->findings_serial, info->serial) != 0)
    return;

  if (self->findings_error != NULL)
    {
      GtkWidget *row = adw_action_row_new ();

      group = add_group (self, _("Results"), NULL);
      adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                     _("Could not get the results of the checks"));
      adw_action_row_set_subtitle (ADW_ACTION_ROW (row), self->findings_error);
      gtk_widget_add_css_class (row, "finding-error");
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
      return;
    }

  if (self->findings == NULL || self->findings->len == 0)
    {
      GtkWidget *row = adw_action_row_new ();

      group = add_group (self, _("Results"), NULL);
      adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                     device_is_checking (self, info)
                                     ? _("Checking the phone…")
                                     : _("No results yet"));
      gtk_widget_add_css_class (row, "dim-label");
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), row);
      return;
    }

  for (guint i = 0; i < self->findings->len; i++)
    {
      MoatDeviceFinding *finding = g_ptr_array_index (self->findings, i);
      int rank;

      if (finding->result == MOAT_DEVICE_RESULT_OK)
        {
          GtkWidget *row = adw_action_row_new ();

          if (passed_row == NULL)
            {
              group = add_group (self, NULL, NULL);
              passed_row = adw_expander_row_new ();
              adw_preferences_row_set_title (ADW_PREFERENCES_ROW (passed_row),
                                             _("Passed Checks"));
              adw_expander_row_add_prefix (ADW_EXPANDER_ROW (passed_row),
                                           severity_icon (finding));
              gtk_widget_add_css_class (passed_row, "passed-row");
              adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), passed_row);
            }
          adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
          adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row),
                                         finding->summary[0] != '\0' ? finding->summary
                                                                     : finding->check);
          if (finding->command[0] != '\0')
            {
              adw_action_row_set_subtitle (ADW_ACTION_ROW (row), finding->command);
              gtk_widget_add_css_class (row, "passed-check");
            }
          adw_expander_row_add_row (ADW_EXPANDER_ROW (passed_row), row);
          n_passed++;
          continue;
        }

      rank = finding->result == MOAT_DEVICE_RESULT_THREAT ? (int) finding->severity : -1;
      if (group == NULL || rank != current)
        {
          if (rank >= 0)
            group = add_group (self, severity_group_title (finding->severity), NULL);
          else
            group = add_group (self, _("Could Not Check"),
                               _("The phone did not answer these checks, or answered something "
                                 "that cannot be true"));
          current = rank;
        }
      adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                                 create_finding_row (self, info, finding));
    }

  if (passed_row != NULL)
    {
      g_autofree char *subtitle = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE,
                                                                "%u check found nothing wrong",
                                                                "%u checks found nothing wrong",
                                                                n_passed),
                                                   n_passed);

      adw_expander_row_set_subtitle (ADW_EXPANDER_ROW (passed_row), subtitle);
      adw_expander_row_set_expanded (ADW_EXPANDER_ROW (passed_row), self->passed_expanded);
      g_signal_connect (passed_row, "notify::expanded",
                        G_CALLBACK (on_passed_row_notify_expanded_cb), self);
    }
  gtk_adjustment_set_value (adjustment, scroll);
}

static void
get_posture_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(CallData) data = user_data;
  MoatDevicesPage *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) findings = NULL;
  g_autoptr(GError) error = NULL;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = data->self;
  g_clear_object (&self->posture_cancellable);
  g_clear_pointer (&self->findings, g_ptr_array_unref);
  g_clear_pointer (&self->findings_error, g_free);
  if (error != NULL)
    {
      g_dbus_error_strip_remote_error (error);
      g_debug ("Could not get the posture of %s: %s", data->serial, error->message);
      /* A phone moatd forgot has nothing to show. */
      if (!g_error_matches (error, MOAT_ERROR, MOAT_ERROR_NOT_FOUND))
        self->findings_error = g_strdup (error->message);
    }
  else
    {
      findings = g_variant_get_child_value (reply, 0);
      if (moat_device_findings_type_is_valid (findings))
        self->findings = moat_device_findings_from_variant (findings);
      else
        self->findings_error = g_strdup_printf ("GetDevicePosture answered %s",
                                                g_variant_get_type_string (findings));
    }
  build_findings (self);
}

/* Reads the selected phone's findings again when it was checked since, or
 * changed state; not on every DevicesChanged (rows would close). */
static void
load_posture (MoatDevicesPage *self)
{
  MoatDeviceInfo *info = find_device (self, self->selected);

  if (info == NULL)
    {
      g_cancellable_cancel (self->posture_cancellable);
      g_clear_object (&self->posture_cancellable);
      build_findings (self);
      return;
    }
  if (g_strcmp0 (self->findings_serial, info->serial) == 0 &&
      g_strcmp0 (self->findings_state, info->state) == 0 &&
      self->findings_checked == info->checked &&
      (self->findings != NULL || self->findings_error != NULL || self->posture_cancellable != NULL))
    return;

  if (g_strcmp0 (self->findings_serial, info->serial) != 0)
    {
      /* Another phone: nothing of the last one stays on screen. */
      g_clear_pointer (&self->findings, g_ptr_array_unref);
      g_clear_pointer (&self->findings_error, g_free);
      g_free (self->findings_serial);
      self->findings_serial = g_strdup (info->serial);
      self->passed_expanded = FALSE;
      gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->detail_scrolled), 0);
      build_findings (self);
    }
  g_free (self->findings_state);
  self->findings_state = g_strdup (info->state);
  self->findings_checked = info->checked;

  g_cancellable_cancel (self->posture_cancellable);
  g_clear_object (&self->posture_cancellable);
  self->posture_cancellable = g_cancellable_new ();
  moat_client_call_async (self->client, "GetDevicePosture", g_variant_new ("(s)", info->serial),
                          self->posture_cancellable, get_posture_cb,
                          call_data_new (self, info->serial));
}

/* ---- the selected phone ---- */

static void
update_detail (MoatDevicesPage *self)
{
  MoatDeviceInfo *info = find_device (self, self->selected);
  gboolean running = self->client != NULL && moat_client_get_engine_running (self->client);
  g_autofree char *connection = NULL;
  gboolean checking, attention, disconnected, ready;

  if (info == NULL)
    {
      gtk_stack_set_visible_child_name (self->detail_stack, "none");
      gtk_widget_action_set_enabled (GTK_WIDGET (self), "devices.check", FALSE);
      return;
    }
  gtk_stack_set_visible_child_name (self->detail_stack, "phone");

  checking = device_is_checking (self, info);
  attention = moat_device_info_needs_attention (info);
  disconnected = g_strcmp0 (info->state, "disconnected") == 0;
  ready = g_strcmp0 (info->state, "ready") == 0;

  gtk_label_set_text (self->model_label, device_title (info));
  gtk_label_set_text (self->os_label, info->os);
  gtk_widget_set_visible (GTK_WIDGET (self->os_label), info->os[0] != '\0');
  if (disconnected)
    /* Translators: %s is the phone's serial */
    connection = g_strdup_printf (_("Not connected · %s"), info->serial);
  else if (g_strcmp0 (info->connection, "wifi") == 0)
    /* Translators: %s is the phone's serial */
    connection = g_strdup_printf (_("Connected over Wi-Fi · %s"), info->serial);
  else
    /* Translators: %s is the phone's serial */
    connection = g_strdup_printf (_("Connected over USB · %s"), info->serial);
  gtk_label_set_text (self->connection_label, connection);
  gtk_widget_set_opacity (GTK_WIDGET (self->phone_icon), disconnected ? 0.5 : 1.0);

  set_risk_label (self->risk_label, info);

  gtk_widget_set_visible (self->message_box, attention || disconnected);
  gtk_label_set_text (self->message_label, device_message (info));
  if (g_strcmp0 (info->state, "error") == 0)
    gtk_widget_add_css_class (self->message_box, "error");
  else
    gtk_widget_remove_css_class (self->message_box, "error");

  gtk_widget_set_visible (GTK_WIDGET (self->check_spinner), checking);
  gtk_spinner_set_spinning (self->check_spinner, checking);
  gtk_label_set_text_with_mnemonic (self->check_label,
                                    checking ? _("Checking…") : _("Check _Again"));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "devices.check",
                                 running && !checking && !disconnected);

  if (info->checked > 0)
    {
      g_autofree char *when = format_clock (info->checked);
      /* Translators: %s is a time such as "10:02" or "3 Feb 10:02" */
      g_autofree char *text = g_strdup_printf (_("Last checked %s"), when);

      gtk_label_set_text (self->checked_label, text);
    }
  else
    {
      gtk_label_set_text (self->checked_label, checking ? "" : _("Not checked yet"));
    }
  gtk_widget_set_visible (GTK_WIDGET (self->checked_label),
                          gtk_label_get_text (self->checked_label)[0] != '\0');

  /* Routing is for Android phones only. */
  gtk_widget_set_visible (self->protect_group, g_strcmp0 (info->platform, "ios") != 0);
  gtk_widget_set_sensitive (self->protect_row,
                            running && self->routing_cancellable == NULL &&
                            (ready || info->routing));
  self->syncing = TRUE;
  gtk_switch_set_active (self->protect_switch, info->routing);
  gtk_switch_set_state (self->protect_switch, info->routing);
  self->syncing = FALSE;
}

static void
select_device (MoatDevicesPage *self,
               const char      *serial)
{
  if (g_strcmp0 (self->selected, serial) != 0)
    {
      g_free (self->selected);
      self->selected = g_strdup (serial);
    }
  update_detail (self);
  load_posture (self);
}

static void
on_device_list_row_selected_cb (GtkListBox      *list,
                                GtkListBoxRow   *row,
                                MoatDevicesPage *self)
{
  if (self->syncing || row == NULL)
    return;
  select_device (self, g_object_get_data (G_OBJECT (row), "moat-serial"));
}

static void
on_device_list_row_activated_cb (GtkListBox      *list,
                                 GtkListBoxRow   *row,
                                 MoatDevicesPage *self)
{
  select_device (self, g_object_get_data (G_OBJECT (row), "moat-serial"));
  if (adw_leaflet_get_folded (self->leaflet))
    {
      /* A page of its own starts at its top. */
      gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->detail_scrolled), 0);
      adw_leaflet_set_visible_child_name (self->leaflet, "detail");
    }
  else
    {
      adw_leaflet_set_visible_child_name (self->leaflet, "detail");
    }
}

static void
back_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  MoatDevicesPage *self = MOAT_DEVICES_PAGE (widget);

  adw_leaflet_navigate (self->leaflet, ADW_NAVIGATION_DIRECTION_BACK);
}

/* ---- the list of phones ---- */

static char *
device_subtitle (MoatDevicesPage      *self,
                 const MoatDeviceInfo *info)
{
  if (moat_device_info_needs_attention (info))
    return g_strdup (device_message (info));
  if (device_is_checking (self, info))
    return g_strdup (_("Checking…"));
  if (g_strcmp0 (info->state, "disconnected") == 0)
    return info->os[0] != '\0'
           /* Translators: a phone that is gone, then its system: "Not connected · Android 11" */
           ? g_strdup_printf (_("Not connected · %s"), info->os)
           : g_strdup (_("Not connected"));
  return g_strdup (info->os);
}

static GtkWidget *
create_device_row (MoatDevicesPage      *self,
                   const MoatDeviceInfo *info)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *icon = gtk_image_new_from_icon_name ("phone-symbolic");
  GtkWidget *suffix = gtk_box_new (GTK_ORIENTATION_VERTICAL, 4);
  GtkWidget *risk = gtk_label_new (NULL);
  GtkWidget *badges = gtk_box_new (GTK_ORIENTATION_HORIZONTAL, 6);
  GtkWidget *badge = gtk_label_new (connection_text (info->connection));
  g_autofree char *subtitle = device_subtitle (self, info);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), device_title (info));
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  gtk_image_set_pixel_size (GTK_IMAGE (icon), 32);
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Phone"),
                                  -1);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), icon);

  gtk_widget_set_valign (suffix, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (risk, "risk-pill");
  gtk_widget_add_css_class (risk, "device-risk");
  gtk_widget_set_halign (risk, GTK_ALIGN_END);
  set_risk_label (GTK_LABEL (risk), info);
  if (device_is_checking (self, info))
    {
      GtkWidget *spinner = gtk_spinner_new ();

      gtk_spinner_start (GTK_SPINNER (spinner));
      gtk_widget_set_halign (spinner, GTK_ALIGN_END);
      gtk_accessible_update_property (GTK_ACCESSIBLE (spinner),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, _("Checking…"),
                                      -1);
      gtk_box_append (GTK_BOX (suffix), spinner);
    }
  gtk_box_append (GTK_BOX (suffix), risk);
  gtk_widget_add_css_class (badge, "device-badge");
  gtk_widget_set_tooltip_text (badge, g_strcmp0 (info->connection, "wifi") == 0
                                      ? _("Connected over Wi-Fi") : _("Connected over USB"));
  gtk_widget_set_halign (badges, GTK_ALIGN_END);
  if (info->routing)
    {
      GtkWidget *shield = gtk_image_new_from_icon_name ("security-high-symbolic");
      const char *routed = _("Web traffic goes through Moat’s filter");

      gtk_widget_add_css_class (shield, "success");
      gtk_widget_set_tooltip_text (shield, routed);
      gtk_accessible_update_property (GTK_ACCESSIBLE (shield),
                                      GTK_ACCESSIBLE_PROPERTY_LABEL, routed,
                                      -1);
      gtk_box_append (GTK_BOX (badges), shield);
    }
  gtk_box_append (GTK_BOX (badges), badge);
  gtk_box_append (GTK_BOX (suffix), badges);
  adw_action_row_add_suffix (ADW_ACTION_ROW (row), suffix);

  if (moat_device_info_needs_attention (info))
    gtk_widget_add_css_class (row, "device-attention");
  if (g_strcmp0 (info->state, "disconnected") == 0)
    gtk_widget_add_css_class (row, "device-gone");
  gtk_widget_add_css_class (row, "device-row");
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  g_object_set_data_full (G_OBJECT (row), "moat-serial", g_strdup (info->serial), g_free);
  return row;
}

static void
update_attention (MoatDevicesPage *self)
{
  GtkWidget *view_stack = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_VIEW_STACK);
  AdwViewStackPage *page = NULL;
  gboolean attention = FALSE;

  for (guint i = 0; self->devices != NULL && i < self->devices->len; i++)
    {
      MoatDeviceInfo *info = g_ptr_array_index (self->devices, i);

      if (g_strcmp0 (info->state, "disconnected") == 0)
        continue;
      attention = attention || moat_device_info_needs_attention (info) ||
                  (info->risk_known && info->risk >= MOAT_RISK_LEVEL_HIGH);
    }
  if (view_stack != NULL)
    page = adw_view_stack_get_page (ADW_VIEW_STACK (view_stack), GTK_WIDGET (self));
  if (page != NULL)
    adw_view_stack_page_set_needs_attention (page, attention);
}

static void
build_list (MoatDevicesPage *self)
{
  GtkAdjustment *adjustment = gtk_scrolled_window_get_vadjustment (self->list_scrolled);
  double scroll = gtk_adjustment_get_value (adjustment);
  guint n = self->devices != NULL ? self->devices->len : 0;

  self->syncing = TRUE;
  for (guint i = 0; i < self->device_rows->len; i++)
    gtk_list_box_remove (self->device_list, g_ptr_array_index (self->device_rows, i));
  g_ptr_array_set_size (self->device_rows, 0);

  /* A phone that is no longer listed cannot stay selected; a wide window
   * shows the first phone rather than nothing. */
  if (find_device (self, self->selected) == NULL)
    {
      g_clear_pointer (&self->selected, g_free);
      if (n > 0 && !adw_leaflet_get_folded (self->leaflet))
        self->selected = g_strdup (((MoatDeviceInfo *) g_ptr_array_index (self->devices, 0))->serial);
      else if (adw_leaflet_get_folded (self->leaflet))
        adw_leaflet_set_visible_child_name (self->leaflet, "list");
    }

  for (guint i = 0; i < n; i++)
    {
      MoatDeviceInfo *info = g_ptr_array_index (self->devices, i);
      GtkWidget *row = create_device_row (self, info);

      gtk_list_box_append (self->device_list, row);
      g_ptr_array_add (self->device_rows, row);
      if (g_strcmp0 (info->serial, self->selected) == 0)
        gtk_list_box_select_row (self->device_list, GTK_LIST_BOX_ROW (row));
    }
  self->syncing = FALSE;

  gtk_stack_set_visible_child_name (self->stack, n > 0 ? "devices" : "empty");
  gtk_adjustment_set_value (adjustment, scroll);
  update_attention (self);
}

/* ---- the imported indicators ---- */

static GtkWidget *
create_bundle_row (const char         *name,
                   gint64              imported,
                   const char * const *malware,
                   guint32             count)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *when = format_clock (imported);
  g_autoptr(GString) subtitle = g_string_new (NULL);

  /* Translators: how many indicators a bundle has, and when it was imported */
  g_string_printf (subtitle, g_dngettext (GETTEXT_PACKAGE, "%u indicator, imported %s",
                                          "%u indicators, imported %s", count),
                   count, when);
  if (malware != NULL && malware[0] != NULL)
    {
      g_autofree char *names = g_strjoinv (", ", (GStrv) malware);

      g_string_append_c (subtitle, '\n');
      g_string_append (subtitle, names);
    }
  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), name);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle->str);
  gtk_widget_add_css_class (row, "indicator-bundle");
  return row;
}

static void
get_indicators_cb (GObject      *object,
                   GAsyncResult *result,
                   gpointer      user_data)
{
  MoatDevicesPage *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) bundles = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter iter;
  const char *name;
  gint64 imported;
  g_autofree const char **malware = NULL;
  guint32 count;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_DEVICES_PAGE (user_data);
  for (guint i = 0; i < self->indicator_rows->len; i++)
    adw_preferences_group_remove (ADW_PREFERENCES_GROUP (self->indicators_group),
                                  g_ptr_array_index (self->indicator_rows, i));
  g_ptr_array_set_size (self->indicator_rows, 0);
  /* A moatd without indicators: say nothing about them. */
  gtk_widget_set_visible (self->indicators_group,
                          error == NULL && g_variant_is_of_type (reply, G_VARIANT_TYPE ("(a(sxasu))")));
  if (error != NULL)
    {
      g_debug ("No indicators from moatd: %s", error->message);
      return;
    }
  if (!gtk_widget_get_visible (self->indicators_group))
    return;

  bundles = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&iter, bundles);
  while (g_variant_iter_next (&iter, "(&sx^a&su)", &name, &imported, &malware, &count))
    {
      GtkWidget *row = create_bundle_row (name, imported, malware, count);

      adw_preferences_group_add (ADW_PREFERENCES_GROUP (self->indicators_group), row);
      g_ptr_array_add (self->indicator_rows, row);
      g_clear_pointer (&malware, g_free);
    }
  gtk_widget_set_visible (self->indicators_empty_row, self->indicator_rows->len == 0);
}

/* ---- refreshing ---- */

static void
get_devices_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  MoatDevicesPage *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) devices = NULL;
  g_autoptr(GError) error = NULL;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_DEVICES_PAGE (user_data);
  if (error != NULL)
    {
      /* Said on the page, not in a toast: nobody asked. */
      g_dbus_error_strip_remote_error (error);
      g_debug ("Could not list the phones: %s", error->message);
      g_clear_pointer (&self->devices, g_ptr_array_unref);
      build_list (self);
      adw_status_page_set_title (self->empty_page, _("Cannot List Phones"));
      adw_status_page_set_description (self->empty_page, error->message);
      return;
    }

  adw_status_page_set_title (self->empty_page, _("No Phones"));
  adw_status_page_set_description (self->empty_page, _(EMPTY_DESCRIPTION));
  devices = g_variant_get_child_value (reply, 0);
  if (!g_variant_is_of_type (devices, G_VARIANT_TYPE ("a(ssssssssbx)")))
    {
      g_warning ("GetDevices answered %s", g_variant_get_type_string (devices));
      return;
    }
  g_clear_pointer (&self->devices, g_ptr_array_unref);
  self->devices = moat_device_infos_from_variant (devices);
  build_list (self);
  update_detail (self);
  load_posture (self);
}

static void
refresh (MoatDevicesPage *self)
{
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  if (!self->following)
    return;
  g_cancellable_cancel (self->refresh_cancellable);
  g_clear_object (&self->refresh_cancellable);

  if (self->client == NULL || !moat_client_get_engine_running (self->client))
    {
      update_detail (self);
      return;
    }

  self->refresh_cancellable = g_cancellable_new ();
  moat_client_call_async (self->client, "GetDevices", NULL, self->refresh_cancellable,
                          get_devices_cb, self);
  moat_client_call_async (self->client, "GetIndicators", NULL, self->refresh_cancellable,
                          get_indicators_cb, self);
}

static gboolean
refresh_timeout_cb (gpointer user_data)
{
  MoatDevicesPage *self = user_data;

  self->refresh_id = 0;
  refresh (self);

  return G_SOURCE_REMOVE;
}

static void
queue_refresh (MoatDevicesPage *self)
{
  if (self->refresh_id == 0)
    self->refresh_id = g_timeout_add (REFRESH_DELAY_MS, refresh_timeout_cb, self);
}

/* ---- Check Again ---- */

static void
check_device_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  g_autoptr(CallData) data = user_data;
  MoatDevicesPage *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  if (MOAT_IS_CLIENT (object))
    reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  else
    moat_dbus_moat1_call_check_device_finish (MOAT_DBUS_MOAT1 (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = data->self;
  g_hash_table_remove (self->checking, data->serial);
  if (error != NULL)
    show_error_toast (self, _("Could not check the phone"), error);
  update_detail (self);
  refresh (self);
}

static void
check_action (GtkWidget  *widget,
              const char *action_name,
              GVariant   *parameter)
{
  MoatDevicesPage *self = MOAT_DEVICES_PAGE (widget);
  MoatDeviceInfo *info = find_device (self, self->selected);

  if (self->client == NULL || info == NULL || device_is_checking (self, info))
    return;

  g_hash_table_add (self->checking, g_strdup (info->serial));
  update_detail (self);
  /* A slow phone takes longer than D-Bus's default 25 s: the page's own
   * proxy waits as long as moatd's check can take. */
  if (self->proxy != NULL)
    moat_dbus_moat1_call_check_device (self->proxy, info->serial, self->cancellable,
                                       check_device_cb, call_data_new (self, info->serial));
  else
    moat_client_call_async (self->client, "CheckDevice", g_variant_new ("(s)", info->serial),
                            self->cancellable, check_device_cb,
                            call_data_new (self, info->serial));
}

/* ---- Protect Web Traffic ---- */

static void
set_routing_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  g_autoptr(CallData) data = user_data;
  MoatDevicesPage *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  MoatDeviceInfo *info;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = data->self;
  g_clear_object (&self->routing_cancellable);
  info = find_device (self, data->serial);
  if (error != NULL)
    show_error_toast (self, data->enabled
                            ? _("Could not protect the phone’s web traffic")
                            : _("Could not stop protecting the phone’s web traffic"),
                      error);
  else if (info != NULL && info->routing != data->enabled)
    {
      /* Until GetDevices says so too. */
      info->routing = data->enabled;
      build_list (self);
    }
  update_detail (self);
  queue_refresh (self);
}

static void
set_routing (MoatDevicesPage *self,
             const char      *serial,
             gboolean         enabled)
{
  CallData *data = call_data_new (self, serial);

  data->enabled = enabled;
  g_cancellable_cancel (self->routing_cancellable);
  g_clear_object (&self->routing_cancellable);
  self->routing_cancellable = g_cancellable_new ();
  update_detail (self);
  moat_client_call_async (self->client, "SetDeviceRouting", g_variant_new ("(sb)", serial, enabled),
                          self->routing_cancellable, set_routing_cb, data);
}

static void
on_routing_dialog_response_cb (AdwMessageDialog *dialog,
                               const char       *response,
                               MoatDevicesPage  *self)
{
  const char *serial = g_object_get_data (G_OBJECT (dialog), "moat-serial");

  if (g_strcmp0 (response, "protect") == 0 && find_device (self, serial) != NULL)
    set_routing (self, serial, TRUE);
  else
    update_detail (self);
}

static void
on_protect_switch_notify_active_cb (GtkSwitch       *protect_switch,
                                    GParamSpec      *pspec,
                                    MoatDevicesPage *self)
{
  MoatDeviceInfo *info = find_device (self, self->selected);
  gboolean active = gtk_switch_get_active (protect_switch);
  GtkRoot *root;
  GtkWidget *dialog;
  g_autofree char *heading = NULL;

  if (self->syncing || info == NULL || self->client == NULL || self->routing_cancellable != NULL)
    return;
  if (active == info->routing)
    return;
  if (!active)
    {
      set_routing (self, info->serial, FALSE);
      return;
    }

  /* Turning it on changes two things on the phone: ask first. */
  root = gtk_widget_get_root (GTK_WIDGET (self));
  /* Translators: %s is the phone's model */
  heading = g_strdup_printf (_("Protect the Web Traffic of %s?"), device_title (info));
  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL, heading,
                                   _("Moat changes two things on the phone: its proxy setting "
                                     "will point to this computer, and a port forward over the "
                                     "adb connection will carry its web traffic to Moat’s filter "
                                     "here. Both are undone when you turn this off or unplug the "
                                     "phone. Apps that ignore the phone’s proxy setting are not "
                                     "filtered."));
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "protect", _("_Protect"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "protect",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "protect");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "moat-serial", g_strdup (info->serial), g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_routing_dialog_response_cb),
                           self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- Connect Over Wi-Fi ---- */

static void
on_dialog_device_connected_cb (MoatConnectDeviceDialog *dialog,
                               const char              *serial,
                               MoatDevicesPage         *self)
{
  /* Translators: %s is the phone's serial, such as 192.168.1.20:5555 */
  g_autofree char *text = g_strdup_printf (_("Connected to %s"), serial);

  g_free (self->selected);
  self->selected = g_strdup (serial);
  show_toast (self, text);
  refresh (self);
}

static void
connect_action (GtkWidget  *widget,
                const char *action_name,
                GVariant   *parameter)
{
  MoatDevicesPage *self = MOAT_DEVICES_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  MoatConnectDeviceDialog *dialog;

  if (self->client == NULL)
    return;

  dialog = moat_connect_device_dialog_new (self->client,
                                           GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL);
  g_signal_connect_object (dialog, "device-connected",
                           G_CALLBACK (on_dialog_device_connected_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

/* ---- Import Indicators ---- */

static char *
format_counts (GVariant *counts)
{
  g_autoptr(GString) parts = g_string_new (NULL);
  GVariantIter iter;
  const char *kind;
  guint32 n;
  guint total = 0;
  guint rest = 0;
  guint n_parts = 0;

  g_variant_iter_init (&iter, counts);
  while (g_variant_iter_next (&iter, "{&su}", &kind, &n))
    {
      g_autofree char *part = NULL;

      if (n == 0)
        continue;
      total += n;
      /* A toast has room for a few kinds; the rest are counted together. */
      if (n_parts == MAX_COUNT_PARTS)
        {
          rest += n;
          continue;
        }
      n_parts++;
      /* The kinds of src/devices/moat-ioc.h. */
      if (g_strcmp0 (kind, "app-id") == 0 || g_strcmp0 (kind, "app") == 0)
        part = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u app", "%u apps", n), n);
      else if (g_strcmp0 (kind, "app-cert") == 0 || g_strcmp0 (kind, "cert") == 0)
        part = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u signing certificate",
                                             "%u signing certificates", n), n);
      else if (g_strcmp0 (kind, "domain") == 0)
        part = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u domain", "%u domains", n), n);
      else if (g_strcmp0 (kind, "ip") == 0)
        part = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u IP address", "%u IP addresses",
                                             n), n);
      else if (g_strcmp0 (kind, "url") == 0)
        part = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u web address",
                                             "%u web addresses", n), n);
      else if (g_strcmp0 (kind, "email") == 0)
        part = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u email address",
                                             "%u email addresses", n), n);
      else if (g_strcmp0 (kind, "process") == 0)
        part = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u process name",
                                             "%u process names", n), n);
      else if (g_strcmp0 (kind, "file-name") == 0 || g_strcmp0 (kind, "file") == 0)
        part = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u file name", "%u file names",
                                             n), n);
      else if (g_strcmp0 (kind, "file-path") == 0)
        part = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u file path", "%u file paths",
                                             n), n);
      else if (g_strcmp0 (kind, "file-hash") == 0)
        part = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u file hash", "%u file hashes",
                                             n), n);
      else if (g_strcmp0 (kind, "android-property") == 0)
        part = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u Android property",
                                             "%u Android properties", n), n);
      else if (g_strcmp0 (kind, "ios-profile") == 0)
        part = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u iPhone profile",
                                             "%u iPhone profiles", n), n);
      else
        /* Translators: a count and a kind of indicator moatd named: "3 email" */
        part = g_strdup_printf (_("%u %s"), n, kind);
      if (parts->len > 0)
        /* Translators: the separator between counts: "3 apps, 12 domains" */
        g_string_append (parts, _(", "));
      g_string_append (parts, part);
    }
  if (rest > 0)
    {
      g_autofree char *others = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u other",
                                                              "%u others", rest), rest);

      g_string_append (parts, _(", "));
      g_string_append (parts, others);
    }

  if (total == 0)
    return g_strdup (_("The file has no new indicators"));
  /* Translators: %u is how many indicators were imported, %s what they are: "3 apps, 12 domains" */
  return g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "Imported %u indicator: %s",
                                       "Imported %u indicators: %s", total),
                          total, parts->str);
}

static void
import_indicators_cb (GObject      *object,
                      GAsyncResult *result,
                      gpointer      user_data)
{
  MoatDevicesPage *self;
  g_autoptr(GVariant) counts = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *text = NULL;

  if (!moat_dbus_moat1_call_import_indicators_finish (MOAT_DBUS_MOAT1 (object), &counts, NULL,
                                                      result, &error))
    {
      if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
        return;
      self = MOAT_DEVICES_PAGE (user_data);
      show_error_toast (self, _("Could not import the indicators"), error);
      return;
    }

  self = MOAT_DEVICES_PAGE (user_data);
  text = format_counts (counts);
  show_toast (self, text);
  queue_refresh (self);
}

static void
import_file_read_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  MoatDevicesPage *self;
  g_autoptr(GFileInputStream) stream = NULL;
  g_autoptr(GUnixFDList) fd_list = NULL;
  g_autoptr(GError) error = NULL;
  g_autofree char *name = g_file_get_basename (G_FILE (object));
  int index;

  stream = g_file_read_finish (G_FILE (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_DEVICES_PAGE (user_data);
  if (stream == NULL)
    {
      show_error_toast (self, _("Could not open the file"), error);
      return;
    }
  if (!G_IS_FILE_DESCRIPTOR_BASED (stream) || self->proxy == NULL)
    {
      show_toast (self, self->proxy == NULL ? _("Could not import the indicators: the engine "
                                                "is not reachable")
                                            : _("Could not import the indicators: only local "
                                                "files can be imported"));
      return;
    }

  fd_list = g_unix_fd_list_new ();
  index = g_unix_fd_list_append (fd_list,
                                 g_file_descriptor_based_get_fd (G_FILE_DESCRIPTOR_BASED (stream)),
                                 &error);
  if (index < 0)
    {
      show_error_toast (self, _("Could not open the file"), error);
      return;
    }
  /* The list holds its own copy of the descriptor; the stream closes ours. */
  moat_dbus_moat1_call_import_indicators (self->proxy, g_variant_new_handle (index),
                                          name != NULL ? name : "", fd_list, self->cancellable,
                                          import_indicators_cb, self);
}

static void
on_chooser_response_cb (GtkNativeDialog *chooser,
                        int              response,
                        MoatDevicesPage *self)
{
  if (response == GTK_RESPONSE_ACCEPT)
    {
      g_autoptr(GFile) file = gtk_file_chooser_get_file (GTK_FILE_CHOOSER (chooser));

      if (file != NULL)
        g_file_read_async (file, G_PRIORITY_DEFAULT, self->cancellable, import_file_read_cb, self);
    }
  g_clear_object (&self->chooser);
}

static void
import_indicators_action (GtkWidget  *widget,
                          const char *action_name,
                          GVariant   *parameter)
{
  MoatDevicesPage *self = MOAT_DEVICES_PAGE (widget);
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autoptr(GtkFileFilter) bundles = gtk_file_filter_new ();
  g_autoptr(GtkFileFilter) all = gtk_file_filter_new ();

  if (self->chooser != NULL)
    return;

  gtk_file_filter_set_name (bundles, _("STIX 2 bundles"));
  gtk_file_filter_add_pattern (bundles, "*.stix2");
  gtk_file_filter_add_pattern (bundles, "*.json");
  gtk_file_filter_set_name (all, _("All files"));
  gtk_file_filter_add_pattern (all, "*");

  self->chooser = gtk_file_chooser_native_new (_("Import Indicators of Compromise"),
                                               GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                               GTK_FILE_CHOOSER_ACTION_OPEN,
                                               _("_Import"), _("_Cancel"));
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), bundles);
  gtk_file_chooser_add_filter (GTK_FILE_CHOOSER (self->chooser), all);
  gtk_native_dialog_set_modal (GTK_NATIVE_DIALOG (self->chooser), TRUE);
  g_signal_connect (self->chooser, "response", G_CALLBACK (on_chooser_response_cb), self);
  gtk_native_dialog_show (GTK_NATIVE_DIALOG (self->chooser));
}

/* ---- following moatd ---- */

static void
on_leaflet_notify_folded_cb (AdwLeaflet      *leaflet,
                             GParamSpec      *pspec,
                             MoatDevicesPage *self)
{
  gboolean folded = adw_leaflet_get_folded (leaflet);

  gtk_widget_set_visible (self->back_bar, folded);
  /* Side by side, the detail never shows nothing while there is a phone. */
  if (!folded && self->selected == NULL && self->devices != NULL && self->devices->len > 0)
    {
      MoatDeviceInfo *first = g_ptr_array_index (self->devices, 0);

      select_device (self, first->serial);
      self->syncing = TRUE;
      for (guint i = 0; i < self->device_rows->len; i++)
        {
          GtkListBoxRow *row = g_ptr_array_index (self->device_rows, i);

          if (g_strcmp0 (g_object_get_data (G_OBJECT (row), "moat-serial"), first->serial) == 0)
            gtk_list_box_select_row (self->device_list, row);
        }
      self->syncing = FALSE;
    }
}

static void
on_proxy_devices_changed_cb (MoatDBusMoat1   *proxy,
                             MoatDevicesPage *self)
{
  queue_refresh (self);
}

static void
on_client_notify_engine_running_cb (MoatClient      *client,
                                    GParamSpec      *pspec,
                                    MoatDevicesPage *self)
{
  refresh (self);
}

static void
proxy_ready_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  MoatDevicesPage *self;
  g_autoptr(MoatDBusMoat1) proxy = NULL;
  g_autoptr(GError) error = NULL;

  proxy = moat_dbus_moat1_proxy_new_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_DEVICES_PAGE (user_data);
  if (proxy == NULL)
    {
      g_warning ("Cannot follow moatd's phones: %s", error->message);
      return;
    }

  self->proxy = g_steal_pointer (&proxy);
  g_dbus_proxy_set_default_timeout (G_DBUS_PROXY (self->proxy), LONG_CALL_TIMEOUT_MS);
  g_signal_connect_object (self->proxy, "devices-changed",
                           G_CALLBACK (on_proxy_devices_changed_cb), self, 0);
  /* Something may have changed before we listened. */
  queue_refresh (self);
}

static void
connection_ready_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  MoatDevicesPage *self;
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  const char *address = g_getenv ("MOAT_DBUS_ADDRESS");

  if (address != NULL && address[0] != '\0')
    connection = g_dbus_connection_new_for_address_finish (result, &error);
  else
    connection = g_bus_get_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_DEVICES_PAGE (user_data);
  if (connection == NULL)
    {
      g_warning ("Cannot follow moatd's phones: %s", error->message);
      return;
    }
  moat_dbus_moat1_proxy_new (connection,
                             G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START |
                             G_DBUS_PROXY_FLAGS_DO_NOT_LOAD_PROPERTIES,
                             MOAT_DBUS_NAME, MOAT_DBUS_PATH, self->cancellable,
                             proxy_ready_cb, self);
}

/* The first GetDevices makes moatd start the adb server: not before the
 * page is shown. */
static void
start_following (MoatDevicesPage *self)
{
  if (self->following || self->client == NULL)
    return;
  self->following = TRUE;
  refresh (self);
}

/* ---- GObject ---- */

static void
moat_devices_page_map (GtkWidget *widget)
{
  GTK_WIDGET_CLASS (moat_devices_page_parent_class)->map (widget);
  start_following (MOAT_DEVICES_PAGE (widget));
}

static void
moat_devices_page_dispose (GObject *object)
{
  MoatDevicesPage *self = MOAT_DEVICES_PAGE (object);
  GtkWidget *child;

  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->refresh_cancellable);
  g_cancellable_cancel (self->posture_cancellable);
  g_cancellable_cancel (self->routing_cancellable);
  g_clear_object (&self->refresh_cancellable);
  g_clear_object (&self->posture_cancellable);
  g_clear_object (&self->routing_cancellable);
  if (self->chooser != NULL)
    gtk_native_dialog_destroy (GTK_NATIVE_DIALOG (self->chooser));
  g_clear_object (&self->chooser);
  g_clear_object (&self->proxy);
  g_clear_object (&self->client);
  gtk_widget_dispose_template (GTK_WIDGET (self), MOAT_TYPE_DEVICES_PAGE);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (moat_devices_page_parent_class)->dispose (object);
}

static void
moat_devices_page_finalize (GObject *object)
{
  MoatDevicesPage *self = MOAT_DEVICES_PAGE (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->devices, g_ptr_array_unref);
  g_clear_pointer (&self->findings, g_ptr_array_unref);
  g_clear_pointer (&self->findings_error, g_free);
  g_clear_pointer (&self->selected, g_free);
  g_clear_pointer (&self->findings_serial, g_free);
  g_clear_pointer (&self->findings_state, g_free);
  g_clear_pointer (&self->checking, g_hash_table_unref);
  g_clear_pointer (&self->expanded, g_hash_table_unref);
  g_clear_pointer (&self->device_rows, g_ptr_array_unref);
  g_clear_pointer (&self->finding_groups, g_ptr_array_unref);
  g_clear_pointer (&self->indicator_rows, g_ptr_array_unref);

  G_OBJECT_CLASS (moat_devices_page_parent_class)->finalize (object);
}

static void
moat_devices_page_class_init (MoatDevicesPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = moat_devices_page_dispose;
  object_class->finalize = moat_devices_page_finalize;
  widget_class->map = moat_devices_page_map;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/moatproject/Moat/moat-devices-page.ui");
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, stack);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, empty_page);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, leaflet);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, list_scrolled);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, device_list);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, back_bar);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, detail_stack);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, detail_scrolled);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, phone_icon);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, model_label);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, os_label);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, connection_label);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, risk_label);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, message_box);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, message_label);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, check_button);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, check_spinner);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, check_label);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, checked_label);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, protect_group);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, protect_row);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, protect_switch);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, findings_box);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, indicators_group);
  gtk_widget_class_bind_template_child (widget_class, MoatDevicesPage, indicators_empty_row);
  gtk_widget_class_bind_template_callback (widget_class, on_device_list_row_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_device_list_row_activated_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_protect_switch_notify_active_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_leaflet_notify_folded_cb);

  gtk_widget_class_install_action (widget_class, "devices.check", NULL, check_action);
  gtk_widget_class_install_action (widget_class, "devices.connect", NULL, connect_action);
  gtk_widget_class_install_action (widget_class, "devices.import-indicators", NULL,
                                   import_indicators_action);
  gtk_widget_class_install_action (widget_class, "devices.back", NULL, back_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
moat_devices_page_init (MoatDevicesPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));
  adw_status_page_set_description (self->empty_page, _(EMPTY_DESCRIPTION));

  self->cancellable = g_cancellable_new ();
  self->checking = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->expanded = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, NULL);
  self->device_rows = g_ptr_array_new ();
  self->finding_groups = g_ptr_array_new ();
  self->indicator_rows = g_ptr_array_new ();

  gtk_widget_set_visible (self->back_bar, adw_leaflet_get_folded (self->leaflet));
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "devices.check", FALSE);
}

/**
 * moat_devices_page_set_client:
 *
 * Starts showing moatd's phones. Called once, when the client is ready.
 */
void
moat_devices_page_set_client (MoatDevicesPage *self,
                              MoatClient      *client)
{
  const char *address = g_getenv ("MOAT_DBUS_ADDRESS");

  g_return_if_fail (MOAT_IS_DEVICES_PAGE (self));
  g_return_if_fail (MOAT_IS_CLIENT (client));
  g_return_if_fail (self->client == NULL);

  self->client = g_object_ref (client);
  g_signal_connect_object (client, "notify::engine-running",
                           G_CALLBACK (on_client_notify_engine_running_cb), self, 0);

  /* The same bus as the client's (see moat_client_new_async). */
  if (address != NULL && address[0] != '\0')
    g_dbus_connection_new_for_address (address,
                                       G_DBUS_CONNECTION_FLAGS_AUTHENTICATION_CLIENT |
                                       G_DBUS_CONNECTION_FLAGS_MESSAGE_BUS_CONNECTION,
                                       NULL, self->cancellable, connection_ready_cb, self);
  else
    g_bus_get (G_BUS_TYPE_SESSION, self->cancellable, connection_ready_cb, self);

  if (gtk_widget_get_mapped (GTK_WIDGET (self)))
    start_following (self);
}
