/* SPDX-License-Identifier: GPL-3.0-or-later
 * Copyright 2026 The Moat developers
 */
#define G_LOG_DOMAIN "moat-report"

#include "config.h"

#include "moat-report-private.h"

#include <glib/gi18n.h>
#include <string.h>

/* The model, turned into the blocks both HTML and PDF render. */

static void
block_free (gpointer data)
{
  MoatReportBlock *block = data;

  g_free (block->text);
  g_free (block->badge);
  g_clear_pointer (&block->facts, g_ptr_array_unref);
  g_clear_pointer (&block->steps, g_ptr_array_unref);
  g_free (block->evidence);
  g_free (block->command);
  g_clear_pointer (&block->rows, g_ptr_array_unref);
  g_clear_pointer (&block->tones, g_ptr_array_unref);
  g_free (block);
}

void
moat_report_document_free (MoatReportDocument *doc)
{
  if (doc == NULL)
    return;
  g_ptr_array_unref (doc->blocks);
  g_free (doc->title);
  g_free (doc->footer_left);
  g_free (doc);
}

static MoatReportBlock *
add_block (MoatReportDocument *doc, MoatReportBlockKind kind, const char *text)
{
  MoatReportBlock *block = g_new0 (MoatReportBlock, 1);

  block->kind = kind;
  block->text = g_strdup (text);
  block->tone = "none";
  g_ptr_array_add (doc->blocks, block);
  return block;
}

/* Adds a label and its value, unless the value is empty. */
static void
add_fact (MoatReportBlock *block, const char *label, const char *value)
{
  if (value == NULL || value[0] == '\0')
    return;
  if (block->facts == NULL)
    block->facts = g_ptr_array_new_with_free_func (g_free);
  g_ptr_array_add (block->facts, g_strdup (label));
  g_ptr_array_add (block->facts, g_strdup (value));
}

static const char *
get_string (JsonObject *object, const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  if (node == NULL || !JSON_NODE_HOLDS_VALUE (node) ||
      json_node_get_value_type (node) != G_TYPE_STRING)
    return "";
  return json_node_get_string (node);
}

static JsonObject *
get_object (JsonObject *object, const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_OBJECT (node) ? json_node_get_object (node) : NULL;
}

static JsonArray *
get_array (JsonObject *object, const char *member)
{
  JsonNode *node = object != NULL ? json_object_get_member (object, member) : NULL;

  return node != NULL && JSON_NODE_HOLDS_ARRAY (node) ? json_node_get_array (node) : NULL;
}

/* "2026-11-27 10:00 UTC", or the text as it is when it is not a time. */
static char *
time_text (const char *iso)
{
  g_autoptr(GDateTime) time = NULL;

  if (iso == NULL || iso[0] == '\0')
    return g_strdup ("");
  time = g_date_time_new_from_iso8601 (iso, NULL);
  if (time == NULL)
    return g_strdup (iso);
  return g_date_time_format (time, "%Y-%m-%d %H:%M UTC");
}

static int
severity_rank (const char *severity)
{
  static const char *order[] = { "critical", "high", "medium", "low", "info" };

  for (guint i = 0; i < G_N_ELEMENTS (order); i++)
    if (g_strcmp0 (severity, order[i]) == 0)
      return (int) i;
  return G_N_ELEMENTS (order);
}

/* Severity and risk words, and the tone (colour) that goes with them. */
static const char *
level_word (const char *level)
{
  if (g_strcmp0 (level, "critical") == 0)
    return _("Critical");
  if (g_strcmp0 (level, "high") == 0)
    return _("High");
  if (g_strcmp0 (level, "medium") == 0)
    return _("Medium");
  if (g_strcmp0 (level, "low") == 0)
    return _("Low");
  if (g_strcmp0 (level, "info") == 0)
    return _("Information");
  if (g_strcmp0 (level, "none") == 0)
    return _("None");
  if (level == NULL || level[0] == '\0' || g_strcmp0 (level, "unknown") == 0)
    return _("Unknown");
  return level;
}

static const char *
level_tone (const char *level)
{
  static const char *tones[] = { "critical", "high", "medium", "low", "info", "none" };

  for (guint i = 0; i < G_N_ELEMENTS (tones); i++)
    if (g_strcmp0 (level, tones[i]) == 0)
      return tones[i];
  return "unknown";
}

const char *
moat_report_tone_color (const char *tone)
{
  if (g_strcmp0 (tone, "critical") == 0)
    return "#a51d2d";
  if (g_strcmp0 (tone, "high") == 0)
    return "#c64600";
  if (g_strcmp0 (tone, "medium") == 0)
    return "#946300";
  if (g_strcmp0 (tone, "low") == 0)
    return "#1a5fb4";
  if (g_strcmp0 (tone, "ok") == 0 || g_strcmp0 (tone, "none") == 0)
    return "#26734d";
  return "#5e5c64";
}

static const char *
protection_word (const char *state)
{
  if (g_strcmp0 (state, "protected") == 0)
    return _("Protected");
  if (g_strcmp0 (state, "unprotected") == 0)
    return _("Not protected");
  if (g_strcmp0 (state, "degraded") == 0)
    return _("Protected, but something needs attention");
  if (g_strcmp0 (state, "paused") == 0)
    return _("Paused");
  return level_word (state);
}

static const char *
fix_status_word (const char *status)
{
  if (g_strcmp0 (status, "ok") == 0)
    return _("Nothing to fix");
  if (g_strcmp0 (status, "open") == 0)
    return _("Not fixed yet: follow the steps");
  if (g_strcmp0 (status, "automatic") == 0)
    return _("Not fixed yet: Moat can fix it (Fix It on the Health page)");
  if (g_strcmp0 (status, "unknown") == 0)
    return _("Unknown: the check could not tell");
  return status;
}

/* Machine text (evidence, commands) shows bidi controls as JSON escapes: an
 * override from a phone would otherwise reorder what follows it on the line. */
static char *
escape_bidi (char *text)
{
  g_autoptr(GString) out = NULL;

  if (text == NULL)
    return NULL;
  out = g_string_sized_new (strlen (text));
  for (const char *p = text; *p != '\0'; p = g_utf8_next_char (p))
    {
      gunichar c = g_utf8_get_char (p);

      if (c == 0x061c || c == 0x200e || c == 0x200f || (c >= 0x202a && c <= 0x202e) ||
          (c >= 0x2066 && c <= 0x2069))
        g_string_append_printf (out, "\\u%04x", c);
      else
        g_string_append_unichar (out, c);
    }
  g_free (text);
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static char *
evidence_text (JsonObject *parent, const char *member)
{
  JsonNode *node = json_object_get_member (parent, member);
  g_autoptr(JsonGenerator) generator = NULL;

  if (node == NULL || !JSON_NODE_HOLDS_OBJECT (node) ||
      json_object_get_size (json_node_get_object (node)) == 0)
    return NULL;
  generator = json_generator_new ();
  json_generator_set_pretty (generator, TRUE);
  json_generator_set_indent (generator, 2);
  json_generator_set_root (generator, node);
  return escape_bidi (json_generator_to_data (generator, NULL));
}

static char *
join_strings (JsonArray *array, const char *separator)
{
  g_autoptr(GString) out = g_string_new (NULL);

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      if (i > 0)
        g_string_append (out, separator);
      g_string_append (out, json_array_get_string_element (array, i));
    }
  return g_string_free (g_steal_pointer (&out), FALSE);
}

static void
set_steps (MoatReportBlock *block, JsonArray *array)
{
  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    {
      const char *step = json_array_get_string_element (array, i);

      if (step == NULL || step[0] == '\0')
        continue;
      if (block->steps == NULL)
        block->steps = g_ptr_array_new_with_free_func (g_free);
      g_ptr_array_add (block->steps, g_strdup (step));
    }
}

/* Problems first, worst first; then what could not be told; then what is fine. */
static int
status_rank (const char *status)
{
  if (g_strcmp0 (status, "problem") == 0 || g_strcmp0 (status, "threat") == 0)
    return 0;
  if (g_strcmp0 (status, "ok") == 0)
    return 2;
  return 1;
}

static const char *sort_status_member;

static int
compare_items (gconstpointer a, gconstpointer b)
{
  JsonObject *x = *(JsonObject **) a;
  JsonObject *y = *(JsonObject **) b;
  int d = status_rank (get_string (x, sort_status_member)) -
          status_rank (get_string (y, sort_status_member));

  if (d != 0)
    return d;
  return severity_rank (get_string (x, "severity")) - severity_rank (get_string (y, "severity"));
}

static GPtrArray *
sorted_objects (JsonArray *array, const char *status_member)
{
  GPtrArray *out = g_ptr_array_new ();

  for (guint i = 0; array != NULL && i < json_array_get_length (array); i++)
    g_ptr_array_add (out, json_array_get_object_element (array, i));
  /* g_ptr_array_sort is a stable merge sort: equal items keep moatd's order. */
  sort_status_member = status_member;
  g_ptr_array_sort (out, compare_items);
  return out;
}

static void
set_badge (MoatReportBlock *block, const char *status, const char *severity)
{
  if (status_rank (status) == 0)
    {
      block->badge = g_strdup (level_word (severity));
      block->tone = level_tone (severity);
    }
  else if (g_strcmp0 (status, "ok") == 0)
    {
      block->badge = g_strdup (_("OK"));
      block->tone = "ok";
    }
  else
    {
      block->badge = g_strdup (_("Unknown"));
      block->tone = "unknown";
    }
}

static void
add_health_items (MoatReportDocument *doc, JsonObject *section)
{
  g_autoptr(GPtrArray) items = NULL;

  if (!json_object_get_boolean_member (section, "available"))
    {
      const char *message = get_string (section, "message");
      g_autofree char *text = NULL;

      text = message[0] != '\0'
             ? g_strdup_printf (_("Health checks were not available: %s"), message)
             : g_strdup (_("Health checks were not available."));
      add_block (doc, MOAT_REPORT_BLOCK_NOTE, text);
      return;
    }
  items = sorted_objects (get_array (section, "items"), "status");
  if (items->len == 0)
    add_block (doc, MOAT_REPORT_BLOCK_NOTE, _("No checks reported anything here."));
  for (guint i = 0; i < items->len; i++)
    {
      JsonObject *item = g_ptr_array_index (items, i);
      const char *title = get_string (item, "title");
      MoatReportBlock *block = add_block (doc, MOAT_REPORT_BLOCK_ITEM,
                                          title[0] != '\0' ? title : get_string (item, "id"));
      g_autofree char *checked = time_text (get_string (item, "checked"));

      set_badge (block, get_string (item, "status"), get_string (item, "severity"));
      add_fact (block, _("Found"), get_string (item, "summary"));
      add_fact (block, _("Why it matters"), get_string (item, "why"));
      add_fact (block, _("If ignored"), get_string (item, "impact"));
      add_fact (block, _("About"), get_string (item, "subject"));
      add_fact (block, _("Fix status"), fix_status_word (get_string (item, "fix_status")));
      add_fact (block, _("Check"), get_string (item, "id"));
      add_fact (block, _("Checked"), checked);
      set_steps (block, get_array (item, "steps"));
      block->evidence = evidence_text (item, "evidence");
    }
}

static void
add_computer (MoatReportDocument *doc, JsonObject *root)
{
  JsonObject *computer = get_object (root, "computer");
  MoatReportBlock *facts;

  add_block (doc, MOAT_REPORT_BLOCK_HEADING, _("This computer"))->section = "computer";
  facts = add_block (doc, MOAT_REPORT_BLOCK_FACTS, NULL);
  add_fact (facts, _("Host name"), get_string (root, "host"));
  add_fact (facts, _("Protection"), protection_word (get_string (computer, "protection_state")));
  add_fact (facts, _("In detail"), get_string (computer, "protection_summary"));
  add_fact (facts, _("Risk level"), level_word (get_string (computer, "risk_level")));
  add_health_items (doc, computer);
}

static void
add_moat_health (MoatReportDocument *doc, JsonObject *root)
{
  JsonObject *health = get_object (root, "health");
  JsonNode *level = json_object_get_member (health, "level");
  MoatReportBlock *facts;

  add_block (doc, MOAT_REPORT_BLOCK_HEADING, _("Moat’s own protections"))->section = "health";
  facts = add_block (doc, MOAT_REPORT_BLOCK_FACTS, NULL);
  if (level != NULL && JSON_NODE_HOLDS_VALUE (level))
    {
      g_autofree char *text = g_strdup_printf (_("%d of 4"),
                                               (int) json_node_get_int (level));

      add_fact (facts, _("Health level"), text);
    }
  add_fact (facts, _("In detail"), get_string (health, "summary"));
  add_health_items (doc, health);
}

static void
add_phone (MoatReportDocument *doc, JsonObject *phone)
{
  const char *model = get_string (phone, "model");
  const char *serial = get_string (phone, "serial");
  const char *risk = get_string (phone, "risk");
  g_autofree char *title = model[0] != '\0' ? g_strdup_printf ("%s (%s)", model, serial)
                                            : g_strdup (serial);
  g_autofree char *checked = time_text (get_string (phone, "checked"));
  g_autofree char *badge = g_strdup_printf (_("Risk: %s"), level_word (risk));
  g_autoptr(GPtrArray) findings = sorted_objects (get_array (phone, "findings"), "result");
  MoatReportBlock *block = add_block (doc, MOAT_REPORT_BLOCK_SUBHEADING, title);

  block->badge = g_steal_pointer (&badge);
  block->tone = level_tone (risk);
  block = add_block (doc, MOAT_REPORT_BLOCK_FACTS, NULL);
  add_fact (block, _("Serial"), serial);
  add_fact (block, _("Platform"), get_string (phone, "platform"));
  add_fact (block, _("System"), get_string (phone, "os"));
  add_fact (block, _("Connection"), get_string (phone, "connection"));
  add_fact (block, _("State"), get_string (phone, "state"));
  add_fact (block, _("Risk level"), level_word (risk));
  add_fact (block, _("Web traffic filtered"),
            json_object_get_boolean_member (phone, "routing") ? _("Yes") : _("No"));
  add_fact (block, _("Last checked"), checked[0] != '\0' ? checked : _("Never"));
  add_fact (block, _("Message"), get_string (phone, "message"));

  if (findings->len == 0)
    add_block (doc, MOAT_REPORT_BLOCK_NOTE, _("No check results for this phone."));
  for (guint i = 0; i < findings->len; i++)
    {
      JsonObject *finding = g_ptr_array_index (findings, i);
      const char *summary = get_string (finding, "summary");
      g_autofree char *packages = join_strings (get_array (finding, "packages"), ", ");

      block = add_block (doc, MOAT_REPORT_BLOCK_ITEM,
                         summary[0] != '\0' ? summary : get_string (finding, "check"));
      set_badge (block, get_string (finding, "result"), get_string (finding, "severity"));
      add_fact (block, _("Why it matters"), get_string (finding, "why"));
      add_fact (block, _("Fix status"), fix_status_word (get_string (finding, "fix_status")));
      add_fact (block, _("Check"), get_string (finding, "check"));
      add_fact (block, _("Threat"), get_string (finding, "threat"));
      add_fact (block, _("Apps"), packages);
      add_fact (block, _("Settings screen"), get_string (finding, "screen"));
      set_steps (block, get_array (finding, "fix"));
      block->evidence = evidence_text (finding, "evidence");
      if (get_string (finding, "command")[0] != '\0')
        block->command = escape_bidi (g_strdup (get_string (finding, "command")));
    }
}

static void
add_phones (MoatReportDocument *doc, JsonObject *root)
{
  JsonObject *phones = get_object (root, "phones");
  JsonArray *devices = get_array (phones, "devices");

  add_block (doc, MOAT_REPORT_BLOCK_HEADING, _("Phones"))->section = "phones";
  if (!json_object_get_boolean_member (phones, "available"))
    {
      g_autofree char *text = g_strdup_printf (_("Phones were not available: %s"),
                                               get_string (phones, "message"));

      add_block (doc, MOAT_REPORT_BLOCK_NOTE, text);
      return;
    }
  if (devices == NULL || json_array_get_length (devices) == 0)
    add_block (doc, MOAT_REPORT_BLOCK_NOTE, _("Moat knew no phones."));
  for (guint i = 0; devices != NULL && i < json_array_get_length (devices); i++)
    add_phone (doc, json_array_get_object_element (devices, i));
}

static MoatReportBlock *
add_table (MoatReportDocument *doc, const char * const *header)
{
  MoatReportBlock *block = add_block (doc, MOAT_REPORT_BLOCK_TABLE, NULL);

  block->rows = g_ptr_array_new_with_free_func ((GDestroyNotify) g_strfreev);
  block->tones = g_ptr_array_new ();
  g_ptr_array_add (block->rows, g_strdupv ((char **) header));
  g_ptr_array_add (block->tones, (gpointer) "none");
  return block;
}

static void
add_events_table (MoatReportDocument *doc, JsonArray *events, gboolean by_severity,
                  gboolean truncated, const char *empty)
{
  const char *header_threats[] = { _("When"), _("Severity"), _("Threat"), _("About"),
                                   _("What happened"), NULL };
  const char *header_actions[] = { _("When"), _("Action"), _("Threat"), _("About"),
                                   _("From"), NULL };
  MoatReportBlock *table;

  if (events == NULL || json_array_get_length (events) == 0)
    {
      add_block (doc, MOAT_REPORT_BLOCK_NOTE, empty);
      return;
    }
  table = add_table (doc, by_severity ? header_threats : header_actions);
  for (guint i = 0; i < json_array_get_length (events); i++)
    {
      JsonObject *event = json_array_get_object_element (events, i);
      const char *severity = get_string (event, "severity");
      GStrv row = g_new0 (char *, 6);

      row[0] = time_text (get_string (event, "time"));
      if (by_severity)
        {
          row[1] = g_strdup (level_word (severity));
          row[2] = g_strdup (get_string (event, "threat"));
          row[3] = g_strdup (get_string (event, "subject"));
          row[4] = g_strdup (get_string (event, "action"));
        }
      else
        {
          row[1] = g_strdup (get_string (event, "action"));
          row[2] = g_strdup (get_string (event, "threat"));
          row[3] = g_strdup (get_string (event, "subject"));
          row[4] = g_strdup (get_string (event, "source"));
        }
      g_ptr_array_add (table->rows, row);
      g_ptr_array_add (table->tones, (gpointer) (by_severity ? level_tone (severity) : "none"));
    }
  if (truncated)
    add_block (doc, MOAT_REPORT_BLOCK_NOTE,
               _("There were more events in the window; this report holds the latest."));
}

static void
add_threats (MoatReportDocument *doc, JsonObject *root)
{
  JsonObject *threats = get_object (root, "threats");
  JsonArray *active = get_array (threats, "active");

  add_block (doc, MOAT_REPORT_BLOCK_HEADING, _("Threats"))->section = "threats";
  add_block (doc, MOAT_REPORT_BLOCK_SUBHEADING, _("Active now"));
  if (active == NULL || json_array_get_length (active) == 0)
    add_block (doc, MOAT_REPORT_BLOCK_NOTE, _("No threat was active when the report was made."));
  for (guint i = 0; active != NULL && i < json_array_get_length (active); i++)
    {
      JsonObject *threat = json_array_get_object_element (active, i);
      const char *severity = get_string (threat, "severity");
      MoatReportBlock *block = add_block (doc, MOAT_REPORT_BLOCK_ITEM,
                                          get_string (threat, "threat"));
      g_autofree char *since = time_text (get_string (threat, "since"));

      block->badge = g_strdup (level_word (severity));
      block->tone = level_tone (severity);
      add_fact (block, _("About"), get_string (threat, "subject"));
      add_fact (block, _("Since"), since);
      block->evidence = evidence_text (threat, "evidence");
    }
  add_block (doc, MOAT_REPORT_BLOCK_SUBHEADING, _("Detected and cleared in the window"));
  add_events_table (doc, get_array (threats, "events"), TRUE,
                    json_object_get_boolean_member (threats, "truncated"),
                    _("No threat was detected in the window."));
}

static void
add_actions (MoatReportDocument *doc, JsonObject *root)
{
  JsonObject *actions = get_object (root, "actions");

  add_block (doc, MOAT_REPORT_BLOCK_HEADING, _("Actions taken"))->section = "actions";
  add_events_table (doc, get_array (actions, "events"), FALSE,
                    json_object_get_boolean_member (actions, "truncated"),
                    _("Moat took no action in the window."));
}

static guint
count_problems (JsonObject *section, const char *member, const char *status_member,
                const char *problem)
{
  JsonArray *items = get_array (section, member);
  guint n = 0;

  for (guint i = 0; items != NULL && i < json_array_get_length (items); i++)
    n += g_strcmp0 (get_string (json_array_get_object_element (items, i), status_member),
                    problem) == 0;
  return n;
}

static const char *
section_word (const char *section)
{
  if (g_strcmp0 (section, "computer") == 0)
    return _("this computer");
  if (g_strcmp0 (section, "phones") == 0)
    return _("phones");
  if (g_strcmp0 (section, "threats") == 0)
    return _("threats");
  if (g_strcmp0 (section, "actions") == 0)
    return _("actions taken");
  if (g_strcmp0 (section, "health") == 0)
    return _("Moat’s own protections");
  return section;
}

static gboolean
has_section (JsonObject *root, const char *section)
{
  return json_object_has_member (root, section);
}

/**
 * moat_report_document_new:
 * @model: a model moat_report_validate_model() accepted
 */
MoatReportDocument *
moat_report_document_new (JsonNode *model)
{
  g_autoptr(MoatReportDocument) doc = g_new0 (MoatReportDocument, 1);
  JsonObject *root = json_node_get_object (model);
  JsonObject *summary = get_object (root, "summary");
  JsonObject *window = get_object (root, "window");
  JsonNode *level = json_object_get_member (summary, "health_level");
  /* The order they are shown in: the computer, then Moat on it, then the rest. */
  static const char *sections[] = { "computer", "health", "phones", "threats", "actions", NULL };
  g_autofree char *generated = time_text (get_string (root, "generated"));
  g_autofree char *since = time_text (get_string (window, "since"));
  g_autofree char *until = time_text (get_string (window, "until"));
  g_autofree char *window_text = NULL;
  g_autoptr(GString) included = g_string_new (NULL);
  g_autoptr(GString) left_out = g_string_new (NULL);
  g_autofree char *footer = NULL;
  MoatReportBlock *block;

  doc->blocks = g_ptr_array_new_with_free_func (block_free);
  doc->title = g_strdup (_("Moat helpdesk report"));
  doc->footer_left = g_strdup_printf ("%s · %s · %s", doc->title, get_string (root, "host"),
                                      generated);

  /* Header */
  block = add_block (doc, MOAT_REPORT_BLOCK_TITLE, doc->title);
  window_text = since[0] != '\0' ? g_strdup_printf (_("%s to %s"), since, until)
                                 : g_strdup_printf (_("Everything until %s"), until);
  add_fact (block, _("Computer"), get_string (root, "host"));
  add_fact (block, _("Made"), generated);
  add_fact (block, _("Moat version"), get_string (root, "moat_version"));
  add_fact (block, _("Policy"), get_string (root, "policy"));
  add_fact (block, _("Events"), window_text);

  /* Summary */
  add_block (doc, MOAT_REPORT_BLOCK_HEADING, _("Summary"))->section = "summary";
  block = add_block (doc, MOAT_REPORT_BLOCK_FACTS, NULL);
  add_fact (block, _("Protection"), protection_word (get_string (summary, "protection_state")));
  add_fact (block, _("In detail"), get_string (summary, "protection_summary"));
  add_fact (block, _("Risk level"), level_word (get_string (summary, "risk_level")));
  if (level != NULL && JSON_NODE_HOLDS_VALUE (level))
    {
      g_autofree char *text = g_strdup_printf (_("%d of 4"), (int) json_node_get_int (level));

      add_fact (block, _("Health level"), text);
      add_fact (block, _("Health"), get_string (summary, "health_summary"));
    }
  else
    {
      add_fact (block, _("Health level"), _("Not available"));
    }
  {
    JsonObject *computer = get_object (root, "computer");
    JsonObject *health = get_object (root, "health");
    JsonArray *devices = get_array (get_object (root, "phones"), "devices");
    /* Counted only where the report can tell: health checks that ran. */
    gboolean here_known = (computer != NULL || health != NULL) &&
                          json_object_get_boolean_member ((computer != NULL ? computer : health),
                                                          "available");
    guint here = count_problems (computer, "items", "status", "problem") +
                 count_problems (health, "items", "status", "problem");
    guint phones = 0;
    g_autofree char *text = NULL;

    for (guint i = 0; devices != NULL && i < json_array_get_length (devices); i++)
      phones += count_problems (json_array_get_object_element (devices, i), "findings", "result",
                                "threat");
    if (here_known && devices != NULL)
      /* Translators: the report's summary: problems still to fix on this
       * computer (with Moat's own) and on the phones */
      text = g_strdup_printf (_("%u on this computer, %u on phones"), here, phones);
    else if (here_known)
      text = g_strdup_printf (_("%u on this computer"), here);
    else if (devices != NULL)
      text = g_strdup_printf (_("%u on phones"), phones);
    add_fact (block, _("Problems to fix"), text);
  }
  if (has_section (root, "phones"))
    {
      JsonArray *devices = get_array (get_object (root, "phones"), "devices");
      g_autoptr(GString) risks = g_string_new (NULL);

      for (guint i = 0; devices != NULL && i < json_array_get_length (devices); i++)
        {
          JsonObject *phone = json_array_get_object_element (devices, i);
          const char *phone_model = get_string (phone, "model");

          if (phone_model[0] == '\0')
            phone_model = get_string (phone, "serial");
          g_string_append_printf (risks, "%s%s: %s", i > 0 ? "; " : "", phone_model,
                                  level_word (get_string (phone, "risk")));
        }
      add_fact (block, _("Phones"), risks->len > 0 ? risks->str : _("None"));
    }
  if (has_section (root, "threats"))
    {
      JsonArray *active = get_array (get_object (root, "threats"), "active");
      g_autofree char *count = g_strdup_printf ("%u", active != NULL
                                                      ? json_array_get_length (active) : 0);

      add_fact (block, _("Active threats"), count);
    }

  /* Sections, in a fixed order */
  for (guint i = 0; sections[i] != NULL; i++)
    {
      if (!has_section (root, sections[i]))
        {
          g_string_append_printf (left_out, "%s%s", left_out->len > 0 ? ", " : "",
                                  section_word (sections[i]));
          continue;
        }
      g_string_append_printf (included, "%s%s", included->len > 0 ? ", " : "",
                              section_word (sections[i]));
      if (g_str_equal (sections[i], "computer"))
        add_computer (doc, root);
      else if (g_str_equal (sections[i], "health"))
        add_moat_health (doc, root);
      else if (g_str_equal (sections[i], "phones"))
        add_phones (doc, root);
      else if (g_str_equal (sections[i], "threats"))
        add_threats (doc, root);
      else if (g_str_equal (sections[i], "actions"))
        add_actions (doc, root);
    }

  /* Footer */
  footer = g_strdup_printf (_("This report includes: %s. Left out by choice: %s. "
                              "Made by Moat %s on %s, %s. It holds only what Moat shows on "
                              "screen; what phones said is as they said it."),
                            included->len > 0 ? included->str : _("nothing"),
                            left_out->len > 0 ? left_out->str : _("nothing"),
                            get_string (root, "moat_version"), get_string (root, "host"),
                            generated);
  add_block (doc, MOAT_REPORT_BLOCK_FOOTER, footer);
  return g_steal_pointer (&doc);
}
