/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-app"

#include "config.h"

#include "moat-activity-page.h"

#include "moat-debug.h"
#include "moat-event-details.h"
#include "moat-event-list.h"
#include "moat-event-row.h"

#include <adwaita.h>
#include <glib/gi18n.h>

/*
 * MoatActivityPage: every event, newest first, in a GtkListView over a
 * MoatEventList that pages from moatd. Nothing here iterates the model: the
 * list view asks for the rows it shows and the model fetches their pages.
 * Activating a row slides in its MoatEventDetails (why it was blocked, Allow
 * Once, Always Allow); Escape or the back button slides it out.
 */

#define SEARCH_DELAY_MS 250
/* GtkListView (GTK 4.8) makes a row widget for up to 200 items around what
 * it shows, all in the frame that gives it the items. Creating and measuring
 * 200 rows blocks the main loop for 50-90 ms, so a fresh list is revealed a
 * few rows per frame until that budget is reached, then all at once (the
 * view makes no more rows for it). */
#define ROWS_PER_FRAME 24
#define ROWS_STAGED 216
/* From this width on, the search entry and the filters share one row. */
#define WIDE_WIDTH 720

/* Positions of the severity drop-down, lowest severity shown. */
static const MoatSeverity severity_choices[] = {
  MOAT_SEVERITY_INFO, MOAT_SEVERITY_LOW, MOAT_SEVERITY_MEDIUM,
  MOAT_SEVERITY_HIGH, MOAT_SEVERITY_CRITICAL,
};

/* Positions of the kind drop-down, as threat patterns. */
static const char *vector_choices[] = {
  NULL, "network.*", "content.*", "app.*", "os.*", "moat.*",
};

struct _MoatActivityPage {
  GtkWidget        parent_instance;

  /* owned */
  MoatClient      *client;
  MoatEventList   *events;
  GtkSliceListModel *staged;       /* what the list view sees of events */
  guint            stage_tick_id;
  guint            search_timeout_id;

  /* template children */
  GtkStack          *page_stack;
  MoatEventDetails  *details;
  GtkBox            *filter_box;
  GtkWidget         *dropdown_box;
  GtkSearchEntry    *search_entry;
  GtkDropDown       *severity_dropdown;
  GtkDropDown       *vector_dropdown;
  GtkStack          *stack;
  GtkScrolledWindow *scrolled_window;
  GtkListView       *list_view;
  AdwStatusPage     *empty_page;
  AdwStatusPage     *error_page;
};

G_DEFINE_FINAL_TYPE (MoatActivityPage, moat_activity_page, GTK_TYPE_WIDGET)

static gboolean
filter_is_empty (MoatActivityPage *self)
{
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));

  return (text == NULL || text[0] == '\0') &&
         gtk_drop_down_get_selected (self->severity_dropdown) == 0 &&
         gtk_drop_down_get_selected (self->vector_dropdown) == 0;
}

static void
update_state (MoatActivityPage *self)
{
  const char *error;

  if (self->events == NULL)
    {
      gtk_stack_set_visible_child_name (self->stack, "loading");
      return;
    }

  error = moat_event_list_get_error (self->events);
  if (g_list_model_get_n_items (G_LIST_MODEL (self->events)) > 0)
    {
      gtk_stack_set_visible_child_name (self->stack, "list");
      moat_debug_start_scroll (self->scrolled_window);
    }
  else if (moat_event_list_get_loading (self->events))
    {
      gtk_stack_set_visible_child_name (self->stack, "loading");
    }
  else if (error != NULL && error[0] != '\0')
    {
      adw_status_page_set_description (self->error_page, error);
      gtk_stack_set_visible_child_name (self->stack, "error");
    }
  else if (filter_is_empty (self))
    {
      adw_status_page_set_title (self->empty_page, _("No Events"));
      adw_status_page_set_description (self->empty_page,
                                       _("What Moat blocks or notices will be listed here"));
      gtk_stack_set_visible_child_name (self->stack, "empty");
    }
  else
    {
      adw_status_page_set_title (self->empty_page, _("No Matching Events"));
      adw_status_page_set_description (self->empty_page, _("Try a different search or filter"));
      gtk_stack_set_visible_child_name (self->stack, "empty");
    }
}

static void
apply_filter (MoatActivityPage *self)
{
  g_autoptr(MoatEventFilter) filter = moat_event_filter_new ();
  const char *text = gtk_editable_get_text (GTK_EDITABLE (self->search_entry));
  guint severity = gtk_drop_down_get_selected (self->severity_dropdown);
  guint vector = gtk_drop_down_get_selected (self->vector_dropdown);
  g_autofree char *search = g_strstrip (g_strdup (text != NULL ? text : ""));

  g_clear_handle_id (&self->search_timeout_id, g_source_remove);

  if (self->events == NULL)
    return;

  if (search[0] != '\0')
    filter->search = g_steal_pointer (&search);
  if (severity < G_N_ELEMENTS (severity_choices))
    filter->min_severity = severity_choices[severity];
  if (vector < G_N_ELEMENTS (vector_choices) && vector_choices[vector] != NULL)
    filter->threat = g_strdup (vector_choices[vector]);

  if (moat_debug_timing_enabled ())
    g_printerr ("MOAT_TIMING filter-applied search=%s\n", filter->search ? filter->search : "");
  moat_event_list_set_filter (self->events, filter);
  update_state (self);
}

static gboolean
search_timeout_cb (gpointer user_data)
{
  MoatActivityPage *self = user_data;

  self->search_timeout_id = 0;
  apply_filter (self);

  return G_SOURCE_REMOVE;
}

static void
on_search_entry_search_changed_cb (GtkSearchEntry   *entry,
                                   MoatActivityPage *self)
{
  /* GtkSearchEntry already waits a little; this evens out fast typists. */
  g_clear_handle_id (&self->search_timeout_id, g_source_remove);
  self->search_timeout_id = g_timeout_add (SEARCH_DELAY_MS, search_timeout_cb, self);
}

static void
on_search_entry_activate_cb (GtkSearchEntry   *entry,
                             MoatActivityPage *self)
{
  apply_filter (self);
}

static void
on_search_entry_stop_search_cb (GtkSearchEntry   *entry,
                                MoatActivityPage *self)
{
  gtk_editable_set_text (GTK_EDITABLE (entry), "");
  apply_filter (self);
}

static void
on_dropdown_notify_selected_cb (GtkDropDown      *dropdown,
                                GParamSpec       *pspec,
                                MoatActivityPage *self)
{
  apply_filter (self);
}

static gboolean
stage_tick_cb (GtkWidget     *widget,
               GdkFrameClock *clock,
               gpointer       user_data)
{
  MoatActivityPage *self = MOAT_ACTIVITY_PAGE (widget);
  guint size = gtk_slice_list_model_get_size (self->staged);
  guint n = g_list_model_get_n_items (G_LIST_MODEL (self->events));

  if (size >= n || size + ROWS_PER_FRAME >= ROWS_STAGED)
    {
      gtk_slice_list_model_set_size (self->staged, G_MAXUINT);
      self->stage_tick_id = 0;
      return G_SOURCE_REMOVE;
    }
  gtk_slice_list_model_set_size (self->staged, size + ROWS_PER_FRAME);
  return G_SOURCE_CONTINUE;
}

/* An emptied list starts staged again; a staged one grows frame by frame. */
static void
on_events_items_changed_cb (GListModel       *events,
                            guint             position,
                            guint             removed,
                            guint             added,
                            MoatActivityPage *self)
{
  guint n = g_list_model_get_n_items (events);

  if (n == 0)
    {
      gtk_slice_list_model_set_size (self->staged, ROWS_PER_FRAME);
      return;
    }
  if (self->stage_tick_id == 0 && gtk_slice_list_model_get_size (self->staged) < n)
    self->stage_tick_id = gtk_widget_add_tick_callback (GTK_WIDGET (self), stage_tick_cb,
                                                        NULL, NULL);
}

static void
on_events_changed_cb (GObject          *events,
                      GParamSpec       *pspec,
                      MoatActivityPage *self)
{
  update_state (self);
}

static void
on_client_notify_engine_running_cb (MoatClient       *client,
                                    GParamSpec       *pspec,
                                    MoatActivityPage *self)
{
  if (moat_client_get_engine_running (client) && self->events != NULL)
    moat_event_list_reload (self->events);
}

static void
on_factory_setup_cb (GtkSignalListItemFactory *factory,
                     GtkListItem              *list_item,
                     gpointer                  user_data)
{
  gtk_list_item_set_child (list_item, moat_event_row_new ());
  gtk_list_item_set_activatable (list_item, TRUE);
}

static void
on_factory_bind_cb (GtkSignalListItemFactory *factory,
                    GtkListItem              *list_item,
                    gpointer                  user_data)
{
  moat_event_row_set_item (MOAT_EVENT_ROW (gtk_list_item_get_child (list_item)),
                           gtk_list_item_get_item (list_item));
}

static void
on_factory_unbind_cb (GtkSignalListItemFactory *factory,
                      GtkListItem              *list_item,
                      gpointer                  user_data)
{
  moat_event_row_set_item (MOAT_EVENT_ROW (gtk_list_item_get_child (list_item)), NULL);
}

static void
on_list_view_activate_cb (GtkListView      *list_view,
                          guint             position,
                          MoatActivityPage *self)
{
  g_autoptr(MoatEventItem) item = NULL;
  MoatEvent *event;

  if (self->events == NULL)
    return;

  item = g_list_model_get_item (G_LIST_MODEL (self->events), position);
  event = item != NULL ? moat_event_item_get_event (item) : NULL;
  /* A row whose event is still loading has nothing to show yet. */
  if (event == NULL)
    return;

  moat_activity_page_show_event (self, event);
}

static void
on_details_back_cb (MoatEventDetails *details,
                    MoatActivityPage *self)
{
  gtk_stack_set_visible_child_name (self->page_stack, "events");
  gtk_widget_grab_focus (GTK_WIDGET (self->list_view));
}

static void
moat_activity_page_dispose (GObject *object)
{
  MoatActivityPage *self = MOAT_ACTIVITY_PAGE (object);
  GtkWidget *child;

  g_clear_handle_id (&self->search_timeout_id, g_source_remove);
  if (self->list_view != NULL)
    gtk_list_view_set_model (self->list_view, NULL);
  if (self->stage_tick_id != 0)
    {
      gtk_widget_remove_tick_callback (GTK_WIDGET (self), self->stage_tick_id);
      self->stage_tick_id = 0;
    }
  if (self->events != NULL)
    g_signal_handlers_disconnect_by_data (self->events, self);
  g_clear_object (&self->staged);
  g_clear_object (&self->events);
  g_clear_object (&self->client);
  gtk_widget_dispose_template (GTK_WIDGET (self), MOAT_TYPE_ACTIVITY_PAGE);
  /* Template children without an id are ours to unparent. */
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (moat_activity_page_parent_class)->dispose (object);
}

static gboolean
moat_activity_page_grab_focus (GtkWidget *widget)
{
  MoatActivityPage *self = MOAT_ACTIVITY_PAGE (widget);

  return gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

static void
moat_activity_page_measure (GtkWidget      *widget,
                            GtkOrientation  orientation,
                            int             for_size,
                            int            *minimum,
                            int            *natural,
                            int            *minimum_baseline,
                            int            *natural_baseline)
{
  GtkWidget *child = gtk_widget_get_first_child (widget);

  if (child != NULL)
    gtk_widget_measure (child, orientation, for_size, minimum, natural,
                        minimum_baseline, natural_baseline);
}

static void
moat_activity_page_size_allocate (GtkWidget *widget,
                                  int        width,
                                  int        height,
                                  int        baseline)
{
  MoatActivityPage *self = MOAT_ACTIVITY_PAGE (widget);
  gboolean wide = width >= WIDE_WIDTH;
  GtkOrientation orientation = wide ? GTK_ORIENTATION_HORIZONTAL : GTK_ORIENTATION_VERTICAL;

  /* The filters' row depends only on the page's width, never the other way
   * round, so switching here cannot loop. (No layout manager: GTK would not
   * call this vfunc.) */
  if (gtk_orientable_get_orientation (GTK_ORIENTABLE (self->filter_box)) != orientation)
    {
      gtk_orientable_set_orientation (GTK_ORIENTABLE (self->filter_box), orientation);
      gtk_widget_set_hexpand (self->dropdown_box, !wide);
    }

  gtk_widget_allocate (gtk_widget_get_first_child (widget), width, height, baseline, NULL);
}

static void
moat_activity_page_class_init (MoatActivityPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->dispose = moat_activity_page_dispose;
  widget_class->grab_focus = moat_activity_page_grab_focus;
  widget_class->measure = moat_activity_page_measure;
  widget_class->size_allocate = moat_activity_page_size_allocate;

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/moatproject/Moat/moat-activity-page.ui");
  gtk_widget_class_bind_template_child (widget_class, MoatActivityPage, page_stack);
  gtk_widget_class_bind_template_child (widget_class, MoatActivityPage, details);
  gtk_widget_class_bind_template_child (widget_class, MoatActivityPage, filter_box);
  gtk_widget_class_bind_template_child (widget_class, MoatActivityPage, dropdown_box);
  gtk_widget_class_bind_template_child (widget_class, MoatActivityPage, search_entry);
  gtk_widget_class_bind_template_child (widget_class, MoatActivityPage, severity_dropdown);
  gtk_widget_class_bind_template_child (widget_class, MoatActivityPage, vector_dropdown);
  gtk_widget_class_bind_template_child (widget_class, MoatActivityPage, stack);
  gtk_widget_class_bind_template_child (widget_class, MoatActivityPage, scrolled_window);
  gtk_widget_class_bind_template_child (widget_class, MoatActivityPage, list_view);
  gtk_widget_class_bind_template_child (widget_class, MoatActivityPage, empty_page);
  gtk_widget_class_bind_template_child (widget_class, MoatActivityPage, error_page);
  gtk_widget_class_bind_template_callback (widget_class, on_search_entry_search_changed_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_search_entry_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_search_entry_stop_search_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_dropdown_notify_selected_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_list_view_activate_cb);
  gtk_widget_class_bind_template_callback (widget_class, on_details_back_cb);
}

static void
moat_activity_page_init (MoatActivityPage *self)
{
  g_autoptr(GtkListItemFactory) factory = gtk_signal_list_item_factory_new ();

  g_type_ensure (MOAT_TYPE_EVENT_ROW);
  g_type_ensure (MOAT_TYPE_EVENT_DETAILS);
  gtk_widget_init_template (GTK_WIDGET (self));

  g_signal_connect (factory, "setup", G_CALLBACK (on_factory_setup_cb), NULL);
  g_signal_connect (factory, "bind", G_CALLBACK (on_factory_bind_cb), NULL);
  g_signal_connect (factory, "unbind", G_CALLBACK (on_factory_unbind_cb), NULL);
  gtk_list_view_set_factory (self->list_view, factory);

  update_state (self);
}

/**
 * moat_activity_page_set_client:
 *
 * Creates the event list over @client. Called once, when the client is ready.
 */
void
moat_activity_page_set_client (MoatActivityPage *self,
                               MoatClient       *client)
{
  g_autoptr(GtkNoSelection) selection = NULL;

  g_return_if_fail (MOAT_IS_ACTIVITY_PAGE (self));
  g_return_if_fail (MOAT_IS_CLIENT (client));
  g_return_if_fail (self->client == NULL);

  self->client = g_object_ref (client);
  g_signal_connect_object (client, "notify::engine-running",
                           G_CALLBACK (on_client_notify_engine_running_cb), self, 0);
  moat_event_details_set_client (self->details, client);

  self->events = moat_event_list_new (client);
  g_signal_connect (self->events, "notify::n-items", G_CALLBACK (on_events_changed_cb), self);
  g_signal_connect (self->events, "notify::loading", G_CALLBACK (on_events_changed_cb), self);
  g_signal_connect (self->events, "notify::error", G_CALLBACK (on_events_changed_cb), self);

  self->staged = gtk_slice_list_model_new (g_object_ref (G_LIST_MODEL (self->events)), 0,
                                           ROWS_PER_FRAME);
  /* After the slice's own handler, so that it has forwarded the change. */
  g_signal_connect_after (self->events, "items-changed",
                          G_CALLBACK (on_events_items_changed_cb), self);
  selection = gtk_no_selection_new (g_object_ref (G_LIST_MODEL (self->staged)));
  gtk_list_view_set_model (self->list_view, GTK_SELECTION_MODEL (selection));

  /* The list loads itself unfiltered; only a filter typed before it existed needs applying. */
  if (!filter_is_empty (self))
    apply_filter (self);
  else
    update_state (self);
}

void
moat_activity_page_focus_search (MoatActivityPage *self)
{
  g_return_if_fail (MOAT_IS_ACTIVITY_PAGE (self));

  gtk_widget_grab_focus (GTK_WIDGET (self->search_entry));
}

/**
 * moat_activity_page_show_event:
 *
 * Slides in the details of @event; Back returns to the list.
 */
void
moat_activity_page_show_event (MoatActivityPage *self,
                               MoatEvent        *event)
{
  g_return_if_fail (MOAT_IS_ACTIVITY_PAGE (self));
  g_return_if_fail (event != NULL);

  moat_event_details_set_event (self->details, event);
  gtk_stack_set_visible_child_name (self->page_stack, "details");
  gtk_widget_grab_focus (GTK_WIDGET (self->details));
}
