/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-app"

#include "config.h"

#include "moat-health-page.h"

#include "moat-dbus-generated.h"
#include "moat-threat-names.h"

#include <adwaita.h>
#include <glib/gi18n.h>
#include <json-glib/json-glib.h>

/*
 * MoatHealthPage: the whole setup's health level (HealthLevel, HealthSummary),
 * then every check's latest result (GetHealth): problems first, grouped by
 * severity, then the checks that could not tell, then the healthy ones,
 * collapsed. Each opens a step-by-step fix on a page of its own (an
 * AdwLeaflet that never unfolds): why it matters, what happens if it is
 * ignored, the steps, the evidence, and Fix It (FixHealth, asked first),
 * Open on Phone (DeviceAction open-settings), Check Again (CheckHealth) and
 * Remind Me Later (SnoozeHealth, one day).
 *
 * Like the Threats page it keeps its own generated proxy for HealthChanged,
 * DevicesChanged and the two properties; calls go through the client.
 */

#define REFRESH_DELAY_MS 300
#define SNOOZE_USEC ((gint64) G_USEC_PER_SEC * 60 * 60 * 24)

typedef struct {
  char     *id;
  char     *area;
  char     *subject;
  char     *status;
  char     *severity;
  char     *title;
  char     *summary;
  char     *why;
  char     *impact;
  char     *screen;
  GStrv     steps;
  gboolean  auto_fix;
  char     *evidence;
  gint64    checked;
} HealthItem;

static void
health_item_free (HealthItem *item)
{
  g_free (item->id);
  g_free (item->area);
  g_free (item->subject);
  g_free (item->status);
  g_free (item->severity);
  g_free (item->title);
  g_free (item->summary);
  g_free (item->why);
  g_free (item->impact);
  g_free (item->screen);
  g_strfreev (item->steps);
  g_free (item->evidence);
  g_free (item);
}

G_DEFINE_AUTOPTR_CLEANUP_FUNC (HealthItem, health_item_free)

struct _MoatHealthPage {
  GtkWidget            parent_instance;

  /* owned */
  MoatClient          *client;
  MoatDBusMoat1       *proxy;                /* signals and properties only */
  GCancellable        *cancellable;          /* proxy set-up and actions; cancelled in dispose */
  GCancellable        *refresh_cancellable;  /* the refresh under way */
  guint                refresh_id;
  GPtrArray           *items;                /* HealthItem, as GetHealth sorts them */
  GHashTable          *models;               /* serial → phone model */
  GPtrArray           *groups;               /* widgets in groups_box (borrowed) */
  GPtrArray           *step_rows;            /* rows in steps_list (borrowed) */
  char                *selected_id;          /* the check on the fix page */
  char                *selected_subject;
  guint                checking;             /* CheckHealth calls under way */
  gboolean             fixing;
  gboolean             healthy_expanded;

  /* template children */
  AdwLeaflet          *leaflet;
  GtkScrolledWindow   *fix_scrolled;
  GtkLabel            *level_label;
  GtkLevelBar         *level_bar;
  GtkLabel            *summary_label;
  GtkSpinner          *check_spinner;
  GtkLabel            *check_label;
  GtkBox              *groups_box;
  GtkLabel            *fix_severity_label;
  GtkLabel            *fix_area_label;
  GtkLabel            *fix_title_label;
  GtkLabel            *fix_summary_label;
  GtkWidget           *fix_button;
  GtkWidget           *phone_button;
  GtkWidget           *fix_check_button;
  GtkWidget           *snooze_button;
  GtkWidget           *why_group;
  GtkLabel            *why_label;
  GtkWidget           *impact_group;
  GtkLabel            *impact_label;
  GtkWidget           *steps_group;
  GtkListBox          *steps_list;
  GtkWidget           *evidence_group;
  GtkLabel            *evidence_label;
  GtkLabel            *fix_checked_label;
};

G_DEFINE_FINAL_TYPE (MoatHealthPage, moat_health_page, GTK_TYPE_WIDGET)

enum {
  PROP_0,
  PROP_LEVEL,
  PROP_SUMMARY,
  N_PROPS
};

static GParamSpec *properties[N_PROPS];

static void refresh (MoatHealthPage *self);
static void queue_refresh (MoatHealthPage *self);

/* ---- helpers ---- */

static void
show_toast (MoatHealthPage *self,
            const char     *text)
{
  GtkWidget *overlay = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_TOAST_OVERLAY);
  AdwToast *toast;

  if (overlay == NULL)
    return;
  toast = adw_toast_new (text);
  adw_toast_set_timeout (toast, 8);
  adw_toast_overlay_add_toast (ADW_TOAST_OVERLAY (overlay), toast);
}

static gboolean
is_running (MoatHealthPage *self)
{
  return self->client != NULL && moat_client_get_engine_running (self->client);
}

/* "moat", "computer" or a phone: what the item is about, in words. */
static const char *
area_display_name (MoatHealthPage   *self,
                   const HealthItem *item)
{
  if (g_strcmp0 (item->area, "moat") == 0)
    return _("Moat");
  if (g_strcmp0 (item->area, "phone") == 0)
    {
      const char *model = g_hash_table_lookup (self->models, item->subject);

      if (model != NULL && model[0] != '\0')
        return model;
      if (item->subject[0] != '\0')
        return item->subject;
      return _("Phone");
    }
  return _("This Computer");
}

static int
area_rank (const HealthItem *item)
{
  if (g_strcmp0 (item->area, "moat") == 0)
    return 0;
  if (g_strcmp0 (item->area, "computer") == 0)
    return 1;
  return 2;
}

static MoatSeverity
item_severity (const HealthItem *item)
{
  MoatSeverity severity = MOAT_SEVERITY_MEDIUM;

  if (item->severity[0] != '\0')
    moat_severity_from_string (item->severity, &severity);
  return severity;
}

static HealthItem *
find_item (MoatHealthPage *self,
           const char     *id,
           const char     *subject)
{
  for (guint i = 0; self->items != NULL && i < self->items->len; i++)
    {
      HealthItem *item = g_ptr_array_index (self->items, i);

      if (g_strcmp0 (item->id, id) == 0 && g_strcmp0 (item->subject, subject) == 0)
        return item;
    }
  return NULL;
}

static HealthItem *
selected_item (MoatHealthPage *self)
{
  if (self->selected_id == NULL)
    return NULL;
  return find_item (self, self->selected_id, self->selected_subject);
}

static const char *
level_display_name (guint level)
{
  switch (level)
    {
    case 0:
      return _("Not Protected");
    case 1:
      return _("Serious Problems");
    case 2:
      return _("Needs Attention");
    case 3:
      return _("Minor Problems");
    default:
      return _("Healthy");
    }
}

/* A time of day for today, a date and time otherwise. */
static char *
format_clock (gint64 time)
{
  g_autoptr(GDateTime) utc = g_date_time_new_from_unix_utc (time / G_USEC_PER_SEC);
  g_autoptr(GDateTime) local = NULL;
  g_autoptr(GDateTime) now = g_date_time_new_now_local ();

  if (utc == NULL || time <= 0)
    return g_strdup ("");
  local = g_date_time_to_local (utc);
  if (g_date_time_get_year (local) == g_date_time_get_year (now) &&
      g_date_time_get_day_of_year (local) == g_date_time_get_day_of_year (now))
    /* Translators: a time of day today, see strftime(3) */
    return g_date_time_format (local, _("%H:%M"));
  /* Translators: a day and a time of day, see strftime(3) */
  return g_date_time_format (local, _("%e %b %H:%M"));
}

static char *
pretty_evidence (const char *evidence)
{
  g_autoptr(JsonParser) parser = json_parser_new ();
  g_autoptr(JsonGenerator) generator = NULL;

  if (evidence == NULL || evidence[0] == '\0')
    return g_strdup ("");
  if (!json_parser_load_from_data (parser, evidence, -1, NULL))
    return g_strdup (evidence);
  generator = json_generator_new ();
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, json_parser_get_root (parser));
  return json_generator_to_data (generator, NULL);
}

/* ---- the level ---- */

/* A moatd without health checks has no HealthLevel: not level 0. */
static gboolean
level_known (MoatHealthPage *self)
{
  g_autoptr(GVariant) value = NULL;

  if (self->proxy == NULL || !is_running (self))
    return FALSE;
  value = g_dbus_proxy_get_cached_property (G_DBUS_PROXY (self->proxy), "HealthLevel");
  return value != NULL;
}

static guint
current_level (MoatHealthPage *self)
{
  if (self->proxy == NULL)
    return 0;
  return MIN (moat_dbus_moat1_get_health_level (self->proxy), 4);
}

static void
update_level (MoatHealthPage *self)
{
  gboolean known = level_known (self);
  guint level = current_level (self);
  const char *summary = self->proxy != NULL ? moat_dbus_moat1_get_health_summary (self->proxy)
                                            : NULL;
  g_autofree char *title = NULL;
  g_autofree char *value_text = NULL;

  if (!known)
    {
      gtk_label_set_text (self->level_label, _("Protection Health"));
      gtk_label_set_text (self->summary_label, _("Moat has not checked its health yet."));
      gtk_level_bar_set_value (self->level_bar, 0);
      return;
    }

  /* Translators: the health level (0 to 4) and what it means: "Level 2: Needs Attention" */
  title = g_strdup_printf (_("Level %u: %s"), level, level_display_name (level));
  gtk_label_set_text (self->level_label, title);
  gtk_level_bar_set_value (self->level_bar, level);
  /* Translators: for screen readers: "2 of 4" */
  value_text = g_strdup_printf (_("%u of 4"), level);
  gtk_accessible_update_property (GTK_ACCESSIBLE (self->level_bar),
                                  GTK_ACCESSIBLE_PROPERTY_VALUE_TEXT, value_text,
                                  -1);
  gtk_label_set_text (self->summary_label,
                      summary != NULL && summary[0] != '\0' ? summary : level_display_name (level));

  for (guint i = 0; i <= 4; i++)
    {
      g_autofree char *name = g_strdup_printf ("health-level-%u", i);

      if (i == level)
        gtk_widget_add_css_class (GTK_WIDGET (self->level_bar), name);
      else
        gtk_widget_remove_css_class (GTK_WIDGET (self->level_bar), name);
    }
}

static void
update_page_badge (MoatHealthPage *self)
{
  GtkWidget *view_stack = gtk_widget_get_ancestor (GTK_WIDGET (self), ADW_TYPE_VIEW_STACK);
  AdwViewStackPage *page = NULL;
  guint n_problems = 0;

  for (guint i = 0; self->items != NULL && i < self->items->len; i++)
    {
      HealthItem *item = g_ptr_array_index (self->items, i);

      if (g_strcmp0 (item->status, "problem") == 0)
        n_problems++;
    }
  if (view_stack != NULL)
    page = adw_view_stack_get_page (ADW_VIEW_STACK (view_stack), GTK_WIDGET (self));
  if (page != NULL)
    {
      adw_view_stack_page_set_needs_attention (page, n_problems > 0);
      adw_view_stack_page_set_badge_number (page, n_problems);
    }
}

/* A button of the fix page: its GtkFlowBoxChild would keep a gap. */
static void
set_button_visible (GtkWidget *button,
                    gboolean   visible)
{
  GtkWidget *parent = gtk_widget_get_parent (button);

  gtk_widget_set_visible (GTK_IS_FLOW_BOX_CHILD (parent) ? parent : button, visible);
}

static void
update_buttons (MoatHealthPage *self)
{
  HealthItem *item = selected_item (self);
  gboolean running = is_running (self);
  gboolean problem = item != NULL && g_strcmp0 (item->status, "problem") == 0;

  gtk_widget_action_set_enabled (GTK_WIDGET (self), "health.check-all",
                                 running && self->checking == 0);
  gtk_widget_set_visible (GTK_WIDGET (self->check_spinner), self->checking > 0);
  gtk_spinner_set_spinning (self->check_spinner, self->checking > 0);
  gtk_label_set_text_with_mnemonic (self->check_label,
                                    self->checking > 0 ? _("Checking…") : _("_Check Again"));

  set_button_visible (self->fix_button, problem && item->auto_fix);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "health.fix",
                                 running && problem && item->auto_fix && !self->fixing);
  set_button_visible (self->phone_button,
                      item != NULL && g_strcmp0 (item->area, "phone") == 0 &&
                      item->screen[0] != '\0' && item->subject[0] != '\0' &&
                      g_strcmp0 (item->status, "ok") != 0);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "health.open-on-phone", running);
  /* The one thing to do first: Fix It where Moat can, the phone's screen otherwise. */
  if (problem && item->auto_fix)
    gtk_widget_remove_css_class (self->phone_button, "suggested-action");
  else
    gtk_widget_add_css_class (self->phone_button, "suggested-action");
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "health.check-one",
                                 running && item != NULL && self->checking == 0);
  gtk_button_set_label (GTK_BUTTON (self->fix_check_button),
                        self->checking > 0 ? _("Checking…") : _("Check Again"));
  set_button_visible (self->snooze_button, problem);
  gtk_widget_action_set_enabled (GTK_WIDGET (self), "health.snooze", running && problem);
}

/* ---- the fix page ---- */

static GtkWidget *
step_row (guint       number,
          const char *text)
{
  GtkWidget *row = adw_action_row_new ();
  GtkWidget *badge;
  g_autofree char *number_text = g_strdup_printf ("%u", number);

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), text);
  badge = gtk_label_new (number_text);
  gtk_widget_set_valign (badge, GTK_ALIGN_CENTER);
  gtk_widget_add_css_class (badge, "health-step-number");
  /* Translators: for screen readers, before a step of a fix: "Step 2" */
  {
    g_autofree char *label = g_strdup_printf (_("Step %u"), number);

    gtk_accessible_update_property (GTK_ACCESSIBLE (badge),
                                    GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                    -1);
  }
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), badge);
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), FALSE);
  gtk_widget_add_css_class (row, "health-step");
  return row;
}

static void
populate_fix_page (MoatHealthPage *self)
{
  HealthItem *item = selected_item (self);
  MoatSeverity severity;
  const char *severity_text;
  g_autofree char *evidence = NULL;
  g_autofree char *when = NULL;

  update_buttons (self);
  if (item == NULL)
    return;

  severity = item_severity (item);
  for (MoatSeverity s = MOAT_SEVERITY_INFO; s <= MOAT_SEVERITY_CRITICAL; s++)
    gtk_widget_remove_css_class (GTK_WIDGET (self->fix_severity_label),
                                 moat_severity_get_style_class (s));
  gtk_widget_remove_css_class (GTK_WIDGET (self->fix_severity_label), "success");
  gtk_widget_remove_css_class (GTK_WIDGET (self->fix_severity_label), "dim-label");
  if (g_strcmp0 (item->status, "ok") == 0)
    {
      severity_text = _("Healthy");
      gtk_widget_add_css_class (GTK_WIDGET (self->fix_severity_label), "success");
    }
  else if (g_strcmp0 (item->status, "unknown") == 0)
    {
      severity_text = _("Could Not Check");
      gtk_widget_add_css_class (GTK_WIDGET (self->fix_severity_label), "dim-label");
    }
  else
    {
      severity_text = moat_severity_get_display_name (severity);
      gtk_widget_add_css_class (GTK_WIDGET (self->fix_severity_label),
                                moat_severity_get_style_class (severity));
    }
  gtk_label_set_text (self->fix_severity_label, severity_text);
  gtk_label_set_text (self->fix_area_label, area_display_name (self, item));
  gtk_label_set_text (self->fix_title_label, item->title);
  gtk_label_set_text (self->fix_summary_label, item->summary);

  gtk_label_set_text (self->why_label, item->why);
  gtk_widget_set_visible (self->why_group, item->why[0] != '\0');
  gtk_label_set_text (self->impact_label, item->impact);
  gtk_widget_set_visible (self->impact_group,
                          item->impact[0] != '\0' && g_strcmp0 (item->status, "ok") != 0);

  for (guint i = 0; i < self->step_rows->len; i++)
    gtk_list_box_remove (self->steps_list, g_ptr_array_index (self->step_rows, i));
  g_ptr_array_set_size (self->step_rows, 0);
  for (guint i = 0; item->steps != NULL && item->steps[i] != NULL; i++)
    {
      GtkWidget *row = step_row (i + 1, item->steps[i]);

      gtk_list_box_append (self->steps_list, row);
      g_ptr_array_add (self->step_rows, row);
    }
  gtk_widget_set_visible (self->steps_group,
                          self->step_rows->len > 0 && g_strcmp0 (item->status, "ok") != 0);

  evidence = pretty_evidence (item->evidence);
  gtk_label_set_text (self->evidence_label, evidence);
  gtk_widget_set_visible (self->evidence_group, evidence[0] != '\0' && g_strcmp0 (evidence, "{}") != 0);

  when = format_clock (item->checked);
  if (when[0] != '\0')
    {
      /* Translators: %s is a time such as "10:02" or "3 Feb 10:02" */
      g_autofree char *text = g_strdup_printf (_("Last checked at %s"), when);

      gtk_label_set_text (self->fix_checked_label, text);
    }
  gtk_widget_set_visible (GTK_WIDGET (self->fix_checked_label), when[0] != '\0');
}

static void
open_fix (MoatHealthPage *self,
          const char     *id,
          const char     *subject)
{
  g_free (self->selected_id);
  g_free (self->selected_subject);
  self->selected_id = g_strdup (id);
  self->selected_subject = g_strdup (subject);
  populate_fix_page (self);
  gtk_adjustment_set_value (gtk_scrolled_window_get_vadjustment (self->fix_scrolled), 0);
  adw_leaflet_set_visible_child_name (self->leaflet, "fix");
}

static void
on_item_row_activated_cb (AdwActionRow   *row,
                          MoatHealthPage *self)
{
  open_fix (self,
            g_object_get_data (G_OBJECT (row), "moat-health-id"),
            g_object_get_data (G_OBJECT (row), "moat-health-subject"));
}

static void
back_action (GtkWidget  *widget,
             const char *action_name,
             GVariant   *parameter)
{
  MoatHealthPage *self = MOAT_HEALTH_PAGE (widget);

  adw_leaflet_set_visible_child_name (self->leaflet, "list");
}

/* ---- the list ---- */

static GtkWidget *
status_icon (const HealthItem *item)
{
  GtkWidget *icon;
  const char *label;

  if (g_strcmp0 (item->status, "ok") == 0)
    {
      icon = gtk_image_new_from_icon_name ("object-select-symbolic");
      gtk_widget_add_css_class (icon, "success");
      label = _("Healthy");
    }
  else if (g_strcmp0 (item->status, "unknown") == 0)
    {
      icon = gtk_image_new_from_icon_name ("dialog-question-symbolic");
      gtk_widget_add_css_class (icon, "dim-label");
      label = _("Could Not Check");
    }
  else
    {
      MoatSeverity severity = item_severity (item);

      icon = gtk_image_new_from_icon_name (moat_severity_get_icon_name (severity));
      gtk_widget_add_css_class (icon, moat_severity_get_style_class (severity));
      label = moat_severity_get_display_name (severity);
    }
  gtk_widget_set_tooltip_text (icon, label);
  gtk_accessible_update_property (GTK_ACCESSIBLE (icon),
                                  GTK_ACCESSIBLE_PROPERTY_LABEL, label,
                                  -1);
  return icon;
}

static GtkWidget *
item_row (MoatHealthPage   *self,
          const HealthItem *item)
{
  GtkWidget *row = adw_action_row_new ();
  g_autofree char *subtitle = NULL;

  adw_preferences_row_set_use_markup (ADW_PREFERENCES_ROW (row), FALSE);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (row), item->title);
  /* Translators: where a health check looked, then what it found: "This Computer · The screen never locks" */
  subtitle = g_strdup_printf (_("%s · %s"), area_display_name (self, item), item->summary);
  adw_action_row_set_subtitle (ADW_ACTION_ROW (row), subtitle);
  adw_action_row_set_subtitle_lines (ADW_ACTION_ROW (row), 3);
  adw_action_row_add_prefix (ADW_ACTION_ROW (row), status_icon (item));
  adw_action_row_add_suffix (ADW_ACTION_ROW (row),
                             gtk_image_new_from_icon_name ("go-next-symbolic"));
  gtk_list_box_row_set_activatable (GTK_LIST_BOX_ROW (row), TRUE);
  g_object_set_data_full (G_OBJECT (row), "moat-health-id", g_strdup (item->id), g_free);
  g_object_set_data_full (G_OBJECT (row), "moat-health-subject", g_strdup (item->subject),
                          g_free);
  g_signal_connect_object (row, "activated", G_CALLBACK (on_item_row_activated_cb), self, 0);
  gtk_widget_add_css_class (row, "health-row");
  return row;
}

static int
compare_items (gconstpointer a,
               gconstpointer b)
{
  const HealthItem *x = *(HealthItem * const *) a;
  const HealthItem *y = *(HealthItem * const *) b;
  int rank = area_rank (x) - area_rank (y);

  if (rank != 0)
    return rank;
  rank = g_strcmp0 (x->subject, y->subject);
  if (rank != 0)
    return rank;
  return g_utf8_collate (x->title, y->title);
}

static GPtrArray *
select_items (MoatHealthPage *self,
              const char     *status,
              int             severity)
{
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; i < self->items->len; i++)
    {
      HealthItem *item = g_ptr_array_index (self->items, i);

      if (g_strcmp0 (item->status, status) != 0)
        continue;
      if (severity >= 0 && (int) item_severity (item) != severity)
        continue;
      g_ptr_array_add (out, item);
    }
  g_ptr_array_sort (out, compare_items);
  return out;
}

static void
add_group (MoatHealthPage *self,
           const char     *title,
           const char     *description,
           GPtrArray      *items)
{
  GtkWidget *group;

  if (items->len == 0)
    return;
  group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), title);
  if (description != NULL)
    adw_preferences_group_set_description (ADW_PREFERENCES_GROUP (group), description);
  for (guint i = 0; i < items->len; i++)
    adw_preferences_group_add (ADW_PREFERENCES_GROUP (group),
                               item_row (self, g_ptr_array_index (items, i)));
  gtk_box_append (self->groups_box, group);
  g_ptr_array_add (self->groups, group);
}

static void
on_healthy_notify_expanded_cb (AdwExpanderRow *row,
                               GParamSpec     *pspec,
                               MoatHealthPage *self)
{
  self->healthy_expanded = adw_expander_row_get_expanded (row);
}

static void
add_healthy_group (MoatHealthPage *self,
                   GPtrArray      *items)
{
  GtkWidget *group;
  GtkWidget *expander;
  g_autofree char *title = NULL;

  if (items->len == 0)
    return;
  group = adw_preferences_group_new ();
  adw_preferences_group_set_title (ADW_PREFERENCES_GROUP (group), _("Healthy"));
  expander = adw_expander_row_new ();
  title = g_strdup_printf (g_dngettext (GETTEXT_PACKAGE, "%u check passed",
                                        "%u checks passed", items->len),
                           items->len);
  adw_preferences_row_set_title (ADW_PREFERENCES_ROW (expander), title);
  {
    GtkWidget *icon = gtk_image_new_from_icon_name ("object-select-symbolic");

    gtk_widget_add_css_class (icon, "success");
    gtk_accessible_update_property (GTK_ACCESSIBLE (icon),
                                    GTK_ACCESSIBLE_PROPERTY_LABEL, _("Healthy"),
                                    -1);
    adw_expander_row_add_prefix (ADW_EXPANDER_ROW (expander), icon);
  }
  for (guint i = 0; i < items->len; i++)
    adw_expander_row_add_row (ADW_EXPANDER_ROW (expander),
                              item_row (self, g_ptr_array_index (items, i)));
  adw_expander_row_set_expanded (ADW_EXPANDER_ROW (expander), self->healthy_expanded);
  g_signal_connect_object (expander, "notify::expanded",
                           G_CALLBACK (on_healthy_notify_expanded_cb), self, 0);
  adw_preferences_group_add (ADW_PREFERENCES_GROUP (group), expander);
  gtk_box_append (self->groups_box, group);
  g_ptr_array_add (self->groups, group);
}

static void
rebuild_list (MoatHealthPage *self)
{
  static const MoatSeverity order[] = {
    MOAT_SEVERITY_CRITICAL, MOAT_SEVERITY_HIGH, MOAT_SEVERITY_MEDIUM, MOAT_SEVERITY_LOW,
    MOAT_SEVERITY_INFO,
  };
  g_autoptr(GPtrArray) unknown = NULL;
  g_autoptr(GPtrArray) healthy = NULL;

  for (guint i = 0; i < self->groups->len; i++)
    gtk_box_remove (self->groups_box, g_ptr_array_index (self->groups, i));
  g_ptr_array_set_size (self->groups, 0);
  if (self->items == NULL)
    return;

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    {
      g_autoptr(GPtrArray) items = select_items (self, "problem", order[i]);
      const char *title;

      switch (order[i])
        {
        case MOAT_SEVERITY_CRITICAL:
          title = _("Critical Problems");
          break;
        case MOAT_SEVERITY_HIGH:
          title = _("Serious Problems");
          break;
        case MOAT_SEVERITY_MEDIUM:
          title = _("Problems");
          break;
        case MOAT_SEVERITY_LOW:
          title = _("Minor Problems");
          break;
        default:
          title = _("Advice");
          break;
        }
      add_group (self, title, NULL, items);
    }
  unknown = select_items (self, "unknown", -1);
  add_group (self, _("Could Not Check"),
             _("Moat could not tell whether these are healthy; each says why"), unknown);
  healthy = select_items (self, "ok", -1);
  add_healthy_group (self, healthy);
}

/* ---- refreshing ---- */

static void get_devices_cb (GObject *object, GAsyncResult *result, gpointer user_data);

static void
get_health_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  MoatHealthPage *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GVariant) array = NULL;
  g_autoptr(GError) error = NULL;
  GVariantIter iter;
  GVariant *child;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_HEALTH_PAGE (user_data);
  if (error != NULL)
    {
      g_debug ("Could not get the health checks: %s", error->message);
      return;
    }

  g_clear_pointer (&self->items, g_ptr_array_unref);
  self->items = g_ptr_array_new_with_free_func ((GDestroyNotify) health_item_free);
  array = g_variant_get_child_value (reply, 0);
  g_variant_iter_init (&iter, array);
  while ((child = g_variant_iter_next_value (&iter)) != NULL)
    {
      HealthItem *item = g_new0 (HealthItem, 1);

      g_variant_get (child, "(ssssssssss^asbsx)", &item->id, &item->area, &item->subject,
                     &item->status, &item->severity, &item->title, &item->summary, &item->why,
                     &item->impact, &item->screen, &item->steps, &item->auto_fix,
                     &item->evidence, &item->checked);
      g_ptr_array_add (self->items, item);
      g_variant_unref (child);
    }

  rebuild_list (self);
  populate_fix_page (self);
  update_page_badge (self);

  /* The phones' names, only when there are phone items: asking moatd for its
   * phones starts the adb server, which opening Moat should not do. */
  for (guint i = 0; i < self->items->len; i++)
    {
      HealthItem *item = g_ptr_array_index (self->items, i);

      if (g_strcmp0 (item->area, "phone") == 0)
        {
          moat_client_call_async (self->client, "GetDevices", NULL, self->refresh_cancellable,
                                  get_devices_cb, self);
          break;
        }
    }
}

static void
get_devices_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  MoatHealthPage *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  g_autoptr(GVariantIter) iter = NULL;
  const char *serial, *model;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_HEALTH_PAGE (user_data);
  if (error != NULL)
    {
      g_debug ("Could not get the phones: %s", error->message);
      return;
    }

  g_hash_table_remove_all (self->models);
  g_variant_get (reply, "(a(ssssssssbx))", &iter);
  while (g_variant_iter_next (iter, "(&s&s&s&s&s&s&s&sbx)", &serial, NULL, &model, NULL, NULL,
                              NULL, NULL, NULL, NULL, NULL))
    g_hash_table_replace (self->models, g_strdup (serial), g_strdup (model));

  rebuild_list (self);
  populate_fix_page (self);
}

static void
refresh (MoatHealthPage *self)
{
  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_cancellable_cancel (self->refresh_cancellable);
  g_clear_object (&self->refresh_cancellable);

  update_level (self);
  update_buttons (self);
  if (!is_running (self))
    return;

  self->refresh_cancellable = g_cancellable_new ();
  moat_client_call_async (self->client, "GetHealth", NULL, self->refresh_cancellable,
                          get_health_cb, self);
}

static gboolean
refresh_timeout_cb (gpointer user_data)
{
  MoatHealthPage *self = user_data;

  self->refresh_id = 0;
  refresh (self);

  return G_SOURCE_REMOVE;
}

static void
queue_refresh (MoatHealthPage *self)
{
  if (self->refresh_id == 0)
    self->refresh_id = g_timeout_add (REFRESH_DELAY_MS, refresh_timeout_cb, self);
}

/* ---- actions ---- */

static void
check_health_cb (GObject      *object,
                 GAsyncResult *result,
                 gpointer      user_data)
{
  MoatHealthPage *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_HEALTH_PAGE (user_data);
  self->checking--;
  if (error != NULL)
    {
      /* Translators: %s is the reason */
      g_autofree char *text = g_strdup_printf (_("Could not check: %s"), error->message);

      show_toast (self, text);
    }
  update_buttons (self);
  queue_refresh (self);
}

static void
start_check (MoatHealthPage *self,
             const char     *id)
{
  if (!is_running (self) || self->checking > 0)
    return;
  self->checking++;
  update_buttons (self);
  moat_client_call_async (self->client, "CheckHealth", g_variant_new ("(s)", id),
                          self->cancellable, check_health_cb, self);
}

static void
check_all_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  start_check (MOAT_HEALTH_PAGE (widget), "");
}

static void
check_one_action (GtkWidget  *widget,
                  const char *action_name,
                  GVariant   *parameter)
{
  MoatHealthPage *self = MOAT_HEALTH_PAGE (widget);

  if (self->selected_id != NULL)
    start_check (self, self->selected_id);
}

static void
fix_health_cb (GObject      *object,
               GAsyncResult *result,
               gpointer      user_data)
{
  MoatHealthPage *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  const char *message;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_HEALTH_PAGE (user_data);
  self->fixing = FALSE;
  if (error != NULL)
    {
      /* Translators: %s is the reason */
      g_autofree char *text = g_strdup_printf (_("Could not fix it: %s"), error->message);

      show_toast (self, text);
    }
  else
    {
      g_variant_get (reply, "(&s)", &message);
      show_toast (self, message[0] != '\0' ? message : _("Fixed"));
    }
  update_buttons (self);
  queue_refresh (self);
}

static void
on_fix_response_cb (AdwMessageDialog *dialog,
                    const char       *response,
                    MoatHealthPage   *self)
{
  const char *id = g_object_get_data (G_OBJECT (dialog), "moat-health-id");
  const char *subject = g_object_get_data (G_OBJECT (dialog), "moat-health-subject");

  if (g_strcmp0 (response, "fix") != 0 || !is_running (self) || self->fixing)
    return;
  self->fixing = TRUE;
  update_buttons (self);
  moat_client_call_async (self->client, "FixHealth", g_variant_new ("(ss)", id, subject),
                          self->cancellable, fix_health_cb, self);
}

static void
fix_action (GtkWidget  *widget,
            const char *action_name,
            GVariant   *parameter)
{
  MoatHealthPage *self = MOAT_HEALTH_PAGE (widget);
  HealthItem *item = selected_item (self);
  GtkRoot *root = gtk_widget_get_root (widget);
  g_autoptr(GString) body = NULL;
  GtkWidget *dialog;

  if (item == NULL || !item->auto_fix)
    return;

  body = g_string_new (NULL);
  if (g_strcmp0 (item->area, "moat") == 0)
    g_string_append (body, _("Moat will change its own settings:"));
  else if (g_strcmp0 (item->area, "phone") == 0)
    /* Translators: %s is a phone's model */
    g_string_append_printf (body, _("Moat will change the settings of %s:"),
                            area_display_name (self, item));
  else
    g_string_append (body, _("Moat will change this computer’s settings:"));
  for (guint i = 0; item->steps != NULL && item->steps[i] != NULL; i++)
    g_string_append_printf (body, "\n%u. %s", i + 1, item->steps[i]);
  g_string_append (body, "\n\n");
  g_string_append (body, _("The change is recorded in Activity, and the check runs again."));

  /* Translators: the heading of the dialog before an automatic fix */
  dialog = adw_message_dialog_new (GTK_IS_WINDOW (root) ? GTK_WINDOW (root) : NULL,
                                   _("Let Moat Fix This?"), body->str);
  adw_message_dialog_add_responses (ADW_MESSAGE_DIALOG (dialog),
                                    "cancel", _("_Cancel"),
                                    "fix", _("_Fix It"),
                                    NULL);
  adw_message_dialog_set_response_appearance (ADW_MESSAGE_DIALOG (dialog), "fix",
                                              ADW_RESPONSE_SUGGESTED);
  adw_message_dialog_set_default_response (ADW_MESSAGE_DIALOG (dialog), "fix");
  adw_message_dialog_set_close_response (ADW_MESSAGE_DIALOG (dialog), "cancel");
  g_object_set_data_full (G_OBJECT (dialog), "moat-health-id", g_strdup (item->id), g_free);
  g_object_set_data_full (G_OBJECT (dialog), "moat-health-subject", g_strdup (item->subject),
                          g_free);
  g_signal_connect_object (dialog, "response", G_CALLBACK (on_fix_response_cb), self, 0);
  gtk_window_present (GTK_WINDOW (dialog));
}

static void
device_action_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  MoatHealthPage *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;
  const char *message;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_HEALTH_PAGE (user_data);
  if (error != NULL)
    {
      /* Translators: %s is the reason */
      g_autofree char *text = g_strdup_printf (_("Could not open the settings on the phone: %s"), error->message);

      show_toast (self, text);
      return;
    }
  g_variant_get (reply, "(&s)", &message);
  show_toast (self, message[0] != '\0' ? message : _("The settings are open on the phone"));
}

static void
open_on_phone_action (GtkWidget  *widget,
                      const char *action_name,
                      GVariant   *parameter)
{
  MoatHealthPage *self = MOAT_HEALTH_PAGE (widget);
  HealthItem *item = selected_item (self);

  if (item == NULL || item->screen[0] == '\0' || item->subject[0] == '\0' || !is_running (self))
    return;
  /* Opening a settings screen changes nothing: no need to ask. */
  moat_client_call_async (self->client, "DeviceAction",
                          g_variant_new ("(sss)", item->subject, "open-settings", item->screen),
                          self->cancellable, device_action_cb, self);
}

static void
snooze_health_cb (GObject      *object,
                  GAsyncResult *result,
                  gpointer      user_data)
{
  MoatHealthPage *self;
  g_autoptr(GVariant) reply = NULL;
  g_autoptr(GError) error = NULL;

  reply = moat_client_call_finish (MOAT_CLIENT (object), result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_HEALTH_PAGE (user_data);
  if (error != NULL)
    {
      /* Translators: %s is the reason */
      g_autofree char *text = g_strdup_printf (_("Could not snooze the reminders: %s"), error->message);

      show_toast (self, text);
      return;
    }
  show_toast (self, _("Moat will remind you about this again tomorrow"));
}

static void
snooze_action (GtkWidget  *widget,
               const char *action_name,
               GVariant   *parameter)
{
  MoatHealthPage *self = MOAT_HEALTH_PAGE (widget);
  HealthItem *item = selected_item (self);

  if (item == NULL || !is_running (self))
    return;
  moat_client_call_async (self->client, "SnoozeHealth",
                          g_variant_new ("(ssx)", item->id, item->subject,
                                         g_get_real_time () + SNOOZE_USEC),
                          self->cancellable, snooze_health_cb, self);
}

/* ---- following moatd ---- */

static void
on_proxy_changed_cb (MoatDBusMoat1  *proxy,
                     MoatHealthPage *self)
{
  queue_refresh (self);
}

static void
on_proxy_notify_level_cb (GObject        *proxy,
                          GParamSpec     *pspec,
                          MoatHealthPage *self)
{
  update_level (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LEVEL]);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_SUMMARY]);
}

static void
on_client_notify_engine_running_cb (MoatClient     *client,
                                    GParamSpec     *pspec,
                                    MoatHealthPage *self)
{
  refresh (self);
  g_object_notify_by_pspec (G_OBJECT (self), properties[PROP_LEVEL]);
}

static void
proxy_ready_cb (GObject      *object,
                GAsyncResult *result,
                gpointer      user_data)
{
  MoatHealthPage *self;
  g_autoptr(MoatDBusMoat1) proxy = NULL;
  g_autoptr(GError) error = NULL;

  proxy = moat_dbus_moat1_proxy_new_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_HEALTH_PAGE (user_data);
  if (proxy == NULL)
    {
      g_warning ("Cannot follow moatd's health: %s", error->message);
      return;
    }

  self->proxy = g_steal_pointer (&proxy);
  g_signal_connect_object (self->proxy, "health-changed",
                           G_CALLBACK (on_proxy_changed_cb), self, 0);
  g_signal_connect_object (self->proxy, "devices-changed",
                           G_CALLBACK (on_proxy_changed_cb), self, 0);
  g_signal_connect_object (self->proxy, "notify::health-level",
                           G_CALLBACK (on_proxy_notify_level_cb), self, 0);
  g_signal_connect_object (self->proxy, "notify::health-summary",
                           G_CALLBACK (on_proxy_notify_level_cb), self, 0);
  on_proxy_notify_level_cb (NULL, NULL, self);
  /* Something may have changed before we listened. */
  queue_refresh (self);
}

static void
connection_ready_cb (GObject      *object,
                     GAsyncResult *result,
                     gpointer      user_data)
{
  MoatHealthPage *self;
  g_autoptr(GDBusConnection) connection = NULL;
  g_autoptr(GError) error = NULL;
  const char *address = g_getenv ("MOAT_DBUS_ADDRESS");

  if (address != NULL && address[0] != '\0')
    connection = g_dbus_connection_new_for_address_finish (result, &error);
  else
    connection = g_bus_get_finish (result, &error);
  if (g_error_matches (error, G_IO_ERROR, G_IO_ERROR_CANCELLED))
    return;

  self = MOAT_HEALTH_PAGE (user_data);
  if (connection == NULL)
    {
      g_warning ("Cannot follow moatd's health: %s", error->message);
      return;
    }
  moat_dbus_moat1_proxy_new (connection,
                             G_DBUS_PROXY_FLAGS_DO_NOT_AUTO_START |
                             G_DBUS_PROXY_FLAGS_GET_INVALIDATED_PROPERTIES,
                             MOAT_DBUS_NAME, MOAT_DBUS_PATH, self->cancellable,
                             proxy_ready_cb, self);
}

/* ---- GObject ---- */

static void
moat_health_page_get_property (GObject    *object,
                               guint       prop_id,
                               GValue     *value,
                               GParamSpec *pspec)
{
  MoatHealthPage *self = MOAT_HEALTH_PAGE (object);

  switch (prop_id)
    {
    case PROP_LEVEL:
      g_value_set_int (value, moat_health_page_get_level (self));
      break;
    case PROP_SUMMARY:
      g_value_set_string (value, moat_health_page_get_summary (self));
      break;
    default:
      G_OBJECT_WARN_INVALID_PROPERTY_ID (object, prop_id, pspec);
    }
}

static void
moat_health_page_dispose (GObject *object)
{
  MoatHealthPage *self = MOAT_HEALTH_PAGE (object);
  GtkWidget *child;

  g_clear_handle_id (&self->refresh_id, g_source_remove);
  g_cancellable_cancel (self->cancellable);
  g_cancellable_cancel (self->refresh_cancellable);
  g_clear_object (&self->refresh_cancellable);
  g_clear_object (&self->proxy);
  g_clear_object (&self->client);
  gtk_widget_dispose_template (GTK_WIDGET (self), MOAT_TYPE_HEALTH_PAGE);
  while ((child = gtk_widget_get_first_child (GTK_WIDGET (self))) != NULL)
    gtk_widget_unparent (child);

  G_OBJECT_CLASS (moat_health_page_parent_class)->dispose (object);
}

static void
moat_health_page_finalize (GObject *object)
{
  MoatHealthPage *self = MOAT_HEALTH_PAGE (object);

  g_clear_object (&self->cancellable);
  g_clear_pointer (&self->items, g_ptr_array_unref);
  g_clear_pointer (&self->models, g_hash_table_unref);
  g_clear_pointer (&self->groups, g_ptr_array_unref);
  g_clear_pointer (&self->step_rows, g_ptr_array_unref);
  g_clear_pointer (&self->selected_id, g_free);
  g_clear_pointer (&self->selected_subject, g_free);

  G_OBJECT_CLASS (moat_health_page_parent_class)->finalize (object);
}

static void
moat_health_page_class_init (MoatHealthPageClass *klass)
{
  GObjectClass *object_class = G_OBJECT_CLASS (klass);
  GtkWidgetClass *widget_class = GTK_WIDGET_CLASS (klass);

  object_class->get_property = moat_health_page_get_property;
  object_class->dispose = moat_health_page_dispose;
  object_class->finalize = moat_health_page_finalize;

  /**
   * MoatHealthPage:level:
   *
   * moatd's health level, 0 to 4, or -1 while it is not known.
   */
  properties[PROP_LEVEL] =
    g_param_spec_int ("level", NULL, NULL, -1, 4, -1,
                      G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  /**
   * MoatHealthPage:summary:
   *
   * The sentence that explains the level, or %NULL while it is not known.
   */
  properties[PROP_SUMMARY] =
    g_param_spec_string ("summary", NULL, NULL, NULL,
                         G_PARAM_READABLE | G_PARAM_STATIC_STRINGS | G_PARAM_EXPLICIT_NOTIFY);
  g_object_class_install_properties (object_class, N_PROPS, properties);

  gtk_widget_class_set_template_from_resource (widget_class,
                                               "/io/github/moatproject/Moat/moat-health-page.ui");
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, leaflet);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, fix_scrolled);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, level_label);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, level_bar);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, summary_label);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, check_spinner);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, check_label);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, groups_box);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, fix_severity_label);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, fix_area_label);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, fix_title_label);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, fix_summary_label);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, fix_button);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, phone_button);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, fix_check_button);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, snooze_button);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, why_group);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, why_label);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, impact_group);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, impact_label);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, steps_group);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, steps_list);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, evidence_group);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, evidence_label);
  gtk_widget_class_bind_template_child (widget_class, MoatHealthPage, fix_checked_label);

  gtk_widget_class_install_action (widget_class, "health.check-all", NULL, check_all_action);
  gtk_widget_class_install_action (widget_class, "health.check-one", NULL, check_one_action);
  gtk_widget_class_install_action (widget_class, "health.back", NULL, back_action);
  gtk_widget_class_install_action (widget_class, "health.fix", NULL, fix_action);
  gtk_widget_class_install_action (widget_class, "health.open-on-phone", NULL,
                                   open_on_phone_action);
  gtk_widget_class_install_action (widget_class, "health.snooze", NULL, snooze_action);

  gtk_widget_class_set_layout_manager_type (widget_class, GTK_TYPE_BIN_LAYOUT);
}

static void
moat_health_page_init (MoatHealthPage *self)
{
  gtk_widget_init_template (GTK_WIDGET (self));

  self->cancellable = g_cancellable_new ();
  self->models = g_hash_table_new_full (g_str_hash, g_str_equal, g_free, g_free);
  self->groups = g_ptr_array_new ();
  self->step_rows = g_ptr_array_new ();

  /* The level bar's own colours say nothing about health: levels do. */
  gtk_level_bar_remove_offset_value (self->level_bar, GTK_LEVEL_BAR_OFFSET_LOW);
  gtk_level_bar_remove_offset_value (self->level_bar, GTK_LEVEL_BAR_OFFSET_HIGH);
  gtk_level_bar_remove_offset_value (self->level_bar, GTK_LEVEL_BAR_OFFSET_FULL);

  update_level (self);
  update_buttons (self);
}

/**
 * moat_health_page_set_client:
 *
 * Starts showing moatd's health. Called once, when the client is ready.
 */
void
moat_health_page_set_client (MoatHealthPage *self,
                             MoatClient     *client)
{
  const char *address = g_getenv ("MOAT_DBUS_ADDRESS");

  g_return_if_fail (MOAT_IS_HEALTH_PAGE (self));
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

  refresh (self);
}

/**
 * moat_health_page_get_level:
 *
 * Returns: the health level, 0 to 4, or -1 while it is not known
 */
int
moat_health_page_get_level (MoatHealthPage *self)
{
  g_return_val_if_fail (MOAT_IS_HEALTH_PAGE (self), -1);

  if (!level_known (self))
    return -1;
  return (int) current_level (self);
}

/**
 * moat_health_page_get_summary:
 *
 * Returns: (nullable): the sentence that explains the level
 */
const char *
moat_health_page_get_summary (MoatHealthPage *self)
{
  g_return_val_if_fail (MOAT_IS_HEALTH_PAGE (self), NULL);

  if (!level_known (self))
    return NULL;
  return moat_dbus_moat1_get_health_summary (self->proxy);
}
