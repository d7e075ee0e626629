/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-app"

#include "config.h"

#include "moat-event-row.h"

#include "moat-debug.h"
#include "moat-threat-names.h"

#include <glib/gi18n.h>

/*
 * MoatEventRow: one event of the Activity list. Bound to a MoatEventItem whose
 * event may not be loaded yet: then it shows a placeholder and fills itself in
 * on notify::event. Rows are recycled by GtkListView, so set_item() must undo
 * everything the previous item did.
 */

struct _MoatEventRow {
  GtkWidget      parent_instance;

  /* owned */
  MoatEventItem *item;
  gulong         notify_id;

  /* template children */
  GtkImage      *severity_icon;
  GtkLabel      *title_label;
  GtkLabel      *subject_label;
  GtkLabel      *time_label;
  GtkLabel      *action_label;
};

G_DEFINE_FINAL_TYPE (MoatEventRow, moat_event_row, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_ITEM,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static const char *severity_classes[] = {
  "severity-info", "severity-low", "severity-medium", "severity-high", "severity-critical",
};

static void
clear_severity_classes (MoatEventRow *self)
{
  for (guint i = 0; i < G_N_ELEMENTS (severity_classes); i++)
    gtk_widget_remove_css_class (GTK_WIDGET (self->severity_icon), severity_classes[i]);
}

static void
show_placeholder (MoatEventRow *self)
{
  /* Rows are re-bound many times a second while the list is dragged: leave
   * the labels alone (no text layout) and just hide them until the event is
   * loaded. */
  gtk_widget_add_css_class (GTK_WIDGET (self), "placeholder");
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, _("Loading…"),
                                  -1);
}

static void
show_event (MoatEventRow    *self,
            const MoatEvent *event)
{
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();
  g_autofree char *time_text = moat_format_event_time (event->time, now);
  g_autofree char *accessible = NULL;
  const char *title = moat_threat_get_display_name (event->threat);
  const char *action = moat_action_get_display_name (event->action);

  clear_severity_classes (self);
  gtk_widget_remove_css_class (GTK_WIDGET (self), "placeholder");
  gtk_image_set_from_icon_name (self->severity_icon,
                                moat_severity_get_icon_name (event->severity));
  gtk_widget_add_css_class (GTK_WIDGET (self->severity_icon),
                            moat_severity_get_style_class (event->severity));
  gtk_label_set_text (self->title_label, title);
  gtk_label_set_text (self->subject_label, event->subject);
  gtk_label_set_text (self->time_label, time_text);
  gtk_label_set_text (self->action_label, action);

  /* Translators: how a screen reader reads one event: threat, subject, severity,
   * action, time */
  accessible = g_strdup_printf (_("%s, %s, %s severity, %s, %s"),
                                title, event->subject,
                                moat_severity_get_display_name (event->severity),
                                action, time_text);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, accessible,
                                  -1);
  moat_debug_first_row_shown ();
}

static void
update (MoatEventRow *self)
{
  MoatEvent *event = self->item != NULL ? moat_event_item_get_event (self->item) : NULL;

  if (event != NULL)
    show_event (self, event);
  else
    show_placeholder (self);
}

static void
on_item_notify_event_cb (MoatEventItem *item,
                         GParamSpec    *pspec,
                         MoatEventRow  *self)
{
  update (self);
}

static void
moat_event_row_dispose (GObject *object)
{
  MoatEventRow *self = MOAT_EVENT_ROW (object);
  GtkWidget *child;

  moat_event_row_set_item (self, NULL);
  gtk_widget_dispose_template (GTK_WIDGET (self), MOAT_TYPE_EVENT_ROW);
  /* Template children without an id are ours to unparent. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (moat_event_row_parent_class)->dispose (object);
}

static void
moat_event_row_get_property (GObject    *object,
                             guint       prop_id,
                             GValue     *value,
                             GParamSpec *pspec)
{
  MoatEventRow *self = MOAT_EVENT_ROW (object);

  switch (prop_id)
    {
    case PROP_ITEM:
      g_value_set_object (value, self->item);
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
moat_event_row_set_property (GObject      *object,
                             guint         prop_id,
                             const GValue *value,
                             GParamSpec   *pspec)
{
  MoatEventRow *self = MOAT_EVENT_ROW (object);

  switch (prop_id)
    {
    case PROP_ITEM:
      moat_event_row_set_item (self, g_value_get_object (value));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
moat_event_row_class_init (MoatEventRowClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = moat_event_row_dispose;
  object_class->get_property = moat_event_row_get_property;
  object_class->set_property = moat_event_row_set_property;

  properties[PROP_ITEM] =
    g_param_spec_object ("item", NULL, NULL,
                         MOAT_TYPE_EVENT_ITEM,
                         G_PARAM_READWRITE | G_PARAM_EXPLICIT_NOTIFY | G_PARAM_STATIC_STRINGS);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/moatproject/Moat/moat-event-row.ui");
  gtk_widget_class_bind_template_child (widget_class, MoatEventRow, severity_icon);
  gtk_widget_class_bind_template_child (widget_class, MoatEventRow, title_label);
  gtk_widget_class_bind_template_child (widget_class, MoatEventRow, subject_label);
  gtk_widget_class_bind_template_child (widget_class, MoatEventRow, time_label);
  gtk_widget_class_bind_template_child (widget_class, MoatEventRow, action_label);

  gtk_widget_class_set_css_name (widget_class, "eventrow");
  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_GRID_LAYOUT);
  gtk_widget_class_set_accessible_role (widget_class, GTK_ACCESSIBLE_ROLE_GROUP);
}

static void
moat_event_row_init (MoatEventRow *self)
{
  GtkGridLayout *layout;

  gtk_widget_init_template (GTK_WIDGET (self));
  layout = GTK_GRID_LAYOUT (gtk_widget_get_layout_manager (GTK_WIDGET (self)));
  gtk_grid_layout_set_column_spacing (layout, 12);
  gtk_grid_layout_set_row_spacing (layout, 2);
  show_placeholder (self);
}

GtkWidget *
moat_event_row_new (void)
{
  return g_object_new (MOAT_TYPE_EVENT_ROW, NULL);
}

MoatEventItem *
moat_event_row_get_item (MoatEventRow *self)
{
  g_return_val_if_fail (MOAT_IS_EVENT_ROW (self), NULL);

  return self->item;
}

void
moat_event_row_set_item (MoatEventRow  *self,
                         MoatEventItem *item)
{
  g_return_if_fail (MOAT_IS_EVENT_ROW (self));
  g_return_if_fail (item == NULL || MOAT_IS_EVENT_ITEM (item));

  if (self->item == item)
    return;

  if (self->item != NULL)
    {
      g_clear_signal_handler (&self->notify_id, self->item);
      g_clear_object (&self->item);
    }

  if (item != NULL)
    {
      self->item = g_object_ref (item);
      self->notify_id = g_signal_connect (item, "notify::event",
                                          G_CALLBACK (on_item_notify_event_cb), self);
    }

  /* Widgets of a disposed row are gone already. */
  if (self->title_label != NULL)
    update (self);

  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_ITEM]);
}
